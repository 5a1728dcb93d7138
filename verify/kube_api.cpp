// The Kubernetes API client of sigil serve --pull-secrets (kube_api.h): one GET per Secret over
// TLS verified against the service account's ca.crt, with the service account's bearer token.
#include "kube_api.h"

#include <httplib.h>

#include <algorithm>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "libtrust/core/encoding.h"
#include "libtrust/core/error.h"
#include "libtrust/core/file.h"
#include "libtrust/core/limits.h"
#include "libtrust/core/text.h"

namespace sigil::cli {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr const char* kServiceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount";
constexpr std::string_view kDockerConfigJson = "kubernetes.io/dockerconfigjson";
constexpr std::string_view kDockerCfg = "kubernetes.io/dockercfg";

std::optional<std::string> env(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == 0) return std::nullopt;
  return std::string(v);
}

// Overwrites every string in `j` before it is freed (it held a Secret).
void wipe(json& j) noexcept {
  if (j.is_string()) {
    auto& s = j.get_ref<std::string&>();
    trust::secure_wipe(s.data(), s.size());
  } else if (j.is_structured()) {
    for (auto& v : j) wipe(v);
  }
}

void wipe(std::string& s) noexcept {
  trust::secure_wipe(s.data(), s.size());
}

// A DNS-1123 subdomain, as namespaces and Secret names are: nothing that could leave the path.
bool is_object_name(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
  });
}

int port_of(const std::string& text, const std::string& what) {
  if (text.empty() || text.size() > 5 ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    throw trust::UsageError(what + ": port '" + trust::excerpt(text) + "' is not a number");
  }
  const int port = std::stoi(text);
  if (port < 1 || port > 65535) {
    throw trust::UsageError(what + ": port " + text + " is out of range");
  }
  return port;
}

}  // namespace

KubeApi::KubeApi(std::string host, int port, fs::path sa_dir)
    : host_(std::move(host)), port_(port), sa_dir_(std::move(sa_dir)) {
  const bool v6 = host_.find(':') != std::string::npos;
  url_ = "https://" + (v6 ? "[" + host_ + "]" : host_) + ":" + std::to_string(port_);
}

KubeApi KubeApi::in_cluster() {
  const fs::path sa_dir = env("SIGIL_KUBE_SA_DIR").value_or(kServiceAccountDir);
  if (auto url = env("SIGIL_KUBE_API")) {
    constexpr std::string_view kScheme = "https://";
    const std::string what = "SIGIL_KUBE_API=" + trust::excerpt(*url);
    if (!url->starts_with(kScheme)) throw trust::UsageError(what + ": expected https://HOST:PORT");
    auto rest = url->substr(kScheme.size());
    if (rest.ends_with("/")) rest.pop_back();
    const auto colon = rest.rfind(':');
    if (colon == std::string::npos || colon == 0) {
      throw trust::UsageError(what + ": expected https://HOST:PORT");
    }
    auto host = rest.substr(0, colon);
    if (host.starts_with("[") && host.ends_with("]")) host = host.substr(1, host.size() - 2);
    return KubeApi(host, port_of(rest.substr(colon + 1), what), sa_dir);
  }
  const auto host = env("KUBERNETES_SERVICE_HOST");
  if (!host) {
    throw trust::UsageError(
        "--pull-secrets: not running in a cluster (KUBERNETES_SERVICE_HOST is not set)");
  }
  return KubeApi(*host,
                 port_of(env("KUBERNETES_SERVICE_PORT").value_or("443"), "KUBERNETES_SERVICE_PORT"),
                 sa_dir);
}

