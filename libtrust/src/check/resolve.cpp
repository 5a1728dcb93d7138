#include "check/resolve.h"

#include "libtrust/oci/inspect.h"

namespace trust::check::detail {

oci::Descriptor resolve_checked(oci::ImageSource& source, const Reference& ref, bool check_blobs) {
  auto image = source.resolve(ref);
  if (check_blobs) {
    oci::InspectOptions inspect{.threads = 0, .compute_diff_ids = false, .recurse_index = true};
    (void)oci::inspect_image(source, image, inspect);
  } else {
    (void)source.fetch_manifest(image);
  }
  return image;
}

}  // namespace trust::check::detail
