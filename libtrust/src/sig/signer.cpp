#include "libtrust/sig/signer.h"

#include "libtrust/core/error.h"
#include "libtrust/core/limits.h"
#include "libtrust/sig/cosign_layout.h"
#include "libtrust/sig/simple_signing.h"
#include "oci/walk.h"

namespace trust::sig {

void SignOptions::validate() const {
  if (docker_reference.empty()) throw UsageError("signing needs an identity (docker-reference)");
  if (annotations.size() > limits::kMaxAnnotations) {
    throw UsageError("more than " + std::to_string(limits::kMaxAnnotations) + " annotations");
  }
  for (const auto& [k, v] : annotations) {
    if (k.empty()) throw UsageError("annotation with an empty key");
  }
}

namespace {

SignedManifest sign_one(oci::ImageStore& store, const Digest& digest, const PrivateKey& key,
                        const SignOptions& options) {
  SimpleSigningPayload payload;
  payload.docker_reference = options.docker_reference;
  payload.manifest_digest = digest;
  payload.optional = options.annotations;
  const auto bytes = payload.serialize();
  const auto signature = key.sign(as_bytes(bytes));
  bool appended = append_cosign_signature(store, digest, as_bytes(bytes), signature);
  return {.digest = digest, .signature_tag = signature_tag(digest), .appended = appended};
}

}  // namespace

std::vector<oci::Descriptor> signing_targets(oci::ImageSource& source, const oci::Descriptor& image,
                                             bool recursive) {
  // One bounded walk: each manifest fetched (and checked against its digest) once, and a
  // manifest the index lists more than once signed once.
  oci::detail::ImageWalk walk(source, image);
  auto root = walk.enter(image, 0);
  std::vector<oci::Descriptor> out{image};
  if (!recursive || root->kind != oci::ManifestKind::kIndex) return out;
  for (const auto& child : root->index->manifests) {
    if (!oci::is_manifest_media_type(child.media_type)) continue;  // nested indexes, artifacts
    if (walk.enter(child, 1)) out.push_back(child);
  }
  return out;
}

std::vector<SignedManifest> sign_image(oci::ImageStore& store, const oci::Descriptor& image,
                                       const PrivateKey& key, const SignOptions& options) {
  options.validate();
  std::vector<SignedManifest> out;
  for (const auto& target : signing_targets(store, image, options.recursive)) {
    out.push_back(sign_one(store, target.digest, key, options));
  }
  return out;
}

}  // namespace trust::sig
