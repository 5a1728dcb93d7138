#pragma once
// Private: the DSSE envelope's JSON reader and writer over nlohmann, shared by dsse.cpp and
// bundle.cpp (a bundle embeds the envelope as a JSON object, not as text).

#include <string_view>

#include "core/json_util.h"
#include "libtrust/sig/dsse.h"

namespace trust::sig {

struct DsseAccess {
  // Strict reading of an already parsed envelope object (see DsseEnvelope::parse).
  static DsseEnvelope from_json(const detail::Json& j, std::string_view what);
  static detail::OrderedJson to_json(const DsseEnvelope& env);
};

// Reads the strict standard base64 string field `key` of `obj` (what: field name in messages).
Bytes require_base64(const detail::Json& obj, std::string_view key, std::string_view what);

// Throws InputError naming `what` and `where` for any key of `obj` not in `allowed`.
void require_only_keys(const detail::Json& obj, std::initializer_list<std::string_view> allowed,
                       std::string_view what, std::string_view where);

}  // namespace trust::sig
