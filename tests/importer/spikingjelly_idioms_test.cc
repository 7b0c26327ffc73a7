// SpikingJelly idioms on tiny graphs (onnx-patterns.md section 2):
// multi-step Loop, unrolled (lynxi) and stateless neurons, and the guards.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tiny_nets.h"

namespace snnplan::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

enum class LoopVariant { kHard, kSoft, kExtraNode, kConstIndex, kInputTrip, kNotCarried };

// x_seq[4,1,2,4,4] -> Reshape -> Conv -> Reshape [4,1,3,4,4] -> Loop LIF
// (onnx-patterns.md 2.1).
GraphBuilder LoopNet(LoopVariant v) {
  GraphBuilder b;
  std::string x = b.Input("x_seq", {4, 1, 2, 4, 4});
  std::string flat = b.Op("Reshape", {x, b.Ints("s1", {-1, 2, 4, 4})});
  std::string seq = b.Op("Reshape", {TinyConv(b, flat), b.Ints("s2", {4, 1, 3, 4, 4})});
  std::string trip = v == LoopVariant::kInputTrip ? b.Input("M", {}, onnx::TensorProto::INT64)
                                                  : b.Ints("M", {4});
  if (v != LoopVariant::kInputTrip) {
    // Trip count must be a scalar.
    auto* t = b.graph()->mutable_initializer(b.graph()->initializer_size() - 1);
    t->clear_dims();
  }
  onnx::TensorProto cond = GraphBuilder::Tensor("cond", {}, {});
  cond.set_data_type(onnx::TensorProto::BOOL);
  cond.add_int32_data(1);
  *b.graph()->add_initializer() = cond;
  b.Fill("v0", {1, 3, 4, 4}, 0.0f);
  b.Fill("buf0", {4, 1, 3, 4, 4}, 0.0f);
  onnx::NodeProto* loop = b.Node("Loop", {trip, "cond", "v0", "buf0"}, "v_final");
  loop->add_output("spikes");
  auto* attr = loop->add_attribute();
  attr->set_name("body");
  attr->set_type(onnx::AttributeProto::GRAPH);
  GraphBuilder body(attr->mutable_g(), "body_");
  body.Input("t", {}, onnx::TensorProto::INT64);
  body.Input("c", {}, onnx::TensorProto::BOOL);
  body.Input("v", {1, 3, 4, 4});
  body.Input("buf", {4, 1, 3, 4, 4});
  std::string index = "t";
  if (v == LoopVariant::kConstIndex) {
    index = "zero_idx";
    *body.graph()->add_initializer() = [] {
      onnx::TensorProto t;
      t.set_name("zero_idx");
      t.set_data_type(onnx::TensorProto::INT64);
      t.add_int64_data(0);
      return t;
    }();
  }
  onnx::NodeProto* g = body.Node("Gather", {seq, index});
  GraphBuilder::AttrInt(g, "axis", 0);
  std::string xt = g->output(0);
  std::string vv, v_next, s;
  if (v == LoopVariant::kSoft) {
    vv = body.Op("Add", {body.Op("Mul", {"v", body.Const(0.5f)}), xt});
    s = body.Fire("GreaterOrEqual", vv, body.Const(1.0f));
    v_next = body.Op("Sub", {vv, body.Op("Mul", {s, body.Const(1.0f)})});
  } else {
    std::string d = body.Op("Sub", {xt, body.Op("Sub", {"v", body.Const(0.0f)})});
    vv = body.Op("Add", {"v", body.Op("Div", {d, body.Const(2.0f)})});
    s = body.Fire("GreaterOrEqual", vv, body.Const(1.0f));
    std::string keep = body.Op("Add", {body.Op("Neg", {s}), body.Const(1.0f)});
    v_next = body.Op("Add", {body.Op("Mul", {s, body.Const(0.0f)}),
                             body.Op("Mul", {keep, vv})});
  }
  if (v == LoopVariant::kExtraNode) v_next = body.Op("Mul", {v_next, v_next});
  std::string carried = v == LoopVariant::kNotCarried ? "v" : v_next;
  std::string idx = body.Op("Unsqueeze", {body.Op("Unsqueeze", {"t", body.Ints("a0", {0})}),
                                          body.Ints("a1", {0})});
  std::string upd = body.Op("Unsqueeze", {s, body.Ints("a2", {0})});
  std::string buf = body.Op("ScatterND", {"buf", idx, upd});
  std::string c = body.Op("Identity", {"c"});
  body.Output(c, 0, onnx::TensorProto::BOOL);
  body.Output(carried);
  body.Output(buf, 5);
  b.Output("spikes", 5);
  return b;
}

