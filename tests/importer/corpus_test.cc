// Every export in models/corpus/ (made by tools/fixtures/ from snnTorch and
// SpikingJelly modules) against the facts the export script read off the
// PyTorch modules: counts, T, and per spiking layer its kind, statefulness,
// reset, parameters and input currents. Every import that succeeds has also
// passed the importer's own self-check (the model against the ONNX graph).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>

#include "nlohmann/json.hpp"
#include "snnplan/importer.h"

namespace snnplan {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

std::string CorpusDir() { return std::string(SNNPLAN_SOURCE_DIR) + "/models/corpus/"; }

std::vector<std::string> FactFiles() {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(CorpusDir()))
    if (e.path().string().ends_with(".facts.json")) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// The facts store float32 values as their shortest decimal; the importer
// computes in double from float32 constants. Tolerance: float32 rounding of
// one or two operations (relative 1e-6, absolute 1e-7).
void ExpectParam(const ir::NeuronParam& p, const json& want, const std::string& what) {
  std::vector<double> expect = want.is_array() ? want.get<std::vector<double>>()
                                               : std::vector<double>{want.get<double>()};
  std::vector<double> got = p.values;
  // A uniform vector and a scalar say the same.
  auto uniform = [](const std::vector<double>& v) {
    return std::all_of(v.begin(), v.end(), [&](double x) { return x == v[0]; });
  };
  if (expect.size() > 1 && got.size() == 1 && uniform(expect)) expect.resize(1);
  if (got.size() > 1 && expect.size() == 1 && uniform(got)) got.resize(1);
  ASSERT_EQ(got.size(), expect.size()) << what;
  for (size_t i = 0; i < got.size(); ++i)
    EXPECT_NEAR(got[i], expect[i], 1e-6 * std::max(1.0, std::fabs(expect[i])) + 1e-7)
        << what << " [" << i << "]";
}

class Corpus : public ::testing::TestWithParam<std::string> {};

TEST_P(Corpus, MatchesTheModuleFacts) {
  std::ifstream in(CorpusDir() + GetParam());
  json f = json::parse(in);
  importer::ImportOptions o;
  std::vector<std::string> args = f["import_args"];
  for (size_t i = 0; i + 1 < args.size(); i += 2)
    if (args[i] == "--timesteps") o.timesteps = std::stoll(args[i + 1]);
  const std::string file = f["file"];
  absl::StatusOr<ir::Workload> w = importer::ImportFile(CorpusDir() + file, o);
  if (f["expect"] == "refuse") {
    ASSERT_FALSE(w.ok()) << file << " imported but its module cannot be expressed";
    std::string msg = Lower(std::string(w.status().message()));
    EXPECT_NE(msg.find(Lower(file)), std::string::npos) << msg;
    for (const std::string word : f["refusal_mentions"])
      EXPECT_NE(msg.find(Lower(word)), std::string::npos) << "'" << word << "' not in: " << msg;
    return;
  }
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ(w->timesteps, f["timesteps"].get<int64_t>());
  json t = importer::ToJson(*w)["totals"];
  for (const auto& [key, value] : f["totals"].items()) EXPECT_EQ(t[key], value) << key;
  const std::vector<bool> recurrent = ir::RecurrentLayers(*w);
  std::vector<const ir::Layer*> spiking;
  for (const ir::Layer& l : w->layers)
    if (l.spiking()) spiking.push_back(&l);
  const json& want = f["spiking_layers"];
  ASSERT_EQ(spiking.size(), want.size());
  for (size_t i = 0; i < spiking.size(); ++i) {
    const ir::Layer& l = *spiking[i];
    const ir::Neuron& n = l.neuron;
    const json& m = want[i];
    const std::string who = m["module"];
    SCOPED_TRACE(who);
    EXPECT_EQ(n.kind, m["kind"]);
    EXPECT_EQ(l.stateful(), m["stateful"].get<bool>());
    if (l.stateful()) {
      EXPECT_EQ(n.states_per_neuron, m["states_per_neuron"].get<int>());
    }
    EXPECT_EQ(ir::ResetModeName(n.reset), m["reset"].get<std::string>());
    if (l.stateful() && n.reset != ir::ResetMode::kNone) {
      EXPECT_EQ(ir::ResetTimingName(n.reset_timing), m["reset_timing"].get<std::string>());
    }
    if (n.reset == ir::ResetMode::kZero) {
      EXPECT_NEAR(n.reset_value, m["reset_value"].get<double>(), 1e-7);
    }
    EXPECT_EQ(l.OutputElementsPerStep(), m["neurons"].get<int64_t>());
    ExpectParam(n.decay, m["decay"], "decay");
    ExpectParam(n.threshold, m["threshold"], "threshold");
    ExpectParam(n.input_gain, m["input_gain"], "input_gain");
    ExpectParam(n.spike_gain, m["spike_gain"], "spike_gain");
    if (m.contains("syn_decay")) ExpectParam(n.syn_decay, m["syn_decay"], "syn_decay");
    if (m.contains("reset_amount")) ExpectParam(n.reset_amount, m["reset_amount"], "reset_amount");
    // The layers summed into the current are the modules that feed it (a
    // submodule a.b is the name scope /a.b/ in a Sequential, else /a/b/).
    const std::vector<std::string> fed = m["fed_by"];
    ASSERT_EQ(n.current_layers.size(), fed.size());
    for (size_t k = 0; k < fed.size(); ++k) {
      const std::string& name = w->layers[n.current_layers[k]].name;
      EXPECT_TRUE(std::any_of(fed.begin(), fed.end(), [&](const std::string& mod) {
        std::string scope = mod;
        std::replace(scope.begin(), scope.end(), '.', '/');
        return name.find("/" + mod + "/") != std::string::npos ||
               name.find("/" + scope + "/") != std::string::npos;
      })) << name;
    }
    // A recurrent module reads its own spikes of the previous step: the
    // layer carrying the neuron is on a cycle of delayed edges (a one-to-one
    // recurrence is a reset term: docs/importer.md#recurrent-connections).
    EXPECT_EQ(static_cast<bool>(recurrent[&l - w->layers.data()]),
              m.contains("recurrent") && m["recurrent"] != "one_to_one");
  }
}

INSTANTIATE_TEST_SUITE_P(Exports, Corpus, ::testing::ValuesIn(FactFiles()),
                         [](const ::testing::TestParamInfo<std::string>& p) {
                           std::string n = p.param.substr(0, p.param.find('.'));
                           std::replace(n.begin(), n.end(), '-', '_');
                           return n;
                         });

}  // namespace
}  // namespace snnplan
