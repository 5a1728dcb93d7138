#pragma once
// OCI image layout (image-spec "image-layout.md"): oci-layout, index.json, blobs/<alg>/<hex>.
// Tags are index.json entries annotated org.opencontainers.image.ref.name. Paths never escape
// the layout directory; symlinks inside it are refused. Writes are atomic (temp file + rename).

#include <filesystem>
#include <memory>

#include "libtrust/export.h"
#include "libtrust/oci/image_source.h"

namespace trust::oci {

// Opens an existing layout (InputError if oci-layout/index.json are missing or malformed).
TRUST_API std::unique_ptr<ImageStore> open_oci_layout(const std::filesystem::path& dir);
// Creates an empty layout at `dir` (which may exist and be empty), or opens it if already a layout.
TRUST_API std::unique_ptr<ImageStore> create_oci_layout(const std::filesystem::path& dir);

}  // namespace trust::oci
