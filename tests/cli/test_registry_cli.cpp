// The real sigil binary against a real registry (docker-registry 2.8 on 127.0.0.1): copying a
// layout in, reading it back by reference, registry flags, credentials from DOCKER_CONFIG, and
// exit code 3 with a message naming the reference (never the password) on registry errors.

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "libtrust/registry/client.h"
#include "support/layout_builder.h"
#include "support/process.h"
#include "support/registry_process.h"

namespace {

using namespace sigil::test;
namespace fs = std::filesystem;

const std::string kSigil = SIGIL_BIN_DIR "/sigil";

#define SKIP_WITHOUT_REGISTRY_CLI(auth)                          \
  do {                                                           \
    if (auto why_ = RegistryProcess::unavailable_reason(auth)) { \
      WARN("SKIP [registry-it] CLI: " << *why_);                 \
      return;                                                    \
    }                                                            \
  } while (false)

RunResult run_sigil(std::vector<std::string> args, const fs::path& docker_config_dir,
                    const std::string& password = kUnsetEnv) {
  args.insert(args.begin(), kSigil);
  return run_process(args, {{"DOCKER_CONFIG", docker_config_dir.string()},
                            {"SIGIL_PASSWORD", password},
                            {"COSIGN_PASSWORD", kUnsetEnv}});
}

BuiltLayout small_layout(const TempDir& tmp) {
  ImageSpec spec;
  spec.layers = {layer(4096, LayerCompression::kGzip, 31)};
  spec.tag = "v1";
  return build_layout(tmp / "layout", {.images = {spec}, .index_tag = {}});
}

}  // namespace

TEST_CASE(
    "sigil copy pushes a layout to a plain-HTTP registry marked insecure and sigil digest "
    "reads it back",
    "[registry-it][cli]") {
  SKIP_WITHOUT_REGISTRY_CLI(RegistryAuth::kNone);
  RegistryProcess reg;
  TempDir tmp;
  auto layout = small_layout(tmp);
  const auto ref = reg.reference("lab/cli:v1");
  const auto empty_config = tmp / "no-docker";

  auto copy = run_sigil({"copy", "--insecure-registry", reg.host(), layout.reference("v1"), ref},
                        empty_config);
  INFO(copy.err);
  REQUIRE(copy.exit_code == 0);
  CHECK_THAT(copy.err, Catch::Contains("insecure") && Catch::Contains(reg.host()));

  auto dig = run_sigil({"digest", "--insecure-registry", reg.host(), ref}, empty_config);
  INFO(dig.err);
  CHECK(dig.exit_code == 0);
  CHECK(dig.out == layout.manifest_digest.str() + "\n");

  auto json = run_sigil({"digest", "--output", "json", "--insecure-registry", reg.host(),
                         reg.reference("lab/cli@" + layout.manifest_digest.str())},
                        empty_config);
  REQUIRE(json.exit_code == 0);
  auto j = nlohmann::json::parse(json.out);
  CHECK(j["manifest"]["digest"] == layout.manifest_digest.str());
  CHECK(j["config"]["digest"] == layout.images[0].config.digest.str());
}

TEST_CASE("sigil on a plain-HTTP registry not marked insecure exits 3 naming the reference",
          "[registry-it][cli]") {
  SKIP_WITHOUT_REGISTRY_CLI(RegistryAuth::kNone);
  RegistryProcess reg;
  TempDir tmp;
  const auto ref = reg.reference("lab/cli:v1");
  auto r = run_sigil({"digest", ref}, tmp / "no-docker");
  CHECK(r.exit_code == 3);
  CHECK_THAT(r.err, Catch::Contains(reg.host()));
  CHECK(r.out.empty());
}

