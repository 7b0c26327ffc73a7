// The mapping search: prime factors of the temporal bounds, merged LOMA-style
// until the number of distinct loop orders is bounded, then a depth-first
// enumeration of multiset permutations (equal factors of one dim are
// interchangeable) with the chronological constraint applied while building.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>

#include "model.h"

namespace snnplan::cost::internal {
namespace {

constexpr int kMaxLoops = 64;

bool IsReduction(int d) {
  return d == DimIndex(ir::Dim::kC) || d == DimIndex(ir::Dim::kFY) ||
         d == DimIndex(ir::Dim::kFX);
}
bool IsTime(int d) { return d == DimIndex(ir::Dim::kT); }

std::vector<int64_t> PrimeFactors(int64_t v) {
  std::vector<int64_t> f;
  for (int64_t p = 2; p * p <= v; ++p)
    while (v % p == 0) {
      f.push_back(p);
      v /= p;
    }
  if (v > 1) f.push_back(v);
  return f;
}

double Factorial(int n) {
  double r = 1;
  for (int i = 2; i <= n; ++i) r *= i;
  return r;
}

// Distinct loop orders of the factor multiset. Deliberately without the
// chronological constraint, so a stateful layer and its stateless twin get
// the same factors (the stateless search space then contains the stateful
// one) and the factors depend on the tile's loop bounds only.
double CountOrders(const std::vector<std::vector<int64_t>>& factors) {
  int n = 0;
  double denom = 1;
  for (size_t d = 0; d < factors.size(); ++d) {
    std::map<int64_t, int> mult;
    for (int64_t f : factors[d]) ++mult[f];
    for (const auto& [f, m] : mult) denom *= Factorial(m);
    n += static_cast<int>(factors[d].size());
  }
  return Factorial(n) / denom;
}

// Merges the two smallest factors of the dim with the most factors (ties:
// the lower dim index). Returns false when no dim has two factors.
bool MergeOnce(std::vector<std::vector<int64_t>>& factors) {
  int best = -1;
  for (size_t d = 0; d < factors.size(); ++d)
    if (factors[d].size() >= 2 &&
        (best < 0 || factors[d].size() > factors[best].size()))
      best = static_cast<int>(d);
  if (best < 0) return false;
  std::vector<int64_t>& f = factors[best];
  std::sort(f.begin(), f.end());
  f[1] *= f[0];
  f.erase(f.begin());
  std::sort(f.begin(), f.end());
  return true;
}

struct FactorType {
  int dim = 0;
  int64_t size = 1;
  int count = 0;
};

double Objective(const Context& c, const Score& s) {
  switch (c.options.objective) {
    case Objective::kLatency: return static_cast<double>(s.latency_cycles);
    case Objective::kEdp: return s.energy_pj * static_cast<double>(s.latency_cycles);
    case Objective::kEnergy: break;
  }
  return s.energy_pj;
}

// Strictly better: objective, then energy, then latency; ties keep the
// earlier order (deterministic enumeration order).
bool Better(const Context& c, const Score& a, const Score& b) {
  double oa = Objective(c, a), ob = Objective(c, b);
  if (oa != ob) return oa < ob;
  if (a.energy_pj != b.energy_pj) return a.energy_pj < b.energy_pj;
  return a.latency_cycles < b.latency_cycles;
}

class Enumerator {
 public:
  Enumerator(const Context& c, std::vector<FactorType> types)
      : c_(c), types_(std::move(types)), bypass_(BypassChoices(c)) {
    for (const FactorType& t : types_) {
      total_ += t.count;
      if (IsReduction(t.dim)) reductions_left_ += t.count;
    }
    order_.reserve(total_);
  }

  void Run() { Recurse(); }
  bool found() const { return best_.valid; }
  const Score& best() const { return best_; }
  const std::vector<Loop>& best_order() const { return best_order_; }
  unsigned best_bypass() const { return best_bypass_; }
  int64_t evaluated() const { return evaluated_; }
  bool stopped() const { return stopped_; }

 private:
  bool Allowed(const FactorType& t) const {
    if (!c_.stateful) return true;
    if (IsReduction(t.dim)) return times_placed_ == 0;
    if (IsTime(t.dim)) return reductions_left_ == 0;
    return true;
  }

  void Leaf() {
    for (unsigned bypass : bypass_) {
      if (stopped_) return;
      Score s = Evaluate(c_, order_, nullptr, bypass);
      ++evaluated_;
      if (s.valid && (!best_.valid || Better(c_, s, best_))) {
        best_ = s;
        best_order_ = order_;
        best_bypass_ = bypass;
      }
      int64_t budget = c_.options.mapping_budget;
      if (budget > 0 && evaluated_ >= budget) stopped_ = true;
    }
  }

  void Recurse() {
    if (static_cast<int>(order_.size()) == total_) return Leaf();
    for (FactorType& t : types_) {
      if (stopped_) return;
      if (t.count == 0 || !Allowed(t)) continue;
      --t.count;
      bool red = IsReduction(t.dim), time = IsTime(t.dim);
      reductions_left_ -= red;
      times_placed_ += time;
      order_.push_back({t.dim, t.size});
      Recurse();
      order_.pop_back();
      reductions_left_ += red;
      times_placed_ -= time;
      ++t.count;
    }
  }

