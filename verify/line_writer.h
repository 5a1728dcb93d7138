#pragma once
// Log lines from many threads, written to one descriptor by a thread of their own, in order and in
// batches: a request thread never waits for the write (a pipe the container runtime reads, the
// journal) and its wake-up of the reader, unless kMaxPendingLogBytes are waiting besides the batch
// being written. The lines waiting while one batch is written make the next; an idle server
// writes each at once.
// What was written before flush() returns, or the destructor, is out.

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace sigil::cli {

inline constexpr std::size_t kMaxPendingLogBytes = 4u << 20;

class LineWriter {
 public:
  explicit LineWriter(int fd);
  ~LineWriter();  // flushes, then stops the thread
  LineWriter(const LineWriter&) = delete;
  LineWriter& operator=(const LineWriter&) = delete;

  // Queues `line` and a newline.
  void write(std::string_view line);
  // Returns once every line queued before it is written (or the write failed).
  void flush();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// The process's stderr, as a LineWriter: the log of the long-running commands (serve,
// docker-authz). Started at its first line; stopped, everything written, at exit.
LineWriter& stderr_lines();

// Flushes stderr_lines() when it goes out of scope: a command's lines are out before the error it
// throws is printed.
struct FlushStderrLines {
  FlushStderrLines() = default;
  FlushStderrLines(const FlushStderrLines&) = delete;
  FlushStderrLines& operator=(const FlushStderrLines&) = delete;
  ~FlushStderrLines() { stderr_lines().flush(); }
};

}  // namespace sigil::cli
