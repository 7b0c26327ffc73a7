// Layer-to-core allocation search on top of the planner: genomes are core
// indices per layer, each priced by planning the fixed schedule with that
// allocation; seeded with the single-core plan and a greedy pipeline split.
#include <algorithm>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "snnplan/allocate.h"

namespace snnplan::explore {
namespace {

// Cores in snake order over the mesh (rows by y; x ascending on even rows,
// descending on odd ones), so consecutive cores are mesh neighbours on
// rectangular meshes. Returns indices into hw.cores.
std::vector<int> SnakeOrder(const hw::Hardware& hw) {
  std::vector<std::array<int64_t, 3>> keyed;  // (y, x or -x, core index)
  for (size_t i = 0; i < hw.cores.size(); ++i)
    if (const hw::NocPosition* p = hw.PositionOf(hw.cores[i].id))
      keyed.push_back({p->y, p->y % 2 == 0 ? p->x : -p->x, static_cast<int64_t>(i)});
  std::sort(keyed.begin(), keyed.end());
  std::vector<int> order;
  for (const auto& k : keyed) order.push_back(static_cast<int>(k[2]));
  return order;
}

// Segment index per layer when layers are cut, in order, into contiguous runs
// no heavier than `limit` (a layer heavier than the limit gets a run alone).
std::vector<size_t> Segments(const std::vector<int64_t>& cycles, int64_t limit) {
  std::vector<size_t> segment;
  size_t current = 0;
  int64_t load = 0;
  for (int64_t c : cycles) {
    if (load + c > limit && load > 0) {
      ++current;
      load = 0;
    }
    load += c;
    segment.push_back(current);
  }
  return segment;
}

}  // namespace

plan::CoreAllocation GreedyAllocation(const hw::Hardware& hw,
                                      const std::vector<int64_t>& layer_cycles) {
  const std::vector<int> cores = SnakeOrder(hw);
  // Smallest bottleneck over contiguous splits into at most cores.size()
  // segments: binary search on the largest segment load.
  int64_t lo = 0, hi = 0;
  for (int64_t c : layer_cycles) {
    lo = std::max(lo, c);
    hi += c;
  }
  auto runs = [&](int64_t limit) {
    const std::vector<size_t> seg = Segments(layer_cycles, limit);
    return seg.empty() ? size_t{0} : seg.back() + 1;
  };
  while (lo < hi) {
    const int64_t mid = lo + (hi - lo) / 2;
    if (runs(mid) <= cores.size())
      hi = mid;
    else
      lo = mid + 1;
  }
  plan::CoreAllocation a;
  for (size_t segment : Segments(layer_cycles, lo))
    a.layer_core.push_back(hw.cores[cores[std::min(segment, cores.size() - 1)]].id);
  return a;
}

plan::CoreAllocation ToAllocation(const Genome& genome, const hw::Hardware& hw) {
  plan::CoreAllocation a;
  for (int g : genome) a.layer_core.push_back(hw.cores[g].id);
  return a;
}

Genome ToGenome(const plan::CoreAllocation& allocation, const hw::Hardware& hw) {
  Genome genome;
  for (int id : allocation.layer_core) genome.push_back(hw.CoreIndex(id));
  return genome;
}

absl::StatusOr<AllocationSearch> SearchAllocation(
    plan::Planner& planner, const plan::Schedule& schedule, const GaOptions& options,
    const GaProgress& progress, const std::map<Genome, AllocationObjectives>* known) {
  const ir::Workload& w = planner.workload();
  const hw::Hardware& hw = planner.hardware();
  AllocationSearch out;
  out.single_core.layer_core.assign(w.layers.size(), planner.options().core);
  auto single = planner.Run(schedule, out.single_core);
  if (!single.ok())
    return absl::Status(
        single.status().code(),
        absl::StrCat("the single-core plan (every layer on core ", planner.options().core,
                     ") fails, so the greedy start has no "
                     "layer costs: ",
                     single.status().message()));
  out.greedy = GreedyAllocation(hw, plan::GetSummary(**single).layer_busy_cycles);
  const std::vector<Genome> seeds = {ToGenome(out.single_core, hw), ToGenome(out.greedy, hw)};
  auto evaluate = [&](const Genome& genome) {
    if (known != nullptr)
      if (auto it = known->find(genome); it != known->end()) return it->second;
    AllocationObjectives o;
    auto p = planner.Run(schedule, ToAllocation(genome, hw));
    if (!p.ok()) {
      o.error = std::string(p.status().message());
      return o;
    }
    const plan::Summary& s = plan::GetSummary(**p);
    o.feasible = true;
    o.latency_cycles = static_cast<double>(s.latency_cycles);
    o.energy_pj = s.energy.total_pj();
    return o;
  };
  absl::StatusOr<GaResult> ga =
      RunNsga2(static_cast<int>(w.layers.size()), static_cast<int>(hw.cores.size()), seeds,
               evaluate, options, progress);
  if (!ga.ok()) return ga.status();
  out.ga = *std::move(ga);
  for (size_t i = 0; i < out.ga.evaluated.size(); ++i) {
    const Individual& ind = out.ga.evaluated[i];
    if (ind.seed == 0 && out.single_core_index < 0) out.single_core_index = static_cast<int>(i);
    if (ind.seed == 1 && out.greedy_index < 0) out.greedy_index = static_cast<int>(i);
  }
  // Identical seeds (one core, or greedy == single core) share one entry.
  if (out.greedy_index < 0 && seeds[1] == seeds[0]) out.greedy_index = out.single_core_index;
  return out;
}

}  // namespace snnplan::explore
