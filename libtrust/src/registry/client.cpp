#include "libtrust/registry/client.h"

#include <algorithm>
#include <chrono>
#include <optional>
#include <set>

#include "core/json_util.h"
#include "libtrust/core/error.h"
#include "libtrust/core/limits.h"
#include "libtrust/core/media_type.h"
#include "libtrust/core/text.h"
#include "oci/oci_internal.h"
#include "registry/api_errors.h"
#include "registry/auth.h"
#include "registry/http.h"
#include "registry/token_auth.h"

namespace trust::registry {

using detail::has_code;
using detail::is_retryable_status;
using detail::is_success;
using detail::parse_error_body;
using detail::Request;
using detail::Response;
using detail::Scope;
using detail::status_text;
using detail::throw_for;
using detail::TransportError;
using detail::with_query;

namespace {

constexpr std::size_t kTagPageSize = 1000;
constexpr std::string_view kUploadContentType = "application/octet-stream";
// Blob transfers of at least this size go over HTTP/1.1 connections of their own (Request::bulk);
// smaller ones (signature payloads, configs) share the HTTP/2 connection.
constexpr std::uint64_t kBulkBytes = 4u << 20;
// A manifest PUT that lost a race with another writer's blob upload is retried quickly: the
// window is one blob commit. Delays double from here (with jitter), so a blob that is really
// missing fails in about 1.5 s over limits::kMaxManifestPutRetries attempts.
constexpr std::chrono::milliseconds kRacyPutBackoffBase{50};

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

std::string api_host(const std::string& registry) {
  return registry == kDockerHubRegistry ? std::string(kDockerHubApiHost) : registry;
}

// A manifest's media type: its mediaType field, else a manifest Content-Type, else what its
// shape says (an index or an image manifest).
std::string manifest_media_type(ByteView bytes, const Response& resp, const std::string& what) {
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

}  // namespace

void TransportOptions::validate() const {
  if (max_attempts < 1) throw UsageError("registry options: max_attempts must be at least 1");
  if (connect_timeout.count() <= 0 || stall_timeout.count() <= 0) {
    throw UsageError("registry options: timeouts must be positive");
  }
  if (timeout.count() < 0) throw UsageError("registry options: timeout must not be negative");
  if (retry_backoff_base.count() < 0 || max_retry_delay.count() < 0) {
    throw UsageError("registry options: retry delays must not be negative");
  }
  for (const auto& h : insecure_registries) {
    if (h.empty() || h.find('/') != std::string::npos || h.find("://") != std::string::npos) {
      throw UsageError("--insecure-registry '" + excerpt(h, 100) +
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

// What a client holds: the transport, the credentials and what answers challenges with them,
// and the request shapes shared by several calls.
struct Client::Impl {
  explicit Impl(TransportOptions options)
      : transport(std::move(options)),
        credentials(transport.options()),
        auth(transport, credentials) {}

  detail::Transport transport;
  detail::CredentialStore credentials;
  detail::Authenticator auth;

  std::string base(const Repository& repo) {
    return transport.origin_for(api_host(repo.registry)) + "/v2/" + repo.name;
  }

  Response send(const Repository& repo, const Scope& scope, Request req) {
    return auth.send(repo, scope, std::move(req));
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
    return send(repo, Scope::pull(repo), std::move(r));
  }

  // --- uploads -----------------------------------------------------------------------------

  // POST …/blobs/uploads/: the upload's Location, or the failing response (status != 202).
  std::pair<std::string, Response> try_start_upload(const Repository& repo,
                                                    const std::string& what) {
    Request r;
    r.method = "POST";
    r.url = base(repo) + "/blobs/uploads/";
    r.idempotent = false;
    r.what = what;
    auto resp = send(repo, Scope::push(repo), std::move(r));
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

void Client::wait(std::chrono::milliseconds delay, const std::string& why) const {
  impl_->transport.wait(delay, why);
}

void Client::ping(std::string_view registry) {
  Repository repo{std::string(registry), ""};
  Request r;
  r.url = impl_->transport.origin_for(api_host(repo.registry)) + "/v2/";
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
  out.descriptor.media_type = manifest_media_type(out.bytes, resp, what);
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
    d.media_type = manifest_media_type(bytes, resp, what);
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
  if (d.media_type.empty()) d.media_type = manifest_media_type(bytes, Response{}, what);
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
    r.what = what;
    auto resp = impl_->send(repo, Scope::push(repo), std::move(r));
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
    impl_->transport.backoff(attempt, what + ": pushing the manifest: " + status_text(resp),
                             kRacyPutBackoffBase);
  }
}

void Client::delete_manifest(const Repository& repo, const Digest& digest) {
  const auto what = repo.str() + "@" + digest.str();
  Request r;
  r.method = "DELETE";
  r.url = impl_->base(repo) + "/manifests/" + digest.str();
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
  auto resp = impl_->send(repo, Scope::pull(repo), std::move(r));
  if (!is_success(resp.status)) throw_for(resp, what + " blob " + desc.digest.str(), "fetching");
  verifier.finish();
}

std::vector<std::size_t> Client::get_blobs(const Repository& repo,
                                           const std::vector<oci::Descriptor>& descs,
                                           std::uint64_t max_bytes, std::uint64_t max_in_flight,
                                           const std::function<void(std::size_t, Bytes)>& on_blob) {
  const auto what = repo.str();
  for (const auto& d : descs) oci::detail::check_size_cap(d, max_bytes, what);
  if (descs.empty()) return {};
  // One Authorization for all (learnt from the requests before, or a token fetched now): the
  // batch answers no challenge itself.
  const auto auth = impl_->auth.authorization(repo.registry, Scope::pull(repo), what);
  struct Slot {
    Bytes data;
    std::optional<oci::detail::BlobVerifier> verifier;
  };
  std::vector<Slot> slots(descs.size());
  std::vector<Request> reqs(descs.size());
  for (std::size_t i = 0; i < descs.size(); ++i) {
    Slot& slot = slots[i];
    slot.verifier.emplace(descs[i], what);
    slot.data.reserve(static_cast<std::size_t>(descs[i].size));
    Request& r = reqs[i];
    r.url = impl_->base(repo) + "/blobs/" + descs[i].digest.str();
    r.what = what + "@" + descs[i].digest.str();
    r.authorization = auth ? &*auth : nullptr;
    r.max_body = static_cast<std::size_t>(descs[i].size);  // its weight in the byte budget
    r.sink = [&slot](ByteView chunk) {
      slot.verifier->update(chunk);  // refuses more than the descriptor's size at once
      slot.data.insert(slot.data.end(), chunk.begin(), chunk.end());
    };
  }
  std::vector<std::size_t> again;
  impl_->transport.perform_batch(
      reqs, max_in_flight, static_cast<long>(limits::kAttachmentFetchThreads),
      [&](std::size_t i, detail::BatchResult result) {
        if (result.error) {
          try {
            std::rethrow_exception(result.error);
          } catch (const TransportError&) {
            // Below HTTP (dropped, slow, TLS refused by an insecure registry still to fall back
            // to plain HTTP, …): the slow way retries it, or reports it with its retries spent.
          }
          again.push_back(i);
          return;
        }
        const Response& resp = result.response;
        if (is_success(resp.status)) {
          slots[i].verifier->finish();
          slots[i].verifier.reset();
          on_blob(i, std::move(slots[i].data));
          return;
        }
        // A challenge, a redirect, or a status worth another attempt: the slow way handles it.
        if (resp.status == 401 || (resp.status >= 300 && resp.status < 400) ||
            is_retryable_status(resp.status)) {
          again.push_back(i);
          return;
        }
        throw_for(resp, what + " blob " + descs[i].digest.str(), "fetching");
      });
  return again;
}

bool Client::blob_exists(const Repository& repo, const Digest& digest) {
  const auto what = repo.str() + " blob " + digest.str();
  Request r;
  r.method = "HEAD";
  r.url = impl_->base(repo) + "/blobs/" + digest.str();
  r.follow_redirects = true;
  r.what = what;
  auto resp = impl_->send(repo, Scope::pull(repo), std::move(r));
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
    std::string failure;
    try {
      auto [location, started] = impl_->try_start_upload(repo, what);
      if (location.empty()) {
        if (!is_retryable_status(started.status) || attempt >= attempts) {
          throw_for(started, what, "starting an upload");
        }
        failure = what + ": starting an upload: " + status_text(started);
      } else {
        Request r;
        r.method = "PUT";
        r.url = with_query(location, "digest=" + detail::url_escape(digest.str()));
        r.headers.push_back("Content-Type: " + std::string(kUploadContentType));
        r.body = data;
        r.idempotent = false;
        r.what = what;
        r.progress = "upload " + digest.str().substr(0, 19);
        r.bulk = data.size() >= kBulkBytes;
        auto resp = impl_->send(repo, Scope::push(repo), std::move(r));
        if (is_success(resp.status)) return;
        if (!is_retryable_status(resp.status) || attempt >= attempts) {
          throw_for(resp, what, "uploading");
        }
        failure = what + ": uploading: " + status_text(resp);
      }
    } catch (const TransportError& e) {
      if (!e.retryable() || attempt >= attempts) throw;
      failure = e.what();
    }
    impl_->transport.backoff(attempt, failure);
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
    r.what = what;
    r.progress = "upload " + digest.str().substr(0, 19);
    r.bulk = n >= kBulkBytes;
    auto resp = impl_->send(repo, Scope::push(repo), std::move(r));
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
  r.what = what;
  auto resp = impl_->send(repo, Scope::push(repo), std::move(r));
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
  r.what = what;
  Scope scope = Scope::push(repo);
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
    auto resp = impl_->send(repo, Scope::pull(repo), std::move(r));
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
    auto resp = impl_->send(repo, Scope::pull(repo), std::move(r));
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
