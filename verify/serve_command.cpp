// sigil serve: the Kubernetes admission webhook. Placeholder (issue 11: the serve engineer).
#include "commands.h"
#include "libtrust/core/error.h"

namespace sigil::cli {

void register_serve_commands(Program& prog) {
  add_command(prog, prog.app, "serve",
              "Serve the Kubernetes admission webhook (validating and mutating) over HTTPS",
              []() -> int { throw trust::UsageError("sigil serve: not implemented yet"); });
}

}  // namespace sigil::cli
