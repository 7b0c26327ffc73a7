// Hybrid schedule exploration over per-block spatial-temporal choices, and
// the neuron-state removal study, on top of the planner.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "snnplan/planner.h"
#include "snnplan/units.h"

namespace snnplan::explore {

enum class Strategy {
  kGrid,        // the paper's (N+1)^2 prefix grid over two block rankings
  kExhaustive,  // every {st, tb} x {lbl, lf} per block: 4^N
  kSearch,      // {st, tb2, tb4, .., tb} x {lbl, lf} per block, branch and bound
};
enum class Objective { kDram, kEnergy, kLatency, kEdp };
// Orders in which blocks receive layer fusion / time batching in the grid.
enum class Ranking {
  kFeatures,  // largest features (output bits per timestep) first
  kMemory,    // largest weights + neuron states first
  kInput,     // from the input side
  kOutput,    // from the output side
};

struct Evaluation;

// One field per knob, mapped 1:1 to `snnplan explore` flags.
struct ExploreOptions {
  Strategy strategy = Strategy::kGrid;        // --strategy
  Objective objective = Objective::kDram;     // --objective
  Ranking fuse_ranking = Ranking::kFeatures;  // --fuse-from
  Ranking batch_ranking = Ranking::kMemory;   // --batch-from
  int threads = 1;                            // -j
  int64_t budget = 0;                         // --budget: most schedules (0 = all)
  // --allocation: layer -> core for every schedule (empty: every layer on
  // PlanOptions::core); the bounds use each layer's own core.
  plan::CoreAllocation allocation;
  // When set and true, no further schedule is started; the schedules in
  // flight finish and Explore returns the finished ones with `interrupted`
  // set (front ends set it on Ctrl-C).
  const std::atomic<bool>* cancel = nullptr;
  // --shard i/N: grid and exhaustive evaluate only the candidates whose
  // index (in enumeration order, after --budget) is i modulo N; N = 1 is all.
  // Search refuses N > 1 (each round depends on the last one's results).
  int shard_index = 0;
  int shard_count = 1;
  // --resume: evaluations finished by an earlier run of the same inputs, by
  // spec; such a schedule is not planned again (see Evaluation::restored).
  const std::map<std::string, Evaluation>* known = nullptr;
};

struct Evaluation {
  plan::Schedule schedule;
  std::string spec;
  bool feasible = false;
  std::string error;  // why infeasible
  plan::Summary summary;
  int fused_blocks = -1;  // grid coordinates (f, b), -1 elsewhere
  int batched_blocks = -1;
  double objective = 0;  // value of the chosen objective
  // Index in the strategy's candidate list (grid, exhaustive: enumeration
  // order; search: evaluation order); -1 for the baseline.
  int64_t candidate = -1;
  // Taken from ExploreOptions::known: the summary holds only what a rows
  // file records (the CSV's figures, exactly); Explore plans the best again.
  bool restored = false;
};

struct ExploreResult {
  std::vector<Evaluation> evaluations;  // in enumeration order
  int best = -1;                        // index into evaluations
  Evaluation baseline;                  // st-lbl everywhere
  int64_t compulsory_dram_bytes = 0;    // lower bound on DRAM traffic
  int num_blocks = 0;
  double space_size = 0;  // schedules in the strategy's space
  // Search: true when every schedule of the space was evaluated or has a
  // lower bound >= the best found; `lower_bound` is then the best objective,
  // otherwise the smallest bound left unexplored when the budget ran out.
  bool proven_optimal = false;
  double lower_bound = 0;  // in the objective's units
  // Grid and exhaustive: candidates in the (budgeted) list of every shard
  // (0 for search: not known in advance).
  int64_t candidates = 0;
  // ExploreOptions::cancel stopped it: `evaluations` are the finished ones
  // (in candidate order for grid and exhaustive), no baseline, no best.
  bool interrupted = false;
};

// Block order for a ranking (most deserving block first).
std::vector<int> RankBlocks(const ir::Workload& w, Ranking ranking);
// The (N+1)^2 grid: fuse the first f blocks of `fuse`, time-batch the first
// b blocks of `batch`, f, b in 0..N (f-major order).
std::vector<std::pair<plan::Schedule, std::pair<int, int>>> GridSchedules(const ir::Workload& w,
                                                                          Ranking fuse,
                                                                          Ranking batch);
// Every per-block combination of {st, tb} x {lbl, lf}.
std::vector<plan::Schedule> ExhaustiveSchedules(int num_blocks);

// The search's per-block choices: {st, tbN for powers of two N dividing T,
// tb} x {lbl, lf}.
std::vector<plan::BlockSchedule> SearchChoices(int64_t timesteps);

// A lower bound on DRAM bytes that holds for any schedule's simulation:
// the compulsory traffic plus, for every tile after a layer's first, the
// part of its weights that cannot be on chip already (weights bytes minus
// the global buffer's capacity). Separable over blocks.
struct DramLowerBound {
  int64_t compulsory_read_bytes = 0;
  int64_t compulsory_write_bytes = 0;
  // Per block, per SearchChoices entry: forced weight reload bytes.
  std::vector<std::vector<int64_t>> reload_bytes;
};
// In the bounds below, `layer_core` gives each layer's core (an index into
// hw.cores, as Planner::LayerCores returns it): its global buffer, word size
// and PE array are the ones that layer's tiles meet.
// `densities` (Planner::densities(); null = dense): on hardware with a spike
// encoding the network input and outputs count at their encoded size.
DramLowerBound BuildDramLowerBound(const ir::Workload& w, const hw::Hardware& hw,
                                   const std::vector<int>& layer_core, cost::StateIo state_io,
                                   const std::vector<plan::BlockSchedule>& choices,
                                   const cost::LayerDensities* densities = nullptr);
// Forced weight reload bytes of one schedule (any per-block entries).
int64_t WeightReloadBytes(const ir::Workload& w, const hw::Hardware& hw,
                          const std::vector<int>& layer_core, const plan::Schedule& s);
// Lower bound on the objective for a schedule with `reload_bytes` forced
// reloads. `compute_pj` is the schedule-independent compute energy (0 when
// unknown, which keeps the bound valid). Latency: each core runs its layers'
// tiles one after another, and one DRAM link carries every transfer.
double ObjectiveLowerBound(const DramLowerBound& b, int64_t reload_bytes, double compute_pj,
                           const ir::Workload& w, const hw::Hardware& hw,
                           const std::vector<int>& layer_core, Objective objective);

// Weights once + network input once + network output once (+ 2 x states
// under --state-io dram), word-rounded as the planner rounds; with
// `densities` on hardware with a spike encoding, input and outputs at their
// encoded size (rounded down: the planner rounds each piece up).
int64_t CompulsoryDramBytes(const ir::Workload& w, const hw::Hardware& hw,
                            const std::vector<int>& layer_core, cost::StateIo state_io,
                            const cost::LayerDensities* densities = nullptr);

// The objective of a plan: its expected value under early exit when the
// plan was priced with an exit profile (Summary::expected), else static T.
double ObjectiveValue(const plan::Summary& s, Objective objective);
// The objective at static T (the expected cost ignored).
double StaticObjectiveValue(const plan::Summary& s, Objective objective);

// The reducer: the feasible evaluation with the smallest objective (first
// on ties), or -1.
int BestEvaluation(const std::vector<Evaluation>& evaluations);

using Progress = std::function<void(size_t done, size_t total)>;
// Evaluates the strategy's schedules (deterministic whatever the threads).
absl::StatusOr<ExploreResult> Explore(plan::Planner& planner, const ExploreOptions& options,
                                      const Progress& progress = nullptr);

// With `activity` (--activity), header and rows end in two more columns:
// activity_file, activity_sha256 (the per-layer densities are in manifests
// and summaries); without, they are exactly as before.
// With `expected` (--exit-profile), four more columns follow:
// expected_energy_pj, expected_dram_bytes, expected_latency_cycles,
// expected_timesteps (empty for infeasible schedules).
std::string CsvHeader(const cost::ActivityFile* activity = nullptr, bool expected = false);
// With `exact` (rows files: --shard, an interrupted run), numbers have 17
// significant digits, so they read back as the same doubles.
std::string CsvRow(const Evaluation& e, int64_t sram_bytes, double density, cost::StateIo state_io,
                   const cost::ActivityFile* activity = nullptr, bool expected = false,
                   bool exact = false);
// The best feasible evaluation by the static-T objective (-1: none): with an
// exit profile, what `best` would be without early exit.
int BestStatic(const ExploreResult& result, Objective objective);
// ",<file>,<sha256>" (the file name quoted when it needs it), or "" without activity.
std::string CsvActivityColumns(const cost::ActivityFile* activity);
// What a figure's title names, and the clock its latency reads in.
struct FigureContext {
  std::string model;       // the model file's name
  std::string hardware;    // the hardware's name
  int64_t sram_bytes = 0;  // the global buffer explored
  double clock_hz = 0;     // 0 = unknown: latency in cycles
};
// "small.onnx on meta-prototype, SRAM 2 KiB".
std::string FigureTitle(const FigureContext& context);
// "DRAM traffic", "energy", "latency", "energy-delay product".
std::string ObjectiveName(Objective objective);
// The one unit a figure shows an objective's values in, auto-scaled by
// units.h from the largest value: bytes (KiB, MiB ...), energy (µJ, mJ ...),
// latency in cycles (k, M ...) or, with a clock, time (µs, ms ...), EDP as an
// energy unit times a latency unit ("mJ·M cycles"), the latency unit scaled
// from `largest_cycles`.
struct ObjectiveScale {
  units::Unit unit;
  double raw_to_axis = 1;  // objective unit (bytes, pJ, cycles, pJ x cycles) -> unit's base
  double ToAxis(double raw) const { return raw * raw_to_axis / unit.per_unit; }
};
ObjectiveScale MakeObjectiveScale(Objective objective, double largest, double largest_cycles,
                                  double clock_hz);
// Figure 8-like heatmap: blocks time-batched (x) x blocks fused (y), colour =
// the objective that picks the best (its expected value under early exit
// when the plans carry one), a colour bar in auto-scaled units, the best
// (lowest) cell boxed, cells that could not be planned hatched, a title
// naming model, hardware, SRAM and objective. Grid results only. Fails when
// `result` was ranked by another objective (its best would not be the box).
absl::StatusOr<std::string> HeatmapSvg(const ExploreResult& result, Objective objective,
                                       const FigureContext& context);
// Figure 9/11-like stacked bars of baseline vs best, by component and operand.
std::string BreakdownSvg(const ExploreResult& result, const std::string& title);

// The state-removal study: variant k makes blocks 0..k-1 stateless.
struct AblationRow {
  int stateless_blocks = 0;
  int64_t neuron_states = 0;
  int64_t state_bits = 0;
  Evaluation best;
  Evaluation baseline;
};

}  // namespace snnplan::explore
