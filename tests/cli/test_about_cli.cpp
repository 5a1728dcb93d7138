// sigil version, man and completion (both executables): what they print, that the build
// generated the same files from them, and that `cmake --install` puts those where the man and
// shell tools look.
#include <curl/curl.h>
#include <openssl/crypto.h>

#include <catch2/catch.hpp>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>

#include "support/process.h"

namespace fs = std::filesystem;
using sigil::test::read_text_file;
using sigil::test::run_process;
using sigil::test::TempDir;

namespace {

const std::string kBin = SIGIL_BIN_DIR;
const fs::path kShare = fs::path(SIGIL_BIN_DIR).parent_path() / "share";

// The commands `PROGRAM --help` lists (the first word of each indented line under a heading
// that names commands).
std::vector<std::string> listed_commands(const std::string& help) {
  std::vector<std::string> out;
  bool in_commands = false;
  std::istringstream lines(help);
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty() && line[0] != ' ') {
      in_commands = line == "Commands:" || line == "About this program:";
      continue;
    }
    if (in_commands && line.size() > 2) out.push_back(line.substr(2, line.find(' ', 2) - 2));
  }
  return out;
}

// The version in the top-level CMakeLists.txt: project(sigil VERSION x.y.z …).
std::string project_version() {
  static const std::regex version(R"(project\(sigil VERSION ([0-9.]+))");
  const auto text = read_text_file(std::string(SIGIL_SOURCE_DIR) + "/CMakeLists.txt");
  std::smatch m;
  REQUIRE(std::regex_search(text, m, version));
  return m[1].str();
}

// Runs bash completion for `words` (the last one being completed) and returns the candidates.
std::string complete(const std::string& program, const std::vector<std::string>& words) {
  std::string array;
  for (const auto& w : words) array += " '" + w + "'";
  const std::string script =
      "source '" + (kShare / "bash-completion/completions" / program).string() + "'; COMP_WORDS=(" +
      array + "); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); " + "_" +
      (program == "sigil" ? "sigil" : "sigil_verify") + "; echo \"${COMPREPLY[*]}\"";
  auto r = run_process({"/bin/bash", "-c", script});
  REQUIRE(r.exit_code == 0);
  return r.out;
}

}  // namespace

TEST_CASE("sigil version and --version print the version, commit, build date and libraries",
          "[cli][about]") {
  for (const std::string program : {"sigil", "sigil-verify"}) {
    INFO(program);
    auto v = run_process({kBin + "/" + program, "version"});
    REQUIRE(v.exit_code == 0);
    CHECK(v.err.empty());
    CHECK(v.out.rfind(program + " " + project_version() + "\n", 0) == 0);
    CHECK_THAT(v.out, Catch::Contains(
                          "\n  OpenSSL:  " + std::string(OpenSSL_version(OPENSSL_VERSION)) + "\n"));
    CHECK_THAT(v.out, Catch::Contains("\n  libcurl:  " LIBCURL_VERSION " (built against)\n"));
    CHECK_THAT(v.out, Catch::Contains("\n  compiler: ") && Catch::Contains("\n  built:    20"));
    auto git =
        run_process({"/usr/bin/git", "-C", SIGIL_SOURCE_DIR, "rev-parse", "--short=12", "HEAD"});
    if (git.exit_code == 0) {
      CHECK_THAT(v.out, Catch::Contains("\n  commit:   " + git.out.substr(0, 12)));
    }
    auto flag = run_process({kBin + "/" + program, "--version"});
    CHECK(flag.exit_code == 0);
    CHECK(flag.out == v.out);

    auto json = run_process({kBin + "/" + program, "version", "--output", "json"});
    REQUIRE(json.exit_code == 0);
    auto j = nlohmann::json::parse(json.out);
    CHECK(j["schemaVersion"] == 1);
    CHECK(j["program"] == program);
    CHECK(j["version"] == project_version());
    CHECK(j["openssl"] == OpenSSL_version(OPENSSL_VERSION));
    CHECK(j["libcurl"] == LIBCURL_VERSION);
    for (const auto* key : {"gitCommit", "buildDate", "compiler"}) {
      CHECK(j[key].is_string());
      CHECK_FALSE(j[key].get<std::string>().empty());
    }
  }
}

