// Placeholder (issue 11: the admission engineer implements MemoryVerdictCache). Caches nothing.
#include "libtrust/verify/verdict_cache.h"

namespace trust::verify {

VerdictCache::~VerdictCache() = default;

struct MemoryVerdictCache::Impl {};

MemoryVerdictCache::MemoryVerdictCache(const TrustPolicy&, const CacheOptions&)
    : impl_(std::make_unique<Impl>()) {}
MemoryVerdictCache::~MemoryVerdictCache() = default;
std::optional<PolicyVerdict> MemoryVerdictCache::lookup(const Digest&, const PolicyRule&) const {
  return std::nullopt;
}
bool MemoryVerdictCache::store(const Digest&, const PolicyRule&, const PolicyVerdict&) {
  return false;
}
MemoryVerdictCache::Stats MemoryVerdictCache::stats() const {
  return {};
}

}  // namespace trust::verify
