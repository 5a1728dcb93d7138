#include "libtrust/crypto/key_file.h"

#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <sodium.h>

#include <array>
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <optional>

#include "core/json_util.h"
#include "core/openssl_util.h"
#include "core/operator_input.h"
#include "crypto/key_internal.h"
#include "crypto/pem.h"
#include "libtrust/core/encoding.h"
#include "libtrust/core/error.h"
#include "libtrust/core/file.h"
#include "libtrust/core/limits.h"
#include "libtrust/core/text.h"

namespace trust {
namespace {

// Field values of the cosign key file format.
constexpr std::string_view kKdfScrypt = "scrypt";
constexpr std::string_view kCipherSecretbox = "nacl/secretbox";
constexpr std::size_t kSaltBytes = 32;
constexpr std::size_t kNonceBytes = crypto_secretbox_NONCEBYTES;  // 24
constexpr std::size_t kKeyBytes = crypto_secretbox_KEYBYTES;      // 32
constexpr std::int64_t kScryptR = 8;
constexpr std::int64_t kScryptP = 1;
// The only work factors read: cosign's historical default, the 2.x default, and the 2.x "high".
constexpr std::array<std::int64_t, 3> kAllowedScryptN{32768, 65536, 131072};
// scrypt needs 128·r·N bytes (128 MiB at N=131072, r=8) plus 128·r·p; leave headroom.
constexpr std::uint64_t kScryptMaxMem = 256ull << 20;

static_assert(kAllowedScryptN.back() <= static_cast<std::int64_t>(limits::kMaxScryptN));
static_assert(kNonceBytes == 24 && kKeyBytes == 32);

struct ProfileInfo {
  KdfProfile profile;
  std::string_view name;
  std::int64_t scrypt_n;
  std::string_view pem_type;
};

// The one place profile names and their parameters are spelled.
constexpr std::array<ProfileInfo, 2> kProfiles{{
    {KdfProfile::kCosign, "cosign", 32768, kPemCosignPrivateKey},
    {KdfProfile::kStandard, "standard", 65536, kPemSigstorePrivateKey},
}};

const ProfileInfo& info_of(KdfProfile profile) {
  for (const auto& p : kProfiles) {
    if (p.profile == profile) return p;
  }
  throw UsageError("unknown KDF profile");
}

void ensure_sodium() {
  static const int rc = sodium_init();
  if (rc < 0) throw CryptoError("libsodium initialisation failed");
}

const unsigned char* data_or_empty(const SecretBytes& s) {
  static const unsigned char kEmpty = 0;
  return s.empty() ? &kEmpty : s.data();
}

SecretBytes derive_key(const SecretBytes& password, ByteView salt, std::int64_t n,
                       std::string_view what) {
  SecretBytes key(kKeyBytes);
  // OpenSSL wipes its scrypt work buffer (OPENSSL_clear_free) before freeing it.
  if (EVP_PBE_scrypt(reinterpret_cast<const char*>(data_or_empty(password)), password.size(),
                     salt.data(), salt.size(), static_cast<std::uint64_t>(n),
                     static_cast<std::uint64_t>(kScryptR), static_cast<std::uint64_t>(kScryptP),
                     kScryptMaxMem, key.data(), key.size()) != 1) {
    throw detail::openssl_error(std::string(what) + ": scrypt key derivation");
  }
  return key;
}

bool is_encrypted_type(std::string_view type) {
  return type == kPemCosignPrivateKey || type == kPemSigstorePrivateKey;
}

bool is_unencrypted_private_type(std::string_view type) {
  return type == "PRIVATE KEY" || type == "EC PRIVATE KEY" || type == "RSA PRIVATE KEY";
}

// InputError unless `block` is one of the two encrypted key types.
void refuse_unless_encrypted(const detail::PemBlock& block, std::string_view what) {
  if (is_encrypted_type(block.type)) return;
  const std::string where(what);
  if (is_unencrypted_private_type(block.type)) {
    throw InputError(where + ": an unencrypted private key (PEM '" + block.type +
                     "'); turn it into a key file with `sigil key import`");
  }
  throw InputError(where + ": unknown PEM type '" + excerpt(block.type, 64) + "' (expected '" +
                   std::string(kPemCosignPrivateKey) + "' or '" +
                   std::string(kPemSigstorePrivateKey) + "')");
}

// The parsed, validated key file body. Everything is checked before any scrypt work.
struct EncryptedKey {
  std::int64_t scrypt_n = 0;
  Bytes salt;
  Bytes nonce;
  Bytes ciphertext;
};

EncryptedKey parse_encrypted_body(const detail::PemBlock& block, std::string_view what) {
  const std::string where(what);
  const std::string body_what = where + ": key body";
  auto json_bytes = detail::decode_pem_body(block, what);
  auto j = detail::parse_json(json_bytes, body_what, limits::kMaxKeyFileBytes);
  if (!j.is_object()) throw InputError(body_what + ": expected a JSON object");

  const auto& kdf = detail::require_object(j, "kdf", body_what);
  const std::string kdf_what = body_what + ": kdf";
  auto kdf_name = detail::require_string(kdf, "name", kdf_what);
  if (kdf_name != kKdfScrypt) {
    throw UnsupportedError(kdf_what + ": unsupported KDF '" + excerpt(kdf_name, 64) +
                           "' (expected scrypt)");
  }
  const auto& params = detail::require_object(kdf, "params", kdf_what);
  const std::string params_what = kdf_what + ": params";
  EncryptedKey out;
  // N as written: one past INT64_MAX is a large unsigned number, not the -1 it would wrap to.
  const auto& n = detail::require_field(params, "N", params_what);
  if (n.is_number_unsigned() && n.get<std::uint64_t>() > limits::kMaxScryptN) {
    throw LimitError(params_what + ": scrypt N=" + std::to_string(n.get<std::uint64_t>()) +
                     " is over the limit of " + std::to_string(limits::kMaxScryptN));
  }
  out.scrypt_n = detail::require_int(params, "N", params_what);
  auto r = detail::require_int(params, "r", params_what);
  auto p = detail::require_int(params, "p", params_what);
  bool n_ok = false;
  for (auto allowed : kAllowedScryptN) n_ok = n_ok || allowed == out.scrypt_n;
  if (!n_ok) {
    throw UnsupportedError(params_what + ": unsupported scrypt N=" + std::to_string(out.scrypt_n) +
                           " (accepted: 32768, 65536, 131072)");
  }
  if (r != kScryptR || p != kScryptP) {
    throw UnsupportedError(params_what + ": unsupported scrypt r=" + std::to_string(r) +
                           ", p=" + std::to_string(p) + " (accepted: r=8, p=1)");
  }
  out.salt = base64_decode(detail::require_string(kdf, "salt", kdf_what), kdf_what + ": salt");
  if (out.salt.size() != kSaltBytes) {
    throw InputError(kdf_what + ": salt is " + std::to_string(out.salt.size()) +
                     " bytes (expected 32)");
  }

  const auto& cipher = detail::require_object(j, "cipher", body_what);
  const std::string cipher_what = body_what + ": cipher";
  auto cipher_name = detail::require_string(cipher, "name", cipher_what);
  if (cipher_name != kCipherSecretbox) {
    throw UnsupportedError(cipher_what + ": unsupported cipher '" + excerpt(cipher_name, 64) +
                           "' (expected nacl/secretbox)");
  }
  out.nonce =
      base64_decode(detail::require_string(cipher, "nonce", cipher_what), cipher_what + ": nonce");
  if (out.nonce.size() != kNonceBytes) {
    throw InputError(cipher_what + ": nonce is " + std::to_string(out.nonce.size()) +
                     " bytes (expected 24)");
  }
  out.ciphertext =
      base64_decode(detail::require_string(j, "ciphertext", body_what), body_what + ": ciphertext");
  if (out.ciphertext.size() <= crypto_secretbox_MACBYTES) {
    throw InputError(body_what + ": ciphertext is too short");
  }
  return out;
}

PrivateKey import_evp_key(EVP_PKEY* pkey, std::string_view what) {
  detail::classify_key(pkey, detail::KeyUse::kSign, what);  // names the curve / size if refused
  return PrivateKey::from_pkcs8_der(detail::pkcs8_der_of(pkey), what);
}

PrivateKey import_traditional(const SecretBytes& der, int evp_type, std::string_view label,
                              std::string_view what) {
  const unsigned char* p = der.data();
  detail::EvpPkeyPtr pkey(d2i_PrivateKey(evp_type, nullptr, &p, static_cast<long>(der.size())));
  if (!pkey) {
    ERR_clear_error();
    throw InputError(std::string(what) + ": not a valid " + std::string(label) + " DER structure");
  }
  if (p != der.data() + der.size()) {
    throw InputError(std::string(what) + ": trailing data after the " + std::string(label));
  }
  return import_evp_key(pkey.get(), what);
}

}  // namespace

std::string_view to_string(KdfProfile profile) {
  return info_of(profile).name;
}

KdfProfile parse_kdf_profile(std::string_view name) {
  for (const auto& p : kProfiles) {
    if (p.name == name) return p.profile;
  }
  throw UsageError("unknown KDF profile '" + excerpt(name, 64) +
                   "' (expected one of: cosign, standard)");
}

std::string encrypt_private_key_pem(const PrivateKey& key, const SecretBytes& password,
                                    KdfProfile profile) {
  ensure_sodium();
  const auto& info = info_of(profile);
  Bytes salt(kSaltBytes);
  Bytes nonce(kNonceBytes);
  randombytes_buf(salt.data(), salt.size());
  randombytes_buf(nonce.data(), nonce.size());
  auto derived = derive_key(password, salt, info.scrypt_n, "encrypting a private key");
  auto plaintext = key.pkcs8_der();
  Bytes ciphertext(plaintext.size() + crypto_secretbox_MACBYTES);
  if (crypto_secretbox_easy(ciphertext.data(), plaintext.data(), plaintext.size(), nonce.data(),
                            derived.data()) != 0) {
    throw CryptoError("encrypting a private key: crypto_secretbox_easy failed");
  }
  // Field order as cosign writes it (Go struct order).
  detail::OrderedJson j;
  j["kdf"]["name"] = kKdfScrypt;
  j["kdf"]["params"]["N"] = info.scrypt_n;
  j["kdf"]["params"]["r"] = kScryptR;
  j["kdf"]["params"]["p"] = kScryptP;
  j["kdf"]["salt"] = base64_encode(salt);
  j["cipher"]["name"] = kCipherSecretbox;
  j["cipher"]["nonce"] = base64_encode(nonce);
  j["ciphertext"] = base64_encode(ciphertext);
  return detail::encode_pem(info.pem_type, as_bytes(detail::dump_compact(j)));
}

PrivateKey decrypt_private_key_pem(std::string_view pem, const SecretBytes& password,
                                   std::string_view what) {
  const std::string where(what);
  auto block = detail::parse_pem(pem, what);
  refuse_unless_encrypted(block, what);
  auto enc = parse_encrypted_body(block, what);
  ensure_sodium();
  auto derived = derive_key(password, enc.salt, enc.scrypt_n, what);
  SecretBytes plaintext(enc.ciphertext.size() - crypto_secretbox_MACBYTES);
  if (crypto_secretbox_open_easy(plaintext.data(), enc.ciphertext.data(), enc.ciphertext.size(),
                                 enc.nonce.data(), derived.data()) != 0) {
    throw BadPasswordError(where + ": wrong password or corrupted key (decryption failed)");
  }
  return PrivateKey::from_pkcs8_der(plaintext, what);
}

bool is_encrypted_private_key_pem(std::string_view pem) {
  detail::PemBlock block;
  return detail::try_parse_pem(pem, block) && is_encrypted_type(block.type);
}

PrivateKey import_private_key_pem(std::string_view pem, std::string_view what) {
  const std::string where(what);
  auto block = detail::parse_pem(pem, what);
  if (block.type == "PRIVATE KEY") {
    return PrivateKey::from_pkcs8_der(detail::decode_pem_body_secret(block, what), what);
  }
  if (block.type == "EC PRIVATE KEY") {
    return import_traditional(detail::decode_pem_body_secret(block, what), EVP_PKEY_EC,
                              "SEC1 EC private key", what);
  }
  if (block.type == "RSA PRIVATE KEY") {
    return import_traditional(detail::decode_pem_body_secret(block, what), EVP_PKEY_RSA,
                              "PKCS#1 RSA private key", what);
  }
  if (is_encrypted_type(block.type)) {
    throw InputError(where + ": already an encrypted cosign key file; nothing to import");
  }
  if (block.type == "ENCRYPTED PRIVATE KEY") {
    throw UnsupportedError(where +
                           ": encrypted PKCS#8 keys are not supported; decrypt it first "
                           "(openssl pkcs8 -in FILE -out PLAIN.pem)");
  }
  if (block.type == "OPENSSH PRIVATE KEY") {
    throw UnsupportedError(where +
                           ": OpenSSH private keys are not supported; convert to PKCS#8 "
                           "first (ssh-keygen -p -m PKCS8 -f FILE)");
  }
  if (block.type == kPemPublicKey) {
    throw InputError(where + ": a public key, not a private key");
  }
  throw InputError(where + ": unknown PEM type '" + excerpt(block.type, 64) +
                   "' (expected 'PRIVATE KEY', 'EC PRIVATE KEY' or 'RSA PRIVATE KEY')");
}

namespace {

constexpr std::string_view kEnvScheme = "env://";
constexpr std::string_view kStdinRef = "-";
constexpr std::string_view kKeyPurpose = "the key";

struct UnsupportedScheme {
  std::string_view prefix;
  std::string_view what;
};

// Key references cosign knows that sigil does not serve yet: refused by name, never looked up as
// files. (A PKCS#11 URI may carry a PIN, so no reference is quoted beyond its scheme.)
constexpr std::array<UnsupportedScheme, 9> kUnsupportedSchemes{{
    {"pkcs11:", "PKCS#11 keys"},
    {"awskms://", "AWS KMS keys"},
    {"gcpkms://", "Google Cloud KMS keys"},
    {"azurekms://", "Azure Key Vault keys"},
    {"hashivault://", "HashiCorp Vault keys"},
    {"k8s://", "Kubernetes secrets"},
    {"gitlab://", "GitLab variables"},
    {"https://", "keys by URL"},
    {"http://", "keys by URL"},
}};

constexpr std::string_view kKeyRefForms = "a key file, env://VAR or - (standard input)";

bool is_env_name(std::string_view name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name.front()))) return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

