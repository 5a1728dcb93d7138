#include "libtrust/verify/trusted_material.h"

namespace trust::verify {

std::shared_ptr<const FixedKeys> fixed_keys(std::vector<PublicKey> keys) {
  auto out = std::make_shared<FixedKeys>();
  for (auto& k : keys) {
    auto name = k.key_id().str();
    out->add(std::move(name), std::move(k));
  }
  return out;
}

}  // namespace trust::verify
