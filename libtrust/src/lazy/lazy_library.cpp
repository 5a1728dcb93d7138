#include "lazy/lazy_library.h"

#include <dlfcn.h>

#include <string>

#include "libtrust/core/error.h"

namespace trust::detail {

void* LazyLibrary::symbol(const char* name) {
  std::lock_guard lock(mu_);
  if (handle_ == nullptr) {
    // RTLD_LOCAL: its symbols serve libtrust's stubs only. RTLD_LAZY, as the loader binds at
    // start-up: binding all ~40 libraries' functions at once (RTLD_NOW) costs a registry command
    // about 2 ms more.
    handle_ = ::dlopen(soname_, RTLD_LAZY | RTLD_LOCAL);
    if (handle_ == nullptr) {
      const char* why = ::dlerror();
      throw UnsupportedError(std::string(needed_for_) + " needs " + soname_ +
                             ", which cannot be loaded: " + (why != nullptr ? why : "unknown"));
    }
  }
  ::dlerror();
  void* address = ::dlsym(handle_, name);
  if (address == nullptr) {
    throw UnsupportedError(std::string(soname_) + " has no function " + name +
                           " (an older version than sigil was built against?)");
  }
  return address;
}

LazyLibrary& curl_library() {
  static LazyLibrary library(SIGIL_CURL_SONAME, "registry access");
  return library;
}

LazyLibrary& archive_library() {
  static LazyLibrary library(SIGIL_ARCHIVE_SONAME, "reading a docker-archive");
  return library;
}

}  // namespace trust::detail
