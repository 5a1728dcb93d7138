// The registry fixture itself, checked with curl (not with the client under test): each mode
// starts, answers as distribution 2.8 does, and leaves nothing running.

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "support/process.h"
#include "support/registry_process.h"

namespace {

using sigil::test::RegistryAuth;
using sigil::test::RegistryOptions;
using sigil::test::RegistryProcess;
using sigil::test::RegistryTls;
using sigil::test::run_process;
using sigil::test::RunResult;

constexpr const char* kCurl = "/usr/bin/curl";

// Skipped (reported so by ctest, failed in CI) without the registry or curl.
#define SKIP_WITHOUT_REGISTRY(auth)                             \
  SIGIL_SKIP_UNLESS(RegistryProcess::unavailable_reason(auth)); \
  SIGIL_SKIP_UNLESS(sigil::test::missing_program(kCurl))

// curl -s -o /dev/null -w '%{http_code}' ARGS… ; "000" when no HTTP answer came.
std::string http_code(std::vector<std::string> args) {
  std::vector<std::string> argv = {kCurl, "-s",           "-o",         "/dev/null",
                                   "-w",  "%{http_code}", "--max-time", "10"};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_process(argv).out;
}

RunResult curl(std::vector<std::string> args) {
  std::vector<std::string> argv = {kCurl, "-sS", "--max-time", "10"};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_process(argv);
}

}  // namespace

TEST_CASE("registry fixture: plain HTTP registry answers /v2/ and stops with its fixture",
          "[registry-it]") {
  SKIP_WITHOUT_REGISTRY(RegistryAuth::kNone);
  std::string url;
  {
    RegistryProcess reg;
    url = reg.url();
    CHECK(url.rfind("http://127.0.0.1:", 0) == 0);
    CHECK(reg.running());
    CHECK(http_code({url + "/v2/"}) == "200");
  }
  // The destructor stopped it: nothing answers on that port any more.
  CHECK(http_code({url + "/v2/"}) == "000");
}

TEST_CASE("registry fixture: kill makes the registry vanish and restart brings back its storage",
          "[registry-it]") {
  SKIP_WITHOUT_REGISTRY(RegistryAuth::kNone);
  RegistryProcess reg;
  // A monolithic blob upload with curl, then the registry goes away and comes back.
  auto post = curl({"-i", "-X", "POST", reg.url() + "/v2/lab/fixture/blobs/uploads/"});
  auto loc_at = post.out.find("Location: ");
  REQUIRE(loc_at != std::string::npos);
  auto loc = post.out.substr(loc_at + 10, post.out.find('\r', loc_at) - loc_at - 10);
  // sha256("hello\n")
  const std::string digest =
      "sha256:5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03";
  std::string put_url = loc + (loc.find('?') == std::string::npos ? "?" : "&") + "digest=" + digest;
  if (put_url.rfind("http", 0) != 0) put_url = reg.url() + put_url;
  REQUIRE(http_code({"-X", "PUT", "-H", "Content-Type: application/octet-stream", "--data-binary",
                     "hello\n", put_url}) == "201");

  reg.kill();
  CHECK_FALSE(reg.running());
  CHECK(http_code({reg.url() + "/v2/"}) == "000");

  reg.restart();
  CHECK(reg.running());
  CHECK(http_code({"-I", reg.url() + "/v2/lab/fixture/blobs/" + digest}) == "200");
}

TEST_CASE("registry fixture: TLS certificate chains to the per-run CA for 127.0.0.1",
          "[registry-it]") {
  SKIP_WITHOUT_REGISTRY(RegistryAuth::kNone);
  RegistryProcess reg({.tls = RegistryTls::kVerified});
  CHECK(reg.url().rfind("https://127.0.0.1:", 0) == 0);
  CHECK(http_code({"--cacert", reg.ca_file().string(), reg.url() + "/v2/"}) == "200");
  CHECK(http_code({"--cacert", reg.ca_file().string(),
                   "https://localhost:" + std::to_string(reg.port()) + "/v2/"}) == "200");
  // Not trusted without the CA, nor with another one.
  CHECK(http_code({reg.url() + "/v2/"}) == "000");
  CHECK(http_code({"--cacert", reg.unrelated_ca_file().string(), reg.url() + "/v2/"}) == "000");
}

