// sigil serve's admission decisions end to end: the real binary over real HTTPS, AdmissionReview
// bodies in the shape the API server sends (admission/v1 types.go; the Kubernetes documentation's
// example request), against a real registry holding signed and attested images. What serve does
// with hostile clients, certificates and policy files is tests/cli/test_serve_cli.cpp's.
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cli/policy_cli_fixture.h"
#include "libtrust/core/encoding.h"
#include "support/admission_review.h"
#include "support/process.h"
#include "support/raw_server.h"
#include "support/registry_process.h"
#include "support/skip.h"

namespace {

using namespace sigil::test;
using namespace sigil::test::policy_cli;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using json = nlohmann::json;

// Bounds on waiting for what must happen; generous for a loaded machine, never asserted on.
constexpr auto kPatience = std::chrono::seconds(60);
using kube::container;
using kube::kind_cases;
using kube::KindCase;
using kube::kUid;
using kube::object_of;
using kube::pod_spec;
using kube::review_of;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// `sigil serve` on 127.0.0.1 with a self-signed certificate, and an HTTPS client for it.
class Serve {
 public:
  Serve(const std::string& policy_file, std::vector<std::string> extra,
        std::vector<std::string> env = {}) {
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    ::sigaction(SIGPIPE, &ignore, &saved_pipe_);
    tls_ = write_self_signed_certificate(dir_.path());
    std::vector<std::string> argv = {
        kSigil,      "serve",           "--policy", policy_file,  "--tls-cert", tls_.cert.string(),
        "--tls-key", tls_.key.string(), "--listen", "127.0.0.1:0"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    env.push_back("HOME=" + dir_.path().string());
    env.push_back("DOCKER_CONFIG=" + (dir_ / "no-docker").string());
    env.push_back("PATH=/usr/bin:/bin");
    pid_ = spawn_server(argv, env, log_file());
    const auto end = Clock::now() + kPatience;
    while (Clock::now() < end && port_ == 0) {
      for (const auto& line : log()) {
        if (line.value("msg", "") == "serving") {
          const std::string listen = line["listen"];
          port_ = std::stoi(listen.substr(listen.rfind(':') + 1));
        }
      }
      int st = 0;
      if (port_ == 0 && ::waitpid(pid_, &st, WNOHANG) == pid_) {
        pid_ = -1;
        FAIL("sigil serve exited: " << slurp(log_file()));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    INFO(slurp(log_file()));
    REQUIRE(port_ != 0);
  }
  ~Serve() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      int st = 0;
      while (::waitpid(pid_, &st, 0) < 0 && errno == EINTR) {
      }
    }
    ::sigaction(SIGPIPE, &saved_pipe_, nullptr);
  }
  Serve(const Serve&) = delete;
  Serve& operator=(const Serve&) = delete;

  // The response of POST `path` with `review`, as the API server reads it.
  json post(const std::string& path, const json& review) const {
    httplib::SSLClient c("127.0.0.1", port_);
    c.set_ca_cert_path(tls_.cert.c_str());
    c.enable_server_certificate_verification(true);
    c.set_read_timeout(std::chrono::seconds(60));
    auto r = c.Post(path.c_str(), review.dump(), "application/json");
    INFO(slurp(log_file()));
    REQUIRE(r);
    REQUIRE(r->status == 200);
    const auto j = json::parse(r->body);
    REQUIRE(j.at("apiVersion") == "admission.k8s.io/v1");
    REQUIRE(j.at("kind") == "AdmissionReview");
    REQUIRE(j.at("response").at("uid") == kUid);
    return j.at("response");
  }

  std::vector<json> log() const {
    std::vector<json> lines;
    std::istringstream in(slurp(log_file()));
    for (std::string line; std::getline(in, line);) {
      auto j = json::parse(line, nullptr, false);
      if (!j.is_discarded()) lines.push_back(j);
    }
    return lines;
  }
  fs::path log_file() const { return dir_ / "serve.log"; }

 private:
  TempDir dir_;
  TlsFiles tls_;
  int pid_ = -1;
  int port_ = 0;
  struct sigaction saved_pipe_ {};
};

json pod_review(const std::vector<std::string>& images) {
  return review_of(object_of(kind_cases().front(), pod_spec(images)), kind_cases().front());
}

json patched(const json& object, const json& response) {
  REQUIRE(response.at("patchType") == "JSONPatch");
  const auto bytes = trust::base64_decode(response.at("patch").get<std::string>(), "patch");
  return object.patch(json::parse(std::string(bytes.begin(), bytes.end())));
}

std::string message(const json& response) {
  return response.contains("status") ? response["status"].value("message", "") : "";
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

const std::string kAdmissionRules = kRules + R"(  - name: three
    match: HOST/three/*
    keys: [release, ci, ops]
    threshold: 2
  - name: built
    match: HOST/built/*
    keys: [release]
    attestations:
      - type: slsaprovenance
        keys: [ci]
        where: ["/buildType=https://example.com/ci"]
)";

// The fixture's policy with a third key (ops) for the 2-of-3 rule.
std::string admission_policy(PolicyRegistry& r) {
  write_text_file(r.tmp / "ops.pub", stranger_key().public_key().to_pem());
  auto file = r.policy(kAdmissionRules);
  auto text = slurp(file);
  text.replace(text.find("  ci: ci.pub\n"), 13, "  ci: ci.pub\n  ops: ops.pub\n");
  write_text_file(file, text);
  return file;
}

}  // namespace

TEST_CASE("serve admission: signed images are allowed, unsigned ones denied naming image and cause",
          "[cli][serve][registry-it]") {
  SIGIL_SKIP_UNLESS(RegistryProcess::unavailable_reason(RegistryAuth::kNone));
  PolicyRegistry r;
  const auto signed_ref = r.push("team/app:v1", r.a, {&release_key()});
  const auto unsigned_ref = r.push("team/plain:v1", r.b);
  Serve s(admission_policy(r), {"--insecure-registry", r.reg.host(), "--timeout", "20s"});

  auto ok = s.post("/validate", pod_review({signed_ref}));
  CHECK(ok.at("allowed") == true);
  auto denied = s.post("/validate", pod_review({signed_ref, unsigned_ref}));
  CHECK(denied.at("allowed") == false);
  CHECK(denied.at("status").at("code") == 403);
  CHECK(message(denied).starts_with("Pod team/web: denied by the trust policy: image '" +
                                    unsigned_ref +
                                    "' (container c1): no signature by key release"));
  // One decision line per review, with each image's verdict.
  std::vector<json> decisions;
  for (const auto& l : s.log()) {
    if (l.contains("uid")) decisions.push_back(l);
  }
  REQUIRE(decisions.size() == 2);
  CHECK(decisions[1].at("allowed") == false);
  CHECK(decisions[1].at("endpoint") == "validate");
  REQUIRE(decisions[1].at("images").size() == 2);
  CHECK(decisions[1]["images"][0].at("digest") == r.a.digest.str());
  CHECK(decisions[1]["images"][1].at("result") == "denied");
}

TEST_CASE("serve admission: every workload kind is judged and its patch pins the verified digest",
          "[cli][serve][registry-it]") {
  SIGIL_SKIP_UNLESS(RegistryProcess::unavailable_reason(RegistryAuth::kNone));
  PolicyRegistry r;
  const auto app = r.push("team/app:v1", r.a, {&release_key()});
  const auto side = r.push("team/side:v2", r.b, {&release_key()});
  Serve s(admission_policy(r), {"--insecure-registry", r.reg.host(), "--timeout", "20s"});
  for (const auto& k : kind_cases()) {
    INFO(k.kind);
    auto spec = pod_spec({app, side});
    spec["initContainers"] = json::array({container("init", app)});
    const auto object = object_of(k, spec);
    const auto response = s.post("/mutate", review_of(object, k));
    CHECK(response.at("allowed") == true);
    const auto after = patched(object, response);
    const auto& pod = after.at(json::json_pointer(k.spec_pointer));
    CHECK(pod["containers"][0]["image"] == app + "@" + r.a.digest.str());
    CHECK(pod["containers"][1]["image"] == side + "@" + r.b.digest.str());
    CHECK(pod["initContainers"][0]["image"] == app + "@" + r.a.digest.str());
    // The validating endpoint answers the same, without a patch.
    const auto v = s.post("/validate", review_of(object, k));
    CHECK(v.at("allowed") == true);
    CHECK_FALSE(v.contains("patch"));
  }
}

TEST_CASE("serve admission: a 2-of-3 threshold and a required SLSA attestation",
          "[cli][serve][registry-it]") {
  SIGIL_SKIP_UNLESS(RegistryProcess::unavailable_reason(RegistryAuth::kNone));
  PolicyRegistry r;
  const auto two = r.push("three/two:v1", r.a, {&release_key(), &ci_key()});
  const auto one = r.push("three/one:v1", r.b, {&release_key()});
  const auto good = r.push("built/good:v1", r.a, {&release_key()});
  r.attest("built/good:v1", r.a, ci_key(), R"({"buildType":"https://example.com/ci"})");
  const auto missing = r.push("built/missing:v1", r.b, {&release_key()});
  const auto bad = r.push("built/bad:v1", r.b, {&release_key()});
  r.attest("built/bad:v1", r.b, ci_key(), R"({"buildType":"https://example.com/laptop"})");
  Serve s(admission_policy(r), {"--insecure-registry", r.reg.host(), "--timeout", "20s"});

  CHECK(s.post("/validate", pod_review({two})).at("allowed") == true);
  const auto short_one = s.post("/validate", pod_review({one}));
  CHECK(short_one.at("allowed") == false);
  CHECK(contains(message(short_one), "1 of 2 required keys signed"));

  CHECK(s.post("/validate", pod_review({good})).at("allowed") == true);
  const auto none = s.post("/validate", pod_review({missing}));
  CHECK(none.at("allowed") == false);
  CHECK(contains(message(none), "no verified slsaprovenance attestation by ci"));
  const auto failing = s.post("/validate", pod_review({bad}));
  CHECK(failing.at("allowed") == false);
  CHECK(contains(message(failing),
                 "/buildType is 'https://example.com/laptop', not "
                 "'https://example.com/ci'"));
}

TEST_CASE("serve admission: a tag moved to an unsigned digest after an admission is denied",
          "[cli][serve][registry-it]") {
  SIGIL_SKIP_UNLESS(RegistryProcess::unavailable_reason(RegistryAuth::kNone));
  PolicyRegistry r;
  const auto ref = r.push("team/moving:v1", r.a, {&release_key()});
  Serve s(admission_policy(r), {"--insecure-registry", r.reg.host(), "--timeout", "20s"});
  const auto first = s.post("/mutate", pod_review({ref}));
  CHECK(first.at("allowed") == true);
  CHECK(s.post("/validate", pod_review({ref})).at("allowed") == true);  // now from the cache
  (void)r.push("team/moving:v1", r.b);  // the tag now names an unsigned image
  const auto after = s.post("/mutate", pod_review({ref}));
  CHECK(after.at("allowed") == false);
  CHECK_FALSE(after.contains("patch"));
  CHECK(contains(message(after), "no signature by key release"));
  // The first image, by its digest, is still allowed (from the cache).
  CHECK(s.post("/validate", pod_review({ref + "@" + r.a.digest.str()})).at("allowed") == true);
}

TEST_CASE("serve admission: a registry that never answers is denied within --timeout",
          "[cli][serve][registry-it]") {
  SIGIL_SKIP_UNLESS(RegistryProcess::unavailable_reason(RegistryAuth::kNone));
  PolicyRegistry r;
  RawServer hang(RawServer::silent());
  const std::string policy =
      r.policy("  - name: hang\n    match: " + hang.host() + "/*/*\n    keys: [release]\n");
  Serve s(policy, {"--insecure-registry", hang.host(), "--timeout", "2s"});
  const auto response = s.post("/validate", pod_review({hang.host() + "/team/app:v1"}));
  CHECK(response.at("allowed") == false);
  CHECK(contains(message(response), hang.host() + "/team/app:v1"));
  CHECK(contains(message(response), "deadline"));
}
namespace {

// The API server's Secrets, over HTTPS with a certificate the service account's ca.crt trusts,
// answering only the service account's bearer token; and what it was asked.
class FakeKubeApi {
 public:
  static constexpr const char* kToken = "sa-token-4Qk9-never-printed";

