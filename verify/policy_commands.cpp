// sigil policy validate|explain|export: the trust policy file (docs/policy.md).
#include "policy_commands.h"

#include "commands.h"

namespace sigil::cli {

void register_policy_commands(Program& prog) {
  auto* group = prog.app.add_subcommand(
      "policy", "Check a trust policy file, explain its verdict on an image, or export it");
  group->group(kCommandsGroup);
  group->require_subcommand(1);
  add_policy_validate(prog, *group);
  add_policy_explain(prog, *group);
  add_policy_export(prog, *group);
}

}  // namespace sigil::cli
