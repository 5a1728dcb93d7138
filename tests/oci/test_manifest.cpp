// The OCI model: strict, capped parsing of manifests, indexes and configs; exact re-serialisation.
#include <catch2/catch.hpp>

#include <string>

#include "libtrust/core/file.h"
#include "libtrust/core/limits.h"
#include "libtrust/core/media_type.h"
#include "libtrust/oci/manifest.h"
#include "oci/oci_test_util.h"

using namespace trust;
using namespace trust::oci;
using oci_test::code_of;

namespace {

const std::string kData = SIGIL_TEST_DATA;
const std::string kHex = std::string(64, 'a');

Bytes data_file(const std::string& rel) {
  return read_file(kData + "/" + rel, 1 << 20);
}

std::string layer_json(std::size_t i,
                       const std::string& media_type = std::string(media_type::kOciLayerGzip)) {
  auto hex = std::to_string(i);
  hex = std::string(64 - hex.size(), '0') + hex;
  return R"({"mediaType":")" + media_type + R"(","digest":"sha256:)" + hex + R"(","size":10})";
}

std::string manifest_with_layers(std::size_t n) {
  std::string s =
      R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
      R"("config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:)" +
      kHex + R"(","size":2},"layers":[)";
  for (std::size_t i = 0; i < n; ++i) s += (i ? "," : "") + layer_json(i);
  return s + "]}";
}

std::string index_with_entries(std::size_t n) {
  std::string s =
      R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[)";
  for (std::size_t i = 0; i < n; ++i) {
    s += (i ? "," : "") + layer_json(i, std::string(media_type::kOciManifest));
  }
  return s + "]}";
}

Manifest parse_manifest(const std::string& s) {
  return Manifest::parse(as_bytes(s), "test manifest");
}

}  // namespace

TEST_CASE("containers/image signature manifests re-serialise byte for byte", "[oci][manifest]") {
  for (auto file :
       {"cimage-signed-v1/sig-manifest.json", "cimage-signed-multi-index/sig-manifest.json",
        "cimage-signed-v1/image-manifest.json"}) {
    INFO(file);
    auto bytes = data_file(file);
    auto m = Manifest::parse(bytes, file);
    CHECK(m.raw == bytes);
    CHECK(m.to_json() == std::string(as_string_view(bytes)));
    CHECK(m.raw == bytes);
  }
  auto sig = Manifest::parse(data_file("cimage-signed-v1/sig-manifest.json"), "sig");
  REQUIRE(sig.layers.size() == 1);
  CHECK(sig.layers[0].media_type == media_type::kCosignSimpleSigning);
  CHECK(sig.layers[0].annotations.count("dev.cosignproject.cosign/signature") == 1);
  CHECK(sig.config.size == 153);
}

TEST_CASE("an index with platforms and the layout's index.json re-serialise byte for byte",
          "[oci][manifest]") {
  for (auto file :
       {"image-oci/blobs/sha256/3238c3b657a89838f2919db1295458bf3207c0de52d8995259cba2de0263ff93",
        "image-oci/index.json"}) {
    INFO(file);
    auto bytes = data_file(file);
    auto x = Index::parse(bytes, file);
    CHECK(x.to_json() == std::string(as_string_view(bytes)));
  }
  auto multi =
      Index::parse(data_file("image-oci/blobs/sha256/"
                             "3238c3b657a89838f2919db1295458bf3207c0de52d8995259cba2de0263ff93"),
                   "multi");
  REQUIRE(multi.manifests.size() == 2);
  REQUIRE(multi.manifests[1].platform);
  CHECK(multi.manifests[1].platform->str() == "linux/arm64/v8");
}

TEST_CASE("to_json writes keys in OCI order and omits empty fields", "[oci][manifest]") {
  Manifest m;
  m.media_type = std::string(media_type::kOciManifest);
  m.artifact_type = "application/x-test";
  m.config.media_type = std::string(media_type::kOciEmpty);
  m.config.digest = Digest::of(as_bytes("{}"));
  m.config.size = 2;
  Descriptor subject;
  subject.media_type = std::string(media_type::kOciManifest);
  subject.digest = Digest::parse("sha256:" + kHex);
  subject.size = 7;
  m.subject = subject;
  m.annotations["b"] = "2";
  m.annotations["a"] = "1";
  auto s = m.to_json();
  CHECK(
      s ==
      R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
      R"("artifactType":"application/x-test","config":{"mediaType":"application/vnd.oci.empty.v1+json",)"
      R"("digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},)"
      R"("layers":[],"subject":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:)" +
          kHex + R"(","size":7},"annotations":{"a":"1","b":"2"}})");
  auto back = Manifest::parse(as_bytes(s), "round trip");
  CHECK(back.to_json() == s);
  REQUIRE(back.subject);
  CHECK(back.subject->size == 7);
}

