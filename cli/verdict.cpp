#include "verdict.h"

#include <nlohmann/json.hpp>

#include "libtrust/check/report.h"

namespace sigil::cli {

void print_verification(const trust::Reference& ref, const std::string& source,
                        const trust::check::ImageVerification& v, OutputFormat format) {
  switch (format) {
    case OutputFormat::kJson:
      print_json(nlohmann::ordered_json::parse(trust::check::report_json(ref, v)));
      break;
    case OutputFormat::kCosign:
      print_foreign_json(nlohmann::ordered_json::parse(trust::check::cosign_report_json(ref, v)));
      break;
    case OutputFormat::kText:
      break;
  }
  // The report for people goes to stderr in every format (as cosign prints its checks).
  for (const auto& line : trust::check::report_lines(ref, source, v)) say(line);
}

}  // namespace sigil::cli
