// Layer building on tiny graphs: views vanish, BatchNorm / ReLU / bias fold,
// pooling (incl. Pad+AveragePool, GlobalAveragePool), neurons after pooling,
// and constant folding of shape chains.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "../../importer/src/graph.h"
#include "tiny_nets.h"

namespace snnplan::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(Layers, ReluFusesIntoConvButStaysStandaloneAfterSpikes) {
  GraphBuilder b;
  std::string x = b.Input("x", {1, 2, 4, 4});
  std::string r = b.Op("Relu", {TinyConv(b, x)});
  b.Output(r);
  absl::StatusOr<ir::Workload> w = Import(b, Steps(1));
  ASSERT_TRUE(w.ok()) << w.status();
  ASSERT_EQ(w->layers.size(), 1u);
  EXPECT_EQ(w->layers[0].op, ir::OpKind::kConv);
  EXPECT_TRUE(w->layers[0].network_output);

  GraphBuilder c;  // conv output used twice: the relu cannot fuse
  x = c.Input("x", {1, 2, 4, 4});
  std::string conv = TinyConv(c, x);
  c.Output(c.Op("Relu", {conv}));
  c.Output(conv);
  w = Import(c, Steps(1));
  ASSERT_TRUE(w.ok()) << w.status();
  ASSERT_EQ(w->layers.size(), 2u);
  EXPECT_EQ(w->layers[1].op, ir::OpKind::kRelu);
  EXPECT_THAT(w->layers[1].inputs, ElementsAre(0));
}

// Conv -> Reshape [T,B,...] -> Reshape back -> BatchNormalization: folds.
TEST(Layers, BatchNormFoldsThroughTimeReshapes) {
  GraphBuilder b;
  std::string x = b.Input("x", {2, 2, 4, 4});
  std::string y = b.Op("Reshape", {TinyConv(b, x), b.Ints("a", {2, 1, 3, 4, 4})});
  std::string z = b.Op("Reshape", {y, b.Ints("b", {2, 3, 4, 4})});
  for (const char* p : {"g", "be", "mu", "var"}) b.Fill(p, {3}, 1.0f);
  b.Output(b.Op("BatchNormalization", {z, "g", "be", "mu", "var"}));
  absl::StatusOr<ir::Workload> w = Import(b, Steps(2));
  ASSERT_TRUE(w.ok()) << w.status();
  ASSERT_EQ(w->layers.size(), 1u);
  EXPECT_EQ(w->layers[0].weight_elements, 6 + 4 * 3);
}

TEST(Layers, BatchNormWithoutConvStays) {
  GraphBuilder b;
  std::string x = b.Input("x", {1, 3, 4, 4});
  for (const char* p : {"g", "be", "mu", "var"}) b.Fill(p, {3}, 1.0f);
  b.Output(b.Op("BatchNormalization", {x, "g", "be", "mu", "var"}));
  absl::StatusOr<ir::Workload> w = Import(b, Steps(1));
  ASSERT_TRUE(w.ok()) << w.status();
  ASSERT_EQ(w->layers.size(), 1u);
  EXPECT_EQ(w->layers[0].op, ir::OpKind::kBatchNorm);
  EXPECT_EQ(w->layers[0].weight_elements, 12);
  EXPECT_EQ(w->layers[0].dims.K, 3);
}

