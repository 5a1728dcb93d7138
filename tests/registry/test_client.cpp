// The registry client against an in-process fake registry: verified reads, retries, redirects,
// caps, uploads, pagination, referrers. Each failure is asserted by its exact code and message.
#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <vector>

#include "libtrust/core/encoding.h"
#include "libtrust/core/limits.h"
#include "libtrust/core/media_type.h"
#include "libtrust/registry/client.h"
#include "registry/registry_test_util.h"

using namespace trust;
using namespace trust::registry;
using registry_test::fast_options;
using registry_test::thrown_by;
using sigil::test::FakeRegistry;
using sigil::test::TempDir;

namespace {

const std::string kOciManifest(media_type::kOciManifest);

oci::Descriptor desc_of(const Digest& d, std::uint64_t size, std::string mt = "") {
  oci::Descriptor out;
  out.digest = d;
  out.size = size;
  out.media_type = std::move(mt);
  return out;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("a tag resolves to the digest of the bytes served, not Docker-Content-Digest",
          "[registry]") {
  FakeRegistry reg;
  TempDir tmp;
  auto img = sigil::test::push_test_image(reg, "lab/hello", "v1");
  // A lying registry: the header names another digest.
  reg.add_fault(
      {"GET", "/v2/lab/hello/manifests/v1", 1,
       FakeRegistry::status(200, img.manifest,
                            {{"Content-Type", kOciManifest},
                             {"Docker-Content-Digest", "sha256:" + std::string(64, 'a')}})});
  Client client(fast_options(reg, tmp));
  Repository repo{reg.host(), "lab/hello"};
  auto fetched = client.get_manifest_by_tag(repo, "v1");
  REQUIRE(fetched);
  CHECK(fetched->descriptor.digest == img.digest);
  CHECK(fetched->descriptor.size == img.manifest.size());
  CHECK(fetched->descriptor.media_type == kOciManifest);
  CHECK(std::string(fetched->bytes.begin(), fetched->bytes.end()) == img.manifest);
  CHECK_FALSE(client.get_manifest_by_tag(repo, "missing"));
}

TEST_CASE("a manifest whose bytes do not match the digest asked for is refused", "[registry]") {
  FakeRegistry reg;
  TempDir tmp;
  auto img = sigil::test::push_test_image(reg, "lab/hello", "v1");
  auto other = sigil::test::push_test_image(reg, "lab/hello", "v2", "other layer");
  reg.add_fault({"GET", "/v2/lab/hello/manifests/" + img.digest.str(), 1,
                 FakeRegistry::status(200, other.manifest, {{"Content-Type", kOciManifest}})});
  Client client(fast_options(reg, tmp));
  Repository repo{reg.host(), "lab/hello"};
  auto t = thrown_by([&] { (void)client.get_manifest(repo, desc_of(img.digest, 0)); });
  CHECK(t.code == ErrorCode::kDigestMismatch);
  CHECK(contains(t.message, reg.host() + "/lab/hello@" + img.digest.str()));
  CHECK(contains(t.message, "does not match the digest asked for"));
  CHECK(contains(t.message, other.digest.str()));
  // The honest answer passes, size checked too.
  auto bytes = client.get_manifest(repo, desc_of(img.digest, img.manifest.size()));
  CHECK(bytes.size() == img.manifest.size());
}

TEST_CASE("a manifest over 4 MiB is refused while reading, whatever Content-Length says",
          "[registry]") {
  FakeRegistry reg;
  TempDir tmp;
  Client client(fast_options(reg, tmp));
  Repository repo{reg.host(), "lab/big"};
  // At the limit: accepted (valid JSON padded with spaces).
  std::string at_limit =
      "{\"schemaVersion\":2,\"mediaType\":\"" + kOciManifest + "\",\"config\":{},\"layers\":[]}";
  at_limit.append(limits::kMaxManifestBytes - at_limit.size(), ' ');
  reg.add_fault({"GET", "/v2/lab/big/manifests/at", 1,
                 FakeRegistry::status(200, at_limit, {{"Content-Type", kOciManifest}})});
  auto at = client.get_manifest_by_tag(repo, "at");
  REQUIRE(at);
  CHECK(at->bytes.size() == limits::kMaxManifestBytes);
  // One byte past: LimitError, the transfer aborted.
  std::string over(limits::kMaxManifestBytes + 1, ' ');
  reg.add_fault({"GET", "/v2/lab/big/manifests/over", 1,
                 FakeRegistry::status(200, over, {{"Content-Type", kOciManifest}})});
  auto t = thrown_by([&] { (void)client.get_manifest_by_tag(repo, "over"); });
  CHECK(t.code == ErrorCode::kLimit);
  CHECK(contains(t.message, reg.host() + "/lab/big:over"));
  CHECK(contains(t.message, "the registry's answer (transfer aborted): "));
  CHECK(contains(t.message, " bytes is over the limit of 4194304"));
  // A descriptor that declares more than the cap is refused before any request.
  reg.clear_requests();
  auto t2 = thrown_by([&] {
    (void)client.get_manifest(repo,
                              desc_of(Digest::of(as_bytes("x")), limits::kMaxManifestBytes + 1));
  });
  CHECK(t2.code == ErrorCode::kLimit);
  CHECK(reg.requests().empty());
}

TEST_CASE("a blob whose bytes do not match its digest is refused", "[registry]") {
  FakeRegistry reg;
  TempDir tmp;
  auto img = sigil::test::push_test_image(reg, "lab/hello", "v1", "layer!");
  reg.add_fault(
      {"GET", "/v2/lab/hello/blobs/" + img.layer.str(), 1,
       FakeRegistry::status(200, "LAYER!", {{"Content-Type", "application/octet-stream"}})});
  Client client(fast_options(reg, tmp));
  Repository repo{reg.host(), "lab/hello"};
  auto t = thrown_by([&] { (void)client.get_blob(repo, desc_of(img.layer, 6), 1000); });
  CHECK(t.code == ErrorCode::kDigestMismatch);
  CHECK(contains(t.message, reg.host() + "/lab/hello"));
  CHECK(contains(t.message, img.layer.str()));
  auto ok = client.get_blob(repo, desc_of(img.layer, 6), 1000);
  CHECK(std::string(ok.begin(), ok.end()) == "layer!");
  // A declared size past the caller's cap is refused before downloading.
  reg.clear_requests();
  auto t2 = thrown_by([&] { (void)client.get_blob(repo, desc_of(img.layer, 6), 5); });
  CHECK(t2.code == ErrorCode::kLimit);
  CHECK(reg.count("GET", ".*/blobs/.*") == 0);
}

TEST_CASE("429 with Retry-After and 5xx are retried, Retry-After waited as asked, then succeed",
          "[registry]") {
  FakeRegistry reg;
  TempDir tmp;
  auto img = sigil::test::push_test_image(reg, "lab/hello", "v1");
  reg.add_fault({"GET", "/v2/lab/hello/manifests/v1", 1,
                 FakeRegistry::status(429, "", {{"Retry-After", "1"}})});
  reg.add_fault({"GET", "/v2/lab/hello/manifests/v1", 1, FakeRegistry::status(503)});
  auto opts = fast_options(reg, tmp);
  opts.max_retry_delay = std::chrono::milliseconds(1500);  // room for the Retry-After of 1 s
  Client client(opts);
  Repository repo{reg.host(), "lab/hello"};
  auto start = std::chrono::steady_clock::now();
  auto fetched = client.get_manifest_by_tag(repo, "v1");
  auto elapsed = std::chrono::steady_clock::now() - start;
  REQUIRE(fetched);
  CHECK(fetched->descriptor.digest == img.digest);
  CHECK(reg.count("GET", "/v2/lab/hello/manifests/v1") == 3);
  CHECK(elapsed >= std::chrono::milliseconds(1000));  // it waited as long as Retry-After asked
}

TEST_CASE("a registry that keeps failing ends in a RegistryError with its OCI error message",
          "[registry]") {
  FakeRegistry reg;
  TempDir tmp;
  sigil::test::push_test_image(reg, "lab/hello", "v1");
  reg.add_fault(
      {"GET", "/v2/lab/hello/manifests/v1", 100,
       FakeRegistry::status(500, R"({"errors":[{"code":"UNKNOWN","message":"disk on fire"}]})")});
  auto opts = fast_options(reg, tmp);
  opts.max_attempts = 3;
  Client client(opts);
  auto t = thrown_by([&] { (void)client.get_manifest_by_tag({reg.host(), "lab/hello"}, "v1"); });
  CHECK(t.code == ErrorCode::kRegistry);
  CHECK(contains(t.message, reg.host() + "/lab/hello:v1"));
  CHECK(contains(t.message, "HTTP 500 (UNKNOWN: disk on fire)"));
  CHECK(reg.count("GET", "/v2/lab/hello/manifests/v1") == 3);
}

TEST_CASE("an error body is read at most 64 KiB", "[registry]") {
  FakeRegistry reg;
  TempDir tmp;
  std::string huge(limits::kMaxRegistryErrorBody * 4, 'x');
  reg.add_fault({"GET", "/v2/lab/hello/manifests/v1", 1,
                 FakeRegistry::status(403, huge, {{"Content-Type", "text/plain"}})});
  Client client(fast_options(reg, tmp));
  auto t = thrown_by([&] { (void)client.get_manifest_by_tag({reg.host(), "lab/hello"}, "v1"); });
  CHECK(t.code == ErrorCode::kRegistry);
  CHECK(contains(t.message, "access denied (HTTP 403"));
  CHECK(t.message.size() < 1000);
}

TEST_CASE("a truncated body is retried: one that stays truncated is a RegistryError",
          "[registry]") {
  FakeRegistry reg;
  TempDir tmp;
  auto img = sigil::test::push_test_image(reg, "lab/hello", "v1", std::string(1000, 'L'));
  const auto path = "/v2/lab/hello/blobs/" + img.layer.str();
  reg.add_fault({"GET", path, 1, FakeRegistry::truncated(std::string(500, 'L'), 1000)});
  Client client(fast_options(reg, tmp));
  Repository repo{reg.host(), "lab/hello"};
  // A manifest (read into memory) cut short is simply fetched again.
  reg.add_fault({"GET", "/v2/lab/hello/manifests/v1", 1,
                 FakeRegistry::truncated(img.manifest.substr(0, 10), img.manifest.size())});
  auto fetched = client.get_manifest_by_tag(repo, "v1");
  REQUIRE(fetched);
  CHECK(fetched->descriptor.digest == img.digest);
  CHECK(reg.count("GET", "/v2/lab/hello/manifests/v1") == 2);
  // Always truncated: attempts run out.
  reg.add_fault({"GET", "/v2/lab/hello/manifests/v1", 100,
                 FakeRegistry::truncated(img.manifest.substr(0, 10), img.manifest.size())});
  auto t2 = thrown_by([&] { (void)client.get_manifest_by_tag(repo, "v1"); });
  CHECK(t2.code == ErrorCode::kRegistry);
  CHECK(contains(t2.message, "the connection was dropped"));
}

TEST_CASE("a blob download dropped midway is resumed where it stopped, with Range", "[registry]") {
  FakeRegistry reg;
  TempDir tmp;
  std::string data;
  for (int i = 0; i < 1000; ++i) data += static_cast<char>('a' + i % 26);
  auto img = sigil::test::push_test_image(reg, "lab/hello", "v1", data);
  const auto path = "/v2/lab/hello/blobs/" + img.layer.str();
  Client client(fast_options(reg, tmp));
  Repository repo{reg.host(), "lab/hello"};
  const auto desc = desc_of(img.layer, data.size());
  auto ranges = [&] {
    std::vector<std::string> out;
    for (const auto& r : reg.requests()) {
      if (r.method == "GET" && r.path == path) out.push_back(r.range);
    }
    return out;
  };

  SECTION("the registry answers 206 from the next byte: the sink sees every byte once") {
    reg.add_fault({"GET", path, 1, FakeRegistry::cut(data, 300)});
    auto got = client.get_blob(repo, desc, 2000);
    CHECK(std::string(got.begin(), got.end()) == data);
    CHECK(ranges() == std::vector<std::string>{"", "bytes=300-"});
  }
  SECTION("dropped twice: each resume starts after what arrived") {
    reg.add_fault({"GET", path, 1, FakeRegistry::cut(data, 300)});
    reg.add_fault({"GET", path, 1, FakeRegistry::cut(data, 500)});
    auto got = client.get_blob(repo, desc, 2000);
    CHECK(std::string(got.begin(), got.end()) == data);
    CHECK(ranges() == std::vector<std::string>{"", "bytes=300-", "bytes=500-"});
  }
  SECTION("a token that expires between the drop and the resume: the resume goes on after it") {
    reg.require_bearer();
    (void)client.get_manifest_by_tag(repo, "v1");  // a token for the repository, cached
    reg.add_fault({"GET", path, 1, FakeRegistry::cut(data, 300)});
    reg.add_fault(
        {"GET", path, 1,
         FakeRegistry::status(401, "",
                              {{"WWW-Authenticate", "Bearer realm=\"" + reg.url() +
                                                        "/token\",service=\"fake-registry\""}})});
    auto got = client.get_blob(repo, desc, 2000);
    CHECK(std::string(got.begin(), got.end()) == data);
    CHECK(ranges() == std::vector<std::string>{"", "bytes=300-", "bytes=300-"});
  }
  SECTION("dropped after the last byte: the registry's 416 for the empty rest ends it") {
    reg.add_fault({"GET", path, 1, FakeRegistry::cut(data, data.size())});
    reg.add_fault(
        {"GET", path, 1, FakeRegistry::status(416, "", {{"Content-Range", "bytes */1000"}})});
    auto got = client.get_blob(repo, desc, 2000);
    CHECK(std::string(got.begin(), got.end()) == data);
    CHECK(ranges() == std::vector<std::string>{"", "bytes=1000-"});
  }
  SECTION("a 416 claiming the blob ends early fails the size check") {
    reg.add_fault({"GET", path, 1, FakeRegistry::cut(data, 600)});
    reg.add_fault(
        {"GET", path, 1, FakeRegistry::status(416, "", {{"Content-Range", "bytes */600"}})});
    auto t = thrown_by([&] { (void)client.get_blob(repo, desc, 2000); });
    CHECK(t.code == ErrorCode::kDigestMismatch);
    CHECK(contains(t.message, "has 600 bytes"));
  }
  SECTION("a 416 for some other size is a registry error") {
    reg.add_fault({"GET", path, 1, FakeRegistry::cut(data, 600)});
    reg.add_fault(
        {"GET", path, 1, FakeRegistry::status(416, "", {{"Content-Range", "bytes */2000"}})});
    auto t = thrown_by([&] { (void)client.get_blob(repo, desc, 2000); });
    CHECK(t.code == ErrorCode::kRegistry);
    CHECK(contains(t.message, "416"));
  }
  SECTION("a registry that ignores Range sends it all again: the bytes held are skipped") {
    reg.add_fault({"GET", path, 1, FakeRegistry::cut(data, 300)});
    reg.add_fault({"GET", path, 1, FakeRegistry::chunked(200, data)});
    auto got = client.get_blob(repo, desc, 2000);
    CHECK(std::string(got.begin(), got.end()) == data);
    CHECK(ranges().size() == 2);
  }
  SECTION("a 206 that starts elsewhere is refused, never spliced in") {
    reg.add_fault({"GET", path, 1, FakeRegistry::cut(data, 300)});
    reg.add_fault({"GET", path, 1,
                   FakeRegistry::chunked(206, data, {{"Content-Range", "bytes 0-999/1000"}})});
    auto t = thrown_by([&] { (void)client.get_blob(repo, desc, 2000); });
    CHECK(t.code == ErrorCode::kRegistry);
    CHECK(contains(t.message, reg.host() + "/lab/hello@" + img.layer.str()));
    CHECK(contains(t.message, "resuming at byte 300"));
    CHECK(contains(t.message, "bytes 0-999/1000"));
  }
  SECTION("wrong bytes after a resume fail the digest check") {
    std::string bad = data;
    bad[700] = '!';
    reg.add_fault({"GET", path, 1, FakeRegistry::cut(data, 300)});
    reg.add_fault(
        {"GET", path, 1,
         FakeRegistry::chunked(206, bad.substr(300), {{"Content-Range", "bytes 300-999/1000"}})});
    CHECK(thrown_by([&] { (void)client.get_blob(repo, desc, 2000); }).code ==
          ErrorCode::kDigestMismatch);
  }
  SECTION("resumes are bounded: a registry that drops every answer after one byte") {
    for (std::size_t i = 0; i < data.size(); ++i) {
      reg.add_fault({"GET", path, 1, FakeRegistry::cut(data, i + 1)});
    }
    auto t = thrown_by([&] { (void)client.get_blob(repo, desc, 2000); });
    CHECK(t.code == ErrorCode::kRegistry);
    CHECK(contains(t.message, "the connection was dropped"));
    CHECK(ranges().size() == static_cast<std::size_t>(trust::limits::kMaxBlobResumes) + 1);
  }
}

TEST_CASE("a stalled response is aborted after the stall timeout, and retried once", "[registry]") {
  FakeRegistry reg;
  TempDir tmp;
  auto img = sigil::test::push_test_image(reg, "lab/hello", "v1");
  const auto path = "/v2/lab/hello/manifests/v1";
  auto opts = fast_options(reg, tmp);
  // A second: far longer than any local answer takes on a loaded machine under ASan (the stalled
  // answers below never come at all), short enough for the test.
  opts.stall_timeout = std::chrono::milliseconds(1000);
  Client client(opts);
  Repository repo{reg.host(), "lab/hello"};
  // One stall (nothing delivered yet): the GET is simply sent again. (A registry that always
  // stalls: test_transport.cpp.)
  reg.add_fault({"GET", path, 1, reg.hang()});
  auto fetched = client.get_manifest_by_tag(repo, "v1");
  REQUIRE(fetched);
  CHECK(fetched->descriptor.digest == img.digest);
  CHECK(reg.count("GET", path) == 2);
}

TEST_CASE("redirects: same host keeps credentials, another host never sees them", "[registry]") {
  FakeRegistry reg;
  FakeRegistry storage;  // another host:port
  TempDir tmp;
  reg.require_basic("alice", "s3cret");
  auto img = sigil::test::push_test_image(reg, "lab/hello", "v1", "payload");
  auto layer_path = "/v2/lab/hello/blobs/" + img.layer.str();
  storage.add_fault({"GET", "/storage/layer", 1, FakeRegistry::status(200, "payload")});
  reg.add_fault(
      {"GET", layer_path, 1,
       FakeRegistry::status(307, "", {{"Location", storage.url() + "/storage/layer?sig=x"}})});
  auto opts = fast_options(reg, tmp);
  opts.insecure_registries.push_back(storage.host());
  sigil::test::write_text_file(tmp / "config.json",
                               R"({"auths":{")" + reg.host() + R"(":{"auth":")" +
                                   base64_encode(as_bytes("alice:s3cret")) + R"("}}})");
  opts.docker_config = tmp / "config.json";
  Client client(opts);
  Repository repo{reg.host(), "lab/hello"};
  auto bytes = client.get_blob(repo, desc_of(img.layer, 7), 100);
  CHECK(std::string(bytes.begin(), bytes.end()) == "payload");
  auto at_storage = storage.requests();
  REQUIRE(at_storage.size() >= 1);
  for (const auto& r : at_storage) CHECK(r.authorization.empty());
  // Same host: the redirect target gets the credentials (it demands them).
  reg.add_fault(
      {"GET", layer_path, 1,
       FakeRegistry::status(
           307, "", {{"Location", "/v2/lab/hello/blobs/" + img.layer.str() + "?again=1"}})});
  auto again = client.get_blob(repo, desc_of(img.layer, 7), 100);
  CHECK(std::string(again.begin(), again.end()) == "payload");
  auto last = reg.requests().back();
  CHECK(last.query == "again=1");
  CHECK(last.authorization.rfind("Basic ", 0) == 0);
}

