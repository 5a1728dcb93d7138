// Registry credentials as podman, skopeo and docker users have them: the files read and their
// order (containers-auth.json(5)), --authfile / REGISTRY_AUTH_FILE, and login / logout writing
// them (checked against the fake registry first).
#include <sys/stat.h>

#include <catch2/catch.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "core/json_util.h"
#include "libtrust/core/encoding.h"
#include "libtrust/registry/client.h"
#include "libtrust/registry/credentials.h"
#include "registry/auth.h"
#include "registry/registry_test_util.h"
#include "support/scoped_env.h"

using namespace trust;
using namespace trust::registry;
using registry_test::fast_options;
using registry_test::thrown_by;
using sigil::test::code_of;
using sigil::test::FakeRegistry;
using sigil::test::read_text_file;
using sigil::test::ScopedEnv;
using sigil::test::TempDir;
using sigil::test::write_text_file;
namespace fs = std::filesystem;

namespace {

// Every variable that decides where credentials are, pointed into one temporary directory
// (HOME=T/home, XDG_RUNTIME_DIR=T/run, XDG_CONFIG_HOME=T/config, DOCKER_CONFIG unset,
// REGISTRY_AUTH_FILE unset), so no test reads the real user's files.
struct CredentialEnv {
  TempDir tmp;
  ScopedEnv home{"HOME", (tmp / "home").string()};
  ScopedEnv runtime{"XDG_RUNTIME_DIR", (tmp / "run").string()};
  ScopedEnv config{"XDG_CONFIG_HOME", (tmp / "config").string()};
  ScopedEnv docker{"DOCKER_CONFIG", std::nullopt};
  ScopedEnv authfile{"REGISTRY_AUTH_FILE", std::nullopt};

  fs::path runtime_auth() const { return tmp / "run" / "containers" / "auth.json"; }
  fs::path config_auth() const { return tmp / "config" / "containers" / "auth.json"; }
  fs::path docker_config() const { return tmp / "home" / ".docker" / "config.json"; }
};

std::vector<fs::path> paths_of(const TransportOptions& o) {
  std::vector<fs::path> out;
  for (const auto& f : registry::detail::credential_files(o)) out.push_back(f.path);
  return out;
}

std::string auth_field(const std::string& user, const std::string& password) {
  return base64_encode(as_bytes(user + ":" + password));
}

// {"auths":{KEY:{"auth":base64(USER:PASSWORD)}}} at `path` (directories created).
void write_auths(const fs::path& path, const std::string& key, const std::string& user,
                 const std::string& password = "pw") {
  fs::create_directories(path.parent_path());
  write_text_file(
      path, R"({"auths":{")" + key + R"(":{"auth":")" + auth_field(user, password) + R"("}}})");
}

std::string user_for(registry::detail::CredentialStore& store, const std::string& registry) {
  const auto* c = store.lookup(registry);
  return c == nullptr ? "<none>" : c->username;
}

// Options for `reg` that read credentials where the environment says (no docker_config).
TransportOptions default_files(const FakeRegistry& reg, const TempDir& tmp) {
  auto o = fast_options(reg, tmp);
  o.docker_config.reset();
  return o;
}

// The user name in the Basic Authorization header of the last request that carried one.
std::string last_basic_user(const FakeRegistry& reg) {
  std::string user = "<none>";
  for (const auto& r : reg.requests()) {
    if (r.authorization.rfind("Basic ", 0) != 0) continue;
    auto decoded = base64_decode(r.authorization.substr(6), "test");
    auto text = std::string(decoded.begin(), decoded.end());
    user = text.substr(0, text.find(':'));
  }
  return user;
}

unsigned mode_of(const fs::path& p) {
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return st.st_mode & 0777;
}

// A docker-credential-NAME script in `dir` that logs "VERB <stdin>" lines to dir/NAME.log.
void write_logging_helper(const TempDir& dir, const std::string& name) {
  auto path = dir / ("docker-credential-" + name);
  write_text_file(path,
                  "#!/bin/sh\necho \"$1 $(cat)\" >> '" + (dir / (name + ".log")).string() + "'\n");
  ::chmod(path.c_str(), 0755);
}

class PathPrefix {
 public:
  explicit PathPrefix(const std::string& dir)
      : path_("PATH", dir + ":" + (std::getenv("PATH") ? std::getenv("PATH") : "")) {}

 private:
  ScopedEnv path_;
};

}  // namespace

