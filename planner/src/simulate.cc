// Stage 3: executes the ordered tiles on one core against a scratchpad global
// buffer and a single DRAM link, recording every allocation and transfer.
#include <algorithm>
#include <limits>
#include <set>

#include "absl/strings/str_cat.h"
#include "plan_internal.h"
#include "scratchpad.h"

namespace snnplan::plan {

int64_t GranuleBytes(int64_t bits, int64_t granularity_bits) {
  const int64_t g = std::max<int64_t>(8, (granularity_bits + 7) / 8 * 8);
  return (bits + g - 1) / g * g / 8;
}

const char* CauseName(Cause c) {
  switch (c) {
    case Cause::kFirstUse:
      return "first_use";
    case Cause::kReload:
      return "reload";
    case Cause::kWriteback:
      return "eviction_writeback";
    case Cause::kFinalOutput:
      return "final_output";
    case Cause::kStateInit:
      return "state_init";
    case Cause::kStateFinal:
      return "state_final";
    case Cause::kStream:
      return "stream";
  }
  return "?";
}

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
                int64_t bytes) {
  Piece p;
  p.kind = kind;
  p.operand = operand;
  p.layer = layer;
  p.sample = sample;
  p.t = t;
  p.rows = rows;
  p.bytes = bytes;
  return p;
}

}  // namespace

std::vector<Piece> BuildPieces(const ir::Workload& w, const TileGraph& g, const hw::MemoryLevel& gb,
                               std::vector<std::vector<int>>* tile_inputs,
                               std::vector<int>* tile_output, std::vector<int>* tile_state,
                               std::vector<int>* layer_weights) {
  const int64_t gran = gb.access_granularity_bits;
  const int samples = static_cast<int>(std::max<int64_t>(1, w.batch));
  std::vector<Piece> pieces;
  layer_weights->assign(w.layers.size(), -1);
  for (size_t l = 0; l < w.layers.size(); ++l) {
    const ir::Layer& layer = w.layers[l];
    if (layer.WeightsUsed() == 0) continue;
    (*layer_weights)[l] = static_cast<int>(pieces.size());
    pieces.push_back(MakePiece(
        PieceKind::kWeights, ir::Operand::kW, static_cast<int>(l), 0, {0, layer.dims.T},
        {0, layer.dims.OY}, GranuleBytes(layer.WeightsUsed() * layer.precision.weight_bits, gran)));
  }
  const InputTiling& in = g.input;
  const int inputs_per_sample = static_cast<int>(in.time_batches.size() * in.bands.size());
  const int input_base = static_cast<int>(pieces.size());
  for (int s = 0; s < samples; ++s)
    for (const Range& t : in.time_batches)
      for (const Range& rows : in.bands)
        pieces.push_back(MakePiece(
            PieceKind::kInput, ir::Operand::kI, -1, s, t, rows,
            GranuleBytes(t.size() * in.channels * rows.size() * in.cols * in.bits, gran)));
  // State pieces: one per (sample, stateful layer, band).
  const size_t n = g.tiles.size();
  tile_state->assign(n, -1);
  tile_output->assign(n, -1);
  tile_inputs->assign(n, {});
  for (size_t id = 0; id < n; ++id) {
    const Tile& t = g.tiles[id];
    const ir::Layer& l = w.layers[t.layer];
    if (l.stateful()) {
      if (t.time_batch == 0) {
        (*tile_state)[id] = static_cast<int>(pieces.size());
        pieces.push_back(MakePiece(PieceKind::kState, ir::Operand::kS, t.layer, t.sample,
                                   {0, l.dims.T}, t.rows,
                                   GranuleBytes(StateBits(l, t.rows), gran)));
      } else {
        (*tile_state)[id] = (*tile_state)[t.state_pred];
      }
    }
    (*tile_output)[id] = static_cast<int>(pieces.size());
    Piece out = MakePiece(PieceKind::kFeature, ir::Operand::kO, t.layer, t.sample, t.t, t.rows,
                          GranuleBytes(FeatureBits(l, t), gran));
    out.producer_tile = static_cast<int>(id);
    pieces.push_back(out);
  }
  for (size_t id = 0; id < n; ++id) {
    const Tile& t = g.tiles[id];
    std::vector<int>& ins = (*tile_inputs)[id];
    for (int p : t.data_preds) ins.push_back((*tile_output)[p]);
    for (int k : t.net_inputs) ins.push_back(input_base + t.sample * inputs_per_sample + k);
  }
  for (size_t pos = 0; pos < g.order.size(); ++pos) {
    const int id = g.order[pos];
    const int p = static_cast<int>(pos);
    if (int wp = (*layer_weights)[g.tiles[id].layer]; wp >= 0) pieces[wp].uses.push_back(p);
    if (int sp = (*tile_state)[id]; sp >= 0) pieces[sp].uses.push_back(p);
    for (int ip : (*tile_inputs)[id]) pieces[ip].uses.push_back(p);
  }
  return pieces;
}

