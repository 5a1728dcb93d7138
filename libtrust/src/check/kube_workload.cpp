// The images of Kubernetes objects (check/kube_workload.h), read as the kubelet reads them.
#include "libtrust/check/kube_workload.h"

#include <re2/re2.h>

#include <array>
#include <charconv>
#include <set>
#include <string>
#include <string_view>

#include "check/kube_objects.h"
#include "core/json_util.h"
#include "libtrust/check/docker_name.h"
#include "libtrust/core/error.h"
#include "libtrust/core/limits.h"
#include "libtrust/core/text.h"
#include "verify/yaml_tree.h"

namespace trust::check {
namespace {

using detail::Json;
using Pointer = Json::json_pointer;

// Kubernetes names are at most 253 bytes; kinds far shorter. Messages quote them whole up to this.
constexpr std::size_t kMaxQuotedName = 253;

// Where each kind keeps its pod spec (the header's table), by API group: a "Deployment" of a
// group other than apps (or the long-removed extensions) is some CRD, and unknown.
struct KnownKind {
  std::string_view group;
  std::string_view kind;
  std::array<std::string_view, 5> path;
  std::size_t depth;
};
constexpr std::array<KnownKind, 13> kKnownKinds{{
    {"", "Pod", {"spec"}, 1},
    {"", "PodTemplate", {"template", "spec"}, 2},
    {"", "ReplicationController", {"spec", "template", "spec"}, 3},
    // pods/ephemeralcontainers before Kubernetes 1.22: the lists are at the top of the body.
    {"", "EphemeralContainers", {}, 0},
    {"apps", "Deployment", {"spec", "template", "spec"}, 3},
    {"apps", "StatefulSet", {"spec", "template", "spec"}, 3},
    {"apps", "DaemonSet", {"spec", "template", "spec"}, 3},
    {"apps", "ReplicaSet", {"spec", "template", "spec"}, 3},
    {"extensions", "Deployment", {"spec", "template", "spec"}, 3},
    {"extensions", "DaemonSet", {"spec", "template", "spec"}, 3},
    {"extensions", "ReplicaSet", {"spec", "template", "spec"}, 3},
    {"batch", "Job", {"spec", "template", "spec"}, 3},
    {"batch", "CronJob", {"spec", "jobTemplate", "spec", "template", "spec"}, 5},
}};
// Built-in kinds that run no container and hold no pod template: known, with no images, so that a
// whole chart (its Services, ConfigMaps, RBAC) is judged without `unknownKinds: allow`, which would
// let through a custom resource that does run images.
struct InertKind {
  std::string_view group;
  std::string_view kind;
};
constexpr std::array<InertKind, 31> kInertKinds{{
    {"", "ConfigMap"},
    {"", "Endpoints"},
    {"", "Event"},
    {"", "LimitRange"},
    {"", "Namespace"},
    {"", "PersistentVolume"},
    {"", "PersistentVolumeClaim"},
    {"", "ResourceQuota"},
    {"", "Secret"},
    {"", "Service"},
    {"", "ServiceAccount"},
    {"admissionregistration.k8s.io", "MutatingWebhookConfiguration"},
    {"admissionregistration.k8s.io", "ValidatingAdmissionPolicy"},
    {"admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding"},
    {"admissionregistration.k8s.io", "ValidatingWebhookConfiguration"},
    {"apiextensions.k8s.io", "CustomResourceDefinition"},
    {"autoscaling", "HorizontalPodAutoscaler"},
    {"coordination.k8s.io", "Lease"},
    {"discovery.k8s.io", "EndpointSlice"},
    {"events.k8s.io", "Event"},
    {"networking.k8s.io", "Ingress"},
    {"networking.k8s.io", "IngressClass"},
    {"networking.k8s.io", "NetworkPolicy"},
    {"policy", "PodDisruptionBudget"},
    {"rbac.authorization.k8s.io", "ClusterRole"},
    {"rbac.authorization.k8s.io", "ClusterRoleBinding"},
    {"rbac.authorization.k8s.io", "Role"},
    {"rbac.authorization.k8s.io", "RoleBinding"},
    {"scheduling.k8s.io", "PriorityClass"},
    {"storage.k8s.io", "StorageClass"},
    {"storage.k8s.io", "CSIDriver"},
}};

constexpr std::array<std::string_view, 3> kContainerLists{"containers", "initContainers",
                                                          "ephemeralContainers"};

std::string_view group_of(std::string_view api_version) {
  const auto slash = api_version.find('/');
  return slash == std::string_view::npos ? std::string_view() : api_version.substr(0, slash);
}

const KnownKind* known_kind(std::string_view api_version, std::string_view kind) {
  const auto group = group_of(api_version);
  for (const auto& k : kKnownKinds) {
    if (k.group == group && k.kind == kind) return &k;
  }
  return nullptr;
}

bool inert_kind(std::string_view api_version, std::string_view kind) {
  const auto group = group_of(api_version);
  for (const auto& k : kInertKinds) {
    if (k.group == group && k.kind == kind) return true;
  }
  return false;
}

std::string type_of(const Json& v) {
  return std::string(detail::json_type_name(v));
}

// A string member of `object`, "" when absent or null; anything else is refused.
std::string optional_text(const Json& object, std::string_view key, const Pointer& at,
                          std::string_view what) {
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) return {};
  if (!it->is_string()) {
    throw InputError(std::string(what) + ": " + (at / std::string(key)).to_string() +
                     ": not a string (" + type_of(*it) + ")");
  }
  return it->get<std::string>();
}

UsageError bad_reference(std::string_view image, std::string_view why) {
  return UsageError("invalid image reference '" + excerpt(image) + "': " + std::string(why));
}

}  // namespace

