// sigil verify-attestation, sigil tree and sigil download over attestations written directly
// into an OCI layout (cosign's .att layout and bundle referrers): exit codes, the report lines on
// stderr, the counted statements on stdout (the real executables).
#include <catch2/catch.hpp>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "libtrust/oci/layout.h"
#include "support/process.h"
#include "support/test_keys.h"
#include "verify/att_test_util.h"

namespace fs = std::filesystem;
using namespace trust;
using sigil::test::run_process;
using sigil::test::test_key;
using trust::test::att_layer;
using trust::test::put_attestations;
using trust::test::statement_for;

namespace {

const std::string kSigil = SIGIL_BIN_DIR "/sigil";
const std::string kSigilVerify = SIGIL_BIN_DIR "/sigil-verify";
const std::string kData = SIGIL_TEST_DATA;
const std::string kSlsa = "https://slsa.dev/provenance/v1";
const std::string kSpdx = "https://spdx.dev/Document";
const std::string kPredicate =
    R"({"buildDefinition":{"buildType":"https://example.com/build"},"runDetails":{"builder":{"id":"https://github.com/org/builder"}}})";

struct Image {
  sigil::test::TempDir tmp;
  std::string ref;
  std::string pub;
  Digest digest = Digest::of(as_bytes(""));
  std::unique_ptr<oci::ImageStore> store;

  Image() {
    fs::copy(kData + "/sample-layout", tmp / "img", fs::copy_options::recursive);
    ref = "oci:" + (tmp / "img").string() + ":latest";
    store = oci::open_oci_layout(tmp / "img");
    digest = store->resolve(Reference::parse(ref)).digest;
    pub = (tmp / "key.pub").string();
    sigil::test::write_text_file(pub, test_key().public_key().to_pem());
  }
  sigil::test::RunResult verify(std::vector<std::string> extra, const std::string& bin = kSigil) {
    std::vector<std::string> argv{bin, "verify-attestation", "--key", pub};
    for (auto& e : extra) argv.push_back(std::move(e));
    argv.push_back(ref);
    return run_process(argv);
  }
};

}  // namespace

TEST_CASE("verify-attestation exits 0 and prints the counted statement as one JSON line",
          "[cli][attestation]") {
  Image img;
  put_attestations(*img.store, img.digest,
                   {att_layer(statement_for(img.digest, kSpdx, "{}"), test_key()),
                    att_layer(statement_for(img.digest, kSlsa, kPredicate), test_key())});
  for (const auto& bin : {kSigil, kSigilVerify}) {
    auto r = img.verify({"--type", "slsaprovenance", "--output", "json"}, bin);
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.out == statement_for(img.digest, kSlsa, kPredicate).serialize() + "\n");
    auto j = nlohmann::json::parse(r.out);
    CHECK(j["predicate"]["runDetails"]["builder"]["id"] == "https://github.com/org/builder");
    CHECK_THAT(r.err, Catch::Contains("cosign .att layer 0 (claimed type " + kSpdx +
                                      ", unverified): does not count: of type '" + kSpdx +
                                      "', not slsaprovenance"));
    CHECK_THAT(r.err, Catch::Contains("cosign .att layer 1 (claimed type " + kSlsa +
                                      ", unverified): COUNTS: type '" + kSlsa + "'"));
    CHECK_THAT(r.err, Catch::Contains("VERIFIED: verified: 1 of 2 attestation(s) for " +
                                      img.digest.str() + " count as slsaprovenance"));
  }
}

TEST_CASE("verify-attestation exits 1 when no attestation of the type counts, and says why",
          "[cli][attestation]") {
  Image img;
  put_attestations(*img.store, img.digest,
                   {att_layer(statement_for(img.digest, kSlsa, kPredicate), test_key())});
  auto r = img.verify({"--type", "spdxjson", "--output", "json"});
  CHECK(r.exit_code == 1);
  CHECK(r.out.empty());
  CHECK_THAT(r.err, Catch::Contains("NOT VERIFIED: not verified: of type '" + kSlsa +
                                    "', not spdxjson (" + kSpdx + ")"));
  // The default type is custom, as cosign's.
  auto d = img.verify({});
  CHECK(d.exit_code == 1);
  CHECK_THAT(d.err, Catch::Contains("not custom (https://cosign.sigstore.dev/attestation/v1)"));
}

