#include "libtrust/registry/credentials.h"

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <system_error>

#include "core/json_util.h"
#include "libtrust/core/encoding.h"
#include "libtrust/core/error.h"
#include "libtrust/core/file.h"
#include "libtrust/core/limits.h"
#include "libtrust/core/text.h"
#include "registry/auth.h"

namespace trust::registry {
namespace {

using trust::detail::OrderedJson;

constexpr unsigned kCredentialFileMode = 0600;  // it holds passwords
constexpr unsigned kCredentialDirMode = 0700;   // ~/.docker, $XDG_RUNTIME_DIR/containers
constexpr std::string_view kPurpose = "the registry credentials";

void wipe_strings(OrderedJson& j) noexcept {
  if (j.is_string()) {
    auto& s = j.get_ref<std::string&>();
    secure_wipe(s.data(), s.size());
  } else if (j.is_structured()) {
    for (auto& v : j) wipe_strings(v);
  }
}

// The credential file as JSON, every field kept in its order; an empty object when there is no
// file yet. The strict parse (duplicate keys, depth, NUL bytes) runs first.
struct CredentialDocument {
  OrderedJson json = OrderedJson::object();
  detail::CredentialEntries entries;
  ~CredentialDocument() { wipe_strings(json); }
};

void read_document(const std::filesystem::path& path, CredentialDocument& doc) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return;
  const std::string what = path.string();
  auto bytes = read_operator_input(what, limits::kMaxDockerConfigBytes, kPurpose);
  doc.entries = detail::parse_credential_file(bytes.as_string_view(), what);
  try {
    doc.json = OrderedJson::parse(bytes.as_string_view());
  } catch (const std::exception&) {
    throw InputError(what + ": credential file is not valid JSON");
  }
}

// Rewrites the file atomically (0600), tab-indented as docker writes it. A symlinked config
// (dotfiles) is written where it points.
void write_document(const std::filesystem::path& path, const OrderedJson& json) {
  std::error_code ec;
  auto target = path;
  if (std::filesystem::is_symlink(path, ec)) {
    target = std::filesystem::canonical(path, ec);
    if (ec) throw IoError(path.string() + ": cannot resolve the symbolic link: " + ec.message());
  }
  if (auto dir = target.parent_path(); !dir.empty() && !std::filesystem::exists(dir, ec)) {
    std::filesystem::create_directories(dir, ec);
    if (ec) throw IoError(dir.string() + ": cannot create the directory: " + ec.message());
    std::filesystem::permissions(dir, static_cast<std::filesystem::perms>(kCredentialDirMode), ec);
  }
  auto text = json.dump(1, '\t', false, OrderedJson::error_handler_t::replace) + "\n";
  try {
    write_file_atomic(target, as_bytes(text), kCredentialFileMode, Overwrite::kYes);
  } catch (...) {
    secure_wipe(text.data(), text.size());
    throw;
  }
  secure_wipe(text.data(), text.size());
}

// The helper that keeps `registry`'s credentials according to this file (credHelpers, then
// credsStore), or empty.
std::string helper_for(const detail::CredentialEntries& entries, const std::string& key) {
  if (auto h = entries.helpers.find(key); h != entries.helpers.end()) return h->second;
  return entries.store;
}

// Removes every auths entry that names `key` ("host", "https://host", "http://host/v2/");
// true if there was one.
bool remove_entries(OrderedJson& json, const std::string& key) {
  auto auths = json.find("auths");
  if (auths == json.end() || !auths->is_object()) return false;
  bool removed = false;
  for (auto it = auths->begin(); it != auths->end();) {
    if (detail::normalize_registry_key(it.key()) == key) {
      wipe_strings(it.value());
      it = auths->erase(it);
      removed = true;
    } else {
      ++it;
    }
  }
  return removed;
}

void check_registry_name(std::string_view verb, const std::string& registry) {
  if (registry.empty() || registry.find('/') != std::string::npos ||
      registry.find_first_of(" \t\r\n@") != std::string::npos) {
    throw UsageError(std::string(verb) + ": '" + excerpt(registry, 100) +
                     "' is not a registry (expected HOST or HOST:PORT)");
  }
}

// base64("user:password"), the "auth" field, in wiped memory until it is placed.
std::string basic_auth_field(const std::string& username, const SecretBytes& password) {
  SecretBytes user_pass;
  for (char c : username + ":") user_pass.push_back(static_cast<std::uint8_t>(c));
  for (auto b : password.view()) user_pass.push_back(b);
  return base64_encode(user_pass.view());
}

// An in-memory auth file (memfd: never on disk) holding just these credentials, so that the
// client checks them exactly as it will use them later: its own Basic or Bearer flow.
class MemoryAuthFile {
 public:
  MemoryAuthFile(const std::string& registry, const std::string& username,
                 const SecretBytes& password) {
    fd_ = ::memfd_create("sigil-login", MFD_CLOEXEC);
    if (fd_ < 0) throw IoError("login: cannot create an in-memory file: " + errno_text());
    auto auth = basic_auth_field(username, password);
    OrderedJson key = registry;
    auto text = "{\"auths\":{" + key.dump() + ":{\"auth\":\"" + auth + "\"}}}";
    secure_wipe(auth.data(), auth.size());
    std::size_t put = 0;
    while (put < text.size()) {
      auto n = ::write(fd_, text.data() + put, text.size() - put);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        secure_wipe(text.data(), text.size());
        throw IoError("login: cannot write an in-memory file: " + errno_text());
      }
      put += static_cast<std::size_t>(n);
    }
    secure_wipe(text.data(), text.size());
  }
  ~MemoryAuthFile() {
    // Zero the pages before they go back (the kernel frees them on close either way).
    struct stat st {};
    if (::fstat(fd_, &st) == 0 && st.st_size > 0) {
      std::string zeros(static_cast<std::size_t>(st.st_size), '\0');
      if (::pwrite(fd_, zeros.data(), zeros.size(), 0) < 0) {
        // Nothing more to do: the file is dropped with its descriptor.
      }
    }
    ::close(fd_);
  }
  MemoryAuthFile(const MemoryAuthFile&) = delete;
  MemoryAuthFile& operator=(const MemoryAuthFile&) = delete;

