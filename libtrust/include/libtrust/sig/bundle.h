#pragma once
// Sigstore bundle (protobuf-specs dev.sigstore.bundle.v1.Bundle in its JSON form), as cosign 3
// attaches it to images. sigil writes key-signed v0.3 bundles holding a DSSE envelope:
//   {"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json",
//    "verificationMaterial":{"publicKey":{"hint":"<base64 SHA-256 of the SPKI DER>"},
//                            "tlogEntries":[]},
//    "dsseEnvelope":{"payload":"<b64>","payloadType":"…","signatures":[{"sig":"<b64>",…}]}}
// and, for a release file (sigil sign-blob --bundle), a messageSignature over the file's SHA-256:
//    "messageSignature":{"messageDigest":{"algorithm":"SHA2_256","digest":"<b64>"},
//                        "signature":"<b64>"}
// It reads v0.1–v0.3 bundles strictly. Images are verified from key-signed DSSE bundles only;
// blobs from both forms (sig/blob.h). Keyless material (a Fulcio certificate or chain) is parsed
// and then refused with a reason. Nothing in a bundle is ever trusted as a key: the publicKey hint
// only names which configured key the signer meant.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "libtrust/core/bytes.h"
#include "libtrust/crypto/keys.h"
#include "libtrust/export.h"
#include "libtrust/sig/dsse.h"

namespace trust::sig {

inline constexpr std::string_view kBundleMediaTypeV01 =
    "application/vnd.dev.sigstore.bundle+json;version=0.1";
inline constexpr std::string_view kBundleMediaTypeV02 =
    "application/vnd.dev.sigstore.bundle+json;version=0.2";
// kBundleMediaTypeV03 is media_type::kSigstoreBundleV03.

// Largest bundle sigil reads, from a file or a referrer layer (bundles are small; one with a
// large attestation predicate still fits).
inline constexpr std::size_t kMaxBundleBytes = kMaxDsseEnvelopeBytes;
// Transparency-log entries per bundle (sigil does not interpret them yet; they are counted).
inline constexpr std::size_t kMaxBundleTlogEntries = 32;

// The reason every keyless bundle is refused until Fulcio/Rekor verification exists.
inline constexpr std::string_view kKeylessUnsupportedReason =
    "keyless verification is not supported yet (the bundle carries a certificate, not a key hint)";

enum class BundleContent { kDsseEnvelope, kMessageSignature };

// protobuf-specs HashAlgorithm name of the one messageDigest algorithm sigil writes and checks.
inline constexpr std::string_view kBundleSha256 = "SHA2_256";

// The content of a messageSignature bundle, as read (nothing here is checked against a blob or a
// key: sig/blob.h does that).
struct MessageSignature {
  // messageDigest, when present: its algorithm name as written ("SHA2_256", "SHA2_512", …) and
  // the digest bytes.
  std::optional<std::string> digest_algorithm;
  Bytes digest;
  Bytes signature;
};
enum class BundleMaterial { kPublicKey, kCertificate, kX509CertificateChain };

// "dsse-envelope" / "message-signature": the dev.sigstore.bundle.content annotation values.
TRUST_API std::string_view to_string(BundleContent content);
// "publicKey" / "certificate" / "x509CertificateChain": the JSON member names.
TRUST_API std::string_view to_string(BundleMaterial material);

// The hint sigil writes for a key, as sigstore-go does: base64 (standard, padded) of SHA-256
// over the SPKI DER. The same hash as KeyId, in another encoding.
TRUST_API std::string public_key_hint(const PublicKey& key);

class TRUST_API Bundle {
 public:
  // A v0.3 key-signed bundle around `envelope`, hint public_key_hint(signer).
  static Bundle for_dsse(DsseEnvelope envelope, const PublicKey& signer);
  // A v0.3 key-signed bundle around a signature over a blob whose SHA-256 is `blob`
  // (messageDigest SHA2_256), hint public_key_hint(signer). UsageError for another digest.
  static Bundle for_message_signature(const Digest& blob, Bytes signature, const PublicKey& signer);

  // Strict reading, at most kMaxBundleBytes: known mediaType (v0.1–v0.3, else UnsupportedError);
  // exactly one of dsseEnvelope / messageSignature; verificationMaterial with exactly one of
  // publicKey / certificate / x509CertificateChain and a tlogEntries array (≤
  // kMaxBundleTlogEntries); strict base64 in every byte field; a DSSE envelope in a bundle holds
  // exactly one signature (as the protobuf-specs require); no unknown fields at the levels sigil
  // reads. Throws InputError / LimitError / UnsupportedError naming `what`.
  static Bundle parse(ByteView json, std::string_view what);

  // Compact JSON with protobuf-specs' camelCase member names; for a parsed bundle, the exact
  // bytes it was parsed from.
  std::string to_json() const;

  const std::string& media_type() const { return media_type_; }
  BundleContent content() const { return content_; }
  BundleMaterial material() const { return material_; }
  // The publicKey hint (empty when the material is not a public key, or the hint was absent).
  const std::string& key_hint() const { return key_hint_; }
  std::size_t tlog_entry_count() const { return tlog_entries_; }
  bool has_timestamp_data() const { return has_timestamps_; }

  // The envelope of a dsseEnvelope bundle (nullopt for messageSignature).
  const std::optional<DsseEnvelope>& dsse_envelope() const { return envelope_; }
  // The messageSignature of a blob bundle (nullopt for dsseEnvelope).
  const std::optional<MessageSignature>& message_signature() const { return message_; }

  // Why key-based verification of an *image* cannot use this bundle (keyless material,
  // messageSignature content, which signs a blob); nullopt when it can.
  std::optional<std::string> unsupported_reason() const;

 private:
  Bundle() = default;
  std::string media_type_;
  BundleContent content_ = BundleContent::kDsseEnvelope;
  BundleMaterial material_ = BundleMaterial::kPublicKey;
  std::string key_hint_;
  std::size_t tlog_entries_ = 0;
  bool has_timestamps_ = false;
  std::optional<DsseEnvelope> envelope_;
  std::optional<MessageSignature> message_;
  std::string raw_;  // the bytes parsed (empty for a bundle built here)
};

}  // namespace trust::sig
