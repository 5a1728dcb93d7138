#include "oci/read_ahead.h"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include "libtrust/core/error.h"

namespace trust::oci::detail {
namespace {

constexpr std::size_t kRingSlots = 4;
// How long a side that finds its slot not ready polls (yielding the core) before it sleeps.
// Sleeping costs a wake-up per slot, and on a virtual machine waking an idle vCPU takes tens of
// microseconds: 4096 of them per GiB cost 0.1 s, 20 % of the hashing (bench/run.sh a, 2-core
// VM: 0.67 s with a condition variable alone, 0.56 s polling first; the hash alone 0.55 s).
// Hashing one slot takes about 130 us, so the reader, which is faster, is usually woken by
// polling; the bound keeps a stalled side from burning its core.
constexpr std::chrono::microseconds kPollBeforeSleep{500};

// Reads running with a read-ahead thread: each takes two cores.
std::atomic<unsigned> g_read_ahead{0};

// One pread, retried on EINTR: bytes read, 0 at the end of the file.
std::size_t pread_some(int fd, std::uint8_t* buf, std::size_t len, std::uint64_t offset,
                       const std::string& what) {
  while (true) {
    auto n = ::pread(fd, buf, len, static_cast<off_t>(offset));
    if (n >= 0) return static_cast<std::size_t>(n);
    if (errno != EINTR) throw IoError(what + ": read failed: " + std::strerror(errno));
  }
}

std::uint64_t read_here(int fd, std::uint64_t offset, std::uint64_t limit,
                        const std::function<void(ByteView)>& emit, const std::string& what) {
  std::vector<std::uint8_t> buf(static_cast<std::size_t>(
      std::min<std::uint64_t>(kReadBytes, std::max<std::uint64_t>(limit, 1))));
  std::uint64_t done = 0;
  while (done < limit) {
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), limit - done));
    const auto n = pread_some(fd, buf.data(), want, offset + done, what);
    if (n == 0) break;
    done += n;
    emit(ByteView(buf.data(), n));
  }
  return done;
}

// The reader thread fills slots in order; the caller empties them in the same order.
class Ring {
 public:
  Ring(int fd, std::uint64_t offset, std::uint64_t limit, std::string what)
      : fd_(fd), offset_(offset), limit_(limit), what_(std::move(what)) {
    for (auto& s : slots_) s.buf.resize(kReadBytes);
    reader_ = std::thread([this] { read_all(); });
  }
  ~Ring() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    reader_.join();
  }
  Ring(const Ring&) = delete;
  Ring& operator=(const Ring&) = delete;

  std::uint64_t drain(const std::function<void(ByteView)>& emit) {
    std::uint64_t total = 0;
    for (std::size_t i = 0;; i = (i + 1) % kRingSlots) {
      auto& s = slots_[i];
      poll([&] { return s.full.load(std::memory_order_acquire); });
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return s.full.load(); });
        if (s.len == 0) {
          if (!error_.empty()) throw IoError(error_);
          return total;
        }
      }
      emit(ByteView(s.buf.data(), s.len));  // the slot is ours until it is marked empty
      total += s.len;
      {
        std::lock_guard lock(mu_);
        s.full.store(false, std::memory_order_release);
      }
      cv_.notify_all();
    }
  }

 private:
  struct Slot {
    std::vector<std::uint8_t> buf;
    std::size_t len = 0;
    std::atomic<bool> full{false};  // written under mu_; also read without it, to poll
  };

  // Polls `ready` for up to kPollBeforeSleep, yielding the core; the caller then waits on cv_.
  template <typename Ready>
  void poll(Ready ready) const {
    const auto until = std::chrono::steady_clock::now() + kPollBeforeSleep;
    while (!ready() && std::chrono::steady_clock::now() < until) std::this_thread::yield();
  }

  void read_all() {
    std::uint64_t done = 0;
    for (std::size_t i = 0;; i = (i + 1) % kRingSlots) {
      auto& s = slots_[i];
      poll([&] { return !s.full.load(std::memory_order_acquire); });
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return !s.full.load() || stop_; });
        if (stop_) return;
      }
      std::size_t n = 0;
      std::string error;
      const auto want =
          static_cast<std::size_t>(std::min<std::uint64_t>(s.buf.size(), limit_ - done));
      try {
        if (want > 0) n = pread_some(fd_, s.buf.data(), want, offset_ + done, what_);
      } catch (const Error& e) {
        error = e.what();
        n = 0;
      }
      {
        std::lock_guard lock(mu_);
        s.len = n;
        s.full.store(true, std::memory_order_release);
        if (!error.empty()) error_ = error;
      }
      cv_.notify_all();
      if (n == 0) return;  // the end (or an error): the caller sees an empty slot
      done += n;
    }
  }

  int fd_;
  std::uint64_t offset_;
  std::uint64_t limit_;
  std::string what_;
  std::array<Slot, kRingSlots> slots_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::string error_;
  std::thread reader_;
};

}  // namespace

std::uint64_t read_file(int fd, std::uint64_t offset, std::uint64_t limit, std::uint64_t size_hint,
                        const std::function<void(ByteView)>& emit, const std::string& what) {
  static const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  if (size_hint < kReadAheadMinBytes) return read_here(fd, offset, limit, emit, what);
  // A read-ahead thread only where it has a core of its own.
  if (g_read_ahead.fetch_add(1) + 1 > cores / 2) {
    g_read_ahead.fetch_sub(1);
    return read_here(fd, offset, limit, emit, what);
  }
  struct Release {
    ~Release() { g_read_ahead.fetch_sub(1); }
  } release;
  Ring ring(fd, offset, limit, what);
  return ring.drain(emit);
}

}  // namespace trust::oci::detail
