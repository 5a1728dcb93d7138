// sigil sign --format bundle and sigil verify over the bundle it writes (the real executables).
#include <catch2/catch.hpp>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "support/process.h"

namespace fs = std::filesystem;
using sigil::test::kUnsetEnv;
using sigil::test::run_process;

namespace {

const std::string kSigil = SIGIL_BIN_DIR "/sigil";
const std::string kData = SIGIL_TEST_DATA;
const std::map<std::string, std::string> kNoPasswordEnv = {{"SIGIL_PASSWORD", kUnsetEnv},
                                                           {"COSIGN_PASSWORD", kUnsetEnv}};

std::string copy_sample(const sigil::test::TempDir& tmp) {
  fs::copy(kData + "/sample-layout", tmp / "img", fs::copy_options::recursive);
  return "oci:" + (tmp / "img").string() + ":latest";
}

sigil::test::RunResult sign(const std::string& ref, const std::string& format) {
  return run_process({kSigil, "sign", "--format", format, "--key",
                      kData + "/keys/test-ecdsa-p256.key", "--password-file",
                      kData + "/keys/test-passphrase.txt", "-a", "env=ci", "--output", "json", ref},
                     kNoPasswordEnv);
}

}  // namespace

TEST_CASE("sigil sign --format bundle writes a referrer that sigil verify reports as a bundle",
          "[cli][bundle]") {
  sigil::test::TempDir tmp;
  auto ref = copy_sample(tmp);
  auto s = sign(ref, "bundle");
  INFO(s.err);
  REQUIRE(s.exit_code == 0);
  auto signed_ = nlohmann::json::parse(s.out);
  CHECK(signed_["schemaVersion"] == 1);
  CHECK(signed_["format"] == "bundle");
  REQUIRE(signed_["signatures"].size() == 1);
  CHECK(signed_["signatures"][0]["appended"] == true);
  CHECK(signed_["signatures"][0]["digest"] == signed_["digest"]);
  const auto referrer = signed_["signatures"][0]["referrer"].get<std::string>();

  auto v = run_process({kSigil, "verify", "--key", kData + "/keys/test-ecdsa-p256.pub", "-a",
                        "env=ci", "--output", "json", ref},
                       kNoPasswordEnv);
  INFO(v.err);
  CHECK(v.exit_code == 0);
  auto j = nlohmann::json::parse(v.out);
  CHECK(j["verified"] == true);
  CHECK(j["signaturesFound"] == false);
  CHECK(j["bundleReferrers"] == 1);
  REQUIRE(j["signatures"].size() == 1);
  CHECK(j["signatures"][0]["format"] == "bundle");
  CHECK(j["signatures"][0]["origin"] == "referrer manifest " + referrer);
  CHECK(j["signatures"][0]["referrerDigest"] == referrer);
  CHECK(j["signatures"][0]["predicateType"] == "https://sigstore.dev/cosign/sign/v1");
  CHECK(j["signatures"][0]["annotations"]["env"] == "ci");
  CHECK_THAT(v.err, Catch::Contains("referrer manifest " + referrer + ": OK"));

  // With the other key: exit 1, and the verdict still names the layout it came from.
  auto w = run_process(
      {kSigil, "verify", "--key", kData + "/keys/other-ecdsa-p256.pub", "--output", "json", ref},
      kNoPasswordEnv);
  CHECK(w.exit_code == 1);
  auto k = nlohmann::json::parse(w.out);
  CHECK(k["signatures"][0]["format"] == "bundle");
  CHECK(k["signatures"][0]["reason"] ==
        "bundle's DSSE signature does not verify with any trusted key");
}

TEST_CASE("sigil verify --all lists cosign and bundle signatures together, each with its format",
          "[cli][bundle]") {
  sigil::test::TempDir tmp;
  auto ref = copy_sample(tmp);
  REQUIRE(sign(ref, "cosign").exit_code == 0);
  REQUIRE(sign(ref, "bundle").exit_code == 0);
  auto v = run_process({kSigil, "verify", "--all", "--key", kData + "/keys/test-ecdsa-p256.pub",
                        "--output", "json", ref},
                       kNoPasswordEnv);
  CHECK(v.exit_code == 0);
  auto j = nlohmann::json::parse(v.out);
  REQUIRE(j["signatures"].size() == 2);
  CHECK(j["signatures"][0]["format"] == "cosign");
  CHECK(j["signatures"][0]["origin"] == "cosign .sig layer 0");
  CHECK(j["signatures"][1]["format"] == "bundle");
}

TEST_CASE("sigil sign --format with an unknown layout is a usage error (2)", "[cli][bundle]") {
  sigil::test::TempDir tmp;
  auto ref = copy_sample(tmp);
  CHECK(sign(ref, "notation").exit_code == 2);
}

TEST_CASE("sigil verify --threshold N requires signatures by N distinct trusted keys",
          "[cli][verify][decision]") {
  sigil::test::TempDir tmp;
  auto ref = copy_sample(tmp);
  const std::string pub = kData + "/keys/test-ecdsa-p256.pub";
  const std::string other = kData + "/keys/other-ecdsa-p256.pub";
  REQUIRE(sign(ref, "cosign").exit_code == 0);
  auto verify = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {kSigil, "verify"});
    args.push_back(ref);
    return run_process(args, kNoPasswordEnv);
  };
  // One signer, two trusted keys: threshold 1 is met, threshold 2 is not (and then the bundle
  // referrers are looked up too, since the .sig layers did not meet it).
  auto one = verify({"--key", pub, "--key", other, "--output", "json"});
  CHECK(one.exit_code == 0);
  auto two = verify({"--threshold", "2", "--key", pub, "--key", other, "--output", "json"});
  INFO(two.err);
  CHECK(two.exit_code == 1);
  auto j = nlohmann::json::parse(two.out);
  CHECK(j["verified"] == false);
  CHECK(j["referrersChecked"] == true);
  CHECK(j["signatures"][0]["verified"] == true);
  CHECK(j["signatures"][0]["verifiedBy"] ==
        nlohmann::json::array({{{"name", pub}, {"keyId", j["signatures"][0]["keyId"]}}}));
  CHECK(j["summary"] == "not verified: 1 of 1 signature(s) valid for " +
                            j["digest"].get<std::string>() +
                            ", by 1 distinct trusted key(s); 2 required");
  // A second signer meets threshold 2.
  auto gen = run_process({kSigil, "key", "generate", "--output-prefix", (tmp / "second").string()},
                         {{"SIGIL_PASSWORD", "pw"}, {"COSIGN_PASSWORD", kUnsetEnv}});
  REQUIRE(gen.exit_code == 0);
  auto s2 = run_process({kSigil, "sign", "--key", (tmp / "second.key").string(), ref},
                        {{"SIGIL_PASSWORD", "pw"}, {"COSIGN_PASSWORD", kUnsetEnv}});
  INFO(s2.err);
  REQUIRE(s2.exit_code == 0);
  auto met = verify({"--threshold", "2", "--key", pub, "--key", (tmp / "second.pub").string()});
  INFO(met.err);
  CHECK(met.exit_code == 0);
  CHECK_THAT(met.err, Catch::Contains("by 2 distinct trusted keys (2 required)"));
  // The same key twice is one key: threshold 2 can never be met, a usage error.
  auto same = verify({"--threshold", "2", "--key", pub, "--key", pub});
  CHECK(same.exit_code == 2);
  CHECK_THAT(same.err,
             Catch::Contains("threshold 2 is more than the 1 distinct trusted key(s): it can "
                             "never be met"));
  CHECK(verify({"--threshold", "0", "--key", pub}).exit_code == 2);
}
