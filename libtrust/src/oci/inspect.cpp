#include "libtrust/oci/inspect.h"

#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <exception>
#include <map>
#include <set>
#include <thread>
#include <utility>
#include <vector>

#include "core/parallel.h"
#include "libtrust/core/error.h"
#include "libtrust/core/limits.h"
#include "oci/oci_internal.h"
#include "oci/walk.h"

namespace trust::oci {
namespace {

constexpr unsigned kMaxInspectThreads = 256;

// Decompresses a layer as it streams and hashes the uncompressed bytes (the diffID), in constant
// memory. One instance per layer; update() with the compressed chunks, then finish().
class DiffIdHasher {
 public:
  DiffIdHasher(Compression c, std::string what) : compression_(c), what_(std::move(what)) {
    if (c == Compression::kNone) return;
    out_.resize(detail::kChunkBytes);
    if (c == Compression::kGzip) {
      gz_ = std::make_unique<z_stream>();
      // 16 + MAX_WBITS: gzip wrapper only.
      if (inflateInit2(gz_.get(), 16 + MAX_WBITS) != Z_OK) {
        gz_.reset();
        throw Error(ErrorCode::kIo, what_ + ": cannot initialise zlib");
      }
    } else {
      zs_.reset(ZSTD_createDCtx());
      if (!zs_) throw Error(ErrorCode::kIo, what_ + ": cannot initialise zstd");
    }
  }
  ~DiffIdHasher() {
    if (gz_) inflateEnd(gz_.get());
  }
  DiffIdHasher(const DiffIdHasher&) = delete;
  DiffIdHasher& operator=(const DiffIdHasher&) = delete;

  void update(ByteView in) {
    input_ += in.size();
    switch (compression_) {
      case Compression::kNone:
        emit(in);
        break;
      case Compression::kGzip:
        gunzip(in);
        break;
      case Compression::kZstd:
        unzstd(in);
        break;
    }
  }

  void finish() {
    switch (compression_) {
      case Compression::kNone:
        break;
      case Compression::kGzip:
        gunzip({});
        if (input_ == 0 || !member_done_) {
          throw InputError(what_ + ": truncated gzip stream (ends inside a member)");
        }
        break;
      case Compression::kZstd:
        unzstd({});
        if (input_ == 0 || zstd_pending_ != 0) {
          throw InputError(what_ + ": truncated zstd stream (ends inside a frame)");
        }
        break;
    }
  }

  Digest diff_id() { return hasher_.finish(); }
  std::uint64_t uncompressed_size() const { return hasher_.bytes_hashed(); }

 private:
  void emit(ByteView data) { hasher_.update(data); }

  void gunzip(ByteView in) {
    z_stream& s = *gz_;
    s.next_in = const_cast<Bytef*>(in.data());
    s.avail_in = static_cast<uInt>(in.size());
    while (true) {
      if (member_done_) {
        if (s.avail_in == 0) return;
        // Another gzip member follows (concatenated gzip, as pigz and some builders write).
        if (inflateReset(&s) != Z_OK) throw InputError(what_ + ": cannot reset the gzip stream");
        member_done_ = false;
      }
      s.next_out = out_.data();
      s.avail_out = static_cast<uInt>(out_.size());
      int r = inflate(&s, Z_NO_FLUSH);
      auto produced = out_.size() - s.avail_out;
      emit(ByteView(out_.data(), produced));
      if (r == Z_STREAM_END) {
        member_done_ = true;
        continue;
      }
      if (r == Z_BUF_ERROR || (r == Z_OK && produced == 0 && s.avail_in == 0)) return;
      if (r != Z_OK) {
        throw InputError(what_ + ": corrupt gzip stream: " + (s.msg ? s.msg : "inflate failed"));
      }
      if (s.avail_in == 0 && s.avail_out != 0) return;
    }
  }

