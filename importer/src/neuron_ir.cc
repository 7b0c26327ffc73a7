// NeuronGroup -> ir::Neuron: the verified model's coefficient tensors laid
// out over the layer's output neurons, plus the readable facts.
#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "layer_builder.h"

namespace snnplan::importer::internal {
namespace {

// Per-neuron values above this count are not materialized.
constexpr int64_t kMaxParamValues = int64_t{1} << 24;

absl::StatusOr<ir::NeuronParam> Layout(const Tensor& t, const Shape& membrane, const Shape& out) {
  if (std::optional<double> u = t.Uniform()) return ir::NeuronParam::Scalar(*u);
  if (!t.materialized()) return absl::InvalidArgumentError("a neuron parameter is too large to read");
  const int64_t neurons = Numel(out);
  // The trailing axes of the membrane that hold one sample's neurons.
  int q = -1;
  for (int i = static_cast<int>(membrane.size()); i >= 0; --i)
    if (Numel(Shape(membrane.begin() + i, membrane.end())) == neurons) q = i;
  size_t shift = membrane.size() - t.shape.size();
  for (int i = static_cast<int>(membrane.size()) - 1; i >= 0 && q >= 0; --i)
    if (i < q && static_cast<size_t>(i) >= shift && t.shape[i - shift] != 1) q = -1;
  if (q < 0 || t.shape.size() > membrane.size())
    return absl::InvalidArgumentError(
        "a neuron parameter varies along the batch or time axis, or does not map onto the layer's neurons");
  if (neurons > kMaxParamValues) return absl::InvalidArgumentError("too many per-neuron parameter values");
  ir::NeuronParam p;
  Shape sample(membrane.begin() + q, membrane.end());
  std::vector<int64_t> idx, full(membrane.size(), 0);
  p.values.resize(static_cast<size_t>(neurons));
  for (int64_t f = 0; f < neurons; ++f) {
    Unflatten(f, sample, &idx);
    std::copy(idx.begin(), idx.end(), full.begin() + q);
    p.values[f] = t.at(BroadcastOffset(t.shape, membrane, full));
  }
  p.value = p.values[0];
  p.per_neuron = true;
  p.layout = ir::ParamLayout::kPerNeuron;
  // One value per output channel (channels lead the layer's output order).
  int64_t k = out.empty() ? 1 : out[0];
  if (k > 1 && neurons % k == 0) {
    int64_t block = neurons / k;
    bool per_channel = true;
    for (int64_t f = 0; f < neurons && per_channel; ++f) per_channel = p.values[f] == p.values[f - f % block];
    if (per_channel) {
      std::vector<double> v;
      for (int64_t c = 0; c < k; ++c) v.push_back(p.values[c * block]);
      p.values = std::move(v);
      p.layout = ir::ParamLayout::kPerChannel;
    }
  }
  return p;
}

}  // namespace

absl::StatusOr<ir::NeuronParam> LayoutParam(const Tensor& t, const Shape& value_shape, const Shape& out) {
  absl::StatusOr<ir::NeuronParam> p = Layout(t, value_shape, out);
  if (p.ok())
    for (double v : p->values)
      if (!std::isfinite(v))
        return absl::InvalidArgumentError(absl::StrCat("a parameter is ", v, " (not a finite number)"));
  return p;
}

namespace {

absl::StatusOr<std::vector<ir::NeuronTerm>> ToTerms(const Poly& poly, const Shape& membrane, const Shape& out) {
  std::vector<ir::NeuronTerm> terms;
  for (const Term& t : poly.terms) {
    absl::StatusOr<ir::NeuronParam> c = LayoutParam(t.coef, membrane, out);
    if (!c.ok()) return absl::InvalidArgumentError(absl::StrCat("its update: ", c.status().message()));
    terms.push_back({t.var, t.gates, std::move(*c)});
  }
  return terms;
}

absl::Status Prefixed(const NeuronGroup& g, const absl::Status& s) {
  return absl::InvalidArgumentError(absl::StrCat("neuron at ", g.anchor, ": ", s.message()));
}

}  // namespace

absl::StatusOr<ir::Neuron> ToIrNeuron(const NeuronGroup& g, const ir::Layer& layer) {
  const NeuronModel& m = g.model;
  const NeuronFacts& f = g.facts;
  const Shape& mem = m.shape;
  const Shape& out = layer.out_shape;
  ir::Neuron n;
  n.mode = m.states > 0 ? ir::NeuronMode::kStateful : ir::NeuronMode::kStateless;
  n.kind = f.kind;
  n.states_per_neuron = m.states;
  n.reset = f.reset;
  n.reset_timing = f.timing;
  n.reset_value = f.reset_value;
  n.fire_inclusive = f.inclusive;
  struct Named {
    const char* name;
    const Tensor* tensor;
    ir::NeuronParam* param;
  };
  for (Named x : {Named{"decay", &f.decay, &n.decay}, {"threshold", &f.threshold, &n.threshold},
                  {"input gain", &f.input_gain, &n.input_gain}, {"synaptic decay", &f.syn_decay, &n.syn_decay},
                  {"spike gain", &f.spike_gain, &n.spike_gain}, {"reset amount", &f.reset_amount, &n.reset_amount}}) {
    absl::StatusOr<ir::NeuronParam> p = LayoutParam(*x.tensor, mem, out);
    if (!p.ok())
      return absl::InvalidArgumentError(absl::StrCat("neuron at ", g.anchor, ": ", x.name, ": ", p.status().message()));
    *x.param = std::move(*p);
  }
  if (!std::isfinite(n.reset_value))
    return absl::InvalidArgumentError(absl::StrCat("neuron at ", g.anchor, ": the reset value is not finite"));
  n.decay_input = !(n.input_gain.layout == ir::ParamLayout::kScalar && n.input_gain.value == 1.0);
  ir::NeuronDynamics& d = n.dynamics;
  d.states = m.states;
  d.currents = m.currents;
  d.fire = m.fire;
  d.initial = m.initial;
  for (const Atom& a : m.gates) {
    absl::StatusOr<std::vector<ir::NeuronTerm>> arg = ToTerms(a.arg, mem, out);
    if (!arg.ok()) return Prefixed(g, arg.status());
    d.gates.push_back({a.inclusive, std::move(*arg)});
  }
  for (const Poly& p : m.next) {
    absl::StatusOr<std::vector<ir::NeuronTerm>> t = ToTerms(p, mem, out);
    if (!t.ok()) return Prefixed(g, t.status());
    d.next.push_back(std::move(*t));
  }
  absl::StatusOr<std::vector<ir::NeuronTerm>> o = ToTerms(m.output, mem, out);
  if (!o.ok()) return Prefixed(g, o.status());
  d.output = std::move(*o);
  return n;
}

}  // namespace snnplan::importer::internal
