#include "libtrust/registry/client.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "core/json_util.h"
#include "libtrust/core/encoding.h"
#include "libtrust/core/error.h"
#include "libtrust/core/limits.h"
#include "libtrust/core/media_type.h"
#include "oci/oci_internal.h"
#include "registry/auth.h"
#include "registry/http.h"

namespace trust::registry {

using detail::Challenge;
using detail::Request;
using detail::Response;
using detail::TransportError;
using trust::detail::Json;

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t kTagPageSize = 1000;
constexpr std::chrono::seconds kDefaultTokenLifetime{60};
constexpr std::string_view kUploadContentType = "application/octet-stream";
constexpr std::size_t kMaxErrorsInMessage = 3;
// Blob transfers of at least this size go over HTTP/1.1 connections of their own (Request::bulk);
// smaller ones (signature payloads, configs) share the HTTP/2 connection.
constexpr std::uint64_t kBulkBytes = 4u << 20;
constexpr std::size_t kMaxErrorTextInMessage = 200;
// A manifest PUT that lost a race with another writer's blob upload is retried quickly: the
// window is one blob commit. Delays double from here (with jitter), so a blob that is really
// missing fails in about 1.5 s over limits::kMaxManifestPutRetries attempts.
constexpr std::chrono::milliseconds kRacyPutBackoffBase{50};

void racy_put_backoff(int attempt) {
  thread_local std::mt19937 rng(std::random_device{}());
  std::uniform_real_distribution<double> jitter(0.5, 1.5);
  const double ms = static_cast<double>(kRacyPutBackoffBase.count()) *
                    static_cast<double>(1 << std::min(attempt - 1, 10)) * jitter(rng);
  std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<std::int64_t>(ms)));
}

std::string manifest_accept_header() {
  std::string h = "Accept: ";
  h += media_type::kOciManifest;
  h += ", ";
  h += media_type::kOciIndex;
  h += ", ";
  h += media_type::kDockerManifest;
  h += ", ";
  h += media_type::kDockerManifestList;
  return h;
}

bool is_success(long status) {
  return status >= 200 && status < 300;
}

bool is_retryable_status(long status) {
  return status == 429 || (status >= 500 && status <= 599);
}

// Printable, bounded text from a registry (error messages may be attacker-chosen).
std::string sanitize(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, kMaxErrorTextInMessage)) {
    out.push_back(static_cast<unsigned char>(c) < 0x20 || c == 0x7f ? ' ' : c);
  }
  if (text.size() > kMaxErrorTextInMessage) out += "…";
  return out;
}

// OCI error JSON {"errors":[{"code","message"}]}: its codes (for retry decisions) and a summary.
struct ErrorBody {
  std::vector<std::string> codes;
  std::string summary;
};

ErrorBody parse_error_body(const Response& resp) {
  ErrorBody out;
  if (resp.body.empty()) return out;
  try {
    auto j = trust::detail::parse_json(as_string_view(resp.body), "error body",
                                       limits::kMaxRegistryErrorBody);
    auto it = j.find("errors");
    if (j.is_object() && it != j.end() && it->is_array()) {
      for (const auto& e : *it) {
        if (!e.is_object()) continue;
        std::string code, message;
        if (auto c = e.find("code"); c != e.end() && c->is_string()) code = c->get<std::string>();
        if (auto m = e.find("message"); m != e.end() && m->is_string()) {
          message = m->get<std::string>();
        }
        out.codes.push_back(code);
        if (out.codes.size() <= kMaxErrorsInMessage) {
          if (!out.summary.empty()) out.summary += "; ";
          out.summary += sanitize(code) + (message.empty() ? "" : ": " + sanitize(message));
        }
      }
      return out;
    }
  } catch (const Error&) {
    // Not JSON (or truncated): fall through to the text.
  }
  auto ct = resp.content_type().value_or("");
  if (ct.rfind("text/", 0) == 0 || ct.find("json") != std::string::npos) {
    out.summary = sanitize(as_string_view(resp.body));
  }
  return out;
}

bool has_code(const ErrorBody& body, std::string_view code) {
  return std::find(body.codes.begin(), body.codes.end(), code) != body.codes.end();
}

std::string status_text(const Response& resp) {
  auto body = parse_error_body(resp);
  std::string s = "HTTP " + std::to_string(resp.status);
  if (!body.summary.empty()) s += " (" + body.summary + ")";
  return s;
}

