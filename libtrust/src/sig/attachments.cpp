#include "libtrust/sig/attachments.h"

#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <set>
#include <thread>

#include "libtrust/core/error.h"
#include "libtrust/core/limits.h"

namespace trust::sig {

std::string attachment_tag(const Digest& subject, AttachmentKind kind) {
  std::string base = std::string(trust::to_string(subject.algorithm())) + "-" + subject.hex();
  switch (kind) {
    case AttachmentKind::kSignatures:
      return base + ".sig";
    case AttachmentKind::kAttestations:
      return base + ".att";
    case AttachmentKind::kSbom:
      return base + ".sbom";
  }
  return base;
}

std::string_view to_string(AttachmentKind kind) {
  switch (kind) {
    case AttachmentKind::kSignatures:
      return "signatures";
    case AttachmentKind::kAttestations:
      return "attestations";
    case AttachmentKind::kSbom:
      return "sbom";
  }
  return "unknown";
}

Attachments find_attachments(oci::ImageSource& source, const Digest& subject) {
  Attachments out{.subject = subject, .tagged = {}, .referrers = {}};
  for (auto kind :
       {AttachmentKind::kSignatures, AttachmentKind::kAttestations, AttachmentKind::kSbom}) {
    auto tag = attachment_tag(subject, kind);
    if (auto d = source.find_tag(tag)) {
      out.tagged.push_back({.kind = kind, .tag = tag, .manifest = *d});
    }
  }
  out.referrers = source.referrers(subject);
  return out;
}

void CopyOptions::validate() const {
  if (parallel_blobs == 0 || parallel_blobs > 16) {
    throw UsageError("parallel blob copies must be between 1 and 16");
  }
}

namespace {

// A bounded queue of chunks between a producer (the source's stream_blob, which verifies the
// digest before it returns) and a consumer (the destination's put_blob_stream). The end is
// signalled only after the producer returned, so nothing unverified is ever committed.
class Pipe {
 public:
  static constexpr std::size_t kMaxChunks = 8;

  void push(ByteView chunk) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return chunks_.size() < kMaxChunks || aborted_; });
    if (aborted_) throw IoError("copy aborted");
    chunks_.emplace_back(chunk.begin(), chunk.end());
    cv_.notify_all();
  }
  void finish(std::exception_ptr error) {
    std::lock_guard lock(mu_);
    done_ = true;
    error_ = std::move(error);
    cv_.notify_all();
  }
  void abort() {
    std::lock_guard lock(mu_);
    aborted_ = true;
    cv_.notify_all();
  }
  // Fills `buf`; 0 at the verified end; rethrows the producer's error.
  std::size_t read(std::uint8_t* buf, std::size_t cap) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !chunks_.empty() || done_; });
    if (chunks_.empty()) {
      if (error_) std::rethrow_exception(error_);
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

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Bytes> chunks_;
  std::size_t offset_ = 0;
  bool done_ = false;
  bool aborted_ = false;
  std::exception_ptr error_;
};

class Copier {
 public:
  Copier(oci::ImageSource& src, oci::ImageStore& dst, const CopyOptions& options)
      : src_(src), dst_(dst), options_(options) {}

  void copy_tree(const oci::Descriptor& desc, int depth = 0) {
    if (depth >= limits::kMaxIndexNesting) {
      throw LimitError(src_.describe() + ": indexes nested deeper than " +
                       std::to_string(limits::kMaxIndexNesting));
    }
    if (done_.count(desc.digest) != 0) return;
    auto bytes = src_.fetch_manifest(desc);  // verified against desc.digest
    auto kind = oci::classify_manifest(bytes, desc.media_type, src_.describe());
    if (kind == oci::ManifestKind::kIndex) {
      auto index = oci::Index::parse(bytes, src_.describe() + ": index " + desc.digest.str());
      for (const auto& child : index.manifests) copy_tree(child, depth + 1);
    } else {
      auto m = oci::Manifest::parse(bytes, src_.describe() + ": manifest " + desc.digest.str());
      std::vector<oci::Descriptor> blobs{m.config};
      blobs.insert(blobs.end(), m.layers.begin(), m.layers.end());
      copy_blobs(blobs);
    }
    auto written = dst_.put_manifest(bytes, desc.media_type);
    if (written.digest != desc.digest) {
      throw DigestMismatchError(dst_.describe() + ": stored manifest " + desc.digest.str() +
                                " came back as " + written.digest.str());
    }
    ++report_.manifests;
    done_.insert(desc.digest);
  }