  std::filesystem::path path() const { return "/proc/self/fd/" + std::to_string(fd_); }

 private:
  static std::string errno_text() { return std::system_category().message(errno); }
  int fd_ = -1;
};

}  // namespace

std::filesystem::path login(const std::string& registry, const std::string& username,
                            const SecretBytes& password, const TransportOptions& options) {
  check_registry_name("login", registry);
  if (username.empty() || username.find(':') != std::string::npos) {
    throw UsageError("login " + registry + ": the username must be non-empty and without ':'");
  }
  options.validate();
  {
    // GET /v2/ with these credentials alone (no other file is read), through the registry's
    // Basic or Bearer challenge.
    MemoryAuthFile memory(registry, username, password);
    TransportOptions check = options;
    check.auth_file = memory.path();
    check.docker_config.reset();
    try {
      Client(std::move(check)).ping(registry);
    } catch (const RegistryError& e) {
      throw RegistryError("login " + registry + ": " + e.what());
    }
  }
  const auto path = detail::login_file(options);
  const auto key = detail::normalize_registry_key(registry);
  const auto server_url = detail::helper_server_url(registry);
  CredentialDocument doc;
  read_document(path, doc);
  if (auto helper = helper_for(doc.entries, key); !helper.empty()) {
    // As docker login does: the helper keeps them, the file stays as it is.
    detail::store_with_credential_helper(helper, server_url, username, password);
    return path;
  }
  if (!doc.json.is_object()) throw InputError(path.string() + ": not a JSON object");
  auto& auths = doc.json["auths"];
  if (auths.is_null()) auths = OrderedJson::object();
  if (!auths.is_object()) throw InputError(path.string() + ": 'auths' is not an object");
  remove_entries(doc.json, key);
  auto auth = basic_auth_field(username, password);
  auths[server_url] = OrderedJson{{"auth", auth}};
  secure_wipe(auth.data(), auth.size());
  write_document(path, doc.json);
  return path;
}

std::filesystem::path login_file(const TransportOptions& options) {
  return detail::login_file(options);
}

bool logout(const std::string& registry, const TransportOptions& options) {
  check_registry_name("logout", registry);
  const auto path = detail::login_file(options);
  const auto key = detail::normalize_registry_key(registry);
  CredentialDocument doc;
  read_document(path, doc);
  bool removed = false;
  if (auto helper = helper_for(doc.entries, key); !helper.empty()) {
    removed = detail::erase_with_credential_helper(helper, detail::helper_server_url(registry));
  }
  if (doc.json.is_object() && remove_entries(doc.json, key)) {
    write_document(path, doc.json);
    removed = true;
  }
  return removed;
}

}  // namespace trust::registry
