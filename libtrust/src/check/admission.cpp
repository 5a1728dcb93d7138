// The admission webhook's decisions (check/admission.h): an AdmissionReview read strictly, the
// images of its object (check/kube_objects.h, the one extraction), each distinct image judged once
// through the environment, and the response the API server reads.
//
// What the API server requires of the response (apiserver's webhook dispatchers and
// admission/v1 types.go): apiVersion admission.k8s.io/v1 and kind AdmissionReview, response.uid
// equal to the request's, `allowed`, and with a patch its type "JSONPatch" and the patch base64
// (a []byte in Go's encoding/json). Audit annotation keys are prefixed by the API server with the
// webhook's name and a '/', and a key with two '/' is dropped: ours have none ("images").
#include "libtrust/check/admission.h"

#include <exception>
#include <set>
#include <string>
#include <utility>

#include "check/kube_objects.h"
#include "core/json_util.h"
#include "libtrust/core/encoding.h"
#include "libtrust/core/error.h"
#include "libtrust/core/limits.h"
#include "libtrust/core/text.h"

namespace trust::check {
namespace {

using detail::Json;
using detail::OrderedJson;

constexpr std::string_view kApiVersion = "admission.k8s.io/v1";
constexpr std::string_view kKind = "AdmissionReview";
constexpr std::string_view kWhat = "AdmissionReview";
constexpr const char* kAuditImages = "images";

// A string field of the request; nullopt when absent or null, InputError when of another type.
std::optional<std::string> string_field(const Json& obj, std::string_view key,
                                        std::string_view what) {
  const auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) {
    throw InputError(std::string(what) + ": " + std::string(key) + ": " +
                     std::string(detail::json_type_name(*it)) + ", not a string");
  }
  return it->get<std::string>();
}

OrderedJson digest_or_null(const verify::PolicyVerdict& v) {
  return v.digest ? OrderedJson(v.digest->str()) : OrderedJson(nullptr);
}

// `text` made printable, at most `max_bytes` with the ellipsis excerpt() appends when it cuts.
std::string one_line(std::string_view text, std::size_t max_bytes) {
  constexpr std::string_view kEllipsis = "…";
  auto out = printable(text);
  if (out.size() <= max_bytes) return out;
  return excerpt(out, max_bytes - kEllipsis.size());
}

// "image 'IMAGE' (container C, D)"
std::string image_words(const std::string& image, const std::vector<std::string>& containers) {
  std::string out = "image '" + excerpt(image) + "'";
  if (containers.empty()) return out;
  out += containers.size() == 1 ? " (container " : " (containers ";
  for (std::size_t i = 0; i < containers.size(); ++i) {
    if (i != 0) out += ", ";
    out += containers[i].empty() ? std::string("unnamed") : excerpt(containers[i], 64);
  }
  return out + ")";
}

// The pod spec an image's pointer is in ("/spec/template/spec/containers/0/image" ->
// "/spec/template/spec"): the pointer without its last three tokens.
std::string pod_spec_pointer(const std::string& image_pointer) {
  std::string p = image_pointer;
  for (int i = 0; i < 3; ++i) {
    const auto slash = p.rfind('/');
    if (slash == std::string::npos) return "";
    p.erase(slash);
  }
  return p;
}

// The names of the pod spec's imagePullSecrets ([{name}]), in order, each once.
std::vector<std::string> pull_secrets(const Json& object, const Workload& workload) {
  std::vector<std::string> out;
  if (workload.images.empty()) return out;
  const auto spec = pod_spec_pointer(workload.images.front().pointer);
  const auto pointer = spec + "/imagePullSecrets";
  const Json::json_pointer at(pointer);
  if (!object.contains(at)) return out;
  const auto& list = object.at(at);
  const auto what = workload.describe() + ": " + pointer;
  if (list.is_null()) return out;
  if (!list.is_array()) throw InputError(what + ": not an array");
  limits::check(list.size(), limits::kMaxPullSecrets, what, "entries");
  std::set<std::string> seen;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const auto& item = list[i];
    const auto item_what = what + "/" + std::to_string(i);
    if (!item.is_object()) throw InputError(item_what + ": not an object");
    auto name = string_field(item, "name", item_what);
    if (!name || name->empty()) continue;  // an empty reference names no secret (as the kubelet)
    if (seen.insert(*name).second) out.push_back(std::move(*name));
  }
  return out;
}

