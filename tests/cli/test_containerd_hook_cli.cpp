// sigil-verify as containerd 2's image verifier, called exactly as containerd's bindir verifier
// calls it, against a real registry (TLS, basic auth) with the node root in $SIGIL_ROOT: the
// policy, the keys, ca.pem, auth.json and the verified-digest cache under it.
//
// The caller below mimics containerd (github.com/containerd/containerd, v2 at 301026e5,
// pkg/imageverifier/bindir/bindir.go and processes_unix.go, plugins/imageverifier/plugin.go):
//  - every entry of bin_dir, sorted by name (os.ReadDir), at most max_verifiers (default 10), is
//    exec'd as filepath.Join(bin_dir, name) with argv "-name REF -digest DIGEST
//    -stdin-media-type application/vnd.oci.descriptor.v1+json", in a process group of its own
//    (Setpgid), with containerd's environment (cmd.Env is nil);
//  - stdin: json.NewEncoder(stdin).Encode(desc), the descriptor and "\n", then closed;
//  - stdout: the first 32 KiB (outputLimitBytes), trimmed, "(stdout truncated)" when there was
//    more; stderr: read (logged) up to 32 KiB and drained;
//  - per_verifier_timeout (default 10 s): the process group is killed (SIGKILL) and the call is
//    an error (no judgement: the pull fails); an exit status other than 0 is a rejection "verifier
//    NAME rejected image (exit code N): REASON"; 0 from all is "NAME => REASON".
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cli/cli_fixture.h"
#include "libtrust/core/digest.h"
#include "libtrust/core/limits.h"
#include "support/layout_builder.h"
#include "support/process.h"
#include "support/raw_server.h"
#include "support/registry_process.h"

extern char** environ;

