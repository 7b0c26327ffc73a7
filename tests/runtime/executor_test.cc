// The executor on tiny graphs whose results are computed here from the
// graph's own definition (in double): BatchNorm folded into the IR computes
// what Conv + BatchNormalization compute, and the activity a layer records
// is the density of the spikes it reads.
#include <cmath>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "importer/onnx_text.h"
#include "snnplan/runtime.h"

namespace snnplan::runtime {
namespace {

std::vector<float> Random(size_t n, uint32_t seed, float lo, float hi) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

std::string List(const std::vector<float>& v) {
  std::vector<std::string> s;
  for (float x : v) s.push_back(absl::StrFormat("%.9g", x));
  return absl::StrJoin(s, ", ");
}

absl::StatusOr<ir::Workload> Import(const std::string& text, int64_t t) {
  importer::ImportOptions o;
  o.timesteps = t;
  o.load_parameters = true;
  return testing::ImportText(text, o);
}

// x[1,2,3,3] -> Conv 1x1 (2 -> 2, bias) -> BatchNormalization -> y.
TEST(Executor, FoldedBatchNormComputesConvThenBatchNorm) {
  const std::vector<float> w = {0.5f, -1.25f, 2.0f, 0.75f}, b = {0.1f, -0.2f};
  const std::vector<float> gamma = {1.5f, -0.5f}, beta = {0.25f, 1.0f}, mean = {0.3f, -0.7f},
                           var = {2.0f, 0.05f};
  const std::string text = absl::StrCat(R"(<ir_version: 7, opset_import: ["" : 13]>
bn (float[1,2,3,3] x) => (float[1,2,3,3] y)
<float[2,2,1,1] W = {)", List(w), "}, float[2] B = {", List(b), "}, float[2] g = {", List(gamma),
                                        "}, float[2] be = {", List(beta), "}, float[2] m = {",
                                        List(mean), "}, float[2] v = {", List(var), R"(}> {
  c = Conv(x, W, B)
  y = BatchNormalization(c, g, be, m, v)
})");
  absl::StatusOr<ir::Workload> wl = Import(text, 1);
  ASSERT_TRUE(wl.ok()) << wl.status();
  Array x{DType::kFloat32, {1, 2, 3, 3}, Random(18, 7, -2.0f, 2.0f)};
  absl::StatusOr<RunResult> r = RunWorkload(*wl, {{"x", x}}, {});
  ASSERT_TRUE(r.ok()) << r.status();
  const Array& y = r->outputs.at("y");
  ASSERT_EQ(y.values.size(), 18u);
  const double eps = 1e-5;  // BatchNormalization's default epsilon
  for (int k = 0; k < 2; ++k)
    for (int p = 0; p < 9; ++p) {
      double c = b[k] + double(w[k * 2]) * x.values[p] + double(w[k * 2 + 1]) * x.values[9 + p];
      double want = gamma[k] * (c - mean[k]) / std::sqrt(var[k] + eps) + beta[k];
      // float32 rounding of a few products and the folded scale/shift.
      EXPECT_NEAR(y.values[k * 9 + p], want, 1e-5 * (1 + std::fabs(want))) << k << "," << p;
    }
}

// x -> Conv1 -> spikes s (a graph output, H(c1 - 1)) -> Conv2 -> y, run for
// 3 steps: Conv2's recorded activity is the density of s, step by step.
TEST(Executor, ActivityIsTheDensityOfTheSpikesALayerReads) {
  const std::string text = absl::StrCat(R"(<ir_version: 7, opset_import: ["" : 13]>
act (float[1,2,4,4] x) => (float[1,3,4,4] s, float[1,2,4,4] y)
<float[3,2,1,1] W1 = {)", List(Random(6, 3, -1.5f, 1.5f)), "}, float[2,3,1,1] W2 = {",
                                        List(Random(6, 4, -1.0f, 1.0f)), R"(}, float thr = {1.0}> {
  c1 = Conv(x, W1)
  d = Sub(c1, thr)
  z = Constant<value = float {0.0}>()
  f = GreaterOrEqual(d, z)
  s = Cast<to = 1>(f)
  y = Conv(s, W2)
})");
  absl::StatusOr<ir::Workload> wl = Import(text, 3);
  ASSERT_TRUE(wl.ok()) << wl.status();
  ASSERT_EQ(wl->layers.size(), 2u);
  Array x{DType::kFloat32, {3, 1, 2, 4, 4}, Random(96, 11, -2.0f, 2.0f)};
  RunOptions o;
  o.activity = true;
  absl::StatusOr<RunResult> r = RunWorkload(*wl, {{"x", x}}, o);
  ASSERT_TRUE(r.ok()) << r.status();
  const Array& s = r->outputs.at("s");
  ASSERT_EQ(s.values.size(), 3u * 48);
  const LayerActivity& conv2 = r->activity.at(1);
  ASSERT_EQ(conv2.nonzero.size(), 3u);
  int64_t any = 0;
  for (int t = 0; t < 3; ++t) {
    int64_t nonzero = 0;
    for (int i = 0; i < 48; ++i) {
      const float v = s.values[t * 48 + i];
      EXPECT_TRUE(v == 0.0f || v == 1.0f);
      nonzero += v != 0.0f;
    }
    EXPECT_EQ(conv2.nonzero[t], nonzero) << "step " << t;
    EXPECT_EQ(conv2.total[t], 48) << "step " << t;
    any += nonzero;
  }
  EXPECT_GT(any, 0);    // the test means something: some spikes...
  EXPECT_LT(any, 144);  // ...and some silence
  // Round trip through the activity file.
  ActivityProfile p;
  ASSERT_TRUE(AddActivity(*r, &p).ok());
  ASSERT_TRUE(AddActivity(*r, &p).ok());
  const std::string json = ActivityJson(p, "act.onnx", "0");
  EXPECT_NE(json.find(absl::StrCat("\"input_nonzero\": ", 2 * any)), std::string::npos) << json;
  EXPECT_NE(json.find("\"samples\": 2"), std::string::npos);
}

