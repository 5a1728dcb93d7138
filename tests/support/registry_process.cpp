#include "support/registry_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <httplib.h>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "support/process.h"

namespace sigil::test {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

// The registry program; SIGIL_TEST_REGISTRY_BINARY names another (a missing one shows how the
// registry tests are reported without it).
std::string registry_binary() {
  const char* env = std::getenv("SIGIL_TEST_REGISTRY_BINARY");
  return env != nullptr && *env != '\0' ? env : "/usr/bin/docker-registry";
}
constexpr const char* kHtpasswdBinary = "/usr/bin/htpasswd";
constexpr std::string_view kTokenService = "sigil-test-registry";
constexpr std::string_view kTokenIssuer = "sigil-test-token-issuer";
constexpr std::string_view kWrongHostName = "wrong-host.invalid";
constexpr auto kStartTimeout = std::chrono::seconds(15);
constexpr auto kStopGrace = std::chrono::seconds(3);
constexpr int kPortAttempts = 5;

// ---- OpenSSL handles (RAII) ----

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct X509Free {
  void operator()(X509* p) const { X509_free(p); }
};
struct BioFree {
  void operator()(BIO* p) const { BIO_free(p); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
struct EcdsaSigFree {
  void operator()(ECDSA_SIG* p) const { ECDSA_SIG_free(p); }
};
struct ExtFree {
  void operator()(X509_EXTENSION* p) const { X509_EXTENSION_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using BioPtr = std::unique_ptr<BIO, BioFree>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;
using EcdsaSigPtr = std::unique_ptr<ECDSA_SIG, EcdsaSigFree>;
using ExtPtr = std::unique_ptr<X509_EXTENSION, ExtFree>;

[[noreturn]] void throw_openssl(const std::string& what) {
  std::string msg = "registry fixture: " + what;
  while (unsigned long e = ERR_get_error()) {
    std::array<char, 256> buf{};
    ERR_error_string_n(e, buf.data(), buf.size());
    msg += "; ";
    msg += buf.data();
  }
  throw std::runtime_error(msg);
}

void check(int ok, const std::string& what) {
  if (ok != 1) throw_openssl(what);
}

PkeyPtr generate_p256_key() {
  PkeyPtr key(EVP_EC_gen("P-256"));
  if (!key) throw_openssl("EC key generation");
  return key;
}

struct Certified {
  PkeyPtr key;
  X509Ptr cert;
};

void add_extension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  ExtPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
  if (!ext) throw_openssl(std::string("certificate extension ") + OBJ_nid2sn(nid));
  check(X509_add_ext(cert, ext.get(), -1), "X509_add_ext");
}

// A certificate for a fresh P-256 key: self-signed when `issuer` is null.
Certified make_certificate(const std::string& common_name, const Certified* issuer, bool is_ca,
                           const std::string& subject_alt_names) {
  Certified out{generate_p256_key(), X509Ptr(X509_new())};
  X509* cert = out.cert.get();
  if (cert == nullptr) throw_openssl("X509_new");
  check(X509_set_version(cert, 2), "X509_set_version");
  std::array<unsigned char, 16> serial{};
  check(RAND_bytes(serial.data(), static_cast<int>(serial.size())), "RAND_bytes");
  serial[0] &= 0x7f;
  std::unique_ptr<BIGNUM, decltype(&BN_free)> bn(
      BN_bin2bn(serial.data(), static_cast<int>(serial.size()), nullptr), BN_free);
  if (!bn || BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert)) == nullptr) {
    throw_openssl("certificate serial");
  }
  if (X509_gmtime_adj(X509_getm_notBefore(cert), -3600) == nullptr ||
      X509_gmtime_adj(X509_getm_notAfter(cert), 2 * 86400) == nullptr) {
    throw_openssl("certificate validity");
  }
  check(X509_set_pubkey(cert, out.key.get()), "X509_set_pubkey");
  X509_NAME* name = X509_get_subject_name(cert);
  check(
      X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>("sigil tests"), -1, -1, 0),
      "subject O");
  check(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(common_name.c_str()), -1,
                                   -1, 0),
        "subject CN");
  X509* issuer_cert = issuer != nullptr ? issuer->cert.get() : cert;
  check(X509_set_issuer_name(cert, X509_get_subject_name(issuer_cert)), "X509_set_issuer_name");
  if (is_ca) {
    add_extension(cert, issuer_cert, NID_basic_constraints, "critical,CA:TRUE");
    add_extension(cert, issuer_cert, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    add_extension(cert, issuer_cert, NID_basic_constraints, "critical,CA:FALSE");
    add_extension(cert, issuer_cert, NID_key_usage, "critical,digitalSignature");
    add_extension(cert, issuer_cert, NID_ext_key_usage, "serverAuth");
  }
  add_extension(cert, issuer_cert, NID_subject_key_identifier, "hash");
  if (issuer != nullptr) {
    add_extension(cert, issuer_cert, NID_authority_key_identifier, "keyid:always");
  }
  if (!subject_alt_names.empty()) {
    add_extension(cert, issuer_cert, NID_subject_alt_name, subject_alt_names.c_str());
  }
  EVP_PKEY* signing_key = issuer != nullptr ? issuer->key.get() : out.key.get();
  if (X509_sign(cert, signing_key, EVP_sha256()) <= 0) throw_openssl("X509_sign");
  return out;
}

void write_pem_cert(const fs::path& path, X509* cert) {
  BioPtr bio(BIO_new_file(path.c_str(), "w"));
  if (!bio) throw_openssl("cannot write " + path.string());
  check(PEM_write_bio_X509(bio.get(), cert), "PEM_write_bio_X509");
}

void write_pem_key(const fs::path& path, EVP_PKEY* key) {
  BioPtr bio(BIO_new_file(path.c_str(), "w"));
  if (!bio) throw_openssl("cannot write " + path.string());
  check(PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr),
        "PEM_write_bio_PrivateKey");
  fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write);
}

