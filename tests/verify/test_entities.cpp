// The three steps of verification on their own: signed entities -> one verdict per entity (every
// trusted key that verified it) -> a decision with a threshold and a trace; and collection, which
// the decision tells when to stop.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "libtrust/check/report.h"
#include "libtrust/check/verify_image.h"
#include "libtrust/core/media_type.h"
#include "libtrust/registry/registry_store.h"
#include "libtrust/sig/collect.h"
#include "libtrust/sig/entity.h"
#include "libtrust/sig/signer.h"
#include "libtrust/sig/simple_signing.h"
#include "libtrust/verify/decision.h"
#include "libtrust/verify/verifier.h"
#include "registry/registry_test_util.h"
#include "support/errors.h"
#include "support/fake_registry.h"
#include "support/test_keys.h"

using namespace trust;
using sigil::test::code_of;
using sigil::test::message_of;
using sigil::test::test_key;

namespace {

const Digest kImage = Digest::of(as_bytes("the image"));
const Digest kOther = Digest::of(as_bytes("another image"));

const PrivateKey& key_a() {
  return test_key(KeyType::kEcdsaP256, 0);
}
const PrivateKey& key_b() {
  return test_key(KeyType::kEd25519, 0);
}
const PrivateKey& key_c() {
  return test_key(KeyType::kEcdsaP256, 1);
}

std::string id(const PrivateKey& k) {
  return k.public_key().key_id().str();
}

// A cosign .sig layer signed by `key` for `image`, as entity number `index`.
sig::SignedEntity cosign(std::size_t index, const PrivateKey& key, const Digest& image = kImage) {
  sig::SimpleSigningPayload p{.docker_reference = "example/app",
                              .manifest_digest = image,
                              .optional = {},
                              .non_string_keys = {}};
  const auto text = p.serialize();
  const auto payload = to_bytes(text);
  return sig::cosign_signature_entity(index, Digest::of(payload), payload, key.sign(payload));
}

// A DSSE envelope signed by every key in `keys` (one signature each), as its JSON.
std::string envelope_json(std::initializer_list<const PrivateKey*> keys) {
  nlohmann::json out;
  for (const auto* k : keys) {
    auto j = nlohmann::json::parse(
        sig::DsseEnvelope::sign(media_type::kInTotoPayload, as_bytes("{\"a\":1}"), *k).to_json());
    if (out.is_null()) {
      out = j;
    } else {
      out["signatures"].push_back(j["signatures"][0]);
    }
  }
  return out.dump();
}

std::shared_ptr<verify::FixedKeys> keys(
    std::initializer_list<std::pair<std::string, const PrivateKey*>> named) {
  auto out = std::make_shared<verify::FixedKeys>();
  for (const auto& [name, k] : named) out->add(name, k->public_key());
  return out;
}

std::vector<std::string> names(const verify::EntityVerdict& v) {
  std::vector<std::string> out;
  for (const auto& k : v.verified_by) out.push_back(k.name + "=" + k.key_id);
  return out;
}

}  // namespace

TEST_CASE("a DSSE envelope with two signatures lists both trusted keys that verified it",
          "[verify][entities]") {
  verify::Verifier verifier(keys({{"a.pub", &key_a()}, {"c.pub", &key_c()}, {"b.pub", &key_b()}}));
  const auto json = envelope_json({&key_a(), &key_b()});
  auto entity =
      sig::dsse_attestation_entity(2, ".att layer 2", Digest::of(as_bytes(json)), as_bytes(json));
  REQUIRE_FALSE(entity.problem.has_value());
  auto v = verifier.judge(kImage, entity, {});
  CHECK(v.kind == sig::EntityKind::kDsseAttestation);
  CHECK(v.origin == ".att layer 2");
  // Every trusted key that verified it, in trusted-material order; c signed nothing.
  CHECK(names(v) == std::vector<std::string>{"a.pub=" + id(key_a()), "b.pub=" + id(key_b())});
  // No attestation rules yet: it never counts.
  CHECK_FALSE(v.verified);
  CHECK(v.reason == "signed by trusted key " + id(key_a()) +
                        ", but an attestation is not a signature: it does not count");
  CHECK(sig::to_string(v.kind) == "attestation");
}

TEST_CASE("a malformed DSSE envelope is an entity with a problem, never verified",
          "[verify][entities]") {
  auto entity =
      sig::dsse_attestation_entity(0, ".att layer 0", std::nullopt, as_bytes("{\"x\":1}"));
  REQUIRE(entity.problem.has_value());
  CHECK(*entity.problem ==
        "DSSE envelope is malformed: .att layer 0: unexpected field 'x' in DSSE envelope");
  CHECK(std::holds_alternative<std::monostate>(entity.content));
  verify::Verifier verifier(keys({{"a.pub", &key_a()}}));
  auto v = verifier.judge(kImage, entity, {});
  CHECK_FALSE(v.verified);
  CHECK(v.verified_by.empty());
  CHECK(v.reason == *entity.problem);
}

