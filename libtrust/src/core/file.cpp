#include "libtrust/core/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <optional>
#include <random>
#include <string>

#include "core/operator_input.h"
#include "libtrust/core/error.h"
#include "libtrust/core/limits.h"

namespace trust {
namespace {

std::string errno_text() {
  return std::strerror(errno);
}

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

// Standard input is one stream per process: who read it first. Keyed by the identity of what fd 0
// is (device and inode), so that a process that points fd 0 elsewhere has a fresh stream.
struct StdinClaim {
  dev_t dev = 0;
  ino_t ino = 0;
  std::string purpose;
};
std::mutex g_stdin_mu;
std::optional<StdinClaim> g_stdin_claim;

void claim_stdin(const struct stat& st, std::string_view purpose) {
  std::lock_guard lock(g_stdin_mu);
  if (g_stdin_claim && g_stdin_claim->dev == st.st_dev && g_stdin_claim->ino == st.st_ino) {
    throw UsageError(std::string(detail::kStandardInputName) + " is already read for " +
                     g_stdin_claim->purpose + ", so " + std::string(purpose) +
                     " cannot come from it too: pass one of them another way");
  }
  g_stdin_claim = StdinClaim{st.st_dev, st.st_ino, std::string(purpose)};
}

// What a file type is called in a refusal.
const char* kind_of(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISBLK(mode)) return "a block device";
  return "not a file, pipe or terminal";
}

}  // namespace

namespace detail {

OperatorInput::OperatorInput(std::string_view path, std::string_view purpose) {
  struct stat st {};
  if (path == "-") {
    name_ = std::string(kStandardInputName);
    fd_ = STDIN_FILENO;
    if (::fstat(fd_, &st) != 0) throw IoError(name_ + ": cannot stat: " + errno_text());
    claim_stdin(st, purpose);
  } else {
    name_ = std::string(path);
    // Blocking on purpose: a FIFO is opened when its writer comes, as a shell redirection is.
    owned_.fd = ::open(name_.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (owned_.fd < 0) {
      if (errno == ENOENT) throw NotFoundError(name_ + ": no such file");
      throw IoError(name_ + ": cannot open: " + errno_text());
    }
    fd_ = owned_.fd;
    if (::fstat(fd_, &st) != 0) throw IoError(name_ + ": cannot stat: " + errno_text());
    // /dev/stdin, /dev/fd/0 and /proc/self/fd/0 reopen the pipe or terminal of fd 0: the same
    // stream. (A regular file reopened has an offset of its own and can be read twice.)
    struct stat in {};
    if (!S_ISREG(st.st_mode) && ::fstat(STDIN_FILENO, &in) == 0 && in.st_dev == st.st_dev &&
        in.st_ino == st.st_ino) {
      claim_stdin(st, purpose);
    }
  }
  if (!(S_ISREG(st.st_mode) || S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode) ||
        S_ISSOCK(st.st_mode))) {
    throw IoError(name_ + ": " + kind_of(st.st_mode) + " (expected a file, a pipe or -)");
  }
  regular_ = S_ISREG(st.st_mode);
  size_ = regular_ ? static_cast<std::uint64_t>(st.st_size) : 0;
}

OperatorInput::Owned::~Owned() {
  if (fd >= 0) ::close(fd);
}

SecretBytes OperatorInput::read_all(std::uint64_t max_bytes) {
  // A regular file says its size (checked at once, exactly); a pipe says nothing, so the cap
  // applies to what arrives, one byte past it at most.
  const char* noun = regular_ ? "bytes" : "bytes (or more)";
  if (regular_) limits::check(size_, max_bytes, name_, noun);
  constexpr std::size_t kChunk = 4096;
  SecretBytes out;
  std::size_t got = 0;
  // One byte past the limit is enough to tell that an input is over it.
  const std::uint64_t cap = max_bytes < UINT64_MAX ? max_bytes + 1 : max_bytes;
  for (;;) {
    if (got == out.size()) {
      // Grows by doubling; each old buffer is wiped by SecretBytes' allocator when freed.
      out.resize(static_cast<std::size_t>(
          std::min<std::uint64_t>(std::max<std::size_t>(out.size() * 2, kChunk), cap)));
    }
    auto room = out.size() - got;
    auto n = ::read(fd_, out.data() + got, room);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw IoError(name_ + ": read failed: " + errno_text());
    }
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
    limits::check(got, max_bytes, name_, noun);
  }
  out.resize(got);
  return out;
}

}  // namespace detail

