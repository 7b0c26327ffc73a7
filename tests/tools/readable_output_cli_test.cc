// Issue #17 item 2, "numbers people read": text output in scaled units that
// agree with the raw JSON numbers, the hardware (and its default) named,
// time next to cycles when the hardware states clock_hz, ratios phrased as
// "Nx less/more ... than st-lbl", a JSON form for every command and '-' as
// stdout for every output option.
#include <cmath>
#include <fstream>
#include <map>
#include <regex>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "cli_runner.h"
#include "gmock/gmock.h"
#include "nlohmann/json.hpp"

namespace snnplan::testing {
namespace {

using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

const std::string kModel = SourceDir() + "/models/snntorch_nmnist_step_op13.onnx";
const std::string kUnrolled = SourceDir() + "/models/snntorch_nmnist_unrolled_T4_op13.onnx";
const std::string kUnrolledIo = SourceDir() + "/models/snntorch_nmnist_unrolled_T4.io.npz";

// Unit -> its size in the base unit (pJ, bytes, seconds, cycles), by hand.
const std::map<std::string, double> kScale = {
    {"fJ", 1e-3},     {"pJ", 1},          {"nJ", 1e3},           {"µJ", 1e6},
    {"mJ", 1e9},      {"J", 1e12},        {"B", 1},              {"KiB", 1024},
    {"MiB", 1 << 20}, {"GiB", 1 << 30},   {"ns", 1e-9},          {"µs", 1e-6},
    {"ms", 1e-3},     {"s", 1},           {"cycles", 1},         {"kcycles", 1e3},
    {"Mcycles", 1e6}, {"Gcycles", 1e9}};

// The scaled quantity right after `label` in `text` ("energy: 4.91 mJ"), in
// the base unit; NaN when it is not there.
double ValueAfter(const std::string& text, const std::string& label) {
  const size_t at = text.find(label);
  if (at == std::string::npos) return NAN;
  // "<number> <unit>" or "<number><k|M|G> cycles".
  static const std::regex kQuantity(R"(^([0-9]+(?:\.[0-9]+)?)(k|M|G)?\s?(\S+))");
  std::smatch m;
  const std::string rest = text.substr(at + label.size());
  if (!std::regex_search(rest, m, kQuantity)) return NAN;
  std::string unit = m[3].str();
  while (!unit.empty() && (unit.back() == ',' || unit.back() == ';' || unit.back() == ')' ||
                           unit.back() == ':'))
    unit.pop_back();
  if (m[2].matched) unit = m[2].str() + unit;  // "28.4M cycles" -> "Mcycles"
  const auto it = kScale.find(unit);
  if (it == kScale.end()) return NAN;
  return std::stod(m[1].str()) * it->second;
}

// 3 significant digits: the printed value is within 0.5% of the raw one.
void ExpectRounded(double printed, double raw, const std::string& what) {
  EXPECT_FALSE(std::isnan(printed)) << what;
  EXPECT_NEAR(printed, raw, 0.005 * std::abs(raw)) << what;
}

std::vector<std::string> Lines(const std::string& text) {
  return absl::StrSplit(text, '\n', absl::SkipEmpty());
}

class ReadableCli : public CliTest {
 protected:
  // meta-prototype with "clock_hz": 2e8 (200 MHz), as a hardware file.
  std::string ClockedHardware() {
    CliResult r = Run({"hw", "show", "meta-prototype", "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    nlohmann::json doc = nlohmann::json::parse(r.out);
    doc["clock_hz"] = 2e8;
    const std::string path = (dir_ / "clocked.json").string();
    std::ofstream(path) << doc.dump(2);
    return path;
  }
};

TEST_F(ReadableCli, PlanTextIsScaledAndNamesTheDefaultHardware) {
  const std::string summary = (dir_ / "s.json").string();
  CliResult r = Run({"plan", kModel, "--timesteps", "2", "--sram", "16KiB", "--schedule",
                     "tb-lbl", "--summary-json", summary});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json s = nlohmann::json::parse(ReadAll(summary));
  const std::vector<std::string> lines = Lines(r.out);
  ASSERT_GE(lines.size(), 6u) << r.out;
  // No --hw: the default preset, said so; --sram 16KiB = 16384 bytes = 16 KiB.
  EXPECT_EQ(lines[0], "hardware: meta-prototype (default, no --hw), SRAM 16 KiB");
  EXPECT_EQ(lines[1], "schedule: tb-lbl,tb-lbl,tb-lbl");  // the model has 3 blocks
  EXPECT_THAT(lines[2], StartsWith("energy: "));
  ExpectRounded(ValueAfter(r.out, "energy: "), s["energy_pj"]["total"].get<double>(), "energy");
  ExpectRounded(ValueAfter(r.out, " + dram "), s["energy_pj"]["dram"].get<double>(), "dram pJ");
  EXPECT_THAT(lines[3], StartsWith("DRAM traffic: "));
  ExpectRounded(ValueAfter(r.out, "DRAM traffic: "), s["dram_bytes"]["total"].get<double>(),
                "DRAM bytes");
  ExpectRounded(ValueAfter(r.out, "(read "), s["dram_bytes"]["read"].get<double>(), "read");
  EXPECT_THAT(lines[4], StartsWith("latency: "));
  ExpectRounded(ValueAfter(r.out, "latency: "), s["latency_cycles"].get<double>(), "latency");
  EXPECT_THAT(lines[4], HasSubstr(" cycles (compute "));  // no clock: cycles only
  EXPECT_THAT(lines[5], HasSubstr(" of 16 KiB"));
  ExpectRounded(ValueAfter(r.out, "peak on-chip: "), s["peak_sram_bytes"].get<double>(), "peak");
  // The issue's symptom: no exponent notation, no raw "bytes" counts.
  EXPECT_THAT(r.out, Not(HasSubstr("e+")));
  EXPECT_THAT(r.out, Not(HasSubstr(" bytes")));
  // The summary records the hardware; no clock, so no latency_s.
  EXPECT_EQ(s["hardware"], nlohmann::json({{"name", "meta-prototype"}}));
  EXPECT_FALSE(s.contains("latency_s"));
  // Given --hw: no "(default)".
  r = Run({"plan", kModel, "--timesteps", "2", "--hw", "meta-prototype", "--sram", "16KiB"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, StartsWith("hardware: meta-prototype, SRAM 16 KiB\n"));
  // Four cores of 128 KiB (docs/hardware.md, meta-prototype-quad).
  r = Run({"plan", kModel, "--timesteps", "2", "--hw", "meta-prototype-quad"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, StartsWith("hardware: meta-prototype-quad, 4 cores, SRAM 128 KiB each\n"));
}

TEST_F(ReadableCli, ClockHzAddsTimeToTextAndLatencySecondsToJson) {
  const std::string hw = ClockedHardware();
  const std::string summary = (dir_ / "s.json").string();
  CliResult r = Run({"plan", kModel, "--timesteps", "2", "--hw", hw, "--sram", "16KiB",
                     "--schedule", "tb-lbl", "--summary-json", summary});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, StartsWith("hardware: meta-prototype, SRAM 16 KiB, clock 200 MHz\n"));
  const nlohmann::json s = nlohmann::json::parse(ReadAll(summary));
  const double cycles = s["latency_cycles"].get<double>();
  EXPECT_DOUBLE_EQ(s["latency_s"].get<double>(), cycles / 2e8);
  EXPECT_EQ(s["hardware"]["clock_hz"].get<double>(), 2e8);
  // "latency: 1.23M cycles (6.17 ms; compute ...)": the time is cycles / 200 MHz.
  const size_t paren = r.out.find(" cycles (", r.out.find("latency: "));
  ASSERT_NE(paren, std::string::npos) << r.out;
  ExpectRounded(ValueAfter(r.out.substr(paren), " cycles ("), cycles / 2e8, "latency time");

  const std::string cost = (dir_ / "c.json").string();
  r = Run({"cost", kModel, "--timesteps", "2", "--hw", hw, "--sram", "16KiB", "--json", cost});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, StartsWith("hardware: meta-prototype, SRAM 16 KiB, clock 200 MHz\n"));
  const nlohmann::json c = nlohmann::json::parse(ReadAll(cost));
  EXPECT_DOUBLE_EQ(c["total"]["latency_s"].get<double>(),
                   c["total"]["latency_cycles"].get<double>() / 2e8);
  for (const nlohmann::json& layer : c["layers"])
    EXPECT_DOUBLE_EQ(layer["latency_s"].get<double>(), layer["latency_cycles"].get<double>() / 2e8);
  EXPECT_EQ(c["clock_hz"].get<double>(), 2e8);
  EXPECT_THAT(r.out, Not(HasSubstr("e+")));

  r = Run({"hw", "show", hw});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("\nclock: 200 MHz\n"));
  r = Run({"hw", "show", hw, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["clock_hz"].get<double>(), 2e8);

  // Without a clock, no latency_s anywhere.
  r = Run({"cost", kModel, "--timesteps", "2", "--hw", "meta-prototype", "--json", "-"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json unclocked = nlohmann::json::parse(r.out);
  EXPECT_FALSE(unclocked["total"].contains("latency_s"));
  EXPECT_FALSE(unclocked.contains("clock_hz"));
}

TEST_F(ReadableCli, BadClockNamesTheFileAndKey) {
  CliResult r = Run({"hw", "show", "meta-prototype", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json doc = nlohmann::json::parse(r.out);
  doc["clock_hz"] = 0;
  const std::string path = (dir_ / "zero-clock.json").string();
  std::ofstream(path) << doc.dump();
  r = Run({"plan", kModel, "--timesteps", "2", "--hw", path});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "snnplan: error: " + path + ": clock_hz: must be > 0 (Hz)\n");
  EXPECT_EQ(r.out, "");
}

TEST_F(ReadableCli, ExploreSaysHowManyTimesLessThanStLbl) {
  const std::string json = (dir_ / "e.json").string();
  CliResult r = Run({"explore", kModel, "--timesteps", "4", "--sram", "16KiB", "--json", json});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json e = nlohmann::json::parse(ReadAll(json));
  EXPECT_EQ(e["hardware"]["name"], "meta-prototype");
  ASSERT_EQ(e["sizes"].size(), 1u);
  const nlohmann::json& size = e["sizes"][0];
  EXPECT_EQ(size["sram"], "16KiB");
  EXPECT_EQ(size["sram_bytes"], 16384);
  EXPECT_EQ(size["baseline"]["spec"], "st-lbl,st-lbl,st-lbl");  // 3 blocks
  EXPECT_THAT(r.out, HasSubstr("best: " + size["best"]["spec"].get<std::string>() + "\n"));
  const double best = size["best"]["dram_bytes"].get<double>();
  const double base = size["baseline"]["dram_bytes"].get<double>();
  ASSERT_GT(best, 0);
  ASSERT_LT(best, base);  // time batching and fusion save traffic on this model
  // "DRAM traffic <best>: <base/best>x less DRAM traffic than st-lbl (<base>)"
  const std::string phrase = "x less DRAM traffic than st-lbl (";
  const size_t at = r.out.find(phrase);
  ASSERT_NE(at, std::string::npos) << r.out;
  const size_t start = r.out.rfind(' ', at) + 1;
  ExpectRounded(std::stod(r.out.substr(start, at - start)), base / best, "DRAM ratio");
  ExpectRounded(ValueAfter(r.out, "  DRAM traffic "), best, "best DRAM");
  ExpectRounded(ValueAfter(r.out, phrase), base, "baseline DRAM");
  EXPECT_THAT(r.out, HasSubstr(" energy than st-lbl"));
  EXPECT_THAT(r.out, HasSubstr(" latency than st-lbl"));
  EXPECT_THAT(r.out, Not(HasSubstr("e+")));
  EXPECT_THAT(r.out, Not(ContainsRegex("-[0-9.]+%")));  // no "-88%"
  EXPECT_THAT(r.out, Not(ContainsRegex(" 0\\.[0-9]+x")));  // no "0.12x"
}

// ---- '-' is stdout, and every command has a JSON form: one test per command.

class DashCli : public CliTest {};

TEST_F(DashCli, Cost) {
  CliResult r = Run({"cost", kModel, "--timesteps", "2", "--hw", "meta-prototype", "--json", "-"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["hardware"], "meta-prototype");
  EXPECT_THAT(r.err, HasSubstr("total: "));  // the text report moved to stderr
}

TEST_F(DashCli, Explore) {
  const std::vector<std::string> base = {"explore", kModel, "--timesteps", "2", "--sram", "16KiB"};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> a = base;
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  };
  CliResult r = Run(with({"--json", "-"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["sizes"].size(), 1u);
  EXPECT_THAT(r.err, HasSubstr("best: "));
  r = Run(with({"--heatmap", "-"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("<svg"));
  // The title names the model file, the hardware (the default here), SRAM and objective.
  r = Run(with({"--heatmap", "-", "--objective", "energy"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string model_file = std::string(kModel).substr(std::string(kModel).rfind('/') + 1);
  EXPECT_THAT(r.out, HasSubstr(model_file + " on meta-prototype, SRAM 16 KiB"));
  EXPECT_THAT(r.out, HasSubstr("objective: energy</tspan>"));
  EXPECT_THAT(r.out, HasSubstr("class=\"colour-bar-label\""));
  r = Run(with({"--breakdown", "-"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("<svg"));
  r = Run(with({"--best-manifest", "-"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(nlohmann::json::parse(r.out).contains("tiles"));
  r = Run(with({"--json", "-", "--csv", "-"}));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("already writes to stdout"));
}

TEST_F(DashCli, Ablate) {
  CliResult r = Run({"ablate", kModel, "--timesteps", "2", "--sram", "16KiB", "--json", "-"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  ASSERT_FALSE(j["variants"].empty());
  EXPECT_EQ(j["variants"][0]["variant"].get<std::string>().rfind("X=", 0), 0u);
  EXPECT_THAT(r.err, HasSubstr("DRAM vs st-lbl"));
  r = Run({"ablate", kModel, "--timesteps", "2", "--sram", "16KiB", "--csv", "-"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("variant,stateless_blocks,", 0), 0u);
}

TEST_F(DashCli, Allocate) {
  const std::vector<std::string> base = {"allocate",    kModel, "--timesteps",   "2",
                                         "--hw",        "meta-prototype-quad",
                                         "--population", "4", "--generations", "1"};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> a = base;
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  };
  CliResult r = Run(with({"--json", "-"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["hardware"]["cores"], 4);
  EXPECT_TRUE(j["single_core"]["feasible"].get<bool>());
  // The text counts the same front: "pareto front: N points".
  EXPECT_THAT(r.err, HasSubstr("pareto front: " + std::to_string(j["pareto"].size()) + " point"));
  EXPECT_THAT(r.err, ContainsRegex("min-energy point: .*(than|as) single core"));
  for (const char* option : {"--csv", "--pareto", "--best-allocation", "--best-manifest"}) {
    SCOPED_TRACE(option);
    r = Run(with({option, "-"}));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_FALSE(r.out.empty());
    EXPECT_THAT(r.err, HasSubstr("pareto front: "));
  }
}

TEST_F(DashCli, Validate) {
  const std::string manifest = (dir_ / "m.json").string();
  ASSERT_EQ(Run({"plan", kModel, "--timesteps", "2", "--sram", "16KiB", "-o", manifest}).exit_code,
            0);
  CliResult r = Run({"validate", manifest, "--json", "-"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out),
            nlohmann::json({{"manifest", manifest}, {"valid", true},
                            {"violations", nlohmann::json::array()}}));
  EXPECT_EQ(r.err, manifest + ": valid\n");
  nlohmann::json m = nlohmann::json::parse(ReadAll(manifest));
  m["summary"]["tiles"] = m["summary"]["tiles"].get<int64_t>() + 1;
  const std::string bad = (dir_ / "bad.json").string();
  std::ofstream(bad) << m.dump();
  const std::string out = (dir_ / "v.json").string();
  r = Run({"validate", bad, "--json", out});
  EXPECT_EQ(r.exit_code, 1);  // violations: still exit 1, and the JSON is written
  const nlohmann::json v = nlohmann::json::parse(ReadAll(out));
  EXPECT_FALSE(v["valid"].get<bool>());
  ASSERT_FALSE(v["violations"].empty());
  EXPECT_THAT(r.out, HasSubstr("[" + v["violations"][0]["check"].get<std::string>() + "] "));
}

TEST_F(DashCli, Run) {
  CliResult r = Run({"run", kUnrolled, "--inputs", kUnrolledIo, "--json", "-"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["samples"], 1);
  EXPECT_EQ(j["timesteps"], 4);
  EXPECT_EQ(j["outputs"]["spk_rec"], nlohmann::json({4, 1, 10}));  // T, batch, classes
  EXPECT_THAT(r.err, HasSubstr("output spk_rec [4, 1, 10]"));
  r = Run({"run", kUnrolled, "--inputs", kUnrolledIo, "--activity", "-"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(nlohmann::json::parse(r.out).is_object());
  r = Run({"run", kUnrolled, "--inputs", kUnrolledIo, "--exit", "entropy:1", "--exit-output",
           "mem_rec", "--exit-profile", "-"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["format"], "snnplan-exit-profile");
  r = Run({"run", kUnrolled, "--inputs", kUnrolledIo, "--outputs", "-"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.substr(0, 2), "PK");  // a zip (.npz)
}

TEST_F(DashCli, HwShowImportPlanTrace) {
  CliResult r = Run({"hw", "show", "meta-prototype", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["name"], "meta-prototype");
  r = Run({"import", kModel, "--timesteps", "2", "--json", "-"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(nlohmann::json::parse(r.out).contains("layers"));
  r = Run({"plan", kModel, "--timesteps", "2", "--summary-json", "-"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["hardware"]["name"], "meta-prototype");
  EXPECT_THAT(r.err, StartsWith("hardware: meta-prototype (default, no --hw)"));
  const std::string manifest = (dir_ / "m.json").string();
  ASSERT_EQ(Run({"plan", kModel, "--timesteps", "2", "-o", manifest}).exit_code, 0);
  r = Run({"trace", manifest, "-o", "-"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(nlohmann::json::parse(r.out).contains("traceEvents"));
}

}  // namespace
}  // namespace snnplan::testing
