// `--activity act.json` on cost, plan, explore and allocate: bad files exit 2
// naming the file (an unknown layer lists the known ones), the combination
// with --density / --density-file is refused, and a good file is recorded
// in manifests, summaries, reports and CSVs; it changes numbers only on
// hardware that declares it exploits activity. Also: --density-file names
// that match no layer are an error listing the known names.
#include <fstream>
#include <map>

#include "cli_runner.h"
#include "gmock/gmock.h"
#include "nlohmann/json.hpp"

namespace snnplan::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;

const std::string kNmnist = SourceDir() + "/models/snntorch_nmnist_step_op13.onnx";
const std::string kKnownNames =
    "(its layers: /net/conv1/Conv, /net/conv2/Conv, /net/pool/MaxPool, /net/fc/Gemm)";

// The four commands, each with the arguments it needs on NMNIST at T = 2.
std::vector<std::vector<std::string>> Commands() {
  return {{"cost", kNmnist, "--timesteps", "2", "--hw", "meta-prototype"},
          {"plan", kNmnist, "--timesteps", "2"},
          {"explore", kNmnist, "--timesteps", "2", "--sram", "64KiB"},
          {"allocate", kNmnist, "--timesteps", "2", "--hw", "meta-prototype-quad", "--population",
           "4", "--generations", "1"}};
}

class ActivityCli : public CliTest {
 protected:
  // An activity file as `snnplan run --activity` writes it: per layer the
  // non-zero and total input values, the density their ratio.
  std::string Write(const std::string& name,
                    const std::map<std::string, std::pair<int64_t, int64_t>>& counts) {
    nlohmann::json layers = nlohmann::json::object();
    for (const auto& [layer, c] : counts) {
      const double d = static_cast<double>(c.first) / static_cast<double>(c.second);
      layers[layer] = {{"input_density", d},
                       {"input_nonzero", c.first},
                       {"input_elements", c.second},
                       {"per_timestep", {d, d}}};
    }
    const nlohmann::json doc = {{"format", "snnplan-activity"},
                                {"version", 1},
                                {"model", "snntorch_nmnist_step_op13.onnx"},
                                {"model_sha256", ""},
                                {"samples", 1},
                                {"timesteps", 2},
                                {"layers", layers}};
    const std::string path = (dir_ / name).string();
    std::ofstream(path) << doc.dump(2);
    return path;
  }
  std::string Good() {
    return Write("act.json", {{"/net/conv1/Conv", {462, 4624}},
                              {"/net/conv2/Conv", {2160, 21600}},
                              {"/net/pool/MaxPool", {4326, 43264}},
                              {"/net/fc/Gemm", {1081, 10816}}});
  }
  static std::vector<std::string> With(std::vector<std::string> args,
                                       const std::vector<std::string>& more) {
    args.insert(args.end(), more.begin(), more.end());
    return args;
  }
};

TEST_F(ActivityCli, BadFilesExitTwoNamingTheFile) {
  const std::string unknown = Write("unknown.json", {{"conv1", {1, 10}}});
  const std::string missing = (dir_ / "missing.json").string();
  std::ofstream(dir_ / "version.json") << R"({"format": "snnplan-activity", "version": 2})";
  const std::string version = (dir_ / "version.json").string();
  for (const auto& command : Commands()) {
    SCOPED_TRACE(command[0]);
    CliResult r = Run(With(command, {"--activity", unknown}));
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_THAT(r.err, HasSubstr("snnplan: error: --activity " + unknown +
                                 ": layers.\"conv1\": no layer named 'conv1'"));
    EXPECT_THAT(r.err, HasSubstr(kKnownNames));
    r = Run(With(command, {"--activity", missing}));
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_THAT(r.err, HasSubstr("--activity " + missing + ": cannot open JSON activity file"));
    r = Run(With(command, {"--activity", version}));
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_THAT(r.err, HasSubstr(version + ": version: unsupported version 2"));
    r = Run(With(command, {"--activity", dir_.string()}));
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_THAT(r.err, HasSubstr("--activity " + dir_.string() + ": is a directory"));
  }
}

TEST_F(ActivityCli, DensityAndActivityTogetherAreRefused) {
  const std::string act = Good();
  std::ofstream(dir_ / "d.json") << R"({"/net/conv2/Conv": 0.5})";
  for (const auto& command : Commands()) {
    SCOPED_TRACE(command[0]);
    for (const std::vector<std::string>& density :
         {std::vector<std::string>{"--density", "0.5"}, std::vector<std::string>{"--density", "1"},
          std::vector<std::string>{"--density-file", (dir_ / "d.json").string()}}) {
      CliResult r = Run(With(With(command, {"--activity", act}), density));
      EXPECT_EQ(r.exit_code, 2) << density[0];
      EXPECT_THAT(r.err, HasSubstr("--activity cannot be combined with " + density[0]));
    }
  }
}

TEST_F(ActivityCli, UnknownDensityFileLayerListsTheKnownNames) {
  std::ofstream(dir_ / "d.json") << R"({"conv2": 0.5})";
  const std::string d = (dir_ / "d.json").string();
  for (const auto& command : Commands()) {
    SCOPED_TRACE(command[0]);
    CliResult r = Run(With(command, {"--density-file", d}));
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_THAT(r.err, HasSubstr("--density-file " + d + ": no layer named 'conv2'"));
    EXPECT_THAT(r.err, HasSubstr(kKnownNames));
  }
}

