// sigil key …: the real binary, run without a terminal, checked on exit codes, output and files.

#include <sys/stat.h>

#include <catch2/catch.hpp>

#include <optional>
#include <regex>
#include <sstream>

#include "crypto/key_fixtures.h"
#include "libtrust/core/encoding.h"
#include "libtrust/crypto/key_file.h"
#include "support/process.h"

#include <nlohmann/json.hpp>

using sigil::test::kUnsetEnv;
using sigil::test::read_text_file;
using sigil::test::RunResult;
using sigil::test::TempDir;
using sigil::test::write_text_file;

namespace {

const std::string kSigil = SIGIL_BIN_DIR "/sigil";
const std::string kData = SIGIL_TEST_DATA;
const std::string kRefKey = kData + "/keys/test-ecdsa-p256.key";
const std::string kRefPub = kData + "/keys/test-ecdsa-p256.pub";

std::string ref_password() {
  auto text = read_text_file(kData + "/keys/test-passphrase.txt");
  return text.substr(0, text.find('\n'));
}

// Runs `sigil ARGS…` with the password (if any) in SIGIL_PASSWORD and no other password source.
RunResult run_sigil(std::vector<std::string> args,
                    std::optional<std::string> password = std::nullopt,
                    const std::filesystem::path& cwd = {}) {
  args.insert(args.begin(), kSigil);
  return sigil::test::run_process(
      std::move(args),
      {{"SIGIL_PASSWORD", password ? *password : kUnsetEnv}, {"COSIGN_PASSWORD", kUnsetEnv}}, "",
      {.cwd = cwd});
}

unsigned mode_of(const std::filesystem::path& p) {
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return st.st_mode & 0777;
}

std::string key_id_in(const std::string& text) {
  std::smatch m;
  static const std::regex id("sha256:[0-9a-f]{64}");
  return std::regex_search(text, m, id) ? m.str() : "";
}

}  // namespace

TEST_CASE("sigil key generate writes cosign.key (0600) and cosign.pub and prints the key id",
          "[cli][key]") {
  TempDir dir;
  auto r = run_sigil({"key", "generate"}, "pw", dir.path());
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(mode_of(dir / "cosign.key") == 0600);
  CHECK(mode_of(dir / "cosign.pub") == 0644);
  auto key_pem = read_text_file(dir / "cosign.key");
  CHECK(key_pem.rfind("-----BEGIN ENCRYPTED COSIGN PRIVATE KEY-----\n", 0) == 0);
  auto id = key_id_in(r.err);
  REQUIRE_FALSE(id.empty());
  CHECK_THAT(r.err, Catch::Contains("cosign.key") && Catch::Contains("cosign.pub"));

  auto fp = run_sigil({"key", "fingerprint", (dir / "cosign.pub").string()});
  CHECK(fp.exit_code == 0);
  CHECK(fp.out == id + "\n");
  auto fp_key = run_sigil({"key", "fingerprint", (dir / "cosign.key").string()}, "pw");
  CHECK(fp_key.out == id + "\n");

  auto pub = run_sigil({"key", "public", "--key", (dir / "cosign.key").string()}, "pw");
  CHECK(pub.exit_code == 0);
  CHECK(pub.out == read_text_file(dir / "cosign.pub"));
}

TEST_CASE("sigil key generate: type, prefix, standard KDF and JSON output", "[cli][key]") {
  TempDir dir;
  auto prefix = (dir / "ed").string();
  auto r = run_sigil({"key", "generate", "--type", "ed25519", "--kdf", "standard",
                      "--output-prefix", prefix, "--output", "json"},
                     "pw");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto generated = nlohmann::json::parse(r.out);
  CHECK(generated == nlohmann::json{{"schemaVersion", 1},
                                    {"privateKeyFile", prefix + ".key"},
                                    {"publicKeyFile", prefix + ".pub"},
                                    {"keyId", key_id_in(r.out)},
                                    {"type", "ed25519"}});
  CHECK(r.err.empty());
  CHECK(read_text_file(prefix + ".key").rfind("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY", 0) == 0);
  auto json = run_sigil({"key", "fingerprint", prefix + ".pub", "--output", "json"});
  CHECK(json.exit_code == 0);
  CHECK(nlohmann::json::parse(json.out) == nlohmann::json{{"schemaVersion", 1},
                                                          {"key", prefix + ".pub"},
                                                          {"keyId", key_id_in(r.out)},
                                                          {"type", "ed25519"}});
}

TEST_CASE("sigil key generate: bad --type, --kdf or a verify-only type is a usage error (2)",
          "[cli][key]") {
  TempDir dir;
  auto r = run_sigil(
      {"key", "generate", "--type", "ecdsa-p521", "--output-prefix", (dir / "k").string()}, "pw");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("ecdsa-p521") && Catch::Contains("ecdsa-p256"));
  CHECK(
      run_sigil({"key", "generate", "--kdf", "fast", "--output-prefix", (dir / "k").string()}, "pw")
          .exit_code == 2);
  CHECK(
      run_sigil({"key", "generate", "--type", "rsa-2048", "--output-prefix", (dir / "k").string()},
                "pw")
          .exit_code == 2);
  CHECK(run_sigil({"key", "generate", "--no-such-flag"}, "pw").exit_code == 2);
  CHECK_FALSE(std::filesystem::exists(dir / "k.key"));
}

