// The summary recomputed from the lists: DRAM bytes by direction, operand,
// cause and block; energies (tiles + load/store/noc transfers, within 1e-9
// relative, each transfer priced with its own core's global buffer); NoC
// bytes; per-core tiles and busy cycles; latency, compute and stall cycles;
// counts.
#include <cmath>
#include <set>
#include <tuple>

#include "absl/strings/str_format.h"

#include "model.h"

namespace snnplan::validate {
namespace {

bool Close(double a, double b) {
  return std::isfinite(a) && std::isfinite(b) &&
         std::abs(a - b) <= 1e-9 * std::max(std::abs(a), std::abs(b));
}

struct Sums {
  std::array<__int128, 4> read = {}, write = {};
  std::map<std::string, __int128> by_cause;
  std::map<int64_t, __int128> by_block;
  Energy energy;
  __int128 compute_cycles = 0;
  std::map<int64_t, __int128> busy;  // core -> sum of its tile durations
  std::map<int64_t, int64_t> tiles;  // core -> its tiles
  int64_t latency = 0;
  __int128 noc_bytes = 0;
  int64_t noc_transfers = 0;
};

void AddEnergy(Energy* e, const Energy& d) {
  e->compute += d.compute;
  e->local += d.local;
  e->sram += d.sram;
  e->dram += d.dram;
  e->noc += d.noc;
}

double Parts(const Energy& e) { return e.compute + e.local + e.sram + e.dram + e.noc; }

// The global buffer a transfer on `core` uses; the first core's when the
// core is unknown (transfer.core reports it), so sums do not cascade.
const hw::MemoryLevel& GlobalBuffer(const Manifest& m, const Index& index, int64_t core) {
  const CoreInfo* c = index.Core(core);
  return c != nullptr ? *c->gb : m.hardware.cores.front().global_buffer();
}

// What a noc transfer costs: link bits x hops x link energy on the NoC,
// source read + destination write of `bytes` in the global buffers (fJ -> pJ).
Energy NocEnergy(const Manifest& m, const Index& index, const MTransfer& x) {
  const double link_bits = static_cast<double>(x.LinkBytes()) * 8;
  const double bits = static_cast<double>(x.bytes) * 8;
  const double hops = x.route.empty() ? 0 : static_cast<double>(x.route.size() - 1);
  Energy e;
  e.noc = link_bits * hops * m.hardware.noc.link_energy_fj_per_bit_per_hop / 1000;
  e.sram = bits *
           (GlobalBuffer(m, index, x.from_core).read_energy_fj_per_bit +
            GlobalBuffer(m, index, x.to_core).write_energy_fj_per_bit) /
           1000;
  e.total = Parts(e);
  return e;
}

// Block a piece's traffic counts for: its layer's block; the network input
// counts for the block of the first layer (by id) that reads it.
class BlockOf {
 public:
  explicit BlockOf(const Manifest& m, const Index& index) {
    for (const MTile& t : m.tiles) layer_block_.emplace(t.layer, t.block);
    int64_t first_layer = -1;
    auto reads_input = [&](const MTile& t) {
      if (first_layer >= 0 && t.layer_id >= first_layer) return;
      first_layer = t.layer_id;
      input_block_ = t.block;
    };
    for (const MTile& t : m.tiles)
      for (int64_t a : t.reads)
        if (auto it = index.alloc.find(a);
            it != index.alloc.end() && m.allocs[it->second].holds.kind == Kind::kInput)
          reads_input(t);
    for (const MTransfer& x : m.transfers)
      for (const PieceRef& p : x.pieces)
        if (auto it = index.tile.find(x.tile); p.kind == Kind::kInput && it != index.tile.end())
          reads_input(m.tiles[it->second]);
  }
  int64_t operator()(const PieceRef& p) const {
    if (!p.layer) return input_block_;
    auto it = layer_block_.find(*p.layer);
    return it == layer_block_.end() ? -1 : it->second;
  }

