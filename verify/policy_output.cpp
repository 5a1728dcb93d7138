#include "policy_output.h"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace sigil::cli {

void print_policy_verdict(const trust::verify::PolicyVerdict& verdict, OutputFormat format,
                          bool explain, JsonStyle style, const VerdictPlace* place) {
  if (format == OutputFormat::kJson) {
    const auto body = nlohmann::ordered_json::parse(trust::verify::to_json(verdict));
    if (style == JsonStyle::kDocument) {
      print_json(body);
    } else {
      nlohmann::ordered_json line{{"schemaVersion", kJsonSchemaVersion}};
      if (place != nullptr) {
        for (const auto& [key, value] : place->members.items()) line[key] = value;
        line["verdict"] = body;
      } else {
        for (const auto& [key, value] : body.items()) line[key] = value;
      }
      // ASCII already (to_json), so nothing in it is a terminal sequence.
      result(line.dump(-1, ' ', /*ensure_ascii=*/true,
                       nlohmann::ordered_json::error_handler_t::replace));
    }
  }
  const auto lines = trust::verify::explain_lines(verdict);
  const std::string prefix = place == nullptr ? std::string() : place->text + ": ";
  say(prefix + lines.front());
  if (explain) {
    for (std::size_t i = 1; i < lines.size(); ++i) say(lines[i]);
  }
  if (verdict.allowed && !verdict.satisfied) {
    warn(verdict.image + ": " + verdict.cause + " (allowed: rule '" + verdict.rule + "' is in " +
         std::string(trust::verify::to_string(verdict.mode)) + " mode)");
  }
}

int policy_exit_code(const trust::verify::PolicyVerdict& verdict) {
  if (verdict.allowed) return kExitOk;
  const bool error = std::any_of(verdict.trace.begin(), verdict.trace.end(),
                                 [](const auto& step) { return step.check == "error"; });
  return error ? kExitError : kExitVerifyFailed;
}

int combined_exit_code(int a, int b) {
  if (a == kExitVerifyFailed || b == kExitVerifyFailed) return kExitVerifyFailed;
  if (a == kExitError || b == kExitError) return kExitError;
  return std::max(a, b);
}

}  // namespace sigil::cli
