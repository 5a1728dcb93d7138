// sigil verify-attestation: check that an image carries a verified attestation of a type (cosign
// .att layers, sigstore bundle referrers) whose predicate satisfies the conditions given; with
// --policy, the attestations the trust policy's rule for the image requires.
#include <memory>

#include "commands.h"
#include "libtrust/check/report.h"
#include "libtrust/check/verify_attestations.h"
#include "libtrust/core/error.h"
#include "libtrust/crypto/key_file.h"
#include "libtrust/registry/registry_store.h"
#include "libtrust/sig/predicate_type.h"
#include "policy_run.h"

namespace sigil::cli {
namespace {

struct VerifyAttestationArgs {
  std::vector<std::string> keys;
  std::string type = "custom";
  std::vector<std::string> where;
  std::string max_severity;
  std::string image;
  std::string policy;
  OutputFormat output = OutputFormat::kText;
  RegistryFlags registry;
  bool check_blobs = false;
  bool explain = false;
  const CLI::Option* type_option = nullptr;  // given on the command line
};

// --policy: exactly the attestations part of the image's rule (its signatures are
// `verify --policy`'s); the flags that state a requirement are the policy's.
int run_verify_attestation_policy(const VerifyAttestationArgs& a) {
  std::vector<std::string> refused;
  if (!a.keys.empty()) refused.push_back("--key");
  if (a.type_option->count() > 0) refused.push_back("--type");
  if (!a.where.empty()) refused.push_back("--where");
  if (!a.max_severity.empty()) refused.push_back("--max-severity");
  if (!refused.empty()) {
    std::string names;
    for (const auto& r : refused) names += (names.empty() ? "" : ", ") + r;
    throw trust::UsageError(names +
                            " with --policy: the policy's rule for the image says which "
                            "attestations it needs (see sigil verify-attestation --help)");
  }
  return run_policy_images(PolicyRun{.policy_file = a.policy,
                                     .images = {a.image},
                                     .registry = a.registry,
                                     .check_blobs = a.check_blobs,
                                     .parts = trust::verify::RuleParts::kAttestations,
                                     .output = a.output,
                                     .explain = a.explain,
                                     .json = JsonStyle::kLines});
}

int run_verify_attestation(const VerifyAttestationArgs& a) {
  if (!a.policy.empty()) return run_verify_attestation_policy(a);
  if (a.keys.empty()) {
    throw trust::UsageError("--key is required (see sigil verify-attestation --help)");
  }
  if (a.explain) {
    throw trust::UsageError("--explain explains a policy verdict: give --policy FILE");
  }
  auto ref = parse_image_reference(a.image);
  std::optional<trust::verify::Severity> max_severity;
  if (!a.max_severity.empty()) max_severity = trust::verify::parse_severity(a.max_severity);
  trust::verify::AttestationRequirement requirement{
      .type = a.type,
      .conditions = trust::verify::PredicateConditions::parse(a.where, max_severity)};
  requirement.validate();
  auto keys = std::make_shared<trust::verify::FixedKeys>();
  for (const auto& k : a.keys) keys->add(k, trust::load_public_key(k));
  trust::verify::Verifier verifier(std::move(keys));

  auto source = trust::registry::open_source(ref, transport_options(a.registry));
  // As verify: local images are hashed in full, a registry image's blobs only on request.
  trust::check::AttestationVerifyOptions options{
      .check_blobs = a.check_blobs || ref.kind() != trust::ReferenceKind::kRegistry};
  auto v = trust::check::verify_attestations(*source, ref, verifier, requirement, options);
  if (a.output == OutputFormat::kJson) {
    // The lines are ASCII JSON already (report.h): printed as they are, one per line.
    for (const auto& line : trust::check::attestation_report_json_lines(v)) result(line);
  }
  for (const auto& line : trust::check::attestation_report_lines(ref, source->describe(), v)) {
    say(line);
  }
  return v.verified() ? kExitOk : kExitVerifyFailed;
}

}  // namespace

void register_attestation_verify_commands(Program& prog) {
  auto args = std::make_shared<VerifyAttestationArgs>();
  auto* cmd = add_command(
      prog, prog.app, "verify-attestation",
      "Verify that an image carries an attestation of a type, signed by a trusted key, naming the "
      "image, whose predicate satisfies every --where: exit 0 verified, 1 not",
      [args] { return run_verify_attestation(*args); });
  add_repeatable(*cmd, "--key", args->keys, "KEY",
                 std::string(kPublicKeyHelp) +
                     "; repeatable: any one of them may verify. Required without --policy");
  cmd->add_option("--policy", args->policy,
                  "Check the attestations this trust policy file's rule for the image requires "
                  "(docs/policy.md), not its signatures (sigil verify --policy checks both)")
      ->type_name("FILE");
  cmd->add_flag("--explain", args->explain,
                "With --policy: under the verdict, every attestation considered and why");
  std::string names;
  for (const auto& n : trust::sig::predicate_type_names()) names += (names.empty() ? "" : ", ") + n;
  args->type_option =
      cmd->add_option(
             "--type", args->type,
             "Predicate type required: " + names +
                 ", or an absolute URI (the type inside the signed statement counts, never "
                 "an annotation)")
          ->type_name("TYPE")
          ->default_str("custom");
  add_repeatable(*cmd, "--where", args->where, "POINTER=VALUE|POINTER~=REGEX",
                 "A condition on the predicate (RFC 6901 pointer; ~= is an RE2 full match); "
                 "repeatable, all must hold");
  cmd->add_option("--max-severity", args->max_severity,
                  "No vulnerability finding above this level (UNKNOWN, LOW, MEDIUM, HIGH, "
                  "CRITICAL) in a vuln or Trivy-style predicate")
      ->type_name("LEVEL");
  add_output_option(*cmd, args->output,
                    "the report on stderr (json: each counted statement on stdout, one per line; "
                    "with --policy, the verdict)");
  add_registry_options(*cmd, args->registry);
  cmd->add_flag("--check-blobs", args->check_blobs,
                "For a registry image, also download and hash the config and every layer");
  cmd->add_option("IMAGE", args->image, kImageHelp)->required()->type_name("");
}

}  // namespace sigil::cli
