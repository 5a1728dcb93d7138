// The limits on signatures, each tested once at every point where it is enforced: the referrer
// count in every referrers() (the fallback tag, the registry's referrers API, the two merged),
// the .sig layer count, and the payload and bundle sizes (refused from the descriptor, so that
// many layers pointing at one large blob cost nothing). See core/limits.h.
#include <catch2/catch.hpp>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "libtrust/check/verify_image.h"
#include "libtrust/core/encoding.h"
#include "libtrust/core/error.h"
#include "libtrust/core/limits.h"
#include "libtrust/core/media_type.h"
#include "libtrust/oci/layout.h"
#include "libtrust/registry/registry_store.h"
#include "libtrust/sig/cosign_layout.h"
#include "libtrust/sig/referrers.h"
#include "libtrust/sig/simple_signing.h"
#include "registry/registry_test_util.h"
#include "support/errors.h"
#include "support/fake_registry.h"
#include "support/layout_builder.h"
#include "support/process.h"
#include "support/test_keys.h"

using namespace trust;
namespace fs = std::filesystem;
using sigil::test::FakeRegistry;
using sigil::test::test_key;
using sigil::test::thrown_by;

namespace {

constexpr std::size_t kCap = limits::kMaxSignaturesPerImage;

// A bundle referrer manifest of `subject`, made distinct by `n` (its layer need not exist: these
// tests stop at the count).
std::string referrer_manifest(const Digest& subject, std::size_t n) {
  nlohmann::ordered_json j{
      {"schemaVersion", 2},
      {"mediaType", media_type::kOciManifest},
      {"artifactType", media_type::kSigstoreBundleV03},
      {"config",
       {{"mediaType", media_type::kOciEmpty}, {"digest", sig::kEmptyJsonDigest}, {"size", 2}}},
      {"layers",
       {{{"mediaType", media_type::kSigstoreBundleV03},
         {"digest", Digest::of(as_bytes("bundle " + std::to_string(n))).str()},
         {"size", 10}}}},
      {"subject",
       {{"mediaType", media_type::kOciManifest}, {"digest", subject.str()}, {"size", 100}}}};
  return j.dump();
}

// An index listing `count` referrers of `subject` (fake digests, the bundle artifactType).
std::string fallback_index(std::size_t count, std::size_t first = 0) {
  nlohmann::ordered_json j{{"schemaVersion", 2},
                           {"mediaType", media_type::kOciIndex},
                           {"manifests", nlohmann::json::array()}};
  for (std::size_t i = first; i < first + count; ++i) {
    j["manifests"].push_back(
        {{"mediaType", media_type::kOciManifest},
         {"digest", Digest::of(as_bytes("referrer " + std::to_string(i))).str()},
         {"size", 500},
         {"artifactType", media_type::kSigstoreBundleV03}});
  }
  return j.dump();
}

struct LayoutFixture {
  sigil::test::TempDir tmp;
  sigil::test::BuiltLayout built = sigil::test::build_layout(tmp / "img");
  std::unique_ptr<oci::ImageStore> store = oci::open_oci_layout(built.dir);
  Digest image = built.manifest_digest;
  Reference ref = Reference::parse(built.reference("latest"));

  // Tags the referrers index of the image, listing `count` referrers.
  void list_referrers(std::size_t count) {
    auto text = fallback_index(count);
    store->set_tag(oci::referrers_fallback_tag(image),
                   store->put_manifest(as_bytes(text), media_type::kOciIndex));
  }

  // A .sig manifest for the image whose layers are `layers`.
  void sig_manifest(const std::vector<oci::Descriptor>& layers) {
    oci::Manifest m;
    m.media_type = std::string(media_type::kOciManifest);
    m.config.media_type = std::string(media_type::kOciConfig);
    const std::string config = "{}";
    m.config.digest = Digest::of(as_bytes(config));
    m.config.size = config.size();
    store->put_blob(as_bytes(config), m.config.digest);
    m.layers = layers;
    auto text = m.to_json();
    store->set_tag(sig::signature_tag(image),
                   store->put_manifest(as_bytes(text), media_type::kOciManifest));
  }

