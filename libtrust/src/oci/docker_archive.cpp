#include "libtrust/oci/docker_archive.h"

#include <archive.h>
#include <archive_entry.h>

#include <array>
#include <map>
#include <string>
#include <vector>

#include "libtrust/core/error.h"
#include "libtrust/core/limits.h"
#include "oci/oci_internal.h"

namespace trust::oci {
namespace {

namespace fs = std::filesystem;
using detail::Json;

constexpr std::string_view kAnnotationContainerdName = "io.containerd.image.name";
constexpr std::string_view kDockerLayerTar = "application/vnd.docker.image.rootfs.diff.tar";
// Small entries are kept in memory after the first pass (manifests, configs, index.json), within
// a total budget; anything else is re-read from the archive when asked for.
constexpr std::uint64_t kMaxCachedEntryBytes = 256u << 10;
constexpr std::uint64_t kMaxCacheTotalBytes = 32u << 20;
constexpr int kMaxLinkHops = 8;

struct ArchiveFree {
  void operator()(archive* a) const noexcept { archive_read_free(a); }
};
using ArchivePtr = std::unique_ptr<archive, ArchiveFree>;

// Lexically normalises a path inside the archive: drops "." and empty components, resolves ".."
// against `base` components; nullopt when absolute or escaping the archive root.
std::optional<std::string> normalize(std::string_view path, std::string_view base = {}) {
  if (!path.empty() && path.front() == '/') return std::nullopt;
  std::vector<std::string> parts;
  auto push_all = [&](std::string_view p, bool allow_dotdot) {
    std::size_t start = 0;
    while (start <= p.size()) {
      auto slash = p.find('/', start);
      auto comp = p.substr(start, slash == std::string_view::npos ? p.npos : slash - start);
      if (comp == "..") {
        if (!allow_dotdot || parts.empty()) return false;
        parts.pop_back();
      } else if (!comp.empty() && comp != ".") {
        parts.emplace_back(comp);
      }
      if (slash == std::string_view::npos) break;
      start = slash + 1;
    }
    return true;
  };
  if (!push_all(base, false)) return std::nullopt;
  if (!push_all(path, !base.empty())) return std::nullopt;
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += '/';
    out += p;
  }
  return out;
}

std::string dirname_of(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? std::string() : path.substr(0, slash);
}

// Reads archive entries in order.
class ArchiveReader {
 public:
  ArchiveReader(const fs::path& file, const std::string& name) : name_(name) {
    a_.reset(archive_read_new());
    if (!a_) throw IoError(name_ + ": cannot allocate an archive reader");
    archive_read_support_filter_all(a_.get());
    archive_read_support_format_tar(a_.get());
    if (archive_read_open_filename(a_.get(), file.c_str(), 64 * 1024) != ARCHIVE_OK) {
      std::error_code ec;
      if (!fs::exists(file, ec)) throw NotFoundError(name_ + ": no such file");
      throw InputError(name_ + ": cannot open as a tar archive: " + error());
    }
  }

  // Next entry, or nullptr at the end.
  archive_entry* next() {
    archive_entry* e = nullptr;
    int r = archive_read_next_header(a_.get(), &e);
    if (r == ARCHIVE_EOF) return nullptr;
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
      throw InputError(name_ + ": malformed tar archive: " + error());
    }
    return e;
  }

  // Reads the current entry's data in chunks; returns 0 at its end.
  std::size_t read(std::uint8_t* buf, std::size_t len, std::string_view entry) {
    auto n = archive_read_data(a_.get(), buf, len);
    if (n < 0) {
      throw InputError(name_ + ": reading " + std::string(entry) + ": " + error());
    }
    return static_cast<std::size_t>(n);
  }

 private:
  std::string error() {
    const char* s = archive_error_string(a_.get());
    return s ? s : "unknown libarchive error";
  }
  std::string name_;
  ArchivePtr a_;
};

struct Entry {
  bool regular = false;
  std::optional<std::string> link;  // normalised target of a symlink or hard link
  std::uint64_t size = 0;
  std::optional<Digest> digest;  // computed while scanning, or claimed by a blobs/<alg>/<hex> name
  bool digest_claimed = false;
  std::array<std::uint8_t, 4> magic{};
  std::size_t magic_len = 0;
  std::optional<Bytes> cached;
};

struct ArchiveImage {
  Descriptor desc;
  std::vector<std::string> tags;
};

