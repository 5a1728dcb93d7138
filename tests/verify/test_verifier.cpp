// The Verifier on its own, with the real signature bytes containers/image wrote (tests/data).
#include <catch2/catch.hpp>

#include "libtrust/core/error.h"
#include "libtrust/core/file.h"
#include "libtrust/crypto/key_file.h"
#include "libtrust/verify/verifier.h"
#include "verify_test_util.h"

using namespace trust;
using namespace trust::verify;

namespace {

const std::string kData = SIGIL_TEST_DATA;
const Digest kImage =
    Digest::parse("sha256:2757703db410695547cef88bb4b2947d7b48ebcd7f11cf8cc21c7e06184b707d");

sig::CosignSignature reference_signature() {
  sig::CosignSignature s;
  s.index = 0;
  s.payload = read_file(kData + "/cimage-signed-v1/sig-payload-0.json", 1 << 20);
  s.signature = read_file(kData + "/cimage-signed-v1/sig-signature-0.der", 1 << 20);
  s.layer.digest = Digest::of(s.payload);
  s.layer.size = s.payload.size();
  return s;
}

Verifier verifier_for(const std::string& pub) {
  return Verifier(fixed_keys({load_public_key(kData + "/keys/" + pub)}));
}

}  // namespace

TEST_CASE("a containers/image signature verifies with its key", "[verify]") {
  auto r = test::judge_stored(verifier_for("test-ecdsa-p256.pub"), kImage, {reference_signature()},
                              {}, {});
  REQUIRE(r.signatures.size() == 1);
  CHECK(r.verified());
  CHECK(r.signatures[0].verified);
  REQUIRE(r.signatures[0].key_id().has_value());
  CHECK(*r.signatures[0].key_id() ==
        load_public_key(kData + "/keys/test-ecdsa-p256.pub").key_id().str());
  REQUIRE(r.signatures[0].payload.has_value());
  CHECK(r.signatures[0].payload->docker_reference == "127.0.0.1:5056/lab/hello:v1");
}

TEST_CASE("a signature does not verify with another key", "[verify]") {
  auto r = test::judge_stored(verifier_for("other-ecdsa-p256.pub"), kImage, {reference_signature()},
                              {}, {});
  CHECK_FALSE(r.verified());
  CHECK(r.signatures[0].reason == "signature does not verify with any trusted key");
  CHECK_FALSE(r.signatures[0].payload.has_value());
}

TEST_CASE("any one of several trusted keys may verify", "[verify]") {
  auto keys = std::make_shared<FixedKeys>();
  keys->add("other-ecdsa-p256.pub", load_public_key(kData + "/keys/other-ecdsa-p256.pub"));
  keys->add("test-ecdsa-p256.pub", load_public_key(kData + "/keys/test-ecdsa-p256.pub"));
  auto r = test::judge_stored(Verifier(std::move(keys)), kImage, {reference_signature()}, {}, {});
  CHECK(r.verified());
}

TEST_CASE("a valid signature for image A is not accepted for image B", "[verify]") {
  auto other = Digest::parse("sha256:" + std::string(64, '1'));
  auto r = test::judge_stored(verifier_for("test-ecdsa-p256.pub"), other, {reference_signature()},
                              {}, {});
  CHECK_FALSE(r.verified());
  CHECK(r.signatures[0].reason.find("signed payload is for sha256:2757703d") == 0);
}

TEST_CASE("a tampered payload or signature fails", "[verify]") {
  auto s = reference_signature();
  s.payload[10] ^= 1;
  auto r = test::judge_stored(verifier_for("test-ecdsa-p256.pub"), kImage, {s}, {}, {});
  CHECK_FALSE(r.verified());
  auto t = reference_signature();
  t.signature.back() ^= 1;
  CHECK_FALSE(
      test::judge_stored(verifier_for("test-ecdsa-p256.pub"), kImage, {t}, {}, {}).verified());
  auto u = reference_signature();
  u.signature.resize(3);
  CHECK_FALSE(
      test::judge_stored(verifier_for("test-ecdsa-p256.pub"), kImage, {u}, {}, {}).verified());
}

TEST_CASE("required annotations must be in the signed payload as strings", "[verify]") {
  auto v = verifier_for("test-ecdsa-p256.pub");
  CHECK(test::judge_stored(v, kImage, {reference_signature()}, {},
                           Policy{.required_annotations = {{"creator", "containers/image 5.23.1"}}})
            .verified());
  auto r = test::judge_stored(v, kImage, {reference_signature()}, {},
                              Policy{.required_annotations = {{"env", "prod"}}});
  CHECK_FALSE(r.verified());
  CHECK(r.signatures[0].reason == "signed payload lacks required annotation(s) env=prod");
  CHECK_FALSE(test::judge_stored(v, kImage, {reference_signature()}, {},
                                 Policy{.required_annotations = {{"timestamp", "1795936227"}}})
                  .verified());
}

TEST_CASE("layers flagged as unusable never verify, and say why", "[verify]") {
  auto s = reference_signature();
  s.problem = "layer has no dev.cosignproject.cosign/signature annotation";
  auto r = test::judge_stored(verifier_for("test-ecdsa-p256.pub"), kImage, {s}, {}, {});
  CHECK_FALSE(r.verified());
  CHECK(r.signatures[0].reason == *s.problem);
}

TEST_CASE("a verifier without trusted keys is refused", "[verify]") {
  try {
    Verifier v{std::make_shared<FixedKeys>()};
    FAIL("expected a usage error");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::kUsage);
  }
}

TEST_CASE("more signatures than the limit is a limit error", "[verify]") {
  std::vector<sig::CosignSignature> many(101, reference_signature());
  try {
    (void)test::judge_stored(verifier_for("test-ecdsa-p256.pub"), kImage, many, {}, {});
    FAIL("expected a limit error");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::kLimit);
  }
  std::vector<sig::CosignSignature> hundred(100, reference_signature());
  CHECK(
      test::judge_stored(verifier_for("test-ecdsa-p256.pub"), kImage, hundred, {}, {}).verified());
}
