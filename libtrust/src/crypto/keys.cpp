#include "libtrust/crypto/keys.h"

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <array>

#include "core/openssl_util.h"
#include "crypto/key_internal.h"
#include "crypto/pem.h"
#include "libtrust/core/digest.h"
#include "libtrust/core/error.h"
#include "libtrust/crypto/key_file.h"

namespace trust {

using detail::EvpMdCtxPtr;
using detail::EvpPkeyCtxPtr;
using detail::EvpPkeyPtr;

namespace {

struct KeyTypeName {
  KeyType type;
  std::string_view name;
};

// The one place key type names are spelled.
constexpr std::array<KeyTypeName, 6> kKeyTypeNames{{
    {KeyType::kEcdsaP256, "ecdsa-p256"},
    {KeyType::kEcdsaP384, "ecdsa-p384"},
    {KeyType::kEd25519, "ed25519"},
    {KeyType::kRsa3072, "rsa-3072"},
    {KeyType::kRsa4096, "rsa-4096"},
    {KeyType::kRsa2048, "rsa-2048"},
}};

using EcdsaSigPtr = std::unique_ptr<ECDSA_SIG, detail::Deleter<ECDSA_SIG_free>>;
using Pkcs8Ptr = std::unique_ptr<PKCS8_PRIV_KEY_INFO, detail::Deleter<PKCS8_PRIV_KEY_INFO_free>>;

// Upper bound on any signature we accept for checking (RSA-4096 is 512 bytes).
constexpr std::size_t kMaxSignatureBytes = 1024;
// Upper bound on SPKI DER we parse (RSA-4096 SPKI is ~550 bytes).
constexpr std::size_t kMaxSpkiBytes = 16 * 1024;

bool is_ecdsa(KeyType t) {
  return t == KeyType::kEcdsaP256 || t == KeyType::kEcdsaP384;
}
bool is_rsa(KeyType t) {
  return t == KeyType::kRsa2048 || t == KeyType::kRsa3072 || t == KeyType::kRsa4096;
}

// The digest the key type dictates: SHA-256 for every ECDSA curve and RSA; none for Ed25519.
const EVP_MD* digest_for(KeyType t) {
  return t == KeyType::kEd25519 ? nullptr : EVP_sha256();
}

// OpenSSL dislikes null pointers for empty inputs; give it a valid address.
const unsigned char* data_or_empty(ByteView v) {
  static const unsigned char kEmpty = 0;
  return v.empty() ? &kEmpty : v.data();
}

// An ECDSA signature must be exactly one DER SEQUENCE of two INTEGERs, canonically encoded, with
// nothing after it.
bool is_canonical_ecdsa_der(ByteView sig) {
  const unsigned char* p = sig.data();
  EcdsaSigPtr parsed(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size())));
  if (!parsed || p != sig.data() + sig.size()) return false;
  unsigned char* der = nullptr;
  int len = i2d_ECDSA_SIG(parsed.get(), &der);
  if (len <= 0) return false;
  bool same =
      static_cast<std::size_t>(len) == sig.size() && std::equal(sig.begin(), sig.end(), der);
  OPENSSL_free(der);
  return same;
}

void set_rsa_padding(EVP_PKEY_CTX* pctx, KeyType t) {
  if (is_rsa(t) && EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) <= 0) {
    throw detail::openssl_error("setting RSA PKCS#1 v1.5 padding");
  }
}

Bytes spki_of(EVP_PKEY* pkey) {
  int len = i2d_PUBKEY(pkey, nullptr);
  if (len <= 0) throw detail::openssl_error("encoding the public key");
  Bytes out(static_cast<std::size_t>(len));
  unsigned char* p = out.data();
  if (i2d_PUBKEY(pkey, &p) != len) throw detail::openssl_error("encoding the public key");
  return out;
}

std::string truncated(std::string_view s) {
  return std::string(s.substr(0, 64));
}

}  // namespace