std::optional<Digest> claimed_digest(const std::string& name) {
  // blobs/<alg>/<hex>
  if (!name.starts_with("blobs/")) return std::nullopt;
  auto rest = std::string_view(name).substr(6);
  auto slash = rest.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  try {
    return Digest::parse(std::string(rest.substr(0, slash)) + ":" +
                         std::string(rest.substr(slash + 1)));
  } catch (const Error&) {
    return std::nullopt;
  }
}

// "busybox:latest" and "docker.io/library/busybox:latest" name the same image.
bool tag_matches(const std::string& have, std::string_view want) {
  if (have == want) return true;
  try {
    auto a = Reference::parse(have);
    auto b = Reference::parse(want);
    return a.kind() == ReferenceKind::kRegistry && b.kind() == ReferenceKind::kRegistry &&
           a.str() == b.str();
  } catch (const Error&) {
    return false;
  }
}

class DockerArchive final : public ImageSource {
 public:
  explicit DockerArchive(fs::path file)
      : file_(std::move(file)), name_("docker-archive:" + file_.string()) {
    scan();
    if (entries_.count("index.json")) {
      load_oci_form();
    } else if (entries_.count("manifest.json")) {
      load_legacy_form();
    } else {
      throw InputError(name_ + ": not a docker save archive (no manifest.json or index.json)");
    }
  }

  std::string describe() const override { return name_; }

  Descriptor resolve(const Reference& ref) override {
    if (ref.digest()) {
      for (const auto& img : images_) {
        if (img.desc.digest == *ref.digest()) return img.desc;
      }
      return describe_blob(*ref.digest());
    }
    if (ref.tag()) {
      auto found = find_tag(*ref.tag());
      if (!found) {
        throw NotFoundError(name_ + ": no image tagged '" + *ref.tag() +
                            "' (tags: " + detail::list_names(all_tags()) + ")");
      }
      return *found;
    }
    if (images_.empty()) throw InputError(name_ + ": the archive holds no images");
    if (images_.size() != 1) {
      throw UsageError(name_ + " holds " + std::to_string(images_.size()) +
                       " images; name one as " + name_ +
                       ":NAME:TAG (tags: " + detail::list_names(all_tags()) + ")");
    }
    return images_.front().desc;
  }

  std::optional<Descriptor> find_tag(std::string_view tag) override {
    std::optional<Descriptor> found;
    for (const auto& img : images_) {
      for (const auto& t : img.tags) {
        if (!tag_matches(t, tag)) continue;
        if (found && found->digest != img.desc.digest) {
          throw InputError(name_ + ": tag '" + std::string(tag) + "' names more than one image");
        }
        found = img.desc;
      }
    }
    return found;
  }

  void stream_blob(const Descriptor& desc, const std::function<void(ByteView)>& sink) override {
    detail::BlobVerifier verifier(desc, name_);
    if (auto it = synthesized_.find(desc.digest); it != synthesized_.end()) {
      verifier.update(it->second);
      verifier.finish();
      sink(it->second);
      return;
    }
    auto where = blobs_.find(desc.digest);
    if (where == blobs_.end())
      throw NotFoundError(name_ + ": blob " + desc.digest.str() + " not found");
    const auto& entry = entries_.at(where->second);
    if (entry.cached) {
      verifier.update(*entry.cached);
      verifier.finish();
      sink(*entry.cached);
      return;
    }
    // Re-read the archive up to the entry, streaming it through the verifier.
    ArchiveReader reader(file_, name_);
    std::vector<std::uint8_t> buf(detail::kChunkBytes);
    while (auto* e = reader.next()) {
      const char* raw = archive_entry_pathname(e);
      if (!raw) continue;
      auto n = normalize(raw);
      if (!n || *n != where->second || archive_entry_filetype(e) != AE_IFREG ||
          archive_entry_hardlink(e)) {
        continue;
      }
      while (auto got = reader.read(buf.data(), buf.size(), *n)) {
        ByteView chunk(buf.data(), got);
        verifier.update(chunk);
        sink(chunk);
      }
      verifier.finish();
      return;
    }
    throw NotFoundError(name_ + ": blob " + desc.digest.str() + " (" + where->second +
                        ") vanished from the archive");
  }

  // libarchive handles are per call, so concurrent reads are safe (each re-reads the file).
  bool supports_parallel_reads() const override { return true; }

