#include "support/cutting_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <stdexcept>

namespace sigil::test {
namespace {

constexpr int kPollMs = LoopbackListener::kPollMs;  // how often a relay looks at stopping()

// Writes all of `data` to `fd`; false when the peer is gone.
bool write_all(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    const auto n = ::send(fd, data, size, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

int connect_local(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

CuttingProxy::CuttingProxy(std::uint16_t upstream_port, std::uint64_t cut_after, int cuts)
    : upstream_port_(upstream_port),
      cut_after_(cut_after),
      cuts_left_(cuts),
      listener_("CuttingProxy", [this](int fd) { relay(fd); }) {}

void CuttingProxy::relay(int client_fd) {
  const int upstream_fd = connect_local(upstream_port_);
  if (upstream_fd < 0) {
    ::close(client_fd);
    return;
  }
  std::uint64_t downstream = 0;  // bytes from upstream relayed so far
  bool spared = false;
  std::array<char, 16384> buf{};
  std::array<pollfd, 2> fds{pollfd{client_fd, POLLIN, 0}, pollfd{upstream_fd, POLLIN, 0}};
  bool open = true;
  while (open && !listener_.stopping()) {
    if (::poll(fds.data(), fds.size(), kPollMs) <= 0) continue;
    for (std::size_t i = 0; i < fds.size() && open; ++i) {
      if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      const auto n = ::recv(fds[i].fd, buf.data(), buf.size(), 0);
      if (n <= 0) {
        open = false;
        break;
      }
      auto size = static_cast<std::size_t>(n);
      if (i == 1 && !spared && downstream + size > cut_after_) {
        // From upstream, past the threshold: send only up to it and drop the connection, while
        // cuts are left; else this connection is spared for good.
        if (cuts_left_.fetch_sub(1) > 0) {
          write_all(client_fd, buf.data(), static_cast<std::size_t>(cut_after_ - downstream));
          ++cuts_made_;
          open = false;
          break;
        }
        spared = true;
      }
      if (i == 1) downstream += size;
      open = write_all(fds[1 - i].fd, buf.data(), size);
    }
  }
  ::close(client_fd);
  ::close(upstream_fd);
}

}  // namespace sigil::test
