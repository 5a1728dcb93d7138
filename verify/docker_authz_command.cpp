// sigil-verify docker-authz: the Docker Engine authorization plugin. The decisions are
// libtrust's (check/docker_authz.h: the protocol and the trust rule); this file serves them on a
// unix socket, asks the daemon about images, reads the node's policy (re-read when it changes)
// and enforces it with the node's cache, credentials and a deadline.
//
// Docker's side (moby pkg/plugins client.go): the daemon retries a plugin it cannot reach for
// 30 s (backoff 1, 2, 4, 8, 16 s), then fails the request; once connected it waits for the answer
// with no timeout of its own (http.Client without Timeout), and so does the user's `docker run`.
// Every verdict here ends within kDockerAuthzDeadline (15 s: the daemon query and every registry
// request of one check together), well inside the 30 s Docker gives a plugin to come up.
#include <httplib.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "commands.h"
#include "lazy_registry_source.h"
#include "libtrust/check/docker_authz.h"
#include "libtrust/check/enforce.h"
#include "libtrust/core/error.h"
#include "libtrust/core/limits.h"
#include "libtrust/core/text.h"
#include "libtrust/registry/registry_store.h"
#include "libtrust/verify/digest_cache.h"
#include "line_writer.h"
#include "node_config.h"
#include "policy_holder.h"

namespace sigil::cli {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

inline constexpr const char* kDefaultSocket = "/run/docker/plugins/sigil.sock";
inline constexpr const char* kDefaultDockerHost = "unix:///var/run/docker.sock";
// One check (the daemon query and every registry request it makes) ends within this.
inline constexpr std::chrono::milliseconds kDockerAuthzDeadline{15000};
// The daemon query: its share of the deadline.
inline constexpr std::chrono::seconds kDaemonQueryTimeout{5};
// Threads serving the socket, and checks (pulls, creations) in progress at once. A check holds a
// thread while the daemon answers its query, and that query's own AuthZReq and AuthZRes need a
// thread too: checks never take more than half, so those always find one.
inline constexpr std::size_t kServerThreads = 32;
inline constexpr int kMaxChecksInProgress = 16;

struct AuthzArgs {
  std::string socket = kDefaultSocket;
  std::string docker_host = kDefaultDockerHost;
  std::string socket_mode = "0600";
};

// One line per event on stderr (the journal, under systemd), written as serve's are.
void log_line(const std::string& line) {
  stderr_lines().write("sigil-verify docker-authz: " + trust::printable(line));
}

// The unix socket path a --docker-host names.
fs::path docker_socket(const std::string& host) {
  constexpr std::string_view kUnix = "unix://";
  if (!host.starts_with(kUnix) || host.size() == kUnix.size()) {
    throw trust::UsageError("--docker-host '" + trust::excerpt(host) +
                            "': only unix:///PATH is supported");
  }
  return fs::path(host.substr(kUnix.size()));
}

// GET /images/NAME/json on the daemon's socket.
class DaemonClient {
 public:
  explicit DaemonClient(fs::path socket) : socket_(std::move(socket)) {}

  std::optional<trust::check::DockerImage> inspect(std::string_view name) const {
    httplib::Client client(socket_.string(), 80);
    client.set_address_family(AF_UNIX);
    // Over a unix socket httplib would send the path as the Host, which the daemon refuses.
    client.set_default_headers({{"Host", "localhost"}});
    client.set_connection_timeout(kDaemonQueryTimeout);
    client.set_read_timeout(kDaemonQueryTimeout);
    client.set_write_timeout(kDaemonQueryTimeout);
    client.set_keep_alive(false);
    std::string body;
    bool over = false;
    const std::string path = "/images/" + std::string(name) + "/json";
    auto res = client.Get(path, [&](const char* data, std::size_t n) {
      if (body.size() + n > trust::limits::kMaxDockerImageInspectBytes) {
        over = true;
        return false;
      }
      body.append(data, n);
      return true;
    });
    const std::string where = "the Docker daemon at unix://" + socket_.string();
    if (over) {
      trust::limits::check(body.size() + 1, trust::limits::kMaxDockerImageInspectBytes,
                           where + ": GET " + trust::excerpt(path), "bytes");
    }
    if (!res) {
      throw trust::IoError(where + ": GET " + trust::excerpt(path) + ": " +
                           httplib::to_string(res.error()));
    }
    if (res->status == 404) return std::nullopt;
    if (res->status != 200) {
      throw trust::IoError(where + ": GET " + trust::excerpt(path) + ": HTTP " +
                           std::to_string(res->status) + ": " + trust::excerpt(body));
    }
    return trust::check::parse_docker_image_inspect(body);
  }

