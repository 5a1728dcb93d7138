// Libraries opened on first use (lazy/lazy_library.h): a library that is not there is a clear
// UnsupportedError where it is first needed, and stays one on every later call.
#include <catch2/catch.hpp>

#include <curl/curl.h>

#include <string>

#include "lazy/lazy_library.h"
#include "support/errors.h"

using sigil::test::thrown_by;

TEST_CASE("a library opened on first use: missing, it is an UnsupportedError naming it",
          "[core][lazy]") {
  trust::detail::LazyLibrary missing("libsigil-no-such-library.so.7", "reading a test image");
  for (int i = 0; i < 2; ++i) {
    auto t = thrown_by([&] { (void)missing.symbol("any_function"); });
    CHECK(t.code == trust::ErrorCode::kUnsupported);
    CHECK(t.message ==
          "reading a test image needs libsigil-no-such-library.so.7, which cannot be loaded: "
          "libsigil-no-such-library.so.7: cannot open shared object file: No such file or "
          "directory");
  }
  trust::detail::LazyLibrary libc("libc.so.6", "a test");
  CHECK(libc.symbol("strlen") != nullptr);
  auto t = thrown_by([&] { (void)libc.symbol("sigil_no_such_function"); });
  CHECK(t.code == trust::ErrorCode::kUnsupported);
  CHECK(t.message ==
        "libc.so.6 has no function sigil_no_such_function (an older version than sigil was built "
        "against?)");
}

TEST_CASE("the libcurl stubs forward to libcurl: options of every argument type", "[core][lazy]") {
  REQUIRE(curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK);
  CURL* h = curl_easy_init();
  REQUIRE(h != nullptr);
  CHECK(curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 1234L) == CURLE_OK);            // long
  CHECK(curl_easy_setopt(h, CURLOPT_URL, "http://127.0.0.1:1/x") == CURLE_OK);  // pointer
  CHECK(curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, curl_off_t{1} << 40) == CURLE_OK);  // off_t
  auto write = +[](char*, size_t size, size_t n, void*) -> size_t { return size * n; };
  CHECK(curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write) == CURLE_OK);  // function
  char* url = nullptr;
  CHECK(curl_easy_getinfo(h, CURLINFO_EFFECTIVE_URL, &url) == CURLE_OK);
  REQUIRE(url != nullptr);
  CHECK(std::string(url) == "http://127.0.0.1:1/x");
  CHECK(std::string(curl_easy_strerror(CURLE_COULDNT_CONNECT)) == "Couldn't connect to server");
  CURLSH* share = curl_share_init();
  REQUIRE(share != nullptr);
  CHECK(curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) == CURLSHE_OK);
  CHECK(curl_share_setopt(share, CURLSHOPT_LAST, 0L) == CURLSHE_BAD_OPTION);
  CHECK(curl_share_cleanup(share) == CURLSHE_OK);
  curl_easy_cleanup(h);
}