verify::PolicyVerdict judge(const verify::TrustPolicy& policy, const Reference& ref,
                            const AdmissionEnvironment& env, const AdmissionContext& context) {
  try {
    if (!env.enforce) throw UsageError("the admission server has no enforcement");
    return env.enforce(policy, ref, context);
  } catch (const std::exception& e) {
    return verify::verdict_for_error(policy.select(ref.repository_name()), ref.str(), ref.digest(),
                                     e.what());
  } catch (...) {
    return verify::verdict_for_error(policy.select(ref.repository_name()), ref.str(), ref.digest(),
                                     "unknown error");
  }
}

// The verdict on an image string the kubelet could not pull: denied with the reason, under no
// rule (there is no repository to select one by).
verify::PolicyVerdict invalid_image(const std::string& image, const std::string& why) {
  verify::RuleSelection none;
  none.reason = "no rule: the image reference is invalid";
  return verify::verdict_for_error(none, image, std::nullopt, why);
}

void deny(AdmissionDecision& d, int code, std::string_view message) {
  d.allowed = false;
  d.code = code;
  d.message = one_line(message, kMaxAdmissionMessageBytes);
}

// Judges the images of a known kind's object into `d`.
void judge_images(AdmissionDecision& d, const Json& object, const verify::TrustPolicy& policy,
                  const AdmissionEnvironment& env, const AdmissionOptions& options) {
  AdmissionContext context;
  context.namespace_name = d.workload.namespace_name;
  context.pull_secrets = pull_secrets(object, d.workload);

  // Each distinct image once, by the reference the kubelet pulls.
  struct Judged {
    std::optional<Reference> reference;
    verify::PolicyVerdict verdict;
    std::vector<std::string> containers;
  };
  std::map<std::string, Judged> by_image;           // the image string as written
  std::map<std::string, std::string> by_reference;  // canonical reference -> image string
  std::vector<std::string> order;                   // image strings, first use first
  for (const auto& w : d.workload.images) {
    auto [it, inserted] = by_image.try_emplace(w.image);
    it->second.containers.push_back(w.container);
    if (!inserted) continue;
    order.push_back(w.image);
    try {
      it->second.reference = kubelet_image_reference(w.image);
    } catch (const std::exception& e) {
      it->second.verdict = invalid_image(w.image, e.what());
      continue;
    }
    const auto canonical = it->second.reference->str();
    if (auto same = by_reference.find(canonical); same != by_reference.end()) {
      it->second.verdict = by_image.at(same->second).verdict;  // judged under another spelling
      continue;
    }
    by_reference.emplace(canonical, w.image);
    it->second.verdict = judge(policy, *it->second.reference, env, context);
  }

  // The decision: one image denied denies the object.
  std::string denials;
  std::size_t denied = 0;
  OrderedJson audit = OrderedJson::array();
  for (const auto& image : order) {
    const auto& j = by_image.at(image);
    const auto& v = j.verdict;
    const auto result = v.result();
    audit.push_back(
        OrderedJson{{"image", v.image},
                    {"digest", digest_or_null(v)},
                    {"rule", v.rule.empty() ? OrderedJson(nullptr) : OrderedJson(v.rule)},
                    {"result", std::string(result)}});
    if (!v.allowed) {
      denials += (denied++ == 0 ? "" : "; ") + image_words(image, j.containers) + ": " + v.cause;
    } else if (result == "warned") {
      d.warnings.push_back(
          one_line(image_words(image, j.containers) + ": " + v.cause, kMaxAdmissionWarningBytes));
    }
  }
  d.audit_annotations[kAuditImages] = detail::dump_compact(audit);
  if (denied != 0) {
    deny(d, 403,
         d.workload.describe() + ": " + (denied == 1 ? "" : std::to_string(denied) + " images ") +
             "denied by the trust policy: " + denials);
  } else {
    d.allowed = true;
    d.code = 200;
  }

  // Each container's image, and its pin.
  OrderedJson patch = OrderedJson::array();
  for (const auto& w : d.workload.images) {
    const auto& j = by_image.at(w.image);
    AdmittedImage a{.where = w, .reference = j.reference, .verdict = j.verdict, .pinned = {}};
    if (options.mutate && d.allowed && a.reference && !a.reference->digest() && a.verdict.allowed &&
        a.verdict.digest) {
      a.pinned = w.image + "@" + a.verdict.digest->str();
      patch.push_back(OrderedJson{{"op", "replace"}, {"path", w.pointer}, {"value", *a.pinned}});
    }
    d.images.push_back(std::move(a));
  }
  if (!patch.empty()) d.patch = detail::dump_compact(patch);
}

