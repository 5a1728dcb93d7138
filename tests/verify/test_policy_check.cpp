// The policy engine (verify/policy_check.h): one rule's checks on entities built here, the causes
// a person reads, the trace, the modes, and check::enforce on a layout.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "att_test_util.h"
#include "libtrust/check/enforce.h"
#include "libtrust/core/encoding.h"
#include "libtrust/core/error.h"
#include "libtrust/sig/collect.h"
#include "libtrust/sig/signer.h"
#include "libtrust/sig/simple_signing.h"
#include "libtrust/verify/digest_cache.h"
#include "libtrust/verify/policy_check.h"
#include "support/errors.h"
#include "support/test_keys.h"
#include "two_images.h"

namespace trust::verify {
namespace {

const std::string kRepo = "registry.example.com/team/app";
const Digest kImage = Digest::parse("sha256:" + std::string(64, 'a'));
const std::string kSlsa = "https://slsa.dev/provenance/v1";

const PrivateKey& release_key() {
  return sigil::test::test_key(KeyType::kEcdsaP256, 0);
}
const PrivateKey& ci_key() {
  return sigil::test::test_key(KeyType::kEcdsaP256, 1);
}
const PrivateKey& ops_key() {
  return sigil::test::test_key(KeyType::kEcdsaP256, 2);
}
const PrivateKey& stranger_key() {
  return sigil::test::test_key(KeyType::kEcdsaP256, 3);
}

PolicyRule team_rule(std::vector<std::string> keys = {"release"}, std::size_t threshold = 1) {
  PolicyRule r;
  r.name = "team";
  r.match = {"registry.example.com/team/*"};
  r.keys = std::move(keys);
  r.threshold = threshold;
  return r;
}

TrustPolicy policy_with(std::vector<PolicyRule> rules,
                        std::optional<PolicyRule> default_rule = std::nullopt) {
  PolicyDocument d;
  d.source = "p.yaml";
  for (const auto& [name, slot] : {std::pair{"release", 0}, {"ci", 1}, {"ops", 2}}) {
    d.keys.push_back(PolicyKey{.name = name,
                               .key = sigil::test::test_key(KeyType::kEcdsaP256, slot).public_key(),
                               .file = std::nullopt,
                               .at = {}});
  }
  d.rules = std::move(rules);
  d.default_rule = std::move(default_rule);
  return TrustPolicy::build(std::move(d));
}

// A cosign .sig layer signing `image` with `key`, with `annotations` in the payload.
sig::SignedEntity signature(std::size_t index, const PrivateKey& key, const Digest& image = kImage,
                            std::map<std::string, std::string> annotations = {}) {
  sig::SimpleSigningPayload p;
  p.docker_reference = kRepo;
  p.manifest_digest = image;
  p.optional = std::move(annotations);
  const auto payload = p.serialize();
  auto bytes = as_bytes(payload);
  return sig::cosign_signature_entity(index, Digest::of(bytes), Bytes(bytes.begin(), bytes.end()),
                                      key.sign(bytes));
}

// A cosign .att layer holding a statement of `type` about `image` signed by `key`.
sig::SignedEntity attestation(std::size_t index, const PrivateKey& key, const std::string& type,
                              const std::string& predicate = "{}") {
  const auto blob = trust::test::envelope_json(
      trust::test::statement_for(kImage, type, predicate).serialize(), key);
  return sig::dsse_attestation_entity(index, sig::cosign_attestation_origin(index),
                                      Digest::of(as_bytes(blob)), as_bytes(blob));
}

PolicyVerdict judge(const TrustPolicy& policy, const std::vector<sig::SignedEntity>& entities,
                    const std::string& repo = kRepo) {
  RuleCheck check(policy, policy.select(repo), repo + ":v1", kImage);
  for (const auto& e : entities) (void)check.add(e);
  return check.finish();
}

std::vector<std::string> checks_of(const PolicyVerdict& v) {
  std::vector<std::string> out;
  for (const auto& s : v.trace) out.push_back(s.check + (s.passed ? " pass" : " fail"));
  return out;
}

}  // namespace

TEST_CASE("policy engine: a signature by the rule's key allows and the trace says why",
          "[policy][engine]") {
  const auto p = policy_with({team_rule()});
  const auto v = judge(p, {signature(0, release_key())});
  CHECK(v.allowed);
  CHECK(v.satisfied);
  CHECK(v.result() == "allowed");
  CHECK(v.rule == "team");
  CHECK(v.cause == "signed by release (1 of 1)");
  CHECK(v.keys == std::vector<std::string>{"release"});
  REQUIRE(v.digest.has_value());
  CHECK(*v.digest == kImage);
  CHECK(checks_of(v) == std::vector<std::string>{"rule pass", "signature pass", "threshold pass"});
  CHECK(v.trace[0].reason ==
        "rule 'team' (glob registry.example.com/team/*): action verify, mode enforce, 1 of key "
        "release");
  CHECK(v.trace[1].subject == "cosign .sig layer 0");
  CHECK(v.trace[1].reason == "counts for key release");
  CHECK(v.trace[1].keys == std::vector<std::string>{"release"});
}

TEST_CASE("policy engine: no signature or only untrusted ones denies naming the keys",
          "[policy][engine]") {
  const auto one = policy_with({team_rule()});
  auto v = judge(one, {});
  CHECK_FALSE(v.allowed);
  CHECK(v.result() == "denied");
  CHECK(v.cause == "no signature by key release (no signatures found)");

  const auto two = policy_with({team_rule({"release", "ci"})});
  v = judge(two, {signature(0, stranger_key())});
  CHECK_FALSE(v.allowed);
  CHECK(v.cause ==
        "no signature by any of keys release, ci (found 1 signature no trusted key verifies)");
  CHECK(v.trace[1].reason == "signature does not verify with any trusted key");
  CHECK(v.trace[1].keys.empty());
}

TEST_CASE("policy engine: a signature by a trusted key for another image never counts",
          "[policy][engine]") {
  const auto p = policy_with({team_rule()});
  const auto other = Digest::parse("sha256:" + std::string(64, 'b'));
  const auto v = judge(p, {signature(0, release_key(), other)});
  CHECK_FALSE(v.allowed);
  CHECK(v.cause ==
        "no signature by key release (found 1 signature; cosign .sig layer 0 by "
        "release: signed payload is for " +
            other.str() + ", not " + kImage.str() + ")");
}

TEST_CASE("policy engine: k of n distinct keys with the missing ones named", "[policy][engine]") {
  SECTION("all three required, two signed") {
    const auto p = policy_with({team_rule({"release", "ci", "ops"}, 3)});
    const auto v = judge(p, {signature(0, release_key()), signature(1, ci_key())});
    CHECK_FALSE(v.allowed);
    CHECK(v.cause == "2 of 3 required keys signed; missing: ops");
    CHECK(v.keys == std::vector<std::string>{"release", "ci"});
  }
  SECTION("two of three required, one signed twice: counted once") {
    const auto p = policy_with({team_rule({"release", "ci", "ops"}, 2)});
    auto v = judge(p, {signature(0, release_key()), signature(1, release_key())});
    CHECK_FALSE(v.allowed);
    CHECK(v.cause == "1 of 2 required keys signed (release); 1 more needed from: ci, ops");
    v = judge(p, {signature(0, release_key()), signature(1, ops_key())});
    CHECK(v.allowed);
    CHECK(v.cause == "signed by release, ops (2 of 2)");
  }
  SECTION("more keys than the threshold signed") {
    const auto p = policy_with({team_rule({"release", "ci"}, 1)});
    const auto v = judge(p, {signature(0, release_key()), signature(1, ci_key())});
    CHECK(v.allowed);
    CHECK(v.cause == "signed by release, ci (2 keys, 1 required)");
  }
  SECTION("a key the rule does not name does not count toward it") {
    const auto p = policy_with({team_rule({"release", "ci"}, 2)});
    const auto v = judge(p, {signature(0, release_key()), signature(1, ops_key())});
    CHECK_FALSE(v.allowed);
    CHECK(v.cause ==
          "1 of 2 required keys signed; missing: ci (1 other signature no trusted key "
          "verifies)");
  }
}

TEST_CASE("policy engine: the rule's annotations are required in the signed payload",
          "[policy][engine]") {
  auto rule = team_rule();
  rule.annotations = {{"env", "prod"}};
  const auto p = policy_with({rule});
  auto v = judge(p, {signature(0, release_key(), kImage, {{"env", "dev"}})});
  CHECK_FALSE(v.allowed);
  CHECK(v.cause ==
        "no signature by key release (found 1 signature; cosign .sig layer 0 by "
        "release: signed payload lacks required annotation(s) env=prod)");
  v = judge(p, {signature(0, release_key(), kImage, {{"env", "prod"}})});
  CHECK(v.allowed);
}

TEST_CASE("policy engine: a required attestation must be there by its keys meeting its conditions",
          "[policy][engine]") {
  auto rule = team_rule({"release", "ci"});
  rule.attestations = {RequiredAttestation{.type = "slsaprovenance",
                                           .keys = {"ci"},
                                           .where = {"/buildType=https://example.com/ci"},
                                           .max_severity = std::nullopt,
                                           .at = {}}};
  const auto p = policy_with({rule});
  const std::string good = R"({"buildType":"https://example.com/ci"})";
  const std::string bad = R"({"buildType":"https://example.com/laptop"})";

  SECTION("present and satisfied") {
    const auto v = judge(p, {signature(0, release_key()), attestation(0, ci_key(), kSlsa, good)});
    CHECK(v.allowed);
    CHECK(v.cause == "signed by release (1 of 1); slsaprovenance by ci");
    CHECK(checks_of(v) == std::vector<std::string>{"rule pass", "signature pass", "threshold pass",
                                                   "attestation pass", "requirement pass"});
  }
  SECTION("missing") {
    const auto v = judge(p, {signature(0, release_key())});
    CHECK_FALSE(v.allowed);
    CHECK(v.cause ==
          "no verified slsaprovenance attestation by ci satisfying "
          "/buildType=https://example.com/ci (none found)");
  }
  SECTION("present but failing its condition") {
    const auto v = judge(p, {signature(0, release_key()), attestation(0, ci_key(), kSlsa, bad)});
    CHECK_FALSE(v.allowed);
    CHECK(v.cause ==
          "no verified slsaprovenance attestation by ci satisfying "
          "/buildType=https://example.com/ci (1 considered: condition "
          "/buildType=https://example.com/ci fails: /buildType is "
          "'https://example.com/laptop', not 'https://example.com/ci')");
  }
  SECTION("signed by a rule key the attestation does not name") {
    const auto v =
        judge(p, {signature(0, release_key()), attestation(0, release_key(), kSlsa, good)});
    CHECK_FALSE(v.allowed);
    CHECK(v.cause ==
          "no verified slsaprovenance attestation by ci satisfying "
          "/buildType=https://example.com/ci (1 considered: DSSE envelope's signature "
          "does not verify with any trusted key)");
  }
  SECTION("the closest of several is quoted") {
    const auto v = judge(
        p, {signature(0, release_key()), attestation(0, ci_key(), "https://spdx.dev/Document"),
            attestation(1, ci_key(), kSlsa, bad), attestation(2, stranger_key(), kSlsa, good)});
    CHECK_FALSE(v.allowed);
    CHECK(v.cause.find("(3 considered; closest, cosign .att layer 1: condition") !=
          std::string::npos);
  }
  SECTION("an attestation never stands in for a signature") {
    const auto v = judge(p, {attestation(0, ci_key(), kSlsa, good)});
    CHECK_FALSE(v.allowed);
    CHECK(v.cause == "no signature by any of keys release, ci (no signatures found)");
  }
  SECTION("both failing: both named, in one line") {
    const auto v = judge(p, {});
    CHECK(v.cause ==
          "no signature by any of keys release, ci (no signatures found); no verified "
          "slsaprovenance attestation by ci satisfying "
          "/buildType=https://example.com/ci (none found)");
  }
}

TEST_CASE("policy engine: the attestations part alone reads and requires no signature",
          "[policy][engine]") {
  auto rule = team_rule({"release", "ci"});
  rule.attestations = {RequiredAttestation{.type = "slsaprovenance",
                                           .keys = {"ci"},
                                           .where = {},
                                           .max_severity = std::nullopt,
                                           .at = {}}};
  const auto p = policy_with({rule});
  RuleCheck check(p, p.select(kRepo), kRepo, kImage, RuleParts::kAttestations);
  CHECK_FALSE(check.wants().cosign_signatures);
  CHECK(check.wants().attestations);
  CHECK(check.wants().bundles);
  CHECK_FALSE(check.add(attestation(0, ci_key(), kSlsa)));
  auto v = check.finish();
  CHECK(v.allowed);
  CHECK(v.cause == "slsaprovenance by ci");
  CHECK(checks_of(v) ==
        std::vector<std::string>{"rule pass", "attestation pass", "requirement pass"});

  PolicyRule plain = team_rule();
  plain.name = "plain";
  plain.match = {"registry.example.com/plain/*"};
  const auto q = policy_with({plain});
  RuleCheck none(q, q.select("registry.example.com/plain/x"), "x", kImage,
                 RuleParts::kAttestations);
  CHECK_FALSE(none.wants().bundles);
  CHECK_FALSE(none.wants().attestations);
  v = none.finish();
  CHECK(v.allowed);
  CHECK(v.cause == "rule 'plain' requires no attestations");
}

TEST_CASE("policy engine: warn and audit allow a failed check with the cause", "[policy][engine]") {
  auto warn = team_rule();
  warn.mode = RuleMode::kWarn;
  auto v = judge(policy_with({warn}), {});
  CHECK(v.allowed);
  CHECK_FALSE(v.satisfied);
  CHECK(v.result() == "warned");
  CHECK(v.cause == "no signature by key release (no signatures found)");
  auto audit = team_rule();
  audit.mode = RuleMode::kAudit;
  v = judge(policy_with({audit}), {});
  CHECK(v.allowed);
  CHECK(v.result() == "audited");
  v = judge(policy_with({audit}), {signature(0, release_key())});
  CHECK(v.result() == "allowed");
}

TEST_CASE("policy engine: accept or reject or no rule decide without looking at the image",
          "[policy][engine]") {
  PolicyRule accept;
  accept.name = "open";
  accept.match = {"registry.example.com/open/*"};
  accept.action = RuleAction::kAccept;
  PolicyRule reject;
  reject.name = "locked";
  reject.match = {"registry.example.com/locked/*"};
  reject.action = RuleAction::kReject;
  const auto p = policy_with({accept, reject});

  RuleCheck open(p, p.select("registry.example.com/open/x"), "registry.example.com/open/x", kImage);
  CHECK_FALSE(open.wants().cosign_signatures);
  CHECK_FALSE(open.wants().bundles);
  CHECK_FALSE(open.wants().attestations);
  auto v = open.finish();
  CHECK(v.allowed);
  CHECK(v.cause == "rule 'open' accepts every image without checks");

  v = judge(p, {signature(0, release_key())}, "registry.example.com/locked/x");
  CHECK_FALSE(v.allowed);
  CHECK(v.cause == "rule 'locked' rejects every image");

  v = judge(p, {signature(0, release_key())}, "elsewhere.example/x");
  CHECK_FALSE(v.allowed);
  CHECK(v.rule.empty());
  CHECK(v.cause == "no rule matched elsewhere.example/x and the policy has no default");
  CHECK(checks_of(v) == std::vector<std::string>{"rule fail"});
}

TEST_CASE("policy engine: the default rule applies where no glob matches", "[policy][engine]") {
  auto d = team_rule({"ci"});
  d.name = "default";
  d.match = {};
  const auto p = policy_with({team_rule()}, d);
  const auto v = judge(p, {signature(0, ci_key())}, "elsewhere.example/x");
  CHECK(v.allowed);
  CHECK(v.rule == "default");
  CHECK(v.trace[0].reason.find("the default rule (no glob matched elsewhere.example/x)") == 0);
}

TEST_CASE("policy engine: collecting may stop once the verdict cannot change", "[policy][engine]") {
  const auto p = policy_with({team_rule({"release", "ci"}, 2)});
  RuleCheck check(p, p.select(kRepo), kRepo, kImage);
  CHECK(check.wants().cosign_signatures);
  CHECK(check.wants().bundles);
  CHECK_FALSE(check.wants().attestations);
  CHECK(check.add(signature(0, stranger_key())));
  CHECK(check.add(signature(1, release_key())));
  CHECK_FALSE(check.add(signature(2, ci_key())));

  auto rule = team_rule();
  rule.attestations = {RequiredAttestation{
      .type = "slsaprovenance", .keys = {}, .where = {}, .max_severity = std::nullopt, .at = {}}};
  const auto with_att = policy_with({rule});
  RuleCheck both(with_att, with_att.select(kRepo), kRepo, kImage);
  CHECK(both.wants().attestations);
  CHECK(both.add(signature(0, release_key())));
  CHECK_FALSE(both.add(attestation(0, release_key(), kSlsa)));
}

TEST_CASE("policy verdicts: JSON and text carry the verdict and every step", "[policy][engine]") {
  const auto p = policy_with({team_rule()});
  const auto v = judge(p, {signature(0, release_key())});
  const auto j = nlohmann::json::parse(to_json(v));
  CHECK(j["image"] == kRepo + ":v1");
  CHECK(j["digest"] == kImage.str());
  CHECK(j["rule"] == "team");
  CHECK(j["mode"] == "enforce");
  CHECK(j["result"] == "allowed");
  CHECK(j["allowed"] == true);
  CHECK(j["satisfied"] == true);
  CHECK(j["cause"] == "signed by release (1 of 1)");
  CHECK(j["keys"] == nlohmann::json::array({"release"}));
  CHECK(j["cached"] == false);
  REQUIRE(j["trace"].size() == 3);
  CHECK(j["trace"][1] == nlohmann::json{{"check", "signature"},
                                        {"subject", "cosign .sig layer 0"},
                                        {"passed", true},
                                        {"reason", "counts for key release"},
                                        {"keys", {"release"}}});
  const auto lines = explain_lines(v);
  REQUIRE(lines.size() == 4);
  CHECK(lines[0] ==
        "allowed " + kRepo + ":v1@" + kImage.str() + " by rule 'team': signed by release (1 of 1)");
  CHECK(lines[2] == "  pass signature cosign .sig layer 0: counts for key release");

  auto none = judge(p, {}, "elsewhere.example/x");
  CHECK(nlohmann::json::parse(to_json(none))["rule"].is_null());
  // Outside text is escaped to ASCII; the JSON stays valid.
  none.cause = "bad \xff byte \x1b[2J";
  const auto text = to_json(none);
  CHECK(text.find('\x1b') == std::string::npos);
  CHECK(nlohmann::json::parse(text)["cause"].get<std::string>().find("\x1b[2J") !=
        std::string::npos);
}

TEST_CASE("policy verdicts for errors fail closed under enforce and warn under warn",
          "[policy][engine]") {
  auto warn = team_rule();
  warn.name = "warned";
  warn.match = {"registry.example.com/warn/*"};
  warn.mode = RuleMode::kWarn;
  const auto p = policy_with({team_rule(), warn});
  auto v = verdict_for_error(p.select(kRepo), kRepo, std::nullopt, "registry timed out");
  CHECK_FALSE(v.allowed);
  CHECK(v.cause == "registry timed out");
  CHECK(checks_of(v) == std::vector<std::string>{"rule pass", "error fail"});
  v = verdict_for_error(p.select("registry.example.com/warn/x"), "x", kImage, "registry timed out");
  CHECK(v.allowed);
  CHECK(v.result() == "warned");
  v = verdict_for_error(p.select("elsewhere.example/x"), "x", std::nullopt, "boom");
  CHECK_FALSE(v.allowed);

  v = verdict_without_digest(p.select(kRepo), "app:local", "no repo digest: built locally");
  CHECK_FALSE(v.allowed);
  CHECK(v.cause == "no repo digest: built locally");
  CHECK_FALSE(v.digest.has_value());
  // Nothing could be checked: even a warn rule denies it; only an accept rule allows it.
  v = verdict_without_digest(p.select("registry.example.com/warn/x"), "x:local", "no repo digest");
  CHECK_FALSE(v.allowed);
  CHECK(v.result() == "denied");
}

TEST_CASE("enforce: the tag is resolved once and the entities judged on that digest",
          "[policy][engine][enforce]") {
  test::TwoImages img;
  (void)sig::sign_image(*img.store, img.a, release_key(),
                        {.docker_reference = kRepo, .annotations = {}, .recursive = false});
  (void)sig::sign_image(*img.store, img.b, stranger_key(),
                        {.docker_reference = kRepo, .annotations = {}, .recursive = false});
  const auto p = policy_with({team_rule()});
  auto v = check::enforce(p, img.ref("a"), *img.store, {}, kRepo);
  CHECK(v.allowed);
  REQUIRE(v.digest.has_value());
  CHECK(*v.digest == img.a.digest);
  REQUIRE(v.trace.size() >= 2);
  CHECK(v.trace[1].check == "digest");
  CHECK(v.trace[1].reason == "tag a resolved once; everything after uses this digest");

  v = check::enforce(p, img.ref("b"), *img.store, {}, kRepo);
  CHECK_FALSE(v.allowed);
  CHECK(v.cause == "no signature by key release (found 1 signature no trusted key verifies)");

  // A reference with a digest is judged by it, whatever the tag says.
  const auto pinned = img.ref("b").with_digest(img.a.digest);
  v = check::enforce(p, pinned, *img.store, {}, kRepo);
  CHECK(v.allowed);
  CHECK(v.trace[1].reason == "the digest given is judged (never a tag)");
}

TEST_CASE("enforce: errors become denials naming them and an accept rule fetches nothing",
          "[policy][engine][enforce]") {
  test::TwoImages img;
  const auto p = policy_with({team_rule()});
  auto v = check::enforce(p, img.ref("missing"), *img.store, {}, kRepo);
  CHECK_FALSE(v.allowed);
  CHECK(v.cause.find("missing") != std::string::npos);
  CHECK(v.trace.back().check == "error");

  PolicyRule accept;
  accept.name = "open";
  accept.match = {"registry.example.com/team/*"};
  accept.action = RuleAction::kAccept;
  const auto open = policy_with({accept});
  v = check::enforce(open, img.ref("missing"), *img.store, {}, kRepo);
  CHECK(v.allowed);
  CHECK(v.cause == "rule 'open' accepts every image without checks");

  CHECK(sigil::test::code_of([&] { (void)check::enforce(p, img.ref("a"), *img.store, {}); }) ==
        ErrorCode::kUsage);
}

}  // namespace trust::verify

