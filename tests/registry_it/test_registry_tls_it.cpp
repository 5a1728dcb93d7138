// Transport security against a real distribution 2.8: TLS with a per-run CA given as ca_file,
// unknown CA and wrong host name refused with clear messages, and plain HTTP only for hosts
// marked insecure (with a warning).

#include "registry_it/registry_it_util.h"

namespace {

using namespace sigil::test;
using namespace sigil::test::it;
using trust::ErrorCode;
using trust::registry::Client;

}  // namespace

TEST_CASE("registry-it: TLS with the per-run CA as ca_file pushes and pulls", "[registry-it]") {
  SIGIL_SKIP_WITHOUT_REGISTRY(RegistryAuth::kNone);
  RegistryProcess reg({.tls = RegistryTls::kVerified});
  TempDir tmp;
  auto opts = client_options(reg, no_docker_config(tmp));
  REQUIRE(opts.ca_file);
  REQUIRE(opts.insecure_registries.empty());
  std::string warned;
  opts.warn = [&warned](std::string_view line) { warned += std::string(line) + "\n"; };
  Client client(opts);
  auto repo = repo_of(reg, "lab/tls");
  auto image = make_image(tmp, 20);
  client.ping(reg.host());
  push_image(client, repo, image, "v1");
  auto fetched = client.get_manifest_by_tag(repo, "v1");
  REQUIRE(fetched);
  CHECK(fetched->descriptor.digest == image.manifest.digest);
  // Verified TLS: no insecure warning.
  CHECK(warned.empty());
}

TEST_CASE("registry-it: TLS without the CA fails naming the host and the certificate",
          "[registry-it]") {
  SIGIL_SKIP_WITHOUT_REGISTRY(RegistryAuth::kNone);
  RegistryProcess reg({.tls = RegistryTls::kVerified});
  TempDir tmp;
  auto opts = client_options(reg, no_docker_config(tmp));
  auto repo = repo_of(reg, "lab/tls");

  SECTION("no ca_file: the system store does not know the per-run CA") {
    opts.ca_file.reset();
  }
  SECTION("a ca_file with another CA") {
    opts.ca_file = reg.unrelated_ca_file();
  }

  Client client(opts);
  auto err = thrown_by([&] { client.get_manifest_by_tag(repo, "v1"); });
  CHECK(err.code == ErrorCode::kRegistry);
  CHECK_THAT(err.message, Catch::Contains(reg.host()));
  CHECK_THAT(err.message, Catch::Contains("certificate", Catch::CaseSensitive::No));
  // A TLS failure is not retried over and over.
  CHECK(client.stats().requests <= 1);
}

TEST_CASE("registry-it: a certificate for another host name is refused", "[registry-it]") {
  SIGIL_SKIP_WITHOUT_REGISTRY(RegistryAuth::kNone);
  RegistryProcess reg({.tls = RegistryTls::kWrongHostName});
  TempDir tmp;
  Client client(client_options(reg, no_docker_config(tmp)));  // the right CA
  auto repo = repo_of(reg, "lab/tls");
  auto err = thrown_by([&] { client.get_manifest_by_tag(repo, "v1"); });
  CHECK(err.code == ErrorCode::kRegistry);
  CHECK_THAT(err.message, Catch::Contains(reg.host()));
  CHECK_THAT(err.message, Catch::Contains("certificate", Catch::CaseSensitive::No));
  CHECK_THAT(err.message, Catch::Contains("127.0.0.1"));
}

TEST_CASE("registry-it: an insecure registry entry allows plain HTTP with a warning",
          "[registry-it]") {
  SIGIL_SKIP_WITHOUT_REGISTRY(RegistryAuth::kNone);
  RegistryProcess reg;  // plain HTTP
  TempDir tmp;
  auto opts = client_options(reg, no_docker_config(tmp));
  REQUIRE(opts.insecure_registries == std::vector<std::string>{reg.host()});
  auto repo = repo_of(reg, "lab/plain");
  auto image = make_image(tmp, 21);
  std::string said;
  opts.warn = [&said](std::string_view line) { said += "warning: " + std::string(line) + "\n"; };
  {
    Client client(opts);
    push_image(client, repo, image, "v1");
    auto fetched = client.get_manifest_by_tag(repo, "v1");
    REQUIRE(fetched);
    CHECK(fetched->bytes == image.manifest_bytes);
  }
  CHECK_THAT(said, Catch::Contains("warning") && Catch::Contains(reg.host()) &&
                       Catch::Contains("insecure"));
  // Once per host, not once per request.
  CHECK(said.find("warning") == said.rfind("warning"));
}

TEST_CASE("registry-it: plain HTTP without an insecure registry entry fails clearly",
          "[registry-it]") {
  SIGIL_SKIP_WITHOUT_REGISTRY(RegistryAuth::kNone);
  RegistryProcess reg;  // plain HTTP
  TempDir tmp;
  auto opts = client_options(reg, no_docker_config(tmp));
  auto repo = repo_of(reg, "lab/plain");

  SECTION("no entry at all") {
    opts.insecure_registries.clear();
  }
  SECTION("an entry for the same address on another port only") {
    opts.insecure_registries = {"127.0.0.1:1"};
  }

  Client client(opts);
  auto err = thrown_by([&] { client.get_manifest_by_tag(repo, "v1"); });
  CHECK(err.code == ErrorCode::kRegistry);
  CHECK_THAT(err.message, Catch::Contains(reg.host()));
  CHECK_THAT(err.message, Catch::Contains("TLS"));
  CHECK_THAT(err.message, Catch::Contains("--insecure-registry " + reg.host()));
  CHECK(client.stats().requests <= 1);
}
