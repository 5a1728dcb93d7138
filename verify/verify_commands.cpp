#include "commands.h"

namespace sigil::cli {

void register_verify_commands(Program&) {}

}  // namespace sigil::cli
