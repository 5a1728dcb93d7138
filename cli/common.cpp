#include "common.h"

#include <malloc.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>

#include "commands.h"
#include "libtrust/core/error.h"
#include "libtrust/core/text.h"
#include "progress.h"
#include "suggest.h"

namespace sigil::cli {
namespace {

// "sigil verify", "sigil key generate".
std::string command_path(const CLI::App* app) {
  std::vector<std::string> names;
  for (const CLI::App* a = app; a != nullptr; a = a->get_parent()) names.push_back(a->get_name());
  std::string path;
  for (auto it = names.rbegin(); it != names.rend(); ++it) path += (path.empty() ? "" : " ") + *it;
  return path;
}

std::vector<const CLI::App*> commands_of(const CLI::App& app) {
  return app.get_subcommands([](const CLI::App* sub) { return !sub->get_name().empty(); });
}

std::vector<std::string> command_names(const CLI::App& app) {
  std::vector<std::string> names;
  for (const auto* sub : commands_of(app)) names.push_back(sub->get_name());
  return names;
}

std::vector<std::string> flag_names(const CLI::App& app) {
  std::vector<std::string> names;
  for (const auto* opt : app.get_options()) {
    for (const auto& l : opt->get_lnames()) names.push_back("--" + l);
    for (const auto& s : opt->get_snames()) names.push_back("-" + s);
  }
  return names;
}

bool is_flag_like(const std::string& arg) {
  return arg.size() > 1 && arg[0] == '-' && arg != "--";
}

// The arguments as CLI11 parses them (last first), with "-o=json" read as "-o json", as getopt,
// pflag (cosign, kubectl) and docker do; CLI11 alone would take "=json" for the value.
std::vector<std::string> arguments(int argc, char** argv) {
  std::vector<std::string> args;
  bool options_ended = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--") options_ended = true;
    if (!options_ended && arg.size() > 3 && arg[0] == '-' && arg[1] != '-' && arg[2] == '=') {
      args.push_back(arg.substr(0, 2));
      args.push_back(arg.substr(3));
    } else {
      args.push_back(arg);
    }
  }
  std::reverse(args.begin(), args.end());
  return args;
}

// The chain of commands the parser entered: the program, then each chosen command.
std::vector<const CLI::App*> parsed_chain(const CLI::App& app) {
  std::vector<const CLI::App*> chain{&app};
  for (;;) {
    auto subs = chain.back()->get_subcommands();
    if (subs.empty()) return chain;
    chain.push_back(subs.back());
  }
}

std::string positionals_of(const CLI::App& cmd) {
  std::string names;
  for (const auto* opt : cmd.get_options()) {
    if (opt->get_positional()) names += (names.empty() ? "" : " ") + opt->get_name();
  }
  return names;
}

// The usage error to print for a failed parse: what was not understood first (an unknown flag or
// command, with a suggestion), else what the parser says, with where to look for help.
std::string usage_message(const CLI::App& app, const CLI::ParseError& e) {
  const auto chain = parsed_chain(app);
  for (const auto* level : chain) {
    const bool is_group = !commands_of(*level).empty();
    for (const auto& arg : level->remaining(false)) {
      const std::string shown = "'" + trust::excerpt(arg, 64) + "'";
      if (is_flag_like(arg)) {
        const auto name = arg.substr(0, arg.find('='));
        std::string hint = did_you_mean(name, flag_names(*level));
        if (hint.empty() && is_group && level != chain.back()) {
          hint = " (flags go after the command: " + command_path(chain.back()) + " " + name + ")";
        }
        if (hint.empty()) hint = " (see " + command_path(level) + " --help)";
        return "unknown flag " + trust::excerpt(name, 64) + " for " + command_path(level) + hint;
      }
      if (is_group) {
        auto hint = did_you_mean(arg, command_names(*level));
        if (hint.empty()) hint = " (see " + command_path(level) + " --help)";
        return "unknown command " + shown + " for " + command_path(level) + hint;
      }
    }
  }
  const auto* cmd = chain.back();
  if (dynamic_cast<const CLI::ExtrasError*>(&e) != nullptr) {
    for (const auto& arg : cmd->remaining(false)) {
      const auto takes = positionals_of(*cmd);
      return "unexpected argument '" + trust::excerpt(arg, 64) + "': " + command_path(cmd) +
             (takes.empty() ? " takes no arguments" : " takes " + takes) + " (see " +
             command_path(cmd) + " --help)";
    }
  }
  if (dynamic_cast<const CLI::RequiredError*>(&e) != nullptr && !commands_of(*cmd).empty() &&
      cmd->get_subcommands().empty()) {
    std::string names;
    for (const auto& n : command_names(*cmd)) names += (names.empty() ? "" : ", ") + n;
    return command_path(cmd) + " needs a command: " + names + " (see " + command_path(cmd) +
           " --help)";
  }
  return std::string(e.what()) + " (see " + command_path(cmd) + " --help)";
}

// --help as people read it: "--timeout DURATION  … (default: 5m)", not CLI11's
// "--timeout DURATION=5m"; "IMAGE", not "IMAGE REQUIRED" (the usage line shows what is needed).
class HelpFormatter : public CLI::Formatter {
 public:
  std::string make_option_opts(const CLI::Option* opt) const override {
    std::string out;
    if (opt->get_type_size() == 0) return out;
    if (!opt->get_type_name().empty()) out += " " + opt->get_type_name();
    if (opt->get_positional()) return out;
    if (opt->get_expected_max() == CLI::detail::expected_max_vector_size) out += " ...";
    if (opt->get_required()) out += " (required)";
    return out;
  }
  std::string make_option_desc(const CLI::Option* opt) const override {
    std::string desc = opt->get_description();
    if (opt->get_type_size() != 0 && !opt->get_positional() && !opt->get_default_str().empty()) {
      desc += " (default: " + opt->get_default_str() + ")";
    }
    return desc;
  }
};

constexpr double kMaxTimeoutSeconds = 24 * 3600;  // --timeout

int report(const trust::Error& e) {
  error_line(e.what());
  return trust::exit_code_for(e.code());
}

std::mutex& choices_mutex() {
  static std::mutex m;
  return m;
}
std::map<const CLI::Option*, std::vector<std::string>>& choice_table() {
  static std::map<const CLI::Option*, std::vector<std::string>> table;
  return table;
}

std::string join(const std::vector<std::string>& items, const std::string& separator) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : separator) + i;
  return out;
}

}  // namespace

