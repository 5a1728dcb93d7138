#pragma once
// Test support: a TCP server on 127.0.0.1 that misbehaves below HTTP, where cpp-httplib (and so
// FakeRegistry) cannot: a connection accepted and never answered (not even a TLS handshake),
// headers that never end, a HEAD answered with an endless body, a body that ends only when the
// connection does. Each connection runs the script on a thread of its own; everything a script
// waits for ends when the server is destroyed or the client leaves.
//
//   RawServer silent(RawServer::silent());
//   RawServer headers([](RawConnection& c) {
//     c.read_head();
//     c.send("HTTP/1.1 200 OK\r\n");
//     while (c.send("X-Filler: aaaa\r\n") && c.pause(10)) {}
//   });
//   … a client for silent.host() …

#include <atomic>
#include <functional>
#include <string>
#include <string_view>

#include "support/loopback_listener.h"

namespace sigil::test {

class RawConnection {
 public:
  RawConnection(int fd, const std::atomic<bool>& stopping) : fd_(fd), stopping_(stopping) {}
  // Reads up to the end of a request head ("\r\n\r\n"); "" when the peer left first, or
  // when it opened with a TLS handshake (a client probing an insecure registry: closing at once
  // makes it fall back to plain HTTP).
  std::string read_head();
  // Sends all of `bytes`; false once the peer is gone (or the server stops).
  bool send(std::string_view bytes);
  // Waits `ms`; false when the peer left or the server stops meanwhile.
  bool pause(int ms);
  // Waits until the peer leaves or the server stops, reading (and dropping) what arrives.
  void hold();

 private:
  bool peer_left();
  int fd_;
  const std::atomic<bool>& stopping_;
};

class RawServer {
 public:
  using Script = std::function<void(RawConnection&)>;
  explicit RawServer(Script script);
  RawServer(const RawServer&) = delete;
  RawServer& operator=(const RawServer&) = delete;

  std::string host() const { return listener_.host(); }  // "127.0.0.1:PORT"
  int connections() const { return listener_.connections(); }

  // Accepts, then never answers (what arrives is read and dropped): no HTTP status and no TLS
  // handshake, ever.
  static Script silent();
  // Reads the request, then sends `head` ("HTTP/1.1 200 OK\r\n…\r\n\r\n") and `piece` after
  // `piece` (every `every_ms`) until the client leaves.
  static Script endless_after(std::string head, std::string piece, int every_ms = 0);

 private:
  Script script_;
  LoopbackListener listener_;  // last: stopped (its threads joined) before script_ goes
};

}  // namespace sigil::test
