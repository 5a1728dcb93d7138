#include "registry/http.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <exception>
#include <filesystem>
#include <random>
#include <thread>

#include "libtrust/core/file.h"
#include "libtrust/core/limits.h"
#include "libtrust/core/text.h"

namespace trust::registry::detail {

using std::chrono::milliseconds;

namespace {

constexpr long kMaxIdleConnections = 32;
constexpr const char* kSystemCaBundle = "/etc/ssl/certs/ca-certificates.crt";
constexpr const char* kSystemCaDir = "/etc/ssl/certs";  // with c_rehash links (<hash>.0)
constexpr std::uint64_t kMaxCaFileBytes = 16u << 20;    // --ca-file (user-supplied)
constexpr curl_off_t kProgressThreshold = 4 << 20;      // progress lines for transfers over 4 MB
constexpr const char* kUserAgent = "sigil/0.1";
// A stalled or too slow attempt, or one whose connection phase timed out, is tried once more (a
// kept connection may have died silently), then the request fails: a server that never answers
// costs two stall timeouts, not max_attempts of them. Resumes count too.
constexpr int kMaxUnresponsiveAttempts = 2;
// How long perform_batch sleeps at most when no transfer has anything to do (libcurl wakes it
// for its own timeouts and for socket activity).
constexpr int kBatchPollMs = 100;
// A transfer timed out with this little of the deadline left ran into the deadline.
constexpr milliseconds kDeadlineSlack{50};
// A Retry-After in seconds beyond this is taken as this (it is refused long before anyway).
constexpr std::int64_t kMaxRetryAfterSeconds = 1'000'000'000;

// Whether `dir` holds OpenSSL subject-hash links ("1a2b3c4d.0"), as update-ca-certificates makes.
bool has_hashed_certificates(const char* dir) {
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec);
  if (ec) return false;
  for (const auto& entry : it) {
    const auto name = entry.path().filename().string();
    if (name.size() == 10 && name.compare(8, 2, ".0") == 0 &&
        name.find_first_not_of("0123456789abcdef") == 8) {
      return true;
    }
  }
  return false;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

bool is_dropped_connection(CURLcode rc) {
  return rc == CURLE_RECV_ERROR || rc == CURLE_PARTIAL_FILE || rc == CURLE_GOT_NOTHING ||
         rc == CURLE_SEND_ERROR || rc == CURLE_HTTP2 || rc == CURLE_HTTP2_STREAM;
}

bool is_redirect(long status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

bool is_retry_status(long status) {
  return status == 429 || (status >= 500 && status <= 599);
}

// One part of a parsed URL, "" when it has none.
std::string url_part(CURLU* u, CURLUPart part, unsigned int flags = 0) {
  char* out = nullptr;
  if (curl_url_get(u, part, &out, flags) != CURLUE_OK || out == nullptr) return {};
  std::string s(out);
  curl_free(out);
  return s;
}

// Retry-After of a 429 or 503: delay-seconds or an HTTP-date (libcurl's parser); nullopt when
// absent or unusable (then the ordinary backoff applies).
std::optional<milliseconds> retry_after(const Response& resp) {
  if (resp.status != 429 && resp.status != 503) return std::nullopt;
  auto value = resp.headers.get("retry-after");
  if (!value || value->empty()) return std::nullopt;
  const std::string& v = *value;
  if (std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    std::int64_t seconds = kMaxRetryAfterSeconds;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), seconds);
    if (ec != std::errc() || seconds > kMaxRetryAfterSeconds) seconds = kMaxRetryAfterSeconds;
    return milliseconds(seconds * 1000);
  }
  const std::time_t at = curl_getdate(v.c_str(), nullptr);
  if (at == -1) return std::nullopt;
  const auto seconds = std::clamp<std::int64_t>(static_cast<std::int64_t>(at) - std::time(nullptr),
                                                0, kMaxRetryAfterSeconds);
  return milliseconds(seconds * 1000);
}

}  // namespace

// ---- one transfer and its callbacks ---------------------------------------------------------

struct Transfer {
  Transfer(const Request& r, const TransportOptions& o, std::uint64_t resume)
      : req(r),
        options(o),
        resume_from(resume),
        rate(o.stall_timeout, o.min_transfer_rate, Clock::now()),
        show_progress(o.progress && !r.progress.empty()) {}

