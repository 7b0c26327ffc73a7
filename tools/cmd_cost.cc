// `snnplan cost MODEL.onnx --hw HW [--sram SIZE] [--layer NAME]
//  [--tile T=4,OY=8] [--objective energy|latency|edp] [--state-io zero|dram]
//  [--density D | --density-file F.json | --activity A.json] [--budget N] [--json OUT]`
// Prices each layer (or one) as computation tiles on core 0 and prints the
// best mapping, accesses, energy breakdown, latency and search statistics
// (the report itself is frontend::RunCost, shared with the Python module).
#include <iostream>

#include "cli_common.h"
#include "commands.h"
#include "snnplan/frontend.h"

namespace snnplan::cli {
namespace {

struct CostCommandFlags {
  std::string model;
  std::string json;
  frontend::CostFlags cost;
};

int RunCost(CostCommandFlags& f) {
  OutputFiles outputs;
  if (absl::Status s = outputs.Expect("--json", f.json); !s.ok()) return ReportError(s);
  absl::StatusOr<frontend::CostReport> report =
      frontend::RunCost(frontend::ModelRef{f.model, nullptr}, f.model, f.cost);
  if (!report.ok()) return ReportError(report.status());
  outputs.report() << frontend::DescribeCost(*report);
  if (f.json.empty()) return kExitOk;
  outputs.Write(f.json, report->json.dump(2) + "\n");
  if (absl::Status s = outputs.CommitAll(); !s.ok()) return ReportError(s);
  return kExitOk;
}

}  // namespace

void RegisterCostCommand(CLI::App& app, Runner* run) {
  auto f = std::make_shared<CostCommandFlags>();
  CLI::App* cmd = app.add_subcommand(
      "cost", "Price each layer's computation tiles: best mapping, accesses, energy, latency");
  cmd->add_option("model", f->model, "ONNX model file")->required();
  frontend::AddCostOptions(cmd, &f->cost, /*hardware_required=*/true);
  cmd->add_option("--json", f->json, "Write the JSON report to this file ('-' = stdout)");
  cmd->callback([run, f] { *run = [f] { return RunCost(*f); }; });
}

}  // namespace snnplan::cli
