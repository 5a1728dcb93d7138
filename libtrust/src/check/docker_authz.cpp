// The Docker authorization plugin's decisions (check/docker_authz.h states the trust rule).
#include "libtrust/check/docker_authz.h"

#include <re2/re2.h>

#include <cctype>
#include <string>
#include <vector>

#include "core/json_util.h"
#include "libtrust/check/docker_name.h"
#include "libtrust/core/encoding.h"
#include "libtrust/core/error.h"
#include "libtrust/core/limits.h"
#include "libtrust/core/text.h"

namespace trust::check {
namespace {

using detail::Json;

bool ascii_iequal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Go's url unescape: %XX only (anything else after '%' is an error, as the daemon's router and
// form parser treat it), '+' a space in a query.
std::string unescape(std::string_view s, bool query, std::string_view what) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%') {
      const int hi = i + 2 < s.size() ? hex_value(s[i + 1]) : -1;
      const int lo = i + 2 < s.size() ? hex_value(s[i + 2]) : -1;
      if (hi < 0 || lo < 0) throw InputError(std::string(what) + ": malformed %-escape");
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (query && s[i] == '+') {
      out += ' ';
    } else {
      out += s[i];
    }
  }
  return out;
}

// Go's path.Clean for an absolute path (the daemon's router redirects unclean paths, so a handler
// only ever sees clean ones; cleaning here keeps the comparison safe whatever the router does).
std::string clean_path(std::string_view path) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (start <= path.size()) {
    auto slash = path.find('/', start);
    auto part = path.substr(start, slash == std::string_view::npos ? path.npos : slash - start);
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!part.empty() && part != ".") {
      parts.push_back(part);
    }
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  std::string out;
  for (auto p : parts) out += "/" + std::string(p);
  return out.empty() ? "/" : out;
}

// The route a request URI reaches: its path, decoded and cleaned, without the /vX.Y prefix.
std::string route_of(std::string_view path) {
  static const RE2 versioned{R"(/v[0-9.]+(/.*))"};
  std::string clean = clean_path(unescape(path, false, "the request URI's path"));
  std::string rest;
  if (RE2::FullMatch(clean, versioned, &rest)) return rest;
  return clean;
}

// url.ParseQuery's first value of `key` (Form.Get); nullopt when it is absent.
std::optional<std::string> query_value(std::string_view query, std::string_view key) {
  if (query.find(';') != std::string_view::npos) {
    throw InputError("the request URI's query has a ';' (the daemon refuses such a query)");
  }
  std::optional<std::string> found;
  std::size_t start = 0;
  while (start <= query.size()) {
    auto amp = query.find('&', start);
    auto pair = query.substr(start, amp == std::string_view::npos ? query.npos : amp - start);
    if (!pair.empty()) {
      auto eq = pair.find('=');
      auto k = unescape(pair.substr(0, eq), true, "the request URI's query");
      auto v = eq == std::string_view::npos
                   ? std::string()
                   : unescape(pair.substr(eq + 1), true, "the request URI's query");
      if (k == key && !found) found = std::move(v);
    }
    if (amp == std::string_view::npos) break;
    start = amp + 1;
  }
  return found;
}

// A header's value (RequestHeaders flattens them, Go's canonical keys); nullopt when absent.
std::optional<std::string> header(const Json& headers, std::string_view name) {
  if (!headers.is_object()) return std::nullopt;
  for (const auto& [k, v] : headers.items()) {
    if (ascii_iequal(k, name) && v.is_string()) return v.get<std::string>();
  }
  return std::nullopt;
}

std::string one_line(std::string_view text) {
  return excerpt(printable(text), kMaxDockerAuthzMessageBytes);
}

DockerAuthzDecision deny_error(std::string kind, std::string image, std::string_view why) {
  DockerAuthzDecision d;
  d.allow = false;
  d.kind = std::move(kind);
  d.image = std::move(image);
  d.msg = one_line(why);
  d.err = d.msg;
  return d;
}

