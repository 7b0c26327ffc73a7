// Exit points in manifests planned under an exit profile: clean ones
// validate; each broken field is named by the check that catches it.
#include "gmock/gmock.h"
#include "test_util.h"

namespace snnplan::validate::testing {
namespace {

using json = nlohmann::json;

// TinyNet with T = 4 (three layers, one block), planned st-lf so that each
// step's output exists before the next step starts.
json ExitManifest() {
  ir::Workload w = TinyNet(3, 1);
  w.timesteps = 4;
  for (ir::Layer& l : w.layers) l.dims.T = 4;
  absl::StatusOr<plan::ExitProfile> profile = plan::ParseExitProfile(
      R"({"format": "snnplan-exit-profile", "version": 1, "timesteps": 4,
          "exit_probability": {"1": 0.25, "2": 0.25, "3": 0.25, "4": 0.25}})",
      "p.json", w);
  EXPECT_TRUE(profile.ok()) << profile.status();
  plan::PlanOptions o;
  o.exit_profile = std::make_shared<const plan::ExitProfile>(*profile);
  plan::Planner planner(w, MetaPrototype(1 << 20), o);
  return Plan(planner, "st-lf");
}

TEST(ExitPoints, CleanManifestIsValid) {
  const json m = ExitManifest();
  ASSERT_EQ(m["exit_points"]["points"].size(), 3u);
  EXPECT_THAT(Check(m), ::testing::IsEmpty()) << Join(Check(m));
}

TEST(ExitPoints, CheckBeforeItsOutputsExistIsCaught) {
  json m = ExitManifest();
  m["exit_points"]["points"][1]["check_cycle"] =
      m["exit_points"]["points"][1]["check_cycle"].get<int64_t>() - 1;
  EXPECT_TRUE(
      HasViolation(Check(m), "exit.timing", "exit point after 2 timesteps: checks at cycle"));
}

TEST(ExitPoints, CheckAfterTheWrongTileIsCaught) {
  json m = ExitManifest();
  m["exit_points"]["points"][0]["check_after_tile"] = 0;
  EXPECT_TRUE(HasViolation(Check(m), "exit.timing", "check_after_tile 0 is not a tile ending"));
}

TEST(ExitPoints, WrongSkipCountsAreCaught) {
  json m = ExitManifest();
  m["exit_points"]["points"][2]["skips_tiles"] =
      m["exit_points"]["points"][2]["skips_tiles"].get<int64_t>() + 1;
  EXPECT_TRUE(HasViolation(Check(m), "exit.skips", "exit point after 3 timesteps: says it skips"));
}

TEST(ExitPoints, StepsOutsideTheRunAreCaught) {
  json m = ExitManifest();
  m["exit_points"]["points"][2]["after_timesteps"] = 4;
  EXPECT_TRUE(HasViolation(Check(m), "exit.step", "steps must increase within 1..3"));
}

TEST(ExitPoints, UnknownReadLayerIsCaught) {
  json m = ExitManifest();
  m["exit_points"]["reads_layers"] = json::array({7});
  EXPECT_TRUE(HasViolation(Check(m), "exit.reads", "no tile has layer_id 7"));
}

TEST(ExitPoints, MalformedFieldIsAnErrorNamingIt) {
  json m = ExitManifest();
  m["exit_points"]["points"][0]["skips_tiles"] = "many";
  absl::StatusOr<std::vector<Violation>> v = Validate(m);
  ASSERT_FALSE(v.ok());
  EXPECT_THAT(std::string(v.status().message()),
              ::testing::HasSubstr("exit_points.points[0].skips_tiles"));
}

}  // namespace
}  // namespace snnplan::validate::testing
