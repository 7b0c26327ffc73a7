// Layer-to-core allocation search: a generic, deterministic NSGA-II genetic
// algorithm over integer genomes with two minimised objectives (latency and
// energy), plus CSV and SVG views of its Pareto front; the GA itself knows
// nothing about layers or cores (the evaluator gives a genome its meaning),
// SearchAllocation below binds it to the planner.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "snnplan/planner.h"

namespace snnplan::explore {

// A layer-to-core allocation: genes[i] = index into the allowed core ids for gene i (layer i).
using Genome = std::vector<int>;

struct AllocationObjectives {
  bool feasible = false;      // infeasible individuals are dominated by every feasible one
  double latency_cycles = 0;  // minimised
  double energy_pj = 0;       // minimised
  std::string error;          // why infeasible
};

// One field per knob, mapped 1:1 to `snnplan allocate` flags.
struct GaOptions {
  int population = 16;          // --population: individuals per generation (>= 2)
  int generations = 16;         // --generations: generations after the initial population
  uint64_t seed = 1;            // --seed: all randomness derives from it
  int threads = 1;              // -j: evaluation threads; results do not depend on it
  double mutation_rate = 0;     // per-gene mutation probability; 0 = 1 / number of genes
  double crossover_rate = 0.9;  // probability that two parents are crossed (uniform crossover)
  // --budget: most evaluations (distinct genomes); 0 = no cap. The seeds are
  // always evaluated (so it must be 0 or at least their number); the run ends
  // after the generation that reaches it, whose extra offspring are dropped
  // unevaluated in draw order, so the cut does not depend on threads.
  int64_t budget = 0;
  // When set and true, no further generation is started; RunNsga2 (and
  // SearchAllocation) return what was evaluated with GaResult::interrupted
  // set (front ends set it on Ctrl-C).
  const std::atomic<bool>* cancel = nullptr;
};

struct Individual {
  Genome genome;
  AllocationObjectives objectives;
  int generation = 0;   // 0 = initial population
  bool seeded = false;  // given by the caller (not random)
  int seed = -1;        // when seeded: position in `seeds` (first occurrence), for labels
};

struct GaResult {
  std::vector<Individual> evaluated;  // every distinct genome evaluated, in evaluation order
  // Indices into `evaluated`: the non-dominated feasible individuals among
  // everything evaluated (an archive, so a good point found early and later
  // crowded out of the population is not lost), sorted by latency ascending
  // then energy ascending then index. Points with equal objectives are all kept.
  std::vector<int> pareto;
  int min_energy = -1;      // index into `evaluated` of the front's minimum-energy point
                            // (ties: lower latency, then lower index); -1 when the front is empty
  int64_t evaluations = 0;  // evaluator calls (distinct genomes; duplicates are cached)
  int generations = 0;      // generations run after the initial population (fewer than
                            // options.generations when the budget ran out)
  // Indices into `evaluated`: the last generation's survivors in survival
  // order (rank, then crowding). Elitism keeps each objective's best value
  // found so far in it (population >= 4), but a point in the middle of an
  // overfull first front can be crowded out, hence the archive `pareto`.
  std::vector<int> population;
  bool interrupted = false;  // GaOptions::cancel stopped it after `generations`
};

// Called once per distinct genome; must be thread-safe (it is called from
// `threads` threads at once) and must not throw (an exception is rethrown on
// the calling thread after the generation's workers have joined). A feasible
// result with a non-finite objective is recorded as infeasible.
using AllocationEvaluator = std::function<AllocationObjectives(const Genome&)>;
// Optional progress: generation finished (0..generations), out of generations.
using GaProgress = std::function<void(int generation, int generations)>;

// genes: number of genes; values_per_gene: allowed values per gene (all genes
// use 0..values_per_gene-1). seeds: genomes put into the initial population
// first (e.g. the single-core plan and a greedy allocation); the rest of the
// initial population is random. Returns InvalidArgument, naming the field, on
// bad options or seeds: genes or values_per_gene < 1, population < 2,
// generations < 0, threads < 1, rates outside [0, 1], budget < 0, a seed of
// the wrong length or with a value out of range, more seeds than population,
// or a budget smaller than the number of seeds.
absl::StatusOr<GaResult> RunNsga2(int genes, int values_per_gene, const std::vector<Genome>& seeds,
                                  const AllocationEvaluator& evaluate, const GaOptions& options,
                                  const GaProgress& progress = nullptr);

// CSV of the evaluated individuals, one row each in evaluation order, header exactly:
// index,generation,seeded,feasible,pareto,latency_cycles,energy_pj,genome
// Booleans are true/false; objectives of infeasible rows are empty. The
// genome is the caller's text (e.g. layer=core pairs) or, when
// `format_genome` is null, its values joined by ';'; quoted when needed.
// With `activity` (--activity) every line ends in two more columns,
// activity_file and activity_sha256.
std::string ParetoCsv(const GaResult& result,
                      const std::function<std::string(const Genome&)>& format_genome = nullptr,
                      const cost::ActivityFile* activity = nullptr);
// SVG scatter plot: x = latency, y = energy, both in auto-scaled units
// (cycles, k cycles, M cycles ... or, with `clock_hz` > 0, µs, ms ...; pJ,
// µJ, mJ ...). Every feasible evaluated point gets one marker: class "point"
// (grey) or, on the Pareto front, class "front" (coloured, joined by a step
// line); seeded points get an extra diamond (class "seed"), the min-energy
// point an extra ring (class "min-energy"). Labels (class "label": "min
// energy", "seed k", "#i" = CSV row of each front point) are placed so that
// none overlaps another or a marker: the first free of eight positions
// around the point, else of eight further out with a leader line, else left
// out and listed under "no room to label" in the legend. Well-formed,
// deterministic XML with all text escaped.
std::string ParetoSvg(const GaResult& result, const std::string& title, double clock_hz = 0);

// ---- On top of the planner: genes are layers, values are cores (indices
// into hardware.cores), an individual is priced by planning the schedule.

struct AllocationSearch {
  GaResult ga;
  plan::CoreAllocation single_core;  // every layer on PlanOptions::core (seed 0)
  plan::CoreAllocation greedy;       // the greedy pipeline split (seed 1)
  int single_core_index = -1;        // into ga.evaluated
  int greedy_index = -1;             // into ga.evaluated
};

// Contiguous runs of layers (in layer order) on cores in snake order over the
// mesh, balancing `layer_cycles` (e.g. the single-core plan's tile cycles):
// the split with the smallest largest-run load.
plan::CoreAllocation GreedyAllocation(const hw::Hardware& hw,
                                      const std::vector<int64_t>& layer_cycles);
plan::CoreAllocation ToAllocation(const Genome& genome, const hw::Hardware& hw);
// `allocation` must name cores of `hw` (as the planner checks).
Genome ToGenome(const plan::CoreAllocation& allocation, const hw::Hardware& hw);

// Plans the single-core allocation, derives the greedy one from its layer
// cycles, seeds both into the GA and runs it (`options.threads` plans at
// once; `planner` must price tiles on one thread).
// `known` (--resume): objectives of genomes an earlier run of the same
// inputs evaluated, used instead of planning them again.
absl::StatusOr<AllocationSearch> SearchAllocation(
    plan::Planner& planner, const plan::Schedule& schedule, const GaOptions& options,
    const GaProgress& progress = nullptr,
    const std::map<Genome, AllocationObjectives>* known = nullptr);

}  // namespace snnplan::explore
