// Import time of the largest looped fixture (SEW-ResNet-7, 16 Loops):
// parse, check, shape inference, recognition and layer building.
#include <benchmark/benchmark.h>

#include "../tests/common/big_models.h"
#include "snnplan/importer.h"

namespace {

void BM_ImportSew7Loop(benchmark::State& state) {
  const std::string path = std::string(SNNPLAN_SOURCE_DIR) + "/models/sj_sew7_T16_loop_op13.onnx";
  snnplan::importer::ImportOptions options;
  for (auto _ : state) {
    absl::StatusOr<snnplan::ir::Workload> w = snnplan::importer::ImportFile(path, options);
    if (!w.ok()) {
      state.SkipWithError(std::string(w.status().message()).c_str());
      break;
    }
    benchmark::DoNotOptimize(w->layers.size());
  }
}
BENCHMARK(BM_ImportSew7Loop)->Unit(benchmark::kMillisecond);

// Import is linear in the graph: N spiking layers (snnTorch Leaky, one step
// with explicit membranes, 12 nodes each), from memory.
void BM_ImportDeepSpikingChain(benchmark::State& state) {
  const std::string bytes = snnplan::testing::DeepSpikingChain(static_cast<int>(state.range(0)));
  snnplan::importer::ImportOptions options;
  options.timesteps = 4;
  for (auto _ : state) {
    absl::StatusOr<snnplan::ir::Workload> w = snnplan::importer::ImportBytes(bytes, "deep.onnx", options);
    if (!w.ok()) {
      state.SkipWithError(std::string(w.status().message()).c_str());
      break;
    }
    benchmark::DoNotOptimize(w->layers.size());
  }
  state.counters["layers"] = static_cast<double>(state.range(0));
}
BENCHMARK(BM_ImportDeepSpikingChain)->Arg(1000)->Arg(3000)->Arg(10000)->Unit(benchmark::kMillisecond);

// A chain of 50,000 elementwise ops (no recursion anywhere).
void BM_ImportElementwiseChain(benchmark::State& state) {
  const std::string bytes = snnplan::testing::ElementwiseChain(static_cast<int>(state.range(0)));
  snnplan::importer::ImportOptions options;
  options.timesteps = 1;
  for (auto _ : state) {
    absl::StatusOr<snnplan::ir::Workload> w = snnplan::importer::ImportBytes(bytes, "chain.onnx", options);
    if (!w.ok()) {
      state.SkipWithError(std::string(w.status().message()).c_str());
      break;
    }
    benchmark::DoNotOptimize(w->layers.size());
  }
}
BENCHMARK(BM_ImportElementwiseChain)->Arg(50000)->Unit(benchmark::kMillisecond);

}  // namespace
