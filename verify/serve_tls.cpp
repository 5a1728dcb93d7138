#include "serve_tls.h"

#include <fcntl.h>
#include <httplib.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <ctime>
#include <fstream>
#include <iterator>
#include <mutex>
#include <thread>
#include <unordered_set>
#include <vector>

#include "file_stamp.h"
#include "libtrust/core/error.h"
#include "libtrust/core/limits.h"

namespace sigil::cli {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::string openssl_error() {
  const unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "unknown error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof(buf));
  return buf;
}

std::string read_capped(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw trust::IoError(path.string() + ": cannot open");
  std::string text;
  char buf[8192];
  while (in.read(buf, sizeof(buf)) || in.gcount() > 0) {
    text.append(buf, static_cast<std::size_t>(in.gcount()));
    trust::limits::check(text.size(), trust::limits::kMaxServeCertificateFileBytes, path.string(),
                         "bytes");
  }
  if (in.bad()) throw trust::IoError(path.string() + ": read failed");
  return text;
}

// A BIO over `text` (not copied: `text` outlives it).
struct MemBio {
  explicit MemBio(const std::string& text)
      : bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size()))) {
    if (!bio) throw trust::CryptoError("out of memory");
  }
  ~MemBio() { BIO_free(bio); }
  BIO* bio;
};

int no_password(char*, int, int, void*) {
  return 0;
}

}  // namespace

// A certificate (its chain after it) and its key, as served.
struct CertificatePair {
  X509* cert = nullptr;
  STACK_OF(X509) * chain = nullptr;
  EVP_PKEY* key = nullptr;
  std::int64_t not_after = 0;
  CertificatePair() = default;
  CertificatePair(const CertificatePair&) = delete;
  CertificatePair& operator=(const CertificatePair&) = delete;
  ~CertificatePair() {
    X509_free(cert);
    sk_X509_pop_free(chain, X509_free);
    EVP_PKEY_free(key);
  }
};

namespace {

// The pair in the two files, checked: throws trust::Error naming the file and what is wrong.
std::shared_ptr<const CertificatePair> read_pair(const fs::path& cert_file,
                                                 const fs::path& key_file) {
  auto pair = std::make_shared<CertificatePair>();
  const std::string cert_pem = read_capped(cert_file);
  {
    MemBio in(cert_pem);
    pair->cert = PEM_read_bio_X509(in.bio, nullptr, no_password, nullptr);
    if (!pair->cert) {
      throw trust::InputError(cert_file.string() + ": no PEM certificate: " + openssl_error());
    }
    pair->chain = sk_X509_new_null();
    if (!pair->chain) throw trust::CryptoError("out of memory");
    while (X509* more = PEM_read_bio_X509(in.bio, nullptr, no_password, nullptr)) {
      if (!sk_X509_push(pair->chain, more)) {
        X509_free(more);
        throw trust::CryptoError("out of memory");
      }
    }
    ERR_clear_error();  // the end of the file
  }
  const std::string key_pem = read_capped(key_file);
  {
    MemBio in(key_pem);
    pair->key = PEM_read_bio_PrivateKey(in.bio, nullptr, no_password, nullptr);
    if (!pair->key) {
      throw trust::InputError(key_file.string() +
                              ": no PEM private key (an unencrypted one): " + openssl_error());
    }
  }
  if (X509_check_private_key(pair->cert, pair->key) != 1) {
    ERR_clear_error();
    throw trust::InputError(key_file.string() + ": not the private key of the certificate in " +
                            cert_file.string());
  }
  const ASN1_TIME* not_after = X509_get0_notAfter(pair->cert);
  const ASN1_TIME* not_before = X509_get0_notBefore(pair->cert);
  std::tm tm{};
  if (!not_after || ASN1_TIME_to_tm(not_after, &tm) != 1) {
    throw trust::InputError(cert_file.string() + ": the certificate's notAfter cannot be read");
  }
  pair->not_after = static_cast<std::int64_t>(timegm(&tm));
  if (X509_cmp_current_time(not_after) <= 0) {
    throw trust::InputError(cert_file.string() + ": the certificate has expired");
  }
  if (!not_before || X509_cmp_current_time(not_before) > 0) {
    throw trust::InputError(cert_file.string() + ": the certificate is not valid yet");
  }
  return pair;
}

}  // namespace

