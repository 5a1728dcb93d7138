// Reading a trust policy file (docs/policy.md "The file") into a PolicyDocument, strictly; what
// the document means is checked by TrustPolicy::build (trust_policy.cpp), not here.
//
// The file is YAML (JSON is YAML too) read strictly into a tree (verify/yaml_tree.h: yaml-cpp's
// event parser, since its Node API hides what a strict reader must refuse). Refused, each with
// "FILE:LINE:COLUMN: FIELD: what":
//  - a second document, an empty file, a file that is not a mapping;
//  - anchors, aliases and merge keys (`<<`): what a rule says must be written in the rule;
//  - explicit tags, a duplicate key in any mapping, a key that is not a plain name;
//  - an unknown field anywhere, a value of the wrong type (a string where a list is needed, a
//    quoted number, a negative or fractional count, an empty value).
// Key files are read relative to the policy's directory, as PEM "PUBLIC KEY" (what
// trust::load_public_key reads from a file); the content digest covers the policy's bytes and
// then each key file's, so a changed key file changes it too.
#include <algorithm>
#include <charconv>
#include <cstdint>
#include <functional>
#include <optional>
#include <tuple>

#include "libtrust/core/digest.h"
#include "libtrust/core/error.h"
#include "libtrust/core/file.h"
#include "libtrust/core/limits.h"
#include "libtrust/core/text.h"
#include "libtrust/verify/trust_policy.h"
#include "verify/yaml_tree.h"

namespace trust::verify {
namespace {

// Longest outside name (a field, a key name) quoted in a message.
constexpr std::size_t kQuotedNameBytes = 64;

using detail::position_text;
using Value = detail::YamlValue;
std::string kind_name(const Value& v) {
  return detail::yaml_kind_name(v);
}

[[noreturn]] void fail(std::string_view source, const SourcePosition& at, const std::string& field,
                       const std::string& what) {
  throw InputError(position_text(source, at) + ": " + (field.empty() ? "policy" : field) + ": " +
                   what);
}

// Reads the tree into a PolicyDocument, field by field.
class Reader {
 public:
  Reader(std::string_view source, const std::filesystem::path& base_dir, PolicyDocument& doc,
         Hasher& content)
      : source_(source), base_dir_(base_dir), doc_(doc), content_(content) {}

  void document(const Value& root) {
    if (root.kind == Value::Kind::kNull) {
      fail(source_, root.at, "", "the policy is empty (it starts with `version: 1`)");
    }
    if (root.kind != Value::Kind::kMap) {
      fail(source_, root.at, "",
           "a policy is a mapping (version, keys, rules, default, admission), not " +
               kind_name(root));
    }
    const Value* version = nullptr;
    for_fields(root, "", {"version", "keys", "rules", "default", "admission"},
               [&](const std::string& name, const Value& v, const std::string& field) {
                 if (name == "version") {
                   version = &v;
                 } else if (name == "keys") {
                   keys(v, field);
                 } else if (name == "rules") {
                   rules(v, field);
                 } else if (name == "admission") {
                   admission(v, field);
                 } else {
                   doc_.default_rule = rule(v, field, true);
                 }
               });
    if (version == nullptr) {
      fail(source_, root.at, "version", "missing: a policy starts with `version: 1`");
    }
    const auto n = count(*version, "version");
    if (n != 1) {
      fail(source_, version->at, "version",
           "version " + std::to_string(n) + " is not supported (this sigil reads version 1)");
    }
  }

 private:
  using FieldFn =
      std::function<void(const std::string& name, const Value& v, const std::string& field)>;

  static std::string join(const std::vector<std::string>& names) {
    std::string out;
    for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
    return out;
  }
  static std::string child(const std::string& path, const std::string& name) {
    return path.empty() ? name : path + "." + name;
  }

