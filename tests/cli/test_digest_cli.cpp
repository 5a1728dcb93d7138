// sigil digest: the real binary on layouts and archives; exit codes, stdout/stderr, JSON schema.
// Without --layers only the reference is resolved; --layers reads and checks every blob.
#include <catch2/catch.hpp>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "libtrust/core/file.h"
#include "support/layout_builder.h"
#include "support/process.h"

using sigil::test::RunResult;
using sigil::test::TempDir;
namespace fs = std::filesystem;

namespace {

const std::string kSigil = SIGIL_BIN_DIR "/sigil";
const std::string kData = SIGIL_TEST_DATA;
const std::string kV1 = "sha256:2757703db410695547cef88bb4b2947d7b48ebcd7f11cf8cc21c7e06184b707d";

RunResult digest(std::vector<std::string> args) {
  args.insert(args.begin(), {kSigil, "digest"});
  return sigil::test::run_process(args);
}

}  // namespace

TEST_CASE("sigil digest prints the manifest digest on stdout and nothing else", "[cli][digest]") {
  auto r = digest({"oci:" + kData + "/image-oci:v1"});
  CHECK(r.exit_code == 0);
  CHECK(r.out == kV1 + "\n");
  CHECK(r.err.empty());
}

TEST_CASE("sigil digest --layers prints the digest on stdout and the layer report on stderr",
          "[cli][digest]") {
  auto r = digest({"--layers", "oci:" + kData + "/image-oci:v1"});
  CHECK(r.exit_code == 0);
  CHECK(r.out == kV1 + "\n");
  CHECK_THAT(r.err, Catch::Contains("config:    sha256:5767e6ddaa2f6cec34f9faa4d297cb44f824b7c6a55f"
                                    "be7673cdd61ec0b6860d (image ID)"));
  CHECK_THAT(r.err, Catch::Contains("diffID:  sha256:b6e44d74cae5a8cf51a8013d7b0d4ec78a25ffda427cf0"
                                    "893c7d9808699594d4"));
  CHECK_THAT(r.err, Catch::Contains("application/vnd.oci.image.layer.v1.tar+gzip"));
  CHECK_THAT(r.err, Catch::Contains("size:    292 B (292 bytes)"));
  CHECK_THAT(r.err, Catch::Contains("uncompressed size: 10.0 KiB (10240 bytes)"));
}

TEST_CASE("sigil digest --output json follows the documented schema", "[cli][digest]") {
  auto plain = digest({"--output", "json", "oci:" + kData + "/image-oci:v1"});
  REQUIRE(plain.exit_code == 0);
  auto p = nlohmann::json::parse(plain.out);
  CHECK(p == nlohmann::json{{"schemaVersion", 1},
                            {"reference", "oci:" + kData + "/image-oci:v1"},
                            {"digest", kV1},
                            {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                            {"size", 475}});

  auto r = digest({"--layers", "--output", "json", "oci:" + kData + "/image-oci:v1"});
  REQUIRE(r.exit_code == 0);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["schemaVersion"] == 1);
  CHECK(j["reference"] == "oci:" + kData + "/image-oci:v1");
  CHECK(j["digest"] == kV1);
  CHECK(j["manifest"]["digest"] == kV1);
  CHECK(j["manifest"]["mediaType"] == "application/vnd.oci.image.manifest.v1+json");
  CHECK(j["manifest"]["size"] == 475);
  CHECK(j["config"]["digest"] ==
        "sha256:5767e6ddaa2f6cec34f9faa4d297cb44f824b7c6a55fbe7673cdd61ec0b6860d");
  REQUIRE(j["layers"].size() == 1);
  const auto& l = j["layers"][0];
  CHECK(l["digest"] == "sha256:b0dbeb22c869c2911fc5fb564290b6e3a5ba7cb36b12adfa3fda4fe20ce1614f");
  CHECK(l["size"] == 292);
  CHECK(l["mediaType"] == "application/vnd.oci.image.layer.v1.tar+gzip");
  CHECK(l["diffID"] == "sha256:b6e44d74cae5a8cf51a8013d7b0d4ec78a25ffda427cf0893c7d9808699594d4");
  CHECK(l["uncompressedSize"] == 10240);
  CHECK_FALSE(j.contains("manifests"));
}

