// The Docker authorization plugin's decisions (check/docker_authz.h), without a daemon: the
// daemon query and the enforcement are functions here that record what they were asked.
// tests/registry_it/test_docker_authz_it.cpp runs the same through a real dockerd.
#include <catch2/catch.hpp>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "libtrust/check/docker_authz.h"
#include "libtrust/core/encoding.h"
#include "libtrust/core/error.h"
#include "libtrust/core/limits.h"
#include "support/test_keys.h"

namespace trust::check {
namespace {

using verify::PolicyVerdict;

const std::string kSigned = "sha256:" + std::string(64, 'a');
const std::string kUnsigned = "sha256:" + std::string(64, 'b');
const std::string kImageId =
    "sha256:3586a72b2d4706bb9ce727ec37ace6d560ef126b86e5df170cf65e33e8ce5b61";

std::shared_ptr<const verify::TrustPolicy> test_policy() {
  verify::PolicyDocument d;
  d.source = "policy.yaml";
  d.keys = {verify::PolicyKey{.name = "release",
                              .key = sigil::test::test_key(KeyType::kEcdsaP256, 0).public_key(),
                              .file = std::nullopt,
                              .at = {}}};
  verify::PolicyRule lab;
  lab.name = "lab";
  lab.match = {"localhost:5000/**"};
  lab.keys = {"release"};
  verify::PolicyRule local;
  local.name = "local";
  local.match = {"localhost:5000/local/**"};
  local.action = verify::RuleAction::kAccept;
  d.rules = {lab, local};
  return std::make_shared<const verify::TrustPolicy>(verify::TrustPolicy::build(std::move(d)));
}

// A daemon holding one image, and an enforcement that allows exactly kSigned.
struct Fixture {
  std::shared_ptr<const verify::TrustPolicy> policy = test_policy();
  std::optional<DockerImage> image;
  std::vector<std::string> inspected;
  std::vector<std::string> enforced;
  std::string daemon_error;
  std::string policy_error;

  DockerAuthzEnvironment env() {
    return DockerAuthzEnvironment{.inspect_image =
                                      [this](std::string_view name) {
                                        inspected.emplace_back(name);
                                        if (!daemon_error.empty()) throw IoError(daemon_error);
                                        return image;
                                      },
                                  .policy =
                                      [this] {
                                        if (!policy_error.empty()) throw InputError(policy_error);
                                        return policy;
                                      },
                                  .enforce =
                                      [this](const verify::TrustPolicy& p, const Reference& ref) {
                                        enforced.push_back(ref.str());
                                        return verdict(p, ref);
                                      }};
  }
  static PolicyVerdict verdict(const verify::TrustPolicy& p, const Reference& ref) {
    auto selection = p.select(ref.repository_name());
    PolicyVerdict v = verify::verdict_for_error(selection, ref.str(), ref.digest(),
                                                "no signature by any of keys release");
    if (ref.digest() && ref.digest()->str() == kSigned) {
      v.satisfied = v.allowed = true;
      v.cause = "signed by release (1 of 1)";
    }
    return v;
  }
  DockerAuthzDecision ask(const std::string& request) {
    return authorize_docker_request(request, env());
  }
};

std::string request(std::string method, std::string uri, std::string body = {},
                    std::string headers = R"({"Content-Length":"0","Content-Type":"text/plain"})") {
  std::string r = R"({"RequestMethod":")" + method + R"(","RequestUri":")" + uri +
                  R"(","RequestHeaders":)" + headers;
  if (!body.empty()) r += R"(,"RequestBody":")" + base64_encode(as_bytes(body)) + "\"";
  return r + "}";
}

std::string create(std::string image_json_member) {
  return request("POST", "/v1.41/containers/create",
                 R"({"Hostname":"",)" + image_json_member + R"(,"Cmd":["/hello"]})",
                 R"({"Content-Type":"application/json"})");
}

DockerImage pulled(std::vector<std::string> digests, std::vector<std::string> tags) {
  return DockerImage{
      .id = kImageId, .repo_tags = std::move(tags), .repo_digests = std::move(digests)};
}

}  // namespace

TEST_CASE("docker authz: requests other than pulls and creations pass without a check",
          "[docker-authz]") {
  Fixture f;
  for (auto uri : {"/_ping", "/v1.41/containers/json", "/v1.41/containers/abc/start",
                   "/v1.41/images/create/x"}) {
    auto d = f.ask(request("POST", uri));
    CHECK(d.allow);
    CHECK(d.kind == "pass");
    CHECK(d.to_json() == R"({"Allow":true})");
  }
  CHECK(f.ask(request("GET", "/v1.41/containers/create")).kind == "pass");
  CHECK(f.inspected.empty());
  CHECK(f.enforced.empty());
  CHECK(std::string(kDockerPluginActivateAnswer) == R"({"Implements":["authz"]})");
}

