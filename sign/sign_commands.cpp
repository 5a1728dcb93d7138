#include "commands.h"

namespace sigil::cli {

void register_sign_commands(Program&) {}

}  // namespace sigil::cli
