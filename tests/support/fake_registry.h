#pragma once
// An in-process OCI distribution registry for unit tests: cpp-httplib on 127.0.0.1 (random port),
// content in memory, and faults on demand for what a real registry will not do when asked: 429
// with any Retry-After, 5xx, redirects (to other hosts, with bodies, endless ones too), wrong
// bytes, the referrers API, and the ways a server makes a client wait: trickled bodies, endless
// bodies, answers that never come (or headers without their body), huge headers, slow token
// endpoints. What httplib cannot do (endless headers, a TLS handshake that never ends, a HEAD
// answered with a body) is RawServer's (support/raw_server.h).
//
//   FakeRegistry reg;                       // plain HTTP: use insecure_registries = {reg.host()}
//   FakeRegistry tls(FakeRegistry::kTls);   // HTTPS, self-signed: insecure_registries too
//   auto d = reg.add_manifest("lab/hello", bytes, media_type::kOciManifest, "v1");
//   reg.add_fault({"GET", "/v2/lab/hello/manifests/v1", 1, FakeRegistry::status(503)});
//   reg.add_fault({"GET", "/v2/lab/hello/manifests/v1", 1, reg.trickle(bytes, 10, 100)});
//   reg.require_bearer("alice", "secret");  // token endpoint at reg.url() + "/token"
//
// Every request is recorded (method, path, query, Authorization) for assertions. Every handler
// that waits ends when the registry is destroyed.

#include <httplib.h>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "libtrust/core/digest.h"

namespace sigil::test {

class FakeRegistry {
 public:
  using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;

  struct Fault {
    std::string method;      // "GET", "HEAD", "PUT", …; HEAD also matches a "GET" fault
    std::string path_regex;  // matched against the whole path (std::regex_match)
    int times = 1;           // answers this many matching requests, then steps aside
    Handler respond;
  };

  struct Recorded {
    std::string method;
    std::string path;
    std::string query;          // "a=b&c=d" (decoded params, sorted)
    std::string authorization;  // the Authorization header, or empty
    std::string range;          // the Range header, or empty
    std::string body;
  };

  struct TokenRequest {
    std::string method;
    std::vector<std::string> scopes;
    std::string service;
    std::string account;
    bool had_authorization = false;
    std::string grant_type;
  };

  static constexpr bool kTls = true;
  explicit FakeRegistry(bool tls = false);
  ~FakeRegistry();
  FakeRegistry(const FakeRegistry&) = delete;
  FakeRegistry& operator=(const FakeRegistry&) = delete;

  std::string host() const;  // "127.0.0.1:PORT"
  std::string url() const;   // "http://127.0.0.1:PORT" ("https://…" with TLS)

  // Content.
  trust::Digest add_blob(const std::string& repo, const std::string& data);
  trust::Digest add_manifest(const std::string& repo, const std::string& bytes,
                             const std::string& media_type, const std::string& tag = "");
  std::optional<std::string> manifest(const std::string& repo, const std::string& reference);
  std::optional<std::string> blob(const std::string& digest);
  std::vector<std::string> tags(const std::string& repo);

  // Auth.
  void require_basic(const std::string& user, const std::string& password);
  // Bearer tokens from <url>/token; with a user, the token endpoint requires Basic credentials
  // (or an OAuth2 refresh_token POST with `refresh_token`).
  void require_bearer(const std::string& user = "", const std::string& password = "",
                      int expires_in = 300, const std::string& refresh_token = "");
  // The token answer's expires_in as raw JSON text ("9223372036854775807", "1e30", "\"300\"").
  void set_token_expires_in_json(const std::string& raw) { expires_in_json_ = raw; }
  // The token endpoint waits this long before it answers (-1: never; ends when the registry stops).
  void set_token_delay(int ms) { token_delay_ms_ = ms; }
  void set_token_field(const std::string& field) { token_field_ = field; }  // token|access_token
  // The registry refuses every token (401 after a fresh token).
  void reject_tokens(bool reject) { reject_tokens_ = reject; }
  std::vector<TokenRequest> token_requests() const;

  // Features.
  void set_referrers_api(bool on) { referrers_api_ = on; }
  void set_absolute_upload_locations(bool on) { absolute_locations_ = on; }
  // Manifest PUTs naming blobs the registry lacks answer MANIFEST_BLOB_UNKNOWN (as 2.8 does).
  void set_check_manifest_blobs(bool on) { check_blobs_ = on; }
  void set_max_tag_page(std::size_t n) { max_tag_page_ = n; }