TEST_CASE("sigil key generate refuses to overwrite without --force (3), original untouched",
          "[cli][key]") {
  TempDir dir;
  auto prefix = (dir / "k").string();
  write_text_file(prefix + ".key", "precious");
  auto r = run_sigil({"key", "generate", "--output-prefix", prefix}, "pw");
  CHECK(r.exit_code == 3);
  CHECK_THAT(r.err, Catch::Contains(prefix + ".key") && Catch::Contains("already exists"));
  CHECK(read_text_file(prefix + ".key") == "precious");
  CHECK_FALSE(std::filesystem::exists(prefix + ".pub"));
  auto forced = run_sigil({"key", "generate", "--output-prefix", prefix, "--force"}, "pw");
  CHECK(forced.exit_code == 0);
  CHECK(read_text_file(prefix + ".key") != "precious");
  CHECK(mode_of(prefix + ".key") == 0600);
}

TEST_CASE("sigil key public: the reference key, --output-file, JSON, wrong password (3)",
          "[cli][key]") {
  auto r = run_sigil({"key", "public", "--key", kRefKey}, ref_password());
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out == read_text_file(kRefPub));

  auto wrong = run_sigil({"key", "public", "--key", kRefKey}, "wrong");
  CHECK(wrong.exit_code == 3);
  CHECK_THAT(wrong.err, Catch::Contains(kRefKey) && Catch::Contains("wrong password"));
  CHECK(wrong.out.empty());

  TempDir dir;
  write_text_file(dir / "pw.txt", ref_password() + "\n");
  auto out = (dir / "out.pub").string();
  auto to_file = run_sigil({"key", "public", "--key", kRefKey, "--output-file", out,
                            "--password-file", (dir / "pw.txt").string()});
  CHECK(to_file.exit_code == 0);
  CHECK(to_file.out.empty());
  CHECK(to_file.err == "Public key written to " + out + "\n");
  CHECK(read_text_file(out) == read_text_file(kRefPub));
  auto again = run_sigil({"key", "public", "--key", kRefPub, "--output-file", out});
  CHECK(again.exit_code == 3);
  CHECK(run_sigil({"key", "public", "--key", kRefPub, "--output-file", out, "--force"}).exit_code ==
        0);

  // --output is the format everywhere: a file name there is a usage error that says so.
  auto old_form = run_sigil({"key", "public", "--key", kRefPub, "--output", out});
  CHECK(old_form.exit_code == 2);
  CHECK(old_form.err == "sigil: error: --output: '" + out +
                            "' is not one of text, json (--output is the format; write the key "
                            "to a file with --output-file) (see sigil key public --help)\n");

  auto json = run_sigil({"key", "public", "--key", kRefPub, "-o", "json"});
  CHECK(json.exit_code == 0);
  auto j = nlohmann::json::parse(json.out);
  CHECK(j["schemaVersion"] == 1);
  CHECK(j["publicKey"] == read_text_file(kRefPub));
  CHECK(j["keyId"] == key_id_in(run_sigil({"key", "fingerprint", kRefPub}).out));
  CHECK(j["type"] == "ecdsa-p256");
  CHECK(j["file"].is_null());
}

TEST_CASE("no password source and no terminal is a usage error (2)", "[cli][key]") {
  auto r = run_sigil({"key", "public", "--key", kRefKey});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("no password: set SIGIL_PASSWORD or COSIGN_PASSWORD, pass "
                                    "--password-file, or run on a terminal"));
  TempDir dir;
  auto g = run_sigil({"key", "generate", "--output-prefix", (dir / "k").string()});
  CHECK(g.exit_code == 2);
  CHECK_FALSE(std::filesystem::exists(dir / "k.key"));
  // COSIGN_PASSWORD works, and set-but-empty is a password.
  auto cosign_env =
      sigil::test::run_process({kSigil, "key", "generate", "--output-prefix", (dir / "c").string()},
                               {{"SIGIL_PASSWORD", kUnsetEnv}, {"COSIGN_PASSWORD", ""}});
  CHECK(cosign_env.exit_code == 0);
  CHECK(run_sigil({"key", "fingerprint", (dir / "c.key").string()}, "").exit_code == 0);
  CHECK(run_sigil({"key", "public", "--key", kRefKey, "--password-file", (dir / "none").string()})
            .exit_code == 3);
}

