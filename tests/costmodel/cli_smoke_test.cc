// `snnplan cost` end to end on a bundled SEW-7 export: the JSON report has
// the documented keys and its totals add up over the layers.
#include <cstdlib>
#include <fstream>
#include <string>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace {

TEST(CostCli, JsonReportHasLayersAndTotal) {
  std::string out = ::testing::TempDir() + "/cost_report.json";
  std::string cmd = std::string(SNNPLAN_BINARY) + " cost " + SNNPLAN_SOURCE_DIR +
                    "/models/sj_sew7_T16_loop_op13.onnx --hw meta-prototype"
                    " --sram 128KiB --tile T=4 --json " + out + " > /dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::ifstream in(out);
  nlohmann::json j = nlohmann::json::parse(in);
  ASSERT_TRUE(j["layers"].is_array());
  ASSERT_FALSE(j["layers"].empty());
  EXPECT_EQ(j["layers"][0]["tiles"].get<int>(), 4);  // stem: T=16 in tiles of 4
  double sum_pj = 0, sum_bytes = 0;
  for (const auto& l : j["layers"]) {
    for (const char* k : {"total", "compute", "local", "sram", "dram"})
      EXPECT_TRUE(l["energy_pj"].contains(k)) << k;
    EXPECT_TRUE(l.contains("name"));
    EXPECT_TRUE(l["mapping"].is_array());
    sum_pj += l["energy_pj"]["total"].get<double>();
    sum_bytes += l["dram_bytes"].get<double>();
  }
  EXPECT_NEAR(j["total"]["energy_pj"]["total"].get<double>(), sum_pj, 1e-6 * sum_pj);
  EXPECT_NEAR(j["total"]["dram_bytes"].get<double>(), sum_bytes, 1e-6 * sum_bytes + 1);
  EXPECT_GT(j["total"]["latency_cycles"].get<int64_t>(), 0);
}

TEST(CostCli, UnknownLayerIsBadInput) {
  std::string cmd = std::string(SNNPLAN_BINARY) + " cost " + SNNPLAN_SOURCE_DIR +
                    "/models/sj_sew7_T16_loop_op13.onnx --hw meta-prototype"
                    " --layer nope > /dev/null 2>&1";
  int rc = std::system(cmd.c_str());
  EXPECT_EQ(WEXITSTATUS(rc), 2);
}

}  // namespace
