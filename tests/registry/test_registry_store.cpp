// A registry repository as an oci::ImageStore: a tag resolved exactly once, verified reads,
// writes, and open_source/open_store dispatch.
#include <catch2/catch.hpp>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "libtrust/core/limits.h"
#include "libtrust/core/media_type.h"
#include "libtrust/registry/registry_store.h"
#include "libtrust/sig/cosign_layout.h"
#include "registry/registry_test_util.h"

using namespace trust;
using namespace trust::registry;
using registry_test::fast_options;
using registry_test::thrown_by;
using sigil::test::FakeRegistry;
using sigil::test::TempDir;

TEST_CASE("resolve fetches a tag once and fetch_manifest reuses the bytes", "[registry][store]") {
  FakeRegistry reg;
  TempDir tmp;
  auto img = sigil::test::push_test_image(reg, "lab/hello", "v1", "payload");
  auto ref = Reference::parse(reg.host() + "/lab/hello:v1");
  auto store = open_store(ref, fast_options(reg, tmp));
  CHECK(store->describe() == reg.host() + "/lab/hello");
  auto desc = store->resolve(ref);
  CHECK(desc.digest == img.digest);
  CHECK(desc.media_type == media_type::kOciManifest);
  // The tag moves: what was resolved stays what we work on.
  sigil::test::push_test_image(reg, "lab/hello", "v1", "other");
  auto bytes = store->fetch_manifest(desc);
  CHECK(std::string(bytes.begin(), bytes.end()) == img.manifest);
  CHECK(reg.count("GET", "/v2/lab/hello/manifests/.*") == 1);
  auto m = oci::Manifest::parse(bytes, "test");
  auto layer = store->fetch_blob(m.layers.at(0), 100);
  CHECK(std::string(layer.begin(), layer.end()) == "payload");
  // Missing tags.
  CHECK_FALSE(store->find_tag("nope"));
  auto t =
      thrown_by([&] { (void)store->resolve(Reference::parse(reg.host() + "/lab/hello:nope")); });
  CHECK(t.code == ErrorCode::kNotFound);
  CHECK(t.message == reg.host() + "/lab/hello:nope: no such tag (manifest unknown)");
}

TEST_CASE("resolve by digest fetches and checks the bytes", "[registry][store]") {
  FakeRegistry reg;
  TempDir tmp;
  auto img = sigil::test::push_test_image(reg, "lab/hello", "v1");
  auto other = sigil::test::push_test_image(reg, "lab/hello", "v2", "x");
  auto ref = Reference::parse(reg.host() + "/lab/hello@" + img.digest.str());
  auto source = open_source(ref, fast_options(reg, tmp));
  auto desc = source->resolve(ref);
  CHECK(desc.digest == img.digest);
  CHECK(desc.size == img.manifest.size());
  reg.add_fault({"GET", "/v2/lab/hello/manifests/" + other.digest.str(), 1,
                 FakeRegistry::status(200, img.manifest,
                                      {{"Content-Type", std::string(media_type::kOciManifest)}})});
  auto bad = Reference::parse(reg.host() + "/lab/hello@" + other.digest.str());
  auto t = thrown_by([&] { (void)source->resolve(bad); });
  CHECK(t.code == ErrorCode::kDigestMismatch);
  CHECK(t.message.find(reg.host() + "/lab/hello@" + other.digest.str()) == 0);
}

TEST_CASE("writes: put_blob, put_manifest by digest, set_tag from the cached bytes",
          "[registry][store]") {
  FakeRegistry reg;
  TempDir tmp;
  auto client = std::make_shared<Client>(fast_options(reg, tmp));
  auto ref = Reference::parse(reg.host() + "/lab/sig:latest");
  auto store = open_registry_store(client, ref);
  const std::string config = "{}";
  store->put_blob(as_bytes(config), Digest::of(as_bytes(config)));
  std::string manifest =
      R"({"schemaVersion":2,"mediaType":")" + std::string(media_type::kOciManifest) +
      R"(","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":")" +
      Digest::of(as_bytes(config)).str() + R"(","size":2},"layers":[]})";
  auto d = store->put_manifest(as_bytes(manifest), media_type::kOciManifest);
  CHECK(d.digest == Digest::of(as_bytes(manifest)));
  CHECK(reg.manifest("lab/sig", d.digest.str()) == manifest);
  reg.clear_requests();
  store->set_tag("sha256-abc.sig", d);
  CHECK(reg.manifest("lab/sig", "sha256-abc.sig") == manifest);
  CHECK(reg.count("GET", ".*") == 0);  // the bytes came from the store's cache
  auto found = store->find_tag("sha256-abc.sig");
  REQUIRE(found);
  CHECK(found->digest == d.digest);
}

