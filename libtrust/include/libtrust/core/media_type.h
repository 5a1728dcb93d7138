#pragma once
// Media types known to sigil, each spelled exactly once.

#include <string_view>

namespace trust::media_type {

inline constexpr std::string_view kOciManifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view kOciIndex = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view kOciConfig = "application/vnd.oci.image.config.v1+json";
inline constexpr std::string_view kOciLayerTar = "application/vnd.oci.image.layer.v1.tar";
inline constexpr std::string_view kOciLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip";
inline constexpr std::string_view kOciLayerZstd = "application/vnd.oci.image.layer.v1.tar+zstd";
inline constexpr std::string_view kOciLayerNondistGzip =
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";
inline constexpr std::string_view kOciEmpty = "application/vnd.oci.empty.v1+json";

inline constexpr std::string_view kDockerManifest =
    "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view kDockerManifestList =
    "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr std::string_view kDockerConfig = "application/vnd.docker.container.image.v1+json";
inline constexpr std::string_view kDockerLayerGzip =
    "application/vnd.docker.image.rootfs.diff.tar.gzip";
inline constexpr std::string_view kDockerLayerForeignGzip =
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";

inline constexpr std::string_view kCosignSimpleSigning =
    "application/vnd.dev.cosign.simplesigning.v1+json";
inline constexpr std::string_view kDsseEnvelope = "application/vnd.dsse.envelope.v1+json";
inline constexpr std::string_view kSigstoreBundleV03 =
    "application/vnd.dev.sigstore.bundle.v0.3+json";
inline constexpr std::string_view kInTotoPayload = "application/vnd.in-toto+json";

}  // namespace trust::media_type

namespace trust {

enum class Compression { kNone, kGzip, kZstd };

// What a layer media type says about its compression; nullopt for a type that is not a layer.
// Declared in libtrust/oci/manifest.h as layer_compression().

}  // namespace trust
