// The snnplan commands take .nir files like ONNX models: import (table with
// dt, JSON), cost, plan + validate --model, run against the script's
// reference; the exit-code contract for refusals (2, message on stderr).
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tools/cli_runner.h"

namespace snnplan::testing {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

const std::string kNir = std::string(SNNPLAN_SOURCE_DIR) + "/models/nir/";

class NirCli : public CliTest {};

TEST_F(NirCli, ImportPrintsTheTableWithDt) {
  CliResult r = Run({"import", kNir + "lif_mlp.nir", "--timesteps", "8"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, AllOf(HasSubstr("lif_mlp.nir"), HasSubstr("T=8"), HasSubstr("dt=0.0001 s"), HasSubstr("fc1"),
                           HasSubstr("stateful lif zero")));
}

TEST_F(NirCli, ImportJsonRecordsDtFromTheFlag) {
  const std::string out = (dir_ / "ir.json").string();
  CliResult r = Run({"import", kNir + "cubalif_ff.nir", "--timesteps", "4", "--dt", "2e-5", "--json", out});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(ReadAll(out));
  EXPECT_DOUBLE_EQ(j["dt_seconds"].get<double>(), 2e-5);
  EXPECT_EQ(j["timesteps"], 4);
  EXPECT_EQ(j["layers"][0]["neuron_kind"], "synaptic");
}

TEST_F(NirCli, HelpStatesTheDtDefault) {
  CliResult r = Run({"import", "--help"});
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.out, AllOf(HasSubstr("--dt"), HasSubstr("1e-4")));
}

TEST_F(NirCli, MissingTimestepsIsAUsageError) {
  CliResult r = Run({"import", kNir + "lif_mlp.nir"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, AllOf(HasSubstr("lif_mlp.nir"), HasSubstr("--timesteps")));
}

TEST_F(NirCli, RecurrentNetSaysWhichInputIsDelayed) {
  CliResult r = Run({"import", kNir + "recurrent_cubalif.nir", "--timesteps", "4"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("previous step"));
  CliResult j = Run({"import", kNir + "recurrent_cubalif.nir", "--timesteps", "4", "--json", "-"});
  ASSERT_EQ(j.exit_code, 0) << j.err;
  EXPECT_THAT(j.out, HasSubstr("\"input_delayed\""));
}

TEST_F(NirCli, CostPlanAndValidateTakeNir) {
  CliResult c = Run({"cost", kNir + "snntorch_cnn.nir", "--timesteps", "4", "--hw", "meta-prototype"});
  ASSERT_EQ(c.exit_code, 0) << c.err;
  const std::string manifest = (dir_ / "m.json").string();
  CliResult p = Run({"plan", kNir + "snntorch_cnn.nir", "--timesteps", "4", "--sram", "128KiB", "--schedule",
                     "tb-lf", "-o", manifest});
  ASSERT_EQ(p.exit_code, 0) << p.err;
  CliResult v = Run({"validate", manifest, "--model", kNir + "snntorch_cnn.nir", "--timesteps", "4", "--hw",
                     "meta-prototype", "--sram", "128KiB"});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
}

// A recurrent net from snnTorch's own export plans under every schedule
// kind, with a small buffer (the carried spikes spill) and both state-io
// modes, and every manifest validates against the model.
TEST_F(NirCli, RecurrentNetPlansAndValidatesUnderEverySchedule) {
  const std::string manifest = (dir_ / "m.json").string();
  for (const char* spec : {"st-lbl", "st-lf", "tb-lbl", "tb-lf", "tb2-lbl", "tb4-lf"})
    for (const char* io : {"zero", "dram"}) {
      SCOPED_TRACE(::testing::Message() << spec << " " << io);
      CliResult p = Run({"plan", kNir + "snntorch_rleaky.nir", "--timesteps", "8", "--sram", "512B",
                         "--state-io", io, "--schedule", spec, "-o", manifest});
      ASSERT_EQ(p.exit_code, 0) << p.err;
      CliResult v =
          Run({"validate", manifest, "--model", kNir + "snntorch_rleaky.nir", "--timesteps", "8"});
      EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
    }
}

TEST_F(NirCli, RunReproducesTheReference) {
  const std::string out = (dir_ / "out.npz").string();
  CliResult r = Run({"run", kNir + "zoo.nir", "--timesteps", "8", "--inputs", kNir + "zoo.io.npz", "--outputs", out});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(std::filesystem::exists(out));  // values: tests/runtime/nir_fidelity_test.cc
}

}  // namespace
}  // namespace snnplan::testing
