// `snnplan allocate MODEL.onnx --hw HW [--schedule SPEC]`: searches
// layer-to-core allocations of a multi-core chip with a seeded NSGA-II
// (latency and energy) and reports the Pareto front.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cli_common.h"
#include "commands.h"
#include "plan_flags.h"
#include "snnplan/allocate.h"

namespace snnplan::cli {
namespace {

struct AllocateFlags {
  std::vector<std::string> models;
  frontend::AllocateFlags allocate;
  std::string csv, pareto_svg, best_manifest, best_allocation, json;
};

absl::Status ExpectOutputs(const AllocateFlags& f, OutputFiles& outputs) {
  for (const auto& [option, path] :
       {std::pair{"--csv", &f.csv}, std::pair{"--pareto", &f.pareto_svg},
        std::pair{"--best-manifest", &f.best_manifest},
        std::pair{"--best-allocation", &f.best_allocation}, std::pair{"--json", &f.json}})
    if (absl::Status s = outputs.Expect(option, *path); !s.ok()) return s;
  return absl::OkStatus();
}

absl::Status WriteOutputs(const AllocateFlags& f, const frontend::AllocateResult& r,
                          OutputFiles& outputs) {
  const plan::Planner& planner = *r.planner;
  if (!f.csv.empty()) outputs.Write(f.csv, frontend::AllocateCsv(r));
  if (!f.json.empty()) outputs.Write(f.json, frontend::AllocationJson(r).dump(2) + "\n");
  if (!f.pareto_svg.empty()) {
    const std::string title = absl::StrCat(planner.workload().model_file, " on ",
                                           planner.hardware().name, ": ",
                                           plan::FormatSchedule(r.schedule));
    outputs.Write(f.pareto_svg,
                  explore::ParetoSvg(r.search.ga, title, planner.hardware().clock_hz));
  }
  if (f.best_manifest.empty() && f.best_allocation.empty()) return absl::OkStatus();
  absl::StatusOr<plan::CoreAllocation> best = frontend::BestAllocation(r);
  if (!best.ok()) return best.status();
  if (!f.best_allocation.empty())
    outputs.Write(f.best_allocation, frontend::AllocationFileText(*best, planner.workload()));
  if (f.best_manifest.empty()) return absl::OkStatus();
  auto p = r.planner->Run(r.schedule, *best);
  if (!p.ok()) return p.status();
  plan::WriteManifest(**p, outputs.Open(f.best_manifest));
  return absl::OkStatus();
}

// Ctrl-C (or SIGTERM): the evaluated allocations to --csv as a partial rows
// file (--resume continues from it), nothing else.
int WriteInterrupted(const AllocateFlags& f, const frontend::AllocateResult& r, int sig) {
  const explore::GaResult& ga = r.search.ga;
  if (!f.csv.empty())
    if (absl::Status s = WriteFileAtomically(
            f.csv, frontend::AllocateRowsText(r.inputs, ga, f.allocate.ga.generations));
        !s.ok())
      return ReportError(s);
  std::cerr << "snnplan: interrupted after generation " << ga.generations << ": "
            << ga.evaluated.size() << " allocations evaluated"
            << (f.csv.empty() ? " (give --csv to keep them)"
                              : absl::StrCat(", written to ", f.csv,
                                             " (marked partial); continue with --resume ", f.csv))
            << "\n";
  return ExitCodeForSignal(sig);
}

int RunAllocate(AllocateFlags& f) {
  OutputFiles outputs;
  if (absl::Status s = ExpectOutputs(f, outputs); !s.ok()) return ReportError(s);
  // The best manifest places every parameter, as `plan -o` does.
  f.allocate.plan.import.options.load_parameters = !f.best_manifest.empty();
  std::atomic<bool> cancel{false};
  f.allocate.ga.cancel = &cancel;
  const frontend::InterruptScope interrupts(&cancel);
  CliProgress progress("generations");
  progress.Start("allocate");
  absl::StatusOr<frontend::AllocateResult> r = frontend::RunAllocate(
      frontend::ModelFiles(f.models), f.allocate,
      [&](int g, int n) { progress.Update(static_cast<size_t>(g), static_cast<size_t>(n)); });
  if (!r.ok()) return ReportError(r.status());
  if (r->search.ga.interrupted && interrupts.signal() != 0)
    return WriteInterrupted(f, *r, interrupts.signal());
  outputs.report() << frontend::DescribeAllocation(*r, f.allocate);
  if (absl::Status s = WriteOutputs(f, *r, outputs); !s.ok()) return ReportError(s);
  if (absl::Status s = outputs.CommitAll(); !s.ok()) return ReportError(s);
  return kExitOk;
}

}  // namespace

void RegisterAllocateCommand(CLI::App& app, Runner* run) {
  CLI::App* cmd = app.add_subcommand(
      "allocate", "Search layer-to-core allocations (NSGA-II on latency and energy)");
  auto f = std::make_shared<AllocateFlags>();
  cmd->add_option("model", f->models,
                  "ONNX or NIR model file; several: allocated as one deployment sharing the "
                  "network input (docs/multinet.md)")
      ->required();
  frontend::AddAllocateOptions(cmd, &f->allocate);
  cmd->add_option("--csv", f->csv, "Write every evaluated allocation as CSV ('-' = stdout)");
  cmd->add_option("--pareto", f->pareto_svg,
                  "Write the Pareto front as an SVG plot ('-' = stdout)");
  cmd->add_option("--best-manifest", f->best_manifest,
                  "Write the manifest of the front's minimum-energy allocation ('-' = stdout)");
  cmd->add_option(
      "--best-allocation", f->best_allocation,
      "Write the minimum-energy allocation (a --allocation file for plan; '-' = stdout)");
  cmd->add_option("--json", f->json,
                  "Write the report (single core, greedy, Pareto front) as JSON ('-' = stdout)");
  cmd->callback([run, f] { *run = [f] { return RunAllocate(*f); }; });
}

}  // namespace snnplan::cli
