#pragma once
// What is attached to an image (cosign tags "sha256-<hex>.sig|.att|.sbom" and OCI 1.1 referrers),
// and copying an image together with its attachments between any two places (registry, layout):
// how signed images move into air-gapped registries and stay verifiable there. The copying itself
// is oci::ImageCopy (oci/copy.h); this finds what to copy.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "libtrust/core/digest.h"
#include "libtrust/export.h"
#include "libtrust/oci/image_source.h"

namespace trust::sig {

enum class AttachmentKind { kSignatures, kAttestations, kSbom };
// "sha256-<hex>.sig", ".att", ".sbom"
TRUST_API std::string attachment_tag(const Digest& subject, AttachmentKind kind);
TRUST_API std::string_view to_string(AttachmentKind kind);  // "signatures", …

struct Attachment {
  AttachmentKind kind;
  std::string tag;
  oci::Descriptor manifest;
};

struct Attachments {
  Digest subject;
  std::vector<Attachment> tagged;          // the cosign-style tags that exist
  std::vector<oci::Descriptor> referrers;  // OCI 1.1 referrers (as the index lists them)
  bool empty() const { return tagged.empty() && referrers.empty(); }
};

// Looks up every attachment of `subject` (no blob is read). Capped like referrers().
TRUST_API Attachments find_attachments(oci::ImageSource& source, const Digest& subject);

struct CopyOptions {
  bool attachments = true;      // also copy .sig/.att/.sbom tags and referrers (of the image and
                                // of every manifest and index it lists)
  unsigned parallel_blobs = 2;  // blobs copied at once
  TRUST_API void validate() const;
};

struct CopyReport {
  Digest digest;              // what was copied (the source reference resolved once)
  std::size_t manifests = 0;  // manifests and indexes written
  std::size_t blobs_copied = 0;
  std::size_t blobs_skipped = 0;  // already present at the destination
  std::uint64_t bytes_copied = 0;
  std::size_t attachments = 0;  // attachment manifests copied (tags and referrers)
};

// Copies `image` (a manifest or an index with everything it lists) from `src` to `dst` through
// oci::ImageCopy (every blob streamed in constant memory and verified on both sides, manifests
// byte for byte), then tags `dst_tag` (when non-empty) and copies the attachments of every
// manifest copied, as a second oci::ImageCopy.
TRUST_API CopyReport copy_image(oci::ImageSource& src, oci::ImageStore& dst,
                                const oci::Descriptor& image, const std::string& dst_tag,
                                const CopyOptions& options = {});

}  // namespace trust::sig