TEST_CASE(
    "sigil with --ca-file and DOCKER_CONFIG credentials reads from a TLS basic-auth "
    "registry and wrong credentials exit 3 without the password",
    "[registry-it][cli]") {
  SKIP_WITHOUT_REGISTRY_CLI(RegistryAuth::kBasic);
  RegistryProcess reg({.tls = RegistryTls::kVerified, .auth = RegistryAuth::kBasic});
  TempDir tmp;
  auto layout = small_layout(tmp);
  const auto ref = reg.reference("lab/cli-auth:v1");
  const auto good = tmp / "good";
  reg.write_docker_config(good);

  auto copy =
      run_sigil({"copy", "--ca-file", reg.ca_file().string(), layout.reference("v1"), ref}, good);
  INFO(copy.err);
  REQUIRE(copy.exit_code == 0);
  CHECK_THAT(copy.err, !Catch::Contains("insecure"));

  auto dig = run_sigil({"digest", "--ca-file", reg.ca_file().string(), ref}, good);
  INFO(dig.err);
  CHECK(dig.exit_code == 0);
  CHECK(dig.out == layout.manifest_digest.str() + "\n");

  SECTION("a missing tag") {
    auto r = run_sigil(
        {"digest", "--ca-file", reg.ca_file().string(), reg.reference("lab/cli-auth:missing")},
        good);
    CHECK(r.exit_code == 3);
    CHECK_THAT(r.err, Catch::Contains("lab/cli-auth") && Catch::Contains("missing"));
  }
  SECTION("wrong credentials") {
    const auto bad = tmp / "bad";
    reg.write_docker_config(bad, reg.user(), "wrong-Pw-31x");
    auto r = run_sigil({"digest", "--ca-file", reg.ca_file().string(), ref}, bad);
    CHECK(r.exit_code == 3);
    CHECK_THAT(r.err, Catch::Contains(reg.host() + "/lab/cli-auth"));
    CHECK_THAT(r.err, !Catch::Contains("wrong-Pw-31x"));
    CHECK_THAT(r.err, !Catch::Contains(reg.password()));
  }
  SECTION("without the CA") {
    auto r = run_sigil({"digest", ref}, good);
    CHECK(r.exit_code == 3);
    CHECK_THAT(r.err, Catch::Contains(reg.host()) &&
                          Catch::Contains("certificate", Catch::CaseSensitive::No));
  }
}

TEST_CASE("sigil sign then sigil verify an image in a TLS basic-auth registry",
          "[registry-it][cli]") {
  SKIP_WITHOUT_REGISTRY_CLI(RegistryAuth::kBasic);
  RegistryProcess reg({.tls = RegistryTls::kVerified, .auth = RegistryAuth::kBasic});
  TempDir tmp;
  auto layout = small_layout(tmp);
  const auto ref = reg.reference("lab/signed:v1");
  const auto docker = tmp / "docker";
  reg.write_docker_config(docker);
  const std::string ca = reg.ca_file().string();
  const std::string key_password = "key-pw-for-the-test";

  REQUIRE(run_sigil({"copy", "--ca-file", ca, layout.reference("v1"), ref}, docker).exit_code == 0);
  auto gen =
      run_sigil({"key", "generate", "--output-prefix", (tmp / "k").string()}, docker, key_password);
  REQUIRE(gen.exit_code == 0);
  auto other = run_sigil({"key", "generate", "--output-prefix", (tmp / "other").string()}, docker,
                         key_password);
  REQUIRE(other.exit_code == 0);

  auto sign = run_sigil({"sign", "--key", (tmp / "k.key").string(), "--ca-file", ca, ref}, docker,
                        key_password);
  INFO(sign.err);
  REQUIRE(sign.exit_code == 0);

  // The signature is where cosign users look for it: tag sha256-<hex>.sig in the repository.
  trust::registry::TransportOptions opts;
  opts.ca_file = reg.ca_file();
  opts.docker_config = docker / "config.json";
  trust::registry::Client client(opts);
  auto tags = client.list_tags({reg.host(), "lab/signed"});
  const std::string sig_tag = "sha256-" + layout.manifest_digest.hex() + ".sig";
  CHECK(std::find(tags.begin(), tags.end(), sig_tag) != tags.end());

  auto verify =
      run_sigil({"verify", "--key", (tmp / "k.pub").string(), "--ca-file", ca, ref}, docker);
  INFO(verify.err);
  CHECK(verify.exit_code == 0);

  auto wrong =
      run_sigil({"verify", "--key", (tmp / "other.pub").string(), "--ca-file", ca, ref}, docker);
  CHECK(wrong.exit_code == 1);
  CHECK_THAT(wrong.err, Catch::Contains("lab/signed"));
}