namespace {

constexpr int kNoRegion = -1;
enum Region {
  kRegionWeights,
  kRegionInput,
  kRegionOutput,
  kRegionState,
  kRegionFeatures,
  kRegions
};
constexpr const char* kRegionNames[kRegions] = {"weights", "input", "output", "state_spill",
                                                "feature_spill"};

struct PieceState {
  bool on_chip = false;
  int allocation = -1;
  bool in_dram = false;        // a valid DRAM copy exists
  bool dirty = false;          // the on-chip copy is newer than DRAM
  int64_t ready_at = 0;        // on-chip data valid from
  int64_t dram_ready_at = 0;   // DRAM copy valid from
  int64_t last_read_end = 0;   // end of the last tile that read it
  int64_t last_store_end = 0;  // end of the last store reading its allocation
  size_t used = 0;             // uses consumed
  bool seen = false;           // loaded or produced before
  int region = kNoRegion;
  int64_t region_offset = 0;
};

class Simulator {
 public:
  explicit Simulator(Plan& plan)
      : plan_(plan),
        w_(*plan.workload),
        core_(plan.hardware.cores.front()),
        gb_(core_.global_buffer()),
        pad_(gb_.size_bits / 8) {}

  absl::Status Run();

 private:
  int64_t LinkCycles(int64_t bytes) const {
    const int64_t bw = plan_.hardware.offchip.bw_bits_per_cycle;
    return (bytes * 8 + bw - 1) / bw;
  }
  bool Streams(const cost::TileCost& c, ir::Operand op) const {
    return c.dram_operands[static_cast<int>(op)];
  }
  int Depth(int piece) const {
    int l = plan_.pieces[piece].layer;
    return l < 0 ? -1 : plan_.graph.layers[l].depth;
  }
  void AssignDram(int piece, int region);
  int64_t Store(int piece, Cause cause, int64_t not_before);
  void Evict(int piece);
  bool Place(int piece);
  int PickVictim(size_t position) const;
  bool Pinned(int piece) const { return pinned_at_[piece] == static_cast<int64_t>(position_); }
  void Free(int piece, int64_t at);
  absl::Status PrepareTile(size_t position, const std::vector<int>& needed);
  int64_t LoadIfNeeded(int piece);
  absl::Status RunTile(size_t position);
  void Finish();

