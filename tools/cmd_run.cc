// `snnplan run MODEL --inputs IN.npz|IN.npy|DIR [--outputs OUT.npz|DIR]
//  [--activity act.json] [-j N] [import options]`: executes the imported IR
// on the CPU (docs/run.md); with `--manifest m.json`, executes the manifest
// instead (replay by execution, docs/run.md "Replaying a manifest").
#include <algorithm>
#include <filesystem>
#include <iostream>
#include <optional>
#include <system_error>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "cli_common.h"
#include "commands.h"
#include "snnplan/importer.h"
#include "snnplan/input_file.h"
#include "snnplan/runtime.h"

namespace snnplan::cli {
namespace {

namespace fs = std::filesystem;

struct RunCmdFlags {
  std::string model;
  std::string inputs;    // .npz, .npy or a folder of .npz (one sample each)
  std::string outputs;   // .npz (or a folder, for a folder of inputs)
  std::string activity;  // activity JSON (docs/run.md#the-activity-file)
  std::string exit;          // early-exit policy, "entropy:THRESHOLD"
  std::string exit_output;   // the graph output it reads
  std::string exit_profile;  // exit profile JSON (needs --exit)
  std::string json;          // the report as JSON
  std::string manifest;      // replay this manifest instead of running the IR
  frontend::RunFlags run;
};

// One input set to run and where its outputs go ("" = not written).
struct Sample {
  std::string input_path;
  std::string output_path;
};

// The network input's name: what a lone .npy stands for.
absl::StatusOr<std::string> NetworkInputName(const ir::Workload& w) {
  for (const ir::Binding& b : w.inputs)
    if (b.kind == ir::BindingKind::kNetworkInput) return b.name;
  return absl::InvalidArgumentError("the model has no network input");
}

absl::StatusOr<std::map<std::string, runtime::Array>> ReadInputs(const std::string& path,
                                                                 const ir::Workload& w) {
  absl::StatusOr<std::string> bytes = ReadInputFile(path, "input file (--inputs)", kMaxModelFileBytes);
  if (!bytes.ok()) return bytes.status();
  if (absl::EndsWith(path, ".npy")) {
    absl::StatusOr<std::string> name = NetworkInputName(w);
    if (!name.ok()) return name.status();
    absl::StatusOr<runtime::Array> a = runtime::ParseNpy(*bytes, path);
    if (!a.ok()) return a.status();
    return std::map<std::string, runtime::Array>{{*name, std::move(*a)}};
  }
  return runtime::ParseNpz(*bytes, path);
}

// The samples: one file, or every *.npz of a folder in name order (outputs
// then go to the --outputs folder under the same names).
absl::StatusOr<std::vector<Sample>> ListSamples(const RunCmdFlags& f) {
  std::error_code ec;
  if (!fs::is_directory(f.inputs, ec)) return std::vector<Sample>{{f.inputs, f.outputs}};
  if (!f.outputs.empty() && !fs::is_directory(f.outputs, ec))
    return absl::InvalidArgumentError(absl::StrCat(
        "--outputs ", f.outputs, ": must be an existing folder when --inputs is a folder"));
  std::vector<std::string> names;
  for (const fs::directory_entry& e : fs::directory_iterator(f.inputs, ec))
    if (e.path().extension() == ".npz") names.push_back(e.path().filename().string());
  if (ec) return absl::InvalidArgumentError(absl::StrCat("--inputs ", f.inputs, ": ", ec.message()));
  if (names.empty())
    return absl::InvalidArgumentError(absl::StrCat("--inputs ", f.inputs, ": no .npz files in the folder"));
  std::sort(names.begin(), names.end());
  std::vector<Sample> samples;
  for (const std::string& n : names)
    samples.push_back({(fs::path(f.inputs) / n).string(),
                       f.outputs.empty() ? "" : (fs::path(f.outputs) / n).string()});
  return samples;
}

std::string ShapeText(const std::vector<int64_t>& shape) {
  return absl::StrCat("[", absl::StrJoin(shape, ", "), "]");
}

int RunRun(RunCmdFlags& flags) {
  absl::StatusOr<std::vector<Sample>> samples = ListSamples(flags);
  if (!samples.ok()) return ReportError(samples.status());
  OutputFiles outputs;
  for (const Sample& s : *samples)
    if (absl::Status st = outputs.Expect("--outputs", s.output_path); !st.ok()) return ReportError(st);
  if (absl::Status s = outputs.Expect("--activity", flags.activity); !s.ok()) return ReportError(s);
  if (!flags.exit_profile.empty() && flags.exit.empty())
    return ReportError(absl::InvalidArgumentError("--exit-profile needs --exit"));
  if (!flags.exit_output.empty() && flags.exit.empty())
    return ReportError(absl::InvalidArgumentError("--exit-output needs --exit"));
  std::optional<runtime::ExitPolicy> policy;
  if (!flags.exit.empty()) {
    absl::StatusOr<runtime::ExitPolicy> p = runtime::ParseExitPolicy(flags.exit, flags.exit_output);
    if (!p.ok()) return ReportError(absl::InvalidArgumentError(absl::StrCat("--exit ", p.status().message())));
    policy = *p;
  }
  if (absl::Status s = outputs.Expect("--exit-profile", flags.exit_profile); !s.ok())
    return ReportError(s);
  if (absl::Status s = outputs.Expect("--json", flags.json); !s.ok()) return ReportError(s);
  if (!flags.manifest.empty() && (!flags.activity.empty() || policy))
    return ReportError(
        absl::InvalidArgumentError("--manifest replays a manifest; --activity and --exit measure "
                                   "`run` itself: give them without "
                                   "--manifest"));
  std::string manifest;
  if (!flags.manifest.empty()) {
    absl::StatusOr<std::string> text =
        ReadInputFile(flags.manifest, "manifest (--manifest)", kMaxJsonFileBytes);
    if (!text.ok()) return ReportError(text.status());
    manifest = std::move(*text);
  }
  flags.run.import.options.load_parameters = true;
  absl::StatusOr<ir::Workload> w = LoadWorkload(flags.model, &flags.run.import);
  if (!w.ok()) return ReportError(w.status());
  runtime::RunOptions options;
  options.threads = flags.run.threads;
  options.activity = !flags.activity.empty();
  runtime::ActivityProfile profile;
  std::vector<std::string> not_produced;
  std::map<std::string, std::vector<int64_t>> written;
  runtime::ExitProfile exits;
  std::string exit_output;
  for (const Sample& s : *samples) {
    absl::StatusOr<std::map<std::string, runtime::Array>> in = ReadInputs(s.input_path, *w);
    if (!in.ok()) return ReportError(in.status());
    absl::StatusOr<runtime::RunResult> r =
        flags.manifest.empty()
            ? runtime::RunWorkload(*w, *in, options)
            : runtime::ReplayManifest(manifest, flags.manifest, *w, *in, options);
    if (!r.ok()) return ReportError(absl::InvalidArgumentError(absl::StrCat(s.input_path, ": ", r.status().message())));
    if (options.activity)
      if (absl::Status st = runtime::AddActivity(*r, &profile); !st.ok()) return ReportError(st);
    if (!s.output_path.empty()) {
      absl::StatusOr<std::string> npz = runtime::NpzBytes(r->outputs);
      if (!npz.ok()) return ReportError(npz.status());
      outputs.Write(s.output_path, *npz);
    }
    if (policy) {
      absl::StatusOr<std::vector<int64_t>> steps = runtime::ExitSteps(*r, *policy);
      if (!steps.ok()) return ReportError(absl::InvalidArgumentError(absl::StrCat("--exit: ", steps.status().message())));
      exit_output = *runtime::ExitOutputName(*r, *policy);
      const std::string name = fs::path(s.input_path).filename().string();
      if (absl::Status st = runtime::AddExits(name, r->timesteps, *steps, &exits); !st.ok())
        return ReportError(st);
    }
    for (const auto& [name, a] : r->outputs) written[name] = a.shape;
    not_produced = r->not_produced;
  }
  if (options.activity)
    outputs.Write(flags.activity, runtime::ActivityJson(profile, w->model_file, w->model_sha256));
  if (policy && !flags.exit_profile.empty())
    outputs.Write(flags.exit_profile, runtime::ExitProfileJson(exits, *policy, exit_output,
                                                               w->model_file, w->model_sha256));
  if (!flags.json.empty()) {
    nlohmann::json doc = {{"model", w->model_file},
                          {"samples", samples->size()},
                          {"timesteps", w->timesteps},
                          {"batch", w->batch},
                          {"layers", w->layers.size()},
                          {"outputs", written},
                          {"not_produced", not_produced}};
    if (policy) {
      nlohmann::json steps = nlohmann::json::object();
      for (const runtime::ExitProfile::Input& in : exits.inputs) steps[in.input] = in.exit_steps;
      doc["exit"] = {{"policy", runtime::ExitPolicyText(*policy)},
                     {"output", exit_output},
                     {"timesteps", exits.timesteps},
                     {"exit_steps", steps}};
    }
    outputs.Write(flags.json, doc.dump(2) + "\n");
  }
  if (absl::Status s = outputs.CommitAll(); !s.ok()) return ReportError(s);
  std::ostream& out = outputs.report();
  out << absl::StrFormat(
      "%s %s: %d sample(s), T=%d, batch=%d, %d layers\n",
      flags.manifest.empty() ? "ran" : "replayed manifest " + flags.manifest + " of", w->model_file,
      samples->size(), w->timesteps, w->batch, w->layers.size());
  for (const auto& [name, shape] : written) out << "  output " << name << " " << ShapeText(shape) << "\n";
  for (const std::string& n : not_produced) out << "  not produced: " << n << "\n";
  if (policy) {
    out << "early exit (" << runtime::ExitPolicyText(*policy) << " on " << exit_output
        << "): steps run per sample\n";
    for (const runtime::ExitProfile::Input& in : exits.inputs)
      out << "  " << in.input << ": " << absl::StrJoin(in.exit_steps, " ") << " of " << exits.timesteps
          << "\n";
  }
  return kExitOk;
}

}  // namespace

void RegisterRunCommand(CLI::App& app, Runner* run) {
  CLI::App* cmd = app.add_subcommand(
      "run", "Execute the imported network on the CPU (outputs keyed by the graph's names)");
  auto flags = std::make_shared<RunCmdFlags>();
  cmd->add_option("model", flags->model, "ONNX model file")->required();
  cmd->add_option("--inputs", flags->inputs,
                  "Inputs keyed by graph input name: .npz, .npy (the network input alone), or a "
                  "folder of .npz files (one sample each)")
      ->required();
  cmd->add_option("--outputs", flags->outputs,
                  "Write the graph outputs as .npz ('-' = stdout); a folder for a folder of inputs");
  cmd->add_option("--activity", flags->activity,
                  "Write each layer's measured input spike density (docs/run.md#the-activity-file; "
                  "'-' = stdout)");
  cmd->add_option("--exit", flags->exit,
                  "Early-exit policy entropy:THRESHOLD (DT-SNN): report the step after which "
                  "each sample exits (docs/run.md)");
  cmd->add_option("--exit-output", flags->exit_output,
                  "The graph output the exit policy reads (default: the only one recorded per step)");
  cmd->add_option("--exit-profile", flags->exit_profile,
                  "Write the exit profile (probability of exiting after 1..T steps) as JSON ('-' = "
                  "stdout)");
  cmd->add_option("--json", flags->json,
                  "Write the report (outputs and their shapes, exit steps) as JSON ('-' = stdout)");
  cmd->add_option("--manifest", flags->manifest,
                  "Replay this manifest by execution instead of running the IR: byte-addressed "
                  "memories, every transfer and tile as the manifest states (docs/run.md); needs "
                  "32-bit values and 64-bit states (plan with --precision float)");
  frontend::AddRunOptions(cmd, &flags->run);
  cmd->callback([run, flags] { *run = [flags] { return RunRun(*flags); }; });
}

}  // namespace snnplan::cli
