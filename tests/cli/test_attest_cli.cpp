// sigil attest, the real executable: what it writes into a layout in both formats, what it
// prints, --replace, --statement, --predicate auto from a recorded CI environment, a Trivy
// report wrapped for vuln, and the usage errors refused before any registry is asked anything.
#include <catch2/catch.hpp>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "libtrust/core/encoding.h"
#include "libtrust/crypto/key_file.h"
#include "libtrust/oci/layout.h"
#include "libtrust/sig/attest.h"
#include "libtrust/sig/dsse.h"
#include "support/process.h"

namespace fs = std::filesystem;
using nlohmann::json;
using sigil::test::kUnsetEnv;
using sigil::test::run_process;

namespace {

const std::string kSigil = SIGIL_BIN_DIR "/sigil";
const std::string kData = SIGIL_TEST_DATA;
const std::string kKey = kData + "/keys/test-ecdsa-p256.key";
const std::string kPub = kData + "/keys/test-ecdsa-p256.pub";

// No password in the environment, and no CI system either (unless a test records one).
std::map<std::string, std::string> clean_env() {
  std::map<std::string, std::string> env = {{"SIGIL_PASSWORD", kUnsetEnv},
                                            {"COSIGN_PASSWORD", kUnsetEnv},
                                            {"GITHUB_ACTIONS", kUnsetEnv},
                                            {"GITLAB_CI", kUnsetEnv},
                                            {"CI", kUnsetEnv}};
  return env;
}

struct Layout {
  sigil::test::TempDir tmp;
  std::string ref;
  Layout() {
    fs::copy(kData + "/sample-layout", tmp / "img", fs::copy_options::recursive);
    ref = "oci:" + (tmp / "img").string() + ":latest";
  }
  std::map<std::string, std::string> files() const {
    std::map<std::string, std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(tmp / "img")) {
      if (e.is_regular_file()) out[e.path().string()] = sigil::test::read_text_file(e.path());
    }
    return out;
  }
  fs::path write(const std::string& name, const std::string& text) const {
    sigil::test::write_text_file(tmp / name, text);
    return tmp / name;
  }
};

sigil::test::RunResult attest(std::vector<std::string> args,
                              std::map<std::string, std::string> env = clean_env()) {
  std::vector<std::string> argv = {kSigil, "attest",          "--key",
                                   kKey,   "--password-file", kData + "/keys/test-passphrase.txt"};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_process(argv, env);
}

// The statement of the layer `layer_digest` in the layout's .att manifest, verified with the
// test key.
json stored_statement(const std::string& ref, const std::string& layer_digest) {
  auto store = trust::oci::open_oci_layout(ref.substr(4, ref.rfind(':') - 4));
  auto image = store->resolve(trust::Reference::parse(ref));
  auto tag = store->find_tag(trust::sig::attestation_tag(image.digest));
  REQUIRE(tag);
  auto m = trust::oci::Manifest::parse(store->fetch_manifest(*tag), "att");
  for (const auto& l : m.layers) {
    if (l.digest.str() != layer_digest) continue;
    auto env = trust::sig::DsseEnvelope::parse(store->fetch_blob(l, 1 << 24), "layer");
    const trust::PublicKey keys[] = {trust::load_public_key(kPub)};
    auto v = env.verify(keys);
    REQUIRE(v);
    return json::parse(trust::as_string_view(v->payload));
  }
  FAIL("no layer " << layer_digest);
  return {};
}

}  // namespace

TEST_CASE("sigil attest --predicate signs a statement about the image into its .att tag",
          "[cli][attest]") {
  Layout l;
  auto p = l.write("p.json", R"({"reviewed": "yes"})");
  auto r = attest({"--predicate", p.string(), "--output", "json", l.ref});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto j = json::parse(r.out);
  CHECK(j["schemaVersion"] == 1);
  CHECK(j["format"] == "cosign");
  CHECK(j["predicateType"] == "https://cosign.sigstore.dev/attestation/v1");  // custom, as cosign
  const auto digest = j["digest"].get<std::string>();
  CHECK(j["attestationTag"] == "sha256-" + digest.substr(7) + ".att");
  CHECK(j["appended"] == true);
  CHECK(j["replaced"] == 0);
  CHECK_THAT(r.err, Catch::Contains("Attested " + digest +
                                    " as https://cosign.sigstore.dev/attestation/v1 -> oci:"));
  auto st = stored_statement(l.ref, j["layer"].get<std::string>());
  CHECK(st["predicate"] == json::parse(R"({"reviewed":"yes"})"));
  CHECK(st["subject"][0]["digest"]["sha256"] == digest.substr(7));
  CHECK(st["subject"][0]["name"] == "oci:" + fs::absolute(l.tmp / "img").string());
}

