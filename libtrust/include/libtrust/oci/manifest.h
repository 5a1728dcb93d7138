#pragma once
// The OCI image model: descriptors, image manifests, image indexes, image configs; Docker schema2
// manifests and manifest lists are read into the same types. Parsing is strict and capped
// (limits.h); every parsed manifest keeps its exact bytes, because digests are over bytes.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "libtrust/core/bytes.h"
#include "libtrust/core/digest.h"
#include "libtrust/core/media_type.h"
#include "libtrust/export.h"

namespace trust::oci {

using Annotations = std::map<std::string, std::string>;

inline constexpr std::string_view kAnnotationRefName = "org.opencontainers.image.ref.name";

struct Platform {
  std::string os;
  std::string architecture;
  std::string variant;
  std::string os_version;
  std::vector<std::string> os_features;
  // "linux/arm64/v8"
  TRUST_API std::string str() const;
  friend bool operator==(const Platform&, const Platform&) = default;
};

struct Descriptor {
  std::string media_type;
  Digest digest;
  std::uint64_t size = 0;
  Annotations annotations;
  std::optional<Platform> platform;
  std::optional<std::string> artifact_type;
  std::vector<std::string> urls;
};

enum class ManifestKind { kImage, kIndex };

// Image manifest (OCI or Docker schema2).
struct Manifest {
  int schema_version = 2;
  std::string media_type;  // as declared (may be empty for OCI)
  std::optional<std::string> artifact_type;
  Descriptor config;
  std::vector<Descriptor> layers;
  std::optional<Descriptor> subject;
  Annotations annotations;
  Bytes raw;  // exact bytes parsed from (or produced by to_json)

  // Strict parse: size ≤ limits::kMaxManifestBytes, layers ≤ kMaxLayersPerManifest, JSON depth,
  // known media types. Throws InputError/LimitError/UnsupportedError naming `what`.
  TRUST_API static Manifest parse(ByteView bytes, std::string_view what);
  // Canonical compact JSON of the fields; also stores it in `raw`.
  TRUST_API std::string to_json();
};

// Image index (OCI) or manifest list (Docker).
struct Index {
  int schema_version = 2;
  std::string media_type;
  std::optional<std::string> artifact_type;
  std::vector<Descriptor> manifests;
  std::optional<Descriptor> subject;
  Annotations annotations;
  Bytes raw;

  TRUST_API static Index parse(ByteView bytes, std::string_view what);
  TRUST_API std::string to_json();
};

// The parts of an image config sigil uses.
struct ImageConfig {
  std::string os;
  std::string architecture;
  std::vector<Digest> diff_ids;  // rootfs.diff_ids
  TRUST_API static ImageConfig parse(ByteView bytes, std::string_view what);
};

// What the bytes are: an image manifest or an index, from the declared media type (descriptor or
// "mediaType" field) and, when absent, from the shape ("manifests" vs "layers"). Throws
// UnsupportedError for media types that are neither.
TRUST_API ManifestKind classify_manifest(ByteView bytes, std::string_view declared_media_type,
                                         std::string_view what);
TRUST_API bool is_index_media_type(std::string_view media_type);
TRUST_API bool is_manifest_media_type(std::string_view media_type);

// Compression a layer media type implies (nullopt: not a known layer type).
TRUST_API std::optional<Compression> layer_compression(std::string_view media_type);

}  // namespace trust::oci
