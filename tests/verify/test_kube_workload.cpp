// The images of Kubernetes objects (check/kube_workload.h): image names read as the kubelet and
// containerd's CRI read them, and the strict extraction the admission webhook and `sigil policy
// check` share. The objects follow the Kubernetes documentation's examples (k8s.io/api types).
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "libtrust/check/kube_workload.h"
#include "libtrust/core/error.h"
#include "libtrust/core/limits.h"
#include "support/errors.h"

namespace trust::check {
namespace {

using sigil::test::thrown_by;

const std::string kHex = "3586a72b2d4706bb9ce727ec37ace6d560ef126b86e5df170cf65e33e8ce5b61";

std::string pulled(std::string_view image) {
  return kubelet_image_reference(image).str();
}

std::string refused(std::string_view image) {
  const auto t = thrown_by([&] { (void)kubelet_image_reference(image); });
  CHECK(t.code == ErrorCode::kUsage);
  return t.message;
}

// kubernetes.io/docs/concepts/workloads/controllers/deployment/ (nginx-deployment.yaml).
const std::string kDeployment = R"({
  "apiVersion": "apps/v1", "kind": "Deployment",
  "metadata": {"name": "nginx-deployment", "namespace": "default", "labels": {"app": "nginx"}},
  "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "nginx"}},
    "template": {"metadata": {"labels": {"app": "nginx"}},
      "spec": {"containers": [{"name": "nginx", "image": "nginx:1.14.2",
                               "ports": [{"containerPort": 80}]}]}}}})";

// kubernetes.io/docs/concepts/workloads/pods/init-containers/ (myapp-pod).
const std::string kPod = R"({
  "apiVersion": "v1", "kind": "Pod",
  "metadata": {"name": "myapp-pod", "labels": {"app.kubernetes.io/name": "MyApp"}},
  "spec": {
    "containers": [{"name": "myapp-container", "image": "busybox:1.28",
                    "command": ["sh", "-c", "echo The app is running! && sleep 3600"]}],
    "initContainers": [{"name": "init-myservice", "image": "busybox:1.28"},
                       {"name": "init-mydb", "image": "registry.example.com/db/init@sha256:)" +
                         kHex + R"("}],
    "ephemeralContainers": [{"name": "debugger", "image": "busybox"}]}})";

// kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/ (hello).
const std::string kCronJob = R"({
  "apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "hello"},
  "spec": {"schedule": "* * * * *", "jobTemplate": {"spec": {"template": {"spec": {
    "containers": [{"name": "hello", "image": "busybox:1.28", "imagePullPolicy": "IfNotPresent",
                    "command": ["/bin/sh", "-c", "date; echo Hello from the Kubernetes cluster"]}],
    "restartPolicy": "OnFailure"}}}}}})";

std::string message_for(const std::string& json) {
  const auto t = thrown_by([&] { (void)workload_from_json(json); });
  CHECK(t.code == ErrorCode::kInput);
  return t.message;
}

std::string deployment_with_spec(const std::string& pod_spec) {
  return R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"prod"},)"
         R"("spec":{"template":{"spec":)" +
         pod_spec + "}}}";
}

}  // namespace

TEST_CASE("kubelet names: short names and Docker Hub spellings are pulled from docker.io/library",
          "[kube-workload]") {
  CHECK(pulled("busybox") == "docker.io/library/busybox:latest");
  CHECK(pulled("busybox:1.28") == "docker.io/library/busybox:1.28");
  CHECK(pulled("library/busybox") == "docker.io/library/busybox:latest");
  CHECK(pulled("docker.io/library/busybox") == "docker.io/library/busybox:latest");
  CHECK(pulled("docker.io/busybox:1") == "docker.io/library/busybox:1");
  CHECK(pulled("index.docker.io/busybox:1") == "docker.io/library/busybox:1");
  CHECK(pulled("team/app:v1") == "docker.io/team/app:v1");
}

