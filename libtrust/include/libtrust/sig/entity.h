#pragma once
// A signed entity: one thing found attached to an image that a trusted key may have signed, as it
// was read and before any verification. Whatever layout it was stored in (cosign's .sig or .att
// tags, an OCI 1.1 referrer), the Verifier judges entities, never storage structs. Each records
// where it was read (`origin`) and any problem found while reading: an entity with a problem is
// reported but never verified. Its content is one alternative per kind; there will be more
// (keyless bundles, notation signatures).

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "libtrust/core/bytes.h"
#include "libtrust/core/digest.h"
#include "libtrust/export.h"
#include "libtrust/sig/bundle.h"
#include "libtrust/sig/dsse.h"

namespace trust::sig {

enum class EntityKind {
  kCosignSignature,  // a simple-signing payload and its raw signature (a cosign .sig layer)
  kDsseAttestation,  // a DSSE envelope, as a cosign .att layer holds it
  kBundle,           // a sigstore bundle (an OCI 1.1 referrer's layer)
};
// "cosign" / "attestation" / "bundle" (the "format" of a verdict in sigil's JSON).
TRUST_API std::string_view to_string(EntityKind kind);

// Which kinds to collect (sig/collect.h), or a check needs (verify/policy_check.h).
struct EntityKinds {
  bool cosign_signatures = true;  // the .sig tag's layers
  bool bundles = true;            // the sigstore bundle referrers
  // The .att tag's layers (DSSE attestations). Off by default: `sigil verify` reads signatures
  // only and makes no request for attestations.
  bool attestations = false;
};

// The content of each kind, as read (nothing in it is verified).
struct CosignSignatureContent {
  Bytes payload;    // the simple-signing payload, exact bytes
  Bytes signature;  // the decoded signature
};
struct DsseAttestationContent {
  DsseEnvelope envelope;
};
struct BundleEntityContent {
  Bundle bundle;
};

struct SignedEntity {
  EntityKind kind = EntityKind::kCosignSignature;
  std::size_t index = 0;  // position where it was stored (.sig/.att layer, referrer listed)
  std::string origin;     // "cosign .sig layer 0", "referrer manifest sha256:…", ".att layer 2"
  std::optional<Digest> layer_digest;     // the layer holding the payload, envelope or bundle
  std::optional<Digest> referrer_digest;  // bundle: the referrer manifest
  // Why it cannot be valid; set exactly when `content` is empty (monostate).
  std::optional<std::string> problem;
  std::variant<std::monostate, CosignSignatureContent, DsseAttestationContent, BundleEntityContent>
      content;
  // The predicate type the storage claims (a .att layer's "predicateType" annotation, a
  // referrer's dev.sigstore.bundle.predicateType): shown, never trusted.
  std::optional<std::string> claimed_predicate_type = {};
};

// Constructors that keep kind, content and problem consistent.
TRUST_API SignedEntity cosign_signature_entity(std::size_t index, Digest layer, Bytes payload,
                                               Bytes signature);
TRUST_API SignedEntity bundle_entity(std::size_t index, std::string origin,
                                     std::optional<Digest> referrer, std::optional<Digest> layer,
                                     Bundle bundle);
// A DSSE attestation read from the envelope JSON in `json` (a cosign .att layer's blob): parsed
// strictly (DsseEnvelope::parse); a malformed envelope is the entity's problem, not an exception.
TRUST_API SignedEntity dsse_attestation_entity(std::size_t index, std::string origin,
                                               std::optional<Digest> layer, ByteView json);
// An entity that cannot be valid, of `kind`, with `problem` set.
TRUST_API SignedEntity problem_entity(EntityKind kind, std::size_t index, std::string origin,
                                      std::optional<Digest> layer, std::optional<Digest> referrer,
                                      std::string problem);

// "cosign .sig layer N": the origin of a cosign signature entity.
TRUST_API std::string cosign_signature_origin(std::size_t index);

}  // namespace trust::sig
