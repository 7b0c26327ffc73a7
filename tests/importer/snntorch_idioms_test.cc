// snnTorch idioms on tiny graphs (onnx-patterns.md section 1): what the
// importer recognises from each, and where it must refuse.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tiny_nets.h"

namespace snnplan::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(SnnTorchLeakyStep, SubtractResetIsStatefulLif) {
  GraphBuilder b = SnnTorchStepNet(Reset::kSubtract);
  absl::StatusOr<ir::Workload> w = Import(b, Steps(3));
  ASSERT_TRUE(w.ok()) << w.status();
  ASSERT_EQ(w->layers.size(), 1u);
  const ir::Layer& l = w->layers[0];
  EXPECT_EQ(l.op, ir::OpKind::kConv);
  EXPECT_EQ(l.neuron.mode, ir::NeuronMode::kStateful);
  EXPECT_EQ(l.neuron.kind, "lif");
  EXPECT_EQ(l.neuron.reset, ir::ResetMode::kSubtract);
  EXPECT_NEAR(l.neuron.decay.value, 0.9, 1e-6);
  EXPECT_NEAR(l.neuron.threshold.value, 1.0, 1e-6);
  EXPECT_FALSE(l.neuron.decay_input);
  EXPECT_EQ(l.NeuronStates(), 3 * 4 * 4);
  EXPECT_EQ(w->timesteps, 3);
  EXPECT_TRUE(l.network_output);  // spikes leave the graph; mem_out is state
}

TEST(SnnTorchLeakyStep, ZeroResetRecognised) {
  GraphBuilder b = SnnTorchStepNet(Reset::kZero);
  absl::StatusOr<ir::Workload> w = Import(b, Steps(2));
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ(w->layers[0].neuron.reset, ir::ResetMode::kZero);
  EXPECT_NEAR(w->layers[0].neuron.decay.value, 0.9, 1e-6);
  EXPECT_TRUE(w->layers[0].stateful());
}

TEST(SnnTorchLeakyStep, NoResetKeepsStateWhileDecaying) {
  GraphBuilder b = SnnTorchStepNet(Reset::kNone, 0.8f);
  absl::StatusOr<ir::Workload> w = Import(b, Steps(2));
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ(w->layers[0].neuron.reset, ir::ResetMode::kNone);
  EXPECT_TRUE(w->layers[0].stateful());
}

TEST(SnnTorchLeakyStep, ZeroDecayAndNoResetIsStateless) {
  GraphBuilder b = SnnTorchStepNet(Reset::kNone, 0.0f);
  absl::StatusOr<ir::Workload> w = Import(b, Steps(2));
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ(w->layers[0].neuron.mode, ir::NeuronMode::kStateless);
  EXPECT_EQ(w->TotalNeuronStates(), 0);
}

TEST(SnnTorchLeakyStep, ParametersThroughIdentityAliasAndPerNeuronBeta) {
  GraphBuilder b;
  std::string x = b.Input("x", {1, 2, 4, 4});
  std::string mem = b.Input("mem", {1, 3, 4, 4});
  b.Init("other_layer.threshold", {}, {0.75f});
  std::string thr = b.Op("Identity", {"other_layer.threshold"}, "this_layer.threshold");
  b.Init("beta", {3, 1, 1}, {0.5f, 0.6f, 0.7f});
  Lif l = SnnTorchLeaky(b, TinyConv(b, x), mem, Reset::kSubtract, "beta", thr);
  b.Output(l.spike);
  b.Output(l.mem_out);
  absl::StatusOr<ir::Workload> w = Import(b, Steps(2));
  ASSERT_TRUE(w.ok()) << w.status();
  const ir::Neuron& n = w->layers[0].neuron;
  EXPECT_NEAR(n.threshold.value, 0.75, 1e-6);
  EXPECT_FALSE(n.threshold.per_neuron);
  EXPECT_NEAR(n.decay.value, 0.5, 1e-6);
  EXPECT_TRUE(n.decay.per_neuron);
}

// Greater(m, thr) is the same test as Greater(m - thr, 0): recognised by
// value, with the reset absent (the membrane is recorded as it charges).
TEST(SnnTorchLeakyStep, ComparedWithoutSubtraction) {
  GraphBuilder b;
  std::string x = b.Input("x", {1, 2, 4, 4});
  std::string mem = b.Input("mem", {1, 3, 4, 4});
  b.Init("beta", {}, {0.9f});
  std::string m = b.Op("Add", {b.Op("Mul", {"beta", mem}), TinyConv(b, x)});
  b.Init("thr", {}, {1.0f});
  std::string spk = b.Fire("Greater", m, "thr");
  b.Output(spk);
  b.Output(m);
  absl::StatusOr<ir::Workload> w = Import(b, Steps(2));
  ASSERT_TRUE(w.ok()) << w.status();
  const ir::Neuron& n = w->layers[0].neuron;
  EXPECT_TRUE(w->layers[0].stateful());
  EXPECT_EQ(n.reset, ir::ResetMode::kNone);
  EXPECT_NEAR(n.threshold.value, 1.0, 1e-6);
  EXPECT_NEAR(n.decay.value, 0.9, 1e-6);
  EXPECT_FALSE(n.fire_inclusive);
}

