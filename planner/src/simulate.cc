// Stage 3: executes the ordered tiles on their cores, each against its own
// scratchpad global buffer, with one DRAM link shared by all cores and a mesh
// NoC between them, recording every allocation and transfer.
#include <algorithm>
#include <limits>
#include <map>

#include "absl/strings/str_cat.h"
#include "link_calendar.h"
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

constexpr int kNoRegion = -1;

// The operand a transfer toward a tile is labelled with: the role its bytes
// play there (docs/manifest.md, "Operands"). A feature brought (back) on
// chip is read as a tile's input: I; stores keep the piece's own operand
// (a feature is written as a tile's output: O).
ir::Operand ReadOperand(const Piece& p) {
  return p.kind == PieceKind::kFeature ? ir::Operand::kI : p.operand;
}
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
  int64_t last_read_end = 0;   // end of the last tile or NoC copy that read it
  int64_t last_store_end = 0;  // end of the last store reading its allocation
  bool seen = false;           // loaded or produced before
  int region = kNoRegion;
  int64_t region_offset = 0;
};

// A piece on chip with what eviction compares, kept together so the victim
// scan reads one compact array.
struct LivePiece {
  int piece = 0;
  int depth = 0;
  int64_t bytes = 0;
};

// One core's global buffer and compute timeline.
struct CoreState {
  explicit CoreState(const hw::Core& core)
      : gb(core.global_buffer()), pad(core.global_buffer().size_bits / 8) {}
  const hw::MemoryLevel& gb;
  Scratchpad pad;
  // Pieces on chip, unordered (eviction ties break by piece id, so order
  // never matters); live_slot below gives each one's position.
  std::vector<LivePiece> live;
  int64_t free_at = 0;
};

// A directed mesh link: from (x, y) to a neighbour (x', y').
using NocLink = std::array<int64_t, 4>;

class Simulator {
 public:
  explicit Simulator(Plan& plan) : plan_(plan), w_(*plan.workload) {
    for (const hw::Core& c : plan.hardware.cores) cores_.emplace_back(c);
  }

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
  int Orig(int piece) const { return Original(plan_.pieces, piece); }
  CoreState& CoreOf(int piece) { return cores_[plan_.pieces[piece].core]; }
  void AssignDram(int piece, int region);
  int64_t Store(int piece, Cause cause, int64_t not_before);
  void Evict(int piece);
  bool Place(int piece);
  int PickVictim(const CoreState& core, size_t position) const;
  bool Pinned(int piece) const { return pinned_at_[piece] == static_cast<int64_t>(position_); }
  void Free(int piece, int64_t at);
  absl::Status PrepareTile(size_t position, int core, const std::vector<int>& needed);
  int64_t LoadIfNeeded(int piece);
  int64_t Load(int piece, int from_piece);
  int64_t NocCopy(int copy);
  NocRoute Route(int from_core, int to_core) const;
  void Consume(int piece, int64_t end);
  absl::Status RunTile(size_t position);
  void Finish();

  Plan& plan_;
  const ir::Workload& w_;
  std::vector<CoreState> cores_;
  std::vector<PieceState> st_;
  std::vector<int64_t> pinned_at_;   // order position of the tile that needs it
  std::vector<int> live_slot_;       // index in its core's live list (-1: off chip)
  std::vector<int> remaining_uses_;  // readers still to run, per piece
  // Per-tile scratch, reused to avoid allocations in the hot loop.
  std::vector<int> needed_, allocation_before_, read_;
  const std::vector<PieceList>& tile_inputs_ = plan_.tile_inputs;
  const std::vector<int>& tile_output_ = plan_.tile_output;
  const std::vector<int>& tile_state_ = plan_.tile_state;
  const std::vector<int>& layer_weights_ = plan_.layer_weights;
  std::array<int64_t, kRegions> region_used_ = {};
  LinkCalendar dram_link_;                     // shared by all cores
  std::map<NocLink, LinkCalendar> noc_links_;  // NoC links used so far
  size_t position_ = 0;
  absl::Status error_;  // an invariant broken inside the hot loop
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
  TransferRecord& t = plan_.transfers.emplace_back();
  t.direction = Direction::kStore;
  t.piece = piece;
  t.operand = p.operand;
  t.bytes = p.bytes;
  t.link_bytes = p.link_bytes;
  t.encoded = p.encoded;
  t.allocation = s.allocation;
  t.core = p.core;
  const int64_t cycles = LinkCycles(p.link_bytes);
  t.start = dram_link_.Earliest(std::max(s.ready_at, not_before), cycles);
  t.end = t.start + cycles;
  t.cause = cause;
  dram_link_.Reserve(t.start, cycles);
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
  CoreState& core = cores_[a.core];
  core.pad.Release(a.offset, a.bytes, a.freed_at);
  s.on_chip = false;
  s.allocation = -1;
  // Swap-remove from the core's live list.
  const int slot = live_slot_[piece];
  core.live[slot] = core.live.back();
  live_slot_[core.live[slot].piece] = slot;
  core.live.pop_back();
  live_slot_[piece] = -1;
}

