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
