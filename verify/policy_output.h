#pragma once
// How a policy verdict reaches the user, for every command that enforces the trust policy
// (`verify --policy`, `verify-attestation --policy`, `policy explain`): one printer, one exit code.
//  - text (stderr, every format): the verdict's line, "RESULT IMAGE@DIGEST by rule 'R': CAUSE";
//    with `explain`, one line per trace step under it; a verdict allowed by mode warn or audit
//    also prints "warning: IMAGE: CAUSE (…)" (its check failed, and the mode let it through);
//  - json (stdout): the verdict JSON (docs/formats.md), "schemaVersion" first: one compact line
//    per verdict (kLines, several images), or one indented document (kDocument).
// Exit codes: 0 allowed (warned and audited too), 1 denied, 3 not denied by the policy but could
// not be checked (a registry or input error under an enforce rule). Over several images a denial
// wins: 1 if any is denied, else 3 if any could not be checked, else 0.

#include <nlohmann/json.hpp>

#include "common.h"
#include "libtrust/verify/policy_check.h"

namespace sigil::cli {

enum class JsonStyle { kLines, kDocument };

// Where the image of a verdict was named (`policy check`: a manifest's file, line, object and
// container). Text: "PLACE: " before the verdict's line. JSON (kLines): the members after
// "schemaVersion", and the verdict as "verdict".
struct VerdictPlace {
  std::string text;
  nlohmann::ordered_json members = nlohmann::ordered_json::object();
};

void print_policy_verdict(const trust::verify::PolicyVerdict& verdict, OutputFormat format,
                          bool explain, JsonStyle style, const VerdictPlace* place = nullptr);

// 0, 1 or 3 for one verdict (above).
int policy_exit_code(const trust::verify::PolicyVerdict& verdict);
// The exit code of a run that had both: 1 wins over 3, 3 over 0.
int combined_exit_code(int a, int b);

}  // namespace sigil::cli
