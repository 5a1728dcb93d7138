// sigil serve: the Kubernetes admission webhook. The decisions are libtrust's
// (check/admission.h: the protocol and the trust rule); this file serves them over HTTPS
// (serve_tls.h: the certificate pair, reloaded; hostile clients bounded), keeps the policy
// (policy_holder.h: a refused replacement keeps the last good one), enforces it with an
// in-memory verdict cache and a deadline per review, and reports on /healthz, /readyz, /metrics
// (serve_metrics.h) and in JSON log lines on stderr (line_writer.h). docs/cli.md "sigil serve" is
// the contract.
#include <httplib.h>
#include <signal.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <ctime>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <system_error>
#include <thread>

#include "admission_enforcer.h"
#include "commands.h"
#include "libtrust/check/admission.h"
#include "libtrust/core/error.h"
#include "libtrust/core/limits.h"
#include "libtrust/core/text.h"
#include "libtrust/verify/verdict_cache.h"
#include "line_writer.h"
#include "policy_holder.h"
#include "serve_metrics.h"
#include "serve_tls.h"

namespace sigil::cli {
namespace {

using Clock = std::chrono::steady_clock;
using json = nlohmann::ordered_json;

inline constexpr const char* kDefaultListen = "0.0.0.0:8443";
inline constexpr double kDefaultTimeoutSeconds = 8;
inline constexpr double kDefaultCacheTtlSeconds = 600;
inline constexpr std::size_t kDefaultCacheEntries = 10000;
inline constexpr std::size_t kDefaultThreads = 64;
inline constexpr std::size_t kMaxThreads = 4096;
inline constexpr std::size_t kMaxCacheEntries = 10'000'000;
// How often the policy and the certificate files are looked at.
inline constexpr std::chrono::milliseconds kWatchInterval{1000};
// Requests on one kept-alive connection before it is closed (the API server reuses them).
inline constexpr std::size_t kKeepAliveMaxCount = 100000;

// Before a POST's body is read: a review comes with a Content-Length of at most
// kMaxAdmissionReviewBytes (as the API server sends it). httplib itself reads and discards an
// over-long body until its read timeout, and a chunked body has no length to be refused by; here
// both are answered from the request head (413, 411) and the connection closed.
httplib::Server::HandlerResponse refuse_unbounded_body(const httplib::Request& req,
                                                       httplib::Response& res) {
  if (req.method != "POST") return httplib::Server::HandlerResponse::Unhandled;
  const auto refuse = [&res](int status, const std::string& why) {
    res.status = status;
    res.set_header("Connection", "close");
    res.set_content(why + "\n", "text/plain");
    return httplib::Server::HandlerResponse::Handled;
  };
  if (req.has_header("Transfer-Encoding") || !req.has_header("Content-Length")) {
    return refuse(411, "a review is sent with a Content-Length (and no Transfer-Encoding)");
  }
  const std::string length = req.get_header_value("Content-Length");
  std::uint64_t bytes = 0;
  const auto [end, ec] = std::from_chars(length.data(), length.data() + length.size(), bytes);
  if (ec != std::errc() || end != length.data() + length.size() || length.empty()) {
    return refuse(400, "Content-Length '" + trust::excerpt(trust::printable(length), 32) +
                           "' is not a number");
  }
  try {
    trust::limits::check(bytes, trust::check::kMaxAdmissionReviewBytes, "AdmissionReview",
                         "bytes");  // the message admit() gives a body over the cap
  } catch (const trust::LimitError& e) {
    return refuse(413, e.what());
  }
  return httplib::Server::HandlerResponse::Unhandled;
}

struct ServeArgs {
  std::string policy;
  std::string tls_cert;
  std::string tls_key;
  std::string listen = kDefaultListen;
  double cache_ttl_seconds = kDefaultCacheTtlSeconds;
  std::size_t cache_entries = kDefaultCacheEntries;
  std::size_t threads = kDefaultThreads;
  bool pull_secrets = false;
  RegistryFlags registry;
};

// "2026-12-01T23:12:47.123Z"
std::string rfc3339_now() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[96];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms.count()));
  return buf;
}

// {"time":…,"level":…,"msg":…, fields…}: ASCII (non-ASCII escaped), one line.
void log_event(const char* level, const char* msg, json fields = json::object()) {
  json line = {{"time", rfc3339_now()}, {"level", level}, {"msg", msg}};
  for (auto& [k, v] : fields.items()) line[k] = v;
  stderr_lines().write(line.dump(-1, ' ', true, json::error_handler_t::replace));
}

