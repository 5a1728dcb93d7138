// Reading a trust policy file (TrustPolicy::load / parse, verify/trust_policy_file.cpp): the
// format of docs/policy.md, strictly. What the document means is tested in test_trust_policy.cpp.
#include <catch2/catch.hpp>

#include <string>

#include "libtrust/core/digest.h"
#include "libtrust/core/error.h"
#include "libtrust/core/limits.h"
#include "libtrust/verify/trust_policy.h"
#include "support/errors.h"
#include "support/process.h"
#include "support/test_keys.h"

namespace trust::verify {
namespace {

namespace fs = std::filesystem;
using sigil::test::thrown_by;
using sigil::test::write_text_file;

std::string pem(int slot) {
  return sigil::test::test_key(KeyType::kEcdsaP256, slot).public_key().to_pem();
}

// A directory holding keys/release.pub and keys/ci.pub (test keys 0 and 1).
struct PolicyDir {
  sigil::test::TempDir tmp;
  PolicyDir() {
    fs::create_directories(tmp / "keys");
    write_text_file(tmp / "keys/release.pub", pem(0));
    write_text_file(tmp / "keys/ci.pub", pem(1));
  }
  fs::path write(const std::string& text, const std::string& name = "policy.yaml") const {
    write_text_file(tmp / name, text);
    return tmp / name;
  }
  fs::path operator/(const std::string& rel) const { return tmp / rel; }
};

// The policy of docs/policy.md, with inline PEM for key "ops" (test key 2).
std::string full_policy() {
  std::string ops;
  for (std::size_t start = 0; start < pem(2).size();) {
    auto end = pem(2).find('\n', start);
    ops += "      " + pem(2).substr(start, end - start) + "\n";
    start = end + 1;
  }
  return "version: 1\n"
         "keys:\n"
         "  release: keys/release.pub\n"
         "  ci: {file: keys/ci.pub}\n"
         "  ops:\n"
         "    pem: |\n" +
         ops +
         "rules:\n"
         "  - name: team\n"
         "    match: registry.example.com/team/**\n"
         "    mode: warn\n"
         "    keys: [release, ci]\n"
         "    threshold: 2\n"
         "    annotations: {env: prod}\n"
         "    attestations:\n"
         "      - type: slsaprovenance\n"
         "        keys: [ci]\n"
         "        where: [\"/buildDefinition/buildType=https://example.com/build/v1\"]\n"
         "        maxSeverity: HIGH\n"
         "  - name: base\n"
         "    match: [docker.io/library/debian, docker.io/library/alpine]\n"
         "    action: accept\n"
         "  - name: ops\n"
         "    match: registry.example.com/ops/*\n"
         "    keys: [ops]\n"
         "default:\n"
         "  action: reject\n";
}

std::string refusal(const std::string& text, const std::string& source = "p.yaml") {
  try {
    (void)TrustPolicy::parse(text, source, "/nonexistent");
  } catch (const InputError& e) {
    return e.what();
  }
  FAIL("expected an InputError");
  return {};
}

// A minimal valid policy over one inline key, with `rule` as its only rule's extra lines.
std::string one_rule(const std::string& rule_lines) {
  std::string p = pem(0);
  std::string escaped;
  for (char c : p) escaped += c == '\n' ? std::string("\\n") : std::string(1, c);
  return "version: 1\n"
         "keys:\n"
         "  release: {pem: \"" +
         escaped +
         "\"}\n"
         "rules:\n"
         "  - name: team\n"
         "    match: registry.example.com/team/*\n" +
         rule_lines;
}

TEST_CASE("policy file: the documented format reads into rules, keys and a default",
          "[policy-file]") {
  PolicyDir dir;
  const auto file = dir.write(full_policy());
  const auto policy = TrustPolicy::load(file);

  CHECK(policy.source() == file.string());
  REQUIRE(policy.keys().size() == 3);
  CHECK(policy.keys()[0].name == "release");
  CHECK(policy.keys()[0].file == dir / "keys/release.pub");
  CHECK(policy.keys()[0].at.line == 3);
  CHECK(policy.keys()[0].at.column == 3);
  CHECK(policy.keys()[1].file == dir / "keys/ci.pub");
  CHECK(policy.keys()[2].name == "ops");
  CHECK(policy.keys()[2].file == std::nullopt);
  CHECK(policy.keys()[2].key_id() ==
        sigil::test::test_key(KeyType::kEcdsaP256, 2).public_key().key_id().str());
  CHECK(policy.keys()[0].key_id() ==
        sigil::test::test_key(KeyType::kEcdsaP256, 0).public_key().key_id().str());

  REQUIRE(policy.rules().size() == 3);
  const auto& team = policy.rules()[0];
  CHECK(team.name == "team");
  CHECK(team.match == std::vector<std::string>{"registry.example.com/team/**"});
  CHECK(team.action == RuleAction::kVerify);
  CHECK(team.mode == RuleMode::kWarn);
  CHECK(team.keys == std::vector<std::string>{"release", "ci"});
  CHECK(team.threshold == 2);
  CHECK(team.annotations == std::map<std::string, std::string>{{"env", "prod"}});
  REQUIRE(team.attestations.size() == 1);
  CHECK(team.attestations[0].type == "slsaprovenance");
  CHECK(team.attestations[0].keys == std::vector<std::string>{"ci"});
  CHECK(team.attestations[0].where ==
        std::vector<std::string>{"/buildDefinition/buildType=https://example.com/build/v1"});
  CHECK(team.attestations[0].max_severity == Severity::kHigh);
  CHECK(team.at.line == 12);
  CHECK(team.at.column == 5);
  CHECK(team.field_at.at("threshold").line == 16);
  CHECK(team.field_at.at("threshold").column == 16);
  CHECK(team.field_at.at("match[0]").line == 13);
  CHECK(team.field_at.count("action") == 0);

  const auto& base = policy.rules()[1];
  CHECK(base.action == RuleAction::kAccept);
  CHECK(base.match ==
        std::vector<std::string>{"docker.io/library/debian", "docker.io/library/alpine"});
  CHECK(base.field_at.at("match[1]").line == 24);
  CHECK(base.field_at.at("match[1]").column == 39);

  REQUIRE(policy.default_rule() != nullptr);
  CHECK(policy.default_rule()->name == "default");
  CHECK(policy.default_rule()->action == RuleAction::kReject);
  CHECK(policy.default_rule()->at.line == 30);

  CHECK(policy.select("registry.example.com/team/a/b").rule == &team);
  CHECK(policy.select("registry.example.com/other").rule == policy.default_rule());
}

TEST_CASE("policy file: the files read and the content digest cover the policy and each key file",
          "[policy-file]") {
  PolicyDir dir;
  const auto text = full_policy();
  const auto file = dir.write(text);
  const auto policy = TrustPolicy::load(file);
  REQUIRE(policy.files().size() == 3);
  CHECK(policy.files()[0] == file);
  CHECK(policy.files()[1] == dir / "keys/release.pub");
  CHECK(policy.files()[2] == dir / "keys/ci.pub");
  const auto all = text + pem(0) + pem(1);
  CHECK(policy.content_digest() ==
        Digest::of(ByteView(reinterpret_cast<const std::uint8_t*>(all.data()), all.size())).str());

  // The same key bytes under another file name: the same digest; another key: another digest.
  write_text_file(dir / "keys/ci.pub", pem(3));
  CHECK(TrustPolicy::load(file).content_digest() != policy.content_digest());
}

TEST_CASE("policy file: key files are read relative to the policy's directory, not the caller's",
          "[policy-file]") {
  PolicyDir dir;
  const auto file = dir.write(full_policy(), "sub.yaml");
  // Loaded from another working directory (restored however load() ends).
  struct Cwd {
    fs::path saved = fs::current_path();
    ~Cwd() { fs::current_path(saved); }
  } restore;
  fs::current_path("/");
  const auto policy = TrustPolicy::load(file);
  fs::current_path(restore.saved);
  CHECK(policy.keys()[0].file == dir / "keys/release.pub");

  // parse() reads them under base_dir.
  const auto parsed = TrustPolicy::parse(full_policy(), "inline", dir.tmp.path());
  CHECK(parsed.keys()[1].file == dir / "keys/ci.pub");
  CHECK(parsed.files().size() == 2);
}

TEST_CASE("policy file: a JSON policy means what the same YAML policy means", "[policy-file]") {
  PolicyDir dir;
  const auto yaml = TrustPolicy::load(dir.write(full_policy()));
  const auto json = TrustPolicy::load(dir.write(
      R"({"version": 1,
          "keys": {"release": "keys/release.pub", "ci": {"file": "keys/ci.pub"}, "ops": {"pem": ")" +
          [] {
            std::string out;
            for (char c : pem(2)) out += c == '\n' ? std::string("\\n") : std::string(1, c);
            return out;
          }() +
          R"("}},
          "rules": [
            {"name": "team", "match": "registry.example.com/team/**", "mode": "warn",
             "keys": ["release", "ci"], "threshold": 2, "annotations": {"env": "prod"},
             "attestations": [{"type": "slsaprovenance", "keys": ["ci"],
               "where": ["/buildDefinition/buildType=https://example.com/build/v1"],
               "maxSeverity": "HIGH"}]},
            {"name": "base", "match": ["docker.io/library/debian", "docker.io/library/alpine"],
             "action": "accept"},
            {"name": "ops", "match": "registry.example.com/ops/*", "keys": ["ops"]}],
          "default": {"action": "reject"}})",
      "policy.json"));
  REQUIRE(json.rules().size() == yaml.rules().size());
  for (std::size_t i = 0; i < json.rules().size(); ++i) {
    CHECK(json.rules()[i].name == yaml.rules()[i].name);
    CHECK(json.rules()[i].match == yaml.rules()[i].match);
    CHECK(json.rule_digest(json.rules()[i]) == yaml.rule_digest(yaml.rules()[i]));
  }
  CHECK(json.rule_digest(*json.default_rule()) == yaml.rule_digest(*yaml.default_rule()));
  CHECK(json.rules()[0].field_at.at("threshold").line == 5);
}

