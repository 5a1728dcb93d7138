#pragma once
// Shared command-line plumbing: one place that maps errors to exit codes and prints them.
// Commands parse options, call one libtrust function, print, and return.

#include <CLI/CLI.hpp>

#include "libtrust/registry/client.h"

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace sigil::cli {

// Exit codes (DESIGN.md): 0 ok/verified, 1 verification failed or denied, 2 usage, 3
// input/I-O/registry.
inline constexpr int kExitOk = 0;
inline constexpr int kExitVerifyFailed = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitError = 3;

// A command's body: runs after parsing, returns the exit code. Throws trust::Error on failure.
using Action = std::function<int()>;

// The program: registers subcommands that store their Action into `action`.
struct Program {
  CLI::App& app;
  Action& action;
};

// Parses argv, runs the chosen action, maps every error to its documented exit code and prints
// one line "<program>: error: <message>" on stderr.
int run(const std::string& program, const std::string& description, int argc, char** argv,
        const std::function<void(Program&)>& setup);

// Output format shared by commands with --output.
enum class OutputFormat { kText, kJson };
void add_output_option(CLI::App& cmd, OutputFormat& out);

// Registry access flags shared by every command that takes an image reference.
struct RegistryFlags {
  std::string ca_file;
  std::vector<std::string> insecure_registries;
  bool verbose = false;
  // --timeout: seconds for the whole command's registry traffic (TransportOptions::timeout), 0
  // for none.
  double timeout_seconds = static_cast<double>(trust::registry::kCliTimeout.count()) / 1000.0;
};
void add_registry_options(CLI::App& cmd, RegistryFlags& flags);
trust::registry::TransportOptions transport_options(const RegistryFlags& flags);

// "-a k=v" options into a map; UsageError for an entry without '=' or with an empty key.
std::map<std::string, std::string> parse_annotations(const std::vector<std::string>& entries);

}  // namespace sigil::cli
