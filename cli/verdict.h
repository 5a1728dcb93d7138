#pragma once
// The one verdict printer: prints the report libtrust builds (check/report.h), as text for people
// (stderr), as sigil's JSON document, or as the array `cosign verify` prints (stdout). Every
// command that verifies prints through it.

#include <string>

#include "common.h"
#include "libtrust/check/verify_image.h"
#include "libtrust/core/reference.h"

namespace sigil::cli {

// `source` names where the image was read ("127.0.0.1:5000/lab/app", "oci:/tmp/img").
void print_verification(const trust::Reference& ref, const std::string& source,
                        const trust::check::ImageVerification& v, OutputFormat format);

}  // namespace sigil::cli
