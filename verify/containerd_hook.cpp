// The containerd (>= 2.0) image-verifier hook: `sigil-verify containerd-verify -name REF -digest
// DIGEST -stdin-media-type application/vnd.oci.descriptor.v1+json`, the image's descriptor on
// stdin; sigil-verify itself answers the same arguments without the command name, so it can be
// linked into containerd's bin_dir as it is (deploy/containerd/README.md).
//
// The calling convention, as containerd's bindir verifier (pkg/imageverifier/bindir/bindir.go,
// plugins/imageverifier/plugin.go) implements it:
//  - every entry of bin_dir (sorted by name, at most max_verifiers) is exec'd as
//    BIN_DIR/NAME -name REF -digest DIGEST -stdin-media-type application/vnd.oci.descriptor.v1+json
//    in a process group of its own, with containerd's environment;
//  - stdin: the descriptor, JSON-encoded (Go's json.Encoder: one line and "\n"), then closed;
//  - exit status 0 allows the pull, anything else denies it; a verifier still running after
//    per_verifier_timeout (default 10 s) has its process group killed and the pull fails;
//  - stdout: the reason, of which containerd keeps the first 32 KiB (trimmed; "(stdout
//    truncated)" appended when there was more); stderr: logged at debug level, 32 KiB.
// What this hook does with it: the image named by -name's repository is judged at -digest
// (never a tag), under the policy, credentials and CAs of the node root (node_config.h). Every
// error denies: exit 1 a policy denial, 2 bad arguments, 3 anything else (unreadable policy, bad
// descriptor, an image that could not be checked); the reason goes to stdout, one line per
// verdict, and to stderr with the verdict's trace. A watchdog denies at kHookWatchdog whatever
// hangs, inside containerd's 10 s.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "commands.h"
#include "lazy_registry_source.h"
#include "libtrust/check/enforce.h"
#include "libtrust/core/error.h"
#include "libtrust/core/limits.h"
#include "libtrust/core/text.h"
#include "libtrust/oci/manifest.h"
#include "libtrust/registry/registry_store.h"
#include "libtrust/verify/digest_cache.h"
#include "libtrust/verify/trust_policy.h"
#include "node_config.h"
#include "policy_output.h"