struct CertificateStore::Impl {
  fs::path cert_file, key_file;
  mutable std::mutex mutex;
  std::shared_ptr<const CertificatePair> pair;     // in force
  std::optional<std::string> problem;              // the last replacement refused
  std::optional<FileStamp> cert_stamp, key_stamp;  // of the last attempt

  std::shared_ptr<const CertificatePair> current() const {
    std::lock_guard<std::mutex> lock(mutex);
    return pair;
  }
};

CertificateStore::CertificateStore(fs::path cert_file, fs::path key_file)
    : impl_(std::make_unique<Impl>()) {
  impl_->cert_file = std::move(cert_file);
  impl_->key_file = std::move(key_file);
}

CertificateStore::~CertificateStore() = default;

void CertificateStore::load() {
  auto cert_stamp = stamp_of(impl_->cert_file);
  auto key_stamp = stamp_of(impl_->key_file);
  auto pair = read_pair(impl_->cert_file, impl_->key_file);
  std::lock_guard<std::mutex> lock(impl_->mutex);
  impl_->pair = std::move(pair);
  impl_->cert_stamp = cert_stamp;
  impl_->key_stamp = key_stamp;
  impl_->problem.reset();
}

std::optional<CertificateStore::Event> CertificateStore::refresh() {
  auto cert_stamp = stamp_of(impl_->cert_file);
  auto key_stamp = stamp_of(impl_->key_file);
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    if (cert_stamp == impl_->cert_stamp && key_stamp == impl_->key_stamp) return std::nullopt;
  }
  std::shared_ptr<const CertificatePair> pair;
  std::string error;
  try {
    pair = read_pair(impl_->cert_file, impl_->key_file);
  } catch (const trust::Error& e) {
    error = e.what();
  }
  // Still being written (the files changed while they were read): looked at again next time.
  if (stamp_of(impl_->cert_file) != cert_stamp || stamp_of(impl_->key_file) != key_stamp) {
    return std::nullopt;
  }
  std::lock_guard<std::mutex> lock(impl_->mutex);
  impl_->cert_stamp = cert_stamp;
  impl_->key_stamp = key_stamp;
  if (!pair) {
    impl_->problem = "certificate " + impl_->cert_file.string() +
                     ": replacement refused, serving the last good certificate: " + error;
    return Event{.loaded = false, .error = error, .not_after = 0};
  }
  impl_->pair = pair;
  impl_->problem.reset();
  return Event{.loaded = true, .error = {}, .not_after = pair->not_after};
}

std::optional<std::string> CertificateStore::problem() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return impl_->problem;
}

std::optional<std::string> CertificateStore::expired() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  if (impl_->pair && X509_cmp_current_time(X509_get0_notAfter(impl_->pair->cert)) <= 0) {
    return "certificate " + impl_->cert_file.string() + ": expired";
  }
  return std::nullopt;
}

std::int64_t CertificateStore::not_after() const {
  auto pair = impl_->current();
  return pair ? pair->not_after : 0;
}

// One connection under watch: a dup of its socket (a number reused after the server closed the
// original never names the wrong socket), its deadline, whether a handler runs for it.
struct WatchedConnection {
  ConnectionWatchdog::Impl* owner = nullptr;
  int fd = -1;
  std::atomic<long long> deadline_ns{0};
  std::atomic<bool> busy{false};
  bool cut = false;  // under owner's mutex
};

struct ConnectionWatchdog::Impl {
  std::chrono::milliseconds deadline;
  mutable std::mutex mutex;
  std::condition_variable wake;
  bool stopping = false;
  std::unordered_set<WatchedConnection*> connections;
  std::thread thread;

  static long long now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
        .count();
  }

  void watch(SSL* ssl);
  void forget(WatchedConnection* c) {
    {
      std::lock_guard<std::mutex> lock(mutex);
      connections.erase(c);
    }
    ::close(c->fd);
    delete c;
  }

  void run() {
    std::unique_lock<std::mutex> lock(mutex);
    while (!stopping) {
      wake.wait_for(lock, std::chrono::milliseconds(200));
      const long long now = now_ns();
      for (auto* c : connections) {
        if (c->cut || c->busy.load() || c->deadline_ns.load() > now) continue;
        ::shutdown(c->fd, SHUT_RDWR);  // the server's read or handshake ends at once
        c->cut = true;
      }
    }
  }
};