TEST_CASE("docker authz: a pull is judged on the reference the daemon will pull",
          "[docker-authz]") {
  Fixture f;
  auto d = f.ask(request("POST", "/v1.41/images/create?fromImage=localhost%3A5000%2Fapp&tag=v1"));
  CHECK_FALSE(d.allow);
  CHECK(d.kind == "pull");
  REQUIRE(f.enforced == std::vector<std::string>{"localhost:5000/app:v1"});
  REQUIRE(d.verdicts.size() == 1);
  CHECK(d.msg == verify::explain_lines(d.verdicts[0]).front());
  CHECK(d.err.empty());  // a verdict, not an error
  // Unversioned, and by digest (in the tag parameter, as the docker CLI sends it).
  auto by_digest =
      f.ask(request("POST", "/images/create?fromImage=localhost:5000/app&tag=" + kSigned));
  CHECK(by_digest.allow);
  CHECK(f.enforced.back() == "localhost:5000/app@" + kSigned);
  CHECK(by_digest.to_json() == R"({"Allow":true,"Msg":")" + by_digest.msg + "\"}");
  // An import (fromSrc) has no image to judge yet: it is judged when a container is created.
  CHECK(f.ask(request("POST", "/v1.41/images/create?fromSrc=-&repo=x")).allow);
}

TEST_CASE("docker authz: pulls the daemon would read differently are denied", "[docker-authz]") {
  Fixture f;
  auto all_tags = f.ask(request("POST", "/v1.41/images/create?fromImage=localhost:5000/app"));
  CHECK_FALSE(all_tags.allow);
  CHECK(all_tags.msg.find("--all-tags") != std::string::npos);
  CHECK(all_tags.err == all_tags.msg);
  auto semicolon =
      f.ask(request("POST", "/v1.41/images/create?fromImage=localhost:5000/app;tag=v1"));
  CHECK_FALSE(semicolon.allow);
  CHECK(semicolon.msg.find("';'") != std::string::npos);
  auto escape =
      f.ask(request("POST", "/v1.41/images/create?fromImage=localhost:5000/app%zz&tag=1"));
  CHECK_FALSE(escape.allow);
  CHECK(escape.msg == "the request URI's query: malformed %-escape");
  // A form body would override the query in the daemon, and the plugin never sees it.
  auto form = f.ask(request("POST", "/v1.41/images/create?fromImage=localhost:5000/app&tag=1", "",
                            R"({"Content-Type":"application/x-www-form-urlencoded"})"));
  CHECK_FALSE(form.allow);
  CHECK(form.msg.find("with a body") != std::string::npos);
  CHECK(f.enforced.empty());
}

TEST_CASE("docker authz: a creation is judged by the repo digest the daemon has for the name",
          "[docker-authz]") {
  Fixture f;
  f.image = pulled({"localhost:5000/app@" + kSigned, "localhost:5000/other@" + kUnsigned},
                   {"localhost:5000/app:v1"});
  auto d = f.ask(create(R"("Image":"localhost:5000/app:v1")"));
  CHECK(d.allow);
  CHECK(d.kind == "create");
  CHECK(f.inspected == std::vector<std::string>{"localhost:5000/app:v1"});
  // Only the digest in the requested repository counts.
  CHECK(f.enforced == std::vector<std::string>{"localhost:5000/app@" + kSigned});

  // The tag now names an unsigned image: denied, whatever was pulled before.
  f.image = pulled({"localhost:5000/app@" + kUnsigned}, {"localhost:5000/app:v1"});
  auto moved = f.ask(create(R"("Image":"localhost:5000/app:v1")"));
  CHECK_FALSE(moved.allow);
  CHECK(moved.msg == verify::explain_lines(moved.verdicts.at(0)).front());
  CHECK(f.enforced.back() == "localhost:5000/app@" + kUnsigned);
}

