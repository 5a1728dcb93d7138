// login / logout against a real distribution 2.8: htpasswd basic auth over TLS and bearer tokens
// from the token server. Credentials are checked before anything is written; what is written is
// what the client then uses.

#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "libtrust/core/encoding.h"
#include "libtrust/registry/credentials.h"
#include "registry_it/registry_it_util.h"

namespace {

using namespace sigil::test;
using namespace sigil::test::it;
using trust::ErrorCode;
using trust::SecretBytes;
using trust::registry::Client;

unsigned mode_of(const std::filesystem::path& p) {
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return st.st_mode & 0777;
}

}  // namespace

TEST_CASE("registry-it: login checks htpasswd credentials, writes config.json, then pushes",
          "[registry-it][credentials]") {
  SIGIL_SKIP_WITHOUT_REGISTRY(RegistryAuth::kBasic);
  for (auto auth : {RegistryAuth::kBasic, RegistryAuth::kToken}) {
    RegistryProcess reg({.tls = RegistryTls::kVerified, .auth = auth});
    TempDir tmp;
    auto config = tmp / "docker" / "config.json";
    auto opts = client_options(reg, config);

    auto err = thrown_by([&] {
      trust::registry::login(reg.host(), reg.user(), SecretBytes::from_string("not-it-9Zp"), opts);
    });
    CHECK(err.code == ErrorCode::kRegistry);
    CHECK_THAT(err.message, Catch::StartsWith("login " + reg.host() + ": "));
    CHECK_THAT(err.message, !Catch::Contains("not-it-9Zp"));
    CHECK_FALSE(std::filesystem::exists(config));

    auto written = trust::registry::login(reg.host(), reg.user(),
                                          SecretBytes::from_string(reg.password()), opts);
    CHECK(written == config);
    CHECK(mode_of(config) == 0600);
    auto j = nlohmann::json::parse(read_text_file(config));
    CHECK(j["auths"][reg.host()]["auth"] ==
          trust::base64_encode(trust::as_bytes(reg.user() + ":" + reg.password())));

    Client client(opts);
    auto repo = repo_of(reg, "lab/login");
    auto image = make_image(tmp, 21);
    CHECK(push_image(client, repo, image, "v1").digest == image.manifest.digest);
    REQUIRE(client.get_manifest_by_tag(repo, "v1"));

    CHECK(trust::registry::logout(reg.host(), opts));
    Client anonymous(opts);
    CHECK(code_of([&] { (void)anonymous.get_manifest_by_tag(repo, "v1"); }) ==
          ErrorCode::kRegistry);
  }
}