int run(const std::string& program, const std::string& description, int argc, char** argv,
        const std::function<void(Program&)>& setup) {
  set_program_name(program);
  // Blocks of 2 MiB and more (signature payloads, bundles, manifests fetched on several threads)
  // go back to the system when freed. glibc's default raises this threshold with each such block
  // freed, and each fetching thread's arena then keeps them: 100 bundles of 6 MiB cost 144 MiB
  // instead of 76 (bench/hostile.sh).
  mallopt(M_MMAP_THRESHOLD, 2 << 20);
  CLI::App app{description, program};
  app.formatter(std::make_shared<HelpFormatter>());
  app.get_formatter()->label("Subcommands", "Commands");
  app.get_formatter()->label("SUBCOMMAND", "COMMAND");
  app.get_formatter()->label("Positionals", "Arguments");
  app.get_formatter()->column_width(32);
  app.require_subcommand(1);
  Action action;
  Program prog{app, action};
  try {
    setup(prog);
    register_builtin_commands(prog);
    auto args = arguments(argc, argv);
    app.parse(args);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    error_line(usage_message(app, e));
    return kExitUsage;
  } catch (const trust::Error& e) {
    return report(e);
  }
  if (!action) return kExitUsage;
  try {
    return action();
  } catch (const trust::Error& e) {
    return report(e);
  } catch (const std::bad_alloc&) {
    error_line("out of memory");
    return kExitError;
  } catch (const std::exception& e) {
    error_line(std::string("internal: ") + e.what());
    return kExitError;
  }
}

