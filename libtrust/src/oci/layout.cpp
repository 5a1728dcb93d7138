#include "libtrust/oci/layout.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "libtrust/core/error.h"
#include "libtrust/core/file.h"
#include "libtrust/core/limits.h"
#include "libtrust/core/text.h"
#include "oci/oci_internal.h"
#include "oci/read_ahead.h"

namespace trust::oci {
namespace {

using detail::Fd;
namespace fs = std::filesystem;

constexpr std::string_view kLayoutVersion = "1.0.0";

// What open_at() expects to find.
enum class Want { kFile, kDirectory };

std::string errno_text(int e) {
  return std::strerror(e);
}

class OciLayout final : public ImageStore {
 public:
  explicit OciLayout(fs::path dir) : dir_(std::move(dir)), name_("oci:" + dir_.string()) {
    // The operator's path (a symlink to a layout is fine); O_NONBLOCK: a FIFO there cannot block.
    root_ = Fd(::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_NONBLOCK | O_CLOEXEC));
    if (!root_) {
      int e = errno;
      if (e == ENOENT) throw NotFoundError(name_ + ": no such directory");
      struct stat st {};
      if (e == ENOTDIR && ::stat(dir_.c_str(), &st) == 0) {
        throw InputError(name_ + ": not a directory (it is " +
                         std::string(detail::file_type_name(st.st_mode)) + ")");
      }
      throw IoError(name_ + ": cannot open the layout directory: " + errno_text(e));
    }
  }

  // Checks oci-layout and index.json.
  void check() {
    Bytes layout_bytes;
    try {
      layout_bytes = read_small("oci-layout", limits::kMaxOciLayoutFileBytes, "oci-layout");
    } catch (const NotFoundError&) {
      throw InputError(name_ + ": not an OCI image layout (no oci-layout file)");
    }
    auto what = name_ + "/oci-layout";
    auto j = trust::detail::parse_json(layout_bytes, what, limits::kMaxOciLayoutFileBytes);
    auto version = trust::detail::require_string(j, "imageLayoutVersion", what);
    if (version != kLayoutVersion) {
      throw UnsupportedError(what + ": imageLayoutVersion '" + excerpt(version, 40) +
                             "' is not supported (only 1.0.0)");
    }
    try {
      (void)read_index();
    } catch (const NotFoundError&) {
      throw InputError(name_ + ": not an OCI image layout (no index.json)");
    }
  }

  std::string describe() const override { return name_; }

  Descriptor resolve(const Reference& ref) override {
    auto index = read_index();
    if (ref.digest()) {
      for (const auto& d : index.manifests) {
        if (d.digest == *ref.digest()) return d;
      }
      return describe_blob(*ref.digest());
    }
    if (ref.tag()) {
      auto found = find_in(index, *ref.tag());
      if (!found) {
        throw NotFoundError(name_ + ": no image tagged '" + *ref.tag() +
                            "' (tags: " + detail::list_names(tags_of(index)) + ")");
      }
      return *found;
    }
    // Without a tag, the one image the layout holds; what is attached to it (signatures under
    // "sha256-<hex>.sig", referrer indexes) is not another image.
    std::vector<const Descriptor*> images;
    for (const auto& d : index.manifests) {
      auto it = d.annotations.find(std::string(kAnnotationRefName));
      if (it == d.annotations.end() || !is_attachment_tag(it->second)) images.push_back(&d);
    }
    if (images.empty()) {
      throw InputError(name_ + ": the layout holds no images (index.json lists no manifests)");
    }
    if (images.size() != 1) {
      std::vector<std::string> tags;
      for (const auto* d : images) {
        auto it = d->annotations.find(std::string(kAnnotationRefName));
        if (it != d->annotations.end()) tags.push_back(it->second);
      }
      throw UsageError(name_ + " holds " + std::to_string(images.size()) + " images; name one as " +
                       name_ + ":TAG (tags: " + detail::list_names(tags) + ")");
    }
    return *images.front();
  }

  std::optional<Descriptor> find_tag(std::string_view tag) override {
    auto index = read_index();
    return find_in(index, tag);
  }

  void stream_blob(const Descriptor& desc, const std::function<void(ByteView)>& sink) override {
    auto fd = open_blob(desc.digest);
    detail::BlobVerifier verifier(desc, name_);
    // One byte past the declared size, so that a longer blob is refused, not cut.
    const auto limit = desc.size == UINT64_MAX ? desc.size : desc.size + 1;
    detail::read_file(
        fd.get(), 0, limit, desc.size,
        [&](ByteView chunk) {
          verifier.update(chunk);
          sink(chunk);
        },
        name_ + ": reading blob " + desc.digest.str());
    verifier.finish();
  }