TEST_CASE("sigil attest --format bundle prints the referrer and bundle it attached",
          "[cli][attest][bundle]") {
  Layout l;
  auto p = l.write("p.json", R"({"a":1})");
  auto r = attest({"--predicate", p.string(), "--type", "https://example.com/review/v1", "--format",
                   "bundle", "--output", "json", l.ref});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto j = json::parse(r.out);
  CHECK(j["format"] == "bundle");
  CHECK(j["predicateType"] == "https://example.com/review/v1");
  CHECK(j["referrer"].get<std::string>().rfind("sha256:", 0) == 0);
  CHECK(j["bundle"].get<std::string>().rfind("sha256:", 0) == 0);
  CHECK_FALSE(j.contains("attestationTag"));
  CHECK_THAT(r.err, Catch::Contains(": referrer " + j["referrer"].get<std::string>()));
}

TEST_CASE("sigil attest --replace drops the earlier attestation of the type and keeps the others",
          "[cli][attest]") {
  Layout l;
  auto p = l.write("p.json", R"({"a":1})");
  REQUIRE(attest({"--predicate", p.string(), l.ref}).exit_code == 0);
  REQUIRE(
      attest({"--predicate", p.string(), "--type", "https://example.com/other", l.ref}).exit_code ==
      0);
  auto r = attest({"--predicate", p.string(), "--replace", "--output", "json", l.ref});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto j = json::parse(r.out);
  CHECK(j["replaced"] == 1);
  CHECK_THAT(r.err, Catch::Contains("(replaced 1)"));
}

TEST_CASE("sigil attest --statement signs a whole statement only if a subject names the image",
          "[cli][attest]") {
  Layout l;
  auto probe = attest({"--predicate", l.write("p.json", "{}").string(), "--output", "json", l.ref});
  REQUIRE(probe.exit_code == 0);
  const auto digest = json::parse(probe.out)["digest"].get<std::string>();
  const auto hex = digest.substr(7);

  auto good = l.write(
      "good.json",
      R"({"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a","digest":{"sha256":"0000000000000000000000000000000000000000000000000000000000000000"}},{"name":"app","digest":{"sha256":")" +
          hex + R"("}}],"predicateType":"https://example.com/t","predicate":{"x":1}})");
  auto r = attest({"--statement", good.string(), "--output", "json", l.ref});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto j = json::parse(r.out);
  CHECK(j["predicateType"] == "https://example.com/t");
  auto st = stored_statement(l.ref, j["layer"].get<std::string>());
  CHECK(st["subject"].size() == 2);
  CHECK(st["predicate"]["x"] == 1);

  const std::string other(64, '1');
  auto bad = l.write(
      "statement.json",
      R"({"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"lab/x","digest":{"sha256":")" +
          other + R"("}}],"predicateType":"https://example.com/t","predicate":{}})");
  const auto before = l.files();
  auto w = attest({"--statement", bad.string(), l.ref});
  CHECK(w.exit_code == 3);
  CHECK(w.err == "sigil: error: " + bad.string() + ": no subject names " + digest +
                     "; subjects: lab/x@sha256:" + other + "\n");
  CHECK(l.files() == before);
}

