#include "registry/auth.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>

#include "core/json_util.h"
#include "libtrust/core/encoding.h"
#include "libtrust/core/error.h"
#include "libtrust/core/file.h"
#include "libtrust/core/limits.h"
#include "libtrust/core/text.h"

extern char** environ;

namespace trust::registry::detail {
namespace {

using trust::detail::Json;

constexpr std::string_view kDockerHubCredentialKey = "https://index.docker.io/v1/";
constexpr std::chrono::seconds kHelperTimeout{30};
constexpr std::string_view kHelperTokenUser = "<token>";

bool is_tchar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}
bool is_token68_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("-._~+/").find(c) != std::string_view::npos;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

class ChallengeParser {
 public:
  ChallengeParser(std::string_view text, std::string_view what) : s_(text), what_(what) {}

  std::vector<Challenge> parse() {
    std::vector<Challenge> out;
    while (true) {
      skip_list_separators();
      if (at_end()) break;
      Challenge c;
      c.scheme = lower(token());
      if (c.scheme.empty()) fail("expected an auth scheme");
      if (!at_end() && s_[i_] != ',' && !is_space(s_[i_])) fail("malformed auth scheme");
      skip_spaces();
      parse_params(c);
      out.push_back(std::move(c));
    }
    return out;
  }

 private:
  bool at_end() const { return i_ >= s_.size(); }
  static bool is_space(char c) { return c == ' ' || c == '\t'; }
  void skip_spaces() {
    while (!at_end() && is_space(s_[i_])) ++i_;
  }
  void skip_list_separators() {
    while (!at_end() && (is_space(s_[i_]) || s_[i_] == ',')) ++i_;
  }
  std::string_view token() {
    auto start = i_;
    while (!at_end() && is_tchar(s_[i_])) ++i_;
    return s_.substr(start, i_ - start);
  }
  [[noreturn]] void fail(const std::string& why) const {
    throw InputError(std::string(what_) + ": malformed WWW-Authenticate header: " + why +
                     " at offset " + std::to_string(i_));
  }

  std::string quoted_string() {
    ++i_;  // opening quote
    std::string out;
    while (true) {
      if (at_end()) fail("unterminated quoted-string");
      char c = s_[i_++];
      if (c == '"') return out;
      if (c == '\\') {
        if (at_end()) fail("unterminated quoted-string");
        c = s_[i_++];
      }
      out.push_back(c);
    }
  }

  // Params of one challenge: "name=value, name="value"" until the next challenge or the end.
  void parse_params(Challenge& c) {
    // token68 form: "Basic dXNlcjpwYXNz" / "Negotiate abc==".
    {
      auto save = i_;
      while (!at_end() && is_token68_char(s_[i_])) ++i_;
      auto body_end = i_;
      while (!at_end() && s_[i_] == '=') ++i_;
      auto after = i_;
      skip_spaces();
      if (body_end > save && (at_end() || s_[i_] == ',') && !is_param_start(save)) {
        c.token68 = std::string(s_.substr(save, after - save));
        return;
      }
      i_ = save;
    }
    while (true) {
      skip_spaces();
      if (at_end() || s_[i_] == ',') return;  // no (more) params: the next challenge follows
      auto save = i_;
      auto name = token();
      if (name.empty()) fail("expected an auth-param");
      skip_spaces();
      if (at_end() || s_[i_] != '=') {
        // Not a param: the start of the next challenge.
        i_ = save;
        return;
      }
      ++i_;
      skip_spaces();
      std::string value;
      if (!at_end() && s_[i_] == '"') {
        value = quoted_string();
      } else {
        value = std::string(token());
        if (value.empty()) fail("empty value for auth-param '" + std::string(name) + "'");
      }
      auto key = lower(name);
      if (c.params.count(key) != 0) fail("auth-param '" + key + "' given twice");
      c.params.emplace(key, std::move(value));
      skip_spaces();
      if (at_end()) return;
      if (s_[i_] != ',') fail("expected ',' between auth-params");
      // Several commas may separate list elements.
      while (!at_end() && (s_[i_] == ',' || is_space(s_[i_]))) ++i_;
    }
  }

  // Whether `pos` starts "token BWS =" followed by something other than '=' or the end
  // (an auth-param rather than token68 padding).
  bool is_param_start(std::size_t pos) const {
    auto j = pos;
    while (j < s_.size() && is_tchar(s_[j])) ++j;
    if (j == pos) return false;
    while (j < s_.size() && is_space(s_[j])) ++j;
    if (j >= s_.size() || s_[j] != '=') return false;
    ++j;
    while (j < s_.size() && is_space(s_[j])) ++j;
    return j < s_.size() && s_[j] != '=' && s_[j] != ',';
  }

