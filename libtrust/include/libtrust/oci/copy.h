#pragma once
// Copying images between any two places (registry, layout, archive → layout or registry): blobs
// streamed in constant memory and verified on both sides, manifests byte for byte (the digest never
// changes), each blob and manifest once however often it is listed.

#include <cstdint>
#include <memory>
#include <vector>

#include "libtrust/core/digest.h"
#include "libtrust/export.h"
#include "libtrust/oci/image_source.h"

namespace trust::oci {

struct CopyOptions {
  unsigned parallel_blobs = 2;      // blobs copied at once (1 when the source reads one at a time)
  TRUST_API void validate() const;  // 1..16
};

struct CopyReport {
  std::size_t manifests = 0;  // manifests and indexes written
  std::size_t blobs_copied = 0;
  std::size_t blobs_skipped = 0;  // already present at the destination
  std::uint64_t bytes_copied = 0;
};

// One copy operation from `src` to `dst`, over one or more images (an image and its attachments):
// what it copied once it does not copy again, and all its images share one walk budget
// (limits::kMaxManifestsPerImage listings).
class TRUST_API ImageCopy {
 public:
  ImageCopy(ImageSource& src, ImageStore& dst, const CopyOptions& options = {});
  ~ImageCopy();
  ImageCopy(const ImageCopy&) = delete;
  ImageCopy& operator=(const ImageCopy&) = delete;

  // Copies `image` (a manifest, or an index and everything it lists): every blob first, then each
  // manifest after what it lists, so the destination never holds a manifest whose content is
  // missing. Returns the manifests and indexes this call copied, the image first.
  std::vector<Descriptor> copy(const Descriptor& image);

  const CopyReport& report() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// One image, as one operation.
TRUST_API CopyReport copy_image(ImageSource& src, ImageStore& dst, const Descriptor& image,
                                const CopyOptions& options = {});

}  // namespace trust::oci
