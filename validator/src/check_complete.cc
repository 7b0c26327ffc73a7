// schema_version 4: what a firmware team needs to execute a manifest without
// guessing (docs/manifest.md): every layer's parameter block placed in the
// weights region without touching a weight piece, every stream's descriptors
// the canonical DMA sequence (the bytes of its pieces the tile needs, adding
// up to its operand bytes) inside the pieces it names, the network
// input and output slices where the transfers put them, the initial state
// provided (DRAM slices under state_io dram, an init marker on chip), and
// every graph output accounted for.
#include <algorithm>
#include <set>

#include "model.h"

namespace snnplan::validate {
namespace {

const MRegion* Region(const Manifest& m, const std::string& name) {
  for (const MRegion& r : m.regions)
    if (r.name == name) return &r;
  return nullptr;
}

bool Inside(const MRegion* r, int64_t address, int64_t bytes) {
  return r != nullptr && address >= r->base && bytes >= 0 && address + bytes <= r->base + r->bytes;
}

// DRAM ranges [address, address + bytes) of weight pieces, from the
// transfers that read them.
std::map<int64_t, int64_t> WeightRanges(const Manifest& m) {
  std::map<int64_t, int64_t> ranges;
  for (const MTransfer& x : m.transfers) {
    if (x.dir == Dir::kLoad && x.tensor.kind == Kind::kWeights)
      ranges[x.dram_address] = std::max(ranges[x.dram_address], x.bytes);
    if (x.dir == Dir::kStream)
      for (const PieceRef& p : x.pieces)
        if (p.kind == Kind::kWeights && p.dram_address >= 0)
          ranges[p.dram_address] = std::max(ranges[p.dram_address], p.bytes);
  }
  return ranges;
}

// Every load or stream of a layer's weights reads its `weights_piece`, which
// lies in the weights region.
void CheckWeightPieces(const Manifest& m, const MComplete& c, Violations* out) {
  const MRegion* weights = Region(m, "weights");
  std::map<int64_t, int64_t> by_piece;  // piece -> layer
  for (const auto& [layer, w] : c.weights_pieces) {
    by_piece[w[0]] = layer;
    if (!Inside(weights, w[1], w[2]))
      Add(out, "weights.piece",
          absl::StrCat("the weights of layer ", layer, " at DRAM ", w[1], " (", w[2],
                       " B) lie outside the weights region"));
  }
  auto check = [&](const PieceRef& p, int64_t address, const std::string& who) {
    auto it = by_piece.find(p.piece);
    const std::array<int64_t, 3>* w =
        it == by_piece.end() ? nullptr : &c.weights_pieces.at(it->second);
    if (w == nullptr || (*w)[1] != address || (p.bytes >= 0 && (*w)[2] != p.bytes))
      Add(out, "weights.piece",
          absl::StrCat(who, " reads ", Describe(p), " at DRAM ", address,
                       w == nullptr ? std::string(" but no layer lists it as its weights_piece")
                                    : absl::StrCat(" but its layer's weights_piece is at DRAM ",
                                                   (*w)[1], " (", (*w)[2], " B)")));
  };
  for (const MTransfer& x : m.transfers) {
    if (x.dir == Dir::kLoad && x.tensor.kind == Kind::kWeights) {
      PieceRef p = x.tensor;
      p.bytes = x.bytes;
      check(p, x.dram_address, absl::StrCat("transfer ", x.id));
    }
    if (x.dir == Dir::kStream)
      for (const PieceRef& p : x.pieces)
        if (p.kind == Kind::kWeights) check(p, p.dram_address, absl::StrCat("stream ", x.id));
  }
}

void CheckParameters(const Manifest& m, const MComplete& c, Violations* out) {
  const MRegion* weights = Region(m, "weights");
  std::map<int64_t, int64_t> pieces = WeightRanges(m);
  for (const auto& [layer, w] : c.weights_pieces) pieces[w[1]] = std::max(pieces[w[1]], w[2]);
  std::map<int64_t, const MParams*> blocks;  // by address
  std::set<int64_t> layers;
  for (const MParams& p : c.parameters) {
    const std::string name = absl::StrCat("parameters of layer ", p.layer_id);
    if (!layers.insert(p.layer_id).second) Add(out, "params.duplicate", name + " appear twice");
    if (m.layer_table &&
        (p.layer_id < 0 || p.layer_id >= static_cast<int64_t>(m.layer_table->size())))
      Add(out, "params.layer", name + ": no such layer");
    if (!Inside(weights, p.dram_address, p.bytes))
      Add(out, "params.region",
          absl::StrCat(name, " at DRAM ", p.dram_address, " (", p.bytes,
                       " B) lie outside the weights region"));
    int64_t end = 0;
    for (const MParamField& f : p.fields) {
      if (f.offset != end || f.count < 1)
        Add(out, "params.fields",
            absl::StrCat(name, ": field ", f.name, " at offset ", f.offset, " with ", f.count,
                         " values does not follow the previous field (offset ", end, ")"));
      end = f.offset + f.count * 8;
    }
    if (end > p.bytes)
      Add(out, "params.fields",
          absl::StrCat(name, ": fields need ", end, " bytes but the block holds ", p.bytes));
    if (p.load_before_tile < 0 || p.load_before_tile >= static_cast<int64_t>(m.tiles.size()) ||
        m.tiles[p.load_before_tile].layer_id != p.layer_id)
      Add(out, "params.load",
          absl::StrCat(name, ": load_before_tile ", p.load_before_tile,
                       " is not a tile of the layer"));
    else
      for (size_t i = 0; i < static_cast<size_t>(p.load_before_tile); ++i)
        if (m.tiles[i].layer_id == p.layer_id) {
          Add(out, "params.load",
              absl::StrCat(name, " are loaded before tile ", p.load_before_tile, " but tile ",
                           m.tiles[i].id, " of the layer runs earlier"));
          break;
        }
    auto next = pieces.lower_bound(p.dram_address);
    if (next != pieces.end() && next->first < p.dram_address + p.bytes)
      Add(out, "params.overlap",
          absl::StrCat(name, " overlap the weight piece at DRAM ", next->first));
    if (next != pieces.begin() && std::prev(next)->first + std::prev(next)->second > p.dram_address)
      Add(out, "params.overlap",
          absl::StrCat(name, " overlap the weight piece at DRAM ", std::prev(next)->first));
    blocks[p.dram_address] = &p;
  }
  int64_t end = -1;
  const MParams* last = nullptr;
  for (const auto& [address, p] : blocks) {
    if (last != nullptr && address < end)
      Add(out, "params.overlap",
          absl::StrCat("parameters of layers ", last->layer_id, " and ", p->layer_id,
                       " share DRAM bytes at ", address));
    end = std::max(end, address + p->bytes);
    last = p;
  }
}

// A descriptor as the canonical sequence compares it (repeat aside).
struct Step {
  int64_t piece = 0;
  int operand = 0;
  bool write = false;
  int64_t dram_address = 0, byte_offset = 0, bytes = 0;
  std::string init;  // "" when none
  int64_t repeat = 1;
  bool Same(const Step& o) const {
    return piece == o.piece && operand == o.operand && write == o.write &&
           dram_address == o.dram_address && byte_offset == o.byte_offset && bytes == o.bytes &&
           init == o.init;
  }
};
std::string StepStr(const Step& d) {
  return absl::StrCat("{piece ", d.piece, ", ", kOperands[d.operand], " ",
                      d.write ? "write" : "read", ", DRAM ", d.dram_address, ", offset ",
                      d.byte_offset, ", ", d.bytes, " B x", d.repeat,
                      d.init.empty() ? std::string() : absl::StrCat(", init ", d.init), "}");
}
// Appends `d`, merging it into the last step when identical (`repeat`).
void Push(std::vector<Step>* seq, const Step& d) {
  if (!seq->empty() && seq->back().Same(d)) {
    seq->back().repeat += d.repeat;
    return;
  }
  seq->push_back(d);
}

// The role a stream piece plays for its tile (docs/manifest.md, "Operands"):
// weights W, state S, the tile's own output O, everything else I.
int RoleOf(const PieceRef& p, const MTile& t) {
  if (p.kind == Kind::kWeights) return 0;
  if (p.kind == Kind::kState) return 3;
  if (p.kind == Kind::kFeature && p.layer == t.layer && p.sample == t.sample && p.t == t.t &&
      p.rows == t.rows)
    return 2;
  return 1;
}

// The init marker a state read of `t` must carry: under on-chip initial
// state, when the stream covers the state piece's first timesteps (its DRAM
// copy holds nothing yet), "zero" or "initial" from the layer's initial
// values; otherwise none.
std::string ExpectedInit(const Manifest& m, const MTile& t) {
  if (m.complete->initial_mode != "on_chip" || t.t.begin != 0) return {};
  if (m.layer_table && t.layer_id >= 0 && t.layer_id < static_cast<int64_t>(m.layer_table->size()))
    for (double v : (*m.layer_table)[t.layer_id].initial_state)
      if (v != 0) return "initial";
  return "zero";
}

// The byte ranges [begin, end) of input piece `p` tile `t` needs
// (docs/manifest.md, "Stream descriptors"): the piece's (stored step, row)
// lines inside the receptive field of some input of the tile's layer that
// reads the piece's tensor (`layers[].inputs`), each rounded outward to
// whole bytes, touching ranges merged; [0, bytes) when it needs every line.
// Empty when it needs none. nullopt when the layer table cannot say (the
// caller then reads the piece whole).
std::optional<std::vector<Span>> NeededBytes(const Manifest& m, const MTile& t, const PieceRef& p) {
  if (!m.layer_table || t.layer_id < 0 || t.layer_id >= static_cast<int64_t>(m.layer_table->size()))
    return std::nullopt;
  const std::vector<MLayer>& L = *m.layer_table;
  const MLayer& l = L[t.layer_id];
  const bool input = p.kind == Kind::kInput;
  const MLayer* producer = nullptr;
  if (!input) {
    for (const MLayer& c : L)
      if (p.layer && c.name == *p.layer) producer = &c;
    if (producer == nullptr) return std::nullopt;  // piece.layer
  }
  if (p.sample != t.sample || p.bytes <= 0) return std::vector<Span>{};
  const bool mean = producer != nullptr && producer->time == LayerTime::kMean;
  const Span steps = mean ? Span{0, 1} : p.t;  // the steps the piece stores
  const int64_t rows = p.rows.end - p.rows.begin, nsteps = steps.end - steps.begin;
  if (rows <= 0 || nsteps <= 0) return std::vector<Span>{};
  if (__int128{rows} * nsteps > (int64_t{1} << 24)) return std::nullopt;  // piece.range
  std::vector<char> need(static_cast<size_t>(rows * nsteps), 0);
  bool any = false, all = true;
  for (const MInput& in : l.inputs) {
    if (input ? in.layer.has_value()
              : !in.layer || *in.layer < 0 || *in.layer >= static_cast<int64_t>(L.size()) ||
                    L[*in.layer].name != *p.layer)
      continue;
    const Span r = in.Rows(t.rows), time = in.Time(t.t);
    for (int64_t u = std::max(time.begin, steps.begin); u < std::min(time.end, steps.end); ++u)
      for (int64_t y = std::max(r.begin, p.rows.begin); y < std::min(r.end, p.rows.end); ++y) {
        need[static_cast<size_t>((u - steps.begin) * rows + y - p.rows.begin)] = 1;
        any = true;
      }
  }
  for (char n : need) all &= n != 0;
  if (!any) return std::vector<Span>{};
  if (all) return std::vector<Span>{{0, p.bytes}};
  const __int128 bits =
      input ? __int128{m.complete->in_cols} * m.complete->in_channels * m.complete->in_bits
            : __int128{producer->OX} * producer->K * producer->output_bits;
  if (bits <= 0) return std::nullopt;
  std::vector<Span> out;
  for (size_t i = 0; i < need.size(); ++i) {
    if (!need[i]) continue;
    const __int128 line = static_cast<int64_t>(i);
    const int64_t begin = static_cast<int64_t>(std::min<__int128>(p.bytes, line * bits / 8));
    const int64_t end =
        static_cast<int64_t>(std::min<__int128>(p.bytes, ((line + 1) * bits + 7) / 8));
    if (begin >= end) continue;
    if (!out.empty() && begin <= out.back().end)
      out.back().end = std::max(out.back().end, end);
    else
      out.push_back({begin, end});
  }
  return out;
}

void CheckDescriptors(const Manifest& m, const MTransfer& x, const MTile* tile, Violations* out) {
  const std::string name =
      absl::StrCat("stream ", x.id, tile != nullptr ? absl::StrCat(" (tile ", tile->id, ")") : "");
  std::map<int64_t, const PieceRef*> pieces;
  for (const PieceRef& p : x.pieces) pieces[p.piece] = &p;
  std::array<__int128, 4> read = {}, write = {};
  std::vector<Step> actual;
  for (size_t i = 0; i < x.descriptors.size(); ++i) {
    const MDescriptor& d = x.descriptors[i];
    (d.write ? write : read)[d.operand] += static_cast<__int128>(d.bytes) * d.repeat;
    if (d.repeat >= 1)
      Push(&actual, {d.piece, d.operand, d.write, d.dram_address, d.byte_offset, d.bytes,
                     d.init.value_or(""), d.repeat});
    auto it = pieces.find(d.piece);
    if (it == pieces.end()) {
      Add(out, "stream.descriptor",
          absl::StrCat(name, ": descriptor ", i, " names piece ", d.piece,
                       " that the stream does not list"));
      continue;
    }
    const PieceRef& p = *it->second;
    if (d.repeat < 1 || d.bytes <= 0 || d.byte_offset < 0 || d.byte_offset + d.bytes > p.bytes ||
        d.dram_address != p.dram_address + d.byte_offset)
      Add(out, "stream.descriptor",
          absl::StrCat(name, ": descriptor ", i, " (DRAM ", d.dram_address, ", offset ",
                       d.byte_offset, ", ", d.bytes, " B x", d.repeat, ") is not inside ",
                       Describe(p), " at DRAM ", p.dram_address, " (", p.bytes, " B)"));
    if (d.init && (d.write || p.kind != Kind::kState))
      Add(out, "stream.descriptor",
          absl::StrCat(name, ": descriptor ", i, " marks init on a ",
                       d.write ? "write" : "read of a non-state piece"));
  }
  // An operand moves max(its byte total, one pass) (a read of O exactly its
  // total): checked with the pass below; without a tile, at least its total.
  auto moved_ok = [&](__int128 moved, int64_t total, bool exact) {
    if (exact || (tile != nullptr && total <= 0)) return moved == total;
    return moved >= total;
  };
  for (size_t o = 0; o < 4; ++o)
    if (!moved_ok(read[o], x.read[o], o == 2) || !moved_ok(write[o], x.write[o], false))
      Add(out, "stream.descriptor",
          absl::StrCat(name, ": descriptors of operand ", kOperands[o], " move ",
                       static_cast<int64_t>(read[o]), " B read / ", static_cast<int64_t>(write[o]),
                       " B written but its operands state ", x.read[o], " / ", x.write[o]));
  if (tile == nullptr) return;  // id.unknown
  // The canonical sequence (docs/manifest.md, "Stream descriptors"): reads
  // then writes; operands W, I, O, S; one pass is each operand's pieces in
  // `pieces` order (an I piece's needed byte ranges, any other piece
  // whole), repeated as its byte total holds, the last pass cut where the
  // total ends; every operand but a read of O moves at least one pass.
  const std::string init = ExpectedInit(m, *tile);
  std::vector<Step> want;
  bool too_long = false;
  struct Run {
    const PieceRef* p;
    int64_t offset, bytes;
  };
  for (const bool w : {false, true})
    for (int o = 0; o < 4 && !too_long; ++o) {
      const int64_t total = w ? x.write[o] : x.read[o];
      std::vector<const PieceRef*> ps;
      for (const PieceRef& p : x.pieces)
        if (RoleOf(p, *tile) == o && p.bytes > 0) ps.push_back(&p);
      if (total <= 0 || ps.empty()) continue;
      const bool input = o == 1 && !w;
      std::vector<Run> pass;
      for (const PieceRef* p : ps) {
        std::optional<std::vector<Span>> need;
        if (input) need = NeededBytes(m, *tile, *p);
        if (!need) {
          pass.push_back({p, 0, p->bytes});
          continue;
        }
        for (const Span& r : *need) pass.push_back({p, r.begin, r.end - r.begin});
      }
      if (input && pass.empty())  // no listed piece in the receptive field: whole pieces
        for (const PieceRef* p : ps) pass.push_back({p, 0, p->bytes});
      int64_t one = 0;
      for (const Run& r : pass) one += r.bytes;
      // A tile gets (stores) every byte it needs even where the cost model
      // prices fewer (an encoded link, states streamed at accumulator width).
      const bool whole_pass = !(o == 2 && !w);
      int64_t remaining = whole_pass ? std::max(total, one) : total;
      const __int128 moved = (w ? write : read)[o];
      if (whole_pass && moved != remaining)
        Add(out, "stream.descriptor",
            absl::StrCat(name, ": descriptors of operand ", kOperands[o], " move ",
                         static_cast<int64_t>(moved), w ? " B written" : " B read",
                         " but the canonical sequence moves ", remaining, " (max of its ",
                         w ? "write_bytes " : "read_bytes ", total, " and one pass over the ", one,
                         " bytes of its pieces the tile needs)"));
      auto step = [&](const Run& r, int64_t n, int64_t repeat) {
        return Step{r.p->piece,
                    o,
                    w,
                    r.p->dram_address + r.offset,
                    r.offset,
                    n,
                    o == 3 && !w ? init : std::string(),
                    repeat};
      };
      if (pass.size() == 1) {  // whole passes merge into one descriptor
        if (remaining / one > 0) Push(&want, step(pass[0], one, remaining / one));
        if (remaining % one > 0) Push(&want, step(pass[0], remaining % one, 1));
        continue;
      }
      while (remaining > 0 && !too_long)
        for (const Run& r : pass) {
          if (remaining == 0) break;
          const int64_t n = std::min(remaining, r.bytes);
          remaining -= n;
          Push(&want, step(r, n, 1));
          // Each pass adds a step: a sequence longer than the listed one
          // cannot match it.
          if (want.size() > actual.size() + 1) {
            too_long = true;
            break;
          }
        }
    }
  for (size_t i = 0; i < std::max(want.size(), actual.size()); ++i) {
    if (i < want.size() && i < actual.size() && want[i].Same(actual[i]) &&
        want[i].repeat == actual[i].repeat)
      continue;
    Add(out, "stream.descriptor",
        absl::StrCat(
            name, ": descriptors differ from the canonical DMA sequence at step ", i, ": listed ",
            i < actual.size() ? StepStr(actual[i]) : std::string("nothing"), ", canonical ",
            i < want.size() ? StepStr(want[i]) : std::string(too_long ? "more steps" : "nothing")));
    break;
  }
}

// The network input slices lie in the input region and are what the loads
// of input pieces read; every final output store lands on a listed output
// slice; no two slices share DRAM bytes.
void CheckNetworkIo(const Manifest& m, const MComplete& c, Violations* out) {
  struct Want {
    const char* region;
    const std::vector<MSlice>* slices;
  };
  for (const Want& w : {Want{"input", &c.inputs}, Want{"output", &c.outputs}}) {
    std::map<int64_t, const MSlice*> by_address;
    std::map<int64_t, const MSlice*> by_piece;
    for (const MSlice& s : *w.slices) {
      by_piece[s.piece] = &s;
      if (auto [it, fresh] = by_address.emplace(s.dram_address, &s); !fresh)
        Add(out, "io.overlap",
            absl::StrCat("network ", w.region, " slices of pieces ", it->second->piece, " and ",
                         s.piece, " both start at DRAM ", s.dram_address));
      if (std::string(w.region) == "input" && !Inside(Region(m, "input"), s.dram_address, s.bytes))
        Add(out, "io.region",
            absl::StrCat("network input slice of piece ", s.piece, " at DRAM ", s.dram_address,
                         " lies outside the input region"));
    }
    int64_t end = -1;
    int64_t last = -1;
    for (const auto& [address, s] : by_address) {
      if (address < end)
        Add(out, "io.overlap",
            absl::StrCat("network ", w.region, " slices of pieces ", last, " and ", s->piece,
                         " share DRAM bytes at ", address));
      end = std::max(end, address + s->bytes);
      last = s->piece;
    }
    for (const MTransfer& x : m.transfers) {
      const bool input = x.dir == Dir::kLoad && x.tensor.kind == Kind::kInput;
      const bool output = x.dir == Dir::kStore && x.cause == "final_output";
      if (!(std::string(w.region) == "input" ? input : output)) continue;
      auto it = by_piece.find(x.tensor.piece);
      if (it == by_piece.end() || it->second->dram_address != x.dram_address)
        Add(out, "io.slice",
            absl::StrCat("transfer ", x.id, " moves ", Describe(x.tensor), " at DRAM ",
                         x.dram_address, " but network_io.", w.region, "s lists ",
                         it == by_piece.end()
                             ? std::string("no slice of it")
                             : absl::StrCat("it at DRAM ", it->second->dram_address)));
    }
  }
}

// Under state_io dram each state_init load reads a listed slice; on chip,
// a state piece's first allocation that no transfer fills carries `init`.
void CheckInitialState(const Manifest& m, const MComplete& c, Violations* out) {
  const bool dram = c.initial_mode == "dram";
  if (dram != (m.summary.state_io == "dram"))
    Add(out, "state.init",
        absl::StrCat("initial_state.mode is ", c.initial_mode, " but the summary's state_io is ",
                     m.summary.state_io));
  std::map<int64_t, int64_t> slices;
  for (const MSlice& s : c.initial_slices) slices[s.piece] = s.dram_address;
  std::set<int64_t> filled;  // allocations a load or noc copy fills
  for (const MTransfer& x : m.transfers) {
    if (x.dir == Dir::kLoad || x.dir == Dir::kNoc) filled.insert(x.allocation);
    if (x.dir != Dir::kLoad || x.cause != "state_init") continue;
    auto it = slices.find(x.tensor.piece);
    if (!dram || it == slices.end() || it->second != x.dram_address)
      Add(out, "state.init",
          absl::StrCat("state_init transfer ", x.id, " of ", Describe(x.tensor), " reads DRAM ",
                       x.dram_address, " but initial_state lists ",
                       it == slices.end() ? std::string("no slice of it")
                                          : absl::StrCat("it at DRAM ", it->second)));
  }
  // Allocations a tile or transfer uses (one the planner placed and gave up
  // before any use holds nothing and is read by nobody).
  std::set<int64_t> used = filled;
  for (const MTransfer& x : m.transfers) used.insert(x.allocation);
  for (const MTile& t : m.tiles) {
    used.insert(t.reads.begin(), t.reads.end());
    used.insert(t.writes.begin(), t.writes.end());
  }
  std::map<int64_t, const MAlloc*> first;  // state piece -> its first used allocation
  for (const MAlloc& a : m.allocs) {
    if (a.init && a.holds.kind != Kind::kState)
      Add(out, "state.init",
          absl::StrCat("allocation ", a.id, " of ", Describe(a.holds), " is marked init"));
    if (a.holds.kind != Kind::kState || !used.count(a.id)) continue;
    auto [it, fresh] = first.emplace(a.holds.piece, &a);
    if (!fresh && (a.allocated_at < it->second->allocated_at ||
                   (a.allocated_at == it->second->allocated_at && a.id < it->second->id)))
      it->second = &a;
  }
  for (const MAlloc& a : m.allocs)
    if (a.init && a.holds.kind == Kind::kState &&
        (!first.count(a.holds.piece) || first.at(a.holds.piece) != &a))
      Add(out, "state.init",
          absl::StrCat("allocation ", a.id, " of ", Describe(a.holds),
                       " is marked init but is not the piece's first allocation"));
  for (const auto& [piece, a] : first) {
    const bool loaded = filled.count(a->id) > 0;
    if (!dram && !loaded && !a->init)
      Add(out, "state.init",
          absl::StrCat("allocation ", a->id, " is the first of ", Describe(a->holds),
                       ": nothing fills it and it carries no init marker"));
    if (a->init && (dram || loaded))
      Add(out, "state.init",
          absl::StrCat("allocation ", a->id, " of ", Describe(a->holds), " is marked init but ",
                       dram ? "state_io is dram" : "a transfer fills it"));
  }
}

void CheckGraphOutputs(const Manifest& m, const MComplete& c, Violations* out) {
  for (const MGraphOutput& g : c.graph_outputs) {
    if (!g.produced) continue;
    if (g.kind == "layer_output") {
      const bool ok = g.layer_id && m.layer_table && *g.layer_id >= 0 &&
                      *g.layer_id < static_cast<int64_t>(m.layer_table->size()) &&
                      (*m.layer_table)[*g.layer_id].network_output;
      if (!ok)
        Add(out, "graph_output",
            absl::StrCat("graph output ", g.name, " is listed as produced but layer ",
                         g.layer_id ? absl::StrCat(*g.layer_id) : std::string("null"),
                         " is not a network output"));
    } else if (g.kind == "state") {
      if (m.summary.state_io != "dram")
        Add(out, "graph_output",
            absl::StrCat("graph output ", g.name,
                         " (a state) is listed as produced but states stay on chip"));
    } else {
      Add(out, "graph_output",
          absl::StrCat("graph output ", g.name, " of kind ", g.kind,
                       " is listed as produced but nothing stores it"));
    }
  }
}

}  // namespace

void CheckComplete(const Manifest& m, Violations* out) {
  if (!m.complete) return;
  const MComplete& c = *m.complete;
  CheckWeightPieces(m, c, out);
  CheckParameters(m, c, out);
  std::map<std::string, const MTile*> tiles;
  for (const MTile& t : m.tiles) tiles.emplace(t.id, &t);
  for (const MTransfer& x : m.transfers)
    if (x.dir == Dir::kStream) {
      auto it = tiles.find(x.tile);
      CheckDescriptors(m, x, it == tiles.end() ? nullptr : it->second, out);
    }
  CheckNetworkIo(m, c, out);
  CheckInitialState(m, c, out);
  CheckGraphOutputs(m, c, out);
}

}  // namespace snnplan::validate
