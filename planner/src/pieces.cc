// Stage 2b: the pieces of data a tile graph moves around (weights, network
// input slices, state slices, feature slices), where they live, and which
// tiles read them. Readers on another core than a piece's get a copy there.
#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "plan_internal.h"

namespace snnplan::plan {
namespace {

int64_t FeatureBits(const ir::Layer& l, const Tile& t) {
  const int64_t steps = l.op == ir::OpKind::kTimeMean ? 1 : t.t.size();
  return steps * l.dims.B * l.dims.G * l.dims.K * t.rows.size() * l.dims.OX *
         l.precision.output_bits;
}

int64_t StateBits(const ir::Layer& l, const Range& rows) {
  return l.dims.B * l.dims.G * l.dims.K * rows.size() * l.dims.OX * l.neuron.states_per_neuron *
         l.precision.state_bits;
}

Piece MakePiece(PieceKind kind, ir::Operand operand, int layer, int sample, Range t, Range rows,
                int64_t bytes, int core) {
  Piece p;
  p.kind = kind;
  p.operand = operand;
  p.layer = layer;
  p.sample = sample;
  p.t = t;
  p.rows = rows;
  p.bytes = bytes;
  p.core = core;
  return p;
}

// The network input's home: the core of the first layer that reads it.
int InputCore(const ir::Workload& w, const std::vector<int>& layer_core) {
  for (size_t l = 0; l < w.layers.size(); ++l)
    for (int in : w.layers[l].inputs)
      if (in == ir::kNetworkInput) return layer_core[l];
  return layer_core.empty() ? 0 : layer_core.front();
}

class PieceBuilder {
 public:
  PieceBuilder(const ir::Workload& w, const TileGraph& g, const hw::Hardware& hw,
               const std::vector<int>& layer_core)
      : w_(w), g_(g), hw_(hw), layer_core_(layer_core) {}

  std::vector<Piece> Build(std::vector<PieceList>* tile_inputs, std::vector<int>* tile_output,
                           std::vector<int>* tile_state, std::vector<int>* layer_weights);

 private:
  int64_t Bytes(int64_t bits, int core) const {
    return GranuleBytes(bits, hw_.cores[core].global_buffer().access_granularity_bits);
  }
  int Add(Piece p) {
    pieces_.push_back(std::move(p));
    return static_cast<int>(pieces_.size()) - 1;
  }
  void AddWeights(std::vector<int>* layer_weights);
  int AddInputs();
  void AddStatesAndFeatures(std::vector<int>* tile_output, std::vector<int>* tile_state);
  // `piece` as seen from `core`: itself, or its copy there (made once).
  int On(int piece, int core);
  void AddUses(const std::vector<PieceList>& tile_inputs, const std::vector<int>& tile_state,
               const std::vector<int>& layer_weights);

