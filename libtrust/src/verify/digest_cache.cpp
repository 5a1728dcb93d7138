// The verified-digest cache (verify/digest_cache.h): one small JSON file per satisfied verdict in
// a directory owned by root and writable by nobody else.
//
// Layout of DIR:
//   policy            the content digest of the policy the entries were written under
//   <hex>.json        one entry; <hex> = sha256(policy content digest, rule digest, image digest)
//   .tmp-<hex>-<n>    an entry being written (renamed onto <hex>.json when complete)
// Every file is opened relative to the directory's descriptor with O_NOFOLLOW, and checked with
// fstat (a regular file owned by root, not writable by group or others) before it is read. An
// entry is written 0600 to a temporary name and renamed, so a reader sees a whole entry or none;
// it is not fsynced: an entry a crash cut short is malformed, so a miss (and removed), which costs
// one verification and no safety. Entries carry every part of their key and are compared field
// by field on lookup: a file name that collides, or an entry copied from elsewhere, is a miss.
#include "libtrust/verify/digest_cache.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <random>
#include <string_view>
#include <utility>
#include <vector>

#include "core/json_util.h"
#include "core/unique_fd.h"
#include "libtrust/core/error.h"
#include "libtrust/core/limits.h"

namespace trust::verify {
namespace {

namespace fs = std::filesystem;
using detail::Json;
using detail::UniqueFd;
using Clock = std::chrono::system_clock;

constexpr const char* kPolicyMarker = "policy";
constexpr std::string_view kEntrySuffix = ".json";
constexpr std::string_view kTempPrefix = ".tmp-";
constexpr int kEntryFormat = 1;
// A temporary file older than this was left by a writer that died; it is removed.
constexpr std::int64_t kStaleTempSeconds = 60;
// The fields of an entry, all required; anything else makes it malformed.
constexpr std::string_view kEntryFields[] = {"format", "digest", "rule",        "rule_digest",
                                             "policy", "image",  "verified_at", "expires",
                                             "keys",   "cause"};

std::string errno_text(int e) {
  return std::strerror(e);
}

std::string octal_mode(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

// Why a directory or file may not be trusted as part of the cache, or nullopt when it may.
std::optional<std::string> unsafe_because(const struct stat& st, bool directory) {
  if (directory ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode)) {
    if (S_ISLNK(st.st_mode)) return "a symbolic link";
    return directory ? "not a directory" : "not a regular file";
  }
  if (st.st_uid != 0) return "owned by uid " + std::to_string(st.st_uid) + ", not root";
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    return "writable by group or others (mode " + octal_mode(st.st_mode) + ")";
  }
  return std::nullopt;
}

std::int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(Clock::now().time_since_epoch()).count();
}

