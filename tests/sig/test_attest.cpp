// sigil attest in the library: the in-toto statement about an image, signed as DSSE and stored
// as cosign stores it (a layer of the sha256-<hex>.att manifest) or as cosign 3 does (a bundle
// referrer), in layouts and registries; --replace; the checks before signing, after which
// nothing is written when they fail; concurrent attesters; the 100-layer cap.
#include <catch2/catch.hpp>

#include <atomic>
#include <exception>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "libtrust/core/encoding.h"
#include "libtrust/core/error.h"
#include "libtrust/core/file.h"
#include "libtrust/core/limits.h"
#include "libtrust/core/media_type.h"
#include "libtrust/crypto/key_file.h"
#include "libtrust/oci/layout.h"
#include "libtrust/registry/registry_store.h"
#include "libtrust/sig/attest.h"
#include "libtrust/sig/bundle.h"
#include "libtrust/sig/cosign_layout.h"
#include "libtrust/sig/dsse.h"
#include "libtrust/sig/referrers.h"
#include "registry/registry_test_util.h"
#include "sig/sig_test_util.h"
#include "support/fake_registry.h"
#include "support/layout_builder.h"
#include "support/process.h"

using namespace trust;
using nlohmann::json;
using sigil::test::test_key;
using sigil::test::thrown_by;

namespace {

const std::string kData = std::string(SIGIL_TEST_DATA) + "/cosign-attestations";
constexpr std::string_view kSlsa = "https://slsa.dev/provenance/v1";
constexpr std::string_view kCustom = "https://cosign.sigstore.dev/attestation/v1";
constexpr std::string_view kSpdx = "https://spdx.dev/Document";

// Predicates in the shape their type demands (tests/data/predicates: what the tools write).
std::string slsa(int n = 0) {
  auto j = json::parse(sigil::test::read_text_file(std::string(SIGIL_TEST_DATA) +
                                                   "/predicates/slsa-v1-github-generator.json"));
  j["buildDefinition"]["externalParameters"]["n"] = n;
  return j.dump();
}
std::string spdx() {
  return json::parse(sigil::test::read_text_file(std::string(SIGIL_TEST_DATA) +
                                                 "/predicates/syft-spdx.json"))
      .dump();
}

// A layout with one image tagged "app".
struct Fixture {
  sigil::test::TempDir tmp;
  sigil::test::BuiltLayout built;
  std::unique_ptr<oci::ImageStore> store;
  oci::Descriptor image;

  Fixture() {
    sigil::test::ImageSpec spec;
    spec.tag = "app";
    built = sigil::test::build_layout(tmp / "img", {.images = {spec}, .index_tag = {}});
    store = oci::open_oci_layout(built.dir);
    image = store->resolve(Reference::parse(built.reference("app")));
  }

  sig::Statement statement(std::string_view type = kCustom,
                           std::string predicate = R"({"ok":true})") const {
    return sig::image_statement("127.0.0.1:5000/lab/app", image.digest, type, std::move(predicate));
  }
};

// Every file of a directory tree with its bytes: "nothing written" is this unchanged.
std::map<std::string, std::string> snapshot(const std::filesystem::path& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) {
      out[std::filesystem::relative(e.path(), dir).string()] =
          sigil::test::read_text_file(e.path());
    }
  }
  return out;
}

oci::Manifest att_manifest(oci::ImageSource& source, const Digest& image) {
  auto desc = source.find_tag(sig::attestation_tag(image));
  REQUIRE(desc);
  return oci::Manifest::parse(source.fetch_manifest(*desc), "att manifest");
}

std::string blob_text(oci::ImageSource& source, const oci::Descriptor& d) {
  auto b = source.fetch_blob(d, 16u << 20);
  return std::string(as_string_view(b));
}

// The statement inside an envelope, after its signature verified with `key`.
json verified_statement(const std::string& envelope_json, const PrivateKey& key = test_key()) {
  auto env = sig::DsseEnvelope::parse(as_bytes(envelope_json), "envelope");
  const PublicKey trusted[] = {key.public_key()};
  auto verified = env.verify(trusted);
  REQUIRE(verified);
  CHECK(verified->payload_type == media_type::kInTotoPayload);
  return json::parse(as_string_view(verified->payload));
}

}  // namespace

