#pragma once
// Private to libtrust/registry: WWW-Authenticate parsing (RFC 9110 auth-param grammar), registry
// credentials from containers auth.json and docker config.json files (auths, credHelpers,
// credsStore) and the docker-credential-* protocol.
// Secrets live in SecretBytes and never reach a message.

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "libtrust/core/secret.h"
#include "libtrust/registry/client.h"

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

// The files credentials are read from, in order, as podman and skopeo read them
// (containers-auth.json(5)):
//  - the files the caller names, alone: TransportOptions::auth_file (--authfile) or else
//    $REGISTRY_AUTH_FILE (both must exist), then TransportOptions::docker_config if set;
//  - otherwise $XDG_RUNTIME_DIR/containers/auth.json (/run/containers/UID/auth.json without
//    XDG_RUNTIME_DIR), ${XDG_CONFIG_HOME:-~/.config}/containers/auth.json, and the docker config:
//    $DOCKER_CONFIG/config.json, else ~/.docker/config.json. Missing files are skipped.
// All have the same format: auths, credHelpers, credsStore.
struct CredentialFile {
  std::filesystem::path path;
  bool must_exist = false;  // named by --authfile or REGISTRY_AUTH_FILE
  std::string named_by;     // "--authfile ", "REGISTRY_AUTH_FILE=", or empty
};
std::vector<CredentialFile> credential_files(const TransportOptions& options);

// The file `sigil login` writes and `sigil logout` edits: the auth file the caller names
// (--authfile, REGISTRY_AUTH_FILE) as podman login does, else the docker config as docker login
// and cosign login do (TransportOptions::docker_config, $DOCKER_CONFIG/config.json,
// ~/.docker/config.json). Throws UsageError when none can be named (no HOME).
std::filesystem::path login_file(const TransportOptions& options);

// One credential file parsed: what lookup uses, and what login must keep.
struct CredentialEntries {
  std::map<std::string, Credentials> auths;    // normalised registry -> credentials
  std::map<std::string, std::string> helpers;  // normalised registry -> helper name
  std::string store;                           // credsStore
};
// Parses a config.json / auth.json body. Entries keyed by a namespace ("quay.io/org/repo", no
// scheme) are skipped: credentials here are per registry. InputError naming `what`.
CredentialEntries parse_credential_file(std::string_view text, const std::string& what);

// Registry credentials from TransportOptions::docker_config_json (their auths only), then the
// credential files, loaded lazily (each at most once) and looked
// up file by file until one has them.
class CredentialStore {
 public:
  // Throws UsageError when --authfile or REGISTRY_AUTH_FILE names a file that does not exist.
  explicit CredentialStore(const TransportOptions& options);

  // In each file in turn: credHelpers[registry], then credsStore, then auths[registry]; the
  // first that has credentials wins. nullptr: anonymous. Results (found or not) are cached per
  // registry for the life of the store.
  const Credentials* lookup(const std::string& registry);

 private:
  struct File {
    std::filesystem::path path;
    bool loaded = false;
    CredentialEntries entries;
    std::shared_ptr<const SecretBytes> json;  // in memory (TransportOptions::docker_config_json)
  };
  void load(File& file);
  std::optional<Credentials> lookup_in(File& file, const std::string& key,
                                       const std::string& registry);

  std::vector<File> files_;
  std::mutex mu_;
  std::map<std::string, std::optional<Credentials>> cache_;
};

// The docker-credential-* protocol's other verbs, for login and logout: `store` (JSON
// {ServerURL, Username, Secret} on stdin) and `erase` (the server URL on stdin). RegistryError
// naming the helper on failure; erase returns false when the helper had nothing.
void store_with_credential_helper(const std::string& helper, const std::string& server_url,
                                  const std::string& username, const SecretBytes& secret);
bool erase_with_credential_helper(const std::string& helper, const std::string& server_url);

}  // namespace trust::registry::detail