TEST_CASE("policy file: an unknown field is refused naming file, line, column and field",
          "[policy-file]") {
  CHECK(refusal(one_rule("    treshold: 1\n")) ==
        "p.yaml:7:5: rules[0].treshold: unknown field (rules[0] has: name, match, action, mode, "
        "keys, threshold, annotations, attestations)");
  CHECK(refusal("version: 1\nrule: []\n") ==
        "p.yaml:2:1: rule: unknown field (a policy has: version, keys, rules, default, admission)");
  CHECK(refusal(one_rule("    keys: [release]\n    attestations: [{type: spdx, wher: []}]\n")) ==
        "p.yaml:8:33: rules[0].attestations[0].wher: unknown field (rules[0].attestations[0] has: "
        "type, keys, where, maxSeverity)");
  CHECK(refusal("version: 1\nkeys: {a: {path: x.pub}}\n") ==
        "p.yaml:2:12: keys.a.path: unknown field (keys.a has: file, pem)");
  CHECK(refusal("version: 1\ndefault: {action: reject, name: d}\n") ==
        "p.yaml:2:27: default.name: the default rule is named 'default' and takes no name");
}

TEST_CASE("policy file: admission.unknownKinds reads deny or allow, deny when not written",
          "[policy-file]") {
  const auto settings = [](const std::string& text) {
    return TrustPolicy::parse(text, "p.yaml", "/nonexistent").admission();
  };
  const std::string base = "version: 1\ndefault: {action: accept}\n";
  CHECK(settings(base).unknown_kinds == UnknownKinds::kDeny);
  CHECK(settings(base).at.line == 0);
  const auto allow = settings(base + "admission:\n  unknownKinds: allow\n");
  CHECK(allow.unknown_kinds == UnknownKinds::kAllow);
  CHECK(allow.at.line == 4);
  CHECK(allow.at.column == 17);
  CHECK(settings(base + "admission: {unknownKinds: deny}\n").unknown_kinds == UnknownKinds::kDeny);
  CHECK(settings(base + "admission: {}\n").unknown_kinds == UnknownKinds::kDeny);
  CHECK(TrustPolicy::parse(R"({"version": 1, "default": {"action": "accept"},
                              "admission": {"unknownKinds": "allow"}})",
                           "p.json", "/nonexistent")
            .admission()
            .unknown_kinds == UnknownKinds::kAllow);
}

