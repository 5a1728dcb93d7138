#pragma once
// Test support: a real Docker Engine (Debian's docker.io 20.10 dockerd) started by the test, with
// everything of its own under a TempDir: --data-root, --exec-root, --pidfile and its API socket
// (-H unix://DIR/docker.sock), no iptables, no bridge, the vfs storage driver; optionally with an
// authorization plugin (--authorization-plugin=NAME). It starts its own containerd. It runs with
// PR_SET_PDEATHSIG and stops with SIGTERM (then SIGKILL) in the destructor or stop(); start()
// again on the same directories keeps its images (a daemon restart).
//
//   SIGIL_SKIP_UNLESS(DockerdProcess::unavailable_reason());
//   DockerdProcess dockerd(tmp.path() / "dockerd");
//   dockerd.start("sigil-test-123");
//   auto r = dockerd.docker({"pull", reg.reference("lab/app:v1")});
//
// 127.0.0.0/8 is an insecure registry for dockerd by default: it pulls from a test registry on
// 127.0.0.1 over TLS without verifying it, or over plain HTTP.

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "support/process.h"

namespace sigil::test {

inline constexpr const char* kDockerd = "/usr/sbin/dockerd";
// The Debian client of the same version (/usr/local/bin/docker may be another one).
inline constexpr const char* kDockerCli = "/usr/bin/docker";

class DockerdProcess {
 public:
  // Why a dockerd cannot be started here (not installed, not root, no containerd or runc), or
  // nullopt.
  static std::optional<std::string> unavailable_reason();

  explicit DockerdProcess(std::filesystem::path dir);
  ~DockerdProcess();
  DockerdProcess(const DockerdProcess&) = delete;
  DockerdProcess& operator=(const DockerdProcess&) = delete;

  // Starts dockerd (with the authorization plugin when `plugin` is not empty) and waits until its
  // API answers /_ping. Throws std::runtime_error with its log when it does not.
  void start(const std::string& plugin = {});
  void stop();
  bool running() const;

  std::filesystem::path socket() const;  // DIR/docker.sock
  std::string host() const;              // "unix://DIR/docker.sock"
  // Runs the docker CLI against this daemon, with a client config dir of its own.
  RunResult docker(std::vector<std::string> args, const std::string& stdin_data = "") const;
  std::string log() const;

 private:
  std::filesystem::path dir_;
  int pid_ = -1;
  bool alive() const;
};

// A process run in the background for the length of a test (a server): PR_SET_PDEATHSIG, its own
// process group, stdout and stderr to `log_file`; stop() sends SIGTERM, waits `grace`, then
// SIGKILL.
class BackgroundProcess {
 public:
  BackgroundProcess(std::vector<std::string> argv, std::vector<std::string> env,
                    std::filesystem::path log_file);
  ~BackgroundProcess();
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;
  bool running() const;
  // The exit code (128+N for signal N) once it has exited, after stop() or by itself.
  int stop(int grace_ms = 5000);
  std::string log() const;

 private:
  mutable int pid_ = -1;
  mutable int status_ = -1;
  std::filesystem::path log_file_;
};

}  // namespace sigil::test
