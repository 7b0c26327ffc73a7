// Dependencies. From the manifest alone: one core runs one tile at a time,
// a tile starts after the tile that produced a feature piece it reads, and
// the tiles of one state piece run one after the other in time order. With
// the model: the data and state dependencies recomputed from the IR
// (receptive fields), and every layer's output covered by exactly one tile.
#include <algorithm>

#include "model.h"

namespace snnplan::validate {
namespace {

void CheckCoreSerial(const Manifest& m, Violations* out) {
  std::map<int64_t, const MTile*> last;  // core -> previous tile
  for (const MTile& t : m.tiles) {
    const MTile*& prev = last[t.core];
    if (prev != nullptr && t.start < prev->end)
      Add(out, "tile.overlap", absl::StrCat("tile ", t.id, " starts at cycle ", t.start,
                                            " before the previous tile ", prev->id,
                                            " on core ", t.core, " ends at ", prev->end));
    prev = &t;
  }
}

// Pieces a tile touches: on-chip reads/writes plus its stream pieces.
struct Touch {
  std::map<int64_t, size_t> producer;                 // feature piece -> tile
  std::map<int64_t, std::vector<size_t>> state_users; // state piece -> tiles
  std::vector<std::vector<PieceRef>> reads;           // per tile
};

Touch CollectTouches(const Manifest& m, const Index& index) {
  Touch touch;
  touch.reads.resize(m.tiles.size());
  std::map<std::string, std::vector<const PieceRef*>> streams;
  for (const MTransfer& x : m.transfers)
    for (const PieceRef& p : x.pieces) streams[x.tile].push_back(&p);
  for (size_t i = 0; i < m.tiles.size(); ++i) {
    const MTile& t = m.tiles[i];
    auto piece_of = [&](int64_t alloc) -> const PieceRef* {
      auto it = index.alloc.find(alloc);
      return it == index.alloc.end() ? nullptr : &m.allocs[it->second].holds;
    };
    std::vector<const PieceRef*> writes, reads;
    for (int64_t a : t.writes)
      if (const PieceRef* p = piece_of(a)) writes.push_back(p);
    for (int64_t a : t.reads)
      if (const PieceRef* p = piece_of(a)) reads.push_back(p);
    for (const PieceRef* p : streams[t.id]) {
      const bool own = p->layer == t.layer && p->sample == t.sample;
      if (own && p->kind == Kind::kFeature && p->t == t.t && p->rows == t.rows) writes.push_back(p);
      else if (own && p->kind == Kind::kState) writes.push_back(p);
      else reads.push_back(p);
    }
    for (const PieceRef* p : writes) {
      if (p->kind == Kind::kFeature) touch.producer.emplace(p->piece, i);
      if (p->kind == Kind::kState) touch.state_users[p->piece].push_back(i);
    }
    for (const PieceRef* p : reads) touch.reads[i].push_back(*p);
  }
  return touch;
}

void CheckDataOrder(const Manifest& m, const Touch& touch, Violations* out) {
  for (size_t i = 0; i < m.tiles.size(); ++i) {
    const MTile& t = m.tiles[i];
    for (const PieceRef& p : touch.reads[i]) {
      auto it = touch.producer.find(p.piece);
      if (p.kind != Kind::kFeature || it == touch.producer.end() || it->second == i) continue;
      const MTile& producer = m.tiles[it->second];
      if (producer.end > t.start)
        Add(out, "dependency.data",
            absl::StrCat("tile ", t.id, " starts at cycle ", t.start, " before its producer ",
                         producer.id, " ends at ", producer.end, " (", Describe(p), ")"));
    }
  }
}

void CheckStateOrder(const Manifest& m, const Touch& touch, Violations* out) {
  for (const auto& [piece, users] : touch.state_users) {
    std::vector<size_t> order = users;
    std::sort(order.begin(), order.end(), [&](size_t x, size_t y) {
      return std::tie(m.tiles[x].t.begin, x) < std::tie(m.tiles[y].t.begin, y);
    });
    order.erase(std::unique(order.begin(), order.end()), order.end());
    for (size_t k = 1; k < order.size(); ++k) {
      const MTile& prev = m.tiles[order[k - 1]];
      const MTile& t = m.tiles[order[k]];
      if (t.t.begin != prev.t.end)
        Add(out, "dependency.state",
            absl::StrCat("state piece ", piece, ": tile ", t.id, " (t ", Str(t.t),
                         ") does not continue tile ", prev.id, " (t ", Str(prev.t), ")"));
      else if (t.start < prev.end)
        Add(out, "dependency.state",
            absl::StrCat("state piece ", piece, ": tile ", t.id, " starts at cycle ", t.start,
                         " before tile ", prev.id, " (the previous timesteps) ends at ",
                         prev.end));
    }
  }
}

}  // namespace

void CheckDependencies(const Manifest& m, const Index& index, Violations* out) {
  CheckCoreSerial(m, out);
  const Touch touch = CollectTouches(m, index);
  CheckDataOrder(m, touch, out);
  CheckStateOrder(m, touch, out);
}

}  // namespace snnplan::validate
