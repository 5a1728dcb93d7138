#pragma once
// A server's trust policy, read again when the policy file or any key file it read changes, with
// the verdict cache made for it (a cache belongs to one policy: a new policy gets a new cache).
// One mechanism, two rules for a replacement that cannot be read:
//  - kFailClosed (the Docker plugin, a node's policy): every check is an error (it denies) until
//    the file is fixed; the file is read again at every check, so the fix applies at once.
//  - kKeepLastGood (sigil serve): the last good policy and its cache stay in force and the
//    refusal is reported (problem(), the events); a valid replacement swaps policy and a fresh
//    cache in at once. Changes are looked for when refresh() is called (the server's watcher,
//    about once a second), never per request.

#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "file_stamp.h"
#include "libtrust/verify/trust_policy.h"
#include "libtrust/verify/verdict_cache.h"

namespace sigil::cli {

class PolicyHolder {
 public:
  enum class OnInvalid { kFailClosed, kKeepLastGood };

  struct Loaded {
    std::shared_ptr<const trust::verify::TrustPolicy> policy;
    std::shared_ptr<trust::verify::VerdictCache> cache;  // null: verify without a cache
  };
  // What happened at a (re)load, for the log and the metrics.
  struct Event {
    bool loaded = false;       // false: refused
    std::string digest;        // loaded: the new policy's; refused: the one kept (or empty)
    std::string error;         // refused: why
    const Loaded* previous{};  // loaded: what it replaced (null at the first load)
  };
  using MakeCache = std::function<std::shared_ptr<trust::verify::VerdictCache>(
      const trust::verify::TrustPolicy&)>;
  using OnEvent = std::function<void(const Event&)>;

  PolicyHolder(std::filesystem::path file, OnInvalid on_invalid, MakeCache make_cache,
               OnEvent on_event);

  // The policy in force. kFailClosed: read again first when changed; throws trust::Error when it
  // cannot be read. kKeepLastGood: the last good one (throws only when none was ever loaded).
  Loaded current();
  // kKeepLastGood: reads the files again when any changed since the last attempt. Throws
  // trust::Error only when no policy was ever loaded (the first call, at start).
  void refresh();
  // kKeepLastGood: the line /readyz reports while a replacement is refused.
  std::optional<std::string> problem() const;

  const std::filesystem::path& file() const { return file_; }

 private:
  Loaded load(std::vector<FileStamp>& stamps) const;
  static bool unchanged(const std::vector<FileStamp>& stamps);  // every file still as stamped
  static bool same_now(const std::vector<FileStamp>& stamps);   // missing files included

  std::filesystem::path file_;
  OnInvalid on_invalid_;
  MakeCache make_cache_;
  OnEvent on_event_;
  mutable std::mutex mutex_;
  Loaded loaded_;
  std::vector<FileStamp> stamps_;          // of the files the policy in force was read from
  std::vector<FileStamp> refused_stamps_;  // of the files when a replacement was refused
  std::optional<std::string> problem_;
};

}  // namespace sigil::cli
