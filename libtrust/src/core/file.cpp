#include "libtrust/core/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>
#include <string>

#include "libtrust/core/error.h"

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

}  // namespace

Bytes read_file(const std::filesystem::path& path, std::uint64_t max_bytes) {
  Fd f;
  f.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
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
