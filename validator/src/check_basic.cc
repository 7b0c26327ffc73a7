// Structural checks (ids unique and resolvable, intervals well formed, the
// same piece described the same way everywhere) and the on-chip memory
// checks (inside the memory, no overlap in space x time, capacity).
#include <algorithm>
#include <queue>
#include <set>

#include "model.h"

namespace snnplan::validate {
namespace {

void CheckTileIds(const Manifest& m, Index* index, Violations* out) {
  for (size_t i = 0; i < m.tiles.size(); ++i) {
    const MTile& t = m.tiles[i];
    if (!index->tile.emplace(t.id, i).second) Add(out, "id.duplicate", "tile " + t.id + " appears twice");
    if (t.index != static_cast<int64_t>(i))
      Add(out, "tile.order", absl::StrCat("tile ", t.id, " has index ", t.index, " at position ", i));
    if (t.start < 0 || t.end < t.start)
      Add(out, "interval.invalid", absl::StrCat("tile ", t.id, " runs ", Str({t.start, t.end})));
    if (t.t.end <= t.t.begin || t.rows.end <= t.rows.begin)
      Add(out, "tile.range", absl::StrCat("tile ", t.id, " has empty t ", Str(t.t), " or rows ",
                                          Str(t.rows)));
    for (const char* what : {"reads", "writes"})
      for (int64_t a : what[0] == 'r' ? t.reads : t.writes)
        if (!index->alloc.count(a))
          Add(out, "id.unknown", absl::StrCat("tile ", t.id, " ", what, " unknown allocation ", a));
  }
}

void CheckAllocIds(const Manifest& m, Index* index, Violations* out) {
  for (size_t i = 0; i < m.allocs.size(); ++i) {
    const MAlloc& a = m.allocs[i];
    if (!index->alloc.emplace(a.id, i).second)
      Add(out, "id.duplicate", absl::StrCat("allocation ", a.id, " appears twice"));
  }
}

void CheckTransferRefs(const Manifest& m, const Index& index, Violations* out) {
  std::set<int64_t> seen;
  for (const MTransfer& x : m.transfers) {
    const std::string name = absl::StrCat("transfer ", x.id);
    if (!seen.insert(x.id).second) Add(out, "id.duplicate", name + " appears twice");
    if (x.start < 0 || x.end < x.start)
      Add(out, "interval.invalid", absl::StrCat(name, " runs ", Str({x.start, x.end})));
    if (x.bytes < 0) Add(out, "transfer.bytes", absl::StrCat(name, " moves ", x.bytes, " bytes"));
    if (x.dir == Dir::kStream) {
      auto it = index.tile.find(x.tile);
      if (it == index.tile.end()) {
        Add(out, "id.unknown", name + " streams for unknown tile " + x.tile);
        continue;
      }
      const MTile& t = m.tiles[it->second];
      if (x.start != t.start || x.end != t.end)
        Add(out, "stream.interval", absl::StrCat(name, " runs ", Str({x.start, x.end}),
                                                 " but its tile ", t.id, " runs ",
                                                 Str({t.start, t.end})));
      int64_t sum = 0;
      for (size_t o = 0; o < 4; ++o) sum += x.read[o] + x.write[o];
      if (sum != x.bytes)
        Add(out, "transfer.bytes", absl::StrCat(name, ": bytes ", x.bytes,
                                                " != sum of its operands ", sum));
      continue;
    }
    auto it = index.alloc.find(x.allocation);
    if (it == index.alloc.end()) {
      Add(out, "id.unknown", absl::StrCat(name, " uses unknown allocation ", x.allocation));
      continue;
    }
    const MAlloc& a = m.allocs[it->second];
    if (a.holds.piece != x.tensor.piece || a.bytes != x.bytes || a.offset != x.offset ||
        a.memory != x.memory || x.operand != x.tensor.operand)
      Add(out, "transfer.allocation",
          absl::StrCat(name, " (", Describe(x.tensor), ", ", x.bytes, " B at ", x.memory, "+",
                       x.offset, ") does not match allocation ", a.id, " (", Describe(a.holds),
                       ", ", a.bytes, " B at ", a.memory, "+", a.offset, ")"));
  }
}

// The same piece id must name the same slice wherever it appears.
void CheckPieceIdentity(const Manifest& m, Violations* out) {
  std::map<int64_t, std::pair<PieceRef, std::string>> first;
  auto see = [&](const PieceRef& p, const std::string& where) {
    auto [it, inserted] = first.emplace(p.piece, std::make_pair(p, where));
    if (!inserted && !it->second.first.SameSlice(p))
      Add(out, "piece.identity", absl::StrCat(where, " names ", Describe(p), " but ",
                                              it->second.second, " names ",
                                              Describe(it->second.first)));
  };
  for (const MAlloc& a : m.allocs) see(a.holds, absl::StrCat("allocation ", a.id));
  for (const MTransfer& x : m.transfers) {
    if (x.dir != Dir::kStream) see(x.tensor, absl::StrCat("transfer ", x.id));
    for (const PieceRef& p : x.pieces) see(p, absl::StrCat("transfer ", x.id));
  }
}

}  // namespace

void CheckIdentities(const Manifest& m, Index* index, Violations* out) {
  const hw::MemoryLevel& gb = m.hardware.cores.front().global_buffer();
  index->capacity_bytes = gb.size_bits / 8;
  index->memory = gb.name;
  CheckAllocIds(m, index, out);
  CheckTileIds(m, index, out);
  CheckTransferRefs(m, *index, out);
  CheckPieceIdentity(m, out);
}

namespace {

// Inside the memory, well-formed lifetime.
void CheckAllocBounds(const Manifest& m, const Index& index, Violations* out) {
  for (const MAlloc& a : m.allocs) {
    const std::string name = absl::StrCat("allocation ", a.id);
    if (a.memory != index.memory)
      Add(out, "allocation.memory", name + " is in memory '" + a.memory +
                                        "', not the global buffer '" + index.memory + "'");
    if (a.bytes <= 0 || a.offset < 0 || a.offset + a.bytes > index.capacity_bytes)
      Add(out, "allocation.bounds",
          absl::StrCat(name, " [", a.offset, ", ", a.offset + a.bytes, ") lies outside memory '",
                       index.memory, "' of ", index.capacity_bytes, " bytes"));
    if (a.allocated_at < 0 || a.freed_at < a.allocated_at)
      Add(out, "interval.invalid",
          absl::StrCat(name, " lives ", Str({a.allocated_at, a.freed_at})));
  }
}

// Sweep over time with the live allocations ordered by offset: a new
// allocation must not intersect any live one (half-open in space and time).
void CheckAllocOverlap(const Manifest& m, Violations* out) {
  std::vector<size_t> order;
  for (size_t i = 0; i < m.allocs.size(); ++i)
    if (m.allocs[i].freed_at > m.allocs[i].allocated_at && m.allocs[i].bytes > 0) order.push_back(i);
  std::stable_sort(order.begin(), order.end(), [&](size_t x, size_t y) {
    return m.allocs[x].allocated_at < m.allocs[y].allocated_at;
  });
  std::map<int64_t, size_t> live;  // offset -> allocation (disjoint)
  using Ending = std::pair<int64_t, size_t>;
  std::priority_queue<Ending, std::vector<Ending>, std::greater<>> ends;
  for (size_t i : order) {
    const MAlloc& a = m.allocs[i];
    while (!ends.empty() && ends.top().first <= a.allocated_at) {
      live.erase(m.allocs[ends.top().second].offset);
      ends.pop();
    }
    auto it = live.upper_bound(a.offset);
    if (it != live.begin()) --it;
    bool clash = false;
    for (; it != live.end() && it->first < a.offset + a.bytes; ++it) {
      const MAlloc& b = m.allocs[it->second];
      if (b.offset + b.bytes <= a.offset) continue;
      clash = true;
      Add(out, "allocation.overlap",
          absl::StrCat("allocations ", b.id, " [", b.offset, ", ", b.offset + b.bytes, ") x ",
                       Str({b.allocated_at, b.freed_at}), " and ", a.id, " [", a.offset, ", ",
                       a.offset + a.bytes, ") x ", Str({a.allocated_at, a.freed_at}),
                       " overlap"));
    }
    if (clash) continue;  // keep `live` disjoint; the clash is reported
    live.emplace(a.offset, i);
    ends.push({a.freed_at, i});
  }
}

// Live bytes never exceed the capacity; frees before allocations at equal
// cycles (half-open lifetimes). Returns the peak.
int64_t CheckCapacity(const Manifest& m, const Index& index, Violations* out) {
  std::vector<std::pair<int64_t, int64_t>> events;
  for (const MAlloc& a : m.allocs) {
    if (a.freed_at <= a.allocated_at) continue;
    events.push_back({a.allocated_at, a.bytes});
    events.push_back({a.freed_at, -a.bytes});
  }
  std::sort(events.begin(), events.end());
  __int128 live = 0, peak = 0;
  bool reported = false;
  for (size_t i = 0; i < events.size(); ++i) {
    live += events[i].second;
    peak = std::max(peak, live);
    const bool last_at_cycle = i + 1 == events.size() || events[i + 1].first != events[i].first;
    if (last_at_cycle && live > index.capacity_bytes && !reported) {
      reported = true;  // once: overlaps and bounds name the allocations
      Add(out, "memory.capacity",
          absl::StrCat("memory '", index.memory, "': ", static_cast<int64_t>(live),
                       " bytes live at cycle ", events[i].first, " exceed its capacity of ",
                       index.capacity_bytes, " bytes"));
    }
  }
  return static_cast<int64_t>(peak);
}

}  // namespace

void CheckMemory(const Manifest& m, const Index& index, Violations* out) {
  CheckAllocBounds(m, index, out);
  CheckAllocOverlap(m, out);
  const int64_t peak = CheckCapacity(m, index, out);
  if (peak != m.summary.peak)
    Add(out, "summary.peak", absl::StrCat("summary.peak_sram_bytes is ", m.summary.peak,
                                          " but the allocations peak at ", peak));
}

}  // namespace snnplan::validate
