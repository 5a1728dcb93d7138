#pragma once
// Kubernetes objects and AdmissionReviews in the exact shape the API server sends them
// (k8s.io/api admission/v1 types.go; the example in the Kubernetes documentation "Dynamic
// Admission Control"; the defaults the API server fills into a pod spec), for the admission
// tests: the decisions (tests/verify/test_admission.cpp) and sigil serve end to end
// (tests/cli/test_serve_admission_cli.cpp).

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace sigil::test::kube {

using json = nlohmann::json;

inline constexpr const char* kUid = "705ab4f5-6393-11e8-b7cc-42010a800002";

inline json container(const std::string& name, const std::string& image) {
  return json{{"name", name},
              {"image", image},
              {"imagePullPolicy", "IfNotPresent"},
              {"resources", json::object()},
              {"terminationMessagePath", "/dev/termination-log"},
              {"terminationMessagePolicy", "File"}};
}

// A pod spec whose containers c0, c1, … run `images`.
inline json pod_spec(const std::vector<std::string>& images) {
  json containers = json::array();
  for (std::size_t i = 0; i < images.size(); ++i) {
    containers.push_back(container("c" + std::to_string(i), images[i]));
  }
  return json{{"containers", containers},
              {"restartPolicy", "Always"},
              {"terminationGracePeriodSeconds", 30},
              {"dnsPolicy", "ClusterFirst"},
              {"serviceAccountName", "default"},
              {"securityContext", json::object()},
              {"schedulerName", "default-scheduler"}};
}

inline json metadata(const std::string& name) {
  return json{{"name", name},
              {"namespace", "team"},
              {"uid", "b9cd6e2d-7a8e-4f6b-9b0f-0e6d0c3b1a11"},
              {"creationTimestamp", nullptr},
              {"labels", {{"app", name}}}};
}

inline json templated(const json& spec) {
  return json{{"metadata", {{"creationTimestamp", nullptr}, {"labels", {{"app", "web"}}}}},
              {"spec", spec}};
}

// A kind as the API server names it in a review, and where its pod spec is.
struct KindCase {
  std::string group, version, kind, resource, spec_pointer;
};

// Every kind with a pod spec (check/kube_workload.h's table), Pod first.
inline const std::vector<KindCase>& kind_cases() {
  static const std::vector<KindCase> cases = {
      {"", "v1", "Pod", "pods", "/spec"},
      {"", "v1", "PodTemplate", "podtemplates", "/template/spec"},
      {"apps", "v1", "Deployment", "deployments", "/spec/template/spec"},
      {"apps", "v1", "StatefulSet", "statefulsets", "/spec/template/spec"},
      {"apps", "v1", "DaemonSet", "daemonsets", "/spec/template/spec"},
      {"apps", "v1", "ReplicaSet", "replicasets", "/spec/template/spec"},
      {"batch", "v1", "Job", "jobs", "/spec/template/spec"},
      {"", "v1", "ReplicationController", "replicationcontrollers", "/spec/template/spec"},
      {"batch", "v1", "CronJob", "cronjobs", "/spec/jobTemplate/spec/template/spec"},
  };
  return cases;
}

// An object "team/web" of kind `k` whose one pod spec is `spec`.
inline json object_of(const KindCase& k, const json& spec) {
  const auto api_version = k.group.empty() ? k.version : k.group + "/" + k.version;
  json o{{"apiVersion", api_version}, {"kind", k.kind}, {"metadata", metadata("web")}};
  if (k.kind == "Pod") {
    o["spec"] = spec;
    o["status"] = json::object();
  } else if (k.kind == "PodTemplate") {
    o["template"] = templated(spec);
  } else if (k.kind == "CronJob") {
    o["spec"] = {
        {"schedule", "*/5 * * * *"},
        {"jobTemplate", {{"metadata", json::object()}, {"spec", {{"template", templated(spec)}}}}}};
  } else {
    o["spec"] = {{"replicas", 2},
                 {"selector", {{"matchLabels", {{"app", "web"}}}}},
                 {"template", templated(spec)}};
    if (k.kind == "Job" || k.kind == "DaemonSet") o["spec"].erase("replicas");
  }
  return o;
}

// The AdmissionReview the API server sends for `object` (CREATE, UPDATE with the object as
// oldObject too, DELETE with only oldObject), on `sub_resource` when given.
inline json review_of(const json& object, const KindCase& k,
                      const std::string& operation = "CREATE",
                      const std::string& sub_resource = "") {
  const json gvk{{"group", k.group}, {"version", k.version}, {"kind", k.kind}};
  const json gvr{{"group", k.group}, {"version", k.version}, {"resource", k.resource}};
  json request{{"uid", kUid},
               {"kind", gvk},
               {"resource", gvr},
               {"requestKind", gvk},
               {"requestResource", gvr},
               {"name", "web"},
               {"namespace", "team"},
               {"operation", operation},
               {"userInfo",
                {{"username", "admin"},
                 {"uid", "014fbff9a07c"},
                 {"groups", {"system:authenticated", "my-admin-group"}}}},
               {"object", object},
               {"oldObject", nullptr},
               {"dryRun", false},
               {"options", {{"apiVersion", "meta.k8s.io/v1"}, {"kind", "CreateOptions"}}}};
  if (!sub_resource.empty()) {
    request["subResource"] = sub_resource;
    request["requestSubResource"] = sub_resource;
  }
  if (operation == "UPDATE") {
    request["oldObject"] = object;
    request["options"] = {{"apiVersion", "meta.k8s.io/v1"}, {"kind", "UpdateOptions"}};
  }
  if (operation == "DELETE") {
    request["oldObject"] = object;
    request["object"] = nullptr;
    request["options"] = {{"apiVersion", "meta.k8s.io/v1"}, {"kind", "DeleteOptions"}};
  }
  return json{
      {"kind", "AdmissionReview"}, {"apiVersion", "admission.k8s.io/v1"}, {"request", request}};
}

}  // namespace sigil::test::kube
