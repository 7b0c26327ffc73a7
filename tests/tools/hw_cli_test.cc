// End-to-end tests of `snnplan --version/--help` and `snnplan hw show`, run
// as a subprocess: exit codes, stdout/stderr and the --json round-trip.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
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
using ::testing::MatchesRegex;
using ::testing::StartsWith;

namespace fs = std::filesystem;

const std::string kSourceDir = SNNPLAN_SOURCE_DIR;
const std::string kHwData = kSourceDir + "/tests/data/hw/";

using snnplan::testing::ReadAll;
using Result = snnplan::testing::CliResult;

std::string Quote(const std::string& s) { return snnplan::testing::ShellQuote(s); }

class HwCli : public snnplan::testing::CliTest {};

TEST_F(HwCli, VersionPrintsTheVersion) {
  Result r = Run({"--version"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, MatchesRegex("snnplan [0-9]+\\.[0-9]+\\.[0-9]+\n"));
}

TEST_F(HwCli, HelpExitsZeroAndListsHw) {
  Result r = Run({"--help"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("hw"));
  EXPECT_THAT(r.out, HasSubstr("Exit codes: 0 success, 1 a check failed, 2 bad input"));
  Result sub = Run({"hw", "show", "--help"});
  EXPECT_EQ(sub.exit_code, 0) << sub.err;
  EXPECT_THAT(sub.out, HasSubstr("--sram"));
  EXPECT_THAT(sub.out, HasSubstr("--json"));
}

TEST_F(HwCli, UsageErrorsExitTwo) {
  Result unknown = Run({"frobnicate"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_TRUE(unknown.out.empty()) << unknown.out;
  EXPECT_FALSE(unknown.err.empty());
  EXPECT_EQ(Run({}).exit_code, 2);              // no subcommand
  EXPECT_EQ(Run({"hw"}).exit_code, 2);          // no hw subcommand
  EXPECT_EQ(Run({"hw", "show"}).exit_code, 2);  // no hardware given
  EXPECT_EQ(Run({"hw", "show", "meta-prototype", "--bogus"}).exit_code, 2);
}

TEST_F(HwCli, ShowPresetSummary) {
  Result r = Run({"hw", "show", "meta-prototype"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.err.empty()) << r.err;
  EXPECT_THAT(r.out, HasSubstr("hardware: meta-prototype"));
  EXPECT_THAT(r.out, HasSubstr("MAC 160 fJ, SOP 70 fJ"));
  EXPECT_THAT(r.out, HasSubstr("sram (global buffer, --sram)"));
  EXPECT_THAT(r.out, HasSubstr("1 MiB"));
}

// The issue's "done when": --sram 128KiB --json prints the Table 1 figures.
TEST_F(HwCli, Sram128KiBJsonHasTable1Figures) {
  Result r = Run({"hw", "show", "meta-prototype", "--sram", "128KiB", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json doc = nlohmann::json::parse(r.out);
  const nlohmann::json& core = doc["cores"][0];
  EXPECT_EQ(core["operational_array"]["energy_fj_per_op"]["mac"].get<double>(), 160.0);
  EXPECT_EQ(core["operational_array"]["energy_fj_per_op"]["sop"].get<double>(), 70.0);
  EXPECT_EQ(doc["offchip"]["read_energy_fj_per_bit"].get<double>(), 11000.0);
  EXPECT_EQ(doc["offchip"]["write_energy_fj_per_bit"].get<double>(), 12000.0);
  EXPECT_EQ(doc["offchip"]["bw_bits_per_cycle"].get<int64_t>(), 64);
  const nlohmann::json& gb = core["memories"].back();
  EXPECT_EQ(gb["size_bits"].get<int64_t>(), 1048576);
  EXPECT_EQ(gb["banks"].get<int64_t>(), 1);
  EXPECT_EQ(gb["read_bw_bits_per_cycle"].get<int64_t>(), 128);
  EXPECT_EQ(gb["write_bw_bits_per_cycle"].get<int64_t>(), 128);
  EXPECT_EQ(gb["read_energy_fj_per_bit"].get<double>(), 130.0);
  EXPECT_EQ(gb["write_energy_fj_per_bit"].get<double>(), 170.0);
  EXPECT_EQ(core["dataflows"],
            nlohmann::json::parse(R"({"D1": ["K", 32], "D2": ["C", 2], "D3": ["OX", 16]})"));
}

TEST_F(HwCli, SramBandwidthScalesAndCaps) {
  for (const auto& [sram, bw] : std::vector<std::pair<std::string, int64_t>>{
           {"128KiB", 128}, {"512KiB", 512}, {"2MiB", 1024}, {"64MiB", 1024}}) {
    SCOPED_TRACE(sram);
    Result r = Run({"hw", "show", "meta-prototype", "--sram", sram, "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const nlohmann::json gb = nlohmann::json::parse(r.out)["cores"][0]["memories"].back();
    EXPECT_EQ(gb["read_bw_bits_per_cycle"].get<int64_t>(), bw);
  }
}

TEST_F(HwCli, JsonOutputLoadsBackIdentically) {
  for (const std::string sram : {"", "128KiB", "64MiB"}) {
    SCOPED_TRACE(sram);
    std::vector<std::string> args = {"hw", "show", "meta-prototype", "--json"};
    if (!sram.empty()) args.insert(args.end(), {"--sram", sram});
    Result first = Run(args);
    ASSERT_EQ(first.exit_code, 0) << first.err;
    const fs::path f = dir_ / "f.json";
    { std::ofstream(f, std::ios::binary) << first.out; }
    Result second = Run({"hw", "show", f.string(), "--json"});
    ASSERT_EQ(second.exit_code, 0) << second.err;
    EXPECT_EQ(second.out, first.out);
    // The summary of the file equals the summary of the preset, too.
    std::vector<std::string> summary = {"hw", "show", "meta-prototype"};
    if (!sram.empty()) summary.insert(summary.end(), {"--sram", sram});
    EXPECT_EQ(Run({"hw", "show", f.string()}).out, Run(summary).out);
  }
}

TEST_F(HwCli, FileWithoutExtensionInWorkingDirLoads) {
  Result first = Run({"hw", "show", kHwData + "minimal.json", "--json"});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  { std::ofstream(dir_ / "tinyhw", std::ios::binary) << first.out; }
  std::string cmd = "cd " + Quote(dir_.string()) + " && " + Quote(SNNPLAN_BINARY) +
                    " hw show tinyhw --json >out.json 2>err.txt";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << ReadAll(dir_ / "err.txt");
  EXPECT_EQ(ReadAll(dir_ / "out.json"), first.out);
}

TEST_F(HwCli, BadSramValuesExitTwo) {
  for (const std::string sram : {"12parsecs", "0", "-1MiB", "1.5MiB", "12b", ""}) {
    SCOPED_TRACE(sram);
    Result r = Run({"hw", "show", "meta-prototype", "--sram", sram});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_TRUE(r.out.empty()) << r.out;
  }
  Result r = Run({"hw", "show", "meta-prototype", "--sram", "12parsecs"});
  EXPECT_THAT(r.err, StartsWith("snnplan: error: --sram '12parsecs': unknown unit"));
}

TEST_F(HwCli, UnknownPresetExitsTwoAndListsPresets) {
  Result r = Run({"hw", "show", "no-such-chip"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(r.out.empty());
  EXPECT_THAT(r.err, StartsWith("snnplan: error: unknown hardware preset 'no-such-chip'"));
  EXPECT_THAT(r.err, HasSubstr("meta-prototype"));
}

TEST_F(HwCli, MissingFileExitsTwoNamingThePath) {
  const std::string path = (dir_ / "nope.json").string();
  Result r = Run({"hw", "show", path});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(r.out.empty());
  EXPECT_EQ(r.err, "snnplan: error: " + path + ": cannot open hardware file\n");
}

// Every malformed fixture (including empty, invalid JSON and a top-level
// array) exits 2, prints nothing on stdout, and names the file on stderr.
TEST_F(HwCli, MalformedFilesExitTwoNamingThePath) {
  int count = 0;
  for (const auto& entry : fs::directory_iterator(kHwData + "bad")) {
    const std::string path = entry.path().string();
    SCOPED_TRACE(path);
    for (bool json : {false, true}) {
      std::vector<std::string> args = {"hw", "show", path};
      if (json) args.push_back("--json");
      Result r = Run(args);
      EXPECT_EQ(r.exit_code, 2);
      EXPECT_TRUE(r.out.empty()) << r.out;
      EXPECT_THAT(r.err, StartsWith("snnplan: error: " + path + ": "));
    }
    ++count;
  }
  EXPECT_GE(count, 16);
  // One with its JSON path spelled out end to end.
  const std::string path = kHwData + "bad/nonpositive_size.json";
  Result r = Run({"hw", "show", path});
  EXPECT_EQ(r.err, "snnplan: error: " + path + ": cores[0].memories[2].size: must be > 0\n");
}

}  // namespace
