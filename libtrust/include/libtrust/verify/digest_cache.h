#pragma once
// The verified-digest cache: verdicts that were satisfied, kept on disk so that a node hook (a new
// process at every pull) does not verify the same image again. Shared by the containerd hook and
// the Docker plugin (and, in memory, by the admission server).
//
// The rules (docs/threat-model.md):
//  - An entry is keyed by the image digest and the matched rule's digest
//    (TrustPolicy::rule_digest), never by a tag or a name. A tag moved to another digest misses.
//  - Only satisfied verdicts are stored: a denial, or a failure allowed by warn or audit, is
//    judged again each time (an image signed later is allowed at once).
//  - An entry expires after `ttl`. At most `max_entries` are kept; the oldest go first.
//  - The whole cache is dropped when the policy's content digest changes (the policy file or any
//    key file it reads).
//  - The directory is used only when it is a real directory (no symlink) owned by root and not
//    writable by group or others, and so is each entry; otherwise open() says why and the caller
//    verifies without a cache. Entries are written 0600 through a temporary file and a rename.

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "libtrust/core/digest.h"
#include "libtrust/export.h"
#include "libtrust/verify/policy_check.h"
#include "libtrust/verify/trust_policy.h"
#include "libtrust/verify/verdict_cache.h"

namespace trust::verify {

class TRUST_API VerifiedDigestCache final : public VerdictCache {
 public:
  // Opens the cache in `dir` (created 0700 when it does not exist and its parent is safe) for
  // `policy`. nullopt, with `why_not` set to one line naming the directory and the problem, when
  // it may not be used (see above). Entries written under another policy content digest are
  // dropped here.
  static std::optional<VerifiedDigestCache> open(const std::filesystem::path& dir,
                                                 const TrustPolicy& policy,
                                                 const CacheOptions& options, std::string& why_not);
  ~VerifiedDigestCache() override;
  VerifiedDigestCache(VerifiedDigestCache&&) noexcept;
  VerifiedDigestCache& operator=(VerifiedDigestCache&&) noexcept;

  // The stored verdict for `image` under `rule`, when there is a fresh one: `cached` set and a
  // "cache" trace step saying when it was verified. Never throws: an unreadable or malformed
  // entry is a miss (and is removed).
  std::optional<PolicyVerdict> lookup(const Digest& image, const PolicyRule& rule) const override;
  // Stores `verdict` for `image` under `rule` when it is satisfied (anything else is ignored).
  // Returns whether it was written; never throws (a cache that cannot be written only costs
  // time).
  bool store(const Digest& image, const PolicyRule& rule, const PolicyVerdict& verdict) override;

 private:
  struct Impl;
  explicit VerifiedDigestCache(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace trust::verify
