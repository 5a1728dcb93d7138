// Key references through the real executables: env://VAR, -, FIFOs, and the refusals (unset or
// empty variables, pkcs11:, a key and its password both on standard input).
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <thread>

#include "support/process.h"

namespace fs = std::filesystem;
using sigil::test::kUnsetEnv;
using sigil::test::read_text_file;
using sigil::test::run_process;
using sigil::test::RunResult;
using sigil::test::TempDir;

namespace {

const std::string kSigil = SIGIL_BIN_DIR "/sigil";
const std::string kSigilVerify = SIGIL_BIN_DIR "/sigil-verify";
const std::string kData = SIGIL_TEST_DATA;
const std::string kRefKey = kData + "/keys/test-ecdsa-p256.key";
const std::string kRefPub = kData + "/keys/test-ecdsa-p256.pub";
const std::string kPassFile = kData + "/keys/test-passphrase.txt";

std::string ref_password() {
  auto text = read_text_file(kPassFile);
  return text.substr(0, text.find('\n'));
}

std::string copy_sample(const TempDir& tmp) {
  fs::copy(kData + "/sample-layout", tmp / "img", fs::copy_options::recursive);
  return "oci:" + (tmp / "img").string() + ":latest";
}

// The environment of every run here: no password unless given, plus `extra`.
std::map<std::string, std::string> env_with(std::map<std::string, std::string> extra) {
  extra.emplace("SIGIL_PASSWORD", kUnsetEnv);
  extra.emplace("COSIGN_PASSWORD", kUnsetEnv);
  return extra;
}

// Writes `data` into a FIFO from a thread (which waits until the program opens it).
class FifoWriter {
 public:
  FifoWriter(const fs::path& path, std::string data) {
    REQUIRE(::mkfifo(path.c_str(), 0600) == 0);
    ::signal(SIGPIPE, SIG_IGN);
    thread_ = std::thread([path, d = std::move(data)] {
      // Waits for the reader without blocking for good: a reader that never comes (the program
      // failed first) must not hang the test.
      int fd = -1;
      for (int waited_ms = 0; fd < 0 && waited_ms < 60'000; waited_ms += 5) {
        fd = ::open(path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
      if (fd < 0) return;
      ::fcntl(fd, F_SETFL, 0);  // blocking writes from here on
      std::size_t put = 0;
      while (put < d.size()) {
        auto n = ::write(fd, d.data() + put, d.size() - put);
        if (n <= 0) break;
        put += static_cast<std::size_t>(n);
      }
      ::close(fd);
    });
  }
  ~FifoWriter() { thread_.join(); }
  FifoWriter(const FifoWriter&) = delete;
  FifoWriter& operator=(const FifoWriter&) = delete;

 private:
  std::thread thread_;
};

}  // namespace

TEST_CASE("sigil sign --key env://KEY, then sigil verify and sigil-verify --key env://PUB",
          "[cli][key_ref]") {
  TempDir tmp;
  auto ref = copy_sample(tmp);
  auto s = run_process({kSigil, "sign", "--key", "env://SIGIL_SIGNING_KEY", ref},
                       env_with({{"SIGIL_SIGNING_KEY", read_text_file(kRefKey)},
                                 {"SIGIL_PASSWORD", ref_password()}}));
  INFO(s.err);
  REQUIRE(s.exit_code == 0);
  for (const auto& bin : {kSigil, kSigilVerify}) {
    auto v = run_process({bin, "verify", "--key", "env://SIGIL_PUB", ref},
                         env_with({{"SIGIL_PUB", read_text_file(kRefPub)}}));
    INFO(bin << ": " << v.err);
    CHECK(v.exit_code == 0);
    CHECK_THAT(v.err, Catch::Contains("VERIFIED"));
    // The other key in the variable: verification fails (exit 1), so the variable was used.
    auto w = run_process(
        {bin, "verify", "--key", "env://SIGIL_PUB", ref},
        env_with({{"SIGIL_PUB", read_text_file(kData + "/keys/other-ecdsa-p256.pub")}}));
    CHECK(w.exit_code == 1);
  }
}

TEST_CASE("sigil verify --key - reads the key from standard input, and a FIFO works as a file",
          "[cli][key_ref]") {
  TempDir tmp;
  auto ref = copy_sample(tmp);
  REQUIRE(run_process({kSigil, "sign", "--key", kRefKey, "--password-file", kPassFile, ref},
                      env_with({}))
              .exit_code == 0);
  auto v = run_process({kSigilVerify, "verify", "--key", "-", ref}, env_with({}),
                       read_text_file(kRefPub));
  INFO(v.err);
  CHECK(v.exit_code == 0);
  auto w = run_process({kSigilVerify, "verify", "--key", "-", ref}, env_with({}),
                       read_text_file(kData + "/keys/other-ecdsa-p256.pub"));
  CHECK(w.exit_code == 1);
  {
    FifoWriter writer(tmp / "pub.fifo", read_text_file(kRefPub));
    auto f = run_process({kSigilVerify, "verify", "--key", (tmp / "pub.fifo").string(), ref},
                         env_with({}));
    INFO(f.err);
    CHECK(f.exit_code == 0);
  }
  // Signing with the key from a FIFO and its password from another.
  {
    FifoWriter key(tmp / "key.fifo", read_text_file(kRefKey));
    FifoWriter pw(tmp / "pw.fifo", ref_password() + "\n");
    auto s = run_process({kSigil, "sign", "--key", (tmp / "key.fifo").string(), "--password-file",
                          (tmp / "pw.fifo").string(), "-a", "from=fifo", ref},
                         env_with({}));
    INFO(s.err);
    CHECK(s.exit_code == 0);
  }
  auto a =
      run_process({kSigilVerify, "verify", "--key", kRefPub, "-a", "from=fifo", ref}, env_with({}));
  CHECK(a.exit_code == 0);
  // sigil key fingerprint reads references too.
  auto fp = run_process({kSigil, "key", "fingerprint", "-"}, env_with({}), read_text_file(kRefPub));
  CHECK(fp.exit_code == 0);
  CHECK(fp.out.rfind("sha256:", 0) == 0);
}

TEST_CASE("sigil --key env://UNSET, an empty variable and pkcs11: are clear errors",
          "[cli][key_ref]") {
  TempDir tmp;
  auto ref = copy_sample(tmp);
  auto unset = run_process({kSigilVerify, "verify", "--key", "env://SIGIL_NO_SUCH_VAR", ref},
                           env_with({{"SIGIL_NO_SUCH_VAR", kUnsetEnv}}));
  CHECK(unset.exit_code == 3);
  CHECK(
      unset.err ==
      "sigil-verify: error: env://SIGIL_NO_SUCH_VAR: the variable SIGIL_NO_SUCH_VAR is not set\n");
  auto empty = run_process({kSigil, "sign", "--key", "env://SIGIL_EMPTY", ref},
                           env_with({{"SIGIL_EMPTY", ""}, {"SIGIL_PASSWORD", "pw"}}));
  CHECK(empty.exit_code == 3);
  CHECK(
      empty.err ==
      "sigil: error: env://SIGIL_EMPTY: the variable SIGIL_EMPTY is empty (expected a PEM key)\n");
  auto p11 = run_process({kSigil, "sign", "--key", "pkcs11:token=ci;object=release", ref},
                         env_with({{"SIGIL_PASSWORD", "pw"}}));
  CHECK(p11.exit_code == 3);
  CHECK(p11.err ==
        "sigil: error: pkcs11:…: PKCS#11 keys are not supported yet (use a key file, env://VAR or "
        "- (standard input))\n");
  auto kms =
      run_process({kSigilVerify, "verify", "--key", "awskms://alias/release", ref}, env_with({}));
  CHECK(kms.exit_code == 3);
  CHECK_THAT(kms.err, Catch::Contains("AWS KMS keys are not supported yet"));
}

TEST_CASE("sigil sign --key - --password-file -: a usage error, not a hang", "[cli][key_ref]") {
  TempDir tmp;
  auto ref = copy_sample(tmp);
  const std::string expected =
      "sigil: error: standard input is already read for the key, so the password cannot come "
      "from it too: pass one of them another way\n";
  for (const char* pw : {"-", "/dev/stdin"}) {
    INFO(pw);
    auto r = run_process({kSigil, "sign", "--key", "-", "--password-file", pw, ref}, env_with({}),
                         read_text_file(kRefKey));
    CHECK(r.exit_code == 2);
    CHECK(r.err == expected);
  }
  // With the password elsewhere, the key on standard input signs.
  auto ok = run_process({kSigil, "sign", "--key", "-", "--password-file", kPassFile, ref},
                        env_with({}), read_text_file(kRefKey));
  INFO(ok.err);
  CHECK(ok.exit_code == 0);
}
