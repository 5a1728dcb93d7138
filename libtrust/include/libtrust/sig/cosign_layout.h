#pragma once
// Signatures stored the way cosign stores them: tag "sha256-<hex>.sig" in the image's repository
// (or layout) holds an OCI image manifest with one layer per signature; each layer's blob is the
// signed payload and its annotation "dev.cosignproject.cosign/signature" the base64 signature.

#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "libtrust/core/bytes.h"
#include "libtrust/core/digest.h"
#include "libtrust/export.h"
#include "libtrust/oci/image_source.h"
#include "libtrust/sig/entity.h"

namespace trust::sig {

inline constexpr std::string_view kSignatureAnnotation = "dev.cosignproject.cosign/signature";

// "sha256-<hex>.sig" for an image digest.
TRUST_API std::string signature_tag(const Digest& image);

// One signature layer as found, before any verification. `problem` is set when the layer cannot
// be a valid signature (wrong media type, missing or malformed annotation, unreadable blob):
// such an entry never verifies, but is reported.
struct CosignSignature {
  std::size_t index = 0;  // position in the signature manifest
  oci::Descriptor layer;  // the layer descriptor
  Bytes payload;          // the blob (empty when problem is set)
  Bytes signature;        // decoded annotation (empty when problem is set)
  std::optional<std::string> problem;
};

// The signed entity this layer is (kCosignSignature; its problem, if any, kept).
TRUST_API SignedEntity to_entity(CosignSignature signature);

struct SignatureManifest {
  oci::Descriptor descriptor;  // of the .sig manifest itself
  std::vector<CosignSignature> signatures;
};

// Reads the signatures attached to `image` in `source` and hands each one, its payload read or
// its problem set, to `on_signature` as it arrives, on the calling thread (in any order: `index` is
// the position). The payload is on_signature's to judge and drop: the bytes held at once stay
// within limits::kMaxAttachmentBytesInFlight (ImageSource::fetch_blobs). Returns the .sig
// manifest's descriptor, or nullopt (and no call) when there is no .sig tag.
// At most limits::kMaxSignaturesPerImage layers (LimitError past that, before any blob is read);
// a layer larger than limits::kMaxSignaturePayloadBytes by its descriptor (it could never be a
// valid payload) is a problem, not read. A blob that does not match its digest is a
// DigestMismatchError, thrown once the fetches under way have stopped.
TRUST_API std::optional<oci::Descriptor> visit_cosign_signatures(
    oci::ImageSource& source, const Digest& image,
    const std::function<void(CosignSignature)>& on_signature);

// The same signatures collected, in layer order: holds every payload at once (up to
// kMaxSignaturesPerImage × kMaxSignaturePayloadBytes). For tests and tools that need the bytes;
// verification uses visit_cosign_signatures.
TRUST_API std::optional<SignatureManifest> read_cosign_signatures(oci::ImageSource& source,
                                                                  const Digest& image);

// One layer to append to a cosign attachment manifest (.sig or .att): its blob, media type and
// annotations, exactly as they are written.
struct CosignLayer {
  std::string media_type;
  ByteView blob;
  std::map<std::string, std::string> annotations;
};

// Decides, for each layer already in the manifest, whether the append drops it (--replace). The
// new layer itself is never offered.
using DropLayer = std::function<bool(const oci::Descriptor&)>;

struct CosignAppend {
  bool appended = true;     // false: an identical layer was already there (nothing written)
  std::size_t dropped = 0;  // layers `drop` removed in the write that held
  std::size_t layers = 0;   // layers of the manifest as written (or found)
};

// The one append to a cosign attachment manifest, for signatures and attestations alike: reads
// the manifest under `tag` (creating it if absent), drops the layers `drop` picks, appends
// `layer` and moves the tag, then confirms through core/retry.h's merge loop that no concurrent
// writer's manifest replaced ours (merging again if one did), so that every writer's layer is
// kept. An identical layer (same media type, digest and annotations) is not appended twice.
// Refuses (LimitError, nothing written) to grow past limits::kMaxSignaturesPerImage layers.
// `kind` ("signature", "attestation") names the manifest and its layers in messages.
TRUST_API CosignAppend append_cosign_layer(oci::ImageStore& store, const std::string& tag,
                                           const CosignLayer& layer, std::string_view kind,
                                           const DropLayer& drop = {});

// Attestations stored the way cosign stores them: tag "sha256-<hex>.att" holds an OCI image
// manifest with one layer per attestation, each a DSSE envelope (mediaType
// application/vnd.dsse.envelope.v1+json) with the annotation "predicateType". That annotation is
// a claim of whoever wrote the layer: kept to be shown, never used to decide anything (the type
// that counts is the one inside the signed statement).
inline constexpr std::string_view kPredicateTypeAnnotation = "predicateType";

// "sha256-<hex>.att" for an image digest.
TRUST_API std::string attestation_tag(const Digest& image);
// "cosign .att layer N": the origin of an attestation entity read from a .att layer.
TRUST_API std::string cosign_attestation_origin(std::size_t index);

// One attestation layer as found, before any verification. `problem` is set when the layer
// cannot be a valid attestation (wrong media type, larger than sig::kMaxDsseEnvelopeBytes by its
// descriptor): such an entry never verifies, but is reported.
struct CosignAttestation {
  std::size_t index = 0;  // position in the attestation manifest
  oci::Descriptor layer;  // the layer descriptor
  Bytes envelope;         // the blob: the envelope JSON (empty when problem is set)
  std::optional<std::string> claimed_predicate_type;  // the layer's predicateType annotation
  std::optional<std::string> problem;
};

// The signed entity this layer is (kDsseAttestation: its envelope parsed strictly, a malformed
// one the entity's problem; the claimed predicate type kept).
TRUST_API SignedEntity to_entity(CosignAttestation attestation);

// Reads the attestations attached to `image` in `source` as visit_cosign_signatures reads
// signatures (the same manifest reader, the same fetching): each handed to `on_attestation` as it
// arrives, on the calling thread, in any order. At most limits::kMaxSignaturesPerImage layers
// (LimitError before any blob is read); a layer larger than sig::kMaxDsseEnvelopeBytes by its
// descriptor is a problem, not read; the bytes held at once stay within
// limits::kMaxAttachmentBytesInFlight. Returns the .att manifest's descriptor, or nullopt (and no
// call) when there is no .att tag. A blob that does not match its digest is a
// DigestMismatchError.
TRUST_API std::optional<oci::Descriptor> visit_cosign_attestations(
    oci::ImageSource& source, const Digest& image,
    const std::function<void(CosignAttestation)>& on_attestation);

// Appends a signature layer to the .sig manifest of `image` (creating it if absent) and moves the
// tag, through append_cosign_layer. Returns false, writing nothing, if an identical layer (same
// payload and signature) is already there. Refuses to grow past limits::kMaxSignaturesPerImage.
TRUST_API bool append_cosign_signature(oci::ImageStore& store, const Digest& image,
                                       ByteView payload, ByteView signature);

}  // namespace trust::sig