TEST_CASE("redirects are followed at most 5 times", "[registry]") {
  FakeRegistry reg;
  TempDir tmp;
  auto img = sigil::test::push_test_image(reg, "lab/hello", "v1", "payload");
  auto layer_path = "/v2/lab/hello/blobs/" + img.layer.str();
  Client client(fast_options(reg, tmp));
  Repository repo{reg.host(), "lab/hello"};
  // Exactly the limit: five hops, then the blob.
  reg.add_fault({"GET", layer_path, limits::kMaxRedirects,
                 FakeRegistry::status(302, "", {{"Location", layer_path}})});
  auto ok = client.get_blob(repo, desc_of(img.layer, 7), 100);
  CHECK(ok.size() == 7);
  // A loop: refused after the limit.
  reg.add_fault(
      {"GET", layer_path, 1000, FakeRegistry::status(302, "", {{"Location", layer_path}})});
  auto t = thrown_by([&] { (void)client.get_blob(repo, desc_of(img.layer, 7), 100); });
  CHECK(t.code == ErrorCode::kRegistry);
  CHECK(contains(t.message, "more than 5 redirects"));
  CHECK(contains(t.message, reg.host() + "/lab/hello@" + img.layer.str()));
}

TEST_CASE("uploads: monolithic, chunked with relative and absolute Locations, mounts",
          "[registry]") {
  FakeRegistry reg;
  TempDir tmp;
  Client client(fast_options(reg, tmp));
  Repository repo{reg.host(), "lab/up"};
  const std::string data = "some blob bytes";
  auto digest = Digest::of(as_bytes(data));
  client.put_blob(repo, as_bytes(data), digest);
  CHECK(reg.blob(digest.str()) == data);
  CHECK(client.blob_exists(repo, digest));
  // Already there: a HEAD, no second upload.
  reg.clear_requests();
  client.put_blob(repo, as_bytes(data), digest);
  CHECK(reg.count("POST", ".*") == 0);
  // Bytes that do not match the digest are never sent.
  auto t = thrown_by([&] { client.put_blob(repo, as_bytes("x"), digest); });
  CHECK(t.code == ErrorCode::kDigestMismatch);

  for (bool absolute : {false, true}) {
    reg.set_absolute_upload_locations(absolute);
    std::string big;
    for (int i = 0; i < 1000; ++i) big += std::to_string(i) + (absolute ? "a" : "r");
    auto d = Digest::of(as_bytes(big));
    std::size_t pos = 0;
    client.put_blob_stream(
        repo, d, big.size(),
        [&](std::uint8_t* buf, std::size_t n) {
          auto k = std::min(n, big.size() - pos);
          std::copy(big.begin() + static_cast<std::ptrdiff_t>(pos),
                    big.begin() + static_cast<std::ptrdiff_t>(pos + k), buf);
          pos += k;
          return k;
        },
        1000);
    CHECK(reg.blob(d.str()) == big);
  }
  // By default the whole blob is one streamed PATCH, whatever sizes the reader hands over.
  {
    std::string whole(100'000, 'w');
    auto d = Digest::of(as_bytes(whole));
    std::size_t pos = 0;
    reg.clear_requests();
    client.put_blob_stream(repo, d, whole.size(), [&](std::uint8_t* buf, std::size_t n) {
      auto k = std::min({n, whole.size() - pos, std::size_t{777}});
      std::copy_n(whole.data() + pos, k, buf);
      pos += k;
      return k;
    });
    CHECK(reg.blob(d.str()) == whole);
    CHECK(reg.count("PATCH", ".*") == 1);
    // A reader that ends early: nothing is committed.
    auto short_d = Digest::of(as_bytes("short"));
    auto e = thrown_by([&] {
      client.put_blob_stream(repo, short_d, 10,
                             [&, done = false](std::uint8_t* buf, std::size_t) mutable {
                               if (done) return std::size_t{0};
                               done = true;
                               std::copy_n("short", 5, buf);
                               return std::size_t{5};
                             });
    });
    CHECK(e.code == ErrorCode::kDigestMismatch);
    CHECK_FALSE(client.blob_exists(repo, short_d));
  }
  // Mount: 201 when the source has it, false (202) when not.
  Repository other{reg.host(), "lab/other"};
  CHECK(client.mount_blob(other, digest, repo));
  CHECK(client.blob_exists(other, digest));
  CHECK_FALSE(client.mount_blob(other, Digest::of(as_bytes("absent")), repo));
}

TEST_CASE("an upload that hits a 5xx restarts from a new POST", "[registry]") {
  FakeRegistry reg;
  TempDir tmp;
  Client client(fast_options(reg, tmp));
  Repository repo{reg.host(), "lab/up"};
  const std::string data = "retry me";
  auto digest = Digest::of(as_bytes(data));
  reg.add_fault({"PUT", "/v2/lab/up/blobs/uploads/.*", 1, FakeRegistry::status(503)});
  client.put_blob(repo, as_bytes(data), digest);
  CHECK(reg.blob(digest.str()) == data);
  CHECK(reg.count("POST", "/v2/lab/up/blobs/uploads/") == 2);
}

TEST_CASE("manifests: PUT by digest and tag, MANIFEST_BLOB_UNKNOWN retried, OCI-Subject reported",
          "[registry]") {
  FakeRegistry reg;
  TempDir tmp;
  Client client(fast_options(reg, tmp));
  auto img = sigil::test::push_test_image(reg, "lab/hello", "v1");
  Repository repo{reg.host(), "lab/hello"};
  // A referrer whose PUT the registry answers with OCI-Subject.
  std::string referrer = R"({"schemaVersion":2,"mediaType":")" + kOciManifest +
                         R"(","artifactType":"application/x.test","config":{"mediaType":")" +
                         std::string(media_type::kOciConfig) + R"(","digest":")" +
                         img.config.str() + R"(","size":82},"layers":[],"subject":{"mediaType":")" +
                         kOciManifest + R"(","digest":")" + img.digest.str() + R"(","size":)" +
                         std::to_string(img.manifest.size()) + "}}";
  auto rd = Digest::of(as_bytes(referrer));
  reg.add_fault(
      {"PUT", "/v2/lab/hello/manifests/" + rd.str(), 2,
       FakeRegistry::status(
           400, R"({"errors":[{"code":"MANIFEST_BLOB_UNKNOWN","message":"blob unknown"}]})")});
  bool subject = false;
  auto d = client.put_manifest(repo, rd.str(), as_bytes(referrer), kOciManifest, &subject);
  CHECK(d.digest == rd);
  CHECK(subject);
  CHECK(reg.count("PUT", "/v2/lab/hello/manifests/" + rd.str()) == 3);
  // Under a tag; HEAD reports the registry's claim.
  client.put_manifest(repo, "v2", as_bytes(img.manifest), kOciManifest);
  auto head = client.head_manifest(repo, "v2");
  REQUIRE(head);
  CHECK(head->digest == img.digest);
  CHECK_FALSE(client.head_manifest(repo, "nope"));
  // Other 400s are not retried.
  reg.clear_requests();
  reg.add_fault(
      {"PUT", "/v2/lab/hello/manifests/v3", 1,
       FakeRegistry::status(400, R"({"errors":[{"code":"MANIFEST_INVALID","message":"bad"}]})")});
  auto t =
      thrown_by([&] { client.put_manifest(repo, "v3", as_bytes(img.manifest), kOciManifest); });
  CHECK(t.code == ErrorCode::kRegistry);
  CHECK(contains(t.message, reg.host() + "/lab/hello:v3"));
  CHECK(contains(t.message, "MANIFEST_INVALID: bad"));
  CHECK(reg.count("PUT", ".*") == 1);
  client.delete_manifest(repo, rd);
  CHECK_FALSE(reg.manifest("lab/hello", rd.str()));
}

