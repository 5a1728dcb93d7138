#pragma once
// sigil policy …: the trust policy file's commands, one file each (the group is registered in
// policy_commands.cpp).

#include "common.h"

namespace sigil::cli {

void add_policy_validate(Program& prog, CLI::App& group);  // policy_validate_command.cpp
void add_policy_explain(Program& prog, CLI::App& group);   // policy_explain_command.cpp
void add_policy_export(Program& prog, CLI::App& group);    // policy_export_command.cpp
void add_policy_check(Program& prog, CLI::App& group);     // policy_check_command.cpp

}  // namespace sigil::cli