TEST_CASE("kubelet names: a first component is a host only with a dot, a port or localhost",
          "[kube-workload]") {
  CHECK(pulled("localhost/app") == "localhost/app:latest");
  CHECK(pulled("localhost:5000/app:v2") == "localhost:5000/app:v2");
  CHECK(pulled("registry.example.com/team/app") == "registry.example.com/team/app:latest");
  CHECK(pulled("registry:5000/app") == "registry:5000/app:latest");
  CHECK(pulled("registry/app") == "docker.io/registry/app:latest");
  const auto r = kubelet_image_reference("registry.example.com:8443/team/app:v1");
  CHECK(r.registry() == "registry.example.com:8443");
  CHECK(r.repository() == "team/app");
  CHECK(r.tag() == "v1");
}

TEST_CASE("kubelet names: a tag with a digest is kept and judged by the digest",
          "[kube-workload]") {
  const auto r = kubelet_image_reference("ghcr.io/team/app:v1@sha256:" + kHex);
  CHECK(r.tag() == "v1");
  REQUIRE(r.digest().has_value());
  CHECK(r.digest()->str() == "sha256:" + kHex);
  CHECK(pulled("app@sha256:" + kHex) == "docker.io/library/app@sha256:" + kHex);
}

TEST_CASE("kubelet names: upper case is a host's only", "[kube-workload]") {
  CHECK(pulled("Registry.Example.COM/app:V1") == "registry.example.com/app:V1");
  CHECK(refused("Busybox") ==
        "invalid image reference 'Busybox': repository name must be lowercase");
  CHECK(refused("example.com/Team/app") ==
        "invalid image reference 'example.com/Team/app': repository name must be lowercase");
}

TEST_CASE("kubelet names: image IDs and ID prefixes are refused", "[kube-workload]") {
  CHECK(refused(kHex) == "invalid image reference '" + kHex +
                             "': an image ID names no registry image (the container runtime "
                             "uses whatever image the node holds under that ID)");
  CHECK(refused("sha256:" + kHex) == "invalid image reference 'sha256:" + kHex +
                                         "': an image ID names no registry image (the container "
                                         "runtime uses whatever image the node holds under that "
                                         "ID)");
  const std::string prefix =
      "': the container runtime may read it as a prefix of a local image ID: write the registry "
      "or a tag (docker.io/library/NAME, NAME:TAG)";
  CHECK(refused("3586a72b") == "invalid image reference '3586a72b" + prefix);
  CHECK(refused("sha256:3586a72b") == "invalid image reference 'sha256:3586a72b" + prefix);
  // The same names, spelled so that no runtime reads them as IDs.
  CHECK(pulled("docker.io/library/3586a72b") == "docker.io/library/3586a72b:latest");
  CHECK(pulled("cafe:1") == "docker.io/library/cafe:1");
}

TEST_CASE("kubelet names: what the grammar refuses is refused with its reason", "[kube-workload]") {
  CHECK(refused("") == "invalid image reference '': empty");
  CHECK(refused("app:") == "invalid image reference 'app:': invalid reference format");
  CHECK(refused(" busybox") == "invalid image reference ' busybox': invalid reference format");
  CHECK(refused("a//b") == "invalid image reference 'a//b': invalid reference format");
  CHECK(refused("app@sha256:abc") ==
        "invalid image reference 'app@sha256:abc': invalid reference "
        "format");
  CHECK(refused("-x.example/app") ==
        "invalid image reference '-x.example/app': invalid reference format");
}

TEST_CASE("workloads: a Deployment's containers with their names and RFC 6901 pointers",
          "[kube-workload]") {
  const Workload w = workload_from_json(kDeployment);
  CHECK(w.api_version == "apps/v1");
  CHECK(w.kind == "Deployment");
  CHECK(w.namespace_name == "default");
  CHECK(w.name == "nginx-deployment");
  CHECK(w.known);
  CHECK(w.describe() == "Deployment default/nginx-deployment");
  REQUIRE(w.images.size() == 1);
  CHECK(w.images[0].list == "containers");
  CHECK(w.images[0].container == "nginx");
  CHECK(w.images[0].pointer == "/spec/template/spec/containers/0/image");
  CHECK(w.images[0].image == "nginx:1.14.2");
}

