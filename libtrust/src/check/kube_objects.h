#pragma once
// Private: the extraction of check/kube_workload.h on an object already parsed, so that the
// admission webhook (check/admission.cpp: the AdmissionReview's request.object), the manifest
// reader (read_manifests) and workload_from_json share one reading of Kubernetes objects.

#include <nlohmann/json.hpp>

#include "libtrust/check/kube_workload.h"

namespace trust::check {

// The images of one object (kube_workload.h: the kinds, the pod spec paths, the strictness).
// Throws InputError "KIND NAMESPACE/NAME: POINTER: what" for a malformed object of a known kind,
// "Kubernetes object: …" for one whose kind or apiVersion cannot be read, and LimitError over
// kMaxWorkloadContainers / kMaxWorkloadImages.
Workload workload_of(const nlohmann::json& object);

}  // namespace trust::check
