#pragma once
// Private: YAML read strictly, through yaml-cpp's event parser into a small tree of our own,
// because yaml-cpp's Node API hides exactly what a strict reader must refuse: it keeps the later
// of two duplicate keys, resolves aliases and merge keys silently and forgets which scalars were
// quoted. Shared by the trust policy file (trust_policy_file.cpp) and Kubernetes manifests
// (check/kube_workload.cpp). Refused as soon as it is seen, each with
// "SOURCE:LINE:COLUMN: FIELD: what" (FIELD the dotted path, or the root's name):
//  - anchors, aliases and merge keys (`<<`): what a value says must be written where it applies
//    (and a reader must not expand a billion laughs);
//  - explicit tags (the core schema's plain and quoted scalars only);
//  - a duplicate key in any mapping, a key that is not a scalar;
//  - more values in one document, or deeper nesting, than the caps given;
//  - optionally, a second document.

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "libtrust/verify/trust_policy.h"

namespace trust::detail {

// One value as written.
struct YamlValue {
  enum class Kind { kNull, kScalar, kList, kMap };
  Kind kind = Kind::kNull;
  verify::SourcePosition at;
  std::string text;              // a scalar's text
  bool quoted = false;           // a scalar written in quotes (or a block scalar): a string, always
  std::vector<YamlValue> items;  // a list's items; a map's keys and values, alternately
  std::size_t map_size() const { return items.size() / 2; }
  const YamlValue& key(std::size_t i) const { return items[2 * i]; }
  const YamlValue& value(std::size_t i) const { return items[2 * i + 1]; }
};

// "SOURCE:LINE:COLUMN".
std::string position_text(std::string_view source, const verify::SourcePosition& at);

// For messages: "nothing", "'text'", "the string 'text'", "a list", "a mapping".
std::string yaml_kind_name(const YamlValue& v);

struct YamlReadOptions {
  std::string_view source;        // names the input in messages
  std::string_view root_name;     // the FIELD of a message about the root ("policy")
  std::size_t max_values = 0;     // values (scalars, lists, mappings) in one document
  std::string_view values_noun;   // "values in the policy"
  std::size_t max_nesting = 0;    // lists and mappings inside each other
  std::size_t max_documents = 0;  // documents in the input
  // When not empty, a second document is refused with this ("a policy is one document").
  std::string_view one_document;
};

// Reads `text`, calling `on_document` with each document's root (kNull for an empty one), its
// 1-based index and where it starts, as soon as the document ends: the tree of one document is
// all that is held at once. Throws InputError (SOURCE:LINE:COLUMN) and LimitError.
void read_yaml(std::string_view text, const YamlReadOptions& options,
               const std::function<void(YamlValue&& root, std::size_t index,
                                        const verify::SourcePosition& at)>& on_document);

}  // namespace trust::detail
