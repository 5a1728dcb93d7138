#pragma once
// The Docker Engine authorization plugin's decisions (docker's pkg/authorization protocol), pure:
// the plugin request's JSON in, the answer's JSON out, with the daemon query and the enforcement
// passed in, so that it is tested without a daemon. `sigil-verify docker-authz`
// (verify/docker_authz_command.cpp) serves it on a unix socket.
//
// The protocol (moby pkg/authorization api.go, authz.go; pkg/plugins client.go):
//  - POST /Plugin.Activate -> {"Implements":["authz"]}.
//  - POST /AuthZPlugin.AuthZReq with {RequestMethod, RequestUri, RequestHeaders, RequestBody
//    (base64; sent only for a JSON Content-Type and a body of at most 1 MiB, 4 MiB from moby 25;
//    20.10 before the CVE-2024-41110 fix sent none for a chunked body)}
//    -> {"Allow":bool,"Msg":…,"Err":…}. A denial reaches the client as
//    "authorization denied by plugin NAME: MSG" (HTTP 403).
//  - POST /AuthZPlugin.AuthZRes, the same with the response: always allowed here (the check is on
//    the request, before anything happens).
//
// The trust rule: what runs is what was verified.
//  - A pull (POST [/vX.Y]/images/create with fromImage) is judged on the reference the daemon
//    will pull (docker_pull_reference; the tag resolved once, by the enforcement). A pull of
//    every tag, or a query the daemon would read differently (a form body, ';', bad escapes), is
//    denied.
//  - A container creation (POST [/vX.Y]/containers/create) is the binding check: the daemon is
//    asked, at that moment, which image the body's .Image names (the daemon's own lookup: by
//    name, else by ID prefix), and that image is judged by its repo digest in the named
//    repository (any one of them satisfying the policy allows; an image ID is judged by any of
//    its repo digests, in their own repositories). An image with no such digest (built or loaded
//    locally) is allowed only where the rule selected for its name accepts. An image the daemon
//    does not have passes (the create fails with "No such image", and `docker run` pulls it: a
//    checked pull). A body that is missing (the daemon sends none over 1 MiB), malformed, has
//    no .Image, or more than one key Go's decoder reads as .Image, is denied.
//  - Every other request passes untouched.
//  - Fail closed: any error (the plugin request, the body, the daemon query, the policy, the
//    registry) denies, with the reason in Msg (and in Err, for errors). Msg is one printable line.

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "libtrust/core/reference.h"
#include "libtrust/export.h"
#include "libtrust/verify/policy_check.h"
#include "libtrust/verify/trust_policy.h"

namespace trust::check {

// The sizes and counts read from the daemon are capped in core/limits.h ("Docker authorization
// plugin").
// Longest Msg (it reaches the user's terminal through the docker CLI).
inline constexpr std::size_t kMaxDockerAuthzMessageBytes = 2000;

// The answer to /Plugin.Activate, and the Content-Type of every answer (pkg/plugins).
inline constexpr std::string_view kDockerPluginActivateAnswer = R"({"Implements":["authz"]})";
inline constexpr std::string_view kDockerPluginMediaType =
    "application/vnd.docker.plugins.v1.2+json";

// What the daemon says about an image (GET /images/NAME/json): Id, RepoTags, RepoDigests as the
// daemon spells them ("localhost:5000/app:v1", "busybox@sha256:…").
struct DockerImage {
  std::string id;
  std::vector<std::string> repo_tags;
  std::vector<std::string> repo_digests;
};
// Parses the daemon's inspect JSON (InputError or LimitError naming it).
TRUST_API DockerImage parse_docker_image_inspect(std::string_view json);

struct DockerAuthzEnvironment {
  // The image the daemon uses for NAME now; nullopt when it has none (404). Throws trust::Error
  // when the daemon cannot be asked or answers otherwise.
  std::function<std::optional<DockerImage>(std::string_view name)> inspect_image;
  // The policy in force. Throws trust::Error when it cannot be read (every check then denies).
  std::function<std::shared_ptr<const verify::TrustPolicy>()> policy;
  // The verdict on a registry reference under `policy` (check::enforce with the node's source,
  // cache and deadline). Should not throw; a throw denies.
  std::function<verify::PolicyVerdict(const verify::TrustPolicy& policy, const Reference& ref)>
      enforce;
};

// What was decided, and on what.
struct DockerAuthzDecision {
  bool allow = false;
  std::string msg;  // one printable line; empty when a request passes unchecked
  std::string err;  // set when the check could not be completed (an error, not a verdict)
  // "pass" (not checked), "pull", "create", "invalid" (the plugin request itself)
  std::string kind;
  std::string image;                            // what was judged, as asked
  std::vector<verify::PolicyVerdict> verdicts;  // what the policy said (empty: none was asked)

  // {"Allow":…,"Msg":…,"Err":…}
  TRUST_API std::string to_json() const;
};

// The decision on an AuthZReq body (the plugin request's JSON). Never throws.
TRUST_API DockerAuthzDecision authorize_docker_request(std::string_view plugin_request,
                                                       const DockerAuthzEnvironment& env);

}  // namespace trust::check