TEST_CASE("credential files: the order containers-auth.json(5) documents, named files alone",
          "[registry][credentials]") {
  CredentialEnv env;
  TransportOptions o;
  CHECK(paths_of(o) ==
        std::vector<fs::path>{env.runtime_auth(), env.config_auth(), env.docker_config()});
  {
    ScopedEnv docker("DOCKER_CONFIG", (env.tmp / "dc").string());
    CHECK(paths_of(o).back() == env.tmp / "dc" / "config.json");
  }
  {
    ScopedEnv no_runtime("XDG_RUNTIME_DIR", std::nullopt);
    ScopedEnv no_config("XDG_CONFIG_HOME", std::nullopt);
    CHECK(paths_of(o) ==
          std::vector<fs::path>{"/run/containers/" + std::to_string(::getuid()) + "/auth.json",
                                env.tmp / "home" / ".config" / "containers" / "auth.json",
                                env.docker_config()});
  }
  {
    ScopedEnv authfile("REGISTRY_AUTH_FILE", (env.tmp / "ci.json").string());
    CHECK(paths_of(o) == std::vector<fs::path>{env.tmp / "ci.json"});
    o.auth_file = env.tmp / "flag.json";  // --authfile wins over the variable
    CHECK(paths_of(o) == std::vector<fs::path>{env.tmp / "flag.json"});
    o.docker_config = env.tmp / "docker.json";
    CHECK(paths_of(o) == std::vector<fs::path>{env.tmp / "flag.json", env.tmp / "docker.json"});
  }
  TransportOptions only_docker;
  only_docker.docker_config = env.tmp / "docker.json";
  CHECK(paths_of(only_docker) == std::vector<fs::path>{env.tmp / "docker.json"});
  // login writes where lookups look first: the named auth file, else the docker config.
  CHECK(registry::detail::login_file(TransportOptions{}) == env.docker_config());
  CHECK(registry::detail::login_file(only_docker) == env.tmp / "docker.json");
  ScopedEnv authfile("REGISTRY_AUTH_FILE", (env.tmp / "ci.json").string());
  CHECK(registry::detail::login_file(only_docker) == env.tmp / "ci.json");
}

TEST_CASE("credential lookup: the first file that has the registry wins, later files wait",
          "[registry][credentials]") {
  CredentialEnv env;
  write_auths(env.runtime_auth(), "reg.example:5000", "from-runtime");
  fs::create_directories(env.config_auth().parent_path());
  write_text_file(env.config_auth(), R"({"auths":{"reg.example:5000":{"auth":")" +
                                         auth_field("from-config", "x") +
                                         R"("},"second.example":{"auth":")" +
                                         auth_field("config-second", "x") + R"("}}})");
  write_auths(env.docker_config(), "https://third.example/v1/", "docker-third");
  registry::detail::CredentialStore store{TransportOptions{}};
  CHECK(user_for(store, "reg.example:5000") == "from-runtime");
  CHECK(user_for(store, "second.example") == "config-second");
  CHECK(user_for(store, "third.example") == "docker-third");
  CHECK(user_for(store, "nobody.example") == "<none>");

  // A broken later file is read (and refused) only when an earlier one lacks the registry.
  write_text_file(env.docker_config(), "{not json");
  registry::detail::CredentialStore again{TransportOptions{}};
  CHECK(user_for(again, "reg.example:5000") == "from-runtime");
  auto t = thrown_by([&] { (void)again.lookup("nobody.example"); });
  CHECK(t.code == ErrorCode::kInput);
  CHECK(t.message == env.docker_config().string() + ": credential file is not valid JSON");
}

TEST_CASE("credential lookup: --authfile and REGISTRY_AUTH_FILE are read alone and must exist",
          "[registry][credentials]") {
  CredentialEnv env;
  write_auths(env.runtime_auth(), "reg.example", "from-runtime");
  write_auths(env.docker_config(), "reg.example", "from-docker");
  write_auths(env.tmp / "ci.json", "other.example", "from-ci");
  TransportOptions o;
  o.auth_file = env.tmp / "ci.json";
  registry::detail::CredentialStore store{o};
  CHECK(user_for(store, "other.example") == "from-ci");
  CHECK(user_for(store, "reg.example") == "<none>");  // the defaults are not read

  o.auth_file = env.tmp / "missing.json";
  auto t = thrown_by([&] { Client client(o); });
  CHECK(t.code == ErrorCode::kUsage);
  CHECK(t.message == "--authfile " + (env.tmp / "missing.json").string() + ": no such file");
  ScopedEnv var("REGISTRY_AUTH_FILE", (env.tmp / "gone.json").string());
  t = thrown_by([&] { Client client{TransportOptions{}}; });
  CHECK(t.code == ErrorCode::kUsage);
  CHECK(t.message == "REGISTRY_AUTH_FILE=" + (env.tmp / "gone.json").string() + ": no such file");
  ScopedEnv var2("REGISTRY_AUTH_FILE", (env.tmp / "ci.json").string());
  registry::detail::CredentialStore from_var{TransportOptions{}};
  CHECK(user_for(from_var, "other.example") == "from-ci");
  CHECK(user_for(from_var, "reg.example") == "<none>");
}

