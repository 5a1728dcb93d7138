// OCI image layouts: tags, resolution, verified reads, refusal of escapes, atomic writes.
#include <catch2/catch.hpp>

#include <filesystem>
#include <string>

#include "libtrust/core/file.h"
#include "libtrust/core/limits.h"
#include "libtrust/core/media_type.h"
#include "libtrust/oci/layout.h"
#include "oci/oci_test_util.h"
#include "support/layout_builder.h"
#include "support/process.h"

using namespace trust;
using namespace trust::oci;
using oci_test::code_of;
using oci_test::thrown_by;
namespace fs = std::filesystem;

namespace {

const std::string kData = SIGIL_TEST_DATA;
const std::string kV1 = "sha256:2757703db410695547cef88bb4b2947d7b48ebcd7f11cf8cc21c7e06184b707d";
const std::string kMultiChildAmd64 =
    "sha256:ee1ceb6c70826f05170fcbfa40e7c870909ea49193bb03ce83d9f3651a77d535";

fs::path copy_reference_layout(const sigil::test::TempDir& tmp) {
  auto dir = tmp / "image-oci";
  fs::copy(kData + "/image-oci", dir, fs::copy_options::recursive);
  for (auto& e : fs::recursive_directory_iterator(dir)) {
    fs::permissions(e.path(), fs::perms::owner_write, fs::perm_options::add);
  }
  fs::permissions(dir, fs::perms::owner_write, fs::perm_options::add);
  return dir;
}

Descriptor resolve(ImageSource& s, const std::string& ref) {
  return s.resolve(Reference::parse(ref));
}

}  // namespace

TEST_CASE("the reference layout resolves each tag to its manifest", "[oci][layout]") {
  auto dir = kData + "/image-oci";
  auto store = open_oci_layout(dir);
  CHECK(store->describe() == "oci:" + dir);
  auto v1 = resolve(*store, "oci:" + dir + ":v1");
  CHECK(v1.digest.str() == kV1);
  CHECK(v1.media_type == media_type::kOciManifest);
  CHECK(v1.size == 475);
  auto multi = resolve(*store, "oci:" + dir + ":multi");
  CHECK(multi.media_type == media_type::kOciIndex);
  CHECK(resolve(*store, "oci:" + dir + ":v3").digest.str() ==
        "sha256:a40be2b2b0b897ae3f82c65acb1ab095c330cfc8100b42f1b21854f08adfe542");
  // By digest: an index.json entry, and a child of the index that index.json does not list.
  CHECK(resolve(*store, "oci:" + dir + "@" + kV1).digest.str() == kV1);
  auto child = resolve(*store, "oci:" + dir + "@" + kMultiChildAmd64);
  CHECK(child.media_type == media_type::kOciManifest);
  CHECK(child.size == 475);
  CHECK(store->find_tag("v2").has_value());
  CHECK_FALSE(store->find_tag("sha256-abc.sig").has_value());
}

TEST_CASE("an unknown tag is NotFound and lists the tags there are", "[oci][layout]") {
  auto dir = kData + "/image-oci";
  auto store = open_oci_layout(dir);
  auto t = thrown_by([&] { resolve(*store, "oci:" + dir + ":nope"); });
  CHECK(t.code == ErrorCode::kNotFound);
  CHECK(t.message == "oci:" + dir + ": no image tagged 'nope' (tags: v1, v2, multi, v3)");
}

TEST_CASE("no tag resolves the only image, and is a usage error when there are several",
          "[oci][layout]") {
  auto dir = kData + "/image-oci";
  auto store = open_oci_layout(dir);
  auto t = thrown_by([&] { resolve(*store, "oci:" + dir); });
  CHECK(t.code == ErrorCode::kUsage);
  CHECK(t.message.find("tags: v1, v2, multi, v3") != std::string::npos);

  sigil::test::TempDir tmp;
  auto built = sigil::test::build_layout(tmp / "one");
  auto one = open_oci_layout(built.dir);
  CHECK(one->resolve(Reference::parse(built.reference())).digest == built.manifest_digest);
}

TEST_CASE("an empty index.json is a clear input error", "[oci][layout]") {
  sigil::test::TempDir tmp;
  auto store = create_oci_layout(tmp / "empty");
  auto t = thrown_by([&] { store->resolve(Reference::parse("oci:" + (tmp / "empty").string())); });
  CHECK(t.code == ErrorCode::kInput);
  CHECK(t.message.find("index.json lists no manifests") != std::string::npos);

  sigil::test::write_text_file(tmp / "empty" / "index.json", "");
  CHECK(code_of([&] { open_oci_layout(tmp / "empty"); }) == ErrorCode::kInput);
}

