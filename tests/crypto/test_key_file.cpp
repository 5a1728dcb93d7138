#include <openssl/evp.h>
#include <sodium.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <regex>

#include "core/json_util.h"
#include "crypto/key_fixtures.h"
#include "libtrust/core/encoding.h"
#include "libtrust/core/file.h"
#include "libtrust/crypto/key_file.h"
#include "libtrust/crypto/keys.h"
#include "support/process.h"

using namespace trust;
using sigil::test::code_of;
using sigil::test::message_of;
using sigil::test::read_text_file;
using sigil::test::test_key;

namespace {

const std::string kData = SIGIL_TEST_DATA;
const std::string kRefKey = kData + "/keys/test-ecdsa-p256.key";
const std::string kRefPub = kData + "/keys/test-ecdsa-p256.pub";

SecretBytes ref_password() {
  auto text = read_text_file(kData + "/keys/test-passphrase.txt");
  return SecretBytes::from_string(text.substr(0, text.find('\n')));
}

// The JSON inside an encrypted key PEM.
std::string body_of(const std::string& pem) {
  std::string b64;
  std::size_t pos = 0;
  while (pos < pem.size()) {
    auto end = pem.find('\n', pos);
    auto line = pem.substr(pos, end - pos);
    if (line.rfind("-----", 0) != 0) b64 += line;
    pos = end == std::string::npos ? pem.size() : end + 1;
  }
  auto bytes = base64_decode(b64, "test");
  return std::string(bytes.begin(), bytes.end());
}

std::string wrap_pem(const std::string& body,
                     const std::string& type = "ENCRYPTED COSIGN PRIVATE KEY") {
  std::string b64 = base64_encode(as_bytes(body));
  std::string out = "-----BEGIN " + type + "-----\n";
  for (std::size_t i = 0; i < b64.size(); i += 64) out += b64.substr(i, 64) + "\n";
  return out + "-----END " + type + "-----\n";
}

// A key body in cosign's layout with the given pieces (defaults: valid shapes, junk ciphertext).
std::string key_body(const std::string& n = "32768", const std::string& r = "8",
                     const std::string& p = "1", const std::string& kdf_name = "\"scrypt\"",
                     std::size_t salt_len = 32, const std::string& cipher = "\"nacl/secretbox\"",
                     std::size_t nonce_len = 24) {
  auto b64 = [](std::size_t len) { return "\"" + base64_encode(Bytes(len, 0x41)) + "\""; };
  return R"({"kdf":{"name":)" + kdf_name + R"(,"params":{"N":)" + n + R"(,"r":)" + r + R"(,"p":)" +
         p + R"(},"salt":)" + b64(salt_len) + R"(},"cipher":{"name":)" + cipher + R"(,"nonce":)" +
         b64(nonce_len) + R"(},"ciphertext":)" + b64(80) + "}";
}

// Independent implementation of the format (OpenSSL scrypt + libsodium secretbox), used to make
// well-encrypted files with chosen plaintext and to cross-check what sigil writes.
std::string encrypt_independently(ByteView plaintext, std::string_view password) {
  REQUIRE(sodium_init() >= 0);
  Bytes salt(32), nonce(24), key(32);
  randombytes_buf(salt.data(), salt.size());
  randombytes_buf(nonce.data(), nonce.size());
  REQUIRE(EVP_PBE_scrypt(password.data(), password.size(), salt.data(), salt.size(), 32768, 8, 1,
                         64u << 20, key.data(), key.size()) == 1);
  Bytes ct(plaintext.size() + crypto_secretbox_MACBYTES);
  REQUIRE(crypto_secretbox_easy(ct.data(), plaintext.data(), plaintext.size(), nonce.data(),
                                key.data()) == 0);
  return wrap_pem(R"({"kdf":{"name":"scrypt","params":{"N":32768,"r":8,"p":1},"salt":")" +
                  base64_encode(salt) + R"("},"cipher":{"name":"nacl/secretbox","nonce":")" +
                  base64_encode(nonce) + R"("},"ciphertext":")" + base64_encode(ct) + "\"}");
}