  explicit FakeKubeApi(std::map<std::string, json> secrets)
      : secrets_(std::move(secrets)),
        tls_(write_self_signed_certificate(dir_.path())),
        server_(tls_.cert.c_str(), tls_.key.c_str()) {
    fs::create_directories(dir_ / "sa");
    write_text_file(dir_ / "sa" / "token", std::string(kToken) + "\n");
    write_text_file(dir_ / "sa" / "ca.crt", slurp(tls_.cert));
    server_.Get(R"(/api/v1/namespaces/([^/]+)/secrets/([^/]+))",
                [this](const httplib::Request& req, httplib::Response& res) {
                  const auto key = std::string(req.matches[1]) + "/" + std::string(req.matches[2]);
                  {
                    std::lock_guard lock(mu_);
                    asked_.push_back(key);
                  }
                  if (req.get_header_value("Authorization") != std::string("Bearer ") + kToken) {
                    res.status = 401;
                    return;
                  }
                  const auto it = secrets_.find(key);
                  if (it == secrets_.end()) {
                    res.status = 404;
                    res.set_content(R"({"kind":"Status","code":404})", "application/json");
                    return;
                  }
                  res.set_content(it->second.dump(), "application/json");
                });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~FakeKubeApi() {
    server_.stop();
    thread_.join();
  }
  FakeKubeApi(const FakeKubeApi&) = delete;
  FakeKubeApi& operator=(const FakeKubeApi&) = delete;

  std::vector<std::string> env() const {
    return {"SIGIL_KUBE_API=https://127.0.0.1:" + std::to_string(port_),
            "SIGIL_KUBE_SA_DIR=" + (dir_ / "sa").string()};
  }
  std::vector<std::string> asked() const {
    std::lock_guard lock(mu_);
    return asked_;
  }

 private:
  TempDir dir_;
  std::map<std::string, json> secrets_;
  TlsFiles tls_;
  httplib::SSLServer server_;
  int port_ = 0;
  std::thread thread_;
  mutable std::mutex mu_;
  std::vector<std::string> asked_;
};

json docker_config_secret(const std::string& name, const std::string& type,
                          const std::string& field, const std::string& content) {
  return json{{"apiVersion", "v1"},
              {"kind", "Secret"},
              {"metadata", {{"name", name}, {"namespace", "team"}}},
              {"type", type},
              {"data", {{field, trust::base64_encode(trust::as_bytes(content))}}}};
}

}  // namespace

TEST_CASE(
    "serve admission: imagePullSecrets are read through the API server only with "
    "--pull-secrets",
    "[cli][serve][registry-it]") {
  SIGIL_SKIP_UNLESS(RegistryProcess::unavailable_reason(RegistryAuth::kBasic));
  PolicyRegistry r;  // its layout and keys; the images go to a registry that wants a password
  RegistryProcess locked({.auth = RegistryAuth::kBasic});
  auto options = r.options;
  options.insecure_registries = {locked.host()};
  options.auth_file = locked.write_docker_config(r.tmp / "pusher");
  const auto ref = trust::Reference::parse(locked.reference("team/app:v1"));
  {
    auto store = trust::registry::open_store(ref, options);
    (void)trust::oci::copy_image(*r.local, *store, r.a);
    store->set_tag(*ref.tag(), r.a);
    (void)trust::sig::sign_image(
        *store, r.a, release_key(),
        {.docker_reference = ref.repository_name(), .annotations = {}, .recursive = false});
  }
  const auto auth = trust::base64_encode(trust::as_bytes(locked.user() + ":" + locked.password()));
  const std::string config = R"({"auths":{")" + locked.host() + R"(":{"auth":")" + auth + R"("}}})";
  const std::string legacy = R"({")" + locked.host() + R"(":{"auth":")" + auth + R"("}})";
  FakeKubeApi api(
      {{"team/regcred", docker_config_secret("regcred", "kubernetes.io/dockerconfigjson",
                                             ".dockerconfigjson", config)},
       {"team/oldcred",
        docker_config_secret("oldcred", "kubernetes.io/dockercfg", ".dockercfg", legacy)},
       {"team/opaque", docker_config_secret("opaque", "Opaque", "password", locked.password())}});
  const auto policy =
      r.policy("  - name: locked\n    match: " + locked.host() + "/team/*\n    keys: [release]\n");
  auto review_with = [&](const std::vector<std::string>& secrets) {
    auto spec = pod_spec({ref.str()});
    for (const auto& s : secrets) spec["imagePullSecrets"].push_back({{"name", s}});
    return review_of(object_of(kind_cases().front(), spec), kind_cases().front());
  };

  {
    // Without --pull-secrets the API server is not asked, and the anonymous pull fails.
    Serve s(policy, {"--insecure-registry", locked.host(), "--timeout", "20s"}, api.env());
    const auto response = s.post("/validate", review_with({"regcred"}));
    CHECK(response.at("allowed") == false);
    CHECK(api.asked().empty());
  }
  Serve s(policy, {"--insecure-registry", locked.host(), "--timeout", "20s", "--pull-secrets"},
          api.env());
  CHECK(s.post("/validate", review_with({"regcred"})).at("allowed") == true);
  CHECK(s.post("/validate", review_with({"missing", "oldcred"})).at("allowed") == true);
  // A Secret of another type names no credentials.
  CHECK(s.post("/validate", review_with({"opaque"})).at("allowed") == false);
  const auto asked = api.asked();
  CHECK(std::find(asked.begin(), asked.end(), "team/regcred") != asked.end());
  CHECK(std::find(asked.begin(), asked.end(), "team/missing") != asked.end());
  CHECK(std::find(asked.begin(), asked.end(), "team/oldcred") != asked.end());
  // No credential anywhere in the log.
  const auto log = slurp(s.log_file());
  CHECK_FALSE(contains(log, locked.password()));
  CHECK_FALSE(contains(log, auth));
  CHECK_FALSE(contains(log, FakeKubeApi::kToken));
}
