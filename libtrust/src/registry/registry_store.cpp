#include "libtrust/registry/registry_store.h"

#include <deque>
#include <mutex>
#include <set>

#include "libtrust/core/error.h"
#include "libtrust/core/limits.h"
#include "libtrust/core/media_type.h"
#include "oci/oci_internal.h"

namespace trust::registry {
namespace {

// Manifests this store fetched (verified) or put, by digest, so that resolve() + fetch_manifest()
// and set_tag() cost no second request. Small and bounded.
constexpr std::size_t kManifestCacheEntries = 64;
constexpr std::size_t kManifestCacheBytes = 16u << 20;

class RegistryImageStore final : public oci::ImageStore {
 public:
  RegistryImageStore(std::shared_ptr<Client> client, Repository repo)
      : client_(std::move(client)), repo_(std::move(repo)) {}

  std::string describe() const override { return repo_.str(); }
  // Another signer's read-merge-write is a few round trips, and may be slowed by a busy registry
  // or CI machine: give it this long before trusting that our write held.
  std::chrono::milliseconds merge_settle_time() const override {
    return std::chrono::milliseconds(250);
  }
  void wait_to_merge(std::chrono::milliseconds delay) const override {
    client_->wait(delay, describe() + ": waiting for concurrent writers to settle");
  }

  oci::Descriptor resolve(const Reference& ref) override {
    if (ref.kind() != ReferenceKind::kRegistry || ref.registry() != repo_.registry ||
        ref.repository() != repo_.name) {
      throw UsageError(describe() + ": cannot resolve " + ref.str() + " in this repository");
    }
    if (ref.digest()) {
      // Pinned: fetch by digest and check the bytes against it.
      oci::Descriptor d;
      d.digest = *ref.digest();
      auto bytes = client_->get_manifest(repo_, d);
      d.size = bytes.size();
      d.media_type = media_type_of(bytes, describe() + "@" + d.digest.str());
      remember(d.digest, std::move(bytes));
      return d;
    }
    const std::string tag = ref.tag().value_or("latest");
    auto found = find_tag(tag);
    if (!found) throw NotFoundError(describe() + ":" + tag + ": no such tag (manifest unknown)");
    return *found;
  }

  std::optional<oci::Descriptor> find_tag(std::string_view tag) override {
    auto fetched = client_->get_manifest_by_tag(repo_, tag);
    if (!fetched) return std::nullopt;
    remember(fetched->descriptor.digest, std::move(fetched->bytes));
    return fetched->descriptor;
  }

  Bytes fetch_manifest(const oci::Descriptor& desc) override {
    if (desc.size > limits::kMaxManifestBytes) {
      throw LimitError(describe() + "@" + desc.digest.str() + ": manifest declares " +
                       std::to_string(desc.size) + " bytes, over the limit of " +
                       std::to_string(limits::kMaxManifestBytes));
    }
    if (auto cached = recall(desc.digest)) {
      if (desc.size == 0 || cached->size() == desc.size) return std::move(*cached);
      throw DigestMismatchError(describe() + "@" + desc.digest.str() + ": manifest has " +
                                std::to_string(cached->size()) + " bytes, the descriptor says " +
                                std::to_string(desc.size));
    }
    auto bytes = client_->get_manifest(repo_, desc);
    remember(desc.digest, Bytes(bytes));
    return bytes;
  }

  Bytes fetch_blob(const oci::Descriptor& desc, std::uint64_t max_bytes) override {
    return client_->get_blob(repo_, desc, max_bytes);
  }

  // All at once over the client's connection (HTTP/2 streams where the registry offers them);
  // the few whose answer needs retries, a redirect or a challenge go the default way after.
  void fetch_blobs(const std::vector<oci::Descriptor>& descs, std::uint64_t max_bytes,
                   const std::function<void(std::size_t, Bytes)>& on_blob) override {
    const auto again =
        client_->get_blobs(repo_, descs, max_bytes, limits::kMaxAttachmentBytesInFlight, on_blob);
    if (again.empty()) return;
    std::vector<oci::Descriptor> rest;
    for (auto i : again) rest.push_back(descs[i]);
    ImageSource::fetch_blobs(
        rest, max_bytes, [&](std::size_t k, Bytes bytes) { on_blob(again[k], std::move(bytes)); });
  }

  void stream_blob(const oci::Descriptor& desc,
                   const std::function<void(ByteView)>& sink) override {
    client_->stream_blob(repo_, desc, sink);
  }

