// `snnplan allocate MODEL.onnx --hw HW [--schedule SPEC]`: searches
// layer-to-core allocations of a multi-core chip with a seeded NSGA-II
// (latency and energy) and reports the Pareto front.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "cli_common.h"
#include "commands.h"
#include "plan_flags.h"
#include "snnplan/allocate.h"

namespace snnplan::cli {
namespace {

struct AllocateFlags {
  std::string model;
  PlanFlags plan;
  explore::GaOptions ga;
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

absl::Status WriteOutputs(const AllocateFlags& f, const explore::AllocationSearch& r,
                          plan::Planner& planner, const plan::Schedule& schedule,
                          OutputFiles& outputs) {
  const ir::Workload& w = planner.workload();
  const hw::Hardware& hw = planner.hardware();
  auto format = [&](const explore::Genome& g) {
    const plan::CoreAllocation a = explore::ToAllocation(g, hw);
    std::vector<std::string> pairs;
    for (size_t l = 0; l < w.layers.size(); ++l)
      pairs.push_back(absl::StrCat(w.layers[l].name, "=", a.layer_core[l]));
    return absl::StrJoin(pairs, ";");
  };
  if (!f.csv.empty()) outputs.Write(f.csv, explore::ParetoCsv(r.ga, format));
  if (!f.pareto_svg.empty()) {
    const std::string title =
        absl::StrCat(w.model_file, " on ", hw.name, ": ", plan::FormatSchedule(schedule));
    outputs.Write(f.pareto_svg, explore::ParetoSvg(r.ga, title));
  }
  if (f.best_manifest.empty() && f.best_allocation.empty()) return absl::OkStatus();
  if (r.ga.min_energy < 0)
    return absl::FailedPreconditionError(
        "no feasible allocation: nothing to write for --best-manifest / --best-allocation");
  const plan::CoreAllocation best =
      explore::ToAllocation(r.ga.evaluated[r.ga.min_energy].genome, hw);
  if (!f.best_allocation.empty()) {
    const nlohmann::json doc = {{"allocation", plan::AllocationToJson(best, w, 0)}};
    outputs.Write(f.best_allocation, doc.dump(2) + "\n");
  }
  if (f.best_manifest.empty()) return absl::OkStatus();
  auto p = planner.Run(schedule, best);
  if (!p.ok()) return p.status();
  plan::WriteManifest(**p, outputs.Open(f.best_manifest));
  return absl::OkStatus();
}

int RunAllocate(AllocateFlags& f) {
  OutputFiles outputs;
  if (absl::Status s = ExpectOutputs(f, outputs); !s.ok()) return ReportError(s);
  absl::StatusOr<PlanInputs> in = LoadPlanInputs(f.model, f.plan);
  if (!in.ok()) return ReportError(in.status());
  if (absl::Status s = CheckPlanMemory(f.plan, in->workload, in->schedule, f.plan.threads); !s.ok())
    return ReportError(s);
  in->options.threads = 1;  // parallel over allocations instead (-j)
  f.ga.threads = f.plan.threads;
  plan::Planner planner(std::move(in->workload), std::move(in->hardware), in->options);
  const plan::Schedule& schedule = in->schedule;
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<explore::AllocationSearch> r =
      explore::SearchAllocation(planner, schedule, f.ga, MakeProgress());
  if (!r.ok()) return ReportError(r.status());
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  PrintReport(outputs.report(), *r, planner.workload(), planner.hardware(), f.ga, seconds);
  if (absl::Status s = WriteOutputs(f, *r, planner, schedule, outputs); !s.ok())
    return ReportError(s);
  if (absl::Status s = outputs.CommitAll(); !s.ok()) return ReportError(s);
  return kExitOk;
}

}  // namespace

void RegisterAllocateCommand(CLI::App& app, Runner* run) {
  CLI::App* cmd = app.add_subcommand(
      "allocate", "Search layer-to-core allocations (NSGA-II on latency and energy)");
  auto f = std::make_shared<AllocateFlags>();
  cmd->add_option("model", f->model, "ONNX model file")->required();
  AddPlanOptions(cmd, &f->plan, /*schedule=*/true, /*mapping_objective=*/true);
  cmd->add_option("--population", f->ga.population, "Individuals per generation")
      ->check(CLI::Range(2, 4096))
      ->capture_default_str();
  cmd->add_option("--generations", f->ga.generations, "Generations after the initial one")
      ->check(CLI::Range(0, 100000))
      ->capture_default_str();
  cmd->add_option("--seed", f->ga.seed, "Random seed (same seed, same result)")
      ->capture_default_str();
  cmd->add_option("--budget", f->ga.budget,
                  "Most allocations evaluated (0 = population x (generations + 1) at most)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
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
