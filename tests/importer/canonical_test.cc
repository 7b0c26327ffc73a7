// Canonical forms: the same neuron written with other ops (Less for Greater,
// v - thr > 0 for v > thr, Where / Sign / Not for the Heaviside, resets as
// Where, Mul(1 - s) or Sub(s * thr), casts to double) imports to the same
// model, compared by what the models compute (neuron_sim.h); parameters
// computed from constants through any foldable op are folded exactly.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "neuron_sim.h"
#include "onnx_text.h"

namespace snnplan::testing {
namespace {

using ::testing::HasSubstr;

// A single-step neuron on a 3-feature linear layer: inputs x, mem; outputs
// spk, mem_out. `body` defines spk and mem_out from I (the current), mem and
// the scalar constants thr, beta, half, one, zero, vr.
std::string StepModel(const std::string& body, const std::string& extra_inits = "") {
  return absl::StrCat(R"(<ir_version: 7, opset_import: ["" : 13]>
g (float[1,3] x, float[1,3] mem) => (float[1,3] spk, float[1,3] mem_out)
<float[3,3] W = {0.5, -0.2, 0.3, 0.1, 0.6, -0.4, 0.2, 0.2, 0.7}, float thr = {1.0}, float beta = {0.9},
 float half = {0.5}, float one = {1.0}, float zero = {0.0}, float vr = {0.2})",
                      extra_inits, R"(>
{
  I = MatMul(x, W)
)",
                      body, "\n}\n");
}

ir::Neuron NeuronOf(const std::string& text) {
  absl::StatusOr<ir::Workload> w = ImportText(text, [] {
    importer::ImportOptions o;
    o.timesteps = 4;
    return o;
  }());
  EXPECT_TRUE(w.ok()) << w.status() << "\n" << text;
  if (!w.ok() || w->layers.empty()) return {};
  return w->layers[0].neuron;
}

// snnTorch Leaky: reset decided on the incoming membrane, subtract.
constexpr char kLeaky[] = R"(
  rp = Sub(mem, thr)
  rb = Greater(rp, zero)
  r = Cast <to = 1> (rb)
  bm = Mul(beta, mem)
  acc = Add(bm, I)
  RESET
  FIRE
)";
constexpr char kResetSub[] = "rt = Mul(r, thr)\n  mem_out = Sub(acc, rt)";
constexpr char kFireSub[] = "d = Sub(mem_out, thr)\n  b = Greater(d, zero)\n  spk = Cast <to = 1> (b)";

std::string Leaky(const std::string& reset, const std::string& fire) {
  return StepModel(absl::StrReplaceAll(kLeaky, {{"RESET", reset}, {"FIRE", fire}}));
}

TEST(Canonical, FireTestsAgree) {
  ir::Neuron ref = NeuronOf(Leaky(kResetSub, kFireSub));
  EXPECT_EQ(ref.kind, "lif");
  EXPECT_EQ(ref.reset, ir::ResetMode::kSubtract);
  EXPECT_EQ(ref.reset_timing, ir::ResetTiming::kNextStep);
  EXPECT_NEAR(ref.threshold.value, 1.0, 1e-12);
  EXPECT_FALSE(ref.fire_inclusive);
  const std::vector<std::string> fires = {
      "b = Greater(mem_out, thr)\n  spk = Cast <to = 1> (b)",
      "b = Less(thr, mem_out)\n  spk = Cast <to = 1> (b)",
      "n1 = Neg(mem_out)\n  n2 = Neg(thr)\n  b = Less(n1, n2)\n  spk = Cast <to = 1> (b)",
      "b = Greater(mem_out, thr)\n  spk = Where(b, one, zero)",
      "d = Sub(mem_out, thr)\n  sg = Sign(d)\n  spk = Relu(sg)",
      "d = Sub(mem_out, thr)\n  sg = Sign(d)\n  spk = Clip(sg, zero, one)",
      "le = LessOrEqual(mem_out, thr)\n  b = Not(le)\n  spk = Cast <to = 1> (b)",
      "md = Cast <to = 11> (mem_out)\n  td = Cast <to = 11> (thr)\n  b = Greater(md, td)\n"
      "  spk = Cast <to = 1> (b)",
  };
  for (const std::string& fire : fires) {
    ir::Neuron n = NeuronOf(Leaky(kResetSub, fire));
    EXPECT_EQ(n.reset, ir::ResetMode::kSubtract) << fire;
    EXPECT_FALSE(n.fire_inclusive) << fire;
    EXPECT_EQ(BehaviourDifference(ref, n), 0.0) << fire;
  }
}