Bytes decrypt_independently(const std::string& pem, std::string_view password) {
  auto j = detail::parse_json(body_of(pem), "test");
  auto salt = base64_decode(j["kdf"]["salt"].get<std::string>(), "salt");
  auto nonce = base64_decode(j["cipher"]["nonce"].get<std::string>(), "nonce");
  auto ct = base64_decode(j["ciphertext"].get<std::string>(), "ct");
  auto n = j["kdf"]["params"]["N"].get<std::uint64_t>();
  Bytes key(32);
  REQUIRE(EVP_PBE_scrypt(password.data(), password.size(), salt.data(), salt.size(), n, 8, 1,
                         256u << 20, key.data(), key.size()) == 1);
  Bytes pt(ct.size() - crypto_secretbox_MACBYTES);
  REQUIRE(crypto_secretbox_open_easy(pt.data(), ct.data(), ct.size(), nonce.data(), key.data()) ==
          0);
  return pt;
}

}  // namespace

TEST_CASE("the reference cosign key decrypts and matches its public key", "[crypto][key_file]") {
  auto key = load_private_key(kRefKey, ref_password);
  CHECK(key.type() == KeyType::kEcdsaP256);
  auto pub = load_public_key(kRefPub);
  CHECK(key.public_key().spki_der() == pub.spki_der());
  auto msg = as_bytes("signed by the reference key");
  CHECK(pub.verify(msg, key.sign(msg)));
  CHECK(is_encrypted_private_key_pem(read_text_file(kRefKey)));
  CHECK_FALSE(is_encrypted_private_key_pem(read_text_file(kRefPub)));
}

TEST_CASE("a wrong password is BadPasswordError naming the file", "[crypto][key_file]") {
  auto wrong = [] { return SecretBytes::from_string("not-the-passphrase"); };
  try {
    load_private_key(kRefKey, wrong);
    FAIL("decrypted with a wrong password");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::kBadPassword);
    CHECK(std::string(e.what()) ==
          kRefKey + ": wrong password or corrupted key (decryption failed)");
  }
  // A flipped ciphertext byte is indistinguishable from a wrong password (authenticated cipher).
  auto body = body_of(read_text_file(kRefKey));
  auto pos = body.find("\"ciphertext\":\"") + 14;
  body[pos] = body[pos] == 'A' ? 'B' : 'A';
  CHECK(code_of([&] { decrypt_private_key_pem(wrap_pem(body), ref_password(), "t.key"); }) ==
        ErrorCode::kBadPassword);
}

// scrypt at N=32768 costs ~0.3 s here and is the same work whatever the key, so each key type is
// round-tripped once, the two profiles alternating (each profile sees an EC and an RSA key).
// PKCS#8 handling of every type is covered without scrypt in test_keys.cpp.
TEST_CASE("written key files have cosign's exact layout and round-trip for every type and profile",
          "[crypto][key_file]") {
  const std::regex layout(
      R"re(\{"kdf":\{"name":"scrypt","params":\{"N":(\d+),"r":8,"p":1\},"salt":"([A-Za-z0-9+/=]{44})"\},)re"
      R"re("cipher":\{"name":"nacl/secretbox","nonce":"([A-Za-z0-9+/=]{32})"\},)re"
      R"re("ciphertext":"([A-Za-z0-9+/=]+)"\})re");
  const auto password = SecretBytes::from_string("correct horse");
  int i = 0;
  for (auto t : sigil::test::kSigningKeyTypes) {
    auto profile = i++ % 2 == 0 ? KdfProfile::kCosign : KdfProfile::kStandard;
    {
      INFO(to_string(t) << " " << to_string(profile));
      const auto& key = test_key(t);
      auto pem = encrypt_private_key_pem(key, password, profile);
      const std::string type = profile == KdfProfile::kCosign ? "ENCRYPTED COSIGN PRIVATE KEY"
                                                              : "ENCRYPTED SIGSTORE PRIVATE KEY";
      CHECK(pem.rfind("-----BEGIN " + type + "-----\n", 0) == 0);
      CHECK(pem.size() > type.size() * 2);
      CHECK(pem.substr(pem.size() - type.size() - 15) == "-----END " + type + "-----\n");
      // Every body line is 64 columns except the last.
      std::size_t lines = 0, short_lines = 0;
      for (std::size_t pos = pem.find('\n') + 1; pem.compare(pos, 5, "-----") != 0;) {
        auto end = pem.find('\n', pos);
        ++lines;
        if (end - pos != 64) ++short_lines;
        CHECK(end - pos <= 64);
        pos = end + 1;
      }
      CHECK(short_lines <= 1);
      CHECK(lines >= 2);
      std::smatch m;
      auto body = body_of(pem);
      REQUIRE(std::regex_match(body, m, layout));
      CHECK(m[1] == (profile == KdfProfile::kCosign ? "32768" : "65536"));
      auto back = decrypt_private_key_pem(pem, password, "mem");
      CHECK(back.type() == t);
      CHECK(back.public_key().key_id() == key.public_key().key_id());
    }
  }
}

