// NSGA-II (Deb et al. 2002) over integer genomes with two minimised
// objectives: fast non-dominated sorting, crowding distance, binary
// tournaments on (rank, crowding), uniform crossover, per-gene mutation and
// elitist (mu + lambda) survival. Deterministic: every random number is drawn
// on the calling thread from one seeded engine before a generation is
// evaluated, evaluations land in fixed slots, and every tie is broken by
// evaluation index, so the result does not depend on the thread count.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <exception>
#include <limits>
#include <map>
#include <numeric>
#include <random>
#include <set>
#include <thread>
#include <tuple>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "snnplan/allocate.h"

namespace snnplan::explore {
namespace {

// Random genomes per empty slot of the initial population before giving up
// on distinct ones (a tiny search space may hold fewer than `population`).
constexpr int kDrawsPerSlot = 20;

// mt19937_64's sequence is fixed by the standard but the std distributions
// are not, so bounded and real draws are done here to give the same run on
// every standard library.
class Rng {
 public:
  explicit Rng(uint64_t seed) : engine_(seed) {}

  // Uniform in [0, n) for n >= 1, unbiased: raw values below 2^64 mod n are
  // rejected so that every residue has the same number of preimages.
  uint64_t Below(uint64_t n) {
    const uint64_t threshold = (0 - n) % n;
    for (;;) {
      const uint64_t r = engine_();
      if (r >= threshold) return r % n;
    }
  }
  int BelowInt(int n) { return static_cast<int>(Below(static_cast<uint64_t>(n))); }

  // True with probability p: a uniform 53-bit double in [0, 1) below p.
  bool Chance(double p) { return static_cast<double>(engine_() >> 11) * 0x1.0p-53 < p; }

 private:
  std::mt19937_64 engine_;
};

bool Dominates(const AllocationObjectives& a, const AllocationObjectives& b) {
  return a.latency_cycles <= b.latency_cycles && a.energy_pj <= b.energy_pj &&
         (a.latency_cycles < b.latency_cycles || a.energy_pj < b.energy_pj);
}

absl::Status ValidateOptions(int genes, int values_per_gene, const GaOptions& o) {
  auto bad = [](auto&&... parts) { return absl::InvalidArgumentError(absl::StrCat(parts...)); };
  if (genes < 1) return bad("genes must be at least 1 (got ", genes, ")");
  if (values_per_gene < 1)
    return bad("values_per_gene must be at least 1 (got ", values_per_gene, ")");
  if (o.population < 2) return bad("population must be at least 2 (got ", o.population, ")");
  if (o.generations < 0) return bad("generations must be at least 0 (got ", o.generations, ")");
  if (o.threads < 1) return bad("threads must be at least 1 (got ", o.threads, ")");
  // Negated comparisons also reject NaN.
  if (!(o.mutation_rate >= 0 && o.mutation_rate <= 1))
    return bad("mutation_rate must be in [0, 1] (got ", o.mutation_rate, "; 0 = 1 / genes)");
  if (!(o.crossover_rate >= 0 && o.crossover_rate <= 1))
    return bad("crossover_rate must be in [0, 1] (got ", o.crossover_rate, ")");
  if (o.budget < 0) return bad("budget must be at least 0 (got ", o.budget, "; 0 = no cap)");
  return absl::OkStatus();
}

absl::Status ValidateSeeds(int genes, int values_per_gene, const std::vector<Genome>& seeds,
                           int population, int64_t budget) {
  if (static_cast<int64_t>(seeds.size()) > population)
    return absl::InvalidArgumentError(absl::StrCat(seeds.size(), " seeds do not fit in population ",
                                                   population, " (seeds must be <= population)"));
  if (budget > 0 && budget < static_cast<int64_t>(seeds.size()))
    return absl::InvalidArgumentError(absl::StrCat("budget ", budget, " is smaller than the ",
                                                   seeds.size(),
                                                   " seeds, which are always evaluated"));
  for (size_t s = 0; s < seeds.size(); ++s) {
    if (static_cast<int64_t>(seeds[s].size()) != genes)
      return absl::InvalidArgumentError(
          absl::StrCat("seeds[", s, "] has ", seeds[s].size(), " genes, expected genes = ", genes));
    for (size_t g = 0; g < seeds[s].size(); ++g)
      if (seeds[s][g] < 0 || seeds[s][g] >= values_per_gene)
        return absl::InvalidArgumentError(
            absl::StrCat("seeds[", s, "][", g, "] = ", seeds[s][g], " is out of range 0..",
                         values_per_gene - 1, " (values_per_gene = ", values_per_gene, ")"));
  }
  return absl::OkStatus();
}

// Feasible `members` split into non-dominated fronts (Deb's fast sort,
// O(M N^2)); each front lists evaluation indices in ascending order.
std::vector<std::vector<int>> FeasibleFronts(const std::vector<Individual>& all,
                                             std::vector<int> members) {
  std::erase_if(members, [&](int i) { return !all[i].objectives.feasible; });
  std::sort(members.begin(), members.end());
  const size_t n = members.size();
  std::vector<int> dominated_by(n, 0);            // how many members dominate member k
  std::vector<std::vector<size_t>> dominates(n);  // members that member k dominates
  for (size_t a = 0; a < n; ++a)
    for (size_t b = a + 1; b < n; ++b) {
      const AllocationObjectives& oa = all[members[a]].objectives;
      const AllocationObjectives& ob = all[members[b]].objectives;
      if (Dominates(oa, ob)) {
        dominates[a].push_back(b);
        ++dominated_by[b];
      } else if (Dominates(ob, oa)) {
        dominates[b].push_back(a);
        ++dominated_by[a];
      }
    }
  std::vector<std::vector<int>> fronts;
  std::vector<size_t> current;
  for (size_t k = 0; k < n; ++k)
    if (dominated_by[k] == 0) current.push_back(k);
  while (!current.empty()) {
    std::vector<size_t> next;
    std::vector<int> front;
    for (size_t k : current) {
      front.push_back(members[k]);
      for (size_t d : dominates[k])
        if (--dominated_by[d] == 0) next.push_back(d);
    }
    std::sort(front.begin(), front.end());
    fronts.push_back(std::move(front));
    current = std::move(next);
  }
  return fronts;
}

// Crowding distance of each front member (same order as `front`): the
// normalised side lengths of the cuboid spanned by its neighbours on each
// objective; the extremes are infinite so that they always survive.
std::vector<double> Crowding(const std::vector<Individual>& all, const std::vector<int>& front) {
  const size_t m = front.size();
  std::vector<double> distance(m, 0.0);
  if (m == 0) return distance;
  using Getter = double (*)(const AllocationObjectives&);
  const Getter objectives[] = {[](const AllocationObjectives& o) { return o.latency_cycles; },
                               [](const AllocationObjectives& o) { return o.energy_pj; }};
  for (Getter get : objectives) {
    auto value = [&](size_t k) { return get(all[front[k]].objectives); };
    std::vector<size_t> order(m);
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      return value(a) != value(b) ? value(a) < value(b) : front[a] < front[b];
    });
    distance[order.front()] = distance[order.back()] = std::numeric_limits<double>::infinity();
    const double range = value(order.back()) - value(order.front());
    if (!(range > 0)) continue;
    for (size_t k = 1; k + 1 < m; ++k)
      distance[order[k]] += (value(order[k + 1]) - value(order[k - 1])) / range;
  }
  return distance;
}