std::string cert_der(X509* cert) {
  unsigned char* der = nullptr;
  int len = i2d_X509(cert, &der);
  if (len <= 0) throw_openssl("i2d_X509");
  std::string out(reinterpret_cast<const char*>(der), static_cast<std::size_t>(len));
  OPENSSL_free(der);
  return out;
}

// ---- encodings (independent of libtrust, which is under test) ----

std::string base64_std(std::string_view data) {
  if (data.empty()) return {};
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(data.data()),
                          static_cast<int>(data.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::string base64_url(std::string_view data) {
  std::string out = base64_std(data);
  for (char& c : out) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  while (!out.empty() && out.back() == '=') out.pop_back();
  return out;
}

std::string base64_std_decode(std::string_view text) {
  if (text.empty() || text.size() % 4 != 0) return {};
  std::string out(text.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(text.data()),
                          static_cast<int>(text.size()));
  if (n < 0) return {};
  std::size_t len = static_cast<std::size_t>(n);
  if (text.size() >= 1 && text[text.size() - 1] == '=') --len;
  if (text.size() >= 2 && text[text.size() - 2] == '=') --len;
  out.resize(len);
  return out;
}

std::string random_hex(std::size_t bytes) {
  std::vector<unsigned char> raw(bytes);
  check(RAND_bytes(raw.data(), static_cast<int>(raw.size())), "RAND_bytes");
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : raw) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

// ES256 JWS signature: raw r||s, 32 bytes each (not the DER OpenSSL produces).
std::string es256_sign(EVP_PKEY* key, std::string_view signing_input) {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx) throw_openssl("EVP_MD_CTX_new");
  check(EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key), "EVP_DigestSignInit");
  std::size_t der_len = 0;
  const auto* in = reinterpret_cast<const unsigned char*>(signing_input.data());
  check(EVP_DigestSign(ctx.get(), nullptr, &der_len, in, signing_input.size()), "EVP_DigestSign");
  std::vector<unsigned char> der(der_len);
  check(EVP_DigestSign(ctx.get(), der.data(), &der_len, in, signing_input.size()),
        "EVP_DigestSign");
  const unsigned char* p = der.data();
  EcdsaSigPtr sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der_len)));
  if (!sig) throw_openssl("d2i_ECDSA_SIG");
  std::string raw(64, '\0');
  auto* out = reinterpret_cast<unsigned char*>(raw.data());
  if (BN_bn2binpad(ECDSA_SIG_get0_r(sig.get()), out, 32) != 32 ||
      BN_bn2binpad(ECDSA_SIG_get0_s(sig.get()), out + 32, 32) != 32) {
    throw_openssl("ECDSA signature to r||s");
  }
  return raw;
}