  std::string_view s_;
  std::string_view what_;
  std::size_t i_ = 0;
};

// Owns a pipe end.
struct PipeFd {
  int fd = -1;
  ~PipeFd() { close(); }
  void close() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
};

void parse_auths_entry(const Json& entry, const std::string& key, const std::string& what,
                       Credentials& out) {
  if (!entry.is_object()) throw InputError(what + ": auths entry '" + key + "' is not an object");
  auto str = [&](const char* field) -> std::optional<std::string> {
    auto it = entry.find(field);
    if (it == entry.end() || it->is_null()) return std::nullopt;
    if (!it->is_string()) {
      throw InputError(what + ": auths entry '" + key + "': '" + field + "' is not a string");
    }
    return it->get<std::string>();
  };
  if (auto auth = str("auth"); auth && !auth->empty()) {
    Bytes decoded;
    try {
      decoded = base64_decode(*auth, "auth");
    } catch (const Error&) {
      secure_wipe(auth->data(), auth->size());
      throw InputError(what + ": auths entry '" + key + "': 'auth' is not valid base64");
    }
    secure_wipe(auth->data(), auth->size());
    std::string_view text = as_string_view(decoded);
    auto colon = text.find(':');
    if (colon == std::string_view::npos) {
      secure_wipe(decoded.data(), decoded.size());
      throw InputError(what + ": auths entry '" + key + "': 'auth' is not user:password");
    }
    out.username = std::string(text.substr(0, colon));
    out.password = SecretBytes::from_string(text.substr(colon + 1));
    secure_wipe(decoded.data(), decoded.size());
  }
  if (auto user = str("username"); user && !user->empty()) out.username = *user;
  if (auto pass = str("password"); pass && !pass->empty()) {
    out.password = SecretBytes::from_string(*pass);
    secure_wipe(pass->data(), pass->size());
  }
  if (auto tok = str("identitytoken"); tok && !tok->empty()) {
    out.identity_token = SecretBytes::from_string(*tok);
    secure_wipe(tok->data(), tok->size());
  }
}

}  // namespace

std::vector<Challenge> parse_www_authenticate(std::string_view header, std::string_view what) {
  if (header.size() > limits::kMaxAuthHeaderBytes) {
    throw LimitError(std::string(what) + ": WWW-Authenticate header of " +
                     std::to_string(header.size()) + " bytes is over the limit of " +
                     std::to_string(limits::kMaxAuthHeaderBytes));
  }
  return ChallengeParser(header, what).parse();
}

std::string normalize_registry_key(std::string_view key) {
  std::string k = lower(key);
  for (std::string_view scheme : {"https://", "http://"}) {
    if (k.rfind(scheme, 0) == 0) {
      k = k.substr(scheme.size());
      break;
    }
  }
  if (auto slash = k.find('/'); slash != std::string::npos) k.resize(slash);
  if (k == "index.docker.io" || k == "registry-1.docker.io" || k == "docker.io") {
    return "docker.io";
  }
  return k;
}

std::string helper_server_url(std::string_view registry) {
  if (normalize_registry_key(registry) == "docker.io") return std::string(kDockerHubCredentialKey);
  return std::string(registry);
}

