// sigil policy check --policy P -f FILE…: placeholder (issue 11: the workload engineer).
#include "commands.h"
#include "libtrust/core/error.h"
#include "policy_commands.h"

namespace sigil::cli {

void add_policy_check(Program& prog, CLI::App& group) {
  add_command(prog, group, "check",
              "Check every image of Kubernetes manifests against the trust policy, as the "
              "admission webhook would",
              []() -> int { throw trust::UsageError("sigil policy check: not implemented yet"); });
}

}  // namespace sigil::cli