  // Calls `fn` for each field of the mapping `v` (which must be one), refusing names not in
  // `known`.
  void for_fields(const Value& v, const std::string& path, const std::vector<std::string>& known,
                  const FieldFn& fn) const {
    expect(v, Value::Kind::kMap, path, "a mapping (" + join(known) + ")");
    for (std::size_t i = 0; i < v.map_size(); ++i) {
      const auto& name = v.key(i).text;
      if (std::find(known.begin(), known.end(), name) == known.end()) {
        fail(source_, v.key(i).at, child(path, excerpt(name, kQuotedNameBytes)),
             "unknown field (" + (path.empty() ? std::string("a policy") : path) +
                 " has: " + join(known) + ")");
      }
      fn(name, v.value(i), child(path, name));
    }
  }

  void expect(const Value& v, Value::Kind kind, const std::string& field,
              const std::string& wanted) const {
    if (v.kind != kind) fail(source_, v.at, field, "needs " + wanted + ", not " + kind_name(v));
  }

  std::string text(const Value& v, const std::string& field) const {
    expect(v, Value::Kind::kScalar, field, "a string");
    return v.text;
  }

  std::vector<std::string> texts(const Value& v, const std::string& field,
                                 std::map<std::string, SourcePosition>* at = nullptr,
                                 const std::string& at_name = {}) const {
    expect(v, Value::Kind::kList, field, "a list");
    std::vector<std::string> out;
    for (std::size_t i = 0; i < v.items.size(); ++i) {
      const auto index = "[" + std::to_string(i) + "]";
      out.push_back(text(v.items[i], field + index));
      if (at != nullptr) (*at)[at_name + index] = v.items[i].at;
    }
    return out;
  }

  // Rule and key names are quoted in every message about them: bounded.
  void name_length(const std::string& name, const SourcePosition& at,
                   const std::string& field) const {
    limits::check(name.size(), limits::kMaxPolicyNameBytes,
                  position_text(source_, at) + ": " + field, "bytes in a name");
  }

  std::uint64_t count(const Value& v, const std::string& field) const {
    if (v.kind == Value::Kind::kScalar && v.quoted) {
      fail(source_, v.at, field,
           "needs a number, not the string '" + excerpt(v.text, kQuotedNameBytes) +
               "' (write it without quotes)");
    }
    expect(v, Value::Kind::kScalar, field, "a number");
    std::uint64_t n = 0;
    const auto* end = v.text.data() + v.text.size();
    auto [p, ec] = std::from_chars(v.text.data(), end, n);
    if (v.text.empty() || ec != std::errc() || p != end) {
      fail(source_, v.at, field,
           "'" + excerpt(v.text, kQuotedNameBytes) + "' is not a whole number of 0 or more");
    }
    return n;
  }

  void keys(const Value& v, const std::string& field) {
    expect(v, Value::Kind::kMap, field, "a mapping of key names to key files or PEM");
    limits::check(v.map_size(), limits::kMaxPolicyKeys, position_text(source_, v.at) + ": keys",
                  "keys");
    for (std::size_t i = 0; i < v.map_size(); ++i) {
      const auto& name = v.key(i);
      const auto& spec = v.value(i);
      const auto f = child(field, excerpt(name.text, kQuotedNameBytes));
      name_length(name.text, name.at, f);
      std::optional<PublicKey> key;
      std::optional<std::filesystem::path> file;
      if (spec.kind == Value::Kind::kScalar) {
        std::tie(key, file) = read_key_file(spec, f);
      } else {
        for_fields(spec, f, {"file", "pem"},
                   [&](const std::string& which, const Value& value, const std::string& vf) {
                     if (key) {
                       fail(source_, value.at, vf, "a key is either a file or a PEM, not both");
                     }
                     if (which == "file") {
                       std::tie(key, file) = read_key_file(value, vf);
                     } else {
                       key = public_key(text(value, vf),
                                        position_text(source_, value.at) + ": " + vf);
                     }
                   });
        if (!key) fail(source_, spec.at, f, "needs a file or a pem");
      }
      doc_.keys.push_back(PolicyKey{
          .name = name.text, .key = std::move(*key), .file = std::move(file), .at = name.at});
    }
  }

  static PublicKey public_key(std::string_view pem, const std::string& what) {
    try {
      return PublicKey::from_pem(pem, what);
    } catch (const InputError&) {
      throw;
    } catch (const Error& e) {
      throw InputError(e.what());  // an unsupported key type: the policy cannot use it
    }
  }

