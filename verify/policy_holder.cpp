#include "policy_holder.h"

#include "libtrust/core/error.h"
#include "libtrust/core/text.h"

namespace sigil::cli {

PolicyHolder::PolicyHolder(std::filesystem::path file, OnInvalid on_invalid, MakeCache make_cache,
                           OnEvent on_event)
    : file_(std::move(file)),
      on_invalid_(on_invalid),
      make_cache_(std::move(make_cache)),
      on_event_(std::move(on_event)) {}

bool PolicyHolder::unchanged(const std::vector<FileStamp>& stamps) {
  if (stamps.empty()) return false;
  for (const auto& s : stamps) {
    auto now = stamp_of(s.path);
    if (!now || !(*now == s)) return false;
  }
  return true;
}

bool PolicyHolder::same_now(const std::vector<FileStamp>& stamps) {
  for (const auto& s : stamps) {
    if (!(stamp_of(s.path).value_or(FileStamp{.path = s.path}) == s)) return false;
  }
  return true;
}

PolicyHolder::Loaded PolicyHolder::load(std::vector<FileStamp>& stamps) const {
  auto policy =
      std::make_shared<const trust::verify::TrustPolicy>(trust::verify::TrustPolicy::load(file_));
  stamps.clear();
  for (const auto& f : policy->files()) {
    auto s = stamp_of(f);
    if (!s) throw trust::IoError(f.string() + ": changed while the policy was read");
    stamps.push_back(*s);
  }
  return Loaded{policy, make_cache_ ? make_cache_(*policy) : nullptr};
}

PolicyHolder::Loaded PolicyHolder::current() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (on_invalid_ == OnInvalid::kKeepLastGood) {
    if (!loaded_.policy) throw trust::IoError(file_.string() + ": no policy loaded");
    return loaded_;
  }
  if (loaded_.policy && unchanged(stamps_)) return loaded_;
  const Loaded previous = loaded_;
  loaded_ = {};
  stamps_.clear();
  std::vector<FileStamp> stamps;
  Loaded fresh = load(stamps);  // throws: every check fails until the file is fixed
  loaded_ = fresh;
  stamps_ = std::move(stamps);
  if (on_event_) {
    on_event_(Event{.loaded = true,
                    .digest = fresh.policy->content_digest(),
                    .error = {},
                    .previous = previous.policy ? &previous : nullptr});
  }
  return loaded_;
}

void PolicyHolder::refresh() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (loaded_.policy && unchanged(stamps_)) return;
    if (!refused_stamps_.empty() && same_now(refused_stamps_)) return;
  }
  // Read outside the lock: requests go on with the policy in force meanwhile. Only the watcher
  // calls refresh, so two loads never race.
  std::vector<FileStamp> stamps;
  try {
    Loaded fresh = load(stamps);
    Loaded previous;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      previous = loaded_;
      loaded_ = fresh;
      stamps_ = std::move(stamps);
      refused_stamps_.clear();
      problem_.reset();
    }
    if (on_event_) {
      on_event_(Event{.loaded = true,
                      .digest = fresh.policy->content_digest(),
                      .error = {},
                      .previous = previous.policy ? &previous : nullptr});
    }
  } catch (const trust::Error& e) {
    std::string kept;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!loaded_.policy) throw;  // nothing to keep: the server cannot start
      kept = loaded_.policy->content_digest();
      // Tried again when the policy file or a file of the policy in force changes (a missing
      // file counts as a state of its own: it is retried when it appears).
      refused_stamps_.clear();
      bool has_file = false;
      for (const auto& s : stamps_) {
        refused_stamps_.push_back(stamp_of(s.path).value_or(FileStamp{.path = s.path}));
        has_file = has_file || s.path == file_;
      }
      if (!has_file) refused_stamps_.push_back(stamp_of(file_).value_or(FileStamp{.path = file_}));
      problem_ = "policy " + file_.string() +
                 ": replacement refused, serving the last good policy (" + kept + "): " + e.what();
    }
    if (on_event_)
      on_event_(Event{.loaded = false, .digest = kept, .error = e.what(), .previous = nullptr});
  }
}

std::optional<std::string> PolicyHolder::problem() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return problem_;
}

}  // namespace sigil::cli
