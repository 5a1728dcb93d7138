#include "libtrust/sig/simple_signing.h"

#include "core/json_util.h"
#include "libtrust/core/error.h"
#include "libtrust/core/text.h"
#include "sig/dsse_internal.h"

namespace trust::sig {
namespace {

using detail::Json;
using detail::OrderedJson;

}  // namespace

std::string SimpleSigningPayload::serialize() const {
  OrderedJson j;
  j["critical"]["identity"]["docker-reference"] = docker_reference;
  j["critical"]["image"]["docker-manifest-digest"] = manifest_digest.str();
  j["critical"]["type"] = kSimpleSigningType;
  if (optional.empty()) {
    j["optional"] = nullptr;
  } else {
    OrderedJson opt = OrderedJson::object();
    for (const auto& [k, v] : optional) {
      if (non_string_keys.count(k) != 0) {
        opt[k] = OrderedJson::parse(v);
      } else {
        opt[k] = v;
      }
    }
    j["optional"] = std::move(opt);
  }
  return detail::dump_compact(j);
}

SimpleSigningPayload SimpleSigningPayload::parse(ByteView bytes, std::string_view what) {
  auto j = detail::parse_json(bytes, what, limits::kMaxSignaturePayloadBytes);
  if (!j.is_object()) throw InputError(std::string(what) + ": payload is not a JSON object");
  require_only_keys(j, {"critical", "optional"}, what, "payload");
  const auto& critical = detail::require_object(j, "critical", what);
  require_only_keys(critical, {"identity", "image", "type"}, what, "critical");
  const auto& identity = detail::require_object(critical, "identity", what);
  require_only_keys(identity, {"docker-reference"}, what, "critical.identity");
  const auto& image = detail::require_object(critical, "image", what);
  require_only_keys(image, {"docker-manifest-digest"}, what, "critical.image");
  auto type = detail::require_string(critical, "type", what);
  if (type != kSimpleSigningType) {
    throw InputError(std::string(what) + ": critical.type is '" + excerpt(type, 80) +
                     "', expected '" + std::string(kSimpleSigningType) + "'");
  }
  SimpleSigningPayload p;
  p.docker_reference = detail::require_string(identity, "docker-reference", what);
  p.manifest_digest = Digest::parse(detail::require_string(image, "docker-manifest-digest", what),
                                    std::string(what) + ": critical.image.docker-manifest-digest");
  if (auto it = j.find("optional"); it != j.end() && !it->is_null()) {
    if (!it->is_object()) throw InputError(std::string(what) + ": 'optional' must be an object");
    if (it->size() > limits::kMaxAnnotations) {
      throw LimitError(std::string(what) + ": more than " +
                       std::to_string(limits::kMaxAnnotations) + " optional entries");
    }
    for (const auto& [k, v] : it->items()) {
      if (v.is_string()) {
        p.optional[k] = v.get<std::string>();
      } else {
        p.optional[k] = detail::dump_compact(v);
        p.non_string_keys.insert(k);
      }
    }
  }
  return p;
}

bool SimpleSigningPayload::has_annotations(
    const std::map<std::string, std::string>& required) const {
  for (const auto& [k, v] : required) {
    auto it = optional.find(k);
    if (it == optional.end() || non_string_keys.count(k) != 0 || it->second != v) return false;
  }
  return true;
}

}  // namespace trust::sig