std::string rfc3339_utc(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::array<char, 32> buf{};
  std::strftime(buf.data(), buf.size(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf.data();
}

std::uint16_t pick_free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    int err = errno;
    ::close(fd);
    throw std::runtime_error(std::string("bind-probe for a free port: ") + std::strerror(err));
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

std::string quoted(const fs::path& p) {
  return json(p.string()).dump();
}

}  // namespace

TlsFiles write_self_signed_certificate(const fs::path& dir) {
  auto server = make_certificate("127.0.0.1", nullptr, false, "IP:127.0.0.1,DNS:localhost");
  TlsFiles out{dir / "server.crt", dir / "server.key"};
  write_pem_cert(out.cert, server.cert.get());
  write_pem_key(out.key, server.key.get());
  return out;
}

// ---- the token server ----

namespace {

class TokenServer {
 public:
  TokenServer(const RegistryOptions& options, const Certified& signer, const fs::path& tls_cert,
              const fs::path& tls_key, bool tls)
      : options_(options), signer_(signer), x5c_leaf_(base64_std(cert_der(signer.cert.get()))) {
    if (tls) {
      server_ = std::make_unique<httplib::SSLServer>(tls_cert.c_str(), tls_key.c_str());
    } else {
      server_ = std::make_unique<httplib::Server>();
    }
    if (!server_->is_valid()) throw std::runtime_error("token server: cannot set up TLS");
    server_->set_tcp_nodelay(true);  // else Nagle and delayed ACKs hold every answer ~40 ms
    auto handler = [this](const httplib::Request& req, httplib::Response& res) {
      handle(req, res);
    };
    server_->Get("/token", handler);
    server_->Post("/token", handler);
    int port = server_->bind_to_any_port("127.0.0.1");
    if (port <= 0) throw std::runtime_error("token server: cannot bind to 127.0.0.1");
    realm_ =
        std::string(tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(port) + "/token";
    thread_ = std::thread([this] { server_->listen_after_bind(); });
    // stop() is a no-op until the accept loop runs: wait for it, or the destructor could hang.
    while (!server_->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }

  ~TokenServer() {
    server_->stop();
    if (thread_.joinable()) thread_.join();
  }
  TokenServer(const TokenServer&) = delete;
  TokenServer& operator=(const TokenServer&) = delete;

  const std::string& realm() const { return realm_; }

  std::vector<TokenRequest> log() const {
    std::lock_guard lock(mu_);
    return log_;
  }
  void reset() {
    std::lock_guard lock(mu_);
    log_.clear();
  }

 private:
  void handle(const httplib::Request& req, httplib::Response& res) {
    TokenRequest rec;
    rec.method = req.method;
    rec.service = req.get_param_value("service");
    for (std::size_t i = 0; i < req.get_param_value_count("scope"); ++i) {
      // Several scope parameters, or several scopes in one separated by spaces.
      std::istringstream in(req.get_param_value("scope", i));
      for (std::string s; in >> s;) rec.scopes.push_back(s);
    }
    std::string user, password;
    if (req.method == "POST" && req.get_param_value("grant_type") == "password") {
      user = req.get_param_value("username");
      password = req.get_param_value("password");
    } else if (auto auth = req.get_header_value("Authorization"); auth.rfind("Basic ", 0) == 0) {
      std::string decoded = base64_std_decode(auth.substr(6));
      auto colon = decoded.find(':');
      if (colon != std::string::npos) {
        user = decoded.substr(0, colon);
        password = decoded.substr(colon + 1);
      }
    }
    rec.user = user;
    if (user != options_.user || password != options_.password || rec.service != kTokenService) {
      rec.status = 401;
      res.status = 401;
      res.set_content(R"({"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]})",
                      "application/json");
    } else {
      rec.status = 200;
      std::string token = issue(user, rec.scopes);
      json body = {{"token", token},
                   {"access_token", token},
                   {"expires_in", options_.token_lifetime.count()},
                   {"issued_at", rfc3339_utc(std::time(nullptr))}};
      res.set_content(body.dump(), "application/json");
    }
    std::lock_guard lock(mu_);
    log_.push_back(std::move(rec));
  }

  // A JWT as distribution 2.8 verifies it (registry/auth/token/token.go): x5c chaining to the
  // rootcertbundle, `aud` a single string equal to the service, `iss` the configured issuer,
  // exp/nbf within a 60 s leeway, and `access` entries of {type, name, actions}.
  std::string issue(const std::string& user, const std::vector<std::string>& scopes) {
    json access = json::array();
    for (const auto& scope : scopes) {
      auto first = scope.find(':');
      auto last = scope.rfind(':');
      if (first == std::string::npos || last == first) continue;
      json actions = json::array();
      std::istringstream in(scope.substr(last + 1));
      for (std::string a; std::getline(in, a, ',');) {
        if (!a.empty()) actions.push_back(a);
      }
      access.push_back({{"type", scope.substr(0, first)},
                        {"name", scope.substr(first + 1, last - first - 1)},
                        {"actions", actions}});
    }
    auto now = static_cast<std::int64_t>(std::time(nullptr));
    json header = {{"typ", "JWT"}, {"alg", "ES256"}, {"x5c", json::array({x5c_leaf_})}};
    json claims = {{"iss", kTokenIssuer},   {"sub", user},
                   {"aud", kTokenService},  {"exp", now + options_.token_lifetime.count()},
                   {"nbf", now - 1},        {"iat", now},
                   {"jti", random_hex(16)}, {"access", access}};
    std::string signing_input = base64_url(header.dump()) + "." + base64_url(claims.dump());
    return signing_input + "." + base64_url(es256_sign(signer_.key.get(), signing_input));
  }

  const RegistryOptions& options_;
  const Certified& signer_;
  std::string x5c_leaf_;
  std::unique_ptr<httplib::Server> server_;
  std::string realm_;
  std::thread thread_;
  mutable std::mutex mu_;
  std::vector<TokenRequest> log_;
};

}  // namespace

