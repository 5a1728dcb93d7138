#pragma once
// Secrets (passwords, private key bytes) live in zeroizing, move-only buffers that are never
// printed. Memory is wiped with sodium_memzero when freed.

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "libtrust/core/bytes.h"
#include "libtrust/export.h"

namespace trust {

TRUST_API void secure_wipe(void* data, std::size_t size) noexcept;

template <typename T>
struct ZeroizingAllocator {
  using value_type = T;
  ZeroizingAllocator() noexcept = default;
  template <typename U>
  ZeroizingAllocator(const ZeroizingAllocator<U>&) noexcept {}
  T* allocate(std::size_t n) { return std::allocator<T>{}.allocate(n); }
  void deallocate(T* p, std::size_t n) noexcept {
    secure_wipe(p, n * sizeof(T));
    std::allocator<T>{}.deallocate(p, n);
  }
  template <typename U>
  bool operator==(const ZeroizingAllocator<U>&) const noexcept {
    return true;
  }
};

class TRUST_API SecretBytes {
 public:
  SecretBytes() = default;
  explicit SecretBytes(std::size_t size) : data_(size) {}
  SecretBytes(const std::uint8_t* data, std::size_t size) : data_(data, data + size) {}
  static SecretBytes from_string(std::string_view s) {
    return SecretBytes(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
  }
  ~SecretBytes() { clear(); }
  SecretBytes(SecretBytes&&) noexcept = default;
  SecretBytes& operator=(SecretBytes&&) noexcept = default;
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;

  std::uint8_t* data() { return data_.data(); }
  const std::uint8_t* data() const { return data_.data(); }
  std::size_t size() const { return data_.size(); }
  bool empty() const { return data_.empty(); }
  ByteView view() const { return {data_.data(), data_.size()}; }
  std::string_view as_string_view() const {
    return {reinterpret_cast<const char*>(data_.data()), data_.size()};
  }
  void resize(std::size_t n) { data_.resize(n); }
  void push_back(std::uint8_t b) { data_.push_back(b); }
  void clear() {
    secure_wipe(data_.data(), data_.size());
    data_.clear();
  }
  // Constant-time equality.
  TRUST_API friend bool operator==(const SecretBytes& a, const SecretBytes& b);

 private:
  std::vector<std::uint8_t, ZeroizingAllocator<std::uint8_t>> data_;
};

}  // namespace trust
