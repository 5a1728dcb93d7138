#include "libtrust/sig/cosign_layout.h"

#include <algorithm>

#include "core/json_util.h"
#include "core/parallel.h"
#include "libtrust/core/encoding.h"
#include "libtrust/core/error.h"
#include "libtrust/core/limits.h"
#include "libtrust/core/media_type.h"
#include "libtrust/core/retry.h"

namespace trust::sig {

std::string signature_tag(const Digest& image) {
  return std::string(to_string(image.algorithm())) + "-" + image.hex() + ".sig";
}

namespace {

// The config blob of a signature manifest, as containers/image writes it: the payloads are the
// (uncompressed) layers, so their digests are the diff_ids.
std::string signature_config(const std::vector<oci::Descriptor>& layers) {
  detail::OrderedJson j;
  j["architecture"] = "";
  j["os"] = "";
  j["config"] = detail::OrderedJson::object();
  j["rootfs"]["type"] = "layers";
  j["rootfs"]["diff_ids"] = detail::OrderedJson::array();
  for (const auto& l : layers) j["rootfs"]["diff_ids"].push_back(l.digest.str());
  return detail::dump_compact(j);
}

}  // namespace

std::optional<SignatureManifest> read_cosign_signatures(oci::ImageSource& source,
                                                        const Digest& image) {
  const auto tag = signature_tag(image);
  auto desc = source.find_tag(tag);
  if (!desc) return std::nullopt;
  const std::string what = source.describe() + ": signature manifest " + tag;
  if (desc->media_type != media_type::kOciManifest &&
      desc->media_type != media_type::kDockerManifest) {
    throw UnsupportedError(what + ": unexpected media type '" + desc->media_type.substr(0, 100) +
                           "'");
  }
  auto bytes = source.fetch_manifest(*desc);
  auto manifest = oci::Manifest::parse(bytes, what);
  if (manifest.layers.size() > limits::kMaxSignaturesPerImage) {
    throw LimitError(what + ": " + std::to_string(manifest.layers.size()) +
                     " signature layers is over the limit of " +
                     std::to_string(limits::kMaxSignaturesPerImage));
  }
  SignatureManifest out{.descriptor = *desc, .signatures = {}};
  out.signatures.reserve(manifest.layers.size());
  std::vector<std::size_t> fetch;  // signatures whose payload is to be read
  for (std::size_t i = 0; i < manifest.layers.size(); ++i) {
    const auto& layer = manifest.layers[i];
    CosignSignature s{.index = i, .layer = layer, .payload = {}, .signature = {}, .problem = {}};
    auto ann = layer.annotations.find(std::string(kSignatureAnnotation));
    if (layer.media_type != media_type::kCosignSimpleSigning) {
      s.problem = "layer media type is '" + layer.media_type.substr(0, 100) + "', not " +
                  std::string(media_type::kCosignSimpleSigning);
    } else if (ann == layer.annotations.end()) {
      s.problem = "layer has no " + std::string(kSignatureAnnotation) + " annotation";
    } else if (layer.size > limits::kMaxAttachmentLayerBytes) {
      s.problem = "layer size " + std::to_string(layer.size) + " is over the limit of " +
                  std::to_string(limits::kMaxAttachmentLayerBytes) + " bytes";
    } else {
      try {
        s.signature = base64_decode(ann->second, "signature annotation");
      } catch (const InputError& e) {
        s.problem = e.what();
      }
      if (!s.problem && s.signature.empty()) s.problem = "signature annotation is empty";
      if (!s.problem) fetch.push_back(i);
    }
    out.signatures.push_back(std::move(s));
  }
  // The payloads, several at a time where the source allows it: a registry then answers the
  // 100 allowed in a fraction of the time one request after another takes.
  detail::for_each_index(fetch.size(),
                         source.supports_parallel_reads() ? limits::kAttachmentFetchThreads : 1,
                         [&](std::size_t k) {
                           auto& s = out.signatures[fetch[k]];
                           s.payload = source.fetch_blob(s.layer, limits::kMaxAttachmentLayerBytes);
                         });
  return out;
}

namespace {

// The layers of the current signature manifest under `tag` (empty when there is none).
std::vector<oci::Descriptor> current_layers(oci::ImageStore& store, const std::string& tag) {
  auto existing = store.find_tag(tag);
  if (!existing) return {};
  auto bytes = store.fetch_manifest(*existing);
  return oci::Manifest::parse(bytes, store.describe() + ": signature manifest " + tag).layers;
}

bool has_layer(const std::vector<oci::Descriptor>& layers, const Digest& payload,
               const std::string& signature_b64) {
  for (const auto& l : layers) {
    auto ann = l.annotations.find(std::string(kSignatureAnnotation));
    if (l.digest == payload && ann != l.annotations.end() && ann->second == signature_b64) {
      return true;
    }
  }
  return false;
}

}  // namespace

bool append_cosign_signature(oci::ImageStore& store, const Digest& image, ByteView payload,
                             ByteView signature) {
  const auto tag = signature_tag(image);
  const auto payload_digest = Digest::of(payload);
  const auto signature_b64 = base64_encode(signature);
  bool appended = false;
  bool blob_stored = false;

  // Read, append, write, re-read, and read again once the other writers had time to write: a
  // signer that finds its layer gone (another signer's manifest replaced ours) merges again.
  merge_until_stable(
      store.describe() + ": signature manifest " + tag,
      [&]() -> MergeStep {
        auto layers = current_layers(store, tag);
        if (has_layer(layers, payload_digest, signature_b64)) return MergeStep::kDone;
        if (layers.size() >= limits::kMaxSignaturesPerImage) {
          throw LimitError(store.describe() + ": signature manifest " + tag + " already holds " +
                           std::to_string(layers.size()) + " signatures (limit " +
                           std::to_string(limits::kMaxSignaturesPerImage) + ")");
        }
        if (!blob_stored) {
          store.put_blob(payload, payload_digest);
          blob_stored = true;
        }
        oci::Descriptor layer;
        layer.media_type = std::string(media_type::kCosignSimpleSigning);
        layer.digest = payload_digest;
        layer.size = payload.size();
        layer.annotations[std::string(kSignatureAnnotation)] = signature_b64;
        layers.push_back(std::move(layer));

        auto config = signature_config(layers);
        oci::Manifest m;
        m.schema_version = 2;
        m.media_type = std::string(media_type::kOciManifest);
        m.config.media_type = std::string(media_type::kOciConfig);
        m.config.digest = Digest::of(as_bytes(config));
        m.config.size = config.size();
        m.layers = std::move(layers);
        store.put_blob(as_bytes(config), m.config.digest);
        auto json = m.to_json();
        store.set_tag(tag, store.put_manifest(as_bytes(json), media_type::kOciManifest));
        appended = true;
        return has_layer(current_layers(store, tag), payload_digest, signature_b64)
                   ? MergeStep::kWritten
                   : MergeStep::kRetry;
      },
      store.merge_settle_time());
  return appended;
}

}  // namespace trust::sig
