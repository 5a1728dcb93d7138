#include "commands.h"

int main(int argc, char** argv) {
  return sigil::cli::run("sigil", "sign and verify container images and their provenance", argc,
                         argv, [](sigil::cli::Program& prog) {
                           sigil::cli::register_key_commands(prog);
                           sigil::cli::register_sign_commands(prog);
                           sigil::cli::register_attest_commands(prog);
                           sigil::cli::register_blob_sign_commands(prog);
                           sigil::cli::register_verify_commands(prog);
                           sigil::cli::register_attestation_verify_commands(prog);
                           sigil::cli::register_blob_verify_commands(prog);
                           sigil::cli::register_inspect_commands(prog);
                           sigil::cli::register_tree_commands(prog);
                           sigil::cli::register_download_commands(prog);
                           sigil::cli::register_policy_commands(prog);
                           sigil::cli::register_serve_commands(prog);
                           sigil::cli::register_copy_commands(prog);
                           sigil::cli::register_login_commands(prog);
                         });
}
