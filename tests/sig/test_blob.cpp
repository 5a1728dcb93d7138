// Release files: read and hashed as they stream, signed detached or in a messageSignature bundle,
// attested in a DSSE in-toto statement, and verified only over the blob's own hash with trusted
// keys (sig/blob.h's trust rule). cosign's and sigstore-go's real bytes verify.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "libtrust/core/encoding.h"
#include "libtrust/core/error.h"
#include "libtrust/core/file.h"
#include "libtrust/core/limits.h"
#include "libtrust/core/media_type.h"
#include "libtrust/crypto/key_file.h"
#include "libtrust/sig/blob.h"
#include "libtrust/sig/predicate_type.h"
#include "sig/sig_test_util.h"
#include "support/process.h"

using namespace trust;
using nlohmann::json;
using sigil::test::TempDir;
using sigil::test::test_key;
using sigil::test::thrown_by;

namespace {

const std::string kData = std::string(SIGIL_TEST_DATA) + "/cosign-blobs";

std::string write_blob(const TempDir& dir, const std::string& text, const char* name = "blob") {
  auto p = (dir / name).string();
  sigil::test::write_text_file(p, text);
  return p;
}

sig::Blob read(const std::string& path, KeyType type = KeyType::kEcdsaP256) {
  return sig::read_blob(
      path, sig::needs_whole_blob(type) ? sig::BlobRead::kWhole : sig::BlobRead::kDigestOnly);
}

PublicKey pub_of(const std::string& file) {
  return PublicKey::from_pem(as_string_view(read_file(file, 1 << 16)), file);
}

sig::BlobSignature detached_of(const Bytes& signature) {
  return sig::BlobSignature::detached(as_bytes(base64_encode(signature)), "sig");
}

}  // namespace

TEST_CASE("a blob is hashed as it streams, and its bytes are kept only when read whole", "[blob]") {
  TempDir dir;
  const auto path = write_blob(dir, "release 1.0\n");
  auto digest_only = sig::read_blob(path, sig::BlobRead::kDigestOnly);
  CHECK(digest_only.name == path);
  CHECK(digest_only.size == 12);
  CHECK(digest_only.sha256 == Digest::of(as_bytes("release 1.0\n")));
  CHECK_FALSE(digest_only.content.has_value());
  auto whole = sig::read_blob(path, sig::BlobRead::kWhole);
  CHECK(whole.sha256 == digest_only.sha256);
  REQUIRE(whole.content.has_value());
  CHECK(as_string_view(*whole.content) == "release 1.0\n");

  auto missing =
      thrown_by([&] { (void)sig::read_blob((dir / "nope").string(), sig::BlobRead::kWhole); });
  CHECK(missing.code == ErrorCode::kNotFound);
  CHECK(missing.message == (dir / "nope").string() + ": no such file");
  auto directory =
      thrown_by([&] { (void)sig::read_blob(dir.path().string(), sig::BlobRead::kDigestOnly); });
  CHECK(directory.code == ErrorCode::kIo);
  CHECK(directory.message == dir.path().string() + ": a directory (expected a file, a pipe or -)");
}

TEST_CASE("a blob for an Ed25519 key is read whole up to its limit, and refused past it saying why",
          "[blob][limits]") {
  TempDir dir;
  const auto path = (dir / "big").string();
  {
    // Sparse: one byte past the limit costs no disk.
    sigil::test::write_text_file(path, "");
    std::filesystem::resize_file(path, limits::kMaxEd25519BlobBytes + 1);
  }
  auto t = thrown_by([&] { (void)sig::read_blob(path, sig::BlobRead::kWhole); });
  CHECK(t.code == ErrorCode::kLimit);
  CHECK(t.message == path + ": " + std::to_string(limits::kMaxEd25519BlobBytes + 1) +
                         " bytes (or more) is over the limit of " +
                         std::to_string(limits::kMaxEd25519BlobBytes) +
                         ": an Ed25519 key signs the whole file, not a digest of it, so the file "
                         "is read into memory; use an ECDSA or RSA key for larger files");
  // At the limit it is read; and hashed as it streams, the same file has no limit at all.
  std::filesystem::resize_file(path, limits::kMaxEd25519BlobBytes);
  CHECK(sig::read_blob(path, sig::BlobRead::kWhole).content->size() ==
        limits::kMaxEd25519BlobBytes);
  std::filesystem::resize_file(path, limits::kMaxEd25519BlobBytes + 1);
  CHECK(sig::read_blob(path, sig::BlobRead::kDigestOnly).size == limits::kMaxEd25519BlobBytes + 1);
}

