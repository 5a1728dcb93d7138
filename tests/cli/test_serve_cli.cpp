// sigil-verify serve, the Kubernetes admission webhook, as a real process over real HTTPS: the
// endpoints, the limits, hostile clients (slowloris, trickled handshakes, dropped connections),
// certificate rotation and policy replacement while it serves, SIGTERM. The decisions
// themselves (check/admission.h) are tested on their own and end to end against a registry by
// the admission tests; here the policy has accept and reject rules only.
#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cli/cli_fixture.h"
#include "support/process.h"
#include "support/registry_process.h"

namespace {

using namespace sigil::test;
using sigil::test::cli::kBin;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using json = nlohmann::json;

// Bounds on waiting for what must happen (the server's watcher looks every second, its
// deadline for a request to arrive is 5 s); generous for a loaded machine, never asserted on.
constexpr auto kPatience = std::chrono::seconds(60);

const std::string kPolicy =
    "version: 1\n"
    "rules:\n"
    "  - {name: ok, match: [localhost:5000/ok, localhost:5000/ok/**], action: accept}\n"
    "  - {name: bad, match: [localhost:5000/bad, localhost:5000/bad/**], action: reject}\n"
    "default: {action: reject}\n";

const std::string kOtherPolicy =
    "version: 1\n"
    "rules:\n"
    "  - {name: ok, match: [localhost:5000/ok, localhost:5000/ok/**], action: accept}\n"
    "  - {name: also, match: [localhost:5000/also, localhost:5000/also/**], action: accept}\n"
    "default: {action: reject}\n";

template <class Pred>
bool eventually(Pred pred) {
  const auto end = Clock::now() + kPatience;
  while (Clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return pred();
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The certificate files as Kubernetes mounts a Secret: DIR/tls.crt and DIR/tls.key are links
// into DIR/..data, a link to the version directory; a rotation swaps ..data at once.
struct MountedPair {
  fs::path dir;
  int version = 0;
  explicit MountedPair(fs::path d) : dir(std::move(d)) { fs::create_directories(dir); }
  fs::path cert() const { return dir / "tls.crt"; }
  fs::path key() const { return dir / "tls.key"; }
  void install(const fs::path& cert_file, const fs::path& key_file) {
    const fs::path v = dir / ("..v" + std::to_string(++version));
    fs::create_directories(v);
    fs::copy_file(cert_file, v / "tls.crt");
    fs::copy_file(key_file, v / "tls.key");
    const fs::path tmp = dir / "..data_tmp";
    fs::create_directory_symlink(v.filename(), tmp);
    fs::rename(tmp, dir / "..data");
    if (!fs::is_symlink(cert())) fs::create_symlink("..data/tls.crt", cert());
    if (!fs::is_symlink(key())) fs::create_symlink("..data/tls.key", key());
  }
};

// A raw TLS connection (what httplib's client hides: the peer certificate, byte-level writes).
struct TlsConnection {
  int fd = -1;
  SSL_CTX* ctx = nullptr;
  SSL* ssl = nullptr;
  ~TlsConnection() {
    if (ssl) SSL_free(ssl);
    if (ctx) SSL_CTX_free(ctx);
    if (fd >= 0) ::close(fd);
  }
};

int tcp_connect(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

// Connects and completes the handshake (the server's certificate is not verified: the test
// compares it itself).
std::unique_ptr<TlsConnection> tls_connect(int port) {
  auto c = std::make_unique<TlsConnection>();
  c->fd = tcp_connect(port);
  c->ctx = SSL_CTX_new(TLS_client_method());
  REQUIRE(c->ctx);
  c->ssl = SSL_new(c->ctx);
  REQUIRE(c->ssl);
  SSL_set_fd(c->ssl, c->fd);
  if (SSL_connect(c->ssl) != 1) {
    ERR_clear_error();
    return nullptr;
  }
  return c;
}

// The DER of the certificate the server presents to a new connection.
std::string served_certificate(int port) {
  auto c = tls_connect(port);
  if (!c) return {};
  X509* peer = SSL_get1_peer_certificate(c->ssl);
  if (!peer) return {};
  unsigned char* der = nullptr;
  const int n = i2d_X509(peer, &der);
  std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(n > 0 ? n : 0));
  OPENSSL_free(der);
  X509_free(peer);
  return out;
}

std::string certificate_der(const fs::path& pem) {
  const std::string text = read_file(pem);
  BIO* bio = BIO_new_mem_buf(text.data(), static_cast<int>(text.size()));
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  REQUIRE(cert);
  unsigned char* der = nullptr;
  const int n = i2d_X509(cert, &der);
  std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(n > 0 ? n : 0));
  OPENSSL_free(der);
  X509_free(cert);
  return out;
}

// The ClientHello a TLS client sends first (from a client on memory BIOs).
std::string client_hello() {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL* ssl = SSL_new(ctx);
  BIO* rbio = BIO_new(BIO_s_mem());
  BIO* wbio = BIO_new(BIO_s_mem());
  SSL_set_bio(ssl, rbio, wbio);
  SSL_connect(ssl);  // wants to read the ServerHello: the ClientHello is written
  ERR_clear_error();
  char* data = nullptr;
  const long n = BIO_get_mem_data(wbio, &data);
  std::string out(data, static_cast<std::size_t>(n > 0 ? n : 0));
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  return out;
}

// Whether the peer has closed `fd` (or reset it), waiting up to `wait`.
bool closed_by_peer(int fd, std::chrono::milliseconds wait) {
  timeval tv{.tv_sec = static_cast<time_t>(wait.count() / 1000),
             .tv_usec = static_cast<suseconds_t>((wait.count() % 1000) * 1000)};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  char buf[4096];
  while (true) {
    const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n == 0) return true;
    if (n < 0) return errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
  }
}

std::size_t open_fds(int pid) {
  std::size_t n = 0;
  std::error_code ec;
  for (auto it = fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec);
       !ec && it != fs::directory_iterator(); it.increment(ec)) {
    ++n;
  }
  return n;
}