namespace trust::verify {

TEST_CASE("enforce: a satisfied verdict is cached by digest and a moved tag misses",
          "[policy][engine][enforce][cache]") {
  test::TwoImages img;
  (void)sig::sign_image(*img.store, img.a, release_key(),
                        {.docker_reference = kRepo, .annotations = {}, .recursive = false});
  const auto p = policy_with({team_rule()});
  std::string why;
  auto cache = VerifiedDigestCache::open(img.tmp / "cache", p, {}, why);
  INFO(why);
  REQUIRE(cache.has_value());
  const check::EnforceOptions with_cache{.check_blobs = false, .cache = &*cache, .parts = {}};
  auto v = check::enforce(p, img.ref("a"), *img.store, with_cache, kRepo);
  CHECK(v.allowed);
  CHECK_FALSE(v.cached);
  v = check::enforce(p, img.ref("a"), *img.store, with_cache, kRepo);
  CHECK(v.allowed);
  CHECK(v.cached);
  CHECK(v.image == img.ref("a").str());
  // The tag now names the unsigned image: judged again, denied.
  img.store->set_tag("a", img.b);
  v = check::enforce(p, img.ref("a"), *img.store, with_cache, kRepo);
  CHECK_FALSE(v.cached);
  CHECK_FALSE(v.allowed);
}

TEST_CASE("enforce: a verdict on the attestations alone is never cached nor taken from the cache",
          "[policy][engine][enforce][cache]") {
  test::TwoImages img;
  auto rule = team_rule({"release", "ci"});
  rule.attestations = {RequiredAttestation{.type = "slsaprovenance",
                                           .keys = {"ci"},
                                           .where = {},
                                           .max_severity = std::nullopt,
                                           .at = {}}};
  const auto p = policy_with({rule});
  // Image a: attested, not signed.
  (void)trust::test::put_attestations(
      *img.store, img.a.digest,
      {trust::test::att_layer(trust::test::statement_for(img.a.digest, kSlsa), ci_key())});
  std::string why;
  auto cache = VerifiedDigestCache::open(img.tmp / "cache", p, {}, why);
  INFO(why);
  REQUIRE(cache.has_value());
  const check::EnforceOptions attestations{
      .check_blobs = false, .cache = &*cache, .parts = RuleParts::kAttestations};
  const check::EnforceOptions whole{.check_blobs = false, .cache = &*cache, .parts = {}};
  auto v = check::enforce(p, img.ref("a"), *img.store, attestations, kRepo);
  CHECK(v.allowed);
  v = check::enforce(p, img.ref("a"), *img.store, whole, kRepo);
  CHECK_FALSE(v.cached);
  CHECK_FALSE(v.allowed);
  CHECK(v.cause == "no signature by any of keys release, ci (no signatures found)");
  // Signed too: the whole rule holds and is cached; the attestations alone are judged afresh.
  (void)sig::sign_image(*img.store, img.a, release_key(),
                        {.docker_reference = kRepo, .annotations = {}, .recursive = false});
  v = check::enforce(p, img.ref("a"), *img.store, whole, kRepo);
  CHECK(v.allowed);
  CHECK(check::enforce(p, img.ref("a"), *img.store, whole, kRepo).cached);
  CHECK_FALSE(check::enforce(p, img.ref("a"), *img.store, attestations, kRepo).cached);
}

}  // namespace trust::verify
