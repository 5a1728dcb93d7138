#pragma once
// Tar archives for the docker-archive tests, written with libarchive (not through the code under
// test): entries of every type tar has (files, links, FIFOs, directories, devices), whole layout
// directories, and the compression filters docker and podman write.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "libtrust/core/bytes.h"

namespace oci_test {

enum class TarType { kFile, kSymlink, kHardlink, kFifo, kDirectory, kCharDevice, kBlockDevice };

struct TarItem {
  std::string name;
  std::string content;  // kFile
  TarType type = TarType::kFile;
  std::string target;  // kSymlink, kHardlink
};

inline TarItem tar_file(std::string name, std::string content) {
  return {
      .name = std::move(name), .content = std::move(content), .type = TarType::kFile, .target = {}};
}
inline TarItem tar_special(std::string name, TarType type, std::string target = {}) {
  return {.name = std::move(name), .content = {}, .type = type, .target = std::move(target)};
}

enum class Filter { kNone, kGzip, kZstd, kXz, kBzip2 };
const char* filter_name(Filter f);

// A pax tar of `items`, in order.
trust::Bytes tar_of(const std::vector<TarItem>& items);
// Every regular file under `dir` (an OCI layout), named relative to it, sorted by name; `first`
// names go first, in the order given (to place entries in the archive).
std::vector<TarItem> items_of_dir(const std::filesystem::path& dir,
                                  const std::vector<std::string>& first = {});
// `data` through a compression filter (libarchive's raw format), or as it is for kNone.
trust::Bytes compress(trust::ByteView data, Filter filter);
// A tar that ends right after the header of `name`, which declares `declared_size` bytes: what a
// reader sees of an entry whose header lies, or whose data it has not read yet.
trust::Bytes tar_header_only(const std::string& name, std::int64_t declared_size);

void write_file(const std::filesystem::path& file, trust::ByteView data);

}  // namespace oci_test
