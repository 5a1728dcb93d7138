#include "libtrust/sig/cosign_layout.h"

#include <algorithm>

#include "core/json_util.h"
#include "libtrust/core/encoding.h"
#include "libtrust/core/error.h"
#include "libtrust/core/limits.h"
#include "libtrust/core/media_type.h"
#include "libtrust/core/retry.h"
#include "libtrust/core/text.h"
#include "libtrust/sig/attachments.h"
#include "sig/limit_reason.h"

namespace trust::sig {

std::string signature_tag(const Digest& image) {
  return attachment_tag(image, AttachmentKind::kSignatures);
}

namespace {

// The config blob of a signature manifest, as containers/image writes it: the payloads are the
// (uncompressed) layers, so their digests are the diff_ids.
std::string signature_config(const std::vector<oci::Descriptor>& layers) {
  detail::OrderedJson j;
  j["architecture"] = "";
  j["os"] = "";
  j["config"] = detail::OrderedJson::object();
  j["rootfs"]["type"] = "layers";
  j["rootfs"]["diff_ids"] = detail::OrderedJson::array();
  for (const auto& l : layers) j["rootfs"]["diff_ids"].push_back(l.digest.str());
  return detail::dump_compact(j);
}

}  // namespace

namespace {

// The manifest under a cosign attachment tag (.sig, .att) of `image`, parsed, its layers capped
// at limits::kMaxSignaturesPerImage before any blob is read; nullopt when the tag is absent. The
// one reader both visitors go through.
struct AttachmentManifest {
  oci::Descriptor descriptor;
  oci::Manifest manifest;
};
std::optional<AttachmentManifest> read_attachment_manifest(oci::ImageSource& source,
                                                           const std::string& tag,
                                                           std::string_view noun,
                                                           std::string_view layers_noun) {
  auto desc = source.find_tag(tag);
  if (!desc) return std::nullopt;
  const std::string what = source.describe() + ": " + std::string(noun) + " manifest " + tag;
  if (desc->media_type != media_type::kOciManifest &&
      desc->media_type != media_type::kDockerManifest) {
    throw UnsupportedError(what + ": unexpected media type '" + excerpt(desc->media_type, 100) +
                           "'");
  }
  auto manifest = oci::Manifest::parse(source.fetch_manifest(*desc), what);
  limits::check(manifest.layers.size(), limits::kMaxSignaturesPerImage, what, layers_noun);
  return AttachmentManifest{.descriptor = *desc, .manifest = std::move(manifest)};
}

}  // namespace

std::optional<oci::Descriptor> visit_cosign_signatures(
    oci::ImageSource& source, const Digest& image,
    const std::function<void(CosignSignature)>& on_signature) {
  auto read =
      read_attachment_manifest(source, signature_tag(image), "signature", "signature layers");
  if (!read) return std::nullopt;
  auto& manifest = read->manifest;
  // Layers that cannot be a signature are judged now; the others' payloads are fetched below.
  std::vector<CosignSignature> pending;
  std::vector<oci::Descriptor> payloads;
  for (std::size_t i = 0; i < manifest.layers.size(); ++i) {
    auto& layer = manifest.layers[i];
    CosignSignature s{.index = i, .layer = {}, .payload = {}, .signature = {}, .problem = {}};
    auto ann = layer.annotations.find(std::string(kSignatureAnnotation));
    if (layer.media_type != media_type::kCosignSimpleSigning) {
      s.problem = "layer media type is '" + excerpt(layer.media_type, 100) + "', not " +
                  std::string(media_type::kCosignSimpleSigning);
    } else if (ann == layer.annotations.end()) {
      s.problem = "layer has no " + std::string(kSignatureAnnotation) + " annotation";
    } else if (auto over = over_limit(layer.size, limits::kMaxSignaturePayloadBytes,
                                      "signature payload", "bytes")) {
      s.problem = *over;  // never read: a payload this large could not be valid
    } else {
      try {
        s.signature = base64_decode(ann->second, "signature annotation");
      } catch (const InputError& e) {
        s.problem = e.what();
      }
      if (!s.problem && s.signature.empty()) s.problem = "signature annotation is empty";
    }
    s.layer = std::move(layer);
    if (s.problem) {
      on_signature(std::move(s));
      continue;
    }
    payloads.push_back(s.layer);
    pending.push_back(std::move(s));
  }
  // The payloads, several at a time where the source allows it (a registry then answers the 100
  // allowed in a fraction of the time one request after another takes), each judged as it
  // arrives and dropped.
  source.fetch_blobs(payloads, limits::kMaxSignaturePayloadBytes,
                     [&](std::size_t k, Bytes payload) {
                       auto s = std::move(pending[k]);
                       s.payload = std::move(payload);
                       on_signature(std::move(s));
                     });
  return read->descriptor;
}

std::string attestation_tag(const Digest& image) {
  return attachment_tag(image, AttachmentKind::kAttestations);
}

std::optional<oci::Descriptor> visit_cosign_attestations(
    oci::ImageSource& source, const Digest& image,
    const std::function<void(CosignAttestation)>& on_attestation) {
  auto read =
      read_attachment_manifest(source, attestation_tag(image), "attestation", "attestation layers");
  if (!read) return std::nullopt;
  std::vector<CosignAttestation> pending;
  std::vector<oci::Descriptor> envelopes;
  for (std::size_t i = 0; i < read->manifest.layers.size(); ++i) {
    auto& layer = read->manifest.layers[i];
    CosignAttestation a{
        .index = i, .layer = {}, .envelope = {}, .claimed_predicate_type = {}, .problem = {}};
    if (auto ann = layer.annotations.find(std::string(kPredicateTypeAnnotation));
        ann != layer.annotations.end()) {
      a.claimed_predicate_type = ann->second;
    }
    if (layer.media_type != media_type::kDsseEnvelope) {
      a.problem = "layer media type is '" + excerpt(layer.media_type, 100) + "', not " +
                  std::string(media_type::kDsseEnvelope);
    } else if (auto over =
                   over_limit(layer.size, kMaxDsseEnvelopeBytes, "DSSE envelope", "bytes")) {
      a.problem = *over;  // never read: an envelope this large is refused by the parser anyway
    }
    a.layer = std::move(layer);
    if (a.problem) {
      on_attestation(std::move(a));
      continue;
    }
    envelopes.push_back(a.layer);
    pending.push_back(std::move(a));
  }
  source.fetch_blobs(envelopes, kMaxDsseEnvelopeBytes, [&](std::size_t k, Bytes envelope) {
    auto a = std::move(pending[k]);
    a.envelope = std::move(envelope);
    on_attestation(std::move(a));
  });
  return read->descriptor;
}

std::string cosign_attestation_origin(std::size_t index) {
  return "cosign .att layer " + std::to_string(index);
}

SignedEntity to_entity(CosignAttestation a) {
  auto e = a.problem ? problem_entity(EntityKind::kDsseAttestation, a.index,
                                      cosign_attestation_origin(a.index), a.layer.digest,
                                      std::nullopt, std::move(*a.problem))
                     : dsse_attestation_entity(a.index, cosign_attestation_origin(a.index),
                                               a.layer.digest, a.envelope);
  e.claimed_predicate_type = std::move(a.claimed_predicate_type);
  return e;
}

SignedEntity to_entity(CosignSignature s) {
  if (s.problem) {
    return problem_entity(EntityKind::kCosignSignature, s.index, cosign_signature_origin(s.index),
                          s.layer.digest, std::nullopt, std::move(*s.problem));
  }
  return cosign_signature_entity(s.index, s.layer.digest, std::move(s.payload),
                                 std::move(s.signature));
}

std::optional<SignatureManifest> read_cosign_signatures(oci::ImageSource& source,
                                                        const Digest& image) {
  std::vector<CosignSignature> signatures;
  auto desc = visit_cosign_signatures(
      source, image, [&](CosignSignature s) { signatures.push_back(std::move(s)); });
  if (!desc) return std::nullopt;
  std::sort(signatures.begin(), signatures.end(),
            [](const CosignSignature& a, const CosignSignature& b) { return a.index < b.index; });
  return SignatureManifest{.descriptor = *desc, .signatures = std::move(signatures)};
}

namespace {

// The layers of the current attachment manifest under `tag` (empty when there is none).
std::vector<oci::Descriptor> current_layers(oci::ImageStore& store, const std::string& tag,
                                            const std::string& what) {
  auto existing = store.find_tag(tag);
  if (!existing) return {};
  auto bytes = store.fetch_manifest(*existing);
  return oci::Manifest::parse(bytes, what).layers;
}

bool same_layer(const oci::Descriptor& l, const oci::Descriptor& wanted) {
  return l.media_type == wanted.media_type && l.digest == wanted.digest &&
         l.annotations == wanted.annotations;
}

bool has_layer(const std::vector<oci::Descriptor>& layers, const oci::Descriptor& wanted) {
  return std::any_of(layers.begin(), layers.end(),
                     [&](const oci::Descriptor& l) { return same_layer(l, wanted); });
}

}  // namespace

CosignAppend append_cosign_layer(oci::ImageStore& store, const std::string& tag,
                                 const CosignLayer& layer, std::string_view kind,
                                 const DropLayer& drop) {
  const std::string what = store.describe() + ": " + std::string(kind) + " manifest " + tag;
  const std::string noun = std::string(kind) + " layers";
  oci::Descriptor wanted;
  wanted.media_type = layer.media_type;
  wanted.digest = Digest::of(layer.blob);
  wanted.size = layer.blob.size();
  wanted.annotations = layer.annotations;
  // The layers `drop` removes, other than ours (the new layer is never offered to it).
  const auto dropped_by = [&](const oci::Descriptor& l) {
    return drop && !same_layer(l, wanted) && drop(l);
  };
  CosignAppend out{.appended = false, .dropped = 0, .layers = 0};
  bool blob_stored = false;

  // Read, merge, write, re-read, and read again once the other writers had time to write: a
  // writer that finds its layer gone (another writer's manifest replaced ours), or a dropped
  // layer back, merges again.
  merge_until_stable(
      what,
      [&]() -> MergeStep {
        auto layers = current_layers(store, tag, what);
        const bool present = has_layer(layers, wanted);
        const auto to_drop =
            static_cast<std::size_t>(std::count_if(layers.begin(), layers.end(), dropped_by));
        if (present && to_drop == 0) {
          out.layers = layers.size();
          return MergeStep::kDone;
        }
        std::erase_if(layers, dropped_by);
        if (!present) {
          limits::check(layers.size() + 1, limits::kMaxSignaturesPerImage, what + " with this one",
                        noun);
          if (!blob_stored) {
            store.put_blob(layer.blob, wanted.digest);
            blob_stored = true;
          }
          layers.push_back(wanted);
        }

        auto config = signature_config(layers);
        oci::Manifest m;
        m.schema_version = 2;
        m.media_type = std::string(media_type::kOciManifest);
        m.config.media_type = std::string(media_type::kOciConfig);
        m.config.digest = Digest::of(as_bytes(config));
        m.config.size = config.size();
        m.layers = std::move(layers);
        store.put_blob(as_bytes(config), m.config.digest);
        auto json = m.to_json();
        store.set_tag(tag, store.put_manifest(as_bytes(json), media_type::kOciManifest));
        if (!present) out.appended = true;
        out.dropped = to_drop;
        out.layers = m.layers.size();
        const auto now = current_layers(store, tag, what);
        const bool held =
            has_layer(now, wanted) && std::none_of(now.begin(), now.end(), dropped_by);
        return held ? MergeStep::kWritten : MergeStep::kRetry;
      },
      store.merge_settle_time(), [&store](std::chrono::milliseconds d) { store.wait_to_merge(d); });
  return out;
}

bool append_cosign_signature(oci::ImageStore& store, const Digest& image, ByteView payload,
                             ByteView signature) {
  const CosignLayer layer{
      .media_type = std::string(media_type::kCosignSimpleSigning),
      .blob = payload,
      .annotations = {{std::string(kSignatureAnnotation), base64_encode(signature)}}};
  return append_cosign_layer(store, signature_tag(image), layer, "signature").appended;
}

}  // namespace trust::sig