  void put_blob(ByteView data, const Digest& digest) override {
    Descriptor desc;
    desc.digest = digest;
    desc.size = data.size();
    std::size_t offset = 0;
    put_blob_stream(desc, [&](std::uint8_t* buf, std::size_t cap) {
      auto n = std::min(cap, data.size() - offset);
      std::memcpy(buf, data.data() + offset, n);
      offset += n;
      return n;
    });
  }

  bool has_blob(const Digest& digest) override {
    try {
      (void)open_blob(digest);
      return true;
    } catch (const NotFoundError&) {
      return false;
    }
  }

  // Written to a temporary file while hashing; renamed into place only when digest and size match.
  void put_blob_stream(const Descriptor& desc, const BlobReader& read) override {
    const auto& digest = desc.digest;
    const auto alg_name = std::string(to_string(digest.algorithm()));
    auto blobs = open_or_make_dir(root_, "blobs", "blobs/");
    auto alg = open_or_make_dir(blobs, alg_name, "blobs/" + alg_name + "/");
    std::random_device rd;
    auto tmp = ".tmp-" + digest.hex().substr(0, 16) + "-" + std::to_string(rd());
    Fd out(::openat(alg.get(), tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                    0644));
    if (!out) {
      throw IoError(name_ + ": cannot create a temporary file for blob " + digest.str() + ": " +
                    errno_text(errno));
    }
    auto remove_tmp = [&] { ::unlinkat(alg.get(), tmp.c_str(), 0); };
    auto fail = [&](const std::string& step) {
      int e = errno;
      remove_tmp();
      throw IoError(name_ + ": storing blob " + digest.str() + ": " + step + ": " + errno_text(e));
    };
    Hasher hasher(digest.algorithm());
    std::vector<std::uint8_t> buf(detail::kChunkBytes);
    std::uint64_t total = 0;
    try {
      while (true) {
        auto n = read(buf.data(), buf.size());
        if (n == 0) break;
        hasher.update(ByteView(buf.data(), n));
        total += n;
        std::size_t put = 0;
        while (put < n) {
          auto w = ::write(out.get(), buf.data() + put, n - put);
          if (w < 0) {
            if (errno == EINTR) continue;
            fail("write failed");
          }
          put += static_cast<std::size_t>(w);
        }
      }
    } catch (...) {
      remove_tmp();
      throw;
    }
    auto got = hasher.finish();
    if (got != digest || total != desc.size) {
      remove_tmp();
      throw DigestMismatchError(name_ + ": refusing to store blob " + digest.str() + " (" +
                                std::to_string(desc.size) + " bytes): the bytes hash to " +
                                got.str() + " (" + std::to_string(total) + " bytes)");
    }
    if (::fsync(out.get()) != 0) fail("fsync failed");
    out.reset();
    if (::renameat(alg.get(), tmp.c_str(), alg.get(), digest.hex().c_str()) != 0) {
      fail("rename failed");
    }
  }

  Descriptor put_manifest(ByteView bytes, std::string_view media_type) override {
    limits::check(bytes.size(), limits::kMaxManifestBytes, name_ + ": manifest to store", "bytes");
    auto kind = classify_manifest(bytes, media_type, name_ + ": manifest to store");
    Descriptor d;
    d.media_type = std::string(media_type);
    d.digest = Digest::of(bytes);
    d.size = bytes.size();
    if (d.media_type.empty()) {
      auto j = trust::detail::parse_json(bytes, name_);
      d.media_type =
          trust::detail::optional_string(j, "mediaType", name_)
              .value_or(std::string(kind == ManifestKind::kIndex ? media_type::kOciIndex
                                                                 : media_type::kOciManifest));
    }
    put_blob(bytes, d.digest);
    return d;
  }