TEST_CASE("sigil attest refuses bad flag combinations with exit 2 before reading anything",
          "[cli][attest]") {
  // Nothing listens on port 1: an attempt to reach the registry would be another error.
  const std::string image = "127.0.0.1:1/lab/app:v1";
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{image}, "attest needs exactly one of --predicate FILE|-|auto and --statement FILE"},
      {{"--predicate", "p.json", "--statement", "s.json", image},
       "attest needs exactly one of --predicate FILE|-|auto and --statement FILE"},
      {{"--statement", "s.json", "--type", "spdxjson", image},
       "--type goes with --predicate: a --statement names its own predicateType"},
      {{"--predicate", "p.json", "--material", "pkg:x@sha256:00", image},
       "--material goes with --predicate auto only"},
      {{"--predicate", "p.json", "--replace", "--format", "bundle", image},
       "--replace works with --format cosign only: a bundle referrer cannot be taken back out "
       "of a registry's referrers listing safely"},
      {{"--predicate", "auto", "--type", "spdxjson", image},
       "--predicate auto builds SLSA provenance: it needs --type slsaprovenance, not "
       "https://spdx.dev/Document"},
  };
  for (const auto& c : cases) {
    auto r = attest(c.args);
    INFO(r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.err == "sigil: error: " + c.message + "\n");
  }
  auto t = attest({"--predicate", "p.json", "--type", "nosuchtype", image});
  CHECK(t.exit_code == 2);
  CHECK_THAT(t.err, Catch::Contains("nosuchtype"));
}

TEST_CASE("sigil attest writes nothing when the predicate has the wrong shape for its type",
          "[cli][attest]") {
  Layout l;
  auto p = l.write("sbom.json", R"({"not":"an SPDX document"})");
  const auto before = l.files();
  auto r = attest({"--predicate", p.string(), "--type", "spdxjson", l.ref});
  CHECK(r.exit_code == 3);
  CHECK_THAT(r.err, Catch::StartsWith("sigil: error: " + p.string()));
  CHECK(l.files() == before);
  auto list = l.write("list.json", "[1,2]");
  auto s = attest({"--predicate", list.string(), l.ref});
  CHECK(s.exit_code == 3);
  CHECK(l.files() == before);
}

TEST_CASE("sigil attest --predicate auto outside CI names the variables and signs nothing",
          "[cli][attest][provenance]") {
  Layout l;
  const auto before = l.files();
  auto r = attest({"--predicate", "auto", "--type", "slsaprovenance", l.ref});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("GitHub Actions needs"));
  CHECK_THAT(r.err, Catch::Contains("GitLab CI needs"));
  CHECK(l.files() == before);
}

TEST_CASE("sigil attest --predicate auto builds SLSA v1 provenance from a GitHub Actions run",
          "[cli][attest][provenance]") {
  Layout l;
  // The variables GitHub documents for every workflow run (docs.github.com, "Variables").
  auto env = clean_env();
  env.insert_or_assign("GITHUB_ACTIONS", "true");
  env.insert_or_assign("CI", "true");
  env.insert_or_assign("GITHUB_SERVER_URL", "https://github.com");
  env.insert_or_assign("GITHUB_REPOSITORY", "octo-org/app");
  env.insert_or_assign("GITHUB_REPOSITORY_ID", "123456");
  env.insert_or_assign("GITHUB_REPOSITORY_OWNER_ID", "654321");
  env.insert_or_assign("GITHUB_SHA", "0123456789abcdef0123456789abcdef01234567");
  env.insert_or_assign("GITHUB_REF", "refs/tags/v1.2.3");
  env.insert_or_assign("GITHUB_WORKFLOW", "release");
  env.insert_or_assign("GITHUB_WORKFLOW_REF",
                       "octo-org/app/.github/workflows/release.yml@refs/tags/v1.2.3");
  env.insert_or_assign("GITHUB_WORKFLOW_SHA", "0123456789abcdef0123456789abcdef01234567");
  env.insert_or_assign("GITHUB_EVENT_NAME", "push");
  env.insert_or_assign("GITHUB_RUN_ID", "9876543210");
  env.insert_or_assign("GITHUB_RUN_NUMBER", "42");
  env.insert_or_assign("GITHUB_RUN_ATTEMPT", "1");
  env.insert_or_assign("GITHUB_ACTOR", "octocat");
  env.insert_or_assign("GITHUB_JOB", "build");
  env.insert_or_assign("RUNNER_OS", "Linux");
  env.insert_or_assign("RUNNER_ARCH", "X64");
  env.insert_or_assign("RUNNER_ENVIRONMENT", "github-hosted");
  const std::string material = "pkg:deb/debian/openssl@sha256:" + std::string(64, 'a');
  auto r = attest({"--predicate", "auto", "--type", "slsaprovenance", "--material", material,
                   "--output", "json", l.ref},
                  env);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto j = json::parse(r.out);
  CHECK(j["predicateType"] == "https://slsa.dev/provenance/v1");
  auto st = stored_statement(l.ref, j["layer"].get<std::string>());
  const auto& pred = st["predicate"];
  CHECK(pred["buildDefinition"].contains("buildType"));
  CHECK(pred["runDetails"]["builder"].contains("id"));
  CHECK(pred.dump().find("octo-org/app") != std::string::npos);
  CHECK(pred.dump().find("0123456789abcdef0123456789abcdef01234567") != std::string::npos);
  CHECK(pred.dump().find(std::string(64, 'a')) != std::string::npos);
}

