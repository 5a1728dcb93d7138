#pragma once
// What identifies a file's content for a reload: changed when the file is replaced (a new inode:
// an editor's rename, a Kubernetes ConfigMap or Secret update swapping its symlink) or written
// in place (size, mtime, ctime). The policy holder and the certificate reloader of the servers
// compare stamps instead of reading the files again.

#include <sys/types.h>

#include <filesystem>
#include <optional>

namespace sigil::cli {

struct FileStamp {
  std::filesystem::path path;
  dev_t dev = 0;
  ino_t ino = 0;
  off_t size = 0;
  long long mtime_ns = 0;
  long long ctime_ns = 0;
  bool operator==(const FileStamp&) const = default;
};

// The stamp of `path` now (symlinks followed); nullopt when it cannot be stat'ed.
std::optional<FileStamp> stamp_of(const std::filesystem::path& path);

}  // namespace sigil::cli
