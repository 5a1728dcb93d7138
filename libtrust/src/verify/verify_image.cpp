#include "libtrust/verify/verify_image.h"

#include <algorithm>

#include "libtrust/oci/inspect.h"
#include "libtrust/sig/cosign_layout.h"
#include "libtrust/sig/referrers.h"

namespace trust::verify {
namespace {

void sort_by_index(std::vector<SignatureVerdict>::iterator from,
                   std::vector<SignatureVerdict>::iterator to) {
  std::sort(from, to,
            [](const SignatureVerdict& a, const SignatureVerdict& b) { return a.index < b.index; });
}

}  // namespace

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
  ImageVerification out{.image = image, .result = {.image = image.digest, .signatures = {}}};
  auto& verdicts = out.result.signatures;
  // Each signature is judged as its payload arrives and only the verdict is kept: the bytes held
  // stay bounded whatever the image attaches (the calls come on this thread).
  out.signatures_found =
      sig::visit_cosign_signatures(source, image.digest, [&](sig::CosignSignature s) {
        verdicts.push_back(verifier.judge(image.digest, s, policy));
      }).has_value();
  sort_by_index(verdicts.begin(), verdicts.end());
  if (out.result.verified() && !options.examine_all) return out;
  // The referrers are consulted only now: a node verifying cosign-signed images makes three
  // requests (manifest, .sig manifest, payload), not five (referrers API, fallback tag).
  const auto first_bundle = static_cast<std::ptrdiff_t>(verdicts.size());
  out.bundle_referrers = sig::visit_bundle_referrers(
      source, image.digest,
      [&](sig::BundleReferrer b) { verdicts.push_back(verifier.judge(image.digest, b, policy)); });
  out.referrers_checked = true;
  sort_by_index(verdicts.begin() + first_bundle, verdicts.end());
  return out;
}

}  // namespace trust::verify
