// Turns the main graph plus its recognised neurons and joins into IR layers:
// compute ops become layers (de-duplicated across unrolled time steps),
// views and constant plumbing disappear, BatchNorm / bias / scale /
// activations fold into their producers, neurons attach to the layer that
// produces their input current (an `add` layer when several currents meet).
#pragma once

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"

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
  // Computed once, before the graph repeats its output over time (a
  // SpikingJelly static conv: conv(x).unsqueeze(0).repeat(T, ...)).
  bool once = false;
};

// What a graph output is in IR terms (shapes are checked in Finalize).
struct OutputSource {
  int layer = -1;   // a layer's output, or the layer whose neuron state it is
  int state = -1;   // a neuron state (dynamics variable)
  bool current = false;  // the layer's value before its neuron
  int step = -1;    // the one step it holds, -1 unknown, kAllSteps when stacked
  std::string why;  // what it is when nothing in the IR computes it
};

struct BuiltGraph {
  std::vector<BuiltLayer> layers;
  std::vector<OutputSource> outputs;  // per graph output
  // Graph inputs that hold a neuron's initial state: value -> (layer, state).
  absl::flat_hash_map<int, std::pair<int, int>> state_inputs;
  std::vector<int> network_inputs;  // graph inputs some layer reads
  // Network inputs without a time axis that the graph repeats over time
  // (every step reads the same values).
  std::vector<int> static_inputs;
  // Graph inputs that hold a layer's output of the step before the first
  // (single-step exports of recurrent neurons): value -> layer.
  absl::flat_hash_map<int, int> previous_inputs;
};

// `timesteps` (T of the graph, or 0 when not known) tells a mean over the
// time axis from other reductions; `load_parameters` reads the values of
// weights, biases and folded ops into Layer::params.
absl::StatusOr<BuiltGraph> BuildLayers(const Scope& main, const ElementwiseAnalysis& ew,
                                       int64_t timesteps, bool load_parameters);

// A constant that broadcasts to a value of shape `value_shape` (leading
// batch/time axes, then the layer's output elements, possibly flattened) as
// a parameter of the layer's `out` elements: scalar, per channel or per
// element. Non-finite values are refused.
absl::StatusOr<ir::NeuronParam> LayoutParam(const Tensor& t, const Shape& value_shape, const Shape& out);

// Channels and spatial extent (K, OY, OX; C = 1, input = output extent) of
// a per-sample feature shape [C, (H,) W] (also used by the NIR importer).
void FeatureDims(const Shape& s, ir::Layer* l);

// The IR neuron of a group attached to `layer` (parameters laid out over
// the layer's output neurons).
absl::StatusOr<ir::Neuron> ToIrNeuron(const NeuronGroup& g, const ir::Layer& layer);

}  // namespace snnplan::importer::internal
