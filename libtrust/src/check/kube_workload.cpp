// Placeholder (issue 11: the workload engineer implements check/kube_workload.h). Refuses.
#include "libtrust/check/kube_workload.h"

#include "libtrust/core/error.h"

namespace trust::check {

std::string Workload::describe() const {
  return kind + " " + namespace_name + "/" + name;
}

Reference kubelet_image_reference(std::string_view image) {
  throw UsageError("invalid image reference '" + std::string(image) + "': not implemented yet");
}

Workload workload_from_json(std::string_view) {
  throw InputError("Kubernetes objects: not implemented yet");
}

std::vector<ManifestObject> read_manifests(std::string_view, std::string source) {
  throw InputError(source + ": Kubernetes manifests: not implemented yet");
}

}  // namespace trust::check
