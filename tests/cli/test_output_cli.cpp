// One output contract for every command: --output json is one document on stdout with
// schemaVersion first and camelCase members; text is for people on stderr, with at most the
// command's one-line result on stdout; `verify --output cosign` prints what `cosign verify` does.
// Registry commands against the in-process fake registry: what `digest`, `triangulate` and
// `sign` cost and say.
#include <catch2/catch.hpp>

#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <vector>

#include "cli/cli_fixture.h"
#include "support/fake_registry.h"
#include "support/process.h"

namespace fs = std::filesystem;
using sigil::test::kUnsetEnv;
using sigil::test::RunResult;
using sigil::test::TempDir;
using sigil::test::cli::kData;
using sigil::test::cli::kKey;
using sigil::test::cli::kOtherPub;
using sigil::test::cli::kPasswordFile;
using sigil::test::cli::kPub;

namespace {

const std::string kSampleDigest =
    "sha256:2cd8c0d64a25afc2c8c1ca3028aa89793b3d3f04cec3a58668a71803132897e8";

RunResult run(std::vector<std::string> args, const fs::path& cwd) {
  return sigil::test::cli::run_tool(std::move(args),
                                    {{"SIGIL_PASSWORD", "pw"},
                                     {"COSIGN_PASSWORD", kUnsetEnv},
                                     {"DOCKER_CONFIG", (cwd / "no-docker").string()}},
                                    "", cwd);
}

// Every member name in `j`, recursively, except inside "annotations" (names chosen by whoever
// wrote the image) and "statement" (an in-toto statement, whose shape in-toto defines: "_type").
void check_member_names(const nlohmann::json& j, const std::string& where) {
  static const std::regex camel("[a-z][a-zA-Z0-9]*");
  if (j.is_object()) {
    for (const auto& [key, value] : j.items()) {
      INFO(where << "." << key);
      CHECK(std::regex_match(key, camel));
      if (key != "annotations" && key != "statement") {
        check_member_names(value, where + "." + key);
      }
    }
  } else if (j.is_array()) {
    for (const auto& e : j) check_member_names(e, where + "[]");
  }
}

}  // namespace

TEST_CASE("every command's --output json is one camelCase document on stdout with schemaVersion",
          "[cli][output]") {
  TempDir tmp;
  fs::copy(kData + "/sample-layout", tmp / "img", fs::copy_options::recursive);
  sigil::test::FakeRegistry reg;
  reg.require_basic("alice", "secret");
  const std::vector<std::vector<std::string>> commands{
      {"sigil", "key", "generate", "--output-prefix", "k"},
      {"sigil", "key", "import", "plain.pem", "--output-prefix", "imported"},
      {"sigil", "key", "public", "--key", kPub},
      {"sigil", "key", "fingerprint", kPub},
      {"sigil", "sign", "--key", kKey, "--password-file", kPasswordFile, "oci:img:latest"},
      {"sigil", "sign", "--format", "bundle", "--key", kKey, "--password-file", kPasswordFile,
       "oci:img:latest"},
      {"sigil", "verify", "--all", "--key", kPub, "oci:img:latest"},
      {"sigil", "sign-blob", "--key", kKey, "--password-file", kPasswordFile, "--output-signature",
       "r.sig", "--bundle", "r.bundle", "release.txt"},
      {"sigil", "verify-blob", "--key", kPub, "--signature", "r.sig", "release.txt"},
      {"sigil", "attest-blob", "--key", kKey, "--password-file", kPasswordFile, "--predicate",
       "pred.json", "--output-signature", "r.att", "release.txt"},
      {"sigil-verify", "verify-blob-attestation", "--key", kPub, "--type", "custom", "--signature",
       "r.att", "release.txt"},
      {"sigil-verify", "verify-blob", "--key", kPub, "--bundle", "r.bundle", "release.txt"},
      {"sigil", "digest", "oci:img:latest"},
      {"sigil", "digest", "--layers", "oci:img:latest"},
      {"sigil", "triangulate", "oci:img:latest"},
      {"sigil", "tree", "oci:img:latest"},
      {"sigil", "copy", "oci:img:latest", "oci:copy:latest"},
      {"sigil", "login", "-u", "alice", "-p", "secret", "--insecure-registry", reg.host(),
       "--authfile", "auth.json", reg.host()},
      {"sigil", "logout", "--authfile", "auth.json", reg.host()},
      {"sigil", "version"},
      {"sigil-verify", "verify", "--key", kPub, "oci:img:latest"},
      {"sigil-verify", "version"},
  };
  REQUIRE(sigil::test::run_process({"/usr/bin/openssl", "genpkey", "-algorithm", "ed25519", "-out",
                                    (tmp / "plain.pem").string()})
              .exit_code == 0);
  sigil::test::write_text_file(tmp / "release.txt", "release 1.0\n");
  sigil::test::write_text_file(tmp / "pred.json", "{}");
  for (const auto& c : commands) {
    auto json_args = c;
    json_args.insert(json_args.end() - (c.back().find(':') != std::string::npos ? 1 : 0),
                     {"--output", "json"});
    std::string name;
    for (const auto& w : json_args) name += w + " ";
    INFO(name);
    auto r = run(json_args, tmp.path());
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    // One document, nothing else, and (every document here) an object led by schemaVersion.
    auto j = nlohmann::ordered_json::parse(r.out);
    REQUIRE(j.is_object());
    CHECK(j.begin().key() == "schemaVersion");
    CHECK(j["schemaVersion"] == 1);
    check_member_names(j, c[1]);
  }
}

