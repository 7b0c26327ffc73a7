// `snnplan cost MODEL.onnx --hw HW [--sram SIZE] [--layer NAME]
//  [--tile T=4,OY=8] [--objective energy|latency|edp] [--state-io zero|dram]
//  [--density D | --density-file F.json | --activity A.json] [--budget N] [--json OUT]`
// Prices each layer (or one) as computation tiles on core 0 and prints the
// best mapping, accesses, energy breakdown, latency and search statistics
// (the report itself is frontend::RunCost, shared with the Python module).
#include <iostream>

#include "absl/strings/str_format.h"
#include "cli_common.h"
#include "commands.h"
#include "snnplan/costmodel.h"
#include "snnplan/frontend.h"

namespace snnplan::cli {
namespace {

struct CostCommandFlags {
  std::string model;
  std::string json;
  frontend::CostFlags cost;
};

void PrintText(const frontend::CostReport& report) {
  const cost::CostModel& model = *report.model;
  cost::EnergyBreakdown total;
  double dram_bytes = 0;
  int64_t latency = 0;
  for (const frontend::CostLayerResult& r : report.layers) {
    const std::string activity =
        report.with_activity ? absl::StrFormat(", measured input density %g, output density %g",
                                               r.input_activity, r.output_activity)
                             : "";
    std::cout << absl::StrFormat("layer %s (%s, density %g%s): %d tile(s); first tile:\n", r.name,
                                 r.op, r.density, activity, r.tiles);
    std::cout << cost::Describe(*r.first, model.core());
    std::cout << absl::StrFormat(
        "  layer total: %.3f pJ (compute %.3f, local %.3f, sram %.3f, dram %.3f), "
        "DRAM %.0f bytes, %d cycles\n\n",
        r.energy.total_pj(), r.energy.compute_pj, r.energy.local_pj, r.energy.sram_pj,
        r.energy.dram_pj, r.dram_bytes, r.latency_cycles);
    total += r.energy;
    dram_bytes += r.dram_bytes;
    latency += r.latency_cycles;
  }
  std::cout << absl::StrFormat(
      "total: %.3f pJ (compute %.3f, local %.3f, sram %.3f, dram %.3f), DRAM %.0f "
      "bytes, %d cycles\n",
      total.total_pj(), total.compute_pj, total.local_pj, total.sram_pj, total.dram_pj, dram_bytes,
      latency);
  std::cout << absl::StrFormat("search: %d unique tiles priced, %d cache hits, %.3f s\n",
                               model.cache_misses(), model.cache_hits(), report.seconds);
}

int RunCost(CostCommandFlags& f) {
  OutputFiles outputs;
  if (absl::Status s = outputs.Expect("--json", f.json); !s.ok()) return ReportError(s);
  absl::StatusOr<frontend::CostReport> report =
      frontend::RunCost(frontend::ModelRef{f.model, nullptr}, f.model, f.cost);
  if (!report.ok()) return ReportError(report.status());
  if (f.json.empty() || f.json != "-") PrintText(*report);
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
