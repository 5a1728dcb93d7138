// Predicate shapes (sig/predicates.h). Each check follows what the type's specification requires
// and what the tools that write it actually write, so that their output is accepted as it is:
//   SLSA v1     slsa-framework/slsa provenance v1 (in-toto-golang's ProvenancePredicate: the
//               fields without omitempty are required, as cosign's checkRequiredJSONFields does)
//   SLSA v0.2   builder.id and buildType required, the rest typed where present
//   SPDX        the SPDX 2.2 / 2.3 JSON schema's required document fields (Trivy, Syft, and
//               `docker sbom`, which runs Syft and writes SPDX-2.2)
//   CycloneDX   bom-1.4 … bom-1.6 JSON schema: bomFormat, specVersion; components typed
//   vuln        cosign's CosignVulnPredicate (pkg/cosign/attestation), as Trivy's cosign-vuln
//               format writes it; a Trivy JSON report (SchemaVersion 2) is wrapped into it
//   OpenVEX     openvex/spec: @context, @id, author, timestamp, version, statements
// Fields a tool may add beyond these are kept and not judged.
#include "libtrust/sig/predicates.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <ctime>

#include "core/json_util.h"
#include "libtrust/core/error.h"
#include "libtrust/core/limits.h"
#include "libtrust/core/text.h"
#include "libtrust/sig/predicate_type.h"
#include "sig/predicate_shape.h"

namespace trust::detail {

bool is_rfc3339(std::string_view s) {
  auto digits = [&](std::size_t at, std::size_t n) {
    if (at + n > s.size()) return false;
    for (std::size_t i = at; i < at + n; ++i) {
      if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
    }
    return true;
  };
  auto number = [&](std::size_t at, std::size_t n) {
    int v = 0;
    for (std::size_t i = at; i < at + n; ++i) v = v * 10 + (s[i] - '0');
    return v;
  };
  // YYYY-MM-DDTHH:MM:SS
  if (!digits(0, 4) || s.size() < 20 || s[4] != '-' || !digits(5, 2) || s[7] != '-' ||
      !digits(8, 2) || s[10] != 'T' || !digits(11, 2) || s[13] != ':' || !digits(14, 2) ||
      s[16] != ':' || !digits(17, 2)) {
    return false;
  }
  const int month = number(5, 2), day = number(8, 2);
  if (month < 1 || month > 12 || day < 1 || day > 31 || number(11, 2) > 23 || number(14, 2) > 59 ||
      number(17, 2) > 60) {
    return false;
  }
  std::size_t i = 19;
  if (s[i] == '.') {
    const std::size_t start = ++i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
    if (i == start) return false;
  }
  if (i < s.size() && s[i] == 'Z') return i + 1 == s.size();
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    return i + 6 == s.size() && digits(i + 1, 2) && s[i + 3] == ':' && digits(i + 4, 2) &&
           number(i + 1, 2) <= 23 && number(i + 4, 2) <= 59;
  }
  return false;
}

std::string time_or_now(std::string_view now) {
  if (now.empty()) {
    const auto t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    const auto n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return std::string(buf, n);
  }
  if (!is_rfc3339(now)) {
    throw UsageError("the time of signing '" + excerpt(now, 64) + "' is not an RFC 3339 time");
  }
  return std::string(now);
}

}  // namespace trust::detail

namespace trust::sig {

namespace {

using detail::Json;

// Trivy's package URL, as its cosign-vuln format names the scanner.
constexpr std::string_view kTrivyPurl = "pkg:github/aquasecurity/trivy";
using detail::OrderedJson;

enum class Kind { kObject, kArray, kString, kInteger, kBoolean, kAny };

std::string_view kind_name(Kind k) {
  switch (k) {
    case Kind::kObject:
      return "an object";
    case Kind::kArray:
      return "an array";
    case Kind::kString:
      return "a string";
    case Kind::kInteger:
      return "an integer";
    case Kind::kBoolean:
      return "a boolean";
    case Kind::kAny:
      break;
  }
  return "a value";
}

bool is_kind(const Json& v, Kind k) {
  switch (k) {
    case Kind::kObject:
      return v.is_object();
    case Kind::kArray:
      return v.is_array();
    case Kind::kString:
      return v.is_string();
    case Kind::kInteger:
      return v.is_number_integer();
    case Kind::kBoolean:
      return v.is_boolean();
    case Kind::kAny:
      return true;
  }
  return false;
}

// One shape being checked: "<what>: not <shape>: <field> <problem>".
class Shape {
 public:
  Shape(std::string_view what, std::string_view shape) : what_(what), shape_(shape) {}

