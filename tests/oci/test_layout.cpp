// OCI image layouts: tags, resolution, verified reads, refusal of escapes, atomic writes.
#include <catch2/catch.hpp>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "libtrust/core/file.h"
#include "libtrust/core/limits.h"
#include "libtrust/core/media_type.h"
#include "libtrust/oci/copy.h"
#include "libtrust/oci/layout.h"
#include "libtrust/sig/cosign_layout.h"
#include "libtrust/sig/referrers.h"
#include "libtrust/sig/signer.h"
#include "oci/oci_test_util.h"
#include "support/layout_builder.h"
#include "support/process.h"
#include "support/test_keys.h"

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
  CHECK(open_oci_layout(tmp / "d")->find_tag("latest") == std::nullopt);
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
  // Streamed: the sink sees every byte, and only the end says they were wrong (a sink must not
  // act on content before stream_blob returns).
  std::uint64_t streamed = 0;
  CHECK(code_of([&] {
          store->stream_blob(layer.descriptor, [&](ByteView b) { streamed += b.size(); });
        }) == ErrorCode::kDigestMismatch);
  CHECK(streamed == layer.descriptor.size);

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
  CHECK(Digest::of(store->fetch_blob(desc, desc.size)) == desc.digest);
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
    CHECK(t.message == "oci:" + built.dir.string() + ": blob " + layer.descriptor.digest.str() +
                           " is a symbolic link (refused: paths must stay in the layout)");
  }
  SECTION("blobs/sha256 is a symlink to another directory") {
    auto built = sigil::test::build_layout(tmp / "img");
    fs::remove_all(built.dir / "blobs" / "sha256");
    fs::create_directory_symlink(outside.dir / "blobs" / "sha256", built.dir / "blobs" / "sha256");
    auto store = open_oci_layout(built.dir);
    auto t = thrown_by([&] { store->fetch_blob(layer.descriptor, 1 << 20); });
    CHECK(t.code == ErrorCode::kInput);
    CHECK(t.message == "oci:" + built.dir.string() +
                           ": blobs/sha256/ is a symbolic link (refused: paths must stay in the "
                           "layout)");
  }
  SECTION("blobs is a symlink to another directory") {
    auto built = sigil::test::build_layout(tmp / "img");
    fs::remove_all(built.dir / "blobs");
    fs::create_directory_symlink(outside.dir / "blobs", built.dir / "blobs");
    auto store = open_oci_layout(built.dir);
    auto t = thrown_by([&] { store->fetch_blob(layer.descriptor, 1 << 20); });
    CHECK(t.code == ErrorCode::kInput);
    CHECK(t.message == "oci:" + built.dir.string() +
                           ": blobs/ is a symbolic link (refused: paths must stay in the layout)");
  }
  SECTION("index.json is a symlink") {
    auto built = sigil::test::build_layout(tmp / "img");
    fs::remove(built.dir / "index.json");
    fs::create_symlink(outside.dir / "index.json", built.dir / "index.json");
    auto t = thrown_by([&] { open_oci_layout(built.dir); });
    CHECK(t.code == ErrorCode::kInput);
    CHECK(t.message == "oci:" + built.dir.string() +
                           ": index.json is a symbolic link (refused: paths must stay in the "
                           "layout)");
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

TEST_CASE("signing into a layout keeps every index.json entry and field it does not change",
          "[oci][layout][write]") {
  using nlohmann::json;
  sigil::test::TempDir tmp;
  sigil::test::ImageSpec other;
  other.tag = "other";
  other.layers = {sigil::test::layer(10, sigil::test::LayerCompression::kGzip, 7)};
  auto built = sigil::test::build_layout(
      tmp / "img", {.images = {sigil::test::ImageSpec{}, other}, .index_tag = {}});
  const auto& a = built.images[0].manifest;
  const auto& b = built.images[1].manifest;
  // What sigil does not model, in entries and at the top level, as another tool may write it.
  auto entry = [](const Descriptor& d, const std::string& tag) {
    return json{{"mediaType", d.media_type},
                {"digest", d.digest.str()},
                {"size", d.size},
                {"annotations", {{"org.opencontainers.image.ref.name", tag}, {"x.note", "é ✓"}}},
                {"platform",
                 {{"architecture", "amd64"},
                  {"os", "linux"},
                  {"os.features", json::array({"win32k"})},
                  {"features", json::array({"sse4", "avx2"})},
                  {"variant", "v3"}}},
                {"data", "e30="},
                {"urls", json::array({"https://example.com/blob"})},
                {"x-unknown", {{"nested", json::array({1, 2.5, true, nullptr, "s"})}}}};
  };
  json before = {{"schemaVersion", 2},
                 {"mediaType", "application/vnd.oci.image.index.v1+json"},
                 {"manifests", json::array({entry(a, "latest"), entry(b, "other")})},
                 {"annotations", {{"org.opencontainers.image.created", "2024-01-01T00:00:00Z"}}},
                 {"x-extension", {{"k", json::array({"v", 3})}}}};
  sigil::test::write_text_file(built.dir / "index.json", before.dump());

  auto store = open_oci_layout(built.dir);
  const auto& key = sigil::test::test_key();
  sig::SignOptions options{
      .docker_reference = "example.com/app", .annotations = {}, .recursive = false};
  auto image = store->resolve(Reference::parse(built.reference("latest")));
  REQUIRE(sig::sign_image(*store, image, key, options).size() == 1);
  REQUIRE(sig::sign_image_bundle(*store, image, key, options).size() == 1);
  // Tagging "other" with the image it already names leaves its entry as it is.
  store->set_tag("other", b);

  auto after = json::parse(sigil::test::read_text_file(built.dir / "index.json"));
  // The .sig tag and the referrers fallback tag were added after the existing entries.
  REQUIRE(after["manifests"].size() == 4);
  CHECK(after["manifests"][0] == before["manifests"][0]);
  CHECK(after["manifests"][1] == before["manifests"][1]);
  CHECK(after["manifests"][2]["annotations"]["org.opencontainers.image.ref.name"] ==
        sig::signature_tag(a.digest));
  CHECK(after["manifests"][3]["annotations"]["org.opencontainers.image.ref.name"] ==
        referrers_fallback_tag(a.digest));
  auto rest = [](json j) {
    j.erase("manifests");
    return j;
  };
  CHECK(rest(after) == rest(before));

  // An index.json without a mediaType gets the OCI one, and keeps the rest.
  before.erase("mediaType");
  sigil::test::write_text_file(built.dir / "index.json", before.dump());
  store->set_tag("third", a);
  after = json::parse(sigil::test::read_text_file(built.dir / "index.json"));
  CHECK(after["mediaType"] == "application/vnd.oci.image.index.v1+json");
  after.erase("mediaType");
  CHECK(rest(after) == rest(before));
  CHECK(after["manifests"][0] == before["manifests"][0]);
  CHECK(after["manifests"][1] == before["manifests"][1]);

  // Moving a tag to another image rewrites that entry, in its position, and nothing else.
  store->set_tag("other", a);
  auto moved = json::parse(sigil::test::read_text_file(built.dir / "index.json"));
  CHECK(moved["manifests"][0] == before["manifests"][0]);
  CHECK(moved["manifests"][1] ==
        json::parse(R"({"mediaType":")" + a.media_type + R"(","digest":")" + a.digest.str() +
                    R"(","size":)" + std::to_string(a.size) +
                    R"(,"annotations":{"org.opencontainers.image.ref.name":"other"}})"));
  CHECK(moved["manifests"].size() == after["manifests"].size());
}