  // A key file, read relative to the policy's directory: the key and its absolute path.
  std::pair<PublicKey, std::filesystem::path> read_key_file(const Value& v,
                                                            const std::string& field) {
    const auto name = text(v, field);
    const auto where = position_text(source_, v.at) + ": " + field;
    if (name.empty()) fail(source_, v.at, field, "an empty file name");
    auto path =
        std::filesystem::absolute(base_dir_ / std::filesystem::path(name)).lexically_normal();
    Bytes bytes;
    try {
      bytes = read_file(path, limits::kMaxKeyFileBytes);
    } catch (const NotFoundError&) {
      throw NotFoundError(where + ": " + path.string() + ": no such file");
    } catch (const Error& e) {
      throw InputError(where + ": " + e.what());
    }
    auto key = public_key(as_string_view(bytes), where + ": " + path.string());
    content_.update(bytes);
    doc_.files.push_back(path);
    return {std::move(key), std::move(path)};
  }

  void rules(const Value& v, const std::string& field) {
    expect(v, Value::Kind::kList, field, "a list of rules");
    limits::check(v.items.size(), limits::kMaxPolicyRules, position_text(source_, v.at) + ": rules",
                  "rules");
    for (std::size_t i = 0; i < v.items.size(); ++i) {
      doc_.rules.push_back(rule(v.items[i], field + "[" + std::to_string(i) + "]", false));
    }
  }

  PolicyRule rule(const Value& v, const std::string& field, bool is_default) const {
    PolicyRule r;
    r.at = v.at;
    if (is_default) r.name = "default";
    static const std::vector<std::string> kRuleFields = {
        "name", "match", "action", "mode", "keys", "threshold", "annotations", "attestations"};
    // The default has no name; `match` is read so that build() can say why it has no globs.
    static const std::vector<std::string> kDefaultFields = {
        "action", "mode", "keys", "threshold", "annotations", "attestations", "match"};
    if (is_default && v.kind == Value::Kind::kMap) {
      for (std::size_t i = 0; i < v.map_size(); ++i) {
        if (v.key(i).text == "name") {
          fail(source_, v.key(i).at, "default.name",
               "the default rule is named 'default' and takes no name");
        }
      }
    }
    for_fields(v, field, is_default ? kDefaultFields : kRuleFields,
               [&](const std::string& name, const Value& value, const std::string& f) {
                 r.field_at[name] = value.at;
                 if (name == "name") {
                   r.name = text(value, f);
                   name_length(r.name, value.at, f);
                 } else if (name == "match") {
                   if (value.kind == Value::Kind::kScalar) {
                     r.match.push_back(text(value, f));
                     r.field_at["match[0]"] = value.at;
                   } else {
                     r.match = texts(value, f, &r.field_at, "match");
                   }
                 } else if (name == "action") {
                   r.action = action(value, f);
                 } else if (name == "mode") {
                   r.mode = mode(value, f);
                 } else if (name == "keys") {
                   r.keys = texts(value, f);
                 } else if (name == "threshold") {
                   r.threshold =
                       static_cast<std::size_t>(std::min<std::uint64_t>(count(value, f), SIZE_MAX));
                 } else if (name == "annotations") {
                   r.annotations = annotations(value, f);
                 } else {
                   expect(value, Value::Kind::kList, f, "a list of attestations");
                   for (std::size_t i = 0; i < value.items.size(); ++i) {
                     r.attestations.push_back(
                         attestation(value.items[i], f + "[" + std::to_string(i) + "]"));
                   }
                 }
               });
    return r;
  }

  // `admission: {unknownKinds: deny|allow}` (check/admission.h).
  void admission(const Value& v, const std::string& field) {
    for_fields(v, field, {"unknownKinds"},
               [&](const std::string&, const Value& value, const std::string& f) {
                 const auto s = text(value, f);
                 for (auto k : {UnknownKinds::kDeny, UnknownKinds::kAllow}) {
                   if (s == to_string(k)) {
                     doc_.admission = {.unknown_kinds = k, .at = value.at};
                     return;
                   }
                 }
                 fail(source_, value.at, f,
                      "unknown value '" + excerpt(s, kQuotedNameBytes) + "' (deny or allow)");
               });
  }

