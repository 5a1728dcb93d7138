#include "support/raw_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <stdexcept>

namespace sigil::test {
namespace {

constexpr int kPollMs = 10;  // how often waiting threads look at the stop flag

}  // namespace

bool RawConnection::peer_left() {
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, 0) <= 0) return false;
  std::array<char, 4096> buf{};
  const auto n = ::recv(fd_, buf.data(), buf.size(), MSG_DONTWAIT);
  return n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR);
}

std::string RawConnection::read_head() {
  std::string head;
  std::array<char, 1024> buf{};
  while (!stopping_ && head.find("\r\n\r\n") == std::string::npos) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, kPollMs) <= 0) continue;
    const auto n = ::recv(fd_, buf.data(), buf.size(), 0);
    if (n <= 0) return {};
    head.append(buf.data(), static_cast<std::size_t>(n));
    if (head[0] == '\x16') return {};  // a TLS ClientHello
  }
  return head;
}

bool RawConnection::send(std::string_view bytes) {
  while (!bytes.empty()) {
    if (stopping_) return false;
    pollfd p{fd_, POLLOUT, 0};
    if (::poll(&p, 1, kPollMs) <= 0) continue;
    const auto n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

bool RawConnection::pause(int ms) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (std::chrono::steady_clock::now() < until) {
    if (stopping_ || peer_left()) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min(ms, kPollMs)));
  }
  return !stopping_;
}

void RawConnection::hold() {
  while (!stopping_ && !peer_left())
    std::this_thread::sleep_for(std::chrono::milliseconds(kPollMs));
}

RawServer::RawServer(Script script) : script_(std::move(script)) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) throw std::runtime_error("RawServer: socket failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = 0;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(listen_fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listen_fd_, 64) != 0 ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(listen_fd_);
    throw std::runtime_error("RawServer: cannot listen on 127.0.0.1");
  }
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

RawServer::~RawServer() {
  stopping_ = true;
  acceptor_.join();
  ::close(listen_fd_);
  std::lock_guard lock(mu_);
  for (auto& t : threads_) t.join();
}

std::string RawServer::host() const {
  return "127.0.0.1:" + std::to_string(port_);
}

void RawServer::accept_loop() {
  while (!stopping_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, kPollMs) <= 0) continue;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    ++connections_;
    std::lock_guard lock(mu_);
    threads_.emplace_back([this, fd] {
      RawConnection c(fd, stopping_);
      script_(c);
      ::close(fd);
    });
  }
}

RawServer::Script RawServer::silent() {
  return [](RawConnection& c) { c.hold(); };
}

RawServer::Script RawServer::endless_after(std::string head, std::string piece, int every_ms) {
  return [head, piece, every_ms](RawConnection& c) {
    if (c.read_head().empty() || !c.send(head)) return;
    while (c.send(piece) && (every_ms == 0 || c.pause(every_ms))) {
    }
  };
}

}  // namespace sigil::test
