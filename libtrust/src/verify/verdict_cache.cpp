// The in-memory verdict cache (verify/verdict_cache.h): the rules of the on-disk cache
// (digest_cache.h) kept in one process's memory for the admission server.
//
// An entry is keyed, as on disk, by the rule's digest (TrustPolicy::rule_digest) and the image
// digest; the cache is built for one policy, so the policy's content digest is fixed for its
// life. Entries are held in a hash map and, beside it, in the order they were stored: with one
// TTL for all, that is also the order they expire in, so expired entries and the excess over
// max_entries are both removed from the front. Lookups take the lock shared (they never block one
// another), stores take it exclusively; the hit and miss counters are atomics beside it. Expiry
// uses the steady clock (a wall clock set back or forward changes nothing); the wall clock only
// dates the trace step.
#include "libtrust/verify/verdict_cache.h"

#include <atomic>
#include <ctime>
#include <list>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <utility>

#include "libtrust/core/error.h"

namespace trust::verify {
namespace {

using Steady = std::chrono::steady_clock;
using Wall = std::chrono::system_clock;

std::string utc_text(Wall::time_point t) {
  const auto seconds = Wall::to_time_t(t);
  std::tm tm{};
  if (::gmtime_r(&seconds, &tm) == nullptr) return std::to_string(seconds);
  char buf[32];
  if (std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
    return std::to_string(seconds);
  return buf;
}

}  // namespace

VerdictCache::~VerdictCache() = default;

struct MemoryVerdictCache::Impl {
  struct Entry {
    PolicyVerdict verdict;
    Steady::time_point expires;
    Wall::time_point verified_at;
    std::list<std::string>::iterator order;  // its place in `stored`
  };

  Impl(const TrustPolicy& p, const CacheOptions& o) : policy(p), options(o) {}

  const TrustPolicy policy;
  const CacheOptions options;

  mutable std::shared_mutex mutex;
  std::unordered_map<std::string, Entry> entries;  // guarded by mutex
  std::list<std::string> stored;                   // keys, oldest first; guarded by mutex
  std::uint64_t stores = 0;                        // guarded by mutex
  std::uint64_t evictions = 0;                     // guarded by mutex
  mutable std::atomic<std::uint64_t> hits{0};
  mutable std::atomic<std::uint64_t> misses{0};

  // The key: what the rule means and the image digest (as on disk, without the policy's content
  // digest, which is this cache's for its whole life). Throws UsageError for a rule that is not
  // one of the policy's.
  std::string key(const Digest& image, const PolicyRule& rule) const {
    return policy.rule_digest(rule) + "\n" + image.str();
  }

  void erase_front() {
    entries.erase(stored.front());
    stored.pop_front();
    ++evictions;
  }

  // Removes the expired entries (from the front: the oldest expire first). Exclusive lock held.
  void sweep(Steady::time_point now) {
    while (!stored.empty() && entries.at(stored.front()).expires <= now) erase_front();
  }
};

MemoryVerdictCache::MemoryVerdictCache(const TrustPolicy& policy, const CacheOptions& options)
    : impl_(std::make_unique<Impl>(policy, options)) {
  if (options.ttl.count() <= 0)
    throw UsageError("in-memory verdict cache: the TTL is not positive");
  if (options.max_entries == 0) throw UsageError("in-memory verdict cache: max_entries is 0");
}

MemoryVerdictCache::~MemoryVerdictCache() = default;

std::optional<PolicyVerdict> MemoryVerdictCache::lookup(const Digest& image,
                                                        const PolicyRule& rule) const {
  try {
    const auto key = impl_->key(image, rule);
    std::optional<PolicyVerdict> v;
    Wall::time_point verified_at;
    {
      std::shared_lock lock(impl_->mutex);
      const auto it = impl_->entries.find(key);
      if (it != impl_->entries.end() && Steady::now() < it->second.expires) {
        v = it->second.verdict;
        verified_at = it->second.verified_at;
      }
    }
    if (!v) {
      impl_->misses.fetch_add(1, std::memory_order_relaxed);
      return std::nullopt;
    }
    impl_->hits.fetch_add(1, std::memory_order_relaxed);
    // Judged under a rule of the same meaning: the verdict names the rule asked about.
    v->rule = rule.name;
    v->mode = rule.mode;
    v->cached = true;
    TraceStep step{.check = "cache",
                   .subject = rule.name,
                   .passed = true,
                   .reason = "verified at " + utc_text(verified_at) + " (cached until " +
                             utc_text(verified_at + impl_->options.ttl) + " in memory)",
                   .keys = v->keys};
    auto at = v->trace.begin();
    if (at != v->trace.end() && at->check == "rule") ++at;
    v->trace.insert(at, std::move(step));
    return v;
  } catch (...) {
    impl_->misses.fetch_add(1, std::memory_order_relaxed);
    return std::nullopt;
  }
}

bool MemoryVerdictCache::store(const Digest& image, const PolicyRule& rule,
                               const PolicyVerdict& verdict) {
  if (!verdict.satisfied || !verdict.allowed || !verdict.digest || *verdict.digest != image ||
      verdict.rule != rule.name) {
    return false;
  }
  try {
    auto key = impl_->key(image, rule);
    PolicyVerdict kept = verdict;
    kept.cached = false;
    const auto now = Steady::now();
    std::unique_lock lock(impl_->mutex);
    impl_->sweep(now);
    if (auto it = impl_->entries.find(key); it != impl_->entries.end()) {
      impl_->stored.erase(it->second.order);
      impl_->entries.erase(it);
    }
    impl_->stored.push_back(key);
    auto order = std::prev(impl_->stored.end());
    try {
      impl_->entries.emplace(std::move(key), Impl::Entry{.verdict = std::move(kept),
                                                         .expires = now + impl_->options.ttl,
                                                         .verified_at = Wall::now(),
                                                         .order = order});
    } catch (...) {
      impl_->stored.erase(order);
      throw;
    }
    ++impl_->stores;
    while (impl_->entries.size() > impl_->options.max_entries) impl_->erase_front();
    return true;
  } catch (...) {
    return false;
  }
}

MemoryVerdictCache::Stats MemoryVerdictCache::stats() const {
  std::unique_lock lock(impl_->mutex);
  impl_->sweep(Steady::now());
  return Stats{.hits = impl_->hits.load(std::memory_order_relaxed),
               .misses = impl_->misses.load(std::memory_order_relaxed),
               .stores = impl_->stores,
               .evictions = impl_->evictions,
               .entries = impl_->entries.size()};
}

}  // namespace trust::verify