TEST(Canonical, InclusiveFireTestsAgree) {
  ir::Neuron ref = NeuronOf(Leaky(kResetSub, "b = GreaterOrEqual(mem_out, thr)\n  spk = Cast <to = 1> (b)"));
  EXPECT_TRUE(ref.fire_inclusive);
  for (const std::string& fire :
       {std::string("b = LessOrEqual(thr, mem_out)\n  spk = Cast <to = 1> (b)"),
        std::string("lt = Less(mem_out, thr)\n  b = Not(lt)\n  spk = Cast <to = 1> (b)")}) {
    ir::Neuron n = NeuronOf(Leaky(kResetSub, fire));
    EXPECT_TRUE(n.fire_inclusive) << fire;
    EXPECT_EQ(BehaviourDifference(ref, n), 0.0) << fire;
  }
}

TEST(Canonical, SubtractResetsAgree) {
  ir::Neuron ref = NeuronOf(Leaky(kResetSub, kFireSub));
  for (const std::string& reset :
       {std::string("rt = Where(rb, thr, zero)\n  mem_out = Sub(acc, rt)"),
        std::string("nr = Neg(r)\n  rt = Mul(nr, thr)\n  mem_out = Add(acc, rt)"),
        std::string("rt = Mul(thr, r)\n  mem_out = Sub(acc, rt)")}) {
    ir::Neuron n = NeuronOf(Leaky(reset, kFireSub));
    EXPECT_EQ(n.reset, ir::ResetMode::kSubtract) << reset;
    EXPECT_NEAR(n.reset_amount.value, 1.0, 1e-12) << reset;
    EXPECT_EQ(BehaviourDifference(ref, n), 0.0) << reset;
  }
}

// SpikingJelly-style: charge, fire, reset to vr after the fire; the carried
// value is the reset membrane.
std::string AfterFire(const std::string& reset) {
  return StepModel(absl::StrCat(R"(
  hm = Mul(half, mem)
  hi = Mul(half, I)
  v = Add(hm, hi)
  sb = GreaterOrEqual(v, thr)
  spk = Cast <to = 1> (sb)
  )",
                                reset));
}

TEST(Canonical, HardResetsAgree) {
  ir::Neuron ref = NeuronOf(AfterFire("mem_out = Where(sb, vr, v)"));
  EXPECT_EQ(ref.reset, ir::ResetMode::kZero);
  EXPECT_EQ(ref.reset_timing, ir::ResetTiming::kAfterFire);
  EXPECT_NEAR(ref.reset_value, 0.2, 1e-7);
  EXPECT_NEAR(ref.decay.value, 0.5, 1e-12);
  EXPECT_NEAR(ref.input_gain.value, 0.5, 1e-12);
  for (const std::string& reset :
       {std::string("keep = Sub(one, spk)\n  kv = Mul(keep, v)\n  sv = Mul(spk, vr)\n  mem_out = Add(kv, sv)"),
        std::string("dv = Sub(v, vr)\n  sd = Mul(spk, dv)\n  mem_out = Sub(v, sd)"),
        std::string("nb = Not(sb)\n  mem_out = Where(nb, v, vr)")}) {
    ir::Neuron n = NeuronOf(AfterFire(reset));
    EXPECT_EQ(n.reset, ir::ResetMode::kZero) << reset;
    EXPECT_NEAR(n.reset_value, 0.2, 1e-7) << reset;
    EXPECT_EQ(BehaviourDifference(ref, n), 0.0) << reset;
  }
}

TEST(Canonical, SoftResetAfterFire) {
  ir::Neuron n = NeuronOf(AfterFire("st = Mul(spk, thr)\n  mem_out = Sub(v, st)"));
  EXPECT_EQ(n.reset, ir::ResetMode::kSubtract);
  EXPECT_EQ(n.reset_timing, ir::ResetTiming::kAfterFire);
  EXPECT_NEAR(n.reset_amount.value, 1.0, 1e-12);
}