TEST_CASE("credential files: credHelpers in auth.json, and namespace keys are not registry keys",
          "[registry][credentials]") {
  CredentialEnv env;
  auto helper = env.tmp / "docker-credential-sigilns";
  write_text_file(helper,
                  "#!/bin/sh\nread url\necho '{\"Username\":\"helper-user\",\"Secret\":\"s\"}'\n");
  ::chmod(helper.c_str(), 0755);
  PathPrefix path(env.tmp.path().string());
  fs::create_directories(env.runtime_auth().parent_path());
  write_text_file(
      env.runtime_auth(),
      R"({"credHelpers":{"helped.example":"sigilns"},"auths":{"quay.example/org/app":{"auth":")" +
          auth_field("namespace-user", "x") + R"("}}})");
  write_auths(env.docker_config(), "quay.example", "registry-user");
  registry::detail::CredentialStore store{TransportOptions{}};
  CHECK(user_for(store, "helped.example") == "helper-user");
  // The namespace entry is for one repository; the registry's own entry comes from later.
  CHECK(user_for(store, "quay.example") == "registry-user");
}

TEST_CASE("a registry client takes its credentials from $XDG_RUNTIME_DIR/containers/auth.json",
          "[registry][credentials]") {
  CredentialEnv env;
  FakeRegistry reg;
  reg.require_basic("podman-user", "podman-pass");
  write_auths(env.runtime_auth(), reg.host(), "podman-user", "podman-pass");
  write_auths(env.docker_config(), reg.host(), "docker-user", "docker-pass");
  Client client(default_files(reg, env.tmp));
  client.ping(reg.host());
  CHECK(last_basic_user(reg) == "podman-user");
  // --authfile instead: only that file.
  write_auths(env.tmp / "ci.json", reg.host(), "ci-user", "podman-pass");
  auto o = default_files(reg, env.tmp);
  o.auth_file = env.tmp / "ci.json";
  Client ci(o);
  auto t = thrown_by([&] { ci.ping(reg.host()); });
  CHECK(t.code == ErrorCode::kRegistry);
  CHECK(last_basic_user(reg) == "ci-user");
}

TEST_CASE("credential lookup: an in-memory docker config comes first, and only its auths count",
          "[registry][credentials]") {
  CredentialEnv env;
  write_auths(env.tmp / "mounted.json", "reg.example", "from-file");
  write_auths(env.tmp / "mounted.json", "other.example", "other-from-file");
  auto helper = env.tmp / "docker-credential-sigilsecret";
  write_text_file(helper, "#!/bin/sh\ntouch '" + (env.tmp / "ran").string() +
                              "'\necho '{\"Username\":\"helper-user\",\"Secret\":\"s\"}'\n");
  ::chmod(helper.c_str(), 0755);
  PathPrefix path(env.tmp.path().string());
  TransportOptions o;
  o.auth_file = env.tmp / "mounted.json";
  o.docker_config_json = {
      std::make_shared<const SecretBytes>(SecretBytes::from_string(
          R"({"auths":{"reg.example":{"auth":")" + auth_field("from-secret", "pw") +
          R"("}},"credHelpers":{"helped.example":"sigilsecret"},"credsStore":"sigilsecret"})")),
      std::make_shared<const SecretBytes>(SecretBytes::from_string(
          R"({"auths":{"reg.example":{"auth":")" + auth_field("second-secret", "pw") +
          R"("},"third.example":{"auth":")" + auth_field("third-from-second", "pw") + R"("}}})"))};
  registry::detail::CredentialStore store{o};
  // In order: the first that has the registry wins.
  CHECK(user_for(store, "reg.example") == "from-secret");
  CHECK(user_for(store, "third.example") == "third-from-second");
  CHECK(user_for(store, "other.example") == "other-from-file");
  // A Secret's author does not choose a program for the server to run.
  CHECK(user_for(store, "helped.example") == "<none>");
  CHECK_FALSE(fs::exists(env.tmp / "ran"));

  // A malformed one is refused by name, never quoted.
  TransportOptions bad;
  bad.docker_config_json = {std::make_shared<const SecretBytes>(SecretBytes::from_string(
      R"({"auths":{"reg.example":{"auth":"c2VjcmV0LXdpdGhvdXQtY29sb24="}}})"))};
  registry::detail::CredentialStore broken{bad};
  auto t = thrown_by([&] { (void)broken.lookup("reg.example"); });
  CHECK(t.code == ErrorCode::kInput);
  CHECK(t.message ==
        "in-memory docker config 1: auths entry 'reg.example': 'auth' is not user:password");
}

