// Eight signers sign one image in a real registry (distribution 2.8) at the same moment, each
// with its own client as separate CI jobs would: every signature must survive, in the cosign
// .sig layout and in the referrers fallback index. Registries have no conditional writes, so
// this is the merge loop of core/retry.h against real last-writer-wins tags (and against 2.8's
// MANIFEST_BLOB_UNKNOWN / DIGEST_INVALID answers while another signer uploads the same blob).

#include <atomic>
#include <catch2/catch.hpp>
#include <exception>
#include <set>
#include <thread>
#include <vector>

#include "../verify/verify_test_util.h"
#include "libtrust/registry/registry_store.h"
#include "libtrust/sig/cosign_layout.h"
#include "libtrust/sig/referrers.h"
#include "libtrust/sig/signer.h"
#include "libtrust/verify/verifier.h"
#include "registry_it/registry_it_util.h"
#include "sig/sig_test_util.h"

namespace {

using namespace sigil::test;
using namespace sigil::test::it;
using trust::Reference;
namespace registry = trust::registry;
namespace sig = trust::sig;
namespace verify = trust::verify;

constexpr int kSigners = 8;

struct Fixture {
  RegistryProcess reg;
  TempDir tmp;
  trust::oci::Descriptor image;
  std::string ref;

  explicit Fixture(const std::string& repo) {
    auto opts = client_options(reg, no_docker_config(tmp));
    registry::Client client(opts);
    auto built = make_image(tmp, 77);
    image = push_image(client, repo_of(reg, repo), built, "v1");
    ref = reg.reference(repo + "@" + image.digest.str());
  }

  // Runs sign(store, i) on kSigners threads released together, each with its own client.
  template <typename Sign>
  void sign_at_once(Sign sign) {
    std::atomic<int> ready{0};
    std::vector<std::exception_ptr> errors(kSigners);
    std::vector<std::thread> threads;
    for (int i = 0; i < kSigners; ++i) {
      threads.emplace_back([&, i] {
        try {
          auto store = registry::open_store(Reference::parse(ref),
                                            client_options(reg, no_docker_config(tmp)));
          ready.fetch_add(1);
          while (ready.load() < kSigners) std::this_thread::yield();
          sign(*store, i);
        } catch (...) {
          errors[i] = std::current_exception();
        }
      });
    }
    for (auto& t : threads) t.join();
    for (auto& e : errors) {
      if (e) std::rethrow_exception(e);
    }
  }
};

sig::SignOptions signer_options(int i) {
  return {.docker_reference = "lab/concurrent", .annotations = {{"signer", std::to_string(i)}}};
}

}  // namespace

TEST_CASE("registry-it: 8 concurrent cosign-layout signers all keep their signatures",
          "[registry-it][concurrency]") {
  SIGIL_SKIP_WITHOUT_REGISTRY(RegistryAuth::kNone);
  Fixture f("lab/concurrent");
  const auto& key = test_key();
  f.sign_at_once([&](trust::oci::ImageStore& store, int i) {
    auto signed_ = sig::sign_image(store, f.image, key, signer_options(i));
    CHECK(signed_.at(0).appended);
  });

  auto store =
      registry::open_store(Reference::parse(f.ref), client_options(f.reg, no_docker_config(f.tmp)));
  auto found = sig::read_cosign_signatures(*store, f.image.digest);
  REQUIRE(found);
  CHECK(found->signatures.size() == kSigners);
  verify::Verifier verifier(verify::fixed_keys({key.public_key()}));
  auto result = verify::test::judge_stored(verifier, f.image.digest, found->signatures, {}, {});
  std::set<std::string> signers;
  for (const auto& v : result.signatures) {
    CHECK(v.verified);
    if (v.payload) signers.insert(v.payload->optional.at("signer"));
  }
  CHECK(signers.size() == kSigners);
}

TEST_CASE("registry-it: 8 concurrent bundle signers all keep their referrers",
          "[registry-it][concurrency]") {
  SIGIL_SKIP_WITHOUT_REGISTRY(RegistryAuth::kNone);
  Fixture f("lab/concurrent-bundle");
  const auto& key = test_key();
  f.sign_at_once([&](trust::oci::ImageStore& store, int i) {
    auto signed_ = sig::sign_image_bundle(store, f.image, key, signer_options(i));
    CHECK(signed_.at(0).appended);
  });

  auto store =
      registry::open_store(Reference::parse(f.ref), client_options(f.reg, no_docker_config(f.tmp)));
  auto bundles = sig::read_bundle_referrers(*store, f.image.digest);
  CHECK(bundles.size() == kSigners);
  verify::Verifier verifier(verify::fixed_keys({key.public_key()}));
  auto result = verify::test::judge_stored(verifier, f.image.digest, {}, bundles, {});
  std::set<std::string> signers;
  for (const auto& v : result.signatures) {
    CHECK(v.verified);
    if (v.subject) signers.insert(v.subject->annotations.at("signer"));
  }
  CHECK(signers.size() == kSigners);
}
