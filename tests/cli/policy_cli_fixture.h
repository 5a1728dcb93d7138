// What the policy CLI tests share: a real registry holding two images pushed (and signed,
// attested) under the repositories a test names, and a policy file beside the keys.
#pragma once

#include <catch2/catch.hpp>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "libtrust/oci/copy.h"
#include "libtrust/oci/layout.h"
#include "libtrust/registry/registry_store.h"
#include "libtrust/sig/signer.h"
#include "support/layout_builder.h"
#include "support/process.h"
#include "support/registry_process.h"
#include "support/test_keys.h"
#include "verify/att_test_util.h"

namespace sigil::test::policy_cli {

using namespace ::trust;  // this namespace's own: the tests' names are trust's

inline const std::string kSigil = SIGIL_BIN_DIR "/sigil";
inline const std::string kSlsa = "https://slsa.dev/provenance/v1";

inline const PrivateKey& release_key() {
  return sigil::test::test_key(KeyType::kEcdsaP256, 0);
}
inline const PrivateKey& ci_key() {
  return sigil::test::test_key(KeyType::kEcdsaP256, 1);
}
inline const PrivateKey& stranger_key() {
  return sigil::test::test_key(KeyType::kEcdsaP256, 3);
}

inline std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// stderr's lines without the warning every run against the plain-HTTP test registry prints.
inline std::vector<std::string> report_lines(const std::string& err) {
  std::vector<std::string> out;
  for (auto& line : lines_of(err)) {
    if (line.find("is insecure (--insecure-registry)") == std::string::npos) out.push_back(line);
  }
  return out;
}

// A real registry holding two different images, pushed under the repositories a test names,
// and a policy file for it (rules written by the test, keys release and ci as files beside it).
struct PolicyRegistry {
  RegistryProcess reg;
  TempDir tmp;
  sigil::test::BuiltLayout layout;
  std::unique_ptr<oci::ImageStore> local;
  oci::Descriptor a;  // two images, to push anywhere
  oci::Descriptor b;
  registry::TransportOptions options;

  PolicyRegistry() {
    sigil::test::ImageSpec ia;
    ia.tag = "a";
    ia.layers = {sigil::test::layer(512, sigil::test::LayerCompression::kGzip, 1)};
    sigil::test::ImageSpec ib;
    ib.tag = "b";
    ib.layers = {sigil::test::layer(512, sigil::test::LayerCompression::kGzip, 2)};
    layout = sigil::test::build_layout(tmp / "img", {.images = {ia, ib}, .index_tag = {}});
    local = oci::open_oci_layout(layout.dir);
    a = local->resolve(Reference::parse(layout.reference("a")));
    b = local->resolve(Reference::parse(layout.reference("b")));
    options.insecure_registries = {reg.host()};
    options.warn = [](std::string_view) {};
    sigil::test::write_text_file(tmp / "release.pub", release_key().public_key().to_pem());
    sigil::test::write_text_file(tmp / "ci.pub", ci_key().public_key().to_pem());
  }

  // Pushes `image` as REPO:TAG, signed by each of `signers`; returns the reference.
  std::string push(const std::string& repo_tag, const oci::Descriptor& image,
                   const std::vector<const PrivateKey*>& signers = {}) {
    const auto ref = Reference::parse(reg.reference(repo_tag));
    auto store = registry::open_store(ref, options);
    (void)oci::copy_image(*local, *store, image);
    store->set_tag(*ref.tag(), image);
    for (const auto* key : signers) {
      (void)sig::sign_image(
          *store, image, *key,
          {.docker_reference = ref.repository_name(), .annotations = {}, .recursive = false});
    }
    return ref.str();
  }
  // Attaches a SLSA provenance attestation with `predicate` to the image REPO names.
  void attest(const std::string& repo_tag, const oci::Descriptor& image, const PrivateKey& key,
              const std::string& predicate) {
    const auto ref = Reference::parse(reg.reference(repo_tag));
    auto store = registry::open_store(ref, options);
    (void)trust::test::put_attestations(
        *store, image.digest,
        {trust::test::att_layer(trust::test::statement_for(image.digest, kSlsa, predicate), key)});
  }

  // policy.yaml beside the keys: `rules` is the YAML list under "rules:", with HOST replaced.
  std::string policy(std::string rules) const {
    for (auto at = rules.find("HOST"); at != std::string::npos; at = rules.find("HOST")) {
      rules.replace(at, 4, reg.host());
    }
    const auto file = tmp / "policy.yaml";
    sigil::test::write_text_file(file,
                                 "version: 1\nkeys:\n  release: release.pub\n  ci: ci.pub\n"
                                 "rules:\n" +
                                     rules);
    return file.string();
  }

  RunResult run(std::vector<std::string> args) const {
    args.insert(args.begin(), kSigil);
    args.push_back("--insecure-registry");
    args.push_back(reg.host());
    return run_process(args, {{"DOCKER_CONFIG", (tmp / "no-docker").string()}});
  }
};

inline const std::string kRules = R"(  - name: team
    match: HOST/team/*
    keys: [release]
  - name: both
    match: HOST/both/*
    keys: [release, ci]
    threshold: 2
  - name: soft
    match: HOST/soft/*
    mode: warn
    keys: [release]
  - name: locked
    match: HOST/locked/*
    action: reject
)";

}  // namespace sigil::test::policy_cli
