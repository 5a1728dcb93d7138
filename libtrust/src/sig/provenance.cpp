// SLSA v1 provenance from the CI environment (sig/provenance.h). Each system's predicate follows
// the buildType its own generator documents, field for field:
//   GitHub Actions  slsa-framework/slsa-github-generator's
//                   https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1
//                   (externalParameters.workflow {ref, repository, path}; internalParameters.github
//                   {event_name, repository_id, repository_owner_id, runner_environment})
//   GitLab CI       GitLab's https://docs.gitlab.com/ci/pipeline_security/slsa/provenance_v1
//                   (externalParameters {source, entryPoint, variables}; internalParameters
//                   {name, architecture, job})
// builder.id is the workflow file (GitHub) or the pipeline configuration (GitLab) at the ref that
// ran sigil: the identity a Fulcio certificate names as the "Build Signer URI" for the same run,
// so that a policy written for keyless provenance names the same builder.
// Only the variables below are read from the process environment: nothing else (tokens,
// passwords) is copied.
#include "libtrust/sig/provenance.h"

#include <array>
#include <cctype>
#include <cstdlib>
#include <vector>

#include "core/json_util.h"
#include "libtrust/core/error.h"
#include "libtrust/core/text.h"
#include "sig/predicate_shape.h"

extern char** environ;  // NOLINT: POSIX

namespace trust::sig {

namespace {

using detail::OrderedJson;

constexpr std::string_view kGitHub = "GitHub Actions";
constexpr std::string_view kGitLab = "GitLab CI";
constexpr std::string_view kGitHubBuildType =
    "https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1";
constexpr std::string_view kGitLabBuildType =
    "https://docs.gitlab.com/ci/pipeline_security/slsa/provenance_v1";

// What each system needs (all documented default variables), then what it uses when present.
constexpr std::array<std::string_view, 11> kGitHubNeeds = {
    "GITHUB_SERVER_URL",  "GITHUB_REPOSITORY", "GITHUB_REPOSITORY_ID", "GITHUB_REPOSITORY_OWNER_ID",
    "GITHUB_SHA",         "GITHUB_REF",        "GITHUB_WORKFLOW_REF",  "GITHUB_RUN_ID",
    "GITHUB_RUN_ATTEMPT", "GITHUB_EVENT_NAME", "RUNNER_ENVIRONMENT"};
constexpr std::array<std::string_view, 10> kGitLabNeeds = {
    "CI_SERVER_URL", "CI_PROJECT_PATH", "CI_COMMIT_SHA", "CI_COMMIT_REF_NAME", "CI_PIPELINE_ID",
    "CI_JOB_ID",     "CI_JOB_NAME",     "CI_JOB_URL",    "CI_PIPELINE_SOURCE", "CI_CONFIG_PATH"};
constexpr std::array<std::string_view, 6> kOptional = {
    "GITHUB_ACTIONS",        "GITLAB_CI",
    "CI_COMMIT_TAG",         "CI_JOB_STARTED_AT",
    "CI_RUNNER_DESCRIPTION", "CI_RUNNER_EXECUTABLE_ARCH"};

// The in-toto digest algorithms a --material may name, with their hex lengths.
struct DigestAlgorithm {
  std::string_view name;
  std::size_t hex_a;
  std::size_t hex_b;  // a second length (gitCommit: SHA-1 or SHA-256 repositories), or 0
};
constexpr std::array<DigestAlgorithm, 6> kMaterialAlgorithms{{
    {"sha256", 64, 0},
    {"sha512", 128, 0},
    {"sha384", 96, 0},
    {"sha224", 56, 0},
    {"sha1", 40, 0},
    {"gitCommit", 40, 64},
}};

template <std::size_t N>
std::string join(const std::array<std::string_view, N>& names) {
  std::string out;
  for (const auto n : names) out += (out.empty() ? "" : ", ") + std::string(n);
  return out;
}

bool is_true(const Environment& env, const std::string& name) {
  auto it = env.find(name);
  return it != env.end() && it->second == "true";
}

bool is_lower_hex(std::string_view s) {
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c)) && (c < 'a' || c > 'f')) return false;
  }
  return !s.empty();
}

// The variables a system needs, each present and not empty; UsageError naming every one missing.
template <std::size_t N>
void require(const Environment& env, std::string_view system,
             const std::array<std::string_view, N>& needs) {
  std::string missing;
  for (const auto name : needs) {
    auto it = env.find(std::string(name));
    if (it == env.end() || it->second.empty())
      missing += (missing.empty() ? "" : ", ") + std::string(name);
  }
  if (!missing.empty()) {
    throw UsageError("--predicate auto: " + std::string(system) +
                     " is missing environment variables " + missing);
  }
}

const std::string& get(const Environment& env, std::string_view name) {
  return env.at(std::string(name));
}
std::string get_or(const Environment& env, std::string_view name) {
  auto it = env.find(std::string(name));
  return it == env.end() ? std::string() : it->second;
}

