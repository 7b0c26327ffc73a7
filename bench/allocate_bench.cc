// Allocation search performance: the GA of `snnplan allocate` (16
// individuals x 16 generations, STEMS's default) on SEW-7 with an st-lf
// schedule over the 4-core meta-prototype-quad mesh, cold (import and empty
// tile-cost cache included), 2 threads. Goal: <= 5 s.
#include "benchmark/benchmark.h"
#include "snnplan/allocate.h"
#include "snnplan/importer.h"

namespace {

void BM_AllocateSew7StLfQuad(benchmark::State& state) {
  int64_t evaluations = 0;
  for (auto _ : state) {
    auto w = snnplan::importer::ImportFile(
        std::string(SNNPLAN_SOURCE_DIR) + "/models/sj_sew7_T16_loop_op13.onnx", {});
    if (!w.ok()) std::abort();
    snnplan::plan::Planner planner(*w, *snnplan::hw::Preset("meta-prototype-quad"),
                                   snnplan::plan::PlanOptions{});
    auto schedule = snnplan::plan::ParseSchedule("st-lf", w->num_blocks, w->timesteps);
    snnplan::explore::GaOptions ga;
    ga.threads = 2;
    auto r = snnplan::explore::SearchAllocation(planner, *schedule, ga);
    if (!r.ok()) std::abort();
    evaluations = r->ga.evaluations;
    benchmark::DoNotOptimize(r);
  }
  state.counters["allocations"] = static_cast<double>(evaluations);
  state.counters["wall_per_allocation"] =
      benchmark::Counter(static_cast<double>(evaluations) * static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_AllocateSew7StLfQuad)->Unit(benchmark::kSecond)->UseRealTime()->Iterations(1);

}  // namespace
