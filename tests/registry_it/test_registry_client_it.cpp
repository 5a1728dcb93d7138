// The registry client against a real distribution 2.8 (plain HTTP, anonymous): every API the
// client has, as the registry users run answers it.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <utility>

#include "libtrust/core/digest.h"
#include "registry_it/registry_it_util.h"
#include "support/cutting_proxy.h"

namespace {

using namespace sigil::test;
using namespace sigil::test::it;
using trust::Bytes;
using trust::ByteView;
using trust::Digest;
using trust::ErrorCode;
using trust::registry::Client;

Bytes blob_of(std::size_t size, std::uint32_t seed) {
  return trust::to_bytes(pattern_bytes(size, seed));
}

}  // namespace

TEST_CASE("registry-it: ping answers for a running registry and names the host when it is gone",
          "[registry-it]") {
  SIGIL_SKIP_WITHOUT_REGISTRY(RegistryAuth::kNone);
  RegistryProcess reg;
  TempDir tmp;
  auto opts = client_options(reg, no_docker_config(tmp));
  opts.max_attempts = 1;
  Client client(opts);
  CHECK_NOTHROW(client.ping(reg.host()));

  reg.kill();
  Client later(opts);
  auto err = thrown_by([&] { later.ping(reg.host()); });
  CHECK(err.code == ErrorCode::kRegistry);
  CHECK_THAT(err.message, Catch::Contains(reg.host()));
}

