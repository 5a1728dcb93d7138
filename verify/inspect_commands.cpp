#include "commands.h"

namespace sigil::cli {

void register_inspect_commands(Program&) {}

}  // namespace sigil::cli
