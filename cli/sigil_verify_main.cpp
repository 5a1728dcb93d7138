// sigil-verify: verification only, no private-key code. What nodes install.
#include <string>
#include <vector>

#include "commands.h"

int main(int argc, char** argv) {
  // containerd execs each file of its verifier bin_dir (a link to sigil-verify) with its own
  // flags and nothing else: that call is the containerd-verify command.
  std::vector<char*> args(argv, argv + argc);
  std::string hook = "containerd-verify";
  if (sigil::cli::is_containerd_hook_call(argc, argv)) args.insert(args.begin() + 1, hook.data());
  const int count = static_cast<int>(args.size());
  args.push_back(nullptr);
  return sigil::cli::run("sigil-verify", "verify container image signatures (no signing)", count,
                         args.data(), [](sigil::cli::Program& prog) {
                           sigil::cli::register_verify_commands(prog);
                           sigil::cli::register_attestation_verify_commands(prog);
                           sigil::cli::register_blob_verify_commands(prog);
                           sigil::cli::register_inspect_commands(prog);
                           sigil::cli::register_tree_commands(prog);
                           sigil::cli::register_policy_commands(prog);
                           sigil::cli::register_serve_commands(prog);
                           sigil::cli::register_node_hook_commands(prog);
                           sigil::cli::register_docker_authz_commands(prog);
                         });
}
