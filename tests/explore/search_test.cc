// Branch-and-bound search: its choices, the validity of its lower bound on
// every schedule of small spaces (brute force) and on the SEW-7 fixture, the
// optimality proof checked by brute force, budgets and determinism.
#include <cmath>
#include <map>
#include <random>
#include <set>

#include "common/tiny_workloads.h"
#include "gtest/gtest.h"
#include "snnplan/explore.h"
#include "snnplan/importer.h"

namespace snnplan::explore {
namespace {

// Three stateful conv blocks, T = 4: wide early features, heavy late
// weights (b2's 2,304 weight bytes exceed a 2 KiB buffer, so the reload
// bound is active there).
ir::Workload ThreeBlocks() {
  ir::Workload w;
  w.model_file = "three.onnx";
  w.timesteps = 4;
  w.num_blocks = 3;
  auto conv = [](const std::string& name, int input, int block, int64_t k, int64_t c, int64_t rows,
                 int input_bits) {
    ir::Layer l = testing::Conv(name, {input}, k, c, rows, 3, 1, true, input_bits, block);
    l.dims.T = 4;
    return l;
  };
  w.layers.push_back(conv("b0", ir::kNetworkInput, 0, 8, 2, 16, 4));
  w.layers.push_back(conv("b1", 0, 1, 16, 8, 16, 1));
  w.layers.push_back(conv("b2", 1, 2, 32, 16, 16, 1));
  w.layers.back().network_output = true;
  return w;
}

std::vector<plan::Schedule> AllSearchSchedules(int blocks, int64_t timesteps) {
  const std::vector<plan::BlockSchedule> choices = SearchChoices(timesteps);
  std::vector<plan::Schedule> out(1);
  for (int b = 0; b < blocks; ++b) {
    std::vector<plan::Schedule> next;
    for (const plan::Schedule& s : out)
      for (const plan::BlockSchedule& c : choices) {
        plan::Schedule t = s;
        t.blocks.push_back(c);
        next.push_back(t);
      }
    out = std::move(next);
  }
  return out;
}

constexpr Objective kObjectives[] = {Objective::kDram, Objective::kEnergy, Objective::kLatency,
                                     Objective::kEdp};

TEST(SearchChoices, PowersOfTwoDividingTAndWholeT) {
  auto names = [](int64_t t) {
    std::vector<std::string> out;
    for (const plan::BlockSchedule& b : SearchChoices(t)) out.push_back(plan::FormatBlock(b));
    return out;
  };
  EXPECT_EQ(names(16),
            (std::vector<std::string>{"st-lbl", "st-lf", "tb2-lbl", "tb2-lf", "tb4-lbl", "tb4-lf",
                                      "tb8-lbl", "tb8-lf", "tb-lbl", "tb-lf"}));
  EXPECT_EQ(names(12).size(), 8u);  // st, tb2, tb4, tb (8 does not divide 12)
  EXPECT_EQ(names(1), (std::vector<std::string>{"st-lbl", "st-lf"}));
}

// Every schedule's simulated objective is at least its bound, for every
// objective: the property the optimality proof rests on.
void ExpectBoundHolds(plan::Planner& planner, const std::vector<plan::Schedule>& schedules,
                      const plan::CoreAllocation& allocation = {}) {
  const ir::Workload& w = planner.workload();
  const hw::Hardware& hw = planner.hardware();
  absl::StatusOr<std::vector<int>> cores = planner.LayerCores(allocation);
  ASSERT_TRUE(cores.ok()) << cores.status();
  const DramLowerBound bound =
      BuildDramLowerBound(w, hw, *cores, planner.options().state_io, SearchChoices(w.timesteps));
  double compute_pj = -1;
  int feasible = 0;
  for (const plan::Schedule& s : schedules) {
    auto p = planner.Run(s, allocation);
    if (!p.ok()) continue;
    ++feasible;
    const plan::Summary& sum = plan::GetSummary(**p);
    // Compute energy does not depend on the schedule (the bound uses it).
    if (compute_pj < 0) compute_pj = sum.energy.compute_pj;
    EXPECT_NEAR(sum.energy.compute_pj, compute_pj, 1e-9 * compute_pj) << plan::FormatSchedule(s);
    const int64_t reloads = WeightReloadBytes(w, hw, *cores, s);
    for (Objective o : kObjectives)
      EXPECT_LE(ObjectiveLowerBound(bound, reloads, compute_pj, w, hw, *cores, o),
                ObjectiveValue(sum, o) * (1 + 1e-12))
          << plan::FormatSchedule(s) << " objective " << static_cast<int>(o);
  }
  EXPECT_GT(feasible, 0);
}

TEST(SearchBound, HoldsOnEverySmallSchedule) {
  for (int64_t sram : {2048, 8192}) {
    SCOPED_TRACE(sram);
    plan::Planner planner(ThreeBlocks(), testing::MetaPrototype(sram), plan::PlanOptions{});
    ExpectBoundHolds(planner, AllSearchSchedules(3, 4));
  }
}

TEST(SearchBound, HoldsOnEverySmallScheduleWithStatesInDram) {
  plan::PlanOptions o;
  o.state_io = cost::StateIo::kDram;
  plan::Planner planner(ThreeBlocks(), testing::MetaPrototype(2048), o);
  ExpectBoundHolds(planner, AllSearchSchedules(3, 4));
}

// The reload term must be active somewhere, or the bound is just the
// compulsory traffic: b2's weights exceed 2 KiB, st runs it in 4 tiles.
TEST(SearchBound, CountsForcedWeightReloads) {
  const ir::Workload w = ThreeBlocks();
  hw::Hardware h = testing::MetaPrototype(2048);
  const std::vector<int> cores(w.layers.size(), 0);
  plan::Schedule st{{{1, false, 1}, {1, false, 1}, {1, false, 1}}, {}};
  plan::Schedule tb{{{1, false, 1}, {1, false, 1}, {0, false, 1}}, {}};
  // b2: 32*16*9 weights x 4 bits = 2,304 bytes; 4 tiles -> 3 x (2304 - 2048).
  EXPECT_EQ(WeightReloadBytes(w, h, cores, st), 3 * (2304 - 2048));
  EXPECT_EQ(WeightReloadBytes(w, h, cores, tb), 0);
}

// Two cores unlike each other: core 0 has a 2 KiB buffer, core 1 a 64 KiB
// one where everything fits (so only compulsory traffic is forced there).
hw::Hardware SmallAndLargeCore() {
  hw::Hardware h = testing::MetaPrototypeMesh(2, 2, 2048);
  h.cores[1].memories.back().size_bits = int64_t{64} * 1024 * 8;  // the global buffer
  return h;
}

// The reload term follows each layer's own core: on core 1, b2's 2,304
// bytes of weights fit, so nothing is forced (the first core's 2 KiB would
// force 3 x 256 bytes: more than the plans on core 1 move, an invalid bound).
TEST(SearchBound, CountsReloadsAgainstEachLayersOwnCore) {
  const ir::Workload w = ThreeBlocks();
  const hw::Hardware h = SmallAndLargeCore();
  plan::Schedule st{{{1, false, 1}, {1, false, 1}, {1, false, 1}}, {}};
  EXPECT_EQ(WeightReloadBytes(w, h, std::vector<int>(w.layers.size(), 1), st), 0);
  EXPECT_EQ(WeightReloadBytes(w, h, std::vector<int>(w.layers.size(), 0), st), 3 * (2304 - 2048));
}

TEST(SearchBound, HoldsOnEverySmallScheduleOnTheSecondCore) {
  plan::PlanOptions o;
  o.core = 1;
  plan::Planner planner(ThreeBlocks(), SmallAndLargeCore(), o);
  ExpectBoundHolds(planner, AllSearchSchedules(3, 4));
}

TEST(SearchBound, HoldsOnEverySmallScheduleSplitOverTwoCores) {
  plan::Planner planner(ThreeBlocks(), SmallAndLargeCore(), plan::PlanOptions{});
  plan::CoreAllocation split;
  for (const ir::Layer& l : planner.workload().layers) split.layer_core.push_back(l.block % 2);
  ExpectBoundHolds(planner, AllSearchSchedules(3, 4), split);
}

TEST(SearchBound, HoldsOnSew7Samples) {
  importer::ImportOptions io;
  auto w = importer::ImportFile(
      std::string(SNNPLAN_SOURCE_DIR) + "/models/sj_sew7_T16_loop_op13.onnx", io);
  ASSERT_TRUE(w.ok()) << w.status();
  plan::Planner planner(*w, testing::MetaPrototype(128 * 1024), plan::PlanOptions{});
  const std::vector<plan::BlockSchedule> choices = SearchChoices(w->timesteps);
  std::mt19937 rng(7);
  std::vector<plan::Schedule> sample;
  sample.push_back({std::vector<plan::BlockSchedule>(w->num_blocks, {1, false, 1}), {}});
  sample.push_back({std::vector<plan::BlockSchedule>(w->num_blocks, {1, true, 1}), {}});
  for (int i = 0; i < 6; ++i) {
    plan::Schedule s;
    for (int b = 0; b < w->num_blocks; ++b) s.blocks.push_back(choices[rng() % choices.size()]);
    sample.push_back(s);
  }
  ExpectBoundHolds(planner, sample);
}

struct BruteForce {
  double best = INFINITY;
  std::string spec;
};

BruteForce Brute(plan::Planner& planner, Objective o, const plan::CoreAllocation& allocation = {}) {
  BruteForce out;
  for (const plan::Schedule& s :
       AllSearchSchedules(planner.workload().num_blocks, planner.workload().timesteps)) {
    auto p = planner.Run(s, allocation);
    if (!p.ok()) continue;
    const double v = ObjectiveValue(plan::GetSummary(**p), o);
    if (v < out.best) out = {v, plan::FormatSchedule(s)};
  }
  return out;
}

TEST(Search, ProvesTheBruteForceOptimum) {
  for (int64_t sram : {2048, 8192})
    for (Objective o : kObjectives) {
      SCOPED_TRACE(::testing::Message() << sram << " B, objective " << static_cast<int>(o));
      plan::Planner planner(ThreeBlocks(), testing::MetaPrototype(sram), plan::PlanOptions{});
      const BruteForce brute = Brute(planner, o);
      ExploreOptions opts;
      opts.strategy = Strategy::kSearch;
      opts.objective = o;
      auto r = Explore(planner, opts);
      ASSERT_TRUE(r.ok()) << r.status();
      ASSERT_GE(r->best, 0);
      EXPECT_TRUE(r->proven_optimal);
      EXPECT_EQ(r->space_size, 216);  // (3 time choices x 2) ^ 3 blocks
      EXPECT_DOUBLE_EQ(r->evaluations[r->best].objective, brute.best);
      EXPECT_DOUBLE_EQ(r->lower_bound, brute.best);
      // One row per evaluated schedule: no schedule twice.
      std::set<std::string> specs;
      for (const Evaluation& e : r->evaluations) EXPECT_TRUE(specs.insert(e.spec).second) << e.spec;
      EXPECT_LE(r->evaluations.size(), 216u);
    }
}

// With an allocation, every schedule is planned under it and the proof
// still matches brute force over the same allocation.
TEST(Search, ProvesTheBruteForceOptimumUnderAnAllocation) {
  plan::Planner planner(ThreeBlocks(), SmallAndLargeCore(), plan::PlanOptions{});
  plan::CoreAllocation split;
  for (const ir::Layer& l : planner.workload().layers) split.layer_core.push_back(l.block % 2);
  for (Objective o : kObjectives) {
    SCOPED_TRACE(static_cast<int>(o));
    const BruteForce brute = Brute(planner, o, split);
    ExploreOptions opts;
    opts.strategy = Strategy::kSearch;
    opts.objective = o;
    opts.allocation = split;
    auto r = Explore(planner, opts);
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_GE(r->best, 0);
    EXPECT_TRUE(r->proven_optimal);
    EXPECT_DOUBLE_EQ(r->evaluations[r->best].objective, brute.best);
    // The rows are the allocation's plans, not the single-core ones.
    auto p = planner.Run(r->evaluations[r->best].schedule, split);
    ASSERT_TRUE(p.ok()) << p.status();
    EXPECT_DOUBLE_EQ(ObjectiveValue(plan::GetSummary(**p), o), brute.best);
    EXPECT_GT(plan::GetSummary(**p).cores[1].tiles, 0);
  }
}

TEST(Search, BadAllocationIsRejectedBeforeAnyPlan) {
  plan::Planner planner(ThreeBlocks(), SmallAndLargeCore(), plan::PlanOptions{});
  ExploreOptions opts;
  opts.allocation.layer_core.assign(planner.workload().layers.size(), 7);
  auto r = Explore(planner, opts);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("core 7 is not a core of hardware"), std::string::npos)
      << r.status();
}

TEST(Search, NoWorseThanExhaustiveNoWorseThanGrid) {
  plan::Planner planner(ThreeBlocks(), testing::MetaPrototype(2048), plan::PlanOptions{});
  std::map<Strategy, double> best;
  for (Strategy s : {Strategy::kGrid, Strategy::kExhaustive, Strategy::kSearch}) {
    ExploreOptions o;
    o.strategy = s;
    auto r = Explore(planner, o);
    ASSERT_TRUE(r.ok() && r->best >= 0);
    best[s] = r->evaluations[r->best].objective;
  }
  EXPECT_LE(best[Strategy::kSearch], best[Strategy::kExhaustive]);
  EXPECT_LE(best[Strategy::kExhaustive], best[Strategy::kGrid]);
}

TEST(Search, BudgetStopsWithAValidGapAndSameResultOnTwoThreads) {
  std::vector<std::string> rows[2];
  double bounds[2] = {};
  plan::Planner brute_planner(ThreeBlocks(), testing::MetaPrototype(2048), plan::PlanOptions{});
  const double optimum = Brute(brute_planner, Objective::kDram).best;
  for (int threads : {1, 2}) {
    plan::Planner planner(ThreeBlocks(), testing::MetaPrototype(2048), plan::PlanOptions{});
    ExploreOptions o;
    o.strategy = Strategy::kSearch;
    o.budget = 20;  // grid (16) + one round, cut
    o.threads = threads;
    auto r = Explore(planner, o);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->evaluations.size(), 20u);
    EXPECT_FALSE(r->proven_optimal);
    ASSERT_GE(r->best, 0);
    EXPECT_LE(r->lower_bound, r->evaluations[r->best].objective);
    EXPECT_LE(r->lower_bound, optimum);  // a true bound
    for (const Evaluation& e : r->evaluations)
      rows[threads - 1].push_back(CsvRow(e, 2048, 1.0, cost::StateIo::kZero));
    bounds[threads - 1] = r->lower_bound;
  }
  EXPECT_EQ(rows[0], rows[1]);
  EXPECT_EQ(bounds[0], bounds[1]);
}

}  // namespace
}  // namespace snnplan::explore