TEST_CASE("login checks the credentials with the registry, then writes the docker config 0600",
          "[registry][credentials]") {
  CredentialEnv env;
  FakeRegistry reg;
  reg.require_basic("alice", "Right-pass-1");
  fs::create_directories(env.docker_config().parent_path());
  // Everything else in the file survives, in its order; the old spelling of the entry goes.
  write_text_file(env.docker_config(),
                  R"({"auths":{"other.example:1":{"auth":")" + auth_field("o", "p") +
                      R"("},"https://)" + reg.host() + R"(/v2/":{"auth":")" +
                      auth_field("alice", "old") +
                      R"("}},"credHelpers":{"gcr.io":"gcloud"},"psFormat":"table {{.ID}}"})");
  const auto before = read_text_file(env.docker_config());

  auto t = thrown_by([&] {
    login(reg.host(), "alice", SecretBytes::from_string("Wr0ng-pass"), default_files(reg, env.tmp));
  });
  CHECK(t.code == ErrorCode::kRegistry);
  CHECK(t.message.rfind("login " + reg.host() + ": ", 0) == 0);
  CHECK(t.message.find("authentication failed (401)") != std::string::npos);
  CHECK(t.message.find("Wr0ng-pass") == std::string::npos);
  CHECK(read_text_file(env.docker_config()) == before);  // nothing written
  // The check uses the credentials given, alone: right ones in another file do not help.
  write_auths(env.runtime_auth(), reg.host(), "alice", "Right-pass-1");
  CHECK(code_of([&] {
          login(reg.host(), "alice", SecretBytes::from_string("Wr0ng-pass"),
                default_files(reg, env.tmp));
        }) == ErrorCode::kRegistry);
  CHECK(read_text_file(env.docker_config()) == before);
  fs::remove(env.runtime_auth());

  auto written = login(reg.host(), "alice", SecretBytes::from_string("Right-pass-1"),
                       default_files(reg, env.tmp));
  CHECK(written == env.docker_config());
  CHECK(mode_of(written) == 0600);
  auto j = nlohmann::ordered_json::parse(read_text_file(written));
  std::vector<std::string> top;
  for (auto it = j.begin(); it != j.end(); ++it) top.push_back(it.key());
  CHECK(top == std::vector<std::string>{"auths", "credHelpers", "psFormat"});
  CHECK(j["psFormat"] == "table {{.ID}}");
  CHECK(j["credHelpers"] == nlohmann::ordered_json{{"gcr.io", "gcloud"}});
  CHECK(j["auths"].size() == 2);
  CHECK(j["auths"]["other.example:1"]["auth"] == auth_field("o", "p"));
  CHECK(j["auths"][reg.host()] ==
        nlohmann::ordered_json{{"auth", auth_field("alice", "Right-pass-1")}});
  // A new client finds them.
  reg.clear_requests();
  Client client(default_files(reg, env.tmp));
  client.ping(reg.host());
  CHECK(last_basic_user(reg) == "alice");
}

