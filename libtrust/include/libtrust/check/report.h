#pragma once
// How a verification is reported, built once in the library so that `sigil verify`, the node
// hooks and the admission server print the same: sigil's JSON document (docs/formats.md), the
// array `cosign verify` prints, and the text lines for people. The printing (where it goes, how
// it is escaped for a terminal) is the caller's.

#include <string>
#include <vector>

#include "libtrust/check/verify_attestations.h"
#include "libtrust/check/verify_image.h"
#include "libtrust/core/reference.h"
#include "libtrust/export.h"

namespace trust::check {

// sigil's `verify --output json` document as JSON text (one object; the caller adds its
// "schemaVersion"). Invalid UTF-8 from outside is replaced by U+FFFD, so the text is valid JSON.
TRUST_API std::string report_json(const Reference& ref, const ImageVerification& v);

// What `cosign verify` prints, as JSON text: an array with one simple-signing object per verified
// signature.
TRUST_API std::string cosign_report_json(const Reference& ref, const ImageVerification& v);

// The report for people, one line each, unescaped (a terminal printer escapes them). `source`
// names where the image was read ("127.0.0.1:5000/lab/app", "oci:/tmp/img").
TRUST_API std::vector<std::string> report_lines(const Reference& ref, const std::string& source,
                                                const ImageVerification& v);

// `verify-attestation --output json`: each statement that counted, as compact JSON with every
// non-ASCII character \u-escaped (so it is also safe on a terminal), one per line, in the order
// of the verdicts: what `| jq` reads.
TRUST_API std::vector<std::string> attestation_report_json_lines(const AttestationVerification& v);

// The attestation report for people, one line each, unescaped: every attestation considered and
// why it did or did not count (the type the storage claimed shown beside the signed one), then
// the verdict. `source` as for report_lines.
TRUST_API std::vector<std::string> attestation_report_lines(const Reference& ref,
                                                            const std::string& source,
                                                            const AttestationVerification& v);

}  // namespace trust::check
