#pragma once
// Private to libtrust/registry: what a registry's answer means when it is not the one asked for.
// An OCI error body ({"errors":[{"code","message"}]}) is read for its codes (retry decisions) and
// a short summary (at most three errors, each an excerpt made printable); an unexpected status
// becomes the one error that names the operation and what the registry said.

#include <string>
#include <string_view>
#include <vector>

#include "registry/http.h"

namespace trust::registry::detail {

inline bool is_success(long status) {
  return status >= 200 && status < 300;
}

inline bool is_retryable_status(long status) {
  return status == 429 || (status >= 500 && status <= 599);
}

struct ErrorBody {
  std::vector<std::string> codes;
  std::string summary;
};

ErrorBody parse_error_body(const Response& resp);
bool has_code(const ErrorBody& body, std::string_view code);

// "HTTP 404 (MANIFEST_UNKNOWN: manifest unknown)".
std::string status_text(const Response& resp);

// NotFoundError for 404, RegistryError otherwise: "<what>: <action>: <meaning> (<status_text>)".
[[noreturn]] void throw_for(const Response& resp, const std::string& what,
                            const std::string& action);

}  // namespace trust::registry::detail
