// `run` reproduces PyTorch: every fixture in models/, models/corpus/ and models/blind/ with
// a reference (*.io.npz, written by PyTorch; tools/fixtures/) is imported
// with its parameters and executed, and every graph output the IR computes
// is compared with the reference.
//
// Tolerances: spike outputs (a spiking layer's output) must be identical.
// Other values (membranes, logits, currents) may differ by float32 rounding:
// our convolutions sum in another order than PyTorch's (im2col + sgemm vs
// mkldnn), BatchNorm is folded into a per-channel affine, and neuron updates
// run in double then round; the difference grows with T. Allowed: |a - b| <=
// 1e-4 + 1e-4 |b| (the largest seen is 3.8e-5 on snnTorch Alpha membranes of
// magnitude ~10).
#include <filesystem>
#include <fstream>
#include <sstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "snnplan/importer.h"
#include "snnplan/runtime.h"

namespace snnplan::runtime {
namespace {

namespace fs = std::filesystem;

const std::string kModels = std::string(SNNPLAN_SOURCE_DIR) + "/models/";

struct Fixture {
  std::string model;             // under models/
  std::string reference;         // *.io.npz under models/
  std::optional<int64_t> timesteps;  // --timesteps (single-step exports)
  std::string rename_from, rename_to;  // reference key -> graph input name
  std::optional<int64_t> batch = {};   // --batch (a symbolic batch axis)
  std::string refusal = {};            // a refused export: the message import gives
};

// models/blind/index.json: exports a blind check found refused or
// miscomputed, each either reproduced ("run") or refused ("refuse").
std::vector<Fixture> BlindFixtures(bool refused) {
  std::ifstream in(kModels + "blind/index.json");
  const nlohmann::json j = nlohmann::json::parse(in);
  std::vector<Fixture> out;
  for (const auto& [name, f] : j.at("fixtures").items()) {
    if ((f.at("expect") == "refuse") != refused) continue;
    Fixture x;
    x.model = "blind/" + name + ".onnx";
    x.reference = "blind/" + name + ".io.npz";
    const std::vector<std::string> args = f.at("import_args");
    for (size_t i = 0; i + 1 < args.size(); ++i) {
      if (args[i] == "--timesteps") x.timesteps = std::stoll(args[i + 1]);
      if (args[i] == "--batch") x.batch = std::stoll(args[i + 1]);
    }
    if (refused) x.refusal = f.at("message");
    out.push_back(x);
  }
  return out;
}

void PrintTo(const Fixture& f, std::ostream* os) { *os << f.model; }

std::vector<Fixture> Fixtures() {
  std::vector<Fixture> all = {
      {"snntorch_nmnist_unrolled_T4_op13.onnx", "snntorch_nmnist_unrolled_T4.io.npz", {}, "", ""},
      {"snntorch_nmnist_unrolled_T4_op17.onnx", "snntorch_nmnist_unrolled_T4.io.npz", {}, "", ""},
      // One step from the given states (the reference holds one step).
      {"snntorch_nmnist_step_op13.onnx", "snntorch_nmnist_step.io.npz", 1, "", ""},
      {"snntorch_nmnist_step_op17.onnx", "snntorch_nmnist_step.io.npz", 1, "", ""},
      {"snntorch_redlif_trunk_step_op13.onnx", "snntorch_redlif_trunk_step.io.npz", 1, "", ""},
      {"sj_sew5_T16_loop_op13.onnx", "sj_sew5_T16.io.npz", {}, "", ""},
      {"sj_sew7_T16_loop_op13.onnx", "sj_sew7_T16.io.npz", {}, "", ""},
      // The Lynxi-style export names its input x ([T*B, C, H, W]).
      {"sj_sew5_T16_lynxi_unrolled_op13.onnx", "sj_sew5_T16.io.npz", {}, "x_seq", "x"},
      {"sj_sew7_T16_lynxi_unrolled_op13.onnx", "sj_sew7_T16.io.npz", {}, "x_seq", "x"},
      // Batch 3, BatchNorm with running statistics, two reset kinds
      // (tools/fixtures/make_run_batch.py).
      {"run/torch_lif_batch3_unrolled_op13.onnx",
       "run/torch_lif_batch3_unrolled_op13.io.npz",
       {},
       "",
       ""},
      // SpikingJelly ElementWiseRecurrentContainer(IFNode, x + y): the neuron and its y[t-1]
      // memory are one two-state neuron (tools/fixtures/corpus_spikingjelly.py).
      {"run/sj_rc_elementwise_unrolled_op13.onnx",
       "run/sj_rc_elementwise_unrolled_op13.io.npz",
       {},
       "",
       ""},
      // A layer's output is a neuron's current and is read by another layer
      // too (a branch on the pre-activation; the MS-ResNet membrane shortcut):
      // the other reader gets the output, not the spikes
      // (tools/fixtures/make_branch_current.py).
      {"run/branch_current_st_unrolled_op13.onnx",
       "run/branch_current_st_unrolled_op13.io.npz",
       {},
       "",
       ""},
      {"run/branch_current_sj_loop_op13.onnx",
       "run/branch_current_sj_loop_op13.io.npz",
       {},
       "",
       ""},
      {"run/ms_shortcut_sj_conv_loop_op13.onnx",
       "run/ms_shortcut_sj_conv_loop_op13.io.npz",
       {},
       "",
       ""},
      // The network input repeated over time inside the graph, alone or after
      // a static conv computed once (tools/fixtures/make_static_repeat.py).
      {"run/sj_repeat_input_loop_op13.onnx", "run/sj_repeat_input_loop_op13.io.npz", {}, "", ""},
      {"run/sj_static_conv_repeat_loop_op13.onnx",
       "run/sj_static_conv_repeat_loop_op13.io.npz",
       {},
       "",
       ""},
      // SpikingJelly VotingLayer after a Loop: a pool whose output holds every
      // step (padding in front of the pool keeps the steps).
      {"run/sj_voting_loop_op13.onnx", "run/sj_voting_loop_op13.io.npz", {}, "", ""},
      // snnTorch static input: the first layer reads the same x at every
      // step, exported as one node all steps read
      // (tools/fixtures/make_static_input.py).
      {"run/st_static_input_unrolled_op13.onnx",
       "run/st_static_input_unrolled_op13.io.npz",
       {},
       "",
       ""},
      {"run/st_static_input_conv_unrolled_op13.onnx",
       "run/st_static_input_conv_unrolled_op13.io.npz",
       {},
       "",
       ""},
  };
  std::vector<std::string> facts;
  for (const fs::directory_entry& e : fs::directory_iterator(kModels + "corpus"))
    if (e.path().string().ends_with(".facts.json")) facts.push_back(e.path().string());
  std::sort(facts.begin(), facts.end());
  for (const std::string& path : facts) {
    std::ifstream in(path);
    nlohmann::json j = nlohmann::json::parse(in);
    if (j.value("expect", "") != "import") continue;
    const std::string base = path.substr(0, path.size() - std::string(".facts.json").size());
    Fixture f;
    f.model = "corpus/" + fs::path(base).filename().string() + ".onnx";
    f.reference = "corpus/" + fs::path(base).filename().string() + ".io.npz";
    const std::vector<std::string> args = j.value("import_args", std::vector<std::string>{});
    for (size_t i = 0; i + 1 < args.size(); ++i)
      if (args[i] == "--timesteps") f.timesteps = std::stoll(args[i + 1]);
    all.push_back(f);
  }
  for (Fixture& f : BlindFixtures(false)) all.push_back(std::move(f));
  return all;
}

class Fidelity : public ::testing::TestWithParam<Fixture> {};

TEST_P(Fidelity, ReproducesThePyTorchReference) {
  const Fixture& f = GetParam();
  importer::ImportOptions options;
  options.timesteps = f.timesteps;
  options.batch = f.batch;
  options.load_parameters = true;
  absl::StatusOr<ir::Workload> w = importer::ImportFile(kModels + f.model, options);
  ASSERT_TRUE(w.ok()) << w.status();
  absl::StatusOr<std::map<std::string, Array>> ref = ReadNpz(kModels + f.reference);
  ASSERT_TRUE(ref.ok()) << ref.status();
  std::map<std::string, Array> inputs = *ref;
  if (!f.rename_from.empty()) {
    inputs[f.rename_to] = inputs.at(f.rename_from);
    inputs.erase(f.rename_from);
  }
  RunOptions run;
  run.threads = 2;
  absl::StatusOr<RunResult> r = RunWorkload(*w, inputs, run);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->not_produced.empty()) << r->not_produced[0];
  int compared = 0;
  for (const ir::Binding& b : w->outputs) {
    if (b.kind == ir::BindingKind::kNotProduced) continue;
    SCOPED_TRACE(b.name);
    ASSERT_TRUE(r->outputs.count(b.name));
    ASSERT_TRUE(ref->count(b.name)) << "the reference lacks this output";
    const Array& got = r->outputs.at(b.name);
    const Array& want = ref->at(b.name);
    ASSERT_EQ(got.values.size(), want.values.size());
    const bool spikes = b.kind == ir::BindingKind::kLayerOutput && w->layers[b.layer].spiking();
    int64_t bad = 0;
    for (size_t i = 0; i < got.values.size(); ++i) {
      const double a = got.values[i], e = want.values[i];
      bool ok = spikes ? a == e : std::fabs(a - e) <= 1e-4 + 1e-4 * std::fabs(e);
      if (!ok && bad++ < 3) ADD_FAILURE() << "element " << i << ": got " << a << ", PyTorch " << e;
    }
    EXPECT_EQ(bad, 0) << (spikes ? "spikes differ" : "values beyond tolerance");
    ++compared;
  }
  EXPECT_GT(compared, 0);
}

std::string FixtureName(const ::testing::TestParamInfo<Fixture>& i) {
  std::string n = fs::path(i.param.model).stem().string();
  for (char& c : n)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return n;
}

INSTANTIATE_TEST_SUITE_P(Models, Fidelity, ::testing::ValuesIn(Fixtures()), FixtureName);

// What the IR cannot compute is refused, naming the node, never imported
// into something that computes another value.
class Refused : public ::testing::TestWithParam<Fixture> {};

TEST_P(Refused, ImportRefusesNamingTheNode) {
  const Fixture& f = GetParam();
  importer::ImportOptions options;
  options.timesteps = f.timesteps;
  options.batch = f.batch;
  absl::StatusOr<ir::Workload> w = importer::ImportFile(kModels + f.model, options);
  ASSERT_FALSE(w.ok());
  EXPECT_THAT(std::string(w.status().message()), ::testing::HasSubstr(f.refusal));
  EXPECT_THAT(std::string(w.status().message()), ::testing::HasSubstr("node "));
}

INSTANTIATE_TEST_SUITE_P(Blind, Refused, ::testing::ValuesIn(BlindFixtures(true)), FixtureName);

}  // namespace
}  // namespace snnplan::runtime
