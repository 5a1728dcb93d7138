// Commands every program has: version, man, completion.
#include <memory>
#include <string>

#include "build_stamp.h"
#include "commands.h"
#include "docgen.h"
#include "libtrust/build_info.h"

namespace sigil::cli {
namespace {

struct Version {
  std::string version = SIGIL_VERSION;
  std::string commit = SIGIL_GIT_COMMIT;
  std::string date = SIGIL_BUILD_DATE;
  trust::BuildInfo library = trust::build_info();
};

std::string version_text(const std::string& program) {
  const Version v;
  return program + " " + v.version + "\n" + "  commit:   " + v.commit + "\n" +
         "  built:    " + v.date + "\n" + "  compiler: " + v.library.compiler + "\n" +
         "  OpenSSL:  " + v.library.openssl + "\n" + "  libcurl:  " + v.library.libcurl +
         " (built against)\n";
}

void register_version(Program& prog) {
  auto output = std::make_shared<OutputFormat>(OutputFormat::kText);
  auto* cmd = add_command(prog, prog.app, "version",
                          "Print the version, git commit, build date, compiler, and the OpenSSL "
                          "(in use) and libcurl (built against) versions",
                          [output, &app = prog.app] {
                            if (*output == OutputFormat::kJson) {
                              const Version v;
                              print_json({{"program", app.get_name()},
                                          {"version", v.version},
                                          {"gitCommit", v.commit},
                                          {"buildDate", v.date},
                                          {"compiler", v.library.compiler},
                                          {"openssl", v.library.openssl},
                                          {"libcurl", v.library.libcurl}});
                            } else {
                              result_block(version_text(app.get_name()));
                            }
                            return kExitOk;
                          });
  add_output_option(*cmd, *output, "on stdout");
  prog.app.set_version_flag(
      "--version",
      [name = prog.app.get_name()] {
        auto text = version_text(name);
        text.pop_back();  // CLI11 ends the line
        return text;
      },
      "Print the version and build details (as the version command) and exit");
}

void register_man(Program& prog) {
  add_command(prog, prog.app, "man", "Print this program's manual page (roff; man -l - shows it)",
              [&app = prog.app] {
                result_block(man_page(app, SIGIL_BUILD_DATE, SIGIL_VERSION));
                return kExitOk;
              });
}

void register_completion(Program& prog) {
  auto shell = std::make_shared<std::string>();
  auto* cmd = add_command(
      prog, prog.app, "completion",
      "Print a shell completion script: source <(" + prog.app.get_name() + " completion bash)",
      [shell, &app = prog.app] {
        result_block(*shell == "zsh" ? zsh_completion(app) : bash_completion(app));
        return kExitOk;
      });
  add_choice(*cmd, "SHELL", *shell, {"bash", "zsh"}, "The shell")->required();
}

}  // namespace

void register_builtin_commands(Program& prog) {
  register_version(prog);
  register_man(prog);
  register_completion(prog);
  for (const auto* name : {"version", "man", "completion"}) {
    prog.app.get_subcommand(name)->group("About this program");
  }
}

}  // namespace sigil::cli
