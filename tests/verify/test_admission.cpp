// The admission webhook's decisions (check/admission.h) with a fake environment: the review read
// strictly, every kind and container list judged, each distinct image once, warn and audit
// verdicts as warnings and audit annotations, the mutating patch (applied here with
// nlohmann::json::patch, RFC 6902) pinning what was judged, and every bad input failing closed.
#include <catch2/catch.hpp>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "libtrust/check/admission.h"
#include "libtrust/core/digest.h"
#include "libtrust/core/encoding.h"
#include "libtrust/core/error.h"
#include "support/admission_review.h"
#include "support/test_keys.h"

namespace trust::check {
namespace {

using nlohmann::json;
using verify::PolicyVerdict;
using verify::RuleMode;
using verify::TrustPolicy;

using sigil::test::kube::container;
using sigil::test::kube::kind_cases;
using sigil::test::kube::KindCase;
using sigil::test::kube::kUid;
using sigil::test::kube::metadata;
using sigil::test::kube::pod_spec;
using sigil::test::kube::review_of;
using sigil::test::kube::templated;

const KindCase& pod_case_kind() {
  return kind_cases().front();
}

verify::PolicyKey release_key() {
  return verify::PolicyKey{.name = "release",
                           .key = sigil::test::test_key(KeyType::kEcdsaP256, 0).public_key(),
                           .file = std::nullopt,
                           .at = {}};
}

verify::PolicyRule rule(std::string name, std::string glob, RuleMode mode = RuleMode::kEnforce,
                        verify::RuleAction action = verify::RuleAction::kVerify) {
  verify::PolicyRule r;
  r.name = std::move(name);
  r.match = {std::move(glob)};
  r.action = action;
  r.mode = mode;
  if (action == verify::RuleAction::kVerify) r.keys = {"release"};
  return r;
}

// team (enforce), soft (warn), quiet (audit), open (accept), hub (docker.io/library, enforce).
std::shared_ptr<const TrustPolicy> policy(
    verify::UnknownKinds unknown_kinds = verify::UnknownKinds::kDeny) {
  verify::PolicyDocument d;
  d.source = "policy.yaml";
  d.keys = {release_key()};
  d.rules = {
      rule("team", "registry.example.com/team/*"),
      rule("soft", "registry.example.com/soft/*", RuleMode::kWarn),
      rule("quiet", "registry.example.com/quiet/*", RuleMode::kAudit),
      rule("open", "registry.example.com/open/*", RuleMode::kEnforce, verify::RuleAction::kAccept),
      rule("hub", "docker.io/library/*")};
  d.admission.unknown_kinds = unknown_kinds;
  return std::make_shared<const TrustPolicy>(TrustPolicy::build(std::move(d)));
}

// The digest a repository's tag resolves to in the fake registry.
Digest resolved(const Reference& ref) {
  return ref.digest() ? *ref.digest() : Digest::of(as_bytes(ref.str()));
}

// What check::enforce would say, by the image's name: a repository whose name holds "unsigned"
// has no trusted signature, "broken" makes the environment throw.
struct FakeEnforce {
  std::vector<std::string> asked;
  std::vector<AdmissionContext> contexts;

