// Several models in one deployment through the CLI (docs/multinet.md):
// plan / explore / allocate with several MODEL arguments, one manifest the
// validator accepts, per-network summaries adding up to the totals, network i
// on core i, and the refusals.
#include <fstream>

#include "absl/strings/str_split.h"
#include "cli_runner.h"
#include "gmock/gmock.h"
#include "nlohmann/json.hpp"
#include "snnplan/runtime.h"

namespace snnplan::testing {
namespace {

using ::testing::HasSubstr;

std::string Team(const std::string& name) { return SourceDir() + "/models/team/" + name + ".onnx"; }

nlohmann::json ReadJson(const fs::path& p) { return nlohmann::json::parse(ReadAll(p)); }

// The networks' and the shared input's shares against the totals.
void ExpectSharesAddUp(const nlohmann::json& summary) {
  double energy = summary["shared_input"]["energy_pj"]["total"].get<double>();
  int64_t dram = summary["shared_input"]["dram_bytes"]["total"].get<int64_t>();
  int64_t noc = summary["shared_input"]["noc_bytes"].get<int64_t>();
  int64_t tiles = 0;
  for (const auto& n : summary["by_network"]) {
    EXPECT_GT(n["energy_pj"]["total"].get<double>(), 0) << n["network"];
    energy += n["energy_pj"]["total"].get<double>();
    dram += n["dram_bytes"]["total"].get<int64_t>();
    noc += n["noc_bytes"].get<int64_t>();
    tiles += n["tiles"].get<int64_t>();
  }
  const double total = summary["energy_pj"]["total"].get<double>();
  EXPECT_NEAR(energy, total, 1e-9 * total);  // sums of doubles in another order
  EXPECT_EQ(dram, summary["dram_bytes"]["total"].get<int64_t>());
  EXPECT_EQ(noc, summary["noc_bytes"].get<int64_t>());
  EXPECT_EQ(tiles, summary["tiles"].get<int64_t>());
}

class MultiNetCli : public CliTest {};

// The team fixtures run as PyTorch ran them: spikes exactly, membranes to
// float rounding (the .io.npz files are PyTorch's outputs).
TEST_F(MultiNetCli, TeamFixturesReproduceTheirPyTorchOutputs) {
  for (const std::string name :
       {"wide", "narrow1", "narrow2", "narrow3", "narrow4", "deep1", "deep2", "deep3", "deep4"}) {
    const std::string io = SourceDir() + "/models/team/" + name + ".io.npz";
    const fs::path out = dir_ / (std::string(name) + ".npz");
    CliResult r = Run({"run", Team(name), "--inputs", io, "--outputs", out.string()});
    ASSERT_EQ(r.exit_code, 0) << name << ": " << r.err;
    auto got = runtime::ReadNpz(out.string());
    auto want = runtime::ReadNpz(io);
    ASSERT_TRUE(got.ok() && want.ok()) << name;
    const runtime::Array& spk = got->at("spk_out");
    EXPECT_EQ(spk.values, want->at("spk_out").values) << name;
    double spikes = 0;
    for (float v : want->at("spk_out").values) spikes += v;
    EXPECT_GT(spikes, 0) << name << ": the output layer should spike";
    const std::vector<float>& mem = got->at("mem_out").values;
    const std::vector<float>& mem_want = want->at("mem_out").values;
    ASSERT_EQ(mem.size(), mem_want.size()) << name;
    for (size_t i = 0; i < mem.size(); ++i) EXPECT_NEAR(mem[i], mem_want[i], 1e-5) << name;
  }
}

TEST_F(MultiNetCli, PlanTwoModelsWritesOneManifestTheValidatorAccepts) {
  const std::string m = (dir_ / "m.json").string();
  CliResult r = Run({"plan", Team("narrow1"), Team("narrow2"), "--hw", "meta-prototype",
                     "--schedule", "tb-lbl", "-o", m});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("network narrow1 (narrow1.onnx, layers 0..4): energy "));
  EXPECT_THAT(r.out, HasSubstr("network narrow2 (narrow2.onnx, layers 5..9)"));
  EXPECT_THAT(r.out, HasSubstr("shared network input (read by all 2 networks)"));
  const nlohmann::json doc = ReadJson(m);
  ASSERT_EQ(doc["model"]["networks"].size(), 2u);
  EXPECT_EQ(doc["model"]["file"], "narrow1.onnx+narrow2.onnx");
  EXPECT_EQ(doc["model"]["networks"][0]["input"], "own");
  EXPECT_EQ(doc["model"]["networks"][1]["input"], "shared");
  EXPECT_EQ(doc["model"]["networks"][1]["layers"], nlohmann::json({5, 10}));
  // One network input binding: the first network's, prefixed.
  EXPECT_EQ(doc["network_io"]["input"]["channels"], 2);
  EXPECT_EQ(doc["network_io"]["input"]["rows"], 34);
  ExpectSharesAddUp(doc["summary"]);
  for (const auto& t : doc["tiles"]) EXPECT_EQ(t["core"], 0);