// SpikingJelly's decay_input form v + (x - (v - vr)) / tau is the same LIF
// as 0.5 * v + 0.5 * x for tau = 2 and vr = 0.
TEST(Canonical, DecayInputFormIsTheSameLif) {
  ir::Neuron a = NeuronOf(StepModel(R"(
  vr0 = Sub(mem, zero)
  d = Sub(I, vr0)
  two = Add(one, one)
  dd = Div(d, two)
  v = Add(mem, dd)
  sb = GreaterOrEqual(v, thr)
  spk = Cast <to = 1> (sb)
  mem_out = Where(sb, zero, v)
)"));
  ir::Neuron b = NeuronOf(AfterFire("mem_out = Where(sb, zero, v)"));
  EXPECT_NEAR(a.decay.value, 0.5, 1e-12);
  EXPECT_NEAR(a.input_gain.value, 0.5, 1e-12);
  EXPECT_EQ(BehaviourDifference(a, b), 0.0);
}

// A decay of 0 with no reset leaves nothing to carry: stateless by value,
// although the state edge is in the graph.
TEST(Canonical, ZeroDecayWithoutResetIsStatelessByValue) {
  absl::StatusOr<ir::Workload> w = ImportText(StepModel(R"(
  zb = Mul(zero, beta)
  bm = Mul(zb, mem)
  mem_out = Add(bm, I)
  b = Greater(mem_out, thr)
  spk = Cast <to = 1> (b)
)"),
                                              [] {
                                                importer::ImportOptions o;
                                                o.timesteps = 3;
                                                return o;
                                              }());
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ(w->layers[0].neuron.mode, ir::NeuronMode::kStateless);
  EXPECT_EQ(w->TotalNeuronStates(), 0);
}

// ---- constant folding of parameter computations ----------------------------

struct Folded {
  std::string ops;  // defines `p` from constants
  double value;     // what p must be (computed here from the ops' definitions)
};

class FoldedDecay : public ::testing::TestWithParam<Folded> {};

TEST_P(FoldedDecay, IsTheNeuronsDecay) {
  const Folded& f = GetParam();
  std::string body = absl::StrCat(f.ops, R"(
  bm = Mul(p, mem)
  mem_out = Add(bm, I)
  b = Greater(mem_out, thr)
  spk = Cast <to = 1> (b)
)");
  ir::Neuron n = NeuronOf(StepModel(body, ", float w0 = {0.3}, float[3] vec = {0.25, 0.5, 0.75}, "
                                          "int64[2] shp = {1, 3}, float m7 = {-0.7}, int64 zi = {0}, "
                                          "int64[1] a0 = {0}, int64[1] three = {3}, int64[1] st = {1}, "
                                          "int64[1] en = {2}, int64[1] st4 = {3}, int64[1] en4 = {4}"));
  EXPECT_NEAR(n.decay.value, f.value, 1e-6 * std::max(1.0, std::fabs(f.value))) << f.ops;
}

float F(double v) { return static_cast<float>(v); }  // float32 rounding of a constant

INSTANTIATE_TEST_SUITE_P(
    Ops, FoldedDecay,
    ::testing::Values(
        Folded{"p = Sigmoid(w0)", F(1.0 / (1.0 + std::exp(-F(0.3))))},
        Folded{"l = Log(beta)\n  p = Exp(l)", F(std::exp(F(std::log(F(0.9)))))},
        Folded{"two = Add(one, one)\n  p = Reciprocal(two)", 0.5},
        Folded{"p = Pow(half, one)", 0.5},
        Folded{"q = Mul(half, half)\n  p = Sqrt(q)", 0.5},
        Folded{"p = Tanh(w0)", F(std::tanh(F(0.3)))},
        Folded{"n = Neg(m7)\n  p = Abs(n)", F(0.7)},
        Folded{"p = Clip(beta, zero, half)", 0.5},
        Folded{"p = Min(beta, half)", 0.5},
        Folded{"p = Max(half, w0)", 0.5},
        Folded{"c = Greater(beta, half)\n  p = Where(c, w0, beta)", F(0.3)},
        Folded{"c = Less(beta, half)\n  nc = Not(c)\n  p = Where(nc, w0, beta)", F(0.3)},
        Folded{"c1 = Greater(beta, half)\n  c2 = Less(w0, half)\n  c = And(c1, c2)\n"
               "  p = Where(c, half, zero)",
               0.5},
        Folded{"c1 = Greater(w0, half)\n  c2 = Less(w0, half)\n  c = Or(c1, c2)\n"
               "  p = Where(c, half, zero)",
               0.5},
        Folded{"h = Cast <to = 10> (w0)\n  p = Cast <to = 1> (h)", 0.300048828125},  // float16: 1 + 205/1024 times 2^-2
        Folded{"d = Cast <to = 11> (w0)\n  p = Cast <to = 1> (d)", F(0.3)},
        Folded{"r = Reshape(vec, shp)\n  g = Gather <axis = 1> (r, zi)\n  p = Squeeze(g)", 0.25},
        Folded{"u = Unsqueeze(w0, a0)\n  e = Expand(u, three)\n  s = Slice(e, st, en)\n  p = Squeeze(s)",
               F(0.3)},
        Folded{"c = Concat <axis = 0> (vec, vec)\n  s = Slice(c, st4, en4)\n  p = Squeeze(s)", 0.25},
        Folded{"sh = Shape(x)\n  f = ConstantOfShape <value = float[1] {0.4}> (sh)\n  g = Gather <axis = 1> (f, zi)\n"
               "  p = Squeeze(g)",
               F(0.4)}));

// ---- guards: what is refused, naming the construct -------------------------

absl::Status ImportStatus(const std::string& body, const std::string& extra = "") {
  importer::ImportOptions o;
  o.timesteps = 2;
  return ImportText(StepModel(body, extra), o).status();
}

TEST(Guards, NonlinearOpOnTheMembrane) {
  absl::Status s = ImportStatus(R"(
  bm = Mul(beta, mem)
  acc = Add(bm, I)
  mem_out = Sigmoid(acc)
  b = Greater(mem_out, thr)
  spk = Cast <to = 1> (b)
)");
  EXPECT_THAT(s.message(), HasSubstr("spiking neuron not recognised"));
  EXPECT_THAT(s.message(), HasSubstr("(Sigmoid)"));
}

TEST(Guards, DivisionByTheMembrane) {
  absl::Status s = ImportStatus(R"(
  q = Div(I, mem)
  mem_out = Add(q, mem)
  b = Greater(mem_out, thr)
  spk = Cast <to = 1> (b)
)");
  EXPECT_THAT(s.message(), HasSubstr("divides by a non-constant value"));
}

// Every variable of the threshold test enters with a factor whose sign
// differs between neurons: no orientation holds for all of them.
TEST(Guards, ThresholdWithMixedSignFactor) {
  absl::Status s = ImportStatus(R"(
  mem_out = Add(mem, I)
  d = Mul(mem_out, sgn)
  b = Greater(d, thr)
  spk = Cast <to = 1> (b)
)",
                                ", float[3] sgn = {1.0, -1.0, 1.0}");
  EXPECT_THAT(s.message(), HasSubstr("mixed sign"));
}

