#include "libtrust/oci/manifest.h"

#include <string>

#include "libtrust/core/error.h"
#include "libtrust/core/limits.h"
#include "oci/oci_internal.h"

namespace trust::oci {

using detail::Json;
using detail::OrderedJson;
namespace mt = media_type;

std::string Platform::str() const {
  std::string out = os + "/" + architecture;
  if (!variant.empty()) out += "/" + variant;
  return out;
}

namespace detail {

std::string list_names(const std::vector<std::string>& names) {
  constexpr std::size_t kMaxListed = 32;
  if (names.empty()) return "none";
  std::string out;
  for (std::size_t i = 0; i < names.size() && i < kMaxListed; ++i) {
    if (i) out += ", ";
    out += names[i];
  }
  if (names.size() > kMaxListed) out += ", … (" + std::to_string(names.size()) + " in all)";
  return out;
}

void check_size_cap(const Descriptor& desc, std::uint64_t max_bytes, std::string_view what) {
  if (desc.size > max_bytes) {
    throw LimitError(std::string(what) + ": blob " + desc.digest.str() + " declares " +
                     std::to_string(desc.size) + " bytes, over the limit of " +
                     std::to_string(max_bytes) + " bytes");
  }
}

BlobVerifier::BlobVerifier(const Descriptor& desc, std::string what)
    : desc_(desc), what_(std::move(what)), hasher_(desc.digest.algorithm()) {}

void BlobVerifier::update(ByteView data) {
  count_ += data.size();
  if (count_ > desc_.size) {
    throw DigestMismatchError(what_ + ": blob " + desc_.digest.str() + " is longer than the " +
                              std::to_string(desc_.size) + " bytes its descriptor declares");
  }
  hasher_.update(data);
}

void BlobVerifier::finish() {
  if (count_ != desc_.size) {
    throw DigestMismatchError(what_ + ": blob " + desc_.digest.str() + " has " +
                              std::to_string(count_) + " bytes, its descriptor declares " +
                              std::to_string(desc_.size));
  }
  auto got = hasher_.finish();
  if (got != desc_.digest) {
    throw DigestMismatchError(what_ + ": blob " + desc_.digest.str() +
                              " does not match its digest (content hashes to " + got.str() + ")");
  }
}

Annotations parse_annotations(const Json& j, std::string_view what) {
  if (!j.is_object()) throw InputError(std::string(what) + ": 'annotations' must be an object");
  if (j.size() > limits::kMaxAnnotations) {
    throw LimitError(std::string(what) + ": " + std::to_string(j.size()) +
                     " annotations, over the limit of " + std::to_string(limits::kMaxAnnotations));
  }
  Annotations out;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (!it.value().is_string()) {
      throw InputError(std::string(what) + ": annotation '" + it.key().substr(0, 80) +
                       "' must be a string");
    }
    out.emplace(it.key(), it.value().get<std::string>());
  }
  return out;
}

}  // namespace detail

