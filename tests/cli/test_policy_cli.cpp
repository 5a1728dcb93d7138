// sigil policy validate and sigil policy export: the real binaries, checked on exit codes, the
// exact lines they print and the files they write. (policy explain: test_policy_explain_cli.cpp.)
#include <sys/stat.h>

#include <catch2/catch.hpp>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/cli_fixture.h"
#include "libtrust/core/encoding.h"
#include "libtrust/crypto/key_file.h"
#include "support/process.h"

namespace {

namespace fs = std::filesystem;
using sigil::test::read_text_file;
using sigil::test::write_text_file;
using sigil::test::cli::kData;
using sigil::test::cli::kOtherPub;
using sigil::test::cli::kPub;
using sigil::test::cli::Scratch;

const std::string kExample = kData + "/policy/example.yaml";

unsigned mode_of(const fs::path& p) {
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return st.st_mode & 0777;
}

// A scratch directory with keys/a.pub (the test key) and keys/b.pub (the other key).
struct PolicyScratch : Scratch {
  PolicyScratch() {
    fs::create_directories(*this / "keys");
    fs::copy_file(kPub, *this / "keys/a.pub");
    fs::copy_file(kOtherPub, *this / "keys/b.pub");
  }
  std::string write(const std::string& name, const std::string& text) const {
    write_text_file(*this / name, text);
    return name;
  }
};

const std::string kKeys = "version: 1\nkeys:\n  a: keys/a.pub\n  b: {file: keys/b.pub}\n";

TEST_CASE("policy validate: a valid policy is one line on stderr and exit 0", "[cli][policy]") {
  Scratch d;
  for (const std::string program : {"sigil", "sigil-verify"}) {
    auto r = d.run({program, "policy", "validate", kExample});
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.out.empty());
    CHECK(r.err == kExample + ": valid: 3 rules, default reject, 2 keys\n");
  }
  PolicyScratch p;
  p.write("p.yaml", kKeys + "rules:\n  - {name: one, match: localhost/x, keys: [a]}\n");
  CHECK(p.run({"sigil", "policy", "validate", "p.yaml"}).err ==
        "p.yaml: valid: 1 rule, no default (images no rule matches are denied), 2 keys\n");
  p.write("q.yaml", kKeys + "default: {keys: [a], mode: audit}\n");
  CHECK(p.run({"sigil", "policy", "validate", "q.yaml"}).err ==
        "q.yaml: valid: 0 rules, default verify (audit), 2 keys\n");
}

TEST_CASE("policy validate --output json: the keys and rules as read, on stdout", "[cli][policy]") {
  Scratch d;
  auto r = d.run({"sigil", "policy", "validate", "--output", "json", kExample});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.empty());
  const auto j = nlohmann::json::parse(r.out);
  CHECK(j["schemaVersion"] == 1);
  CHECK(j["file"] == kExample);
  CHECK(j["valid"] == true);
  CHECK(j["contentDigest"].get<std::string>().rfind("sha256:", 0) == 0);
  REQUIRE(j["keys"].size() == 2);
  CHECK(j["keys"][0]["name"] == "release");
  CHECK(j["keys"][0]["keyId"] == trust::load_public_key(kPub).key_id().str());
  CHECK(j["keys"][0]["type"] == "ecdsa-p256");
  CHECK(j["keys"][0]["file"] ==
        fs::path(kData + "/keys/test-ecdsa-p256.pub").lexically_normal().string());
  REQUIRE(j["rules"].size() == 3);
  CHECK(j["rules"][0]["name"] == "team");
  CHECK(j["rules"][0]["match"] ==
        nlohmann::json::array({"registry.example.com/team", "registry.example.com/team/**"}));
  CHECK(j["rules"][0]["action"] == "verify");
  CHECK(j["rules"][0]["mode"] == "enforce");
  CHECK(j["rules"][0]["keys"] == nlohmann::json::array({"release"}));
  CHECK(j["rules"][0]["threshold"] == 1);
  CHECK(j["rules"][0]["line"] == 8);
  CHECK(j["rules"][2]["action"] == "accept");
  CHECK(j["rules"][2]["threshold"] == 0);
  CHECK(j["default"]["name"] == "default");
  CHECK(j["default"]["action"] == "reject");
}