// The positive side of that guard: a per-neuron decay that is 0 for some
// neurons (snnTorch clamps a learned beta at 0) leaves the current's factor
// to orient the test, and the neuron computes what the graph does.
TEST(Guards, PerNeuronDecayWithZerosIsANeuron) {
  const std::string text = StepModel(R"(
  rp = Sub(mem, thr)
  rb = Greater(rp, zero)
  r = Cast <to = 1> (rb)
  bm = Mul(bv, mem)
  acc = Add(bm, I)
  rt = Mul(r, thr)
  mem_out = Sub(acc, rt)
  d = Sub(mem_out, thr)
  b = Greater(d, zero)
  spk = Cast <to = 1> (b)
)",
                                     ", float[3] bv = {0.9, 0.0, 0.5}");
  ir::Neuron n = NeuronOf(text);
  EXPECT_EQ(n.mode, ir::NeuronMode::kStateful);
  // snnTorch Leaky per neuron i, from its definition: the reset is decided
  // on the incoming membrane, then mem = beta_i mem + I - reset thr.
  // The graph's constants are float32: 0.9f, not 0.9.
  const double beta[3] = {static_cast<double>(0.9f), 0.0, 0.5}, thr = 1.0;
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> u(-1.0, 2.5);
  for (int i = 0; i < 3; ++i) {
    NeuronSim sim(n, 3, 3, i);
    double mem = 0;
    for (int t = 0; t < 200; ++t) {
      const double cur = u(rng);
      const double reset = mem - thr > 0 ? 1.0 : 0.0;
      mem = beta[i] * mem + cur - reset * thr;
      const double spk = mem - thr > 0 ? 1.0 : 0.0;
      ASSERT_EQ(sim.Step({cur}), spk) << "neuron " << i << " step " << t;
      ASSERT_NEAR(sim.state()[0], mem, 1e-12) << "neuron " << i << " step " << t;
    }
  }
}

