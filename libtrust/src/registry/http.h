#pragma once
// Private to libtrust/registry: the HTTP transport over libcurl. One Transport per Client: a
// CURLSH share (connections, DNS, TLS sessions) so every request of a command reuses connections;
// manual redirects that drop Authorization across origins; retries with one backoff for
// idempotent requests; one deadline for the whole operation (TransportOptions::timeout), which no
// transfer, retry, resume, redirect or wait outlives; every body capped while it is read; one
// minimum-rate check (a stall is the zero-rate case); progress; trace; stats.

#include <curl/curl.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <exception>
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
#include "libtrust/core/limits.h"
#include "libtrust/core/secret.h"
#include "libtrust/registry/client.h"

namespace trust::registry::detail {

using Clock = std::chrono::steady_clock;

// RAII for every curl handle.
struct CurlEasyDeleter {
  void operator()(CURL* h) const noexcept { curl_easy_cleanup(h); }
};
struct CurlMultiDeleter {
  void operator()(CURLM* m) const noexcept { curl_multi_cleanup(m); }
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
using CurlMulti = std::unique_ptr<CURLM, CurlMultiDeleter>;
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
  // transfer aborted), or handed to `sink` chunk by chunk when set (the sink caps it: a
  // BlobVerifier refuses more than the descriptor's size). Any other answer's body is kept (a
  // redirect's only counted) up to limits::kMaxRegistryErrorBody; past that the transfer is cut
  // and the answer used as it is.
  std::size_t max_body = limits::kMaxRegistryErrorBody;
  std::function<void(ByteView)> sink;
  // Body bytes `sink` already holds from an earlier perform (one answered 401 after a resumed
  // download): the rest is asked for with Range.
  std::uint64_t resume_from = 0;
  std::string what;      // names the operation in messages: "127.0.0.1:5000/lab/hello:v1"
  std::string progress;  // label for the progress line (empty: none)
  bool bulk = false;     // a large blob body: sent over HTTP/1.1 (see configure_easy)
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
  enum class Kind {
    kDropped,       // reset, partial body, empty reply, send failure: worth another attempt
    kUnresponsive,  // stalled, too slow, or timed out connecting: worth one more at most
    kFatal,         // DNS, refused connection, TLS verification, …: another attempt is futile
  };
  // `delivered`: success-body bytes already handed to the request's sink. Retryable from the
  // start when nothing was.
  TransportError(const std::string& message, Kind kind, std::uint64_t delivered = 0)
      : RegistryError(message), kind_(kind), delivered_(delivered) {}
  bool retryable() const { return transient() && delivered_ == 0; }
  bool transient() const { return kind_ != Kind::kFatal; }
  Kind kind() const { return kind_; }
  std::uint64_t delivered() const { return delivered_; }

 private:
  Kind kind_;
  std::uint64_t delivered_;
};

// The operation's deadline (TransportOptions::timeout) passed, or a wait would pass it. Never
// retried: nothing may run past the deadline.
class DeadlineError : public RegistryError {
 public:
  using RegistryError::RegistryError;
};

// The operation's deadline: TransportOptions::timeout after the client's creation, or none.
class Deadline {
 public:
  explicit Deadline(std::chrono::milliseconds timeout);
  bool set() const { return at_.has_value(); }
  // Time left, 0 once it passed; nullopt without a deadline.
  std::optional<std::chrono::milliseconds> remaining() const;
  bool passed() const;
  // "the deadline of 8 s for this operation (--timeout)"
  std::string describe() const;

 private:
  std::chrono::milliseconds timeout_;
  std::optional<Clock::time_point> at_;
};

// "8 s", "250 ms": a duration for messages.
std::string describe_duration(std::chrono::milliseconds d);

// The one check of a transfer's pace (TransportOptions::stall_timeout and min_transfer_rate):
// once a transfer has run for a window, every window must have moved at least
// min_transfer_rate × window bytes, and at least one (so that no movement at all, a stall, is
// the case of the rate being 0). Sliding: samples of the bytes moved, kept this far apart.
class RateWindow {
 public:
  static constexpr std::chrono::milliseconds kSampleSpacing{100};
  RateWindow(std::chrono::milliseconds window, std::uint64_t min_rate, Clock::time_point start);
  // After `moved` bytes in all at `now`: nullopt while the pace holds, else the bytes moved in
  // the last window (0: a stall).
  std::optional<std::uint64_t> too_slow(Clock::time_point now, std::uint64_t moved);
  std::uint64_t min_bytes() const { return min_bytes_; }

