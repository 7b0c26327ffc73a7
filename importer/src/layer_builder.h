// Turns the main graph plus its recognised neurons and joins into IR layers:
// compute ops become layers (de-duplicated across unrolled time steps),
// views and constant plumbing disappear, BatchNorm / bias / scale /
// activations fold into their producers, neurons attach to the layer that
// produces their input current (an `add` layer when several currents meet).
#pragma once

#include <vector>

#include "absl/status/statusor.h"
#include "graph.h"
#include "neurons.h"
#include "snnplan/ir.h"

namespace snnplan::importer::internal {

struct BuiltLayer {
  ir::Layer layer;          // dims.T, blocks and precisions set later
  int neuron = -1;          // NeuronGroup attached to it
  int copies = 0;           // graph nodes merged into this layer
  bool spike_like = false;  // output values are spikes
  bool post_op = false;     // an activation or scale is fused into it
  bool bn_folded = false;
};

struct BuiltGraph {
  std::vector<BuiltLayer> layers;
};

// `timesteps` (T of the graph, or 0 when not known) tells a mean over the
// time axis from other reductions.
absl::StatusOr<BuiltGraph> BuildLayers(const Scope& main, const ElementwiseAnalysis& ew,
                                       int64_t timesteps);

// The IR neuron of a group attached to `layer` (parameters laid out over
// the layer's output neurons).
absl::StatusOr<ir::Neuron> ToIrNeuron(const NeuronGroup& g, const ir::Layer& layer);

}  // namespace snnplan::importer::internal
