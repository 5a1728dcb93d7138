#include "support/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <vector>

extern char** environ;

namespace sigil::test {
namespace {

struct Pipe {
  int fd[2] = {-1, -1};
  Pipe() {
    if (::pipe2(fd, O_CLOEXEC) != 0) {
      throw std::runtime_error(std::string("pipe2: ") + std::strerror(errno));
    }
  }
  ~Pipe() {
    close_read();
    close_write();
  }
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;
  void close_read() {
    if (fd[0] >= 0) ::close(fd[0]);
    fd[0] = -1;
  }
  void close_write() {
    if (fd[1] >= 0) ::close(fd[1]);
    fd[1] = -1;
  }
};

struct FileActions {
  posix_spawn_file_actions_t fa;
  FileActions() { posix_spawn_file_actions_init(&fa); }
  ~FileActions() { posix_spawn_file_actions_destroy(&fa); }
  FileActions(const FileActions&) = delete;
  FileActions& operator=(const FileActions&) = delete;
};

struct SpawnAttr {
  posix_spawnattr_t attr;
  SpawnAttr() { posix_spawnattr_init(&attr); }
  ~SpawnAttr() { posix_spawnattr_destroy(&attr); }
  SpawnAttr(const SpawnAttr&) = delete;
  SpawnAttr& operator=(const SpawnAttr&) = delete;
};

std::vector<std::string> build_env(const std::map<std::string, std::string>& overrides) {
  std::map<std::string, std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string entry(*e);
    auto eq = entry.find('=');
    if (eq == std::string::npos) continue;
    env[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  for (const auto& [name, value] : overrides) {
    if (value == kUnsetEnv) {
      env.erase(name);
    } else {
      env[name] = value;
    }
  }
  std::vector<std::string> out;
  out.reserve(env.size());
  for (const auto& [name, value] : env) out.push_back(name + "=" + value);
  return out;
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

}  // namespace

RunResult run_process(std::vector<std::string> argv,
                      std::map<std::string, std::string> env_overrides, std::string stdin_data,
                      const RunOptions& options) {
  if (argv.empty()) throw std::runtime_error("run_process: empty argv");
  Pipe in, out, err;
  FileActions actions;
  posix_spawn_file_actions_adddup2(&actions.fa, in.fd[0], STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions.fa, out.fd[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions.fa, err.fd[1], STDERR_FILENO);
  if (!options.cwd.empty()) {
    posix_spawn_file_actions_addchdir_np(&actions.fa, options.cwd.c_str());
  }
  SpawnAttr attr;
  // A new session: no controlling terminal, so /dev/tty cannot be opened by the child.
  // Default signal dispositions and an empty mask, whatever the test runner set.
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr.attr, &none);
  posix_spawnattr_setsigdefault(&attr.attr, &all);
  posix_spawnattr_setflags(&attr.attr,
                           POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  auto env_strings = build_env(env_overrides);
  auto envp = c_strings(env_strings);
  auto argvp = c_strings(argv);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, argv[0].c_str(), &actions.fa, &attr.attr, argvp.data(), envp.data());
  if (rc != 0) {
    throw std::runtime_error("run_process: cannot start " + argv[0] + ": " + std::strerror(rc));
  }
  in.close_read();
  out.close_write();
  err.close_write();

  // Feed stdin and drain stdout/stderr together so that no pipe can fill up and deadlock.
  RunResult result{-1, {}, {}};
  std::size_t fed = 0;
  if (stdin_data.empty()) in.close_write();
  // Writing to a child that exited early must not kill the test with SIGPIPE.
  struct sigaction ignore {
  }, saved{};
  ignore.sa_handler = SIG_IGN;
  ::sigaction(SIGPIPE, &ignore, &saved);
  while (out.fd[0] >= 0 || err.fd[0] >= 0) {
    std::array<pollfd, 3> fds{
        {{out.fd[0], POLLIN, 0}, {err.fd[0], POLLIN, 0}, {in.fd[1], POLLOUT, 0}}};
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    std::array<char, 65536> buf;
    auto drain = [&](Pipe& p, short revents, std::string& sink) {
      if (p.fd[0] < 0 || (revents & (POLLIN | POLLHUP | POLLERR)) == 0) return;
      auto n = ::read(p.fd[0], buf.data(), buf.size());
      if (n > 0) {
        sink.append(buf.data(), static_cast<std::size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        p.close_read();
      }
    };
    drain(out, fds[0].revents, result.out);
    drain(err, fds[1].revents, result.err);
    if (in.fd[1] >= 0 && (fds[2].revents & (POLLOUT | POLLERR | POLLHUP)) != 0) {
      auto n = ::write(in.fd[1], stdin_data.data() + fed, stdin_data.size() - fed);
      if (n > 0) fed += static_cast<std::size_t>(n);
      if (n < 0 && errno != EINTR && errno != EAGAIN) fed = stdin_data.size();
      if (fed == stdin_data.size()) in.close_write();
    }
  }
  in.close_write();
  ::sigaction(SIGPIPE, &saved, nullptr);

  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw std::runtime_error("run_process: waitpid failed");
  }
  if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.exit_code = 128 + WTERMSIG(status);
  }
  return result;
}

std::filesystem::path make_temp_dir() {
  auto pattern = (std::filesystem::temp_directory_path() / "sigil-test-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error(std::string("mkdtemp: ") + std::strerror(errno));
  }
  return pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string read_text_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_text_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (!f) throw std::runtime_error("cannot write " + path.string());
  f << text;
  if (!f.flush()) throw std::runtime_error("cannot write " + path.string());
}

int spawn_server(std::vector<std::string> argv, std::vector<std::string> env,
                 const std::filesystem::path& log_file) {
  int log_fd = ::open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (log_fd < 0) throw std::runtime_error("cannot open " + log_file.string());
  int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  auto args = c_strings(argv);
  auto envp = c_strings(env);
  const pid_t parent = ::getpid();
  pid_t child = ::fork();
  if (child == 0) {
    // Only async-signal-safe calls from here on.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    ::setpgid(0, 0);
    if (null_fd >= 0) ::dup2(null_fd, STDIN_FILENO);
    ::dup2(log_fd, STDOUT_FILENO);
    ::dup2(log_fd, STDERR_FILENO);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execve(args[0], args.data(), envp.data());
    ::_exit(127);
  }
  int err = errno;
  ::close(log_fd);
  if (null_fd >= 0) ::close(null_fd);
  if (child < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(err));
  return child;
}

}  // namespace sigil::test
