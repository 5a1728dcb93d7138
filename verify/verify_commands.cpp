// sigil verify: check an image's signatures (cosign .sig layers, sigstore bundle referrers)
// against trusted keys; with --policy, judge each image by the trust policy's rule for it.
#include <memory>

#include "commands.h"
#include "libtrust/check/verify_image.h"
#include "libtrust/core/error.h"
#include "libtrust/core/text.h"
#include "libtrust/crypto/key_file.h"
#include "libtrust/registry/registry_store.h"
#include "policy_output.h"
#include "policy_run.h"
#include "verdict.h"

namespace sigil::cli {
namespace {

struct VerifyArgs {
  std::vector<std::string> keys;
  std::vector<std::string> annotations;
  std::vector<std::string> images;
  std::string policy;
  OutputFormat output = OutputFormat::kText;
  RegistryFlags registry;
  bool check_blobs = false;
  bool all = false;
  bool explain = false;
  std::size_t threshold = 1;
  // Given on the command line (the policy refuses them).
  const CLI::Option* threshold_option = nullptr;
  const CLI::Option* all_option = nullptr;
};

// --policy: every image judged by its rule, one verdict each; the policy states the keys,
// threshold and annotations, so the flags that say them are refused.
int run_verify_policy(const VerifyArgs& a) {
  std::vector<std::string> refused;
  if (!a.keys.empty()) refused.push_back("--key");
  if (a.threshold_option->count() > 0) refused.push_back("--threshold");
  if (!a.annotations.empty()) refused.push_back("-a/--annotation");
  if (a.all_option->count() > 0) refused.push_back("--all");
  if (!refused.empty()) {
    std::string names;
    for (const auto& r : refused) names += (names.empty() ? "" : ", ") + r;
    throw trust::UsageError(names +
                            " with --policy: the policy's rule for each image says what it "
                            "needs (see sigil verify --help)");
  }
  if (a.output == OutputFormat::kCosign) {
    throw trust::UsageError("--output cosign with --policy: a policy verdict is text or json");
  }
  return run_policy_images(PolicyRun{.policy_file = a.policy,
                                     .images = a.images,
                                     .registry = a.registry,
                                     .check_blobs = a.check_blobs,
                                     .parts = trust::verify::RuleParts::kAll,
                                     .output = a.output,
                                     .explain = a.explain,
                                     .json = JsonStyle::kLines});
}

int run_verify(const VerifyArgs& a) {
  if (!a.policy.empty()) return run_verify_policy(a);
  if (a.keys.empty()) throw trust::UsageError("--key is required (see sigil verify --help)");
  if (a.explain) throw trust::UsageError("--explain explains a policy verdict: give --policy FILE");
  if (a.images.size() > 1) {
    // As the parser says it for one positional (several are --policy's).
    throw trust::UsageError("unexpected argument '" + trust::excerpt(a.images[1], 64) +
                            "': sigil verify takes IMAGE (see sigil verify --help)");
  }
  auto ref = parse_image_reference(a.images.front());
  auto keys = std::make_shared<trust::verify::FixedKeys>();
  for (const auto& k : a.keys) keys->add(k, trust::load_public_key(k));
  trust::verify::Verifier verifier(std::move(keys));
  trust::verify::Policy policy{.required_annotations = parse_annotations(a.annotations)};
  policy.validate();

  auto source = trust::registry::open_source(ref, transport_options(a.registry));
  // Local images are hashed in full (cheap, and a layout on disk may have been tampered with);
  // for a registry image the signed manifest digest is what binds the content, and every blob
  // is verified against it when it is pulled: downloading the image here only on request.
  trust::check::ImageVerifyOptions options{
      .check_blobs = a.check_blobs || ref.kind() != trust::ReferenceKind::kRegistry,
      .examine_all = a.all,
      .requirement = {.threshold = a.threshold}};
  auto v = trust::check::verify_image(*source, ref, verifier, policy, options);
  print_verification(ref, source->describe(), v, a.output);
  return v.verified() ? kExitOk : kExitVerifyFailed;
}

}  // namespace

void register_verify_commands(Program& prog) {
  auto args = std::make_shared<VerifyArgs>();
  auto* cmd = add_command(prog, prog.app, "verify",
                          "Verify an image's signatures (cosign and sigstore bundle) with trusted "
                          "keys, or images by a trust policy (--policy): exit 0 verified, 1 not",
                          [args] { return run_verify(*args); });
  add_repeatable(*cmd, "--key", args->keys, "KEY",
                 std::string(kPublicKeyHelp) +
                     "; repeatable: any one of them may verify (or --threshold N of them). "
                     "Required without --policy");
  cmd->add_option("--policy", args->policy,
                  "Judge each IMAGE by this trust policy file (docs/policy.md): the rule for its "
                  "repository says the keys, threshold, annotations and attestations; one verdict "
                  "per image, exit 1 if any is denied, else 3 if any could not be checked")
      ->type_name("FILE");
  cmd->add_flag("--explain", args->explain,
                "With --policy: under each verdict, every check and why it passed or failed");
  add_repeatable(*cmd, "-a,--annotation", args->annotations, "KEY=VALUE",
                 "Require this annotation in the signed payload (repeatable, or "
                 "comma-separated)");
  add_output_option(*cmd, args->output,
                    "the report on stderr (in every format; with --policy, json is one verdict "
                    "per line)",
                    /*with_cosign=*/true);
  add_registry_options(*cmd, args->registry);
  cmd->add_flag("--check-blobs", args->check_blobs,
                "For a registry image, also download and hash the config and every layer");
  args->all_option =
      cmd->add_flag("--all", args->all,
                    "Judge every attached signature, also the bundle referrers after a .sig "
                    "signature verified");
  args->threshold_option =
      cmd->add_option(
             "--threshold", args->threshold,
             "Require signatures by this many distinct trusted keys (each --key counted once "
             "however many signatures it verified)")
          ->check(CLI::PositiveNumber.description(""))
          ->type_name("N")
          ->default_str("1");
  cmd->add_option("IMAGE", args->images,
                  std::string(kImageHelp) + "; several with --policy (registry images)")
      ->required()
      ->type_name("");
}

}  // namespace sigil::cli
