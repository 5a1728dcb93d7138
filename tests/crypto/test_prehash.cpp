// Signing and verifying a SHA-256 digest computed elsewhere (a release file hashed as it
// streams): the same signatures as over the message, for every key type that has a prehashed
// form, and none for Ed25519.
#include <catch2/catch.hpp>

#include "libtrust/core/digest.h"
#include "libtrust/core/error.h"
#include "libtrust/crypto/keys.h"
#include "support/errors.h"
#include "support/test_keys.h"

using namespace trust;
using sigil::test::thrown_by;

namespace {
const Bytes kMessage = to_bytes("a release file\n");
}  // namespace

TEST_CASE("a prehashed signature is the signature over the message, both ways",
          "[crypto][prehash]") {
  const auto digest = Digest::of(kMessage);
  for (auto type : {KeyType::kEcdsaP256, KeyType::kEcdsaP384, KeyType::kRsa3072}) {
    INFO(to_string(type));
    const auto& key = sigil::test::test_key(type);
    const auto pub = key.public_key();
    REQUIRE(signs_sha256_prehash(type));
    CHECK(pub.verify(kMessage, key.sign_prehashed(digest)));
    CHECK(pub.verify_prehashed(digest, key.sign(kMessage)));
    CHECK(pub.verify_prehashed(digest, key.sign_prehashed(digest)));
    // Another message's digest, another key, a flipped bit: all refused.
    CHECK_FALSE(
        pub.verify_prehashed(Digest::of(to_bytes("another file\n")), key.sign_prehashed(digest)));
    CHECK_FALSE(sigil::test::test_key(type, 1).public_key().verify_prehashed(
        digest, key.sign_prehashed(digest)));
    auto sig = key.sign_prehashed(digest);
    sig[sig.size() / 2] ^= 0x01;
    CHECK_FALSE(pub.verify_prehashed(digest, sig));
  }
}

TEST_CASE("RSA prehashed signatures are deterministic PKCS#1 v1.5 (the same bytes as sign)",
          "[crypto][prehash]") {
  const auto& key = sigil::test::test_key(KeyType::kRsa3072);
  CHECK(key.sign_prehashed(Digest::of(kMessage)) == key.sign(kMessage));
}

TEST_CASE("Ed25519 has no prehashed form, and only SHA-256 digests are signed",
          "[crypto][prehash]") {
  const auto& ed = sigil::test::test_key(KeyType::kEd25519);
  CHECK_FALSE(signs_sha256_prehash(KeyType::kEd25519));
  auto t = thrown_by([&] { (void)ed.sign_prehashed(Digest::of(kMessage)); });
  CHECK(t.code == ErrorCode::kUsage);
  CHECK(t.message == "a ed25519 key signs the message itself, not a digest of it");
  // An Ed25519 signature over the digest bytes is no prehashed signature.
  CHECK_FALSE(
      ed.public_key().verify_prehashed(Digest::of(kMessage), ed.sign(Digest::of(kMessage).raw())));

  const auto& ec = sigil::test::test_key(KeyType::kEcdsaP256);
  const auto sha512 = Digest::of(kMessage, DigestAlgorithm::kSha512);
  auto u = thrown_by([&] { (void)ec.sign_prehashed(sha512); });
  CHECK(u.code == ErrorCode::kUsage);
  CHECK(u.message == "a ecdsa-p256 key signs SHA-256 digests, not sha512");
  CHECK_FALSE(ec.public_key().verify_prehashed(sha512, ec.sign(kMessage)));
}

TEST_CASE("Digest::raw is the bytes the hex spells", "[core][digest]") {
  const auto d = Digest::of(kMessage);
  CHECK(Digest::from_raw(DigestAlgorithm::kSha256, d.raw()) == d);
  CHECK(Digest().raw().size() == 32);
  CHECK(Digest().raw()[0] == 0xe3);
  CHECK(Digest().raw()[31] == 0x55);
}
