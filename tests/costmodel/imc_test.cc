// In-memory computing (docs/costmodel.md, "In-memory computing"): conv and
// linear layers on a core with crossbars are priced by array activations,
// counted here by hand from the layer's shape and the array geometry; their
// weights never move through the memory hierarchy.
#include <cmath>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "snnplan/costmodel.h"
#include "test_util.h"

namespace snnplan::cost {
namespace {

using ir::Operand;
using ::testing::HasSubstr;
using testing::MakeConv;

int64_t CeilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

// The imc-crossbar preset with a small, round-numbered crossbar: 64 rows x
// 32 columns, 2 bits per cell, 1000 fJ per activation, 10 fJ per column
// read, 7 cycles per activation, and 16 arrays.
hw::Hardware SmallCrossbars(int64_t arrays = 16) {
  absl::StatusOr<hw::Hardware> h = hw::Preset("imc-crossbar");
  EXPECT_TRUE(h.ok()) << h.status();
  hw::ImcArrays& imc = h->cores[0].imc;
  imc.arrays = arrays;
  imc.rows = 64;
  imc.columns = 32;
  imc.bits_per_cell = 2;
  imc.energy_fj_per_activation = 1000;
  imc.energy_fj_per_column_read = 10;
  imc.cycles_per_activation = 7;
  h->cores[0].operational_array.neuron_update_energy_fj = 3;
  return *h;
}

// A LIF 3x3 conv, K=40, C=16, 4x4 outputs, T=2, spikes in, 4-bit weights.
testing::ConvSpec SmallConv() {
  testing::ConvSpec s;
  s.T = 2;
  s.K = 40;
  s.C = 16;
  s.OY = 4;
  s.OX = 4;
  s.FY = 3;
  s.FX = 3;
  s.mode = ir::NeuronMode::kStateful;
  return s;
}

TEST(Crossbars, ConvIsPricedByArrayActivations) {
  const testing::ConvSpec s = SmallConv();
  const ir::Layer layer = MakeConv(s);
  ASSERT_EQ(layer.precision.weight_bits, 4);
  // A 4-bit weight at 2 bits per cell takes 2 columns. The weight matrix is
  // (C*FY*FX = 144) rows by (K * 2 = 80) columns: ceil(144 / 64) = 3 row
  // tiles x ceil(80 / 32) = 3 column tiles = 9 arrays.
  const int64_t cpw = CeilDiv(4, 2);
  const int64_t row_tiles = CeilDiv(s.C * s.FY * s.FX, 64);
  const int64_t col_tiles = CeilDiv(s.K * cpw, 32);
  ASSERT_EQ(row_tiles * col_tiles, 9);
  // One input vector per output position and timestep (1-bit spikes: one
  // activation per vector), applied to every array.
  const int64_t vectors = s.T * s.OY * s.OX;
  const int64_t activations = vectors * row_tiles * col_tiles;
  // Every used column (K * 2 of each row tile) is read once per vector.
  const int64_t column_reads = vectors * row_tiles * s.K * cpw;
  const int64_t neuron_updates = s.T * s.K * s.OY * s.OX;

  CostModel model(SmallCrossbars(), 0, {});
  auto cost = model.Price(WholeLayerTile(layer));
  ASSERT_TRUE(cost.ok()) << cost.status();
  const TileCost& c = **cost;
  EXPECT_TRUE(c.on_crossbars);
  EXPECT_EQ(c.crossbar_arrays, 9);
  EXPECT_EQ(c.array_activations, activations);
  EXPECT_EQ(c.array_activations, 288);
  EXPECT_EQ(c.column_reads, column_reads);
  EXPECT_NEAR(c.energy.compute_pj,
              (activations * 1000.0 + column_reads * 10.0 + neuron_updates * 3.0) / 1000, 1e-9);
  // The arrays of the layer work in parallel: 7 cycles per input vector.
  EXPECT_EQ(c.compute_cycles, vectors * 7);
  EXPECT_GE(c.latency_cycles, c.compute_cycles);
  // The SOPs it computes are still reported.
  EXPECT_EQ(c.operations, s.T * s.K * s.C * s.OY * s.OX * s.FY * s.FX);
  // Cells holding weights over the cells of the 9 arrays.
  EXPECT_NEAR(c.utilization, (s.K * s.C * 9 * cpw) / (9.0 * 64 * 32), 1e-12);
  // Weights stay in the arrays: no level reads or writes them.
  for (const LevelAccesses& a : c.accesses) {
    EXPECT_EQ(a.operand[static_cast<int>(Operand::kW)].read_bits, 0) << a.memory;
    EXPECT_EQ(a.operand[static_cast<int>(Operand::kW)].write_bits, 0) << a.memory;
  }
  EXPECT_EQ(c.energy_by_operand[static_cast<int>(Operand::kW)].total_pj(), 0);
  EXPECT_THAT(Describe(c, model.core()), HasSubstr("crossbars: 9 arrays"));
  EXPECT_EQ(ToJson(c, model.core())["crossbars"]["array_activations"].get<int64_t>(), 288);
}

TEST(Crossbars, MultiBitInputIsAppliedBitSerially) {
  testing::ConvSpec s = SmallConv();
  s.input_bits = 4;  // a MAC layer (e.g. the encoding layer)
  s.mode = ir::NeuronMode::kNone;
  s.output_bits = 4;
  CostModel model(SmallCrossbars(), 0, {});
  auto cost = model.Price(WholeLayerTile(MakeConv(s)));
  ASSERT_TRUE(cost.ok()) << cost.status();
  // One activation per input bit: 4 x the vectors of the spiking case.
  const int64_t vectors = s.T * s.OY * s.OX * 4;
  EXPECT_EQ((*cost)->array_activations, vectors * 9);
  EXPECT_EQ((*cost)->column_reads, vectors * 3 * s.K * 2);
  EXPECT_EQ((*cost)->compute_cycles, vectors * 7);
  EXPECT_FALSE((*cost)->uses_sop);
}

TEST(Crossbars, TileActivatesOnlyTheArraysOfItsOutputChannels) {
  // A tile of 8 of the 40 output channels reads 16 columns: one column tile.
  const testing::ConvSpec s = SmallConv();
  TileShape tile = WholeLayerTile(MakeConv(s));
  tile.dims.K = 8;
  CostModel model(SmallCrossbars(), 0, {});
  auto cost = model.Price(tile);
  ASSERT_TRUE(cost.ok()) << cost.status();
  const int64_t vectors = s.T * s.OY * s.OX;
  EXPECT_EQ((*cost)->crossbar_arrays, 3 * CeilDiv(8 * 2, 32));
  EXPECT_EQ((*cost)->array_activations, vectors * 3);
  EXPECT_EQ((*cost)->column_reads, vectors * 3 * 8 * 2);
}

TEST(Crossbars, WeightsTakeNoGlobalBufferSpace) {
  // Linear 2048 -> 64, 4-bit weights: 524288 bits, more than a 32 KiB
  // global buffer. On the meta-prototype the weights overflow to DRAM; on
  // crossbars (ceil(2048/64) = 32 row tiles x ceil(128/32) = 4 column tiles
  // = 128 arrays) they are not in the buffer at all and nothing overflows.
  testing::ConvSpec s;
  s.T = 4;
  s.K = 64;
  s.C = 2048;
  s.OY = s.OX = 1;
  ir::Layer layer = MakeConv(s, "fc");
  layer.op = ir::OpKind::kLinear;
  hw::Hardware imc = SmallCrossbars(128);
  imc.cores[0].memories.back().size_bits = 32 * 1024 * 8;
  CostModel on_imc(imc, 0, {});
  auto c = on_imc.Price(WholeLayerTile(layer));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ((*c)->crossbar_arrays, 128);
  for (bool d : (*c)->dram_operands) EXPECT_FALSE(d);
  EXPECT_EQ((*c)->energy.dram_pj, 0);
  CostModel digital(testing::MetaPrototype(32 * 1024), 0, {});
  auto d = digital.Price(WholeLayerTile(layer));
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_TRUE((*d)->dram_operands[static_cast<int>(Operand::kW)]);
}

TEST(Crossbars, LayerLargerThanTheArraysIsRefusedByName) {
  // The small conv needs 9 arrays; a core with 8 cannot hold its weights.
  CostModel model(SmallCrossbars(8), 0, {});
  auto cost = model.Price(WholeLayerTile(MakeConv(SmallConv(), "conv3")));
  ASSERT_FALSE(cost.ok());
  EXPECT_EQ(cost.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(cost.status().message()),
              HasSubstr("layer 'conv3' needs 9 crossbar arrays"));
  EXPECT_THAT(std::string(cost.status().message()), HasSubstr("core 0 has 8 of 64x32"));
}

TEST(Crossbars, OnlyConvAndLinearRunOnThem) {
  const hw::Hardware imc = SmallCrossbars();
  const hw::Hardware meta = testing::MetaPrototype();
  ir::Layer conv = MakeConv(SmallConv());
  EXPECT_TRUE(RunsOnCrossbars(conv, imc.cores[0]));
  EXPECT_FALSE(RunsOnCrossbars(conv, meta.cores[0]));
  ir::Layer pool = conv;
  pool.op = ir::OpKind::kMaxPool;
  EXPECT_FALSE(RunsOnCrossbars(pool, imc.cores[0]));
  const CrossbarMapping m = MapOnCrossbars(conv, conv.dims.K, imc.cores[0].imc);
  EXPECT_EQ(m.columns_per_weight, 2);
  EXPECT_EQ(m.row_tiles, 3);
  EXPECT_EQ(m.column_tiles, 3);
  EXPECT_EQ(m.arrays, 9);
  EXPECT_EQ(m.cells, 40 * 16 * 9 * 2);
}

}  // namespace
}  // namespace snnplan::cost
