// Intra-layer cost model: prices one computation tile (a layer restricted to
// sub-ranges of its loops) on one core, searching its best temporal mapping.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "snnplan/hwdesc.h"
#include "snnplan/ir.h"

namespace snnplan::cost {

enum class Objective { kEnergy, kLatency, kEdp };
// zero: states start at 0 on chip and are discarded after the last timestep;
// dram: read before the first timestep and written after the last (STEMS).
enum class StateIo { kZero, kDram };

// Energy by where it is spent, in pJ.
struct EnergyBreakdown {
  double compute_pj = 0;  // PE operations and neuron updates
  double local_pj = 0;    // memory levels below the global buffer
  double sram_pj = 0;     // the global buffer
  double dram_pj = 0;     // off-chip
  // Links between cores (multi-core plans); set by the planner for NoC
  // transfers, never by a tile's mapping.
  double noc_pj = 0;
  double total_pj() const { return compute_pj + local_pj + sram_pj + dram_pj + noc_pj; }
  EnergyBreakdown& operator+=(const EnergyBreakdown& o);
};

struct CostOptions {
  Objective objective = Objective::kEnergy;  // --objective
  StateIo state_io = StateIo::kZero;         // --state-io
  // --budget: most mappings evaluated per tile; 0 = the pruned exhaustive
  // search runs to completion.
  int64_t mapping_budget = 0;
  // Prime factors of the temporal loops are merged (LOMA-style, two smallest
  // factors of the dim with most factors) until at most this many loop
  // orders remain to enumerate; bounds search time per tile.
  int64_t max_orderings = 20000;
};

// One computation tile: `layer` restricted to the loop bounds in `dims`.
struct TileShape {
  ir::Layer layer;    // the layer (its dims are the whole layer's)
  ir::LoopDims dims;  // the tile's loop bounds (T = timesteps, ...)
  int64_t in_y = 1;   // input rows / columns the tile reads
  int64_t in_x = 1;
  bool starts_at_first_timestep = true;  // tile covers t = 0
  bool ends_at_last_timestep = true;     // tile covers t = T - 1
  double density = 1.0;                  // spike activity; scales SOPs only
  // Measured activity (--activity, snnplan/activity.h): the density of the
  // layer's input values and of its output values. Priced only where the
  // hardware declares it exploits activity: input_activity scales SOPs
  // (zero_skipping: energy; sparse_speedup: cycles) and the DRAM bits of I,
  // output_activity the DRAM bits of O's final values (spike_encoding).
  double input_activity = 1.0;
  double output_activity = 1.0;
  // Global-buffer bits the caller keeps occupied next to the tile's operands
  // (e.g. whole producer pieces around its input window); they shrink the
  // capacity left for the tile when deciding which operands overflow.
  int64_t reserved_bits = 0;
};

struct OperandTraffic {
  int64_t read_bits = 0;
  int64_t write_bits = 0;
};

// One loop of the chosen mapping, innermost first.
struct MappedLoop {
  ir::Dim dim = ir::Dim::kK;
  int64_t size = 1;
  bool spatial = false;
  // Memory level index (into the core's memories; == memories.size() for
  // DRAM) that holds each operand's tile at this loop, by ir::Operand.
  std::array<int, 4> level = {0, 0, 0, 0};
};

struct LevelAccesses {
  std::string memory;                     // level name, or "dram"
  std::array<OperandTraffic, 4> operand;  // by ir::Operand
};

struct TileCost {
  EnergyBreakdown energy;                            // the whole tile
  std::array<EnergyBreakdown, 4> energy_by_operand;  // memory energy by W,I,O,S
  std::array<bool, 4> dram_operands = {};            // streamed from DRAM in the tile
  std::array<OperandTraffic, 4> dram_traffic;        // in-tile DRAM traffic
  int64_t operations = 0;  // MACs/SOPs priced (× density, × input activity with zero-skipping)
  bool uses_sop = false;
  int64_t compute_cycles = 0;
  int64_t memory_cycles = 0;   // busiest memory port
  int64_t latency_cycles = 0;  // max of the two
  double utilization = 0;      // spatial PE utilisation
  std::vector<MappedLoop> mapping;
  std::vector<LevelAccesses> accesses;  // per level, innermost first
  int64_t mappings_evaluated = 0;
  // Added: the activity density priced, the search wall time (not part of
  // the price; 0 when the result came from Evaluate), and whether the search
  // stopped at mapping_budget before exhausting the pruned space.
  double density = 1.0;
  double search_seconds = 0;
  bool budget_exhausted = false;
  // In-memory computing (a conv/linear layer on a core with crossbars,
  // docs/costmodel.md): the synaptic sums are array activations, priced
  // instead of `operations` (which then only reports the MACs/SOPs done).
  bool on_crossbars = false;
  int64_t crossbar_arrays = 0;    // arrays holding the tile's weights
  int64_t array_activations = 0;  // input vectors applied x arrays
  int64_t column_reads = 0;       // columns converted (ADC reads)
};

// How a conv/linear layer's weights sit in a core's crossbars: the weight
// matrix of each group, (C*FY*FX) rows by (K * columns_per_weight) columns
// (im2col), cut into row and column tiles of one array each.
struct CrossbarMapping {
  int64_t columns_per_weight = 0;  // ceil(weight_bits / bits_per_cell)
  int64_t row_tiles = 0;           // ceil(C*FY*FX / rows)
  int64_t column_tiles = 0;        // ceil(K * columns_per_weight / columns)
  int64_t arrays = 0;              // G * row_tiles * column_tiles
  int64_t cells = 0;               // G*K*C*FY*FX*columns_per_weight: cells holding weights
};
// Whether `layer` runs on `core`'s crossbars: a conv or linear layer on a
// core that declares `imc`. Its weights then stay in the arrays (never in
// the global buffer or DRAM during inference).
bool RunsOnCrossbars(const ir::Layer& layer, const hw::Core& core);
// The mapping of `layer`'s weights for `output_channels` of its K (all of
// them for the layer's arrays; a tile's K for the arrays a tile activates).
CrossbarMapping MapOnCrossbars(const ir::Layer& layer, int64_t output_channels,
                               const hw::ImcArrays& imc);

// Bits each operand of the tile occupies at its storage precision in the
// global buffer (W, I, O, S).
std::array<int64_t, 4> FootprintBits(const TileShape& tile);

class CostModel {
 public:
  CostModel(hw::Hardware hardware, int core_id, CostOptions options);
  ~CostModel();
  CostModel(const CostModel&) = delete;
  CostModel& operator=(const CostModel&) = delete;

