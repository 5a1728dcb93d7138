#include "libtrust/sig/bundle.h"

#include "core/json_util.h"
#include "libtrust/core/digest.h"
#include "libtrust/core/encoding.h"
#include "libtrust/core/error.h"
#include "libtrust/core/media_type.h"
#include "libtrust/core/text.h"
#include "sig/dsse_internal.h"

namespace trust::sig {
namespace {

using detail::Json;
using detail::OrderedJson;

bool present(const Json& obj, std::string_view key) {
  return obj.find(key) != obj.end();
}

void require_base64_object(const Json& parent, std::string_view key, const std::string& where) {
  const auto& o = detail::require_object(parent, key, where);
  require_only_keys(o, {"rawBytes"}, where, key);
  if (require_base64(o, "rawBytes", where + "." + std::string(key)).empty()) {
    throw InputError(where + "." + std::string(key) + ": rawBytes is empty");
  }
}

}  // namespace

std::string_view to_string(BundleContent content) {
  switch (content) {
    case BundleContent::kDsseEnvelope:
      return "dsse-envelope";
    case BundleContent::kMessageSignature:
      return "message-signature";
  }
  return "?";
}

std::string_view to_string(BundleMaterial material) {
  switch (material) {
    case BundleMaterial::kPublicKey:
      return "publicKey";
    case BundleMaterial::kCertificate:
      return "certificate";
    case BundleMaterial::kX509CertificateChain:
      return "x509CertificateChain";
  }
  return "?";
}

std::string public_key_hint(const PublicKey& key) {
  return base64_encode(Digest::of(key.spki_der()).raw());
}

Bundle Bundle::for_dsse(DsseEnvelope envelope, const PublicKey& signer) {
  if (envelope.signature_count() != 1) {
    throw UsageError("a sigstore bundle holds a DSSE envelope with exactly one signature, not " +
                     std::to_string(envelope.signature_count()));
  }
  Bundle b;
  b.media_type_ = std::string(media_type::kSigstoreBundleV03);
  b.content_ = BundleContent::kDsseEnvelope;
  b.material_ = BundleMaterial::kPublicKey;
  b.key_hint_ = public_key_hint(signer);
  b.envelope_ = std::move(envelope);
  return b;
}

Bundle Bundle::for_message_signature(const Digest& blob, Bytes signature, const PublicKey& signer) {
  if (blob.algorithm() != DigestAlgorithm::kSha256) {
    throw UsageError("a blob bundle sigil writes carries a SHA-256 digest, not " +
                     std::string(to_string(blob.algorithm())));
  }
  Bundle b;
  b.media_type_ = std::string(media_type::kSigstoreBundleV03);
  b.content_ = BundleContent::kMessageSignature;
  b.material_ = BundleMaterial::kPublicKey;
  b.key_hint_ = public_key_hint(signer);
  b.message_ = MessageSignature{.digest_algorithm = std::string(kBundleSha256),
                                .digest = blob.raw(),
                                .signature = std::move(signature)};
  return b;
}

Bundle Bundle::parse(ByteView json, std::string_view what) {
  auto j = detail::parse_json(json, what, kMaxBundleBytes);
  const std::string w(what);
  if (!j.is_object()) throw InputError(w + ": bundle is not a JSON object");
  require_only_keys(j, {"mediaType", "verificationMaterial", "dsseEnvelope", "messageSignature"},
                    what, "bundle");
  Bundle b;
  b.media_type_ = detail::require_string(j, "mediaType", what);
  if (b.media_type_ != media_type::kSigstoreBundleV03 && b.media_type_ != kBundleMediaTypeV02 &&
      b.media_type_ != kBundleMediaTypeV01) {
    throw UnsupportedError(w + ": bundle mediaType '" + excerpt(b.media_type_, 100) +
                           "' is not a sigstore bundle v0.1-v0.3");
  }

  // Content: exactly one of dsseEnvelope / messageSignature.
  const bool has_dsse = present(j, "dsseEnvelope");
  const bool has_message = present(j, "messageSignature");
  if (has_dsse == has_message) {
    throw InputError(w + ": bundle must hold exactly one of dsseEnvelope and messageSignature, " +
                     (has_dsse ? "has both" : "has neither"));
  }
  if (has_dsse) {
    b.content_ = BundleContent::kDsseEnvelope;
    const auto& env = detail::require_object(j, "dsseEnvelope", what);
    b.envelope_ = DsseAccess::from_json(env, w + ": dsseEnvelope");
    if (b.envelope_->signature_count() != 1) {
      throw InputError(w + ": dsseEnvelope in a bundle must hold exactly one signature, has " +
                       std::to_string(b.envelope_->signature_count()));
    }
  } else {
    b.content_ = BundleContent::kMessageSignature;
    const std::string where = w + ": messageSignature";
    const auto& ms = detail::require_object(j, "messageSignature", what);
    require_only_keys(ms, {"messageDigest", "signature"}, where, "messageSignature");
    MessageSignature message;
    if (present(ms, "messageDigest")) {
      const auto& md = detail::require_object(ms, "messageDigest", where);
      require_only_keys(md, {"algorithm", "digest"}, where, "messageDigest");
      message.digest_algorithm = detail::require_string(md, "algorithm", where + ".messageDigest");
      message.digest = require_base64(md, "digest", where + ".messageDigest");
      if (message.digest.empty()) throw InputError(where + ".messageDigest: digest is empty");
    }
    message.signature = require_base64(ms, "signature", where);
    if (message.signature.empty()) throw InputError(where + ": signature is empty");
    b.message_ = std::move(message);
  }

  // Verification material: exactly one of publicKey / certificate / x509CertificateChain.
  const std::string vm_where = w + ": verificationMaterial";
  const auto& vm = detail::require_object(j, "verificationMaterial", what);
  require_only_keys(vm,
                    {"publicKey", "certificate", "x509CertificateChain", "tlogEntries",
                     "timestampVerificationData"},
                    vm_where, "verificationMaterial");
  const int materials = int(present(vm, "publicKey")) + int(present(vm, "certificate")) +
                        int(present(vm, "x509CertificateChain"));
  if (materials != 1) {
    throw InputError(vm_where +
                     " must hold exactly one of publicKey, certificate and x509CertificateChain, "
                     "has " +
                     std::to_string(materials));
  }
  if (present(vm, "publicKey")) {
    b.material_ = BundleMaterial::kPublicKey;
    const auto& pk = detail::require_object(vm, "publicKey", vm_where);
    require_only_keys(pk, {"hint"}, vm_where, "publicKey");
    b.key_hint_ = detail::optional_string(pk, "hint", vm_where + ".publicKey").value_or("");
  } else if (present(vm, "certificate")) {
    b.material_ = BundleMaterial::kCertificate;
    require_base64_object(vm, "certificate", vm_where);
  } else {
    b.material_ = BundleMaterial::kX509CertificateChain;
    const std::string where = vm_where + ".x509CertificateChain";
    const auto& chain = detail::require_object(vm, "x509CertificateChain", vm_where);
    require_only_keys(chain, {"certificates"}, where, "x509CertificateChain");
    const auto& certs = detail::require_array(chain, "certificates", where);
    if (certs.empty()) throw InputError(where + ": no certificates");
    if (certs.size() > 16) throw LimitError(where + ": more than 16 certificates");
    for (std::size_t i = 0; i < certs.size(); ++i) {
      const std::string cw = where + ".certificates[" + std::to_string(i) + "]";
      if (!certs[i].is_object()) throw InputError(cw + " is not a JSON object");
      require_only_keys(certs[i], {"rawBytes"}, cw, "certificate");
      if (require_base64(certs[i], "rawBytes", cw).empty()) throw InputError(cw + ": empty");
    }
  }
  if (present(vm, "tlogEntries")) {
    const auto& entries = detail::require_array(vm, "tlogEntries", vm_where);
    if (entries.size() > kMaxBundleTlogEntries) {
      throw LimitError(vm_where + ": " + std::to_string(entries.size()) +
                       " tlogEntries is over the limit of " +
                       std::to_string(kMaxBundleTlogEntries));
    }
    for (const auto& e : entries) {
      if (!e.is_object()) throw InputError(vm_where + ": a tlogEntries item is not an object");
    }
    b.tlog_entries_ = entries.size();
  }
  if (present(vm, "timestampVerificationData")) {
    (void)detail::require_object(vm, "timestampVerificationData", vm_where);
    b.has_timestamps_ = true;
  }
  b.raw_.assign(as_string_view(json));
  return b;
}

std::string Bundle::to_json() const {
  if (!raw_.empty()) return raw_;
  OrderedJson j;
  j["mediaType"] = media_type_;
  j["verificationMaterial"]["publicKey"]["hint"] = key_hint_;
  j["verificationMaterial"]["tlogEntries"] = OrderedJson::array();
  if (message_) {
    // protobuf-specs' member order: messageDigest {algorithm, digest}, signature.
    OrderedJson ms;
    ms["messageDigest"]["algorithm"] = *message_->digest_algorithm;
    ms["messageDigest"]["digest"] = base64_encode(message_->digest);
    ms["signature"] = base64_encode(message_->signature);
    j["messageSignature"] = std::move(ms);
    return detail::dump_compact(j);
  }
  // protobuf-specs' JSON member order for the envelope: payload, payloadType, signatures.
  auto env = DsseAccess::to_json(*envelope_);
  OrderedJson ordered;
  ordered["payload"] = env["payload"];
  ordered["payloadType"] = env["payloadType"];
  ordered["signatures"] = env["signatures"];
  j["dsseEnvelope"] = std::move(ordered);
  return detail::dump_compact(j);
}

std::optional<std::string> Bundle::unsupported_reason() const {
  if (material_ != BundleMaterial::kPublicKey) return std::string(kKeylessUnsupportedReason);
  if (content_ == BundleContent::kMessageSignature) {
    return std::string(
        "a messageSignature bundle signs a blob digest, not an image statement: not supported "
        "for images");
  }
  return std::nullopt;
}

}  // namespace trust::sig
