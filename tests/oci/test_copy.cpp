// oci::ImageCopy: blobs piped from source to destination, each once, verified on both sides. Once
// the destination returns from put_blob_stream, for whatever reason (it read everything, it
// failed, or it already had the blob because another writer stored it meanwhile), the source's
// side stops: no copy can hang on a blob larger than the pipe's buffer.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "libtrust/core/media_type.h"
#include "libtrust/oci/copy.h"
#include "libtrust/oci/inspect.h"
#include "libtrust/oci/layout.h"
#include "libtrust/registry/registry_store.h"
#include "libtrust/sig/attachments.h"
#include "oci/oci_test_util.h"
#include "registry/registry_test_util.h"
#include "support/fake_registry.h"
#include "support/layout_builder.h"
#include "support/process.h"

using namespace trust;
using namespace trust::oci;
using oci_test::thrown_by;
using sigil::test::FakeRegistry;
namespace fs = std::filesystem;

namespace {

// Larger than the copy pipe's buffer (8 chunks of at most 1 MiB): a producer that nobody reads
// from any more blocks on it.
constexpr std::size_t kBigLayer = 24u << 20;

sigil::test::BuiltLayout big_image(const fs::path& dir) {
  sigil::test::ImageSpec image;
  image.layers = {sigil::test::layer(kBigLayer, sigil::test::LayerCompression::kNone, 41),
                  sigil::test::layer(2000, sigil::test::LayerCompression::kGzip, 42)};
  return sigil::test::build_layout(dir, {.images = {image}, .index_tag = {}});
}

// A copy that hangs must fail the run, not stall it until ctest's timeout: if the test is still
// running after a long grace period (correct code takes a second or two), says so and aborts.
class Watchdog {
 public:
  explicit Watchdog(std::string what) : what_(std::move(what)), thread_([this] { run(); }) {}
  ~Watchdog() {
    {
      std::lock_guard lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

 private:
  void run() {
    std::unique_lock lock(mu_);
    if (cv_.wait_for(lock, std::chrono::minutes(3), [&] { return done_; })) return;
    std::fprintf(stderr, "test_copy: '%s' hung (a copy that never finishes)\n", what_.c_str());
    std::abort();
  }
  std::string what_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

InspectOptions hash_only() {
  return {.threads = 2, .compute_diff_ids = false, .recurse_index = true};
}

// A layout whose blob uploads misbehave on demand; everything else is the layout's.
class MisbehavingStore final : public ImageStore {
 public:
  enum class Upload {
    kOtherWriter,  // another writer stores the blob first; put_blob_stream returns unread
    kFailMidway,   // reads one chunk, then fails
  };
  MisbehavingStore(std::unique_ptr<ImageStore> inner, ImageSource& origin, Upload upload)
      : inner_(std::move(inner)), origin_(origin), upload_(upload) {}

  std::string describe() const override { return inner_->describe(); }
  Descriptor resolve(const Reference& ref) override { return inner_->resolve(ref); }
  std::optional<Descriptor> find_tag(std::string_view tag) override {
    return inner_->find_tag(tag);
  }
  void stream_blob(const Descriptor& desc, const std::function<void(ByteView)>& sink) override {
    inner_->stream_blob(desc, sink);
  }
  void put_blob(ByteView data, const Digest& digest) override { inner_->put_blob(data, digest); }
  bool has_blob(const Digest&) override { return false; }  // checked before the other writer
  Descriptor put_manifest(ByteView bytes, std::string_view media_type) override {
    return inner_->put_manifest(bytes, media_type);
  }
  void set_tag(std::string_view tag, const Descriptor& desc) override {
    inner_->set_tag(tag, desc);
  }

  void put_blob_stream(const Descriptor& desc, const BlobReader& read) override {
    if (desc.size < kBigLayer) return inner_->put_blob_stream(desc, read);
    ++big_uploads;
    if (upload_ == Upload::kOtherWriter) {
      inner_->put_blob(origin_.fetch_blob(desc, desc.size), desc.digest);
      return;  // "already there": nothing read
    }
    std::vector<std::uint8_t> buf(1 << 16);
    (void)read(buf.data(), buf.size());
    throw IoError(describe() + ": the disk is full");
  }

  std::atomic<int> big_uploads{0};

 private:
  std::unique_ptr<ImageStore> inner_;
  ImageSource& origin_;
  Upload upload_;
};

}  // namespace

TEST_CASE("a destination that returns without reading a big blob does not hang the copy",
          "[oci][copy]") {
  sigil::test::TempDir tmp;
  auto built = big_image(tmp / "src");
  auto src = open_oci_layout(built.dir);
  MisbehavingStore dst(create_oci_layout(tmp / "dst"), *src,
                       MisbehavingStore::Upload::kOtherWriter);
  auto image = src->resolve(Reference::parse(built.reference("latest")));
  Watchdog watchdog("early return");
  auto report = copy_image(*src, dst, image, CopyOptions{.parallel_blobs = 2});
  CHECK(dst.big_uploads == 1);
  CHECK(report.blobs_copied == 2);   // the config and the small layer, read by the destination
  CHECK(report.blobs_skipped == 1);  // the big layer: the destination already had it
  CHECK(report.bytes_copied == built.images[0].config.size + built.images[0].layers[1].blob.size());
  CHECK(report.manifests == 1);
  // The destination is complete and verifies.
  auto copied = open_oci_layout(tmp / "dst");
  auto again = inspect_image(*copied, image);
  CHECK(again.layers.at(0).diff_id == built.images[0].layers[0].diff_id);
  CHECK(again.diff_ids_consistent);
}

TEST_CASE("a destination that fails midway fails the copy at once, with its error", "[oci][copy]") {
  sigil::test::TempDir tmp;
  auto built = big_image(tmp / "src");
  auto src = open_oci_layout(built.dir);
  MisbehavingStore dst(create_oci_layout(tmp / "dst"), *src, MisbehavingStore::Upload::kFailMidway);
  auto image = src->resolve(Reference::parse(built.reference("latest")));
  Watchdog watchdog("failure midway");
  auto t = thrown_by([&] { (void)copy_image(*src, dst, image); });
  CHECK(t.code == ErrorCode::kIo);
  CHECK(t.message == "oci:" + (tmp / "dst").string() + ": the disk is full");
  // The manifest was not written: nothing names blobs that are not there.
  CHECK(oci_test::code_of([&] { (void)dst.fetch_manifest(image); }) == ErrorCode::kNotFound);
}

TEST_CASE("a source blob that does not match its digest fails the copy and is not stored",
          "[oci][copy]") {
  sigil::test::TempDir tmp;
  auto built = big_image(tmp / "src");
  const auto& layer = built.images[0].layers[0];
  auto bad = layer.blob;
  bad[bad.size() - 10] ^= 1;
  sigil::test::write_text_file(built.blob_path(layer.descriptor.digest),
                               std::string(as_string_view(bad)));
  auto src = open_oci_layout(built.dir);
  auto dst = create_oci_layout(tmp / "dst");
  auto image = src->resolve(Reference::parse(built.reference("latest")));
  auto t = thrown_by([&] { (void)copy_image(*src, *dst, image); });
  CHECK(t.code == ErrorCode::kDigestMismatch);
  CHECK_THAT(t.message,
             Catch::StartsWith("oci:" + built.dir.string() + ": blob " +
                               layer.descriptor.digest.str() + " does not match its digest"));
  CHECK_FALSE(dst->has_blob(layer.descriptor.digest));
  CHECK_FALSE(fs::exists(tmp / "dst" / "blobs" / "sha256" / layer.descriptor.digest.hex()));
}

TEST_CASE("a registry that already has a blob the existence check missed does not hang a copy",
          "[oci][copy][registry]") {
  // The copy's HEAD says the big layer is absent; by the upload's own HEAD another writer has
  // stored it, so the client returns without reading: the race two copies run into.
  FakeRegistry reg;
  sigil::test::TempDir tmp;
  auto built = big_image(tmp / "src");
  const auto& layer = built.images[0].layers[0];
  reg.add_blob("race/one", std::string(as_string_view(layer.blob)));
  reg.add_fault({"HEAD", "/v2/race/one/blobs/" + layer.descriptor.digest.str(), 1,
                 FakeRegistry::status(404)});
  auto src = open_oci_layout(built.dir);
  auto ref = Reference::parse(reg.host() + "/race/one:v1");
  auto dst = registry::open_store(ref, registry_test::fast_options(reg, tmp));
  auto image = src->resolve(Reference::parse(built.reference("latest")));
  Watchdog watchdog("registry early return");
  auto report = sig::copy_image(*src, *dst, image, "v1", sig::CopyOptions{});
  CHECK(report.blobs_skipped == 1);
  CHECK(report.blobs_copied == 2);
  auto check = registry::open_source(ref, registry_test::fast_options(reg, tmp));
  auto copied = inspect_image(*check, check->resolve(ref), hash_only());
  CHECK(copied.layers.at(0).descriptor.digest == layer.descriptor.digest);
}

TEST_CASE("two copies racing on one registry both finish, and the destination verifies",
          "[oci][copy][registry]") {
  FakeRegistry reg;
  sigil::test::TempDir tmp;
  auto built = big_image(tmp / "src");
  for (int round = 0; round < 3; ++round) {
    INFO("round " << round);
    auto ref = Reference::parse(reg.host() + "/race/r" + std::to_string(round) + ":v1");
    std::vector<std::string> errors(2);
    std::vector<sig::CopyReport> reports(2);
    Watchdog watchdog("racing copies");
    {
      std::vector<std::jthread> copies;
      for (int i = 0; i < 2; ++i) {
        copies.emplace_back([&, i] {
          try {
            auto src = open_oci_layout(built.dir);
            auto dst = registry::open_store(ref, registry_test::fast_options(reg, tmp));
            auto image = src->resolve(Reference::parse(built.reference("latest")));
            reports[static_cast<std::size_t>(i)] =
                sig::copy_image(*src, *dst, image, "v1", sig::CopyOptions{});
          } catch (const std::exception& e) {
            errors[static_cast<std::size_t>(i)] = e.what();
          }
        });
      }
    }  // both joined: neither hung
    CHECK(errors[0].empty());
    CHECK(errors[1].empty());
    for (const auto& r : reports) {
      CHECK(r.digest == built.images[0].manifest.digest);
      CHECK(r.blobs_copied + r.blobs_skipped == 3);
    }
    auto check = registry::open_source(ref, registry_test::fast_options(reg, tmp));
    auto copied = inspect_image(*check, check->resolve(ref));
    REQUIRE(copied.layers.size() == 2);
    CHECK(copied.layers[0].diff_id == built.images[0].layers[0].diff_id);
    CHECK(copied.layers[1].diff_id == built.images[0].layers[1].diff_id);
    CHECK(copied.diff_ids_consistent);
  }
}

TEST_CASE("copy options are validated", "[oci][copy]") {
  auto t = thrown_by([] { CopyOptions{.parallel_blobs = 0}.validate(); });
  CHECK(t.code == ErrorCode::kUsage);
  CHECK(t.message == "parallel blob copies must be between 1 and 16");
  CHECK(oci_test::code_of([] { CopyOptions{.parallel_blobs = 17}.validate(); }) ==
        ErrorCode::kUsage);
  CHECK(oci_test::code_of([] {
          sig::CopyOptions{.attachments = true, .parallel_blobs = 17}.validate();
        }) == ErrorCode::kUsage);
  // At the bound, a copy runs.
  sigil::test::TempDir tmp;
  auto built = sigil::test::build_layout(tmp / "src");
  auto src = open_oci_layout(built.dir);
  auto dst = create_oci_layout(tmp / "dst");
  auto image = src->resolve(Reference::parse(built.reference("latest")));
  CHECK(copy_image(*src, *dst, image, CopyOptions{.parallel_blobs = 16}).blobs_copied == 2);
}
