#pragma once
// Registry credentials as `sigil login` / `sigil logout` keep them: in the docker config
// (TransportOptions::docker_config, else $DOCKER_CONFIG/config.json, else ~/.docker/config.json),
// as `docker login` and `cosign login` write it: auths[REGISTRY].auth = base64(user:password),
// the file rewritten atomically with mode 0600 and every other field kept.

#include <filesystem>
#include <string>

#include "libtrust/core/secret.h"
#include "libtrust/export.h"
#include "libtrust/registry/client.h"

namespace trust::registry {

// Checks the credentials against the registry (GET /v2/ answered with them, through its Basic or
// Bearer challenge) and only then stores them. Returns the file written. Throws RegistryError
// when the registry refuses them, IoError when the file cannot be written.
TRUST_API std::filesystem::path login(const std::string& registry, const std::string& username,
                                      const SecretBytes& password, const TransportOptions& options);

// Removes the registry's entry from the docker config; false when it had none.
TRUST_API bool logout(const std::string& registry, const TransportOptions& options);

}  // namespace trust::registry
