#include <openssl/evp.h>

#include <catch2/catch.hpp>

#include "crypto/key_fixtures.h"
#include "libtrust/core/digest.h"
#include "libtrust/core/encoding.h"
#include "libtrust/crypto/key_file.h"
#include "libtrust/crypto/keys.h"
#include "support/process.h"

using namespace trust;
using sigil::test::code_of;
using sigil::test::message_of;
using sigil::test::test_key;

namespace {

const std::string kData = SIGIL_TEST_DATA;

PublicKey ref_pub() {
  return load_public_key(kData + "/keys/test-ecdsa-p256.pub");
}
PublicKey other_pub() {
  return load_public_key(kData + "/keys/other-ecdsa-p256.pub");
}

Bytes file_bytes(const std::string& path) {
  return to_bytes(sigil::test::read_text_file(path));
}

// Verifies with OpenSSL directly, naming the digest: proves which algorithm sigil used.
bool openssl_verify(const PublicKey& pub, const EVP_MD* md, ByteView msg, ByteView sig) {
  auto spki = pub.spki_der();
  const unsigned char* p = spki.data();
  detail::EvpPkeyPtr pkey(d2i_PUBKEY(nullptr, &p, static_cast<long>(spki.size())));
  detail::EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  if (!pkey || !ctx) return false;
  if (EVP_DigestVerifyInit(ctx.get(), nullptr, md, nullptr, pkey.get()) != 1) return false;
  return EVP_DigestVerify(ctx.get(), sig.data(), sig.size(), msg.data(), msg.size()) == 1;
}

}  // namespace

TEST_CASE("key type names are spelled in one table and parse back", "[crypto][keys]") {
  for (auto t : sigil::test::kSigningKeyTypes) {
    CHECK(parse_key_type(to_string(t)) == t);
    CHECK(is_signing_key_type(t));
  }
  CHECK(to_string(KeyType::kEcdsaP256) == "ecdsa-p256");
  CHECK(to_string(KeyType::kRsa4096) == "rsa-4096");
  CHECK_FALSE(is_signing_key_type(KeyType::kRsa2048));
  CHECK(code_of([] { parse_key_type("ecdsa-p521"); }) == ErrorCode::kUsage);
  auto msg = message_of([] { parse_key_type("dsa"); });
  CHECK_THAT(msg, Catch::Contains("'dsa'") && Catch::Contains("ecdsa-p256, ecdsa-p384, ed25519"));
}

TEST_CASE("every key type signs and verifies with its own algorithm only", "[crypto][keys]") {
  const auto msg = as_bytes("payload bytes");
  for (auto t : sigil::test::kSigningKeyTypes) {
    INFO(to_string(t));
    const auto& key = test_key(t);
    CHECK(key.type() == t);
    auto pub = key.public_key();
    CHECK(pub.type() == t);
    auto sig = key.sign(msg);
    CHECK(pub.verify(msg, sig));
    CHECK_FALSE(pub.verify(as_bytes("payload byteS"), sig));
    auto bad = sig;
    bad[bad.size() / 2] ^= 0x01;
    CHECK_FALSE(pub.verify(msg, bad));
    CHECK_FALSE(pub.verify(msg, {}));
    // A key of another type never accepts it.
    auto other = t == KeyType::kEd25519 ? KeyType::kEcdsaP256 : KeyType::kEd25519;
    CHECK_FALSE(test_key(other).public_key().verify(msg, sig));
  }
}

TEST_CASE(
    "signature algorithms: ECDSA over SHA-256 on both curves, pure Ed25519, RSA PKCS#1 SHA-256",
    "[crypto][keys]") {
  const auto msg = as_bytes("algorithm check");
  for (auto t : {KeyType::kEcdsaP256, KeyType::kEcdsaP384, KeyType::kRsa3072}) {
    INFO(to_string(t));
    auto sig = test_key(t).sign(msg);
    CHECK(openssl_verify(test_key(t).public_key(), EVP_sha256(), msg, sig));
    CHECK_FALSE(openssl_verify(test_key(t).public_key(), EVP_sha384(), msg, sig));
  }
  auto ed = test_key(KeyType::kEd25519).sign(msg);
  CHECK(ed.size() == 64);
  CHECK(openssl_verify(test_key(KeyType::kEd25519).public_key(), nullptr, msg, ed));
  CHECK(test_key(KeyType::kRsa3072).sign(msg).size() == 384);
  CHECK(test_key(KeyType::kRsa4096).sign(msg).size() == 512);
  // An empty message is a message like any other.
  for (auto t : sigil::test::kSigningKeyTypes) {
    CHECK(test_key(t).public_key().verify({}, test_key(t).sign({})));
  }
}

