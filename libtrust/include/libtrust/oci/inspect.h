#pragma once
// What `sigil digest` reports, and the "every blob of the image matches its digest" check that
// verification runs: walks a manifest (or an index and everything it lists, nested indexes
// included), hashes the config and every layer as it streams (layers in parallel), and computes
// each layer's diffID through gzip or zstd decompression in constant memory. Each distinct
// manifest and layer is read once per call; the walk is bounded (limits::kMaxManifestsPerImage
// listings, limits::kMaxIndexNesting levels).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "libtrust/core/digest.h"
#include "libtrust/export.h"
#include "libtrust/oci/image_source.h"

namespace trust::oci {

struct LayerReport {
  Descriptor descriptor;
  Digest diff_id;  // sha256 of the uncompressed tar
  std::uint64_t uncompressed_size = 0;
  bool diff_id_matches_config = true;  // false if the config lists another diffID at this index
  // false when InspectOptions::compute_diff_ids was off: diff_id and uncompressed_size are then
  // unset (the layer bytes were still verified against descriptor.digest).
  bool diff_id_computed = false;
};

struct ImageReport {
  Descriptor manifest;  // digest, size, media type of the manifest (or index)
  std::optional<Platform> platform;
  std::optional<Descriptor> config;   // absent for an index
  std::vector<LayerReport> layers;    // absent for an index
  std::vector<ImageReport> children;  // an index's manifests
  // The config's rootfs.diff_ids (image manifests whose config is an image config).
  std::vector<Digest> config_diff_ids;
  // Every computed diffID equals the config's, and the counts agree (true when not computed).
  bool diff_ids_consistent = true;
  // Listed again within this image (by this index or another): inspected, and reported, where it
  // was first listed; here only `manifest` and `platform` are set.
  bool repeated = false;
};

struct InspectOptions {
  unsigned threads = 0;          // 0: one per core (at most the layer count)
  bool compute_diff_ids = true;  // decompress layers to get diffIDs
  bool recurse_index = true;     // report every manifest of an index
  TRUST_API void validate() const;
};

// Throws DigestMismatchError / NotFoundError / LimitError naming the blob and the source.
TRUST_API ImageReport inspect_image(ImageSource& source, const Descriptor& manifest,
                                    const InspectOptions& options = {});

}  // namespace trust::oci
