// Properties over many seeded random layers, and the meta-prototype's
// Table 1 energies in every breakdown.
#include <random>
#include <thread>

#include "gtest/gtest.h"
#include "snnplan/costmodel.h"
#include "test_util.h"

namespace snnplan::cost {
namespace {

using testing::MakeConv;
using testing::MetaPrototype;

constexpr int kLayers = 60;
constexpr uint32_t kSeed = 20240611;

// Small enough that the search stays exhaustive-ish and the suite fast.
CostOptions FastOptions() {
  CostOptions o;
  o.max_orderings = 2000;
  return o;
}

ir::Layer RandomLayer(std::mt19937& rng, int i) {
  auto pick = [&](std::initializer_list<int64_t> v) {
    std::uniform_int_distribution<size_t> d(0, v.size() - 1);
    return *(v.begin() + d(rng));
  };
  testing::ConvSpec s;
  s.T = pick({1, 2, 4, 8});
  s.K = pick({8, 16, 32, 48, 64, 128});
  s.C = pick({1, 2, 3, 8, 16, 64});
  s.OY = pick({1, 4, 8, 16, 20, 32});
  s.OX = pick({1, 4, 8, 16, 20, 32});
  s.FY = s.FX = pick({1, 3});
  s.pad = s.FY / 2;
  s.input_bits = static_cast<int>(pick({1, 1, 4}));
  s.mode = static_cast<ir::NeuronMode>(pick({0, 1, 1, 2}));
  return MakeConv(s, "layer" + std::to_string(i));
}

double Energy(CostModel& m, const TileShape& t) {
  auto c = m.Price(t);
  EXPECT_TRUE(c.ok()) << c.status();
  return c.ok() ? (*c)->energy.total_pj() : 0;
}

TEST(Properties, MoreOnChipMemoryNeverRaisesEnergy) {
  std::mt19937 rng(kSeed);
  CostModel small(MetaPrototype(16 * 1024), 0, FastOptions());
  CostModel medium(MetaPrototype(128 * 1024), 0, FastOptions());
  CostModel large(MetaPrototype(1024 * 1024), 0, FastOptions());
  for (int i = 0; i < kLayers; ++i) {
    TileShape t = WholeLayerTile(RandomLayer(rng, i));
    double es = Energy(small, t), em = Energy(medium, t), el = Energy(large, t);
    EXPECT_LE(em, es * (1 + testing::kRelTol)) << t.layer.name;
    EXPECT_LE(el, em * (1 + testing::kRelTol)) << t.layer.name;
  }
}

TEST(Properties, FourTimestepTileNeverCostsMoreThanFourSingleSteps) {
  std::mt19937 rng(kSeed + 1);
  CostModel model(MetaPrototype(), 0, FastOptions());
  int compared = 0;
  for (int i = 0; i < kLayers; ++i) {
    ir::Layer layer = RandomLayer(rng, i);
    layer.dims.T = 4;
    TileShape whole = WholeLayerTile(layer);
    auto batched = model.Price(whole);
    ASSERT_TRUE(batched.ok()) << batched.status();
    bool fits = true;
    for (bool d : (*batched)->dram_operands) fits = fits && !d;
    double singles = 0;
    for (int t = 0; t < 4; ++t) {
      TileShape step = whole;
      step.dims.T = 1;
      step.starts_at_first_timestep = t == 0;
      step.ends_at_last_timestep = t == 3;
      auto c = model.Price(step);
      ASSERT_TRUE(c.ok()) << c.status();
      for (bool d : (*c)->dram_operands) fits = fits && !d;
      singles += (*c)->energy.total_pj();
    }
    if (!fits) continue;
    ++compared;
    EXPECT_LE((*batched)->energy.total_pj(), singles * (1 + testing::kRelTol))
        << layer.name;
  }
  EXPECT_GT(compared, kLayers / 2);
}

TEST(Properties, RemovingTheStateNeverRaisesCost) {
  std::mt19937 rng(kSeed + 2);
  CostModel model(MetaPrototype(128 * 1024), 0, FastOptions());
  for (int i = 0; i < kLayers; ++i) {
    ir::Layer layer = RandomLayer(rng, i);
    layer.neuron.mode = ir::NeuronMode::kStateful;
    layer.neuron.states_per_neuron = 1;
    double stateful = Energy(model, WholeLayerTile(layer));
    layer.neuron.mode = ir::NeuronMode::kStateless;
    layer.neuron.states_per_neuron = 0;
    double stateless = Energy(model, WholeLayerTile(layer));
    EXPECT_LE(stateless, stateful * (1 + testing::kRelTol)) << layer.name;
  }
}

TEST(Properties, EnergyAtLeastOperationsTimesUnitEnergy) {
  std::mt19937 rng(kSeed + 3);
  CostModel model(MetaPrototype(128 * 1024), 0, FastOptions());
  for (int i = 0; i < kLayers; ++i) {
    TileShape t = WholeLayerTile(RandomLayer(rng, i));
    t.density = std::uniform_real_distribution<double>(0.05, 1.0)(rng);
    auto c = model.Price(t);
    ASSERT_TRUE(c.ok()) << c.status();
    double unit_fj = t.layer.uses_sop() ? 70 : 160;
    double dense_ops = static_cast<double>(t.layer.OpsPerStep() * t.dims.T);
    double ops = t.layer.uses_sop() ? dense_ops * t.density : dense_ops;
    EXPECT_NEAR((*c)->energy.compute_pj, ops * unit_fj / 1000,
                1e-9 * ops * unit_fj);
    EXPECT_GE((*c)->energy.total_pj(), ops * unit_fj / 1000 * (1 - 1e-12));
    EXPECT_EQ((*c)->operations, std::llround(ops));
  }
}

// Every breakdown is accesses x Table 1 (fJ/bit): DRAM 11000/12000, GB
// 130/170, the 32 KB and 16 KB SRAMs 100/120, registers 0; MAC 160, SOP 70.
TEST(Properties, MetaPrototypeEnergiesAreTable1) {
  std::mt19937 rng(kSeed + 4);
  CostModel model(MetaPrototype(64 * 1024), 0, FastOptions());
  struct Cost { double r, w; };
  auto table1 = [](const std::string& level) -> Cost {
    if (level == "dram") return {11000, 12000};
    if (level == "global_buffer") return {130, 170};
    if (level == "sram_32KB_W" || level == "sram_16KB_I") return {100, 120};
    return {0, 0};
  };
  for (int i = 0; i < kLayers; ++i) {
    TileShape t = WholeLayerTile(RandomLayer(rng, i));
    auto c = model.Price(t);
    ASSERT_TRUE(c.ok()) << c.status();
    EnergyBreakdown expect;
    expect.compute_pj = static_cast<double>((*c)->operations) *
                        ((*c)->uses_sop ? 70 : 160) / 1000;
    for (const LevelAccesses& a : (*c)->accesses) {
      Cost k = table1(a.memory);
      double pj = 0;
      for (const OperandTraffic& o : a.operand)
        pj += (o.read_bits * k.r + o.write_bits * k.w) / 1000;
      if (a.memory == "dram") expect.dram_pj += pj;
      else if (a.memory == "global_buffer") expect.sram_pj += pj;
      else expect.local_pj += pj;
    }
    const EnergyBreakdown& e = (*c)->energy;
    // Access bits are rounded to integers in the report: 1 bit of slack.
    EXPECT_NEAR(e.compute_pj, expect.compute_pj, 1e-6 * expect.compute_pj + 1);
    EXPECT_NEAR(e.local_pj, expect.local_pj, 1e-9 * expect.local_pj + 1);
    EXPECT_NEAR(e.sram_pj, expect.sram_pj, 1e-9 * expect.sram_pj + 1);
    EXPECT_NEAR(e.dram_pj, expect.dram_pj, 1e-9 * expect.dram_pj + 13);
  }
}

TEST(Properties, PriceIsDeterministicAndThreadSafe) {
  std::mt19937 rng(kSeed + 5);
  std::vector<TileShape> tiles;
  for (int i = 0; i < 8; ++i) tiles.push_back(WholeLayerTile(RandomLayer(rng, i)));
  CostModel a(MetaPrototype(), 0, FastOptions());
  CostModel b(MetaPrototype(), 0, FastOptions());
  std::vector<double> serial;
  for (const TileShape& t : tiles) serial.push_back(Energy(a, t));
  std::vector<std::thread> threads;
  std::vector<double> parallel(tiles.size() * 2);
  for (size_t i = 0; i < parallel.size(); ++i)
    threads.emplace_back([&, i] {
      auto c = b.Price(tiles[i % tiles.size()]);
      parallel[i] = c.ok() ? (*c)->energy.total_pj() : -1;
    });
  for (std::thread& t : threads) t.join();
  for (size_t i = 0; i < parallel.size(); ++i)
    EXPECT_EQ(parallel[i], serial[i % tiles.size()]);
}

}  // namespace
}  // namespace snnplan::cost
