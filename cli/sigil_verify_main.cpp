// sigil-verify: verification only, no private-key code. What nodes install.
#include "commands.h"

int main(int argc, char** argv) {
  return sigil::cli::run("sigil-verify", "verify container image signatures (no signing)", argc,
                         argv, [](sigil::cli::Program& prog) {
                           sigil::cli::register_verify_commands(prog);
                           sigil::cli::register_attestation_verify_commands(prog);
                           sigil::cli::register_blob_verify_commands(prog);
                           sigil::cli::register_inspect_commands(prog);
                           sigil::cli::register_tree_commands(prog);
                           sigil::cli::register_policy_commands(prog);
                           sigil::cli::register_node_hook_commands(prog);
                           sigil::cli::register_docker_authz_commands(prog);
                         });
}