  // Best mapping of `tile`; cached by everything that changes the price, so
  // identical tiles are searched once. Thread-safe.
  absl::StatusOr<std::shared_ptr<const TileCost>> Price(const TileShape& tile);

  // Added: prices one given temporal loop order (innermost first; only
  // MappedLoop::dim and ::size are read, the levels are allocated greedily
  // as in the search). The sizes of each dim must multiply to its temporal
  // bound: ceil(tile dim / spatial unrolling). Not cached.
  absl::StatusOr<TileCost> Evaluate(const TileShape& tile,
                                    const std::vector<MappedLoop>& temporal) const;
  // Added: the temporal bound per dim (index = ir::Dim) after the core's
  // spatial unrolling, i.e. what the temporal loops of `tile` multiply to.
  absl::StatusOr<std::array<int64_t, 9>> TemporalBounds(const TileShape& tile) const;

  const hw::Hardware& hardware() const;
  const hw::Core& core() const;
  const CostOptions& options() const;
  int64_t cache_hits() const;
  int64_t cache_misses() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The tile covering the whole layer over all its timesteps (TB-LBL).
TileShape WholeLayerTile(const ir::Layer& layer);
// The mapping as an indented loop nest, accesses and energy breakdown, in
// scaled units; `clock_hz` > 0 adds the latency as time.
std::string Describe(const TileCost& cost, const hw::Core& core, double clock_hz = 0);
nlohmann::json ToJson(const TileCost& cost, const hw::Core& core);
// Added: just the loop nest (innermost first) as JSON: [{loop, size,
// spatial, level: {W: name, ...}}].
nlohmann::json MappingJson(const TileCost& cost, const hw::Core& core);

}  // namespace snnplan::cost
