// The per-element arithmetic shared by the executor (`snnplan run`) and the
// manifest replay (`snnplan run --manifest`): a layer's post-ops, one
// neuron's update for one step, and a graph output assembled from a layer's
// values. One definition, so both paths compute the same bits.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "snnplan/ir.h"
#include "snnplan/runtime.h"

namespace snnplan::runtime::internal {

// A parameter value for element `e` of a layer whose per-sample output has
// `elements` values in `channels` channels.
struct ParamView {
  const double* values = nullptr;
  int mode = 0;       // 0 scalar, 1 per channel, 2 per element
  int64_t block = 1;  // elements per channel
  double At(int64_t e) const {
    return mode == 0 ? values[0] : mode == 1 ? values[e / block] : values[e];
  }
};

ParamView View(const ir::NeuronParam& p, int64_t channels, int64_t elements);

int64_t Elements(const ir::Layer& l);  // per sample and step (product of out_shape)
int64_t Channels(const ir::Layer& l);

// The neuron update compiled for fast element-wise evaluation.
struct CompiledTerm {
  int var;
  uint32_t gates;
  ParamView coef;
};
struct CompiledNeuron {
  int states = 0, currents = 0;
  std::vector<std::vector<CompiledTerm>> gates;  // args
  std::vector<char> inclusive;
  std::vector<std::vector<CompiledTerm>> next;
  std::vector<CompiledTerm> output;
  bool reset_each_step = false;  // a stateless neuron: every step starts from `initial`
  std::vector<double> initial;   // dynamics.initial
};

// The layer's neuron (l.spiking()), per-element parameters indexed by the
// element's position in the layer's per-sample output (channel, row, col).
CompiledNeuron CompileNeuron(const ir::Layer& l);

// One step of one neuron, element `el` of the per-sample output: reads the
// neuron's states `st` (c.states values, updated in place to the next step's)
// and its input currents (c.currents values); returns the emitted value.
// `vars` and `next` are scratch of c.states + c.currents and c.states values.
// `rec` (nullable) receives the next states as float32.
float NeuronStep(const CompiledNeuron& c, int64_t el, double* st, const float* currents,
                 double* vars, double* next, float* rec);

// An elementwise join (add, sew_add, sew_or, sew_and, sew_iand) of the
// inputs' values: out[i] for i < n.
void Join(ir::OpKind op, const std::vector<const float*>& in, int64_t n, float* out);

// The kernel geometry of a conv (pool) layer over `frames` input frames.
ConvGeometry ConvGeometryOf(const ir::Layer& l, int64_t frames);
PoolGeometry PoolGeometryOf(const ir::Layer& l, int64_t frames);

// The layer's post-ops on `frames` frames of Elements(l) values, in place.
void PostOps(const ir::Layer& l, int64_t frames, float* y);

// Graph output `b` from the values it reads: `data` is [steps][batch][Elements]
// of its layer (its output, or its current before the neuron); for a kState
// binding [steps][batch * Elements][states]. Shapes as `snnplan run` writes
// them (docs/run.md, "Outputs").
absl::StatusOr<Array> OutputArray(const ir::Workload& w, const ir::Binding& b,
                                  const std::vector<float>& data, int64_t steps);

}  // namespace snnplan::runtime::internal
