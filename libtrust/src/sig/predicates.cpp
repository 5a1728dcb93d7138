// Placeholder until the predicate checks land (issue 9, item 1): refuses rather than accepts.
#include "libtrust/sig/predicates.h"

#include "libtrust/core/error.h"

namespace trust::sig {

void check_predicate(std::string_view, ByteView, std::string_view what) {
  throw UnsupportedError(std::string(what) + ": predicate checks are not built yet");
}

std::string prepare_predicate(std::string_view, ByteView, std::string_view what, std::string_view) {
  throw UnsupportedError(std::string(what) + ": predicate checks are not built yet");
}

}  // namespace trust::sig