// Copies on another core are never dirty: evicting one just drops it.
void Simulator::Evict(int piece) {
  int64_t until = 0;
  if (st_[piece].dirty) until = Store(piece, Cause::kWriteback, 0);
  Free(piece, until);
}

int Simulator::PickVictim(const CoreState& core, size_t position) const {
  const LivePiece* best = nullptr;
  auto better = [&](const LivePiece& a, const LivePiece& b) {  // a goes before b
    if (plan_.options.eviction == Eviction::kBelady) {
      auto next = [&](int id) {
        const Piece& p = plan_.pieces[id];
        auto it = std::lower_bound(p.uses.begin(), p.uses.end(), static_cast<int>(position));
        return it == p.uses.end() ? std::numeric_limits<int>::max() : *it;
      };
      const int na = next(a.piece), nb = next(b.piece);
      if (na != nb) return na > nb;
      return a.piece < b.piece;
    }
    // remaining uses / bytes, compared exactly: ra * bb < rb * ba
    const __int128 ra = static_cast<__int128>(remaining_uses_[a.piece]) * b.bytes;
    const __int128 rb = static_cast<__int128>(remaining_uses_[b.piece]) * a.bytes;
    if (ra != rb) return ra < rb;
    if (a.depth != b.depth) return a.depth > b.depth;
    return a.piece < b.piece;
  };
  for (const LivePiece& p : core.live) {
    if (Pinned(p.piece)) continue;
    if (!best || better(p, *best)) best = &p;
  }
  return best ? best->piece : -1;
}

// Finds room for `piece` on its core, evicting unpinned pieces there in
// policy order.
bool Simulator::Place(int piece) {
  const int64_t bytes = plan_.pieces[piece].bytes;
  CoreState& core = CoreOf(piece);
  while (true) {
    if (std::optional<int64_t> off = core.pad.FirstFit(bytes)) {
      core.pad.Take(*off, bytes);
      AllocationRecord a{piece, plan_.pieces[piece].core,          *off,
                         bytes, core.pad.AvailableAt(*off, bytes), 0};
      st_[piece].allocation = static_cast<int>(plan_.allocations.size());
      st_[piece].on_chip = true;
      plan_.allocations.push_back(a);
      live_slot_[piece] = static_cast<int>(core.live.size());
      core.live.push_back({piece, Depth(piece), bytes});
      return true;
    }
    int victim = PickVictim(core, position_);
    if (victim < 0) return false;
    Evict(victim);
  }
}

// Loads placed `piece` from the DRAM copy of `from_piece` (itself, or the
// original of a copy); returns the cycle its on-chip data is valid.
int64_t Simulator::Load(int piece, int from_piece) {
  PieceState& s = st_[piece];
  const Piece& p = plan_.pieces[piece];
  AllocationRecord& a = plan_.allocations[s.allocation];
  const Piece& from = plan_.pieces[from_piece];
  TransferRecord& t = plan_.transfers.emplace_back();
  t.direction = Direction::kLoad;
  t.piece = piece;
  t.operand = ReadOperand(p);
  t.bytes = from.bytes;
  t.link_bytes = from.link_bytes;
  t.encoded = from.encoded;
  t.allocation = s.allocation;
  t.core = p.core;
  const int64_t cycles = LinkCycles(from.link_bytes);
  t.start = dram_link_.Earliest(std::max(a.allocated_at, st_[from_piece].dram_ready_at), cycles);
  t.end = t.start + cycles;
  dram_link_.Reserve(t.start, cycles);
  t.cause = !s.seen ? (p.kind == PieceKind::kState ? Cause::kStateInit : Cause::kFirstUse)
                    : Cause::kReload;
  a.allocated_at = t.start;
  s.ready_at = t.end;
  s.seen = true;
  return t.end;
}

