#include "plan_flags.h"

#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace snnplan::cli {
namespace {

// Memory of a plan per tile (its tile, allocations, transfers and records),
// measured on SEW-7 st-lf with 74k and 295k tiles: 1.6 KB; rounded up.
constexpr int64_t kPlanBytesPerTile = 1700;
// The process without plans: libraries, the model, the tile-cost cache.
constexpr int64_t kBaseBytes = int64_t{64} << 20;

int64_t PhysicalMemoryBytes() {
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGE_SIZE);
  return pages > 0 && page > 0 ? static_cast<int64_t>(pages) * page : int64_t{8} << 30;
}

std::string GiB(double bytes) { return absl::StrFormat("%.3g GiB", bytes / (1 << 30)); }

int64_t SaturatingAdd(int64_t a, int64_t b) {
  int64_t r = 0;
  return __builtin_add_overflow(a, b, &r) ? INT64_MAX : r;
}

}  // namespace

absl::Status CheckPlanMemory(const PlanFlags& f, const ir::Workload& w,
                             const plan::Schedule& schedule, int plans_at_once) {
  int64_t limit = PhysicalMemoryBytes() / 2;
  if (!f.max_memory.empty()) {
    absl::StatusOr<int64_t> bytes = hw::ParseSizeBytes(f.max_memory);
    if (!bytes.ok())
      return absl::InvalidArgumentError(absl::StrCat("--max-memory ", bytes.status().message()));
    limit = *bytes;
  }
  int64_t tiles = 0;
  for (int64_t n : plan::TilesPerLayer(w, schedule)) tiles = SaturatingAdd(tiles, n);
  // In double: tiles may be up to INT64_MAX before the planner's own limit.
  const double estimate = static_cast<double>(tiles) *
                              static_cast<double>(std::max<int64_t>(1, w.batch)) *
                              kPlanBytesPerTile * std::max(1, plans_at_once) +
                          kBaseBytes;
  if (estimate <= static_cast<double>(limit)) return absl::OkStatus();
  return absl::ResourceExhaustedError(absl::StrFormat(
      "--max-memory: planning %s needs an estimated %s (%.6g tiles x %d bytes x %d plan(s) at "
      "once), "
      "more than the limit of %s%s; use larger tiles (tb, lbl, lfR), fewer threads (-j) or "
      "raise --max-memory",
      plan::FormatSchedule(schedule), GiB(estimate),
      static_cast<double>(tiles) * static_cast<double>(std::max<int64_t>(1, w.batch)),
      kPlanBytesPerTile, std::max(1, plans_at_once), GiB(static_cast<double>(limit)),
      f.max_memory.empty() ? " (half of this machine's RAM)" : ""));
}

absl::StatusOr<plan::Schedule> LoadSchedule(const PlanFlags& f, const ir::Workload& w) {
  if (f.schedule_file.empty()) return plan::ParseSchedule(f.schedule, w.num_blocks, w.timesteps);
  absl::StatusOr<nlohmann::json> doc = ReadJsonFile(f.schedule_file, "--schedule-file");
  if (!doc.ok()) return doc.status();
  absl::StatusOr<plan::Schedule> s = plan::ParseScheduleJson(*doc, w.num_blocks, w.timesteps);
  if (!s.ok())
    return absl::InvalidArgumentError(absl::StrCat(f.schedule_file, ": ", s.status().message()));
  return s;
}

absl::StatusOr<PlanInputs> LoadPlanInputs(const std::string& model, PlanFlags& f) {
  absl::StatusOr<ir::Workload> w = LoadWorkload(model, &f.import);
  if (!w.ok()) return w.status();
  absl::StatusOr<hw::Hardware> hw = LoadHardware(f.hardware, f.sram);
  if (!hw.ok()) return hw.status();
  absl::StatusOr<plan::Schedule> schedule = LoadSchedule(f, *w);
  if (!schedule.ok()) return schedule.status();
  absl::StatusOr<plan::PlanOptions> options = MakePlanOptions(f);
  if (!options.ok()) return options.status();
  return PlanInputs{*std::move(w), *std::move(hw), *std::move(schedule), *options};
}

void AddAllocationOption(CLI::App* cmd, PlanFlags* f) {
  cmd->add_option("--allocation", f->allocation,
                  "JSON layer name -> core id (multi-core hardware; default: all on --core)");
}