TEST_CASE("policy file: admission is refused when it is not a mapping of known fields and values",
          "[policy-file]") {
  const std::string base = "version: 1\ndefault: {action: accept}\n";
  CHECK(refusal(base + "admission:\n  unknownKind: allow\n") ==
        "p.yaml:4:3: admission.unknownKind: unknown field (admission has: unknownKinds)");
  CHECK(refusal(base + "admission: {unknownKinds: permit}\n") ==
        "p.yaml:3:27: admission.unknownKinds: unknown value 'permit' (deny or allow)");
  CHECK(refusal(base + "admission: {unknownKinds: [deny]}\n") ==
        "p.yaml:3:27: admission.unknownKinds: needs a string, not a list");
  CHECK(refusal(base + "admission: deny\n") ==
        "p.yaml:3:12: admission: needs a mapping (unknownKinds), not 'deny'");
  CHECK(refusal(base + "admission: {unknownKinds: allow, unknownKinds: deny}\n") ==
        "p.yaml:3:34: admission.unknownKinds: 'unknownKinds' is given twice in one mapping (which "
        "one applies would be a guess)");
}

TEST_CASE("policy file: a duplicate rule is refused naming the second one's line",
          "[policy-file]") {
  const auto text = one_rule("    keys: [release]\n") +
                    "  - name: team\n"
                    "    match: registry.example.com/other/*\n"
                    "    keys: [release]\n";
  CHECK(refusal(text) ==
        "p.yaml:8:11: rules[1].name: rule 'team' is defined twice (first at p.yaml:5:5)");
}