 private:
  struct Sample {
    Clock::time_point at;
    std::uint64_t moved;
  };
  std::chrono::milliseconds window_;
  std::uint64_t min_bytes_;
  Clock::time_point start_;
  std::deque<Sample> samples_;  // oldest first: the last one at or before the window's start
};

// "scheme://host[:port]" of a URL as libcurl parses it (userinfo dropped), lower-cased, the
// scheme's default port dropped; "" when it is not an absolute URL.
std::string origin_of(std::string_view url);
// "host[:port]" of a URL as written.
std::string authority_of(std::string_view url);
// Resolves a Location header against the URL that sent it (http and https only); userinfo in it
// is dropped, so that no redirect can choose the credentials libcurl would send.
std::string resolve_url(std::string_view base, std::string_view location);
// application/x-www-form-urlencoded / query component escaping.
std::string url_escape(std::string_view text);
// `url` with `param` ("name=value", escaped) appended to its query.
std::string with_query(const std::string& url, const std::string& param);

// One transfer's state, for the libcurl callbacks (http.cpp).
struct Transfer;

// One answer of Transport::perform_batch: the response, or the exception its transfer ended in
// (a TransportError, a LimitError past a cap, a DeadlineError, what a sink threw).
struct BatchResult {
  Response response;
  std::exception_ptr error;
};

class Transport {
 public:
  explicit Transport(TransportOptions options);
  ~Transport();
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  // "https://host" or, for an insecure registry whose TLS failed, "http://host".
  std::string origin_for(const std::string& registry);

  // Performs `req`: redirects (when asked), retries (when idempotent), caps, the deadline.
  // Returns any HTTP answer (the caller interprets the status); throws TransportError below HTTP,
  // LimitError past a cap, DeadlineError, RegistryError for a Retry-After longer than
  // max_retry_delay, and whatever a sink throws.
  Response perform(const Request& req);

  // Performs independent GET requests at once, each exactly once: no redirects, retries,
  // resumes or plain-HTTP fallback (the caller takes anything but a final answer the slow way,
  // through perform). They go as HTTP/2 streams on one connection where the server offers it,
  // else on up to `max_connections` connections. A request starts only while the `max_body` of
  // those started and not yet handed to `done` stays within `max_in_flight` (a larger one goes
  // alone). `done(i, result)` runs on the calling thread as each ends; if it throws, the others
  // are aborted and the exception is rethrown.
  void perform_batch(const std::vector<Request>& reqs, std::uint64_t max_in_flight,
                     long max_connections,
                     const std::function<void(std::size_t, BatchResult)>& done);

  // The one backoff: sleeps before attempt `attempt + 1` (`attempt` failures so far), `base`
  // doubling with each attempt (±50 % jitter), at most max_retry_delay. `why` says what failed,
  // for the DeadlineError thrown at once when the wait would pass the deadline.
  void backoff(int attempt, const std::string& why,
               std::optional<std::chrono::milliseconds> base = std::nullopt) const;
  // Sleeps `delay`, or throws DeadlineError at once if that would pass the deadline.
  void wait(std::chrono::milliseconds delay, const std::string& why) const;

  const TransportOptions& options() const { return options_; }
  const Deadline& deadline() const { return deadline_; }
  RequestStats stats() const;
  void count_token_request();
  bool is_insecure(std::string_view authority) const;

 private:
  // `resume_from` > 0: the sink already has that many bytes of the body; ask for the rest.
  Response perform_once(const Request& req, const std::string& url, bool send_auth,
                        std::uint64_t resume_from);
  Response perform_with_redirects(const Request& req, std::string url, std::uint64_t resume_from);
  // The parts of one transfer: a configured easy handle, and the answer (or the error) it ended
  // in, with stats, the last progress line and the trace line accounted for.
  CurlEasy configure_easy(Transfer& t, const std::string& url, bool send_auth);
  Response finish(Transfer& t, const std::string& url, CURLcode rc);
  void check_deadline(const Request& req, const std::string& url) const;
  // Before another attempt at a 429 / 5xx: its Retry-After as asked (or refused at once when it
  // is longer than max_retry_delay or past the deadline), else the backoff.
  void wait_to_retry(const Response& resp, int attempt, const std::string& why) const;
  void warn_insecure(const std::string& authority);
  void trace(const std::string& line) const;

  TransportOptions options_;
  Deadline deadline_;
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
