#pragma once
// Private: strict JSON reading over nlohmann::json with the named caps (size, nesting depth).
// nlohmann never appears in public headers; its exceptions are translated here.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "libtrust/core/bytes.h"
#include "libtrust/core/error.h"
#include "libtrust/core/limits.h"

namespace trust::detail {

using Json = nlohmann::json;
// Keeps object keys in insertion order, for writing JSON whose byte layout we control.
using OrderedJson = nlohmann::ordered_json;

// Parses `text` (at most `max_bytes`, nesting at most limits::kMaxJsonDepth). Rejects duplicate
// object keys (at every level), a UTF-8 byte order mark and any NUL byte, as Go's encoding/json
// does. Throws LimitError or InputError naming `what`.
Json parse_json(std::string_view text, std::string_view what,
                std::size_t max_bytes = limits::kMaxManifestBytes);
inline Json parse_json(ByteView bytes, std::string_view what,
                       std::size_t max_bytes = limits::kMaxManifestBytes) {
  return parse_json(as_string_view(bytes), what, max_bytes);
}

// Typed field access with errors naming `what` and the field.
const Json& require_field(const Json& obj, std::string_view key, std::string_view what);
std::string require_string(const Json& obj, std::string_view key, std::string_view what);
std::optional<std::string> optional_string(const Json& obj, std::string_view key,
                                           std::string_view what);
std::int64_t require_int(const Json& obj, std::string_view key, std::string_view what);
const Json& require_object(const Json& obj, std::string_view key, std::string_view what);
const Json& require_array(const Json& obj, std::string_view key, std::string_view what);

// Overwrites every string value in `j` (recursively) with zeros: for JSON that held secrets
// (docker config.json auth fields, token responses) before it is freed.
void wipe_strings(Json& j) noexcept;

// Serialises compactly (no spaces), as Go's encoding/json does for the formats we write. Invalid
// UTF-8 in a string is an InputError.
std::string dump_compact(const OrderedJson& j);
std::string dump_compact(const Json& j);

// What a value is, for messages: "an object", "an array", "a string", "a boolean", "null",
// "an integer", "a number".
std::string_view json_type_name(const Json& v);

}  // namespace trust::detail
