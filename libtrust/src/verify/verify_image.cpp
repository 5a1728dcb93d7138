#include "libtrust/verify/verify_image.h"

#include "libtrust/oci/inspect.h"
#include "libtrust/sig/cosign_layout.h"
#include "libtrust/sig/referrers.h"

namespace trust::verify {

ImageVerification verify_image(oci::ImageSource& source, const Reference& ref,
                               const Verifier& verifier, const Policy& policy,
                               const ImageVerifyOptions& options) {
  policy.validate();
  // The reference is resolved exactly once; everything below works on this digest.
  auto image = source.resolve(ref);
  if (options.check_blobs) {
    oci::InspectOptions inspect{.threads = 0, .compute_diff_ids = false, .recurse_index = true};
    (void)oci::inspect_image(source, image, inspect);
  } else {
    (void)source.fetch_manifest(image);
  }
  auto found = sig::read_cosign_signatures(source, image.digest);
  const std::vector<sig::CosignSignature> none;
  ImageVerification out{
      .image = image,
      .signatures_found = found.has_value(),
      .result = verifier.verify(image.digest, found ? found->signatures : none, policy)};
  if (out.result.verified() && !options.examine_all) return out;
  // The referrers are consulted only now: a node verifying cosign-signed images makes three
  // requests (manifest, .sig manifest, payload), not five (referrers API, fallback tag).
  auto bundles = sig::read_bundle_referrers(source, image.digest);
  out.referrers_checked = true;
  out.bundle_referrers = bundles.size();
  auto judged = verifier.verify(image.digest, none, bundles, policy);
  for (auto& v : judged.signatures) out.result.signatures.push_back(std::move(v));
  return out;
}

}  // namespace trust::verify
