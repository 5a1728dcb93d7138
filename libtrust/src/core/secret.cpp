#include "libtrust/core/secret.h"

#include <sodium.h>

namespace trust {

void secure_wipe(void* data, std::size_t size) noexcept {
  if (data != nullptr && size != 0) sodium_memzero(data, size);
}

bool operator==(const SecretBytes& a, const SecretBytes& b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace trust
