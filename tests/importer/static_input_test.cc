// snnTorch's static input (tutorials 5 and 6): `cur1 = fc1(x)` inside the
// time loop over the same x exports ONE layer node whose output every
// unrolled membrane update reads. The importer gives each update its own
// copy of that step-independent subgraph before matching neurons
// (importer/src/unshare.cc) and keeps the rewrite only when each copy is the
// current of one step of one neuron.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "onnx_text.h"

namespace snnplan::testing {
namespace {

using ::testing::HasSubstr;

constexpr char kHeader[] = R"(<ir_version: 7, opset_import: ["" : 13]>
g (float[1,3] x) => (float[3,1,3] spk_rec)
<float[3,3] W = {0.9, -0.2, 0.5, 0.4, 0.8, -0.3, 0.2, 0.5, 0.9},
 float[3,3] W2 = {0.7, 0.1, 0.2, 0.3, 0.6, 0.1, 0.2, 0.2, 0.8},
 float thr = {1.0}, float beta = {0.9}, float zero = {0.0}, float half = {0.5}, int64[1] ax = {0}>
{
)";

// One snnTorch Leaky step (reset decided on the incoming membrane, subtracted)
// reading current `cur`: defines <p>m<t> and <p>s<t> (`p` prefixes its values).
std::string LeakyStep(int t, const std::string& cur, const std::string& p = "") {
  auto v = [&](const char* name, int step) { return absl::StrCat(p, name, step); };
  if (t == 0)
    return absl::StrCat("  ", v("z", 0), " = Mul(beta, zero)\n  ", v("m", 0), " = Add(", v("z", 0),
                        ", ", cur, ")\n  ", v("d", 0), " = Sub(", v("m", 0), ", thr)\n  ",
                        v("b", 0), " = Greater(", v("d", 0), ", zero)\n  ", v("s", 0),
                        " = Cast <to = 1> (", v("b", 0), ")\n");
  return absl::StrCat("  ", v("rb", t), " = Greater(", v("d", t - 1), ", zero)\n  ", v("r", t),
                      " = Cast <to = 1> (", v("rb", t), ")\n  ", v("bm", t), " = Mul(beta, ",
                      v("m", t - 1), ")\n  ", v("a", t), " = Add(", v("bm", t), ", ", cur, ")\n  ",
                      v("rt", t), " = Mul(", v("r", t), ", thr)\n  ", v("m", t), " = Sub(",
                      v("a", t), ", ", v("rt", t), ")\n  ", v("d", t), " = Sub(", v("m", t),
                      ", thr)\n  ", v("b", t), " = Greater(", v("d", t), ", zero)\n  ", v("s", t),
                      " = Cast <to = 1> (", v("b", t), ")\n");
}

// Stacks s0, s1, s2 as the output.
constexpr char kStack[] = R"(  u0 = Unsqueeze(s0, ax)
  u1 = Unsqueeze(s1, ax)
  u2 = Unsqueeze(s2, ax)
  spk_rec = Concat <axis = 0> (u0, u1, u2)
}
)";

// Three unrolled steps; step t reads current `cur[t]` (defined by `pre`).
std::string Unrolled(const std::string& pre, const std::vector<std::string>& cur) {
  std::string s = absl::StrCat(kHeader, pre);
  for (int t = 0; t < 3; ++t) s += LeakyStep(t, cur[t]);
  return s + kStack;
}

TEST(StaticInput, SharedCurrentOfEveryStepIsAStaticInput) {
  absl::StatusOr<ir::Workload> w = ImportText(Unrolled("  I = MatMul(x, W)\n", {"I", "I", "I"}));
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ(w->timesteps, 3);
  ASSERT_EQ(w->layers.size(), 1u);
  const ir::Layer& l = w->layers[0];
  EXPECT_EQ(l.op, ir::OpKind::kLinear);
  EXPECT_EQ(l.dims.T, 3);
  EXPECT_EQ(l.neuron.kind, "lif");
  EXPECT_EQ(l.neuron.reset, ir::ResetMode::kSubtract);
  EXPECT_NEAR(l.neuron.decay.value, 0.9, 1e-6);
  ASSERT_EQ(w->inputs.size(), 1u);
  EXPECT_EQ(w->inputs[0].kind, ir::BindingKind::kNetworkInput);
  EXPECT_EQ(w->inputs[0].steps, ir::BindingSteps::kNone);  // given once, read at every step
  ASSERT_EQ(w->outputs.size(), 1u);
  EXPECT_EQ(w->outputs[0].steps, ir::BindingSteps::kAll);
}

