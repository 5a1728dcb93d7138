#pragma once
// Predicates checked against their declared type before anything is signed, and the predicates
// sigil builds itself from a scanner's report. The one place that knows the shape of each
// predicate type (the type URIs and short names are predicate_type.h's):
//   https://slsa.dev/provenance/v1    buildDefinition {buildType, externalParameters, …} and
//                                     runDetails {builder {id}, …} (SLSA v1.0)
//   https://slsa.dev/provenance/v0.2  builder {id}, buildType (read and accepted; not built)
//   https://spdx.dev/Document         an SPDX 2.x JSON document (spdxVersion "SPDX-2.*", SPDXID,
//                                     name, dataLicense, …), as Trivy, Syft and `docker sbom` write
//   https://cyclonedx.org/bom         a CycloneDX JSON BOM (bomFormat "CycloneDX", specVersion)
//   https://cosign.sigstore.dev/attestation/vuln/v1
//                                     cosign's vuln predicate {invocation, scanner {uri, version,
//                                     db, result}, metadata {scanStartedOn, scanFinishedOn}}
//   https://openvex.dev/ns            an OpenVEX document (@context, statements)
//   anything else                     any JSON object (custom)
// A check names the file and the field that is wrong, in one line.

#include <string>
#include <string_view>

#include "libtrust/core/bytes.h"
#include "libtrust/export.h"

namespace trust::sig {

// Checks `predicate_json` (a JSON object, parsed strictly: duplicate keys refused, nesting and
// size capped, at most limits::kMaxPredicateBytes) against the shape of `predicate_type` (a URI,
// as predicate_type_uri returns it). Throws InputError / LimitError naming `what` and the field.
TRUST_API void check_predicate(std::string_view predicate_type, ByteView predicate_json,
                               std::string_view what);

// What `attest --type T --predicate FILE` signs: `input` checked as check_predicate does, returned
// as compact JSON text. For the vuln type, a Trivy JSON report (SchemaVersion, ArtifactName,
// Results, …) is wrapped into cosign's vuln predicate: scanner uri and version (and db, where the
// report has it), result = the report as it is, metadata times from the report (CreatedAt), else
// `now` (RFC 3339 UTC; empty: the current time). A predicate already in cosign's vuln shape is
// taken as it is. Throws as check_predicate, and UsageError for a `now` that is not RFC 3339.
TRUST_API std::string prepare_predicate(std::string_view predicate_type, ByteView input,
                                        std::string_view what, std::string_view now);

}  // namespace trust::sig