namespace sigil::cli {
namespace {

using trust::InputError;
using trust::UsageError;

constexpr const char* kCommand = "containerd-verify";
constexpr std::string_view kDescriptorMediaType = "application/vnd.oci.descriptor.v1+json";
// The flags containerd passes, each exactly once.
constexpr std::string_view kFlagName = "-name";
constexpr std::string_view kFlagDigest = "-digest";
constexpr std::string_view kFlagMediaType = "-stdin-media-type";
// The fields of an OCI descriptor (image-spec descriptor.md; containerd writes ocispec.Descriptor).
constexpr std::string_view kDescriptorFields[] = {
    "mediaType", "digest", "size", "urls", "annotations", "data", "platform", "artifactType"};
// Past the registry deadline (kHookTimeout, 8 s), before containerd's 10 s kill.
constexpr auto kHookWatchdog = std::chrono::milliseconds(9'000);

struct HookArgs {
  std::string name;
  std::string digest;
  std::string media_type;
};

// Go's flag syntax, as containerd writes it: "-flag VALUE" (or "-flag=VALUE", "--flag VALUE").
HookArgs parse_args(const std::vector<std::string>& args) {
  HookArgs out;
  std::set<std::string_view> seen;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    std::optional<std::string> value;
    if (arg.starts_with("--")) arg.remove_prefix(1);
    if (auto eq = arg.find('='); eq != std::string_view::npos) {
      value = std::string(arg.substr(eq + 1));
      arg = arg.substr(0, eq);
    }
    std::string* slot = nullptr;
    if (arg == kFlagName) slot = &out.name;
    if (arg == kFlagDigest) slot = &out.digest;
    if (arg == kFlagMediaType) slot = &out.media_type;
    if (slot == nullptr) {
      throw UsageError("unexpected argument '" + trust::excerpt(args[i]) +
                       "' (containerd passes -name, -digest and -stdin-media-type)");
    }
    if (!seen.insert(arg).second) {
      throw UsageError(std::string(arg) + " given twice");
    }
    if (!value) {
      if (i + 1 == args.size()) throw UsageError(std::string(arg) + " needs a value");
      value = args[++i];
    }
    *slot = *value;
  }
  for (auto flag : {kFlagName, kFlagDigest, kFlagMediaType}) {
    if (!seen.contains(flag)) {
      throw UsageError("missing " + std::string(flag) +
                       " (containerd passes -name, -digest and -stdin-media-type)");
    }
  }
  return out;
}

// -name: a full registry reference, as containerd gives it. A short name ("nginx",
// "library/nginx") is refused rather than defaulted to Docker Hub: what the policy judges must be
// the repository containerd pulls from.
trust::Reference parse_name(const std::string& name) {
  const auto shown = "-name '" + trust::excerpt(name) + "'";
  const auto slash = name.find('/');
  const auto host = name.substr(0, slash);
  const bool has_host =
      slash != std::string::npos && (host.find('.') != std::string::npos ||
                                     host.find(':') != std::string::npos || host == "localhost");
  if (name.find("://") != std::string::npos || name.starts_with("oci:") ||
      name.starts_with("docker-archive:")) {
    throw UsageError(shown + ": not a registry image name");
  }
  if (!has_host) {
    throw UsageError(shown + ": no registry host (containerd names images in full, e.g. " +
                     "docker.io/library/nginx:latest; a short name is not defaulted)");
  }
  auto ref = trust::Reference::parse(name);
  if (ref.kind() != trust::ReferenceKind::kRegistry) {
    throw UsageError(shown + ": not a registry image name");
  }
  return ref;
}

// Standard input, at most limits::kMaxHookStdinBytes.
std::string read_stdin() {
  constexpr auto cap = trust::limits::kMaxHookStdinBytes;
  std::string out;
  char buf[64 * 1024];
  while (true) {
    // Never more than one byte past the cap: what the refusal reports does not depend on how
    // the pipe delivered the bytes.
    const auto n = ::read(STDIN_FILENO, buf, std::min(sizeof buf, cap + 1 - out.size()));
    if (n < 0) {
      if (errno == EINTR) continue;
      throw trust::IoError(std::string("standard input: cannot read: ") + std::strerror(errno));
    }
    if (n == 0) break;
    trust::limits::check(out.size() + static_cast<std::size_t>(n),
                         trust::limits::kMaxHookStdinBytes, "standard input (the descriptor)",
                         "bytes");
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

// The descriptor containerd wrote: one JSON object with the descriptor's fields only (no
// duplicate keys), whose digest is -digest and whose media type is a manifest's or an index's.
void check_descriptor(const std::string& text, const trust::Digest& digest) {
  const std::string what = "the descriptor on standard input";
  using Json = nlohmann::json;
  // Duplicate keys and deep nesting are refused while parsing (nlohmann keeps the last of a
  // duplicate silently).
  std::vector<std::set<std::string>> keys;
  std::string problem;
  Json::parser_callback_t strict = [&](int depth, Json::parse_event_t event, Json& parsed) {
    if (depth > trust::limits::kMaxJsonDepth) {
      if (problem.empty()) problem = "nested too deeply";
      return false;
    }
    if (event == Json::parse_event_t::object_start) keys.emplace_back();
    if (event == Json::parse_event_t::object_end && !keys.empty()) keys.pop_back();
    if (event == Json::parse_event_t::key && !keys.empty() &&
        !keys.back().insert(parsed.get<std::string>()).second && problem.empty()) {
      problem = "duplicate key '" + trust::excerpt(parsed.get<std::string>()) + "'";
    }
    return true;
  };
  Json j;
  try {
    j = Json::parse(text, strict);
  } catch (const Json::exception& e) {
    throw InputError(what + ": not JSON (" + trust::excerpt(e.what()) + ")");
  }
  if (!problem.empty()) throw InputError(what + ": " + problem);
  if (!j.is_object()) throw InputError(what + ": not a JSON object");
  for (const auto& [k, v] : j.items()) {
    if (std::find(std::begin(kDescriptorFields), std::end(kDescriptorFields), k) ==
        std::end(kDescriptorFields)) {
      throw InputError(what + ": unknown field '" + trust::excerpt(k) + "'");
    }
  }
  auto string_field = [&](const char* key) {
    auto it = j.find(key);
    if (it == j.end()) throw InputError(what + ": no " + key);
    if (!it->is_string()) throw InputError(what + ": " + key + " is not a string");
    return it->get<std::string>();
  };
  const auto media_type = string_field("mediaType");
  const auto got = trust::Digest::parse(string_field("digest"), what + " digest");
  if (auto it = j.find("size"); it == j.end() || !it->is_number_unsigned()) {
    throw InputError(what + ": size is not a non-negative integer");
  }
  if (got != digest) {
    throw InputError(what + ": digest " + got.str() + " is not -digest " + digest.str());
  }
  if (!trust::oci::is_manifest_media_type(media_type) &&
      !trust::oci::is_index_media_type(media_type)) {
    throw InputError(what + ": mediaType '" + trust::excerpt(media_type) +
                     "' is not an image manifest or index");
  }
}

// What the hook prints on stdout: whole lines, escaped, at most limits::kMaxHookReasonBytes in
// all (what containerd keeps), written once.
class Reason {
 public:
  void line(std::string_view text) { lines_.push_back(trust::printable(text)); }
  void flush() {
    std::string out;
    for (const auto& l : lines_) out += l + "\n";
    if (out.size() > trust::limits::kMaxHookReasonBytes) {
      // Cut at a character boundary, with room for the ellipsis and the final newline.
      out = trust::excerpt(out, trust::limits::kMaxHookReasonBytes - 8) + "\n";
    }
    std::lock_guard lock(mu_);
    if (done_) return;
    done_ = true;
    result_block(out);
  }
  // From the watchdog: the process is about to end whatever the main thread is doing.
  bool claim() {
    std::lock_guard lock(mu_);
    if (done_) return false;
    done_ = true;
    return true;
  }

 private:
  std::vector<std::string> lines_;
  std::mutex mu_;
  bool done_ = false;
};

// Denies (exit 1) when the hook has not answered within `after`: whatever hangs (a file system, a
// resolver the transport's deadline does not reach), containerd hears "denied" before it kills.
class Watchdog {
 public:
  Watchdog(std::chrono::milliseconds after, Reason& reason)
      : thread_([this, after, &reason] {
          std::unique_lock lock(mu_);
          if (cv_.wait_for(lock, after, [this] { return stop_; })) return;
          if (!reason.claim()) return;
          const std::string why = program_name() + " did not decide within " +
                                  std::to_string(after.count()) + " ms (fail closed)\n";
          const std::string line = "denied: " + why;
          (void)!::write(STDOUT_FILENO, line.data(), line.size());
          const std::string err = program_name() + ": error: " + why;
          (void)!::write(STDERR_FILENO, err.data(), err.size());
          ::_exit(kExitVerifyFailed);
        }) {}
  ~Watchdog() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

int run_hook(const std::vector<std::string>& args, Reason& reason) {
  const auto a = parse_args(args);
  if (a.media_type != kDescriptorMediaType) {
    throw UsageError("-stdin-media-type '" + trust::excerpt(a.media_type) + "' is not " +
                     std::string(kDescriptorMediaType));
  }
  const auto digest = trust::Digest::parse(a.digest, "-digest");
  const auto ref = parse_name(a.name);
  if (ref.digest() && *ref.digest() != digest) {
    throw UsageError("-name '" + trust::excerpt(a.name) + "' names another digest than -digest " +
                     digest.str());
  }
  check_descriptor(read_stdin(), digest);

  const auto config = node_config();
  std::optional<trust::verify::TrustPolicy> policy;
  try {
    policy = trust::verify::TrustPolicy::load(config.policy);
  } catch (const trust::Error& e) {
    // Named as the policy, whatever the error: an operator reads "the policy" first.
    throw trust::InputError("the node's policy: " + std::string(e.what()));
  }
  std::string why_not;
  auto cache = trust::verify::VerifiedDigestCache::open(config.cache_dir, *policy, {}, why_not);
  if (!cache) {
    warn(why_not);
    reason.line("warning: " + why_not);
  }
  auto transport = config.transport(trust::registry::kHookTimeout);
  transport.warn = [](std::string_view line) { warn(line); };
  const auto pinned = ref.with_digest(digest);
  LazyRegistrySource source(pinned, std::move(transport));
  const auto verdict =
      trust::check::enforce(*policy, pinned, source, {.cache = cache ? &*cache : nullptr});
  // stderr (containerd logs it): the verdict and its trace, as every policy command prints them.
  print_policy_verdict(verdict, OutputFormat::kText, /*explain=*/true, JsonStyle::kLines);
  reason.line(trust::verify::explain_lines(verdict).front());
  if (verdict.allowed && !verdict.satisfied) {
    reason.line("warning: " + verdict.cause + " (allowed: rule '" + verdict.rule + "' is in " +
                std::string(trust::verify::to_string(verdict.mode)) + " mode)");
  }
  return policy_exit_code(verdict);
}

}  // namespace

bool is_containerd_hook_call(int argc, char** argv) {
  if (argc < 2) return false;
  std::string_view first = argv[1];
  if (first.starts_with("--")) first.remove_prefix(1);
  first = first.substr(0, first.find('='));
  return first == kFlagName || first == kFlagDigest || first == kFlagMediaType;
}

void register_node_hook_commands(Program& prog) {
  // The arguments are containerd's (Go flag syntax, single dash), not CLI11's: the command takes
  // everything after its name as it is.
  auto cmd = std::make_shared<CLI::App*>(nullptr);
  *cmd = add_command(
      prog, prog.app, kCommand,
      "containerd image verifier: judge -name at -digest under the node's policy (exit 0 "
      "allows)",
      [cmd] {
        Reason reason;
        Watchdog watchdog(kHookWatchdog, reason);
        try {
          const int code = run_hook((*cmd)->remaining(), reason);
          reason.flush();
          return code;
        } catch (const std::exception& e) {
          reason.line("denied: " + std::string(e.what()));
          reason.flush();
          throw;  // run() prints it on stderr and maps it to the exit code
        }
      });
  (*cmd)->prefix_command();
  (*cmd)->footer(
      "containerd's arguments (Go flag syntax; sigil-verify called with them alone runs this "
      "command):\n"
      "  -name REF                     The image as containerd names it, in full "
      "(docker.io/library/nginx:latest): its repository selects the rule\n"
      "  -digest DIGEST                The digest containerd resolved: what is verified, never "
      "the tag\n"
      "  -stdin-media-type TYPE        application/vnd.oci.descriptor.v1+json: the image's "
      "descriptor is on stdin\n\n"
      "Reads the policy, cache, auth.json and ca.pem under $SIGIL_ROOT (default /etc/sigil) and "
      "prints the reason on stdout. Exit 0 allowed, 1 denied by the policy, 2 bad arguments, 3 "
      "not checked (unreadable policy, bad descriptor, registry error): every non-zero status "
      "denies the pull.");
}

}  // namespace sigil::cli
