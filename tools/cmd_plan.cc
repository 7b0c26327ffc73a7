// `snnplan plan MODEL.onnx --hw HW [...] -o manifest.json` and
// `snnplan trace manifest.json -o trace.json`.
#include <iostream>

#include "absl/strings/str_cat.h"
#include "cli_common.h"
#include "commands.h"
#include "plan_flags.h"
#include "snnplan/planner.h"

namespace snnplan::cli {
namespace {

struct PlanCommandFlags {
  std::vector<std::string> models;
  std::string output;
  std::string summary_json;
  bool summary_only = false;
  PlanFlags plan;
};

int RunPlan(PlanCommandFlags& f) {
  OutputFiles outputs;
  for (absl::Status s :
       {outputs.Expect("-o", f.output), outputs.Expect("--summary-json", f.summary_json)})
    if (!s.ok()) return ReportError(s);
  // A deployable manifest places every parameter: read their values'
  // shapes (bias, folded BatchNorm, post-ops) as `run` does.
  f.plan.import.options.load_parameters = !f.output.empty() && !f.summary_only;
  auto p = frontend::PlanOnce(frontend::ModelFiles(f.models), f.plan);
  if (!p.ok()) return ReportError(p.status());
  outputs.report() << frontend::DescribePlan(**p, frontend::DefaultHardware(f.plan));
  if (!f.summary_json.empty()) outputs.Write(f.summary_json, frontend::SummaryJsonText(**p));
  if (!f.output.empty()) frontend::WriteManifestFile(**p, f.summary_only, outputs.Open(f.output));
  if (absl::Status s = outputs.CommitAll(); !s.ok()) return ReportError(s);
  if (!f.output.empty() && f.output != "-") outputs.report() << "manifest: " << f.output << "\n";
  return kExitOk;
}

struct TraceFlags {
  std::string manifest;
  std::string output;
};

int RunTrace(const TraceFlags& f) {
  OutputFiles outputs;
  if (absl::Status s = outputs.Expect("-o", f.output); !s.ok()) return ReportError(s);
  absl::StatusOr<nlohmann::json> m = ReadJsonFile(f.manifest);
  if (!m.ok()) return ReportError(m.status());
  absl::StatusOr<nlohmann::json> trace = plan::ManifestToTrace(*m);
  if (!trace.ok())
    return ReportError(
        absl::InvalidArgumentError(absl::StrCat(f.manifest, ": ", trace.status().message())));
  outputs.Write(f.output, trace->dump() + "\n");
  if (absl::Status s = outputs.CommitAll(); !s.ok()) return ReportError(s);
  return kExitOk;
}

}  // namespace

void RegisterPlanCommand(CLI::App& app, Runner* run) {
  CLI::App* cmd = app.add_subcommand("plan", "Plan a deployment and write its schedule manifest");
  auto f = std::make_shared<PlanCommandFlags>();
  cmd->add_option("model", f->models,
                  "ONNX or NIR model file; several: planned as one deployment sharing the "
                  "network input (docs/multinet.md)")
      ->required();
  AddPlanOptions(cmd, &f->plan, /*schedule=*/true, /*mapping_objective=*/true);
  AddAllocationOption(cmd, &f->plan);
  AddExitProfileOption(cmd, &f->plan);
  cmd->add_option("-o,--output", f->output, "Write the manifest JSON here ('-' = stdout)");
  cmd->add_option("--summary-json", f->summary_json,
                  "Write the summary object here ('-' = stdout)");
  cmd->add_flag("--summary-only", f->summary_only,
                "Write only the summary in the manifest file (no tile/transfer lists)");
  cmd->callback([run, f] { *run = [f] { return RunPlan(*f); }; });

  CLI::App* trace =
      app.add_subcommand("trace", "Convert a manifest into a Perfetto / Chrome trace-event file");
  auto tf = std::make_shared<TraceFlags>();
  trace->add_option("manifest", tf->manifest, "Manifest JSON")->required();
  trace->add_option("-o,--output", tf->output, "Trace JSON to write ('-' = stdout)")->required();
  trace->callback([run, tf] { *run = [tf] { return RunTrace(*tf); }; });
}

}  // namespace snnplan::cli