TEST_CASE("referrers come from the API, or from the fallback tag on a registry without it",
          "[registry][store]") {
  FakeRegistry reg;
  TempDir tmp;
  auto img = sigil::test::push_test_image(reg, "lab/hello", "v1");
  auto ref = Reference::parse(reg.host() + "/lab/hello:v1");
  auto store = open_store(ref, fast_options(reg, tmp));
  std::string referrer =
      R"({"schemaVersion":2,"mediaType":")" + std::string(media_type::kOciManifest) +
      R"(","artifactType":"application/x.sig","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":")" +
      img.config.str() + R"(","size":82},"layers":[],"subject":{"mediaType":")" +
      std::string(media_type::kOciManifest) + R"(","digest":")" + img.digest.str() +
      R"(","size":)" + std::to_string(img.manifest.size()) + "}}";
  oci::Descriptor subject;
  subject.media_type = std::string(media_type::kOciManifest);
  subject.digest = img.digest;
  subject.size = img.manifest.size();
  auto rd = store->put_manifest(as_bytes(referrer), media_type::kOciManifest);
  rd.artifact_type = "application/x.sig";
  store->add_referrer(rd, subject);  // OCI-Subject answered: no fallback tag written
  CHECK_FALSE(reg.manifest("lab/hello", "sha256-" + img.digest.hex()));
  auto via_api = store->referrers(img.digest);
  REQUIRE(via_api.size() == 1);
  CHECK(via_api[0].digest == rd.digest);

  reg.set_referrers_api(false);
  auto store2 = open_store(ref, fast_options(reg, tmp));
  auto rd2 = store2->put_manifest(as_bytes(referrer + " "), media_type::kOciManifest);
  rd2.artifact_type = "application/x.sig";
  store2->add_referrer(rd2, subject);
  CHECK(reg.manifest("lab/hello", "sha256-" + img.digest.hex()));
  auto via_tag = store2->referrers(img.digest, "application/x.sig");
  REQUIRE(via_tag.size() == 1);
  CHECK(via_tag[0].digest == rd2.digest);
}

TEST_CASE("open_source dispatches local references to the local backends", "[registry][store]") {
  TransportOptions opts;
  auto src =
      open_source(Reference::parse(std::string("oci:") + SIGIL_TEST_DATA + "/image-oci:v1"), opts);
  CHECK(src->describe() == std::string("oci:") + SIGIL_TEST_DATA + "/image-oci");
  auto t = thrown_by(
      [&] { (void)open_store(Reference::parse("docker-archive:/nonexistent.tar"), opts); });
  CHECK(t.code == ErrorCode::kUnsupported);
}

namespace {

// Pushes a cosign .sig manifest for `subject` whose layers carry `payloads` (stored as blobs),
// each with a placeholder signature: reading, not verifying, is what these tests look at.
// `declared_size` overrides the size the descriptors claim.
void push_signature_manifest(Client& client, const Repository& repo, const Digest& subject,
                             const std::vector<std::string>& payloads,
                             std::optional<std::uint64_t> declared_size = std::nullopt) {
  oci::Manifest m;
  m.schema_version = 2;
  m.media_type = std::string(media_type::kOciManifest);
  const std::string config = "{}";
  m.config.media_type = std::string(media_type::kOciConfig);
  m.config.digest = Digest::of(as_bytes(config));
  m.config.size = config.size();
  client.put_blob(repo, as_bytes(config), m.config.digest);
  for (const auto& payload : payloads) {
    oci::Descriptor layer;
    layer.media_type = std::string(media_type::kCosignSimpleSigning);
    layer.digest = Digest::of(as_bytes(payload));
    layer.size = declared_size.value_or(payload.size());
    layer.annotations["dev.cosignproject.cosign/signature"] = "c2ln";
    client.put_blob(repo, as_bytes(payload), layer.digest);
    m.layers.push_back(layer);
  }
  client.put_manifest(repo, "sha256-" + subject.hex() + ".sig", as_bytes(m.to_json()),
                      media_type::kOciManifest);
}

}  // namespace