  // index.json belongs to the user: only the entry of `tag` is rewritten (and not even that when
  // it already names `desc`). Every other entry and field, including what sigil does not model
  // (an entry's `data`, `platform.features`, unknown fields, top-level extensions), is written
  // back as it was read.
  void set_tag(std::string_view tag, const Descriptor& desc) override {
    if (tag.empty()) throw UsageError(name_ + ": empty tag");
    const auto what = name_ + "/index.json";
    const auto bytes = read_small("index.json", limits::kMaxManifestBytes, "index.json");
    const auto index = Index::parse(bytes, what);  // strict: only a valid index is rewritten
    auto doc = detail::parse_ordered_json(bytes, what, limits::kMaxManifestBytes);
    Descriptor entry = desc;
    entry.annotations[std::string(kAnnotationRefName)] = std::string(tag);
    auto& listed = doc["manifests"];  // parallel to index.manifests
    detail::OrderedJson kept = detail::OrderedJson::array();
    bool placed = false;
    for (std::size_t i = 0; i < index.manifests.size(); ++i) {
      const auto& annotations = index.manifests[i].annotations;
      auto it = annotations.find(std::string(kAnnotationRefName));
      if (it != annotations.end() && it->second == tag) {
        // In its position; an entry that already names this very descriptor stays as it is.
        const auto& old = index.manifests[i];
        const bool same =
            old.digest == desc.digest && old.media_type == desc.media_type && old.size == desc.size;
        if (!placed) {
          kept.push_back(same ? std::move(listed[i]) : detail::descriptor_to_json(entry));
        }
        placed = true;
        continue;
      }
      kept.push_back(std::move(listed[i]));
    }
    if (!placed) kept.push_back(detail::descriptor_to_json(entry));
    limits::check(kept.size(), limits::kMaxIndexEntries, what, "entries");
    listed = std::move(kept);
    if (!doc.contains("mediaType")) doc = with_index_media_type(doc);
    auto text = trust::detail::dump_compact(doc);
    write_file_atomic(dir_ / "index.json", as_bytes(text), 0644, Overwrite::kYes);
  }

 private:
  // Opens `name` directly under `dir` as what `want` says, or throws naming what is there. Every
  // path of the layout is opened this way: relative to the layout, never through a symbolic
  // link, and with O_NONBLOCK, so a FIFO, socket or device where a file belongs is refused at
  // once (by its type, checked before anything is read) instead of blocking the open.
  Fd open_at(const Fd& dir, const std::string& name, Want want, std::string_view shown) {
    if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos) {
      throw InputError(name_ + ": refusing path component '" + excerpt(name, 80) + "' in " +
                       std::string(shown));
    }
    const int flags = O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC |
                      (want == Want::kDirectory ? O_DIRECTORY : 0);
    Fd fd(::openat(dir.get(), name.c_str(), flags));
    struct stat st {};
    if (!fd) {
      int e = errno;
      if (e == ENOENT) throw NotFoundError(name_ + ": " + std::string(shown) + " not found");
      // ELOOP (a symlink), ENOTDIR (not a directory), ENXIO (a socket), …: name what is there.
      if (::fstatat(dir.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        throw IoError(name_ + ": cannot open " + std::string(shown) + ": " + errno_text(e));
      }
    } else if (::fstat(fd.get(), &st) != 0) {
      throw IoError(name_ + ": cannot stat " + std::string(shown) + ": " + errno_text(errno));
    }
    if (S_ISLNK(st.st_mode)) {
      throw InputError(name_ + ": " + std::string(shown) +
                       " is a symbolic link (refused: paths must stay in the layout)");
    }
    const bool fits = want == Want::kDirectory ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode);
    if (!fits) {
      throw InputError(name_ + ": " + std::string(shown) + " is " +
                       std::string(detail::file_type_name(st.st_mode)) + ", not " +
                       (want == Want::kDirectory ? "a directory" : "a regular file"));
    }
    if (!fd) throw IoError(name_ + ": cannot open " + std::string(shown) + ": " + errno_text(EIO));
    return fd;
  }

  Fd open_blob(const Digest& digest) {
    auto alg = std::string(to_string(digest.algorithm()));
    try {
      auto blobs = open_at(root_, "blobs", Want::kDirectory, "blobs/");
      auto algdir = open_at(blobs, alg, Want::kDirectory, "blobs/" + alg + "/");
      return open_at(algdir, digest.hex(), Want::kFile, "blob " + digest.str());
    } catch (const NotFoundError&) {
      throw NotFoundError(name_ + ": blob " + digest.str() + " not found");
    }
  }

  Fd open_or_make_dir(const Fd& parent, const std::string& name, const std::string& shown) {
    if (::mkdirat(parent.get(), name.c_str(), 0755) != 0 && errno != EEXIST) {
      throw IoError(name_ + ": cannot create " + shown + ": " + errno_text(errno));
    }
    return open_at(parent, name, Want::kDirectory, shown);
  }