TEST_CASE("attest writes one .att layer exactly as cosign does, its envelope signed over the PAE",
          "[sig][attest]") {
  Fixture f;
  const auto st = f.statement(kSlsa, slsa(7));
  auto done = sig::attest_image(*f.store, f.image, test_key(), st);
  CHECK(done.appended);
  CHECK(done.replaced == 0);
  CHECK(done.format == sig::AttestFormat::kCosign);
  CHECK(done.tag == "sha256-" + f.image.digest.hex() + ".att");
  CHECK(done.predicate_type == kSlsa);

  auto desc = f.store->find_tag(done.tag);
  REQUIRE(desc);
  const auto manifest_bytes = f.store->fetch_manifest(*desc);
  auto m = oci::Manifest::parse(manifest_bytes, "att manifest");
  REQUIRE(m.layers.size() == 1);
  const auto envelope = blob_text(*f.store, m.layers[0]);
  const auto config = blob_text(*f.store, m.config);
  CHECK(config ==
        R"({"architecture":"","os":"","config":{},"rootfs":{"type":"layers","diff_ids":[")" +
            done.blob.str() + R"("]}})");
  // The manifest byte for byte: OCI media types, the DSSE layer, cosign's two annotations (the
  // signature annotation empty: the signature is inside the envelope).
  CHECK(std::string(as_string_view(manifest_bytes)) ==
        R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
        R"("config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" +
            Digest::of(as_bytes(config)).str() + R"(","size":)" + std::to_string(config.size()) +
            R"(},"layers":[{"mediaType":"application/vnd.dsse.envelope.v1+json","digest":")" +
            done.blob.str() + R"(","size":)" + std::to_string(envelope.size()) +
            R"(,"annotations":{"dev.cosignproject.cosign/signature":"",)"
            R"("predicateType":"https://slsa.dev/provenance/v1"}}]})");
  CHECK(Digest::of(as_bytes(envelope)) == done.blob);

  // The envelope: cosign's field order, the in-toto payload type, and a signature that verifies.
  auto env = json::parse(envelope);
  auto cosign_env = json::parse(
      sigil::test::read_text_file(kData + "/att-v2-kms-salrashid123/envelope.compact.json"));
  std::vector<std::string> ours;
  std::vector<std::string> theirs;
  for (auto it = env.begin(); it != env.end(); ++it) ours.push_back(it.key());
  for (auto it = cosign_env.begin(); it != cosign_env.end(); ++it) theirs.push_back(it.key());
  std::sort(ours.begin(), ours.end());
  std::sort(theirs.begin(), theirs.end());
  CHECK(ours == theirs);
  CHECK(envelope.rfind(R"({"payloadType":"application/vnd.in-toto+json","payload":")", 0) == 0);
  CHECK(env["payloadType"] == cosign_env["payloadType"]);
  CHECK(env["signatures"].size() == 1);

  auto statement = verified_statement(envelope);
  CHECK(statement.dump() == json::parse(st.serialize()).dump());
  CHECK(statement["_type"] == "https://in-toto.io/Statement/v1");
  CHECK(statement["subject"] ==
        json::parse(R"([{"name":"127.0.0.1:5000/lab/app","digest":{"sha256":")" +
                    f.image.digest.hex() + R"("},"annotations":{}}])"));
  CHECK(statement["predicateType"] == kSlsa);
  CHECK(statement["predicate"] == json::parse(slsa(7)));
  // Another key does not verify it.
  auto other = sig::DsseEnvelope::parse(as_bytes(envelope), "envelope");
  const PublicKey wrong[] = {test_key(KeyType::kEcdsaP256, 1).public_key()};
  CHECK_FALSE(other.verify(wrong));
}