TEST_CASE("tags are listed across Link pages and capped", "[registry]") {
  FakeRegistry reg;
  TempDir tmp;
  reg.set_max_tag_page(3);
  for (int i = 0; i < 10; ++i) {
    sigil::test::push_test_image(reg, "lab/tags", "t" + std::to_string(i));
  }
  Client client(fast_options(reg, tmp));
  Repository repo{reg.host(), "lab/tags"};
  auto tags = client.list_tags(repo);
  CHECK(tags.size() == 10);
  CHECK(reg.count("GET", "/v2/lab/tags/tags/list") == 4);
  CHECK(client.list_tags(repo, 10).size() == 10);
  auto t = thrown_by([&] { (void)client.list_tags(repo, 9); });
  CHECK(t.code == ErrorCode::kLimit);
  CHECK(contains(t.message, reg.host() + "/lab/tags"));
  CHECK(client.list_tags({reg.host(), "lab/none"}).empty());
}

TEST_CASE("referrers: the API's index when present, nullopt on distribution 2.8's 404",
          "[registry]") {
  FakeRegistry reg;
  TempDir tmp;
  auto img = sigil::test::push_test_image(reg, "lab/hello", "v1");
  auto mk = [&](const std::string& at) {
    return R"({"schemaVersion":2,"mediaType":")" + kOciManifest + R"(","artifactType":")" + at +
           R"(","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[],"subject":{"mediaType":")" +
           kOciManifest + R"(","digest":")" + img.digest.str() + R"(","size":)" +
           std::to_string(img.manifest.size()) + "}}";
  };
  reg.add_manifest("lab/hello", mk("application/x.a"), kOciManifest);
  reg.add_manifest("lab/hello", mk("application/x.b"), kOciManifest);
  Client client(fast_options(reg, tmp));
  Repository repo{reg.host(), "lab/hello"};
  auto all = client.referrers(repo, img.digest);
  REQUIRE(all);
  CHECK(all->manifests.size() == 2);
  auto only_a = client.referrers(repo, img.digest, "application/x.a");
  REQUIRE(only_a);
  REQUIRE(only_a->manifests.size() == 1);
  CHECK(only_a->manifests[0].artifact_type == "application/x.a");
  // A registry that ignores the filter: filtered here.
  reg.add_fault({"GET", "/v2/lab/hello/referrers/.*", 1,
                 FakeRegistry::status(200, std::string(all->raw.begin(), all->raw.end()),
                                      {{"Content-Type", std::string(media_type::kOciIndex)}})});
  auto filtered = client.referrers(repo, img.digest, "application/x.b");
  REQUIRE(filtered);
  CHECK(filtered->manifests.size() == 1);
  reg.set_referrers_api(false);
  CHECK_FALSE(client.referrers(repo, img.digest));
  reg.add_fault({"GET", "/v2/lab/hello/referrers/.*", 1, FakeRegistry::status(405)});
  CHECK_FALSE(client.referrers(repo, img.digest));
}