  // "schemaVersion" first, then the OCI index media type, then the rest as it was.
  static detail::OrderedJson with_index_media_type(const detail::OrderedJson& doc) {
    detail::OrderedJson out = detail::OrderedJson::object();
    if (auto it = doc.find("schemaVersion"); it != doc.end()) out["schemaVersion"] = *it;
    out["mediaType"] = std::string(media_type::kOciIndex);
    for (auto it = doc.begin(); it != doc.end(); ++it) {
      if (it.key() != "schemaVersion") out[it.key()] = it.value();
    }
    return out;
  }

  Bytes read_small(const std::string& name, std::size_t cap, std::string_view shown) {
    auto fd = open_at(root_, name, Want::kFile, shown);
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) {
      throw IoError(name_ + ": cannot stat " + std::string(shown) + ": " + errno_text(errno));
    }
    // From its size before reading, and while reading (it may grow meanwhile).
    limits::check(static_cast<std::uint64_t>(st.st_size), cap, name_ + "/" + name, "bytes");
    Bytes out;
    std::vector<std::uint8_t> buf(64 * 1024);
    while (true) {
      auto n = ::read(fd.get(), buf.data(), buf.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        throw IoError(name_ + ": reading " + std::string(shown) + ": " + errno_text(errno));
      }
      if (n == 0) break;
      limits::check(out.size() + static_cast<std::size_t>(n), cap, name_ + "/" + name, "bytes");
      out.insert(out.end(), buf.begin(), buf.begin() + n);
    }
    return out;
  }

  Index read_index() {
    auto bytes = read_small("index.json", limits::kMaxManifestBytes, "index.json");
    return Index::parse(bytes, name_ + "/index.json");
  }

  static std::vector<std::string> tags_of(const Index& index) {
    std::vector<std::string> out;
    for (const auto& d : index.manifests) {
      auto it = d.annotations.find(std::string(kAnnotationRefName));
      if (it != d.annotations.end()) out.push_back(it->second);
    }
    return out;
  }

  std::optional<Descriptor> find_in(const Index& index, std::string_view tag) const {
    std::optional<Descriptor> found;
    for (const auto& d : index.manifests) {
      auto it = d.annotations.find(std::string(kAnnotationRefName));
      if (it == d.annotations.end() || it->second != tag) continue;
      if (found) {
        throw InputError(name_ + "/index.json: tag '" + std::string(tag) +
                         "' names more than one manifest");
      }
      found = d;
    }
    return found;
  }

  // A digest that is not an index.json entry (a child of an index, an attached signature):
  // its media type comes from the content, which is read and verified.
  Descriptor describe_blob(const Digest& digest) {
    auto fd = open_blob(digest);
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) {
      throw IoError(name_ + ": cannot stat blob " + digest.str() + ": " + errno_text(errno));
    }
    Descriptor d;
    d.digest = digest;
    d.size = static_cast<std::uint64_t>(st.st_size);
    d.media_type =
        detail::manifest_media_type(fetch_manifest(d), name_ + ": manifest " + digest.str());
    return d;
  }

  fs::path dir_;
  std::string name_;
  Fd root_;
};

}  // namespace

std::unique_ptr<ImageStore> open_oci_layout(const fs::path& dir) {
  auto layout = std::make_unique<OciLayout>(dir);
  layout->check();
  return layout;
}

std::unique_ptr<ImageStore> create_oci_layout(const fs::path& dir) {
  std::error_code ec;
  if (fs::exists(dir / "oci-layout", ec)) return open_oci_layout(dir);
  fs::create_directories(dir, ec);
  if (ec) throw IoError("oci:" + dir.string() + ": cannot create directory: " + ec.message());
  if (!fs::is_empty(dir, ec)) {
    throw ExistsError("oci:" + dir.string() + ": directory is not empty and not an OCI layout");
  }
  auto layout_file =
      std::string(R"({"imageLayoutVersion":")") + std::string(kLayoutVersion) + "\"}";
  write_file_atomic(dir / "oci-layout", as_bytes(layout_file), 0644, Overwrite::kNo);
  Index index;
  index.media_type = std::string(media_type::kOciIndex);
  auto text = index.to_json();
  write_file_atomic(dir / "index.json", as_bytes(text), 0644, Overwrite::kNo);
  return open_oci_layout(dir);
}

}  // namespace trust::oci
