#pragma once
// Each command group registers its subcommands on the program. Defined in keys/, sign/, verify/.

#include "common.h"

namespace sigil::cli {

void register_key_commands(Program& prog);   // keys/: sigil key generate|public|import|fingerprint
void register_sign_commands(Program& prog);  // sign/: sigil sign
void register_verify_commands(Program& prog);   // verify/: sigil verify
void register_inspect_commands(Program& prog);  // verify/: sigil digest
void register_tree_commands(Program& prog);     // verify/: sigil tree
void register_copy_commands(Program& prog);     // sign/: sigil copy

}  // namespace sigil::cli
