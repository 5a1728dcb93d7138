// Predicate conditions (--where, --max-severity): RFC 6901 pointers, RE2 full matches, the
// severity ceiling over cosign's vuln predicate and bare Trivy reports, and fail-closed results.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "libtrust/core/error.h"
#include "libtrust/verify/conditions.h"
#include "support/errors.h"

using namespace trust;
using sigil::test::thrown_by;
using trust::verify::ConditionResult;
using trust::verify::PredicateConditions;
using trust::verify::Severity;

namespace {

const std::string kProvenance =
    R"({"buildDefinition":{"buildType":"https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1",)"
    R"("externalParameters":{"workflow":{"repository":"https://github.com/org/app","ref":"refs/heads/main"}},)"
    R"("resolvedDependencies":[{"uri":"git+https://github.com/org/app@refs/heads/main","digest":{"gitCommit":"abc"}}]},)"
    R"("runDetails":{"builder":{"id":"https://github.com/org/app/.github/workflows/release.yml@refs/heads/main"}},)"
    R"("a/b":1,"m~n":true,"nothing":null,"n":1.5,"s":"x"})";

std::vector<ConditionResult> eval(std::vector<std::string> where, const std::string& predicate,
                                  std::optional<Severity> max = std::nullopt) {
  return PredicateConditions::parse(where, max).evaluate(predicate);
}

ConditionResult one(const std::string& where, const std::string& predicate = kProvenance) {
  auto r = eval({where}, predicate);
  REQUIRE(r.size() == 1);
  CHECK(r[0].condition == where);
  return r[0];
}

sigil::test::Thrown parse_error(const std::string& where) {
  return thrown_by([&] { (void)PredicateConditions::parse(std::vector<std::string>{where}); });
}

std::string trivy_report(const std::string& vulns) {
  return R"({"SchemaVersion":2,"ArtifactName":"app:1","ArtifactType":"container_image","Results":[)"
         R"J({"Target":"app:1 (debian 12.5)","Class":"os-pkgs","Type":"debian"},)J"
         R"({"Target":"usr/lib/app.jar","Class":"lang-pkgs","Type":"jar","Vulnerabilities":[)" +
         vulns + "]}]}";
}
std::string vuln(const std::string& id, const std::string& severity) {
  return R"({"VulnerabilityID":")" + id + R"(","PkgName":"p","Severity":")" + severity + R"("})";
}
std::string cosign_vuln(const std::string& report) {
  return R"({"invocation":{"parameters":null,"uri":"","event_id":"","builder.id":""},)"
         R"("scanner":{"uri":"pkg:github/aquasecurity/trivy@0.50.0","version":"0.50.0","result":)" +
         report +
         R"(},"metadata":{"scanStartedOn":"2024-01-01T00:00:00Z","scanFinishedOn":"2024-01-01T00:00:00Z"}})";
}

ConditionResult severity(Severity max, const std::string& predicate) {
  auto r = eval({}, predicate, max);
  REQUIRE(r.size() == 1);
  return r[0];
}

}  // namespace

TEST_CASE("conditions: none given holds for every predicate", "[conditions]") {
  PredicateConditions none;
  CHECK(none.empty());
  CHECK(none.size() == 0);
  CHECK(none.describe().empty());
  CHECK(none.evaluate("not json").empty());
}

TEST_CASE("conditions: POINTER=VALUE compares the string at the pointer exactly", "[conditions]") {
  auto ok =
      one("/runDetails/builder/id=https://github.com/org/app/.github/workflows/"
          "release.yml@refs/heads/main");
  CHECK(ok.holds);
  CHECK(ok.reason ==
        "/runDetails/builder/id is "
        "'https://github.com/org/app/.github/workflows/release.yml@refs/heads/main'");
  auto bad =
      one("/buildDefinition/externalParameters/workflow/repository=https://github.com/org/ap");
  CHECK_FALSE(bad.holds);
  CHECK(bad.reason ==
        "/buildDefinition/externalParameters/workflow/repository is 'https://github.com/org/app', "
        "not 'https://github.com/org/ap'");
}

TEST_CASE("conditions: numbers, booleans and null compare as their JSON text", "[conditions]") {
  CHECK(one("/n=1.5").holds);
  CHECK_FALSE(one("/n=1.50").holds);
  CHECK(one("/nothing=null").holds);
  CHECK(one("/m~0n=true").holds);
  CHECK_FALSE(one("/m~0n=True").holds);
  // Strings compare as they are, without quotes.
  CHECK(one("/s=x").holds);
  CHECK_FALSE(one("/s=\"x\"").holds);
}

