#pragma once
// The Kubernetes admission webhook's decisions (admission.k8s.io/v1 AdmissionReview), pure: the
// request body in, the response body out, with the policy and the enforcement passed in, so that
// it is tested without a server. `sigil serve` (verify/serve_command.cpp) serves it over HTTPS.
//
// The protocol (k8s.io/api/admission/v1 types.go; apiserver's webhook dispatchers):
//  - The API server POSTs {"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview",
//    "request":{uid, kind{group,version,kind}, resource, subResource, requestKind, name,
//    namespace, operation, userInfo, object, oldObject, dryRun, options}}.
//  - It expects 200 with {"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview",
//    "response":{uid (the request's), allowed, status{code,message}, warnings, auditAnnotations,
//    patchType "JSONPatch", patch (base64 of an RFC 6902 array)}}. Anything else (another status,
//    a body it cannot read, a wrong uid, a timeout) is a failed call, and failurePolicy: Fail
//    rejects the object.
//
// The trust rule: what runs is what was verified.
//  - CREATE and UPDATE of every kind check/kube_workload.h reads (the pods/ephemeralcontainers
//    subresource too) are judged on every image of every container list: each distinct image
//    once (kubelet_image_reference), under the rule the policy selects for its repository, by
//    the digest it resolves to now. One image denied denies the object; the message names each
//    denied image, its container and the cause.
//  - warn and audit verdicts allow: warn's cause becomes one of the response's `warnings`, every
//    verdict is in the `auditAnnotations` under "images" (JSON of image, digest, rule, result;
//    the API server records it as "WEBHOOK-NAME/images" and drops a key with a '/' of its own).
//  - Mutating (AdmissionOptions::mutate): each allowed image written without a digest is pinned
//    to the digest that was judged ("app:v1" -> "app:v1@sha256:…", by a JSONPatch "replace" at its
//    pointer), so the kubelet pulls exactly what was verified. An image with a digest is left
//    as it is (it was judged by that digest). Accept-rule images resolve no digest: not pinned.
//  - Other operations (DELETE, CONNECT) and objects of unknown kinds under `unknownKinds: allow`
//    are allowed without a check; unknown kinds are denied otherwise.
//  - Fail closed: a review that cannot be read (malformed JSON, over the cap, the wrong
//    apiVersion or kind, no request, no uid) is refused (AdmissionDecision::review_ok false: the
//    server answers 400, which the API server counts as a failed call); any error while judging
//    (the policy, a registry, a deadline, a malformed object, a cap) denies that object with the
//    error as its message.

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "libtrust/check/kube_workload.h"
#include "libtrust/core/reference.h"
#include "libtrust/export.h"
#include "libtrust/verify/policy_check.h"
#include "libtrust/verify/trust_policy.h"

namespace trust::check {

// The most the API server may send: bodies over it are refused before they are parsed (the
// server's HTTP layer enforces it too). Kubernetes' own request limit is 3 MiB.
inline constexpr std::size_t kMaxAdmissionReviewBytes = 3u << 20;
// Longest status message and warning (the API server truncates warnings at 256 characters).
inline constexpr std::size_t kMaxAdmissionMessageBytes = 4096;
inline constexpr std::size_t kMaxAdmissionWarningBytes = 256;

// Where the images of one object are pulled from, for the enforcement's credentials.
struct AdmissionContext {
  std::string namespace_name;
  // The pod spec's imagePullSecrets names, in order (the server reads them only when enabled).
  std::vector<std::string> pull_secrets;
};

struct AdmissionEnvironment {
  // The policy in force. Throws trust::Error when there is none (every check then denies).
  std::function<std::shared_ptr<const verify::TrustPolicy>()> policy;
  // The verdict on one registry reference under `policy`: check::enforce with the server's
  // in-memory cache, the credentials for `context` and the request's deadline. Should not throw;
  // a throw denies.
  std::function<verify::PolicyVerdict(const verify::TrustPolicy& policy, const Reference& ref,
                                      const AdmissionContext& context)>
      enforce;
};

struct AdmissionOptions {
  bool mutate = false;  // pin allowed images to their digests (the /mutate endpoint)
};

// One image of the object and what was decided about it.
struct AdmittedImage {
  WorkloadImage where;
  std::optional<Reference> reference;  // as the kubelet reads it; nullopt when it is invalid
  verify::PolicyVerdict verdict;
  std::optional<std::string> pinned;  // the image string the patch writes (mutate)
};

struct AdmissionDecision {
  bool review_ok = false;  // false: the review itself was refused (answer 400 with `message`)
  std::string uid;
  bool allowed = false;
  int code = 200;       // status.code: 200 allowed, 403 denied, 400 an object that cannot be judged
  std::string message;  // one printable line (denials, and refused reviews)
  std::vector<std::string> warnings;
  std::map<std::string, std::string> audit_annotations;
  std::optional<std::string> patch;  // the JSONPatch array as JSON text (mutate, when any pin)
  // What the decision was on (logs, metrics).
  std::string operation;     // "CREATE", "UPDATE", …
  std::string sub_resource;  // "ephemeralcontainers", ""
  Workload workload;
  std::vector<AdmittedImage> images;  // each container's image, in object order
  // The response AdmissionReview (review_ok only).
  TRUST_API std::string to_json() const;
  // One JSON line for the decision log: uid, operation, kind, namespace, name, allowed, message,
  // images [{container, image, digest, rule, result, cause, cached}]. No credentials.
  TRUST_API std::string log_json() const;
};

// The decision on an AdmissionReview body. Never throws.
TRUST_API AdmissionDecision admit(std::string_view review_json, const AdmissionEnvironment& env,
                                  const AdmissionOptions& options = {});

}  // namespace trust::check
