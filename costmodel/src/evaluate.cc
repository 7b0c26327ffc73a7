// Evaluation of one temporal loop order: greedy bottom-up level allocation
// per operand (LOMA-style), access counting per level boundary, energy and
// latency. No heap allocation on the search path (detail == nullptr).
#include <algorithm>
#include <cmath>

#include "model.h"

namespace snnplan::cost::internal {
namespace {

constexpr int kMaxLoops = 64;
constexpr int kMaxLevels = 16;

struct Use {
  int level = 0;
  int cut = 0;  // loops [0, cut) are below this level's tile boundary
};

struct Scratch {
  int n = 0;
  DimArray ext[kMaxLoops + 1];      // prefix extents per dim
  int64_t above[kMaxLoops + 1];     // product of loops [p, n)
  Use use[kNumOperands][kMaxLevels];
  int nuse[kNumOperands] = {0, 0, 0, 0};
  double rd[kMaxLevels][kNumOperands];  // bits read from level, by operand
  double wr[kMaxLevels][kNumOperands];  // bits written into level
};

void Prefixes(const std::vector<Loop>& order, Scratch& s) {
  s.n = static_cast<int>(order.size());
  s.ext[0].fill(1);
  for (int p = 0; p < s.n; ++p) {
    s.ext[p + 1] = s.ext[p];
    s.ext[p + 1][order[p].dim] *= order[p].size;
  }
  s.above[s.n] = 1;
  for (int p = s.n - 1; p >= 0; --p) s.above[p] = s.above[p + 1] * order[p].size;
}

int64_t StorageBits(const OperandInfo& op, bool innermost) {
  if (!op.accumulator) return op.bits;
  return innermost ? op.low_bits : op.partial_bits;
}

int64_t TileBits(const Context& c, const Scratch& s, int x, int level,
                 int cut) {
  const OperandInfo& op = c.ops[x];
  return TileElements(c, x, c.levels[level].spatial_visible, s.ext[cut]) *
         StorageBits(op, s.nuse[x] == 0);
}

// Fills each operand's levels bottom-up: a level keeps the longest loop
// prefix whose tiles (of all operands sharing it, with a common cut) fit one
// instance; an operand whose tile from below does not fit bypasses it.
void Allocate(const Context& c, Scratch& s, unsigned gb_bypass) {
  int cut[kNumOperands] = {0, 0, 0, 0};
  for (int x = 0; x < kNumOperands; ++x) s.nuse[x] = 0;
  const int levels = static_cast<int>(c.levels.size());
  for (int l = 0; l < levels; ++l) {
    int64_t avail = c.levels[l].capacity_bits;
    int inner[kNumOperands];
    int ninner = 0;
    for (int x : kAdmissionOrder) {
      const OperandInfo& op = c.ops[x];
      if (!op.present) continue;
      if (op.top == c.gb && l == c.gb) avail -= op.top_reserved_bits;
      if (std::find(op.levels.begin(), op.levels.end(), l) == op.levels.end())
        continue;
      if (l == c.gb && op.top != l && ((gb_bypass >> x) & 1u)) continue;
      if (op.top == l) {
        cut[x] = s.n;
        s.use[x][s.nuse[x]++] = {l, s.n};
      } else {
        inner[ninner++] = x;
      }
    }
    if (ninner == 0) continue;
    int admitted[kNumOperands];
    int nadm = 0;
    int64_t used = 0;
    for (int i = 0; i < ninner; ++i) {
      int x = inner[i];
      int64_t b = TileBits(c, s, x, l, cut[x]);
      if (used + b <= avail) {
        used += b;
        admitted[nadm++] = x;
      }
    }
    if (nadm == 0) continue;
    int q = s.n;
    for (int i = 0; i < nadm; ++i) q = std::min(q, cut[admitted[i]]);
    while (q < s.n) {
      int64_t sum = 0;
      for (int i = 0; i < nadm; ++i) {
        int x = admitted[i];
        sum += TileBits(c, s, x, l, std::max(cut[x], q + 1));
      }
      if (sum > avail) break;
      ++q;
    }
    for (int i = 0; i < nadm; ++i) {
      int x = admitted[i];
      cut[x] = std::max(cut[x], q);
      s.use[x][s.nuse[x]++] = {l, cut[x]};
    }
  }
}

// Refills of the tile below `cut`: the product of the loops above it, but
// the irrelevant loops directly above keep the tile in place (stationary).
int64_t Refills(const OperandInfo& op, const std::vector<Loop>& order,
                const Scratch& s, int cut) {
  int q = cut;
  while (q < s.n && !op.relevant[order[q].dim]) ++q;
  return s.above[q];
}

// Array <-> innermost level of operand x.
void CountInnermost(const Context& c, Scratch& s, int x) {
  const OperandInfo& op = c.ops[x];
  const int l = s.use[x][0].level;
  const double tile = static_cast<double>(
      TileElements(c, x, c.spatial, s.ext[0]));
  const double iters = static_cast<double>(s.above[0]);
  const double total = static_cast<double>(op.total_elements);
  if (op.spike_output) {
    s.wr[l][x] += total * op.bits;  // each spike written once
  } else if (!op.accumulator) {
    s.rd[l][x] += tile * iters * op.bits;  // no PE register: every cycle
  } else {
    const double distinct = total / tile;
    s.wr[l][x] += iters * tile * op.low_bits;  // read-modify-write
    double reads = iters - distinct + (op.initial_read ? distinct : 0);
    s.rd[l][x] += reads * tile * op.low_bits;
  }
}

// Level use j-1 (below) <-> use j (above) of operand x.
void CountBoundary(const Context& c, const std::vector<Loop>& order,
                   Scratch& s, int x, int j) {
  const OperandInfo& op = c.ops[x];
  const Use lo = s.use[x][j - 1];
  const int hi = s.use[x][j].level;
  const double total = static_cast<double>(op.total_elements);
  // Final values (and W, I) cross the DRAM link in the hardware's encoding.
  const double link = c.levels[hi].region == Region::kDram ? op.dram_fraction : 1.0;
  if (op.spike_output) {
    s.rd[lo.level][x] += total * op.bits;
    s.wr[hi][x] += total * op.bits * link;
    return;
  }
  const double tile = static_cast<double>(
      TileElements(c, x, c.spatial, s.ext[lo.cut]));
  const double refills = static_cast<double>(Refills(op, order, s, lo.cut));
  if (!op.accumulator) {
    s.rd[hi][x] += tile * refills * op.bits * link;
    s.wr[lo.level][x] += tile * refills * op.bits;
    return;
  }
  const double distinct = total / tile;
  const double partial = (refills - distinct) * tile;
  const double final_up = op.final_write ? distinct * tile : 0.0;
  const double down = partial + (op.initial_read ? distinct * tile : 0.0);
  const bool lo_inner = j - 1 == 0;
  const double lo_partial = lo_inner ? op.low_bits : op.partial_bits;
  const double lo_final = lo_inner ? op.low_bits : op.final_bits;
  s.rd[lo.level][x] += partial * lo_partial + final_up * lo_final;
  s.wr[hi][x] += partial * op.partial_bits + final_up * op.final_bits * link;
  s.rd[hi][x] += down * op.partial_bits;
  s.wr[lo.level][x] += down * lo_partial;
}

void CountAccesses(const Context& c, const std::vector<Loop>& order,
                   Scratch& s) {
  const int levels = static_cast<int>(c.levels.size());
  for (int l = 0; l < levels; ++l)
    for (int x = 0; x < kNumOperands; ++x) s.rd[l][x] = s.wr[l][x] = 0;
  for (int x = 0; x < kNumOperands; ++x) {
    if (!c.ops[x].present) continue;
    CountInnermost(c, s, x);
    for (int j = 1; j < s.nuse[x]; ++j) CountBoundary(c, order, s, x, j);
    const double scale = c.ops[x].scale;  // padded lanes move no data
    if (scale != 1.0)
      for (int l = 0; l < levels; ++l) {
        s.rd[l][x] *= scale;
        s.wr[l][x] *= scale;
      }
  }
}

int64_t CeilDiv(double bits, int64_t bw) {
  if (bw <= 0 || bits <= 0) return 0;
  return static_cast<int64_t>(std::ceil(bits / static_cast<double>(bw)));
}

int64_t ComputeCycles(const Context& c) {
  if (c.imc) return c.imc_cycles;  // crossbar activations, not PE iterations
  if (c.cycle_density != 1.0)  // sparse_speedup on an SOP layer
    return static_cast<int64_t>(std::ceil(static_cast<double>(c.iterations) * c.cycle_density));
  return c.iterations;
}

int64_t MemoryCycles(const Context& c, const Scratch& s) {
  int64_t busiest = 0;
  for (size_t l = 0; l < c.levels.size(); ++l) {
    const LevelInfo& info = c.levels[l];
    double rd = 0, wr = 0;
    for (int x = 0; x < kNumOperands; ++x) {
      rd += s.rd[l][x];
      wr += s.wr[l][x];
    }
    int64_t cycles =
        info.single_port
            ? CeilDiv(rd + wr, info.read_bw_bits)
            : std::max(CeilDiv(rd, info.read_bw_bits),
                       CeilDiv(wr, info.write_bw_bits));
    busiest = std::max(busiest, cycles);
  }
  return busiest;
}

double ComputeEnergyPj(const Context& c) {
  const auto& array = c.core->operational_array;
  if (c.imc)
    return (c.imc_activations * c.core->imc.energy_fj_per_activation +
            c.imc_column_reads * c.core->imc.energy_fj_per_column_read +
            c.neuron_steps * array.neuron_update_energy_fj) /
           1000.0;
  double unit_fj = c.uses_sop ? array.sop_energy_fj : array.mac_energy_fj;
  return (c.priced_ops * unit_fj +
          c.neuron_steps * array.neuron_update_energy_fj) / 1000.0;
}

double LevelEnergyPj(const Context& c, const Scratch& s, int l, int x) {
  const LevelInfo& info = c.levels[l];
  return (s.rd[l][x] * info.read_fj_per_bit +
          s.wr[l][x] * info.write_fj_per_bit) / 1000.0;
}

void AddRegion(EnergyBreakdown& e, Region r, double pj) {
  switch (r) {
    case Region::kLocal: e.local_pj += pj; break;
    case Region::kSram: e.sram_pj += pj; break;
    case Region::kDram: e.dram_pj += pj; break;
  }
}

int LevelOf(const Scratch& s, int x, int position) {
  for (int j = 0; j < s.nuse[x]; ++j)
    if (s.use[x][j].cut > position) return s.use[x][j].level;
  return s.nuse[x] > 0 ? s.use[x][s.nuse[x] - 1].level : -1;
}

void FillMapping(const Context& c, const std::vector<Loop>& order,
                 const Scratch& s, TileCost& out) {
  out.mapping.clear();
  for (const hw::SpatialUnroll& u : c.core->dataflows) {
    int d = DimIndex(u.loop);
    int64_t f = std::min(c.spatial[d], u.size);
    if (f <= 1) continue;
    MappedLoop m;
    m.dim = u.loop;
    m.size = f;
    m.spatial = true;
    for (int x = 0; x < kNumOperands; ++x)
      m.level[x] = c.ops[x].present ? s.use[x][0].level : -1;
    out.mapping.push_back(m);
  }
  for (int p = 0; p < s.n; ++p) {
    MappedLoop m;
    m.dim = static_cast<ir::Dim>(order[p].dim);
    m.size = order[p].size;
    for (int x = 0; x < kNumOperands; ++x)
      m.level[x] = c.ops[x].present ? LevelOf(s, x, p) : -1;
    out.mapping.push_back(m);
  }
}

void FillDetail(const Context& c, const std::vector<Loop>& order,
                const Scratch& s, TileCost& out) {
  out = TileCost{};
  out.energy.compute_pj = ComputeEnergyPj(c);
  for (size_t l = 0; l < c.levels.size(); ++l) {
    LevelAccesses acc;
    acc.memory = c.levels[l].name;
    for (int x = 0; x < kNumOperands; ++x) {
      double pj = LevelEnergyPj(c, s, static_cast<int>(l), x);
      AddRegion(out.energy, c.levels[l].region, pj);
      AddRegion(out.energy_by_operand[x], c.levels[l].region, pj);
      acc.operand[x].read_bits = std::llround(s.rd[l][x]);
      acc.operand[x].write_bits = std::llround(s.wr[l][x]);
      if (c.levels[l].region == Region::kDram) out.dram_traffic[x] = acc.operand[x];
    }
    out.accesses.push_back(acc);
  }
  out.dram_operands = c.overflow;
  out.operations = std::llround(c.priced_ops);
  out.uses_sop = c.uses_sop;
  out.compute_cycles = ComputeCycles(c);
  out.memory_cycles = MemoryCycles(c, s);
  out.latency_cycles = std::max(out.compute_cycles, out.memory_cycles);
  out.utilization = c.utilization;
  out.density = c.tile.density;
  out.on_crossbars = c.imc;
  out.crossbar_arrays = c.imc_arrays;
  out.array_activations = std::llround(c.imc_activations);
  out.column_reads = std::llround(c.imc_column_reads);
  FillMapping(c, order, s, out);
}

}  // namespace

std::vector<unsigned> BypassChoices(const Context& c) {
  std::vector<unsigned> choices = {0u};
  unsigned all = 0;
  for (int x = 0; x < kNumOperands; ++x)
    if (c.ops[x].present && c.overflow[x]) {
      choices.push_back(1u << x);
      all |= 1u << x;
    }
  if (choices.size() > 2) choices.push_back(all);
  return choices;
}

Score Evaluate(const Context& c, const std::vector<Loop>& order,
               TileCost* detail, unsigned gb_bypass) {
  Score score;
  if (order.size() > static_cast<size_t>(kMaxLoops) ||
      c.levels.size() > static_cast<size_t>(kMaxLevels))
    return score;
  thread_local Scratch s;
  Prefixes(order, s);
  Allocate(c, s, gb_bypass);
  CountAccesses(c, order, s);
  double energy = ComputeEnergyPj(c);
  for (size_t l = 0; l < c.levels.size(); ++l)
    for (int x = 0; x < kNumOperands; ++x)
      energy += LevelEnergyPj(c, s, static_cast<int>(l), x);
  score.valid = true;
  score.energy_pj = energy;
  score.latency_cycles = std::max(ComputeCycles(c), MemoryCycles(c, s));
  if (detail != nullptr) FillDetail(c, order, s, *detail);
  return score;
}

}  // namespace snnplan::cost::internal