TEST_CASE("sigil digest on an index lists each platform's manifest", "[cli][digest]") {
  auto r = digest({"-o", "json", "--layers", "oci:" + kData + "/image-oci:multi"});
  REQUIRE(r.exit_code == 0);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["manifest"]["mediaType"] == "application/vnd.oci.image.index.v1+json");
  REQUIRE(j["manifests"].size() == 2);
  CHECK(j["manifests"][1]["platform"]["architecture"] == "arm64");
  CHECK(j["manifests"][1]["platform"]["variant"] == "v8");
  CHECK(j["manifests"][0]["layers"][0]["diffID"].is_string());

  auto text = digest({"oci:" + kData + "/image-oci:multi", "--layers"});
  CHECK(text.exit_code == 0);
  CHECK(text.err.find("platform manifest linux/arm64/v8:") != std::string::npos);
}

TEST_CASE("sigil digest works on the sample layout and on docker archives", "[cli][digest]") {
  auto sample = digest({"oci:" + kData + "/sample-layout"});
  CHECK(sample.exit_code == 0);
  CHECK(sample.out == "sha256:2cd8c0d64a25afc2c8c1ca3028aa89793b3d3f04cec3a58668a71803132897e8\n");

  TempDir tmp;
  auto built = sigil::test::build_layout(tmp / "img");
  sigil::test::write_docker_archive(built, tmp / "legacy.tar", sigil::test::ArchiveForm::kLegacy);
  sigil::test::write_docker_archive(built, tmp / "oci.tar", sigil::test::ArchiveForm::kOci);
  auto legacy =
      digest({"-o", "json", "--layers", "docker-archive:" + (tmp / "legacy.tar").string()});
  REQUIRE(legacy.exit_code == 0);
  auto j = nlohmann::json::parse(legacy.out);
  CHECK(j["manifest"]["mediaType"] == "application/vnd.docker.distribution.manifest.v2+json");
  CHECK(j["config"]["digest"] == built.images[0].config.digest.str());
  CHECK(j["layers"][0]["diffID"] == built.images[0].layers[0].diff_id.str());
  auto oci = digest({"docker-archive:" + (tmp / "oci.tar").string() + ":sigil.test/img:latest"});
  CHECK(oci.exit_code == 0);
  CHECK(oci.out == built.manifest_digest.str() + "\n");
}

TEST_CASE("sigil digest exits 3 naming the input on bad images", "[cli][digest]") {
  TempDir tmp;
  auto built = sigil::test::build_layout(tmp / "img");
  const auto& layer = built.images[0].layers[0];

  SECTION("unknown tag") {
    auto r = digest({built.reference("nope")});
    CHECK(r.exit_code == 3);
    CHECK(r.err.find("oci:" + built.dir.string() + ": no image tagged 'nope' (tags: latest)") !=
          std::string::npos);
    CHECK(r.out.empty());
  }
  SECTION("a layer that does not match its digest") {
    auto blob = layer.blob;
    blob[blob.size() / 2] ^= 1;
    trust::write_file_atomic(built.blob_path(layer.descriptor.digest), blob);
    // Resolving reads no layer; --layers reads them all and refuses.
    auto resolved = digest({built.reference("latest")});
    CHECK(resolved.exit_code == 0);
    CHECK(resolved.out == built.manifest_digest.str() + "\n");
    auto r = digest({"--layers", built.reference("latest")});
    CHECK(r.exit_code == 3);
    CHECK(r.err.find(layer.descriptor.digest.str()) != std::string::npos);
    CHECK(r.err.find("does not match its digest") != std::string::npos);
    CHECK(r.out.empty());
  }
  SECTION("a missing blob") {
    fs::remove(built.blob_path(layer.descriptor.digest));
    auto r = digest({"--layers", built.reference("latest")});
    CHECK(r.exit_code == 3);
    CHECK(r.err.find("blob " + layer.descriptor.digest.str() + " not found") != std::string::npos);
  }
  SECTION("malformed index.json") {
    sigil::test::write_text_file(built.dir / "index.json", R"({"schemaVersion":2,"manifests":[)");
    auto r = digest({built.reference("latest")});
    CHECK(r.exit_code == 3);
    CHECK(r.err.find(built.dir.string() + "/index.json: malformed JSON") != std::string::npos);
  }
  SECTION("empty index.json") {
    sigil::test::write_text_file(built.dir / "index.json", R"({"schemaVersion":2,"manifests":[]})");
    auto r = digest({built.reference()});
    CHECK(r.exit_code == 3);
    CHECK(r.err.find("index.json lists no manifests") != std::string::npos);
  }
  SECTION("a symlinked blob") {
    auto other = sigil::test::build_layout(tmp / "other");
    fs::remove(built.blob_path(layer.descriptor.digest));
    fs::create_symlink(other.blob_path(layer.descriptor.digest),
                       built.blob_path(layer.descriptor.digest));
    auto r = digest({"--layers", built.reference("latest")});
    CHECK(r.exit_code == 3);
    CHECK(r.err.find("symbolic link") != std::string::npos);
  }
  SECTION("a docker archive whose manifest.json escapes with '..'") {
    sigil::test::write_tar(tmp / "bad.tar", {{.name = "manifest.json",
                                              .content = R"([{"Config":"../c.json","Layers":[]}])",
                                              .symlink_target = {}}});
    auto r = digest({"--layers", "docker-archive:" + (tmp / "bad.tar").string()});
    CHECK(r.exit_code == 3);
    CHECK(r.err.find("docker-archive:" + (tmp / "bad.tar").string()) != std::string::npos);
    CHECK(r.err.find("'../c.json'") != std::string::npos);
  }
  SECTION("a diffID that disagrees with the config") {
    auto config = std::string(trust::as_string_view(built.images[0].config_bytes));
    auto pos = config.find(layer.diff_id.str());
    config.replace(pos, layer.diff_id.str().size(), "sha256:" + std::string(64, '0'));
    // Rewrite config and manifest so digests stay consistent; only the diffID is wrong.
    auto cd = sigil::test::write_blob(built.dir, trust::as_bytes(config));
    auto manifest = std::string(trust::as_string_view(built.images[0].manifest_bytes));
    manifest.replace(manifest.find(built.images[0].config.digest.str()), 71, cd.str());
    manifest.replace(manifest.find("\"size\":" + std::to_string(built.images[0].config.size)),
                     7 + std::to_string(built.images[0].config.size).size(),
                     "\"size\":" + std::to_string(config.size()));
    auto md = sigil::test::write_blob(built.dir, trust::as_bytes(manifest));
    trust::oci::Descriptor d;
    d.media_type = "application/vnd.oci.image.manifest.v1+json";
    d.digest = md;
    d.size = manifest.size();
    d.annotations["org.opencontainers.image.ref.name"] = "latest";
    sigil::test::write_index_json(built.dir, {d});
    auto r = digest({"--layers", built.reference("latest")});
    CHECK(r.exit_code == 3);
    CHECK(r.err.find("DOES NOT MATCH the config") != std::string::npos);
  }
}