// XY routing: along x to the destination column, then along y.
NocRoute Simulator::Route(int from_core, int to_core) const {
  auto position = [&](int core) {
    const hw::NocPosition* p = plan_.hardware.PositionOf(plan_.hardware.cores[core].id);
    return p ? std::array<int64_t, 2>{p->x, p->y} : std::array<int64_t, 2>{0, 0};
  };
  std::array<int64_t, 2> at = position(from_core);
  const std::array<int64_t, 2> to = position(to_core);
  NocRoute route = {at};
  for (int axis = 0; axis < 2; ++axis)
    while (at[axis] != to[axis]) {
      at[axis] += at[axis] < to[axis] ? 1 : -1;
      route.push_back(at);
    }
  return route;
}

// Fills placed copy `copy` from its original's on-chip data over the NoC.
// The transfer holds every link of its route for its whole duration.
int64_t Simulator::NocCopy(int copy) {
  const Piece& p = plan_.pieces[copy];
  const int src = p.source;
  PieceState& s = st_[src];
  PieceState& c = st_[copy];
  AllocationRecord& a = plan_.allocations[c.allocation];
  TransferRecord& t = plan_.transfers.emplace_back();
  t.direction = Direction::kNoc;
  t.piece = copy;
  t.operand = ReadOperand(p);
  t.bytes = plan_.pieces[src].bytes;
  t.link_bytes = plan_.pieces[src].link_bytes;
  t.encoded = plan_.pieces[src].encoded;
  t.allocation = c.allocation;
  t.src_allocation = s.allocation;
  t.core = p.core;
  t.from_core = plan_.pieces[src].core;
  t.route = Route(t.from_core, t.core);
  const hw::Noc& noc = plan_.hardware.noc;
  const int64_t bits = t.link_bytes * 8;  // over the links; the buffers hold t.bytes
  const int64_t cycles = (bits + noc.link_bw_bits_per_cycle - 1) / noc.link_bw_bits_per_cycle;
  absl::InlinedVector<LinkCalendar*, 4> links;
  for (size_t i = 1; i < t.route.size(); ++i)
    links.push_back(
        &noc_links_[{t.route[i - 1][0], t.route[i - 1][1], t.route[i][0], t.route[i][1]}]);
  // The earliest start at which every link of the route is free.
  t.start = std::max(s.ready_at, a.allocated_at);
  for (bool moved = true; moved;) {
    moved = false;
    for (LinkCalendar* l : links) {
      const int64_t at = l->Earliest(t.start, cycles);
      moved |= at != t.start;
      t.start = at;
    }
  }
  t.end = t.start + cycles;
  for (LinkCalendar* l : links) l->Reserve(t.start, cycles);
  const double hops = static_cast<double>(links.size());
  t.noc_energy.noc_pj =
      static_cast<double>(bits) * hops * noc.link_energy_fj_per_bit_per_hop / 1000;
  t.noc_energy.sram_pj =
      static_cast<double>(t.bytes * 8) *
      (cores_[t.from_core].gb.read_energy_fj_per_bit + cores_[t.core].gb.write_energy_fj_per_bit) /
      1000;
  t.cause = c.seen ? Cause::kReload : Cause::kFirstUse;
  a.allocated_at = t.start;
  s.last_read_end = std::max(s.last_read_end, t.end);
  c.ready_at = t.end;
  c.seen = true;
  return c.ready_at;
}

