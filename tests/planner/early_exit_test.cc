// Planning under early exit (DT-SNN, issue #19): the exit profile file and
// the expected cost. Expected values follow from the definitions in
// docs/early-exit.md: an inference that exits after t steps spends every
// tile and transfer started before step t's output exists; a batch stops
// when its last sample exits; time-batched tiles spend their whole batch.
#include <cmath>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/tiny_workloads.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "snnplan/planner.h"

namespace snnplan::plan {
namespace {

using snnplan::testing::Conv;
using snnplan::testing::MetaPrototype;
using ::testing::HasSubstr;

constexpr int64_t kSteps = 4;

// input 2x4x4 (4 bit) -> c0 conv1x1 2->4 (LIF) -> c1 conv3x3 4->4 (LIF) -> out, T = 4.
ir::Workload FourStepNet(int64_t batch = 1) {
  ir::Workload w = snnplan::testing::TwoLayerNet();
  w.timesteps = kSteps;
  w.batch = batch;
  for (ir::Layer& l : w.layers) {
    l.dims.T = kSteps;
    l.dims.B = batch;
  }
  ir::Binding spikes, trace;
  spikes.name = "spikes";
  spikes.kind = ir::BindingKind::kLayerOutput;
  spikes.layer = 1;
  trace.name = "trace";
  trace.why = "a debugging trace";
  w.outputs = {spikes, trace};
  return w;
}

std::string ProfileText(const std::string& probabilities, const std::string& extra = "") {
  return absl::StrCat(R"({"format": "snnplan-exit-profile", "version": 1, "timesteps": 4, )", extra,
                      R"("exit_probability": )", probabilities, "}");
}

std::shared_ptr<const ExitProfile> Profile(const std::string& probabilities,
                                           const ir::Workload& w) {
  absl::StatusOr<ExitProfile> p = ParseExitProfile(ProfileText(probabilities), "p.json", w);
  EXPECT_TRUE(p.ok()) << p.status();
  return p.ok() ? std::make_shared<const ExitProfile>(*p) : nullptr;
}

std::shared_ptr<const Plan> PlanOf(const ir::Workload& w, const std::string& spec,
                                   std::shared_ptr<const ExitProfile> profile) {
  PlanOptions o;
  o.exit_profile = std::move(profile);
  Planner planner(w, MetaPrototype(1 << 20), o);
  absl::StatusOr<Schedule> s = ParseSchedule(spec, 1, kSteps);
  EXPECT_TRUE(s.ok()) << s.status();
  auto p = planner.Run(*s);
  EXPECT_TRUE(p.ok()) << p.status();
  return p.ok() ? *p : nullptr;
}

absl::Status ParseError(const std::string& text) {
  absl::StatusOr<ExitProfile> p = ParseExitProfile(text, "dir/p.json", FourStepNet());
  EXPECT_FALSE(p.ok()) << text;
  return p.status();
}

// ---- the file

TEST(ExitProfileFile, ReadsWhatRunWrites) {
  const ir::Workload w = FourStepNet();
  absl::StatusOr<ExitProfile> p = ParseExitProfile(
      ProfileText(R"({"1": 0.5, "2": 0.25, "3": 0.0, "4": 0.25})",
                  R"("policy": "entropy:0.3", "output": "spikes", "model": "two_layer.onnx",
                     "model_sha256": "ab", "samples": 4, "mean_timesteps": 2.0,
                     "inputs": [{"input": "x.npz", "exit_steps": [1, 1, 2, 4]}], )"),
      "dir/p.json", w);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->file, "p.json");
  EXPECT_EQ(p->policy, "entropy:0.3");
  EXPECT_EQ(p->output, "spikes");
  EXPECT_THAT(p->probability, ::testing::ElementsAre(0.5, 0.25, 0.0, 0.25));
  EXPECT_THAT(p->exit_layers, ::testing::ElementsAre(1)) << "spikes come from c1";
}

TEST(ExitProfileFile, StepsLeftOutNeverExit) {
  std::shared_ptr<const ExitProfile> p = Profile(R"({"2": 1})", FourStepNet());
  ASSERT_NE(p, nullptr);
  EXPECT_THAT(p->probability, ::testing::ElementsAre(0.0, 1.0, 0.0, 0.0));
  EXPECT_THAT(p->exit_layers, ::testing::ElementsAre(1)) << "no output named: network outputs";
}

TEST(ExitProfileFile, EachGuardNamesItsPath) {
  const std::string ok = R"({"1": 1})";
  EXPECT_THAT(ParseError("[1]").message(), HasSubstr("dir/p.json: not a JSON object"));
  EXPECT_THAT(ParseError(ProfileText(ok, R"("colour": 1, )")).message(),
              HasSubstr("colour: unknown key"));
  EXPECT_THAT(
      ParseError(R"({"format": "snnplan-exit-profile", "version": 1, "timesteps": 4})").message(),
      HasSubstr("exit_probability: missing required field"));
  EXPECT_THAT(
      ParseError(absl::StrReplaceAll(ProfileText(ok), {{"snnplan-exit-profile", "x"}})).message(),
      HasSubstr("format: expected \"snnplan-exit-profile\""));
  EXPECT_THAT(
      ParseError(absl::StrReplaceAll(ProfileText(ok), {{"\"version\": 1", "\"version\": 2"}}))
          .message(),
      HasSubstr("version: 2: this snnplan reads version 1"));
  EXPECT_THAT(
      ParseError(absl::StrReplaceAll(ProfileText(ok), {{"\"timesteps\": 4", "\"timesteps\": 8"}}))
          .message(),
      HasSubstr("timesteps: the profile is over 8 timesteps, the model runs 4"));
  EXPECT_THAT(ParseError(ProfileText("[1]")).message(),
              HasSubstr("exit_probability: expected an object"));
  EXPECT_THAT(ParseError(ProfileText(R"({"5": 1})")).message(),
              HasSubstr("exit_probability.\"5\": not a timestep in 1..4"));
  EXPECT_THAT(ParseError(ProfileText(R"({"x": 1})")).message(),
              HasSubstr("exit_probability.\"x\": not a timestep"));
  EXPECT_THAT(ParseError(ProfileText(R"({"1": 1.5})")).message(),
              HasSubstr("exit_probability.\"1\": expected a probability in [0, 1], got 1.5"));
  EXPECT_THAT(ParseError(ProfileText(R"({"1": 0.5, "2": 0.2})")).message(),
              HasSubstr("exit_probability: the probabilities sum to 0.7, not 1"));
  EXPECT_THAT(ParseError(ProfileText(ok, R"("policy": 3, )")).message(),
              HasSubstr("policy: expected a string"));
  EXPECT_THAT(ParseError(ProfileText(ok, R"("output": "logits", )")).message(),
              HasSubstr("output: 'logits' is not an output of two_layer.onnx (its outputs: "
                        "spikes, trace)"));
  EXPECT_THAT(ParseError(ProfileText(ok, R"("output": "trace", )")).message(),
              HasSubstr("output: 'trace' is not computed by any layer (a debugging trace)"));
}

TEST(ExitProfileFile, ModelWithoutOutputsNeedsTheOutputNamed) {
  ir::Workload w = FourStepNet();
  w.layers[1].network_output = false;
  absl::StatusOr<ExitProfile> p = ParseExitProfile(ProfileText(R"({"1": 1})"), "p.json", w);
  ASSERT_FALSE(p.ok());
  EXPECT_THAT(p.status().message(),
              HasSubstr("p.json: output: not given, and the model marks no network output"));
}

// An output computed only once, from nothing that runs every step, has no
// step at which a check could read it.
TEST(ExitProfileFile, OutputWithNoPerStepLayerIsRefused) {
  ir::Workload w = FourStepNet();
  for (ir::Layer& l : w.layers) l.dims.T = 1;
  absl::StatusOr<ExitProfile> p = ParseExitProfile(ProfileText(R"({"1": 1})"), "p.json", w);
  ASSERT_FALSE(p.ok());
  EXPECT_THAT(p.status().message(),
              HasSubstr("p.json: output: depends on no layer that runs every timestep"));
}

// A head run once after a mean over time: the mean's tile waits for all T
// steps, so the check reads the per-step layer feeding the mean.
TEST(ExitProfileFile, HeadAfterAMeanOverTimeWalksBackToThePerStepLayer) {
  ir::Workload w = FourStepNet();
  w.layers[1].network_output = false;
  ir::Layer mean = w.layers[1];
  mean.name = "mean";
  mean.op = ir::OpKind::kTimeMean;
  mean.inputs = {1};
  w.layers.push_back(mean);
  ir::Layer head = w.layers[1];
  head.name = "head";
  head.op = ir::OpKind::kLinear;
  head.inputs = {2};
  head.dims.T = 1;
  head.network_output = true;
  w.layers.push_back(head);
  w.outputs.clear();
  std::shared_ptr<const ExitProfile> p = Profile(R"({"1": 1})", w);
  ASSERT_NE(p, nullptr);
  EXPECT_THAT(p->exit_layers, ::testing::ElementsAre(1));
}

// ---- the expected cost

TEST(ExpectedCost, NeverExitingEarlyIsTheStaticCost) {
  const ir::Workload w = FourStepNet();
  for (const char* spec : {"st-lbl", "tb-lbl", "tb2-lf", "st-lf"}) {
    std::shared_ptr<const Plan> p = PlanOf(w, spec, Profile(R"({"4": 1})", w));
    ASSERT_NE(p, nullptr);
    const Summary& s = GetSummary(*p);
    ASSERT_TRUE(s.expected.has_value());
    EXPECT_EQ(s.expected->mean_timesteps, 4.0) << spec;
    EXPECT_EQ(s.expected->energy.total_pj(), s.energy.total_pj()) << spec;
    EXPECT_EQ(s.expected->dram_bytes(), static_cast<double>(s.dram.total())) << spec;
    EXPECT_EQ(s.expected->latency_cycles, static_cast<double>(s.latency_cycles)) << spec;
  }
}

// Time batching over all T: the output tile of every step is the one tile
// holding all four, so every exit spends every tile.
TEST(ExpectedCost, TimeBatchedTilesSpendTheirWholeBatch) {
  const ir::Workload w = FourStepNet();
  std::shared_ptr<const Plan> p = PlanOf(w, "tb-lbl", Profile(R"({"1": 1})", w));
  ASSERT_NE(p, nullptr);
  const Summary& s = GetSummary(*p);
  for (const ExitStep& e : s.expected->steps) {
    EXPECT_EQ(e.tiles, s.tiles) << "exit after " << e.timesteps;
    EXPECT_EQ(e.energy.compute_pj, s.energy.compute_pj);
  }
}

// Single-timestep layer-by-layer runs step by step: an exit after t steps
// spent exactly the tiles of steps 1..t, t / T of the PE work.
TEST(ExpectedCost, SingleTimestepSpendsTheStepsItRan) {
  const ir::Workload w = FourStepNet();
  std::shared_ptr<const Plan> p = PlanOf(w, "st-lbl", Profile(R"({"1": 1})", w));
  ASSERT_NE(p, nullptr);
  const Summary& s = GetSummary(*p);
  ASSERT_EQ(s.expected->steps.size(), 4u);
  for (const ExitStep& e : s.expected->steps) {
    EXPECT_EQ(e.tiles, 2 * e.timesteps) << "two layers per step";
    EXPECT_NEAR(e.energy.compute_pj, s.energy.compute_pj * static_cast<double>(e.timesteps) / 4,
                1e-9 * s.energy.compute_pj);
  }
  EXPECT_EQ(s.expected->energy.total_pj(), s.expected->steps[0].energy.total_pj());
  EXPECT_EQ(s.expected->latency_cycles, static_cast<double>(s.expected->steps[0].check_cycle));
  EXPECT_LT(s.expected->latency_cycles, static_cast<double>(s.latency_cycles));
}

TEST(ExpectedCost, ExpectationWeighsEachExitStep) {
  const ir::Workload w = FourStepNet();
  std::shared_ptr<const Plan> p =
      PlanOf(w, "st-lbl", Profile(R"({"1": 0.5, "2": 0.125, "4": 0.375})", w));
  ASSERT_NE(p, nullptr);
  const ExpectedCost& x = *GetSummary(*p).expected;
  EXPECT_DOUBLE_EQ(x.mean_timesteps, 0.5 * 1 + 0.125 * 2 + 0.375 * 4);
  double energy = 0, latency = 0;
  for (const ExitStep& e : x.steps) {
    energy += e.probability * e.energy.total_pj();
    latency += e.probability * static_cast<double>(e.latency_cycles);
  }
  EXPECT_DOUBLE_EQ(x.energy.total_pj(), energy);
  EXPECT_DOUBLE_EQ(x.latency_cycles, latency);
  for (size_t i = 1; i < x.steps.size(); ++i) {
    EXPECT_GE(x.steps[i].energy.total_pj(), x.steps[i - 1].energy.total_pj());
    EXPECT_GE(x.steps[i].check_cycle, x.steps[i - 1].check_cycle);
  }
}

// Two samples exit independently; the batch runs until the later one:
// P(batch exits after t) = F(t)^2 - F(t-1)^2.
TEST(ExpectedCost, BatchStopsWhenItsLastSampleExits) {
  const ir::Workload w = FourStepNet(/*batch=*/2);
  std::shared_ptr<const Plan> p = PlanOf(w, "st-lbl", Profile(R"({"1": 0.5, "4": 0.5})", w));
  ASSERT_NE(p, nullptr);
  const ExpectedCost& x = *GetSummary(*p).expected;
  EXPECT_DOUBLE_EQ(x.steps[0].probability, 0.25);
  EXPECT_DOUBLE_EQ(x.steps[1].probability, 0.0);
  EXPECT_DOUBLE_EQ(x.steps[2].probability, 0.0);
  EXPECT_DOUBLE_EQ(x.steps[3].probability, 0.75);
  EXPECT_DOUBLE_EQ(x.mean_timesteps, 0.25 * 1 + 0.75 * 4);
}

// The manifest marks where a check may run and what it skips; recounted
// here from the manifest's own tile and transfer lists.
TEST(ExpectedCost, ManifestExitPointsMatchItsTiles) {
  const ir::Workload w = FourStepNet();
  std::shared_ptr<const Plan> p = PlanOf(w, "st-lf", Profile(R"({"2": 1})", w));
  ASSERT_NE(p, nullptr);
  std::ostringstream out;
  WriteManifest(*p, out);
  const nlohmann::json m = nlohmann::json::parse(out.str());
  ASSERT_TRUE(m.contains("exit_points"));
  EXPECT_EQ(m["exit_points"]["reads_layers"], nlohmann::json::array({1}));
  const nlohmann::json& points = m["exit_points"]["points"];
  ASSERT_EQ(points.size(), 3u);
  for (const nlohmann::json& e : points) {
    const int64_t t = e["after_timesteps"], check = e["check_cycle"];
    int64_t skipped = 0, skipped_transfers = 0, last_of_step = -1;
    for (const nlohmann::json& tile : m["tiles"]) {
      skipped += tile["start"].get<int64_t>() >= check;
      if (tile["layer"] == "c1" && tile["t"][0].get<int64_t>() < t)
        last_of_step = std::max(last_of_step, tile["end"].get<int64_t>());
    }
    for (const nlohmann::json& tr : m["transfers"])
      skipped_transfers += tr["start"].get<int64_t>() >= check;
    EXPECT_EQ(check, last_of_step) << "after " << t << " steps";
    EXPECT_EQ(e["skips_tiles"], skipped) << "after " << t << " steps";
    EXPECT_EQ(e["skips_transfers"], skipped_transfers) << "after " << t << " steps";
    EXPECT_EQ(m["tiles"][e["check_after_tile"].get<size_t>()]["end"], check);
  }
  EXPECT_EQ(m["summary"]["expected"]["mean_timesteps"], 2.0);
}

TEST(ExpectedCost, WithoutAProfileNothingChanges) {
  const ir::Workload w = FourStepNet();
  std::shared_ptr<const Plan> p = PlanOf(w, "st-lbl", nullptr);
  ASSERT_NE(p, nullptr);
  EXPECT_FALSE(GetSummary(*p).expected.has_value());
  std::ostringstream out;
  WriteManifest(*p, out);
  EXPECT_EQ(out.str().find("exit_points"), std::string::npos);
  EXPECT_EQ(out.str().find("expected"), std::string::npos);
}

}  // namespace
}  // namespace snnplan::plan
