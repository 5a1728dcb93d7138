#pragma once
// Private to libtrust/registry: the HTTP transport over libcurl. One Transport per Client: a
// CURLSH share (connections, DNS, TLS sessions) so every request of a command reuses connections;
// manual redirects that drop Authorization across origins; retries with backoff for idempotent
// requests; bodies capped while reading; stall detection; progress; trace; stats.

#include <curl/curl.h>

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "libtrust/core/bytes.h"
#include "libtrust/core/error.h"
#include "libtrust/core/secret.h"
#include "libtrust/registry/client.h"

namespace trust::registry::detail {

// RAII for every curl handle.
struct CurlEasyDeleter {
  void operator()(CURL* h) const noexcept { curl_easy_cleanup(h); }
};
struct CurlShareDeleter {
  void operator()(CURLSH* h) const noexcept { curl_share_cleanup(h); }
};
// Wipes every header string before freeing: Authorization values are secrets.
struct CurlSlistDeleter {
  void operator()(curl_slist* list) const noexcept;
};
struct CurlUrlDeleter {
  void operator()(CURLU* u) const noexcept { curl_url_cleanup(u); }
};
using CurlEasy = std::unique_ptr<CURL, CurlEasyDeleter>;
using CurlShare = std::unique_ptr<CURLSH, CurlShareDeleter>;
using CurlSlist = std::unique_ptr<curl_slist, CurlSlistDeleter>;
using CurlUrl = std::unique_ptr<CURLU, CurlUrlDeleter>;

// Response headers, names lower-cased, in arrival order.
struct Headers {
  std::vector<std::pair<std::string, std::string>> items;
  std::optional<std::string> get(std::string_view name) const;
  std::vector<std::string> all(std::string_view name) const;
};

struct Request {
  std::string method = "GET";  // GET HEAD PUT POST PATCH DELETE
  std::string url;
  std::vector<std::string> headers;  // "Name: value"; never secrets
  // "Authorization: …" (a secret): sent only while the URL's origin is the request's first
  // origin (scheme://host:port), never after a redirect elsewhere; never traced or logged.
  const SecretBytes* authorization = nullptr;
  ByteView body;  // payload of PUT / POST / PATCH
  // Or a streamed payload of exactly `body_size` bytes: filled by `body_reader` (returns the bytes
  // written to the buffer; throwing aborts the transfer and the exception is rethrown). A
  // streamed request cannot be sent twice: it is never retried, and a 401 fails it.
  std::function<std::size_t(std::uint8_t*, std::size_t)> body_reader;
  std::uint64_t body_size = 0;
  // Retried on 5xx, 429, and dropped or stalled transfers. A GET into a `sink` that fails after
  // some bytes reached it is resumed where it stopped (Range), at most limits::kMaxBlobResumes
  // times; a server that ignores Range sends the whole body again and the bytes the sink already
  // has are skipped.
  bool idempotent = true;
  bool follow_redirects = false;  // GET / HEAD only, at most limits::kMaxRedirects
  // A success (2xx) body is kept in memory up to `max_body` bytes (LimitError past it, the
  // transfer aborted), or handed to `sink` chunk by chunk when set.
  std::size_t max_body = 0;
  std::function<void(ByteView)> sink;
  // Body bytes `sink` already holds from an earlier perform (one answered 401 after a resumed
  // download): the rest is asked for with Range.
  std::uint64_t resume_from = 0;
  std::string what;      // names the operation in messages: "127.0.0.1:5000/lab/hello:v1"
  std::string progress;  // label for the progress line (empty: none)
  bool bulk = false;     // a large blob body: sent over HTTP/1.1 (see perform_once)
};

struct Response {
  long status = 0;
  std::string url;  // the URL that answered (after redirects)
  Headers headers;
  Bytes body;  // success body (≤ max_body), or the error body (≤ kMaxRegistryErrorBody)
  std::uint64_t sink_bytes = 0;  // body bytes the request's sink holds, across resumes
  std::optional<std::string> content_type() const;  // without parameters, lower-cased
};

// A transfer failure below HTTP (connection, TLS, stall, dropped connection).
class TransportError : public RegistryError {
 public:
  // `transient`: a dropped or stalled transfer, worth another attempt. `delivered`: success-body
  // bytes already handed to the request's sink. Retryable from the start when nothing was.
  TransportError(const std::string& message, bool transient, std::uint64_t delivered = 0)
      : RegistryError(message), transient_(transient), delivered_(delivered) {}
  bool retryable() const { return transient_ && delivered_ == 0; }
  bool transient() const { return transient_; }
  std::uint64_t delivered() const { return delivered_; }

 private:
  bool transient_;
  std::uint64_t delivered_;
};

// "scheme://host[:port]" of a URL, lower-cased, default port dropped.
std::string origin_of(std::string_view url);
// "host[:port]" of a URL as written.
std::string authority_of(std::string_view url);
// Resolves a Location header against the URL that sent it.
std::string resolve_url(std::string_view base, std::string_view location);
// application/x-www-form-urlencoded / query component escaping.
std::string url_escape(std::string_view text);

class Transport {
 public:
  explicit Transport(TransportOptions options);
  ~Transport();
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  // "https://host" or, for an insecure registry whose TLS failed, "http://host".
  std::string origin_for(const std::string& registry);

  // Performs `req`: redirects (when asked), retries (when idempotent), caps. Returns any HTTP
  // answer (the caller interprets the status); throws TransportError below HTTP, LimitError past
  // a cap, and whatever a sink throws.
  Response perform(const Request& req);

  // Sleeps the backoff delay before attempt `attempt` (1-based count of failures so far).
  void backoff(int attempt, std::optional<long> retry_after_seconds = std::nullopt) const;

  const TransportOptions& options() const { return options_; }
  RequestStats stats() const;
  void count_token_request();
  bool is_insecure(std::string_view authority) const;

 private:
  // `resume_from` > 0: the sink already has that many bytes of the body; ask for the rest.
  Response perform_once(const Request& req, const std::string& url, bool send_auth,
                        std::uint64_t resume_from);
  Response perform_with_redirects(const Request& req, std::string url, std::uint64_t resume_from);
  void warn_insecure(const std::string& authority);
  void trace(const std::string& line) const;

  TransportOptions options_;
  CurlShare share_;
  std::array<std::mutex, CURL_LOCK_DATA_LAST> share_locks_;
  bool use_ca_dir_ = false;  // system CAs from the hashed /etc/ssl/certs
  std::string ca_blob_;      // ca_file (after the system bundle when there is no hashed dir)
  mutable std::mutex mu_;
  std::map<std::string, std::string> scheme_;  // registry authority -> "http" after fallback
  std::set<std::string> warned_;
  RequestStats stats_;

  friend void share_lock(CURL*, curl_lock_data, curl_lock_access, void*);
  friend void share_unlock(CURL*, curl_lock_data, void*);
};

}  // namespace trust::registry::detail