TEST_CASE("sigil man documents every command, and is the page the build installs", "[cli][about]") {
  for (const std::string program : {"sigil", "sigil-verify"}) {
    INFO(program);
    auto man = run_process({kBin + "/" + program, "man"});
    REQUIRE(man.exit_code == 0);
    CHECK_THAT(man.out, Catch::Contains(".TH "));
    CHECK_THAT(man.out, Catch::Contains("\n.SH EXIT STATUS\n"));
    auto help = run_process({kBin + "/" + program, "--help"});
    const auto commands = listed_commands(help.out);
    CHECK(commands.size() >= 6);
    for (const auto& c : commands) {
      std::string title;  // as roff spells it: '-' is \-
      for (char ch : program + " " + c)
        title += ch == '-' ? std::string("\\-") : std::string(1, ch);
      CHECK_THAT(man.out, Catch::Contains(".SS \"" + title + "\"\n"));
    }
    CHECK(read_text_file(kShare / "man/man1" / (program + ".1")) == man.out);
    if (fs::exists("/usr/bin/groff")) {
      TempDir tmp;
      sigil::test::write_text_file(tmp / "page.1", man.out);
      auto groff =
          run_process({"/usr/bin/groff", "-man", "-Tutf8", "-ww", "-z", (tmp / "page.1").string()});
      CHECK(groff.exit_code == 0);
      CHECK(groff.err.empty());
    }
  }
  auto sigil = run_process({kBin + "/sigil", "man"});
  CHECK_THAT(sigil.out, Catch::Contains(".SS \"sigil key generate\""));
  CHECK_THAT(sigil.out, Catch::Contains("\\fB\\-\\-output\\-prefix\\fR \\fIPREFIX\\fR"));
}

TEST_CASE("sigil completion bash completes commands, flags, choices and is what the build installs",
          "[cli][about]") {
  for (const std::string program : {"sigil", "sigil-verify"}) {
    INFO(program);
    auto bash = run_process({kBin + "/" + program, "completion", "bash"});
    REQUIRE(bash.exit_code == 0);
    CHECK(read_text_file(kShare / "bash-completion/completions" / program) == bash.out);
    auto zsh = run_process({kBin + "/" + program, "completion", "zsh"});
    REQUIRE(zsh.exit_code == 0);
    CHECK(zsh.out.rfind("#compdef " + program + "\n", 0) == 0);
    CHECK(read_text_file(kShare / "zsh/vendor-completions" / ("_" + program)) == zsh.out);
    CHECK(run_process(
              {"/bin/bash", "-n", (kShare / "bash-completion/completions" / program).string()})
              .exit_code == 0);
  }
  CHECK(complete("sigil", {"sigil", "ver"}) ==
        "verify verify-attestation verify-blob verify-blob-attestation version\n");
  CHECK(complete("sigil", {"sigil", "key", ""}) == "generate public import fingerprint\n");
  CHECK(complete("sigil", {"sigil", "verify", "--ke"}) == "--key\n");
  CHECK(complete("sigil", {"sigil", "verify", "--key", "k.pub", "-o", ""}) == "text json cosign\n");
  CHECK(complete("sigil", {"sigil", "key", "generate", "--type", "ed"}) == "ed25519\n");
  CHECK(complete("sigil", {"sigil", "triangulate", "--type", "s"}) == "signature sbom\n");
  CHECK(complete("sigil-verify", {"sigil-verify", ""}) ==
        "verify verify-attestation verify-blob verify-blob-attestation digest triangulate tree "
        "policy serve containerd-verify docker-authz version man "
        "completion\n");
  auto fish = run_process({kBin + "/sigil", "completion", "fish"});
  CHECK(fish.exit_code == 2);
  CHECK(fish.err ==
        "sigil: error: SHELL: 'fish' is not one of bash, zsh (see sigil completion --help)\n");
}

TEST_CASE("cmake --install puts the man pages and completions where man, bash and zsh look",
          "[cli][about]") {
  if (!fs::exists("/usr/bin/cmake")) {
    WARN("SKIP install: /usr/bin/cmake not found");
    return;
  }
  TempDir prefix;
  auto install = run_process({"/usr/bin/cmake", "--install", fs::path(kBin).parent_path().string(),
                              "--prefix", prefix.path().string()});
  INFO(install.out << install.err);
  REQUIRE(install.exit_code == 0);
  for (const std::string program : {"sigil", "sigil-verify"}) {
    CHECK(read_text_file(prefix / "share/man/man1" / (program + ".1")) ==
          read_text_file(kShare / "man/man1" / (program + ".1")));
    CHECK(fs::exists(prefix / "share/bash-completion/completions" / program));
    CHECK(fs::exists(prefix / "share/zsh/vendor-completions" / ("_" + program)));
    CHECK(fs::exists(prefix / "bin" / program));
  }
}
