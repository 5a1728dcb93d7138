// Key references (crypto/key_file.h) and operator inputs (core/file.h): files, env://VAR, "-",
// pipes and FIFOs; schemes refused by name; standard input read for one thing only.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <optional>
#include <string>
#include <thread>

#include "libtrust/core/file.h"
#include "libtrust/core/limits.h"
#include "libtrust/crypto/key_file.h"
#include "libtrust/crypto/password.h"
#include "support/errors.h"
#include "support/process.h"
#include "support/scoped_env.h"

using namespace trust;
using sigil::test::read_text_file;
using sigil::test::ScopedEnv;
using sigil::test::TempDir;
using sigil::test::thrown_by;

namespace {

const std::string kData = SIGIL_TEST_DATA;
const std::string kRefKey = kData + "/keys/test-ecdsa-p256.key";
const std::string kRefPub = kData + "/keys/test-ecdsa-p256.pub";

SecretBytes ref_password() {
  auto text = read_text_file(kData + "/keys/test-passphrase.txt");
  return SecretBytes::from_string(text.substr(0, text.find('\n')));
}

std::string ref_key_id() {
  return load_public_key(kRefPub).key_id().str();
}

// Points fd 0 at a fresh pipe holding `data` (then closed: end of input) for one scope. Each one
// is a new stream, so the stdin claim of an earlier scope does not carry over.
class ScopedStdin {
 public:
  explicit ScopedStdin(const std::string& data) {
    int p[2];
    REQUIRE(::pipe(p) == 0);
    REQUIRE(data.size() < 65536);  // fits the pipe buffer: written before anyone reads
    REQUIRE(::write(p[1], data.data(), data.size()) == static_cast<ssize_t>(data.size()));
    ::close(p[1]);
    saved_ = ::dup(STDIN_FILENO);
    REQUIRE(::dup2(p[0], STDIN_FILENO) == STDIN_FILENO);
    ::close(p[0]);
  }
  ~ScopedStdin() {
    ::dup2(saved_, STDIN_FILENO);
    ::close(saved_);
  }
  ScopedStdin(const ScopedStdin&) = delete;
  ScopedStdin& operator=(const ScopedStdin&) = delete;