 private:
  void scan() {
    ArchiveReader reader(file_, name_);
    std::vector<std::uint8_t> buf(detail::kChunkBytes);
    std::size_t count = 0;
    std::uint64_t cache_total = 0;
    while (auto* e = reader.next()) {
      if (++count > limits::kMaxArchiveEntries) {
        throw LimitError(name_ + ": more than " + std::to_string(limits::kMaxArchiveEntries) +
                         " entries");
      }
      const char* raw = archive_entry_pathname(e);
      if (!raw) continue;
      auto n = normalize(raw);
      if (!n || n->empty()) continue;  // unsafe or root names can never be referenced
      Entry entry;
      auto type = archive_entry_filetype(e);
      if (const char* hl = archive_entry_hardlink(e)) {
        entry.link = normalize(hl);
      } else if (type == AE_IFLNK) {
        const char* target = archive_entry_symlink(e);
        if (target) entry.link = normalize(target, dirname_of(*n));
        if (!entry.link) entry.link = std::string("\0unsafe", 7);  // never resolves
      } else if (type == AE_IFREG) {
        entry.regular = true;
        entry.size = static_cast<std::uint64_t>(archive_entry_size(e));
      } else {
        continue;  // directories and other types are not content
      }
      if (entries_.count(*n)) throw InputError(name_ + ": duplicate entry '" + *n + "'");
      if (entry.regular) read_entry(reader, *n, entry, buf, cache_total);
      entries_.emplace(*n, std::move(entry));
    }
    for (const auto& [n, entry] : entries_) {
      if (entry.regular && entry.digest) blobs_.emplace(*entry.digest, n);
    }
  }

  void read_entry(ArchiveReader& reader, const std::string& n, Entry& entry,
                  std::vector<std::uint8_t>& buf, std::uint64_t& cache_total) {
    if (n == "manifest.json" && entry.size > limits::kMaxArchiveManifestBytes) {
      throw LimitError(name_ + ": manifest.json of " + std::to_string(entry.size) +
                       " bytes is over the limit of " +
                       std::to_string(limits::kMaxArchiveManifestBytes));
    }
    if (auto claimed = claimed_digest(n)) {
      entry.digest = claimed;
      entry.digest_claimed = true;
    }
    bool cache =
        entry.size <= kMaxCachedEntryBytes && cache_total + entry.size <= kMaxCacheTotalBytes;
    bool metadata = n == "manifest.json" || n == "index.json" || n == "oci-layout";
    if (metadata) cache = true;
    std::optional<Hasher> hasher;
    if (!entry.digest_claimed) hasher.emplace();
    Bytes data;
    std::uint64_t total = 0;
    while (auto got = reader.read(buf.data(), buf.size(), n)) {
      ByteView chunk(buf.data(), got);
      if (entry.magic_len < entry.magic.size()) {
        auto take = std::min(entry.magic.size() - entry.magic_len, got);
        std::copy_n(chunk.begin(), take, entry.magic.begin() + entry.magic_len);
        entry.magic_len += take;
      }
      if (hasher) hasher->update(chunk);
      total += got;
      if (cache) data.insert(data.end(), chunk.begin(), chunk.end());
    }
    if (total != entry.size) {
      throw InputError(name_ + ": entry '" + n + "' is truncated (" + std::to_string(total) +
                       " of " + std::to_string(entry.size) + " bytes)");
    }
    if (hasher) entry.digest = hasher->finish();
    if (cache) {
      cache_total += data.size();
      entry.cached = std::move(data);
    }
  }

  // Follows links to a regular entry; NotFoundError naming `what` if there is none.
  const std::pair<const std::string, Entry>& lookup(const std::string& path,
                                                    std::string_view what) {
    auto it = entries_.find(path);
    if (it == entries_.end()) {
      throw NotFoundError(name_ + ": " + std::string(what) + " '" + path +
                          "' not found in the archive");
    }
    for (int hops = 0; !it->second.regular; ++hops) {
      auto next =
          it->second.link && hops < kMaxLinkHops ? entries_.find(*it->second.link) : entries_.end();
      if (next == entries_.end()) {
        throw InputError(name_ + ": " + std::string(what) + " '" + path +
                         "' is a link that does not resolve to a file inside the archive");
      }
      it = next;
    }
    return *it;
  }

  // A path from manifest.json: relative, no "..".
  std::string checked_path(const Json& v, std::string_view what) {
    if (!v.is_string())
      throw InputError(name_ + "/manifest.json: " + std::string(what) + " must be a string");
    auto p = v.get<std::string>();
    bool dotdot = false;
    std::size_t start = 0;
    while (true) {
      auto slash = p.find('/', start);
      if (p.substr(start, slash == std::string::npos ? p.npos : slash - start) == "..")
        dotdot = true;
      if (slash == std::string::npos) break;
      start = slash + 1;
    }
    auto n = normalize(p);
    if (p.empty() || p.front() == '/' || dotdot || !n || n->empty()) {
      throw InputError(name_ + "/manifest.json: " + std::string(what) + " '" + p.substr(0, 200) +
                       "' must be a relative path inside the archive (no '..')");
    }
    return *n;
  }