  const Request& req;
  const TransportOptions& options;
  CURL* easy = nullptr;
  Response resp;
  CurlSlist headers;
  std::array<char, CURL_ERROR_SIZE> errbuf{};
  std::size_t header_bytes = 0;
  bool headers_over_cap = false;
  std::uint64_t body_seen = 0;  // success-body bytes kept in memory so far (the cap's measure)
  bool body_over_cap = false;
  // Bytes of any other answer's body seen so far (kept for the error message; a redirect's only
  // counted); past kMaxRegistryErrorBody the transfer is cut and the answer stands as it is.
  std::uint64_t other_body_bytes = 0;
  bool cut_after_cap = false;
  std::uint64_t delivered = 0;  // success-body bytes handed to the sink
  // A resumed download: the sink has `resume_from` bytes. A 206 must start there; a 200 (Range
  // ignored) sends them again and `to_skip` counts those still to drop.
  std::uint64_t resume_from = 0;
  std::uint64_t to_skip = 0;
  bool resume_checked = false;
  curl_off_t progress_base = 0;  // bytes before this transfer's body (a 206), for the progress line
  std::exception_ptr sink_error;
  std::exception_ptr source_error;  // thrown by req.body_reader
  RateWindow rate;
  std::optional<std::uint64_t> too_slow;  // aborted by the rate check: bytes in the last window
  long connect_ms = 0;                    // CURLOPT_CONNECTTIMEOUT_MS given
  std::optional<long> deadline_ms;        // CURLOPT_TIMEOUT_MS given: what was left of the deadline
  bool show_progress;
  std::uint64_t progress_total = 0;
  Clock::time_point last_print{};
  bool printed = false;

  long status() const {
    long code = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
    return code;
  }
};

namespace {

size_t on_header(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::size_t len = size * n;
  t->header_bytes += len;
  if (t->header_bytes > limits::kMaxResponseHeaderBytes) {
    t->headers_over_cap = true;
    return 0;
  }
  std::string_view line(data, len);
  if (line.rfind("HTTP/", 0) == 0) {
    t->resp.headers.items.clear();  // a new response (after 100 Continue)
    return len;
  }
  auto colon = line.find(':');
  if (colon == std::string_view::npos) return len;
  t->resp.headers.items.emplace_back(lower(trim(line.substr(0, colon))),
                                     std::string(trim(line.substr(colon + 1))));
  return len;
}

// "bytes 100-999/1000" → 100; nullopt when malformed.
std::optional<std::uint64_t> content_range_start(std::string_view value) {
  constexpr std::string_view kUnit = "bytes ";
  if (value.substr(0, kUnit.size()) != kUnit) return std::nullopt;
  value.remove_prefix(kUnit.size());
  std::uint64_t start = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), start);
  if (ec != std::errc() || end == value.data() || end == value.data() + value.size() ||
      *end != '-') {
    return std::nullopt;
  }
  return start;
}

// The first body bytes of a resumed download: a 206 must continue exactly where the sink stopped;
// a 200 is the whole body again, whose first `resume_from` bytes the sink already has.
void check_resumed(Transfer& t, long status) {
  if (status == 200) {
    t.to_skip = t.resume_from;
    return;
  }
  const auto range = t.resp.headers.get("content-range");
  const auto start = range ? content_range_start(*range) : std::nullopt;
  if (status != 206 || start != t.resume_from) {
    throw RegistryError(t.req.what + ": resuming at byte " + std::to_string(t.resume_from) +
                        ": the registry answered HTTP " + std::to_string(status) +
                        " with Content-Range " +
                        (range ? "\"" + excerpt(*range) + "\"" : "missing"));
  }
  t.progress_base = static_cast<curl_off_t>(t.resume_from);
}

// A success body into the request's sink (which caps it), after what a resume skips.
size_t to_sink(Transfer& t, ByteView chunk, long status) {
  const std::size_t len = chunk.size();
  try {
    if (t.resume_from > 0 && !t.resume_checked) {
      t.resume_checked = true;
      check_resumed(t, status);
    }
    const auto skip = static_cast<std::size_t>(std::min<std::uint64_t>(t.to_skip, len));
    t.to_skip -= skip;
    chunk = chunk.subspan(skip);
    if (!chunk.empty()) t.req.sink(chunk);
  } catch (...) {
    t.sink_error = std::current_exception();
    return 0;
  }
  t.delivered += chunk.size();
  return len;
}

// A success body into memory, at most max_body bytes.
size_t keep_success(Transfer& t, ByteView chunk) {
  t.body_seen += chunk.size();
  if (t.body_seen > t.req.max_body) {
    t.body_over_cap = true;
    return 0;
  }
  t.resp.body.insert(t.resp.body.end(), chunk.begin(), chunk.end());
  return chunk.size();
}

// Any other answer's body: kept (a redirect's only counted) up to kMaxRegistryErrorBody, then
// the transfer is cut, and the answer stands as it is (an endless body cannot hold it up).
size_t keep_other(Transfer& t, ByteView chunk, long status) {
  const auto room = limits::kMaxRegistryErrorBody - t.other_body_bytes;
  const auto take = std::min<std::uint64_t>(room, chunk.size());
  if (!is_redirect(status)) {
    t.resp.body.insert(t.resp.body.end(), chunk.begin(),
                       chunk.begin() + static_cast<std::ptrdiff_t>(take));
  }
  t.other_body_bytes += take;
  if (chunk.size() > room) {
    t.cut_after_cap = true;
    return 0;
  }
  return chunk.size();
}

