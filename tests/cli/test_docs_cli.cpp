// docs/cli.md and the README cannot drift from the tool: every `$ sigil …` example in
// docs/cli.md that needs no network runs, in order, with the exit code it documents; every flag
// that a `sigil …` line in the docs' code names exists in that command's --help; and the
// commands docs/cli.md says sigil-verify has are the ones it has.
#include <catch2/catch.hpp>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "support/fake_registry.h"
#include "support/process.h"

namespace fs = std::filesystem;
using sigil::test::kUnsetEnv;
using sigil::test::read_text_file;
using sigil::test::run_process;
using sigil::test::TempDir;

namespace {

const std::string kBin = SIGIL_BIN_DIR;
const std::string kSource = SIGIL_SOURCE_DIR;

// The lines of a Markdown file's code: indented by 4 spaces, or inside ``` fences; without the
// indentation.
std::vector<std::string> code_lines(const std::string& markdown) {
  std::vector<std::string> out;
  bool fenced = false;
  std::istringstream in(markdown);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("```", 0) == 0) {
      fenced = !fenced;
      continue;
    }
    if (fenced) {
      out.push_back(line);
    } else if (line.rfind("    ", 0) == 0) {
      out.push_back(line.substr(line.find_first_not_of(' ')));
    }
  }
  return out;
}

bool names_the_network(const std::string& line) {
  static const std::regex host(R"(registry\.(example|internal)|example\.(com|org))");
  return std::regex_search(line, host);
}

// "sigil key generate --type …" -> {"sigil", "key", "generate"}: the program and the words
// naming a command, as far as `known` (the commands each --help lists) goes.
std::vector<std::string> command_of(const std::string& line) {
  std::istringstream words(line);
  std::vector<std::string> out;
  std::string w;
  words >> w;
  out.push_back(w);
  static const std::set<std::string> groups{"key", "download", "policy"};
  static const std::set<std::string> commands{
      "key",         "sign",         "verify",      "digest",
      "triangulate", "tree",         "copy",        "login",
      "logout",      "version",      "man",         "completion",
      "generate",    "public",       "import",      "fingerprint",
      "sign-blob",   "verify-blob",  "attest-blob", "verify-blob-attestation",
      "download",    "sbom",         "attestation", "verify-attestation",
      "attest",      "policy",       "validate",    "explain",
      "export",      "docker-authz", "check",       "serve"};
  static const std::set<std::string> verify_only{"containerd-verify"};  // sigil-verify's
  while (words >> w && (commands.count(w) != 0 || verify_only.count(w) != 0)) {
    out.push_back(w);
    if (groups.count(w) == 0) break;
  }
  return out;
}

std::vector<std::string> flags_in(const std::string& line) {
  static const std::regex flag(R"((^|[\s\[|(])(--?[a-z][a-z0-9-]*))");
  std::vector<std::string> out;
  for (auto it = std::sregex_iterator(line.begin(), line.end(), flag); it != std::sregex_iterator();
       ++it) {
    out.push_back((*it)[2].str());
  }
  return out;
}

// Every flag a `sigil …` or `sigil-verify …` line in `lines` names is in its command's --help.
void check_documented_flags(const std::vector<std::string>& lines, const std::string& doc) {
  std::size_t checked = 0;
  for (auto line : lines) {
    if (line.rfind("$ ", 0) == 0) line = line.substr(2);
    if (line.rfind("sigil ", 0) != 0 && line.rfind("sigil-verify ", 0) != 0) continue;
    line = line.substr(0, line.find(" #"));  // a trailing comment is no part of the command
    auto words = command_of(line);
    std::vector<std::string> argv{kBin + "/" + words[0]};
    argv.insert(argv.end(), words.begin() + 1, words.end());
    argv.push_back("--help");
    auto help = run_process(argv);
    INFO(doc << ": " << line);
    REQUIRE(help.exit_code == 0);
    // The flags --help spells out ("  -o,--output text|json  …").
    std::set<std::string> known;
    static const std::regex spelled(R"((^|\n) +((-[a-z],)?--?[a-z][a-z0-9-]*))");
    for (auto it = std::sregex_iterator(help.out.begin(), help.out.end(), spelled);
         it != std::sregex_iterator(); ++it) {
      const auto names = (*it)[2].str();
      const auto comma = names.find(',');
      if (comma != std::string::npos) {
        known.insert(names.substr(0, comma));
        known.insert(names.substr(comma + 1));
      } else {
        known.insert(names);
      }
    }
    for (const auto& f : flags_in(line)) {
      INFO(f);
      CHECK(known.count(f) == 1);
      ++checked;
    }
  }
  CHECK(checked > 10);
}

}  // namespace