TEST_CASE("verify-attestation: an unknown --type is a usage error (exit 2)", "[cli][attestation]") {
  Image img;
  auto r = img.verify({"--type", "nosuchtype"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("nosuchtype"));
}

TEST_CASE("verify-attestation of an image with a .att tag of 101 layers exits 3 naming the limit",
          "[cli][attestation][limits]") {
  Image img;
  std::vector<trust::test::AttLayer> layers;
  for (int i = 0; i < 101; ++i) {
    auto l = att_layer(statement_for(img.digest, kSlsa, kPredicate), test_key());
    l.blob += std::string(static_cast<std::size_t>(i), ' ');
    l.claimed_size = l.blob.size();
    layers.push_back(l);
  }
  put_attestations(*img.store, img.digest, layers);
  auto r = img.verify({"--type", "slsaprovenance"});
  CHECK(r.exit_code == 3);
  CHECK_THAT(r.err, Catch::Contains(": 101 attestation layers is over the limit of 100"));
}

TEST_CASE("sigil tree shows each attestation's claimed type and signer key id, unverified",
          "[cli][attestation][tree]") {
  Image img;
  put_attestations(*img.store, img.digest,
                   {att_layer(statement_for(img.digest, kSlsa, kPredicate), test_key())});
  const auto key = test_key().public_key().key_id().str();
  auto r = run_process({kSigil, "tree", img.ref});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.err, Catch::Contains("attestation cosign .att layer 0: type " + kSlsa +
                                    ", signer key id " + key + " (unverified)"));
  auto j = run_process({kSigil, "tree", "--output", "json", img.ref});
  auto doc = nlohmann::json::parse(j.out);
  REQUIRE(doc["attestations"].size() == 1);
  CHECK(doc["attestations"][0]["predicateType"] == kSlsa);
  CHECK(doc["attestations"][0]["signerKeyIds"] == nlohmann::json::array({key}));
  CHECK(doc["attestations"][0]["verified"] == false);
}

TEST_CASE("sigil download attestation prints each envelope as one line and warns it is unverified",
          "[cli][attestation][download]") {
  Image img;
  auto slsa = att_layer(statement_for(img.digest, kSlsa, kPredicate), test_key());
  auto sbom =
      att_layer(statement_for(img.digest, kSpdx, R"({"spdxVersion":"SPDX-2.3"})"), test_key());
  put_attestations(*img.store, img.digest, {slsa, sbom});
  auto r = run_process({kSigil, "download", "attestation", img.ref});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out == slsa.blob + "\n" + sbom.blob + "\n");
  CHECK_THAT(r.err, Catch::Contains("warning: not verified: these attestations are printed as "
                                    "stored"));
  auto f = run_process({kSigil, "download", "attestation", "--predicate-type", "spdx", img.ref});
  CHECK(f.out == sbom.blob + "\n");
  auto s = run_process({kSigil, "download", "sbom", img.ref});
  CHECK(s.exit_code == 0);
  CHECK(s.out == "{\"spdxVersion\":\"SPDX-2.3\"}\n");
  CHECK_THAT(s.err, Catch::Contains("warning: not verified: these SBOMs are printed"));
}

TEST_CASE(
    "verify-attestation --where: a malformed pointer is exit 2, one at nothing fails (exit 1)",
    "[cli][attestation][where]") {
  Image img;
  put_attestations(*img.store, img.digest,
                   {att_layer(statement_for(img.digest, kSlsa, kPredicate), test_key())});
  auto malformed = img.verify({"--type", "slsaprovenance", "--where", "runDetails=x"});
  CHECK(malformed.exit_code == 2);
  CHECK_THAT(malformed.err, Catch::Contains("runDetails=x"));
  auto nothing = img.verify({"--type", "slsaprovenance", "--where", "/no/such=x"});
  CHECK(nothing.exit_code == 1);
  CHECK_THAT(nothing.err, Catch::Contains("does not count: condition /no/such=x fails: "));
  auto holds =
      img.verify({"--type", "slsaprovenance", "--where",
                  "/runDetails/builder/id=https://github.com/org/builder", "--output", "json"});
  INFO(holds.err);
  CHECK(holds.exit_code == 0);
  CHECK(holds.out == statement_for(img.digest, kSlsa, kPredicate).serialize() + "\n");
  CHECK_THAT(holds.err,
             Catch::Contains("every condition holds (/runDetails/builder/id=https://github.com/"
                             "org/builder)"));
}
