// Placeholder until the CI provenance generator lands (issue 9, item 2): refuses.
#include "libtrust/sig/provenance.h"

#include "libtrust/core/error.h"

namespace trust::sig {

Environment ci_environment() {
  return {};
}

std::string ci_system(const Environment&) {
  return {};
}

std::string provenance_from_ci(const Environment&, std::span<const std::string>, std::string_view) {
  throw UnsupportedError("--predicate auto is not built yet");
}

}  // namespace trust::sig
