// Exploration (with its CSV) and the allocation search.
#include <chrono>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "snnplan/frontend.h"
#include "snnplan/sweep.h"

namespace snnplan::frontend {
namespace {

explore::Ranking ParseRanking(const std::string& s) {
  if (s == "input") return explore::Ranking::kInput;
  if (s == "output") return explore::Ranking::kOutput;
  if (s == "memory") return explore::Ranking::kMemory;
  return explore::Ranking::kFeatures;
}

}  // namespace

// The schedule with the most tiles in every explored space (one timestep and
// one row band per tile) for the --max-memory estimate.
absl::Status CheckExploreMemory(const PlanFlags& f, const ir::Workload& w) {
  absl::StatusOr<plan::Schedule> finest = plan::ParseSchedule("st-lf", w.num_blocks, w.timesteps);
  if (!finest.ok()) return finest.status();
  return CheckPlanMemory(f, w, *finest, f.threads);
}

explore::ExploreOptions MakeExploreOptions(const ExploreFlags& f) {
  explore::ExploreOptions o;
  o.strategy = f.strategy == "exhaustive" ? explore::Strategy::kExhaustive
               : f.strategy == "search"   ? explore::Strategy::kSearch
                                          : explore::Strategy::kGrid;
  o.objective = f.objective == "energy"    ? explore::Objective::kEnergy
                : f.objective == "latency" ? explore::Objective::kLatency
                : f.objective == "edp"     ? explore::Objective::kEdp
                                           : explore::Objective::kDram;
  o.fuse_ranking = ParseRanking(f.fuse_from);
  o.batch_ranking = ParseRanking(f.batch_from);
  o.threads = f.plan.threads;
  o.budget = f.schedule_budget;
  return o;
}

absl::Status RunExplore(const ModelRef& model, ExploreFlags& f, const explore::Progress& progress,
                        const std::atomic<bool>* cancel,
                        const std::function<absl::Status(ExploredSize&)>& on_size,
                        std::string* csv) {
  // Its `csv` is the plain --csv; a shard's rows file is for the CLI's merge.
  if (!f.shard.empty())
    return absl::InvalidArgumentError(
        "shard: a shard's rows are for 'snnplan merge'; run 'snnplan explore --shard i/N "
        "--csv PART.csv' (docs/cluster.md)");
  return RunExplore(model, f, progress, cancel, on_size, csv, nullptr, nullptr);
}

namespace {

// The --resume rows, checked against this run: spec -> evaluation per size.
absl::StatusOr<std::vector<std::map<std::string, explore::Evaluation>>> ResumeRows(
    const ExploreFlags& f, const nlohmann::json& inputs, const Shard& shard) {
  std::vector<std::map<std::string, explore::Evaluation>> known;
  if (f.resume.empty()) return known;
  absl::StatusOr<ExploreRows> prior = ReadExploreRows(f.resume, "--resume");
  if (!prior.ok()) return prior.status();
  const std::string what = absl::StrCat("--resume ", f.resume);
  if (absl::Status s = CheckSameInputs(what, prior->inputs, inputs, "this run"); !s.ok()) return s;
  if (prior->shard.index != shard.index || prior->shard.count != shard.count)
    return absl::InvalidArgumentError(absl::StrCat(
        what, ": made by shard ", prior->shard.index, "/", prior->shard.count,
        ", this run is shard ", shard.index, "/", shard.count, " (--shard must match)"));
  for (const RowsSize& size : prior->sizes) {
    known.emplace_back();
    for (const explore::Evaluation& e : size.rows) known.back().emplace(e.spec, e);
  }
  return known;
}

nlohmann::json ExploreContext(const ExploreFlags& f, const ir::Workload& w, const hw::Hardware& hw,
                              const plan::PlanOptions& options) {
  nlohmann::json hardware = {{"name", hw.name}};
  if (hw.clock_hz > 0) hardware["clock_hz"] = hw.clock_hz;
  nlohmann::json activity;  // null without --activity
  if (options.activity)
    activity = {{"file", options.activity->file}, {"sha256", options.activity->sha256}};
  return {{"model", w.model_file},
          {"hardware", hardware},
          {"strategy", f.strategy},
          {"objective", f.objective},
          {"density", options.density},
          {"state_io", options.state_io == cost::StateIo::kDram ? "dram" : "zero"},
          {"num_blocks", w.num_blocks},
          {"expected", options.exit_profile != nullptr},
          {"activity", activity}};
}

RowsSize ToRowsSize(const ExploredSize& out) {
  RowsSize s;
  s.label = out.label;
  s.sram_bytes = out.sram_bytes;
  s.candidates = out.result.candidates;
  s.space_size = out.result.space_size;
  s.compulsory_dram_bytes = out.result.compulsory_dram_bytes;
  s.finished = !out.result.interrupted;
  s.baseline = out.result.baseline;
  s.rows = out.result.evaluations;
  return s;
}

}  // namespace

absl::Status RunExplore(const ModelRef& model, ExploreFlags& f, const explore::Progress& progress,
                        const std::atomic<bool>* cancel,
                        const std::function<absl::Status(ExploredSize&)>& on_size, std::string* csv,
                        int64_t* rows_done, int64_t* rows_total) {
  std::vector<std::string> sizes = absl::StrSplit(f.plan.sram, ',', absl::SkipEmpty());
  if (sizes.empty()) sizes.push_back("");
  absl::StatusOr<Shard> shard = ParseShard(f.shard);
  if (!shard.ok()) return shard.status();
  // The hardware as described (its precisions are the import's, flags
  // override); each --sram size below resizes it again.
  absl::StatusOr<hw::Hardware> described =
      LoadHardware(f.plan.hardware, "", f.plan.hardware_object.get());
  if (!described.ok()) return described.status();
  absl::StatusOr<ir::Workload> w = LoadWorkloadFor(model, &f.plan.import, &*described);
  if (!w.ok()) return w.status();
  if (absl::Status s = CheckExploreMemory(f.plan, *w); !s.ok()) return s;
  absl::StatusOr<plan::PlanOptions> options = MakePlanOptions(f.plan, *w);
  if (!options.ok()) return options.status();
  options->threads = 1;  // parallel over schedules instead
  options->objective = f.objective == "latency" ? cost::Objective::kLatency
                       : f.objective == "edp"   ? cost::Objective::kEdp
                                                : cost::Objective::kEnergy;
  ExploreRows rows;
  rows.inputs = ExploreInputs(f, *w, *described);
  rows.context = ExploreContext(f, *w, *described, *options);
  rows.shard = *shard;
  auto known = ResumeRows(f, rows.inputs, *shard);
  if (!known.ok()) return known.status();
  const cost::ActivityFile* activity = options->activity.get();
  const bool expected = options->exit_profile != nullptr;
  *csv = explore::CsvHeader(activity, expected);
  for (size_t k = 0; k < sizes.size(); ++k) {
    const std::string& size = sizes[k];
    absl::StatusOr<hw::Hardware> hw =
        LoadHardware(f.plan.hardware, size, f.plan.hardware_object.get());
    if (!hw.ok()) return hw.status();
    hw->precision = described->precision;  // the precisions the import used
    ExploredSize out;
    out.clock_hz = hw->clock_hz;
    absl::StatusOr<plan::CoreAllocation> allocation = LoadAllocation(f.plan, *w, *hw);
    if (!allocation.ok()) return allocation.status();
    // The buffer of the --core the plans use (an unknown core fails in Explore).
    const int core = std::max(0, hw->CoreIndex(options->core));
    out.sram_bytes = hw->cores[core].global_buffer().size_bits / 8;
    out.label = size.empty() ? absl::StrCat(out.sram_bytes, "B") : size;
    out.planner = std::make_unique<plan::Planner>(*w, *std::move(hw), *options);
    explore::ExploreOptions eo = MakeExploreOptions(f);
    eo.allocation = *std::move(allocation);
    eo.cancel = cancel;
    eo.shard_index = shard->index;
    eo.shard_count = shard->count;
    if (k < known->size()) eo.known = &(*known)[k];
    auto r = explore::Explore(*out.planner, eo, progress);
    if (!r.ok()) return r.status();
    out.result = *std::move(r);
    out.allocation = eo.allocation;
    rows.sizes.push_back(ToRowsSize(out));
    // Every size has the same candidates (the same workload).
    rows.total = ShardShare(out.result.candidates, *shard) * static_cast<int64_t>(sizes.size());
    if (out.result.interrupted) {
      rows.partial = true;
      *csv = ExploreRowsText(rows);
      int64_t done = 0;
      for (const RowsSize& s : rows.sizes) done += static_cast<int64_t>(s.rows.size());
      if (rows_done) *rows_done = done;
      if (rows_total) *rows_total = rows.total;
      return absl::CancelledError("exploration interrupted");
    }
    for (const explore::Evaluation& e : out.result.evaluations)
      *csv += explore::CsvRow(e, out.sram_bytes, options->density, options->state_io, activity,
                              expected);
    if (on_size)
      if (absl::Status s = on_size(out); !s.ok()) return s;
  }
  if (shard->count > 1) *csv = ExploreRowsText(rows);
  return absl::OkStatus();
}

absl::StatusOr<AllocateResult> RunAllocate(const ModelRef& model, AllocateFlags& f,
                                           const explore::GaProgress& progress) {
  absl::StatusOr<PlanInputs> in = LoadPlanInputs(model, f.plan);
  if (!in.ok()) return in.status();
  if (absl::Status s = CheckPlanMemory(f.plan, in->workload, in->schedule, f.plan.threads); !s.ok())
    return s;
  in->options.threads = 1;  // parallel over allocations instead (-j)
  f.ga.threads = f.plan.threads;
  if (!f.shard.empty())
    return absl::InvalidArgumentError(
        "--shard: allocate's NSGA-II breeds each generation from the last one's results, so "
        "its work cannot be split into independent shards; split a sweep by job instead "
        "(e.g. hardware or --seed in a study, docs/cluster.md)");
  AllocateResult r;
  r.inputs = AllocateInputs(f, in->workload, in->hardware);
  std::map<explore::Genome, explore::AllocationObjectives> known;
  if (!f.resume.empty()) {
    auto prior = ReadAllocateRows(f.resume, r.inputs);
    if (!prior.ok()) return prior.status();
    known = *std::move(prior);
  }
  r.schedule = in->schedule;
  r.planner = std::make_unique<plan::Planner>(std::move(in->workload), std::move(in->hardware),
                                              in->options);
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<explore::AllocationSearch> search =
      explore::SearchAllocation(*r.planner, r.schedule, f.ga, progress, &known);
  if (!search.ok()) return search.status();
  r.search = *std::move(search);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

std::string AllocateCsv(const AllocateResult& r) {
  const ir::Workload& w = r.planner->workload();
  const hw::Hardware& hw = r.planner->hardware();
  auto format = [&](const explore::Genome& g) {
    const plan::CoreAllocation a = explore::ToAllocation(g, hw);
    std::vector<std::string> pairs;
    for (size_t l = 0; l < w.layers.size(); ++l)
      pairs.push_back(absl::StrCat(w.layers[l].name, "=", a.layer_core[l]));
    return absl::StrJoin(pairs, ";");
  };
  return explore::ParetoCsv(r.search.ga, format, r.planner->options().activity.get());
}

absl::StatusOr<plan::CoreAllocation> BestAllocation(const AllocateResult& r) {
  if (r.search.ga.min_energy < 0)
    return absl::FailedPreconditionError(
        "no feasible allocation: nothing to write for --best-manifest / --best-allocation");
  return explore::ToAllocation(r.search.ga.evaluated[r.search.ga.min_energy].genome,
                               r.planner->hardware());
}

std::string AllocationFileText(const plan::CoreAllocation& a, const ir::Workload& w) {
  const nlohmann::json doc = {{"allocation", plan::AllocationToJson(a, w, 0)}};
  return doc.dump(2) + "\n";
}

}  // namespace snnplan::frontend