TEST_CASE("login through a token server, to --authfile and to REGISTRY_AUTH_FILE, new files 0600",
          "[registry][credentials]") {
  CredentialEnv env;
  FakeRegistry reg;
  reg.require_bearer("bob", "Token-pass-2");
  auto o = default_files(reg, env.tmp);
  CHECK(code_of([&] { login(reg.host(), "bob", SecretBytes::from_string("nope"), o); }) ==
        ErrorCode::kRegistry);
  CHECK_FALSE(fs::exists(env.docker_config()));
  auto path = login(reg.host(), "bob", SecretBytes::from_string("Token-pass-2"), o);
  CHECK(path == env.docker_config());
  CHECK(mode_of(path) == 0600);
  CHECK(mode_of(path.parent_path()) == 0700);
  CHECK(reg.token_requests().back().account == "bob");

  o.auth_file = env.tmp / "podman" / "auth.json";
  CHECK(login(reg.host(), "bob", SecretBytes::from_string("Token-pass-2"), o) == *o.auth_file);
  auto j = nlohmann::json::parse(read_text_file(*o.auth_file));
  CHECK(j["auths"][reg.host()]["auth"] == auth_field("bob", "Token-pass-2"));
  o.auth_file.reset();
  ScopedEnv var("REGISTRY_AUTH_FILE", (env.tmp / "ci.json").string());
  CHECK(login(reg.host(), "bob", SecretBytes::from_string("Token-pass-2"), o) ==
        env.tmp / "ci.json");
  CHECK(mode_of(env.tmp / "ci.json") == 0600);

  for (const char* bad : {"", "host/path", "https://host", "a b"}) {
    CHECK(code_of([&] { login(bad, "bob", SecretBytes::from_string("x"), o); }) ==
          ErrorCode::kUsage);
  }
  CHECK(code_of([&] { login(reg.host(), "a:b", SecretBytes::from_string("x"), o); }) ==
        ErrorCode::kUsage);
}

TEST_CASE("logout removes every spelling of the registry and keeps the rest",
          "[registry][credentials]") {
  CredentialEnv env;
  fs::create_directories(env.docker_config().parent_path());
  write_text_file(env.docker_config(),
                  R"({"auths":{"reg.example:5000":{"auth":"YTpi"},"https://reg.example:5000/v1/":)"
                  R"({"auth":"YTpi"},"keep.example":{"auth":"YTpi"}},"currentContext":"x"})");
  CHECK(logout("reg.example:5000", TransportOptions{}));
  auto j = nlohmann::ordered_json::parse(read_text_file(env.docker_config()));
  CHECK(j == nlohmann::ordered_json::parse(
                 R"({"auths":{"keep.example":{"auth":"YTpi"}},"currentContext":"x"})"));
  CHECK(mode_of(env.docker_config()) == 0600);
  CHECK_FALSE(logout("reg.example:5000", TransportOptions{}));
  fs::remove(env.docker_config());
  CHECK_FALSE(logout("reg.example:5000", TransportOptions{}));
  CHECK_FALSE(fs::exists(env.docker_config()));
}

TEST_CASE("login and logout go through the credential helper the config names for the registry",
          "[registry][credentials]") {
  CredentialEnv env;
  FakeRegistry reg;
  reg.require_basic("carol", "Helper-pass-3");
  write_logging_helper(env.tmp, "sigillog");
  PathPrefix path(env.tmp.path().string());
  fs::create_directories(env.docker_config().parent_path());
  write_text_file(env.docker_config(), R"({"credHelpers":{")" + reg.host() + R"(":"sigillog"}})");
  const auto before = read_text_file(env.docker_config());
  CHECK(login(reg.host(), "carol", SecretBytes::from_string("Helper-pass-3"),
              default_files(reg, env.tmp)) == env.docker_config());
  CHECK(read_text_file(env.docker_config()) == before);
  CHECK(logout(reg.host(), default_files(reg, env.tmp)));
  CHECK(read_text_file(env.tmp / "sigillog.log") ==
        "store {\"ServerURL\":\"" + reg.host() +
            "\",\"Username\":\"carol\",\"Secret\":\"Helper-pass-3\"}\n"
            "erase " +
            reg.host() + "\n");
}

TEST_CASE("login into a symlinked docker config writes where the link points",
          "[registry][credentials]") {
  CredentialEnv env;
  FakeRegistry reg;
  fs::create_directories(env.docker_config().parent_path());
  write_text_file(env.tmp / "dotfiles-config.json", R"({"detachKeys":"ctrl-x"})");
  fs::create_symlink(env.tmp / "dotfiles-config.json", env.docker_config());
  login(reg.host(), "dave", SecretBytes::from_string("pw"), default_files(reg, env.tmp));
  CHECK(fs::is_symlink(env.docker_config()));
  auto j = nlohmann::json::parse(read_text_file(env.tmp / "dotfiles-config.json"));
  CHECK(j["detachKeys"] == "ctrl-x");
  CHECK(j["auths"][reg.host()]["auth"] == auth_field("dave", "pw"));
}