AdmissionDecision decide(std::string_view review_json, const AdmissionEnvironment& env,
                         const AdmissionOptions& options) {
  AdmissionDecision d;
  d.code = 400;
  // The review itself: anything wrong here refuses it.
  Json review;
  const Json* request = nullptr;
  try {
    limits::check(review_json.size(), kMaxAdmissionReviewBytes, kWhat, "bytes");
    review = detail::parse_json(review_json, kWhat, kMaxAdmissionReviewBytes);
    if (!review.is_object()) throw InputError("AdmissionReview: not a JSON object");
    const auto api_version = string_field(review, "apiVersion", kWhat);
    if (api_version != kApiVersion) {
      throw InputError("AdmissionReview: apiVersion " +
                       (api_version ? "'" + excerpt(*api_version) + "'" : std::string("missing")) +
                       ", expected " + std::string(kApiVersion));
    }
    const auto kind = string_field(review, "kind", kWhat);
    if (kind != kKind) {
      throw InputError("AdmissionReview: kind " +
                       (kind ? "'" + excerpt(*kind) + "'" : std::string("missing")) +
                       ", expected " + std::string(kKind));
    }
    const auto it = review.find("request");
    if (it == review.end() || !it->is_object()) {
      throw InputError("AdmissionReview: request: missing or not an object");
    }
    request = &*it;
    auto uid = string_field(*request, "uid", "AdmissionReview: request");
    if (!uid || uid->empty()) throw InputError("AdmissionReview: request: uid: missing");
    d.uid = std::move(*uid);
  } catch (const std::exception& e) {
    d.review_ok = false;
    d.allowed = false;
    d.message = one_line(e.what(), kMaxAdmissionMessageBytes);
    return d;
  }
  d.review_ok = true;

  // The object: anything wrong from here denies it.
  try {
    const std::string_view req_what = "AdmissionReview: request";
    const auto operation = string_field(*request, "operation", req_what);
    if (!operation || operation->empty())
      throw InputError("AdmissionReview: request: operation: missing");
    d.operation = *operation;
    d.sub_resource = string_field(*request, "subResource", req_what).value_or("");
    const auto request_namespace = string_field(*request, "namespace", req_what).value_or("");
    if (d.operation != "CREATE" && d.operation != "UPDATE") {
      d.allowed = true;
      d.code = 200;
      d.workload.namespace_name = request_namespace;
      d.workload.name = string_field(*request, "name", req_what).value_or("");
      if (const auto k = request->find("kind"); k != request->end() && k->is_object()) {
        d.workload.kind = string_field(*k, "kind", req_what).value_or("");
      }
      return d;
    }
    const auto object = request->find("object");
    if (object == request->end() || !object->is_object()) {
      throw InputError("AdmissionReview: request: object: missing or not an object");
    }
    d.workload = workload_of(*object);
    if (d.workload.namespace_name.empty()) d.workload.namespace_name = request_namespace;
    if (d.workload.name.empty()) {
      d.workload.name = string_field(*request, "name", req_what).value_or("");
    }
    const auto policy = env.policy ? env.policy() : nullptr;
    if (!policy) throw UsageError("no trust policy is loaded");
    if (!d.workload.known) {
      if (policy->admission().unknown_kinds == verify::UnknownKinds::kAllow) {
        d.allowed = true;
        d.code = 200;
      } else {
        deny(d, 403,
             d.workload.describe() + ": kind '" + excerpt(d.workload.kind) +
                 "' is not one whose images sigil reads (the policy's admission unknownKinds: "
                 "deny)");
      }
      return d;
    }
    judge_images(d, *object, *policy, env, options);
  } catch (const std::exception& e) {
    d.images.clear();
    d.warnings.clear();
    d.patch.reset();
    const auto who = d.workload.kind.empty() ? std::string() : d.workload.describe();
    const std::string what = e.what();
    deny(d, 400, who.empty() || what.starts_with(who) ? what : who + ": " + what);
  }
  return d;
}

}  // namespace