// A current scaled before it reaches the membrane is the neuron's input gain.
TEST(SnnTorchLeakyStep, ScaledCurrentIsInputGain) {
  GraphBuilder b;
  std::string x = b.Input("x", {1, 2, 4, 4});
  std::string mem = b.Input("mem", {1, 3, 4, 4});
  b.Init("beta", {}, {0.9f});
  b.Init("thr", {}, {1.0f});
  std::string cur = b.Op("Mul", {TinyConv(b, x), b.Const(0.5f)});
  std::string m = b.Op("Add", {b.Op("Mul", {"beta", mem}), cur});
  std::string spk = b.Fire("Greater", b.Op("Sub", {m, "thr"}), b.Const(0.0f));
  b.Output(spk);
  b.Output(m);
  absl::StatusOr<ir::Workload> w = Import(b, Steps(2));
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_NEAR(w->layers[0].neuron.input_gain.value, 0.5, 1e-6);
  EXPECT_TRUE(w->layers[0].neuron.decay_input);
}

// Guard: the membrane update must be linear in the state; a product of two
// non-constant values is refused, naming the node.
TEST(SnnTorchLeakyStep, NegativeProductOfStateAndCurrent) {
  GraphBuilder b;
  std::string x = b.Input("x", {1, 2, 4, 4});
  std::string mem = b.Input("mem", {1, 3, 4, 4});
  b.Init("thr", {}, {1.0f});
  onnx::NodeProto* mul = b.Node("Mul", {mem, TinyConv(b, x)}, "gated");
  std::string spk = b.Fire("Greater", b.Op("Sub", {mul->output(0), "thr"}), b.Const(0.0f));
  b.Output(spk);
  b.Output(mul->output(0));
  absl::StatusOr<ir::Workload> w = Import(b, Steps(2));
  ASSERT_FALSE(w.ok());
  EXPECT_THAT(w.status().message(), HasSubstr("tiny.onnx"));
  EXPECT_THAT(w.status().message(), HasSubstr("spiking neuron not recognised"));
  EXPECT_THAT(w.status().message(), HasSubstr("/gated (Mul)"));
  EXPECT_THAT(w.status().message(), HasSubstr("multiplies two non-constant values"));
}

// Guard: a single-step export needs --timesteps.
TEST(SnnTorchLeakyStep, NegativeMissingTimesteps) {
  GraphBuilder b = SnnTorchStepNet(Reset::kSubtract);
  absl::StatusOr<ir::Workload> w = Import(b);
  ASSERT_FALSE(w.ok());
  EXPECT_THAT(w.status().message(), HasSubstr("--timesteps"));
}

// Two unrolled steps: t = 0 from a folded zero membrane, t = 1 chained.
GraphBuilder UnrolledNet(float initial) {
  GraphBuilder b;
  std::string x = b.Input("x", {2, 1, 2, 4, 4});
  b.Init("beta", {}, {0.9f});
  b.Init("thr", {}, {1.0f});
  std::string clip = b.Op("Clip", {"beta", b.Const(0.0f), b.Const(1.0f)});
  b.Fill("zeros", {1, 3, 4, 4}, initial);
  std::vector<std::string> spikes;
  auto step_input = [&](int t) {
    onnx::NodeProto* g = b.Node("Gather", {x, b.Ints(b.Fresh("idx"), {t})});
    return b.Op("Squeeze", {g->output(0), b.Ints(b.Fresh("ax"), {0})});
  };
  // t = 0 (pattern 1.3): beta * 0 + I - 0.
  std::string m0 = b.Op("Sub", {b.Op("Add", {b.Op("Mul", {clip, "zeros"}),
                                              TinyConv(b, step_input(0))}),
                                 b.Fill("zero_reset", {1, 3, 4, 4}, 0.0f)});
  std::string s0 = b.Fire("Greater", b.Op("Sub", {m0, "thr"}), b.Const(0.0f));
  spikes.push_back(b.Op("Mul", {s0, "thr"}));
  Lif l1 = SnnTorchLeaky(b, TinyConv(b, step_input(1)), m0, Reset::kSubtract, "beta", "thr");
  spikes.push_back(l1.spike);
  std::vector<std::string> stacked;
  for (const auto& s : spikes) stacked.push_back(b.Op("Unsqueeze", {s, b.Ints(b.Fresh("ax"), {0})}));
  onnx::NodeProto* cat = b.Node("Concat", stacked);
  GraphBuilder::AttrInt(cat, "axis", 0);
  b.Output(cat->output(0), 5);
  return b;
}

