#pragma once
// Image references, parsed once:
//   registry:        [docker://]HOST[:PORT]/REPO[:TAG][@sha256:HEX]   (Docker Hub defaults as
//   docker does) OCI layout:      oci:DIR[:TAG|@DIGEST] docker archive:  docker-archive:FILE[:TAG]

#include <optional>
#include <string>
#include <string_view>

#include "libtrust/core/digest.h"
#include "libtrust/export.h"

namespace trust {

enum class ReferenceKind { kRegistry, kOciLayout, kDockerArchive };

inline constexpr std::string_view kDockerHubRegistry = "docker.io";
inline constexpr std::string_view kDockerHubApiHost = "registry-1.docker.io";

class TRUST_API Reference {
 public:
  // Throws UsageError naming the input and what is wrong with it.
  static Reference parse(std::string_view text);

  ReferenceKind kind() const { return kind_; }

  // Registry references: "docker.io", "localhost:5000", "[::1]:5000".
  const std::string& registry() const { return registry_; }
  // Registry references: "library/busybox", "lab/hello".
  const std::string& repository() const { return repository_; }
  // oci: and docker-archive: references: the directory or file path.
  const std::string& path() const { return path_; }

  const std::optional<std::string>& tag() const { return tag_; }
  const std::optional<Digest>& digest() const { return digest_; }

  // "registry/repository" (the docker-reference cosign writes into payloads). Registry kind only.
  std::string repository_name() const;
  // Canonical text: "docker.io/library/busybox:latest", "oci:/path:tag", … Round-trips through
  // parse().
  std::string str() const;

  // A copy of this reference pinned to a digest (tag dropped).
  Reference with_digest(const Digest& digest) const;

 private:
  Reference() = default;
  ReferenceKind kind_ = ReferenceKind::kRegistry;
  std::string registry_;
  std::string repository_;
  std::string path_;
  std::optional<std::string> tag_;
  std::optional<Digest> digest_;
};

// Grammar checks shared by Reference and the OCI layout's ref.name annotations.
TRUST_API bool is_valid_tag(std::string_view tag);

}  // namespace trust