TEST_CASE("docker authz: a creation by digest or by ID or by ID prefix judges that image",
          "[docker-authz]") {
  Fixture f;
  f.image = pulled({"localhost:5000/app@" + kSigned}, {"localhost:5000/app:v1"});
  CHECK(f.ask(create(R"("Image":"localhost:5000/app@)" + kSigned + "\"")).allow);
  // A digest the daemon's image does not carry is not taken on trust.
  auto other = f.ask(create(R"("Image":"localhost:5000/app@)" + kUnsigned + "\""));
  CHECK_FALSE(other.allow);
  CHECK(other.msg.find("does not carry the repo digest localhost:5000/app@" + kUnsigned) !=
        std::string::npos);
  f.enforced.clear();
  CHECK(f.ask(create(R"("Image":")" + kImageId + "\"")).allow);
  CHECK(f.ask(create(R"("Image":"3586a72b")")).allow);
  CHECK(f.enforced ==
        std::vector<std::string>{"localhost:5000/app@" + kSigned, "localhost:5000/app@" + kSigned});
  // An ID prefix whose image carries only an unsigned digest.
  f.image = pulled({"localhost:5000/app@" + kUnsigned}, {});
  CHECK_FALSE(f.ask(create(R"("Image":"3586a72b")")).allow);
  // A short name that is neither the image's tag nor a prefix of its ID.
  auto neither = f.ask(create(R"("Image":"deadbeef")"));
  CHECK_FALSE(neither.allow);
  CHECK(neither.msg.find("neither tagged so") != std::string::npos);
}

TEST_CASE("docker authz: a local image without repo digest is denied unless its rule accepts",
          "[docker-authz]") {
  Fixture f;
  f.image = pulled({}, {"localhost:5000/app:dev"});
  auto d = f.ask(create(R"("Image":"localhost:5000/app:dev")"));
  CHECK_FALSE(d.allow);
  CHECK(d.msg.find("no repo digest in localhost:5000/app") != std::string::npos);
  CHECK(f.enforced.empty());
  // Tagged from a signed repository into another: that repository's digest does not count.
  f.image = pulled({"localhost:5000/app@" + kSigned}, {"localhost:5000/copy:v1"});
  CHECK_FALSE(f.ask(create(R"("Image":"localhost:5000/copy:v1")")).allow);
  f.image = pulled({}, {"localhost:5000/local/tool:dev"});
  auto accepted = f.ask(create(R"("Image":"localhost:5000/local/tool:dev")"));
  CHECK(accepted.allow);
  REQUIRE(accepted.verdicts.size() == 1);
  CHECK(accepted.verdicts[0].rule == "local");
}

TEST_CASE("docker authz: an image the daemon does not have passes (the pull is checked)",
          "[docker-authz]") {
  Fixture f;
  auto d = f.ask(create(R"("Image":"localhost:5000/app:v1")"));
  CHECK(d.allow);
  CHECK(f.enforced.empty());
}

TEST_CASE("docker authz: malformed or missing create bodies are denied naming why",
          "[docker-authz]") {
  Fixture f;
  f.image = pulled({"localhost:5000/app@" + kSigned}, {"localhost:5000/app:v1"});
  auto none = f.ask(
      request("POST", "/v1.41/containers/create", "", R"({"Content-Type":"application/json"})"));
  CHECK_FALSE(none.allow);
  CHECK(none.msg.find("whose body the daemon did not pass on") != std::string::npos);
  CHECK(none.err == none.msg);
  auto garbage = f.ask(request("POST", "/v1.41/containers/create", "{\"Image\": nope"));
  CHECK_FALSE(garbage.allow);
  CHECK(garbage.msg.find("the container create body") != std::string::npos);
  auto trailing = f.ask(request("POST", "/v1.41/containers/create",
                                R"({"Image":"localhost:5000/app:v1"} {"Image":"x"})"));
  CHECK_FALSE(trailing.allow);
  // Go's decoder matches keys ignoring case: two spellings are refused, not guessed.
  auto twice = f.ask(create(R"("Image":"localhost:5000/app:v1","image":"localhost:5000/evil:v1")"));
  CHECK_FALSE(twice.allow);
  CHECK(twice.msg.find("more than once") != std::string::npos);
  // The lower-case spelling alone is what the daemon uses: it is checked.
  CHECK(f.ask(create(R"("image":"localhost:5000/app:v1")")).allow);
  auto empty = f.ask(create(R"("Image":"")"));
  CHECK_FALSE(empty.allow);
  CHECK(empty.msg == "the container create body has no .Image");
  CHECK_FALSE(f.ask(create(R"("Image":7)")).allow);
  auto bad_name = f.ask(create(R"("Image":"Localhost:5000/App")"));
  CHECK_FALSE(bad_name.allow);
  CHECK(bad_name.msg.find("repository name must be lowercase") != std::string::npos);
  CHECK_FALSE(f.ask(request("POST", "/v1.41/containers/create", "[1]")).allow);
}

