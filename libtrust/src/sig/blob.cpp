#include "libtrust/sig/blob.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "core/json_util.h"
#include "core/operator_input.h"
#include "libtrust/core/encoding.h"
#include "libtrust/core/error.h"
#include "libtrust/core/limits.h"
#include "libtrust/core/media_type.h"
#include "libtrust/core/text.h"
#include "libtrust/sig/predicate_type.h"
#include "sig/dsse_internal.h"

namespace trust::sig {
namespace {

std::string_view trimmed(std::string_view s) {
  const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

// What a bundle carries that sigil does not check, in words for the report.
std::vector<std::string> unchecked_in(const Bundle& b) {
  std::vector<std::string> out;
  if (b.tlog_entry_count() > 0) {
    out.push_back(std::to_string(b.tlog_entry_count()) + " transparency-log entr" +
                  (b.tlog_entry_count() == 1 ? "y" : "ies") +
                  " (not checked: sigil has no Rekor verification yet; the key is what is "
                  "trusted)");
  }
  if (b.has_timestamp_data()) {
    out.emplace_back(
        "timestamp verification data (not checked: sigil has no timestamp verification yet; the "
        "key is what is trusted)");
  }
  return out;
}

Bundle parse_key_bundle(ByteView json, std::string_view what) {
  auto b = Bundle::parse(json, what);
  if (b.material() != BundleMaterial::kPublicKey) {
    throw UnsupportedError(std::string(what) + ": " + std::string(kKeylessUnsupportedReason));
  }
  return b;
}

std::string key_count(std::size_t n) {
  return std::to_string(n) + " trusted key" + (n == 1 ? "" : "s");
}

}  // namespace

bool needs_whole_blob(KeyType type) {
  return !signs_sha256_prehash(type);
}

Blob read_blob(std::string_view path, BlobRead mode) {
  detail::OperatorInput input(path, "the blob");
  Blob blob;
  blob.name = input.name();
  if (mode == BlobRead::kWhole) blob.content.emplace();
  Hasher hasher;
  Bytes chunk(limits::kBlobReadChunkBytes);
  for (;;) {
    auto n = ::read(input.fd(), chunk.data(), chunk.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      throw IoError(blob.name + ": read failed: " + std::strerror(errno));
    }
    if (n == 0) break;
    const auto got = static_cast<std::size_t>(n);
    hasher.update(ByteView(chunk.data(), got));
    if (blob.content) {
      try {
        limits::check(hasher.bytes_hashed(), limits::kMaxEd25519BlobBytes, blob.name,
                      "bytes (or more)");
      } catch (const LimitError& e) {
        throw LimitError(std::string(e.what()) +
                         ": an Ed25519 key signs the whole file, not a digest of it, so the file "
                         "is read into memory; use an ECDSA or RSA key for larger files");
      }
      blob.content->insert(blob.content->end(), chunk.begin(),
                           chunk.begin() + static_cast<std::ptrdiff_t>(got));
    }
  }
  blob.size = hasher.bytes_hashed();
  blob.sha256 = hasher.finish();
  return blob;
}

Bytes sign_blob(const Blob& blob, const PrivateKey& key) {
  if (!needs_whole_blob(key.type())) return key.sign_prehashed(blob.sha256);
  if (!blob.content) {
    throw UsageError(blob.name + ": an " + std::string(to_string(key.type())) +
                     " key signs the whole file, which was not read");
  }
  return key.sign(*blob.content);
}

BlobSignature BlobSignature::detached(ByteView text, std::string_view what) {
  const auto body = trimmed(as_string_view(text));
  if (body.empty()) throw InputError(std::string(what) + ": empty signature file");
  BlobSignature s;
  s.signature_ = base64_decode_lines(body, what);
  if (s.signature_.empty()) throw InputError(std::string(what) + ": empty signature");
  return s;
}

BlobSignature BlobSignature::from_bundle(ByteView json, std::string_view what) {
  {
    // cosign's own bundle file (sign-blob --bundle without --new-bundle-format, cosign <= 2's
    // default): {"base64Signature", "cert", "rekorBundle"}, told apart by having no mediaType.
    auto j = detail::parse_json(json, what, kMaxBundleBytes);
    if (j.is_object() && j.find("mediaType") == j.end() && j.find("base64Signature") != j.end()) {
      const std::string w(what);
      require_only_keys(j, {"base64Signature", "cert", "rekorBundle"}, what, "cosign bundle");
      BlobSignature s;
      s.signature_ = base64_decode(detail::require_string(j, "base64Signature", what),
                                   w + ": base64Signature");
      if (s.signature_.empty()) throw InputError(w + ": base64Signature is empty");
      if (j.find("cert") != j.end()) {
        (void)detail::require_string(j, "cert", what);
        s.unchecked_.emplace_back(
            "the key or certificate in the cosign bundle (not used: only the --key keys are "
            "trusted)");
      }
      if (j.find("rekorBundle") != j.end()) {
        (void)detail::require_object(j, "rekorBundle", what);
        s.unchecked_.emplace_back(
            "a Rekor bundle (not checked: sigil has no Rekor verification yet; the key is what is "
            "trusted)");
      }
      return s;
    }
  }
  auto b = parse_key_bundle(json, what);
  if (!b.message_signature()) {
    throw InputError(std::string(what) +
                     ": the bundle holds a DSSE envelope (an attestation: use "
                     "verify-blob-attestation), not a messageSignature");
  }
  BlobSignature s;
  s.signature_ = b.message_signature()->signature;
  s.message_ = b.message_signature();
  s.unchecked_ = unchecked_in(b);
  return s;
}

BlobVerification verify_blob(const Blob& blob, const BlobSignature& signature,
                             std::span<const PublicKey> trusted) {
  BlobVerification v;
  v.unchecked = signature.unchecked();
  if (const auto& m = signature.message(); m && m->digest_algorithm) {
    // The digest the bundle states must be this blob's, by the algorithm sigil hashes with,
    // before the signature counts for anything.
    if (*m->digest_algorithm != kBundleSha256) {
      v.reason = "the bundle's messageDigest algorithm is " + excerpt(*m->digest_algorithm, 40) +
                 ", not " + std::string(kBundleSha256) + " (the one sigil checks)";
      return v;
    }
    if (m->digest.size() != digest_size(DigestAlgorithm::kSha256)) {
      v.reason = "the bundle's " + std::string(kBundleSha256) + " messageDigest has " +
                 std::to_string(m->digest.size()) + " bytes, not 32";
      return v;
    }
    const auto stated = Digest::from_raw(DigestAlgorithm::kSha256, m->digest);
    if (stated != blob.sha256) {
      v.reason = "the bundle is for another file: its messageDigest is " + stated.str() + ", " +
                 blob.name + " is " + blob.sha256.str();
      return v;
    }
  }
  bool skipped_whole = false;
  for (const auto& key : trusted) {
    bool ok = false;
    if (!needs_whole_blob(key.type())) {
      ok = key.verify_prehashed(blob.sha256, signature.signature());
    } else if (blob.content) {
      ok = key.verify(*blob.content, signature.signature());
    } else {
      skipped_whole = true;
    }
    if (ok) {
      v.verified = true;
      v.key_id = key.key_id().str();
      return v;
    }
  }
  v.reason = "the signature does not verify over " + blob.name + " (" + blob.sha256.str() +
             ") with the " + key_count(trusted.size());
  if (skipped_whole) v.reason += " (an Ed25519 key was not tried: the file was not read whole)";
  return v;
}

Statement blob_statement(const Blob& blob, std::string_view subject_name,
                         std::string_view predicate_type, ByteView predicate_json,
                         std::string_view what) {
  if (subject_name.empty()) throw UsageError("the attestation's subject name is empty");
  auto predicate = detail::parse_json(predicate_json, what, limits::kMaxPredicateBytes);
  if (!predicate.is_object()) {
    throw InputError(std::string(what) + ": the predicate is not a JSON object");
  }
  Statement st;
  st.subjects.push_back(StatementSubject{.name = std::string(subject_name),
                                         .digest = {{"sha256", blob.sha256.hex()}},
                                         .annotations = {},
                                         .non_string_annotations = {}});
  st.predicate_type = std::string(predicate_type);
  st.predicate_json = detail::dump_compact(predicate);
  return st;
}

DsseEnvelope attestation_from_envelope_file(ByteView text, std::string_view what) {
  const auto body = trimmed(as_string_view(text));
  if (body.empty()) throw InputError(std::string(what) + ": empty file");
  if (body.front() == '{') return DsseEnvelope::parse(as_bytes(body), what);
  const auto json = base64_decode_lines(body, what);
  return DsseEnvelope::parse(json, std::string(what) + " (base64-decoded)");
}

DsseEnvelope attestation_from_bundle(ByteView json, std::string_view what,
                                     std::vector<std::string>* unchecked) {
  auto b = parse_key_bundle(json, what);
  if (!b.dsse_envelope()) {
    throw InputError(std::string(what) +
                     ": the bundle holds a messageSignature (a blob signature: use verify-blob), "
                     "not a DSSE attestation");
  }
  if (unchecked) *unchecked = unchecked_in(b);
  return *b.dsse_envelope();
}

BlobVerification verify_blob_attestation(const Blob& blob, const DsseEnvelope& envelope,
                                         std::string_view requested,
                                         std::span<const PublicKey> trusted,
                                         std::string_view what) {
  const auto accepted = accepted_predicate_types(requested);
  BlobVerification v;
  auto verified = envelope.verify(trusted);
  if (!verified) {
    v.reason = "no signature of the envelope verifies with the " + key_count(trusted.size());
    return v;
  }
  if (verified->payload_type != media_type::kInTotoPayload) {
    v.reason = "the envelope's payloadType is '" + excerpt(verified->payload_type, 100) +
               "', not " + std::string(media_type::kInTotoPayload);
    return v;
  }
  auto statement =
      Statement::parse(verified->payload, std::string(what) + ": the signed statement");
  if (!statement.has_subject(blob.sha256)) {
    v.reason = "the statement is about another file: no subject has " + blob.name + "'s " +
               blob.sha256.str();
    return v;
  }
  if (!predicate_type_matches(requested, statement.predicate_type)) {
    v.reason = "the statement's predicateType is '" + excerpt(statement.predicate_type, 200) +
               "', not " + accepted.front() +
               (accepted.size() > 1 ? " or " + accepted[1] : std::string()) + " (--type " +
               excerpt(requested, 100) + ")";
    return v;
  }
  v.verified = true;
  v.key_id = verified->matches.front().key_id;  // never empty; the first trusted key that verified
  v.statement = std::move(statement);
  return v;
}

}  // namespace trust::sig