void require_commit(const Environment& env, std::string_view name) {
  const auto& sha = get(env, name);
  if (!is_lower_hex(sha) || (sha.size() != 40 && sha.size() != 64)) {
    throw UsageError("--predicate auto: " + std::string(name) + " '" + excerpt(sha, 80) +
                     "' is not a commit hash (40 or 64 lower-case hex digits)");
  }
}

std::string trimmed_url(const std::string& url) {
  std::string out = url;
  while (!out.empty() && out.back() == '/') out.pop_back();
  return out;
}

OrderedJson source_dependency(const std::string& uri, const std::string& commit) {
  OrderedJson dep = OrderedJson::object();
  dep["uri"] = uri;
  dep["digest"] = OrderedJson::object();
  dep["digest"]["gitCommit"] = commit;
  return dep;
}

// "URI@ALGORITHM:HEX" (split at the last "@": a URI may hold "@" itself, as a purl's version).
OrderedJson material(const std::string& m) {
  const std::string name = "--material '" + excerpt(m, 200) + "'";
  const auto at = m.rfind('@');
  if (at == std::string::npos || at == 0) {
    throw UsageError(name + ": expected URI@ALGORITHM:HEX");
  }
  const std::string uri = m.substr(0, at);
  const std::string digest = m.substr(at + 1);
  if (uri.find(':') == std::string::npos) {
    throw UsageError(name + ": '" + excerpt(uri, 200) + "' is not an absolute URI");
  }
  for (char ch : uri) {
    if (static_cast<unsigned char>(ch) <= 0x20 || ch == 0x7f) {
      throw UsageError(name + ": the URI holds whitespace or a control character");
    }
  }
  const auto colon = digest.find(':');
  if (colon == std::string::npos) throw UsageError(name + ": expected URI@ALGORITHM:HEX");
  const std::string alg = digest.substr(0, colon);
  const std::string hex = digest.substr(colon + 1);
  const DigestAlgorithm* known = nullptr;
  std::string algorithms;
  for (const auto& a : kMaterialAlgorithms) {
    if (a.name == alg) known = &a;
    algorithms += (algorithms.empty() ? "" : ", ") + std::string(a.name);
  }
  if (known == nullptr) {
    throw UsageError(name + ": unknown digest algorithm '" + excerpt(alg, 40) + "' (expected " +
                     algorithms + ")");
  }
  if (!is_lower_hex(hex) || (hex.size() != known->hex_a && hex.size() != known->hex_b)) {
    throw UsageError(name + ": a " + alg + " digest is " + std::to_string(known->hex_a) +
                     (known->hex_b != 0 ? " or " + std::to_string(known->hex_b) : std::string()) +
                     " lower-case hex digits");
  }
  OrderedJson dep = OrderedJson::object();
  dep["uri"] = uri;
  dep["digest"] = OrderedJson::object();
  dep["digest"][alg] = hex;
  return dep;
}

OrderedJson predicate(std::string_view build_type, OrderedJson external, OrderedJson internal,
                      OrderedJson dependencies, const std::string& builder_id,
                      const std::string& invocation_id, const std::string& started,
                      std::string_view finished) {
  OrderedJson def = OrderedJson::object();
  def["buildType"] = build_type;
  def["externalParameters"] = std::move(external);
  def["internalParameters"] = std::move(internal);
  def["resolvedDependencies"] = std::move(dependencies);
  OrderedJson metadata = OrderedJson::object();
  metadata["invocationId"] = invocation_id;
  metadata["startedOn"] = started;
  metadata["finishedOn"] = finished;
  OrderedJson run = OrderedJson::object();
  run["builder"] = OrderedJson::object();
  run["builder"]["id"] = builder_id;
  run["metadata"] = std::move(metadata);
  OrderedJson p = OrderedJson::object();
  p["buildDefinition"] = std::move(def);
  p["runDetails"] = std::move(run);
  return p;
}

OrderedJson github(const Environment& env, OrderedJson deps, std::string_view now) {
  require(env, kGitHub, kGitHubNeeds);
  require_commit(env, "GITHUB_SHA");
  const std::string server = trimmed_url(get(env, "GITHUB_SERVER_URL"));
  const auto& repo = get(env, "GITHUB_REPOSITORY");
  // "owner/repo/.github/workflows/release.yml@refs/heads/main"
  const auto& workflow_ref = get(env, "GITHUB_WORKFLOW_REF");
  const auto at = workflow_ref.find('@');
  if (!workflow_ref.starts_with(repo + "/") || at == std::string::npos || at <= repo.size() + 1 ||
      at + 1 == workflow_ref.size()) {
    throw UsageError("--predicate auto: GITHUB_WORKFLOW_REF '" + excerpt(workflow_ref, 200) +
                     "' is not " + excerpt(repo, 100) + "/PATH@REF");
  }
  OrderedJson workflow = OrderedJson::object();
  workflow["ref"] = workflow_ref.substr(at + 1);
  workflow["repository"] = server + "/" + repo;
  workflow["path"] = workflow_ref.substr(repo.size() + 1, at - repo.size() - 1);
  OrderedJson external = OrderedJson::object();
  external["workflow"] = std::move(workflow);
  OrderedJson gh = OrderedJson::object();
  gh["event_name"] = get(env, "GITHUB_EVENT_NAME");
  gh["repository_id"] = get(env, "GITHUB_REPOSITORY_ID");
  gh["repository_owner_id"] = get(env, "GITHUB_REPOSITORY_OWNER_ID");
  gh["runner_environment"] = get(env, "RUNNER_ENVIRONMENT");
  OrderedJson internal = OrderedJson::object();
  internal["github"] = std::move(gh);
  deps.insert(deps.begin(),
              source_dependency("git+" + server + "/" + repo + "@" + get(env, "GITHUB_REF"),
                                get(env, "GITHUB_SHA")));
  // GitHub documents no variable for the run's start: the start is when sigil ran.
  return predicate(kGitHubBuildType, std::move(external), std::move(internal), std::move(deps),
                   server + "/" + workflow_ref,
                   server + "/" + repo + "/actions/runs/" + get(env, "GITHUB_RUN_ID") +
                       "/attempts/" + get(env, "GITHUB_RUN_ATTEMPT"),
                   std::string(now), now);
}

