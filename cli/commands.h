#pragma once
// Each command group registers its commands on the program. Defined in keys/, sign/, verify/ and
// cli/builtin_commands.cpp.

#include "common.h"

namespace sigil::cli {

void register_key_commands(Program& prog);   // keys/: sigil key generate|public|import|fingerprint
void register_sign_commands(Program& prog);  // sign/: sigil sign
void register_attest_commands(Program& prog);     // sign/: sigil attest
void register_blob_sign_commands(Program& prog);  // sign/: sigil sign-blob, attest-blob
void register_copy_commands(Program& prog);       // sign/: sigil copy
void register_login_commands(Program& prog);      // sign/: sigil login, sigil logout
void register_verify_commands(Program& prog);     // verify/: sigil verify
// verify/: sigil verify-attestation
void register_attestation_verify_commands(Program& prog);
// verify/: sigil download attestation|sbom
void register_download_commands(Program& prog);
// verify/: sigil verify-blob, verify-blob-attestation
void register_blob_verify_commands(Program& prog);
void register_inspect_commands(Program& prog);  // verify/: sigil digest, sigil triangulate
void register_tree_commands(Program& prog);     // verify/: sigil tree
// verify/: sigil policy validate|explain|export
void register_policy_commands(Program& prog);
// verify/: the containerd image-verifier hook (sigil-verify only)
void register_node_hook_commands(Program& prog);
// Whether argv is containerd's call of a verifier (argv[1] is -name, -digest or
// -stdin-media-type): sigil-verify then runs the hook's command with those arguments.
bool is_containerd_hook_call(int argc, char** argv);
// verify/: sigil-verify docker-authz, the Docker Engine authorization plugin (sigil-verify only)
void register_docker_authz_commands(Program& prog);
// verify/: sigil serve, the Kubernetes admission webhook (both programs)
void register_serve_commands(Program& prog);
void register_builtin_commands(Program& prog);  // cli/: version, man, completion (every program)

}  // namespace sigil::cli
