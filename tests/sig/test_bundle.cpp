// Sigstore bundles: the v0.3 JSON sigil writes, and the strict reader (one content, one material,
// keyless and messageSignature refused with a reason, caps).
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "libtrust/core/encoding.h"
#include "libtrust/core/error.h"
#include "libtrust/core/media_type.h"
#include "libtrust/sig/bundle.h"
#include "libtrust/sig/intoto.h"
#include "sig/sig_test_util.h"

using namespace trust;
using nlohmann::json;
using sig::Bundle;
using sigil::test::code_of;
using sigil::test::test_key;

namespace {

const Digest kImage =
    Digest::parse("sha256:2757703db410695547cef88bb4b2947d7b48ebcd7f11cf8cc21c7e06184b707d");

Bundle signed_bundle(const PrivateKey& key = test_key()) {
  auto statement = sig::cosign_sign_statement(kImage, {}).serialize();
  auto env = sig::DsseEnvelope::sign(media_type::kInTotoPayload, as_bytes(statement), key);
  return Bundle::for_dsse(std::move(env), key.public_key());
}

json bundle_json() {
  return json::parse(signed_bundle().to_json());
}

Bundle parse_json(const json& j) {
  return Bundle::parse(as_bytes(j.dump()), "bundle.json");
}
ErrorCode parse_code(const json& j) {
  return code_of([&] { (void)parse_json(j); });
}

}  // namespace

TEST_CASE("bundle v0.3 JSON: protobuf-specs member names, key hint, no log entries", "[bundle]") {
  const auto& key = test_key();
  auto j = bundle_json();
  CHECK(j["mediaType"] == "application/vnd.dev.sigstore.bundle.v0.3+json");
  CHECK(j["verificationMaterial"]["tlogEntries"] == json::array());
  // The hint is base64 of SHA-256 over the SPKI DER (sigstore-go's convention).
  auto hint = base64_decode(j["verificationMaterial"]["publicKey"]["hint"].get<std::string>(), "h");
  CHECK(hex_encode(hint) == Digest::of(key.public_key().spki_der()).hex());
  CHECK(j["verificationMaterial"].size() == 2);
  const auto& env = j["dsseEnvelope"];
  CHECK(env["payloadType"] == "application/vnd.in-toto+json");
  REQUIRE(env["signatures"].size() == 1);
  CHECK(env["signatures"][0]["keyid"] == key.public_key().key_id().str());
  CHECK(j.size() == 3);
  auto text = signed_bundle().to_json();
  CHECK(text.rfind("{\"mediaType\":\"application/vnd.dev.sigstore.bundle.v0.3+json\","
                   "\"verificationMaterial\":{\"publicKey\":{\"hint\":\"",
                   0) == 0);
}

TEST_CASE("bundle round trip: parsed back, same bytes, the envelope verifies with the key",
          "[bundle]") {
  auto b = signed_bundle();
  auto text = b.to_json();
  auto parsed = Bundle::parse(as_bytes(text), "bundle.json");
  CHECK(parsed.to_json() == text);
  CHECK(parsed.media_type() == media_type::kSigstoreBundleV03);
  CHECK(parsed.content() == sig::BundleContent::kDsseEnvelope);
  CHECK(parsed.material() == sig::BundleMaterial::kPublicKey);
  CHECK(parsed.key_hint() == sig::public_key_hint(test_key().public_key()));
  CHECK(parsed.tlog_entry_count() == 0);
  CHECK_FALSE(parsed.unsupported_reason().has_value());
  REQUIRE(parsed.dsse_envelope().has_value());
  std::vector<PublicKey> keys{test_key().public_key()};
  auto v = parsed.dsse_envelope()->verify(keys);
  REQUIRE(v.has_value());
  CHECK(sig::Statement::parse(v->payload, "s").has_subject(kImage));
}

TEST_CASE("keyless bundles parse but are refused: keyless verification is not supported yet",
          "[bundle]") {
  auto j = bundle_json();
  j["verificationMaterial"].erase("publicKey");
  j["verificationMaterial"]["certificate"]["rawBytes"] = base64_encode(as_bytes("DER"));
  auto cert = parse_json(j);
  CHECK(cert.material() == sig::BundleMaterial::kCertificate);
  CHECK(cert.unsupported_reason() == std::string(sig::kKeylessUnsupportedReason));
  CHECK(cert.key_hint().empty());

  j["verificationMaterial"].erase("certificate");
  j["mediaType"] = sig::kBundleMediaTypeV02;
  j["verificationMaterial"]["x509CertificateChain"]["certificates"] =
      json::array({{{"rawBytes", base64_encode(as_bytes("DER"))}}});
  auto chain = parse_json(j);
  CHECK(chain.material() == sig::BundleMaterial::kX509CertificateChain);
  CHECK(chain.unsupported_reason() == std::string(sig::kKeylessUnsupportedReason));
}