// The decision's own line with the time, the endpoint and the latency put first.
void log_decision(const trust::check::AdmissionDecision& d, const char* endpoint,
                  double latency_ms) {
  const std::string own = d.log_json();
  json head = {{"time", rfc3339_now()}, {"endpoint", endpoint}, {"latency_ms", latency_ms}};
  std::string line = head.dump(-1, ' ', true, json::error_handler_t::replace);
  if (own.size() > 2 && own.front() == '{' && own.back() == '}') {
    line.pop_back();
    line += "," + own.substr(1);
  }
  stderr_lines().write(line);
}

// "HOST:PORT" or "[V6]:PORT".
std::pair<std::string, int> parse_listen(const std::string& text) {
  const auto bad = [&] {
    return trust::UsageError("--listen '" + trust::excerpt(text) +
                             "': expected ADDR:PORT (0.0.0.0:8443, [::]:8443, 127.0.0.1:0)");
  };
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) throw bad();
  std::string host = text.substr(0, colon);
  const std::string port_text = text.substr(colon + 1);
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') throw bad();
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string::npos) {
    throw bad();
  }
  int port = 0;
  for (char c : port_text) {
    if (c < '0' || c > '9' || port > 65535) throw bad();
    port = port * 10 + (c - '0');
  }
  if (port > 65535 || port_text.size() > 5) throw bad();
  return {host, port};
}

class Server {
 public:
  explicit Server(const ServeArgs& a)
      : args_(a),
        timeout_(static_cast<long long>(a.registry.timeout_seconds * 1000)),
        cache_options_{.ttl = std::chrono::seconds(static_cast<long long>(a.cache_ttl_seconds)),
                       .max_entries = a.cache_entries},
        policies_(
            a.policy, PolicyHolder::OnInvalid::kKeepLastGood,
            [this](const trust::verify::TrustPolicy& p) {
              return std::make_shared<trust::verify::MemoryVerdictCache>(p, cache_options_);
            },
            [this](const PolicyHolder::Event& e) { policy_event(e); }),
        certs_(a.tls_cert, a.tls_key) {
    if (a.registry.timeout_seconds <= 0) {
      throw trust::UsageError(
          "--timeout 0: sigil serve needs a deadline under the webhook's timeoutSeconds");
    }
    auto transport = transport_options(a.registry);
    transport.progress = nullptr;
    transport.warn = [](std::string_view w) {
      log_event("warn", "registry", {{"warning", std::string(w)}});
    };
    enforcer_.emplace(
        AdmissionEnforcerOptions{.transport = std::move(transport),
                                 .pull_secrets = a.pull_secrets,
                                 .warn = [](std::string_view w) {
                                   log_event("warn", "pull secret", {{"warning", std::string(w)}});
                                 }});
  }

  int run() {
    const auto [host, port] = parse_listen(args_.listen);
    policies_.refresh();  // throws: no policy, no server (exit 3)
    certs_.load();        // throws: no certificate pair, no server (exit 3)
    metrics_.certificate_reloads.inc({"loaded"});
    log_event(
        "info", "certificate loaded",
        {{"cert", args_.tls_cert}, {"key", args_.tls_key}, {"not_after", certs_.not_after()}});

    ::signal(SIGPIPE, SIG_IGN);
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

    ConnectionWatchdog watchdog;
    auto server = make_https_server(certs_, watchdog);
    const std::size_t threads = args_.threads;
    server->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    server->set_keep_alive_max_count(kKeepAliveMaxCount);
    server->set_keep_alive_timeout(kRequestArrivalDeadline.count());
    server->set_read_timeout(kRequestArrivalDeadline.count());
    server->set_write_timeout(kRequestArrivalDeadline.count());
    server->set_payload_max_length(trust::check::kMaxAdmissionReviewBytes);
    server->set_pre_routing_handler(refuse_unbounded_body);
    server->set_tcp_nodelay(true);  // else Nagle and delayed ACKs hold every answer ~40 ms
    server->set_logger([&watchdog](const httplib::Request& req, const httplib::Response& res) {
      watchdog.response_written(req, res);
    });
    routes(*server, watchdog);

    int bound = port;
    if (port == 0) {
      bound = server->bind_to_any_port(host);
      if (bound < 0) bound = 0;
    } else if (!server->bind_to_port(host, port)) {
      bound = 0;
    }
    if (bound <= 0) throw trust::IoError("--listen " + args_.listen + ": cannot listen there");

    std::thread stopper([&server, stop_signals] {
      int sig = 0;
      sigwait(&stop_signals, &sig);
      server->stop();
    });
    std::thread watcher([this] { watch(); });
    const std::string where = (host.find(':') != std::string::npos ? "[" + host + "]" : host) +
                              ":" + std::to_string(bound);
    log_event("info", "serving",
              {{"listen", where}, {"policy", args_.policy}, {"threads", args_.threads}});
    const bool ok = server->listen_after_bind();
    {
      std::lock_guard<std::mutex> lock(stop_mutex_);
      stopping_ = true;
    }
    stop_wake_.notify_all();
    watcher.join();
    if (!ok) pthread_kill(stopper.native_handle(), SIGTERM);
    stopper.join();
    log_event("info", "stopped");
    return ok ? kExitOk : kExitError;
  }