  const ir::Workload& w_;
  const TileGraph& g_;
  const hw::Hardware& hw_;
  const std::vector<int>& layer_core_;
  std::vector<Piece> pieces_;
  absl::flat_hash_map<std::pair<int, int>, int> copies_;  // (original, core) -> copy
};

void PieceBuilder::AddWeights(std::vector<int>* layer_weights) {
  layer_weights->assign(w_.layers.size(), -1);
  for (size_t l = 0; l < w_.layers.size(); ++l) {
    const ir::Layer& layer = w_.layers[l];
    if (layer.WeightsUsed() == 0) continue;
    const int core = layer_core_[l];
    // Weights in crossbars stay there: no piece, no buffer space, no loads.
    if (cost::RunsOnCrossbars(layer, hw_.cores[core])) continue;
    (*layer_weights)[l] = Add(MakePiece(
        PieceKind::kWeights, ir::Operand::kW, static_cast<int>(l), 0, {0, layer.dims.T},
        {0, layer.dims.OY}, Bytes(layer.WeightsUsed() * layer.precision.weight_bits, core), core));
  }
}

// Returns the index of the first input piece.
int PieceBuilder::AddInputs() {
  const InputTiling& in = g_.input;
  const int core = InputCore(w_, layer_core_);
  const int samples = static_cast<int>(std::max<int64_t>(1, w_.batch));
  const int base = static_cast<int>(pieces_.size());
  for (int s = 0; s < samples; ++s)
    for (const Range& t : in.time_batches)
      for (const Range& rows : in.bands)
        Add(MakePiece(PieceKind::kInput, ir::Operand::kI, -1, s, t, rows,
                      Bytes(t.size() * in.channels * rows.size() * in.cols * in.bits, core), core));
  return base;
}

// State pieces: one per (sample, stateful layer, band); one output per tile.
void PieceBuilder::AddStatesAndFeatures(std::vector<int>* tile_output,
                                        std::vector<int>* tile_state) {
  const size_t n = g_.tiles.size();
  tile_state->assign(n, -1);
  tile_output->assign(n, -1);
  for (size_t id = 0; id < n; ++id) {
    const Tile& t = g_.tiles[id];
    const ir::Layer& l = w_.layers[t.layer];
    const int core = layer_core_[t.layer];
    if (l.stateful()) {
      (*tile_state)[id] =
          t.time_batch == 0
              ? Add(MakePiece(PieceKind::kState, ir::Operand::kS, t.layer, t.sample, {0, l.dims.T},
                              t.rows, Bytes(StateBits(l, t.rows), core), core))
              : (*tile_state)[t.state_pred];
    }
    Piece out = MakePiece(PieceKind::kFeature, ir::Operand::kO, t.layer, t.sample, t.t, t.rows,
                          Bytes(FeatureBits(l, t), core), core);
    out.producer_tile = static_cast<int>(id);
    (*tile_output)[id] = Add(std::move(out));
  }
}

int PieceBuilder::On(int piece, int core) {
  if (pieces_[piece].core == core) return piece;
  auto [it, fresh] = copies_.emplace(std::pair{piece, core}, 0);
  if (fresh) {
    Piece copy = pieces_[piece];
    copy.core = core;
    copy.source = piece;
    copy.producer_tile = -1;
    copy.bytes = Bytes(pieces_[piece].bytes * 8, core);  // holds the original's bytes
    it->second = Add(std::move(copy));
  }
  return it->second;
}

void PieceBuilder::AddUses(const std::vector<PieceList>& tile_inputs,
                           const std::vector<int>& tile_state,
                           const std::vector<int>& layer_weights) {
  for (size_t pos = 0; pos < g_.order.size(); ++pos) {
    const int id = g_.order[pos];
    const int p = static_cast<int>(pos);
    if (int wp = layer_weights[g_.tiles[id].layer]; wp >= 0) pieces_[wp].uses.push_back(p);
    if (int sp = tile_state[id]; sp >= 0) pieces_[sp].uses.push_back(p);
    for (int ip : tile_inputs[id]) {
      pieces_[ip].uses.push_back(p);
      if (pieces_[ip].source >= 0) pieces_[pieces_[ip].source].uses.push_back(p);
    }
  }
}

std::vector<Piece> PieceBuilder::Build(std::vector<PieceList>* tile_inputs,
                                       std::vector<int>* tile_output, std::vector<int>* tile_state,
                                       std::vector<int>* layer_weights) {
  // Weights, inputs, one output per tile and at most one state per tile.
  pieces_.reserve(w_.layers.size() +
                  g_.input.time_batches.size() * g_.input.bands.size() *
                      std::max<int64_t>(1, w_.batch) +
                  2 * g_.tiles.size());
  AddWeights(layer_weights);
  const int input_base = AddInputs();
  const InputTiling& in = g_.input;
  const int inputs_per_sample = static_cast<int>(in.time_batches.size() * in.bands.size());
  AddStatesAndFeatures(tile_output, tile_state);
  tile_inputs->assign(g_.tiles.size(), {});
  for (size_t id = 0; id < g_.tiles.size(); ++id) {
    const Tile& t = g_.tiles[id];
    const int core = layer_core_[t.layer];
    PieceList& ins = (*tile_inputs)[id];
    for (int p : t.data_preds) ins.push_back(On((*tile_output)[p], core));
    for (int k : t.net_inputs)
      ins.push_back(On(input_base + t.sample * inputs_per_sample + k, core));
  }
  AddUses(*tile_inputs, *tile_state, *layer_weights);
  return std::move(pieces_);
}

// Values a feature or network-input piece holds, their bits each, their
// density and the address width of one event in their map.
struct PieceValues {
  int64_t elements = 0;
  int value_bits = 1;
  double density = 1.0;
  int64_t map_elements = 1;
};

PieceValues ValuesOf(const ir::Workload& w, const InputTiling& input,
                     const cost::LayerDensities& densities, const Piece& p) {
  if (p.kind == PieceKind::kInput)
    return {p.t.size() * input.channels * p.rows.size() * input.cols, static_cast<int>(input.bits),
            densities.network_input, input.channels * input.rows * input.cols};
  const ir::Layer& l = w.layers[p.layer];
  const int64_t steps = l.op == ir::OpKind::kTimeMean ? 1 : p.t.size();
  return {steps * l.dims.B * l.dims.G * l.dims.K * p.rows.size() * l.dims.OX,
          l.precision.output_bits, densities.output[p.layer], cost::OutputMapElements(l)};
}

}  // namespace

void SetLinkBytes(const ir::Workload& w, const InputTiling& input, const hw::Hardware& hw,
                  const cost::LayerDensities& densities, std::vector<Piece>& pieces) {
  const hw::SpikeEncoding& e = hw.spike_encoding;
  for (Piece& p : pieces) {
    p.link_bytes = p.bytes;
    p.encoded = e.format != hw::SpikeFormat::kDense &&
                (p.kind == PieceKind::kFeature || p.kind == PieceKind::kInput);
    if (!p.encoded || p.source >= 0) continue;  // copies: below, as their original
    const PieceValues v = ValuesOf(w, input, densities, p);
    const int64_t bits = cost::LinkBits(e, v.elements, v.value_bits, v.density,
                                        cost::AddressBits(e, v.map_elements));
    const int64_t granularity = hw.cores[p.core].global_buffer().access_granularity_bits;
    p.link_bytes = std::min(p.bytes, GranuleBytes(bits, granularity));
  }
  for (Piece& p : pieces)
    if (p.source >= 0) p.link_bytes = pieces[p.source].link_bytes;
}

std::vector<Piece> BuildPieces(const ir::Workload& w, const TileGraph& g, const hw::Hardware& hw,
                               const std::vector<int>& layer_core,
                               std::vector<PieceList>* tile_inputs, std::vector<int>* tile_output,
                               std::vector<int>* tile_state, std::vector<int>* layer_weights) {
  return PieceBuilder(w, g, hw, layer_core)
      .Build(tile_inputs, tile_output, tile_state, layer_weights);
}

}  // namespace snnplan::plan
