// The real exports in models/ (copies of the shared fixtures): every count
// of models/README-style expectations (see the fixtures' README).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <numeric>

#include "snnplan/importer.h"

namespace snnplan {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;

std::string Model(const std::string& name) {
  return std::string(SNNPLAN_SOURCE_DIR) + "/models/" + name;
}

ir::Workload Load(const std::string& name, importer::ImportOptions o = {}) {
  absl::StatusOr<ir::Workload> w = importer::ImportFile(Model(name), o);
  EXPECT_TRUE(w.ok()) << w.status();
  return w.ok() ? *w : ir::Workload{};
}

importer::ImportOptions Steps(int64_t t) {
  importer::ImportOptions o;
  o.timesteps = t;
  return o;
}

int Count(const ir::Workload& w, ir::OpKind k) {
  return static_cast<int>(std::count_if(w.layers.begin(), w.layers.end(),
                                        [&](const ir::Layer& l) { return l.op == k; }));
}
int Pools(const ir::Workload& w) {
  return Count(w, ir::OpKind::kMaxPool) + Count(w, ir::OpKind::kAvgPool) +
         Count(w, ir::OpKind::kGlobalAvgPool);
}
std::vector<int64_t> States(const ir::Workload& w) {
  std::vector<int64_t> s;
  for (const ir::Layer& l : w.layers)
    if (l.spiking()) s.push_back(l.NeuronStates());
  return s;
}
std::vector<int64_t> Weights(const ir::Workload& w) {
  std::vector<int64_t> s;
  for (const ir::Layer& l : w.layers)
    if (l.has_weights()) s.push_back(l.weight_elements);
  return s;
}
int64_t TotalWeights(const ir::Workload& w) {
  int64_t n = 0;
  for (const ir::Layer& l : w.layers) n += l.weight_elements;
  return n;
}
std::vector<int> Blocks(const ir::Workload& w) {
  std::vector<int> b;
  for (const ir::Layer& l : w.layers) b.push_back(l.block);
  return b;
}

void ExpectLeaky(const ir::Layer& l, ir::ResetMode reset) {
  EXPECT_EQ(l.neuron.kind, "lif") << l.name;
  EXPECT_EQ(l.neuron.states_per_neuron, 1) << l.name;
  EXPECT_EQ(l.neuron.reset, reset) << l.name;
  EXPECT_NEAR(l.neuron.decay.value, 0.9, 1e-6) << l.name;
  EXPECT_NEAR(l.neuron.threshold.value, 1.0, 1e-6) << l.name;
  EXPECT_FALSE(l.neuron.decay.per_neuron);
  EXPECT_FALSE(l.neuron.decay_input);
}

void ExpectNmnist(const ir::Workload& w, int64_t T) {
  EXPECT_EQ(w.timesteps, T);
  EXPECT_EQ(w.batch, 1);
  EXPECT_EQ(Count(w, ir::OpKind::kConv), 2);
  EXPECT_EQ(Count(w, ir::OpKind::kLinear), 1);
  EXPECT_EQ(Pools(w), 1);
  EXPECT_THAT(States(w), ElementsAre(10800, 21632, 10));
  EXPECT_EQ(w.TotalNeuronStates(), 32442);
  EXPECT_THAT(Weights(w), ElementsAre(612, 9632, 54090));
  EXPECT_EQ(TotalWeights(w), 64334);
  for (const ir::Layer& l : w.layers) {
    EXPECT_EQ(l.dims.T, T);
    if (l.spiking()) {
      EXPECT_TRUE(l.stateful());
      ExpectLeaky(l, ir::ResetMode::kSubtract);
    }
  }
  ASSERT_EQ(w.layers.size(), 4u);
  const ir::Layer& conv1 = w.layers[0];
  EXPECT_EQ(conv1.dims.K, 12);
  EXPECT_EQ(conv1.dims.C, 2);
  EXPECT_EQ(conv1.dims.FY, 5);
  EXPECT_EQ(conv1.dims.OY, 30);
  EXPECT_EQ(conv1.in_y, 34);
  EXPECT_EQ(conv1.precision.input_bits, 4);   // analog network input
  EXPECT_EQ(w.layers[1].precision.input_bits, 1);  // spikes
  const ir::Layer& pool = w.layers[2];
  EXPECT_EQ(pool.op, ir::OpKind::kMaxPool);
  EXPECT_FALSE(pool.spiking());
  EXPECT_EQ(pool.window.stride_y, 2);
  EXPECT_EQ(pool.dims.K, 32);
  EXPECT_EQ(pool.dims.OY, 13);
  const ir::Layer& fc = w.layers[3];
  EXPECT_EQ(fc.dims.K, 10);
  EXPECT_EQ(fc.dims.C, 5408);
  EXPECT_TRUE(fc.network_output);
  EXPECT_THAT(fc.out_shape, ElementsAre(10));
  EXPECT_THAT(Blocks(w), ElementsAre(0, 1, 1, 2));
}

TEST(Fixtures, SnnTorchNmnistStepOpset13And17) {
  for (const char* f : {"snntorch_nmnist_step_op13.onnx", "snntorch_nmnist_step_op17.onnx"}) {
    SCOPED_TRACE(f);
    ExpectNmnist(Load(f, Steps(4)), 4);
  }
}

TEST(Fixtures, SnnTorchNmnistUnrolledOpset13And17) {
  for (const char* f :
       {"snntorch_nmnist_unrolled_T4_op13.onnx", "snntorch_nmnist_unrolled_T4_op17.onnx"}) {
    SCOPED_TRACE(f);
    ExpectNmnist(Load(f), 4);
  }
}

// Same net, two export forms: the IR agrees apart from names and the source.
TEST(Fixtures, UnrolledAndSingleStepGiveTheSameIr) {
  ir::Workload step = Load("snntorch_nmnist_step_op13.onnx", Steps(4));
  ir::Workload unrolled = Load("snntorch_nmnist_unrolled_T4_op13.onnx");
  ASSERT_EQ(step.layers.size(), unrolled.layers.size());
  EXPECT_EQ(step.timesteps, unrolled.timesteps);
  EXPECT_EQ(step.batch, unrolled.batch);
  EXPECT_EQ(step.num_blocks, unrolled.num_blocks);
  for (size_t i = 0; i < step.layers.size(); ++i) {
    ir::Layer a = step.layers[i], b = unrolled.layers[i];
    a.name = b.name = "";
    EXPECT_EQ(a.op, b.op) << i;
    EXPECT_EQ(a.inputs, b.inputs) << i;
    EXPECT_EQ(a.dims, b.dims) << i;
    EXPECT_EQ(a.window, b.window) << i;
    EXPECT_EQ(a.neuron, b.neuron) << i;
    EXPECT_EQ(a.precision, b.precision) << i;
    EXPECT_EQ(a.weight_elements, b.weight_elements) << i;
    EXPECT_EQ(a.out_shape, b.out_shape) << i;
    EXPECT_EQ(a.network_output, b.network_output) << i;
    EXPECT_EQ(a.block, b.block) << i;
  }
}

TEST(Fixtures, RedLifTrunk) {
  ir::Workload w = Load("snntorch_redlif_trunk_step_op13.onnx", Steps(12));
  EXPECT_EQ(w.timesteps, 12);
  EXPECT_EQ(Count(w, ir::OpKind::kConv), 14);
  EXPECT_EQ(Count(w, ir::OpKind::kLinear), 0);
  EXPECT_EQ(Count(w, ir::OpKind::kAdd), 3);
  EXPECT_EQ(Count(w, ir::OpKind::kRelu), 0);  // all 7 ReLUs fuse
  EXPECT_THAT(States(w), ElementsAre(61440, 15360, 3840, 1536, 512));
  EXPECT_EQ(w.TotalNeuronStates(), 82688);
  EXPECT_EQ(TotalWeights(w), 3108000);
  EXPECT_THAT(Weights(w), ElementsAre(9440, 18496, 36928, 18496, 36928, 36928, 73856, 147584,
                                      73856, 295168, 590080, 590080, 590080, 590080));
  for (const ir::Layer& l : w.layers)
    if (l.spiking()) ExpectLeaky(l, ir::ResetMode::kSubtract);
  // Stateless front end: stem + res1..res3 carry no neurons.
  for (size_t i = 0; i < 12; ++i) EXPECT_FALSE(w.layers[i].spiking()) << w.layers[i].name;
  EXPECT_EQ(w.num_blocks, 8);
  EXPECT_THAT(Blocks(w), ElementsAre(0, 0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 2, 3, 4, 5, 6, 7));
  EXPECT_EQ(w.layers[0].window.stride_y, 2);
  EXPECT_EQ(w.layers[0].window.pad_top, 3);
  EXPECT_EQ(w.layers[0].dims.OY, 45);
  EXPECT_EQ(w.layers[0].dims.OX, 80);
}

TEST(Fixtures, RedLifTrunkAtPaperResolution) {
  importer::ImportOptions o = Steps(12);
  o.input_shapes["x"] = {6, 360, 640};
  ir::Workload w = Load("snntorch_redlif_trunk_step_op13.onnx", o);
  EXPECT_THAT(States(w), ElementsAre(256 * 45 * 80, 256 * 23 * 40, 256 * 12 * 20,
                                     256 * 6 * 10, 256 * 3 * 5));
  EXPECT_EQ(w.layers[0].dims.OY, 180);
  EXPECT_EQ(w.layers[0].in_x, 640);
  EXPECT_EQ(TotalWeights(w), 3108000);  // weights do not depend on the input size
}

// The SEW-ResNet block structure shared by the four SEW files.
void ExpectSew(const ir::Workload& w, bool sew5, int64_t total_weights) {
  EXPECT_EQ(w.timesteps, 16);
  EXPECT_EQ(w.batch, 1);
  EXPECT_EQ(Count(w, ir::OpKind::kConv), 16);
  EXPECT_EQ(Count(w, ir::OpKind::kLinear), 1);
  EXPECT_EQ(Count(w, ir::OpKind::kMaxPool), 7);
  EXPECT_EQ(Count(w, ir::OpKind::kSewAdd), 7);  // every join adds spikes (truth table of a + b)
  EXPECT_EQ(Count(w, ir::OpKind::kBatchNorm), 0);  // all folded into convs
  EXPECT_EQ(Count(w, ir::OpKind::kTimeMean), 1);
  EXPECT_EQ(TotalWeights(w), total_weights);
  int64_t conv_kernels = 0;
  std::vector<int64_t> neurons;
  int stateless = 0;
  for (const ir::Layer& l : w.layers) {
    if (l.op == ir::OpKind::kConv) {
      conv_kernels += l.WeightsUsed();
      EXPECT_TRUE(l.spiking()) << l.name;
      neurons.push_back(l.OutputElementsPerStep());
      EXPECT_NEAR(l.neuron.threshold.value, 1.0, 1e-6);
      if (l.stateful()) {
        EXPECT_EQ(l.neuron.reset, ir::ResetMode::kZero) << l.name;
        EXPECT_NEAR(l.neuron.decay.value, 0.5, 1e-6) << l.name;  // tau = 2
        EXPECT_TRUE(l.neuron.decay_input);
      } else {
        ++stateless;
      }
    }
    if (l.op == ir::OpKind::kLinear) {
      EXPECT_EQ(l.dims.T, 1);  // after the mean over time
      EXPECT_EQ(l.weight_elements, 1290);
      EXPECT_TRUE(l.network_output);
    }
  }
  EXPECT_EQ(conv_kernels, 1187968);
  EXPECT_THAT(neurons, ElementsAreArray<int64_t>({1048576, 1048576, 1048576, 262144, 262144,
                                                  65536, 65536, 16384, 16384, 8192, 8192, 8192,
                                                  2048, 2048, 512, 512}));
  EXPECT_EQ(stateless, sew5 ? 5 : 0);
  EXPECT_EQ(w.TotalNeuronStates(), sew5 ? 193536 : 3863552);
  if (sew5) {
    // stem + blocks 1-2 (the first 5 convs) are the stateless ones.
    for (int i : {0, 1, 2, 5, 6}) EXPECT_FALSE(w.layers[i].stateful()) << w.layers[i].name;
  }
  // 7 blocks: stem joins block 0, trans joins block 4, head joins block 6.
  EXPECT_EQ(w.num_blocks, 7);
  EXPECT_THAT(Blocks(w), ElementsAreArray({0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3,
                                           4, 4, 4, 4, 4, 5, 5, 5, 5, 6, 6, 6, 6, 6, 6}));
  EXPECT_EQ(w.layers[3].precision.output_bits, 1);  // SEW OR by default
}

TEST(Fixtures, SewResNet7Loop) {
  ExpectSew(Load("sj_sew7_T16_loop_op13.onnx"), false, 1195146);
}
TEST(Fixtures, SewResNet5Loop) {
  ExpectSew(Load("sj_sew5_T16_loop_op13.onnx"), true, 1195146);
}
TEST(Fixtures, SewResNet7Lynxi) {
  ExpectSew(Load("sj_sew7_T16_lynxi_unrolled_op13.onnx"), false, 1190730);
}
TEST(Fixtures, SewResNet5Lynxi) {
  ExpectSew(Load("sj_sew5_T16_lynxi_unrolled_op13.onnx"), true, 1190730);
}

TEST(Fixtures, StatelessBlocksOption) {
  importer::ImportOptions o;
  o.stateless_blocks = {0, 1};
  ir::Workload w = Load("sj_sew7_T16_loop_op13.onnx", o);
  // SEW-7 with blocks 0-1 stateless = the SEW-5 state count.
  EXPECT_EQ(w.TotalNeuronStates(), 193536);
}

TEST(Fixtures, SewJoinBitsOption) {
  importer::ImportOptions o;
  o.sew_join_bits = 2;
  ir::Workload w = Load("sj_sew7_T16_loop_op13.onnx", o);
  EXPECT_EQ(w.layers[3].op, ir::OpKind::kSewAdd);
  EXPECT_EQ(w.layers[3].precision.output_bits, 2);
  EXPECT_EQ(w.layers[4].precision.output_bits, 2);  // max-pooled join values
  EXPECT_EQ(w.layers[5].precision.input_bits, 2);
}

TEST(Fixtures, NonStandardResets) {
  ir::Workload zero = Load("bad/nonstandard_lif_zero_reset_snntorch.onnx", Steps(4));
  EXPECT_EQ(zero.TotalNeuronStates(), 32442);
  for (const ir::Layer& l : zero.layers)
    if (l.spiking()) ExpectLeaky(l, ir::ResetMode::kZero);
  ir::Workload soft = Load("bad/nonstandard_lif_soft_reset_sj_loop.onnx");
  EXPECT_EQ(soft.timesteps, 4);
  int spiking = 0;
  for (const ir::Layer& l : soft.layers) {
    if (!l.spiking()) continue;
    ++spiking;
    EXPECT_EQ(l.neuron.reset, ir::ResetMode::kSubtract);
    EXPECT_FALSE(l.neuron.decay_input);
    EXPECT_NEAR(l.neuron.decay.value, 0.5, 1e-6);
  }
  EXPECT_EQ(spiking, 2);
}

TEST(Fixtures, DynamicBatchPinned) {
  importer::ImportOptions o = Steps(4);
  o.batch = 3;
  ir::Workload w = Load("bad/dynamic_batch_snntorch_step.onnx", o);
  EXPECT_EQ(w.batch, 3);
  EXPECT_EQ(w.TotalNeuronStates(), 32442);  // per sample
}

TEST(Fixtures, DynamicBatchAndTimePinned) {
  importer::ImportOptions o = Steps(8);
  o.batch = 2;  // the export baked batch 2 into its initial membranes
  ir::Workload w = Load("bad/dynamic_batch_time_sj_loop.onnx", o);
  EXPECT_EQ(w.timesteps, 8);
  EXPECT_EQ(w.batch, 2);
  EXPECT_EQ(w.TotalNeuronStates(), 8 * 34 * 34 + 16 * 17 * 17);
}

TEST(Fixtures, ModelIdentity) {
  ir::Workload w = Load("snntorch_nmnist_step_op13.onnx", Steps(4));
  EXPECT_EQ(w.model_file, "snntorch_nmnist_step_op13.onnx");
  EXPECT_EQ(w.model_sha256.size(), 64u);
}

}  // namespace
}  // namespace snnplan
