// verify_image over an OCI layout holding the exact signature bytes containers/image wrote.
#include <catch2/catch.hpp>

#include <filesystem>
#include <functional>
#include <string>

#include "libtrust/check/verify_image.h"
#include "libtrust/core/error.h"
#include "libtrust/core/file.h"
#include "libtrust/core/media_type.h"
#include "libtrust/crypto/key_file.h"
#include "libtrust/oci/layout.h"
#include "libtrust/sig/cosign_layout.h"
#include "support/process.h"
#include "verify_test_util.h"

using namespace trust;
namespace fs = std::filesystem;

namespace {

const std::string kData = SIGIL_TEST_DATA;
const std::string kV1 = "sha256:2757703db410695547cef88bb4b2947d7b48ebcd7f11cf8cc21c7e06184b707d";

Bytes data_file(const std::string& rel) {
  return read_file(kData + "/" + rel, 1 << 20);
}

// Copies the reference layout and attaches the containers/image signature of tag v1 under `tag`.
fs::path layout_with_cimage_signature(const fs::path& dir, const std::string& tag) {
  fs::copy(kData + "/image-oci", dir, fs::copy_options::recursive);
  auto store = oci::open_oci_layout(dir);
  auto payload = data_file("cimage-signed-v1/sig-payload-0.json");
  auto config = data_file("cimage-signed-v1/sig-config.json");
  auto manifest = data_file("cimage-signed-v1/sig-manifest.json");
  store->put_blob(payload, Digest::of(payload));
  store->put_blob(config, Digest::of(config));
  auto desc = store->put_manifest(manifest, media_type::kOciManifest);
  CHECK(desc.digest.str() ==
        "sha256:66c830d110ac1430deed2d03171fb4814980a1c9e46fde9e9157f10bb49e5ca0");
  store->set_tag(tag, desc);
  return dir;
}

verify::Verifier verifier_for(const std::string& pub) {
  return verify::Verifier(verify::fixed_keys({load_public_key(kData + "/keys/" + pub)}));
}

}  // namespace

TEST_CASE("a layout holding containers/image signature bytes verifies", "[verify][layout]") {
  sigil::test::TempDir tmp;
  auto dir =
      layout_with_cimage_signature(tmp.path() / "img", sig::signature_tag(Digest::parse(kV1)));
  auto store = oci::open_oci_layout(dir);
  auto ref = Reference::parse("oci:" + dir.string() + ":v1");
  auto v = check::verify_image(*store, ref, verifier_for("test-ecdsa-p256.pub"), {});
  CHECK(v.image.digest.str() == kV1);
  CHECK(v.signatures_found);
  REQUIRE(v.verdicts.size() == 1);
  CHECK(v.verified());

  auto wrong = check::verify_image(*store, ref, verifier_for("other-ecdsa-p256.pub"), {});
  CHECK_FALSE(wrong.verified());
}

TEST_CASE("a signature whose payload names another image is rejected", "[verify][layout]") {
  sigil::test::TempDir tmp;
  // Attach v1's signature to v2: the payload's digest names v1.
  auto store0 = oci::open_oci_layout(fs::path(kData) / "image-oci");
  auto v2 = store0->resolve(Reference::parse("oci:" + kData + "/image-oci:v2"));
  auto dir = layout_with_cimage_signature(tmp.path() / "img", sig::signature_tag(v2.digest));
  auto store = oci::open_oci_layout(dir);
  auto v = check::verify_image(*store, Reference::parse("oci:" + dir.string() + ":v2"),
                               verifier_for("test-ecdsa-p256.pub"), {});
  REQUIRE(v.verdicts.size() == 1);
  CHECK_FALSE(v.verified());
  CHECK(v.verdicts[0].reason.find("signed payload is for " + kV1) == 0);
}

TEST_CASE("an unsigned image is not verified and says no signatures were found",
          "[verify][layout]") {
  auto store = oci::open_oci_layout(fs::path(kData) / "image-oci");
  auto v = check::verify_image(*store, Reference::parse("oci:" + kData + "/image-oci:v1"),
                               verifier_for("test-ecdsa-p256.pub"), {});
  CHECK_FALSE(v.signatures_found);
  CHECK_FALSE(v.verified());
  CHECK(v.decision.summary.find("no signatures found") == 0);
}