  // Faults.
  void add_fault(Fault fault);
  static Handler status(int code, std::string body = "",
                        std::map<std::string, std::string> headers = {});
  // Sends `declared` as Content-Length but only `body.size()` bytes, then drops the connection.
  static Handler truncated(std::string body, std::size_t declared);
  // Serves `whole` (from byte N for "Range: bytes=N-": 206 and Content-Range), chunked, and drops
  // the connection once `upto` bytes of `whole` are out.
  static Handler cut(std::string whole, std::size_t upto);
  // Answers `code` with `body` sent chunked (so cpp-httplib applies no Range of its own: a
  // server that ignores Range, or one that answers it wrongly through `headers`).
  static Handler chunked(int code, std::string body,
                         std::map<std::string, std::string> headers = {});
  // Waits `delay_ms` (aborted early when the registry stops) before sending `body`.
  Handler slow(std::string body, int delay_ms);

  // Ways to make a client wait (each ends when the client leaves or the registry stops):
  // `body` with its Content-Length, `bytes` at a time, one piece every `every_ms`.
  Handler trickle(std::string body, std::size_t bytes, int every_ms, int code = 200,
                  std::map<std::string, std::string> headers = {});
  // `code` and `headers`, then a chunked body that never ends: `piece` every `every_ms` (0: as
  // fast as the client reads).
  Handler endless(int code, std::map<std::string, std::string> headers = {},
                  std::string piece = std::string(16384, 'x'), int every_ms = 0);
  // Reads the request and never answers: no status line, ever.
  Handler hang();
  // Sends the status line and headers (Content-Length `declared`), and never the body.
  Handler headers_then_hang(int code, std::size_t declared,
                            std::map<std::string, std::string> headers = {});
  // A redirect to `location` whose body is `body`, or endless (`piece` after `piece`).
  Handler redirect_with_body(int code, std::string location, std::string body,
                             bool endless_body = false);
  // An answer whose headers hold `bytes` bytes of `X-Filler-N` lines of at most `line` bytes.
  static Handler huge_headers(int code, std::size_t bytes, std::size_t line = 64u << 10);

  std::vector<Recorded> requests() const;
  void clear_requests();
  // Requests whose method and path match (regex over the whole path).
  std::size_t count(const std::string& method, const std::string& path_regex) const;

 private:
  bool authorized(const httplib::Request& req, httplib::Response& res);
  void install_routes();
  // Sleeps `ms` (forever when negative) in small steps; false once the registry is stopping.
  bool pause(int ms) const;

  bool tls_;
  std::string cert_dir_;  // the self-signed certificate and key for TLS (removed at the end)
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
  std::atomic<bool> stopping_{false};

  mutable std::mutex mu_;
  std::vector<Recorded> requests_;
  std::vector<Fault> faults_;
  std::map<std::string, std::string> blobs_;  // digest -> bytes
  struct Repo {
    std::map<std::string, std::pair<std::string, std::string>> manifests;  // digest -> (mt, body)
    std::map<std::string, std::string> tags;                               // tag -> digest
    std::set<std::string> blobs;
  };
  std::map<std::string, Repo> repos_;
  std::map<std::string, std::string> uploads_;  // uuid -> bytes so far
  int next_upload_ = 0;

  enum class Auth { kNone, kBasic, kBearer } auth_ = Auth::kNone;
  std::string user_, password_, refresh_token_;
  int expires_in_ = 300;
  std::string expires_in_json_;
  std::atomic<int> token_delay_ms_{0};
  std::string token_field_ = "token";
  std::atomic<bool> reject_tokens_{false};
  std::set<std::string> issued_tokens_;
  int next_token_ = 0;
  std::vector<TokenRequest> token_requests_;

  std::atomic<bool> referrers_api_{true};
  std::atomic<bool> absolute_locations_{false};
  std::atomic<bool> check_blobs_{true};
  std::size_t max_tag_page_ = 1000;
};

// A minimal OCI image manifest naming a config and one layer (both stored in `repo`).
struct TestImage {
  std::string manifest;
  trust::Digest digest;
  trust::Digest config;
  trust::Digest layer;
};
TestImage push_test_image(FakeRegistry& reg, const std::string& repo, const std::string& tag,
                          const std::string& layer_text = "layer");

}  // namespace sigil::test