// MatMul + Add(bias) is one linear layer; the neuron after a MaxPool
// attaches to the pooling layer.
TEST(Layers, PoolingBeforeNeuronAndMatMulBias) {
  GraphBuilder b;
  std::string x = b.Input("x", {1, 2, 4, 4});
  std::string mem = b.Input("mem", {1, 3, 2, 2});
  onnx::NodeProto* p = b.Node("MaxPool", {TinyConv(b, x)});
  GraphBuilder::AttrInts(p, "kernel_shape", {2, 2});
  GraphBuilder::AttrInts(p, "strides", {2, 2});
  b.Init("beta", {}, {0.9f});
  b.Init("thr", {}, {1.0f});
  Lif l = SnnTorchLeaky(b, p->output(0), mem, Reset::kSubtract, "beta", "thr");
  onnx::NodeProto* flat = b.Node("Flatten", {l.spike});
  GraphBuilder::AttrInt(flat, "axis", 1);
  b.Fill("Wm", {12, 5}, 0.1f);
  b.Fill("bias", {5}, 0.1f);
  std::string y = b.Op("Add", {b.Op("MatMul", {flat->output(0), "Wm"}), "bias"});
  b.Output(y, 2);
  b.Output(l.mem_out);
  absl::StatusOr<ir::Workload> w = Import(b, Steps(2));
  ASSERT_TRUE(w.ok()) << w.status();
  ASSERT_EQ(w->layers.size(), 3u);
  EXPECT_EQ(w->layers[1].op, ir::OpKind::kMaxPool);
  EXPECT_TRUE(w->layers[1].stateful());
  EXPECT_EQ(w->layers[1].NeuronStates(), 12);
  EXPECT_FALSE(w->layers[0].spiking());
  EXPECT_EQ(w->layers[2].op, ir::OpKind::kLinear);
  EXPECT_EQ(w->layers[2].weight_elements, 65);
  EXPECT_EQ(w->layers[2].precision.input_bits, 1);
  EXPECT_EQ(w->layers[2].dims.C, 12);
}

TEST(Layers, PadFoldsIntoAveragePoolAndGlobalPool) {
  GraphBuilder b;
  std::string x = b.Input("x", {1, 3, 4, 4});
  std::string padded = b.Op("Pad", {x, b.Ints("pads", {0, 0, 1, 1, 0, 0, 1, 1})});
  onnx::NodeProto* a = b.Node("AveragePool", {padded});
  GraphBuilder::AttrInts(a, "kernel_shape", {3, 3});
  std::string g = b.Op("GlobalAveragePool", {a->output(0)});
  b.Output(g);
  absl::StatusOr<ir::Workload> w = Import(b, Steps(1));
  ASSERT_TRUE(w.ok()) << w.status();
  ASSERT_EQ(w->layers.size(), 2u);
  const ir::Layer& avg = w->layers[0];
  EXPECT_EQ(avg.op, ir::OpKind::kAvgPool);
  EXPECT_EQ(avg.window.pad_top, 1);
  EXPECT_EQ(avg.window.pad_right, 1);
  EXPECT_EQ(avg.in_y, 4);
  EXPECT_EQ(avg.dims.OY, 4);
  EXPECT_EQ(avg.dims.FY, 3);
  const ir::Layer& gap = w->layers[1];
  EXPECT_EQ(gap.op, ir::OpKind::kGlobalAvgPool);
  EXPECT_EQ(gap.dims.FY, 4);
  EXPECT_EQ(gap.dims.K, 3);
  EXPECT_THAT(gap.inputs, ElementsAre(0));
}

TEST(Layers, ConcatOfDifferentLayersIsAnError) {
  GraphBuilder b;
  std::string x = b.Input("x", {1, 2, 4, 4});
  std::string c = TinyConv(b, x);
  b.Fill("W2", {3, 2, 1, 1}, 0.25f);
  onnx::NodeProto* cat = b.Node("Concat", {c, b.Op("Conv", {x, "W2"})});
  GraphBuilder::AttrInt(cat, "axis", 1);
  b.Output(cat->output(0));
  absl::Status s = Import(b, Steps(1)).status();
  EXPECT_THAT(s.message(), HasSubstr("(Concat)"));
}

// Reshape targets computed by Shape -> Gather -> Unsqueeze -> Concat fold.
TEST(Layers, ShapeChainsAreConstantFolded) {
  GraphBuilder b;
  std::string x = b.Input("x", {2, 1, 2, 4, 4});
  std::string shape = b.Op("Shape", {x});
  onnx::NodeProto* g = b.Node("Gather", {shape, b.Ints("i0", {0})});
  GraphBuilder::AttrInt(g, "axis", 0);
  std::string minus = b.Ints("m1", {-1});
  onnx::NodeProto* rest = b.Node("Slice", {shape, b.Ints("st", {2}), b.Ints("en", {5})});
  onnx::NodeProto* cat = b.Node("Concat", {minus, rest->output(0)});
  GraphBuilder::AttrInt(cat, "axis", 0);
  std::string flat = b.Op("Reshape", {x, cat->output(0)});
  b.Output(TinyConv(b, flat));
  importer::internal::Scope s(b.model().graph(), nullptr, 13);
  ASSERT_TRUE(s.Propagate().ok());
  const importer::internal::Tensor* c = s.ConstOf(s.Id(cat->output(0)));
  ASSERT_NE(c, nullptr);
  EXPECT_THAT(c->data, ElementsAre(-1, 2, 4, 4));
  EXPECT_THAT(*s.ShapeOf(s.Id(flat)), ElementsAre(2, 2, 4, 4));
  absl::StatusOr<ir::Workload> w = Import(b);
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ(w->timesteps, 2);  // axis 0 of the [T,B,...] input
  EXPECT_EQ(w->layers[0].dims.OY, 4);
}

