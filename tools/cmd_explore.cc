// `snnplan explore` (hybrid schedule exploration) and `snnplan ablate`
// (neuron-state removal study).
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "cli_common.h"
#include "commands.h"
#include "plan_flags.h"
#include "snnplan/explore.h"
#include "snnplan/units.h"

namespace snnplan::cli {
namespace {

struct ExploreFlags {
  std::vector<std::string> models;
  frontend::ExploreFlags explore;
  std::string csv, heatmap, breakdown, best_manifest, json;
};

// Checks every output path (one per size for --heatmap, --breakdown and
// --best-manifest when several sizes are explored) before any work.
absl::Status ExpectExploreOutputs(const ExploreFlags& f, const std::vector<std::string>& sizes,
                                  OutputFiles& outputs) {
  const bool several = sizes.size() > 1;
  for (const std::string& size : sizes)
    for (const auto& [option, path] :
         {std::pair{"--heatmap", &f.heatmap}, std::pair{"--breakdown", &f.breakdown},
          std::pair{"--best-manifest", &f.best_manifest}})
      if (absl::Status s = outputs.Expect(option, PerSize(*path, size, several)); !s.ok()) return s;
  if (absl::Status s = outputs.Expect("--csv", f.csv); !s.ok()) return s;
  return outputs.Expect("--json", f.json);
}

absl::Status WriteExploreOutputs(const ExploreFlags& f, frontend::ExploredSize& size, bool several,
                                 OutputFiles& outputs) {
  const explore::ExploreResult& r = size.result;
  plan::Planner& planner = *size.planner;
  const explore::FigureContext figure{planner.workload().model_file, planner.hardware().name,
                                      size.sram_bytes, planner.hardware().clock_hz};
  const std::string title = explore::FigureTitle(figure);
  if (!f.heatmap.empty() && f.explore.strategy == "grid") {
    absl::StatusOr<std::string> svg =
        explore::HeatmapSvg(r, frontend::MakeExploreOptions(f.explore).objective, figure);
    if (!svg.ok()) return svg.status();
    outputs.Write(PerSize(f.heatmap, size.label, several), *svg);
  }
  if (!f.breakdown.empty())
    outputs.Write(PerSize(f.breakdown, size.label, several), explore::BreakdownSvg(r, title));
  if (!f.best_manifest.empty() && r.best >= 0) {
    auto p = planner.Run(r.evaluations[r.best].schedule, size.allocation);
    if (!p.ok()) return p.status();
    plan::WriteManifest(**p, outputs.Open(PerSize(f.best_manifest, size.label, several)));
  }
  return absl::OkStatus();
}

// --shard writes a rows file for `snnplan merge`, which writes the rest.
absl::Status CheckShardOutputs(const ExploreFlags& f) {
  if (f.explore.shard.empty()) return absl::OkStatus();
  if (f.csv.empty())
    return absl::InvalidArgumentError(
        "--shard needs --csv: the shard's rows go there, for 'snnplan merge'");
  for (const auto& [option, path] :
       {std::pair{"--json", &f.json}, std::pair{"--heatmap", &f.heatmap},
        std::pair{"--breakdown", &f.breakdown}, std::pair{"--best-manifest", &f.best_manifest}})
    if (!path->empty())
      return absl::InvalidArgumentError(
          absl::StrCat(option,
                       " with --shard: one shard has only part of the schedules; "
                       "'snnplan merge' of all shards writes it"));
  return absl::OkStatus();
}

// Ctrl-C (or SIGTERM): the finished rows to --csv as a partial rows file,
// the finished sizes to --json marked partial, nothing else.
int WriteInterrupted(const ExploreFlags& f, const std::string& rows, int64_t done, int64_t total,
                     const std::optional<nlohmann::json>& json, int sig) {
  OutputFiles outputs;
  for (absl::Status s : {outputs.Expect("--csv", f.csv), outputs.Expect("--json", f.json)})
    if (!s.ok()) return ReportError(s);
  if (!f.csv.empty()) outputs.Write(f.csv, rows);
  if (!f.json.empty()) {
    nlohmann::json doc = json ? *json : nlohmann::json::object();
    doc["partial"] = {{"done", done}, {"total", total}};
    outputs.Write(f.json, doc.dump(2) + "\n");
  }
  if (absl::Status s = outputs.CommitAll(); !s.ok()) return ReportError(s);
  std::cerr << "snnplan: interrupted: " << done << " schedules finished"
            << (f.csv.empty() ? " (give --csv to keep them)"
                              : absl::StrCat(", written to ", f.csv,
                                             " (marked partial); continue with --resume ", f.csv))
            << "\n";
  return ExitCodeForSignal(sig);
}

int RunExplore(ExploreFlags& f) {
  if (!f.heatmap.empty() && f.explore.strategy != "grid")
    return ReportError(absl::InvalidArgumentError("--heatmap needs --strategy grid"));
  if (absl::Status s = CheckShardOutputs(f); !s.ok()) return ReportError(s);
  std::vector<std::string> sizes = absl::StrSplit(f.explore.plan.sram, ',', absl::SkipEmpty());
  if (sizes.empty()) sizes.push_back("");
  OutputFiles outputs;
  if (absl::Status s = ExpectExploreOutputs(f, sizes, outputs); !s.ok()) return ReportError(s);
  // The best manifest places every parameter, as `plan -o` does.
  f.explore.plan.import.options.load_parameters = !f.best_manifest.empty();
  const bool shard = !f.explore.shard.empty();
  std::string csv;
  std::vector<nlohmann::json> size_json;
  std::optional<nlohmann::json> json;
  CliProgress progress("schedules");
  size_t started = 0;
  progress.Start(absl::StrCat("explore ", sizes[0]));
  auto on_size = [&](frontend::ExploredSize& size) {
    if (++started < sizes.size()) progress.Start(absl::StrCat("explore ", sizes[started]));
    if (size_json.empty())
      outputs.report() << frontend::DescribeHardwareUse(size.planner->hardware(),
                                                        frontend::DefaultHardware(f.explore.plan));
    if (shard) {
      outputs.report() << absl::StrFormat("== %s: shard %s, %d schedules evaluated\n", size.label,
                                          f.explore.shard, size.result.evaluations.size());
      size_json.push_back(nullptr);
      return absl::OkStatus();
    }
    outputs.report() << frontend::DescribeExploredSize(size, f.explore);
    size_json.push_back(frontend::ExploredSizeJson(size, f.explore));
    json = frontend::ExploreJson(size.planner->workload(), size.planner->hardware(), size_json);
    return WriteExploreOutputs(f, size, sizes.size() > 1, outputs);
  };
  std::atomic<bool> cancel{false};
  const frontend::InterruptScope interrupts(&cancel);
  int64_t done = 0, total = 0;
  const absl::Status status = frontend::RunExplore(
      frontend::ModelFiles(f.models), f.explore, [&](size_t d, size_t t) { progress.Update(d, t); },
      &cancel, on_size, &csv, &done, &total);
  if (absl::IsCancelled(status) && interrupts.signal() != 0)
    return WriteInterrupted(f, csv, done, total, json, interrupts.signal());
  if (!status.ok()) return ReportError(status);
  if (!f.csv.empty()) outputs.Write(f.csv, csv);
  if (!f.json.empty() && json) outputs.Write(f.json, json->dump(2) + "\n");
  if (absl::Status s = outputs.CommitAll(); !s.ok()) return ReportError(s);
  return kExitOk;
}

struct AblateFlags {
  std::string model;
  PlanFlags plan;
  std::string csv;
  std::string json;
};

int RunAblate(AblateFlags& f) {
  OutputFiles outputs;
  for (absl::Status s : {outputs.Expect("--csv", f.csv), outputs.Expect("--json", f.json)})
    if (!s.ok()) return ReportError(s);
  // The hardware first: its precisions are the import's (flags override).
  absl::StatusOr<hw::Hardware> hw = LoadHardware(f.plan.hardware, f.plan.sram);
  if (!hw.ok()) return ReportError(hw.status());
  absl::StatusOr<ir::Workload> full =
      frontend::LoadWorkloadFor(frontend::ModelRef{f.model, nullptr}, &f.plan.import, &*hw);
  if (!full.ok()) return ReportError(full.status());
  if (absl::Status s = frontend::CheckExploreMemory(f.plan, *full); !s.ok())
    return ReportError(s);
  absl::StatusOr<plan::PlanOptions> options = MakePlanOptions(f.plan, *full);
  if (!options.ok()) return ReportError(options.status());
  options->threads = 1;
  explore::ExploreOptions eo;
  const cost::ActivityFile* activity = options->activity.get();
  eo.threads = f.plan.threads;
  std::string csv = absl::StrCat(
      "variant,stateless_blocks,neuron_states,state_bits,best_spec,best_dram_bytes,"
      "best_energy_pj,baseline_dram_bytes,baseline_energy_pj,accuracy",
      activity != nullptr ? ",activity_file,activity_sha256" : "", "\n");
  std::ostream& report = outputs.report();
  report << frontend::DescribeHardwareUse(*hw, frontend::DefaultHardware(f.plan));
  report << absl::StrFormat("%-8s %13s %12s %10s %11s %-16s %11s  %s\n", "variant",
                            "neuron states", "state memory", "best DRAM", "st-lbl DRAM",
                            "DRAM vs st-lbl", "best energy",
                            "best schedule (accuracy: measure it yourself)");
  nlohmann::json variants = nlohmann::json::array();
  const int n = full->num_blocks;
  for (int k = 0; k <= n; ++k) {
    ImportFlags import = f.plan.import;
    for (int b = 0; b < k; ++b) import.options.stateless_blocks.push_back(b);
    absl::StatusOr<ir::Workload> w = importer::ImportFile(f.model, import.options);
    if (!w.ok()) return ReportError(w.status());
    int64_t state_bits = 0;
    for (const ir::Layer& l : w->layers) state_bits += l.NeuronStates() * l.precision.state_bits;
    // By layer name, so the same file fits every variant.
    absl::StatusOr<plan::CoreAllocation> allocation = LoadAllocation(f.plan, *w, *hw);
    if (!allocation.ok()) return ReportError(allocation.status());
    eo.allocation = *std::move(allocation);
    plan::Planner planner(*w, *hw, *options);
    CliProgress progress("schedules");
    progress.Start(absl::StrCat("ablate X=", n - k));
    auto r = explore::Explore(planner, eo, [&](size_t d, size_t t) { progress.Update(d, t); });
    if (!r.ok()) return ReportError(r.status());
    // Named like the paper's SEW-X: X = blocks that keep their state.
    const std::string variant = absl::StrCat("X=", n - k);
    const explore::Evaluation* best = r->best >= 0 ? &r->evaluations[r->best] : nullptr;
    const double base_dram = static_cast<double>(r->baseline.summary.dram.total());
    const double best_dram = best ? static_cast<double>(best->summary.dram.total()) : 0;
    report << absl::StrFormat(
        "%-8s %13s %12s %10s %11s %-16s %11s  %s\n", variant,
        units::Grouped(w->TotalNeuronStates()), units::Bytes(static_cast<double>(state_bits) / 8),
        best ? units::Bytes(best_dram) : "-", units::Bytes(base_dram),
        best ? units::CompareShort(best_dram, base_dram) : "-",
        best ? units::Energy(best->summary.energy.total_pj()) : "-",
        best ? best->spec : "infeasible");
    variants.push_back({{"variant", variant},
                        {"stateless_blocks", k},
                        {"neuron_states", w->TotalNeuronStates()},
                        {"state_bits", state_bits},
                        {"best_spec", best ? nlohmann::json(best->spec) : nlohmann::json()},
                        {"best_dram_bytes", best ? nlohmann::json(best->summary.dram.total())
                                                 : nlohmann::json()},
                        {"best_energy_pj", best ? nlohmann::json(best->summary.energy.total_pj())
                                                : nlohmann::json()},
                        {"baseline_dram_bytes", r->baseline.summary.dram.total()},
                        {"baseline_energy_pj", r->baseline.summary.energy.total_pj()}});
    csv += absl::StrFormat(
        "%s,%d,%d,%d,\"%s\",%d,%.12g,%d,%.12g,%s\n", variant, k, w->TotalNeuronStates(), state_bits,
        best ? best->spec : "", best ? best->summary.dram.total() : -1,
        best ? best->summary.energy.total_pj() : 0.0, r->baseline.summary.dram.total(),
        r->baseline.summary.energy.total_pj(), explore::CsvActivityColumns(activity));
  }
  if (!f.csv.empty()) outputs.Write(f.csv, csv);
  if (!f.json.empty()) {
    nlohmann::json doc = {{"model", full->model_file},
                          {"hardware", {{"name", hw->name}}},
                          {"variants", variants}};
    outputs.Write(f.json, doc.dump(2) + "\n");
  }
  if (absl::Status s = outputs.CommitAll(); !s.ok()) return ReportError(s);
  return kExitOk;
}

}  // namespace

void RegisterExploreCommand(CLI::App& app, Runner* run) {
  CLI::App* cmd = app.add_subcommand("explore", "Explore hybrid per-block schedules");
  auto f = std::make_shared<ExploreFlags>();
  cmd->add_option("model", f->models,
                  "ONNX or NIR model file; several: explored as one deployment sharing the "
                  "network input (docs/multinet.md)")
      ->required();
  frontend::AddExploreOptions(cmd, &f->explore);
  cmd->add_option("--csv", f->csv, "One row per evaluated schedule ('-' = stdout)");
  cmd->add_option("--heatmap", f->heatmap, "SVG heatmap of the grid (Figure 8; '-' = stdout)");
  cmd->add_option("--breakdown", f->breakdown,
                  "SVG energy breakdown, baseline vs best ('-' = stdout)");
  cmd->add_option("--best-manifest", f->best_manifest,
                  "Manifest of the best schedule ('-' = stdout)");
  cmd->add_option("--json", f->json,
                  "Per --sram size: best, baseline and bound as JSON ('-' = stdout)");
  cmd->callback([run, f] { *run = [f] { return RunExplore(*f); }; });

  CLI::App* ab = app.add_subcommand(
      "ablate", "Neuron-state removal study: first k blocks stateless, k = 0..N");
  auto af = std::make_shared<AblateFlags>();
  ab->add_option("model", af->model, "ONNX model file")->required();
  AddPlanOptions(ab, &af->plan, /*schedule=*/false, /*mapping_objective=*/true);
  AddAllocationOption(ab, &af->plan);
  ab->add_option("--csv", af->csv, "One row per variant ('-' = stdout)");
  ab->add_option("--json", af->json, "The variants as JSON ('-' = stdout)");
  ab->callback([run, af] { *run = [af] { return RunAblate(*af); }; });
}

}  // namespace snnplan::cli