TEST_CASE("an entity with a problem is never verified, even when its content would verify",
          "[verify][entities]") {
  verify::Verifier verifier(keys({{"a.pub", &key_a()}}));
  auto good = cosign(0, key_a());
  REQUIRE(verifier.judge(kImage, good, {}).verified);
  good.problem = "layer media type is 'text/plain', not the simple-signing type";
  auto v = verifier.judge(kImage, good, {});
  CHECK_FALSE(v.verified);
  CHECK(v.verified_by.empty());
  CHECK_FALSE(v.payload.has_value());
  CHECK(v.reason == *good.problem);
  auto d = verify::decide(kImage, std::vector{v});
  CHECK_FALSE(d.allowed);
  CHECK(d.summary == "not verified: " + *good.problem);
}

TEST_CASE("a cosign signature lists every trusted key that verified it, under each name",
          "[verify][entities]") {
  // The same key given twice, under two names: both are listed (and count once, below).
  verify::Verifier verifier(
      keys({{"b.pub", &key_b()}, {"a.pub", &key_a()}, {"env://KEY_A", &key_a()}}));
  auto v = verifier.judge(kImage, cosign(0, key_a()), {});
  CHECK(v.verified);
  CHECK(names(v) == std::vector<std::string>{"a.pub=" + id(key_a()), "env://KEY_A=" + id(key_a())});
  CHECK(v.key_id() == id(key_a()));
  CHECK(v.reason == "valid signature by trusted key " + id(key_a()));
  auto d = verify::decide(kImage, std::vector{v}, {.threshold = 2});
  CHECK_FALSE(d.allowed);
  CHECK(d.keys == std::vector<std::string>{id(key_a())});
}

TEST_CASE("threshold 2 is met by two trusted keys on two cosign layers", "[verify][decision]") {
  verify::Verifier verifier(keys({{"a.pub", &key_a()}, {"b.pub", &key_b()}}));
  std::vector<sig::SignedEntity> entities{cosign(0, key_a()), cosign(1, key_b())};
  auto verdicts = verifier.verify(kImage, entities, {});
  REQUIRE(verdicts.size() == 2);
  auto d = verify::decide(kImage, verdicts, {.threshold = 2});
  CHECK(d.allowed);
  CHECK(d.keys == std::vector<std::string>{id(key_a()), id(key_b())});
  CHECK(d.summary == "verified: 2 of 2 signature(s) valid for " + kImage.str() +
                         ", by 2 distinct trusted keys (2 required): " + id(key_a()) + ", " +
                         id(key_b()));
  CHECK_FALSE(verify::decide(kImage, verdicts, {.threshold = 3}).allowed);
  // Threshold 1 is today's rule, and today's summary.
  auto one = verify::decide(kImage, verdicts);
  CHECK(one.allowed);
  CHECK(one.summary ==
        "verified: 2 of 2 signature(s) valid for " + kImage.str() + " (key " + id(key_a()) + ")");
}

TEST_CASE("one key on two layers counts once towards a threshold", "[verify][decision]") {
  verify::Verifier verifier(keys({{"a.pub", &key_a()}, {"b.pub", &key_b()}}));
  std::vector<sig::SignedEntity> entities{cosign(0, key_a()), cosign(1, key_a())};
  auto verdicts = verifier.verify(kImage, entities, {});
  auto d = verify::decide(kImage, verdicts, {.threshold = 2});
  CHECK_FALSE(d.allowed);
  CHECK(d.keys == std::vector<std::string>{id(key_a())});
  CHECK(d.summary == "not verified: 2 of 2 signature(s) valid for " + kImage.str() +
                         ", by 1 distinct trusted key(s); 2 required");
}

TEST_CASE("a key whose signature verified an entity that failed a later rule does not count",
          "[verify][decision]") {
  verify::Verifier verifier(keys({{"a.pub", &key_a()}, {"b.pub", &key_b()}}));
  // b signed another image: its signature verifies, the entity does not.
  std::vector<sig::SignedEntity> entities{cosign(0, key_a()), cosign(1, key_b(), kOther)};
  auto verdicts = verifier.verify(kImage, entities, {});
  CHECK_FALSE(verdicts[1].verified);
  CHECK(names(verdicts[1]) == std::vector<std::string>{"b.pub=" + id(key_b())});
  auto d = verify::decide(kImage, verdicts, {.threshold = 2});
  CHECK_FALSE(d.allowed);
  CHECK(d.keys == std::vector<std::string>{id(key_a())});
}

