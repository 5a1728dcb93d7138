// Bundle signatures as OCI 1.1 referrers in OCI layouts: what sign_image_bundle writes, and what
// the Verifier and verify_image make of it (and of everything an attacker could attach instead).
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "libtrust/check/verify_image.h"
#include "libtrust/core/encoding.h"
#include "libtrust/core/error.h"
#include "libtrust/core/file.h"
#include "libtrust/core/limits.h"
#include "libtrust/core/media_type.h"
#include "libtrust/oci/layout.h"
#include "libtrust/sig/cosign_layout.h"
#include "libtrust/sig/referrers.h"
#include "sig/sig_test_util.h"
#include "support/layout_builder.h"
#include "support/process.h"
#include "two_images.h"
#include "verify_test_util.h"

using namespace trust;
using nlohmann::json;
using sigil::test::code_of;
using sigil::test::test_key;

namespace {

struct Fixture : trust::verify::test::TwoImages {
  check::ImageVerification verify(const std::string& tag, const PrivateKey& key = test_key(),
                                  verify::Policy policy = {}, bool examine_all = false) {
    verify::Verifier v(verify::fixed_keys({key.public_key()}));
    return check::verify_image(*store, ref(tag), v, policy,
                               {.examine_all = examine_all, .requirement = {}});
  }
};

sig::SignOptions options(std::map<std::string, std::string> annotations = {}) {
  return {
      .docker_reference = "example/img", .annotations = std::move(annotations), .recursive = false};
}

sig::Bundle bundle_for(const Digest& subject, const std::string& predicate_type,
                       const PrivateKey& key = test_key()) {
  auto st = sig::cosign_sign_statement(subject, {});
  st.predicate_type = predicate_type;
  auto text = st.serialize();
  return sig::Bundle::for_dsse(
      sig::DsseEnvelope::sign(media_type::kInTotoPayload, as_bytes(text), key), key.public_key());
}

// Writes a referrer manifest by hand: `layer_bytes` stored (unless layer_size is given, then only
// the descriptor claims that size), subject `subject`.
oci::Descriptor write_raw_referrer(
    oci::ImageStore& store, const oci::Descriptor& subject, const std::string& layer_bytes,
    std::optional<std::uint64_t> layer_size = {},
    std::string layer_type = std::string(media_type::kSigstoreBundleV03)) {
  oci::Manifest m;
  m.media_type = std::string(media_type::kOciManifest);
  m.artifact_type = std::string(media_type::kSigstoreBundleV03);
  m.config.media_type = std::string(media_type::kOciEmpty);
  m.config.digest = Digest::parse(sig::kEmptyJsonDigest);
  m.config.size = 2;
  store.put_blob(as_bytes(sig::kEmptyJsonBlob), m.config.digest);
  oci::Descriptor layer;
  layer.media_type = std::move(layer_type);
  layer.digest = Digest::of(as_bytes(layer_bytes));
  layer.size = layer_size.value_or(layer_bytes.size());
  if (!layer_size) store.put_blob(as_bytes(layer_bytes), layer.digest);
  m.layers.push_back(layer);
  oci::Descriptor subj;
  subj.media_type = subject.media_type;
  subj.digest = subject.digest;
  subj.size = subject.size;
  m.subject = subj;
  auto text = m.to_json();
  auto desc = store.put_manifest(as_bytes(text), media_type::kOciManifest);
  desc.artifact_type = m.artifact_type;
  store.add_referrer(desc, subject);
  return desc;
}

}  // namespace

TEST_CASE("a bundle-signed image verifies, and the verdict says it came from a referrer",
          "[bundle][verify]") {
  Fixture f;
  auto signed_ = sig::sign_image_bundle(*f.store, f.a, test_key(), options());
  REQUIRE(signed_.size() == 1);
  CHECK(signed_[0].image == f.a.digest);
  CHECK(signed_[0].appended);
  auto v = f.verify("a");
  CHECK_FALSE(v.signatures_found);  // no cosign .sig tag
  CHECK(v.bundle_referrers == 1);
  REQUIRE(v.verdicts.size() == 1);
  const auto& s = v.verdicts[0];
  CHECK(v.verified());
  CHECK(s.kind == sig::EntityKind::kBundle);
  CHECK(s.origin == "referrer manifest " + signed_[0].referrer.digest.str());
  CHECK(s.referrer_digest == signed_[0].referrer.digest);
  CHECK(s.layer_digest == signed_[0].bundle);
  CHECK(s.key_id() == test_key().public_key().key_id().str());
  CHECK(s.reason == "valid bundle signature by trusted key " + *s.key_id());
  REQUIRE(s.statement.has_value());
  CHECK(s.statement->predicate_type == sig::kCosignSignPredicateType);
  CHECK_FALSE(s.payload.has_value());
  // Image b is not signed by a's bundle.
  CHECK_FALSE(f.verify("b").verified());
}

