#pragma once
// What the user trusts: public keys given on the command line or in a policy. Never anything
// found inside the object being verified.

#include <vector>

#include "libtrust/crypto/keys.h"
#include "libtrust/export.h"

namespace trust::verify {

class TRUST_API TrustedKeys {
 public:
  TrustedKeys() = default;
  explicit TrustedKeys(std::vector<PublicKey> keys) : keys_(std::move(keys)) {}
  void add(PublicKey key) { keys_.push_back(std::move(key)); }
  const std::vector<PublicKey>& keys() const { return keys_; }
  bool empty() const { return keys_.empty(); }

 private:
  std::vector<PublicKey> keys_;
};

}  // namespace trust::verify