TEST_CASE("attestations are appended one layer each, and an identical layer is not added twice",
          "[sig][attest]") {
  Fixture f;
  auto a = sig::attest_image(*f.store, f.image, test_key(), f.statement(kSlsa, slsa()));
  auto b = sig::attest_image(*f.store, f.image, test_key(), f.statement(kSpdx, spdx()));
  CHECK(a.blob != b.blob);
  auto m = att_manifest(*f.store, f.image.digest);
  REQUIRE(m.layers.size() == 2);
  CHECK(m.layers[0].digest == a.blob);
  CHECK(m.layers[1].digest == b.blob);
  CHECK(m.layers[1].annotations.at("predicateType") == kSpdx);

  // The same envelope again (a retried job): nothing written.
  const auto envelope = blob_text(*f.store, m.layers[0]);
  const auto before = snapshot(f.built.dir);
  auto again = sig::append_cosign_layer(*f.store, sig::attestation_tag(f.image.digest),
                                        {.media_type = std::string(media_type::kDsseEnvelope),
                                         .blob = as_bytes(envelope),
                                         .annotations = m.layers[0].annotations},
                                        "attestation");
  CHECK_FALSE(again.appended);
  CHECK(again.layers == 2);
  CHECK(snapshot(f.built.dir) == before);
}

TEST_CASE("replace drops earlier attestations of the same type only, read from the statement",
          "[sig][attest]") {
  Fixture f;
  sig::attest_image(*f.store, f.image, test_key(), f.statement(kSlsa, slsa(1)));
  auto sbom = sig::attest_image(*f.store, f.image, test_key(), f.statement(kSpdx, spdx()));
  sig::attest_image(*f.store, f.image, test_key(), f.statement(kSlsa, slsa(2)));
  // A layer whose annotation claims SLSA but whose statement is a CodeReview (cosign < 1.5
  // bytes): cosign's replace op goes by the statement, so it stays.
  const auto kyverno =
      sigil::test::read_text_file(kData + "/att-v1x-kyverno-pause2/layer-0.dsse.json");
  const auto tag = sig::attestation_tag(f.image.digest);
  sig::append_cosign_layer(*f.store, tag,
                           {.media_type = std::string(media_type::kDsseEnvelope),
                            .blob = as_bytes(kyverno),
                            .annotations = {{"dev.cosignproject.cosign/signature", ""},
                                            {"predicateType", std::string(kSlsa)}}},
                           "attestation");
  // A layer that is not an envelope at all: its type cannot be read, so it is kept.
  const std::string junk = "not an envelope";
  sig::append_cosign_layer(*f.store, tag,
                           {.media_type = std::string(media_type::kDsseEnvelope),
                            .blob = as_bytes(junk),
                            .annotations = {{"predicateType", std::string(kSlsa)}}},
                           "attestation");
  REQUIRE(att_manifest(*f.store, f.image.digest).layers.size() == 5);

  auto done = sig::attest_image(
      *f.store, f.image, test_key(), f.statement(kSlsa, slsa(3)),
      {.format = sig::AttestFormat::kCosign, .replace = true, .what = "statement", .created = {}});
  CHECK(done.appended);
  CHECK(done.replaced == 2);
  auto m = att_manifest(*f.store, f.image.digest);
  REQUIRE(m.layers.size() == 4);
  CHECK(m.layers[0].digest == sbom.blob);
  CHECK(m.layers[1].digest == Digest::of(as_bytes(kyverno)));
  CHECK(m.layers[2].digest == Digest::of(as_bytes(junk)));
  CHECK(m.layers[3].digest == done.blob);
  CHECK(verified_statement(blob_text(
            *f.store, m.layers[3]))["predicate"]["buildDefinition"]["externalParameters"]["n"] ==
        3);

  // The kyverno layer goes when its own type is the one replaced.
  sig::attest_image(
      *f.store, f.image, test_key(), f.statement("https://example.com/CodeReview/v1", "{}"),
      {.format = sig::AttestFormat::kCosign, .replace = true, .what = "statement", .created = {}});
  m = att_manifest(*f.store, f.image.digest);
  REQUIRE(m.layers.size() == 4);
  CHECK(m.layers[1].digest == Digest::of(as_bytes(junk)));
}

TEST_CASE("a statement that names another digest is refused naming the file, nothing written",
          "[sig][attest]") {
  Fixture f;
  const auto other = Digest::of(as_bytes(std::string("another image")));
  auto st = sig::image_statement("lab/other", other, kCustom, "{}");
  const auto before = snapshot(f.built.dir);
  auto t = thrown_by([&] {
    sig::attest_image(*f.store, f.image, test_key(), st,
                      {.format = sig::AttestFormat::kCosign,
                       .replace = false,
                       .what = "statement.json",
                       .created = {}});
  });
  CHECK(t.code == ErrorCode::kInput);
  CHECK(t.message == "statement.json: no subject names " + f.image.digest.str() +
                         "; subjects: lab/other@sha256:" + other.hex());
  CHECK(snapshot(f.built.dir) == before);
}