TEST(Executor, MissingParametersAreRefused) {
  const std::string text = R"(<ir_version: 7, opset_import: ["" : 13]>
p (float[1,2,3,3] x) => (float[1,2,3,3] y) <float[2,2,1,1] W = {1, 2, 3, 4}> {
  y = Conv(x, W)
})";
  importer::ImportOptions o;
  o.timesteps = 1;  // load_parameters left false: shapes only
  absl::StatusOr<ir::Workload> wl = testing::ImportText(text, o);
  ASSERT_TRUE(wl.ok()) << wl.status();
  Array x{DType::kFloat32, {1, 2, 3, 3}, std::vector<float>(18, 1.0f)};
  absl::StatusOr<RunResult> r = RunWorkload(*wl, {{"x", x}}, {});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(std::string(r.status().message()).find("parameters not loaded"), std::string::npos);
}

// A delayed input (recurrence) reads its producer's previous step, zeros
// at step 0; a delayed layer that does not run every step is refused.
TEST(Executor, DelayedInputReadsThePreviousStep) {
  const std::string text = R"(<ir_version: 7, opset_import: ["" : 13]>
p (float[1,4] x) => (float[1,4] y) {
  y = Relu(x)
})";
  absl::StatusOr<ir::Workload> wl = Import(text, 3);
  ASSERT_TRUE(wl.ok()) << wl.status();
  ASSERT_EQ(wl->layers.size(), 1u);
  wl->layers[0].input_delayed = {1};
  const std::vector<float> steps = {1, -2, 3, 4, /**/ 5, 6, -7, 8, /**/ 9, 10, 11, 12};
  Array x{DType::kFloat32, {3, 1, 4}, steps};
  absl::StatusOr<RunResult> r = RunWorkload(*wl, {{"x", x}}, {});
  ASSERT_TRUE(r.ok()) << r.status();
  std::vector<float> want(4, 0.0f);  // step 0: zeros
  for (size_t i = 0; i < 8; ++i)
    want.push_back(std::max(0.0f, steps[i]));  // steps 1, 2: relu(x[t-1])
  EXPECT_EQ(r->outputs.at("y").values, want) << List(r->outputs.at("y").values);

  wl->layers[0].dims.T = 1;
  absl::StatusOr<RunResult> once = RunWorkload(*wl, {{"x", x}}, {});
  ASSERT_FALSE(once.ok());
  EXPECT_NE(std::string(once.status().message()).find("must run every step"), std::string::npos);
}

// A single-step export's `spk` input (previous_output binding) is what the
// delayed edge reads at step 0; without it, zeros.
TEST(Executor, PreviousOutputInputFeedsStepZero) {
  const std::string text = R"(<ir_version: 7, opset_import: ["" : 13]>
p (float[1,4] x) => (float[1,4] y) {
  y = Relu(x)
})";
  absl::StatusOr<ir::Workload> wl = Import(text, 3);
  ASSERT_TRUE(wl.ok()) << wl.status();
  ASSERT_EQ(wl->layers.size(), 1u);
  wl->layers[0].inputs = {0};  // relu of its own previous output
  wl->layers[0].input_delayed = {1};
  ir::Binding prev;
  prev.name = "prev";
  prev.kind = ir::BindingKind::kPreviousOutput;
  prev.steps = ir::BindingSteps::kOne;
  prev.layer = 0;
  prev.shape = {1, 4};
  wl->inputs.push_back(prev);
  Array x{DType::kFloat32, {3, 1, 4}, std::vector<float>(12, 0.0f)};
  Array given{DType::kFloat32, {1, 4}, {1, -2, 3, 4}};
  absl::StatusOr<RunResult> r = RunWorkload(*wl, {{"x", x}, {"prev", given}}, {});
  ASSERT_TRUE(r.ok()) << r.status();
  const std::vector<float> once = {1, 0, 3, 4};  // relu(prev), then relu of itself
  std::vector<float> want;
  for (int t = 0; t < 3; ++t) want.insert(want.end(), once.begin(), once.end());
  EXPECT_EQ(r->outputs.at("y").values, want) << List(r->outputs.at("y").values);

  absl::StatusOr<RunResult> zeros = RunWorkload(*wl, {{"x", x}}, {});
  ASSERT_TRUE(zeros.ok()) << zeros.status();
  EXPECT_EQ(zeros->outputs.at("y").values, std::vector<float>(12, 0.0f));

  Array wrong{DType::kFloat32, {1, 3}, {1, 2, 3}};
  absl::StatusOr<RunResult> bad = RunWorkload(*wl, {{"x", x}, {"prev", wrong}}, {});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(std::string(bad.status().message()).find("prev"), std::string::npos) << bad.status();
}

}  // namespace
}  // namespace snnplan::runtime
