// Inter-layer planner: cuts layers into computation tiles by a per-block
// spatial-temporal schedule, orders them, manages the global buffer as a
// scratchpad and the DRAM link, and emits a deployable schedule manifest.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "snnplan/activity.h"
#include "snnplan/costmodel.h"
#include "snnplan/hwdesc.h"
#include "snnplan/ir.h"

namespace snnplan::plan {

// One block's choice in time and space.
struct BlockSchedule {
  // Timesteps per tile: 1 = st, 0 = tb (all T), N = tbN.
  int64_t timesteps_per_tile = 1;
  // false = lbl (a layer's whole output per tile), true = lf (row bands).
  bool fused = false;
  // lfR: output rows of the block's last layer per tile.
  int64_t rows_per_tile = 1;
  friend bool operator==(const BlockSchedule&, const BlockSchedule&) = default;
};

struct Schedule {
  std::vector<BlockSchedule> blocks;  // one per block
  // Per-layer overrides (from --schedule-file): layer name -> rows per tile
  // of that layer (0 = whole layer), replacing the block-derived band height.
  std::map<std::string, int64_t> layer_rows_per_tile;
};

// Parses "tb-lf,tb-lf,st-lbl" (one entry per block, or one for all blocks);
// entries are st|tb|tbN and lbl|lf|lfR. `timesteps` checks that N divides T.
absl::StatusOr<Schedule> ParseSchedule(const std::string& spec, int num_blocks, int64_t timesteps);
// Parses a schedule file: {"schedule": "<spec>" or [..entries..],
// "layer_rows_per_tile": {"layer": R, ...}}.
absl::StatusOr<Schedule> ParseScheduleJson(const nlohmann::json& doc, int num_blocks,
                                           int64_t timesteps);
std::string FormatBlock(const BlockSchedule& block);
std::string FormatSchedule(const Schedule& schedule);

// Bytes that `bits` of data occupy in a memory with this access granularity:
// whole granules, each at least one byte. Allocations and transfers use it.
int64_t GranuleBytes(int64_t bits, int64_t granularity_bits);

// Tiles per layer (per sample) that `schedule` cuts the workload into; the
// same band heights and time batches the planner uses. A block's counts
// depend only on that block's entry. Needs one schedule entry per block and
// layers whose blocks are in range (as BuildTileGraph checks).
std::vector<int64_t> TilesPerLayer(const ir::Workload& w, const Schedule& schedule);

// Which core runs each layer's tiles (multi-core hardware).
struct CoreAllocation {
  // Hardware core id per layer (index = layer id); empty = every layer on
  // PlanOptions::core.
  std::vector<int> layer_core;
  friend bool operator==(const CoreAllocation&, const CoreAllocation&) = default;
};

// Parses an allocation file: {"layer name": core id, ...}, optionally under
// a top-level "allocation" key (as a manifest carries it). Every layer must
// be listed, with a core id of `hardware`.
absl::StatusOr<CoreAllocation> ParseAllocationJson(const nlohmann::json& doc, const ir::Workload& w,
                                                   const hw::Hardware& hardware);
// {"layer name": core id} for every layer (the default allocation resolved).
nlohmann::json AllocationToJson(const CoreAllocation& allocation, const ir::Workload& w,
                                int default_core);

// ---- early exit (DT-SNN; docs/early-exit.md)

// How often inference stops early: the probability that one sample exits
// after 1..T timesteps, as `snnplan run --exit-profile` measures it.
struct ExitProfile {
  std::string file;                 // file name it was read from
  std::string model;                // model it was measured on ("" = not stated)
  std::string model_sha256;         // ("" = not stated)
  std::string policy;               // e.g. "entropy:0.3" ("" = not stated)
  std::string output;               // graph output the policy read ("" = every network output)
  std::vector<double> probability;  // [t - 1]: exits after t steps; sums to 1
  // Layers whose step-t output the exit check waits for: the output's layer,
  // or for a layer run once after the time loop (after a mean over time) the
  // per-step layers feeding it.
  std::vector<int> exit_layers;
};
inline constexpr char kExitProfileFormat[] = "snnplan-exit-profile";
inline constexpr int64_t kExitProfileVersion = 1;
// Parses and checks an exit profile against `w` (its timesteps, the output
// it names); errors start with `source` and name the JSON path.
absl::StatusOr<ExitProfile> ParseExitProfile(std::string_view text, const std::string& source,
                                             const ir::Workload& w);
absl::StatusOr<ExitProfile> ReadExitProfileFile(const std::string& path, const ir::Workload& w);

enum class Eviction {
  kStems,   // ascending remaining uses / bytes, ties: deeper layer, lower id
  kBelady,  // the piece used furthest in the future first
};

// One field per knob, mapped 1:1 to `snnplan plan` flags.
struct PlanOptions {
  cost::StateIo state_io = cost::StateIo::kZero;         // --state-io
  Eviction eviction = Eviction::kStems;                  // --eviction
  cost::Objective objective = cost::Objective::kEnergy;  // --objective (per tile)
  double density = 1.0;                                  // --density (spike activity)
  std::map<std::string, double> layer_density;           // --density-file overrides
  // --activity: measured activity (cost::ReadActivityFile), priced where the
  // hardware declares it exploits it; null = none. Run refuses it together
  // with a density other than 1 or layer_density.
  std::shared_ptr<const cost::ActivityFile> activity;
  int64_t mapping_budget = 0;                            // --budget per tile search
  int threads = 1;                                       // -j: tile pricing threads
  int core = 0;  // --core: core id of every layer when Run gets no allocation
  // --exit-profile: also price the plan's expected cost under early exit
  // (Summary::expected); null = static T only.
  std::shared_ptr<const ExitProfile> exit_profile;
  // The front end's options that shaped the plan (flag name -> value, file
  // names without directories), written as the manifest's
  // provenance.options; null = not stated (library callers). Never holds
  // thread counts, absolute paths or times, so manifests stay byte-identical.
  nlohmann::json provenance;
};

// DRAM traffic in bytes, split by operand (W, I, O, S) and direction.
struct DramBytes {
  std::array<int64_t, 4> read = {};
  std::array<int64_t, 4> write = {};
  int64_t total() const;
  int64_t total_read() const;
  int64_t total_write() const;
};

// What an inference that exits after `timesteps` steps spends: every tile
// and transfer that started before the exit check could run.
struct ExitStep {
  int64_t timesteps = 0;
  double probability = 0;  // that the batch exits here (when its last sample does)
  // When every exit layer's output of step `timesteps` exists: the check runs
  // then. After T steps: the end of the whole plan.
  int64_t check_cycle = 0;
  int64_t check_after_tile = -1;  // execution-order index of the tile ending at check_cycle
  // Time to the exit decision: check_cycle, or after T steps the whole plan's
  // latency (its last transfer included).
  int64_t latency_cycles = 0;
  cost::EnergyBreakdown energy;
  DramBytes dram;
  int64_t tiles = 0;      // tiles started before check_cycle
  int64_t transfers = 0;  // DRAM/NoC transfers started before check_cycle
};

// The expectation of a plan's cost over an exit profile.
struct ExpectedCost {
  std::vector<ExitStep> steps;  // t = 1..T
  double mean_timesteps = 0;    // expected steps a batch runs
  cost::EnergyBreakdown energy;
  double dram_read_bytes = 0;
  double dram_write_bytes = 0;
  double latency_cycles = 0;  // expected time to the exit decision
  double edp_pj_cycles = 0;   // E[energy x latency] per inference
  double dram_bytes() const { return dram_read_bytes + dram_write_bytes; }
};

struct Summary {
  cost::EnergyBreakdown energy;                            // whole inference
  std::array<cost::EnergyBreakdown, 4> energy_by_operand;  // memory energy per W,I,O,S
  DramBytes dram;
  std::map<std::string, int64_t> dram_bytes_by_cause;
  std::vector<int64_t> dram_bytes_by_block;
  int64_t latency_cycles = 0;
  int64_t compute_cycles = 0;   // sum of tile latencies (all cores)
  int64_t stall_cycles = 0;     // latency not covered by the busiest core's compute
  int64_t peak_sram_bytes = 0;  // the largest of the cores' peaks
  int64_t noc_bytes = 0;        // bytes moved between cores
  int64_t noc_transfers = 0;
  struct CoreUse {
    int core = 0;  // hardware core id
    int64_t tiles = 0;
    int64_t busy_cycles = 0;  // sum of its tile durations
    int64_t peak_sram_bytes = 0;
  };
  std::vector<CoreUse> cores;              // one per hardware core, in hardware order
  std::vector<int64_t> layer_busy_cycles;  // per layer: sum of its tile durations
  int64_t tiles = 0;
  int64_t unique_tiles = 0;
  int64_t allocations = 0;
  int64_t transfers = 0;
  // With PlanOptions::exit_profile: the expected cost under early exit.
  std::optional<ExpectedCost> expected;
  // Cores with crossbars (hw::Core::imc): the weights of their conv/linear
  // layers are programmed into the arrays once per deployment and stay
  // there. That one-time cost is reported here and is NOT part of energy,
  // dram or latency above, which are per inference (docs/hardware.md).
  struct CrossbarUse {
    int core = 0;                  // hardware core id
    int64_t arrays = 0;            // of the core
    int64_t arrays_used = 0;       // by the layers on it
    int64_t layers = 0;            // conv/linear layers on it
    int64_t cells = 0;             // cells programmed
    int64_t weight_bytes = 0;      // read from DRAM once to program them
    double program_energy_pj = 0;  // cells x write energy + that DRAM read
    int64_t program_cycles = 0;    // that DRAM read over the DRAM link
  };
  std::vector<CrossbarUse> crossbars;  // one per core with crossbars
  // Several networks in one deployment (ir::Workload::networks): each one's
  // share of the records above, in network order. Tiles count for their
  // layer's network, transfers for their piece's layer's (streams: their
  // tile's); the shared network input's loads and NoC copies count for
  // `shared_input`. So the networks' energy, DRAM and NoC bytes plus
  // shared_input's are the totals above (energy up to float rounding).
  struct NetworkUse {
    cost::EnergyBreakdown energy;
    DramBytes dram;
    int64_t noc_bytes = 0;
    int64_t tiles = 0;
    int64_t busy_cycles = 0;  // sum of its tile durations
    int64_t start_cycle = 0;  // when its first tile starts
    int64_t end_cycle = 0;    // when its last tile or transfer ends (its outputs are done)
  };
  std::vector<NetworkUse> networks;  // empty for one model
  NetworkUse shared_input;
};

// A planned inference, with everything a manifest lists.
struct Plan;

class Planner {
 public:
  Planner(ir::Workload workload, hw::Hardware hardware, PlanOptions options);
  ~Planner();
  Planner(const Planner&) = delete;
  Planner& operator=(const Planner&) = delete;