  check::ImageVerification verify(const verify::Policy& policy = {}) {
    verify::Verifier v(verify::fixed_keys({test_key().public_key()}));
    return check::verify_image(*store, ref, v, policy, {.examine_all = true, .requirement = {}});
  }
};

// A signed simple-signing layer for `image` whose payload is padded (with an annotation) to
// exactly `size` bytes; the payload blob is stored.
oci::Descriptor signed_layer(oci::ImageStore& store, const Digest& image, std::size_t size) {
  sig::SimpleSigningPayload p;
  p.docker_reference = "example/img";
  p.manifest_digest = image;
  p.optional["pad"] = "";
  const auto base = p.serialize().size();
  REQUIRE(size >= base);
  p.optional["pad"] = std::string(size - base, 'p');
  const auto text = p.serialize();
  REQUIRE(text.size() == size);
  oci::Descriptor l;
  l.media_type = std::string(media_type::kCosignSimpleSigning);
  l.digest = Digest::of(as_bytes(text));
  l.size = text.size();
  l.annotations[std::string(sig::kSignatureAnnotation)] =
      base64_encode(test_key().sign(as_bytes(text)));
  store.put_blob(as_bytes(text), l.digest);
  return l;
}

}  // namespace

TEST_CASE("referrers over the fallback tag: 100 are listed, 101 refused naming the index",
          "[verify][limits][referrers]") {
  LayoutFixture f;
  f.list_referrers(kCap);
  CHECK(f.store->referrers(f.image).size() == kCap);
  f.list_referrers(kCap + 1);
  auto t = thrown_by([&] { (void)f.store->referrers(f.image); });
  CHECK(t.code == ErrorCode::kLimit);
  CHECK(t.message == f.store->describe() + ": referrers index " +
                         oci::referrers_fallback_tag(f.image) +
                         ": 101 referrers is over the limit of 100");
  // verify_image reaches the same check.
  auto v = thrown_by([&] { (void)f.verify(); });
  CHECK(v.code == ErrorCode::kLimit);
  CHECK(v.message == t.message);
}

TEST_CASE("referrers through the registry's referrers API: 101 refused before the fallback tag",
          "[verify][limits][referrers][registry]") {
  FakeRegistry reg;
  sigil::test::TempDir tmp;
  auto img = sigil::test::push_test_image(reg, "lab/refs", "v1");
  auto store = registry::open_store(Reference::parse(reg.host() + "/lab/refs:v1"),
                                    registry_test::fast_options(reg, tmp));
  for (std::size_t i = 0; i < kCap; ++i) {
    reg.add_manifest("lab/refs", referrer_manifest(img.digest, i),
                     std::string(media_type::kOciManifest));
  }
  CHECK(store->referrers(img.digest).size() == kCap);
  reg.add_manifest("lab/refs", referrer_manifest(img.digest, kCap),
                   std::string(media_type::kOciManifest));
  reg.clear_requests();
  auto t = thrown_by([&] { (void)store->referrers(img.digest); });
  CHECK(t.code == ErrorCode::kLimit);
  CHECK(t.message == store->describe() + ": referrers API for " + img.digest.str() +
                         ": 101 referrers is over the limit of 100");
  CHECK(reg.count("GET", "/v2/lab/refs/manifests/" + oci::referrers_fallback_tag(img.digest)) == 0);
}

TEST_CASE("referrers from the API and the fallback tag merged: 100 in all pass, 101 refused",
          "[verify][limits][referrers][registry]") {
  FakeRegistry reg;
  sigil::test::TempDir tmp;
  auto img = sigil::test::push_test_image(reg, "lab/merge", "v1");
  auto store = registry::open_store(Reference::parse(reg.host() + "/lab/merge:v1"),
                                    registry_test::fast_options(reg, tmp));
  // 60 through the API, and a fallback index of 40 others (each side within the limit).
  for (std::size_t i = 0; i < 60; ++i) {
    reg.add_manifest("lab/merge", referrer_manifest(img.digest, i),
                     std::string(media_type::kOciManifest));
  }
  const auto tag = oci::referrers_fallback_tag(img.digest);
  reg.add_manifest("lab/merge", fallback_index(40), std::string(media_type::kOciIndex), tag);
  CHECK(store->referrers(img.digest).size() == kCap);
  reg.add_manifest("lab/merge", fallback_index(41), std::string(media_type::kOciIndex), tag);
  auto t = thrown_by([&] { (void)store->referrers(img.digest); });
  CHECK(t.code == ErrorCode::kLimit);
  CHECK(t.message == store->describe() + ": referrers API and fallback index for " +
                         img.digest.str() + ": 101 referrers is over the limit of 100");
}

