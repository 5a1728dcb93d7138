// sigil policy explain FILE IMAGE: the policy's verdict on one image and how it was reached.
#include <memory>

#include "policy_commands.h"
#include "policy_run.h"

namespace sigil::cli {
namespace {

struct ExplainArgs {
  std::string policy;
  std::string image;
  OutputFormat output = OutputFormat::kText;
  RegistryFlags registry;
  bool check_blobs = false;
};

}  // namespace

void add_policy_explain(Program& prog, CLI::App& group) {
  auto args = std::make_shared<ExplainArgs>();
  auto* cmd = add_command(
      prog, group, "explain",
      "Explain the policy's verdict on an image: the rule chosen and why, every signature and "
      "attestation considered, each check with its reason: exit 0 allowed, 1 denied, 3 could not "
      "be checked",
      [args] {
        return run_policy_images(PolicyRun{.policy_file = args->policy,
                                           .images = {args->image},
                                           .registry = args->registry,
                                           .check_blobs = args->check_blobs,
                                           .parts = trust::verify::RuleParts::kAll,
                                           .output = args->output,
                                           .explain = true,
                                           .json = JsonStyle::kDocument});
      });
  add_output_option(*cmd, args->output, "the explanation on stderr (in every format)");
  add_registry_options(*cmd, args->registry);
  cmd->add_flag("--check-blobs", args->check_blobs,
                "Also download and hash the image's config and every layer");
  cmd->add_option("FILE", args->policy, "The trust policy file (docs/policy.md)")
      ->required()
      ->type_name("");
  cmd->add_option("IMAGE", args->image, "Image: [docker://]HOST[:PORT]/REPO[:TAG][@DIGEST]")
      ->required()
      ->type_name("");
}

}  // namespace sigil::cli