// "scheme://…" with an RFC 3986 scheme.
std::optional<std::string_view> url_scheme(std::string_view ref) {
  auto sep = ref.find("://");
  if (sep == std::string_view::npos || sep == 0) return std::nullopt;
  auto scheme = ref.substr(0, sep);
  if (!std::isalpha(static_cast<unsigned char>(scheme.front()))) return std::nullopt;
  for (char c : scheme) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.') {
      return std::nullopt;
    }
  }
  return ref.substr(0, sep + 3);
}

// The bytes a key reference names, and the name messages use for it.
struct KeyInput {
  SecretBytes pem;
  std::string what;
};

KeyInput read_key(std::string_view ref) {
  if (ref.empty())
    throw UsageError("empty key reference (expected " + std::string(kKeyRefForms) + ")");
  if (ref == kStdinRef) {
    return {read_operator_input(ref, limits::kMaxKeyFileBytes, kKeyPurpose),
            std::string(detail::kStandardInputName)};
  }
  if (ref.rfind(kEnvScheme, 0) == 0) {
    const auto name = std::string(ref.substr(kEnvScheme.size()));
    const std::string what = std::string(kEnvScheme) + excerpt(name, 64);
    if (!is_env_name(name)) {
      throw UsageError(what + ": not an environment variable name (letters, digits, _)");
    }
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) throw NotFoundError(what + ": the variable " + name + " is not set");
    const std::string_view text(value);
    if (text.empty()) {
      throw InputError(what + ": the variable " + name + " is empty (expected a PEM key)");
    }
    limits::check(text.size(), limits::kMaxKeyFileBytes, what, "bytes");
    // The environment itself is the caller's; this copy is wiped like a key file's bytes.
    return {SecretBytes::from_string(text), what};
  }
  for (const auto& s : kUnsupportedSchemes) {
    if (ref.rfind(s.prefix, 0) == 0) {
      throw UnsupportedError(std::string(s.prefix) + "…: " + std::string(s.what) +
                             " are not supported yet (use " + std::string(kKeyRefForms) + ")");
    }
  }
  if (auto scheme = url_scheme(ref)) {
    throw UsageError(excerpt(ref, 64) + ": unknown key reference scheme '" + excerpt(*scheme, 32) +
                     "' (expected " + std::string(kKeyRefForms) +
                     "; for a file of that name, write ./" + excerpt(ref, 64) + ")");
  }
  return {read_operator_input(ref, limits::kMaxKeyFileBytes, kKeyPurpose), std::string(ref)};
}

}  // namespace

