// Verifying attestations on images: cosign's .att layers and bundle referrers, judged by the
// attestation rules (verifier.h) and decided for a required type (decision.h), through
// check::verify_attestations over OCI layouts; and every bad input of issue 9 that is about
// verification, each with the one line that explains it.
#include <catch2/catch.hpp>

#include <filesystem>

#include "att_test_util.h"
#include "libtrust/check/download.h"
#include "libtrust/check/report.h"
#include "libtrust/check/verify_attestations.h"
#include "libtrust/check/verify_image.h"
#include "libtrust/core/error.h"
#include "libtrust/core/file.h"
#include "libtrust/core/limits.h"
#include "libtrust/crypto/key_file.h"
#include "libtrust/oci/layout.h"
#include "libtrust/sig/attachments.h"
#include "libtrust/sig/collect.h"
#include "sig/sig_test_util.h"
#include "support/layout_builder.h"
#include "support/process.h"
#include "two_images.h"

using namespace trust;
using sigil::test::code_of;
using sigil::test::message_of;
using sigil::test::test_key;
using trust::test::att_layer;
using trust::test::AttLayer;
using trust::test::envelope_json;
using trust::test::put_attestations;
using trust::test::statement_for;

namespace {

const std::string kData = std::string(SIGIL_TEST_DATA) + "/cosign-attestations";
const std::string kSlsa = "https://slsa.dev/provenance/v1";
const std::string kSpdx = "https://spdx.dev/Document";

struct Fixture : trust::verify::test::TwoImages {
  check::AttestationVerification verify(const std::string& type, const std::string& tag = "a",
                                        const PrivateKey& key = test_key()) {
    verify::Verifier v(verify::fixed_keys({key.public_key()}));
    return check::verify_attestations(*store, ref(tag), v,
                                      {.type = type, .conditions = verify::PredicateConditions()});
  }
};

// The one reason line of the only attestation considered.
std::string only_reason(const check::AttestationVerification& v) {
  REQUIRE(v.considered.size() == 1);
  return v.considered[0].reason;
}

std::string slsa_predicate() {
  return R"({"buildDefinition":{"buildType":"https://example.com/build"},"runDetails":{"builder":{"id":"https://github.com/org/builder"}}})";
}

}  // namespace

TEST_CASE("a SLSA attestation in a cosign .att layer verifies for --type slsaprovenance",
          "[attestation][verify]") {
  Fixture f;
  put_attestations(*f.store, f.a.digest,
                   {att_layer(statement_for(f.a.digest, kSlsa, slsa_predicate()), test_key())});
  auto v = f.verify("slsaprovenance");
  CHECK(v.verified());
  CHECK(v.attestations_found);
  REQUIRE(v.verdicts.size() == 1);
  const auto& e = v.verdicts[0];
  const auto key = test_key().public_key().key_id().str();
  CHECK(e.kind == sig::EntityKind::kDsseAttestation);
  CHECK(e.origin == "cosign .att layer 0");
  CHECK(e.reason == "valid attestation of type '" + kSlsa + "' by trusted key " + key);
  CHECK(v.considered[0].counts);
  CHECK(v.considered[0].reason == "type '" + kSlsa + "', key " + key);
  CHECK(v.decision.counted == std::vector<std::size_t>{0});
  CHECK(v.decision.summary == "verified: 1 of 1 attestation(s) for " + f.a.digest.str() +
                                  " count as slsaprovenance (key " + key + ")");
  // --output json: the counted statement, compact, one line.
  auto lines = check::attestation_report_json_lines(v);
  REQUIRE(lines.size() == 1);
  CHECK(lines[0] == statement_for(f.a.digest, kSlsa, slsa_predicate()).serialize());
  auto text = check::attestation_report_lines(f.ref("a"), f.store->describe(), v);
  REQUIRE(text.size() == 3);
  CHECK(text[1] == "  cosign .att layer 0 (claimed type " + kSlsa +
                       ", unverified): COUNTS: type '" + kSlsa + "', key " + key);
  CHECK(text[2] == "VERIFIED: " + v.decision.summary);
}