  r = Run({"validate", m});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr(": valid"));
  r = Run({"validate", m, "--model", Team("narrow1"), "--model", Team("narrow2")});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  // Models in another order, or only one of them: not what was planned.
  r = Run({"validate", m, "--model", Team("narrow2"), "--model", Team("narrow1")});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("model.mismatch"));
  r = Run({"validate", m, "--model", Team("narrow1")});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
}

TEST_F(MultiNetCli, ValidatorCatchesPerNetworkSharesThatDoNotAddUp) {
  const std::string m = (dir_ / "m.json").string();
  ASSERT_EQ(
      Run({"plan", Team("narrow1"), Team("narrow2"), "--schedule", "tb-lbl", "-o", m}).exit_code,
      0);
  nlohmann::json doc = ReadJson(m);
  doc["summary"]["by_network"][1]["dram_bytes"]["total"] =
      doc["summary"]["by_network"][1]["dram_bytes"]["total"].get<int64_t>() + 8;
  doc["summary"]["by_network"][0]["tiles"] =
      doc["summary"]["by_network"][0]["tiles"].get<int>() + 1;
  const std::string bad = (dir_ / "bad.json").string();
  std::ofstream(bad) << doc.dump();
  CliResult r = Run({"validate", bad});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_THAT(r.out, HasSubstr("[networks.summary] the networks' and the shared input's DRAM"));
  EXPECT_THAT(r.out, HasSubstr("(narrow1) counts"));

  // Layer ranges that leave a gap.
  doc = ReadJson(m);
  doc["model"]["networks"][1]["layers"][0] =
      doc["model"]["networks"][1]["layers"][0].get<int>() + 1;
  std::ofstream(bad) << doc.dump();
  r = Run({"validate", bad});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_THAT(r.out, HasSubstr("[networks.ranges] network narrow2: layers"));
}

TEST_F(MultiNetCli, CorePerNetworkPutsNetworkIOnCoreI) {
  const std::string seq = (dir_ / "seq.json").string(), quad = (dir_ / "quad.json").string();
  std::vector<std::string> models = {Team("narrow1"), Team("narrow2"), Team("narrow3"),
                                     Team("narrow4")};
  std::vector<std::string> args = {"plan"};
  args.insert(args.end(), models.begin(), models.end());
  args.insert(args.end(), {"--hw", "meta-prototype-quad", "--schedule", "tb-lbl"});
  std::vector<std::string> one_core = args, spread = args;
  one_core.insert(one_core.end(), {"-o", seq});
  spread.insert(spread.end(), {"--core-per-network", "-o", quad});
  CliResult r = Run(one_core);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = Run(spread);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json s = ReadJson(seq), q = ReadJson(quad);
  for (const auto& t : q["tiles"]) {
    const std::string layer = t["layer"];
    const int network = layer[6] - '1';  // "narrowN/..."
    EXPECT_EQ(t["core"], network) << layer;
  }
  for (const auto& [layer, core] : q["allocation"].items())
    EXPECT_EQ(core.get<int>(), layer[6] - '1') << layer;
  EXPECT_EQ(q["provenance"]["options"]["core_per_network"], true);
  EXPECT_FALSE(s["provenance"]["options"].contains("core_per_network"));
  ExpectSharesAddUp(q["summary"]);
  // Four cores working side by side finish sooner than one core doing all.
  EXPECT_LT(q["summary"]["latency_cycles"].get<int64_t>(),
            s["summary"]["latency_cycles"].get<int64_t>());
  // The shared input reaches cores 1-3 over the NoC.
  EXPECT_GT(q["summary"]["shared_input"]["noc_bytes"].get<int64_t>(), 0);
  EXPECT_EQ(Run({"validate", quad}).exit_code, 0);
}