namespace {

std::vector<std::string> string_array(const Json& j, std::string_view key, std::string_view what) {
  const auto& arr = trust::detail::require_array(j, key, what);
  std::vector<std::string> out;
  for (const auto& v : arr) {
    if (!v.is_string()) {
      throw InputError(std::string(what) + ": '" + std::string(key) + "' must hold strings");
    }
    out.push_back(v.get<std::string>());
  }
  return out;
}

Platform parse_platform(const Json& j, std::string_view what) {
  if (!j.is_object()) throw InputError(std::string(what) + ": 'platform' must be an object");
  Platform p;
  p.os = trust::detail::require_string(j, "os", what);
  p.architecture = trust::detail::require_string(j, "architecture", what);
  p.variant = trust::detail::optional_string(j, "variant", what).value_or("");
  p.os_version = trust::detail::optional_string(j, "os.version", what).value_or("");
  if (j.contains("os.features")) p.os_features = string_array(j, "os.features", what);
  return p;
}

OrderedJson platform_to_json(const Platform& p) {
  OrderedJson j = OrderedJson::object();
  j["architecture"] = p.architecture;
  j["os"] = p.os;
  if (!p.os_version.empty()) j["os.version"] = p.os_version;
  if (!p.os_features.empty()) j["os.features"] = p.os_features;
  if (!p.variant.empty()) j["variant"] = p.variant;
  return j;
}

std::uint64_t parse_size(const Json& j, std::string_view what) {
  const auto& v = trust::detail::require_field(j, "size", what);
  if (v.is_number_unsigned()) return v.get<std::uint64_t>();
  if (v.is_number_integer()) {
    throw InputError(std::string(what) + ": 'size' must not be negative");
  }
  throw InputError(std::string(what) + ": 'size' must be a non-negative integer");
}

int parse_schema_version(const Json& j, std::string_view what) {
  const auto& v = trust::detail::require_field(j, "schemaVersion", what);
  if (!v.is_number_integer()) {
    throw InputError(std::string(what) + ": 'schemaVersion' must be an integer");
  }
  auto n = v.get<std::int64_t>();
  if (n != 2) {
    throw UnsupportedError(std::string(what) + ": schemaVersion " + std::to_string(n) +
                           " is not supported (only 2)");
  }
  return 2;
}

std::optional<Descriptor> optional_descriptor(const Json& j, std::string_view key,
                                              std::string_view what) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::nullopt;
  return detail::parse_descriptor(*it, std::string(what) + " " + std::string(key));
}

std::vector<Descriptor> descriptor_array(const Json& j, std::string_view key, std::size_t cap,
                                         std::string_view what) {
  const auto& arr = trust::detail::require_array(j, key, what);
  if (arr.size() > cap) {
    throw LimitError(std::string(what) + ": " + std::to_string(arr.size()) + " " +
                     std::string(key) + ", over the limit of " + std::to_string(cap));
  }
  std::vector<Descriptor> out;
  out.reserve(arr.size());
  for (std::size_t i = 0; i < arr.size(); ++i) {
    out.push_back(detail::parse_descriptor(
        arr[i], std::string(what) + " " + std::string(key) + "[" + std::to_string(i) + "]"));
  }
  return out;
}

Json parse_object(ByteView bytes, std::string_view what, std::size_t max_bytes) {
  auto j = trust::detail::parse_json(bytes, what, max_bytes);
  if (!j.is_object()) throw InputError(std::string(what) + ": expected a JSON object");
  return j;
}

void put_common_tail(OrderedJson& j, const std::optional<Descriptor>& subject,
                     const Annotations& annotations) {
  if (subject) j["subject"] = detail::descriptor_to_json(*subject);
  if (!annotations.empty()) j["annotations"] = annotations;
}

}  // namespace

namespace detail {

Descriptor parse_descriptor(const Json& j, std::string_view what) {
  if (!j.is_object()) throw InputError(std::string(what) + ": descriptor must be an object");
  Descriptor d;
  d.media_type = trust::detail::require_string(j, "mediaType", what);
  d.digest = Digest::parse(trust::detail::require_string(j, "digest", what),
                           std::string(what) + " digest");
  d.size = parse_size(j, what);
  if (auto it = j.find("annotations"); it != j.end() && !it->is_null()) {
    d.annotations = parse_annotations(*it, what);
  }
  if (auto it = j.find("platform"); it != j.end() && !it->is_null()) {
    d.platform = parse_platform(*it, std::string(what) + " platform");
  }
  d.artifact_type = trust::detail::optional_string(j, "artifactType", what);
  if (auto it = j.find("urls"); it != j.end() && !it->is_null())
    d.urls = string_array(j, "urls", what);
  return d;
}

OrderedJson descriptor_to_json(const Descriptor& d) {
  OrderedJson j = OrderedJson::object();
  j["mediaType"] = d.media_type;
  j["digest"] = d.digest.str();
  j["size"] = d.size;
  if (!d.urls.empty()) j["urls"] = d.urls;
  if (!d.annotations.empty()) j["annotations"] = d.annotations;
  if (d.platform) j["platform"] = platform_to_json(*d.platform);
  if (d.artifact_type) j["artifactType"] = *d.artifact_type;
  return j;
}

}  // namespace detail