TEST_CASE("nothing is written when the predicate, the options or the cap refuse the attestation",
          "[sig][attest]") {
  Fixture f;
  const auto before = snapshot(f.built.dir);
  SECTION("a predicate that is not a JSON object") {
    auto t = thrown_by([&] {
      sig::attest_image(*f.store, f.image, test_key(), f.statement(kCustom, "[1,2]"),
                        {.format = sig::AttestFormat::kCosign,
                         .replace = false,
                         .what = "p.json",
                         .created = {}});
    });
    CHECK(t.code == ErrorCode::kInput);
    CHECK_THAT(t.message, Catch::StartsWith("p.json: predicate"));
  }
  SECTION("--replace with the bundle format") {
    auto t = thrown_by([&] {
      sig::attest_image(*f.store, f.image, test_key(), f.statement(),
                        {.format = sig::AttestFormat::kBundle,
                         .replace = true,
                         .what = "statement",
                         .created = {}});
    });
    CHECK(t.code == ErrorCode::kUsage);
    CHECK(t.message ==
          "--replace works with --format cosign only: a bundle referrer cannot be taken back out "
          "of a registry's referrers listing safely");
  }
  CHECK(snapshot(f.built.dir) == before);
}

TEST_CASE("the .att manifest holds at most 100 attestations: the 101st is refused, nothing written",
          "[sig][attest][limits]") {
  Fixture f;
  const auto tag = sig::attestation_tag(f.image.digest);
  for (std::size_t i = 0; i < limits::kMaxSignaturesPerImage; ++i) {
    const auto blob = "{\"n\":" + std::to_string(i) + "}";
    auto r = sig::append_cosign_layer(*f.store, tag,
                                      {.media_type = std::string(media_type::kDsseEnvelope),
                                       .blob = as_bytes(blob),
                                       .annotations = {{"predicateType", std::string(kCustom)}}},
                                      "attestation");
    REQUIRE(r.layers == i + 1);
  }
  const auto before = snapshot(f.built.dir);
  auto t = thrown_by([&] { sig::attest_image(*f.store, f.image, test_key(), f.statement()); });
  CHECK(t.code == ErrorCode::kLimit);
  CHECK(t.message == f.store->describe() + ": attestation manifest " + tag +
                         " with this one: 101 attestation layers is over the limit of 100");
  CHECK(snapshot(f.built.dir) == before);
  // --replace makes room: every layer of the type goes first (none can be read as a statement
  // here, so none goes, and the cap still holds).
  CHECK(thrown_by([&] {
          sig::attest_image(*f.store, f.image, test_key(), f.statement(),
                            {.format = sig::AttestFormat::kCosign,
                             .replace = true,
                             .what = "statement",
                             .created = {}});
        }).code == ErrorCode::kLimit);
}

TEST_CASE("the bundle format attaches a v0.3 bundle referrer with the predicateType annotation",
          "[sig][attest][bundle]") {
  Fixture f;
  auto done = sig::attest_image(*f.store, f.image, test_key(), f.statement(kSpdx, spdx()),
                                {.format = sig::AttestFormat::kBundle,
                                 .replace = false,
                                 .what = "statement",
                                 .created = "2026-12-01T12:00:00Z"});
  CHECK(done.appended);
  CHECK(done.format == sig::AttestFormat::kBundle);
  REQUIRE(done.referrer);
  CHECK_FALSE(f.store->find_tag(sig::attestation_tag(f.image.digest)));
  auto listed = f.store->referrers(f.image.digest, media_type::kSigstoreBundleV03);
  REQUIRE(listed.size() == 1);
  CHECK(listed[0].digest == done.referrer->digest);
  CHECK(listed[0].annotations.at("dev.sigstore.bundle.predicateType") == kSpdx);
  CHECK(listed[0].annotations.at("dev.sigstore.bundle.content") == "dsse-envelope");
  CHECK(listed[0].annotations.at("org.opencontainers.image.created") == "2026-12-01T12:00:00Z");

  auto referrers = sig::read_bundle_referrers(*f.store, f.image.digest);
  REQUIRE(referrers.size() == 1);
  REQUIRE_FALSE(referrers[0].problem);
  REQUIRE(referrers[0].bundle);
  CHECK(referrers[0].layer->digest == done.blob);
  CHECK(referrers[0].bundle->key_hint() == sig::public_key_hint(test_key().public_key()));
  const auto& env = referrers[0].bundle->dsse_envelope();
  REQUIRE(env);
  auto statement = verified_statement(env->to_json());
  CHECK(statement["predicateType"] == kSpdx);
  CHECK(statement["subject"][0]["digest"]["sha256"] == f.image.digest.hex());
}