TEST_CASE("conditions: an object or an array never equals a value", "[conditions]") {
  auto r = one("/runDetails/builder={\"id\":\"x\"}");
  CHECK_FALSE(r.holds);
  CHECK(r.reason == "/runDetails/builder is an object, which never equals a value");
  auto a = one("/buildDefinition/resolvedDependencies=[]");
  CHECK_FALSE(a.holds);
  CHECK(a.reason ==
        "/buildDefinition/resolvedDependencies is an array, which never equals a value");
}

TEST_CASE("conditions: array indices select elements, past the end points at nothing",
          "[conditions]") {
  CHECK(one("/buildDefinition/resolvedDependencies/0/digest/gitCommit=abc").holds);
  auto past = one("/buildDefinition/resolvedDependencies/1/uri=x");
  CHECK_FALSE(past.holds);
  CHECK(past.reason == "/buildDefinition/resolvedDependencies/1/uri points at nothing");
  CHECK(one("/buildDefinition/resolvedDependencies/-=x").reason ==
        "/buildDefinition/resolvedDependencies/- points at nothing");
  CHECK(one("/buildDefinition/resolvedDependencies/01/uri=x").reason ==
        "/buildDefinition/resolvedDependencies/01/uri points at nothing");
  CHECK(one("/buildDefinition/resolvedDependencies/first=x").reason ==
        "/buildDefinition/resolvedDependencies/first points at nothing");
}

TEST_CASE("conditions: ~0 and ~1 escape ~ and / in keys", "[conditions]") {
  CHECK(one("/a~1b=1").holds);
  CHECK(one("/a/b=1").reason == "/a/b points at nothing");
  CHECK(one("/a~1b~=x.*", R"({"a/b":"xy"})").holds);
}

TEST_CASE("conditions: a pointer at nothing fails its condition, it is not an error",
          "[conditions]") {
  auto r = one("/runDetails/builder/version=1");
  CHECK_FALSE(r.holds);
  CHECK(r.reason == "/runDetails/builder/version points at nothing");
  // Stepping into a scalar points at nothing too.
  CHECK(one("/s/0=x").reason == "/s/0 points at nothing");
}

TEST_CASE("conditions: the empty pointer is the whole predicate", "[conditions]") {
  auto r = one("=x");
  CHECK_FALSE(r.holds);
  CHECK(r.reason == "the predicate is an object, which never equals a value");
  CHECK(one("=\"x\"", "\"x\"").reason == "the predicate is 'x', not '\"x\"'");
  CHECK(one("=x", "\"x\"").holds);
}

TEST_CASE("conditions: a malformed pointer is a usage error naming the condition", "[conditions]") {
  auto no_slash = parse_error("runDetails/builder/id=x");
  CHECK(no_slash.code == ErrorCode::kUsage);
  CHECK(no_slash.message ==
        "condition 'runDetails/builder/id=x': malformed JSON pointer 'runDetails/builder/id': "
        "JSON pointer must be empty or begin with '/' - was: 'runDetails/builder/id'");
  auto bad_escape = parse_error("/a~2b=x");
  CHECK(bad_escape.code == ErrorCode::kUsage);
  CHECK(bad_escape.message ==
        "condition '/a~2b=x': malformed JSON pointer '/a~2b': escape character '~' must be "
        "followed with '0' or '1'");
  auto trailing = parse_error("/a~~=x");
  CHECK(trailing.code == ErrorCode::kUsage);
  CHECK(trailing.message ==
        "condition '/a~~=x': malformed JSON pointer '/a~': escape character '~' must be followed "
        "with '0' or '1'");
}

TEST_CASE("conditions: a condition without an operator is a usage error", "[conditions]") {
  auto e = parse_error("/runDetails/builder/id");
  CHECK(e.code == ErrorCode::kUsage);
  CHECK(e.message ==
        "condition '/runDetails/builder/id': no operator: expected POINTER=VALUE or "
        "POINTER~=REGEX");
}

TEST_CASE("conditions: the first = splits, so a value may hold = and ~=", "[conditions]") {
  CHECK(one("/v=a=b~=c", R"({"v":"a=b~=c"})").holds);
  CHECK(one("/v~=a=.*", R"({"v":"a=b"})").holds);
}

