#include "commands.h"
namespace sigil::cli {
void register_key_commands(Program&) {}
void register_sign_commands(Program&) {}
void register_verify_commands(Program&) {}
void register_inspect_commands(Program&) {}
}