  std::vector<oci::Descriptor> referrers(const Digest& subject,
                                         std::string_view artifact_type) override {
    auto index = client_->referrers(repo_, subject, artifact_type);
    if (!index) return ImageSource::referrers(subject, artifact_type);  // tag schema fallback
    limits::check(index->manifests.size(), limits::kMaxSignaturesPerImage,
                  describe() + ": referrers API for " + subject.str(), "referrers");
    // The API's answer and the fallback index may both hold entries (written by tools that
    // used either): merge them so nothing written by the other way is missed.
    auto fallback = ImageSource::referrers(subject, artifact_type);
    std::set<Digest> have;
    for (const auto& d : index->manifests) have.insert(d.digest);
    for (auto& d : fallback) {
      if (have.insert(d.digest).second) index->manifests.push_back(std::move(d));
    }
    limits::check(index->manifests.size(), limits::kMaxSignaturesPerImage,
                  describe() + ": referrers API and fallback index for " + subject.str(),
                  "referrers");
    return std::move(index->manifests);
  }

  void put_blob(ByteView data, const Digest& digest) override {
    client_->put_blob(repo_, data, digest);
  }

  // Streamed to the registry as it is read (constant memory, whatever the blob's size); the
  // upload is committed only after `read` reached its verified end.
  void put_blob_stream(const oci::Descriptor& desc, const BlobReader& read) override {
    client_->put_blob_stream(repo_, desc.digest, desc.size, read);
  }

  bool has_blob(const Digest& digest) override { return client_->blob_exists(repo_, digest); }

  oci::Descriptor put_manifest(ByteView bytes, std::string_view media_type) override {
    const auto digest = Digest::of(bytes);
    bool subject_processed = false;
    auto d = client_->put_manifest(repo_, digest.str(), bytes, media_type, &subject_processed);
    if (subject_processed) {
      std::lock_guard lock(mu_);
      subject_processed_.insert(d.digest);
    }
    remember(d.digest, Bytes(bytes.begin(), bytes.end()));
    return d;
  }

  void set_tag(std::string_view tag, const oci::Descriptor& desc) override {
    auto bytes = fetch_manifest(desc);
    client_->put_manifest(repo_, tag, bytes, desc.media_type);
    remember(desc.digest, std::move(bytes));
  }

  void add_referrer(const oci::Descriptor& referrer, const oci::Descriptor& subject,
                    bool subject_processed) override {
    {
      std::lock_guard lock(mu_);
      if (subject_processed_.count(referrer.digest) != 0) subject_processed = true;
    }
    ImageStore::add_referrer(referrer, subject, subject_processed);
  }

 private:
  static std::string media_type_of(ByteView bytes, const std::string& what) {
    auto kind = oci::classify_manifest(bytes, "", what);
    auto j = trust::detail::parse_json(bytes, what);
    return trust::detail::optional_string(j, "mediaType", what)
        .value_or(std::string(kind == oci::ManifestKind::kIndex ? media_type::kOciIndex
                                                                : media_type::kOciManifest));
  }

  void remember(const Digest& digest, Bytes bytes) {
    std::lock_guard lock(mu_);
    for (const auto& [d, _] : cache_) {
      if (d == digest) return;
    }
    cache_bytes_ += bytes.size();
    cache_.emplace_back(digest, std::move(bytes));
    while (!cache_.empty() &&
           (cache_.size() > kManifestCacheEntries || cache_bytes_ > kManifestCacheBytes)) {
      cache_bytes_ -= cache_.front().second.size();
      cache_.pop_front();
    }
  }

  std::optional<Bytes> recall(const Digest& digest) {
    std::lock_guard lock(mu_);
    for (const auto& [d, b] : cache_) {
      if (d == digest) return b;  // verified when it was stored
    }
    return std::nullopt;
  }

  std::shared_ptr<Client> client_;
  Repository repo_;
  std::mutex mu_;
  std::deque<std::pair<Digest, Bytes>> cache_;
  std::size_t cache_bytes_ = 0;
  std::set<Digest> subject_processed_;
};

}  // namespace

std::unique_ptr<oci::ImageStore> open_registry_store(std::shared_ptr<Client> client,
                                                     const Reference& ref) {
  if (!client) throw UsageError(ref.str() + ": no registry client given");
  return std::make_unique<RegistryImageStore>(std::move(client), Repository::of(ref));
}

std::unique_ptr<oci::ImageSource> open_source(const Reference& ref, const TransportOptions& options,
                                              std::shared_ptr<Client> client) {
  if (ref.kind() != ReferenceKind::kRegistry) return oci::open_image_source(ref);
  if (!client) client = std::make_shared<Client>(options);
  return open_registry_store(std::move(client), ref);
}

std::unique_ptr<oci::ImageStore> open_store(const Reference& ref, const TransportOptions& options,
                                            std::shared_ptr<Client> client) {
  if (ref.kind() != ReferenceKind::kRegistry) return oci::open_image_store(ref);
  if (!client) client = std::make_shared<Client>(options);
  return open_registry_store(std::move(client), ref);
}

}  // namespace trust::registry