class ServeProcess {
 public:
  explicit ServeProcess(const std::string& policy = kPolicy) : pair_(dir_ / "tls") {
    // A connection the server cut must not end the test with SIGPIPE at the next write.
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    ::sigaction(SIGPIPE, &ignore, &saved_pipe_);
    policy_ = dir_ / "policy.yaml";
    write_text_file(policy_, policy);
    fs::create_directories(dir_ / "a");
    fs::create_directories(dir_ / "b");
    a_ = write_self_signed_certificate(dir_ / "a");
    // The second pair under another name, so that a client trusting both tells them apart.
    b_ = {dir_ / "b" / "server.crt", dir_ / "b" / "server.key"};
    auto made = run_process(
        {"/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-keyout", b_.key.string(), "-out", b_.cert.string(), "-days", "2", "-subj",
         "/CN=sigil serve rotated", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"});
    if (made.exit_code != 0) throw std::runtime_error("openssl req: " + made.err);
    pair_.install(a_.cert, a_.key);
    write_text_file(dir_ / "trusted.pem", read_file(a_.cert) + read_file(b_.cert));
  }
  ~ServeProcess() {
    ::sigaction(SIGPIPE, &saved_pipe_, nullptr);
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      int st = 0;
      while (::waitpid(pid_, &st, 0) < 0 && errno == EINTR) {
      }
    }
  }

  void start(std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {
        kBin + "/sigil-verify", "serve",     "--policy",           policy_.string(), "--tls-cert",
        pair_.cert().string(),  "--tls-key", pair_.key().string(), "--listen",       "127.0.0.1:0"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    pid_ = spawn_server(argv, {"HOME=" + dir_.path().string(), "PATH=/usr/bin:/bin"}, log_file());
    const bool up = eventually([&] {
      for (const auto& line : log()) {
        if (line.value("msg", "") == "serving") {
          const std::string listen = line["listen"];
          port_ = std::stoi(listen.substr(listen.rfind(':') + 1));
          return true;
        }
      }
      int st = 0;
      if (::waitpid(pid_, &st, WNOHANG) == pid_) {
        pid_ = -1;
        FAIL("sigil-verify serve exited: " << read_file(log_file()));
      }
      return false;
    });
    INFO(read_file(log_file()));
    REQUIRE(up);
  }

  // SIGTERM; the exit status.
  int stop() {
    ::kill(pid_, SIGTERM);
    int st = 0;
    while (::waitpid(pid_, &st, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  }

  std::vector<json> log() const {
    std::vector<json> lines;
    std::istringstream in(read_file(log_file()));
    for (std::string line; std::getline(in, line);) {
      auto j = json::parse(line, nullptr, false);
      lines.push_back(j.is_discarded() ? json{{"unparsed", line}} : j);
    }
    return lines;
  }
  bool logged(const std::string& msg) const {
    for (const auto& l : log()) {
      if (l.value("msg", "") == msg) return true;
    }
    return false;
  }

  // A client trusting both test certificates, keeping its connection alive.
  std::unique_ptr<httplib::SSLClient> client() const {
    auto c = std::make_unique<httplib::SSLClient>("127.0.0.1", port_);
    c->set_ca_cert_path((dir_ / "trusted.pem").c_str());
    c->enable_server_certificate_verification(true);
    c->set_keep_alive(true);
    c->set_connection_timeout(std::chrono::seconds(30));
    c->set_read_timeout(std::chrono::seconds(60));
    c->set_write_timeout(std::chrono::seconds(30));
    return c;
  }
  httplib::Result get(const std::string& path) const { return client()->Get(path.c_str()); }
  std::string metrics() const {
    auto r = get("/metrics");
    return r && r->status == 200 ? r->body : std::string();
  }

  int port() const { return port_; }
  int pid() const { return pid_; }
  const fs::path& policy() const { return policy_; }
  fs::path log_file() const { return dir_ / "serve.log"; }
  MountedPair& pair() { return pair_; }
  const TlsFiles& a() const { return a_; }
  const TlsFiles& b() const { return b_; }
  fs::path operator/(const std::string& rel) const { return dir_ / rel; }

 private:
  TempDir dir_;
  fs::path policy_;
  TlsFiles a_, b_;
  MountedPair pair_;
  int pid_ = -1;
  int port_ = 0;
  struct sigaction saved_pipe_ {};
};

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// /readyz's body once it reports a refused replacement while staying ready (200, lines after
// "ok"); "" when it never does.
template <typename Serve>
std::string readyz_with_warning(Serve& s) {
  std::string body;
  eventually([&] {
    auto r = s.get("/readyz");
    if (r && r->status == 200 && r->body != "ok\n") body = r->body;
    return !body.empty();
  });
  return body;
}

}  // namespace

TEST_CASE("serve: healthz, readyz and metrics answer over HTTPS, other paths 404, SIGTERM exits 0",
          "[cli][serve]") {
  ServeProcess s;
  s.start();
  auto health = s.get("/healthz");
  REQUIRE(health);
  CHECK(health->status == 200);
  CHECK(health->body == "ok\n");
  auto ready = s.get("/readyz");
  REQUIRE(ready);
  CHECK(ready->status == 200);
  CHECK(ready->body == "ok\n");
  auto missing = s.get("/nothing");
  REQUIRE(missing);
  CHECK(missing->status == 404);
  auto get_validate = s.get("/validate");
  REQUIRE(get_validate);
  CHECK(get_validate->status == 404);

  auto metrics = s.get("/metrics");
  REQUIRE(metrics);
  CHECK(metrics->status == 200);
  CHECK(metrics->get_header_value("Content-Type") == "text/plain; version=0.0.4; charset=utf-8");
  const std::string& m = metrics->body;
  const std::string digest = [&] {
    for (const auto& l : s.log()) {
      if (l.value("msg", "") == "policy loaded") return l.value("digest", "");
    }
    return std::string();
  }();
  REQUIRE(digest.starts_with("sha256:"));
  CHECK(contains(m, "# HELP sigil_admission_requests_total "));
  CHECK(contains(m, "# TYPE sigil_admission_requests_total counter\n"));
  CHECK(contains(m, "# TYPE sigil_admission_decisions_total counter\n"));
  CHECK(contains(m, "# TYPE sigil_admission_request_duration_seconds histogram\n"));
  CHECK(contains(m, "sigil_admission_request_duration_seconds_bucket{le=\"0.001\"} 0\n"));
  CHECK(contains(m, "sigil_admission_request_duration_seconds_bucket{le=\"0.0025\"} 0\n"));
  CHECK(contains(m, "sigil_admission_request_duration_seconds_bucket{le=\"10\"} 0\n"));
  CHECK(contains(m, "sigil_admission_request_duration_seconds_bucket{le=\"+Inf\"} 0\n"));
  CHECK(contains(m, "sigil_admission_request_duration_seconds_sum 0\n"));
  CHECK(contains(m, "sigil_admission_request_duration_seconds_count 0\n"));
  CHECK(contains(
      m, "# TYPE sigil_verdict_cache_hits_total counter\nsigil_verdict_cache_hits_total 0\n"));
  CHECK(contains(m, "# TYPE sigil_verdict_cache_misses_total counter\n"));
  CHECK(contains(m, "# TYPE sigil_verdict_cache_entries gauge\nsigil_verdict_cache_entries 0\n"));
  CHECK(contains(m, "# TYPE sigil_registry_errors_total counter\nsigil_registry_errors_total 0\n"));
  CHECK(contains(m, "sigil_policy_reloads_total{result=\"loaded\"} 1\n"));
  CHECK(contains(m, "sigil_policy_last_good_info{digest=\"" + digest + "\"} 1\n"));
  CHECK(contains(m, "sigil_certificate_reloads_total{result=\"loaded\"} 1\n"));
  CHECK(contains(m, "# TYPE sigil_certificate_expiry_timestamp_seconds gauge\n"));
  CHECK_FALSE(contains(m, "sigil_certificate_expiry_timestamp_seconds 0\n"));

  CHECK(s.stop() == 0);
  const auto log = s.log();
  REQUIRE(!log.empty());
  CHECK(log.back()["msg"] == "stopped");
  CHECK(log.back()["level"] == "info");
  for (const auto& l : log) {
    INFO(l.dump());
    CHECK(l.contains("time"));
    CHECK(l.contains("msg"));
  }
}

// What the server answers to a request head sent without its body over a new connection, and
// what it answers after that to a GET /healthz on the same connection ("" once it has closed it).
struct HeadAnswer {
  std::string first;
  std::string then;
};
HeadAnswer answer_to_head(int port, const std::string& head) {
  auto c = tls_connect(port);
  REQUIRE(c);
  const auto send = [&c](const std::string& bytes) {
    return SSL_write(c->ssl, bytes.data(), static_cast<int>(bytes.size())) ==
           static_cast<int>(bytes.size());
  };
  REQUIRE(send(head));
  HeadAnswer out;
  char buf[1024];
  // The first answer: its head and the Content-Length bytes after it.
  for (;;) {
    const auto end = out.first.find("\r\n\r\n");
    if (end != std::string::npos) {
      const auto at = out.first.find("Content-Length: ");
      REQUIRE(at != std::string::npos);
      if (out.first.size() >= end + 4 + std::stoul(out.first.substr(at + 16))) break;
    }
    const int n = SSL_read(c->ssl, buf, sizeof(buf));
    if (n <= 0) return out;
    out.first.append(buf, static_cast<std::size_t>(n));
  }
  if (!send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")) return out;
  for (int n; (n = SSL_read(c->ssl, buf, sizeof(buf))) > 0;) {
    out.then.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

TEST_CASE("serve: a review body over 3 MiB is refused with 413 before it is read", "[cli][serve]") {
  ServeProcess s;
  s.start();
  // Only the head is sent: the answer comes without the body, and the connection is closed (a
  // connection kept would answer the GET after it).
  const std::string post =
      "POST /validate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n";
  const auto over = answer_to_head(
      s.port(), post + "Content-Length: " + std::to_string((3u << 20) + 1) + "\r\n\r\n");
  CHECK(over.first.starts_with("HTTP/1.1 413 "));
  CHECK(contains(over.first, "\r\nConnection: close\r\n"));
  CHECK(contains(over.first,
                 "\r\n\r\nAdmissionReview: 3145729 bytes is over the limit of 3145728\n"));
  CHECK(over.then.empty());

  // Without a length (chunked) the body would have none: refused the same way.
  const auto chunked = answer_to_head(s.port(), post + "Transfer-Encoding: chunked\r\n\r\n");
  CHECK(chunked.first.starts_with("HTTP/1.1 411 "));
  CHECK(chunked.then.empty());
  const auto no_length = answer_to_head(s.port(), post + "\r\n");
  CHECK(no_length.first.starts_with("HTTP/1.1 411 "));
  CHECK(no_length.then.empty());
  const auto bad_length = answer_to_head(s.port(), post + "Content-Length: 12x\r\n\r\n");
  CHECK(bad_length.first.starts_with("HTTP/1.1 400 "));
  CHECK(bad_length.then.empty());
  // The GET itself is answered on a connection kept alive.
  const auto kept = answer_to_head(s.port(), "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  CHECK(kept.first.starts_with("HTTP/1.1 200 "));
  CHECK(kept.then.starts_with("HTTP/1.1 200 "));

  // A body of exactly 3 MiB is read (and, not being a review, refused as one).
  auto r = s.client()->Post("/validate", std::string(3u << 20, ' '), "application/json");
  REQUIRE(r);
  CHECK(r->status == 400);
  CHECK(r->body.starts_with("AdmissionReview: "));
}

TEST_CASE("serve: malformed JSON, a review without uid and the wrong apiVersion are answered 400",
          "[cli][serve]") {
  ServeProcess s;
  s.start();
  auto client = s.client();
  for (const std::string& body :
       {std::string("{not json"),
        std::string(R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview",)"
                    R"("request":{"operation":"CREATE","object":{}}})"),
        std::string(R"({"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview",)"
                    R"("request":{"uid":"u1","operation":"CREATE","object":{}}})")}) {
    INFO(body);
    auto r = client->Post("/validate", body, "application/json");
    REQUIRE(r);
    CHECK(r->status == 400);
    CHECK_FALSE(r->body.empty());
    auto m = client->Post("/mutate", body, "application/json");
    REQUIRE(m);
    CHECK(m->status == 400);
  }
  const std::string metrics = s.metrics();
  CHECK(contains(metrics,
                 "sigil_admission_requests_total{endpoint=\"mutate\",result=\"error\"} 3\n"));
  CHECK(contains(metrics,
                 "sigil_admission_requests_total{endpoint=\"validate\",result=\"error\"} 3\n"));
  CHECK(contains(metrics, "sigil_admission_request_duration_seconds_count 6\n"));
}

TEST_CASE(
    "serve: slowloris connections trickling headers or a TLS handshake are cut, and a normal "
    "request is still answered",
    "[cli][serve]") {
  ServeProcess s;
  s.start({"--threads", "2"});
  const std::string hello = client_hello();
  REQUIRE(hello.size() > 10);
  std::atomic<bool> done{false};
  std::atomic<int> cut{0};
  std::vector<std::thread> slow;
  // Each holds a server thread for as long as it is allowed to: one byte a second, forever.
  for (int i = 0; i < 4; ++i) {
    slow.emplace_back([&, i] {
      if (i % 2 == 0) {  // headers, after a whole handshake
        auto c = tls_connect(s.port());
        if (!c) return;
        const std::string head = "POST /validate HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ";
        for (std::size_t k = 0; !done; ++k) {
          const char byte = head[k % head.size()];
          if (SSL_write(c->ssl, &byte, 1) != 1) {
            ++cut;
            return;
          }
          std::this_thread::sleep_for(std::chrono::milliseconds(1000));
        }
      } else {  // the handshake itself
        const int fd = tcp_connect(s.port());
        for (std::size_t k = 0; !done && k < hello.size(); ++k) {
          if (::send(fd, hello.data() + k, 1, MSG_NOSIGNAL) != 1 ||
              closed_by_peer(fd, std::chrono::milliseconds(1000))) {
            ++cut;
            ::close(fd);
            return;
          }
        }
        ::close(fd);
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  // Both server threads are taken: this is answered once the slow ones are cut.
  auto r = s.get("/healthz");
  const bool all_cut = eventually([&] { return cut.load() == 4; });
  done = true;
  for (auto& t : slow) t.join();
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(all_cut);
  CHECK(s.stop() == 0);
}

TEST_CASE(
    "serve: connections opened and dropped, over TCP and in the middle of the TLS handshake, "
    "leave the server serving without leaking descriptors",
    "[cli][serve]") {
  ServeProcess s;
  s.start();
  REQUIRE(s.get("/healthz"));
  const std::size_t before = open_fds(s.pid());
  REQUIRE(before > 0);
  const std::string hello = client_hello();
  for (int i = 0; i < 30; ++i) {
    ::close(tcp_connect(s.port()));        // TCP only
    const int fd = tcp_connect(s.port());  // half a ClientHello
    (void)::send(fd, hello.data(), hello.size() / 2, MSG_NOSIGNAL);
    ::close(fd);
    auto c = tls_connect(s.port());           // a whole handshake, then gone without a request
    const int reset = tcp_connect(s.port());  // reset instead of closed
    linger l{.l_onoff = 1, .l_linger = 0};
    ::setsockopt(reset, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
    (void)::send(reset, hello.data(), hello.size(), MSG_NOSIGNAL);
    ::close(reset);
  }
  auto r = s.get("/healthz");
  REQUIRE(r);
  CHECK(r->status == 200);
  // Every dropped connection is closed on the server's side too (its socket and the watchdog's
  // duplicate).
  CHECK(eventually([&] { return open_fds(s.pid()) <= before; }));
  CHECK(s.stop() == 0);
}

TEST_CASE("serve: 16 clients sending at once over kept-alive connections are all answered",
          "[cli][serve]") {
  ServeProcess s;
  s.start({"--threads", "8"});
  std::atomic<int> answered{0};
  std::atomic<int> failed{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < 16; ++i) {
    clients.emplace_back([&] {
      auto c = s.client();
      for (int k = 0; k < 25; ++k) {
        auto r = k % 5 == 0 ? c->Post("/validate", "{}", "application/json") : c->Get("/healthz");
        if (r && (r->status == 200 || r->status == 400)) {
          ++answered;
        } else {
          ++failed;
        }
      }
    });
  }
  for (auto& t : clients) t.join();
  CHECK(failed.load() == 0);
  CHECK(answered.load() == 16 * 25);
  CHECK(contains(s.metrics(),
                 "sigil_admission_requests_total{endpoint=\"validate\",result=\"error\"} 80\n"));
}

TEST_CASE(
    "serve: the certificate rotated while a client keeps sending: no request fails, new "
    "connections get the new certificate",
    "[cli][serve]") {
  ServeProcess s;
  s.start();
  const std::string a = certificate_der(s.a().cert);
  const std::string b = certificate_der(s.b().cert);
  REQUIRE(served_certificate(s.port()) == a);
  std::atomic<bool> done{false};
  std::atomic<int> sent{0};
  std::atomic<int> failed{0};
  std::thread sender([&] {
    auto keep = s.client();
    while (!done) {
      auto r = keep->Get("/healthz");
      auto fresh = s.get("/healthz");  // a new connection each time
      ++sent;
      if (!r || r->status != 200 || !fresh || fresh->status != 200) ++failed;
    }
  });
  CHECK(eventually([&] { return sent.load() > 5; }));
  s.pair().install(s.b().cert, s.b().key);
  CHECK(eventually([&] { return served_certificate(s.port()) == b; }));
  const int at_rotation = sent.load();
  CHECK(eventually([&] { return sent.load() > at_rotation + 5; }));
  done = true;
  sender.join();
  CHECK(failed.load() == 0);
  CHECK(contains(s.metrics(), "sigil_certificate_reloads_total{result=\"loaded\"} 2\n"));
  auto ready = s.get("/readyz");
  REQUIRE(ready);
  CHECK(ready->status == 200);
}

TEST_CASE(
    "serve: a broken certificate replacement is refused, the old pair still served, and "
    "reported on readyz (still ready), in the log and the metrics",
    "[cli][serve]") {
  ServeProcess s;
  s.start();
  const std::string a = certificate_der(s.a().cert);
  // B's certificate with A's key.
  s.pair().install(s.b().cert, s.a().key);
  const std::string ready = readyz_with_warning(s);
  REQUIRE_FALSE(ready.empty());
  CHECK(ready ==
        "ok\nwarning: certificate " + s.pair().cert().string() +
            ": replacement refused, serving the last good certificate: " + s.pair().key().string() +
            ": not the private key of the certificate in " + s.pair().cert().string() + "\n");
  CHECK(served_certificate(s.port()) == a);
  CHECK(contains(s.metrics(), "sigil_certificate_reloads_total{result=\"refused\"} 1\n"));
  CHECK(s.logged("certificate refused"));
  // Garbage is refused the same way; a good pair then clears the report.
  const fs::path junk = s / "junk.pem";
  write_text_file(junk, "not a certificate\n");
  s.pair().install(junk, s.b().key);
  CHECK(eventually([&] {
    return contains(s.metrics(), "sigil_certificate_reloads_total{result=\"refused\"} 2\n");
  }));
  CHECK(served_certificate(s.port()) == a);
  s.pair().install(s.b().cert, s.b().key);
  CHECK(eventually([&] {
    auto r = s.get("/readyz");
    return r && r->status == 200 && r->body == "ok\n";
  }));
  CHECK(served_certificate(s.port()) == certificate_der(s.b().cert));
}

TEST_CASE(
    "serve: a valid policy replacement is loaded, an invalid one keeps the last good, "
    "readyz says why and stays ready",
    "[cli][serve]") {
  ServeProcess s;
  s.start();
  const auto digest_of_log = [&](const std::string& msg, std::size_t nth) {
    std::size_t seen = 0;
    for (const auto& l : s.log()) {
      if (l.value("msg", "") == msg && seen++ == nth) return l.value("digest", "");
    }
    return std::string();
  };
  const std::string first = digest_of_log("policy loaded", 0);
  REQUIRE(first.starts_with("sha256:"));
  const fs::path next = s / "next.yaml";
  write_text_file(next, kOtherPolicy);
  fs::rename(next, s.policy());
  std::string second;
  CHECK(eventually([&] { return !(second = digest_of_log("policy loaded", 1)).empty(); }));
  CHECK(second != first);
  CHECK(contains(s.metrics(), "sigil_policy_last_good_info{digest=\"" + second + "\"} 1\n"));
  CHECK(contains(s.metrics(), "sigil_policy_reloads_total{result=\"loaded\"} 2\n"));

  write_text_file(next, "version: 1\nrules: [ {name: broken\n");
  fs::rename(next, s.policy());
  const std::string ready = readyz_with_warning(s);
  REQUIRE_FALSE(ready.empty());
  const std::string expected_start = "ok\nwarning: policy " + s.policy().string() +
                                     ": replacement refused, serving the last good policy (" +
                                     second + "): ";
  CHECK(ready.starts_with(expected_start));
  CHECK(ready.ends_with("\n"));
  CHECK(ready.find('\n', 3) == ready.size() - 1);
  const std::string m = s.metrics();
  CHECK(contains(m, "sigil_policy_reloads_total{result=\"refused\"} 1\n"));
  CHECK(contains(m, "sigil_policy_last_good_info{digest=\"" + second + "\"} 1\n"));
  CHECK(s.logged("policy refused"));
  // Refused once, not again every second.
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  CHECK(contains(s.metrics(), "sigil_policy_reloads_total{result=\"refused\"} 1\n"));
  // Fixed: ready again.
  write_text_file(next, kPolicy);
  fs::rename(next, s.policy());
  CHECK(eventually([&] {
    auto r = s.get("/readyz");
    return r && r->status == 200 && r->body == "ok\n";
  }));
  CHECK(digest_of_log("policy loaded", 2) == first);
}

TEST_CASE("serve: bad flags exit 2, a policy or certificate pair that cannot be read exits 3",
          "[cli][serve]") {
  ServeProcess s;
  sigil::test::cli::Scratch d;
  auto no_policy = d.run({"sigil-verify", "serve", "--tls-cert", "c", "--tls-key", "k"});
  CHECK(no_policy.exit_code == 2);
  auto bad_listen = d.run({"sigil-verify", "serve", "--policy", s.policy().string(), "--tls-cert",
                           s.pair().cert().string(), "--tls-key", s.pair().key().string(),
                           "--listen", "localhost"});
  CHECK(bad_listen.exit_code == 2);
  CHECK(bad_listen.err ==
        "sigil-verify: error: --listen 'localhost': expected ADDR:PORT (0.0.0.0:8443, [::]:8443, "
        "127.0.0.1:0)\n");
  auto missing_policy = d.run({"sigil-verify", "serve", "--policy", (d / "none.yaml").string(),
                               "--tls-cert", s.pair().cert().string(), "--tls-key",
                               s.pair().key().string(), "--listen", "127.0.0.1:0"});
  CHECK(missing_policy.exit_code == 3);
  auto mismatched =
      d.run({"sigil-verify", "serve", "--policy", s.policy().string(), "--tls-cert",
             s.b().cert.string(), "--tls-key", s.a().key.string(), "--listen", "127.0.0.1:0"});
  CHECK(mismatched.exit_code == 3);
  CHECK(contains(
      mismatched.err,
      s.a().key.string() + ": not the private key of the certificate in " + s.b().cert.string()));
}

TEST_CASE(
    "serve: reviews are judged by the policy, counted in the metrics and logged with their "
    "endpoint and latency",
    "[cli][serve]") {
  ServeProcess s;
  s.start();
  const auto review = [](const std::string& uid, const std::string& image) {
    return json{{"apiVersion", "admission.k8s.io/v1"},
                {"kind", "AdmissionReview"},
                {"request",
                 {{"uid", uid},
                  {"kind", {{"group", ""}, {"version", "v1"}, {"kind", "Pod"}}},
                  {"resource", {{"group", ""}, {"version", "v1"}, {"resource", "pods"}}},
                  {"namespace", "default"},
                  {"name", "p"},
                  {"operation", "CREATE"},
                  {"object",
                   {{"apiVersion", "v1"},
                    {"kind", "Pod"},
                    {"metadata", {{"name", "p"}, {"namespace", "default"}}},
                    {"spec", {{"containers", {{{"name", "c"}, {"image", image}}}}}}}}}}}
        .dump();
  };
  auto client = s.client();
  auto ok =
      client->Post("/validate", review("u-ok", "localhost:5000/ok/app:v1"), "application/json");
  REQUIRE(ok);
  REQUIRE(ok->status == 200);
  const auto ok_json = json::parse(ok->body);
  CHECK(ok_json["response"]["uid"] == "u-ok");
  CHECK(ok_json["response"]["allowed"] == true);
  auto bad =
      client->Post("/mutate", review("u-bad", "localhost:5000/bad/app:v1"), "application/json");
  REQUIRE(bad);
  REQUIRE(bad->status == 200);
  const auto bad_json = json::parse(bad->body);
  CHECK(bad_json["response"]["uid"] == "u-bad");
  CHECK(bad_json["response"]["allowed"] == false);

  const std::string m = s.metrics();
  CHECK(contains(m, "sigil_admission_requests_total{endpoint=\"mutate\",result=\"denied\"} 1\n"));
  CHECK(
      contains(m, "sigil_admission_requests_total{endpoint=\"validate\",result=\"allowed\"} 1\n"));
  CHECK(contains(m, "sigil_admission_decisions_total{result=\"allowed\",rule=\"ok\"} 1\n"));
  CHECK(contains(m, "sigil_admission_decisions_total{result=\"denied\",rule=\"bad\"} 1\n"));
  CHECK(contains(m, "sigil_admission_request_duration_seconds_count 2\n"));
  std::size_t decisions = 0;
  for (const auto& l : s.log()) {
    if (!l.contains("uid")) continue;
    ++decisions;
    CHECK(l.contains("time"));
    CHECK(l["latency_ms"].is_number());
    CHECK(l["endpoint"] == (l["uid"] == "u-ok" ? "validate" : "mutate"));
    CHECK(l["allowed"] == (l["uid"] == "u-ok"));
  }
  CHECK(decisions == 2);
}