// 0 must stay 0: an offset on spikes is not a gain.
TEST(Guards, OutputThatIsNotASpike) {
  absl::Status s = ImportStatus(R"(
  bm = Mul(beta, mem)
  mem_out = Add(bm, I)
  b = Greater(mem_out, thr)
  c = Cast <to = 1> (b)
  spk = Add(c, half)
)");
  EXPECT_THAT(s.message(), HasSubstr("spiking neuron not recognised"));
  EXPECT_THAT(s.message(), HasSubstr("is not a spike"));
}

// One neuron's threshold test feeding another's is one exact model.
TEST(Guards, ChainedThresholdTestsCollapse) {
  importer::ImportOptions o;
  o.timesteps = 2;
  absl::StatusOr<ir::Workload> w = ImportText(R"(<ir_version: 7, opset_import: ["" : 13]>
g (float[1,3] x) => (float[1,3] s2)
<float[3,3] W = {0.5, -0.2, 0.3, 0.1, 0.6, -0.4, 0.2, 0.2, 0.7}, float thr = {1.0}, float thr2 = {0.5}>
{
  I = MatMul(x, W)
  b1 = Greater(I, thr)
  s1 = Cast <to = 1> (b1)
  b2 = Greater(s1, thr2)
  s2 = Cast <to = 1> (b2)
}
)",
                                              o);
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_NEAR(w->layers[0].neuron.threshold.value, 1.0, 1e-12);
}

// The test's result must leave the neuron as spikes; one that only gates
// the membrane (a ReLU written with Where) is not a spiking neuron.
TEST(Guards, ThresholdTestWithoutSpikes) {
  absl::Status s = ImportStatus(R"(
  bm = Mul(beta, mem)
  mem_out = Add(bm, I)
  b = Greater(mem_out, zero)
  spk = Where(b, mem_out, zero)
)");
  EXPECT_THAT(s.message(), HasSubstr("threshold test"));
}

// A neuron whose membrane adds another neuron's spikes (which also leave
// the graph) without a weighted layer between them has no IR layer.
TEST(Guards, NeuronFedBySpikesWithoutWeights) {
  importer::ImportOptions o;
  o.timesteps = 2;
  absl::Status s = ImportText(R"(<ir_version: 7, opset_import: ["" : 13]>
g (float[1,3] x, float[1,3] mem) => (float[1,3] s1, float[1,3] s2, float[1,3] mem_out)
<float[3,3] W = {0.5, -0.2, 0.3, 0.1, 0.6, -0.4, 0.2, 0.2, 0.7}, float thr = {1.0}, float beta = {0.9}>
{
  I = MatMul(x, W)
  b1 = Greater(I, thr)
  s1 = Cast <to = 1> (b1)
  bm = Mul(beta, mem)
  mem_out = Add(bm, s1)
  b2 = Greater(mem_out, thr)
  s2 = Cast <to = 1> (b2)
}
)",
                              o)
                       .status();
  EXPECT_THAT(s.message(), HasSubstr("carries spikes directly"));
}

TEST(Guards, SelfAttentionIsNamedAtItsMatMul) {
  importer::ImportOptions o;
  o.timesteps = 2;
  absl::Status s = ImportText(R"(<ir_version: 7, opset_import: ["" : 13]>
g (float[1,4,3] x) => (float[1,4,4] a)
<float[3,3] Wq = {0.5, -0.2, 0.3, 0.1, 0.6, -0.4, 0.2, 0.2, 0.7}, float[3,3] Wk = {0.1, 0.2, 0.3, 0.1, 0.6, -0.4, 0.2, 0.2, 0.7}>
{
  q = MatMul(x, Wq)
  k = MatMul(x, Wk)
  kt = Transpose <perm = [0, 2, 1]> (k)
  a = MatMul(q, kt)
}
)",
                              o)
                       .status();
  EXPECT_THAT(s.message(), HasSubstr("MatMul of two activations at node"));
  EXPECT_THAT(s.message(), HasSubstr("self-attention"));
}