namespace {

using namespace sigil::test;
using sigil::test::cli::kBin;
using sigil::test::cli::kKey;
using sigil::test::cli::kPasswordFile;
using sigil::test::cli::kPub;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr const char* kDescriptorMediaType = "application/vnd.oci.descriptor.v1+json";
constexpr std::size_t kOutputLimitBytes = 1 << 15;  // bindir.go outputLimitBytes
constexpr auto kPerVerifierTimeout = std::chrono::seconds(10);

// What one verifier process did.
struct VerifierRun {
  bool timed_out = false;
  int exit_code = -1;  // -1: killed by a signal (containerd: an error)
  std::string reason;  // stdout as containerd keeps it
  std::string stderr_text;
};

// runVerifier: exec `bin` with `args`, `stdin_data` on stdin, `env` over this process's
// environment (containerd passes its own).
VerifierRun run_verifier(const fs::path& bin, const std::vector<std::string>& args,
                         const std::string& stdin_data,
                         const std::map<std::string, std::string>& env,
                         std::chrono::milliseconds timeout = kPerVerifierTimeout) {
  int in[2], out[2], err[2];
  REQUIRE(::pipe2(in, O_CLOEXEC) == 0);
  REQUIRE(::pipe2(out, O_CLOEXEC) == 0);
  REQUIRE(::pipe2(err, O_CLOEXEC) == 0);
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string s = *e;
    if (!env.contains(s.substr(0, s.find('=')))) env_strings.push_back(s);
  }
  for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
  std::vector<std::string> argv_strings{bin.string()};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv, envp;
  for (auto& s : argv_strings) argv.push_back(s.data());
  argv.push_back(nullptr);
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);

  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::setpgid(0, 0);
    ::dup2(in[0], 0);
    ::dup2(out[1], 1);
    ::dup2(err[1], 2);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  ::setpgid(pid, pid);
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  ::fcntl(in[1], F_SETFL, O_NONBLOCK);
  ::signal(SIGPIPE, SIG_IGN);

  VerifierRun r;
  std::string stdout_all;
  std::size_t written = 0;
  int in_fd = in[1], out_fd = out[0], err_fd = err[0];
  if (stdin_data.empty()) {
    ::close(in_fd);
    in_fd = -1;
  }
  const auto deadline = Clock::now() + timeout;
  while (out_fd >= 0 || err_fd >= 0) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      r.timed_out = true;
      break;
    }
    std::vector<pollfd> fds;
    if (in_fd >= 0) fds.push_back({in_fd, POLLOUT, 0});
    if (out_fd >= 0) fds.push_back({out_fd, POLLIN, 0});
    if (err_fd >= 0) fds.push_back({err_fd, POLLIN, 0});
    if (::poll(fds.data(), fds.size(), static_cast<int>(left)) < 0) continue;
    for (const auto& p : fds) {
      if (p.revents == 0) continue;
      if (p.fd == in_fd) {
        const auto n = ::write(in_fd, stdin_data.data() + written, stdin_data.size() - written);
        if (n > 0) written += static_cast<std::size_t>(n);
        if (n < 0 || written == stdin_data.size()) {  // done, or a broken pipe (logged)
          ::close(in_fd);
          in_fd = -1;
        }
        continue;
      }
      char buf[65536];
      const auto n = ::read(p.fd, buf, sizeof buf);
      if (n <= 0) {
        ::close(p.fd);
        (p.fd == out_fd ? out_fd : err_fd) = -1;
        continue;
      }
      if (p.fd == out_fd) {
        stdout_all.append(buf, static_cast<std::size_t>(n));
      } else if (r.stderr_text.size() < kOutputLimitBytes) {
        r.stderr_text.append(
            buf, std::min(static_cast<std::size_t>(n), kOutputLimitBytes - r.stderr_text.size()));
      }
    }
  }
  if (r.timed_out) ::kill(-pid, SIGKILL);  // cmd.Cancel
  for (int fd : {in_fd, out_fd, err_fd}) {
    if (fd >= 0) ::close(fd);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  // strings.TrimSpace of the first 32 KiB, and the truncation note.
  std::string kept = stdout_all.substr(0, kOutputLimitBytes);
  const auto first = kept.find_first_not_of(" \t\r\n");
  const auto last = kept.find_last_not_of(" \t\r\n");
  r.reason = first == std::string::npos ? "" : kept.substr(first, last - first + 1);
  if (stdout_all.size() > kOutputLimitBytes) r.reason += "(stdout truncated)";
  return r;
}

struct Judgement {
  std::optional<std::string> error;  // the call failed (a timeout, a signal): the pull fails
  bool ok = false;
  std::string reason;
  std::vector<VerifierRun> runs;
};

// VerifyImage: every verifier in `bin_dir` for the image `name` at `desc`'s digest.
Judgement verify_image(const fs::path& bin_dir, const std::string& name,
                       const trust::Digest& digest, const std::string& descriptor_json,
                       const std::map<std::string, std::string>& env, int max_verifiers = 10) {
  Judgement j;
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(bin_dir)) names.push_back(e.path().filename());
  std::sort(names.begin(), names.end());
  if (names.empty()) {
    j.ok = true;
    j.reason = "no image verifier binaries found in " + bin_dir.string();
    return j;
  }
  std::string reasons;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (max_verifiers >= 0 && static_cast<int>(i) + 1 > max_verifiers) break;
    auto r = run_verifier(
        bin_dir / names[i],
        {"-name", name, "-digest", digest.str(), "-stdin-media-type", kDescriptorMediaType},
        descriptor_json + "\n", env);
    j.runs.push_back(r);
    if (r.timed_out || r.exit_code < 0) {
      j.error = "failed to call verifier " + names[i];
      return j;
    }
    if (r.exit_code != 0) {
      j.reason = "verifier " + names[i] + " rejected image (exit code " +
                 std::to_string(r.exit_code) + "): " + r.reason;
      return j;
    }
    if (i > 0) reasons += ", ";
    reasons += names[i] + " => " + r.reason;
  }
  j.ok = true;
  j.reason = reasons;
  return j;
}

