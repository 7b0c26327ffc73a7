// Recurrence (a delayed edge: step t reads the producer's step t-1) through
// planner, manifest and validator: every schedule kind plans a recurrent
// cycle one timestep at a time, its manifests validate clean, each tile of
// the recurrent layer reads the previous step's spikes, and a manifest that
// loses that read or dates it wrong is rejected.
#include <map>

#include "test_util.h"

namespace snnplan::validate::testing {
namespace {

// input 2x4x4 -> c0 conv1x1 2->4 -> lif = c0 + rec (LIF) -> out conv3x3 (LIF);
// rec = conv3x3 4->4 on lif's previous step. Layer order: c0, rec, lif, out.
ir::Workload RecurrentNet(int64_t T) {
  ir::Workload w;
  w.model_file = "recurrent.onnx";
  w.timesteps = T;
  w.num_blocks = 1;
  w.layers.push_back(Conv("c0", {ir::kNetworkInput}, 4, 2, 4, 1, 0, false, 4, 0));
  w.layers.back().precision.output_bits = 8;
  w.layers.push_back(Conv("rec", {2}, 4, 4, 4, 3, 1, false, 1, 0));
  w.layers.back().input_delayed = {1};
  w.layers.back().precision.output_bits = 8;
  ir::Layer lif = Conv("lif", {0, 1}, 4, 4, 4, 1, 0, true, 8, 0);
  lif.op = ir::OpKind::kAdd;
  lif.dims.C = 1;
  lif.weight_elements = 0;
  lif.neuron.current_layers = {0, 1};
  w.layers.push_back(lif);
  w.layers.push_back(Conv("out", {2}, 4, 4, 4, 3, 1, true, 1, 0));
  w.layers.back().network_output = true;
  for (ir::Layer& l : w.layers) l.dims.T = T;
  return w;
}

constexpr const char* kSchedules[] = {"st-lbl", "st-lf", "tb-lbl", "tb-lf", "tb2-lbl", "tb2-lf"};

TEST(Recurrence, RecurrentLayersAreTheCycle) {
  const std::vector<bool> rec = ir::RecurrentLayers(RecurrentNet(4));
  EXPECT_EQ(rec, (std::vector<bool>{false, true, true, false}));
  // A delayed read of an earlier layer closes no cycle.
  ir::Workload w = RecurrentNet(4);
  w.layers[1].inputs = {0};
  EXPECT_EQ(ir::RecurrentLayers(w), std::vector<bool>(4, false));
}

TEST(Recurrence, EveryScheduleValidatesClean) {
  int planned = 0;
  for (int64_t sram : {256, 1024, 65536})
    for (cost::StateIo io : {cost::StateIo::kZero, cost::StateIo::kDram})
      for (plan::Eviction ev : {plan::Eviction::kStems, plan::Eviction::kBelady})
        for (const char* spec : kSchedules) {
          plan::PlanOptions o;
          o.state_io = io;
          o.eviction = ev;
          plan::Planner planner(RecurrentNet(4), MetaPrototype(sram), o);
          SCOPED_TRACE(::testing::Message() << spec << " @" << sram << "B");
          const nlohmann::json m = Plan(planner, spec);
          if (m.is_null()) continue;
          ++planned;
          std::vector<Violation> v = Check(m);
          EXPECT_TRUE(v.empty()) << Join(v);
        }
  EXPECT_EQ(planned, 3 * 2 * 2 * 6);
}

// The piece each allocation holds, by allocation id.
std::map<int64_t, nlohmann::json> Holds(const nlohmann::json& m) {
  std::map<int64_t, nlohmann::json> out;
  for (const auto& a : m["allocations"]) out[a["id"].get<int64_t>()] = a["holds"];
  return out;
}

TEST(Recurrence, CycleRunsOneStepPerTileAndReadsThePreviousStep) {
  for (const char* spec : kSchedules) {
    SCOPED_TRACE(spec);
    plan::Planner planner(RecurrentNet(4), MetaPrototype(65536), plan::PlanOptions{});
    const nlohmann::json m = Plan(planner, spec);
    ASSERT_FALSE(m.is_null());
    const auto holds = Holds(m);
    const bool batched = std::string(spec).rfind("tb", 0) == 0;
    bool c0_batched = false;
    int rec_tiles = 0;
    for (const auto& t : m["tiles"]) {
      const std::string layer = t["layer"];
      const int64_t t0 = t["t"][0], t1 = t["t"][1];
      if (layer == "c0" && t1 - t0 > 1) c0_batched = true;
      if (layer != "rec" && layer != "lif") continue;
      EXPECT_EQ(t1 - t0, 1) << layer << " tile " << t["id"];
      if (layer != "rec") continue;
      ++rec_tiles;
      // Its reads of lif's output: steps t0 - 1 only (none at step 0).
      std::set<int64_t> steps;
      for (const auto& a : t["reads"]) {
        const nlohmann::json& h = holds.at(a.get<int64_t>());
        if (h["kind"] == "feature" && h["layer"] == "lif")
          for (int64_t s = h["t"][0]; s < h["t"][1]; ++s) steps.insert(s);
      }
      EXPECT_EQ(steps, t0 == 0 ? std::set<int64_t>{} : std::set<int64_t>{t0 - 1}) << t["id"];
    }
    EXPECT_GE(rec_tiles, 4);
    EXPECT_EQ(c0_batched, batched) << "layers off the cycle keep their block's time batching";
  }
}

// The recurrent weights are priced like any layer's: the plan reads them
// from DRAM. Weights at 4 bits: c0 2x4 (4 B), rec 3x3x4x4 (72 B), out
// 3x3x4x4 (72 B).
TEST(Recurrence, RecurrentWeightsAreLoaded) {
  for (const char* spec : kSchedules) {
    SCOPED_TRACE(spec);
    plan::Planner planner(RecurrentNet(4), MetaPrototype(65536), plan::PlanOptions{});
    absl::StatusOr<plan::Schedule> s = plan::ParseSchedule(spec, 1, 4);
    ASSERT_TRUE(s.ok()) << s.status();
    auto p = planner.Run(*s);
    ASSERT_TRUE(p.ok()) << p.status();
    EXPECT_GE(plan::GetSummary(**p).dram.read[static_cast<int>(ir::Operand::kW)], 4 + 72 + 72);
  }
}

TEST(Recurrence, LayerTableStatesThePreviousStep) {
  plan::Planner planner(RecurrentNet(4), MetaPrototype(65536), plan::PlanOptions{});
  const nlohmann::json m = Plan(planner, "st-lbl");
  ASSERT_FALSE(m.is_null());
  const nlohmann::json& rec = m["layers"][1];
  ASSERT_EQ(rec["name"], "rec");
  EXPECT_EQ(rec["inputs"][0]["time"], "previous");
  EXPECT_EQ(rec["inputs"][0]["layer"], 2);
  EXPECT_EQ(m["layers"][2]["inputs"][1]["time"], "same");
}

TEST(Recurrence, ManifestThatDatesTheRecurrentReadWrongIsRejected) {
  plan::Planner planner(RecurrentNet(4), MetaPrototype(65536), plan::PlanOptions{});
  nlohmann::json m = Plan(planner, "st-lbl");
  ASSERT_FALSE(m.is_null());
  m["layers"][1]["inputs"][0]["time"] = "same";  // rec would read lif's own step: a later layer
  EXPECT_TRUE(HasViolation(Check(m), "layers.table", "reads layer 2, not an earlier layer"));
}

TEST(Recurrence, TileThatLosesThePreviousSpikesIsRejected) {
  plan::Planner planner(RecurrentNet(4), MetaPrototype(65536), plan::PlanOptions{});
  nlohmann::json m = Plan(planner, "st-lbl");
  ASSERT_FALSE(m.is_null());
  const auto holds = Holds(m);
  std::string victim;
  for (auto& t : m["tiles"]) {
    if (t["layer"] != "rec" || t["t"][0] != 2) continue;
    nlohmann::json kept = nlohmann::json::array();
    for (const auto& a : t["reads"])
      if (holds.at(a.get<int64_t>())["layer"] != "lif") kept.push_back(a);
    ASSERT_LT(kept.size(), t["reads"].size());
    t["reads"] = kept;
    victim = t["id"];
  }
  ASSERT_FALSE(victim.empty());
  EXPECT_TRUE(HasViolation(Check(m), "tile.receptive_field", victim));
}

}  // namespace
}  // namespace snnplan::validate::testing