 private:
  int saved_ = -1;
};

// A FIFO under `dir` and a thread that opens it for writing and writes `data` (it waits, as a
// shell's writer does, until a reader opens the FIFO). Joined on destruction.
class FifoWriter {
 public:
  FifoWriter(const std::filesystem::path& path, std::string data) : path_(path) {
    REQUIRE(::mkfifo(path.c_str(), 0600) == 0);
    thread_ = std::thread([p = path_, d = std::move(data)] {
      // Waits for the reader without blocking for good: a reader that never comes (the program
      // failed first) must not hang the test.
      int fd = -1;
      for (int waited_ms = 0; fd < 0 && waited_ms < 60'000; waited_ms += 5) {
        fd = ::open(p.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
      if (fd < 0) return;
      ::fcntl(fd, F_SETFL, 0);  // blocking writes from here on
      std::size_t put = 0;
      while (put < d.size()) {
        auto n = ::write(fd, d.data() + put, d.size() - put);
        if (n <= 0) break;  // the reader stopped (EPIPE; SIGPIPE is ignored in these tests)
        put += static_cast<std::size_t>(n);
      }
      ::close(fd);
    });
  }
  ~FifoWriter() { thread_.join(); }
  FifoWriter(const FifoWriter&) = delete;
  FifoWriter& operator=(const FifoWriter&) = delete;

 private:
  std::filesystem::path path_;
  std::thread thread_;
};

void ignore_sigpipe() {
  ::signal(SIGPIPE, SIG_IGN);
}

}  // namespace

TEST_CASE("key references: env://VAR holds the PEM, as cosign reads it", "[crypto][key_ref]") {
  ScopedEnv pub("SIGIL_TEST_PUB", read_text_file(kRefPub));
  ScopedEnv key("SIGIL_TEST_KEY", read_text_file(kRefKey));
  CHECK(load_public_key("env://SIGIL_TEST_PUB").key_id().str() == ref_key_id());
  int asked = 0;
  auto password = [&] {
    ++asked;
    return ref_password();
  };
  CHECK(load_private_key("env://SIGIL_TEST_KEY", password).public_key().key_id().str() ==
        ref_key_id());
  CHECK(asked == 1);
  CHECK(load_public_key_of_any("env://SIGIL_TEST_PUB", password).key_id().str() == ref_key_id());
  CHECK(asked == 1);
  CHECK(load_public_key_of_any("env://SIGIL_TEST_KEY", password).key_id().str() == ref_key_id());
  CHECK(asked == 2);
  CHECK(read_key_reference("env://SIGIL_TEST_PUB").as_string_view() == read_text_file(kRefPub));
  // Messages name the reference.
  CHECK(
      thrown_by([] { load_public_key("env://SIGIL_TEST_KEY"); }).message ==
      "env://SIGIL_TEST_KEY: expected PEM type 'PUBLIC KEY', found 'ENCRYPTED COSIGN PRIVATE KEY'");
}

TEST_CASE("key references: an unset and an empty variable are distinct, clear errors",
          "[crypto][key_ref]") {
  ScopedEnv unset("SIGIL_TEST_UNSET", std::nullopt);
  ScopedEnv empty("SIGIL_TEST_EMPTY", "");
  auto never = []() -> SecretBytes {
    FAIL("the password was asked for");
    return {};
  };
  auto t = thrown_by([] { load_public_key("env://SIGIL_TEST_UNSET"); });
  CHECK(t.code == ErrorCode::kNotFound);
  CHECK(t.message == "env://SIGIL_TEST_UNSET: the variable SIGIL_TEST_UNSET is not set");
  t = thrown_by([&] { load_private_key("env://SIGIL_TEST_EMPTY", never); });
  CHECK(t.code == ErrorCode::kInput);
  CHECK(t.message ==
        "env://SIGIL_TEST_EMPTY: the variable SIGIL_TEST_EMPTY is empty (expected a PEM key)");
  for (const char* bad : {"env://", "env://1ABC", "env://A-B", "env://A=B"}) {
    t = thrown_by([&] { load_public_key(bad); });
    CHECK(t.code == ErrorCode::kUsage);
    CHECK(t.message ==
          std::string(bad) + ": not an environment variable name (letters, digits, _)");
  }
  ScopedEnv big("SIGIL_TEST_BIG", std::string(limits::kMaxKeyFileBytes + 1, 'A'));
  t = thrown_by([] { load_public_key("env://SIGIL_TEST_BIG"); });
  CHECK(t.code == ErrorCode::kLimit);
  CHECK(t.message == "env://SIGIL_TEST_BIG: 65537 bytes is over the limit of 65536");
}

TEST_CASE("key references: pkcs11: and KMS schemes are not supported yet, never files",
          "[crypto][key_ref]") {
  const std::pair<const char*, const char*> cases[] = {
      {"pkcs11:token=ci;object=sign?pin-value=1234", "pkcs11:…: PKCS#11 keys"},
      {"awskms://alias/release", "awskms://…: AWS KMS keys"},
      {"gcpkms://projects/p/locations/l/keyRings/r/cryptoKeys/k",
       "gcpkms://…: Google Cloud KMS keys"},
      {"azurekms://vault.vault.azure.net/k", "azurekms://…: Azure Key Vault keys"},
      {"hashivault://release", "hashivault://…: HashiCorp Vault keys"},
      {"k8s://ns/secret", "k8s://…: Kubernetes secrets"},
      {"gitlab://group/project", "gitlab://…: GitLab variables"},
      {"https://example.com/cosign.pub", "https://…: keys by URL"},
  };
  auto never = []() -> SecretBytes {
    FAIL("the password was asked for");
    return {};
  };
  for (const auto& [ref, start] : cases) {
    INFO(ref);
    const std::string expected =
        std::string(start) +
        " are not supported yet (use a key file, env://VAR or - (standard input))";
    auto t = thrown_by([&] { load_public_key(ref); });
    CHECK(t.code == ErrorCode::kUnsupported);
    CHECK(t.message == expected);
    CHECK(thrown_by([&] { load_private_key(ref, never); }).message == expected);
    CHECK(thrown_by([&] { load_public_key_of_any(ref, never); }).message == expected);
  }
  // The PIN in a PKCS#11 URI is never quoted.
  CHECK(thrown_by([] { load_public_key("pkcs11:pin-value=s3cret"); }).message.find("s3cret") ==
        std::string::npos);
  auto t = thrown_by([] { load_public_key("vault2://x"); });
  CHECK(t.code == ErrorCode::kUsage);
  CHECK(t.message ==
        "vault2://x: unknown key reference scheme 'vault2://' (expected a key file, env://VAR or - "
        "(standard input); for a file of that name, write ./vault2://x)");
  t = thrown_by([] { load_public_key(""); });
  CHECK(t.code == ErrorCode::kUsage);
}

TEST_CASE("key references: a pipe and a FIFO are read like files, capped while reading",
          "[crypto][key_ref]") {
  ignore_sigpipe();
  TempDir dir;
  {
    FifoWriter writer(dir / "pub.fifo", read_text_file(kRefPub));
    CHECK(load_public_key((dir / "pub.fifo").string()).key_id().str() == ref_key_id());
  }
  {
    FifoWriter writer(dir / "key.fifo", read_text_file(kRefKey));
    CHECK(load_private_key((dir / "key.fifo").string(), ref_password).public_key().key_id().str() ==
          ref_key_id());
  }
  {
    // A writer that never stops: refused one byte past the cap, not read to the end.
    FifoWriter writer(dir / "endless.fifo", std::string(4 * limits::kMaxKeyFileBytes, 'A'));
    auto t = thrown_by([&] { load_public_key((dir / "endless.fifo").string()); });
    CHECK(t.code == ErrorCode::kLimit);
    CHECK(t.message ==
          (dir / "endless.fifo").string() + ": 65537 bytes (or more) is over the limit of 65536");
  }
  // An anonymous pipe named by /dev/fd/N, as bash's <(…) passes it.
  int p[2];
  REQUIRE(::pipe(p) == 0);
  auto pem = read_text_file(kRefPub);
  REQUIRE(::write(p[1], pem.data(), pem.size()) == static_cast<ssize_t>(pem.size()));
  ::close(p[1]);
  CHECK(load_public_key("/dev/fd/" + std::to_string(p[0])).key_id().str() == ref_key_id());
  ::close(p[0]);
  // A directory is named as one.
  auto t = thrown_by([&] { load_public_key(dir.path().string()); });
  CHECK(t.code == ErrorCode::kIo);
  CHECK(t.message == dir.path().string() + ": a directory (expected a file, a pipe or -)");
  t = thrown_by([&] { load_public_key((dir / "missing.pub").string()); });
  CHECK(t.code == ErrorCode::kNotFound);
  CHECK(t.message == (dir / "missing.pub").string() + ": no such file");
}

TEST_CASE("key references: - is standard input", "[crypto][key_ref]") {
  {
    ScopedStdin in(read_text_file(kRefPub));
    CHECK(load_public_key("-").key_id().str() == ref_key_id());
  }
  {
    ScopedStdin in(read_text_file(kRefKey));
    CHECK(load_private_key("-", ref_password).public_key().key_id().str() == ref_key_id());
  }
  {
    ScopedStdin in("not a key");
    auto t = thrown_by([] { load_public_key("-"); });
    CHECK(t.code == ErrorCode::kInput);
    CHECK(t.message.rfind("standard input: ", 0) == 0);
  }
}

TEST_CASE("a key and its password both on standard input: a usage error, not a wait",
          "[crypto][key_ref]") {
  auto password_from = [](const char* path) {
    return [path] {
      PasswordOptions o;
      o.password_file = path;
      return read_password(o);
    };
  };
  const std::string message =
      "standard input is already read for the key, so the password cannot come from it too: "
      "pass one of them another way";
  // The key first ("-" or /dev/stdin), then the password: refused when the password is read.
  for (const char* key_ref : {"-", "/dev/stdin"}) {
    for (const char* pw_ref : {"-", "/dev/stdin", "/proc/self/fd/0"}) {
      INFO(key_ref << " " << pw_ref);
      ScopedStdin in(read_text_file(kRefKey));
      auto t = thrown_by([&] { load_private_key(key_ref, password_from(pw_ref)); });
      CHECK(t.code == ErrorCode::kUsage);
      CHECK(t.message == message);
    }
  }
  // The password first, then the key.
  {
    ScopedStdin in("pw\n");
    PasswordOptions o;
    o.password_file = "-";
    CHECK(read_password(o).as_string_view() == "pw");
    auto t = thrown_by([] { load_public_key("-"); });
    CHECK(t.code == ErrorCode::kUsage);
    CHECK(t.message ==
          "standard input is already read for the password, so the key cannot come from it too: "
          "pass one of them another way");
  }
  // Another source for either is fine.
  {
    TempDir dir;
    sigil::test::write_text_file(dir / "pw", std::string(ref_password().as_string_view()) + "\n");
    PasswordOptions o;
    o.password_file = dir / "pw";
    CHECK(load_private_key(kRefKey, [&] { return read_password(o); }).public_key().key_id().str() ==
          ref_key_id());
  }
}

TEST_CASE("operator inputs: a regular file is checked by size, a pipe while it is read",
          "[core][file]") {
  ignore_sigpipe();
  TempDir dir;
  sigil::test::write_text_file(dir / "at", std::string(100, 'x'));
  CHECK(read_operator_input((dir / "at").string(), 100, "the test input").size() == 100);
  sigil::test::write_text_file(dir / "over", std::string(101, 'x'));
  auto t = thrown_by([&] { read_operator_input((dir / "over").string(), 100, "the test input"); });
  CHECK(t.code == ErrorCode::kLimit);
  CHECK(t.message == (dir / "over").string() + ": 101 bytes is over the limit of 100");
  {
    FifoWriter writer(dir / "at.fifo", std::string(100, 'y'));
    CHECK(read_operator_input((dir / "at.fifo").string(), 100, "the test input").as_string_view() ==
          std::string(100, 'y'));
  }
  {
    FifoWriter writer(dir / "over.fifo", std::string(101, 'y'));
    t = thrown_by(
        [&] { read_operator_input((dir / "over.fifo").string(), 100, "the test input"); });
    CHECK(t.code == ErrorCode::kLimit);
    CHECK(t.message ==
          (dir / "over.fifo").string() + ": 101 bytes (or more) is over the limit of 100");
  }
  {
    FifoWriter writer(dir / "empty.fifo", "");
    CHECK(read_operator_input((dir / "empty.fifo").string(), 100, "the test input").empty());
  }
  // What is opened and then refused is closed again.
  auto open_fds = [] {
    return std::distance(std::filesystem::directory_iterator("/proc/self/fd"),
                         std::filesystem::directory_iterator{});
  };
  const auto before = open_fds();
  for (int i = 0; i < 20; ++i) {
    CHECK(thrown_by([&] {
            read_operator_input(dir.path().string(), 100, "the test input");
          }).code == ErrorCode::kIo);
    CHECK(thrown_by([&] {
            read_operator_input((dir / "over").string(), 100, "the test input");
          }).code == ErrorCode::kLimit);
  }
  CHECK(open_fds() == before);
}
