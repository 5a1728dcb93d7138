#pragma once
// Generated keys for tests, cached: generation is the slow part (RSA-4096 most of all), and
// nothing real trusts them. No private key is committed for these.

#include <map>
#include <utility>

#include "libtrust/crypto/keys.h"

namespace sigil::test {

// A generated key of `type`, the same object for every call with the same (type, slot); other
// slots give other keys of the type. Call it before starting threads that share the key.
inline const trust::PrivateKey& test_key(trust::KeyType type = trust::KeyType::kEcdsaP256,
                                         int slot = 0) {
  static std::map<std::pair<int, int>, trust::PrivateKey> keys;
  auto k = std::make_pair(static_cast<int>(type), slot);
  auto it = keys.find(k);
  if (it == keys.end()) it = keys.emplace(k, trust::PrivateKey::generate(type)).first;
  return it->second;
}

// Every key type sigil signs with.
inline constexpr trust::KeyType kSigningKeyTypes[] = {
    trust::KeyType::kEcdsaP256, trust::KeyType::kEcdsaP384, trust::KeyType::kEd25519,
    trust::KeyType::kRsa3072, trust::KeyType::kRsa4096};

}  // namespace sigil::test