DockerAuthzDecision from_verdicts(std::string kind, std::string image,
                                  std::vector<verify::PolicyVerdict> verdicts) {
  DockerAuthzDecision d;
  d.kind = std::move(kind);
  d.image = std::move(image);
  const verify::PolicyVerdict* chosen = nullptr;
  for (const auto& v : verdicts) {
    if (v.allowed) {
      chosen = &v;
      break;
    }
  }
  d.allow = chosen != nullptr;
  if (chosen == nullptr && !verdicts.empty()) chosen = &verdicts.front();
  if (chosen != nullptr) {
    auto lines = verify::explain_lines(*chosen);
    d.msg = one_line(lines.empty() ? chosen->cause : lines.front());
  }
  d.verdicts = std::move(verdicts);
  return d;
}

// The repo digests of `image` in `repository` (all of them when empty), as references.
std::vector<Reference> repo_digests_in(const DockerImage& image, std::string_view repository) {
  std::vector<Reference> out;
  for (const auto& entry : image.repo_digests) {
    try {
      auto name = parse_docker_image_name(entry);
      if (!name.reference || !name.reference->digest()) continue;
      if (!repository.empty() && name.reference->repository_name() != repository) continue;
      out.push_back(name.reference->with_digest(*name.reference->digest()));
    } catch (const Error&) {
      // not a name the daemon could have recorded for a pull; it cannot count
    }
  }
  return out;
}

bool has_repo_tag(const DockerImage& image, const Reference& ref) {
  for (const auto& entry : image.repo_tags) {
    try {
      auto name = parse_docker_image_name(entry);
      if (name.reference && name.reference->repository_name() == ref.repository_name() &&
          name.reference->tag() == ref.tag()) {
        return true;
      }
    } catch (const Error&) {
    }
  }
  return false;
}

class CreateCheck {
 public:
  CreateCheck(const DockerAuthzEnvironment& env, const verify::TrustPolicy& policy)
      : env_(env), policy_(policy) {}

  // By name: the repo digests in the named repository.
  std::vector<verify::PolicyVerdict> by_name(const Reference& ref, const DockerImage& image,
                                             std::string_view asked) {
    const auto repository = ref.repository_name();
    std::vector<verify::PolicyVerdict> verdicts;
    for (const auto& candidate : repo_digests_in(image, repository)) {
      if (ref.digest() && *candidate.digest() != *ref.digest()) continue;
      verdicts.push_back(env_.enforce(policy_, candidate));
      if (verdicts.back().allowed) return verdicts;
    }
    if (!verdicts.empty()) return verdicts;
    if (ref.digest()) {
      verdicts.push_back(verify::verdict_for_error(
          policy_.select(repository), std::string(asked), ref.digest(),
          "the daemon's image for " + excerpt(asked) + " does not carry the repo digest " +
              ref.repository_name() + "@" + ref.digest()->str()));
      return verdicts;
    }
    verdicts.push_back(verify::verdict_without_digest(
        policy_.select(repository), std::string(asked),
        "no repo digest in " + repository + " (image " + excerpt(image.id, 19) +
            " was built, loaded or tagged locally)"));
    return verdicts;
  }

  // By ID: any repo digest, in its own repository; else a repo tag whose rule accepts.
  std::vector<verify::PolicyVerdict> by_id(const DockerImage& image, std::string_view asked) {
    std::vector<verify::PolicyVerdict> verdicts;
    for (const auto& candidate : repo_digests_in(image, {})) {
      verdicts.push_back(env_.enforce(policy_, candidate));
      if (verdicts.back().allowed) return verdicts;
    }
    std::vector<verify::PolicyVerdict> tagged;
    for (const auto& entry : image.repo_tags) {
      try {
        auto name = parse_docker_image_name(entry);
        if (!name.reference) continue;
        auto selection = policy_.select(name.reference->repository_name());
        if (selection.rule == nullptr || selection.rule->action != verify::RuleAction::kAccept) {
          continue;
        }
        tagged.push_back(verify::verdict_without_digest(
            selection, entry, "image " + std::string(asked) + " is tagged " + entry));
        if (tagged.back().allowed) {
          verdicts.insert(verdicts.begin(), tagged.back());
          return verdicts;
        }
      } catch (const Error&) {
      }
    }
    if (verdicts.empty() && image.repo_tags.empty()) {
      verify::RuleSelection selection;
      selection.rule = policy_.default_rule();
      selection.reason = selection.rule != nullptr
                             ? "the default rule (the image has no name)"
                             : "no rule matched and the policy has no default";
      verdicts.push_back(verify::verdict_without_digest(
          selection, std::string(asked),
          "image " + excerpt(asked) + " has no repo digest and no name"));
    } else if (verdicts.empty()) {
      verdicts.push_back(verify::verdict_without_digest(
          verify::RuleSelection{}, std::string(asked),
          "image " + excerpt(asked) + " has no repo digest, and no rule for its tags accepts it"));
    }
    return verdicts;
  }

