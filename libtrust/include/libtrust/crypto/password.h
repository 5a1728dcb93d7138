#pragma once
// Where passwords come from, in order: --password-file, SIGIL_PASSWORD, COSIGN_PASSWORD, a TTY
// prompt (twice when `confirm`). Never logged, never echoed. prompt_terminal is that prompt alone,
// for secrets that are no key's password (a registry password: `sigil login`).

#include <filesystem>
#include <optional>
#include <string_view>

#include "libtrust/core/secret.h"
#include "libtrust/export.h"

namespace trust {

struct PasswordOptions {
  // Its first line is the password: a file, a pipe or FIFO, or "-" for standard input (which
  // then cannot carry the key as well: UsageError, whichever of the two is read second).
  std::optional<std::filesystem::path> password_file;
  bool confirm = false;  // prompt twice (key generation)
  std::string_view prompt = "Enter password for private key: ";
};

// Throws UsageError when no source is available (no file, no variable, no terminal), or when the
// two prompted entries differ; IoError/LimitError for an unreadable or oversized file.
TRUST_API SecretBytes read_password(const PasswordOptions& options);

// One line typed on the terminal (/dev/tty) after `prompt` is shown there, without its line
// ending: not echoed unless `echo` (a user name). nullopt when there is no terminal, so that the
// caller can name what to pass instead. LimitError past limits::kMaxPasswordBytes.
TRUST_API std::optional<SecretBytes> prompt_terminal(std::string_view prompt, bool echo = false);

}  // namespace trust
