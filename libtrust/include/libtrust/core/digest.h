#pragma once
// Content digests ("sha256:<64 hex>", "sha512:<128 hex>"), parsed and validated in one place,
// and a streaming hasher over OpenSSL EVP in constant memory.

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "libtrust/core/bytes.h"
#include "libtrust/export.h"

namespace trust {

enum class DigestAlgorithm { kSha256, kSha512 };

TRUST_API std::string_view to_string(DigestAlgorithm alg);
TRUST_API std::size_t digest_size(DigestAlgorithm alg);  // in bytes

class TRUST_API Digest {
 public:
  // The digest of empty content (sha256:e3b0…). Exists so that aggregates holding a Digest can be
  // default-constructed; it is a real, valid digest, never an "unset" marker.
  Digest();
  // Parses "alg:hex"; throws InputError naming `what` on anything but a canonical digest.
  static Digest parse(std::string_view text, std::string_view what = "digest");
  static Digest from_raw(DigestAlgorithm alg, ByteView raw);
  // One-shot digest of in-memory bytes.
  static Digest of(ByteView data, DigestAlgorithm alg = DigestAlgorithm::kSha256);

  DigestAlgorithm algorithm() const { return alg_; }
  const std::string& hex() const { return hex_; }
  // The raw digest bytes (what a signature over a prehash signs; base64 in sigstore bundles).
  Bytes raw() const;
  std::string str() const;  // "sha256:…"

  // Constant-time comparison (the hex is compared in full whatever the first difference).
  friend TRUST_API bool operator==(const Digest& a, const Digest& b);
  friend bool operator!=(const Digest& a, const Digest& b) { return !(a == b); }
  // Ordering for use as a map key (not constant time).
  friend bool operator<(const Digest& a, const Digest& b) {
    return a.alg_ != b.alg_ ? a.alg_ < b.alg_ : a.hex_ < b.hex_;
  }

 private:
  Digest(DigestAlgorithm alg, std::string hex) : alg_(alg), hex_(std::move(hex)) {}
  DigestAlgorithm alg_;
  std::string hex_;
};

// Streaming hasher. update() any number of times, then finish() once.
class TRUST_API Hasher {
 public:
  explicit Hasher(DigestAlgorithm alg = DigestAlgorithm::kSha256);
  ~Hasher();
  Hasher(Hasher&&) noexcept;
  Hasher& operator=(Hasher&&) noexcept;
  Hasher(const Hasher&) = delete;
  Hasher& operator=(const Hasher&) = delete;

  void update(ByteView data);
  Digest finish();
  std::uint64_t bytes_hashed() const { return count_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  DigestAlgorithm alg_;
  std::uint64_t count_ = 0;
};

}  // namespace trust

template <>
struct std::hash<trust::Digest> {
  std::size_t operator()(const trust::Digest& d) const noexcept {
    return std::hash<std::string>{}(d.hex());
  }
};