  const Context& c_;
  std::vector<FactorType> types_;
  std::vector<unsigned> bypass_;
  int total_ = 0;
  int reductions_left_ = 0;
  int times_placed_ = 0;
  std::vector<Loop> order_;
  Score best_;
  std::vector<Loop> best_order_;
  unsigned best_bypass_ = 0;
  int64_t evaluated_ = 0;
  bool stopped_ = false;
};

bool Chronological(const Context& c, const std::vector<Loop>& order) {
  if (!c.stateful) return true;
  bool time_seen = false;
  for (const Loop& l : order) {
    if (IsTime(l.dim)) time_seen = true;
    if (IsReduction(l.dim) && time_seen) return false;
  }
  return true;
}

// Splits every merged loop back into its prime factors, in place.
std::vector<Loop> ExpandToPrimes(const std::vector<Loop>& order) {
  std::vector<Loop> out;
  for (const Loop& l : order)
    for (int64_t p : PrimeFactors(l.size)) out.push_back({l.dim, p});
  return out;
}

// Local refinement of the best merged order at prime-factor granularity
// (merging makes capacity fits coarse): repeatedly apply the best move of
// one prime factor to another position (and bypass choice) while it
// improves; deterministic, bounded by kMaxPasses and the budget.
class Refiner {
 public:
  Refiner(const Context& c, std::vector<Loop> order, unsigned bypass,
          Score score, int64_t evaluated)
      : c_(c), order_(std::move(order)), bypass_(bypass), score_(score),
        evaluated_(evaluated), choices_(BypassChoices(c)) {}

  void Run() {
    std::vector<Loop> fine = ExpandToPrimes(order_);
    if (fine.size() > static_cast<size_t>(kMaxLoops)) return;
    if (fine.size() != order_.size()) Consider(fine);
    for (int pass = 0; pass < kMaxPasses && !OverBudget(); ++pass)
      if (!BestMove()) break;
  }
  const std::vector<Loop>& order() const { return order_; }
  unsigned bypass() const { return bypass_; }
  int64_t evaluated() const { return evaluated_; }
  bool stopped() const { return OverBudget(); }

 private:
  static constexpr int kMaxPasses = 64;

  bool OverBudget() const {
    int64_t b = c_.options.mapping_budget;
    return b > 0 && evaluated_ >= b;
  }

  // Evaluates `order` under every bypass choice; adopts it if better.
  bool Consider(const std::vector<Loop>& order) {
    bool improved = false;
    for (unsigned bypass : choices_) {
      if (OverBudget()) break;
      Score s = Evaluate(c_, order, nullptr, bypass);
      ++evaluated_;
      if (s.valid && Better(c_, s, score_)) {
        score_ = s;
        order_ = order;
        bypass_ = bypass;
        improved = true;
      }
    }
    return improved;
  }

  bool BestMove() {
    const std::vector<Loop> base = order_;
    const int n = static_cast<int>(base.size());
    bool improved = false;
    std::vector<Loop> moved;
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < n; ++j) {
        if (i == j || OverBudget()) continue;
        // Moving next to an equal loop changes nothing.
        if (j == i + 1 && base[j].dim == base[i].dim && base[j].size == base[i].size)
          continue;
        moved = base;
        Loop l = moved[i];
        moved.erase(moved.begin() + i);
        moved.insert(moved.begin() + j, l);
        if (!Chronological(c_, moved)) continue;
        improved |= Consider(moved);
      }
    return improved;
  }

  const Context& c_;
  std::vector<Loop> order_;
  unsigned bypass_;
  Score score_;
  int64_t evaluated_;
  std::vector<unsigned> choices_;
};

}  // namespace

std::vector<Loop> TemporalFactors(const Context& c, int64_t max_orderings) {
  std::vector<std::vector<int64_t>> factors(kNumDims);
  int n = 0;
  for (int d = 0; d < kNumDims; ++d) {
    factors[d] = PrimeFactors(c.temporal[d]);
    n += static_cast<int>(factors[d].size());
  }
  double cap = static_cast<double>(std::max<int64_t>(1, max_orderings));
  while (n > kMaxLoops || CountOrders(factors) > cap) {
    if (!MergeOnce(factors)) break;
    --n;
  }
  std::vector<Loop> loops;
  for (int d = 0; d < kNumDims; ++d)
    for (int64_t f : factors[d]) loops.push_back({d, f});
  return loops;
}

absl::StatusOr<TileCost> Search(const Context& c) {
  auto start = std::chrono::steady_clock::now();
  std::vector<Loop> loops = TemporalFactors(c, c.options.max_orderings);
  std::vector<FactorType> types;
  for (const Loop& l : loops) {
    auto it = std::find_if(types.begin(), types.end(), [&](const FactorType& t) {
      return t.dim == l.dim && t.size == l.size;
    });
    if (it == types.end()) types.push_back({l.dim, l.size, 1});
    else ++it->count;
  }
  Enumerator e(c, std::move(types));
  e.Run();
  if (!e.found())
    return absl::ResourceExhaustedError(
        "no valid mapping: the tile's spatial slices do not fit the core");
  Refiner r(c, e.best_order(), e.best_bypass(), e.best(), e.evaluated());
  if (!e.stopped()) r.Run();
  TileCost cost;
  Evaluate(c, r.order(), &cost, r.bypass());
  cost.mappings_evaluated = r.evaluated();
  cost.budget_exhausted = e.stopped() || r.stopped();
  cost.search_seconds = std::chrono::duration<double>(
                            std::chrono::steady_clock::now() - start).count();
  return cost;
}

}  // namespace snnplan::cost::internal
