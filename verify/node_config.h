#pragma once
// What a node hook (the containerd verifier, the Docker plugin) reads, all under one root:
// /etc/sigil, or $SIGIL_ROOT (tests; an operator's own layout). Nothing else configures them: no
// flag can weaken what the root says.
//   ROOT/policy.yaml   the trust policy (docs/policy.md); policy.json when there is no .yaml
//   ROOT/cache/        the verified-digest cache (root-owned, not writable by others, or unused)
//   ROOT/auth.json     registry credentials ("auths", as docker's config.json and podman's
//                      auth.json), optional
//   ROOT/ca.pem        CAs to trust for registries' TLS besides the system store, optional

#include <chrono>
#include <filesystem>
#include <optional>

#include "libtrust/registry/client.h"

namespace sigil::cli {

inline constexpr const char* kNodeRootEnv = "SIGIL_ROOT";
inline constexpr const char* kDefaultNodeRoot = "/etc/sigil";

struct NodeConfig {
  std::filesystem::path root;
  std::filesystem::path policy;  // policy.yaml, else policy.json (which may not exist)
  std::filesystem::path cache_dir;
  std::optional<std::filesystem::path> auth_file;  // when it exists
  std::optional<std::filesystem::path> ca_file;    // when it exists

  // The transport for a hook: the credentials and CAs above, every request ending within
  // `deadline` of the first (trust::registry::kHookTimeout for containerd's 10 s).
  trust::registry::TransportOptions transport(std::chrono::milliseconds deadline) const;
};

// The configuration under $SIGIL_ROOT, else /etc/sigil. Reads no file (only checks which exist).
NodeConfig node_config();

}  // namespace sigil::cli