TEST_CASE("text output: the report on stderr, at most the one-line result on stdout",
          "[cli][output]") {
  TempDir tmp;
  fs::copy(kData + "/sample-layout", tmp / "img", fs::copy_options::recursive);
  sigil::test::write_text_file(tmp / "release.txt", "release 1.0\n");
  sigil::test::write_text_file(tmp / "pred.json", "{}");
  sigil::test::FakeRegistry reg;
  reg.require_basic("alice", "secret");
  struct Expect {
    std::vector<std::string> args;
    std::string out;           // exactly, or
    std::string out_pattern;   // a regex for stdout
    std::string err_contains;  // a piece of the report
  };
  const std::vector<Expect> expects{
      {{"sigil", "key", "generate", "--output-prefix", "k"}, "", "", "Key id: sha256:"},
      {{"sigil", "key", "fingerprint", kPub}, "", "sha256:[0-9a-f]{64}\n", ""},
      {{"sigil", "key", "public", "--key", kPub}, sigil::test::read_text_file(kPub), "", ""},
      {{"sigil", "sign", "--key", kKey, "--password-file", kPasswordFile, "oci:img:latest"},
       "",
       "",
       "Signed " + kSampleDigest},
      {{"sigil", "verify", "--key", kPub, "oci:img:latest"}, "", "", "VERIFIED: "},
      {{"sigil", "sign-blob", "--key", kKey, "--password-file", kPasswordFile, "release.txt"},
       "",
       "[A-Za-z0-9+/]+=*\n",
       "Signed release.txt (sha256:"},
      {{"sigil", "sign-blob", "--key", kKey, "--password-file", kPasswordFile, "--output-signature",
        "t.sig", "release.txt"},
       "",
       "",
       "Signature written to t.sig"},
      {{"sigil-verify", "verify-blob", "--key", kPub, "--signature", "t.sig", "release.txt"},
       "",
       "",
       "VERIFIED: signed by sha256:"},
      {{"sigil", "attest-blob", "--key", kKey, "--password-file", kPasswordFile, "--predicate",
        "pred.json", "release.txt"},
       "",
       "\\{\"payloadType\":\"application/vnd.in-toto\\+json\",.*\\}\n",
       "Attested release.txt (sha256:"},
      {{"sigil", "digest", "oci:img:latest"}, kSampleDigest + "\n", "", ""},
      {{"sigil", "digest", "--layers", "oci:img:latest"}, kSampleDigest + "\n", "", "layer 0:"},
      {{"sigil", "triangulate", "oci:img:latest"},
       "oci:img:sha256-" + kSampleDigest.substr(7) + ".sig\n",
       "",
       ""},
      {{"sigil", "tree", "oci:img:latest"}, "", "", "└── signatures: sha256-"},
      {{"sigil", "copy", "oci:img:latest", "oci:copy:latest"}, "", "", "Copied oci:img:latest"},
      {{"sigil", "login", "-u", "alice", "-p", "secret", "--insecure-registry", reg.host(),
        "--authfile", "auth.json", reg.host()},
       "",
       "",
       "Logged in to " + reg.host() + " as alice (saved via auth.json)"},
      {{"sigil", "logout", "--authfile", "auth.json", reg.host()},
       "",
       "",
       "Removed the credentials for " + reg.host()},
  };
  for (const auto& e : expects) {
    std::string name;
    for (const auto& w : e.args) name += w + " ";
    INFO(name);
    auto r = run(e.args, tmp.path());
    INFO(r.err);
    CHECK(r.exit_code == 0);
    if (e.out_pattern.empty()) {
      CHECK(r.out == e.out);
    } else {
      CHECK(std::regex_match(r.out, std::regex(e.out_pattern)));
    }
    CHECK_THAT(r.err, Catch::Contains(e.err_contains));
  }
}

