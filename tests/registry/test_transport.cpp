// Registries that never finish: every body capped (redirects, errors, HEAD, headers), one
// minimum rate over a sliding window (a stall is its zero case), a server that never answers
// costing two stall windows, Retry-After honoured only when it fits, and one deadline for the
// whole operation across retries, resumes, redirects, token fetches and waits. Each against the
// misbehaving FakeRegistry or RawServer, with exact codes and messages.
#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "libtrust/core/encoding.h"
#include "libtrust/core/limits.h"
#include "libtrust/core/media_type.h"
#include "libtrust/registry/client.h"
#include "registry/http.h"
#include "registry/registry_test_util.h"
#include "support/raw_server.h"

using namespace trust;
using namespace trust::registry;
using namespace std::chrono_literals;
using registry_test::fast_options;
using registry_test::thrown_by;
using sigil::test::FakeRegistry;
using sigil::test::RawConnection;
using sigil::test::RawServer;
using sigil::test::TempDir;

namespace {

const std::string kOciManifest(media_type::kOciManifest);

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

oci::Descriptor desc_of(const Digest& d, std::uint64_t size) {
  oci::Descriptor out;
  out.digest = d;
  out.size = size;
  return out;
}

// A valid manifest of exactly `size` bytes (JSON padded with spaces).
std::string padded_manifest(std::size_t size) {
  std::string m =
      "{\"schemaVersion\":2,\"mediaType\":\"" + kOciManifest + "\",\"config\":{},\"layers\":[]}";
  m.append(size - m.size(), ' ');
  return m;
}

// The safety net of tests whose failure would otherwise be a hang: a deadline well past what
// the behaviour under test needs, so that a regression fails the test instead.
constexpr auto kSafetyNet = 60s;

}  // namespace

// ---- every body is capped ---------------------------------------------------------------------

TEST_CASE("a redirect with an endless body is followed after 64 KiB of it", "[registry][limits]") {
  FakeRegistry reg;
  TempDir tmp;
  auto img = sigil::test::push_test_image(reg, "lab/hello", "v1", "payload");
  const auto path = "/v2/lab/hello/blobs/" + img.layer.str();
  auto opts = fast_options(reg, tmp);
  opts.timeout = kSafetyNet;
  Client client(opts);
  Repository repo{reg.host(), "lab/hello"};

  SECTION("endless") {
    reg.add_fault({"GET", path, 1, reg.redirect_with_body(307, path + "?hop=1", "", true)});
  }
  SECTION("finite, far over the cap") {
    reg.add_fault(
        {"GET", path, 1, reg.redirect_with_body(307, path + "?hop=1", std::string(4u << 20, 'r'))});
  }
  auto bytes = client.get_blob(repo, desc_of(img.layer, 7), 100);
  CHECK(std::string(bytes.begin(), bytes.end()) == "payload");
  CHECK(reg.count("GET", path) == 2);
  // What was read of the redirect's body: the cap and at most one more write (16 KiB).
  CHECK(client.stats().bytes_received <= limits::kMaxRegistryErrorBody + (16u << 10) + 7);
}

TEST_CASE("an endless error body is cut after 64 KiB and the status reported",
          "[registry][limits]") {
  FakeRegistry reg;
  TempDir tmp;
  auto opts = fast_options(reg, tmp);
  opts.timeout = kSafetyNet;
  Client client(opts);
  reg.add_fault({"GET", "/v2/lab/hello/manifests/v1", 1,
                 reg.endless(403, {{"Content-Type", "text/plain"}}, std::string(8192, 'e'))});
  auto t = thrown_by([&] { (void)client.get_manifest_by_tag({reg.host(), "lab/hello"}, "v1"); });
  CHECK(t.code == ErrorCode::kRegistry);
  CHECK(
      contains(t.message,
               reg.host() + "/lab/hello:v1: fetching the manifest: access denied (HTTP 403 (eeee"));
  CHECK(t.message.size() < 1000);
  CHECK(client.stats().bytes_received <= limits::kMaxRegistryErrorBody + (16u << 10));
}

