// Planner performance: one full SEW-7 schedule on meta-prototype @128 KiB once
// tile costs are cached (target <= 50 ms for st-lf everywhere), and manifest
// writing timed separately.
#include <sstream>

#include "benchmark/benchmark.h"
#include "snnplan/importer.h"
#include "snnplan/planner.h"

namespace {

snnplan::plan::Planner& Sew7Planner() {
  static snnplan::plan::Planner* planner = [] {
    auto w = snnplan::importer::ImportFile(
        std::string(SNNPLAN_SOURCE_DIR) + "/models/sj_sew7_T16_loop_op13.onnx", {});
    if (!w.ok()) std::abort();
    auto hw = *snnplan::hw::Preset("meta-prototype");
    (void)snnplan::hw::ResizeGlobalBuffer(hw, 128 * 1024);
    snnplan::plan::PlanOptions o;
    o.threads = 2;
    return new snnplan::plan::Planner(*w, hw, o);
  }();
  return *planner;
}

void BM_PlanSew7(benchmark::State& state, const char* spec) {
  auto& planner = Sew7Planner();
  auto schedule = *snnplan::plan::ParseSchedule(spec, planner.workload().num_blocks, 16);
  if (!planner.Run(schedule).ok()) std::abort();  // warm the tile-cost cache
  int64_t tiles = 0;
  for (auto _ : state) {
    auto plan = planner.Run(schedule);
    tiles = snnplan::plan::GetSummary(**plan).tiles;
    benchmark::DoNotOptimize(plan);
  }
  state.counters["tiles"] = static_cast<double>(tiles);
}
BENCHMARK_CAPTURE(BM_PlanSew7, st_lf, "st-lf")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_PlanSew7, st_lbl, "st-lbl")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_PlanSew7, tb_lf, "tb-lf")->Unit(benchmark::kMillisecond);

void BM_WriteManifestSew7StLf(benchmark::State& state) {
  auto& planner = Sew7Planner();
  auto plan = *planner.Run(*snnplan::plan::ParseSchedule("st-lf", planner.workload().num_blocks, 16));
  for (auto _ : state) {
    std::ostringstream out;
    snnplan::plan::WriteManifest(*plan, out);
    state.counters["bytes"] = static_cast<double>(out.str().size());
  }
}
BENCHMARK(BM_WriteManifestSew7StLf)->Unit(benchmark::kMillisecond);

}  // namespace
