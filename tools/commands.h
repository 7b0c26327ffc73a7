// Each subcommand registers itself on the root app and sets `*run` to the
// function that executes it after parsing (returning the exit code).
#pragma once

#include <functional>

#include "CLI/CLI.hpp"

namespace snnplan::cli {

using Runner = std::function<int()>;

void RegisterHwCommand(CLI::App& app, Runner* run);
void RegisterImportCommand(CLI::App& app, Runner* run);
void RegisterCostCommand(CLI::App& app, Runner* run);
void RegisterPlanCommand(CLI::App& app, Runner* run);
void RegisterExploreCommand(CLI::App& app, Runner* run);
void RegisterAllocateCommand(CLI::App& app, Runner* run);
void RegisterValidateCommand(CLI::App& app, Runner* run);
void RegisterRunCommand(CLI::App& app, Runner* run);
void RegisterMergeCommand(CLI::App& app, Runner* run);
void RegisterStudyCommand(CLI::App& app, Runner* run);

// Runs the CLI on argv; used by main() and by the tests.
int RunCli(int argc, const char* const* argv);

}  // namespace snnplan::cli
