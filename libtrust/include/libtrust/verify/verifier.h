#pragma once
// The verifier: built once from trusted material, called per image with the signed entities found
// for it and a policy. It does no fetching and decides nothing about the image: it returns one
// verdict per entity, naming every trusted key that verified it (decision.h turns verdicts into
// allow or deny). The rules, per kind of entity:
//  - a cosign .sig layer counts only if (1) it verifies over the exact payload bytes with a
//    trusted key, using the algorithm that key's type dictates; (2) the payload's
//    docker-manifest-digest equals the image digest; (3) the payload carries every required
//    annotation;
//  - a sigstore bundle referrer counts only if (1) its DSSE signature verifies over the PAE with a
//    trusted key (the bundle's key hint and keyid choose nothing); (2) the payloadType is
//    application/vnd.in-toto+json; (3) the statement's predicateType is
//    https://sigstore.dev/cosign/sign/v1 (an attestation of another type never stands in for a
//    signature); (4) the image digest is among its subjects; (5) that subject carries every
//    required annotation. Keyless bundles are refused (not supported yet);
//  - a DSSE attestation (a cosign .att layer) has its signatures checked and the keys that
//    verified it listed, but it never counts as a signature.
// Judged for the attestation purpose (judge_attestation: `sigil verify-attestation`, and the
// policy's required attestations), a DSSE attestation (.att layer) or a bundle referrer whose
// statement is not cosign's image signature counts only if (1) a DSSE signature verifies over
// the PAE with a trusted key (a keyid or key hint chooses nothing); (2) the payloadType is
// application/vnd.in-toto+json (cosign < 1.5 put the predicate type there: refused, as today's
// cosign refuses it); (3) the payload parses strictly as an in-toto statement (sig::Statement:
// no duplicate keys, a known _type, at most sig::kMaxStatementSubjects subjects); (4) the image
// digest is among its subjects. The predicate type that counts is the statement's; a storage
// annotation that disagrees (claimed_predicate_type) is reported, never used. Which types and
// predicate conditions are required is the decision's (decision.h, AttestationRequirement). A
// cosign signature or a bundle signing the image is not an attestation: never verified here.
// An entity with a problem found while reading is never verified.

#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "libtrust/core/digest.h"
#include "libtrust/export.h"
#include "libtrust/sig/entity.h"
#include "libtrust/sig/intoto.h"
#include "libtrust/sig/simple_signing.h"
#include "libtrust/verify/trusted_material.h"

namespace trust::verify {

struct Policy {
  std::map<std::string, std::string> required_annotations;  // -a k=v
  TRUST_API void validate() const;
};

// A trusted key that verified an entity's signature.
struct KeyMatch {
  std::string name;    // TrustedKey::name
  std::string key_id;  // "sha256:<hex>"
};

// The verdict on one signed entity.
struct EntityVerdict {
  sig::EntityKind kind = sig::EntityKind::kCosignSignature;
  std::size_t index = 0;  // position in its layout (.sig layer, or referrer in the listing)
  std::string origin;     // "cosign .sig layer 0" / "referrer manifest sha256:…"
  std::optional<Digest> layer_digest;     // the payload layer / the bundle layer
  std::optional<Digest> referrer_digest;  // bundle: the referrer manifest
  // Every trusted key whose signature check passed, in trusted-material order, each once. Set
  // also when a later rule failed; the entity counts only when `verified`.
  std::vector<KeyMatch> verified_by;
  bool verified = false;
  std::string reason;  // why it was accepted or rejected, one line
  // Set only when the signature itself verified with a trusted key (never from unverified bytes).
  std::optional<sig::SimpleSigningPayload> payload;  // cosign
  std::optional<sig::Statement> statement;           // bundle
  // The statement subject naming the image (bundle; set with `statement` when one does).
  std::optional<sig::StatementSubject> subject;
  // The storage's claim of the predicate type (SignedEntity::claimed_predicate_type): shown only.
  std::optional<std::string> claimed_predicate_type;

  // The id of the first key in verified_by (what "keyId" reports), or nullopt.
  std::optional<std::string> key_id() const {
    if (verified_by.empty()) return std::nullopt;
    return verified_by.front().key_id;
  }
};

class TRUST_API Verifier {
 public:
  // Throws UsageError when `material` is null or holds no key: a verifier that trusts nothing is
  // a mistake. The keys are read once, here.
  explicit Verifier(std::shared_ptr<const TrustedMaterial> material);

  // The verdict on one signed entity, by the rules above: what a caller that streams entities
  // calls for each as it arrives (so no payload is kept once judged). `policy` must be valid.
  EntityVerdict judge(const Digest& image, const sig::SignedEntity& entity,
                      const Policy& policy) const;

  // The verdict on one entity for the attestation purpose, by the attestation rules above:
  // `verified` when it is a verified statement about `image` (of any type); its statement is set
  // from the verified payload once the signature verified.
  EntityVerdict judge_attestation(const Digest& image, const sig::SignedEntity& entity) const;

  // One verdict per entity, in the order given. At most limits::kMaxSignaturesPerImage entities
  // of each kind (LimitError), as the readers cap what they read.
  std::vector<EntityVerdict> verify(const Digest& image,
                                    std::span<const sig::SignedEntity> entities,
                                    const Policy& policy) const;

  const TrustedMaterial& material() const { return *material_; }

 private:
  EntityVerdict judge_cosign(const Digest& image, const sig::CosignSignatureContent& content,
                             const Policy& policy, EntityVerdict v) const;
  EntityVerdict judge_bundle(const Digest& image, const sig::Bundle& bundle, const Policy& policy,
                             EntityVerdict v) const;
  EntityVerdict judge_attestation_as_signature(const sig::DsseEnvelope& envelope,
                                               EntityVerdict v) const;
  // Steps 1-3 shared by bundles and attestations: the DSSE signature with a trusted key, the
  // in-toto payloadType, the statement parsed strictly (at most `max_bytes`). False, with
  // v.reason set, when one fails; `noun` names the envelope in reasons ("bundle's DSSE").
  bool verify_statement(const sig::DsseEnvelope& envelope, std::string_view noun,
                        std::string_view what, std::size_t max_bytes, EntityVerdict& v) const;
  // Step 4: the statement names `image` (v.subject set); false with v.reason set otherwise.
  static bool names_image(const Digest& image, EntityVerdict& v);
  // The keys of every DSSE match, each trusted key once.
  std::vector<KeyMatch> keys_of(const std::vector<sig::DsseMatch>& matches) const;

  std::shared_ptr<const TrustedMaterial> material_;
  std::vector<PublicKey> keys_;  // material_->keys()' keys, in order (for DsseEnvelope::verify)
};

}  // namespace trust::verify