 private:
  const DockerAuthzEnvironment& env_;
  const verify::TrustPolicy& policy_;
};

bool id_has_prefix(std::string_view id, std::string_view prefix) {
  std::string_view hex = id.starts_with("sha256:") ? id.substr(7) : id;
  std::string_view p = prefix.starts_with("sha256:") ? prefix.substr(7) : prefix;
  return !p.empty() && hex.starts_with(p);
}

DockerAuthzDecision check_create(const Json& request, const DockerAuthzEnvironment& env,
                                 std::string& asked_image) {
  const std::string kind = "create";
  std::string body;
  if (auto it = request.find("RequestBody"); it != request.end() && !it->is_null()) {
    if (!it->is_string())
      return deny_error(kind, "", "the AuthZ request's RequestBody is not base64");
    body = as_string_view(base64_decode(it->get<std::string>(), "the AuthZ request's RequestBody"));
  }
  if (body.empty()) {
    return deny_error(kind, "",
                      "sigil cannot check a container creation whose body the daemon did not "
                      "pass on (none, chunked, not JSON, or over the daemon's 1 MiB)");
  }
  Json config =
      detail::parse_json(body, "the container create body", limits::kMaxDockerAuthzRequestBytes);
  if (!config.is_object()) {
    return deny_error(kind, "", "the container create body is not a JSON object");
  }
  // Go's decoder fills .Image from any key equal to "Image" ignoring ASCII case, the last one
  // winning: more than one such key is refused, not guessed.
  const Json* image_field = nullptr;
  for (const auto& [key, value] : config.items()) {
    if (!ascii_iequal(key, "Image")) continue;
    if (image_field != nullptr) {
      return deny_error(kind, "",
                        "the container create body names its image more than once (keys that "
                        "differ only in case)");
    }
    image_field = &value;
  }
  if (image_field == nullptr || !image_field->is_string() ||
      image_field->get_ref<const std::string&>().empty()) {
    return deny_error(kind, "", "the container create body has no .Image");
  }
  const std::string asked = image_field->get<std::string>();
  asked_image = asked;
  const auto name = parse_docker_image_name(asked);
  auto policy = env.policy();
  auto image = env.inspect_image(asked);
  if (!image) {
    DockerAuthzDecision d;
    d.allow = true;
    d.kind = kind;
    d.image = asked;
    d.msg = one_line("the daemon has no image " + excerpt(asked) +
                     ": the creation fails, and a pull is checked");
    return d;
  }
  limits::check(image->repo_digests.size(), limits::kMaxDockerImageNames,
                "image " + excerpt(asked) + " repo digests", "entries");
  limits::check(image->repo_tags.size(), limits::kMaxDockerImageNames,
                "image " + excerpt(asked) + " repo tags", "entries");
  CreateCheck check(env, *policy);
  if (name.id) {
    if (!ascii_iequal(image->id, name.id->str())) {
      return deny_error(kind, asked,
                        "the daemon answered for image " + excerpt(asked) +
                            " with another image ID " + excerpt(image->id));
    }
    return from_verdicts(kind, asked, check.by_id(*image, asked));
  }
  const Reference& ref = *name.reference;
  if (ref.digest() || has_repo_tag(*image, ref)) {
    return from_verdicts(kind, asked, check.by_name(ref, *image, asked));
  }
  if (name.may_be_id_prefix && id_has_prefix(image->id, asked)) {
    return from_verdicts(kind, asked, check.by_id(*image, asked));
  }
  return deny_error(kind, asked,
                    "the daemon's image for " + excerpt(asked) +
                        " is neither tagged so nor has an ID starting so");
}

