// The committed NIR fixtures (models/nir/, tools/fixtures/make_nir.py): each
// imports, and its layers match the facts the script wrote from the torch
// modules / nir nodes it built (*.facts.json), never from snnplan.
#include <filesystem>
#include <fstream>
#include <set>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "importer/nir_writer.h"
#include "nlohmann/json.hpp"

namespace snnplan::testing::nir {
namespace {

const std::string kDir = std::string(SNNPLAN_SOURCE_DIR) + "/models/nir/";

class NirFixture : public ::testing::TestWithParam<std::string> {};

TEST_P(NirFixture, MatchesTheScriptsFacts) {
  std::ifstream in(kDir + GetParam() + ".facts.json");
  ASSERT_TRUE(in) << GetParam();
  const nlohmann::json facts = nlohmann::json::parse(in);
  importer::ImportOptions o = Options(facts["timesteps"].get<int64_t>());
  o.dt_seconds = facts["dt_seconds"].get<double>();
  absl::StatusOr<ir::Workload> w = importer::ImportFile(kDir + GetParam() + ".nir", o);
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ(w->model_file, GetParam() + ".nir");
  EXPECT_EQ(w->timesteps, facts["timesteps"].get<int64_t>());
  ASSERT_EQ(w->inputs.size(), 1u);
  EXPECT_EQ(w->inputs[0].name, facts["input"].get<std::string>());
  ASSERT_EQ(w->outputs.size(), 1u);
  EXPECT_EQ(w->outputs[0].name, facts["output"].get<std::string>());
  for (const nlohmann::json& f : facts["layers"]) {
    const std::string name = f["name"].get<std::string>();
    SCOPED_TRACE(name);
    const ir::Layer* l = FindLayer(*w, name);
    ASSERT_NE(l, nullptr) << "no layer " << name;
    EXPECT_EQ(std::string(ir::OpKindName(l->op)), f["op"].get<std::string>());
    for (const char* dim : {"K", "C", "FY", "FX", "OY", "OX"})
      if (f.contains(dim)) { EXPECT_EQ(l->dims.Get(*ir::ParseDim(dim)), f[dim].get<int64_t>()) << dim; }
    EXPECT_EQ(l->out_shape, f["out_shape"].get<std::vector<int64_t>>());
    EXPECT_EQ(l->weight_elements, f["weights"].get<int64_t>());
    EXPECT_EQ(l->WeightsUsed(), f["weights_used"].get<int64_t>());
    const int64_t neurons = f["neurons"].get<int64_t>();
    EXPECT_EQ(l->spiking(), neurons > 0);
    if (neurons == 0) continue;
    EXPECT_EQ(l->OutputElementsPerStep(), neurons);
    EXPECT_EQ(l->neuron.kind, f["kind"].get<std::string>());
    EXPECT_EQ(l->neuron.states_per_neuron, f["states_per_neuron"].get<int>());
    EXPECT_EQ(l->NeuronStates(), neurons * f["states_per_neuron"].get<int64_t>());
    EXPECT_EQ(l->neuron.mode, f.value("stateless", false) ? ir::NeuronMode::kStateless : ir::NeuronMode::kStateful);
    if (f.contains("decay")) { EXPECT_NEAR(l->neuron.decay.value, f["decay"].get<double>(), 1e-6); }
    if (f.contains("decay_values")) {
      const auto want = f["decay_values"].get<std::vector<double>>();
      ASSERT_EQ(l->neuron.decay.values.size(), want.size());
      for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(l->neuron.decay.values[i], want[i], 1e-6) << i;
    }
    if (f.contains("syn_decay")) { EXPECT_NEAR(l->neuron.syn_decay.value, f["syn_decay"].get<double>(), 1e-6); }
    if (f.contains("threshold")) { EXPECT_NEAR(l->neuron.threshold.value, f["threshold"].get<double>(), 1e-6); }
    if (f.contains("input_gain")) { EXPECT_NEAR(l->neuron.input_gain.value, f["input_gain"].get<double>(), 1e-6); }
    if (f.contains("reset_value")) { EXPECT_NEAR(l->neuron.reset_value, f["reset_value"].get<double>(), 1e-6); }
    if (f.value("spiking", true)) {
      EXPECT_EQ(l->precision.output_bits, 1);
    } else {
      EXPECT_EQ(l->neuron.dynamics.fire, -1);
      EXPECT_EQ(l->precision.output_bits, o.feature_bits);
    }
  }
  // Recurrence: exactly the edges the script closed its cycles with are
  // read one step late ([producer, consumer] node names).
  std::set<std::pair<std::string, std::string>> delayed, want;
  for (const ir::Layer& l : w->layers)
    for (size_t k = 0; k < l.inputs.size(); ++k)
      if (l.delayed(k)) delayed.insert({w->layers[l.inputs[k]].name, l.name});
  for (const nlohmann::json& e : facts.value("recurrent_edges", nlohmann::json::array()))
    want.insert({e[0].get<std::string>(), e[1].get<std::string>()});
  EXPECT_EQ(delayed, want);
  if (facts.contains("delay_steps")) {
    const ir::Layer* d = FindLayer(*w, "delay");
    ASSERT_NE(d, nullptr);
    const auto steps = facts["delay_steps"].get<std::vector<int64_t>>();
    EXPECT_EQ(d->neuron.states_per_neuron, *std::max_element(steps.begin(), steps.end()));
  }
}

INSTANTIATE_TEST_SUITE_P(All, NirFixture,
                         ::testing::Values("snntorch_cnn", "lif_mlp", "cubalif_ff", "zoo",
                                           "recurrent_cubalif", "snntorch_rleaky"));

TEST(NirFixtures, SnnTorchExportRoundTripsItsNeuronsAtTheDefaultDt) {
  // snnTorch exports Leaky(beta) as tau = dt / (1 - beta), r = tau / dt with
  // dt = 1e-4: at --dt 1e-4 the decay is beta again and the input gain 1.
  absl::StatusOr<ir::Workload> w = importer::ImportFile(kDir + "snntorch_cnn.nir", Options(8));
  ASSERT_TRUE(w.ok()) << w.status();
  const ir::Layer* conv = FindLayer(*w, "0");
  ASSERT_NE(conv, nullptr);
  EXPECT_NEAR(conv->neuron.decay.value, 0.9, 1e-6);
  EXPECT_NEAR(conv->neuron.input_gain.value, 1.0, 1e-6);
  EXPECT_EQ(conv->neuron.decay.layout, ir::ParamLayout::kScalar);
}

}  // namespace
}  // namespace snnplan::testing::nir