std::optional<trust::SecretBytes> KubeApi::docker_config(
    const std::string& namespace_name, const std::string& name, Clock::time_point deadline,
    const std::function<void(std::string_view)>& warn) const {
  const std::string secret =
      "pull secret " + trust::excerpt(namespace_name, 64) + "/" + trust::excerpt(name, 64);
  auto skip = [&](const std::string& why) -> std::optional<trust::SecretBytes> {
    if (warn) warn(secret + ": " + why + "; not used");
    return std::nullopt;
  };
  if (!is_object_name(namespace_name) || !is_object_name(name)) {
    return skip("not a valid object name");
  }
  const auto left = std::chrono::duration_cast<std::chrono::microseconds>(deadline - Clock::now());
  if (left.count() <= 0) throw trust::IoError(secret + ": no time left to read it");

  auto token = trust::read_operator_input((sa_dir_ / "token").string(),
                                          trust::limits::kMaxServiceAccountTokenBytes,
                                          "the service account token");
  std::string_view token_text = token.as_string_view();
  while (!token_text.empty() &&
         (token_text.back() == '\n' || token_text.back() == '\r' || token_text.back() == ' ')) {
    token_text.remove_suffix(1);
  }

  httplib::SSLClient client(host_, port_);
  client.set_ca_cert_path((sa_dir_ / "ca.crt").c_str());
  client.enable_server_certificate_verification(true);
  const auto sec = static_cast<time_t>(left.count() / 1000000);
  const auto usec = static_cast<time_t>(left.count() % 1000000);
  client.set_connection_timeout(sec, usec);
  client.set_read_timeout(sec, usec);
  client.set_write_timeout(sec, usec);
  client.set_keep_alive(false);
  std::string authorization = "Bearer " + std::string(token_text);
  httplib::Headers headers{{"Authorization", authorization}, {"Accept", "application/json"}};
  wipe(authorization);
  token.clear();

  const std::string path = "/api/v1/namespaces/" + namespace_name + "/secrets/" + name;
  std::string body;
  bool over = false;
  auto res = client.Get(path, headers, [&](const char* data, std::size_t n) {
    if (body.size() + n > trust::limits::kMaxKubeSecretResponseBytes) {
      over = true;
      return false;
    }
    body.append(data, n);
    return true;
  });
  for (auto& h : headers) wipe(h.second);
  struct WipeBody {
    std::string& s;
    ~WipeBody() { wipe(s); }
  } wipe_body{body};
  const std::string where = "the API server at " + url_ + ": GET " + path;
  if (over) {
    trust::limits::check(body.size() + 1, trust::limits::kMaxKubeSecretResponseBytes, where,
                         "bytes");
  }
  if (!res) throw trust::IoError(where + ": " + httplib::to_string(res.error()));
  if (res->status == 404) return skip("not found");
  if (res->status == 401 || res->status == 403) {
    return skip("the service account may not read it (HTTP " + std::to_string(res->status) +
                ": it needs get on secrets)");
  }
  if (res->status != 200) {
    throw trust::IoError(where + ": HTTP " + std::to_string(res->status));
  }

  json j;
  try {
    j = json::parse(body);
  } catch (const json::exception&) {
    throw trust::InputError(where + ": the answer is not JSON");
  }
  struct WipeJson {
    json& j;
    ~WipeJson() { wipe(j); }
  } wipe_json{j};
  const auto type = j.is_object() && j.contains("type") && j["type"].is_string()
                        ? j["type"].get<std::string>()
                        : std::string();
  const bool config_json = type == kDockerConfigJson;
  if (!config_json && type != kDockerCfg) {
    return skip("of type '" + trust::excerpt(type, 100) + "', not " +
                std::string(kDockerConfigJson) + " or " + std::string(kDockerCfg));
  }
  const char* field = config_json ? ".dockerconfigjson" : ".dockercfg";
  const json* data = nullptr;
  if (auto d = j.find("data"); d != j.end() && d->is_object()) {
    if (auto f = d->find(field); f != d->end() && f->is_string()) data = &*f;
  }
  if (data == nullptr) {
    throw trust::InputError(secret + ": data[\"" + field + "\"]: missing or not a string");
  }
  trust::Bytes decoded;
  try {
    decoded = trust::base64_decode(data->get_ref<const std::string&>(), field);
  } catch (const trust::Error&) {
    throw trust::InputError(secret + ": data[\"" + field + "\"]: not base64");
  }
  // Sized once, so that no copy of the credentials is left behind by a growing buffer.
  const std::string_view open = config_json ? "" : "{\"auths\":";
  const std::string_view close = config_json ? "" : "}";
  trust::SecretBytes out(open.size() + decoded.size() + close.size());
  std::copy(open.begin(), open.end(), out.data());
  std::copy(decoded.begin(), decoded.end(), out.data() + open.size());
  std::copy(close.begin(), close.end(), out.data() + open.size() + decoded.size());
  trust::secure_wipe(decoded.data(), decoded.size());
  return out;
}

}  // namespace sigil::cli
