#pragma once
// Test support: a TCP listener on 127.0.0.1 (an ephemeral port) that hands each connection it
// accepts to `on_connection` on a thread of its own, which owns (and closes) the descriptor.
// Destroying it (or stop()) ends the accept loop and joins every connection thread; handlers
// poll stopping() so that none outlives it. What RawServer and CuttingProxy listen with.
#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace sigil::test {

class LoopbackListener {
 public:
  // How often the accept loop (and handlers, by convention) look at stopping().
  static constexpr int kPollMs = 50;

  // `name` is for the error thrown when 127.0.0.1 cannot be listened on.
  LoopbackListener(const std::string& name, std::function<void(int fd)> on_connection);
  ~LoopbackListener() { stop(); }
  LoopbackListener(const LoopbackListener&) = delete;
  LoopbackListener& operator=(const LoopbackListener&) = delete;

  // Ends the accept loop and joins every connection thread (once; later calls do nothing).
  void stop();

  std::uint16_t port() const { return port_; }
  std::string host() const { return "127.0.0.1:" + std::to_string(port_); }
  int connections() const { return connections_.load(); }
  const std::atomic<bool>& stopping() const { return stopping_; }

 private:
  void accept_loop();

  std::function<void(int)> on_connection_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> connections_{0};
  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::mutex mu_;
  std::vector<std::thread> threads_;
  std::thread acceptor_;
};

}  // namespace sigil::test
