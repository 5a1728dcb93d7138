#include "libtrust/oci/image_source.h"

#include "libtrust/core/error.h"
#include "libtrust/oci/docker_archive.h"
#include "libtrust/oci/layout.h"

namespace trust::oci {

ImageSource::~ImageSource() = default;

std::unique_ptr<ImageSource> open_image_source(const Reference& ref) {
  switch (ref.kind()) {
    case ReferenceKind::kOciLayout:
      return open_oci_layout(ref.path());
    case ReferenceKind::kDockerArchive:
      return open_docker_archive(ref.path());
    case ReferenceKind::kRegistry:
      break;
  }
  throw UnsupportedError(ref.str() + ": registry references are not supported yet");
}

std::unique_ptr<ImageStore> open_image_store(const Reference& ref) {
  switch (ref.kind()) {
    case ReferenceKind::kOciLayout:
      return open_oci_layout(ref.path());
    case ReferenceKind::kDockerArchive:
      throw UnsupportedError(ref.str() + ": docker-archive sources are read-only");
    case ReferenceKind::kRegistry:
      break;
  }
  throw UnsupportedError(ref.str() + ": registry references are not supported yet");
}

}  // namespace trust::oci
