#include "cli_common.h"

#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace snnplan::cli {

int ReportError(const absl::Status& status) {
  std::cerr << "snnplan: error: " << status.message() << "\n";
  return kExitBadInput;
}

AtomicFileWriter::AtomicFileWriter(std::string path)
    : path_(std::move(path)), temp_path_(absl::StrCat(path_, ".tmp.", ::getpid())) {
  out_.open(temp_path_, std::ios::binary | std::ios::trunc);
}

AtomicFileWriter::~AtomicFileWriter() {
  if (!committed_) {
    out_.close();
    std::remove(temp_path_.c_str());
  }
}

absl::Status AtomicFileWriter::status() const {
  if (!out_.is_open())
    return absl::InvalidArgumentError(absl::StrCat(path_, ": cannot open for writing"));
  if (!out_.good()) return absl::InternalError(absl::StrCat(path_, ": write failed"));
  return absl::OkStatus();
}

absl::Status AtomicFileWriter::Commit() {
  if (absl::Status s = status(); !s.ok()) return s;
  out_.flush();
  if (!out_.good()) return absl::InternalError(absl::StrCat(path_, ": write failed (disk full?)"));
  out_.close();
  if (out_.fail()) return absl::InternalError(absl::StrCat(path_, ": close failed"));
  if (std::rename(temp_path_.c_str(), path_.c_str()) != 0)
    return absl::InternalError(absl::StrCat(path_, ": cannot rename temporary file"));
  committed_ = true;
  return absl::OkStatus();
}

absl::Status WriteFileAtomically(const std::string& path, std::string_view content) {
  AtomicFileWriter writer(path);
  if (absl::Status s = writer.status(); !s.ok()) return s;
  writer.stream().write(content.data(), static_cast<std::streamsize>(content.size()));
  return writer.Commit();
}

void AddImportOptions(CLI::App* cmd, ImportFlags* flags) {
  importer::ImportOptions& o = flags->options;
  cmd->add_option("--timesteps", o.timesteps, "Timesteps T (required for single-step exports)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--batch", o.batch, "Samples per inference (binds a symbolic batch)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--input-shape", flags->input_shapes,
                  "NAME=C,H,W: re-propagate shapes for another input size");
  cmd->add_option("--blocks", o.blocks_file, "JSON object file: layer name -> block id");
  cmd->add_option("--stateless-blocks", flags->stateless_blocks,
                  "Comma-separated block ids whose spiking layers forget their state");
  cmd->add_option("--weight-bits", o.weight_bits, "Weight precision (bits)")
      ->check(CLI::Range(1, 64));
  cmd->add_option("--input-bits", o.input_bits, "Network input precision (bits)")
      ->check(CLI::Range(1, 64));
  cmd->add_option("--feature-bits", o.feature_bits, "Precision of non-spiking features (bits)")
      ->check(CLI::Range(1, 64));
  cmd->add_option("--state-bits", o.state_bits, "Neuron state precision in memory (bits)")
      ->check(CLI::Range(1, 64));
  cmd->add_option("--accumulator-bits", o.accumulator_bits,
                  "Accumulator precision in the PE register (bits)")
      ->check(CLI::Range(1, 64));
  cmd->add_option("--sew-join-bits", o.sew_join_bits,
                  "Output bits of SEW residual joins (1 = OR, 2 = ADD)")
      ->check(CLI::Range(1, 64));
}

absl::Status FinishImportOptions(ImportFlags* flags) {
  for (const std::string& spec : flags->input_shapes) {
    std::vector<std::string> parts = absl::StrSplit(spec, '=');
    if (parts.size() != 2 || parts[0].empty())
      return absl::InvalidArgumentError(
          absl::StrCat("--input-shape ", spec, ": expected NAME=C,H,W"));
    std::vector<int64_t> dims;
    for (absl::string_view d : absl::StrSplit(parts[1], ',')) {
      int64_t v = 0;
      if (!absl::SimpleAtoi(d, &v) || v <= 0)
        return absl::InvalidArgumentError(
            absl::StrCat("--input-shape ", spec, ": '", d, "' is not a positive integer"));
      dims.push_back(v);
    }
    flags->options.input_shapes[parts[0]] = dims;
  }
  if (!flags->stateless_blocks.empty()) {
    for (absl::string_view b : absl::StrSplit(flags->stateless_blocks, ',')) {
      int v = 0;
      if (!absl::SimpleAtoi(b, &v) || v < 0)
        return absl::InvalidArgumentError(
            absl::StrCat("--stateless-blocks: '", b, "' is not a block id (integer >= 0)"));
      flags->options.stateless_blocks.push_back(v);
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<ir::Workload> LoadWorkload(const std::string& model, ImportFlags* flags) {
  if (absl::Status s = FinishImportOptions(flags); !s.ok()) return s;
  return importer::ImportFile(model, flags->options);
}

absl::StatusOr<hw::Hardware> LoadHardware(const std::string& hardware, const std::string& sram) {
  absl::StatusOr<hw::Hardware> hw = hw::Resolve(hardware);
  if (!hw.ok() || sram.empty()) return hw;
  absl::StatusOr<int64_t> bytes = hw::ParseSizeBytes(sram);
  if (!bytes.ok())
    return absl::InvalidArgumentError(absl::StrCat("--sram ", bytes.status().message()));
  if (absl::Status s = hw::ResizeGlobalBuffer(*hw, *bytes); !s.ok()) return s;
  return hw;
}

absl::StatusOr<nlohmann::json> ReadJsonFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": invalid JSON: ", e.what()));
  }
}

absl::StatusOr<std::map<std::string, double>> ReadLayerNumbers(const std::string& path) {
  absl::StatusOr<nlohmann::json> doc = ReadJsonFile(path);
  if (!doc.ok()) return doc.status();
  if (!doc->is_object())
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": expected a JSON object of layer name -> number"));
  std::map<std::string, double> out;
  for (const auto& [key, value] : doc->items()) {
    if (!value.is_number())
      return absl::InvalidArgumentError(absl::StrCat(path, ": ", key, ": expected a number"));
    out[key] = value.get<double>();
  }
  return out;
}

}  // namespace snnplan::cli
