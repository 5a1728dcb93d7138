// The trust policy's meaning (verify/trust_policy.h): globs, rule selection, and what build()
// refuses. Reading the file is tested in test_policy_file.cpp.
#include <catch2/catch.hpp>

#include "libtrust/core/error.h"
#include "libtrust/verify/trust_policy.h"
#include "support/test_keys.h"

namespace trust::verify {
namespace {

PolicyKey key(std::string name, int slot) {
  return PolicyKey{.name = std::move(name),
                   .key = sigil::test::test_key(KeyType::kEcdsaP256, slot).public_key(),
                   .file = std::nullopt,
                   .at = {}};
}

PolicyRule rule(std::string name, std::vector<std::string> match,
                std::vector<std::string> keys = {"release"}) {
  PolicyRule r;
  r.name = std::move(name);
  r.match = std::move(match);
  r.keys = std::move(keys);
  return r;
}

PolicyDocument document(std::vector<PolicyRule> rules) {
  PolicyDocument d;
  d.source = "p.yaml";
  d.keys = {key("release", 0), key("ci", 1), key("ops", 2)};
  d.rules = std::move(rules);
  return d;
}

std::string refusal(PolicyDocument d) {
  try {
    (void)TrustPolicy::build(std::move(d));
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("policy globs: * and ? stay in a segment, ** crosses segments", "[policy]") {
  CHECK(glob_matches("registry.example.com/team/*", "registry.example.com/team/app"));
  CHECK_FALSE(glob_matches("registry.example.com/team/*", "registry.example.com/team/a/b"));
  CHECK_FALSE(glob_matches("registry.example.com/team/*", "registry.example.com/team"));
  CHECK(glob_matches("registry.example.com/team/**", "registry.example.com/team/a/b"));
  CHECK_FALSE(glob_matches("registry.example.com/team/**", "registry.example.com/team"));
  CHECK(glob_matches("registry.example.com/**/app", "registry.example.com/app"));
  CHECK(glob_matches("registry.example.com/**/app", "registry.example.com/x/y/app"));
  CHECK_FALSE(glob_matches("registry.example.com/**/app", "registry.example.com/x/yapp"));
  CHECK(glob_matches("**/app", "localhost:5000/app"));
  CHECK(glob_matches("**", "docker.io/library/busybox"));
  CHECK(glob_matches("localhost:5000/ap?", "localhost:5000/app"));
  CHECK_FALSE(glob_matches("localhost:5000/ap?", "localhost:5000/ap/p"));
  // Literal characters are literal: '.' is no regex wildcard.
  CHECK_FALSE(glob_matches("registry.example.com/team/*", "registryXexample.com/team/app"));
}

TEST_CASE("policy globs: tags, digests, short names and bad segments are refused", "[policy]") {
  CHECK_FALSE(glob_problem("registry.example.com/team/*").has_value());
  CHECK_FALSE(glob_problem("localhost:5000/app").has_value());
  CHECK(glob_problem("registry.example.com/team/app:v1")->find("never a tag") != std::string::npos);
  CHECK(glob_problem("registry.example.com/app@sha256:00")->find("never a digest") !=
        std::string::npos);
  CHECK(glob_problem("nginx")->find("docker.io/library/nginx") != std::string::npos);
  CHECK(glob_problem("library/nginx")->find("not a registry host") != std::string::npos);
  CHECK(glob_problem("registry.example.com//app")->find("empty path segment") != std::string::npos);
  CHECK(glob_problem("registry.example.com/a**")->find("whole path segment") != std::string::npos);
  CHECK(glob_problem("registry.example.com/**/**")->find("'**/**'") != std::string::npos);
  CHECK(glob_problem("Registry.example.com/app")->find("lowercase") != std::string::npos);
  CHECK(glob_problem("registry.example.com/[ab]")->find("not allowed") != std::string::npos);
  CHECK(glob_problem("docker://registry.example.com/app")->find("scheme") != std::string::npos);
  CHECK(glob_problem("").has_value());
}

TEST_CASE("policy rules: the most specific glob wins, then the default, else none", "[policy]") {
  auto doc = document({rule("any", {"registry.example.com/**"}),
                       rule("team", {"registry.example.com/team/*"}),
                       rule("exact", {"registry.example.com/team/app"})});
  doc.default_rule = rule("default", {});
  const auto p = TrustPolicy::build(std::move(doc));
  auto s = p.select("registry.example.com/team/app");
  REQUIRE(s.rule != nullptr);
  CHECK(s.rule->name == "exact");
  CHECK(s.reason.find("most specific of 3 matching") != std::string::npos);
  CHECK(p.select("registry.example.com/team/web").rule->name == "team");
  // The host is case-insensitive: no spelling of it escapes its rule for the default.
  CHECK(p.select("Registry.EXAMPLE.com/team/web").rule->name == "team");
  CHECK(p.select("registry.example.com/other/web").rule->name == "any");
  s = p.select("elsewhere.example/app");
  CHECK(s.rule == p.default_rule());
  CHECK(s.reason.find("default") != std::string::npos);

  const auto none = TrustPolicy::build(document({rule("team", {"registry.example.com/team/*"})}));
  s = none.select("elsewhere.example/app");
  CHECK(s.rule == nullptr);
  CHECK(s.reason.find("no default") != std::string::npos);
}

TEST_CASE("policy rules: equally specific globs go to the rule written first", "[policy]") {
  const auto p = TrustPolicy::build(document({rule("first", {"registry.example.com/a*/x"}),
                                              rule("second", {"registry.example.com/*b/x"})}));
  const auto s = p.select("registry.example.com/ab/x");
  CHECK(s.rule->name == "first");
  CHECK(s.reason.find("written first") != std::string::npos);
}

TEST_CASE("policy build: impossible or ambiguous rules are refused with where and why",
          "[policy]") {
  auto over = rule("team", {"registry.example.com/team/*"}, {"release", "ci"});
  over.threshold = 3;
  over.field_at["threshold"] = {.line = 7, .column = 16};
  CHECK(refusal(document({over})) ==
        "p.yaml:7:16: rules[0].threshold: 3 is more than the 2 distinct key(s) the rule names "
        "(release, ci): it can never be met");

  auto zero = rule("team", {"registry.example.com/team/*"});
  zero.threshold = 0;
  CHECK(refusal(document({zero})).find("rules[0].threshold: 0 would require nothing") !=
        std::string::npos);

  CHECK(refusal(document({rule("a", {"registry.example.com/x/*"}),
                          rule("b", {"registry.example.com/x/*"})}))
            .find("rules[1].match[0]: glob 'registry.example.com/x/*' is already matched by rule "
                  "'a'") != std::string::npos);
  CHECK(refusal(document({rule("a", {"registry.example.com/x/*"}),
                          rule("a", {"registry.example.com/y/*"})}))
            .find("rule 'a' is defined twice") != std::string::npos);
  CHECK(refusal(document({rule("a", {"registry.example.com/x/*"}, {"nobody"})}))
            .find("no key named 'nobody' (the policy's keys: release, ci, ops)") !=
        std::string::npos);
  CHECK(refusal(document({rule("a", {"registry.example.com/x:v1"})})).find("never a tag") !=
        std::string::npos);
  CHECK(refusal(document({rule("a", {"registry.example.com/x/*"}, {})}))
            .find("needs at least one key") != std::string::npos);
  auto accept = rule("a", {"registry.example.com/x/*"});
  accept.action = RuleAction::kAccept;
  CHECK(refusal(document({accept})).find("checks nothing") != std::string::npos);

  auto same = document({rule("a", {"registry.example.com/x/*"}, {"release", "again"})});
  same.keys.push_back(key("again", 0));  // the same key under a second name
  same.rules[0].threshold = 2;
  CHECK(refusal(same).find("more than the 1 distinct key(s)") != std::string::npos);

  auto att = rule("a", {"registry.example.com/x/*"});
  att.attestations.push_back(RequiredAttestation{
      .type = "not a type", .keys = {}, .where = {}, .max_severity = std::nullopt, .at = {3, 5}});
  CHECK(refusal(document({att})).rfind("p.yaml:3:5: rules[0].attestations[0]: ", 0) == 0);
}

TEST_CASE(
    "policy rules: verifiers trust exactly the keys named, and rule digests follow "
    "meaning",
    "[policy]") {
  auto a = rule("a", {"registry.example.com/a/*"}, {"release", "ci"});
  a.attestations.push_back(RequiredAttestation{.type = "slsaprovenance",
                                               .keys = {"ops"},
                                               .where = {},
                                               .max_severity = std::nullopt,
                                               .at = {}});
  auto b = rule("b", {"registry.example.com/b/*"}, {"ci", "release"});
  const auto p = TrustPolicy::build(document({a, b}));
  const auto& ra = p.rules()[0];
  const auto& rb = p.rules()[1];
  REQUIRE(p.signature_verifier(ra)->material().keys().size() == 2);
  CHECK(p.signature_verifier(ra)->material().keys()[0].name == "release");
  REQUIRE(p.attestation_verifier(ra, 0)->material().keys().size() == 1);
  CHECK(p.attestation_verifier(ra, 0)->material().keys()[0].name == "ops");
  CHECK(p.attestation_requirement(ra, 0).type == "slsaprovenance");
  // Same keys, threshold and checks: the same digest whatever the names, order or globs.
  auto c = rule("c", {"registry.example.com/c/*"}, {"ci", "release"});
  const auto q = TrustPolicy::build(document({c}));
  CHECK(p.rule_digest(rb) == q.rule_digest(q.rules()[0]));
  CHECK(p.rule_digest(ra) != p.rule_digest(rb));
  CHECK(p.content_digest().rfind("sha256:", 0) == 0);
  CHECK(p.content_digest() != q.content_digest());
}

}  // namespace trust::verify
