// sigil verify-blob, sigil verify-blob-attestation: a release file checked against a detached
// signature, a sigstore bundle (sigil's, cosign's, sigstore-js's) or a DSSE attestation, with
// trusted keys. Exit 0 verified, 1 not (with the reason), 3 for unreadable or malformed input.
#include <memory>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "libtrust/core/error.h"
#include "libtrust/core/file.h"
#include "libtrust/core/limits.h"
#include "libtrust/crypto/key_file.h"
#include "libtrust/sig/blob.h"
#include "libtrust/sig/predicate_type.h"
#include "libtrust/verify/conditions.h"

namespace sigil::cli {
namespace {

struct VerifyBlobArgs {
  std::vector<std::string> keys;
  std::string signature;
  std::string bundle;
  std::string type;                // verify-blob-attestation only
  std::vector<std::string> where;  // verify-blob-attestation only
  std::string max_severity;        // verify-blob-attestation only
  std::string file;
  OutputFormat output = OutputFormat::kText;
};

std::string input_name(const std::string& path) {
  return path == "-" ? std::string("standard input") : path;
}

// Exactly one of --signature / --bundle: which file, and whether it is a bundle.
const std::string& signature_source(const VerifyBlobArgs& a) {
  if (a.signature.empty() == a.bundle.empty()) {
    throw trust::UsageError(a.signature.empty() ? "give --signature FILE or --bundle FILE"
                                                : "give --signature or --bundle, not both");
  }
  return a.bundle.empty() ? a.signature : a.bundle;
}

std::vector<trust::PublicKey> load_keys(const VerifyBlobArgs& a) {
  std::vector<trust::PublicKey> keys;
  for (const auto& k : a.keys) keys.push_back(trust::load_public_key(k));
  return keys;
}

// The report: text on stderr, or one JSON document on stdout.
int report(const trust::sig::Blob& blob, const trust::sig::BlobVerification& v,
           const std::string& source, OutputFormat output,
           const std::vector<trust::verify::ConditionResult>& conditions = {}) {
  if (output == OutputFormat::kJson) {
    nlohmann::ordered_json j{{"file", blob.name},
                             {"digest", blob.sha256.str()},
                             {"size", blob.size},
                             {"signatureFile", source},
                             {"verified", v.verified}};
    j["keyId"] = v.verified ? nlohmann::ordered_json(v.key_id) : nlohmann::ordered_json(nullptr);
    j["reason"] = v.verified ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(v.reason);
    j["unchecked"] = v.unchecked;
    if (v.statement) {
      j["predicateType"] = v.statement->predicate_type;
      j["statement"] = nlohmann::ordered_json::parse(v.statement->serialize());
    }
    if (!conditions.empty()) {
      auto& list = j["conditions"] = nlohmann::ordered_json::array();
      for (const auto& c : conditions) {
        list.push_back({{"condition", c.condition}, {"holds", c.holds}, {"reason", c.reason}});
      }
    }
    print_json(j);
  } else {
    say("Verifying " + blob.name + " (" + blob.sha256.str() + ") with " + source);
    for (const auto& u : v.unchecked) say("  unchecked: " + u);
    for (const auto& c : conditions) {
      say("  " + c.condition + ": " + (c.holds ? "holds: " : "fails: ") + c.reason);
    }
    if (v.verified) {
      if (v.statement) say("  predicateType: " + v.statement->predicate_type);
      say("VERIFIED: signed by " + v.key_id);
    } else {
      say("NOT VERIFIED: " + v.reason);
    }
  }
  return v.verified ? kExitOk : kExitVerifyFailed;
}

trust::sig::BlobRead read_mode(const std::vector<trust::PublicKey>& keys) {
  for (const auto& k : keys) {
    if (trust::sig::needs_whole_blob(k.type())) return trust::sig::BlobRead::kWhole;
  }
  return trust::sig::BlobRead::kDigestOnly;
}

int run_verify_blob(const VerifyBlobArgs& a) {
  const auto& source = signature_source(a);
  auto keys = load_keys(a);
  const auto text = trust::read_operator_input(
      source,
      a.bundle.empty() ? trust::limits::kMaxBlobSignatureFileBytes : trust::sig::kMaxBundleBytes,
      a.bundle.empty() ? "the signature" : "the bundle");
  const auto name = input_name(source);
  auto signature = a.bundle.empty() ? trust::sig::BlobSignature::detached(text.view(), name)
                                    : trust::sig::BlobSignature::from_bundle(text.view(), name);
  const auto blob = trust::sig::read_blob(a.file, read_mode(keys));
  return report(blob, trust::sig::verify_blob(blob, signature, keys), name, a.output);
}

int run_verify_blob_attestation(const VerifyBlobArgs& a) {
  (void)trust::sig::accepted_predicate_types(a.type);  // an unknown --type is a usage error first
  const auto conditions = trust::verify::PredicateConditions::parse(
      a.where, a.max_severity.empty()
                   ? std::nullopt
                   : std::optional(trust::verify::parse_severity(a.max_severity)));
  const auto& source = signature_source(a);
  auto keys = load_keys(a);
  const auto text = trust::read_operator_input(
      source, a.bundle.empty() ? trust::limits::kMaxEnvelopeFileBytes : trust::sig::kMaxBundleBytes,
      a.bundle.empty() ? "the signature" : "the bundle");
  const auto name = input_name(source);
  std::vector<std::string> unchecked;
  auto envelope = a.bundle.empty()
                      ? trust::sig::attestation_from_envelope_file(text.view(), name)
                      : trust::sig::attestation_from_bundle(text.view(), name, &unchecked);
  const auto blob = trust::sig::read_blob(a.file, trust::sig::BlobRead::kDigestOnly);
  auto v = trust::sig::verify_blob_attestation(blob, envelope, a.type, keys, name);
  v.unchecked = std::move(unchecked);
  // Conditions hold or not only on a predicate whose signature verified; all must hold.
  std::vector<trust::verify::ConditionResult> results;
  if (v.verified && v.statement) {
    results = conditions.evaluate(v.statement->predicate_json);
    for (const auto& r : results) {
      if (!r.holds) {
        v.verified = false;
        v.reason = "the predicate does not satisfy " + r.condition + ": " + r.reason;
        v.statement.reset();  // what did not pass is not handed on
        break;
      }
    }
  }
  return report(blob, v, name, a.output, results);
}

void add_common(CLI::App& cmd, VerifyBlobArgs& a, const std::string& signature_help) {
  add_repeatable(cmd, "--key", a.keys, "KEY",
                 std::string(kPublicKeyHelp) + "; repeatable: any one of them may verify")
      ->required();
  cmd.add_option("--signature", a.signature, signature_help)->type_name("FILE");
  add_output_option(cmd, a.output, "the report on stderr");
  cmd.add_option("FILE", a.file, "The file to verify, or - for standard input")
      ->required()
      ->type_name("");
}

}  // namespace

void register_blob_verify_commands(Program& prog) {
  auto v = std::make_shared<VerifyBlobArgs>();
  auto* verify = add_command(prog, prog.app, "verify-blob",
                             "Verify a file's signature (detached, or a sigstore bundle) with "
                             "trusted keys: exit 0 verified, 1 not",
                             [v] { return run_verify_blob(*v); });
  add_common(*verify, *v, "The detached signature: a file holding its base64, or -");
  verify
      ->add_option("--bundle", v->bundle,
                   "A sigstore bundle (v0.1-v0.3, messageSignature) instead of --signature")
      ->type_name("FILE");

  auto t = std::make_shared<VerifyBlobArgs>();
  auto* att = add_command(prog, prog.app, "verify-blob-attestation",
                          "Verify an attestation about a file (DSSE envelope or sigstore bundle) "
                          "with trusted keys: exit 0 verified, 1 not",
                          [t] { return run_verify_blob_attestation(*t); });
  add_common(*att, *t, "The DSSE envelope: a file holding its JSON or base64 of it, or -");
  att->add_option("--bundle", t->bundle,
                  "A sigstore bundle (v0.1-v0.3, dsseEnvelope) instead of --signature")
      ->type_name("FILE");
  std::string names;
  for (const auto& n : trust::sig::predicate_type_names()) names += (names.empty() ? "" : "|") + n;
  att->add_option("--type", t->type,
                  "Required predicate type, as the signed statement names it: " + names +
                      " or an absolute URI")
      ->required()
      ->type_name("TYPE");
  add_repeatable(*att, "--where", t->where, "COND",
                 "A condition on the verified predicate, POINTER=VALUE or POINTER~=REGEX "
                 "(POINTER: an RFC 6901 JSON pointer; REGEX: RE2, matching the whole string); "
                 "repeatable: all must hold");
  att->add_option("--max-severity", t->max_severity,
                  "No vulnerability finding above LEVEL (UNKNOWN, LOW, MEDIUM, HIGH, CRITICAL) "
                  "in a vuln predicate or Trivy-style results; none found fails")
      ->type_name("LEVEL");
}

}  // namespace sigil::cli