// ocispec.Descriptor as Go's encoding/json writes it (field order, no spaces).
std::string descriptor(const trust::oci::Descriptor& d) {
  return R"({"mediaType":")" + d.media_type + R"(","digest":")" + d.digest.str() + R"(","size":)" +
         std::to_string(d.size) + "}";
}

std::string policy_text(const std::string& host) {
  return "version: 1\n"
         "keys:\n"
         "  release: keys/release.pub\n"
         "rules:\n"
         "  - name: team\n"
         "    match: " +
         host +
         "/team/*\n"
         "    keys: [release]\n"
         "  - name: relaxed\n"
         "    match: " +
         host +
         "/relaxed/*\n"
         "    keys: [release]\n"
         "    mode: warn\n"
         "default:\n"
         "  action: reject\n";
}

// A node: ROOT (policy, key, ca.pem, auth.json) and containerd's bin_dir holding a link to
// sigil-verify, as deploy/containerd/README.md installs it.
struct Node {
  TempDir tmp;
  fs::path root = tmp / "etc-sigil";
  fs::path bin_dir = tmp / "image-verifier-bin";
  std::map<std::string, std::string> env;

  explicit Node(const std::string& policy) {
    fs::create_directories(root / "keys");
    fs::copy_file(kPub, root / "keys/release.pub");
    write_text_file(root / "policy.yaml", policy);
    fs::create_directories(bin_dir);
    fs::create_symlink(kBin + "/sigil-verify", bin_dir / "sigil");
    // The invoking environment's docker credentials are never the node's.
    env = {{"SIGIL_ROOT", root.string()}, {"DOCKER_CONFIG", (tmp / "nowhere").string()}};
  }
  Judgement pull(const std::string& name, const trust::oci::Descriptor& d) const {
    return verify_image(bin_dir, name, d.digest, descriptor(d), env);
  }
  VerifierRun call(const std::vector<std::string>& args, const std::string& stdin_data) const {
    return run_verifier(bin_dir / "sigil", args, stdin_data, env);
  }
  std::size_t cache_entries() const {
    std::size_t n = 0;
    if (!fs::exists(root / "cache")) return 0;
    for (const auto& e : fs::directory_iterator(root / "cache")) {
      if (e.path().extension() == ".json") ++n;
    }
    return n;
  }
};

// A registry (TLS, basic auth) holding team/app:v1 (signed), team/unsigned:v1, relaxed/app:v1
// (unsigned) and the node set up for it.
struct SignedRegistry {
  RegistryProcess reg{{.tls = RegistryTls::kVerified, .auth = RegistryAuth::kBasic}};
  TempDir work;
  BuiltLayout signed_image;
  BuiltLayout unsigned_image;
  Node node{policy_text(reg.host())};

  SignedRegistry() {
    ImageSpec a;
    a.layers = {layer(2048, LayerCompression::kGzip, 41)};
    a.tag = "v1";
    signed_image = build_layout(work / "signed", {.images = {a}, .index_tag = {}});
    ImageSpec b;
    b.layers = {layer(2048, LayerCompression::kGzip, 42)};
    b.tag = "v1";
    unsigned_image = build_layout(work / "unsigned", {.images = {b}, .index_tag = {}});
    reg.write_docker_config(work / "docker");
    fs::copy_file(work / "docker/config.json", node.root / "auth.json");
    fs::copy_file(reg.ca_file(), node.root / "ca.pem");
    sigil({"copy", signed_image.reference("v1"), reg.reference("team/app:v1")});
    sigil({"copy", unsigned_image.reference("v1"), reg.reference("team/unsigned:v1")});
    sigil({"copy", unsigned_image.reference("v1"), reg.reference("relaxed/app:v1")});
    sigil({"sign", "--key", kKey, "--password-file", kPasswordFile, reg.reference("team/app:v1")});
  }
  void sigil(std::vector<std::string> args) {
    args.insert(args.begin(), kBin + "/sigil");
    args.insert(args.end() - 1, {"--ca-file", reg.ca_file().string(), "--authfile",
                                 (work / "docker/config.json").string()});
    auto r = run_process(args, {{"SIGIL_PASSWORD", kUnsetEnv}, {"COSIGN_PASSWORD", kUnsetEnv}});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
  }
  const trust::oci::Descriptor& good() const { return signed_image.images[0].manifest; }
  const trust::oci::Descriptor& bad() const { return unsigned_image.images[0].manifest; }
};

