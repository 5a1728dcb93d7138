#pragma once
// Attestations on images, written as cosign writes them: an in-toto Statement about the image's
// digest, signed as a DSSE envelope (payloadType application/vnd.in-toto+json), stored either
//   - cosign (the default, what cosign 2 and policy-controller, Kyverno read): one layer of the
//     OCI manifest under the tag "sha256-<hex>.att" in the image's repository or layout, layer
//     mediaType application/vnd.dsse.envelope.v1+json, blob = the envelope JSON, annotations
//     {"dev.cosignproject.cosign/signature": "", "predicateType": <the statement's type>}
//     (cosign's static.NewAttestation: the signature is inside the envelope); appended through
//     append_cosign_layer, so that concurrent attesters all keep theirs; or
//   - bundle (what cosign 3 writes): a key-signed v0.3 sigstore bundle holding the envelope,
//     attached as an OCI 1.1 referrer (attach_bundle) with the dev.sigstore.bundle.predicateType
//     annotation.
// Trust rule for writing: nothing is signed, and nothing written, unless the statement names the
// image's digest among its subjects and its predicate passes check_predicate for its type.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "libtrust/core/digest.h"
#include "libtrust/core/reference.h"
#include "libtrust/crypto/keys.h"
#include "libtrust/export.h"
#include "libtrust/oci/image_source.h"
#include "libtrust/sig/cosign_layout.h"
#include "libtrust/sig/intoto.h"

namespace trust::sig {

// The current time in RFC 3339, UTC, to the second ("2026-12-01T15:40:33Z"): the `now` an
// attestation's predicate is built with, and a bundle referrer's creation time.
TRUST_API std::string rfc3339_now();

// The subject name cosign writes for an image (attest.go: digest.Repository.String()): the
// registry and repository, "127.0.0.1:5000/lab/app", Docker Hub as "index.docker.io/library/x".
// A layout has no repository: "oci:" + its absolute path, as `sigil sign` names it.
TRUST_API std::string attestation_subject_name(const Reference& ref);

// The in-toto Statement v1 sigil signs about an image: one subject {name, digest {sha256}},
// `predicate_type` (a URI, as predicate_type_uri returns it), `predicate_json` (a JSON object).
TRUST_API Statement image_statement(std::string_view subject_name, const Digest& image,
                                    std::string_view predicate_type, std::string predicate_json);

// Throws unless `statement` may be signed as an attestation of `image`: InputError
// "<what>: no subject names sha256:…; subjects: name@sha256:…, …" when no subject's digest set
// names the image's digest, and what check_predicate throws for its predicate.
TRUST_API void check_image_statement(const Statement& statement, const Digest& image,
                                     std::string_view what);

enum class AttestFormat { kCosign, kBundle };
TRUST_API std::string_view to_string(AttestFormat format);  // "cosign" / "bundle"

struct AttestOptions {
  AttestFormat format = AttestFormat::kCosign;
  // Drop earlier attestations of the statement's predicate type (cosign layout only), decided
  // as cosign's replace op decides: by the predicateType of the statement inside each layer's
  // envelope (not the annotation). A layer whose type cannot be read is kept.
  bool replace = false;
  std::string what = "statement";  // names the statement's origin in messages (a file name)
  std::string created;  // bundle: org.opencontainers.image.created (RFC 3339; empty: now)
  // UsageError: replace with the bundle format (a referrer cannot be taken back out of a
  // registry's referrers listing: most registries cannot delete it, and the fallback index would
  // need a delete that races other writers), an empty `what`.
  TRUST_API void validate() const;
};

struct Attested {
  Digest image;
  AttestFormat format = AttestFormat::kCosign;
  std::string predicate_type;
  std::string tag;                          // cosign: "sha256-<hex>.att"
  std::optional<oci::Descriptor> referrer;  // bundle: the referrer manifest written
  Digest blob;               // cosign: the envelope layer's digest; bundle: the bundle blob's
  bool appended = true;      // false: an identical layer or referrer was already there
  std::size_t replaced = 0;  // layers dropped by replace
};

// Checks (check_image_statement, naming options.what), signs and stores one attestation of
// `image` in `store`. Nothing is written when the check or signing fails. Throws as
// check_image_statement, CryptoError, and what the store throws; LimitError (nothing written)
// when the .att manifest already holds limits::kMaxSignaturesPerImage layers.
TRUST_API Attested attest_image(oci::ImageStore& store, const oci::Descriptor& image,
                                const PrivateKey& key, const Statement& statement,
                                const AttestOptions& options = {});

}  // namespace trust::sig
