// verify/line_writer.h: the serve command's log lines, written by a thread of their own.
#include "../../verify/line_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using sigil::cli::kMaxPendingLogBytes;
using sigil::cli::LineWriter;

namespace {

struct Pipe {
  int read_end = -1;
  int write_end = -1;
  Pipe() {
    int fds[2];
    REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
    read_end = fds[0];
    write_end = fds[1];
  }
  ~Pipe() {
    if (read_end >= 0) ::close(read_end);
    if (write_end >= 0) ::close(write_end);
  }
  void close_write() {
    ::close(write_end);
    write_end = -1;
  }
  // What is in the pipe now, without waiting.
  std::string available() const {
    const int flags = ::fcntl(read_end, F_GETFL);
    ::fcntl(read_end, F_SETFL, flags | O_NONBLOCK);
    std::string out;
    char buf[4096];
    for (ssize_t n; (n = ::read(read_end, buf, sizeof(buf))) > 0;) {
      out.append(buf, static_cast<std::size_t>(n));
    }
    ::fcntl(read_end, F_SETFL, flags);
    return out;
  }
};

}  // namespace

TEST_CASE("line writer: a flushed line is out, and what is queued is out when it is destroyed",
          "[line-writer]") {
  Pipe p;
  {
    LineWriter w(p.write_end);
    w.write("first");
    w.flush();
    CHECK(p.available() == "first\n");
    w.write("second");
    w.write("");
  }
  CHECK(p.available() == "second\n\n");
}

TEST_CASE("line writer: lines from many threads come out whole, each thread's in its order",
          "[line-writer]") {
  Pipe p;
  std::string read;
  std::thread reader([&] {
    char buf[65536];
    for (ssize_t n; (n = ::read(p.read_end, buf, sizeof(buf))) > 0;) {
      read.append(buf, static_cast<std::size_t>(n));
    }
  });
  constexpr int kThreads = 8;
  constexpr int kLines = 3000;
  {
    LineWriter w(p.write_end);
    std::vector<std::thread> writers;
    for (int t = 0; t < kThreads; ++t) {
      writers.emplace_back([&w, t] {
        // Lines of several sizes, some over the pipe's 64 KiB, so that writes come out partial.
        for (int i = 0; i < kLines; ++i) {
          w.write(std::to_string(t) + " " + std::to_string(i) + " " +
                  std::string(i % 500 == 0 ? 70000 : static_cast<std::size_t>(i % 97), 'x'));
        }
      });
    }
    for (auto& t : writers) t.join();
  }
  p.close_write();
  reader.join();

  std::istringstream lines(read);
  std::vector<int> next(kThreads, 0);
  int count = 0;
  for (std::string line; std::getline(lines, line); ++count) {
    std::istringstream fields(line);
    int t = -1;
    int i = -1;
    fields >> t >> i;
    REQUIRE(t >= 0);
    REQUIRE(t < kThreads);
    REQUIRE(i == next[static_cast<std::size_t>(t)]);
    next[static_cast<std::size_t>(t)] = i + 1;
    const auto expected = static_cast<std::size_t>(i % 500 == 0 ? 70000 : i % 97);
    REQUIRE(line.size() == std::to_string(t).size() + std::to_string(i).size() + 2 + expected);
  }
  CHECK(count == kThreads * kLines);
}

TEST_CASE("line writer: with nothing read, a full queue holds its writers, and no line is lost",
          "[line-writer]") {
  Pipe p;
  LineWriter w(p.write_end);
  const std::string line(1u << 16, 'y');
  // More than can be held: the pipe (64 KiB), the batch being written (up to the cap) and the
  // queue (the cap).
  const std::size_t total = 2 * (kMaxPendingLogBytes / line.size()) + 16;
  std::atomic<std::size_t> written{0};
  std::thread writer([&] {
    for (std::size_t i = 0; i < total; ++i) {
      w.write(line);
      ++written;
    }
  });
  // Nothing reads the pipe: it fills, the batch being written stays, then the queue fills, which
  // holds the writer. (Without the cap all of them would be queued within milliseconds.)
  for (int i = 0; i < 50 && written < total; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CHECK(written < total);
  std::string read;
  char buf[65536];
  while (read.size() < total * (line.size() + 1)) {
    const ssize_t n = ::read(p.read_end, buf, sizeof(buf));
    REQUIRE(n > 0);
    read.append(buf, static_cast<std::size_t>(n));
  }
  writer.join();
  CHECK(written == total);
  CHECK(read == [&] {
    std::string all;
    for (std::size_t i = 0; i < total; ++i) all += line + "\n";
    return all;
  }());
}
