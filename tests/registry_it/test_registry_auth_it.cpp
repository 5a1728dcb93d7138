// Authentication against a real distribution 2.8: htpasswd basic auth with credentials from a
// docker config.json, and bearer tokens from a token server (tokens cached per scope).
// Credentials never appear in messages.

#include <map>

#include "libtrust/core/digest.h"
#include "registry_it/registry_it_util.h"

namespace {

using namespace sigil::test;
using namespace sigil::test::it;
using trust::ErrorCode;
using trust::registry::Client;

// What must never show up in a message: the password, and user:password in base64.
void check_no_secret(const std::string& message, const RegistryProcess& reg) {
  CHECK_THAT(message, !Catch::Contains(reg.password()));
  CHECK_THAT(message, !Catch::Contains("c2lnaWwtaXQ6UHctN2YzS3EtbmV2ZXItcHJpbnRlZA"));
}

}  // namespace

TEST_CASE("registry-it: basic auth with config.json credentials pushes and pulls over TLS",
          "[registry-it]") {
  SIGIL_SKIP_WITHOUT_REGISTRY(RegistryAuth::kBasic);
  RegistryProcess reg({.tls = RegistryTls::kVerified, .auth = RegistryAuth::kBasic});
  TempDir tmp;
  Client client(client_options(reg, reg.write_docker_config(tmp / "docker")));
  auto repo = repo_of(reg, "lab/basic");
  auto image = make_image(tmp, 11);
  client.ping(reg.host());
  auto pushed = push_image(client, repo, image, "v1");
  CHECK(pushed.digest == image.manifest.digest);
  auto fetched = client.get_manifest_by_tag(repo, "v1");
  REQUIRE(fetched);
  CHECK(fetched->bytes == image.manifest_bytes);
  CHECK(client.get_blob(repo, image.layers[0].descriptor, 1u << 20) == image.layers[0].blob);
  CHECK(client.stats().token_requests == 0);
}

TEST_CASE(
    "registry-it: basic auth with wrong credentials fails naming the reference and not the "
    "password",
    "[registry-it]") {
  SIGIL_SKIP_WITHOUT_REGISTRY(RegistryAuth::kBasic);
  RegistryProcess reg({.tls = RegistryTls::kVerified, .auth = RegistryAuth::kBasic});
  TempDir tmp;
  auto repo = repo_of(reg, "lab/basic");

  SECTION("wrong password") {
    Client client(
        client_options(reg, reg.write_docker_config(tmp / "docker", reg.user(), "not-it-7Hq")));
    auto err = thrown_by([&] { client.get_manifest_by_tag(repo, "v1"); });
    CHECK(err.code == ErrorCode::kRegistry);
    CHECK(trust::exit_code_for(err.code) == 3);
    CHECK_THAT(err.message, Catch::Contains(repo.str()));
    CHECK_THAT(err.message, !Catch::Contains("not-it-7Hq"));
    check_no_secret(err.message, reg);
  }
  SECTION("no credentials at all") {
    Client client(client_options(reg, no_docker_config(tmp)));
    auto err = thrown_by([&] { client.get_manifest_by_tag(repo, "v1"); });
    CHECK(err.code == ErrorCode::kRegistry);
    CHECK_THAT(err.message, Catch::Contains(repo.str()));
    CHECK_THAT(err.message, Catch::Contains("credentials"));
  }
  SECTION("credentials for another registry are not sent here") {
    // A config.json whose only entry is for another host: anonymous here, refused.
    auto other = tmp / "other";
    std::filesystem::create_directories(other);
    write_text_file(other / "config.json",
                    R"({"auths":{"127.0.0.2:5000":{"auth":")" +
                        std::string("c2lnaWwtaXQ6UHctN2YzS3EtbmV2ZXItcHJpbnRlZA==") + R"("}}})");
    Client client(client_options(reg, other / "config.json"));
    auto err = thrown_by([&] { client.get_manifest_by_tag(repo, "v1"); });
    CHECK(err.code == ErrorCode::kRegistry);
    check_no_secret(err.message, reg);
  }
}

