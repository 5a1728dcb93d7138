// sigil-verify docker-authz with a real Docker Engine (Debian's dockerd 20.10, started by the
// test with everything under a temp dir) pulling from the real registry: what the user sees at
// `docker pull` and `docker run`. The images are built here: a root file system holding one
// static program (tests/docker/hello_static.cpp), imported, pushed by dockerd itself, and signed
// with `sigil sign`. The registry speaks TLS from the per-run CA: sigil trusts it through the
// node root's ca.pem, dockerd takes 127.0.0.1 as an insecure registry (its default).
#include <catch2/catch.hpp>

#include <httplib.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <regex>
#include <string>
#include <thread>

#include "support/dockerd_process.h"
#include "support/process.h"
#include "support/registry_process.h"
#include "support/skip.h"

namespace fs = std::filesystem;

namespace sigil::test {
namespace {

const std::string kBin = SIGIL_BIN_DIR;
const std::string kData = SIGIL_TEST_DATA;
const std::string kKey = kData + "/keys/test-ecdsa-p256.key";
const std::string kPub = kData + "/keys/test-ecdsa-p256.pub";
const std::string kPasswordFile = kData + "/keys/test-passphrase.txt";
constexpr const char* kHelloOutput = "hello from a sigil test image";

std::optional<std::string> unavailable() {
  if (auto why = DockerdProcess::unavailable_reason()) return why;
  if (auto why = RegistryProcess::unavailable_reason()) return why;
  std::error_code ec;
  fs::create_directories("/run/docker/plugins", ec);
  if (ec) return "cannot create /run/docker/plugins: " + ec.message();
  return std::nullopt;
}

// A root file system with the static program as /hello and `marker` in /marker (so that two
// images differ), as a tar for `docker import`.
fs::path rootfs_tar(const fs::path& dir, const std::string& marker) {
  auto root = dir / ("rootfs-" + marker);
  fs::create_directories(root);
  fs::copy_file(SIGIL_TEST_HELLO, root / "hello");
  fs::permissions(root / "hello", fs::perms::owner_all | fs::perms::group_read |
                                      fs::perms::group_exec | fs::perms::others_read |
                                      fs::perms::others_exec);
  write_text_file(root / "marker", marker + "\n");
  auto tar = dir / (marker + ".tar");
  auto r = run_process({"/usr/bin/tar", "-C", root.string(), "-cf", tar.string(), "."});
  REQUIRE(r.exit_code == 0);
  return tar;
}

// The digest `docker push` reports ("TAG: digest: sha256:… size: N").
std::string pushed_digest(const RunResult& r) {
  std::smatch m;
  static const std::regex re("digest: (sha256:[0-9a-f]{64})");
  REQUIRE(std::regex_search(r.out, m, re));
  return m[1];
}

std::string unique_plugin_name() {
  static std::atomic<int> n{0};
  return "sigil-test-" + std::to_string(::getpid()) + "-" + std::to_string(n++);
}

// The images every test starts from, in `reg`: lab/app:v1 (signed), lab/app:next and
// lab/unsigned:v1 (the same unsigned image), pushed by a daemon without the plugin, which then
// forgets them.
struct Images {
  std::string app;  // 127.0.0.1:PORT/lab/app
  std::string signed_digest;
  std::string unsigned_digest;
};

Images push_test_images(RegistryProcess& reg, DockerdProcess& dockerd, const TempDir& tmp) {
  Images im;
  im.app = reg.reference("lab/app");
  const auto signed_tar = rootfs_tar(tmp.path(), "signed");
  const auto unsigned_tar = rootfs_tar(tmp.path(), "unsigned");
  dockerd.start();
  auto import = [&](const fs::path& tar, const std::string& ref) {
    auto r = dockerd.docker({"import", tar.string(), ref});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
  };
  auto push = [&](const std::string& ref) {
    auto r = dockerd.docker({"push", ref});
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
    return pushed_digest(r);
  };
  import(signed_tar, im.app + ":v1");
  im.signed_digest = push(im.app + ":v1");
  import(unsigned_tar, im.app + ":next");
  im.unsigned_digest = push(im.app + ":next");
  REQUIRE(dockerd.docker({"tag", im.app + ":next", reg.reference("lab/unsigned:v1")}).exit_code ==
          0);
  push(reg.reference("lab/unsigned:v1"));
  for (auto ref : {im.app + ":v1", im.app + ":next", reg.reference("lab/unsigned:v1")}) {
    REQUIRE(dockerd.docker({"rmi", ref}).exit_code == 0);
  }
  dockerd.stop();
  auto sign = run_process({kBin + "/sigil", "sign", "--key", kKey, "--password-file", kPasswordFile,
                           "--ca-file", reg.ca_file().string(), im.app + "@" + im.signed_digest},
                          {{"SIGIL_PASSWORD", kUnsetEnv}, {"COSIGN_PASSWORD", kUnsetEnv}});
  INFO(sign.err);
  REQUIRE(sign.exit_code == 0);
  return im;
}

// The node root: the policy (lab/** signed by the test key; docker.io/local/** accepted), the
// key, the registry's CA; the cache directory is made by the plugin.
void write_policy(const fs::path& root, const RegistryProcess& reg) {
  fs::create_directories(root / "keys");
  fs::copy_file(kPub, root / "keys" / "release.pub", fs::copy_options::overwrite_existing);
  fs::copy_file(reg.ca_file(), root / "ca.pem", fs::copy_options::overwrite_existing);
  write_text_file(root / "policy.yaml",
                  "version: 1\n"
                  "keys:\n"
                  "  release: keys/release.pub\n"
                  "rules:\n"
                  "  - name: lab\n"
                  "    match: " +
                      reg.host() +
                      "/lab/**\n"
                      "    keys: [release]\n"
                      "  - name: local\n"
                      "    match: docker.io/local/**\n"
                      "    action: accept\n");
}

// sigil-verify docker-authz on /run/docker/plugins/NAME.sock for `dockerd`, reading `root`.
struct PluginProcess {
  std::string name = unique_plugin_name();
  fs::path socket = fs::path("/run/docker/plugins") / (name + ".sock");
  BackgroundProcess process;

