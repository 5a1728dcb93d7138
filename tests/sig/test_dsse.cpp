// DSSE envelopes: PAE bytes, signing and verification with trusted keys only, strict parsing.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "libtrust/core/encoding.h"
#include "libtrust/core/error.h"
#include "libtrust/core/limits.h"
#include "libtrust/sig/dsse.h"
#include "sig/sig_test_util.h"

using namespace trust;
using sig::DsseEnvelope;
using sigil::test::code_of;
using sigil::test::message_of;
using sigil::test::test_key;

namespace {

std::vector<PublicKey> trusted(const PrivateKey& k) {
  return {k.public_key()};
}

DsseEnvelope parse_text(const std::string& s) {
  return DsseEnvelope::parse(as_bytes(s), "env");
}

ErrorCode parse_code(const std::string& s) {
  return code_of([&] { (void)parse_text(s); });
}

}  // namespace

TEST_CASE("DSSE PAE matches the spec's known vector byte for byte", "[dsse]") {
  auto pae = sig::dsse_pae("http://example.com/HelloWorld", as_bytes("hello world"));
  CHECK(std::string(as_string_view(pae)) ==
        "DSSEv1 29 http://example.com/HelloWorld 11 hello world");
  // Lengths are byte counts in decimal; an empty body still has its length and separator.
  CHECK(std::string(as_string_view(sig::dsse_pae("t", {}))) == "DSSEv1 1 t 0 ");
  const std::string utf8 = "\xc3\xa9";  // é: two bytes
  CHECK(std::string(as_string_view(sig::dsse_pae(utf8, as_bytes("0123456789")))) ==
        "DSSEv1 2 " + utf8 + " 10 0123456789");
}

TEST_CASE("DSSE sign, serialise, parse and verify round trip for every signing key type",
          "[dsse]") {
  for (auto type :
       {KeyType::kEcdsaP256, KeyType::kEcdsaP384, KeyType::kEd25519, KeyType::kRsa3072}) {
    const auto& key = test_key(type);
    INFO(to_string(type));
    auto env = DsseEnvelope::sign("application/vnd.in-toto+json", as_bytes("{\"a\":1}"), key);
    auto parsed = parse_text(env.to_json());
    CHECK(parsed.payload_type() == "application/vnd.in-toto+json");
    REQUIRE(parsed.signature_count() == 1);
    CHECK(parsed.key_id_hints()[0] == key.public_key().key_id().str());
    auto keys = trusted(key);
    auto v = parsed.verify(keys);
    REQUIRE(v.has_value());
    CHECK(std::string(as_string_view(v->payload)) == "{\"a\":1}");
    CHECK(v->payload_type == "application/vnd.in-toto+json");
    REQUIRE(v->matches.size() == 1);
    CHECK(v->matches[0].key_id == key.public_key().key_id().str());
    CHECK(v->matches[0].signature_index == 0);
    CHECK(v->matches[0].key_index == 0);
    // The signature is over the PAE, not over the bare payload.
    auto j = nlohmann::json::parse(env.to_json());
    auto sig = base64_decode(j["signatures"][0]["sig"].get<std::string>(), "sig");
    CHECK(key.public_key().verify(
        sig::dsse_pae("application/vnd.in-toto+json", as_bytes("{\"a\":1}")), sig));
    CHECK_FALSE(key.public_key().verify(as_bytes("{\"a\":1}"), sig));
  }
}

TEST_CASE("DSSE envelope JSON has the spec's field names", "[dsse]") {
  const auto& key = test_key();
  auto env = DsseEnvelope::sign("text/plain", as_bytes("hello"), key);
  const auto text = env.to_json();
  CHECK(text.rfind("{\"payloadType\":\"text/plain\",\"payload\":\"aGVsbG8=\",\"signatures\":[{"
                   "\"keyid\":\"" +
                       key.public_key().key_id().str() + "\",\"sig\":\"",
                   0) == 0);
}

