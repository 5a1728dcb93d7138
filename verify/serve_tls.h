#pragma once
// The HTTPS side of `sigil serve`: the certificate pair served, read again when its files
// change, and the watchdog that bounds how long a connection may take to deliver a request.
//
// Certificates: each new connection gets the pair in force when its handshake reaches the
// certificate (SSL_CTX_set_cert_cb); a connection keeps the pair it started with, so a rotation
// drops no request. A replacement is used only when it parses, its key matches its certificate
// and it is within its validity period; otherwise the pair in force stays and the refusal is
// reported (problem(), the reload event).
//
// Hostile clients: a connection must deliver a whole request (TLS handshake, headers, body)
// within kRequestArrivalDeadline of its accept or of the end of its last response; one that does
// not (slowloris, a trickled handshake, a half-open peer, an idle keep-alive) is shut down. A
// request being handled is never cut. OpenSSL stays in serve_tls.cpp.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace sigil::cli {

inline constexpr std::chrono::seconds kRequestArrivalDeadline{5};

class ConnectionWatchdog;

class CertificateStore {
 public:
  struct Event {
    bool loaded = false;         // false: refused, the pair in force kept
    std::string error;           // refused: why
    std::int64_t not_after = 0;  // loaded: the new certificate's notAfter (Unix seconds)
  };
  CertificateStore(std::filesystem::path cert_file, std::filesystem::path key_file);
  ~CertificateStore();
  CertificateStore(const CertificateStore&) = delete;
  CertificateStore& operator=(const CertificateStore&) = delete;

  // Reads the pair; throws trust::Error when it cannot be used (at start).
  void load();
  // Reads the pair again when either file changed since the last attempt; nullopt when neither
  // did (or they are still being written).
  std::optional<Event> refresh();
  // The line /readyz reports while a replacement is refused (the last good pair still served).
  std::optional<std::string> problem() const;
  // The line /readyz fails with once the pair in force has expired.
  std::optional<std::string> expired() const;
  // The notAfter of the certificate in force, Unix seconds.
  std::int64_t not_after() const;

  struct Impl;

 private:
  friend std::unique_ptr<httplib::Server> make_https_server(CertificateStore&, ConnectionWatchdog&);
  std::unique_ptr<Impl> impl_;
};

class ConnectionWatchdog {
 public:
  explicit ConnectionWatchdog(std::chrono::milliseconds deadline = kRequestArrivalDeadline);
  ~ConnectionWatchdog();  // stops the thread
  ConnectionWatchdog(const ConnectionWatchdog&) = delete;
  ConnectionWatchdog& operator=(const ConnectionWatchdog&) = delete;

  // A handler runs for `req`: its connection is not cut meanwhile.
  void request_started(const httplib::Request& req);
  // The response to `req` is written: the connection has the deadline again for the next one,
  // or, when the response says "Connection: close", it is shut down now (httplib would keep it
  // open for the next request).
  void response_written(const httplib::Request& req, const httplib::Response& res);
  // Connections open now (tests, metrics).
  std::size_t open_connections() const;

  struct Impl;

 private:
  friend std::unique_ptr<httplib::Server> make_https_server(CertificateStore&, ConnectionWatchdog&);
  std::unique_ptr<Impl> impl_;
};

// An HTTPS server (TLS 1.2 or later, no renegotiation) serving `certs`' pair in force to each new
// connection and putting each connection under `watchdog`. Both outlive the server.
std::unique_ptr<httplib::Server> make_https_server(CertificateStore& certs,
                                                   ConnectionWatchdog& watchdog);

}  // namespace sigil::cli