namespace {

// What a docker-credential-* process said: its exit status (-1: killed by a signal) and stdout.
struct HelperRun {
  int status = -1;
  SecretBytes output;
};

// Runs `docker-credential-<helper> <verb>` (PATH lookup, no shell), writes `input` to its stdin
// and reads its stdout (at most limits::kMaxCredentialHelperOutput, within kHelperTimeout).
// Throws RegistryError naming `what` (never the input or output) when it cannot run or answer.
HelperRun run_helper(const std::string& helper, const std::string& verb, ByteView input,
                     const std::string& what) {
  const std::string program = "docker-credential-" + helper;
  for (char c : helper) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') {
      throw UsageError("docker config: credential helper name '" + excerpt(helper, 60) +
                       "' has characters outside [A-Za-z0-9._-]");
    }
  }
  int in_pipe[2], out_pipe[2];
  if (::pipe2(in_pipe, O_CLOEXEC) != 0) throw IoError(what + ": pipe: " + std::strerror(errno));
  PipeFd in_r{in_pipe[0]}, in_w{in_pipe[1]};
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) throw IoError(what + ": pipe: " + std::strerror(errno));
  PipeFd out_r{out_pipe[0]}, out_w{out_pipe[1]};

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in_r.fd, 0);
  posix_spawn_file_actions_adddup2(&actions, out_w.fd, 1);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  std::string arg0 = program, arg1 = verb;
  char* argv[] = {arg0.data(), arg1.data(), nullptr};
  pid_t pid = -1;
  int rc = ::posix_spawnp(&pid, program.c_str(), &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    throw RegistryError(what + ": cannot run it: " + std::strerror(rc) +
                        " (is it installed and on PATH?)");
  }
  in_r.close();
  out_w.close();

  // The input is small (a URL, or one JSON object): write it all, then read the answer.
  const std::uint8_t* p = input.data();
  std::size_t left = input.size();
  ::signal(SIGPIPE, SIG_IGN);
  while (left > 0) {
    auto n = ::write(in_w.fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;  // the helper exited early; its status tells
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  in_w.close();

  HelperRun run;
  bool over = false, timed_out = false;
  const auto deadline = std::chrono::steady_clock::now() + kHelperTimeout;
  std::uint8_t buf[4096];
  while (true) {
    auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (remaining.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd pfd{out_r.fd, POLLIN, 0};
    int pr = ::poll(&pfd, 1, static_cast<int>(remaining.count()));
    if (pr < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (pr == 0) {
      timed_out = true;
      break;
    }
    auto n = ::read(out_r.fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (n == 0) break;
    if (run.output.size() + static_cast<std::size_t>(n) > limits::kMaxCredentialHelperOutput) {
      over = true;
      break;
    }
    for (ssize_t i = 0; i < n; ++i) run.output.push_back(buf[i]);
  }
  secure_wipe(buf, sizeof buf);
  out_r.close();
  if (timed_out || over) ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) {
    throw RegistryError(what + ": no answer within " + std::to_string(kHelperTimeout.count()) +
                        " s");
  }
  if (over) {
    throw LimitError(what + ": output over the limit of " +
                     std::to_string(limits::kMaxCredentialHelperOutput) + " bytes");
  }
  run.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

std::string helper_what(const std::string& helper, const std::string& server_url) {
  return "credential helper docker-credential-" + helper + " (for " + server_url + ")";
}

// The protocol's "not found" answer: a failure exit with this text on stdout.
bool says_not_found(const HelperRun& run) {
  return run.output.as_string_view().find("credentials not found") != std::string_view::npos;
}

[[noreturn]] void throw_helper_failed(const std::string& what, const HelperRun& run) {
  throw RegistryError(what + ": it failed (exit status " + std::to_string(run.status) + ")");
}

}  // namespace

std::optional<Credentials> run_credential_helper(const std::string& helper,
                                                 const std::string& server_url) {
  const auto what = helper_what(helper, server_url);
  const std::string input = server_url + "\n";
  auto run = run_helper(helper, "get", as_bytes(input), what);
  if (run.status != 0) {
    if (says_not_found(run)) return std::nullopt;
    throw_helper_failed(what, run);
  }
  Json j;
  try {
    j = trust::detail::parse_json(run.output.as_string_view(), what,
                                  limits::kMaxCredentialHelperOutput);
  } catch (const Error&) {
    throw InputError(what + ": its answer is not JSON {\"Username\",\"Secret\"}");
  }
  auto user_it = j.find("Username");
  auto secret_it = j.find("Secret");
  if (!j.is_object() || user_it == j.end() || secret_it == j.end() || !user_it->is_string() ||
      !secret_it->is_string()) {
    throw InputError(what + ": its answer lacks string fields Username and Secret");
  }
  Credentials creds;
  auto user = user_it->get<std::string>();
  auto secret = secret_it->get<std::string>();
  if (user == kHelperTokenUser) {
    creds.identity_token = SecretBytes::from_string(secret);
  } else {
    creds.username = user;
    creds.password = SecretBytes::from_string(secret);
  }
  secure_wipe(secret.data(), secret.size());
  // nlohmann's copy of the secret: overwrite it in place before the Json is destroyed.
  auto& stored = secret_it->get_ref<std::string&>();
  secure_wipe(stored.data(), stored.size());
  if (creds.empty()) return std::nullopt;
  return creds;
}

void store_with_credential_helper(const std::string& helper, const std::string& server_url,
                                  const std::string& username, const SecretBytes& secret) {
  const auto what = helper_what(helper, server_url);
  // {"ServerURL":…,"Username":…,"Secret":…}, built in wiped memory: nlohmann would keep a copy.
  Json head;
  head["ServerURL"] = server_url;
  head["Username"] = username;
  auto prefix = trust::detail::dump_compact(head);
  prefix.pop_back();  // the closing brace: the secret follows
  Json secret_json = std::string(secret.as_string_view());
  auto quoted = secret_json.dump();
  trust::detail::wipe_strings(secret_json);
  SecretBytes input;
  for (char c : prefix + ",\"Secret\":") input.push_back(static_cast<std::uint8_t>(c));
  for (char c : quoted) input.push_back(static_cast<std::uint8_t>(c));
  input.push_back('}');
  secure_wipe(quoted.data(), quoted.size());
  auto run = run_helper(helper, "store", input.view(), what);
  if (run.status != 0) throw_helper_failed(what, run);
}

bool erase_with_credential_helper(const std::string& helper, const std::string& server_url) {
  const auto what = helper_what(helper, server_url);
  const std::string input = server_url + "\n";
  auto run = run_helper(helper, "erase", as_bytes(input), what);
  if (run.status == 0) return true;
  if (says_not_found(run)) return false;
  throw_helper_failed(what, run);
}

namespace {

constexpr std::string_view kContainersAuthFile = "containers/auth.json";
constexpr const char* kRegistryAuthFileEnv = "REGISTRY_AUTH_FILE";

std::optional<std::filesystem::path> env_path(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == 0) return std::nullopt;
  return std::filesystem::path(v);
}

// The auth file the caller names, if any: --authfile, else REGISTRY_AUTH_FILE.
std::optional<CredentialFile> named_auth_file(const TransportOptions& options) {
  if (options.auth_file) return CredentialFile{*options.auth_file, true, "--authfile "};
  if (auto p = env_path(kRegistryAuthFileEnv)) {
    return CredentialFile{*p, true, std::string(kRegistryAuthFileEnv) + "="};
  }
  return std::nullopt;
}

// $DOCKER_CONFIG/config.json, else ~/.docker/config.json; nullopt without HOME.
std::optional<std::filesystem::path> default_docker_config() {
  if (auto dir = env_path("DOCKER_CONFIG")) return *dir / "config.json";
  if (auto home = env_path("HOME")) return *home / ".docker" / "config.json";
  return std::nullopt;
}

}  // namespace

std::vector<CredentialFile> credential_files(const TransportOptions& options) {
  std::vector<CredentialFile> out;
  auto named = named_auth_file(options);
  if (named) out.push_back(*named);
  if (options.docker_config) out.push_back({*options.docker_config, false, ""});
  if (!out.empty()) return out;  // the caller named its files: those alone, as podman does
  if (auto runtime = env_path("XDG_RUNTIME_DIR")) {
    out.push_back({*runtime / kContainersAuthFile, false, ""});
  } else {
    out.push_back({"/run/containers/" + std::to_string(::getuid()) + "/auth.json", false, ""});
  }
  if (auto config = env_path("XDG_CONFIG_HOME")) {
    out.push_back({*config / kContainersAuthFile, false, ""});
  } else if (auto home = env_path("HOME")) {
    out.push_back({*home / ".config" / kContainersAuthFile, false, ""});
  }
  if (auto docker = default_docker_config()) out.push_back({*docker, false, ""});
  return out;
}

std::filesystem::path login_file(const TransportOptions& options) {
  if (auto named = named_auth_file(options)) return named->path;
  if (options.docker_config) return *options.docker_config;
  if (auto docker = default_docker_config()) return *docker;
  throw UsageError(
      "registry credentials: no file to keep them in (HOME is not set; set DOCKER_CONFIG or "
      "pass --authfile)");
}

CredentialEntries parse_credential_file(std::string_view text, const std::string& what) {
  Json j;
  try {
    j = trust::detail::parse_json(text, what, limits::kMaxDockerConfigBytes);
  } catch (const LimitError&) {
    throw;
  } catch (const Error&) {
    throw InputError(what + ": credential file is not valid JSON");
  }
  struct Wipe {
    Json& j;
    ~Wipe() { trust::detail::wipe_strings(j); }  // every password and auth field nlohmann holds
  } wipe{j};
  if (!j.is_object()) throw InputError(what + ": credential file is not a JSON object");
  CredentialEntries out;
  // "host[:port]" or a docker-style URL "https://host/v1/"; a bare key with a path is a
  // namespace ("quay.io/org/repo"), which containers/image matches per repository: not here.
  auto registry_key = [](const std::string& key) -> std::optional<std::string> {
    if (key.find("://") == std::string::npos && key.find('/') != std::string::npos) {
      return std::nullopt;
    }
    return normalize_registry_key(key);
  };
  if (auto it = j.find("auths"); it != j.end() && !it->is_null()) {
    if (!it->is_object()) throw InputError(what + ": 'auths' is not an object");
    for (auto e = it->begin(); e != it->end(); ++e) {
      auto key = registry_key(e.key());
      Credentials c;
      parse_auths_entry(e.value(), excerpt(e.key(), 100), what, c);
      if (key && !c.empty()) out.auths[*key] = std::move(c);
    }
  }
  if (auto it = j.find("credHelpers"); it != j.end() && !it->is_null()) {
    if (!it->is_object()) throw InputError(what + ": 'credHelpers' is not an object");
    for (auto e = it->begin(); e != it->end(); ++e) {
      if (!e.value().is_string()) {
        throw InputError(what + ": credHelpers entry '" + excerpt(e.key(), 100) +
                         "' is not a string");
      }
      if (auto key = registry_key(e.key())) out.helpers[*key] = e.value().get<std::string>();
    }
  }
  if (auto it = j.find("credsStore"); it != j.end() && !it->is_null()) {
    if (!it->is_string()) throw InputError(what + ": 'credsStore' is not a string");
    out.store = it->get<std::string>();
  }
  return out;
}

CredentialStore::CredentialStore(const TransportOptions& options) {
  for (std::size_t i = 0; i < options.docker_config_json.size(); ++i) {
    if (!options.docker_config_json[i]) continue;
    files_.push_back(File{"in-memory docker config " + std::to_string(i + 1),
                          false,
                          {},
                          options.docker_config_json[i]});
  }
  for (auto& f : credential_files(options)) {
    if (f.must_exist) {
      std::error_code ec;
      if (!std::filesystem::exists(f.path, ec)) {
        throw UsageError(f.named_by + f.path.string() + ": no such file");
      }
    }
    files_.push_back(File{std::move(f.path), false, {}, nullptr});
  }
}

void CredentialStore::load(File& file) {
  if (file.loaded) return;
  file.loaded = true;
  if (file.json) {
    file.entries = parse_credential_file(file.json->as_string_view(), file.path.string());
    file.entries.helpers.clear();  // programs named by the config's author: never run
    file.entries.store.clear();
    return;
  }
  std::error_code ec;
  if (!std::filesystem::exists(file.path, ec)) return;  // nothing there: the next file
  const std::string what = file.path.string();
  // The operator's file: a pipe works too (--authfile <(…)).
  auto bytes = read_operator_input(what, limits::kMaxDockerConfigBytes, "the registry credentials");
  file.entries = parse_credential_file(bytes.as_string_view(), what);
}

std::optional<Credentials> CredentialStore::lookup_in(File& file, const std::string& key,
                                                      const std::string& registry) {
  load(file);
  const auto& e = file.entries;
  std::string helper = e.store;
  if (auto h = e.helpers.find(key); h != e.helpers.end()) helper = h->second;
  if (!helper.empty()) {
    if (auto found = run_credential_helper(helper, helper_server_url(registry))) return found;
  }
  if (auto a = e.auths.find(key); a != e.auths.end()) {
    Credentials c;
    c.username = a->second.username;
    c.password = SecretBytes(a->second.password.data(), a->second.password.size());
    c.identity_token =
        SecretBytes(a->second.identity_token.data(), a->second.identity_token.size());
    return c;
  }
  return std::nullopt;
}

const Credentials* CredentialStore::lookup(const std::string& registry) {
  std::lock_guard lock(mu_);
  const auto key = normalize_registry_key(registry);
  if (auto it = cache_.find(key); it != cache_.end()) {
    return it->second ? &*it->second : nullptr;
  }
  std::optional<Credentials> found;
  for (auto& file : files_) {
    found = lookup_in(file, key, registry);
    if (found) break;
  }
  auto [it, _] = cache_.emplace(key, std::move(found));
  return it->second ? &*it->second : nullptr;
}

}  // namespace trust::registry::detail