TEST_F(ActivityCli, PlanRecordsTheActivityAndPricesItOnlyWhereDeclared) {
  const std::string act = Good();
  auto plan = [&](const std::string& hw, bool activity, const std::string& out) {
    std::vector<std::string> args = {
        "plan", kNmnist,      "--timesteps", "2",  "--hw",
        hw,     "--schedule", "st-lbl",      "-o", (dir_ / out).string()};
    if (activity) args = With(args, {"--activity", act});
    CliResult r = Run(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r;
  };
  // Undeclared hardware: the manifest only gains the record of the file.
  CliResult dense = plan("meta-prototype", false, "dense.json");
  CliResult recorded = plan("meta-prototype", true, "recorded.json");
  EXPECT_THAT(recorded.out, HasSubstr("activity: act.json (4 of 4 layers measured); hardware "
                                      "exploits none: priced dense"));
  nlohmann::json a = nlohmann::json::parse(ReadAll(dir_ / "dense.json"));
  nlohmann::json b = nlohmann::json::parse(ReadAll(dir_ / "recorded.json"));
  ASSERT_TRUE(b["summary"].contains("activity"));
  EXPECT_EQ(b["summary"]["activity"]["file"], "act.json");  // the name, never the directory
  EXPECT_EQ(b["summary"]["activity"]["sha256"].get<std::string>().size(), 64u);
  EXPECT_EQ(b["summary"]["activity"]["layers"]["/net/conv2/Conv"]["input_density"], 0.1);
  const nlohmann::json sha256 = b["summary"]["activity"]["sha256"];
  b["summary"].erase("activity");
  // ... and its provenance: the file given and its hash.
  EXPECT_EQ(b["provenance"]["activity"]["file"], "act.json");
  EXPECT_EQ(b["provenance"]["activity"]["sha256"], sha256);
  EXPECT_EQ(b["provenance"]["options"]["activity"], "act.json");
  b["provenance"]["activity"] = nullptr;
  b["provenance"]["options"]["activity"] = nullptr;
  EXPECT_EQ(a, b);
  // Hardware that skips zeros and encodes spikes: less compute energy and DRAM traffic.
  plan("meta-prototype-sparse", false, "sparse_dense.json");
  CliResult sparse = plan("meta-prototype-sparse", true, "sparse.json");
  EXPECT_THAT(sparse.out, HasSubstr("hardware exploits zero-skipping, address_event links"));
  const nlohmann::json sd = nlohmann::json::parse(ReadAll(dir_ / "sparse_dense.json"))["summary"];
  const nlohmann::json sp = nlohmann::json::parse(ReadAll(dir_ / "sparse.json"))["summary"];
  EXPECT_EQ(sd["energy_pj"], a["summary"]["energy_pj"]);  // no activity: the meta-prototype
  EXPECT_LT(sp["energy_pj"]["compute"].get<double>(), sd["energy_pj"]["compute"].get<double>());
  EXPECT_LT(sp["dram_bytes"]["total"].get<int64_t>(), sd["dram_bytes"]["total"].get<int64_t>());
  // The encoded manifest validates.
  CliResult v = Run({"validate", (dir_ / "sparse.json").string()});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
}

TEST_F(ActivityCli, CostExploreAndAllocateRecordTheActivity) {
  const std::string act = Good();
  const std::string report = (dir_ / "cost.json").string();
  CliResult c = Run({"cost", kNmnist, "--timesteps", "2", "--hw", "meta-prototype-sparse",
                     "--activity", act, "--json", report});
  ASSERT_EQ(c.exit_code, 0) << c.err;
  EXPECT_THAT(c.out, HasSubstr("measured input density 0.1"));
  const nlohmann::json j = nlohmann::json::parse(ReadAll(report));
  EXPECT_EQ(j["activity"]["file"], "act.json");
  EXPECT_EQ(j["layers"][1]["input_activity"], 0.1);   // conv2 reads conv1's spikes
  EXPECT_EQ(j["layers"][0]["output_activity"], 0.1);  // ... so that is conv1's output

  const std::string csv = (dir_ / "g.csv").string();
  CliResult e = Run({"explore", kNmnist, "--timesteps", "2", "--sram", "64KiB", "--hw",
                     "meta-prototype-sparse", "--activity", act, "--csv", csv});
  ASSERT_EQ(e.exit_code, 0) << e.err;
  std::ifstream in(csv);
  std::string header, row;
  std::getline(in, header);
  std::getline(in, row);
  EXPECT_THAT(header, ::testing::EndsWith(",feasible,activity_file,activity_sha256"));
  EXPECT_THAT(row, HasSubstr(",act.json,"));

  const std::string pareto = (dir_ / "p.csv").string();
  CliResult a =
      Run({"allocate", kNmnist, "--timesteps", "2", "--hw", "meta-prototype-quad", "--population",
           "4", "--generations", "1", "--activity", act, "--csv", pareto});
  ASSERT_EQ(a.exit_code, 0) << a.err;
  std::ifstream pin(pareto);
  std::getline(pin, header);
  EXPECT_THAT(header, ::testing::EndsWith(",genome,activity_file,activity_sha256"));
  // Without --activity the CSVs are as before.
  CliResult plain = Run({"explore", kNmnist, "--timesteps", "2", "--sram", "64KiB", "--csv", csv});
  ASSERT_EQ(plain.exit_code, 0);
  std::ifstream again(csv);
  std::getline(again, header);
  EXPECT_THAT(header, ::testing::EndsWith(",feasible"));
}

}  // namespace
}  // namespace snnplan::testing