  PluginProcess(const fs::path& root, const DockerdProcess& dockerd, const fs::path& log)
      : process({kBin + "/sigil-verify", "docker-authz", "--socket", socket.string(),
                 "--docker-host", dockerd.host()},
                {"SIGIL_ROOT=" + root.string(), "PATH=/usr/bin:/bin"}, log) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    std::error_code ec;
    while (!fs::exists(socket, ec) && std::chrono::steady_clock::now() < deadline) {
      if (!process.running()) FAIL("sigil-verify docker-authz exited:\n" << process.log());
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    REQUIRE(fs::exists(socket, ec));
    // Only root (the daemon) may talk to it.
    CHECK((fs::symlink_status(socket).permissions() & fs::perms::mask) ==
          (fs::perms::owner_read | fs::perms::owner_write));
  }
  ~PluginProcess() {
    process.stop();
    std::error_code ec;
    fs::remove(socket, ec);  // normally removed by the plugin itself
  }
};

std::string denial_prefix(const PluginProcess& plugin) {
  return "authorization denied by plugin " + plugin.name + ": ";
}

}  // namespace

TEST_CASE(
    "docker authz with a real dockerd: signed images pull and run while unsigned ones are "
    "refused at pull and at run with sigil's reason",
    "[docker-it]") {
  SIGIL_SKIP_UNLESS(unavailable());
  RegistryProcess reg({.tls = RegistryTls::kVerified});
  TempDir tmp;
  DockerdProcess dockerd(tmp / "dockerd");
  const Images im = push_test_images(reg, dockerd, tmp);
  write_policy(tmp / "root", reg);
  PluginProcess plugin(tmp / "root", dockerd, tmp / "plugin.log");
  dockerd.start(plugin.name);
  INFO("plugin log:\n" << plugin.process.log());

  // A signed image: pulled, and run.
  auto pull = dockerd.docker({"pull", im.app + ":v1"});
  INFO(pull.out << pull.err);
  CHECK(pull.exit_code == 0);
  auto run = dockerd.docker({"run", "--rm", "--network", "none", im.app + ":v1", "/hello"});
  INFO(run.err);
  CHECK(run.exit_code == 0);
  CHECK(run.out == std::string(kHelloOutput) + "\n");

  // An unsigned image: refused at the pull, with sigil's reason on the user's terminal.
  const auto unsigned_ref = reg.reference("lab/unsigned:v1");
  auto refused = dockerd.docker({"pull", unsigned_ref});
  CHECK(refused.exit_code != 0);
  CHECK(refused.err.find(denial_prefix(plugin)) != std::string::npos);
  CHECK(refused.err.find("lab/unsigned") != std::string::npos);
  // `docker run` of it: the creation passes (no such image), the pull it makes is refused.
  auto run_unsigned = dockerd.docker({"run", "--rm", "--network", "none", unsigned_ref, "/hello"});
  CHECK(run_unsigned.exit_code != 0);
  CHECK(run_unsigned.err.find(denial_prefix(plugin)) != std::string::npos);
  CHECK(run_unsigned.out.find(kHelloOutput) == std::string::npos);

  // Built locally (no repo digest): refused under a rule that verifies, run where one accepts.
  const auto unsigned_tar = tmp / "unsigned.tar";
  REQUIRE(
      dockerd.docker({"import", unsigned_tar.string(), reg.reference("lab/built:dev")}).exit_code ==
      0);
  auto built = dockerd.docker(
      {"run", "--rm", "--network", "none", reg.reference("lab/built:dev"), "/hello"});
  CHECK(built.exit_code != 0);
  CHECK(built.err.find(denial_prefix(plugin)) != std::string::npos);
  CHECK(built.err.find("no repo digest in " + reg.host() + "/lab/built") != std::string::npos);
  REQUIRE(dockerd.docker({"import", unsigned_tar.string(), "local/tool:dev"}).exit_code == 0);
  auto local = dockerd.docker({"run", "--rm", "--network", "none", "local/tool:dev", "/hello"});
  INFO(local.err);
  CHECK(local.exit_code == 0);
  CHECK(local.out == std::string(kHelloOutput) + "\n");

  // The tag moves to the unsigned digest without the plugin seeing a pull: the daemon is
  // restarted without it, pulls lab/app:next (unsigned), tags it lab/app:v1 and pushes that (the
  // registry's tag moves too). Back under the plugin, `docker run lab/app:v1` is judged by the
  // repo digest the daemon has for it now, whatever was verified at the earlier pull.
  dockerd.stop();
  dockerd.start();
  REQUIRE(dockerd.docker({"pull", im.app + ":next"}).exit_code == 0);
  REQUIRE(dockerd.docker({"tag", im.app + ":next", im.app + ":v1"}).exit_code == 0);
  REQUIRE(dockerd.docker({"push", im.app + ":v1"}).exit_code == 0);
  dockerd.stop();
  dockerd.start(plugin.name);
  auto moved = dockerd.docker({"run", "--rm", "--network", "none", im.app + ":v1", "/hello"});
  CHECK(moved.exit_code != 0);
  CHECK(moved.err.find(denial_prefix(plugin)) != std::string::npos);
  CHECK(moved.err.find(im.unsigned_digest.substr(7, 12)) != std::string::npos);
  CHECK(moved.out.find(kHelloOutput) == std::string::npos);
  // The signed image is still there by its digest, and runs.
  auto by_digest = dockerd.docker(
      {"run", "--rm", "--network", "none", im.app + "@" + im.signed_digest, "/hello"});
  INFO(by_digest.err);
  CHECK(by_digest.exit_code == 0);
  CHECK(by_digest.out == std::string(kHelloOutput) + "\n");
}

TEST_CASE(
    "docker authz with a real dockerd: malformed requests and bodies the daemon does not "
    "pass on and a replaced policy are denied with the reason",
    "[docker-it]") {
  SIGIL_SKIP_UNLESS(unavailable());
  RegistryProcess reg({.tls = RegistryTls::kVerified});
  TempDir tmp;
  DockerdProcess dockerd(tmp / "dockerd");
  const Images im = push_test_images(reg, dockerd, tmp);
  write_policy(tmp / "root", reg);
  PluginProcess plugin(tmp / "root", dockerd, tmp / "plugin.log");
  dockerd.start(plugin.name);
  INFO("plugin log:\n" << plugin.process.log());

  // The plugin itself, asked with a body that is no AuthZ request: denied, the reason in Msg and
  // Err.
  {
    httplib::Client cli(plugin.socket.string(), 80);
    cli.set_address_family(AF_UNIX);
    auto res = cli.Post("/AuthZPlugin.AuthZReq", "{\"RequestMethod\":", "application/json");
    REQUIRE(res);
    CHECK(res->status == 200);
    CHECK(res->body.find("\"Allow\":false") != std::string::npos);
    CHECK(res->body.find("\"Err\":\"the AuthZ request") != std::string::npos);
    auto activate = cli.Post("/Plugin.Activate", "", "application/json");
    REQUIRE(activate);
    CHECK(activate->body == R"({"Implements":["authz"]})");
  }
  REQUIRE(dockerd.docker({"pull", im.app + ":v1"}).exit_code == 0);
  // The daemon may answer before it has read a body: a write after that must not end the test.
  struct IgnorePipe {
    void (*old)(int) = ::signal(SIGPIPE, SIG_IGN);
    ~IgnorePipe() { ::signal(SIGPIPE, old); }
  } ignore_pipe;
  httplib::Client api(dockerd.socket().string(), 80);
  api.set_address_family(AF_UNIX);
  api.set_default_headers({{"Host", "localhost"}});
  api.set_read_timeout(60, 0);
  // A create body that is not JSON: denied by sigil (the daemon would refuse it too, later).
  auto garbage = api.Post("/v1.41/containers/create", "{\"Image\": nope", "application/json");
  REQUIRE(garbage);
  CHECK(garbage->status == 403);
  CHECK(garbage->body.find(denial_prefix(plugin) + "the container create body") !=
        std::string::npos);
  // A body over 1 MiB: dockerd does not pass it to the plugin (it logs "skipping body"), but
  // would create the container from it. Denied, since nothing can be judged: chunked, and with
  // a Content-Length.
  const std::string big = "{\"Image\":\"" + im.app +
                          ":v1\",\"Cmd\":[\"/hello\"],\"Labels\":{\"pad\":\"" +
                          std::string(1100 << 10, 'x') + "\"}}";
  auto chunked = api.Post(
      "/v1.41/containers/create",
      [&](std::size_t offset, httplib::DataSink& sink) {
        if (offset == 0) sink.write(big.data(), big.size());
        sink.done();
        return true;
      },
      "application/json");
  REQUIRE(chunked);
  CHECK(chunked->status == 403);
  CHECK(chunked->body.find(
            denial_prefix(plugin) +
            "sigil cannot check a container creation whose body the daemon did not pass on") !=
        std::string::npos);
  // With a Content-Length, the daemon answers before reading the body and hangs up on the rest:
  // the client may see the 403 or only the closed connection. Either way nothing was created.
  auto sized = api.Post("/v1.41/containers/create", big, "application/json");
  if (sized) {
    CHECK(sized->status == 403);
    CHECK(sized->body.find("whose body the daemon did not pass on") != std::string::npos);
  }
  auto containers = dockerd.docker({"ps", "-aq"});
  CHECK(containers.exit_code == 0);
  CHECK(containers.out.empty());
  // A small chunked body is passed on (Debian's 20.10.24+dfsg1-1+deb12u1 has the CVE-2024-41110
  // fix; before it, none was) and judged: an image built here has no repo digest.
  REQUIRE(
      dockerd.docker({"import", (tmp / "unsigned.tar").string(), reg.reference("lab/built:dev")})
          .exit_code == 0);
  const std::string small =
      "{\"Image\":\"" + reg.reference("lab/built:dev") + "\",\"Cmd\":[\"/hello\"]}";
  auto small_chunked = api.Post(
      "/v1.41/containers/create",
      [&](std::size_t offset, httplib::DataSink& sink) {
        if (offset == 0) sink.write(small.data(), small.size());
        sink.done();
        return true;
      },
      "application/json");
  REQUIRE(small_chunked);
  CHECK(small_chunked->status == 403);
  CHECK(small_chunked->body.find(denial_prefix(plugin)) != std::string::npos);

  // The policy replaced by an invalid one: every check denied with its error, until it is fixed.
  const auto policy = tmp / "root" / "policy.yaml";
  const std::string good = read_text_file(policy);
  write_text_file(policy, good + "surprise: 1\n");
  auto broken = dockerd.docker({"pull", im.app + ":v1"});
  CHECK(broken.exit_code != 0);
  CHECK(broken.err.find(denial_prefix(plugin)) != std::string::npos);
  CHECK(broken.err.find(policy.string()) != std::string::npos);
  CHECK(broken.err.find("surprise") != std::string::npos);
  write_text_file(policy, good);
  auto fixed = dockerd.docker({"pull", im.app + ":v1"});
  INFO(fixed.err);
  CHECK(fixed.exit_code == 0);
}

}  // namespace sigil::test
