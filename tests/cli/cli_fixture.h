// What the CLI tests share: where the built executables and the fixtures are, and a scratch
// directory that runs `sigil` / `sigil-verify` in itself with an environment of its own.
//
//   sigil::test::cli::Scratch d;                       // SIGIL_PASSWORD, COSIGN_PASSWORD unset
//   auto r = d.run({"sigil", "key", "generate", "--output-prefix", "k"}, "pw");  // "pw" on stdin
//   CHECK(fs::exists(d / "k.key"));
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "support/process.h"

namespace sigil::test::cli {

inline const std::string kBin = SIGIL_BIN_DIR;
inline const std::string kData = SIGIL_TEST_DATA;
// tests/data/keys: an encrypted ECDSA P-256 pair (password in kPasswordFile) and another public
// key that verifies none of its signatures.
inline const std::string kKey = kData + "/keys/test-ecdsa-p256.key";
inline const std::string kPub = kData + "/keys/test-ecdsa-p256.pub";
inline const std::string kOtherPub = kData + "/keys/other-ecdsa-p256.pub";
inline const std::string kPasswordFile = kData + "/keys/test-passphrase.txt";

// Runs args[0] ("sigil", "sigil-verify") from the build in `cwd`, with `env` changed as
// run_process does (kUnsetEnv removes a variable) and `stdin_data` on its standard input.
inline RunResult run_tool(std::vector<std::string> args,
                          const std::map<std::string, std::string>& env,
                          const std::string& stdin_data, const std::filesystem::path& cwd) {
  args[0] = kBin + "/" + args[0];
  return run_process(std::move(args), env, stdin_data, {.cwd = cwd});
}

// A temporary directory the commands run in. `env` holds what every run sets: the key password
// variables, SIGIL_PASSWORD = `key_password` (kUnsetEnv: unset) and COSIGN_PASSWORD unset, unless
// the test changes them.
struct Scratch {
  TempDir tmp;
  std::map<std::string, std::string> env;

  explicit Scratch(const std::string& key_password = kUnsetEnv)
      : env{{"SIGIL_PASSWORD", key_password}, {"COSIGN_PASSWORD", kUnsetEnv}} {}

  // One run with `extra` over `env`.
  RunResult run(std::vector<std::string> args, const std::string& stdin_data = "",
                const std::map<std::string, std::string>& extra = {}) const {
    auto vars = env;
    for (const auto& [k, v] : extra) vars[k] = v;
    return run_tool(std::move(args), vars, stdin_data, tmp.path());
  }
  std::filesystem::path operator/(const std::string& rel) const { return tmp / rel; }
  const std::filesystem::path& path() const { return tmp.path(); }
};

}  // namespace sigil::test::cli