TEST_CASE("attest writes both formats to a registry as to a layout", "[sig][attest][registry]") {
  sigil::test::FakeRegistry reg;
  sigil::test::TempDir tmp;
  auto img = sigil::test::push_test_image(reg, "lab/app", "v1");
  auto ref = Reference::parse(reg.host() + "/lab/app:v1");
  auto store = registry::open_store(ref, registry_test::fast_options(reg, tmp));
  auto image = store->resolve(ref);
  CHECK(sig::attestation_subject_name(ref) == reg.host() + "/lab/app");
  auto st =
      sig::image_statement(sig::attestation_subject_name(ref), image.digest, kCustom, R"({"a":1})");
  auto cosign = sig::attest_image(*store, image, test_key(), st);
  auto bundle = sig::attest_image(
      *store, image, test_key(), st,
      {.format = sig::AttestFormat::kBundle, .replace = false, .what = "statement", .created = {}});
  auto fresh = registry::open_store(ref, registry_test::fast_options(reg, tmp));
  auto m = att_manifest(*fresh, image.digest);
  REQUIRE(m.layers.size() == 1);
  CHECK(m.layers[0].digest == cosign.blob);
  auto statement = verified_statement(blob_text(*fresh, m.layers[0]));
  CHECK(statement["subject"][0]["name"] == reg.host() + "/lab/app");
  auto referrers = sig::read_bundle_referrers(*fresh, image.digest);
  REQUIRE(referrers.size() == 1);
  CHECK(referrers[0].manifest.digest == bundle.referrer->digest);
}

TEST_CASE("four attesters writing at once each keep their attestation",
          "[sig][attest][concurrent]") {
  Fixture f;
  constexpr int kWriters = 4;
  std::atomic<int> ready{0};
  std::vector<std::exception_ptr> errors(kWriters);
  std::vector<sig::Attested> done(kWriters);
  std::vector<std::thread> threads;
  const auto& key = test_key();
  for (int i = 0; i < kWriters; ++i) {
    threads.emplace_back([&, i] {
      try {
        auto store = oci::open_oci_layout(f.built.dir);
        ready.fetch_add(1);
        while (ready.load() < kWriters) std::this_thread::yield();
        done[static_cast<std::size_t>(i)] = sig::attest_image(
            *store, f.image, key, f.statement(kCustom, "{\"writer\":" + std::to_string(i) + "}"));
      } catch (...) {
        errors[static_cast<std::size_t>(i)] = std::current_exception();
      }
    });
  }
  for (auto& t : threads) t.join();
  for (auto& e : errors) {
    if (e) std::rethrow_exception(e);
  }
  auto m = att_manifest(*f.store, f.image.digest);
  CHECK(m.layers.size() == kWriters);
  for (const auto& d : done) {
    CHECK(std::any_of(m.layers.begin(), m.layers.end(),
                      [&](const oci::Descriptor& l) { return l.digest == d.blob; }));
  }
}

TEST_CASE("the subject name is the repository as cosign writes it", "[sig][attest]") {
  CHECK(sig::attestation_subject_name(Reference::parse("127.0.0.1:5000/lab/app:v1")) ==
        "127.0.0.1:5000/lab/app");
  CHECK(sig::attestation_subject_name(Reference::parse("alpine")) ==
        "index.docker.io/library/alpine");
  CHECK(sig::attestation_subject_name(
            Reference::parse("ghcr.io/o/r@sha256:" + std::string(64, 'a'))) == "ghcr.io/o/r");
}