TEST_CASE("workloads: every container list of a Pod, in order, duplicates kept",
          "[kube-workload]") {
  const Workload w = workload_from_json(kPod);
  CHECK(w.describe() == "Pod myapp-pod");
  REQUIRE(w.images.size() == 4);
  CHECK(w.images[0].pointer == "/spec/containers/0/image");
  CHECK(w.images[1].list == "initContainers");
  CHECK(w.images[1].container == "init-myservice");
  CHECK(w.images[1].image == "busybox:1.28");
  CHECK(w.images[2].pointer == "/spec/initContainers/1/image");
  CHECK(w.images[2].image == "registry.example.com/db/init@sha256:" + kHex);
  CHECK(w.images[3].list == "ephemeralContainers");
  CHECK(w.images[3].pointer == "/spec/ephemeralContainers/0/image");
}

TEST_CASE("workloads: every known kind's pod spec path", "[kube-workload]") {
  const std::string pod_spec = R"({"containers":[{"name":"c","image":"app:1"}]})";
  const auto first_pointer = [](const std::string& json) {
    const Workload w = workload_from_json(json);
    CHECK(w.known);
    REQUIRE(w.images.size() == 1);
    return w.images[0].pointer;
  };
  const auto templated = [&](std::string_view api_version, std::string_view kind) {
    return first_pointer(R"({"apiVersion":")" + std::string(api_version) + R"(","kind":")" +
                         std::string(kind) + R"(","spec":{"template":{"spec":)" + pod_spec + "}}}");
  };
  for (auto kind : {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"}) {
    CHECK(templated("apps/v1", kind) == "/spec/template/spec/containers/0/image");
  }
  CHECK(templated("extensions/v1beta1", "Deployment") == "/spec/template/spec/containers/0/image");
  CHECK(templated("batch/v1", "Job") == "/spec/template/spec/containers/0/image");
  CHECK(templated("v1", "ReplicationController") == "/spec/template/spec/containers/0/image");
  CHECK(first_pointer(R"({"apiVersion":"v1","kind":"PodTemplate","template":{"spec":)" + pod_spec +
                      "}}") == "/template/spec/containers/0/image");
  CHECK(first_pointer(kCronJob) == "/spec/jobTemplate/spec/template/spec/containers/0/image");
  CHECK(first_pointer(R"({"apiVersion":"v1","kind":"EphemeralContainers","metadata":{"name":"p"},)"
                      R"("ephemeralContainers":[{"name":"d","image":"busybox"}]})") ==
        "/ephemeralContainers/0/image");
}

TEST_CASE("workloads: built-in kinds that run no container are known with no images, by group",
          "[kube-workload]") {
  for (
      const char* object :
      {R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"}})",
       R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"s"},"spec":{"ports":[]}})",
       R"({"apiVersion":"rbac.authorization.k8s.io/v1","kind":"Role","metadata":{"name":"r"}})",
       R"({"apiVersion":"policy/v1","kind":"PodDisruptionBudget","metadata":{"name":"p"}})",
       R"({"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy","metadata":{"name":"n"}})"}) {
    const Workload w = workload_from_json(object);
    CHECK(w.known);
    CHECK(w.images.empty());
  }
  // The same kind in another group is some custom resource: unknown.
  CHECK_FALSE(workload_from_json(R"({"apiVersion":"example.com/v1","kind":"Service"})").known);
  CHECK_FALSE(workload_from_json(R"({"apiVersion":"v1","kind":"Role"})").known);
}

TEST_CASE("workloads: kinds of other groups and kinds outside the table are unknown, no images",
          "[kube-workload]") {
  const Workload crd = workload_from_json(
      R"({"apiVersion":"example.com/v1","kind":"Deployment","metadata":{"name":"x","namespace":"n"},)"
      R"("spec":{"template":{"spec":{"containers":[{"image":"evil"}]}}}})");
  CHECK_FALSE(crd.known);
  CHECK(crd.images.empty());
  CHECK(crd.describe() == "Deployment n/x");
  const Workload widget = workload_from_json(
      R"({"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"c"}})");
  CHECK_FALSE(widget.known);
  CHECK(widget.kind == "Widget");
  const Workload pod_of_apps = workload_from_json(R"({"apiVersion":"apps/v1","kind":"Pod"})");
  CHECK_FALSE(pod_of_apps.known);
}