TEST_CASE("messageSignature bundles parse but are unsupported for images", "[bundle]") {
  auto j = bundle_json();
  j.erase("dsseEnvelope");
  j["messageSignature"] = {
      {"messageDigest", {{"algorithm", "SHA2_256"}, {"digest", base64_encode(as_bytes("d"))}}},
      {"signature", base64_encode(as_bytes("s"))}};
  auto b = parse_json(j);
  CHECK(b.content() == sig::BundleContent::kMessageSignature);
  CHECK_FALSE(b.dsse_envelope().has_value());
  REQUIRE(b.unsupported_reason().has_value());
  CHECK_THAT(*b.unsupported_reason(), Catch::Contains("messageSignature"));
}

TEST_CASE("bundle parsing is strict: exact error codes for malformed bundles", "[bundle]") {
  auto good = bundle_json();
  auto parsed = parse_json(good);
  CHECK(parsed.content() == sig::BundleContent::kDsseEnvelope);
  CHECK(parsed.material() == sig::BundleMaterial::kPublicKey);
  REQUIRE(parsed.dsse_envelope().has_value());
  CHECK(parsed.dsse_envelope()->signature_count() == 1);
  auto with = [&](auto&& change) {
    auto j = good;
    change(j);
    return parse_code(j);
  };
  CHECK(parse_code(json::array()) == ErrorCode::kInput);
  CHECK(code_of([] { (void)Bundle::parse(as_bytes("{"), "b"); }) == ErrorCode::kInput);
  // Content: exactly one of dsseEnvelope / messageSignature.
  CHECK(with([](json& j) { j.erase("dsseEnvelope"); }) == ErrorCode::kInput);
  CHECK(with([](json& j) {
          j["messageSignature"] = {{"signature", base64_encode(as_bytes("s"))}};
        }) == ErrorCode::kInput);
  // Material: exactly one of publicKey / certificate / x509CertificateChain.
  CHECK(with([](json& j) { j["verificationMaterial"].erase("publicKey"); }) == ErrorCode::kInput);
  CHECK(with([](json& j) {
          j["verificationMaterial"]["certificate"]["rawBytes"] = base64_encode(as_bytes("c"));
        }) == ErrorCode::kInput);
  CHECK(with([](json& j) { j.erase("verificationMaterial"); }) == ErrorCode::kInput);
  // Media types.
  CHECK(with([](json& j) { j["mediaType"] = "application/vnd.dev.sigstore.bundle.v0.4+json"; }) ==
        ErrorCode::kUnsupported);
  CHECK(with([](json& j) { j.erase("mediaType"); }) == ErrorCode::kInput);
  // Unknown fields at every level sigil reads.
  CHECK(with([](json& j) { j["extra"] = 1; }) == ErrorCode::kInput);
  CHECK(with([](json& j) { j["verificationMaterial"]["extra"] = 1; }) == ErrorCode::kInput);
  CHECK(with([](json& j) { j["verificationMaterial"]["publicKey"]["rawBytes"] = "x"; }) ==
        ErrorCode::kInput);
  CHECK(with([](json& j) { j["dsseEnvelope"]["extra"] = 1; }) == ErrorCode::kInput);
  // Strict base64; exactly one DSSE signature in a bundle.
  CHECK(with([](json& j) { j["dsseEnvelope"]["payload"] = "not base64!"; }) == ErrorCode::kInput);
  CHECK(with([](json& j) { j["dsseEnvelope"]["signatures"][0]["sig"] = "a_b-"; }) ==
        ErrorCode::kInput);
  CHECK(with([](json& j) {
          j["dsseEnvelope"]["signatures"].push_back(j["dsseEnvelope"]["signatures"][0]);
        }) == ErrorCode::kInput);
  CHECK(with([](json& j) { j["dsseEnvelope"]["signatures"] = json::array(); }) ==
        ErrorCode::kInput);
  CHECK(with([](json& j) { j["verificationMaterial"]["tlogEntries"] = json::object(); }) ==
        ErrorCode::kInput);
}

TEST_CASE("bundle limits: size cap and log entries at and past the bound", "[bundle][limits]") {
  auto j = bundle_json();
  j["verificationMaterial"]["tlogEntries"] = json::array();
  for (std::size_t i = 0; i < sig::kMaxBundleTlogEntries; ++i) {
    j["verificationMaterial"]["tlogEntries"].push_back(json::object());
  }
  CHECK(parse_json(j).tlog_entry_count() == sig::kMaxBundleTlogEntries);
  j["verificationMaterial"]["tlogEntries"].push_back(json::object());
  CHECK(parse_code(j) == ErrorCode::kLimit);
  std::string big(sig::kMaxBundleBytes + 1, ' ');
  CHECK(code_of([&] { (void)Bundle::parse(as_bytes(big), "b"); }) == ErrorCode::kLimit);
}