  Plan& plan_;
  const ir::Workload& w_;
  const hw::Core& core_;
  const hw::MemoryLevel& gb_;
  Scratchpad pad_;
  std::vector<PieceState> st_;
  std::set<int> live_;              // pieces on chip
  std::vector<int64_t> pinned_at_;  // order position of the tile that needs it
  // Per-tile scratch, reused to avoid allocations in the hot loop.
  std::vector<int> needed_, allocation_before_, read_;
  const std::vector<std::vector<int>>& tile_inputs_ = plan_.tile_inputs;
  const std::vector<int>& tile_output_ = plan_.tile_output;
  const std::vector<int>& tile_state_ = plan_.tile_state;
  const std::vector<int>& layer_weights_ = plan_.layer_weights;
  std::array<int64_t, kRegions> region_used_ = {};
  int64_t link_free_ = 0;
  int64_t core_free_ = 0;
  size_t position_ = 0;
};

void Simulator::AssignDram(int piece, int region) {
  PieceState& s = st_[piece];
  if (s.region != kNoRegion) return;
  s.region = region;
  s.region_offset = region_used_[region];
  region_used_[region] += plan_.pieces[piece].bytes;
}

// Writes a piece's on-chip copy to DRAM; returns the store's end cycle.
int64_t Simulator::Store(int piece, Cause cause, int64_t not_before) {
  PieceState& s = st_[piece];
  const Piece& p = plan_.pieces[piece];
  const bool feature = p.kind == PieceKind::kFeature;
  AssignDram(piece, p.kind == PieceKind::kState ? kRegionState
                    : feature && w_.layers[p.layer].network_output && p.uses.empty()
                        ? kRegionOutput
                        : kRegionFeatures);
  TransferRecord t;
  t.direction = Direction::kStore;
  t.piece = piece;
  t.operand = p.operand;
  t.bytes = p.bytes;
  t.allocation = s.allocation;
  t.start = std::max({link_free_, s.ready_at, not_before});
  t.end = t.start + LinkCycles(p.bytes);
  t.cause = cause;
  link_free_ = t.end;
  plan_.transfers.push_back(t);
  s.in_dram = true;
  s.dirty = false;
  s.dram_ready_at = t.end;
  s.last_store_end = t.end;  // the allocation is read until the store ends
  return t.end;
}

void Simulator::Free(int piece, int64_t at) {
  PieceState& s = st_[piece];
  AllocationRecord& a = plan_.allocations[s.allocation];
  a.freed_at = std::max({at, a.allocated_at, s.ready_at, s.last_read_end, s.last_store_end});
  pad_.Release(a.offset, a.bytes, a.freed_at);
  s.on_chip = false;
  s.allocation = -1;
  live_.erase(piece);
}

void Simulator::Evict(int piece) {
  int64_t until = 0;
  if (st_[piece].dirty) until = Store(piece, Cause::kWriteback, 0);
  Free(piece, until);
}

int Simulator::PickVictim(size_t position) const {
  int best = -1;
  auto better = [&](int a, int b) {  // true if a should go before b
    const Piece& pa = plan_.pieces[a];
    const Piece& pb = plan_.pieces[b];
    if (plan_.options.eviction == Eviction::kBelady) {
      auto next = [&](int id) {
        const Piece& p = plan_.pieces[id];
        auto it = std::lower_bound(p.uses.begin(), p.uses.end(), static_cast<int>(position));
        return it == p.uses.end() ? std::numeric_limits<int>::max() : *it;
      };
      if (next(a) != next(b)) return next(a) > next(b);
      return a < b;
    }
    // remaining uses / bytes, compared exactly: ra * bb < rb * ba
    const __int128 ra = static_cast<__int128>(pa.uses.size() - st_[a].used) * pb.bytes;
    const __int128 rb = static_cast<__int128>(pb.uses.size() - st_[b].used) * pa.bytes;
    if (ra != rb) return ra < rb;
    if (Depth(a) != Depth(b)) return Depth(a) > Depth(b);
    return a < b;
  };
  for (int p : live_) {
    if (Pinned(p)) continue;
    if (best < 0 || better(p, best)) best = p;
  }
  return best;
}

// Finds room for `piece`, evicting unpinned pieces in policy order.
bool Simulator::Place(int piece) {
  const int64_t bytes = plan_.pieces[piece].bytes;
  while (true) {
    if (std::optional<int64_t> off = pad_.FirstFit(bytes)) {
      pad_.Take(*off, bytes);
      AllocationRecord a{piece, *off, bytes, pad_.AvailableAt(*off, bytes), 0};
      st_[piece].allocation = static_cast<int>(plan_.allocations.size());
      st_[piece].on_chip = true;
      plan_.allocations.push_back(a);
      live_.insert(piece);
      return true;
    }
    int victim = PickVictim(position_);
    if (victim < 0) return false;
    Evict(victim);
  }
}

// Loads a placed piece from DRAM when its data lives there; returns the
// cycle its on-chip copy is valid.
int64_t Simulator::LoadIfNeeded(int piece) {
  PieceState& s = st_[piece];
  const Piece& p = plan_.pieces[piece];
  AllocationRecord& a = plan_.allocations[s.allocation];
  if (!s.in_dram) {  // produced here, or a state starting at zero
    return a.allocated_at;
  }
  TransferRecord t;
  t.direction = Direction::kLoad;
  t.piece = piece;
  t.operand = p.operand;
  t.bytes = p.bytes;
  t.allocation = s.allocation;
  t.start = std::max({link_free_, a.allocated_at, s.dram_ready_at});
  t.end = t.start + LinkCycles(p.bytes);
  t.cause = !s.seen ? (p.kind == PieceKind::kState ? Cause::kStateInit : Cause::kFirstUse)
                    : Cause::kReload;
  link_free_ = t.end;
  a.allocated_at = t.start;
  plan_.transfers.push_back(t);
  s.ready_at = t.end;
  s.seen = true;
  return t.end;
}

absl::Status Simulator::PrepareTile(size_t position, const std::vector<int>& needed) {
  for (int p : needed) pinned_at_[p] = static_cast<int64_t>(position);
  for (int attempt = 0; attempt < 2; ++attempt) {
    bool placed = true;
    for (int p : needed)
      if (!st_[p].on_chip && !(placed = Place(p))) break;
    if (placed) return absl::OkStatus();
    // Fragmented by this tile's own pieces: write them back and re-place
    // everything from a clean buffer (they are reloaded below).
    for (int p : needed)
      if (st_[p].on_chip) Evict(p);
  }
  int64_t need = 0;
  for (int p : needed) need += plan_.pieces[p].bytes;
  const Tile& tile = plan_.graph.tiles[plan_.graph.order[position]];
  return absl::ResourceExhaustedError(absl::StrCat(
      "infeasible: tile ", position, " of layer '", w_.layers[tile.layer].name, "' (block ",
      w_.layers[tile.layer].block, ") needs ", need, " bytes on chip but the global buffer '",
      gb_.name, "' holds ", pad_.capacity(), " bytes (short by ", need - pad_.capacity(),
      " bytes); use smaller tiles (lf, st) or a larger --sram"));
}

absl::Status Simulator::RunTile(size_t position) {
  position_ = position;
  const int id = plan_.graph.order[position];
  const Tile& tile = plan_.graph.tiles[id];
  const ir::Layer& layer = w_.layers[tile.layer];
  const cost::TileCost& c = *plan_.shape_costs[tile.shape];
  const int wp = layer_weights_[tile.layer], sp = tile_state_[id], op = tile_output_[id];
  const std::vector<int>& ins = tile_inputs_[id];
  const bool stream_w = Streams(c, ir::Operand::kW), stream_i = Streams(c, ir::Operand::kI);
  const bool stream_o = Streams(c, ir::Operand::kO), stream_s = Streams(c, ir::Operand::kS);

  // Streamed operands are read from DRAM inside the tile: make DRAM current.
  if (stream_i)
    for (int p : ins)
      if (st_[p].on_chip && st_[p].dirty) Store(p, Cause::kWriteback, 0);
  if (stream_s && sp >= 0 && st_[sp].on_chip) Evict(sp);

  std::vector<int>& needed = needed_;
  needed.clear();
  if (wp >= 0 && !stream_w) needed.push_back(wp);
  if (sp >= 0 && !stream_s) needed.push_back(sp);
  if (!stream_i) needed.insert(needed.end(), ins.begin(), ins.end());
  if (!stream_o) needed.push_back(op);
  std::vector<int>& allocation_before = allocation_before_;
  allocation_before.clear();
  for (int p : needed) allocation_before.push_back(st_[p].allocation);
  if (absl::Status s = PrepareTile(position, needed); !s.ok()) return s;

  // Pieces placed for this tile load from DRAM; the others are ready when
  // their producer (or earlier load) finished.
  int64_t start = core_free_;
  for (size_t i = 0; i < needed.size(); ++i) {
    const int p = needed[i];
    if (p == op) continue;
    const bool placed_now = st_[p].allocation != allocation_before[i];
    start = std::max(start, placed_now ? LoadIfNeeded(p) : st_[p].ready_at);
  }
  if (!stream_o) start = std::max(start, plan_.allocations[st_[op].allocation].allocated_at);
  if (stream_i)
    for (int p : ins) start = std::max(start, st_[p].dram_ready_at);
  const bool streams = stream_w || stream_i || stream_o || stream_s;
  if (streams) start = std::max(start, link_free_);
  const int64_t end = start + std::max<int64_t>(1, c.latency_cycles);

  TileRecord rec;
  rec.tile = id;
  rec.start = start;
  rec.end = end;
  rec.energy = c.energy;
  for (int p : needed)
    if (p != op) rec.reads.push_back(st_[p].allocation);
  if (!stream_o) {
    st_[op].ready_at = end;
    st_[op].dirty = true;
    st_[op].seen = true;
    plan_.allocations[st_[op].allocation].allocated_at = start;
    rec.writes.push_back(st_[op].allocation);
  }
  if (sp >= 0 && !stream_s) {
    PieceState& s = st_[sp];
    if (!s.seen) plan_.allocations[s.allocation].allocated_at = start;
    s.seen = true;
    s.dirty = true;
    s.in_dram = false;
    s.ready_at = end;
    rec.writes.push_back(s.allocation);
  }
  if (streams) {
    TransferRecord t;
    t.direction = Direction::kStream;
    t.piece = -1;
    t.start = start;
    t.end = end;
    t.cause = Cause::kStream;
    t.tile = static_cast<int>(position);
    for (ir::Operand o : ir::kAllOperands) {
      const cost::OperandTraffic& tr = c.dram_traffic[static_cast<int>(o)];
      t.stream_read[static_cast<int>(o)] = GranuleBytes(tr.read_bits, gb_.access_granularity_bits);
      t.stream_write[static_cast<int>(o)] =
          GranuleBytes(tr.write_bits, gb_.access_granularity_bits);
    }
    if (stream_w && wp >= 0) t.stream_pieces.push_back(wp);
    if (stream_i) t.stream_pieces.insert(t.stream_pieces.end(), ins.begin(), ins.end());
    if (stream_s && sp >= 0) {
      AssignDram(sp, kRegionState);
      t.stream_pieces.push_back(sp);
      st_[sp].in_dram = true;
      st_[sp].seen = true;
      st_[sp].dram_ready_at = end;
    }
    if (stream_o) {
      AssignDram(op, layer.network_output && plan_.pieces[op].uses.empty() ? kRegionOutput
                                                                           : kRegionFeatures);
      t.stream_pieces.push_back(op);
      st_[op].in_dram = true;
      st_[op].seen = true;
      st_[op].dram_ready_at = end;
    }
    link_free_ = end;
    plan_.transfers.push_back(t);
  }
  plan_.tiles.push_back(rec);
  core_free_ = end;

  // Consume uses; free what nobody reads again.
  std::vector<int>& read = read_;
  read.assign(ins.begin(), ins.end());
  if (wp >= 0) read.push_back(wp);
  if (sp >= 0) read.push_back(sp);
  for (int p : read) {
    PieceState& s = st_[p];
    ++s.used;
    s.last_read_end = std::max(s.last_read_end, end);
    if (s.used < plan_.pieces[p].uses.size() || !s.on_chip) continue;
    int64_t until = end;
    if (p == sp && plan_.options.state_io == cost::StateIo::kDram)
      until = Store(p, Cause::kStateFinal, end);
    Free(p, until);
  }
  if (st_[op].on_chip) {
    int64_t until = end;
    if (layer.network_output) until = Store(op, Cause::kFinalOutput, end);
    if (plan_.pieces[op].uses.empty()) Free(op, until);
  }
  return absl::OkStatus();
}

void Simulator::Finish() {
  int64_t end = std::max(core_free_, link_free_);
  for (int p : std::vector<int>(live_.begin(), live_.end())) Free(p, end);
  // Region bases: regions laid out one after the other, 64-byte aligned.
  int64_t base = 0;
  std::array<int64_t, kRegions> region_base = {};
  for (int r = 0; r < kRegions; ++r) {
    region_base[r] = base;
    plan_.dram_layout.push_back({kRegionNames[r], base, region_used_[r]});
    base += (region_used_[r] + 63) / 64 * 64;
  }
  plan_.piece_address.assign(plan_.pieces.size(), -1);
  for (size_t p = 0; p < plan_.pieces.size(); ++p)
    if (st_[p].region != kNoRegion)
      plan_.piece_address[p] = region_base[st_[p].region] + st_[p].region_offset;
}

absl::Status Simulator::Run() {
  st_.assign(plan_.pieces.size(), {});
  pinned_at_.assign(plan_.pieces.size(), -1);
  plan_.tiles.reserve(plan_.graph.order.size());
  plan_.allocations.reserve(2 * plan_.graph.order.size());
  plan_.transfers.reserve(plan_.graph.order.size());
  for (size_t p = 0; p < plan_.pieces.size(); ++p) {
    const Piece& piece = plan_.pieces[p];
    PieceState& s = st_[p];
    if (piece.kind == PieceKind::kWeights) {
      s.in_dram = true;
      AssignDram(static_cast<int>(p), kRegionWeights);
    } else if (piece.kind == PieceKind::kInput) {
      s.in_dram = true;
      AssignDram(static_cast<int>(p), kRegionInput);
    } else if (piece.kind == PieceKind::kState && plan_.options.state_io == cost::StateIo::kDram) {
      s.in_dram = true;  // STEMS: every state slice starts in DRAM
      AssignDram(static_cast<int>(p), kRegionState);
    }
  }
  for (size_t pos = 0; pos < plan_.graph.order.size(); ++pos)
    if (absl::Status s = RunTile(pos); !s.ok()) return s;
  Finish();
  return absl::OkStatus();
}

}  // namespace

absl::Status Simulate(Plan& plan) {
  Simulator sim(plan);
  return sim.Run();
}

}  // namespace snnplan::plan