[[noreturn]] void throw_for(const Response& resp, const std::string& what,
                            const std::string& action) {
  auto detail = status_text(resp);
  switch (resp.status) {
    case 404:
      throw NotFoundError(what + ": " + action + ": not found (" + detail + ")");
    case 401:
      throw RegistryError(what + ": " + action + ": authentication required (" + detail + ")");
    case 403:
      throw RegistryError(what + ": " + action + ": access denied (" + detail + ")");
    case 429:
      throw RegistryError(what + ": " + action + ": rate limited by the registry (" + detail +
                          "), retries exhausted");
    default:
      throw RegistryError(what + ": " + action + ": the registry answered " + detail);
  }
}

// `<url>; rel="next"` from a Link header (pagination), resolved against `base`.
std::optional<std::string> next_link(const Response& resp) {
  for (const auto& link : resp.headers.all("link")) {
    auto lt = link.find('<');
    auto gt = link.find('>');
    if (lt == std::string::npos || gt == std::string::npos || gt < lt) continue;
    auto params = link.substr(gt + 1);
    std::string p;
    for (char c : params) {
      if (c != ' ' && c != '"') p.push_back(static_cast<char>(std::tolower(c)));
    }
    if (p.find("rel=next") == std::string::npos) continue;
    return detail::resolve_url(resp.url, link.substr(lt + 1, gt - lt - 1));
  }
  return std::nullopt;
}

std::string with_query(const std::string& url, const std::string& param) {
  return url + (url.find('?') == std::string::npos ? "?" : "&") + param;
}

SecretBytes header_secret(std::string_view prefix, ByteView value) {
  SecretBytes out(prefix.size() + value.size());
  std::copy(prefix.begin(), prefix.end(), out.data());
  std::copy(value.begin(), value.end(), out.data() + prefix.size());
  return out;
}

SecretBytes basic_header(const detail::Credentials& creds) {
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

std::string api_host(const std::string& registry) {
  return registry == kDockerHubRegistry ? std::string(kDockerHubApiHost) : registry;
}

struct Scope {
  std::vector<std::string> items;
  std::string key() const {
    std::string k;
    for (const auto& s : items) k += s + " ";
    return k;
  }
};

Scope pull_scope(const Repository& repo) {
  return {{"repository:" + repo.name + ":pull"}};
}
Scope push_scope(const Repository& repo) {
  return {{"repository:" + repo.name + ":pull,push"}};
}

}  // namespace

void TransportOptions::validate() const {
  if (max_attempts < 1) throw UsageError("registry options: max_attempts must be at least 1");
  if (connect_timeout.count() <= 0 || stall_timeout.count() <= 0) {
    throw UsageError("registry options: timeouts must be positive");
  }
  if (retry_backoff_base.count() < 0 || max_retry_delay.count() < 0) {
    throw UsageError("registry options: retry delays must not be negative");
  }
  for (const auto& h : insecure_registries) {
    if (h.empty() || h.find('/') != std::string::npos || h.find("://") != std::string::npos) {
      throw UsageError("--insecure-registry '" + h.substr(0, 100) +
                       "': expected HOST or HOST:PORT (no scheme, no path)");
    }
  }
  if (ca_file) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(*ca_file, ec)) {
      throw UsageError("--ca-file " + ca_file->string() + ": no such file");
    }
  }
}

Repository Repository::of(const Reference& ref) {
  if (ref.kind() != ReferenceKind::kRegistry) {
    throw UsageError(ref.str() + ": not a registry reference");
  }
  return Repository{ref.registry(), ref.repository()};
}

struct Client::Impl {
  explicit Impl(TransportOptions options)
      : transport(std::move(options)), credentials(transport.options()) {}

  detail::Transport transport;
  detail::CredentialStore credentials;

  struct Token {
    SecretBytes header;
    Clock::time_point expires;
  };
  std::mutex mu;
  std::map<std::string, Challenge> challenges;  // registry -> its auth challenge
  std::map<std::string, Token> tokens;          // registry + " " + scope key -> bearer token

  std::string base(const Repository& repo) {
    return transport.origin_for(api_host(repo.registry)) + "/v2/" + repo.name;
  }

  // --- auth -------------------------------------------------------------------------------

