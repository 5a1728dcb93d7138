// Attestations in a real registry (distribution 2.8): a .att manifest and a bundle referrer
// attestation written into the registry, read back and verified by verify_attestations, with
// the .att layers fetched through the registry's fetch_blobs.

#include <catch2/catch.hpp>

#include "../verify/att_test_util.h"
#include "libtrust/check/verify_attestations.h"
#include "libtrust/registry/registry_store.h"
#include "registry_it/registry_it_util.h"
#include "sig/sig_test_util.h"

namespace {

using namespace sigil::test;
using namespace sigil::test::it;
using trust::Reference;
namespace registry = trust::registry;

}  // namespace

TEST_CASE("registry-it: .att layers and a bundle attestation verify from a real registry",
          "[registry-it][attestation]") {
  SIGIL_SKIP_WITHOUT_REGISTRY(RegistryAuth::kNone);
  PlainRegistry f;
  auto built = make_image(f.tmp, 91);
  auto image = push_image(f.client, repo_of(f.reg, "lab/att"), built, "v1");
  const auto ref = Reference::parse(f.reg.reference("lab/att:v1"));
  auto store = registry::open_store(ref, client_options(f.reg, no_docker_config(f.tmp)));
  const std::string slsa = "https://slsa.dev/provenance/v1";
  const std::string spdx = "https://spdx.dev/Document";
  std::vector<trust::test::AttLayer> layers;
  for (int i = 0; i < 20; ++i) {
    layers.push_back(
        trust::test::att_layer(trust::test::statement_for(image.digest, i % 2 ? slsa : spdx,
                                                          R"({"n":)" + std::to_string(i) + "}"),
                               test_key()));
  }
  trust::test::put_attestations(*store, image.digest, layers);
  trust::test::put_bundle_attestation(
      *store, image, trust::test::statement_for(image.digest, "https://openvex.dev/ns", "{}"),
      test_key());

  trust::verify::Verifier verifier(trust::verify::fixed_keys({test_key().public_key()}));
  auto v = trust::check::verify_attestations(
      *store, ref, verifier,
      {.type = "slsaprovenance", .conditions = trust::verify::PredicateConditions()},
      {.check_blobs = true});
  CHECK(v.verified());
  CHECK(v.attestations_found);
  CHECK(v.image.digest == image.digest);
  REQUIRE(v.verdicts.size() == 21);
  CHECK(v.decision.counted.size() == 10);
  for (auto i : v.decision.counted) CHECK(v.verdicts[i].index % 2 == 1);
  auto vex = trust::check::verify_attestations(
      *store, ref, verifier,
      {.type = "openvex", .conditions = trust::verify::PredicateConditions()},
      {.check_blobs = false});
  CHECK(vex.verified());
  REQUIRE(vex.decision.counted.size() == 1);
  CHECK(vex.verdicts[vex.decision.counted[0]].kind == trust::sig::EntityKind::kBundle);
}
