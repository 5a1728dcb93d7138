#include "libtrust/sig/attest.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <map>

#include "core/json_util.h"
#include "libtrust/core/encoding.h"
#include "libtrust/core/error.h"
#include "libtrust/core/media_type.h"
#include "libtrust/core/text.h"
#include "libtrust/sig/attachments.h"
#include "libtrust/sig/bundle.h"
#include "libtrust/sig/cosign_layout.h"
#include "libtrust/sig/dsse.h"
#include "libtrust/sig/predicates.h"
#include "libtrust/sig/referrers.h"

namespace trust::sig {

std::string rfc3339_now() {
  const auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  const auto n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return std::string(buf, n);
}

std::string attestation_subject_name(const Reference& ref) {
  if (ref.kind() != ReferenceKind::kRegistry) {
    return "oci:" + std::filesystem::absolute(ref.path()).lexically_normal().string();
  }
  // go-containerregistry names Docker Hub's registry index.docker.io.
  if (ref.registry() == "docker.io") return "index.docker.io/" + ref.repository();
  return ref.repository_name();
}

Statement image_statement(std::string_view subject_name, const Digest& image,
                          std::string_view predicate_type, std::string predicate_json) {
  Statement s;
  StatementSubject subject;
  subject.name = std::string(subject_name);
  subject.digest[std::string(to_string(image.algorithm()))] = image.hex();
  s.subjects.push_back(std::move(subject));
  s.predicate_type = std::string(predicate_type);
  s.predicate_json = std::move(predicate_json);
  return s;
}

namespace {

// "name@sha256:hex, …" for a message: the first few subjects, each cut short.
std::string list_subjects(const Statement& statement) {
  constexpr std::size_t kShown = 5;
  std::string out;
  for (std::size_t i = 0; i < statement.subjects.size() && i < kShown; ++i) {
    const auto& s = statement.subjects[i];
    if (!out.empty()) out += ", ";
    out += s.name.empty() ? std::string("(no name)") : excerpt(s.name, 100);
    for (const auto& [alg, hex] : s.digest) out += "@" + excerpt(alg, 20) + ":" + excerpt(hex, 128);
  }
  if (statement.subjects.size() > kShown) {
    out += " and " + std::to_string(statement.subjects.size() - kShown) + " more";
  }
  return out.empty() ? std::string("none") : out;
}

}  // namespace

void check_image_statement(const Statement& statement, const Digest& image, std::string_view what) {
  if (!statement.has_subject(image)) {
    throw InputError(std::string(what) + ": no subject names " + image.str() +
                     "; subjects: " + list_subjects(statement));
  }
  check_predicate(statement.predicate_type, as_bytes(statement.predicate_json),
                  std::string(what) + ": predicate");
}

std::string_view to_string(AttestFormat format) {
  return format == AttestFormat::kBundle ? "bundle" : "cosign";
}

void AttestOptions::validate() const {
  if (replace && format == AttestFormat::kBundle) {
    throw UsageError(
        "--replace works with --format cosign only: a bundle referrer cannot be taken back out "
        "of a registry's referrers listing safely");
  }
  if (what.empty()) throw UsageError("attestation options: `what` names the statement; empty");
}

namespace {

// The predicateType of the statement inside an .att layer's envelope, as cosign's replace op
// reads it (envelope JSON → base64 payload → statement JSON), or nullopt when it cannot be read.
// Unverified: it only decides what --replace drops, never what is trusted.
std::optional<std::string> envelope_predicate_type(ByteView blob, const std::string& what) {
  try {
    auto envelope = detail::parse_json(blob, what, kMaxDsseEnvelopeBytes);
    auto payload = base64_decode(detail::require_string(envelope, "payload", what), what);
    auto statement = detail::parse_json(payload, what + " payload", kMaxStatementBytes);
    return detail::require_string(statement, "predicateType", what + " payload");
  } catch (const Error&) {
    return std::nullopt;  // kept: a layer whose type cannot be read is not ours to drop
  }
}

// Which layers of the .att manifest hold a statement of `predicate_type`, by layer digest: each
// layer read once, those there now several at a time (ImageSource::fetch_blobs), one that a
// concurrent writer added later when the merge loop first offers it. A layer too large to be an
// envelope, or unreadable, is kept.
class SameTypeLayers {
 public:
  SameTypeLayers(oci::ImageStore& store, std::string predicate_type)
      : store_(store), type_(std::move(predicate_type)) {}

