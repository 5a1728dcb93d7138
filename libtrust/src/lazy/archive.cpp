// libarchive, opened on first use (lazy/lazy_library.h): the read side libtrust may call, with
// the signatures <archive.h> and <archive_entry.h> declare. (Only docker-archive: images need it.)
#include <archive.h>
#include <archive_entry.h>

#include <cstdarg>
#include <cstdio>

#include "lazy/lazy_library.h"

// Reading.
SIGIL_LAZY_FUNCTION(archive_library, struct archive*, archive_read_new, (void), ())
SIGIL_LAZY_FUNCTION(archive_library, int, archive_read_free, (struct archive * a), (a))
SIGIL_LAZY_FUNCTION(archive_library, int, archive_read_close, (struct archive * a), (a))
SIGIL_LAZY_FUNCTION(archive_library, int, archive_read_support_filter_all, (struct archive * a),
                    (a))
SIGIL_LAZY_FUNCTION(archive_library, int, archive_read_support_filter_none, (struct archive * a),
                    (a))
SIGIL_LAZY_FUNCTION(archive_library, int, archive_read_support_filter_gzip, (struct archive * a),
                    (a))
SIGIL_LAZY_FUNCTION(archive_library, int, archive_read_support_filter_bzip2, (struct archive * a),
                    (a))
SIGIL_LAZY_FUNCTION(archive_library, int, archive_read_support_filter_xz, (struct archive * a), (a))
SIGIL_LAZY_FUNCTION(archive_library, int, archive_read_support_filter_zstd, (struct archive * a),
                    (a))
SIGIL_LAZY_FUNCTION(archive_library, int, archive_read_support_filter_lz4, (struct archive * a),
                    (a))
SIGIL_LAZY_FUNCTION(archive_library, int, archive_read_support_format_all, (struct archive * a),
                    (a))
SIGIL_LAZY_FUNCTION(archive_library, int, archive_read_support_format_tar, (struct archive * a),
                    (a))
SIGIL_LAZY_FUNCTION(archive_library, int, archive_read_support_format_raw, (struct archive * a),
                    (a))
SIGIL_LAZY_FUNCTION(archive_library, int, archive_read_support_format_empty, (struct archive * a),
                    (a))
SIGIL_LAZY_FUNCTION(archive_library, int, archive_read_open_filename,
                    (struct archive * a, const char* filename, size_t block_size),
                    (a, filename, block_size))
SIGIL_LAZY_FUNCTION(archive_library, int, archive_read_open_fd,
                    (struct archive * a, int fd, size_t block_size), (a, fd, block_size))
SIGIL_LAZY_FUNCTION(archive_library, int, archive_read_open_memory,
                    (struct archive * a, const void* buff, size_t size), (a, buff, size))
SIGIL_LAZY_FUNCTION(archive_library, int, archive_read_set_open_callback,
                    (struct archive * a, archive_open_callback* cb), (a, cb))
SIGIL_LAZY_FUNCTION(archive_library, int, archive_read_set_read_callback,
                    (struct archive * a, archive_read_callback* cb), (a, cb))
SIGIL_LAZY_FUNCTION(archive_library, int, archive_read_set_seek_callback,
                    (struct archive * a, archive_seek_callback* cb), (a, cb))
SIGIL_LAZY_FUNCTION(archive_library, int, archive_read_set_skip_callback,
                    (struct archive * a, archive_skip_callback* cb), (a, cb))
SIGIL_LAZY_FUNCTION(archive_library, int, archive_read_set_close_callback,
                    (struct archive * a, archive_close_callback* cb), (a, cb))
SIGIL_LAZY_FUNCTION(archive_library, int, archive_read_set_callback_data,
                    (struct archive * a, void* data), (a, data))
SIGIL_LAZY_FUNCTION(archive_library, int, archive_read_open1, (struct archive * a), (a))
SIGIL_LAZY_FUNCTION(archive_library, int, archive_read_next_header,
                    (struct archive * a, struct archive_entry** entry), (a, entry))
SIGIL_LAZY_FUNCTION(archive_library, int, archive_read_next_header2,
                    (struct archive * a, struct archive_entry* entry), (a, entry))
SIGIL_LAZY_FUNCTION(archive_library, la_int64_t, archive_read_header_position, (struct archive * a),
                    (a))
