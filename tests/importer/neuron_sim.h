// A direct evaluation of ir::NeuronDynamics for one neuron, for tests that
// compare two recognised neurons by what they compute (docs/ir.md, "Neuron
// model").
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "snnplan/ir.h"

namespace snnplan::testing {

// Value of a parameter for neuron `i` of a layer with `channels` channels
// and `neurons` neurons.
inline double ParamAt(const ir::NeuronParam& p, int64_t i, int64_t channels, int64_t neurons) {
  switch (p.layout) {
    case ir::ParamLayout::kScalar:
      return p.value;
    case ir::ParamLayout::kPerChannel:
      return p.values[i / (neurons / channels)];
    case ir::ParamLayout::kPerNeuron:
      return p.values[i];
  }
  return p.value;
}

class NeuronSim {
 public:
  NeuronSim(const ir::Neuron& n, int64_t channels = 1, int64_t neurons = 1, int64_t index = 0)
      : d_(n.dynamics), k_(channels), n_(neurons), i_(index), state_(d_.initial) {}

  // One step with the given input currents; returns the emitted value.
  double Step(const std::vector<double>& currents) {
    std::vector<double> vars = state_;
    vars.insert(vars.end(), currents.begin(), currents.end());
    std::vector<double> gates(d_.gates.size(), 0.0);
    for (size_t g = 0; g < d_.gates.size(); ++g) {
      double arg = Sum(d_.gates[g].arg, vars, gates);
      gates[g] = (d_.gates[g].inclusive ? arg >= 0 : arg > 0) ? 1.0 : 0.0;
    }
    std::vector<double> next;
    for (const auto& terms : d_.next) next.push_back(Sum(terms, vars, gates));
    double out = Sum(d_.output, vars, gates);
    state_ = next;
    return out;
  }
  const std::vector<double>& state() const { return state_; }
  void set_state(std::vector<double> s) { state_ = std::move(s); }

 private:
  double Sum(const std::vector<ir::NeuronTerm>& terms, const std::vector<double>& vars,
             const std::vector<double>& gates) const {
    double s = 0.0;
    for (const ir::NeuronTerm& t : terms) {
      double v = ParamAt(t.coef, i_, k_, n_);
      if (t.var >= 0) v *= vars[t.var];
      for (size_t g = 0; g < gates.size(); ++g)
        if (t.gates & (uint32_t{1} << g)) v *= gates[g];
      s += v;
    }
    return s;
  }

  const ir::NeuronDynamics& d_;
  int64_t k_, n_, i_;
  std::vector<double> state_;
};

// Runs both neurons on the same random currents (and, for stateful ones,
// from the same random states) and returns the largest difference of their
// outputs and states; 0 for equal behaviour.
inline double BehaviourDifference(const ir::Neuron& a, const ir::Neuron& b, int steps = 400,
                                  double scale = 1.0) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u(-1.0 * scale, 2.5 * scale);
  NeuronSim x(a), y(b);
  double diff = 0.0;
  if (a.dynamics.states != b.dynamics.states || a.dynamics.currents != b.dynamics.currents) return 1e300;
  for (int t = 0; t < steps; ++t) {
    if (t % 7 == 0 && a.dynamics.states > 0) {  // restart from a random state now and then
      std::vector<double> s(a.dynamics.states);
      for (double& v : s) v = u(rng);
      x.set_state(s);
      y.set_state(s);
    }
    std::vector<double> cur(a.dynamics.currents);
    for (double& c : cur) c = u(rng);
    diff = std::max(diff, std::fabs(x.Step(cur) - y.Step(cur)));
    for (size_t i = 0; i < x.state().size(); ++i) diff = std::max(diff, std::fabs(x.state()[i] - y.state()[i]));
  }
  return diff;
}

}  // namespace snnplan::testing
