// Registry auth: the WWW-Authenticate grammar, docker config.json credentials and helpers, bearer
// tokens (scope, caching, refresh tokens), and credentials kept out of messages.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

#include "libtrust/core/encoding.h"
#include "libtrust/registry/client.h"
#include "registry/auth.h"
#include "registry/registry_test_util.h"

using namespace trust;
using namespace trust::registry;
using registry_test::fast_options;
using registry_test::thrown_by;
using sigil::test::FakeRegistry;
using sigil::test::TempDir;

namespace {

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// Puts `dir` first on PATH for the life of the object.
class PathPrefix {
 public:
  explicit PathPrefix(const std::string& dir) {
    const char* old = std::getenv("PATH");
    old_ = old != nullptr ? old : "";
    ::setenv("PATH", (dir + ":" + old_).c_str(), 1);
  }
  ~PathPrefix() { ::setenv("PATH", old_.c_str(), 1); }

 private:
  std::string old_;
};

void write_helper(const TempDir& tmp, const std::string& name, const std::string& script) {
  auto path = tmp / ("docker-credential-" + name);
  sigil::test::write_text_file(path, "#!/bin/sh\n" + script);
  ::chmod(path.c_str(), 0755);
}

}  // namespace

TEST_CASE("WWW-Authenticate: quoted strings, escapes, several challenges", "[registry][auth]") {
  auto cs = detail::parse_www_authenticate(
      R"(Bearer realm="https://auth.example/token?x=1,2",service="reg \"x\"",scope="repository:a/b:pull,push", Basic realm=simple)",
      "test");
  REQUIRE(cs.size() == 2);
  CHECK(cs[0].scheme == "bearer");
  CHECK(cs[0].params.at("realm") == "https://auth.example/token?x=1,2");
  CHECK(cs[0].params.at("service") == "reg \"x\"");
  CHECK(cs[0].params.at("scope") == "repository:a/b:pull,push");
  CHECK(cs[1].scheme == "basic");
  CHECK(cs[1].params.at("realm") == "simple");
  auto t68 = detail::parse_www_authenticate("Negotiate abc+/==, BASIC Realm = \"r\"", "test");
  REQUIRE(t68.size() == 2);
  CHECK(t68[0].token68 == "abc+/==");
  CHECK(t68[1].scheme == "basic");
  CHECK(t68[1].params.at("realm") == "r");
  auto bare = detail::parse_www_authenticate("Basic", "test");
  REQUIRE(bare.size() == 1);
  CHECK(bare[0].params.empty());
}

TEST_CASE("WWW-Authenticate: malformed headers are InputErrors naming the source",
          "[registry][auth]") {
  for (const char* bad : {R"(Bearer realm="unterminated)", R"(Bearer realm="a" service="b")",
                          R"(Bearer realm="a",realm="b")", R"(Bearer realm="a", =b)"}) {
    auto t = thrown_by([&] { (void)detail::parse_www_authenticate(bad, "reg.example/lab/x"); });
    CHECK(t.code == ErrorCode::kInput);
    CHECK(contains(t.message, "reg.example/lab/x: malformed WWW-Authenticate header"));
  }
}

TEST_CASE("docker config keys are normalised like docker's", "[registry][auth]") {
  CHECK(detail::normalize_registry_key("https://index.docker.io/v1/") == "docker.io");
  CHECK(detail::normalize_registry_key("registry-1.docker.io") == "docker.io");
  CHECK(detail::normalize_registry_key("http://Reg.Example:5000/v2/") == "reg.example:5000");
  CHECK(detail::normalize_registry_key("reg.example") == "reg.example");
  CHECK(detail::helper_server_url("docker.io") == "https://index.docker.io/v1/");
  CHECK(detail::helper_server_url("reg.example:5000") == "reg.example:5000");
}