  PolicyVerdict operator()(const TrustPolicy& p, const Reference& ref,
                           const AdmissionContext& context) {
    asked.push_back(ref.str());
    contexts.push_back(context);
    if (ref.repository().find("broken") != std::string::npos) {
      throw RegistryError(ref.str() + ": registry unreachable");
    }
    const auto selection = p.select(ref.repository_name());
    if (selection.rule == nullptr || selection.rule->action != verify::RuleAction::kVerify) {
      auto v = verify::verdict_without_digest(selection, ref.str(), "not resolved");
      v.digest = ref.digest();
      return v;
    }
    const auto digest = resolved(ref);
    if (ref.repository().find("unsigned") != std::string::npos) {
      return verify::verdict_for_error(selection, ref.str(), digest,
                                       "no signature by any of keys release");
    }
    PolicyVerdict v;
    v.image = ref.str();
    v.digest = digest;
    v.rule = selection.rule->name;
    v.mode = selection.rule->mode;
    v.satisfied = true;
    v.allowed = true;
    v.cause = "signed by release (1 of 1)";
    v.keys = {"release"};
    return v;
  }
};

struct Fixture {
  std::shared_ptr<const TrustPolicy> current = policy();
  FakeEnforce fake;
  AdmissionEnvironment env() {
    return AdmissionEnvironment{
        .policy = [this] { return current; },
        .enforce = [this](const TrustPolicy& p, const Reference& ref,
                          const AdmissionContext& c) { return fake(p, ref, c); }};
  }
};

json object_with(const KindCase& k, const std::vector<std::string>& images) {
  return sigil::test::kube::object_of(k, pod_spec(images));
}

json pod(const std::vector<std::string>& images) {
  return sigil::test::kube::object_of(pod_case_kind(), pod_spec(images));
}

const KindCase& pod_case() {
  return kind_cases().front();
}

std::string pod_review(const std::vector<std::string>& images) {
  return review_of(pod(images), pod_case()).dump();
}

// The response as the API server reads it.
json response_of(const AdmissionDecision& d) {
  const auto r = json::parse(d.to_json());
  REQUIRE(r.at("apiVersion") == "admission.k8s.io/v1");
  REQUIRE(r.at("kind") == "AdmissionReview");
  return r.at("response");
}

// The response's patch applied to `object` (RFC 6902).
json patched(const json& object, const json& response) {
  REQUIRE(response.at("patchType") == "JSONPatch");
  const auto bytes = base64_decode(response.at("patch").get<std::string>(), "patch");
  const auto patch = json::parse(std::string(bytes.begin(), bytes.end()));
  return object.patch(patch);
}

std::string pinned(const std::string& image, const std::string& canonical) {
  return image + "@" + Digest::of(as_bytes(canonical)).str();
}

}  // namespace

TEST_CASE("admission: every kind with a pod template is judged and pinned at its own pointer",
          "[admission]") {
  for (const auto& k : kind_cases()) {
    INFO(k.kind);
    Fixture f;
    const auto object = object_with(k, {"registry.example.com/team/app:v1"});
    const auto d = admit(review_of(object, k).dump(), f.env(), {.mutate = true});
    REQUIRE(d.review_ok);
    CHECK(d.uid == kUid);
    CHECK(d.allowed);
    CHECK(d.code == 200);
    CHECK(d.workload.kind == k.kind);
    CHECK(d.operation == "CREATE");
    REQUIRE(d.images.size() == 1);
    CHECK(d.images[0].where.pointer == k.spec_pointer + "/containers/0/image");
    CHECK(f.fake.asked == std::vector<std::string>{"registry.example.com/team/app:v1"});
    const auto r = response_of(d);
    CHECK(r.at("uid") == kUid);
    CHECK(r.at("allowed") == true);
    const auto after = patched(object, r);
    CHECK(after.at(json::json_pointer(k.spec_pointer + "/containers/0/image")) ==
          pinned("registry.example.com/team/app:v1", "registry.example.com/team/app:v1"));
    // Nothing else changed.
    auto back = after;
    back[json::json_pointer(k.spec_pointer + "/containers/0/image")] =
        "registry.example.com/team/app:v1";
    CHECK(back == object);

    // Unsigned: denied, with no patch.
    Fixture g;
    const auto denied =
        admit(review_of(object_with(k, {"registry.example.com/team/unsigned:v1"}), k).dump(),
              g.env(), {.mutate = true});
    REQUIRE(denied.review_ok);
    CHECK_FALSE(denied.allowed);
    CHECK(denied.code == 403);
    CHECK_FALSE(denied.patch.has_value());
    CHECK(denied.message ==
          k.kind +
              " team/web: denied by the trust policy: image "
              "'registry.example.com/team/unsigned:v1' (container c0): no signature by any of "
              "keys release");
  }
}

TEST_CASE("admission: an image of any container list denies the pod", "[admission]") {
  for (const std::string list : {"containers", "initContainers", "ephemeralContainers"}) {
    INFO(list);
    Fixture f;
    auto object = pod({"registry.example.com/team/app:v1"});
    auto& spec = object["spec"];
    if (list != "containers") {
      spec[list] = json::array({container("extra", "registry.example.com/team/unsigned:v2")});
    } else {
      spec[list].push_back(container("extra", "registry.example.com/team/unsigned:v2"));
    }
    const auto d = admit(review_of(object, pod_case()).dump(), f.env());
    REQUIRE(d.review_ok);
    CHECK_FALSE(d.allowed);
    CHECK(d.code == 403);
    CHECK(d.message ==
          "Pod team/web: denied by the trust policy: image "
          "'registry.example.com/team/unsigned:v2' (container extra): no signature by any of "
          "keys release");
    REQUIRE(d.images.size() == 2);
    CHECK(d.images[1].where.list == list);
    CHECK(d.images[1].verdict.result() == "denied");
    CHECK(d.images[0].verdict.result() == "allowed");
  }
}

TEST_CASE("admission: the ephemeralcontainers subresource judges the debug container",
          "[admission]") {
  // 1.22 and later: the subresource's body is the Pod.
  Fixture f;
  auto object = pod({"registry.example.com/team/app:v1"});
  object["spec"]["ephemeralContainers"] =
      json::array({container("debugger", "registry.example.com/team/unsigned-debug:1")});
  const auto d =
      admit(review_of(object, pod_case(), "UPDATE", "ephemeralcontainers").dump(), f.env());
  REQUIRE(d.review_ok);
  CHECK(d.sub_resource == "ephemeralcontainers");
  CHECK(d.operation == "UPDATE");
  CHECK_FALSE(d.allowed);
  CHECK(d.message ==
        "Pod team/web: denied by the trust policy: image "
        "'registry.example.com/team/unsigned-debug:1' (container debugger): no signature by any "
        "of keys release");
  // Before 1.22: an EphemeralContainers object.
  Fixture g;
  const json old{{"apiVersion", "v1"},
                 {"kind", "EphemeralContainers"},
                 {"metadata", metadata("web")},
                 {"ephemeralContainers",
                  json::array({container("debugger", "registry.example.com/team/dbg:1")})}};
  const auto e = admit(
      review_of(old, {"", "v1", "EphemeralContainers", "pods", ""}, "UPDATE", "ephemeralcontainers")
          .dump(),
      g.env(), {.mutate = true});
  REQUIRE(e.review_ok);
  CHECK(e.allowed);
  CHECK(g.fake.asked == std::vector<std::string>{"registry.example.com/team/dbg:1"});
  CHECK(patched(old, response_of(e)).at("ephemeralContainers").at(0).at("image") ==
        pinned("registry.example.com/team/dbg:1", "registry.example.com/team/dbg:1"));
}

TEST_CASE("admission: DELETE and CONNECT are allowed without a check", "[admission]") {
  for (const std::string op : {"DELETE", "CONNECT"}) {
    Fixture f;
    const auto d = admit(
        review_of(pod({"registry.example.com/team/unsigned:v1"}), pod_case(), op).dump(), f.env());
    REQUIRE(d.review_ok);
    CHECK(d.allowed);
    CHECK(d.operation == op);
    CHECK(f.fake.asked.empty());
    CHECK(d.images.empty());
    const auto r = response_of(d);
    CHECK(r == json{{"uid", kUid}, {"allowed", true}});
  }
}

TEST_CASE("admission: unknown kinds are denied by default and allowed when the policy says so",
          "[admission]") {
  // A custom resource: its images, if any, are where sigil does not look.
  const json cm{{"apiVersion", "example.com/v1"},
                {"kind", "Widget"},
                {"metadata", metadata("settings")},
                {"spec", {{"image", "registry.example.com/team/unsigned:v1"}}}};
  const KindCase k{"example.com", "v1", "Widget", "widgets", ""};
  Fixture f;
  const auto d = admit(review_of(cm, k).dump(), f.env());
  REQUIRE(d.review_ok);
  CHECK_FALSE(d.allowed);
  CHECK(d.code == 403);
  CHECK(d.message ==
        "Widget team/settings: kind 'Widget' is not one whose images sigil reads (the "
        "policy's admission unknownKinds: deny)");
  CHECK(f.fake.asked.empty());
  Fixture g;
  g.current = policy(verify::UnknownKinds::kAllow);
  const auto a = admit(review_of(cm, k).dump(), g.env());
  REQUIRE(a.review_ok);
  CHECK(a.allowed);
  CHECK(g.fake.asked.empty());
}

TEST_CASE("admission: a review that cannot be read is refused, naming what is wrong",
          "[admission]") {
  Fixture f;
  auto refused = [&](const std::string& body) {
    const auto d = admit(body, f.env());
    CHECK_FALSE(d.review_ok);
    CHECK_FALSE(d.allowed);
    CHECK(d.code == 400);
    return d.message;
  };
  auto review = review_of(pod({"registry.example.com/team/app:v1"}), pod_case());
  CHECK(refused("{\"apiVersion\":").starts_with("AdmissionReview: "));
  CHECK(refused("[]") == "AdmissionReview: not a JSON object");
  auto wrong_version = review;
  wrong_version["apiVersion"] = "admission.k8s.io/v1beta1";
  CHECK(refused(wrong_version.dump()) ==
        "AdmissionReview: apiVersion 'admission.k8s.io/v1beta1', expected admission.k8s.io/v1");
  auto no_version = review;
  no_version.erase("apiVersion");
  CHECK(refused(no_version.dump()) ==
        "AdmissionReview: apiVersion missing, expected admission.k8s.io/v1");
  auto wrong_kind = review;
  wrong_kind["kind"] = "AdmissionRequest";
  CHECK(refused(wrong_kind.dump()) ==
        "AdmissionReview: kind 'AdmissionRequest', expected AdmissionReview");
  auto no_request = review;
  no_request.erase("request");
  CHECK(refused(no_request.dump()) == "AdmissionReview: request: missing or not an object");
  auto no_uid = review;
  no_uid["request"].erase("uid");
  CHECK(refused(no_uid.dump()) == "AdmissionReview: request: uid: missing");
  auto empty_uid = review;
  empty_uid["request"]["uid"] = "";
  CHECK(refused(empty_uid.dump()) == "AdmissionReview: request: uid: missing");
  auto number_uid = review;
  number_uid["request"]["uid"] = 7;
  CHECK(refused(number_uid.dump()) == "AdmissionReview: request: uid: an integer, not a string");
  // Over the cap: refused before it is parsed (this is not JSON at all).
  CHECK(refused(std::string(kMaxAdmissionReviewBytes + 1, 'x')) ==
        "AdmissionReview: " + std::to_string(kMaxAdmissionReviewBytes + 1) +
            " bytes is over the limit of " + std::to_string(kMaxAdmissionReviewBytes));
  CHECK(f.fake.asked.empty());
}

TEST_CASE("admission: a request without an object or an operation is denied", "[admission]") {
  Fixture f;
  auto review = review_of(pod({"registry.example.com/team/app:v1"}), pod_case());
  auto no_object = review;
  no_object["request"]["object"] = nullptr;
  const auto d = admit(no_object.dump(), f.env());
  REQUIRE(d.review_ok);
  CHECK_FALSE(d.allowed);
  CHECK(d.code == 400);
  CHECK(d.message == "AdmissionReview: request: object: missing or not an object");
  auto no_operation = review;
  no_operation["request"].erase("operation");
  const auto e = admit(no_operation.dump(), f.env());
  REQUIRE(e.review_ok);
  CHECK_FALSE(e.allowed);
  CHECK(e.message == "AdmissionReview: request: operation: missing");
  // The response still carries the uid, so the API server reads the denial.
  CHECK(response_of(e).at("uid") == kUid);
  CHECK(f.fake.asked.empty());
}

TEST_CASE("admission: 10000 containers are denied without a registry check", "[admission]") {
  Fixture f;
  std::vector<std::string> images(10000, "registry.example.com/team/app:v1");
  const auto d = admit(pod_review(images), f.env());
  REQUIRE(d.review_ok);
  CHECK_FALSE(d.allowed);
  CHECK(d.code == 400);
  CHECK(d.message.find("10000") != std::string::npos);
  CHECK(d.message.find(std::to_string(kMaxWorkloadContainers)) != std::string::npos);
  CHECK(f.fake.asked.empty());
  CHECK(d.images.empty());
}

TEST_CASE("admission: an image without a registry host is judged as the kubelet pulls it",
          "[admission]") {
  Fixture f;
  const auto object = pod({"busybox", "docker.io/library/busybox:latest", "busybox"});
  const auto d = admit(review_of(object, pod_case()).dump(), f.env(), {.mutate = true});
  REQUIRE(d.review_ok);
  CHECK(d.allowed);
  // Each distinct image once, however it is spelled.
  CHECK(f.fake.asked == std::vector<std::string>{"docker.io/library/busybox:latest"});
  const auto after = patched(object, response_of(d));
  const auto digest = "@" + Digest::of(as_bytes("docker.io/library/busybox:latest")).str();
  CHECK(after["spec"]["containers"][0]["image"] == "busybox" + digest);
  CHECK(after["spec"]["containers"][1]["image"] == "docker.io/library/busybox:latest" + digest);
  CHECK(after["spec"]["containers"][2]["image"] == "busybox" + digest);
}

TEST_CASE("admission: an invalid image reference denies the object, naming it", "[admission]") {
  Fixture f;
  const auto d = admit(pod_review({"registry.example.com/team/app:v1", "Registry/App:!bad"}),
                       f.env(), {.mutate = true});
  REQUIRE(d.review_ok);
  CHECK_FALSE(d.allowed);
  CHECK(d.code == 403);
  CHECK(d.message.starts_with(
      "Pod team/web: denied by the trust policy: image 'Registry/App:!bad' (container c1): "
      "invalid image reference 'Registry/App:!bad': "));
  CHECK(f.fake.asked == std::vector<std::string>{"registry.example.com/team/app:v1"});
  REQUIRE(d.images.size() == 2);
  CHECK_FALSE(d.images[1].reference.has_value());
  CHECK_FALSE(d.patch.has_value());
  CHECK_FALSE(response_of(d).contains("patch"));
}

TEST_CASE("admission: an environment that throws denies, with the error as the cause",
          "[admission]") {
  Fixture f;
  const auto d = admit(pod_review({"registry.example.com/team/broken:v1"}), f.env());
  REQUIRE(d.review_ok);
  CHECK_FALSE(d.allowed);
  CHECK(d.message ==
        "Pod team/web: denied by the trust policy: image 'registry.example.com/team/broken:v1' "
        "(container c0): registry.example.com/team/broken:v1: registry unreachable");
  REQUIRE(d.images.size() == 1);
  CHECK(d.images[0].verdict.rule == "team");

  // No policy loaded: every object denied.
  Fixture g;
  auto env = g.env();
  env.policy = []() -> std::shared_ptr<const TrustPolicy> {
    throw IoError("policy.yaml: cannot read: No such file or directory");
  };
  const auto e = admit(pod_review({"registry.example.com/team/app:v1"}), env);
  REQUIRE(e.review_ok);
  CHECK_FALSE(e.allowed);
  CHECK(e.message == "Pod team/web: policy.yaml: cannot read: No such file or directory");
  CHECK(g.fake.asked.empty());
}

TEST_CASE("admission: warn verdicts become warnings, audit verdicts only audit annotations",
          "[admission]") {
  Fixture f;
  const auto d = admit(
      pod_review({"registry.example.com/soft/unsigned:1", "registry.example.com/quiet/unsigned:2",
                  "registry.example.com/team/app:3"}),
      f.env());
  REQUIRE(d.review_ok);
  CHECK(d.allowed);
  CHECK(d.warnings ==
        std::vector<std::string>{"image 'registry.example.com/soft/unsigned:1' (container c0): no "
                                 "signature by any of keys release"});
  const auto r = response_of(d);
  CHECK(r.at("warnings") == json(d.warnings));
  const auto audit = json::parse(r.at("auditAnnotations").at("images").get<std::string>());
  const auto digest = [](const std::string& s) { return Digest::of(as_bytes(s)).str(); };
  CHECK(audit == json::parse(R"([
    {"image":"registry.example.com/soft/unsigned:1","digest":")" +
                             digest("registry.example.com/soft/unsigned:1") +
                             R"(","rule":"soft","result":"warned"},
    {"image":"registry.example.com/quiet/unsigned:2","digest":")" +
                             digest("registry.example.com/quiet/unsigned:2") +
                             R"(","rule":"quiet","result":"audited"},
    {"image":"registry.example.com/team/app:3","digest":")" +
                             digest("registry.example.com/team/app:3") +
                             R"(","rule":"team","result":"allowed"}])"));
  // Keys the API server accepts once it prefixes the webhook's name and a '/'.
  for (const auto& [k, v] : r.at("auditAnnotations").items())
    CHECK(k.find('/') == std::string::npos);
}

TEST_CASE("admission: a long warning is cut to the API server's 256 bytes", "[admission]") {
  Fixture f;
  std::vector<std::string> images(10, "registry.example.com/soft/unsigned:1");
  auto object = pod(images);
  for (std::size_t i = 0; i < images.size(); ++i) {
    object["spec"]["containers"][i]["name"] =
        "container-" + std::to_string(i) + "-" + std::string(40, 'n');
  }
  const auto d = admit(review_of(object, pod_case()).dump(), f.env());
  REQUIRE(d.review_ok);
  CHECK(d.allowed);
  REQUIRE(d.warnings.size() == 1);
  CHECK(d.warnings[0].size() <= kMaxAdmissionWarningBytes);
  CHECK(d.warnings[0].size() > kMaxAdmissionWarningBytes - 8);
  CHECK(d.warnings[0].starts_with(
      "image 'registry.example.com/soft/unsigned:1' (containers container-0-nnnn"));
  CHECK(d.warnings[0].ends_with("…"));
}

TEST_CASE("admission: the denial message is capped", "[admission]") {
  Fixture f;
  std::vector<std::string> images;
  for (int i = 0; i < 60; ++i) {
    images.push_back("registry.example.com/team/unsigned-" + std::to_string(i) + "-" +
                     std::string(100, 'x') + ":v1");
  }
  const auto d = admit(pod_review(images), f.env());
  REQUIRE(d.review_ok);
  CHECK_FALSE(d.allowed);
  CHECK(d.message.starts_with("Pod team/web: 60 images denied by the trust policy: image "));
  CHECK(d.message.size() <= kMaxAdmissionMessageBytes);
  CHECK(f.fake.asked.size() == 60);
}

TEST_CASE("admission: only images without a digest are pinned, accept-rule images are not",
          "[admission]") {
  Fixture f;
  const auto by_digest = "registry.example.com/team/app@" + Digest::of(as_bytes("exact")).str();
  const auto both = "registry.example.com/team/app:v2@" + Digest::of(as_bytes("both")).str();
  const auto object = pod({by_digest, both, "registry.example.com/open/tool:1",
                           "registry.example.com/soft/unsigned:1"});
  const auto d = admit(review_of(object, pod_case()).dump(), f.env(), {.mutate = true});
  REQUIRE(d.review_ok);
  CHECK(d.allowed);
  REQUIRE(d.images.size() == 4);
  CHECK_FALSE(d.images[0].pinned.has_value());
  CHECK_FALSE(d.images[1].pinned.has_value());
  CHECK_FALSE(d.images[2].pinned.has_value());
  // A warned image runs too: it is pinned to what was judged.
  CHECK(d.images[3].pinned ==
        pinned("registry.example.com/soft/unsigned:1", "registry.example.com/soft/unsigned:1"));
  CHECK(json::parse(*d.patch) ==
        json::parse(R"([{"op":"replace","path":"/spec/containers/3/image","value":")" +
                    *d.images[3].pinned + "\"}]"));
  // The tag-and-digest image was judged by its digest.
  CHECK(f.fake.asked[1] == both);
  // Validating: no patch.
  Fixture g;
  const auto v = admit(review_of(object, pod_case()).dump(), g.env());
  CHECK_FALSE(v.patch.has_value());
  CHECK_FALSE(response_of(v).contains("patchType"));
}

