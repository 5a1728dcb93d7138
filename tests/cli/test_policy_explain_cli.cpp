// sigil policy explain against a real registry: the rule chosen and why, the digest, every
// signature considered, the threshold; text on stderr, the verdict JSON on stdout; exit codes.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "policy_cli_fixture.h"

using namespace sigil::test::policy_cli;
using sigil::test::RegistryAuth;
using sigil::test::RegistryProcess;
using sigil::test::run_process;
using sigil::test::TempDir;
using namespace trust;

TEST_CASE("policy explain: the rule and why then the digest and every signature and the threshold",
          "[cli][policy][registry-it]") {
  SIGIL_SKIP_UNLESS(RegistryProcess::unavailable_reason(RegistryAuth::kNone));
  PolicyRegistry r;
  const auto ref = r.push("team/app:v1", r.a, {&stranger_key(), &release_key()});
  const auto unsigned_ref = r.push("team/other:v1", r.b);
  const auto policy = r.policy(kRules);
  auto res = r.run({"policy", "explain", policy, ref});
  INFO(res.err);
  CHECK(res.exit_code == 0);
  CHECK(res.out.empty());
  const std::vector<std::string> expected{
      "allowed " + ref + "@" + r.a.digest.str() + " by rule 'team': signed by release (1 of 1)",
      "  pass rule team: rule 'team' (glob " + r.reg.host() +
          "/team/*): action verify, mode enforce, 1 of key release",
      "  pass digest " + r.a.digest.str() +
          ": tag v1 resolved once; everything after uses this "
          "digest",
      "  FAIL signature cosign .sig layer 0: signature does not verify with any trusted key",
      "  pass signature cosign .sig layer 1: counts for key release",
      "  pass threshold signatures: signed by release (1 of 1)",
  };
  CHECK(report_lines(res.err) == expected);

  auto json = r.run({"policy", "explain", "--output", "json", policy, unsigned_ref});
  CHECK(json.exit_code == 1);
  const auto j = nlohmann::json::parse(json.out);
  CHECK(j["schemaVersion"] == 1);
  CHECK(j["result"] == "denied");
  CHECK(j["cause"] == "no signature by key release (no signatures found)");
  CHECK(report_lines(json.err).front() == "denied " + unsigned_ref + "@" + r.b.digest.str() +
                                              " by rule 'team': no signature by key release (no "
                                              "signatures found)");
}
