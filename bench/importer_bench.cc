// Import time of the largest looped fixture (SEW-ResNet-7, 16 Loops):
// parse, check, shape inference, recognition and layer building.
#include <benchmark/benchmark.h>

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

}  // namespace