// ---- the registry process ----

struct RegistryProcess::Impl {
  RegistryOptions options;
  TempDir dir;
  fs::path storage = dir / "storage";
  fs::path config = dir / "config.yml";
  fs::path log_file = dir / "registry.log";
  fs::path ca_file = dir / "ca.pem";
  fs::path unrelated_ca_file = dir / "unrelated-ca.pem";
  fs::path server_cert = dir / "server.pem";
  fs::path server_key = dir / "server.key";
  fs::path token_cert = dir / "token-server.pem";
  fs::path token_key = dir / "token-server.key";
  fs::path htpasswd = dir / "htpasswd";
  std::string http_secret = random_hex(16);
  Certified ca;
  Certified token_signer;
  std::unique_ptr<TokenServer> token_server;
  std::uint16_t port = 0;
  pid_t pid = -1;

  Impl() = default;
  ~Impl() {
    stop(kStopGrace);
    token_server.reset();
  }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  bool tls() const { return options.tls != RegistryTls::kNone; }

  void generate_material() {
    ca = make_certificate("sigil test CA " + random_hex(4), nullptr, true, "");
    write_pem_cert(ca_file, ca.cert.get());
    auto unrelated = make_certificate("sigil unrelated CA", nullptr, true, "");
    write_pem_cert(unrelated_ca_file, unrelated.cert.get());

    const bool wrong_host = options.tls == RegistryTls::kWrongHostName;
    auto server =
        make_certificate(wrong_host ? std::string(kWrongHostName) : "127.0.0.1", &ca, false,
                         wrong_host ? "DNS:" + std::string(kWrongHostName)
                                    : std::string("IP:127.0.0.1,DNS:localhost"));
    write_pem_cert(server_cert, server.cert.get());
    write_pem_key(server_key, server.key.get());

    if (options.auth == RegistryAuth::kBasic) write_htpasswd();
    if (options.auth == RegistryAuth::kToken) {
      token_signer = make_certificate("sigil test token signer", &ca, false, "");
      auto token_tls = make_certificate("127.0.0.1", &ca, false, "IP:127.0.0.1,DNS:localhost");
      write_pem_cert(token_cert, token_tls.cert.get());
      write_pem_key(token_key, token_tls.key.get());
      token_server =
          std::make_unique<TokenServer>(options, token_signer, token_cert, token_key, tls());
    }
  }

  void write_htpasswd() {
    // bcrypt (the only hash distribution accepts); cost 4 keeps every request cheap. The
    // password goes through stdin, not the command line.
    auto r = run_process({kHtpasswdBinary, "-niB", "-C", "4", options.user}, {},
                         options.password + "\n");
    if (r.exit_code != 0 || r.out.rfind(options.user + ":$2", 0) != 0) {
      throw std::runtime_error("registry fixture: htpasswd -niB failed: " + r.err);
    }
    write_text_file(htpasswd, r.out.substr(0, r.out.find_first_of("\r\n")) + "\n");
  }

