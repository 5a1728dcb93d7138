// sigil policy export --format containers-policy FILE OUTDIR: the trust policy as podman, CRI-O
// and skopeo enforce it (containers/image 5.23): OUTDIR/policy.json (containers-policy.json(5))
// and OUTDIR/registries.d/sigil.yaml (containers-registries.d(5)), or a refusal naming the rule.
//
// The trust rule: an exported policy accepts exactly the images `sigil verify --policy` accepts,
// or nothing is written. containers/image chooses one scope per image, the longest of
// "host/path" prefixes the image's repository is or lies under, and ANDs the requirements
// listed there; sigil chooses the most specific glob. So only globs that are a scope are
// exported: an exact repository name (scope = the name) and NAME/** (scope = NAME), and `**`
// (the docker transport's "" scope). A scope also covers the repository it names and every
// repository under it that no longer scope claims; export checks that sigil judges each of those
// by the same requirements (probing one name under each scope that no glob can name), and
// refuses otherwise. Requirements that sigstoreSigned cannot state are refused too: thresholds
// above 1 and more than one key (requirements in a scope are ANDed: "any of these keys" has no
// form), required annotations and attestations, warn and audit modes. Exit 2 for a policy that
// cannot be expressed (docs/policy.md "podman and CRI-O" says why 2).
#include <filesystem>
#include <map>
#include <memory>
#include <optional>

#include "libtrust/core/encoding.h"
#include "libtrust/core/error.h"
#include "libtrust/core/file.h"
#include "libtrust/verify/trust_policy.h"
#include "policy_commands.h"

