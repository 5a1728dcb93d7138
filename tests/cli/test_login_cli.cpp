// sigil login and sigil logout as docker, podman and cosign users type them, against the
// in-process fake registry with Basic and with Bearer (token server) auth: the credentials are
// checked before anything is written, stored 0600 where the next command finds them (the docker
// config, --authfile, $REGISTRY_AUTH_FILE), and removed again; the password comes from -p (with a
// warning), standard input or the terminal, never from a key's password variable.
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "cli/cli_fixture.h"
#include "libtrust/core/bytes.h"
#include "libtrust/core/encoding.h"
#include "libtrust/core/limits.h"
#include "support/fake_registry.h"
#include "support/process.h"

extern char** environ;

namespace fs = std::filesystem;
using sigil::test::FakeRegistry;
using sigil::test::kUnsetEnv;
using sigil::test::read_text_file;
using sigil::test::write_text_file;

using sigil::test::cli::kBin;

namespace {

std::string auth_field(const std::string& user, const std::string& password) {
  return trust::base64_encode(trust::as_bytes(user + ":" + password));
}

unsigned mode_of(const fs::path& p) {
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return st.st_mode & 0777;
}

// A home of its own for every run: the docker config, the containers auth files and HOME all
// under a scratch directory, REGISTRY_AUTH_FILE unset, and a key password in SIGIL_PASSWORD and
// COSIGN_PASSWORD that login must never take for the registry's.
struct Home : sigil::test::cli::Scratch {
  Home() {
    env = {
        {"HOME", (tmp / "home").string()},           {"DOCKER_CONFIG", (tmp / "docker").string()},
        {"XDG_RUNTIME_DIR", (tmp / "run").string()}, {"XDG_CONFIG_HOME", (tmp / "config").string()},
        {"REGISTRY_AUTH_FILE", kUnsetEnv},           {"SIGIL_PASSWORD", "key-password"},
        {"COSIGN_PASSWORD", "key-password"}};
  }
  fs::path docker_config() const { return tmp / "docker" / "config.json"; }
};

std::string insecure_warning(const FakeRegistry& reg) {
  return "sigil: warning: registry " + reg.host() +
         " is insecure (--insecure-registry): its TLS certificate is not verified and plain HTTP "
         "is allowed\n";
}

const std::string kPasswordWarning =
    "sigil: warning: a password given with -p/--password is kept in shell history and shown in "
    "the process list: use --password-stdin\n";

nlohmann::json auths_of(const fs::path& file) {
  return nlohmann::json::parse(read_text_file(file))["auths"];
}

// What a terminal showed while a program ran on it, and how the program ended.
struct TerminalRun {
  int exit_code = -1;
  std::string screen;
};

// Runs argv with a new pseudo-terminal as its controlling terminal, stdin, stdout and stderr.
// For each (prompt, answer) in turn: waits until the terminal shows `prompt`, and answers
// (for a prompt that turns echo off, once echo is off, as a person would type after it went
// quiet). A run that stops answering is killed after a minute (a guard against hanging, not a
// timing check).
TerminalRun run_on_terminal(const std::vector<std::string>& argv,
                            const std::map<std::string, std::string>& env,
                            const std::vector<std::pair<std::string, std::string>>& dialogue) {
  // Everything the child needs is built before the fork: the test has threads (the fake
  // registry), so the child may only call async-signal-safe functions before it execs.
  std::map<std::string, std::string> vars;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry = *e;
    const auto eq = entry.find('=');
    if (eq != std::string::npos) vars[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  for (const auto& [k, v] : env) {
    if (v == kUnsetEnv) {
      vars.erase(k);
    } else {
      vars[k] = v;
    }
  }
  std::vector<std::string> entries;
  for (const auto& [k, v] : vars) entries.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& e : entries) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<std::string> words = argv;
  std::vector<char*> args;
  for (auto& w : words) args.push_back(w.data());
  args.push_back(nullptr);

  int master = -1;
  const pid_t pid = ::forkpty(&master, nullptr, nullptr, nullptr);
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::execve(args[0], args.data(), envp.data());
    ::_exit(127);
  }
  TerminalRun run;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(1);
  bool open = true;
  // Reads what the terminal shows for up to 50 ms; false once the program closed it.
  auto pump = [&] {
    pollfd p{master, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) return true;
    char buf[4096];
    auto n = ::read(master, buf, sizeof buf);
    if (n <= 0) return false;  // EIO: every copy of the terminal's other side is closed
    run.screen.append(buf, static_cast<std::size_t>(n));
    return true;
  };
  std::size_t seen = 0;
  for (const auto& [prompt, answer] : dialogue) {
    while (open && run.screen.find(prompt, seen) == std::string::npos &&
           std::chrono::steady_clock::now() < deadline) {
      open = pump();
    }
    seen = run.screen.find(prompt, seen);
    if (seen == std::string::npos) break;
    seen += prompt.size();
    if (prompt.find("assword") != std::string::npos) {
      termios t{};
      while (::tcgetattr(master, &t) == 0 && (t.c_lflag & ECHO) != 0 &&
             std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    }
    const std::string line = answer + "\n";
    REQUIRE(::write(master, line.data(), line.size()) == static_cast<ssize_t>(line.size()));
  }
  while (open && std::chrono::steady_clock::now() < deadline) open = pump();
  if (open) ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ::close(master);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return run;
}

}  // namespace