  void write_config() {
    std::ostringstream y;
    y << "version: 0.1\n"
      << "log:\n  level: info\n  formatter: text\n"
      << "storage:\n"
      << "  filesystem:\n    rootdirectory: " << quoted(storage) << "\n"
      << "  delete:\n    enabled: true\n"
      << "  maintenance:\n    uploadpurging:\n      enabled: false\n"
      << "  cache:\n    blobdescriptor: inmemory\n"
      << "http:\n  addr: 127.0.0.1:" << port << "\n  secret: " << http_secret << "\n";
    if (tls()) {
      y << "  tls:\n    certificate: " << quoted(server_cert) << "\n    key: " << quoted(server_key)
        << "\n";
    }
    if (options.auth == RegistryAuth::kBasic) {
      y << "auth:\n  htpasswd:\n    realm: sigil-test-registry\n    path: " << quoted(htpasswd)
        << "\n";
    } else if (options.auth == RegistryAuth::kToken) {
      y << "auth:\n  token:\n    realm: " << quoted(token_server->realm())
        << "\n    service: " << kTokenService << "\n    issuer: " << kTokenIssuer
        << "\n    rootcertbundle: " << quoted(ca_file) << "\n";
    }
    y << "health:\n  storagedriver:\n    enabled: false\n";
    write_text_file(config, y.str());
  }