TEST_CASE("set_tag refuses to grow index.json past kMaxIndexEntries", "[oci][layout][limits]") {
  sigil::test::TempDir tmp;
  auto built = sigil::test::build_layout(tmp / "img");
  const auto m = built.images[0].manifest;
  std::vector<Descriptor> entries;
  for (std::size_t i = 0; i < limits::kMaxIndexEntries - 1; ++i) {
    auto d = m;
    d.annotations[std::string(kAnnotationRefName)] = "t" + std::to_string(i);
    entries.push_back(d);
  }
  sigil::test::write_index_json(built.dir, entries);
  auto store = open_oci_layout(built.dir);
  store->set_tag("last", m);  // the 1000th entry
  CHECK(store->find_tag("last")->digest == m.digest);
  auto t = thrown_by([&] { store->set_tag("one-more", m); });
  CHECK(t.code == ErrorCode::kLimit);
  CHECK(t.message ==
        "oci:" + built.dir.string() + "/index.json: 1001 entries is over the limit of 1000");
  CHECK_FALSE(store->find_tag("one-more").has_value());
}

TEST_CASE("big blobs, read ahead on a second thread, are verified like small ones",
          "[oci][layout]") {
  sigil::test::TempDir tmp;
  sigil::test::ImageSpec image;
  image.layers = {sigil::test::layer(6u << 20, sigil::test::LayerCompression::kNone, 3)};
  auto built = sigil::test::build_layout(tmp / "img", {.images = {image}, .index_tag = {}});
  const auto& layer = built.images[0].layers[0];
  auto store = open_oci_layout(built.dir);
  // Several at once: some read ahead, the others (no idle core) read on their own thread.
  {
    std::vector<Bytes> got(4);
    std::vector<std::jthread> readers;
    for (std::size_t i = 0; i < got.size(); ++i) {
      readers.emplace_back([&, i] { got[i] = store->fetch_blob(layer.descriptor, 8u << 20); });
    }
    readers.clear();
    for (const auto& g : got) CHECK(g == layer.blob);
  }
  const auto path = built.blob_path(layer.descriptor.digest);
  auto tampered = layer.blob;
  tampered[tampered.size() - 1] ^= 1;
  write_file_atomic(path, tampered);
  CHECK(code_of([&] { (void)store->fetch_blob(layer.descriptor, 8u << 20); }) ==
        ErrorCode::kDigestMismatch);
  auto longer = layer.blob;
  longer.resize(longer.size() + (1u << 20), 0);
  write_file_atomic(path, longer);
  std::uint64_t seen = 0;
  auto t = thrown_by(
      [&] { store->stream_blob(layer.descriptor, [&](ByteView b) { seen += b.size(); }); });
  CHECK(t.code == ErrorCode::kDigestMismatch);
  CHECK(t.message == "oci:" + built.dir.string() + ": blob " + layer.descriptor.digest.str() +
                         " is longer than the " + std::to_string(layer.descriptor.size) +
                         " bytes its descriptor declares");
  CHECK(seen <= layer.descriptor.size);
  write_file_atomic(path, ByteView(layer.blob).subspan(0, layer.blob.size() - 100));
  CHECK(code_of([&] { (void)store->fetch_blob(layer.descriptor, 8u << 20); }) ==
        ErrorCode::kDigestMismatch);
  // A sink that fails stops the reading, and its error comes back.
  write_file_atomic(path, layer.blob);
  int calls = 0;
  auto s = thrown_by([&] {
    store->stream_blob(layer.descriptor, [&](ByteView) {
      if (++calls == 3) throw IoError("sink full");
    });
  });
  CHECK(s.code == ErrorCode::kIo);
  CHECK(s.message == "sink full");
  CHECK(calls == 3);
}

