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
#include "oci/oci_internal.h"

namespace trust::oci {
namespace {

using detail::Fd;
namespace fs = std::filesystem;

constexpr std::string_view kLayoutVersion = "1.0.0";
constexpr std::size_t kMaxOciLayoutFileBytes = 4096;

std::string errno_text(int e) {
  return std::strerror(e);
}

class OciLayout final : public ImageStore {
 public:
  explicit OciLayout(fs::path dir) : dir_(std::move(dir)), name_("oci:" + dir_.string()) {
    root_ = Fd(::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!root_) {
      int e = errno;
      if (e == ENOENT) throw NotFoundError(name_ + ": no such directory");
      throw IoError(name_ + ": cannot open the layout directory: " + errno_text(e));
    }
  }

  // Checks oci-layout and index.json.
  void check() {
    Bytes layout_bytes;
    try {
      layout_bytes = read_small("oci-layout", kMaxOciLayoutFileBytes, "oci-layout");
    } catch (const NotFoundError&) {
      throw InputError(name_ + ": not an OCI image layout (no oci-layout file)");
    }
    auto what = name_ + "/oci-layout";
    auto j = trust::detail::parse_json(layout_bytes, what, kMaxOciLayoutFileBytes);
    auto version = trust::detail::require_string(j, "imageLayoutVersion", what);
    if (version != kLayoutVersion) {
      throw UnsupportedError(what + ": imageLayoutVersion '" + version.substr(0, 40) +
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
    if (index.manifests.empty()) {
      throw InputError(name_ + ": the layout holds no images (index.json lists no manifests)");
    }
    if (index.manifests.size() != 1) {
      throw UsageError(name_ + " holds " + std::to_string(index.manifests.size()) +
                       " images; name one as " + name_ +
                       ":TAG (tags: " + detail::list_names(tags_of(index)) + ")");
    }
    return index.manifests.front();
  }

  std::optional<Descriptor> find_tag(std::string_view tag) override {
    auto index = read_index();
    return find_in(index, tag);
  }

  void stream_blob(const Descriptor& desc, const std::function<void(ByteView)>& sink) override {
    auto fd = open_blob(desc.digest);
    detail::BlobVerifier verifier(desc, name_);
    std::vector<std::uint8_t> buf(
        static_cast<std::size_t>(std::min<std::uint64_t>(detail::kChunkBytes, desc.size + 1)));
    while (true) {
      auto n = ::read(fd.get(), buf.data(), buf.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        throw IoError(name_ + ": reading blob " + desc.digest.str() + ": " + errno_text(errno));
      }
      if (n == 0) break;
      ByteView chunk(buf.data(), static_cast<std::size_t>(n));
      verifier.update(chunk);
      sink(chunk);
    }
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
    auto blobs = open_or_make_dir(root_, "blobs");
    auto alg = open_or_make_dir(blobs, std::string(to_string(digest.algorithm())));
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
    if (bytes.size() > limits::kMaxManifestBytes) {
      throw LimitError(name_ + ": manifest of " + std::to_string(bytes.size()) +
                       " bytes is over the limit of " + std::to_string(limits::kMaxManifestBytes));
    }
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

  void set_tag(std::string_view tag, const Descriptor& desc) override {
    if (tag.empty()) throw UsageError(name_ + ": empty tag");
    auto index = read_index();
    Descriptor entry = desc;
    entry.annotations[std::string(kAnnotationRefName)] = std::string(tag);
    std::vector<Descriptor> kept;
    bool placed = false;
    for (auto& d : index.manifests) {
      auto it = d.annotations.find(std::string(kAnnotationRefName));
      if (it != d.annotations.end() && it->second == tag) {
        if (!placed) kept.push_back(entry);  // keep its position
        placed = true;
        continue;
      }
      kept.push_back(std::move(d));
    }
    if (!placed) kept.push_back(entry);
    if (kept.size() > limits::kMaxIndexEntries) {
      throw LimitError(name_ + "/index.json: would hold " + std::to_string(kept.size()) +
                       " entries, over the limit of " + std::to_string(limits::kMaxIndexEntries));
    }
    index.manifests = std::move(kept);
    if (index.media_type.empty()) index.media_type = std::string(media_type::kOciIndex);
    write_index(index);
  }

  void write_index(Index& index) {
    auto text = index.to_json();
    write_file_atomic(dir_ / "index.json", as_bytes(text), 0644, Overwrite::kYes);
  }

 private:
  // Opens `name` directly under `dir`, refusing symlinks and anything that is not a plain name.
  Fd open_component(const Fd& dir, const std::string& name, int flags, std::string_view shown) {
    if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos) {
      throw InputError(name_ + ": refusing path component '" + name.substr(0, 80) + "' in " +
                       std::string(shown));
    }
    Fd fd(::openat(dir.get(), name.c_str(), flags | O_NOFOLLOW | O_CLOEXEC));
    if (!fd) {
      int e = errno;
      if (e == ELOOP) {
        throw InputError(
            name_ + ": " + std::string(shown) +
            " passes through a symbolic link (refused: paths must stay in the layout)");
      }
      if (e == ENOENT) throw NotFoundError(name_ + ": " + std::string(shown) + " not found");
      if (e == ENOTDIR) {
        throw InputError(name_ + ": " + std::string(shown) +
                         ": a path component is not a directory");
      }
      throw IoError(name_ + ": cannot open " + std::string(shown) + ": " + errno_text(e));
    }
    return fd;
  }

  Fd open_regular(const Fd& dir, const std::string& name, std::string_view shown) {
    auto fd = open_component(dir, name, O_RDONLY, shown);
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) {
      throw IoError(name_ + ": cannot stat " + std::string(shown) + ": " + errno_text(errno));
    }
    if (!S_ISREG(st.st_mode)) {
      throw InputError(name_ + ": " + std::string(shown) + " is not a regular file");
    }
    return fd;
  }

  Fd open_blob(const Digest& digest) {
    auto alg = std::string(to_string(digest.algorithm()));
    auto shown = "blob " + digest.str();
    try {
      auto blobs = open_component(root_, "blobs", O_RDONLY | O_DIRECTORY, "blobs/");
      auto algdir = open_component(blobs, alg, O_RDONLY | O_DIRECTORY, "blobs/" + alg);
      return open_regular(algdir, digest.hex(), shown);
    } catch (const NotFoundError&) {
      throw NotFoundError(name_ + ": blob " + digest.str() + " not found");
    }
  }

  Fd open_or_make_dir(const Fd& parent, const std::string& name) {
    if (::mkdirat(parent.get(), name.c_str(), 0755) != 0 && errno != EEXIST) {
      throw IoError(name_ + ": cannot create " + name + ": " + errno_text(errno));
    }
    return open_component(parent, name, O_RDONLY | O_DIRECTORY, name);
  }

  Bytes read_small(const std::string& name, std::size_t cap, std::string_view shown) {
    auto fd = open_regular(root_, name, shown);
    Bytes out;
    std::vector<std::uint8_t> buf(64 * 1024);
    while (true) {
      auto n = ::read(fd.get(), buf.data(), buf.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        throw IoError(name_ + ": reading " + std::string(shown) + ": " + errno_text(errno));
      }
      if (n == 0) break;
      if (out.size() + static_cast<std::size_t>(n) > cap) {
        throw LimitError(name_ + "/" + name + ": over the limit of " + std::to_string(cap) +
                         " bytes");
      }
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
