#include "libtrust/core/encoding.h"

#include <openssl/evp.h>

#include <array>
#include <cstdint>

#include "libtrust/core/error.h"

namespace trust {

std::string base64_encode(ByteView data) {
  if (data.empty()) return {};
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data.data(),
                          static_cast<int>(data.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

namespace {

// The 6-bit value of each base64 character, -1 for every other byte (a table: a DSSE payload of
// megabytes is checked character by character).
constexpr std::array<std::int8_t, 256> kB64Values = [] {
  std::array<std::int8_t, 256> t{};
  t.fill(-1);
  constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (std::size_t i = 0; i < kAlphabet.size(); ++i) {
    t[static_cast<unsigned char>(kAlphabet[i])] = static_cast<std::int8_t>(i);
  }
  return t;
}();

int b64_value(char c) {
  return kB64Values[static_cast<unsigned char>(c)];
}

}  // namespace

Bytes base64_decode(std::string_view text, std::string_view what) {
  auto bad = [&](const char* why) {
    return InputError(std::string(what) + ": invalid base64 (" + why + ")");
  };
  if (text.empty()) return {};
  if (text.size() % 4 != 0) throw bad("length is not a multiple of 4");
  if (text.size() > (1u << 30)) throw bad("too long");
  std::size_t pad = 0;
  if (text.back() == '=') pad = (text[text.size() - 2] == '=') ? 2 : 1;
  std::int8_t all = 0;  // the sign bit is set once any character is outside the alphabet
  for (std::size_t i = 0; i < text.size() - pad; ++i) {
    all = static_cast<std::int8_t>(all | kB64Values[static_cast<unsigned char>(text[i])]);
  }
  if (all < 0) throw bad("unexpected character");
  // Canonical form: the bits the padding leaves over in the last character are zero (else two
  // texts would decode to the same bytes).
  if (pad != 0) {
    const int last = b64_value(text[text.size() - pad - 1]);
    if ((last & (pad == 1 ? 0x03 : 0x0f)) != 0) throw bad("non-canonical padding");
  }
  Bytes out(text.size() / 4 * 3);
  int n = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(text.data()),
                          static_cast<int>(text.size()));
  if (n < 0) throw bad("decoder rejected it");
  out.resize(static_cast<std::size_t>(n) - pad);
  return out;
}

Bytes base64_decode_lines(std::string_view text, std::string_view what) {
  std::string joined;
  joined.reserve(text.size());
  for (char c : text) {
    if (c != '\n' && c != '\r') joined.push_back(c);
  }
  return base64_decode(joined, what);
}

std::string hex_encode(ByteView data) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(data.size() * 2);
  for (auto b : data) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 0xf]);
  }
  return out;
}

bool is_lower_hex(std::string_view text) {
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace trust