TEST_CASE("asking for spdxjson when only SLSA provenance exists does not verify, and says why",
          "[attestation][verify]") {
  Fixture f;
  put_attestations(*f.store, f.a.digest,
                   {att_layer(statement_for(f.a.digest, kSlsa, slsa_predicate()), test_key())});
  auto v = f.verify("spdxjson");
  CHECK_FALSE(v.verified());
  CHECK(only_reason(v) == "of type '" + kSlsa + "', not spdxjson (" + kSpdx + ")");
  CHECK(v.decision.summary ==
        "not verified: of type '" + kSlsa + "', not spdxjson (" + kSpdx + ")");
  CHECK(check::attestation_report_json_lines(v).empty());
  // What was not wanted is not kept.
  CHECK_FALSE(v.verdicts[0].statement.has_value());
}

TEST_CASE("a validly signed attestation whose subjects do not include the image never counts",
          "[attestation][verify]") {
  Fixture f;
  // Signed for image b, stored under image a's .att tag.
  put_attestations(*f.store, f.a.digest,
                   {att_layer(statement_for(f.b.digest, kSlsa, slsa_predicate()), test_key())});
  auto v = f.verify("slsaprovenance");
  CHECK_FALSE(v.verified());
  CHECK(v.verdicts[0].verified_by.size() == 1);  // the signature itself verified
  CHECK(only_reason(v) ==
        "signed statement is for " + f.b.digest.str() + ", not " + f.a.digest.str());
}

TEST_CASE("an SBOM statement filed under a SLSA predicateType annotation is an SBOM",
          "[attestation][verify]") {
  Fixture f;
  put_attestations(*f.store, f.a.digest,
                   {att_layer(statement_for(f.a.digest, kSpdx, R"({"spdxVersion":"SPDX-2.3"})"),
                              test_key(), kSlsa)});
  auto slsa = f.verify("slsaprovenance");
  CHECK_FALSE(slsa.verified());
  CHECK(only_reason(slsa) == "of type '" + kSpdx +
                                 "', not slsaprovenance (https://slsa.dev/provenance/v1, "
                                 "https://slsa.dev/provenance/v0.2)");
  auto spdx = f.verify("spdxjson");
  CHECK(spdx.verified());
  CHECK(spdx.verdicts[0].reason == "valid attestation of type '" + kSpdx + "' by trusted key " +
                                       test_key().public_key().key_id().str() +
                                       " (its storage annotation claims '" + kSlsa +
                                       "': not used)");
  CHECK(spdx.verdicts[0].claimed_predicate_type == kSlsa);
}

TEST_CASE("a layer without a predicateType annotation is judged by its statement alone",
          "[attestation][verify]") {
  Fixture f;
  auto layer = att_layer(statement_for(f.a.digest, kSlsa, slsa_predicate()), test_key());
  layer.predicate_type.reset();
  put_attestations(*f.store, f.a.digest, {layer});
  auto v = f.verify("slsaprovenance");
  CHECK(v.verified());
  CHECK_FALSE(v.verdicts[0].claimed_predicate_type.has_value());
  auto text = check::attestation_report_lines(f.ref("a"), f.store->describe(), v);
  CHECK(text[1].rfind("  cosign .att layer 0: COUNTS: ", 0) == 0);
}

TEST_CASE("a signed statement without predicateType never counts", "[attestation][verify]") {
  Fixture f;
  const std::string payload =
      R"({"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":")" +
      f.a.digest.hex() + R"("}}],"predicate":{}})";
  put_attestations(*f.store, f.a.digest,
                   {{.blob = envelope_json(payload, test_key()), .predicate_type = std::nullopt}});
  auto v = f.verify("custom");
  CHECK_FALSE(v.verified());
  CHECK(only_reason(v) ==
        "signed statement is malformed: attestation's in-toto statement: missing "
        "field 'predicateType'");
}

