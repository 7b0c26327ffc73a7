// Internal stages of the planner: tile graph, execution order, memory and
// DRAM-link simulation. Each stage is a plain function over value types.
#pragma once

#include <array>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "snnplan/planner.h"

namespace snnplan::plan {

// A half-open range [begin, end).
struct Range {
  int64_t begin = 0;
  int64_t end = 0;
  int64_t size() const { return end - begin; }
  bool Overlaps(const Range& o) const { return begin < o.end && o.begin < end; }
};

// How one layer is cut: time batches x row bands (uniform except the last).
struct LayerTiling {
  std::vector<Range> time_batches;
  std::vector<Range> bands;   // output rows
  int64_t out_timesteps = 1;  // timesteps of the layer's output
  int depth = 0;              // longest path from the network input
  int group = 0;              // fuse barrier id of its block
  int first_tile = 0;         // index of its first tile (sample 0)
};

// The network input cut into pieces for its consumers.
struct InputTiling {
  std::vector<Range> time_batches;
  std::vector<Range> bands;
  int64_t rows = 1, cols = 1, channels = 1, bits = 4;
};

struct Tile {
  int layer = 0;
  int sample = 0;
  int time_batch = 0;
  int band = 0;
  Range t;
  Range rows;
  int64_t in_rows = 1;  // input rows read (receptive field)
  int shape = -1;       // index of its unique cost shape
  // Global-buffer bits its pieces occupy beyond the cost model's footprint
  // (whole producer pieces around its input window, word rounding).
  int64_t overhead_bits = 0;
  std::vector<int> data_preds;  // producer tiles whose output it reads
  int state_pred = -1;          // the tile that left its state (t - 1)
  std::vector<int> net_inputs;  // network-input pieces it reads (per sample)
};

struct TileGraph {
  std::vector<LayerTiling> layers;
  InputTiling input;
  std::vector<Tile> tiles;  // indexed by tile id
  std::vector<int> order;   // execution order (tile ids)
  int tiles_per_sample = 0;
};

// A tile's receptive field (tiling.cc), as the tile graph's dependencies and
// the manifest's `layers[].inputs` state it: the producer rows output rows
// `rows` of `consumer` read (clipped; padding reads nothing), the producer
// steps a non-delayed input reads, and the steps a delayed (recurrent) input
// reads (t - 1; step 0 reads zeros).
Range NeededRows(const ir::Layer& consumer, const Range& rows, int64_t producer_rows);
Range NeededTime(const ir::Layer& consumer, const Range& t, int64_t producer_steps);
Range DelayedTime(const Range& t);

// Builds the fine-grained tile graph and its list-scheduled order.
absl::StatusOr<TileGraph> BuildTileGraph(const ir::Workload& w, const Schedule& s);

// A short list of piece or position ids; inline because a plan holds one per
// tile and per piece, thousands of them, and most have one to three entries.
using PieceList = absl::InlinedVector<int, 3>;
// Mesh positions (x, y) from source to destination; inline for short routes.
using NocRoute = absl::InlinedVector<std::array<int64_t, 2>, 3>;

// What a piece of data is.
enum class PieceKind { kWeights, kState, kFeature, kInput };

struct Piece {
  PieceKind kind = PieceKind::kFeature;
  ir::Operand operand = ir::Operand::kO;
  int layer = -1;  // -1: network input
  int sample = 0;
  Range t, rows;
  int64_t bytes = 0;       // rounded to the memory granularity
  int producer_tile = -1;  // feature pieces
  PieceList uses;          // order positions of the tiles reading it
  int core = 0;            // index into hardware.cores of the memory holding it
  // A copy for readers on another core: the original piece it is filled
  // from (over the NoC, or from the original's DRAM copy); -1 otherwise.
  // The original's `uses` include its copies' uses, so it stays on chip or
  // in DRAM until every reader on any core has run.
  int source = -1;
  // Bytes a transfer of it moves over a link (DRAM or NoC): `bytes`, or its
  // feature values in the hardware's spike encoding (`encoded`; never more).
  int64_t link_bytes = 0;
  bool encoded = false;
};

// The piece whose DRAM copy and identity a piece shares.
inline int Original(const std::vector<Piece>& pieces, int piece) {
  return pieces[piece].source >= 0 ? pieces[piece].source : piece;
}

struct AllocationRecord {
  int piece = 0;
  int core = 0;  // index into hardware.cores
  int64_t offset = 0;
  int64_t bytes = 0;
  int64_t allocated_at = 0;
  int64_t freed_at = 0;
  // A state piece's first allocation under on-chip zero init (--state-io
  // zero): it holds the layer's initial state, set on chip, not loaded.
  bool init = false;
};

enum class Cause { kFirstUse, kReload, kWriteback, kFinalOutput, kStateInit, kStateFinal, kStream };
const char* CauseName(Cause c);

enum class Direction { kLoad, kStore, kStream, kNoc };

struct TransferRecord {
  Direction direction = Direction::kLoad;  // load: DRAM -> chip
  int piece = 0;                           // -1 for streams
  ir::Operand operand = ir::Operand::kW;
  int64_t bytes = 0;       // on-chip side: what the allocation holds
  int64_t link_bytes = 0;  // over the link (DRAM or NoC); < bytes when encoded
  bool encoded = false;    // the piece moves in the hardware's spike encoding
  int64_t dram_address = 0;
  int allocation = -1;  // on-chip side (-1 for streams)
  int64_t start = 0;
  int64_t end = 0;
  Cause cause = Cause::kFirstUse;
  int tile = -1;  // stream transfers: the tile
  // Streams: bytes per operand (W, I, O, S) read from / written to DRAM and
  // the pieces whose DRAM copies they touch.
  std::array<int64_t, 4> stream_read = {};
  std::array<int64_t, 4> stream_write = {};
  absl::InlinedVector<int, 4> stream_pieces;
  // Streams under --state-io zero: the state piece's first timesteps, so its
  // DRAM copy holds nothing yet and reads of it read the initial state.
  bool stream_state_init = false;
  int core = 0;  // index into hardware.cores: the on-chip side (NoC: destination)
  // NoC transfers: source core and allocation, XY route (mesh positions from
  // source to destination) and energy (links + both global buffers).
  int from_core = -1;
  int src_allocation = -1;
  NocRoute route;
  cost::EnergyBreakdown noc_energy;
};

struct TileRecord {
  int tile = 0;
  int64_t start = 0;
  int64_t end = 0;
  cost::EnergyBreakdown energy;
  // Allocation ids; inline storage because a plan holds thousands of these.
  absl::InlinedVector<int, 6> reads;
  absl::InlinedVector<int, 2> writes;
};

struct DramRegion {
  std::string name;
  int64_t base = 0;
  int64_t bytes = 0;
};

// A layer's parameters besides its weights (bias, affine post-ops such as
// folded BatchNorm, neuron parameters and update coefficients, initial
// states), as the IR holds them: one block of IEEE-754 binary64 values per
// layer in the DRAM `weights` region, after the weight pieces
// (parameters.cc, docs/manifest.md "parameters").
struct ParamField {
  std::string name;               // e.g. "bias", "post0.scale", "neuron.threshold"
  int64_t offset = 0;             // bytes from the block's start
  int64_t count = 1;              // values (8 bytes each)
  std::string layout = "scalar";  // scalar, per_channel, per_neuron, per_state
};
struct ParamBlock {
  int layer = 0;
  int64_t bytes = 0;                  // fields, rounded up to the layer core's granularity
  std::vector<std::string> post_ops;  // kinds of the layer's post-ops, in order
  std::vector<ParamField> fields;
};
inline constexpr int64_t kParamValueBytes = 8;
// The blocks of every layer that has parameters, in layer order.
std::vector<ParamBlock> LayerParameters(const ir::Workload& w, const hw::Hardware& hw,
                                        const std::vector<int>& layer_core);

struct Plan {
  std::shared_ptr<const ir::Workload> workload;
  hw::Hardware hardware;
  Schedule schedule;
  PlanOptions options;
  TileGraph graph;
  std::vector<Piece> pieces;
  std::vector<PieceList> tile_inputs;        // per tile id: pieces it reads
  std::vector<int> tile_output, tile_state;  // per tile id (-1: none)
  std::vector<int> layer_core;               // per layer: index into hardware.cores
  std::vector<int> layer_weights;            // per layer (-1: none)
  std::vector<std::shared_ptr<const cost::TileCost>> shape_costs;
  std::vector<TileRecord> tiles;  // execution order
  std::vector<AllocationRecord> allocations;
  std::vector<TransferRecord> transfers;
  std::vector<int64_t> piece_address;  // DRAM address per piece (-1: none)
  std::vector<int> piece_block;        // block each piece's traffic counts for
  std::vector<DramRegion> dram_layout;
  std::vector<ParamBlock> parameters;                     // LayerParameters
  std::vector<int64_t> parameter_address;                 // DRAM address per block
  std::shared_ptr<const cost::LayerDensities> densities;  // per layer, as priced
  Summary summary;
};

// Cost-model tile shape of a tile.
cost::TileShape ShapeOf(const ir::Workload& w, const Tile& tile, const PlanOptions& options,
                        const cost::LayerDensities& densities);

// Creates the pieces and their uses for the graph's order.
// Pieces live on their layer's core (`layer_core`: index into hw.cores);
// readers on other cores get copies.
std::vector<Piece> BuildPieces(const ir::Workload& w, const TileGraph& g, const hw::Hardware& hw,
                               const std::vector<int>& layer_core,
                               std::vector<PieceList>* tile_inputs, std::vector<int>* tile_output,
                               std::vector<int>* tile_state, std::vector<int>* layer_weights);

// Sets every piece's link_bytes: feature and network-input pieces in the
// hardware's spike encoding at their producer's output density (copies as
// their original), everything else dense.
void SetLinkBytes(const ir::Workload& w, const InputTiling& input, const hw::Hardware& hw,
                  const cost::LayerDensities& densities, std::vector<Piece>& pieces);

// {total, compute, local, sram, dram} in pJ, as summaries and tiles print it.
nlohmann::json EnergyJson(const cost::EnergyBreakdown& e);

// The summary of the tiles and transfers that start before `before_cycle`
// (kEveryRecord: all of them): energy, DRAM bytes, cycles and counts; peaks
// and the unique-tile and allocation counts are left to the caller.
inline constexpr int64_t kEveryRecord = std::numeric_limits<int64_t>::max();
Summary AccountRecords(const Plan& plan, int64_t before_cycle);

// The expected cost of a simulated, accounted plan under `profile`
// (early_exit.cc).
ExpectedCost Expect(const Plan& plan, const ExitProfile& profile);

// Runs the memory / DRAM-link simulation and fills tiles, allocations,
// transfers, layout and summary of `plan`.
absl::Status Simulate(Plan& plan);

}  // namespace snnplan::plan