TEST_CASE("Docker schema2 manifests and manifest lists read into the same types",
          "[oci][manifest]") {
  auto m = parse_manifest(
      R"({"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",)"
      R"("config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":7023,"digest":"sha256:)" +
      kHex +
      R"("},"layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","size":32654,"digest":"sha256:)" +
      kHex + R"("}]})");
  CHECK(m.media_type == media_type::kDockerManifest);
  CHECK(m.layers.at(0).size == 32654);
  CHECK(layer_compression(m.layers[0].media_type) == Compression::kGzip);

  auto list = Index::parse(
      as_bytes(
          R"({"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json",)"
          R"("manifests":[{"mediaType":"application/vnd.docker.distribution.manifest.v2+json","size":7143,"digest":"sha256:)" +
          kHex + R"(","platform":{"architecture":"ppc64le","os":"linux"}}]})"),
      "list");
  CHECK(list.manifests.at(0).platform->architecture == "ppc64le");
}

TEST_CASE("manifests are parsed strictly with the exact error code", "[oci][manifest]") {
  auto valid = manifest_with_layers(1);
  CHECK(parse_manifest(valid).layers.size() == 1);
  // Malformed and truncated JSON.
  CHECK(code_of([&] { parse_manifest(valid.substr(0, valid.size() / 2)); }) == ErrorCode::kInput);
  CHECK(code_of([&] { parse_manifest("{\"schemaVersion\":2,"); }) == ErrorCode::kInput);
  CHECK(code_of([&] { parse_manifest("[]"); }) == ErrorCode::kInput);
  CHECK(code_of([&] { parse_manifest(""); }) == ErrorCode::kInput);
  // schemaVersion.
  auto v1 = valid;
  v1.replace(v1.find("\"schemaVersion\":2"), 17, "\"schemaVersion\":1");
  CHECK(code_of([&] { parse_manifest(v1); }) == ErrorCode::kUnsupported);
  auto no_version = valid;
  no_version.replace(no_version.find("\"schemaVersion\":2,"), 18, "");
  CHECK(code_of([&] { parse_manifest(no_version); }) == ErrorCode::kInput);
  // Unknown top-level media type; an index where a manifest was expected.
  auto unknown = valid;
  unknown.replace(unknown.find("application/vnd.oci.image.manifest.v1+json"), 42,
                  "application/x-unknown+json");
  CHECK(code_of([&] { parse_manifest(unknown); }) == ErrorCode::kUnsupported);
  CHECK(code_of([&] { parse_manifest(index_with_entries(1)); }) == ErrorCode::kInput);
  // Digests and sizes.
  auto bad_digest = valid;
  bad_digest.replace(bad_digest.find("sha256:" + kHex), 7 + 64, "sha256:../../etc/passwd");
  CHECK(code_of([&] { parse_manifest(bad_digest); }) == ErrorCode::kInput);
  auto negative = valid;
  negative.replace(negative.find("\"size\":10"), 9, "\"size\":-1");
  CHECK(code_of([&] { parse_manifest(negative); }) == ErrorCode::kInput);
  auto fractional = valid;
  fractional.replace(fractional.find("\"size\":10"), 9, "\"size\":1.5");
  CHECK(code_of([&] { parse_manifest(fractional); }) == ErrorCode::kInput);
  auto string_size = valid;
  string_size.replace(string_size.find("\"size\":10"), 9, "\"size\":\"10\"");
  CHECK(code_of([&] { parse_manifest(string_size); }) == ErrorCode::kInput);
  // Duplicate keys (parser differentials).
  auto dup = valid;
  dup.replace(dup.find("\"schemaVersion\":2"), 17, "\"schemaVersion\":2,\"schemaVersion\":2");
  CHECK(code_of([&] { parse_manifest(dup); }) == ErrorCode::kInput);
  // Missing config.
  CHECK(code_of([&] { parse_manifest(R"({"schemaVersion":2,"layers":[]})"); }) ==
        ErrorCode::kInput);
}

TEST_CASE("arbitrary artifact layer media types are accepted in manifests", "[oci][manifest]") {
  auto s = manifest_with_layers(0);
  s.insert(s.size() - 2, layer_json(1, "application/vnd.example.whatever+json"));
  auto m = parse_manifest(s);
  CHECK(m.layers.at(0).media_type == "application/vnd.example.whatever+json");
  CHECK_FALSE(layer_compression(m.layers[0].media_type));
}

TEST_CASE("manifest size is capped at kMaxManifestBytes", "[oci][manifest][limits]") {
  auto base = manifest_with_layers(1);
  auto at_limit = base + std::string(limits::kMaxManifestBytes - base.size(), ' ');
  REQUIRE(at_limit.size() == limits::kMaxManifestBytes);
  CHECK(parse_manifest(at_limit).raw.size() == limits::kMaxManifestBytes);
  CHECK(code_of([&] { parse_manifest(at_limit + " "); }) == ErrorCode::kLimit);
}