TEST_CASE("registry-it: blobs pushed monolithically and in chunks are pulled back verified",
          "[registry-it]") {
  SIGIL_SKIP_WITHOUT_REGISTRY(RegistryAuth::kNone);
  PlainRegistry fixture;
  auto& [reg, tmp, client] = fixture;
  auto repo = repo_of(reg, "lab/blobs");

  const Bytes small = blob_of(3000, 1);
  const Digest small_digest = Digest::of(small);
  CHECK_FALSE(client.blob_exists(repo, small_digest));
  client.put_blob(repo, small, small_digest);
  CHECK(client.blob_exists(repo, small_digest));
  client.put_blob(repo, small, small_digest);  // already there: skipped, no error

  // Chunked: 10 000 bytes in 4 KiB PATCHes (3 chunks, the last one short), fed in odd pieces.
  const Bytes big = blob_of(10'000, 2);
  const Digest big_digest = Digest::of(big);
  std::size_t offset = 0, reads = 0;
  client.put_blob_stream(
      repo, big_digest, big.size(),
      [&](std::uint8_t* buf, std::size_t room) {
        ++reads;
        std::size_t n = std::min({room, big.size() - offset, std::size_t{1500}});
        std::copy_n(big.data() + offset, n, buf);
        offset += n;
        return n;
      },
      4096);
  CHECK(offset == big.size());
  CHECK(reads > 3);
  CHECK(client.blob_exists(repo, big_digest));

  trust::oci::Descriptor desc;
  desc.media_type = "application/octet-stream";
  desc.digest = big_digest;
  desc.size = big.size();
  CHECK(client.get_blob(repo, desc, 1u << 20) == big);
  Bytes streamed;
  client.stream_blob(repo, desc, [&](ByteView chunk) {
    streamed.insert(streamed.end(), chunk.begin(), chunk.end());
  });
  CHECK(streamed == big);

  // A cap below the declared size is refused before anything is read.
  CHECK(thrown_by([&] { client.get_blob(repo, desc, 100); }).code == ErrorCode::kLimit);

  // A blob the registry does not have.
  trust::oci::Descriptor missing = desc;
  missing.digest = Digest::of(blob_of(10, 3));
  auto err = thrown_by([&] { client.get_blob(repo, missing, 1u << 20); });
  CHECK(err.code == ErrorCode::kNotFound);
  CHECK_THAT(err.message, Catch::Contains(repo.str()) && Catch::Contains(missing.digest.str()));
}

TEST_CASE("registry-it: a chunked upload whose bytes do not match the digest is not committed",
          "[registry-it]") {
  SIGIL_SKIP_WITHOUT_REGISTRY(RegistryAuth::kNone);
  PlainRegistry fixture;
  auto& [reg, tmp, client] = fixture;
  auto repo = repo_of(reg, "lab/badblob");
  const Bytes data = blob_of(5000, 4);
  const Digest claimed = Digest::of(blob_of(5000, 5));
  std::size_t offset = 0;
  auto err = thrown_by([&] {
    client.put_blob_stream(
        repo, claimed, data.size(),
        [&](std::uint8_t* buf, std::size_t room) {
          std::size_t n = std::min(room, data.size() - offset);
          std::copy_n(data.data() + offset, n, buf);
          offset += n;
          return n;
        },
        2048);
  });
  CHECK(err.code == ErrorCode::kDigestMismatch);
  CHECK_THAT(err.message, Catch::Contains(claimed.str()));
  CHECK_FALSE(client.blob_exists(repo, claimed));
  CHECK_FALSE(client.blob_exists(repo, Digest::of(data)));
}

TEST_CASE(
    "registry-it: manifests pushed under a tag resolve to their digest and answer HEAD and DELETE",
    "[registry-it]") {
  SIGIL_SKIP_WITHOUT_REGISTRY(RegistryAuth::kNone);
  PlainRegistry fixture;
  auto& [reg, tmp, client] = fixture;
  auto repo = repo_of(reg, "lab/hello");
  auto image = make_image(tmp, 1);

  auto pushed = push_image(client, repo, image, "v1");
  CHECK(pushed.digest == image.manifest.digest);
  CHECK(pushed.digest == Digest::of(image.manifest_bytes));
  CHECK(pushed.size == image.manifest_bytes.size());
  CHECK(pushed.media_type == image.manifest.media_type);

  auto fetched = client.get_manifest_by_tag(repo, "v1");
  REQUIRE(fetched);
  CHECK(fetched->descriptor.digest == image.manifest.digest);
  CHECK(fetched->descriptor.size == image.manifest_bytes.size());
  CHECK(fetched->descriptor.media_type == image.manifest.media_type);
  CHECK(fetched->bytes == image.manifest_bytes);
  CHECK(client.get_manifest(repo, image.manifest) == image.manifest_bytes);

  auto head = client.head_manifest(repo, "v1");
  REQUIRE(head);
  CHECK(head->digest == image.manifest.digest);
  CHECK(head->size == image.manifest_bytes.size());
  auto head_by_digest = client.head_manifest(repo, image.manifest.digest.str());
  REQUIRE(head_by_digest);
  CHECK(head_by_digest->digest == image.manifest.digest);

  CHECK_FALSE(client.head_manifest(repo, "nope"));
  CHECK_FALSE(client.get_manifest_by_tag(repo, "nope"));
  CHECK_FALSE(client.get_manifest_by_tag(repo_of(reg, "lab/never-pushed"), "v1"));

  // The config and layer blobs came back as they were built.
  CHECK(client.get_blob(repo, image.config, 1u << 20) == image.config_bytes);
  CHECK(client.get_blob(repo, image.layers[0].descriptor, 1u << 20) == image.layers[0].blob);

  // Pushed by digest (how referrers and attachments are stored), then deleted.
  auto other = make_image(tmp, 2);
  client.put_blob(repo, other.config_bytes, other.config.digest);
  for (const auto& l : other.layers) client.put_blob(repo, l.blob, l.descriptor.digest);
  auto by_digest = client.put_manifest(repo, other.manifest.digest.str(), other.manifest_bytes,
                                       other.manifest.media_type);
  CHECK(by_digest.digest == other.manifest.digest);
  CHECK(client.head_manifest(repo, other.manifest.digest.str()));
  client.delete_manifest(repo, other.manifest.digest);
  CHECK_FALSE(client.head_manifest(repo, other.manifest.digest.str()));
  // The tagged image is untouched.
  CHECK(client.head_manifest(repo, "v1"));
}

TEST_CASE("registry-it: tag listing returns every tag of a repository with more than a page",
          "[registry-it]") {
  SIGIL_SKIP_WITHOUT_REGISTRY(RegistryAuth::kNone);
  PlainRegistry fixture;
  auto& [reg, tmp, client] = fixture;
  auto repo = repo_of(reg, "lab/many");
  auto image = make_image(tmp, 4);
  push_image(client, repo, image, "t000");
  // distribution 2.8 ignores ?n= on tags/list (handlers/tags.go: no pagination) and answers
  // everything at once, so Link pagination itself is covered by the fake registry; here: over a
  // hundred tags come back, each once, and max_tags is enforced.
  std::set<std::string> expected{"t000"};
  for (int i = 1; i < 105; ++i) {
    char name[8];
    std::snprintf(name, sizeof name, "t%03d", i);
    client.put_manifest(repo, name, image.manifest_bytes, image.manifest.media_type);
    expected.insert(name);
  }
  auto tags = client.list_tags(repo);
  CHECK(std::set<std::string>(tags.begin(), tags.end()) == expected);
  CHECK(tags.size() == 105);

  auto err = thrown_by([&] { client.list_tags(repo, 100); });
  CHECK(err.code == ErrorCode::kLimit);
  CHECK_THAT(err.message, Catch::Contains(repo.str()));

  // An unknown repository has no tags.
  CHECK(client.list_tags(repo_of(reg, "lab/nothing")).empty());
}

TEST_CASE("registry-it: a blob is mounted across repositories without uploading it again",
          "[registry-it]") {
  SIGIL_SKIP_WITHOUT_REGISTRY(RegistryAuth::kNone);
  PlainRegistry fixture;
  auto& [reg, tmp, client] = fixture;
  auto from = repo_of(reg, "lab/source");
  auto to = repo_of(reg, "team/target");
  const Bytes data = blob_of(200'000, 6);
  const Digest digest = Digest::of(data);
  client.put_blob(from, data, digest);
  const auto sent_before = client.stats().bytes_sent;

  CHECK(client.mount_blob(to, digest, from));
  CHECK(client.blob_exists(to, digest));
  CHECK(client.stats().bytes_sent - sent_before < 10'000);  // no upload of the 200 kB

  // A digest the source does not hold: the registry declines (the caller uploads instead).
  CHECK_FALSE(client.mount_blob(to, Digest::of(blob_of(10, 7)), from));
}

TEST_CASE("registry-it: distribution 2.8 has no referrers API which reads as nullopt",
          "[registry-it]") {
  SIGIL_SKIP_WITHOUT_REGISTRY(RegistryAuth::kNone);
  PlainRegistry fixture;
  auto& [reg, tmp, client] = fixture;
  auto repo = repo_of(reg, "lab/ref");
  auto image = make_image(tmp, 5);
  push_image(client, repo, image, "v1");
  CHECK_FALSE(client.referrers(repo, image.manifest.digest));
  CHECK_FALSE(client.referrers(repo, image.manifest.digest,
                               "application/vnd.dev.sigstore.bundle.v0.3+json"));
}

TEST_CASE(
    "registry-it: a registry vanishing mid-upload fails with RegistryError and the tag "
    "still points at the old manifest",
    "[registry-it]") {
  SIGIL_SKIP_WITHOUT_REGISTRY(RegistryAuth::kNone);
  RegistryProcess reg;
  TempDir tmp;
  auto opts = client_options(reg, no_docker_config(tmp));
  opts.max_attempts = 2;
  auto repo = repo_of(reg, "lab/vanish");
  auto old_image = make_image(tmp, 8);
  auto new_image = make_image(tmp, 9, 64 * 1024);
  {
    Client client(opts);
    push_image(client, repo, old_image, "stable");
  }

  // New content goes up in 16 KiB chunks; the registry is killed while the second is read.
  const Bytes& blob = new_image.layers[0].blob;
  REQUIRE(blob.size() > 3 * 16 * 1024);
  Client client(opts);
  client.put_blob(repo, new_image.config_bytes, new_image.config.digest);
  std::size_t offset = 0;
  auto err = thrown_by([&] {
    client.put_blob_stream(
        repo, new_image.layers[0].descriptor.digest, blob.size(),
        [&](std::uint8_t* buf, std::size_t room) {
          if (offset >= 16 * 1024 && reg.running()) reg.kill();
          std::size_t n = std::min(room, blob.size() - offset);
          std::copy_n(blob.data() + offset, n, buf);
          offset += n;
          return n;
        },
        16 * 1024);
    client.put_manifest(repo, "stable", new_image.manifest_bytes, new_image.manifest.media_type);
  });
  CHECK(err.code == ErrorCode::kRegistry);
  CHECK(trust::exit_code_for(err.code) == 3);
  CHECK_THAT(err.message, Catch::Contains(repo.str()));
  CHECK(offset < blob.size());  // it stopped part-way

  reg.restart();
  Client after(opts);
  auto head = after.head_manifest(repo, "stable");
  REQUIRE(head);
  CHECK(head->digest == old_image.manifest.digest);
  CHECK_FALSE(after.blob_exists(repo, new_image.layers[0].descriptor.digest));
  // The old image is whole.
  CHECK(after.get_blob(repo, old_image.layers[0].descriptor, 1u << 20) == old_image.layers[0].blob);
}

TEST_CASE("registry-it: a registry vanishing before the manifest PUT leaves the tag absent",
          "[registry-it]") {
  SIGIL_SKIP_WITHOUT_REGISTRY(RegistryAuth::kNone);
  RegistryProcess reg;
  TempDir tmp;
  auto opts = client_options(reg, no_docker_config(tmp));
  opts.max_attempts = 2;
  auto repo = repo_of(reg, "lab/vanish2");
  auto image = make_image(tmp, 10);
  Client client(opts);
  client.put_blob(repo, image.config_bytes, image.config.digest);
  for (const auto& l : image.layers) client.put_blob(repo, l.blob, l.descriptor.digest);
  reg.kill();
  auto err = thrown_by(
      [&] { client.put_manifest(repo, "new", image.manifest_bytes, image.manifest.media_type); });
  CHECK(err.code == ErrorCode::kRegistry);
  CHECK_THAT(err.message, Catch::Contains(repo.str()));

  reg.restart();
  Client after(opts);
  CHECK_FALSE(after.head_manifest(repo, "new"));
  CHECK(after.list_tags(repo).empty());
}

TEST_CASE("registry-it: a blob download cut midway resumes with Range where it stopped",
          "[registry-it]") {
  SIGIL_SKIP_WITHOUT_REGISTRY(RegistryAuth::kNone);
  PlainRegistry fixture;
  auto& [reg, tmp, client] = fixture;
  const auto data = blob_of(6u << 20, 61);
  const auto digest = Digest::of(data);
  client.put_blob(repo_of(reg, "lab/resume"), data, digest);
  trust::oci::Descriptor desc;
  desc.media_type = "application/octet-stream";
  desc.digest = digest;
  desc.size = data.size();

  // Two connections are dropped after 2 MiB each: distribution 2.8 answers each resume with a
  // 206 from the byte asked for, and the whole blob arrives once, verified.
  CuttingProxy proxy(reg.port(), 2u << 20, 2);
  auto opts = client_options(reg, no_docker_config(tmp));
  opts.insecure_registries = {proxy.host()};
  std::vector<std::string> trace;
  opts.trace = [&](std::string_view line) { trace.emplace_back(line); };
  Client via(opts);
  const auto got = via.get_blob({proxy.host(), "lab/resume"}, desc, 8u << 20);
  CHECK(got == data);
  CHECK(proxy.cuts_made() == 2);
  const auto resumes = std::count_if(trace.begin(), trace.end(), [](const std::string& line) {
    return line.find("resuming at byte") != std::string::npos;
  });
  CHECK(resumes == 2);
  // One GET and two resumed GETs over plain HTTP (after the TLS probe of an insecure host).
  const auto gets = std::count_if(trace.begin(), trace.end(), [](const std::string& line) {
    return line.rfind("GET http://", 0) == 0 && line.find(" -> ") != std::string::npos;
  });
  CHECK(gets == 3);
}

// Run by bench/registry.sh (part e), not by ctest: a large blob pulled through the relay whole,
// and cut once in the middle. Prints one line "resume-bench: …" with the measurements.
TEST_CASE("registry-it bench: a large blob download cut in the middle and resumed",
          "[.bench-resume]") {
  SIGIL_SKIP_WITHOUT_REGISTRY(RegistryAuth::kNone);
  const char* mib_env = std::getenv("SIGIL_BENCH_RESUME_MIB");
  const std::uint64_t mib = mib_env != nullptr ? std::stoull(mib_env) : 256;
  const std::uint64_t size = mib << 20;
  PlainRegistry fixture;
  auto& [reg, tmp, client] = fixture;
  const auto repo = repo_of(reg, "bench/resume");
  const auto block = blob_of(1u << 20, 71);
  trust::Hasher hasher;
  for (std::uint64_t i = 0; i < mib; ++i) hasher.update(block);
  trust::oci::Descriptor desc;
  desc.media_type = "application/octet-stream";
  desc.digest = hasher.finish();
  desc.size = size;
  std::uint64_t sent = 0;
  client.put_blob_stream(repo, desc.digest, size, [&](std::uint8_t* buf, std::size_t cap) {
    const auto at = static_cast<std::size_t>(sent % block.size());
    const auto n =
        static_cast<std::size_t>(std::min<std::uint64_t>({cap, block.size() - at, size - sent}));
    std::copy_n(block.begin() + static_cast<std::ptrdiff_t>(at), n, buf);
    sent += n;
    return n;
  });

  // Seconds to stream the blob through a relay cutting `cuts` connections at half the blob, and
  // the bytes the client received.
  auto pull = [&](int cuts) {
    CuttingProxy proxy(reg.port(), size / 2, cuts);
    auto opts = client_options(reg, no_docker_config(tmp));
    opts.insecure_registries = {proxy.host()};
    Client via(opts);
    std::uint64_t got = 0;
    const auto start = std::chrono::steady_clock::now();
    via.stream_blob({proxy.host(), repo.name}, desc, [&](ByteView chunk) { got += chunk.size(); });
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    REQUIRE(got == size);
    REQUIRE(proxy.cuts_made() == cuts);
    return std::pair{took.count(), via.stats().bytes_received};
  };
  auto best = [&](int cuts) {
    auto b = pull(cuts);
    for (int i = 0; i < 2; ++i) {
      auto r = pull(cuts);
      if (r.first < b.first) b = r;
    }
    return b;
  };
  const auto whole = best(0);
  const auto cut = best(1);
  std::printf(
      "resume-bench: blob %llu MiB; uncut %.3f s, %llu bytes received; cut at half %.3f s, "
      "%llu bytes received; time ratio %.2f; bytes ratio %.3f\n",
      static_cast<unsigned long long>(mib), whole.first,
      static_cast<unsigned long long>(whole.second), cut.first,
      static_cast<unsigned long long>(cut.second), cut.first / whole.first,
      static_cast<double>(cut.second) / static_cast<double>(whole.second));
}
