#pragma once
// Attestations written directly into a store as cosign lays them out (the .att tag, one DSSE
// envelope per layer, annotation predicateType) or as bundle referrers, for the verification
// tests (they need not wait for `sigil attest`).

#include <optional>
#include <string>
#include <vector>

#include "libtrust/core/digest.h"
#include "libtrust/core/encoding.h"
#include "libtrust/core/media_type.h"
#include "libtrust/oci/image_source.h"
#include "libtrust/oci/manifest.h"
#include "libtrust/sig/bundle.h"
#include "libtrust/sig/cosign_layout.h"
#include "libtrust/sig/dsse.h"
#include "libtrust/sig/intoto.h"
#include "libtrust/sig/referrers.h"

namespace trust::test {

struct AttLayer {
  std::string blob;                           // the envelope JSON (or anything)
  std::optional<std::string> predicate_type;  // the annotation, absent when nullopt
  std::string media_type = std::string(media_type::kDsseEnvelope);
  std::optional<std::uint64_t> claimed_size = {};  // a descriptor size without the blob stored
};

// A statement about `image` of `type` with `predicate` (JSON text).
inline sig::Statement statement_for(const Digest& image, const std::string& type,
                                    const std::string& predicate = "{}") {
  sig::Statement st;
  st.subjects.push_back({.name = "img",
                         .digest = {{"sha256", image.hex()}},
                         .annotations = {},
                         .non_string_annotations = {}});
  st.predicate_type = type;
  st.predicate_json = predicate;
  return st;
}

// The envelope JSON signing `payload` as `payload_type` with `key`.
inline std::string envelope_json(const std::string& payload, const PrivateKey& key,
                                 std::string_view payload_type = media_type::kInTotoPayload) {
  return sig::DsseEnvelope::sign(payload_type, as_bytes(payload), key).to_json();
}

inline AttLayer att_layer(const sig::Statement& st, const PrivateKey& key,
                          std::optional<std::string> annotation = std::nullopt) {
  return AttLayer{.blob = envelope_json(st.serialize(), key),
                  .predicate_type = annotation ? annotation : st.predicate_type,
                  .media_type = std::string(media_type::kDsseEnvelope),
                  .claimed_size = std::nullopt};
}

// Writes the .att manifest of `image` holding `layers` and moves the tag.
inline oci::Descriptor put_attestations(oci::ImageStore& store, const Digest& image,
                                        const std::vector<AttLayer>& layers) {
  oci::Manifest m;
  m.schema_version = 2;
  m.media_type = std::string(media_type::kOciManifest);
  const std::string config = "{}";
  m.config.media_type = std::string(media_type::kOciConfig);
  m.config.digest = Digest::of(as_bytes(config));
  m.config.size = config.size();
  store.put_blob(as_bytes(config), m.config.digest);
  for (const auto& l : layers) {
    oci::Descriptor d;
    d.media_type = l.media_type;
    d.digest = Digest::of(as_bytes(l.blob));
    d.size = l.claimed_size.value_or(l.blob.size());
    if (l.predicate_type) d.annotations["predicateType"] = *l.predicate_type;
    if (!l.claimed_size) store.put_blob(as_bytes(l.blob), d.digest);
    m.layers.push_back(std::move(d));
  }
  auto json = m.to_json();
  auto desc = store.put_manifest(as_bytes(json), media_type::kOciManifest);
  store.set_tag(sig::attestation_tag(image), desc);
  return desc;
}

// Attaches `st` signed by `key` as a bundle referrer of `subject` (as cosign 3 attests).
inline oci::Descriptor put_bundle_attestation(oci::ImageStore& store,
                                              const oci::Descriptor& subject,
                                              const sig::Statement& st, const PrivateKey& key) {
  auto text = st.serialize();
  auto bundle = sig::Bundle::for_dsse(
      sig::DsseEnvelope::sign(media_type::kInTotoPayload, as_bytes(text), key), key.public_key());
  return sig::attach_bundle(store, subject, bundle, st.predicate_type);
}

}  // namespace trust::test
