// What the snnplan commands compute, shared by the CLI (tools/) and the
// Python module (python/), so both give the same numbers and messages:
// loading models and hardware from the flags, the plan, the exploration with
// its CSV, the allocation search with its CSV, the cost report, manifest
// validation. Front ends only parse, print and write files.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "snnplan/allocate.h"
#include "snnplan/explore.h"
#include "snnplan/flags.h"
#include "snnplan/planner.h"
#include "snnplan/validator.h"

namespace snnplan::frontend {

// ---- inputs

// A model given as a file path, or as a workload imported already (the
// import flags then do not apply).
struct ModelRef {
  std::string path;
  std::shared_ptr<const ir::Workload> workload;
  // The options `workload` was imported with (the Python module's Workload
  // knows them), so a plan records the precisions it really used.
  const importer::ImportOptions* imported_with = nullptr;
  // Several model files planned as one deployment (importer::CombineWorkloads),
  // used instead of `path` when it holds two or more.
  std::vector<std::string> paths = {};
};
// The model files a command was given: one is `path`, several are `paths`.
ModelRef ModelFiles(const std::vector<std::string>& files);
// Imports the model with the import flags (FinishImportOptions included).
absl::StatusOr<ir::Workload> LoadWorkload(const ModelRef& model, ImportFlags* flags);
// Precisions belong to the hardware: sets every import precision whose flag
// was not given (flags->precision_given) to `hw.precision`'s value.
void UseHardwarePrecision(const hw::Hardware& hw, ImportFlags* flags);
// The precisions an import with `options` uses, as a hardware precision.
hw::Precision ImportPrecision(const importer::ImportOptions& options);
// The model imported with the hardware's precisions (flags override), and
// `hw->precision` set to the precisions used, so the plan's hardware (and
// the manifest that embeds it) records them. A pre-imported workload keeps
// its own precisions; they are recorded when `model.imported_with` is set.
absl::StatusOr<ir::Workload> LoadWorkloadFor(const ModelRef& model, ImportFlags* flags,
                                             hw::Hardware* hw);
// A preset or JSON file (or `object` when set), resized by `sram` ("--sram
// SIZE": KiB/MiB, a bare number is bytes) unless it is empty.
absl::StatusOr<hw::Hardware> LoadHardware(const std::string& hardware, const std::string& sram,
                                          const hw::Hardware* object = nullptr);
// Reads a JSON file ("<path>: invalid JSON: ..." on failure); errors start
// with `option` when given ("--allocation <path>: is a directory, ...").
absl::StatusOr<nlohmann::json> ReadJsonFile(const std::string& path,
                                            const std::string& option = "");
// Reads a JSON object of layer name -> number (e.g. --density-file).
absl::StatusOr<std::map<std::string, double>> ReadLayerNumbers(const std::string& path,
                                                               const std::string& option);
// --density-file: layer name -> density in [0, 1], every name a layer of `w`.
absl::StatusOr<std::map<std::string, double>> LoadDensityFile(const std::string& path,
                                                              const ir::Workload& w);
// --activity: the checked activity file (null without); refused together
// with --density (`density_given`) or --density-file.
absl::StatusOr<std::shared_ptr<const cost::ActivityFile>> LoadActivity(
    const std::string& path, const ir::Workload& w, bool density_given,
    const std::string& density_file);

// ---- plan

// The plan options of `f` for `w` (--density-file and --activity checked against it).
absl::StatusOr<plan::PlanOptions> MakePlanOptions(const PlanFlags& f, const ir::Workload& w);
absl::StatusOr<plan::Schedule> LoadSchedule(const PlanFlags& f, const ir::Workload& w);
// The --allocation file, or the empty allocation (every layer on --core).
absl::StatusOr<plan::CoreAllocation> LoadAllocation(const PlanFlags& f, const ir::Workload& w,
                                                    const hw::Hardware& hw);
// --max-memory: refuses, before building anything, `plans_at_once` plans of
// `schedule` whose estimated memory exceeds the limit (the estimate is in the message).
absl::Status CheckPlanMemory(const PlanFlags& f, const ir::Workload& w,
                             const plan::Schedule& schedule, int plans_at_once);

// Everything one planning command reads: the model, the hardware (with
// --sram), the schedule and the plan options.
struct PlanInputs {
  ir::Workload workload;
  hw::Hardware hardware;
  plan::Schedule schedule;
  plan::PlanOptions options;
};
absl::StatusOr<PlanInputs> LoadPlanInputs(const ModelRef& model, PlanFlags& f);

// `snnplan plan`: inputs, allocation, memory check, one plan.
absl::StatusOr<std::shared_ptr<const plan::Plan>> PlanOnce(const ModelRef& model, PlanFlags& f);
// What --summary-json writes: the summary object, 2-space indented, newline.
std::string SummaryJsonText(const plan::Plan& p);
// What -o writes: the manifest, or with `summary_only` (--summary-only)
// only {schema_version, summary}.
void WriteManifestFile(const plan::Plan& p, bool summary_only, std::ostream& out);

// ---- explore

explore::ExploreOptions MakeExploreOptions(const ExploreFlags& f);
// --max-memory for `threads` plans of the finest schedule (st-lf) at once.
absl::Status CheckExploreMemory(const PlanFlags& f, const ir::Workload& w);
// One explored global-buffer size of `snnplan explore` (--sram may list several).
struct ExploredSize {
  std::string label;   // the --sram entry, or "<bytes>B" without --sram
  int64_t sram_bytes;  // the global buffer of the core the plans use
  explore::ExploreResult result;
  std::unique_ptr<plan::Planner> planner;  // for the best manifest (null: merged)
  plan::CoreAllocation allocation;
  double clock_hz = 0;  // the hardware's (0: not stated)
};
// Explores every size in --sram order, calling `on_size` after each (the
// CLI prints and writes there); `csv` receives the --csv text, header and
// one row per evaluation of every size. `cancel` (may be null) stops it.
// --shard is refused here (see the overload below).
absl::Status RunExplore(const ModelRef& model, ExploreFlags& f, const explore::Progress& progress,
                        const std::atomic<bool>* cancel,
                        const std::function<absl::Status(ExploredSize&)>& on_size,
                        std::string* csv);
// The same, with what the CLI needs for --shard and Ctrl-C: with --shard,
// `csv` receives the shard's rows file; when `cancel` stops it, `csv`
// receives the finished rows as a partial rows file (snnplan/sweep.h) and
// the status is Cancelled. `rows_done` / `rows_total`: schedules in it.
absl::Status RunExplore(const ModelRef& model, ExploreFlags& f, const explore::Progress& progress,
                        const std::atomic<bool>* cancel,
                        const std::function<absl::Status(ExploredSize&)>& on_size, std::string* csv,
                        int64_t* rows_done, int64_t* rows_total);

// ---- allocate

struct AllocateResult {
  explore::AllocationSearch search;
  nlohmann::json inputs;  // AllocateInputs: the fingerprint of a partial rows file
  std::unique_ptr<plan::Planner> planner;
  plan::Schedule schedule;
  double seconds = 0;
};
absl::StatusOr<AllocateResult> RunAllocate(const ModelRef& model, AllocateFlags& f,
                                           const explore::GaProgress& progress);
// The --csv text of `snnplan allocate` (genomes as layer=core pairs).
std::string AllocateCsv(const AllocateResult& r);
// The front's minimum-energy allocation (--best-allocation, --best-manifest),
// FailedPrecondition when the front is empty.
absl::StatusOr<plan::CoreAllocation> BestAllocation(const AllocateResult& r);
// What --best-allocation writes for it.
std::string AllocationFileText(const plan::CoreAllocation& a, const ir::Workload& w);

// ---- cost

struct CostLayerResult {
  std::string name;
  std::string op;
  double density = 1.0;
  double input_activity = 1.0;
  double output_activity = 1.0;
  size_t tiles = 0;
  cost::EnergyBreakdown energy;
  double dram_bytes = 0;
  int64_t latency_cycles = 0;
  std::shared_ptr<const cost::TileCost> first;  // the first tile's mapping
};
struct CostReport {
  std::vector<CostLayerResult> layers;
  std::unique_ptr<cost::CostModel> model;
  bool with_activity = false;
  double seconds = 0;
  nlohmann::json json;  // what --json writes
};
// `snnplan cost` for `model_name` (as the report names it).
absl::StatusOr<CostReport> RunCost(const ModelRef& model, const std::string& model_name,
                                   CostFlags& f);

// ---- validate

// Violations of the manifest (empty: valid); an error when the manifest or
// a flag's input is unusable.
absl::StatusOr<std::vector<validate::Violation>> ValidateManifestFile(const std::string& manifest,
                                                                      ValidateFlags& f,
                                                                      const ModelRef& model);
// What `validate --json` writes: {"manifest", "valid", "violations": [{"check", "message"}]}.
nlohmann::json ValidationJson(const std::string& manifest,
                              const std::vector<validate::Violation>& violations);

// ---- text reports (numbers people read: scaled units, snnplan/units.h)
// and the JSON forms of reports that are otherwise text only

// Whether a planning command runs on the default hardware (no --hw, no
// hardware object).
bool DefaultHardware(const PlanFlags& f);
// "hardware: meta-prototype (default, no --hw), SRAM 128 KiB[, clock 200 MHz]\n";
// several cores: "..., 4 cores, SRAM 128 KiB each" or "2 cores, SRAM 128 KiB + 256 KiB".
std::string DescribeHardwareUse(const hw::Hardware& hw, bool default_hardware);
// What `snnplan plan` prints: the hardware line, then plan::DescribeSummary.
std::string DescribePlan(const plan::Plan& p, bool default_hardware);
// What `snnplan cost` prints.
std::string DescribeCost(const CostReport& report);
// What `snnplan explore` prints for one --sram size, and its entry in `--json`.
std::string DescribeExploredSize(const ExploredSize& size, const ExploreFlags& f);
nlohmann::json ExploredSizeJson(const ExploredSize& size, const ExploreFlags& f);
// What `explore --json` writes: {"model", "hardware": {"name"[, "clock_hz"]}, "sizes": [...]}.
nlohmann::json ExploreJson(const ir::Workload& w, const hw::Hardware& hw,
                           const std::vector<nlohmann::json>& sizes);
nlohmann::json ExploreJson(const std::string& model_file, const std::string& hardware_name,
                           double clock_hz, const std::vector<nlohmann::json>& sizes);
// What `snnplan allocate` prints, and what `allocate --json` writes.
std::string DescribeAllocation(const AllocateResult& result, const AllocateFlags& f);
nlohmann::json AllocationJson(const AllocateResult& result);

}  // namespace snnplan::frontend
