// Exact branch and bound over per-block {st, tb2, .., tb} x {lbl, lf}.
//
// The planner simulates tiles of all blocks interleaved (timestep-major), so
// a block prefix has no cost of its own to share. The bound is instead
// separable over blocks: compulsory traffic plus forced weight reloads (a
// tile after a layer's first must bring in at least its weights' bytes
// minus the global buffer's capacity, since weights are never produced on
// chip). Every objective is monotone in those reload bytes, so leaves are
// enumerated lazily in nondecreasing bound order (each block's choices
// sorted by their reloads; a node generates its first child and its next
// sibling) and simulated until the next bound reaches the best found.
// Before that, hill climbing from the grid's best finds a good incumbent.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <queue>
#include <set>

#include "absl/strings/str_cat.h"
#include "explore_internal.h"
#include "snnplan/explore.h"

namespace snnplan::explore {
namespace {

int64_t WeightBytes(const ir::Layer& l) { return l.WeightsUsed() * l.precision.weight_bits / 8; }

// Weights in crossbars (an in-memory-computing core) are never reloaded.
bool InCrossbars(const hw::Hardware& hw, const std::vector<int>& layer_core, size_t l,
                 const ir::Layer& layer) {
  return cost::RunsOnCrossbars(layer, hw.cores[layer_core[l]]);
}

int64_t BufferBytes(const hw::Hardware& hw, int core) {
  return hw.cores[core].global_buffer().size_bits / 8;
}

// Reload bytes saturate here instead of overflowing on absurd sizes (a
// smaller bound is still a valid one); 40 blocks' worth still fit int64.
constexpr int64_t kReloadCap = std::numeric_limits<int64_t>::max() / 64;

int64_t CappedSum(int64_t a, int64_t b) { return std::min(a + b, kReloadCap); }

// Reloads forced in one layer cut into `tiles` tiles per sample.
int64_t LayerReloads(const ir::Layer& l, int64_t tiles, int64_t samples, int64_t capacity) {
  const int64_t excess = WeightBytes(l) - capacity;
  if (excess <= 0) return 0;
  int64_t runs = 0, bytes = 0;
  if (__builtin_mul_overflow(samples, tiles, &runs) ||
      __builtin_mul_overflow(runs - 1, excess, &bytes))
    return kReloadCap;
  return std::min(bytes, kReloadCap);
}

// A node of the lazy enumeration: blocks 0..depth-1 fixed, by rank in each
// block's sorted choices.
struct Node {
  int64_t key = 0;  // lower bound on reload bytes of every leaf below
  int64_t seq = 0;  // creation order: deterministic ties
  std::vector<uint8_t> ranks;
  bool operator>(const Node& o) const { return key != o.key ? key > o.key : seq > o.seq; }
};

class LazyEnumeration {
 public:
  explicit LazyEnumeration(const std::vector<std::vector<int64_t>>& reloads) {
    const size_t n = reloads.size();
    sorted_.resize(n);
    value_.resize(n);
    for (size_t b = 0; b < n; ++b) {
      std::vector<int>& order = sorted_[b];
      order.resize(reloads[b].size());
      std::iota(order.begin(), order.end(), 0);
      std::stable_sort(order.begin(), order.end(),
                       [&](int x, int y) { return reloads[b][x] < reloads[b][y]; });
      for (int c : order) value_[b].push_back(reloads[b][c]);
    }
    suffix_min_.assign(n + 1, 0);
    for (size_t b = n; b-- > 0;) suffix_min_[b] = suffix_min_[b + 1] + value_[b][0];
    Push(Node{suffix_min_[0], 0, {}});
  }

  bool Empty() const { return queue_.empty(); }
  int64_t NextKey() const { return queue_.top().key; }

  // Pops nodes until a leaf; returns false when none is left.
  bool NextLeaf(std::vector<int>* choices) {
    while (!queue_.empty()) {
      Node node = queue_.top();
      queue_.pop();
      const size_t depth = node.ranks.size();
      if (depth > 0 && node.ranks.back() + 1u < value_[depth - 1].size()) {
        Node sibling{node.key - value_[depth - 1][node.ranks.back()] +
                         value_[depth - 1][node.ranks.back() + 1],
                     0, node.ranks};
        ++sibling.ranks.back();
        Push(std::move(sibling));
      }
      if (depth == sorted_.size()) {
        choices->clear();
        for (size_t b = 0; b < depth; ++b) choices->push_back(sorted_[b][node.ranks[b]]);
        return true;
      }
      node.ranks.push_back(0);  // the cheapest choice keeps the key
      Push(std::move(node));
    }
    return false;
  }

