#include "support/fake_registry.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <stdexcept>

#include "libtrust/core/encoding.h"
#include "libtrust/core/media_type.h"
#include "support/process.h"
#include "support/registry_process.h"

namespace sigil::test {
namespace {

using nlohmann::json;

std::string error_json(const std::string& code, const std::string& message) {
  return json{{"errors", json::array({json{{"code", code}, {"message", message}}})}}.dump();
}

void oci_error(httplib::Response& res, int status, const std::string& code,
               const std::string& message) {
  res.status = status;
  res.set_content(error_json(code, message), "application/json");
}

std::string digest_of(const std::string& data) {
  return trust::Digest::of(trust::as_bytes(data)).str();
}

bool is_digest(const std::string& ref) {
  return ref.find(':') != std::string::npos;
}

}  // namespace

FakeRegistry::FakeRegistry(bool tls) : tls_(tls) {
  if (tls_) {
    cert_dir_ = make_temp_dir().string();
    const auto files = write_self_signed_certificate(cert_dir_);
    server_ = std::make_unique<httplib::SSLServer>(files.cert.c_str(), files.key.c_str());
    if (!server_->is_valid()) throw std::runtime_error("fake registry: cannot set up TLS");
  } else {
    server_ = std::make_unique<httplib::Server>();
  }
  // Long enough that a loaded machine never sees a kept connection closed between two requests
  // of one test (which would make connection counts vary); stop() ends kept connections at once.
  server_->set_keep_alive_timeout(30);
  // Like real registries, no cap on the requests one connection may carry (cpp-httplib's default
  // closes it after 5, which would hide whether the client reuses its connections).
  server_->set_keep_alive_max_count(1000);
  // httplib writes headers and body separately: without TCP_NODELAY, Nagle's algorithm and the
  // client's delayed ACK made every answer wait about 40 ms.
  server_->set_tcp_nodelay(true);
  // A kept-alive connection holds a server thread: enough threads for a client's parallel
  // connections plus the sequential one, so no request waits for another's keep-alive timeout.
  server_->new_task_queue = [] { return new httplib::ThreadPool(32); };
  // A TLS ClientHello (the client's probe of an insecure registry) holds no request line:
  // give up on it quickly so that the client falls back to plain HTTP at once.
  server_->set_read_timeout(0, 200000);
  install_routes();
  port_ = server_->bind_to_any_port("127.0.0.1");
  if (port_ <= 0) throw std::runtime_error("fake registry: cannot bind 127.0.0.1");
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  // stop() is a no-op until the accept loop runs: wait for it, or the destructor could hang.
  while (!server_->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

FakeRegistry::~FakeRegistry() {
  stopping_ = true;
  server_->stop();
  if (thread_.joinable()) thread_.join();
  if (!cert_dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(cert_dir_, ec);
  }
}

std::string FakeRegistry::host() const {
  return "127.0.0.1:" + std::to_string(port_);
}
std::string FakeRegistry::url() const {
  return (tls_ ? "https://" : "http://") + host();
}

trust::Digest FakeRegistry::add_blob(const std::string& repo, const std::string& data) {
  auto d = digest_of(data);
  std::lock_guard lock(mu_);
  blobs_[d] = data;
  repos_[repo].blobs.insert(d);
  return trust::Digest::parse(d);
}

trust::Digest FakeRegistry::add_manifest(const std::string& repo, const std::string& bytes,
                                         const std::string& media_type, const std::string& tag) {
  auto d = digest_of(bytes);
  std::lock_guard lock(mu_);
  auto& r = repos_[repo];
  r.manifests[d] = {media_type, bytes};
  if (!tag.empty()) r.tags[tag] = d;
  return trust::Digest::parse(d);
}

std::optional<std::string> FakeRegistry::manifest(const std::string& repo,
                                                  const std::string& reference) {
  std::lock_guard lock(mu_);
  auto& r = repos_[repo];
  std::string d = reference;
  if (!is_digest(reference)) {
    auto t = r.tags.find(reference);
    if (t == r.tags.end()) return std::nullopt;
    d = t->second;
  }
  auto m = r.manifests.find(d);
  if (m == r.manifests.end()) return std::nullopt;
  return m->second.second;
}

std::optional<std::string> FakeRegistry::blob(const std::string& digest) {
  std::lock_guard lock(mu_);
  auto it = blobs_.find(digest);
  if (it == blobs_.end()) return std::nullopt;
  return it->second;
}

std::vector<std::string> FakeRegistry::tags(const std::string& repo) {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& [t, _] : repos_[repo].tags) out.push_back(t);
  return out;
}

void FakeRegistry::require_basic(const std::string& user, const std::string& password) {
  std::lock_guard lock(mu_);
  auth_ = Auth::kBasic;
  user_ = user;
  password_ = password;
}

void FakeRegistry::require_bearer(const std::string& user, const std::string& password,
                                  int expires_in, const std::string& refresh_token) {
  std::lock_guard lock(mu_);
  auth_ = Auth::kBearer;
  user_ = user;
  password_ = password;
  expires_in_ = expires_in;
  refresh_token_ = refresh_token;
}

std::vector<FakeRegistry::TokenRequest> FakeRegistry::token_requests() const {
  std::lock_guard lock(mu_);
  return token_requests_;
}

void FakeRegistry::add_fault(Fault fault) {
  std::lock_guard lock(mu_);
  faults_.push_back(std::move(fault));
}

FakeRegistry::Handler FakeRegistry::status(int code, std::string body,
                                           std::map<std::string, std::string> headers) {
  return [code, body, headers](const httplib::Request&, httplib::Response& res) {
    res.status = code;
    for (const auto& [k, v] : headers) res.set_header(k.c_str(), v);
    auto ct = headers.count("Content-Type") ? headers.at("Content-Type") : "application/json";
    if (!body.empty()) res.set_content(body, ct.c_str());
  };
}

FakeRegistry::Handler FakeRegistry::truncated(std::string body, std::size_t declared) {
  return [body, declared](const httplib::Request&, httplib::Response& res) {
    res.status = 200;
    res.set_content_provider(declared, "application/octet-stream",
                             [body](std::size_t offset, std::size_t, httplib::DataSink& sink) {
                               if (offset == 0) sink.write(body.data(), body.size());
                               return false;  // drop the connection
                             });
  };
}

FakeRegistry::Handler FakeRegistry::cut(std::string whole, std::size_t upto) {
  return [whole, upto](const httplib::Request& req, httplib::Response& res) {
    std::size_t from = 0;
    res.status = 200;
    static const std::regex range_re(R"(bytes=(\d+)-)");
    std::smatch m;
    const auto range = req.get_header_value("Range");
    if (std::regex_match(range, m, range_re)) {
      from = std::stoul(m[1].str());
      res.status = 206;
      res.set_header("Content-Range", "bytes " + std::to_string(from) + "-" +
                                          std::to_string(whole.size() - 1) + "/" +
                                          std::to_string(whole.size()));
    }
    const auto part = whole.substr(from, upto > from ? upto - from : 0);
    res.set_chunked_content_provider("application/octet-stream",
                                     [part](std::size_t, httplib::DataSink& sink) {
                                       sink.write(part.data(), part.size());
                                       return false;  // drop the connection
                                     });
  };
}

FakeRegistry::Handler FakeRegistry::chunked(int code, std::string body,
                                            std::map<std::string, std::string> headers) {
  return [code, body, headers](const httplib::Request&, httplib::Response& res) {
    res.status = code;
    for (const auto& [k, v] : headers) res.set_header(k.c_str(), v);
    res.set_chunked_content_provider("application/octet-stream",
                                     [body](std::size_t, httplib::DataSink& sink) {
                                       sink.write(body.data(), body.size());
                                       sink.done();
                                       return true;
                                     });
  };
}

FakeRegistry::Handler FakeRegistry::slow(std::string body, int delay_ms) {
  return [this, body, delay_ms](const httplib::Request&, httplib::Response& res) {
    res.status = 200;
    res.set_content_provider(
        body.size(), "application/octet-stream",
        [this, body, delay_ms](std::size_t offset, std::size_t, httplib::DataSink& sink) {
          if (!pause(delay_ms)) return false;
          sink.write(body.data() + offset, body.size() - offset);
          return true;
        });
  };
}

bool FakeRegistry::pause(int ms) const {
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (!stopping_ && (ms < 0 || std::chrono::steady_clock::now() < until)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return !stopping_;
}

FakeRegistry::Handler FakeRegistry::trickle(std::string body, std::size_t bytes, int every_ms,
                                            int code, std::map<std::string, std::string> headers) {
  return [this, body, bytes, every_ms, code, headers](const httplib::Request&,
                                                      httplib::Response& res) {
    res.status = code;
    for (const auto& [k, v] : headers) res.set_header(k.c_str(), v);
    res.set_content_provider(
        body.size(), "application/octet-stream",
        [this, body, bytes, every_ms](std::size_t offset, std::size_t, httplib::DataSink& sink) {
          if (offset > 0 && !pause(every_ms)) return false;
          const auto n = std::min(bytes, body.size() - offset);
          return sink.write(body.data() + offset, n);
        });
  };
}

FakeRegistry::Handler FakeRegistry::endless(int code, std::map<std::string, std::string> headers,
                                            std::string piece, int every_ms) {
  return [this, code, headers, piece, every_ms](const httplib::Request&, httplib::Response& res) {
    res.status = code;
    for (const auto& [k, v] : headers) res.set_header(k.c_str(), v);
    res.set_chunked_content_provider(
        "application/octet-stream",
        [this, piece, every_ms](std::size_t offset, httplib::DataSink& sink) {
          if (offset > 0 && every_ms > 0 && !pause(every_ms)) return false;
          return !stopping_ && sink.write(piece.data(), piece.size());
        });
  };
}

FakeRegistry::Handler FakeRegistry::hang() {
  return [this](const httplib::Request&, httplib::Response& res) {
    pause(-1);
    res.status = 503;
  };
}

FakeRegistry::Handler FakeRegistry::headers_then_hang(int code, std::size_t declared,
                                                      std::map<std::string, std::string> headers) {
  return [this, code, declared, headers](const httplib::Request&, httplib::Response& res) {
    res.status = code;
    for (const auto& [k, v] : headers) res.set_header(k.c_str(), v);
    res.set_content_provider(declared, "application/octet-stream",
                             [this](std::size_t, std::size_t, httplib::DataSink&) {
                               pause(-1);
                               return false;
                             });
  };
}

FakeRegistry::Handler FakeRegistry::redirect_with_body(int code, std::string location,
                                                       std::string body, bool endless_body) {
  if (endless_body) return endless(code, {{"Location", location}});
  return status(code, body, {{"Location", location}, {"Content-Type", "text/html"}});
}

FakeRegistry::Handler FakeRegistry::huge_headers(int code, std::size_t bytes, std::size_t line) {
  std::map<std::string, std::string> headers;
  for (std::size_t i = 0; i * line < bytes; ++i) {
    headers["X-Filler-" + std::to_string(i)] = std::string(std::min(line, bytes - i * line), 'h');
  }
  return status(code, "{}", headers);
}

std::vector<FakeRegistry::Recorded> FakeRegistry::requests() const {
  std::lock_guard lock(mu_);
  return requests_;
}

void FakeRegistry::clear_requests() {
  std::lock_guard lock(mu_);
  requests_.clear();
  token_requests_.clear();
}

std::size_t FakeRegistry::count(const std::string& method, const std::string& path_regex) const {
  std::regex re(path_regex);
  std::lock_guard lock(mu_);
  return static_cast<std::size_t>(std::count_if(
      requests_.begin(), requests_.end(),
      [&](const Recorded& r) { return r.method == method && std::regex_match(r.path, re); }));
}

bool FakeRegistry::authorized(const httplib::Request& req, httplib::Response& res) {
  // Called with mu_ held.
  auto given = req.get_header_value("Authorization");
  switch (auth_) {
    case Auth::kNone:
      return true;
    case Auth::kBasic: {
      auto expected = "Basic " + trust::base64_encode(trust::as_bytes(user_ + ":" + password_));
      if (given == expected) return true;
      res.status = 401;
      res.set_header("WWW-Authenticate", "Basic realm=\"fake-registry\"");
      res.set_content(error_json("UNAUTHORIZED", "authentication required"), "application/json");
      return false;
    }
    case Auth::kBearer: {
      if (!reject_tokens_ && given.rfind("Bearer ", 0) == 0 &&
          issued_tokens_.count(given.substr(7)) != 0) {
        return true;
      }
      res.status = 401;
      std::string scope;
      auto m = std::smatch{};
      static const std::regex repo_re(R"(/v2/(.+)/(manifests|blobs|tags|referrers)/.*)");
      if (std::regex_match(req.path, m, repo_re)) {
        scope = ",scope=\"repository:" + m[1].str() + ":pull\"";
      }
      res.set_header("WWW-Authenticate",
                     "Bearer realm=\"" + url() + "/token\",service=\"fake-registry\"" + scope);
      res.set_content(error_json("UNAUTHORIZED", "authentication required"), "application/json");
      return false;
    }
  }
  return false;
}

void FakeRegistry::install_routes() {
  server_->set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    std::unique_lock lock(mu_);
    Recorded rec;
    rec.method = req.method;
    rec.path = req.path;
    std::vector<std::string> params;
    for (const auto& [k, v] : req.params) params.push_back(k + "=" + v);
    std::sort(params.begin(), params.end());
    for (const auto& p : params) rec.query += (rec.query.empty() ? "" : "&") + p;
    rec.authorization = req.get_header_value("Authorization");
    rec.range = req.get_header_value("Range");
    rec.body = req.body.substr(0, 4096);
    requests_.push_back(rec);
    if (req.path.rfind("/v2/", 0) == 0 && !authorized(req, res)) {
      return httplib::Server::HandlerResponse::Handled;
    }
    for (auto& f : faults_) {
      if (f.times <= 0) continue;
      if (f.method != req.method && !(f.method == "GET" && req.method == "HEAD")) continue;
      if (!std::regex_match(req.path, std::regex(f.path_regex))) continue;
      --f.times;
      auto respond = f.respond;
      lock.unlock();
      respond(req, res);
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });

  server_->Get("/v2/", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("{}", "application/json");
  });

  server_->Get("/token", [this](const httplib::Request& req, httplib::Response& res) {
    if (token_delay_ms_ != 0 && !pause(token_delay_ms_)) return;
    std::lock_guard lock(mu_);
    TokenRequest tr;
    tr.method = req.method;
    for (auto [it, end] = req.params.equal_range("scope"); it != end; ++it) {
      tr.scopes.push_back(it->second);
    }
    tr.service = req.get_param_value("service");
    tr.account = req.get_param_value("account");
    tr.had_authorization = req.has_header("Authorization");
    token_requests_.push_back(tr);
    if (!user_.empty()) {
      auto expected = "Basic " + trust::base64_encode(trust::as_bytes(user_ + ":" + password_));
      if (req.get_header_value("Authorization") != expected) {
        oci_error(res, 401, "UNAUTHORIZED", "bad credentials");
        return;
      }
    }
    auto token = "tok-" + std::to_string(++next_token_);
    issued_tokens_.insert(token);
    if (!expires_in_json_.empty()) {
      res.set_content("{" + json(token_field_).dump() + ":" + json(token).dump() +
                          ",\"expires_in\":" + expires_in_json_ + "}",
                      "application/json");
      return;
    }
    res.set_content(json{{token_field_, token}, {"expires_in", expires_in_}}.dump(),
                    "application/json");
  });

  server_->Post("/token", [this](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(mu_);
    TokenRequest tr;
    tr.method = req.method;
    tr.grant_type = req.get_param_value("grant_type");
    for (auto [it, end] = req.params.equal_range("scope"); it != end; ++it) {
      tr.scopes.push_back(it->second);
    }
    tr.service = req.get_param_value("service");
    token_requests_.push_back(tr);
    if (refresh_token_.empty() || req.get_param_value("refresh_token") != refresh_token_) {
      oci_error(res, 401, "UNAUTHORIZED", "bad refresh token");
      return;
    }
    auto token = "tok-" + std::to_string(++next_token_);
    issued_tokens_.insert(token);
    res.set_content(json{{"access_token", token}, {"expires_in", expires_in_}}.dump(),
                    "application/json");
  });

  // Manifests.
  server_->Get(R"(/v2/(.+)/manifests/([^/]+))",
               [this](const httplib::Request& req, httplib::Response& res) {
                 std::lock_guard lock(mu_);
                 auto& r = repos_[req.matches[1].str()];
                 std::string ref = req.matches[2].str();
                 if (!is_digest(ref)) {
                   auto t = r.tags.find(ref);
                   if (t == r.tags.end()) {
                     return oci_error(res, 404, "MANIFEST_UNKNOWN", "manifest unknown");
                   }
                   ref = t->second;
                 }
                 auto m = r.manifests.find(ref);
                 if (m == r.manifests.end()) {
                   return oci_error(res, 404, "MANIFEST_UNKNOWN", "manifest unknown");
                 }
                 res.set_header("Docker-Content-Digest", ref);
                 res.set_content(m->second.second, m->second.first.c_str());
               });

  server_->Put(
      R"(/v2/(.+)/manifests/([^/]+))", [this](const httplib::Request& req, httplib::Response& res) {
        std::lock_guard lock(mu_);
        const auto name = req.matches[1].str();
        const auto ref = req.matches[2].str();
        auto& r = repos_[name];
        auto d = digest_of(req.body);
        if (is_digest(ref) && ref != d) {
          return oci_error(res, 400, "DIGEST_INVALID", "provided digest did not match");
        }
        json j;
        try {
          j = json::parse(req.body);
        } catch (const std::exception&) {
          return oci_error(res, 400, "MANIFEST_INVALID", "not json");
        }
        if (check_blobs_ && j.contains("config")) {
          std::vector<std::string> needed{j["config"].value("digest", "")};
          for (const auto& l : j.value("layers", json::array())) {
            needed.push_back(l.value("digest", ""));
          }
          for (const auto& n : needed) {
            if (r.blobs.count(n) == 0) {
              return oci_error(res, 400, "MANIFEST_BLOB_UNKNOWN", "blob unknown to registry");
            }
          }
        }
        r.manifests[d] = {req.get_header_value("Content-Type"), req.body};
        if (!is_digest(ref)) r.tags[ref] = d;
        if (referrers_api_ && j.contains("subject")) {
          res.set_header("OCI-Subject", j["subject"].value("digest", ""));
        }
        res.status = 201;
        res.set_header("Location", "/v2/" + name + "/manifests/" + d);
        res.set_header("Docker-Content-Digest", d);
      });

  server_->Delete(R"(/v2/(.+)/manifests/([^/]+))",
                  [this](const httplib::Request& req, httplib::Response& res) {
                    std::lock_guard lock(mu_);
                    auto& r = repos_[req.matches[1].str()];
                    if (r.manifests.erase(req.matches[2].str()) == 0) {
                      return oci_error(res, 404, "MANIFEST_UNKNOWN", "manifest unknown");
                    }
                    res.status = 202;
                  });

  // Blobs.
  server_->Get(R"(/v2/(.+)/blobs/(sha256:[0-9a-f]{64}))",
               [this](const httplib::Request& req, httplib::Response& res) {
                 std::lock_guard lock(mu_);
                 auto& r = repos_[req.matches[1].str()];
                 auto d = req.matches[2].str();
                 auto b = blobs_.find(d);
                 if (r.blobs.count(d) == 0 || b == blobs_.end()) {
                   return oci_error(res, 404, "BLOB_UNKNOWN", "blob unknown to registry");
                 }
                 res.set_header("Docker-Content-Digest", d);
                 res.set_content(b->second, "application/octet-stream");
               });

  server_->Post(R"(/v2/(.+)/blobs/uploads/)",
                [this](const httplib::Request& req, httplib::Response& res) {
                  std::lock_guard lock(mu_);
                  const auto name = req.matches[1].str();
                  if (req.has_param("mount") && req.has_param("from")) {
                    auto d = req.get_param_value("mount");
                    auto& from = repos_[req.get_param_value("from")];
                    if (from.blobs.count(d) != 0) {
                      repos_[name].blobs.insert(d);
                      res.status = 201;
                      res.set_header("Location", "/v2/" + name + "/blobs/" + d);
                      res.set_header("Docker-Content-Digest", d);
                      return;
                    }
                  }
                  auto uuid = "u" + std::to_string(++next_upload_);
                  uploads_[uuid] = "";
                  res.status = 202;
                  auto loc = "/v2/" + name + "/blobs/uploads/" + uuid + "?_state=s" + uuid;
                  res.set_header("Location", absolute_locations_ ? url() + loc : loc);
                  res.set_header("Range", "0-0");
                  res.set_header("Docker-Upload-UUID", uuid);
                });

  server_->Patch(R"(/v2/(.+)/blobs/uploads/([A-Za-z0-9]+))",
                 [this](const httplib::Request& req, httplib::Response& res) {
                   std::lock_guard lock(mu_);
                   const auto name = req.matches[1].str();
                   const auto uuid = req.matches[2].str();
                   auto u = uploads_.find(uuid);
                   if (u == uploads_.end())
                     return oci_error(res, 404, "BLOB_UPLOAD_UNKNOWN", "upload unknown");
                   if (auto range = req.get_header_value("Content-Range"); !range.empty()) {
                     auto start = std::stoull(range.substr(0, range.find('-')));
                     if (start != u->second.size()) {
                       res.status = 416;
                       return;
                     }
                   }
                   u->second += req.body;
                   res.status = 202;
                   auto loc = "/v2/" + name + "/blobs/uploads/" + uuid + "?_state=p" +
                              std::to_string(u->second.size());
                   res.set_header("Location", absolute_locations_ ? url() + loc : loc);
                   res.set_header("Range", "0-" + std::to_string(u->second.size() - 1));
                 });

  server_->Put(R"(/v2/(.+)/blobs/uploads/([A-Za-z0-9]+))",
               [this](const httplib::Request& req, httplib::Response& res) {
                 std::lock_guard lock(mu_);
                 const auto name = req.matches[1].str();
                 auto u = uploads_.find(req.matches[2].str());
                 if (u == uploads_.end())
                   return oci_error(res, 404, "BLOB_UPLOAD_UNKNOWN", "upload unknown");
                 auto data = u->second + req.body;
                 auto d = req.get_param_value("digest");
                 if (digest_of(data) != d) {
                   return oci_error(res, 400, "DIGEST_INVALID", "provided digest did not match");
                 }
                 uploads_.erase(u);
                 blobs_[d] = data;
                 repos_[name].blobs.insert(d);
                 res.status = 201;
                 res.set_header("Location", "/v2/" + name + "/blobs/" + d);
                 res.set_header("Docker-Content-Digest", d);
               });

  // Tags, with Link pagination.
  server_->Get(R"(/v2/(.+)/tags/list)",
               [this](const httplib::Request& req, httplib::Response& res) {
                 std::lock_guard lock(mu_);
                 const auto name = req.matches[1].str();
                 auto it = repos_.find(name);
                 if (it == repos_.end())
                   return oci_error(res, 404, "NAME_UNKNOWN", "repository unknown");
                 std::size_t n = max_tag_page_;
                 if (req.has_param("n"))
                   n = std::min<std::size_t>(n, std::stoull(req.get_param_value("n")));
                 auto last = req.get_param_value("last");
                 json tags = json::array();
                 std::string last_sent;
                 bool more = false;
                 for (const auto& [t, _] : it->second.tags) {
                   if (!last.empty() && t <= last) continue;
                   if (tags.size() == n) {
                     more = true;
                     break;
                   }
                   tags.push_back(t);
                   last_sent = t;
                 }
                 if (more) {
                   res.set_header("Link", "</v2/" + name + "/tags/list?n=" + std::to_string(n) +
                                              "&last=" + last_sent + ">; rel=\"next\"");
                 }
                 res.set_content(json{{"name", name}, {"tags", tags}}.dump(), "application/json");
               });

  // Referrers API (OCI 1.1), or distribution 2.8's plain 404 when switched off.
  server_->Get(R"(/v2/(.+)/referrers/(sha256:[0-9a-f]{64}))", [this](const httplib::Request& req,
                                                                     httplib::Response& res) {
    std::lock_guard lock(mu_);
    if (!referrers_api_) {
      res.status = 404;
      res.set_content("404 page not found\n", "text/plain; charset=utf-8");
      return;
    }
    auto& r = repos_[req.matches[1].str()];
    const auto subject = req.matches[2].str();
    const auto filter = req.get_param_value("artifactType");
    json manifests = json::array();
    for (const auto& [d, m] : r.manifests) {
      auto j = json::parse(m.second, nullptr, false);
      if (!j.is_object() || !j.contains("subject") || j["subject"].value("digest", "") != subject) {
        continue;
      }
      auto at = j.value("artifactType", "");
      if (!filter.empty() && at != filter) continue;
      json e{{"mediaType", m.first}, {"digest", d}, {"size", m.second.size()}};
      if (!at.empty()) e["artifactType"] = at;
      manifests.push_back(e);
    }
    if (!filter.empty()) res.set_header("OCI-Filters-Applied", "artifactType");
    res.set_content(json{{"schemaVersion", 2},
                         {"mediaType", trust::media_type::kOciIndex},
                         {"manifests", manifests}}
                        .dump(),
                    std::string(trust::media_type::kOciIndex).c_str());
  });
}

TestImage push_test_image(FakeRegistry& reg, const std::string& repo, const std::string& tag,
                          const std::string& layer_text) {
  TestImage img;
  const std::string config =
      R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}})";
  img.config = reg.add_blob(repo, config);
  img.layer = reg.add_blob(repo, layer_text);
  json m{{"schemaVersion", 2},
         {"mediaType", trust::media_type::kOciManifest},
         {"config",
          {{"mediaType", trust::media_type::kOciConfig},
           {"digest", img.config.str()},
           {"size", config.size()}}},
         {"layers", json::array({json{{"mediaType", trust::media_type::kOciLayerTar},
                                      {"digest", img.layer.str()},
                                      {"size", layer_text.size()}}})}};
  img.manifest = m.dump();
  img.digest =
      reg.add_manifest(repo, img.manifest, std::string(trust::media_type::kOciManifest), tag);
  return img;
}

}  // namespace sigil::test