CLI::App* add_command(Program& prog, CLI::App& parent, const std::string& name,
                      const std::string& description, Action body) {
  auto* cmd = parent.add_subcommand(name, description)->group(kCommandsGroup);
  cmd->callback([&action = prog.action, body = std::move(body)] { action = body; });
  return cmd;
}

CLI::Option* add_repeatable(CLI::App& cmd, const std::string& flags,
                            std::vector<std::string>& values, const std::string& value_name,
                            const std::string& description, bool commas) {
  auto* opt = cmd.add_option(flags, values, description)
                  ->type_name(value_name)
                  ->allow_extra_args(false)
                  ->take_all();
  if (commas) opt->delimiter(',');
  return opt;
}

namespace {

CLI::Validator one_of(const std::vector<std::string>& choices, const std::string& otherwise) {
  return CLI::Validator(
      [choices, otherwise](std::string& v) -> std::string {
        if (std::find(choices.begin(), choices.end(), v) != choices.end()) return {};
        auto hint = did_you_mean(v, choices);
        if (hint.empty() && !otherwise.empty()) hint = " (" + otherwise + ")";
        return "'" + trust::excerpt(v, 64) + "' is not one of " + join(choices, ", ") + hint;
      },
      "");
}

CLI::Option* remember_choices(CLI::Option* opt, const std::vector<std::string>& choices,
                              const std::string& otherwise = {}) {
  opt->type_name(join(choices, "|"))->check(one_of(choices, otherwise));
  std::lock_guard lock(choices_mutex());
  choice_table()[opt] = choices;
  return opt;
}

}  // namespace

CLI::Option* add_choice(CLI::App& cmd, const std::string& flags, std::string& value,
                        const std::vector<std::string>& choices, const std::string& description) {
  return remember_choices(cmd.add_option(flags, value, description), choices);
}

const std::vector<std::string>* choices_of(const CLI::Option& option) {
  std::lock_guard lock(choices_mutex());
  auto it = choice_table().find(&option);
  return it == choice_table().end() ? nullptr : &it->second;
}

void add_output_option(CLI::App& cmd, OutputFormat& out, const std::string& text_help,
                       bool with_cosign, const std::string& otherwise) {
  static const std::map<std::string, OutputFormat> kFormats{{"text", OutputFormat::kText},
                                                            {"json", OutputFormat::kJson},
                                                            {"cosign", OutputFormat::kCosign}};
  std::vector<std::string> names{"text", "json"};
  std::string help = "Output format. text: " + text_help + "; json: one document on stdout";
  if (with_cosign) {
    names.push_back("cosign");
    help += "; cosign: on stdout, the array of verified payloads that cosign verify prints";
  }
  auto* opt = cmd.add_option_function<std::string>(
      "-o,--output", [&out](const std::string& v) { out = kFormats.at(v); }, help);
  remember_choices(opt, names, otherwise);
}

trust::Reference parse_image_reference(const std::string& text) {
  namespace fs = std::filesystem;
  const bool prefixed = text.rfind("oci:", 0) == 0 || text.rfind("docker-archive:", 0) == 0 ||
                        text.rfind("docker://", 0) == 0;
  if (prefixed) return trust::Reference::parse(text);
  std::error_code ec;
  const auto status = fs::status(text, ec);
  const bool is_dir = !ec && fs::is_directory(status);
  const bool is_file = !ec && fs::is_regular_file(status);
  std::optional<trust::Reference> ref;
  try {
    ref = trust::Reference::parse(text);
  } catch (const trust::UsageError& e) {
    if (is_dir) {
      throw trust::UsageError(std::string(e.what()) +
                              "; for the OCI image layout in that directory write oci:" + text);
    }
    if (is_file) {
      throw trust::UsageError(
          std::string(e.what()) +
          "; for the docker save archive in that file write docker-archive:" + text);
    }
    throw;
  }
  const std::string shown = "'" + trust::excerpt(text) + "'";
  if (is_dir && fs::exists(fs::path(text) / "oci-layout", ec)) {
    throw trust::UsageError(shown + " names both the registry image " + ref->str() +
                            " and an OCI image layout directory: write oci:" + text +
                            " for the layout, or docker://" + text + " for the registry");
  }
  if (is_file) {
    throw trust::UsageError(shown + " names both the registry image " + ref->str() +
                            " and a file: write docker-archive:" + text +
                            " for a docker save archive, or docker://" + text +
                            " for the registry");
  }
  return *ref;
}