TEST_CASE("an envelope whose payload is missing or not base64 is a problem, never verified",
          "[attestation][verify]") {
  Fixture f;
  const std::string missing =
      R"({"payloadType":"application/vnd.in-toto+json","signatures":[{"keyid":"","sig":"MEUCIQ=="}]})";
  const std::string not_b64 =
      R"({"payloadType":"application/vnd.in-toto+json","payload":"not base64!","signatures":[{"keyid":"","sig":"MEUCIQ=="}]})";
  put_attestations(
      *f.store, f.a.digest,
      {{.blob = missing, .predicate_type = kSlsa}, {.blob = not_b64, .predicate_type = kSlsa}});
  auto v = f.verify("slsaprovenance");
  CHECK_FALSE(v.verified());
  REQUIRE(v.considered.size() == 2);
  CHECK(v.considered[0].reason ==
        "DSSE envelope is malformed: cosign .att layer 0: missing field 'payload'");
  CHECK(v.considered[1].reason ==
        "DSSE envelope is malformed: cosign .att layer 1: field 'payload': invalid base64 (length "
        "is not a multiple of 4)");
  CHECK(v.decision.summary ==
        "not verified: none of 2 attestations counts as a verified "
        "attestation of type slsaprovenance for " +
            f.a.digest.str());
}

TEST_CASE("a payloadType that is not in-toto never counts, whatever it signs",
          "[attestation][verify]") {
  Fixture f;
  const auto st = statement_for(f.a.digest, kSlsa, slsa_predicate()).serialize();
  put_attestations(*f.store, f.a.digest,
                   {{.blob = envelope_json(st, test_key(), kSlsa), .predicate_type = kSlsa}});
  auto v = f.verify("slsaprovenance");
  CHECK_FALSE(v.verified());
  CHECK(only_reason(v) ==
        "DSSE envelope's payloadType is '" + kSlsa + "', not application/vnd.in-toto+json");
}

TEST_CASE("a signed payload that is not JSON, or JSON with duplicate keys, never counts",
          "[attestation][verify]") {
  Fixture f;
  const std::string dup =
      R"({"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":")" +
      f.a.digest.hex() + R"("}}],"predicateType":"https://evil/","predicateType":")" + kSlsa +
      R"(","predicate":{}})";
  put_attestations(*f.store, f.a.digest,
                   {{.blob = envelope_json("not json", test_key()), .predicate_type = kSlsa},
                    {.blob = envelope_json(dup, test_key()), .predicate_type = kSlsa}});
  auto v = f.verify("slsaprovenance");
  CHECK_FALSE(v.verified());
  REQUIRE(v.considered.size() == 2);
  CHECK(v.considered[0].reason.rfind(
            "signed statement is malformed: attestation's in-toto statement: ", 0) == 0);
  CHECK(v.considered[1].reason ==
        "signed statement is malformed: attestation's in-toto statement: duplicate JSON "
        "key 'predicateType'");
}

TEST_CASE("1024 subjects are read, 1025 refused as malformed", "[attestation][limits]") {
  CHECK(sig::kMaxStatementSubjects == 1024);
  for (std::size_t n : {std::size_t{1024}, std::size_t{1025}}) {
    Fixture f;
    auto st = statement_for(f.a.digest, kSlsa, slsa_predicate());
    for (std::size_t i = 1; i < n; ++i) {
      st.subjects.push_back({.name = "x" + std::to_string(i),
                             .digest = {{"sha256", Digest::of(as_bytes(std::to_string(i))).hex()}},
                             .annotations = {},
                             .non_string_annotations = {}});
    }
    // serialize() refuses to write past the cap: the JSON is built by hand for 1025.
    std::string payload;
    if (n <= sig::kMaxStatementSubjects) {
      payload = st.serialize();
    } else {
      st.subjects.pop_back();
      payload = st.serialize();
      const auto at = payload.find("\"subject\":[") + 11;
      payload.insert(at, R"({"digest":{"sha256":")" + f.b.digest.hex() + R"("}},)");
    }
    put_attestations(*f.store, f.a.digest,
                     {{.blob = envelope_json(payload, test_key()), .predicate_type = kSlsa}});
    auto v = f.verify("slsaprovenance");
    if (n == 1024) {
      CHECK(v.verified());
    } else {
      CHECK_FALSE(v.verified());
      CHECK(only_reason(v) ==
            "signed statement is malformed: attestation's in-toto statement: "
            "1025 subjects is over the limit of 1024");
    }
  }
}

