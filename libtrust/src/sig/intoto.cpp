#include "libtrust/sig/intoto.h"

#include "core/json_util.h"
#include "libtrust/core/encoding.h"
#include "libtrust/core/error.h"
#include "libtrust/core/limits.h"
#include "libtrust/core/text.h"
#include "sig/dsse_internal.h"

namespace trust::sig {
namespace {

using detail::Json;
using detail::OrderedJson;

// Digest algorithms whose values sigil checks for canonical form (lowercase hex of the right
// length); other in-toto digest names (gitCommit, dirHash, …) are kept as strings.
std::optional<std::size_t> hex_length(std::string_view alg) {
  if (alg == "sha256") return 64;
  if (alg == "sha512") return 128;
  return std::nullopt;
}

StatementSubject parse_subject(const Json& s, const std::string& where) {
  if (!s.is_object()) throw InputError(where + " is not a JSON object");
  require_only_keys(
      s, {"name", "uri", "digest", "content", "downloadLocation", "mediaType", "annotations"},
      where, "subject");
  StatementSubject out;
  out.name = detail::optional_string(s, "name", where).value_or("");
  const auto& digest = detail::require_object(s, "digest", where);
  if (digest.empty()) throw InputError(where + ": digest set is empty");
  if (digest.size() > 64) throw LimitError(where + ": more than 64 digest algorithms");
  for (const auto& [alg, value] : digest.items()) {
    if (!value.is_string()) {
      throw InputError(where + ": digest '" + excerpt(alg, 40) + "' must be a string");
    }
    auto hex = value.get<std::string>();
    if (auto len = hex_length(alg); len && (hex.size() != *len || !is_lower_hex(hex))) {
      throw InputError(where + ": digest '" + excerpt(alg, 40) + "' is not " +
                       std::to_string(*len) + " lowercase hex characters");
    }
    out.digest[alg] = std::move(hex);
  }
  if (auto it = s.find("annotations"); it != s.end() && !it->is_null()) {
    if (!it->is_object()) throw InputError(where + ": 'annotations' must be an object");
    if (it->size() > limits::kMaxAnnotations) {
      throw LimitError(where + ": more than " + std::to_string(limits::kMaxAnnotations) +
                       " annotations");
    }
    for (const auto& [k, v] : it->items()) {
      if (v.is_string()) {
        out.annotations[k] = v.get<std::string>();
      } else {
        out.annotations[k] = detail::dump_compact(v);
        out.non_string_annotations.insert(k);
      }
    }
  }
  return out;
}

}  // namespace

bool StatementSubject::has_annotations(const std::map<std::string, std::string>& required) const {
  return missing_annotations(required).empty();
}

std::string StatementSubject::missing_annotations(
    const std::map<std::string, std::string>& required) const {
  std::string missing;
  for (const auto& [k, v] : required) {
    auto it = annotations.find(k);
    if (it == annotations.end() || non_string_annotations.count(k) != 0 || it->second != v) {
      if (!missing.empty()) missing += ", ";
      missing += k + "=" + v;
    }
  }
  return missing;
}

std::string Statement::serialize() const {
  if (type != kInTotoStatementV1 && type != kInTotoStatementV01) {
    throw UsageError("in-toto statement type '" + type + "' is not one sigil writes");
  }
  if (subjects.empty()) throw UsageError("in-toto statement without a subject");
  if (subjects.size() > kMaxStatementSubjects) {
    throw UsageError("in-toto statement with more than " + std::to_string(kMaxStatementSubjects) +
                     " subjects");
  }
  if (predicate_type.empty()) throw UsageError("in-toto statement without a predicateType");
  OrderedJson j;
  j["_type"] = type;
  j["subject"] = OrderedJson::array();
  for (const auto& s : subjects) {
    if (s.digest.empty()) throw UsageError("in-toto subject without a digest");
    OrderedJson o;
    if (!s.name.empty()) o["name"] = s.name;
    o["digest"] = OrderedJson::object();
    for (const auto& [alg, hex] : s.digest) o["digest"][alg] = hex;
    o["annotations"] = OrderedJson::object();
    for (const auto& [k, v] : s.annotations) {
      if (s.non_string_annotations.count(k) != 0) {
        o["annotations"][k] = OrderedJson::parse(v);
      } else {
        o["annotations"][k] = v;
      }
    }
    j["subject"].push_back(std::move(o));
  }
  j["predicateType"] = predicate_type;
  OrderedJson predicate;
  try {
    predicate = OrderedJson::parse(predicate_json);
  } catch (const OrderedJson::exception&) {
    throw UsageError("in-toto predicate is not valid JSON");
  }
  if (!predicate.is_object()) throw UsageError("in-toto predicate must be a JSON object");
  j["predicate"] = std::move(predicate);
  return detail::dump_compact(j);
}

Statement Statement::parse(ByteView bytes, std::string_view what, std::size_t max_bytes) {
  auto j = detail::parse_json(bytes, what, max_bytes);
  const std::string w(what);
  if (!j.is_object()) throw InputError(w + ": in-toto statement is not a JSON object");
  require_only_keys(j, {"_type", "subject", "predicateType", "predicate"}, what,
                    "in-toto statement");
  Statement st;
  st.type = detail::require_string(j, "_type", what);
  if (st.type != kInTotoStatementV1 && st.type != kInTotoStatementV01) {
    throw UnsupportedError(w + ": in-toto _type '" + excerpt(st.type, 100) + "' is not " +
                           std::string(kInTotoStatementV1) + " or " +
                           std::string(kInTotoStatementV01));
  }
  const auto& subjects = detail::require_array(j, "subject", what);
  if (subjects.empty()) throw InputError(w + ": in-toto statement has no subject");
  if (subjects.size() > kMaxStatementSubjects) {
    throw LimitError(w + ": " + std::to_string(subjects.size()) +
                     " subjects is over the limit of " + std::to_string(kMaxStatementSubjects));
  }
  st.subjects.reserve(subjects.size());
  for (std::size_t i = 0; i < subjects.size(); ++i) {
    st.subjects.push_back(parse_subject(subjects[i], w + ": subject[" + std::to_string(i) + "]"));
  }
  st.predicate_type = detail::require_string(j, "predicateType", what);
  if (st.predicate_type.empty()) throw InputError(w + ": predicateType is empty");
  if (auto it = j.find("predicate"); it != j.end() && !it->is_null()) {
    if (!it->is_object()) throw InputError(w + ": 'predicate' must be a JSON object");
    st.predicate_json = detail::dump_compact(*it);
  } else if (st.type == kInTotoStatementV01) {
    throw InputError(w + ": missing field 'predicate'");
  }
  return st;
}

const StatementSubject* Statement::find_subject(const Digest& digest) const {
  const std::string alg(to_string(digest.algorithm()));
  for (const auto& s : subjects) {
    auto it = s.digest.find(alg);
    if (it == s.digest.end()) continue;
    // Parsed sha256/sha512 values are canonical lowercase hex, as Digest::hex() is.
    if (it->second == digest.hex()) return &s;
  }
  return nullptr;
}

Statement cosign_sign_statement(const Digest& image,
                                const std::map<std::string, std::string>& annotations) {
  Statement st;
  StatementSubject s;
  s.digest[std::string(to_string(image.algorithm()))] = image.hex();
  s.annotations = annotations;
  st.subjects.push_back(std::move(s));
  st.predicate_type = std::string(kCosignSignPredicateType);
  st.predicate_json = "{}";
  return st;
}

}  // namespace trust::sig
