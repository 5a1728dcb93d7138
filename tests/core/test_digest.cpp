#include <catch2/catch.hpp>

#include "libtrust/core/digest.h"
#include "libtrust/core/encoding.h"
#include "libtrust/core/error.h"
#include "support/errors.h"

using namespace trust;

using sigil::test::code_of;
using sigil::test::message_of;

TEST_CASE("sha256 of known input matches the standard test vector", "[core][digest]") {
  auto d = Digest::of(as_bytes("abc"));
  CHECK(d.str() == "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  auto d512 = Digest::of(as_bytes("abc"), DigestAlgorithm::kSha512);
  CHECK(d512.hex().substr(0, 16) == "ddaf35a193617aba");
}

TEST_CASE("streaming hasher equals one-shot digest across chunk boundaries", "[core][digest]") {
  std::string data(1 << 20, 'x');
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 31 + 7);
  Hasher h;
  for (std::size_t off = 0; off < data.size(); off += 4093) {
    h.update(as_bytes(std::string_view(data).substr(off, 4093)));
  }
  CHECK(h.bytes_hashed() == data.size());
  CHECK(h.finish() == Digest::of(as_bytes(data)));
}

TEST_CASE("digest parsing accepts only canonical lowercase digests", "[core][digest]") {
  auto hex = std::string(64, 'a');
  CHECK(Digest::parse("sha256:" + hex).hex() == hex);
  CHECK(code_of([&] { Digest::parse("sha256:" + std::string(64, 'A')); }) == ErrorCode::kInput);
  CHECK(code_of([&] { Digest::parse("sha256:" + std::string(63, 'a')); }) == ErrorCode::kInput);
  CHECK(code_of([&] { Digest::parse("md5:" + std::string(32, 'a')); }) == ErrorCode::kInput);
  CHECK(code_of([&] { Digest::parse(hex); }) == ErrorCode::kInput);
  CHECK(code_of([&] { Digest::parse("sha512:" + hex); }) == ErrorCode::kInput);
  CHECK(Digest::parse("sha512:" + std::string(128, '0')).algorithm() == DigestAlgorithm::kSha512);
}

TEST_CASE("digests compare by algorithm and value", "[core][digest]") {
  auto a = Digest::parse("sha256:" + std::string(64, 'a'));
  auto b = Digest::parse("sha256:" + std::string(63, 'a') + "b");
  CHECK(a == a);
  CHECK(a != b);
  CHECK(a < b);
}

TEST_CASE("base64 round-trips and rejects non-canonical text", "[core][encoding]") {
  CHECK(base64_encode(as_bytes("hello")) == "aGVsbG8=");
  auto d = base64_decode("aGVsbG8=", "test");
  CHECK(std::string(d.begin(), d.end()) == "hello");
  CHECK(base64_decode("", "test").empty());
  CHECK(code_of([] { base64_decode("aGVsbG8", "test"); }) == ErrorCode::kInput);
  CHECK(code_of([] { base64_decode("aGVsbG9=", "test"); }) == ErrorCode::kInput);
  CHECK(code_of([] { base64_decode("aGVs bG8=", "test"); }) == ErrorCode::kInput);
  CHECK(code_of([] { base64_decode("aGVsbG8-", "test"); }) == ErrorCode::kInput);
  // Stray bits under the padding: "aGk=" is "hi"; "aGl=" decodes to it too, but is not canonical.
  CHECK(base64_decode("aGk=", "test") == to_bytes("hi"));
  CHECK(message_of([] { base64_decode("aGl=", "test"); }) ==
        "test: invalid base64 (non-canonical padding)");
  CHECK(base64_decode("aA==", "test") == to_bytes("h"));
  CHECK(code_of([] { base64_decode("aB==", "test"); }) == ErrorCode::kInput);
  CHECK(code_of([] { base64_decode("a===", "test"); }) == ErrorCode::kInput);
  CHECK(code_of([] { base64_decode("aG=k", "test"); }) == ErrorCode::kInput);
  CHECK(hex_encode(as_bytes("\x01\xab")) == "01ab");
}