TEST(SnnTorchLeakyUnrolled, TwoStepsGiveOneStatefulLayerWithT2) {
  GraphBuilder b = UnrolledNet(0.0f);
  absl::StatusOr<ir::Workload> w = Import(b);
  ASSERT_TRUE(w.ok()) << w.status();
  ASSERT_EQ(w->layers.size(), 1u);  // both Conv copies share W
  EXPECT_EQ(w->timesteps, 2);
  EXPECT_EQ(w->batch, 1);
  EXPECT_TRUE(w->layers[0].stateful());
  EXPECT_EQ(w->layers[0].neuron.reset, ir::ResetMode::kSubtract);
  EXPECT_NEAR(w->layers[0].neuron.decay.value, 0.9, 1e-6);
  EXPECT_EQ(w->layers[0].weight_elements, 6);
  EXPECT_TRUE(w->layers[0].network_output);
}

// Guard: an unrolled graph folds its initial state in; one that is neither
// zero nor the reset value does not run as the model from its start.
TEST(SnnTorchLeakyFirstStep, NegativeNonZeroInitialMembrane) {
  GraphBuilder b = UnrolledNet(0.25f);
  absl::StatusOr<ir::Workload> w = Import(b);
  ASSERT_FALSE(w.ok());
  EXPECT_THAT(w.status().message(), HasSubstr("from the initial state"));
}

// A lone zero-state step (T = 1 unrolled) carries nothing: stateless.
TEST(SnnTorchLeakyFirstStep, LoneStepIsStateless) {
  GraphBuilder b;
  std::string x = b.Input("x", {1, 2, 4, 4});
  b.Init("thr", {}, {1.0f});
  std::string m0 = b.Op("Add", {TinyConv(b, x), b.Fill("z", {1, 3, 4, 4}, 0.0f)});
  b.Output(b.Fire("Greater", b.Op("Sub", {m0, "thr"}), b.Const(0.0f)));
  absl::StatusOr<ir::Workload> w = Import(b, Steps(1));
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ(w->layers[0].neuron.mode, ir::NeuronMode::kStateless);
}

GraphBuilder SynapticNet(bool with_reset) {
  GraphBuilder b;
  std::string x = b.Input("x", {1, 2, 4, 4});
  std::string syn = b.Input("syn", {1, 3, 4, 4});
  std::string mem = b.Input("mem", {1, 3, 4, 4});
  b.Init("alpha", {}, {0.8f});
  b.Init("beta", {}, {0.9f});
  b.Init("thr", {}, {1.0f});
  std::string syn_out = b.Op("Add", {b.Op("Mul", {"alpha", syn}), TinyConv(b, x)});
  std::string acc = b.Op("Add", {b.Op("Mul", {"beta", mem}), syn_out});
  std::string mem_out = acc;
  if (with_reset) {
    std::string r = b.Fire("Greater", b.Op("Sub", {mem, "thr"}), b.Const(0.0f));
    mem_out = b.Op("Sub", {acc, b.Op("Mul", {r, "thr"})});
  }
  b.Output(b.Fire("Greater", b.Op("Sub", {mem_out, "thr"}), b.Const(0.0f)));
  b.Output(syn_out);
  b.Output(mem_out);
  return b;
}

TEST(SnnTorchSynapticStep, TwoStatesPerNeuron) {
  GraphBuilder b = SynapticNet(true);
  absl::StatusOr<ir::Workload> w = Import(b, Steps(4));
  ASSERT_TRUE(w.ok()) << w.status();
  const ir::Layer& l = w->layers[0];
  EXPECT_EQ(l.neuron.kind, "synaptic");
  EXPECT_EQ(l.neuron.states_per_neuron, 2);
  EXPECT_EQ(l.NeuronStates(), 2 * 3 * 4 * 4);
  EXPECT_NEAR(l.neuron.decay.value, 0.9, 1e-6);  // membrane decay (beta)
  EXPECT_NEAR(l.neuron.syn_decay.value, 0.8, 1e-6);
  EXPECT_EQ(l.neuron.reset, ir::ResetMode::kSubtract);
  EXPECT_EQ(l.neuron.reset_timing, ir::ResetTiming::kNextStep);
}

// Without a reset the two states still carry over.
TEST(SnnTorchSynapticStep, WithoutResetStillTwoStates) {
  GraphBuilder b = SynapticNet(false);
  absl::StatusOr<ir::Workload> w = Import(b, Steps(4));
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ(w->layers[0].neuron.states_per_neuron, 2);
  EXPECT_EQ(w->layers[0].neuron.reset, ir::ResetMode::kNone);
}

}  // namespace
}  // namespace snnplan::testing