std::string utc_text(std::int64_t seconds) {
  const auto t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  if (::gmtime_r(&t, &tm) == nullptr) return std::to_string(seconds);
  char buf[32];
  if (std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
    return std::to_string(seconds);
  return buf;
}

bool is_entry_name(std::string_view name) {
  return name.size() > kEntrySuffix.size() && name.ends_with(kEntrySuffix) &&
         !name.starts_with(".");
}

// Reads a small file under `dir`: nullopt when it is not there; throws InputError when it is no
// root-owned regular file that only root may write, or is over the entry limit.
std::optional<std::string> read_small(const UniqueFd& dir, const std::string& name) {
  UniqueFd fd(::openat(dir.get(), name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  if (!fd) {
    const int e = errno;
    if (e == ENOENT) return std::nullopt;
    if (e == ELOOP) throw InputError(name + ": a symbolic link");
    throw IoError(name + ": cannot open: " + errno_text(e));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) throw IoError(name + ": cannot stat: " + errno_text(errno));
  if (auto why = unsafe_because(st, false)) throw InputError(name + ": " + *why);
  limits::check(static_cast<std::uint64_t>(st.st_size), limits::kMaxCacheEntryBytes, name, "bytes");
  std::string out;
  char buf[4096];
  while (true) {
    const auto n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw IoError(name + ": cannot read: " + errno_text(errno));
    }
    if (n == 0) break;
    limits::check(out.size() + static_cast<std::size_t>(n), limits::kMaxCacheEntryBytes, name,
                  "bytes");
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

// Writes `text` under `dir` as `name`, 0600, through a temporary file and a rename. False when
// it could not (nothing is left behind).
bool write_atomic(const UniqueFd& dir, const std::string& name, std::string_view text) {
  std::random_device rd;
  const auto tmp = std::string(kTempPrefix) + name.substr(0, 16) + "-" + std::to_string(rd()) +
                   std::to_string(rd());
  UniqueFd out(
      ::openat(dir.get(), tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!out) return false;
  bool ok = ::fchmod(out.get(), 0600) == 0;
  std::size_t put = 0;
  while (ok && put < text.size()) {
    const auto w = ::write(out.get(), text.data() + put, text.size() - put);
    if (w < 0) {
      if (errno == EINTR) continue;
      ok = false;
      break;
    }
    put += static_cast<std::size_t>(w);
  }
  ok = ::close(out.release()) == 0 && ok;
  if (ok) ok = ::renameat(dir.get(), tmp.c_str(), dir.get(), name.c_str()) == 0;
  if (!ok) ::unlinkat(dir.get(), tmp.c_str(), 0);
  return ok;
}

struct DirEntry {
  std::string name;
  struct timespec mtime {};
};

// The names in `dir` (a duplicate of its descriptor is read, so `dir` keeps its offset).
std::vector<DirEntry> list(const UniqueFd& dir) {
  std::vector<DirEntry> out;
  const int copy = ::dup(dir.get());
  if (copy < 0) return out;
  DIR* d = ::fdopendir(copy);
  if (d == nullptr) {
    ::close(copy);
    return out;
  }
  ::rewinddir(d);
  while (const dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    struct stat st {};
    if (::fstatat(dir.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    out.push_back(DirEntry{std::move(name), st.st_mtim});
  }
  ::closedir(d);
  return out;
}

bool older(const DirEntry& a, const DirEntry& b) {
  if (a.mtime.tv_sec != b.mtime.tv_sec) return a.mtime.tv_sec < b.mtime.tv_sec;
  if (a.mtime.tv_nsec != b.mtime.tv_nsec) return a.mtime.tv_nsec < b.mtime.tv_nsec;
  return a.name < b.name;
}

// An entry's fields, checked strictly.
struct Entry {
  std::string digest, rule, rule_digest, policy, image, cause;
  std::int64_t verified_at = 0, expires = 0;
  std::vector<std::string> keys;
};

Entry parse_entry(std::string_view text, const std::string& what) {
  const auto j = detail::parse_json(text, what, limits::kMaxCacheEntryBytes);
  if (!j.is_object()) throw InputError(what + ": not a JSON object");
  for (const auto& [k, v] : j.items()) {
    if (std::find(std::begin(kEntryFields), std::end(kEntryFields), k) == std::end(kEntryFields)) {
      throw InputError(what + ": unknown field '" + k + "'");
    }
  }
  if (detail::require_int(j, "format", what) != kEntryFormat) {
    throw InputError(what + ": unknown format");
  }
  Entry e;
  e.digest = detail::require_string(j, "digest", what);
  e.rule = detail::require_string(j, "rule", what);
  e.rule_digest = detail::require_string(j, "rule_digest", what);
  e.policy = detail::require_string(j, "policy", what);
  e.image = detail::require_string(j, "image", what);
  e.cause = detail::require_string(j, "cause", what);
  e.verified_at = detail::require_int(j, "verified_at", what);
  e.expires = detail::require_int(j, "expires", what);
  for (const auto& k : detail::require_array(j, "keys", what)) {
    if (!k.is_string()) throw InputError(what + ": keys: not a string");
    e.keys.push_back(k.get<std::string>());
  }
  return e;
}

}  // namespace

struct VerifiedDigestCache::Impl {
  UniqueFd dir;
  fs::path path;
  TrustPolicy policy;
  CacheOptions options;

  std::string entry_name(const Digest& image, const PolicyRule& rule) const {
    const auto key = policy.content_digest() + "\n" + policy.rule_digest(rule) + "\n" + image.str();
    return Digest::of(as_bytes(key)).hex() + std::string(kEntrySuffix);
  }

  void remove(const std::string& name) const { ::unlinkat(dir.get(), name.c_str(), 0); }

  // Drops every entry written under another policy (and the temporary files) when the marker
  // names another content digest than this policy's, then writes this policy's.
  void sync_policy() const {
    std::optional<std::string> marker;
    try {
      marker = read_small(dir, kPolicyMarker);
    } catch (const Error&) {
      remove(kPolicyMarker);  // not a marker root wrote: gone, and every entry with it
    }
    if (marker && *marker == policy.content_digest()) return;
    for (const auto& e : list(dir)) {
      if (is_entry_name(e.name) || e.name.starts_with(kTempPrefix)) remove(e.name);
    }
    (void)write_atomic(dir, kPolicyMarker, policy.content_digest());
  }

  // Keeps at most options.max_entries entries (the oldest go) and removes stale temporary files.
  void evict() const {
    auto all = list(dir);
    std::vector<DirEntry> entries;
    const auto now = now_seconds();
    for (auto& e : all) {
      if (is_entry_name(e.name)) {
        entries.push_back(std::move(e));
      } else if (e.name.starts_with(kTempPrefix) && now - e.mtime.tv_sec > kStaleTempSeconds) {
        remove(e.name);
      }
    }
    if (entries.size() <= options.max_entries) return;
    std::sort(entries.begin(), entries.end(), older);
    const auto excess = entries.size() - options.max_entries;
    for (std::size_t i = 0; i < excess; ++i) remove(entries[i].name);
  }
};

std::optional<VerifiedDigestCache> VerifiedDigestCache::open(const fs::path& dir,
                                                             const TrustPolicy& policy,
                                                             const CacheOptions& options,
                                                             std::string& why_not) {
  why_not.clear();
  auto refuse = [&](const std::string& why) -> std::optional<VerifiedDigestCache> {
    why_not = dir.string() + ": " + why + "; the verified-digest cache is not used";
    return std::nullopt;
  };
  if (options.ttl.count() <= 0) return refuse("the TTL is not positive");
  if (options.max_entries == 0) return refuse("max_entries is 0");
  try {
    fs::path target = dir;
    if (!target.has_filename()) target = target.parent_path();  // "cache/"
    fs::path parent_path = target.parent_path();
    if (parent_path.empty()) parent_path = ".";
    const auto name = target.filename().string();
    if (name.empty() || name == "." || name == "..") return refuse("not a directory name");
    // The parent is the operator's path (it may be a link, as /etc often is); the cache itself
    // must be a real directory.
    UniqueFd parent(::open(parent_path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!parent) return refuse("cannot open its parent directory: " + errno_text(errno));
    const int flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC;
    UniqueFd fd(::openat(parent.get(), name.c_str(), flags));
    if (!fd && errno == ENOENT) {
      struct stat pst {};
      if (::fstat(parent.get(), &pst) != 0) return refuse("cannot stat its parent directory");
      if (auto why = unsafe_because(pst, true)) {
        return refuse("does not exist, and its parent directory is " + *why +
                      ", so it is not created there");
      }
      if (::mkdirat(parent.get(), name.c_str(), 0700) != 0 && errno != EEXIST) {
        return refuse("cannot create it: " + errno_text(errno));
      }
      fd = UniqueFd(::openat(parent.get(), name.c_str(), flags));
    }
    struct stat st {};
    if (!fd) {
      const int e = errno;
      if (::fstatat(parent.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
        if (auto why = unsafe_because(st, true)) return refuse(*why);
      }
      return refuse("cannot open it: " + errno_text(e));
    }
    if (::fstat(fd.get(), &st) != 0) return refuse("cannot stat it: " + errno_text(errno));
    if (auto why = unsafe_because(st, true)) return refuse(*why);
    auto impl = std::make_unique<Impl>(Impl{std::move(fd), dir, policy, options});
    impl->sync_policy();
    return VerifiedDigestCache(std::move(impl));
  } catch (const std::exception& e) {
    return refuse(e.what());
  }
}

VerifiedDigestCache::VerifiedDigestCache(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
VerifiedDigestCache::~VerifiedDigestCache() = default;
VerifiedDigestCache::VerifiedDigestCache(VerifiedDigestCache&&) noexcept = default;
VerifiedDigestCache& VerifiedDigestCache::operator=(VerifiedDigestCache&&) noexcept = default;

std::optional<PolicyVerdict> VerifiedDigestCache::lookup(const Digest& image,
                                                         const PolicyRule& rule) const {
  if (!impl_) return std::nullopt;
  const auto name = impl_->entry_name(image, rule);
  try {
    std::optional<std::string> text;
    try {
      text = read_small(impl_->dir, name);
    } catch (const IoError&) {
      return std::nullopt;  // could not be read now (a transient error): not proof it is bad
    }
    if (!text) return std::nullopt;
    const auto e = parse_entry(*text, name);
    const auto now = now_seconds();
    const auto ttl = impl_->options.ttl.count();
    // Every part of the key, as stored; and fresh under the TTL in force now (a TTL lowered since
    // the entry was written applies to it), never dated in the future (a clock set back).
    const bool valid = e.digest == image.str() &&
                       e.rule_digest == impl_->policy.rule_digest(rule) &&
                       e.policy == impl_->policy.content_digest() && e.verified_at <= now &&
                       now < std::min(e.expires, e.verified_at + ttl);
    if (!valid) {
      impl_->remove(name);
      return std::nullopt;
    }
    PolicyVerdict v;
    v.image = e.image;
    v.digest = image;
    v.rule = rule.name;
    v.mode = rule.mode;
    v.satisfied = true;
    v.allowed = true;
    v.cause = e.cause;
    v.keys = e.keys;
    v.cached = true;
    v.trace.push_back(TraceStep{.check = "cache",
                                .subject = rule.name,
                                .passed = true,
                                .reason = "verified at " + utc_text(e.verified_at) +
                                          " (cached until " +
                                          utc_text(std::min(e.expires, e.verified_at + ttl)) +
                                          " in " + impl_->path.string() + ")",
                                .keys = e.keys});
    return v;
  } catch (...) {
    // Malformed, oversized, a link, not root's: a miss, and removed.
    impl_->remove(name);
    return std::nullopt;
  }
}

bool VerifiedDigestCache::store(const Digest& image, const PolicyRule& rule,
                                const PolicyVerdict& verdict) {
  if (!impl_ || !verdict.satisfied || !verdict.allowed || !verdict.digest ||
      *verdict.digest != image || verdict.rule != rule.name) {
    return false;
  }
  try {
    const auto now = now_seconds();
    detail::OrderedJson j = detail::OrderedJson::object();
    j["format"] = kEntryFormat;
    j["digest"] = image.str();
    j["rule"] = rule.name;
    j["rule_digest"] = impl_->policy.rule_digest(rule);
    j["policy"] = impl_->policy.content_digest();
    j["image"] = verdict.image;
    j["verified_at"] = now;
    j["expires"] = now + impl_->options.ttl.count();
    j["keys"] = verdict.keys;
    j["cause"] = verdict.cause;
    const auto text = detail::dump_compact(j);
    if (text.size() > limits::kMaxCacheEntryBytes) return false;
    if (!write_atomic(impl_->dir, impl_->entry_name(image, rule), text)) return false;
    impl_->evict();
    return true;
  } catch (...) {
    return false;
  }
}

}  // namespace trust::verify