  const Bytes& metadata(const std::string& n) { return *entries_.at(n).cached; }

  void load_legacy_form() {
    auto what = name_ + "/manifest.json";
    auto j = trust::detail::parse_json(metadata("manifest.json"), what,
                                       limits::kMaxArchiveManifestBytes);
    if (!j.is_array()) throw InputError(what + ": expected a JSON array");
    if (j.size() > limits::kMaxIndexEntries) {
      throw LimitError(what + ": " + std::to_string(j.size()) + " images, over the limit of " +
                       std::to_string(limits::kMaxIndexEntries));
    }
    for (std::size_t i = 0; i < j.size(); ++i) {
      auto item_what = what + "[" + std::to_string(i) + "]";
      const auto& item = j[i];
      auto config_path =
          checked_path(trust::detail::require_field(item, "Config", item_what), "Config");
      const auto& layers = trust::detail::require_array(item, "Layers", item_what);
      if (layers.size() > limits::kMaxLayersPerManifest) {
        throw LimitError(item_what + ": " + std::to_string(layers.size()) +
                         " layers, over the limit of " +
                         std::to_string(limits::kMaxLayersPerManifest));
      }
      ArchiveImage img;
      if (auto tags = item.find("RepoTags"); tags != item.end() && !tags->is_null()) {
        if (!tags->is_array()) throw InputError(item_what + ": 'RepoTags' must be an array");
        for (const auto& t : *tags) {
          if (!t.is_string()) throw InputError(item_what + ": 'RepoTags' must hold strings");
          img.tags.push_back(t.get<std::string>());
        }
      }
      Manifest m;
      m.media_type = std::string(media_type::kDockerManifest);
      const auto& [cname, centry] = lookup(config_path, "config");
      (void)cname;
      m.config = detail::make_descriptor(std::string(media_type::kDockerConfig), *centry.digest,
                                         centry.size);
      for (const auto& l : layers) {
        const auto& [lname, lentry] = lookup(checked_path(l, "layer path"), "layer");
        (void)lname;
        std::string type(kDockerLayerTar);
        if (lentry.magic_len >= 2 && lentry.magic[0] == 0x1f && lentry.magic[1] == 0x8b) {
          type = media_type::kDockerLayerGzip;
        } else if (lentry.magic_len == 4 && lentry.magic[0] == 0x28 && lentry.magic[1] == 0xb5 &&
                   lentry.magic[2] == 0x2f && lentry.magic[3] == 0xfd) {
          type = media_type::kOciLayerZstd;
        }
        m.layers.push_back(detail::make_descriptor(type, *lentry.digest, lentry.size));
      }
      auto bytes = to_bytes(m.to_json());
      img.desc = detail::make_descriptor(std::string(media_type::kDockerManifest),
                                         Digest::of(bytes), bytes.size());
      synthesized_.emplace(img.desc.digest, std::move(bytes));
      images_.push_back(std::move(img));
    }
  }

  void load_oci_form() {
    auto index = Index::parse(metadata("index.json"), name_ + "/index.json");
    for (const auto& d : index.manifests) {
      ArchiveImage img;
      img.desc = d;
      for (auto key : {kAnnotationContainerdName, kAnnotationRefName}) {
        if (auto it = d.annotations.find(std::string(key)); it != d.annotations.end()) {
          img.tags.push_back(it->second);
        }
      }
      images_.push_back(std::move(img));
    }
  }

  std::vector<std::string> all_tags() const {
    std::vector<std::string> out;
    for (const auto& img : images_) out.insert(out.end(), img.tags.begin(), img.tags.end());
    return out;
  }

  Descriptor describe_blob(const Digest& digest) {
    auto where = blobs_.find(digest);
    if (where == blobs_.end()) {
      throw NotFoundError(name_ + ": no manifest " + digest.str() + " in the archive");
    }
    auto d = detail::make_descriptor("", digest, entries_.at(where->second).size);
    d.media_type =
        detail::manifest_media_type(fetch_manifest(d), name_ + ": manifest " + digest.str());
    return d;
  }

  fs::path file_;
  std::string name_;
  std::map<std::string, Entry> entries_;
  std::map<Digest, std::string> blobs_;
  std::map<Digest, Bytes> synthesized_;
  std::vector<ArchiveImage> images_;
};

}  // namespace

std::unique_ptr<ImageSource> open_docker_archive(const fs::path& file) {
  return std::make_unique<DockerArchive>(file);
}

}  // namespace trust::oci
