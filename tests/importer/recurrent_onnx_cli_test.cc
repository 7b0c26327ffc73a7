// Recurrent ONNX exports end to end through the CLI: snnTorch RLeaky /
// RSynaptic (linear and conv recurrence, unrolled and single-step) and
// SpikingJelly's LinearRecurrentContainer import with their delayed edge,
// plan under every schedule kind (a small buffer, so the carried spikes
// spill; both state-io modes) and every manifest validates against the model.
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tools/cli_runner.h"

namespace snnplan::testing {
namespace {

using ::testing::HasSubstr;

const std::string kCorpus = std::string(SNNPLAN_SOURCE_DIR) + "/models/corpus/";

class RecurrentOnnxCli : public CliTest, public ::testing::WithParamInterface<const char*> {
 protected:
  // Model path and the import flags its facts file states.
  std::vector<std::string> Model() const {
    std::vector<std::string> m = {kCorpus + GetParam() + ".onnx"};
    nlohmann::json f = nlohmann::json::parse(ReadAll(kCorpus + GetParam() + ".facts.json"));
    for (const std::string a : f["import_args"]) m.push_back(a);
    return m;
  }
  CliResult RunWith(std::vector<std::string> args, const std::vector<std::string>& after) {
    for (const std::string& a : after) args.push_back(a);
    return Run(args);
  }
};

TEST_P(RecurrentOnnxCli, ImportListsTheDelayedEdge) {
  std::vector<std::string> args = {"import"};
  for (const std::string& a : Model()) args.push_back(a);
  const std::string json = (dir_ / "ir.json").string();
  args.insert(args.end(), {"--json", json});
  CliResult r = Run(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("previous step"));
  nlohmann::json j = nlohmann::json::parse(ReadAll(json));
  int delayed = 0;
  for (const nlohmann::json& l : j["layers"])
    if (l.contains("input_delayed"))
      for (bool d : l["input_delayed"]) delayed += d;
  EXPECT_EQ(delayed, 1);
}

TEST_P(RecurrentOnnxCli, PlansAndValidatesUnderEverySchedule) {
  const std::string manifest = (dir_ / "m.json").string();
  for (const char* spec : {"st-lbl", "st-lf", "tb-lbl", "tb-lf", "tb2-lbl"})
    for (const char* io : {"zero", "dram"}) {
      SCOPED_TRACE(::testing::Message() << spec << " " << io);
      std::vector<std::string> plan = {"plan"};
      for (const std::string& a : Model()) plan.push_back(a);
      CliResult p =
          RunWith(plan, {"--sram", "1KiB", "--state-io", io, "--schedule", spec, "-o", manifest});
      ASSERT_EQ(p.exit_code, 0) << p.err;
      std::vector<std::string> validate = {"validate", manifest, "--model"};
      for (const std::string& a : Model()) validate.push_back(a);
      CliResult v = Run(validate);
      EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
      // The manifest marks the recurrent read.
      EXPECT_THAT(ReadAll(manifest), HasSubstr("\"previous\""));
    }
}

// One-to-one recurrence (RLeaky all_to_all=False) has no delayed edge: the
// unrolled export is a reset term, the single-step one a second state.
class RecurrentOneToOneCli : public CliTest {};

TEST_F(RecurrentOneToOneCli, StepExportPlansAndValidatesUnderEverySchedule) {
  const std::string model = kCorpus + "st_rleaky_onetoone_perneuron_step_op13.onnx";
  const std::string manifest = (dir_ / "m.json").string();
  for (const char* spec : {"st-lbl", "st-lf", "tb-lbl", "tb-lf", "tb2-lbl"})
    for (const char* io : {"zero", "dram"}) {
      SCOPED_TRACE(::testing::Message() << spec << " " << io);
      CliResult p = Run({"plan", model, "--timesteps", "4", "--sram", "1KiB", "--state-io", io,
                         "--schedule", spec, "-o", manifest});
      ASSERT_EQ(p.exit_code, 0) << p.err;
      CliResult v = Run({"validate", manifest, "--model", model, "--timesteps", "4"});
      EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
      // lif2 carries two states per neuron (10 neurons): mem2 and spk2.
      nlohmann::json m = nlohmann::json::parse(ReadAll(manifest));
      EXPECT_EQ(m["layers"][2]["states"], 2);
    }
}

INSTANTIATE_TEST_SUITE_P(Exports, RecurrentOnnxCli,
                         ::testing::Values("st_rleaky_linear_unrolled_op13",
                                           "st_rleaky_linear_step_op13",
                                           "st_rleaky_conv_unrolled_op13",
                                           "st_rsynaptic_linear_step_op13",
                                           "sj_rc_linear_unrolled_op13", "sj_rc_linear_step_op13"));

}  // namespace
}  // namespace snnplan::testing