TEST_CASE("the referrer manifest and fallback index have the shape cosign's BUNDLE_SPEC gives",
          "[bundle]") {
  Fixture f;
  auto signed_ = sig::sign_image_bundle(*f.store, f.a, test_key(), options());
  auto bytes = f.store->fetch_manifest(signed_[0].referrer);
  auto m = json::parse(as_string_view(bytes));
  CHECK(m["schemaVersion"] == 2);
  CHECK(m["mediaType"] == media_type::kOciManifest);
  CHECK(m["artifactType"] == "application/vnd.dev.sigstore.bundle.v0.3+json");
  CHECK(m["config"] == json({{"mediaType", "application/vnd.oci.empty.v1+json"},
                             {"digest",
                              "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c"
                              "060f61caaff8a"},
                             {"size", 2}}));
  REQUIRE(m["layers"].size() == 1);
  CHECK(m["layers"][0]["mediaType"] == "application/vnd.dev.sigstore.bundle.v0.3+json");
  CHECK(m["layers"][0]["digest"] == signed_[0].bundle.str());
  CHECK(m["layers"][0]["annotations"]["org.opencontainers.image.title"] ==
        "sha256-" + signed_[0].bundle.hex() + ".sigstore.json");
  CHECK(m["subject"] ==
        json({{"mediaType", f.a.media_type}, {"digest", f.a.digest.str()}, {"size", f.a.size}}));
  CHECK(m["annotations"]["dev.sigstore.bundle.content"] == "dsse-envelope");
  CHECK(m["annotations"]["dev.sigstore.bundle.predicateType"] ==
        "https://sigstore.dev/cosign/sign/v1");
  CHECK(m["annotations"]["org.opencontainers.image.created"].get<std::string>().size() == 20);
  // The empty config blob is stored; so is the bundle.
  CHECK(std::string(as_string_view(
            f.store->fetch_blob(oci::Descriptor{.media_type = std::string(media_type::kOciEmpty),
                                                .digest = Digest::parse(sig::kEmptyJsonDigest),
                                                .size = 2,
                                                .annotations = {},
                                                .platform = {},
                                                .artifact_type = {},
                                                .urls = {}},
                                16))) == "{}");
  // Discoverable through the fallback index tag "sha256-<hex>", with artifactType and annotations.
  auto index_desc = f.store->find_tag("sha256-" + f.a.digest.hex());
  REQUIRE(index_desc.has_value());
  auto index = oci::Index::parse(f.store->fetch_manifest(*index_desc), "index");
  REQUIRE(index.manifests.size() == 1);
  CHECK(index.manifests[0].digest == signed_[0].referrer.digest);
  CHECK(index.manifests[0].artifact_type == std::string(media_type::kSigstoreBundleV03));
  CHECK(index.manifests[0].annotations.at("dev.sigstore.bundle.predicateType") ==
        "https://sigstore.dev/cosign/sign/v1");
}

TEST_CASE("bundle signature: wrong key is rejected", "[bundle][verify]") {
  Fixture f;
  sig::sign_image_bundle(*f.store, f.a, test_key(), options());
  auto v = f.verify("a", test_key(KeyType::kEcdsaP256, 1));
  CHECK_FALSE(v.verified());
  REQUIRE(v.verdicts.size() == 1);
  CHECK(v.verdicts[0].reason == "bundle's DSSE signature does not verify with any trusted key");
  CHECK_FALSE(v.verdicts[0].statement.has_value());
}

TEST_CASE("bundle signature: required annotations are checked on the image's subject",
          "[bundle][verify]") {
  Fixture f;
  sig::sign_image_bundle(*f.store, f.a, test_key(KeyType::kEd25519), options({{"env", "prod"}}));
  const auto& key = test_key(KeyType::kEd25519);
  CHECK(f.verify("a", key, {.required_annotations = {{"env", "prod"}}}).verified());
  auto v = f.verify("a", key, {.required_annotations = {{"env", "dev"}}});
  CHECK_FALSE(v.verified());
  CHECK(v.verdicts[0].reason == "signed statement lacks required annotation(s) env=dev");
}