#define SKIP_WITHOUT_REGISTRY() \
  SIGIL_SKIP_UNLESS(RegistryProcess::unavailable_reason(RegistryAuth::kBasic))

}  // namespace

TEST_CASE(
    "containerd hook: a signed image is allowed at the digest containerd gives, then from "
    "the cache without the registry",
    "[containerd][registry-it][cli]") {
  SKIP_WITHOUT_REGISTRY();
  SignedRegistry r;
  const auto name = r.reg.reference("team/app:v1");
  const auto at = r.reg.reference("team/app@" + r.good().digest.str());

  auto first = r.node.pull(name, r.good());
  INFO(first.runs.back().stderr_text);
  REQUIRE_FALSE(first.error);
  CHECK(first.ok);
  CHECK(first.reason == "sigil => allowed " + at + " by rule 'team': signed by release (1 of 1)");
  CHECK(first.runs.back().exit_code == 0);
  CHECK_THAT(first.runs.back().stderr_text, Catch::Contains("  pass digest"));
  CHECK(r.node.cache_entries() == 1);

  // The next pull of the same digest is judged from the cache: the registry is not needed.
  r.reg.kill();
  auto second = r.node.pull(name, r.good());
  INFO(second.runs.back().stderr_text);
  REQUIRE_FALSE(second.error);
  CHECK(second.ok);
  CHECK(second.reason ==
        "sigil => allowed " + at + " by rule 'team' (cached): signed by release (1 of 1)");
}

TEST_CASE("containerd hook: an unsigned image is denied with sigil's reason, exit 1",
          "[containerd][registry-it][cli]") {
  SKIP_WITHOUT_REGISTRY();
  SignedRegistry r;
  const auto at = r.reg.reference("team/unsigned@" + r.bad().digest.str());
  auto j = r.node.pull(r.reg.reference("team/unsigned:v1"), r.bad());
  INFO(j.runs.back().stderr_text);
  REQUIRE_FALSE(j.error);
  CHECK_FALSE(j.ok);
  CHECK_THAT(j.reason, Catch::StartsWith("verifier sigil rejected image (exit code 1): denied " +
                                         at + " by rule 'team': "));
  CHECK_THAT(j.runs.back().stderr_text, Catch::Contains("denied " + at));
  CHECK(r.node.cache_entries() == 0);  // denials are judged again each time

  // Under a rule in warn mode the pull goes on, and the reason says why it was let through.
  const auto relaxed = r.reg.reference("relaxed/app@" + r.bad().digest.str());
  auto w = r.node.pull(r.reg.reference("relaxed/app:v1"), r.bad());
  REQUIRE_FALSE(w.error);
  CHECK(w.ok);
  CHECK_THAT(w.reason, Catch::StartsWith("sigil => warned " + relaxed + " by rule 'relaxed': "));
  CHECK_THAT(w.reason, Catch::Contains("\nwarning: ") &&
                           Catch::EndsWith("(allowed: rule 'relaxed' is in warn mode)"));
  CHECK_THAT(w.runs.back().stderr_text, Catch::Contains("sigil-verify: warning: "));
}