TEST_CASE("ECDSA verification rejects malformed or non-canonical DER without throwing",
          "[crypto][keys]") {
  const auto msg = as_bytes("der check");
  const auto& key = test_key(KeyType::kEcdsaP256);
  auto pub = key.public_key();
  auto sig = key.sign(msg);
  REQUIRE(sig.size() < 128);
  REQUIRE(sig[0] == 0x30);
  REQUIRE(pub.verify(msg, sig));

  auto trailing = sig;
  trailing.push_back(0x00);
  CHECK_FALSE(pub.verify(msg, trailing));

  // Same SEQUENCE with a long-form length (BER, not DER).
  Bytes long_form{0x30, 0x81, sig[1]};
  long_form.insert(long_form.end(), sig.begin() + 2, sig.end());
  CHECK_FALSE(pub.verify(msg, long_form));

  // r with a superfluous leading zero byte.
  Bytes padded{0x30, static_cast<std::uint8_t>(sig[1] + 1), 0x02,
               static_cast<std::uint8_t>(sig[3] + 1), 0x00};
  padded.insert(padded.end(), sig.begin() + 4, sig.end());
  CHECK_FALSE(pub.verify(msg, padded));

  auto truncated = sig;
  truncated.pop_back();
  CHECK_FALSE(pub.verify(msg, truncated));
  CHECK_FALSE(pub.verify(msg, as_bytes("not a signature at all")));
  CHECK_FALSE(pub.verify(msg, Bytes(2000, 0x30)));
  // A raw r||s signature (what JOSE uses) is not DER.
  CHECK_FALSE(pub.verify(msg, Bytes(64, 0x01)));
}

TEST_CASE("Ed25519 and RSA verification reject signatures of the wrong size", "[crypto][keys]") {
  const auto msg = as_bytes("size check");
  for (auto t : {KeyType::kEd25519, KeyType::kRsa3072}) {
    auto sig = test_key(t).sign(msg);
    auto longer = sig;
    longer.push_back(0);
    CHECK_FALSE(test_key(t).public_key().verify(msg, longer));
    sig.pop_back();
    CHECK_FALSE(test_key(t).public_key().verify(msg, sig));
  }
}

TEST_CASE("the containers/image reference signature verifies with its key and no other",
          "[crypto][keys]") {
  auto payload = file_bytes(kData + "/cimage-signed-v1/sig-payload-0.json");
  auto sig = file_bytes(kData + "/cimage-signed-v1/sig-signature-0.der");
  CHECK(ref_pub().verify(payload, sig));
  CHECK_FALSE(other_pub().verify(payload, sig));
  payload.push_back('\n');
  CHECK_FALSE(ref_pub().verify(payload, sig));
  auto multi = file_bytes(kData + "/cimage-signed-multi-index/sig-payload-1.json");
  auto multi_sig = file_bytes(kData + "/cimage-signed-multi-index/sig-signature-1.der");
  CHECK(ref_pub().verify(multi, multi_sig));
}

TEST_CASE("key id is sha256 over the SPKI DER", "[crypto][keys]") {
  auto pem = sigil::test::read_text_file(kData + "/keys/test-ecdsa-p256.pub");
  std::string body;
  for (auto line_start = pem.find('\n') + 1; line_start < pem.size();) {
    auto end = pem.find('\n', line_start);
    auto line = pem.substr(line_start, end - line_start);
    if (line.rfind("-----", 0) != 0) body += line;
    line_start = end + 1;
  }
  auto der = base64_decode(body, "test");
  auto pub = ref_pub();
  CHECK(pub.spki_der() == der);
  CHECK(pub.key_id().str() == Digest::of(der).str());
  CHECK(pub.key_id() == KeyId::of_spki(der));
  CHECK_FALSE(pub.key_id() == other_pub().key_id());
  CHECK(pub.to_pem() == pem);
  CHECK(pub.type() == KeyType::kEcdsaP256);
}

TEST_CASE("public keys copy and move", "[crypto][keys]") {
  auto pub = ref_pub();
  PublicKey copy = pub;
  CHECK(copy.key_id() == pub.key_id());
  PublicKey moved = std::move(copy);
  CHECK(moved.key_id() == pub.key_id());
  copy = moved;
  CHECK(copy.to_pem() == pub.to_pem());
  auto payload = file_bytes(kData + "/cimage-signed-v1/sig-payload-0.json");
  auto sig = file_bytes(kData + "/cimage-signed-v1/sig-signature-0.der");
  CHECK(copy.verify(payload, sig));
}

