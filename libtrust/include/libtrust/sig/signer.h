#pragma once
// Signing an image cosign-style: build the simple-signing payload for the image digest, sign it
// with the private key (the key type decides the algorithm) and append it to the image's .sig
// attachment. With `recursive`, an index and each of its manifests are signed.

#include <map>
#include <string>
#include <vector>

#include "libtrust/core/digest.h"
#include "libtrust/crypto/keys.h"
#include "libtrust/export.h"
#include "libtrust/oci/image_source.h"

namespace trust::sig {

struct SignOptions {
  std::string docker_reference;                    // payload critical.identity.docker-reference
  std::map<std::string, std::string> annotations;  // payload "optional"
  bool recursive = false;                          // also sign each manifest of an index
  // Throws UsageError: empty identity, empty annotation key, more than limits::kMaxAnnotations.
  TRUST_API void validate() const;
};

struct SignedManifest {
  Digest digest;
  std::string signature_tag;
  bool appended = true;  // false: an identical signature was already attached
};

// What signing `image` covers: the image itself and, with `recursive` for an index, each image
// manifest it lists, once however often it is listed (nested indexes and artifacts are not
// descended into). Every one is fetched, and so checked against its digest, before the caller
// signs anything; the walk is bounded like every walk of an image (limits::kMaxManifestsPerImage).
TRUST_API std::vector<oci::Descriptor> signing_targets(oci::ImageSource& source,
                                                       const oci::Descriptor& image,
                                                       bool recursive);

TRUST_API std::vector<SignedManifest> sign_image(oci::ImageStore& store,
                                                 const oci::Descriptor& image,
                                                 const PrivateKey& key, const SignOptions& options);

}  // namespace trust::sig
