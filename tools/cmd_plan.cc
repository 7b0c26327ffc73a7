// `snnplan plan MODEL.onnx --hw HW [...] -o manifest.json` and
// `snnplan trace manifest.json -o trace.json`.
#include <iostream>

#include "absl/strings/str_cat.h"
#include "cli_common.h"
#include "commands.h"
#include "snnplan/planner.h"

namespace snnplan::cli {
namespace {

struct PlanFlags {
  std::string model;
  std::string hardware = "meta-prototype";
  std::string sram;
  std::string schedule = "st-lbl";
  std::string schedule_file;
  std::string eviction = "stems";
  std::string state_io = "zero";
  std::string objective = "energy";
  double density = 1.0;
  std::string density_file;
  int64_t budget = 0;
  int threads = 1;
  std::string output;
  std::string summary_json;
  bool summary_only = false;
  ImportFlags import;
};

absl::StatusOr<plan::Schedule> LoadSchedule(const PlanFlags& f, const ir::Workload& w) {
  if (f.schedule_file.empty()) return plan::ParseSchedule(f.schedule, w.num_blocks, w.timesteps);
  absl::StatusOr<nlohmann::json> doc = ReadJsonFile(f.schedule_file);
  if (!doc.ok()) return doc.status();
  absl::StatusOr<plan::Schedule> s = plan::ParseScheduleJson(*doc, w.num_blocks, w.timesteps);
  if (!s.ok())
    return absl::InvalidArgumentError(absl::StrCat(f.schedule_file, ": ", s.status().message()));
  return s;
}

absl::StatusOr<plan::PlanOptions> MakeOptions(const PlanFlags& f) {
  plan::PlanOptions o;
  o.state_io = f.state_io == "dram" ? cost::StateIo::kDram : cost::StateIo::kZero;
  o.eviction = f.eviction == "belady" ? plan::Eviction::kBelady : plan::Eviction::kStems;
  o.objective = f.objective == "latency" ? cost::Objective::kLatency
                : f.objective == "edp"   ? cost::Objective::kEdp
                                         : cost::Objective::kEnergy;
  o.density = f.density;
  o.mapping_budget = f.budget;
  o.threads = f.threads;
  if (!f.density_file.empty()) {
    auto d = ReadLayerNumbers(f.density_file);
    if (!d.ok()) return d.status();
    o.layer_density = *d;
  }
  return o;
}

absl::Status WriteOutputs(const PlanFlags& f, const plan::Plan& p) {
  if (!f.summary_json.empty()) {
    absl::Status s = WriteFileAtomically(f.summary_json, plan::SummaryToJson(p).dump(2) + "\n");
    if (!s.ok()) return s;
  }
  if (f.output.empty()) return absl::OkStatus();
  AtomicFileWriter out(f.output);
  if (absl::Status s = out.status(); !s.ok()) return s;
  if (f.summary_only) {
    nlohmann::json m = {{"schema_version", plan::kManifestSchemaVersion},
                        {"summary", plan::SummaryToJson(p)}};
    out.stream() << m.dump(2) << "\n";
  } else {
    plan::WriteManifest(p, out.stream());
  }
  return out.Commit();
}

int RunPlan(PlanFlags& f) {
  absl::StatusOr<ir::Workload> w = LoadWorkload(f.model, &f.import);
  if (!w.ok()) return ReportError(w.status());
  absl::StatusOr<hw::Hardware> hw = LoadHardware(f.hardware, f.sram);
  if (!hw.ok()) return ReportError(hw.status());
  absl::StatusOr<plan::Schedule> schedule = LoadSchedule(f, *w);
  if (!schedule.ok()) return ReportError(schedule.status());
  absl::StatusOr<plan::PlanOptions> options = MakeOptions(f);
  if (!options.ok()) return ReportError(options.status());
  plan::Planner planner(*std::move(w), *std::move(hw), *options);
  auto p = planner.Run(*schedule);
  if (!p.ok()) return ReportError(p.status());
  std::cout << plan::DescribeSummary(**p);
  if (absl::Status s = WriteOutputs(f, **p); !s.ok()) return ReportError(s);
  if (!f.output.empty()) std::cout << "manifest: " << f.output << "\n";
  return kExitOk;
}

struct TraceFlags {
  std::string manifest;
  std::string output;
};

int RunTrace(const TraceFlags& f) {
  absl::StatusOr<nlohmann::json> m = ReadJsonFile(f.manifest);
  if (!m.ok()) return ReportError(m.status());
  absl::StatusOr<nlohmann::json> trace = plan::ManifestToTrace(*m);
  if (!trace.ok())
    return ReportError(absl::InvalidArgumentError(
        absl::StrCat(f.manifest, ": ", trace.status().message())));
  if (absl::Status s = WriteFileAtomically(f.output, trace->dump() + "\n"); !s.ok())
    return ReportError(s);
  return kExitOk;
}

void AddPlanOptions(CLI::App* cmd, PlanFlags* f) {
  cmd->add_option("--hw", f->hardware, "Hardware preset or JSON file")->capture_default_str();
  cmd->add_option("--sram", f->sram, "Global buffer size (e.g. 128KiB, 1MiB)");
  auto* spec = cmd->add_option("--schedule", f->schedule,
                               "Per-block schedule, e.g. tb-lf,tb-lf,tb-lbl (or one entry for all)")
                   ->capture_default_str();
  cmd->add_option("--schedule-file", f->schedule_file,
                  "JSON schedule file (spec + per-layer tile overrides)")
      ->excludes(spec);
  cmd->add_option("--eviction", f->eviction, "Eviction policy")
      ->check(CLI::IsMember({"stems", "belady"}))
      ->capture_default_str();
  cmd->add_option("--state-io", f->state_io,
                  "zero: states start at 0 on chip and are discarded; dram: loaded and stored "
                  "(STEMS)")
      ->check(CLI::IsMember({"zero", "dram"}))
      ->capture_default_str();
  cmd->add_option("--objective", f->objective, "Intra-tile mapping objective")
      ->check(CLI::IsMember({"energy", "latency", "edp"}))
      ->capture_default_str();
  cmd->add_option("--density", f->density, "Spike activity density (scales SOPs)")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  cmd->add_option("--density-file", f->density_file, "JSON object: layer name -> density");
  cmd->add_option("--budget", f->budget, "Most mappings evaluated per tile (0 = no limit)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("-j,--threads", f->threads, "Threads for tile pricing")
      ->check(CLI::Range(1, 256));
  AddImportOptions(cmd, &f->import);
}

}  // namespace

void RegisterPlanCommand(CLI::App& app, Runner* run) {
  CLI::App* cmd = app.add_subcommand("plan", "Plan a deployment and write its schedule manifest");
  auto f = std::make_shared<PlanFlags>();
  cmd->add_option("model", f->model, "ONNX model file")->required();
  AddPlanOptions(cmd, f.get());
  cmd->add_option("-o,--output", f->output, "Write the manifest JSON here");
  cmd->add_option("--summary-json", f->summary_json, "Write the summary object here");
  cmd->add_flag("--summary-only", f->summary_only,
                "Write only the summary in the manifest file (no tile/transfer lists)");
  cmd->callback([run, f] { *run = [f] { return RunPlan(*f); }; });

  CLI::App* trace = app.add_subcommand(
      "trace", "Convert a manifest into a Perfetto / Chrome trace-event file");
  auto tf = std::make_shared<TraceFlags>();
  trace->add_option("manifest", tf->manifest, "Manifest JSON")->required();
  trace->add_option("-o,--output", tf->output, "Trace JSON to write")->required();
  trace->callback([run, tf] { *run = [tf] { return RunTrace(*tf); }; });
}

}  // namespace snnplan::cli
