// Many small blobs from a real registry (distribution 2.8 over TLS, which offers HTTP/2): what a
// verify of an image with 100 signatures reads. RegistryImageStore::fetch_blobs sends them all at
// once as HTTP/2 streams on the connection the command already has.

#include <sys/resource.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "libtrust/core/encoding.h"
#include "libtrust/core/limits.h"
#include "libtrust/registry/registry_store.h"
#include "registry_it/registry_it_util.h"
#include "support/fake_registry.h"

namespace {

using namespace sigil::test;
using namespace sigil::test::it;
using trust::Bytes;
using trust::Digest;
using trust::Reference;
using trust::registry::Client;
using trust::registry::Repository;

struct Payloads {
  std::vector<trust::oci::Descriptor> descs;
  std::vector<std::string> bytes;
};

// `n` distinct signature-sized payloads pushed to `repo`.
Payloads push_payloads(Client& client, const Repository& repo, int n) {
  Payloads p;
  for (int i = 0; i < n; ++i) {
    std::string payload =
        R"({"critical":{"identity":{"docker-reference":"lab/many"},"image":{"docker-manifest-digest":"sha256:)" +
        std::string(64, 'a') +
        R"("},"type":"cosign container image signature"},"optional":{"n":")" + std::to_string(i) +
        "\"}}";
    trust::oci::Descriptor d;
    d.media_type = "application/vnd.dev.cosign.simplesigning.v1+json";
    d.digest = Digest::of(trust::as_bytes(payload));
    d.size = payload.size();
    client.put_blob(repo, trust::as_bytes(payload), d.digest);
    p.descs.push_back(d);
    p.bytes.push_back(std::move(payload));
  }
  return p;
}

}  // namespace

TEST_CASE(
    "registry-it: fetch_blobs takes 100 payloads as HTTP/2 streams on the command's connection",
    "[registry-it]") {
  SIGIL_SKIP_WITHOUT_REGISTRY(RegistryAuth::kNone);
  RegistryProcess reg({.tls = RegistryTls::kVerified});
  TempDir tmp;
  const auto opts = client_options(reg, no_docker_config(tmp));
  const auto repo = repo_of(reg, "lab/many");
  Payloads p;
  {
    Client pusher(opts);
    p = push_payloads(pusher, repo, 100);
  }
  auto client = std::make_shared<Client>(opts);
  client->ping(reg.host());  // as a verify has fetched manifests first: one connection is open
  auto store =
      trust::registry::open_registry_store(client, Reference::parse(reg.reference("lab/many:v1")));
  const auto before = client->stats();
  std::vector<std::string> got(p.descs.size());
  store->fetch_blobs(p.descs, trust::limits::kMaxAttachmentLayerBytes,
                     [&](std::size_t i, Bytes b) { got[i].assign(b.begin(), b.end()); });
  const auto after = client->stats();
  CHECK(got == p.bytes);
  CHECK(after.requests - before.requests == 100);
  CHECK(after.connections - before.connections == 0);  // all on the one connection
}

TEST_CASE("registry-it bench: 100 payloads as HTTP/2 streams, and on 8 connections",
          "[.bench-fetch-blobs]") {
  SIGIL_SKIP_WITHOUT_REGISTRY(RegistryAuth::kNone);
  const char* rounds_env = std::getenv("SIGIL_BENCH_FETCH_ROUNDS");
  const int rounds = rounds_env != nullptr ? std::atoi(rounds_env) : 10;
  RegistryProcess reg({.tls = RegistryTls::kVerified});
  TempDir tmp;
  const auto opts = client_options(reg, no_docker_config(tmp));
  const auto repo = repo_of(reg, "bench/many");
  Payloads p;
  {
    Client pusher(opts);
    p = push_payloads(pusher, repo, 100);
  }
  // One round as a fresh `sigil verify` does it: a new client, a first request, then the blobs.
  struct Round {
    double ms;
    std::chrono::milliseconds registry_cpu;
    double client_cpu_ms;
    std::size_t connections;
  };
  auto own_cpu_ms = [] {
    rusage u{};
    ::getrusage(RUSAGE_SELF, &u);
    return (static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e3 +
            static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e3);
  };
  auto round = [&](bool multiplexed) {
    auto client = std::make_shared<Client>(opts);
    client->ping(reg.host());
    auto store = trust::registry::open_registry_store(
        client, Reference::parse(reg.reference("bench/many:v1")));
    std::size_t n = 0;
    const auto cpu0 = reg.cpu_time();
    const auto own0 = own_cpu_ms();
    const auto c0 = client->stats().connections;
    const auto t0 = std::chrono::steady_clock::now();
    auto count = [&](std::size_t, Bytes) { ++n; };
    if (multiplexed) {
      store->fetch_blobs(p.descs, trust::limits::kMaxAttachmentLayerBytes, count);
    } else {
      store->ImageSource::fetch_blobs(p.descs, trust::limits::kMaxAttachmentLayerBytes, count);
    }
    const std::chrono::duration<double, std::milli> took = std::chrono::steady_clock::now() - t0;
    REQUIRE(n == p.descs.size());
    return Round{took.count(), reg.cpu_time() - cpu0, own_cpu_ms() - own0,
                 client->stats().connections - c0};
  };
  auto best = [&](bool multiplexed) {
    Round b = round(multiplexed);
    for (int i = 1; i < rounds; ++i) {
      auto r = round(multiplexed);
      if (r.ms < b.ms) b = r;
    }
    return b;
  };
  const auto mux = best(true);
  const auto threads = best(false);
  // The client's own floor: the same 100 blobs from the in-process fake registry (TLS,
  // HTTP/1.1, so on up to 8 connections), which answers in microseconds.
  FakeRegistry fake(FakeRegistry::kTls);
  for (const auto& b : p.bytes) fake.add_blob("bench/many", b);
  auto fake_opts = client_options(reg, no_docker_config(tmp));
  fake_opts.insecure_registries = {fake.host()};
  double fake_ms = 1e9;
  for (int i = 0; i < rounds; ++i) {
    auto client = std::make_shared<Client>(fake_opts);
    client->ping(fake.host());
    auto store = trust::registry::open_registry_store(
        client, Reference::parse(fake.host() + "/bench/many:v1"));
    std::size_t n = 0;
    const auto t0 = std::chrono::steady_clock::now();
    store->fetch_blobs(p.descs, trust::limits::kMaxAttachmentLayerBytes,
                       [&](std::size_t, Bytes) { ++n; });
    const std::chrono::duration<double, std::milli> took = std::chrono::steady_clock::now() - t0;
    REQUIRE(n == p.descs.size());
    fake_ms = std::min(fake_ms, took.count());
  }
  std::printf(
      "fetch-bench: 100 payloads, best of %d; HTTP/2 streams %.1f ms (%zu new connections, "
      "client CPU %.1f ms, registry CPU %lld ms); 8 threads %.1f ms (%zu new connections, "
      "client CPU %.1f ms, registry CPU %lld ms); time ratio %.2f; the same from an in-process "
      "TLS server that answers at once %.1f ms\n",
      rounds, mux.ms, mux.connections, mux.client_cpu_ms,
      static_cast<long long>(mux.registry_cpu.count()), threads.ms, threads.connections,
      threads.client_cpu_ms, static_cast<long long>(threads.registry_cpu.count()),
      threads.ms / mux.ms, fake_ms);
}
