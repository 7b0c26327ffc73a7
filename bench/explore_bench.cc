// Exploration performance on SEW-7 (meta-prototype @128 KiB), measured cold
// as the README reports it: every iteration imports the model and starts
// with an empty tile-cost cache, then explores on 2 threads.
//   grid:        the 64-schedule grid (goal <= 5 s);
//   exhaustive:  the first 1,024 of the 4^7 = 16,384 schedules (the full
//                run is ~16x that; goal <= 60 s for all);
//   search:      branch and bound with a 1,024-schedule budget (the goal of
//                a proof over the 10^7 space in <= 10 min is not met: see
//                docs/exploration.md).
#include "benchmark/benchmark.h"
#include "snnplan/explore.h"
#include "snnplan/importer.h"

namespace {

void RunExplore(benchmark::State& state, snnplan::explore::Strategy strategy, int64_t budget) {
  size_t evaluated = 0;
  for (auto _ : state) {
    auto w = snnplan::importer::ImportFile(
        std::string(SNNPLAN_SOURCE_DIR) + "/models/sj_sew7_T16_loop_op13.onnx", {});
    if (!w.ok()) std::abort();
    auto hw = *snnplan::hw::Preset("meta-prototype");
    (void)snnplan::hw::ResizeGlobalBuffer(hw, 128 * 1024);
    snnplan::plan::PlanOptions po;
    po.threads = 2;
    snnplan::plan::Planner planner(*w, hw, po);
    snnplan::explore::ExploreOptions eo;
    eo.strategy = strategy;
    eo.budget = budget;
    eo.threads = 2;
    auto r = snnplan::explore::Explore(planner, eo);
    if (!r.ok()) std::abort();
    evaluated = r->evaluations.size();
    benchmark::DoNotOptimize(r);
  }
  state.counters["schedules"] = static_cast<double>(evaluated);
  state.counters["wall_per_schedule"] =
      benchmark::Counter(static_cast<double>(evaluated) * static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void BM_GridSew7Cold(benchmark::State& state) {
  RunExplore(state, snnplan::explore::Strategy::kGrid, 0);
}
void BM_ExhaustiveSew7Cold1024(benchmark::State& state) {
  RunExplore(state, snnplan::explore::Strategy::kExhaustive, 1024);
}
void BM_SearchSew7Cold1024(benchmark::State& state) {
  RunExplore(state, snnplan::explore::Strategy::kSearch, 1024);
}
BENCHMARK(BM_GridSew7Cold)->Unit(benchmark::kSecond)->UseRealTime()->Iterations(1);
BENCHMARK(BM_ExhaustiveSew7Cold1024)->Unit(benchmark::kSecond)->UseRealTime()->Iterations(1);
BENCHMARK(BM_SearchSew7Cold1024)->Unit(benchmark::kSecond)->UseRealTime()->Iterations(1);

}  // namespace
