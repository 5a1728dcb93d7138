// sigil policy check --policy P -f FILE… against a real registry: the images of Kubernetes
// manifests judged as the admission webhook judges them (one line per container, each distinct
// image once), multi-document YAML, List objects, helm template output on stdin, CronJobs,
// unknown kinds under both settings, JSON lines as docs/formats.md documents them, exit codes.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>
#include <set>

#include "policy_cli_fixture.h"

using namespace sigil::test::policy_cli;
using sigil::test::RegistryAuth;
using sigil::test::RegistryProcess;
using sigil::test::run_process;
using namespace trust;

namespace {

// kubernetes.io/docs/concepts/workloads/controllers/deployment/, with an init container.
std::string deployment(const std::string& app, const std::string& init) {
  return "apiVersion: apps/v1\n"
         "kind: Deployment\n"
         "metadata:\n"
         "  name: web\n"
         "  namespace: prod\n"
         "spec:\n"
         "  replicas: 3\n"
         "  selector:\n"
         "    matchLabels: {app: web}\n"
         "  template:\n"
         "    metadata:\n"
         "      labels: {app: web}\n"
         "    spec:\n"
         "      initContainers:\n"
         "      - name: migrate\n"
         "        image: " +
         init +
         "\n"
         "      containers:\n"
         "      - name: app\n"
         "        image: " +
         app +
         "\n"
         "        ports:\n"
         "        - containerPort: 80\n";
}

// kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/ (hello).
std::string cronjob(const std::string& image) {
  return "apiVersion: batch/v1\n"
         "kind: CronJob\n"
         "metadata:\n"
         "  name: hello\n"
         "spec:\n"
         "  schedule: \"* * * * *\"\n"
         "  jobTemplate:\n"
         "    spec:\n"
         "      template:\n"
         "        spec:\n"
         "          containers:\n"
         "          - name: hello\n"
         "            image: " +
         image +
         "\n"
         "            command: [/bin/sh, -c, date; echo Hello from the Kubernetes cluster]\n"
         "          restartPolicy: OnFailure\n";
}

std::string at(const std::string& ref, const oci::Descriptor& d) {
  return ref + "@" + d.digest.str();
}

std::set<std::string> members(const nlohmann::json& j) {
  std::set<std::string> out;
  for (const auto& [k, v] : j.items()) out.insert(k);
  return out;
}

// The members of the first ```json block after `### heading` in docs/formats.md, and of the
// second when `second`.
std::set<std::string> documented_members(const std::string& heading, bool second) {
  const auto doc = sigil::test::read_text_file(std::string(SIGIL_SOURCE_DIR) + "/docs/formats.md");
  auto pos = doc.find("\n### " + heading + "\n");
  REQUIRE(pos != std::string::npos);
  pos = doc.find("```json\n", pos);
  if (second) pos = doc.find("```json\n", doc.find("```", pos + 8) + 3);
  REQUIRE(pos != std::string::npos);
  const auto body = pos + 8;
  return members(nlohmann::json::parse(doc.substr(body, doc.find("```", body) - body)));
}

}  // namespace

TEST_CASE("policy check: one verdict per container of every document, exit 1 when any is denied",
          "[cli][policy][registry-it]") {
  SIGIL_SKIP_UNLESS(RegistryProcess::unavailable_reason(RegistryAuth::kNone));
  PolicyRegistry r;
  const auto signed_ref = r.push("team/app:v1", r.a, {&release_key()});
  const auto unsigned_ref = r.push("team/migrate:v1", r.b);
  const auto policy = r.policy(kRules);
  const auto file = (r.tmp / "deploy.yaml").string();
  sigil::test::write_text_file(
      file, deployment(signed_ref, unsigned_ref) + "---\n" + cronjob(signed_ref));

  const auto res = r.run({"policy", "check", "--policy", policy, "-f", file});
  INFO(res.err);
  CHECK(res.exit_code == 1);
  CHECK(res.out.empty());
  const std::vector<std::string> expected{
      file + ":1 Deployment prod/web container app: allowed " + at(signed_ref, r.a) +
          " by rule 'team': signed by release (1 of 1)",
      file + ":1 Deployment prod/web init container migrate: denied " + at(unsigned_ref, r.b) +
          " by rule 'team': no signature by key release (no signatures found)",
      file + ":23 CronJob hello container hello: allowed " + at(signed_ref, r.a) +
          " by rule 'team': signed by release (1 of 1)",
  };
  CHECK(report_lines(res.err) == expected);

  sigil::test::write_text_file(file, cronjob(signed_ref));
  const auto ok = r.run({"policy", "check", "--policy", policy, "-f", file});
  INFO(ok.err);
  CHECK(ok.exit_code == 0);
}

