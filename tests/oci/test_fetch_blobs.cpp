// ImageSource::fetch_blobs: several small blobs (signature payloads, bundles) at once, each checked
// against its descriptor, handed over as it arrives, within a byte budget.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "libtrust/core/error.h"
#include "libtrust/core/limits.h"
#include "libtrust/oci/image_source.h"
#include "support/errors.h"

using namespace trust;
using sigil::test::thrown_by;

namespace {

// A source of blobs held in memory, or of `zero_size` zero bytes for any digest of that many
// zeros; it counts the reads, and how many bytes were fetched and not yet handed over.
class TestSource : public oci::ImageSource {
 public:
  std::map<Digest, Bytes> blobs;
  bool parallel = true;
  // Each read waits (up to a short while) until this many reads are under way, so that a budget
  // that lets them all run is seen doing so.
  int rendezvous = 0;

  std::string describe() const override { return "test-source"; }
  oci::Descriptor resolve(const Reference&) override { throw UnsupportedError("resolve"); }
  std::optional<oci::Descriptor> find_tag(std::string_view) override { return std::nullopt; }
  bool supports_parallel_reads() const override { return parallel; }

  void stream_blob(const oci::Descriptor& desc,
                   const std::function<void(ByteView)>& sink) override {
    {
      std::unique_lock lock(mu_);
      ++reads;
      ++active_;
      held_ += desc.size;
      max_active = std::max(max_active, active_);
      max_held = std::max(max_held, held_);
      cv_.notify_all();
      if (rendezvous > 0) {
        cv_.wait_for(lock, std::chrono::milliseconds(500), [&] { return active_ >= rendezvous; });
      }
    }
    auto it = blobs.find(desc.digest);
    const Bytes bytes = it != blobs.end() ? it->second : Bytes(desc.size, 0);
    sink(bytes);
    {
      std::lock_guard lock(mu_);
      --active_;
    }
    if (Digest::of(bytes) != desc.digest || bytes.size() != desc.size) {
      throw DigestMismatchError("test-source: blob " + desc.digest.str() + " does not match");
    }
  }

  // Called by the test's on_blob once it is done with a blob.
  void handed_over(std::uint64_t size) {
    std::lock_guard lock(mu_);
    held_ -= size;
  }

  oci::Descriptor add(const std::string& text) {
    Bytes b(text.begin(), text.end());
    oci::Descriptor d;
    d.media_type = "application/octet-stream";
    d.digest = Digest::of(b);
    d.size = b.size();
    blobs[d.digest] = std::move(b);
    return d;
  }

  int reads = 0;
  int max_active = 0;
  std::uint64_t max_held = 0;

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int active_ = 0;
  std::uint64_t held_ = 0;
};

oci::Descriptor zeros(std::uint64_t size) {
  oci::Descriptor d;
  d.media_type = "application/octet-stream";
  d.digest = Digest::of(Bytes(size, 0));
  d.size = size;
  return d;
}

}  // namespace

TEST_CASE("fetch_blobs hands every blob over once, with its index and its bytes",
          "[oci][fetch_blobs]") {
  TestSource src;
  std::vector<oci::Descriptor> descs;
  for (int i = 0; i < 20; ++i) descs.push_back(src.add("blob " + std::to_string(i)));
  std::map<std::size_t, std::string> got;
  std::set<std::thread::id> threads;
  src.fetch_blobs(descs, 1024, [&](std::size_t i, Bytes b) {
    threads.insert(std::this_thread::get_id());  // no lock: the calls come on this thread
    CHECK(got.emplace(i, std::string(b.begin(), b.end())).second);
  });
  REQUIRE(got.size() == 20);
  for (std::size_t i = 0; i < 20; ++i) CHECK(got[i] == "blob " + std::to_string(i));
  CHECK(src.reads == 20);
  CHECK(threads == std::set<std::thread::id>{std::this_thread::get_id()});
}

TEST_CASE("fetch_manifests hands every manifest over on the calling thread", "[oci][fetch_blobs]") {
  TestSource src;
  std::vector<oci::Descriptor> descs;
  for (int i = 0; i < 12; ++i) descs.push_back(src.add("{\"n\":" + std::to_string(i) + "}"));
  std::map<std::size_t, std::string> got;
  std::set<std::thread::id> threads;
  src.fetch_manifests(descs, [&](std::size_t i, Bytes b) {
    threads.insert(std::this_thread::get_id());
    got.emplace(i, std::string(b.begin(), b.end()));
  });
  REQUIRE(got.size() == 12);
  CHECK(got[11] == "{\"n\":11}");
  CHECK(threads == std::set<std::thread::id>{std::this_thread::get_id()});
}