size_t on_body(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const long status = t->status();
  const ByteView chunk(reinterpret_cast<const std::uint8_t*>(data), size * n);
  if (status >= 200 && status < 300) {
    return t->req.sink ? to_sink(*t, chunk, status) : keep_success(*t, chunk);
  }
  return keep_other(*t, chunk, status);
}

size_t on_read(char* buffer, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  try {
    return t->req.body_reader(reinterpret_cast<std::uint8_t*>(buffer), size * n);
  } catch (...) {
    t->source_error = std::current_exception();
    return CURL_READFUNC_ABORT;
  }
}

int on_progress(void* user, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                curl_off_t ulnow) {
  auto* t = static_cast<Transfer*>(user);
  const auto now = Clock::now();
  if (auto moved = t->rate.too_slow(now, static_cast<std::uint64_t>(dlnow + ulnow))) {
    t->too_slow = *moved;
    return 1;
  }
  if (t->show_progress) {
    const curl_off_t total = std::max(dltotal, ultotal) + t->progress_base;
    const curl_off_t done = std::max(dlnow, ulnow) + t->progress_base;
    if (total > kProgressThreshold && now - t->last_print > milliseconds(100)) {
      t->last_print = now;
      t->printed = true;
      t->progress_total = static_cast<std::uint64_t>(total);
      t->options.progress({.label = t->req.progress,
                           .done = static_cast<std::uint64_t>(done),
                           .total = static_cast<std::uint64_t>(total),
                           .state = TransferProgress::State::kRunning});
    }
  }
  return 0;
}

// The request's header lines: its own, Range for a resume, and (to its first origin only) the
// Authorization secret, copied into the list that CurlSlistDeleter wipes.
CurlSlist request_headers(const Request& req, bool send_auth, std::uint64_t resume_from) {
  CurlSlist headers;
  auto add = [&](const char* line) {
    auto* next = curl_slist_append(headers.get(), line);
    if (next == nullptr) throw RegistryError(req.what + ": out of memory building headers");
    (void)headers.release();
    headers.reset(next);
  };
  for (const auto& line : req.headers) add(line.c_str());
  add("Expect:");
  if (resume_from > 0) add(("Range: bytes=" + std::to_string(resume_from) + "-").c_str());
  if (send_auth && req.authorization != nullptr) {
    SecretBytes line(req.authorization->size() + 1);
    std::copy(req.authorization->data(), req.authorization->data() + req.authorization->size(),
              line.data());
    line.data()[req.authorization->size()] = 0;
    add(reinterpret_cast<const char*>(line.data()));
  }
  return headers;
}

// The method, and for POST / PUT / PATCH the body: sent from the request's buffer (not copied),
// or streamed from its reader.
void set_method(CURL* h, Transfer& t) {
  static const char kEmpty[] = "";
  const Request& req = t.req;
  if (req.method == "GET") {
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
  } else if (req.method == "HEAD") {
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  } else if (req.method == "DELETE") {
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "DELETE");
  } else {
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    if (req.method != "POST") curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req.method.c_str());
    if (req.body_reader) {
      curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
      curl_easy_setopt(h, CURLOPT_READDATA, &t);
      curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body_size));
    } else {
      curl_easy_setopt(h, CURLOPT_POSTFIELDS,
                       req.body.empty() ? kEmpty : reinterpret_cast<const char*>(req.body.data()));
      curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
    }
  }
}

// What a transfer that failed below HTTP becomes: its cause in words, and whether another
// attempt may help.
TransportError transfer_error(const Transfer& t, const std::string& url, CURLcode rc,
                              bool insecure) {
  using Kind = TransportError::Kind;
  const auto& o = t.options;
  const std::string detail =
      t.errbuf[0] != 0 ? std::string(t.errbuf.data()) : curl_easy_strerror(rc);
  const auto authority = authority_of(url);
  Kind kind = Kind::kFatal;
  std::string cause;
  if (t.too_slow) {
    kind = Kind::kUnresponsive;
    cause = *t.too_slow == 0
                ? "the transfer stalled (no data for " + describe_duration(o.stall_timeout) + ")"
                : "the transfer is too slow (" + std::to_string(*t.too_slow) +
                      " bytes in the last " + describe_duration(o.stall_timeout) +
                      ", under the minimum of " + std::to_string(o.min_transfer_rate) + " bytes/s)";
  } else if (rc == CURLE_OPERATION_TIMEDOUT) {
    kind = Kind::kUnresponsive;  // the connection phase, past connect_timeout
    cause = "timed out connecting to " + authority + ": " + detail;
  } else if (rc == CURLE_COULDNT_RESOLVE_HOST) {
    cause = "cannot resolve host " + authority + ": " + detail;
  } else if (rc == CURLE_COULDNT_CONNECT) {
    cause = "cannot connect to " + authority + ": " + detail;
  } else if (rc == CURLE_PEER_FAILED_VERIFICATION) {
    cause = "the TLS certificate of " + authority + " is not trusted: " + detail +
            " (give its CA with --ca-file)";
  } else if (rc == CURLE_SSL_CONNECT_ERROR || rc == CURLE_SSL_CACERT_BADFILE) {
    cause = "TLS handshake with " + authority + " failed: " + detail;
    if (url.rfind("https://", 0) == 0 && !insecure) {
      cause += " (if " + authority + " serves plain HTTP, mark it --insecure-registry " +
               authority + ")";
    }
  } else if (rc == CURLE_OUT_OF_MEMORY) {
    // libcurl refuses a single header line over CURL_MAX_HTTP_HEADER (100 KiB) this way.
    cause = "the answer's headers could not be read (" + detail +
            "; a header line over libcurl's 100 KiB limit)";
  } else if (is_dropped_connection(rc)) {
    kind = Kind::kDropped;
    cause = "the connection was dropped: " + detail;
  } else {
    cause = detail;
  }
  return TransportError(t.req.what + ": " + t.req.method + " " + url + ": " + cause, kind,
                        t.delivered);
}

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace

