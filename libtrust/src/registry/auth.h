#pragma once
// Private to libtrust/registry: WWW-Authenticate parsing (RFC 9110 auth-param grammar), docker
// config.json credentials (auths, credHelpers, credsStore) and the docker-credential-* protocol.
// Secrets live in SecretBytes and never reach a message.

#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "libtrust/core/secret.h"

namespace trust::registry::detail {

struct Challenge {
  std::string scheme;                         // lower-cased: "bearer", "basic"
  std::map<std::string, std::string> params;  // names lower-cased, values unquoted
  std::string token68;                        // "Basic abc==" form (rare)
};

// Parses one WWW-Authenticate header value (possibly several challenges). Throws InputError
// naming `what` on malformed input (unterminated quoted-string, missing scheme, over
// limits::kMaxAuthHeaderBytes).
std::vector<Challenge> parse_www_authenticate(std::string_view header, std::string_view what);

struct Credentials {
  std::string username;
  SecretBytes password;
  SecretBytes identity_token;  // OAuth2 refresh token (identitytoken / "<token>" helper user)
  bool empty() const { return username.empty() && password.empty() && identity_token.empty(); }
};

// "https://index.docker.io/v1/" → "docker.io"; "https://host:5000/v2/" → "host:5000".
std::string normalize_registry_key(std::string_view key);

// The server URL docker passes to credential helpers for `registry`.
std::string helper_server_url(std::string_view registry);

// Runs `docker-credential-<helper> get` (PATH lookup, no shell) with `server_url` on stdin.
// nullopt when the helper has no credentials for it. Throws RegistryError naming the helper and
// the registry (never the output) on failure.
std::optional<Credentials> run_credential_helper(const std::string& helper,
                                                 const std::string& server_url);

// Credentials from a docker config.json, loaded lazily and at most once.
class CredentialStore {
 public:
  // `config`: explicit path; else $DOCKER_CONFIG/config.json, else ~/.docker/config.json.
  explicit CredentialStore(std::optional<std::filesystem::path> config);

  // Order: credHelpers[registry], then credsStore, then auths[registry]. nullopt: anonymous.
  // Results (found or not) are cached per registry for the life of the store.
  const Credentials* lookup(const std::string& registry);

 private:
  void load();

  std::optional<std::filesystem::path> explicit_path_;
  bool loaded_ = false;
  std::filesystem::path path_;
  std::map<std::string, Credentials> auths_;
  std::map<std::string, std::string> helpers_;
  std::string store_;
  std::mutex mu_;
  std::map<std::string, std::optional<Credentials>> cache_;
};

}  // namespace trust::registry::detail