TEST_CASE("containerd hook: the digest is judged, never the tag in -name",
          "[containerd][registry-it][cli]") {
  SKIP_WITHOUT_REGISTRY();
  SignedRegistry r;
  // The tag moves to the unsigned image after containerd resolved it to the signed digest: the
  // signed digest is what is judged, and allowed…
  r.sigil({"copy", r.unsigned_image.reference("v1"), r.reg.reference("team/app:v1")});
  auto resolved_before = r.node.pull(r.reg.reference("team/app:v1"), r.good());
  INFO(resolved_before.runs.back().stderr_text);
  REQUIRE_FALSE(resolved_before.error);
  CHECK(resolved_before.ok);
  CHECK_THAT(resolved_before.reason,
             Catch::StartsWith("sigil => allowed " +
                               r.reg.reference("team/app@" + r.good().digest.str())));
  // …and the unsigned digest the tag names now is denied, under the same -name.
  auto now = r.node.pull(r.reg.reference("team/app:v1"), r.bad());
  REQUIRE_FALSE(now.error);
  CHECK_FALSE(now.ok);
  CHECK_THAT(now.reason, Catch::StartsWith("verifier sigil rejected image (exit code 1): denied " +
                                           r.reg.reference("team/app@" + r.bad().digest.str())));
}

TEST_CASE(
    "containerd hook: a policy replaced by an invalid one between two calls denies with the "
    "reason",
    "[containerd][registry-it][cli]") {
  SKIP_WITHOUT_REGISTRY();
  SignedRegistry r;
  const auto name = r.reg.reference("team/app:v1");
  REQUIRE(r.node.pull(name, r.good()).ok);
  write_text_file(r.node.root / "policy.yaml", policy_text(r.reg.host()) + "colour: blue\n");
  auto j = r.node.pull(name, r.good());
  REQUIRE_FALSE(j.error);
  CHECK_FALSE(j.ok);
  CHECK_THAT(j.reason, Catch::StartsWith("verifier sigil rejected image (exit code 3): denied: "
                                         "the node's policy: " +
                                         (r.node.root / "policy.yaml").string() + ":"));
  CHECK_THAT(j.reason, Catch::Contains("colour"));
  CHECK_THAT(j.runs.back().stderr_text,
             Catch::StartsWith("sigil-verify: error: the node's policy: "));

  // A policy that is not there at all denies too.
  fs::remove(r.node.root / "policy.yaml");
  auto gone = r.node.pull(name, r.good());
  CHECK_FALSE(gone.ok);
  CHECK_THAT(gone.reason, Catch::StartsWith("verifier sigil rejected image (exit code 3): denied: "
                                            "the node's policy: "));
}

TEST_CASE(
    "containerd hook: a cache directory writable by others is not used, and the hook says "
    "so",
    "[containerd][registry-it][cli]") {
  SKIP_WITHOUT_REGISTRY();
  SignedRegistry r;
  const auto cache = r.node.root / "cache";
  fs::create_directory(cache);
  ::chmod(cache.c_str(), 0777);
  auto j = r.node.pull(r.reg.reference("team/app:v1"), r.good());
  REQUIRE_FALSE(j.error);
  CHECK(j.ok);
  const auto why = cache.string() +
                   ": writable by group or others (mode 0777); the verified-digest cache is not "
                   "used";
  CHECK_THAT(j.reason, Catch::StartsWith("sigil => warning: " + why + "\nallowed "));
  CHECK_THAT(j.runs.back().stderr_text, Catch::Contains("sigil-verify: warning: " + why));
  CHECK(r.node.cache_entries() == 0);
}