  [[noreturn]] void fail(std::string_view field, std::string_view problem) const {
    throw InputError(what_ + ": not " + shape_ + ": " + std::string(field) + " " +
                     std::string(problem));
  }

  // obj[key] of kind `k`; missing or of another kind is an error naming `path`.
  const Json& require(const Json& obj, std::string_view key, std::string_view path, Kind k) const {
    auto it = obj.find(key);
    if (it == obj.end()) fail(path, "is missing");
    return typed(*it, path, k);
  }
  // obj[key] of kind `k`, or null when it is missing or null (Go's encoding/json leaves an
  // omitempty field unset for null).
  const Json* optional(const Json& obj, std::string_view key, std::string_view path, Kind k) const {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return nullptr;
    return &typed(*it, path, k);
  }
  const Json& typed(const Json& v, std::string_view path, Kind k) const {
    if (!is_kind(v, k)) {
      fail(path,
           "is " + std::string(detail::json_type_name(v)) + ", not " + std::string(kind_name(k)));
    }
    return v;
  }
  std::string require_string(const Json& obj, std::string_view key, std::string_view path) const {
    const auto& s = require(obj, key, path, Kind::kString).get_ref<const std::string&>();
    if (s.empty()) fail(path, "is empty");
    return s;
  }
  void optional_time(const Json& obj, std::string_view key, std::string_view path) const {
    if (const Json* t = optional(obj, key, path, Kind::kString)) {
      time(*t, path);
    }
  }
  void time(const Json& t, std::string_view path) const {
    if (!detail::is_rfc3339(t.get_ref<const std::string&>())) {
      fail(path, "is '" + excerpt(t.get_ref<const std::string&>(), 64) + "', not an RFC 3339 time");
    }
  }
  // An object whose values are all strings (a digest set, a version map).
  void string_map(const Json& m, std::string_view path) const {
    for (const auto& [k, v] : m.items()) {
      if (!v.is_string()) {
        fail(std::string(path) + "." + excerpt(k, 64),
             "is " + std::string(detail::json_type_name(v)) + ", not a string");
      }
    }
  }
  // Each element of `arr` passes `each(element, "path[i]")`, after being checked to be of kind k.
  template <typename F>
  void each(const Json& arr, std::string_view path, Kind k, F&& f) const {
    for (std::size_t i = 0; i < arr.size(); ++i) {
      const std::string at = std::string(path) + "[" + std::to_string(i) + "]";
      f(typed(arr[i], at, k), at);
    }
  }