// The same net with one MatMul per step (an ordinary unrolled export of the
// same computation) imports to the same layers; only the input differs.
TEST(StaticInput, SameLayerAsOneNodePerStep) {
  absl::StatusOr<ir::Workload> shared =
      ImportText(Unrolled("  I = MatMul(x, W)\n", {"I", "I", "I"}));
  absl::StatusOr<ir::Workload> copies = ImportText(Unrolled(
      "  I0 = MatMul(x, W)\n  I1 = MatMul(x, W)\n  I2 = MatMul(x, W)\n", {"I0", "I1", "I2"}));
  ASSERT_TRUE(shared.ok()) << shared.status();
  ASSERT_TRUE(copies.ok()) << copies.status();
  ASSERT_EQ(shared->layers.size(), copies->layers.size());
  EXPECT_EQ(shared->layers[0].neuron.kind, copies->layers[0].neuron.kind);
  EXPECT_EQ(shared->layers[0].dims.T, copies->layers[0].dims.T);
  EXPECT_EQ(shared->TotalNeuronStates(), copies->TotalNeuronStates());
}

// Guard: a shared tensor that is not step-independent (the current of the
// first step of a time-sequenced input, x[0], read at every step) is still
// refused, naming the node that computes it.
TEST(StaticInput, SharedTensorOfOneTimeStepIsRefusedNamingTheNode) {
  std::string text =
      Unrolled("  x0 = Gather <axis = 0> (xs, i0)\n  I = MatMul(x0, W)\n", {"I", "I", "I"});
  text = absl::StrReplaceAll(text, {{"(float[1,3] x)", "(float[3,1,3] xs)"},
                                    {"int64[1] ax = {0}", "int64[1] ax = {0}, int64 i0 = {0}"}});
  absl::StatusOr<ir::Workload> w = ImportText(text);
  ASSERT_FALSE(w.ok());
  EXPECT_THAT(w.status().message(), HasSubstr("reads I (computed by node"));
  EXPECT_THAT(w.status().message(), HasSubstr("beyond the state carried between steps"));
}

// Guard: a step-independent tensor that some steps read and others do not
// is no static input of the neuron; refused naming the node that computes it.
TEST(StaticInput, SharedByOnlySomeStepsIsRefusedNamingTheNode) {
  absl::StatusOr<ir::Workload> w =
      ImportText(Unrolled("  I = MatMul(x, W)\n  K = MatMul(x, W2)\n", {"I", "K", "I"}));
  ASSERT_FALSE(w.ok());
  EXPECT_THAT(w.status().message(), HasSubstr("I (computed by node"));
  EXPECT_THAT(w.status().message(), HasSubstr("is read by 2 nodes"));
  EXPECT_THAT(w.status().message(), HasSubstr("runs 3 steps, not one per read"));
}

// A current read twice within one step (single-step export) is not a static
// input: the rewrite is dropped and the graph imports as exported.
TEST(StaticInput, CurrentReadTwiceInOneStepImportsAsExported) {
  absl::StatusOr<ir::Workload> w = ImportText(R"(<ir_version: 7, opset_import: ["" : 13]>
g (float[1,3] x, float[1,3] mem) => (float[1,3] spk, float[1,3] mem_out)
<float[3,3] W = {0.9, -0.2, 0.5, 0.4, 0.8, -0.3, 0.2, 0.5, 0.9}, float thr = {1.0},
 float beta = {0.9}, float half = {0.5}>
{
  I = MatMul(x, W)
  bm = Mul(beta, mem)
  a = Add(bm, I)
  hi = Mul(half, I)
  mem_out = Add(a, hi)
  b = Greater(mem_out, thr)
  spk = Cast <to = 1> (b)
}
)",
                                              [] {
                                                importer::ImportOptions o;
                                                o.timesteps = 3;
                                                return o;
                                              }());
  ASSERT_TRUE(w.ok()) << w.status();
  ASSERT_EQ(w->layers.size(), 1u);
  EXPECT_NEAR(w->layers[0].neuron.input_gain.value, 1.5, 1e-6);
}

}  // namespace
}  // namespace snnplan::testing