TEST_CASE("policy validate: each bad input is one line naming file, line, column and field, exit 3",
          "[cli][policy]") {
  PolicyScratch p;
  struct Case {
    std::string name;
    std::string text;
    std::string error;
  };
  const std::vector<Case> cases{
      {"unknown-field.yaml",
       kKeys + "rules:\n  - name: team\n    match: localhost/team/**\n    keys: [a]\n"
               "    treshold: 1\n",
       "unknown-field.yaml:9:5: rules[0].treshold: unknown field (rules[0] has: name, match, "
       "action, mode, keys, threshold, annotations, attestations)"},
      {"duplicate-rule.yaml",
       kKeys + "rules:\n  - {name: team, match: localhost/a/**, keys: [a]}\n"
               "  - {name: team, match: localhost/b/**, keys: [b]}\n",
       "duplicate-rule.yaml:7:12: rules[1].name: rule 'team' is defined twice (first at "
       "duplicate-rule.yaml:6:5)"},
      {"missing-key.yaml", "version: 1\nkeys:\n  gone: keys/gone.pub\n",
       "missing-key.yaml:3:9: keys.gone: " + (p.path() / "keys/gone.pub").string() +
           ": no such file"},
      {"threshold.yaml",
       kKeys + "rules:\n  - name: team\n    match: localhost/team/**\n    keys: [a, b]\n"
               "    threshold: 3\n",
       "threshold.yaml:9:16: rules[0].threshold: 3 is more than the 2 distinct key(s) the rule "
       "names (a, b): it can never be met"},
  };
  for (const auto& c : cases) {
    p.write(c.name, c.text);
    for (const auto& output : {"text", "json"}) {
      auto r = p.run({"sigil", "policy", "validate", "--output", output, c.name});
      INFO(c.name);
      CHECK(r.exit_code == 3);
      CHECK(r.out.empty());
      CHECK(r.err == "sigil: error: " + c.error + "\n");
    }
  }
  auto r = p.run({"sigil", "policy", "validate", "nothing.yaml"});
  CHECK(r.exit_code == 3);
  CHECK(r.err == "sigil: error: nothing.yaml: no such file\n");
  CHECK(p.run({"sigil", "policy", "validate"}).exit_code == 2);
}

// The exported policy for `text` in `p`, or the failed run.
sigil::test::RunResult export_policy(const PolicyScratch& p, const std::string& text,
                                     const std::string& out = "out") {
  p.write("p.yaml", text);
  return p.run({"sigil", "policy", "export", "--format", "containers-policy", "p.yaml", out});
}

std::string key_data(const std::string& pub) {
  const auto pem = trust::load_public_key(pub).to_pem();
  return trust::base64_encode(trust::to_bytes(pem));
}

TEST_CASE("policy export: rules become containers/image scopes with sigstoreSigned and keyData",
          "[cli][policy]") {
  PolicyScratch p;
  auto r = export_policy(p, kKeys +
                                "rules:\n"
                                "  - {name: team, match: [localhost:5000/team, "
                                "localhost:5000/team/**], keys: [a]}\n"
                                "  - {name: ops, match: localhost:5000/ops/**, keys: [b]}\n"
                                "  - {name: opsroot, match: localhost:5000/ops, keys: [b]}\n"
                                "  - {name: base, match: [docker.io/library/debian, "
                                "docker.io/library/debian/**], action: accept}\n"
                                "  - {name: bad, match: [quay.io/bad, quay.io/bad/**], action: "
                                "reject}\n"
                                "default: {action: reject}\n");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.err ==
        "p.yaml: exported 4 scope(s) to out/policy.json and out/registries.d/sigil.yaml\n");
  const auto sigstore = [](const std::string& pub) {
    return nlohmann::json::array({{{"type", "sigstoreSigned"},
                                   {"keyData", key_data(pub)},
                                   {"signedIdentity", {{"type", "matchRepository"}}}}});
  };
  const nlohmann::json expected = {
      {"default", {{{"type", "reject"}}}},
      {"transports",
       {{"docker",
         {{"docker.io/library/debian", {{{"type", "insecureAcceptAnything"}}}},
          {"localhost:5000/ops", sigstore(kOtherPub)},
          {"localhost:5000/team", sigstore(kPub)},
          {"quay.io/bad", {{{"type", "reject"}}}}}}}}};
  CHECK(nlohmann::json::parse(read_text_file(p / "out/policy.json")) == expected);
  const auto yaml = read_text_file(p / "out/registries.d/sigil.yaml");
  CHECK(yaml.rfind("# Written by sigil policy export from p.yaml", 0) == 0);
  CHECK(nlohmann::json::parse(yaml.substr(yaml.find('\n') + 1)) ==
        nlohmann::json{{"docker",
                        {{"localhost:5000/ops", {{"use-sigstore-attachments", true}}},
                         {"localhost:5000/team", {{"use-sigstore-attachments", true}}}}}});
  CHECK(mode_of(p / "out/policy.json") == 0644);
  CHECK(mode_of(p / "out/registries.d/sigil.yaml") == 0644);
}

TEST_CASE("policy export: a verifying ** rule or default is the docker transport's default",
          "[cli][policy]") {
  PolicyScratch p;
  auto r = export_policy(p, kKeys + "rules:\n  - {name: all, match: '**', keys: [a]}\n");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const auto policy = nlohmann::json::parse(read_text_file(p / "out/policy.json"));
  CHECK(policy["default"] == nlohmann::json::array({{{"type", "reject"}}}));
  CHECK(policy["transports"]["docker"][""][0]["keyData"] == key_data(kPub));
  const auto yaml = read_text_file(p / "out/registries.d/sigil.yaml");
  CHECK(nlohmann::json::parse(yaml.substr(yaml.find('\n') + 1)) ==
        nlohmann::json{{"default-docker", {{"use-sigstore-attachments", true}}},
                       {"docker", nlohmann::json::object()}});
}

