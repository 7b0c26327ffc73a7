// Planning under early exit end to end (issue #19 part 2): `snnplan run
// --exit` measures an exit profile, `plan`/`explore --exit-profile` price
// the expected cost with it, and `validate` checks the manifest's exit
// points. Expected values follow from the profile itself (its mean step
// count) and from the definitions in docs/early-exit.md.
#include "absl/strings/str_cat.h"
#include "cli_runner.h"
#include "gmock/gmock.h"
#include "nlohmann/json.hpp"

namespace snnplan::testing {
namespace {

using ::testing::HasSubstr;

const std::string kModel = SourceDir() + "/models/snntorch_nmnist_unrolled_T4_op13.onnx";
const std::string kInputs = SourceDir() + "/models/snntorch_nmnist_unrolled_T4.io.npz";

class EarlyExitCli : public CliTest {
 protected:
  // Threshold 1 exits after the first step (docs/run.md): a profile with P(1) = 1.
  fs::path MeasuredProfile() {
    const fs::path p = dir_ / "profile.json";
    CliResult r = Run({"run", kModel, "--inputs", kInputs, "--exit", "entropy:1", "--exit-output",
                       "mem_rec", "--exit-profile", p.string()});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return p;
  }
};

TEST_F(EarlyExitCli, RunsProfilePricesThePlan) {
  const fs::path profile = MeasuredProfile();
  const nlohmann::json p = nlohmann::json::parse(ReadAll(profile));
  const fs::path manifest = dir_ / "m.json", summary = dir_ / "s.json";
  CliResult r = Run({"plan", kModel, "--schedule", "st-lbl", "--exit-profile", profile.string(),
                     "-o", manifest.string(), "--summary-json", summary.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out,
              HasSubstr("early exit (profile.json, entropy:1): 1 of 4 timesteps on average"));
  const nlohmann::json s = nlohmann::json::parse(ReadAll(summary));
  ASSERT_TRUE(s.contains("expected"));
  EXPECT_EQ(s["expected"]["mean_timesteps"], p["mean_timesteps"]);
  EXPECT_EQ(s["expected"]["exit_profile"]["output"], "mem_rec");
  EXPECT_LT(s["expected"]["energy_pj"]["total"].get<double>(),
            s["energy_pj"]["total"].get<double>());
  EXPECT_LT(s["expected"]["latency_cycles"].get<double>(), s["latency_cycles"].get<double>());
  CliResult v = Run({"validate", manifest.string()});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
  EXPECT_THAT(ReadAll(manifest), HasSubstr("\"exit_points\""));
}

TEST_F(EarlyExitCli, TimeBatchingSpendsEveryTileWhateverTheExit) {
  const fs::path profile = MeasuredProfile(), summary = dir_ / "s.json";
  CliResult r = Run({"plan", kModel, "--schedule", "tb-lbl", "--exit-profile", profile.string(),
                     "--summary-json", summary.string(), "-o", "/dev/null"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json s = nlohmann::json::parse(ReadAll(summary));
  for (const nlohmann::json& step : s["expected"]["by_exit_step"])
    EXPECT_EQ(step["tiles"], s["tiles"]) << step.dump();
}

TEST_F(EarlyExitCli, ExploreRanksByExpectedCostAndSaysWhatChanged) {
  const fs::path profile = MeasuredProfile(), csv = dir_ / "x.csv";
  CliResult r = Run({"explore", kModel, "--objective", "energy", "--exit-profile", profile.string(),
                     "--csv", csv.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("early exit: 1 timesteps on average"));
  EXPECT_THAT(r.out, HasSubstr("ranked by expected energy"));
  const std::string text = ReadAll(csv);
  EXPECT_THAT(
      text.substr(0, text.find('\n')),
      ::testing::EndsWith(
          "expected_energy_pj,expected_dram_bytes,expected_latency_cycles,expected_timesteps"));
  CliResult search =
      Run({"explore", kModel, "--strategy", "search", "--exit-profile", profile.string()});
  EXPECT_EQ(search.exit_code, 2);
  EXPECT_THAT(search.err, HasSubstr("use --strategy grid or exhaustive"));
}

TEST_F(EarlyExitCli, ProfileOfAnotherStepCountIsRefusedBeforeWriting) {
  const fs::path profile = dir_ / "p.json", manifest = dir_ / "m.json";
  std::ofstream(profile) << R"({"format": "snnplan-exit-profile", "version": 1, "timesteps": 8,
                               "exit_probability": {"8": 1}})";
  CliResult r = Run({"plan", kModel, "--exit-profile", profile.string(), "-o", manifest.string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr(absl::StrCat("--exit-profile ", profile.string(),
                                            ": timesteps: the profile is over 8 timesteps, the "
                                            "model runs 4")));
  EXPECT_FALSE(fs::exists(manifest));
}

}  // namespace
}  // namespace snnplan::testing