  SecretBytes fetch_token(const std::string& registry, const Challenge& ch, const Scope& scope,
                          const std::string& what) {
    auto realm_it = ch.params.find("realm");
    if (realm_it == ch.params.end() || realm_it->second.empty()) {
      throw RegistryError(what + ": the registry's Bearer challenge names no realm");
    }
    const std::string& realm = realm_it->second;
    const auto realm_origin = detail::origin_of(realm);
    if (realm_origin.rfind("https://", 0) != 0 && realm_origin.rfind("http://", 0) != 0) {
      throw RegistryError(what + ": the registry's token realm is not an HTTP(S) URL");
    }
    const auto* creds = credentials.lookup(registry);
    if (creds != nullptr && realm_origin.rfind("http://", 0) == 0 &&
        !transport.is_insecure(detail::authority_of(realm))) {
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
      query += "service=" + detail::url_escape(s->second);
    }
    for (const auto& item : scope.items) {
      query += (query.empty() ? "" : "&") + std::string("scope=") + detail::url_escape(item);
    }
    if (creds != nullptr && !creds->identity_token.empty()) {
      // OAuth2 refresh token grant (docker login with an identity token).
      std::string prefix = "grant_type=refresh_token&client_id=sigil" +
                           (query.empty() ? "" : "&" + query) + "&refresh_token=";
      std::string escaped = detail::url_escape(creds->identity_token.as_string_view());
      form = header_secret(prefix, as_bytes(escaped));
      secure_wipe(escaped.data(), escaped.size());
      r.method = "POST";
      r.url = realm;
      r.body = form.view();
      r.headers.push_back("Content-Type: application/x-www-form-urlencoded");
    } else {
      r.method = "GET";
      if (creds != nullptr && !creds->username.empty()) {
        query += (query.empty() ? "" : "&") + std::string("account=") +
                 detail::url_escape(creds->username);
      }
      r.url = query.empty() ? realm : with_query(realm, query);
      if (creds != nullptr && !creds->password.empty()) {
        auth = basic_header(*creds);
        r.authorization = &auth;
      }
    }
    transport.count_token_request();
    auto resp = transport.perform(r);
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
    auto lifetime = kDefaultTokenLifetime;
    if (auto it = j.find("expires_in"); it != j.end() && it->is_number_integer()) {
      auto v = it->get<std::int64_t>();
      if (v > 0) lifetime = std::chrono::seconds(v);
    }
    trust::detail::wipe_strings(j);
    if (token.empty()) {
      throw RegistryError(what + ": the token server " + realm_origin +
                          " answered no token (neither 'token' nor 'access_token')");
    }
    auto header = header_secret("Authorization: Bearer ", as_bytes(token));
    secure_wipe(token.data(), token.size());
    // Renew a little before the server's expiry.
    auto margin = std::min<std::chrono::seconds>(std::chrono::seconds(10), lifetime / 10);
    std::lock_guard lock(mu);
    auto& slot = tokens[registry + " " + scope.key()];
    slot.header = SecretBytes(header.data(), header.size());
    slot.expires = Clock::now() + lifetime - margin;
    return header;
  }

  // What to send before any 401: a cached token, or credentials for a known Basic registry.
  std::optional<SecretBytes> known_auth(const std::string& registry, const Scope& scope,
                                        const std::string& what, bool& fresh) {
    std::optional<Challenge> ch;
    {
      std::lock_guard lock(mu);
      auto it = challenges.find(registry);
      if (it == challenges.end()) return std::nullopt;
      ch = it->second;
      if (ch->scheme == "bearer") {
        auto t = tokens.find(registry + " " + scope.key());
        if (t != tokens.end() && Clock::now() < t->second.expires) {
          return SecretBytes(t->second.header.data(), t->second.header.size());
        }
      }
    }
    if (ch->scheme == "bearer") {
      fresh = true;
      return fetch_token(registry, *ch, scope, what);
    }
    if (const auto* creds = credentials.lookup(registry);
        creds != nullptr && !creds->password.empty()) {
      return basic_header(*creds);
    }
    return std::nullopt;
  }