SIGIL_LAZY_FUNCTION(archive_library, int, archive_read_has_encrypted_entries, (struct archive * a),
                    (a))
SIGIL_LAZY_FUNCTION(archive_library, la_ssize_t, archive_read_data,
                    (struct archive * a, void* buff, size_t size), (a, buff, size))
SIGIL_LAZY_FUNCTION(archive_library, int, archive_read_data_block,
                    (struct archive * a, const void** buff, size_t* size, la_int64_t* offset),
                    (a, buff, size, offset))
SIGIL_LAZY_FUNCTION(archive_library, int, archive_read_data_skip, (struct archive * a), (a))
SIGIL_LAZY_FUNCTION(archive_library, la_int64_t, archive_seek_data,
                    (struct archive * a, la_int64_t offset, int whence), (a, offset, whence))

// State and errors.
SIGIL_LAZY_FUNCTION(archive_library, int, archive_errno, (struct archive * a), (a))
SIGIL_LAZY_FUNCTION(archive_library, const char*, archive_error_string, (struct archive * a), (a))
SIGIL_LAZY_FUNCTION(archive_library, void, archive_clear_error, (struct archive * a), (a))
SIGIL_LAZY_FUNCTION(archive_library, int, archive_format, (struct archive * a), (a))
SIGIL_LAZY_FUNCTION(archive_library, const char*, archive_format_name, (struct archive * a), (a))
SIGIL_LAZY_FUNCTION(archive_library, int, archive_filter_count, (struct archive * a), (a))
SIGIL_LAZY_FUNCTION(archive_library, int, archive_filter_code, (struct archive * a, int n), (a, n))
SIGIL_LAZY_FUNCTION(archive_library, const char*, archive_filter_name, (struct archive * a, int n),
                    (a, n))
SIGIL_LAZY_FUNCTION(archive_library, la_int64_t, archive_filter_bytes, (struct archive * a, int n),
                    (a, n))

// Entries.
SIGIL_LAZY_FUNCTION(archive_library, struct archive_entry*, archive_entry_new, (void), ())
SIGIL_LAZY_FUNCTION(archive_library, void, archive_entry_free, (struct archive_entry * e), (e))
SIGIL_LAZY_FUNCTION(archive_library, struct archive_entry*, archive_entry_clear,
                    (struct archive_entry * e), (e))
SIGIL_LAZY_FUNCTION(archive_library, const char*, archive_entry_pathname,
                    (struct archive_entry * e), (e))
SIGIL_LAZY_FUNCTION(archive_library, const char*, archive_entry_pathname_utf8,
                    (struct archive_entry * e), (e))
SIGIL_LAZY_FUNCTION(archive_library, const char*, archive_entry_hardlink,
                    (struct archive_entry * e), (e))
SIGIL_LAZY_FUNCTION(archive_library, const char*, archive_entry_symlink, (struct archive_entry * e),
                    (e))
SIGIL_LAZY_FUNCTION(archive_library, __LA_MODE_T, archive_entry_filetype,
                    (struct archive_entry * e), (e))
SIGIL_LAZY_FUNCTION(archive_library, __LA_MODE_T, archive_entry_mode, (struct archive_entry * e),
                    (e))
SIGIL_LAZY_FUNCTION(archive_library, __LA_MODE_T, archive_entry_perm, (struct archive_entry * e),
                    (e))
SIGIL_LAZY_FUNCTION(archive_library, la_int64_t, archive_entry_size, (struct archive_entry * e),
                    (e))
SIGIL_LAZY_FUNCTION(archive_library, int, archive_entry_size_is_set, (struct archive_entry * e),
                    (e))
SIGIL_LAZY_FUNCTION(archive_library, time_t, archive_entry_mtime, (struct archive_entry * e), (e))
SIGIL_LAZY_FUNCTION(archive_library, int, archive_entry_sparse_count, (struct archive_entry * e),
                    (e))

// Variadic: the message is formatted here and handed over as one "%s" argument.
extern "C" void archive_set_error(struct archive* a, int err, const char* fmt, ...) {
  static const auto real =
      ::trust::detail::archive_library().function<decltype(&::archive_set_error)>(
          "archive_set_error");
  char message[512];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(message, sizeof message, fmt, ap);
  va_end(ap);
  real(a, err, "%s", message);
}