TEST_CASE("fetch_blobs stops when on_blob throws, and rethrows its error", "[oci][fetch_blobs]") {
  TestSource src;
  std::vector<oci::Descriptor> descs;
  for (int i = 0; i < 30; ++i) descs.push_back(src.add("blob " + std::to_string(i)));
  SECTION("one at a time") {
    src.parallel = false;
    auto t = thrown_by([&] {
      src.fetch_blobs(descs, 1024, [&](std::size_t i, Bytes) {
        if (i == 1) throw InputError("judged blob 1 bad");
      });
    });
    CHECK(t.code == ErrorCode::kInput);
    CHECK(t.message == "judged blob 1 bad");
    CHECK(src.reads == 2);
  }
  SECTION("several at a time") {
    int calls = 0;
    auto t = thrown_by([&] {
      src.fetch_blobs(descs, 1024, [&](std::size_t, Bytes) {
        ++calls;
        throw InputError("judged bad");
      });
    });
    CHECK(t.message == "judged bad");
    CHECK(calls == 1);  // what was fetched meanwhile is dropped, never handed over
  }
}

TEST_CASE("fetch_blobs refuses a descriptor over max_bytes before reading anything",
          "[oci][fetch_blobs][limits]") {
  TestSource src;
  auto small = src.add("small");
  auto big = src.add("a bigger blob");
  int calls = 0;
  auto t = thrown_by([&] {
    src.fetch_blobs({small, big}, small.size, [&](std::size_t, Bytes) { ++calls; });
  });
  CHECK(t.code == ErrorCode::kLimit);
  CHECK(t.message == "test-source: blob " + big.digest.str() + " declares 13 bytes, over the " +
                         "limit of 5 bytes");
  CHECK(src.reads == 0);
  CHECK(calls == 0);
}

TEST_CASE("fetch_blobs stops at the first error and rethrows it", "[oci][fetch_blobs]") {
  TestSource src;
  src.parallel = false;  // one at a time: which reads happen is then certain
  std::vector<oci::Descriptor> descs;
  for (int i = 0; i < 5; ++i) descs.push_back(src.add("blob " + std::to_string(i)));
  src.blobs[descs[1].digest] = Bytes{'b', 'l', 'o', 'b', ' ', 'X'};  // served bytes differ
  std::vector<std::size_t> handed;
  auto t = thrown_by(
      [&] { src.fetch_blobs(descs, 1024, [&](std::size_t i, Bytes) { handed.push_back(i); }); });
  CHECK(t.code == ErrorCode::kDigestMismatch);
  CHECK(t.message == "test-source: blob " + descs[1].digest.str() + " does not match");
  CHECK(handed == std::vector<std::size_t>{0});
  CHECK(src.reads == 2);
  CHECK(src.max_active == 1);
}

TEST_CASE("fetch_blobs holds at most kMaxAttachmentBytesInFlight of fetched blobs at once",
          "[oci][fetch_blobs][limits]") {
  TestSource src;
  src.rendezvous = 3;  // three reads at once would hold more than the budget
  constexpr std::uint64_t kSize = limits::kMaxAttachmentBytesInFlight * 2 / 5;  // two fit, not 3
  static_assert(2 * kSize <= limits::kMaxAttachmentBytesInFlight &&
                3 * kSize > limits::kMaxAttachmentBytesInFlight);
  const std::vector<oci::Descriptor> descs(4, zeros(kSize));
  std::atomic<int> handed{0};
  src.fetch_blobs(descs, kSize, [&](std::size_t, Bytes b) {
    CHECK(b.size() == kSize);
    src.handed_over(b.size());
    ++handed;
  });
  CHECK(handed == 4);
  CHECK(src.max_held <= limits::kMaxAttachmentBytesInFlight);
  CHECK(src.max_active == 2);  // the budget allowed two at once, and two ran
}

TEST_CASE("fetch_blobs fetches a blob larger than the whole budget alone",
          "[oci][fetch_blobs][limits]") {
  TestSource src;
  src.rendezvous = 2;
  const auto big = zeros(limits::kMaxAttachmentBytesInFlight + 1);
  std::vector<oci::Descriptor> descs{big, big};
  std::atomic<int> handed{0};
  src.fetch_blobs(descs, big.size, [&](std::size_t, Bytes b) {
    src.handed_over(b.size());
    ++handed;
  });
  CHECK(handed == 2);
  CHECK(src.max_active == 1);
  CHECK(src.max_held == big.size);
}