 private:
  fs::path socket_;
};

// The node's policy, re-read when the policy file or any key file it read changes, with the
// verified-digest cache opened for it. A policy that cannot be read is an error at every check
// (fail closed) and is read again at the next, until it is fixed.
PolicyHolder node_policy(const NodeConfig& config) {
  return PolicyHolder(
      config.policy, PolicyHolder::OnInvalid::kFailClosed,
      [cache_dir = config.cache_dir](const trust::verify::TrustPolicy& policy)
          -> std::shared_ptr<trust::verify::VerdictCache> {
        std::string why_not;
        auto cache = trust::verify::VerifiedDigestCache::open(
            cache_dir, policy, trust::verify::CacheOptions{}, why_not);
        if (!cache) {
          log_line("verifying without a cache: " + why_not);
          return nullptr;
        }
        return std::make_shared<trust::verify::VerifiedDigestCache>(std::move(*cache));
      },
      [policy_file = config.policy](const PolicyHolder::Event& e) {
        if (e.loaded) log_line("policy " + policy_file.string() + " loaded (" + e.digest + ")");
      });
}

class Plugin {
 public:
  Plugin(NodeConfig config, fs::path docker_socket)
      : config_(std::move(config)),
        policies_(node_policy(config_)),
        daemon_(std::move(docker_socket)) {}

  trust::check::DockerAuthzDecision authorize(const std::string& body) {
    const auto deadline = Clock::now() + kDockerAuthzDeadline;
    PolicyHolder::Loaded loaded;
    trust::check::DockerAuthzEnvironment env{
        .inspect_image = [this](std::string_view name) { return daemon_.inspect(name); },
        .policy =
            [this, &loaded] {
              loaded = policies_.current();
              return loaded.policy;
            },
        .enforce =
            [this, &loaded, deadline](const trust::verify::TrustPolicy& policy,
                                      const trust::Reference& ref) {
              return enforce(policy, loaded.cache.get(), ref, deadline);
            }};
    const int running = checks_.fetch_add(1) + 1;
    struct Release {
      std::atomic<int>& n;
      ~Release() { n.fetch_sub(1); }
    } release{checks_};
    if (running > kMaxChecksInProgress) {
      // Only checks count here, but which requests are checks is known after parsing: refuse
      // the parse too, and let the daemon's client retry.
      env.policy = []() -> std::shared_ptr<const trust::verify::TrustPolicy> {
        throw trust::IoError("sigil-verify docker-authz: more than " +
                             std::to_string(kMaxChecksInProgress) +
                             " checks in progress; try again");
      };
    }
    return trust::check::authorize_docker_request(body, env);
  }

 private:
  trust::verify::PolicyVerdict enforce(const trust::verify::TrustPolicy& policy,
                                       trust::verify::VerdictCache* cache,
                                       const trust::Reference& ref, Clock::time_point deadline) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left <= std::chrono::milliseconds(0)) {
      return trust::verify::verdict_for_error(
          policy.select(ref.repository_name()), ref.str(), ref.digest(),
          "no time left of the plugin's " + std::to_string(kDockerAuthzDeadline.count() / 1000) +
              " s deadline");
    }
    auto transport = config_.transport(left);
    transport.warn = [](std::string_view w) { log_line(std::string(w)); };
    try {
      LazyRegistrySource source(ref, std::move(transport));
      return trust::check::enforce(policy, ref, source, {.check_blobs = false, .cache = cache});
    } catch (const trust::Error& e) {
      return trust::verify::verdict_for_error(policy.select(ref.repository_name()), ref.str(),
                                              ref.digest(), e.what());
    }
  }

  NodeConfig config_;
  PolicyHolder policies_;
  DaemonClient daemon_;
  std::atomic<int> checks_{0};
};

void log_decision(const trust::check::DockerAuthzDecision& d) {
  if (d.kind == "pass") return;
  std::string line = d.kind + " " + (d.image.empty() ? std::string("-") : d.image) + ": " +
                     (d.allow ? "allowed" : "denied");
  if (!d.msg.empty()) line += ": " + d.msg;
  log_line(line);
}

// Removes a stale socket at `path` (a socket nobody answers on); refuses anything else.
void prepare_socket_path(const fs::path& path) {
  std::error_code ec;
  if (path.has_parent_path() && !fs::exists(path.parent_path(), ec)) {
    fs::create_directories(path.parent_path(), ec);
    if (ec) throw trust::IoError(path.parent_path().string() + ": " + ec.message());
    fs::permissions(path.parent_path(), fs::perms::owner_all, ec);
  }
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return;
  if (!S_ISSOCK(st.st_mode)) {
    throw trust::ExistsError(path.string() + ": exists and is not a socket; not replacing it");
  }
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.string().size() >= sizeof(addr.sun_path)) {
    throw trust::UsageError("--socket '" + path.string() + "': path too long for a unix socket");
  }
  std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path.c_str());
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const bool live = fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  if (fd >= 0) ::close(fd);
  if (live) throw trust::ExistsError(path.string() + ": another process serves this socket");
  if (::unlink(path.c_str()) != 0) throw trust::IoError(path.string() + ": cannot remove");
}