TEST_CASE("containerd hook: a registry that never answers is denied before containerd's timeout",
          "[containerd][cli]") {
  RawServer silent(RawServer::silent());
  Node node(policy_text(silent.host()));
  trust::oci::Descriptor d;
  d.media_type = "application/vnd.oci.image.manifest.v1+json";
  d.digest = trust::Digest::of(trust::as_bytes(std::string("never fetched")));
  d.size = 13;
  auto j = node.pull(silent.host() + "/team/app:v1", d);
  INFO(j.runs.back().stderr_text);
  // A judgement, not containerd's timeout (which kills the hook at 10 s and fails the pull with
  // an error instead of sigil's reason): the hook answered by itself.
  REQUIRE_FALSE(j.error);
  CHECK_FALSE(j.ok);
  CHECK_THAT(j.reason, Catch::StartsWith("verifier sigil rejected image (exit code "));
  CHECK_THAT(j.reason, Catch::Contains("denied " + silent.host() + "/team/app@" + d.digest.str()));
}

TEST_CASE("containerd hook: bad calls are denied with a one-line reason and their exit code",
          "[containerd][cli]") {
  Node node(policy_text("registry.example.com"));
  const auto digest = trust::Digest::of(trust::as_bytes(std::string("x")));
  const std::string m = "application/vnd.oci.image.manifest.v1+json";
  const auto desc = R"({"mediaType":")" + m + R"(","digest":")" + digest.str() + R"(","size":3})";
  const std::vector<std::string> args{"-name",
                                      "registry.example.com/team/app:v1",
                                      "-digest",
                                      digest.str(),
                                      "-stdin-media-type",
                                      kDescriptorMediaType};
  auto denied = [&](std::vector<std::string> a, const std::string& in, int code,
                    const std::string& reason) {
    auto r = node.call(a, in);
    INFO(r.stderr_text);
    CHECK(r.exit_code == code);
    CHECK(r.reason == "denied: " + reason);
    CHECK(r.stderr_text == "sigil-verify: error: " + reason + "\n");
  };
  const std::string hint = " (containerd passes -name, -digest and -stdin-media-type)";
  SECTION("a missing argument") {
    denied({"-name", args[1], "-digest", args[3]}, desc, 2, "missing -stdin-media-type" + hint);
  }
  SECTION("an extra argument") {
    auto a = args;
    a.push_back("-verbose");
    denied(a, desc, 2, "unexpected argument '-verbose'" + hint);
  }
  SECTION("an argument given twice") {
    auto a = args;
    a.insert(a.end(), {"-name", "registry.example.com/team/other:v1"});
    denied(a, desc, 2, "-name given twice");
  }
  SECTION("a flag without its value") {
    denied({"-digest", digest.str(), "-stdin-media-type", kDescriptorMediaType, "-name"}, desc, 2,
           "-name needs a value");
  }
  SECTION("a name without a registry host") {
    for (const std::string short_name : {"nginx:latest", "library/nginx"}) {
      auto a = args;
      a[1] = short_name;
      denied(a, desc, 2,
             "-name '" + short_name +
                 "': no registry host (containerd names images in full, e.g. "
                 "docker.io/library/nginx:latest; a short name is not defaulted)");
    }
  }
  SECTION("another stdin media type") {
    auto a = args;
    a[5] = "application/json";
    denied(a, desc, 2,
           "-stdin-media-type 'application/json' is not application/vnd.oci.descriptor.v1+json");
  }
  SECTION("a descriptor whose digest is not -digest") {
    const auto other = trust::Digest::of(trust::as_bytes(std::string("y")));
    denied(args, R"({"mediaType":")" + m + R"(","digest":")" + other.str() + R"(","size":3})", 3,
           "the descriptor on standard input: digest " + other.str() + " is not -digest " +
               digest.str());
  }
  SECTION("a name pinned to another digest") {
    auto a = args;
    const auto other = trust::Digest::of(trust::as_bytes(std::string("y")));
    a[1] = "registry.example.com/team/app@" + other.str();
    denied(a, desc, 2, "-name '" + a[1] + "' names another digest than -digest " + digest.str());
  }
  SECTION("a descriptor of a layer") {
    const std::string layer = "application/vnd.oci.image.layer.v1.tar+gzip";
    denied(args, R"({"mediaType":")" + layer + R"(","digest":")" + digest.str() + R"(","size":3})",
           3,
           "the descriptor on standard input: mediaType '" + layer +
               "' is not an image manifest or index");
  }
  SECTION("a descriptor with a duplicate key or an unknown field") {
    denied(args,
           R"({"mediaType":")" + m + R"(","mediaType":")" + m + R"(","digest":")" + digest.str() +
               R"(","size":3})",
           3, "the descriptor on standard input: duplicate key 'mediaType'");
    denied(args,
           R"({"mediaType":")" + m + R"(","digest":")" + digest.str() + R"(","size":3,"colour":1})",
           3, "the descriptor on standard input: unknown field 'colour'");
  }
  SECTION("stdin over 1 MiB") {
    const std::string big(trust::limits::kMaxHookStdinBytes + 1, ' ');
    denied(args, big, 3,
           "standard input (the descriptor): " +
               std::to_string(trust::limits::kMaxHookStdinBytes + 1) +
               " bytes is over the limit of " + std::to_string(trust::limits::kMaxHookStdinBytes));
  }
  SECTION("stdin of exactly 1 MiB is read whole") {
    const auto other = trust::Digest::of(trust::as_bytes(std::string("y")));
    std::string padded =
        R"({"mediaType":")" + m + R"(","digest":")" + other.str() + R"(","size":3})";
    padded.resize(trust::limits::kMaxHookStdinBytes, ' ');
    denied(args, padded, 3,
           "the descriptor on standard input: digest " + other.str() + " is not -digest " +
               digest.str());
  }
}