// ---- joins of spikes: classified by truth table ----------------------------

std::string JoinModel(const std::string& join) {
  return absl::StrCat(R"(<ir_version: 7, opset_import: ["" : 13]>
g (float[1,3] x) => (float[1,3] y)
<float[3,3] Wa = {0.5, -0.2, 0.3, 0.1, 0.6, -0.4, 0.2, 0.2, 0.7}, float[3,3] Wb = {0.1, 0.2, 0.3, 0.1, 0.6, -0.4, 0.2, 0.2, 0.7},
 float[3,3] Wc = {1, 0, 0, 0, 1, 0, 0, 0, 1}, float thr = {0.5}, float one = {1.0}>
{
  ia = MatMul(x, Wa)
  ib = MatMul(x, Wb)
  ba = Greater(ia, thr)
  a = Cast <to = 1> (ba)
  bb = Greater(ib, thr)
  b = Cast <to = 1> (bb)
  )",
                      join, R"(
  y = MatMul(j, Wc)
}
)");
}

ir::OpKind JoinOf(const std::string& join) {
  importer::ImportOptions o;
  o.timesteps = 2;
  absl::StatusOr<ir::Workload> w = ImportText(JoinModel(join), o);
  EXPECT_TRUE(w.ok()) << w.status();
  if (!w.ok()) return ir::OpKind::kConv;
  for (const ir::Layer& l : w->layers)
    if (ir::IsJoin(l.op)) return l.op;
  return ir::OpKind::kConv;
}

TEST(Joins, TruthTablesNameTheJoin) {
  EXPECT_EQ(JoinOf("j = Add(a, b)"), ir::OpKind::kSewAdd);
  EXPECT_EQ(JoinOf("j = Mul(a, b)"), ir::OpKind::kSewAnd);
  EXPECT_EQ(JoinOf("j = Max(a, b)"), ir::OpKind::kSewOr);
  EXPECT_EQ(JoinOf("s = Add(a, b)\n  p = Mul(a, b)\n  j = Sub(s, p)"), ir::OpKind::kSewOr);
  EXPECT_EQ(JoinOf("na = Sub(one, a)\n  j = Mul(na, b)"), ir::OpKind::kSewIAnd);
}

// IAND is (not a) and b: the negated input comes first, whichever side of
// the graph negates it.
TEST(Joins, IAndKeepsTheNegatedInputFirst) {
  importer::ImportOptions o;
  o.timesteps = 2;
  // The unnamed MatMul nodes 0 (ia) and 1 (ib) name their layers.
  for (const auto& [join, negated] : {std::pair{"na = Sub(one, a)\n  j = Mul(na, b)", "MatMul_0"},
                                      std::pair{"nb = Sub(one, b)\n  j = Mul(a, nb)", "MatMul_1"}}) {
    absl::StatusOr<ir::Workload> w = ImportText(JoinModel(join), o);
    ASSERT_TRUE(w.ok()) << w.status();
    int found = 0;
    for (const ir::Layer& l : w->layers)
      if (l.op == ir::OpKind::kSewIAnd) {
        ++found;
        ASSERT_EQ(l.inputs.size(), 2u);
        EXPECT_THAT(w->layers[l.inputs[0]].name, HasSubstr(negated)) << join;
      }
    EXPECT_EQ(found, 1) << join;
  }
}

TEST(Joins, UnknownTruthTableIsRefused) {
  importer::ImportOptions o;
  o.timesteps = 2;
  absl::Status s =
      ImportText(JoinModel("s = Add(a, b)\n  p = Mul(a, b)\n  p2 = Add(p, p)\n  j = Sub(s, p2)"), o).status();
  EXPECT_THAT(s.message(), HasSubstr("truth table"));
  EXPECT_THAT(s.message(), HasSubstr("none of ADD, OR, AND, IAND"));
}

}  // namespace
}  // namespace snnplan::testing