// Fills a piece placed for the current tile when its data lives elsewhere;
// returns the cycle its on-chip copy is valid.
int64_t Simulator::LoadIfNeeded(int piece) {
  PieceState& s = st_[piece];
  const int src = plan_.pieces[piece].source;
  if (src >= 0) {  // a copy: from the original on its core, else its DRAM copy
    if (st_[src].on_chip) return NocCopy(piece);
    if (st_[src].in_dram) return Load(piece, src);
    error_ = absl::InternalError(absl::StrCat("piece ", src,
                                              " is neither on chip nor in DRAM "
                                              "when core ",
                                              plan_.pieces[piece].core, " needs a copy"));
    return s.ready_at;
  }
  if (!s.in_dram) return plan_.allocations[s.allocation].allocated_at;  // produced here
  return Load(piece, piece);
}

absl::Status Simulator::PrepareTile(size_t position, int core, const std::vector<int>& needed) {
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
  const CoreState& c = cores_[core];
  const std::string where =
      cores_.size() > 1 ? absl::StrCat(" of core ", plan_.hardware.cores[core].id) : "";
  return absl::ResourceExhaustedError(absl::StrCat(
      "infeasible: tile ", position, " of layer '", w_.layers[tile.layer].name, "' (block ",
      w_.layers[tile.layer].block, ") needs ", need, " bytes on chip but the global buffer '",
      c.gb.name, "'", where, " holds ", c.pad.capacity(), " bytes (short by ",
      need - c.pad.capacity(), " bytes); use smaller tiles (lf, st) or a larger --sram"));
}

// One more reader of `piece` has run (until `end`); frees it after its last.
void Simulator::Consume(int piece, int64_t end) {
  PieceState& s = st_[piece];
  --remaining_uses_[piece];
  s.last_read_end = std::max(s.last_read_end, end);
  const Piece& p = plan_.pieces[piece];
  if (p.source >= 0) Consume(p.source, end);  // the original counts its copies' readers
  if (remaining_uses_[piece] > 0 || !s.on_chip) return;
  int64_t until = end;
  if (p.kind == PieceKind::kState && plan_.options.state_io == cost::StateIo::kDram)
    until = Store(piece, Cause::kStateFinal, end);
  Free(piece, until);
}

absl::Status Simulator::RunTile(size_t position) {
  position_ = position;
  const int id = plan_.graph.order[position];
  const Tile& tile = plan_.graph.tiles[id];
  const ir::Layer& layer = w_.layers[tile.layer];
  const int core = plan_.layer_core[tile.layer];
  CoreState& cs = cores_[core];
  const cost::TileCost& c = *plan_.shape_costs[tile.shape];
  const int wp = layer_weights_[tile.layer], sp = tile_state_[id], op = tile_output_[id];
  const PieceList& ins = tile_inputs_[id];
  const bool stream_w = Streams(c, ir::Operand::kW), stream_i = Streams(c, ir::Operand::kI);
  const bool stream_o = Streams(c, ir::Operand::kO), stream_s = Streams(c, ir::Operand::kS);

  // Streamed operands are read from DRAM inside the tile: make DRAM current.
  if (stream_i)
    for (int p : ins)
      if (const int o = Orig(p); st_[o].on_chip && st_[o].dirty) Store(o, Cause::kWriteback, 0);
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
  if (absl::Status s = PrepareTile(position, core, needed); !s.ok()) return s;

  // Pieces placed for this tile are filled (DRAM or NoC); the others are
  // ready when their producer (or earlier fill) finished.
  int64_t start = cs.free_at;
  for (size_t i = 0; i < needed.size(); ++i) {
    const int p = needed[i];
    if (p == op) continue;
    const bool placed_now = st_[p].allocation != allocation_before[i];
    start = std::max(start, placed_now ? LoadIfNeeded(p) : st_[p].ready_at);
  }
  if (!error_.ok()) return error_;
  if (!stream_o) start = std::max(start, plan_.allocations[st_[op].allocation].allocated_at);
  if (stream_i)
    for (int p : ins) start = std::max(start, st_[Orig(p)].dram_ready_at);
  const bool streams = stream_w || stream_i || stream_o || stream_s;
  const int64_t duration = std::max<int64_t>(1, c.latency_cycles);
  if (streams) {  // the tile holds the DRAM link for its whole duration
    start = dram_link_.Earliest(start, duration);
    dram_link_.Reserve(start, duration);
  }
  const int64_t end = start + duration;

  TileRecord& rec = plan_.tiles.emplace_back();
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
    if (!s.seen) {  // never loaded (on-chip zero init): the tile starts it
      plan_.allocations[s.allocation].allocated_at = start;
      plan_.allocations[s.allocation].init = true;
    }
    s.seen = true;
    s.dirty = true;
    s.in_dram = false;
    s.ready_at = end;
    rec.writes.push_back(s.allocation);
  }
  if (streams) {
    TransferRecord& t = plan_.transfers.emplace_back();
    t.direction = Direction::kStream;
    t.piece = -1;
    t.core = core;
    t.start = start;
    t.end = end;
    t.cause = Cause::kStream;
    t.tile = static_cast<int>(position);
    for (ir::Operand o : ir::kAllOperands) {
      const cost::OperandTraffic& tr = c.dram_traffic[static_cast<int>(o)];
      t.stream_read[static_cast<int>(o)] =
          GranuleBytes(tr.read_bits, cs.gb.access_granularity_bits);
      t.stream_write[static_cast<int>(o)] =
          GranuleBytes(tr.write_bits, cs.gb.access_granularity_bits);
    }
    if (stream_w && wp >= 0) t.stream_pieces.push_back(wp);
    if (stream_i)
      for (int p : ins) t.stream_pieces.push_back(Orig(p));
    if (stream_s && sp >= 0) {
      t.stream_state_init = !st_[sp].seen && plan_.options.state_io == cost::StateIo::kZero;
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
  }
  cs.free_at = end;

  // Consume uses; free what nobody reads again.
  std::vector<int>& read = read_;
  read.assign(ins.begin(), ins.end());
  if (wp >= 0) read.push_back(wp);
  if (sp >= 0) read.push_back(sp);
  for (int p : read) Consume(p, end);
  if (st_[op].on_chip) {
    int64_t until = end;
    if (layer.network_output) until = Store(op, Cause::kFinalOutput, end);
    if (plan_.pieces[op].uses.empty()) Free(op, until);
  }
  return absl::OkStatus();
}