TEST_CASE("the decision trace says which entity counted for which keys, and why not",
          "[verify][decision]") {
  verify::Verifier verifier(keys({{"a.pub", &key_a()}, {"b.pub", &key_b()}}));
  const auto json = envelope_json({&key_a()});
  std::vector<sig::SignedEntity> entities{
      cosign(0, key_a()), cosign(1, key_c()),
      sig::dsse_attestation_entity(0, ".att layer 0", std::nullopt, as_bytes(json)),
      sig::problem_entity(sig::EntityKind::kBundle, 0, "referrer manifest sha256:ab", std::nullopt,
                          std::nullopt, "bundle layer media type is 'x'")};
  auto verdicts = verifier.verify(kImage, entities, {});
  auto d = verify::decide(kImage, verdicts, {.threshold = 2});
  CHECK(d.trace ==
        std::vector<std::string>{
            "cosign .sig layer 0: counts for key(s) " + id(key_a()),
            "cosign .sig layer 1: does not count: signature does not verify with any "
            "trusted key",
            ".att layer 0: not a signature: does not count",
            "referrer manifest sha256:ab: does not count: bundle layer media type is 'x'",
            "requirement: 2 distinct trusted key(s); 1 counted: not met"});
  CHECK_FALSE(d.allowed);
  CHECK(d.summary == "not verified: 1 of 3 signature(s) valid for " + kImage.str() +
                         ", by 1 distinct trusted key(s); 2 required");
}

TEST_CASE("no signature entities: nothing is allowed, and a threshold of 0 is refused",
          "[verify][decision]") {
  auto d = verify::decide(kImage, std::vector<verify::EntityVerdict>{});
  CHECK_FALSE(d.allowed);
  CHECK(d.summary == "no signatures found for " + kImage.str());
  CHECK(d.trace == std::vector<std::string>{"requirement: 1 distinct trusted key(s); 0 counted: "
                                            "not met"});
  CHECK(code_of([] { (void)verify::decide(kImage, {}, {.threshold = 0}); }) == ErrorCode::kUsage);
  CHECK(message_of([] { (void)verify::decide(kImage, {}, {.threshold = 0}); }) ==
        "threshold 0: at least one trusted key must be required");
}

TEST_CASE("the Verifier caps each kind of entity it is handed at 100", "[verify][limits]") {
  verify::Verifier verifier(keys({{"a.pub", &key_a()}}));
  std::vector<sig::SignedEntity> many;
  for (std::size_t i = 0; i < 100; ++i) {
    many.push_back(sig::problem_entity(sig::EntityKind::kDsseAttestation, i, "att", std::nullopt,
                                       std::nullopt, "p"));
    many.push_back(
        sig::problem_entity(sig::EntityKind::kBundle, i, "b", std::nullopt, std::nullopt, "p"));
  }
  CHECK(verifier.verify(kImage, many, {}).size() == 200);
  many.push_back(sig::problem_entity(sig::EntityKind::kDsseAttestation, 100, "att", std::nullopt,
                                     std::nullopt, "p"));
  CHECK(message_of([&] { (void)verifier.verify(kImage, many, {}); }) ==
        "verify: 101 attestations is over the limit of 100");
}

namespace {

// An image in a FakeRegistry signed cosign-style by key_a(), and a store over it.
struct RegistryFixture {
  sigil::test::FakeRegistry reg;
  sigil::test::TempDir tmp;
  sigil::test::TestImage img = sigil::test::push_test_image(reg, "lab/app", "v1");
  Reference ref = Reference::parse(reg.host() + "/lab/app:v1");
  std::unique_ptr<oci::ImageStore> store =
      registry::open_store(ref, registry_test::fast_options(reg, tmp));

  RegistryFixture() {
    auto desc = store->resolve(ref);
    (void)sig::sign_image(*store, desc, key_a(),
                          {.docker_reference = "lab/app", .annotations = {}, .recursive = false});
    reg.clear_requests();
  }
  std::size_t referrer_lookups() const {
    return reg.count("GET", "/v2/lab/app/referrers/.*") +
           reg.count("GET", "/v2/lab/app/manifests/sha256-[0-9a-f]{64}");
  }
  check::ImageVerification verify(std::size_t threshold, bool examine_all = false,
                                  std::shared_ptr<verify::FixedKeys> trusted = nullptr) {
    if (!trusted) trusted = keys({{"a.pub", &key_a()}, {"b.pub", &key_b()}});
    verify::Verifier verifier(std::move(trusted));
    auto source = registry::open_source(ref, registry_test::fast_options(reg, tmp));
    return check::verify_image(*source, ref, verifier, {},
                               {.check_blobs = false,
                                .examine_all = examine_all,
                                .requirement = {.threshold = threshold}});
  }
};

}  // namespace

