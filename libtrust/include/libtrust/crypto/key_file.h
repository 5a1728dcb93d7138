#pragma once
// cosign-compatible key files.
// Private: PEM whose body is base64 of
//   {"kdf":{"name":"scrypt","params":{"N":…,"r":8,"p":1},"salt":b64(32)},
//    "cipher":{"name":"nacl/secretbox","nonce":b64(24)},"ciphertext":b64}
// scrypt(password, salt, N, r=8, p=1) -> 32-byte key for XSalsa20-Poly1305 over the PKCS#8 DER.
// Public: PEM "PUBLIC KEY" (SPKI).

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include "libtrust/core/file.h"
#include "libtrust/core/secret.h"
#include "libtrust/crypto/keys.h"
#include "libtrust/export.h"

namespace trust {

inline constexpr std::string_view kPemCosignPrivateKey = "ENCRYPTED COSIGN PRIVATE KEY";
inline constexpr std::string_view kPemSigstorePrivateKey = "ENCRYPTED SIGSTORE PRIVATE KEY";
inline constexpr std::string_view kPemPublicKey = "PUBLIC KEY";

enum class KdfProfile {
  kCosign,    // N=32768, PEM "ENCRYPTED COSIGN PRIVATE KEY": what containers/image 5.23 accepts
              // (default)
  kStandard,  // N=65536, PEM "ENCRYPTED SIGSTORE PRIVATE KEY": the cosign 2.x form
};

// "cosign", "standard": the one place these are spelled (`--kdf`).
TRUST_API std::string_view to_string(KdfProfile profile);
// Throws UsageError listing the accepted names.
TRUST_API KdfProfile parse_kdf_profile(std::string_view name);

// Encrypts a private key into cosign's PEM format.
TRUST_API std::string encrypt_private_key_pem(const PrivateKey& key, const SecretBytes& password,
                                              KdfProfile profile = KdfProfile::kCosign);

// Decrypts either PEM type. Unknown PEM types, malformed bodies and scrypt parameters outside
// N ∈ {32768, 65536, 131072}, r=8, p=1 are refused before any scrypt work (InputError /
// UnsupportedError). A wrong password is BadPasswordError. `what` names the input (file path).
TRUST_API PrivateKey decrypt_private_key_pem(std::string_view pem, const SecretBytes& password,
                                             std::string_view what);

// True if `pem` is one of the two encrypted cosign PEM types.
TRUST_API bool is_encrypted_private_key_pem(std::string_view pem);

// Imports an unencrypted private key: PEM "PRIVATE KEY" (PKCS#8), "EC PRIVATE KEY" (SEC1) or
// "RSA PRIVATE KEY" (PKCS#1). Keys of unsupported types or sizes are UnsupportedError.
TRUST_API PrivateKey import_private_key_pem(std::string_view pem, std::string_view what);

// Keys by reference, what every command that takes a key uses:
//  - a file path: a regular file, or a pipe or FIFO (`<(…)`, /dev/fd/N, mkfifo);
//  - env://VAR: the variable holds the PEM, as cosign reads it (unset is NotFoundError, empty is
//    InputError, a name outside [A-Za-z_][A-Za-z0-9_]* is UsageError);
//  - "-": standard input (read once per process; see read_operator_input in core/file.h);
//  - pkcs11: and the KMS schemes cosign knows (awskms://, gcpkms://, azurekms://, hashivault://,
//    k8s://, gitlab://, http(s)://) are UnsupportedError "not supported yet", never looked up as
//    files; another SCHEME:// is UsageError.
// What is read lives in wiped memory, as a key file's bytes do; at most limits::kMaxKeyFileBytes.
// `get_password` is asked only for an encrypted key, after it was read and its PEM type checked.
TRUST_API PublicKey load_public_key(std::string_view key_ref);
TRUST_API PrivateKey load_private_key(std::string_view key_ref,
                                      const std::function<SecretBytes()>& get_password);
// The public key of any key: PEM "PUBLIC KEY", an encrypted cosign private key (asks
// `get_password` only then) or an unencrypted private key PEM as import_private_key_pem reads.
// Other PEM types are InputError naming the reference.
TRUST_API PublicKey load_public_key_of_any(std::string_view key_ref,
                                           const std::function<SecretBytes()>& get_password);
// The PEM text a key reference names, resolved as above (`sigil key import` reads its input so).
TRUST_API SecretBytes read_key_reference(std::string_view key_ref);

// A key pair on disk: PREFIX.key (encrypted, 0600) and PREFIX.pub (PEM public key, 0644).
struct KeyPairFiles {
  std::filesystem::path private_key;
  std::filesystem::path public_key;
};
TRUST_API KeyPairFiles key_pair_files(const std::filesystem::path& prefix);

// Writes a key pair atomically. With Overwrite::kNo an existing PREFIX.key or PREFIX.pub is
// ExistsError, raised before `get_password` is asked and before anything is written.
TRUST_API KeyPairFiles write_key_pair(const PrivateKey& key, const std::filesystem::path& prefix,
                                      const std::function<SecretBytes()>& get_password,
                                      KdfProfile profile, Overwrite overwrite);

}  // namespace trust