TEST_CASE("workloads: generateName names an object without a name, absent lists are empty",
          "[kube-workload]") {
  const Workload w = workload_from_json(
      R"({"apiVersion":"batch/v1","kind":"Job","metadata":{"generateName":"pi-"},)"
      R"("spec":{"template":{"spec":{"containers":null,"initContainers":[{"image":"perl:5.34"}]}}}})");
  CHECK(w.name == "pi-");
  REQUIRE(w.images.size() == 1);
  CHECK(w.images[0].container.empty());
  CHECK(w.images[0].pointer == "/spec/template/spec/initContainers/0/image");
}

TEST_CASE("workloads: a malformed object of a known kind names the pointer", "[kube-workload]") {
  CHECK(message_for(deployment_with_spec(R"({"containers":{"name":"x"}})")) ==
        "Deployment prod/web: /spec/template/spec/containers: not an array (an object)");
  CHECK(message_for(deployment_with_spec(R"({"containers":["app"]})")) ==
        "Deployment prod/web: /spec/template/spec/containers/0: not an object (a string)");
  CHECK(message_for(deployment_with_spec(R"({"containers":[{"name":"a","image":7}]})")) ==
        "Deployment prod/web: /spec/template/spec/containers/0/image: not a string (an integer)");
  CHECK(message_for(deployment_with_spec(R"({"initContainers":[{"name":"a","image":""}]})")) ==
        "Deployment prod/web: /spec/template/spec/initContainers/0/image: empty");
  CHECK(message_for(deployment_with_spec(R"({"containers":[{"name":"a"}]})")) ==
        "Deployment prod/web: /spec/template/spec/containers/0/image: missing");
  CHECK(message_for(deployment_with_spec(R"({"containers":[{"name":1,"image":"a"}]})")) ==
        "Deployment prod/web: /spec/template/spec/containers/0/name: not a string (an integer)");
  CHECK(message_for(deployment_with_spec("[]")) ==
        "Deployment prod/web: /spec/template/spec: not an object (an array)");
  CHECK(message_for(R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"w"}})") ==
        "Deployment w: /spec: missing");
  CHECK(message_for(R"({"apiVersion":"batch/v1","kind":"CronJob","spec":{"jobTemplate":1}})") ==
        "CronJob: /spec/jobTemplate: not an object (an integer)");
}

TEST_CASE("workloads: kind, apiVersion and metadata must be what the API says", "[kube-workload]") {
  CHECK(message_for("[]") == "Kubernetes object: not an object (an array)");
  CHECK(message_for(R"({"apiVersion":"v1"})") == "Kubernetes object: no kind");
  CHECK(message_for(R"({"apiVersion":"v1","kind":3})") ==
        "Kubernetes object: kind is not a string (an integer)");
  CHECK(message_for(R"({"apiVersion":"v1","kind":""})") == "Kubernetes object: kind is empty");
  CHECK(message_for(R"({"kind":"Pod"})") == "Kubernetes object of kind Pod: no apiVersion");
  CHECK(message_for(R"({"kind":"Pod","apiVersion":["v1"]})") ==
        "Kubernetes object of kind Pod: apiVersion is not a string (an array)");
  CHECK(message_for(R"({"kind":"Pod","apiVersion":"v1","metadata":"x"})") ==
        "Pod: /metadata: not an object (a string)");
  CHECK(message_for(R"({"kind":"Pod","apiVersion":"v1","metadata":{"namespace":false}})") ==
        "Pod: /metadata/namespace: not a string (a boolean)");
  CHECK(message_for(R"({"kind":"Pod",)").starts_with("Kubernetes object: malformed JSON"));
  CHECK(message_for(R"({"kind":"Pod","kind":"Job"})") ==
        "Kubernetes object: duplicate JSON key 'kind'");
}

