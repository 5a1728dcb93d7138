#pragma once
// The first step of every check of an image where it lives: the reference resolved exactly once
// (everything after works on the digest), and the manifest fetched and checked against it; with
// `check_blobs`, also the config and every layer (of every manifest of an index).

#include "libtrust/core/reference.h"
#include "libtrust/oci/image_source.h"

namespace trust::check::detail {

oci::Descriptor resolve_checked(oci::ImageSource& source, const Reference& ref, bool check_blobs);

}  // namespace trust::check::detail
