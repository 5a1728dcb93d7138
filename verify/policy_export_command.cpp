// sigil policy export. PLACEHOLDER until its work lands: refuses.
#include "libtrust/core/error.h"
#include "policy_commands.h"

namespace sigil::cli {

void add_policy_export(Program& prog, CLI::App& group) {
  add_command(prog, group, "export", "(not built yet)", []() -> int {
    throw trust::UnsupportedError("sigil policy export is not built yet");
  });
}

}  // namespace sigil::cli