TEST_CASE("policy file: a rule named like the default rule is refused at its name, by index",
          "[policy-file]") {
  CHECK(refusal(one_rule("    keys: [release]\n") +
                "  - {name: default, match: registry.example.com/x/*, keys: [release]}\n"
                "default: {action: reject}\n") ==
        "p.yaml:8:12: rules[1].name: rule 'default' has the default rule's name");
}

TEST_CASE("policy file: a key given twice in one mapping is refused, in YAML and in JSON",
          "[policy-file]") {
  CHECK(refusal(one_rule("    keys: [release]\n    threshold: 1\n    threshold: 1\n")) ==
        "p.yaml:9:5: rules[0].threshold: 'threshold' is given twice in one mapping (which one "
        "applies would be a guess)");
  CHECK(refusal(R"({"version": 1, "version": 1})", "p.json") ==
        "p.json:1:16: version: 'version' is given twice in one mapping (which one applies would "
        "be a guess)");
  // Quoting does not make it another key.
  CHECK(refusal("version: 1\nkeys: {a: x.pub, 'a': y.pub}\n") ==
        "p.yaml:2:18: keys.a: 'a' is given twice in one mapping (which one applies would be a "
        "guess)");
}

TEST_CASE("policy file: a key file that does not exist is NotFoundError naming position and path",
          "[policy-file]") {
  PolicyDir dir;
  const auto file = dir.write("version: 1\nkeys:\n  release: keys/gone.pub\n");
  const auto t = thrown_by([&] { (void)TrustPolicy::load(file); });
  CHECK(t.code == ErrorCode::kNotFound);
  CHECK(t.message == file.string() + ":3:12: keys.release: " + (dir / "keys/gone.pub").string() +
                         ": no such file");
  const auto file2 = dir.write("version: 1\nkeys:\n  ci: {file: /nonexistent/ci.pub}\n");
  CHECK(thrown_by([&] { (void)TrustPolicy::load(file2); }).message ==
        file2.string() + ":3:14: keys.ci.file: /nonexistent/ci.pub: no such file");
}

