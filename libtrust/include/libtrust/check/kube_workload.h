#pragma once
// The images a Kubernetes object runs, found where the kubelet finds them: what the admission
// server (check/admission.h) judges and `sigil policy check -f` judges before deploy. One
// extraction for both, so that CI and the cluster never disagree about which images an object
// names.
//
// The kinds read (core/v1, apps/v1, batch/v1), and where their pod spec is:
//   Pod                                       .spec
//   PodTemplate                               .template.spec
//   Deployment, StatefulSet, DaemonSet,
//   ReplicaSet, Job, ReplicationController    .spec.template.spec
//   CronJob                                   .spec.jobTemplate.spec.template.spec
//   EphemeralContainers (pods/ephemeralcontainers before 1.22's Pod body)   .ephemeralContainers
// In each pod spec every container list: containers, initContainers, ephemeralContainers.
// Built-in kinds that run no container (Service, ConfigMap, Secret, RBAC, Ingress,
// NetworkPolicy, PodDisruptionBudget, HorizontalPodAutoscaler, CRDs, webhook configurations, …,
// each by its API group: the table in kube_workload.cpp) are known too, with no images. Any other
// kind is "unknown": it names no images here, and the policy's `admission: unknownKinds` (deny by
// default) says what happens to it. An object of a known kind whose pod
// spec or a container list is malformed (not an object, not an array, an image that is not a
// string or is empty) is an InputError naming the object and the JSON pointer: never skipped.
//
// Image names are read as the kubelet reads them (kubelet and CRI: docker/distribution's
// ParseNormalizedNamed, then TagNameOnly): "busybox" is docker.io/library/busybox:latest, a first
// component is a registry host only when it holds '.' or ':' or is "localhost", a name with tag
// and digest is pulled by its digest. An image ID ("sha256:…", 64 hex) names no registry image and
// is refused, as is anything the grammar refuses.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "libtrust/core/reference.h"
#include "libtrust/export.h"

namespace trust::check {

// Caps (a body of 3 MiB can name a great many containers; each costs a registry check).
inline constexpr std::size_t kMaxWorkloadContainers = 1024;  // every list of one object together
inline constexpr std::size_t kMaxWorkloadImages = 64;        // distinct images of one object

// One image named by one container.
struct WorkloadImage {
  std::string list;       // "containers", "initContainers", "ephemeralContainers"
  std::string container;  // the container's name ("" when it has none)
  // RFC 6901 pointer to the image string in the object: "/spec/template/spec/containers/0/image"
  // (what a mutating patch replaces).
  std::string pointer;
  std::string image;  // as written
};

// One object and the images it names.
struct Workload {
  std::string api_version;  // as written ("apps/v1")
  std::string kind;         // as written ("Deployment")
  std::string namespace_name;
  std::string name;                   // metadata.name, else metadata.generateName, else ""
  bool known = false;                 // a kind of the table above
  std::vector<WorkloadImage> images;  // in the order of the object (duplicates kept)
  // "Deployment default/web" (for messages and `policy check`'s output).
  TRUST_API std::string describe() const;
};

// The reference the kubelet pulls for an image string (see above). Throws UsageError
// "invalid image reference 'TEXT': why".
TRUST_API Reference kubelet_image_reference(std::string_view image);

// The images of one object, given as JSON text. Throws InputError for malformed JSON, a missing
// or non-string kind, a malformed pod spec (naming the pointer), and LimitError over the caps.
TRUST_API Workload workload_from_json(std::string_view object_json);

// Kubernetes manifests as `kubectl apply -f`, `helm template` and `kustomize build` write them:
// YAML (several documents; empty and null documents skipped) or JSON; a `List` (kind List or
// *List with .items) contributes each item. Only the structure is read: anchors and aliases are
// refused (a manifest gate must not expand a billion laughs), as are tags other than the core
// schema's. `source` names the input in messages ("deploy.yaml", "-" for stdin).
struct ManifestObject {
  std::string source;
  std::size_t document = 0;  // 1-based document index in the file
  std::size_t line = 0;      // 1-based line where the object starts
  Workload workload;
};
// Throws InputError "SOURCE:LINE:COLUMN: what" for YAML or structure it cannot read, LimitError
// over core/limits.h's caps (the file, the documents, the nesting).
TRUST_API std::vector<ManifestObject> read_manifests(std::string_view text, std::string source);

}  // namespace trust::check
