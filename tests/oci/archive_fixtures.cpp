#include "oci/archive_fixtures.h"

#include <archive.h>
#include <archive_entry.h>

#include <algorithm>
#include <fstream>
#include <memory>
#include <stdexcept>

namespace oci_test {
namespace {

namespace fs = std::filesystem;

struct WriteFree {
  void operator()(archive* a) const noexcept { archive_write_free(a); }
};
struct EntryFree {
  void operator()(archive_entry* e) const noexcept { archive_entry_free(e); }
};

la_ssize_t append(archive*, void* client, const void* buf, size_t len) {
  auto* out = static_cast<trust::Bytes*>(client);
  auto* p = static_cast<const std::uint8_t*>(buf);
  out->insert(out->end(), p, p + len);
  return static_cast<la_ssize_t>(len);
}

void check(int r, archive* a, const std::string& step) {
  if (r != ARCHIVE_OK) {
    const char* e = archive_error_string(a);
    throw std::runtime_error("archive_fixtures: " + step + ": " + (e ? e : "failed"));
  }
}

std::unique_ptr<archive_entry, EntryFree> entry_for(const TarItem& item) {
  std::unique_ptr<archive_entry, EntryFree> e(archive_entry_new());
  archive_entry_set_pathname(e.get(), item.name.c_str());
  archive_entry_set_mtime(e.get(), 0, 0);
  archive_entry_set_size(e.get(), 0);
  switch (item.type) {
    case TarType::kFile:
      archive_entry_set_filetype(e.get(), AE_IFREG);
      archive_entry_set_perm(e.get(), 0644);
      archive_entry_set_size(e.get(), static_cast<la_int64_t>(item.content.size()));
      break;
    case TarType::kSymlink:
      archive_entry_set_filetype(e.get(), AE_IFLNK);
      archive_entry_set_perm(e.get(), 0777);
      archive_entry_set_symlink(e.get(), item.target.c_str());
      break;
    case TarType::kHardlink:
      archive_entry_set_filetype(e.get(), AE_IFREG);
      archive_entry_set_perm(e.get(), 0644);
      archive_entry_set_hardlink(e.get(), item.target.c_str());
      break;
    case TarType::kFifo:
      archive_entry_set_filetype(e.get(), AE_IFIFO);
      archive_entry_set_perm(e.get(), 0644);
      break;
    case TarType::kDirectory:
      archive_entry_set_filetype(e.get(), AE_IFDIR);
      archive_entry_set_perm(e.get(), 0755);
      break;
    case TarType::kCharDevice:
      archive_entry_set_filetype(e.get(), AE_IFCHR);
      archive_entry_set_perm(e.get(), 0644);
      archive_entry_set_rdev(e.get(), 0x0103);  // 1,3: /dev/null
      break;
    case TarType::kBlockDevice:
      archive_entry_set_filetype(e.get(), AE_IFBLK);
      archive_entry_set_perm(e.get(), 0644);
      archive_entry_set_rdev(e.get(), 0x0700);  // 7,0: /dev/loop0
      break;
  }
  return e;
}

}  // namespace

const char* filter_name(Filter f) {
  switch (f) {
    case Filter::kNone:
      return "none";
    case Filter::kGzip:
      return "gzip";
    case Filter::kZstd:
      return "zstd";
    case Filter::kXz:
      return "xz";
    case Filter::kBzip2:
      return "bzip2";
  }
  return "?";
}

trust::Bytes tar_of(const std::vector<TarItem>& items) {
  trust::Bytes out;
  std::unique_ptr<archive, WriteFree> a(archive_write_new());
  check(archive_write_set_format_pax_restricted(a.get()), a.get(), "format");
  check(archive_write_add_filter_none(a.get()), a.get(), "filter");
  check(archive_write_set_bytes_in_last_block(a.get(), 1), a.get(), "block");
  check(archive_write_open2(a.get(), &out, nullptr, append, nullptr, nullptr), a.get(), "open");
  for (const auto& item : items) {
    auto e = entry_for(item);
    check(archive_write_header(a.get(), e.get()), a.get(), "header " + item.name);
    if (item.type == TarType::kFile && !item.content.empty() &&
        archive_write_data(a.get(), item.content.data(), item.content.size()) !=
            static_cast<la_ssize_t>(item.content.size())) {
      throw std::runtime_error("archive_fixtures: data for " + item.name);
    }
  }
  check(archive_write_close(a.get()), a.get(), "close");
  return out;
}

std::vector<TarItem> items_of_dir(const fs::path& dir, const std::vector<std::string>& first) {
  std::vector<std::string> names;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) names.push_back(fs::relative(e.path(), dir).string());
  }
  std::sort(names.begin(), names.end());
  std::vector<std::string> ordered = first;
  for (const auto& n : names) {
    if (std::find(first.begin(), first.end(), n) == first.end()) ordered.push_back(n);
  }
  std::vector<TarItem> items;
  for (const auto& n : ordered) {
    std::ifstream in(dir / n, std::ios::binary);
    std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    items.push_back(tar_file(n, std::move(content)));
  }
  return items;
}

