// `run` on NIR files reproduces the reference tools/fixtures/make_nir.py
// computes from the NIR node semantics with the same discretisation
// (forward Euler, dt = 1e-4 s, docs/nir.md), in float64 (*.io.npz); for
// snntorch_cnn the script also checked that reference against the snnTorch
// module itself. Spikes must be identical; other values (LI / I states)
// within |a - b| <= 1e-4 + 1e-4 |b| (our layers compute in float32).
#include <cmath>

#include "gtest/gtest.h"
#include "snnplan/importer.h"
#include "snnplan/runtime.h"

namespace snnplan::runtime {
namespace {

const std::string kDir = std::string(SNNPLAN_SOURCE_DIR) + "/models/nir/";

class NirFidelity : public ::testing::TestWithParam<std::string> {};

TEST_P(NirFidelity, ReproducesTheNirReference) {
  importer::ImportOptions options;
  options.timesteps = 8;  // the script's T
  options.load_parameters = true;
  absl::StatusOr<ir::Workload> w = importer::ImportFile(kDir + GetParam() + ".nir", options);
  ASSERT_TRUE(w.ok()) << w.status();
  absl::StatusOr<std::map<std::string, Array>> ref = ReadNpz(kDir + GetParam() + ".io.npz");
  ASSERT_TRUE(ref.ok()) << ref.status();
  for (int threads : {1, 2}) {
    RunOptions run;
    run.threads = threads;
    absl::StatusOr<RunResult> r = RunWorkload(*w, *ref, run);
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_EQ(r->outputs.size(), w->outputs.size());
    for (const ir::Binding& b : w->outputs) {
      SCOPED_TRACE(b.name);
      ASSERT_TRUE(ref->count(b.name));
      const Array& got = r->outputs.at(b.name);
      const Array& want = ref->at(b.name);
      ASSERT_EQ(got.shape, want.shape);
      const bool spikes = w->layers[b.layer].neuron.dynamics.fire >= 0;
      int64_t bad = 0, ones = 0;
      for (size_t i = 0; i < got.values.size(); ++i) {
        const double a = got.values[i], e = want.values[i];
        ones += a != 0;
        const bool ok = spikes ? a == e : std::fabs(a - e) <= 1e-4 + 1e-4 * std::fabs(e);
        if (!ok && bad++ < 3) ADD_FAILURE() << "element " << i << ": got " << a << ", reference " << e;
      }
      EXPECT_EQ(bad, 0);
      EXPECT_GT(ones, 0) << "the reference must not be all zeros";
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Models, NirFidelity,
                         ::testing::Values("snntorch_cnn", "lif_mlp", "cubalif_ff", "zoo",
                                           "recurrent_cubalif", "snntorch_rleaky"));

}  // namespace
}  // namespace snnplan::runtime