TEST_CASE("a signed layout still resolves without a tag: attachments are not images",
          "[oci][layout]") {
  sigil::test::TempDir tmp;
  auto built = sigil::test::build_layout(tmp / "img", {});
  auto store = open_oci_layout(built.dir);
  const auto dir_ref = "oci:" + built.dir.string();
  auto image = resolve(*store, dir_ref);
  sig::SignOptions options{
      .docker_reference = "example.com/app", .annotations = {}, .recursive = false};
  REQUIRE(sig::sign_image(*store, image, sigil::test::test_key(), options).size() == 1);
  REQUIRE(sig::sign_image_bundle(*store, image, sigil::test::test_key(), options).size() == 1);
  // index.json now lists the image, its .sig manifest and its referrers index.
  REQUIRE(store->find_tag(sig::signature_tag(image.digest)));
  REQUIRE(store->find_tag(referrers_fallback_tag(image.digest)));
  CHECK(resolve(*store, dir_ref).digest == image.digest);

  // A second image is another image: the reference must name one, and the message lists the
  // images' tags, not the attachments'.
  sigil::test::ImageSpec other;
  other.tag = "other";
  other.layers = {sigil::test::layer(10, sigil::test::LayerCompression::kGzip, 7)};
  auto second = sigil::test::build_layout(tmp / "second", {.images = {other}, .index_tag = {}});
  auto source = open_oci_layout(second.dir);
  (void)copy_image(*source, *store, second.images[0].manifest);
  store->set_tag("other", second.images[0].manifest);
  auto t = thrown_by([&] { resolve(*store, dir_ref); });
  CHECK(t.code == ErrorCode::kUsage);
  CHECK(t.message ==
        dir_ref + " holds 2 images; name one as " + dir_ref + ":TAG (tags: latest, other)");
}

TEST_CASE("attachment tags are told from image tags", "[oci]") {
  const auto d = Digest::of(as_bytes("x"));
  const auto base = "sha256-" + d.hex();
  for (const auto& t : {base, base + ".sig", base + ".att", base + ".sbom"}) {
    CHECK(is_attachment_tag(t));
  }
  for (const std::string& t :
       std::vector<std::string>{"latest", "v1.0", base + ".tar", "sha256-abc.sig",
                                "sha256-" + d.hex() + "x", "md5-" + d.hex(), base.substr(0, 20)}) {
    CHECK_FALSE(is_attachment_tag(t));
  }
}
