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

RawServer::RawServer(Script script)
    : script_(std::move(script)), listener_("RawServer", [this](int fd) {
        RawConnection c(fd, listener_.stopping());
        script_(c);
        ::close(fd);
      }) {}

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
