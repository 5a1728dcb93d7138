// SLSA v1 provenance from recorded GitHub Actions and GitLab CI environments: every field, the
// same bytes for the same environment and time, a valid SLSA v1 predicate, materials, and the
// variables named when they are missing.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "core/json_util.h"
#include "libtrust/core/error.h"
#include "libtrust/sig/predicate_type.h"
#include "libtrust/sig/predicates.h"
#include "libtrust/sig/provenance.h"
#include "support/errors.h"
#include "support/process.h"

using namespace trust;
using sigil::test::thrown_by;
using trust::detail::Json;
using trust::sig::Environment;

namespace {

const std::string kNow = "2024-09-02T14:03:27Z";

// NAME=VALUE lines, "#" comments, nothing expanded.
Environment recorded(const std::string& name) {
  std::istringstream in(sigil::test::read_text_file(std::string(SIGIL_TEST_DATA) + "/ci/" + name));
  Environment env;
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    const auto eq = line.find('=');
    REQUIRE(eq != std::string::npos);
    env[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return env;
}

std::string provenance(const Environment& env, const std::vector<std::string>& materials = {},
                       const std::string& now = kNow) {
  return sig::provenance_from_ci(env, materials, now);
}

sigil::test::Thrown refused(const Environment& env,
                            const std::vector<std::string>& materials = {}) {
  return thrown_by([&] { (void)provenance(env, materials); });
}

const std::string kGitHubExpected =
    R"({"buildDefinition":{"buildType":"https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1",)"
    R"("externalParameters":{"workflow":{"ref":"refs/tags/v1.2.0","repository":"https://github.com/example-org/app",)"
    R"("path":".github/workflows/release.yml"}},)"
    R"("internalParameters":{"github":{"event_name":"push","repository_id":"123456789",)"
    R"("repository_owner_id":"987654","runner_environment":"github-hosted"}},)"
    R"("resolvedDependencies":[{"uri":"git+https://github.com/example-org/app@refs/tags/v1.2.0",)"
    R"("digest":{"gitCommit":"0f3c1a5e9b7d2c4a6e8f0b1d3c5a7e9f2b4d6c8a"}}]},)"
    R"("runDetails":{"builder":{"id":"https://github.com/example-org/app/.github/workflows/release.yml@refs/tags/v1.2.0"},)"
    R"("metadata":{"invocationId":"https://github.com/example-org/app/actions/runs/8123456789/attempts/2",)"
    R"("startedOn":"2024-09-02T14:03:27Z","finishedOn":"2024-09-02T14:03:27Z"}}})";

const std::string kGitLabExpected =
    R"({"buildDefinition":{"buildType":"https://docs.gitlab.com/ci/pipeline_security/slsa/provenance_v1",)"
    R"("externalParameters":{"source":"https://gitlab.com/example-group/app","entryPoint":"release",)"
    R"("variables":{"CI_PIPELINE_SOURCE":"push","CI_COMMIT_REF_NAME":"v1.2.0","CI_CONFIG_PATH":".gitlab-ci.yml"}},)"
    R"("internalParameters":{"name":"3-blue.saas-linux-small-amd64.runners-manager.gitlab.com/default",)"
    R"("architecture":"linux/amd64","job":"7312345678","pipeline":"1432109876"},)"
    R"("resolvedDependencies":[{"uri":"git+https://gitlab.com/example-group/app@refs/tags/v1.2.0",)"
    R"("digest":{"gitCommit":"5e9b7d2c4a6e8f0b1d3c5a7e9f2b4d6c8a0f3c1a"}}]},)"
    R"("runDetails":{"builder":{"id":"https://gitlab.com/example-group/app//.gitlab-ci.yml@refs/tags/v1.2.0"},)"
    R"("metadata":{"invocationId":"https://gitlab.com/example-group/app/-/jobs/7312345678",)"
    R"("startedOn":"2024-09-02T14:00:05Z","finishedOn":"2024-09-02T14:03:27Z"}}})";

void check_slsa_v1(const std::string& p) {
  sig::check_predicate(sig::predicate_type_uri("slsaprovenance"), as_bytes(p), "provenance");
}

}  // namespace

TEST_CASE("provenance: the CI system is recognised by GITHUB_ACTIONS and GITLAB_CI",
          "[provenance]") {
  CHECK(sig::ci_system(recorded("github-actions.env")) == "GitHub Actions");
  CHECK(sig::ci_system(recorded("gitlab-ci.env")) == "GitLab CI");
  CHECK(sig::ci_system({}).empty());
  CHECK(sig::ci_system({{"GITHUB_ACTIONS", "1"}}).empty());
  CHECK(sig::ci_system({{"CI", "true"}}).empty());
}

TEST_CASE("provenance: GitHub Actions fills every field from its variables", "[provenance]") {
  const auto p = provenance(recorded("github-actions.env"));
  CHECK(p == kGitHubExpected);
  CHECK_NOTHROW(check_slsa_v1(p));
}

TEST_CASE("provenance: GitLab CI fills every field from its variables", "[provenance]") {
  const auto p = provenance(recorded("gitlab-ci.env"));
  CHECK(p == kGitLabExpected);
  CHECK_NOTHROW(check_slsa_v1(p));
}

TEST_CASE("provenance: the same environment and time give the same bytes", "[provenance]") {
  for (const auto* f : {"github-actions.env", "gitlab-ci.env"}) {
    INFO(f);
    const auto env = recorded(f);
    const std::vector<std::string> m = {"pkg:deb/debian/openssl@3.0.11@sha256:" +
                                        std::string(64, 'a')};
    CHECK(provenance(env, m) == provenance(env, m));
    CHECK(provenance(env, m, "2024-09-02T14:03:28Z") != provenance(env, m));
  }
}

TEST_CASE("provenance: a GitLab branch pipeline names refs/heads, and now stands in for a start",
          "[provenance]") {
  auto env = recorded("gitlab-ci.env");
  env.erase("CI_COMMIT_TAG");
  env["CI_COMMIT_REF_NAME"] = "main";
  env.erase("CI_JOB_STARTED_AT");
  env.erase("CI_RUNNER_DESCRIPTION");
  env.erase("CI_RUNNER_EXECUTABLE_ARCH");
  const Json p = Json::parse(provenance(env));
  CHECK(p["runDetails"]["builder"]["id"] ==
        "https://gitlab.com/example-group/app//.gitlab-ci.yml@refs/heads/main");
  CHECK(p["buildDefinition"]["resolvedDependencies"][0]["uri"] ==
        "git+https://gitlab.com/example-group/app@refs/heads/main");
  CHECK(p["runDetails"]["metadata"]["startedOn"] == kNow);
  CHECK(p["buildDefinition"]["internalParameters"] ==
        Json::parse(R"({"job":"7312345678","pipeline":"1432109876"})"));
}

TEST_CASE("provenance: materials become resolved dependencies after the source", "[provenance]") {
  const std::string sha256(64, 'b');
  const std::string sha1(40, 'c');
  const Json p = Json::parse(
      provenance(recorded("github-actions.env"),
                 {"pkg:deb/debian/openssl@3.0.11-1~deb12u2@sha256:" + sha256,
                  "git+https://github.com/example-org/lib@refs/tags/v2@gitCommit:" + sha1,
                  "https://example.com/base.tar@sha512:" + std::string(128, 'd')}));
  const auto& deps = p["buildDefinition"]["resolvedDependencies"];
  REQUIRE(deps.size() == 4);
  CHECK(deps[0]["uri"] == "git+https://github.com/example-org/app@refs/tags/v1.2.0");
  CHECK(deps[1] ==
        Json::parse(R"({"uri":"pkg:deb/debian/openssl@3.0.11-1~deb12u2","digest":{"sha256":")" +
                    sha256 + "\"}}"));
  CHECK(
      deps[2] ==
      Json::parse(
          R"({"uri":"git+https://github.com/example-org/lib@refs/tags/v2","digest":{"gitCommit":")" +
          sha1 + "\"}}"));
  CHECK(deps[3]["digest"]["sha512"] == std::string(128, 'd'));
  CHECK_NOTHROW(check_slsa_v1(p.dump()));
}

