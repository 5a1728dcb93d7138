#pragma once
// The trust policy: one file (docs/policy.md) saying, per image repository, what an image must
// carry to be allowed. The CLI (`sigil verify --policy`, `sigil policy …`), the node hooks and the
// admission server all load it here and decide with the one engine (policy_check.h).
//
// The model, as the file states it:
//  - keys: a table of named public keys (a file, read relative to the policy's directory, or
//    inline PEM). Rules and required attestations name the keys they trust; a key is loaded once.
//  - rules: each matches image repositories by glob and says what they need: an action (verify,
//    accept, reject), signatures by `threshold` distinct keys of those it names, required
//    annotations in the signed payload, required attestations (a type, the keys that may sign it,
//    `where` conditions as `verify-attestation` takes them) and a mode (enforce, warn, audit).
//  - default: the rule for a repository no glob matches. Without one such an image is denied.
// Globs match the repository name only ("registry.example.com/team/app", as Reference::
// repository_name() spells it: Docker Hub short names are normalised to docker.io/library/…),
// never the tag or digest: a tag is mutable and must not choose the rule an image is judged by.
// `*` and `?` stay inside one path segment, `**` (a whole segment) crosses segments. The most
// specific matching glob wins: an exact name, then more literal characters, then fewer `**`,
// then fewer `*` and `?`; what is still tied goes to the rule written first (explain says so).
//
// Room for what comes next: keyless identities (certificate subject and issuer) and notation x509
// trust will be further fields of a rule (`identities`, `x509`) counted toward the same
// threshold; no field here changes meaning when they arrive.

#include <cstddef>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "libtrust/crypto/keys.h"
#include "libtrust/export.h"
#include "libtrust/verify/conditions.h"
#include "libtrust/verify/decision.h"
#include "libtrust/verify/verifier.h"

namespace trust::verify {

// What a rule does with an image it matches.
enum class RuleAction {
  kVerify,  // the image needs the signatures, annotations and attestations the rule states
  kAccept,  // allowed without any check (containers/image's insecureAcceptAnything)
  kReject,  // always denied
};
// What a rule's failure does.
enum class RuleMode {
  kEnforce,  // a failed check denies the image
  kWarn,     // a failed check allows it with a warning the user sees
  kAudit,    // a failed check allows it and is only recorded (logs, audit annotations)
};
TRUST_API std::string_view to_string(RuleAction action);  // "verify", "accept", "reject"
TRUST_API std::string_view to_string(RuleMode mode);      // "enforce", "warn", "audit"

// Where something was written in the policy file (1-based; 0 when built in code).
struct SourcePosition {
  std::size_t line = 0;
  std::size_t column = 0;
};

// A public key the policy trusts, under the name the policy gives it.
struct PolicyKey {
  std::string name;
  PublicKey key;
  std::optional<std::filesystem::path> file;  // where it was read; nullopt for inline PEM
  SourcePosition at;
  std::string key_id() const { return key.key_id().str(); }
};

// An attestation a rule requires.
struct RequiredAttestation {
  std::string type;                // a predicate type's short name or URI (sig/predicate_type.h)
  std::vector<std::string> keys;   // names of policy keys that may sign it; empty: the rule's keys
  std::vector<std::string> where;  // as given ("/buildDefinition/buildType=https://…")
  std::optional<Severity> max_severity;  // as given
  SourcePosition at;
};

struct PolicyRule {
  std::string name;                // unique in the policy; "default" for the default rule
  std::vector<std::string> match;  // globs; empty only for the default rule
  RuleAction action = RuleAction::kVerify;
  RuleMode mode = RuleMode::kEnforce;
  std::vector<std::string> keys;  // names of policy keys whose signatures count
  std::size_t threshold = 1;      // distinct keys among `keys` that must each have signed
  std::map<std::string, std::string> annotations;  // required in the signed payload (-a k=v)
  std::vector<RequiredAttestation> attestations;   // each must be met
  SourcePosition at;
  // Positions of the rule's fields as written ("threshold", "keys", "match[1]"), for messages.
  std::map<std::string, SourcePosition> field_at;
};

// What the admission server (check/admission.h) does with an object of a kind it does not read
// (check/kube_workload.h's table): `admission: {unknownKinds: deny}` (the default) or `allow`.
enum class UnknownKinds { kDeny, kAllow };
TRUST_API std::string_view to_string(UnknownKinds unknown_kinds);  // "deny", "allow"
struct AdmissionSettings {
  UnknownKinds unknown_kinds = UnknownKinds::kDeny;
  SourcePosition at;  // of `unknownKinds` (0 when not written)
};

// A policy as read, before its meaning is checked (TrustPolicy::build). The file reader fills it;
// tests and tools may build one in code.
struct PolicyDocument {
  std::string source;  // how messages name the file ("/etc/sigil/policy.yaml"); "policy" if empty
  // sha256 over every byte the policy was read from (the file, then each key file, in order);
  // empty: build derives it from the document itself. The verified-digest cache is dropped when
  // it changes.
  std::string content_digest;
  std::vector<std::filesystem::path> files;  // every file read: the policy, then each key file
  std::vector<PolicyKey> keys;
  std::vector<PolicyRule> rules;  // in file order
  std::optional<PolicyRule> default_rule;
  AdmissionSettings admission;
};

// Which rule an image repository falls under, and why.
struct RuleSelection {
  const PolicyRule* rule = nullptr;  // nullptr: no glob matched and there is no default
  std::string glob;                  // the glob that won; empty for the default or no rule
  // One line: "rule 'team' (glob registry.example.com/team/*; most specific of 2 matching)",
  // "the default rule (no glob matched)", "no rule matched and the policy has no default".
  std::string reason;
};

class TRUST_API TrustPolicy {
 public:
  // Reads a policy file: YAML (through yaml-cpp) or JSON, strictly. Unknown fields, duplicate
  // keys or rules, unreadable keys, bad globs, unknown key names and impossible thresholds are
  // refused here with an InputError "FILE:LINE:COLUMN: FIELD: what is wrong" (NotFoundError for
  // a file that does not exist). Key files are read relative to the policy's directory.
  static TrustPolicy load(const std::filesystem::path& file);
  // The same from text; `source` names it in messages, `base_dir` is where key files are read.
  static TrustPolicy parse(std::string_view text, std::string_view source,
                           const std::filesystem::path& base_dir);
  // Checks the document's meaning (what load checks after parsing) and builds the policy:
  // InputError naming source, position and field for a duplicate rule name or glob, a bad glob, a
  // key name that is not in `keys`, a threshold of 0 or above the distinct keys a rule names, a
  // verify rule with no keys, an accept or reject rule with keys, an invalid attestation type or
  // condition, a default rule with globs.
  static TrustPolicy build(PolicyDocument document);