namespace detail {

KeyType classify_key(const EVP_PKEY* pkey, KeyUse use, std::string_view what) {
  const std::string where(what);
  switch (EVP_PKEY_get_base_id(pkey)) {
    case EVP_PKEY_EC: {
      std::array<char, 80> group{};
      std::size_t len = 0;
      if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group.data(),
                                         group.size(), &len) != 1) {
        ERR_clear_error();
        throw UnsupportedError(where +
                               ": EC key with explicit curve parameters is not supported "
                               "(use a named curve: P-256 or P-384)");
      }
      std::string name(group.data(), len);
      int nid = OBJ_sn2nid(name.c_str());
      if (nid == NID_undef) nid = EC_curve_nist2nid(name.c_str());
      if (nid == NID_X9_62_prime256v1) return KeyType::kEcdsaP256;
      if (nid == NID_secp384r1) return KeyType::kEcdsaP384;
      const char* nist = nid == NID_undef ? nullptr : EC_curve_nid2nist(nid);
      throw UnsupportedError(where + ": unsupported EC curve " + (nist ? nist : name) +
                             " (supported: P-256, P-384)");
    }
    case EVP_PKEY_ED25519:
      return KeyType::kEd25519;
    case EVP_PKEY_RSA: {
      int bits = EVP_PKEY_get_bits(pkey);
      if (bits == 3072) return KeyType::kRsa3072;
      if (bits == 4096) return KeyType::kRsa4096;
      if (bits == 2048) {
        if (use == KeyUse::kVerify) return KeyType::kRsa2048;
        throw UnsupportedError(where +
                               ": RSA-2048 keys are accepted for verification only; sign with "
                               "rsa-3072 or rsa-4096");
      }
      throw UnsupportedError(where + ": unsupported RSA key size " + std::to_string(bits) +
                             " bits (supported: 3072, 4096; 2048 for verification only)");
    }
    default: {
      const char* name = EVP_PKEY_get0_type_name(pkey);
      throw UnsupportedError(where + ": unsupported key algorithm " + (name ? name : "(unknown)") +
                             " (supported: ECDSA P-256/P-384, Ed25519, RSA)");
    }
  }
}

SecretBytes pkcs8_der_of(EVP_PKEY* pkey) {
  // A memory BIO wipes its buffer when freed (BUF_MEM_free uses OPENSSL_clear_free).
  BioPtr bio(BIO_new(BIO_s_secmem()));
  if (!bio) throw openssl_error("allocating a memory BIO");
  if (i2d_PKCS8PrivateKey_bio(bio.get(), pkey, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    throw openssl_error("encoding the private key as PKCS#8");
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  if (len <= 0 || data == nullptr) throw openssl_error("encoding the private key as PKCS#8");
  return SecretBytes(reinterpret_cast<const std::uint8_t*>(data), static_cast<std::size_t>(len));
}

}  // namespace detail

std::string_view to_string(KeyType type) {
  for (const auto& entry : kKeyTypeNames) {
    if (entry.type == type) return entry.name;
  }
  return "unknown";
}

KeyType parse_key_type(std::string_view name) {
  for (const auto& entry : kKeyTypeNames) {
    if (entry.name == name) return entry.type;
  }
  std::string accepted;
  for (const auto& entry : kKeyTypeNames) {
    if (!is_signing_key_type(entry.type)) continue;
    if (!accepted.empty()) accepted += ", ";
    accepted += entry.name;
  }
  throw UsageError("unknown key type '" + truncated(name) + "' (expected one of: " + accepted +
                   ")");
}

bool is_signing_key_type(KeyType type) {
  return type != KeyType::kRsa2048;
}

bool signs_sha256_prehash(KeyType type) {
  return digest_for(type) == EVP_sha256();
}

KeyId KeyId::of_spki(ByteView spki_der) {
  return KeyId(Digest::of(spki_der).str());
}

// ---------------------------------------------------------------------------------------------
// PublicKey

struct PublicKey::Impl {
  EvpPkeyPtr pkey;
  KeyType type;
  Bytes spki;  // canonical re-encoding: what the key id is computed over
};

PublicKey::PublicKey(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PublicKey::~PublicKey() = default;
PublicKey::PublicKey(PublicKey&&) noexcept = default;
PublicKey& PublicKey::operator=(PublicKey&&) noexcept = default;

PublicKey::PublicKey(const PublicKey& other) {
  if (!other.impl_) return;
  if (EVP_PKEY_up_ref(other.impl_->pkey.get()) != 1) throw detail::openssl_error("EVP_PKEY_up_ref");
  impl_ = std::make_unique<Impl>(
      Impl{EvpPkeyPtr(other.impl_->pkey.get()), other.impl_->type, other.impl_->spki});
}

PublicKey& PublicKey::operator=(const PublicKey& other) {
  if (this != &other) *this = PublicKey(other);
  return *this;
}

PublicKey PublicKey::from_spki_der(ByteView der, std::string_view what) {
  const std::string where(what);
  if (der.empty()) throw InputError(where + ": empty public key");
  if (der.size() > kMaxSpkiBytes) {
    throw InputError(where + ": public key of " + std::to_string(der.size()) +
                     " bytes is implausibly large");
  }
  const unsigned char* p = der.data();
  EvpPkeyPtr pkey(d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size())));
  if (!pkey) {
    auto detail = detail::drain_openssl_errors();
    throw InputError(where + ": not a valid SubjectPublicKeyInfo" +
                     (detail.empty() ? "" : " (" + detail + ")"));
  }
  if (p != der.data() + der.size()) {
    throw InputError(where + ": trailing data after the SubjectPublicKeyInfo");
  }
  auto type = detail::classify_key(pkey.get(), detail::KeyUse::kVerify, what);
  auto spki = spki_of(pkey.get());
  return PublicKey(std::make_unique<Impl>(Impl{std::move(pkey), type, std::move(spki)}));
}