TEST_CASE("a tampered image layer is a digest mismatch, not a verdict", "[verify][layout]") {
  sigil::test::TempDir tmp;
  auto dir =
      layout_with_cimage_signature(tmp.path() / "img", sig::signature_tag(Digest::parse(kV1)));
  auto layer =
      dir / "blobs/sha256/b0dbeb22c869c2911fc5fb564290b6e3a5ba7cb36b12adfa3fda4fe20ce1614f";
  auto bytes = read_file(layer, 1 << 20);
  bytes[bytes.size() / 2] ^= 0x40;
  write_file_atomic(layer, bytes);
  auto store = oci::open_oci_layout(dir);
  try {
    (void)check::verify_image(*store, Reference::parse("oci:" + dir.string() + ":v1"),
                              verifier_for("test-ecdsa-p256.pub"), {});
    FAIL("expected a digest mismatch");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::kDigestMismatch);
    CHECK(std::string(e.what()).find("b0dbeb22") != std::string::npos);
  }
}

TEST_CASE("signature layers: at the limit they are read, past it refused before any blob",
          "[verify][layout][limits]") {
  sigil::test::TempDir tmp;
  fs::copy(kData + "/image-oci", tmp.path() / "img", fs::copy_options::recursive);
  auto store = oci::open_oci_layout(tmp.path() / "img");
  auto image = Digest::parse(kV1);
  auto payload = data_file("cimage-signed-v1/sig-payload-0.json");
  auto der = data_file("cimage-signed-v1/sig-signature-0.der");
  // 100 distinct layers: vary the signature bytes (only the first is valid).
  CHECK(sig::append_cosign_signature(*store, image, payload, der));
  CHECK_FALSE(sig::append_cosign_signature(*store, image, payload, der));  // identical: skipped
  for (int i = 1; i < 100; ++i) {
    Bytes fake = der;
    fake.push_back(static_cast<std::uint8_t>(i));
    fake.push_back(static_cast<std::uint8_t>(i >> 8));
    REQUIRE(sig::append_cosign_signature(*store, image, payload, fake));
  }
  auto found = sig::read_cosign_signatures(*store, image);
  REQUIRE(found.has_value());
  CHECK(found->signatures.size() == 100);
  CHECK(verify::test::judge_stored(verifier_for("test-ecdsa-p256.pub"), image, found->signatures,
                                   {}, {})
            .verified());
  // The store refuses to grow past the limit ...
  Bytes more = der;
  more.push_back(0xff);
  more.push_back(0xfe);
  try {
    sig::append_cosign_signature(*store, image, payload, more);
    FAIL("expected a limit error");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::kLimit);
  }
}

TEST_CASE("a signature manifest with 101 layers is refused with a limit error",
          "[verify][layout][limits]") {
  sigil::test::TempDir tmp;
  fs::copy(kData + "/image-oci", tmp.path() / "img", fs::copy_options::recursive);
  auto store = oci::open_oci_layout(tmp.path() / "img");
  auto image = Digest::parse(kV1);
  auto payload = data_file("cimage-signed-v1/sig-payload-0.json");
  store->put_blob(payload, Digest::of(payload));
  oci::Manifest m;
  m.media_type = std::string(media_type::kOciManifest);
  m.config.media_type = std::string(media_type::kOciConfig);
  auto config = data_file("cimage-signed-v1/sig-config.json");
  store->put_blob(config, Digest::of(config));
  m.config.digest = Digest::of(config);
  m.config.size = config.size();
  for (int i = 0; i < 101; ++i) {
    oci::Descriptor l;
    l.media_type = std::string(media_type::kCosignSimpleSigning);
    l.digest = Digest::of(payload);
    l.size = payload.size();
    l.annotations[std::string(sig::kSignatureAnnotation)] = "AAAA";
    m.layers.push_back(l);
  }
  auto json = m.to_json();
  store->set_tag(sig::signature_tag(image),
                 store->put_manifest(as_bytes(json), media_type::kOciManifest));
  try {
    (void)sig::read_cosign_signatures(*store, image);
    FAIL("expected a limit error");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::kLimit);
    CHECK(std::string(e.what()).find("101 signature layers") != std::string::npos);
  }
}