  RuleAction action(const Value& v, const std::string& field) const {
    const auto s = text(v, field);
    for (auto a : {RuleAction::kVerify, RuleAction::kAccept, RuleAction::kReject}) {
      if (s == to_string(a)) return a;
    }
    fail(source_, v.at, field,
         "unknown action '" + excerpt(s, kQuotedNameBytes) + "' (verify, accept or reject)");
  }

  RuleMode mode(const Value& v, const std::string& field) const {
    const auto s = text(v, field);
    for (auto m : {RuleMode::kEnforce, RuleMode::kWarn, RuleMode::kAudit}) {
      if (s == to_string(m)) return m;
    }
    fail(source_, v.at, field,
         "unknown mode '" + excerpt(s, kQuotedNameBytes) + "' (enforce, warn or audit)");
  }

  std::map<std::string, std::string> annotations(const Value& v, const std::string& field) const {
    expect(v, Value::Kind::kMap, field, "a mapping of annotation names to values");
    limits::check(v.map_size(), limits::kMaxAnnotations,
                  position_text(source_, v.at) + ": " + field, "annotations");
    std::map<std::string, std::string> out;
    for (std::size_t i = 0; i < v.map_size(); ++i) {
      const auto& k = v.key(i).text;
      out[k] = text(v.value(i), child(field, excerpt(k, kQuotedNameBytes)));
    }
    return out;
  }

  RequiredAttestation attestation(const Value& v, const std::string& field) const {
    RequiredAttestation a;
    a.at = v.at;
    for_fields(v, field, {"type", "keys", "where", "maxSeverity"},
               [&](const std::string& name, const Value& value, const std::string& f) {
                 if (name == "type") {
                   a.type = text(value, f);
                 } else if (name == "keys") {
                   a.keys = texts(value, f);
                 } else if (name == "where") {
                   a.where = texts(value, f);
                 } else {
                   const auto level = text(value, f);
                   try {
                     a.max_severity = parse_severity(level);
                   } catch (const Error& e) {
                     fail(source_, value.at, f, e.what());
                   }
                 }
               });
    if (a.type.empty()) fail(source_, v.at, field + ".type", "an attestation needs a type");
    return a;
  }

  std::string_view source_;
  const std::filesystem::path& base_dir_;
  PolicyDocument& doc_;
  Hasher& content_;
};

// The document in `text`; `file` (absolute) is the policy file when it was read from one.
PolicyDocument read_document(std::string_view text, std::string_view source,
                             const std::filesystem::path& base_dir,
                             const std::optional<std::filesystem::path>& file) {
  const std::string name = source.empty() ? std::string("policy") : std::string(source);
  limits::check(text.size(), limits::kMaxPolicyFileBytes, name, "bytes of policy");
  std::optional<Value> root;
  detail::read_yaml(
      text,
      {.source = name,
       .root_name = "policy",
       .max_values = limits::kMaxPolicyValues,
       .values_noun = "values in the policy",
       .max_nesting = limits::kMaxPolicyNesting,
       .max_documents = 2,
       .one_document = "a second YAML document ('---'): a policy is one document"},
      [&](Value&& document, std::size_t, const SourcePosition&) { root = std::move(document); });
  if (!root) {
    fail(name, {.line = 1, .column = 1}, "", "the policy is empty (it starts with `version: 1`)");
  }
  PolicyDocument doc;
  doc.source = name;
  if (file) doc.files.push_back(*file);
  Hasher content;
  content.update(ByteView(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
  Reader(name, base_dir, doc, content).document(*root);
  doc.content_digest = content.finish().str();
  return doc;
}

}  // namespace

TrustPolicy TrustPolicy::parse(std::string_view text, std::string_view source,
                               const std::filesystem::path& base_dir) {
  return build(read_document(text, source, base_dir, std::nullopt));
}

TrustPolicy TrustPolicy::load(const std::filesystem::path& file) {
  const auto bytes = read_file(file, limits::kMaxPolicyFileBytes);
  const auto path = std::filesystem::absolute(file).lexically_normal();
  return build(read_document(as_string_view(bytes), file.string(), path.parent_path(), path));
}

}  // namespace trust::verify
