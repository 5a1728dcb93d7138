#include "support/dockerd_process.h"

#include "support/skip.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <httplib.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <thread>

namespace sigil::test {
namespace {

namespace fs = std::filesystem;

constexpr auto kStartTimeout = std::chrono::seconds(60);

// Reaps `pid` if it exited (status into `status`); true while it runs.
bool still_running(int& pid, int& status) {
  if (pid <= 0) return false;
  int st = 0;
  pid_t r = ::waitpid(pid, &st, WNOHANG);
  if (r == pid) {
    status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    pid = -1;
    return false;
  }
  if (r < 0 && errno == ECHILD) {
    pid = -1;
    return false;
  }
  return true;
}

int terminate(int& pid, int& status, int grace_ms) {
  if (!still_running(pid, status)) return status;
  ::kill(pid, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(grace_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    if (!still_running(pid, status)) return status;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::kill(pid, SIGKILL);
  int st = 0;
  while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  status = 128 + SIGKILL;
  pid = -1;
  return status;
}

std::string read_file(const fs::path& p) {
  std::error_code ec;
  if (!fs::exists(p, ec)) return {};
  return read_text_file(p);
}

}  // namespace

std::optional<std::string> DockerdProcess::unavailable_reason() {
  for (const char* program : {kDockerd, kDockerCli, "/usr/bin/containerd", "/usr/sbin/runc"}) {
    if (auto why = missing_program(program)) return why;
  }
  if (::geteuid() != 0)
    return std::string("dockerd needs root, and this test runs as uid ") +
           std::to_string(::geteuid());
  return std::nullopt;
}

DockerdProcess::DockerdProcess(fs::path dir) : dir_(std::move(dir)) {
  fs::create_directories(dir_ / "client");
}

DockerdProcess::~DockerdProcess() {
  stop();
}

fs::path DockerdProcess::socket() const {
  return dir_ / "docker.sock";
}
std::string DockerdProcess::host() const {
  return "unix://" + socket().string();
}

bool DockerdProcess::alive() const {
  int status = 0;
  return still_running(const_cast<int&>(pid_), status);
}
bool DockerdProcess::running() const {
  return alive();
}

void DockerdProcess::start(const std::string& plugin) {
  if (alive()) throw std::runtime_error("dockerd fixture: already running");
  std::vector<std::string> argv{kDockerd,
                                "--data-root=" + (dir_ / "data").string(),
                                "--exec-root=" + (dir_ / "exec").string(),
                                "--pidfile=" + (dir_ / "dockerd.pid").string(),
                                "-H",
                                host(),
                                "--iptables=false",
                                "--ip6tables=false",
                                "--bridge=none",
                                "--storage-driver=vfs",
                                "--config-file=" + (dir_ / "daemon.json").string()};
  write_text_file(dir_ / "daemon.json", "{}\n");
  if (!plugin.empty()) argv.push_back("--authorization-plugin=" + plugin);
  std::vector<std::string> env{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=" + dir_.string()};
  pid_ = spawn_server(argv, env, dir_ / "dockerd.log");
  const auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!alive()) throw std::runtime_error("dockerd exited during start-up:\n" + log());
    httplib::Client cli(socket().string(), 80);
    cli.set_address_family(AF_UNIX);
    cli.set_default_headers({{"Host", "localhost"}});  // not the socket path: dockerd refuses it
    cli.set_connection_timeout(0, 200'000);
    cli.set_read_timeout(2, 0);
    // /_ping passes the plugin unchecked: an answer means the daemon and the plugin are up.
    if (auto res = cli.Get("/_ping"); res && res->status == 200) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  stop();
  throw std::runtime_error("dockerd did not answer /_ping within 60 s:\n" + log());
}

void DockerdProcess::stop() {
  int status = 0;
  terminate(pid_, status, 20000);
  // dockerd makes its data root a mount point of its own, and leaves it: unmounted here, so that
  // a restart starts clean and the temp dir can be removed.
  ::umount2((dir_ / "data").c_str(), MNT_DETACH);
}

RunResult DockerdProcess::docker(std::vector<std::string> args,
                                 const std::string& stdin_data) const {
  std::vector<std::string> argv{kDockerCli, "-H", host()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_process(argv,
                     {{"DOCKER_CONFIG", (dir_ / "client").string()},
                      {"DOCKER_HOST", kUnsetEnv},
                      {"DOCKER_CONTENT_TRUST", kUnsetEnv}},
                     stdin_data);
}

std::string DockerdProcess::log() const {
  std::string text = read_file(dir_ / "dockerd.log");
  constexpr std::size_t kTail = 6000;
  return text.size() > kTail ? text.substr(text.size() - kTail) : text;
}

BackgroundProcess::BackgroundProcess(std::vector<std::string> argv, std::vector<std::string> env,
                                     fs::path log_file)
    : log_file_(std::move(log_file)) {
  pid_ = spawn_server(std::move(argv), std::move(env), log_file_);
}

BackgroundProcess::~BackgroundProcess() {
  stop();
}

bool BackgroundProcess::running() const {
  return still_running(pid_, status_);
}

int BackgroundProcess::stop(int grace_ms) {
  return terminate(pid_, status_, grace_ms);
}

std::string BackgroundProcess::log() const {
  return read_file(log_file_);
}

}  // namespace sigil::test