void add_registry_options(CLI::App& cmd, RegistryFlags& flags) {
  cmd.add_option("--ca-file", flags.ca_file,
                 "PEM file of CA certificates to trust for registry TLS (besides the system's)")
      ->type_name("FILE");
  add_repeatable(cmd, "--insecure-registry", flags.insecure_registries, "HOST[:PORT]",
                 "Reach this registry over plain HTTP or unverified TLS (repeatable, or "
                 "comma-separated; insecure)",
                 /*commas=*/true);
  cmd.add_option("--authfile", flags.authfile,
                 "Registry credentials file (containers auth.json format), read before the "
                 "docker config; default $REGISTRY_AUTH_FILE")
      ->type_name("FILE");
  CLI::AsNumberWithUnit seconds(
      std::map<std::string, double>{{"ms", 0.001}, {"s", 1.0}, {"m", 60.0}, {"h", 3600.0}},
      CLI::AsNumberWithUnit::CASE_SENSITIVE);
  seconds.description("");
  const CLI::Validator in_range(
      [](std::string& v) -> std::string {
        const double s = std::stod(v);  // a number: AsNumberWithUnit converted it
        if (s >= 0 && s <= kMaxTimeoutSeconds) return {};
        return "must be from 0 (no limit) to 24h";
      },
      "");
  cmd.add_option("--timeout", flags.timeout_seconds,
                 "Give up on the registry after this long, retries included: 90s, 5m, 500ms "
                 "(a number alone is seconds; 0: no limit)")
      ->type_name("DURATION")
      ->transform(seconds)
      ->check(in_range)
      ->default_str("5m");
  cmd.add_flag("-q,--quiet", flags.quiet, "Print no transfer progress");
  cmd.add_flag("-v,--verbose", flags.verbose, "Print each registry request on stderr");
}

trust::registry::TransportOptions transport_options(const RegistryFlags& flags) {
  trust::registry::TransportOptions o;
  if (!flags.ca_file.empty()) o.ca_file = flags.ca_file;
  if (!flags.authfile.empty()) {
    std::error_code ec;
    if (!std::filesystem::exists(flags.authfile, ec)) {
      throw trust::NotFoundError("--authfile " + flags.authfile + ": no such file");
    }
    o.auth_file = flags.authfile;
  }
  o.insecure_registries = flags.insecure_registries;
  o.timeout = std::chrono::milliseconds(static_cast<std::int64_t>(flags.timeout_seconds * 1000.0));
  o.warn = [](std::string_view line) { warn(line); };
  if (!flags.quiet) o.progress = make_progress_printer(progress_style_for_stderr());
  if (flags.verbose) {
    o.trace = [](std::string_view line) { say("  http: " + std::string(line)); };
  }
  o.validate();
  return o;
}

std::map<std::string, std::string> parse_annotations(const std::vector<std::string>& entries) {
  std::vector<std::string> pairs;
  for (const auto& entry : entries) {
    std::size_t start = 0;
    for (;;) {
      auto comma = entry.find(',', start);
      auto piece =
          entry.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      if (!pairs.empty() && start != 0 && piece.find('=') == std::string::npos) {
        pairs.back() += "," + piece;  // part of the previous value
      } else {
        pairs.push_back(piece);
      }
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  std::map<std::string, std::string> out;
  for (const auto& p : pairs) {
    auto eq = p.find('=');
    if (eq == std::string::npos || eq == 0) {
      throw trust::UsageError("annotation '" + trust::excerpt(p, 100) +
                              "' is not of the form key=value");
    }
    out[p.substr(0, eq)] = p.substr(eq + 1);
  }
  return out;
}

}  // namespace sigil::cli