TEST_CASE("a directory that is not a layout is refused on open", "[oci][layout]") {
  sigil::test::TempDir tmp;
  fs::create_directories(tmp / "d");
  CHECK(code_of([&] { open_oci_layout(tmp / "d"); }) == ErrorCode::kInput);
  CHECK(code_of([&] { open_oci_layout(tmp / "missing"); }) == ErrorCode::kNotFound);
  sigil::test::write_text_file(tmp / "d" / "oci-layout", R"({"imageLayoutVersion":"2.0.0"})");
  sigil::test::write_text_file(tmp / "d" / "index.json", R"({"schemaVersion":2,"manifests":[]})");
  CHECK(code_of([&] { open_oci_layout(tmp / "d"); }) == ErrorCode::kUnsupported);
  sigil::test::write_text_file(tmp / "d" / "oci-layout", R"({"imageLayoutVersion":"1.0.0"})");
  CHECK_NOTHROW(open_oci_layout(tmp / "d"));
  sigil::test::write_text_file(tmp / "d" / "index.json", R"({"schemaVersion":2,"manifests":[)");
  CHECK(code_of([&] { open_oci_layout(tmp / "d"); }) == ErrorCode::kInput);
}

TEST_CASE("blob reads are verified against digest and size", "[oci][layout]") {
  sigil::test::TempDir tmp;
  auto built = sigil::test::build_layout(tmp / "img");
  auto store = open_oci_layout(built.dir);
  const auto& layer = built.images[0].layers[0];
  CHECK(store->fetch_blob(layer.descriptor, 1 << 20) == layer.blob);

  // Same size, different bytes.
  auto tampered = layer.blob;
  tampered[tampered.size() / 2] ^= 0x55;
  write_file_atomic(built.blob_path(layer.descriptor.digest), tampered);
  auto t = thrown_by([&] { store->fetch_blob(layer.descriptor, 1 << 20); });
  CHECK(t.code == ErrorCode::kDigestMismatch);
  CHECK(t.message.find(layer.descriptor.digest.str()) != std::string::npos);
  CHECK(t.message.find("oci:" + built.dir.string()) != std::string::npos);
  bool sink_called = false;
  CHECK(code_of([&] {
          store->stream_blob(layer.descriptor, [&](ByteView) { sink_called = true; });
        }) == ErrorCode::kDigestMismatch);

  // Longer than declared: refused before the excess reaches the sink.
  auto longer = layer.blob;
  longer.push_back(0);
  write_file_atomic(built.blob_path(layer.descriptor.digest), longer);
  std::uint64_t seen = 0;
  CHECK(code_of([&] {
          store->stream_blob(layer.descriptor, [&](ByteView b) { seen += b.size(); });
        }) == ErrorCode::kDigestMismatch);
  CHECK(seen <= layer.descriptor.size);

  // Truncated.
  write_file_atomic(built.blob_path(layer.descriptor.digest),
                    ByteView(layer.blob).subspan(0, layer.blob.size() - 1));
  CHECK(code_of([&] { store->fetch_blob(layer.descriptor, 1 << 20); }) ==
        ErrorCode::kDigestMismatch);
}

TEST_CASE("a missing blob is NotFound naming the digest", "[oci][layout]") {
  sigil::test::TempDir tmp;
  auto dir = copy_reference_layout(tmp);
  // Tag v3's manifest blob is removed: resolving still works (index.json), reading does not.
  auto v3 = "sha256:a40be2b2b0b897ae3f82c65acb1ab095c330cfc8100b42f1b21854f08adfe542";
  fs::remove(dir / "blobs/sha256/a40be2b2b0b897ae3f82c65acb1ab095c330cfc8100b42f1b21854f08adfe542");
  auto store = open_oci_layout(dir);
  auto desc = store->resolve(Reference::parse("oci:" + dir.string() + ":v3"));
  auto t = thrown_by([&] { store->fetch_manifest(desc); });
  CHECK(t.code == ErrorCode::kNotFound);
  CHECK(t.message == "oci:" + dir.string() + ": blob " + v3 + " not found");
  // A digest index.json does not list must exist as a blob.
  CHECK(code_of([&] {
          store->resolve(
              Reference::parse("oci:" + dir.string() + "@sha256:" + std::string(64, 'b')));
        }) == ErrorCode::kNotFound);
}

TEST_CASE("declared sizes over a cap are refused before reading", "[oci][layout][limits]") {
  auto store = open_oci_layout(kData + "/image-oci");
  auto desc = store->resolve(Reference::parse("oci:" + kData + "/image-oci:v1"));
  CHECK(code_of([&] { store->fetch_blob(desc, desc.size - 1); }) == ErrorCode::kLimit);
  CHECK_NOTHROW(store->fetch_blob(desc, desc.size));
  auto big = desc;
  big.size = limits::kMaxManifestBytes + 1;
  CHECK(code_of([&] { store->fetch_manifest(big); }) == ErrorCode::kLimit);
}