TEST_CASE("an endless success body is refused at the manifest cap", "[registry][limits]") {
  FakeRegistry reg;
  TempDir tmp;
  auto opts = fast_options(reg, tmp);
  opts.timeout = kSafetyNet;
  Client client(opts);
  reg.add_fault(
      {"GET", "/v2/lab/hello/manifests/v1", 1, reg.endless(200, {{"Content-Type", kOciManifest}})});
  auto t = thrown_by([&] { (void)client.get_manifest_by_tag({reg.host(), "lab/hello"}, "v1"); });
  CHECK(t.code == ErrorCode::kLimit);
  CHECK(contains(t.message,
                 reg.host() + "/lab/hello:v1: the registry's answer (transfer aborted): "));
  CHECK(contains(t.message, "bytes is over the limit of 4194304"));
}

TEST_CASE("a HEAD answered with an endless body ends with its headers", "[registry][limits]") {
  const auto digest = Digest::of(as_bytes("blob"));
  RawServer raw(RawServer::endless_after(
      "HTTP/1.1 200 OK\r\nContent-Length: 1000000000000\r\nDocker-Content-Digest: " + digest.str() +
          "\r\n\r\n",
      std::string(16384, 'b')));
  TempDir tmp;
  TransportOptions opts;
  opts.insecure_registries = {raw.host()};
  opts.docker_config = tmp / "no-such-config.json";
  opts.timeout = kSafetyNet;
  Client client(opts);
  CHECK(client.blob_exists({raw.host(), "lab/hello"}, digest));
  CHECK(client.stats().bytes_received == 0);
}

TEST_CASE("response headers over 256 KiB are refused: large ones, or lines that never end",
          "[registry][limits]") {
  TempDir tmp;
  SECTION("many large headers") {
    FakeRegistry reg;
    reg.add_fault({"GET", "/v2/lab/hello/manifests/v1", 1,
                   FakeRegistry::huge_headers(200, limits::kMaxResponseHeaderBytes + 1)});
    auto opts = fast_options(reg, tmp);
    opts.timeout = kSafetyNet;
    Client client(opts);
    auto t = thrown_by([&] { (void)client.get_manifest_by_tag({reg.host(), "lab/hello"}, "v1"); });
    CHECK(t.code == ErrorCode::kLimit);
    CHECK(contains(t.message, "/v2/lab/hello/manifests/v1: response headers (transfer aborted): "));
    CHECK(contains(t.message, "bytes is over the limit of 262144"));
  }
  SECTION("one header line over libcurl's own limit") {
    FakeRegistry reg;
    reg.add_fault({"GET", "/v2/lab/hello/manifests/v1", 1,
                   FakeRegistry::huge_headers(200, 200u << 10, 200u << 10)});
    auto opts = fast_options(reg, tmp);
    opts.timeout = kSafetyNet;
    Client client(opts);
    auto t = thrown_by([&] { (void)client.get_manifest_by_tag({reg.host(), "lab/hello"}, "v1"); });
    CHECK(t.code == ErrorCode::kRegistry);
    CHECK(contains(t.message,
                   "/v2/lab/hello/manifests/v1: the answer's headers could not be read ("));
    CHECK(contains(t.message, "a header line over libcurl's 100 KiB limit)"));
  }
  SECTION("header lines that never end") {
    RawServer raw(
        RawServer::endless_after("HTTP/1.1 200 OK\r\n", "X-Filler: aaaaaaaaaaaaaaaa\r\n"));
    TransportOptions opts;
    opts.insecure_registries = {raw.host()};
    opts.docker_config = tmp / "no-such-config.json";
    opts.timeout = kSafetyNet;
    Client client(opts);
    auto t = thrown_by([&] { (void)client.get_manifest_by_tag({raw.host(), "lab/hello"}, "v1"); });
    CHECK(t.code == ErrorCode::kLimit);
    CHECK(contains(t.message, "bytes is over the limit of 262144"));
  }
}

// ---- the minimum transfer rate ----------------------------------------------------------------

