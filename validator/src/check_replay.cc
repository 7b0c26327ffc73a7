// The replay: walks tiles and transfers in time order and tracks, per piece,
// how many times it has been written (its latest version) and which version
// each on-chip allocation and the DRAM copy hold. A tile may only read the
// latest version, a load only copy the latest DRAM version, a store only
// write back data that exists, a noc transfer only copy the latest version
// from another core. Versions are kept per allocation, not per piece, so one
// piece held on two cores at once (an original and its copy) needs no
// special case: each holder is checked on its own.
#include <algorithm>
#include <set>

#include "model.h"

namespace snnplan::validate {
namespace {

constexpr int64_t kNone = -1;  // no data

struct Event {
  int64_t time;
  int phase;   // 0 end, 1 start, 2 end of a zero-length interval
  int type;    // 0 transfer, 1 tile
  size_t index;
  bool operator<(const Event& o) const {
    return std::tie(time, phase, type, index) < std::tie(o.time, o.phase, o.type, o.index);
  }
};

class Replay {
 public:
  Replay(const Manifest& m, const Index& index, Violations* out)
      : m_(m), index_(index), out_(out), alloc_version_(m.allocs.size(), kNone),
        captured_(m.transfers.size(), kNone),
        zero_states_(m.summary.state_io == "zero") {
    for (const MTransfer& x : m.transfers)
      if (x.dir == Dir::kStream)
        streams_[x.tile].insert(streams_[x.tile].end(), x.pieces.begin(), x.pieces.end());
    if (m.layer_table)
      for (const MLayer& l : *m.layer_table)
        if (l.network_output) output_layers_.insert(l.name);
  }

  void Run() {
    std::vector<Event> events;
    auto add = [&](int64_t start, int64_t end, int type, size_t i) {
      events.push_back({start, 1, type, i});
      events.push_back({end, end == start ? 2 : 0, type, i});
    };
    for (size_t i = 0; i < m_.transfers.size(); ++i)
      add(m_.transfers[i].start, m_.transfers[i].end, 0, i);
    for (size_t i = 0; i < m_.tiles.size(); ++i) add(m_.tiles[i].start, m_.tiles[i].end, 1, i);
    std::sort(events.begin(), events.end());
    for (const Event& e : events) {
      const bool start = e.phase == 1;
      if (e.type == 1) start ? TileStart(m_.tiles[e.index]) : TileEnd(m_.tiles[e.index]);
      else start ? TransferStart(e.index) : TransferEnd(e.index);
    }
    if (!zero_states_) CheckFinalStates();
    CheckOutputsStored();
  }

 private:
  const MAlloc* Alloc(int64_t id) const {
    auto it = index_.alloc.find(id);
    return it == index_.alloc.end() ? nullptr : &m_.allocs[it->second];
  }
  size_t Pos(const MAlloc& a) const { return static_cast<size_t>(&a - m_.allocs.data()); }
  int64_t Latest(int64_t piece) const {
    auto it = latest_.find(piece);
    return it == latest_.end() ? 0 : it->second;
  }
  // Weights and the network input start in DRAM; states too under
  // --state-io dram. Version 0 is the initial content.
  int64_t DramVersion(const PieceRef& p) const {
    auto it = dram_.find(p.piece);
    if (it != dram_.end()) return it->second;
    const bool initial = p.kind == Kind::kWeights || p.kind == Kind::kInput ||
                         (p.kind == Kind::kState && !zero_states_);
    return initial ? 0 : kNone;
  }
  // Under --state-io zero a state nobody has written yet reads as zero.
  bool InitialZero(const PieceRef& p) const {
    return p.kind == Kind::kState && zero_states_ && Latest(p.piece) == 0;
  }

  void CheckLive(const std::string& who, const char* verb, const MAlloc& a, int64_t start,
                 int64_t end) {
    if (a.allocated_at <= start && end <= a.freed_at) return;
    Add(out_, "data.not_live",
        absl::StrCat(who, " ", verb, " allocation ", a.id, " (", Describe(a.holds), ") during ",
                     Str({start, end}), " but it lives ", Str({a.allocated_at, a.freed_at})));
  }

