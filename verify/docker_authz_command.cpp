// sigil-verify docker-authz. PLACEHOLDER until its work lands.
#include "commands.h"

namespace sigil::cli {

void register_docker_authz_commands(Program&) {}

}  // namespace sigil::cli