TEST_CASE(
    "containerd hook: sigil-verify answers containerd's arguments with or without the "
    "command name",
    "[containerd][cli]") {
  Node node(policy_text("registry.example.com"));
  const auto digest = trust::Digest::of(trust::as_bytes(std::string("x")));
  const std::vector<std::string> bad_name{
      "-name", "nginx", "-digest", digest.str(), "-stdin-media-type", kDescriptorMediaType};
  auto linked = node.call(bad_name, "{}");
  auto named = run_verifier(kBin + "/sigil-verify",
                            {"containerd-verify", "-name", "nginx", "-digest", digest.str(),
                             "-stdin-media-type", kDescriptorMediaType},
                            "{}", node.env);
  CHECK(linked.exit_code == 2);
  CHECK(named.exit_code == 2);
  CHECK(linked.reason == named.reason);
  CHECK_THAT(linked.reason, Catch::StartsWith("denied: -name 'nginx': no registry host"));
  // -flag=value, as Go's flag package also reads it.
  auto eq = node.call({"-name=nginx", "-digest=" + digest.str(),
                       std::string("-stdin-media-type=") + kDescriptorMediaType},
                      "{}");
  CHECK(eq.reason == linked.reason);
}

TEST_CASE("containerd hook: a FIFO where the policy belongs is denied at once, not waited on",
          "[containerd][cli]") {
  // A FIFO without a writer where the policy belongs: opening it for reading would block where
  // no registry deadline reaches. read_file opens without blocking and refuses what is not a
  // regular file, so the hook denies at once (the 9 s watchdog stays a last resort).
  Node node(policy_text("registry.example.com"));
  fs::remove(node.root / "policy.yaml");
  REQUIRE(::mkfifo((node.root / "policy.yaml").c_str(), 0644) == 0);
  trust::oci::Descriptor d;
  d.media_type = "application/vnd.oci.image.manifest.v1+json";
  d.digest = trust::Digest::of(trust::as_bytes(std::string("x")));
  d.size = 1;
  auto j = node.pull("registry.example.com/team/app:v1", d);
  REQUIRE_FALSE(j.error);  // sigil answered; containerd did not have to kill it
  CHECK_FALSE(j.ok);
  CHECK_THAT(j.reason, Catch::StartsWith("verifier sigil rejected image (exit code 3): denied: "));
  CHECK_THAT(j.reason, Catch::Contains("policy.yaml: not a regular file"));
}