TEST_CASE("workloads: an object is at most the API server's 3 MiB", "[kube-workload]") {
  const auto padded = [](std::size_t size) {
    const std::string head = R"({"apiVersion":"v1","kind":"ConfigMap","data":{"x":")";
    const std::string tail = "\"}}";
    return head + std::string(size - head.size() - tail.size(), 'a') + tail;
  };
  const std::string at = padded(limits::kMaxKubeObjectBytes);
  REQUIRE(at.size() == limits::kMaxKubeObjectBytes);
  CHECK(workload_from_json(at).kind == "ConfigMap");
  const auto over = thrown_by([&] { (void)workload_from_json(padded(at.size() + 1)); });
  CHECK(over.code == ErrorCode::kLimit);
  CHECK(over.message.starts_with("Kubernetes object: 3145729 bytes"));
}

TEST_CASE("workloads: containers and distinct images are capped", "[kube-workload]") {
  const auto with_containers = [](std::size_t n, bool distinct) {
    std::string list;
    for (std::size_t i = 0; i < n; ++i) {
      if (i) list += ",";
      list += R"({"name":"c)" + std::to_string(i) + R"(","image":"app:)" +
              (distinct ? std::to_string(i) : std::string("1")) + R"("})";
    }
    return deployment_with_spec(R"({"containers":[)" + list + "]}");
  };
  CHECK(workload_from_json(with_containers(kMaxWorkloadContainers, false)).images.size() ==
        kMaxWorkloadContainers);
  const auto over = thrown_by([&] { (void)workload_from_json(with_containers(1025, false)); });
  CHECK(over.code == ErrorCode::kLimit);
  CHECK(over.message == "Deployment prod/web: 1025 containers is over the limit of 1024");
  CHECK(workload_from_json(with_containers(kMaxWorkloadImages, true)).images.size() ==
        kMaxWorkloadImages);
  const auto images = thrown_by([&] { (void)workload_from_json(with_containers(65, true)); });
  CHECK(images.code == ErrorCode::kLimit);
  CHECK(images.message == "Deployment prod/web: 65 distinct images is over the limit of 64");
}

namespace {

// What `helm template` writes: a comment naming each template, `---` between documents, and
// documents with nothing in them (a template whose `if` was false).
const std::string kHelmOutput = R"(---
# Source: web/templates/serviceaccount.yaml
apiVersion: v1
kind: ServiceAccount
metadata:
  name: web
---
# Source: web/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: prod
spec:
  replicas: 2
  template:
    metadata:
      labels: {app: web}
    spec:
      initContainers:
        - name: migrate
          image: "registry.example.com/team/migrate:1.2.3"
      containers:
        - name: app
          image: registry.example.com/team/web:1.2.3
          ports:
            - containerPort: 8080
---
# Source: web/templates/hpa.yaml
---
)";

std::vector<ManifestObject> read(const std::string& text, const std::string& source = "m.yaml") {
  return read_manifests(text, source);
}

sigil::test::Thrown refusal_of(const std::string& text) {
  return thrown_by([&] { (void)read_manifests(text, "m.yaml"); });
}

}  // namespace

TEST_CASE("manifests: helm template output, documents numbered and located, empty ones skipped",
          "[kube-manifests]") {
  const auto objects = read(kHelmOutput, "web.yaml");
  REQUIRE(objects.size() == 2);
  CHECK(objects[0].source == "web.yaml");
  CHECK(objects[0].document == 1);
  CHECK(objects[0].line == 3);
  CHECK(objects[0].workload.kind == "ServiceAccount");
  CHECK(objects[0].workload.known);  // runs no container
  CHECK(objects[0].workload.images.empty());
  CHECK(objects[1].document == 2);
  CHECK(objects[1].line == 9);
  const auto& w = objects[1].workload;
  CHECK(w.describe() == "Deployment prod/web");
  REQUIRE(w.images.size() == 2);
  CHECK(w.images[0].image == "registry.example.com/team/web:1.2.3");
  CHECK(w.images[0].container == "app");
  CHECK(w.images[1].image == "registry.example.com/team/migrate:1.2.3");
  CHECK(w.images[1].pointer == "/spec/template/spec/initContainers/0/image");
}

