// Structural checks (ids unique and resolvable, intervals well formed, the
// same piece described the same way everywhere, tiles and transfers on the
// cores of the memories they use) and the on-chip memory checks per core
// (inside the memory, no overlap in space x time, capacity).
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

void CheckStreamRefs(const Manifest& m, const Index& index, const MTransfer& x, Violations* out) {
  const std::string name = absl::StrCat("transfer ", x.id);
  auto it = index.tile.find(x.tile);
  if (it == index.tile.end()) {
    Add(out, "id.unknown", name + " streams for unknown tile " + x.tile);
    return;
  }
  const MTile& t = m.tiles[it->second];
  if (x.start != t.start || x.end != t.end)
    Add(out, "stream.interval",
        absl::StrCat(name, " runs ", Str({x.start, x.end}), " but its tile ", t.id, " runs ",
                     Str({t.start, t.end})));
  int64_t sum = 0;
  for (size_t o = 0; o < 4; ++o) sum += x.read[o] + x.write[o];
  if (sum != x.bytes)
    Add(out, "transfer.bytes",
        absl::StrCat(name, ": bytes ", x.bytes, " != sum of its operands ", sum));
  if (x.has_core && x.core != t.core)
    Add(out, "transfer.core",
        absl::StrCat(name, " names core ", x.core, " but its tile ", t.id, " runs on core ",
                     t.core));
}

const MAlloc* FindAlloc(const Manifest& m, const Index& index, int64_t id) {
  auto it = index.alloc.find(id);
  return it == index.alloc.end() ? nullptr : &m.allocs[it->second];
}

// A load, store or noc transfer uses an allocation on its own core (a noc
// transfer's source one on `from_core`); the cores exist.
void CheckTransferCores(const Index& index, const MTransfer& x, const MAlloc* a, const MAlloc* src,
                        Violations* out) {
  const std::string name = absl::StrCat("transfer ", x.id);
  if (index.Core(x.core) == nullptr)
    Add(out, "transfer.core", absl::StrCat(name, " names core ", x.core, ", not a hardware core"));
  if (a != nullptr && a->core != x.core)
    Add(out, "transfer.core",
        absl::StrCat(name, " on core ", x.core, " uses allocation ", a->id, " on core ", a->core));
  if (x.dir != Dir::kNoc) return;
  if (x.core != x.to_core)
    Add(out, "transfer.core", absl::StrCat(name, " has core ", x.core, " but to_core ", x.to_core));
  if (index.Core(x.from_core) == nullptr)
    Add(out, "transfer.core",
        absl::StrCat(name, " copies from core ", x.from_core, ", not a hardware core"));
  if (src != nullptr && src->core != x.from_core)
    Add(out, "transfer.core",
        absl::StrCat(name, " copies from core ", x.from_core, " but its src_allocation ", src->id,
                     " is on core ", src->core));
}

// A noc transfer copies the piece both of its allocations hold and fills
// its destination (the source may be rounded to another core's granularity).
void CheckNocAllocations(const MTransfer& x, const MAlloc* dst, const MAlloc* src,
                         Violations* out) {
  const std::string name = absl::StrCat("transfer ", x.id);
  if (dst != nullptr && (dst->holds.piece != x.tensor.piece || dst->bytes != x.bytes))
    Add(out, "transfer.allocation",
        absl::StrCat(name, " (", Describe(x.tensor), ", ", x.bytes,
                     " B) does not match its dst_allocation ", dst->id, " (", Describe(dst->holds),
                     ", ", dst->bytes, " B)"));
  if (src != nullptr && src->holds.piece != x.tensor.piece)
    Add(out, "transfer.allocation",
        absl::StrCat(name, " copies ", Describe(x.tensor), " but its src_allocation ", src->id,
                     " holds ", Describe(src->holds)));
}

void CheckLoadStoreAllocation(const MTransfer& x, const MAlloc& a, Violations* out) {
  if (a.holds.piece != x.tensor.piece || a.bytes != x.bytes || a.offset != x.offset ||
      a.memory != x.memory)
    Add(out, "transfer.allocation",
        absl::StrCat("transfer ", x.id, " (", Describe(x.tensor), ", ", x.bytes, " B at ", x.memory,
                     "+", x.offset, ") does not match allocation ", a.id, " (", Describe(a.holds),
                     ", ", a.bytes, " B at ", a.memory, "+", a.offset, ")"));
}

}  // namespace

int ExpectedOperand(const Manifest& m, Dir dir, const PieceRef& tensor) {
  constexpr int kI = 1;  // index of "I" in kOperands
  if (m.schema_version >= 4 && tensor.kind == Kind::kFeature && dir != Dir::kStore) return kI;
  return tensor.operand;
}

