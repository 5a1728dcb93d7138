#pragma once
// Registry credentials as `sigil login` / `sigil logout` keep them: in the docker config
// (TransportOptions::docker_config, else $DOCKER_CONFIG/config.json, else ~/.docker/config.json),
// as `docker login` and `cosign login` write it: auths[REGISTRY].auth = base64(user:password),
// the file rewritten atomically with mode 0600 and every other field kept. When the caller names
// an auth file (TransportOptions::auth_file, else $REGISTRY_AUTH_FILE), that file is the one
// written, as `podman login --authfile` does: it is also the only one read then. When the file
// names a credential helper for the registry (credHelpers, credsStore), the helper stores and
// erases them (docker-credential-* store / erase) and the file is left as it is.

#include <filesystem>
#include <string>

#include "libtrust/core/secret.h"
#include "libtrust/export.h"
#include "libtrust/registry/client.h"

namespace trust::registry {

// Checks the credentials against the registry (GET /v2/ answered with them alone, through its
// Basic or Bearer challenge) and only then stores them. Returns the file written (or the one
// naming the helper that stored them). Throws RegistryError when the registry refuses them,
// UsageError for a malformed registry or username, IoError when the file cannot be written;
// nothing is written on failure.
TRUST_API std::filesystem::path login(const std::string& registry, const std::string& username,
                                      const SecretBytes& password, const TransportOptions& options);

// The file login writes and logout edits for `options`, as the comment at the top says (login
// returns it too; logout's caller names it). UsageError when none can be named (no HOME).
TRUST_API std::filesystem::path login_file(const TransportOptions& options);

// Removes the registry's entries (any spelling: "host", "https://host/") from that file, and from
// its credential helper; false when neither had any.
TRUST_API bool logout(const std::string& registry, const TransportOptions& options);

}  // namespace trust::registry