TEST_CASE("manifests: a List and a kind ending in List contribute each item", "[kube-manifests]") {
  const auto objects = read(
      "apiVersion: v1\n"
      "kind: List\n"
      "items:\n"
      "- apiVersion: v1\n"
      "  kind: Pod\n"
      "  metadata: {name: a}\n"
      "  spec: {containers: [{name: c, image: busybox:1.28}]}\n"
      "- apiVersion: v1\n"
      "  kind: PodList\n"
      "  items:\n"
      "  - {apiVersion: v1, kind: Pod, metadata: {name: b}, spec: {containers: [{image: nginx}]}}\n"
      "---\n"
      "apiVersion: apps/v1\n"
      "kind: DeploymentList\n"
      "items: []\n");
  REQUIRE(objects.size() == 2);
  CHECK(objects[0].workload.describe() == "Pod a");
  CHECK(objects[0].line == 4);
  CHECK(objects[1].workload.describe() == "Pod b");
  CHECK(objects[1].line == 11);
  CHECK(objects[1].workload.images.at(0).image == "nginx");
  CHECK(refusal_of("apiVersion: v1\nkind: List\nitems: {a: 1}\n").message ==
        "m.yaml:3:8: List: items: needs a list, not a mapping");
}

TEST_CASE("manifests: JSON is read too (kubectl get -o json)", "[kube-manifests]") {
  const auto objects = read(R"({"apiVersion": "batch/v1", "kind": "Job",
  "metadata": {"name": "pi"},
  "spec": {"template": {"spec": {"containers": [{"name": "pi", "image": "perl:5.34.0"}],
                                 "restartPolicy": "Never"}}}})",
                            "job.json");
  REQUIRE(objects.size() == 1);
  CHECK(objects[0].line == 1);
  CHECK(objects[0].workload.images.at(0).image == "perl:5.34.0");
}

TEST_CASE("manifests: scalars are typed as Kubernetes reads YAML", "[kube-manifests]") {
  const auto pod = [](const std::string& image) {
    return "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: c\n"
           "    image: " +
           image + "\n";
  };
  CHECK(refusal_of(pod("1234")).message ==
        "m.yaml:1:1: Pod p: /spec/containers/0/image: not a string (an integer)");
  CHECK(refusal_of(pod("yes")).message ==
        "m.yaml:1:1: Pod p: /spec/containers/0/image: not a string (a boolean)");
  CHECK(refusal_of(pod("1.5")).message ==
        "m.yaml:1:1: Pod p: /spec/containers/0/image: not a string (a number)");
  CHECK(refusal_of(pod("~")).message == "m.yaml:1:1: Pod p: /spec/containers/0/image: missing");
  CHECK(read(pod("'1234'")).at(0).workload.images.at(0).image == "1234");
  CHECK(read(pod("app:1.5")).at(0).workload.images.at(0).image == "app:1.5");
}

TEST_CASE("manifests: anchors, aliases, merge keys and tags are refused where they are",
          "[kube-manifests]") {
  CHECK(refusal_of("apiVersion: v1\nkind: Pod\nmetadata: &m {name: p}\n").message ==
        "m.yaml:3:11: metadata: anchors (&name) are not allowed: write each value where it "
        "applies");
  CHECK(refusal_of("apiVersion: v1\nkind: &k Pod\n").message ==
        "m.yaml:2:7: kind: anchors (&name) are not allowed: write each value where it applies");
  CHECK(refusal_of("apiVersion: v1\nkind: Pod\nmetadata: &m\n").message ==
        "m.yaml:3:1: metadata: anchors (&name) are not allowed: write each value where it "
        "applies");
  // yaml-cpp refuses an alias without its anchor itself, and the anchor is refused first.
  CHECK(refusal_of("a: [x]\nb: *x\n").message ==
        "m.yaml:2:4: not valid YAML: the referenced anchor is not defined");
  CHECK(refusal_of("apiVersion: v1\nkind: Pod\n<<: {a: 1}\n").message ==
        "m.yaml:3:1: <<: merge keys (<<) are not allowed: write each field where it applies");
  CHECK(refusal_of("apiVersion: v1\nkind: !!str Pod\n").message ==
        "m.yaml:2:7: kind: explicit tags ('tag:yaml.org,2002:str') are not allowed");
  CHECK(refusal_of("kind: Pod\nkind: Job\n").message ==
        "m.yaml:2:1: kind: 'kind' is given twice in one mapping (which one applies would be a "
        "guess)");
}