  void copy_attachments(const Digest& subject, const oci::Descriptor& subject_desc) {
    auto found = find_attachments(src_, subject);
    for (const auto& a : found.tagged) {
      copy_tree(a.manifest);
      dst_.set_tag(a.tag, a.manifest);
      ++report_.attachments;
    }
    for (const auto& r : found.referrers) {
      // The index entry is the source's claim; the manifest itself must name this subject.
      auto bytes = src_.fetch_manifest(r);
      auto m = oci::Manifest::parse(bytes, src_.describe() + ": referrer " + r.digest.str());
      if (!m.subject || m.subject->digest != subject) continue;
      copy_tree(r);
      dst_.add_referrer(r, subject_desc);
      ++report_.attachments;
    }
  }

  CopyReport& report() { return report_; }

 private:
  void copy_blobs(const std::vector<oci::Descriptor>& blobs) {
    std::vector<oci::Descriptor> pending;
    for (const auto& b : blobs) {
      if (done_blobs_.count(b.digest) != 0) continue;
      done_blobs_.insert(b.digest);
      if (dst_.has_blob(b.digest)) {
        ++report_.blobs_skipped;
        continue;
      }
      pending.push_back(b);
    }
    // Up to parallel_blobs at once, each as a producer/consumer pair.
    std::size_t next = 0;
    std::mutex mu;
    std::exception_ptr first_error;
    auto worker = [&] {
      while (true) {
        oci::Descriptor b;
        {
          std::lock_guard lock(mu);
          if (next >= pending.size() || first_error) return;
          b = pending[next++];
        }
        try {
          copy_blob(b);
          std::lock_guard lock(mu);
          ++report_.blobs_copied;
          report_.bytes_copied += b.size;
        } catch (...) {
          std::lock_guard lock(mu);
          if (!first_error) first_error = std::current_exception();
        }
      }
    };
    const auto n = std::min<std::size_t>(options_.parallel_blobs, pending.size());
    std::vector<std::thread> threads;
    for (std::size_t i = 1; i < n; ++i) threads.emplace_back(worker);
    if (n > 0) worker();
    for (auto& t : threads) t.join();
    if (first_error) std::rethrow_exception(first_error);
  }

  void copy_blob(const oci::Descriptor& b) {
    Pipe pipe;
    std::thread producer([&] {
      try {
        src_.stream_blob(b, [&](ByteView chunk) { pipe.push(chunk); });
        pipe.finish(nullptr);
      } catch (...) {
        pipe.finish(std::current_exception());
      }
    });
    try {
      dst_.put_blob_stream(b,
                           [&](std::uint8_t* buf, std::size_t cap) { return pipe.read(buf, cap); });
    } catch (...) {
      pipe.abort();
      producer.join();
      throw;
    }
    producer.join();
  }

  oci::ImageSource& src_;
  oci::ImageStore& dst_;
  const CopyOptions& options_;
  CopyReport report_;
  std::set<Digest> done_;
  std::set<Digest> done_blobs_;
};

}  // namespace

CopyReport copy_image(oci::ImageSource& src, oci::ImageStore& dst, const oci::Descriptor& image,
                      const std::string& dst_tag, const CopyOptions& options) {
  options.validate();
  Copier copier(src, dst, options);
  copier.copy_tree(image);
  if (!dst_tag.empty()) dst.set_tag(dst_tag, image);
  if (options.attachments) {
    copier.copy_attachments(image.digest, image);
    auto bytes = src.fetch_manifest(image);
    if (oci::classify_manifest(bytes, image.media_type, src.describe()) ==
        oci::ManifestKind::kIndex) {
      auto index = oci::Index::parse(bytes, src.describe() + ": index " + image.digest.str());
      for (const auto& child : index.manifests) copier.copy_attachments(child.digest, child);
    }
  }
  copier.report().digest = image.digest;
  return copier.report();
}

}  // namespace trust::sig
