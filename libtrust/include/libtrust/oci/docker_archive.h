#pragma once
// `docker save` archives, read-only, through libarchive. Both forms docker writes: the legacy
// manifest.json (Config, RepoTags, Layers) — presented as a Docker schema2 manifest synthesised
// from the archive's files — and the OCI layout that Docker ≥ 25 writes inside the tar.

#include <filesystem>
#include <memory>

#include "libtrust/export.h"
#include "libtrust/oci/image_source.h"

namespace trust::oci {

TRUST_API std::unique_ptr<ImageSource> open_docker_archive(const std::filesystem::path& file);

}  // namespace trust::oci