TEST_CASE("sigil digest usage errors exit 2", "[cli][digest]") {
  auto none = digest({});
  CHECK(none.exit_code == 2);
  CHECK(none.err == "sigil: error: IMAGE is required (see sigil digest --help)\n");
  auto yaml = digest({"--output", "yaml", "oci:" + kData + "/image-oci:v1"});
  CHECK(yaml.exit_code == 2);
  CHECK(yaml.err ==
        "sigil: error: --output: 'yaml' is not one of text, json (see sigil digest --help)\n");
  auto threads = digest({"--threads", "2", "oci:" + kData + "/image-oci:v1"});
  CHECK(threads.exit_code == 2);
  CHECK(threads.err == "sigil: error: --threads requires --layers (see sigil digest --help)\n");
  auto several = digest({"oci:" + kData + "/image-oci"});
  CHECK(several.exit_code == 2);
  CHECK_THAT(several.err, Catch::Contains("tags: v1, v2, multi, v3"));
}

TEST_CASE("sigil digest --layers reports a manifest listed twice once and says where",
          "[cli][digest]") {
  TempDir tmp;
  auto built = sigil::test::build_layout(tmp / "img", {});
  const auto& image = built.images[0];
  trust::oci::Index index;
  index.schema_version = 2;
  index.media_type = "application/vnd.oci.image.index.v1+json";
  index.manifests = {image.manifest, image.manifest};
  const auto bytes = index.to_json();
  trust::oci::Descriptor entry;
  entry.media_type = index.media_type;
  entry.digest = sigil::test::write_blob(built.dir, trust::as_bytes(bytes));
  entry.size = bytes.size();
  entry.annotations["org.opencontainers.image.ref.name"] = "twice";
  sigil::test::write_index_json(built.dir, {entry});

  auto j = digest({"--layers", "--output", "json", "oci:" + built.dir.string() + ":twice"});
  REQUIRE(j.exit_code == 0);
  const auto report = nlohmann::json::parse(j.out);
  REQUIRE(report["manifests"].size() == 2);
  CHECK(report["manifests"][0]["layers"].size() == 1);
  CHECK_FALSE(report["manifests"][0].contains("repeated"));
  CHECK(report["manifests"][1]["repeated"] == true);
  CHECK_FALSE(report["manifests"][1].contains("layers"));
  CHECK(report["manifests"][1]["manifest"]["digest"] == image.manifest.digest.str());

  auto t = digest({"--layers", "oci:" + built.dir.string() + ":twice"});
  REQUIRE(t.exit_code == 0);
  CHECK_THAT(t.err,
             Catch::Contains("(listed again: inspected and reported where it is first listed)"));
}