TEST_CASE(".sig layers: 101 refused through verify_image, naming the signature manifest",
          "[verify][limits]") {
  LayoutFixture f;
  auto layer = signed_layer(*f.store, f.image, 300);
  f.sig_manifest(std::vector<oci::Descriptor>(kCap, layer));
  auto ok = f.verify();
  CHECK(ok.verdicts.size() == kCap);
  CHECK(ok.verified());
  f.sig_manifest(std::vector<oci::Descriptor>(kCap + 1, layer));
  auto t = thrown_by([&] { (void)f.verify(); });
  CHECK(t.code == ErrorCode::kLimit);
  CHECK(t.message == f.store->describe() + ": signature manifest " + sig::signature_tag(f.image) +
                         ": 101 signature layers is over the limit of 100");
}

TEST_CASE(
    "a payload of 4 MiB verifies, while layers claiming more are refused unread, however many",
    "[verify][limits]") {
  LayoutFixture f;
  auto at_limit = signed_layer(*f.store, f.image, limits::kMaxSignaturePayloadBytes);
  // Many layers pointing at one large blob that is not even there: reading any would fail.
  auto over = at_limit;
  over.size = limits::kMaxSignaturePayloadBytes + 1;
  over.digest = Digest::of(as_bytes("a blob that does not exist"));
  std::vector<oci::Descriptor> layers(50, over);
  layers.push_back(at_limit);
  f.sig_manifest(layers);
  auto v = f.verify();
  REQUIRE(v.verdicts.size() == 51);
  for (std::size_t i = 0; i < 50; ++i) {
    CHECK(v.verdicts[i].index == i);
    CHECK_FALSE(v.verdicts[i].verified);
    CHECK(v.verdicts[i].reason == "signature payload: 4194305 bytes is over the limit of " +
                                      std::to_string(limits::kMaxSignaturePayloadBytes));
  }
  CHECK(v.verdicts[50].verified);
  CHECK(v.verdicts[50].payload->optional.at("pad").size() > 4000000);
}

TEST_CASE("bundle referrers: 101 refused through verify_image", "[verify][limits][bundle]") {
  LayoutFixture f;
  f.list_referrers(kCap + 1);
  auto t = thrown_by(
      [&] { (void)sig::visit_bundle_referrers(*f.store, f.image, [](sig::BundleReferrer) {}); });
  CHECK(t.code == ErrorCode::kLimit);
  CHECK(t.message == f.store->describe() + ": referrers index " +
                         oci::referrers_fallback_tag(f.image) +
                         ": 101 referrers is over the limit of 100");
}

TEST_CASE("a signature bundle of 6 MiB verifies, while one claiming more is refused unread",
          "[verify][limits][bundle]") {
  LayoutFixture f;
  auto image = f.store->resolve(f.ref);
  // A statement just under the 4 MiB statement cap, padded through a subject annotation; the
  // bundle padded with JSON whitespace to exactly the bundle cap.
  auto bundle_of = [&](std::size_t statement_size) {
    auto st = sig::cosign_sign_statement(f.image, {{"pad", ""}});
    const auto base = st.serialize().size();
    st.subjects[0].annotations["pad"] = std::string(statement_size - base, 'p');
    const auto text = st.serialize();
    REQUIRE(text.size() == statement_size);
    auto b = sig::Bundle::for_dsse(
        sig::DsseEnvelope::sign(media_type::kInTotoPayload, as_bytes(text), test_key()),
        test_key().public_key());
    return b.to_json();
  };
  auto attach = [&](std::string json) {
    const auto digest = Digest::of(as_bytes(json));
    f.store->put_blob(as_bytes(json), digest);
    auto b = sig::Bundle::parse(as_bytes(json), "test bundle");
    return sig::attach_bundle(*f.store, image, b, sig::kCosignSignPredicateType,
                              "2024-01-01T00:00:00Z");
  };
  auto json = bundle_of(limits::kMaxSignaturePayloadBytes - 1000);
  REQUIRE(json.size() < limits::kMaxSignatureBundleBytes);
  json.append(limits::kMaxSignatureBundleBytes - json.size(), ' ');
  attach(json);
  auto v = f.verify();
  REQUIRE(v.verdicts.size() == 1);
  CHECK(v.verdicts[0].verified);

  // One byte more, and the layer is never read (its blob is not even stored).
  LayoutFixture g;
  auto g_image = g.store->resolve(g.ref);
  oci::Manifest m;
  m.media_type = std::string(media_type::kOciManifest);
  m.artifact_type = std::string(media_type::kSigstoreBundleV03);
  m.config.media_type = std::string(media_type::kOciEmpty);
  m.config.digest = Digest::parse(sig::kEmptyJsonDigest);
  m.config.size = 2;
  oci::Descriptor layer;
  layer.media_type = std::string(media_type::kSigstoreBundleV03);
  layer.digest = Digest::of(as_bytes("not stored"));
  layer.size = limits::kMaxSignatureBundleBytes + 1;
  m.layers.push_back(layer);
  m.subject = g_image;
  m.subject->annotations.clear();
  auto text = m.to_json();
  auto desc = g.store->put_manifest(as_bytes(text), media_type::kOciManifest);
  desc.artifact_type = m.artifact_type;
  g.store->add_referrer(desc, g_image);
  auto w = g.verify();
  REQUIRE(w.verdicts.size() == 1);
  CHECK_FALSE(w.verdicts[0].verified);
  CHECK(w.verdicts[0].reason == "signature bundle: 6291457 bytes is over the limit of " +
                                    std::to_string(limits::kMaxSignatureBundleBytes));
}

