#pragma once
// File helpers: capped reads, atomic writes (temp file in the same directory, fsync, rename), and
// the operator's own inputs (key, password and auth files), which may be pipes.

#include <cstdint>
#include <filesystem>
#include <string_view>

#include "libtrust/core/bytes.h"
#include "libtrust/core/secret.h"
#include "libtrust/export.h"

namespace trust {

// Reads a whole regular file of at most `max_bytes`. Throws NotFoundError, IoError or LimitError
// naming the path.
TRUST_API Bytes read_file(const std::filesystem::path& path, std::uint64_t max_bytes);

// Reads an input the operator named (a key, password or auth file; never a path that came from an
// image): a regular file, or a pipe, FIFO, socket or terminal (`<(…)`, mkfifo, /dev/stdin); "-"
// is standard input. At most `max_bytes`, checked while reading (a pipe has no size to trust);
// the bytes live in a buffer wiped when freed. A FIFO waits for its writer, as a shell redirection
// does. Directories and block devices are IoError, a missing path NotFoundError, both naming it.
//
// Standard input can be consumed once: the first input read from it ("-", or a path that is the
// same pipe or terminal) claims it for `purpose` ("the key"), and a second is UsageError naming
// both, at once, instead of waiting for input that has already gone to the first.
TRUST_API SecretBytes read_operator_input(std::string_view path, std::uint64_t max_bytes,
                                          std::string_view purpose);

enum class Overwrite { kNo, kYes };

// Writes `data` to `path` atomically with permissions `mode` (applied before any byte is written).
// With Overwrite::kNo an existing file is an ExistsError and is left untouched.
TRUST_API void write_file_atomic(const std::filesystem::path& path, ByteView data,
                                 unsigned mode = 0644, Overwrite overwrite = Overwrite::kYes);

}  // namespace trust