// ---- small pieces ---------------------------------------------------------------------------

void CurlSlistDeleter::operator()(curl_slist* list) const noexcept {
  for (auto* p = list; p != nullptr; p = p->next) {
    if (p->data != nullptr) secure_wipe(p->data, std::char_traits<char>::length(p->data));
  }
  curl_slist_free_all(list);
}

std::optional<std::string> Headers::get(std::string_view name) const {
  auto key = lower(name);
  for (const auto& [k, v] : items) {
    if (k == key) return v;
  }
  return std::nullopt;
}

std::vector<std::string> Headers::all(std::string_view name) const {
  auto key = lower(name);
  std::vector<std::string> out;
  for (const auto& [k, v] : items) {
    if (k == key) out.push_back(v);
  }
  return out;
}

std::optional<std::string> Response::content_type() const {
  auto ct = headers.get("content-type");
  if (!ct) return std::nullopt;
  auto semi = ct->find(';');
  return lower(trim(std::string_view(*ct).substr(0, semi)));
}

Deadline::Deadline(milliseconds timeout) : timeout_(timeout) {
  if (timeout.count() > 0) at_ = Clock::now() + timeout;
}

std::optional<milliseconds> Deadline::remaining() const {
  if (!at_) return std::nullopt;
  // Rounded up: a transfer given this much never ends before the deadline (see finish).
  const auto left = std::chrono::ceil<milliseconds>(*at_ - Clock::now());
  return std::max(left, milliseconds(0));
}

bool Deadline::passed() const {
  return at_ && Clock::now() >= *at_;
}

std::string Deadline::describe() const {
  return "the deadline of " + describe_duration(timeout_) + " for this operation (--timeout)";
}

std::string describe_duration(milliseconds d) {
  const auto ms = d.count();
  if (ms >= 1000 && ms % 1000 == 0) return std::to_string(ms / 1000) + " s";
  return std::to_string(ms) + " ms";
}

RateWindow::RateWindow(milliseconds window, std::uint64_t min_rate, Clock::time_point start)
    : window_(window), start_(start) {
  const auto window_ms = static_cast<std::uint64_t>(std::max<std::int64_t>(1, window.count()));
  // min_rate × window without overflow: a rate no transfer can reach still means "abort".
  min_bytes_ = min_rate > UINT64_MAX / window_ms ? UINT64_MAX : min_rate * window_ms / 1000;
  min_bytes_ = std::max<std::uint64_t>(1, min_bytes_);
  samples_.push_back({start, 0});
}

std::optional<std::uint64_t> RateWindow::too_slow(Clock::time_point now, std::uint64_t moved) {
  // Samples stay at least kSampleSpacing apart: the newest is moved forward in place until then.
  if (samples_.size() >= 2 && now - samples_[samples_.size() - 2].at < kSampleSpacing) {
    samples_.back() = {now, moved};
  } else {
    samples_.push_back({now, moved});
  }
  const auto window_start = now - window_;
  while (samples_.size() >= 2 && samples_[1].at <= window_start) samples_.pop_front();
  if (now - start_ < window_) return std::nullopt;  // judged after a whole window only
  const auto in_window = moved - std::min(moved, samples_.front().moved);
  if (in_window >= min_bytes_) return std::nullopt;
  return in_window;
}

std::string authority_of(std::string_view url) {
  auto p = url.find("://");
  if (p == std::string_view::npos) return {};
  auto rest = url.substr(p + 3);
  auto end = rest.find_first_of("/?#");
  return std::string(rest.substr(0, end));
}

