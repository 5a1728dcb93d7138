#pragma once
// Public and private keys. The key type alone decides the signature algorithm (never the signed
// object): ECDSA P-256 and P-384 sign SHA-256 digests (ASN.1 DER signatures, as cosign and
// containers/image do for every curve), Ed25519 signs the message itself, RSA uses PKCS#1 v1.5
// over SHA-256. ECDSA and RSA can also sign and verify a SHA-256 digest computed elsewhere (a
// release file hashed as it streams): the signature is the same as over the message. No OpenSSL
// type appears here.

#include <memory>
#include <string>
#include <string_view>

#include "libtrust/core/bytes.h"
#include "libtrust/core/digest.h"
#include "libtrust/core/secret.h"
#include "libtrust/export.h"

namespace trust {

enum class KeyType {
  kEcdsaP256,
  kEcdsaP384,
  kEd25519,
  kRsa3072,
  kRsa4096,
  kRsa2048,  // public keys only: accepted for verification (users bring keys), never generated,
             // imported or decrypted as a signing key
};

// "ecdsa-p256", "ecdsa-p384", "ed25519", "rsa-3072", "rsa-4096", "rsa-2048": the one place these
// are spelled.
TRUST_API std::string_view to_string(KeyType type);
// Throws UsageError listing the accepted names.
TRUST_API KeyType parse_key_type(std::string_view name);
// True for the types sigil generates and signs with (every type but kRsa2048).
TRUST_API bool is_signing_key_type(KeyType type);
// True for the types whose signature is over a SHA-256 digest of the message (ECDSA, RSA), so
// that sign_prehashed / verify_prehashed apply. Ed25519 (pure EdDSA, as cosign and sigstore use
// it) signs the message itself: it has no prehashed form.
TRUST_API bool signs_sha256_prehash(KeyType type);

// "sha256:<hex of SHA-256 over the SPKI DER>".
class TRUST_API KeyId {
 public:
  static KeyId of_spki(ByteView spki_der);
  const std::string& str() const { return id_; }
  friend bool operator==(const KeyId&, const KeyId&) = default;

 private:
  explicit KeyId(std::string id) : id_(std::move(id)) {}
  std::string id_;
};

class TRUST_API PublicKey {
 public:
  // PEM "PUBLIC KEY" (SPKI). Throws InputError / UnsupportedError naming `what`.
  static PublicKey from_pem(std::string_view pem, std::string_view what);
  static PublicKey from_spki_der(ByteView der, std::string_view what);

  ~PublicKey();
  PublicKey(PublicKey&&) noexcept;
  PublicKey& operator=(PublicKey&&) noexcept;
  PublicKey(const PublicKey&);
  PublicKey& operator=(const PublicKey&);

  KeyType type() const;
  Bytes spki_der() const;
  std::string to_pem() const;
  KeyId key_id() const;

  // True only if `signature` is a valid signature over `message` by this key, using the
  // algorithm the key type dictates. Never throws for a bad or malformed signature.
  [[nodiscard]] bool verify(ByteView message, ByteView signature) const noexcept;
  // verify() for a message known by its SHA-256 digest only: true only if `signature` is this
  // key's signature over a message whose SHA-256 is `message_digest`. False for a key type
  // without a prehashed form (signs_sha256_prehash) and for a digest that is not SHA-256.
  [[nodiscard]] bool verify_prehashed(const Digest& message_digest,
                                      ByteView signature) const noexcept;

  struct Impl;

 private:
  explicit PublicKey(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  friend class PrivateKey;
};

class TRUST_API PrivateKey {
 public:
  static PrivateKey generate(KeyType type);
  // Unencrypted PKCS#8 DER (the plaintext inside cosign key files).
  static PrivateKey from_pkcs8_der(const SecretBytes& der, std::string_view what);

  ~PrivateKey();
  PrivateKey(PrivateKey&&) noexcept;
  PrivateKey& operator=(PrivateKey&&) noexcept;
  PrivateKey(const PrivateKey&) = delete;
  PrivateKey& operator=(const PrivateKey&) = delete;

  KeyType type() const;
  PublicKey public_key() const;
  SecretBytes pkcs8_der() const;
  // Signs with the algorithm the key type dictates. Throws CryptoError on library failure.
  Bytes sign(ByteView message) const;
  // sign() for a message known by its SHA-256 digest only: the signature sign(message) makes.
  // UsageError for a key type without a prehashed form (signs_sha256_prehash) or a digest that is
  // not SHA-256; CryptoError on library failure.
  Bytes sign_prehashed(const Digest& message_digest) const;

  struct Impl;

 private:
  explicit PrivateKey(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace trust
