#pragma once
// Named limits on everything read from untrusted input (DESIGN.md "Limits").
// Each has a test at and past the bound.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "libtrust/export.h"

namespace trust::limits {

// The one check of a count or size read from outside against its limit: throws LimitError
// "<what>: <value> <noun> is over the limit of <limit>" when value > limit. Every limit below is
// enforced through it, so each is spelled, and tested, once per entry point.
TRUST_API void check(std::uint64_t value, std::uint64_t limit, std::string_view what,
                     std::string_view noun);

inline constexpr std::size_t kMaxManifestBytes = 4u << 20;  // manifest or index
inline constexpr std::uint64_t kMaxAttachmentLayerBytes = 128ull
                                                          << 20;  // signature/attestation layer
inline constexpr std::size_t kMaxSignaturesPerImage = 100;
inline constexpr std::size_t kMaxLayersPerManifest = 1000;
inline constexpr std::size_t kMaxIndexEntries = 1000;
inline constexpr int kMaxJsonDepth = 64;
// JSON values (scalars, objects, arrays) per KiB of a document's size limit: a 4 MiB manifest may
// hold 131072 of them. A parsed value takes a hundred bytes or more whatever its text, so this
// bounds what parsing a document of tiny values costs (about 25 MiB for a manifest).
inline constexpr std::size_t kMaxJsonValuesPerKiB = 32;
inline constexpr std::size_t kMaxRegistryErrorBody = 64u << 10;
inline constexpr int kMaxRedirects = 5;
inline constexpr std::uint64_t kMaxScryptN = 131072;

// Not in DESIGN.md, but bounded all the same.
inline constexpr std::size_t kMaxConfigBytes = 8u << 20;           // image config blob
inline constexpr std::size_t kMaxKeyFileBytes = 64u << 10;         // PEM key files
inline constexpr std::size_t kMaxPasswordBytes = 1024;             // --password-file
inline constexpr std::size_t kMaxArchiveManifestBytes = 4u << 20;  // docker-archive manifest.json
inline constexpr std::size_t kMaxArchiveEntries = 100000;          // entries in a docker-archive
inline constexpr std::size_t kMaxAnnotations = 256;  // -a k=v / annotations per object
inline constexpr int kMaxIndexNesting = 4;           // an index inside an index inside …

// Registry client (libtrust/registry): everything a registry, token server or credential helper
// sends is bounded too.
inline constexpr std::size_t kMaxTokenResponseBytes = 1u << 20;       // bearer token JSON
inline constexpr std::size_t kMaxAuthHeaderBytes = 8u << 10;          // one WWW-Authenticate
inline constexpr std::size_t kMaxResponseHeaderBytes = 256u << 10;    // all headers of a response
inline constexpr std::size_t kMaxTagListPageBytes = 8u << 20;         // one /tags/list page
inline constexpr std::size_t kMaxTagListPages = 10000;                // pages followed via Link
inline constexpr std::size_t kMaxReferrersPages = 16;                 // referrers pages via Link
inline constexpr std::size_t kMaxDockerConfigBytes = 1u << 20;        // config.json
inline constexpr std::size_t kMaxCredentialHelperOutput = 64u << 10;  // docker-credential-* get
inline constexpr int kMaxManifestPutRetries = 6;  // MANIFEST_BLOB_UNKNOWN / DIGEST_INVALID
// A blob download dropped after some bytes is resumed with Range this many times at most.
inline constexpr int kMaxBlobResumes = 8;

// Registry transport (libtrust/registry: http.cpp, token_auth.cpp). Time a registry can make a
// client spend is bounded by TransportOptions (timeout, stall_timeout, min_transfer_rate,
// max_retry_delay); what it sends about time is bounded here.
// A bearer token's expires_in is clamped to this (a lifetime near INT64_MAX overflowed the clock
// and made every request fetch a new token).
inline constexpr std::int64_t kMaxTokenLifetimeSeconds = 24 * 3600;

// Attachments of one image (signature payloads, bundles) fetched at once, and the bytes they may
// hold before they are judged and dropped (ImageSource::fetch_blobs). 16 MiB: signature payloads
// are a few hundred bytes, so this bounds only hostile ones (four 4 MiB payloads, two 6 MiB
// bundles at once), and with the parse of the one being judged keeps verify within its budget.
inline constexpr std::size_t kAttachmentFetchThreads = 8;
inline constexpr std::uint64_t kMaxAttachmentBytesInFlight = 16ull << 20;

// Signatures (sig/, verify/): what a signature can be at most, so that anything larger is refused
// from its descriptor before a byte of it is read, and what `sigil verify` holds stays bounded
// (signatures are fetched through ImageSource::fetch_blobs and judged one at a time).
// A cosign simple-signing payload, and the in-toto statement of a bundle signature: both are
// parsed as JSON with the manifest cap, so a larger one can never be valid.
inline constexpr std::uint64_t kMaxSignaturePayloadBytes = kMaxManifestBytes;
// A signature bundle: a statement of at most kMaxSignaturePayloadBytes, base64-encoded in a DSSE
// envelope (4/3 of it, 5.33 MiB), with the signature, key hint and tlog entries around it.
inline constexpr std::uint64_t kMaxSignatureBundleBytes = 6ull << 20;
// A bundle referrer manifest: an empty config, one layer, the subject and a few annotations
// (cosign writes under 1 KiB). Refused from its descriptor before it is fetched: a manifest can be
// 4 MiB, and 100 of them of JSON that grows when parsed cost minutes and hundreds of MiB.
inline constexpr std::uint64_t kMaxBundleReferrerManifestBytes = 64u << 10;
// Signatures in one DSSE envelope (a bundle's envelope holds exactly one).
inline constexpr std::size_t kMaxDsseSignatures = 100;

// Local image sources and walking an image (libtrust/oci).
// Manifests and indexes one walk of an image visits (inspect_image, a copy, signing): every
// listing counts, an index entry repeated or listed by several indexes each time (each is fetched
// once), so indexes that list each other many times cannot multiply the work.
inline constexpr std::size_t kMaxManifestsPerImage = 2048;
// The oci-layout file of a layout or of a docker-archive's OCI form.
inline constexpr std::size_t kMaxOciLayoutFileBytes = 4096;
// After its first pass, a compressed docker-archive may be decompressed again (for blobs read out
// of the order they are stored in) by at most this many times its decompressed size in all.
inline constexpr std::uint64_t kMaxArchiveRereadFactor = 4;

// sigil login (sign/login_commands.cpp): a registry password or token read with
// --password-stdin. Tokens run long (an AWS ECR token is 2-3 KB, an identity provider's JWT can
// be several); as much as a credential helper may answer (kMaxCredentialHelperOutput).
inline constexpr std::size_t kMaxRegistryPasswordBytes = 64u << 10;

// Release files (sig/blob.h: sign-blob, verify-blob, attest-blob, verify-blob-attestation). A
// blob hashed as it streams (ECDSA and RSA keys, attestations) has no size limit: it is read in
// chunks of kBlobReadChunkBytes, and only the hash state is kept.
inline constexpr std::size_t kBlobReadChunkBytes = 1u << 20;
// Ed25519 signs the message itself, not a digest of it (cosign's blob format has no prehashed
// Ed25519), so a blob signed or verified with an Ed25519 key is read into memory: at most this.
inline constexpr std::uint64_t kMaxEd25519BlobBytes = 128ull << 20;
// A detached signature file: base64 of one signature (RSA-4096: 512 bytes, 684 in base64).
inline constexpr std::size_t kMaxBlobSignatureFileBytes = 64u << 10;
// An attestation envelope file: an envelope of at most sig::kMaxDsseEnvelopeBytes (16 MiB), as
// JSON or base64 of it (4/3 larger), with line breaks.
inline constexpr std::size_t kMaxEnvelopeFileBytes = 24u << 20;
// attest-blob --predicate: a JSON object, so that the statement around it, base64 in an envelope,
// stays within sig::kMaxDsseEnvelopeBytes.
inline constexpr std::size_t kMaxPredicateBytes = 8u << 20;

// Attestations on images (sig/cosign_layout.h visit_cosign_attestations, check/download.h). An
// .att layer is one DSSE envelope of at most sig::kMaxDsseEnvelopeBytes (16 MiB: an SBOM
// attestation can be megabytes), checked from its descriptor before it is read; the .att
// layers per image are capped by kMaxSignaturesPerImage. A legacy .sbom layer (`cosign attach
// sbom`, printed by `sigil download sbom`) is held whole: at most this.
inline constexpr std::uint64_t kMaxSbomLayerBytes = 64ull << 20;

// The trust policy file (verify/trust_policy_file.cpp). A policy is written by an operator, but it
// is read by hooks running as root on every node, so what a file can make them hold is bounded.
// 1 MiB holds a thousand rules with their globs and inline keys several times over.
inline constexpr std::size_t kMaxPolicyFileBytes = 1u << 20;
inline constexpr std::size_t kMaxPolicyRules = 1000;
inline constexpr std::size_t kMaxPolicyKeys = 1000;
// A rule's or key's name: messages and traces quote it whole.
inline constexpr std::size_t kMaxPolicyNameBytes = 256;
// YAML values (scalars, lists, mappings) in one file: a thousand rules of twenty values each with
// room to spare; bounds what a file of tiny values (`[1,1,1,…]`) costs to hold once parsed.
inline constexpr std::size_t kMaxPolicyValues = 100000;
// Lists and mappings inside each other: the format needs 5 (rules, a rule, attestations, one of
// them, its `where`); anything much deeper is not a policy.
inline constexpr std::size_t kMaxPolicyNesting = 16;

// The node hooks (issue 10): the verified-digest cache (verify/digest_cache.h) and the containerd
// image verifier in sigil-verify. An entry holds one verdict's digests, times, key names and cause
// (well under 4 KiB); the descriptor containerd writes on stdin is a few hundred bytes (a 1 MiB cap
// leaves room for annotations and still ends a hook fed garbage); containerd keeps the first
// 32 KiB of a verifier's stdout (pkg/imageverifier/bindir outputLimitBytes).
inline constexpr std::size_t kMaxCacheEntryBytes = 64u << 10;  // one cache entry (or its marker)
inline constexpr std::size_t kMaxHookStdinBytes = 1u << 20;    // the descriptor on stdin
inline constexpr std::size_t kMaxHookReasonBytes = 32u << 10;  // what stdout may say

// The admission server's pull secrets (sigil serve --pull-secrets: verify/kube_api.cpp and
// verify/admission_enforcer.cpp). A Secret holds at most 1 MiB of data (the API server's limit),
// base64 in the API server's answer, so 2 MiB covers it with its metadata; a service account
// token is a JWT of about 1 KiB; a pod names a handful of imagePullSecrets, and each is a request
// to the API server within the review's deadline.
inline constexpr std::size_t kMaxKubeSecretResponseBytes = 2u << 20;
inline constexpr std::size_t kMaxServiceAccountTokenBytes = 64u << 10;
inline constexpr std::size_t kMaxPullSecrets = 16;

// The Docker authorization plugin (check/docker_authz.h, sigil-verify docker-authz). A plugin
// request carries the client's request body (at most 4 MiB from moby 25 on, 1 MiB in 20.10)
// base64-encoded, 4/3 larger, with the headers around it; an AuthZRes request carries the
// daemon's whole response instead (unbounded in 20.10): it is read and dropped, up to
// kMaxDockerAuthzDrainBytes, never kept. The daemon's image inspect
// answer is a few KiB; its RepoTags and RepoDigests are each capped, since every repo digest may
// cost a verification.
inline constexpr std::size_t kMaxDockerAuthzRequestBytes = 8u << 20;
inline constexpr std::uint64_t kMaxDockerAuthzDrainBytes = 1ull << 30;
inline constexpr std::size_t kMaxDockerImageInspectBytes = 4u << 20;
inline constexpr std::size_t kMaxDockerImageNames = 100;

// Kubernetes objects (check/kube_workload.h). One object as JSON text is at most what the API
// server takes in one request (3 MiB); the caps of its containers and images are in
// kube_workload.h. Manifests (read_manifests, `sigil policy check -f`): `helm template` of the
// largest charts writes a few MiB, so a file (or stdin) of 32 MiB is ample; each document is read
// into a tree and dropped before the next, so what it may hold is capped per document: 200000
// values is twice what a 3 MiB object of tiny JSON values holds (kMaxJsonValuesPerKiB), about
// 20 MiB once parsed. A CRD's schema nests some 30 levels; 64 is JSON's cap too.
inline constexpr std::size_t kMaxKubeObjectBytes = 3u << 20;
inline constexpr std::size_t kMaxManifestFileBytes = 32u << 20;
inline constexpr std::size_t kMaxManifestDocuments = 10000;  // `---` documents in one file
inline constexpr std::size_t kMaxManifestObjects = 10000;    // objects in one file, List items too
inline constexpr std::size_t kMaxManifestValues = 200000;    // YAML values in one document
inline constexpr std::size_t kMaxManifestNesting = 64;       // lists and mappings inside each other

// sigil serve (verify/serve_command.cpp): the certificate and key files it serves, read again
// when they change (a PEM chain and one key; real ones are a few KiB).
inline constexpr std::size_t kMaxServeCertificateFileBytes = 1u << 20;

}  // namespace trust::limits