TEST_CASE("connections are reused and every request is traced without credentials", "[registry]") {
  FakeRegistry reg;
  TempDir tmp;
  reg.require_basic("alice", "tr4ce-secret");
  auto img = sigil::test::push_test_image(reg, "lab/hello", "v1");
  sigil::test::write_text_file(tmp / "config.json",
                               R"({"auths":{"http://)" + reg.host() +
                                   R"(/v2/":{"username":"alice","password":"tr4ce-secret"}}})");
  auto opts = fast_options(reg, tmp);
  opts.docker_config = tmp / "config.json";
  std::vector<std::string> lines;
  opts.trace = [&](std::string_view l) { lines.emplace_back(l); };
  Client client(opts);
  Repository repo{reg.host(), "lab/hello"};
  for (int i = 0; i < 5; ++i) (void)client.get_manifest_by_tag(repo, "v1");
  auto stats = client.stats();
  // The failed TLS probe, the anonymous 401, then one kept-alive connection for the rest.
  CHECK(stats.connections <= 3);
  REQUIRE(!lines.empty());
  CHECK(contains(lines.back(), "GET http://" + reg.host() + "/v2/lab/hello/manifests/v1 -> 200"));
  for (const auto& l : lines) CHECK_FALSE(contains(l, "tr4ce-secret"));
  // 1 TLS probe + 1 anonymous 401 + 5 with Basic (the challenge is remembered).
  CHECK(stats.requests == 7);
}

TEST_CASE("127.0.0.1 is not insecure unless named: TLS is required", "[registry]") {
  FakeRegistry reg;
  TempDir tmp;
  auto opts = fast_options(reg, tmp);
  opts.insecure_registries.clear();
  Client client(opts);
  auto t = thrown_by([&] { client.ping(reg.host()); });
  CHECK(t.code == ErrorCode::kRegistry);
  CHECK(contains(t.message, reg.host()));
  CHECK(contains(t.message, "TLS"));
  CHECK(reg.requests().empty());  // no plain-HTTP request was made
}

TEST_CASE("options are validated", "[registry]") {
  TransportOptions o;
  o.insecure_registries = {"http://host"};
  CHECK(thrown_by([&] { o.validate(); }).code == ErrorCode::kUsage);
  o.insecure_registries = {};
  o.max_attempts = 0;
  CHECK(thrown_by([&] { o.validate(); }).code == ErrorCode::kUsage);
}