TEST_CASE("login with Basic auth: right credentials are stored 0600 and the next command uses them",
          "[cli][login]") {
  Home home;
  FakeRegistry reg;
  reg.require_basic("alice", "Right-pass-1");
  auto img = sigil::test::push_test_image(reg, "lab/app", "v1");
  const std::vector<std::string> digest{"sigil", "digest", "--insecure-registry", reg.host(),
                                        reg.host() + "/lab/app:v1"};
  auto anonymous = home.run(digest);
  CHECK(anonymous.exit_code == 3);  // the registry wants credentials

  reg.clear_requests();
  auto login = home.run({"sigil", "login", "--insecure-registry", reg.host(), "-u", "alice",
                         "--password-stdin", reg.host()},
                        "Right-pass-1\n");
  INFO(login.err);
  REQUIRE(login.exit_code == 0);
  CHECK(login.out.empty());
  CHECK(login.err == insecure_warning(reg) + "Logged in to " + reg.host() +
                         " as alice (saved via " + home.docker_config().string() + ")\n");
  // What the check costs: the challenge, then the same request with the credentials.
  const auto checked = reg.requests();
  REQUIRE(checked.size() == 2);
  CHECK(checked[0].path == "/v2/");
  CHECK(checked[0].authorization.empty());
  CHECK(checked[1].path == "/v2/");
  CHECK(checked[1].authorization == "Basic " + auth_field("alice", "Right-pass-1"));
  CHECK(mode_of(home.docker_config()) == 0600);
  // As docker writes it: auths[HOST].auth = base64(user:password), the newline not included.
  CHECK(auths_of(home.docker_config()) ==
        nlohmann::json{{reg.host(), {{"auth", auth_field("alice", "Right-pass-1")}}}});

  reg.clear_requests();
  auto after = home.run(digest);
  INFO(after.err);
  CHECK(after.exit_code == 0);
  CHECK(after.out == img.digest.str() + "\n");
  bool basic = false;
  for (const auto& r : reg.requests()) {
    basic = basic || r.authorization == "Basic " + auth_field("alice", "Right-pass-1");
  }
  CHECK(basic);
}

TEST_CASE("login with Bearer auth: checked through the token server, then used for tokens",
          "[cli][login]") {
  Home home;
  FakeRegistry reg;
  reg.require_bearer("bob", "Token-pass-2");
  auto img = sigil::test::push_test_image(reg, "lab/app", "v1");
  auto login = home.run({"sigil", "login", "--insecure-registry", reg.host(), "--username", "bob",
                         "--password", "Token-pass-2", reg.host()});
  INFO(login.err);
  REQUIRE(login.exit_code == 0);
  CHECK(login.err == kPasswordWarning + insecure_warning(reg) + "Logged in to " + reg.host() +
                         " as bob (saved via " + home.docker_config().string() + ")\n");
  // The challenge, one token, and the request with the token.
  REQUIRE(reg.token_requests().size() == 1);
  CHECK(reg.token_requests()[0].account == "bob");
  CHECK(reg.count("GET", "/v2/") == 2);
  CHECK(mode_of(home.docker_config()) == 0600);
  CHECK(mode_of(home.docker_config().parent_path()) == 0700);
  CHECK(auths_of(home.docker_config())[reg.host()]["auth"] == auth_field("bob", "Token-pass-2"));

  const auto tokens_before = reg.token_requests().size();
  auto after =
      home.run({"sigil", "digest", "--insecure-registry", reg.host(), reg.host() + "/lab/app:v1"});
  INFO(after.err);
  CHECK(after.exit_code == 0);
  CHECK(after.out == img.digest.str() + "\n");
  REQUIRE(reg.token_requests().size() > tokens_before);
  CHECK(reg.token_requests().back().account == "bob");
}

