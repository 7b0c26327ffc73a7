// DRAM liveness: a piece's DRAM copy occupies [address, address + bytes)
// from its first write (stored, or streamed out; from the start for the
// weights, the network input and --state-io dram states) until its last
// read (a load, or a tile streaming it in), or to the end when it is a
// result (a network output, a --state-io dram state). No two pieces may
// share DRAM bytes while both are live: a store onto bytes that another
// piece still waits to be reloaded from would hand the next reader the
// wrong data, and two network-input slices at one address would alias.
#include <algorithm>
#include <limits>
#include <set>

#include "model.h"

namespace snnplan::validate {
namespace {

constexpr int64_t kStart = std::numeric_limits<int64_t>::min() / 4;  // before every cycle
constexpr int64_t kForever = std::numeric_limits<int64_t>::max() / 4;

struct Life {
  const PieceRef* ref = nullptr;
  int64_t address = -1, bytes = 0;
  int64_t first_write = kForever, first_access = kForever, last_read = kStart, last_write = kStart;
  int64_t writer = -1, reader = -1;  // transfer ids: first write, last read
  bool final_output = false;
};

std::string When(int64_t t) {
  if (t <= kStart) return "the start";
  if (t >= kForever) return "the end";
  return absl::StrCat("cycle ", t);
}

}  // namespace

void CheckDramLiveness(const Manifest& m, const Index& index, Violations* out) {
  std::set<std::string> output_layers;
  if (m.layer_table)
    for (const MLayer& l : *m.layer_table)
      if (l.network_output) output_layers.insert(l.name);
  const bool dram_states = m.summary.state_io == "dram";
  std::map<int64_t, Life> lives;  // piece -> its DRAM copy's life
  auto touch = [&](const PieceRef& p, int64_t address, int64_t bytes, const MTransfer& x,
                   int64_t start, int64_t end, bool write) {
    Life& l = lives[p.piece];
    if (l.ref == nullptr) {
      l.ref = &p;
      l.address = address;  // dram.piece_address reports any other address
    }
    l.bytes = std::max(l.bytes, bytes);
    l.first_access = std::min(l.first_access, start);
    if (write && start < l.first_write) {
      l.first_write = start;
      l.writer = x.id;
    }
    if (write) l.last_write = std::max(l.last_write, end);
    if (!write && end >= l.last_read) {
      l.last_read = end;
      l.reader = x.id;
    }
    l.final_output |= write && x.cause == "final_output";
  };
  for (const MTransfer& x : m.transfers) {
    if (x.dir == Dir::kLoad || x.dir == Dir::kStore)
      touch(x.tensor, x.dram_address, x.bytes, x, x.start, x.end, x.dir == Dir::kStore);
    if (x.dir != Dir::kStream) continue;
    auto it = index.tile.find(x.tile);
    const MTile* t = it == index.tile.end() ? nullptr : &m.tiles[it->second];
    for (const PieceRef& p : x.pieces) {
      const bool own = t != nullptr && p.layer == t->layer && p.sample == t->sample;
      const bool output = own && p.kind == Kind::kFeature && p.t == t->t && p.rows == t->rows;
      const bool state = own && p.kind == Kind::kState;
      if (!output) touch(p, p.dram_address, p.bytes, x, x.start, x.end, false);
      if (output || state) touch(p, p.dram_address, p.bytes, x, x.start, x.end, true);
    }
  }
  std::vector<Rect> rects;
  std::vector<std::pair<int64_t, int64_t>> spans;  // per rect: its life [begin, end)
  std::vector<const Life*> of;
  for (const auto& [piece, l] : lives) {
    if (l.address < 0 || l.bytes <= 0) continue;
    const PieceRef& p = *l.ref;
    const bool initial =
        p.kind == Kind::kWeights || p.kind == Kind::kInput || (p.kind == Kind::kState && dram_states);
    const bool result = l.final_output || (p.kind == Kind::kState && dram_states) ||
                        (p.kind == Kind::kFeature && p.layer && output_layers.count(*p.layer));
    const int64_t begin = initial                  ? kStart
                          : l.first_write < kForever ? l.first_write
                                                     : l.first_access;
    const int64_t end = result ? kForever : std::max(l.last_read, l.last_write);
    if (end <= begin) continue;
    rects.push_back({begin, end, l.address, l.address + l.bytes, of.size()});
    of.push_back(&l);
  }
  auto describe = [&](const Life& l, const Rect& r) {
    return absl::StrCat(Describe(*l.ref), " at DRAM [", r.y0, ", ", r.y1, ") live from ",
                        When(r.t0), l.writer >= 0 ? absl::StrCat(" (transfer ", l.writer, ")") : "",
                        " to ", When(r.t1),
                        r.t1 < kForever && l.reader >= 0
                            ? absl::StrCat(" (last read by transfer ", l.reader, ")")
                            : "");
  };
  ForEachRectOverlap(std::move(rects), [&](const Rect& a, const Rect& b) {
    Add(out, "dram.overlap",
        absl::StrCat(describe(*of[a.who], a), " and ", describe(*of[b.who], b),
                     " share DRAM bytes while both are live"));
  });
}

}  // namespace snnplan::validate
