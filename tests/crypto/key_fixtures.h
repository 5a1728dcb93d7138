#pragma once
// Test fixtures for key tests (with support/errors.h and support/test_keys.h): keys of types sigil
// refuses (P-521, secp256k1, RSA-2048/1024, Ed448) made on the spot with the OpenSSL API, so no
// private key is ever committed.

#include <openssl/evp.h>
#include <openssl/pem.h>

#include <catch2/catch.hpp>

#include <map>
#include <memory>
#include <stdexcept>
#include <string>

#include "core/openssl_util.h"
#include "libtrust/core/error.h"
#include "libtrust/crypto/keys.h"
#include "support/errors.h"
#include "support/test_keys.h"

namespace sigil::test {

// --- OpenSSL-made keys ------------------------------------------------------------------------

using trust::detail::EvpPkeyPtr;

inline EvpPkeyPtr openssl_ec_key(const char* curve) {
  EvpPkeyPtr k(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve));
  if (!k) throw std::runtime_error(std::string("keygen EC ") + curve);
  return k;
}
inline EvpPkeyPtr openssl_rsa_key(std::size_t bits) {
  EvpPkeyPtr k(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", bits));
  if (!k) throw std::runtime_error("keygen RSA");
  return k;
}
inline EvpPkeyPtr openssl_key(const char* type) {
  EvpPkeyPtr k(EVP_PKEY_Q_keygen(nullptr, nullptr, type));
  if (!k) throw std::runtime_error(std::string("keygen ") + type);
  return k;
}

template <typename Write>
std::string pem_via_bio(Write&& write) {
  trust::detail::BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || write(bio.get()) != 1) throw std::runtime_error("PEM write failed");
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

// "PRIVATE KEY" (PKCS#8).
inline std::string pem_pkcs8(EVP_PKEY* k) {
  return pem_via_bio([&](BIO* b) {
    return PEM_write_bio_PrivateKey(b, k, nullptr, nullptr, 0, nullptr, nullptr);
  });
}
// "EC PRIVATE KEY" (SEC1) or "RSA PRIVATE KEY" (PKCS#1).
inline std::string pem_traditional(EVP_PKEY* k) {
  return pem_via_bio([&](BIO* b) {
    return PEM_write_bio_PrivateKey_traditional(b, k, nullptr, nullptr, 0, nullptr, nullptr);
  });
}
// "ENCRYPTED PRIVATE KEY" (PKCS#8 with a password).
inline std::string pem_encrypted_pkcs8(EVP_PKEY* k) {
  return pem_via_bio([&](BIO* b) {
    char pw[] = "pw";
    return PEM_write_bio_PKCS8PrivateKey(b, k, EVP_aes_256_cbc(), pw, 2, nullptr, nullptr);
  });
}
// "PUBLIC KEY" (SPKI).
inline std::string pem_public(EVP_PKEY* k) {
  return pem_via_bio([&](BIO* b) { return PEM_write_bio_PUBKEY(b, k); });
}

}  // namespace sigil::test
