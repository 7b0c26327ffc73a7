// Spiking-neuron recognition by what the graph computes.
//
// 1. Regions: elementwise nodes are grouped into connected components over
//    their continuous (non-spike) values; values derived only from
//    threshold tests are "discrete" (spikes) and do not connect components,
//    so a neuron's reset logic joins its neuron while a SEW join or a gain
//    on spikes stays apart.
// 2. Time: a component with n output fire tests is n unrolled steps. Each
//    input current belongs to the first step whose spike it reaches; the
//    state carried from step t to t+1 is the set of values of steps <= t that
//    later steps read, pushed back through one-input ops to the values that
//    carry it (the membrane, not beta * membrane). Single-step exports carry
//    state through graph inputs/outputs, Loops through carried values.
// 3. Canonical form: each step's outputs are written as polynomials in the
//    incoming states, the currents and Heaviside gates (poly.h).
// 4. Self-check: the model is accepted only after the ONNX subgraph and the
//    model's equations give the same spikes and states on random states and
//    currents, and on a roll-out of all steps from the initial state.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "graph.h"
#include "poly.h"
#include "snnplan/ir.h"

namespace snnplan::importer::internal {

// The verified update of one neuron layer, coefficients as tensors that
// broadcast to the membrane tensor's `shape` (variables: states, then
// currents).
struct NeuronModel {
  int states = 0;
  int currents = 0;
  std::vector<Atom> gates;    // dependency order; gates of a gate's arg come first
  int fire = -1;              // the spike gate
  std::vector<Poly> next;     // per state
  Poly output;                // the emitted value: gain * spike gate
  std::vector<double> initial;
  Shape shape;                // membrane tensor shape of one step
  std::vector<int> origin;    // per state: its position among the reference step's incoming states
};

// Readable facts derived from the model (docs/ir.md).
struct NeuronFacts {
  std::string kind;  // lif, if, synaptic, alpha, custom
  ir::ResetMode reset = ir::ResetMode::kNone;
  ir::ResetTiming timing = ir::ResetTiming::kNone;
  double reset_value = 0.0;
  bool inclusive = false;
  Tensor decay, threshold, input_gain, syn_decay, spike_gain, reset_amount;
};

// One spiking layer (all its time steps) found in the main graph.
// A value holding every time step, stacked on a leading axis.
inline constexpr int kAllSteps = -2;

struct NeuronGroup {
  int64_t steps = 1;          // unrolled steps in the graph (1: step, Loop, stateless)
  int loop_node = -1;         // main-graph Loop node that is the neuron, or -1
  int64_t loop_trips = 0;     // its trip count
  // Per step, per current slot: main-graph value ids of the input currents
  // (for a Loop: the time-stacked tensor its body slices).
  std::vector<std::vector<int>> currents;
  std::vector<std::vector<int>> spikes;  // per step: main-graph values carrying its spikes
  std::vector<int> nodes;                // main-graph nodes it covers
  std::vector<int> state_inputs;         // graph inputs carrying its states (step forms)
  std::vector<int> state_outputs;        // graph outputs carrying its next states
  // Values (main graph) known to hold a model state: after `step` (-1:
  // before step 0), e.g. snnTorch's recorded membranes, a Loop's final state.
  struct StateValue {
    int value = -1;
    int state = -1;
    int step = -1;  // kAllSteps: the state after every step, stacked (a Loop's v_seq)
  };
  std::vector<StateValue> state_values;
  NeuronModel model;
  NeuronFacts facts;
  std::string anchor;                    // the fire node, for messages
};

// Elementwise ops combining spikes of several layers (SEW joins), or
// scaling one layer's spikes.
struct JoinGroup {
  enum class Kind { kAdd, kOr, kAnd, kIAnd, kGain };
  Kind kind = Kind::kAdd;
  std::vector<int> nodes;   // main-graph nodes
  std::vector<int> inputs;  // spike values it combines (IAND: the negated one first)
  int output = -1;          // the value it produces
  double gain = 1.0;        // kGain
};

struct ElementwiseAnalysis {
  std::vector<NeuronGroup> neurons;
  std::vector<JoinGroup> joins;
  std::vector<int> node_neuron;  // per main node: neuron group, or -1
  std::vector<int> node_join;    // per main node: join group, or -1
  std::vector<char> discrete;    // per main value (resolved): carries spikes
};

absl::StatusOr<ElementwiseAnalysis> AnalyzeElementwise(const Scope& main);

// The facts of a model (exposed for tests).
NeuronFacts DescribeModel(const NeuronModel& m);

}  // namespace snnplan::importer::internal
