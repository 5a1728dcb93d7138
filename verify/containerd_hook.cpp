// The containerd image-verifier hook. PLACEHOLDER until its work lands.
#include "commands.h"

namespace sigil::cli {

void register_node_hook_commands(Program&) {}

}  // namespace sigil::cli