 private:
  std::map<std::string, int64_t> layer_block_;
  int64_t input_block_ = 0;
};

Sums Recompute(const Manifest& m, const Index& index) {
  Sums s;
  const hw::Offchip& dram = m.hardware.offchip;
  const BlockOf block_of(m, index);
  for (const MTile& t : m.tiles) {
    AddEnergy(&s.energy, t.energy);
    s.compute_cycles += t.end - t.start;
    s.busy[t.core] += t.end - t.start;
    ++s.tiles[t.core];
    s.latency = std::max(s.latency, t.end);
  }
  for (const MTransfer& x : m.transfers) {
    s.latency = std::max(s.latency, x.end);
    if (x.dir == Dir::kNoc) {  // between cores: not DRAM traffic
      s.noc_bytes += x.LinkBytes();
      ++s.noc_transfers;
      AddEnergy(&s.energy, NocEnergy(m, index, x));
      continue;
    }
    s.by_cause[x.cause] += x.LinkBytes();
    if (x.dir == Dir::kStream) {
      for (size_t o = 0; o < 4; ++o) {
        s.read[o] += x.read[o];
        s.write[o] += x.write[o];
      }
      auto it = index.tile.find(x.tile);
      s.by_block[it == index.tile.end() ? -1 : m.tiles[it->second].block] += x.bytes;
      continue;  // its energy is in the tile's
    }
    // DRAM traffic and energy at the link bytes, the global buffer at `bytes`.
    const double link_bits = static_cast<double>(x.LinkBytes()) * 8;
    const double bits = static_cast<double>(x.bytes) * 8;
    const bool load = x.dir == Dir::kLoad;
    const hw::MemoryLevel& gb = GlobalBuffer(m, index, x.core);
    (load ? s.read : s.write)[x.operand] += x.LinkBytes();
    s.energy.dram +=
        link_bits * (load ? dram.read_energy_fj_per_bit : dram.write_energy_fj_per_bit) / 1000;
    s.energy.sram += bits * (load ? gb.write_energy_fj_per_bit : gb.read_energy_fj_per_bit) / 1000;
    s.by_block[block_of(x.tensor)] += x.LinkBytes();
  }
  s.energy.total = Parts(s.energy);
  return s;
}

void ExpectBytes(const char* field, int64_t have, __int128 want, Violations* out) {
  if (have == want) return;
  Add(out, "summary.bytes", absl::StrCat("summary.dram_bytes.", field, " is ", have,
                                         " but the transfers add up to ",
                                         static_cast<int64_t>(want)));
}

void CheckBytes(const MSummary& sum, const Sums& s, Violations* out) {
  __int128 read = 0, write = 0;
  for (size_t o = 0; o < 4; ++o) {
    read += s.read[o];
    write += s.write[o];
    const std::string op = kOperands[o];
    ExpectBytes(("by_operand." + op).c_str(), sum.by_operand[o], s.read[o] + s.write[o], out);
    if (sum.read_by_operand)
      ExpectBytes(("read_by_operand." + op).c_str(), (*sum.read_by_operand)[o], s.read[o], out);
    if (sum.write_by_operand)
      ExpectBytes(("write_by_operand." + op).c_str(), (*sum.write_by_operand)[o], s.write[o], out);
  }
  ExpectBytes("read", sum.read, read, out);
  ExpectBytes("write", sum.write, write, out);
  ExpectBytes("total", sum.total, read + write, out);
  if (sum.by_cause) {
    std::map<std::string, __int128> all(s.by_cause.begin(), s.by_cause.end());
    for (const auto& [cause, v] : *sum.by_cause) all.emplace(cause, 0);
    for (const auto& [cause, v] : all) {
      auto it = sum.by_cause->find(cause);
      ExpectBytes(("by_cause." + cause).c_str(), it == sum.by_cause->end() ? 0 : it->second, v, out);
    }
  }
  if (sum.by_block) {
    std::map<int64_t, __int128> all(s.by_block.begin(), s.by_block.end());
    for (size_t b = 0; b < sum.by_block->size(); ++b) all.emplace(static_cast<int64_t>(b), 0);
    for (const auto& [b, v] : all) {
      const bool listed = b >= 0 && static_cast<size_t>(b) < sum.by_block->size();
      ExpectBytes(absl::StrCat("by_block[", b, "]").c_str(),
                  listed ? (*sum.by_block)[static_cast<size_t>(b)] : 0, v, out);
    }
  }
}

// (name, have, want) per component; `noc` only when `have` lists it.
std::vector<std::tuple<const char*, double, double>> Components(const Energy& have,
                                                                const Energy& want) {
  std::vector<std::tuple<const char*, double, double>> v = {{"total", have.total, want.total},
                                                            {"compute", have.compute, want.compute},
                                                            {"local", have.local, want.local},
                                                            {"sram", have.sram, want.sram},
                                                            {"dram", have.dram, want.dram}};
  if (have.has_noc) v.emplace_back("noc", have.noc, want.noc);
  return v;
}

void CheckTileEnergy(const MTile& t, Violations* out) {
  const double parts = Parts(t.energy);
  if (!Close(t.energy.total, parts))
    Add(out, "tile.energy",
        absl::StrFormat("tile %s: energy_pj.total %.17g != sum of its parts %.17g", t.id,
                        t.energy.total, parts));
  if (t.energy.noc != 0)  // a tile's mapping never uses the NoC
    Add(out, "tile.energy",
        absl::StrFormat("tile %s: energy_pj.noc is %.17g, not 0", t.id, t.energy.noc));
}

// Each noc transfer's `energy_pj` is what its bits, hops and memories cost.
void CheckNocEnergy(const Manifest& m, const Index& index, Violations* out) {
  for (const MTransfer& x : m.transfers) {
    if (x.dir != Dir::kNoc) continue;
    Energy want = NocEnergy(m, index, x);
    Energy have = x.energy;
    have.has_noc = true;  // compared even when missing (then 0)
    for (const auto& [name, h, w] : Components(have, want))
      if (!Close(h, w))
        Add(out, "noc.energy",
            absl::StrFormat("noc transfer %d: energy_pj.%s is %.17g but %d bytes over %d hops "
                            "cost %.17g (relative tolerance 1e-9)",
                            x.id, name, h, x.bytes, x.route.empty() ? 0 : x.route.size() - 1, w));
  }
}

void CheckEnergy(const Manifest& m, const Index& index, const Sums& s, Violations* out) {
  for (const MTile& t : m.tiles) CheckTileEnergy(t, out);
  CheckNocEnergy(m, index, out);
  for (const auto& [name, have, want] : Components(m.summary.energy, s.energy))
    if (!Close(have, want))
      Add(out, "summary.energy",
          absl::StrFormat("summary.energy_pj.%s is %.17g but tiles and transfers add up to "
                          "%.17g (relative tolerance 1e-9)",
                          name, have, want));
}

void ExpectCount(const char* check, const std::string& field, const std::optional<int64_t>& have,
                 __int128 want, Violations* out) {
  if (!have || *have == want) return;
  Add(out, check,
      absl::StrCat("summary.", field, " is ", *have, " but ", static_cast<int64_t>(want),
                   " recomputed"));
}

// Latency not covered by compute. Cores compute in parallel, so in a
// multi-core manifest that is the busiest core's compute (the sum over all
// cores may exceed the latency); version 1 keeps the sum over all tiles.
__int128 Stalls(const Index& index, const Sums& s) {
  if (!index.multicore) return s.latency - s.compute_cycles;
  __int128 busiest = 0;
  for (const auto& [core, busy] : s.busy) busiest = std::max(busiest, busy);
  return s.latency - busiest;
}

// `summary.cores`: one entry per hardware core with its memory, capacity,
// tile count and busy cycles (peaks: check_basic.cc).
void CheckCores(const Manifest& m, const Index& index, const Sums& s, Violations* out) {
  if (!m.summary.cores) return;
  auto get = [](const auto& map, int64_t core) {
    auto it = map.find(core);
    return it == map.end() ? 0 : it->second;
  };
  std::set<int64_t> listed;
  for (size_t i = 0; i < m.summary.cores->size(); ++i) {
    const MCoreSummary& c = (*m.summary.cores)[i];
    const std::string at = absl::StrCat("cores[", i, "].");
    const CoreInfo* core = index.Core(c.core);
    if (core == nullptr || !listed.insert(c.core).second) {
      Add(out, "summary.cores",
          absl::StrCat("summary.", at, "core ", c.core,
                       core == nullptr ? " is not a hardware core" : " is listed twice"));
      continue;
    }
    if (c.memory != core->gb->name)
      Add(out, "summary.cores",
          absl::StrCat("summary.", at, "memory is '", c.memory, "' but core ", c.core,
                       "'s global buffer is '", core->gb->name, "'"));
    ExpectCount("summary.cores", at + "capacity_bytes", c.capacity_bytes, core->capacity_bytes,
                out);
    ExpectCount("summary.cores", at + "tiles", c.tiles, get(s.tiles, c.core), out);
    ExpectCount("summary.cores", at + "busy_cycles", c.busy_cycles, get(s.busy, c.core), out);
  }
  for (const auto& [id, core] : index.cores)
    if (!listed.count(id))
      Add(out, "summary.cores", absl::StrCat("summary.cores lists no entry for core ", id));
}

}  // namespace

void CheckSummary(const Manifest& m, const Index& index, Violations* out) {
  const Sums s = Recompute(m, index);
  CheckBytes(m.summary, s, out);
  CheckEnergy(m, index, s, out);
  ExpectCount("summary.cycles", "latency_cycles", m.summary.latency, s.latency, out);
  ExpectCount("summary.cycles", "compute_cycles", m.summary.compute_cycles, s.compute_cycles, out);
  ExpectCount("summary.cycles", "stall_cycles", m.summary.stall_cycles, Stalls(index, s), out);
  ExpectCount("summary.counts", "tiles", m.summary.tiles, m.tiles.size(), out);
  ExpectCount("summary.counts", "allocations", m.summary.allocations, m.allocs.size(), out);
  ExpectCount("summary.counts", "transfers", m.summary.transfers, m.transfers.size(), out);
  ExpectCount("summary.noc", "noc_bytes", m.summary.noc_bytes, s.noc_bytes, out);
  ExpectCount("summary.noc", "noc_transfers", m.summary.noc_transfers, s.noc_transfers, out);
  CheckCores(m, index, s, out);
}

}  // namespace snnplan::validate