std::string origin_of(std::string_view url) {
  CurlUrl u(curl_url());
  const std::string text(url);
  if (!u || curl_url_set(u.get(), CURLUPART_URL, text.c_str(), 0) != CURLUE_OK) return {};
  const auto scheme = lower(url_part(u.get(), CURLUPART_SCHEME));
  const auto host = lower(url_part(u.get(), CURLUPART_HOST));
  if (scheme.empty() || host.empty()) return {};
  // The scheme counts, and so does the port: "https://h" and "http://h" are different origins
  // although both name the default port of their scheme.
  const auto port = url_part(u.get(), CURLUPART_PORT, CURLU_NO_DEFAULT_PORT);
  return scheme + "://" + host + (port.empty() ? "" : ":" + port);
}

std::string resolve_url(std::string_view base, std::string_view location) {
  CurlUrl u(curl_url());
  if (!u) throw RegistryError("out of memory resolving a redirect");
  const std::string b(base);
  const std::string loc(location);
  const auto unusable = [&] {
    return RegistryError(b + ": the registry answered an unusable Location '" + excerpt(loc) + "'");
  };
  if (curl_url_set(u.get(), CURLUPART_URL, b.c_str(), 0) != CURLUE_OK ||
      curl_url_set(u.get(), CURLUPART_URL, loc.c_str(), 0) != CURLUE_OK) {
    throw unusable();
  }
  const auto scheme = lower(url_part(u.get(), CURLUPART_SCHEME));
  if (scheme != "http" && scheme != "https") {
    throw RegistryError(b + ": refusing a redirect to a non-HTTP URL");
  }
  // Credentials in a Location would be sent by libcurl as Basic auth of the server's choosing.
  curl_url_set(u.get(), CURLUPART_USER, nullptr, 0);
  curl_url_set(u.get(), CURLUPART_PASSWORD, nullptr, 0);
  curl_url_set(u.get(), CURLUPART_OPTIONS, nullptr, 0);
  auto result = url_part(u.get(), CURLUPART_URL);
  if (result.empty()) throw unusable();
  return result;
}

