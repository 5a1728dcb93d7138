#include "support/layout_builder.h"

#include <archive.h>
#include <archive_entry.h>
#include <zlib.h>
#include <zstd.h>

#include <nlohmann/json.hpp>

#include <fstream>
#include <memory>
#include <stdexcept>

namespace sigil::test {
namespace {

namespace fs = std::filesystem;
using OJson = nlohmann::ordered_json;
using trust::Bytes;
using trust::ByteView;
using trust::Digest;
using trust::oci::Descriptor;

struct ArchiveWriteFree {
  void operator()(archive* a) const noexcept { archive_write_free(a); }
};
struct ArchiveEntryFree {
  void operator()(archive_entry* e) const noexcept { archive_entry_free(e); }
};

la_ssize_t append_cb(archive*, void* client, const void* buf, size_t len) {
  auto* out = static_cast<Bytes*>(client);
  auto* p = static_cast<const std::uint8_t*>(buf);
  out->insert(out->end(), p, p + len);
  return static_cast<la_ssize_t>(len);
}

std::string_view layer_media_type(LayerCompression c) {
  switch (c) {
    case LayerCompression::kNone:
      return trust::media_type::kOciLayerTar;
    case LayerCompression::kZstd:
      return trust::media_type::kOciLayerZstd;
    default:
      return trust::media_type::kOciLayerGzip;
  }
}

OJson descriptor_json(const Descriptor& d) {
  OJson j = OJson::object();
  j["mediaType"] = d.media_type;
  j["digest"] = d.digest.str();
  j["size"] = d.size;
  if (!d.annotations.empty()) j["annotations"] = d.annotations;
  if (d.platform) {
    OJson p = OJson::object();
    p["architecture"] = d.platform->architecture;
    p["os"] = d.platform->os;
    if (!d.platform->variant.empty()) p["variant"] = d.platform->variant;
    j["platform"] = p;
  }
  return j;
}

Descriptor descriptor(std::string_view media_type, ByteView data) {
  Descriptor d;
  d.media_type = std::string(media_type);
  d.digest = Digest::of(data);
  d.size = data.size();
  return d;
}

void write_bytes(const fs::path& file, ByteView data) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
  if (!out) throw std::runtime_error("layout_builder: cannot write " + file.string());
}

BuiltLayer build_layer(const fs::path& dir, const LayerSpec& spec) {
  BuiltLayer layer;
  auto name =
      spec.file_name.empty() ? "file-" + std::to_string(spec.seed) + ".bin" : spec.file_name;
  auto content = spec.content ? *spec.content : pattern_bytes(spec.size, spec.seed);
  layer.tar = make_tar({{.name = name, .content = content, .symlink_target = {}}});
  layer.diff_id = Digest::of(layer.tar);
  switch (spec.compression) {
    case LayerCompression::kNone:
      layer.blob = layer.tar;
      break;
    case LayerCompression::kGzip:
      layer.blob = gzip_bytes(layer.tar);
      break;
    case LayerCompression::kGzipMultiMember: {
      auto half = layer.tar.size() / 2;
      layer.blob = gzip_bytes(ByteView(layer.tar).subspan(0, half));
      auto second = gzip_bytes(ByteView(layer.tar).subspan(half));
      layer.blob.insert(layer.blob.end(), second.begin(), second.end());
      break;
    }
    case LayerCompression::kZstd:
      layer.blob = zstd_bytes(layer.tar);
      break;
  }
  layer.descriptor = descriptor(layer_media_type(spec.compression), layer.blob);
  write_blob(dir, layer.blob);
  return layer;
}

BuiltImage build_image(const fs::path& dir, const ImageSpec& spec) {
  BuiltImage img;
  img.tag = spec.tag;
  img.platform.os = spec.os;
  img.platform.architecture = spec.architecture;
  img.platform.variant = spec.variant;
  for (const auto& l : spec.layers) img.layers.push_back(build_layer(dir, l));

  OJson config = OJson::object();
  config["architecture"] = spec.architecture;
  config["os"] = spec.os;
  if (!spec.variant.empty()) config["variant"] = spec.variant;
  config["config"] = OJson::object();
  OJson diff_ids = OJson::array();
  for (const auto& l : img.layers) diff_ids.push_back(l.diff_id.str());
  config["rootfs"] = {{"type", "layers"}, {"diff_ids", diff_ids}};
  img.config_bytes = trust::to_bytes(config.dump());
  img.config = descriptor(trust::media_type::kOciConfig, img.config_bytes);
  write_blob(dir, img.config_bytes);

  OJson m = OJson::object();
  m["schemaVersion"] = 2;
  m["mediaType"] = trust::media_type::kOciManifest;
  m["config"] = descriptor_json(img.config);
  m["layers"] = OJson::array();
  for (const auto& l : img.layers) m["layers"].push_back(descriptor_json(l.descriptor));
  img.manifest_bytes = trust::to_bytes(m.dump());
  img.manifest = descriptor(trust::media_type::kOciManifest, img.manifest_bytes);
  write_blob(dir, img.manifest_bytes);
  return img;
}

void write_text(const fs::path& file, std::string_view text) {
  write_bytes(file, trust::as_bytes(text));
}

}  // namespace

