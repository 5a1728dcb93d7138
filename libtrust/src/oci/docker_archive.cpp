#include "libtrust/oci/docker_archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <numeric>
#include <string>
#include <vector>

#include "libtrust/core/error.h"
#include "libtrust/core/limits.h"
#include "libtrust/core/text.h"
#include "oci/oci_internal.h"
#include "oci/read_ahead.h"

namespace trust::oci {
namespace {

namespace fs = std::filesystem;
using detail::Fd;
using detail::Json;

constexpr std::string_view kAnnotationContainerdName = "io.containerd.image.name";
constexpr std::string_view kDockerLayerTar = "application/vnd.docker.image.rootfs.diff.tar";
// In a compressed archive, small entries are kept in memory after the first pass (manifests,
// configs, small layers), within a total budget: re-reading them would mean decompressing the
// archive again up to them.
constexpr std::uint64_t kMaxCachedEntryBytes = 256u << 10;
constexpr std::uint64_t kMaxCacheTotalBytes = 32u << 20;
constexpr int kMaxLinkHops = 8;
// libarchive's reads from the file.
constexpr std::size_t kArchiveReadBytes = 256u << 10;

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

std::string errno_text(int e) {
  return std::strerror(e);
}

// The archive file: the operator's path, opened once. Every later read goes through this
// descriptor, by offset, so the scan and every blob read see the same file.
class ArchiveFile {
 public:
  ArchiveFile(const fs::path& file, const std::string& name) : name_(name) {
    // O_NONBLOCK: a FIFO given as the archive is refused below instead of blocking the open.
    fd_ = Fd(::open(file.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
    if (!fd_) {
      int e = errno;
      if (e == ENOENT) throw NotFoundError(name_ + ": no such file");
      throw IoError(name_ + ": cannot open: " + errno_text(e));
    }
    struct stat st {};
    if (::fstat(fd_.get(), &st) != 0) {
      throw IoError(name_ + ": cannot stat: " + errno_text(errno));
    }
    if (S_ISDIR(st.st_mode)) {
      throw InputError(name_ +
                       " is a directory, not a regular file (an OCI layout directory is "
                       "named oci:DIR)");
    }
    if (!S_ISREG(st.st_mode)) {
      // The archive is read more than once (a scan, then each blob asked for).
      throw InputError(name_ + " is " + std::string(detail::file_type_name(st.st_mode)) +
                       ", not a regular file: an archive is read more than once, so it cannot "
                       "come from a pipe; write it to a file first (docker save -o FILE)");
    }
    size_ = static_cast<std::uint64_t>(st.st_size);
  }

  const std::string& name() const { return name_; }
  std::uint64_t size() const { return size_; }
  int fd() const { return fd_.get(); }

  // Up to `len` bytes at `offset`; 0 at the end of the file.
  std::size_t read_some(std::uint64_t offset, std::uint8_t* buf, std::size_t len) const {
    while (true) {
      auto n = ::pread(fd_.get(), buf, len, static_cast<off_t>(offset));
      if (n >= 0) return static_cast<std::size_t>(n);
      if (errno != EINTR) throw IoError(name_ + ": read failed: " + errno_text(errno));
    }
  }

 private:
  std::string name_;
  Fd fd_;
  std::uint64_t size_ = 0;
};

// libarchive over an ArchiveFile from its start, through pread: every reader has its own
// position. Only the compression filters docker and podman write are enabled (no external
// programs).
class ArchiveReader {
 public:
  explicit ArchiveReader(const ArchiveFile& file) : file_(file), buf_(kArchiveReadBytes) {
    a_.reset(archive_read_new());
    if (!a_) throw IoError(name() + ": cannot allocate an archive reader");
    archive_read_support_filter_gzip(a_.get());
    archive_read_support_filter_bzip2(a_.get());
    archive_read_support_filter_xz(a_.get());
    archive_read_support_filter_zstd(a_.get());
    archive_read_support_format_tar(a_.get());
    archive_read_set_read_callback(a_.get(), &ArchiveReader::on_read);
    archive_read_set_skip_callback(a_.get(), &ArchiveReader::on_skip);
    archive_read_set_callback_data(a_.get(), this);
    if (archive_read_open1(a_.get()) != ARCHIVE_OK) {
      throw InputError(name() + ": cannot open as a tar archive: " + error());
    }
  }
  ArchiveReader(const ArchiveReader&) = delete;
  ArchiveReader& operator=(const ArchiveReader&) = delete;

  // Next entry, or nullptr at the end.
  archive_entry* next() {
    archive_entry* e = nullptr;
    int r = archive_read_next_header(a_.get(), &e);
    if (r == ARCHIVE_EOF) return nullptr;
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
      throw InputError(name() + ": malformed tar archive: " + error());
    }
    return e;
  }

  // Reads the current entry's data in chunks; returns 0 at its end.
  std::size_t read(std::uint8_t* buf, std::size_t len, std::string_view entry) {
    auto n = archive_read_data(a_.get(), buf, len);
    if (n < 0) {
      throw InputError(name() + ": reading '" + excerpt(entry) + "': " + error());
    }
    return static_cast<std::size_t>(n);
  }

  // Whether the tar is inside a compression filter (then nothing can be read by offset).
  bool compressed() { return archive_filter_count(a_.get()) > 1; }
  // Bytes of the tar stream (decompressed) consumed so far: after next(), where the entry's
  // data starts.
  std::uint64_t position() { return static_cast<std::uint64_t>(archive_filter_bytes(a_.get(), 0)); }

 private:
  const std::string& name() const { return file_.name(); }
  std::string error() {
    const char* s = archive_error_string(a_.get());
    return s ? excerpt(s) : "unknown libarchive error";
  }
  static la_ssize_t on_read(archive* a, void* self, const void** out) {
    auto* r = static_cast<ArchiveReader*>(self);
    try {
      auto n = r->file_.read_some(r->offset_, r->buf_.data(), r->buf_.size());
      r->offset_ += n;
      *out = r->buf_.data();
      return static_cast<la_ssize_t>(n);
    } catch (const Error& e) {
      archive_set_error(a, EIO, "%s", e.what());
      return -1;
    }
  }
  static la_int64_t on_skip(archive*, void* self, la_int64_t request) {
    auto* r = static_cast<ArchiveReader*>(self);
    const auto left = r->file_.size() > r->offset_ ? r->file_.size() - r->offset_ : 0;
    const auto n =
        std::min<std::uint64_t>(static_cast<std::uint64_t>(std::max<la_int64_t>(request, 0)), left);
    r->offset_ += n;
    return static_cast<la_int64_t>(n);
  }

  const ArchiveFile& file_;
  std::vector<std::uint8_t> buf_;
  std::uint64_t offset_ = 0;
  ArchivePtr a_;
};

struct Entry {
  unsigned type = 0;  // S_IF* (AE_IF*) of a non-link entry
  bool is_link = false;
  std::optional<std::string> link;  // normalised target of a link (nullopt: leaves the archive)
  std::uint64_t size = 0;
  std::size_t ordinal = 0;              // position in the archive
  std::optional<std::uint64_t> offset;  // where its data starts, when it can be read by offset
  std::optional<Digest> digest;  // computed while scanning, or claimed by a blobs/<alg>/<hex> name
  bool digest_claimed = false;
  std::array<std::uint8_t, 4> magic{};
  std::size_t magic_len = 0;
  std::optional<Bytes> cached;
  bool regular() const { return !is_link && type == AE_IFREG; }
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

// The cap on entries parsed from memory, checked from the tar header before they are read.
std::optional<std::uint64_t> metadata_limit(const std::string& name) {
  if (name == "manifest.json") return limits::kMaxArchiveManifestBytes;
  if (name == "index.json") return limits::kMaxManifestBytes;
  if (name == "oci-layout") return limits::kMaxOciLayoutFileBytes;
  return std::nullopt;
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

// What the first bytes of a legacy archive's layer say it is.
std::string_view sniff_layer_media_type(const Entry& e) {
  if (e.magic_len >= 2 && e.magic[0] == 0x1f && e.magic[1] == 0x8b) {
    return media_type::kDockerLayerGzip;
  }
  if (e.magic_len == 4 && e.magic[0] == 0x28 && e.magic[1] == 0xb5 && e.magic[2] == 0x2f &&
      e.magic[3] == 0xfd) {
    return media_type::kOciLayerZstd;
  }
  return kDockerLayerTar;
}

// Reading a docker-archive costs one pass over it (the scan), then:
//  - uncompressed: each entry is read by offset (pread), in any order, in parallel;
//  - compressed: small entries come from memory (cached by the scan); the others from one
//    forward-only cursor, so entries asked for in archive order (reading_order) cost one more
//    pass in all. An entry behind the cursor restarts it from the beginning, and what the
//    restarts may decompress is bounded (limits::kMaxArchiveRereadFactor).
class DockerArchive final : public ImageSource {
 public:
  explicit DockerArchive(const fs::path& path)
      : name_("docker-archive:" + path.string()), file_(path, name_) {
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
    if (where == blobs_.end()) {
      throw NotFoundError(name_ + ": blob " + desc.digest.str() + " not found");
    }
    const auto& [path, entry] = lookup(where->second, "blob " + desc.digest.str());
    if (entry.cached) {
      verifier.update(*entry.cached);
      verifier.finish();
      sink(*entry.cached);
      return;
    }
    auto emit = [&](ByteView chunk) {
      verifier.update(chunk);
      sink(chunk);
    };
    if (entry.offset) {
      stream_at(path, entry, emit);
    } else {
      stream_in_order(path, entry, emit);
    }
    verifier.finish();
  }

  // By offset (uncompressed) reads are independent; a compressed archive has one cursor.
  bool supports_parallel_reads() const override { return !compressed_; }

  // Archive order: what the cursor of a compressed archive reads in one pass.
  std::vector<std::size_t> reading_order(const std::vector<Descriptor>& descs) override {
    std::vector<std::size_t> key(descs.size(), 0);
    for (std::size_t i = 0; i < descs.size(); ++i) {
      if (auto it = blobs_.find(descs[i].digest); it != blobs_.end()) {
        key[i] = entries_.at(it->second).ordinal;
      }
    }
    std::vector<std::size_t> order(descs.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return key[a] < key[b]; });
    return order;
  }

 private:
  void scan() {
    ArchiveReader reader(file_);
    compressed_ = reader.compressed();
    std::vector<std::uint8_t> buf(detail::kChunkBytes);
    std::size_t count = 0;
    std::uint64_t cache_total = 0;
    while (auto* e = reader.next()) {
      limits::check(++count, limits::kMaxArchiveEntries, name_, "entries");
      const char* raw = archive_entry_pathname(e);
      if (!raw) continue;
      auto n = normalize(raw);
      if (!n || n->empty()) continue;  // unsafe or root names can never be referenced
      Entry entry;
      entry.ordinal = count - 1;
      auto type = archive_entry_filetype(e);
      if (const char* hl = archive_entry_hardlink(e)) {
        entry.is_link = true;
        entry.link = normalize(hl);  // relative to the archive root
      } else if (type == AE_IFLNK) {
        entry.is_link = true;
        const char* target = archive_entry_symlink(e);
        if (target) entry.link = normalize(target, dirname_of(*n));
      } else {
        entry.type = type;
        if (entry.regular()) {
          const auto size = archive_entry_size(e);
          if (size < 0) throw InputError(name_ + ": entry '" + excerpt(*n) + "' has no size");
          entry.size = static_cast<std::uint64_t>(size);
        }
      }
      if (auto claimed = claimed_digest(*n)) {
        entry.digest = claimed;
        entry.digest_claimed = true;
      }
      if (auto old = entries_.find(*n); old != entries_.end()) {
        if (old->second.type == AE_IFDIR && entry.type == AE_IFDIR) continue;
        throw InputError(name_ + ": duplicate entry '" + excerpt(*n) + "'");
      }
      if (entry.regular()) read_entry(reader, e, *n, entry, buf, cache_total);
      entries_.emplace(*n, std::move(entry));
    }
    reread_budget_ = limits::kMaxArchiveRereadFactor * reader.position();
    for (const auto& [n, entry] : entries_) {
      if (entry.digest_claimed || (entry.regular() && entry.digest)) {
        blobs_.emplace(*entry.digest, n);
      }
    }
  }

  void read_entry(ArchiveReader& reader, archive_entry* e, const std::string& n, Entry& entry,
                  std::vector<std::uint8_t>& buf, std::uint64_t& cache_total) {
    const auto metadata_cap = metadata_limit(n);
    // Parsed from memory: refused from the tar header's size before a byte is read.
    if (metadata_cap) limits::check(entry.size, *metadata_cap, name_ + "/" + n, "bytes");
    if (!compressed_ && archive_entry_sparse_count(e) == 0) entry.offset = reader.position();
    const bool cache = metadata_cap || (compressed_ && entry.size <= kMaxCachedEntryBytes &&
                                        cache_total + entry.size <= kMaxCacheTotalBytes);
    // A claimed digest is checked whenever the entry is read; only the others are hashed (and
    // sniffed) now. What is needed neither way is not read: skipped by offset when uncompressed.
    if (entry.digest_claimed && !cache) return;
    const std::uint64_t cap = metadata_cap ? std::min(*metadata_cap, entry.size) : entry.size;
    std::optional<Hasher> hasher;
    if (!entry.digest_claimed) hasher.emplace();
    Bytes data;
    std::uint64_t total = 0;
    while (auto got = reader.read(buf.data(), buf.size(), n)) {
      ByteView chunk(buf.data(), got);
      total += got;
      if (total > cap) {
        if (metadata_cap) limits::check(total, *metadata_cap, name_ + "/" + n, "bytes");
        throw InputError(name_ + ": entry '" + excerpt(n) + "' is longer than the " +
                         std::to_string(entry.size) + " bytes its header declares");
      }
      if (entry.magic_len < entry.magic.size()) {
        auto take = std::min(entry.magic.size() - entry.magic_len, got);
        std::copy_n(chunk.begin(), take, entry.magic.begin() + entry.magic_len);
        entry.magic_len += take;
      }
      if (hasher) hasher->update(chunk);
      if (cache) data.insert(data.end(), chunk.begin(), chunk.end());
    }
    if (total != entry.size) {
      throw InputError(name_ + ": entry '" + excerpt(n) + "' is truncated (" +
                       std::to_string(total) + " of " + std::to_string(entry.size) + " bytes)");
    }
    if (hasher) entry.digest = hasher->finish();
    if (cache) {
      cache_total += data.size();
      entry.cached = std::move(data);
    }
  }

  // An entry of an uncompressed archive, read by offset.
  void stream_at(const std::string& n, const Entry& entry,
                 const std::function<void(ByteView)>& emit) {
    const auto got = detail::read_file(file_.fd(), *entry.offset, entry.size, entry.size, emit,
                                       name_ + ": reading '" + excerpt(n) + "'");
    if (got != entry.size) {
      throw InputError(name_ + ": entry '" + excerpt(n) +
                       "' ends early: the archive changed after it was opened");
    }
  }

  // An entry that cannot be read by offset, through the forward-only cursor.
  void stream_in_order(const std::string& n, const Entry& entry,
                       const std::function<void(ByteView)>& emit) {
    std::lock_guard lock(cursor_mu_);
    try {
      if (!cursor_ || cursor_next_ > entry.ordinal) restart_cursor();
      while (true) {
        auto* e = cursor_->next();
        if (!e) break;
        const auto ordinal = cursor_next_++;
        const auto size =
            static_cast<std::uint64_t>(std::max<la_int64_t>(archive_entry_size(e), 0));
        if (ordinal < entry.ordinal) {
          // Skipping it decompresses it (libarchive reads through it at the next header).
          charge(cursor_->position() + size, n);
          continue;
        }
        const char* raw = archive_entry_pathname(e);
        auto here = raw ? normalize(raw) : std::nullopt;
        if (ordinal != entry.ordinal || !here || *here != n) break;
        charge(cursor_->position() + size, n);
        std::vector<std::uint8_t> buf(detail::kChunkBytes);
        while (auto got = cursor_->read(buf.data(), buf.size(), n)) {
          emit(ByteView(buf.data(), got));
        }
        return;
      }
    } catch (...) {
      drop_cursor();
      throw;
    }
    drop_cursor();
    throw InputError(name_ + ": entry '" + excerpt(n) +
                     "' is no longer where it was: the archive changed after it was opened");
  }

  // Refuses to decompress past the re-read budget (`upto`: the cursor's position once it is
  // through the entry at hand). The first pass over the archive (the scan) is not counted.
  void charge(std::uint64_t upto, const std::string& n) {
    limits::check(spent_ + upto, reread_budget_,
                  name_ + ": reading '" + excerpt(n) +
                      "' again from the start of this compressed archive (decompress it first, "
                      "e.g. with gunzip, zstd -d or xz -d, and use the .tar: an uncompressed "
                      "archive is read by offset)",
                  "decompressed bytes after the first pass");
  }

  void restart_cursor() {
    drop_cursor();
    cursor_ = std::make_unique<ArchiveReader>(file_);
    cursor_next_ = 0;
  }

  void drop_cursor() {
    if (!cursor_) return;
    spent_ += cursor_->position();
    cursor_.reset();
    cursor_next_ = 0;
  }

  // Follows links to a regular entry; NotFoundError or InputError naming `what` if there is none.
  const std::pair<const std::string, Entry>& lookup(const std::string& path,
                                                    std::string_view what) {
    auto it = entries_.find(path);
    if (it == entries_.end()) {
      throw NotFoundError(name_ + ": " + std::string(what) + " '" + excerpt(path) +
                          "' not found in the archive");
    }
    for (int hops = 0; it->second.is_link; ++hops) {
      auto next =
          it->second.link && hops < kMaxLinkHops ? entries_.find(*it->second.link) : entries_.end();
      if (next == entries_.end()) {
        throw InputError(name_ + ": " + std::string(what) + " '" + excerpt(path) +
                         "' is a link that does not resolve to a file inside the archive");
      }
      it = next;
    }
    if (!it->second.regular()) {
      throw InputError(name_ + ": " + std::string(what) + " '" + excerpt(path) + "' is " +
                       std::string(detail::file_type_name(it->second.type)) +
                       " in the archive, not a regular file");
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
      throw InputError(name_ + "/manifest.json: " + std::string(what) + " '" + excerpt(p) +
                       "' must be a relative path inside the archive (no '..')");
    }
    return *n;
  }

  // manifest.json, index.json: read (size-checked) by the scan.
  const Bytes& metadata(const std::string& n) {
    const auto& entry = lookup(n, "metadata file").second;
    if (!entry.cached) {
      throw InputError(name_ + ": '" + n + "' is a link (it must be a file of its own)");
    }
    return *entry.cached;
  }

  void load_legacy_form() {
    auto what = name_ + "/manifest.json";
    auto j = trust::detail::parse_json(metadata("manifest.json"), what,
                                       limits::kMaxArchiveManifestBytes);
    if (!j.is_array()) throw InputError(what + ": expected a JSON array");
    limits::check(j.size(), limits::kMaxIndexEntries, what, "images");
    for (std::size_t i = 0; i < j.size(); ++i) {
      auto item_what = what + "[" + std::to_string(i) + "]";
      const auto& item = j[i];
      auto config_path =
          checked_path(trust::detail::require_field(item, "Config", item_what), "Config");
      const auto& layers = trust::detail::require_array(item, "Layers", item_what);
      limits::check(layers.size(), limits::kMaxLayersPerManifest, item_what, "layers");
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
      const auto& centry = lookup(config_path, "config").second;
      m.config = detail::make_descriptor(std::string(media_type::kDockerConfig), *centry.digest,
                                         centry.size);
      for (const auto& l : layers) {
        const auto& lentry = lookup(checked_path(l, "layer path"), "layer").second;
        m.layers.push_back(detail::make_descriptor(std::string(sniff_layer_media_type(lentry)),
                                                   *lentry.digest, lentry.size));
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
    const auto& entry = lookup(where->second, "manifest " + digest.str()).second;
    auto d = detail::make_descriptor("", digest, entry.size);
    d.media_type =
        detail::manifest_media_type(fetch_manifest(d), name_ + ": manifest " + digest.str());
    return d;
  }

  std::string name_;
  ArchiveFile file_;
  bool compressed_ = false;
  std::map<std::string, Entry> entries_;
  std::map<Digest, std::string> blobs_;
  std::map<Digest, Bytes> synthesized_;
  std::vector<ArchiveImage> images_;

  std::mutex cursor_mu_;
  std::unique_ptr<ArchiveReader> cursor_;
  std::size_t cursor_next_ = 0;  // ordinal of the entry the cursor's next() returns
  std::uint64_t spent_ = 0;      // decompressed by cursors already dropped
  std::uint64_t reread_budget_ = 0;
};

}  // namespace

std::unique_ptr<ImageSource> open_docker_archive(const fs::path& file) {
  return std::make_unique<DockerArchive>(file);
}

}  // namespace trust::oci
