#include <catch2/catch.hpp>

#include "libtrust/core/error.h"
#include "libtrust/core/file.h"
#include "libtrust/sig/simple_signing.h"
#include "support/errors.h"

using namespace trust;
using sigil::test::message_of;
using trust::sig::SimpleSigningPayload;

namespace {
const std::string kDigest = "sha256:" + std::string(64, 'a');

ErrorCode parse_code(std::string_view text) {
  try {
    SimpleSigningPayload::parse(as_bytes(text), "payload");
  } catch (const Error& e) {
    return e.code();
  }
  FAIL("expected the payload to be rejected: " << text);
  return ErrorCode::kUsage;
}
}  // namespace

TEST_CASE("payload serialises exactly as cosign writes it", "[sig][payload]") {
  SimpleSigningPayload p;
  p.docker_reference = "registry.example/app";
  p.manifest_digest = Digest::parse(kDigest);
  CHECK(
      p.serialize() ==
      R"({"critical":{"identity":{"docker-reference":"registry.example/app"},"image":{"docker-manifest-digest":")" +
          kDigest + R"("},"type":"cosign container image signature"},"optional":null})");
  p.optional = {{"b", "2"}, {"a", "1"}};
  CHECK(p.serialize().ends_with(R"("optional":{"a":"1","b":"2"}})"));
}

TEST_CASE("payload written by containers/image parses, numeric optional kept apart",
          "[sig][payload]") {
  auto bytes = read_file(SIGIL_TEST_DATA "/cimage-signed-v1/sig-payload-0.json", 1 << 20);
  auto p = SimpleSigningPayload::parse(bytes, "reference payload");
  CHECK(p.docker_reference == "127.0.0.1:5056/lab/hello:v1");
  CHECK(p.manifest_digest.str() ==
        "sha256:2757703db410695547cef88bb4b2947d7b48ebcd7f11cf8cc21c7e06184b707d");
  CHECK(p.optional.at("creator") == "containers/image 5.23.1");
  CHECK(p.non_string_keys.count("timestamp") == 1);
  CHECK(p.has_annotations({{"creator", "containers/image 5.23.1"}}));
  CHECK_FALSE(p.has_annotations({{"timestamp", "1795936227"}}));
  CHECK_FALSE(p.has_annotations({{"creator", "cosign"}}));
  CHECK_FALSE(p.has_annotations({{"missing", "x"}}));
}

TEST_CASE("payload parsing is strict about structure", "[sig][payload]") {
  const std::string good_critical =
      R"("critical":{"identity":{"docker-reference":"r"},"image":{"docker-manifest-digest":")" +
      kDigest + R"("},"type":"cosign container image signature"})";
  auto good = SimpleSigningPayload::parse(as_bytes("{" + good_critical + "}"), "p");
  CHECK(good.docker_reference == "r");
  CHECK(good.manifest_digest.str() == kDigest);
  CHECK(good.optional.empty());
  CHECK(parse_code("{" + good_critical + R"(,"extra":1})") == ErrorCode::kInput);
  // An unknown field inside "critical" (containers/image refuses it too).
  auto extra_critical = good_critical;
  extra_critical.insert(extra_critical.size() - 1, R"(,"extra":1)");
  CHECK(message_of([&] {
          (void)SimpleSigningPayload::parse(as_bytes("{" + extra_critical + "}"), "p");
        }) == "p: unexpected field 'extra' in critical");
  CHECK(
      parse_code(
          R"({"critical":{"identity":{"docker-reference":"r"},"image":{"docker-manifest-digest":")" +
          kDigest + R"("},"type":"something else"}})") == ErrorCode::kInput);
  CHECK(
      parse_code(
          R"({"critical":{"identity":{"docker-reference":"r"},"image":{"docker-manifest-digest":"sha256:abc"},"type":"cosign container image signature"}})") ==
      ErrorCode::kInput);
  CHECK(
      parse_code(
          R"({"critical":{"identity":{"docker-reference":"r"},"image":{"docker-manifest-digest":")" +
          kDigest + R"(","x":1},"type":"cosign container image signature"}})") ==
      ErrorCode::kInput);
  CHECK(parse_code("{" + good_critical + R"(,"optional":[1]})") == ErrorCode::kInput);
  CHECK(parse_code("{" + good_critical) == ErrorCode::kInput);
  CHECK(parse_code("[]") == ErrorCode::kInput);
  CHECK(parse_code(std::string(70, '[') + std::string(70, ']')) == ErrorCode::kLimit);
  CHECK(parse_code(R"({"critical":{},"critical":{}})") == ErrorCode::kInput);
}
