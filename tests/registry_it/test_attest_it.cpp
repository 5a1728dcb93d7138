// sigil attest against the real registry (distribution 2.8) over TLS with basic auth: the real
// executable writes the .att layer and the bundle referrer, a fresh client reads them back and
// their envelopes verify; four attesters released at once each keep their attestation.
#include <atomic>
#include <catch2/catch.hpp>
#include <exception>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "libtrust/core/encoding.h"
#include "libtrust/core/media_type.h"
#include "libtrust/crypto/key_file.h"
#include "libtrust/registry/registry_store.h"
#include "libtrust/sig/attest.h"
#include "libtrust/sig/dsse.h"
#include "libtrust/sig/referrers.h"
#include "registry_it/registry_it_util.h"
#include "sig/sig_test_util.h"

namespace {

using namespace sigil::test;
using namespace sigil::test::it;
using nlohmann::json;
using trust::Reference;
namespace registry = trust::registry;
namespace sig = trust::sig;

const std::string kSigil = SIGIL_BIN_DIR "/sigil";
const std::string kData = SIGIL_TEST_DATA;

json verified_statement(const std::string& envelope, const trust::PublicKey& key) {
  auto env = sig::DsseEnvelope::parse(trust::as_bytes(envelope), "envelope");
  const trust::PublicKey keys[] = {key};
  auto v = env.verify(keys);
  REQUIRE(v);
  return json::parse(trust::as_string_view(v->payload));
}

}  // namespace

TEST_CASE("registry-it: sigil attest writes .att layers and bundle referrers over TLS with auth",
          "[registry-it][attest]") {
  SIGIL_SKIP_WITHOUT_REGISTRY(RegistryAuth::kBasic);
  RegistryProcess reg({.tls = RegistryTls::kVerified, .auth = RegistryAuth::kBasic});
  TempDir tmp;
  const auto config = reg.write_docker_config(tmp / "docker");
  auto opts = client_options(reg, config);
  registry::Client client(opts);
  auto image = push_image(client, repo_of(reg, "lab/att"), make_image(tmp, 21), "v1");
  const auto ref = reg.host() + "/lab/att@" + image.digest.str();
  write_text_file(tmp / "p.json", R"({"reviewed":true})");
  const std::map<std::string, std::string> env = {{"DOCKER_CONFIG", config.parent_path().string()},
                                                  {"SIGIL_PASSWORD", kUnsetEnv},
                                                  {"COSIGN_PASSWORD", kUnsetEnv}};
  auto run = [&](std::vector<std::string> extra) {
    std::vector<std::string> argv = {kSigil,
                                     "attest",
                                     "--key",
                                     kData + "/keys/test-ecdsa-p256.key",
                                     "--password-file",
                                     kData + "/keys/test-passphrase.txt",
                                     "--ca-file",
                                     reg.ca_file().string(),
                                     "--predicate",
                                     (tmp / "p.json").string(),
                                     "--output",
                                     "json"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back(ref);
    return run_process(argv, env);
  };
  auto c = run({});
  INFO(c.err);
  REQUIRE(c.exit_code == 0);
  auto b = run({"--format", "bundle", "--type", "https://example.com/review/v1"});
  INFO(b.err);
  REQUIRE(b.exit_code == 0);
  auto cj = json::parse(c.out);
  auto bj = json::parse(b.out);

  auto store = registry::open_store(Reference::parse(ref), opts);
  const auto pub = trust::load_public_key(kData + "/keys/test-ecdsa-p256.pub");
  auto tag = store->find_tag(sig::attestation_tag(image.digest));
  REQUIRE(tag);
  auto m = trust::oci::Manifest::parse(store->fetch_manifest(*tag), "att");
  REQUIRE(m.layers.size() == 1);
  CHECK(m.layers[0].digest.str() == cj["layer"]);
  CHECK(m.layers[0].media_type == trust::media_type::kDsseEnvelope);
  CHECK(m.layers[0].annotations.at("predicateType") ==
        "https://cosign.sigstore.dev/attestation/v1");
  auto blob = store->fetch_blob(m.layers[0], 1u << 20);
  auto st = verified_statement(std::string(trust::as_string_view(blob)), pub);
  CHECK(st["subject"][0]["name"] == reg.host() + "/lab/att");
  CHECK(st["subject"][0]["digest"]["sha256"] == image.digest.hex());

  auto referrers = sig::read_bundle_referrers(*store, image.digest);
  REQUIRE(referrers.size() == 1);
  CHECK(referrers[0].manifest.digest.str() == bj["referrer"]);
  REQUIRE(referrers[0].bundle);
  auto bst = verified_statement(referrers[0].bundle->dsse_envelope()->to_json(), pub);
  CHECK(bst["predicateType"] == "https://example.com/review/v1");
}

TEST_CASE("registry-it: 4 attesters writing one .att tag at once all keep their attestation",
          "[registry-it][attest][concurrent]") {
  SIGIL_SKIP_WITHOUT_REGISTRY(RegistryAuth::kNone);
  RegistryProcess reg;
  TempDir tmp;
  registry::Client client(client_options(reg, no_docker_config(tmp)));
  auto image = push_image(client, repo_of(reg, "lab/attc"), make_image(tmp, 22), "v1");
  const auto ref = reg.host() + "/lab/attc@" + image.digest.str();
  constexpr int kWriters = 4;
  const auto& key = test_key();
  std::atomic<int> ready{0};
  std::vector<std::exception_ptr> errors(kWriters);
  std::vector<sig::Attested> done(kWriters);
  std::vector<std::thread> threads;
  for (int i = 0; i < kWriters; ++i) {
    threads.emplace_back([&, i] {
      try {
        auto store =
            registry::open_store(Reference::parse(ref), client_options(reg, no_docker_config(tmp)));
        auto st = sig::image_statement(reg.host() + "/lab/attc", image.digest,
                                       "https://cosign.sigstore.dev/attestation/v1",
                                       "{\"writer\":" + std::to_string(i) + "}");
        ready.fetch_add(1);
        while (ready.load() < kWriters) std::this_thread::yield();
        done[static_cast<std::size_t>(i)] = sig::attest_image(*store, image, key, st);
      } catch (...) {
        errors[static_cast<std::size_t>(i)] = std::current_exception();
      }
    });
  }
  for (auto& t : threads) t.join();
  for (auto& e : errors) {
    if (e) std::rethrow_exception(e);
  }
  auto store =
      registry::open_store(Reference::parse(ref), client_options(reg, no_docker_config(tmp)));
  auto tag = store->find_tag(sig::attestation_tag(image.digest));
  REQUIRE(tag);
  auto m = trust::oci::Manifest::parse(store->fetch_manifest(*tag), "att");
  CHECK(m.layers.size() == kWriters);
  for (const auto& d : done) {
    CHECK(std::any_of(m.layers.begin(), m.layers.end(),
                      [&](const trust::oci::Descriptor& l) { return l.digest == d.blob; }));
  }
}
