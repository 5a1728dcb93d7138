#pragma once
// Private to libtrust: the one walk through an image that every operation uses (inspect_image and
// so verification's blob check, copying, choosing what signing covers).
//
// An index may list other indexes, and indexes within their entry limit that list each other
// many times multiply: three levels of 1000 entries reach 10^9 listings from half a megabyte. A
// walk therefore fetches (and so checks against its digest) each distinct descriptor once, and
// counts every listing, first or repeated, against limits::kMaxManifestsPerImage; nesting is
// capped at limits::kMaxIndexNesting. Callers recurse themselves and decide what a repeated
// listing means to them (a copy skips it, a report notes it).

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <tuple>

#include "libtrust/core/bytes.h"
#include "libtrust/oci/image_source.h"
#include "libtrust/oci/manifest.h"

namespace trust::oci::detail {

class ImageWalk {
 public:
  // `image`: what the walk starts from, for messages.
  ImageWalk(ImageSource& source, const Descriptor& image);

  struct Node {
    ManifestKind kind = ManifestKind::kImage;
    Bytes bytes;                       // verified against the descriptor
    std::optional<Index> index;        // kind == kIndex
    std::optional<Manifest> manifest;  // kind == kImage
  };

  // One listing of the manifest or index `desc`, `depth` indexes below the image (0: the image
  // itself). The first time: fetched, classified and parsed. Listed again (same digest, media type
  // and size): nullopt, nothing fetched. Throws LimitError past the budget or the nesting cap.
  std::optional<Node> enter(const Descriptor& desc, int depth);

  // One listing of an index entry that is neither a manifest nor an index (an artifact): counted
  // like a manifest, its bytes fetched and checked the first time when they are at most
  // limits::kMaxManifestBytes (false when listed again).
  bool enter_blob(const Descriptor& desc, int depth);

  std::size_t listings() const { return listings_; }

 private:
  bool count(const Descriptor& desc, int depth);

  ImageSource& source_;
  std::string what_;
  std::size_t listings_ = 0;
  std::set<std::tuple<Digest, std::string, std::uint64_t>> seen_;
};

}  // namespace trust::oci::detail
