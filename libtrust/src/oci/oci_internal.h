#pragma once
// Private to libtrust/oci: descriptor JSON, blob verification while streaming, a file-descriptor
// owner, and small message helpers shared by the layout and archive backends and inspect.

#include <unistd.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/json_util.h"
#include "core/unique_fd.h"
#include "libtrust/core/digest.h"
#include "libtrust/core/error.h"
#include "libtrust/oci/manifest.h"

namespace trust::oci::detail {

using trust::detail::Json;
using trust::detail::OrderedJson;

// Chunk size for every streamed read and decompression buffer.
inline constexpr std::size_t kChunkBytes = 1u << 20;

// Owns a POSIX file descriptor.
using Fd = trust::detail::UniqueFd;

inline Descriptor make_descriptor(std::string media_type, Digest digest, std::uint64_t size) {
  Descriptor d;
  d.media_type = std::move(media_type);
  d.digest = std::move(digest);
  d.size = size;
  return d;
}

// The media type of manifest `bytes` reached by digest alone (no descriptor said it): the one its
// mediaType field declares, else the OCI type its shape implies (index or image manifest).
std::string manifest_media_type(ByteView bytes, const std::string& what);

// Descriptor <-> JSON. Key order when writing follows the OCI Go types (what containers/image and
// go-containerregistry write): mediaType, digest, size, urls, annotations, platform, artifactType.
Descriptor parse_descriptor(const Json& j, std::string_view what);
OrderedJson descriptor_to_json(const Descriptor& d);
Annotations parse_annotations(const Json& j, std::string_view what);

// Hashes bytes as they stream and checks them against a descriptor: never lets more than
// desc.size bytes through, and finish() throws DigestMismatchError naming `what`.
class BlobVerifier {
 public:
  BlobVerifier(const Descriptor& desc, std::string what);
  // Throws DigestMismatchError as soon as the stream is longer than the descriptor says.
  void update(ByteView data);
  void finish();

 private:
  const Descriptor& desc_;
  std::string what_;
  Hasher hasher_;
  std::uint64_t count_ = 0;
};

// "a, b, c" (or "none"), at most a few dozen names.
std::string list_names(const std::vector<std::string>& names);

// Checks a descriptor's declared size against a cap before anything is read.
void check_size_cap(const Descriptor& desc, std::uint64_t max_bytes, std::string_view what);

// What a file mode's type is, for messages: "a FIFO", "a directory", "a symbolic link", … (the
// S_IF* bits, which tar entry types share).
std::string_view file_type_name(unsigned mode);

// JSON whose untouched parts are written back as they were (index.json of a layout): checked as
// parse_json checks (size, depth, duplicate keys, NUL, BOM), then parsed keeping key order.
OrderedJson parse_ordered_json(ByteView bytes, std::string_view what, std::size_t max_bytes);

}  // namespace trust::oci::detail
