#pragma once
// Where satisfied verdicts are kept so that an image is not verified again: on disk for the node
// hooks (digest_cache.h: VerifiedDigestCache, a new process at every pull), in memory for the
// admission server (MemoryVerdictCache below). Both keep the same rules (digest_cache.h's
// header): keyed by image digest and the rule's digest, never a tag or a name; only satisfied
// verdicts; a TTL and a bound on entries, oldest out first; everything dropped when the policy's
// content digest changes.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

#include "libtrust/core/digest.h"
#include "libtrust/export.h"
#include "libtrust/verify/policy_check.h"
#include "libtrust/verify/trust_policy.h"

namespace trust::verify {

struct CacheOptions {
  std::chrono::seconds ttl{600};
  std::size_t max_entries = 4096;
};

class TRUST_API VerdictCache {
 public:
  virtual ~VerdictCache();
  // The stored verdict for `image` under `rule` when there is a fresh one: `cached` set and a
  // "cache" trace step saying when it was verified. Never throws: anything unreadable is a miss.
  virtual std::optional<PolicyVerdict> lookup(const Digest& image,
                                              const PolicyRule& rule) const = 0;
  // Stores `verdict` when it is satisfied (anything else is ignored); whether it was kept. Never
  // throws.
  virtual bool store(const Digest& image, const PolicyRule& rule, const PolicyVerdict& verdict) = 0;
};

// In memory, for one process serving many requests at once: thread-safe, lookups do not block
// one another, bounded in entries (and so in memory: a stored verdict keeps its trace, at most a
// few KiB). Built for one policy: a server swaps in a new cache with a new policy.
class TRUST_API MemoryVerdictCache final : public VerdictCache {
 public:
  MemoryVerdictCache(const TrustPolicy& policy, const CacheOptions& options);
  ~MemoryVerdictCache() override;
  std::optional<PolicyVerdict> lookup(const Digest& image, const PolicyRule& rule) const override;
  bool store(const Digest& image, const PolicyRule& rule, const PolicyVerdict& verdict) override;

  struct Stats {
    std::uint64_t hits = 0;
    std::uint64_t misses = 0;
    std::uint64_t stores = 0;
    std::uint64_t evictions = 0;  // expired or pushed out by max_entries
    std::size_t entries = 0;
  };
  Stats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace trust::verify
