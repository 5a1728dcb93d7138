// sigil policy validate|explain|export|check: the trust policy file (docs/policy.md).
#include "policy_commands.h"

#include "commands.h"

namespace sigil::cli {

void register_policy_commands(Program& prog) {
  auto* group =
      prog.app.add_subcommand("policy",
                              "Check a trust policy file, explain its verdict on an image, export "
                              "it, or check the images of Kubernetes manifests");
  group->group(kCommandsGroup);
  group->require_subcommand(1);
  add_policy_validate(prog, *group);
  add_policy_explain(prog, *group);
  add_policy_export(prog, *group);
  add_policy_check(prog, *group);
}

}  // namespace sigil::cli