TEST_CASE("conditions: POINTER~=REGEX is an RE2 match of the whole string", "[conditions]") {
  auto ok =
      one("/buildDefinition/externalParameters/workflow/repository~=https://github\\.com/org/.*");
  CHECK(ok.holds);
  CHECK(ok.reason ==
        "/buildDefinition/externalParameters/workflow/repository is 'https://github.com/org/app', "
        "which matches 'https://github\\.com/org/.*'");
  // Anchored at both ends: a prefix or a suffix match is not enough.
  const std::string evil = R"({"repo":"https://evil.example/?https://github.com/org/x"})";
  auto prefix = one("/repo~=https://github\\.com/org/.*", evil);
  CHECK_FALSE(prefix.holds);
  CHECK(prefix.reason ==
        "/repo is 'https://evil.example/?https://github.com/org/x', which does not match "
        "'https://github\\.com/org/.*'");
  CHECK_FALSE(one("/repo~=https://evil", evil).holds);
  CHECK_FALSE(one("/s~=", R"({"s":"x"})").holds);
  CHECK(one("/s~=", R"({"s":""})").holds);
  // An alternation is anchored as a whole, not only its first branch.
  CHECK_FALSE(one("/s~=a|b", R"({"s":"ab"})").holds);
}

TEST_CASE("conditions: a regex on something other than a string fails", "[conditions]") {
  auto r = one("/n~=1\\.5");
  CHECK_FALSE(r.holds);
  CHECK(r.reason == "/n is a number, not a string");
  CHECK(one("/runDetails~=.*").reason == "/runDetails is an object, not a string");
  CHECK(one("/nothing~=.*").reason == "/nothing is null, not a string");
  CHECK(one("/m~0n~=.*").reason == "/m~0n is a boolean, not a string");
}

TEST_CASE("conditions: an invalid regex is a usage error naming it", "[conditions]") {
  auto e = parse_error("/s~=(unclosed");
  CHECK(e.code == ErrorCode::kUsage);
  CHECK(e.message ==
        "condition '/s~=(unclosed': invalid regular expression '(unclosed': "
        "missing ): (unclosed");
  // RE2 has no backreferences: refused when parsed, not when evaluated.
  CHECK(parse_error("/s~=(a)\\1").code == ErrorCode::kUsage);
}

TEST_CASE("conditions: every condition is evaluated, in the order given", "[conditions]") {
  auto r = eval({"/s=x", "/missing=1", "/n~=.*"}, kProvenance, Severity::kHigh);
  REQUIRE(r.size() == 4);
  CHECK(r[0].holds);
  CHECK_FALSE(r[1].holds);
  CHECK_FALSE(r[2].holds);
  CHECK(r[3].condition == "max severity HIGH");
  CHECK_FALSE(r[3].holds);
  auto c = PredicateConditions::parse(std::vector<std::string>{"/s=x", "/n~=.*"}, Severity::kLow);
  CHECK(c.size() == 3);
  CHECK_FALSE(c.empty());
  CHECK(c.describe() == std::vector<std::string>{"/s=x", "/n~=.*", "max severity LOW"});
}

TEST_CASE("conditions: a predicate that is not JSON fails every condition", "[conditions]") {
  auto r = eval({"/s=x", "=x"}, "{\"s\":\"x\",\"s\":\"y\"}", Severity::kCritical);
  REQUIRE(r.size() == 3);
  for (const auto& c : r) {
    CHECK_FALSE(c.holds);
    CHECK(c.reason == "predicate: duplicate JSON key 's'");
  }
  CHECK_FALSE(eval({"=x"}, "x")[0].holds);
}

TEST_CASE("severity: names parse case-insensitively and print in capitals", "[conditions]") {
  CHECK(verify::parse_severity("critical") == Severity::kCritical);
  CHECK(verify::parse_severity("High") == Severity::kHigh);
  CHECK(verify::parse_severity("MEDIUM") == Severity::kMedium);
  CHECK(verify::parse_severity("low") == Severity::kLow);
  CHECK(verify::parse_severity("unknown") == Severity::kUnknown);
  CHECK(verify::to_string(Severity::kMedium) == "MEDIUM");
  auto e = thrown_by([] { (void)verify::parse_severity("severe"); });
  CHECK(e.code == ErrorCode::kUsage);
  CHECK(e.message ==
        "unknown severity 'severe': the levels are UNKNOWN, LOW, MEDIUM, HIGH, CRITICAL");
  CHECK(thrown_by([] { (void)verify::parse_severity(""); }).code == ErrorCode::kUsage);
}