TEST_CASE("sign_blob then verify_blob, detached and in a bundle, for every signing key type",
          "[blob]") {
  TempDir dir;
  const auto path = write_blob(dir, "release 1.0\n");
  const auto other_path = write_blob(dir, "release 1.1\n", "other");
  for (auto type : sigil::test::kSigningKeyTypes) {
    INFO(to_string(type));
    const auto& key = test_key(type);
    const std::vector<PublicKey> trusted{key.public_key()};
    const auto blob = read(path, type);
    const auto signature = sig::sign_blob(blob, key);

    auto ok = sig::verify_blob(blob, detached_of(signature), trusted);
    CHECK(ok.verified);
    CHECK(ok.key_id == key.public_key().key_id().str());
    CHECK(ok.unchecked.empty());

    auto bundle = sig::Bundle::for_message_signature(blob.sha256, signature, key.public_key());
    auto from_bundle = sig::BlobSignature::from_bundle(as_bytes(bundle.to_json()), "b.json");
    CHECK(sig::verify_blob(blob, from_bundle, trusted).verified);

    // Another file: the detached signature fails over it, the bundle names its digest.
    const auto other = read(other_path, type);
    auto tampered = sig::verify_blob(other, detached_of(signature), trusted);
    CHECK_FALSE(tampered.verified);
    CHECK(tampered.reason == "the signature does not verify over " + other_path + " (" +
                                 other.sha256.str() + ") with the 1 trusted key");
    auto wrong_file = sig::verify_blob(other, from_bundle, trusted);
    CHECK_FALSE(wrong_file.verified);
    CHECK(wrong_file.reason == "the bundle is for another file: its messageDigest is " +
                                   blob.sha256.str() + ", " + other_path + " is " +
                                   other.sha256.str());

    // Another key.
    const std::vector<PublicKey> stranger{test_key(type, 1).public_key()};
    CHECK_FALSE(sig::verify_blob(blob, detached_of(signature), stranger).verified);
  }
}

TEST_CASE("the bundle sigil writes for a blob is protobuf-specs v0.3 messageSignature JSON",
          "[blob][bundle]") {
  const auto& key = test_key();
  const auto digest = Digest::of(as_bytes("release 1.0\n"));
  const Bytes signature{1, 2, 3};
  auto j = json::parse(
      sig::Bundle::for_message_signature(digest, signature, key.public_key()).to_json());
  const json expected = {
      {"mediaType", "application/vnd.dev.sigstore.bundle.v0.3+json"},
      {"verificationMaterial",
       {{"publicKey", {{"hint", sig::public_key_hint(key.public_key())}}},
        {"tlogEntries", json::array()}}},
      {"messageSignature",
       {{"messageDigest", {{"algorithm", "SHA2_256"}, {"digest", base64_encode(digest.raw())}}},
        {"signature", "AQID"}}}};
  CHECK(j == expected);
  auto back = sig::Bundle::parse(as_bytes(j.dump()), "b.json");
  REQUIRE(back.message_signature());
  CHECK(*back.message_signature()->digest_algorithm == "SHA2_256");
  CHECK(back.message_signature()->digest == digest.raw());
  CHECK(back.message_signature()->signature == signature);
  auto t = thrown_by([&] {
    (void)sig::Bundle::for_message_signature(Digest::of({}, DigestAlgorithm::kSha512), signature,
                                             key.public_key());
  });
  CHECK(t.code == ErrorCode::kUsage);
}

