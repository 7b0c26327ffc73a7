// Shared plumbing of the snnplan subcommands: the exit-code contract, atomic
// output files and the option groups several subcommands accept.
#pragma once

#include <fstream>
#include <map>
#include <string>
#include <string_view>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "snnplan/hwdesc.h"
#include "snnplan/importer.h"

namespace snnplan::cli {

// Exit codes, one contract for every subcommand.
inline constexpr int kExitOk = 0;           // success
inline constexpr int kExitCheckFailed = 1;  // a check failed (e.g. validate)
inline constexpr int kExitBadInput = 2;     // bad input or usage

// Prints "snnplan: error: <message>" to stderr and returns kExitBadInput.
int ReportError(const absl::Status& status);

// Writes to "<path>.tmp.<pid>" and renames it over `path` on Commit(), so a
// failure never leaves a partial file; an uncommitted file is removed.
class AtomicFileWriter {
 public:
  explicit AtomicFileWriter(std::string path);
  ~AtomicFileWriter();
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;
  absl::Status status() const;  // open/write errors so far
  std::ostream& stream() { return out_; }
  absl::Status Commit();  // flush, close, rename
 private:
  std::string path_;
  std::string temp_path_;
  std::ofstream out_;
  bool committed_ = false;
};

// Writes `content` to `path` atomically.
absl::Status WriteFileAtomically(const std::string& path, std::string_view content);

// Adds the `snnplan import` options (--timesteps, --batch, --input-shape,
// --blocks, --stateless-blocks, precisions) to `cmd`. Call
// FinishImportOptions after parsing to convert the raw strings.
struct ImportFlags {
  importer::ImportOptions options;
  std::vector<std::string> input_shapes;  // NAME=C,H,W
  std::string stateless_blocks;           // "0,1"
};
void AddImportOptions(CLI::App* cmd, ImportFlags* flags);
absl::Status FinishImportOptions(ImportFlags* flags);

// Imports the model with the parsed import flags.
absl::StatusOr<ir::Workload> LoadWorkload(const std::string& model, ImportFlags* flags);
// Resolves a preset or JSON file and applies `--sram SIZE` when given.
absl::StatusOr<hw::Hardware> LoadHardware(const std::string& hardware, const std::string& sram);
// Reads a JSON file ("<path>: invalid JSON: ..." on failure).
absl::StatusOr<nlohmann::json> ReadJsonFile(const std::string& path);
// Reads a JSON object of layer name -> number (e.g. --density-file).
absl::StatusOr<std::map<std::string, double>> ReadLayerNumbers(const std::string& path);

}  // namespace snnplan::cli
