#pragma once
// Shared pieces of the [registry-it] tests: skipping without a registry (support/skip.h), client
// options for each fixture mode, pushing images built by layout_builder, and catching what goes to
// stderr.

#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>

#include "libtrust/core/error.h"
#include "libtrust/registry/client.h"
#include "support/errors.h"
#include "support/layout_builder.h"
#include "support/process.h"
#include "support/registry_process.h"

namespace sigil::test::it {

// Skips the test (reported as skipped by ctest, failed in CI) when the registry (or, for basic
// auth, htpasswd) is missing.
#define SIGIL_SKIP_WITHOUT_REGISTRY(auth) \
  SIGIL_SKIP_UNLESS(::sigil::test::RegistryProcess::unavailable_reason(auth))

// Client options for `reg` in its mode: plain HTTP → insecure_registries, TLS → the per-run CA;
// credentials only from `docker_config` (never the user's ~/.docker/config.json).
inline trust::registry::TransportOptions client_options(
    const RegistryProcess& reg, const std::filesystem::path& docker_config) {
  trust::registry::TransportOptions o;
  if (reg.options().tls == RegistryTls::kNone) {
    o.insecure_registries = {reg.host()};
  } else {
    o.ca_file = reg.ca_file();
  }
  o.docker_config = docker_config;
  o.connect_timeout = std::chrono::milliseconds(2000);
  return o;
}

// A path under `tmp` with no config.json: anonymous access.
inline std::filesystem::path no_docker_config(const TempDir& tmp) {
  return tmp / "no-docker-config" / "config.json";
}

inline trust::registry::Repository repo_of(const RegistryProcess& reg, std::string name) {
  return {reg.host(), std::move(name)};
}

// What most [registry-it] tests start from: a plain-HTTP registry and an anonymous client for
// it. Take its parts with `auto& [reg, tmp, client] = fixture;`.
struct PlainRegistry {
  RegistryProcess reg;
  TempDir tmp;
  trust::registry::Client client{client_options(reg, no_docker_config(tmp))};
};

// Deterministic small images: different seeds, different digests.
inline BuiltImage make_image(const TempDir& tmp, std::uint32_t seed,
                             std::size_t layer_size = 2048) {
  ImageSpec spec;
  spec.layers = {layer(layer_size, LayerCompression::kGzip, seed)};
  spec.tag = "v" + std::to_string(seed);
  auto dir = tmp / ("layout-" + std::to_string(seed));
  return build_layout(dir, {.images = {spec}, .index_tag = {}}).images.at(0);
}

// Pushes config, layers and the manifest under `tag` with the client under test.
inline trust::oci::Descriptor push_image(trust::registry::Client& client,
                                         const trust::registry::Repository& repo,
                                         const BuiltImage& image, std::string_view tag) {
  client.put_blob(repo, image.config_bytes, image.config.digest);
  for (const auto& l : image.layers) client.put_blob(repo, l.blob, l.descriptor.digest);
  return client.put_manifest(repo, tag, image.manifest_bytes, image.manifest.media_type);
}

}  // namespace sigil::test::it
