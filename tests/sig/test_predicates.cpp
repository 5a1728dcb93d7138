// Predicate shapes: what Trivy, Syft, `docker sbom`, slsa-github-generator, cosign and vexctl write
// is accepted as it is; a predicate of the wrong shape names the file and the field; a Trivy
// report becomes cosign's vuln predicate as Trivy's own cosign-vuln format writes it.
#include <catch2/catch.hpp>

#include <functional>
#include <string>

#include "core/json_util.h"
#include "libtrust/core/error.h"
#include "libtrust/core/limits.h"
#include "libtrust/sig/predicate_type.h"
#include "libtrust/sig/predicates.h"
#include "sig/predicate_shape.h"
#include "support/errors.h"
#include "support/process.h"

using namespace trust;
using sigil::test::thrown_by;
using trust::detail::Json;

namespace {

const std::string kData = std::string(SIGIL_TEST_DATA) + "/predicates/";
const std::string kNow = "2024-10-01T12:00:00Z";

std::string fixture(const std::string& name) {
  return sigil::test::read_text_file(kData + name);
}

std::string uri(const std::string& name) {
  return sig::predicate_type_uri(name);
}

void check(const std::string& type, const std::string& json, const std::string& what = "p.json") {
  sig::check_predicate(uri(type), as_bytes(json), what);
}

// The fixture with one change made, as compact JSON.
std::string changed(const std::string& name, const std::function<void(Json&)>& change) {
  Json j = Json::parse(fixture(name));
  change(j);
  return j.dump();
}

sigil::test::Thrown refused(const std::string& type, const std::string& json,
                            const std::string& what = "p.json") {
  return thrown_by([&] { check(type, json, what); });
}

std::string message(const std::string& type, const std::string& json,
                    const std::string& what = "p.json") {
  auto t = refused(type, json, what);
  CHECK(t.code == ErrorCode::kInput);
  return t.message;
}

}  // namespace

TEST_CASE("predicates: SBOMs as Trivy, Syft and docker sbom write them are accepted",
          "[predicates]") {
  for (const auto* f : {"trivy-spdx.json", "syft-spdx.json", "docker-sbom-spdx.json"}) {
    INFO(f);
    CHECK_NOTHROW(check("spdxjson", fixture(f)));
  }
  for (const auto* f :
       {"trivy-cyclonedx.json", "syft-cyclonedx.json", "docker-sbom-cyclonedx.json"}) {
    INFO(f);
    CHECK_NOTHROW(check("cyclonedx", fixture(f)));
  }
}

TEST_CASE("predicates: SLSA, vuln and OpenVEX as their generators write them are accepted",
          "[predicates]") {
  CHECK_NOTHROW(check("slsaprovenance", fixture("slsa-v1-github-generator.json")));
  CHECK_NOTHROW(check("slsaprovenance02", fixture("slsa-v02-cosign.json")));
  CHECK_NOTHROW(check("vuln", fixture("trivy-cosign-vuln.json")));
  CHECK_NOTHROW(check("openvex", fixture("openvex-vexctl.json")));
}

TEST_CASE("predicates: an SBOM of one kind is not the other kind", "[predicates]") {
  CHECK(message("cyclonedx", fixture("syft-spdx.json"), "sbom.json") ==
        "sbom.json: not CycloneDX JSON: bomFormat is missing");
  CHECK(message("spdxjson", fixture("trivy-cyclonedx.json"), "sbom.json") ==
        "sbom.json: not SPDX JSON: spdxVersion is missing");
  CHECK(message("slsaprovenance", fixture("trivy-spdx.json"), "prov.json") ==
        "prov.json: not a SLSA v1 predicate: buildDefinition is missing");
  // A v0.2 predicate is not v1, and v1 is not v0.2.
  CHECK(message("slsaprovenance", fixture("slsa-v02-cosign.json"), "prov.json") ==
        "prov.json: not a SLSA v1 predicate: buildDefinition is missing");
  CHECK(message("slsaprovenance02", fixture("slsa-v1-github-generator.json"), "prov.json") ==
        "prov.json: not a SLSA v0.2 predicate: builder is missing");
}