TEST_CASE("sigil verify --output cosign prints the array of payloads cosign verify prints",
          "[cli][output]") {
  TempDir tmp;
  fs::copy(kData + "/sample-layout", tmp / "img", fs::copy_options::recursive);
  REQUIRE(run({"sigil", "sign", "--key", kKey, "--password-file", kPasswordFile, "-a", "env=ci",
               "--identity", "registry.example/team/app", "oci:img:latest"},
              tmp.path())
              .exit_code == 0);
  REQUIRE(run({"sigil", "sign", "--format", "bundle", "--key", kKey, "--password-file",
               kPasswordFile, "-a", "run=7", "oci:img:latest"},
              tmp.path())
              .exit_code == 0);
  auto r = run({"sigil", "verify", "--all", "--key", kPub, "--output", "cosign", "oci:img:latest"},
               tmp.path());
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const auto j = nlohmann::json::parse(r.out);
  const nlohmann::json cosign_layer = {
      {"critical",
       {{"identity", {{"docker-reference", "registry.example/team/app"}}},
        {"image", {{"docker-manifest-digest", kSampleDigest}}},
        {"type", "cosign container image signature"}}},
      {"optional", {{"env", "ci"}}}};
  const nlohmann::json bundle = {{"critical",
                                  {{"identity", {{"docker-reference", "oci:img@" + kSampleDigest}}},
                                   {"image", {{"docker-manifest-digest", kSampleDigest}}},
                                   {"type", "cosign container image signature"}}},
                                 {"optional", {{"run", "7"}}}};
  CHECK(j == nlohmann::json::array({cosign_layer, bundle}));
  // Verified payloads only: another key verifies none, and the array is empty (exit 1).
  auto other =
      run({"sigil", "verify", "--key", kOtherPub, "-o", "cosign", "oci:img:latest"}, tmp.path());
  CHECK(other.exit_code == 1);
  CHECK(nlohmann::json::parse(other.out) == nlohmann::json::array());
}

