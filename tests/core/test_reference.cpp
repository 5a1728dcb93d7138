#include <catch2/catch.hpp>

#include "libtrust/core/error.h"
#include "libtrust/core/reference.h"

using namespace trust;

namespace {
ErrorCode parse_error(std::string_view text) {
  try {
    Reference::parse(text);
  } catch (const Error& e) {
    return e.code();
  }
  FAIL("expected " << text << " to be rejected");
  return ErrorCode::kInput;
}
}  // namespace

TEST_CASE("references default to Docker Hub and library/ as docker does", "[core][reference]") {
  auto r = Reference::parse("busybox");
  CHECK(r.kind() == ReferenceKind::kRegistry);
  CHECK(r.registry() == "docker.io");
  CHECK(r.repository() == "library/busybox");
  CHECK(r.tag() == "latest");
  CHECK(r.str() == "docker.io/library/busybox:latest");

  auto u = Reference::parse("someone/app:1.0");
  CHECK(u.registry() == "docker.io");
  CHECK(u.repository() == "someone/app");
  CHECK(u.tag() == "1.0");

  CHECK(Reference::parse("index.docker.io/library/alpine").registry() == "docker.io");
  CHECK(Reference::parse("docker://alpine:3").str() == "docker.io/library/alpine:3");
}

TEST_CASE("references keep hosts, ports, IPv6 and digests", "[core][reference]") {
  auto r = Reference::parse("127.0.0.1:5000/lab/hello:v1");
  CHECK(r.registry() == "127.0.0.1:5000");
  CHECK(r.repository() == "lab/hello");
  CHECK(r.tag() == "v1");
  CHECK(r.repository_name() == "127.0.0.1:5000/lab/hello");

  auto l = Reference::parse("localhost/app");
  CHECK(l.registry() == "localhost");
  CHECK(l.repository() == "app");

  auto v6 = Reference::parse("[::1]:5000/app@sha256:" + std::string(64, 'b'));
  CHECK(v6.registry() == "[::1]:5000");
  CHECK(v6.repository() == "app");
  CHECK_FALSE(v6.tag().has_value());
  REQUIRE(v6.digest().has_value());
  CHECK(v6.digest()->hex() == std::string(64, 'b'));

  auto both = Reference::parse("ghcr.io/a/b:t@sha256:" + std::string(64, 'c'));
  CHECK(both.tag() == "t");
  CHECK(both.digest().has_value());
  CHECK(Reference::parse(both.str()).str() == both.str());
}

TEST_CASE("oci: and docker-archive: references name paths", "[core][reference]") {
  auto o = Reference::parse("oci:/tmp/layout:v1");
  CHECK(o.kind() == ReferenceKind::kOciLayout);
  CHECK(o.path() == "/tmp/layout");
  CHECK(o.tag() == "v1");
  auto od = Reference::parse("oci:dir@sha256:" + std::string(64, 'd'));
  CHECK(od.path() == "dir");
  CHECK(od.digest().has_value());
  auto bare = Reference::parse("oci:dir");
  CHECK_FALSE(bare.tag().has_value());
  auto a = Reference::parse("docker-archive:img.tar:busybox:latest");
  CHECK(a.kind() == ReferenceKind::kDockerArchive);
  CHECK(a.path() == "img.tar");
  CHECK(a.tag() == "busybox:latest");
}

TEST_CASE("malformed references are usage errors", "[core][reference]") {
  CHECK(parse_error("") == ErrorCode::kUsage);
  CHECK(parse_error("UPPER/Case") == ErrorCode::kUsage);
  CHECK(parse_error("host:5000/repo:bad tag") == ErrorCode::kUsage);
  CHECK(parse_error("repo@sha256:short") == ErrorCode::kUsage);
  CHECK(parse_error("repo:" + std::string(129, 'a')) == ErrorCode::kUsage);
  CHECK(parse_error("a//b") == ErrorCode::kUsage);
  CHECK(parse_error("oci:") == ErrorCode::kUsage);
  CHECK(parse_error("docker-archive:") == ErrorCode::kUsage);
  CHECK(parse_error("host:99999999/repo") == ErrorCode::kUsage);
}
