// Shared plumbing of the snnplan subcommands: the exit-code contract, and
// the frontend library's atomic output files, option groups and loaders
// under their CLI names.
#pragma once

#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "snnplan/flags.h"
#include "snnplan/frontend.h"
#include "snnplan/input_file.h"
#include "snnplan/output_file.h"

namespace snnplan::cli {

// Exit codes, one contract for every subcommand.
inline constexpr int kExitOk = 0;           // success
inline constexpr int kExitCheckFailed = 1;  // a check failed (e.g. validate)
inline constexpr int kExitBadInput = 2;     // bad input or usage

// Prints "snnplan: error: <message>" to stderr and returns kExitBadInput.
int ReportError(const absl::Status& status);

// Atomic output files (snnplan/output_file.h) and the option groups and
// loaders (snnplan/flags.h, snnplan/frontend.h) live in the frontend library,
// shared with the Python module.
using frontend::AtomicFileWriter;
using frontend::CheckOutputPath;
using frontend::InstallTempFileCleanup;
using frontend::OutputFiles;
using frontend::WriteFileAtomically;

using frontend::AddImportOptions;
using frontend::FinishImportOptions;
using frontend::ImportFlags;
using frontend::ReadJsonFile;
using frontend::ReadLayerNumbers;

// Imports the model (a path) with the parsed import flags.
inline absl::StatusOr<ir::Workload> LoadWorkload(const std::string& model, ImportFlags* flags) {
  return frontend::LoadWorkload(frontend::ModelRef{model, nullptr}, flags);
}
// Resolves a preset or JSON file and applies `--sram SIZE` when given.
inline absl::StatusOr<hw::Hardware> LoadHardware(const std::string& hardware,
                                                 const std::string& sram) {
  return frontend::LoadHardware(hardware, sram);
}

}  // namespace snnplan::cli
