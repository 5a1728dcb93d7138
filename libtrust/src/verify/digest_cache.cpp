// The verified-digest cache. PLACEHOLDER until the cache work lands: never usable.
#include "libtrust/verify/digest_cache.h"

namespace trust::verify {

struct VerifiedDigestCache::Impl {};

std::optional<VerifiedDigestCache> VerifiedDigestCache::open(const std::filesystem::path& dir,
                                                             const TrustPolicy&,
                                                             const CacheOptions&,
                                                             std::string& why_not) {
  why_not = dir.string() + ": the verified-digest cache is not built yet";
  return std::nullopt;
}
VerifiedDigestCache::VerifiedDigestCache(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
VerifiedDigestCache::~VerifiedDigestCache() = default;
VerifiedDigestCache::VerifiedDigestCache(VerifiedDigestCache&&) noexcept = default;
VerifiedDigestCache& VerifiedDigestCache::operator=(VerifiedDigestCache&&) noexcept = default;
std::optional<PolicyVerdict> VerifiedDigestCache::lookup(const Digest&, const PolicyRule&) const {
  return std::nullopt;
}
bool VerifiedDigestCache::store(const Digest&, const PolicyRule&, const PolicyVerdict&) {
  return false;
}

}  // namespace trust::verify
