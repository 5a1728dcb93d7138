// sigil login, sigil logout: registry credentials kept as docker login, podman login and cosign
// login keep them. login checks them with the registry and only then stores them (in the docker
// config, or the --authfile / $REGISTRY_AUTH_FILE file); logout removes them. The work is
// trust::registry::login / logout (registry/credentials.h); this file gathers the username and
// password (flag, standard input or terminal) and prints the outcome.
#include <memory>
#include <string>

#include "commands.h"
#include "libtrust/core/error.h"
#include "libtrust/core/file.h"
#include "libtrust/core/limits.h"
#include "libtrust/core/secret.h"
#include "libtrust/core/text.h"
#include "libtrust/crypto/password.h"
#include "libtrust/registry/credentials.h"

namespace sigil::cli {
namespace {

constexpr const char* kRegistryHelp =
    "Registry: HOST[:PORT], as docker spells it (docker.io for Docker Hub)";
constexpr std::string_view kStdinPurpose = "the registry password (--password-stdin)";

struct LoginArgs {
  std::string registry;
  std::string username;
  std::string password;  // -p; wiped once taken
  bool password_stdin = false;
  OutputFormat output = OutputFormat::kText;
  RegistryFlags flags;
  const CLI::Option* username_option = nullptr;
  const CLI::Option* password_option = nullptr;
};

// "login REGISTRY", how messages name the command before the library has checked REGISTRY.
std::string login_of(const LoginArgs& a) {
  return "login " + trust::excerpt(a.registry, 100);
}

// -u, else a prompt on the terminal (echoed, as docker asks), else a usage error.
std::string username_of(const LoginArgs& a) {
  if (a.username_option->count() > 0) return a.username;
  auto typed = trust::prompt_terminal("Username: ", /*echo=*/true);
  if (!typed) {
    throw trust::UsageError(login_of(a) +
                            ": no username: pass -u/--username (there is no terminal to ask on)");
  }
  return std::string(typed->as_string_view());
}

// -p (with a warning), --password-stdin (all of standard input, less one final line ending, as
// docker and cosign read it), else a prompt on the terminal (echo off), else a usage error. An
// empty password (an unset variable in `-p "$PW"`) is refused before any request.
trust::SecretBytes password_of(LoginArgs& a) {
  trust::SecretBytes password;
  std::string from;
  if (a.password_option->count() > 0) {
    warn(
        "a password given with -p/--password is kept in shell history and shown in the process "
        "list: use --password-stdin");
    password = trust::SecretBytes::from_string(a.password);
    trust::secure_wipe(a.password.data(), a.password.size());
    from = "given with --password";
  } else if (a.password_stdin) {
    password =
        trust::read_operator_input("-", trust::limits::kMaxRegistryPasswordBytes, kStdinPurpose);
    for (char ending : {'\n', '\r'}) {
      if (!password.empty() && password.data()[password.size() - 1] == ending) {
        password.resize(password.size() - 1);
      }
    }
    from = "read from standard input";
  } else {
    auto typed = trust::prompt_terminal("Password: ");
    if (!typed) {
      throw trust::UsageError(login_of(a) +
                              ": no password: pass --password-stdin (or -p), or run on a terminal");
    }
    password = std::move(*typed);
    from = "typed";
  }
  if (password.empty()) {
    throw trust::UsageError(login_of(a) + ": the password " + from + " is empty");
  }
  return password;
}

// The registry flags as every command reads them, except that --authfile may name a file that
// does not exist yet: login creates it, as podman login --authfile does.
trust::registry::TransportOptions login_transport(const RegistryFlags& flags) {
  RegistryFlags others = flags;
  others.authfile.clear();
  auto options = transport_options(others);
  if (!flags.authfile.empty()) options.auth_file = flags.authfile;
  return options;
}

int run_login(LoginArgs& a) {
  const auto username = username_of(a);
  const auto password = password_of(a);
  const auto file =
      trust::registry::login(a.registry, username, password, login_transport(a.flags));
  if (a.output == OutputFormat::kJson) {
    print_json({{"registry", a.registry}, {"username", username}, {"authFile", file.string()}});
  } else {
    say("Logged in to " + a.registry + " as " + username + " (saved via " + file.string() + ")");
  }
  return kExitOk;
}

void register_login(Program& prog) {
  auto a = std::make_shared<LoginArgs>();
  auto* cmd = add_command(prog, prog.app, "login",
                          "Log in to a registry: check the credentials with it, then store them "
                          "for every later command (docker config, or --authfile)",
                          [a] { return run_login(*a); });
  a->username_option = cmd->add_option("-u,--username", a->username,
                                       "Registry user name (asked on the terminal when missing)")
                           ->type_name("USER");
  auto* password =
      cmd->add_option("-p,--password", a->password,
                      "Password or token; insecure: it stays in shell history and shows in the "
                      "process list (prefer --password-stdin)")
          ->type_name("PASSWORD");
  auto* from_stdin =
      cmd->add_flag("--password-stdin", a->password_stdin,
                    "Read the password or token from standard input (all of it, less a final "
                    "newline). Without -p or this, it is asked on the terminal");
  password->excludes(from_stdin);
  a->password_option = password;
  add_output_option(*cmd, a->output, "the outcome on stderr");
  add_registry_options(*cmd, a->flags);
  cmd->get_option("--authfile")
      ->description(
          "Store the credentials in this file (created if missing; containers auth.json "
          "format) instead of the docker config, as podman login --authfile does; default "
          "$REGISTRY_AUTH_FILE");
  cmd->add_option("REGISTRY", a->registry, kRegistryHelp)->required()->type_name("");
}

// --- logout -------------------------------------------------------------------------------------

struct LogoutArgs {
  std::string registry;
  std::string authfile;
  OutputFormat output = OutputFormat::kText;
};

int run_logout(const LogoutArgs& a) {
  trust::registry::TransportOptions options;
  if (!a.authfile.empty()) options.auth_file = a.authfile;
  options.validate();
  const auto file = trust::registry::login_file(options);
  const bool removed = trust::registry::logout(a.registry, options);
  if (a.output == OutputFormat::kJson) {
    print_json({{"registry", a.registry}, {"authFile", file.string()}, {"removed", removed}});
  } else if (removed) {
    say("Removed the credentials for " + a.registry + " (from " + file.string() + ")");
  } else {
    say("Not logged in to " + a.registry + ": " + file.string() + " has no credentials for it");
  }
  return kExitOk;
}

void register_logout(Program& prog) {
  auto a = std::make_shared<LogoutArgs>();
  auto* cmd = add_command(prog, prog.app, "logout",
                          "Remove a registry's credentials from where sigil login stores them "
                          "(and from its credential helper); no request is made",
                          [a] { return run_logout(*a); });
  cmd->add_option("--authfile", a->authfile,
                  "Remove them from this file instead of the docker config (what login "
                  "--authfile wrote); default $REGISTRY_AUTH_FILE")
      ->type_name("FILE");
  add_output_option(*cmd, a->output, "the outcome on stderr");
  cmd->add_option("REGISTRY", a->registry, kRegistryHelp)->required()->type_name("");
}

}  // namespace

void register_login_commands(Program& prog) {
  register_login(prog);
  register_logout(prog);
}

}  // namespace sigil::cli
