// The summary recomputed from the lists: DRAM bytes by direction, operand,
// cause and block; energies (tiles + load/store transfers, within 1e-9
// relative); latency, compute and stall cycles; counts.
#include <cmath>

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
  int64_t latency = 0;
};

void AddEnergy(Energy* e, const Energy& d) {
  e->compute += d.compute;
  e->local += d.local;
  e->sram += d.sram;
  e->dram += d.dram;
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
  const hw::MemoryLevel& gb = m.hardware.cores.front().global_buffer();
  const hw::Offchip& dram = m.hardware.offchip;
  const BlockOf block_of(m, index);
  for (const MTile& t : m.tiles) {
    AddEnergy(&s.energy, t.energy);
    s.compute_cycles += t.end - t.start;
    s.latency = std::max(s.latency, t.end);
  }
  for (const MTransfer& x : m.transfers) {
    s.latency = std::max(s.latency, x.end);
    s.by_cause[x.cause] += x.bytes;
    if (x.dir == Dir::kStream) {
      for (size_t o = 0; o < 4; ++o) {
        s.read[o] += x.read[o];
        s.write[o] += x.write[o];
      }
      auto it = index.tile.find(x.tile);
      s.by_block[it == index.tile.end() ? -1 : m.tiles[it->second].block] += x.bytes;
      continue;  // its energy is in the tile's
    }
    const double bits = static_cast<double>(x.bytes) * 8;
    const bool load = x.dir == Dir::kLoad;
    (load ? s.read : s.write)[x.operand] += x.bytes;
    s.energy.dram += bits * (load ? dram.read_energy_fj_per_bit : dram.write_energy_fj_per_bit) / 1000;
    s.energy.sram += bits * (load ? gb.write_energy_fj_per_bit : gb.read_energy_fj_per_bit) / 1000;
    s.by_block[block_of(x.tensor)] += x.bytes;
  }
  s.energy.total = s.energy.compute + s.energy.local + s.energy.sram + s.energy.dram;
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

void CheckEnergy(const Manifest& m, const Sums& s, Violations* out) {
  for (const MTile& t : m.tiles) {
    const double parts = t.energy.compute + t.energy.local + t.energy.sram + t.energy.dram;
    if (!Close(t.energy.total, parts))
      Add(out, "tile.energy", absl::StrFormat("tile %s: energy_pj.total %.17g != sum of its "
                                              "parts %.17g", t.id, t.energy.total, parts));
  }
  const Energy& e = m.summary.energy;
  const std::pair<const char*, std::pair<double, double>> fields[] = {
      {"total", {e.total, s.energy.total}},       {"compute", {e.compute, s.energy.compute}},
      {"local", {e.local, s.energy.local}},       {"sram", {e.sram, s.energy.sram}},
      {"dram", {e.dram, s.energy.dram}}};
  for (const auto& [name, v] : fields)
    if (!Close(v.first, v.second))
      Add(out, "summary.energy",
          absl::StrFormat("summary.energy_pj.%s is %.17g but tiles and transfers add up to "
                          "%.17g (relative tolerance 1e-9)", name, v.first, v.second));
}

void ExpectCount(const char* check, const char* field, const std::optional<int64_t>& have, __int128 want,
                 Violations* out) {
  if (!have || *have == want) return;
  Add(out, check, absl::StrCat("summary.", field, " is ", *have, " but ",
                                          static_cast<int64_t>(want), " recomputed"));
}

}  // namespace

void CheckSummary(const Manifest& m, const Index& index, Violations* out) {
  const Sums s = Recompute(m, index);
  CheckBytes(m.summary, s, out);
  CheckEnergy(m, s, out);
  ExpectCount("summary.cycles", "latency_cycles", m.summary.latency, s.latency, out);
  ExpectCount("summary.cycles", "compute_cycles", m.summary.compute_cycles, s.compute_cycles, out);
  ExpectCount("summary.cycles", "stall_cycles", m.summary.stall_cycles, s.latency - s.compute_cycles, out);
  ExpectCount("summary.counts", "tiles", m.summary.tiles, m.tiles.size(), out);
  ExpectCount("summary.counts", "allocations", m.summary.allocations, m.allocs.size(), out);
  ExpectCount("summary.counts", "transfers", m.summary.transfers, m.transfers.size(), out);
}

}  // namespace snnplan::validate