TEST_CASE("severity: a vuln predicate holds when no finding is above the level", "[conditions]") {
  const auto p =
      cosign_vuln(trivy_report(vuln("CVE-2024-1", "MEDIUM") + "," + vuln("CVE-2024-2", "LOW")));
  auto r = severity(Severity::kHigh, p);
  CHECK(r.condition == "max severity HIGH");
  CHECK(r.holds);
  CHECK(r.reason == "no finding above HIGH (2 findings, highest MEDIUM)");
  CHECK(severity(Severity::kMedium, p).holds);
  auto low = severity(Severity::kLow, p);
  CHECK_FALSE(low.holds);
  CHECK(low.reason == "1 finding above LOW: CVE-2024-1 (MEDIUM)");
}

TEST_CASE("severity: findings above the level fail, named in one line", "[conditions]") {
  const auto p = cosign_vuln(trivy_report(vuln("CVE-1", "CRITICAL") + "," + vuln("CVE-2", "HIGH") +
                                          "," + vuln("CVE-3", "CRITICAL") + "," +
                                          vuln("CVE-4", "HIGH") + "," + vuln("CVE-5", "LOW")));
  auto r = severity(Severity::kMedium, p);
  CHECK_FALSE(r.holds);
  CHECK(r.reason == "4 findings above MEDIUM: CVE-1 (CRITICAL), CVE-2 (HIGH), CVE-3 (CRITICAL), …");
  CHECK(severity(Severity::kHigh, p).reason ==
        "2 findings above HIGH: CVE-1 (CRITICAL), CVE-3 (CRITICAL)");
  CHECK(severity(Severity::kCritical, p).holds);
}

TEST_CASE("severity: a bare Trivy report is read as the predicate itself", "[conditions]") {
  const auto p = trivy_report(vuln("CVE-2024-9", "critical"));
  auto r = severity(Severity::kHigh, p);
  CHECK_FALSE(r.holds);
  CHECK(r.reason == "1 finding above HIGH: CVE-2024-9 (CRITICAL)");
  auto clean = severity(Severity::kLow, trivy_report(""));
  CHECK(clean.holds);
  CHECK(clean.reason == "no finding above LOW (0 findings)");
}

TEST_CASE("severity: an unknown severity in a finding fails closed", "[conditions]") {
  auto r = severity(Severity::kCritical, cosign_vuln(trivy_report(vuln("CVE-7", "SEVERE"))));
  CHECK_FALSE(r.holds);
  CHECK(r.reason ==
        "Results/1/Vulnerabilities/0 (CVE-7) has severity 'SEVERE', which is none of "
        "UNKNOWN, LOW, MEDIUM, HIGH, CRITICAL");
  auto missing =
      severity(Severity::kCritical, trivy_report(R"({"VulnerabilityID":"CVE-8","PkgName":"p"})"));
  CHECK_FALSE(missing.holds);
  CHECK(missing.reason == "Results/1/Vulnerabilities/0 has no Severity");
  auto not_array =
      severity(Severity::kCritical, R"({"Results":[{"Target":"t","Vulnerabilities":{"a":1}}]})");
  CHECK_FALSE(not_array.holds);
  CHECK(not_array.reason == "Results/0/Vulnerabilities is an object, not an array");
}

TEST_CASE("severity: a predicate without results fails closed", "[conditions]") {
  const std::string why =
      "no vulnerability results (scanner.result.Results or Results) in the predicate";
  CHECK(severity(Severity::kCritical, kProvenance).reason == why);
  CHECK_FALSE(severity(Severity::kCritical, kProvenance).holds);
  CHECK(severity(Severity::kCritical, R"({"SchemaVersion":2,"ArtifactName":"x"})").reason == why);
  CHECK(severity(Severity::kCritical, R"({"Results":{}})").reason == why);
  CHECK(severity(Severity::kCritical, cosign_vuln("{}")).reason == why);
  CHECK(severity(Severity::kCritical, "[]").reason == why);
  // Trivy writes null for a target without findings: that is no finding, not an error.
  CHECK(severity(Severity::kLow, R"({"Results":[{"Target":"t","Vulnerabilities":null}]})").holds);
}
