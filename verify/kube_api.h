#pragma once
// The Kubernetes API as the admission server reads it (sigil serve --pull-secrets): the
// registry credentials of a pod's imagePullSecrets, with the server's own service account.
//
// Where the API server is, as client-go's in-cluster config finds it: https://
// $KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT, the token and ca.crt under
// /var/run/secrets/kubernetes.io/serviceaccount/ (the token read at each request: projected
// tokens are rotated). For tests, SIGIL_KUBE_API (https://HOST:PORT) and SIGIL_KUBE_SA_DIR
// override both. The RBAC it needs: get on secrets (docs/deploy.md).
//
// Secrets are read as the kubelet reads them: type kubernetes.io/dockerconfigjson
// (data[".dockerconfigjson"], a docker config) or kubernetes.io/dockercfg (data[".dockercfg"],
// the older form: the "auths" object alone). Any other type names no registry credentials.
// Nothing a Secret holds reaches a message or a log.

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "libtrust/core/secret.h"

namespace sigil::cli {

class KubeApi {
 public:
  using Clock = std::chrono::steady_clock;

  // The API server of the cluster this runs in (see above). Throws UsageError when neither
  // SIGIL_KUBE_API nor KUBERNETES_SERVICE_HOST says where it is.
  static KubeApi in_cluster();

  // The docker config ({"auths": {…}}) of Secret NAMESPACE/NAME, read within `deadline`.
  // nullopt, with one line to `warn` (naming the Secret, never its content), when the Secret does
  // not exist, may not be read, or is of another type. Throws trust::IoError when the API server
  // cannot be reached or answers otherwise, trust::LimitError over kMaxKubeSecretResponseBytes,
  // trust::InputError for a Secret whose data cannot be read.
  std::optional<trust::SecretBytes> docker_config(
      const std::string& namespace_name, const std::string& name, Clock::time_point deadline,
      const std::function<void(std::string_view)>& warn) const;

  const std::string& url() const { return url_; }

 private:
  KubeApi(std::string host, int port, std::filesystem::path sa_dir);
  std::string url_;
  std::string host_;
  int port_ = 443;
  std::filesystem::path sa_dir_;
};

}  // namespace sigil::cli