// A conv output that is a neuron's current and is also read by another
// layer: the neuron goes on an identity `scale` layer over the conv, so the
// other reader gets the conv's output, not the spikes.
TEST(Layers, CurrentReadByAnotherLayerKeepsTheLayerOutput) {
  GraphBuilder b;
  std::string x = b.Input("x", {1, 2, 4, 4});
  std::string mem = b.Input("mem", {1, 3, 4, 4});
  b.Init("beta", {}, {0.9f});
  b.Init("thr", {}, {1.0f});
  std::string conv = TinyConv(b, x);
  Lif l = SnnTorchLeaky(b, conv, mem, Reset::kSubtract, "beta", "thr");
  b.Fill("Q", {3, 3, 1, 1}, 0.5f);
  std::string branch = b.Op("Conv", {conv, "Q"}, "branch");
  b.Output(l.spike);
  b.Output(l.mem_out);
  b.Output(branch);
  absl::StatusOr<ir::Workload> w = Import(b, Steps(2));
  ASSERT_TRUE(w.ok()) << w.status();
  ASSERT_EQ(w->layers.size(), 3u);
  const ir::Layer& c = w->layers[0];
  EXPECT_EQ(c.op, ir::OpKind::kConv);
  EXPECT_FALSE(c.spiking());
  int host = -1, reader = -1;
  for (size_t i = 1; i < w->layers.size(); ++i)
    (w->layers[i].spiking() ? host : reader) = static_cast<int>(i);
  ASSERT_GE(host, 0);
  ASSERT_GE(reader, 0);
  EXPECT_EQ(w->layers[host].op, ir::OpKind::kScale);
  EXPECT_THAT(w->layers[host].inputs, ElementsAre(0));
  EXPECT_TRUE(w->layers[host].params.post.empty());  // identity
  EXPECT_THAT(w->layers[reader].inputs, ElementsAre(0));
}

// Guard: readers that do not read the current's values (a shape query)
// leave the neuron on the conv itself.
TEST(Layers, NegativeShapeQueryOfTheCurrentIsNoReader) {
  GraphBuilder b;
  std::string x = b.Input("x", {1, 2, 4, 4});
  std::string mem = b.Input("mem", {1, 3, 4, 4});
  b.Init("beta", {}, {0.9f});
  b.Init("thr", {}, {1.0f});
  std::string conv = TinyConv(b, x);
  Lif l = SnnTorchLeaky(b, conv, mem, Reset::kSubtract, "beta", "thr");
  std::string shape = b.Op("Shape", {conv}, "shape_of_conv");
  std::string flat = b.Op("Reshape", {l.spike, shape}, "same_shape");
  b.Output(flat);
  b.Output(l.mem_out);
  absl::StatusOr<ir::Workload> w = Import(b, Steps(2));
  ASSERT_TRUE(w.ok()) << w.status();
  ASSERT_EQ(w->layers.size(), 1u);
  EXPECT_EQ(w->layers[0].op, ir::OpKind::kConv);
  EXPECT_TRUE(w->layers[0].spiking());
}