// A generation's parents with the rank and crowding that tournaments use.
struct Population {
  std::vector<int> members;  // evaluation indices, in survival order
  std::vector<int> rank;     // 0 = non-dominated; infeasible after every feasible front
  std::vector<double> crowding;

  void Add(int member, int r, double c) {
    members.push_back(member);
    rank.push_back(r);
    crowding.push_back(c);
  }
};

// Elitist survival: whole fronts in rank order, the front that overflows
// cut by descending crowding distance (ties: lower index first). Infeasible
// candidates form one last front, taken by ascending index (no order among
// them is meaningful, so the oldest are kept).
Population Survive(const std::vector<Individual>& all, const std::vector<int>& candidates,
                   size_t size) {
  std::vector<std::vector<int>> fronts = FeasibleFronts(all, candidates);
  std::vector<int> infeasible;
  for (int i : candidates)
    if (!all[i].objectives.feasible) infeasible.push_back(i);
  std::sort(infeasible.begin(), infeasible.end());
  fronts.push_back(std::move(infeasible));
  const size_t infeasible_rank = fronts.size() - 1;
  Population next;
  for (size_t r = 0; r < fronts.size() && next.members.size() < size; ++r) {
    const std::vector<int>& front = fronts[r];
    const std::vector<double> crowding =
        r == infeasible_rank ? std::vector<double>(front.size(), 0.0) : Crowding(all, front);
    std::vector<size_t> order(front.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return crowding[a] > crowding[b]; });
    for (size_t k = 0; k < order.size() && next.members.size() < size; ++k)
      next.Add(front[order[k]], static_cast<int>(r), crowding[order[k]]);
  }
  return next;
}

