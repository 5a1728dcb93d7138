#pragma once
// Predicate types of in-toto attestations, by cosign's short names or as absolute URIs. The one
// place the names and URIs are spelled:
//   slsaprovenance   https://slsa.dev/provenance/v1 (written; v0.2 also accepted when verifying)
//   slsaprovenance02 https://slsa.dev/provenance/v0.2
//   slsaprovenance1  https://slsa.dev/provenance/v1
//   link             https://in-toto.io/Link/v1
//   spdx, spdxjson   https://spdx.dev/Document
//   cyclonedx        https://cyclonedx.org/bom
//   vuln             https://cosign.sigstore.dev/attestation/vuln/v1
//   openvex          https://openvex.dev/ns
//   custom           https://cosign.sigstore.dev/attestation/v1
// cosign writes v0.2 for `slsaprovenance`; sigil writes SLSA v1 (issue 9), and reads both.

#include <string>
#include <string_view>
#include <vector>

#include "libtrust/export.h"

namespace trust::sig {

// The URI a type name stands for when writing an attestation: a short name's URI, or an absolute
// URI ("scheme:rest", no whitespace) as it is. UsageError listing the short names otherwise.
TRUST_API std::string predicate_type_uri(std::string_view name);

// The predicateType values that satisfy a requested type when verifying (a short name's URIs, or
// the URI itself). UsageError as predicate_type_uri.
TRUST_API std::vector<std::string> accepted_predicate_types(std::string_view requested);

// True if a signed statement's predicateType satisfies `requested` (exact string comparison).
TRUST_API bool predicate_type_matches(std::string_view requested, std::string_view predicate_type);

// The short names, for help text and completion ("slsaprovenance, slsaprovenance02, …").
TRUST_API std::vector<std::string> predicate_type_names();

}  // namespace trust::sig
