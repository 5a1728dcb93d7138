#include <catch2/catch.hpp>

#include <cstdlib>
#include <optional>

#include "crypto/key_fixtures.h"
#include "libtrust/core/limits.h"
#include "libtrust/crypto/password.h"
#include "support/process.h"

using namespace trust;
using sigil::test::code_of;

namespace {

// Sets (or unsets) an environment variable for one scope, restoring it afterwards.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, std::optional<std::string> value) : name_(name) {
    if (const char* old = std::getenv(name)) saved_ = old;
    if (value) {
      ::setenv(name, value->c_str(), 1);
    } else {
      ::unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (saved_) {
      ::setenv(name_, saved_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> saved_;
};

std::string read_from_file(const std::filesystem::path& path) {
  PasswordOptions o;
  o.password_file = path;
  return std::string(read_password(o).as_string_view());
}

}  // namespace

TEST_CASE("password file: the first line, without its line ending", "[crypto][password]") {
  sigil::test::TempDir dir;
  auto f = dir / "pw";
  sigil::test::write_text_file(f, "secret\nsecond line\n");
  CHECK(read_from_file(f) == "secret");
  sigil::test::write_text_file(f, "crlf\r\n");
  CHECK(read_from_file(f) == "crlf");
  sigil::test::write_text_file(f, "no newline");
  CHECK(read_from_file(f) == "no newline");
  sigil::test::write_text_file(f, " spaces kept \n");
  CHECK(read_from_file(f) == " spaces kept ");
  sigil::test::write_text_file(f, "");
  CHECK(read_from_file(f).empty());
  // The file wins over the environment.
  ScopedEnv sigil_pw("SIGIL_PASSWORD", "from-env");
  sigil::test::write_text_file(f, "from-file\n");
  CHECK(read_from_file(f) == "from-file");
}

TEST_CASE("password file: at and past the size limit: missing file", "[crypto][password]") {
  sigil::test::TempDir dir;
  auto f = dir / "pw";
  std::string at_limit(limits::kMaxPasswordBytes, 'x');
  sigil::test::write_text_file(f, at_limit + "\n");
  CHECK(read_from_file(f) == at_limit);
  sigil::test::write_text_file(f, at_limit);
  CHECK(read_from_file(f) == at_limit);
  sigil::test::write_text_file(f, at_limit + "x\n");
  CHECK(code_of([&] { read_from_file(f); }) == ErrorCode::kLimit);
  // A short first line followed by a long tail is fine: only the first line is read.
  sigil::test::write_text_file(f, "short\n" + std::string(10000, 'y'));
  CHECK(read_from_file(f) == "short");
  CHECK(code_of([&] { read_from_file(dir / "missing"); }) == ErrorCode::kNotFound);
}

TEST_CASE("environment: SIGIL_PASSWORD, then COSIGN_PASSWORD: set-but-empty counts",
          "[crypto][password]") {
  {
    ScopedEnv a("SIGIL_PASSWORD", "sigil");
    ScopedEnv b("COSIGN_PASSWORD", "cosign");
    CHECK(read_password({}).as_string_view() == "sigil");
  }
  {
    ScopedEnv a("SIGIL_PASSWORD", std::nullopt);
    ScopedEnv b("COSIGN_PASSWORD", "cosign");
    CHECK(read_password({}).as_string_view() == "cosign");
  }
  {
    ScopedEnv a("SIGIL_PASSWORD", std::nullopt);
    ScopedEnv b("COSIGN_PASSWORD", "");
    CHECK(read_password({}).empty());
  }
  {
    ScopedEnv a("SIGIL_PASSWORD", "");
    ScopedEnv b("COSIGN_PASSWORD", "cosign");
    CHECK(read_password({}).empty());
  }
  // No source at all is covered by the CLI tests, which run without a controlling terminal.
}
