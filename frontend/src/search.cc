// Exploration (with its CSV) and the allocation search.
#include <chrono>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "snnplan/frontend.h"

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
  std::vector<std::string> sizes = absl::StrSplit(f.plan.sram, ',', absl::SkipEmpty());
  if (sizes.empty()) sizes.push_back("");
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
  const cost::ActivityFile* activity = options->activity.get();
  const bool expected = options->exit_profile != nullptr;
  *csv = explore::CsvHeader(activity, expected);
  for (const std::string& size : sizes) {
    absl::StatusOr<hw::Hardware> hw =
        LoadHardware(f.plan.hardware, size, f.plan.hardware_object.get());
    if (!hw.ok()) return hw.status();
    hw->precision = described->precision;  // the precisions the import used
    ExploredSize out;
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
    auto r = explore::Explore(*out.planner, eo, progress);
    if (!r.ok()) return r.status();
    out.result = *std::move(r);
    out.allocation = eo.allocation;
    for (const explore::Evaluation& e : out.result.evaluations)
      *csv += explore::CsvRow(e, out.sram_bytes, options->density, options->state_io, activity,
                              expected);
    if (on_size)
      if (absl::Status s = on_size(out); !s.ok()) return s;
  }
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
  AllocateResult r;
  r.schedule = in->schedule;
  r.planner = std::make_unique<plan::Planner>(std::move(in->workload), std::move(in->hardware),
                                              in->options);
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<explore::AllocationSearch> search =
      explore::SearchAllocation(*r.planner, r.schedule, f.ga, progress);
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
