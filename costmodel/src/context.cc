// The per-tile context: operands, their relevance and precisions, the memory
// hierarchy (with DRAM on top for overflowing operands) and the spatial
// unrolling. Everything here is independent of the temporal loop order.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "model.h"
#include "snnplan/activity.h"

namespace snnplan::cost {
namespace {

// a * b for hardware totals (bandwidth or capacity times instances), capped
// at 2^62 bits: the importer keeps every tile footprint and access count
// below 2^62, so a larger capacity or bandwidth prices exactly the same.
int64_t CappedProduct(int64_t a, int64_t b) {
  constexpr int64_t kCap = int64_t{1} << 62;
  int64_t p = 0;
  if (__builtin_mul_overflow(a, b, &p) || p > kCap) return kCap;
  return p;
}

using internal::DimArray;
using internal::DimIndex;

constexpr int kT = DimIndex(ir::Dim::kT), kB = DimIndex(ir::Dim::kB),
              kK = DimIndex(ir::Dim::kK), kC = DimIndex(ir::Dim::kC),
              kG = DimIndex(ir::Dim::kG), kOY = DimIndex(ir::Dim::kOY),
              kOX = DimIndex(ir::Dim::kOX), kFY = DimIndex(ir::Dim::kFY),
              kFX = DimIndex(ir::Dim::kFX);

DimArray ToArray(const ir::LoopDims& dims) {
  DimArray a{};
  for (ir::Dim d : ir::kAllDims) a[DimIndex(d)] = dims.Get(d);
  return a;
}

// Elementwise joins read one value from each input per output element; we
// price them as one I operand whose element holds all inputs.
int64_t InputsPerElement(const ir::Layer& layer) {
  return ir::IsJoin(layer.op) ? std::max<int64_t>(1, static_cast<int64_t>(layer.inputs.size()))
              : 1;
}

// Input rows read by `out` output rows with window `k` (one-sided, like
// ZigZag), clipped to the rows the tile really reads (padding is free).
int64_t WindowExtent(int64_t out, int64_t k, int64_t stride, int64_t dilation,
                     int64_t cap) {
  int64_t ext = (out - 1) * stride + (k - 1) * dilation + 1;
  return cap > 0 ? std::min(ext, cap) : ext;
}

std::array<bool, internal::kNumDims> Relevance(const ir::Layer& layer,
                                               int x) {
  std::array<bool, internal::kNumDims> r{};
  switch (x) {
    case internal::kW:
      for (int d : {kK, kC, kG, kFY, kFX}) r[d] = true;
      break;
    case internal::kI:
      for (int d : {kT, kB, kG, kC, kOY, kOX, kFY, kFX}) r[d] = true;
      if (!layer.has_weights()) r[kK] = true;  // channel k reads channel k
      break;
    case internal::kO:
      for (int d : {kB, kG, kK, kOY, kOX}) r[d] = true;
      r[kT] = layer.op != ir::OpKind::kTimeMean;  // TimeMean reduces over T
      break;
    default:  // S: the output without T (reused across timesteps)
      for (int d : {kB, kG, kK, kOY, kOX}) r[d] = true;
      break;
  }
  return r;
}

int64_t Product(const DimArray& a) {
  int64_t p = 1;
  for (int64_t v : a) p *= v;
  return p;
}

absl::Status ValidateTile(const TileShape& tile) {
  const ir::LoopDims& l = tile.layer.dims;
  for (ir::Dim d : ir::kAllDims) {
    int64_t v = tile.dims.Get(d);
    if (v < 1 || v > l.Get(d))
      return absl::InvalidArgumentError(absl::StrCat(
          "tile of layer '", tile.layer.name, "': ", std::string(ir::DimName(d)),
          "=", v, " outside 1..", l.Get(d)));
  }
  // Splitting the reduction would leave partial sums between tiles, which
  // this model does not price.
  if (tile.dims.C != l.C || tile.dims.FY != l.FY || tile.dims.FX != l.FX)
    return absl::InvalidArgumentError(absl::StrCat(
        "tile of layer '", tile.layer.name,
        "' splits the reduction (C, FY, FX); tiles must cover it whole"));
  for (const auto& [what, value] :
       {std::pair{"density", tile.density}, std::pair{"input activity", tile.input_activity},
        std::pair{"output activity", tile.output_activity}})
    if (!(value >= 0.0 && value <= 1.0))
      return absl::InvalidArgumentError(absl::StrCat("tile of layer '", tile.layer.name,
                                                     "': ", what, " ", value, " outside [0, 1]"));
  return absl::OkStatus();
}

// Activity the hardware does not exploit is priced (and cached) as dense.
void DropUnexploitedActivity(internal::Context& c, const hw::Hardware& hardware) {
  const hw::OperationalArray& array = c.core->operational_array;
  const bool encoded = hardware.spike_encoding.format != hw::SpikeFormat::kDense;
  const bool skips = c.tile.layer.uses_sop() && (array.zero_skipping || array.sparse_speedup);
  if (!encoded && !skips) c.tile.input_activity = 1.0;
  if (!encoded) c.tile.output_activity = 1.0;
}

// The DRAM link carries I and O's final values in the hardware's spike
// encoding (a declared address width must address the tensor's map).
absl::Status SetEncoding(internal::Context& c, const hw::SpikeEncoding& e) {
  if (e.format == hw::SpikeFormat::kDense) return absl::OkStatus();
  const ir::Layer& l = c.tile.layer;
  const int64_t in_map = InputMapElements(l), out_map = OutputMapElements(l);
  if (absl::Status s =
          CheckAddressBits(e, in_map, absl::StrCat("the input of layer '", l.name, "'"));
      !s.ok())
    return s;
  if (absl::Status s =
          CheckAddressBits(e, out_map, absl::StrCat("the output of layer '", l.name, "'"));
      !s.ok())
    return s;
  c.ops[internal::kI].dram_fraction =
      LinkFraction(e, l.precision.input_bits, c.tile.input_activity, AddressBits(e, in_map));
  c.ops[internal::kO].dram_fraction =
      LinkFraction(e, l.precision.output_bits, c.tile.output_activity, AddressBits(e, out_map));
  return absl::OkStatus();
}

void SetSpatial(internal::Context& c) {
  DimArray dims = ToArray(c.tile.dims);
  c.spatial.fill(1);
  c.temporal = dims;
  for (const hw::SpatialUnroll& u : c.core->dataflows) {
    int d = DimIndex(u.loop);
    int64_t f = std::min(c.temporal[d], std::max<int64_t>(1, u.size));
    c.spatial[d] *= f;
    c.temporal[d] = (c.temporal[d] + f - 1) / f;  // padded remainder
  }
  c.iterations = Product(c.temporal);
}

DimArray VisibleSpatial(const hw::Core& core, const hw::MemoryLevel& m) {
  DimArray v{};
  v.fill(1);
  for (const hw::SpatialUnroll& u : core.dataflows) {
    bool served = std::find(m.served_dimensions.begin(),
                            m.served_dimensions.end(),
                            u.array_dim) != m.served_dimensions.end();
    if (served) v[DimIndex(u.loop)] *= u.size;
  }
  return v;
}

void SetLevels(internal::Context& c, const hw::Offchip& offchip) {
  const hw::Core& core = *c.core;
  c.gb = static_cast<int>(core.memories.size()) - 1;
  for (size_t i = 0; i < core.memories.size(); ++i) {
    const hw::MemoryLevel& m = core.memories[i];
    internal::LevelInfo l;
    l.name = m.name;
    l.capacity_bits = m.size_bits;
    l.instances = core.Instances(m);
    l.read_fj_per_bit = m.read_energy_fj_per_bit;
    l.write_fj_per_bit = m.write_energy_fj_per_bit;
    l.read_bw_bits = CappedProduct(m.read_bw_bits_per_cycle, l.instances);
    l.write_bw_bits = CappedProduct(m.write_bw_bits_per_cycle, l.instances);
    l.region = static_cast<int>(i) == c.gb ? internal::Region::kSram
                                           : internal::Region::kLocal;
    // Capacity per instance sees only the spatial factors it serves; the
    // clip to the real tile keeps small tiles from over-reserving.
    l.spatial_visible = VisibleSpatial(core, m);
    for (int d = 0; d < internal::kNumDims; ++d)
      l.spatial_visible[d] = std::min(l.spatial_visible[d], c.spatial[d]);
    c.levels.push_back(l);
  }
  internal::LevelInfo dram;
  dram.name = "dram";
  dram.capacity_bits = std::numeric_limits<int64_t>::max();
  dram.read_fj_per_bit = offchip.read_energy_fj_per_bit;
  dram.write_fj_per_bit = offchip.write_energy_fj_per_bit;
  dram.read_bw_bits = dram.write_bw_bits = offchip.bw_bits_per_cycle;
  dram.single_port = true;
  dram.region = internal::Region::kDram;
  dram.spatial_visible = c.spatial;
  c.levels.push_back(dram);
}

void SetOperands(internal::Context& c) {
  const ir::Layer& layer = c.tile.layer;
  const ir::Precision& p = layer.precision;
  for (int x = 0; x < internal::kNumOperands; ++x) {
    internal::OperandInfo& op = c.ops[x];
    op.relevant = Relevance(layer, x);
  }
  // On crossbars the weights stay in the arrays: no memory level moves them.
  c.ops[internal::kW].present = layer.has_weights() && !c.imc;
  c.ops[internal::kW].bits = p.weight_bits;
  c.ops[internal::kI].present = true;
  c.ops[internal::kI].bits = p.input_bits * InputsPerElement(layer);
  internal::OperandInfo& o = c.ops[internal::kO];
  o.present = true;
  if (c.stateful) {
    o.spike_output = true;
    o.bits = p.output_bits;
  } else {
    o.accumulator = true;
    o.initial_read = false;  // partial sums start at zero
    o.final_write = true;
    o.low_bits = o.partial_bits = p.accumulator_bits;
    o.final_bits = p.output_bits;
  }
  internal::OperandInfo& s = c.ops[internal::kS];
  int spn = layer.neuron.states_per_neuron;
  s.present = c.stateful && spn > 0;
  s.accumulator = true;
  bool zero = c.options.state_io == StateIo::kZero;
  s.initial_read = !(zero && c.tile.starts_at_first_timestep);
  s.final_write = !(zero && c.tile.ends_at_last_timestep);
  s.low_bits = int64_t{p.accumulator_bits} * spn;
  s.partial_bits = s.final_bits = int64_t{p.state_bits} * spn;
}

// DRAM joins as the top level of the operands that overflow the global
// buffer: the largest first (ties: operand order) until the rest fits.
void SetOverflow(internal::Context& c) {
  std::array<int64_t, 4> fp = FootprintBits(c.tile);
  for (int x = 0; x < internal::kNumOperands; ++x)
    if (!c.ops[x].present) fp[x] = 0;  // weights in crossbars take no buffer
  const internal::LevelInfo& gb = c.levels[c.gb];
  int64_t capacity = CappedProduct(gb.capacity_bits, gb.instances) - c.tile.reserved_bits;
  int64_t total = std::accumulate(fp.begin(), fp.end(), int64_t{0});
  std::array<int, 4> order = {0, 1, 2, 3};
  std::stable_sort(order.begin(), order.end(),
                   [&](int a, int b) { return fp[a] > fp[b]; });
  for (int x : order) {
    if (total <= capacity) break;
    if (!c.ops[x].present || fp[x] == 0) continue;
    c.overflow[x] = true;
    total -= fp[x];
  }
  c.has_dram = std::any_of(c.overflow.begin(), c.overflow.end(),
                           [](bool b) { return b; });
  int dram = static_cast<int>(c.levels.size()) - 1;
  for (int x = 0; x < internal::kNumOperands; ++x) {
    internal::OperandInfo& op = c.ops[x];
    if (!op.present) continue;
    for (int l = 0; l <= c.gb; ++l)
      if (c.core->memories[l].Holds(static_cast<ir::Operand>(x)))
        op.levels.push_back(l);
    if (c.overflow[x]) op.levels.push_back(dram);
    op.top = op.levels.back();
    op.top_reserved_bits = c.overflow[x] ? 0 : fp[x];
  }
  if (!c.has_dram) c.levels.pop_back();
}

void SetTotals(internal::Context& c) {
  DimArray ones{};
  ones.fill(1);
  DimArray real = ToArray(c.tile.dims);
  for (int x = 0; x < internal::kNumOperands; ++x) {
    internal::OperandInfo& op = c.ops[x];
    if (!op.present) continue;
    op.total_elements = internal::TileElements(c, x, c.spatial, c.temporal);
    int64_t real_elements = internal::TileElements(c, x, ones, real);
    op.scale = static_cast<double>(real_elements) /
               static_cast<double>(op.total_elements);
  }
  const ir::LoopDims& d = c.tile.dims;
  c.real_ops = static_cast<double>(Product(real));
  c.uses_sop = c.tile.layer.uses_sop();
  const hw::OperationalArray& array = c.core->operational_array;
  const double skipped = c.uses_sop && array.zero_skipping ? c.tile.input_activity : 1.0;
  c.priced_ops = c.real_ops * (c.uses_sop ? c.tile.density : 1.0) * skipped;
  c.cycle_density =
      c.uses_sop && array.sparse_speedup ? c.tile.density * c.tile.input_activity : 1.0;
  c.neuron_steps = c.tile.layer.spiking()
                       ? static_cast<double>(d.B * d.G * d.K * d.OY * d.OX * d.T)
                       : 0.0;
  double slots = static_cast<double>(c.core->operational_array.TotalPes()) *
                 static_cast<double>(c.iterations);
  c.utilization = slots > 0 ? c.real_ops / slots : 0;
  if (!c.imc) return;
  // Crossbars: every input vector (one output position of one timestep; a
  // multi-bit input is applied bit-serially, one bit per activation) is
  // applied to every array holding the tile's weights; each used column is
  // read once per vector. The arrays of a layer work in parallel.
  const hw::ImcArrays& imc = c.core->imc;
  const CrossbarMapping m = MapOnCrossbars(c.tile.layer, d.K, imc);
  const int64_t passes = c.uses_sop ? 1 : c.tile.layer.precision.input_bits;
  const double vectors = static_cast<double>(d.B * d.T * d.OY * d.OX * passes);
  c.imc_arrays = m.arrays;
  c.imc_activations = vectors * static_cast<double>(m.arrays);
  c.imc_column_reads =
      vectors * static_cast<double>(d.G * m.row_tiles * d.K * m.columns_per_weight);
  c.imc_cycles = d.B * d.T * d.OY * d.OX * passes * imc.cycles_per_activation;
  const double cells = static_cast<double>(m.arrays * imc.rows * imc.columns);
  c.utilization = cells > 0 ? static_cast<double>(m.cells) / cells : 0;
}

}  // namespace

std::array<int64_t, 4> FootprintBits(const TileShape& tile) {
  const ir::Layer& l = tile.layer;
  const ir::LoopDims& d = tile.dims;
  const ir::Precision& p = l.precision;
  std::array<int64_t, 4> fp{};
  if (l.has_weights()) fp[0] = d.G * d.K * d.C * d.FY * d.FX * p.weight_bits;
  int64_t channels = l.has_weights() ? d.G * d.C : d.G * d.K;
  int64_t rows = WindowExtent(d.OY, d.FY, l.window.stride_y,
                              l.window.dilation_y, tile.in_y);
  int64_t cols = WindowExtent(d.OX, d.FX, l.window.stride_x,
                              l.window.dilation_x, tile.in_x);
  fp[1] = d.B * d.T * channels * rows * cols * p.input_bits *
          InputsPerElement(l);
  int64_t neurons = d.B * d.G * d.K * d.OY * d.OX;
  int64_t steps = l.op == ir::OpKind::kTimeMean ? 1 : d.T;
  fp[2] = neurons * steps * p.output_bits;
  if (l.stateful())
    fp[3] = neurons * l.neuron.states_per_neuron * p.state_bits;
  return fp;
}

bool RunsOnCrossbars(const ir::Layer& layer, const hw::Core& core) {
  return core.imc.present() && layer.has_weights();
}

CrossbarMapping MapOnCrossbars(const ir::Layer& layer, int64_t output_channels,
                               const hw::ImcArrays& imc) {
  CrossbarMapping m;
  if (!imc.present() || !layer.has_weights()) return m;
  const ir::LoopDims& d = layer.dims;
  auto ceil_div = [](int64_t a, int64_t b) { return (a + b - 1) / b; };
  m.columns_per_weight = ceil_div(layer.precision.weight_bits, imc.bits_per_cell);
  m.row_tiles = ceil_div(d.C * d.FY * d.FX, imc.rows);
  m.column_tiles = ceil_div(output_channels * m.columns_per_weight, imc.columns);
  m.arrays = d.G * m.row_tiles * m.column_tiles;
  m.cells = d.G * output_channels * d.C * d.FY * d.FX * m.columns_per_weight;
  return m;
}

TileShape WholeLayerTile(const ir::Layer& layer) {
  TileShape t;
  t.layer = layer;
  t.dims = layer.dims;
  t.in_y = layer.in_y;
  t.in_x = layer.in_x;
  return t;
}

namespace internal {

int64_t TileElements(const Context& c, int x, const DimArray& spatial,
                     const DimArray& temporal_ext) {
  const OperandInfo& op = c.ops[x];
  int64_t n = 1;
  if (x != kI) {
    for (int d = 0; d < kNumDims; ++d)
      if (op.relevant[d]) n *= spatial[d] * temporal_ext[d];
    return n;
  }
  for (int d : {kT, kB, kG, kC, kK})
    if (op.relevant[d]) n *= spatial[d] * temporal_ext[d];
  int64_t rows = WindowExtent(spatial[kOY] * temporal_ext[kOY],
                              spatial[kFY] * temporal_ext[kFY], c.stride_y,
                              c.dilation_y, c.cap_y);
  int64_t cols = WindowExtent(spatial[kOX] * temporal_ext[kOX],
                              spatial[kFX] * temporal_ext[kFX], c.stride_x,
                              c.dilation_x, c.cap_x);
  return n * rows * cols;
}

absl::StatusOr<Context> BuildContext(const TileShape& tile,
                                     const hw::Hardware& hardware,
                                     const hw::Core& core,
                                     const CostOptions& options) {
  if (absl::Status s = ValidateTile(tile); !s.ok()) return s;
  if (core.memories.empty() || core.memories.size() > 15)
    return absl::InvalidArgumentError("core needs 1..15 memory levels");
  Context c;
  c.core = &core;
  c.options = options;
  c.tile = tile;
  DropUnexploitedActivity(c, hardware);
  c.stateful = tile.layer.stateful();
  const ir::Window& w = tile.layer.window;
  c.stride_y = w.stride_y;
  c.stride_x = w.stride_x;
  c.dilation_y = w.dilation_y;
  c.dilation_x = w.dilation_x;
  c.cap_y = tile.in_y;
  c.cap_x = tile.in_x;
  c.imc = RunsOnCrossbars(tile.layer, core);
  if (c.imc) {
    const CrossbarMapping whole = MapOnCrossbars(tile.layer, tile.layer.dims.K, core.imc);
    if (whole.arrays > core.imc.arrays)
      return absl::ResourceExhaustedError(absl::StrCat(
          "layer '", tile.layer.name, "' needs ", whole.arrays, " crossbar arrays (",
          tile.layer.dims.G, " group(s) x ", whole.row_tiles, " row tiles of ",
          tile.layer.dims.C * tile.layer.dims.FY * tile.layer.dims.FX, " inputs x ",
          whole.column_tiles, " column tiles of ", tile.layer.dims.K, " weights x ",
          whole.columns_per_weight, " columns) but core ", core.id, " has ", core.imc.arrays,
          " of ", core.imc.rows, "x", core.imc.columns,
          ": its weights cannot stay in the crossbars (give imc.arrays >= ", whole.arrays, ")"));
  }
  SetSpatial(c);
  SetLevels(c, hardware.offchip);
  SetOperands(c);
  SetOverflow(c);
  SetTotals(c);
  if (absl::Status s = SetEncoding(c, hardware.spike_encoding); !s.ok())
    return absl::InvalidArgumentError(
        absl::StrCat("tile of layer '", tile.layer.name, "': ", s.message()));
  return c;
}

}  // namespace internal
}  // namespace snnplan::cost
