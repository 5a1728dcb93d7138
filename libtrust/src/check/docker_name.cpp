#include "libtrust/check/docker_name.h"

#include <re2/re2.h>

#include <optional>
#include <string>

#include "libtrust/core/error.h"
#include "libtrust/core/text.h"

namespace trust::check {
namespace {

// docker/distribution reference/regexp.go (as vendored in moby 20.10), spelled out. RE2 and Go's
// regexp share syntax and leftmost-first submatch semantics.
constexpr std::string_view kDomainComponent =
    R"((?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))";
constexpr std::string_view kNameComponent = R"([a-z0-9]+(?:(?:(?:[._]|__|[-]*)[a-z0-9]+)+)?)";
constexpr std::string_view kTag = R"([\w][\w.-]{0,127})";
constexpr std::string_view kDigest =
    R"([A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][[:xdigit:]]{32,})";
constexpr std::size_t kNameTotalLengthMax = 255;

std::string domain_pattern() {
  return std::string(kDomainComponent) + "(?:(?:\\." + std::string(kDomainComponent) +
         ")+)?(?::[0-9]+)?";
}
std::string path_pattern() {
  return std::string(kNameComponent) + "(?:(?:/" + std::string(kNameComponent) + ")+)?";
}

struct Grammar {
  // ReferenceRegexp: name, tag, digest.
  RE2 reference{"((?:" + domain_pattern() + "/)?" + path_pattern() + ")(?::(" + std::string(kTag) +
                "))?(?:@(" + std::string(kDigest) + "))?"};
  // anchoredNameRegexp: domain, path.
  RE2 name{"(?:(" + domain_pattern() + ")/)?(" + path_pattern() + ")"};
  RE2 tag{std::string(kTag)};
  RE2 identifier{"[a-f0-9]{64}"};
  // What digestset.Lookup can match as an ID prefix.
  RE2 id_prefix{"(?:sha256:)?[a-f0-9]+"};
  // go-digest's Parse for the algorithms it knows (lower-case hex of the exact length).
  RE2 any_digest{"sha256:[a-f0-9]{64}|sha384:[a-f0-9]{96}|sha512:[a-f0-9]{128}"};
};

const Grammar& grammar() {
  static const Grammar g;
  return g;
}

UsageError bad_name(std::string_view text, std::string_view why) {
  return UsageError("invalid image name '" + excerpt(text) + "': " + std::string(why));
}

bool is_lower(std::string_view s) {
  for (char c : s) {
    if (c >= 'A' && c <= 'Z') return false;
  }
  return true;
}

// The host for rule selection: lower case, no leading zeros in the port.
std::string canonical_host(std::string_view domain) {
  std::string host;
  host.reserve(domain.size());
  for (char c : domain) host += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  if (auto colon = host.find(':'); colon != std::string::npos) {
    auto first = host.find_first_not_of('0', colon + 1);
    if (first == std::string::npos) first = host.size() - 1;  // ":000" is port 0
    host.erase(colon + 1, first - colon - 1);
  }
  return host == "index.docker.io" ? std::string(kDockerHubRegistry) : host;
}

// What ParseNormalizedNamed makes of a name, with the host canonical (see the header).
struct NamedParts {
  std::string host;
  std::string path;
  std::string tag;               // empty: none
  std::optional<Digest> digest;  // none
  std::string repository() const { return host + "/" + path; }
  // The reference judged; the tag defaults to "latest" (Reference::parse) when there is neither.
  Reference reference() const {
    std::string text = repository();
    if (!tag.empty()) text += ":" + tag;
    if (digest) text += "@" + digest->str();
    return Reference::parse(text);
  }
};

NamedParts parse_named(std::string_view text) {
  const auto& g = grammar();
  if (text.empty()) throw bad_name(text, "empty");
  if (RE2::FullMatch(text, g.identifier)) {
    throw bad_name(text, "cannot specify 64-byte hexadecimal strings as a repository name");
  }
  // splitDockerDomain
  std::string_view domain;
  std::string_view remainder = text;
  if (auto slash = text.find('/'); slash != std::string_view::npos) {
    auto first = text.substr(0, slash);
    if (first.find_first_of(".:") != std::string_view::npos || first == "localhost") {
      domain = first;
      remainder = text.substr(slash + 1);
    }
  }
  NamedParts parts;
  parts.host = domain.empty() ? std::string(kDockerHubRegistry) : canonical_host(domain);
  std::string rest(remainder);
  if (parts.host == kDockerHubRegistry && rest.find('/') == std::string::npos) {
    rest = "library/" + rest;
  }
  if (!is_lower(std::string_view(rest).substr(0, rest.find(':')))) {
    throw bad_name(text, "repository name must be lowercase");
  }
  // Parse(domain + "/" + remainder), with the domain as Docker spelled it.
  const std::string full =
      (domain.empty() ? std::string(kDockerHubRegistry) : std::string(domain)) + "/" + rest;
  std::string name;
  std::string digest;
  if (!RE2::FullMatch(full, g.reference, &name, &parts.tag, &digest)) {
    throw bad_name(text, "invalid reference format");
  }
  if (name.size() > kNameTotalLengthMax) {
    throw bad_name(text, "repository name must not be more than 255 characters");
  }
  std::string parsed_domain;
  if (!RE2::FullMatch(name, g.name, &parsed_domain, &parts.path) ||
      canonical_host(parsed_domain) != parts.host) {
    // Docker would read the first component as a path, and use a registry of its own choosing.
    throw bad_name(text, "the registry host is not one Docker's grammar reads as a host");
  }
  if (!digest.empty()) {
    if (digest.starts_with("sha384:")) throw bad_name(text, "sha384 digests are not supported");
    try {
      parts.digest = Digest::parse(digest, "digest");
    } catch (const Error& e) {
      throw bad_name(text, e.what());
    }
  }
  return parts;
}

}  // namespace

DockerImageName parse_docker_image_name(std::string_view text) {
  const auto& g = grammar();
  DockerImageName out;
  out.text = std::string(text);
  // ParseAnyReference: 64 hex digits, or a digest, is an image ID.
  if (RE2::FullMatch(text, g.identifier)) {
    out.id = Digest::parse("sha256:" + std::string(text), "image ID");
    return out;
  }
  if (RE2::FullMatch(text, g.any_digest)) {
    if (text.starts_with("sha384:")) throw bad_name(text, "sha384 image IDs are not supported");
    out.id = Digest::parse(text, "image ID");
    return out;
  }
  out.reference = parse_named(text).reference();
  out.may_be_id_prefix = RE2::FullMatch(text, g.id_prefix);
  return out;
}

Reference docker_pull_reference(std::string_view from_image, std::string_view tag) {
  const auto& g = grammar();
  std::string_view image = from_image;
  if (image.ends_with(':')) image.remove_suffix(1);
  NamedParts parts = parse_named(image);
  if (!tag.empty()) {
    if (RE2::FullMatch(tag, g.any_digest)) {
      // digest.Parse(tag) succeeded: the name with that digest, nothing else.
      if (tag.starts_with("sha384:")) throw bad_name(tag, "sha384 digests are not supported");
      parts.tag.clear();
      parts.digest = Digest::parse(tag, "digest");
    } else {
      // reference.WithTag: the tag replaced, a digest kept (and the pull is by digest).
      if (!RE2::FullMatch(tag, g.tag)) throw bad_name(tag, "invalid tag format");
      parts.tag = std::string(tag);
    }
  } else if (parts.tag.empty() && !parts.digest) {
    throw bad_name(from_image,
                   "a pull of every tag of the repository (docker pull --all-tags) names no one "
                   "image to judge: pull a tag or a digest");
  }
  return parts.reference();
}

}  // namespace trust::check