  void TileStart(const MTile& t) {
    for (int64_t id : t.reads) {
      const MAlloc* a = Alloc(id);
      if (a == nullptr) continue;
      CheckLive("tile " + t.id, "reads", *a, t.start, t.end);
      CheckOnChipData(t, *a);
    }
    for (int64_t id : t.writes)
      if (const MAlloc* a = Alloc(id)) CheckLive("tile " + t.id, "writes", *a, t.start, t.end);
    for (const PieceRef& p : StreamPieces(t))
      if (!IsOutput(t, p) && DramVersion(p) != Latest(p.piece) && !InitialZero(p))
        Add(out_, "data.missing",
            absl::StrCat("tile ", t.id, " streams ", Describe(p), " from DRAM at cycle ", t.start,
                         " but DRAM holds ", VersionText(DramVersion(p), p.piece)));
  }

  void CheckOnChipData(const MTile& t, const MAlloc& a) {
    const int64_t have = alloc_version_[Pos(a)], want = Latest(a.holds.piece);
    if (have == want && (have != kNone)) return;
    if (have == kNone && InitialZero(a.holds)) return;
    if (have == kNone && want == 0 && a.holds.kind == Kind::kFeature) {
      Add(out_, "data.missing",
          absl::StrCat("tile ", t.id, " starts at cycle ", t.start, " but ", Describe(a.holds),
                       " in allocation ", a.id, " was neither produced by an earlier tile nor "
                       "loaded by a completed transfer"));
      return;
    }
    Add(out_, "data.missing",
        absl::StrCat("tile ", t.id, " reads allocation ", a.id, " (", Describe(a.holds),
                     ") at cycle ", t.start, " holding ", VersionText(have, a.holds.piece)));
  }

  std::string VersionText(int64_t have, int64_t piece) const {
    if (have == kNone) return "no data (nothing loaded or produced there yet)";
    return absl::StrCat("a stale copy (version ", have, ", latest ", Latest(piece), ")");
  }

  void TileEnd(const MTile& t) {
    for (int64_t id : t.writes) {
      const MAlloc* a = Alloc(id);
      if (a == nullptr) continue;
      alloc_version_[Pos(*a)] = Write(t, a->holds);
    }
    for (const PieceRef& p : StreamPieces(t))
      if (IsOutput(t, p) || (p.kind == Kind::kState && p.layer == t.layer))
        dram_[p.piece] = Write(t, p);
  }

  // A tile writes its output feature once and its state once per time batch.
  int64_t Write(const MTile& t, const PieceRef& p) {
    if (p.kind == Kind::kFeature && p.layer && output_layers_.count(*p.layer))
      outputs_.emplace(p.piece, std::make_pair(&p, &t));
    int64_t& v = latest_[p.piece];
    if (p.kind == Kind::kFeature && v > 0)
      Add(out_, "data.rewritten",
          absl::StrCat("tile ", t.id, " writes ", Describe(p), " which an earlier tile produced"));
    return ++v;
  }

  // Stream pieces of a tile: those of the stream transfers naming it.
  const std::vector<PieceRef>& StreamPieces(const MTile& t) const {
    static const std::vector<PieceRef> kEmpty;
    auto it = streams_.find(t.id);
    return it == streams_.end() ? kEmpty : it->second;
  }
  static bool IsOutput(const MTile& t, const PieceRef& p) {
    return p.kind == Kind::kFeature && p.layer == t.layer && p.sample == t.sample &&
           p.t == t.t && p.rows == t.rows;
  }

  void TransferStart(size_t i) {
    const MTransfer& x = m_.transfers[i];
    if (x.dir == Dir::kStream) return;  // checked with its tile
    const MAlloc* a = Alloc(x.allocation);
    if (x.dir == Dir::kNoc) return NocStart(i, a);
    if (a == nullptr) return;
    const std::string who = absl::StrCat(x.dir == Dir::kLoad ? "load " : "store ", x.id);
    CheckLive(who, x.dir == Dir::kLoad ? "fills" : "reads", *a, x.start, x.end);
    if (x.dir == Dir::kLoad) {
      const int64_t latest = Latest(x.tensor.piece);
      captured_[i] = DramVersion(x.tensor);
      if (captured_[i] != latest && !InitialZero(x.tensor))
        Add(out_, captured_[i] == kNone ? "load.early" : "load.stale",
            absl::StrCat(who, " of ", Describe(x.tensor), " starts at cycle ", x.start,
                         " but DRAM holds ", VersionText(captured_[i], x.tensor.piece)));
      return;
    }
    captured_[i] = alloc_version_[Pos(*a)];
    CheckCopySource(who, x, captured_[i], "store.early", "store.stale");
  }

