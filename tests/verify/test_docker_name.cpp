// Image names as the Docker Engine reads them (check/docker_name.h): every form Docker accepts,
// normalised as moby 20.10 does, and what it refuses.
#include <catch2/catch.hpp>

#include <string>

#include "libtrust/check/docker_name.h"
#include "libtrust/core/error.h"
#include "support/errors.h"

namespace trust::check {
namespace {

const std::string kHex = "3586a72b2d4706bb9ce727ec37ace6d560ef126b86e5df170cf65e33e8ce5b61";

std::string named(std::string_view text) {
  auto n = parse_docker_image_name(text);
  REQUIRE(n.reference.has_value());
  REQUIRE_FALSE(n.id.has_value());
  return n.reference->str();
}

std::string refused(std::string_view text) {
  return sigil::test::message_of([&] { (void)parse_docker_image_name(text); });
}

}  // namespace

TEST_CASE("docker names: short names and Docker Hub spellings normalise to docker.io/library",
          "[docker-name]") {
  CHECK(named("busybox") == "docker.io/library/busybox:latest");
  CHECK(named("busybox:1.36") == "docker.io/library/busybox:1.36");
  CHECK(named("library/busybox") == "docker.io/library/busybox:latest");
  CHECK(named("docker.io/library/busybox") == "docker.io/library/busybox:latest");
  CHECK(named("docker.io/busybox") == "docker.io/library/busybox:latest");
  CHECK(named("index.docker.io/busybox:1") == "docker.io/library/busybox:1");
  CHECK(named("team/app:v1") == "docker.io/team/app:v1");
  CHECK(named("a/b/c") == "docker.io/a/b/c:latest");
  CHECK(parse_docker_image_name("busybox").reference->repository_name() ==
        "docker.io/library/busybox");
}

TEST_CASE("docker names: a first component is a host only with '.', ':' or as localhost",
          "[docker-name]") {
  CHECK(named("localhost:5000/x:tag") == "localhost:5000/x:tag");
  CHECK(named("localhost/x") == "localhost/x:latest");
  CHECK(named("127.0.0.1:5000/lab/app") == "127.0.0.1:5000/lab/app:latest");
  CHECK(named("registry.example.com/team/app:v2") == "registry.example.com/team/app:v2");
  // No '.', ':' or localhost: a Docker Hub namespace, not a host.
  CHECK(named("myregistry/app") == "docker.io/myregistry/app:latest");
  // The same registry however the host is spelled (rule selection must not depend on it).
  CHECK(named("Example.COM:05000/app") == "example.com:5000/app:latest");
  CHECK(named("INDEX.docker.io/busybox") == "docker.io/library/busybox:latest");
}

TEST_CASE("docker names: digests and a tag with a digest (the digest is what is looked up)",
          "[docker-name]") {
  auto d = parse_docker_image_name("busybox@sha256:" + kHex);
  REQUIRE(d.reference);
  CHECK(d.reference->digest()->str() == "sha256:" + kHex);
  CHECK_FALSE(d.reference->tag().has_value());
  CHECK_FALSE(d.may_be_id_prefix);
  auto td = parse_docker_image_name("localhost:5000/app:v1@sha256:" + kHex);
  REQUIRE(td.reference);
  CHECK(td.reference->repository_name() == "localhost:5000/app");
  CHECK(td.reference->tag() == "v1");
  CHECK(td.reference->digest()->str() == "sha256:" + kHex);
}

TEST_CASE("docker names: image IDs in full and short hex that may be an ID prefix",
          "[docker-name]") {
  auto full = parse_docker_image_name(kHex);
  REQUIRE(full.id);
  CHECK(full.id->str() == "sha256:" + kHex);
  CHECK_FALSE(full.reference.has_value());
  auto with_alg = parse_docker_image_name("sha256:" + kHex);
  REQUIRE(with_alg.id);
  CHECK(with_alg.id->str() == "sha256:" + kHex);
  // A short ID is also a valid name: the daemon tries the name, then the ID prefix.
  auto short_id = parse_docker_image_name("3586a72b2d47");
  REQUIRE(short_id.reference);
  CHECK(short_id.reference->str() == "docker.io/library/3586a72b2d47:latest");
  CHECK(short_id.may_be_id_prefix);
  auto short_alg = parse_docker_image_name("sha256:3586a7");
  REQUIRE(short_alg.reference);
  CHECK(short_alg.reference->str() == "docker.io/library/sha256:3586a7");
  CHECK(short_alg.may_be_id_prefix);
  CHECK_FALSE(parse_docker_image_name("busybox").may_be_id_prefix);
}

TEST_CASE("docker names: what the daemon refuses is refused naming the name", "[docker-name]") {
  CHECK(refused("Busybox") == "invalid image name 'Busybox': repository name must be lowercase");
  // 20.10 reads an upper-case first component as a Docker Hub namespace, not a host.
  CHECK(refused("Foo/bar") == "invalid image name 'Foo/bar': repository name must be lowercase");
  CHECK(refused("localhost:5000/App") ==
        "invalid image name 'localhost:5000/App': repository name must be lowercase");
  CHECK(refused("docker://busybox") ==
        "invalid image name 'docker://busybox': invalid reference format");
  CHECK(refused("busybox:") == "invalid image name 'busybox:': invalid reference format");
  CHECK(refused("busybox:" + std::string(129, 't')).find("invalid reference format") !=
        std::string::npos);
  CHECK(refused("a_b.c/x") ==
        "invalid image name 'a_b.c/x': the registry host is not one Docker's grammar reads as a "
        "host");
  CHECK(refused("busybox@sha256:abc") ==
        "invalid image name 'busybox@sha256:abc': invalid "
        "reference format");
  CHECK(refused("sha384:" + std::string(96, 'a')).find("sha384") != std::string::npos);
  CHECK(refused("") == "invalid image name '': empty");
  CHECK(refused("x/" + std::string(260, 'a')).find("more than 255 characters") !=
        std::string::npos);
  CHECK(sigil::test::code_of([] { (void)parse_docker_image_name("Busybox"); }) ==
        ErrorCode::kUsage);
}

TEST_CASE("docker pulls: fromImage and tag read as moby's PullImage reads them", "[docker-name]") {
  CHECK(docker_pull_reference("127.0.0.1:5000/tiny", "1").str() == "127.0.0.1:5000/tiny:1");
  CHECK(docker_pull_reference("busybox", "latest").str() == "docker.io/library/busybox:latest");
  CHECK(docker_pull_reference("busybox:1.36", "").str() == "docker.io/library/busybox:1.36");
  // A digest in the tag parameter replaces tag and digest.
  CHECK(docker_pull_reference("busybox:1.36", "sha256:" + kHex).str() ==
        "docker.io/library/busybox@sha256:" + kHex);
  // A tag parameter replaces the tag, and a digest in fromImage is kept (and pulled by).
  auto kept = docker_pull_reference("busybox@sha256:" + kHex, "v1");
  CHECK(kept.tag() == "v1");
  CHECK(kept.digest()->str() == "sha256:" + kHex);
  CHECK(docker_pull_reference("busybox:1.36", "v2").str() == "docker.io/library/busybox:v2");
  // One trailing ':' is dropped (pull -a sends "NAME:").
  CHECK(docker_pull_reference("busybox:", "v1").str() == "docker.io/library/busybox:v1");
  auto all_tags = sigil::test::message_of([] { (void)docker_pull_reference("busybox", ""); });
  CHECK(all_tags.find("--all-tags") != std::string::npos);
  CHECK(sigil::test::message_of([] { (void)docker_pull_reference("busybox", "bad tag"); }) ==
        "invalid image name 'bad tag': invalid tag format");
}

}  // namespace trust::check
