#pragma once
// What the user trusts: public keys given on the command line or in a policy, each under the name
// the user gave it. Never anything found inside the object being verified. TrustedMaterial is the
// interface the Verifier reads; FixedKeys (what `--key A --key B` builds) implements it, and a TUF
// repository or a trusted_root.json can later (their keys, and then their identities).

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "libtrust/crypto/keys.h"
#include "libtrust/export.h"

namespace trust::verify {

struct TrustedKey {
  std::string name;  // what the user gave: the key file path, "env://VAR", …
  PublicKey key;
  // The SPKI fingerprint "sha256:<hex>": how verdicts name the key and how keys are counted.
  std::string key_id() const { return key.key_id().str(); }
};

class TRUST_API TrustedMaterial {
 public:
  virtual ~TrustedMaterial() = default;
  // Every key a signature may verify with, in the order the user gave them.
  virtual std::span<const TrustedKey> keys() const = 0;
  bool empty() const { return keys().empty(); }
};

// A fixed list of keys.
class TRUST_API FixedKeys final : public TrustedMaterial {
 public:
  FixedKeys() = default;
  explicit FixedKeys(std::vector<TrustedKey> keys) : keys_(std::move(keys)) {}
  void add(std::string name, PublicKey key) {
    keys_.push_back(TrustedKey{.name = std::move(name), .key = std::move(key)});
  }
  std::span<const TrustedKey> keys() const override { return keys_; }

 private:
  std::vector<TrustedKey> keys_;
};

// Keys without a name of their own (tests, tools): each named by its key id.
TRUST_API std::shared_ptr<const FixedKeys> fixed_keys(std::vector<PublicKey> keys);

}  // namespace trust::verify
