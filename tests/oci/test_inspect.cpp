// inspect_image: every blob verified while hashing, diffIDs through gzip/zstd, layers in parallel.
#include <catch2/catch.hpp>

#include <filesystem>
#include <string>

#include "libtrust/core/file.h"
#include "libtrust/core/limits.h"
#include "libtrust/core/media_type.h"
#include "libtrust/oci/inspect.h"
#include "libtrust/oci/layout.h"
#include "oci/oci_test_util.h"
#include "support/layout_builder.h"
#include "support/process.h"

using namespace trust;
using namespace trust::oci;
using oci_test::code_of;
using oci_test::thrown_by;
using sigil::test::LayerCompression;
namespace fs = std::filesystem;

namespace {

const std::string kData = SIGIL_TEST_DATA;

InspectOptions opts(unsigned threads, bool diff_ids = true, bool recurse = true) {
  return {.threads = threads, .compute_diff_ids = diff_ids, .recurse_index = recurse};
}

ImageReport inspect_tag(const std::string& ref_text, const InspectOptions& options = {}) {
  auto ref = Reference::parse(ref_text);
  auto store = open_oci_layout(ref.path());
  return inspect_image(*store, store->resolve(ref), options);
}

// A one-layer image whose layer blob is exactly `blob` (typed `media_type`), with a config that
// lists `diff_id`.
sigil::test::BuiltLayout layout_with_layer(const fs::path& dir, const Bytes& blob,
                                           std::string_view media_type,
                                           const Digest& diff_id = Digest()) {
  auto built = sigil::test::build_layout(dir);
  Descriptor layer;
  layer.media_type = std::string(media_type);
  layer.digest = sigil::test::write_blob(dir, blob);
  layer.size = blob.size();
  auto config =
      to_bytes(R"({"os":"linux","architecture":"amd64","rootfs":{"type":"layers","diff_ids":[")" +
               diff_id.str() + "\"]}}");
  Manifest m;
  m.media_type = std::string(media_type::kOciManifest);
  m.config.media_type = std::string(media_type::kOciConfig);
  m.config.digest = sigil::test::write_blob(dir, config);
  m.config.size = config.size();
  m.layers.push_back(layer);
  auto bytes = to_bytes(m.to_json());
  Descriptor md;
  md.media_type = std::string(media_type::kOciManifest);
  md.digest = sigil::test::write_blob(dir, bytes);
  md.size = bytes.size();
  md.annotations[std::string(kAnnotationRefName)] = "latest";
  sigil::test::write_index_json(dir, {md});
  return built;
}

}  // namespace

TEST_CASE("diffIDs of the reference image match its config", "[oci][inspect]") {
  auto r = inspect_tag("oci:" + kData + "/image-oci:v1");
  REQUIRE(r.config);
  CHECK(r.config->digest.str() ==
        "sha256:5767e6ddaa2f6cec34f9faa4d297cb44f824b7c6a55fbe7673cdd61ec0b6860d");
  REQUIRE(r.layers.size() == 1);
  CHECK(r.layers[0].diff_id_computed);
  CHECK(r.layers[0].diff_id.str() ==
        "sha256:b6e44d74cae5a8cf51a8013d7b0d4ec78a25ffda427cf0893c7d9808699594d4");
  CHECK(r.layers[0].uncompressed_size == 10240);
  CHECK(r.layers[0].diff_id_matches_config);
  CHECK(r.diff_ids_consistent);
  REQUIRE(r.platform);
  CHECK(r.platform->str() == "linux/amd64");
}

TEST_CASE("an index reports each platform's manifest", "[oci][inspect]") {
  auto r = inspect_tag("oci:" + kData + "/image-oci:multi");
  CHECK(r.manifest.media_type == media_type::kOciIndex);
  CHECK_FALSE(r.config);
  REQUIRE(r.children.size() == 2);
  CHECK(r.children[0].platform->str() == "linux/amd64");
  CHECK(r.children[1].platform->str() == "linux/arm64/v8");
  for (const auto& c : r.children) {
    REQUIRE(c.layers.size() == 1);
    CHECK(c.layers[0].diff_id_matches_config);
  }
  auto shallow = inspect_tag("oci:" + kData + "/image-oci:multi", opts(0, true, false));
  CHECK(shallow.children.empty());
}

