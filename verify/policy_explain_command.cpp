// sigil policy explain. PLACEHOLDER until its work lands: refuses.
#include "libtrust/core/error.h"
#include "policy_commands.h"

namespace sigil::cli {

void add_policy_explain(Program& prog, CLI::App& group) {
  add_command(prog, group, "explain", "(not built yet)", []() -> int {
    throw trust::UnsupportedError("sigil policy explain is not built yet");
  });
}

}  // namespace sigil::cli