TEST_CASE("provenance: a malformed material is a usage error naming it", "[provenance]") {
  const auto env = recorded("github-actions.env");
  auto no_digest = refused(env, {"pkg:deb/debian/openssl"});
  CHECK(no_digest.code == ErrorCode::kUsage);
  CHECK(no_digest.message == "--material 'pkg:deb/debian/openssl': expected URI@ALGORITHM:HEX");
  CHECK(refused(env, {"pkg:x@sha256"}).message ==
        "--material 'pkg:x@sha256': expected URI@ALGORITHM:HEX");
  CHECK(refused(env, {"openssl@sha256:" + std::string(64, 'a')}).message ==
        "--material 'openssl@sha256:" + std::string(64, 'a') +
            "': 'openssl' is not an absolute URI");
  CHECK(refused(env, {"pkg:x@md5:" + std::string(32, 'a')}).message ==
        "--material 'pkg:x@md5:" + std::string(32, 'a') +
            "': unknown digest algorithm 'md5' (expected sha256, sha512, sha384, sha224, sha1, "
            "gitCommit)");
  CHECK(refused(env, {"pkg:x@sha256:abc"}).message ==
        "--material 'pkg:x@sha256:abc': a sha256 digest is 64 lower-case hex digits");
  CHECK(refused(env, {"pkg:x@sha256:" + std::string(64, 'A')}).code == ErrorCode::kUsage);
  CHECK(refused(env, {"pkg:x@gitCommit:abc"}).message ==
        "--material 'pkg:x@gitCommit:abc': a gitCommit digest is 40 or 64 lower-case hex digits");
  CHECK(refused(env, {"pkg:a b@sha1:" + std::string(40, 'a')}).message ==
        "--material 'pkg:a b@sha1:" + std::string(40, 'a') +
            "': the URI holds whitespace or a control character");
}