TEST_CASE(
    "policy check: helm template output on stdin, comments, empty documents, a List, a Service",
    "[cli][policy][registry-it]") {
  SIGIL_SKIP_UNLESS(RegistryProcess::unavailable_reason(RegistryAuth::kNone));
  PolicyRegistry r;
  const auto signed_ref = r.push("team/app:v1", r.a, {&release_key()});
  const auto other_ref = r.push("team/other:v2", r.b, {&release_key()});
  const auto policy = r.policy(kRules);
  const std::string helm =
      "---\n# Source: web/templates/deployment.yaml\n" + deployment(signed_ref, other_ref) +
      "---\n# Source: web/templates/hpa.yaml\n---\n"
      "# Source: web/templates/pods.yaml\n"
      "apiVersion: v1\nkind: List\nitems:\n"
      "- apiVersion: v1\n  kind: Pod\n  metadata: {name: one, namespace: prod}\n"
      "  spec:\n    containers:\n    - {name: c, image: \"" +
      other_ref +
      "\"}\n"
      // A chart's objects that run no container are known and judged with nothing to check.
      "---\n# Source: web/templates/service.yaml\n"
      "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: prod}\n"
      "spec: {ports: [{port: 80}]}\n"
      "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\ndata: {a: b}\n";
  const auto res = run_process({kSigil, "policy", "check", "--policy", policy, "-f", "-",
                                "--insecure-registry", r.reg.host()},
                               {{"DOCKER_CONFIG", (r.tmp / "no-docker").string()}}, helm);
  INFO(res.err);
  CHECK(res.exit_code == 0);
  const std::vector<std::string> expected{
      "-:3 Deployment prod/web container app: allowed " + at(signed_ref, r.a) +
          " by rule 'team': signed by release (1 of 1)",
      "-:3 Deployment prod/web init container migrate: allowed " + at(other_ref, r.b) +
          " by rule 'team': signed by release (1 of 1)",
      "-:31 Pod prod/one container c: allowed " + at(other_ref, r.b) +
          " by rule 'team': signed by release (1 of 1)",
  };
  CHECK(report_lines(res.err) == expected);
}

TEST_CASE("policy check: unknown kinds are denied by default and allowed under unknownKinds allow",
          "[cli][policy][registry-it]") {
  SIGIL_SKIP_UNLESS(RegistryProcess::unavailable_reason(RegistryAuth::kNone));
  PolicyRegistry r;
  const auto signed_ref = r.push("team/app:v1", r.a, {&release_key()});
  const auto policy = r.policy(kRules);
  const auto file = (r.tmp / "all.yaml").string();
  // A CRD named Deployment in another group names no images sigil reads.
  sigil::test::write_text_file(
      file, cronjob(signed_ref) +
                "---\napiVersion: example.com/v1\nkind: Deployment\nmetadata: {name: w}\n"
                "spec: {template: {spec: {containers: [{name: x, image: evil}]}}}\n");
  const std::string unknown =
      file +
      ":17 Deployment w: %s: kind Deployment of example.com/v1 is not one sigil reads "
      "images from (admission.unknownKinds: %s)";
  const auto line = [&](const std::string& result, const std::string& setting) {
    std::string s = unknown;
    s.replace(s.find("%s"), 2, result);
    s.replace(s.find("%s"), 2, setting);
    return s;
  };
  const auto denied = r.run({"policy", "check", "--policy", policy, "-f", file});
  INFO(denied.err);
  CHECK(denied.exit_code == 1);
  REQUIRE(report_lines(denied.err).size() == 2);
  CHECK(report_lines(denied.err)[1] == line("denied", "deny"));

  sigil::test::write_text_file(r.tmp / "policy.yaml", sigil::test::read_text_file(policy) +
                                                          "admission:\n  unknownKinds: allow\n");
  const auto allowed = r.run({"policy", "check", "--policy", policy, "-f", file});
  INFO(allowed.err);
  CHECK(allowed.exit_code == 0);
  REQUIRE(report_lines(allowed.err).size() == 2);
  CHECK(report_lines(allowed.err)[1] == line("allowed", "allow"));
}

