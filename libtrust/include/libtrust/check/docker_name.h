#pragma once
// Image names as the Docker Engine reads them, so that the Docker authorization plugin
// (check/docker_authz.h) judges the image the daemon will use, never one it merely resembles.
//
// The grammar and the normalisation are moby 20.10's (vendored docker/distribution reference:
// ParseAnyReference, ParseNormalizedNamed, splitDockerDomain; daemon/images GetImage; PullImage):
//  - 64 hex digits, or "sha256:" and 64 hex digits: an image ID.
//  - anything else is a name, normalised: the first path component is a registry host only when
//    it contains '.' or ':' or is "localhost" ("busybox" -> docker.io/library/busybox,
//    "index.docker.io/x" -> docker.io/library/x); the repository path must be lower case; the tag
//    defaults to "latest" when there is neither tag nor digest; with both, the digest is what the
//    daemon looks up.
//  - the daemon looks a name it has no image for up again as a prefix of an image ID (hex, or
//    "sha256:" and hex): such a name may denote an image by ID.
// One step beyond Docker, for rule selection only: a registry host is lower-cased and a port's
// leading zeros are dropped ("Example.COM:05000" is example.com:5000), since both denote the same
// registry to the daemon and a policy glob must not be sidestepped by spelling.

#include <optional>
#include <string>
#include <string_view>

#include "libtrust/core/digest.h"
#include "libtrust/core/reference.h"
#include "libtrust/export.h"

namespace trust::check {

struct DockerImageName {
  std::string text;                    // as given
  std::optional<Digest> id;            // an image ID ("sha256:…", or 64 hex)
  std::optional<Reference> reference;  // a name (registry kind), normalised as above
  // A name whose text is also an image ID prefix: the daemon uses the image with that ID prefix
  // when it has no image by that name.
  bool may_be_id_prefix = false;
};

// Parses what `docker run`, `docker create` and the create body's .Image take. Throws UsageError
// "invalid image name 'TEXT': why" for what the daemon refuses too, and for the few names it
// takes that sigil does not judge (a sha384 digest, a host the grammar reads as a path).
TRUST_API DockerImageName parse_docker_image_name(std::string_view text);

// The reference `POST /images/create?fromImage=FROM&tag=TAG` pulls, as moby's PullImage reads
// it: one trailing ':' of FROM dropped; a TAG that is a digest replaces FROM's tag and digest, any
// other TAG replaces FROM's tag (a digest in FROM is kept, and wins). Throws UsageError for an
// invalid name or tag, and for a pull of every tag (no tag and no digest anywhere: `docker pull
// --all-tags`), which names no one image to judge.
TRUST_API Reference docker_pull_reference(std::string_view from_image, std::string_view tag);

}  // namespace trust::check
