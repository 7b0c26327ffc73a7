// End-to-end `snnplan allocate` and `snnplan plan --allocation` on the
// 4-core meta-prototype-quad: determinism across threads, seeds on or under
// the front, the minimum-energy manifest, replay and validation.
#include <fstream>

#include "absl/strings/str_split.h"
#include "cli_runner.h"
#include "gmock/gmock.h"
#include "nlohmann/json.hpp"

namespace snnplan::testing {
namespace {

using ::testing::HasSubstr;

const std::string kNmnist = SourceDir() + "/models/snntorch_nmnist_step_op13.onnx";

struct Row {
  bool seeded = false, feasible = false, pareto = false;
  double latency = 0, energy = 0;
  std::string genome;
};

std::vector<Row> ReadCsv(const std::string& text) {
  std::vector<Row> rows;
  std::vector<std::string> lines = absl::StrSplit(text, '\n', absl::SkipEmpty());
  EXPECT_EQ(lines.at(0), "index,generation,seeded,feasible,pareto,latency_cycles,energy_pj,genome");
  for (size_t i = 1; i < lines.size(); ++i) {
    std::vector<std::string> f = absl::StrSplit(lines[i], ',');
    EXPECT_EQ(f.size(), 8u) << lines[i];
    if (f.size() != 8) continue;
    Row r{f[2] == "true", f[3] == "true", f[4] == "true", 0, 0, f[7]};
    if (r.feasible) {
      r.latency = std::stod(f[5]);
      r.energy = std::stod(f[6]);
    }
    rows.push_back(r);
  }
  return rows;
}

class AllocateCli : public CliTest {
 protected:
  CliResult Allocate(const std::string& threads, const std::vector<std::string>& extra) {
    std::vector<std::string> args = {
        "allocate",     kNmnist, "--timesteps",   "4", "--hw",   "meta-prototype-quad",
        "--population", "8",     "--generations", "4", "--seed", "3",
        "-j",           threads};
    args.insert(args.end(), extra.begin(), extra.end());
    return Run(args);
  }
};

TEST_F(AllocateCli, SameSeedSameResultOnOneOrTwoThreads) {
  const std::string a = (dir_ / "a.csv").string(), b = (dir_ / "b.csv").string();
  CliResult r1 = Allocate("1", {"--csv", a});
  CliResult r2 = Allocate("2", {"--csv", b});
  ASSERT_EQ(r1.exit_code, 0) << r1.err;
  ASSERT_EQ(r2.exit_code, 0) << r2.err;
  EXPECT_EQ(ReadAll(a), ReadAll(b));
  EXPECT_GT(ReadCsv(ReadAll(a)).size(), 2u);
  // The report differs only in the measured time (on the "allocate: ..." line).
  auto without_time = [](const std::string& out) {
    const size_t line = out.find("\nallocate: ");
    return out.substr(0, line) + out.substr(out.find('\n', line + 1));
  };
  EXPECT_EQ(without_time(r1.out), without_time(r2.out));
}

// --budget caps the plans evaluated: the CSV has exactly that many rows and
// the report says where the search stopped.
TEST_F(AllocateCli, BudgetCapsTheAllocationsEvaluated) {
  const std::string csv = (dir_ / "budget.csv").string();
  CliResult r = Allocate("2", {"--csv", csv, "--budget", "11"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadCsv(ReadAll(csv)).size(), 11u);
  EXPECT_THAT(r.out, HasSubstr("11 allocations evaluated"));
  EXPECT_THAT(r.out, HasSubstr("budget of 11 evaluations reached after generation 1 of 4"));
  CliResult bad = Allocate("1", {"--budget", "1"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(bad.err, HasSubstr("budget 1 is smaller than the 2 seeds"));
}

// The single-core plan and the greedy split are seeded, and the front is an
// archive of everything evaluated, so each seed is on or under the front.
TEST_F(AllocateCli, FrontWeaklyDominatesBothSeeds) {
  const std::string csv = (dir_ / "p.csv").string();
  CliResult r = Allocate("2", {"--csv", csv});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<Row> rows = ReadCsv(ReadAll(csv));
  int seeds = 0;
  for (const Row& s : rows) {
    if (!s.seeded) continue;
    ++seeds;
    ASSERT_TRUE(s.feasible);
    bool covered = false;
    for (const Row& p : rows) covered |= p.pareto && p.latency <= s.latency && p.energy <= s.energy;
    EXPECT_TRUE(covered) << s.genome;
  }
  EXPECT_EQ(seeds, 2);
  EXPECT_THAT(r.out, HasSubstr("single core"));
  EXPECT_THAT(r.out, HasSubstr("greedy"));
}

// --best-manifest is the front's minimum-energy point; it validates, and
// `plan --allocation` with --best-allocation's file replays it exactly.
TEST_F(AllocateCli, BestManifestIsTheMinimumEnergyFrontPointAndReplays) {
  const std::string csv = (dir_ / "p.csv").string(), best = (dir_ / "best.json").string();
  const std::string alloc = (dir_ / "alloc.json").string(), svg = (dir_ / "p.svg").string();
  CliResult r = Allocate(
      "2", {"--csv", csv, "--best-manifest", best, "--best-allocation", alloc, "--pareto", svg});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  double min_energy = 1e300;
  for (const Row& p : ReadCsv(ReadAll(csv)))
    if (p.pareto) min_energy = std::min(min_energy, p.energy);
  nlohmann::json m = nlohmann::json::parse(ReadAll(best));
  const double energy = m["summary"]["energy_pj"]["total"];
  EXPECT_NEAR(energy, min_energy, 1e-6 * min_energy);  // the CSV prints 2 decimals
  EXPECT_EQ(m["allocation"], nlohmann::json::parse(ReadAll(alloc))["allocation"]);
  EXPECT_THAT(ReadAll(svg), HasSubstr("<svg"));

  CliResult v = Run({"validate", best, "--model", kNmnist, "--timesteps", "4"});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;

  const std::string replay = (dir_ / "replay.json").string();
  CliResult p = Run({"plan", kNmnist, "--timesteps", "4", "--hw", "meta-prototype-quad",
                     "--allocation", alloc, "-o", replay});
  ASSERT_EQ(p.exit_code, 0) << p.err;
  const nlohmann::json planned = nlohmann::json::parse(ReadAll(replay));
  EXPECT_EQ(planned["summary"], m["summary"]);
  // Deployable as written: every parameter placed, as by `plan -o`.
  EXPECT_EQ(m["provenance"]["parameters_loaded"], true);
  EXPECT_EQ(planned["parameters"], m["parameters"]);
}

// explore and ablate plan every schedule under --allocation: the best
// manifest carries it, validates, and matches `plan` of the best schedule
// with the same allocation; cross-core features cost NoC energy.
TEST_F(AllocateCli, ExploreAndAblatePlanUnderTheAllocation) {
  const std::string alloc = (dir_ / "alloc.json").string(), best = (dir_ / "best.json").string();
  std::ofstream(alloc) << R"({"/net/conv1/Conv": 0, "/net/pool/MaxPool": 0,
                              "/net/conv2/Conv": 1, "/net/fc/Gemm": 3})";
  const std::vector<std::string> model = {kNmnist, "--timesteps", "4", "--hw",
                                          "meta-prototype-quad"};
  auto with = [&](std::vector<std::string> head, const std::vector<std::string>& tail) {
    head.insert(head.end(), model.begin(), model.end());
    head.insert(head.end(), tail.begin(), tail.end());
    return head;
  };
  CliResult r = Run(with({"explore"}, {"--allocation", alloc, "--best-manifest", best}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json m = nlohmann::json::parse(ReadAll(best));
  EXPECT_EQ(m["allocation"]["/net/fc/Gemm"], 3);
  EXPECT_GT(m["summary"]["energy_pj"]["noc"].get<double>(), 0);
  CliResult v = Run({"validate", best, "--model", kNmnist, "--timesteps", "4"});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;

  const size_t at = r.out.find("best: ");
  ASSERT_NE(at, std::string::npos) << r.out;
  const std::string spec = r.out.substr(at + 6, r.out.find('\n', at) - at - 6);
  const std::string replay = (dir_ / "replay.json").string();
  CliResult p = Run(with({"plan"}, {"--schedule", spec, "--allocation", alloc, "-o", replay}));
  ASSERT_EQ(p.exit_code, 0) << p.err;
  const nlohmann::json planned = nlohmann::json::parse(ReadAll(replay));
  EXPECT_EQ(planned["summary"], m["summary"]);
  // Deployable as written: every parameter placed, as by `plan -o`.
  EXPECT_EQ(m["provenance"]["parameters_loaded"], true);
  EXPECT_EQ(planned["parameters"], m["parameters"]);

  CliResult a = Run(with({"ablate"}, {"--allocation", alloc}));
  EXPECT_EQ(a.exit_code, 0) << a.err;
  EXPECT_THAT(a.out, HasSubstr("X=0"));
  std::ofstream(alloc) << R"({"/net/conv1/Conv": 8})";
  for (const char* command : {"explore", "ablate"}) {
    CliResult bad = Run(with({command}, {"--allocation", alloc}));
    EXPECT_EQ(bad.exit_code, 2) << command;
    EXPECT_THAT(bad.err, HasSubstr(alloc + ": /net/conv1/Conv: expected a core id")) << command;
  }
}

TEST_F(AllocateCli, BadAllocationFileNamesFileAndLayerAndWritesNothing) {
  const std::string alloc = (dir_ / "alloc.json").string(), out = (dir_ / "m.json").string();
  std::ofstream(alloc) << R"({"/net/conv1/Conv": 0, "nope": 1})";
  CliResult r = Run({"plan", kNmnist, "--timesteps", "4", "--hw", "meta-prototype-quad",
                     "--allocation", alloc, "-o", out});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr(alloc + ": nope: no layer of this name in the model"));
  EXPECT_FALSE(fs::exists(out));
  std::ofstream(alloc) << R"({"/net/conv1/Conv": 0, "/net/conv2/Conv": 9,
                              "/net/pool/MaxPool": 0, "/net/fc/Gemm": 0})";
  r = Run({"plan", kNmnist, "--timesteps", "4", "--hw", "meta-prototype-quad", "--allocation",
           alloc, "-o", out});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("/net/conv2/Conv: expected a core id of hardware "
                               "'meta-prototype-quad', got 9"));
  EXPECT_FALSE(fs::exists(out));
}

}  // namespace
}  // namespace snnplan::testing
