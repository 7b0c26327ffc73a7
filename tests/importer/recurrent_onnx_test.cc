// Recurrent connections in ONNX exports (docs/importer.md#recurrent-connections):
// a conv or linear layer on a neuron's spikes of the previous step becomes a
// delayed edge, in unrolled and single-step forms; a linear layer over a
// feature Concat is split into one linear layer per part. Each rule has a
// positive case and one negative case per guard, on tiny graphs.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tiny_nets.h"

namespace snnplan::testing {
namespace {

using ::testing::HasSubstr;

// The layer whose name contains `part`, or -1.
int LayerNamed(const ir::Workload& w, const std::string& part) {
  for (size_t i = 0; i < w.layers.size(); ++i)
    if (w.layers[i].name.find(part) != std::string::npos) return static_cast<int>(i);
  return -1;
}

const ir::Binding* InputNamed(const ir::Workload& w, const std::string& name) {
  for (const ir::Binding& b : w.inputs)
    if (b.name == name) return &b;
  return nullptr;
}

// 1x1 conv 3 -> 3 with weights "R" (the recurrent weights).
std::string RecurrentConv(GraphBuilder& b, const std::string& spikes) {
  bool have = false;
  for (const auto& i : b.graph()->initializer()) have |= i.name() == "R";
  if (!have) b.Fill("R", {3, 3, 1, 1}, 0.25f);
  return b.Op("Conv", {spikes, "R"}, b.Fresh("rec"));
}

// snnTorch RLeaky single step: forward(x, spk, mem) -> (spk, mem), the
// current conv(x) + R(spk). `spk_shape` is the shape of the spk input.
GraphBuilder RLeakyStepNet(const std::vector<int64_t>& spk_shape, bool spk_read_elsewhere = false) {
  GraphBuilder b;
  std::string x = b.Input("x", {1, 2, 4, 4});
  std::string spk = b.Input("spk", spk_shape);
  std::string mem = b.Input("mem", {1, 3, 4, 4});
  b.Init("beta", {}, {0.9f});
  b.Init("thr", {}, {1.0f});
  std::string rec;
  if (spk_shape[1] == 3) {
    rec = RecurrentConv(b, spk);
  } else {
    b.Fill("R2", {3, spk_shape[1], 1, 1}, 0.25f);
    rec = b.Op("Conv", {spk, "R2"}, "rec_other");
  }
  std::string cur = b.Op("Add", {TinyConv(b, x), rec});
  Lif l = SnnTorchLeaky(b, cur, mem, Reset::kSubtract, "beta", "thr");
  b.Output(l.spike);
  b.Output(l.mem_out);
  if (spk_read_elsewhere) {
    b.Fill("Q", {3, 3, 1, 1}, 0.5f);
    b.Output(b.Op("Conv", {spk, "Q"}, "other_reader"));
  }
  return b;
}

TEST(RecurrentStep, SpikeInputFeedingItsOwnNeuronIsTheDelayedEdge) {
  GraphBuilder b = RLeakyStepNet({1, 3, 4, 4});
  absl::StatusOr<ir::Workload> w = Import(b, Steps(3));
  ASSERT_TRUE(w.ok()) << w.status();
  // conv, the recurrent conv, and the add carrying the neuron
  ASSERT_EQ(w->layers.size(), 3u);
  const int rec = LayerNamed(*w, "rec");
  ASSERT_GE(rec, 0);
  const ir::Layer& r = w->layers[rec];
  int host = -1;
  for (size_t i = 0; i < w->layers.size(); ++i)
    if (w->layers[i].spiking()) host = static_cast<int>(i);
  ASSERT_GE(host, 0);
  EXPECT_EQ(w->layers[host].op, ir::OpKind::kAdd);
  ASSERT_EQ(r.inputs.size(), 1u);
  EXPECT_EQ(r.inputs[0], host);
  EXPECT_TRUE(r.delayed(0));
  EXPECT_EQ(r.weight_elements, 9);
  EXPECT_EQ(r.dims.T, 3);
  const ir::Binding* spk = InputNamed(*w, "spk");
  ASSERT_NE(spk, nullptr);
  EXPECT_EQ(spk->kind, ir::BindingKind::kPreviousOutput);
  EXPECT_EQ(spk->layer, host);
  std::vector<bool> cycle = ir::RecurrentLayers(*w);
  EXPECT_TRUE(cycle[rec]);
  EXPECT_TRUE(cycle[host]);
}

// Guard: the input must have the shape of the neuron's spikes.
TEST(RecurrentStep, NegativeInputOfAnotherShapeIsANetworkInput) {
  GraphBuilder b = RLeakyStepNet({1, 2, 4, 4});
  absl::StatusOr<ir::Workload> w = Import(b, Steps(3));
  ASSERT_TRUE(w.ok()) << w.status();
  for (const ir::Layer& l : w->layers) EXPECT_FALSE(l.has_delayed_input()) << l.name;
  const ir::Binding* spk = InputNamed(*w, "spk");
  ASSERT_NE(spk, nullptr);
  EXPECT_EQ(spk->kind, ir::BindingKind::kNetworkInput);
}

// Guard: it must feed only layers summed into that neuron's current.
TEST(RecurrentStep, NegativeInputAlsoReadElsewhereIsANetworkInput) {
  GraphBuilder b = RLeakyStepNet({1, 3, 4, 4}, true);
  absl::StatusOr<ir::Workload> w = Import(b, Steps(3));
  ASSERT_TRUE(w.ok()) << w.status();
  for (const ir::Layer& l : w->layers) EXPECT_FALSE(l.has_delayed_input()) << l.name;
  EXPECT_EQ(InputNamed(*w, "spk")->kind, ir::BindingKind::kNetworkInput);
}

// snnTorch RLeaky(all_to_all=False) single step: forward(x, spk, mem) ->
// (spk, mem), the membrane adding V * spk (no weighted layer). `direct`:
// the current is a graph input instead of conv(x). `reversed`: the outputs
// are declared (mem, spk) against the inputs' (spk, mem).
GraphBuilder RLeakyOneToOneStepNet(bool direct = false, bool reversed = false) {
  GraphBuilder b;
  std::string x =
      b.Input("x", direct ? std::vector<int64_t>{1, 3, 4, 4} : std::vector<int64_t>{1, 2, 4, 4});
  std::string spk = b.Input("spk", {1, 3, 4, 4});
  std::string mem = b.Input("mem", {1, 3, 4, 4});
  b.Init("beta", {}, {0.9f});
  b.Init("thr", {}, {1.0f});
  b.Fill("V", {1, 3, 4, 4}, 0.3f);
  std::string cur = b.Op("Add", {direct ? x : TinyConv(b, x), b.Op("Mul", {spk, "V"})});
  Lif l = SnnTorchLeaky(b, cur, mem, Reset::kSubtract, "beta", "thr");
  if (reversed) b.Output(l.mem_out);
  b.Output(l.spike);
  if (!reversed) b.Output(l.mem_out);
  return b;
}

TEST(RecurrentOneToOneStep, SpikeInputIsAStateWhoseNextValueIsTheSpikes) {
  GraphBuilder b = RLeakyOneToOneStepNet();
  absl::StatusOr<ir::Workload> w = Import(b, Steps(3));
  ASSERT_TRUE(w.ok()) << w.status();
  const ir::Binding* spk = InputNamed(*w, "spk");
  const ir::Binding* mem = InputNamed(*w, "mem");
  ASSERT_NE(spk, nullptr);
  ASSERT_NE(mem, nullptr);
  ASSERT_EQ(spk->kind, ir::BindingKind::kState);
  ASSERT_EQ(mem->kind, ir::BindingKind::kState);
  EXPECT_EQ(spk->layer, mem->layer);
  const ir::NeuronDynamics& d = w->layers[spk->layer].neuron.dynamics;
  ASSERT_EQ(d.states, 2);
  // spk's next value is the spike output: gates only, no state or current.
  for (const ir::NeuronTerm& t : d.next[spk->state]) {
    EXPECT_EQ(t.var, -1);
    EXPECT_NE(t.gates, 0u);
  }
  // mem decays by beta and is what the reset threshold test compares.
  EXPECT_TRUE(std::any_of(
      d.next[mem->state].begin(), d.next[mem->state].end(), [&](const ir::NeuronTerm& t) {
        return t.var == mem->state && t.gates == 0 && std::abs(t.coef.value - 0.9) < 1e-6;
      }));
  // V * spk enters the membrane with V = 0.3.
  EXPECT_TRUE(std::any_of(d.next[mem->state].begin(), d.next[mem->state].end(),
                          [&](const ir::NeuronTerm& t) {
                            return t.var == spk->state && std::abs(t.coef.value - 0.3) < 1e-6;
                          }));
  for (const ir::Layer& l : w->layers) EXPECT_FALSE(l.has_delayed_input()) << l.name;
}

// Guard: the neuron must keep a current from a layer; a graph input read
// directly is not taken for previous spikes (and is refused as ever).
TEST(RecurrentOneToOneStep, NegativeNoLayerCurrentIsRefused) {
  GraphBuilder b = RLeakyOneToOneStepNet(/*direct=*/true);
  absl::StatusOr<ir::Workload> w = Import(b, Steps(3));
  ASSERT_FALSE(w.ok());
  EXPECT_THAT(std::string(w.status().message()), HasSubstr("network input directly"));
}

// Guard: a membrane (an input a threshold test reads alone) never takes the
// spike output, whatever the declaration order says: refused, not misread.
TEST(RecurrentOneToOneStep, NegativeMembraneNeverPairsWithSpikes) {
  GraphBuilder b = RLeakyOneToOneStepNet(false, /*reversed=*/true);
  absl::StatusOr<ir::Workload> w = Import(b, Steps(3));
  ASSERT_FALSE(w.ok()) << "imported with spk and mem paired against their meaning";
  EXPECT_THAT(std::string(w.status().message()), HasSubstr("in the same order"));
}

// Two unrolled RLeaky steps: t = 0 applies R to a constant (`initial`
// everywhere: zeros when no spike precedes step 0), t = 1 to the spikes of t = 0.
GraphBuilder RLeakyUnrolled(float initial) {
  GraphBuilder b;
  std::string x = b.Input("x", {2, 1, 2, 4, 4});
  b.Init("beta", {}, {0.9f});
  b.Init("thr", {}, {1.0f});
  std::string clip = b.Op("Clip", {"beta", b.Const(0.0f), b.Const(1.0f)});
  b.Fill("zeros", {1, 3, 4, 4}, 0.0f);
  b.Fill("spk0", {1, 3, 4, 4}, initial);
  auto step_input = [&](int t) {
    onnx::NodeProto* g = b.Node("Gather", {x, b.Ints(b.Fresh("idx"), {t})});
    return b.Op("Squeeze", {g->output(0), b.Ints(b.Fresh("ax"), {0})});
  };
  std::string cur0 = b.Op("Add", {TinyConv(b, step_input(0)), RecurrentConv(b, "spk0")});
  std::string m0 = b.Op("Sub", {b.Op("Add", {b.Op("Mul", {clip, "zeros"}), cur0}),
                                b.Fill("zero_reset", {1, 3, 4, 4}, 0.0f)});
  std::string s0 = b.Op("Mul", {b.Fire("Greater", b.Op("Sub", {m0, "thr"}), b.Const(0.0f)), "thr"});
  std::string cur1 = b.Op("Add", {TinyConv(b, step_input(1)), RecurrentConv(b, s0)});
  Lif l1 = SnnTorchLeaky(b, cur1, m0, Reset::kSubtract, "beta", "thr");
  std::vector<std::string> stacked;
  for (const auto& s : {s0, l1.spike})
    stacked.push_back(b.Op("Unsqueeze", {s, b.Ints(b.Fresh("ax"), {0})}));
  onnx::NodeProto* cat = b.Node("Concat", stacked);
  GraphBuilder::AttrInt(cat, "axis", 0);
  b.Output(cat->output(0), 5);
  return b;
}

TEST(RecurrentUnrolled, StepZeroOnZerosAndLaterStepsAreOneDelayedLayer) {
  GraphBuilder b = RLeakyUnrolled(0.0f);
  absl::StatusOr<ir::Workload> w = Import(b);
  ASSERT_TRUE(w.ok()) << w.status();
  ASSERT_EQ(w->layers.size(), 3u);  // both copies of the conv and of R share weights
  EXPECT_EQ(w->timesteps, 2);
  int rec = -1, host = -1;
  for (size_t i = 0; i < w->layers.size(); ++i) {
    if (w->layers[i].has_delayed_input()) rec = static_cast<int>(i);
    if (w->layers[i].spiking()) host = static_cast<int>(i);
  }
  ASSERT_GE(rec, 0);
  ASSERT_GE(host, 0);
  EXPECT_EQ(w->layers[rec].inputs, std::vector<int>{host});
  EXPECT_EQ(w->layers[rec].weight_elements, 9);
  EXPECT_EQ(w->layers[rec].dims.T, 2);
  EXPECT_EQ(w->layers[host].neuron.current_layers.size(), 2u);
  EXPECT_TRUE(w->layers[host].stateful());
}

// Guard: step 0 must read zeros (no spikes precede the first step); other
// initial spikes are not what a delayed edge reads, and are refused.
TEST(RecurrentUnrolled, NegativeNonZeroInitialSpikesAreRefused) {
  GraphBuilder b = RLeakyUnrolled(1.0f);
  absl::StatusOr<ir::Workload> w = Import(b);
  ASSERT_FALSE(w.ok());
  EXPECT_THAT(w.status().message(), HasSubstr("rec"));
  EXPECT_THAT(w.status().message(), HasSubstr("constant"));
}

// Linear over Concat(a, b) on the feature axis: a W_a + b W_b.
GraphBuilder ConcatLinear(int64_t axis) {
  GraphBuilder b;
  std::string x = b.Input("x", {1, 4});
  b.Init("A", {3, 4}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
  b.Init("B", {2, 4}, {-1, -2, -3, -4, -5, -6, -7, -8});
  std::vector<float> w(5 * 5);
  for (size_t i = 0; i < w.size(); ++i) w[i] = static_cast<float>(i) * 0.5f;
  b.Init("W", {5, 5}, w);
  b.Init("bias", {5}, {1, 2, 3, 4, 5});
  onnx::NodeProto* ga = b.Node("Gemm", {x, "A"}, "ga");
  GraphBuilder::AttrInt(ga, "transB", 1);
  onnx::NodeProto* gb = b.Node("Gemm", {x, "B"}, "gb");
  GraphBuilder::AttrInt(gb, "transB", 1);
  onnx::NodeProto* cat = b.Node("Concat", {"ga", "gb"}, "cat");
  GraphBuilder::AttrInt(cat, "axis", axis);
  onnx::NodeProto* g = b.Node("Gemm", {"cat", "W", "bias"}, "gw");
  GraphBuilder::AttrInt(g, "transB", 1);
  b.Output("gw", 2);
  return b;
}

TEST(ConcatLinear, SplitIntoOneLinearLayerPerPartWithItsColumns) {
  GraphBuilder b = ConcatLinear(1);
  importer::ImportOptions o = Steps(1);
  o.load_parameters = true;
  absl::StatusOr<ir::Workload> w = Import(b, o);
  ASSERT_TRUE(w.ok()) << w.status();
  const int pa = LayerNamed(*w, "gw[0:3]"), pb = LayerNamed(*w, "gw[3:5]");
  ASSERT_GE(pa, 0);
  ASSERT_GE(pb, 0);
  const ir::Layer& a = w->layers[pa];
  const ir::Layer& c = w->layers[pb];
  EXPECT_EQ(a.dims.C, 3);
  EXPECT_EQ(c.dims.C, 2);
  EXPECT_EQ(a.dims.K, 5);
  // W is [K=5][C=5] (transB): part a holds columns 0..2, part b columns 3..4.
  for (int k = 0; k < 5; ++k) {
    for (int j = 0; j < 3; ++j) EXPECT_FLOAT_EQ(a.params.weights[k * 3 + j], (k * 5 + j) * 0.5f);
    for (int j = 0; j < 2; ++j)
      EXPECT_FLOAT_EQ(c.params.weights[k * 2 + j], (k * 5 + 3 + j) * 0.5f);
  }
  EXPECT_EQ(a.params.bias, (std::vector<float>{1, 2, 3, 4, 5}));
  EXPECT_TRUE(c.params.bias.empty());
  // 25 weights + 5 biases, as in the Gemm
  EXPECT_EQ(a.weight_elements + c.weight_elements, 30);
  EXPECT_EQ(w->layers.back().name, "/gw");
  EXPECT_EQ(w->layers.back().op, ir::OpKind::kAdd);
  EXPECT_EQ(w->layers.back().inputs, (std::vector<int>{pa, pb}));
}

// Guard: only a Concat on the feature (last) axis is split.
TEST(ConcatLinear, NegativeConcatOnAnotherAxisIsNotSplit) {
  GraphBuilder b = ConcatLinear(0);
  absl::StatusOr<ir::Workload> w = Import(b, Steps(1));
  ASSERT_FALSE(w.ok());
  EXPECT_THAT(w.status().message(), HasSubstr("Concat"));
}

// The parts' features must add up to the weights' input features: a
// mismatch is refused naming the node, never split into wrong columns.
TEST(ConcatLinear, NegativeFeatureCountMismatchIsRefused) {
  GraphBuilder b;
  std::string x = b.Input("x", {1, 4});
  b.Init("A", {3, 4}, std::vector<float>(12, 1.0f));
  b.Init("B", {2, 4}, std::vector<float>(8, 1.0f));
  b.Fill("W", {5, 6}, 0.5f);  // expects 6 features; the parts give 3 + 2
  onnx::NodeProto* ga = b.Node("Gemm", {x, "A"}, "ga");
  GraphBuilder::AttrInt(ga, "transB", 1);
  onnx::NodeProto* gb = b.Node("Gemm", {x, "B"}, "gb");
  GraphBuilder::AttrInt(gb, "transB", 1);
  onnx::NodeProto* cat = b.Node("Concat", {"ga", "gb"}, "cat");
  GraphBuilder::AttrInt(cat, "axis", 1);
  onnx::NodeProto* g = b.Node("Gemm", {"cat", "W"}, "gw");
  GraphBuilder::AttrInt(g, "transB", 1);
  b.Output("gw", 2);
  absl::StatusOr<ir::Workload> w = Import(b, Steps(1));
  ASSERT_FALSE(w.ok());
  EXPECT_THAT(w.status().message(), HasSubstr("gw"));
  EXPECT_THAT(w.status().message(), HasSubstr("5"));
  EXPECT_THAT(w.status().message(), HasSubstr("6"));
}

// Guard: a constant part adds its product to every output; only an all-zero
// one (nothing to add) may be dropped, any other is refused naming it.
TEST(ConcatLinear, NegativeNonZeroConstantPartIsRefused) {
  GraphBuilder b;
  std::string x = b.Input("x", {1, 4});
  b.Init("A", {3, 4}, std::vector<float>(12, 1.0f));
  b.Fill("ones", {1, 2}, 1.0f);
  b.Fill("W", {5, 5}, 0.5f);
  onnx::NodeProto* ga = b.Node("Gemm", {x, "A"}, "ga");
  GraphBuilder::AttrInt(ga, "transB", 1);
  onnx::NodeProto* cat = b.Node("Concat", {"ga", "ones"}, "cat");
  GraphBuilder::AttrInt(cat, "axis", 1);
  onnx::NodeProto* g = b.Node("Gemm", {"cat", "W"}, "gw");
  GraphBuilder::AttrInt(g, "transB", 1);
  b.Output("gw", 2);
  absl::StatusOr<ir::Workload> w = Import(b, Steps(1));
  ASSERT_FALSE(w.ok());
  EXPECT_THAT(w.status().message(), HasSubstr("gw"));
  EXPECT_THAT(w.status().message(), HasSubstr("non-zero constant"));
}

}  // namespace
}  // namespace snnplan::testing
