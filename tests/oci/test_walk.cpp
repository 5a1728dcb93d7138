// Walking an image through nested indexes: each manifest fetched once per operation, every
// listing counted against limits::kMaxManifestsPerImage. The shapes that multiply (an index that
// lists one child many times; indexes that list each other: diamonds) finish with few reads and a
// clear LimitError past the budget, in inspect_image, the copy and signing_targets, from layouts
// and from docker archives (whose OCI form has an index.json too).
#include <catch2/catch.hpp>

#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "libtrust/core/limits.h"
#include "libtrust/core/media_type.h"
#include "libtrust/oci/copy.h"
#include "libtrust/oci/docker_archive.h"
#include "libtrust/oci/inspect.h"
#include "libtrust/oci/layout.h"
#include "libtrust/sig/attachments.h"
#include "libtrust/sig/signer.h"
#include "oci/archive_fixtures.h"
#include "oci/oci_test_util.h"
#include "support/layout_builder.h"
#include "support/process.h"

using namespace trust;
using namespace trust::oci;
using oci_test::thrown_by;
namespace fs = std::filesystem;

namespace {

// Counts every blob read (manifests included) per digest; everything else is the inner source's.
class CountingSource final : public ImageSource {
 public:
  explicit CountingSource(std::unique_ptr<ImageSource> inner) : inner_(std::move(inner)) {}
  std::string describe() const override { return inner_->describe(); }
  Descriptor resolve(const Reference& ref) override { return inner_->resolve(ref); }
  std::optional<Descriptor> find_tag(std::string_view tag) override {
    return inner_->find_tag(tag);
  }
  void stream_blob(const Descriptor& desc, const std::function<void(ByteView)>& sink) override {
    {
      std::lock_guard lock(mu_);
      ++reads_[desc.digest];
    }
    inner_->stream_blob(desc, sink);
  }
  bool supports_parallel_reads() const override { return inner_->supports_parallel_reads(); }
  std::vector<std::size_t> reading_order(const std::vector<Descriptor>& descs) override {
    return inner_->reading_order(descs);
  }
  int reads(const Digest& d) {
    std::lock_guard lock(mu_);
    return reads_[d];
  }
  int total_reads() {
    std::lock_guard lock(mu_);
    int n = 0;
    for (const auto& [d, c] : reads_) n += c;
    return n;
  }

 private:
  std::unique_ptr<ImageSource> inner_;
  std::mutex mu_;
  std::map<Digest, int> reads_;
};

// An index listing each of `children` `times` times (annotated `note`, so indexes of the same
// children can differ), stored in the layout.
Descriptor put_index(ImageStore& store, const std::vector<Descriptor>& children, std::size_t times,
                     const std::string& note = "") {
  Index index;
  index.media_type = std::string(media_type::kOciIndex);
  for (const auto& c : children) {
    for (std::size_t i = 0; i < times; ++i) index.manifests.push_back(c);
  }
  if (!note.empty()) index.annotations["note"] = note;
  auto json = index.to_json();
  return store.put_manifest(as_bytes(json), media_type::kOciIndex);
}

// The shapes, in one layout: the image M; `repeated` lists M 1000 times; `diamond2` lists an index
// of 1000 Ms 1000 times (2001 listings: under the budget); `diamond3` one more level (3001);
// `wide` three different indexes of 1000 Ms (3004).
struct Shapes {
  sigil::test::TempDir tmp;
  sigil::test::BuiltLayout built = sigil::test::build_layout(tmp / "img");
  Descriptor m = built.images[0].manifest;
  Descriptor repeated, diamond2, diamond3, wide;

  Shapes() {
    auto store = open_oci_layout(built.dir);
    const auto n = limits::kMaxIndexEntries;
    repeated = put_index(*store, {m}, n);
    diamond2 = put_index(*store, {repeated}, n);
    diamond3 = put_index(*store, {diamond2}, n);
    wide = put_index(*store,
                     {put_index(*store, {m}, n, "1"), put_index(*store, {m}, n, "2"),
                      put_index(*store, {m}, n, "3")},
                     1);
    for (auto [tag, d] : {std::pair{"repeated", repeated}, std::pair{"diamond2", diamond2},
                          std::pair{"diamond3", diamond3}, std::pair{"wide", wide}}) {
      store->set_tag(tag, d);
    }
  }

  std::string over_budget(const std::string& source, const Descriptor& image) const {
    return source + ": image " + image.digest.str() + ": " +
           std::to_string(limits::kMaxManifestsPerImage + 1) +
           " manifests and indexes listed (repeats included) is over the limit of " +
           std::to_string(limits::kMaxManifestsPerImage);
  }
};

// A docker archive (OCI form) of the whole layout, plain or gzip-compressed.
fs::path archive_of(const Shapes& s, oci_test::Filter filter) {
  auto file = s.tmp / (std::string("shapes.tar.") + oci_test::filter_name(filter));
  oci_test::write_file(
      file, oci_test::compress(oci_test::tar_of(oci_test::items_of_dir(s.built.dir)), filter));
  return file;
}

InspectOptions hash_only() {
  return {.threads = 2, .compute_diff_ids = false, .recurse_index = true};
}

}  // namespace

