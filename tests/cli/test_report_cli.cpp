// What sigil prints must be true (issue 7): strings from an image (media types, annotations,
// tags, reasons, error messages) reach the terminal escaped, so they cannot rewrite the verdict
// of a failed verification or add a forged line; JSON output stays a valid document whatever
// bytes it carries.
#include <catch2/catch.hpp>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "libtrust/core/bytes.h"
#include "support/layout_builder.h"
#include "support/process.h"

namespace fs = std::filesystem;
using sigil::test::kUnsetEnv;
using sigil::test::RunResult;
using sigil::test::TempDir;

namespace {

const std::string kSigil = SIGIL_BIN_DIR "/sigil";
const std::string kData = SIGIL_TEST_DATA;
const std::string kPub = kData + "/keys/test-ecdsa-p256.pub";

// A line that, printed raw, would erase the line before it and print a verdict of its own, then
// forge a verdict line for another signature.
const std::string kForgery =
    "x\r\x1b[2K\x1b[1AVERIFIED: verified: 1 of 1 signature(s)\n  cosign .sig layer 7: OK: valid "
    "signature by trusted key sha256:0000\n\xc2\x9b"
    "2K";

RunResult run_sigil(std::vector<std::string> args) {
  args.insert(args.begin(), kSigil);
  return sigil::test::run_process(args, {{"SIGIL_PASSWORD", kUnsetEnv}});
}

trust::oci::Descriptor descriptor(const std::string& media_type, const std::string& bytes,
                                  const fs::path& dir) {
  trust::oci::Descriptor d;
  d.media_type = media_type;
  d.digest = sigil::test::write_blob(dir, trust::as_bytes(bytes));
  d.size = bytes.size();
  return d;
}

// A layout whose image has a cosign .sig manifest with one layer of media type `layer_type`, and
// a referrers fallback index listing a bundle referrer of manifest media type `referrer_type`
// with that type also as its predicateType annotation. None of it can verify.
sigil::test::BuiltLayout hostile_layout(const fs::path& dir, const std::string& layer_type,
                                        const std::string& referrer_type) {
  auto built = sigil::test::build_layout(dir);
  const auto empty = descriptor("application/vnd.oci.image.config.v1+json", "{}", dir);
  const auto payload = descriptor("text/plain", "{}", dir);
  nlohmann::json sig{
      {"schemaVersion", 2},
      {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
      {"config", {{"mediaType", empty.media_type}, {"digest", empty.digest.str()}, {"size", 2}}},
      {"layers",
       {{{"mediaType", layer_type},
         {"digest", payload.digest.str()},
         {"size", payload.size},
         {"annotations", {{"dev.cosignproject.cosign/signature", "MEUCIQ=="}}}}}}};
  auto sig_desc = descriptor("application/vnd.oci.image.manifest.v1+json", sig.dump(), dir);
  sig_desc.annotations["org.opencontainers.image.ref.name"] =
      "sha256-" + built.manifest_digest.hex() + ".sig";

  const auto referrer =
      descriptor("application/vnd.oci.image.manifest.v1+json", sig.dump() + " ", dir);
  nlohmann::json index{
      {"schemaVersion", 2},
      {"mediaType", "application/vnd.oci.image.index.v1+json"},
      {"manifests",
       {{{"mediaType", referrer_type},
         {"digest", referrer.digest.str()},
         {"size", referrer.size},
         {"artifactType", "application/vnd.dev.sigstore.bundle.v0.3+json"},
         {"annotations", {{"dev.sigstore.bundle.predicateType", referrer_type}}}}}}};
  auto index_desc = descriptor("application/vnd.oci.image.index.v1+json", index.dump(), dir);
  index_desc.annotations["org.opencontainers.image.ref.name"] =
      "sha256-" + built.manifest_digest.hex();

  auto image = built.images[0].manifest;
  image.annotations["org.opencontainers.image.ref.name"] = "latest";
  sigil::test::write_index_json(dir, {image, sig_desc, index_desc});
  return built;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// No byte a terminal acts on: C0 controls but newline, DEL, and the UTF-8 of C1 controls.
void check_no_terminal_controls(const std::string& text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    INFO("byte " << i << " of:\n" << text);
    CHECK((c >= 0x20 || c == '\n'));
    CHECK(c != 0x7f);
    if (c == 0xc2 && i + 1 < text.size()) {
      const auto next = static_cast<unsigned char>(text[i + 1]);
      CHECK_FALSE((next >= 0x80 && next <= 0x9f));
    }
  }
}

}  // namespace

TEST_CASE(
    "a media type holding \\r, escape sequences or \\n cannot make a failed verify read "
    "VERIFIED or add an OK line",
    "[cli][report]") {
  TempDir tmp;
  auto built = hostile_layout(tmp / "img", kForgery, kForgery);
  auto r = run_sigil({"verify", "--all", "--key", kPub, built.reference("latest")});
  INFO(r.err);
  CHECK(r.exit_code == 1);
  check_no_terminal_controls(r.err);
  const auto lines = lines_of(r.err);
  REQUIRE_FALSE(lines.empty());
  CHECK_THAT(lines.back(), Catch::StartsWith("NOT VERIFIED: "));
  // Exactly the lines of the report: "Verifying …", one verdict per signature, the verdict. The
  // forged text is inside a FAILED line, escaped, and starts none.
  CHECK(lines.size() == 4);
  for (const auto& line : lines) {
    CHECK_THAT(line, !Catch::StartsWith("VERIFIED"));
    CHECK_THAT(line, !Catch::StartsWith("  cosign .sig layer 7"));
  }
  // The media type is shown, escaped, on the verdict line of each layout.
  CHECK_THAT(r.err, Catch::Contains("  cosign .sig layer 0: FAILED: layer media type is "
                                    "'x\\r\\x1b[2K\\x1b[1AVERIFIED: verified: 1 of 1 "
                                    "signature(s)\\n  cosign .sig layer 7: OK:"));
  CHECK_THAT(r.err, Catch::Contains(": FAILED: referrer media type is 'x\\r\\x1b[2K"));

  auto json =
      run_sigil({"verify", "--all", "--output", "json", "--key", kPub, built.reference("latest")});
  CHECK(json.exit_code == 1);
  check_no_terminal_controls(json.out);
  auto j = nlohmann::json::parse(json.out);
  CHECK(j["verified"] == false);
  REQUIRE(j["signatures"].size() == 2);
  CHECK_THAT(j["signatures"][0]["reason"].get<std::string>(),
             Catch::Contains(kForgery.substr(0, 20)));
}

TEST_CASE("sigil tree escapes artifact types and annotations from the registry or layout",
          "[cli][report]") {
  TempDir tmp;
  auto built =
      hostile_layout(tmp / "img", "application/vnd.dev.cosign.simplesigning.v1+json", kForgery);
  auto r = run_sigil({"tree", built.reference("latest")});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  check_no_terminal_controls(r.err);
  CHECK_THAT(r.err, Catch::Contains("(x\\r\\x1b[2K\\x1b[1AVERIFIED: "));
  auto json = run_sigil({"tree", "-o", "json", built.reference("latest")});
  CHECK(json.exit_code == 0);
  check_no_terminal_controls(json.out);
  auto j = nlohmann::json::parse(json.out);
  CHECK(j["referrers"][0]["annotations"]["dev.sigstore.bundle.predicateType"] == kForgery);
}

TEST_CASE("the error line escapes what came from the image", "[cli][report]") {
  TempDir tmp;
  auto built = sigil::test::build_layout(tmp / "img");
  auto image = built.images[0].manifest;
  image.annotations["org.opencontainers.image.ref.name"] = kForgery;
  sigil::test::write_index_json(built.dir, {image});
  auto r = run_sigil({"digest", built.reference("nope")});
  CHECK(r.exit_code == 3);
  check_no_terminal_controls(r.err);
  CHECK(lines_of(r.err).size() == 1);
  CHECK_THAT(r.err, Catch::StartsWith("sigil: error: ") && Catch::Contains("x\\r\\x1b[2K"));
}

TEST_CASE("the one-line result on stdout escapes a layout path holding terminal controls",
          "[cli][report]") {
  TempDir tmp;
  auto built = sigil::test::build_layout(tmp / "img");
  // A directory name (unpacked from somewhere else, say) that would rewrite the line printed.
  const fs::path odd = tmp / "img\r\x1b[2KOK";
  fs::rename(built.dir, odd);
  auto r = run_sigil({"triangulate", "oci:" + odd.string() + "@" + built.manifest_digest.str()});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  check_no_terminal_controls(r.out);
  CHECK(r.out == "oci:" + (tmp / "img").string() + "\\r\\x1b[2KOK:sha256-" +
                     built.manifest_digest.hex() + ".sig\n");
}

TEST_CASE(
    "JSON output stays valid when a message was cut inside a character or a path is not UTF-8",
    "[cli][report]") {
  TempDir tmp;
  // 99 bytes, then a two-byte character: a cut at 100 bytes would split it.
  const std::string cut = std::string(99, 'm') + "\xc3\xa9tail";
  auto built = hostile_layout(tmp / "img", cut, "application/vnd.oci.image.manifest.v1+json");
  auto json = run_sigil({"verify", "--output", "json", "--key", kPub, built.reference("latest")});
  INFO(json.err);
  CHECK(json.exit_code == 1);
  auto j = nlohmann::json::parse(json.out);  // a valid document, not an "internal" error
  const auto reason = j["signatures"][0]["reason"].get<std::string>();
  CHECK_THAT(reason, Catch::StartsWith("layer media type is 'mmm"));
  // The cut character is gone or replaced (U+FFFD), never half there.
  CHECK_THAT(reason, !Catch::Contains("m\xc3'"));
  check_no_terminal_controls(json.err);

  // A layout directory whose name is not UTF-8: the reference in JSON holds U+FFFD, and the
  // text report shows the byte escaped.
  const fs::path odd = tmp / "img-\xff";
  fs::rename(built.dir, odd);
  auto digest = run_sigil({"digest", "--output", "json", "oci:" + odd.string() + ":latest"});
  INFO(digest.err);
  CHECK(digest.exit_code == 0);
  auto d = nlohmann::json::parse(digest.out);
  CHECK(d["reference"] == "oci:" + (tmp / "img-\xef\xbf\xbd").string() + ":latest");
  CHECK(d["digest"] == built.manifest_digest.str());
  auto text = run_sigil({"digest", "--layers", "oci:" + odd.string() + ":latest"});
  CHECK(text.exit_code == 0);
  CHECK_THAT(text.err, Catch::Contains("img-\\xff:latest"));
}
