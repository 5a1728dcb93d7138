#pragma once
// Man pages and shell completion, generated from the program's own command tree and help text
// (CLI11), so that they cannot disagree with the tool: `sigil man`, `sigil completion bash|zsh`.
// The build runs these and installs the results (cli/CMakeLists.txt).

#include <CLI/CLI.hpp>

#include <string>

namespace sigil::cli {

// roff (man(7)) for section 1: every command with its arguments and options, exit codes,
// environment. `date` ("2026-01-31") and `version` go into the title line.
std::string man_page(const CLI::App& program, const std::string& date, const std::string& version);

// A bash completion script (complete -F) for commands, flags, choices and file arguments.
std::string bash_completion(const CLI::App& program);

// A zsh completion function (#compdef) for the same.
std::string zsh_completion(const CLI::App& program);

}  // namespace sigil::cli
