#pragma once
// Helpers shared by the oci tests: the exact error a call throws (support/errors.h).

#include "support/errors.h"

namespace oci_test {

using sigil::test::code_of;
using sigil::test::Thrown;
using sigil::test::thrown_by;

}  // namespace oci_test
