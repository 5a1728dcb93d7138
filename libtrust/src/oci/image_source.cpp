#include "libtrust/oci/image_source.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <numeric>
#include <thread>

#include "libtrust/core/error.h"
#include "libtrust/core/limits.h"
#include "libtrust/core/media_type.h"
#include "libtrust/core/retry.h"
#include "libtrust/oci/docker_archive.h"
#include "libtrust/oci/layout.h"
#include "oci/oci_internal.h"

namespace trust::oci {

ImageSource::~ImageSource() = default;

bool is_attachment_tag(std::string_view tag) {
  for (auto suffix : {".sig", ".att", ".sbom"}) {
    if (tag.ends_with(suffix)) {
      tag.remove_suffix(std::string_view(suffix).size());
      break;
    }
  }
  const auto dash = tag.find('-');
  if (dash == std::string_view::npos) return false;
  try {
    (void)Digest::parse(std::string(tag.substr(0, dash)) + ":" + std::string(tag.substr(dash + 1)));
    return true;
  } catch (const Error&) {
    return false;
  }
}

std::string referrers_fallback_tag(const Digest& subject) {
  return std::string(to_string(subject.algorithm())) + "-" + subject.hex();
}

namespace {

// The fallback index under "sha256-<hex>", or nullopt when the tag is absent or holds no index.
std::optional<Index> read_fallback_index(ImageSource& source, const Digest& subject) {
  const auto tag = referrers_fallback_tag(subject);
  auto desc = source.find_tag(tag);
  if (!desc || !is_index_media_type(desc->media_type)) return std::nullopt;
  auto bytes = source.fetch_manifest(*desc);
  return Index::parse(bytes, source.describe() + ": referrers index " + tag);
}

bool lists(const Index& index, const Digest& digest) {
  return std::any_of(index.manifests.begin(), index.manifests.end(),
                     [&](const Descriptor& d) { return d.digest == digest; });
}

}  // namespace

std::vector<Descriptor> ImageSource::referrers(const Digest& subject,
                                               std::string_view artifact_type) {
  auto index = read_fallback_index(*this, subject);
  if (!index) return {};
  std::vector<Descriptor> out;
  for (auto& d : index->manifests) {
    if (!artifact_type.empty() && d.artifact_type.value_or("") != artifact_type) continue;
    out.push_back(std::move(d));
  }
  limits::check(out.size(), limits::kMaxSignaturesPerImage,
                describe() + ": referrers index " + referrers_fallback_tag(subject), "referrers");
  return out;
}

std::vector<std::size_t> ImageSource::reading_order(const std::vector<Descriptor>& descs) {
  std::vector<std::size_t> order(descs.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  return order;
}

bool ImageStore::has_blob(const Digest&) {
  return false;
}

Bytes ImageSource::fetch_manifest(const Descriptor& desc) {
  return fetch_blob(desc, limits::kMaxManifestBytes);
}

Bytes ImageSource::fetch_blob(const Descriptor& desc, std::uint64_t max_bytes) {
  detail::check_size_cap(desc, max_bytes, describe());
  Bytes out;
  out.reserve(static_cast<std::size_t>(desc.size));
  stream_blob(desc, [&](ByteView chunk) { out.insert(out.end(), chunk.begin(), chunk.end()); });
  return out;
}

namespace {

// Fetches `count` items on up to `threads` threads and hands each to `consume` on the calling
// thread, one at a time, as it arrives. The bytes fetched and not yet consumed (counted by
// `size_of`, the descriptors' sizes) stay within `budget`: a fetch waits until its size fits, one
// larger than the whole budget until nothing else is held. Consuming on one thread keeps the work
// done on the bytes (parsing, hashing) in one place and its memory reused, whatever the number of
// fetching threads. After the first exception (a fetch's or consume's) no new fetch starts, what
// was fetched is dropped, and it is rethrown once the fetches under way have stopped.
void fetch_and_hand_over(std::size_t count, std::size_t threads, std::uint64_t budget,
                         const std::function<std::uint64_t(std::size_t)>& size_of,
                         const std::function<Bytes(std::size_t)>& fetch,
                         const std::function<void(std::size_t, Bytes)>& consume) {
  if (threads <= 1 || count <= 1) {
    for (std::size_t i = 0; i < count; ++i) consume(i, fetch(i));
    return;
  }
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::pair<std::size_t, Bytes>> ready;
  std::uint64_t held = 0;
  std::size_t next = 0;
  std::size_t running = 0;
  bool stop = false;
  std::exception_ptr error;
  auto fail = [&](std::exception_ptr e) {  // with mu held
    if (!error) error = std::move(e);
    stop = true;
    cv.notify_all();
  };
  auto worker = [&] {
    std::unique_lock lock(mu);
    while (!stop && next < count) {
      const auto i = next++;
      const auto n = size_of(i);
      cv.wait(lock, [&] { return stop || held == 0 || held + n <= budget; });
      if (stop) break;
      held += n;
      lock.unlock();
      try {
        auto bytes = fetch(i);
        lock.lock();
        ready.emplace_back(i, std::move(bytes));
        cv.notify_all();
      } catch (...) {
        lock.lock();
        fail(std::current_exception());
      }
    }
    --running;
    cv.notify_all();
  };
  std::vector<std::thread> pool;
  const auto n_threads = std::min(threads, count);
  {
    std::lock_guard lock(mu);
    running = n_threads;
  }
  for (std::size_t t = 0; t < n_threads; ++t) {
    try {
      pool.emplace_back(worker);
    } catch (...) {
      std::lock_guard lock(mu);
      running -= n_threads - t;  // the threads never started
      fail(std::current_exception());
      break;
    }
  }
  {
    std::unique_lock lock(mu);
    while (true) {
      cv.wait(lock, [&] { return stop || !ready.empty() || running == 0; });
      if (stop || ready.empty()) break;
      auto [i, bytes] = std::move(ready.front());
      ready.pop_front();
      lock.unlock();
      try {
        consume(i, std::move(bytes));
        lock.lock();
      } catch (...) {
        lock.lock();
        fail(std::current_exception());
        break;
      }
      held -= size_of(i);
      cv.notify_all();
    }
  }
  for (auto& t : pool) t.join();
  if (error) std::rethrow_exception(error);
}

std::size_t fetch_threads(const ImageSource& source) {
  return source.supports_parallel_reads() ? limits::kAttachmentFetchThreads : 1;
}

}  // namespace

void ImageSource::fetch_blobs(const std::vector<Descriptor>& descs, std::uint64_t max_bytes,
                              const std::function<void(std::size_t, Bytes)>& on_blob) {
  for (const auto& d : descs) detail::check_size_cap(d, max_bytes, describe());
  fetch_and_hand_over(
      descs.size(), fetch_threads(*this), limits::kMaxAttachmentBytesInFlight,
      [&](std::size_t i) { return descs[i].size; },
      [&](std::size_t i) { return fetch_blob(descs[i], max_bytes); }, on_blob);
}

void ImageSource::fetch_manifests(const std::vector<Descriptor>& descs,
                                  const std::function<void(std::size_t, Bytes)>& on_manifest) {
  for (const auto& d : descs) detail::check_size_cap(d, limits::kMaxManifestBytes, describe());
  fetch_and_hand_over(
      descs.size(), fetch_threads(*this), limits::kMaxAttachmentBytesInFlight,
      [&](std::size_t i) { return descs[i].size; },
      [&](std::size_t i) { return fetch_manifest(descs[i]); }, on_manifest);
}

void ImageStore::put_blob_stream(const Descriptor& desc, const BlobReader& read) {
  if (desc.size > kMaxBufferedBlobBytes) {
    throw LimitError(describe() + ": blob " + desc.digest.str() + " of " +
                     std::to_string(desc.size) + " bytes is too large to buffer");
  }
  Bytes data(static_cast<std::size_t>(desc.size) + 1);
  std::size_t got = 0;
  while (true) {
    auto n = read(data.data() + got, data.size() - got);
    if (n == 0) break;
    got += n;
    if (got == data.size()) {
      throw DigestMismatchError(describe() + ": blob " + desc.digest.str() +
                                " is longer than its descriptor's " + std::to_string(desc.size) +
                                " bytes");
    }
  }
  data.resize(got);
  if (got != desc.size) {
    throw DigestMismatchError(describe() + ": blob " + desc.digest.str() + " has " +
                              std::to_string(got) + " bytes, its descriptor says " +
                              std::to_string(desc.size));
  }
  put_blob(data, desc.digest);
}

void ImageStore::add_referrer(const Descriptor& referrer, const Descriptor& subject,
                              bool subject_processed) {
  if (subject_processed) return;
  const auto tag = referrers_fallback_tag(subject.digest);
  Descriptor entry;
  entry.media_type = referrer.media_type;
  entry.digest = referrer.digest;
  entry.size = referrer.size;
  entry.annotations = referrer.annotations;
  entry.artifact_type = referrer.artifact_type;
  // Read, add, write, re-read, and read again once the other writers had time to write: another
  // writer may have replaced the index with its own version; merging again until our entry
  // survives loses nobody's referrer.
  merge_until_stable(
      describe() + ": referrers index " + tag,
      [&]() -> MergeStep {
        auto index = read_fallback_index(*this, subject.digest);
        if (!index) {
          index.emplace();
          index->media_type = std::string(media_type::kOciIndex);
        }
        if (lists(*index, entry.digest)) return MergeStep::kDone;
        limits::check(index->manifests.size() + 1, limits::kMaxSignaturesPerImage,
                      describe() + ": referrers index " + tag + " with this one", "referrers");
        index->manifests.push_back(entry);
        auto json = index->to_json();
        set_tag(tag, put_manifest(as_bytes(json), media_type::kOciIndex));
        auto now = read_fallback_index(*this, subject.digest);
        return now && lists(*now, entry.digest) ? MergeStep::kWritten : MergeStep::kRetry;
      },
      merge_settle_time(), [this](std::chrono::milliseconds d) { wait_to_merge(d); });
}

std::chrono::milliseconds ImageStore::merge_settle_time() const {
  return std::chrono::milliseconds(10);
}

void ImageStore::wait_to_merge(std::chrono::milliseconds delay) const {
  std::this_thread::sleep_for(delay);
}

std::unique_ptr<ImageSource> open_image_source(const Reference& ref) {
  switch (ref.kind()) {
    case ReferenceKind::kOciLayout:
      return open_oci_layout(ref.path());
    case ReferenceKind::kDockerArchive:
      return open_docker_archive(ref.path());
    case ReferenceKind::kRegistry:
      break;
  }
  throw UnsupportedError(ref.str() + ": registry references are not supported yet");
}

std::unique_ptr<ImageStore> open_image_store(const Reference& ref) {
  switch (ref.kind()) {
    case ReferenceKind::kOciLayout:
      return open_oci_layout(ref.path());
    case ReferenceKind::kDockerArchive:
      throw UnsupportedError(ref.str() + ": docker-archive sources are read-only");
    case ReferenceKind::kRegistry:
      break;
  }
  throw UnsupportedError(ref.str() + ": registry references are not supported yet");
}

}  // namespace trust::oci