TEST_CASE("manifests: what is not an object is refused with its position", "[kube-manifests]") {
  CHECK(refusal_of("---\n- a\n- b\n").message ==
        "m.yaml:2:1: a Kubernetes object is a mapping, not a list");
  CHECK(refusal_of("apiVersion: v1\nkind: [Pod]\n").message ==
        "m.yaml:1:1: Kubernetes object: kind is not a string (an array)");
  CHECK(refusal_of("a: [\n").code == ErrorCode::kInput);
  CHECK(refusal_of("a: [\n").message.starts_with("m.yaml:"));
  CHECK(refusal_of("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: x\n")
            .message == "m.yaml:1:1: Pod p: /spec/containers: not an array (a string)");
}

TEST_CASE("manifests: size, documents, objects, values and nesting are capped",
          "[kube-manifests]") {
  const auto over = refusal_of(std::string(limits::kMaxManifestFileBytes + 1, '#'));
  CHECK(over.code == ErrorCode::kLimit);
  CHECK(over.message == "m.yaml: 33554433 bytes of manifests is over the limit of 33554432");

  std::string documents;
  for (std::size_t i = 0; i < limits::kMaxManifestDocuments; ++i)
    documents += "--- {kind: A, apiVersion: v1}\n";
  CHECK(read(documents).size() == limits::kMaxManifestDocuments);
  const auto too_many = refusal_of(documents + "---\n");
  CHECK(too_many.code == ErrorCode::kLimit);
  CHECK(too_many.message == "m.yaml:10001:1: 10001 YAML documents is over the limit of 10000");

  std::string items = "kind: List\nitems:\n";
  for (std::size_t i = 0; i < limits::kMaxManifestObjects; ++i)
    items += "- {kind: A, apiVersion: v1}\n";
  CHECK(read(items).size() == limits::kMaxManifestObjects);
  const auto objects = refusal_of(items + "- {kind: A, apiVersion: v1}\n");
  CHECK(objects.code == ErrorCode::kLimit);
  CHECK(objects.message == "m.yaml: 10001 Kubernetes objects is over the limit of 10000");

  // A list of n scalars is n + 7 values with the mapping around it.
  const auto values = [](std::size_t n) {
    std::string s = "kind: A\napiVersion: v1\na: [";
    for (std::size_t i = 0; i < n; ++i) s += i ? ",0" : "0";
    return s + "]\n";
  };
  CHECK(read(values(limits::kMaxManifestValues - 7)).size() == 1);
  const auto too_big = refusal_of(values(limits::kMaxManifestValues - 6));
  CHECK(too_big.code == ErrorCode::kLimit);
  CHECK(
      too_big.message.ends_with(": 200001 values in one YAML document is over the limit of "
                                "200000"));

  const auto nested = [](std::size_t n) {
    return "kind: A\napiVersion: v1\na: " + std::string(n - 1, '[') + std::string(n - 1, ']') +
           "\n";
  };
  CHECK(read(nested(limits::kMaxManifestNesting)).size() == 1);
  const auto deep = refusal_of(nested(limits::kMaxManifestNesting + 1));
  CHECK(deep.code == ErrorCode::kLimit);
  CHECK(deep.message.ends_with(": 65 levels of nesting is over the limit of 64"));
}

}  // namespace trust::check
