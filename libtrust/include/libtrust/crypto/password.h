#pragma once
// Where passwords come from, in order: --password-file, SIGIL_PASSWORD, COSIGN_PASSWORD, a TTY
// prompt (twice when `confirm`). Never logged, never echoed.

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

}  // namespace trust
