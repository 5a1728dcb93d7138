#pragma once
// Shared by the DSSE, in-toto, bundle and bundle-verification tests: error-code capture and
// generated keys (cached per type: key generation is the slow part; nothing real trusts them).

#include <catch2/catch.hpp>

#include <map>
#include <string>

#include "libtrust/core/error.h"
#include "libtrust/crypto/keys.h"

namespace sigil::test {

// The code of the trust::Error `f` throws (FAILs if it throws nothing).
template <typename F>
trust::ErrorCode error_code_of(F&& f) {
  try {
    f();
  } catch (const trust::Error& e) {
    return e.code();
  }
  FAIL("expected a trust::Error");
  return trust::ErrorCode::kUsage;
}

// The message of the trust::Error `f` throws.
template <typename F>
std::string error_message_of(F&& f) {
  try {
    f();
  } catch (const trust::Error& e) {
    return e.what();
  }
  FAIL("expected a trust::Error");
  return {};
}

// A generated key of `type`, the same object for every call with the same (type, slot).
inline const trust::PrivateKey& test_key(trust::KeyType type = trust::KeyType::kEcdsaP256,
                                         int slot = 0) {
  static std::map<std::pair<int, int>, trust::PrivateKey> keys;
  auto k = std::make_pair(static_cast<int>(type), slot);
  auto it = keys.find(k);
  if (it == keys.end()) it = keys.emplace(k, trust::PrivateKey::generate(type)).first;
  return it->second;
}

}  // namespace sigil::test