TEST_CASE("registry-it: token auth pushes and pulls with one token per scope", "[registry-it]") {
  SIGIL_SKIP_WITHOUT_REGISTRY(RegistryAuth::kToken);
  RegistryProcess reg({.tls = RegistryTls::kVerified, .auth = RegistryAuth::kToken});
  TempDir tmp;
  auto opts = client_options(reg, reg.write_docker_config(tmp / "docker"));
  auto repo = repo_of(reg, "lab/token");
  auto image = make_image(tmp, 12);
  {
    Client client(opts);
    auto pushed = push_image(client, repo, image, "v1");
    CHECK(pushed.digest == image.manifest.digest);
    for (int i = 0; i < 3; ++i) {
      auto fetched = client.get_manifest_by_tag(repo, "v1");
      REQUIRE(fetched);
      CHECK(fetched->bytes == image.manifest_bytes);
      CHECK(client.get_blob(repo, image.config, 1u << 20) == image.config_bytes);
    }
    // Each scope was asked for once in this command, whatever the number of requests.
    auto log = reg.token_request_log();
    std::map<std::string, int> per_scope;
    for (const auto& r : log) {
      CHECK(r.status == 200);
      CHECK(r.user == reg.user());
      CHECK(r.service == "sigil-test-registry");
      std::string key;
      for (const auto& s : r.scopes) key += s + " ";
      ++per_scope[key];
    }
    for (const auto& [scope, n] : per_scope) {
      INFO("scope " << scope);
      CHECK(n == 1);
    }
    CHECK(log.size() <= 2);  // pull, and pull+push
    CHECK(client.stats().token_requests == log.size());
    CHECK(client.stats().requests > 3 * log.size());
  }

  SECTION("a pull-only command asks for one pull token") {
    reg.reset_token_requests();
    Client client(opts);
    auto fetched = client.get_manifest_by_tag(repo, "v1");
    REQUIRE(fetched);
    CHECK(client.get_blob(repo, image.layers[0].descriptor, 1u << 20) == image.layers[0].blob);
    CHECK(client.head_manifest(repo, "v1"));
    auto log = reg.token_request_log();
    REQUIRE(log.size() == 1);
    CHECK(log[0].scopes == std::vector<std::string>{"repository:lab/token:pull"});
    CHECK(client.stats().token_requests == 1);
  }
  SECTION("a mount asks for push on the target and pull on the source") {
    reg.reset_token_requests();
    Client client(opts);
    auto to = repo_of(reg, "team/token-copy");
    CHECK(client.mount_blob(to, image.layers[0].descriptor.digest, repo));
    CHECK(client.blob_exists(to, image.layers[0].descriptor.digest));
    bool saw_both = false;
    for (const auto& r : reg.token_request_log()) {
      std::string all;
      for (const auto& s : r.scopes) all += s + " ";
      if (all.find("repository:team/token-copy:") != std::string::npos &&
          all.find("push") != std::string::npos &&
          all.find("repository:lab/token:pull") != std::string::npos) {
        saw_both = true;
      }
    }
    CHECK(saw_both);
  }
  SECTION("another repository needs its own token") {
    reg.reset_token_requests();
    Client client(opts);
    CHECK(client.get_manifest_by_tag(repo, "v1"));
    CHECK_FALSE(client.get_manifest_by_tag(repo_of(reg, "lab/other"), "v1"));
    CHECK(reg.token_requests() == 2);
    CHECK(client.stats().token_requests == 2);
  }
}

TEST_CASE(
    "registry-it: token auth with wrong credentials fails naming the reference and not the "
    "password",
    "[registry-it]") {
  SIGIL_SKIP_WITHOUT_REGISTRY(RegistryAuth::kToken);
  RegistryProcess reg({.tls = RegistryTls::kVerified, .auth = RegistryAuth::kToken});
  TempDir tmp;
  auto repo = repo_of(reg, "lab/token");
  Client client(
      client_options(reg, reg.write_docker_config(tmp / "docker", reg.user(), "not-it-7Hq")));
  auto err = thrown_by([&] { client.get_manifest_by_tag(repo, "v1"); });
  CHECK(err.code == ErrorCode::kRegistry);
  CHECK(trust::exit_code_for(err.code) == 3);
  CHECK_THAT(err.message, Catch::Contains(repo.str()));
  CHECK_THAT(err.message, !Catch::Contains("not-it-7Hq"));
  check_no_secret(err.message, reg);
  // The token server was asked, refused, and not asked again and again.
  CHECK(reg.token_requests() >= 1);
  CHECK(reg.token_requests() <= 2);
  for (const auto& r : reg.token_request_log()) CHECK(r.status == 401);
}
