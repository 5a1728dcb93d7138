// Checks of the `sigil` executable that the library tests cannot stand in for: each of these was
// once removable from the command path with every test still passing (issue 7, "Tests that would
// not catch a regression"), and the signature limits at each command that reaches them.
#include <catch2/catch.hpp>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "libtrust/core/digest.h"
#include "libtrust/core/file.h"
#include "libtrust/core/media_type.h"
#include "libtrust/oci/image_source.h"
#include "libtrust/oci/layout.h"
#include "libtrust/sig/cosign_layout.h"
#include "support/fake_registry.h"
#include "support/layout_builder.h"
#include "support/process.h"

namespace fs = std::filesystem;
using namespace sigil::test;

namespace {

const std::string kSigil = SIGIL_BIN_DIR "/sigil";
const std::string kData = SIGIL_TEST_DATA;
const std::string kKey = kData + "/keys/test-ecdsa-p256.key";
const std::string kPub = kData + "/keys/test-ecdsa-p256.pub";
const std::string kPassFile = kData + "/keys/test-passphrase.txt";

// Runs sigil with no password variables and an empty docker config (anonymous registries).
RunResult run_sigil(std::vector<std::string> args, const TempDir& tmp) {
  args.insert(args.begin(), kSigil);
  return run_process(args, {{"SIGIL_PASSWORD", kUnsetEnv},
                            {"COSIGN_PASSWORD", kUnsetEnv},
                            {"DOCKER_CONFIG", (tmp / "no-docker-config").string()}});
}

RunResult sign(const std::string& ref, const TempDir& tmp, std::vector<std::string> extra = {}) {
  std::vector<std::string> args{"sign", "--key", kKey, "--password-file", kPassFile};
  args.insert(args.end(), extra.begin(), extra.end());
  args.push_back(ref);
  return run_sigil(args, tmp);
}

BuiltLayout two_images(const TempDir& tmp) {
  ImageSpec a;
  a.tag = "a";
  a.layers = {layer(3000, LayerCompression::kGzip, 1)};
  ImageSpec b;
  b.tag = "b";
  b.layers = {layer(3000, LayerCompression::kGzip, 2)};
  return build_layout(tmp / "img", {.images = {a, b}, .index_tag = {}});
}

// Lists `count` bundle referrers (fake digests) under the image's referrers fallback tag.
void list_referrers(const BuiltLayout& built, const trust::Digest& image, std::size_t count) {
  nlohmann::ordered_json j{{"schemaVersion", 2},
                           {"mediaType", trust::media_type::kOciIndex},
                           {"manifests", nlohmann::json::array()}};
  for (std::size_t i = 0; i < count; ++i) {
    j["manifests"].push_back(
        {{"mediaType", trust::media_type::kOciManifest},
         {"digest", trust::Digest::of(trust::as_bytes("referrer " + std::to_string(i))).str()},
         {"size", 500},
         {"artifactType", trust::media_type::kSigstoreBundleV03}});
  }
  auto store = trust::oci::open_oci_layout(built.dir);
  const auto text = j.dump();
  store->set_tag(trust::oci::referrers_fallback_tag(image),
                 store->put_manifest(trust::as_bytes(text), trust::media_type::kOciIndex));
}

const std::string kTooManyReferrers = "101 referrers is over the limit of 100";

}  // namespace

TEST_CASE("sigil verify -a k=v refuses a signature whose annotation has another value",
          "[cli][regression]") {
  TempDir tmp;
  auto built = two_images(tmp);
  const auto ref = built.reference("a");
  for (const std::string format : {"cosign", "bundle"}) {
    INFO(format);
    REQUIRE(sign(ref, tmp, {"--format", format, "-a", "env=ci", "-a", "team=core"}).exit_code == 0);
  }
  auto wrong =
      run_sigil({"verify", "--all", "--key", kPub, "-a", "env=prod", "--output", "json", ref}, tmp);
  INFO(wrong.err);
  CHECK(wrong.exit_code == 1);
  auto j = nlohmann::json::parse(wrong.out);
  CHECK(j["verified"] == false);
  REQUIRE(j["signatures"].size() == 2);
  CHECK(j["signatures"][0]["reason"] == "signed payload lacks required annotation(s) env=prod");
  CHECK(j["signatures"][1]["reason"] == "signed statement lacks required annotation(s) env=prod");
  CHECK_THAT(wrong.err, Catch::Contains("NOT VERIFIED"));

  // A missing key is refused as well; the values as signed verify.
  CHECK(run_sigil({"verify", "--key", kPub, "-a", "owner=x", ref}, tmp).exit_code == 1);
  auto right = run_sigil({"verify", "--key", kPub, "-a", "env=ci", "-a", "team=core", ref}, tmp);
  INFO(right.err);
  CHECK(right.exit_code == 0);
}

