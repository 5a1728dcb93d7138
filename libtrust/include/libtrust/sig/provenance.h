#pragma once
// SLSA v1 provenance (https://slsa.dev/provenance/v1) built from the CI environment a release job
// runs in, so that `sigil attest --type slsaprovenance --predicate auto` needs no hand-written
// JSON. GitHub Actions (GITHUB_ACTIONS=true) and GitLab CI (GITLAB_CI=true) are recognised; each
// fills builder.id, buildType, externalParameters (workflow or pipeline, source repository and
// ref), internalParameters, resolvedDependencies (the source commit, then the materials given),
// metadata.invocationId (the run's URL), startedOn and finishedOn, from the variables those
// systems document. Elsewhere, or when a variable is missing, nothing is built: the error names
// the variables needed.

#include <map>
#include <span>
#include <string>
#include <string_view>

#include "libtrust/export.h"

namespace trust::sig {

// The environment as a map (name -> value), so a recorded environment can stand in for the real
// one; ci_environment() reads the process's.
using Environment = std::map<std::string, std::string>;
TRUST_API Environment ci_environment();

// Which CI system `env` is, "GitHub Actions" / "GitLab CI", or empty.
TRUST_API std::string ci_system(const Environment& env);

// The SLSA v1 predicate, as compact JSON text. `materials` are "URI@ALGORITHM:HEX" (as
// `--material` takes them: "pkg:deb/debian/openssl@sha256:…", "git+https://…@sha1:…"), appended to
// resolvedDependencies with their digest; `now` (RFC 3339 UTC; empty: the current time) is
// finishedOn, and startedOn when the environment has no start time. Throws UsageError naming the CI
// system and every variable missing (or "not in a recognised CI system: GitHub Actions needs …,
// GitLab CI needs …"), and for a malformed material.
TRUST_API std::string provenance_from_ci(const Environment& env,
                                         std::span<const std::string> materials,
                                         std::string_view now);

}  // namespace trust::sig
