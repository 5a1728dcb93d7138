// sigil verify --policy over several images against a real registry (the CI gate) and sigil
// verify-attestation --policy: one verdict per image, JSON lines, warnings, refused flags and exit
// codes (the real executables).
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "policy_cli_fixture.h"

using namespace sigil::test::policy_cli;
using sigil::test::RegistryAuth;
using sigil::test::RegistryProcess;
using sigil::test::run_process;
using sigil::test::TempDir;
using namespace trust;

TEST_CASE("verify --policy: one verdict per image and exit 1 when any is denied",
          "[cli][policy][registry-it]") {
  SIGIL_SKIP_UNLESS(RegistryProcess::unavailable_reason(RegistryAuth::kNone));
  PolicyRegistry r;
  const auto signed_ref = r.push("team/app:v1", r.a, {&release_key()});
  const auto unsigned_ref = r.push("team/other:v1", r.b);
  const auto stranger_ref = r.push("team/third:v1", r.b, {&stranger_key()});
  const auto soft_ref = r.push("soft/app:v1", r.b);
  const auto locked_ref = r.push("locked/app:v1", r.a, {&release_key()});
  const auto nowhere_ref = r.push("nowhere/app:v1", r.a, {&release_key()});
  const auto policy = r.policy(kRules);

  auto all = r.run({"verify", "--policy", policy, signed_ref, unsigned_ref, stranger_ref, soft_ref,
                    locked_ref, nowhere_ref});
  INFO(all.err);
  CHECK(all.exit_code == 1);
  CHECK(all.out.empty());
  const auto at = [&](const std::string& ref, const oci::Descriptor& d) {
    return ref + "@" + d.digest.str();
  };
  const std::vector<std::string> expected{
      "allowed " + at(signed_ref, r.a) + " by rule 'team': signed by release (1 of 1)",
      "denied " + at(unsigned_ref, r.b) +
          " by rule 'team': no signature by key release (no signatures found)",
      "denied " + at(stranger_ref, r.b) +
          " by rule 'team': no signature by key release (found 1 signature no trusted key "
          "verifies)",
      "warned " + at(soft_ref, r.b) +
          " by rule 'soft': no signature by key release (no signatures found)",
      "sigil: warning: " + soft_ref +
          ": no signature by key release (no signatures found) (allowed: rule 'soft' is in warn "
          "mode)",
      "denied " + locked_ref + " by rule 'locked': rule 'locked' rejects every image",
      "denied " + nowhere_ref + ": no rule matched " + r.reg.host() +
          "/nowhere/app and the policy has no default",
  };
  CHECK(report_lines(all.err) == expected);

  // The allowed ones alone: exit 0, the warning printed, nothing on stdout.
  auto ok = r.run({"verify", "--policy", policy, signed_ref, soft_ref});
  CHECK(ok.exit_code == 0);
  CHECK(ok.err.find("sigil: warning: " + soft_ref) != std::string::npos);
}

TEST_CASE("verify --policy: k of n keys and JSON lines with every verdict's trace",
          "[cli][policy][registry-it]") {
  SIGIL_SKIP_UNLESS(RegistryProcess::unavailable_reason(RegistryAuth::kNone));
  PolicyRegistry r;
  const auto one = r.push("both/one:v1", r.a, {&release_key()});
  const auto two = r.push("both/two:v1", r.b, {&release_key(), &ci_key()});
  const auto policy = r.policy(kRules);
  auto res = r.run({"verify", "--policy", policy, "--output", "json", one, two});
  INFO(res.err);
  CHECK(res.exit_code == 1);
  const auto lines = lines_of(res.out);
  REQUIRE(lines.size() == 2);
  const auto j1 = nlohmann::json::parse(lines[0]);
  const auto j2 = nlohmann::json::parse(lines[1]);
  CHECK(j1["schemaVersion"] == 1);
  CHECK(j1["image"] == one);
  CHECK(j1["digest"] == r.a.digest.str());
  CHECK(j1["rule"] == "both");
  CHECK(j1["result"] == "denied");
  CHECK(j1["cause"] == "1 of 2 required keys signed; missing: ci");
  CHECK(j1["keys"] == nlohmann::json::array({"release"}));
  CHECK(j2["result"] == "allowed");
  CHECK(j2["cause"] == "signed by release, ci (2 of 2)");
  std::vector<std::string> checks;
  for (const auto& s : j2["trace"]) checks.push_back(s["check"]);
  CHECK(checks ==
        std::vector<std::string>{"rule", "digest", "signature", "signature", "threshold"});
  // The text lines still go to stderr.
  CHECK(report_lines(res.err).size() == 2);
}