TEST_CASE("a signature layer without the annotation is reported, never verified",
          "[verify][layout]") {
  sigil::test::TempDir tmp;
  fs::copy(kData + "/image-oci", tmp.path() / "img", fs::copy_options::recursive);
  auto store = oci::open_oci_layout(tmp.path() / "img");
  auto image = Digest::parse(kV1);
  auto manifest_text = std::string(as_string_view(data_file("cimage-signed-v1/sig-manifest.json")));
  auto pos = manifest_text.find(",\"annotations\"");
  REQUIRE(pos != std::string::npos);
  manifest_text = manifest_text.substr(0, pos) + "}]}";
  auto payload = data_file("cimage-signed-v1/sig-payload-0.json");
  auto config = data_file("cimage-signed-v1/sig-config.json");
  store->put_blob(payload, Digest::of(payload));
  store->put_blob(config, Digest::of(config));
  store->set_tag(sig::signature_tag(image),
                 store->put_manifest(as_bytes(manifest_text), media_type::kOciManifest));
  auto found = sig::read_cosign_signatures(*store, image);
  REQUIRE(found.has_value());
  REQUIRE(found->signatures.size() == 1);
  REQUIRE(found->signatures[0].problem.has_value());
  auto r = verify::test::judge_stored(verifier_for("test-ecdsa-p256.pub"), image, found->signatures,
                                      {}, {});
  CHECK_FALSE(r.verified());
  CHECK(r.signatures[0].reason == "layer has no dev.cosignproject.cosign/signature annotation");
}

namespace {

// The containers/image signature of v1 attached with its .sig manifest text changed by `edit`.
check::ImageVerification verify_with_edited_sig_manifest(
    const fs::path& dir, const std::function<void(std::string&)>& edit) {
  fs::copy(kData + "/image-oci", dir, fs::copy_options::recursive);
  auto store = oci::open_oci_layout(dir);
  auto image = Digest::parse(kV1);
  auto text = std::string(as_string_view(data_file("cimage-signed-v1/sig-manifest.json")));
  edit(text);
  auto payload = data_file("cimage-signed-v1/sig-payload-0.json");
  auto config = data_file("cimage-signed-v1/sig-config.json");
  store->put_blob(payload, Digest::of(payload));
  store->put_blob(config, Digest::of(config));
  store->set_tag(sig::signature_tag(image),
                 store->put_manifest(as_bytes(text), media_type::kOciManifest));
  return check::verify_image(*store, Reference::parse("oci:" + dir.string() + ":v1"),
                             verifier_for("test-ecdsa-p256.pub"), {});
}

void replace_once(std::string& text, const std::string& from, const std::string& to) {
  auto pos = text.find(from);
  REQUIRE(pos != std::string::npos);
  text.replace(pos, from.size(), to);
}

}  // namespace

TEST_CASE("a validly signed .sig layer of another media type is reported, never verified",
          "[verify][layout]") {
  sigil::test::TempDir tmp;
  auto v = verify_with_edited_sig_manifest(tmp / "img", [](std::string& text) {
    replace_once(text, std::string(media_type::kCosignSimpleSigning), "application/octet-stream");
  });
  REQUIRE(v.verdicts.size() == 1);
  CHECK_FALSE(v.verified());
  CHECK(v.verdicts[0].reason == "layer media type is 'application/octet-stream', not " +
                                    std::string(media_type::kCosignSimpleSigning));
}

TEST_CASE("a .sig layer whose signature annotation is empty is reported as such",
          "[verify][layout]") {
  sigil::test::TempDir tmp;
  auto v = verify_with_edited_sig_manifest(tmp / "img", [](std::string& text) {
    const std::string key = "\"dev.cosignproject.cosign/signature\":\"";
    auto start = text.find(key);
    REQUIRE(start != std::string::npos);
    start += key.size();
    text.erase(start, text.find('"', start) - start);
  });
  REQUIRE(v.verdicts.size() == 1);
  CHECK_FALSE(v.verified());
  CHECK(v.verdicts[0].reason == "signature annotation is empty");
}