  // fork + exec (not posix_spawn) so that the child can ask for PR_SET_PDEATHSIG: the registry
  // then dies with the test process even when that is killed outright.
  void spawn() {
    // A minimal environment: no REGISTRY_* variables from the caller can change the config.
    pid = spawn_server({registry_binary(), "serve", config.string()},
                       {"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}, log_file);
  }

  // Reaps the child if it exited; true while it runs.
  bool alive() {
    if (pid <= 0) return false;
    int status = 0;
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid || (r < 0 && errno == ECHILD)) {
      pid = -1;
      return false;
    }
    return true;
  }

  // Readiness only: any HTTP answer from /v2/ (200, or 401 with auth) will do.
  bool answers_v2() const {
    auto probe = [](httplib::ClientImpl& cli) {
      cli.set_connection_timeout(0, 200'000);
      cli.set_read_timeout(1, 0);
      auto res = cli.Get("/v2/");
      return res && (res->status == 200 || res->status == 401);
    };
    if (tls()) {
      httplib::SSLClient cli("127.0.0.1", port);
      cli.enable_server_certificate_verification(false);
      return probe(cli);
    }
    httplib::ClientImpl cli("127.0.0.1", port);
    return probe(cli);
  }

  // Starts and waits for /v2/; false when the port was taken (the caller picks another).
  bool start_once() {
    write_config();
    spawn();
    const auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (!alive()) {
        std::string text = read_log();
        if (text.find("address already in use") != std::string::npos) return false;
        throw std::runtime_error("docker-registry exited during start-up:\n" + text);
      }
      if (answers_v2()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    stop(std::chrono::seconds(0));
    throw std::runtime_error("docker-registry did not answer /v2/ on 127.0.0.1:" +
                             std::to_string(port) + " within 15 s:\n" + read_log());
  }

  void start_on_free_port() {
    for (int attempt = 0; attempt < kPortAttempts; ++attempt) {
      port = pick_free_port();
      if (start_once()) return;
    }
    throw std::runtime_error("docker-registry: no free port after " +
                             std::to_string(kPortAttempts) + " attempts:\n" + read_log());
  }

  void stop(std::chrono::milliseconds grace) {
    if (!alive()) return;
    ::kill(pid, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + grace;
    while (std::chrono::steady_clock::now() < deadline) {
      if (!alive()) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      int status = 0;
      while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      pid = -1;
    }
  }

  std::string read_log() const {
    std::error_code ec;
    if (!fs::exists(log_file, ec)) return {};
    return read_text_file(log_file);
  }
};

std::optional<std::string> missing_program(const std::string& program) {
  if (::access(program.c_str(), X_OK) == 0) return std::nullopt;
  return program + " is not installed (tools/install-deps.sh)";
}

std::optional<std::string> RegistryProcess::unavailable_reason(RegistryAuth auth) {
  if (::access(registry_binary().c_str(), X_OK) != 0) {
    return registry_binary() +
           " is not installed (Debian package docker-registry; tools/install-deps.sh)";
  }
  if (auth == RegistryAuth::kBasic && ::access(kHtpasswdBinary, X_OK) != 0) {
    return std::string(kHtpasswdBinary) +
           " is not installed (Debian package apache2-utils; tools/install-deps.sh)";
  }
  return std::nullopt;
}

std::chrono::milliseconds RegistryProcess::cpu_time() const {
  if (impl_->pid <= 0) return std::chrono::milliseconds(0);
  // After "pid (comm)", from field 3 (state) on; utime and stime are fields 14 and 15, in ticks.
  const std::string text = read_text_file("/proc/" + std::to_string(impl_->pid) + "/stat");
  std::istringstream rest(text.substr(text.rfind(')') + 2));
  std::string field;
  long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stoll(field);
    if (i == 15) stime = std::stoll(field);
  }
  const long tick = ::sysconf(_SC_CLK_TCK);
  return std::chrono::milliseconds((utime + stime) * 1000 / (tick > 0 ? tick : 100));
}

RegistryProcess::RegistryProcess(RegistryOptions options) : impl_(std::make_unique<Impl>()) {
  if (auto why = unavailable_reason(options.auth)) throw std::runtime_error(*why);
  impl_->options = std::move(options);
  impl_->generate_material();
  impl_->start_on_free_port();
}

RegistryProcess::~RegistryProcess() = default;

std::uint16_t RegistryProcess::port() const {
  return impl_->port;
}
std::string RegistryProcess::host() const {
  return "127.0.0.1:" + std::to_string(impl_->port);
}
std::string RegistryProcess::url() const {
  return std::string(impl_->tls() ? "https://" : "http://") + host();
}
std::string RegistryProcess::reference(std::string_view repo_and_tag) const {
  return host() + "/" + std::string(repo_and_tag);
}
const RegistryOptions& RegistryProcess::options() const {
  return impl_->options;
}
const fs::path& RegistryProcess::ca_file() const {
  return impl_->ca_file;
}
const fs::path& RegistryProcess::unrelated_ca_file() const {
  return impl_->unrelated_ca_file;
}
const fs::path& RegistryProcess::storage_dir() const {
  return impl_->storage;
}
const std::string& RegistryProcess::user() const {
  return impl_->options.user;
}
const std::string& RegistryProcess::password() const {
  return impl_->options.password;
}

fs::path RegistryProcess::write_docker_config(const fs::path& dir) const {
  return write_docker_config(dir, impl_->options.user, impl_->options.password);
}

fs::path RegistryProcess::write_docker_config(const fs::path& dir, std::string_view user,
                                              std::string_view password) const {
  fs::create_directories(dir);
  std::string pair = std::string(user) + ":" + std::string(password);
  json config = {{"auths", {{host(), {{"auth", base64_std(pair)}}}}}};
  fs::path file = dir / "config.json";
  write_text_file(file, config.dump(2) + "\n");
  fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write);
  return file;
}

void RegistryProcess::kill() {
  if (impl_->pid > 0) {
    ::kill(impl_->pid, SIGKILL);
    int status = 0;
    while (::waitpid(impl_->pid, &status, 0) < 0 && errno == EINTR) {
    }
    impl_->pid = -1;
  }
}

void RegistryProcess::restart() {
  impl_->stop(kStopGrace);
  if (!impl_->start_once()) {
    throw std::runtime_error("docker-registry: port " + std::to_string(impl_->port) +
                             " was taken while the registry was down");
  }
}

bool RegistryProcess::running() const {
  return impl_->alive();
}
std::string RegistryProcess::log() const {
  return impl_->read_log();
}

std::string RegistryProcess::token_realm() const {
  return impl_->token_server ? impl_->token_server->realm() : std::string();
}
std::size_t RegistryProcess::token_requests() const {
  return impl_->token_server ? impl_->token_server->log().size() : 0;
}
std::vector<TokenRequest> RegistryProcess::token_request_log() const {
  return impl_->token_server ? impl_->token_server->log() : std::vector<TokenRequest>{};
}
void RegistryProcess::reset_token_requests() {
  if (impl_->token_server) impl_->token_server->reset();
}

}  // namespace sigil::test
