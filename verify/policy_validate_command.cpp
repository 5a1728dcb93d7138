// sigil policy validate FILE: reads a trust policy as every enforcement point reads it
// (TrustPolicy::load: strict, keys loaded) and says what it holds. Exit 0 valid, 3 invalid (the
// one-line error naming file, line, column and field), 2 usage.
#include <memory>

#include "libtrust/verify/trust_policy.h"
#include "policy_commands.h"

namespace sigil::cli {
namespace {

struct ValidateArgs {
  std::string file;
  OutputFormat output = OutputFormat::kText;
};

std::string plural(std::size_t n, const std::string& noun) {
  return std::to_string(n) + " " + noun + (n == 1 ? "" : "s");
}

// "default reject", "default verify (warn)", "no default (images no rule matches are denied)".
std::string default_text(const trust::verify::PolicyRule* d) {
  if (d == nullptr) return "no default (images no rule matches are denied)";
  std::string out = "default " + std::string(trust::verify::to_string(d->action));
  if (d->mode != trust::verify::RuleMode::kEnforce) {
    out += " (" + std::string(trust::verify::to_string(d->mode)) + ")";
  }
  return out;
}

nlohmann::ordered_json rule_json(const trust::verify::TrustPolicy& policy,
                                 const trust::verify::PolicyRule& r) {
  nlohmann::ordered_json j;
  j["name"] = r.name;
  j["match"] = r.match;
  j["action"] = std::string(trust::verify::to_string(r.action));
  j["mode"] = std::string(trust::verify::to_string(r.mode));
  j["keys"] = r.keys;
  j["threshold"] = r.action == trust::verify::RuleAction::kVerify ? r.threshold : 0;
  j["annotations"] = r.annotations;
  auto atts = nlohmann::ordered_json::array();
  for (const auto& a : r.attestations) {
    atts.push_back({{"type", a.type},
                    {"keys", a.keys.empty() ? r.keys : a.keys},
                    {"where", a.where},
                    {"maxSeverity", a.max_severity ? nlohmann::ordered_json(std::string(
                                                         trust::verify::to_string(*a.max_severity)))
                                                   : nlohmann::ordered_json()}});
  }
  j["attestations"] = std::move(atts);
  j["ruleDigest"] = policy.rule_digest(r);
  j["line"] = r.at.line;
  return j;
}

int run_validate(const ValidateArgs& a) {
  const auto policy = trust::verify::TrustPolicy::load(a.file);
  if (a.output == OutputFormat::kJson) {
    nlohmann::ordered_json j;
    j["file"] = a.file;
    j["valid"] = true;
    j["contentDigest"] = policy.content_digest();
    auto keys = nlohmann::ordered_json::array();
    for (const auto& k : policy.keys()) {
      keys.push_back(
          {{"name", k.name},
           {"keyId", k.key_id()},
           {"type", std::string(trust::to_string(k.key.type()))},
           {"file", k.file ? nlohmann::ordered_json(k.file->string()) : nlohmann::ordered_json()}});
    }
    j["keys"] = std::move(keys);
    auto rules = nlohmann::ordered_json::array();
    for (const auto& r : policy.rules()) rules.push_back(rule_json(policy, r));
    j["rules"] = std::move(rules);
    const auto* d = policy.default_rule();
    j["default"] = d == nullptr ? nlohmann::ordered_json() : rule_json(policy, *d);
    j["admission"] = {
        {"unknownKinds", std::string(trust::verify::to_string(policy.admission().unknown_kinds))}};
    print_json(j);
    return kExitOk;
  }
  say(a.file + ": valid: " + plural(policy.rules().size(), "rule") + ", " +
      default_text(policy.default_rule()) + ", " + plural(policy.keys().size(), "key"));
  return kExitOk;
}

}  // namespace

void add_policy_validate(Program& prog, CLI::App& group) {
  auto a = std::make_shared<ValidateArgs>();
  auto* cmd = add_command(prog, group, "validate",
                          "Check a trust policy file as the enforcement points read it (strictly, "
                          "keys loaded): exit 0 valid, 3 not",
                          [a] { return run_validate(*a); });
  add_output_option(*cmd, a->output, "one line on stderr");
  cmd->add_option("FILE", a->file, "The policy file (YAML or JSON; docs/policy.md)")
      ->required()
      ->type_name("");
}

}  // namespace sigil::cli
