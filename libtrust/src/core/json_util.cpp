#include "core/json_util.h"

#include <algorithm>
#include <set>
#include <vector>

#include "libtrust/core/secret.h"
#include "libtrust/core/text.h"

namespace trust::detail {

Json parse_json(std::string_view text, std::string_view what, std::size_t max_bytes) {
  if (text.size() > max_bytes) {
    throw LimitError(std::string(what) + ": " + std::to_string(text.size()) +
                     " bytes is over the limit of " + std::to_string(max_bytes) + " bytes");
  }
  // Go's encoding/json (cosign, containers/image, containerd) refuses both; a document that ends
  // at a NUL byte for one parser and not for another is two documents. Raw NUL is never valid
  // JSON (inside a string it must be escaped).
  if (text.starts_with("\xef\xbb\xbf")) {
    throw InputError(std::string(what) + ": malformed JSON: starts with a UTF-8 byte order mark");
  }
  if (auto nul = text.find('\0'); nul != std::string_view::npos) {
    throw InputError(std::string(what) + ": malformed JSON: NUL byte at offset " +
                     std::to_string(nul));
  }
  // A parsed value costs a hundred bytes and more however small its text ("0," is two bytes): a
  // document of tiny values would grow twentyfold, so their count is bounded by the size limit.
  const std::size_t max_values =
      std::max<std::size_t>(max_bytes / 1024 * limits::kMaxJsonValuesPerKiB, 1024);
  std::size_t values = 0;
  int depth = 0;
  bool too_deep = false;
  bool too_many = false;
  bool duplicate = false;
  std::string duplicate_key;
  // One set of keys per open object, to reject duplicate keys (a classic parser-differential trap).
  std::vector<std::set<std::string>> keys;
  auto cb = [&](int d, Json::parse_event_t ev, Json& parsed) {
    (void)d;
    if (ev == Json::parse_event_t::value || ev == Json::parse_event_t::object_start ||
        ev == Json::parse_event_t::array_start) {
      if (++values > max_values) too_many = true;
    }
    switch (ev) {
      case Json::parse_event_t::object_start:
        keys.emplace_back();
        [[fallthrough]];
      case Json::parse_event_t::array_start:
        if (++depth > limits::kMaxJsonDepth) too_deep = true;
        break;
      case Json::parse_event_t::object_end:
        if (!keys.empty()) keys.pop_back();
        --depth;
        break;
      case Json::parse_event_t::array_end:
        --depth;
        break;
      case Json::parse_event_t::key:
        if (!keys.empty() && !keys.back().insert(parsed.get<std::string>()).second) {
          duplicate = true;
          duplicate_key = parsed.get<std::string>();
        }
        break;
      default:
        break;
    }
    // Once anything is refused, nothing more is kept (the rest of the text is only scanned).
    return !too_deep && !too_many && !duplicate;
  };
  // What the callback saw outranks nlohmann's own error (which may follow from it).
  auto refuse_what_was_seen = [&] {
    if (too_deep) {
      throw LimitError(std::string(what) + ": JSON nesting deeper than " +
                       std::to_string(limits::kMaxJsonDepth));
    }
    if (too_many) {
      throw LimitError(std::string(what) + ": more than " + std::to_string(max_values) +
                       " JSON values (at most " + std::to_string(limits::kMaxJsonValuesPerKiB) +
                       " per KiB of its " + std::to_string(max_bytes) + "-byte limit)");
    }
    if (duplicate) {
      throw InputError(std::string(what) + ": duplicate JSON key '" + excerpt(duplicate_key, 80) +
                       "'");
    }
  };
  Json j;
  try {
    j = Json::parse(text.begin(), text.end(), cb, /*allow_exceptions=*/true);
  } catch (const Json::exception& e) {
    refuse_what_was_seen();
    std::string msg = e.what();
    // nlohmann messages start with "[json.exception.parse_error.101] "; keep the useful part.
    if (auto p = msg.find("] "); p != std::string::npos) msg = msg.substr(p + 2);
    throw InputError(std::string(what) + ": malformed JSON: " + msg);
  }
  refuse_what_was_seen();
  return j;
}

const Json& require_field(const Json& obj, std::string_view key, std::string_view what) {
  if (!obj.is_object()) throw InputError(std::string(what) + ": expected a JSON object");
  auto it = obj.find(key);
  if (it == obj.end()) {
    throw InputError(std::string(what) + ": missing field '" + std::string(key) + "'");
  }
  return *it;
}

std::string require_string(const Json& obj, std::string_view key, std::string_view what) {
  const auto& v = require_field(obj, key, what);
  if (!v.is_string()) {
    throw InputError(std::string(what) + ": field '" + std::string(key) + "' must be a string");
  }
  return v.get<std::string>();
}

std::optional<std::string> optional_string(const Json& obj, std::string_view key,
                                           std::string_view what) {
  if (!obj.is_object()) throw InputError(std::string(what) + ": expected a JSON object");
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) {
    throw InputError(std::string(what) + ": field '" + std::string(key) + "' must be a string");
  }
  return it->get<std::string>();
}

std::int64_t require_int(const Json& obj, std::string_view key, std::string_view what) {
  const auto& v = require_field(obj, key, what);
  if (!v.is_number_integer()) {
    throw InputError(std::string(what) + ": field '" + std::string(key) + "' must be an integer");
  }
  return v.get<std::int64_t>();
}

const Json& require_object(const Json& obj, std::string_view key, std::string_view what) {
  const auto& v = require_field(obj, key, what);
  if (!v.is_object()) {
    throw InputError(std::string(what) + ": field '" + std::string(key) + "' must be an object");
  }
  return v;
}

const Json& require_array(const Json& obj, std::string_view key, std::string_view what) {
  const auto& v = require_field(obj, key, what);
  if (!v.is_array()) {
    throw InputError(std::string(what) + ": field '" + std::string(key) + "' must be an array");
  }
  return v;
}

void wipe_strings(Json& j) noexcept {
  if (j.is_string()) {
    auto& s = j.get_ref<std::string&>();
    secure_wipe(s.data(), s.size());
  } else if (j.is_structured()) {
    for (auto& child : j) wipe_strings(child);
  }
}

namespace {

// Strict: what sigil writes (payloads it signs, layouts) must be valid UTF-8, and a string that is
// not is the caller's input error, not an internal one.
template <typename J>
std::string dump_strict(const J& j) {
  try {
    return j.dump(-1, ' ', false, J::error_handler_t::strict);
  } catch (const typename J::exception& e) {
    std::string msg = e.what();
    if (auto p = msg.find("] "); p != std::string::npos) msg = msg.substr(p + 2);
    throw InputError("cannot write JSON: " + msg);
  }
}

}  // namespace

std::string dump_compact(const OrderedJson& j) {
  return dump_strict(j);
}
std::string dump_compact(const Json& j) {
  return dump_strict(j);
}

std::string_view json_type_name(const Json& v) {
  if (v.is_object()) return "an object";
  if (v.is_array()) return "an array";
  if (v.is_string()) return "a string";
  if (v.is_boolean()) return "a boolean";
  if (v.is_null()) return "null";
  if (v.is_number_integer()) return "an integer";
  return "a number";
}

}  // namespace trust::detail
