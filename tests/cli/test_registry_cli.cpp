// The real sigil binary against a real registry (docker-registry 2.8 on 127.0.0.1): copying a
// layout in, reading it back by reference, registry flags, credentials from DOCKER_CONFIG, and
// exit code 3 with a message naming the reference (never the password) on registry errors.

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "libtrust/core/text.h"
#include "libtrust/registry/client.h"
#include "support/layout_builder.h"
#include "support/process.h"
#include "support/registry_process.h"

namespace {

using namespace sigil::test;
namespace fs = std::filesystem;

const std::string kSigil = SIGIL_BIN_DIR "/sigil";

#define SKIP_WITHOUT_REGISTRY_CLI(auth) SIGIL_SKIP_UNLESS(RegistryProcess::unavailable_reason(auth))

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

  auto json = run_sigil({"digest", "--layers", "--output", "json", "--insecure-registry",
                         reg.host(), reg.reference("lab/cli@" + layout.manifest_digest.str())},
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

namespace {

// HTTP requests answered, from the -v trace ("  http: GET URL -> 200"). The failed TLS attempt
// an --insecure-registry host gets before plain HTTP ("-> error: …") is not one.
std::size_t count_requests(const std::string& stderr_text) {
  std::size_t n = 0;
  std::istringstream lines(stderr_text);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("  http: ", 0) == 0 && line.find(" -> error") == std::string::npos) ++n;
  }
  return n;
}

}  // namespace

TEST_CASE("sigil verify of a cosign-signed registry image makes 3 requests, --all 5",
          "[registry-it][cli]") {
  SKIP_WITHOUT_REGISTRY_CLI(RegistryAuth::kNone);
  RegistryProcess reg;
  TempDir tmp;
  auto layout = small_layout(tmp);
  const auto ref = reg.reference("lab/count:v1");
  const auto no_docker = tmp / "no-docker";
  const std::string data = SIGIL_TEST_DATA;
  const std::vector<std::string> insecure = {"--insecure-registry", reg.host()};
  auto with = [&](std::vector<std::string> args) {
    args.insert(args.end() - 1, insecure.begin(), insecure.end());
    return run_sigil(args, no_docker);
  };

  REQUIRE(with({"copy", layout.reference("v1"), ref}).exit_code == 0);
  auto sign = with({"sign", "--key", data + "/keys/test-ecdsa-p256.key", "--password-file",
                    data + "/keys/test-passphrase.txt", ref});
  INFO(sign.err);
  REQUIRE(sign.exit_code == 0);

  // Manifest by tag, the .sig manifest, the payload blob: the referrers are not needed.
  auto quick = with({"verify", "-v", "--key", data + "/keys/test-ecdsa-p256.pub", ref});
  INFO(quick.err);
  CHECK(quick.exit_code == 0);
  CHECK(count_requests(quick.err) == 3);
  CHECK_THAT(quick.err, Catch::Contains("bundle referrers: not looked up"));

  // --all also asks the referrers API (404 on distribution 2.8) and the fallback tag.
  auto all = with({"verify", "-v", "--all", "--output", "json", "--key",
                   data + "/keys/test-ecdsa-p256.pub", ref});
  INFO(all.err);
  CHECK(all.exit_code == 0);
  CHECK(count_requests(all.err) == 5);
  auto j = nlohmann::json::parse(all.out);
  CHECK(j["referrersChecked"] == true);
  CHECK(j["bundleReferrers"] == 0);

  // A wrong key: every layout is searched before the verdict, and the verdict is exit 1.
  auto wrong = with({"verify", "-v", "--key", data + "/keys/other-ecdsa-p256.pub", ref});
  CHECK(wrong.exit_code == 1);
  CHECK(count_requests(wrong.err) == 5);
}

