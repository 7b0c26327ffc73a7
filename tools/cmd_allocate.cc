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
  std::string model;
  frontend::AllocateFlags allocate;
  std::string csv, pareto_svg, best_manifest, best_allocation;
};

// Core ids per layer, blocks separated by '|': "0,0,0|1,1|2,2".
std::string CoresByBlock(const ir::Workload& w, const plan::CoreAllocation& a) {
  std::string out;
  for (size_t l = 0; l < w.layers.size(); ++l) {
    if (l > 0) out += w.layers[l].block != w.layers[l - 1].block ? "|" : ",";
    absl::StrAppend(&out, a.layer_core[l]);
  }
  return out;
}

std::string Ratio(double a, double b) {
  return b > 0 ? absl::StrFormat("%.2fx", a / b) : std::string("n/a");
}

explore::GaProgress MakeProgress() {
  if (!::isatty(STDERR_FILENO)) return nullptr;
  return [](int done, int total) {
    std::fprintf(stderr, "\rgeneration %d/%d", done, total);
    if (done == total) std::fprintf(stderr, "\n");
  };
}

void PrintPoint(std::ostream& out, const char* label, const explore::Individual& ind,
                const ir::Workload& w, const hw::Hardware& hw) {
  if (!ind.objectives.feasible) {
    out << absl::StrFormat("%-12s infeasible: %s\n", label, ind.objectives.error);
    return;
  }
  out << absl::StrFormat("%-12s latency %14.0f cycles  energy %14.6g pJ  cores %s\n", label,
                         ind.objectives.latency_cycles, ind.objectives.energy_pj,
                         CoresByBlock(w, explore::ToAllocation(ind.genome, hw)));
}

void PrintReport(std::ostream& out, const explore::AllocationSearch& r, const ir::Workload& w,
                 const hw::Hardware& hw, const explore::GaOptions& ga, double seconds) {
  out << absl::StrFormat("allocate: %d layers on %d cores; %d allocations evaluated in %.1f s\n",
                         w.layers.size(), hw.cores.size(), r.ga.evaluations, seconds);
  if (ga.budget > 0 && r.ga.generations < ga.generations)
    out << absl::StrFormat("budget of %d evaluations reached after generation %d of %d\n",
                           ga.budget, r.ga.generations, ga.generations);
  if (r.single_core_index >= 0)
    PrintPoint(out, "single core", r.ga.evaluated[r.single_core_index], w, hw);
  if (r.greedy_index >= 0) PrintPoint(out, "greedy", r.ga.evaluated[r.greedy_index], w, hw);
  out << absl::StrFormat("pareto front: %d points (cores per layer, blocks split by |)\n",
                         r.ga.pareto.size());
  for (int i : r.ga.pareto)
    PrintPoint(out, i == r.ga.min_energy ? "* min energy" : "", r.ga.evaluated[i], w, hw);
  if (r.ga.min_energy >= 0 && r.single_core_index >= 0 &&
      r.ga.evaluated[r.single_core_index].objectives.feasible) {
    const auto& best = r.ga.evaluated[r.ga.min_energy].objectives;
    const auto& base = r.ga.evaluated[r.single_core_index].objectives;
    out << absl::StrFormat("min-energy point vs single core: energy %s, latency %s\n",
                           Ratio(base.energy_pj, best.energy_pj),
                           Ratio(base.latency_cycles, best.latency_cycles));
  }
}

absl::Status ExpectOutputs(const AllocateFlags& f, OutputFiles& outputs) {
  for (const auto& [option, path] :
       {std::pair{"--csv", &f.csv}, std::pair{"--pareto", &f.pareto_svg},
        std::pair{"--best-manifest", &f.best_manifest},
        std::pair{"--best-allocation", &f.best_allocation}})
    if (absl::Status s = outputs.Expect(option, *path); !s.ok()) return s;
  return absl::OkStatus();
}

absl::Status WriteOutputs(const AllocateFlags& f, const frontend::AllocateResult& r,
                          OutputFiles& outputs) {
  const plan::Planner& planner = *r.planner;
  if (!f.csv.empty()) outputs.Write(f.csv, frontend::AllocateCsv(r));
  if (!f.pareto_svg.empty()) {
    const std::string title = absl::StrCat(planner.workload().model_file, " on ",
                                           planner.hardware().name, ": ",
                                           plan::FormatSchedule(r.schedule));
    outputs.Write(f.pareto_svg, explore::ParetoSvg(r.search.ga, title));
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

int RunAllocate(AllocateFlags& f) {
  OutputFiles outputs;
  if (absl::Status s = ExpectOutputs(f, outputs); !s.ok()) return ReportError(s);
  absl::StatusOr<frontend::AllocateResult> r =
      frontend::RunAllocate(frontend::ModelRef{f.model, nullptr}, f.allocate, MakeProgress());
  if (!r.ok()) return ReportError(r.status());
  PrintReport(outputs.report(), r->search, r->planner->workload(), r->planner->hardware(),
              f.allocate.ga, r->seconds);
  if (absl::Status s = WriteOutputs(f, *r, outputs); !s.ok()) return ReportError(s);
  if (absl::Status s = outputs.CommitAll(); !s.ok()) return ReportError(s);
  return kExitOk;
}

}  // namespace

void RegisterAllocateCommand(CLI::App& app, Runner* run) {
  CLI::App* cmd = app.add_subcommand(
      "allocate", "Search layer-to-core allocations (NSGA-II on latency and energy)");
  auto f = std::make_shared<AllocateFlags>();
  cmd->add_option("model", f->model, "ONNX model file")->required();
  frontend::AddAllocateOptions(cmd, &f->allocate);
  cmd->add_option("--csv", f->csv, "Write every evaluated allocation as CSV ('-' = stdout)");
  cmd->add_option("--pareto", f->pareto_svg,
                  "Write the Pareto front as an SVG plot ('-' = stdout)");
  cmd->add_option("--best-manifest", f->best_manifest,
                  "Write the manifest of the front's minimum-energy allocation ('-' = stdout)");
  cmd->add_option(
      "--best-allocation", f->best_allocation,
      "Write the minimum-energy allocation (a --allocation file for plan; '-' = stdout)");
  cmd->callback([run, f] { *run = [f] { return RunAllocate(*f); }; });
}

}  // namespace snnplan::cli