  // Sends `req` to `registry` with the right credentials, answering one 401 challenge.
  Response send(const Repository& repo, const Scope& scope, Request req) {
    const auto& registry = repo.registry;
    bool fresh_token = false;
    bool sent_basic = false;
    auto auth = known_auth(registry, scope, req.what, fresh_token);
    if (auth && auth->as_string_view().rfind("Authorization: Basic", 0) == 0) sent_basic = true;
    while (true) {
      req.authorization = auth ? &*auth : nullptr;
      auto resp = transport.perform(req);
      if (resp.status != 401) return resp;
      if (req.body_reader) {
        throw RegistryError(req.what + ": the registry asked for authentication (401) in the " +
                            "middle of an upload; the stream cannot be sent again");
      }
      std::optional<Challenge> chosen;
      for (const auto& value : resp.headers.all("www-authenticate")) {
        for (auto& c : detail::parse_www_authenticate(value, req.what)) {
          if (c.scheme == "bearer") {
            chosen = c;
            break;
          }
          if (c.scheme == "basic" && !chosen) chosen = c;
        }
        if (chosen && chosen->scheme == "bearer") break;
      }
      req.resume_from = resp.sink_bytes;  // a download resumed before the 401 goes on from there
      if (!chosen) {
        throw RegistryError(req.what + ": authentication required (401) but the registry " +
                            registry + " offers no Bearer or Basic challenge");
      }
      {
        std::lock_guard lock(mu);
        challenges[registry] = *chosen;
      }
      if (chosen->scheme == "bearer") {
        if (fresh_token) {
          throw RegistryError(req.what + ": authentication failed (401) for repository " +
                              repo.name + " after obtaining a token (scope " +
                              (scope.items.empty() ? std::string("none") : scope.key()) + ")");
        }
        auth = fetch_token(registry, *chosen, scope, req.what);
        fresh_token = true;
        continue;
      }
      const auto* creds = credentials.lookup(registry);
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

  // --- manifests ----------------------------------------------------------------------------

  Response get_manifest_response(const Repository& repo, const std::string& reference,
                                 const std::string& what, const std::string& method = "GET") {
    Request r;
    r.method = method;
    r.url = base(repo) + "/manifests/" + reference;
    r.headers.push_back(manifest_accept_header());
    r.max_body = limits::kMaxManifestBytes;
    r.follow_redirects = true;
    r.what = what;
    return send(repo, pull_scope(repo), std::move(r));
  }

  static std::string media_type_of(ByteView bytes, const Response& resp, const std::string& what) {
    std::string mt;
    try {
      auto j = trust::detail::parse_json(bytes, what);
      if (j.is_object()) {
        if (auto it = j.find("mediaType"); it != j.end() && it->is_string()) {
          mt = it->get<std::string>();
        }
      }
    } catch (const LimitError&) {
      throw;
    } catch (const Error&) {
      throw InputError(what + ": the registry served a manifest that is not valid JSON");
    }
    if (mt.empty()) {
      auto ct = resp.content_type().value_or("");
      if (oci::is_manifest_media_type(ct) || oci::is_index_media_type(ct)) mt = ct;
    }
    auto kind = oci::classify_manifest(bytes, mt, what);
    if (mt.empty()) {
      mt = std::string(kind == oci::ManifestKind::kIndex ? media_type::kOciIndex
                                                         : media_type::kOciManifest);
    }
    return mt;
  }

  // --- uploads -----------------------------------------------------------------------------

  // POST …/blobs/uploads/: the upload's Location, or the failing response (status != 202).
  std::pair<std::string, Response> try_start_upload(const Repository& repo,
                                                    const std::string& what) {
    Request r;
    r.method = "POST";
    r.url = base(repo) + "/blobs/uploads/";
    r.idempotent = false;
    r.max_body = limits::kMaxRegistryErrorBody;
    r.what = what;
    auto resp = send(repo, push_scope(repo), std::move(r));
    if (resp.status != 202) return {std::string(), std::move(resp)};
    auto loc = resp.headers.get("location");
    if (!loc || loc->empty()) {
      throw RegistryError(what + ": the registry started an upload without a Location");
    }
    return {detail::resolve_url(resp.url, *loc), std::move(resp)};
  }

  std::string start_upload(const Repository& repo, const std::string& what) {
    auto [location, resp] = try_start_upload(repo, what);
    if (location.empty()) throw_for(resp, what, "starting an upload");
    return location;
  }
};

Client::Client(TransportOptions options) {
  options.validate();
  impl_ = std::make_unique<Impl>(std::move(options));
}

Client::~Client() = default;

RequestStats Client::stats() const {
  return impl_->transport.stats();
}

void Client::ping(std::string_view registry) {
  Repository repo{std::string(registry), ""};
  Request r;
  r.url = impl_->transport.origin_for(api_host(repo.registry)) + "/v2/";
  r.max_body = limits::kMaxRegistryErrorBody;
  r.what = std::string(registry);
  auto resp = impl_->send(repo, Scope{}, std::move(r));
  if (!is_success(resp.status)) throw_for(resp, std::string(registry), "ping (GET /v2/)");
}

std::optional<Client::Fetched> Client::get_manifest_by_tag(const Repository& repo,
                                                           std::string_view tag) {
  const auto what = repo.str() + ":" + std::string(tag);
  if (!is_valid_tag(tag)) throw UsageError(what + ": not a valid tag");
  auto resp = impl_->get_manifest_response(repo, std::string(tag), what);
  if (resp.status == 404) return std::nullopt;
  if (!is_success(resp.status)) throw_for(resp, what, "fetching the manifest");
  Fetched out;
  out.bytes = std::move(resp.body);
  out.descriptor.media_type = Impl::media_type_of(out.bytes, resp, what);
  // The digest comes from the bytes, never from Docker-Content-Digest.
  out.descriptor.digest = Digest::of(out.bytes);
  out.descriptor.size = out.bytes.size();
  return out;
}

Bytes Client::get_manifest(const Repository& repo, const oci::Descriptor& desc) {
  const auto what = repo.str() + "@" + desc.digest.str();
  if (desc.size > limits::kMaxManifestBytes) {
    throw LimitError(what + ": manifest declares " + std::to_string(desc.size) +
                     " bytes, over the limit of " + std::to_string(limits::kMaxManifestBytes));
  }
  auto resp = impl_->get_manifest_response(repo, desc.digest.str(), what);
  if (!is_success(resp.status)) throw_for(resp, what, "fetching the manifest");
  if (desc.size != 0 && resp.body.size() != desc.size) {
    throw DigestMismatchError(what + ": the registry served a manifest of " +
                              std::to_string(resp.body.size()) + " bytes, the descriptor says " +
                              std::to_string(desc.size));
  }
  auto got = Digest::of(resp.body, desc.digest.algorithm());
  if (got != desc.digest) {
    throw DigestMismatchError(what +
                              ": the registry served a manifest that does not match the digest "
                              "asked for (content hashes to " +
                              got.str() + ")");
  }
  return std::move(resp.body);
}

std::optional<oci::Descriptor> Client::head_manifest(const Repository& repo,
                                                     std::string_view reference) {
  const bool by_digest = reference.find(':') != std::string_view::npos;
  const auto what = repo.str() + (by_digest ? "@" : ":") + std::string(reference);
  auto resp = impl_->get_manifest_response(repo, std::string(reference), what, "HEAD");
  if (resp.status == 404) return std::nullopt;
  if (!is_success(resp.status)) throw_for(resp, what, "checking the manifest");
  auto dcd = resp.headers.get("docker-content-digest");
  auto ct = resp.content_type();
  auto len = resp.headers.get("content-length");
  if (dcd && ct && len) {
    try {
      oci::Descriptor d;
      d.digest = Digest::parse(*dcd, what + ": Docker-Content-Digest");
      d.media_type = *ct;
      d.size = std::stoull(*len);
      return d;
    } catch (const std::exception&) {
      // Unusable headers: fetch and hash instead.
    }
  }
  if (by_digest) {
    oci::Descriptor d;
    d.digest = Digest::parse(reference, what);
    auto bytes = get_manifest(repo, d);
    d.size = bytes.size();
    d.media_type = Impl::media_type_of(bytes, resp, what);
    return d;
  }
  auto fetched = get_manifest_by_tag(repo, reference);
  if (!fetched) return std::nullopt;
  return fetched->descriptor;
}

oci::Descriptor Client::put_manifest(const Repository& repo, std::string_view reference,
                                     ByteView bytes, std::string_view media_type,
                                     bool* subject_processed) {
  const bool by_digest = reference.find(':') != std::string_view::npos;
  const auto what = repo.str() + (by_digest ? "@" : ":") + std::string(reference);
  if (bytes.size() > limits::kMaxManifestBytes) {
    throw LimitError(what + ": manifest of " + std::to_string(bytes.size()) +
                     " bytes is over the limit of " + std::to_string(limits::kMaxManifestBytes));
  }
  oci::Descriptor d;
  d.digest = Digest::of(bytes);
  d.size = bytes.size();
  d.media_type = std::string(media_type);
  if (d.media_type.empty()) d.media_type = Impl::media_type_of(bytes, Response{}, what);
  if (by_digest && Digest::parse(reference, what) != d.digest) {
    throw DigestMismatchError(what +
                              ": refusing to push a manifest under a digest it does not "
                              "have (content hashes to " +
                              d.digest.str() + ")");
  }
  for (int attempt = 1;; ++attempt) {
    Request r;
    r.method = "PUT";
    r.url = impl_->base(repo) + "/manifests/" + std::string(reference);
    r.headers.push_back("Content-Type: " + d.media_type);
    r.body = bytes;
    r.idempotent = true;  // content-addressed: the same PUT twice is the same result
    r.max_body = limits::kMaxRegistryErrorBody;
    r.what = what;
    auto resp = impl_->send(repo, push_scope(repo), std::move(r));
    if (is_success(resp.status)) {
      if (subject_processed != nullptr) {
        *subject_processed = resp.headers.get("oci-subject").has_value();
      }
      return d;
    }
    auto body = parse_error_body(resp);
    const bool racy = resp.status == 400 &&
                      (has_code(body, "MANIFEST_BLOB_UNKNOWN") || has_code(body, "DIGEST_INVALID"));
    if (!racy) throw_for(resp, what, "pushing the manifest");
    if (attempt >= limits::kMaxManifestPutRetries) {
      throw RegistryError(what + ": pushing the manifest: " + status_text(resp) + " after " +
                          std::to_string(attempt) +
                          " attempts: the registry lacks a blob the manifest names");
    }
    // Another writer is committing a blob this manifest names: wait for it, briefly.
    racy_put_backoff(attempt);
  }
}

void Client::delete_manifest(const Repository& repo, const Digest& digest) {
  const auto what = repo.str() + "@" + digest.str();
  Request r;
  r.method = "DELETE";
  r.url = impl_->base(repo) + "/manifests/" + digest.str();
  r.max_body = limits::kMaxRegistryErrorBody;
  r.what = what;
  auto resp = impl_->send(repo, Scope{{"repository:" + repo.name + ":delete"}}, std::move(r));
  if (is_success(resp.status)) return;
  if (resp.status == 405) {
    throw UnsupportedError(what + ": the registry does not allow deleting manifests (405)");
  }
  throw_for(resp, what, "deleting the manifest");
}

Bytes Client::get_blob(const Repository& repo, const oci::Descriptor& desc,
                       std::uint64_t max_bytes) {
  oci::detail::check_size_cap(desc, max_bytes, repo.str());
  Bytes out;
  out.reserve(static_cast<std::size_t>(desc.size));
  stream_blob(repo, desc,
              [&](ByteView chunk) { out.insert(out.end(), chunk.begin(), chunk.end()); });
  return out;
}

void Client::stream_blob(const Repository& repo, const oci::Descriptor& desc,
                         const std::function<void(ByteView)>& sink) {
  const auto what = repo.str();
  oci::detail::BlobVerifier verifier(desc, what);
  Request r;
  r.url = impl_->base(repo) + "/blobs/" + desc.digest.str();
  r.follow_redirects = true;
  r.what = what + "@" + desc.digest.str();
  r.progress = "blob " + desc.digest.str().substr(0, 19);
  r.bulk = desc.size >= kBulkBytes;
  r.sink = [&](ByteView chunk) {
    verifier.update(chunk);
    sink(chunk);
  };
  auto resp = impl_->send(repo, pull_scope(repo), std::move(r));
  if (!is_success(resp.status)) throw_for(resp, what + " blob " + desc.digest.str(), "fetching");
  verifier.finish();
}

bool Client::blob_exists(const Repository& repo, const Digest& digest) {
  const auto what = repo.str() + " blob " + digest.str();
  Request r;
  r.method = "HEAD";
  r.url = impl_->base(repo) + "/blobs/" + digest.str();
  r.follow_redirects = true;
  r.what = what;
  auto resp = impl_->send(repo, pull_scope(repo), std::move(r));
  if (is_success(resp.status)) return true;
  if (resp.status == 404) return false;
  throw_for(resp, what, "checking whether it exists");
}

void Client::put_blob(const Repository& repo, ByteView data, const Digest& digest) {
  const auto what = repo.str() + " blob " + digest.str();
  auto got = Digest::of(data, digest.algorithm());
  if (got != digest) {
    throw DigestMismatchError(what + ": refusing to upload: the bytes hash to " + got.str());
  }
  if (blob_exists(repo, digest)) return;
  const int attempts = impl_->transport.options().max_attempts;
  for (int attempt = 1;; ++attempt) {
    // A failed upload is restarted from the POST: the POST itself is never replayed.
    try {
      auto [location, started] = impl_->try_start_upload(repo, what);
      if (location.empty()) {
        if (!is_retryable_status(started.status) || attempt >= attempts) {
          throw_for(started, what, "starting an upload");
        }
      } else {
        Request r;
        r.method = "PUT";
        r.url = with_query(location, "digest=" + detail::url_escape(digest.str()));
        r.headers.push_back("Content-Type: " + std::string(kUploadContentType));
        r.body = data;
        r.idempotent = false;
        r.max_body = limits::kMaxRegistryErrorBody;
        r.what = what;
        r.progress = "upload " + digest.str().substr(0, 19);
        r.bulk = data.size() >= kBulkBytes;
        auto resp = impl_->send(repo, push_scope(repo), std::move(r));
        if (is_success(resp.status)) return;
        if (!is_retryable_status(resp.status) || attempt >= attempts) {
          throw_for(resp, what, "uploading");
        }
      }
    } catch (const TransportError& e) {
      if (!e.retryable() || attempt >= attempts) throw;
    }
    impl_->transport.backoff(attempt);
  }
}

void Client::put_blob_stream(const Repository& repo, const Digest& digest, std::uint64_t size,
                             const std::function<std::size_t(std::uint8_t*, std::size_t)>& read,
                             std::uint64_t chunk_size) {
  const auto what = repo.str() + " blob " + digest.str();
  if (blob_exists(repo, digest)) return;
  auto location = impl_->start_upload(repo, what);
  // Each PATCH streams its bytes straight from `read` to the socket: no buffer of our own. The
  // bytes are not hashed here: the registry must check them against `digest` before it commits
  // (DIGEST_INVALID otherwise), and what a registry stores is verified again whenever it is read.
  std::uint64_t offset = 0;
  while (offset < size) {
    const std::uint64_t n = chunk_size == 0 ? size - offset : std::min(chunk_size, size - offset);
    std::uint64_t sent = 0;
    Request r;
    r.method = "PATCH";
    r.url = location;
    r.headers.push_back("Content-Type: " + std::string(kUploadContentType));
    r.headers.push_back("Content-Range: " + std::to_string(offset) + "-" +
                        std::to_string(offset + n - 1));
    r.body_size = n;
    r.body_reader = [&](std::uint8_t* buf, std::size_t cap) -> std::size_t {
      const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(cap, n - sent));
      if (want == 0) return 0;
      const auto got = read(buf, want);
      if (got == 0) {
        throw DigestMismatchError(what + ": the data has " + std::to_string(offset + sent) +
                                  " bytes, " + std::to_string(size) + " were declared");
      }
      sent += got;
      return got;
    };
    r.idempotent = false;
    r.max_body = limits::kMaxRegistryErrorBody;
    r.what = what;
    r.progress = "upload " + digest.str().substr(0, 19);
    r.bulk = n >= kBulkBytes;
    auto resp = impl_->send(repo, push_scope(repo), std::move(r));
    if (resp.status != 202 && !is_success(resp.status)) {
      throw_for(resp, what, "uploading bytes " + std::to_string(offset) + "-");
    }
    if (auto loc = resp.headers.get("location"); loc && !loc->empty()) {
      location = detail::resolve_url(resp.url, *loc);
    }
    offset += n;
  }
  // The reader's end is where the source's digest check happens: commit only after it.
  std::uint8_t extra = 0;
  if (read(&extra, 1) != 0) {
    throw DigestMismatchError(what + ": the data is longer than the " + std::to_string(size) +
                              " bytes declared");
  }
  Request r;
  r.method = "PUT";
  r.url = with_query(location, "digest=" + detail::url_escape(digest.str()));
  r.headers.push_back("Content-Type: " + std::string(kUploadContentType));
  r.idempotent = true;
  r.max_body = limits::kMaxRegistryErrorBody;
  r.what = what;
  auto resp = impl_->send(repo, push_scope(repo), std::move(r));
  if (is_success(resp.status)) return;
  if (resp.status == 400 && has_code(parse_error_body(resp), "DIGEST_INVALID")) {
    throw DigestMismatchError(what +
                              ": the registry refused the upload: the data does not hash "
                              "to " +
                              digest.str() + " (" + status_text(resp) + ")");
  }
  throw_for(resp, what, "finishing the upload");
}

bool Client::mount_blob(const Repository& repo, const Digest& digest, const Repository& from) {
  const auto what = repo.str() + " blob " + digest.str() + " (mount from " + from.name + ")";
  if (from.registry != repo.registry) {
    throw UsageError(what + ": can only mount from a repository on the same registry");
  }
  Request r;
  r.method = "POST";
  r.url = impl_->base(repo) + "/blobs/uploads/?mount=" + detail::url_escape(digest.str()) +
          "&from=" + detail::url_escape(from.name);
  r.idempotent = false;
  r.max_body = limits::kMaxRegistryErrorBody;
  r.what = what;
  Scope scope = push_scope(repo);
  scope.items.push_back("repository:" + from.name + ":pull");
  auto resp = impl_->send(repo, scope, std::move(r));
  if (resp.status == 201) return true;
  if (resp.status == 202) return false;
  throw_for(resp, what, "mounting");
}

std::vector<std::string> Client::list_tags(const Repository& repo, std::size_t max_tags) {
  const auto what = repo.str();
  std::vector<std::string> tags;
  std::set<std::string> seen_pages;
  std::string url = impl_->base(repo) + "/tags/list?n=" + std::to_string(kTagPageSize);
  for (std::size_t page = 0;; ++page) {
    if (page >= limits::kMaxTagListPages) {
      throw LimitError(what + ": tag list over the limit of " +
                       std::to_string(limits::kMaxTagListPages) + " pages");
    }
    if (!seen_pages.insert(url).second) break;  // a Link loop
    Request r;
    r.url = url;
    r.max_body = limits::kMaxTagListPageBytes;
    r.follow_redirects = true;
    r.what = what;
    auto resp = impl_->send(repo, pull_scope(repo), std::move(r));
    if (resp.status == 404) return tags;
    if (!is_success(resp.status)) throw_for(resp, what, "listing tags");
    auto j = trust::detail::parse_json(as_string_view(resp.body), what + ": tag list",
                                       limits::kMaxTagListPageBytes);
    auto it = j.find("tags");
    if (!j.is_object()) throw InputError(what + ": tag list is not a JSON object");
    if (it != j.end() && !it->is_null()) {
      if (!it->is_array()) throw InputError(what + ": tag list 'tags' is not an array");
      for (const auto& t : *it) {
        if (!t.is_string()) throw InputError(what + ": tag list holds a non-string tag");
        if (tags.size() >= max_tags) {
          throw LimitError(what + ": more than " + std::to_string(max_tags) + " tags");
        }
        tags.push_back(t.get<std::string>());
      }
    }
    auto next = next_link(resp);
    if (!next) break;
    if (detail::origin_of(*next) != detail::origin_of(resp.url)) {
      throw RegistryError(what + ": tag list pagination points to another host");
    }
    url = *next;
  }
  return tags;
}

std::optional<oci::Index> Client::referrers(const Repository& repo, const Digest& subject,
                                            std::string_view artifact_type) {
  const auto what = repo.str() + "@" + subject.str() + " referrers";
  std::string url = impl_->base(repo) + "/referrers/" + subject.str();
  if (!artifact_type.empty()) {
    url += "?artifactType=" + detail::url_escape(artifact_type);
  }
  oci::Index merged;
  merged.media_type = std::string(media_type::kOciIndex);
  std::set<std::string> seen_pages;
  for (std::size_t page = 0; page < limits::kMaxReferrersPages; ++page) {
    if (!seen_pages.insert(url).second) break;
    Request r;
    r.url = url;
    r.headers.push_back("Accept: " + std::string(media_type::kOciIndex));
    r.max_body = limits::kMaxManifestBytes;
    r.follow_redirects = true;
    r.what = what;
    auto resp = impl_->send(repo, pull_scope(repo), std::move(r));
    const auto ct = resp.content_type().value_or("");
    // A registry with the API answers 200 with an OCI index; one without answers 404 (a plain
    // "404 page not found" from distribution 2.8), 405, or something that is not an index.
    if (page == 0) {
      if (resp.status == 404 || resp.status == 405) return std::nullopt;
      if (is_success(resp.status) && ct != media_type::kOciIndex) return std::nullopt;
    }
    if (!is_success(resp.status)) throw_for(resp, what, "listing referrers");
    auto index = oci::Index::parse(resp.body, what);
    const bool filtered = [&] {
      for (const auto& f : resp.headers.all("oci-filters-applied")) {
        if (f.find("artifactType") != std::string::npos) return true;
      }
      return false;
    }();
    for (auto& d : index.manifests) {
      if (!artifact_type.empty() && !filtered && d.artifact_type.value_or("") != artifact_type) {
        continue;
      }
      if (merged.manifests.size() >= limits::kMaxIndexEntries) {
        throw LimitError(what + ": more than " + std::to_string(limits::kMaxIndexEntries) +
                         " referrers");
      }
      merged.manifests.push_back(std::move(d));
    }
    if (page == 0) merged.raw = index.raw;
    auto next = next_link(resp);
    if (!next) return merged;
    if (detail::origin_of(*next) != detail::origin_of(resp.url)) {
      throw RegistryError(what + ": referrers pagination points to another host");
    }
    merged.raw.clear();
    url = *next;
  }
  throw LimitError(what + ": referrers over the limit of " +
                   std::to_string(limits::kMaxReferrersPages) + " pages");
}

}  // namespace trust::registry