TEST(SpikingJellyLoop, HardResetLif) {
  GraphBuilder b = LoopNet(LoopVariant::kHard);
  absl::StatusOr<ir::Workload> w = Import(b);
  ASSERT_TRUE(w.ok()) << w.status();
  ASSERT_EQ(w->layers.size(), 1u);
  const ir::Layer& l = w->layers[0];
  EXPECT_EQ(w->timesteps, 4);
  EXPECT_EQ(w->batch, 1);
  EXPECT_TRUE(l.stateful());
  EXPECT_EQ(l.neuron.reset, ir::ResetMode::kZero);
  EXPECT_EQ(l.neuron.reset_timing, ir::ResetTiming::kAfterFire);
  EXPECT_TRUE(l.neuron.fire_inclusive);
  EXPECT_NEAR(l.neuron.reset_value, 0.0, 1e-9);
  EXPECT_NEAR(l.neuron.decay.value, 0.5, 1e-6);  // 1 - 1/tau, tau = 2
  EXPECT_NEAR(l.neuron.input_gain.value, 0.5, 1e-6);  // 1/tau
  EXPECT_TRUE(l.neuron.decay_input);
  EXPECT_NEAR(l.neuron.threshold.value, 1.0, 1e-6);
  EXPECT_EQ(l.NeuronStates(), 48);
  EXPECT_TRUE(l.network_output);
}

TEST(SpikingJellyLoop, SoftResetWithoutInputDecay) {
  GraphBuilder b = LoopNet(LoopVariant::kSoft);
  absl::StatusOr<ir::Workload> w = Import(b);
  ASSERT_TRUE(w.ok()) << w.status();
  const ir::Neuron& n = w->layers[0].neuron;
  EXPECT_EQ(n.reset, ir::ResetMode::kSubtract);
  EXPECT_NEAR(n.decay.value, 0.5, 1e-6);
  EXPECT_FALSE(n.decay_input);
}

// Guard: the body's update must be linear in the carried membrane.
TEST(SpikingJellyLoop, NegativeNonlinearBodyArithmetic) {
  GraphBuilder b = LoopNet(LoopVariant::kExtraNode);
  absl::StatusOr<ir::Workload> w = Import(b);
  ASSERT_FALSE(w.ok());
  EXPECT_THAT(w.status().message(), HasSubstr("(Loop)"));
  EXPECT_THAT(w.status().message(), HasSubstr("multiplies two non-constant values"));
}

// Guard: the current is the outer tensor sliced at the iteration index.
TEST(SpikingJellyLoop, NegativeConstantSliceIndex) {
  GraphBuilder b = LoopNet(LoopVariant::kConstIndex);
  absl::StatusOr<ir::Workload> w = Import(b);
  ASSERT_FALSE(w.ok());
  EXPECT_THAT(w.status().message(), HasSubstr("not sliced at the iteration number"));
}

// Guard: the trip count must fold to a constant.
TEST(SpikingJellyLoop, NegativeRuntimeTripCount) {
  GraphBuilder b = LoopNet(LoopVariant::kInputTrip);
  absl::StatusOr<ir::Workload> w = Import(b);
  ASSERT_FALSE(w.ok());
  EXPECT_THAT(w.status().message(), HasSubstr("trip count"));
}

// A carried membrane the body passes on unchanged keeps its initial value:
// nothing carries over, the neuron is stateless by value.
TEST(SpikingJellyLoop, MembraneNotUpdatedIsStateless) {
  GraphBuilder b = LoopNet(LoopVariant::kNotCarried);
  absl::StatusOr<ir::Workload> w = Import(b);
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ(w->layers[0].neuron.mode, ir::NeuronMode::kStateless);
  EXPECT_EQ(w->TotalNeuronStates(), 0);
}

// lynxi-style unrolled LIF over [T, B, N] (onnx-patterns.md 2.3), T = 2.
GraphBuilder LynxiNet(bool feed_state) {
  GraphBuilder b;
  std::string x = b.Input("x", {2, 2, 4, 4});
  std::string seq = b.Op("Reshape", {TinyConv(b, x), b.Ints("s", {2, 1, -1})});
  auto step = [&](int t) {
    onnx::NodeProto* g = b.Node("Gather", {seq, b.Const(static_cast<float>(t))});
    g->set_input(1, b.Ints(b.Fresh("i"), {t}));
    return b.Op("Squeeze", {g->output(0), b.Ints(b.Fresh("a"), {0})});
  };
  auto reset = [&](const std::string& s, const std::string& v) {
    return b.Op("Add", {b.Op("Mul", {b.Op("Sub", {b.Const(1.0f), s}), v}),
                        b.Op("Mul", {s, b.Const(0.0f)})});
  };
  std::string v0 = b.Op("Add", {b.Op("Mul", {step(0), b.Const(0.5f)}),
                                b.Fill("z", {1, 48}, 0.0f)});
  std::string s0 = b.Fire("GreaterOrEqual", v0, b.Const(1.0f));
  std::string vn0 = reset(s0, v0);
  std::string prev = feed_state ? vn0 : b.Fill("z2", {1, 48}, 0.0f);
  std::string v1 = b.Op("Add", {b.Op("Mul", {b.Op("Sub", {prev, b.Const(0.0f)}), b.Const(0.5f)}),
                                b.Op("Mul", {step(1), b.Const(0.5f)})});
  std::string s1 = b.Fire("GreaterOrEqual", v1, b.Const(1.0f));
  reset(s1, v1);
  std::vector<std::string> st;
  for (const auto& s : {s0, s1}) st.push_back(b.Op("Unsqueeze", {s, b.Ints(b.Fresh("a"), {0})}));
  onnx::NodeProto* cat = b.Node("Concat", st);
  GraphBuilder::AttrInt(cat, "axis", 0);
  b.Output(cat->output(0), 3);
  if (!feed_state) b.Output(vn0, 2);
  return b;
}