DockerAuthzDecision check_pull(const Json& request, std::string_view query,
                               const DockerAuthzEnvironment& env, std::string& asked_image) {
  const std::string kind = "pull";
  auto from_image = query_value(query, "fromImage");
  if (!from_image || from_image->empty()) {
    DockerAuthzDecision d;  // an import (fromSrc): its image has no repo digest, judged at create
    d.allow = true;
    d.kind = "pass";
    return d;
  }
  asked_image = *from_image;
  // The daemon's ParseForm also reads a form body, which the plugin never sees: only a request
  // that has no body (Content-Length 0) or no Content-Type at all is judged by its query.
  const Json headers = request.value("RequestHeaders", Json::object());
  auto length = header(headers, "Content-Length");
  auto type = header(headers, "Content-Type");
  if (!(length && *length == "0") && type) {
    return deny_error(kind, *from_image,
                      "sigil cannot check a pull request with a body (its form may name another "
                      "image than the query)");
  }
  auto tag = query_value(query, "tag").value_or("");
  const Reference ref = docker_pull_reference(*from_image, tag);
  asked_image = ref.str();
  auto policy = env.policy();
  return from_verdicts(kind, ref.str(), {env.enforce(*policy, ref)});
}

}  // namespace

std::string DockerAuthzDecision::to_json() const {
  Json j = Json::object();
  j["Allow"] = allow;
  if (!msg.empty()) j["Msg"] = msg;
  if (!err.empty()) j["Err"] = err;
  return detail::dump_compact(j);
}

DockerImage parse_docker_image_inspect(std::string_view json) {
  const std::string what = "the daemon's image inspect answer";
  Json j = detail::parse_json(json, what, limits::kMaxDockerImageInspectBytes);
  if (!j.is_object()) throw InputError(what + " is not a JSON object");
  DockerImage image;
  image.id = detail::require_string(j, "Id", what);
  auto strings = [&](const char* key) {
    std::vector<std::string> out;
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return out;
    if (!it->is_array()) throw InputError(what + ": " + key + " is not an array");
    limits::check(it->size(), limits::kMaxDockerImageNames, what + " " + key, "entries");
    for (const auto& v : *it) {
      if (!v.is_string()) throw InputError(what + ": " + key + " holds a non-string");
      out.push_back(v.get<std::string>());
    }
    return out;
  };
  image.repo_tags = strings("RepoTags");
  image.repo_digests = strings("RepoDigests");
  return image;
}

DockerAuthzDecision authorize_docker_request(std::string_view plugin_request,
                                             const DockerAuthzEnvironment& env) {
  std::string kind = "invalid";
  std::string image;
  try {
    Json request = detail::parse_json(plugin_request, "the AuthZ request",
                                      limits::kMaxDockerAuthzRequestBytes);
    if (!request.is_object()) throw InputError("the AuthZ request is not a JSON object");
    const std::string method =
        detail::optional_string(request, "RequestMethod", "the AuthZ request").value_or("");
    const std::string uri =
        detail::optional_string(request, "RequestUri", "the AuthZ request").value_or("");
    if (!uri.starts_with('/')) {
      throw InputError("the AuthZ request's RequestUri '" + excerpt(uri) + "' is not a path");
    }
    const auto q = uri.find('?');
    const std::string route = route_of(std::string_view(uri).substr(0, q));
    const std::string_view query =
        q == std::string::npos ? std::string_view() : std::string_view(uri).substr(q + 1);
    if (ascii_iequal(method, "POST") && route == "/images/create") {
      kind = "pull";
      return check_pull(request, query, env, image);
    }
    if (ascii_iequal(method, "POST") && route == "/containers/create") {
      kind = "create";
      return check_create(request, env, image);
    }
    DockerAuthzDecision pass;
    pass.allow = true;
    pass.kind = "pass";
    return pass;
  } catch (const Error& e) {
    return deny_error(kind, image, e.what());
  } catch (const std::exception& e) {
    return deny_error(kind, image, std::string("internal error: ") + e.what());
  }
}

}  // namespace trust::check
