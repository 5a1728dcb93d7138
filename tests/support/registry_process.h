#pragma once
// Test support: a real registry (Debian's `docker-registry`, distribution 2.8) on 127.0.0.1,
// started by the test and stopped by the destructor, so that the registry client is tested
// against what users run.
//
//   SIGIL_SKIP_UNLESS(RegistryProcess::unavailable_reason(RegistryAuth::kBasic));
//   RegistryProcess reg({.tls = RegistryTls::kVerified, .auth = RegistryAuth::kBasic});
//   trust::registry::TransportOptions opts{.ca_file = reg.ca_file(),
//                                          .docker_config = reg.write_docker_config(tmp.path())};
//   … reg.host() is "127.0.0.1:PORT"; reg.kill() makes it vanish; reg.restart() brings it back
//   on the same port and storage.
//
// Everything is generated per fixture under a TempDir: the config, the storage, a CA (OpenSSL,
// P-256) with a server certificate for IP:127.0.0.1 and DNS:localhost (or, for negative tests, only
// for a wrong host name), an htpasswd file (bcrypt, from `htpasswd -B`), and for token auth a
// token server run in-process (cpp-httplib) that issues ES256 JWTs distribution 2.8 accepts
// (x5c header chaining to the CA in `rootcertbundle`, `aud` = service, `access` = the requested
// scope).
//
// Tests start with SIGIL_SKIP_UNLESS(RegistryProcess::unavailable_reason(auth)) (support/skip.h):
// skipped, and reported as skipped, where docker-registry or htpasswd is missing; failed in CI.
//
// The registry runs with PR_SET_PDEATHSIG, so it dies with the test process even if that is
// killed; the destructor sends SIGTERM, waits, then SIGKILL. Create and destroy a fixture on the
// same thread (the death signal follows the thread that started the process).

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "support/skip.h"

namespace sigil::test {

enum class RegistryTls {
  kNone,           // plain HTTP
  kVerified,       // HTTPS, certificate for 127.0.0.1 and localhost from the per-run CA
  kWrongHostName,  // HTTPS, certificate from the per-run CA for "wrong-host.invalid" only
};

enum class RegistryAuth {
  kNone,   // anonymous push and pull
  kBasic,  // htpasswd (bcrypt)
  kToken,  // bearer tokens from the in-process token server (which takes basic credentials)
};

struct RegistryOptions {
  RegistryTls tls = RegistryTls::kNone;
  RegistryAuth auth = RegistryAuth::kNone;
  std::string user = "sigil-it";
  // Distinctive so that tests can assert it never shows up in messages.
  std::string password = "Pw-7f3Kq-never-printed";
  std::chrono::seconds token_lifetime{300};
};

// One request the token server answered.
struct TokenRequest {
  std::string method;               // "GET" or "POST"
  std::string service;              // the service parameter
  std::vector<std::string> scopes;  // each "repository:NAME:ACTIONS" as requested
  std::string user;                 // empty: no credentials were sent
  int status = 0;                   // 200 (token issued) or 401
};

// A self-signed P-256 certificate for IP:127.0.0.1 and DNS:localhost and its key, written to
// DIR/server.crt and DIR/server.key (PEM), for in-process TLS servers (FakeRegistry::kTls).
struct TlsFiles {
  std::filesystem::path cert;
  std::filesystem::path key;
};
TlsFiles write_self_signed_certificate(const std::filesystem::path& dir);

class RegistryProcess {
 public:
  // Why the registry tests cannot run here (docker-registry or, for basic auth, htpasswd not
  // installed), or nullopt when they can.
  static std::optional<std::string> unavailable_reason(RegistryAuth auth = RegistryAuth::kNone);

  // Starts the registry on a free port and waits until /v2/ answers. Throws std::runtime_error
  // with the registry's log when it cannot start.
  explicit RegistryProcess(RegistryOptions options = {});
  ~RegistryProcess();
  RegistryProcess(const RegistryProcess&) = delete;
  RegistryProcess& operator=(const RegistryProcess&) = delete;

  std::uint16_t port() const;
  std::string host() const;  // "127.0.0.1:PORT"
  std::string url() const;   // "http://127.0.0.1:PORT" or "https://…"
  // "127.0.0.1:PORT/" + repo_and_tag ("lab/hello:v1").
  std::string reference(std::string_view repo_and_tag) const;
  const RegistryOptions& options() const;

  // PEM of the per-run CA (also signs the token server's certificate and the token signing
  // certificate). Exists in every mode; only TLS modes use it for the registry.
  const std::filesystem::path& ca_file() const;
  // A PEM CA that signed nothing here: "some other CA" for negative tests.
  const std::filesystem::path& unrelated_ca_file() const;
  const std::filesystem::path& storage_dir() const;

  const std::string& user() const;
  const std::string& password() const;
  // Writes DIR/config.json ({"auths": {"127.0.0.1:PORT": {"auth": base64(user:password)}}}, 0600)
  // and returns its path; the fixture's own credentials unless others are given.
  std::filesystem::path write_docker_config(const std::filesystem::path& dir) const;
  std::filesystem::path write_docker_config(const std::filesystem::path& dir, std::string_view user,
                                            std::string_view password) const;

  // Makes the registry vanish: SIGKILL now, and reap it. Idempotent.
  void kill();
  // Starts it again on the same port, storage, certificates and credentials.
  void restart();
  bool running() const;
  // CPU time the registry process used so far (user + system), for benchmarks.
  std::chrono::milliseconds cpu_time() const;
  // What the registry wrote to stdout/stderr (across restarts), for failure messages.
  std::string log() const;

  // Token auth only: the token server's URL ("https://127.0.0.1:PORT/token") and what it was
  // asked. Counted from the server side, independently of the client's own statistics.
  std::string token_realm() const;
  std::size_t token_requests() const;
  std::vector<TokenRequest> token_request_log() const;
  void reset_token_requests();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace sigil::test
