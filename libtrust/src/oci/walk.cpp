#include "oci/walk.h"

#include "libtrust/core/error.h"
#include "libtrust/core/limits.h"
#include "oci/oci_internal.h"

namespace trust::oci::detail {

ImageWalk::ImageWalk(ImageSource& source, const Descriptor& image)
    : source_(source), what_(source.describe() + ": image " + image.digest.str()) {}

bool ImageWalk::count(const Descriptor& desc, int depth) {
  if (depth > limits::kMaxIndexNesting) {
    throw LimitError(what_ + ": indexes nested deeper than " +
                     std::to_string(limits::kMaxIndexNesting) + " (at " + desc.digest.str() + ")");
  }
  limits::check(++listings_, limits::kMaxManifestsPerImage, what_,
                "manifests and indexes listed (repeats included)");
  return seen_.emplace(desc.digest, desc.media_type, desc.size).second;
}

std::optional<ImageWalk::Node> ImageWalk::enter(const Descriptor& desc, int depth) {
  if (!count(desc, depth)) return std::nullopt;
  const auto what = source_.describe() + ": manifest " + desc.digest.str();
  Node node;
  node.bytes = source_.fetch_manifest(desc);  // verified against desc.digest and desc.size
  node.kind = classify_manifest(node.bytes, desc.media_type, what);
  if (node.kind == ManifestKind::kIndex) {
    node.index = Index::parse(node.bytes, what);
  } else {
    node.manifest = Manifest::parse(node.bytes, what);
  }
  return node;
}

bool ImageWalk::enter_blob(const Descriptor& desc, int depth) {
  if (!count(desc, depth)) return false;
  // Present and matching its digest, when small enough to be a manifest of some kind; what
  // larger is listed there is not read.
  if (desc.size <= limits::kMaxManifestBytes) (void)source_.fetch_manifest(desc);
  return true;
}

}  // namespace trust::oci::detail