TEST_CASE("a bundle's messageDigest must be SHA2_256 of this blob before its signature counts",
          "[blob][bundle]") {
  TempDir dir;
  const auto& key = test_key();
  const auto blob = read(write_blob(dir, "release 1.0\n"));
  auto j = json::parse(
      sig::Bundle::for_message_signature(blob.sha256, sig::sign_blob(blob, key), key.public_key())
          .to_json());
  const std::vector<PublicKey> trusted{key.public_key()};
  auto verify_json = [&](const json& b) {
    return sig::verify_blob(blob, sig::BlobSignature::from_bundle(as_bytes(b.dump()), "b.json"),
                            trusted);
  };
  auto other_alg = j;
  other_alg["messageSignature"]["messageDigest"]["algorithm"] = "SHA2_512";
  auto v = verify_json(other_alg);
  CHECK_FALSE(v.verified);
  CHECK(v.reason ==
        "the bundle's messageDigest algorithm is SHA2_512, not SHA2_256 (the one sigil checks)");
  auto short_digest = j;
  short_digest["messageSignature"]["messageDigest"]["digest"] = base64_encode(to_bytes("abc"));
  v = verify_json(short_digest);
  CHECK_FALSE(v.verified);
  CHECK(v.reason == "the bundle's SHA2_256 messageDigest has 3 bytes, not 32");
  // Without a messageDigest the signature itself binds the blob.
  auto no_digest = j;
  no_digest["messageSignature"].erase("messageDigest");
  CHECK(verify_json(no_digest).verified);

  // A DSSE bundle is an attestation, a keyless one unsupported: both refused by name.
  auto env = sig::DsseEnvelope::sign(media_type::kInTotoPayload, as_bytes("{}"), key);
  auto dsse = sig::Bundle::for_dsse(env, key.public_key()).to_json();
  auto t = thrown_by([&] { (void)sig::BlobSignature::from_bundle(as_bytes(dsse), "b.json"); });
  CHECK(t.code == ErrorCode::kInput);
  CHECK(t.message ==
        "b.json: the bundle holds a DSSE envelope (an attestation: use verify-blob-attestation), "
        "not a messageSignature");
  auto keyless = j;
  keyless["verificationMaterial"].erase("publicKey");
  keyless["verificationMaterial"]["certificate"] = {{"rawBytes", "AQID"}};
  auto u =
      thrown_by([&] { (void)sig::BlobSignature::from_bundle(as_bytes(keyless.dump()), "b.json"); });
  CHECK(u.code == ErrorCode::kUnsupported);
  CHECK(u.message == "b.json: " + std::string(sig::kKeylessUnsupportedReason));
}

TEST_CASE("a detached signature file is base64, and anything else is refused naming the file",
          "[blob]") {
  CHECK(sig::BlobSignature::detached(as_bytes("AQID\n"), "s").signature() == Bytes{1, 2, 3});
  auto empty = thrown_by([] { (void)sig::BlobSignature::detached(as_bytes(" \n"), "blob.sig"); });
  CHECK(empty.code == ErrorCode::kInput);
  CHECK(empty.message == "blob.sig: empty signature file");
  auto garbage =
      thrown_by([] { (void)sig::BlobSignature::detached(as_bytes("not base64!"), "blob.sig"); });
  CHECK(garbage.code == ErrorCode::kInput);
  CHECK_THAT(garbage.message, Catch::StartsWith("blob.sig: "));
}