TEST_CASE("every example in docs/cli.md that needs no network runs with its documented exit code",
          "[cli][docs]") {
  TempDir tmp;
  fs::copy(kSource + "/tests/data/sample-layout", tmp / "img", fs::copy_options::recursive);
  const auto lines = code_lines(read_text_file(kSource + "/docs/cli.md"));
  static const std::regex expected_exit(R"(#\s*exit (\d+)\s*$)");
  std::size_t ran = 0;
  for (const auto& line : lines) {
    if (line.rfind("$ sigil ", 0) != 0 && line.rfind("$ sigil-verify ", 0) != 0) continue;
    if (names_the_network(line)) continue;
    const std::string command = line.substr(2);
    int expect = 0;
    std::smatch m;
    if (std::regex_search(command, m, expected_exit)) expect = std::stoi(m[1].str());
    INFO(command);
    auto r = run_process({"/bin/sh", "-c", command},
                         {{"PATH", kBin + ":/usr/bin:/bin"},
                          {"SIGIL_PASSWORD", "demo-password"},
                          {"COSIGN_PASSWORD", kUnsetEnv},
                          {"DOCKER_CONFIG", (tmp / "no-docker").string()}},
                         "", {.cwd = tmp.path()});
    INFO(r.err);
    CHECK(r.exit_code == expect);
    ++ran;
  }
  CHECK(ran >= 20);
}

TEST_CASE("every flag docs/cli.md and the README name exists in that command's --help",
          "[cli][docs]") {
  check_documented_flags(code_lines(read_text_file(kSource + "/docs/cli.md")), "docs/cli.md");
  check_documented_flags(code_lines(read_text_file(kSource + "/README.md")), "README.md");
}

TEST_CASE("docs/cli.md lists the commands sigil-verify has", "[cli][docs]") {
  const auto doc = read_text_file(kSource + "/docs/cli.md");
  const std::string lead = "- `sigil-verify`: ";
  const auto at = doc.find(lead);
  REQUIRE(at != std::string::npos);
  const auto listed = doc.substr(at + lead.size(), doc.find(';', at) - at - lead.size());
  std::set<std::string> documented;
  static const std::regex name("`([a-z-]+)`");
  for (auto it = std::sregex_iterator(listed.begin(), listed.end(), name);
       it != std::sregex_iterator(); ++it) {
    documented.insert((*it)[1].str());
  }
  auto help = run_process({kBin + "/sigil-verify", "--help"});
  std::set<std::string> actual;
  std::istringstream lines(help.out);
  bool in_commands = false;
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty() && line[0] != ' ') {
      in_commands = line == "Commands:" || line == "About this program:";
      continue;
    }
    if (in_commands && line.size() > 2) actual.insert(line.substr(2, line.find(' ', 2) - 2));
  }
  CHECK(documented == actual);
}

namespace {

// The first ```json block after `heading` in docs/formats.md, parsed.
nlohmann::json documented_json(const std::string& doc, const std::string& heading) {
  const auto at = doc.find("\n### " + heading + "\n");
  REQUIRE(at != std::string::npos);
  const auto open = doc.find("```json\n", at);
  REQUIRE(open != std::string::npos);
  const auto body = open + 8;
  return nlohmann::json::parse(doc.substr(body, doc.find("```", body) - body));
}

std::set<std::string> member_names(const nlohmann::json& j) {
  std::set<std::string> out;
  for (const auto& [k, v] : j.items()) out.insert(k);
  return out;
}

}  // namespace