 private:
  void policy_event(const PolicyHolder::Event& e) {
    if (e.loaded) {
      if (e.previous && e.previous->cache) {
        if (auto* old = dynamic_cast<trust::verify::MemoryVerdictCache*>(e.previous->cache.get())) {
          const auto s = old->stats();
          retired_hits_ += s.hits;
          retired_misses_ += s.misses;
        }
      }
      metrics_.policy_reloads.inc({"loaded"});
      log_event("info", "policy loaded", {{"policy", args_.policy}, {"digest", e.digest}});
    } else {
      metrics_.policy_reloads.inc({"refused"});
      log_event("error", "policy refused",
                {{"policy", args_.policy}, {"kept", e.digest}, {"error", e.error}});
    }
  }

  void watch() {
    std::unique_lock<std::mutex> lock(stop_mutex_);
    while (!stopping_) {
      stop_wake_.wait_for(lock, kWatchInterval);
      if (stopping_) break;
      lock.unlock();
      try {
        policies_.refresh();
      } catch (const trust::Error& e) {
        log_event("error", "policy refused", {{"policy", args_.policy}, {"error", e.what()}});
      }
      if (auto e = certs_.refresh()) {
        if (e->loaded) {
          metrics_.certificate_reloads.inc({"loaded"});
          log_event(
              "info", "certificate loaded",
              {{"cert", args_.tls_cert}, {"key", args_.tls_key}, {"not_after", e->not_after}});
        } else {
          metrics_.certificate_reloads.inc({"refused"});
          log_event("error", "certificate refused",
                    {{"cert", args_.tls_cert}, {"key", args_.tls_key}, {"error", e->error}});
        }
      }
      lock.lock();
    }
  }

  void routes(httplib::Server& server, ConnectionWatchdog& watchdog) {
    server.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("ok\n", "text/plain");
    });
    server.Get("/readyz", [this](const httplib::Request&, httplib::Response& res) {
      // Unready only when this replica cannot serve: its certificate has expired. A refused
      // replacement (policy or certificate) is reported but leaves it ready, since it still
      // serves the last good one: every replica reads the same ConfigMap and Secret, and all of
      // them unready at once would leave the Service without endpoints, so that failurePolicy
      // Fail rejects every object in the cluster.
      if (auto p = certs_.expired()) {
        res.status = 503;
        res.set_content(trust::printable(*p) + "\n", "text/plain");
        return;
      }
      std::string body = "ok\n";  // then one warning line each
      if (auto p = policies_.problem()) body += "warning: " + trust::printable(*p) + "\n";
      if (auto p = certs_.problem()) body += "warning: " + trust::printable(*p) + "\n";
      res.set_content(body, "text/plain");
    });
    server.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
      ServeMetrics::Snapshot now{.cache_hits = retired_hits_.load(),
                                 .cache_misses = retired_misses_.load(),
                                 .cache_entries = 0,
                                 .policy_digest = {},
                                 .certificate_expiry = certs_.not_after()};
      try {
        const auto loaded = policies_.current();
        now.policy_digest = loaded.policy->content_digest();
        if (auto* cache = dynamic_cast<trust::verify::MemoryVerdictCache*>(loaded.cache.get())) {
          const auto s = cache->stats();
          now.cache_hits += s.hits;
          now.cache_misses += s.misses;
          now.cache_entries = s.entries;
        }
      } catch (const trust::Error&) {
        // no policy: no digest, no cache
      }
      res.set_content(metrics_.render(now), "text/plain; version=0.0.4; charset=utf-8");
    });
    for (const bool mutate : {false, true}) {
      const char* endpoint = mutate ? "mutate" : "validate";
      server.Post(
          mutate ? "/mutate" : "/validate",
          [this, &watchdog, mutate, endpoint](const httplib::Request& req, httplib::Response& res) {
            watchdog.request_started(req);
            review(req, res, mutate, endpoint);
          });
    }
  }

  void review(const httplib::Request& req, httplib::Response& res, bool mutate,
              const char* endpoint) {
    const auto start = Clock::now();
    const auto deadline = start + timeout_;
    PolicyHolder::Loaded loaded;
    trust::check::AdmissionEnvironment env{
        .policy =
            [this, &loaded] {
              loaded = policies_.current();
              return loaded.policy;
            },
        .enforce =
            [this, &loaded, deadline](const trust::verify::TrustPolicy& policy,
                                      const trust::Reference& ref,
                                      const trust::check::AdmissionContext& context) {
              return enforcer_->enforce(policy, loaded.cache.get(), ref, context, deadline);
            }};
    const auto d = trust::check::admit(req.body, env, {.mutate = mutate});
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    metrics_.duration.observe(seconds);
    if (!d.review_ok) {
      res.status = 400;
      res.set_content(trust::printable(d.message) + "\n", "text/plain");
      metrics_.requests.inc({endpoint, "error"});
      log_event("warn", "review refused",
                {{"endpoint", endpoint}, {"error", d.message}, {"latency_ms", seconds * 1000}});
      return;
    }
    res.set_content(d.to_json(), "application/json");
    metrics_.requests.inc({endpoint, d.allowed ? "allowed" : "denied"});
    for (const auto& image : d.images) {
      metrics_.decisions.inc({std::string(image.verdict.result()), image.verdict.rule});
      for (const auto& step : image.verdict.trace) {
        if (step.check == "error") {
          ++metrics_.registry_errors;
          break;
        }
      }
    }
    log_decision(d, endpoint, seconds * 1000);
  }

  const ServeArgs& args_;
  std::chrono::milliseconds timeout_;
  trust::verify::CacheOptions cache_options_;
  std::optional<AdmissionEnforcer> enforcer_;  // set in the constructor
  ServeMetrics metrics_;
  std::atomic<std::uint64_t> retired_hits_{0}, retired_misses_{0};
  PolicyHolder policies_;
  CertificateStore certs_;
  std::mutex stop_mutex_;
  std::condition_variable stop_wake_;
  bool stopping_ = false;
};

