#pragma once
// What this libtrust was built with and runs on, for `sigil version` and bug reports.

#include <string>

#include "libtrust/export.h"

namespace trust {

struct BuildInfo {
  std::string compiler;  // the compiler that built libtrust ("GCC 12.2.0", "clang 16.0.6")
  std::string openssl;   // the OpenSSL library loaded at run time ("OpenSSL 3.0.19 27 Jan 2026")
  // The libcurl libtrust was built against ("7.88.1"). libcurl is opened only when a registry is
  // contacted (lazy/lazy_library.h), so reporting a version must not open it.
  std::string libcurl;
};

TRUST_API BuildInfo build_info();

}  // namespace trust
