#include "libtrust/sig/referrers.h"

#include <algorithm>

#include "libtrust/core/error.h"
#include "libtrust/core/limits.h"
#include "libtrust/core/media_type.h"
#include "libtrust/core/text.h"
#include "libtrust/sig/attest.h"
#include "libtrust/sig/dsse.h"
#include "libtrust/sig/intoto.h"
#include "sig/limit_reason.h"

namespace trust::sig {
namespace {

oci::Descriptor empty_config() {
  oci::Descriptor d;
  d.media_type = std::string(media_type::kOciEmpty);
  d.digest = Digest::parse(kEmptyJsonDigest);
  d.size = kEmptyJsonBlob.size();
  return d;
}

// The subject as the referrer records it: media type, digest, size (no annotations, platform).
oci::Descriptor subject_descriptor(const oci::Descriptor& image) {
  oci::Descriptor d;
  d.media_type = image.media_type;
  d.digest = image.digest;
  d.size = image.size;
  return d;
}

}  // namespace

std::string BundleReferrer::origin() const {
  return "referrer manifest " + manifest.digest.str();
}

SignedEntity to_entity(BundleReferrer r) {
  std::optional<Digest> layer;
  if (r.layer) layer = r.layer->digest;
  auto e = (r.problem || !r.bundle)
               ? problem_entity(EntityKind::kBundle, r.index, r.origin(), std::move(layer),
                                r.manifest.digest, r.problem.value_or("no bundle"))
               : bundle_entity(r.index, r.origin(), r.manifest.digest, std::move(layer),
                               std::move(*r.bundle));
  // The listing's annotation: a claim of whoever pushed the referrer, shown only.
  if (auto pt = r.manifest.annotations.find(std::string(kAnnotationBundlePredicateType));
      pt != r.manifest.annotations.end()) {
    e.claimed_predicate_type = pt->second;
  }
  return e;
}

oci::Descriptor attach_bundle(oci::ImageStore& store, const oci::Descriptor& subject,
                              const Bundle& bundle, std::string_view predicate_type,
                              std::string_view created) {
  const auto json = bundle.to_json();
  const auto bundle_digest = Digest::of(as_bytes(json));
  store.put_blob(as_bytes(json), bundle_digest);
  const auto config = empty_config();
  store.put_blob(as_bytes(kEmptyJsonBlob), config.digest);

  oci::Descriptor layer;
  layer.media_type = std::string(media_type::kSigstoreBundleV03);
  layer.digest = bundle_digest;
  layer.size = json.size();
  layer.annotations[std::string(kAnnotationTitle)] =
      std::string(to_string(bundle_digest.algorithm())) + "-" + bundle_digest.hex() +
      ".sigstore.json";

  oci::Manifest m;
  m.schema_version = 2;
  m.media_type = std::string(media_type::kOciManifest);
  m.artifact_type = std::string(media_type::kSigstoreBundleV03);
  m.config = config;
  m.layers.push_back(std::move(layer));
  m.subject = subject_descriptor(subject);
  m.annotations[std::string(kAnnotationBundleContent)] = std::string(to_string(bundle.content()));
  if (!predicate_type.empty()) {
    m.annotations[std::string(kAnnotationBundlePredicateType)] = std::string(predicate_type);
  }
  m.annotations[std::string(kAnnotationCreated)] =
      created.empty() ? rfc3339_now() : std::string(created);
  const auto manifest_json = m.to_json();
  auto desc = store.put_manifest(as_bytes(manifest_json), media_type::kOciManifest);
  desc.artifact_type = m.artifact_type;
  desc.annotations = m.annotations;
  store.add_referrer(desc, subject);
  return desc;
}

namespace {

// One listed referrer's manifest judged for shape: `problem` set where it cannot be a valid
// signature bundle, else `layer` is the bundle to fetch.
void judge_referrer_manifest(BundleReferrer& r, ByteView bytes, const Digest& image,
                             const std::string& what) {
  oci::Manifest m;
  try {
    m = oci::Manifest::parse(bytes, what);
  } catch (const Error& e) {
    r.problem = std::string("referrer manifest is malformed: ") + e.what();
    return;
  }
  if (!m.subject || m.subject->digest != image) {
    r.problem = m.subject ? "referrer manifest's subject is " + m.subject->digest.str() + ", not " +
                                image.str()
                          : std::string("referrer manifest has no subject");
  } else if (m.artifact_type.value_or("") != media_type::kSigstoreBundleV03) {
    r.problem = "referrer manifest's artifactType is '" +
                excerpt(m.artifact_type.value_or(""), 100) + "', not " +
                std::string(media_type::kSigstoreBundleV03);
  } else if (m.layers.size() != 1) {
    r.problem = "referrer manifest has " + std::to_string(m.layers.size()) +
                " layers, a bundle referrer has exactly one";
  } else if (m.layers[0].media_type != media_type::kSigstoreBundleV03) {
    r.problem = "bundle layer media type is '" + excerpt(m.layers[0].media_type, 100) + "', not " +
                std::string(media_type::kSigstoreBundleV03);
  } else {
    r.layer = std::move(m.layers[0]);
    // Never read: a bundle this large could not hold a valid signature.
    r.problem =
        over_limit(r.layer->size, limits::kMaxSignatureBundleBytes, "signature bundle", "bytes");
  }
}

}  // namespace

std::size_t visit_bundle_referrers(oci::ImageSource& source, const Digest& image,
                                   const std::function<void(BundleReferrer)>& on_referrer) {
  auto listed = source.referrers(image, media_type::kSigstoreBundleV03);
  // The referrer manifests, several fetched at a time where the source allows it (each by
  // digest and checked against it: a registry serving other bytes is an error), judged for shape
  // as they arrive. Then the bundles of those that passed, each parsed as it arrives.
  std::vector<BundleReferrer> pending;  // by position in `manifests`, then in `bundles`
  std::vector<oci::Descriptor> manifests;
  for (std::size_t i = 0; i < listed.size(); ++i) {
    BundleReferrer r;
    r.index = i;
    r.manifest = std::move(listed[i]);
    if (r.manifest.media_type != media_type::kOciManifest) {
      r.problem = "referrer media type is '" + excerpt(r.manifest.media_type, 100) + "', not " +
                  std::string(media_type::kOciManifest);
    } else {
      // Never fetched: a bundle referrer this large is not one cosign or sigil writes.
      r.problem = over_limit(r.manifest.size, limits::kMaxBundleReferrerManifestBytes,
                             "bundle referrer manifest", "bytes");
    }
    if (r.problem) {
      on_referrer(std::move(r));
      continue;
    }
    manifests.push_back(r.manifest);
    pending.push_back(std::move(r));
  }
  std::vector<BundleReferrer> with_bundle;
  std::vector<oci::Descriptor> bundles;
  source.fetch_manifests(manifests, [&](std::size_t k, Bytes bytes) {
    auto r = std::move(pending[k]);
    judge_referrer_manifest(r, bytes, image, source.describe() + ": " + r.origin());
    if (r.problem) {
      on_referrer(std::move(r));
      return;
    }
    bundles.push_back(*r.layer);
    with_bundle.push_back(std::move(r));
  });
  source.fetch_blobs(bundles, limits::kMaxSignatureBundleBytes, [&](std::size_t k, Bytes blob) {
    auto r = std::move(with_bundle[k]);
    try {
      r.bundle = Bundle::parse(
          blob, source.describe() + ": " + r.origin() + " bundle " + r.layer->digest.str());
    } catch (const Error& e) {
      r.problem = std::string("bundle is malformed: ") + e.what();
    }
    blob = {};
    on_referrer(std::move(r));
  });
  return listed.size();
}

std::vector<BundleReferrer> read_bundle_referrers(oci::ImageSource& source, const Digest& image) {
  std::vector<BundleReferrer> out;
  visit_bundle_referrers(source, image, [&](BundleReferrer r) { out.push_back(std::move(r)); });
  std::sort(out.begin(), out.end(),
            [](const BundleReferrer& a, const BundleReferrer& b) { return a.index < b.index; });
  return out;
}

namespace {

BundleSigned sign_one_bundle(oci::ImageStore& store, const oci::Descriptor& image,
                             const PrivateKey& key, const SignOptions& options) {
  const auto statement = cosign_sign_statement(image.digest, options.annotations).serialize();
  auto envelope = DsseEnvelope::sign(media_type::kInTotoPayload, as_bytes(statement), key);
  const auto bundle = Bundle::for_dsse(std::move(envelope), key.public_key());
  const auto bundle_digest = Digest::of(as_bytes(bundle.to_json()));
  // Referrers already listed before this one: an identical manifest (same bundle, same second)
  // is not listed twice.
  const auto before = store.referrers(image.digest, media_type::kSigstoreBundleV03);
  auto desc = attach_bundle(store, image, bundle, kCosignSignPredicateType);
  const bool appended = std::none_of(before.begin(), before.end(), [&](const oci::Descriptor& d) {
    return d.digest == desc.digest;
  });
  return {.image = image.digest, .referrer = desc, .bundle = bundle_digest, .appended = appended};
}

}  // namespace

std::vector<BundleSigned> sign_image_bundle(oci::ImageStore& store, const oci::Descriptor& image,
                                            const PrivateKey& key, const SignOptions& options) {
  options.validate();
  std::vector<BundleSigned> out;
  for (const auto& target : signing_targets(store, image, options.recursive)) {
    out.push_back(sign_one_bundle(store, target, key, options));
  }
  return out;
}

}  // namespace trust::sig
