#pragma once
// Test fixtures: OCI image layouts and `docker save` archives built from a small spec, written
// with zlib/zstd/libarchive directly (not through the code under test), so tests can check
// libtrust's readers against independently produced bytes.
//
//   sigil::test::TempDir tmp;                      // support/process.h
//   sigil::test::ImageSpec image;
//   image.layers = {sigil::test::layer(4096), sigil::test::layer(10, LayerCompression::kZstd, 2)};
//   auto img = sigil::test::build_layout(tmp / "img", {.images = {image}, .index_tag = {}});
//   auto ref = img.reference("latest");            // "oci:/tmp/…/img:latest"
//   img.manifest_digest, img.images[0].layers[1].diff_id, …
//
// Everything is deterministic: the same spec gives the same digests.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "libtrust/core/bytes.h"
#include "libtrust/core/digest.h"
#include "libtrust/oci/manifest.h"

namespace sigil::test {

enum class LayerCompression {
  kNone,             // application/vnd.oci.image.layer.v1.tar
  kGzip,             // …tar+gzip, one gzip member
  kGzipMultiMember,  // …tar+gzip, the tar split over two concatenated gzip members
  kZstd,             // …tar+zstd
};

struct LayerSpec {
  std::size_t size = 1024;  // bytes of the one file inside the layer's tar
  LayerCompression compression = LayerCompression::kGzip;
  std::uint32_t seed = 1;              // content pattern: different seeds, different layers
  std::string file_name;               // default "file-<seed>.bin"
  std::optional<std::string> content;  // exact file content (overrides size and seed)
};

// Shorthand: layer(4096), layer(10, LayerCompression::kZstd, 7).
inline LayerSpec layer(std::size_t size, LayerCompression compression = LayerCompression::kGzip,
                       std::uint32_t seed = 1) {
  LayerSpec l;
  l.size = size;
  l.compression = compression;
  l.seed = seed;
  return l;
}

struct ImageSpec {
  std::vector<LayerSpec> layers = {LayerSpec{}};
  std::string os = "linux";
  std::string architecture = "amd64";
  std::string variant;
  std::string tag = "latest";  // "" : not tagged in index.json (reachable through the index only)
};

struct LayoutSpec {
  std::vector<ImageSpec> images = {ImageSpec{}};
  // Non-empty: also write an OCI image index over all images (with their platforms) and tag it.
  std::string index_tag;
};

struct BuiltLayer {
  trust::oci::Descriptor descriptor;  // as written in the manifest
  trust::Digest diff_id;              // sha256 of `tar`
  trust::Bytes tar;                   // the uncompressed layer (tests are small)
  trust::Bytes blob;                  // the bytes stored under descriptor.digest
};

struct BuiltImage {
  trust::oci::Descriptor manifest;  // OCI image manifest
  trust::oci::Descriptor config;    // OCI image config with the right diff_ids
  trust::Bytes manifest_bytes;
  trust::Bytes config_bytes;
  std::vector<BuiltLayer> layers;
  trust::oci::Platform platform;
  std::string tag;
};

struct BuiltLayout {
  std::filesystem::path dir;
  std::vector<BuiltImage> images;
  std::optional<trust::oci::Descriptor> index;  // when LayoutSpec::index_tag was set
  trust::Bytes index_bytes;
  // The index's digest if there is one, else images[0]'s manifest digest.
  trust::Digest manifest_digest;

  // "oci:DIR" or "oci:DIR:TAG".
  std::string reference(std::string_view tag = {}) const;
  // DIR/blobs/<alg>/<hex>
  std::filesystem::path blob_path(const trust::Digest& digest) const;
};

// Writes a layout into `dir` (created; must not hold a layout yet).
BuiltLayout build_layout(const std::filesystem::path& dir, const LayoutSpec& spec = {});

// `docker save` archives of a built layout's tagged images, named "sigil.test/img:<tag>" (RepoTags;
// in the OCI form also the io.containerd.image.name annotation, with ref.name "<tag>").
enum class ArchiveForm {
  kLegacy,  // manifest.json + <hex>.json configs + <n>/layer.tar (uncompressed), as docker < 25
  kOci,     // Docker >= 25: oci-layout, index.json, blobs/sha256/…, plus manifest.json
};
void write_docker_archive(const BuiltLayout& layout, const std::filesystem::path& file,
                          ArchiveForm form);

// Low-level pieces, for hand-made bad inputs.
struct TarEntry {
  std::string name;
  std::string content;
  std::string symlink_target;  // non-empty: a symlink entry instead of a file
};
trust::Bytes make_tar(const std::vector<TarEntry>& entries);
void write_tar(const std::filesystem::path& file, const std::vector<TarEntry>& entries);
trust::Bytes gzip_bytes(trust::ByteView data);
trust::Bytes zstd_bytes(trust::ByteView data);
// Deterministic pseudo-random bytes.
std::string pattern_bytes(std::size_t size, std::uint32_t seed);
// Stores `data` as DIR/blobs/sha256/<hex> and returns its digest.
trust::Digest write_blob(const std::filesystem::path& dir, trust::ByteView data);
// Writes DIR/index.json listing `entries` (descriptor JSON as the OCI spec has it).
void write_index_json(const std::filesystem::path& dir,
                      const std::vector<trust::oci::Descriptor>& entries);

}  // namespace sigil::test
