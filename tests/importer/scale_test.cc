// Structure that grows: deep spiking stacks and long elementwise chains
// import (the analysis is iterative and linear; time is measured in bench/).
#include <gtest/gtest.h>

#include "../common/big_models.h"
#include "snnplan/importer.h"

namespace snnplan {
namespace {

TEST(Scale, TwoThousandSpikingLayers) {
  importer::ImportOptions o;
  o.timesteps = 4;
  absl::StatusOr<ir::Workload> w = importer::ImportBytes(testing::DeepSpikingChain(2000), "deep.onnx", o);
  ASSERT_TRUE(w.ok()) << w.status();
  ASSERT_EQ(w->layers.size(), 2000u);
  EXPECT_EQ(w->TotalNeuronStates(), 2000 * 16);
  EXPECT_EQ(w->layers.back().neuron.reset, ir::ResetMode::kSubtract);
}

TEST(Scale, FiftyThousandElementwiseOps) {
  importer::ImportOptions o;
  o.timesteps = 1;
  absl::StatusOr<ir::Workload> w = importer::ImportBytes(testing::ElementwiseChain(50000), "chain.onnx", o);
  ASSERT_TRUE(w.ok()) << w.status();
  // Neg is a view and every ReLU fuses into the conv: one layer remains.
  ASSERT_EQ(w->layers.size(), 1u);
  EXPECT_EQ(w->layers[0].op, ir::OpKind::kConv);
}

}  // namespace
}  // namespace snnplan