TEST_CASE("sigil digest and triangulate of a registry tag cost one request, of a digest none",
          "[cli][output]") {
  sigil::test::FakeRegistry reg;
  auto img = sigil::test::push_test_image(reg, "lab/app", "v1");
  TempDir tmp;
  const std::string tag_ref = reg.host() + "/lab/app:v1";
  auto digest = run({"sigil", "digest", "--insecure-registry", reg.host(), tag_ref}, tmp.path());
  INFO(digest.err);
  CHECK(digest.exit_code == 0);
  CHECK(digest.out == img.digest.str() + "\n");
  CHECK(reg.requests().size() == 1);
  CHECK(reg.count("GET", "/v2/lab/app/manifests/v1") == 1);

  reg.clear_requests();
  auto tri = run({"sigil", "triangulate", "--insecure-registry", reg.host(), tag_ref}, tmp.path());
  CHECK(tri.exit_code == 0);
  CHECK(tri.out == reg.host() + "/lab/app:sha256-" + img.digest.hex() + ".sig\n");
  CHECK(reg.requests().size() == 1);

  reg.clear_requests();
  const std::string pinned = reg.host() + "/lab/app@" + img.digest.str();
  for (const auto& [type, tag] : std::vector<std::pair<std::string, std::string>>{
           {"attestation", ":sha256-" + img.digest.hex() + ".att"},
           {"sbom", ":sha256-" + img.digest.hex() + ".sbom"},
           {"bundle", ":sha256-" + img.digest.hex()},
           {"digest", "@" + img.digest.str()}}) {
    auto t = run({"sigil-verify", "triangulate", "--type", type, pinned}, tmp.path());
    CHECK(t.exit_code == 0);
    CHECK(t.out == reg.host() + "/lab/app" + tag + "\n");
  }
  CHECK(reg.requests().empty());
}

TEST_CASE("sigil sign of a registry tag warns as cosign does and names the digest it signed",
          "[cli][output]") {
  sigil::test::FakeRegistry reg;
  auto img = sigil::test::push_test_image(reg, "lab/app", "v1");
  TempDir tmp;
  const std::string tag_ref = reg.host() + "/lab/app:v1";
  auto s = run({"sigil", "sign", "--insecure-registry", reg.host(), "--key", kKey,
                "--password-file", kPasswordFile, tag_ref, "-o", "json"},
               tmp.path());
  INFO(s.err);
  REQUIRE(s.exit_code == 0);
  CHECK_THAT(s.err,
             Catch::Contains("sigil: warning: " + tag_ref + " is a tag, not a digest: signing " +
                             img.digest.str() + ", the image it names now. Sign " + reg.host() +
                             "/lab/app@" + img.digest.str() + " to be sure of what you sign\n"));
  CHECK_THAT(s.err, Catch::Contains("Signed " + img.digest.str() + " -> "));
  auto j = nlohmann::json::parse(s.out);
  CHECK(j["digest"] == img.digest.str());
  CHECK(j["signatures"][0]["signatureTag"] == "sha256-" + img.digest.hex() + ".sig");

  // By digest: no warning.
  auto pinned = run({"sigil", "sign", "--insecure-registry", reg.host(), "--key", kKey,
                     "--password-file", kPasswordFile, reg.host() + "/lab/app@" + img.digest.str()},
                    tmp.path());
  CHECK(pinned.exit_code == 0);
  CHECK_THAT(pinned.err, !Catch::Contains("is a tag"));
}

TEST_CASE("a missing --authfile file is an error naming it, before any request", "[cli][output]") {
  sigil::test::FakeRegistry reg;
  sigil::test::push_test_image(reg, "lab/app", "v1");
  TempDir tmp;
  for (const std::string program : {"sigil", "sigil-verify"}) {
    auto r = run({program, "digest", "--authfile", (tmp / "auth.json").string(),
                  "--insecure-registry", reg.host(), reg.host() + "/lab/app:v1"},
                 tmp.path());
    CHECK(r.exit_code == 3);
    CHECK(r.err ==
          program + ": error: --authfile " + (tmp / "auth.json").string() + ": no such file\n");
    CHECK(r.out.empty());
  }
  CHECK(reg.requests().empty());
  sigil::test::write_text_file(tmp / "auth.json", R"({"auths":{}})");
  auto ok = run({"sigil", "digest", "--authfile", (tmp / "auth.json").string(),
                 "--insecure-registry", reg.host(), reg.host() + "/lab/app:v1"},
                tmp.path());
  CHECK(ok.exit_code == 0);
}