SecretBytes read_key_reference(std::string_view key_ref) {
  return read_key(key_ref).pem;
}

PublicKey load_public_key(std::string_view key_ref) {
  auto in = read_key(key_ref);
  return PublicKey::from_pem(in.pem.as_string_view(), in.what);
}

PrivateKey load_private_key(std::string_view key_ref,
                            const std::function<SecretBytes()>& get_password) {
  auto in = read_key(key_ref);
  auto text = in.pem.as_string_view();
  // Refuse what is not an encrypted key before a password is asked for.
  refuse_unless_encrypted(detail::parse_pem(text, in.what), in.what);
  auto password = get_password();
  return decrypt_private_key_pem(text, password, in.what);
}

PublicKey load_public_key_of_any(std::string_view key_ref,
                                 const std::function<SecretBytes()>& get_password) {
  auto in = read_key(key_ref);
  auto text = in.pem.as_string_view();
  auto block = detail::parse_pem(text, in.what);
  if (block.type == kPemPublicKey) return PublicKey::from_pem(text, in.what);
  if (is_encrypted_type(block.type)) {
    auto password = get_password();
    return decrypt_private_key_pem(text, password, in.what).public_key();
  }
  if (is_unencrypted_private_type(block.type)) {
    return import_private_key_pem(text, in.what).public_key();
  }
  throw InputError(in.what + ": unknown PEM type '" + excerpt(block.type, 64) +
                   "' (expected a public key, a cosign key file or a private key)");
}

}  // namespace trust