TEST_CASE("symlinks inside the layout are refused", "[oci][layout][escape]") {
  sigil::test::TempDir tmp;
  auto outside = sigil::test::build_layout(tmp / "outside");
  const auto& layer = outside.images[0].layers[0];

  SECTION("a blob that is a symlink") {
    auto built = sigil::test::build_layout(tmp / "img");
    auto path = built.blob_path(layer.descriptor.digest);
    fs::remove(path);
    fs::create_symlink(outside.blob_path(layer.descriptor.digest), path);
    auto store = open_oci_layout(built.dir);
    auto t = thrown_by([&] { store->fetch_blob(layer.descriptor, 1 << 20); });
    CHECK(t.code == ErrorCode::kInput);
    CHECK(t.message.find("symbolic link") != std::string::npos);
  }
  SECTION("blobs/sha256 is a symlink to another directory") {
    auto built = sigil::test::build_layout(tmp / "img");
    fs::remove_all(built.dir / "blobs" / "sha256");
    fs::create_directory_symlink(outside.dir / "blobs" / "sha256", built.dir / "blobs" / "sha256");
    auto store = open_oci_layout(built.dir);
    CHECK(code_of([&] { store->fetch_blob(layer.descriptor, 1 << 20); }) == ErrorCode::kInput);
  }
  SECTION("index.json is a symlink") {
    auto built = sigil::test::build_layout(tmp / "img");
    fs::remove(built.dir / "index.json");
    fs::create_symlink(outside.dir / "index.json", built.dir / "index.json");
    CHECK(code_of([&] { open_oci_layout(built.dir); }) == ErrorCode::kInput);
  }
}

TEST_CASE("'..' cannot reach outside the layout through a digest", "[oci][layout][escape]") {
  sigil::test::TempDir tmp;
  auto built = sigil::test::build_layout(tmp / "img");
  sigil::test::write_text_file(
      built.dir / "index.json",
      R"({"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
      R"("digest":"sha256:../../../../etc/passwd","size":1}]})");
  auto t = thrown_by([&] { open_oci_layout(built.dir); });
  CHECK(t.code == ErrorCode::kInput);
  CHECK(t.message.find("index.json") != std::string::npos);
}

TEST_CASE("writes: put_blob verifies, put_manifest stores, set_tag replaces atomically",
          "[oci][layout][write]") {
  sigil::test::TempDir tmp;
  auto store = create_oci_layout(tmp / "new");
  auto config = to_bytes("{}");
  CHECK(code_of([&] { store->put_blob(config, Digest::of(to_bytes("{ }"))); }) ==
        ErrorCode::kDigestMismatch);
  CHECK_FALSE(fs::exists(tmp / "new" / "blobs" / "sha256" / Digest::of(to_bytes("{ }")).hex()));
  store->put_blob(config, Digest::of(config));
  store->put_blob(config, Digest::of(config));  // idempotent

  Manifest m;
  m.media_type = std::string(media_type::kOciManifest);
  m.config.media_type = std::string(media_type::kOciEmpty);
  m.config.digest = Digest::of(config);
  m.config.size = config.size();
  auto bytes = to_bytes(m.to_json());
  auto d1 = store->put_manifest(bytes, media_type::kOciManifest);
  CHECK(d1.digest == Digest::of(bytes));
  store->set_tag("t", d1);
  CHECK(store->resolve(Reference::parse("oci:" + (tmp / "new").string() + ":t")).digest ==
        d1.digest);

  m.annotations["n"] = "2";
  auto bytes2 = to_bytes(m.to_json());
  auto d2 = store->put_manifest(bytes2, media_type::kOciManifest);
  store->set_tag("other", d1);
  store->set_tag("t", d2);
  auto index = Index::parse(read_file(tmp / "new" / "index.json", 1 << 20), "index.json");
  REQUIRE(index.manifests.size() == 2);
  CHECK(index.manifests[0].digest == d2.digest);  // replaced in place
  CHECK(index.manifests[0].annotations.at(std::string(kAnnotationRefName)) == "t");
  CHECK(store->fetch_manifest(d2) == bytes2);
  // A reopened layout sees the same, and nothing temporary was left behind.
  auto again = open_oci_layout(tmp / "new");
  CHECK(again->find_tag("t")->digest == d2.digest);
  for (auto& e : fs::recursive_directory_iterator(tmp / "new")) {
    CHECK(e.path().filename().string().rfind(".", 0) != 0);
  }
  // put_manifest refuses bytes that are not a manifest of the declared kind.
  CHECK(code_of([&] { store->put_manifest(bytes, media_type::kOciIndex); }) == ErrorCode::kInput);
}

TEST_CASE("create_oci_layout refuses a non-empty directory that is not a layout",
          "[oci][layout][write]") {
  sigil::test::TempDir tmp;
  fs::create_directories(tmp / "d");
  sigil::test::write_text_file(tmp / "d" / "x", "x");
  CHECK(code_of([&] { create_oci_layout(tmp / "d"); }) == ErrorCode::kExists);
  auto built = sigil::test::build_layout(tmp / "img");
  CHECK(create_oci_layout(built.dir)->find_tag("latest")->digest == built.manifest_digest);
}