TEST_CASE("DSSE: a signature by an untrusted key does not verify", "[dsse]") {
  auto env = DsseEnvelope::sign("text/plain", as_bytes("hello"), test_key());
  auto other = trusted(test_key(KeyType::kEcdsaP256, 1));
  CHECK_FALSE(parse_text(env.to_json()).verify(other).has_value());
  std::vector<PublicKey> none;
  CHECK_FALSE(env.verify(none).has_value());
}

TEST_CASE("DSSE: a tampered payload or payload type does not verify", "[dsse]") {
  const auto& key = test_key();
  auto keys = trusted(key);
  auto j =
      nlohmann::json::parse(DsseEnvelope::sign("text/plain", as_bytes("hello"), key).to_json());
  auto payload = j;
  payload["payload"] = base64_encode(as_bytes("hellO"));
  CHECK_FALSE(parse_text(payload.dump()).verify(keys).has_value());
  auto type = j;
  type["payloadType"] = "text/plainx";
  CHECK_FALSE(parse_text(type.dump()).verify(keys).has_value());
  CHECK(parse_text(j.dump()).verify(keys).has_value());
}

TEST_CASE("DSSE: the keyid is a hint only: the trusted key decides", "[dsse]") {
  const auto& signer = test_key();
  const auto& other = test_key(KeyType::kEcdsaP256, 1);
  auto j = nlohmann::json::parse(DsseEnvelope::sign("text/plain", as_bytes("x"), signer).to_json());
  // Claim to be `other`: verification with `other` still fails, with the real signer succeeds.
  j["signatures"][0]["keyid"] = other.public_key().key_id().str();
  auto env = parse_text(j.dump());
  auto other_keys = trusted(other);
  CHECK_FALSE(env.verify(other_keys).has_value());
  auto signer_keys = trusted(signer);
  auto v = env.verify(signer_keys);
  REQUIRE(v.has_value());
  REQUIRE(v->matches.size() == 1);
  CHECK(v->matches[0].key_id == signer.public_key().key_id().str());
  // No keyid at all is fine too.
  j["signatures"][0].erase("keyid");
  CHECK(parse_text(j.dump()).verify(signer_keys).has_value());
}

TEST_CASE("DSSE: with several signatures the one by a trusted key counts", "[dsse]") {
  const auto& a = test_key();
  const auto& b = test_key(KeyType::kEd25519);
  auto ja = nlohmann::json::parse(DsseEnvelope::sign("t", as_bytes("p"), a).to_json());
  auto jb = nlohmann::json::parse(DsseEnvelope::sign("t", as_bytes("p"), b).to_json());
  ja["signatures"].push_back(jb["signatures"][0]);
  auto keys = trusted(b);
  auto v = parse_text(ja.dump()).verify(keys);
  REQUIRE(v.has_value());
  REQUIRE(v->matches.size() == 1);
  CHECK(v->matches[0].signature_index == 1);
}

TEST_CASE("DSSE: every trusted key that verified a signature is reported, not the first",
          "[dsse]") {
  const auto& a = test_key();
  const auto& b = test_key(KeyType::kEd25519);
  const auto& c = test_key(KeyType::kEcdsaP384);
  auto ja = nlohmann::json::parse(DsseEnvelope::sign("t", as_bytes("p"), a).to_json());
  auto jb = nlohmann::json::parse(DsseEnvelope::sign("t", as_bytes("p"), b).to_json());
  ja["signatures"].push_back(jb["signatures"][0]);
  // c signed nothing; a appears twice among the trusted keys.
  std::vector<PublicKey> keys{c.public_key(), b.public_key(), a.public_key(), a.public_key()};
  auto v = parse_text(ja.dump()).verify(keys);
  REQUIRE(v.has_value());
  REQUIRE(v->matches.size() == 3);
  CHECK(v->matches[0].signature_index == 0);
  CHECK(v->matches[0].key_index == 2);
  CHECK(v->matches[0].key_id == a.public_key().key_id().str());
  CHECK(v->matches[1].signature_index == 0);
  CHECK(v->matches[1].key_index == 3);
  CHECK(v->matches[2].signature_index == 1);
  CHECK(v->matches[2].key_index == 1);
  CHECK(v->matches[2].key_id == b.public_key().key_id().str());
}

