// End-to-end `snnplan plan` / `trace` / `explore`: outputs, exit codes, and
// that failures leave no files behind.
#include <fstream>
#include <set>

#include "cli_runner.h"
#include "gmock/gmock.h"
#include "nlohmann/json.hpp"

namespace snnplan::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;

const std::string kNmnist = SourceDir() + "/models/snntorch_nmnist_step_op13.onnx";
const std::string kSew7 = SourceDir() + "/models/sj_sew7_T16_loop_op13.onnx";

class PlanCli : public CliTest {};

TEST_F(PlanCli, WritesManifestAndSummaryForTheReadmeJob) {
  const std::string manifest = (dir_ / "m.json").string();
  const std::string summary = (dir_ / "s.json").string();
  CliResult r = Run({"plan", kSew7, "--hw", "meta-prototype", "--sram", "128KiB", "--schedule",
                     "tb-lf,tb-lf,tb-lbl,tb-lbl,tb-lbl,tb-lbl,tb-lbl", "-o", manifest,
                     "--summary-json", summary});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("\nDRAM traffic: "));
  nlohmann::json m = nlohmann::json::parse(ReadAll(manifest));
  nlohmann::json s = nlohmann::json::parse(ReadAll(summary));
  EXPECT_EQ(m["schema_version"], 4);
  EXPECT_EQ(m["model"]["file"], "sj_sew7_T16_loop_op13.onnx");
  // Provenance: the options given, by value, and the parameters read.
  const nlohmann::json& options = m["provenance"]["options"];
  EXPECT_EQ(options["hw"], "meta-prototype");
  EXPECT_EQ(options["sram"], "128KiB");
  EXPECT_TRUE(options["schedule_file"].is_null());
  EXPECT_EQ(options["state_io"], "zero");
  EXPECT_TRUE(options["density"].is_null());  // not given
  EXPECT_FALSE(options.contains("threads"));
  EXPECT_TRUE(m["provenance"]["parameters_loaded"].get<bool>());
  EXPECT_EQ(m["model"]["sha256"].get<std::string>().size(), 64u);
  EXPECT_EQ(m["summary"], s);
  EXPECT_EQ(m["schedule"]["spec"], "tb-lf,tb-lf,tb-lbl,tb-lbl,tb-lbl,tb-lbl,tb-lbl");
  EXPECT_GT(m["tiles"].size(), 7u);
  // The manifest names no absolute path (it must not depend on where it ran).
  EXPECT_EQ(ReadAll(manifest).find(SourceDir()), std::string::npos);
}

// A static conv computed once before the graph repeats its output over
// time: plans and validates under every schedule kind (the once layer has
// T = 1, its consumers read its one step at every step).
TEST_F(PlanCli, StaticConvRepeatedOverTimePlansUnderEverySchedule) {
  const std::string model = SourceDir() + "/models/run/sj_static_conv_repeat_loop_op13.onnx";
  const std::string manifest = (dir_ / "m.json").string();
  for (const char* spec : {"st-lbl", "st-lf", "tb-lbl", "tb-lf", "tb2-lbl"})
    for (const char* io : {"zero", "dram"}) {
      SCOPED_TRACE(::testing::Message() << spec << " " << io);
      CliResult p = Run(
          {"plan", model, "--sram", "1KiB", "--state-io", io, "--schedule", spec, "-o", manifest});
      ASSERT_EQ(p.exit_code, 0) << p.err;
      CliResult v = Run({"validate", manifest, "--model", model});
      EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
      nlohmann::json m = nlohmann::json::parse(ReadAll(manifest));
      EXPECT_EQ(m["layers"][0]["T"], 1);
      EXPECT_EQ(m["layers"][1]["T"], 4);
      // The host writes the static input once: one step of slices.
      EXPECT_EQ(m["network_io"]["input"]["timesteps"], 1);
      for (const nlohmann::json& slice : m["network_io"]["inputs"])
        EXPECT_EQ(slice["t"], nlohmann::json::array({0, 1}));
    }
}

