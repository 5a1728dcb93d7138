#pragma once
// Shared command-line plumbing: the program (its commands, parsing, errors and exit codes), the
// options every command spells the same way, and image references as people type them.
// A command parses options, calls one libtrust function, prints (output.h), and returns its exit
// code; errors are trust::Error exceptions, mapped to exit codes in one place (run()).

#include <CLI/CLI.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "libtrust/core/reference.h"
#include "libtrust/registry/client.h"
#include "output.h"

namespace sigil::cli {

// Exit codes (DESIGN.md): 0 ok/verified, 1 verification failed or denied, 2 usage, 3
// input/I-O/registry.
inline constexpr int kExitOk = 0;
inline constexpr int kExitVerifyFailed = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitError = 3;

// A command's body: runs after parsing, returns the exit code. Throws trust::Error on failure.
using Action = std::function<int()>;

// The program: commands register themselves on `app` and store their Action into `action` when
// they are the one chosen (add_command does both).
struct Program {
  CLI::App& app;
  Action& action;
};

// Parses argv, runs the chosen action, maps every error to its documented exit code and prints
// one line "<program>: error: <message>" on stderr. Usage errors (exit 2) name the unknown flag or
// command with a "did you mean" suggestion. `setup` registers the program's commands; version,
// man and completion are added to every program.
int run(const std::string& program, const std::string& description, int argc, char** argv,
        const std::function<void(Program&)>& setup);

// The heading commands are listed under in --help (CLI11 says "Subcommands").
inline constexpr const char* kCommandsGroup = "Commands";

// A command under `parent` (the program or a command group) whose `body` runs when it is chosen.
CLI::App* add_command(Program& prog, CLI::App& parent, const std::string& name,
                      const std::string& description, Action body);

// A flag taking one value per occurrence, repeatable (`--key A --key B`): it never takes the
// image or another argument that follows it. With `commas`, one occurrence may also list several
// values separated by commas (`--insecure-registry a:5000,b:5000`), as cosign's list flags do.
CLI::Option* add_repeatable(CLI::App& cmd, const std::string& flags,
                            std::vector<std::string>& values, const std::string& value_name,
                            const std::string& description, bool commas = false);

// A flag whose value is one of `choices`, shown as "a|b|c" in help; anything else is a usage
// error naming the accepted values (with a suggestion).
CLI::Option* add_choice(CLI::App& cmd, const std::string& flags, std::string& value,
                        const std::vector<std::string>& choices, const std::string& description);
// The choices of an option made by add_choice (for completion), or nullptr.
const std::vector<std::string>* choices_of(const CLI::Option& option);

// --output: the format of what a command prints. text: for people (stderr), plus the command's
// one-line result on stdout where it has one; json: one document on stdout (docs/formats.md);
// cosign: `sigil verify` only, the array `cosign verify` prints.
enum class OutputFormat { kText, kJson, kCosign };
// `text_help` says where text goes for this command ("the report on stderr").
// `otherwise` is a hint for a value that is no format (a file name given to --output).
void add_output_option(CLI::App& cmd, OutputFormat& out, const std::string& text_help,
                       bool with_cosign = false, const std::string& otherwise = {});

// Help text shared by every command that takes an image or a key.
inline constexpr const char* kImageHelp =
    "Image: [docker://]HOST[:PORT]/REPO[:TAG][@DIGEST] (a registry), oci:DIR[:TAG|@DIGEST] (an "
    "OCI image layout) or docker-archive:FILE[:NAME:TAG] (docker save output, read only)";
inline constexpr const char* kPublicKeyHelp =
    "Trusted public key: a PEM file, env://VAR (the PEM in a variable) or - (standard input)";
inline constexpr const char* kPrivateKeyHelp =
    "Private key: a cosign key file, env://VAR (the PEM in a variable) or - (standard input)";

// Parses an image reference. A path to an existing directory or file that is not written as a
// reference (a bare "/tmp/img" or "./img") is a usage error suggesting oci:PATH (or
// docker-archive:PATH); so is a name that could be either a registry image or a layout directory
// next to it.
trust::Reference parse_image_reference(const std::string& text);

// Registry access flags shared by every command that takes an image reference.
struct RegistryFlags {
  std::string ca_file;
  std::vector<std::string> insecure_registries;
  std::string authfile;
  double timeout_seconds = std::chrono::duration<double>(trust::registry::kCliTimeout).count();
  bool verbose = false;
  bool quiet = false;
};
void add_registry_options(CLI::App& cmd, RegistryFlags& flags);
// The transport for a command: its flags, warnings through warn(), progress on stderr (unless
// --quiet), the -v trace. A missing --authfile is a NotFoundError naming it.
trust::registry::TransportOptions transport_options(const RegistryFlags& flags);

// "-a k=v" values into a map. One value may hold several pairs separated by commas, as cosign
// reads -a ("-a env=prod,team=web"); a comma followed by text without "=" belongs to the value
// ("-a note=a,b" is note = "a,b"). UsageError for an entry without "=" or with an empty key.
std::map<std::string, std::string> parse_annotations(const std::vector<std::string>& entries);

}  // namespace sigil::cli