TEST_CASE("signature payloads are fetched in parallel over connections that are kept",
          "[registry][store]") {
  FakeRegistry reg;
  TempDir tmp;
  auto img = sigil::test::push_test_image(reg, "lab/many", "v1");
  auto client = std::make_shared<Client>(fast_options(reg, tmp));
  // A .sig manifest of 40 layers.
  constexpr int kLayers = 40;
  std::vector<std::string> payloads;
  for (int i = 0; i < kLayers; ++i) payloads.push_back("payload " + std::to_string(i));
  push_signature_manifest(*client, {reg.host(), "lab/many"}, img.digest, payloads);

  auto store = open_registry_store(client, Reference::parse(reg.host() + "/lab/many:v1"));
  const auto before = client->stats();
  auto found = sig::read_cosign_signatures(*store, img.digest);
  const auto after = client->stats();
  REQUIRE(found);
  REQUIRE(found->signatures.size() == kLayers);
  for (int i = 0; i < kLayers; ++i) {
    const auto& payload = found->signatures[static_cast<std::size_t>(i)].payload;
    CHECK(std::string(payload.begin(), payload.end()) == "payload " + std::to_string(i));
  }
  CHECK(after.requests - before.requests == kLayers + 1);  // the .sig manifest, then payloads
  // At most one new connection per fetching thread (8) and one for the manifest; none per
  // request (libcurl's default cache of 5 idle connections made this about one per request).
  CHECK(after.connections - before.connections <= 9);
}

TEST_CASE("a signature layer claiming more than 4 MiB is refused before any download",
          "[registry][store][limits]") {
  FakeRegistry reg;
  TempDir tmp;
  auto img = sigil::test::push_test_image(reg, "lab/big", "v1");
  auto client = std::make_shared<Client>(fast_options(reg, tmp));
  auto store = open_registry_store(client, Reference::parse(reg.host() + "/lab/big:v1"));
  const Repository repo{reg.host(), "lab/big"};
  const std::string payload = "a payload";
  const auto blob_path = "/v2/lab/big/blobs/" + Digest::of(as_bytes(payload)).str();

  SECTION("past the limit: reported on the signature, the blob never requested") {
    push_signature_manifest(*client, repo, img.digest, {payload},
                            limits::kMaxSignaturePayloadBytes + 1);
    reg.clear_requests();
    auto found = sig::read_cosign_signatures(*store, img.digest);
    REQUIRE(found);
    REQUIRE(found->signatures.size() == 1);
    REQUIRE(found->signatures[0].problem);
    CHECK(*found->signatures[0].problem ==
          "signature payload: " + std::to_string(limits::kMaxSignaturePayloadBytes + 1) +
              " bytes is over the limit of " + std::to_string(limits::kMaxSignaturePayloadBytes));
    CHECK(reg.count("GET", blob_path) == 0);
  }
  SECTION("at the limit: the blob is requested (and its real size then refused)") {
    push_signature_manifest(*client, repo, img.digest, {payload},
                            limits::kMaxSignaturePayloadBytes);
    reg.clear_requests();
    auto t = thrown_by([&] { (void)sig::read_cosign_signatures(*store, img.digest); });
    CHECK(t.code == ErrorCode::kDigestMismatch);
    CHECK(t.message.find("has 9 bytes, its descriptor declares " +
                         std::to_string(limits::kMaxSignaturePayloadBytes)) != std::string::npos);
    CHECK(reg.count("GET", blob_path) == 1);
  }
}

namespace {

// `n` small blobs in `repo`, and their descriptors.
std::pair<std::vector<oci::Descriptor>, std::vector<std::string>> add_blobs(FakeRegistry& reg,
                                                                            const std::string& repo,
                                                                            int n) {
  std::vector<oci::Descriptor> descs;
  std::vector<std::string> bytes;
  for (int i = 0; i < n; ++i) {
    bytes.push_back("payload " + std::to_string(i) + std::string(static_cast<std::size_t>(i), '.'));
    oci::Descriptor d;
    d.digest = reg.add_blob(repo, bytes.back());
    d.size = bytes.back().size();
    descs.push_back(d);
  }
  return {descs, bytes};
}

}  // namespace