TEST_CASE("a bundle signature over a statement of more than 4 MiB is not a valid signature",
          "[verify][limits][bundle]") {
  LayoutFixture f;
  auto image = f.store->resolve(f.ref);
  auto st = sig::cosign_sign_statement(f.image, {{"pad", ""}});
  const auto base = st.serialize().size();
  st.subjects[0].annotations["pad"] =
      std::string(limits::kMaxSignaturePayloadBytes + 1 - base, 'p');
  const auto text = st.serialize();
  REQUIRE(text.size() == limits::kMaxSignaturePayloadBytes + 1);
  auto b = sig::Bundle::for_dsse(
      sig::DsseEnvelope::sign(media_type::kInTotoPayload, as_bytes(text), test_key()),
      test_key().public_key());
  REQUIRE(b.to_json().size() <= limits::kMaxSignatureBundleBytes);
  sig::attach_bundle(*f.store, image, b, sig::kCosignSignPredicateType, "2024-01-01T00:00:00Z");
  auto v = f.verify();
  REQUIRE(v.verdicts.size() == 1);
  CHECK_FALSE(v.verdicts[0].verified);
  CHECK(v.verdicts[0].reason ==
        "signed statement is malformed: bundle's in-toto statement: 4194305 bytes is over the "
        "limit of 4194304 bytes");
}

TEST_CASE(
    "a bundle referrer manifest of 64 KiB verifies, while one claiming more is refused unfetched",
    "[verify][limits][bundle]") {
  LayoutFixture f;
  auto image = f.store->resolve(f.ref);
  auto st = sig::cosign_sign_statement(f.image, {});
  const auto text = st.serialize();
  auto b = sig::Bundle::for_dsse(
      sig::DsseEnvelope::sign(media_type::kInTotoPayload, as_bytes(text), test_key()),
      test_key().public_key());
  const auto json = b.to_json();
  oci::Manifest m;
  m.media_type = std::string(media_type::kOciManifest);
  m.artifact_type = std::string(media_type::kSigstoreBundleV03);
  m.config.media_type = std::string(media_type::kOciEmpty);
  m.config.digest = Digest::parse(sig::kEmptyJsonDigest);
  m.config.size = 2;
  f.store->put_blob(as_bytes(sig::kEmptyJsonBlob), m.config.digest);
  oci::Descriptor layer;
  layer.media_type = std::string(media_type::kSigstoreBundleV03);
  layer.digest = Digest::of(as_bytes(json));
  layer.size = json.size();
  f.store->put_blob(as_bytes(json), layer.digest);
  m.layers.push_back(layer);
  m.subject = image;
  m.subject->annotations.clear();
  // Padded through an annotation to `size` bytes, stored and listed.
  auto attach = [&](std::size_t size) {
    m.annotations["pad"] = "";
    const auto base = m.to_json().size();
    m.annotations["pad"] = std::string(size - base, 'p');
    const auto manifest = m.to_json();
    REQUIRE(manifest.size() == size);
    auto desc = f.store->put_manifest(as_bytes(manifest), media_type::kOciManifest);
    desc.artifact_type = m.artifact_type;
    f.store->add_referrer(desc, image);
    return desc;
  };
  attach(limits::kMaxBundleReferrerManifestBytes);
  auto over = attach(limits::kMaxBundleReferrerManifestBytes + 1);
  // Were it fetched, the missing blob would fail the whole verification.
  fs::remove(f.built.blob_path(over.digest));
  auto v = f.verify();
  REQUIRE(v.verdicts.size() == 2);
  CHECK(v.verdicts[0].verified);
  CHECK_FALSE(v.verdicts[1].verified);
  CHECK(v.verdicts[1].reason == "bundle referrer manifest: 65537 bytes is over the limit of 65536");
}