std::string url_escape(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string with_query(const std::string& url, const std::string& param) {
  return url + (url.find('?') == std::string::npos ? "?" : "&") + param;
}

// ---- the transport --------------------------------------------------------------------------

void share_lock(CURL*, curl_lock_data data, curl_lock_access, void* user) {
  static_cast<Transport*>(user)->share_locks_[static_cast<std::size_t>(data)].lock();
}
void share_unlock(CURL*, curl_lock_data data, void* user) {
  static_cast<Transport*>(user)->share_locks_[static_cast<std::size_t>(data)].unlock();
}

Transport::Transport(TransportOptions options)
    : options_(std::move(options)), deadline_(options_.timeout) {
  global_init();
  share_.reset(curl_share_init());
  if (!share_) throw RegistryError("cannot initialise libcurl (curl_share_init failed)");
  curl_share_setopt(share_.get(), CURLSHOPT_LOCKFUNC, share_lock);
  curl_share_setopt(share_.get(), CURLSHOPT_UNLOCKFUNC, share_unlock);
  curl_share_setopt(share_.get(), CURLSHOPT_USERDATA, this);
  curl_share_setopt(share_.get(), CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
  curl_share_setopt(share_.get(), CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
  curl_share_setopt(share_.get(), CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  // The system CAs come from the hashed directory where there is one: OpenSSL then reads only
  // the CA a chain names, where parsing the whole bundle (about 140 certificates) costs about
  // 30 ms of CPU for every connection.
  use_ca_dir_ = has_hashed_certificates(kSystemCaDir);
  if (options_.ca_file) {
    // Keep the system CAs: from the directory, or the blob is the bundle followed by the file.
    std::error_code ec;
    if (!use_ca_dir_ && std::filesystem::exists(kSystemCaBundle, ec)) {
      auto sys = read_file(kSystemCaBundle, kMaxCaFileBytes);
      ca_blob_.assign(sys.begin(), sys.end());
      ca_blob_.push_back('\n');
    }
    auto extra = read_file(*options_.ca_file, kMaxCaFileBytes);
    ca_blob_.append(extra.begin(), extra.end());
  }
}

Transport::~Transport() = default;

bool Transport::is_insecure(std::string_view authority) const {
  auto a = lower(authority);
  return std::any_of(options_.insecure_registries.begin(), options_.insecure_registries.end(),
                     [&](const std::string& h) { return lower(h) == a; });
}

std::string Transport::origin_for(const std::string& registry) {
  std::lock_guard lock(mu_);
  auto it = scheme_.find(lower(registry));
  if (it != scheme_.end() && it->second == "http") return "http://" + registry;
  return "https://" + registry;
}

void Transport::warn_insecure(const std::string& authority) {
  {
    std::lock_guard lock(mu_);
    if (!warned_.insert(lower(authority)).second) return;
  }
  if (options_.warn) {
    options_.warn("registry " + authority +
                  " is insecure (--insecure-registry): its TLS certificate is not verified and "
                  "plain HTTP is allowed");
  }
}

void Transport::trace(const std::string& line) const {
  if (options_.trace) options_.trace(line);
}

RequestStats Transport::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

void Transport::count_token_request() {
  std::lock_guard lock(mu_);
  ++stats_.token_requests;
}

void Transport::wait(milliseconds delay, const std::string& why) const {
  if (delay.count() <= 0) return;
  if (auto left = deadline_.remaining(); left && delay >= *left) {
    throw DeadlineError(why + "; waiting " + describe_duration(delay) +
                        " to try again would pass " + deadline_.describe());
  }
  std::this_thread::sleep_for(delay);
}

void Transport::backoff(int attempt, const std::string& why,
                        std::optional<milliseconds> base) const {
  thread_local std::mt19937 rng(std::random_device{}());
  std::uniform_real_distribution<double> jitter(0.5, 1.5);
  const double first = static_cast<double>(base.value_or(options_.retry_backoff_base).count());
  const double ms = first * std::pow(2.0, std::clamp(attempt - 1, 0, 16)) * jitter(rng);
  const auto cap = options_.max_retry_delay;
  wait(ms >= static_cast<double>(cap.count()) ? cap : milliseconds(static_cast<std::int64_t>(ms)),
       why);
}

void Transport::check_deadline(const Request& req, const std::string& url) const {
  if (deadline_.passed()) {
    throw DeadlineError(req.what + ": " + req.method + " " + url + ": " + deadline_.describe() +
                        " passed");
  }
}

CurlEasy Transport::configure_easy(Transfer& t, const std::string& url, bool send_auth) {
  const Request& req = t.req;
  CurlEasy easy(curl_easy_init());
  if (!easy) throw RegistryError(req.what + ": cannot initialise libcurl");
  CURL* h = easy.get();
  t.easy = h;
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_SHARE, share_.get());
  // The shared connection cache keeps this many idle connections (libcurl's default, 5, is
  // smaller than the parallel copies and attachment fetches, which then reconnected every time).
  curl_easy_setopt(h, CURLOPT_MAXCONNECTS, kMaxIdleConnections);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, t.errbuf.data());
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  // HTTP/2 where the server offers it, for the many small API requests (one connection, no
  // head-of-line waits); HTTP/1.1 for blob bodies, which libcurl moves about 25% faster over
  // its own connections (bench/registry.sh b: 1 GiB copy between TLS registries).
  curl_easy_setopt(h, CURLOPT_HTTP_VERSION,
                   static_cast<long>(req.bulk ? CURL_HTTP_VERSION_1_1 : CURL_HTTP_VERSION_2TLS));
  curl_easy_setopt(h, CURLOPT_USERAGENT, kUserAgent);
  // Time: the connection phase within connect_timeout, the whole transfer within the deadline;
  // the rate check in on_progress does the rest (libcurl's LOW_SPEED options are not used).
  t.connect_ms = static_cast<long>(std::max<std::int64_t>(1, options_.connect_timeout.count()));
  if (auto left = deadline_.remaining()) {
    t.deadline_ms = static_cast<long>(std::max<std::int64_t>(1, left->count()));
    t.connect_ms = std::min(t.connect_ms, *t.deadline_ms);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, *t.deadline_ms);
  }
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, t.connect_ms);
  curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(h, CURLOPT_XFERINFODATA, &t);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &t);
  if (is_insecure(authority_of(url))) {
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
  } else {
    if (use_ca_dir_) {
      curl_easy_setopt(h, CURLOPT_CAPATH, kSystemCaDir);
      curl_easy_setopt(h, CURLOPT_CAINFO, nullptr);  // not the bundle as well
    }
    if (!ca_blob_.empty()) {
      curl_blob blob{ca_blob_.data(), ca_blob_.size(), CURL_BLOB_NOCOPY};
      curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &blob);
    }
  }
  t.headers = request_headers(req, send_auth, t.resume_from);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, t.headers.get());
  set_method(h, t);
  return easy;
}