  // Plans one schedule; tile prices are cached across calls. Thread-safe.
  absl::StatusOr<std::shared_ptr<const Plan>> Run(const Schedule& schedule,
                                                  const CoreAllocation& allocation = {});

  // Per layer, the index into hardware().cores it runs on under `allocation`
  // (empty: every layer on options().core); InvalidArgument, naming the layer
  // or count, when the allocation does not fit the model and hardware.
  absl::StatusOr<std::vector<int>> LayerCores(const CoreAllocation& allocation = {}) const;

  const ir::Workload& workload() const;
  const hw::Hardware& hardware() const;
  const PlanOptions& options() const;
  // Per layer, the densities tiles and transfers are priced with (dense
  // without options().activity).
  const cost::LayerDensities& densities() const;
  cost::CostModel& cost_model();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

const Summary& GetSummary(const Plan& plan);
// The hardware the plan was made for (after --sram).
const hw::Hardware& GetHardware(const Plan& plan);
nlohmann::json SummaryToJson(const Plan& plan);
std::string DescribeSummary(const Plan& plan);
// Streams the manifest (docs/manifest.md) to `out`, keys sorted.
void WriteManifest(const Plan& plan, std::ostream& out);
// Chrome / Perfetto trace-event JSON of a manifest document.
absl::StatusOr<nlohmann::json> ManifestToTrace(const nlohmann::json& manifest);

inline constexpr int kManifestSchemaVersion = 4;

}  // namespace snnplan::plan