TEST_CASE("verify --policy: an image that cannot be checked exits 3 and a denial wins over it",
          "[cli][policy][registry-it]") {
  SIGIL_SKIP_UNLESS(RegistryProcess::unavailable_reason(RegistryAuth::kNone));
  PolicyRegistry r;
  const auto signed_ref = r.push("team/app:v1", r.a, {&release_key()});
  const auto unsigned_ref = r.push("team/other:v1", r.b);
  const auto missing = r.reg.reference("team/app:nope");
  const auto policy = r.policy(kRules);
  auto res = r.run({"verify", "--policy", policy, signed_ref, missing});
  CHECK(res.exit_code == 3);
  const auto lines = report_lines(res.err);
  REQUIRE(lines.size() == 2);
  CHECK(lines[1] == "denied " + missing + " by rule 'team': " + r.reg.host() +
                        "/team/app:nope: no such tag (manifest unknown)");
  res = r.run({"verify", "--policy", policy, missing, unsigned_ref});
  CHECK(res.exit_code == 1);
}

TEST_CASE("verify --policy: the flags the policy states are refused and so are local images",
          "[cli][policy]") {
  TempDir tmp;
  const auto policy = (tmp / "p.yaml").string();
  sigil::test::write_text_file(policy, "version: 1\nrules: []\n");
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases{
      {{"verify", "--policy", policy, "--key", "k.pub", "127.0.0.1:1/a/b:c"},
       "sigil: error: --key with --policy: the policy's rule for each image says what it needs "
       "(see sigil verify --help)\n"},
      {{"verify", "--policy", policy, "--threshold", "2", "-a", "x=y", "127.0.0.1:1/a/b:c"},
       "sigil: error: --threshold, -a/--annotation with --policy: the policy's rule for each "
       "image says what it needs (see sigil verify --help)\n"},
      {{"verify", "--policy", policy, "-o", "cosign", "127.0.0.1:1/a/b:c"},
       "sigil: error: --output cosign with --policy: a policy verdict is text or json\n"},
      {{"verify", "--policy", policy, "127.0.0.1:1/a/b:c", "oci:" + tmp.path().string() + ":x"},
       "sigil: error: oci:" + tmp.path().string() +
           ":x: a policy judges registry images (its rules match repository names); verify a "
           "local image with --key\n"},
      {{"verify", "--explain", "--key", "k.pub", "127.0.0.1:1/a/b:c"},
       "sigil: error: --explain explains a policy verdict: give --policy FILE\n"},
      {{"verify-attestation", "--policy", policy, "--type", "slsaprovenance", "--where", "/a=b",
        "127.0.0.1:1/a/b:c"},
       "sigil: error: --type, --where with --policy: the policy's rule for the image says which "
       "attestations it needs (see sigil verify-attestation --help)\n"},
      {{"verify-attestation", "127.0.0.1:1/a/b:c"},
       "sigil: error: --key is required (see sigil verify-attestation --help)\n"},
  };
  for (const auto& [args, err] : cases) {
    auto argv = args;
    argv.insert(argv.begin(), kSigil);
    auto res = run_process(argv);
    INFO(args[0] + " " + args[1]);
    CHECK(res.exit_code == 2);
    CHECK(res.err == err);
    CHECK(res.out.empty());
  }
}

TEST_CASE("verify-attestation --policy checks the rule's attestations and not its signatures",
          "[cli][policy][registry-it]") {
  SIGIL_SKIP_UNLESS(RegistryProcess::unavailable_reason(RegistryAuth::kNone));
  PolicyRegistry r;
  const auto good = r.push("built/good:v1", r.a);  // attested, not signed
  r.attest("built/good:v1", r.a, ci_key(), R"({"buildType":"https://example.com/ci"})");
  const auto bad = r.push("built/bad:v1", r.b, {&release_key()});
  r.attest("built/bad:v1", r.b, ci_key(), R"({"buildType":"https://example.com/laptop"})");
  const auto policy = r.policy(R"(  - name: built
    match: HOST/built/*
    keys: [release]
    attestations:
      - type: slsaprovenance
        keys: [ci]
        where: ["/buildType=https://example.com/ci"]
)");
  auto res = r.run({"verify-attestation", "--policy", policy, good});
  INFO(res.err);
  CHECK(res.exit_code == 0);
  CHECK(report_lines(res.err) ==
        std::vector<std::string>{"allowed " + good + "@" + r.a.digest.str() +
                                 " by rule 'built': slsaprovenance by ci"});
  // The whole rule also needs the signature.
  auto whole = r.run({"verify", "--policy", policy, good});
  CHECK(whole.exit_code == 1);
  CHECK(whole.err.find("no signature by key release (no signatures found)") != std::string::npos);

  res = r.run({"verify-attestation", "--policy", policy, "--explain", bad});
  CHECK(res.exit_code == 1);
  const auto lines = report_lines(res.err);
  REQUIRE(lines.size() == 5);
  CHECK(lines[0] == "denied " + bad + "@" + r.b.digest.str() +
                        " by rule 'built': no verified slsaprovenance attestation by ci "
                        "satisfying /buildType=https://example.com/ci (1 considered: condition "
                        "/buildType=https://example.com/ci fails: /buildType is "
                        "'https://example.com/laptop', not 'https://example.com/ci')");
  CHECK(lines[3].rfind("  FAIL attestation slsaprovenance cosign .att layer 0: condition", 0) == 0);
  CHECK(lines[4].rfind("  FAIL requirement slsaprovenance: no verified", 0) == 0);
}