TEST_CASE("policy export: existing files are kept unless --force", "[cli][policy]") {
  PolicyScratch p;
  const auto text = kKeys + "default: {action: reject}\n";
  REQUIRE(export_policy(p, text).exit_code == 0);
  write_text_file(p / "out/registries.d/sigil.yaml", "mine\n");
  fs::remove(p / "out/policy.json");
  auto r = export_policy(p, text);
  CHECK(r.exit_code == 3);
  CHECK(r.err == "sigil: error: " + (fs::path("out") / "registries.d/sigil.yaml").string() +
                     ": exists (use --force to replace it)\n");
  // Nothing was written: policy.json was checked too, before either.
  CHECK_FALSE(fs::exists(p / "out/policy.json"));
  CHECK(read_text_file(p / "out/registries.d/sigil.yaml") == "mine\n");
  auto forced = p.run(
      {"sigil", "policy", "export", "--format", "containers-policy", "--force", "p.yaml", "out"});
  CHECK(forced.exit_code == 0);
  CHECK(nlohmann::json::parse(read_text_file(p / "out/policy.json"))["default"] ==
        nlohmann::json::array({{{"type", "reject"}}}));
}

TEST_CASE("policy export: what containers/image cannot express is refused naming the rule, exit 2",
          "[cli][policy]") {
  PolicyScratch p;
  const std::string scope = "[localhost/t, localhost/t/**]";
  const std::string never =
      ": containers/image cannot express it, so the policy is not exported (a rule is never "
      "weakened)";
  struct Case {
    std::string rule;
    std::string error;
  };
  const std::vector<Case> cases{
      {"{name: t, match: " + scope + ", keys: [a, b], threshold: 2}",
       "rule 't': threshold 2 (containers/image needs one signature by one key)" + never},
      {"{name: t, match: " + scope + ", keys: [a, b]}",
       "rule 't': more than one key (2): requirements in a containers/image scope are all "
       "required, so 'any one of these keys' has no form" +
           never},
      {"{name: t, match: " + scope + ", keys: [a], annotations: {env: prod}}",
       "rule 't': required annotations (sigstoreSigned checks only the key and the identity)" +
           never},
      {"{name: t, match: " + scope + ", keys: [a], attestations: [{type: slsaprovenance}]}",
       "rule 't': required attestations" + never},
      {"{name: t, match: " + scope + ", keys: [a], mode: warn}",
       "rule 't': mode warn (containers/image only enforces)" + never},
      {"{name: t, match: localhost/t/*, keys: [a]}",
       "rule 't': glob 'localhost/t/*': containers/image scopes are a repository or a namespace "
       "prefix (HOST/PATH, HOST/PATH/**, **), so a glob with * or ? elsewhere would apply to other "
       "repositories than sigil's; not exported"},
      {"{name: t, match: localhost/t/**, keys: [a]}",
       "rule 't': glob 'localhost/t/**': its containers/image scope 'localhost/t' also covers the "
       "repository localhost/t itself, which sigil judges by no rule (denied); add the glob "
       "'localhost/t' to one rule so both agree, or the policy is not exported"},
      {"{name: t, match: localhost/t, keys: [a]}",
       "rule 't': glob 'localhost/t': its containers/image scope 'localhost/t' also covers "
       "repositories under localhost/t, which sigil judges by no rule (denied); add the glob "
       "'localhost/t/**' to one rule so both agree, or the policy is not exported"},
  };
  for (const auto& c : cases) {
    INFO(c.rule);
    auto r = export_policy(p, kKeys + "rules:\n  - " + c.rule + "\n");
    CHECK(r.exit_code == 2);
    CHECK(r.err == "sigil: error: p.yaml: " + c.error + "\n");
    CHECK_FALSE(fs::exists(p / "out"));
  }
  // The default rule is held to the same.
  auto r = export_policy(p, kKeys + "default: {keys: [a], mode: audit}\n");
  CHECK(r.exit_code == 2);
  CHECK(r.err ==
        "sigil: error: p.yaml: the default rule: mode audit (containers/image only "
        "enforces)" +
            never + "\n");
  // A rule under another one's scope, judged otherwise: the example's `ops`.
  Scratch d;
  auto ex = d.run({"sigil", "policy", "export", "--format", "containers-policy", kExample, "out"});
  CHECK(ex.exit_code == 2);
  CHECK(ex.err == "sigil: error: " + kExample +
                      ": rule 'ops': glob 'registry.example.com/ops/**': its containers/image "
                      "scope 'registry.example.com/ops' also covers the repository "
                      "registry.example.com/ops itself, which sigil judges by the default rule; "
                      "add the glob 'registry.example.com/ops' to one rule so both agree, or the "
                      "policy is not exported\n");
  CHECK(d.run({"sigil", "policy", "export", "--format", "docker", kExample, "out"}).exit_code == 2);
}

}  // namespace