SecretBytes read_operator_input(std::string_view path, std::uint64_t max_bytes,
                                std::string_view purpose) {
  detail::OperatorInput input(path, purpose);
  return input.read_all(max_bytes);
}

Bytes read_file(const std::filesystem::path& path, std::uint64_t max_bytes) {
  Fd f;
  // O_NONBLOCK: opening a FIFO must not wait for a writer (a policy path replaced by a FIFO would
  // hang a node hook); it is refused below as not a regular file. Regular files ignore the flag.
  f.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (f.fd < 0) {
    if (errno == ENOENT) throw NotFoundError(path.string() + ": no such file");
    throw IoError(path.string() + ": cannot open: " + errno_text());
  }
  struct stat st {};
  if (::fstat(f.fd, &st) != 0) throw IoError(path.string() + ": cannot stat: " + errno_text());
  if (!S_ISREG(st.st_mode)) throw IoError(path.string() + ": not a regular file");
  if (static_cast<std::uint64_t>(st.st_size) > max_bytes) {
    throw LimitError(path.string() + ": " + std::to_string(st.st_size) +
                     " bytes is over the limit of " + std::to_string(max_bytes) + " bytes");
  }
  Bytes out(static_cast<std::size_t>(st.st_size));
  std::size_t got = 0;
  while (got < out.size()) {
    auto n = ::read(f.fd, out.data() + got, out.size() - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw IoError(path.string() + ": read failed: " + errno_text());
    }
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  out.resize(got);
  return out;
}

void write_file_atomic(const std::filesystem::path& path, ByteView data, unsigned mode,
                       Overwrite overwrite) {
  if (overwrite == Overwrite::kNo) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0) {
      throw ExistsError(path.string() + ": already exists (refusing to overwrite)");
    }
  }
  auto dir = path.parent_path();
  if (dir.empty()) dir = ".";
  std::random_device rd;
  auto tmp = dir / ("." + path.filename().string() + ".tmp" + std::to_string(rd()));
  Fd f;
  f.fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode & 0777);
  if (f.fd < 0) throw IoError(path.string() + ": cannot create temporary file: " + errno_text());
  auto fail = [&](const std::string& what) {
    auto msg = path.string() + ": " + what + ": " + errno_text();
    ::unlink(tmp.c_str());
    throw IoError(msg);
  };
  if (::fchmod(f.fd, mode & 0777) != 0) fail("cannot set permissions");
  std::size_t put = 0;
  while (put < data.size()) {
    auto n = ::write(f.fd, data.data() + put, data.size() - put);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("write failed");
    }
    put += static_cast<std::size_t>(n);
  }
  if (::fsync(f.fd) != 0) fail("fsync failed");
  ::close(f.fd);
  f.fd = -1;
  if (overwrite == Overwrite::kNo) {
    // link() fails if the target appeared meanwhile: no silent overwrite even under a race.
    if (::link(tmp.c_str(), path.c_str()) != 0) {
      int saved = errno;
      ::unlink(tmp.c_str());
      errno = saved;
      if (saved == EEXIST)
        throw ExistsError(path.string() + ": already exists (refusing to overwrite)");
      throw IoError(path.string() + ": cannot create: " + errno_text());
    }
    ::unlink(tmp.c_str());
  } else if (::rename(tmp.c_str(), path.c_str()) != 0) {
    fail("rename failed");
  }
}

}  // namespace trust
