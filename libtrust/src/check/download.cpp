#include "libtrust/check/download.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "core/json_util.h"
#include "libtrust/core/error.h"
#include "libtrust/core/limits.h"
#include "libtrust/oci/manifest.h"
#include "libtrust/sig/attachments.h"
#include "libtrust/sig/collect.h"
#include "libtrust/sig/intoto.h"
#include "libtrust/sig/predicate_type.h"

namespace trust::check {
namespace {

using nlohmann::ordered_json;

std::string ascii(const ordered_json& j) {
  return j.dump(-1, ' ', /*ensure_ascii=*/true, ordered_json::error_handler_t::replace);
}

struct Unverified {
  std::size_t rank = 0;
  std::size_t index = 0;
  std::string origin;
  std::string envelope_json;
  std::optional<sig::Statement> statement;  // parsed WITHOUT any signature check
};

// Every stored envelope with its statement read as it is (unverified), in storage order.
std::vector<Unverified> read_unverified(oci::ImageSource& source, const Digest& image) {
  std::vector<Unverified> out;
  const sig::EntityKinds kinds{.cosign_signatures = false, .bundles = true, .attestations = true};
  (void)sig::collect_signed_entities(source, image, kinds, [&](sig::SignedEntity e) {
    const sig::DsseEnvelope* env = nullptr;
    if (const auto* d = std::get_if<sig::DsseAttestationContent>(&e.content)) env = &d->envelope;
    if (const auto* b = std::get_if<sig::BundleEntityContent>(&e.content)) {
      if (b->bundle.dsse_envelope()) env = &*b->bundle.dsse_envelope();
    }
    if (env == nullptr) return true;
    Unverified u{.rank = sig::collection_order(e.kind),
                 .index = e.index,
                 .origin = e.origin,
                 .envelope_json = ascii(ordered_json::parse(env->to_json())),
                 .statement = std::nullopt};
    try {
      u.statement = sig::Statement::parse(env->unverified_payload_unsafe(), e.origin);
    } catch (const Error&) {
      // not a statement: kept as an envelope without a type
    }
    if (e.kind == sig::EntityKind::kBundle &&
        (!u.statement || u.statement->predicate_type == sig::kCosignSignPredicateType)) {
      return true;  // an image signature, not an attestation
    }
    out.push_back(std::move(u));
    return true;
  });
  std::sort(out.begin(), out.end(), [](const Unverified& a, const Unverified& b) {
    return a.rank != b.rank ? a.rank < b.rank : a.index < b.index;
  });
  return out;
}

}  // namespace

std::vector<StoredDocument> stored_attestations(oci::ImageSource& source, const Digest& image,
                                                const std::optional<std::string>& predicate_type) {
  if (predicate_type) (void)sig::accepted_predicate_types(*predicate_type);  // UsageError
  std::vector<StoredDocument> out;
  for (auto& u : read_unverified(source, image)) {
    const std::string type = u.statement ? u.statement->predicate_type : std::string();
    if (predicate_type && !sig::predicate_type_matches(*predicate_type, type)) continue;
    out.push_back(StoredDocument{
        .origin = u.origin, .predicate_type = type, .json = std::move(u.envelope_json)});
  }
  return out;
}

std::vector<StoredDocument> stored_sboms(oci::ImageSource& source, const Digest& image) {
  std::vector<StoredDocument> out;
  for (auto& u : read_unverified(source, image)) {
    if (!u.statement) continue;
    const auto& type = u.statement->predicate_type;
    if (!sig::predicate_type_matches("spdxjson", type) &&
        !sig::predicate_type_matches("cyclonedx", type)) {
      continue;
    }
    out.push_back(StoredDocument{.origin = u.origin,
                                 .predicate_type = type,
                                 .json = ascii(ordered_json::parse(u.statement->predicate_json))});
  }
  const auto tag = sig::attachment_tag(image, sig::AttachmentKind::kSbom);
  auto desc = source.find_tag(tag);
  if (!desc) return out;
  const std::string what = source.describe() + ": sbom manifest " + tag;
  auto manifest = oci::Manifest::parse(source.fetch_manifest(*desc), what);
  limits::check(manifest.layers.size(), limits::kMaxLayersPerManifest, what, "layers");
  for (std::size_t i = 0; i < manifest.layers.size(); ++i) {
    const auto& layer = manifest.layers[i];
    const std::string origin = ".sbom layer " + std::to_string(i);
    limits::check(layer.size, limits::kMaxSbomLayerBytes, what + ": " + origin, "bytes");
    std::optional<Bytes> blob;
    source.fetch_blobs({layer}, limits::kMaxSbomLayerBytes,
                       [&](std::size_t, Bytes b) { blob = std::move(b); });
    if (!blob) continue;
    // Strict, with the JSON caps (duplicate keys and excess nesting refused), as every document.
    auto j = detail::parse_json(*blob, what + ": " + origin, limits::kMaxSbomLayerBytes);
    out.push_back(StoredDocument{
        .origin = origin, .predicate_type = "", .json = ascii(ordered_json::parse(j.dump()))});
  }
  return out;
}

}  // namespace trust::check
