// `snnplan import MODEL.onnx [import options] [--json OUT.json]`
#include <iostream>

#include "cli_common.h"
#include "commands.h"
#include "snnplan/importer.h"

namespace snnplan::cli {
namespace {

struct ImportCmdFlags {
  std::string model;
  std::string json_out;
  ImportFlags import;
};

int RunImport(ImportCmdFlags& flags) {
  OutputFiles outputs;
  if (absl::Status s = outputs.Expect("--json", flags.json_out); !s.ok()) return ReportError(s);
  if (absl::Status s = FinishImportOptions(&flags.import); !s.ok()) return ReportError(s);
  absl::StatusOr<ir::Workload> w = importer::ImportFile(flags.model, flags.import.options);
  if (!w.ok()) return ReportError(w.status());
  if (!flags.json_out.empty()) outputs.Write(flags.json_out, importer::ToJson(*w).dump(2) + "\n");
  if (absl::Status s = outputs.CommitAll(); !s.ok()) return ReportError(s);
  outputs.report() << importer::DescribeTable(*w);
  return kExitOk;
}

}  // namespace

void RegisterImportCommand(CLI::App& app, Runner* run) {
  CLI::App* cmd = app.add_subcommand(
      "import", "Import an snnTorch / SpikingJelly ONNX export into the workload IR");
  auto flags = std::make_shared<ImportCmdFlags>();
  cmd->add_option("model", flags->model, "ONNX model file")->required();
  cmd->add_option("--json", flags->json_out,
                  "Write the IR as JSON (docs/ir.md) to this file ('-' = stdout)");
  AddImportOptions(cmd, &flags->import);
  cmd->callback([run, flags] { *run = [flags] { return RunImport(*flags); }; });
}

}  // namespace snnplan::cli