TEST_CASE("cosign's sign-blob signature and sigstore-go's messageSignature bundle verify",
          "[blob][interop]") {
  const auto dir = kData + "/sign-blob-trudeplo";
  const std::vector<PublicKey> trusted{pub_of(dir + "/cosign2.pub")};
  const auto blob = read(dir + "/TestAgent2.txt");
  CHECK(blob.sha256.str() ==
        "sha256:a58b982e8a2c6ef813ffda1abafd498b0e94a684371508aad7adb5a6c4bae883");
  auto sig = sig::BlobSignature::detached(read_file(dir + "/blob.sig", 4096), "blob.sig");
  CHECK(sig::verify_blob(blob, sig, trusted).verified);
  // The attestation test vector's key is another key: refused.
  const std::vector<PublicKey> other{pub_of(kData + "/attest-blob-cosign-testvector/cosign.pub")};
  CHECK_FALSE(sig::verify_blob(blob, sig, other).verified);

  const auto b = kData + "/bundle-v03-msgsig-publickey-tsa";
  const std::vector<PublicKey> tsa_key{pub_of(b + "/public-key-validity.pem")};
  auto bundle = sig::BlobSignature::from_bundle(
      read_file(b + "/public-key-validity.sigstore.json", 1 << 16), "bundle");
  auto v = sig::verify_blob(read(b + "/artifact.txt"), bundle, tsa_key);
  CHECK(v.verified);
  CHECK(v.unchecked ==
        std::vector<std::string>{"timestamp verification data (not checked: sigil has no timestamp "
                                 "verification yet; the key is what is trusted)"});
  CHECK_FALSE(sig::verify_blob(blob, bundle, tsa_key).verified);
}

TEST_CASE("cosign's attest-blob envelope verifies as slsaprovenance for its blob only",
          "[blob][attest][interop]") {
  const auto dir = kData + "/attest-blob-cosign-testvector";
  const std::vector<PublicKey> trusted{pub_of(dir + "/cosign.pub")};
  const auto blob = read(dir + "/blob");
  for (const char* file : {"/envelope.b64", "/envelope.json"}) {
    INFO(file);
    auto env = sig::attestation_from_envelope_file(read_file(dir + file, 1 << 16), file);
    auto ok = sig::verify_blob_attestation(blob, env, "slsaprovenance", trusted, file);
    CHECK(ok.verified);
    REQUIRE(ok.statement);
    CHECK(ok.statement->predicate_type == "https://slsa.dev/provenance/v0.2");
    CHECK(sig::verify_blob_attestation(blob, env, "slsaprovenance02", trusted, file).verified);

    auto custom = sig::verify_blob_attestation(blob, env, "custom", trusted, file);
    CHECK_FALSE(custom.verified);
    CHECK_FALSE(custom.statement);
    CHECK(custom.reason ==
          "the statement's predicateType is 'https://slsa.dev/provenance/v0.2', not "
          "https://cosign.sigstore.dev/attestation/v1 (--type custom)");
    auto v1 = sig::verify_blob_attestation(blob, env, "slsaprovenance1", trusted, file);
    CHECK_FALSE(v1.verified);

    auto other = sig::verify_blob_attestation(read(kData + "/sign-blob-trudeplo/TestAgent2.txt"),
                                              env, "slsaprovenance", trusted, file);
    CHECK_FALSE(other.verified);
    CHECK_THAT(other.reason, Catch::StartsWith("the statement is about another file: no subject"));

    const std::vector<PublicKey> stranger{test_key().public_key()};
    auto wrong_key = sig::verify_blob_attestation(blob, env, "slsaprovenance", stranger, file);
    CHECK_FALSE(wrong_key.verified);
    CHECK(wrong_key.reason == "no signature of the envelope verifies with the 1 trusted key");
  }
}

