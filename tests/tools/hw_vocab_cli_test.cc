// End to end: ZigZag YAML as --hw / hw show, and precisions that belong to
// the hardware (flags override; the manifest records what was used).
#include <fstream>
#include <string>

#include "cli_runner.h"
#include "gmock/gmock.h"
#include "nlohmann/json.hpp"
#include "snnplan/hwdesc.h"
#include "snnplan/importer.h"

namespace snnplan::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

const std::string kNmnist = SourceDir() + "/models/snntorch_nmnist_step_op13.onnx";
const std::string kZigZag = SourceDir() + "/tests/data/hw/zigzag/";

class HwVocabCli : public CliTest {
 protected:
  // The meta-prototype as a JSON file, with `precision` replaced.
  std::string PresetFileWith(const nlohmann::json& precision) {
    CliResult r = Run({"hw", "show", "meta-prototype", "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    nlohmann::json doc = nlohmann::json::parse(r.out);
    doc["precision"] = precision;
    const std::string path = (dir_ / "hw.json").string();
    std::ofstream(path) << doc.dump(2);
    return path;
  }
  nlohmann::json PlanManifest(std::vector<std::string> extra, const std::string& name) {
    const std::string out = (dir_ / name).string();
    std::vector<std::string> args = {"plan",  kNmnist,      "--timesteps", "4",  "--sram",
                                     "16KiB", "--schedule", "st-lf",       "-o", out};
    args.insert(args.end(), extra.begin(), extra.end());
    CliResult r = Run(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return nlohmann::json::parse(ReadAll(out));
  }
};

TEST_F(HwVocabCli, ZigZagYamlShowsAsItsHandWrittenJson) {
  CliResult yaml = Run({"hw", "show", kZigZag + "snn_core.yaml", "--json"});
  ASSERT_EQ(yaml.exit_code, 0) << yaml.err;
  CliResult json = Run({"hw", "show", kZigZag + "snn_core.expected.json", "--json"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  EXPECT_EQ(yaml.out, json.out);
  CliResult table = Run({"hw", "show", kZigZag + "snn_core.yaml"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_THAT(table.out, HasSubstr("hardware: snn_core_zz"));
  EXPECT_THAT(table.out, HasSubstr("precision (bits; flags override): weights 4, input 8"));
}

TEST_F(HwVocabCli, BadYamlExitsTwoNamingFileAndKey) {
  std::ifstream in(kZigZag + "snn_core.yaml");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string from = "r_cost: 0.008";
  text.replace(text.find(from), from.size(), "r_cost: lots");
  const std::string path = (dir_ / "bad.yaml").string();
  std::ofstream(path) << text;
  CliResult r = Run({"hw", "show", path});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(r.out.empty()) << r.out;
  EXPECT_EQ(r.err, "snnplan: error: " + path +
                       ": memories.rf_w_8b.r_cost: expected a number, got 'lots' (line 14)\n");
}

TEST_F(HwVocabCli, PlansOnAZigZagCore) {
  const nlohmann::json m = PlanManifest({"--hw", kZigZag + "snn_core.yaml"}, "zz.json");
  EXPECT_EQ(m["hardware"]["name"], "snn_core_zz");
  // input_precision [8, 4] of the YAML: 8-bit input, 4-bit weights.
  EXPECT_EQ(m["hardware"]["precision"]["input_bits"], 8);
  EXPECT_EQ(m["hardware"]["precision"]["weight_bits"], 4);
  const std::string manifest = (dir_ / "zz.json").string();
  CliResult v = Run({"validate", manifest});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
}

// The hardware's precision is used; a flag overrides it; the manifest's
// hardware records the precisions the plan used.
TEST_F(HwVocabCli, HardwarePrecisionIsUsedAndFlagsOverride) {
  const nlohmann::json dflt = PlanManifest({"--hw", "meta-prototype"}, "default.json");
  const std::string hw8 = PresetFileWith({{"weight_bits", 8}});
  const nlohmann::json from_hw = PlanManifest({"--hw", hw8}, "hw8.json");
  const nlohmann::json from_flag =
      PlanManifest({"--hw", "meta-prototype", "--weight-bits", "8"}, "flag8.json");
  // 8-bit weights from the hardware plan exactly like --weight-bits 8, and
  // unlike the 4-bit default (more weight bytes from DRAM).
  EXPECT_EQ(from_hw["summary"], from_flag["summary"]);
  EXPECT_GT(from_hw["summary"]["dram_bytes"]["total"].get<double>(),
            dflt["summary"]["dram_bytes"]["total"].get<double>());
  EXPECT_EQ(from_hw["hardware"]["precision"]["weight_bits"], 8);
  EXPECT_EQ(from_flag["hardware"]["precision"]["weight_bits"], 8);
  EXPECT_EQ(dflt["hardware"]["precision"]["weight_bits"], 4);
  // A flag overrides the hardware's value.
  const nlohmann::json overridden = PlanManifest({"--hw", hw8, "--weight-bits", "4"}, "over.json");
  EXPECT_EQ(overridden["summary"], dflt["summary"]);
  EXPECT_EQ(overridden["hardware"]["precision"]["weight_bits"], 4);
  // The manifest validates against the model without repeating the flag (the
  // validator's model checks are geometric, so this checks the plumbing runs,
  // not that the precision reached the re-import).
  CliResult v =
      Run({"validate", (dir_ / "flag8.json").string(), "--model", kNmnist, "--timesteps", "4"});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
}

TEST(HwVocab, HardwarePrecisionDefaultsAreTheImportersDefaults) {
  const hw::Precision hw;
  const importer::ImportOptions import;
  EXPECT_EQ(hw.weight_bits, import.weight_bits);
  EXPECT_EQ(hw.input_bits, import.input_bits);
  EXPECT_EQ(hw.feature_bits, import.feature_bits);
  EXPECT_EQ(hw.state_bits, import.state_bits);
  EXPECT_EQ(hw.accumulator_bits, import.accumulator_bits);
}

}  // namespace
}  // namespace snnplan::testing
