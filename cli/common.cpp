#include "common.h"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <iostream>
#include <map>

#include "libtrust/core/error.h"
#include "libtrust/core/text.h"

namespace sigil::cli {

int run(const std::string& program, const std::string& description, int argc, char** argv,
        const std::function<void(Program&)>& setup) {
  CLI::App app{description, program};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string(program + " " SIGIL_VERSION));
  Action action;
  Program prog{app, action};
  try {
    setup(prog);
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << program << ": error: " << e.what() << "\n";
    return kExitUsage;
  } catch (const trust::Error& e) {
    std::cerr << program << ": error: " << e.what() << "\n";
    return trust::exit_code_for(e.code());
  }
  if (!action) return kExitUsage;
  try {
    return action();
  } catch (const trust::Error& e) {
    std::cerr << program << ": error: " << e.what() << "\n";
    return trust::exit_code_for(e.code());
  } catch (const std::bad_alloc&) {
    std::cerr << program << ": error: out of memory\n";
    return kExitError;
  } catch (const std::exception& e) {
    std::cerr << program << ": error: internal: " << e.what() << "\n";
    return kExitError;
  }
}

void add_output_option(CLI::App& cmd, OutputFormat& out) {
  static const std::map<std::string, OutputFormat> kFormats{{"text", OutputFormat::kText},
                                                            {"json", OutputFormat::kJson}};
  cmd.add_option("-o,--output", out, "Output format: text (stderr) or json (stdout)")
      ->transform(CLI::CheckedTransformer(kFormats, CLI::ignore_case));
}

void add_registry_options(CLI::App& cmd, RegistryFlags& flags) {
  cmd.add_option("--ca-file", flags.ca_file,
                 "PEM file of CA certificates to trust for registry TLS (besides the system's)");
  cmd.add_option("--insecure-registry", flags.insecure_registries,
                 "HOST[:PORT] to reach over plain HTTP or unverified TLS (repeatable; insecure)");
  cmd.add_flag("-v,--verbose", flags.verbose, "Print each registry request on stderr");
  // A Go-style duration as cosign's --timeout takes it: 30s, 5m, 1h, 500ms; a bare number is
  // seconds.
  static const std::map<std::string, double> kDurationUnits{
      {"ms", 0.001}, {"s", 1.0}, {"m", 60.0}, {"h", 3600.0}};
  cmd.add_option("--timeout", flags.timeout_seconds,
                 "Give up on the registry after this long for the whole command (30s, 5m, 1h, "
                 "500ms; 0: never)")
      ->transform(CLI::AsNumberWithUnit(kDurationUnits, CLI::AsNumberWithUnit::CASE_SENSITIVE)
                      .description(""))
      ->check([](const std::string& seconds) {
        return std::stod(seconds) < 0 ? std::string("a duration is not negative") : std::string();
      })
      ->type_name("DURATION")
      ->default_str(std::to_string(trust::registry::kCliTimeout.count() / 1000) + "s");
}

trust::registry::TransportOptions transport_options(const RegistryFlags& flags) {
  trust::registry::TransportOptions o;
  if (!flags.ca_file.empty()) o.ca_file = flags.ca_file;
  o.insecure_registries = flags.insecure_registries;
  // (At most a billion seconds: beyond that is "never" in all but name.)
  o.timeout =
      std::chrono::milliseconds(std::llround(std::min(flags.timeout_seconds, 1e9) * 1000.0));
  o.warn = [](std::string_view line) { std::cerr << "sigil: warning: " << line << "\n"; };
  if (::isatty(2) == 1) {  // a live line on a terminal only
    o.progress = [](const trust::registry::TransferProgress& p) {
      using State = trust::registry::TransferProgress::State;
      std::cerr << "\r\x1b[K" << p.label << ": " << trust::human_size(p.done);
      if (p.state == State::kRunning) {
        if (p.total != 0) std::cerr << " / " << trust::human_size(p.total);
        std::cerr << std::flush;
      } else {
        std::cerr << (p.state == State::kDone ? ", done\n" : ", failed\n");
      }
    };
  }
  if (flags.verbose) {
    o.trace = [](std::string_view line) { std::cerr << "  http: " << line << "\n"; };
  }
  o.validate();
  return o;
}

std::map<std::string, std::string> parse_annotations(const std::vector<std::string>& entries) {
  std::map<std::string, std::string> out;
  for (const auto& e : entries) {
    auto eq = e.find('=');
    if (eq == std::string::npos || eq == 0) {
      throw trust::UsageError("annotation '" + e.substr(0, 100) + "' is not of the form key=value");
    }
    out[e.substr(0, eq)] = e.substr(eq + 1);
  }
  return out;
}

}  // namespace sigil::cli