TEST_CASE(".att layers: 100 are read, 101 refused before any blob is read",
          "[attestation][limits]") {
  for (std::size_t n : {limits::kMaxSignaturesPerImage, limits::kMaxSignaturesPerImage + 1}) {
    Fixture f;
    std::vector<AttLayer> layers;
    for (std::size_t i = 0; i < n; ++i) {
      auto st = statement_for(f.a.digest, "https://example.com/t/" + std::to_string(i));
      // Only descriptors: any blob read would fail as missing.
      auto l = att_layer(st, test_key());
      if (n > limits::kMaxSignaturesPerImage) l.claimed_size = l.blob.size();
      layers.push_back(std::move(l));
    }
    auto desc = put_attestations(*f.store, f.a.digest, layers);
    if (n == limits::kMaxSignaturesPerImage) {
      auto v = f.verify("https://example.com/t/99");
      CHECK(v.verified());
      CHECK(v.verdicts.size() == 100);
      CHECK(v.decision.counted == std::vector<std::size_t>{99});
    } else {
      auto t = sigil::test::thrown_by([&] { (void)f.verify("custom"); });
      CHECK(t.code == ErrorCode::kLimit);
      CHECK(t.message == f.store->describe() + ": attestation manifest " +
                             sig::attestation_tag(f.a.digest) +
                             ": 101 attestation layers is over the limit of 100");
    }
  }
}

TEST_CASE("an .att layer of another media type or larger than the envelope cap is a problem",
          "[attestation][verify]") {
  Fixture f;
  auto good = att_layer(statement_for(f.a.digest, kSlsa, slsa_predicate()), test_key());
  auto mistyped = good;
  mistyped.media_type = "application/json";
  auto huge = good;
  huge.blob += " ";  // another digest, never stored
  huge.claimed_size = sig::kMaxDsseEnvelopeBytes + 1;
  put_attestations(*f.store, f.a.digest, {mistyped, huge});
  auto v = f.verify("slsaprovenance");
  CHECK_FALSE(v.verified());
  REQUIRE(v.considered.size() == 2);
  CHECK(v.considered[0].reason ==
        "layer media type is 'application/json', not application/vnd.dsse.envelope.v1+json");
  CHECK(v.considered[1].reason == "DSSE envelope: 16777217 bytes is over the limit of 16777216");
}

TEST_CASE("an attestation signed by an untrusted key never counts", "[attestation][verify]") {
  Fixture f;
  put_attestations(*f.store, f.a.digest,
                   {att_layer(statement_for(f.a.digest, kSlsa, slsa_predicate()),
                              test_key(KeyType::kEcdsaP256, 1))});
  auto v = f.verify("slsaprovenance");
  CHECK_FALSE(v.verified());
  CHECK(only_reason(v) == "DSSE envelope's signature does not verify with any trusted key");
}

TEST_CASE("a bundle referrer attestation counts, a bundle signature is not an attestation",
          "[attestation][verify][bundle]") {
  Fixture f;
  auto ref = trust::test::put_bundle_attestation(
      *f.store, f.a, statement_for(f.a.digest, kSlsa, slsa_predicate()), test_key());
  (void)sig::sign_image_bundle(*f.store, f.a, test_key(),
                               {.docker_reference = "x", .annotations = {}, .recursive = false});
  auto v = f.verify("slsaprovenance");
  CHECK(v.verified());
  CHECK_FALSE(v.attestations_found);
  CHECK(v.bundle_referrers == 2);
  REQUIRE(v.verdicts.size() == 2);
  std::size_t counted = 0;
  for (std::size_t i = 0; i < v.verdicts.size(); ++i) {
    const auto& e = v.verdicts[i];
    CHECK(e.kind == sig::EntityKind::kBundle);
    if (e.referrer_digest == ref.digest) {
      CHECK(v.considered[i].counts);
      CHECK(e.claimed_predicate_type == kSlsa);
      ++counted;
    } else {
      CHECK(v.considered[i].reason ==
            "signed statement is an image signature (https://sigstore.dev/cosign/sign/v1), not an "
            "attestation");
    }
  }
  CHECK(counted == 1);
  // And sigil verify never counts the attestation as a signature (it counts the signature).
  verify::Verifier verifier(verify::fixed_keys({test_key().public_key()}));
  auto sv = check::verify_image(*f.store, f.ref("a"), verifier, {},
                                {.check_blobs = true, .examine_all = true, .requirement = {}});
  CHECK(sv.verified());
  for (const auto& e : sv.verdicts) {
    if (e.referrer_digest == ref.digest) CHECK_FALSE(e.verified);
  }
}

