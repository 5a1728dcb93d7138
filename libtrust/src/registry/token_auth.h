#pragma once
// Private to libtrust/registry: the credentials each request carries. A registry's challenge
// (WWW-Authenticate) is learnt from its first 401 and remembered for the client's life, so that
// later requests carry credentials at once:
// - Basic: the credentials configured for the registry (CredentialStore::lookup), sent to the
//   registry's own origin only (Transport drops them on a redirect elsewhere);
// - Bearer: a token from the challenge's realm for (registry, scope), fetched with those
//   credentials (a GET with account= and Basic, or an OAuth2 refresh_token POST) and cached until
//   shortly before it expires, its lifetime clamped to limits::kMaxTokenLifetimeSeconds.
//   Credentials go to a plain-HTTP realm only when the realm's host is an insecure registry.
// A 401 after a fresh token, or after the configured Basic credentials, is an error, not a loop.
// Secrets stay in SecretBytes and never reach a message, a trace or a log.

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "libtrust/core/secret.h"
#include "libtrust/registry/client.h"
#include "registry/auth.h"
#include "registry/http.h"

namespace trust::registry::detail {

// The access a request needs: {"repository:lab/hello:pull"}, …
struct Scope {
  std::vector<std::string> items;
  std::string key() const;
  static Scope pull(const Repository& repo);
  static Scope push(const Repository& repo);
};

class Authenticator {
 public:
  Authenticator(Transport& transport, CredentialStore& credentials);

  // Sends `req` to the registry of `repo` with what it needs for `scope`, answering one 401
  // challenge (by fetching a token, or with the configured Basic credentials).
  Response send(const Repository& repo, const Scope& scope, Request req);

  // What to send `registry` for `scope` before any 401: a cached (or freshly fetched) bearer
  // token, the credentials of a Basic registry, or nullopt while its challenge is unknown or no
  // credentials apply.
  std::optional<SecretBytes> authorization(const std::string& registry, const Scope& scope,
                                           const std::string& what);

 private:
  // As authorization(); `fresh` is set when a token was fetched for this very call.
  std::optional<SecretBytes> known_auth(const std::string& registry, const Scope& scope,
                                        const std::string& what, bool& fresh);
  SecretBytes fetch_token(const std::string& registry, const Challenge& ch, const Scope& scope,
                          const std::string& what);
  // The challenge to answer from a 401's WWW-Authenticate headers: Bearer over Basic.
  static std::optional<Challenge> choose_challenge(const Response& resp, const std::string& what);

  struct Token {
    SecretBytes header;
    Clock::time_point expires;
  };
  Transport& transport_;
  CredentialStore& credentials_;
  std::mutex mu_;
  std::map<std::string, Challenge> challenges_;  // registry -> its auth challenge
  std::map<std::string, Token> tokens_;          // registry + " " + scope key -> bearer token
};

}  // namespace trust::registry::detail