std::string Workload::describe() const {
  std::string out = excerpt(kind, kMaxQuotedName);
  const std::string id = namespace_name.empty() ? excerpt(name, kMaxQuotedName)
                                                : excerpt(namespace_name, kMaxQuotedName) + "/" +
                                                      excerpt(name, kMaxQuotedName);
  if (!id.empty()) out += " " + id;
  return out;
}

Reference kubelet_image_reference(std::string_view image) {
  DockerImageName parsed;
  try {
    parsed = parse_docker_image_name(image);
  } catch (const UsageError& e) {
    // The grammar is the Docker Engine's; only the noun of its message differs.
    const std::string prefix = "invalid image name '" + excerpt(image) + "': ";
    const std::string_view message = e.what();
    throw bad_reference(image,
                        message.starts_with(prefix) ? message.substr(prefix.size()) : message);
  }
  if (parsed.id) {
    throw bad_reference(image,
                        "an image ID names no registry image (the container runtime uses "
                        "whatever image the node holds under that ID)");
  }
  if (parsed.may_be_id_prefix) {
    // containerd's CRI (localResolve) looks a name it holds no image for up as an image ID
    // prefix, so with imagePullPolicy IfNotPresent such a name may run a local image by ID.
    throw bad_reference(image,
                        "the container runtime may read it as a prefix of a local image ID: "
                        "write the registry or a tag (docker.io/library/NAME, NAME:TAG)");
  }
  return *parsed.reference;
}