TEST_CASE("sigil copy draws a live progress line on a terminal", "[registry-it][cli]") {
  SKIP_WITHOUT_REGISTRY_CLI(RegistryAuth::kNone);
  SIGIL_SKIP_UNLESS(missing_program("/usr/bin/script"));  // util-linux, for a pseudo-terminal
  RegistryProcess reg;
  TempDir tmp;
  ImageSpec spec;
  spec.layers = {layer(6u << 20, LayerCompression::kNone, 5)};  // over the 4 MB threshold
  spec.tag = "v1";
  auto layout = build_layout(tmp / "layout", {.images = {spec}, .index_tag = {}});
  const auto ref = reg.reference("lab/progress:v1");
  const auto no_docker = tmp / "no-docker";
  auto push = run_sigil({"copy", "--insecure-registry", reg.host(), layout.reference("v1"), ref},
                        no_docker);
  INFO(push.err);
  REQUIRE(push.exit_code == 0);

  // Under script(1) stderr is a pseudo-terminal: the layer's download is a line redrawn in
  // place, and its last state stays on the screen. (Lines in a log: test_progress_cli.cpp.)
  const std::string command = kSigil + " copy --insecure-registry " + reg.host() + " " + ref +
                              " oci:" + (tmp / "back").string() + ":v1";
  auto tty = run_process({"/usr/bin/script", "-qefc", command, "/dev/null"},
                         {{"DOCKER_CONFIG", no_docker.string()}});
  INFO(tty.out);
  CHECK(tty.exit_code == 0);
  const auto& blob = layout.images[0].layers[0].descriptor;
  const auto done = trust::human_size(blob.size) + ", done";
  CHECK_THAT(tty.out, Catch::Contains("blob " + blob.digest.str().substr(0, 19) + ": " + done));
  CHECK_THAT(tty.out, Catch::Contains("\x1b[K"));
}

namespace {

// `sigil tree --output json` of `ref`, without the reference itself: what is attached, by digest.
nlohmann::json attached(const std::vector<std::string>& flags, const std::string& ref,
                        const fs::path& docker) {
  std::vector<std::string> args = {"tree", "--output", "json"};
  args.insert(args.end(), flags.begin(), flags.end());
  args.push_back(ref);
  auto tree = run_sigil(args, docker);
  INFO(tree.err);
  REQUIRE(tree.exit_code == 0);
  auto j = nlohmann::json::parse(tree.out);
  j.erase("reference");
  return j;
}

}  // namespace

