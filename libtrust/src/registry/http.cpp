#include "registry/http.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <random>
#include <thread>

#include "libtrust/core/file.h"
#include "libtrust/core/limits.h"

namespace trust::registry::detail {
namespace {

using Clock = std::chrono::steady_clock;

constexpr long kMaxIdleConnections = 32;
constexpr const char* kSystemCaBundle = "/etc/ssl/certs/ca-certificates.crt";
constexpr const char* kSystemCaDir = "/etc/ssl/certs";  // with c_rehash links (<hash>.0)

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
constexpr std::uint64_t kMaxCaFileBytes = 16u << 20;  // --ca-file (user-supplied)
constexpr curl_off_t kProgressThreshold = 4 << 20;    // progress lines for transfers over 4 MB
constexpr long kLowSpeedLimit = 1024;                 // bytes per second, see stall_timeout
constexpr long kMaxRetryAfterSeconds = 60;
constexpr const char* kUserAgent = "sigil/0.1";

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

bool is_retryable_curl(CURLcode rc) {
  return rc == CURLE_RECV_ERROR || rc == CURLE_PARTIAL_FILE || rc == CURLE_GOT_NOTHING ||
         rc == CURLE_SEND_ERROR;
}

bool is_redirect(long status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

// Everything a single curl transfer needs in its callbacks.
struct Transfer {
  const Request* req = nullptr;
  CURL* easy = nullptr;
  Response* resp = nullptr;
  std::size_t header_bytes = 0;
  bool over_cap = false;
  bool headers_over_cap = false;
  bool error_body_truncated = false;
  std::uint64_t delivered = 0;  // success-body bytes handed to the sink
  // A resumed download: the sink has `resume_from` bytes. A 206 must start there; a 200 (Range
  // ignored) sends them again and `to_skip` counts those still to drop.
  std::uint64_t resume_from = 0;
  std::uint64_t to_skip = 0;
  bool resume_checked = false;
  curl_off_t progress_base = 0;  // bytes before this transfer's body (a 206), for the progress line
  std::exception_ptr sink_error;
  std::exception_ptr source_error;  // thrown by req->body_reader
  // Stall detection and progress.
  std::chrono::milliseconds stall_timeout{0};
  Clock::time_point last_progress = Clock::now();
  curl_off_t last_now = -1;
  bool stalled = false;
  bool show_progress = false;
  const TransportOptions* options = nullptr;
  std::uint64_t progress_total = 0;
  Clock::time_point last_print{};
  bool printed = false;

  long status() const {
    long code = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
    return code;
  }
};

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
    t->resp->headers.items.clear();  // a new response (after 100 Continue)
    return len;
  }
  auto colon = line.find(':');
  if (colon == std::string_view::npos) return len;
  t->resp->headers.items.emplace_back(lower(trim(line.substr(0, colon))),
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
  const auto range = t.resp->headers.get("content-range");
  const auto start = range ? content_range_start(*range) : std::nullopt;
  if (status != 206 || start != t.resume_from) {
    throw RegistryError(t.req->what + ": resuming at byte " + std::to_string(t.resume_from) +
                        ": the registry answered HTTP " + std::to_string(status) +
                        " with Content-Range " + (range ? "\"" + *range + "\"" : "missing"));
  }
  t.progress_base = static_cast<curl_off_t>(t.resume_from);
}

size_t on_body(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::size_t len = size * n;
  const long status = t->status();
  ByteView chunk(reinterpret_cast<const std::uint8_t*>(data), len);
  if (status >= 200 && status < 300) {
    if (t->req->sink) {
      try {
        if (t->resume_from > 0 && !t->resume_checked) {
          t->resume_checked = true;
          check_resumed(*t, status);
        }
        const auto skip = static_cast<std::size_t>(std::min<std::uint64_t>(t->to_skip, len));
        t->to_skip -= skip;
        chunk = chunk.subspan(skip);
        if (!chunk.empty()) t->req->sink(chunk);
      } catch (...) {
        t->sink_error = std::current_exception();
        return 0;
      }
      t->delivered += chunk.size();
      return len;
    }
    if (t->resp->body.size() + len > t->req->max_body) {
      t->over_cap = true;
      return 0;
    }
    t->resp->body.insert(t->resp->body.end(), chunk.begin(), chunk.end());
    return len;
  }
  if (is_redirect(status)) return len;  // redirect bodies are discarded
  // Error bodies: keep the first kMaxRegistryErrorBody bytes, then stop the transfer.
  auto room = limits::kMaxRegistryErrorBody - t->resp->body.size();
  if (len > room) {
    t->resp->body.insert(t->resp->body.end(), chunk.begin(), chunk.begin() + room);
    t->error_body_truncated = true;
    return 0;
  }
  t->resp->body.insert(t->resp->body.end(), chunk.begin(), chunk.end());
  return len;
}

size_t on_read(char* buffer, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  try {
    return t->req->body_reader(reinterpret_cast<std::uint8_t*>(buffer), size * n);
  } catch (...) {
    t->source_error = std::current_exception();
    return CURL_READFUNC_ABORT;
  }
}

int on_progress(void* user, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                curl_off_t ulnow) {
  auto* t = static_cast<Transfer*>(user);
  const auto now = Clock::now();
  const curl_off_t moved = dlnow + ulnow;
  if (moved != t->last_now) {
    t->last_now = moved;
    t->last_progress = now;
  } else if (now - t->last_progress > t->stall_timeout) {
    t->stalled = true;
    return 1;
  }
  if (t->show_progress) {
    const curl_off_t total = std::max(dltotal, ultotal) + t->progress_base;
    const curl_off_t done = std::max(dlnow, ulnow) + t->progress_base;
    if (total > kProgressThreshold && now - t->last_print > std::chrono::milliseconds(100)) {
      t->last_print = now;
      t->printed = true;
      t->progress_total = static_cast<std::uint64_t>(total);
      t->options->progress({.label = t->req->progress,
                            .done = static_cast<std::uint64_t>(done),
                            .total = static_cast<std::uint64_t>(total),
                            .state = TransferProgress::State::kRunning});
    }
  }
  return 0;
}

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace

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

std::string authority_of(std::string_view url) {
  auto p = url.find("://");
  if (p == std::string_view::npos) return {};
  auto rest = url.substr(p + 3);
  auto end = rest.find_first_of("/?#");
  return std::string(rest.substr(0, end));
}

std::string origin_of(std::string_view url) {
  auto p = url.find("://");
  if (p == std::string_view::npos) return {};
  auto scheme = lower(url.substr(0, p));
  auto authority = lower(authority_of(url));
  if (auto at = authority.rfind('@'); at != std::string::npos) authority = authority.substr(at + 1);
  if (scheme == "https" && authority.size() > 4 &&
      authority.compare(authority.size() - 4, 4, ":443") == 0) {
    authority.resize(authority.size() - 4);
  } else if (scheme == "http" && authority.size() > 3 &&
             authority.compare(authority.size() - 3, 3, ":80") == 0) {
    authority.resize(authority.size() - 3);
  }
  return scheme + "://" + authority;
}

std::string resolve_url(std::string_view base, std::string_view location) {
  CurlUrl u(curl_url());
  if (!u) throw RegistryError("out of memory resolving a redirect");
  std::string b(base);
  std::string loc(location);
  if (curl_url_set(u.get(), CURLUPART_URL, b.c_str(), 0) != CURLUE_OK ||
      curl_url_set(u.get(), CURLUPART_URL, loc.c_str(), 0) != CURLUE_OK) {
    throw RegistryError(b + ": the registry answered an unusable Location '" + loc.substr(0, 200) +
                        "'");
  }
  char* out = nullptr;
  if (curl_url_get(u.get(), CURLUPART_URL, &out, 0) != CURLUE_OK || out == nullptr) {
    throw RegistryError(b + ": the registry answered an unusable Location '" + loc.substr(0, 200) +
                        "'");
  }
  std::string result(out);
  curl_free(out);
  auto scheme = lower(result.substr(0, result.find(':')));
  if (scheme != "http" && scheme != "https") {
    throw RegistryError(b + ": refusing a redirect to a non-HTTP URL");
  }
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

void share_lock(CURL*, curl_lock_data data, curl_lock_access, void* user) {
  static_cast<Transport*>(user)->share_locks_[static_cast<std::size_t>(data)].lock();
}
void share_unlock(CURL*, curl_lock_data data, void* user) {
  static_cast<Transport*>(user)->share_locks_[static_cast<std::size_t>(data)].unlock();
}

Transport::Transport(TransportOptions options) : options_(std::move(options)) {
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

void Transport::backoff(int attempt, std::optional<long> retry_after_seconds) const {
  using std::chrono::milliseconds;
  milliseconds delay;
  if (retry_after_seconds) {
    delay = milliseconds(std::clamp<long>(*retry_after_seconds, 0, kMaxRetryAfterSeconds) * 1000);
  } else {
    thread_local std::mt19937 rng(std::random_device{}());
    const double base = static_cast<double>(options_.retry_backoff_base.count()) *
                        std::pow(2.0, std::min(attempt - 1, 16));
    std::uniform_real_distribution<double> jitter(0.5, 1.5);
    delay = milliseconds(static_cast<std::int64_t>(base * jitter(rng)));
  }
  delay = std::min(delay, options_.max_retry_delay);
  if (delay.count() > 0) std::this_thread::sleep_for(delay);
}

Response Transport::perform_once(const Request& req, const std::string& url, bool send_auth,
                                 std::uint64_t resume_from) {
  CurlEasy easy(curl_easy_init());
  if (!easy) throw RegistryError(req.what + ": cannot initialise libcurl");
  CURL* h = easy.get();
  Response resp;
  resp.url = url;
  Transfer t;
  t.req = &req;
  t.easy = h;
  t.resp = &resp;
  t.resume_from = resume_from;
  t.stall_timeout = options_.stall_timeout;
  t.options = &options_;
  t.show_progress = options_.progress && !req.progress.empty();
  char errbuf[CURL_ERROR_SIZE] = {0};

  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_SHARE, share_.get());
  // The shared connection cache keeps this many idle connections (libcurl's default, 5, is
  // smaller than the parallel copies and attachment fetches, which then reconnected every time).
  curl_easy_setopt(h, CURLOPT_MAXCONNECTS, kMaxIdleConnections);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  // HTTP/2 where the server offers it, for the many small API requests (one connection, no
  // head-of-line waits); HTTP/1.1 for blob bodies, which libcurl moves about 25% faster over
  // its own connections (bench/registry.sh b: 1 GiB copy between TLS registries).
  curl_easy_setopt(h, CURLOPT_HTTP_VERSION,
                   static_cast<long>(req.bulk ? CURL_HTTP_VERSION_1_1 : CURL_HTTP_VERSION_2TLS));
  curl_easy_setopt(h, CURLOPT_USERAGENT, kUserAgent);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(options_.connect_timeout.count()));
  // Belt and braces for the stall check in on_progress: under 1 KiB/s for the stall time.
  const auto stall_s =
      static_cast<long>(std::max<std::int64_t>(1, (options_.stall_timeout.count() + 999) / 1000));
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, kLowSpeedLimit);
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, stall_s);
  curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(h, CURLOPT_XFERINFODATA, &t);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &t);

  const auto authority = authority_of(url);
  const bool insecure = is_insecure(authority);
  if (insecure) {
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

  curl_slist* raw = nullptr;
  CurlSlist headers;
  auto add = [&](const char* line) {
    auto* next = curl_slist_append(raw, line);
    if (next == nullptr) throw RegistryError(req.what + ": out of memory building headers");
    raw = next;
    headers.release();
    headers.reset(raw);
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
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());

  static const char kEmpty[] = "";
  if (req.method == "GET") {
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
  } else if (req.method == "HEAD") {
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  } else if (req.method == "DELETE") {
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "DELETE");
  } else {
    // POST, PUT, PATCH: the body is sent from our buffer (not copied), or streamed.
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

  const CURLcode rc = curl_easy_perform(h);
  {
    long connects = 0;
    curl_off_t down = 0, up = 0;
    curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &connects);
    curl_easy_getinfo(h, CURLINFO_SIZE_DOWNLOAD_T, &down);
    curl_easy_getinfo(h, CURLINFO_SIZE_UPLOAD_T, &up);
    if (t.printed) {
      const auto done = static_cast<std::uint64_t>(std::max(down, up) + t.progress_base);
      options_.progress({.label = req.progress,
                         .done = done,
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
  resp.status = t.status();
  if (t.sink_error || t.source_error) {
    trace(req.method + " " + url + " -> " + std::to_string(resp.status) + " (aborted)");
    std::rethrow_exception(t.sink_error ? t.sink_error : t.source_error);
  }
  if (t.over_cap) {
    trace(req.method + " " + url + " -> " + std::to_string(resp.status) + " (over the limit)");
    throw LimitError(req.what + ": the registry's answer is over the limit of " +
                     std::to_string(req.max_body) + " bytes (transfer aborted)");
  }
  if (t.headers_over_cap) {
    throw RegistryError(req.what + ": " + req.method + " " + url +
                        ": response headers over the limit of " +
                        std::to_string(limits::kMaxResponseHeaderBytes) + " bytes");
  }
  if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && t.error_body_truncated)) {
    std::string detail = errbuf[0] != 0 ? std::string(errbuf) : curl_easy_strerror(rc);
    trace(req.method + " " + url + " -> error: " + detail);
    std::string cause;
    // A dropped or stalled transfer is worth another attempt; bytes already handed to a sink
    // cannot be taken back, so that attempt must resume after them (see perform).
    const bool transient = is_retryable_curl(rc) || t.stalled || rc == CURLE_OPERATION_TIMEDOUT;
    if (t.stalled || rc == CURLE_OPERATION_TIMEDOUT) {
      cause = t.stalled ? "the transfer stalled (no data for " +
                              std::to_string(options_.stall_timeout.count()) + " ms)"
                        : "the transfer stalled or timed out: " + detail;
    } else if (rc == CURLE_COULDNT_RESOLVE_HOST) {
      cause = "cannot resolve host " + authority + ": " + detail;
    } else if (rc == CURLE_COULDNT_CONNECT) {
      cause = "cannot connect to " + authority + ": " + detail;
    } else if (rc == CURLE_PEER_FAILED_VERIFICATION) {
      cause = "the TLS certificate of " + authority + " is not trusted: " + detail +
              " (give its CA with --ca-file)";
    } else if (rc == CURLE_SSL_CONNECT_ERROR || rc == CURLE_SSL_CACERT_BADFILE) {
      cause = "TLS handshake with " + authority + " failed: " + detail;
      if (url.rfind("https://", 0) == 0 && !is_insecure(authority)) {
        cause += " (if " + authority + " serves plain HTTP, mark it --insecure-registry " +
                 authority + ")";
      }
    } else if (is_retryable_curl(rc)) {
      cause = "the connection was dropped: " + detail;
    } else {
      cause = detail;
    }
    throw TransportError(req.what + ": " + req.method + " " + url + ": " + cause, transient,
                         t.delivered);
  }
  trace(req.method + " " + url + " -> " + std::to_string(resp.status));
  if (resume_from > 0 && resp.status == 416 &&
      resp.headers.get("content-range") == "bytes */" + std::to_string(resume_from)) {
    // The connection dropped after the last byte: nothing is left to send. Whether the bytes
    // are the right ones is for the caller's digest check, as always.
    resp.status = 206;
    resp.body.clear();
  }
  resp.sink_bytes = resume_from + t.delivered;
  return resp;
}

Response Transport::perform_with_redirects(const Request& req, std::string url,
                                           std::uint64_t resume_from) {
  const auto first_origin = origin_of(url);
  for (int hops = 0;; ++hops) {
    const bool same_origin = origin_of(url) == first_origin;
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
      if (resumable && e.transient() && e.delivered() > 0 && resumes < limits::kMaxBlobResumes) {
        // Progress was made: carry on from the next byte, with a fresh count of attempts.
        resume_from += e.delivered();
        ++resumes;
        trace(req.method + " " + url + ": resuming at byte " + std::to_string(resume_from));
        backoff(1);
        attempt = 0;
        continue;
      }
      if (!req.idempotent || !e.retryable() || attempt >= options_.max_attempts) throw;
      backoff(attempt);
      continue;
    }
    if (undecided) {
      undecided = false;
      std::lock_guard lock(mu_);
      scheme_.emplace(lower(authority), "https");
    }
    const bool retry_status = resp.status == 429 || (resp.status >= 500 && resp.status <= 599);
    if (!retry_status || !req.idempotent || attempt >= options_.max_attempts) return resp;
    std::optional<long> retry_after;
    if (resp.status == 429) {
      if (auto ra = resp.headers.get("retry-after")) {
        try {
          std::size_t used = 0;
          long v = std::stol(*ra, &used);
          if (used == ra->size() && v >= 0) retry_after = v;
        } catch (const std::exception&) {
          // An HTTP-date or garbage: ordinary backoff.
        }
      }
    }
    backoff(attempt, retry_after);
  }
}

}  // namespace trust::registry::detail
