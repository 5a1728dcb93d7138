#pragma once
// Base64 (standard alphabet, padded, strict) and lowercase hex.

#include <string>
#include <string_view>

#include "libtrust/core/bytes.h"
#include "libtrust/export.h"

namespace trust {

TRUST_API std::string base64_encode(ByteView data);
// Strict: standard alphabet, canonical padding, no whitespace. Throws InputError naming `what`.
TRUST_API Bytes base64_decode(std::string_view text, std::string_view what);
// Like base64_decode but ignores line breaks (PEM bodies).
TRUST_API Bytes base64_decode_lines(std::string_view text, std::string_view what);

TRUST_API std::string hex_encode(ByteView data);
TRUST_API bool is_lower_hex(std::string_view text);

}  // namespace trust