PublicKey PublicKey::from_pem(std::string_view pem, std::string_view what) {
  auto block = detail::parse_pem(pem, what);
  if (block.type != kPemPublicKey) {
    throw InputError(std::string(what) + ": expected PEM type '" + std::string(kPemPublicKey) +
                     "', found '" + truncated(block.type) + "'");
  }
  auto der = detail::decode_pem_body(block, what);
  return from_spki_der(der, what);
}

KeyType PublicKey::type() const {
  return impl_->type;
}
Bytes PublicKey::spki_der() const {
  return impl_->spki;
}
std::string PublicKey::to_pem() const {
  return detail::encode_pem(kPemPublicKey, impl_->spki);
}
KeyId PublicKey::key_id() const {
  return KeyId::of_spki(impl_->spki);
}

namespace {

// What a signature of the key's type can look like, checked before OpenSSL sees it: a size this
// key's signatures have, and for ECDSA one canonical DER encoding (no malleable variants).
bool plausible_signature(KeyType type, EVP_PKEY* pkey, ByteView signature) {
  if (signature.empty() || signature.size() > kMaxSignatureBytes) return false;
  if (is_ecdsa(type) && !is_canonical_ecdsa_der(signature)) {
    ERR_clear_error();
    return false;
  }
  if (type == KeyType::kEd25519 && signature.size() != 64) return false;
  if (is_rsa(type) && signature.size() != static_cast<std::size_t>(EVP_PKEY_get_size(pkey))) {
    return false;
  }
  return true;
}

}  // namespace

bool PublicKey::verify(ByteView message, ByteView signature) const noexcept {
  try {
    if (!impl_ || !plausible_signature(impl_->type, impl_->pkey.get(), signature)) return false;
    const auto type = impl_->type;
    EvpMdCtxPtr ctx(EVP_MD_CTX_new());
    if (!ctx) return false;
    EVP_PKEY_CTX* pctx = nullptr;
    if (EVP_DigestVerifyInit(ctx.get(), &pctx, digest_for(type), nullptr, impl_->pkey.get()) != 1) {
      ERR_clear_error();
      return false;
    }
    set_rsa_padding(pctx, type);
    int rc = EVP_DigestVerify(ctx.get(), signature.data(), signature.size(), data_or_empty(message),
                              message.size());
    ERR_clear_error();
    return rc == 1;
  } catch (...) {
    ERR_clear_error();
    return false;
  }
}

