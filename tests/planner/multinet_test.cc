// Several networks in one deployment (issue #19 part 3): importer::CombineWorkloads
// (ids, blocks, names, the shared input, each refusal) and planning the
// combined workload (per-network summary adding up to the totals, manifest
// sections), on tiny hand-made workloads.
#include <fstream>
#include <sstream>

#include "common/tiny_workloads.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "snnplan/importer.h"
#include "snnplan/planner.h"

namespace snnplan {
namespace {

using snnplan::testing::MetaPrototype;
using snnplan::testing::MetaPrototypeMesh;
using snnplan::testing::TwoLayerNet;
using ::testing::HasSubstr;

ir::Binding Bind(const std::string& name, ir::BindingKind kind, ir::BindingSteps steps,
                 std::vector<int64_t> shape, int layer) {
  ir::Binding b;
  b.name = name;
  b.kind = kind;
  b.steps = steps;
  b.shape = std::move(shape);
  b.layer = layer;
  return b;
}

// TwoLayerNet under another file name, with a state binding on its layer 1
// and an output binding, so remapped ids can be checked.
ir::Workload Net(const std::string& file) {
  ir::Workload w = TwoLayerNet();
  w.model_file = file;
  w.model_sha256 = std::string(64, file[0]);
  w.num_blocks = 2;
  w.layers[1].block = 1;
  w.layers[1].neuron.current_layers = {0};
  w.inputs.push_back(
      Bind("x", ir::BindingKind::kNetworkInput, ir::BindingSteps::kAll, {2, 2, 4, 4}, -1));
  ir::Binding state = Bind("mem1", ir::BindingKind::kState, ir::BindingSteps::kOne, {4, 4, 4}, 1);
  state.state = 0;
  w.inputs.push_back(state);
  w.outputs.push_back(
      Bind("spk", ir::BindingKind::kLayerOutput, ir::BindingSteps::kAll, {4, 4, 4}, 1));
  return w;
}

TEST(CombineWorkloads, ShiftsIdsBlocksAndPrefixesNames) {
  auto w = importer::CombineWorkloads({Net("a.onnx"), Net("b.onnx")});
  ASSERT_TRUE(w.ok()) << w.status();
  ASSERT_EQ(w->layers.size(), 4u);
  EXPECT_EQ(w->num_blocks, 4);
  EXPECT_EQ(w->layers[0].name, "a/c0");
  EXPECT_EQ(w->layers[3].name, "b/c1");
  // The second network's first layer reads the (shared) network input, its
  // second layer its own first layer, now id 2; blocks 2 and 3.
  EXPECT_EQ(w->layers[2].inputs, std::vector<int>{ir::kNetworkInput});
  EXPECT_EQ(w->layers[3].inputs, std::vector<int>{2});
  EXPECT_EQ(w->layers[3].neuron.current_layers, std::vector<int>{2});
  EXPECT_EQ(w->layers[2].block, 2);
  EXPECT_EQ(w->layers[3].block, 3);
  EXPECT_EQ(w->timesteps, 2);
  EXPECT_EQ(w->model_file, "a.onnx+b.onnx");
  EXPECT_EQ(w->model_sha256.size(), 64u);
  EXPECT_NE(w->model_sha256, std::string(64, 'a'));
}

TEST(CombineWorkloads, SharesOneNetworkInputAndKeepsOtherBindings) {
  auto w = importer::CombineWorkloads({Net("a.onnx"), Net("b.onnx")});
  ASSERT_TRUE(w.ok()) << w.status();
  int network_inputs = 0;
  for (const ir::Binding& b : w->inputs)
    if (b.kind == ir::BindingKind::kNetworkInput) {
      ++network_inputs;
      EXPECT_EQ(b.name, "a/x");
    }
  EXPECT_EQ(network_inputs, 1);
  ASSERT_EQ(w->inputs.size(), 3u);  // a/x, a/mem1, b/mem1
  EXPECT_EQ(w->inputs[2].name, "b/mem1");
  EXPECT_EQ(w->inputs[2].layer, 3);
  ASSERT_EQ(w->outputs.size(), 2u);
  EXPECT_EQ(w->outputs[1].name, "b/spk");
  EXPECT_EQ(w->outputs[1].layer, 3);
}

TEST(CombineWorkloads, RecordsNetworksAndMakesNamesUnique) {
  auto w = importer::CombineWorkloads({Net("m.onnx"), Net("n.onnx"), Net("m.onnx")});
  ASSERT_TRUE(w.ok()) << w.status();
  ASSERT_EQ(w->networks.size(), 3u);
  EXPECT_EQ(w->networks[0].name, "m");
  EXPECT_EQ(w->networks[2].name, "m_2");
  EXPECT_EQ(w->layers[4].name, "m_2/c0");
  EXPECT_EQ(w->networks[1].file, "n.onnx");
  EXPECT_EQ(w->networks[1].sha256, std::string(64, 'n'));
  EXPECT_EQ(w->networks[1].first_layer, 2);
  EXPECT_EQ(w->networks[1].end_layer, 4);
  EXPECT_EQ(w->networks[2].first_block, 4);
  EXPECT_EQ(w->networks[2].end_block, 6);
  EXPECT_FALSE(w->networks[0].shares_input);
  EXPECT_TRUE(w->networks[1].shares_input);
}

TEST(CombineWorkloads, RefusesOneModel) {
  auto w = importer::CombineWorkloads({Net("a.onnx")});
  ASSERT_FALSE(w.ok());
  EXPECT_THAT(w.status().message(), HasSubstr("at least two"));
}

TEST(CombineWorkloads, RefusesDifferentTimestepsNamingBothFiles) {
  ir::Workload b = Net("b.onnx");
  b.timesteps = 4;
  auto w = importer::CombineWorkloads({Net("a.onnx"), b});
  ASSERT_FALSE(w.ok());
  EXPECT_THAT(w.status().message(), HasSubstr("a.onnx has T=2"));
  EXPECT_THAT(w.status().message(), HasSubstr("b.onnx has T=4"));
}

TEST(CombineWorkloads, RefusesDifferentBatch) {
  ir::Workload b = Net("b.onnx");
  b.batch = 3;
  auto w = importer::CombineWorkloads({Net("a.onnx"), b});
  ASSERT_FALSE(w.ok());
  EXPECT_THAT(w.status().message(), HasSubstr("b.onnx has batch 3"));
}

TEST(CombineWorkloads, RefusesDifferentTimeLayout) {
  ir::Workload b = Net("b.onnx");
  b.time_in_graph = true;
  auto w = importer::CombineWorkloads({Net("a.onnx"), b});
  ASSERT_FALSE(w.ok());
  EXPECT_THAT(w.status().message(), HasSubstr("b.onnx holds all T steps"));
}

TEST(CombineWorkloads, RefusesDifferentDt) {
  ir::Workload b = Net("b.onnx");
  b.dt_seconds = 1e-3;
  auto w = importer::CombineWorkloads({Net("a.onnx"), b});
  ASSERT_FALSE(w.ok());
  EXPECT_THAT(w.status().message(), HasSubstr("--dt"));
}

TEST(CombineWorkloads, RefusesDifferentInputGeometry) {
  ir::Workload b = Net("b.onnx");
  b.layers[0].dims.C = 3;  // reads 3 channels
  auto w = importer::CombineWorkloads({Net("a.onnx"), b});
  ASSERT_FALSE(w.ok());
  EXPECT_THAT(w.status().message(), HasSubstr("a.onnx reads 2x4x4"));
  EXPECT_THAT(w.status().message(), HasSubstr("b.onnx reads 3x4x4"));
}

TEST(CombineWorkloads, RefusesDifferentInputBits) {
  ir::Workload b = Net("b.onnx");
  b.layers[0].precision.input_bits = 8;
  auto w = importer::CombineWorkloads({Net("a.onnx"), b});
  ASSERT_FALSE(w.ok());
  EXPECT_THAT(w.status().message(), HasSubstr("at 8 bit(s)"));
}

TEST(CombineWorkloads, RefusesDifferentDeclaredInputShapes) {
  ir::Workload b = Net("b.onnx");
  b.inputs[0].shape = {2, 1, 2, 4, 4};
  auto w = importer::CombineWorkloads({Net("a.onnx"), b});
  ASSERT_FALSE(w.ok());
  EXPECT_THAT(w.status().message(), HasSubstr("[2,1,2,4,4]"));
}

TEST(CombineWorkloads, RefusesCombiningACombination) {
  auto ab = importer::CombineWorkloads({Net("a.onnx"), Net("b.onnx")});
  ASSERT_TRUE(ab.ok());
  auto w = importer::CombineWorkloads({Net("c.onnx"), *ab});
  ASSERT_FALSE(w.ok());
  EXPECT_THAT(w.status().message(), HasSubstr("already a combination"));
}

// The team fixtures (tools/fixtures/make_team.py): per network, the neurons
// and weight elements PyTorch counted, against the combined workload's
// layer ranges.
TEST(CombineWorkloads, TeamFixturesKeepEachNetworksNeuronsAndWeights) {
  const std::string dir = std::string(SNNPLAN_SOURCE_DIR) + "/models/team/";
  std::ifstream in(dir + "team.facts.json");
  ASSERT_TRUE(in.good());
  const nlohmann::json facts = nlohmann::json::parse(in);
  const std::vector<std::string> names = {"narrow1", "narrow2", "deep3", "narrow4"};
  std::vector<ir::Workload> parts;
  for (const std::string& n : names) {
    auto w = importer::ImportFile(dir + n + ".onnx", importer::ImportOptions{});
    ASSERT_TRUE(w.ok()) << w.status();
    parts.push_back(*std::move(w));
  }
  auto w = importer::CombineWorkloads(std::move(parts));
  ASSERT_TRUE(w.ok()) << w.status();
  ASSERT_EQ(w->networks.size(), names.size());
  EXPECT_EQ(w->timesteps, facts["timesteps"].get<int64_t>());
  int64_t all_weights = 0;
  for (size_t k = 0; k < names.size(); ++k) {
    const ir::Network& net = w->networks[k];
    const nlohmann::json& f = facts["networks"][names[k]];
    EXPECT_EQ(net.name, names[k]);
    int64_t neurons = 0, weights = 0;
    for (int l = net.first_layer; l < net.end_layer; ++l) {
      const ir::Layer& layer = w->layers[l];
      EXPECT_EQ(layer.name.rfind(names[k] + "/", 0), 0u) << layer.name;
      EXPECT_GE(layer.block, net.first_block);
      EXPECT_LT(layer.block, net.end_block);
      if (layer.stateful()) neurons += layer.OutputElementsPerStep();
      weights += layer.WeightsUsed();
    }
    EXPECT_EQ(neurons, f["neurons"].get<int64_t>()) << names[k];
    EXPECT_EQ(weights, f["weight_elements"].get<int64_t>()) << names[k];
    all_weights += weights;
  }
  EXPECT_EQ(w->TotalWeightsUsed(), all_weights);
}

nlohmann::json PlanJson(const ir::Workload& w, const hw::Hardware& hw,
                        const plan::CoreAllocation& a, plan::Summary* summary) {
  plan::Planner planner(w, hw, plan::PlanOptions{});
  auto p = planner.Run(*plan::ParseSchedule("tb-lbl", w.num_blocks, w.timesteps), a);
  EXPECT_TRUE(p.ok()) << p.status();
  if (!p.ok()) return {};
  *summary = plan::GetSummary(**p);
  std::ostringstream out;
  plan::WriteManifest(**p, out);
  return nlohmann::json::parse(out.str());
}

TEST(MultiNetPlan, PerNetworkSummaryAddsUpToTheTotals) {
  auto w = importer::CombineWorkloads({Net("a.onnx"), Net("b.onnx")});
  ASSERT_TRUE(w.ok());
  plan::Summary s;
  nlohmann::json m = PlanJson(*w, MetaPrototype(1024), {}, &s);
  ASSERT_FALSE(m.is_null());
  ASSERT_EQ(s.networks.size(), 2u);
  double energy = s.shared_input.energy.total_pj();
  int64_t dram = s.shared_input.dram.total();
  int64_t tiles = 0;
  for (const plan::Summary::NetworkUse& u : s.networks) {
    EXPECT_GT(u.energy.total_pj(), 0);
    EXPECT_GT(u.dram.total(), 0);  // each loads its own weights
    energy += u.energy.total_pj();
    dram += u.dram.total();
    tiles += u.tiles;
  }
  EXPECT_GT(s.shared_input.dram.total(), 0);  // the input is loaded once, for both
  EXPECT_NEAR(energy, s.energy.total_pj(), 1e-9 * s.energy.total_pj());
  EXPECT_EQ(dram, s.dram.total());
  EXPECT_EQ(tiles, s.tiles);
  // Two identical networks on one core, one after the other: the same
  // compute, and the second finishes after the first.
  EXPECT_EQ(s.networks[0].busy_cycles, s.networks[1].busy_cycles);
  EXPECT_LE(s.networks[0].end_cycle, s.networks[1].start_cycle);
  // The manifest says it.
  ASSERT_EQ(m["model"]["networks"].size(), 2u);
  EXPECT_EQ(m["model"]["networks"][1]["name"], "b");
  EXPECT_EQ(m["model"]["networks"][1]["layers"], nlohmann::json({2, 4}));
  EXPECT_EQ(m["model"]["networks"][1]["input"], "shared");
  ASSERT_EQ(m["summary"]["by_network"].size(), 2u);
  EXPECT_EQ(m["summary"]["by_network"][0]["network"], "a");
  EXPECT_EQ(m["summary"]["by_network"][0]["dram_bytes"]["total"], s.networks[0].dram.total());
  EXPECT_TRUE(m["summary"].contains("shared_input"));
}

TEST(MultiNetPlan, SpreadOverCoresRunsTheNetworksSideBySide) {
  auto w = importer::CombineWorkloads({Net("a.onnx"), Net("b.onnx")});
  ASSERT_TRUE(w.ok());
  plan::Summary seq, spread;
  PlanJson(*w, MetaPrototypeMesh(2, 2, 1024), {}, &seq);
  nlohmann::json m = PlanJson(*w, MetaPrototypeMesh(2, 2, 1024), {{0, 0, 1, 1}}, &spread);
  ASSERT_FALSE(m.is_null());
  for (const auto& t : m["tiles"])
    EXPECT_EQ(t["core"], t["layer"].get<std::string>().rfind("a/", 0) == 0 ? 0 : 1);
  // On two cores network b no longer waits for a to finish.
  EXPECT_LT(spread.networks[1].start_cycle, spread.networks[0].end_cycle);
  EXPECT_LT(spread.latency_cycles, seq.latency_cycles);
  // The input is read from DRAM once, then copied to core 1 over the NoC.
  EXPECT_GT(spread.shared_input.noc_bytes, 0);
  EXPECT_EQ(spread.shared_input.dram.total(), seq.shared_input.dram.total());
}

TEST(MultiNetPlan, OneModelManifestHasNoNetworkSections) {
  plan::Summary s;
  nlohmann::json m = PlanJson(Net("a.onnx"), MetaPrototype(1024), {}, &s);
  ASSERT_FALSE(m.is_null());
  EXPECT_TRUE(s.networks.empty());
  EXPECT_FALSE(m["model"].contains("networks"));
  EXPECT_FALSE(m["summary"].contains("by_network"));
  EXPECT_FALSE(m["summary"].contains("shared_input"));
}

}  // namespace
}  // namespace snnplan