TEST_CASE("collection stops before the referrers once the .sig layers met the requirement",
          "[verify][collect][registry]") {
  RegistryFixture f;
  auto met = f.verify(1);
  CHECK(met.verified());
  CHECK_FALSE(met.referrers_checked);
  CHECK(f.referrer_lookups() == 0);
  // Manifest by tag, the .sig manifest, the payload.
  CHECK(f.reg.requests().size() == 3);

  // Threshold 2 with one signer: the .sig layers do not meet it, so the referrers are asked.
  f.reg.clear_requests();
  auto unmet = f.verify(2);
  CHECK_FALSE(unmet.verified());
  CHECK(unmet.referrers_checked);
  CHECK(f.referrer_lookups() > 0);
  CHECK(unmet.decision.summary == "not verified: 1 of 1 signature(s) valid for " +
                                      f.img.digest.str() +
                                      ", by 1 distinct trusted key(s); 2 required");

  // examine_all looks everywhere whatever the decision.
  f.reg.clear_requests();
  auto all = f.verify(1, /*examine_all=*/true);
  CHECK(all.verified());
  CHECK(all.referrers_checked);
  CHECK(f.referrer_lookups() > 0);
}

TEST_CASE("collect_signed_entities looks up no further source once on_entity says stop",
          "[verify][collect][registry]") {
  RegistryFixture f;
  auto source = registry::open_source(f.ref, registry_test::fast_options(f.reg, f.tmp));
  std::vector<sig::SignedEntity> seen;
  auto stop = sig::collect_signed_entities(*source, f.img.digest, {}, [&](sig::SignedEntity e) {
    seen.push_back(std::move(e));
    return false;
  });
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].kind == sig::EntityKind::kCosignSignature);
  CHECK(seen[0].origin == "cosign .sig layer 0");
  CHECK(std::holds_alternative<sig::CosignSignatureContent>(seen[0].content));
  CHECK(stop.signature_manifest.has_value());
  CHECK_FALSE(stop.referrers_checked);
  CHECK(f.referrer_lookups() == 0);
  CHECK(f.reg.requests().size() == 2);  // the .sig manifest, the payload

  f.reg.clear_requests();
  auto go_on = sig::collect_signed_entities(*source, f.img.digest, {},
                                            [](sig::SignedEntity) { return true; });
  CHECK(go_on.referrers_checked);
  CHECK(go_on.bundle_referrers == 0);
  CHECK(f.referrer_lookups() > 0);

  // Only the kinds asked for are looked up.
  f.reg.clear_requests();
  std::size_t calls = 0;
  auto bundles_only = sig::collect_signed_entities(*source, f.img.digest,
                                                   {.cosign_signatures = false, .bundles = true},
                                                   [&](sig::SignedEntity) { return ++calls > 0; });
  CHECK(calls == 0);
  CHECK_FALSE(bundles_only.signature_manifest.has_value());
  CHECK(bundles_only.referrers_checked);
  CHECK(f.reg.count("GET", "/v2/lab/app/manifests/sha256-[0-9a-f]{64}\\.sig") == 0);
}

TEST_CASE("the library's report names every key that verified a signature, in JSON and text",
          "[verify][report][registry]") {
  RegistryFixture f;
  auto v = f.verify(1, false, keys({{"a.pub", &key_a()}, {"env://KEY_A", &key_a()}}));
  REQUIRE(v.verified());
  auto j = nlohmann::json::parse(check::report_json(f.ref, v));
  CHECK(j["verified"] == true);
  CHECK(j["summary"] == v.decision.summary);
  REQUIRE(j["signatures"].size() == 1);
  CHECK(j["signatures"][0]["keyId"] == id(key_a()));
  CHECK(j["signatures"][0]["verifiedBy"] ==
        nlohmann::json::array({{{"name", "a.pub"}, {"keyId", id(key_a())}},
                               {{"name", "env://KEY_A"}, {"keyId", id(key_a())}}}));
  CHECK(check::report_lines(f.ref, "src", v) ==
        std::vector<std::string>{
            "Verifying " + f.ref.str() + " (" + f.img.digest.str() + ")",
            "  cosign .sig layer 0: OK: valid signature by trusted key " + id(key_a()),
            "    key: a.pub (" + id(key_a()) + ")", "    key: env://KEY_A (" + id(key_a()) + ")",
            "    identity: lab/app",
            "  bundle referrers: not looked up (a .sig signature verified; --all judges every "
            "signature)",
            "VERIFIED: verified: 1 of 1 signature(s) valid for " + f.img.digest.str() + " (key " +
                id(key_a()) + ")"});
  auto cosign = nlohmann::json::parse(check::cosign_report_json(f.ref, v));
  REQUIRE(cosign.size() == 1);
  CHECK(cosign[0]["critical"]["image"]["docker-manifest-digest"] == f.img.digest.str());
}