TEST_CASE("diffIDs are computed through gzip, multi-member gzip, zstd and plain tar",
          "[oci][inspect]") {
  sigil::test::TempDir tmp;
  sigil::test::ImageSpec image;
  // 3 MiB layers cross the 1 MiB chunk boundaries on both sides of the decompressor.
  image.layers = {sigil::test::layer(3u << 20, LayerCompression::kGzip, 1),
                  sigil::test::layer(3u << 20, LayerCompression::kGzipMultiMember, 2),
                  sigil::test::layer(3u << 20, LayerCompression::kZstd, 3),
                  sigil::test::layer(5000, LayerCompression::kNone, 4),
                  sigil::test::layer(0, LayerCompression::kGzip, 5)};
  auto built = sigil::test::build_layout(tmp / "img", {.images = {image}, .index_tag = {}});
  for (unsigned threads : {1u, 4u}) {
    INFO("threads " << threads);
    auto r = inspect_tag(built.reference("latest"), opts(threads));
    REQUIRE(r.layers.size() == image.layers.size());
    for (std::size_t i = 0; i < r.layers.size(); ++i) {
      INFO("layer " << i);
      CHECK(r.layers[i].descriptor.digest == built.images[0].layers[i].descriptor.digest);
      CHECK(r.layers[i].diff_id == built.images[0].layers[i].diff_id);
      CHECK(r.layers[i].uncompressed_size == built.images[0].layers[i].tar.size());
      CHECK(r.layers[i].diff_id_matches_config);
    }
    CHECK(r.diff_ids_consistent);
  }
}

TEST_CASE("without diffIDs, layers are still verified but not decompressed", "[oci][inspect]") {
  sigil::test::TempDir tmp;
  auto built = sigil::test::build_layout(tmp / "img");
  auto r = inspect_tag(built.reference("latest"), opts(0, false));
  REQUIRE(r.layers.size() == 1);
  CHECK_FALSE(r.layers[0].diff_id_computed);
  auto blob = built.images[0].layers[0].blob;
  blob[10] ^= 1;
  write_file_atomic(built.blob_path(built.images[0].layers[0].descriptor.digest), blob);
  CHECK(code_of([&] { inspect_tag(built.reference("latest"), opts(0, false)); }) ==
        ErrorCode::kDigestMismatch);
}

TEST_CASE("a tampered layer or config is a digest mismatch naming the blob", "[oci][inspect]") {
  sigil::test::TempDir tmp;
  sigil::test::ImageSpec image;
  image.layers = {sigil::test::layer(1024, LayerCompression::kGzip, 1),
                  sigil::test::layer(1024, LayerCompression::kGzip, 2),
                  sigil::test::layer(1024, LayerCompression::kGzip, 3)};
  auto built = sigil::test::build_layout(tmp / "img", {.images = {image}, .index_tag = {}});
  const auto& layer = built.images[0].layers[2];
  auto blob = layer.blob;
  blob.back() ^= 1;
  write_file_atomic(built.blob_path(layer.descriptor.digest), blob);
  auto t = thrown_by([&] { inspect_tag(built.reference("latest"), opts(3)); });
  CHECK(t.code == ErrorCode::kDigestMismatch);
  CHECK(t.message.find(layer.descriptor.digest.str()) != std::string::npos);

  auto config = built.images[0].config_bytes;
  config.push_back(' ');
  write_file_atomic(built.blob_path(built.images[0].config.digest), config);
  CHECK(code_of([&] { inspect_tag(built.reference("latest")); }) == ErrorCode::kDigestMismatch);
}

TEST_CASE("truncated or corrupt compressed layers are input errors naming the layer",
          "[oci][inspect]") {
  sigil::test::TempDir tmp;
  auto tar = sigil::test::make_tar(
      {{.name = "a", .content = sigil::test::pattern_bytes(100000, 9), .symlink_target = {}}});
  auto gz = sigil::test::gzip_bytes(tar);
  auto zs = sigil::test::zstd_bytes(tar);
  auto diff_id = Digest::of(tar);

  SECTION("complete streams are fine") {
    auto built = layout_with_layer(tmp / "ok", gz, media_type::kOciLayerGzip, diff_id);
    CHECK(inspect_tag(built.reference("latest")).layers.at(0).diff_id == diff_id);
  }
  SECTION("truncated gzip") {
    Bytes cut(gz.begin(), gz.begin() + static_cast<std::ptrdiff_t>(gz.size() / 2));
    auto built = layout_with_layer(tmp / "g", cut, media_type::kOciLayerGzip, diff_id);
    auto t = thrown_by([&] { inspect_tag(built.reference("latest")); });
    CHECK(t.code == ErrorCode::kInput);
    CHECK(t.message.find("layer 0 (" + Digest::of(cut).str() + ")") != std::string::npos);
    CHECK(t.message.find("truncated gzip") != std::string::npos);
  }
  SECTION("gzip missing only its trailer") {
    Bytes cut(gz.begin(), gz.end() - 4);
    auto built = layout_with_layer(tmp / "g", cut, media_type::kOciLayerGzip, diff_id);
    CHECK(code_of([&] { inspect_tag(built.reference("latest")); }) == ErrorCode::kInput);
  }
  SECTION("gzip followed by garbage") {
    auto bad = gz;
    for (int i = 0; i < 16; ++i) bad.push_back(static_cast<std::uint8_t>(i * 37));
    auto built = layout_with_layer(tmp / "g", bad, media_type::kOciLayerGzip, diff_id);
    CHECK(code_of([&] { inspect_tag(built.reference("latest")); }) == ErrorCode::kInput);
  }
  SECTION("an empty gzip layer") {
    auto built = layout_with_layer(tmp / "g", {}, media_type::kOciLayerGzip, diff_id);
    CHECK(code_of([&] { inspect_tag(built.reference("latest")); }) == ErrorCode::kInput);
  }
  SECTION("truncated zstd") {
    Bytes cut(zs.begin(), zs.begin() + static_cast<std::ptrdiff_t>(zs.size() - 3));
    auto built = layout_with_layer(tmp / "z", cut, media_type::kOciLayerZstd, diff_id);
    auto t = thrown_by([&] { inspect_tag(built.reference("latest")); });
    CHECK(t.code == ErrorCode::kInput);
    CHECK(t.message.find("truncated zstd") != std::string::npos);
  }
  SECTION("gzip bytes labelled zstd") {
    auto built = layout_with_layer(tmp / "z", gz, media_type::kOciLayerZstd, diff_id);
    CHECK(code_of([&] { inspect_tag(built.reference("latest")); }) == ErrorCode::kInput);
  }
}

