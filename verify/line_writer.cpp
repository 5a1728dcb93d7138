#include "line_writer.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace sigil::cli {

struct LineWriter::Impl {
  int fd;
  std::mutex mutex;
  std::condition_variable wake;     // the writer: lines are waiting, or stop
  std::condition_variable drained;  // flush() and full queues: a batch is out
  std::string pending;              // guarded by mutex
  bool writing = false;             // guarded by mutex: a batch is being written
  bool stopping = false;            // guarded by mutex
  std::thread thread;

  // The whole batch, or as much as the descriptor takes: a log that cannot be written is dropped,
  // never retried into a blocked server.
  void write_all(const std::string& batch) const {
    std::size_t done = 0;
    while (done < batch.size()) {
      const ssize_t n = ::write(fd, batch.data() + done, batch.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;
      done += static_cast<std::size_t>(n);
    }
  }

  void run() {
    std::unique_lock<std::mutex> lock(mutex);
    for (;;) {
      wake.wait(lock, [this] { return !pending.empty() || stopping; });
      if (pending.empty()) return;  // stopping, and everything is out
      std::string batch;
      batch.swap(pending);
      writing = true;
      lock.unlock();
      write_all(batch);
      lock.lock();
      writing = false;
      drained.notify_all();
    }
  }
};

LineWriter::LineWriter(int fd) : impl_(std::make_unique<Impl>()) {
  impl_->fd = fd;
  // The thread takes no signal (it inherits the mask): SIGTERM stays with the thread that waits
  // for it, whenever the first line is written.
  sigset_t all;
  sigset_t before;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &before);
  impl_->thread = std::thread([this] { impl_->run(); });
  pthread_sigmask(SIG_SETMASK, &before, nullptr);
}

LineWriter::~LineWriter() {
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    impl_->stopping = true;
  }
  impl_->wake.notify_one();
  impl_->thread.join();
}

void LineWriter::write(std::string_view line) {
  std::unique_lock<std::mutex> lock(impl_->mutex);
  impl_->drained.wait(lock, [this] { return impl_->pending.size() < kMaxPendingLogBytes; });
  const bool idle = impl_->pending.empty() && !impl_->writing;
  impl_->pending.append(line);
  impl_->pending.push_back('\n');
  // A writer busy with a batch takes these lines next without being woken.
  if (idle) impl_->wake.notify_one();
}

void LineWriter::flush() {
  std::unique_lock<std::mutex> lock(impl_->mutex);
  impl_->drained.wait(lock, [this] { return impl_->pending.empty() && !impl_->writing; });
}

LineWriter& stderr_lines() {
  static LineWriter writer(STDERR_FILENO);
  return writer;
}

}  // namespace sigil::cli