TEST_CASE(
    "sigil copy carries signatures, bundle referrers and attestations into an air-gapped "
    "layout and a second registry, where they verify",
    "[registry-it][cli]") {
  SKIP_WITHOUT_REGISTRY_CLI(RegistryAuth::kNone);
  RegistryProcess origin;
  RegistryProcess mirror;
  TempDir tmp;
  ImageSpec amd64;
  amd64.layers = {layer(2048, LayerCompression::kGzip, 41)};
  amd64.tag = "";
  ImageSpec arm64 = amd64;
  arm64.architecture = "arm64";
  arm64.layers = {layer(2048, LayerCompression::kZstd, 42)};
  auto layout = build_layout(tmp / "layout", {.images = {amd64, arm64}, .index_tag = "multi"});
  const auto no_docker = tmp / "no-docker";
  const std::string data = SIGIL_TEST_DATA;
  const std::vector<std::string> insecure = {"--insecure-registry", origin.host(),
                                             "--insecure-registry", mirror.host()};
  auto sigil = [&](std::vector<std::string> args) {
    args.insert(args.end() - 1, insecure.begin(), insecure.end());
    return run_sigil(args, no_docker);
  };
  const std::vector<std::string> key = {"--key", data + "/keys/test-ecdsa-p256.key",
                                        "--password-file", data + "/keys/test-passphrase.txt"};
  const std::string pub = data + "/keys/test-ecdsa-p256.pub";
  const auto at_origin = origin.reference("lab/app:multi");
  const auto platform = layout.images[1].manifest.digest;

  REQUIRE(sigil({"copy", layout.reference("multi"), at_origin}).exit_code == 0);
  std::vector<std::string> sign = {"sign", "--recursive"};
  sign.insert(sign.end(), key.begin(), key.end());
  sign.push_back(at_origin);
  auto cosign_sig = sigil(sign);
  INFO(cosign_sig.err);
  REQUIRE(cosign_sig.exit_code == 0);
  sign.insert(sign.end() - 1, {"--format", "bundle"});
  REQUIRE(sigil(sign).exit_code == 0);

  // An attestation in cosign's tag layout (sha256-<hex>.att), written as cosign attest would: a
  // DSSE envelope layer. sigil does not read it; it must travel byte for byte.
  trust::registry::TransportOptions opts;
  opts.insecure_registries = {origin.host()};
  opts.docker_config = no_docker / "config.json";
  trust::registry::Client client(opts);
  const trust::registry::Repository repo{origin.host(), "lab/app"};
  const std::string config = "{}";
  const std::string envelope =
      R"({"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[]})";
  const auto config_digest = trust::Digest::of(trust::as_bytes(config));
  const auto envelope_digest = trust::Digest::of(trust::as_bytes(envelope));
  client.put_blob(repo, trust::as_bytes(config), config_digest);
  client.put_blob(repo, trust::as_bytes(envelope), envelope_digest);
  const std::string att =
      R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
      R"("config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" +
      config_digest.str() +
      R"(","size":2},"layers":[{"mediaType":)"
      R"("application/vnd.dsse.envelope.v1+json","digest":")" +
      envelope_digest.str() + R"(","size":)" + std::to_string(envelope.size()) +
      R"(,"annotations":{"predicateType":"https://slsa.dev/provenance/v1"}}]})";
  const auto att_tag = "sha256-" + layout.manifest_digest.hex() + ".att";
  client.put_manifest(repo, att_tag, trust::as_bytes(att),
                      "application/vnd.oci.image.manifest.v1+json");

  const auto expected = attached(insecure, at_origin, no_docker);
  // The index: .sig, .att and one bundle referrer; each platform: its own .sig and referrer.
  REQUIRE(expected["attachments"].size() == 2);
  REQUIRE(expected["referrers"].size() == 1);
  REQUIRE(expected["manifests"].size() == 2);
  for (const auto& m : expected["manifests"]) {
    CHECK(m["attachments"].size() == 1);
    CHECK(m["referrers"].size() == 1);
  }

  auto verifies = [&](const std::string& ref, int signatures) {
    auto v = sigil({"verify", "--all", "--output", "json", "--key", pub, ref});
    INFO(ref << "\n" << v.err);
    CHECK(v.exit_code == 0);
    if (v.exit_code != 0) return;
    const auto j = nlohmann::json::parse(v.out);
    std::size_t verified = 0;
    for (const auto& s : j.at("signatures")) verified += s.at("verified").get<bool>() ? 1 : 0;
    CHECK(verified == static_cast<std::size_t>(signatures));
  };

  SECTION("into an air-gapped layout, then into a second registry") {
    const auto airgap = "oci:" + (tmp / "airgap").string() + ":multi";
    auto copy = sigil({"copy", at_origin, airgap});
    INFO(copy.err);
    REQUIRE(copy.exit_code == 0);
    // 3 image manifests and 7 attachments: the index's .sig, .att and bundle referrer, each
    // platform's .sig and bundle referrer.
    CHECK_THAT(copy.err, Catch::Contains("10 manifest(s)") && Catch::Contains("7 attachment(s)"));
    CHECK(attached(insecure, airgap, no_docker) == expected);
    verifies(airgap, 2);
    verifies("oci:" + (tmp / "airgap").string() + "@" + platform.str(), 2);

    const auto at_mirror = mirror.reference("mirror/app:multi");
    auto onward = sigil({"copy", airgap, at_mirror});
    INFO(onward.err);
    REQUIRE(onward.exit_code == 0);
    CHECK(attached(insecure, at_mirror, no_docker) == expected);
    verifies(at_mirror, 2);
    verifies(mirror.reference("mirror/app@" + platform.str()), 2);

    // Again: nothing is uploaded twice, and nothing is lost.
    auto again = sigil({"copy", "--output", "json", airgap, at_mirror});
    REQUIRE(again.exit_code == 0);
    auto j = nlohmann::json::parse(again.out);
    CHECK(j["blobsCopied"] == 0);
    CHECK(attached(insecure, at_mirror, no_docker) == expected);
  }
  SECTION("--no-attachments copies the image alone, which then has no signature") {
    const auto bare = mirror.reference("bare/app:multi");
    REQUIRE(sigil({"copy", "--no-attachments", at_origin, bare}).exit_code == 0);
    auto tree = attached(insecure, bare, no_docker);
    CHECK(tree["attachments"].empty());
    CHECK(tree["referrers"].empty());
    auto v = sigil({"verify", "--key", pub, bare});
    CHECK(v.exit_code == 1);
  }
}
TEST_CASE(
    "sigil attest, verify-attestation, copy into a layout and a second registry, and "
    "verify-attestation there",
    "[registry-it][cli]") {
  SKIP_WITHOUT_REGISTRY_CLI(RegistryAuth::kNone);
  RegistryProcess origin;
  RegistryProcess mirror;
  TempDir tmp;
  auto layout = small_layout(tmp);
  const auto no_docker = tmp / "no-docker";
  const std::string data = SIGIL_TEST_DATA;
  const std::vector<std::string> insecure = {"--insecure-registry", origin.host(),
                                             "--insecure-registry", mirror.host()};
  auto sigil = [&](std::vector<std::string> args) {
    args.insert(args.end() - 1, insecure.begin(), insecure.end());
    return run_sigil(args, no_docker);
  };
  const std::vector<std::string> key = {"--key", data + "/keys/test-ecdsa-p256.key",
                                        "--password-file", data + "/keys/test-passphrase.txt"};
  const std::string pub = data + "/keys/test-ecdsa-p256.pub";
  const auto at_origin = origin.reference("lab/app:v1");
  REQUIRE(sigil({"copy", layout.reference("v1"), at_origin}).exit_code == 0);

  const std::string builder =
      "https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main";
  const auto provenance = tmp / "provenance.json";
  write_text_file(
      provenance,
      R"({"buildDefinition":{"buildType":"https://actions.github.io/buildtypes/workflow/v1",)"
      R"("externalParameters":{"workflow":{"repository":"https://github.com/acme/app",)"
      R"("ref":"refs/heads/main","path":".github/workflows/release.yml"}}},)"
      R"("runDetails":{"builder":{"id":")" +
          builder + R"("}}})");
  const auto bom = tmp / "bom.json";
  write_text_file(bom,
                  R"({"bomFormat":"CycloneDX","specVersion":"1.5","version":1,"components":[]})");

  auto attest = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = {"attest"};
    args.insert(args.end(), key.begin(), key.end());
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back(at_origin);
    auto r = sigil(args);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
  };
  attest({"--type", "slsaprovenance", "--predicate", provenance.string()});
  attest({"--type", "cyclonedx", "--predicate", bom.string(), "--format", "bundle"});

  auto verify_att = [&](const std::string& ref, std::vector<std::string> extra) {
    std::vector<std::string> args = {"verify-attestation", "--key", pub};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back(ref);
    return sigil(args);
  };
  auto passes = [&](const std::string& ref) {
    auto slsa = verify_att(ref, {"--type", "slsaprovenance", "--where",
                                 "/runDetails/builder/id=" + builder, "--output", "json"});
    INFO(ref << "\n" << slsa.err);
    CHECK(slsa.exit_code == 0);
    if (slsa.exit_code == 0) {
      auto statement = nlohmann::json::parse(slsa.out.substr(0, slsa.out.find('\n')));
      CHECK(statement["predicateType"] == "https://slsa.dev/provenance/v1");
      CHECK(statement["predicate"]["runDetails"]["builder"]["id"] == builder);
    }
    auto sbom = verify_att(ref, {"--type", "cyclonedx"});
    INFO(sbom.err);
    CHECK(sbom.exit_code == 0);
    // No SPDX document was attested: nothing else stands in for one.
    CHECK(verify_att(ref, {"--type", "spdxjson"}).exit_code == 1);
    // A condition the signed provenance does not meet.
    CHECK(verify_att(ref, {"--type", "slsaprovenance", "--where",
                           "/runDetails/builder/id~=https://github.com/evil/.*"})
              .exit_code == 1);
  };
  passes(at_origin);

  const auto airgap = "oci:" + (tmp / "airgap").string() + ":v1";
  auto copy = sigil({"copy", at_origin, airgap});
  INFO(copy.err);
  REQUIRE(copy.exit_code == 0);
  passes(airgap);
  const auto at_mirror = mirror.reference("mirror/app:v1");
  auto onward = sigil({"copy", airgap, at_mirror});
  INFO(onward.err);
  REQUIRE(onward.exit_code == 0);
  passes(at_mirror);
}