// The non-dominated feasible individuals of the whole archive in
// O(N log N): sorted by (latency, energy, index), a point is dominated when
// an earlier latency reached its energy or its own latency group has a lower
// energy. Returns them in that sorted order.
std::vector<int> ArchiveFront(const std::vector<Individual>& all) {
  std::vector<int> feasible;
  for (size_t i = 0; i < all.size(); ++i)
    if (all[i].objectives.feasible) feasible.push_back(static_cast<int>(i));
  auto key = [&](int i) {
    return std::make_tuple(all[i].objectives.latency_cycles, all[i].objectives.energy_pj, i);
  };
  std::sort(feasible.begin(), feasible.end(), [&](int a, int b) { return key(a) < key(b); });
  std::vector<int> front;
  double best_before = std::numeric_limits<double>::infinity();  // min energy at lower latency
  for (size_t g = 0; g < feasible.size();) {
    const double latency = all[feasible[g]].objectives.latency_cycles;
    const double group_min = all[feasible[g]].objectives.energy_pj;
    size_t end = g;
    for (; end < feasible.size() && all[feasible[end]].objectives.latency_cycles == latency;
         ++end) {
      const double energy = all[feasible[end]].objectives.energy_pj;
      if (!(best_before <= energy) && !(group_min < energy)) front.push_back(feasible[end]);
    }
    best_before = std::min(best_before, group_min);
    g = end;
  }
  return front;
}

int MinEnergy(const std::vector<Individual>& all, const std::vector<int>& front) {
  int best = -1;
  for (int i : front) {
    if (best < 0) {
      best = i;
      continue;
    }
    const AllocationObjectives &o = all[i].objectives, &b = all[best].objectives;
    if (std::make_tuple(o.energy_pj, o.latency_cycles, i) <
        std::make_tuple(b.energy_pj, b.latency_cycles, best))
      best = i;
  }
  return best;
}

// The run's state: the archive of evaluated genomes, its cache, and the
// genomes waiting for the next parallel evaluation.
class Nsga2 {
 public:
  Nsga2(int genes, int values_per_gene, const AllocationEvaluator& evaluate, const GaOptions& o)
      : genes_(genes),
        values_(values_per_gene),
        evaluate_(evaluate),
        options_(o),
        mutation_rate_(o.mutation_rate > 0 ? o.mutation_rate : 1.0 / genes),
        rng_(o.seed) {}

  GaResult Run(const std::vector<Genome>& seeds, const GaProgress& progress) {
    Population population = Initial(seeds);
    if (progress) progress(0, options_.generations);
    for (int g = 1; g <= options_.generations && BudgetLeft() && !Cancelled(); ++g) {
      population = NextGeneration(population, g);
      result_.generations = g;
      if (progress) progress(g, options_.generations);
    }
    if (progress && result_.generations < options_.generations && !Cancelled())
      progress(options_.generations, options_.generations);  // ended by the budget
    result_.population = population.members;
    result_.pareto = ArchiveFront(result_.evaluated);
    result_.min_energy = MinEnergy(result_.evaluated, result_.pareto);
    return std::move(result_);
  }

 private:
  // The evaluation index of `genome`, queueing it for evaluation when new,
  // so that a duplicate is never evaluated twice.
  int Intern(const Genome& genome, int generation, int seed) {
    auto [it, inserted] = index_.emplace(genome, static_cast<int>(result_.evaluated.size()));
    if (inserted) {
      Individual ind;
      ind.genome = genome;
      ind.generation = generation;
      ind.seeded = seed >= 0;
      ind.seed = seed;
      result_.evaluated.push_back(std::move(ind));
    }
    return it->second;
  }

  // True while another distinct genome may be queued for evaluation.
  bool Cancelled() const { return options_.cancel != nullptr && options_.cancel->load(); }
  bool BudgetLeft() const {
    return options_.budget == 0 || static_cast<int64_t>(result_.evaluated.size()) < options_.budget;
  }
  bool Known(const Genome& genome) const { return index_.count(genome) > 0; }

  // Seeds first, then distinct random genomes up to the population size.
  Population Initial(const std::vector<Genome>& seeds) {
    std::vector<int> members;
    std::set<int> present;
    auto add = [&](int i) {
      if (present.insert(i).second) members.push_back(i);
    };
    for (size_t s = 0; s < seeds.size(); ++s) add(Intern(seeds[s], 0, static_cast<int>(s)));
    const size_t size = static_cast<size_t>(options_.population);
    for (int64_t draws = 0;
         members.size() < size && draws < int64_t{kDrawsPerSlot} * options_.population; ++draws) {
      Genome genome(genes_);
      for (int& v : genome) v = rng_.BelowInt(values_);
      if (Known(genome) || BudgetLeft()) add(Intern(genome, 0, -1));
    }
    EvaluatePending();
    return Survive(result_.evaluated, members, size);
  }