OrderedJson gitlab(const Environment& env, OrderedJson deps, std::string_view now) {
  require(env, kGitLab, kGitLabNeeds);
  require_commit(env, "CI_COMMIT_SHA");
  const std::string server = trimmed_url(get(env, "CI_SERVER_URL"));
  const auto& project = get(env, "CI_PROJECT_PATH");
  const std::string tag = get_or(env, "CI_COMMIT_TAG");
  const std::string ref =
      tag.empty() ? "refs/heads/" + get(env, "CI_COMMIT_REF_NAME") : "refs/tags/" + tag;
  std::string started = get_or(env, "CI_JOB_STARTED_AT");
  if (started.empty()) {
    started = std::string(now);
  } else if (!detail::is_rfc3339(started)) {
    throw UsageError("--predicate auto: CI_JOB_STARTED_AT '" + excerpt(started, 80) +
                     "' is not an RFC 3339 time");
  }
  OrderedJson variables = OrderedJson::object();
  for (const auto* name : {"CI_PIPELINE_SOURCE", "CI_COMMIT_REF_NAME", "CI_CONFIG_PATH"}) {
    variables[name] = get(env, name);
  }
  OrderedJson external = OrderedJson::object();
  external["source"] = server + "/" + project;
  external["entryPoint"] = get(env, "CI_JOB_NAME");
  external["variables"] = std::move(variables);
  OrderedJson internal = OrderedJson::object();
  if (auto name = get_or(env, "CI_RUNNER_DESCRIPTION"); !name.empty()) internal["name"] = name;
  if (auto arch = get_or(env, "CI_RUNNER_EXECUTABLE_ARCH"); !arch.empty()) {
    internal["architecture"] = arch;
  }
  internal["job"] = get(env, "CI_JOB_ID");
  internal["pipeline"] = get(env, "CI_PIPELINE_ID");
  deps.insert(deps.begin(), source_dependency("git+" + server + "/" + project + "@" + ref,
                                              get(env, "CI_COMMIT_SHA")));
  // As Fulcio's ci_config_ref_uri: "gitlab.com/group/project//.gitlab-ci.yml@refs/heads/main".
  return predicate(kGitLabBuildType, std::move(external), std::move(internal), std::move(deps),
                   server + "/" + project + "//" + get(env, "CI_CONFIG_PATH") + "@" + ref,
                   get(env, "CI_JOB_URL"), started, now);
}

}  // namespace

Environment ci_environment() {
  Environment env;
  auto keep = [&](std::string_view name) {
    if (const char* v = std::getenv(std::string(name).c_str())) env[std::string(name)] = v;
  };
  for (const auto n : kGitHubNeeds) keep(n);
  for (const auto n : kGitLabNeeds) keep(n);
  for (const auto n : kOptional) keep(n);
  return env;
}

std::string ci_system(const Environment& env) {
  if (is_true(env, "GITHUB_ACTIONS")) return std::string(kGitHub);
  if (is_true(env, "GITLAB_CI")) return std::string(kGitLab);
  return {};
}

std::string provenance_from_ci(const Environment& env, std::span<const std::string> materials,
                               std::string_view now) {
  if (!detail::is_rfc3339(now)) {
    throw UsageError("the time of signing '" + excerpt(now, 64) + "' is not an RFC 3339 time");
  }
  const std::string system = ci_system(env);
  if (system.empty()) {
    throw UsageError(
        "--predicate auto: not in a recognised CI system: GitHub Actions needs "
        "GITHUB_ACTIONS=true and " +
        join(kGitHubNeeds) + "; GitLab CI needs GITLAB_CI=true and " + join(kGitLabNeeds));
  }
  OrderedJson deps = OrderedJson::array();
  for (const auto& m : materials) deps.push_back(material(m));
  return detail::dump_compact(system == kGitHub ? github(env, std::move(deps), now)
                                                : gitlab(env, std::move(deps), now));
}

}  // namespace trust::sig
