#include "libtrust/oci/image_source.h"

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <numeric>

#include "core/parallel.h"
#include "libtrust/core/error.h"
#include "libtrust/core/limits.h"
#include "libtrust/core/media_type.h"
#include "libtrust/core/retry.h"
#include "libtrust/oci/docker_archive.h"
#include "libtrust/oci/layout.h"
#include "oci/oci_internal.h"

namespace trust::oci {

ImageSource::~ImageSource() = default;

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
  if (out.size() > limits::kMaxSignaturesPerImage) {
    throw LimitError(describe() + ": " + std::to_string(out.size()) + " referrers of " +
                     subject.str() + " is over the limit of " +
                     std::to_string(limits::kMaxSignaturesPerImage));
  }
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

// Bytes held by blobs fetched and not yet handed over, within a budget: a blob waits until its
// size fits (one larger than the whole budget waits until it is alone).
class ByteBudget {
 public:
  explicit ByteBudget(std::uint64_t budget) : budget_(budget) {}
  void acquire(std::uint64_t n) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return held_ == 0 || held_ + n <= budget_; });
    held_ += n;
  }
  void release(std::uint64_t n) {
    std::lock_guard lock(mu_);
    held_ -= n;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::uint64_t budget_;
  std::uint64_t held_ = 0;
};

}  // namespace

void ImageSource::fetch_blobs(const std::vector<Descriptor>& descs, std::uint64_t max_bytes,
                              const std::function<void(std::size_t, Bytes)>& on_blob) {
  for (const auto& d : descs) detail::check_size_cap(d, max_bytes, describe());
  ByteBudget budget(limits::kMaxAttachmentBytesInFlight);
  trust::detail::for_each_index(descs.size(),
                                supports_parallel_reads() ? limits::kAttachmentFetchThreads : 1,
                                [&](std::size_t i) {
                                  const auto size = descs[i].size;
                                  budget.acquire(size);
                                  try {
                                    on_blob(i, fetch_blob(descs[i], max_bytes));
                                  } catch (...) {
                                    budget.release(size);
                                    throw;
                                  }
                                  budget.release(size);
                                });
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
        if (index->manifests.size() >= limits::kMaxSignaturesPerImage) {
          throw LimitError(describe() + ": referrers index " + tag + " already lists " +
                           std::to_string(index->manifests.size()) + " manifests (limit " +
                           std::to_string(limits::kMaxSignaturesPerImage) + ")");
        }
        index->manifests.push_back(entry);
        auto json = index->to_json();
        set_tag(tag, put_manifest(as_bytes(json), media_type::kOciIndex));
        auto now = read_fallback_index(*this, subject.digest);
        return now && lists(*now, entry.digest) ? MergeStep::kWritten : MergeStep::kRetry;
      },
      merge_settle_time());
}

std::chrono::milliseconds ImageStore::merge_settle_time() const {
  return std::chrono::milliseconds(10);
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
