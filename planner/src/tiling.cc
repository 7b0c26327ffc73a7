// Stage 1: the fine-grained tile graph and its list-scheduled order.
#include <algorithm>
#include <limits>
#include <queue>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "plan_internal.h"

namespace snnplan::plan {
namespace {

int64_t OutTimesteps(const ir::Layer& l) { return l.op == ir::OpKind::kTimeMean ? 1 : l.dims.T; }

bool SpatiallyRelated(const ir::Layer& consumer, int64_t producer_rows) {
  return consumer.op != ir::OpKind::kLinear && consumer.in_y == producer_rows;
}

// Indices of the ranges (sorted, disjoint) overlapping `r`.
std::pair<int, int> Overlapping(const std::vector<Range>& ranges, const Range& r) {
  if (r.size() <= 0) return {0, 0};
  auto first = std::upper_bound(ranges.begin(), ranges.end(), r.begin,
                                [](int64_t v, const Range& x) { return v < x.end; });
  auto last = std::lower_bound(ranges.begin(), ranges.end(), r.end,
                               [](const Range& x, int64_t v) { return x.begin < v; });
  return {static_cast<int>(first - ranges.begin()), static_cast<int>(last - ranges.begin())};
}

std::vector<Range> Split(int64_t total, int64_t step) {
  std::vector<Range> out;
  if (step <= 0 || step >= total) return {{0, total}};
  for (int64_t b = 0; b < total; b += step) out.push_back({b, std::min(total, b + step)});
  return out;
}

// How many ranges Split(total, step) returns, without building them.
int64_t CountRanges(int64_t total, int64_t step) {
  if (step <= 0 || step >= total) return 1;
  return (total - 1) / step + 1;
}

std::vector<int> Depths(const ir::Workload& w) {
  std::vector<int> depth(w.layers.size(), 0);
  for (size_t l = 0; l < w.layers.size(); ++l)
    for (size_t k = 0; k < w.layers[l].inputs.size(); ++k)
      if (const int p = w.layers[l].inputs[k]; p != ir::kNetworkInput && !w.layers[l].delayed(k))
        depth[l] = std::max(depth[l], depth[p] + 1);
  return depth;
}

// Fuse-barrier ids: a new group starts when an lf block follows an lf block
// with another time choice (STEMS's fuse barrier); lbl blocks add none.
std::vector<int> Groups(const Schedule& s) {
  std::vector<int> group(s.blocks.size(), 0);
  int g = 0;
  for (size_t b = 0; b < s.blocks.size(); ++b) {
    if (b > 0 && s.blocks[b].fused && s.blocks[b - 1].fused &&
        s.blocks[b].timesteps_per_tile != s.blocks[b - 1].timesteps_per_tile)
      ++g;
    group[b] = g;
  }
  return group;
}

// Band heights: R rows for a fused block's last layers; upstream layers get
// R x the product of the downstream strides (max over in-block consumers).
std::vector<int64_t> BandHeights(const ir::Workload& w, const Schedule& s) {
  const size_t n = w.layers.size();
  std::vector<int64_t> height(n, 0);
  std::vector<std::vector<int>> consumers(n);
  for (size_t c = 0; c < n; ++c)
    for (size_t k = 0; k < w.layers[c].inputs.size(); ++k)
      if (const int p = w.layers[c].inputs[k]; p != ir::kNetworkInput && !w.layers[c].delayed(k))
        consumers[p].push_back(static_cast<int>(c));
  for (size_t i = n; i-- > 0;) {
    const ir::Layer& l = w.layers[i];
    const BlockSchedule& b = s.blocks[l.block];
    if (!b.fused) continue;
    int64_t h = 0;
    for (int c : consumers[i]) {
      const ir::Layer& cl = w.layers[c];
      if (cl.block != l.block || !SpatiallyRelated(cl, l.dims.OY) || height[c] == 0) continue;
      int64_t rows = 0;
      if (__builtin_mul_overflow(height[c], cl.window.stride_y, &rows)) rows = l.dims.OY;
      h = std::max(h, rows);
    }
    height[i] = std::min(h == 0 ? b.rows_per_tile : h, l.dims.OY);
  }
  for (size_t i = 0; i < n; ++i) {
    auto it = s.layer_rows_per_tile.find(w.layers[i].name);
    if (it != s.layer_rows_per_tile.end()) height[i] = it->second;  // 0 = whole
  }
  return height;
}

// Timesteps per tile of a layer (0 = all): time_mean and T = 1 layers
// always take every timestep at once; a layer on a recurrent cycle one at a
// time whatever its block's choice (step t needs the cycle's step t-1).
int64_t TimestepsPerTile(const ir::Layer& l, const BlockSchedule& b, bool recurrent) {
  const bool whole_time = l.op == ir::OpKind::kTimeMean || l.dims.T == 1;
  if (recurrent && !whole_time) return 1;
  return whole_time ? 0 : b.timesteps_per_tile;
}

// {time batches, row bands} a layer is cut into, counted without building.
std::pair<int64_t, int64_t> CountTiles(const ir::Layer& l, const BlockSchedule& b,
                                       int64_t band_height, bool recurrent) {
  return {CountRanges(l.dims.T, TimestepsPerTile(l, b, recurrent)),
          CountRanges(l.dims.OY, band_height)};
}

LayerTiling TileLayer(const ir::Layer& l, const BlockSchedule& b, int64_t band_height,
                      bool recurrent) {
  LayerTiling t;
  t.out_timesteps = OutTimesteps(l);
  t.time_batches = Split(l.dims.T, TimestepsPerTile(l, b, recurrent));
  t.bands = Split(l.dims.OY, band_height);
  return t;
}

// The network input, cut along its first consumer's bands so no row is
// loaded twice: piece b holds the rows band b reads that band b-1 did not.
InputTiling TileInput(const ir::Workload& w, const std::vector<LayerTiling>& tilings) {
  InputTiling in;
  for (size_t l = 0; l < w.layers.size(); ++l) {
    const ir::Layer& c = w.layers[l];
    if (std::find(c.inputs.begin(), c.inputs.end(), ir::kNetworkInput) == c.inputs.end()) continue;
    in.rows = c.in_y;
    in.cols = c.in_x;
    in.channels = c.InputChannels();
    in.bits = c.precision.input_bits;
    in.time_batches =
        c.op == ir::OpKind::kTimeMean ? std::vector<Range>{{0, c.dims.T}} : tilings[l].time_batches;
    int64_t covered = 0;
    for (const Range& band : tilings[l].bands) {
      Range need = NeededRows(c, band, in.rows);
      if (need.end > covered) {
        in.bands.push_back({covered, need.end});
        covered = need.end;
      }
    }
    if (covered < in.rows) {
      if (in.bands.empty())
        in.bands.push_back({0, in.rows});
      else
        in.bands.back().end = in.rows;
    }
    return in;
  }
  return in;
}

void AddPreds(const ir::Workload& w, TileGraph& g, int sample_base, Tile& tile) {
  const ir::Layer& l = w.layers[tile.layer];
  for (size_t k = 0; k < l.inputs.size(); ++k) {
    const int p = l.inputs[k];
    if (p == ir::kNetworkInput) {
      const InputTiling& in = g.input;
      Range rows = NeededRows(l, tile.rows, in.rows);
      Range t = l.op == ir::OpKind::kTimeMean ? Range{0, l.dims.T} : tile.t;
      auto [t0, t1] = Overlapping(in.time_batches, t);
      auto [b0, b1] = Overlapping(in.bands, rows);
      for (int tb = t0; tb < t1; ++tb)
        for (int b = b0; b < b1; ++b)
          tile.net_inputs.push_back(tb * static_cast<int>(in.bands.size()) + b);
      continue;
    }
    const LayerTiling& pt = g.layers[p];
    Range rows = NeededRows(l, tile.rows, w.layers[p].dims.OY);
    Range t = l.delayed(k) ? DelayedTime(tile.t) : NeededTime(l, tile.t, pt.out_timesteps);
    if (t.size() <= 0) continue;  // step 0 of a delayed input: zeros
    // Producer time batches are in its iteration timesteps; a time_mean
    // producer has one batch covering its single output step.
    auto [t0, t1] = pt.out_timesteps == 1
                        ? std::pair<int, int>{0, static_cast<int>(pt.time_batches.size())}
                        : Overlapping(pt.time_batches, t);
    auto [b0, b1] = Overlapping(pt.bands, rows);
    for (int tb = t0; tb < t1; ++tb)
      for (int b = b0; b < b1; ++b)
        tile.data_preds.push_back(sample_base + pt.first_tile +
                                  tb * static_cast<int>(pt.bands.size()) + b);
  }
  std::sort(tile.data_preds.begin(), tile.data_preds.end());
  tile.data_preds.erase(std::unique(tile.data_preds.begin(), tile.data_preds.end()),
                        tile.data_preds.end());
  std::sort(tile.net_inputs.begin(), tile.net_inputs.end());
  tile.net_inputs.erase(std::unique(tile.net_inputs.begin(), tile.net_inputs.end()),
                        tile.net_inputs.end());
  if (l.stateful() && tile.time_batch > 0)
    tile.state_pred =
        (sample_base + g.layers[tile.layer].first_tile +
         (tile.time_batch - 1) * static_cast<int>(g.layers[tile.layer].bands.size()) + tile.band);
}

int64_t InputRowsRead(const ir::Workload& w, const Tile& tile) {
  const ir::Layer& l = w.layers[tile.layer];
  if (l.op == ir::OpKind::kLinear) return l.in_y;
  Range r = NeededRows(l, tile.rows, l.in_y);
  return std::max<int64_t>(1, r.size());
}

std::vector<int> ListSchedule(const TileGraph& g) {
  const size_t n = g.tiles.size();
  std::vector<int> indegree(n, 0);
  std::vector<std::vector<int>> succ(n);
  for (size_t i = 0; i < n; ++i) {
    const Tile& t = g.tiles[i];
    for (int p : t.data_preds) {
      succ[p].push_back(static_cast<int>(i));
      ++indegree[i];
    }
    if (t.state_pred >= 0 &&
        !std::binary_search(t.data_preds.begin(), t.data_preds.end(), t.state_pred)) {
      succ[t.state_pred].push_back(static_cast<int>(i));
      ++indegree[i];
    }
  }
  // (sample, fused group, first timestep, spatial index, deepest first, layer id)
  using Key = std::tuple<int, int, int64_t, int, int, int, int>;
  auto key = [&](int id) {
    const Tile& t = g.tiles[id];
    const LayerTiling& lt = g.layers[t.layer];
    return Key{t.sample, lt.group, t.t.begin, t.band, -lt.depth, t.layer, id};
  };
  std::priority_queue<Key, std::vector<Key>, std::greater<Key>> ready;
  for (size_t i = 0; i < n; ++i)
    if (indegree[i] == 0) ready.push(key(static_cast<int>(i)));
  std::vector<int> order;
  order.reserve(n);
  while (!ready.empty()) {
    int id = std::get<6>(ready.top());
    ready.pop();
    order.push_back(id);
    for (int s : succ[id])
      if (--indegree[s] == 0) ready.push(key(s));
  }
  return order;
}

}  // namespace

// Input rows (of a producer with `producer_rows` rows) that output rows
// `rows` of `consumer` read, clipped to the tensor (padding reads nothing).
Range NeededRows(const ir::Layer& consumer, const Range& rows, int64_t producer_rows) {
  if (!SpatiallyRelated(consumer, producer_rows)) return {0, producer_rows};
  const ir::Window& w = consumer.window;
  int64_t lo = rows.begin * w.stride_y - w.pad_top;
  int64_t hi = (rows.end - 1) * w.stride_y - w.pad_top + (consumer.dims.FY - 1) * w.dilation_y + 1;
  lo = std::max<int64_t>(lo, 0);
  hi = std::min<int64_t>(hi, producer_rows);
  return {lo, std::max(lo, hi)};
}

Range NeededTime(const ir::Layer& consumer, const Range& t, int64_t producer_steps) {
  if (consumer.op == ir::OpKind::kTimeMean || producer_steps == 1 ||
      consumer.dims.T != producer_steps)
    return {0, producer_steps};
  return t;
}

// A delayed (recurrent) input: steps t of the consumer read the producer's
// steps t - 1; step 0 reads zeros (nothing).
Range DelayedTime(const Range& t) { return {std::max<int64_t>(0, t.begin - 1), t.end - 1}; }

absl::StatusOr<TileGraph> BuildTileGraph(const ir::Workload& w, const Schedule& s) {
  if (static_cast<int>(s.blocks.size()) != w.num_blocks)
    return absl::InvalidArgumentError(absl::StrCat("schedule has ", s.blocks.size(),
                                                   " block entries but the model has ",
                                                   w.num_blocks, " blocks"));
  for (const auto& [name, rows] : s.layer_rows_per_tile) {
    bool known = std::any_of(w.layers.begin(), w.layers.end(),
                             [&n = name](const ir::Layer& l) { return l.name == n; });
    if (!known)
      return absl::InvalidArgumentError(
          absl::StrCat("schedule override names unknown layer '", name, "'"));
  }
  for (const ir::Layer& layer : w.layers)
    if (layer.block < 0 || layer.block >= w.num_blocks)
      return absl::InvalidArgumentError(absl::StrCat(
          "layer ", layer.name, " has block ", layer.block, " outside 0..", w.num_blocks - 1));
  TileGraph g;
  const std::vector<int> depth = Depths(w);
  const std::vector<int> group = Groups(s);
  const std::vector<int64_t> height = BandHeights(w, s);
  const std::vector<bool> recurrent = ir::RecurrentLayers(w);
  // Count the tiles before building them: absurd T, rows or batch would
  // otherwise allocate (or overflow) long before the limit below is checked.
  constexpr int64_t kMaxTiles = 50'000'000;
  const int64_t batch = std::max<int64_t>(1, w.batch);
  int64_t count = 0;
  for (size_t l = 0; l < w.layers.size(); ++l) {
    const auto [per, bands] =
        CountTiles(w.layers[l], s.blocks[w.layers[l].block], height[l], recurrent[l]);
    if (per > kMaxTiles || bands > kMaxTiles || (count += per * bands) > kMaxTiles / batch)
      return absl::InvalidArgumentError(absl::StrCat(
          "schedule produces more than 50,000,000 tiles (batch ", batch, "); use larger tiles"));
  }
  int first = 0;
  for (size_t l = 0; l < w.layers.size(); ++l) {
    const ir::Layer& layer = w.layers[l];
    LayerTiling t = TileLayer(layer, s.blocks[layer.block], height[l], recurrent[l]);
    t.depth = depth[l];
    t.group = group[layer.block];
    t.first_tile = first;
    first += static_cast<int>(t.time_batches.size() * t.bands.size());
    g.layers.push_back(std::move(t));
  }
  g.tiles_per_sample = first;
  g.input = TileInput(w, g.layers);
  const int64_t samples = std::max<int64_t>(1, w.batch);
  if (samples * first > 50'000'000)
    return absl::InvalidArgumentError(absl::StrCat("schedule produces ", samples * first,
                                                   " tiles (limit 50,000,000); use larger tiles"));
  g.tiles.reserve(static_cast<size_t>(samples * first));
  for (int sample = 0; sample < samples; ++sample) {
    const int base = sample * first;
    for (size_t l = 0; l < w.layers.size(); ++l) {
      const LayerTiling& lt = g.layers[l];
      for (size_t tb = 0; tb < lt.time_batches.size(); ++tb)
        for (size_t b = 0; b < lt.bands.size(); ++b) {
          Tile tile;
          tile.layer = static_cast<int>(l);
          tile.sample = sample;
          tile.time_batch = static_cast<int>(tb);
          tile.band = static_cast<int>(b);
          tile.t = lt.time_batches[tb];
          tile.rows = lt.bands[b];
          tile.in_rows = InputRowsRead(w, tile);
          AddPreds(w, g, base, tile);
          g.tiles.push_back(std::move(tile));
        }
    }
  }
  g.order = ListSchedule(g);
  if (g.order.size() != g.tiles.size())
    return absl::InternalError("tile graph has a cycle (the model's layers are not a DAG)");
  return g;
}

std::vector<int64_t> TilesPerLayer(const ir::Workload& w, const Schedule& s) {
  const std::vector<int64_t> height = BandHeights(w, s);
  const std::vector<bool> recurrent = ir::RecurrentLayers(w);
  std::vector<int64_t> out(w.layers.size(), 1);
  for (size_t l = 0; l < w.layers.size(); ++l) {
    const auto [per, bands] =
        CountTiles(w.layers[l], s.blocks[w.layers[l].block], height[l], recurrent[l]);
    if (__builtin_mul_overflow(per, bands, &out[l])) out[l] = std::numeric_limits<int64_t>::max();
  }
  return out;
}

cost::TileShape ShapeOf(const ir::Workload& w, const Tile& tile, const PlanOptions& options,
                        const cost::LayerDensities& densities) {
  const ir::Layer& l = w.layers[tile.layer];
  cost::TileShape shape;
  shape.layer = l;
  shape.dims = l.dims;
  shape.dims.T = tile.t.size();
  shape.dims.OY = tile.rows.size();
  shape.in_y = tile.in_rows;
  shape.in_x = l.in_x;
  shape.starts_at_first_timestep = tile.t.begin == 0;
  shape.ends_at_last_timestep = tile.t.end == l.dims.T;
  auto it = options.layer_density.find(l.name);
  shape.density = it != options.layer_density.end() ? it->second : options.density;
  shape.input_activity = densities.input[tile.layer];
  shape.output_activity = densities.output[tile.layer];
  shape.reserved_bits = tile.overhead_bits;
  return shape;
}

}  // namespace snnplan::plan