TEST_F(MultiNetCli, CorePerNetworkRefusals) {
  CliResult r = Run({"plan", Team("narrow1"), "--core-per-network"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--core-per-network needs several models"));
  r = Run(
      {"plan", Team("narrow1"), Team("narrow2"), "--hw", "meta-prototype", "--core-per-network"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("2 networks, but hardware 'meta-prototype' has 1 core(s)"));
}

TEST_F(MultiNetCli, RefusesDifferentTimestepsNamingBothFilesAndWritesNothing) {
  const std::string m = (dir_ / "m.json").string();
  CliResult r =
      Run({"plan", Team("narrow1"), SourceDir() + "/models/sj_sew5_T16_loop_op13.onnx", "-o", m});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("narrow1.onnx has T=4"));
  EXPECT_THAT(r.err, HasSubstr("sj_sew5_T16_loop_op13.onnx has T=16"));
  EXPECT_FALSE(fs::exists(m));
}

TEST_F(MultiNetCli, RefusesDifferentNetworkInputs) {
  const std::string m = (dir_ / "m.json").string();
  CliResult r = Run({"plan", Team("narrow1"),
                     SourceDir() + "/models/corpus/st_leaky_sub_unrolled_op13.onnx", "-o", m});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("share the network input"));
  EXPECT_THAT(r.err, HasSubstr("narrow1.onnx reads 2x34x34"));
  EXPECT_THAT(r.err, HasSubstr("st_leaky_sub_unrolled_op13.onnx reads 2x8x8"));
  EXPECT_FALSE(fs::exists(m));
}

TEST_F(MultiNetCli, RefusesBlocksFileWithSeveralModels) {
  const std::string blocks = (dir_ / "b.json").string();
  std::ofstream(blocks) << "{}";
  CliResult r = Run({"plan", Team("narrow1"), Team("narrow2"), "--blocks", blocks});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--blocks applies to one model's layers"));
}

TEST_F(MultiNetCli, ExploreTwoModels) {
  const std::string csv = (dir_ / "e.csv").string(), best = (dir_ / "best.json").string();
  CliResult r = Run({"explore", Team("narrow1"), Team("deep1"), "--hw", "meta-prototype",
                     "--strategy", "grid", "--csv", csv, "--best-manifest", best});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> lines = absl::StrSplit(ReadAll(csv), '\n', absl::SkipEmpty());
  // narrow1 has 3 blocks and deep1 4 (one per spiking layer): 7 blocks, an (7+1)^2 grid,
  // so more than a handful of schedules.
  EXPECT_GT(lines.size(), 10u);
  const nlohmann::json doc = ReadJson(best);
  EXPECT_EQ(doc["model"]["networks"][1]["name"], "deep1");
  ExpectSharesAddUp(doc["summary"]);
  EXPECT_EQ(Run({"validate", best}).exit_code, 0);
}

TEST_F(MultiNetCli, AllocateTwoModels) {
  const std::string best = (dir_ / "best.json").string();
  CliResult r = Run({"allocate", Team("narrow1"), Team("narrow2"), "--hw", "meta-prototype-quad",
                     "--schedule", "tb-lbl", "--population", "4", "--generations", "1",
                     "--best-manifest", best});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json doc = ReadJson(best);
  EXPECT_EQ(doc["summary"]["by_network"].size(), 2u);
  EXPECT_EQ(Run({"validate", best}).exit_code, 0);
}

TEST_F(MultiNetCli, OneModelManifestHasNoNetworkKeys) {
  const std::string m = (dir_ / "m.json").string();
  ASSERT_EQ(Run({"plan", Team("narrow1"), "--schedule", "tb-lbl", "-o", m}).exit_code, 0);
  const nlohmann::json doc = ReadJson(m);
  EXPECT_EQ(doc["model"]["file"], "narrow1.onnx");
  EXPECT_FALSE(doc["model"].contains("networks"));
  EXPECT_FALSE(doc["summary"].contains("by_network"));
}

}  // namespace
}  // namespace snnplan::testing