TEST_CASE("a bundle for image A attached to image B is rejected", "[bundle][verify]") {
  Fixture f;
  // A's genuine bundle, attached (by an attacker) as a referrer of B.
  sig::attach_bundle(*f.store, f.b,
                     bundle_for(f.a.digest, std::string(sig::kCosignSignPredicateType)),
                     sig::kCosignSignPredicateType);
  auto v = f.verify("b");
  CHECK_FALSE(v.verified());
  REQUIRE(v.verdicts.size() == 1);
  CHECK(v.verdicts[0].reason ==
        "signed statement is for " + f.a.digest.str() + ", not " + f.b.digest.str());

  // A referrer of A listed in B's fallback index: its subject gives it away before any bundle.
  Fixture g;
  auto signed_ = sig::sign_image_bundle(*g.store, g.a, test_key(), options());
  g.store->add_referrer(signed_[0].referrer, g.b);
  auto w = g.verify("b");
  CHECK_FALSE(w.verified());
  REQUIRE(w.verdicts.size() == 1);
  CHECK(w.verdicts[0].reason ==
        "referrer manifest's subject is " + g.a.digest.str() + ", not " + g.b.digest.str());
}

TEST_CASE("an attestation of another predicate type never counts as a signature",
          "[bundle][verify]") {
  Fixture f;
  sig::attach_bundle(*f.store, f.a, bundle_for(f.a.digest, "https://slsa.dev/provenance/v1"),
                     "https://slsa.dev/provenance/v1");
  auto v = f.verify("a");
  CHECK_FALSE(v.verified());
  REQUIRE(v.verdicts.size() == 1);
  CHECK_THAT(v.verdicts[0].reason,
             Catch::StartsWith("signed statement is an attestation of type "
                               "'https://slsa.dev/provenance/v1', not an image signature"));
  // Even though the signature itself is valid and names the image.
  CHECK(v.verdicts[0].key_id().has_value());
}

TEST_CASE("a DSSE payload that is not in-toto never counts", "[bundle][verify]") {
  Fixture f;
  auto text = sig::cosign_sign_statement(f.a.digest, {}).serialize();
  auto b =
      sig::Bundle::for_dsse(sig::DsseEnvelope::sign("application/json", as_bytes(text), test_key()),
                            test_key().public_key());
  sig::attach_bundle(*f.store, f.a, b, "");
  auto v = f.verify("a");
  CHECK_FALSE(v.verified());
  CHECK(v.verdicts[0].reason ==
        "bundle's DSSE payloadType is 'application/json', not application/vnd.in-toto+json");
}

TEST_CASE("keyless bundle material is refused with a clear reason", "[bundle][verify]") {
  Fixture f;
  auto j =
      json::parse(bundle_for(f.a.digest, std::string(sig::kCosignSignPredicateType)).to_json());
  j["verificationMaterial"].erase("publicKey");
  j["verificationMaterial"]["certificate"]["rawBytes"] = base64_encode(as_bytes("DER"));
  write_raw_referrer(*f.store, f.a, j.dump());
  auto v = f.verify("a");
  CHECK_FALSE(v.verified());
  REQUIRE(v.verdicts.size() == 1);
  CHECK(v.verdicts[0].reason == std::string(sig::kKeylessUnsupportedReason));
}

TEST_CASE("malformed, oversized and mistyped bundle referrers are reported, never verified",
          "[bundle][verify]") {
  Fixture f;
  write_raw_referrer(*f.store, f.a, "{not json");
  // Only the descriptor claims 6 MiB + 1: nothing is read (the blob does not even exist).
  write_raw_referrer(*f.store, f.a, "x", limits::kMaxSignatureBundleBytes + 1);
  write_raw_referrer(*f.store, f.a, "{}", {}, "application/octet-stream");
  auto found = sig::read_bundle_referrers(*f.store, f.a.digest);
  REQUIRE(found.size() == 3);
  CHECK_THAT(*found[0].problem,
             Catch::StartsWith("bundle is malformed: ") && Catch::Contains("malformed JSON"));
  CHECK(*found[1].problem ==
        "signature bundle: " + std::to_string(limits::kMaxSignatureBundleBytes + 1) +
            " bytes is over the limit of " + std::to_string(limits::kMaxSignatureBundleBytes));
  CHECK_THAT(*found[2].problem, Catch::StartsWith("bundle layer media type is "));
  auto v = f.verify("a");
  CHECK(v.verdicts.size() == 3);
  CHECK_FALSE(v.verified());
}