TEST_CASE("predicates: SLSA v1 requires buildType, externalParameters and builder.id",
          "[predicates]") {
  const std::string f = "slsa-v1-github-generator.json";
  CHECK(message("slsaprovenance",
                changed(f, [](Json& j) { j["runDetails"]["builder"].erase("id"); }), "prov.json") ==
        "prov.json: not a SLSA v1 predicate: runDetails.builder.id is missing");
  CHECK(message("slsaprovenance", changed(f, [](Json& j) {
                  j["runDetails"]["builder"]["id"] = "";
                })) == "p.json: not a SLSA v1 predicate: runDetails.builder.id is empty");
  CHECK(message("slsaprovenance", changed(f, [](Json& j) { j.erase("runDetails"); })) ==
        "p.json: not a SLSA v1 predicate: runDetails is missing");
  CHECK(message("slsaprovenance", changed(f, [](Json& j) {
                  j["buildDefinition"].erase("buildType");
                })) == "p.json: not a SLSA v1 predicate: buildDefinition.buildType is missing");
  CHECK(message("slsaprovenance",
                changed(f, [](Json& j) { j["buildDefinition"].erase("externalParameters"); })) ==
        "p.json: not a SLSA v1 predicate: buildDefinition.externalParameters is missing");
  CHECK(message("slsaprovenance",
                changed(f, [](Json& j) { j["buildDefinition"]["externalParameters"] = "x"; })) ==
        "p.json: not a SLSA v1 predicate: buildDefinition.externalParameters is a string, not "
        "an object");
  CHECK(message("slsaprovenance",
                changed(f, [](Json& j) { j["runDetails"]["builder"]["id"] = 7; })) ==
        "p.json: not a SLSA v1 predicate: runDetails.builder.id is an integer, not a string");
}