TEST_CASE("sigil verify of a local image with a tampered layer fails as an input error",
          "[cli][regression]") {
  TempDir tmp;
  auto built = two_images(tmp);
  const auto ref = built.reference("a");
  REQUIRE(sign(ref, tmp).exit_code == 0);
  REQUIRE(run_sigil({"verify", "--key", kPub, ref}, tmp).exit_code == 0);

  // Same size, one byte changed: only hashing the layer can tell.
  const auto& layer = built.images[0].layers[0].descriptor;
  auto path = built.blob_path(layer.digest);
  auto bytes = trust::read_file(path, 1 << 20);
  bytes[bytes.size() / 2] ^= 0x01;
  trust::write_file_atomic(path, bytes);

  auto v = run_sigil({"verify", "--key", kPub, ref}, tmp);
  INFO(v.err);
  CHECK(v.exit_code == 3);
  CHECK_THAT(v.err, Catch::Contains(layer.digest.str()));
  CHECK_THAT(v.err, !Catch::Contains("\nVERIFIED"));
}

TEST_CASE("sigil verify of a docker archive with a tampered layer fails as an input error",
          "[cli][regression]") {
  TempDir tmp;
  auto built = two_images(tmp);
  // The archive stores image a's layer blob with one byte changed, under its old digest.
  auto tampered = built;
  auto& blob = tampered.images[0].layers[0].blob;
  blob[blob.size() / 2] ^= 0x01;
  write_docker_archive(tampered, tmp / "bad.tar", ArchiveForm::kOci);
  write_docker_archive(built, tmp / "good.tar", ArchiveForm::kOci);

  // The untouched archive gets as far as its (absent) signatures: exit 1, not 3.
  auto good = run_sigil({"verify", "--key", kPub,
                         "docker-archive:" + (tmp / "good.tar").string() + ":sigil.test/img:a"},
                        tmp);
  INFO(good.err);
  CHECK(good.exit_code == 1);
  auto bad = run_sigil({"verify", "--key", kPub,
                        "docker-archive:" + (tmp / "bad.tar").string() + ":sigil.test/img:a"},
                       tmp);
  INFO(bad.err);
  CHECK(bad.exit_code == 3);
  CHECK_THAT(bad.err, Catch::Contains(built.images[0].layers[0].descriptor.digest.str()));
  CHECK_THAT(bad.err, !Catch::Contains("\nVERIFIED"));
}

TEST_CASE("repo:tag@digest: the digest wins over the tag in the registry store",
          "[cli][regression][registry]") {
  FakeRegistry reg;
  TempDir tmp;
  auto a = push_test_image(reg, "lab/pin", "v1", "layer a");
  auto b = push_test_image(reg, "lab/pin", "other", "layer b");
  const auto repo = reg.host() + "/lab/pin";
  REQUIRE(sign(repo + ":v1", tmp, {"--insecure-registry", reg.host()}).exit_code == 0);

  // v1 (image a) is signed, image b is not: naming b's digest must verify b, whatever the tag.
  reg.clear_requests();
  auto pinned = run_sigil({"verify", "--insecure-registry", reg.host(), "--key", kPub, "--output",
                           "json", repo + ":v1@" + b.digest.str()},
                          tmp);
  INFO(pinned.err);
  CHECK(pinned.exit_code == 1);
  auto j = nlohmann::json::parse(pinned.out);
  CHECK(j["digest"] == b.digest.str());
  CHECK(reg.count("GET", "/v2/lab/pin/manifests/v1") == 0);

  auto signed_ = run_sigil({"verify", "--insecure-registry", reg.host(), "--key", kPub,
                            repo + ":other@" + a.digest.str()},
                           tmp);
  INFO(signed_.err);
  CHECK(signed_.exit_code == 0);
}

TEST_CASE("an oci: reference pinned to a digest resolves that digest, not the first image",
          "[cli][regression]") {
  // Local references carry a tag or a digest, never both (oci:DIR[:TAG|@DIGEST]; docker-archive:
  // takes a tag only): the digest is what resolves, not the only image or the first one.
  TempDir tmp;
  auto built = two_images(tmp);
  const auto b = built.images[1].manifest.digest;
  auto d = run_sigil({"digest", "oci:" + built.dir.string() + "@" + b.str()}, tmp);
  INFO(d.err);
  CHECK(d.exit_code == 0);
  CHECK(d.out == b.str() + "\n");
  REQUIRE(sign(built.reference("a"), tmp).exit_code == 0);
  auto v = run_sigil({"verify", "--key", kPub, "oci:" + built.dir.string() + "@" + b.str()}, tmp);
  CHECK(v.exit_code == 1);
  CHECK_THAT(v.err, Catch::Contains(b.str()));
}