TEST_CASE("sigil's key files decrypt with an independent implementation, and vice versa",
          "[crypto][key_file]") {
  const auto& key = test_key(KeyType::kEcdsaP384);
  auto pem = encrypt_private_key_pem(key, SecretBytes::from_string("pw"));
  auto plaintext = decrypt_independently(pem, "pw");
  CHECK(SecretBytes(plaintext.data(), plaintext.size()) == key.pkcs8_der());
  auto der = key.pkcs8_der();
  // An empty password is a password.
  auto theirs = encrypt_independently(der.view(), "");
  CHECK(decrypt_private_key_pem(theirs, SecretBytes(), "x").public_key().key_id() ==
        key.public_key().key_id());
}

TEST_CASE("well-encrypted plaintext that is not a supported PKCS#8 key is refused",
          "[crypto][key_file]") {
  auto junk = encrypt_independently(as_bytes("definitely not DER"), "pw");
  CHECK(code_of([&] { decrypt_private_key_pem(junk, SecretBytes::from_string("pw"), "j.key"); }) ==
        ErrorCode::kInput);
  auto p521 = sigil::test::openssl_ec_key("P-521");
  // PKCS#8 of a P-521 key, inside a valid key file.
  detail::BioPtr bio(BIO_new(BIO_s_mem()));
  REQUIRE(i2d_PKCS8PrivateKey_bio(bio.get(), p521.get(), nullptr, nullptr, 0, nullptr, nullptr) ==
          1);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  auto wrapped = encrypt_independently(
      ByteView(reinterpret_cast<const std::uint8_t*>(data), static_cast<std::size_t>(len)), "pw");
  CHECK(code_of([&] {
          decrypt_private_key_pem(wrapped, SecretBytes::from_string("pw"), "p.key");
        }) == ErrorCode::kUnsupported);
  CHECK_THAT(message_of([&] {
               decrypt_private_key_pem(wrapped, SecretBytes::from_string("pw"), "p.key");
             }),
             Catch::StartsWith("p.key: ") && Catch::Contains("P-521"));
}