TEST_F(PlanCli, SameCommandTwiceGivesByteIdenticalManifests) {
  for (const char* name : {"a.json", "b.json"}) {
    CliResult r = Run({"plan", kNmnist, "--timesteps", "4", "--sram", "16KiB", "--schedule",
                       "st-lf", "-o", (dir_ / name).string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  EXPECT_EQ(ReadAll(dir_ / "a.json"), ReadAll(dir_ / "b.json"));
  // The thread count leaves no trace either.
  CliResult r = Run({"plan", kNmnist, "--timesteps", "4", "--sram", "16KiB", "--schedule", "st-lf",
                     "-j", "2", "-o", (dir_ / "c.json").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadAll(dir_ / "a.json"), ReadAll(dir_ / "c.json"));
}

TEST_F(PlanCli, SummaryOnlyHoldsNoTileLists) {
  const std::string out = (dir_ / "m.json").string();
  ASSERT_EQ(Run({"plan", kNmnist, "--timesteps", "4", "--summary-only", "-o", out}).exit_code, 0);
  nlohmann::json m = nlohmann::json::parse(ReadAll(out));
  EXPECT_TRUE(m.contains("summary"));
  EXPECT_FALSE(m.contains("tiles"));
}

TEST_F(PlanCli, BadInputsExitTwoAndWriteNothing) {
  const std::string out = (dir_ / "m.json").string();
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"plan", kSew7, "--schedule", "st-lbl,tb-lbl", "-o", out},
       "2 entries but the model has 7 blocks"},
      {{"plan", kSew7, "--schedule", "tb3-lbl", "-o", out}, "do not divide T = 16"},
      {{"plan", kSew7, "--hw", "no-such-preset", "-o", out}, "unknown hardware preset"},
      {{"plan", kSew7, "--sram", "12parsecs", "-o", out}, "--sram"},
      {{"plan", kNmnist, "-o", out}, "timesteps"},  // single-step export needs T
      {{"plan", SourceDir() + "/models/bad/truncated.onnx", "--timesteps", "4", "-o", out},
       "truncated.onnx"},
      {{"plan", kSew7, "--schedule-file", (dir_ / "missing.json").string(), "-o", out},
       "missing.json"},
  };
  for (const Case& c : cases) {
    CliResult r = Run(c.args);
    EXPECT_EQ(r.exit_code, 2) << c.message;
    EXPECT_THAT(r.err, HasSubstr("snnplan: error:"));
    EXPECT_THAT(r.err, HasSubstr(c.message));
    EXPECT_THAT(OutputFiles(), IsEmpty()) << c.message;
  }
}

TEST_F(PlanCli, ScheduleFileReplaysTheSameSchedule) {
  const std::string file = (dir_ / "schedule.json").string();
  std::ofstream(file) << R"({"schedule": ["st-lf", "tb-lbl", "tb-lbl"]})";
  ASSERT_EQ(Run({"plan", kNmnist, "--timesteps", "4", "--schedule-file", file, "--summary-json",
                 (dir_ / "a.json").string()})
                .exit_code,
            0);
  ASSERT_EQ(Run({"plan", kNmnist, "--timesteps", "4", "--schedule", "st-lf,tb-lbl,tb-lbl",
                 "--summary-json", (dir_ / "b.json").string()})
                .exit_code,
            0);
  EXPECT_EQ(ReadAll(dir_ / "a.json"), ReadAll(dir_ / "b.json"));
}

TEST_F(PlanCli, TraceOfAManifestIsATraceEventFile) {
  const std::string m = (dir_ / "m.json").string(), t = (dir_ / "t.json").string();
  ASSERT_EQ(Run({"plan", kNmnist, "--timesteps", "4", "-o", m}).exit_code, 0);
  ASSERT_EQ(Run({"trace", m, "-o", t}).exit_code, 0);
  nlohmann::json trace = nlohmann::json::parse(ReadAll(t));
  EXPECT_GT(trace["traceEvents"].size(), 3u);
  std::ofstream(dir_ / "bad.json") << "{\"tiles\": 3}";
  CliResult bad = Run({"trace", (dir_ / "bad.json").string(), "-o", (dir_ / "t2.json").string()});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_FALSE(fs::exists(dir_ / "t2.json"));
}

TEST_F(PlanCli, BatchLoadsWeightsOnceAndInputsPerSample) {
  auto summary = [&](const std::string& batch) {
    const std::string out = (dir_ / ("s" + batch + ".json")).string();
    CliResult r = Run({"plan", kNmnist, "--timesteps", "4", "--batch", batch, "--sram", "1MiB",
                       "--schedule", "tb-lbl", "--summary-json", out});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return nlohmann::json::parse(ReadAll(out))["dram_bytes"]["read_by_operand"];
  };
  nlohmann::json one = summary("1"), three = summary("3");
  EXPECT_EQ(three["W"], one["W"]);  // 1 MiB keeps every weight resident
  EXPECT_EQ(three["I"].get<int64_t>(), 3 * one["I"].get<int64_t>());
}

TEST_F(PlanCli, ExploreWritesOneCsvRowPerSchedule) {
  const std::string csv = (dir_ / "g.csv").string();
  CliResult r = Run(
      {"explore", kNmnist, "--timesteps", "4", "--sram", "8KiB,16KiB", "--csv", csv, "-j", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::ifstream in(csv);
  std::string line;
  int rows = -1;  // the header
  while (std::getline(in, line)) ++rows;
  EXPECT_EQ(rows, 2 * 16);  // 3 blocks: (3+1)^2 schedules at each of 2 sizes
  EXPECT_THAT(r.out, HasSubstr("compulsory DRAM traffic (a lower bound for any schedule) "));
}

// NMNIST (3 blocks, T = 4): {st, tb2, tb} x {lbl, lf} per block = 216.
TEST_F(PlanCli, ExploreSearchProvesOptimalityOrReportsTheGap) {
  const std::string csv = (dir_ / "s.csv").string();
  CliResult full = Run({"explore", kNmnist, "--timesteps", "4", "--sram", "8KiB", "--strategy",
                        "search", "--csv", csv});
  ASSERT_EQ(full.exit_code, 0) << full.err;
  EXPECT_THAT(full.out, HasSubstr("proven optimal over the 216-schedule space"));
  std::set<std::string> specs;
  std::ifstream in(csv);
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line))
    EXPECT_TRUE(specs.insert(line.substr(0, line.find('"', 1))).second) << line;
  EXPECT_GE(specs.size(), 16u);  // the grid seeds at least
  EXPECT_LE(specs.size(), 216u);

  CliResult cut = Run({"explore", kNmnist, "--timesteps", "4", "--sram", "8KiB", "--strategy",
                       "search", "--budget", "3"});
  ASSERT_EQ(cut.exit_code, 0) << cut.err;
  EXPECT_THAT(cut.out, HasSubstr("3 schedules evaluated"));
  EXPECT_THAT(cut.out, HasSubstr("not proven optimal (budget reached)"));
}

}  // namespace
}  // namespace snnplan::testing
