// The manifest's `layers` (schema_version 3, docs/manifest.md) states the
// IR's geometry exactly: every layer's id, name, op, T, shape, weights,
// state, outputs, producers and per-input row window / time rule; and the
// manifest stays byte-deterministic.
#include "snnplan/importer.h"
#include "test_util.h"

namespace snnplan::validate::testing {
namespace {

using json = nlohmann::json;

void ExpectTableMatches(const ir::Workload& w, const json& m) {
  ASSERT_EQ(m["schema_version"], 4);
  const json& layers = m["layers"];
  ASSERT_EQ(layers.size(), w.layers.size());
  for (size_t i = 0; i < w.layers.size(); ++i) {
    const ir::Layer& l = w.layers[i];
    const json& j = layers[i];
    SCOPED_TRACE(l.name);
    EXPECT_EQ(j["id"], i);
    EXPECT_EQ(j["name"], l.name);
    EXPECT_EQ(j["kind"], std::string(ir::OpKindName(l.op)));
    EXPECT_EQ(j["block"], l.block);
    EXPECT_EQ(j["T"], l.dims.T);
    EXPECT_EQ(j["time"], l.op == ir::OpKind::kTimeMean ? "mean"
                         : l.dims.T == 1               ? "once"
                                                       : "per_step");
    EXPECT_EQ(j["shape"], json({{"K", l.dims.G * l.dims.K}, {"OY", l.dims.OY}, {"OX", l.dims.OX}}));
    EXPECT_EQ(j["weights"], l.WeightsUsed() > 0);
    EXPECT_EQ(j["stateful"], l.stateful());
    EXPECT_EQ(j["states"], l.stateful() ? l.neuron.states_per_neuron : 0);
    EXPECT_EQ(j["network_output"], l.network_output);
    ASSERT_EQ(j["inputs"].size(), l.inputs.size());
    std::vector<int> producers;
    bool network = false;
    for (size_t k = 0; k < l.inputs.size(); ++k) {
      const json& in = j["inputs"][k];
      const int p = l.inputs[k];
      if (p == ir::kNetworkInput) {
        network = true;
        EXPECT_TRUE(in["layer"].is_null());
        EXPECT_EQ(in["time"], l.op == ir::OpKind::kTimeMean ? "all" : "same");
        continue;
      }
      if (std::find(producers.begin(), producers.end(), p) == producers.end())
        producers.push_back(p);
      const ir::Layer& pl = w.layers[p];
      EXPECT_EQ(in["layer"], p);
      EXPECT_EQ(in["input_rows"], pl.dims.OY);
      const int64_t steps = pl.op == ir::OpKind::kTimeMean ? 1 : pl.dims.T;
      EXPECT_EQ(in["input_timesteps"], steps);
      const bool same = l.op != ir::OpKind::kTimeMean && steps != 1 && l.dims.T == steps;
      EXPECT_EQ(in["time"], same ? "same" : "all");
      if (l.op == ir::OpKind::kLinear || l.in_y != pl.dims.OY) {
        EXPECT_EQ(in["rows"], "all");
      } else {
        EXPECT_EQ(in["rows"]["kernel"], l.dims.FY);
        EXPECT_EQ(in["rows"]["stride"], l.window.stride_y);
        EXPECT_EQ(in["rows"]["dilation"], l.window.dilation_y);
        EXPECT_EQ(in["rows"]["padding"], json({l.window.pad_top, l.window.pad_bottom}));
      }
    }
    EXPECT_EQ(j["producers"], json(producers));
    EXPECT_EQ(j["reads_network_input"], network);
  }
}

TEST(LayersTable, TinyNetMatchesTheIr) {
  const ir::Workload w = TinyNet(3, 3);
  plan::Planner planner(w, MetaPrototype(256), plan::PlanOptions{});
  const json m = Plan(planner, "st-lf,tb-lf,tb-lbl");
  ASSERT_FALSE(m.is_null());
  ExpectTableMatches(w, m);
  // conv1x1 then two 3x3 pad-1 convs: the window the validator computes
  // receptive fields from.
  EXPECT_EQ(m["layers"][1]["inputs"][0]["rows"],
            json({{"kernel", 3}, {"stride", 1}, {"padding", {1, 1}}, {"dilation", 1}}));
  EXPECT_TRUE(m["layers"][0]["inputs"][0]["layer"].is_null());
  EXPECT_TRUE(m["layers"][0]["reads_network_input"].get<bool>());
  EXPECT_TRUE(m["layers"][2]["network_output"].get<bool>());
  EXPECT_TRUE(Check(m).empty()) << Join(Check(m));
}

TEST(LayersTable, Sew5MatchesTheIrAndIsDeterministic) {
  absl::StatusOr<ir::Workload> w = importer::ImportFile(
      std::string(SNNPLAN_SOURCE_DIR) + "/models/sj_sew5_T16_loop_op13.onnx", {});
  ASSERT_TRUE(w.ok()) << w.status();
  plan::Planner planner(*w, MetaPrototype(64 * 1024), plan::PlanOptions{});
  const ir::Workload& wl = planner.workload();
  absl::StatusOr<plan::Schedule> s = plan::ParseSchedule("tb-lbl", wl.num_blocks, wl.timesteps);
  ASSERT_TRUE(s.ok()) << s.status();
  std::string text[2];
  for (std::string& t : text) {
    auto p = planner.Run(*s);
    ASSERT_TRUE(p.ok()) << p.status();
    std::ostringstream out;
    plan::WriteManifest(**p, out);
    t = out.str();
  }
  EXPECT_EQ(text[0], text[1]);
  const json m = json::parse(text[0]);
  ExpectTableMatches(*w, m);
  // SEW joins read two producers; the classifier reads all rows of the
  // single (time-mean) output.
  int joins = 0, all_rows = 0;
  for (const json& l : m["layers"]) {
    joins += l["kind"] == "sew_add" && l["producers"].size() == 2;
    for (const json& in : l["inputs"]) all_rows += in["rows"] == "all";
  }
  EXPECT_GE(joins, 5);
  EXPECT_GE(all_rows, 1);
}

}  // namespace
}  // namespace snnplan::validate::testing
