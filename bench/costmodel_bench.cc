// Cost-model performance: one mapping evaluation, the best mapping of the
// largest SEW-ResNet-18 tile, and all unique tiles of a SEW-7-like layer
// list (whole-layer, single-timestep and 8-row-band tiles).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <vector>

#include "../costmodel/src/model.h"  // internal: the bare evaluation
#include "snnplan/costmodel.h"
#include "snnplan/hwdesc.h"

namespace snnplan::cost {
namespace {

hw::Hardware Meta() { return *hw::Preset("meta-prototype"); }

ir::Layer SewConv(int64_t k, int64_t c, int64_t out, int64_t f, int in_bits) {
  ir::Layer l;
  l.name = "conv";
  l.op = ir::OpKind::kConv;
  l.inputs = {0};
  l.dims.T = 16;
  l.dims.K = k;
  l.dims.C = c;
  l.dims.OY = l.dims.OX = out;
  l.dims.FY = l.dims.FX = f;
  int64_t pad = f / 2;
  l.window.pad_top = l.window.pad_left = l.window.pad_bottom =
      l.window.pad_right = pad;
  l.in_y = l.in_x = out;
  l.neuron.mode = ir::NeuronMode::kStateful;
  l.neuron.kind = "plif";
  l.neuron.states_per_neuron = 1;
  l.precision.input_bits = in_bits;
  return l;
}

ir::Layer SewElementwise(ir::OpKind op, int64_t k, int64_t out, int64_t f) {
  ir::Layer l;
  l.name = "elementwise";
  l.op = op;
  l.inputs = op == ir::OpKind::kMaxPool ? std::vector<int>{0}
                                        : std::vector<int>{0, 1};
  l.dims.T = 16;
  l.dims.K = k;
  l.dims.OY = l.dims.OX = out;
  l.dims.FY = l.dims.FX = f;
  l.window.stride_y = l.window.stride_x = f;
  l.in_y = l.in_x = out * f;
  return l;
}

// The largest tile: SEW-ResNet-18 layer 1 over all 16 timesteps.
TileShape LargestTile() { return WholeLayerTile(SewConv(64, 64, 128, 3, 1)); }

std::vector<ir::Layer> Sew7Layers() {
  std::vector<ir::Layer> layers = {SewConv(64, 2, 128, 1, 4)};
  const int64_t channels[] = {64, 64, 64, 64, 128, 128, 128};
  int64_t size = 128;
  for (int b = 0; b < 7; ++b) {
    int64_t k = channels[b];
    int64_t c_in = b == 4 ? 64 : k;
    if (b == 4) layers.push_back(SewConv(k, c_in, size, 1, 1));
    layers.push_back(SewConv(k, b == 4 ? k : c_in, size, 3, 1));
    layers.push_back(SewConv(k, k, size, 3, 1));
    layers.push_back(SewElementwise(ir::OpKind::kSewOr, k, size, 1));
    layers.push_back(SewElementwise(ir::OpKind::kMaxPool, k, size / 2, 2));
    size /= 2;
  }
  return layers;
}

// Whole layer; single timesteps (first, middle, last); 8-row bands (first,
// middle, last) over all T and over one middle timestep.
std::vector<TileShape> Sew7Tiles() {
  std::vector<TileShape> tiles;
  for (const ir::Layer& l : Sew7Layers()) {
    TileShape whole = WholeLayerTile(l);
    tiles.push_back(whole);
    for (int t : {0, 7, 15}) {
      TileShape s = whole;
      s.dims.T = 1;
      s.starts_at_first_timestep = t == 0;
      s.ends_at_last_timestep = t == 15;
      tiles.push_back(s);
    }
    if (l.dims.OY <= 8) continue;
    int64_t s_y = l.window.stride_y, f = l.dims.FY, pad = l.window.pad_top;
    for (int64_t oy0 : {int64_t{0}, l.dims.OY / 2, l.dims.OY - 8}) {
      int64_t first = std::max<int64_t>(0, oy0 * s_y - pad);
      int64_t last = std::min(l.in_y - 1, (oy0 + 7) * s_y - pad + f - 1);
      for (bool one_step : {false, true}) {
        TileShape band = whole;
        band.dims.OY = 8;
        band.in_y = last - first + 1;
        if (one_step) {
          band.dims.T = 1;
          band.starts_at_first_timestep = band.ends_at_last_timestep = false;
        }
        tiles.push_back(band);
      }
    }
  }
  return tiles;
}

void BM_EvaluateOneMapping(benchmark::State& state) {
  hw::Hardware h = Meta();
  auto c = internal::BuildContext(LargestTile(), h, h.cores[0], {});
  std::vector<internal::Loop> order = internal::TemporalFactors(*c, 20000);
  double sink = 0;
  for (auto _ : state) {
    internal::Score s = internal::Evaluate(*c, order, nullptr);
    sink += s.energy_pj;
    benchmark::DoNotOptimize(sink);
  }
  state.counters["loops"] = static_cast<double>(order.size());
}
BENCHMARK(BM_EvaluateOneMapping);

void BM_BestMappingLargestTile(benchmark::State& state) {
  TileShape tile = LargestTile();
  int64_t evaluated = 0;
  for (auto _ : state) {
    CostModel model(Meta(), 0, {});  // fresh: no cache
    auto c = model.Price(tile);
    evaluated = (*c)->mappings_evaluated;
    benchmark::DoNotOptimize(c);
  }
  state.counters["mappings"] = static_cast<double>(evaluated);
  state.counters["ns_per_mapping"] = benchmark::Counter(
      static_cast<double>(evaluated) * static_cast<double>(state.iterations()),
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_BestMappingLargestTile)->Unit(benchmark::kMillisecond);

void BM_Sew7UniqueTiles(benchmark::State& state) {
  std::vector<TileShape> tiles = Sew7Tiles();
  int64_t unique = 0;
  for (auto _ : state) {
    CostModel model(Meta(), 0, {});
    for (const TileShape& t : tiles) benchmark::DoNotOptimize(model.Price(t));
    unique = model.cache_misses();
  }
  state.counters["tiles"] = static_cast<double>(tiles.size());
  state.counters["unique_tiles"] = static_cast<double>(unique);
}
BENCHMARK(BM_Sew7UniqueTiles)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace snnplan::cost
