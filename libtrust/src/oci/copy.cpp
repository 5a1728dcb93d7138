#include "libtrust/oci/copy.h"

#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "core/parallel.h"
#include "libtrust/core/error.h"
#include "oci/walk.h"

namespace trust::oci {

void CopyOptions::validate() const {
  if (parallel_blobs == 0 || parallel_blobs > 16) {
    throw UsageError("parallel blob copies must be between 1 and 16");
  }
}

namespace {

// Thrown into the producer once the consumer is gone: the end of a copy, not an error of it.
struct PipeClosed {};

// A bounded queue of chunks between a producer (the source's stream_blob, which verifies the
// digest before it returns) and a consumer (the destination's put_blob_stream). The end is
// signalled only after the producer returned, so nothing unverified is ever committed. Once the
// consumer is done, for whatever reason (it read everything, it failed, or it returned early
// because the destination already had the blob), close() makes every push throw PipeClosed: the
// producer never waits for a reader that is gone.
class Pipe {
 public:
  static constexpr std::size_t kMaxChunks = 8;

  void push(ByteView chunk) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return chunks_.size() < kMaxChunks || closed_; });
    if (closed_) throw PipeClosed{};
    chunks_.emplace_back(chunk.begin(), chunk.end());
    cv_.notify_all();
  }
  void finish(std::exception_ptr error) {
    std::lock_guard lock(mu_);
    done_ = true;
    error_ = std::move(error);
    cv_.notify_all();
  }
  void close() {
    std::lock_guard lock(mu_);
    closed_ = true;
    chunks_.clear();
    cv_.notify_all();
  }
  // Fills `buf`; 0 at the verified end; rethrows the producer's error.
  std::size_t read(std::uint8_t* buf, std::size_t cap) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !chunks_.empty() || done_; });
    if (chunks_.empty()) {
      if (error_) std::rethrow_exception(error_);
      ended_ = true;
      return 0;
    }
    auto& front = chunks_.front();
    auto n = std::min(cap, front.size() - offset_);
    std::copy_n(front.data() + offset_, n, buf);
    offset_ += n;
    if (offset_ == front.size()) {
      chunks_.pop_front();
      offset_ = 0;
      cv_.notify_all();
    }
    return n;
  }
  // Whether the consumer read up to the verified end.
  bool ended() {
    std::lock_guard lock(mu_);
    return ended_;
  }
  std::exception_ptr error() {
    std::lock_guard lock(mu_);
    return error_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Bytes> chunks_;
  std::size_t offset_ = 0;
  bool done_ = false;
  bool closed_ = false;
  bool ended_ = false;
  std::exception_ptr error_;
};

}  // namespace

struct ImageCopy::Impl {
  Impl(ImageSource& s, ImageStore& d, const CopyOptions& o) : src(s), dst(d), options(o) {}

  ImageSource& src;
  ImageStore& dst;
  CopyOptions options;
  std::optional<detail::ImageWalk> walk;  // one for all images of this copy
  CopyReport report;
  std::set<Digest> blobs_done;
  std::mutex mu;  // report, from the blob threads

  void copy_tree(const Descriptor& desc, int depth, std::vector<Descriptor>& copied) {
    auto node = walk->enter(desc, depth);  // fetched and verified once; nullopt: listed again
    if (!node) return;
    copied.push_back(desc);
    if (node->kind == ManifestKind::kIndex) {
      for (const auto& child : node->index->manifests) copy_tree(child, depth + 1, copied);
    } else {
      std::vector<Descriptor> blobs{node->manifest->config};
      blobs.insert(blobs.end(), node->manifest->layers.begin(), node->manifest->layers.end());
      copy_blobs(blobs);
    }
    auto written = dst.put_manifest(node->bytes, desc.media_type);
    if (written.digest != desc.digest) {
      throw DigestMismatchError(dst.describe() + ": stored manifest " + desc.digest.str() +
                                " came back as " + written.digest.str());
    }
    ++report.manifests;
  }

  void copy_blobs(const std::vector<Descriptor>& blobs) {
    std::vector<Descriptor> pending;
    for (const auto& b : blobs) {
      if (!blobs_done.insert(b.digest).second) continue;
      if (dst.has_blob(b.digest)) {
        ++report.blobs_skipped;
        continue;
      }
      pending.push_back(b);
    }
    // In the order the source reads best, several at once where it reads in parallel.
    const auto order = src.reading_order(pending);
    const std::size_t threads = src.supports_parallel_reads() ? options.parallel_blobs : 1;
    trust::detail::for_each_index(pending.size(), threads, [&](std::size_t k) {
      const auto& b = pending[order.at(k)];
      const bool taken = copy_blob(b);
      std::lock_guard lock(mu);
      if (taken) {
        ++report.blobs_copied;
        report.bytes_copied += b.size;
      } else {
        ++report.blobs_skipped;
      }
    });
  }

  // Streams one blob from the source into the destination through a Pipe, the source on a
  // thread of its own. True when the destination took the blob from us; false when it returned
  // without reading it to the end (it already had it: another writer stored it meanwhile).
  bool copy_blob(const Descriptor& b) {
    Pipe pipe;
    std::thread producer([&] {
      try {
        src.stream_blob(b, [&](ByteView chunk) { pipe.push(chunk); });
        pipe.finish(nullptr);
      } catch (const PipeClosed&) {
        // The consumer is gone: whatever it decided stands.
      } catch (...) {
        pipe.finish(std::current_exception());
      }
    });
    // However the consumer returned, the producer must not wait for it: close, then join.
    auto stop = [&] {
      pipe.close();
      producer.join();
    };
    try {
      dst.put_blob_stream(b,
                          [&](std::uint8_t* buf, std::size_t cap) { return pipe.read(buf, cap); });
    } catch (...) {
      stop();
      throw;
    }
    stop();
    if (pipe.ended()) return true;
    if (auto e = pipe.error()) std::rethrow_exception(e);  // the source failed meanwhile
    return false;
  }
};

ImageCopy::ImageCopy(ImageSource& src, ImageStore& dst, const CopyOptions& options)
    : impl_(std::make_unique<Impl>(src, dst, options)) {
  options.validate();
}

ImageCopy::~ImageCopy() = default;

std::vector<Descriptor> ImageCopy::copy(const Descriptor& image) {
  if (!impl_->walk) impl_->walk.emplace(impl_->src, image);
  std::vector<Descriptor> copied;
  impl_->copy_tree(image, 0, copied);
  return copied;
}

const CopyReport& ImageCopy::report() const {
  return impl_->report;
}

CopyReport copy_image(ImageSource& src, ImageStore& dst, const Descriptor& image,
                      const CopyOptions& options) {
  ImageCopy copy(src, dst, options);
  copy.copy(image);
  return copy.report();
}

}  // namespace trust::oci
