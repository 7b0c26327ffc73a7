// Cases whose access counts are derived on paper (the derivations are in
// the comments) for the meta-prototype: rf_4b_W (64 instances, 4 b),
// rf_16b_O (512 instances, 16 b), sram_32KB_W, sram_16KB_I, global_buffer.
#include "snnplan/costmodel.h"

#include "gtest/gtest.h"
#include "test_util.h"

namespace snnplan::cost {
namespace {

using ir::Dim;
using ir::Operand;
using testing::L;
using testing::MakeConv;
using testing::MetaPrototype;
using testing::Traffic;

// 1x1 conv, K=32 C=4 OX=16, 4-bit input (MACs), 4-bit output, no neuron.
// Spatial K32 | C2 | OX16 leaves one temporal loop C2: 2 iterations.
TEST(HandComputed, OneByOneConvFitsLocalBuffers) {
  testing::ConvSpec s;
  s.C = 4;
  s.input_bits = 4;
  s.output_bits = 4;
  CostModel model(MetaPrototype(), 0, {});
  auto cost = model.Price(WholeLayerTile(MakeConv(s)));
  ASSERT_TRUE(cost.ok()) << cost.status();
  const TileCost& c = **cost;
  // W: the array reads 64 weights (K32 x C2) per iteration from rf_4b_W:
  // 64 x 2 x 4 b = 512. The rf holds 1 weight, so every C2 iteration
  // refills it from sram_32KB_W (512 b), which holds all 128 weights and
  // is filled once from the global buffer (128 x 4 = 512 b).
  EXPECT_EQ(Traffic(c, "rf_4b_W", Operand::kW).read_bits, 512);
  EXPECT_EQ(Traffic(c, "rf_4b_W", Operand::kW).write_bits, 512);
  EXPECT_EQ(Traffic(c, "sram_32KB_W", Operand::kW).read_bits, 512);
  EXPECT_EQ(Traffic(c, "sram_32KB_W", Operand::kW).write_bits, 512);
  EXPECT_EQ(Traffic(c, "global_buffer", Operand::kW).read_bits, 512);
  // I: 32 inputs (C2 x OX16) per iteration, no input register: 2 x 32 x 4
  // = 256 b read from sram_16KB_I, which is filled once (64 x 4 = 256 b).
  EXPECT_EQ(Traffic(c, "sram_16KB_I", Operand::kI).read_bits, 256);
  EXPECT_EQ(Traffic(c, "sram_16KB_I", Operand::kI).write_bits, 256);
  EXPECT_EQ(Traffic(c, "global_buffer", Operand::kI).read_bits, 256);
  // O: 512 accumulators (K32 x OX16) stay in rf_16b_O over C2: written 2x,
  // read back 1x (the first accumulation starts from zero), then read once
  // more to send the final value up: 16 b each -> 16384 / 16384. The
  // global buffer receives 512 final outputs at 4 b.
  EXPECT_EQ(Traffic(c, "rf_16b_O", Operand::kO).write_bits, 16384);
  EXPECT_EQ(Traffic(c, "rf_16b_O", Operand::kO).read_bits, 16384);
  EXPECT_EQ(Traffic(c, "global_buffer", Operand::kO).write_bits, 2048);
  EXPECT_EQ(Traffic(c, "global_buffer", Operand::kO).read_bits, 0);
  // Energies in pJ from Table 1 (fJ/bit): local = W 512x(100+120) + I
  // 256x(100+120); sram = 768 x 130 + 2048 x 170; compute = 2048 MACs x 160.
  const double tol = 1e-9;
  EXPECT_NEAR(c.energy.local_pj, 168.96, tol);
  EXPECT_NEAR(c.energy.sram_pj, 448.0, tol);
  EXPECT_NEAR(c.energy.compute_pj, 327.68, tol);
  EXPECT_EQ(c.energy.dram_pj, 0);
  EXPECT_EQ(c.operations, 2048);
  EXPECT_FALSE(c.uses_sop);
  EXPECT_EQ(c.compute_cycles, 2);
  // Busiest ports: rf_16b_O 16384 b / (512 x 16 b), sram_32KB_W 512 / 256,
  // global buffer writes 2048 / 1024: all 2 cycles.
  EXPECT_EQ(c.memory_cycles, 2);
  EXPECT_EQ(c.latency_cycles, 2);
  EXPECT_DOUBLE_EQ(c.utilization, 1.0);
  EXPECT_EQ(c.mappings_evaluated, 1);
  for (bool d : c.dram_operands) EXPECT_FALSE(d);
}

// Linear layer K=64 C=2048 T=4 on a 32 KiB global buffer: W (64 x 2048 x
// 4 b = 524288 b) overflows and streams from DRAM; I (8192 b) and O (256 b)
// stay. Temporal loops: T4, C1024 (C2 spatial), K2 (K32 spatial).
class WeightsInDram : public ::testing::Test {
 protected:
  static ir::Layer Layer() {
    testing::ConvSpec s;
    s.T = 4;
    s.K = 64;
    s.C = 2048;
    s.OX = 1;
    ir::Layer l = MakeConv(s, "fc");
    l.op = ir::OpKind::kLinear;
    return l;
  }
  static constexpr int64_t kWeightBits = 64 * 2048 * 4;
  CostModel model_{MetaPrototype(32 * 1024), 0, {}};
};

TEST_F(WeightsInDram, TimeInnermostReadsEachWeightOnce) {
  // [T4, C1024, K2]: sram_32KB_W holds K32 x C2048 = 65536 weights (exactly
  // 32 KiB) below K2; that tile does not fit the 253696 b the GB has left,
  // so W bypasses the GB. DRAM refills it once per K2 iteration:
  // 65536 x 2 x 4 b = 524288 b = every weight once.
  auto c = model_.Evaluate(WholeLayerTile(Layer()),
                           {L(Dim::kT, 4), L(Dim::kC, 1024), L(Dim::kK, 2)});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->dram_operands[0]);
  EXPECT_FALSE(c->dram_operands[1] || c->dram_operands[2] || c->dram_operands[3]);
  EXPECT_EQ(c->dram_traffic[0].read_bits, kWeightBits);
  EXPECT_EQ(c->dram_traffic[0].write_bits, 0);
  EXPECT_NEAR(c->energy.dram_pj, kWeightBits * 11000.0 / 1000.0, 1e-6);
}

TEST_F(WeightsInDram, TimeOutermostRereadsWeightsEveryTimestep) {
  // [C1024, K2, T4]: sram_32KB_W keeps only C (K32 x C2048 = 65536); above
  // it K2 and T4 are both iterated (T is not directly above the cut, so it
  // gives no reuse): 65536 x 2 x 4 refills x 4 b = T x |W| bits.
  auto c = model_.Evaluate(WholeLayerTile(Layer()),
                           {L(Dim::kC, 1024), L(Dim::kK, 2), L(Dim::kT, 4)});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->dram_traffic[0].read_bits, 4 * kWeightBits);
}

