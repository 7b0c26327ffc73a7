// Property tests: neurons with random parameters, written as unrolled and
// single-step graphs, import with exactly those parameters (the importer's
// self-check passing on each); and the self-check has teeth: an unrolled
// graph whose steps disagree is refused.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "onnx_text.h"

namespace snnplan::testing {
namespace {

using ::testing::HasSubstr;

enum class Reset { kSubtract, kZero, kNone };

struct LeakyParams {
  std::vector<float> beta;  // 1 (scalar) or 3 (one per neuron)
  float thr = 1.0f;
  float gain = 1.0f;
  Reset reset = Reset::kSubtract;
};

// Exact decimal text of a float32 (9 significant digits round-trip).
std::string Num(float f) { return absl::StrFormat("%.9g", f); }

std::string Floats(const std::vector<float>& v) {
  return absl::StrJoin(v, ", ", [](std::string* out, float f) { absl::StrAppend(out, Num(f)); });
}

// snnTorch Leaky (onnx-patterns.md 1.1) over a 3-feature linear layer.
// `steps` == 0: one step with the membrane as graph input/output; otherwise
// unrolled over that many steps from a zero membrane. `odd_step` uses beta2
// instead of beta at that step (-1: none).
std::string LeakyModel(const LeakyParams& p, int steps, int odd_step = -1) {
  const bool step_form = steps == 0;
  const int T = step_form ? 1 : steps;
  std::string beta_type = p.beta.size() == 1 ? "float" : "float[3]";
  std::string inits = absl::StrCat(
      "float[3,3] W = {0.5, -0.2, 0.3, 0.1, 0.6, -0.4, 0.2, 0.2, 0.7}, ", beta_type, " beta = {", Floats(p.beta),
      "}, ", beta_type, " beta2 = {", Floats(std::vector<float>(p.beta.size(), 0.123f)), "}, float thr = {", Num(p.thr),
      "}, float gain = {", Num(p.gain), "}, float zero = {0.0}, float one = {1.0}, float[1,3] z = {0, 0, 0}");
  std::string body;
  std::string prev = step_form ? "mem" : "z";
  std::vector<std::string> spikes;
  for (int t = 0; t < T; ++t) {
    std::string s = absl::StrCat("_", t);
    std::string x = "x";
    if (!step_form) {
      absl::StrAppend(&inits, ", int64 i", t, " = {", t, "}");
      absl::StrAppend(&body, "  xt", s, " = Gather <axis = 0> (x, i", t, ")\n");
      x = "xt" + s;
    }
    std::string beta = t == odd_step ? "beta2" : "beta";
    absl::StrAppend(&body, "  I", s, " = MatMul(", x, ", W)\n  c", s, " = Mul(I", s, ", gain)\n");
    absl::StrAppend(&body, "  rp", s, " = Sub(", prev, ", thr)\n  rb", s, " = Greater(rp", s, ", zero)\n  r", s,
                    " = Cast <to = 1> (rb", s, ")\n");
    std::string m = step_form ? "mem_out" : "m" + s;
    switch (p.reset) {
      case Reset::kSubtract:
        absl::StrAppend(&body, "  bm", s, " = Mul(", beta, ", ", prev, ")\n  acc", s, " = Add(bm", s, ", c", s,
                        ")\n  rt", s, " = Mul(r", s, ", thr)\n  ", m, " = Sub(acc", s, ", rt", s, ")\n");
        break;
      case Reset::kZero:
        absl::StrAppend(&body, "  keep", s, " = Sub(one, r", s, ")\n  kp", s, " = Mul(keep", s, ", ", prev,
                        ")\n  bm", s, " = Mul(", beta, ", kp", s, ")\n  ", m, " = Add(bm", s, ", c", s, ")\n");
        break;
      case Reset::kNone:
        absl::StrAppend(&body, "  bm", s, " = Mul(", beta, ", ", prev, ")\n  ", m, " = Add(bm", s, ", c", s, ")\n");
        break;
    }
    std::string spk = step_form ? "spk" : "s" + s;
    absl::StrAppend(&body, "  d", s, " = Sub(", m, ", thr)\n  b", s, " = Greater(d", s, ", zero)\n  ", spk,
                    " = Cast <to = 1> (b", s, ")\n");
    if (!step_form) {
      absl::StrAppend(&inits, ", int64[1] a", t, " = {0}");
      absl::StrAppend(&body, "  u", s, " = Unsqueeze(", spk, ", a", t, ")\n");
      spikes.push_back("u" + s);
    }
    prev = m;
  }
  std::string sig = step_form
                        ? "(float[1,3] x, float[1,3] mem) => (float[1,3] spk, float[1,3] mem_out)"
                        : absl::StrCat("(float[", T, ",1,3] x) => (float[", T, ",1,3] spk)");
  if (!step_form) absl::StrAppend(&body, "  spk = Concat <axis = 0> (", absl::StrJoin(spikes, ", "), ")\n");
  return absl::StrCat("<ir_version: 7, opset_import: [\"\" : 13]>\ng ", sig, "\n<", inits, ">\n{\n", body, "}\n");
}

LeakyParams RandomLeaky(std::mt19937& rng) {
  std::uniform_real_distribution<float> u01(0.05f, 0.98f), thr(0.2f, 2.0f), gain(0.25f, 2.0f);
  LeakyParams p;
  int n = std::uniform_int_distribution<int>(0, 1)(rng) ? 3 : 1;
  for (int i = 0; i < n; ++i) p.beta.push_back(u01(rng));
  p.thr = thr(rng);
  p.gain = gain(rng);
  p.reset = static_cast<Reset>(std::uniform_int_distribution<int>(0, 2)(rng));
  return p;
}

void ExpectLeaky(const ir::Neuron& n, const LeakyParams& p, const std::string& text) {
  SCOPED_TRACE(text);
  EXPECT_EQ(n.kind, "lif");
  EXPECT_EQ(n.mode, ir::NeuronMode::kStateful);
  ASSERT_EQ(n.decay.values.size(), p.beta.size());
  // Parameters are float32 constants; the importer multiplies at most two
  // of them (gain), so they agree to float32 rounding.
  for (size_t i = 0; i < p.beta.size(); ++i) EXPECT_NEAR(n.decay.values[i], p.beta[i], 1e-7);
  EXPECT_NEAR(n.threshold.value, p.thr, 1e-6);
  EXPECT_NEAR(n.input_gain.value, p.gain, 1e-6);
  ir::ResetMode want = p.reset == Reset::kSubtract ? ir::ResetMode::kSubtract
                       : p.reset == Reset::kZero   ? ir::ResetMode::kZero
                                                   : ir::ResetMode::kNone;
  EXPECT_EQ(n.reset, want);
  if (p.reset != Reset::kNone) {
    EXPECT_EQ(n.reset_timing, ir::ResetTiming::kNextStep);
  }
  if (p.reset == Reset::kSubtract) {
    EXPECT_NEAR(n.reset_amount.value, p.thr, 1e-6);
  }
}

TEST(Property, RandomLeakyParametersImportExactly) {
  std::mt19937 rng(2026);
  for (int trial = 0; trial < 30; ++trial) {
    LeakyParams p = RandomLeaky(rng);
    for (int steps : {0, 4}) {
      std::string text = LeakyModel(p, steps);
      importer::ImportOptions o;
      if (steps == 0) o.timesteps = 4;
      absl::StatusOr<ir::Workload> w = ImportText(text, o);
      ASSERT_TRUE(w.ok()) << w.status() << "\n" << text;
      ASSERT_EQ(w->layers.size(), 1u);
      EXPECT_EQ(w->timesteps, 4);
      ExpectLeaky(w->layers[0].neuron, p, text);
    }
  }
}

// The self-check compares the model against every step: a graph whose step
// 1 or 2 uses another decay is not one neuron and is refused.
TEST(Property, StepsThatDisagreeAreRefused) {
  LeakyParams p;
  p.beta = {0.8f};
  for (int odd : {1, 2}) {
    absl::StatusOr<ir::Workload> w = ImportText(LeakyModel(p, 4, odd));
    ASSERT_FALSE(w.ok()) << "odd step " << odd;
    EXPECT_THAT(w.status().message(), HasSubstr("self-check failed"));
  }
  // The same graph with the same decay everywhere imports.
  EXPECT_TRUE(ImportText(LeakyModel(p, 4)).ok());
}

// SpikingJelly LIFNode (decay_input, hard reset to v_reset or soft reset),
// one step with the membrane as graph input/output.
std::string LifNodeModel(float tau, float v_th, float v_reset, bool hard) {
  std::string reset = hard ? "  vh = Sub(v, vr)\n  sd = Mul(spk, vh)\n  mem_out = Sub(v, sd)\n"
                           : "  st = Mul(spk, vth)\n  mem_out = Sub(v, st)\n";
  return absl::StrCat(R"(<ir_version: 7, opset_import: ["" : 13]>
g (float[1,3] x, float[1,3] mem) => (float[1,3] spk, float[1,3] mem_out)
<float[3,3] W = {0.5, -0.2, 0.3, 0.1, 0.6, -0.4, 0.2, 0.2, 0.7}, float tau = {)",
                      Num(tau), "}, float vth = {", Num(v_th), "}, float vr = {", Num(hard ? v_reset : 0.0f), R"(}>
{
  I = MatMul(x, W)
  m0 = Sub(mem, vr)
  d = Sub(I, m0)
  q = Div(d, tau)
  v = Add(mem, q)
  sb = GreaterOrEqual(v, vth)
  spk = Cast <to = 1> (sb)
)",
                      reset, "}\n");
}

TEST(Property, RandomLifNodeParametersImportExactly) {
  std::mt19937 rng(17);
  std::uniform_real_distribution<float> tau(1.2f, 6.0f), vth(0.3f, 2.0f), vr(-0.5f, 0.5f);
  for (int trial = 0; trial < 30; ++trial) {
    float t = tau(rng), th = vth(rng), r = vr(rng);
    bool hard = trial % 2 == 0;
    std::string text = LifNodeModel(t, th, r, hard);
    importer::ImportOptions o;
    o.timesteps = 3;
    absl::StatusOr<ir::Workload> w = ImportText(text, o);
    ASSERT_TRUE(w.ok()) << w.status() << "\n" << text;
    const ir::Neuron& n = w->layers[0].neuron;
    SCOPED_TRACE(text);
    // decay 1 - 1/tau and input gain 1/tau: float32 division by tau, then
    // double arithmetic.
    double inv = static_cast<float>(1.0f / t);
    EXPECT_NEAR(n.decay.value, 1.0 - inv, 1e-6);
    EXPECT_NEAR(n.input_gain.value, inv, 1e-6);
    EXPECT_NEAR(n.threshold.value, th, 1e-6);
    EXPECT_TRUE(n.fire_inclusive);
    EXPECT_EQ(n.reset_timing, ir::ResetTiming::kAfterFire);
    if (hard) {
      EXPECT_EQ(n.reset, ir::ResetMode::kZero);
      EXPECT_NEAR(n.reset_value, r, 1e-6);
    } else {
      EXPECT_EQ(n.reset, ir::ResetMode::kSubtract);
      EXPECT_NEAR(n.reset_amount.value, th, 1e-6);
    }
  }
}

}  // namespace
}  // namespace snnplan::testing