TEST_CASE("scrypt parameters outside the accepted set are refused before any work",
          "[crypto][key_file]") {
  auto pw = SecretBytes::from_string("pw");
  auto refuse = [&](const std::string& body) {
    return code_of([&] { decrypt_private_key_pem(wrap_pem(body), pw, "k.key"); });
  };
  // N = 2^20 would take seconds and 1 GiB; it must be refused before any work, as a named limit
  // (kLimit, not the kBadPassword a finished derivation over junk ciphertext would give).
  CHECK(refuse(key_body("1048576")) == ErrorCode::kLimit);
  CHECK_THAT(
      message_of([&] { decrypt_private_key_pem(wrap_pem(key_body("1048576")), pw, "k.key"); }),
      Catch::StartsWith("k.key: ") && Catch::Contains("N=1048576"));
  // Past INT64_MAX the value is reported as written, not as the -1 it would wrap to.
  CHECK(refuse(key_body("18446744073709551615")) == ErrorCode::kLimit);
  CHECK(message_of([&] {
          decrypt_private_key_pem(wrap_pem(key_body("18446744073709551615")), pw, "k.key");
        }) ==
        "k.key: key body: kdf: params: scrypt N=18446744073709551615 is over the limit of "
        "131072");
  CHECK(message_of([&] {
          decrypt_private_key_pem(wrap_pem(key_body("9223372036854775808")), pw, "k.key");
        }) ==
        "k.key: key body: kdf: params: scrypt N=9223372036854775808 is over the limit of "
        "131072");
  // At the bound: N=131072 is accepted (the junk ciphertext then fails to authenticate).
  CHECK(refuse(key_body("131072")) == ErrorCode::kBadPassword);
  // Below the bound but not in the set (a 16384 file would be cheap to brute-force).
  CHECK(refuse(key_body("16384")) == ErrorCode::kUnsupported);
  CHECK(refuse(key_body("32767")) == ErrorCode::kUnsupported);
  CHECK(refuse(key_body("-32768")) == ErrorCode::kUnsupported);
  CHECK(refuse(key_body("32768", "16")) == ErrorCode::kUnsupported);
  CHECK(refuse(key_body("32768", "8", "2")) == ErrorCode::kUnsupported);
  CHECK(refuse(key_body("32768", "8", "1", "\"argon2id\"")) == ErrorCode::kUnsupported);
  CHECK(refuse(key_body("32768", "8", "1", "\"scrypt\"", 32, "\"aes-gcm\"")) ==
        ErrorCode::kUnsupported);
  CHECK(refuse(key_body("\"32768\"")) == ErrorCode::kInput);
  CHECK(refuse(key_body("32768.5")) == ErrorCode::kInput);
  CHECK(refuse(key_body("32768", "8", "1", "\"scrypt\"", 16)) == ErrorCode::kInput);
  CHECK(refuse(key_body("32768", "8", "1", "\"scrypt\"", 32, "\"nacl/secretbox\"", 12)) ==
        ErrorCode::kInput);
}