TEST_CASE("blob_statement and its envelope round trip, and a bad predicate is refused by name",
          "[blob][attest]") {
  TempDir dir;
  const auto& key = test_key(KeyType::kEd25519);
  const auto blob = read(write_blob(dir, "release 1.0\n"));
  auto st = sig::blob_statement(blob, "app.tar.gz", sig::predicate_type_uri("slsaprovenance"),
                                as_bytes(R"({"buildDefinition":{"buildType":"x"}})"), "p.json");
  CHECK(
      st.serialize() ==
      R"({"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"app.tar.gz","digest":{"sha256":")" +
          blob.sha256.hex() +
          R"("},"annotations":{}}],"predicateType":"https://slsa.dev/provenance/v1","predicate":{"buildDefinition":{"buildType":"x"}}})");
  auto env = sig::DsseEnvelope::sign(media_type::kInTotoPayload, as_bytes(st.serialize()), key);
  const std::vector<PublicKey> trusted{key.public_key()};
  CHECK(sig::verify_blob_attestation(blob, env, "slsaprovenance", trusted, "e").verified);
  CHECK(sig::verify_blob_attestation(blob, env, "https://slsa.dev/provenance/v1", trusted, "e")
            .verified);
  std::vector<std::string> unchecked{"stale"};
  auto from_bundle = sig::attestation_from_bundle(
      as_bytes(sig::Bundle::for_dsse(env, key.public_key()).to_json()), "b", &unchecked);
  CHECK(unchecked.empty());
  CHECK(sig::verify_blob_attestation(blob, from_bundle, "slsaprovenance", trusted, "b").verified);

  // Another payloadType never counts, even validly signed.
  auto not_intoto = sig::DsseEnvelope::sign("application/json", as_bytes(st.serialize()), key);
  auto v = sig::verify_blob_attestation(blob, not_intoto, "slsaprovenance", trusted, "e");
  CHECK_FALSE(v.verified);
  CHECK(v.reason ==
        "the envelope's payloadType is 'application/json', not "
        "application/vnd.in-toto+json");
  // A signed payload that is no statement: an input error naming the file.
  auto junk = sig::DsseEnvelope::sign(media_type::kInTotoPayload, as_bytes("[]"), key);
  auto t = thrown_by(
      [&] { (void)sig::verify_blob_attestation(blob, junk, "custom", trusted, "att.json"); });
  CHECK(t.code == ErrorCode::kInput);
  CHECK_THAT(t.message, Catch::StartsWith("att.json: the signed statement"));

  auto not_object = thrown_by([&] {
    (void)sig::blob_statement(blob, "a", "https://x.example/p", as_bytes("[1]"), "p.json");
  });
  CHECK(not_object.code == ErrorCode::kInput);
  CHECK(not_object.message == "p.json: the predicate is not a JSON object");
  auto duplicate = thrown_by([&] {
    (void)sig::blob_statement(blob, "a", "https://x.example/p", as_bytes(R"({"a":1,"a":2})"),
                              "p.json");
  });
  CHECK(duplicate.code == ErrorCode::kInput);
  CHECK_THAT(duplicate.message, Catch::StartsWith("p.json"));
}

TEST_CASE("predicate types: cosign's short names, absolute URIs, and nothing else",
          "[blob][attest]") {
  CHECK(sig::predicate_type_uri("slsaprovenance") == "https://slsa.dev/provenance/v1");
  CHECK(sig::predicate_type_uri("slsaprovenance02") == "https://slsa.dev/provenance/v0.2");
  CHECK(sig::predicate_type_uri("spdxjson") == "https://spdx.dev/Document");
  CHECK(sig::predicate_type_uri("cyclonedx") == "https://cyclonedx.org/bom");
  CHECK(sig::predicate_type_uri("vuln") == "https://cosign.sigstore.dev/attestation/vuln/v1");
  CHECK(sig::predicate_type_uri("openvex") == "https://openvex.dev/ns");
  CHECK(sig::predicate_type_uri("custom") == "https://cosign.sigstore.dev/attestation/v1");
  CHECK(sig::predicate_type_uri("urn:example:thing") == "urn:example:thing");
  CHECK(sig::accepted_predicate_types("slsaprovenance") ==
        std::vector<std::string>{"https://slsa.dev/provenance/v1",
                                 "https://slsa.dev/provenance/v0.2"});
  CHECK_FALSE(sig::predicate_type_matches("spdxjson", "https://cyclonedx.org/bom"));
  for (const char* bad : {"sbom", "", "relative/path", "https://a b", ":x"}) {
    INFO(bad);
    auto t = thrown_by([&] { (void)sig::predicate_type_uri(bad); });
    CHECK(t.code == ErrorCode::kUsage);
    CHECK_THAT(t.message, Catch::Contains("(expected one of: slsaprovenance, slsaprovenance02, "
                                          "slsaprovenance1, link, spdx, spdxjson, cyclonedx, "
                                          "vuln, openvex, custom, or an absolute URI)"));
  }
}

