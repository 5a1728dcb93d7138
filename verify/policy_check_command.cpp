// sigil policy check --policy P -f FILE…: the admission webhook's decision on Kubernetes
// manifests before they are applied. The same extraction (check/kube_workload.h), the same
// kubelet reading of image names, the same policy engine (check::enforce through PolicyJudge),
// the same verdict printer (policy_output.h) as `verify --policy`.
//  - Every file is read first (a manifest that cannot be read is an error before any registry
//    is asked); "-" is standard input, once.
//  - Each distinct image is judged once, whatever number of containers name it; each container
//    gets its line, "FILE:LINE OBJECT container NAME: VERDICT".
//  - An object of a kind the extraction does not read is denied under the policy's
//    `admission: {unknownKinds: deny}` (the default) and allowed without a check under `allow`.
//  - An image name the kubelet could not pull (or that names an image ID) is denied, as the
//    webhook denies it.
// Exit 1 if any image or object is denied, else 3 if any image could not be checked, else 0.
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "libtrust/check/kube_workload.h"
#include "libtrust/core/bytes.h"
#include "libtrust/core/error.h"
#include "libtrust/core/file.h"
#include "libtrust/core/limits.h"
#include "policy_commands.h"
#include "policy_output.h"
#include "policy_run.h"

namespace sigil::cli {
namespace {

using trust::check::ManifestObject;
using trust::check::WorkloadImage;
using Json = nlohmann::ordered_json;

struct CheckArgs {
  std::string policy;
  std::vector<std::string> files;
  RegistryFlags registry;
  OutputFormat output = OutputFormat::kText;
  bool explain = false;
};

std::vector<ManifestObject> read_all(const std::vector<std::string>& files) {
  std::vector<ManifestObject> objects;
  for (const auto& file : files) {
    const auto bytes =
        trust::read_operator_input(file, trust::limits::kMaxManifestFileBytes, "the manifests");
    auto read = trust::check::read_manifests(trust::as_string_view(bytes.view()), file);
    trust::limits::check(objects.size() + read.size(), trust::limits::kMaxManifestObjects,
                         "policy check", "Kubernetes objects in all files");
    for (auto& o : read) objects.push_back(std::move(o));
  }
  return objects;
}

// "init container migrate", "container at /spec/containers/0/image" (no name).
std::string container_text(const WorkloadImage& image) {
  std::string list = image.list == "initContainers"        ? "init container"
                     : image.list == "ephemeralContainers" ? "ephemeral container"
                                                           : "container";
  return image.container.empty() ? list + " at " + image.pointer : list + " " + image.container;
}

Json object_members(const ManifestObject& o) {
  return Json{{"file", o.source},        {"document", o.document},
              {"line", o.line},          {"apiVersion", o.workload.api_version},
              {"kind", o.workload.kind}, {"namespace", o.workload.namespace_name},
              {"name", o.workload.name}};
}

Json image_members(const ManifestObject& o, const WorkloadImage& image) {
  Json j = object_members(o);
  j["list"] = image.list;
  j["container"] = image.container;
  j["pointer"] = image.pointer;
  j["image"] = image.image;
  return j;
}

// A decision that is no policy verdict (an unknown kind, a name the kubelet cannot pull): text
// "PLACE: RESULT: CAUSE", JSON the place's members with "result" and "cause".
void print_decision(const std::string& place, Json members, bool allowed, const std::string& cause,
                    OutputFormat format) {
  const std::string result_text = allowed ? "allowed" : "denied";
  if (format == OutputFormat::kJson) {
    Json line{{"schemaVersion", kJsonSchemaVersion}};
    for (const auto& [key, value] : members.items()) line[key] = value;
    line["result"] = result_text;
    line["cause"] = cause;
    result(line.dump(-1, ' ', /*ensure_ascii=*/true, Json::error_handler_t::replace));
  }
  say(place + ": " + result_text + ": " + cause);
}

int run_check(const CheckArgs& a) {
  if (a.files.empty()) throw trust::UsageError("policy check: give -f FILE (or -f - for stdin)");
  const auto objects = read_all(a.files);
  const PolicyJudge judge(a.policy, a.registry, /*check_blobs=*/false,
                          trust::verify::RuleParts::kAll);
  const auto unknown = judge.policy().admission().unknown_kinds;
  std::map<std::string, trust::verify::PolicyVerdict> judged;  // by the reference pulled
  int code = kExitOk;
  for (const auto& o : objects) {
    const std::string where = o.source + ":" + std::to_string(o.line) + " " + o.workload.describe();
    if (!o.workload.known) {
      const bool allow = unknown == trust::verify::UnknownKinds::kAllow;
      print_decision(
          where, object_members(o), allow,
          "kind " + o.workload.kind + " of " +
              (o.workload.api_version.empty() ? "no apiVersion" : o.workload.api_version) +
              " is not one sigil reads images from (admission.unknownKinds: " +
              std::string(trust::verify::to_string(unknown)) + ")",
          a.output);
      if (!allow) code = combined_exit_code(code, kExitVerifyFailed);
      continue;
    }
    for (const auto& image : o.workload.images) {
      const VerdictPlace place{.text = where + " " + container_text(image),
                               .members = image_members(o, image)};
      std::optional<trust::Reference> ref;
      try {
        ref = trust::check::kubelet_image_reference(image.image);
      } catch (const trust::UsageError& e) {
        print_decision(place.text, place.members, false, e.what(), a.output);
        code = combined_exit_code(code, kExitVerifyFailed);
        continue;
      }
      auto it = judged.find(ref->str());
      if (it == judged.end()) it = judged.emplace(ref->str(), judge.judge(*ref)).first;
      print_policy_verdict(it->second, a.output, a.explain, JsonStyle::kLines, &place);
      code = combined_exit_code(code, policy_exit_code(it->second));
    }
  }
  return code;
}

}  // namespace

void add_policy_check(Program& prog, CLI::App& group) {
  auto a = std::make_shared<CheckArgs>();
  auto* cmd = add_command(
      prog, group, "check",
      "Check every image of Kubernetes manifests against the trust policy, as the admission "
      "webhook would: exit 0 allowed, 1 an image or object denied, 3 could not be checked",
      [a] { return run_check(*a); });
  cmd->add_option("--policy", a->policy, "The trust policy file (docs/policy.md)")
      ->required()
      ->type_name("FILE");
  add_repeatable(*cmd, "-f,--filename", a->files, "FILE",
                 "Kubernetes manifests (YAML, several documents, List objects, or JSON), as "
                 "kubectl apply -f, helm template and kustomize build write them; - is standard "
                 "input; repeatable")
      ->required();
  cmd->add_flag("--explain", a->explain,
                "Under each verdict, every check and why it passed or failed");
  add_output_option(*cmd, a->output,
                    "one line per image on stderr (in every format; json is one line per image "
                    "or unknown object)");
  add_registry_options(*cmd, a->registry);
}

}  // namespace sigil::cli