CLI::Validator seconds_transform() {
  CLI::AsNumberWithUnit seconds(
      std::map<std::string, double>{{"ms", 0.001}, {"s", 1.0}, {"m", 60.0}, {"h", 3600.0}},
      CLI::AsNumberWithUnit::CASE_SENSITIVE);
  seconds.description("");
  return seconds;
}

}  // namespace

void register_serve_commands(Program& prog) {
  auto args = std::make_shared<ServeArgs>();
  auto* cmd = add_command(
      prog, prog.app, "serve",
      "Serve the Kubernetes admission webhook (validating and mutating) over HTTPS: POST "
      "/validate and /mutate, GET /healthz, /readyz and /metrics; the policy and the certificate "
      "pair are read again when they change; runs until SIGTERM",
      [args] {
        const FlushStderrLines flushed;
        Server server(*args);
        return server.run();
      });
  cmd->add_option("--policy", args->policy, "The trust policy file (docs/policy.md)")
      ->type_name("FILE")
      ->required();
  cmd->add_option("--tls-cert", args->tls_cert,
                  "The server's PEM certificate, its chain after it (read again when it changes)")
      ->type_name("FILE")
      ->required();
  cmd->add_option("--tls-key", args->tls_key,
                  "The certificate's unencrypted PEM private key (read again when it changes)")
      ->type_name("FILE")
      ->required();
  cmd->add_option("--listen", args->listen, "Address and port to serve on; port 0 picks a free one")
      ->type_name("ADDR:PORT")
      ->capture_default_str();
  args->registry.timeout_seconds = kDefaultTimeoutSeconds;
  add_registry_options(*cmd, args->registry);
  cmd->get_option("--timeout")
      ->description(
          "Every registry request of one AdmissionReview ends within this long of its arrival: "
          "8s, 500ms (a number alone is seconds; more than 0)")
      ->default_str("8s");
  cmd->add_option("--cache-ttl", args->cache_ttl_seconds,
                  "How long a verified image's verdict is kept in memory: 10m, 90s")
      ->type_name("DURATION")
      ->transform(seconds_transform())
      ->check(CLI::Range(1.0, 7.0 * 24 * 3600))
      ->default_str("10m");
  cmd->add_option("--cache-entries", args->cache_entries, "Verdicts kept in memory at most")
      ->check(CLI::Range(std::size_t{1}, kMaxCacheEntries))
      ->capture_default_str();
  cmd->add_option("--threads", args->threads, "Connections served at once")
      ->check(CLI::Range(std::size_t{1}, kMaxThreads))
      ->capture_default_str();
  cmd->add_flag("--pull-secrets", args->pull_secrets,
                "Also use the registry credentials of the pod's imagePullSecrets, read through "
                "the API server with the service account (needs get on secrets: "
                "deploy/kubernetes/pull-secrets/)");
}

}  // namespace sigil::cli
