#include "libtrust/sig/predicate_type.h"

#include <array>
#include <cctype>

#include "libtrust/core/error.h"
#include "libtrust/core/text.h"

namespace trust::sig {
namespace {

constexpr std::string_view kSlsaV1 = "https://slsa.dev/provenance/v1";
constexpr std::string_view kSlsaV02 = "https://slsa.dev/provenance/v0.2";

struct PredicateTypeName {
  std::string_view name;
  std::string_view uri;       // what is written
  std::string_view also_uri;  // also accepted when verifying (empty: none)
};

// The one place the short names and their URIs are spelled (cosign's options/predicate.go).
constexpr std::array<PredicateTypeName, 10> kPredicateTypes{{
    {"slsaprovenance", kSlsaV1, kSlsaV02},
    {"slsaprovenance02", kSlsaV02, {}},
    {"slsaprovenance1", kSlsaV1, {}},
    {"link", "https://in-toto.io/Link/v1", {}},
    {"spdx", "https://spdx.dev/Document", {}},
    {"spdxjson", "https://spdx.dev/Document", {}},
    {"cyclonedx", "https://cyclonedx.org/bom", {}},
    {"vuln", "https://cosign.sigstore.dev/attestation/vuln/v1", {}},
    {"openvex", "https://openvex.dev/ns", {}},
    {"custom", "https://cosign.sigstore.dev/attestation/v1", {}},
}};

const PredicateTypeName* find_name(std::string_view name) {
  for (const auto& t : kPredicateTypes) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

// RFC 3986 scheme ":" and something after it, no whitespace or control characters.
bool is_absolute_uri(std::string_view s) {
  auto colon = s.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == s.size()) return false;
  if (!std::isalpha(static_cast<unsigned char>(s[0]))) return false;
  for (std::size_t i = 1; i < colon; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (!std::isalnum(c) && c != '+' && c != '-' && c != '.') return false;
  }
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c == 0x7f) return false;
  }
  return true;
}

[[noreturn]] void unknown(std::string_view name) {
  std::string names;
  for (const auto& n : predicate_type_names()) names += (names.empty() ? "" : ", ") + n;
  throw UsageError("unknown predicate type '" + excerpt(name) + "' (expected one of: " + names +
                   ", or an absolute URI)");
}

}  // namespace

std::string predicate_type_uri(std::string_view name) {
  if (const auto* t = find_name(name)) return std::string(t->uri);
  if (!is_absolute_uri(name)) unknown(name);
  return std::string(name);
}

std::vector<std::string> accepted_predicate_types(std::string_view requested) {
  if (const auto* t = find_name(requested)) {
    std::vector<std::string> out{std::string(t->uri)};
    if (!t->also_uri.empty()) out.emplace_back(t->also_uri);
    return out;
  }
  return {predicate_type_uri(requested)};
}

bool predicate_type_matches(std::string_view requested, std::string_view predicate_type) {
  for (const auto& uri : accepted_predicate_types(requested)) {
    if (uri == predicate_type) return true;
  }
  return false;
}

std::vector<std::string> predicate_type_names() {
  std::vector<std::string> out;
  for (const auto& t : kPredicateTypes) out.emplace_back(t.name);
  return out;
}

}  // namespace trust::sig