TEST_CASE("bearer tokens: right scope, Basic to the token endpoint, cached per scope",
          "[registry][auth]") {
  FakeRegistry reg;
  TempDir tmp;
  reg.require_bearer("bob", "t0ken-pass");
  auto img = sigil::test::push_test_image(reg, "lab/hello", "v1");
  sigil::test::write_text_file(tmp / "config.json",
                               R"({"auths":{"https://)" + reg.host() + R"(":{"auth":")" +
                                   base64_encode(as_bytes("bob:t0ken-pass")) + R"("}}})");
  auto opts = fast_options(reg, tmp);
  opts.docker_config = tmp / "config.json";
  Client client(opts);
  Repository repo{reg.host(), "lab/hello"};
  REQUIRE(client.get_manifest_by_tag(repo, "v1"));
  oci::Descriptor by_digest;
  by_digest.digest = img.digest;
  (void)client.get_manifest(repo, by_digest);
  auto toks = reg.token_requests();
  REQUIRE(toks.size() == 1);  // the second request reused the token
  CHECK(toks[0].scopes == std::vector<std::string>{"repository:lab/hello:pull"});
  CHECK(toks[0].service == "fake-registry");
  CHECK(toks[0].account == "bob");
  CHECK(toks[0].had_authorization);
  // Push asks for pull,push; a mount adds pull on the source repository.
  const std::string data = "blob";
  client.put_blob({reg.host(), "lab/new"}, as_bytes(data), Digest::of(as_bytes(data)));
  (void)client.mount_blob({reg.host(), "lab/third"}, Digest::of(as_bytes(data)),
                          {reg.host(), "lab/new"});
  toks = reg.token_requests();
  bool saw_push = false, saw_mount = false;
  for (const auto& t : toks) {
    if (t.scopes == std::vector<std::string>{"repository:lab/new:pull,push"}) saw_push = true;
    if (t.scopes ==
        std::vector<std::string>{"repository:lab/third:pull,push", "repository:lab/new:pull"}) {
      saw_mount = true;
    }
  }
  CHECK(saw_push);
  CHECK(saw_mount);
  CHECK(client.stats().token_requests == toks.size());
}

TEST_CASE("access_token and expires_in are honoured: anonymous tokens work", "[registry][auth]") {
  FakeRegistry reg;
  TempDir tmp;
  reg.require_bearer("", "", 1);  // anonymous tokens, expiring at once (1 s, minus margin)
  reg.set_token_field("access_token");
  sigil::test::push_test_image(reg, "lab/hello", "v1");
  Client client(fast_options(reg, tmp));
  Repository repo{reg.host(), "lab/hello"};
  REQUIRE(client.get_manifest_by_tag(repo, "v1"));
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));  // past the 1 s lifetime
  REQUIRE(client.get_manifest_by_tag(repo, "v1"));
  auto toks = reg.token_requests();
  REQUIRE(toks.size() == 2);  // the expired token was replaced
  CHECK_FALSE(toks[0].had_authorization);
  CHECK(toks[0].account.empty());
}

TEST_CASE("a token lifetime is clamped: near INT64_MAX it neither overflows nor expires at once",
          "[registry][auth]") {
  // Under UBSan the unclamped lifetime was a signed overflow; in a release build it wrapped into
  // the past and every request fetched a token. Unusable values mean the default (60 s).
  const std::string raw =
      GENERATE(as<std::string>{}, "9223372036854775807", "18446744073709551615",
               "99999999999999999999999", "1e300", "-9223372036854775808", "0", "\"300\"", "null");
  FakeRegistry reg;
  TempDir tmp;
  reg.require_bearer();
  reg.set_token_expires_in_json(raw);
  sigil::test::push_test_image(reg, "lab/hello", "v1");
  Client client(fast_options(reg, tmp));
  Repository repo{reg.host(), "lab/hello"};
  for (int i = 0; i < 5; ++i) REQUIRE(client.get_manifest_by_tag(repo, "v1"));
  INFO("expires_in " << raw);
  CHECK(reg.token_requests().size() == 1);
}

TEST_CASE("401 after a fresh token is a clear RegistryError without secrets", "[registry][auth]") {
  FakeRegistry reg;
  TempDir tmp;
  reg.require_bearer("bob", "n0-leak-pass");
  reg.reject_tokens(true);
  sigil::test::write_text_file(
      tmp / "config.json",
      R"({"auths":{")" + reg.host() + R"(":{"username":"bob","password":"n0-leak-pass"}}})");
  auto opts = fast_options(reg, tmp);
  opts.docker_config = tmp / "config.json";
  Client client(opts);
  auto t = thrown_by([&] { (void)client.get_manifest_by_tag({reg.host(), "lab/hello"}, "v1"); });
  CHECK(t.code == ErrorCode::kRegistry);
  CHECK(contains(t.message, reg.host() + "/lab/hello:v1"));
  CHECK(contains(t.message,
                 "authentication failed (401) for repository lab/hello after obtaining a token"));
  CHECK_FALSE(contains(t.message, "n0-leak-pass"));
  CHECK_FALSE(contains(t.message, "tok-"));
  CHECK(reg.token_requests().size() == 1);
}