TEST_CASE("policy file: a key that is not a public key is InputError with its position, no PEM",
          "[policy-file]") {
  PolicyDir dir;
  write_text_file(dir / "keys/bad.pub",
                  "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
  const auto file = dir.write("version: 1\nkeys:\n  bad: keys/bad.pub\n");
  const auto t = thrown_by([&] { (void)TrustPolicy::load(file); });
  CHECK(t.code == ErrorCode::kInput);
  CHECK(t.message == file.string() + ":3:8: keys.bad: " + (dir / "keys/bad.pub").string() +
                         ": expected PEM type 'PUBLIC KEY', found 'CERTIFICATE'");
  // A directory where a key file should be.
  const auto file2 = dir.write("version: 1\nkeys:\n  d: keys\n");
  const auto t2 = thrown_by([&] { (void)TrustPolicy::load(file2); });
  CHECK(t2.code == ErrorCode::kInput);
  CHECK(t2.message ==
        file2.string() + ":3:6: keys.d: " + (dir / "keys").string() + ": not a regular file");
  // Inline PEM that is broken: the message names the position, never the body.
  const auto m = refusal(
      "version: 1\nkeys:\n  ops:\n    pem: |\n      -----BEGIN PUBLIC KEY-----\n      "
      "SECRETLOOKINGBODY!\n      -----END PUBLIC KEY-----\n");
  CHECK(m.rfind("p.yaml:4:10: keys.ops.pem: ", 0) == 0);
  CHECK(m.find("SECRETLOOKINGBODY") == std::string::npos);
}

TEST_CASE("policy file: a threshold above the rule's keys is refused at the threshold",
          "[policy-file]") {
  CHECK(refusal(one_rule("    keys: [release]\n    threshold: 2\n")) ==
        "p.yaml:8:16: rules[0].threshold: 2 is more than the 1 distinct key(s) the rule names "
        "(release): it can never be met");
}

TEST_CASE("policy file: values of the wrong type are refused", "[policy-file]") {
  CHECK(refusal(one_rule("    keys: release\n")) ==
        "p.yaml:7:11: rules[0].keys: needs a list, not 'release'");
  CHECK(refusal(one_rule("    keys: [release]\n    threshold: \"2\"\n")) ==
        "p.yaml:8:16: rules[0].threshold: needs a number, not the string '2' (write it without "
        "quotes)");
  CHECK(refusal(one_rule("    keys: [release]\n    threshold: -1\n")) ==
        "p.yaml:8:16: rules[0].threshold: '-1' is not a whole number of 0 or more");
  CHECK(refusal(one_rule("    keys: [release]\n    threshold: 1.5\n")) ==
        "p.yaml:8:16: rules[0].threshold: '1.5' is not a whole number of 0 or more");
  CHECK(refusal(one_rule("    keys: [release]\n    threshold:\n")) ==
        "p.yaml:8:5: rules[0].threshold: needs a number, not nothing");
  CHECK(refusal(one_rule("    keys: [release]\n    threshold: 0\n")) ==
        "p.yaml:8:16: rules[0].threshold: 0 would require nothing: at least 1");
  CHECK(refusal(one_rule("    keys: [[release]]\n")) ==
        "p.yaml:7:12: rules[0].keys[0]: needs a string, not a list");
  CHECK(refusal(one_rule("    keys: [release]\n    action: allow\n")) ==
        "p.yaml:8:13: rules[0].action: unknown action 'allow' (verify, accept or reject)");
  CHECK(refusal(one_rule("    keys: [release]\n    mode: log\n")) ==
        "p.yaml:8:11: rules[0].mode: unknown mode 'log' (enforce, warn or audit)");
  CHECK(refusal(one_rule("    keys: [release]\n    annotations: [env]\n")) ==
        "p.yaml:8:18: rules[0].annotations: needs a mapping of annotation names to values, not a "
        "list");
  CHECK(
      refusal(one_rule("    keys: [release]\n    attestations: [{type: x, maxSeverity: BAD}]\n")) ==
      "p.yaml:8:43: rules[0].attestations[0].maxSeverity: unknown severity 'BAD': the levels are "
      "UNKNOWN, LOW, MEDIUM, HIGH, CRITICAL");
  CHECK(refusal("version: 1\nrules: {team: {}}\n") ==
        "p.yaml:2:8: rules: needs a list of rules, not a mapping");
  CHECK(refusal("- version: 1\n") ==
        "p.yaml:1:1: policy: a policy is a mapping (version, keys, rules, default, admission), not "
        "a list");
}

TEST_CASE("policy file: the version is required and only version 1 is read", "[policy-file]") {
  CHECK(refusal("rules: []\n") ==
        "p.yaml:1:1: version: missing: a policy starts with `version: 1`");
  CHECK(refusal("version: 2\n") ==
        "p.yaml:1:10: version: version 2 is not supported (this sigil reads version 1)");
  CHECK(refusal("version: '1'\n") ==
        "p.yaml:1:10: version: needs a number, not the string '1' (write it without quotes)");
  const auto p = TrustPolicy::parse("version: 1\n", "p.yaml", "/nonexistent");
  CHECK(p.rules().empty());
  CHECK(p.default_rule() == nullptr);
}

TEST_CASE("policy file: anchors, aliases, merge keys and tags are refused", "[policy-file]") {
  CHECK(refusal(one_rule("    keys: &k [release]\n")) ==
        "p.yaml:7:11: rules[0].keys: anchors (&name) are not allowed: write each value where it "
        "applies");
  CHECK(refusal("version: 1\nkeys: {a: x}\nrules:\n  - name: a\n    keys: *k\n")
            .rfind("p.yaml:", 0) == 0);
  CHECK(refusal(one_rule("    <<: {keys: [release]}\n")) ==
        "p.yaml:7:5: rules[0].<<: merge keys (<<) are not allowed: write each field where it "
        "applies");
  CHECK(refusal(one_rule("    keys: !!seq [release]\n")) ==
        "p.yaml:7:11: rules[0].keys: explicit tags ('tag:yaml.org,2002:seq') are not allowed");
}

TEST_CASE("policy file: an anchor is refused where it is set, an alias of none is not YAML",
          "[policy-file]") {
  CHECK(refusal(one_rule("    keys: [release]\n    annotations: {a: &v x, b: *v}\n")) ==
        "p.yaml:8:22: rules[0].annotations.a: anchors (&name) are not allowed: write each value "
        "where it applies");
  CHECK(refusal(one_rule("    keys: [release]\n    annotations: {b: *v}\n")) ==
        "p.yaml:8:22: not valid YAML: the referenced anchor is not defined");
}

TEST_CASE("policy file: an empty file, a comment-only file and two documents are refused",
          "[policy-file]") {
  CHECK(refusal("") == "p.yaml:1:1: policy: the policy is empty (it starts with `version: 1`)");
  CHECK(refusal("# nothing yet\n") ==
        "p.yaml:1:1: policy: the policy is empty (it starts with `version: 1`)");
  CHECK(refusal("---\n") ==
        "p.yaml:2:1: policy: the policy is empty (it starts with `version: 1`)");
  CHECK(refusal("version: 1\n---\nversion: 1\n") ==
        "p.yaml:2:1: policy: a second YAML document ('---'): a policy is one document");
  CHECK(refusal("version: 1\n  bad: [\n").rfind("p.yaml:2:", 0) == 0);
}

TEST_CASE("policy file: the file size, rules and keys are bounded", "[policy-file]") {
  const std::string big = "version: 1\n#" + std::string(limits::kMaxPolicyFileBytes, 'x') + "\n";
  const auto t = thrown_by([&] { (void)TrustPolicy::parse(big, "p.yaml", "/"); });
  CHECK(t.code == ErrorCode::kLimit);
  CHECK(t.message ==
        "p.yaml: " + std::to_string(big.size()) + " bytes of policy is over the limit of 1048576");

  // load() refuses an oversized file before reading it.
  PolicyDir dir;
  const auto file = dir.write(big);
  const auto t1 = thrown_by([&] { (void)TrustPolicy::load(file); });
  CHECK(t1.code == ErrorCode::kLimit);
  CHECK(t1.message == file.string() + ": " + std::to_string(big.size()) +
                          " bytes is over the limit of 1048576 bytes");

  std::string rules = "version: 1\nrules:\n";
  for (std::size_t i = 0; i <= limits::kMaxPolicyRules; ++i) rules += "  - {name: r}\n";
  const auto t2 = thrown_by([&] { (void)TrustPolicy::parse(rules, "p.yaml", "/"); });
  CHECK(t2.code == ErrorCode::kLimit);
  CHECK(t2.message == "p.yaml:3:3: rules: 1001 rules is over the limit of 1000");

  std::string keys = "version: 1\nkeys:\n";
  for (std::size_t i = 0; i <= limits::kMaxPolicyKeys; ++i) {
    keys += "  k" + std::to_string(i) + ": x.pub\n";
  }
  CHECK(thrown_by([&] { (void)TrustPolicy::parse(keys, "p.yaml", "/"); }).message ==
        "p.yaml:3:3: keys: 1001 keys is over the limit of 1000");

  const std::string long_name(limits::kMaxPolicyNameBytes + 1, 'n');
  CHECK(thrown_by([&] {
          (void)TrustPolicy::parse("version: 1\nrules:\n  - name: " + long_name + "\n", "p.yaml",
                                   "/");
        }).message == "p.yaml:3:11: rules[0].name: 257 bytes in a name is over the limit of 256");
  CHECK(thrown_by([&] {
          (void)TrustPolicy::parse("version: 1\nkeys:\n  " + long_name + ": x.pub\n", "p.yaml",
                                   "/");
        }).message == "p.yaml:3:3: keys." + long_name.substr(0, 64) +
                          "…: 257 bytes in a name is over the limit of 256");

  std::string deep = "version: 1\nrules: ";
  for (int i = 0; i < 20; ++i) deep += "[";
  for (int i = 0; i < 20; ++i) deep += "]";
  CHECK(thrown_by([&] { (void)TrustPolicy::parse(deep, "p.yaml", "/"); }).message ==
        "p.yaml:2:23: 17 levels of nesting is over the limit of 16");
}

}  // namespace
}  // namespace trust::verify
