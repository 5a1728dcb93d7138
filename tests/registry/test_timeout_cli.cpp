// `--timeout DURATION` through the real sigil binary: the whole command's registry traffic ends
// by then against a registry that never answers (exit 3, the deadline named), bad durations are
// usage errors (exit 2), and 0 means no deadline.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "libtrust/core/media_type.h"
#include "support/fake_registry.h"
#include "support/process.h"

namespace {

using sigil::test::FakeRegistry;
using sigil::test::kUnsetEnv;
using sigil::test::run_process;
using sigil::test::RunResult;
using sigil::test::TempDir;

const std::string kSigil = SIGIL_BIN_DIR "/sigil";
const std::string kData = SIGIL_TEST_DATA;

RunResult run_sigil(std::vector<std::string> args, const TempDir& tmp) {
  args.insert(args.begin(), kSigil);
  return run_process(args, {{"DOCKER_CONFIG", (tmp / "no-docker").string()},
                            {"SIGIL_PASSWORD", kUnsetEnv},
                            {"COSIGN_PASSWORD", kUnsetEnv}});
}

}  // namespace

TEST_CASE("sigil --timeout ends a command against a registry that never answers, naming it",
          "[registry][cli][deadline]") {
  FakeRegistry reg;
  TempDir tmp;
  reg.add_fault({"GET", "/v2/lab/hang/manifests/v1", 100, reg.hang()});
  const auto ref = reg.host() + "/lab/hang:v1";
  SECTION("digest") {
    auto r =
        run_sigil({"digest", "--insecure-registry", reg.host(), "--timeout", "1500ms", ref}, tmp);
    CHECK(r.exit_code == 3);
    CHECK(r.out.empty());
    CHECK_THAT(r.err, Catch::Contains(ref + ": GET http://" + reg.host() +
                                      "/v2/lab/hang/manifests/v1: the deadline of 1500 ms for "
                                      "this operation (--timeout) passed during the transfer"));
  }
  SECTION("verify, the duration given in bare seconds") {
    auto r = run_sigil({"verify", "--key", kData + "/keys/test-ecdsa-p256.pub", "--timeout", "1",
                        "--insecure-registry", reg.host(), ref},
                       tmp);
    CHECK(r.exit_code == 3);
    CHECK_THAT(r.err, Catch::Contains("the deadline of 1 s for this operation (--timeout) passed"));
  }
}

TEST_CASE("sigil --timeout takes durations, and refuses what is not one", "[registry][cli]") {
  FakeRegistry reg;
  TempDir tmp;
  sigil::test::push_test_image(reg, "lab/hello", "v1");
  const auto ref = reg.host() + "/lab/hello:v1";
  for (const char* ok : {"0", "30s", "5m", "1h", "2500ms", "1.5s", "45"}) {
    // An unsigned image: the verify runs to its verdict (exit 1) within any of these.
    auto r = run_sigil({"verify", "--key", kData + "/keys/test-ecdsa-p256.pub", "--timeout", ok,
                        "--insecure-registry", reg.host(), ref},
                       tmp);
    INFO("--timeout " << ok << ": " << r.err);
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, !Catch::Contains("deadline"));
  }
  auto unit = run_sigil({"digest", "--timeout", "5 fortnights", ref}, tmp);
  CHECK(unit.exit_code == 2);
  CHECK_THAT(unit.err, Catch::Contains("--timeout: fortnights unit not recognized"));
  auto negative = run_sigil({"digest", "--timeout", "-3s", ref}, tmp);
  CHECK(negative.exit_code == 2);
  CHECK_THAT(negative.err, Catch::Contains("--timeout: must be from 0 (no limit) to 24h"));
  auto help = run_sigil({"digest", "--help"}, tmp);
  CHECK_THAT(help.out, Catch::Contains("--timeout DURATION") && Catch::Contains("(default: 5m)"));
}