TEST_CASE("predicates: SLSA v1 resolvedDependencies are resource descriptors", "[predicates]") {
  const std::string f = "slsa-v1-github-generator.json";
  auto deps = [&](Json d) {
    return changed(f, [&](Json& j) { j["buildDefinition"]["resolvedDependencies"] = d; });
  };
  CHECK_NOTHROW(check("slsaprovenance", deps(Json::array())));
  CHECK_NOTHROW(
      check("slsaprovenance", deps(Json::parse(R"([{"uri":"pkg:deb/debian/openssl"}])"))));
  CHECK_NOTHROW(check("slsaprovenance", deps(Json::parse(R"([{"digest":{"sha256":"ab"}}])"))));
  CHECK(message("slsaprovenance", deps(Json::parse(R"([{"name":"x"}])"))) ==
        "p.json: not a SLSA v1 predicate: buildDefinition.resolvedDependencies[0] has none of "
        "uri, digest, content");
  CHECK(message("slsaprovenance", deps(Json::parse(R"([{"uri":"u"},{"uri":"u","digest":{}}])"))) ==
        "p.json: not a SLSA v1 predicate: buildDefinition.resolvedDependencies[1].digest is empty");
  CHECK(message("slsaprovenance", deps(Json::parse(R"([{"uri":"u","digest":{"sha256":1}}])"))) ==
        "p.json: not a SLSA v1 predicate: buildDefinition.resolvedDependencies[0].digest.sha256 "
        "is an integer, not a string");
  CHECK(message("slsaprovenance", deps(Json::parse(R"(["git+https://x"])"))) ==
        "p.json: not a SLSA v1 predicate: buildDefinition.resolvedDependencies[0] is a string, "
        "not an object");
  CHECK(message("slsaprovenance", deps(Json::parse(R"({"uri":"u"})"))) ==
        "p.json: not a SLSA v1 predicate: buildDefinition.resolvedDependencies is an object, not "
        "an array");
}

TEST_CASE("predicates: SLSA v1 times are RFC 3339", "[predicates]") {
  const std::string f = "slsa-v1-github-generator.json";
  CHECK_NOTHROW(check("slsaprovenance", changed(f, [](Json& j) {
                        j["runDetails"]["metadata"]["startedOn"] = "2024-03-28T09:00:00.5+02:00";
                      })));
  CHECK(message("slsaprovenance", changed(f,
                                          [](Json& j) {
                                            j["runDetails"]["metadata"]["finishedOn"] =
                                                "2024-03-28 09:00:00";
                                          })) ==
        "p.json: not a SLSA v1 predicate: runDetails.metadata.finishedOn is '2024-03-28 "
        "09:00:00', not an RFC 3339 time");
}

TEST_CASE("predicates: SLSA v0.2 requires builder.id and buildType", "[predicates]") {
  const std::string f = "slsa-v02-cosign.json";
  CHECK(message("slsaprovenance02", changed(f, [](Json& j) { j["builder"].erase("id"); })) ==
        "p.json: not a SLSA v0.2 predicate: builder.id is missing");
  CHECK(message("slsaprovenance02", changed(f, [](Json& j) { j.erase("buildType"); })) ==
        "p.json: not a SLSA v0.2 predicate: buildType is missing");
  CHECK(message("slsaprovenance02",
                changed(f, [](Json& j) { j["materials"][0]["digest"]["sha1"] = nullptr; })) ==
        "p.json: not a SLSA v0.2 predicate: materials[0].digest.sha1 is null, not a string");
  // The minimum cosign accepts.
  CHECK_NOTHROW(check("slsaprovenance02", R"({"builder":{"id":"b"},"buildType":"t"})"));
}

TEST_CASE("predicates: SPDX requires its document fields, version 2.2 or 2.3", "[predicates]") {
  const std::string f = "trivy-spdx.json";
  CHECK(message("spdxjson", changed(f, [](Json& j) { j["spdxVersion"] = "SPDX-3.0"; })) ==
        "p.json: not SPDX JSON: spdxVersion is 'SPDX-3.0', not SPDX-2.2 or SPDX-2.3");
  CHECK(message("spdxjson", changed(f, [](Json& j) { j["SPDXID"] = "SPDXRef-Package"; })) ==
        "p.json: not SPDX JSON: SPDXID is 'SPDXRef-Package', not SPDXRef-DOCUMENT");
  for (const auto* field : {"name", "dataLicense", "documentNamespace", "creationInfo"}) {
    INFO(field);
    CHECK(message("spdxjson", changed(f, [&](Json& j) { j.erase(field); })) ==
          std::string("p.json: not SPDX JSON: ") + field + " is missing");
  }
  CHECK(message("spdxjson", changed(f, [](Json& j) {
                  j["creationInfo"]["creators"] = Json::array();
                })) == "p.json: not SPDX JSON: creationInfo.creators is empty");
  CHECK(message("spdxjson", changed(f, [](Json& j) { j["creationInfo"].erase("created"); })) ==
        "p.json: not SPDX JSON: creationInfo.created is missing");
  CHECK(message("spdxjson", changed(f, [](Json& j) { j["packages"][1].erase("SPDXID"); })) ==
        "p.json: not SPDX JSON: packages[1].SPDXID is missing");
  CHECK(message("spdxjson", changed(f, [](Json& j) {
                  j["relationships"][0].erase("relationshipType");
                })) == "p.json: not SPDX JSON: relationships[0].relationshipType is missing");
  CHECK(message("spdxjson", changed("syft-spdx.json", [](Json& j) {
                  j["files"][0].erase("fileName");
                })) == "p.json: not SPDX JSON: files[0].fileName is missing");
}

TEST_CASE("predicates: CycloneDX requires bomFormat and a spec version 1.4 to 1.6",
          "[predicates]") {
  const std::string f = "syft-cyclonedx.json";
  CHECK(message("cyclonedx", changed(f, [](Json& j) { j["bomFormat"] = "SPDX"; })) ==
        "p.json: not CycloneDX JSON: bomFormat is 'SPDX', not CycloneDX");
  CHECK(message("cyclonedx", changed(f, [](Json& j) { j.erase("specVersion"); })) ==
        "p.json: not CycloneDX JSON: specVersion is missing");
  CHECK(message("cyclonedx", changed(f, [](Json& j) { j["specVersion"] = "1.3"; })) ==
        "p.json: not CycloneDX JSON: specVersion is '1.3', not 1.4, 1.5 or 1.6");
  CHECK(message("cyclonedx", changed(f, [](Json& j) { j["specVersion"] = 1.5; })) ==
        "p.json: not CycloneDX JSON: specVersion is a number, not a string");
  CHECK(message("cyclonedx", changed(f, [](Json& j) { j["version"] = 0; })) ==
        "p.json: not CycloneDX JSON: version is below 1");
  CHECK(message("cyclonedx", changed(f, [](Json& j) { j["components"][1].erase("type"); })) ==
        "p.json: not CycloneDX JSON: components[1].type is missing");
  CHECK(message("cyclonedx", changed(f, [](Json& j) {
                  j["components"][0]["components"] = Json::parse(R"([{"type":"file"}])");
                })) == "p.json: not CycloneDX JSON: components[0].components[0].name is missing");
  CHECK(message("cyclonedx", changed("trivy-cyclonedx.json",
                                     [](Json& j) { j["dependencies"][0]["dependsOn"][0] = 1; })) ==
        "p.json: not CycloneDX JSON: dependencies[0].dependsOn[0] is an integer, not a string");
  CHECK_NOTHROW(check("cyclonedx", R"({"bomFormat":"CycloneDX","specVersion":"1.4"})"));
}

TEST_CASE("predicates: OpenVEX requires its document fields and known statuses", "[predicates]") {
  const std::string f = "openvex-vexctl.json";
  for (const auto* field : {"@context", "@id", "author", "timestamp", "version", "statements"}) {
    INFO(field);
    CHECK(message("openvex", changed(f, [&](Json& j) { j.erase(field); })) ==
          std::string("p.json: not an OpenVEX document: ") + field + " is missing");
  }
  CHECK(message("openvex", changed(f, [](Json& j) { j["@context"] = "https://example.com/ns"; })) ==
        "p.json: not an OpenVEX document: @context is 'https://example.com/ns', not "
        "https://openvex.dev/ns…");
  CHECK(message("openvex", changed(f, [](Json& j) { j["statements"][0]["status"] = "safe"; })) ==
        "p.json: not an OpenVEX document: statements[0].status is 'safe', not not_affected, "
        "affected, fixed or under_investigation");
  CHECK(message("openvex", changed(f, [](Json& j) {
                  j["statements"][0].erase("vulnerability");
                })) == "p.json: not an OpenVEX document: statements[0].vulnerability is missing");
}

TEST_CASE("predicates: a cosign vuln predicate has invocation, scanner and metadata",
          "[predicates]") {
  const std::string f = "trivy-cosign-vuln.json";
  for (const auto* field : {"invocation", "scanner", "metadata"}) {
    INFO(field);
    CHECK(message("vuln", changed(f, [&](Json& j) { j.erase(field); })) ==
          std::string("p.json: not a cosign vuln predicate: ") + field + " is missing");
  }
  CHECK(message("vuln", changed(f, [](Json& j) { j["scanner"].erase("uri"); })) ==
        "p.json: not a cosign vuln predicate: scanner.uri is missing");
  CHECK(
      message("vuln", changed(f, [](Json& j) { j["metadata"]["scanFinishedOn"] = "yesterday"; })) ==
      "p.json: not a cosign vuln predicate: metadata.scanFinishedOn is 'yesterday', not an "
      "RFC 3339 time");
  CHECK(message("vuln", changed(f, [](Json& j) { j["scanner"]["db"]["version"] = 2; })) ==
        "p.json: not a cosign vuln predicate: scanner.db.version is an integer, not a string");
}

TEST_CASE("predicates: custom and other types need a JSON object", "[predicates]") {
  CHECK_NOTHROW(check("custom", R"({"anything":[1,2]})"));
  sig::check_predicate("https://example.com/review/v1", as_bytes(std::string("{}")), "p.json");
  CHECK(message("custom", "[1,2]") ==
        "p.json: not a predicate: the JSON is an array, not an object");
  CHECK(message("slsaprovenance", "\"x\"") ==
        "p.json: not a predicate: the JSON is a string, not an object");
}

TEST_CASE("predicates: strict JSON, duplicate keys refused at any depth", "[predicates]") {
  CHECK(message("custom", R"({"a":{"b":1,"b":2}})") == "p.json: duplicate JSON key 'b'");
  CHECK(message("custom", "{\"a\":").starts_with("p.json: malformed JSON: "));
  std::string deep(limits::kMaxJsonDepth + 1, '[');
  deep = "{\"a\":" + deep + std::string(limits::kMaxJsonDepth + 1, ']') + "}";
  CHECK(refused("custom", deep).code == ErrorCode::kLimit);
}

TEST_CASE("predicates: at most kMaxPredicateBytes", "[predicates]") {
  std::string big = "{\"a\":\"" + std::string(limits::kMaxPredicateBytes, 'x') + "\"}";
  auto t = refused("custom", big, "big.json");
  CHECK(t.code == ErrorCode::kLimit);
  CHECK(t.message == "big.json: " + std::to_string(big.size()) + " bytes is over the limit of " +
                         std::to_string(limits::kMaxPredicateBytes));
  std::string at_limit = "{\"a\":\"" + std::string(limits::kMaxPredicateBytes - 8, 'x') + "\"}";
  REQUIRE(at_limit.size() == limits::kMaxPredicateBytes);
  CHECK_NOTHROW(check("custom", at_limit));
}

TEST_CASE("prepare_predicate: returns the predicate checked, compact, keys in their order",
          "[predicates]") {
  auto out = sig::prepare_predicate(uri("cyclonedx"), as_bytes(fixture("syft-cyclonedx.json")),
                                    "sbom.json", kNow);
  CHECK(out.starts_with(
      R"({"$schema":"http://cyclonedx.org/schema/bom-1.6.schema.json","bomFormat":"CycloneDX","specVersion":"1.6",)"));
  CHECK(Json::parse(out) == Json::parse(fixture("syft-cyclonedx.json")));
  CHECK(out.find('\n') == std::string::npos);
  auto t = thrown_by([&] {
    (void)sig::prepare_predicate(uri("spdxjson"), as_bytes(fixture("syft-cyclonedx.json")),
                                 "sbom.json", kNow);
  });
  CHECK(t.code == ErrorCode::kInput);
  CHECK(t.message == "sbom.json: not SPDX JSON: spdxVersion is missing");
}

TEST_CASE("prepare_predicate: a cosign vuln predicate is taken as it is", "[predicates]") {
  auto out = sig::prepare_predicate(uri("vuln"), as_bytes(fixture("trivy-cosign-vuln.json")),
                                    "vuln.json", kNow);
  CHECK(Json::parse(out) == Json::parse(fixture("trivy-cosign-vuln.json")));
}

TEST_CASE("prepare_predicate: a Trivy JSON report becomes Trivy's cosign-vuln predicate",
          "[predicates]") {
  const std::string report = fixture("trivy-report.json");
  auto out = sig::prepare_predicate(uri("vuln"), as_bytes(report), "trivy.json", kNow);
  const std::string compact_report = detail::dump_compact(detail::OrderedJson::parse(report));
  CHECK(out == R"({"invocation":{"parameters":null,"uri":"","event_id":"","builder.id":""},)"
               R"("scanner":{"uri":"pkg:github/aquasecurity/trivy@0.55.0","version":"0.55.0",)"
               R"("db":{"uri":"","version":""},"result":)" +
                   compact_report +
                   R"(},"metadata":{"scanStartedOn":"2024-09-02T14:06:11.123456789Z",)"
                   R"("scanFinishedOn":"2024-09-02T14:06:11.123456789Z"}})");
  // The result is the report as it is: its keys in Trivy's order.
  CHECK(compact_report.starts_with(R"({"SchemaVersion":2,"CreatedAt":)"));
  // What it makes is itself a cosign vuln predicate, taken as it is the second time.
  CHECK_NOTHROW(check("vuln", out));
  CHECK(sig::prepare_predicate(uri("vuln"), as_bytes(out), "vuln.json", kNow) == out);
}

TEST_CASE("prepare_predicate: a Trivy report without version or time uses now", "[predicates]") {
  const std::string report =
      R"({"SchemaVersion":2,"ArtifactName":"app:1","ArtifactType":"container_image"})";
  auto out = sig::prepare_predicate(uri("vuln"), as_bytes(report), "trivy.json", kNow);
  CHECK(
      out ==
      R"({"invocation":{"parameters":null,"uri":"","event_id":"","builder.id":""},)"
      R"("scanner":{"uri":"pkg:github/aquasecurity/trivy","version":"","db":{"uri":"","version":""},)"
      R"("result":{"SchemaVersion":2,"ArtifactName":"app:1","ArtifactType":"container_image"}},)"
      R"("metadata":{"scanStartedOn":"2024-10-01T12:00:00Z","scanFinishedOn":"2024-10-01T12:00:00Z"}})");
}

TEST_CASE("prepare_predicate: a malformed Trivy report names the field", "[predicates]") {
  auto prepare = [](const std::string& json) {
    return thrown_by(
        [&] { (void)sig::prepare_predicate(uri("vuln"), as_bytes(json), "trivy.json", kNow); });
  };
  auto v1 = prepare(R"({"SchemaVersion":1,"ArtifactName":"a"})");
  CHECK(v1.code == ErrorCode::kInput);
  CHECK(v1.message == "trivy.json: not a Trivy JSON report: SchemaVersion is 1, not 2");
  CHECK(prepare(R"({"SchemaVersion":2})").message ==
        "trivy.json: not a Trivy JSON report: ArtifactName is missing");
  CHECK(prepare(changed("trivy-report.json",
                        [](Json& j) { j["Results"][0]["Vulnerabilities"][1].erase("Severity"); }))
            .message ==
        "trivy.json: not a Trivy JSON report: Results[0].Vulnerabilities[1].Severity is missing");
  CHECK(prepare(changed("trivy-report.json", [](Json& j) { j["CreatedAt"] = "now"; })).message ==
        "trivy.json: not a Trivy JSON report: CreatedAt is 'now', not an RFC 3339 time");
  auto neither = prepare(fixture("syft-spdx.json"));
  CHECK(neither.code == ErrorCode::kInput);
  CHECK(neither.message ==
        "trivy.json: neither a cosign vuln predicate (scanner is missing) nor a Trivy JSON report "
        "(SchemaVersion is missing)");
}

TEST_CASE("prepare_predicate: now must be an RFC 3339 time", "[predicates]") {
  auto t = thrown_by([] {
    (void)sig::prepare_predicate(uri("custom"), as_bytes(std::string("{}")), "p.json", "today");
  });
  CHECK(t.code == ErrorCode::kUsage);
  CHECK(t.message == "the time of signing 'today' is not an RFC 3339 time");
}

TEST_CASE("rfc3339: what Go's time.RFC3339 parses", "[predicates]") {
  for (const auto* ok : {"2024-01-02T03:04:05Z", "2024-01-02T03:04:05.123456789Z",
                         "2024-01-02T03:04:05+09:00", "2024-01-02T23:59:60-00:30"}) {
    INFO(ok);
    CHECK(detail::is_rfc3339(ok));
  }
  for (const auto* bad :
       {"", "2024-01-02", "2024-01-02 03:04:05Z", "2024-01-02T03:04:05", "2024-13-02T03:04:05Z",
        "2024-01-00T03:04:05Z", "2024-01-02T24:04:05Z", "2024-01-02T03:04:05.Z",
        "2024-01-02T03:04:05z", "2024-01-02T03:04:05+0900", "2024-01-02T03:04:05Zx",
        "2024-01-02t03:04:05Z"}) {
    INFO(bad);
    CHECK_FALSE(detail::is_rfc3339(bad));
  }
}