absl::StatusOr<plan::CoreAllocation> LoadAllocation(const PlanFlags& f, const ir::Workload& w,
                                                    const hw::Hardware& hw) {
  if (f.allocation.empty()) return plan::CoreAllocation{};
  absl::StatusOr<nlohmann::json> doc = ReadJsonFile(f.allocation, "--allocation");
  if (!doc.ok()) return doc.status();
  absl::StatusOr<plan::CoreAllocation> a = plan::ParseAllocationJson(*doc, w, hw);
  if (!a.ok())
    return absl::InvalidArgumentError(absl::StrCat(f.allocation, ": ", a.status().message()));
  return a;
}

absl::StatusOr<plan::PlanOptions> MakePlanOptions(const PlanFlags& f) {
  plan::PlanOptions o;
  o.state_io = f.state_io == "dram" ? cost::StateIo::kDram : cost::StateIo::kZero;
  o.eviction = f.eviction == "belady" ? plan::Eviction::kBelady : plan::Eviction::kStems;
  o.objective = f.objective == "latency" ? cost::Objective::kLatency
                : f.objective == "edp"   ? cost::Objective::kEdp
                                         : cost::Objective::kEnergy;
  o.density = f.density;
  o.mapping_budget = f.budget;
  o.threads = f.threads;
  o.core = f.core;
  if (!f.density_file.empty()) {
    auto d = ReadLayerNumbers(f.density_file, "--density-file");
    if (!d.ok()) return d.status();
    for (const auto& [layer, density] : *d)
      if (!(density >= 0 && density <= 1))
        return absl::InvalidArgumentError(absl::StrCat("--density-file ", f.density_file, ": ",
                                                       layer, ": density must be in [0, 1]"));
    o.layer_density = *d;
  }
  return o;
}

void AddPlanOptions(CLI::App* cmd, PlanFlags* f, bool schedule, bool mapping_objective) {
  cmd->add_option("--hw", f->hardware, "Hardware preset or JSON file")->capture_default_str();
  cmd->add_option("--sram", f->sram, "Global buffer size of every core (e.g. 128KiB, 1MiB)");
  cmd->add_option("--core", f->core, "Core id every layer runs on (multi-core hardware)")
      ->check(CLI::Range(0, 1 << 16))
      ->capture_default_str();
  if (schedule) {
    auto* spec = cmd->add_option("--schedule", f->schedule,
                                 "Per-block schedule, e.g. tb-lf,tb-lf,tb-lbl (or one for all)")
                     ->capture_default_str();
    cmd->add_option("--schedule-file", f->schedule_file,
                    "JSON schedule file (spec + per-layer tile overrides)")
        ->excludes(spec);
  }
  cmd->add_option("--eviction", f->eviction, "Eviction policy")
      ->check(CLI::IsMember({"stems", "belady"}))
      ->capture_default_str();
  cmd->add_option("--state-io", f->state_io,
                  "zero: states start at 0 on chip and are discarded; dram: loaded and stored "
                  "(STEMS)")
      ->check(CLI::IsMember({"zero", "dram"}))
      ->capture_default_str();
  if (mapping_objective)
    cmd->add_option("--objective", f->objective, "Intra-tile mapping objective")
        ->check(CLI::IsMember({"energy", "latency", "edp"}))
        ->capture_default_str();
  cmd->add_option("--density", f->density, "Spike activity density (scales SOPs)")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  cmd->add_option("--density-file", f->density_file, "JSON object: layer name -> density");
  cmd->add_option("--mapping-budget", f->budget, "Most mappings evaluated per tile (0 = no limit)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("-j,--threads", f->threads, "Threads for tile pricing")
      ->check(CLI::Range(1, 256));
  cmd->add_option("--max-memory", f->max_memory,
                  absl::StrCat("Refuse plans whose estimated memory (about 1.7 KB per tile and "
                               "plan in flight) exceeds SIZE (e.g. 8GiB; default: half the "
                               "physical RAM, ",
                               GiB(static_cast<double>(PhysicalMemoryBytes() / 2)), " here)"));
  AddImportOptions(cmd, &f->import);
}

}  // namespace snnplan::cli