// x[B, C, H, W] -> Unsqueeze(0) -> Tile [3, 1, 1, 1, 1] -> [T*B, C, H, W]:
// the network input repeated over T = 3 steps (SpikingJelly's
// x.unsqueeze(0).repeat(T, ...)); `static_conv` puts a conv before the
// repetition (computed once), `axis` is the axis the Tile repeats.
GraphBuilder RepeatNet(bool static_conv, int axis = 0) {
  GraphBuilder b;
  std::string x = b.Input("x", {1, 2, 4, 4});
  std::string v = static_conv ? TinyConv(b, x) : x;
  const int64_t c = static_conv ? 3 : 2;
  std::string u = b.Op("Unsqueeze", {v, b.Ints(b.Fresh("ax"), {0})});
  std::vector<int64_t> reps = {1, 1, 1, 1, 1};
  reps[axis] = 3;
  std::string t = b.Op("Tile", {u, b.Ints(b.Fresh("reps"), reps)}, "tile");
  std::string flat = b.Op("Reshape", {t, b.Ints(b.Fresh("shape"), {-1, c, 4, 4})});
  b.Fill("W2", {3, c, 1, 1}, 0.25f);
  b.Output(b.Op("Conv", {flat, "W2"}, "per_step"));
  return b;
}

TEST(Layers, NetworkInputRepeatedOverTimeIsAStaticInput) {
  GraphBuilder b = RepeatNet(false);
  absl::StatusOr<ir::Workload> w = Import(b);
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ(w->timesteps, 3);
  ASSERT_EQ(w->layers.size(), 1u);
  EXPECT_EQ(w->layers[0].dims.T, 3);
  ASSERT_EQ(w->inputs.size(), 1u);
  EXPECT_EQ(w->inputs[0].kind, ir::BindingKind::kNetworkInput);
  EXPECT_EQ(w->inputs[0].steps, ir::BindingSteps::kNone);
}

TEST(Layers, LayerBeforeARepetitionRunsOnce) {
  GraphBuilder b = RepeatNet(true);
  absl::StatusOr<ir::Workload> w = Import(b);
  ASSERT_TRUE(w.ok()) << w.status();
  ASSERT_EQ(w->layers.size(), 2u);
  EXPECT_EQ(w->layers[0].dims.T, 1);  // the static conv
  EXPECT_EQ(w->layers[1].dims.T, 3);  // per_step reads its one output at every step
  EXPECT_THAT(w->layers[1].inputs, ElementsAre(0));
  EXPECT_EQ(w->inputs[0].steps, ir::BindingSteps::kNone);
}

// Guard: only a repetition along a new leading (time) axis.
TEST(Layers, NegativeTileAlongAnotherAxisIsRefused) {
  GraphBuilder b = RepeatNet(false, 2);
  absl::StatusOr<ir::Workload> w = Import(b, Steps(3));  // no time evidence in the graph
  ASSERT_FALSE(w.ok());
  EXPECT_THAT(std::string(w.status().message()), HasSubstr("repetition over time"));
}

TEST(Layers, JsonIsVersionedSortedAndComplete) {
  GraphBuilder b = SnnTorchStepNet(Reset::kSubtract);
  absl::StatusOr<ir::Workload> w = Import(b, Steps(3));
  ASSERT_TRUE(w.ok()) << w.status();
  nlohmann::json j = importer::ToJson(*w);
  EXPECT_EQ(j["schema_version"], 2);
  EXPECT_EQ(j["timesteps"], 3);
  const nlohmann::json& l = j["layers"][0];
  for (const char* k : {"name", "op", "block", "neuron", "neuron_kind", "reset", "states",
                        "weights", "out_shape"})
    EXPECT_TRUE(l.contains(k)) << k;
  EXPECT_EQ(l["neuron"], "stateful");
  EXPECT_EQ(l["reset"], "subtract");
  EXPECT_EQ(l["states"], 48);
  for (const char* k : {"conv", "linear", "pool", "spiking_layers", "stateful_layers", "states",
                        "weights"})
    EXPECT_TRUE(j["totals"].contains(k)) << k;
  EXPECT_EQ(j["totals"]["stateful_layers"], 1);
  EXPECT_EQ(j.dump(), importer::ToJson(*w).dump());  // deterministic
  std::string table = importer::DescribeTable(*w);
  EXPECT_THAT(table, HasSubstr("stateful lif subtract"));
  EXPECT_THAT(table, HasSubstr("48 neuron states"));
}

}  // namespace
}  // namespace snnplan::testing