std::string AdmissionDecision::to_json() const {
  try {
    OrderedJson response = OrderedJson::object();
    response["uid"] = uid;
    response["allowed"] = allowed;
    if (!allowed || !message.empty()) {
      OrderedJson status = OrderedJson::object();
      status["code"] = code;
      if (!message.empty()) status["message"] = message;
      response["status"] = std::move(status);
    }
    if (!warnings.empty()) response["warnings"] = warnings;
    if (!audit_annotations.empty()) {
      OrderedJson a = OrderedJson::object();
      for (const auto& [k, v] : audit_annotations) a[k] = v;
      response["auditAnnotations"] = std::move(a);
    }
    if (allowed && patch) {
      response["patchType"] = "JSONPatch";
      response["patch"] = base64_encode(as_bytes(*patch));
    }
    OrderedJson review = OrderedJson::object();
    review["apiVersion"] = kApiVersion;
    review["kind"] = kKind;
    review["response"] = std::move(response);
    return detail::dump_compact(review);
  } catch (...) {
    // Fail closed: what cannot be written is a denial (uid comes from parsed JSON: valid UTF-8).
    OrderedJson review{
        {"apiVersion", kApiVersion},
        {"kind", kKind},
        {"response",
         {{"uid", uid},
          {"allowed", false},
          {"status", {{"code", 500}, {"message", "the decision could not be written"}}}}}};
    return review.dump();
  }
}

std::string AdmissionDecision::log_json() const {
  try {
    OrderedJson j = OrderedJson::object();
    j["uid"] = uid;
    j["operation"] = operation;
    if (!sub_resource.empty()) j["subResource"] = sub_resource;
    j["kind"] = workload.kind;
    j["namespace"] = workload.namespace_name;
    j["name"] = workload.name;
    j["allowed"] = allowed;
    j["code"] = code;
    j["message"] = message;
    OrderedJson list = OrderedJson::array();
    for (const auto& a : images) {
      list.push_back(OrderedJson{
          {"container", a.where.container},
          {"image", a.where.image},
          {"digest", digest_or_null(a.verdict)},
          {"rule", a.verdict.rule.empty() ? OrderedJson(nullptr) : OrderedJson(a.verdict.rule)},
          {"result", std::string(a.verdict.result())},
          {"cause", a.verdict.cause},
          {"cached", a.verdict.cached}});
    }
    j["images"] = std::move(list);
    return j.dump(-1, ' ', true, OrderedJson::error_handler_t::replace);
  } catch (...) {
    return OrderedJson{
        {"uid", uid}, {"allowed", allowed}, {"message", "the decision could not be logged"}}
        .dump(-1, ' ', true, OrderedJson::error_handler_t::replace);
  }
}

AdmissionDecision admit(std::string_view review_json, const AdmissionEnvironment& env,
                        const AdmissionOptions& options) {
  try {
    return decide(review_json, env, options);
  } catch (...) {
    AdmissionDecision d;
    d.review_ok = false;
    d.code = 400;
    d.message = "the AdmissionReview could not be judged";
    return d;
  }
}

}  // namespace trust::check
