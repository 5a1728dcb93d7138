#pragma once
// Private: what keys.cpp and key_file.cpp share about OpenSSL keys. Not part of the public API.

#include <openssl/evp.h>

#include <string_view>

#include "libtrust/core/secret.h"
#include "libtrust/crypto/keys.h"

namespace trust::detail {

enum class KeyUse { kVerify, kSign };

// The KeyType of an OpenSSL key, or UnsupportedError naming `what` and the curve, size or
// algorithm. RSA-2048 is accepted for kVerify only.
KeyType classify_key(const EVP_PKEY* pkey, KeyUse use, std::string_view what);

// Unencrypted PKCS#8 DER of a private key, produced without leaving copies in unwiped buffers.
SecretBytes pkcs8_der_of(EVP_PKEY* pkey);

}  // namespace trust::detail