TEST_CASE("a tampered bundle blob is a digest mismatch, not a verdict", "[bundle][verify]") {
  Fixture f;
  auto signed_ = sig::sign_image_bundle(*f.store, f.a, test_key(), options());
  auto path = f.built.blob_path(signed_[0].bundle);
  auto bytes = read_file(path, 1 << 20);
  bytes[bytes.size() / 2] ^= 0x01;
  write_file_atomic(path, bytes);
  CHECK(code_of([&] { (void)f.verify("a"); }) == ErrorCode::kDigestMismatch);
}

TEST_CASE("both layouts are read: a cosign signature and a bundle, one verdict list",
          "[bundle][verify]") {
  Fixture f;
  sig::sign_image(*f.store, f.a, test_key(), options());
  sig::sign_image_bundle(*f.store, f.a, test_key(), options());
  // By default a verified .sig signature settles it: the referrers are not looked up.
  auto quick = f.verify("a");
  CHECK(quick.verified());
  CHECK_FALSE(quick.referrers_checked);
  CHECK(quick.verdicts.size() == 1);
  // A .sig signature that fails (wrong annotation) sends the verifier on to the bundle.
  auto on = f.verify("a", test_key(), {.required_annotations = {{"k", "nope"}}});
  CHECK(on.referrers_checked);
  CHECK(on.verdicts.size() == 2);
  CHECK_FALSE(on.verified());
  auto v = f.verify("a", test_key(), {}, /*examine_all=*/true);
  CHECK(v.signatures_found);
  CHECK(v.referrers_checked);
  CHECK(v.bundle_referrers == 1);
  REQUIRE(v.verdicts.size() == 2);
  CHECK(v.verdicts[0].kind == sig::EntityKind::kCosignSignature);
  CHECK(v.verdicts[0].origin == "cosign .sig layer 0");
  CHECK(v.verdicts[1].kind == sig::EntityKind::kBundle);
  CHECK(v.verdicts[0].verified);
  CHECK(v.verdicts[1].verified);
  CHECK(sig::to_string(sig::EntityKind::kBundle) == "bundle");
}

TEST_CASE("recursive bundle signing signs the index and each platform manifest",
          "[bundle][verify]") {
  sigil::test::TempDir tmp;
  sigil::test::ImageSpec amd;
  amd.tag = "";
  sigil::test::ImageSpec arm;
  arm.tag = "";
  arm.architecture = "arm64";
  arm.layers = {sigil::test::layer(50, sigil::test::LayerCompression::kGzip, 9)};
  auto built = sigil::test::build_layout(tmp / "idx", {.images = {amd, arm}, .index_tag = "multi"});
  auto store = oci::open_oci_layout(built.dir);
  auto index = store->resolve(Reference::parse(built.reference("multi")));
  auto opts = options();
  opts.recursive = true;
  auto signed_ = sig::sign_image_bundle(*store, index, test_key(), opts);
  REQUIRE(signed_.size() == 3);
  verify::Verifier verifier(verify::fixed_keys({test_key().public_key()}));
  for (const auto& s : signed_) {
    auto found = sig::read_bundle_referrers(*store, s.image);
    REQUIRE(found.size() == 1);
    CHECK(verify::test::judge_stored(verifier, s.image, {}, found, {}).verified());
  }
}

TEST_CASE("bundle referrers: 100 are read, the 101st is refused with LimitError",
          "[bundle][verify][limits]") {
  Fixture f;
  for (std::size_t i = 0; i < limits::kMaxSignaturesPerImage; ++i) {
    sig::attach_bundle(*f.store, f.a,
                       bundle_for(f.a.digest, std::string(sig::kCosignSignPredicateType)),
                       sig::kCosignSignPredicateType, "2024-01-01T00:00:00Z");
  }
  auto found = sig::read_bundle_referrers(*f.store, f.a.digest);
  CHECK(found.size() == limits::kMaxSignaturesPerImage);
  CHECK(f.verify("a").verified());
  // Writing the 101st is refused...
  CHECK(code_of([&] { sig::sign_image_bundle(*f.store, f.a, test_key(), options()); }) ==
        ErrorCode::kLimit);
  // ...and a fallback index listing 101 (written by someone else) is refused on reading.
  auto index_desc = f.store->find_tag("sha256-" + f.a.digest.hex());
  REQUIRE(index_desc.has_value());
  auto index = oci::Index::parse(f.store->fetch_manifest(*index_desc), "index");
  index.manifests.push_back(index.manifests.front());
  index.manifests.back().digest = Digest::of(as_bytes("another"));
  auto text = index.to_json();
  f.store->set_tag("sha256-" + f.a.digest.hex(),
                   f.store->put_manifest(as_bytes(text), media_type::kOciIndex));
  CHECK(code_of([&] { (void)sig::read_bundle_referrers(*f.store, f.a.digest); }) ==
        ErrorCode::kLimit);
  CHECK(code_of([&] { (void)f.verify("a"); }) == ErrorCode::kLimit);
}

