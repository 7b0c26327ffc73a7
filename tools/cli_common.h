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
#include "snnplan/sweep.h"

namespace snnplan::cli {

// Exit codes, one contract for every subcommand.
inline constexpr int kExitOk = 0;           // success
inline constexpr int kExitCheckFailed = 1;  // a check failed (e.g. validate)
inline constexpr int kExitBadInput = 2;     // bad input or usage

// Prints "snnplan: error: <message>" to stderr and returns kExitBadInput.
int ReportError(const absl::Status& status);

// The exit code of a command a signal stopped cleanly: 128 + the signal
// (130 for SIGINT, 143 for SIGTERM), as a shell reports it.
inline int ExitCodeForSignal(int sig) { return 128 + sig; }

// Progress of long commands on stderr: a bar redrawn with '\r' on a
// terminal; in a log (not a terminal) frontend::ProgressLines, whole lines.
// For tests only, SNNPLAN_TEST_INTERRUPT_AFTER=k makes the process send
// itself SIGINT once k units (over all phases) are done, so Ctrl-C is
// exercised at a deterministic point (docs/cluster.md).
class CliProgress {
 public:
  explicit CliProgress(std::string unit);
  void Start(const std::string& what);  // a new phase (e.g. the next --sram size)
  void Update(size_t done, size_t total);

 private:
  std::string unit_;
  bool tty_;
  frontend::ProgressLines lines_;
  size_t finished_phases_ = 0;  // units done in earlier phases
  size_t last_total_ = 0, last_done_ = 0;
  int64_t interrupt_after_ = -1;
};

// "out.svg" -> "out-128KiB.svg" when several sizes are explored.
std::string PerSize(const std::string& path, const std::string& size, bool several);

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
