#pragma once
// Named limits on everything read from untrusted input (DESIGN.md "Limits").
// Each has a test at and past the bound.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "libtrust/export.h"

namespace trust::limits {

// The one check of a count or size read from outside against its limit: throws LimitError
// "<what>: <value> <noun> is over the limit of <limit>" when value > limit. Every limit below is
// enforced through it, so each is spelled, and tested, once per entry point.
TRUST_API void check(std::uint64_t value, std::uint64_t limit, std::string_view what,
                     std::string_view noun);

inline constexpr std::size_t kMaxManifestBytes = 4u << 20;  // manifest or index
inline constexpr std::uint64_t kMaxAttachmentLayerBytes = 128ull
                                                          << 20;  // signature/attestation layer
inline constexpr std::size_t kMaxSignaturesPerImage = 100;
inline constexpr std::size_t kMaxLayersPerManifest = 1000;
inline constexpr std::size_t kMaxIndexEntries = 1000;
inline constexpr int kMaxJsonDepth = 64;
inline constexpr std::size_t kMaxRegistryErrorBody = 64u << 10;
inline constexpr int kMaxRedirects = 5;
inline constexpr std::uint64_t kMaxScryptN = 131072;

// Not in DESIGN.md, but bounded all the same.
inline constexpr std::size_t kMaxConfigBytes = 8u << 20;           // image config blob
inline constexpr std::size_t kMaxKeyFileBytes = 64u << 10;         // PEM key files
inline constexpr std::size_t kMaxPasswordBytes = 1024;             // --password-file
inline constexpr std::size_t kMaxArchiveManifestBytes = 4u << 20;  // docker-archive manifest.json
inline constexpr std::size_t kMaxArchiveEntries = 100000;          // entries in a docker-archive
inline constexpr std::size_t kMaxAnnotations = 256;  // -a k=v / annotations per object
inline constexpr int kMaxIndexNesting = 4;           // an index inside an index inside …

// Registry client (libtrust/registry): everything a registry, token server or credential helper
// sends is bounded too.
inline constexpr std::size_t kMaxTokenResponseBytes = 1u << 20;       // bearer token JSON
inline constexpr std::size_t kMaxAuthHeaderBytes = 8u << 10;          // one WWW-Authenticate
inline constexpr std::size_t kMaxResponseHeaderBytes = 256u << 10;    // all headers of a response
inline constexpr std::size_t kMaxTagListPageBytes = 8u << 20;         // one /tags/list page
inline constexpr std::size_t kMaxTagListPages = 10000;                // pages followed via Link
inline constexpr std::size_t kMaxReferrersPages = 16;                 // referrers pages via Link
inline constexpr std::size_t kMaxDockerConfigBytes = 1u << 20;        // config.json
inline constexpr std::size_t kMaxCredentialHelperOutput = 64u << 10;  // docker-credential-* get
inline constexpr int kMaxManifestPutRetries = 6;  // MANIFEST_BLOB_UNKNOWN / DIGEST_INVALID
// A blob download dropped after some bytes is resumed with Range this many times at most.
inline constexpr int kMaxBlobResumes = 8;

// Attachments of one image (signature payloads, bundles) fetched at once, and the bytes they may
// hold before they are judged and dropped (ImageSource::fetch_blobs).
inline constexpr std::size_t kAttachmentFetchThreads = 8;
inline constexpr std::uint64_t kMaxAttachmentBytesInFlight = 32ull << 20;

// sigil login (sign/login_commands.cpp): a registry password or token read with
// --password-stdin. Tokens run long (an AWS ECR token is 2-3 KB, an identity provider's JWT can
// be several); as much as a credential helper may answer (kMaxCredentialHelperOutput).
inline constexpr std::size_t kMaxRegistryPasswordBytes = 64u << 10;

}  // namespace trust::limits