TEST_CASE(
    "cosign's own blob bundle file is read: its signature counts, its key and Rekor bundle "
    "are reported and never used",
    "[blob][bundle]") {
  TempDir dir;
  const auto& key = test_key();
  const auto blob = read(write_blob(dir, "release 1.0\n"));
  const auto signature = sig::sign_blob(blob, key);
  // The shape cosign sign-blob --key --bundle writes (LocalSignedPayload): the signer's public key
  // PEM, base64, in "cert"; the Rekor entry in "rekorBundle".
  const json legacy = {
      {"base64Signature", base64_encode(signature)},
      {"cert", base64_encode(to_bytes(key.public_key().to_pem()))},
      {"rekorBundle", {{"SignedEntryTimestamp", "AQID"}, {"Payload", json::object()}}}};
  auto s = sig::BlobSignature::from_bundle(as_bytes(legacy.dump()), "cosign.bundle");
  const std::vector<PublicKey> trusted{key.public_key()};
  auto v = sig::verify_blob(blob, s, trusted);
  CHECK(v.verified);
  CHECK(v.unchecked ==
        std::vector<std::string>{
            "the key or certificate in the cosign bundle (not used: only the --key keys are "
            "trusted)",
            "a Rekor bundle (not checked: sigil has no Rekor verification yet; the key is what is "
            "trusted)"});
  // The key inside it is not trusted: another trusted key fails.
  const std::vector<PublicKey> stranger{test_key(KeyType::kEcdsaP256, 1).public_key()};
  CHECK_FALSE(sig::verify_blob(blob, s, stranger).verified);
  auto extra = legacy;
  extra["other"] = 1;
  auto t = thrown_by(
      [&] { (void)sig::BlobSignature::from_bundle(as_bytes(extra.dump()), "cosign.bundle"); });
  CHECK(t.code == ErrorCode::kInput);
  CHECK_THAT(t.message, Catch::StartsWith("cosign.bundle"));
  CHECK_THAT(t.message, Catch::Contains("other"));
}

TEST_CASE("a predicate is read up to limits::kMaxPredicateBytes and refused past it",
          "[blob][attest][limits]") {
  TempDir dir;
  const auto blob = read(write_blob(dir, "release 1.0\n"));
  // {"a":"xxx…"} of exactly the limit, then one byte more.
  const std::string head = R"({"a":")", tail = R"("})";
  std::string at(limits::kMaxPredicateBytes - head.size() - tail.size(), 'x');
  at = head + at + tail;
  REQUIRE(at.size() == limits::kMaxPredicateBytes);
  auto st = sig::blob_statement(blob, "a", "https://x.example/p", as_bytes(at), "p.json");
  CHECK(st.predicate_json.size() == limits::kMaxPredicateBytes);
  const std::string past = head + "x" + at.substr(head.size());
  auto t = thrown_by([&] {
    (void)sig::blob_statement(blob, "a", "https://x.example/p", as_bytes(past), "p.json");
  });
  CHECK(t.code == ErrorCode::kLimit);
  CHECK_THAT(t.message, Catch::StartsWith("p.json"));
}