bool PublicKey::verify_prehashed(const Digest& message_digest, ByteView signature) const noexcept {
  try {
    if (!impl_ || !signs_sha256_prehash(impl_->type) ||
        message_digest.algorithm() != DigestAlgorithm::kSha256 ||
        !plausible_signature(impl_->type, impl_->pkey.get(), signature)) {
      return false;
    }
    EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new(impl_->pkey.get(), nullptr));
    if (!ctx || EVP_PKEY_verify_init(ctx.get()) != 1 ||
        EVP_PKEY_CTX_set_signature_md(ctx.get(), EVP_sha256()) <= 0) {
      ERR_clear_error();
      return false;
    }
    set_rsa_padding(ctx.get(), impl_->type);
    const auto raw = message_digest.raw();
    int rc = EVP_PKEY_verify(ctx.get(), signature.data(), signature.size(), raw.data(), raw.size());
    ERR_clear_error();
    return rc == 1;
  } catch (...) {
    ERR_clear_error();
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// PrivateKey

struct PrivateKey::Impl {
  EvpPkeyPtr pkey;
  KeyType type;
};

PrivateKey::PrivateKey(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PrivateKey::~PrivateKey() = default;
PrivateKey::PrivateKey(PrivateKey&&) noexcept = default;
PrivateKey& PrivateKey::operator=(PrivateKey&&) noexcept = default;

PrivateKey PrivateKey::generate(KeyType type) {
  EVP_PKEY* raw = nullptr;
  switch (type) {
    case KeyType::kEcdsaP256:
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
      break;
    case KeyType::kEcdsaP384:
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384");
      break;
    case KeyType::kEd25519:
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
      break;
    case KeyType::kRsa3072:
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", std::size_t{3072});
      break;
    case KeyType::kRsa4096:
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", std::size_t{4096});
      break;
    case KeyType::kRsa2048:
      throw UsageError(
          "rsa-2048 keys are accepted for verification only; generate rsa-3072 or "
          "rsa-4096");
  }
  EvpPkeyPtr pkey(raw);
  if (!pkey) throw detail::openssl_error("generating a " + std::string(to_string(type)) + " key");
  return PrivateKey(std::make_unique<Impl>(Impl{std::move(pkey), type}));
}

PrivateKey PrivateKey::from_pkcs8_der(const SecretBytes& der, std::string_view what) {
  const std::string where(what);
  if (der.empty()) throw InputError(where + ": empty private key");
  const unsigned char* p = der.data();
  // PKCS8_PRIV_KEY_INFO_free wipes the key octets it holds.
  Pkcs8Ptr p8(d2i_PKCS8_PRIV_KEY_INFO(nullptr, &p, static_cast<long>(der.size())));
  if (!p8 || p != der.data() + der.size()) {
    ERR_clear_error();
    throw InputError(where + ": private key is not valid PKCS#8 DER");
  }
  EvpPkeyPtr pkey(EVP_PKCS82PKEY(p8.get()));
  if (!pkey) {
    ERR_clear_error();
    throw InputError(where + ": PKCS#8 private key could not be decoded");
  }
  auto type = detail::classify_key(pkey.get(), detail::KeyUse::kSign, what);
  return PrivateKey(std::make_unique<Impl>(Impl{std::move(pkey), type}));
}

KeyType PrivateKey::type() const {
  return impl_->type;
}

PublicKey PrivateKey::public_key() const {
  auto spki = spki_of(impl_->pkey.get());
  return PublicKey::from_spki_der(spki, "public key of a private key");
}

SecretBytes PrivateKey::pkcs8_der() const {
  return detail::pkcs8_der_of(impl_->pkey.get());
}

Bytes PrivateKey::sign(ByteView message) const {
  const auto type = impl_->type;
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx) throw detail::openssl_error("EVP_MD_CTX_new");
  EVP_PKEY_CTX* pctx = nullptr;
  if (EVP_DigestSignInit(ctx.get(), &pctx, digest_for(type), nullptr, impl_->pkey.get()) != 1) {
    throw detail::openssl_error("initialising a " + std::string(to_string(type)) + " signature");
  }
  set_rsa_padding(pctx, type);
  std::size_t len = 0;
  if (EVP_DigestSign(ctx.get(), nullptr, &len, data_or_empty(message), message.size()) != 1) {
    throw detail::openssl_error("sizing a " + std::string(to_string(type)) + " signature");
  }
  Bytes out(len);
  if (EVP_DigestSign(ctx.get(), out.data(), &len, data_or_empty(message), message.size()) != 1) {
    throw detail::openssl_error("making a " + std::string(to_string(type)) + " signature");
  }
  out.resize(len);
  return out;
}

Bytes PrivateKey::sign_prehashed(const Digest& message_digest) const {
  const auto type = impl_->type;
  if (!signs_sha256_prehash(type)) {
    throw UsageError("a " + std::string(to_string(type)) +
                     " key signs the message itself, not a digest of it");
  }
  if (message_digest.algorithm() != DigestAlgorithm::kSha256) {
    throw UsageError("a " + std::string(to_string(type)) + " key signs SHA-256 digests, not " +
                     std::string(to_string(message_digest.algorithm())));
  }
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new(impl_->pkey.get(), nullptr));
  if (!ctx || EVP_PKEY_sign_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_signature_md(ctx.get(), EVP_sha256()) <= 0) {
    throw detail::openssl_error("initialising a " + std::string(to_string(type)) + " signature");
  }
  set_rsa_padding(ctx.get(), type);
  const auto raw = message_digest.raw();
  std::size_t len = 0;
  if (EVP_PKEY_sign(ctx.get(), nullptr, &len, raw.data(), raw.size()) != 1) {
    throw detail::openssl_error("sizing a " + std::string(to_string(type)) + " signature");
  }
  Bytes out(len);
  if (EVP_PKEY_sign(ctx.get(), out.data(), &len, raw.data(), raw.size()) != 1) {
    throw detail::openssl_error("making a " + std::string(to_string(type)) + " signature");
  }
  out.resize(len);
  return out;
}

}  // namespace trust