 private:
  std::string what_;
  std::string shape_;
};

std::string join(std::string_view a, std::string_view b) {
  return std::string(a) + "." + std::string(b);
}

// in-toto ResourceDescriptor (SLSA v1 resolvedDependencies, builderDependencies, byproducts).
void check_resource_descriptor(const Shape& s, const Json& rd, std::string_view path) {
  const Json* uri = s.optional(rd, "uri", join(path, "uri"), Kind::kString);
  const Json* digest = s.optional(rd, "digest", join(path, "digest"), Kind::kObject);
  const Json* content = s.optional(rd, "content", join(path, "content"), Kind::kString);
  if (uri == nullptr && digest == nullptr && content == nullptr) {
    s.fail(path, "has none of uri, digest, content");
  }
  if (digest != nullptr) {
    if (digest->empty()) s.fail(join(path, "digest"), "is empty");
    s.string_map(*digest, join(path, "digest"));
  }
  for (const auto* key : {"name", "downloadLocation", "mediaType"}) {
    (void)s.optional(rd, key, join(path, key), Kind::kString);
  }
  (void)s.optional(rd, "annotations", join(path, "annotations"), Kind::kObject);
}

void check_resource_descriptors(const Shape& s, const Json& obj, std::string_view key,
                                std::string_view path) {
  if (const Json* list = s.optional(obj, key, path, Kind::kArray)) {
    s.each(*list, path, Kind::kObject,
           [&](const Json& rd, const std::string& at) { check_resource_descriptor(s, rd, at); });
  }
}

void check_slsa_v1(const Json& p, std::string_view what) {
  const Shape s(what, "a SLSA v1 predicate");
  const Json& def = s.require(p, "buildDefinition", "buildDefinition", Kind::kObject);
  (void)s.require_string(def, "buildType", "buildDefinition.buildType");
  (void)s.require(def, "externalParameters", "buildDefinition.externalParameters", Kind::kObject);
  (void)s.optional(def, "internalParameters", "buildDefinition.internalParameters", Kind::kObject);
  check_resource_descriptors(s, def, "resolvedDependencies",
                             "buildDefinition.resolvedDependencies");
  const Json& run = s.require(p, "runDetails", "runDetails", Kind::kObject);
  const Json& builder = s.require(run, "builder", "runDetails.builder", Kind::kObject);
  (void)s.require_string(builder, "id", "runDetails.builder.id");
  if (const Json* v = s.optional(builder, "version", "runDetails.builder.version", Kind::kObject)) {
    s.string_map(*v, "runDetails.builder.version");
  }
  check_resource_descriptors(s, builder, "builderDependencies",
                             "runDetails.builder.builderDependencies");
  if (const Json* md = s.optional(run, "metadata", "runDetails.metadata", Kind::kObject)) {
    (void)s.optional(*md, "invocationId", "runDetails.metadata.invocationId", Kind::kString);
    s.optional_time(*md, "startedOn", "runDetails.metadata.startedOn");
    s.optional_time(*md, "finishedOn", "runDetails.metadata.finishedOn");
  }
  check_resource_descriptors(s, run, "byproducts", "runDetails.byproducts");
}

void check_slsa_v02(const Json& p, std::string_view what) {
  const Shape s(what, "a SLSA v0.2 predicate");
  const Json& builder = s.require(p, "builder", "builder", Kind::kObject);
  (void)s.require_string(builder, "id", "builder.id");
  (void)s.require_string(p, "buildType", "buildType");
  if (const Json* inv = s.optional(p, "invocation", "invocation", Kind::kObject)) {
    if (const Json* cs =
            s.optional(*inv, "configSource", "invocation.configSource", Kind::kObject)) {
      (void)s.optional(*cs, "uri", "invocation.configSource.uri", Kind::kString);
      if (const Json* d =
              s.optional(*cs, "digest", "invocation.configSource.digest", Kind::kObject)) {
        s.string_map(*d, "invocation.configSource.digest");
      }
      (void)s.optional(*cs, "entryPoint", "invocation.configSource.entryPoint", Kind::kString);
    }
  }
  if (const Json* md = s.optional(p, "metadata", "metadata", Kind::kObject)) {
    (void)s.optional(*md, "buildInvocationId", "metadata.buildInvocationId", Kind::kString);
    s.optional_time(*md, "buildStartedOn", "metadata.buildStartedOn");
    s.optional_time(*md, "buildFinishedOn", "metadata.buildFinishedOn");
    (void)s.optional(*md, "completeness", "metadata.completeness", Kind::kObject);
    (void)s.optional(*md, "reproducible", "metadata.reproducible", Kind::kBoolean);
  }
  if (const Json* mats = s.optional(p, "materials", "materials", Kind::kArray)) {
    s.each(*mats, "materials", Kind::kObject, [&](const Json& m, const std::string& at) {
      (void)s.optional(m, "uri", join(at, "uri"), Kind::kString);
      if (const Json* d = s.optional(m, "digest", join(at, "digest"), Kind::kObject)) {
        s.string_map(*d, join(at, "digest"));
      }
    });
  }
}

void check_spdx(const Json& p, std::string_view what) {
  const Shape s(what, "SPDX JSON");
  const auto version = s.require_string(p, "spdxVersion", "spdxVersion");
  // JSON is a format of SPDX 2.2 and 2.3 (SPDX 3 is JSON-LD, another document model).
  if (version != "SPDX-2.2" && version != "SPDX-2.3") {
    s.fail("spdxVersion", "is '" + excerpt(version, 64) + "', not SPDX-2.2 or SPDX-2.3");
  }
  const auto id = s.require_string(p, "SPDXID", "SPDXID");
  if (id != "SPDXRef-DOCUMENT") {
    s.fail("SPDXID", "is '" + excerpt(id, 64) + "', not SPDXRef-DOCUMENT");
  }
  (void)s.require_string(p, "name", "name");
  (void)s.require_string(p, "dataLicense", "dataLicense");
  (void)s.require_string(p, "documentNamespace", "documentNamespace");
  const Json& ci = s.require(p, "creationInfo", "creationInfo", Kind::kObject);
  s.time(s.require(ci, "created", "creationInfo.created", Kind::kString), "creationInfo.created");
  const Json& creators = s.require(ci, "creators", "creationInfo.creators", Kind::kArray);
  if (creators.empty()) s.fail("creationInfo.creators", "is empty");
  s.each(creators, "creationInfo.creators", Kind::kString, [](const Json&, const std::string&) {});
  if (const Json* pkgs = s.optional(p, "packages", "packages", Kind::kArray)) {
    s.each(*pkgs, "packages", Kind::kObject, [&](const Json& pkg, const std::string& at) {
      (void)s.require_string(pkg, "SPDXID", join(at, "SPDXID"));
      (void)s.require(pkg, "name", join(at, "name"), Kind::kString);
    });
  }
  if (const Json* files = s.optional(p, "files", "files", Kind::kArray)) {
    s.each(*files, "files", Kind::kObject, [&](const Json& f, const std::string& at) {
      (void)s.require_string(f, "SPDXID", join(at, "SPDXID"));
      (void)s.require_string(f, "fileName", join(at, "fileName"));
    });
  }
  if (const Json* rels = s.optional(p, "relationships", "relationships", Kind::kArray)) {
    s.each(*rels, "relationships", Kind::kObject, [&](const Json& r, const std::string& at) {
      (void)s.require_string(r, "spdxElementId", join(at, "spdxElementId"));
      (void)s.require_string(r, "relationshipType", join(at, "relationshipType"));
      (void)s.require_string(r, "relatedSpdxElement", join(at, "relatedSpdxElement"));
    });
  }
}

void check_cyclonedx_components(const Shape& s, const Json& obj, const std::string& path) {
  const Json* list = s.optional(obj, "components", path, Kind::kArray);
  if (list == nullptr) return;
  s.each(*list, path, Kind::kObject, [&](const Json& c, const std::string& at) {
    (void)s.require_string(c, "type", join(at, "type"));
    (void)s.require(c, "name", join(at, "name"), Kind::kString);
    (void)s.optional(c, "bom-ref", join(at, "bom-ref"), Kind::kString);
    (void)s.optional(c, "version", join(at, "version"), Kind::kString);
    (void)s.optional(c, "purl", join(at, "purl"), Kind::kString);
    check_cyclonedx_components(s, c, join(at, "components"));  // nesting capped by the parser
  });
}

void check_cyclonedx(const Json& p, std::string_view what) {
  const Shape s(what, "CycloneDX JSON");
  const auto format = s.require_string(p, "bomFormat", "bomFormat");
  if (format != "CycloneDX") s.fail("bomFormat", "is '" + excerpt(format, 64) + "', not CycloneDX");
  const auto spec = s.require_string(p, "specVersion", "specVersion");
  if (spec != "1.4" && spec != "1.5" && spec != "1.6") {
    s.fail("specVersion", "is '" + excerpt(spec, 64) + "', not 1.4, 1.5 or 1.6");
  }
  (void)s.optional(p, "serialNumber", "serialNumber", Kind::kString);
  if (const Json* v = s.optional(p, "version", "version", Kind::kInteger)) {
    if (v->get<std::int64_t>() < 1) s.fail("version", "is below 1");
  }
  if (const Json* md = s.optional(p, "metadata", "metadata", Kind::kObject)) {
    s.optional_time(*md, "timestamp", "metadata.timestamp");
    if (const Json* c = s.optional(*md, "component", "metadata.component", Kind::kObject)) {
      (void)s.require_string(*c, "type", "metadata.component.type");
      (void)s.require(*c, "name", "metadata.component.name", Kind::kString);
    }
  }
  check_cyclonedx_components(s, p, "components");
  if (const Json* deps = s.optional(p, "dependencies", "dependencies", Kind::kArray)) {
    s.each(*deps, "dependencies", Kind::kObject, [&](const Json& d, const std::string& at) {
      (void)s.require_string(d, "ref", join(at, "ref"));
      if (const Json* on = s.optional(d, "dependsOn", join(at, "dependsOn"), Kind::kArray)) {
        s.each(*on, join(at, "dependsOn"), Kind::kString, [](const Json&, const std::string&) {});
      }
    });
  }
}

void check_openvex(const Json& p, std::string_view what) {
  const Shape s(what, "an OpenVEX document");
  const auto context = s.require_string(p, "@context", "@context");
  if (!context.starts_with("https://openvex.dev/ns")) {
    s.fail("@context", "is '" + excerpt(context, 64) + "', not https://openvex.dev/ns…");
  }
  (void)s.require_string(p, "@id", "@id");
  (void)s.require_string(p, "author", "author");
  s.time(s.require(p, "timestamp", "timestamp", Kind::kString), "timestamp");
  // An integer since OpenVEX 0.2.0; vexctl before it wrote a string.
  const Json& version = s.require(p, "version", "version", Kind::kAny);
  if (!version.is_number_integer() && !version.is_string()) {
    s.fail("version", "is " + std::string(detail::json_type_name(version)) + ", not an integer");
  }
  const Json& statements = s.require(p, "statements", "statements", Kind::kArray);
  static constexpr std::array<std::string_view, 4> kStatus = {"not_affected", "affected", "fixed",
                                                              "under_investigation"};
  s.each(statements, "statements", Kind::kObject, [&](const Json& st, const std::string& at) {
    const Json& vuln = s.require(st, "vulnerability", join(at, "vulnerability"), Kind::kAny);
    if (vuln.is_object()) {
      (void)s.require_string(vuln, "name", join(at, "vulnerability.name"));
    } else if (!vuln.is_string()) {  // OpenVEX 0.0.x: the name itself
      s.fail(join(at, "vulnerability"),
             "is " + std::string(detail::json_type_name(vuln)) + ", not an object");
    }
    const auto status = s.require_string(st, "status", join(at, "status"));
    if (std::find(kStatus.begin(), kStatus.end(), status) == kStatus.end()) {
      s.fail(join(at, "status"), "is '" + excerpt(status, 64) +
                                     "', not not_affected, affected, fixed or under_investigation");
    }
    (void)s.optional(st, "products", join(at, "products"), Kind::kArray);
  });
}

void check_vuln(const Json& p, std::string_view what) {
  const Shape s(what, "a cosign vuln predicate");
  const Json& inv = s.require(p, "invocation", "invocation", Kind::kObject);
  for (const auto* key : {"uri", "event_id", "builder.id"}) {
    (void)s.optional(inv, key, join("invocation", key), Kind::kString);
  }
  const Json& scanner = s.require(p, "scanner", "scanner", Kind::kObject);
  (void)s.require_string(scanner, "uri", "scanner.uri");
  (void)s.optional(scanner, "version", "scanner.version", Kind::kString);
  if (const Json* db = s.optional(scanner, "db", "scanner.db", Kind::kObject)) {
    (void)s.optional(*db, "uri", "scanner.db.uri", Kind::kString);
    (void)s.optional(*db, "version", "scanner.db.version", Kind::kString);
  }
  const Json& md = s.require(p, "metadata", "metadata", Kind::kObject);
  s.time(s.require(md, "scanStartedOn", "metadata.scanStartedOn", Kind::kString),
         "metadata.scanStartedOn");
  s.time(s.require(md, "scanFinishedOn", "metadata.scanFinishedOn", Kind::kString),
         "metadata.scanFinishedOn");
}

// A Trivy JSON report (`trivy image -f json`), schema version 2.
void check_trivy_report(const Json& r, std::string_view what) {
  const Shape s(what, "a Trivy JSON report");
  const Json& version = s.require(r, "SchemaVersion", "SchemaVersion", Kind::kInteger);
  if (version.get<std::int64_t>() != 2) {
    s.fail("SchemaVersion", "is " + version.dump() + ", not 2");
  }
  (void)s.require(r, "ArtifactName", "ArtifactName", Kind::kString);
  s.optional_time(r, "CreatedAt", "CreatedAt");
  if (const Json* trivy = s.optional(r, "Trivy", "Trivy", Kind::kObject)) {
    (void)s.optional(*trivy, "Version", "Trivy.Version", Kind::kString);
  }
  if (const Json* results = s.optional(r, "Results", "Results", Kind::kArray)) {
    s.each(*results, "Results", Kind::kObject, [&](const Json& res, const std::string& at) {
      (void)s.require(res, "Target", join(at, "Target"), Kind::kString);
      if (const Json* vulns =
              s.optional(res, "Vulnerabilities", join(at, "Vulnerabilities"), Kind::kArray)) {
        s.each(*vulns, join(at, "Vulnerabilities"), Kind::kObject,
               [&](const Json& v, const std::string& vat) {
                 (void)s.require_string(v, "VulnerabilityID", join(vat, "VulnerabilityID"));
                 (void)s.require_string(v, "Severity", join(vat, "Severity"));
               });
      }
    });
  }
}

struct Uris {
  std::string slsa_v1 = predicate_type_uri("slsaprovenance1");
  std::string slsa_v02 = predicate_type_uri("slsaprovenance02");
  std::string spdx = predicate_type_uri("spdxjson");
  std::string cyclonedx = predicate_type_uri("cyclonedx");
  std::string vuln = predicate_type_uri("vuln");
  std::string openvex = predicate_type_uri("openvex");
};
const Uris& uris() {
  static const Uris u;
  return u;
}

Json parse_predicate(ByteView predicate_json, std::string_view what) {
  limits::check(predicate_json.size(), limits::kMaxPredicateBytes, what, "bytes");
  Json p = detail::parse_json(predicate_json, what, limits::kMaxPredicateBytes);
  if (!p.is_object()) {
    throw InputError(std::string(what) + ": the predicate is not a JSON object");
  }
  return p;
}

void check_parsed(std::string_view type, const Json& p, std::string_view what) {
  const auto& u = uris();
  if (type == u.slsa_v1) return check_slsa_v1(p, what);
  if (type == u.slsa_v02) return check_slsa_v02(p, what);
  if (type == u.spdx) return check_spdx(p, what);
  if (type == u.cyclonedx) return check_cyclonedx(p, what);
  if (type == u.vuln) return check_vuln(p, what);
  if (type == u.openvex) return check_openvex(p, what);
  // custom, link and any other URI: a JSON object is all that is asked.
}

// The same document with its keys in the order written (the strict parse above sorted them).
OrderedJson ordered(ByteView predicate_json) {
  return OrderedJson::parse(as_string_view(predicate_json));
}

// Trivy's own `--format cosign-vuln` (pkg/report/predicate/vuln.go), field for field: an empty
// invocation, the scanner as a purl with Trivy's version, an empty db (a Trivy report does not
// say which database it used), the report as the result, and both times the scan's.
std::string wrap_trivy_report(const Json& report, ByteView input, std::string_view what,
                              std::string_view now) {
  check_trivy_report(report, what);
  std::string version;
  if (auto t = report.find("Trivy"); t != report.end() && t->is_object()) {
    if (auto v = t->find("Version"); v != t->end() && v->is_string())
      version = v->get<std::string>();
  }
  std::string time(now);
  if (auto c = report.find("CreatedAt"); c != report.end() && c->is_string()) {
    time = c->get<std::string>();
  }
  OrderedJson invocation = OrderedJson::object();
  invocation["parameters"] = nullptr;
  invocation["uri"] = "";
  invocation["event_id"] = "";
  invocation["builder.id"] = "";
  OrderedJson db = OrderedJson::object();
  db["uri"] = "";
  db["version"] = "";
  OrderedJson scanner = OrderedJson::object();
  scanner["uri"] =
      version.empty() ? std::string(kTrivyPurl) : std::string(kTrivyPurl) + "@" + version;
  scanner["version"] = version;
  scanner["db"] = std::move(db);
  scanner["result"] = ordered(input);
  OrderedJson metadata = OrderedJson::object();
  metadata["scanStartedOn"] = time;
  metadata["scanFinishedOn"] = time;
  OrderedJson predicate = OrderedJson::object();
  predicate["invocation"] = std::move(invocation);
  predicate["scanner"] = std::move(scanner);
  predicate["metadata"] = std::move(metadata);
  return detail::dump_compact(predicate);
}

}  // namespace

void check_predicate(std::string_view predicate_type, ByteView predicate_json,
                     std::string_view what) {
  check_parsed(predicate_type, parse_predicate(predicate_json, what), what);
}

std::string prepare_predicate(std::string_view predicate_type, ByteView input,
                              std::string_view what, std::string_view now) {
  const std::string time = detail::time_or_now(now);
  const Json p = parse_predicate(input, what);
  if (predicate_type == uris().vuln && !p.contains("scanner") && p.contains("SchemaVersion")) {
    return wrap_trivy_report(p, input, what, time);
  }
  if (predicate_type == uris().vuln && !p.contains("scanner")) {
    throw InputError(std::string(what) +
                     ": neither a cosign vuln predicate (scanner is missing) nor a Trivy JSON "
                     "report (SchemaVersion is missing)");
  }
  check_parsed(predicate_type, p, what);
  return detail::dump_compact(ordered(input));
}

}  // namespace trust::sig
