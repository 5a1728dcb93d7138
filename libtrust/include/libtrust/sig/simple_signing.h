#pragma once
// The cosign "simple signing" payload: what a cosign-layout signature signs.
//   {"critical":{"identity":{"docker-reference":"REPO"},
//                "image":{"docker-manifest-digest":"sha256:…"},
//                "type":"cosign container image signature"},
//    "optional":null|{…}}

#include <map>
#include <set>
#include <string>
#include <string_view>

#include "libtrust/core/bytes.h"
#include "libtrust/core/digest.h"
#include "libtrust/export.h"

namespace trust::sig {

inline constexpr std::string_view kSimpleSigningType = "cosign container image signature";

struct SimpleSigningPayload {
  std::string docker_reference;
  Digest manifest_digest;
  // "optional" entries. Values that are JSON strings are kept as they are; any other JSON value
  // (containers/image writes a numeric "timestamp") is kept as its JSON text and its key listed in
  // non_string_keys, so it can be shown but never satisfies an annotation requirement.
  std::map<std::string, std::string> optional;
  std::set<std::string> non_string_keys;

  // The exact bytes sigil signs: compact JSON in cosign's key order, "optional" null when empty.
  TRUST_API std::string serialize() const;

  // Strict: exactly the fields above in "critical" (unknown fields refused, as containers/image
  // does), the type string must match, the digest must be canonical. Throws InputError naming
  // `what`. Call only on bytes whose signature has been checked.
  TRUST_API static SimpleSigningPayload parse(ByteView bytes, std::string_view what);

  // True if every required annotation is present in "optional" as the same string.
  TRUST_API bool has_annotations(const std::map<std::string, std::string>& required) const;
};

}  // namespace trust::sig