namespace trust {

KeyPairFiles key_pair_files(const std::filesystem::path& prefix) {
  auto with_ext = [&](const char* ext) {
    auto p = prefix;
    p += ext;
    return p;
  };
  return {.private_key = with_ext(".key"), .public_key = with_ext(".pub")};
}

KeyPairFiles write_key_pair(const PrivateKey& key, const std::filesystem::path& prefix,
                            const std::function<SecretBytes()>& get_password, KdfProfile profile,
                            Overwrite overwrite) {
  constexpr unsigned kPrivateMode = 0600;
  constexpr unsigned kPublicMode = 0644;
  auto files = key_pair_files(prefix);
  if (overwrite == Overwrite::kNo) {
    for (const auto& p : {files.private_key, files.public_key}) {
      std::error_code ec;
      if (std::filesystem::exists(std::filesystem::symlink_status(p, ec))) {
        throw ExistsError(p.string() + ": already exists (refusing to overwrite; pass --force)");
      }
    }
  }
  auto password = get_password();
  auto pem = encrypt_private_key_pem(key, password, profile);
  auto pub = key.public_key().to_pem();
  write_file_atomic(files.private_key, as_bytes(pem), kPrivateMode, overwrite);
  try {
    write_file_atomic(files.public_key, as_bytes(pub), kPublicMode, overwrite);
  } catch (...) {
    // Leave no half pair behind: a private key we newly created goes too. (With kYes the old
    // key is already replaced; keeping the new one lets `sigil key public` recreate the .pub.)
    if (overwrite == Overwrite::kNo) {
      std::error_code ec;
      std::filesystem::remove(files.private_key, ec);
    }
    throw;
  }
  return files;
}

}  // namespace trust
