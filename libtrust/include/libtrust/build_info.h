#pragma once
// What this libtrust was built with and runs on, for `sigil version` and bug reports.

#include <string>

#include "libtrust/export.h"

namespace trust {

struct BuildInfo {
  std::string compiler;  // the compiler that built libtrust ("GCC 12.2.0", "clang 16.0.6")
  std::string openssl;   // the OpenSSL library loaded at run time ("OpenSSL 3.0.19 27 Jan 2026")
  std::string libcurl;   // the libcurl loaded at run time ("7.88.1")
};

TRUST_API BuildInfo build_info();

}  // namespace trust
