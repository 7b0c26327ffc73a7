// NIR import, one positive test per node type: small graphs written with the
// HDF5 C API (nir_writer.h); every expected number comes from the
// parameters written and the forward-Euler rule of docs/nir.md (decay = 1 -
// dt/tau, input gain = r dt/tau), never from the importer.
#include <cmath>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "importer/neuron_sim.h"
#include "importer/nir_writer.h"

namespace snnplan::testing::nir {
namespace {

using ::testing::ElementsAre;

constexpr double kDt = 1e-4;  // the default --dt

// input[3] -> fc (Affine 2x3) -> lif (LIF) -> output[2]
Node AffineLif(double tau = 2e-3, double r = 20.0, double v_leak = 0.0, double thr = 1.0, double v_reset = 0.0) {
  Node g = Graph();
  g.Add("input", Input({3}))
      .Add("fc", Affine(2, 3, {1, 2, 3, 4, 5, 6}, {0.5, -0.5}))
      .Add("lif", Lif(2, tau, r, v_leak, thr, v_reset))
      .Add("output", Output({2}))
      .Chain({"input", "fc", "lif", "output"});
  return g;
}

TEST(NirNodes, AffineLifBecomesALinearLayerWithItsLifNeuron) {
  absl::StatusOr<ir::Workload> w = Import(AffineLif(2e-3, 20.0, 0.0, 1.0, -0.25));
  ASSERT_TRUE(w.ok()) << w.status();
  ASSERT_EQ(w->layers.size(), 1u);
  const ir::Layer& l = w->layers[0];
  EXPECT_EQ(l.name, "fc");
  EXPECT_EQ(l.op, ir::OpKind::kLinear);
  EXPECT_EQ(l.dims.K, 2);
  EXPECT_EQ(l.dims.C, 3);
  EXPECT_EQ(l.dims.T, 4);
  EXPECT_EQ(l.weight_elements, 2 * 3 + 2);
  EXPECT_EQ(l.WeightsUsed(), 6);
  EXPECT_THAT(l.out_shape, ElementsAre(2));
  EXPECT_TRUE(l.network_output);
  const ir::Neuron& n = l.neuron;
  EXPECT_EQ(n.mode, ir::NeuronMode::kStateful);
  EXPECT_EQ(n.kind, "lif");
  EXPECT_EQ(n.states_per_neuron, 1);
  EXPECT_NEAR(n.decay.value, 1 - kDt / 2e-3, 1e-12);
  EXPECT_NEAR(n.input_gain.value, 20.0 * kDt / 2e-3, 1e-12);
  EXPECT_NEAR(n.threshold.value, 1.0, 1e-12);
  EXPECT_EQ(n.reset, ir::ResetMode::kZero);
  EXPECT_EQ(n.reset_timing, ir::ResetTiming::kAfterFire);
  EXPECT_NEAR(n.reset_value, -0.25, 1e-12);
  EXPECT_FALSE(n.fire_inclusive);  // NIR: v > v_threshold
  EXPECT_THAT(n.current_layers, ElementsAre(0));
  EXPECT_EQ(l.precision.output_bits, 1);
  ASSERT_TRUE(w->dt_seconds.has_value());
  EXPECT_DOUBLE_EQ(*w->dt_seconds, kDt);
  EXPECT_EQ(w->timesteps, 4);
  EXPECT_FALSE(w->time_in_graph);
  ASSERT_EQ(w->inputs.size(), 1u);
  EXPECT_EQ(w->inputs[0].name, "input");
  EXPECT_EQ(w->inputs[0].kind, ir::BindingKind::kNetworkInput);
  EXPECT_THAT(w->inputs[0].shape, ElementsAre(1, 3));
  ASSERT_EQ(w->outputs.size(), 1u);
  EXPECT_EQ(w->outputs[0].name, "output");
  EXPECT_EQ(w->outputs[0].kind, ir::BindingKind::kLayerOutput);
  EXPECT_EQ(w->outputs[0].layer, 0);
}

TEST(NirNodes, LifDynamicsFollowForwardEulerWithZeroResetAfterFiring) {
  // v_leak 0.1, threshold 1: h = (1 - a) v + a r x + a v_leak, fire h > 1, then v = v_reset.
  const double tau = 1e-3, r = 10.0, v_leak = 0.1, thr = 1.0, v_reset = 0.2;
  absl::StatusOr<ir::Workload> w = Import(AffineLif(tau, r, v_leak, thr, v_reset));
  ASSERT_TRUE(w.ok()) << w.status();
  NeuronSim sim(w->layers[0].neuron);
  const double a = kDt / tau;
  double v = 0;
  for (double x : {0.3, 0.9, 0.0, 1.5, -0.4, 2.0, 0.6}) {
    const double h = (1 - a) * v + a * r * x + a * v_leak;
    const double z = h > thr ? 1.0 : 0.0;
    v = z > 0 ? v_reset : h;
    EXPECT_EQ(sim.Step({x}), z);
    EXPECT_NEAR(sim.state()[0], v, 1e-12);
  }
}

TEST(NirNodes, DtOptionChangesTheDiscretisation) {
  importer::ImportOptions o = Options();
  o.dt_seconds = 5e-4;
  absl::StatusOr<ir::Workload> w = Import(AffineLif(2e-3), o);
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_NEAR(w->layers[0].neuron.decay.value, 1 - 5e-4 / 2e-3, 1e-12);
  EXPECT_DOUBLE_EQ(*w->dt_seconds, 5e-4);
}

TEST(NirNodes, LinearHasNoBias) {
  Node g = Graph();
  g.Add("input", Input({3})).Add("fc", Linear(4, 3, Fill(12, 0.5))).Add("lif", Lif(4, 1e-3, 10, 0, 1, 0))
      .Add("output", Output({4})).Chain({"input", "fc", "lif", "output"});
  absl::StatusOr<ir::Workload> w = Import(g, Options(2, true));
  ASSERT_TRUE(w.ok()) << w.status();
  ASSERT_EQ(w->layers.size(), 1u);
  EXPECT_EQ(w->layers[0].weight_elements, 12);
  EXPECT_TRUE(w->layers[0].params.bias.empty());
  EXPECT_EQ(w->layers[0].params.weights.size(), 12u);
}

TEST(NirNodes, CubaLifIsASynapticNeuronWithTwoStates) {
  const double tau_syn = 5e-4, tau_mem = 1e-3, r = 10.0, w_in = 5.0;
  Node g = Graph();
  g.Add("input", Input({3})).Add("fc", Affine(2, 3, Fill(6, 1.0), Fill(2, 0.0)))
      .Add("cuba", CubaLif(2, tau_syn, tau_mem, r, w_in, 1.0)).Add("output", Output({2}))
      .Chain({"input", "fc", "cuba", "output"});
  absl::StatusOr<ir::Workload> w = Import(g);
  ASSERT_TRUE(w.ok()) << w.status();
  const ir::Neuron& n = w->layers[0].neuron;
  EXPECT_EQ(n.kind, "synaptic");
  EXPECT_EQ(n.states_per_neuron, 2);
  EXPECT_EQ(w->layers[0].NeuronStates(), 2 * 2);
  EXPECT_NEAR(n.decay.value, 1 - kDt / tau_mem, 1e-12);
  EXPECT_NEAR(n.syn_decay.value, 1 - kDt / tau_syn, 1e-12);
  EXPECT_NEAR(n.threshold.value, 1.0, 1e-12);
  EXPECT_EQ(n.reset, ir::ResetMode::kZero);
  // i' = (1 - as) i + as w_in x; h = (1 - am) v + am r i'; fire h > 1, v = 0.
  NeuronSim sim(n);
  const double as = kDt / tau_syn, am = kDt / tau_mem;
  double v = 0, i = 0;
  for (double x : {1.0, 1.0, 0.0, 1.0, 1.0, 1.0, 0.0, 0.0, 1.0}) {
    i = (1 - as) * i + as * w_in * x;
    const double h = (1 - am) * v + am * r * i;
    const double z = h > 1.0 ? 1.0 : 0.0;
    v = z > 0 ? 0.0 : h;
    EXPECT_EQ(sim.Step({x}), z);
    EXPECT_NEAR(sim.state()[0], v, 1e-12);
    EXPECT_NEAR(sim.state()[1], i, 1e-12);
  }
}

TEST(NirNodes, IfIntegratesWithoutLeak) {
  Node g = Graph();
  g.Add("input", Input({2})).Add("fc", Linear(2, 2, {1, 0, 0, 1}))
      .Add("if", Node{"IF"}.F("r", {2}, Fill(2, 2000.0)).F("v_threshold", {2}, Fill(2, 0.5)))
      .Add("output", Output({2})).Chain({"input", "fc", "if", "output"});
  absl::StatusOr<ir::Workload> w = Import(g);
  ASSERT_TRUE(w.ok()) << w.status();
  const ir::Neuron& n = w->layers[0].neuron;
  EXPECT_EQ(n.kind, "if");
  EXPECT_NEAR(n.decay.value, 1.0, 1e-12);
  EXPECT_NEAR(n.input_gain.value, 2000.0 * kDt, 1e-12);  // r dt
  EXPECT_NEAR(n.reset_value, 0.0, 1e-12);                   // v_reset absent: 0 (NIR default)
}

TEST(NirNodes, LiIAndCubaLiAreNonSpikingStates) {
  for (const std::string type : {"LI", "I", "CubaLI"}) {
    Node neuron{type};
    neuron.F("r", {2}, Fill(2, 10.0));
    if (type == "LI") neuron.F("tau", {2}, Fill(2, 1e-3)).F("v_leak", {2}, Fill(2, 0.0));
    if (type == "CubaLI")
      neuron.F("tau_syn", {2}, Fill(2, 5e-4)).F("tau_mem", {2}, Fill(2, 1e-3)).F("v_leak", {2}, Fill(2, 0.0));
    Node g = Graph();
    g.Add("input", Input({2})).Add("fc", Affine(2, 2, {1, 0, 0, 1}, {0, 0})).Add("n", neuron)
        .Add("output", Output({2})).Chain({"input", "fc", "n", "output"});
    absl::StatusOr<ir::Workload> w = Import(g);
    ASSERT_TRUE(w.ok()) << type << ": " << w.status();
    const ir::Layer& l = w->layers[0];
    EXPECT_EQ(l.neuron.mode, ir::NeuronMode::kStateful) << type;
    EXPECT_EQ(l.neuron.kind, type == "LI" ? "li" : type == "I" ? "i" : "cuba_li");
    EXPECT_EQ(l.neuron.states_per_neuron, type == "CubaLI" ? 2 : 1);
    EXPECT_EQ(l.neuron.dynamics.fire, -1) << type << ": no spike";
    EXPECT_EQ(l.precision.output_bits, 4) << type << ": the state leaves as a --feature-bits value";
    // The output is the updated state: LI h = (1 - a) v + a r x; I h = v + r dt x.
    NeuronSim sim(l.neuron);
    double v = 0, i = 0;
    for (double x : {1.0, 0.5, -0.25, 2.0}) {
      if (type == "LI") v = (1 - kDt / 1e-3) * v + kDt / 1e-3 * 10.0 * x;
      if (type == "I") v = v + 10.0 * kDt * x;
      if (type == "CubaLI") {
        i = (1 - kDt / 5e-4) * i + kDt / 5e-4 * x;
        v = (1 - kDt / 1e-3) * v + kDt / 1e-3 * 10.0 * i;
      }
      EXPECT_NEAR(sim.Step({x}), v, 1e-12) << type;
    }
  }
}

TEST(NirNodes, ThresholdIsAStatelessNeuron) {
  Node g = Graph();
  g.Add("input", Input({2})).Add("fc", Linear(2, 2, {1, 0, 0, 1}))
      .Add("thr", Node{"Threshold"}.F("threshold", {2}, {0.5, -0.5})).Add("output", Output({2}))
      .Chain({"input", "fc", "thr", "output"});
  absl::StatusOr<ir::Workload> w = Import(g);
  ASSERT_TRUE(w.ok()) << w.status();
  const ir::Neuron& n = w->layers[0].neuron;
  EXPECT_EQ(n.mode, ir::NeuronMode::kStateless);
  EXPECT_EQ(n.states_per_neuron, 0);
  EXPECT_EQ(w->layers[0].NeuronStates(), 0);
  EXPECT_NE(n.threshold.layout, ir::ParamLayout::kScalar);
  EXPECT_THAT(n.threshold.values, ElementsAre(0.5, -0.5));
  NeuronSim sim0(n, 2, 2, 0), sim1(n, 2, 2, 1);
  EXPECT_EQ(sim0.Step({0.5}), 0.0);  // strictly greater
  EXPECT_EQ(sim0.Step({0.6}), 1.0);
  EXPECT_EQ(sim1.Step({-0.4}), 1.0);
}

TEST(NirNodes, Conv2dWithPaddingStrideGroupsAndSamePadding) {
  // [4, 9, 9] -> Conv2d 4->6, k3, stride 2, pad 1, groups 2 -> [6, 5, 5]
  Node conv{"Conv2d"};
  conv.F("weight", {6, 2, 3, 3}, Fill(6 * 2 * 9, 0.1)).F("bias", {6}, Fill(6, 0.0))
      .I("stride", {2}, {2, 2}).I("padding", {2}, {1, 1}).I("dilation", {2}, {1, 1}).I("groups", {}, {2})
      .I("input_shape", {2}, {9, 9});
  Node same{"Conv2d"};
  same.F("weight", {3, 6, 3, 3}, Fill(3 * 6 * 9, 0.1)).F("bias", {3}, Fill(3, 0.0)).I("stride", {}, {1})
      .I("dilation", {}, {1}).I("groups", {}, {1});
  same.strings["padding"] = "same";
  Node g = Graph();
  g.Add("input", Input({4, 9, 9})).Add("conv", conv).Add("lif", Lif(150, 1e-3, 10, 0, 1, 0))
      .Add("same", same).Add("output", Output({3, 5, 5}))
      .Chain({"input", "conv", "lif", "same", "output"});
  // Neuron parameters have the neuron shape [6,5,5] = 150 values: written flat here.
  absl::StatusOr<ir::Workload> w = Import(g);
  ASSERT_TRUE(w.ok()) << w.status();
  ASSERT_EQ(w->layers.size(), 2u);
  const ir::Layer& c = w->layers[0];
  EXPECT_EQ(c.op, ir::OpKind::kConv);
  EXPECT_EQ(c.dims.G, 2);
  EXPECT_EQ(c.dims.K, 3);
  EXPECT_EQ(c.dims.C, 2);
  EXPECT_EQ(c.dims.OY, 5);
  EXPECT_EQ(c.dims.OX, 5);
  EXPECT_EQ(c.dims.FY, 3);
  EXPECT_EQ(c.in_y, 9);
  EXPECT_EQ(c.window.stride_y, 2);
  EXPECT_EQ(c.window.pad_top, 1);
  EXPECT_EQ(c.window.pad_right, 1);
  EXPECT_THAT(c.out_shape, ElementsAre(6, 5, 5));
  EXPECT_EQ(c.weight_elements, 6 * 2 * 9 + 6);
  EXPECT_EQ(c.neuron.kind, "lif");
  const ir::Layer& s = w->layers[1];
  EXPECT_EQ(s.dims.OY, 5);
  EXPECT_EQ(s.window.pad_top, 1);
  EXPECT_EQ(s.window.pad_bottom, 1);
  EXPECT_EQ(s.precision.input_bits, 1) << "spikes in: SOPs";
  EXPECT_TRUE(s.uses_sop());
}

TEST(NirNodes, Conv1dIsAConvWithOneRow) {
  Node conv{"Conv1d"};
  conv.F("weight", {4, 3, 3}, Fill(36, 0.2)).F("bias", {4}, Fill(4, 0.0)).I("stride", {}, {1})
      .I("padding", {}, {1}).I("dilation", {}, {2}).I("groups", {}, {1});
  Node g = Graph();
  g.Add("input", Input({3, 10})).Add("conv", conv).Add("output", Output({4, 8}))
      .Chain({"input", "conv", "output"});
  absl::StatusOr<ir::Workload> w = Import(g);
  ASSERT_TRUE(w.ok()) << w.status();
  const ir::Layer& c = w->layers[0];
  EXPECT_EQ(c.op, ir::OpKind::kConv);
  EXPECT_EQ(c.dims.OY, 1);
  EXPECT_EQ(c.dims.FY, 1);
  EXPECT_EQ(c.dims.FX, 3);
  EXPECT_EQ(c.dims.OX, 10 + 2 - 2 * 2 - 1 + 1);  // (N + 2p - d(k-1) - 1)/s + 1 = 8
  EXPECT_EQ(c.window.dilation_x, 2);
  EXPECT_THAT(c.out_shape, ElementsAre(4, 8));
  EXPECT_FALSE(c.spiking());
  EXPECT_EQ(c.precision.output_bits, 4);
}

TEST(NirNodes, PoolsAreAveragePoolingAndSumPoolScalesByTheWindow) {
  for (const std::string type : {"AvgPool2d", "SumPool2d"}) {
    Node pool{type};
    pool.I("kernel_size", {2}, {2, 2}).I("stride", {2}, {2, 2}).I("padding", {2}, {0, 0});
    Node g = Graph();
    g.Add("input", Input({2, 4, 6})).Add("pool", pool).Add("output", Output({2, 2, 3}))
        .Chain({"input", "pool", "output"});
    absl::StatusOr<ir::Workload> w = Import(g, Options(3, true));
    ASSERT_TRUE(w.ok()) << type << ": " << w.status();
    const ir::Layer& p = w->layers[0];
    EXPECT_EQ(p.op, ir::OpKind::kAvgPool);
    EXPECT_EQ(p.dims.K, 2);
    EXPECT_EQ(p.dims.FY, 2);
    EXPECT_EQ(p.dims.OY, 2);
    EXPECT_EQ(p.dims.OX, 3);
    EXPECT_EQ(p.in_x, 6);
    EXPECT_TRUE(p.params.count_include_pad);
    if (type == "SumPool2d") {
      ASSERT_EQ(p.params.post.size(), 1u);
      EXPECT_EQ(p.params.post[0].scale.value, 4.0);  // sum = mean * window
    } else {
      EXPECT_TRUE(p.params.post.empty());
    }
  }
}

TEST(NirNodes, FlattenIsAViewAndScaleFoldsIntoItsProducer) {
  Node conv{"Conv2d"};
  conv.F("weight", {2, 1, 1, 1}, {1, 2}).F("bias", {2}, {0, 0}).I("stride", {}, {1}).I("padding", {}, {0})
      .I("dilation", {}, {1}).I("groups", {}, {1});
  Node flat{"Flatten"};
  flat.I("start_dim", {}, {0}).I("end_dim", {}, {-1});
  Node g = Graph();
  g.Add("input", Input({1, 2, 2})).Add("conv", conv).Add("gain", Node{"Scale"}.F("scale", {2, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8}))
      .Add("flat", flat).Add("fc", Linear(3, 8, Fill(24, 1.0))).Add("output", Output({3}))
      .Chain({"input", "conv", "gain", "flat", "fc", "output"});
  absl::StatusOr<ir::Workload> w = Import(g, Options(2, true));
  ASSERT_TRUE(w.ok()) << w.status();
  ASSERT_EQ(w->layers.size(), 2u) << "Scale folds into the conv, Flatten is a view";
  EXPECT_EQ(w->layers[0].weight_elements, 2 + 2 + 8);
  ASSERT_EQ(w->layers[0].params.post.size(), 1u);
  EXPECT_EQ(w->layers[0].params.post[0].scale.layout, ir::ParamLayout::kPerNeuron);
  EXPECT_THAT(w->layers[0].params.post[0].scale.values, ElementsAre(1, 2, 3, 4, 5, 6, 7, 8));
  EXPECT_EQ(w->layers[1].op, ir::OpKind::kLinear);
  EXPECT_THAT(w->layers[1].inputs, ElementsAre(0));
  EXPECT_EQ(w->layers[1].dims.C, 8);
}

TEST(NirNodes, ScaleOfTheNetworkInputIsAScaleLayer) {
  Node g = Graph();
  g.Add("input", Input({3})).Add("gain", Node{"Scale"}.F("scale", {}, {2.0})).Add("fc", Linear(2, 3, Fill(6, 1)))
      .Add("output", Output({2})).Chain({"input", "gain", "fc", "output"});
  absl::StatusOr<ir::Workload> w = Import(g);
  ASSERT_TRUE(w.ok()) << w.status();
  ASSERT_EQ(w->layers.size(), 2u);
  EXPECT_EQ(w->layers[0].op, ir::OpKind::kScale);
  EXPECT_THAT(w->layers[0].inputs, ElementsAre(ir::kNetworkInput));
  EXPECT_EQ(w->layers[0].weight_elements, 0) << "a scalar gain stores no tensor";
}

TEST(NirNodes, DelayIsAShiftRegisterOfDtSteps) {
  Node g = Graph();
  g.Add("input", Input({3})).Add("fc", Linear(3, 3, {1, 0, 0, 0, 1, 0, 0, 0, 1}))
      .Add("delay", Node{"Delay"}.F("delay", {3}, {2 * kDt, 0.0, 3 * kDt})).Add("output", Output({3}))
      .Chain({"input", "fc", "delay", "output"});
  absl::StatusOr<ir::Workload> w = Import(g);
  ASSERT_TRUE(w.ok()) << w.status();
  const ir::Layer& l = w->layers[0];
  EXPECT_EQ(l.neuron.kind, "delay");
  EXPECT_EQ(l.neuron.states_per_neuron, 3);  // the longest delay, in steps
  EXPECT_EQ(l.precision.output_bits, 4);
  const std::vector<double> x = {1, 2, 3, 4, 5, 6};
  for (int e = 0; e < 3; ++e) {
    const int d = e == 0 ? 2 : e == 1 ? 0 : 3;
    NeuronSim sim(l.neuron, 3, 3, e);
    for (size_t t = 0; t < x.size(); ++t)
      EXPECT_EQ(sim.Step({x[t]}), t >= static_cast<size_t>(d) ? x[t - d] : 0.0) << "element " << e << " t " << t;
  }
}

TEST(NirNodes, AZeroDelayIsAView) {
  Node g = Graph();
  g.Add("input", Input({2})).Add("fc", Linear(2, 2, Fill(4, 1))).Add("delay", Node{"Delay"}.F("delay", {2}, {0, 0}))
      .Add("output", Output({2})).Chain({"input", "fc", "delay", "output"});
  absl::StatusOr<ir::Workload> w = Import(g);
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ(w->layers.size(), 1u);
}

TEST(NirNodes, NestedSubgraphsAreFlattened) {
  Node sub = Graph();
  sub.Add("in", Input({3})).Add("fc", Affine(2, 3, Fill(6, 1), Fill(2, 0))).Add("lif", Lif(2, 1e-3, 10, 0, 1, 0))
      .Add("out", Output({2})).Chain({"in", "fc", "lif", "out"});
  Node g = Graph();
  g.Add("input", Input({3})).Add("block", sub).Add("head", Linear(1, 2, {1, 1})).Add("output", Output({1}))
      .Chain({"input", "block", "head", "output"});
  absl::StatusOr<ir::Workload> w = Import(g);
  ASSERT_TRUE(w.ok()) << w.status();
  ASSERT_EQ(w->layers.size(), 2u);
  EXPECT_EQ(w->layers[0].name, "block/fc");
  EXPECT_EQ(w->layers[0].neuron.kind, "lif");
  EXPECT_EQ(w->layers[1].name, "head");
  EXPECT_THAT(w->layers[1].inputs, ElementsAre(0));
}

TEST(NirNodes, SeveralEdgesIntoANeuronAreSummedCurrents) {
  Node g = Graph();
  g.Add("input", Input({2})).Add("a", Linear(2, 2, Fill(4, 1))).Add("b", Linear(2, 2, Fill(4, 2)))
      .Add("lif", Lif(2, 1e-3, 10, 0, 1, 0)).Add("output", Output({2}))
      .Edge("input", "a").Edge("input", "b").Edge("a", "lif").Edge("b", "lif").Edge("lif", "output");
  absl::StatusOr<ir::Workload> w = Import(g);
  ASSERT_TRUE(w.ok()) << w.status();
  ASSERT_EQ(w->layers.size(), 3u);
  const ir::Layer& add = w->layers[2];
  EXPECT_EQ(add.op, ir::OpKind::kAdd);
  EXPECT_THAT(add.inputs, ElementsAre(0, 1));
  EXPECT_THAT(add.neuron.current_layers, ElementsAre(0, 1));
  EXPECT_EQ(add.neuron.dynamics.currents, 2);
  NeuronSim sim(add.neuron);  // both currents enter with the same gain r dt / tau
  sim.Step({0.3, 0.4});
  EXPECT_NEAR(sim.state()[0], 0.1 * 10 * 0.7, 1e-12);
}

TEST(NirNodes, NeuronOnTheNetworkInputOrOnSpikesGetsAnIdentityLayer) {
  Node g = Graph();
  g.Add("input", Input({2})).Add("lif1", Lif(2, 1e-3, 10, 0, 1, 0)).Add("lif2", Lif(2, 1e-3, 10, 0, 1, 0))
      .Add("output", Output({2})).Chain({"input", "lif1", "lif2", "output"});
  absl::StatusOr<ir::Workload> w = Import(g);
  ASSERT_TRUE(w.ok()) << w.status();
  ASSERT_EQ(w->layers.size(), 2u);
  EXPECT_EQ(w->layers[0].op, ir::OpKind::kScale);
  EXPECT_THAT(w->layers[0].inputs, ElementsAre(ir::kNetworkInput));
  EXPECT_EQ(w->layers[1].name, "lif2");
  EXPECT_THAT(w->layers[1].inputs, ElementsAre(0));
  EXPECT_TRUE(w->layers[1].uses_sop());
}

TEST(NirNodes, AProducerReadByTwoNodesKeepsItsOutput) {
  // fc feeds the neuron and an output: the neuron gets its own layer.
  Node g = Graph();
  g.Add("input", Input({2})).Add("fc", Linear(2, 2, Fill(4, 1))).Add("lif", Lif(2, 1e-3, 10, 0, 1, 0))
      .Add("out_a", Output({2})).Add("out_b", Output({2}))
      .Edge("input", "fc").Edge("fc", "lif").Edge("fc", "out_a").Edge("lif", "out_b");
  absl::StatusOr<ir::Workload> w = Import(g);
  ASSERT_TRUE(w.ok()) << w.status();
  ASSERT_EQ(w->layers.size(), 2u);
  EXPECT_FALSE(w->layers[0].spiking());
  EXPECT_TRUE(w->layers[1].spiking());
  ASSERT_EQ(w->outputs.size(), 2u);
  EXPECT_EQ(w->outputs[0].name, "out_a");
  EXPECT_EQ(w->outputs[0].layer, 0);
  EXPECT_EQ(w->outputs[1].layer, 1);
}

TEST(NirNodes, JsonAndTableRecordDt) {
  absl::StatusOr<ir::Workload> w = Import(AffineLif());
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_DOUBLE_EQ(importer::ToJson(*w)["dt_seconds"].get<double>(), kDt);
  EXPECT_NE(importer::DescribeTable(*w).find("dt=0.0001 s"), std::string::npos);
}

// One file imported twice gives the same IR (HDF5 writes object times into
// each new file, so the file is written once).
TEST(NirNodes, ImportIsDeterministic) {
  const std::string path = TempPath("model.nir");
  WriteFile(path, AffineLif());
  absl::StatusOr<ir::Workload> a = importer::ImportFile(path, Options());
  absl::StatusOr<ir::Workload> b = importer::ImportFile(path, Options());
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(importer::ToJson(*a).dump(), importer::ToJson(*b).dump());
}

}  // namespace
}  // namespace snnplan::testing::nir