  // A noc transfer reads its source like a store (the latest version must
  // be there when it starts) and fills its destination like a load.
  void NocStart(size_t i, const MAlloc* dst) {
    const MTransfer& x = m_.transfers[i];
    const std::string who =
        absl::StrCat("noc transfer ", x.id, " (allocation ", x.src_allocation, " on core ",
                     x.from_core, " -> allocation ", x.allocation, " on core ", x.to_core, ")");
    if (dst != nullptr) CheckLive(who, "fills", *dst, x.start, x.end);
    const MAlloc* src = Alloc(x.src_allocation);
    if (src == nullptr) return;
    CheckLive(who, "reads", *src, x.start, x.end);
    captured_[i] = alloc_version_[Pos(*src)];
    CheckCopySource(who, x, captured_[i], "noc.early", "noc.stale");
  }

  // What a store or noc transfer copies from an allocation is its piece's
  // latest version (or a state's initial zero).
  void CheckCopySource(const std::string& who, const MTransfer& x, int64_t have, const char* early,
                       const char* stale) {
    if (have == Latest(x.tensor.piece) && have != kNone) return;
    if (have == kNone && InitialZero(x.tensor)) return;
    Add(out_, have == kNone ? early : stale,
        absl::StrCat(who, " of ", Describe(x.tensor), " starts at cycle ", x.start,
                     have == kNone ? " before its data is produced or loaded"
                                   : absl::StrCat(" from ", VersionText(have, x.tensor.piece))));
  }

  void TransferEnd(size_t i) {
    const MTransfer& x = m_.transfers[i];
    if (x.dir == Dir::kStream) return;
    const MAlloc* a = Alloc(x.allocation);
    if (a == nullptr) return;
    if (x.dir == Dir::kLoad || x.dir == Dir::kNoc)
      alloc_version_[Pos(*a)] = captured_[i];
    else if (captured_[i] != kNone) dram_[x.tensor.piece] = captured_[i];
  }

  // --state-io dram: every state slice's final value ends up in DRAM.
  void CheckFinalStates() {
    std::map<int64_t, const PieceRef*> states;
    for (const MAlloc& a : m_.allocs)
      if (a.holds.kind == Kind::kState) states.emplace(a.holds.piece, &a.holds);
    for (const auto& [piece, ref] : states)
      if (DramVersion(*ref) != Latest(piece))
        Add(out_, "state.final",
            absl::StrCat(Describe(*ref), ": its final value (version ", Latest(piece),
                         ") is never stored to DRAM under state_io dram"));
  }

  // schema_version 3: every piece a tile of a network-output layer produced
  // ends in DRAM (a final_output store, or streamed out) in its last version.
  void CheckOutputsStored() {
    for (const auto& [piece, written] : outputs_)
      if (DramVersion(*written.first) != Latest(piece))
        Add(out_, "output.stored",
            absl::StrCat(Describe(*written.first), ", produced by tile ", written.second->id,
                         " of network-output layer '", *written.first->layer,
                         "', never reaches DRAM (no final_output store or streamed write of it)"));
  }

  const Manifest& m_;
  const Index& index_;
  Violations* out_;
  std::vector<int64_t> alloc_version_;   // per allocation position
  std::vector<int64_t> captured_;        // per transfer: version it moves
  std::map<int64_t, int64_t> latest_;    // piece -> writes so far
  std::map<int64_t, int64_t> dram_;      // piece -> version in DRAM
  bool zero_states_;
  std::map<std::string, std::vector<PieceRef>> streams_;  // tile id -> pieces
  std::set<std::string> output_layers_;                    // network-output layer names
  std::map<int64_t, std::pair<const PieceRef*, const MTile*>> outputs_;  // their pieces
};

}  // namespace

void CheckReplay(const Manifest& m, const Index& index, Violations* out) {
  Replay(m, index, out).Run();
}

}  // namespace snnplan::validate