TEST_CASE("login with wrong credentials exits 3 naming the registry, and writes nothing",
          "[cli][login]") {
  for (const bool bearer : {false, true}) {
    INFO((bearer ? "bearer" : "basic"));
    Home home;
    FakeRegistry reg;
    if (bearer) {
      reg.require_bearer("alice", "Right-pass-1");
    } else {
      reg.require_basic("alice", "Right-pass-1");
    }
    auto wrong = home.run({"sigil", "login", "--insecure-registry", reg.host(), "-u", "alice",
                           "--password-stdin", reg.host()},
                          "Wr0ng-pass\n");
    CHECK(wrong.exit_code == 3);
    CHECK(wrong.out.empty());
    const std::string refused =
        bearer ? reg.host() + ": the token server " + reg.url() +
                     " refused the credentials configured for " + reg.host() + " (HTTP 401)"
               : reg.host() + ": authentication failed (401): " + reg.host() +
                     " refused the credentials configured for it";
    CHECK(wrong.err ==
          insecure_warning(reg) + "sigil: error: login " + reg.host() + ": " + refused + "\n");
    CHECK_FALSE(fs::exists(home.docker_config()));
    CHECK_FALSE(fs::exists(home.docker_config().parent_path()));
    // An existing file is left byte for byte, other registries' entries and all.
    fs::create_directories(home.docker_config().parent_path());
    const std::string before = R"({"auths":{"other.example":{"auth":")" + auth_field("o", "p") +
                               R"("}},"psFormat":"table"})";
    write_text_file(home.docker_config(), before);
    auto again = home.run({"sigil", "login", "--insecure-registry", reg.host(), "-u", "mallory",
                           "-p", "Right-pass-1", reg.host()});
    CHECK(again.exit_code == 3);
    CHECK(read_text_file(home.docker_config()) == before);
  }
}

TEST_CASE("login --password-stdin: all of standard input less one line ending, bounded",
          "[cli][login]") {
  Home home;
  FakeRegistry reg;
  reg.require_basic("ci", "tok\ren");  // a password may hold a CR; only the final one goes
  for (const std::string input : {"tok\ren", "tok\ren\n", "tok\ren\r\n"}) {
    INFO(nlohmann::json(input).dump());
    auto r = home.run({"sigil", "login", "--insecure-registry", reg.host(), "-u", "ci",
                       "--password-stdin", reg.host(), "-o", "json"},
                      input);
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(nlohmann::json::parse(r.out) ==
          nlohmann::json{{"schemaVersion", 1},
                         {"registry", reg.host()},
                         {"username", "ci"},
                         {"authFile", home.docker_config().string()}});
    CHECK(auths_of(home.docker_config())[reg.host()]["auth"] == auth_field("ci", "tok\ren"));
  }

  reg.clear_requests();
  struct Refused {
    std::vector<std::string> args;
    std::string stdin_data;
    int exit_code;
    std::string err;
  };
  const std::string host = reg.host();
  const std::vector<Refused> refused{
      {{"-u", "ci", "--password-stdin"},
       "",
       2,
       "sigil: error: login " + host + ": the password read from standard input is empty\n"},
      {{"-u", "ci", "--password-stdin"},
       "\n",
       2,
       "sigil: error: login " + host + ": the password read from standard input is empty\n"},
      {{"-u", "ci", "-p", ""},
       "",
       2,
       kPasswordWarning + "sigil: error: login " + host +
           ": the password given with --password "
           "is empty\n"},
      {{"-u", "ci", "-p", "x", "--password-stdin"},
       "x",
       2,
       "sigil: error: --password excludes --password-stdin (see sigil login --help)\n"},
      {{"--password-stdin"},
       "tok",
       2,
       "sigil: error: login " + host +
           ": no username: pass -u/--username (there is no terminal to ask on)\n"},
      // SIGIL_PASSWORD and COSIGN_PASSWORD are set: they are a key's password, not the registry's.
      {{"-u", "ci"},
       "",
       2,
       "sigil: error: login " + host +
           ": no password: pass --password-stdin (or -p), or run on a terminal\n"},
      {{"-u", "ci", "--password-stdin"},
       std::string(trust::limits::kMaxRegistryPasswordBytes + 1, 'x'),
       3,
       "sigil: error: standard input: " +
           std::to_string(trust::limits::kMaxRegistryPasswordBytes + 1) +
           " bytes (or more) is over the limit of " +
           std::to_string(trust::limits::kMaxRegistryPasswordBytes) + "\n"},
  };
  for (const auto& r : refused) {
    std::vector<std::string> args{"sigil", "login"};
    args.insert(args.end(), r.args.begin(), r.args.end());
    args.insert(args.end(), {"--insecure-registry", host, host});
    auto got = home.run(args, r.stdin_data);
    INFO(got.err);
    CHECK(got.exit_code == r.exit_code);
    CHECK(got.err == r.err);
    CHECK(got.out.empty());
  }
  CHECK(reg.requests().empty());  // every refusal came before the registry was asked
  // The registry as typed is quoted cut in these messages (it is not checked yet).
  const std::string long_name(300, 'r');
  auto cut = home.run({"sigil", "login", "--password-stdin", long_name}, "tok");
  CHECK(cut.exit_code == 2);
  CHECK(cut.err == "sigil: error: login " + std::string(100, 'r') +
                       "…: no username: pass -u/--username (there is no terminal to ask on)\n");

  // At the bound (a line ending counts) the password is read whole and goes to the registry,
  // which refuses it.
  auto at = home.run(
      {"sigil", "login", "-u", "ci", "--password-stdin", "--insecure-registry", host, host},
      std::string(trust::limits::kMaxRegistryPasswordBytes, 'x'));
  CHECK(at.exit_code == 3);
  CHECK_THAT(at.err, Catch::Contains("sigil: error: login " + host + ": "));
  CHECK_FALSE(reg.requests().empty());
}

