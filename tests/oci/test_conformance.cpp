// One suite, every backend: the OCI layout, a legacy `docker save` archive, and a Docker >= 25
// archive (OCI layout inside the tar) must behave the same through ImageSource.
#include <catch2/catch.hpp>

#include <filesystem>
#include <memory>
#include <string>

#include "libtrust/core/media_type.h"
#include "libtrust/oci/docker_archive.h"
#include "libtrust/oci/image_source.h"
#include "libtrust/oci/inspect.h"
#include "libtrust/oci/layout.h"
#include "oci/oci_test_util.h"
#include "support/layout_builder.h"
#include "support/process.h"

using namespace trust;
using namespace trust::oci;
using oci_test::code_of;
namespace fs = std::filesystem;

namespace {

// Layer 1 is larger than what archive sources keep in memory, so it is re-read from the file.
constexpr std::size_t kBigLayer = 1;

sigil::test::LayoutSpec conformance_spec() {
  sigil::test::ImageSpec image;
  image.layers = {sigil::test::layer(2000, sigil::test::LayerCompression::kGzip, 11),
                  sigil::test::layer(600u << 10, sigil::test::LayerCompression::kGzip, 12),
                  sigil::test::layer(3000, sigil::test::LayerCompression::kNone, 13)};
  sigil::test::ImageSpec other;
  other.tag = "other";
  other.layers = {sigil::test::layer(10, sigil::test::LayerCompression::kGzip, 14)};
  return {.images = {image, other}, .index_tag = {}};
}

struct LayoutBackend {
  static constexpr const char* kName = "oci layout";
  sigil::test::TempDir tmp;
  sigil::test::BuiltLayout built = sigil::test::build_layout(tmp / "img", conformance_spec());
  std::unique_ptr<ImageSource> source = open_image_source(Reference::parse(reference()));

  std::string reference(const std::string& tag = "latest") const { return built.reference(tag); }
  Bytes layer_bytes(std::size_t i) const { return built.images[0].layers[i].blob; }
  void corrupt_layer(std::size_t i) {
    auto b = layer_bytes(i);
    b[b.size() / 2] ^= 1;
    sigil::test::write_blob(tmp / "scratch", b);
    fs::copy_file(tmp / "scratch/blobs/sha256" / Digest::of(b).hex(),
                  built.blob_path(built.images[0].layers[i].descriptor.digest),
                  fs::copy_options::overwrite_existing);
  }
};

template <sigil::test::ArchiveForm Form>
struct ArchiveBackend {
  static constexpr const char* kName = Form == sigil::test::ArchiveForm::kLegacy
                                           ? "docker-archive (legacy)"
                                           : "docker-archive (docker 25 OCI)";
  sigil::test::TempDir tmp;
  sigil::test::BuiltLayout built = sigil::test::build_layout(tmp / "img", conformance_spec());
  fs::path file = write(tmp / "image.tar", built);
  std::unique_ptr<ImageSource> source = open_image_source(Reference::parse(reference()));

  static fs::path write(const fs::path& f, const sigil::test::BuiltLayout& b) {
    sigil::test::write_docker_archive(b, f, Form);
    return f;
  }
  std::string reference(const std::string& tag = "latest") const {
    return "docker-archive:" + file.string() + ":sigil.test/img:" + tag;
  }
  // Legacy archives hold the uncompressed tars (docker save); Docker 25 the registry blobs.
  Bytes layer_bytes(std::size_t i) const {
    const auto& l = built.images[0].layers[i];
    return Form == sigil::test::ArchiveForm::kLegacy ? l.tar : l.blob;
  }
  // Rewrites the archive after the source was opened: what it serves must still be checked.
  void corrupt_layer(std::size_t i) {
    auto copy = built;
    auto& l = copy.images[0].layers[i];
    auto& bytes = Form == sigil::test::ArchiveForm::kLegacy ? l.tar : l.blob;
    bytes[bytes.size() / 2] ^= 1;
    sigil::test::write_docker_archive(copy, file, Form);
  }
};

using LegacyArchiveBackend = ArchiveBackend<sigil::test::ArchiveForm::kLegacy>;
using OciArchiveBackend = ArchiveBackend<sigil::test::ArchiveForm::kOci>;

Bytes stream_all(ImageSource& s, const Descriptor& d, std::size_t* chunks = nullptr) {
  Bytes out;
  s.stream_blob(d, [&](ByteView b) {
    out.insert(out.end(), b.begin(), b.end());
    if (chunks) ++*chunks;
  });
  return out;
}

}  // namespace