Response Transport::finish(Transfer& t, const std::string& url, CURLcode rc) {
  const Request& req = t.req;
  {
    long connects = 0;
    curl_off_t down = 0, up = 0;
    curl_easy_getinfo(t.easy, CURLINFO_NUM_CONNECTS, &connects);
    curl_easy_getinfo(t.easy, CURLINFO_SIZE_DOWNLOAD_T, &down);
    curl_easy_getinfo(t.easy, CURLINFO_SIZE_UPLOAD_T, &up);
    if (t.printed) {
      options_.progress({.label = req.progress,
                         .done = static_cast<std::uint64_t>(std::max(down, up) + t.progress_base),
                         .total = t.progress_total,
                         .state = rc == CURLE_OK ? TransferProgress::State::kDone
                                                 : TransferProgress::State::kFailed});
    }
    std::lock_guard lock(mu_);
    ++stats_.requests;
    stats_.connections += static_cast<std::size_t>(connects);
    stats_.bytes_received += static_cast<std::uint64_t>(down);
    stats_.bytes_sent += static_cast<std::uint64_t>(up);
  }
  Response& resp = t.resp;
  resp.status = t.status();
  resp.url = url;
  const std::string line = req.method + " " + url;
  if (t.sink_error || t.source_error) {
    trace(line + " -> " + std::to_string(resp.status) + " (aborted)");
    std::rethrow_exception(t.sink_error ? t.sink_error : t.source_error);
  }
  if (t.body_over_cap) {
    trace(line + " -> " + std::to_string(resp.status) + " (over the limit)");
    limits::check(t.body_seen, req.max_body,
                  req.what + ": the registry's answer (transfer aborted)", "bytes");
  }
  if (t.headers_over_cap) {
    trace(line + " -> response headers over the limit");
    limits::check(t.header_bytes, limits::kMaxResponseHeaderBytes,
                  req.what + ": " + line + ": response headers (transfer aborted)", "bytes");
  }
  // A timeout is the deadline's when the deadline bounded the connection phase too, or when
  // (almost) nothing of it is left; else it was connect_timeout's.
  const bool deadline_hit =
      t.deadline_ms && (*t.deadline_ms <= t.connect_ms ||
                        deadline_.remaining().value_or(milliseconds(0)) <= kDeadlineSlack);
  if (rc == CURLE_OPERATION_TIMEDOUT && deadline_hit) {
    trace(line + " -> deadline passed");
    throw DeadlineError(req.what + ": " + line + ": " + deadline_.describe() +
                        " passed during the transfer");
  }
  if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && t.cut_after_cap)) {
    auto error = transfer_error(t, url, rc, is_insecure(authority_of(url)));
    trace(line + " -> error: " +
          (t.errbuf[0] != 0 ? std::string(t.errbuf.data()) : std::string(curl_easy_strerror(rc))));
    throw error;
  }
  trace(line + " -> " + std::to_string(resp.status));
  if (t.resume_from > 0 && resp.status == 416 &&
      resp.headers.get("content-range") == "bytes */" + std::to_string(t.resume_from)) {
    // The connection dropped after the last byte: nothing is left to send. Whether the bytes
    // are the right ones is for the caller's digest check, as always.
    resp.status = 206;
    resp.body.clear();
  }
  resp.sink_bytes = t.resume_from + t.delivered;
  return std::move(resp);
}

Response Transport::perform_once(const Request& req, const std::string& url, bool send_auth,
                                 std::uint64_t resume_from) {
  check_deadline(req, url);
  Transfer t(req, options_, resume_from);
  auto easy = configure_easy(t, url, send_auth);
  return finish(t, url, curl_easy_perform(easy.get()));
}

Response Transport::perform_with_redirects(const Request& req, std::string url,
                                           std::uint64_t resume_from) {
  const auto first_origin = origin_of(url);
  for (int hops = 0;; ++hops) {
    const auto origin = origin_of(url);
    const bool same_origin = !origin.empty() && origin == first_origin;
    auto resp = perform_once(req, url, same_origin, resume_from);
    if (!req.follow_redirects || !is_redirect(resp.status)) return resp;
    auto location = resp.headers.get("location");
    if (!location) return resp;
    if (hops >= limits::kMaxRedirects) {
      throw RegistryError(req.what + ": " + req.method + " " + url + ": more than " +
                          std::to_string(limits::kMaxRedirects) + " redirects (a redirect loop?)");
    }
    url = resolve_url(url, *location);
  }
}

Response Transport::perform(const Request& req) {
  const auto authority = authority_of(req.url);
  const bool insecure = is_insecure(authority);
  std::string url = req.url;
  bool undecided = false;
  if (insecure) {
    warn_insecure(authority);
    std::lock_guard lock(mu_);
    auto it = scheme_.find(lower(authority));
    if (it == scheme_.end()) {
      undecided = url.rfind("https://", 0) == 0;
    } else if (it->second == "http" && url.rfind("https://", 0) == 0) {
      url = "http://" + url.substr(8);
    }
  }
  const bool resumable = req.method == "GET" && req.sink && req.idempotent;
  std::uint64_t resume_from = req.resume_from;  // body bytes the sink has from earlier attempts
  int resumes = 0;
  int unresponsive = 0;
  for (int attempt = 1;; ++attempt) {
    Response resp;
    try {
      resp = perform_with_redirects(req, url, resume_from);
    } catch (const TransportError& e) {
      if (undecided && !req.body_reader) {
        // An insecure registry without working TLS: plain HTTP from now on, for this host only.
        undecided = false;
        {
          std::lock_guard lock(mu_);
          scheme_[lower(authority)] = "http";
        }
        url = "http://" + url.substr(8);
        --attempt;
        continue;
      }
      if (e.kind() == TransportError::Kind::kUnresponsive &&
          ++unresponsive >= kMaxUnresponsiveAttempts) {
        throw;
      }
      if (resumable && e.transient() && e.delivered() > 0 && resumes < limits::kMaxBlobResumes) {
        // Progress was made: carry on from the next byte, with a fresh count of attempts.
        resume_from += e.delivered();
        ++resumes;
        trace(req.method + " " + url + ": resuming at byte " + std::to_string(resume_from));
        backoff(1, e.what());
        attempt = 0;
        continue;
      }
      if (!req.idempotent || !e.retryable() || attempt >= options_.max_attempts) throw;
      backoff(attempt, e.what());
      continue;
    }
    if (undecided) {
      undecided = false;
      std::lock_guard lock(mu_);
      scheme_.emplace(lower(authority), "https");
    }
    if (!is_retry_status(resp.status) || !req.idempotent || attempt >= options_.max_attempts) {
      return resp;
    }
    wait_to_retry(
        resp, attempt,
        req.what + ": " + req.method + " " + url + ": HTTP " + std::to_string(resp.status));
  }
}