TEST_CASE("the JSON shapes in docs/formats.md have the members each command prints",
          "[cli][docs]") {
  TempDir tmp;
  fs::copy(kSource + "/tests/data/sample-layout", tmp / "img", fs::copy_options::recursive);
  const auto doc = read_text_file(kSource + "/docs/formats.md");
  const std::string key = kSource + "/tests/data/keys/test-ecdsa-p256.key";
  const std::string pub = kSource + "/tests/data/keys/test-ecdsa-p256.pub";
  const std::string pw = kSource + "/tests/data/keys/test-passphrase.txt";
  sigil::test::FakeRegistry reg;
  reg.require_basic("alice", "secret");
  struct Shape {
    std::string heading;
    std::vector<std::string> args;
    std::string element;  // compare the first element of this array member too
  };
  const std::vector<Shape> shapes{
      {"`sigil key generate --output json`, `sigil key import --output json`",
       {"key", "generate", "--output-prefix", "k"},
       ""},
      {"`sigil key public --output json`", {"key", "public", "--key", pub}, ""},
      {"`sigil key fingerprint --output json`", {"key", "fingerprint", pub}, ""},
      {"`sigil attest-blob --output json`",
       {"attest-blob", "--key", key, "--password-file", pw, "--predicate", "img/oci-layout",
        "--output-signature", "b.att", "img/oci-layout"},
       ""},
      {"`sigil sign --output json`",
       {"sign", "--key", key, "--password-file", pw, "oci:img:latest"},
       "signatures"},
      {"`sigil verify --output json`",
       {"verify", "--key", pub, "--all", "oci:img:latest"},
       "signatures"},
      {"`sigil sign-blob --output json`",
       {"sign-blob", "--key", key, "--password-file", pw, "--output-signature", "b.sig",
        "img/oci-layout"},
       ""},
      {"`sigil verify-blob --output json`, `sigil verify-blob-attestation --output json`",
       {"verify-blob-attestation", "--key", pub, "--type", "custom", "--signature", "b.att",
        "img/oci-layout"},
       ""},
      {"`sigil digest --output json`", {"digest", "oci:img:latest"}, ""},
      {"`sigil triangulate --output json`", {"triangulate", "oci:img:latest"}, ""},
      {"`sigil tree --output json`", {"tree", "oci:img:latest"}, "attachments"},
      {"`sigil copy --output json`", {"copy", "oci:img:latest", "oci:backup:latest"}, ""},
      {"`sigil login --output json`",
       {"login", "-u", "alice", "-p", "secret", "--insecure-registry", reg.host(), "--authfile",
        "auth.json", reg.host()},
       ""},
      {"`sigil logout --output json`", {"logout", "--authfile", "auth.json", reg.host()}, ""},
      {"`sigil version --output json`", {"version"}, ""},
      {"`sigil policy validate --output json`",
       {"policy", "validate", kSource + "/tests/data/policy/example.yaml"},
       "rules"},
  };
  for (const auto& s : shapes) {
    INFO(s.heading);
    std::vector<std::string> argv{kBin + "/sigil"};
    argv.insert(argv.end(), s.args.begin(), s.args.end());
    argv.insert(argv.end(), {"--output", "json"});
    auto r = run_process(argv, {{"SIGIL_PASSWORD", "pw"}, {"COSIGN_PASSWORD", kUnsetEnv}}, "",
                         {.cwd = tmp.path()});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    const auto actual = nlohmann::json::parse(r.out);
    const auto documented = documented_json(doc, s.heading);
    CHECK(member_names(actual) == member_names(documented));
    if (!s.element.empty()) {
      CHECK(member_names(actual[s.element][0]) == member_names(documented[s.element][0]));
    }
  }
}