std::string pattern_bytes(std::size_t size, std::uint32_t seed) {
  std::string out(size, '\0');
  std::uint32_t x = seed * 2654435761u + 1u;
  for (auto& c : out) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    // Half the bytes from a small alphabet, so the data compresses a little, like real files.
    c = static_cast<char>((x & 0x100) ? 'a' + (x % 8) : (x & 0xff));
  }
  return out;
}

Bytes make_tar(const std::vector<TarEntry>& entries) {
  Bytes out;
  std::unique_ptr<archive, ArchiveWriteFree> a(archive_write_new());
  if (!a || archive_write_set_format_pax_restricted(a.get()) != ARCHIVE_OK ||
      archive_write_add_filter_none(a.get()) != ARCHIVE_OK ||
      archive_write_set_bytes_in_last_block(a.get(), 1) != ARCHIVE_OK ||
      archive_write_open2(a.get(), &out, nullptr, append_cb, nullptr, nullptr) != ARCHIVE_OK) {
    throw std::runtime_error("make_tar: cannot start a tar archive");
  }
  for (const auto& e : entries) {
    std::unique_ptr<archive_entry, ArchiveEntryFree> entry(archive_entry_new());
    archive_entry_set_pathname(entry.get(), e.name.c_str());
    archive_entry_set_mtime(entry.get(), 0, 0);
    archive_entry_set_uid(entry.get(), 0);
    archive_entry_set_gid(entry.get(), 0);
    if (!e.symlink_target.empty()) {
      archive_entry_set_filetype(entry.get(), AE_IFLNK);
      archive_entry_set_perm(entry.get(), 0777);
      archive_entry_set_symlink(entry.get(), e.symlink_target.c_str());
      archive_entry_set_size(entry.get(), 0);
    } else {
      archive_entry_set_filetype(entry.get(), AE_IFREG);
      archive_entry_set_perm(entry.get(), 0644);
      archive_entry_set_size(entry.get(), static_cast<la_int64_t>(e.content.size()));
    }
    if (archive_write_header(a.get(), entry.get()) != ARCHIVE_OK) {
      throw std::runtime_error("make_tar: cannot write header for " + e.name);
    }
    if (e.symlink_target.empty() && !e.content.empty() &&
        archive_write_data(a.get(), e.content.data(), e.content.size()) !=
            static_cast<la_ssize_t>(e.content.size())) {
      throw std::runtime_error("make_tar: cannot write data for " + e.name);
    }
  }
  if (archive_write_close(a.get()) != ARCHIVE_OK)
    throw std::runtime_error("make_tar: close failed");
  return out;
}

void write_tar(const fs::path& file, const std::vector<TarEntry>& entries) {
  write_bytes(file, make_tar(entries));
}