TEST_CASE("the rate check: every window must move min_rate x window bytes, and at least one",
          "[registry][rate]") {
  using detail::RateWindow;
  const auto t0 = detail::Clock::now();
  SECTION("nothing is judged before a whole window") {
    RateWindow w(1000ms, 1000, t0);
    CHECK_FALSE(w.too_slow(t0 + 999ms, 0));
    CHECK(w.too_slow(t0 + 1000ms, 0) == std::uint64_t{0});
  }
  SECTION("a stall is the zero case: no byte for a window, even with no minimum rate") {
    RateWindow w(1000ms, 0, t0);
    CHECK(w.min_bytes() == 1);
    CHECK_FALSE(w.too_slow(t0 + 1500ms, 1));
    CHECK_FALSE(w.too_slow(t0 + 2400ms, 1));  // the byte at 1.5 s is within the last second
    CHECK(w.too_slow(t0 + 2600ms, 1) == std::uint64_t{0});
  }
  SECTION("a trickle that never stalls is too slow under the minimum") {
    RateWindow w(1000ms, 1000, t0);
    std::uint64_t moved = 0;
    std::optional<std::uint64_t> verdict;
    // 100 bytes every 200 ms: 500 bytes/s, half the minimum; never a pause of a second.
    for (int i = 1; i <= 20 && !verdict; ++i) {
      moved += 100;
      verdict = w.too_slow(t0 + i * 200ms, moved);
    }
    REQUIRE(verdict);
    CHECK(*verdict == 500);
  }
  SECTION("a rate at the minimum holds, over many windows") {
    RateWindow w(1000ms, 1000, t0);
    for (int i = 1; i <= 200; ++i) {
      CHECK_FALSE(w.too_slow(t0 + i * 50ms, static_cast<std::uint64_t>(i) * 50));
    }
  }
  SECTION("a fast start does not pay for a later stall") {
    RateWindow w(1000ms, 1000, t0);
    CHECK_FALSE(w.too_slow(t0 + 100ms, 10'000'000));
    CHECK_FALSE(w.too_slow(t0 + 1050ms, 10'000'000));
    CHECK(w.too_slow(t0 + 1150ms, 10'000'000) == std::uint64_t{0});
  }
  SECTION("a minimum no transfer can reach aborts rather than overflows") {
    RateWindow w(30'000ms, UINT64_MAX, t0);
    CHECK(w.min_bytes() == UINT64_MAX);
  }
}

TEST_CASE("a body trickled above the stall threshold but under the minimum rate is aborted",
          "[registry][rate]") {
  FakeRegistry reg;
  TempDir tmp;
  const auto manifest = padded_manifest(200'000);
  auto opts = fast_options(reg, tmp);
  opts.stall_timeout = 500ms;
  opts.min_transfer_rate = 20'000;
  opts.timeout = kSafetyNet;
  Client client(opts);
  // 200 bytes every 50 ms: 4000 bytes/s, a fifth of the minimum, and never a pause.
  reg.add_fault({"GET", "/v2/lab/slow/manifests/v1", 100,
                 reg.trickle(manifest, 200, 50, 200, {{"Content-Type", kOciManifest}})});
  auto t = thrown_by([&] { (void)client.get_manifest_by_tag({reg.host(), "lab/slow"}, "v1"); });
  CHECK(t.code == ErrorCode::kRegistry);
  CHECK(contains(t.message, reg.host() + "/lab/slow:v1: GET http://" + reg.host() +
                                "/v2/lab/slow/manifests/v1: the transfer is too slow ("));
  CHECK(contains(t.message, " bytes in the last 500 ms, under the minimum of 20000 bytes/s)"));
  // Tried once more (it might have been one slow connection), then given up.
  CHECK(reg.count("GET", "/v2/lab/slow/manifests/v1") == 2);
}

TEST_CASE("a body well above the minimum rate completes however long it takes",
          "[registry][rate]") {
  FakeRegistry reg;
  TempDir tmp;
  const auto manifest = padded_manifest(20'000);
  auto opts = fast_options(reg, tmp);
  opts.stall_timeout = 400ms;
  opts.min_transfer_rate = 1000;
  Client client(opts);
  // 1000 bytes every 50 ms: 20 times the minimum, for 1 s (two and a half windows).
  reg.add_fault({"GET", "/v2/lab/slow/manifests/v1", 1,
                 reg.trickle(manifest, 1000, 50, 200, {{"Content-Type", kOciManifest}})});
  auto fetched = client.get_manifest_by_tag({reg.host(), "lab/slow"}, "v1");
  REQUIRE(fetched);
  CHECK(fetched->bytes.size() == manifest.size());
  CHECK(reg.count("GET", "/v2/lab/slow/manifests/v1") == 1);
}

// ---- servers that never answer ----------------------------------------------------------------

TEST_CASE("a registry that never answers costs two stall windows, not max_attempts of them",
          "[registry][rate]") {
  FakeRegistry reg;
  TempDir tmp;
  const auto path = "/v2/lab/hang/manifests/v1";
  auto opts = fast_options(reg, tmp);
  opts.stall_timeout = 500ms;
  opts.max_attempts = 10;
  opts.timeout = kSafetyNet;
  Client client(opts);
  SECTION("no status line, ever") {
    reg.add_fault({"GET", path, 100, reg.hang()});
  }
  SECTION("headers, and never the body") {
    reg.add_fault(
        {"GET", path, 100, reg.headers_then_hang(200, 1000, {{"Content-Type", kOciManifest}})});
  }
  auto t = thrown_by([&] { (void)client.get_manifest_by_tag({reg.host(), "lab/hang"}, "v1"); });
  CHECK(t.code == ErrorCode::kRegistry);
  CHECK(contains(t.message, reg.host() + "/lab/hang:v1: GET http://" + reg.host() + path +
                                ": the transfer stalled (no data for 500 ms)"));
  CHECK(reg.count("GET", path) == 2);
}

TEST_CASE("a TLS handshake that never ends times out connecting, and is tried twice",
          "[registry][rate]") {
  RawServer raw(RawServer::silent());
  TempDir tmp;
  TransportOptions opts;
  opts.docker_config = tmp / "no-such-config.json";
  opts.connect_timeout = 300ms;
  opts.max_attempts = 10;
  opts.timeout = kSafetyNet;
  Client client(opts);
  auto t = thrown_by([&] { client.ping(raw.host()); });
  CHECK(t.code == ErrorCode::kRegistry);
  CHECK(contains(t.message, raw.host() + ": GET https://" + raw.host() +
                                "/v2/: timed out connecting to " + raw.host()));
  CHECK(raw.connections() == 2);
}

// ---- Retry-After ------------------------------------------------------------------------------

TEST_CASE("Retry-After is waited as asked when it fits, and refused at once when it does not",
          "[registry][retry]") {
  FakeRegistry reg;
  TempDir tmp;
  auto img = sigil::test::push_test_image(reg, "lab/hello", "v1");
  const auto path = "/v2/lab/hello/manifests/v1";
  auto opts = fast_options(reg, tmp);
  Repository repo{reg.host(), "lab/hello"};

  SECTION("longer than max_retry_delay: refused at once, no second request") {
    opts.max_retry_delay = 10s;
    Client client(opts);
    reg.add_fault({"GET", path, 1, FakeRegistry::status(429, "", {{"Retry-After", "60"}})});
    auto t = thrown_by([&] { (void)client.get_manifest_by_tag(repo, "v1"); });
    CHECK(t.code == ErrorCode::kRegistry);
    CHECK(t.message == reg.host() + "/lab/hello:v1: GET http://" + reg.host() + path +
                           ": HTTP 429: the registry asks to retry after 60 s, longer than the "
                           "10 s sigil waits between attempts");
    CHECK(reg.count("GET", path) == 1);
  }
  SECTION("past the deadline: refused at once, naming the deadline") {
    opts.max_retry_delay = 2h;
    opts.timeout = 30s;
    Client client(opts);
    reg.add_fault({"GET", path, 1, FakeRegistry::status(503, "", {{"Retry-After", "3600"}})});
    auto t = thrown_by([&] { (void)client.get_manifest_by_tag(repo, "v1"); });
    CHECK(t.code == ErrorCode::kRegistry);
    CHECK(t.message == reg.host() + "/lab/hello:v1: GET http://" + reg.host() + path +
                           ": HTTP 503: the registry asks to retry after 3600 s, past the "
                           "deadline of 30 s for this operation (--timeout)");
    CHECK(reg.count("GET", path) == 1);
  }
  SECTION("an HTTP-date in the past: at once; one far ahead: refused") {
    Client client(opts);
    reg.add_fault(
        {"GET", path, 1,
         FakeRegistry::status(429, "", {{"Retry-After", "Wed, 21 Oct 2015 07:28:00 GMT"}})});
    auto fetched = client.get_manifest_by_tag(repo, "v1");
    REQUIRE(fetched);
    CHECK(fetched->descriptor.digest == img.digest);
    CHECK(reg.count("GET", path) == 2);
    reg.add_fault(
        {"GET", path, 1,
         FakeRegistry::status(429, "", {{"Retry-After", "Fri, 31 Dec 2100 23:59:59 GMT"}})});
    auto t = thrown_by([&] { (void)client.get_manifest_by_tag(repo, "v1"); });
    CHECK(t.code == ErrorCode::kRegistry);
    CHECK(contains(t.message, ": HTTP 429: the registry asks to retry after "));
    CHECK(contains(t.message, " s, longer than the 20 ms sigil waits between attempts"));
  }
  SECTION("garbage: the ordinary backoff") {
    Client client(opts);
    reg.add_fault({"GET", path, 2, FakeRegistry::status(429, "", {{"Retry-After", "soon-ish"}})});
    REQUIRE(client.get_manifest_by_tag(repo, "v1"));
    CHECK(reg.count("GET", path) == 3);
  }
}

// ---- one deadline per operation ---------------------------------------------------------------

TEST_CASE("the deadline ends a transfer that keeps the minimum rate", "[registry][deadline]") {
  FakeRegistry reg;
  TempDir tmp;
  const auto manifest = padded_manifest(4u << 20);
  auto opts = fast_options(reg, tmp);
  opts.timeout = 1500ms;
  Client client(opts);
  // 4 MiB at 40 KB/s would take 100 s: forty times the minimum rate, never a stall.
  reg.add_fault({"GET", "/v2/lab/slow/manifests/v1", 1,
                 reg.trickle(manifest, 2000, 50, 200, {{"Content-Type", kOciManifest}})});
  auto t = thrown_by([&] { (void)client.get_manifest_by_tag({reg.host(), "lab/slow"}, "v1"); });
  CHECK(t.code == ErrorCode::kRegistry);
  CHECK(t.message == reg.host() + "/lab/slow:v1: GET http://" + reg.host() +
                         "/v2/lab/slow/manifests/v1: the deadline of 1500 ms for this operation "
                         "(--timeout) passed during the transfer");
  CHECK(reg.count("GET", "/v2/lab/slow/manifests/v1") == 1);
}

TEST_CASE("the deadline counts from the client's creation, across requests",
          "[registry][deadline]") {
  FakeRegistry reg;
  TempDir tmp;
  sigil::test::push_test_image(reg, "lab/hello", "v1");
  auto opts = fast_options(reg, tmp);
  opts.timeout = 1000ms;
  Client client(opts);
  Repository repo{reg.host(), "lab/hello"};
  REQUIRE(client.get_manifest_by_tag(repo, "v1"));
  const auto before = reg.requests().size();
  std::this_thread::sleep_for(1100ms);
  auto t = thrown_by([&] { (void)client.get_manifest_by_tag(repo, "v1"); });
  CHECK(t.code == ErrorCode::kRegistry);
  CHECK(t.message == reg.host() + "/lab/hello:v1: GET http://" + reg.host() +
                         "/v2/lab/hello/manifests/v1: the deadline of 1 s for this operation "
                         "(--timeout) passed");
  CHECK(reg.requests().size() == before);  // nothing was sent past it
}

TEST_CASE("no backoff wait sleeps past the deadline", "[registry][deadline]") {
  FakeRegistry reg;
  TempDir tmp;
  auto opts = fast_options(reg, tmp);
  opts.max_attempts = 100;
  opts.retry_backoff_base = 400ms;
  opts.max_retry_delay = 60s;
  opts.timeout = 2s;
  Client client(opts);
  const auto path = "/v2/lab/busy/manifests/v1";
  reg.add_fault({"GET", path, 1000, FakeRegistry::status(503)});
  auto t = thrown_by([&] { (void)client.get_manifest_by_tag({reg.host(), "lab/busy"}, "v1"); });
  CHECK(t.code == ErrorCode::kRegistry);
  CHECK(contains(t.message, reg.host() + "/lab/busy:v1: GET http://" + reg.host() + path +
                                ": HTTP 503; waiting "));
  CHECK(contains(t.message,
                 " to try again would pass the deadline of 2 s for this operation (--timeout)"));
  // It gave up when the next wait would not fit, not after sleeping it: the doubling waits
  // (400 ms × 2^n, jittered) fit at most a few attempts in 2 s.
  CHECK(reg.count("GET", path) < 6);
}

TEST_CASE("the deadline covers token fetches from a slow token endpoint", "[registry][deadline]") {
  FakeRegistry reg;
  TempDir tmp;
  sigil::test::push_test_image(reg, "lab/hello", "v1");
  reg.require_bearer();
  reg.set_token_delay(-1);  // never answers
  auto opts = fast_options(reg, tmp);
  opts.timeout = 1500ms;
  Client client(opts);
  auto t = thrown_by([&] { (void)client.get_manifest_by_tag({reg.host(), "lab/hello"}, "v1"); });
  CHECK(t.code == ErrorCode::kRegistry);
  CHECK(contains(t.message, reg.host() + "/lab/hello:v1: GET http://" + reg.host() + "/token?"));
  CHECK(contains(
      t.message,
      ": the deadline of 1500 ms for this operation (--timeout) passed during the transfer"));
  CHECK(reg.token_requests().empty());  // it never answered one
}

TEST_CASE("the deadline covers the connection phase", "[registry][deadline]") {
  RawServer raw(RawServer::silent());
  TempDir tmp;
  TransportOptions opts;
  opts.docker_config = tmp / "no-such-config.json";
  opts.connect_timeout = 60s;
  opts.timeout = 1s;
  Client client(opts);
  auto t = thrown_by([&] { client.ping(raw.host()); });
  CHECK(t.code == ErrorCode::kRegistry);
  CHECK(t.message == raw.host() + ": GET https://" + raw.host() +
                         "/v2/: the deadline of 1 s for this operation (--timeout) passed during "
                         "the transfer");
  CHECK(raw.connections() == 1);
}

TEST_CASE("the deadline covers resumes of a blob that keeps being cut", "[registry][deadline]") {
  FakeRegistry reg;
  TempDir tmp;
  std::string data(100'000, 'd');
  auto img = sigil::test::push_test_image(reg, "lab/hello", "v1", data);
  const auto path = "/v2/lab/hello/blobs/" + img.layer.str();
  // Each answer trickles a little, then drops: progress every time, so resumes go on.
  for (std::size_t i = 0; i < 50; ++i) {
    reg.add_fault({"GET", path, 1, FakeRegistry::cut(data, (i + 1) * 1000)});
  }
  auto opts = fast_options(reg, tmp);
  opts.retry_backoff_base = 300ms;
  opts.max_retry_delay = 300ms;
  opts.timeout = 1s;
  Client client(opts);
  auto t = thrown_by([&] {
    (void)client.get_blob({reg.host(), "lab/hello"}, desc_of(img.layer, data.size()), 200'000);
  });
  CHECK(t.code == ErrorCode::kRegistry);
  CHECK(contains(t.message, "the deadline of 1 s for this operation (--timeout)"));
  CHECK(reg.count("GET", path) <= 8);  // resumes spaced 150-300 ms apart within 1 s
}

// ---- credentials and redirects ----------------------------------------------------------------

TEST_CASE("origins: the scheme, the host and the port all count, userinfo never does",
          "[registry][redirect]") {
  using detail::origin_of;
  CHECK(origin_of("https://Reg.Example/v2/") == "https://reg.example");
  CHECK(origin_of("https://reg.example:443/v2/") == "https://reg.example");
  CHECK(origin_of("http://reg.example:80/v2/") == "http://reg.example");
  CHECK(origin_of("https://reg.example/v2/") != origin_of("http://reg.example/v2/"));
  CHECK(origin_of("https://reg.example:443/") != origin_of("http://reg.example:443/"));
  CHECK(origin_of("http://reg.example:80/") != origin_of("https://reg.example:80/"));
  CHECK(origin_of("https://reg.example:5000/") == "https://reg.example:5000");
  CHECK(origin_of("https://reg.example:5000/") != origin_of("https://reg.example:5001/"));
  CHECK(origin_of("https://user:pw@reg.example/") == "https://reg.example");
  CHECK(origin_of("https://reg.example@evil.example/") == "https://evil.example");
  CHECK(origin_of("https://evil.example#@reg.example/") == "https://evil.example");
  CHECK(origin_of("https://[::1]:5000/v2/") == "https://[::1]:5000");
  CHECK(origin_of("not a url").empty());
  CHECK(origin_of("/relative/path").empty());
}

TEST_CASE(
    "a redirect drops the credentials for another scheme, port or host, and never takes "
    "credentials from the Location",
    "[registry][redirect]") {
  TempDir tmp;
  auto setup = [&](FakeRegistry& reg, TransportOptions& opts) {
    reg.require_basic("alice", "s3cret");
    sigil::test::write_text_file(tmp / "config.json",
                                 R"({"auths":{")" + reg.host() + R"(":{"auth":")" +
                                     base64_encode(as_bytes("alice:s3cret")) + R"("}}})");
    opts.docker_config = tmp / "config.json";
  };
  const std::string alice = "Basic " + base64_encode(as_bytes("alice:s3cret"));
  // Where `from` sends the blob GET, and what reached the target.
  auto follow = [&](FakeRegistry& from, FakeRegistry& target, TransportOptions opts,
                    const std::string& location, const std::string& target_path) {
    auto img = sigil::test::push_test_image(from, "lab/hello", "v1", "payload");
    target.add_fault({"GET", target_path, 1, FakeRegistry::status(200, "payload")});
    from.add_fault({"GET", "/v2/lab/hello/blobs/" + img.layer.str(), 1,
                    FakeRegistry::status(307, "", {{"Location", location}})});
    Client client(opts);
    auto bytes = client.get_blob({from.host(), "lab/hello"}, desc_of(img.layer, 7), 100);
    CHECK(std::string(bytes.begin(), bytes.end()) == "payload");
    for (const auto& r : target.requests()) {
      if (r.path == target_path) return r.authorization;
    }
    FAIL("the redirect target was not asked");
    return std::string();
  };

  SECTION("https to http") {
    FakeRegistry reg(FakeRegistry::kTls);
    FakeRegistry storage;
    auto opts = fast_options(reg, tmp);
    opts.insecure_registries.push_back(storage.host());
    setup(reg, opts);
    CHECK(follow(reg, storage, opts, storage.url() + "/storage/a", "/storage/a").empty());
  }
  SECTION("http to https") {
    FakeRegistry reg;
    FakeRegistry storage(FakeRegistry::kTls);
    auto opts = fast_options(reg, tmp);
    opts.insecure_registries.push_back(storage.host());
    setup(reg, opts);
    CHECK(follow(reg, storage, opts, storage.url() + "/storage/b", "/storage/b").empty());
  }
  SECTION("the same host on another port") {
    FakeRegistry reg;
    FakeRegistry storage;
    auto opts = fast_options(reg, tmp);
    opts.insecure_registries.push_back(storage.host());
    setup(reg, opts);
    CHECK(follow(reg, storage, opts, storage.url() + "/storage/c", "/storage/c").empty());
  }
  SECTION("another host name for the same address and port") {
    FakeRegistry reg;
    auto opts = fast_options(reg, tmp);
    setup(reg, opts);
    const auto other = "http://localhost:" + reg.host().substr(reg.host().find(':') + 1);
    CHECK(follow(reg, reg, opts, other + "/storage/d", "/storage/d").empty());
  }
  SECTION("userinfo in a Location to another host is not used") {
    FakeRegistry reg;
    auto opts = fast_options(reg, tmp);
    setup(reg, opts);
    const auto other =
        "http://alice:s3cret@localhost:" + reg.host().substr(reg.host().find(':') + 1);
    CHECK(follow(reg, reg, opts, other + "/storage/e", "/storage/e").empty());
  }
  SECTION("userinfo in a Location to the same origin does not replace the credentials") {
    FakeRegistry reg;
    auto opts = fast_options(reg, tmp);
    setup(reg, opts);
    CHECK(follow(reg, reg, opts, "http://mallory:x@" + reg.host() + "/storage/f", "/storage/f") ==
          alice);
  }
}
