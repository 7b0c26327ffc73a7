// Turns the main graph plus the recognised neurons into IR layers: compute
// ops become layers (de-duplicated across unrolled time steps), views and
// constant plumbing disappear, BatchNorm/ReLU/bias fold into producers.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "neuron_rules.h"
#include "onnx_graph.h"
#include "snnplan/ir.h"

namespace snnplan::importer::internal {

struct BuiltLayer {
  ir::Layer layer;                 // dims.T, blocks and precisions set later
  std::vector<int> instances;      // NeuronInstance indices attached to it
  int copies = 0;                  // graph nodes merged into this layer
  bool spike_like = false;         // output values are 0/1 spikes
  bool relu_fused = false;
  bool bn_folded = false;
};

struct BuiltGraph {
  std::vector<BuiltLayer> layers;
  int64_t time_axis_extent = 0;    // T seen by a time_mean (0 when none)
};

// `timesteps` (T of the graph, or 0 when not known yet) lets ReduceMean over
// the time axis be told apart from other reductions.
absl::StatusOr<BuiltGraph> BuildLayers(const Scope& main, const Recognition& rec,
                                       int64_t timesteps);

}  // namespace snnplan::importer::internal