TEST_CASE("sigil sign resolves the tag once and signs what it resolved, even if the tag moves",
          "[cli][regression][registry]") {
  FakeRegistry reg;
  TempDir tmp;
  auto a = push_test_image(reg, "lab/move", "v1", "layer a");
  auto b = push_test_image(reg, "lab/move", "v1", "layer b");  // v1 now names b
  // The first request for the tag answers a, as if the tag moved to b right after it.
  reg.add_fault(
      {"GET", "/v2/lab/move/manifests/v1", 1,
       FakeRegistry::status(200, a.manifest,
                            {{"Content-Type", std::string(trust::media_type::kOciManifest)},
                             {"Docker-Content-Digest", a.digest.str()}})});
  reg.clear_requests();
  const auto repo = reg.host() + "/lab/move";
  auto s = sign(repo + ":v1", tmp, {"--insecure-registry", reg.host()});
  INFO(s.err);
  REQUIRE(s.exit_code == 0);
  std::size_t tag_requests = 0;
  for (const auto& r : reg.requests()) {
    if (r.path == "/v2/lab/move/manifests/v1") ++tag_requests;
  }
  CHECK(tag_requests == 1);
  CHECK_THAT(s.err, Catch::Contains(a.digest.str()));
  CHECK(reg.manifest("lab/move", trust::sig::signature_tag(a.digest)).has_value());
  CHECK_FALSE(reg.manifest("lab/move", trust::sig::signature_tag(b.digest)).has_value());
}

TEST_CASE("101 referrers are refused by sigil tree, sigil copy and sigil verify",
          "[cli][limits][regression]") {
  TempDir tmp;
  auto built = two_images(tmp);
  const auto a = built.images[0].manifest.digest;
  list_referrers(built, a, 100);
  auto tree_ok = run_sigil({"tree", "--output", "json", built.reference("a")}, tmp);
  INFO(tree_ok.err);
  REQUIRE(tree_ok.exit_code == 0);
  CHECK(nlohmann::json::parse(tree_ok.out)["referrers"].size() == 100);

  list_referrers(built, a, 101);
  auto tree = run_sigil({"tree", built.reference("a")}, tmp);
  CHECK(tree.exit_code == 3);
  CHECK_THAT(tree.err, Catch::Contains(kTooManyReferrers));
  auto copy =
      run_sigil({"copy", built.reference("a"), "oci:" + (tmp / "dst").string() + ":a"}, tmp);
  CHECK(copy.exit_code == 3);
  CHECK_THAT(copy.err, Catch::Contains(kTooManyReferrers));
  REQUIRE(sign(built.reference("a"), tmp, {"-a", "k=v"}).exit_code == 0);
  // A .sig signature that fails the policy sends verify on to the referrers.
  auto verify = run_sigil({"verify", "--key", kPub, "-a", "k=other", built.reference("a")}, tmp);
  CHECK(verify.exit_code == 3);
  CHECK_THAT(verify.err, Catch::Contains(kTooManyReferrers));
}

TEST_CASE("a .sig manifest of 101 layers is refused by sigil verify", "[cli][limits][regression]") {
  TempDir tmp;
  auto built = two_images(tmp);
  const auto ref = built.reference("a");
  REQUIRE(sign(ref, tmp).exit_code == 0);
  // Repeat the one real layer until there are 101.
  auto store = trust::oci::open_oci_layout(built.dir);
  const auto image = built.images[0].manifest.digest;
  const auto tag = trust::sig::signature_tag(image);
  auto desc = store->find_tag(tag);
  REQUIRE(desc);
  auto m = trust::oci::Manifest::parse(store->fetch_manifest(*desc), "sig manifest");
  const auto one = m.layers.at(0);
  m.layers.assign(100, one);
  auto text = m.to_json();
  store->set_tag(tag, store->put_manifest(trust::as_bytes(text), trust::media_type::kOciManifest));
  REQUIRE(run_sigil({"verify", "--key", kPub, ref}, tmp).exit_code == 0);

  m.layers.push_back(one);
  text = m.to_json();
  store->set_tag(tag, store->put_manifest(trust::as_bytes(text), trust::media_type::kOciManifest));
  auto v = run_sigil({"verify", "--key", kPub, ref}, tmp);
  CHECK(v.exit_code == 3);
  CHECK_THAT(v.err, Catch::Contains(": signature manifest " + tag +
                                    ": 101 signature layers is over the limit of 100"));
}