TEST_F(WeightsInDram, SearchFindsTheSingleRead) {
  auto c = model_.Price(WholeLayerTile(Layer()));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ((*c)->dram_traffic[0].read_bits, kWeightBits);
  EXPECT_GT((*c)->mappings_evaluated, 1);
}

// Stateful 1x1 conv, T=4, K=32 C=2 OY=64 OX=16: 32768 neurons, 12-bit state.
class StateTraffic : public ::testing::Test {
 protected:
  static ir::Layer Layer() {
    testing::ConvSpec s;
    s.T = 4;
    s.OY = 64;
    s.mode = ir::NeuronMode::kStateful;
    return MakeConv(s, "lif");
  }
  static CostOptions Options(StateIo io) {
    CostOptions o;
    o.state_io = io;
    return o;
  }
  static constexpr int64_t kStates = 32 * 64 * 16;
  static constexpr int64_t kStateBits = 12;
};

TEST_F(StateTraffic, StaysOnChipWhenTimeIsBatched) {
  // 1 MiB: everything fits. The best order puts T directly above the
  // register, which keeps each neuron's state in rf_16b_O over all 4
  // timesteps: no state traffic at all with --state-io zero; with dram the
  // state is read once before t=0 and written once after t=3.
  for (StateIo io : {StateIo::kZero, StateIo::kDram}) {
    CostModel model(MetaPrototype(), 0, Options(io));
    auto c = model.Price(WholeLayerTile(Layer()));
    ASSERT_TRUE(c.ok()) << c.status();
    for (const OperandTraffic& t : (*c)->dram_traffic) {
      EXPECT_EQ(t.read_bits, 0);
      EXPECT_EQ(t.write_bits, 0);
    }
    const OperandTraffic& gb = Traffic(**c, "global_buffer", Operand::kS);
    int64_t once = io == StateIo::kZero ? 0 : kStates * kStateBits;
    EXPECT_EQ(gb.read_bits, once);
    EXPECT_EQ(gb.write_bits, once);
    // The spike output is written once per element (1 bit) into the GB.
    EXPECT_EQ(Traffic(**c, "global_buffer", Operand::kO).write_bits, 4 * kStates);
  }
}

