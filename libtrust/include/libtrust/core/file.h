#pragma once
// File helpers: capped reads, atomic writes (temp file in the same directory, fsync, rename).

#include <cstdint>
#include <filesystem>
#include <string_view>

#include "libtrust/core/bytes.h"
#include "libtrust/export.h"

namespace trust {

// Reads a whole regular file of at most `max_bytes`. Throws NotFoundError, IoError or LimitError
// naming the path.
TRUST_API Bytes read_file(const std::filesystem::path& path, std::uint64_t max_bytes);

enum class Overwrite { kNo, kYes };

// Writes `data` to `path` atomically with permissions `mode` (applied before any byte is written).
// With Overwrite::kNo an existing file is an ExistsError and is left untouched.
TRUST_API void write_file_atomic(const std::filesystem::path& path, ByteView data,
                                 unsigned mode = 0644, Overwrite overwrite = Overwrite::kYes);

}  // namespace trust
