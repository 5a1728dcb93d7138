#pragma once
// Private to libtrust: an operator's input opened for reading (core/file.h read_operator_input),
// for readers that take less than the whole input (the first line of a password file).

#include <cstdint>
#include <string>
#include <string_view>

#include "libtrust/core/secret.h"

namespace trust::detail {

// The name messages use for "-".
inline constexpr std::string_view kStandardInputName = "standard input";

class OperatorInput {
 public:
  // Opens `path` ("-": standard input, which it claims for `purpose`; see read_operator_input)
  // and checks its type. Throws NotFoundError, IoError or UsageError naming it.
  OperatorInput(std::string_view path, std::string_view purpose);
  OperatorInput(const OperatorInput&) = delete;
  OperatorInput& operator=(const OperatorInput&) = delete;

  int fd() const { return fd_; }
  // The path as given, or "standard input".
  const std::string& name() const { return name_; }

  // Everything up to the end of the input, at most `max_bytes` (LimitError past it).
  SecretBytes read_all(std::uint64_t max_bytes);

 private:
  // A descriptor this object opened (standard input is read, never closed); a member, so that it
  // is closed when the constructor throws after opening it.
  struct Owned {
    int fd = -1;
    ~Owned();
  } owned_;
  int fd_ = -1;
  bool regular_ = false;
  std::uint64_t size_ = 0;  // st_size of a regular file
  std::string name_;
};

}  // namespace trust::detail
