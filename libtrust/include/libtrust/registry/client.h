#pragma once
// An OCI distribution client over libcurl. One Client serves one command: it keeps connections,
// TLS sessions and bearer tokens and reuses them across every request of that command.
//
// Security properties (each tested):
// - every manifest and blob fetched is checked against the digest asked for; Docker-Content-Digest
//   is never trusted on its own; a tag is resolved by fetching its manifest and hashing the bytes;
// - credentials go only to the registry host they belong to: never to a redirect target on
//   another host (blob redirects to storage are followed without Authorization);
// - credentials and tokens never appear in logs, traces or error messages;
// - every size read from the network is capped (manifests 4 MiB, error bodies 64 KiB, redirects 5);
//   every body is capped while it is read, redirect, HEAD and error bodies included;
// - no operation outlives its deadline (TransportOptions::timeout), and no transfer goes on at
//   less than the minimum rate.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "libtrust/core/bytes.h"
#include "libtrust/core/digest.h"
#include "libtrust/core/reference.h"
#include "libtrust/core/secret.h"
#include "libtrust/export.h"
#include "libtrust/oci/manifest.h"

namespace trust::registry {

// One transfer's progress (a blob download or upload), for a progress line or a log.
struct TransferProgress {
  std::string_view label;   // "blob sha256:0123456789ab", "upload sha256:0123456789ab"
  std::uint64_t done = 0;   // bytes moved so far (a resumed download counts from the blob's start)
  std::uint64_t total = 0;  // bytes expected, 0 when unknown
  enum class State { kRunning, kDone, kFailed } state = State::kRunning;
};

// Deadlines (TransportOptions::timeout) for what runs sigil: a person or a CI job at the command
// line, and a node hook that must answer well inside containerd's 10 s.
inline constexpr std::chrono::milliseconds kCliTimeout{300'000};
inline constexpr std::chrono::milliseconds kHookTimeout{8'000};

struct TransportOptions {
  // PEM bundle of CAs to trust for TLS (in addition to the system store).
  std::optional<std::filesystem::path> ca_file;
  // "host[:port]" entries: plain HTTP, or TLS without verification, for these hosts only (a
  // warning goes to `warn` once per host). Everything else is HTTPS with full verification.
  std::vector<std::string> insecure_registries;
  // config.json with "auths", "credHelpers", "credsStore"; default $DOCKER_CONFIG/config.json,
  // else ~/.docker/config.json. A missing file means anonymous access.
  std::optional<std::filesystem::path> docker_config;
  // --authfile / REGISTRY_AUTH_FILE: a containers auth.json (same "auths" format) read before
  // everything else, as podman and skopeo do.
  std::optional<std::filesystem::path> auth_file;
  // Docker configs' JSON held in memory ({"auths": {…}}, a .dockerconfigjson each), consulted in
  // order before every file: the admission server's credentials from a pod's imagePullSecrets.
  // Only their "auths" are read: "credHelpers" and "credsStore" name programs to run, which
  // whoever wrote the Secret must not choose. Never logged or quoted.
  std::vector<std::shared_ptr<const SecretBytes>> docker_config_json;
  // The connection phase (TCP, TLS) of one attempt; a timeout there counts as unresponsive.
  std::chrono::milliseconds connect_timeout{10'000};
  // The whole operation: every request the client makes, with its retries, resumes, redirects,
  // token fetches and backoff waits, ends within this time of the client's creation. Past it, or
  // when a wait (a Retry-After included) would go past it, a RegistryError names the deadline at
  // once. 0: no deadline. The CLI sets --timeout (kCliTimeout); node hooks use kHookTimeout.
  std::chrono::milliseconds timeout{0};
  // The pace every transfer must keep, one check over a sliding window of stall_timeout: at
  // least min_transfer_rate bytes per second on average over the last window (and at least one
  // byte: moving nothing for that long is a stall). A transfer that falls behind is aborted;
  // such an unresponsive attempt is tried once more, then the request fails: a server that
  // never answers costs two stall timeouts, and a body trickled just fast enough to never stall
  // still ends. The deadline bounds the rest.
  std::chrono::milliseconds stall_timeout{30'000};
  std::uint64_t min_transfer_rate = 1024;
  // Attempts for idempotent requests (GET, HEAD, PUT of content-addressed data) on 5xx, 429 and
  // dropped connections, with the one backoff: retry_backoff_base doubling with each attempt,
  // ±50 % jitter, each wait at most max_retry_delay. A Retry-After (429, 503) is waited as asked
  // when it is at most max_retry_delay, and fails the request at once when it is longer (or
  // would pass the deadline): waiting less than asked would only be answered 429 again.
  int max_attempts = 4;
  std::chrono::milliseconds retry_backoff_base{250};
  std::chrono::milliseconds max_retry_delay{10'000};
  // Progress of transfers over a few MB: called while they run and once when they end. The
  // library prints nothing itself; the CLI draws a line on a terminal, or logs now and then.
  std::function<void(const TransferProgress&)> progress;
  // Warnings for the user (an insecure registry in use). The library prints nothing itself.
  std::function<void(std::string_view)> warn;
  // Called once per HTTP request with "METHOD URL -> STATUS" (no credentials): -v, benchmarks.
  std::function<void(std::string_view)> trace;
  TRUST_API void validate() const;
};

// What a command's requests cost (benchmarks, -v).
struct RequestStats {
  std::size_t requests = 0;        // every HTTP request, tokens included
  std::size_t token_requests = 0;  // requests to a token endpoint
  std::size_t connections = 0;     // new TCP connections opened
  std::uint64_t bytes_received = 0;
  std::uint64_t bytes_sent = 0;
};

// A repository on a registry: "127.0.0.1:5000" + "lab/hello".
struct Repository {
  std::string registry;
  std::string name;
  TRUST_API static Repository of(const Reference& ref);  // registry references only
  std::string str() const { return registry + "/" + name; }
};

class TRUST_API Client {
 public:
  explicit Client(TransportOptions options = {});
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // GET /v2/ (auth challenge discovery). Throws RegistryError naming the host on failure.
  void ping(std::string_view registry);

  // Manifest by tag: fetched once, its digest computed from the bytes. nullopt on 404.
  // The returned descriptor's media type is the manifest's own (Content-Type / mediaType field).
  struct Fetched {
    oci::Descriptor descriptor;
    Bytes bytes;
  };
  std::optional<Fetched> get_manifest_by_tag(const Repository& repo, std::string_view tag);
  // Manifest by digest, checked against it (and its size when desc.size != 0).
  Bytes get_manifest(const Repository& repo, const oci::Descriptor& desc);
  // HEAD a manifest by tag or digest: its descriptor per the registry, or nullopt (404). The
  // digest here is the registry's claim: use it only to decide whether to fetch.
  std::optional<oci::Descriptor> head_manifest(const Repository& repo, std::string_view reference);
  // PUT a manifest under a tag or its digest. Retries MANIFEST_BLOB_UNKNOWN and DIGEST_INVALID
  // (distribution 2.8 answers these while a concurrent signer uploads the same blob).
  // Returns its descriptor; `subject_processed` is set when the registry answered OCI-Subject.
  oci::Descriptor put_manifest(const Repository& repo, std::string_view reference, ByteView bytes,
                               std::string_view media_type, bool* subject_processed = nullptr);
  void delete_manifest(const Repository& repo, const Digest& digest);

  // Blob into memory (≤ max_bytes, checked from desc.size first) or streamed to `sink` in
  // constant memory; both verified against desc.digest. Follows redirects (≤ 5). A download
  // dropped midway is resumed with Range where it stopped (see docs/registry.md).
  Bytes get_blob(const Repository& repo, const oci::Descriptor& desc, std::uint64_t max_bytes);
  void stream_blob(const Repository& repo, const oci::Descriptor& desc,
                   const std::function<void(ByteView)>& sink);
  // Several small blobs at once (signature payloads, bundles): each ≤ max_bytes (checked from its
  // descriptor first) and verified against its descriptor, handed to `on_blob(i, bytes)` on the
  // calling thread as it arrives, while the bytes of blobs requested and not yet handed over
  // stay within `max_in_flight` (one larger blob goes alone). One attempt each, as HTTP/2
  // streams on one connection where the registry offers it (else on up to
  // limits::kAttachmentFetchThreads connections). Returns the indices of the blobs whose answer
  // needs the slow way (a redirect, a 401, 429 / 5xx, any failure below HTTP): fetch those with
  // get_blob, which retries. Throws at the first other failure (a digest mismatch, a 404, a cap,
  // the deadline).
  std::vector<std::size_t> get_blobs(const Repository& repo,
                                     const std::vector<oci::Descriptor>& descs,
                                     std::uint64_t max_bytes, std::uint64_t max_in_flight,
                                     const std::function<void(std::size_t, Bytes)>& on_blob);
  bool blob_exists(const Repository& repo, const Digest& digest);
  // Uploads a blob held in memory (monolithic POST + PUT), skipping it if it already exists.
  void put_blob(const Repository& repo, ByteView data, const Digest& digest);
  // Uploads a blob from a reader: streamed PATCHes (one for the whole blob, or of `chunk_size`
  // bytes each), then PUT ?digest= only after `read` returned 0 (its verified end); the registry
  // checks the digest before it commits (DigestMismatchError when it refuses). `read` fills the
  // buffer and returns how many bytes it wrote, 0 at the end. Memory stays constant: the bytes
  // go from `read` to the socket.
  void put_blob_stream(const Repository& repo, const Digest& digest, std::uint64_t size,
                       const std::function<std::size_t(std::uint8_t*, std::size_t)>& read,
                       std::uint64_t chunk_size = 0);
  // Cross-repository mount; false when the registry declined (the caller then uploads).
  bool mount_blob(const Repository& repo, const Digest& digest, const Repository& from);

  // Sleeps `delay` within the operation's deadline: a RegistryError at once, naming the
  // deadline, when the delay would pass it (the same rule as the waits between retries).
  void wait(std::chrono::milliseconds delay, const std::string& why) const;

  // Every tag (following Link pagination), at most `max_tags`.
  std::vector<std::string> list_tags(const Repository& repo, std::size_t max_tags = 100000);

  // GET /v2/<repo>/referrers/<digest>[?artifactType=]: the index, or nullopt when the registry
  // does not implement the API (404 / 405 without an OCI index body).
  std::optional<oci::Index> referrers(const Repository& repo, const Digest& subject,
                                      std::string_view artifact_type = {});

  RequestStats stats() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace trust::registry