void Simulator::Finish() {
  int64_t end = dram_link_.end();
  for (const CoreState& c : cores_) end = std::max(end, c.free_at);
  for (const auto& [link, calendar] : noc_links_) end = std::max(end, calendar.end());
  for (CoreState& c : cores_) {
    std::vector<int> live;
    for (const LivePiece& l : c.live) live.push_back(l.piece);
    std::sort(live.begin(), live.end());  // allocation records in piece order
    for (int p : live) Free(p, end);
  }
  // Parameter blocks: in the weights region, after the weight pieces.
  std::vector<int64_t> parameter_offset;
  for (const ParamBlock& b : plan_.parameters) {
    parameter_offset.push_back(region_used_[kRegionWeights]);
    region_used_[kRegionWeights] += b.bytes;
  }
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
    if (const PieceState& s = st_[Orig(static_cast<int>(p))]; s.region != kNoRegion)
      plan_.piece_address[p] = region_base[s.region] + s.region_offset;
  plan_.parameter_address.clear();
  for (int64_t offset : parameter_offset)
    plan_.parameter_address.push_back(region_base[kRegionWeights] + offset);
}

absl::Status Simulator::Run() {
  st_.assign(plan_.pieces.size(), {});
  pinned_at_.assign(plan_.pieces.size(), -1);
  live_slot_.assign(plan_.pieces.size(), -1);
  remaining_uses_.resize(plan_.pieces.size());
  for (size_t p = 0; p < plan_.pieces.size(); ++p)
    remaining_uses_[p] = static_cast<int>(plan_.pieces[p].uses.size());
  plan_.tiles.reserve(plan_.graph.order.size());
  plan_.allocations.reserve(2 * plan_.graph.order.size());
  plan_.transfers.reserve(2 * plan_.graph.order.size());
  plan_.parameters = LayerParameters(w_, plan_.hardware, plan_.layer_core);
  for (size_t p = 0; p < plan_.pieces.size(); ++p) {
    const Piece& piece = plan_.pieces[p];
    PieceState& s = st_[p];
    if (piece.source >= 0) continue;  // copies are filled from their original
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