TEST_CASE("unknown layer media types fail only when diffIDs are computed", "[oci][inspect]") {
  sigil::test::TempDir tmp;
  auto payload = to_bytes(R"({"critical":{}})");
  auto built = layout_with_layer(tmp / "a", payload, media_type::kCosignSimpleSigning);
  auto t = thrown_by([&] { inspect_tag(built.reference("latest")); });
  CHECK(t.code == ErrorCode::kUnsupported);
  CHECK(t.message.find(std::string("unknown layer media type ") +
                       std::string(media_type::kCosignSimpleSigning)) != std::string::npos);
  auto r = inspect_tag(built.reference("latest"), opts(0, false));
  CHECK(r.layers.at(0).descriptor.digest == Digest::of(payload));
}

TEST_CASE("a diffID that disagrees with the config is reported, not hidden", "[oci][inspect]") {
  sigil::test::TempDir tmp;
  auto tar = sigil::test::make_tar({{.name = "a", .content = "hello", .symlink_target = {}}});
  auto built = layout_with_layer(tmp / "a", sigil::test::gzip_bytes(tar), media_type::kOciLayerGzip,
                                 Digest::of(to_bytes("something else")));
  auto r = inspect_tag(built.reference("latest"));
  CHECK(r.layers.at(0).diff_id == Digest::of(tar));
  CHECK_FALSE(r.layers[0].diff_id_matches_config);
  CHECK_FALSE(r.diff_ids_consistent);
}

TEST_CASE("inspect options are validated", "[oci][inspect]") {
  CHECK(code_of([] { opts(100000).validate(); }) == ErrorCode::kUsage);
  CHECK(code_of([] { opts(257).validate(); }) == ErrorCode::kUsage);
  // At the maximum: a whole inspection runs with it.
  auto r = inspect_tag("oci:" + kData + "/image-oci:v1", opts(256));
  CHECK(r.layers.size() == 1);
}

TEST_CASE("indexes nested kMaxIndexNesting deep are read, one more level is refused",
          "[oci][inspect][limits]") {
  sigil::test::TempDir tmp;
  auto built = sigil::test::build_layout(tmp / "nest", {});
  auto store = open_oci_layout(built.dir);
  // Wrap the image's manifest in `levels` indexes; returns the outermost index.
  auto wrap = [&](int levels) {
    Descriptor d = built.images[0].manifest;
    for (int i = 0; i < levels; ++i) {
      Index index;
      index.media_type = std::string(media_type::kOciIndex);
      index.manifests.push_back(d);
      auto json = index.to_json();
      d = store->put_manifest(as_bytes(json), media_type::kOciIndex);
    }
    return d;
  };
  auto ok = inspect_image(*store, wrap(limits::kMaxIndexNesting), opts(1, false));
  const ImageReport* r = &ok;
  for (int i = 0; i < limits::kMaxIndexNesting; ++i) {
    REQUIRE(r->children.size() == 1);
    r = &r->children[0];
  }
  CHECK(r->manifest.digest == built.images[0].manifest.digest);
  auto e = thrown_by(
      [&] { (void)inspect_image(*store, wrap(limits::kMaxIndexNesting + 1), opts(1, false)); });
  CHECK(e.code == ErrorCode::kLimit);
  CHECK_THAT(e.message, Catch::Contains("nested deeper than 4"));
}