void Transport::wait_to_retry(const Response& resp, int attempt, const std::string& why) const {
  auto after = retry_after(resp);
  if (!after) return backoff(attempt, why);
  // The registry said when to come back: as asked, or not at all.
  if (auto left = deadline_.remaining(); left && *after >= *left) {
    throw DeadlineError(why + ": the registry asks to retry after " + describe_duration(*after) +
                        ", past " + deadline_.describe());
  }
  if (*after > options_.max_retry_delay) {
    throw RegistryError(why + ": the registry asks to retry after " + describe_duration(*after) +
                        ", longer than the " + describe_duration(options_.max_retry_delay) +
                        " sigil waits between attempts");
  }
  wait(*after, why);
}

void Transport::perform_batch(const std::vector<Request>& reqs, std::uint64_t max_in_flight,
                              long max_connections,
                              const std::function<void(std::size_t, BatchResult)>& done) {
  if (reqs.empty()) return;
  CurlMulti multi(curl_multi_init());
  if (!multi) throw RegistryError(reqs.front().what + ": cannot initialise libcurl");
  curl_multi_setopt(multi.get(), CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
  curl_multi_setopt(multi.get(), CURLMOPT_MAX_HOST_CONNECTIONS, max_connections);
  struct Running {
    std::size_t index;
    std::string url;
    std::unique_ptr<Transfer> transfer;
    CurlEasy easy;
  };
  // Handles leave the multi handle before they are destroyed, whatever happens.
  struct Active {
    CURLM* multi;
    std::vector<Running> items;
    ~Active() {
      for (auto& r : items) curl_multi_remove_handle(multi, r.easy.get());
    }
  } active{multi.get(), {}};
  std::size_t next = 0;
  std::uint64_t held = 0;
  auto start_more = [&] {
    while (next < reqs.size() && (held == 0 || held + reqs[next].max_body <= max_in_flight)) {
      const Request& req = reqs[next];
      check_deadline(req, req.url);
      Running r{next, req.url, std::make_unique<Transfer>(req, options_, 0), nullptr};
      r.easy = configure_easy(*r.transfer, r.url, true);
      // Wait for the connection in use to say whether it multiplexes, rather than open another.
      curl_easy_setopt(r.easy.get(), CURLOPT_PIPEWAIT, 1L);
      if (curl_multi_add_handle(multi.get(), r.easy.get()) != CURLM_OK) {
        throw RegistryError(req.what + ": cannot add a transfer to the libcurl multi handle");
      }
      active.items.push_back(std::move(r));
      held += req.max_body;
      ++next;
    }
  };
  start_more();
  while (!active.items.empty()) {
    int running = 0;
    if (curl_multi_perform(multi.get(), &running) != CURLM_OK) {
      throw RegistryError(reqs.front().what + ": libcurl multi handle failed");
    }
    int queued = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi.get(), &queued)) {
      if (msg->msg != CURLMSG_DONE) continue;
      auto it = std::find_if(active.items.begin(), active.items.end(),
                             [&](const Running& r) { return r.easy.get() == msg->easy_handle; });
      if (it == active.items.end()) continue;
      const CURLcode rc = msg->data.result;
      curl_multi_remove_handle(multi.get(), it->easy.get());
      Running r = std::move(*it);
      active.items.erase(it);
      BatchResult result;
      try {
        result.response = finish(*r.transfer, r.url, rc);
      } catch (...) {
        result.error = std::current_exception();
      }
      done(r.index, std::move(result));
      held -= r.transfer->req.max_body;
      start_more();
    }
    if (!active.items.empty()) {
      curl_multi_poll(multi.get(), nullptr, 0, kBatchPollMs, nullptr);
    }
  }
}

}  // namespace trust::registry::detail