Bytes gzip_bytes(ByteView data) {
  z_stream s{};
  if (deflateInit2(&s, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    throw std::runtime_error("gzip_bytes: deflateInit2 failed");
  }
  Bytes out(deflateBound(&s, static_cast<uLong>(data.size())) + 64);
  s.next_in = const_cast<Bytef*>(data.data());
  s.avail_in = static_cast<uInt>(data.size());
  s.next_out = out.data();
  s.avail_out = static_cast<uInt>(out.size());
  int r = deflate(&s, Z_FINISH);
  out.resize(s.total_out);
  deflateEnd(&s);
  if (r != Z_STREAM_END) throw std::runtime_error("gzip_bytes: deflate failed");
  return out;
}

Bytes zstd_bytes(ByteView data) {
  Bytes out(ZSTD_compressBound(data.size()));
  auto n = ZSTD_compress(out.data(), out.size(), data.data(), data.size(), 3);
  if (ZSTD_isError(n)) throw std::runtime_error("zstd_bytes: ZSTD_compress failed");
  out.resize(n);
  return out;
}

Digest write_blob(const fs::path& dir, ByteView data) {
  auto d = Digest::of(data);
  fs::create_directories(dir / "blobs" / "sha256");
  write_bytes(dir / "blobs" / "sha256" / d.hex(), data);
  return d;
}

void write_index_json(const fs::path& dir, const std::vector<Descriptor>& entries) {
  OJson j = OJson::object();
  j["schemaVersion"] = 2;
  j["mediaType"] = trust::media_type::kOciIndex;
  j["manifests"] = OJson::array();
  for (const auto& d : entries) j["manifests"].push_back(descriptor_json(d));
  write_text(dir / "index.json", j.dump());
}

std::string BuiltLayout::reference(std::string_view tag) const {
  auto out = "oci:" + dir.string();
  if (!tag.empty()) out += ":" + std::string(tag);
  return out;
}

fs::path BuiltLayout::blob_path(const Digest& digest) const {
  return dir / "blobs" / std::string(trust::to_string(digest.algorithm())) / digest.hex();
}

BuiltLayout build_layout(const fs::path& dir, const LayoutSpec& spec) {
  if (fs::exists(dir / "oci-layout")) throw std::runtime_error("build_layout: already a layout");
  fs::create_directories(dir / "blobs" / "sha256");
  BuiltLayout out;
  out.dir = dir;
  std::vector<Descriptor> entries;
  for (const auto& is : spec.images) {
    out.images.push_back(build_image(dir, is));
    if (!is.tag.empty()) {
      auto d = out.images.back().manifest;
      d.annotations[std::string(trust::oci::kAnnotationRefName)] = is.tag;
      entries.push_back(d);
    }
  }
  if (!spec.index_tag.empty()) {
    OJson idx = OJson::object();
    idx["schemaVersion"] = 2;
    idx["mediaType"] = trust::media_type::kOciIndex;
    idx["manifests"] = OJson::array();
    for (const auto& img : out.images) {
      auto d = img.manifest;
      d.platform = img.platform;
      idx["manifests"].push_back(descriptor_json(d));
    }
    out.index_bytes = trust::to_bytes(idx.dump());
    out.index = descriptor(trust::media_type::kOciIndex, out.index_bytes);
    write_blob(dir, out.index_bytes);
    auto d = *out.index;
    d.annotations[std::string(trust::oci::kAnnotationRefName)] = spec.index_tag;
    entries.push_back(d);
  }
  out.manifest_digest = out.index ? out.index->digest : out.images.at(0).manifest.digest;
  write_text(dir / "oci-layout", R"({"imageLayoutVersion":"1.0.0"})");
  write_index_json(dir, entries);
  return out;
}

void write_docker_archive(const BuiltLayout& layout, const fs::path& file, ArchiveForm form) {
  std::vector<TarEntry> entries;
  auto add = [&](std::string name, ByteView data) {
    entries.push_back({.name = std::move(name),
                       .content = std::string(trust::as_string_view(data)),
                       .symlink_target = {}});
  };
  OJson manifest = OJson::array();
  std::vector<Descriptor> index_entries;
  std::size_t layer_no = 0;
  for (const auto& img : layout.images) {
    if (img.tag.empty()) continue;
    OJson item = OJson::object();
    OJson layers = OJson::array();
    if (form == ArchiveForm::kLegacy) {
      auto config_name = img.config.digest.hex() + ".json";
      add(config_name, img.config_bytes);
      item["Config"] = config_name;
      for (const auto& l : img.layers) {
        auto name = std::to_string(++layer_no) + "/layer.tar";
        add(name, l.tar);
        layers.push_back(name);
      }
    } else {
      auto blob = [&](const Digest& d, ByteView data) {
        auto name = "blobs/sha256/" + d.hex();
        for (const auto& e : entries) {
          if (e.name == name) return name;
        }
        add(name, data);
        return name;
      };
      item["Config"] = blob(img.config.digest, img.config_bytes);
      for (const auto& l : img.layers) layers.push_back(blob(l.descriptor.digest, l.blob));
      blob(img.manifest.digest, img.manifest_bytes);
      auto d = img.manifest;
      d.annotations["io.containerd.image.name"] = "sigil.test/img:" + img.tag;
      d.annotations[std::string(trust::oci::kAnnotationRefName)] = img.tag;
      index_entries.push_back(d);
    }
    item["RepoTags"] = OJson::array({"sigil.test/img:" + img.tag});
    item["Layers"] = layers;
    manifest.push_back(item);
  }
  if (form == ArchiveForm::kOci) {
    add("oci-layout", trust::as_bytes(R"({"imageLayoutVersion":"1.0.0"})"));
    OJson j = OJson::object();
    j["schemaVersion"] = 2;
    j["mediaType"] = trust::media_type::kOciIndex;
    j["manifests"] = OJson::array();
    for (const auto& d : index_entries) j["manifests"].push_back(descriptor_json(d));
    add("index.json", trust::as_bytes(j.dump()));
  }
  add("manifest.json", trust::as_bytes(manifest.dump()));
  write_tar(file, entries);
}

}  // namespace sigil::test
