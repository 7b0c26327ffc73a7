// Runtime kernels (`snnplan run`): the largest SEW-ResNet-18 convolution
// (T=16, batch 1: n=16, 64->64 channels, 128x128, 3x3, pad 1) on 1 and 2
// threads, reported in GFLOP/s (2 FLOP per multiply-add); the 1x1 stem; the
// 2x2 max pool; and every convolution and pool of SEW-7 (the SEW-ResNet-18
// of models/sj_sew7_T16_loop_op13.onnx) at T=16 as one figure for the run's
// kernel time. Wall-clock time (the kernels start their own threads).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include "snnplan/importer.h"
#include "snnplan/runtime.h"

namespace snnplan::runtime {
namespace {

std::vector<float> Random(int64_t count, uint32_t seed, bool spikes) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> v(static_cast<size_t>(count));
  for (float& f : v) f = spikes ? (u(rng) > 0.6f ? 1.0f : 0.0f) : u(rng);
  return v;
}

ConvGeometry Conv(int64_t n, int64_t c, int64_t k, int64_t size, int64_t f) {
  ConvGeometry g;
  g.n = n;
  g.c = c;
  g.k = k;
  g.h = g.w = size;
  g.fy = g.fx = f;
  g.pad_top = g.pad_left = g.pad_bottom = g.pad_right = f / 2;
  g.oy = g.ox = size;
  return g;
}

double ConvFlops(const ConvGeometry& g) {
  return 2.0 * static_cast<double>(g.n * g.k * g.oy * g.ox) *
         static_cast<double>(g.c / g.groups * g.fy * g.fx);
}

void RunConv(benchmark::State& state, const ConvGeometry& g) {
  const int threads = static_cast<int>(state.range(0));
  const std::vector<float> x = Random(g.n * g.c * g.h * g.w, 1, true);
  const std::vector<float> w = Random(g.k * g.c / g.groups * g.fy * g.fx, 2, false);
  const std::vector<float> b = Random(g.k, 3, false);
  std::vector<float> y(static_cast<size_t>(g.n * g.k * g.oy * g.ox));
  for (auto _ : state) {
    if (!Conv2d(g, x.data(), w.data(), b.data(), y.data(), threads).ok()) {
      state.SkipWithError("Conv2d failed");
      break;
    }
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  state.counters["GFLOP/s"] =
      benchmark::Counter(ConvFlops(g) * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

// The largest SEW-ResNet-18 layer: 19.3 GFLOP per call.
void BM_Conv3x3(benchmark::State& state) { RunConv(state, Conv(16, 64, 64, 128, 3)); }
BENCHMARK(BM_Conv3x3)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

// A deep layer: 128 channels at 8x8.
void BM_Conv3x3Small(benchmark::State& state) { RunConv(state, Conv(16, 128, 128, 8, 3)); }
BENCHMARK(BM_Conv3x3Small)->Arg(1)->Arg(2)->Unit(benchmark::kMicrosecond)->UseRealTime();

// The stem: 1x1, 2 -> 64 channels at 128x128 (the direct 1x1 path).
void BM_Conv1x1Stem(benchmark::State& state) { RunConv(state, Conv(16, 2, 64, 128, 1)); }
BENCHMARK(BM_Conv1x1Stem)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

// Depthwise 3x3 (the direct path): 64 channels at 128x128.
void BM_ConvDepthwise3x3(benchmark::State& state) {
  ConvGeometry g = Conv(16, 64, 64, 128, 3);
  g.groups = 64;
  RunConv(state, g);
}
BENCHMARK(BM_ConvDepthwise3x3)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

PoolGeometry Pool2x2(int64_t n, int64_t c, int64_t size) {
  PoolGeometry p;
  p.n = n;
  p.c = c;
  p.h = p.w = size;
  p.fy = p.fx = p.stride_y = p.stride_x = 2;
  p.oy = p.ox = size / 2;
  return p;
}

void BM_MaxPool2x2(benchmark::State& state) {
  const PoolGeometry p = Pool2x2(16, 64, 128);
  const std::vector<float> x = Random(p.n * p.c * p.h * p.w, 4, true);
  std::vector<float> y(static_cast<size_t>(p.n * p.c * p.oy * p.ox));
  for (auto _ : state) {
    if (!MaxPool2d(p, x.data(), y.data(), static_cast<int>(state.range(0))).ok()) {
      state.SkipWithError("MaxPool2d failed");
      break;
    }
    benchmark::DoNotOptimize(y.data());
  }
}
BENCHMARK(BM_MaxPool2x2)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

// Every convolution and max pool of SEW-7 at T=16 (the layer table of
// `snnplan import models/sj_sew7_T16_loop_op13.onnx`): the kernel share of
// one `snnplan run` inference; neurons and adds come on top.
void BM_Sew7AllKernels(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  struct Layer {
    ConvGeometry conv;
    bool pool_after;
  };
  std::vector<Layer> layers = {{Conv(16, 2, 64, 128, 1), false}};
  const int64_t channels[] = {64, 64, 64, 64, 128, 128, 128};
  int64_t size = 128, c = 64;
  for (int b = 0; b < 7; ++b) {
    if (channels[b] != c) {  // the 1x1 transition conv before block 5
      layers.push_back({Conv(16, c, channels[b], size, 1), false});
      c = channels[b];
    }
    layers.push_back({Conv(16, c, c, size, 3), false});
    layers.push_back({Conv(16, c, c, size, 3), true});
    size /= 2;
  }
  double flops = 0;
  int64_t biggest = 0;
  for (const Layer& l : layers) {
    flops += ConvFlops(l.conv);
    biggest = std::max({biggest, l.conv.n * l.conv.c * l.conv.h * l.conv.w,
                        l.conv.n * l.conv.k * l.conv.oy * l.conv.ox});
  }
  std::vector<float> a = Random(biggest, 5, true), out(static_cast<size_t>(biggest));
  std::vector<std::vector<float>> weights;
  for (const Layer& l : layers) {
    weights.push_back(Random(l.conv.k * l.conv.c * l.conv.fy * l.conv.fx, 6, false));
  }
  for (auto _ : state) {
    for (size_t i = 0; i < layers.size(); ++i) {
      const ConvGeometry& g = layers[i].conv;
      if (!Conv2d(g, a.data(), weights[i].data(), nullptr, out.data(), threads).ok()) {
        state.SkipWithError("Conv2d failed");
        return;
      }
      if (layers[i].pool_after) {
        const PoolGeometry p = Pool2x2(g.n, g.k, g.oy);
        if (!MaxPool2d(p, out.data(), a.data(), threads).ok()) {
          state.SkipWithError("MaxPool2d failed");
          return;
        }
      }
      benchmark::DoNotOptimize(a.data());
      benchmark::DoNotOptimize(out.data());
    }
  }
  state.counters["GFLOP/s"] =
      benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_Sew7AllKernels)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

// One whole SEW-ResNet-18 inference as `snnplan run` does it (T=16,
// 128x128 DVS input, the fixture's own input): every layer, neuron and join
// of the imported IR; the import (with parameters) is done once, outside.
void BM_RunSew7Inference(benchmark::State& state) {
  const std::string models = std::string(SNNPLAN_SOURCE_DIR) + "/models/";
  importer::ImportOptions io;
  io.load_parameters = true;
  absl::StatusOr<ir::Workload> w = importer::ImportFile(models + "sj_sew7_T16_loop_op13.onnx", io);
  absl::StatusOr<std::map<std::string, Array>> in = ReadNpz(models + "sj_sew7_T16.io.npz");
  if (!w.ok() || !in.ok()) {
    state.SkipWithError("fixture did not load");
    return;
  }
  RunOptions o;
  o.threads = static_cast<int>(state.range(0));
  for (auto _ : state) {
    absl::StatusOr<RunResult> r = RunWorkload(*w, *in, o);
    if (!r.ok()) state.SkipWithError("run failed");
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_RunSew7Inference)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();


}  // namespace
}  // namespace snnplan::runtime
