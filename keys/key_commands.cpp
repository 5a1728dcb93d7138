#include "commands.h"

namespace sigil::cli {

void register_key_commands(Program&) {}

}  // namespace sigil::cli