TEST_CASE("the Verifier refuses more than 100 bundle referrers in one call", "[bundle][limits]") {
  verify::Verifier verifier(verify::fixed_keys({test_key().public_key()}));
  std::vector<sig::BundleReferrer> many(limits::kMaxSignaturesPerImage + 1);
  CHECK(code_of([&] {
          (void)verify::test::judge_stored(verifier, Digest::of({}), {}, many, {});
        }) == ErrorCode::kLimit);
}

TEST_CASE("a valid bundle in a referrer manifest of another artifactType never counts",
          "[bundle][verify]") {
  Fixture f;
  const auto bundle_text =
      bundle_for(f.a.digest, std::string(sig::kCosignSignPredicateType)).to_json();
  oci::Manifest m;
  m.media_type = std::string(media_type::kOciManifest);
  m.artifact_type = "application/x.other";
  m.config.media_type = std::string(media_type::kOciEmpty);
  m.config.digest = Digest::parse(sig::kEmptyJsonDigest);
  m.config.size = 2;
  f.store->put_blob(as_bytes(sig::kEmptyJsonBlob), m.config.digest);
  oci::Descriptor layer;
  layer.media_type = std::string(media_type::kSigstoreBundleV03);
  layer.digest = Digest::of(as_bytes(bundle_text));
  layer.size = bundle_text.size();
  f.store->put_blob(as_bytes(bundle_text), layer.digest);
  m.layers.push_back(layer);
  m.subject = f.a;
  m.subject->annotations.clear();
  const auto text = m.to_json();
  auto desc = f.store->put_manifest(as_bytes(text), media_type::kOciManifest);
  // The listing claims the bundle type; the manifest itself says otherwise.
  desc.artifact_type = std::string(media_type::kSigstoreBundleV03);
  f.store->add_referrer(desc, f.a);
  auto v = f.verify("a");
  REQUIRE(v.verdicts.size() == 1);
  CHECK_FALSE(v.verified());
  CHECK(v.verdicts[0].reason == "referrer manifest's artifactType is 'application/x.other', not " +
                                    std::string(media_type::kSigstoreBundleV03));
}

TEST_CASE("a valid bundle as the first of two referrer layers never counts", "[bundle][verify]") {
  Fixture f;
  const auto bundle_text =
      bundle_for(f.a.digest, std::string(sig::kCosignSignPredicateType)).to_json();
  oci::Manifest m;
  m.media_type = std::string(media_type::kOciManifest);
  m.artifact_type = std::string(media_type::kSigstoreBundleV03);
  m.config.media_type = std::string(media_type::kOciEmpty);
  m.config.digest = Digest::parse(sig::kEmptyJsonDigest);
  m.config.size = 2;
  f.store->put_blob(as_bytes(sig::kEmptyJsonBlob), m.config.digest);
  oci::Descriptor layer;
  layer.media_type = std::string(media_type::kSigstoreBundleV03);
  layer.digest = Digest::of(as_bytes(bundle_text));
  layer.size = bundle_text.size();
  f.store->put_blob(as_bytes(bundle_text), layer.digest);
  m.layers = {layer, layer};
  m.subject = f.a;
  m.subject->annotations.clear();
  const auto text = m.to_json();
  auto desc = f.store->put_manifest(as_bytes(text), media_type::kOciManifest);
  desc.artifact_type = m.artifact_type;
  f.store->add_referrer(desc, f.a);
  auto v = f.verify("a");
  REQUIRE(v.verdicts.size() == 1);
  CHECK_FALSE(v.verified());
  CHECK(v.verdicts[0].reason ==
        "referrer manifest has 2 layers, a bundle referrer has exactly one");
}