  void unzstd(ByteView in) {
    ZSTD_inBuffer ib{in.data(), in.size(), 0};
    while (true) {
      ZSTD_outBuffer ob{out_.data(), out_.size(), 0};
      auto before = ib.pos;
      auto r = ZSTD_decompressStream(zs_.get(), &ob, &ib);
      if (ZSTD_isError(r)) {
        throw InputError(what_ + ": corrupt zstd stream: " + ZSTD_getErrorName(r));
      }
      // 0 means a frame just ended and everything was flushed. A call that made no progress
      // (flushing after a complete frame) says nothing new.
      if (ib.pos != before || ob.pos != 0) zstd_pending_ = r;
      emit(ByteView(out_.data(), ob.pos));
      if (ib.pos == ib.size && ob.pos < ob.size) return;
    }
  }

  struct ZstdFree {
    void operator()(ZSTD_DCtx* c) const noexcept { ZSTD_freeDCtx(c); }
  };

  Compression compression_;
  std::string what_;
  Hasher hasher_;
  std::vector<std::uint8_t> out_;
  std::unique_ptr<z_stream> gz_;
  std::unique_ptr<ZSTD_DCtx, ZstdFree> zs_;
  bool member_done_ = false;
  std::size_t zstd_pending_ = 1;
  std::uint64_t input_ = 0;
};

LayerReport inspect_layer(ImageSource& source, const Descriptor& layer, std::size_t index,
                          const InspectOptions& options) {
  auto what =
      source.describe() + ": layer " + std::to_string(index) + " (" + layer.digest.str() + ")";
  LayerReport report;
  report.descriptor = layer;
  if (!options.compute_diff_ids) {
    source.stream_blob(layer, [](ByteView) {});
    return report;
  }
  auto compression = layer_compression(layer.media_type);
  if (!compression) {
    throw UnsupportedError(what + ": unknown layer media type " + layer.media_type.substr(0, 200));
  }
  if (*compression == Compression::kNone && layer.digest.algorithm() == DigestAlgorithm::kSha256) {
    // An uncompressed layer is its own diffID: the bytes are hashed once, by stream_blob, which
    // checks them against layer.digest.
    source.stream_blob(layer, [](ByteView) {});
    report.diff_id = layer.digest;
    report.uncompressed_size = layer.size;
    report.diff_id_computed = true;
    return report;
  }
  DiffIdHasher hasher(*compression, what);
  // A decompression error is held until the whole blob has been checked against its digest:
  // tampered bytes are reported as a digest mismatch, not as whatever the decoder made of them.
  std::exception_ptr decode_error;
  source.stream_blob(layer, [&](ByteView chunk) {
    if (decode_error) return;
    try {
      hasher.update(chunk);
    } catch (const Error&) {
      decode_error = std::current_exception();
    }
  });
  // stream_blob returned: the compressed bytes matched layer.digest.
  if (decode_error) std::rethrow_exception(decode_error);
  hasher.finish();
  report.diff_id = hasher.diff_id();
  report.uncompressed_size = hasher.uncompressed_size();
  report.diff_id_computed = true;
  return report;
}

// One inspect_image call: its walk, and the layers already hashed (each distinct layer is read
// once per call, however many manifests list it or however often one lists it).
struct Inspection {
  ImageSource& source;
  const InspectOptions& options;
  detail::ImageWalk walk;
  std::map<std::pair<Digest, std::string>, LayerReport> layers;
};

std::vector<LayerReport> inspect_layers(Inspection& in, const std::vector<Descriptor>& layers) {
  auto key = [](const Descriptor& d) { return std::make_pair(d.digest, d.media_type); };
  std::vector<Descriptor> todo;
  std::vector<std::size_t> position;  // in the manifest, for messages
  std::set<std::pair<Digest, std::string>> queued;
  for (std::size_t i = 0; i < layers.size(); ++i) {
    if (in.layers.count(key(layers[i])) == 0 && queued.insert(key(layers[i])).second) {
      todo.push_back(layers[i]);
      position.push_back(i);
    }
  }
  // In the order the source reads best (a compressed archive: front to back), on up to one
  // thread per core where the source allows parallel reads.
  const auto order = in.source.reading_order(todo);
  std::vector<std::optional<LayerReport>> results(todo.size());
  std::size_t threads =
      in.options.threads ? in.options.threads : std::max(1u, std::thread::hardware_concurrency());
  if (!in.source.supports_parallel_reads()) threads = 1;
  trust::detail::for_each_index(todo.size(), threads, [&](std::size_t k) {
    const auto i = order.at(k);
    results[i] = inspect_layer(in.source, todo[i], position[i], in.options);
  });
  for (std::size_t i = 0; i < todo.size(); ++i) in.layers.emplace(key(todo[i]), *results[i]);
  std::vector<LayerReport> out;
  out.reserve(layers.size());
  for (const auto& l : layers) {
    auto report = in.layers.at(key(l));
    report.descriptor = l;  // as this manifest lists it (annotations may differ)
    out.push_back(std::move(report));
  }
  return out;
}

bool is_image_config(std::string_view media_type) {
  return media_type == media_type::kOciConfig || media_type == media_type::kDockerConfig;
}

ImageReport inspect(Inspection& in, const Descriptor& desc, int depth) {
  auto& source = in.source;
  ImageReport report;
  report.manifest = desc;
  report.platform = desc.platform;
  auto node = in.walk.enter(desc, depth);
  if (!node) {
    report.repeated = true;
    return report;
  }
  if (node->kind == ManifestKind::kIndex) {
    const auto& index = *node->index;
    if (report.manifest.media_type.empty()) {
      report.manifest.media_type =
          index.media_type.empty() ? std::string(media_type::kOciIndex) : index.media_type;
    }
    if (!in.options.recurse_index) return report;
    for (const auto& child : index.manifests) {
      if (is_manifest_media_type(child.media_type) || is_index_media_type(child.media_type)) {
        report.children.push_back(inspect(in, child, depth + 1));
      } else {
        // An artifact listed in an index: its bytes are still checked.
        ImageReport artifact;
        artifact.manifest = child;
        artifact.platform = child.platform;
        artifact.repeated = !in.walk.enter_blob(child, depth + 1);
        report.children.push_back(std::move(artifact));
      }
    }
    return report;
  }
  const auto& manifest = *node->manifest;
  if (report.manifest.media_type.empty()) {
    report.manifest.media_type =
        manifest.media_type.empty() ? std::string(media_type::kOciManifest) : manifest.media_type;
  }
  report.config = manifest.config;
  auto config_bytes = source.fetch_blob(manifest.config, limits::kMaxConfigBytes);
  std::optional<ImageConfig> config;
  if (is_image_config(manifest.config.media_type)) {
    config = ImageConfig::parse(config_bytes,
                                source.describe() + ": config " + manifest.config.digest.str());
    report.config_diff_ids = config->diff_ids;
    if (!report.platform && !config->os.empty()) {
      Platform p;
      p.os = config->os;
      p.architecture = config->architecture;
      report.platform = std::move(p);
    }
  }
  report.layers = inspect_layers(in, manifest.layers);
  if (config && in.options.compute_diff_ids) {
    report.diff_ids_consistent = config->diff_ids.size() == report.layers.size();
    for (std::size_t i = 0; i < report.layers.size(); ++i) {
      auto& l = report.layers[i];
      l.diff_id_matches_config = i < config->diff_ids.size() && config->diff_ids[i] == l.diff_id;
      if (!l.diff_id_matches_config) report.diff_ids_consistent = false;
    }
  }
  return report;
}

}  // namespace

void InspectOptions::validate() const {
  if (threads > kMaxInspectThreads) {
    throw UsageError("inspect: " + std::to_string(threads) +
                     " threads is more than the maximum of " + std::to_string(kMaxInspectThreads));
  }
}

ImageReport inspect_image(ImageSource& source, const Descriptor& manifest,
                          const InspectOptions& options) {
  options.validate();
  Inspection in{.source = source,
                .options = options,
                .walk = detail::ImageWalk(source, manifest),
                .layers = {}};
  return inspect(in, manifest, 0);
}

}  // namespace trust::oci
