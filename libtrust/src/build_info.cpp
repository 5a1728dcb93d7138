#include "libtrust/build_info.h"

#include <curl/curl.h>
#include <openssl/crypto.h>

namespace trust {

BuildInfo build_info() {
  BuildInfo info;
#if defined(__clang__)
  info.compiler = "clang " __clang_version__;
#elif defined(__GNUC__)
  info.compiler = "GCC " __VERSION__;
#else
  info.compiler = "unknown";
#endif
  info.openssl = OpenSSL_version(OPENSSL_VERSION);
  info.libcurl = LIBCURL_VERSION;
  return info;
}

}  // namespace trust