TEST_CASE("policy check: JSON lines carry the place and the verdict as docs/formats.md shows",
          "[cli][policy][registry-it]") {
  SIGIL_SKIP_UNLESS(RegistryProcess::unavailable_reason(RegistryAuth::kNone));
  PolicyRegistry r;
  const auto signed_ref = r.push("team/app:v1", r.a, {&release_key()});
  const auto policy = r.policy(kRules);
  const auto file = (r.tmp / "deploy.yaml").string();
  sigil::test::write_text_file(file,
                               deployment(signed_ref, "3586a72b") +
                                   "---\napiVersion: v1\nkind: Widget\nmetadata: {name: w}\n");
  const auto res = r.run({"policy", "check", "--policy", policy, "-f", file, "--output", "json"});
  INFO(res.err);
  CHECK(res.exit_code == 1);
  const auto lines = lines_of(res.out);
  REQUIRE(lines.size() == 3);
  const auto app = nlohmann::json::parse(lines[0]);
  CHECK(members(app) == documented_members("`sigil policy check --output json`", false));
  CHECK(app["file"] == file);
  CHECK(app["document"] == 1);
  CHECK(app["line"] == 1);
  CHECK(app["kind"] == "Deployment");
  CHECK(app["namespace"] == "prod");
  CHECK(app["list"] == "containers");
  CHECK(app["container"] == "app");
  CHECK(app["pointer"] == "/spec/template/spec/containers/0/image");
  CHECK(app["image"] == signed_ref);
  CHECK(app["verdict"]["result"] == "allowed");
  CHECK(app["verdict"]["digest"] == r.a.digest.str());
  const auto migrate = nlohmann::json::parse(lines[1]);
  CHECK(migrate["list"] == "initContainers");
  CHECK(migrate["result"] == "denied");
  CHECK(migrate["cause"] ==
        "invalid image reference '3586a72b': the container runtime may read it as a prefix of a "
        "local image ID: write the registry or a tag (docker.io/library/NAME, NAME:TAG)");
  const auto widget = nlohmann::json::parse(lines[2]);
  CHECK(members(widget) == documented_members("`sigil policy check --output json`", true));
  CHECK(widget["document"] == 2);
  CHECK(widget["result"] == "denied");
}

TEST_CASE("policy check: an unreadable manifest is exit 3 before any registry, usage exit 2",
          "[cli][policy]") {
  sigil::test::TempDir tmp;
  sigil::test::write_text_file(tmp / "policy.yaml", "version: 1\ndefault: {action: accept}\n");
  const auto policy = (tmp / "policy.yaml").string();
  sigil::test::write_text_file(tmp / "bad.yaml", "apiVersion: v1\nkind: Pod\nmetadata: &a {}\n");
  const auto bad = run_process(
      {kSigil, "policy", "check", "--policy", policy, "-f", (tmp / "bad.yaml").string()});
  CHECK(bad.exit_code == 3);
  CHECK(bad.err == "sigil: error: " + (tmp / "bad.yaml").string() +
                       ":3:11: metadata: anchors (&name) are not allowed: write each value where "
                       "it applies\n");
  const auto missing = run_process(
      {kSigil, "policy", "check", "--policy", policy, "-f", (tmp / "none.yaml").string()});
  CHECK(missing.exit_code == 3);
  const auto no_file = run_process({kSigil, "policy", "check", "--policy", policy});
  CHECK(no_file.exit_code == 2);
  const auto twice =
      run_process({kSigil, "policy", "check", "--policy", policy, "-f", "-", "-f", "-"}, {}, "");
  CHECK(twice.exit_code == 2);
  // Accept-all policy: a Pod's images are allowed without a registry.
  sigil::test::write_text_file(tmp / "pod.yaml",
                               "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n"
                               "spec: {containers: [{name: c, image: busybox}]}\n");
  const auto pod = run_process(
      {kSigil, "policy", "check", "--policy", policy, "-f", (tmp / "pod.yaml").string()});
  CHECK(pod.exit_code == 0);
  CHECK(pod.err == (tmp / "pod.yaml").string() +
                       ":1 Pod p container c: allowed docker.io/library/busybox:latest by rule "
                       "'default': rule 'default' accepts every image without checks\n");
}