int run_docker_authz(const AuthzArgs& a) {
  const fs::path socket = a.socket;
  const fs::path daemon = docker_socket(a.docker_host);
  if (a.socket_mode != "0600" && a.socket_mode != "0660") {
    throw trust::UsageError("--socket-mode '" + trust::excerpt(a.socket_mode) +
                            "': 0600 or 0660 (the daemon runs as root)");
  }
  const mode_t mode = a.socket_mode == "0600" ? 0600 : 0660;
  auto config = node_config();
  Plugin plugin(config, daemon);
  // A daemon that hangs up before its answer is written must not end the plugin.
  ::signal(SIGPIPE, SIG_IGN);

  // SIGTERM and SIGINT stop the server (handled on a thread of their own, so every server thread
  // starts with them blocked).
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  httplib::Server server;
  server.new_task_queue = [] { return new httplib::ThreadPool(kServerThreads); };
  server.set_address_family(AF_UNIX);
  server.set_keep_alive_max_count(1);
  server.set_payload_max_length(trust::limits::kMaxDockerAuthzDrainBytes);
  const std::string media_type(trust::check::kDockerPluginMediaType);
  server.Post("/Plugin.Activate", [media_type](const httplib::Request&, httplib::Response& res) {
    res.set_content(std::string(trust::check::kDockerPluginActivateAnswer), media_type.c_str());
  });
  server.Post("/AuthZPlugin.AuthZReq", [&plugin, media_type](const httplib::Request&,
                                                             httplib::Response& res,
                                                             const httplib::ContentReader& read) {
    std::string body;
    bool over = false;
    read([&](const char* data, std::size_t n) {
      if (over || body.size() + n > trust::limits::kMaxDockerAuthzRequestBytes) {
        over = true;  // read on and drop, so that the denial is the answer
        return true;
      }
      body.append(data, n);
      return true;
    });
    trust::check::DockerAuthzDecision d;
    if (over) {
      d.kind = "invalid";
      d.msg = d.err = "the AuthZ request is over the limit of " +
                      std::to_string(trust::limits::kMaxDockerAuthzRequestBytes) + " bytes";
    } else {
      d = plugin.authorize(body);
    }
    log_decision(d);
    res.set_content(d.to_json(), media_type.c_str());
  });
  // The response is not where the check is: allowed, read and dropped.
  server.Post("/AuthZPlugin.AuthZRes", [media_type](const httplib::Request&, httplib::Response& res,
                                                    const httplib::ContentReader& read) {
    read([](const char*, std::size_t) { return true; });
    res.set_content(R"({"Allow":true})", media_type.c_str());
  });

  prepare_socket_path(socket);
  const mode_t old_umask = ::umask(0177);
  const bool bound = server.bind_to_port(socket.string(), 80);
  ::umask(old_umask);
  if (!bound) throw trust::IoError(socket.string() + ": cannot listen on this socket");
  if (::chmod(socket.c_str(), mode) != 0) {
    ::unlink(socket.c_str());
    throw trust::IoError(socket.string() + ": cannot set its mode");
  }

  std::thread stopper([&server, stop_signals] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    server.stop();
  });
  log_line("serving " + socket.string() + " for the daemon at unix://" + daemon.string() +
           " (policy " + config.policy.string() + ")");
  const bool ok = server.listen_after_bind();
  ::unlink(socket.c_str());
  if (stopper.joinable()) {
    // Stopped by other means than a signal: wake the stopper.
    if (!ok) pthread_kill(stopper.native_handle(), SIGTERM);
    stopper.join();
  }
  log_line("stopped");
  return ok ? kExitOk : kExitError;
}

}  // namespace

void register_docker_authz_commands(Program& prog) {
  auto args = std::make_shared<AuthzArgs>();
  auto* cmd = add_command(
      prog, prog.app, "docker-authz",
      "Serve the Docker Engine authorization plugin: pulls and container creations are judged by "
      "the node's trust policy ($SIGIL_ROOT or /etc/sigil: policy.yaml, cache/, auth.json, "
      "ca.pem); runs until SIGTERM",
      [args] {
        const FlushStderrLines flushed;
        return run_docker_authz(*args);
      });
  cmd->add_option("--socket", args->socket,
                  "The plugin's unix socket; the daemon finds plugin NAME at "
                  "/run/docker/plugins/NAME.sock (--authorization-plugin=NAME)")
      ->capture_default_str();
  cmd->add_option("--socket-mode", args->socket_mode, "The socket's mode: 0600 or 0660")
      ->capture_default_str();
  cmd->add_option("--docker-host", args->docker_host,
                  "The daemon asked which image a container is created from (unix:///PATH)")
      ->capture_default_str();
}

}  // namespace sigil::cli
