#include "libtrust/core/reference.h"

#include <cctype>

#include "libtrust/core/error.h"

namespace trust {
namespace {

constexpr std::size_t kMaxNameLength = 255;
constexpr std::size_t kMaxTagLength = 128;

bool is_lower_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

// path-component := [a-z0-9]+ (separator [a-z0-9]+)*,  separator := [_.] | "__" | "-"+
bool is_valid_path_component(std::string_view c) {
  if (c.empty() || !is_lower_alnum(c.front()) || !is_lower_alnum(c.back())) return false;
  std::size_t i = 0;
  while (i < c.size()) {
    if (is_lower_alnum(c[i])) {
      ++i;
      continue;
    }
    std::size_t start = i;
    while (i < c.size() && !is_lower_alnum(c[i])) ++i;
    auto sep = c.substr(start, i - start);
    bool dashes = sep.find_first_not_of('-') == std::string_view::npos;
    if (!(sep == "." || sep == "_" || sep == "__" || dashes)) return false;
  }
  return true;
}

bool is_valid_host_label(std::string_view l) {
  if (l.empty() || l.size() > 63) return false;
  auto alnum = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; };
  if (!alnum(l.front()) || !alnum(l.back())) return false;
  for (char c : l) {
    if (!alnum(c) && c != '-') return false;
  }
  return true;
}

// domain := host [":" port];  host := label ("." label)* | "[" ipv6 "]"
bool is_valid_domain(std::string_view d) {
  std::string_view host = d;
  std::string_view port;
  if (!d.empty() && d.front() == '[') {
    auto close = d.find(']');
    if (close == std::string_view::npos || close < 3) return false;
    auto inner = d.substr(1, close - 1);
    for (char c : inner) {
      if (!(std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.')) return false;
    }
    auto rest = d.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return false;
      port = rest.substr(1);
      if (port.empty()) return false;
    }
  } else {
    auto colon = d.find(':');
    if (colon != std::string_view::npos) {
      host = d.substr(0, colon);
      port = d.substr(colon + 1);
      if (port.empty()) return false;
    }
    std::size_t start = 0;
    while (true) {
      auto dot = host.find('.', start);
      auto label = host.substr(start, dot == std::string_view::npos ? host.npos : dot - start);
      if (!is_valid_host_label(label)) return false;
      if (dot == std::string_view::npos) break;
      start = dot + 1;
    }
  }
  if (port.size() > 5) return false;
  for (char c : port) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

UsageError bad_reference(std::string_view text, const std::string& why) {
  return UsageError("invalid image reference '" + std::string(text.substr(0, 300)) + "': " + why);
}

}  // namespace

bool is_valid_tag(std::string_view tag) {
  if (tag.empty() || tag.size() > kMaxTagLength) return false;
  auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_'; };
  if (!word(tag.front())) return false;
  for (char c : tag) {
    if (!word(c) && c != '.' && c != '-') return false;
  }
  return true;
}

Reference Reference::parse(std::string_view text) {
  Reference ref;
  constexpr std::string_view kOci = "oci:";
  constexpr std::string_view kArchive = "docker-archive:";
  constexpr std::string_view kDocker = "docker://";

  if (text.starts_with(kOci)) {
    ref.kind_ = ReferenceKind::kOciLayout;
    auto rest = text.substr(kOci.size());
    if (auto at = rest.rfind('@'); at != std::string_view::npos) {
      ref.path_ = std::string(rest.substr(0, at));
      try {
        ref.digest_ = Digest::parse(rest.substr(at + 1), "image reference");
      } catch (const Error& e) {
        throw bad_reference(text, e.what());
      }
    } else if (auto colon = rest.find(':'); colon != std::string_view::npos) {
      ref.path_ = std::string(rest.substr(0, colon));
      auto tag = rest.substr(colon + 1);
      // OCI ref.name annotations are more liberal than docker tags; accept any non-empty
      // printable name without '/' traversal tricks.
      if (tag.empty() || tag.size() > kMaxNameLength)
        throw bad_reference(text, "empty or overlong tag");
      for (char c : tag) {
        if (static_cast<unsigned char>(c) < 0x21 || c == 0x7f) {
          throw bad_reference(text, "tag contains a control or space character");
        }
      }
      ref.tag_ = std::string(tag);
    } else {
      ref.path_ = std::string(rest);
    }
    if (ref.path_.empty()) throw bad_reference(text, "missing layout directory after 'oci:'");
    return ref;
  }

  if (text.starts_with(kArchive)) {
    ref.kind_ = ReferenceKind::kDockerArchive;
    auto rest = text.substr(kArchive.size());
    auto colon = rest.find(':');
    ref.path_ = std::string(rest.substr(0, colon));
    if (colon != std::string_view::npos) {
      auto tag = rest.substr(colon + 1);
      if (tag.empty()) throw bad_reference(text, "empty tag after archive path");
      ref.tag_ = std::string(tag);
    }
    if (ref.path_.empty())
      throw bad_reference(text, "missing archive file after 'docker-archive:'");
    return ref;
  }

  ref.kind_ = ReferenceKind::kRegistry;
  std::string_view rest = text;
  if (rest.starts_with(kDocker)) rest.remove_prefix(kDocker.size());
  if (rest.empty()) throw bad_reference(text, "empty reference");

  // Digest.
  if (auto at = rest.find('@'); at != std::string_view::npos) {
    try {
      ref.digest_ = Digest::parse(rest.substr(at + 1), "image reference");
    } catch (const Error& e) {
      throw bad_reference(text, e.what());
    }
    rest = rest.substr(0, at);
  }
  // Tag: a ':' after the last '/'.
  auto last_slash = rest.rfind('/');
  auto tag_colon = rest.rfind(':');
  if (tag_colon != std::string_view::npos &&
      (last_slash == std::string_view::npos || tag_colon > last_slash)) {
    auto tag = rest.substr(tag_colon + 1);
    if (!is_valid_tag(tag)) {
      throw bad_reference(text, "invalid tag '" + std::string(tag.substr(0, 140)) +
                                    "' (letters, digits, '_', '.', '-'; at most 128)");
    }
    ref.tag_ = std::string(tag);
    rest = rest.substr(0, tag_colon);
  }
  if (rest.size() > kMaxNameLength) throw bad_reference(text, "name longer than 255 characters");

  // Domain: the first component, when it looks like a host.
  std::string_view domain;
  std::string_view path = rest;
  if (auto slash = rest.find('/'); slash != std::string_view::npos) {
    auto first = rest.substr(0, slash);
    bool has_upper = false;
    for (char c : first) has_upper |= (c >= 'A' && c <= 'Z');
    if (first.find_first_of(".:[") != std::string_view::npos || first == "localhost" || has_upper) {
      domain = first;
      path = rest.substr(slash + 1);
    }
  }
  if (domain.empty()) {
    ref.registry_ = std::string(kDockerHubRegistry);
  } else {
    if (!is_valid_domain(domain)) {
      throw bad_reference(text, "invalid registry host '" + std::string(domain) + "'");
    }
    ref.registry_ =
        domain == "index.docker.io" ? std::string(kDockerHubRegistry) : std::string(domain);
  }
  if (path.empty()) throw bad_reference(text, "missing repository name");
  std::size_t start = 0;
  while (true) {
    auto slash = path.find('/', start);
    auto comp = path.substr(start, slash == std::string_view::npos ? path.npos : slash - start);
    if (!is_valid_path_component(comp)) {
      throw bad_reference(text, "invalid repository component '" + std::string(comp) +
                                    "' (lowercase letters, digits and separators only)");
    }
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  ref.repository_ = std::string(path);
  if (ref.registry_ == kDockerHubRegistry && ref.repository_.find('/') == std::string::npos) {
    ref.repository_ = "library/" + ref.repository_;
  }
  if (!ref.tag_ && !ref.digest_) ref.tag_ = "latest";
  return ref;
}

std::string Reference::repository_name() const {
  return registry_ + "/" + repository_;
}

std::string Reference::str() const {
  std::string out;
  switch (kind_) {
    case ReferenceKind::kRegistry:
      out = repository_name();
      if (tag_) out += ":" + *tag_;
      break;
    case ReferenceKind::kOciLayout:
      out = "oci:" + path_;
      if (tag_ && !digest_) out += ":" + *tag_;
      break;
    case ReferenceKind::kDockerArchive:
      out = "docker-archive:" + path_;
      if (tag_) out += ":" + *tag_;
      break;
  }
  if (digest_) out += "@" + digest_->str();
  return out;
}

Reference Reference::with_digest(const Digest& digest) const {
  Reference r = *this;
  r.digest_ = digest;
  if (kind_ != ReferenceKind::kDockerArchive) r.tag_.reset();
  return r;
}

}  // namespace trust