bool is_index_media_type(std::string_view m) {
  return m == mt::kOciIndex || m == mt::kDockerManifestList;
}

bool is_manifest_media_type(std::string_view m) {
  return m == mt::kOciManifest || m == mt::kDockerManifest;
}

std::optional<Compression> layer_compression(std::string_view m) {
  if (m == mt::kOciLayerTar || m == "application/vnd.docker.image.rootfs.diff.tar" ||
      m == "application/vnd.oci.image.layer.nondistributable.v1.tar") {
    return Compression::kNone;
  }
  if (m == mt::kOciLayerGzip || m == mt::kOciLayerNondistGzip || m == mt::kDockerLayerGzip ||
      m == mt::kDockerLayerForeignGzip) {
    return Compression::kGzip;
  }
  if (m == mt::kOciLayerZstd ||
      m == "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd") {
    return Compression::kZstd;
  }
  return std::nullopt;
}

Manifest Manifest::parse(ByteView bytes, std::string_view what) {
  auto j = parse_object(bytes, what, limits::kMaxManifestBytes);
  Manifest m;
  m.schema_version = parse_schema_version(j, what);
  m.media_type = trust::detail::optional_string(j, "mediaType", what).value_or("");
  if (!m.media_type.empty() && !is_manifest_media_type(m.media_type)) {
    if (is_index_media_type(m.media_type)) {
      throw InputError(std::string(what) + ": is an image index (" + m.media_type +
                       "), not an image manifest");
    }
    throw UnsupportedError(std::string(what) + ": unsupported manifest media type '" +
                           m.media_type.substr(0, 200) + "'");
  }
  if (j.contains("manifests")) {
    throw InputError(std::string(what) + ": an image manifest must not have 'manifests'");
  }
  m.artifact_type = trust::detail::optional_string(j, "artifactType", what);
  m.config = detail::parse_descriptor(trust::detail::require_field(j, "config", what),
                                      std::string(what) + " config");
  m.layers = descriptor_array(j, "layers", limits::kMaxLayersPerManifest, what);
  m.subject = optional_descriptor(j, "subject", what);
  if (auto it = j.find("annotations"); it != j.end() && !it->is_null()) {
    m.annotations = detail::parse_annotations(*it, what);
  }
  m.raw.assign(bytes.begin(), bytes.end());
  return m;
}

std::string Manifest::to_json() {
  OrderedJson j = OrderedJson::object();
  j["schemaVersion"] = schema_version;
  if (!media_type.empty()) j["mediaType"] = media_type;
  if (artifact_type) j["artifactType"] = *artifact_type;
  j["config"] = detail::descriptor_to_json(config);
  j["layers"] = OrderedJson::array();
  for (const auto& l : layers) j["layers"].push_back(detail::descriptor_to_json(l));
  put_common_tail(j, subject, annotations);
  auto s = trust::detail::dump_compact(j);
  raw = to_bytes(s);
  return s;
}

Index Index::parse(ByteView bytes, std::string_view what) {
  auto j = parse_object(bytes, what, limits::kMaxManifestBytes);
  Index x;
  x.schema_version = parse_schema_version(j, what);
  x.media_type = trust::detail::optional_string(j, "mediaType", what).value_or("");
  if (!x.media_type.empty() && !is_index_media_type(x.media_type)) {
    if (is_manifest_media_type(x.media_type)) {
      throw InputError(std::string(what) + ": is an image manifest (" + x.media_type +
                       "), not an index");
    }
    throw UnsupportedError(std::string(what) + ": unsupported index media type '" +
                           x.media_type.substr(0, 200) + "'");
  }
  if (j.contains("layers") || j.contains("config")) {
    throw InputError(std::string(what) + ": an index must not have 'layers' or 'config'");
  }
  x.artifact_type = trust::detail::optional_string(j, "artifactType", what);
  x.manifests = descriptor_array(j, "manifests", limits::kMaxIndexEntries, what);
  x.subject = optional_descriptor(j, "subject", what);
  if (auto it = j.find("annotations"); it != j.end() && !it->is_null()) {
    x.annotations = detail::parse_annotations(*it, what);
  }
  x.raw.assign(bytes.begin(), bytes.end());
  return x;
}