namespace sigil::cli {
namespace {

namespace fs = std::filesystem;
using trust::verify::PolicyRule;
using trust::verify::RuleAction;
using trust::verify::TrustPolicy;

struct ExportArgs {
  std::string format;
  std::string file;
  std::string outdir;
  bool force = false;
};

// A repository name part no glob can spell (globs are [a-z0-9._-*?] and '/'): a name under a
// scope that no rule names, to ask sigil which rule such a repository falls under.
constexpr const char* kProbeSegment = "~";

std::string rule_label(const PolicyRule& r) {
  return r.name == "default" && r.match.empty() ? std::string("the default rule")
                                                : "rule '" + r.name + "'";
}

// containers/image's requirements for what a sigil rule demands, or UsageError naming the rule.
nlohmann::ordered_json requirements(const TrustPolicy& policy, const PolicyRule* rule) {
  using J = nlohmann::ordered_json;
  if (rule == nullptr) return J::array({{{"type", "reject"}}});  // no rule: denied
  const auto cannot = [&](const std::string& what) {
    throw trust::UsageError(policy.source() + ": " + rule_label(*rule) + ": " + what +
                            ": containers/image cannot express it, so the policy is not exported "
                            "(a rule is never weakened)");
  };
  if (rule->action == RuleAction::kAccept) return J::array({{{"type", "insecureAcceptAnything"}}});
  if (rule->action == RuleAction::kReject) return J::array({{{"type", "reject"}}});
  if (rule->mode != trust::verify::RuleMode::kEnforce) {
    cannot("mode " + std::string(trust::verify::to_string(rule->mode)) +
           " (containers/image only enforces)");
  }
  if (rule->threshold > 1) {
    cannot("threshold " + std::to_string(rule->threshold) +
           " (containers/image needs one signature by one key)");
  }
  if (!rule->annotations.empty()) {
    cannot("required annotations (sigstoreSigned checks only the key and the identity)");
  }
  if (!rule->attestations.empty()) cannot("required attestations");
  std::optional<std::string> pem;
  for (const auto& name : rule->keys) {
    const auto* k = policy.key(name);
    if (k == nullptr) continue;  // build() refused unknown names
    const auto text = k->key.to_pem();
    if (pem && *pem != text) {
      cannot("more than one key (" + std::to_string(rule->keys.size()) +
             "): requirements in a containers/image scope are all required, so 'any one of "
             "these keys' has no form");
    }
    pem = text;
  }
  return J::array({{{"type", "sigstoreSigned"},
                    {"keyData", trust::base64_encode(trust::to_bytes(*pem))},
                    {"signedIdentity", {{"type", "matchRepository"}}}}});
}

// The scope a glob is, or nullopt: "" for `**`, NAME for NAME and NAME/** (literal NAME).
struct Scope {
  std::string name;
  bool covers_self = true;  // sigil's glob matches NAME itself (false for NAME/**)
};
std::optional<Scope> scope_of(const std::string& glob) {
  if (glob == "**") return Scope{.name = "", .covers_self = false};
  std::string base = glob;
  bool prefix = false;
  if (base.size() > 3 && base.compare(base.size() - 3, 3, "/**") == 0) {
    base.resize(base.size() - 3);
    prefix = true;
  }
  if (base.find_first_of("*?") != std::string::npos) return std::nullopt;
  return Scope{.name = base, .covers_self = !prefix};
}

struct Exported {
  nlohmann::ordered_json policy;
  nlohmann::ordered_json registries;
};

Exported export_policy(const TrustPolicy& policy) {
  using J = nlohmann::ordered_json;
  // scope -> (requirements, the rule and glob that gave it)
  struct Entry {
    J requirements;
    const PolicyRule* rule = nullptr;
    std::string glob;
  };
  std::map<std::string, Entry> scopes;
  for (const auto& r : policy.rules()) {
    for (const auto& glob : r.match) {
      const auto scope = scope_of(glob);
      if (!scope) {
        throw trust::UsageError(
            policy.source() + ": rule '" + r.name + "': glob '" + glob +
            "': containers/image scopes are a repository or a namespace prefix (HOST/PATH, "
            "HOST/PATH/**, **), so a glob with * or ? elsewhere would apply to other repositories "
            "than sigil's; not exported");
      }
      auto req = requirements(policy, &r);
      auto [it, fresh] = scopes.try_emplace(scope->name, Entry{req, &r, glob});
      if (!fresh && it->second.requirements != req) {
        throw trust::UsageError(policy.source() + ": rule '" + r.name + "': glob '" + glob +
                                "' and rule '" + it->second.rule->name + "': glob '" +
                                it->second.glob + "' are one containers/image scope ('" +
                                scope->name + "') with different requirements; not exported");
      }
    }
  }
  // What sigil decides for every repository a scope would cover must be what the scope says.
  const auto sigil_requirements = [&](const std::string& repository) {
    return requirements(policy, policy.select(repository).rule);
  };
  for (const auto& [name, entry] : scopes) {
    const auto under = name.empty() ? std::string(kProbeSegment) + ".invalid/" + kProbeSegment
                                    : name + "/" + kProbeSegment;
    std::vector<std::string> probes = {under};
    // A scope HOST/PATH covers the repository HOST/PATH itself; a bare host is no repository.
    if (name.find('/') != std::string::npos) probes.push_back(name);
    for (const auto& repo : probes) {
      if (sigil_requirements(repo) == entry.requirements) continue;
      const auto sel = policy.select(repo);
      throw trust::UsageError(
          policy.source() + ": rule '" + entry.rule->name + "': glob '" + entry.glob +
          "': its containers/image scope '" + name + "' also covers " +
          (repo == name ? "the repository " + name + " itself"
                        : "repositories under " + (name.empty() ? "every registry" : name)) +
          ", which sigil judges by " +
          (sel.rule == nullptr ? std::string("no rule (denied)") : rule_label(*sel.rule)) +
          "; add the glob '" + (repo == name ? name : name + "/**") +
          "' to one rule so both agree, or the policy is not exported");
    }
  }
  Exported out;
  out.policy["default"] = requirements(policy, policy.default_rule());
  J docker = J::object();
  J registries = J::object();
  for (const auto& [name, entry] : scopes) {
    docker[name] = entry.requirements;
    if (entry.requirements[0]["type"] == "sigstoreSigned" && !name.empty()) {
      registries[name] = {{"use-sigstore-attachments", true}};
    }
  }
  out.policy["transports"] = {{"docker", docker}};
  const auto* d = policy.default_rule();
  const bool default_verifies = d != nullptr && d->action == RuleAction::kVerify;
  const bool any_verifies =
      scopes.count("") != 0 && scopes.at("").requirements[0]["type"] == "sigstoreSigned";
  if (default_verifies || any_verifies) {
    out.registries["default-docker"] = {{"use-sigstore-attachments", true}};
  }
  out.registries["docker"] = registries;
  return out;
}

int run_export(const ExportArgs& a) {
  const auto policy = TrustPolicy::load(a.file);
  const auto exported = export_policy(policy);
  const fs::path dir(a.outdir);
  const auto policy_json = dir / "policy.json";
  const auto registries_yaml = dir / "registries.d" / "sigil.yaml";
  const auto overwrite = a.force ? trust::Overwrite::kYes : trust::Overwrite::kNo;
  if (!a.force) {
    // Both are checked before either is written: nothing is left half-exported.
    for (const auto& p : {policy_json, registries_yaml}) {
      if (fs::exists(fs::symlink_status(p))) {
        throw trust::ExistsError(p.string() + ": exists (use --force to replace it)");
      }
    }
  }
  std::error_code ec;
  fs::create_directories(registries_yaml.parent_path(), ec);
  if (ec) {
    throw trust::IoError(registries_yaml.parent_path().string() +
                         ": cannot create: " + ec.message());
  }
  // registries.d files are YAML; JSON is YAML, and nlohmann writes it (no hand-written YAML).
  const auto yaml = "# Written by sigil policy export from " + a.file +
                    ": registries.d(5) for the scopes policy.json verifies.\n" +
                    dump_json(exported.registries) + "\n";
  trust::write_file_atomic(policy_json, trust::to_bytes(dump_json(exported.policy) + "\n"), 0644,
                           overwrite);
  trust::write_file_atomic(registries_yaml, trust::to_bytes(yaml), 0644, overwrite);
  say(a.file + ": exported " + std::to_string(exported.policy["transports"]["docker"].size()) +
      " scope(s) to " + policy_json.string() + " and " + registries_yaml.string());
  return kExitOk;
}

}  // namespace

void add_policy_export(Program& prog, CLI::App& group) {
  auto a = std::make_shared<ExportArgs>();
  auto* cmd = add_command(prog, group, "export",
                          "Write the policy for podman, CRI-O and skopeo (policy.json and "
                          "registries.d/sigil.yaml): exit 0 written, 2 if a rule cannot be "
                          "expressed there",
                          [a] { return run_export(*a); });
  add_choice(*cmd, "--format", a->format, {"containers-policy"},
             "What to write: containers-policy (containers-policy.json(5) and "
             "containers-registries.d(5), containers/image 5.23)")
      ->required();
  cmd->add_flag("--force", a->force, "Replace policy.json and registries.d/sigil.yaml if present");
  cmd->add_option("FILE", a->file, "The policy file (YAML or JSON; docs/policy.md)")
      ->required()
      ->type_name("");
  cmd->add_option("OUTDIR", a->outdir,
                  "Where to write policy.json and registries.d/sigil.yaml (created if missing)")
      ->required()
      ->type_name("");
}

}  // namespace sigil::cli