TEST_CASE("fetch_blobs hands over every blob once, verified, with one request each",
          "[registry][store]") {
  FakeRegistry reg;
  TempDir tmp;
  auto [descs, bytes] = add_blobs(reg, "lab/many", 40);
  auto client = std::make_shared<Client>(fast_options(reg, tmp));
  auto store = open_registry_store(client, Reference::parse(reg.host() + "/lab/many:v1"));
  client->ping(reg.host());
  const auto before = client->stats();
  std::vector<std::string> got(descs.size());
  std::vector<int> calls(descs.size());
  store->fetch_blobs(descs, 1000, [&](std::size_t i, Bytes b) {
    got[i].assign(b.begin(), b.end());
    ++calls[i];
  });
  CHECK(got == bytes);
  CHECK(calls == std::vector<int>(descs.size(), 1));
  const auto after = client->stats();
  CHECK(after.requests - before.requests == descs.size());
  // HTTP/1.1 here (no HTTP/2 over plain HTTP): at most 8 connections at once, kept for the next.
  CHECK(after.connections - before.connections <= 8);
}

TEST_CASE("fetch_blobs refuses a blob whose bytes do not match its digest, and never hands it over",
          "[registry][store]") {
  FakeRegistry reg;
  TempDir tmp;
  auto [descs, bytes] = add_blobs(reg, "lab/many", 3);
  // The same size, other bytes: only the hash can tell.
  const std::string forged = "PAYLOAD 1.";
  REQUIRE(forged.size() == bytes[1].size());
  reg.add_fault(
      {"GET", "/v2/lab/many/blobs/" + descs[1].digest.str(), 1, FakeRegistry::status(200, forged)});
  auto client = std::make_shared<Client>(fast_options(reg, tmp));
  auto store = open_registry_store(client, Reference::parse(reg.host() + "/lab/many:v1"));
  client->ping(reg.host());
  std::vector<std::size_t> handed;
  auto t = thrown_by(
      [&] { store->fetch_blobs(descs, 1000, [&](std::size_t i, Bytes) { handed.push_back(i); }); });
  CHECK(t.code == ErrorCode::kDigestMismatch);
  CHECK(t.message == reg.host() + "/lab/many: blob " + descs[1].digest.str() +
                         " does not match its digest (content hashes to " +
                         Digest::of(as_bytes(forged)).str() + ")");
  CHECK(std::find(handed.begin(), handed.end(), std::size_t{1}) == handed.end());
}

TEST_CASE(
    "fetch_blobs takes the blobs answered with a redirect, a challenge or a 5xx the "
    "ordinary way",
    "[registry][store]") {
  FakeRegistry reg;
  TempDir tmp;
  auto [descs, bytes] = add_blobs(reg, "lab/many", 10);
  const auto path = [&](std::size_t i) { return "/v2/lab/many/blobs/" + descs[i].digest.str(); };
  reg.add_fault({"GET", path(1), 1, FakeRegistry::status(503)});
  reg.add_fault(
      {"GET", path(2), 1, FakeRegistry::status(307, "", {{"Location", path(2) + "?r=1"}})});
  reg.add_fault({"GET", path(3), 1,
                 FakeRegistry::status(401, "", {{"WWW-Authenticate", "Basic realm=\"x\""}})});
  reg.add_fault(
      {"GET", path(4), 1, FakeRegistry::truncated(bytes[4].substr(0, 3), bytes[4].size())});
  auto client = std::make_shared<Client>(fast_options(reg, tmp));
  auto store = open_registry_store(client, Reference::parse(reg.host() + "/lab/many:v1"));
  client->ping(reg.host());
  std::vector<std::string> got(descs.size());
  store->fetch_blobs(descs, 1000,
                     [&](std::size_t i, Bytes b) { got[i].assign(b.begin(), b.end()); });
  CHECK(got == bytes);
  CHECK(reg.count("GET", path(0)) == 1);
  // Each fault answered once, in the batch: the ordinary way asked again and got the blob.
  for (std::size_t i : {1, 2, 3, 4}) CHECK(reg.count("GET", path(i)) == 2);
}

