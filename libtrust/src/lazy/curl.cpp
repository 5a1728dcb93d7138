// libcurl, opened on first use (lazy/lazy_library.h): every function libtrust may call, with the
// signature <curl/curl.h> declares. The variadic setopt/getinfo functions forward their one
// argument by the type its option number encodes, as libcurl itself reads it.
#include <curl/curl.h>

#include <cstdarg>

#include "lazy/lazy_library.h"

// curl.h wraps these in same-name macros (to count arguments); define the functions themselves.
#undef curl_easy_setopt
#undef curl_easy_getinfo
#undef curl_share_setopt
#undef curl_multi_setopt

namespace {

// libcurl's option numbering: the type of an option's argument is the range its number is in.
template <typename Real, typename Handle, typename Option>
auto forward_option(Real real, Handle* handle, Option option, va_list ap) {
  const long n = static_cast<long>(option);
  if (n < CURLOPTTYPE_OBJECTPOINT) return real(handle, option, va_arg(ap, long));
  if (n < CURLOPTTYPE_FUNCTIONPOINT) return real(handle, option, va_arg(ap, void*));
  if (n < CURLOPTTYPE_OFF_T) return real(handle, option, va_arg(ap, void (*)()));
  if (n < CURLOPTTYPE_BLOB) return real(handle, option, va_arg(ap, curl_off_t));
  return real(handle, option, va_arg(ap, void*));  // struct curl_blob*
}

}  // namespace

// Global.
SIGIL_LAZY_FUNCTION(curl_library, CURLcode, curl_global_init, (long flags), (flags))
SIGIL_LAZY_FUNCTION(curl_library, void, curl_global_cleanup, (void), ())
SIGIL_LAZY_FUNCTION(curl_library, char*, curl_version, (void), ())
SIGIL_LAZY_FUNCTION(curl_library, curl_version_info_data*, curl_version_info, (CURLversion v), (v))
SIGIL_LAZY_FUNCTION(curl_library, void, curl_free, (void* p), (p))
SIGIL_LAZY_FUNCTION(curl_library, struct curl_slist*, curl_slist_append,
                    (struct curl_slist * list, const char* data), (list, data))
SIGIL_LAZY_FUNCTION(curl_library, void, curl_slist_free_all, (struct curl_slist * list), (list))
SIGIL_LAZY_FUNCTION(curl_library, time_t, curl_getdate, (const char* p, const time_t* unused),
                    (p, unused))

// Easy interface.
SIGIL_LAZY_FUNCTION(curl_library, CURL*, curl_easy_init, (void), ())
SIGIL_LAZY_FUNCTION(curl_library, void, curl_easy_cleanup, (CURL * curl), (curl))
SIGIL_LAZY_FUNCTION(curl_library, CURLcode, curl_easy_perform, (CURL * curl), (curl))
SIGIL_LAZY_FUNCTION(curl_library, void, curl_easy_reset, (CURL * curl), (curl))
SIGIL_LAZY_FUNCTION(curl_library, CURL*, curl_easy_duphandle, (CURL * curl), (curl))
SIGIL_LAZY_FUNCTION(curl_library, CURLcode, curl_easy_pause, (CURL * handle, int bitmask),
                    (handle, bitmask))
SIGIL_LAZY_FUNCTION(curl_library, CURLcode, curl_easy_upkeep, (CURL * curl), (curl))
SIGIL_LAZY_FUNCTION(curl_library, const char*, curl_easy_strerror, (CURLcode code), (code))
SIGIL_LAZY_FUNCTION(curl_library, char*, curl_easy_escape,
                    (CURL * handle, const char* string, int length), (handle, string, length))
SIGIL_LAZY_FUNCTION(curl_library, char*, curl_easy_unescape,
                    (CURL * handle, const char* string, int length, int* outlength),
                    (handle, string, length, outlength))

extern "C" CURLcode curl_easy_setopt(CURL* curl, CURLoption option, ...) {
  static const auto real =
      trust::detail::curl_library().function<CURLcode (*)(CURL*, CURLoption, ...)>(
          "curl_easy_setopt");
  va_list ap;
  va_start(ap, option);
  auto rc = forward_option(real, curl, option, ap);
  va_end(ap);
  return rc;
}

extern "C" CURLcode curl_easy_getinfo(CURL* curl, CURLINFO info, ...) {
  static const auto real =
      trust::detail::curl_library().function<CURLcode (*)(CURL*, CURLINFO, ...)>(
          "curl_easy_getinfo");
  va_list ap;
  va_start(ap, info);
  auto rc = real(curl, info, va_arg(ap, void*));  // every CURLINFO_* takes a pointer
  va_end(ap);
  return rc;
}

// Share interface.
SIGIL_LAZY_FUNCTION(curl_library, CURLSH*, curl_share_init, (void), ())
SIGIL_LAZY_FUNCTION(curl_library, CURLSHcode, curl_share_cleanup, (CURLSH * share), (share))
SIGIL_LAZY_FUNCTION(curl_library, const char*, curl_share_strerror, (CURLSHcode code), (code))

