#pragma once
// Test support: run a program and capture what it says, and scratch directories that clean up.
//
//   auto r = run_process({SIGIL_BIN_DIR "/sigil", "key", "fingerprint", path},
//                        {{"SIGIL_PASSWORD", "pw"}, {"COSIGN_PASSWORD", kUnsetEnv}});
//   CHECK(r.exit_code == 0);
//
// No shell is involved: argv[0] is the program path and arguments are passed as given. The child
// runs in a new session (setsid), so it has no controlling terminal and can never block on a
// password prompt on /dev/tty.

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace sigil::test {

struct RunResult {
  int exit_code;    // the program's exit status; 128+N if it was killed by signal N
  std::string out;  // everything written to stdout
  std::string err;  // everything written to stderr
};

// An env_overrides value that removes the variable from the child's environment.
// (A NUL byte can never appear in a real environment value.)
inline const std::string kUnsetEnv{"\0unset", 6};

struct RunOptions {
  std::filesystem::path cwd;  // empty: the test's working directory
};

// Runs argv (argv[0] is a path; no PATH lookup) with the test's environment plus
// `env_overrides` (kUnsetEnv removes a variable), feeds `stdin_data` to its stdin and waits for
// it. Throws std::runtime_error if the program cannot be started.
RunResult run_process(std::vector<std::string> argv,
                      std::map<std::string, std::string> env_overrides = {},
                      std::string stdin_data = "", const RunOptions& options = {});

// Starts a long-running server process (a registry, a dockerd) in its own process group, killed
// with this process (PR_SET_DEATHSIG), stdin /dev/null, stdout and stderr appended to `log_file`
// (0600), with exactly `env` as its environment. Returns its pid; throws when it cannot start.
int spawn_server(std::vector<std::string> argv, std::vector<std::string> env,
                 const std::filesystem::path& log_file);

// Creates a fresh, private (0700) directory under the system temp directory.
std::filesystem::path make_temp_dir();

// A temporary directory removed with everything in it when the object goes out of scope.
class TempDir {
 public:
  TempDir() : path_(make_temp_dir()) {}
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::filesystem::path& rel) const { return path_ / rel; }

 private:
  std::filesystem::path path_;
};

// Small file helpers for tests.
std::string read_text_file(const std::filesystem::path& path);
void write_text_file(const std::filesystem::path& path, const std::string& text);

}  // namespace sigil::test
