#pragma once
// Test support: a TCP relay on 127.0.0.1 in front of a real server that drops connections once
// they have carried a given number of bytes from the server: the network failing in the middle
// of a download, which no real registry does on demand. Bytes are relayed as they are; it knows
// nothing of HTTP.
//
//   RegistryProcess reg;
//   CuttingProxy proxy(reg.port(), 2 << 20);  // the first connection past 2 MiB is dropped
//   … a client for proxy.host() …
//   CHECK(proxy.cuts_made() == 1);

#include <atomic>
#include <cstdint>
#include <string>

#include "support/loopback_listener.h"

namespace sigil::test {

class CuttingProxy {
 public:
  // Relays to 127.0.0.1:`upstream_port`; the first `cuts` connections to carry more than
  // `cut_after` bytes from upstream are closed there, in both directions.
  CuttingProxy(std::uint16_t upstream_port, std::uint64_t cut_after, int cuts = 1);
  CuttingProxy(const CuttingProxy&) = delete;
  CuttingProxy& operator=(const CuttingProxy&) = delete;

  std::string host() const { return listener_.host(); }  // "127.0.0.1:PORT"
  int cuts_made() const { return cuts_made_.load(); }
  int connections() const { return listener_.connections(); }

 private:
  void relay(int client_fd);

  std::uint16_t upstream_port_;
  std::uint64_t cut_after_;
  std::atomic<int> cuts_left_;
  std::atomic<int> cuts_made_{0};
  LoopbackListener listener_;  // last: stopped (its relays joined) before the rest goes
};

}  // namespace sigil::test
