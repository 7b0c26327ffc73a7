// Spiking-neuron recognition as rule objects, in the style of ONNX Runtime
// graph optimizers: each rule names the op types it targets (the fire op),
// a cheap condition on the pre-computed analysis, and an apply step that
// builds a NeuronInstance. One rule per exporter idiom.
//
// Every rule is anchored on a fire op: Greater/GreaterOrEqual whose BOOL
// output feeds Cast(to=FLOAT). The analysis around it is generic: the
// compared membrane, the threshold, a post-fire reset (SpikingJelly), and the
// charge equation written as a linear form over leaf tensors, from which the
// state source (graph input, previous unrolled step, loop-carried value or a
// constant), the decay and a delayed reset (snnTorch) are read. Constants
// are resolved through initializers, Constant nodes and Identity aliases;
// names are never interpreted.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "onnx_graph.h"
#include "snnplan/ir.h"

namespace snnplan::importer::internal {

struct Coef {
  double value = 0.0;
  bool per_neuron = false;  // the factor was a tensor with > 1 element
};

// sum(terms[leaf] * leaf) + constant, over the arithmetic nodes in `nodes`.
struct LinearForm {
  std::map<std::string, Coef> terms;
  Coef constant;
  std::set<const onnx::NodeProto*> nodes;
};

// Expands `tensor` through Add/Sub/Neg/Identity and Mul/Div by constants;
// anything else (and every name in `stops`) is a leaf.
LinearForm Linearize(const Scope& scope, const std::string& tensor,
                     const std::set<std::string>& stops);

enum class StateSource { kConstant, kGraphInput, kPreviousStep, kLoopCarried };

// Everything the rules need to know about one fire op.
struct FireAnalysis {
  const Scope* scope = nullptr;
  const onnx::NodeProto* cmp = nullptr;      // Greater / GreaterOrEqual
  const onnx::NodeProto* cast = nullptr;     // Cast(to=FLOAT)
  const onnx::NodeProto* thr_sub = nullptr;  // Sub(m, thr) of Greater(., 0)
  const onnx::NodeProto* gain = nullptr;     // Mul(spike, scalar) after Cast
  bool sub_zero_form = false;                // snnTorch: Greater(m - thr, 0)
  std::string spike;                         // Cast output
  std::string spike_out;                     // gain output, else spike
  std::string membrane;                      // compared value
  ir::NeuronParam threshold;
  // Reset applied after firing (SpikingJelly): v_next from v and the spike.
  ir::ResetMode post_reset = ir::ResetMode::kNone;
  double post_reset_value = 0.0;
  std::string v_next;                        // == membrane without post reset
  std::set<const onnx::NodeProto*> reset_nodes;
  // Charge: membrane as a linear form, leaves classified.
  LinearForm charge;
  std::vector<std::string> state_leaves;
  std::vector<StateSource> state_kinds;
  std::vector<std::string> currents;
  int reset_fire = -1;        // index of the delayed-reset fire op, if any
  ir::ResetMode delayed_reset = ir::ResetMode::kNone;
  Coef delayed_amount;        // subtract: amount; zero: (unused)
  Coef gated_decay;           // zero reset: factor of (1 - r) * mem
  std::set<const onnx::NodeProto*> gated_nodes;
  bool is_reset_spike = false;  // consumed by another fire's charge
};

// One recognised neuron instance (one layer, or one time step of an
// unrolled layer).
struct NeuronInstance {
  std::string rule;
  int fire = -1;
  std::string current;            // input current tensor in the main graph
  ir::Neuron neuron;              // parameters this instance shows
  StateSource state = StateSource::kConstant;
  std::vector<std::string> state_in;   // membrane inputs (graph inputs / prev)
  std::string state_out;               // membrane after this step
  bool reset_known = false;       // false for a zero-state first step
  std::vector<std::string> spikes;     // spike outputs in the main graph
  std::set<const onnx::NodeProto*> nodes;  // main-graph nodes it covers
  const onnx::NodeProto* loop = nullptr;
  int64_t steps = 1;              // Loop trip count
};

class NeuronRule {
 public:
  virtual ~NeuronRule() = default;
  virtual std::string_view Name() const = 0;
  // Fire op types the rule is anchored on.
  virtual std::vector<std::string_view> TargetOps() const = 0;
  // Cheap structural guards on the analysis.
  virtual bool Condition(const std::vector<FireAnalysis>& fires, int i) const = 0;
  virtual absl::StatusOr<NeuronInstance> Apply(
      const std::vector<FireAnalysis>& fires, int i) const = 0;
};

// The rules, in the order they are tried.
const std::vector<std::unique_ptr<NeuronRule>>& NeuronRules();
// The rule with this name (tests), or nullptr.
const NeuronRule* FindRule(std::string_view name);

// Finds and analyses every fire op of `main` and of its Loop bodies.
std::vector<FireAnalysis> AnalyzeFires(const Scope& main);

struct Recognition {
  std::vector<NeuronInstance> instances;
  std::set<const onnx::NodeProto*> covered;   // main-graph nodes of neurons
};
// Runs the rules over every fire op; an unmatched fire op is an error
// naming its nodes.
absl::StatusOr<Recognition> RecognizeNeurons(const Scope& main);

}  // namespace snnplan::importer::internal