TEST_CASE("both storage forms together: each judged, the .att layers first",
          "[attestation][verify][bundle]") {
  Fixture f;
  put_attestations(*f.store, f.a.digest,
                   {att_layer(statement_for(f.a.digest, kSpdx, "{}"), test_key())});
  trust::test::put_bundle_attestation(
      *f.store, f.a, statement_for(f.a.digest, kSlsa, slsa_predicate()), test_key());
  auto v = f.verify("slsaprovenance");
  CHECK(v.verified());
  REQUIRE(v.verdicts.size() == 2);
  CHECK(v.verdicts[0].origin == "cosign .att layer 0");
  CHECK(v.verdicts[1].kind == sig::EntityKind::kBundle);
  CHECK(v.decision.counted == std::vector<std::size_t>{1});
}

TEST_CASE("sigil verify reads no .att layers: attestations never count as signatures",
          "[attestation][verify]") {
  Fixture f;
  put_attestations(*f.store, f.a.digest,
                   {att_layer(statement_for(f.a.digest, kSlsa, slsa_predicate()), test_key())});
  verify::Verifier verifier(verify::fixed_keys({test_key().public_key()}));
  auto v = check::verify_image(*f.store, f.ref("a"), verifier, {},
                               {.check_blobs = true, .examine_all = true, .requirement = {}});
  CHECK_FALSE(v.verified());
  CHECK(v.verdicts.empty());
  CHECK(sig::EntityKinds{}.attestations == false);
}

TEST_CASE("an image without attestations is not verified and says none were found",
          "[attestation][verify]") {
  Fixture f;
  auto v = f.verify("custom");
  CHECK_FALSE(v.verified());
  CHECK(v.decision.summary == "no attestations found for " + f.a.digest.str());
  auto text = check::attestation_report_lines(f.ref("a"), f.store->describe(), v);
  CHECK(text[1] == "  no attestations: " + f.store->describe() + " has no tag " +
                       sig::attestation_tag(f.a.digest) + " and no bundle referrers");
}

TEST_CASE("cosign 2's real .att envelope verifies with its KMS key for the image it names",
          "[attestation][verify][interop]") {
  const auto image =
      Digest::parse("sha256:a2b109fb9baea555556561317fdd13cef9c3dfac22c8f8fea0c5a0b06ece9d00");
  verify::Verifier verifier(
      verify::fixed_keys({load_public_key(kData + "/att-v2-kms-salrashid123/kms_pub.pem")}));
  for (const auto* file : {"envelope.compact.json", "envelope.as-printed.json"}) {
    auto blob = read_file(kData + "/att-v2-kms-salrashid123/" + file, 1 << 20);
    auto e = sig::dsse_attestation_entity(0, "cosign .att layer 0", Digest::of(blob), blob);
    auto v = verifier.judge_attestation(image, e);
    CHECK(v.verified);
    REQUIRE(v.statement.has_value());
    CHECK(v.statement->type == sig::kInTotoStatementV01);
    CHECK(v.statement->predicate_type == "cosign.sigstore.dev/attestation/v1");
    // The same envelope names no other image.
    auto other = verifier.judge_attestation(Digest::of(as_bytes("x")), e);
    CHECK_FALSE(other.verified);
  }
}