TEST(SpikingJellyUnrolled, ChainedStepsAreOneStatefulLayer) {
  GraphBuilder b = LynxiNet(true);
  absl::StatusOr<ir::Workload> w = Import(b);
  ASSERT_TRUE(w.ok()) << w.status();
  ASSERT_EQ(w->layers.size(), 1u);
  EXPECT_EQ(w->timesteps, 2);
  EXPECT_EQ(w->batch, 1);  // x holds T*B = 2 frames
  EXPECT_TRUE(w->layers[0].stateful());
  EXPECT_EQ(w->layers[0].neuron.reset, ir::ResetMode::kZero);
  EXPECT_EQ(w->layers[0].neuron.reset_timing, ir::ResetTiming::kAfterFire);
  EXPECT_NEAR(w->layers[0].neuron.decay.value, 0.5, 1e-6);
  EXPECT_EQ(w->layers[0].NeuronStates(), 48);
}

// When step 1 starts from zeros again, nothing carries over: the two steps
// are copies of one stateless neuron (T comes from --timesteps).
TEST(SpikingJellyUnrolled, StateNotCarriedOnIsStateless) {
  GraphBuilder b = LynxiNet(false);
  absl::StatusOr<ir::Workload> w = Import(b, Steps(2));
  ASSERT_TRUE(w.ok()) << w.status();
  ASSERT_EQ(w->layers.size(), 1u);
  EXPECT_EQ(w->layers[0].neuron.mode, ir::NeuronMode::kStateless);
}

// SEW-5 stateless neuron on the whole [T,B,C,H,W] tensor (pattern 2.2).
GraphBuilder StatelessNet(float bias, bool membrane_escapes) {
  GraphBuilder b;
  std::string x = b.Input("x_seq", {4, 1, 2, 4, 4});
  std::string flat = b.Op("Reshape", {x, b.Ints("s1", {-1, 2, 4, 4})});
  std::string seq = b.Op("Reshape", {TinyConv(b, flat), b.Ints("s2", {4, 1, 3, 4, 4})});
  std::string d = b.Op("Div", {b.Op("Sub", {seq, b.Fill("z0", {4, 1, 3, 4, 4}, 0.0f)}),
                               b.Const(2.0f)});
  std::string v = b.Op("Add", {b.Fill("z1", {4, 1, 3, 4, 4}, bias), d});
  b.Output(b.Fire("GreaterOrEqual", v, b.Const(1.0f)), 5);
  if (membrane_escapes) b.Output(v, 5);
  return b;
}

TEST(SpikingJellyStateless, ConstantZeroMembraneIsStateless) {
  GraphBuilder b = StatelessNet(0.0f, false);
  absl::StatusOr<ir::Workload> w = Import(b);
  ASSERT_TRUE(w.ok()) << w.status();
  const ir::Layer& l = w->layers[0];
  EXPECT_EQ(w->timesteps, 4);  // from the [T,B,...] input
  EXPECT_EQ(l.neuron.mode, ir::NeuronMode::kStateless);
  EXPECT_EQ(l.neuron.reset, ir::ResetMode::kNone);
  EXPECT_EQ(l.NeuronStates(), 0);
  EXPECT_TRUE(l.neuron.decay_input);
}

// A constant offset on the membrane shifts the threshold the input must reach.
TEST(SpikingJellyStateless, ConstantMembraneOffsetShiftsThreshold) {
  GraphBuilder b = StatelessNet(0.25f, false);
  absl::StatusOr<ir::Workload> w = Import(b);
  ASSERT_TRUE(w.ok()) << w.status();
  const ir::Neuron& n = w->layers[0].neuron;
  EXPECT_EQ(n.mode, ir::NeuronMode::kStateless);
  EXPECT_NEAR(n.threshold.value, 0.75, 1e-6);  // x/2 + 0.25 >= 1
  EXPECT_NEAR(n.input_gain.value, 0.5, 1e-6);
}

// A membrane that also leaves the graph (a recording) changes nothing.
TEST(SpikingJellyStateless, RecordedMembrane) {
  GraphBuilder b = StatelessNet(0.0f, true);
  absl::StatusOr<ir::Workload> w = Import(b);
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ(w->layers[0].neuron.mode, ir::NeuronMode::kStateless);
}

}  // namespace
}  // namespace snnplan::testing