TEST_CASE("sigil attest --type vuln wraps a Trivy report into cosign's vuln predicate",
          "[cli][attest][vuln]") {
  Layout l;
  const std::string report =
      R"J({"SchemaVersion":2,"CreatedAt":"2026-11-30T10:00:00Z","ArtifactName":"lab/app:v1",)J"
      R"J("ArtifactType":"container_image","Metadata":{"OS":{"Family":"debian","Name":"12.8"}},)J"
      R"J("Results":[{"Target":"lab/app:v1 (debian 12.8)","Class":"os-pkgs","Type":"debian",)J"
      R"J("Vulnerabilities":[{"VulnerabilityID":"CVE-2024-0001","PkgName":"openssl",)J"
      R"J("InstalledVersion":"3.0.14-1","Severity":"HIGH"}]}]})J";
  auto p = l.write("trivy.json", report);
  auto r = attest({"--predicate", p.string(), "--type", "vuln", "--output", "json", l.ref});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto j = json::parse(r.out);
  CHECK(j["predicateType"] == "https://cosign.sigstore.dev/attestation/vuln/v1");
  auto st = stored_statement(l.ref, j["layer"].get<std::string>());
  CHECK(st["predicate"]["scanner"]["result"] == json::parse(report));
  CHECK(st["predicate"]["scanner"].contains("uri"));
}

TEST_CASE(
    "sigil attest writes nothing for a wrong password or statement or type, or a read-only source",
    "[cli][attest]") {
  Layout l;
  auto p = l.write("p.json", R"({"a":1})");
  auto wrong = l.write("wrong.txt", "not the password\n");
  auto empty = l.write("empty.json", R"({"_type":"https://in-toto.io/Statement/v1","subject":[],)"
                                     R"("predicateType":"https://example.com/t","predicate":{}})");
  const auto before = l.files();

  auto pw = run_process({kSigil, "attest", "--key", kKey, "--password-file", wrong.string(),
                         "--predicate", p.string(), l.ref},
                        clean_env());
  CHECK(pw.exit_code == 3);
  CHECK(pw.err ==
        "sigil: error: " + kKey + ": wrong password or corrupted key (decryption failed)\n");

  auto st = attest({"--statement", empty.string(), l.ref});
  CHECK(st.exit_code == 3);
  CHECK(st.err == "sigil: error: " + empty.string() + ": in-toto statement has no subject\n");

  auto ty = attest({"--type", "nosuch", "--predicate", p.string(), l.ref});
  CHECK(ty.exit_code == 2);
  CHECK(ty.err ==
        "sigil: error: unknown predicate type 'nosuch' (expected one of: slsaprovenance, "
        "slsaprovenance02, slsaprovenance1, link, spdx, spdxjson, cyclonedx, vuln, openvex, "
        "custom, or an absolute URI)\n");

  auto ro = attest({"--predicate", p.string(), "docker-archive:" + (l.tmp / "none.tar").string()});
  CHECK(ro.exit_code == 3);
  CHECK_THAT(ro.err, Catch::Contains("docker-archive sources are read-only"));
  CHECK(l.files() == before);
}