 private:
  void Push(Node node) {
    node.seq = next_seq_++;
    queue_.push(std::move(node));
  }
  std::vector<std::vector<int>> sorted_;     // per block: choice ids by reloads
  std::vector<std::vector<int64_t>> value_;  // per block: reloads by rank
  std::vector<int64_t> suffix_min_;
  std::priority_queue<Node, std::vector<Node>, std::greater<Node>> queue_;
  int64_t next_seq_ = 0;
};

// Leaves evaluated per round: fixed, so the budget cuts at the same place
// whatever the thread count.
constexpr size_t kRound = 16;

}  // namespace

std::vector<plan::BlockSchedule> SearchChoices(int64_t timesteps) {
  std::vector<int64_t> steps = {1};
  for (int64_t n = 2; n < timesteps; n *= 2)
    if (timesteps % n == 0) steps.push_back(n);
  if (timesteps > 1) steps.push_back(0);  // tb: all timesteps
  std::vector<plan::BlockSchedule> out;
  for (int64_t n : steps)
    for (bool fused : {false, true}) out.push_back({n, fused, 1});
  return out;
}

int64_t WeightReloadBytes(const ir::Workload& w, const hw::Hardware& hw,
                          const std::vector<int>& layer_core, const plan::Schedule& s) {
  const std::vector<int64_t> tiles = plan::TilesPerLayer(w, s);
  const int64_t samples = std::max<int64_t>(1, w.batch);
  int64_t total = 0;
  for (size_t l = 0; l < w.layers.size(); ++l)
    if (!InCrossbars(hw, layer_core, l, w.layers[l]))
      total = CappedSum(
          total, LayerReloads(w.layers[l], tiles[l], samples, BufferBytes(hw, layer_core[l])));
  return total;
}

DramLowerBound BuildDramLowerBound(const ir::Workload& w, const hw::Hardware& hw,
                                   const std::vector<int>& layer_core, cost::StateIo state_io,
                                   const std::vector<plan::BlockSchedule>& choices,
                                   const cost::LayerDensities* densities) {
  DramLowerBound b;
  const internal::Compulsory c =
      internal::CompulsoryTraffic(w, hw, layer_core, state_io, densities);
  b.compulsory_read_bytes = c.read_bytes;
  b.compulsory_write_bytes = c.write_bytes;
  b.reload_bytes.assign(w.num_blocks, std::vector<int64_t>(choices.size(), 0));
  const int64_t samples = std::max<int64_t>(1, w.batch);
  for (size_t i = 0; i < choices.size(); ++i) {
    plan::Schedule s;
    s.blocks.assign(w.num_blocks, choices[i]);  // a block's tiles depend on its entry only
    const std::vector<int64_t> tiles = plan::TilesPerLayer(w, s);
    for (size_t l = 0; l < w.layers.size(); ++l)
      if (!InCrossbars(hw, layer_core, l, w.layers[l]))
        b.reload_bytes[w.layers[l].block][i] =
            CappedSum(b.reload_bytes[w.layers[l].block][i],
                      LayerReloads(w.layers[l], tiles[l], samples, BufferBytes(hw, layer_core[l])));
  }
  return b;
}

double ObjectiveLowerBound(const DramLowerBound& b, int64_t reload_bytes, double compute_pj,
                           const ir::Workload& w, const hw::Hardware& hw,
                           const std::vector<int>& layer_core, Objective objective) {
  const double read =
      static_cast<double>(b.compulsory_read_bytes) + static_cast<double>(reload_bytes);
  const double write = static_cast<double>(b.compulsory_write_bytes);
  const double energy_pj = compute_pj + (read * 8 * hw.offchip.read_energy_fj_per_bit +
                                         write * 8 * hw.offchip.write_energy_fj_per_bit) /
                                            1000.0;
  // Each core runs its tiles back to back (each at least its ops over the
  // core's PEs, unless sparsity skips work) and one DRAM link carries every
  // transfer.
  std::vector<double> core_cycles(hw.cores.size(), 0);
  for (size_t i = 0; i < w.layers.size(); ++i) {
    const hw::OperationalArray& array = hw.cores[layer_core[i]].operational_array;
    if (array.sparse_speedup) continue;
    const double pes = static_cast<double>(std::max<int64_t>(1, array.TotalPes()));
    const ir::Layer& l = w.layers[i];
    core_cycles[layer_core[i]] +=
        std::floor(static_cast<double>(l.OpsPerStep()) * static_cast<double>(l.dims.T) / pes);
  }
  const double compute_cycles = *std::max_element(core_cycles.begin(), core_cycles.end()) *
                                static_cast<double>(std::max<int64_t>(1, w.batch));
  const double bw = static_cast<double>(std::max<int64_t>(1, hw.offchip.bw_bits_per_cycle));
  const double link_cycles = std::floor((read + write) * 8 / bw);
  const double latency = std::max(compute_cycles, link_cycles);
  switch (objective) {
    case Objective::kDram:
      return read + write;
    case Objective::kEnergy:
      return energy_pj;
    case Objective::kLatency:
      return latency;
    case Objective::kEdp:
      return energy_pj * latency;
  }
  return 0;
}

namespace internal {

absl::Status RunSearch(plan::Planner& planner, const ExploreOptions& options,
                       const std::vector<int>& layer_core, const Progress& progress,
                       ExploreResult* result) {
  const ir::Workload& w = planner.workload();
  const hw::Hardware& hw = planner.hardware();
  if (w.num_blocks > 40)
    return absl::InvalidArgumentError(
        absl::StrCat("search over ", w.num_blocks, " blocks is not supported (at most 40)"));
  const std::vector<plan::BlockSchedule> choices = SearchChoices(w.timesteps);
  const DramLowerBound bound = BuildDramLowerBound(w, hw, layer_core, planner.options().state_io,
                                                   choices, &planner.densities());
  result->space_size = std::pow(static_cast<double>(choices.size()), w.num_blocks);
  const size_t budget =
      options.budget > 0 ? static_cast<size_t>(options.budget) : std::numeric_limits<size_t>::max();
  const size_t progress_total =
      static_cast<size_t>(std::min<double>(static_cast<double>(budget), result->space_size));

  std::set<std::string> evaluated;  // specs, so no schedule runs (or is listed) twice
  double compute_pj = 0;            // schedule-independent; 0 until known
  auto evaluate = [&](std::vector<plan::Schedule> batch) {
    if (batch.size() > budget - result->evaluations.size())
      batch.resize(budget - result->evaluations.size());
    const size_t first_new = result->evaluations.size();
    for (Evaluation& e : EvaluateAll(planner, batch, options, nullptr)) {
      evaluated.insert(e.spec);
      e.candidate = static_cast<int64_t>(result->evaluations.size());
      if (e.feasible && compute_pj == 0) compute_pj = e.summary.energy.compute_pj;
      result->evaluations.push_back(std::move(e));
    }
    result->best = BestIndex(result->evaluations, result->best, first_new);
    if (progress) progress(result->evaluations.size(), progress_total);
  };
  auto incumbent = [&] {
    return result->best < 0 ? std::numeric_limits<double>::infinity()
                            : result->evaluations[result->best].objective;
  };
  auto lower = [&](int64_t reloads) {
    return ObjectiveLowerBound(bound, reloads, compute_pj, w, hw, layer_core, options.objective);
  };

  // Seeds: the paper's grid, so the search is never worse than it.
  std::vector<plan::Schedule> seeds;
  for (auto& [s, fb] : GridSchedules(w, options.fuse_ranking, options.batch_ranking))
    seeds.push_back(std::move(s));
  evaluate(std::move(seeds));

  // Hill climbing from the best found: every single-block change of the
  // incumbent, moving to the best improvement, so good schedules (and a
  // tight incumbent for pruning) come early. At most half of a budget.
  const size_t climb_limit = budget == std::numeric_limits<size_t>::max() ? budget : budget / 2;
  double before_climb = INFINITY;
  while (incumbent() < before_climb && result->evaluations.size() < climb_limit &&
         !Cancelled(options)) {
    before_climb = incumbent();
    const plan::Schedule center = result->evaluations[result->best].schedule;
    std::vector<plan::Schedule> neighbours;
    for (int b = 0; b < w.num_blocks; ++b)
      for (const plan::BlockSchedule& c : choices) {
        plan::Schedule s = center;
        s.blocks[b] = c;
        if (!evaluated.count(plan::FormatSchedule(s))) neighbours.push_back(std::move(s));
      }
    if (neighbours.size() > climb_limit - result->evaluations.size())
      neighbours.resize(climb_limit - result->evaluations.size());
    if (neighbours.empty()) break;
    evaluate(std::move(neighbours));
  }

  LazyEnumeration leaves(bound.reload_bytes);
  std::vector<int> picks;
  while (result->evaluations.size() < budget && !Cancelled(options)) {
    std::vector<plan::Schedule> round;
    while (round.size() < kRound && !leaves.Empty() && lower(leaves.NextKey()) < incumbent() &&
           leaves.NextLeaf(&picks)) {
      plan::Schedule s;
      for (int c : picks) s.blocks.push_back(choices[c]);
      if (!evaluated.count(plan::FormatSchedule(s))) round.push_back(std::move(s));
    }
    if (round.empty()) break;
    evaluate(std::move(round));
  }
  const bool exhausted = leaves.Empty() || lower(leaves.NextKey()) >= incumbent();
  result->proven_optimal = exhausted;
  result->lower_bound = exhausted ? incumbent() : std::min(incumbent(), lower(leaves.NextKey()));
  return absl::OkStatus();
}

}  // namespace internal
}  // namespace snnplan::explore
