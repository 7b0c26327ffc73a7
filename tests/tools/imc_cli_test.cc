// End-to-end: planning on the in-memory-computing preset (imc-crossbar,
// docs/hardware.md "In-memory computing"). The plan validates, its weights
// never cross the DRAM link per inference, the one-time programming cost is
// what the model's weight shapes and the preset's figures give, and a core
// with too few arrays is refused naming the layer that does not fit.
#include <cstdint>
#include <string>
#include <vector>

#include "cli_runner.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace {

using snnplan::testing::ReadAll;
using ::testing::HasSubstr;
using Result = snnplan::testing::CliResult;

const std::string kModel =
    std::string(SNNPLAN_SOURCE_DIR) + "/models/snntorch_nmnist_unrolled_T4_op13.onnx";

int64_t CeilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

// The snnTorch N-MNIST network in the fixture: Conv(2 -> 12, 5x5) on 34x34,
// Conv(12 -> 32, 5x5), MaxPool 2 (no weights: runs on the digital array),
// Linear(32 x 13 x 13 = 5408 -> 10); 4-bit weights.
struct WeightLayer {
  int64_t K, C, F;  // output channels, input channels, kernel side
};
const std::vector<WeightLayer> kLayers = {{12, 2, 5}, {32, 12, 5}, {10, 5408, 1}};

// imc-crossbar: 128 x 128 arrays, 2 bits per cell: a 4-bit weight takes 2.
int64_t Arrays(const WeightLayer& l) {
  return CeilDiv(l.C * l.F * l.F, 128) * CeilDiv(l.K * CeilDiv(4, 2), 128);
}

class ImcCli : public snnplan::testing::CliTest {
 protected:
  Result Plan(const std::string& hw, const std::string& manifest, const std::string& summary) {
    return Run({"plan", kModel, "--hw", hw, "--schedule", "st-lbl", "-o", manifest,
                "--summary-json", summary});
  }
};

TEST_F(ImcCli, PlansValidatesAndKeepsWeightsInTheCrossbars) {
  const std::string manifest = (dir_ / "m.json").string(), summary = (dir_ / "s.json").string();
  Result r = Plan("imc-crossbar", manifest, summary);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("crossbars (core 0): "));
  nlohmann::json s = nlohmann::json::parse(ReadAll(summary));
  // No weight traffic per inference, and no weights piece anywhere.
  EXPECT_EQ(s["dram_bytes"]["by_operand"]["W"].get<int64_t>(), 0);
  const std::string text = ReadAll(manifest);
  EXPECT_EQ(text.find("\"kind\":\"weights\""), std::string::npos);
  // The one-time programming cost, from the weight shapes.
  int64_t arrays = 0, cells = 0, bytes = 0;
  for (const WeightLayer& l : kLayers) {
    arrays += Arrays(l);
    const int64_t weights = l.K * l.C * l.F * l.F;
    cells += weights * 2;
    bytes += CeilDiv(weights * 4, 8);
  }
  ASSERT_EQ(arrays, 1 + 3 + 43);  // ceil(5408 / 128) = 43 row tiles for the linear layer
  ASSERT_TRUE(s.contains("crossbars"));
  const nlohmann::json& x = s["crossbars"][0];
  EXPECT_EQ(x["core"].get<int>(), 0);
  EXPECT_EQ(x["arrays"].get<int64_t>(), 192);
  EXPECT_EQ(x["arrays_used"].get<int64_t>(), arrays);
  EXPECT_EQ(x["layers"].get<int64_t>(), 3);
  EXPECT_EQ(x["cells_programmed"].get<int64_t>(), cells);
  EXPECT_EQ(x["program_dram_read_bytes"].get<int64_t>(), bytes);
  // cells x 10 pJ + the weights read once from DRAM at 11000 fJ/bit.
  EXPECT_NEAR(x["program_energy_pj"].get<double>(), cells * 10.0 + bytes * 8 * 11.0, 1e-6);
  EXPECT_EQ(x["program_cycles"].get<int64_t>(), CeilDiv(bytes * 8, 64));
  EXPECT_EQ(x["per"], "deployment");
  // Each conv/linear layer records the arrays holding its weights.
  nlohmann::json m = nlohmann::json::parse(text);
  std::vector<int64_t> recorded;
  for (const nlohmann::json& l : m["layers"])
    if (l.contains("crossbar_arrays")) recorded.push_back(l["crossbar_arrays"].get<int64_t>());
  EXPECT_EQ(recorded, (std::vector<int64_t>{1, 3, 43}));

  Result v = Run({"validate", manifest});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
  v = Run({"validate", manifest, "--model", kModel, "--hw", "imc-crossbar"});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;

  // Without the record that its weights stay in crossbars, a conv layer's
  // tiles read no weights: the validator names it.
  for (nlohmann::json& l : m["layers"])
    if (l["name"] == "/net/conv2/Conv") l.erase("crossbar_arrays");
  const std::string bad = (dir_ / "bad.json").string();
  std::ofstream(bad) << m.dump();
  v = Run({"validate", bad});
  EXPECT_EQ(v.exit_code, 1) << v.out << v.err;
  EXPECT_THAT(v.out, HasSubstr("[tile.weights]"));
  EXPECT_THAT(v.out, HasSubstr("reads no weights of its layer"));
}

TEST_F(ImcCli, TheDigitalPresetStillLoadsWeightsPerInference) {
  // The same plan on the meta-prototype reads every weight from DRAM (the
  // control for the test above: the search strings do find weights there).
  const std::string manifest = (dir_ / "m.json").string(), summary = (dir_ / "s.json").string();
  Result r = Plan("meta-prototype", manifest, summary);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json s = nlohmann::json::parse(ReadAll(summary));
  EXPECT_GT(s["dram_bytes"]["by_operand"]["W"].get<int64_t>(), 0);
  EXPECT_FALSE(s.contains("crossbars"));
  EXPECT_NE(ReadAll(manifest).find("\"kind\":\"weights\""), std::string::npos);
}

TEST_F(ImcCli, TooFewArraysIsRefusedNamingTheLayer) {
  Result show = Run({"hw", "show", "imc-crossbar", "--json"});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  nlohmann::json hw = nlohmann::json::parse(show.out);
  // The convolutions take 1 + 3 arrays; the linear layer needs 43 more.
  hw["cores"][0]["imc"]["arrays"] = 5;
  const std::string path = (dir_ / "small.json").string();
  std::ofstream(path) << hw.dump();
  Result r = Plan(path, (dir_ / "m.json").string(), (dir_ / "s.json").string());
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_THAT(
      r.err,
      HasSubstr("layer '/net/fc/Gemm' needs 43 crossbar arrays for its weights but only 1 of the 5 "
                "arrays of core 0 are left after the 2 conv/linear layer(s)"));
  EXPECT_TRUE(r.out.empty()) << r.out;
}

TEST_F(ImcCli, HwShowDescribesTheCrossbars) {
  Result r = Run({"hw", "show", "imc-crossbar"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("imc: 192 crossbar arrays of 128 rows x 128 columns, 2 bit(s) "
                               "per cell (3145728 cells)"));
  Result j = Run({"hw", "show", "imc-crossbar", "--json"});
  ASSERT_EQ(j.exit_code, 0) << j.err;
  const std::string path = (dir_ / "imc.json").string();
  std::ofstream(path) << j.out;
  Result again = Run({"hw", "show", path, "--json"});
  EXPECT_EQ(again.out, j.out);  // the crossbars round-trip
}

}  // namespace