namespace {

// The SSL ex_data slot holding a connection's WatchedConnection; freed with the SSL (httplib
// frees it before it closes the socket).
void free_watched(void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) {
  if (auto* c = static_cast<WatchedConnection*>(ptr)) c->owner->forget(c);
}

int watched_index() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, free_watched);
  return index;
}

WatchedConnection* watched_of(const httplib::Request& req) {
  if (!req.ssl) return nullptr;
  return static_cast<WatchedConnection*>(SSL_get_ex_data(req.ssl, watched_index()));
}

// Called from the first step of every handshake on: the connection is put under watch then,
// before the client has sent anything.
void on_tls_state(const SSL* ssl, int, int) {
  auto* self = static_cast<ConnectionWatchdog::Impl*>(SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)));
  if (self && !SSL_get_ex_data(ssl, watched_index())) self->watch(const_cast<SSL*>(ssl));
}

int serve_certificate(SSL* ssl, void* arg) {
  auto pair = static_cast<CertificateStore::Impl*>(arg)->current();
  if (!pair) return 0;
  return SSL_use_cert_and_key(ssl, pair->cert, pair->key, pair->chain, 1) == 1 ? 1 : 0;
}

}  // namespace

void ConnectionWatchdog::Impl::watch(SSL* ssl) {
  const int fd = SSL_get_fd(ssl);
  if (fd < 0) return;
  const int dup = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (dup < 0) {
    ::shutdown(fd, SHUT_RDWR);  // out of descriptors: not served unwatched
    return;
  }
  auto* c = new WatchedConnection;
  c->owner = this;
  c->fd = dup;
  c->deadline_ns =
      now_ns() + std::chrono::duration_cast<std::chrono::nanoseconds>(deadline).count();
  if (SSL_set_ex_data(ssl, watched_index(), c) != 1) {
    ::shutdown(fd, SHUT_RDWR);
    ::close(dup);
    delete c;
    return;
  }
  std::lock_guard<std::mutex> lock(mutex);
  connections.insert(c);
}

ConnectionWatchdog::ConnectionWatchdog(std::chrono::milliseconds deadline)
    : impl_(std::make_unique<Impl>()) {
  impl_->deadline = deadline;
  (void)watched_index();
  impl_->thread = std::thread([this] { impl_->run(); });
}

ConnectionWatchdog::~ConnectionWatchdog() {
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    impl_->stopping = true;
  }
  impl_->wake.notify_all();
  impl_->thread.join();
}

void ConnectionWatchdog::request_started(const httplib::Request& req) {
  if (auto* c = watched_of(req)) c->busy = true;
}

void ConnectionWatchdog::response_written(const httplib::Request& req,
                                          const httplib::Response& res) {
  if (auto* c = watched_of(req)) {
    if (res.get_header_value("Connection") == "close") {
      ::shutdown(c->fd, SHUT_RDWR);  // after what is written: the answer goes out, then FIN
      return;
    }
    c->deadline_ns = Impl::now_ns() +
                     std::chrono::duration_cast<std::chrono::nanoseconds>(impl_->deadline).count();
    c->busy = false;
  }
}

std::size_t ConnectionWatchdog::open_connections() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return impl_->connections.size();
}

std::unique_ptr<httplib::Server> make_https_server(CertificateStore& certs,
                                                   ConnectionWatchdog& watchdog) {
  auto* store = certs.impl_.get();
  auto* watch = watchdog.impl_.get();
  auto server = std::make_unique<httplib::SSLServer>([store, watch](SSL_CTX& ctx) {
    if (SSL_CTX_set_min_proto_version(&ctx, TLS1_2_VERSION) != 1) return false;
    SSL_CTX_set_options(
        &ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_cert_cb(&ctx, serve_certificate, store);
    SSL_CTX_set_app_data(&ctx, watch);
    SSL_CTX_set_info_callback(&ctx, on_tls_state);
    return true;
  });
  if (!server->is_valid())
    throw trust::CryptoError("sigil serve: cannot set up TLS: " + openssl_error());
  return server;
}

}  // namespace sigil::cli