TEST_CASE("PEM public keys: only 'PUBLIC KEY', one block, errors name the input",
          "[crypto][keys]") {
  auto good = sigil::test::read_text_file(kData + "/keys/test-ecdsa-p256.pub");
  CHECK(PublicKey::from_pem("leading text is ignored\n" + good, "x").key_id() ==
        ref_pub().key_id());
  CHECK(code_of([] { PublicKey::from_pem("", "empty.pub"); }) == ErrorCode::kInput);
  CHECK_THAT(message_of([] { PublicKey::from_pem("garbage", "g.pub"); }),
             Catch::StartsWith("g.pub: "));
  CHECK(code_of([&] { PublicKey::from_pem(good + good, "two.pub"); }) == ErrorCode::kInput);
  auto key = sigil::test::openssl_ec_key("P-256");
  auto priv = sigil::test::pem_pkcs8(key.get());
  CHECK(code_of([&] { PublicKey::from_pem(priv, "p.pem"); }) == ErrorCode::kInput);
  CHECK_THAT(message_of([&] { PublicKey::from_pem(priv, "p.pem"); }),
             Catch::Contains("p.pem") && Catch::Contains("'PRIVATE KEY'"));
  auto mismatched = good;
  mismatched.replace(mismatched.rfind("PUBLIC KEY"), 10, "PRIVATE KEY");
  CHECK(code_of([&] { PublicKey::from_pem(mismatched, "m.pub"); }) == ErrorCode::kInput);
  auto bad_b64 = good;
  bad_b64[40] = '*';
  CHECK(code_of([&] { PublicKey::from_pem(bad_b64, "b.pub"); }) == ErrorCode::kInput);
  auto der = ref_pub().spki_der();
  der.push_back(0);
  CHECK(code_of([&] { PublicKey::from_spki_der(der, "t.der"); }) == ErrorCode::kInput);
  CHECK(code_of([] { PublicKey::from_spki_der(as_bytes("junk"), "j.der"); }) == ErrorCode::kInput);
}

TEST_CASE("public keys of unsupported curves and sizes are UnsupportedError naming them",
          "[crypto][keys]") {
  auto p521 = sigil::test::openssl_ec_key("P-521");
  auto msg = message_of([&] { PublicKey::from_pem(sigil::test::pem_public(p521.get()), "a.pub"); });
  CHECK_THAT(msg, Catch::StartsWith("a.pub: ") && Catch::Contains("P-521"));
  CHECK(code_of([&] { PublicKey::from_pem(sigil::test::pem_public(p521.get()), "a.pub"); }) ==
        ErrorCode::kUnsupported);
  auto k1 = sigil::test::openssl_ec_key("secp256k1");
  CHECK(code_of([&] { PublicKey::from_pem(sigil::test::pem_public(k1.get()), "k1.pub"); }) ==
        ErrorCode::kUnsupported);
  CHECK_THAT(message_of([&] { PublicKey::from_pem(sigil::test::pem_public(k1.get()), "k1.pub"); }),
             Catch::Contains("secp256k1"));
  auto ed448 = sigil::test::openssl_key("ED448");
  CHECK(code_of([&] { PublicKey::from_pem(sigil::test::pem_public(ed448.get()), "e.pub"); }) ==
        ErrorCode::kUnsupported);
  auto rsa1024 = sigil::test::openssl_rsa_key(1024);
  CHECK(code_of([&] { PublicKey::from_pem(sigil::test::pem_public(rsa1024.get()), "r.pub"); }) ==
        ErrorCode::kUnsupported);
}

TEST_CASE("RSA-2048 public keys verify (users bring them) but are never signing keys",
          "[crypto][keys]") {
  auto rsa = sigil::test::openssl_rsa_key(2048);
  auto pub = PublicKey::from_pem(sigil::test::pem_public(rsa.get()), "r2048.pub");
  CHECK(pub.type() == KeyType::kRsa2048);
  // Sign with OpenSSL (PKCS#1 v1.5, SHA-256) and verify with sigil.
  const auto msg = as_bytes("rsa 2048");
  detail::EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  REQUIRE(EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, rsa.get()) == 1);
  std::size_t len = 0;
  REQUIRE(EVP_DigestSign(ctx.get(), nullptr, &len, msg.data(), msg.size()) == 1);
  Bytes sig(len);
  REQUIRE(EVP_DigestSign(ctx.get(), sig.data(), &len, msg.data(), msg.size()) == 1);
  CHECK(pub.verify(msg, sig));
  CHECK(code_of([] { PrivateKey::generate(KeyType::kRsa2048); }) == ErrorCode::kUsage);
  CHECK(code_of([&] { import_private_key_pem(sigil::test::pem_pkcs8(rsa.get()), "r.pem"); }) ==
        ErrorCode::kUnsupported);
}

TEST_CASE("PKCS#8 private keys round-trip and garbage is InputError", "[crypto][keys]") {
  for (auto t : sigil::test::kSigningKeyTypes) {
    const auto& key = test_key(t);
    auto back = PrivateKey::from_pkcs8_der(key.pkcs8_der(), "der");
    CHECK(back.type() == t);
    CHECK(back.public_key().key_id() == key.public_key().key_id());
  }
  CHECK(code_of([] { PrivateKey::from_pkcs8_der(SecretBytes::from_string("junk"), "j"); }) ==
        ErrorCode::kInput);
  CHECK(code_of([] { PrivateKey::from_pkcs8_der(SecretBytes(), "empty"); }) == ErrorCode::kInput);
  auto der = test_key(KeyType::kEcdsaP256).pkcs8_der();
  der.push_back(0);
  CHECK(code_of([&] { PrivateKey::from_pkcs8_der(der, "t"); }) == ErrorCode::kInput);
}