  const std::string& source() const;
  std::span<const PolicyKey> keys() const;
  std::span<const PolicyRule> rules() const;  // file order, without the default
  const PolicyRule* default_rule() const;
  const PolicyKey* key(std::string_view name) const;
  std::span<const std::filesystem::path> files() const;
  const AdmissionSettings& admission() const;

  // The rule for a registry repository name ("registry.example.com/team/app"; no tag or digest).
  // The host is compared case-insensitively (as registries' host names are).
  RuleSelection select(std::string_view repository_name) const;

  // The verifier for a rule's signatures (trusting exactly the keys it names, under their policy
  // names) and for one of its required attestations (the keys that may sign it). nullptr for a
  // rule that verifies nothing (accept, reject). `rule` must be one of this policy's.
  std::shared_ptr<const Verifier> signature_verifier(const PolicyRule& rule) const;
  std::shared_ptr<const Verifier> attestation_verifier(const PolicyRule& rule,
                                                       std::size_t attestation) const;
  // The requirement one of a rule's attestations states (type and parsed conditions).
  const AttestationRequirement& attestation_requirement(const PolicyRule& rule,
                                                        std::size_t attestation) const;

  // "sha256:<hex>" over the bytes the policy was read from (PolicyDocument::content_digest).
  const std::string& content_digest() const;
  // "sha256:<hex>" over what a rule means: its action, mode, threshold, annotations, attestations
  // and the key id of every key it trusts (not their names, not its position in the file). Part
  // of the verified-digest cache's key, with the image digest.
  const std::string& rule_digest(const PolicyRule& rule) const;

 private:
  struct Impl;
  explicit TrustPolicy(std::shared_ptr<const Impl> impl);
  std::shared_ptr<const Impl> impl_;
};

// Whether `glob` (the policy's glob syntax above) matches `repository_name`. `glob` must be valid.
TRUST_API bool glob_matches(std::string_view glob, std::string_view repository_name);
// Why `glob` is not a valid repository glob (one line), or nullopt when it is.
TRUST_API std::optional<std::string> glob_problem(std::string_view glob);

}  // namespace trust::verify