trust::Bytes compress(trust::ByteView data, Filter filter) {
  if (filter == Filter::kNone) return trust::Bytes(data.begin(), data.end());
  trust::Bytes out;
  std::unique_ptr<archive, WriteFree> a(archive_write_new());
  check(archive_write_set_format_raw(a.get()), a.get(), "raw format");
  switch (filter) {
    case Filter::kGzip:
      check(archive_write_add_filter_gzip(a.get()), a.get(), "gzip");
      break;
    case Filter::kZstd:
      check(archive_write_add_filter_zstd(a.get()), a.get(), "zstd");
      break;
    case Filter::kXz:
      check(archive_write_add_filter_xz(a.get()), a.get(), "xz");
      break;
    case Filter::kBzip2:
      check(archive_write_add_filter_bzip2(a.get()), a.get(), "bzip2");
      break;
    case Filter::kNone:
      break;
  }
  check(archive_write_set_bytes_in_last_block(a.get(), 1), a.get(), "block");
  check(archive_write_open2(a.get(), &out, nullptr, append, nullptr, nullptr), a.get(), "open");
  std::unique_ptr<archive_entry, EntryFree> e(archive_entry_new());
  archive_entry_set_filetype(e.get(), AE_IFREG);
  archive_entry_set_pathname(e.get(), "data");
  check(archive_write_header(a.get(), e.get()), a.get(), "raw header");
  if (!data.empty() && archive_write_data(a.get(), data.data(), data.size()) !=
                           static_cast<la_ssize_t>(data.size())) {
    throw std::runtime_error("archive_fixtures: compressing failed");
  }
  check(archive_write_close(a.get()), a.get(), "close");
  return out;
}

trust::Bytes tar_header_only(const std::string& name, std::int64_t declared_size) {
  struct Sink {
    trust::Bytes out;
    bool full = false;  // the header is out: refuse the rest
  } sink;
  auto take = [](archive*, void* client, const void* buf, size_t len) -> la_ssize_t {
    auto* s = static_cast<Sink*>(client);
    if (s->full) return -1;
    auto* p = static_cast<const std::uint8_t*>(buf);
    s->out.insert(s->out.end(), p, p + len);
    return static_cast<la_ssize_t>(len);
  };
  std::unique_ptr<archive, WriteFree> a(archive_write_new());
  check(archive_write_set_format_pax_restricted(a.get()), a.get(), "format");
  check(archive_write_add_filter_none(a.get()), a.get(), "filter");
  check(archive_write_set_bytes_per_block(a.get(), 0), a.get(), "unblocked");
  check(archive_write_open2(a.get(), &sink, nullptr, take, nullptr, nullptr), a.get(), "open");
  std::unique_ptr<archive_entry, EntryFree> e(archive_entry_new());
  archive_entry_set_pathname(e.get(), name.c_str());
  archive_entry_set_filetype(e.get(), AE_IFREG);
  archive_entry_set_perm(e.get(), 0644);
  archive_entry_set_mtime(e.get(), 0, 0);
  archive_entry_set_size(e.get(), declared_size);
  check(archive_write_header(a.get(), e.get()), a.get(), "header");
  if (sink.out.empty()) throw std::runtime_error("archive_fixtures: header not written");
  sink.full = true;  // libarchive's padding of the data is refused, and the archive dropped
  a.reset();
  return sink.out;
}

void write_file(const fs::path& file, trust::ByteView data) {
  std::ofstream o(file, std::ios::binary | std::ios::trunc);
  o.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
  if (!o) throw std::runtime_error("archive_fixtures: cannot write " + file.string());
}

}  // namespace oci_test
