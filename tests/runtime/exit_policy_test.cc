// Early exit (DT-SNN): the step after which each sample's accumulated output
// is confident enough, the policy spec, the choice of output, and the exit
// profile file. Expected values are worked out by hand from the definition:
// softmax of the mean of steps 1..t, entropy normalised by log(classes).
#include <cmath>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "snnplan/runtime.h"

namespace snnplan::runtime {
namespace {

using ::testing::HasSubstr;

// An output recorded per step: [T][B][K] values, step-major.
RunResult OneOutput(int64_t t, int64_t b, int64_t k, std::vector<float> values) {
  RunResult r;
  r.timesteps = t;
  r.outputs["logits"] = Array{DType::kFloat32, {t, b, k}, std::move(values)};
  return r;
}

ExitPolicy Policy(double threshold) {
  absl::StatusOr<ExitPolicy> p = ParseExitPolicy("entropy:" + std::to_string(threshold), "");
  EXPECT_TRUE(p.ok()) << p.status();
  return p.ok() ? *p : ExitPolicy{};
}

// p = (3/4, 1/4) from logits (ln 3, 0): H / ln 2 = 0.811278...; the policy
// exits only below the threshold.
TEST(ExitPolicy, ExitsWhenTheNormalisedEntropyFallsBelowTheThreshold) {
  const float ln3 = static_cast<float>(std::log(3.0));
  RunResult r = OneOutput(2, 1, 2, {ln3, 0, ln3, 0});
  const double h = -(0.75 * std::log(0.75) + 0.25 * std::log(0.25)) / std::log(2.0);
  absl::StatusOr<std::vector<int64_t>> above = ExitSteps(r, Policy(h - 1e-3));
  absl::StatusOr<std::vector<int64_t>> below = ExitSteps(r, Policy(h + 1e-3));
  ASSERT_TRUE(above.ok() && below.ok());
  EXPECT_EQ(*above, std::vector<int64_t>{2});  // never confident: runs all T steps
  EXPECT_EQ(*below, std::vector<int64_t>{1});
}

// The mean of the steps so far decides: sample 0 is confident at once;
// sample 1 sees uniform outputs (entropy 1) until step 3 lifts the mean of
// class 0 to 10.
TEST(ExitPolicy, AccumulatesTheOutputOverStepsPerSample) {
  RunResult r = OneOutput(3, 2, 2, {10, 0, 0, 0,  //
                                    10, 0, 0, 0,  //
                                    10, 0, 30, 0});
  absl::StatusOr<std::vector<int64_t>> steps = ExitSteps(r, Policy(0.5));
  ASSERT_TRUE(steps.ok()) << steps.status();
  EXPECT_EQ(*steps, (std::vector<int64_t>{1, 3}));
}

TEST(ExitPolicy, SpecIsChecked) {
  EXPECT_FALSE(ParseExitPolicy("entropy:0", "").ok());
  EXPECT_FALSE(ParseExitPolicy("entropy:1.5", "").ok());
  EXPECT_FALSE(ParseExitPolicy("entropy:nan", "").ok());
  EXPECT_FALSE(ParseExitPolicy("entropy:", "").ok());
  absl::StatusOr<ExitPolicy> other = ParseExitPolicy("confidence:0.3", "");
  ASSERT_FALSE(other.ok());
  EXPECT_THAT(other.status().message(), HasSubstr("expected entropy:THRESHOLD"));
  absl::StatusOr<ExitPolicy> ok = ParseExitPolicy("entropy:0.25", "logits");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->threshold, 0.25);
  EXPECT_EQ(ok->output, "logits");
  EXPECT_EQ(ExitPolicyText(*ok), "entropy:0.25");
}

TEST(ExitPolicy, OutputChoiceIsExplicitWhenAmbiguous) {
  RunResult r = OneOutput(2, 1, 2, {1, 0, 1, 0});
  r.outputs["mem"] = r.outputs["logits"];
  r.outputs["rate"] = Array{DType::kFloat32, {1, 2}, {0.5f, 0.5f}};  // after a mean over time
  absl::StatusOr<std::vector<int64_t>> any = ExitSteps(r, Policy(0.5));
  ASSERT_FALSE(any.ok());
  EXPECT_THAT(any.status().message(), HasSubstr("logits, mem"));
  ExitPolicy named = Policy(0.5);
  named.output = "rate";
  absl::StatusOr<std::vector<int64_t>> rate = ExitSteps(r, named);
  ASSERT_FALSE(rate.ok());
  EXPECT_THAT(rate.status().message(), HasSubstr("not recorded per step"));
  named.output = "nope";
  EXPECT_THAT(ExitSteps(r, named).status().message(), HasSubstr("no produced graph output named 'nope'"));
  named.output = "mem";
  EXPECT_TRUE(ExitSteps(r, named).ok());
  EXPECT_EQ(*ExitOutputName(r, named), "mem");
}

TEST(ExitProfile, ProbabilitiesOverEveryInputAndSample) {
  ExitProfile p;
  ASSERT_TRUE(AddExits("a.npz", 4, {1, 3}, &p).ok());
  ASSERT_TRUE(AddExits("b.npz", 4, {1, 4}, &p).ok());
  EXPECT_FALSE(AddExits("c.npz", 3, {1}, &p).ok());  // another T
  nlohmann::json j = nlohmann::json::parse(ExitProfileJson(p, Policy(0.5), "logits", "m.onnx", "ab"));
  EXPECT_EQ(j["format"], "snnplan-exit-profile");
  EXPECT_EQ(j["version"], 1);
  EXPECT_EQ(j["samples"], 4);
  EXPECT_EQ(j["timesteps"], 4);
  EXPECT_EQ(j["exit_probability"]["1"], 0.5);
  EXPECT_EQ(j["exit_probability"]["2"], 0.0);
  EXPECT_EQ(j["exit_probability"]["3"], 0.25);
  EXPECT_EQ(j["exit_probability"]["4"], 0.25);
  EXPECT_DOUBLE_EQ(j["mean_timesteps"].get<double>(), (1 + 3 + 1 + 4) / 4.0);
  EXPECT_EQ(j["inputs"][1]["input"], "b.npz");
  EXPECT_EQ(j["inputs"][1]["exit_steps"], nlohmann::json({1, 4}));
}

}  // namespace
}  // namespace snnplan::runtime
