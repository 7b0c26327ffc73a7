// End-to-end tests of `snnplan validate`, run as a subprocess on a manifest
// written by `snnplan plan`: exit 0 clean, 1 with violations, 2 malformed.
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

const std::string kModel =
    std::string(SNNPLAN_SOURCE_DIR) + "/models/snntorch_nmnist_unrolled_T4_op13.onnx";

using snnplan::testing::ReadAll;
using Result = snnplan::testing::CliResult;

class ValidateCli : public snnplan::testing::CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    manifest_ = (dir_ / "m.json").string();
    Result r = Run({"plan", kModel, "--sram", "16KiB", "--schedule", "st-lbl", "-o", manifest_});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  std::string Write(const std::string& name, const std::string& content) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }
  std::string manifest_;
};

TEST_F(ValidateCli, CleanManifestExitsZero) {
  Result r = Run({"validate", manifest_});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr(": valid"));
  r = Run({"validate", manifest_, "--model", kModel, "--hw", "meta-prototype", "--sram", "16KiB"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
}

TEST_F(ValidateCli, MutatedManifestExitsOneAndNamesTheViolation) {
  nlohmann::json m = nlohmann::json::parse(ReadAll(manifest_));
  m["summary"]["dram_bytes"]["total"] = m["summary"]["dram_bytes"]["total"].get<int64_t>() + 8;
  m["allocations"][1]["offset"] = m["allocations"][0]["offset"];
  Result r = Run({"validate", Write("bad.json", m.dump())});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("[summary.bytes] summary.dram_bytes.total is"));
  EXPECT_THAT(r.out, HasSubstr("violation"));
  // The right manifest against other hardware is a violation too.
  r = Run({"validate", manifest_, "--sram", "8KiB"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("[hardware.mismatch]"));
}

TEST_F(ValidateCli, MalformedOrMissingFileExitsTwo) {
  Result r = Run({"validate", Write("broken.json", "{\"tiles\": [")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("invalid JSON"));
  r = Run({"validate", Write("wrong.json", R"({"schema_version": 1, "tiles": 3})")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("malformed manifest"));
  r = Run({"validate", (dir_ / "missing.json").string()});
  EXPECT_EQ(r.exit_code, 2);
}

}  // namespace
