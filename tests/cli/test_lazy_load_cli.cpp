// sigil-verify loads libcurl and libarchive only when a command needs them: verifying a local
// layout starts with the dozen libraries the verifier uses, not the ~46 libcurl brings along.
// What the dynamic loader maps is read from its own trace (LD_DEBUG=files).
#include <catch2/catch.hpp>

#include <filesystem>
#include <string>

#include "support/process.h"

namespace fs = std::filesystem;
using sigil::test::kUnsetEnv;
using sigil::test::run_process;

namespace {

const std::string kSigil = SIGIL_BIN_DIR "/sigil";
const std::string kSigilVerify = SIGIL_BIN_DIR "/sigil-verify";
const std::string kData = SIGIL_TEST_DATA;

bool loaded(const std::string& loader_trace, const std::string& soname_prefix) {
  return loader_trace.find("file=" + soname_prefix) != std::string::npos;
}

sigil::test::RunResult traced(std::vector<std::string> argv) {
  return run_process(
      std::move(argv),
      {{"LD_DEBUG", "files"}, {"SIGIL_PASSWORD", kUnsetEnv}, {"COSIGN_PASSWORD", kUnsetEnv}});
}

}  // namespace

TEST_CASE("sigil-verify opens libcurl and libarchive only for registry and archive images",
          "[cli][lazy]") {
  sigil::test::TempDir tmp;
  fs::copy(kData + "/sample-layout", tmp / "img", fs::copy_options::recursive);
  const auto layout = "oci:" + (tmp / "img").string() + ":latest";
  REQUIRE(run_process({kSigil, "sign", "--key", kData + "/keys/test-ecdsa-p256.key",
                       "--password-file", kData + "/keys/test-passphrase.txt", layout},
                      {{"SIGIL_PASSWORD", kUnsetEnv}, {"COSIGN_PASSWORD", kUnsetEnv}})
              .exit_code == 0);
  const auto key = kData + "/keys/test-ecdsa-p256.pub";

  for (const auto& args :
       std::vector<std::vector<std::string>>{{kSigilVerify, "--version"},
                                             {kSigilVerify, "verify", "--key", key, layout},
                                             {kSigil, "verify", "--key", key, layout}}) {
    auto r = traced(args);
    INFO(args[1] << "\n" << r.err.substr(0, 2000));
    CHECK(r.exit_code == 0);
    CHECK(loaded(r.err, "libcrypto.so"));  // the trace works
    CHECK_FALSE(loaded(r.err, "libcurl"));
    CHECK_FALSE(loaded(r.err, "libarchive"));
  }
  // A registry reference needs libcurl (the connection is refused: exit 3).
  auto reg = traced({kSigilVerify, "verify", "--key", key, "127.0.0.1:1/lab/x:v1"});
  CHECK(reg.exit_code == 3);
  CHECK(loaded(reg.err, "libcurl.so"));
  CHECK_FALSE(loaded(reg.err, "libarchive"));
  // A docker-archive needs libarchive (this file is no archive: exit 3).
  sigil::test::write_text_file(tmp / "not.tar", "not a tar archive");
  auto arc = traced(
      {kSigilVerify, "verify", "--key", key, "docker-archive:" + (tmp / "not.tar").string()});
  CHECK(arc.exit_code == 3);
  CHECK(loaded(arc.err, "libarchive.so"));
}