TEST_CASE("login asks for the username and password on the terminal, the password unechoed",
          "[cli][login]") {
  Home home;
  FakeRegistry reg;
  reg.require_basic("alice", "Typed-pass-3");
  auto env = home.env;
  auto run =
      run_on_terminal({kBin + "/sigil", "login", "--insecure-registry", reg.host(), reg.host()},
                      env, {{"Username: ", "alice"}, {"Password: ", "Typed-pass-3"}});
  INFO(run.screen);
  CHECK(run.exit_code == 0);
  CHECK_THAT(run.screen, Catch::Contains("Username: alice") &&
                             Catch::Contains("Logged in to " + reg.host() + " as alice") &&
                             !Catch::Contains("Typed-pass-3"));
  CHECK(auths_of(home.docker_config())[reg.host()]["auth"] == auth_field("alice", "Typed-pass-3"));
  // -u given: only the password is asked.
  auto password_only =
      run_on_terminal({kBin + "/sigil", "login", "-u", "alice", "--insecure-registry", reg.host(),
                       reg.host(), "-o", "json"},
                      env, {{"Password: ", "Typed-pass-3"}});
  INFO(password_only.screen);
  CHECK(password_only.exit_code == 0);
  CHECK_THAT(password_only.screen, !Catch::Contains("Username:"));
}