TEST_CASE(
    "fetch_blobs refuses a blob that does not match its descriptor, and one over the cap "
    "before any request",
    "[registry][store]") {
  FakeRegistry reg;
  TempDir tmp;
  auto [descs, bytes] = add_blobs(reg, "lab/many", 6);
  auto client = std::make_shared<Client>(fast_options(reg, tmp));
  auto store = open_registry_store(client, Reference::parse(reg.host() + "/lab/many:v1"));
  client->ping(reg.host());  // the insecure registry's scheme is known, as after a manifest
  SECTION("other bytes") {
    reg.add_fault({"GET", "/v2/lab/many/blobs/" + descs[3].digest.str(), 1,
                   FakeRegistry::status(200, std::string(bytes[3].size(), 'X'))});
    auto t = thrown_by([&] { store->fetch_blobs(descs, 1000, [](std::size_t, Bytes) {}); });
    CHECK(t.code == ErrorCode::kDigestMismatch);
    CHECK(t.message == reg.host() + "/lab/many: blob " + descs[3].digest.str() +
                           " does not match its digest (content hashes to " +
                           Digest::of(as_bytes(std::string(bytes[3].size(), 'X'))).str() + ")");
  }
  SECTION("more bytes than the descriptor says") {
    reg.add_fault({"GET", "/v2/lab/many/blobs/" + descs[2].digest.str(), 1,
                   FakeRegistry::status(200, bytes[2] + "extra")});
    auto t = thrown_by([&] { store->fetch_blobs(descs, 1000, [](std::size_t, Bytes) {}); });
    CHECK(t.code == ErrorCode::kDigestMismatch);
    CHECK(t.message == reg.host() + "/lab/many: blob " + descs[2].digest.str() +
                           " is longer than the " + std::to_string(bytes[2].size()) +
                           " bytes its descriptor declares");
  }
  SECTION("a descriptor over the cap") {
    reg.clear_requests();
    auto t = thrown_by([&] { store->fetch_blobs(descs, 10, [](std::size_t, Bytes) {}); });
    CHECK(t.code == ErrorCode::kLimit);
    CHECK(reg.count("GET", ".*") == 0);
  }
}

TEST_CASE("fetch_blobs keeps the bytes in flight within its budget, one larger blob alone",
          "[registry][store]") {
  FakeRegistry reg;
  TempDir tmp;
  auto [descs, bytes] = add_blobs(reg, "lab/many", 12);
  Client client(fast_options(reg, tmp));
  client.ping(reg.host());
  // A budget smaller than any blob: one at a time, every one delivered.
  std::vector<std::size_t> order;
  auto again =
      client.get_blobs({reg.host(), "lab/many"}, descs, 1000, 5, [&](std::size_t i, Bytes b) {
        CHECK(std::string(b.begin(), b.end()) == bytes[i]);
        order.push_back(i);
      });
  CHECK(again.empty());
  // One at a time means in order.
  std::vector<std::size_t> expected(descs.size());
  for (std::size_t i = 0; i < expected.size(); ++i) expected[i] = i;
  CHECK(order == expected);
}

TEST_CASE("a signer whose write keeps being overwritten stops at the deadline, not after it",
          "[registry][store][deadline]") {
  // Every read of the signature tag finds nothing (another writer keeps replacing it): each
  // attempt writes, finds its layer gone and settles before merging again. Those waits are the
  // registry's, so the deadline ends them: the signer stops when a wait would pass it, saying
  // so, instead of sleeping past it and failing at its next request.
  FakeRegistry reg;
  TempDir tmp;
  const auto image = Digest::of(as_bytes("image"));
  reg.add_fault({.method = "GET",
                 .path_regex = "/v2/lab/app/manifests/" + sig::signature_tag(image),
                 .times = 1000,
                 .respond = FakeRegistry::status(404)});
  auto options = fast_options(reg, tmp);
  options.timeout = std::chrono::milliseconds(2000);
  auto client = std::make_shared<Client>(options);
  auto store = open_registry_store(client, Reference::parse(reg.host() + "/lab/app:latest"));
  const std::string payload = "{}";
  auto t = thrown_by([&] {
    (void)sig::append_cosign_signature(*store, image, as_bytes(payload), as_bytes("sig"));
  });
  CHECK(t.code == ErrorCode::kRegistry);
  CHECK(t.message.find("waiting for concurrent writers to settle") != std::string::npos);
  CHECK(t.message.find("would pass the deadline of 2 s") != std::string::npos);
  // Each settle is at least the store's 250 ms: at most 8 writes of the tag fit in 2 s, before
  // the bound of kMaxMergeAttempts.
  const auto writes = reg.count("PUT", "/v2/lab/app/manifests/" + sig::signature_tag(image));
  CHECK(writes >= 1);
  CHECK(writes <= 8);
}