namespace {

// The operand label of a load, store or noc transfer (one definition,
// docs/manifest.md "Operands").
void CheckOperand(const Manifest& m, const MTransfer& x, Violations* out) {
  const int want = ExpectedOperand(m, x.dir, x.tensor);
  if (x.operand != want)
    Add(out, "transfer.operand",
        absl::StrCat("transfer ", x.id, " of ", Describe(x.tensor), " is labelled operand ",
                     kOperands[x.operand], " but a ",
                     x.dir == Dir::kStore  ? "store"
                     : x.dir == Dir::kLoad ? "load"
                                           : "noc copy",
                     " of it is operand ", kOperands[want]));
}

// `link_bytes` only where the hardware declares a spike encoding and the
// piece is a feature or the network input, and never more than `bytes`.
void CheckLinkBytes(const Manifest& m, const MTransfer& x, Violations* out) {
  if (!x.link_bytes) return;
  const std::string name = absl::StrCat("transfer ", x.id);
  if (m.hardware.spike_encoding.format == hw::SpikeFormat::kDense)
    Add(out, "transfer.link_bytes",
        name + " has link_bytes but the hardware declares no spike_encoding");
  else if (x.tensor.kind != Kind::kFeature && x.tensor.kind != Kind::kInput)
    Add(out, "transfer.link_bytes",
        absl::StrCat(name, " encodes ", Describe(x.tensor),
                     ": only features and the network "
                     "input move in the spike encoding"));
  if (*x.link_bytes < 0 || *x.link_bytes > x.bytes)
    Add(out, "transfer.link_bytes",
        absl::StrCat(name, ": link_bytes ", *x.link_bytes, " outside 0..bytes (", x.bytes, ")"));
}

void CheckTransferRefs(const Manifest& m, const Index& index, Violations* out) {
  std::set<int64_t> seen;
  for (const MTransfer& x : m.transfers) {
    const std::string name = absl::StrCat("transfer ", x.id);
    if (!seen.insert(x.id).second) Add(out, "id.duplicate", name + " appears twice");
    if (x.start < 0 || x.end < x.start)
      Add(out, "interval.invalid", absl::StrCat(name, " runs ", Str({x.start, x.end})));
    if (x.bytes < 0) Add(out, "transfer.bytes", absl::StrCat(name, " moves ", x.bytes, " bytes"));
    CheckLinkBytes(m, x, out);
    if (x.dir == Dir::kStream) {
      CheckStreamRefs(m, index, x, out);
      continue;
    }
    const MAlloc* a = FindAlloc(m, index, x.allocation);
    if (a == nullptr)
      Add(out, "id.unknown", absl::StrCat(name, " uses unknown allocation ", x.allocation));
    const MAlloc* src = nullptr;
    if (x.dir == Dir::kNoc && (src = FindAlloc(m, index, x.src_allocation)) == nullptr)
      Add(out, "id.unknown",
          absl::StrCat(name, " copies from unknown allocation ", x.src_allocation));
    CheckTransferCores(index, x, a, src, out);
    CheckOperand(m, x, out);
    if (x.dir == Dir::kNoc)
      CheckNocAllocations(x, a, src, out);
    else if (a != nullptr)
      CheckLoadStoreAllocation(x, *a, out);
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

// Multi-core: a tile runs on its layer's core (`allocation`), a hardware
// core, and touches only allocations in that core's memory.
void CheckTileCores(const Manifest& m, const Index& index, Violations* out) {
  for (const MTile& t : m.tiles) {
    if (m.layer_core) {
      auto it = m.layer_core->find(t.layer);
      if (it == m.layer_core->end() || it->second != t.core)
        Add(out, "tile.core",
            absl::StrCat(
                "tile ", t.id, " runs on core ", t.core, " but `allocation` puts layer '", t.layer,
                "' on ",
                it == m.layer_core->end() ? "no core" : absl::StrCat("core ", it->second)));
    }
    if (index.Core(t.core) == nullptr) {
      Add(out, "tile.core",
          absl::StrCat("tile ", t.id, " runs on core ", t.core, ", not a hardware core"));
      continue;  // every allocation would be on another core
    }
    for (const char* what : {"reads", "writes"})
      for (int64_t id : what[0] == 'r' ? t.reads : t.writes) {
        auto it = index.alloc.find(id);
        if (it == index.alloc.end() || m.allocs[it->second].core == t.core) continue;
        Add(out, "tile.core_memory",
            absl::StrCat("tile ", t.id, " on core ", t.core, " ", what, " allocation ", id,
                         " on core ", m.allocs[it->second].core));
      }
  }
}

}  // namespace

void CheckIdentities(const Manifest& m, Index* index, Violations* out) {
  index->multicore = m.schema_version >= 2;
  for (const hw::Core& c : m.hardware.cores)
    index->cores[c.id] = {&c.global_buffer(), c.global_buffer().size_bits / 8, std::nullopt};
  for (const hw::NocPosition& p : m.hardware.noc.positions)
    if (auto it = index->cores.find(p.core); it != index->cores.end())
      it->second.position = Xy{p.x, p.y};
  CheckAllocIds(m, index, out);
  CheckTileIds(m, index, out);
  if (index->multicore) CheckTileCores(m, *index, out);
  CheckTransferRefs(m, *index, out);
  CheckPieceIdentity(m, out);
}

namespace {

// In its core's global buffer, inside it, with a well-formed lifetime.
void CheckAllocBounds(const Manifest& m, const Index& index, Violations* out) {
  for (const MAlloc& a : m.allocs) {
    const std::string name = absl::StrCat("allocation ", a.id);
    if (const CoreInfo* core = index.Core(a.core)) {
      const std::string& memory = core->gb->name;
      if (a.memory != memory)
        Add(out, "allocation.memory",
            name + index.OnCore(a.core) + " is in memory '" + a.memory +
                "', not the global buffer '" + memory + "'");
      if (a.bytes <= 0 || a.offset < 0 || a.offset + a.bytes > core->capacity_bytes)
        Add(out, "allocation.bounds",
            absl::StrCat(name, index.OnCore(a.core), " [", a.offset, ", ", a.offset + a.bytes,
                         ") lies outside memory '", memory, "' of ", core->capacity_bytes,
                         " bytes"));
    } else {
      Add(out, "allocation.core",
          absl::StrCat(name, " is on core ", a.core, ", not a hardware core"));
    }
    if (a.allocated_at < 0 || a.freed_at < a.allocated_at)
      Add(out, "interval.invalid",
          absl::StrCat(name, " lives ", Str({a.allocated_at, a.freed_at})));
  }
}

// Allocation positions per core, in manifest order: allocations on different
// cores never conflict.
std::map<int64_t, std::vector<size_t>> ByCore(const Manifest& m) {
  std::map<int64_t, std::vector<size_t>> by;
  for (size_t i = 0; i < m.allocs.size(); ++i) by[m.allocs[i].core].push_back(i);
  return by;
}

// Sweep over time with the live allocations ordered by offset: a new
// allocation must not intersect any live one (half-open in space and time).
void CheckAllocOverlap(const Manifest& m, const Index& index, const std::vector<size_t>& allocs,
                       Violations* out) {
  std::vector<size_t> order;
  for (size_t i : allocs)
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
                       a.offset + a.bytes, ") x ", Str({a.allocated_at, a.freed_at}), " overlap",
                       index.OnCore(a.core)));
    }
    if (clash) continue;  // keep `live` disjoint; the clash is reported
    live.emplace(a.offset, i);
    ends.push({a.freed_at, i});
  }
}

