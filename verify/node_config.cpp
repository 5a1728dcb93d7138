#include "node_config.h"

#include <cstdlib>

namespace sigil::cli {

trust::registry::TransportOptions NodeConfig::transport(std::chrono::milliseconds deadline) const {
  trust::registry::TransportOptions t;
  t.ca_file = ca_file;
  t.auth_file = auth_file;
  // Never the invoking user's ~/.docker/config.json: the node's credentials are its root's.
  t.docker_config = root / "no-docker-config.json";
  t.timeout = deadline;
  // A connection that does not come up in a quarter of the deadline will not help within it.
  t.connect_timeout = deadline / 4;
  t.stall_timeout = deadline / 4;
  return t;
}

NodeConfig node_config() {
  NodeConfig c;
  const char* env = std::getenv(kNodeRootEnv);
  c.root = (env != nullptr && *env != '\0') ? std::filesystem::path(env)
                                            : std::filesystem::path(kDefaultNodeRoot);
  std::error_code ec;
  c.policy = c.root / "policy.yaml";
  if (!std::filesystem::exists(c.policy, ec) &&
      std::filesystem::exists(c.root / "policy.json", ec)) {
    c.policy = c.root / "policy.json";
  }
  c.cache_dir = c.root / "cache";
  if (std::filesystem::exists(c.root / "auth.json", ec)) c.auth_file = c.root / "auth.json";
  if (std::filesystem::exists(c.root / "ca.pem", ec)) c.ca_file = c.root / "ca.pem";
  return c;
}

}  // namespace sigil::cli