TEST_CASE("DSSE parsing is strict: exact error codes for malformed envelopes", "[dsse]") {
  const std::string sig = base64_encode(as_bytes("sig"));
  auto env = [&](const std::string& fields) { return "{" + fields + "}"; };
  const std::string ok_sigs = "\"signatures\":[{\"keyid\":\"k\",\"sig\":\"" + sig + "\"}]";
  auto good = parse_text(env("\"payloadType\":\"t\",\"payload\":\"aGk=\"," + ok_sigs));
  CHECK(good.payload_type() == "t");
  CHECK(good.key_id_hints() == std::vector<std::string>{"k"});

  CHECK(parse_code("[]") == ErrorCode::kInput);
  CHECK(parse_code("not json") == ErrorCode::kInput);
  CHECK(parse_code(env("\"payload\":\"aGk=\"," + ok_sigs)) == ErrorCode::kInput);
  CHECK(parse_code(env("\"payloadType\":\"\",\"payload\":\"aGk=\"," + ok_sigs)) ==
        ErrorCode::kInput);
  CHECK(parse_code(env("\"payloadType\":\"t\"," + ok_sigs)) == ErrorCode::kInput);
  CHECK(parse_code(env("\"payloadType\":\"t\",\"payload\":\"aGk=\",\"signatures\":[]")) ==
        ErrorCode::kInput);
  CHECK(parse_code(env("\"payloadType\":\"t\",\"payload\":\"aGk=\",\"extra\":1," + ok_sigs)) ==
        ErrorCode::kInput);
  CHECK(parse_code(env("\"payloadType\":\"t\",\"payloadType\":\"u\",\"payload\":\"aGk=\"," +
                       ok_sigs)) == ErrorCode::kInput);
  // Strict standard base64: no URL-safe alphabet, no missing padding, no whitespace.
  CHECK(parse_code(env("\"payloadType\":\"t\",\"payload\":\"-_8=\"," + ok_sigs)) ==
        ErrorCode::kInput);
  CHECK(parse_code(env("\"payloadType\":\"t\",\"payload\":\"aGk\"," + ok_sigs)) ==
        ErrorCode::kInput);
  CHECK(parse_code(env("\"payloadType\":\"t\",\"payload\":\"aG k=\"," + ok_sigs)) ==
        ErrorCode::kInput);
  CHECK(parse_code(
            env("\"payloadType\":\"t\",\"payload\":\"aGk=\",\"signatures\":[{\"sig\":\"\"}]")) ==
        ErrorCode::kInput);
  CHECK(parse_code(env("\"payloadType\":\"t\",\"payload\":\"aGk=\",\"signatures\":[{\"keyid\":1,"
                       "\"sig\":\"" +
                       sig + "\"}]")) == ErrorCode::kInput);
  CHECK(parse_code(env("\"payloadType\":\"t\",\"payload\":\"aGk=\",\"signatures\":[{\"sig\":\"" +
                       sig + "\",\"cert\":\"x\"}]")) == ErrorCode::kInput);
  CHECK_THAT(
      message_of([&] {
        (void)parse_text(env("\"payloadType\":\"t\",\"payload\":\"aGk=\",\"x\":1," + ok_sigs));
      }),
      Catch::Contains("env") && Catch::Contains("'x'"));
}

TEST_CASE("DSSE limits: signatures at the limit parse, past it LimitError: size cap", "[dsse]") {
  const std::string one = "{\"sig\":\"" + base64_encode(as_bytes("s")) + "\"}";
  auto with = [&](std::size_t n) {
    std::string sigs;
    for (std::size_t i = 0; i < n; ++i) sigs += (i ? "," : "") + one;
    return "{\"payloadType\":\"t\",\"payload\":\"aGk=\",\"signatures\":[" + sigs + "]}";
  };
  CHECK(parse_text(with(limits::kMaxSignaturesPerImage)).signature_count() ==
        limits::kMaxSignaturesPerImage);
  CHECK(parse_code(with(limits::kMaxSignaturesPerImage + 1)) == ErrorCode::kLimit);
  std::string big(sig::kMaxDsseEnvelopeBytes + 1, ' ');
  CHECK(parse_code(big) == ErrorCode::kLimit);
}