  // Offspring by tournament, crossover and mutation, all drawn before any is
  // evaluated; then (mu + lambda) survival over parents and new offspring.
  Population NextGeneration(const Population& parents, int generation) {
    std::vector<Genome> offspring;
    const size_t size = static_cast<size_t>(options_.population);
    while (offspring.size() < size) {
      Genome a = result_.evaluated[Tournament(parents)].genome;
      Genome b = result_.evaluated[Tournament(parents)].genome;
      if (rng_.Chance(options_.crossover_rate))
        for (int g = 0; g < genes_; ++g)
          if (rng_.Chance(0.5)) std::swap(a[g], b[g]);
      Mutate(a);
      Mutate(b);
      offspring.push_back(std::move(a));
      if (offspring.size() < size) offspring.push_back(std::move(b));
    }
    std::vector<int> candidates = parents.members;
    std::set<int> present(candidates.begin(), candidates.end());
    for (const Genome& genome : offspring) {
      if (!Known(genome) && !BudgetLeft()) continue;  // over budget: dropped unevaluated
      const int i = Intern(genome, generation, -1);
      if (present.insert(i).second) candidates.push_back(i);
    }
    EvaluatePending();
    return Survive(result_.evaluated, candidates, size);
  }

  // Binary tournament: lower rank wins, then larger crowding distance, then
  // the lower evaluation index (a deterministic tie break).
  int Tournament(const Population& p) {
    const int n = static_cast<int>(p.members.size());
    const int a = rng_.BelowInt(n), b = rng_.BelowInt(n);
    auto key = [&](int k) { return std::make_tuple(p.rank[k], -p.crowding[k], p.members[k]); };
    return p.members[key(a) <= key(b) ? a : b];
  }

  // Each gene moves, with probability mutation_rate_, to a different value
  // (a draw over the other values_ - 1, so a mutation always changes it).
  void Mutate(Genome& genome) {
    if (values_ < 2) return;
    for (int& v : genome)
      if (rng_.Chance(mutation_rate_)) {
        const int other = rng_.BelowInt(values_ - 1);
        v = other >= v ? other + 1 : other;
      }
  }

  // Evaluates the queued genomes on options_.threads threads; each result
  // lands in its own slot, so the outcome is the serial one.
  void EvaluatePending() {
    const size_t from = pending_from_, to = result_.evaluated.size();
    if (from == to) return;
    std::vector<Individual>& all = result_.evaluated;
    std::vector<std::exception_ptr> errors(to - from);
    std::atomic<size_t> next{from};
    auto worker = [&] {
      for (size_t i = next++; i < to; i = next++) {
        try {
          all[i].objectives = evaluate_(all[i].genome);
        } catch (...) {
          errors[i - from] = std::current_exception();
        }
      }
    };
    const size_t threads = std::min(static_cast<size_t>(options_.threads), to - from);
    std::vector<std::thread> pool;
    for (size_t t = 1; t < threads; ++t) pool.emplace_back(worker);
    worker();
    for (std::thread& t : pool) t.join();
    // The first failure by index, as a serial loop would have raised it.
    for (const std::exception_ptr& e : errors)
      if (e) std::rethrow_exception(e);
    for (size_t i = from; i < to; ++i) Sanitize(all[i].objectives);
    result_.evaluations += static_cast<int64_t>(to - from);
    pending_from_ = to;
  }

  // NaN would make domination intransitive and break the sort.
  static void Sanitize(AllocationObjectives& o) {
    if (o.feasible && !(std::isfinite(o.latency_cycles) && std::isfinite(o.energy_pj))) {
      o.feasible = false;
      o.error = "evaluator returned a non-finite objective";
    }
  }

  const int genes_, values_;
  const AllocationEvaluator& evaluate_;
  const GaOptions& options_;
  const double mutation_rate_;
  Rng rng_;
  GaResult result_;
  std::map<Genome, int> index_;  // genome -> evaluation index
  size_t pending_from_ = 0;      // evaluated[pending_from_..] await evaluation
};

}  // namespace

absl::StatusOr<GaResult> RunNsga2(int genes, int values_per_gene, const std::vector<Genome>& seeds,
                                  const AllocationEvaluator& evaluate, const GaOptions& options,
                                  const GaProgress& progress) {
  if (absl::Status s = ValidateOptions(genes, values_per_gene, options); !s.ok()) return s;
  if (absl::Status s =
          ValidateSeeds(genes, values_per_gene, seeds, options.population, options.budget);
      !s.ok())
    return s;
  if (!evaluate) return absl::InvalidArgumentError("evaluate must be set");
  GaResult result = Nsga2(genes, values_per_gene, evaluate, options).Run(seeds, progress);
  // Every genome queued so far was evaluated (cancel is checked between
  // generations), so `evaluated` is what --resume needs.
  result.interrupted = options.cancel != nullptr && options.cancel->load();
  return result;
}

}  // namespace snnplan::explore
