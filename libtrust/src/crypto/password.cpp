#include "libtrust/crypto/password.h"

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>

#include "core/operator_input.h"
#include "libtrust/core/error.h"
#include "libtrust/core/limits.h"

namespace trust {
namespace {

constexpr const char* kPasswordEnvVars[] = {"SIGIL_PASSWORD", "COSIGN_PASSWORD"};
constexpr const char* kTtyPath = "/dev/tty";
constexpr std::string_view kConfirmPrompt = "Enter password for private key again: ";
constexpr std::string_view kPasswordPurpose = "the password";

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

// Reads the first line from `fd` into a zeroizing buffer: stops at '\n' or end of input, strips a
// trailing '\r'. More than limits::kMaxPasswordBytes before the line ends is a LimitError.
SecretBytes read_line(int fd, const std::string& what) {
  SecretBytes line;
  line.resize(limits::kMaxPasswordBytes + 1);  // reserve once: no reallocation leaves copies
  std::size_t n = 0;
  for (;;) {
    unsigned char c = 0;
    auto got = ::read(fd, &c, 1);
    if (got < 0) {
      if (errno == EINTR) continue;
      throw IoError(what + ": read failed: " + std::strerror(errno));
    }
    if (got == 0 || c == '\n') break;
    if (n == limits::kMaxPasswordBytes) {
      throw LimitError(what + ": password is longer than " +
                       std::to_string(limits::kMaxPasswordBytes) + " bytes");
    }
    line.data()[n++] = c;
    secure_wipe(&c, 1);
  }
  if (n > 0 && line.data()[n - 1] == '\r') --n;
  SecretBytes out(line.data(), n);
  return out;
}

// A password file is the operator's input: a file, a pipe or FIFO, or "-" (standard input, which
// then cannot also carry the key). Only its first line is read.
SecretBytes from_file(const std::filesystem::path& path) {
  detail::OperatorInput input(path.native(), kPasswordPurpose);
  return read_line(input.fd(), input.name());
}

// Turns echo off on a terminal and restores the previous settings on scope exit.
class EchoOff {
 public:
  explicit EchoOff(int fd) : fd_(fd) {
    if (::tcgetattr(fd_, &saved_) != 0) return;
    termios quiet = saved_;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    quiet.c_lflag |= ECHONL;
    active_ = ::tcsetattr(fd_, TCSAFLUSH, &quiet) == 0;
  }
  ~EchoOff() {
    if (active_) ::tcsetattr(fd_, TCSAFLUSH, &saved_);
  }
  EchoOff(const EchoOff&) = delete;
  EchoOff& operator=(const EchoOff&) = delete;

 private:
  int fd_;
  termios saved_{};
  bool active_ = false;
};

void write_all(int fd, std::string_view text) {
  while (!text.empty()) {
    auto n = ::write(fd, text.data(), text.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // a prompt we cannot show is not fatal; reading will tell
    }
    text.remove_prefix(static_cast<std::size_t>(n));
  }
}

SecretBytes prompt_once(int fd, std::string_view prompt, bool echo = false) {
  write_all(fd, prompt);
  if (echo) return read_line(fd, kTtyPath);
  EchoOff quiet(fd);
  return read_line(fd, kTtyPath);
}

// The controlling terminal, opened; -1 when there is none.
int open_tty() {
  Fd tty{::open(kTtyPath, O_RDWR | O_NOCTTY | O_CLOEXEC)};
  if (tty.fd < 0 || !::isatty(tty.fd)) return -1;
  return std::exchange(tty.fd, -1);
}

}  // namespace

SecretBytes read_password(const PasswordOptions& options) {
  if (options.password_file) return from_file(*options.password_file);
  for (const char* var : kPasswordEnvVars) {
    // Set but empty is a valid, empty password (as cosign treats COSIGN_PASSWORD).
    if (const char* value = std::getenv(var)) return SecretBytes::from_string(value);
  }
  const Fd tty{open_tty()};
  if (tty.fd < 0) {
    throw UsageError(
        "no password: set SIGIL_PASSWORD or COSIGN_PASSWORD, pass --password-file, or run on a "
        "terminal");
  }
  auto first = prompt_once(tty.fd, options.prompt);
  if (options.confirm) {
    auto second = prompt_once(tty.fd, kConfirmPrompt);
    if (!(first == second)) throw UsageError("passwords do not match");
  }
  return first;
}

std::optional<SecretBytes> prompt_terminal(std::string_view prompt, bool echo) {
  const Fd tty{open_tty()};
  if (tty.fd < 0) return std::nullopt;
  return prompt_once(tty.fd, prompt, echo);
}

}  // namespace trust
