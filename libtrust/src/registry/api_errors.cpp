#include "registry/api_errors.h"

#include <algorithm>

#include "core/json_util.h"
#include "libtrust/core/error.h"
#include "libtrust/core/limits.h"
#include "libtrust/core/text.h"

namespace trust::registry::detail {
namespace {

constexpr std::size_t kMaxErrorsInMessage = 3;
constexpr std::size_t kMaxErrorTextInMessage = 200;

// Bounded text from a registry, safe for a terminal (error messages may be attacker-chosen).
std::string quote(std::string_view text) {
  return printable(excerpt(text, kMaxErrorTextInMessage));
}

}  // namespace

ErrorBody parse_error_body(const Response& resp) {
  ErrorBody out;
  if (resp.body.empty()) return out;
  try {
    auto j = trust::detail::parse_json(as_string_view(resp.body), "error body",
                                       limits::kMaxRegistryErrorBody);
    auto it = j.find("errors");
    if (j.is_object() && it != j.end() && it->is_array()) {
      for (const auto& e : *it) {
        if (!e.is_object()) continue;
        std::string code, message;
        if (auto c = e.find("code"); c != e.end() && c->is_string()) code = c->get<std::string>();
        if (auto m = e.find("message"); m != e.end() && m->is_string()) {
          message = m->get<std::string>();
        }
        out.codes.push_back(code);
        if (out.codes.size() <= kMaxErrorsInMessage) {
          if (!out.summary.empty()) out.summary += "; ";
          out.summary += quote(code) + (message.empty() ? "" : ": " + quote(message));
        }
      }
      return out;
    }
  } catch (const Error&) {
    // Not JSON (or truncated): fall through to the text.
  }
  auto ct = resp.content_type().value_or("");
  if (ct.rfind("text/", 0) == 0 || ct.find("json") != std::string::npos) {
    out.summary = quote(as_string_view(resp.body));
  }
  return out;
}

bool has_code(const ErrorBody& body, std::string_view code) {
  return std::find(body.codes.begin(), body.codes.end(), code) != body.codes.end();
}

std::string status_text(const Response& resp) {
  auto body = parse_error_body(resp);
  std::string s = "HTTP " + std::to_string(resp.status);
  if (!body.summary.empty()) s += " (" + body.summary + ")";
  return s;
}

void throw_for(const Response& resp, const std::string& what, const std::string& action) {
  auto detail = status_text(resp);
  switch (resp.status) {
    case 404:
      throw NotFoundError(what + ": " + action + ": not found (" + detail + ")");
    case 401:
      throw RegistryError(what + ": " + action + ": authentication required (" + detail + ")");
    case 403:
      throw RegistryError(what + ": " + action + ": access denied (" + detail + ")");
    case 429:
      throw RegistryError(what + ": " + action + ": rate limited by the registry (" + detail +
                          "), retries exhausted");
    default:
      throw RegistryError(what + ": " + action + ": the registry answered " + detail);
  }
}

}  // namespace trust::registry::detail
