// Placeholder (issue 11: the admission engineer implements check/admission.h). Refuses.
#include "libtrust/check/admission.h"

namespace trust::check {

std::string AdmissionDecision::to_json() const {
  return "{}";
}
std::string AdmissionDecision::log_json() const {
  return "{}";
}

AdmissionDecision admit(std::string_view, const AdmissionEnvironment&, const AdmissionOptions&) {
  AdmissionDecision d;
  d.review_ok = false;
  d.code = 400;
  d.message = "the admission webhook is not implemented yet";
  return d;
}

}  // namespace trust::check
