// Shared between the strategies: compulsory traffic, parallel evaluation,
// the reducer, and the branch-and-bound search.
#pragma once

#include <vector>

#include "absl/status/status.h"
#include "snnplan/explore.h"

namespace snnplan::explore::internal {

// ExploreOptions::cancel is set.
inline bool Cancelled(const ExploreOptions& o) { return o.cancel != nullptr && o.cancel->load(); }

struct Compulsory {
  int64_t read_bytes = 0;   // weights, network input (+ states in, --state-io dram)
  int64_t write_bytes = 0;  // network output (+ states out, --state-io dram)
};
Compulsory CompulsoryTraffic(const ir::Workload& w, const hw::Hardware& hw,
                             const std::vector<int>& layer_core, cost::StateIo state_io,
                             const cost::LayerDensities* densities);

// Evaluates every schedule on options.threads workers; results land by
// index, so the outcome does not depend on the thread count.
std::vector<Evaluation> EvaluateAll(plan::Planner& planner,
                                    const std::vector<plan::Schedule>& schedules,
                                    const ExploreOptions& options, const Progress& progress);

// The reducer: the feasible evaluation with the smallest objective (first
// on ties), or -1. Incremental: `best` is the best of evaluations[0, from).
int BestIndex(const std::vector<Evaluation>& evaluations, int best = -1, size_t from = 0);

// Strategy::kSearch: fills evaluations, best, space_size, proven_optimal
// and lower_bound of `result`.
// `layer_core`: Planner::LayerCores of options.allocation.
absl::Status RunSearch(plan::Planner& planner, const ExploreOptions& options,
                       const std::vector<int>& layer_core, const Progress& progress,
                       ExploreResult* result);

}  // namespace snnplan::explore::internal