Workload workload_of(const Json& object) {
  if (!object.is_object()) {
    throw InputError("Kubernetes object: not an object (" + type_of(object) + ")");
  }
  Workload w;
  const auto kind = object.find("kind");
  if (kind == object.end() || kind->is_null()) throw InputError("Kubernetes object: no kind");
  if (!kind->is_string()) {
    throw InputError("Kubernetes object: kind is not a string (" + type_of(*kind) + ")");
  }
  w.kind = kind->get<std::string>();
  if (w.kind.empty()) throw InputError("Kubernetes object: kind is empty");
  const auto api_version = object.find("apiVersion");
  if (api_version == object.end() || api_version->is_null()) {
    throw InputError("Kubernetes object of kind " + excerpt(w.kind, kMaxQuotedName) +
                     ": no apiVersion");
  }
  if (!api_version->is_string()) {
    throw InputError("Kubernetes object of kind " + excerpt(w.kind, kMaxQuotedName) +
                     ": apiVersion is not a string (" + type_of(*api_version) + ")");
  }
  w.api_version = api_version->get<std::string>();

  const Pointer metadata_at("/metadata");
  if (const auto metadata = object.find("metadata");
      metadata != object.end() && !metadata->is_null()) {
    if (!metadata->is_object()) {
      throw InputError(w.describe() + ": /metadata: not an object (" + type_of(*metadata) + ")");
    }
    w.namespace_name = optional_text(*metadata, "namespace", metadata_at, w.describe());
    w.name = optional_text(*metadata, "name", metadata_at, w.describe());
    if (w.name.empty())
      w.name = optional_text(*metadata, "generateName", metadata_at, w.describe());
  }

  const KnownKind* known = known_kind(w.api_version, w.kind);
  if (known == nullptr) {
    w.known = inert_kind(w.api_version, w.kind);
    return w;
  }
  w.known = true;
  const std::string what = w.describe();

  // The pod spec: every step an object, none missing.
  const Json* spec = &object;
  Pointer at;
  for (std::size_t i = 0; i < known->depth; ++i) {
    const std::string key(known->path[i]);
    at /= key;
    const auto it = spec->find(key);
    if (it == spec->end() || it->is_null()) {
      throw InputError(what + ": " + at.to_string() + ": missing");
    }
    if (!it->is_object()) {
      throw InputError(what + ": " + at.to_string() + ": not an object (" + type_of(*it) + ")");
    }
    spec = &*it;
  }

  std::size_t containers = 0;
  for (auto list_name : kContainerLists) {
    const auto list = spec->find(list_name);
    if (list == spec->end() || list->is_null()) continue;
    const Pointer list_at = at / std::string(list_name);
    if (!list->is_array()) {
      throw InputError(what + ": " + list_at.to_string() + ": not an array (" + type_of(*list) +
                       ")");
    }
    containers += list->size();
  }
  limits::check(containers, kMaxWorkloadContainers, what, "containers");

  std::set<std::string> distinct;
  for (auto list_name : kContainerLists) {
    const auto list = spec->find(list_name);
    if (list == spec->end() || list->is_null()) continue;
    const Pointer list_at = at / std::string(list_name);
    for (std::size_t i = 0; i < list->size(); ++i) {
      const Json& container = (*list)[i];
      const Pointer container_at = list_at / i;
      if (!container.is_object()) {
        throw InputError(what + ": " + container_at.to_string() + ": not an object (" +
                         type_of(container) + ")");
      }
      WorkloadImage image;
      image.list = std::string(list_name);
      image.container = optional_text(container, "name", container_at, what);
      const Pointer image_at = container_at / "image";
      image.pointer = image_at.to_string();
      const auto text = container.find("image");
      if (text == container.end() || text->is_null()) {
        throw InputError(what + ": " + image.pointer + ": missing");
      }
      if (!text->is_string()) {
        throw InputError(what + ": " + image.pointer + ": not a string (" + type_of(*text) + ")");
      }
      image.image = text->get<std::string>();
      if (image.image.empty()) throw InputError(what + ": " + image.pointer + ": empty");
      distinct.insert(image.image);
      limits::check(distinct.size(), kMaxWorkloadImages, what, "distinct images");
      w.images.push_back(std::move(image));
    }
  }
  return w;
}

Workload workload_from_json(std::string_view object_json) {
  return workload_of(
      detail::parse_json(object_json, "Kubernetes object", limits::kMaxKubeObjectBytes));
}

namespace {

using detail::YamlValue;

// A plain scalar as Kubernetes reads it (sigs.k8s.io/yaml: go-yaml v2, YAML 1.1's resolution),
// so that a value is a string to sigil exactly when it is one to kubectl and the API server.
struct ScalarGrammar {
  RE2 null_value{"|~|null|Null|NULL"};
  RE2 true_value{"y|Y|yes|Yes|YES|true|True|TRUE|on|On|ON"};
  RE2 false_value{"n|N|no|No|NO|false|False|FALSE|off|Off|OFF"};
  RE2 integer{"[-+]?[0-9][0-9_]*"};
  RE2 hex{"0x[0-9a-fA-F_]+"};
  RE2 number{R"([-+]?(\.[0-9]+|[0-9][0-9_]*(\.[0-9_]*)?)([eE][-+]?[0-9]+)?)"};
  RE2 infinity{R"([-+]?\.(inf|Inf|INF))"};
  RE2 not_a_number{R"(\.(nan|NaN|NAN))"};
};

const ScalarGrammar& scalar_grammar() {
  static const ScalarGrammar g;
  return g;
}

Json scalar_json(const YamlValue& v) {
  if (v.quoted) return v.text;
  const auto& g = scalar_grammar();
  if (RE2::FullMatch(v.text, g.null_value)) return nullptr;
  if (RE2::FullMatch(v.text, g.true_value)) return true;
  if (RE2::FullMatch(v.text, g.false_value)) return false;
  std::string digits;
  for (char c : v.text) {
    if (c != '_') digits += c;
  }
  const bool hex = RE2::FullMatch(v.text, g.hex);
  if (hex || RE2::FullMatch(v.text, g.integer)) {
    const char* begin = digits.data() + (hex ? 2 : (digits[0] == '+' ? 1 : 0));
    const char* end = digits.data() + digits.size();
    std::int64_t n = 0;
    // A leading 0 is octal in YAML 1.1 ("0755").
    const int base = hex ? 16 : (digits.size() > 1 && digits[0] == '0' ? 8 : 10);
    if (auto [p, ec] = std::from_chars(begin, end, n, base); ec == std::errc() && p == end) {
      return n;
    }
  }
  if (RE2::FullMatch(v.text, g.number) || RE2::FullMatch(v.text, g.infinity) ||
      RE2::FullMatch(v.text, g.not_a_number)) {
    // Whatever it is numerically, it is not a string; the extraction only ever needs strings.
    double d = 0;
    if (auto [p, ec] = std::from_chars(digits.data() + (digits[0] == '+' ? 1 : 0),
                                       digits.data() + digits.size(), d);
        ec == std::errc()) {
      return d;
    }
    return 0.0;
  }
  return v.text;
}

Json to_json(const YamlValue& v) {
  switch (v.kind) {
    case YamlValue::Kind::kNull:
      return nullptr;
    case YamlValue::Kind::kScalar:
      return scalar_json(v);
    case YamlValue::Kind::kList: {
      Json out = Json::array();
      for (const auto& item : v.items) out.push_back(to_json(item));
      return out;
    }
    case YamlValue::Kind::kMap: {
      Json out = Json::object();
      for (std::size_t i = 0; i < v.map_size(); ++i) out[v.key(i).text] = to_json(v.value(i));
      return out;
    }
  }
  return nullptr;
}

const YamlValue* member(const YamlValue& map, std::string_view key) {
  for (std::size_t i = 0; i < map.map_size(); ++i) {
    if (map.key(i).text == key) return &map.value(i);
  }
  return nullptr;
}

class ManifestReader {
 public:
  explicit ManifestReader(std::string source) : source_(std::move(source)) {}

