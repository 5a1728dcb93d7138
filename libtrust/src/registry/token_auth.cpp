#include "registry/token_auth.h"

#include <algorithm>
#include <chrono>
#include <cstdint>

#include "core/json_util.h"
#include "libtrust/core/encoding.h"
#include "libtrust/core/error.h"
#include "libtrust/core/limits.h"
#include "registry/api_errors.h"

namespace trust::registry::detail {
namespace {

using trust::detail::Json;

// expires_in when the token server gives none (or nothing usable), as docker does.
constexpr std::chrono::seconds kDefaultTokenLifetime{60};
// A token is renewed this much before the server's expiry (a tenth of short lifetimes).
constexpr std::chrono::seconds kTokenRenewMargin{10};

SecretBytes header_secret(std::string_view prefix, ByteView value) {
  SecretBytes out(prefix.size() + value.size());
  std::copy(prefix.begin(), prefix.end(), out.data());
  std::copy(value.begin(), value.end(), out.data() + prefix.size());
  return out;
}

SecretBytes basic_header(const Credentials& creds) {
  SecretBytes userpass(creds.username.size() + 1 + creds.password.size());
  std::copy(creds.username.begin(), creds.username.end(), userpass.data());
  userpass.data()[creds.username.size()] = ':';
  std::copy(creds.password.data(), creds.password.data() + creds.password.size(),
            userpass.data() + creds.username.size() + 1);
  auto b64 = base64_encode(userpass.view());
  auto out = header_secret("Authorization: Basic ", as_bytes(b64));
  secure_wipe(b64.data(), b64.size());
  return out;
}

// The token's lifetime from `expires_in`: positive whole seconds, at most
// limits::kMaxTokenLifetimeSeconds; anything else (absent, 0, negative, a fraction, a string)
// is the default.
std::chrono::seconds token_lifetime(const Json& j) {
  auto it = j.find("expires_in");
  if (it == j.end()) return kDefaultTokenLifetime;
  std::int64_t seconds = 0;
  if (it->is_number_unsigned()) {
    seconds = static_cast<std::int64_t>(
        std::min<std::uint64_t>(it->get<std::uint64_t>(), limits::kMaxTokenLifetimeSeconds));
  } else if (it->is_number_integer()) {
    seconds = std::min<std::int64_t>(it->get<std::int64_t>(), limits::kMaxTokenLifetimeSeconds);
  }
  return seconds > 0 ? std::chrono::seconds(seconds) : kDefaultTokenLifetime;
}

}  // namespace

std::string Scope::key() const {
  std::string k;
  for (const auto& s : items) k += s + " ";
  return k;
}

Scope Scope::pull(const Repository& repo) {
  return {{"repository:" + repo.name + ":pull"}};
}

Scope Scope::push(const Repository& repo) {
  return {{"repository:" + repo.name + ":pull,push"}};
}

Authenticator::Authenticator(Transport& transport, CredentialStore& credentials)
    : transport_(transport), credentials_(credentials) {}

SecretBytes Authenticator::fetch_token(const std::string& registry, const Challenge& ch,
                                       const Scope& scope, const std::string& what) {
  auto realm_it = ch.params.find("realm");
  if (realm_it == ch.params.end() || realm_it->second.empty()) {
    throw RegistryError(what + ": the registry's Bearer challenge names no realm");
  }
  const std::string& realm = realm_it->second;
  const auto realm_origin = origin_of(realm);
  if (realm_origin.rfind("https://", 0) != 0 && realm_origin.rfind("http://", 0) != 0) {
    throw RegistryError(what + ": the registry's token realm is not an HTTP(S) URL");
  }
  const auto* creds = credentials_.lookup(registry);
  if (creds != nullptr && realm_origin.rfind("http://", 0) == 0 &&
      !transport_.is_insecure(authority_of(realm))) {
    throw RegistryError(what + ": refusing to send the credentials for " + registry +
                        " to the token realm " + realm_origin +
                        " over plain HTTP (mark it --insecure-registry to allow)");
  }
  Request r;
  r.what = what;
  r.max_body = limits::kMaxTokenResponseBytes;
  r.idempotent = true;
  r.follow_redirects = false;
  SecretBytes auth;
  SecretBytes form;
  std::string query;
  if (auto s = ch.params.find("service"); s != ch.params.end()) {
    query += "service=" + url_escape(s->second);
  }
  for (const auto& item : scope.items) {
    query += (query.empty() ? "" : "&") + std::string("scope=") + url_escape(item);
  }
  if (creds != nullptr && !creds->identity_token.empty()) {
    // OAuth2 refresh token grant (docker login with an identity token).
    std::string prefix = "grant_type=refresh_token&client_id=sigil" +
                         (query.empty() ? "" : "&" + query) + "&refresh_token=";
    std::string escaped = url_escape(creds->identity_token.as_string_view());
    form = header_secret(prefix, as_bytes(escaped));
    secure_wipe(escaped.data(), escaped.size());
    r.method = "POST";
    r.url = realm;
    r.body = form.view();
    r.headers.push_back("Content-Type: application/x-www-form-urlencoded");
  } else {
    r.method = "GET";
    if (creds != nullptr && !creds->username.empty()) {
      query += (query.empty() ? "" : "&") + std::string("account=") + url_escape(creds->username);
    }
    r.url = query.empty() ? realm : with_query(realm, query);
    if (creds != nullptr && !creds->password.empty()) {
      auth = basic_header(*creds);
      r.authorization = &auth;
    }
  }
  transport_.count_token_request();
  auto resp = transport_.perform(r);
  if (resp.status == 401 || resp.status == 403) {
    throw RegistryError(what + ": the token server " + realm_origin + " refused " +
                        (creds != nullptr ? "the credentials configured for " + registry
                                          : std::string("anonymous access")) +
                        " (HTTP " + std::to_string(resp.status) + ")");
  }
  if (!is_success(resp.status)) throw_for(resp, what, "token request to " + realm_origin);
  Json j;
  try {
    j = trust::detail::parse_json(as_string_view(resp.body), what + ": token response",
                                  limits::kMaxTokenResponseBytes);
  } catch (const Error&) {
    secure_wipe(resp.body.data(), resp.body.size());
    throw RegistryError(what + ": the token server " + realm_origin +
                        " answered something that is not JSON");
  }
  secure_wipe(resp.body.data(), resp.body.size());
  std::string token;
  for (const char* field : {"token", "access_token"}) {
    auto it = j.find(field);
    if (it != j.end() && it->is_string() && !it->get_ref<const std::string&>().empty()) {
      token = it->get<std::string>();
      break;
    }
  }
  const auto lifetime = j.is_object() ? token_lifetime(j) : kDefaultTokenLifetime;
  trust::detail::wipe_strings(j);
  if (token.empty()) {
    throw RegistryError(what + ": the token server " + realm_origin +
                        " answered no token (neither 'token' nor 'access_token')");
  }
  auto header = header_secret("Authorization: Bearer ", as_bytes(token));
  secure_wipe(token.data(), token.size());
  const auto margin = std::min(kTokenRenewMargin, lifetime / 10);
  std::lock_guard lock(mu_);
  auto& slot = tokens_[registry + " " + scope.key()];
  slot.header = SecretBytes(header.data(), header.size());
  slot.expires = Clock::now() + (lifetime - margin);
  return header;
}

std::optional<SecretBytes> Authenticator::known_auth(const std::string& registry,
                                                     const Scope& scope, const std::string& what,
                                                     bool& fresh) {
  std::optional<Challenge> ch;
  {
    std::lock_guard lock(mu_);
    auto it = challenges_.find(registry);
    if (it == challenges_.end()) return std::nullopt;
    ch = it->second;
    if (ch->scheme == "bearer") {
      auto t = tokens_.find(registry + " " + scope.key());
      if (t != tokens_.end() && Clock::now() < t->second.expires) {
        return SecretBytes(t->second.header.data(), t->second.header.size());
      }
    }
  }
  if (ch->scheme == "bearer") {
    fresh = true;
    return fetch_token(registry, *ch, scope, what);
  }
  if (const auto* creds = credentials_.lookup(registry);
      creds != nullptr && !creds->password.empty()) {
    return basic_header(*creds);
  }
  return std::nullopt;
}

std::optional<SecretBytes> Authenticator::authorization(const std::string& registry,
                                                        const Scope& scope,
                                                        const std::string& what) {
  bool fresh = false;
  return known_auth(registry, scope, what, fresh);
}

std::optional<Challenge> Authenticator::choose_challenge(const Response& resp,
                                                         const std::string& what) {
  std::optional<Challenge> chosen;
  for (const auto& value : resp.headers.all("www-authenticate")) {
    for (auto& c : parse_www_authenticate(value, what)) {
      if (c.scheme == "bearer") return c;
      if (c.scheme == "basic" && !chosen) chosen = c;
    }
  }
  return chosen;
}

Response Authenticator::send(const Repository& repo, const Scope& scope, Request req) {
  const auto& registry = repo.registry;
  bool fresh_token = false;
  auto auth = known_auth(registry, scope, req.what, fresh_token);
  bool sent_basic = auth && auth->as_string_view().rfind("Authorization: Basic", 0) == 0;
  while (true) {
    req.authorization = auth ? &*auth : nullptr;
    auto resp = transport_.perform(req);
    if (resp.status != 401) return resp;
    if (req.body_reader) {
      throw RegistryError(req.what + ": the registry asked for authentication (401) in the " +
                          "middle of an upload; the stream cannot be sent again");
    }
    req.resume_from = resp.sink_bytes;  // a download resumed before the 401 goes on from there
    auto chosen = choose_challenge(resp, req.what);
    if (!chosen) {
      throw RegistryError(req.what + ": authentication required (401) but the registry " +
                          registry + " offers no Bearer or Basic challenge");
    }
    {
      std::lock_guard lock(mu_);
      challenges_[registry] = *chosen;
    }
    if (chosen->scheme == "bearer") {
      if (fresh_token) {
        throw RegistryError(req.what + ": authentication failed (401) for repository " + repo.name +
                            " after obtaining a token (scope " +
                            (scope.items.empty() ? std::string("none") : scope.key()) + ")");
      }
      auth = fetch_token(registry, *chosen, scope, req.what);
      fresh_token = true;
      continue;
    }
    const auto* creds = credentials_.lookup(registry);
    if (creds == nullptr || creds->password.empty()) {
      throw RegistryError(req.what +
                          ": authentication required (401) and no credentials are "
                          "configured for " +
                          registry + " (docker config.json)");
    }
    if (sent_basic) {
      throw RegistryError(req.what + ": authentication failed (401): " + registry +
                          " refused the credentials configured for it");
    }
    auth = basic_header(*creds);
    sent_basic = true;
  }
}

}  // namespace trust::registry::detail
