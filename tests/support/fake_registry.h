#pragma once
// An in-process OCI distribution registry for unit tests: cpp-httplib on 127.0.0.1 (random port),
// content in memory, and fault injection for what a real registry will not do on demand (429,
// 5xx, redirects to other hosts, truncated or slow bodies, wrong bytes, the referrers API).
//
//   FakeRegistry reg;                       // plain HTTP: use insecure_registries = {reg.host()}
//   auto d = reg.add_manifest("lab/hello", bytes, media_type::kOciManifest, "v1");
//   reg.add_fault({"GET", "/v2/lab/hello/manifests/v1", 1, FakeRegistry::status(503)});
//   reg.require_bearer("alice", "secret");  // token endpoint at reg.url() + "/token"
//
// Every request is recorded (method, path, query, Authorization) for assertions.

#include <httplib.h>

#include <atomic>
#include <functional>
#include <map>
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

  FakeRegistry();
  ~FakeRegistry();
  FakeRegistry(const FakeRegistry&) = delete;
  FakeRegistry& operator=(const FakeRegistry&) = delete;

  std::string host() const;  // "127.0.0.1:PORT"
  std::string url() const;   // "http://127.0.0.1:PORT"

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

  std::vector<Recorded> requests() const;
  void clear_requests();
  // Requests whose method and path match (regex over the whole path).
  std::size_t count(const std::string& method, const std::string& path_regex) const;

 private:
  bool authorized(const httplib::Request& req, httplib::Response& res);
  void install_routes();

  httplib::Server server_;
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