std::string Index::to_json() {
  OrderedJson j = OrderedJson::object();
  j["schemaVersion"] = schema_version;
  if (!media_type.empty()) j["mediaType"] = media_type;
  if (artifact_type) j["artifactType"] = *artifact_type;
  j["manifests"] = OrderedJson::array();
  for (const auto& m : manifests) j["manifests"].push_back(detail::descriptor_to_json(m));
  put_common_tail(j, subject, annotations);
  auto s = trust::detail::dump_compact(j);
  raw = to_bytes(s);
  return s;
}

ImageConfig ImageConfig::parse(ByteView bytes, std::string_view what) {
  auto j = parse_object(bytes, what, limits::kMaxConfigBytes);
  ImageConfig c;
  c.os = trust::detail::optional_string(j, "os", what).value_or("");
  c.architecture = trust::detail::optional_string(j, "architecture", what).value_or("");
  auto rootfs = j.find("rootfs");
  if (rootfs == j.end() || rootfs->is_null()) return c;
  if (!rootfs->is_object()) throw InputError(std::string(what) + ": 'rootfs' must be an object");
  auto ids = rootfs->find("diff_ids");
  if (ids == rootfs->end() || ids->is_null()) return c;
  if (!ids->is_array())
    throw InputError(std::string(what) + ": 'rootfs.diff_ids' must be an array");
  if (ids->size() > limits::kMaxLayersPerManifest) {
    throw LimitError(std::string(what) + ": " + std::to_string(ids->size()) +
                     " diff_ids, over the limit of " +
                     std::to_string(limits::kMaxLayersPerManifest));
  }
  for (const auto& v : *ids) {
    if (!v.is_string())
      throw InputError(std::string(what) + ": 'rootfs.diff_ids' must hold strings");
    c.diff_ids.push_back(Digest::parse(v.get<std::string>(), std::string(what) + " diff_id"));
  }
  return c;
}

namespace detail {

std::string manifest_media_type(ByteView bytes, const std::string& what) {
  const auto kind = classify_manifest(bytes, "", what);
  const auto j = trust::detail::parse_json(bytes, what);
  return trust::detail::optional_string(j, "mediaType", what)
      .value_or(std::string(kind == ManifestKind::kIndex ? media_type::kOciIndex
                                                         : media_type::kOciManifest));
}

}  // namespace detail

ManifestKind classify_manifest(ByteView bytes, std::string_view declared, std::string_view what) {
  auto kind_of = [&](std::string_view m) -> std::optional<ManifestKind> {
    if (is_index_media_type(m)) return ManifestKind::kIndex;
    if (is_manifest_media_type(m)) return ManifestKind::kImage;
    return std::nullopt;
  };
  if (!declared.empty() && !kind_of(declared)) {
    throw UnsupportedError(std::string(what) + ": unsupported manifest media type '" +
                           std::string(declared.substr(0, 200)) + "'");
  }
  auto j = parse_object(bytes, what, limits::kMaxManifestBytes);
  auto inner = trust::detail::optional_string(j, "mediaType", what);
  if (inner && !kind_of(*inner)) {
    throw UnsupportedError(std::string(what) + ": unsupported manifest media type '" +
                           inner->substr(0, 200) + "'");
  }
  if (inner && !declared.empty() && *inner != declared) {
    throw InputError(std::string(what) + ": declared as " + std::string(declared) +
                     " but its mediaType field says " + *inner);
  }
  if (!declared.empty()) return *kind_of(declared);
  if (inner) return *kind_of(*inner);
  if (j.contains("manifests")) return ManifestKind::kIndex;
  if (j.contains("layers") || j.contains("config")) return ManifestKind::kImage;
  throw InputError(std::string(what) + ": neither an image manifest nor an index");
}

}  // namespace trust::oci