  void document(const YamlValue& root, std::size_t index) {
    if (root.kind == YamlValue::Kind::kNull) return;  // `---` with nothing, or only comments
    object(root, index);
  }

  std::vector<ManifestObject> take() { return std::move(objects_); }

 private:
  [[noreturn]] void fail(const YamlValue& at, const std::string& what) const {
    throw InputError(detail::position_text(source_, at.at) + ": " + what);
  }

  void object(const YamlValue& v, std::size_t index) {
    if (v.kind != YamlValue::Kind::kMap) {
      fail(v, "a Kubernetes object is a mapping, not " + detail::yaml_kind_name(v));
    }
    // A List (kind List, or a kind ending in List, as kubectl get -o yaml writes them)
    // contributes each of its items.
    const YamlValue* kind = member(v, "kind");
    const YamlValue* items = member(v, "items");
    if (kind != nullptr && kind->kind == YamlValue::Kind::kScalar && kind->text.ends_with("List") &&
        items != nullptr) {
      if (items->kind == YamlValue::Kind::kNull) return;
      if (items->kind != YamlValue::Kind::kList) {
        fail(*items, excerpt(kind->text, kMaxQuotedName) + ": items: needs a list, not " +
                         detail::yaml_kind_name(*items));
      }
      for (const auto& item : items->items) object(item, index);
      return;
    }
    limits::check(objects_.size() + 1, limits::kMaxManifestObjects, source_, "Kubernetes objects");
    ManifestObject o;
    o.source = source_;
    o.document = index;
    o.line = v.at.line;
    const std::string where = detail::position_text(source_, v.at) + ": ";
    try {
      o.workload = workload_of(to_json(v));
    } catch (const LimitError& e) {
      throw LimitError(where + e.what());
    } catch (const InputError& e) {
      throw InputError(where + e.what());
    }
    objects_.push_back(std::move(o));
  }

  std::string source_;
  std::vector<ManifestObject> objects_;
};

}  // namespace

std::vector<ManifestObject> read_manifests(std::string_view text, std::string source) {
  limits::check(text.size(), limits::kMaxManifestFileBytes, source, "bytes of manifests");
  ManifestReader reader(source);
  detail::read_yaml(text,
                    {.source = source,
                     .root_name = "manifest",
                     .max_values = limits::kMaxManifestValues,
                     .values_noun = "values in one YAML document",
                     .max_nesting = limits::kMaxManifestNesting,
                     .max_documents = limits::kMaxManifestDocuments,
                     .one_document = {}},
                    [&](YamlValue&& root, std::size_t index, const verify::SourcePosition&) {
                      reader.document(root, index);
                    });
  return reader.take();
}

}  // namespace trust::check
