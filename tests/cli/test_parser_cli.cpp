// The command line as people type it, over every command of both executables: flags before,
// after and between the arguments, `--`, repeatable flags that never take the image, typos of
// flags and commands named with a suggestion, exit 2 for every usage error, and help without
// parser internals.
#include <catch2/catch.hpp>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/cli_fixture.h"
#include "support/fake_registry.h"
#include "support/process.h"

namespace fs = std::filesystem;
using sigil::test::kUnsetEnv;
using sigil::test::RunResult;
using sigil::test::TempDir;
using sigil::test::cli::kBin;
using sigil::test::cli::kData;
using sigil::test::cli::kKey;
using sigil::test::cli::kOtherPub;
using sigil::test::cli::kPasswordFile;
using sigil::test::cli::kPub;

namespace {

// A scratch directory holding a signed copy of the sample layout ("img") and an unencrypted
// private key ("plain.pem"); commands run there.
struct Workspace {
  TempDir dir;
  Workspace() {
    fs::copy(kData + "/sample-layout", dir / "img", fs::copy_options::recursive);
    auto s = run({"sigil", "sign", "--key", kKey, "--password-file", kPasswordFile, "-a", "env=ci",
                  "oci:img:latest"});
    REQUIRE(s.exit_code == 0);
    auto pem =
        run({"sigil", "key", "generate", "--type", "ed25519", "--output-prefix", "gen"}, "pw");
    REQUIRE(pem.exit_code == 0);
    // A release file, its detached signature, bundle and attestation.
    sigil::test::write_text_file(dir / "release.txt", "release 1.0\n");
    sigil::test::write_text_file(
        dir / "pred.json",
        R"({"buildDefinition":{"buildType":"https://example.com/b","externalParameters":{}},)"
        R"("runDetails":{"builder":{"id":"https://example.com/builder"}}})");
    REQUIRE(run({"sigil", "sign-blob", "--key", kKey, "--password-file", kPasswordFile,
                 "--output-signature", "release.sig", "--bundle", "release.bundle", "release.txt"})
                .exit_code == 0);
    REQUIRE(run({"sigil", "attest-blob", "--key", kKey, "--password-file", kPasswordFile,
                 "--predicate", "pred.json", "--type", "slsaprovenance", "--output-signature",
                 "release.att", "release.txt"})
                .exit_code == 0);
  }
  RunResult run(std::vector<std::string> args, const std::string& password = kUnsetEnv) const {
    return sigil::test::cli::run_tool(
        std::move(args), {{"SIGIL_PASSWORD", password}, {"COSIGN_PASSWORD", kUnsetEnv}}, "",
        dir.path());
  }
};

// One command: the words that name it, its flags (each with its value, if any) and its
// positional arguments. Every ordering of these must mean the same.
struct Case {
  std::vector<std::string> command;             // {"sigil", "verify"}
  std::vector<std::vector<std::string>> flags;  // {{"--key", "k.pub"}, {"-o", "json"}}
  std::vector<std::string> positionals;         // {"oci:img:latest"}
  int exit_code = 0;
  bool deterministic = true;  // stdout is the same on every run
};

// `registry`: HOST:PORT of a registry that takes alice's password "secret" (login checks it).
std::vector<Case> cases(const std::string& registry) {
  return {
      {{"sigil", "key", "generate"},
       {{"--type", "ed25519"}, {"--output-prefix", "k"}, {"--force"}, {"-o", "json"}},
       {},
       0,
       false},
      {{"sigil", "key", "public"}, {{"--key", kPub}, {"-o", "json"}}, {}, 0, true},
      {{"sigil", "key", "import"},
       {{"--output-prefix", "imported"}, {"--force"}, {"--kdf", "standard"}},
       {"plain.pem"},
       0,
       true},
      {{"sigil", "key", "fingerprint"}, {{"-o", "json"}}, {kPub}, 0, true},
      {{"sigil", "sign"},
       {{"--key", kKey}, {"--password-file", kPasswordFile}, {"-a", "env=ci"}, {"-o", "json"}},
       {"oci:img:latest"},
       0,
       false},
      {{"sigil", "verify"},
       {{"--key", kOtherPub}, {"--key", kPub}, {"-a", "env=ci"}, {"-o", "json"}},
       {"oci:img:latest"},
       0,
       false},
      {{"sigil-verify", "verify"},
       {{"--key", kPub}, {"--annotation=env=ci"}, {"--output", "cosign"}},
       {"oci:img:latest"},
       0,
       false},
      {{"sigil", "verify"}, {{"--key", kOtherPub}, {"-o", "json"}}, {"oci:img:latest"}, 1, false},
      {{"sigil", "sign-blob"},
       {{"--key", kKey},
        {"--password-file", kPasswordFile},
        {"--output-signature", "o.sig"},
        {"-o", "json"}},
       {"release.txt"},
       0,
       false},
      {{"sigil", "verify-blob"},
       {{"--key", kPub}, {"--signature", "release.sig"}, {"-o", "json"}},
       {"release.txt"},
       0,
       true},
      {{"sigil-verify", "verify-blob"},
       {{"--key", kOtherPub}, {"--key", kPub}, {"--bundle", "release.bundle"}},
       {"release.txt"},
       0,
       true},
      {{"sigil", "attest-blob"},
       {{"--key", kKey},
        {"--password-file", kPasswordFile},
        {"--predicate", "pred.json"},
        {"--type", "slsaprovenance"},
        {"-o", "json"}},
       {"release.txt"},
       0,
       false},
      {{"sigil-verify", "verify-blob-attestation"},
       {{"--key", kPub},
        {"--type", "slsaprovenance"},
        {"--signature", "release.att"},
        {"-o", "json"}},
       {"release.txt"},
       0,
       true},
      {{"sigil", "verify-blob-attestation"},
       {{"--key", kPub}, {"--type", "custom"}, {"--signature", "release.att"}},
       {"release.txt"},
       1,
       true},
      {{"sigil", "digest"},
       {{"--layers"}, {"-o", "json"}, {"--threads", "1"}},
       {"oci:img:latest"},
       0,
       true},
      {{"sigil-verify", "digest"}, {{"-q"}, {"-o=json"}}, {"oci:img:latest"}, 0, true},
      {{"sigil", "triangulate"}, {{"--type", "sbom"}, {"-o", "json"}}, {"oci:img:latest"}, 0, true},
      {{"sigil-verify", "tree"},
       {{"-o", "json"}, {"--timeout", "30s"}},
       {"oci:img:latest"},
       0,
       true},
      {{"sigil", "copy"},
       {{"--no-attachments"}, {"--parallel", "1"}, {"-o", "json"}},
       {"oci:img:latest", "oci:copy:latest"},
       0,
       false},
      {{"sigil", "login"},
       {{"--username", "alice"},
        {"-p", "secret"},
        {"--authfile", "auth.json"},
        {"--insecure-registry", registry},
        {"-o", "json"}},
       {registry},
       0,
       true},
      // The first ordering removes the entry, the others find none.
      {{"sigil", "logout"}, {{"--authfile", "auth.json"}, {"-o", "json"}}, {registry}, 0, false},
      {{"sigil", "version"}, {{"-o", "json"}}, {}, 0, true},
      {{"sigil-verify", "completion"}, {}, {"zsh"}, 0, true},
  };
}

std::vector<std::string> flatten(const std::vector<std::vector<std::string>>& groups) {
  std::vector<std::string> out;
  for (const auto& g : groups) out.insert(out.end(), g.begin(), g.end());
  return out;
}

// Orderings of a case's words: flags first, arguments first, a flag between, "--" before the
// arguments, and (with two arguments) the flags between them.
std::vector<std::vector<std::string>> orderings(const Case& c) {
  std::vector<std::vector<std::string>> out;
  auto with = [&](std::vector<std::string> tail) {
    auto words = c.command;
    words.insert(words.end(), tail.begin(), tail.end());
    out.push_back(words);
  };
  const auto flags = flatten(c.flags);
  std::vector<std::string> a = flags;
  a.insert(a.end(), c.positionals.begin(), c.positionals.end());
  with(a);
  std::vector<std::string> b = c.positionals;
  b.insert(b.end(), flags.begin(), flags.end());
  with(b);
  if (!c.flags.empty() && !c.positionals.empty()) {
    std::vector<std::string> between = c.flags[0];
    between.insert(between.end(), c.positionals.begin(), c.positionals.end());
    for (std::size_t i = 1; i < c.flags.size(); ++i) {
      between.insert(between.end(), c.flags[i].begin(), c.flags[i].end());
    }
    with(between);
    std::vector<std::string> dashes = flags;
    dashes.push_back("--");
    dashes.insert(dashes.end(), c.positionals.begin(), c.positionals.end());
    with(dashes);
  }
  if (c.positionals.size() == 2) {
    std::vector<std::string> around{c.positionals[0]};
    around.insert(around.end(), flags.begin(), flags.end());
    around.push_back(c.positionals[1]);
    with(around);
  }
  return out;
}

std::string joined(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

// The first long flag of a case with two letters swapped ("--output" -> "--otuput").
std::string typo_of(const std::string& flag) {
  std::string t = flag;
  std::swap(t[3], t[4]);
  return t;
}

}  // namespace

TEST_CASE("every command means the same with flags before, after or between its arguments",
          "[cli][parser]") {
  Workspace ws;
  sigil::test::FakeRegistry reg;
  reg.require_basic("alice", "secret");
  REQUIRE(ws.run({"sigil", "key", "generate", "--output-prefix", "plain-src"}, "pw").exit_code ==
          0);
  // An unencrypted PKCS#8 key for `key import`, written by openssl.
  REQUIRE(sigil::test::run_process({"/usr/bin/openssl", "genpkey", "-algorithm", "ed25519", "-out",
                                    (ws.dir / "plain.pem").string()})
              .exit_code == 0);
  for (const auto& c : cases(reg.host())) {
    std::optional<std::string> first_out;
    for (const auto& words : orderings(c)) {
      INFO(joined(words));
      auto r = ws.run(words, "pw");
      INFO(r.err);
      CHECK(r.exit_code == c.exit_code);
      if (c.deterministic) {
        if (!first_out) first_out = r.out;
        CHECK(r.out == *first_out);
      } else if (words[1] != "completion" && r.out.front() == '{') {
        CHECK(nlohmann::json::parse(r.out)["schemaVersion"] == 1);
      }
    }
  }
}

TEST_CASE("a repeatable flag takes one value per occurrence and never the image", "[cli][parser]") {
  Workspace ws;
  // The second --key verifies: both were read, and the image was not taken for a key.
  auto two = ws.run({"sigil", "verify", "--key", kOtherPub, "--key", kPub, "oci:img:latest", "-a",
                     "env=ci", "--output", "json"});
  INFO(two.err);
  CHECK(two.exit_code == 0);
  CHECK(nlohmann::json::parse(two.out)["verified"] == true);
  // Two images for a command that takes one: named, exit 2.
  auto extra = ws.run({"sigil", "verify", "--key", kPub, "oci:img:latest", "oci:other"});
  CHECK(extra.exit_code == 2);
  CHECK(extra.err ==
        "sigil: error: unexpected argument 'oci:other': sigil verify takes IMAGE (see sigil verify "
        "--help)\n");
  // -a takes comma-separated pairs as cosign reads them; a value may hold a comma.
  auto commas = ws.run({"sigil", "verify", "-a", "env=ci,", "--key", kPub, "oci:img:latest"});
  CHECK(commas.exit_code == 1);  // "env" must be "ci," now: no signature carries that
  auto pair = ws.run({"sigil", "verify", "-a", "env=ci,team=web", "--key", kPub, "oci:img:latest"});
  CHECK(pair.exit_code == 1);  // team=web is required too, and missing
  CHECK_THAT(pair.err, Catch::Contains("team=web"));
  // -- ends the flags: a key file whose name starts with '-'.
  fs::copy_file(kPub, ws.dir / "-odd.pub");
  auto dashes = ws.run({"sigil", "key", "fingerprint", "--", "-odd.pub"});
  CHECK(dashes.exit_code == 0);
  CHECK(dashes.out == ws.run({"sigil", "key", "fingerprint", kPub}).out);
  // Without it, "-odd.pub" is -o with the value "dd.pub", as getopt reads it.
  auto unquoted = ws.run({"sigil", "key", "fingerprint", "-odd.pub"});
  CHECK(unquoted.exit_code == 2);
  CHECK(unquoted.err ==
        "sigil: error: --output: 'dd.pub' is not one of text, json (see sigil key fingerprint "
        "--help)\n");
}

TEST_CASE("a mistyped flag of any command is named with the flag it resembles, exit 2",
          "[cli][parser]") {
  Workspace ws;
  for (const auto& c : cases("reg.example:5000")) {  // refused before any request
    std::string flag;
    for (const auto& g : c.flags) {
      if (g[0].rfind("--", 0) == 0 && g[0].find('=') == std::string::npos) {
        flag = g[0];
        break;
      }
    }
    if (flag.empty()) continue;
    auto words = c.command;
    const auto typo = typo_of(flag);
    words.push_back(typo);
    if (c.flags[0][0] == flag && c.flags[0].size() == 2) words.push_back(c.flags[0][1]);
    words.insert(words.end(), c.positionals.begin(), c.positionals.end());
    INFO(joined(words));
    auto r = ws.run(words, "pw");
    CHECK(r.exit_code == 2);
    std::string path = joined(c.command);
    CHECK(r.err == "sigil" + std::string(c.command[0] == "sigil" ? "" : "-verify") +
                       ": error: unknown flag " + typo + " for " + path + " (did you mean " + flag +
                       "?)\n");
    CHECK(r.out.empty());
  }
  auto unknown = ws.run({"sigil", "digest", "--frobnicate", "oci:img:latest"});
  CHECK(unknown.exit_code == 2);
  CHECK(unknown.err ==
        "sigil: error: unknown flag --frobnicate for sigil digest (see sigil digest --help)\n");
  auto before = ws.run({"sigil", "--output", "json", "digest", "oci:img:latest"});
  CHECK(before.exit_code == 2);
  CHECK(before.err ==
        "sigil: error: unknown flag --output for sigil (flags go after the command: sigil "
        "digest --output)\n");
}

TEST_CASE("an unknown or mistyped command is named with the command it resembles, exit 2",
          "[cli][parser]") {
  Workspace ws;
  struct Typo {
    std::vector<std::string> words;
    std::string err;
  };
  const std::vector<Typo> typos{
      {{"sigil", "verfy", "--key", kPub, "oci:img:latest"},
       "sigil: error: unknown command 'verfy' for sigil (did you mean verify?)\n"},
      {{"sigil", "key", "genrate"},
       "sigil: error: unknown command 'genrate' for sigil key (did you mean generate?)\n"},
      {{"sigil", "trinagulate", "oci:img:latest"},
       "sigil: error: unknown command 'trinagulate' for sigil (did you mean triangulate?)\n"},
      {{"sigil", "tri", "oci:img:latest"},
       "sigil: error: unknown command 'tri' for sigil (did you mean triangulate?)\n"},
      {{"sigil", "frobnicate"},
       "sigil: error: unknown command 'frobnicate' for sigil (see sigil --help)\n"},
      {{"sigil-verify", "sign", "--key", kKey, "oci:img:latest"},
       "sigil-verify: error: unknown command 'sign' for sigil-verify (see sigil-verify --help)\n"},
      {{"sigil"},
       "sigil: error: sigil needs a command: key, sign, attest, sign-blob, attest-blob, verify, "
       "verify-attestation, verify-blob, verify-blob-attestation, digest, triangulate, tree, "
       "download, policy, serve, copy, login, logout, version, man, completion (see sigil "
       "--help)\n"},
      {{"sigil", "key"},
       "sigil: error: sigil key needs a command: generate, public, import, fingerprint (see sigil "
       "key --help)\n"},
  };
  for (const auto& t : typos) {
    INFO(joined(t.words));
    auto r = ws.run(t.words);
    CHECK(r.exit_code == 2);
    CHECK(r.err == t.err);
    CHECK(r.out.empty());
  }
}

TEST_CASE("usage errors exit 2 and name what was wrong", "[cli][parser]") {
  Workspace ws;
  struct Bad {
    std::vector<std::string> words;
    std::string err;
  };
  const std::vector<Bad> bad{
      {{"sigil", "verify", "oci:img:latest"},
       "sigil: error: --key is required (see sigil verify --help)\n"},
      {{"sigil", "verify", "--key", kPub},
       "sigil: error: IMAGE is required (see sigil verify --help)\n"},
      {{"sigil", "verify", "--key"},
       "sigil: error: --key: 1 required KEY missing (see sigil verify --help)\n"},
      {{"sigil", "verify", "-o", "1", "--key", kPub, "oci:img:latest"},
       "sigil: error: --output: '1' is not one of text, json, cosign (see sigil verify --help)\n"},
      {{"sigil", "digest", "-o", "jsno", "oci:img:latest"},
       "sigil: error: --output: 'jsno' is not one of text, json (did you mean json?) (see sigil "
       "digest --help)\n"},
      {{"sigil", "sign", "--format", "notation", "--key", kKey, "oci:img:latest"},
       "sigil: error: --format: 'notation' is not one of cosign, bundle (see sigil sign --help)\n"},
      {{"sigil", "key", "generate", "--type", "rsa-2048"},
       "sigil: error: --type: 'rsa-2048' is not one of ecdsa-p256, ecdsa-p384, ed25519, rsa-3072, "
       "rsa-4096 (see sigil key generate --help)\n"},
      {{"sigil", "triangulate", "--type", "signatures", "oci:img:latest"},
       "sigil: error: --type: 'signatures' is not one of signature, attestation, sbom, bundle, "
       "digest (did you mean signature?) (see sigil triangulate --help)\n"},
      {{"sigil", "digest", "--timeout", "10x", "oci:img:latest"},
       "sigil: error: --timeout: x unit not recognized. Allowed values: {h,m,ms,s} (see sigil "
       "digest --help)\n"},
      {{"sigil", "digest", "--timeout", "25h", "oci:img:latest"},
       "sigil: error: --timeout: must be from 0 (no limit) to 24h (see sigil digest --help)\n"},
      {{"sigil", "copy", "--parallel", "0", "oci:img:latest", "oci:x"},
       "sigil: error: --parallel: Value 0 not in range 1 to 16 (see sigil copy --help)\n"},
      {{"sigil", "verify", "-a", "novalue", "--key", kPub, "oci:img:latest"},
       "sigil: error: annotation 'novalue' is not of the form key=value\n"},
      {{"sigil", "login", "-u", "alice"},
       "sigil: error: REGISTRY is required (see sigil login --help)\n"},
      {{"sigil", "logout", "--authfile"},
       "sigil: error: --authfile: 1 required FILE missing (see sigil logout --help)\n"},
      {{"sigil", "digest", "not a reference"},
       "sigil: error: invalid image reference 'not a reference': invalid repository component "
       "'not a reference' (lowercase letters, digits and separators only)\n"},
  };
  for (const auto& b : bad) {
    INFO(joined(b.words));
    auto r = ws.run(b.words);
    CHECK(r.exit_code == 2);
    CHECK(r.err == b.err);
    CHECK(r.out.empty());
  }
}

TEST_CASE("a directory or archive path without oci: or docker-archive: gets the reference to use",
          "[cli][parser]") {
  Workspace ws;
  auto dotted = ws.run({"sigil", "verify", "--key", kPub, "./img"});
  CHECK(dotted.exit_code == 2);
  CHECK_THAT(dotted.err, Catch::StartsWith("sigil: error: invalid image reference './img'") &&
                             Catch::EndsWith("; for the OCI image layout in that directory write "
                                             "oci:./img\n"));
  auto absolute = ws.run({"sigil", "digest", (ws.dir / "img").string()});
  CHECK(absolute.exit_code == 2);
  CHECK_THAT(absolute.err, Catch::EndsWith("write oci:" + (ws.dir / "img").string() + "\n"));
  auto bare = ws.run({"sigil", "tree", "img"});
  CHECK(bare.exit_code == 2);
  CHECK(bare.err ==
        "sigil: error: 'img' names both the registry image docker.io/library/img:latest and an "
        "OCI image layout directory: write oci:img for the layout, or docker://img for the "
        "registry\n");
  sigil::test::write_text_file(ws.dir / "saved.tar", "not really a tar");
  auto archive = ws.run({"sigil", "digest", "./saved.tar"});
  CHECK(archive.exit_code == 2);
  CHECK_THAT(archive.err, Catch::EndsWith("; for the docker save archive in that file write "
                                          "docker-archive:./saved.tar\n"));
  // A bare file name is a registry reference too: which one was meant is asked, not guessed.
  auto bare_file = ws.run({"sigil", "digest", "saved.tar"});
  CHECK(bare_file.exit_code == 2);
  CHECK(bare_file.err ==
        "sigil: error: 'saved.tar' names both the registry image "
        "docker.io/library/saved.tar:latest and a file: write docker-archive:saved.tar for a "
        "docker save archive, or docker://saved.tar for the registry\n");
}

TEST_CASE("help of every command shows values by name, never parser internals", "[cli][parser]") {
  for (const std::string program : {"sigil", "sigil-verify"}) {
    std::vector<std::vector<std::string>> commands{{}};
    auto top = sigil::test::run_process({kBin + "/" + program, "--help"});
    REQUIRE(top.exit_code == 0);
    for (const auto* c :
         {"key generate", "key public", "key import", "key fingerprint", "sign", "verify", "digest",
          "triangulate", "tree", "copy", "login", "logout", "version", "man", "completion"}) {
      std::vector<std::string> words{kBin + "/" + program};
      std::string w;
      for (const char* p = c;; ++p) {
        if (*p == ' ' || *p == '\0') {
          words.push_back(w);
          w.clear();
          if (*p == '\0') break;
        } else {
          w += *p;
        }
      }
      if (program == "sigil-verify" &&
          (words[1] == "key" || words[1] == "sign" || words[1] == "copy" || words[1] == "login" ||
           words[1] == "logout")) {
        continue;
      }
      words.push_back("--help");
      INFO(program << " " << c);
      auto h = sigil::test::run_process(words);
      CHECK(h.exit_code == 0);
      CHECK(h.err.empty());
      for (const auto* internal : {"ENUM", "TEXT", "UINT", "FLOAT", "->", "{", "OR "}) {
        CHECK_THAT(h.out, !Catch::Contains(internal));
      }
    }
  }
  auto verify = sigil::test::run_process({kBin + "/sigil", "verify", "--help"});
  CHECK_THAT(verify.out, Catch::Contains("-o,--output text|json|cosign"));
  CHECK_THAT(verify.out, Catch::Contains("oci:DIR[:TAG|@DIGEST]") &&
                             Catch::Contains("[docker://]HOST[:PORT]/REPO[:TAG][@DIGEST]") &&
                             Catch::Contains("docker-archive:FILE"));
  auto tree = sigil::test::run_process({kBin + "/sigil", "tree", "--help"});
  CHECK_THAT(tree.out,
             Catch::Contains("text: the listing on stderr; json: one document on stdout"));
}