TEST_CASE("wrong credentials at the token server and at a Basic registry", "[registry][auth]") {
  FakeRegistry reg;
  TempDir tmp;
  reg.require_bearer("bob", "right");
  sigil::test::write_text_file(
      tmp / "config.json",
      R"({"auths":{")" + reg.host() + R"(":{"username":"bob","password":"wr0ng-pass"}}})");
  auto opts = fast_options(reg, tmp);
  opts.docker_config = tmp / "config.json";
  {
    Client client(opts);
    auto t = thrown_by([&] { client.ping(reg.host()); });
    CHECK(t.code == ErrorCode::kRegistry);
    CHECK(contains(t.message, "refused the credentials configured for " + reg.host()));
    CHECK_FALSE(contains(t.message, "wr0ng-pass"));
  }
  FakeRegistry basic;
  basic.require_basic("bob", "right");
  auto bopts = fast_options(basic, tmp);
  {
    Client anonymous(bopts);
    auto t = thrown_by([&] { anonymous.ping(basic.host()); });
    CHECK(t.code == ErrorCode::kRegistry);
    CHECK(contains(t.message, "no credentials are configured for " + basic.host()));
  }
  sigil::test::write_text_file(
      tmp / "basic.json",
      R"({"auths":{")" + basic.host() + R"(":{"username":"bob","password":"wr0ng-pass"}}})");
  bopts.docker_config = tmp / "basic.json";
  Client wrong(bopts);
  auto t = thrown_by([&] { wrong.ping(basic.host()); });
  CHECK(t.code == ErrorCode::kRegistry);
  CHECK(contains(t.message, "authentication failed (401)"));
  CHECK_FALSE(contains(t.message, "wr0ng-pass"));
}

TEST_CASE("credential helpers: credHelpers per registry, credsStore, identity tokens",
          "[registry][auth]") {
  FakeRegistry reg;
  TempDir tmp;
  reg.require_bearer("carol", "helper-pass", 300, "refresh-123");
  sigil::test::push_test_image(reg, "lab/hello", "v1");
  // The helper answers only for our registry and checks the server URL it was given.
  write_helper(tmp, "sigiltest",
               "read url\nif [ \"$url\" = \"" + reg.host() +
                   "\" ]; then echo '{\"Username\":\"carol\",\"Secret\":\"helper-pass\"}'; "
                   "else echo 'credentials not found in native keychain'; exit 1; fi\n");
  write_helper(tmp, "sigiltoken",
               "read url\necho '{\"Username\":\"<token>\",\"Secret\":\"refresh-123\"}'\n");
  PathPrefix path(tmp.path().string());
  auto opts = fast_options(reg, tmp);

  sigil::test::write_text_file(tmp / "helpers.json",
                               R"({"credHelpers":{")" + reg.host() + R"(":"sigiltest"}})");
  opts.docker_config = tmp / "helpers.json";
  {
    Client client(opts);
    REQUIRE(client.get_manifest_by_tag({reg.host(), "lab/hello"}, "v1"));
    CHECK(reg.token_requests().back().account == "carol");
  }
  sigil::test::write_text_file(tmp / "store.json", R"({"credsStore":"sigiltoken"})");
  opts.docker_config = tmp / "store.json";
  {
    Client client(opts);
    REQUIRE(client.get_manifest_by_tag({reg.host(), "lab/hello"}, "v1"));
    auto last = reg.token_requests().back();
    CHECK(last.method == "POST");
    CHECK(last.grant_type == "refresh_token");
    CHECK(last.scopes == std::vector<std::string>{"repository:lab/hello:pull"});
  }
  sigil::test::write_text_file(tmp / "missing.json", R"({"credsStore":"nosuchhelper"})");
  opts.docker_config = tmp / "missing.json";
  {
    Client client(opts);
    auto t = thrown_by([&] { client.ping(reg.host()); });
    CHECK(t.code == ErrorCode::kRegistry);
    CHECK(contains(t.message, "docker-credential-nosuchhelper"));
  }
}

TEST_CASE("a malformed docker config is an InputError naming the file", "[registry][auth]") {
  FakeRegistry reg;
  TempDir tmp;
  reg.require_basic("a", "b");
  sigil::test::write_text_file(tmp / "config.json", R"({"auths":{"x":{"auth":"%%%"}}})");
  auto opts = fast_options(reg, tmp);
  opts.docker_config = tmp / "config.json";
  Client client(opts);
  auto t = thrown_by([&] { client.ping(reg.host()); });
  CHECK(t.code == ErrorCode::kInput);
  CHECK(contains(t.message, (tmp / "config.json").string()));
  CHECK(contains(t.message, "'auth' is not valid base64"));
}