TEST_CASE("provenance: a CI environment missing variables names every one", "[provenance]") {
  auto gh = recorded("github-actions.env");
  gh.erase("GITHUB_SHA");
  gh.erase("GITHUB_WORKFLOW_REF");
  gh["RUNNER_ENVIRONMENT"] = "";
  auto t = refused(gh);
  CHECK(t.code == ErrorCode::kUsage);
  CHECK(t.message ==
        "--predicate auto: GitHub Actions is missing environment variables GITHUB_SHA, "
        "GITHUB_WORKFLOW_REF, RUNNER_ENVIRONMENT");
  auto gl = refused({{"GITLAB_CI", "true"}, {"CI_COMMIT_SHA", std::string(40, 'a')}});
  CHECK(gl.code == ErrorCode::kUsage);
  CHECK(gl.message ==
        "--predicate auto: GitLab CI is missing environment variables CI_SERVER_URL, "
        "CI_PROJECT_PATH, CI_COMMIT_REF_NAME, CI_PIPELINE_ID, CI_JOB_ID, CI_JOB_NAME, CI_JOB_URL, "
        "CI_PIPELINE_SOURCE, CI_CONFIG_PATH");
}

TEST_CASE("provenance: outside a recognised CI system nothing is built", "[provenance]") {
  auto t = refused({{"CI", "true"}});
  CHECK(t.code == ErrorCode::kUsage);
  CHECK(
      t.message ==
      "--predicate auto: not in a recognised CI system: GitHub Actions needs GITHUB_ACTIONS=true "
      "and GITHUB_SERVER_URL, GITHUB_REPOSITORY, GITHUB_REPOSITORY_ID, GITHUB_REPOSITORY_OWNER_ID, "
      "GITHUB_SHA, GITHUB_REF, GITHUB_WORKFLOW_REF, GITHUB_RUN_ID, GITHUB_RUN_ATTEMPT, "
      "GITHUB_EVENT_NAME, RUNNER_ENVIRONMENT; GitLab CI needs GITLAB_CI=true and CI_SERVER_URL, "
      "CI_PROJECT_PATH, CI_COMMIT_SHA, CI_COMMIT_REF_NAME, CI_PIPELINE_ID, CI_JOB_ID, "
      "CI_JOB_NAME, CI_JOB_URL, CI_PIPELINE_SOURCE, CI_CONFIG_PATH");
}

TEST_CASE("provenance: malformed CI values are usage errors naming the variable", "[provenance]") {
  auto gh = recorded("github-actions.env");
  gh["GITHUB_SHA"] = "HEAD";
  CHECK(refused(gh).message ==
        "--predicate auto: GITHUB_SHA 'HEAD' is not a commit hash (40 or 64 lower-case hex "
        "digits)");
  gh = recorded("github-actions.env");
  gh["GITHUB_WORKFLOW_REF"] = "other-org/app/.github/workflows/release.yml@refs/tags/v1.2.0";
  CHECK(refused(gh).message ==
        "--predicate auto: GITHUB_WORKFLOW_REF "
        "'other-org/app/.github/workflows/release.yml@refs/tags/v1.2.0' is not "
        "example-org/app/PATH@REF");
  auto gl = recorded("gitlab-ci.env");
  gl["CI_JOB_STARTED_AT"] = "2024-09-02 14:00:05";
  CHECK(refused(gl).message ==
        "--predicate auto: CI_JOB_STARTED_AT '2024-09-02 14:00:05' is not an RFC 3339 time");
  auto t = thrown_by([] { (void)provenance(recorded("gitlab-ci.env"), {}, "now"); });
  CHECK(t.code == ErrorCode::kUsage);
  CHECK(t.message == "the time of signing 'now' is not an RFC 3339 time");
}

TEST_CASE("provenance: ci_environment copies only the variables provenance reads", "[provenance]") {
  // Put back what a CI running these tests had.
  std::vector<std::pair<std::string, std::optional<std::string>>> saved;
  for (const auto* name : {"GITHUB_RUN_ID", "GITHUB_TOKEN", "CI_JOB_TOKEN"}) {
    const char* v = std::getenv(name);
    saved.emplace_back(name, v ? std::optional<std::string>(v) : std::nullopt);
  }
  REQUIRE(::setenv("GITHUB_RUN_ID", "42", 1) == 0);
  REQUIRE(::setenv("GITHUB_TOKEN", "ghs_secret", 1) == 0);
  REQUIRE(::setenv("CI_JOB_TOKEN", "glcbt-secret", 1) == 0);
  const auto env = sig::ci_environment();
  for (const auto& [name, value] : saved) {
    if (value) {
      ::setenv(name.c_str(), value->c_str(), 1);
    } else {
      ::unsetenv(name.c_str());
    }
  }
  CHECK(env.at("GITHUB_RUN_ID") == "42");
  CHECK(env.count("GITHUB_TOKEN") == 0);
  CHECK(env.count("CI_JOB_TOKEN") == 0);
}
