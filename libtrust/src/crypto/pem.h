#pragma once
// Private: strict PEM framing for key files. One block per input; headers (RFC 1421 "Proc-Type:")
// are refused; the body is decoded either into plain bytes (public material) or into SecretBytes
// (private key material), so that plaintext key bytes never sit in an ordinary buffer.

#include <string>
#include <string_view>

#include "libtrust/core/bytes.h"
#include "libtrust/core/secret.h"

namespace trust::detail {

struct PemBlock {
  std::string type;       // the label between "BEGIN " and "-----"
  std::string_view body;  // base64 text, line breaks included (a view into the input)
};

// Finds the one PEM block in `text`. Text before the BEGIN line is ignored (as Go's pem.Decode and
// OpenSSL do); anything but whitespace after the END line, a second block, a mismatched END label
// or encapsulated headers are InputError naming `what`.
PemBlock parse_pem(std::string_view text, std::string_view what);

// Like parse_pem but returns false instead of throwing.
bool try_parse_pem(std::string_view text, PemBlock& out);

// Base64 body to bytes. Throws InputError naming `what`.
Bytes decode_pem_body(const PemBlock& block, std::string_view what);
// Base64 body to zeroizing bytes (for private key material). Throws InputError naming `what`.
SecretBytes decode_pem_body_secret(const PemBlock& block, std::string_view what);

// "-----BEGIN TYPE-----\n" + base64 in 64-column lines + "-----END TYPE-----\n" (as Go's
// pem.Encode).
std::string encode_pem(std::string_view type, ByteView der);

}  // namespace trust::detail