TEST_CASE("login and logout use --authfile, else REGISTRY_AUTH_FILE, and leave the docker config",
          "[cli][login]") {
  Home home;
  FakeRegistry reg;
  reg.require_basic("alice", "Right-pass-1");
  auto img = sigil::test::push_test_image(reg, "lab/app", "v1");
  const auto named = home.tmp / "podman" / "auth.json";  // neither it nor its directory exist
  auto login = home.run({"sigil", "login", "--authfile", named.string(), "--insecure-registry",
                         reg.host(), "-u", "alice", "--password-stdin", reg.host()},
                        "Right-pass-1");
  INFO(login.err);
  REQUIRE(login.exit_code == 0);
  CHECK_THAT(login.err, Catch::EndsWith("(saved via " + named.string() + ")\n"));
  CHECK(mode_of(named) == 0600);
  CHECK(auths_of(named)[reg.host()]["auth"] == auth_field("alice", "Right-pass-1"));
  CHECK_FALSE(fs::exists(home.docker_config()));
  auto digest = home.run({"sigil", "digest", "--authfile", named.string(), "--insecure-registry",
                          reg.host(), reg.host() + "/lab/app:v1"});
  CHECK(digest.exit_code == 0);
  CHECK(digest.out == img.digest.str() + "\n");

  const auto ci = home.tmp / "ci-auth.json";
  const std::map<std::string, std::string> var{{"REGISTRY_AUTH_FILE", ci.string()}};
  REQUIRE(home.run({"sigil", "login", "--insecure-registry", reg.host(), "-u", "alice",
                    "--password-stdin", reg.host()},
                   "Right-pass-1", var)
              .exit_code == 0);
  CHECK(mode_of(ci) == 0600);
  CHECK_FALSE(fs::exists(home.docker_config()));
  auto with_var = home.run(
      {"sigil", "digest", "--insecure-registry", reg.host(), reg.host() + "/lab/app:v1"}, "", var);
  CHECK(with_var.exit_code == 0);

  // logout edits the same file: --authfile first, then the variable.
  auto out_named = home.run({"sigil", "logout", "--authfile", named.string(), reg.host()}, "", var);
  CHECK(out_named.exit_code == 0);
  CHECK(out_named.err ==
        "Removed the credentials for " + reg.host() + " (from " + named.string() + ")\n");
  CHECK(auths_of(named).empty());
  CHECK(auths_of(ci).contains(reg.host()));
  auto out_var = home.run({"sigil", "logout", reg.host(), "-o", "json"}, "", var);
  CHECK(out_var.exit_code == 0);
  CHECK(nlohmann::json::parse(out_var.out) == nlohmann::json{{"schemaVersion", 1},
                                                             {"registry", reg.host()},
                                                             {"authFile", ci.string()},
                                                             {"removed", true}});
  CHECK(auths_of(ci).empty());
  CHECK(home.run({"sigil", "digest", "--insecure-registry", reg.host(), reg.host() + "/lab/app:v1"},
                 "", var)
            .exit_code == 3);
}

TEST_CASE("logout removes the registry's entry in every spelling, and a second logout finds none",
          "[cli][login]") {
  Home home;
  fs::create_directories(home.docker_config().parent_path());
  write_text_file(home.docker_config(), R"({"auths":{"https://index.docker.io/v1/":{"auth":")" +
                                            auth_field("d", "p") +
                                            R"("},"reg.example:5000":{"auth":")" +
                                            auth_field("r", "p") + R"("}},"psFormat":"table"})");
  auto first = home.run({"sigil", "logout", "docker.io"});
  CHECK(first.exit_code == 0);
  CHECK(first.out.empty());
  CHECK(first.err ==
        "Removed the credentials for docker.io (from " + home.docker_config().string() + ")\n");
  auto j = nlohmann::json::parse(read_text_file(home.docker_config()));
  CHECK(j == nlohmann::json{{"auths", {{"reg.example:5000", {{"auth", auth_field("r", "p")}}}}},
                            {"psFormat", "table"}});
  CHECK(mode_of(home.docker_config()) == 0600);

  auto second = home.run({"sigil", "logout", "docker.io"});
  CHECK(second.exit_code == 0);
  CHECK(second.err == "Not logged in to docker.io: " + home.docker_config().string() +
                          " has no credentials for it\n");
  auto json = home.run({"sigil", "logout", "--output", "json", "docker.io"});
  CHECK(json.exit_code == 0);
  CHECK(nlohmann::json::parse(json.out) ==
        nlohmann::json{{"schemaVersion", 1},
                       {"registry", "docker.io"},
                       {"authFile", home.docker_config().string()},
                       {"removed", false}});
  CHECK(read_text_file(home.docker_config()) == j.dump(1, '\t') + "\n");

  auto bad = home.run({"sigil", "logout", "https://reg.example:5000/"});
  CHECK(bad.exit_code == 2);
  CHECK(bad.err ==
        "sigil: error: logout: 'https://reg.example:5000/' is not a registry (expected HOST or "
        "HOST:PORT)\n");
}

TEST_CASE("sigil-verify has no login or logout: nodes get credentials from files", "[cli][login]") {
  Home home;
  for (const std::string command : {"login", "logout"}) {
    auto r = home.run({"sigil-verify", command, "reg.example"});
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::StartsWith("sigil-verify: error: unknown command '" + command + "'"));
  }
}
