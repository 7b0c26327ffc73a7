// Internal pieces of the cost model: the per-tile context (operands, levels,
// precisions, spatial unrolling), the evaluation of one temporal loop order
// and the mapping search. See docs/costmodel.md for the model stated exactly.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "snnplan/costmodel.h"

namespace snnplan::cost::internal {

inline constexpr int kNumDims = 9;
inline constexpr int kNumOperands = 4;
inline constexpr int kW = 0, kI = 1, kO = 2, kS = 3;
// Operands are admitted to a shared level in this order: the stationary
// accumulators first (output-stationary arrays keep them in the PE).
inline constexpr std::array<int, 4> kAdmissionOrder = {kS, kO, kW, kI};

using DimArray = std::array<int64_t, kNumDims>;

constexpr int DimIndex(ir::Dim d) { return static_cast<int>(d); }

enum class Region { kLocal, kSram, kDram };

// One memory level of the tile's hierarchy (the core's levels, then DRAM).
struct LevelInfo {
  std::string name;
  int64_t capacity_bits = 0;   // per instance; INT64_MAX for DRAM
  int64_t instances = 1;
  double read_fj_per_bit = 0;
  double write_fj_per_bit = 0;
  int64_t read_bw_bits = 0;    // bits/cycle over all instances
  int64_t write_bw_bits = 0;
  bool single_port = false;    // DRAM: reads and writes share one port
  Region region = Region::kLocal;
  DimArray spatial_visible{};  // spatial factors one instance sees
};

struct OperandInfo {
  bool present = false;
  std::array<bool, kNumDims> relevant{};
  bool accumulator = false;    // stateless O (partial sum) or S
  bool spike_output = false;   // O of a stateful layer: final when produced
  bool initial_read = false;   // accumulator: read its value before 1st use
  bool final_write = false;    // accumulator: write it back after last use
  std::vector<int> levels;     // candidate levels, inner -> outer (top last)
  int top = 0;                 // global buffer, or DRAM when overflowing
  int64_t bits = 0;            // W, I, spike O: bits per element everywhere
  int64_t low_bits = 0;        // accumulators: in the innermost level used
  int64_t partial_bits = 0;    // accumulators: above it, not final
  int64_t final_bits = 0;      // accumulators: above it, final value
  int64_t top_reserved_bits = 0;  // real footprint reserved in the GB
  int64_t total_elements = 0;  // |X| over the padded nest
  double scale = 1.0;          // real / padded elements (padded lanes)
  // Fraction of the dense bits its final values move at the DRAM level
  // (the hardware's spike encoding on the DRAM link; 1 = dense).
  double dram_fraction = 1.0;
};

// Everything about one tile that does not depend on the loop order.
struct Context {
  const hw::Core* core = nullptr;
  CostOptions options;
  TileShape tile;
  std::array<OperandInfo, kNumOperands> ops;
  std::vector<LevelInfo> levels;   // core memories, then DRAM if used
  int gb = 0;                      // index of the global buffer
  bool has_dram = false;
  bool stateful = false;
  DimArray spatial{};              // spatial factor per dim (whole array)
  DimArray temporal{};             // temporal bound per dim (padded)
  int64_t iterations = 1;          // product of temporal bounds
  int64_t stride_y = 1, stride_x = 1, dilation_y = 1, dilation_x = 1;
  int64_t cap_y = 1, cap_x = 1;    // input rows/cols the tile really reads
  double real_ops = 0;             // product of the tile's loop bounds
  double priced_ops = 0;           // real_ops x density (x input activity, zero-skipping)
  double cycle_density = 1;        // compute cycles scale (sparse_speedup SOP layers)
  double neuron_steps = 0;         // neurons x timesteps (spiking layers)
  double utilization = 0;
  bool uses_sop = false;
  std::array<bool, 4> overflow{};
  // In-memory computing: the layer's synaptic sums run on the crossbars.
  bool imc = false;
  int64_t imc_arrays = 0;       // arrays the tile activates
  double imc_activations = 0;   // input vectors x arrays
  double imc_column_reads = 0;  // columns converted
  int64_t imc_cycles = 0;       // input vectors x cycles per activation
};

absl::StatusOr<Context> BuildContext(const TileShape& tile,
                                     const hw::Hardware& hardware,
                                     const hw::Core& core,
                                     const CostOptions& options);

// Elements of operand `x` in a tile whose per-dim extents are
// spatial[d] * temporal_ext[d] (the input's window extent is clipped to the
// rows/columns the tile reads).
int64_t TileElements(const Context& c, int x, const DimArray& spatial,
                     const DimArray& temporal_ext);

// One temporal loop: dim index and size.
struct Loop {
  int dim = 0;
  int64_t size = 1;
};

// The scalar outcome of one mapping, used by the search.
struct Score {
  bool valid = false;
  double energy_pj = 0;
  int64_t latency_cycles = 0;
};

// Evaluates `order` (innermost first). Operands overflowing to DRAM whose
// bit is set in `gb_bypass` (bit = operand index) skip the global buffer
// and move between DRAM and their next lower level directly. When `detail`
// is non-null fills it completely (accesses, loop nest, breakdown); the
// search passes null.
Score Evaluate(const Context& c, const std::vector<Loop>& order,
               TileCost* detail, unsigned gb_bypass = 0);

// The global-buffer bypass choices the search tries for the tile: none,
// each overflowing operand alone, and all of them (exhaustive for one).
std::vector<unsigned> BypassChoices(const Context& c);

// Best mapping of the tile: the pruned search over temporal orders.
absl::StatusOr<TileCost> Search(const Context& c);

// The temporal loops of the tile before ordering: each dim's bound split in
// prime factors, merged LOMA-style until at most `max_orderings` orders
// remain (see docs/costmodel.md).
std::vector<Loop> TemporalFactors(const Context& c, int64_t max_orderings);

}  // namespace snnplan::cost::internal