extern "C" CURLSHcode curl_share_setopt(CURLSH* share, CURLSHoption option, ...) {
  static const auto real =
      trust::detail::curl_library().function<CURLSHcode (*)(CURLSH*, CURLSHoption, ...)>(
          "curl_share_setopt");
  va_list ap;
  va_start(ap, option);
  CURLSHcode rc = CURLSHE_BAD_OPTION;
  switch (option) {
    case CURLSHOPT_SHARE:
    case CURLSHOPT_UNSHARE:
      rc = real(share, option, va_arg(ap, int));  // a curl_lock_data, read as int
      break;
    case CURLSHOPT_LOCKFUNC:
      rc = real(share, option, va_arg(ap, curl_lock_function));
      break;
    case CURLSHOPT_UNLOCKFUNC:
      rc = real(share, option, va_arg(ap, curl_unlock_function));
      break;
    case CURLSHOPT_USERDATA:
      rc = real(share, option, va_arg(ap, void*));
      break;
    default:
      break;  // libcurl answers an unknown option so, without reading an argument
  }
  va_end(ap);
  return rc;
}

// Multi interface.
SIGIL_LAZY_FUNCTION(curl_library, CURLM*, curl_multi_init, (void), ())
SIGIL_LAZY_FUNCTION(curl_library, CURLMcode, curl_multi_cleanup, (CURLM * multi_handle),
                    (multi_handle))
SIGIL_LAZY_FUNCTION(curl_library, CURLMcode, curl_multi_add_handle,
                    (CURLM * multi_handle, CURL* curl_handle), (multi_handle, curl_handle))
SIGIL_LAZY_FUNCTION(curl_library, CURLMcode, curl_multi_remove_handle,
                    (CURLM * multi_handle, CURL* curl_handle), (multi_handle, curl_handle))
SIGIL_LAZY_FUNCTION(curl_library, CURLMcode, curl_multi_perform,
                    (CURLM * multi_handle, int* running_handles), (multi_handle, running_handles))
SIGIL_LAZY_FUNCTION(curl_library, CURLMcode, curl_multi_wait,
                    (CURLM * multi_handle, struct curl_waitfd extra_fds[], unsigned int extra_nfds,
                     int timeout_ms, int* ret),
                    (multi_handle, extra_fds, extra_nfds, timeout_ms, ret))
SIGIL_LAZY_FUNCTION(curl_library, CURLMcode, curl_multi_poll,
                    (CURLM * multi_handle, struct curl_waitfd extra_fds[], unsigned int extra_nfds,
                     int timeout_ms, int* ret),
                    (multi_handle, extra_fds, extra_nfds, timeout_ms, ret))
SIGIL_LAZY_FUNCTION(curl_library, CURLMcode, curl_multi_wakeup, (CURLM * multi_handle),
                    (multi_handle))
SIGIL_LAZY_FUNCTION(curl_library, CURLMcode, curl_multi_fdset,
                    (CURLM * multi_handle, fd_set* read_fd_set, fd_set* write_fd_set,
                     fd_set* exc_fd_set, int* max_fd),
                    (multi_handle, read_fd_set, write_fd_set, exc_fd_set, max_fd))
SIGIL_LAZY_FUNCTION(curl_library, CURLMcode, curl_multi_timeout,
                    (CURLM * multi_handle, long* milliseconds), (multi_handle, milliseconds))
SIGIL_LAZY_FUNCTION(curl_library, CURLMsg*, curl_multi_info_read,
                    (CURLM * multi_handle, int* msgs_in_queue), (multi_handle, msgs_in_queue))
SIGIL_LAZY_FUNCTION(curl_library, CURLMcode, curl_multi_socket_action,
                    (CURLM * multi_handle, curl_socket_t s, int ev_bitmask, int* running_handles),
                    (multi_handle, s, ev_bitmask, running_handles))
SIGIL_LAZY_FUNCTION(curl_library, CURLMcode, curl_multi_assign,
                    (CURLM * multi_handle, curl_socket_t sockfd, void* sockp),
                    (multi_handle, sockfd, sockp))
SIGIL_LAZY_FUNCTION(curl_library, const char*, curl_multi_strerror, (CURLMcode code), (code))

extern "C" CURLMcode curl_multi_setopt(CURLM* multi_handle, CURLMoption option, ...) {
  static const auto real =
      trust::detail::curl_library().function<CURLMcode (*)(CURLM*, CURLMoption, ...)>(
          "curl_multi_setopt");
  va_list ap;
  va_start(ap, option);
  auto rc = forward_option(real, multi_handle, option, ap);
  va_end(ap);
  return rc;
}

// URL API.
SIGIL_LAZY_FUNCTION(curl_library, CURLU*, curl_url, (void), ())
SIGIL_LAZY_FUNCTION(curl_library, void, curl_url_cleanup, (CURLU * handle), (handle))
SIGIL_LAZY_FUNCTION(curl_library, CURLU*, curl_url_dup, (CURLU * in), (in))
SIGIL_LAZY_FUNCTION(curl_library, CURLUcode, curl_url_get,
                    (CURLU * handle, CURLUPart what, char** part, unsigned int flags),
                    (handle, what, part, flags))
SIGIL_LAZY_FUNCTION(curl_library, CURLUcode, curl_url_set,
                    (CURLU * handle, CURLUPart what, const char* part, unsigned int flags),
                    (handle, what, part, flags))
SIGIL_LAZY_FUNCTION(curl_library, const char*, curl_url_strerror, (CURLUcode code), (code))