TEST_CASE("docker authz: an encoded or unclean path still reaches the check", "[docker-authz]") {
  // The daemon's router decodes %2F and redirects unclean paths; a trailing slash is a 404 there,
  // and checked here all the same (denying what would fail anyway costs nothing).
  Fixture f;
  f.image = pulled({"localhost:5000/app@" + kUnsigned}, {"localhost:5000/app:v1"});
  for (auto uri :
       {"/v1.41/containers%2Fcreate", "/v1.41//containers/create", "/v1.41/x/../containers/create",
        "/v1.41/containers/create/", "/containers/create?name=a", "/v1/containers/create"}) {
    auto d = f.ask(request("POST", uri, R"({"Image":"localhost:5000/app:v1"})",
                           R"({"Content-Type":"application/json"})"));
    CHECK_FALSE(d.allow);
    CHECK(d.kind == "create");
  }
  CHECK_FALSE(
      f.ask(request("post", "/v1.41/containers/create", R"({"Image":"localhost:5000/app:v1"})"))
          .allow);
}

TEST_CASE("docker authz: errors deny with the reason in Msg and Err", "[docker-authz]") {
  Fixture f;
  f.daemon_error = "the Docker daemon at unix:///nowhere.sock: cannot connect";
  auto daemon = f.ask(create(R"("Image":"localhost:5000/app:v1")"));
  CHECK_FALSE(daemon.allow);
  CHECK(daemon.msg == f.daemon_error);
  CHECK(daemon.err == f.daemon_error);
  CHECK(daemon.to_json() ==
        R"({"Allow":false,"Err":")" + f.daemon_error + R"(","Msg":")" + f.daemon_error + "\"}");
  f.daemon_error.clear();
  f.policy_error = "/etc/sigil/policy.yaml:3:1: rules[0].threshold: not an integer";
  auto policy = f.ask(request("POST", "/v1.41/images/create?fromImage=localhost:5000/app&tag=1"));
  CHECK_FALSE(policy.allow);
  CHECK(policy.err == f.policy_error);
  // Requests that are not checked do not need the policy.
  CHECK(f.ask(request("GET", "/v1.41/info")).allow);
}

TEST_CASE("docker authz: a malformed plugin request is denied", "[docker-authz]") {
  Fixture f;
  auto not_json = f.ask("{\"RequestMethod\":");
  CHECK_FALSE(not_json.allow);
  CHECK(not_json.kind == "invalid");
  CHECK(not_json.msg.find("the AuthZ request") != std::string::npos);
  CHECK_FALSE(f.ask("[]").allow);
  CHECK_FALSE(f.ask(R"({"RequestMethod":"POST","RequestUri":7})").allow);
  // An absolute-form URI reaches the daemon's router by its path: it is not guessed at.
  auto absolute = f.ask(request("POST", "http://x/v1.41/containers/create"));
  CHECK_FALSE(absolute.allow);
  CHECK(absolute.msg.find("is not a path") != std::string::npos);
  auto bad_body =
      f.ask(R"({"RequestMethod":"POST","RequestUri":"/containers/create","RequestBody":"%%%"})");
  CHECK_FALSE(bad_body.allow);
  // Control characters from the request never reach the user's terminal raw.
  auto control = f.ask(create("\"Image\":\"x\\u001b[2Jy\""));
  CHECK_FALSE(control.allow);
  CHECK(control.msg.find('\x1b') == std::string::npos);
}

TEST_CASE("docker authz: the daemon's image inspect answer is read strictly", "[docker-authz]") {
  auto image = parse_docker_image_inspect(
      R"({"Id":"sha256:ab","RepoTags":["a:1"],"RepoDigests":null,"Config":{}})");
  CHECK(image.id == "sha256:ab");
  CHECK(image.repo_tags == std::vector<std::string>{"a:1"});
  CHECK(image.repo_digests.empty());
  CHECK_THROWS_AS(parse_docker_image_inspect(R"({"RepoTags":[]})"), InputError);
  CHECK_THROWS_AS(parse_docker_image_inspect(R"({"Id":"x","RepoTags":[1]})"), InputError);
  std::string many = R"({"Id":"x","RepoDigests":[)";
  for (std::size_t i = 0; i <= limits::kMaxDockerImageNames; ++i) many += (i ? ",\"a\"" : "\"a\"");
  CHECK_THROWS_AS(parse_docker_image_inspect(many + "]}"), LimitError);
}

}  // namespace trust::check
