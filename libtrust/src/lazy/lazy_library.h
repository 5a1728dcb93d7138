#pragma once
// Private to libtrust: shared libraries opened on first use instead of at process start.
//
// libcurl and libarchive bring about forty shared libraries with them (GnuTLS, Kerberos, LDAP,
// libxml2, ICU, …); loading and relocating those costs a node hook more than all of verifying a
// local image. So libtrust does not link them: lazy/curl.cpp and lazy/archive.cpp define every
// libcurl and libarchive function libtrust calls, with the signatures of their own headers, as
// stubs that look the real function up here on their first call. The registry and archive code
// includes <curl/curl.h> and <archive.h> and calls them as usual. The library is linked with
// --no-undefined, so a function without a stub is a link error naming it, never a surprise at
// run time: add one line to the stub file.
//
// A library that cannot be opened is an UnsupportedError naming it and what needed it (the
// registry, a docker-archive), raised where the first call is made: a verification of a local
// layout works on a node without libcurl.

#include <mutex>

namespace trust::detail {

class LazyLibrary {
 public:
  // `soname` as the dynamic loader finds it ("libcurl.so.4"), `needed_for` for messages.
  constexpr LazyLibrary(const char* soname, const char* needed_for)
      : soname_(soname), needed_for_(needed_for) {}
  LazyLibrary(const LazyLibrary&) = delete;
  LazyLibrary& operator=(const LazyLibrary&) = delete;

  // The address of the function `name`, opening the library on the first call (thread-safe; the
  // library is never closed). Throws UnsupportedError when it cannot be opened or lacks `name`.
  void* symbol(const char* name);

  // Resolves `name` as a function pointer of type F.
  template <typename F>
  F function(const char* name) {
    return reinterpret_cast<F>(symbol(name));
  }

 private:
  const char* soname_;
  const char* needed_for_;
  std::mutex mu_;
  void* handle_ = nullptr;
};

// The two libraries, opened by the sonames libtrust was built against.
LazyLibrary& curl_library();
LazyLibrary& archive_library();

}  // namespace trust::detail

// Defines the C function `name` with the signature its header declares (a mismatch does not
// compile): the first call resolves the real one in `library()`, every call forwards to it.
#define SIGIL_LAZY_FUNCTION(library, ret, name, params, args)                               \
  extern "C" ret name params {                                                              \
    static const auto real = ::trust::detail::library().function<decltype(&::name)>(#name); \
    return real args;                                                                       \
  }