TEST_CASE("registry fixture: the wrong-host certificate fails host name verification only",
          "[registry-it]") {
  SKIP_WITHOUT_REGISTRY(RegistryAuth::kNone);
  RegistryProcess reg({.tls = RegistryTls::kWrongHostName});
  auto r = curl({"--cacert", reg.ca_file().string(), reg.url() + "/v2/"});
  CHECK(r.exit_code == 60);  // CURLE_PEER_FAILED_VERIFICATION
  CHECK_THAT(r.err, Catch::Contains("127.0.0.1"));
  // The chain itself is fine: with host name checks off curl connects.
  CHECK(http_code({"--cacert", reg.ca_file().string(), "--resolve",
                   "wrong-host.invalid:" + std::to_string(reg.port()) + ":127.0.0.1",
                   "https://wrong-host.invalid:" + std::to_string(reg.port()) + "/v2/"}) == "200");
}

TEST_CASE("registry fixture: htpasswd basic auth accepts the fixture's credentials only",
          "[registry-it]") {
  SKIP_WITHOUT_REGISTRY(RegistryAuth::kBasic);
  RegistryProcess reg({.tls = RegistryTls::kVerified, .auth = RegistryAuth::kBasic});
  const std::string ca = reg.ca_file().string();
  auto anon = curl({"-i", "--cacert", ca, reg.url() + "/v2/"});
  CHECK_THAT(anon.out, Catch::Contains(" 401") &&
                           Catch::Contains("www-authenticate: basic", Catch::CaseSensitive::No));
  CHECK(http_code({"--cacert", ca, "-u", reg.user() + ":" + reg.password(), reg.url() + "/v2/"}) ==
        "200");
  CHECK(http_code({"--cacert", ca, "-u", reg.user() + ":wrong", reg.url() + "/v2/"}) == "401");

  sigil::test::TempDir tmp;
  auto config = reg.write_docker_config(tmp.path());
  auto parsed = nlohmann::json::parse(sigil::test::read_text_file(config));
  // base64("sigil-it:Pw-7f3Kq-never-printed")
  CHECK(parsed["auths"][reg.host()]["auth"] == "c2lnaWwtaXQ6UHctN2YzS3EtbmV2ZXItcHJpbnRlZA==");
}

TEST_CASE("registry fixture: token server issues JWTs distribution 2.8 accepts for the scope",
          "[registry-it]") {
  SKIP_WITHOUT_REGISTRY(RegistryAuth::kToken);
  RegistryProcess reg({.tls = RegistryTls::kVerified, .auth = RegistryAuth::kToken});
  const std::string ca = reg.ca_file().string();
  auto challenge = curl({"-i", "--cacert", ca, reg.url() + "/v2/lab/tok/tags/list"});
  CHECK_THAT(challenge.out, Catch::Contains("401"));
  CHECK_THAT(challenge.out, Catch::Contains("Bearer realm=\"" + reg.token_realm() + "\""));
  CHECK_THAT(challenge.out, Catch::Contains("scope=\"repository:lab/tok:pull\""));

  auto get_token = [&](const std::string& scope, const std::string& password) {
    return curl({"--cacert", ca, "-u", reg.user() + ":" + password, "-G", "--data-urlencode",
                 "service=sigil-test-registry", "--data-urlencode", "scope=" + scope,
                 reg.token_realm()});
  };
  auto tok = get_token("repository:lab/tok:pull,push", reg.password());
  REQUIRE(tok.exit_code == 0);
  auto token = nlohmann::json::parse(tok.out).at("token").get<std::string>();
  // Authorized (the repository does not exist yet: NAME_UNKNOWN, not 401).
  CHECK(http_code({"--cacert", ca, "-H", "Authorization: Bearer " + token,
                   reg.url() + "/v2/lab/tok/tags/list"}) == "404");
  // Push scope works too: an upload session can be opened.
  CHECK(http_code({"--cacert", ca, "-X", "POST", "-H", "Authorization: Bearer " + token,
                   reg.url() + "/v2/lab/tok/blobs/uploads/"}) == "202");
  // A token for another repository does not open this one.
  auto other = nlohmann::json::parse(get_token("repository:lab/other:pull", reg.password()).out);
  CHECK(http_code({"--cacert", ca, "-H",
                   "Authorization: Bearer " + other.at("token").get<std::string>(),
                   reg.url() + "/v2/lab/tok/tags/list"}) == "401");
  // Wrong credentials: no token.
  CHECK(get_token("repository:lab/tok:pull", "wrong").out.find("\"token\"") == std::string::npos);

  auto log = reg.token_request_log();
  REQUIRE(log.size() == 3);
  CHECK(log[0].scopes == std::vector<std::string>{"repository:lab/tok:pull,push"});
  CHECK(log[0].user == reg.user());
  CHECK(log[0].status == 200);
  CHECK(log[2].status == 401);
  CHECK(reg.token_requests() == 3);
}
