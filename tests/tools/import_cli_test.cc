// End-to-end tests of `snnplan import`, run as a subprocess: the table, the
// --json file, and bad inputs -> exit code 2 with no output file.
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cli_runner.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

const std::string kModels = std::string(SNNPLAN_SOURCE_DIR) + "/models/";

using snnplan::testing::ReadAll;
using Result = snnplan::testing::CliResult;

class ImportCli : public snnplan::testing::CliTest {};

TEST_F(ImportCli, TableAndJson) {
  std::string json = (dir_ / "ir.json").string();
  Result r = Run({"import", kModels + "sj_sew7_T16_loop_op13.onnx", "--json", json});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("/block1/a/conv/Conv"));
  EXPECT_THAT(r.out, HasSubstr("stateful lif zero"));
  EXPECT_THAT(r.out, HasSubstr("3,863,552 neuron states"));
  nlohmann::json j = nlohmann::json::parse(ReadAll(json));
  EXPECT_EQ(j["timesteps"], 16);
  EXPECT_EQ(j["totals"]["conv"], 16);
  EXPECT_EQ(j["totals"]["linear"], 1);
  EXPECT_EQ(j["totals"]["pool"], 7);
  EXPECT_EQ(j["totals"]["spiking_layers"], 16);
  EXPECT_EQ(j["totals"]["stateful_layers"], 16);
  EXPECT_EQ(j["totals"]["states"], 3863552);
  EXPECT_EQ(j["totals"]["weights"], 1195146);
  EXPECT_EQ(j["layers"][0]["neuron"], "stateful");
  EXPECT_EQ(j["layers"][0]["states"], 1048576);
  EXPECT_EQ(j["layers"][0]["weights"], 128 + 256);
  // Deterministic: a second run writes the same bytes.
  std::string first = ReadAll(json);
  ASSERT_EQ(Run({"import", kModels + "sj_sew7_T16_loop_op13.onnx", "--json", json}).exit_code, 0);
  EXPECT_EQ(ReadAll(json), first);
}

TEST_F(ImportCli, StatelessBlocksFlag) {
  std::string json = (dir_ / "ir.json").string();
  Result r = Run({"import", kModels + "sj_sew7_T16_loop_op13.onnx", "--stateless-blocks", "0,1",
                  "--json", json});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(ReadAll(json))["totals"]["states"], 193536);
}

TEST_F(ImportCli, SingleStepNeedsTimesteps) {
  Result r = Run({"import", kModels + "snntorch_nmnist_step_op13.onnx"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--timesteps"));
  r = Run({"import", kModels + "snntorch_nmnist_step_op13.onnx", "--timesteps", "4"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("32,442 neuron states"));
}

TEST_F(ImportCli, BadFilesExitTwoWithoutOutput) {
  struct Case {
    const char* file;
    const char* needle;
  };
  for (const Case& c : std::vector<Case>{{"empty.onnx", "empty file"},
                                         {"truncated.onnx", "parse error"},
                                         {"random_bytes.onnx", "parse error"},
                                         {"unknown_op_lstm.onnx", "unsupported op LSTM"},
                                         {"unknown_op_pythonop.onnx", "PythonOp"},
                                         {"custom_domain_heaviside.onnx", "snn::Heaviside"},
                                         {"dynamic_batch_snntorch_step.onnx", "'batch'"},
                                         {"dynamic_batch_time_sj_loop.onnx", "'T'"}}) {
    SCOPED_TRACE(c.file);
    fs::path json = dir_ / "ir.json";
    Result r = Run({"import", kModels + "bad/" + c.file, "--json", json.string()});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_THAT(r.err, HasSubstr(c.file));
    EXPECT_THAT(r.err, HasSubstr(c.needle));
    EXPECT_FALSE(fs::exists(json));
    int leftovers = 0;
    for (const auto& e : fs::directory_iterator(dir_))
      leftovers += e.path().filename().string().rfind("ir.json", 0) == 0;
    EXPECT_EQ(leftovers, 0);
  }
}

TEST_F(ImportCli, PinnedDynamicBatch) {
  Result r = Run({"import", kModels + "bad/dynamic_batch_snntorch_step.onnx", "--timesteps", "4",
                  "--batch", "1"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

}  // namespace
