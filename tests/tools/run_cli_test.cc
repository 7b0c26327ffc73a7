// `snnplan run`: inputs and outputs keyed by the graph's own names, errors
// naming the file and the input, folders of samples, activity files, and
// results that do not depend on the thread count.
#include <cstring>

#include "absl/strings/str_cat.h"
#include "cli_runner.h"
#include "gmock/gmock.h"
#include "nlohmann/json.hpp"
#include "snnplan/runtime.h"

namespace snnplan::testing {
namespace {

using ::testing::HasSubstr;

const std::string kUnrolled = SourceDir() + "/models/snntorch_nmnist_unrolled_T4_op13.onnx";
const std::string kUnrolledIo = SourceDir() + "/models/snntorch_nmnist_unrolled_T4.io.npz";
const std::string kStep = SourceDir() + "/models/corpus/st_leaky_sub_step_op17.onnx";
const std::string kStepIo = SourceDir() + "/models/corpus/st_leaky_sub_step_op17.io.npz";

runtime::Array Read(const fs::path& npz, const std::string& key) {
  absl::StatusOr<std::map<std::string, runtime::Array>> m = runtime::ReadNpz(npz.string());
  EXPECT_TRUE(m.ok()) << m.status();
  if (!m.ok() || !m->count(key)) return {};
  return m->at(key);
}

using RunCli = CliTest;

TEST_F(RunCli, WritesEveryGraphOutputUnderItsOwnName) {
  const fs::path out = dir_ / "out.npz";
  CliResult r = Run({"run", kUnrolled, "--inputs", kUnrolledIo, "--outputs", out.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("output spk_rec [4, 1, 10]"));
  runtime::Array spk = Read(out, "spk_rec"), want = Read(kUnrolledIo, "spk_rec");
  EXPECT_EQ(spk.shape, (std::vector<int64_t>{4, 1, 10}));
  EXPECT_EQ(spk.values, want.values);  // spikes identical to PyTorch's
}

TEST_F(RunCli, ResultsDoNotDependOnTheThreadCount) {
  ASSERT_EQ(Run({"run", kStep, "--timesteps", "4", "--inputs", kStepIo, "--outputs",
                 (dir_ / "j1.npz").string(), "-j", "1"}).exit_code, 0);
  ASSERT_EQ(Run({"run", kStep, "--timesteps", "4", "--inputs", kStepIo, "--outputs",
                 (dir_ / "j2.npz").string(), "-j", "2"}).exit_code, 0);
  EXPECT_EQ(ReadAll(dir_ / "j1.npz"), ReadAll(dir_ / "j2.npz"));
}

TEST_F(RunCli, SingleStepExportRunsStackedSteps) {
  const fs::path out = dir_ / "out.npz";
  CliResult r = Run({"run", kStep, "--timesteps", "4", "--inputs", kStepIo, "--outputs", out.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  runtime::Array spk = Read(out, "spk_out");
  EXPECT_EQ(spk.shape, (std::vector<int64_t>{4, 1, 10}));  // stacked over the 4 steps
  EXPECT_EQ(spk.values, Read(kStepIo, "spk_out").values);
}

TEST_F(RunCli, NpyStandsForTheNetworkInput) {
  runtime::Array x = Read(kUnrolledIo, "x");
  // A .npy holding x: written by hand as numpy does (format 1.0).
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (4, 1, 2, 34, 34), }";
  header.append(64 - (10 + header.size() + 1) % 64, ' ');
  header += '\n';
  std::string npy = std::string("\x93NUMPY\x01\x00", 8);
  npy += static_cast<char>(header.size() & 0xff);
  npy += static_cast<char>(header.size() >> 8);
  npy += header;
  npy.append(reinterpret_cast<const char*>(x.values.data()), x.values.size() * sizeof(float));
  std::ofstream(dir_ / "x.npy", std::ios::binary) << npy;
  CliResult r = Run({"run", kUnrolled, "--inputs", (dir_ / "x.npy").string(), "--outputs",
                     (dir_ / "out.npz").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Read(dir_ / "out.npz", "spk_rec").values, Read(kUnrolledIo, "spk_rec").values);
}

TEST_F(RunCli, MissingInputIsNamed) {
  runtime::Array x = Read(kUnrolledIo, "x");
  ASSERT_TRUE(runtime::WriteNpz((dir_ / "in.npz").string(), {{"y", x}}).ok());
  CliResult r = Run({"run", kUnrolled, "--inputs", (dir_ / "in.npz").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("in.npz"));
  EXPECT_THAT(r.err, HasSubstr("no input named 'x' was given (given: y)"));
}

TEST_F(RunCli, WrongInputSizeIsRefused) {
  runtime::Array x = Read(kUnrolledIo, "x");
  x.values.resize(x.values.size() / 2);
  x.shape = {2, 1, 2, 34, 34};
  ASSERT_TRUE(runtime::WriteNpz((dir_ / "in.npz").string(), {{"x", x}}).ok());
  CliResult r = Run({"run", kUnrolled, "--inputs", (dir_ / "in.npz").string(), "--outputs",
                     (dir_ / "out.npz").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("input 'x' holds 4624 values"));
  EXPECT_FALSE(fs::exists(dir_ / "out.npz"));  // no partial output
}

TEST_F(RunCli, FolderOfSamplesWritesOneOutputEachAndPoolsActivity) {
  fs::create_directories(dir_ / "in");
  fs::create_directories(dir_ / "out");
  runtime::Array x = Read(kUnrolledIo, "x");
  runtime::Array zeros = x;
  std::fill(zeros.values.begin(), zeros.values.end(), 0.0f);
  ASSERT_TRUE(runtime::WriteNpz((dir_ / "in" / "a.npz").string(), {{"x", x}}).ok());
  ASSERT_TRUE(runtime::WriteNpz((dir_ / "in" / "b.npz").string(), {{"x", zeros}}).ok());
  CliResult r = Run({"run", kUnrolled, "--inputs", (dir_ / "in").string(), "--outputs",
                     (dir_ / "out").string(), "--activity", (dir_ / "act.json").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::exists(dir_ / "out" / "a.npz"));
  EXPECT_TRUE(fs::exists(dir_ / "out" / "b.npz"));
  nlohmann::json act = nlohmann::json::parse(ReadAll(dir_ / "act.json"));
  EXPECT_EQ(act["format"], "snnplan-activity");
  EXPECT_EQ(act["samples"], 2);
  EXPECT_EQ(act["timesteps"], 4);
  // The first layer reads the network input: its density is the input's,
  // counted here from the arrays themselves (the zero sample halves it).
  int64_t nonzero = 0;
  for (float v : x.values) nonzero += v != 0.0f;
  const nlohmann::json& conv1 = act["layers"]["/net/conv1/Conv"];
  EXPECT_EQ(conv1["input_nonzero"], nonzero);
  EXPECT_EQ(conv1["input_elements"], 2 * static_cast<int64_t>(x.values.size()));
  EXPECT_EQ(conv1["per_timestep"].size(), 4u);
}

// The loop the activity file exists for: measure with `run`, price with
// `plan`. The file `run` writes is accepted as it is, and on hardware that
// skips zero spikes the measured plan spends less compute energy than the
// dense one, while the dense meta-prototype ignores it.
TEST_F(RunCli, MeasuredActivityDrivesThePlan) {
  const std::string act = (dir_ / "act.json").string();
  ASSERT_EQ(Run({"run", kUnrolled, "--inputs", kUnrolledIo, "--outputs",
                 (dir_ / "out.npz").string(), "--activity", act})
                .exit_code,
            0);
  auto compute_pj = [&](const std::string& hw, bool measured) {
    const std::string summary = (dir_ / "summary.json").string();
    std::vector<std::string> args = {"plan", kUnrolled, "--hw", hw, "--summary-only",
                                     "-o", summary};
    if (measured) args.insert(args.end(), {"--activity", act});
    CliResult r = Run(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    nlohmann::json j = nlohmann::json::parse(ReadAll(summary), nullptr, false);
    return j.is_discarded() ? -1.0 : j["summary"]["energy_pj"]["compute"].get<double>();
  };
  const double sparse_dense = compute_pj("meta-prototype-sparse", false);
  const double sparse_measured = compute_pj("meta-prototype-sparse", true);
  EXPECT_GT(sparse_measured, 0);
  EXPECT_LT(sparse_measured, sparse_dense);
  EXPECT_EQ(compute_pj("meta-prototype", true), compute_pj("meta-prototype", false));
}

// Early exit on snnTorch's recordings: two outputs are recorded per step,
// so the policy must be told which one; the profile covers every sample.
TEST_F(RunCli, ExitPolicyReportsAndWritesTheProfile) {
  CliResult ambiguous = Run({"run", kUnrolled, "--inputs", kUnrolledIo, "--exit", "entropy:0.5"});
  EXPECT_EQ(ambiguous.exit_code, 2);
  EXPECT_THAT(ambiguous.err, HasSubstr("several outputs are recorded per step (mem_rec, spk_rec)"));
  CliResult bad = Run({"run", kUnrolled, "--inputs", kUnrolledIo, "--exit", "entropy:2"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(bad.err, HasSubstr("--exit 'entropy:2': the threshold is a normalised entropy"));
  CliResult orphan = Run({"run", kUnrolled, "--inputs", kUnrolledIo, "--exit-profile",
                          (dir_ / "p.json").string()});
  EXPECT_EQ(orphan.exit_code, 2);
  EXPECT_THAT(orphan.err, HasSubstr("--exit-profile needs --exit"));
  const fs::path profile = dir_ / "p.json";
  // Threshold 1: any output that is not exactly uniform exits at step 1.
  CliResult r = Run({"run", kUnrolled, "--inputs", kUnrolledIo, "--exit", "entropy:1",
                     "--exit-output", "mem_rec", "--exit-profile", profile.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("early exit (entropy:1 on mem_rec)"));
  nlohmann::json p = nlohmann::json::parse(ReadAll(profile));
  EXPECT_EQ(p["format"], "snnplan-exit-profile");
  EXPECT_EQ(p["timesteps"], 4);
  EXPECT_EQ(p["samples"], 1);
  double total = 0;
  for (const auto& [t, prob] : p["exit_probability"].items()) total += prob.get<double>();
  EXPECT_DOUBLE_EQ(total, 1.0);
}

TEST_F(RunCli, MissingModelIsNamed) {
  CliResult r = Run({"run", SourceDir() + "/models/nope.onnx", "--inputs", kUnrolledIo});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("nope.onnx"));
}

TEST_F(RunCli, FolderInputNeedsAFolderForOutputs) {
  fs::create_directories(dir_ / "in");
  CliResult r = Run({"run", kUnrolled, "--inputs", (dir_ / "in").string(), "--outputs",
                     (dir_ / "o.npz").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("must be an existing folder"));
}

// `run --manifest`: the replayed manifest writes run's npz byte for byte;
// a manifest at another precision is refused (exit 2, nothing written).
TEST_F(RunCli, ManifestReplayWritesRunsOutputs) {
  const fs::path m = dir_ / "m.json", ran = dir_ / "ran.npz", replayed = dir_ / "replayed.npz";
  ASSERT_EQ(Run({"plan", kUnrolled, "--precision", "float", "--sram", "24KiB", "--schedule",
                 "st-lf", "-o", m.string()})
                .exit_code,
            0);
  ASSERT_EQ(Run({"run", kUnrolled, "--inputs", kUnrolledIo, "--outputs", ran.string()}).exit_code,
            0);
  CliResult r = Run({"run", kUnrolled, "--manifest", m.string(), "--inputs", kUnrolledIo,
                     "--outputs", replayed.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("replayed manifest"));
  // The spikes are what the manifest stores; the membrane recording is not
  // in it (graph_outputs: not produced) and is reported so.
  const runtime::Array want = Read(ran, "spk_rec"), got = Read(replayed, "spk_rec");
  EXPECT_EQ(got.shape, want.shape);
  ASSERT_EQ(got.values.size(), want.values.size());
  EXPECT_EQ(std::memcmp(got.values.data(), want.values.data(), want.values.size() * 4), 0);
  EXPECT_THAT(r.out, HasSubstr("not produced: mem_rec"));

  const fs::path m8 = dir_ / "m8.json", none = dir_ / "none.npz";
  ASSERT_EQ(Run({"plan", kUnrolled, "-o", m8.string()}).exit_code, 0);
  r = Run({"run", kUnrolled, "--manifest", m8.string(), "--inputs", kUnrolledIo, "--outputs",
           none.string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--precision float"));
  EXPECT_FALSE(fs::exists(none));
  // --precision float cannot be mixed with the flags it sets.
  r = Run({"plan", kUnrolled, "--precision", "float", "--state-bits", "32", "-o",
           (dir_ / "x.json").string()});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("--precision float"));
}

}  // namespace
}  // namespace snnplan::testing