TEST_F(StateTraffic, GoesToDramEveryTimestep) {
  // 32 KiB: S (393216 b) overflows. Order [OY64, T4]: the register holds
  // one state (OY is relevant right above it), the GB keeps 512 states
  // (the 32768 would need 393216 b > 122624 b left), and T is the
  // outermost loop: every state goes up and comes back between timesteps.
  // zero: no read before t=0, no write after t=3 -> 2 x states x 12 x 3;
  // dram: 2 x states x 12 x 4.
  for (StateIo io : {StateIo::kZero, StateIo::kDram}) {
    CostModel model(MetaPrototype(32 * 1024), 0, Options(io));
    auto c = model.Evaluate(WholeLayerTile(Layer()),
                            {L(Dim::kOY, 64), L(Dim::kT, 4)});
    ASSERT_TRUE(c.ok()) << c.status();
    ASSERT_TRUE(c->dram_operands[3]);
    int64_t steps = io == StateIo::kZero ? 4 - 1 : 4;
    const OperandTraffic& s = c->dram_traffic[3];
    EXPECT_EQ(s.read_bits + s.write_bits, 2 * kStates * kStateBits * steps);
    EXPECT_EQ(s.read_bits, s.write_bits);
  }
}

TEST_F(StateTraffic, SearchKeepsStateOnChipEvenWhenItOverflows) {
  // Same 32 KiB buffer, searched: T inside OY keeps states stationary in
  // the register, so the overflowing state never actually travels.
  CostModel model(MetaPrototype(32 * 1024), 0, Options(StateIo::kZero));
  auto c = model.Price(WholeLayerTile(Layer()));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE((*c)->dram_operands[3]);
  EXPECT_EQ((*c)->dram_traffic[3].read_bits, 0);
  EXPECT_EQ((*c)->dram_traffic[3].write_bits, 0);
}

TEST(HandComputed, TileEdgesDecideStateIo) {
  // A middle tile (neither first nor last timestep) reads and writes its
  // state even with --state-io zero; in the register it is 16 bit.
  testing::ConvSpec s;
  s.T = 4;
  s.mode = ir::NeuronMode::kStateful;
  ir::Layer layer = MakeConv(s);
  TileShape tile = WholeLayerTile(layer);
  tile.dims.T = 2;
  tile.starts_at_first_timestep = false;
  tile.ends_at_last_timestep = false;
  CostModel model(MetaPrototype(), 0, {});
  auto c = model.Price(tile);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(Traffic(**c, "global_buffer", Operand::kS).read_bits, 512 * 12);
  EXPECT_EQ(Traffic(**c, "global_buffer", Operand::kS).write_bits, 512 * 12);
  EXPECT_EQ(Traffic(**c, "rf_16b_O", Operand::kS).write_bits % 16, 0);
}

TEST(HandComputed, CacheIgnoresTheLayerName) {
  CostModel model(MetaPrototype(), 0, {});
  testing::ConvSpec s;
  auto a = model.Price(WholeLayerTile(MakeConv(s, "a")));
  auto b = model.Price(WholeLayerTile(MakeConv(s, "b")));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->get(), b->get());
  EXPECT_EQ(model.cache_hits(), 1);
  EXPECT_EQ(model.cache_misses(), 1);
  TileShape t = WholeLayerTile(MakeConv(s, "a"));
  t.density = 0.5;
  ASSERT_TRUE(model.Price(t).ok());
  EXPECT_EQ(model.cache_misses(), 2);
}

TEST(HandComputed, RejectsTilesThatSplitTheReduction) {
  CostModel model(MetaPrototype(), 0, {});
  testing::ConvSpec s;
  s.C = 4;
  TileShape t = WholeLayerTile(MakeConv(s));
  t.dims.C = 2;
  EXPECT_FALSE(model.Price(t).ok());
}

}  // namespace
}  // namespace snnplan::cost