TEST_CASE("an index listing one manifest a thousand times reads it once and reports it once",
          "[oci][walk]") {
  Shapes s;
  CountingSource source(open_oci_layout(s.built.dir));
  auto r = inspect_image(source, s.repeated, hash_only());
  REQUIRE(r.children.size() == limits::kMaxIndexEntries);
  CHECK_FALSE(r.children[0].repeated);
  CHECK(r.children[0].layers.size() == 1);
  for (std::size_t i = 1; i < r.children.size(); ++i) {
    INFO("child " << i);
    CHECK(r.children[i].repeated);
    CHECK(r.children[i].manifest.digest == s.m.digest);
    CHECK(r.children[i].layers.empty());
  }
  CHECK(source.reads(s.m.digest) == 1);
  CHECK(source.reads(s.built.images[0].layers[0].descriptor.digest) == 1);
  CHECK(source.total_reads() == 4);  // the index, the manifest, its config, its layer
}

TEST_CASE("a diamond of indexes within the manifest budget is walked with one read per blob",
          "[oci][walk]") {
  Shapes s;
  CountingSource source(open_oci_layout(s.built.dir));
  auto r = inspect_image(source, s.diamond2, hash_only());
  REQUIRE(r.children.size() == limits::kMaxIndexEntries);
  REQUIRE(r.children[0].children.size() == limits::kMaxIndexEntries);
  CHECK(r.children[0].children[0].layers.size() == 1);
  CHECK(r.children[1].repeated);
  CHECK(r.children[1].children.empty());
  CHECK(source.total_reads() == 5);
}

TEST_CASE("diamonds and wide indexes past the manifest budget are a LimitError, read once each",
          "[oci][walk][limits]") {
  Shapes s;
  // What is read before the budget runs out: diamond3, diamond2, repeated, m, its config and
  // layer; wide, its first index, m, config, layer, then its second and third index.
  for (auto [image, reads] : {std::pair{s.diamond3, 6}, std::pair{s.wide, 7}}) {
    CountingSource source(open_oci_layout(s.built.dir));
    auto t = thrown_by([&] { (void)inspect_image(source, image, hash_only()); });
    CHECK(t.code == ErrorCode::kLimit);
    CHECK(t.message == s.over_budget(source.describe(), image));
    CHECK(source.total_reads() == reads);
  }
}

TEST_CASE("copies walk the same way: each blob and manifest once, a LimitError past the budget",
          "[oci][walk][copy]") {
  Shapes s;
  auto src = open_oci_layout(s.built.dir);
  {
    sigil::test::TempDir out;
    auto dst = create_oci_layout(out / "copy");
    auto report = copy_image(*src, *dst, s.diamond2);
    CHECK(report.manifests == 3);  // diamond2, repeated, m
    CHECK(report.blobs_copied == 2);
    auto again = inspect_image(*dst, s.diamond2, hash_only());
    CHECK(again.children.size() == limits::kMaxIndexEntries);
  }
  for (const auto& image : {s.diamond3, s.wide}) {
    sigil::test::TempDir out;
    auto dst = create_oci_layout(out / "copy");
    auto t = thrown_by([&] { (void)sig::copy_image(*src, *dst, image, "t", sig::CopyOptions{}); });
    CHECK(t.code == ErrorCode::kLimit);
    CHECK(t.message == s.over_budget(src->describe(), image));
    CHECK_FALSE(dst->find_tag("t").has_value());  // nothing tagged: the copy did not happen
    CHECK(oci_test::code_of([&] { (void)dst->fetch_manifest(image); }) == ErrorCode::kNotFound);
  }
}

TEST_CASE("signing an index that lists a manifest many times signs it once", "[oci][walk][sign]") {
  Shapes s;
  CountingSource source(open_oci_layout(s.built.dir));
  auto targets = sig::signing_targets(source, s.repeated, true);
  REQUIRE(targets.size() == 2);
  CHECK(targets[0].digest == s.repeated.digest);
  CHECK(targets[1].digest == s.m.digest);
  CHECK(source.total_reads() == 2);
  // Nested indexes are not descended into, and are read once.
  auto nested = sig::signing_targets(source, s.diamond2, true);
  REQUIRE(nested.size() == 1);
  CHECK(nested[0].digest == s.diamond2.digest);
}

TEST_CASE("docker archives are walked the same way, plain and compressed", "[oci][walk][archive]") {
  Shapes s;
  for (auto filter : {oci_test::Filter::kNone, oci_test::Filter::kGzip}) {
    INFO(oci_test::filter_name(filter));
    auto file = archive_of(s, filter);
    CountingSource source(open_docker_archive(file));
    auto ok = inspect_image(
        source, source.resolve(Reference::parse("docker-archive:" + file.string() + ":diamond2")),
        hash_only());
    CHECK(ok.children.size() == limits::kMaxIndexEntries);
    CHECK(source.total_reads() == 5);
    for (auto tag : {"diamond3", "wide"}) {
      auto image = source.resolve(Reference::parse("docker-archive:" + file.string() + ":" + tag));
      auto t = thrown_by([&] { (void)inspect_image(source, image, hash_only()); });
      CHECK(t.code == ErrorCode::kLimit);
      CHECK(t.message == s.over_budget(source.describe(), image));
    }
  }
}