TEST_CASE(
    "cosign < 1.5's real .att layers verify at the DSSE level but are refused for their "
    "payloadType",
    "[attestation][verify][interop]") {
  const auto image =
      Digest::parse("sha256:b31bfb4d0213f254d361e0079deaaebefa4f82ba7aa76ef82e90b4935ad5b105");
  verify::Verifier verifier(
      verify::fixed_keys({load_public_key(kData + "/att-v1x-kyverno-pause2/cosign.pub")}));
  const std::pair<const char*, const char*> layers[] = {
      {"layer-0.dsse.json", "https://example.com/CodeReview/v1"},
      {"layer-1.dsse.json", "cosign.sigstore.dev/attestation/v1"},
      {"layer-2.dsse.json", "https://example.com/CodeReview/v1"}};
  for (const auto& [file, type] : layers) {
    auto blob = read_file(kData + "/att-v1x-kyverno-pause2/" + file, 1 << 20);
    auto e = sig::dsse_attestation_entity(0, "cosign .att layer 0", Digest::of(blob), blob);
    auto v = verifier.judge_attestation(image, e);
    CHECK_FALSE(v.verified);
    CHECK(v.verified_by.size() == 1);  // the PAE signature is valid
    CHECK(v.reason == std::string("DSSE envelope's payloadType is '") + type +
                          "', not application/vnd.in-toto+json");
  }
}

TEST_CASE("download: the stored envelopes and SBOMs, filtered by their unverified type",
          "[attestation][download]") {
  Fixture f;
  auto slsa = att_layer(statement_for(f.a.digest, kSlsa, slsa_predicate()), test_key());
  auto spdx = att_layer(statement_for(f.a.digest, kSpdx, R"({"spdxVersion":"SPDX-2.3"})"),
                        test_key(KeyType::kEcdsaP256, 1));
  put_attestations(*f.store, f.a.digest, {slsa, spdx});
  auto all = check::stored_attestations(*f.store, f.a.digest);
  REQUIRE(all.size() == 2);
  CHECK(all[0].json == slsa.blob);
  CHECK(all[1].json == spdx.blob);
  auto only = check::stored_attestations(*f.store, f.a.digest, std::string("spdxjson"));
  REQUIRE(only.size() == 1);
  CHECK(only[0].predicate_type == kSpdx);
  auto sboms = check::stored_sboms(*f.store, f.a.digest);
  REQUIRE(sboms.size() == 1);
  CHECK(sboms[0].json == R"({"spdxVersion":"SPDX-2.3"})");
  // A legacy .sbom tag (cosign attach sbom): its JSON layer follows the attestations' SBOMs.
  {
    const std::string doc = R"({"bomFormat":"CycloneDX","specVersion":"1.5"})";
    oci::Manifest m;
    m.schema_version = 2;
    m.media_type = std::string(media_type::kOciManifest);
    m.config.media_type = std::string(media_type::kOciConfig);
    m.config.digest = Digest::of(as_bytes("{}"));
    m.config.size = 2;
    f.store->put_blob(as_bytes("{}"), m.config.digest);
    oci::Descriptor layer;
    layer.media_type = "application/vnd.cyclonedx+json";
    layer.digest = Digest::of(as_bytes(doc));
    layer.size = doc.size();
    f.store->put_blob(as_bytes(doc), layer.digest);
    m.layers.push_back(layer);
    auto json = m.to_json();
    f.store->set_tag(sig::attachment_tag(f.a.digest, sig::AttachmentKind::kSbom),
                     f.store->put_manifest(as_bytes(json), media_type::kOciManifest));
  }
  sboms = check::stored_sboms(*f.store, f.a.digest);
  REQUIRE(sboms.size() == 2);
  CHECK(sboms[1].origin == ".sbom layer 0");
  CHECK(sboms[1].json == R"({"bomFormat":"CycloneDX","specVersion":"1.5"})");
  CHECK(code_of([&] {
          (void)check::stored_attestations(*f.store, f.a.digest, std::string("no such"));
        }) == ErrorCode::kUsage);
}
