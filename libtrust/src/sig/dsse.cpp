#include "libtrust/sig/dsse.h"

#include "libtrust/core/encoding.h"
#include "libtrust/core/error.h"
#include "libtrust/core/limits.h"
#include "libtrust/core/text.h"
#include "sig/dsse_internal.h"

namespace trust::sig {

using detail::Json;
using detail::OrderedJson;

Bytes dsse_pae(std::string_view payload_type, ByteView payload) {
  const std::string head = "DSSEv1 " + std::to_string(payload_type.size()) + " " +
                           std::string(payload_type) + " " + std::to_string(payload.size()) + " ";
  Bytes out;
  out.reserve(head.size() + payload.size());
  out.insert(out.end(), head.begin(), head.end());
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

void require_only_keys(const Json& obj, std::initializer_list<std::string_view> allowed,
                       std::string_view what, std::string_view where) {
  for (const auto& [key, value] : obj.items()) {
    bool ok = false;
    for (auto a : allowed) ok |= (key == a);
    if (!ok) {
      throw InputError(std::string(what) + ": unexpected field '" + excerpt(key, 80) + "' in " +
                       std::string(where));
    }
  }
}

Bytes require_base64(const Json& obj, std::string_view key, std::string_view what) {
  auto text = detail::require_string(obj, key, what);
  return base64_decode(text, std::string(what) + ": field '" + std::string(key) + "'");
}

DsseEnvelope DsseAccess::from_json(const Json& j, std::string_view what) {
  if (!j.is_object()) throw InputError(std::string(what) + ": DSSE envelope is not a JSON object");
  require_only_keys(j, {"payloadType", "payload", "signatures"}, what, "DSSE envelope");
  DsseEnvelope env;
  env.payload_type_ = detail::require_string(j, "payloadType", what);
  if (env.payload_type_.empty()) throw InputError(std::string(what) + ": payloadType is empty");
  env.payload_ = require_base64(j, "payload", what);
  const auto& sigs = detail::require_array(j, "signatures", what);
  if (sigs.empty()) throw InputError(std::string(what) + ": DSSE envelope has no signatures");
  limits::check(sigs.size(), limits::kMaxDsseSignatures, what, "DSSE signatures");
  env.signatures_.reserve(sigs.size());
  for (std::size_t i = 0; i < sigs.size(); ++i) {
    const std::string where = std::string(what) + ": signatures[" + std::to_string(i) + "]";
    const auto& s = sigs[i];
    if (!s.is_object()) throw InputError(where + " is not a JSON object");
    require_only_keys(s, {"keyid", "sig"}, where, "DSSE signature");
    DsseEnvelope::Signature sig;
    sig.keyid = detail::optional_string(s, "keyid", where).value_or("");
    sig.sig = require_base64(s, "sig", where);
    if (sig.sig.empty()) throw InputError(where + ": field 'sig' is empty");
    env.signatures_.push_back(std::move(sig));
  }
  return env;
}

OrderedJson DsseAccess::to_json(const DsseEnvelope& env) {
  OrderedJson j;
  j["payloadType"] = env.payload_type_;
  j["payload"] = base64_encode(env.payload_);
  j["signatures"] = OrderedJson::array();
  for (const auto& s : env.signatures_) {
    OrderedJson o;
    if (!s.keyid.empty()) o["keyid"] = s.keyid;
    o["sig"] = base64_encode(s.sig);
    j["signatures"].push_back(std::move(o));
  }
  return j;
}

DsseEnvelope DsseEnvelope::sign(std::string_view payload_type, ByteView payload,
                                const PrivateKey& key) {
  if (payload_type.empty()) throw UsageError("DSSE payload type is empty");
  DsseEnvelope env;
  env.payload_type_ = std::string(payload_type);
  env.payload_.assign(payload.begin(), payload.end());
  const auto pae = dsse_pae(payload_type, payload);
  env.signatures_.push_back(
      Signature{.keyid = key.public_key().key_id().str(), .sig = key.sign(pae)});
  return env;
}

DsseEnvelope DsseEnvelope::parse(ByteView json, std::string_view what) {
  auto j = detail::parse_json(json, what, kMaxDsseEnvelopeBytes);
  return DsseAccess::from_json(j, what);
}

std::string DsseEnvelope::to_json() const {
  return detail::dump_compact(DsseAccess::to_json(*this));
}

std::vector<std::string> DsseEnvelope::key_id_hints() const {
  std::vector<std::string> out;
  out.reserve(signatures_.size());
  for (const auto& s : signatures_) out.push_back(s.keyid);
  return out;
}

std::optional<VerifiedDsse> DsseEnvelope::verify(std::span<const PublicKey> trusted) const {
  const auto pae = dsse_pae(payload_type_, payload_);
  std::vector<DsseMatch> matches;
  for (std::size_t i = 0; i < signatures_.size(); ++i) {
    for (std::size_t k = 0; k < trusted.size(); ++k) {
      if (trusted[k].verify(pae, signatures_[i].sig)) {
        matches.push_back(
            DsseMatch{.signature_index = i, .key_index = k, .key_id = trusted[k].key_id().str()});
      }
    }
  }
  if (matches.empty()) return std::nullopt;
  return VerifiedDsse{.payload_type = payload_type_, .payload = payload_, .matches = matches};
}

}  // namespace trust::sig
