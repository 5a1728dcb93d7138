// sigil policy validate. PLACEHOLDER until its work lands: refuses.
#include "libtrust/core/error.h"
#include "policy_commands.h"

namespace sigil::cli {

void add_policy_validate(Program& prog, CLI::App& group) {
  add_command(prog, group, "validate", "(not built yet)", []() -> int {
    throw trust::UnsupportedError("sigil policy validate is not built yet");
  });
}

}  // namespace sigil::cli