TEST_CASE("corrupted key bodies and unknown PEM types are InputError naming the file",
          "[crypto][key_file]") {
  auto pw = SecretBytes::from_string("pw");
  auto check = [&](const std::string& pem) {
    INFO(pem);
    CHECK(code_of([&] { decrypt_private_key_pem(pem, pw, "bad.key"); }) == ErrorCode::kInput);
    CHECK_THAT(message_of([&] { decrypt_private_key_pem(pem, pw, "bad.key"); }),
               Catch::StartsWith("bad.key: "));
  };
  check("");
  check("not a pem");
  check(
      "-----BEGIN ENCRYPTED COSIGN PRIVATE KEY-----\n!!!!\n-----END ENCRYPTED COSIGN PRIVATE "
      "KEY-----\n");
  check(wrap_pem("this is not json"));
  check(wrap_pem("[1,2,3]"));
  check(wrap_pem("{}"));
  auto body = key_body();
  check(wrap_pem(body.substr(0, body.find(",\"ciphertext\"")) + "}"));  // missing ciphertext
  check(wrap_pem(std::regex_replace(body, std::regex(R"("cipher":\{[^}]*\},)"), "")));
  check(wrap_pem(std::regex_replace(body, std::regex(R"("salt":"[^"]*")"), R"("salt":"@@@@")")));
  check(wrap_pem(key_body(), "FOO BAR"));
  check(wrap_pem(key_body(), "PUBLIC KEY"));
  // Duplicate keys are a parser-differential trap.
  check(wrap_pem(R"({"kdf":{},"kdf":{}})"));
  auto unencrypted = sigil::test::pem_pkcs8(sigil::test::openssl_ec_key("P-256").get());
  CHECK_THAT(message_of([&] { decrypt_private_key_pem(unencrypted, pw, "plain.pem"); }),
             Catch::Contains("sigil key import"));
  // Both PEM types are read whatever N they carry.
  CHECK(code_of([&] {
          decrypt_private_key_pem(wrap_pem(key_body(), "ENCRYPTED SIGSTORE PRIVATE KEY"), pw, "s");
        }) == ErrorCode::kBadPassword);
}

TEST_CASE("import reads PKCS#8, SEC1 and PKCS#1 PEM and refuses unsupported keys",
          "[crypto][key_file]") {
  auto p256 = sigil::test::openssl_ec_key("P-256");
  auto p384 = sigil::test::openssl_ec_key("P-384");
  auto ed = sigil::test::openssl_key("ED25519");
  auto rsa = sigil::test::openssl_rsa_key(3072);
  struct Case {
    EVP_PKEY* key;
    KeyType type;
  };
  for (auto c : {Case{p256.get(), KeyType::kEcdsaP256}, Case{p384.get(), KeyType::kEcdsaP384},
                 Case{ed.get(), KeyType::kEd25519}, Case{rsa.get(), KeyType::kRsa3072}}) {
    INFO(to_string(c.type));
    auto expected = PublicKey::from_pem(sigil::test::pem_public(c.key), "pub").key_id();
    auto from_pkcs8 = import_private_key_pem(sigil::test::pem_pkcs8(c.key), "k.pem");
    CHECK(from_pkcs8.type() == c.type);
    CHECK(from_pkcs8.public_key().key_id() == expected);
    if (c.type != KeyType::kEd25519) {  // Ed25519 has no traditional form
      auto pem = sigil::test::pem_traditional(c.key);
      CHECK((pem.find("EC PRIVATE KEY") != std::string::npos ||
             pem.find("RSA PRIVATE KEY") != std::string::npos));
      CHECK(import_private_key_pem(pem, "k.pem").public_key().key_id() == expected);
    }
  }
  auto p521 = sigil::test::openssl_ec_key("P-521");
  auto k1 = sigil::test::openssl_ec_key("secp256k1");
  for (auto* k : {p521.get(), k1.get()}) {
    CHECK(code_of([&] { import_private_key_pem(sigil::test::pem_traditional(k), "u.pem"); }) ==
          ErrorCode::kUnsupported);
    CHECK(code_of([&] { import_private_key_pem(sigil::test::pem_pkcs8(k), "u.pem"); }) ==
          ErrorCode::kUnsupported);
  }
  CHECK_THAT(message_of([&] {
               import_private_key_pem(sigil::test::pem_traditional(p521.get()), "u.pem");
             }),
             Catch::StartsWith("u.pem: ") && Catch::Contains("P-521"));
  CHECK(code_of([&] {
          import_private_key_pem(sigil::test::pem_encrypted_pkcs8(p256.get()), "e");
        }) == ErrorCode::kUnsupported);
  CHECK(code_of([&] { import_private_key_pem(sigil::test::pem_public(p256.get()), "p"); }) ==
        ErrorCode::kInput);
  CHECK(code_of([&] { import_private_key_pem(read_text_file(kRefKey), "c"); }) ==
        ErrorCode::kInput);
  CHECK(code_of([] { import_private_key_pem("junk", "j"); }) == ErrorCode::kInput);
  auto garbled = sigil::test::pem_pkcs8(p256.get());
  garbled[40] = '#';
  CHECK(code_of([&] { import_private_key_pem(garbled, "g"); }) == ErrorCode::kInput);
  // A SEC1 label on PKCS#1 content.
  auto rsa_pem = sigil::test::pem_traditional(rsa.get());
  auto mislabelled = std::regex_replace(rsa_pem, std::regex("RSA PRIVATE KEY"), "EC PRIVATE KEY");
  CHECK(code_of([&] { import_private_key_pem(mislabelled, "m"); }) == ErrorCode::kInput);
}

TEST_CASE("key file loading: missing, oversized and wrong-kind files", "[crypto][key_file]") {
  sigil::test::TempDir dir;
  CHECK(code_of([&] { load_public_key((dir / "nope.pub").string()); }) == ErrorCode::kNotFound);
  sigil::test::write_text_file(dir / "big.pub", std::string(limits::kMaxKeyFileBytes + 1, 'A'));
  CHECK(code_of([&] { load_public_key((dir / "big.pub").string()); }) == ErrorCode::kLimit);
  CHECK_THAT(message_of([&] { load_public_key(kRefKey); }), Catch::StartsWith(kRefKey + ": "));
  CHECK(code_of([&] { load_public_key(kRefKey); }) == ErrorCode::kInput);
  CHECK(code_of([&] { load_private_key(kRefPub, ref_password); }) == ErrorCode::kInput);
}

TEST_CASE("the public key of any key file: the password is asked only when needed",
          "[crypto][key_file]") {
  int asked = 0;
  auto password = [&] {
    ++asked;
    return ref_password();
  };
  auto expected = load_public_key(kRefPub).key_id();
  CHECK(load_public_key_of_any(kRefPub, password).key_id() == expected);
  CHECK(asked == 0);
  CHECK(load_public_key_of_any(kRefKey, password).key_id() == expected);
  CHECK(asked == 1);
  sigil::test::TempDir dir;
  auto k = sigil::test::openssl_ec_key("P-384");
  sigil::test::write_text_file(dir / "plain.pem", sigil::test::pem_traditional(k.get()));
  CHECK(load_public_key_of_any((dir / "plain.pem").string(), password).type() ==
        KeyType::kEcdsaP384);
  CHECK(asked == 1);
  sigil::test::write_text_file(dir / "cert.pem",
                               "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
  CHECK(code_of([&] { load_public_key_of_any((dir / "cert.pem").string(), password); }) ==
        ErrorCode::kInput);
}

TEST_CASE("a private key loads only from a key file, and its password is asked only for one",
          "[crypto][key_file]") {
  int asked = 0;
  auto password = [&] {
    ++asked;
    return ref_password();
  };
  // A public key, or a private key that is not a key file: refused before any password prompt.
  CHECK(message_of([&] { load_private_key(kRefPub, password); }) ==
        kRefPub +
            ": unknown PEM type 'PUBLIC KEY' (expected 'ENCRYPTED COSIGN PRIVATE KEY' or "
            "'ENCRYPTED SIGSTORE PRIVATE KEY')");
  sigil::test::TempDir dir;
  auto k = sigil::test::openssl_ec_key("P-256");
  const auto plain = (dir / "plain.pem").string();
  sigil::test::write_text_file(plain, sigil::test::pem_traditional(k.get()));
  CHECK(message_of([&] { load_private_key(plain, password); }) ==
        plain +
            ": an unencrypted private key (PEM 'EC PRIVATE KEY'); turn it into a key file with "
            "`sigil key import`");
  CHECK(asked == 0);
  CHECK(load_private_key(kRefKey, password).public_key().key_id() ==
        load_public_key(kRefPub).key_id());
  CHECK(asked == 1);
}

TEST_CASE("key pairs are written 0600/0644 and never silently overwritten", "[crypto][key_file]") {
  sigil::test::TempDir dir;
  const auto& key = test_key(KeyType::kEd25519);
  int asked = 0;
  auto password = [&] {
    ++asked;
    return SecretBytes::from_string("pw");
  };
  auto files = write_key_pair(key, dir / "k", password, KdfProfile::kCosign, Overwrite::kNo);
  CHECK(files.private_key == dir / "k.key");
  CHECK(files.public_key == dir / "k.pub");
  struct stat st {};
  REQUIRE(::stat(files.private_key.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  REQUIRE(::stat(files.public_key.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0644);
  CHECK(load_public_key(files.public_key.string()).key_id() == key.public_key().key_id());
  auto before = read_text_file(files.private_key);
  CHECK(code_of([&] {
          write_key_pair(test_key(KeyType::kEcdsaP256), dir / "k", password, KdfProfile::kCosign,
                         Overwrite::kNo);
        }) == ErrorCode::kExists);
  CHECK(asked == 1);  // refused before asking
  CHECK(read_text_file(files.private_key) == before);
  // Only the .pub existing is enough to refuse.
  sigil::test::write_text_file(dir / "p.pub", "x");
  CHECK(code_of([&] {
          write_key_pair(key, dir / "p", password, KdfProfile::kCosign, Overwrite::kNo);
        }) == ErrorCode::kExists);
  CHECK_FALSE(std::filesystem::exists(dir / "p.key"));
  write_key_pair(test_key(KeyType::kEcdsaP256), dir / "k", password, KdfProfile::kStandard,
                 Overwrite::kYes);
  CHECK(read_text_file(files.private_key).rfind("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY", 0) ==
        0);
  CHECK(load_public_key(files.public_key.string()).key_id() ==
        test_key(KeyType::kEcdsaP256).public_key().key_id());
}

TEST_CASE("KDF profile names are spelled in one place", "[crypto][key_file]") {
  CHECK(to_string(KdfProfile::kCosign) == "cosign");
  CHECK(to_string(KdfProfile::kStandard) == "standard");
  CHECK(parse_kdf_profile("standard") == KdfProfile::kStandard);
  CHECK(code_of([] { parse_kdf_profile("fast"); }) == ErrorCode::kUsage);
}
