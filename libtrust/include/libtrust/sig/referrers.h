#pragma once
// Sigstore bundles attached to images as OCI 1.1 referrers (cosign's specs/BUNDLE_SPEC.md; what
// cosign 3 writes by default). A referrer is an OCI image manifest
//   {artifactType: application/vnd.dev.sigstore.bundle.v0.3+json,
//    config: the empty descriptor ({} as application/vnd.oci.empty.v1+json),
//    layers: [the bundle JSON, title "sha256-<hex>.sigstore.json"],
//    subject: the image descriptor,
//    annotations: dev.sigstore.bundle.content, dev.sigstore.bundle.predicateType,
//                 org.opencontainers.image.created}
// pushed by digest and made discoverable through ImageStore::add_referrer (the referrers API, or
// the fallback index under the tag "sha256-<hex>").

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "libtrust/core/digest.h"
#include "libtrust/crypto/keys.h"
#include "libtrust/export.h"
#include "libtrust/oci/image_source.h"
#include "libtrust/sig/bundle.h"
#include "libtrust/sig/entity.h"
#include "libtrust/sig/signer.h"

namespace trust::sig {

inline constexpr std::string_view kAnnotationBundleContent = "dev.sigstore.bundle.content";
inline constexpr std::string_view kAnnotationBundlePredicateType =
    "dev.sigstore.bundle.predicateType";
inline constexpr std::string_view kAnnotationCreated = "org.opencontainers.image.created";
inline constexpr std::string_view kAnnotationTitle = "org.opencontainers.image.title";

// The empty descriptor's blob and digest (OCI image-spec "Guidance for an empty descriptor").
inline constexpr std::string_view kEmptyJsonBlob = "{}";
inline constexpr std::string_view kEmptyJsonDigest =
    "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";

// Writes `bundle` as a referrer of `subject` into `store`: the bundle blob, the empty config blob,
// the referrer manifest (by digest), then add_referrer. `predicate_type` goes into the
// dev.sigstore.bundle.predicateType annotation (empty: omitted); `created` (RFC 3339, UTC) into
// org.opencontainers.image.created (empty: the current time). Returns the referrer manifest's
// descriptor (with artifactType and annotations, as listed in the referrers index).
TRUST_API oci::Descriptor attach_bundle(oci::ImageStore& store, const oci::Descriptor& subject,
                                        const Bundle& bundle, std::string_view predicate_type,
                                        std::string_view created = {});

// One bundle referrer as found, before any verification. `problem` is set when it cannot be a
// valid bundle (manifest of the wrong shape, subject naming another image, layer too large or of
// the wrong type, malformed bundle JSON): such an entry never verifies but is reported.
struct BundleReferrer {
  std::size_t index = 0;                 // position among the referrers listed
  oci::Descriptor manifest;              // the referrer manifest's descriptor
  std::optional<oci::Descriptor> layer;  // the bundle layer, once the manifest was read
  std::optional<Bundle> bundle;          // parsed (not verified); absent when problem is set
  std::optional<std::string> problem;

  // "referrer manifest sha256:…": where this entry came from, for verdicts.
  TRUST_API std::string origin() const;
};

// The signed entity this referrer is (kBundle; its problem, if any, kept).
TRUST_API SignedEntity to_entity(BundleReferrer referrer);

// Reads the bundle referrers of `image` in `source` and hands each one, its bundle parsed or its
// problem set, to `on_referrer` as it is judged, on the calling thread (in any order: `index` is
// the position in the listing). Returns how many referrers were listed. The referrers with the
// bundle artifactType, as source.referrers() lists them (capped there at
// limits::kMaxSignaturesPerImage); each manifest of at most limits::kMaxBundleReferrerManifestBytes
// by its descriptor (else a problem, not fetched) fetched and checked against its digest;
// its subject must be `image` and its one layer a bundle of at most
// limits::kMaxSignatureBundleBytes by its descriptor (a larger one could never be a valid
// signature: it is a problem, not read). The bundles are fetched through ImageSource::fetch_blobs
// and parsed one at a time, so the bytes held stay bounded. A manifest or blob that does not
// match its digest is a DigestMismatchError.
TRUST_API std::size_t visit_bundle_referrers(
    oci::ImageSource& source, const Digest& image,
    const std::function<void(BundleReferrer)>& on_referrer);

// The same referrers collected, in listing order: holds every bundle at once. For tests and tools
// that need them; verification uses visit_bundle_referrers.
TRUST_API std::vector<BundleReferrer> read_bundle_referrers(oci::ImageSource& source,
                                                            const Digest& image);

struct BundleSigned {
  Digest image;              // the manifest signed
  oci::Descriptor referrer;  // the referrer manifest written
  Digest bundle;             // digest of the bundle blob (its layer)
  bool appended = true;      // false: an identical referrer was already listed
};

// Signs an image cosign-3 style: a DSSE envelope (payloadType application/vnd.in-toto+json)
// over cosign_sign_statement(image, options.annotations), in a key-signed v0.3 bundle, attached
// as a referrer of the image. With options.recursive, an index and each of its image manifests.
// options.docker_reference is not part of a bundle signature (the statement names the digest).
TRUST_API std::vector<BundleSigned> sign_image_bundle(oci::ImageStore& store,
                                                      const oci::Descriptor& image,
                                                      const PrivateKey& key,
                                                      const SignOptions& options);

}  // namespace trust::sig