TEST_CASE("layer count is capped at kMaxLayersPerManifest", "[oci][manifest][limits]") {
  CHECK(parse_manifest(manifest_with_layers(limits::kMaxLayersPerManifest)).layers.size() ==
        limits::kMaxLayersPerManifest);
  CHECK(code_of([&] { parse_manifest(manifest_with_layers(limits::kMaxLayersPerManifest + 1)); }) ==
        ErrorCode::kLimit);
}

TEST_CASE("index entries are capped at kMaxIndexEntries", "[oci][manifest][limits]") {
  CHECK(
      Index::parse(as_bytes(index_with_entries(limits::kMaxIndexEntries)), "i").manifests.size() ==
      limits::kMaxIndexEntries);
  CHECK(code_of([&] {
          Index::parse(as_bytes(index_with_entries(limits::kMaxIndexEntries + 1)), "i");
        }) == ErrorCode::kLimit);
}

TEST_CASE("JSON nesting is capped at kMaxJsonDepth", "[oci][manifest][limits]") {
  auto nested = [](int depth) {  // the manifest object itself is level 1
    auto base = manifest_with_layers(1);
    std::string extra = ",\"x\":" + std::string(static_cast<std::size_t>(depth - 1), '[') +
                        std::string(static_cast<std::size_t>(depth - 1), ']');
    base.insert(base.size() - 1, extra);
    return base;
  };
  CHECK(parse_manifest(nested(limits::kMaxJsonDepth)).layers.size() == 1);
  CHECK(code_of([&] { parse_manifest(nested(limits::kMaxJsonDepth + 1)); }) == ErrorCode::kLimit);
}

TEST_CASE("classify_manifest uses the declared type, the mediaType field, then the shape",
          "[oci][manifest]") {
  auto m = manifest_with_layers(1);
  auto x = index_with_entries(1);
  CHECK(classify_manifest(as_bytes(m), "", "m") == ManifestKind::kImage);
  CHECK(classify_manifest(as_bytes(x), "", "x") == ManifestKind::kIndex);
  CHECK(classify_manifest(as_bytes(m), media_type::kOciManifest, "m") == ManifestKind::kImage);
  CHECK(classify_manifest(as_bytes(R"({"schemaVersion":2,"manifests":[]})"), "", "s") ==
        ManifestKind::kIndex);
  CHECK(classify_manifest(as_bytes(R"({"schemaVersion":2,"config":{},"layers":[]})"), "", "s") ==
        ManifestKind::kImage);
  // Declared type disagrees with the content: refused, not guessed.
  CHECK(code_of([&] { classify_manifest(as_bytes(m), media_type::kOciIndex, "m"); }) ==
        ErrorCode::kInput);
  CHECK(code_of([&] { classify_manifest(as_bytes(m), "application/x-nope", "m"); }) ==
        ErrorCode::kUnsupported);
  CHECK(code_of([&] { classify_manifest(as_bytes("{}"), "", "m"); }) == ErrorCode::kInput);
  CHECK(is_index_media_type(media_type::kDockerManifestList));
  CHECK(is_manifest_media_type(media_type::kDockerManifest));
}

TEST_CASE("layer media types map to their compression", "[oci][manifest]") {
  CHECK(layer_compression(media_type::kOciLayerTar) == Compression::kNone);
  CHECK(layer_compression("application/vnd.docker.image.rootfs.diff.tar") == Compression::kNone);
  CHECK(layer_compression(media_type::kOciLayerGzip) == Compression::kGzip);
  CHECK(layer_compression(media_type::kDockerLayerForeignGzip) == Compression::kGzip);
  CHECK(layer_compression(media_type::kOciLayerZstd) == Compression::kZstd);
  CHECK_FALSE(layer_compression(media_type::kCosignSimpleSigning));
}

TEST_CASE("image configs give os, architecture and validated diff_ids", "[oci][manifest]") {
  auto c = ImageConfig::parse(
      data_file("image-oci/blobs/sha256/"
                "5767e6ddaa2f6cec34f9faa4d297cb44f824b7c6a55fbe7673cdd61ec0b6860d"),
      "config");
  CHECK(c.os == "linux");
  CHECK(c.architecture == "amd64");
  REQUIRE(c.diff_ids.size() == 1);
  CHECK(c.diff_ids[0].str() ==
        "sha256:b6e44d74cae5a8cf51a8013d7b0d4ec78a25ffda427cf0893c7d9808699594d4");
  CHECK(ImageConfig::parse(as_bytes("{}"), "empty").diff_ids.empty());
  CHECK(code_of([] { ImageConfig::parse(as_bytes(R"({"rootfs":{"diff_ids":["nope"]}})"), "c"); }) ==
        ErrorCode::kInput);
  CHECK(code_of([] { ImageConfig::parse(as_bytes(R"({"rootfs":{"diff_ids":"x"}})"), "c"); }) ==
        ErrorCode::kInput);
}