// Live bytes on one core never exceed its capacity; frees before allocations
// at equal cycles (half-open lifetimes). Returns the peak.
int64_t CheckCapacity(const Manifest& m, const Index& index, int64_t core_id,
                      const std::vector<size_t>& allocs, Violations* out) {
  const CoreInfo& core = *index.Core(core_id);
  std::vector<std::pair<int64_t, int64_t>> events;
  for (size_t i : allocs) {
    const MAlloc& a = m.allocs[i];
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
    if (last_at_cycle && live > core.capacity_bytes && !reported) {
      reported = true;  // once: overlaps and bounds name the allocations
      Add(out, "memory.capacity",
          absl::StrCat(index.multicore ? absl::StrCat("core ", core_id, " ") : "", "memory '",
                       core.gb->name, "': ", static_cast<int64_t>(live), " bytes live at cycle ",
                       events[i].first, " exceed its capacity of ", core.capacity_bytes, " bytes"));
    }
  }
  return static_cast<int64_t>(peak);
}

// `summary.peak_sram_bytes` is the largest core peak; `summary.cores` lists
// each core's own (the other per-core figures are checked with the summary).
void CheckPeaks(const Manifest& m, const std::map<int64_t, int64_t>& peaks, Violations* out) {
  int64_t peak = 0;
  for (const auto& [core, p] : peaks) peak = std::max(peak, p);
  if (peak != m.summary.peak)
    Add(out, "summary.peak",
        absl::StrCat("summary.peak_sram_bytes is ", m.summary.peak, " but the allocations peak at ",
                     peak));
  if (!m.summary.cores) return;
  for (size_t i = 0; i < m.summary.cores->size(); ++i) {
    const MCoreSummary& c = (*m.summary.cores)[i];
    auto it = peaks.find(c.core);
    if (it != peaks.end() && it->second != c.peak)
      Add(out, "summary.peak",
          absl::StrCat("summary.cores[", i, "].peak_sram_bytes is ", c.peak, " but core ", c.core,
                       "'s allocations peak at ", it->second));
  }
}

}  // namespace

void CheckMemory(const Manifest& m, const Index& index, Violations* out) {
  CheckAllocBounds(m, index, out);
  const std::map<int64_t, std::vector<size_t>> by_core = ByCore(m);
  std::map<int64_t, int64_t> peaks;  // every hardware core, 0 when unused
  for (const auto& [id, core] : index.cores) peaks[id] = 0;
  for (const auto& [core, allocs] : by_core) {
    CheckAllocOverlap(m, index, allocs, out);
    if (index.Core(core) != nullptr) peaks[core] = CheckCapacity(m, index, core, allocs, out);
  }
  CheckPeaks(m, peaks, out);
}

}  // namespace snnplan::validate