TEMPLATE_TEST_CASE("image sources resolve a tag and serve its verified manifest",
                   "[oci][conformance]", LayoutBackend, LegacyArchiveBackend, OciArchiveBackend) {
  TestType b;
  INFO(TestType::kName);
  auto desc = b.source->resolve(Reference::parse(b.reference()));
  CHECK(is_manifest_media_type(desc.media_type));
  auto bytes = b.source->fetch_manifest(desc);
  CHECK(Digest::of(bytes) == desc.digest);
  CHECK(bytes.size() == desc.size);
  auto m = Manifest::parse(bytes, "manifest");
  REQUIRE(m.layers.size() == 3);
  for (std::size_t i = 0; i < 3; ++i) CHECK(m.layers[i].digest == Digest::of(b.layer_bytes(i)));

  // Resolving the digest gives the same manifest; the other tag another one.
  auto by_digest = b.source->resolve(Reference::parse(b.reference()).with_digest(desc.digest));
  CHECK(by_digest.digest == desc.digest);
  CHECK(b.source->resolve(Reference::parse(b.reference("other"))).digest != desc.digest);
  CHECK(b.source->find_tag("sha256-0000.sig") == std::nullopt);
  CHECK(code_of([&] { b.source->resolve(Reference::parse(b.reference("nope"))); }) ==
        ErrorCode::kNotFound);
}

TEMPLATE_TEST_CASE("image sources serve the config and layers, whole and streamed",
                   "[oci][conformance]", LayoutBackend, LegacyArchiveBackend, OciArchiveBackend) {
  TestType b;
  INFO(TestType::kName);
  auto desc = b.source->resolve(Reference::parse(b.reference()));
  auto m = Manifest::parse(b.source->fetch_manifest(desc), "manifest");
  auto config = ImageConfig::parse(b.source->fetch_blob(m.config, 1 << 20), "config");
  REQUIRE(config.diff_ids.size() == 3);
  for (std::size_t i = 0; i < 3; ++i) {
    INFO("layer " << i);
    CHECK(config.diff_ids[i] == b.built.images[0].layers[i].diff_id);
    CHECK(b.source->fetch_blob(m.layers[i], 1 << 20) == b.layer_bytes(i));
    std::size_t chunks = 0;
    CHECK(stream_all(*b.source, m.layers[i], &chunks) == b.layer_bytes(i));
    CHECK(chunks >= 1);
  }
  CHECK(code_of([&] { b.source->fetch_blob(m.layers[kBigLayer], m.layers[kBigLayer].size - 1); }) ==
        ErrorCode::kLimit);

  auto report =
      inspect_image(*b.source, desc,
                    InspectOptions{.threads = 2, .compute_diff_ids = true, .recurse_index = true});
  REQUIRE(report.layers.size() == 3);
  for (std::size_t i = 0; i < 3; ++i) {
    CHECK(report.layers[i].diff_id == b.built.images[0].layers[i].diff_id);
    CHECK(report.layers[i].uncompressed_size == b.built.images[0].layers[i].tar.size());
  }
  CHECK(report.diff_ids_consistent);
}

TEMPLATE_TEST_CASE("image sources report missing blobs and wrong sizes", "[oci][conformance]",
                   LayoutBackend, LegacyArchiveBackend, OciArchiveBackend) {
  TestType b;
  INFO(TestType::kName);
  auto desc = b.source->resolve(Reference::parse(b.reference()));
  auto m = Manifest::parse(b.source->fetch_manifest(desc), "manifest");

  auto missing = m.layers[0];
  missing.digest = Digest::of(to_bytes("not in this image"));
  auto t = oci_test::thrown_by([&] { stream_all(*b.source, missing); });
  CHECK(t.code == ErrorCode::kNotFound);
  CHECK(t.message.find(missing.digest.str()) != std::string::npos);
  CHECK(t.message.find(b.source->describe()) == 0);

  auto wrong_size = m.layers[0];
  wrong_size.size += 1;
  CHECK(code_of([&] { b.source->fetch_blob(wrong_size, 1 << 20); }) == ErrorCode::kDigestMismatch);
  wrong_size.size -= 2;
  CHECK(code_of([&] { stream_all(*b.source, wrong_size); }) == ErrorCode::kDigestMismatch);
}

TEMPLATE_TEST_CASE("image sources detect content that no longer matches its digest",
                   "[oci][conformance]", LayoutBackend, LegacyArchiveBackend, OciArchiveBackend) {
  TestType b;
  INFO(TestType::kName);
  auto desc = b.source->resolve(Reference::parse(b.reference()));
  auto m = Manifest::parse(b.source->fetch_manifest(desc), "manifest");
  b.corrupt_layer(kBigLayer);
  auto t = oci_test::thrown_by([&] { stream_all(*b.source, m.layers[kBigLayer]); });
  CHECK(t.code == ErrorCode::kDigestMismatch);
  CHECK(t.message.find(m.layers[kBigLayer].digest.str()) != std::string::npos);
  CHECK(code_of([&] { inspect_image(*b.source, desc); }) == ErrorCode::kDigestMismatch);
}