TEST_CASE("bad key files: exit 3 with a message naming the file", "[cli][key]") {
  TempDir dir;
  auto wrap = [](const std::string& type, const std::string& body) {
    return "-----BEGIN " + type + "-----\n" + trust::base64_encode(trust::as_bytes(body)) +
           "\n-----END " + type + "-----\n";
  };
  auto ref_body = [] {
    auto pem = read_text_file(kRefKey);
    std::string b64;
    std::istringstream lines(pem);
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind("-----", 0) != 0) b64 += line;
    }
    auto bytes = trust::base64_decode(b64, "ref");
    return std::string(bytes.begin(), bytes.end());
  }();
  struct Case {
    std::string name, content, says;
  };
  const std::vector<Case> cases{
      {"b64.key",
       "-----BEGIN ENCRYPTED COSIGN PRIVATE KEY-----\n@@@@\n-----END ENCRYPTED COSIGN PRIVATE "
       "KEY-----\n",
       "base64"},
      {"json.key", wrap("ENCRYPTED COSIGN PRIVATE KEY", "{not json"), "JSON"},
      {"fields.key", wrap("ENCRYPTED COSIGN PRIVATE KEY", R"({"kdf":{"name":"scrypt"}})"),
       "missing field"},
      {"type.key", wrap("SOMETHING ELSE", ref_body), "unknown PEM type"},
      {"big-n.key",
       wrap("ENCRYPTED COSIGN PRIVATE KEY",
            std::regex_replace(ref_body, std::regex("\"N\":32768"), "\"N\":1048576")),
       "N=1048576"},
      {"small-n.key",
       wrap("ENCRYPTED SIGSTORE PRIVATE KEY",
            std::regex_replace(ref_body, std::regex("\"N\":32768"), "\"N\":16384")),
       "N=16384"},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    auto path = (dir / c.name).string();
    write_text_file(path, c.content);
    auto r = run_sigil({"key", "public", "--key", path}, "pw");
    CHECK(r.exit_code == 3);
    CHECK_THAT(r.err, Catch::Contains(path) && Catch::Contains(c.says));
  }
  auto missing = run_sigil({"key", "fingerprint", (dir / "missing.pub").string()});
  CHECK(missing.exit_code == 3);
  CHECK_THAT(missing.err, Catch::Contains("missing.pub"));
}

TEST_CASE("sigil key import: SEC1 and PKCS#8 in: unsupported curves refused (3)", "[cli][key]") {
  TempDir dir;
  auto ec = sigil::test::openssl_ec_key("P-256");
  write_text_file(dir / "ec.pem", sigil::test::pem_traditional(ec.get()));
  auto r = run_sigil(
      {"key", "import", (dir / "ec.pem").string(), "--output-prefix", (dir / "imported").string()},
      "pw");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(mode_of(dir / "imported.key") == 0600);
  CHECK(read_text_file(dir / "imported.pub") == sigil::test::pem_public(ec.get()));
  auto pub = run_sigil({"key", "public", "--key", (dir / "imported.key").string()}, "pw");
  CHECK(pub.out == sigil::test::pem_public(ec.get()));
  // fingerprint reads the unencrypted file too, and agrees.
  CHECK(run_sigil({"key", "fingerprint", (dir / "ec.pem").string()}).out ==
        run_sigil({"key", "fingerprint", (dir / "imported.pub").string()}).out);

  auto ed = sigil::test::openssl_key("ED25519");
  write_text_file(dir / "ed.pem", sigil::test::pem_pkcs8(ed.get()));
  CHECK(run_sigil({"key", "import", (dir / "ed.pem").string(), "--output-prefix",
                   (dir / "ed").string(), "--kdf", "standard"},
                  "pw")
            .exit_code == 0);
  // Importing again onto the same prefix is refused.
  CHECK(run_sigil(
            {"key", "import", (dir / "ed.pem").string(), "--output-prefix", (dir / "ed").string()},
            "pw")
            .exit_code == 3);

  struct Bad {
    std::string name, curve;
  };
  for (const auto& b : {Bad{"p521.pem", "P-521"}, Bad{"k1.pem", "secp256k1"}}) {
    auto k = sigil::test::openssl_ec_key(b.curve.c_str());
    auto path = (dir / b.name).string();
    write_text_file(path, sigil::test::pem_traditional(k.get()));
    auto bad = run_sigil({"key", "import", path, "--output-prefix", (dir / "bad").string()}, "pw");
    CHECK(bad.exit_code == 3);
    CHECK_THAT(bad.err, Catch::Contains(path) && Catch::Contains(b.curve));
    auto fp = run_sigil({"key", "fingerprint", path});
    CHECK(fp.exit_code == 3);
  }
  CHECK_FALSE(std::filesystem::exists(dir / "bad.key"));
  auto garbage = (dir / "garbage.pem").string();
  write_text_file(garbage, "hello");
  auto g = run_sigil({"key", "import", garbage}, "pw", dir.path());
  CHECK(g.exit_code == 3);
  CHECK_THAT(g.err, Catch::Contains(garbage));
}