TEST_CASE("admission: the namespace and the imagePullSecrets reach the enforcement",
          "[admission]") {
  Fixture f;
  KindCase k = kind_cases()[2];  // Deployment
  auto object =
      object_with(k, {"registry.example.com/team/app:v1", "registry.example.com/team/b:1"});
  object["spec"]["template"]["spec"]["imagePullSecrets"] =
      json::array({{{"name", "regcred"}}, {{"name", "other"}}, {{"name", "regcred"}}});
  const auto d = admit(review_of(object, k).dump(), f.env());
  REQUIRE(d.allowed);
  REQUIRE(f.fake.contexts.size() == 2);
  for (const auto& c : f.fake.contexts) {
    CHECK(c.namespace_name == "team");
    CHECK(c.pull_secrets == std::vector<std::string>{"regcred", "other"});
  }
  object["spec"]["template"]["spec"]["imagePullSecrets"] = "regcred";
  Fixture g;
  const auto bad = admit(review_of(object, k).dump(), g.env());
  CHECK_FALSE(bad.allowed);
  CHECK(bad.code == 400);
  CHECK(bad.message == "Deployment team/web: /spec/template/spec/imagePullSecrets: not an array");
  CHECK(g.fake.asked.empty());
}

TEST_CASE(
    "admission: the response and the log line have the fields the API server and the log "
    "readers expect",
    "[admission]") {
  Fixture f;
  const auto d = admit(pod_review({"registry.example.com/team/unsigned:v1"}), f.env());
  const auto digest = Digest::of(as_bytes("registry.example.com/team/unsigned:v1")).str();
  CHECK(json::parse(d.to_json()) ==
        json{{"apiVersion", "admission.k8s.io/v1"},
             {"kind", "AdmissionReview"},
             {"response",
              {{"uid", kUid},
               {"allowed", false},
               {"status", {{"code", 403}, {"message", d.message}}},
               {"auditAnnotations",
                {{"images", R"([{"image":"registry.example.com/team/unsigned:v1","digest":")" +
                                digest + R"(","rule":"team","result":"denied"}])"}}}}}});
  CHECK(json::parse(d.log_json()) == json{{"uid", kUid},
                                          {"operation", "CREATE"},
                                          {"kind", "Pod"},
                                          {"namespace", "team"},
                                          {"name", "web"},
                                          {"allowed", false},
                                          {"code", 403},
                                          {"message", d.message},
                                          {"images",
                                           {{{"container", "c0"},
                                             {"image", "registry.example.com/team/unsigned:v1"},
                                             {"digest", digest},
                                             {"rule", "team"},
                                             {"result", "denied"},
                                             {"cause", "no signature by any of keys release"},
                                             {"cached", false}}}}});
}

}  // namespace trust::check
