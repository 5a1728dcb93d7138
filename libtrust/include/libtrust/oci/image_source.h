#pragma once
// One interface over every place images live: an OCI image layout, a `docker save` archive, and
// (later) a registry. Signing and verifying code sees only ImageSource / ImageStore.
// Every byte handed out has been checked against the digest it was asked for.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "libtrust/core/bytes.h"
#include "libtrust/core/digest.h"
#include "libtrust/core/reference.h"
#include "libtrust/export.h"
#include "libtrust/oci/manifest.h"

namespace trust::oci {

class TRUST_API ImageSource {
 public:
  virtual ~ImageSource();

  // "oci:/path/to/layout", "docker-archive:/x.tar": names this source in messages.
  virtual std::string describe() const = 0;

  // Resolves what `ref` names (its tag, its digest, or the only image when neither is given) to
  // the descriptor of a manifest or index. Called once per command; everything after works on
  // the returned digest. Throws NotFoundError naming the tag.
  virtual Descriptor resolve(const Reference& ref) = 0;

  // Looks up a tag (for attachments such as "sha256-<hex>.sig"); nullopt when absent.
  virtual std::optional<Descriptor> find_tag(std::string_view tag) = 0;

  // The manifest or index bytes for `desc`, checked against desc.digest and desc.size, at most
  // limits::kMaxManifestBytes. Throws NotFoundError, DigestMismatchError, LimitError. The
  // default is fetch_blob(desc, limits::kMaxManifestBytes).
  virtual Bytes fetch_manifest(const Descriptor& desc);

  // A whole blob in memory, at most `max_bytes` (checked from desc.size before reading), checked
  // against desc.digest. The default collects stream_blob's chunks.
  virtual Bytes fetch_blob(const Descriptor& desc, std::uint64_t max_bytes);

  // Several small blobs (signature payloads, bundles) at once: each at most `max_bytes` (checked
  // from its descriptor before anything is read) and checked against its digest, handed to
  // `on_blob(i, bytes)` as it arrives, in any order but on the calling thread, one call at a time.
  // The bytes of blobs fetched and not yet handed back (on_blob returned) stay within
  // limits::kMaxAttachmentBytesInFlight (one larger blob is fetched alone), so `on_blob` should
  // judge and drop what it gets. After the first exception, a fetch's or on_blob's, no new fetch
  // starts; it is rethrown once the fetches under way have stopped. The default fetches
  // limits::kAttachmentFetchThreads at a time where the source allows parallel reads.
  virtual void fetch_blobs(const std::vector<Descriptor>& descs, std::uint64_t max_bytes,
                           const std::function<void(std::size_t, Bytes)>& on_blob);
  // The same for manifests (referrer manifests), each through fetch_manifest.
  void fetch_manifests(const std::vector<Descriptor>& descs,
                       const std::function<void(std::size_t, Bytes)>& on_manifest);

  // Streams a blob in chunks to `sink` in constant memory, hashing as it goes. Throws
  // DigestMismatchError at the end if the bytes did not match: a sink must not act on content
  // until this returns.
  virtual void stream_blob(const Descriptor& desc, const std::function<void(ByteView)>& sink) = 0;

  // Whether two blobs may be read concurrently (parallel layer hashing).
  virtual bool supports_parallel_reads() const { return true; }

  // The order in which to read `descs` (a permutation of their indexes) when all of them will be
  // read: a source that reads best front to back (a compressed archive) sorts them by where they
  // are stored. The default keeps the order given.
  virtual std::vector<std::size_t> reading_order(const std::vector<Descriptor>& descs);

  // Manifests whose `subject` is `subject` (OCI 1.1 referrers), optionally only those of
  // `artifact_type`. The default reads the referrers tag schema: an index under the tag
  // "sha256-<hex>" (registries with the referrers API override this). At most
  // limits::kMaxSignaturesPerImage entries (LimitError past that). The descriptors are claims of
  // the index: callers fetch each manifest (verified) and check its subject themselves.
  virtual std::vector<Descriptor> referrers(const Digest& subject,
                                            std::string_view artifact_type = {});
};

// "sha256-<hex>": the referrers tag schema's fallback tag for `subject`.
TRUST_API std::string referrers_fallback_tag(const Digest& subject);
// Whether `tag` names something attached to an image rather than an image: the referrers
// fallback tag "<alg>-<hex>" or cosign's "<alg>-<hex>.sig|.att|.sbom".
TRUST_API bool is_attachment_tag(std::string_view tag);

// A source that can also be written: an OCI layout, a registry repository.
class TRUST_API ImageStore : public ImageSource {
 public:
  // Stores a blob under its digest (verified), idempotent.
  virtual void put_blob(ByteView data, const Digest& digest) = 0;
  // Whether a blob is already stored (used only to skip an upload; never as proof of content).
  virtual bool has_blob(const Digest& digest);
  // Stores a blob read from `read` (which fills the buffer and returns the bytes written, 0 at
  // the end) in constant memory; the blob becomes visible only after its digest and size are
  // checked. The default buffers in memory (at most kMaxBufferedBlobBytes); stores override it.
  using BlobReader = std::function<std::size_t(std::uint8_t*, std::size_t)>;
  virtual void put_blob_stream(const Descriptor& desc, const BlobReader& read);
  static constexpr std::uint64_t kMaxBufferedBlobBytes = 256ull << 20;
  // Stores a manifest or index (as a blob in a layout) and returns its descriptor.
  virtual Descriptor put_manifest(ByteView bytes, std::string_view media_type) = 0;
  // Points `tag` at `desc`, replacing what it pointed to before (atomically).
  virtual void set_tag(std::string_view tag, const Descriptor& desc) = 0;

  // Makes the stored manifest `referrer` (whose subject is `subject`) discoverable through
  // referrers(). The default maintains the fallback index tag "sha256-<hex>": read, add the entry
  // (with its artifactType and annotations) if absent, write, then re-read and merge again if a
  // concurrent writer replaced it (bounded). `subject_processed` (a registry that answered
  // OCI-Subject) skips it.
  virtual void add_referrer(const Descriptor& referrer, const Descriptor& subject,
                            bool subject_processed = false);

  // The least time a read-merge-write of a tag waits before confirming its change held (see
  // core/retry.h): what another writer's cycle on this store may take. A layout on local disk
  // needs little; a registry shared with other processes, more.
  virtual std::chrono::milliseconds merge_settle_time() const;
  // Waits `delay` between those attempts. The default sleeps; a registry store's wait throws at
  // once when the delay would pass its operation's deadline (TransportOptions::timeout).
  virtual void wait_to_merge(std::chrono::milliseconds delay) const;
};

// Opens the source a reference names: oci: → OCI layout, docker-archive: → archive.
// Registry references throw UnsupportedError until the registry client exists.
TRUST_API std::unique_ptr<ImageSource> open_image_source(const Reference& ref);
// Opens a writable store (oci: only for now); throws UnsupportedError for read-only kinds.
TRUST_API std::unique_ptr<ImageStore> open_image_store(const Reference& ref);

}  // namespace trust::oci