  void prefetch(const std::string& tag) {
    auto desc = store_.find_tag(tag);
    if (!desc) return;
    std::vector<oci::Descriptor> unread;
    for (auto& l : oci::Manifest::parse(store_.fetch_manifest(*desc), what(tag)).layers) {
      if (l.size > kMaxDsseEnvelopeBytes) {
        known_[l.digest] = false;
      } else if (known_.emplace(l.digest, false).second) {
        unread.push_back(std::move(l));
      }
    }
    try {
      store_.fetch_blobs(unread, kMaxDsseEnvelopeBytes, [&](std::size_t i, Bytes blob) {
        known_[unread[i].digest] = envelope_predicate_type(blob, layer_what(unread[i])) == type_;
      });
    } catch (const Error&) {
      for (const auto& l : unread) known_.erase(l.digest);  // read one at a time when offered
    }
  }

  bool operator()(const oci::Descriptor& layer) {
    auto it = known_.find(layer.digest);
    if (it != known_.end()) return it->second;
    bool same = false;
    if (layer.size <= kMaxDsseEnvelopeBytes) {
      try {
        same = envelope_predicate_type(store_.fetch_blob(layer, kMaxDsseEnvelopeBytes),
                                       layer_what(layer)) == type_;
      } catch (const Error&) {
        same = false;  // unreadable: kept
      }
    }
    return known_.emplace(layer.digest, same).first->second;
  }

 private:
  std::string what(const std::string& tag) const {
    return store_.describe() + ": attestation manifest " + tag;
  }
  std::string layer_what(const oci::Descriptor& l) const {
    return store_.describe() + ": attestation layer " + l.digest.str();
  }
  oci::ImageStore& store_;
  std::string type_;
  std::map<Digest, bool> known_;
};

Attested attest_cosign(oci::ImageStore& store, const oci::Descriptor& image,
                       const DsseEnvelope& envelope, const Statement& statement, bool replace) {
  const auto json = envelope.to_json();
  const CosignLayer layer{
      .media_type = std::string(media_type::kDsseEnvelope),
      .blob = as_bytes(json),
      .annotations = {{std::string(kSignatureAnnotation), ""},
                      {std::string(kPredicateTypeAnnotation), statement.predicate_type}}};
  const auto tag = attestation_tag(image.digest);
  SameTypeLayers same_type(store, statement.predicate_type);
  DropLayer drop;
  if (replace) {
    same_type.prefetch(tag);
    drop = [&same_type](const oci::Descriptor& l) { return same_type(l); };
  }
  const auto done = append_cosign_layer(store, tag, layer, "attestation", drop);
  return {.image = image.digest,
          .format = AttestFormat::kCosign,
          .predicate_type = statement.predicate_type,
          .tag = tag,
          .referrer = std::nullopt,
          .blob = Digest::of(as_bytes(json)),
          .appended = done.appended,
          .replaced = done.dropped};
}

Attested attest_bundle(oci::ImageStore& store, const oci::Descriptor& image, DsseEnvelope envelope,
                       const PrivateKey& key, const Statement& statement,
                       const std::string& created) {
  const auto bundle = Bundle::for_dsse(std::move(envelope), key.public_key());
  const auto bundle_digest = Digest::of(as_bytes(bundle.to_json()));
  // An identical referrer (same bundle, same creation time) already listed is not listed twice.
  const auto before = store.referrers(image.digest, media_type::kSigstoreBundleV03);
  auto desc = attach_bundle(store, image, bundle, statement.predicate_type, created);
  const bool appended = std::none_of(before.begin(), before.end(), [&](const oci::Descriptor& d) {
    return d.digest == desc.digest;
  });
  return {.image = image.digest,
          .format = AttestFormat::kBundle,
          .predicate_type = statement.predicate_type,
          .tag = {},
          .referrer = std::move(desc),
          .blob = bundle_digest,
          .appended = appended,
          .replaced = 0};
}

}  // namespace

Attested attest_image(oci::ImageStore& store, const oci::Descriptor& image, const PrivateKey& key,
                      const Statement& statement, const AttestOptions& options) {
  options.validate();
  check_image_statement(statement, image.digest, options.what);
  const auto payload = statement.serialize();
  auto envelope = DsseEnvelope::sign(media_type::kInTotoPayload, as_bytes(payload), key);
  if (options.format == AttestFormat::kBundle) {
    return attest_bundle(store, image, std::move(envelope), key, statement, options.created);
  }
  return attest_cosign(store, image, envelope, statement, options.replace);
}

}  // namespace trust::sig
