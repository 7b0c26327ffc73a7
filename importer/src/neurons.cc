#include "neurons.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <numeric>
#include <set>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "eval.h"

namespace snnplan::importer::internal {
namespace {

using TP = onnx::TensorProto;
constexpr int kMixed = -2;
constexpr int kInf = std::numeric_limits<int>::max();

struct UnionFind {
  std::vector<int> parent;
  explicit UnionFind(int n) : parent(n) { std::iota(parent.begin(), parent.end(), 0); }
  int Find(int x) {
    while (parent[x] != x) x = parent[x] = parent[parent[x]];
    return x;
  }
  void Union(int a, int b) {
    a = Find(a);
    b = Find(b);
    if (a != b) parent[std::max(a, b)] = std::min(a, b);
  }
};

bool IsAliasNode(const Scope& s, int n) {
  const std::vector<int>& out = s.outputs(n);
  return !out.empty() && out[0] >= 0 && s.value(out[0]).alias >= 0;
}

bool IsThreshold(const Scope& s, int n) {
  const OpInfo* info = s.info(n);
  return info && (info->role == OpRole::kCompare || s.node(n).op_type() == "Sign");
}

std::vector<int> DynamicInputs(const Scope& s, int n) {
  std::vector<int> out;
  for (int id : s.inputs(n))
    if (id >= 0 && !s.IsConst(id)) {
      int r = s.Resolve(id);
      if (std::find(out.begin(), out.end(), r) == out.end()) out.push_back(r);
    }
  return out;
}

// Elementwise regions of one scope (see neurons.h).
struct Regions {
  std::vector<char> elem;       // per node: a non-alias elementwise node with a dynamic output
  std::vector<char> discrete;   // per value: spike-valued (resolved ids)
  // per node: a threshold test of a continuous value (a fire). A comparison
  // of spike values only (spk > 0) is logic on spikes, evaluated exactly.
  std::vector<char> fire;
  std::vector<int> comp;        // per node: component, or -1
  std::vector<std::vector<int>> comps;  // nodes of each component, ascending
  std::vector<char> has_fire;
  std::vector<std::vector<int>> joins;  // discrete nodes combining several sources
  std::vector<std::vector<int>> rcons;  // per value (resolved): consumer nodes
  std::vector<char> routput;            // per value (resolved): a graph output
};

template <typename DiscreteOnly>
void ComputeSources(const Scope& s, const Regions& r, UnionFind& uf, const DiscreteOnly& discrete_only,
                    std::vector<int>* src) {
  for (int n = 0; n < s.num_nodes(); ++n) {
    if (!discrete_only(n)) continue;
    int acc = -1;
    for (int d : DynamicInputs(s, n)) {
      int p = s.value(d).producer;
      int from = p < 0 || !r.elem[p] ? kMixed : r.fire[p] ? uf.Find(p) : (*src)[p];
      acc = acc == -1 ? from : acc == from ? acc : kMixed;
    }
    (*src)[n] = acc;
  }
}

Regions FindRegions(const Scope& s, const absl::flat_hash_set<int>& spike_values) {
  const int nodes = s.num_nodes(), values = s.num_values();
  Regions r;
  r.elem.assign(nodes, 0);
  r.discrete.assign(values, 0);
  r.fire.assign(nodes, 0);
  r.comp.assign(nodes, -1);
  r.rcons.resize(values);
  r.routput.assign(values, 0);
  for (int v : spike_values) r.discrete[s.Resolve(v)] = 1;
  for (int n = 0; n < nodes; ++n) {
    const OpInfo* info = s.info(n);
    const std::vector<int>& outs = s.outputs(n);
    if (!info || outs.empty() || outs[0] < 0) continue;
    int out = outs[0];
    bool dyn_out = !s.IsConst(out) && s.value(out).alias < 0;
    std::vector<int> dyn = DynamicInputs(s, n);
    if ((info->role == OpRole::kElementwise || info->role == OpRole::kCompare) && dyn_out) {
      r.elem[n] = 1;
      bool all_discrete = !dyn.empty();
      for (int d : dyn) all_discrete &= r.discrete[d] != 0;
      r.fire[n] = IsThreshold(s, n) && !all_discrete;
      r.discrete[out] = IsThreshold(s, n) || info->logical || all_discrete;
    } else if (dyn_out && !dyn.empty()) {
      // Views, time slicing, re-stacking and max pooling keep spikes spikes.
      bool keeps = info->layer == LayerRule::kView || info->layer == LayerRule::kConcat ||
                   s.node(n).op_type() == "MaxPool";
      int data = s.inputs(n)[0] >= 0 ? s.Resolve(s.inputs(n)[0]) : -1;
      bool d = keeps && data >= 0 && r.discrete[data];
      if (info->layer == LayerRule::kConcat)
        for (int x : dyn) d &= r.discrete[x] != 0;
      for (int o : outs)
        if (o >= 0 && !s.IsConst(o)) r.discrete[o] = d;
    }
  }
  // Consumers that read values: not aliases, not shape queries, not nodes
  // whose result folded to a constant (x * 0).
  auto reads_values = [&](int c, int rv) {
    const std::vector<int>& outs = s.outputs(c);
    if (IsAliasNode(s, c) && s.Resolve(outs[0]) == rv) return false;
    const std::string& op = s.node(c).op_type();
    if (op == "Shape" || op == "Size") return false;
    bool all_const = !outs.empty();
    for (int o : outs) all_const &= o < 0 || s.IsConst(o);
    return !all_const;
  };
  for (int v = 0; v < values; ++v) {
    if (s.IsConst(v)) continue;
    int rv = s.Resolve(v);
    for (int c : s.value(v).consumers)
      if (reads_values(c, rv)) r.rcons[rv].push_back(c);
  }
  for (auto& c : r.rcons) {
    std::sort(c.begin(), c.end());
    c.erase(std::unique(c.begin(), c.end()), c.end());
  }
  for (int o : s.graph_outputs()) r.routput[s.Resolve(o)] = 1;

  // Continuous components.
  UnionFind uf(nodes);
  auto discrete_only = [&](int n) {
    return r.elem[n] && r.discrete[s.outputs(n)[0]] && !r.fire[n];
  };
  // Nodes reading one graph input (a state of a single-step export, a
  // loop-carried value) belong together, like nodes reading one another.
  absl::flat_hash_map<int, int> first_reader;
  for (int n = 0; n < nodes; ++n) {
    if (!r.elem[n] || discrete_only(n)) continue;
    for (int d : DynamicInputs(s, n)) {
      int p = s.value(d).producer;
      if (!r.discrete[d] && p >= 0 && r.elem[p]) uf.Union(n, p);
      if (p < 0 && s.value(d).graph_input && !r.discrete[d]) {
        auto [it, fresh] = first_reader.try_emplace(d, n);
        if (!fresh) uf.Union(n, it->second);
      }
    }
  }
  // Discrete nodes: the component whose threshold tests they derive from.
  // Spikes of one component that its own arithmetic reads (reset logic)
  // tie that arithmetic to it.
  std::vector<int> src(nodes, -1);
  for (bool changed = true; changed;) {
    changed = false;
    ComputeSources(s, r, uf, discrete_only, &src);
    absl::flat_hash_set<int> firing;  // roots of components with a threshold test
    for (int n = 0; n < nodes; ++n)
      if (r.elem[n] && r.fire[n]) firing.insert(uf.Find(n));
    // A layer output read by the arithmetic of two firing components
    // (an unrolled membrane whose first step is just the input current).
    for (int v = 0; v < values; ++v) {
      int p = s.value(v).producer;
      if (r.discrete[v] || (p >= 0 && r.elem[p]) || s.IsConst(v) || s.Resolve(v) != v) continue;
      int first = -1;
      for (int c : r.rcons[v]) {
        if (c >= nodes || !r.elem[c] || discrete_only(c) || !firing.contains(uf.Find(c))) continue;
        if (first < 0) {
          first = c;
        } else if (uf.Find(c) != uf.Find(first)) {
          uf.Union(c, first);
          changed = true;
        }
      }
    }
    for (int n = 0; n < nodes; ++n) {
      if (!discrete_only(n) || src[n] < 0) continue;
      // Spikes that also leave (a graph output, a layer's input) belong to
      // a neuron of their own; only internal reset logic ties two together.
      int v = s.outputs(n)[0];
      bool internal = !r.routput[v];
      for (int c : r.rcons[v]) internal &= c < nodes && r.elem[c];
      if (!internal) continue;
      for (int c : r.rcons[s.outputs(n)[0]])
        if (c < nodes && r.elem[c] && !discrete_only(c) && firing.contains(uf.Find(c)) &&
            uf.Find(c) != uf.Find(src[n])) {
          uf.Union(c, src[n]);
          changed = true;
        }
    }
  }
  // A single-source discrete node belongs to its neuron (reset logic, the
  // spike on its way out, a gain) unless everything it feeds combines the
  // spikes of several neurons (the NOT half of an IAND join).
  std::vector<char> join_side(nodes, 0);
  for (int n = nodes - 1; n >= 0; --n) {
    if (!discrete_only(n)) continue;
    const std::vector<int>& cons = r.rcons[s.outputs(n)[0]];
    bool all = !cons.empty() && !r.routput[s.outputs(n)[0]];
    for (int c : cons) all &= c < nodes && discrete_only(c) && (src[c] == kMixed || join_side[c]);
    join_side[n] = all;
  }
  std::vector<int> root(nodes, -1);
  UnionFind ju(nodes);
  std::vector<char> in_join(nodes, 0);
  for (int n = 0; n < nodes; ++n) {
    if (!r.elem[n]) continue;
    if (!discrete_only(n)) {
      root[n] = uf.Find(n);
      continue;
    }
    if (src[n] >= 0 && !join_side[n]) {
      root[n] = src[n];
    } else {
      in_join[n] = 1;
      for (int d : DynamicInputs(s, n)) {
        int p = s.value(d).producer;
        if (p >= 0 && in_join[p]) ju.Union(n, p);
      }
    }
  }
  absl::flat_hash_map<int, int> dense;
  for (int n = 0; n < nodes; ++n) {
    if (root[n] < 0) continue;
    auto [it, fresh] = dense.try_emplace(root[n], static_cast<int>(r.comps.size()));
    if (fresh) {
      r.comps.emplace_back();
      r.has_fire.push_back(0);
    }
    r.comp[n] = it->second;
    r.comps[it->second].push_back(n);
    if (r.fire[n]) r.has_fire[it->second] = 1;
  }
  absl::flat_hash_map<int, int> jdense;
  for (int n = 0; n < nodes; ++n) {
    if (!in_join[n]) continue;
    auto [it, fresh] = jdense.try_emplace(ju.Find(n), static_cast<int>(r.joins.size()));
    if (fresh) r.joins.emplace_back();
    r.joins[it->second].push_back(n);
  }
  return r;
}


// ---- one neuron component ----------------------------------------------------

// A state value entering the component from outside (graph input of a
// single-step export, loop-carried body input) and where its next value
// leaves (or -1 when it does not).
struct Source {
  int value = -1;
  int next = -1;
};

struct Cell {
  int t = 0;
  std::vector<int> states_in;   // state variables (may be empty: zero state folded in)
  std::vector<int> currents;    // current variables
  std::vector<int> states_out;  // next states (empty: not visible)
  std::vector<int> spikes;      // values carrying this step's spike
  std::vector<int> nodes;       // the nodes computing the outputs, ascending
};

// Gathers coefficient `c` (broadcast to `shape`) at the evaluator's samples.
double CoefSample(const Tensor& c, const SampleEvaluator& ev, int i) {
  return c.at(ev.OffsetIn(c.shape, i));
}

// Per-sample values of a model: gates, next states, output.
struct ModelValues {
  std::vector<std::vector<double>> gates, gate_scale, next;
  std::vector<double> output;
};

ModelValues EvalModel(const NeuronModel& m, const std::vector<std::vector<double>>& vars,
                      const SampleEvaluator& ev) {
  const int n = ev.samples();
  ModelValues out;
  CoefAt at = [&](const Tensor& c, int i) { return CoefSample(c, ev, i); };
  out.gates.assign(m.gates.size(), std::vector<double>(n, 0.0));
  out.gate_scale.assign(m.gates.size(), std::vector<double>(n, 0.0));
  for (size_t g = 0; g < m.gates.size(); ++g) {
    std::vector<double> arg;
    EvaluatePoly(m.gates[g].arg, vars, out.gates, at, n, &arg);
    for (int i = 0; i < n; ++i) {
      out.gates[g][i] = (m.gates[g].inclusive ? arg[i] >= 0 : arg[i] > 0) ? 1.0 : 0.0;
      out.gate_scale[g][i] = arg[i];
    }
  }
  out.next.resize(m.next.size());
  for (size_t k = 0; k < m.next.size(); ++k) EvaluatePoly(m.next[k], vars, out.gates, at, n, &out.next[k]);
  EvaluatePoly(m.output, vars, out.gates, at, n, &out.output);
  return out;
}

// True when polynomials `a` and `b` (each with its own gates) compute the
// same function of model `m`'s variables: compared by value on random
// variables, since the two number their gates differently.
bool SameFunction(const Poly& a, const std::vector<Atom>& a_gates, const Poly& b,
                  const std::vector<Atom>& b_gates, const NeuronModel& m) {
  const int vars = m.states + m.currents, samples = 64;
  std::vector<std::vector<double>> x(vars, std::vector<double>(samples));
  for (int v = 0; v < vars; ++v)
    for (int i = 0; i < samples; ++i) x[v][i] = 3.0 * Probe(v + 31, i, 0) + 0.5;
  // Coefficients are compared at element 0 of each tensor's broadcast: the
  // same constants produced both polynomials.
  CoefAt at = [](const Tensor& c, int) { return c.materialized() ? c.at(0) : 0.0; };
  auto eval = [&](const Poly& p, const std::vector<Atom>& atoms) {
    std::vector<std::vector<double>> gates(atoms.size(), std::vector<double>(samples));
    for (size_t g = 0; g < atoms.size(); ++g) {
      std::vector<double> arg;
      EvaluatePoly(atoms[g].arg, x, gates, at, samples, &arg);
      for (int i = 0; i < samples; ++i) gates[g][i] = (atoms[g].inclusive ? arg[i] >= 0 : arg[i] > 0);
    }
    std::vector<double> out;
    EvaluatePoly(p, x, gates, at, samples, &out);
    return out;
  };
  std::vector<double> va = eval(a, a_gates), vb = eval(b, b_gates);
  for (int i = 0; i < samples; ++i)
    if (std::fabs(va[i] - vb[i]) > 1e-9 * (1 + std::fabs(va[i]) + std::fabs(vb[i]))) return false;
  return true;
}

// A current whose every factor folds to zero (a time constant of +inf, a
// gain of 0) never reaches the neuron: the layer would compute a constant,
// which is a broken export rather than a network to plan.
absl::Status CheckCurrentsReach(const NeuronModel& m) {
  for (int j = 0; j < m.currents; ++j) {
    const int var = m.states + j;
    bool reaches = m.output.HasVar(var);
    for (const Atom& a : m.gates) reaches = reaches || a.arg.HasVar(var);
    for (const Poly& p : m.next) reaches = reaches || p.HasVar(var);
    if (!reaches)
      return absl::InvalidArgumentError(absl::StrCat(
          "its input current ", j, " has no effect (its factor folds to zero, e.g. a time "
          "constant of infinity): the layer would not depend on its input"));
  }
  return absl::OkStatus();
}

class NeuronAnalyzer {
 public:
  // The value a state source holds before step 0 (nullopt: not uniform).
  using InitialFn = std::function<std::optional<double>(int value)>;
  NeuronAnalyzer(const Scope& s, const Regions& r, int comp, bool body,
                 InitialFn initial = [](int) { return 0.0; })
      : s_(s), r_(r), comp_(comp), nodes_(r.comps[comp]), body_(body), initial_(std::move(initial)) {
    for (size_t i = 0; i < nodes_.size(); ++i) pos_[nodes_[i]] = static_cast<int>(i);
  }

  absl::StatusOr<NeuronGroup> Run() {
    if (absl::Status st = FindIo(); !st.ok()) return st;
    if (absl::Status st = FindSteps(); !st.ok()) return st;
    if (absl::Status st = FindCuts(); !st.ok()) return st;
    std::vector<Cell> cells;
    for (int t = 0; t < n_; ++t) {
      absl::StatusOr<Cell> c = MakeCell(t);
      if (!c.ok()) return c.status();
      cells.push_back(std::move(*c));
    }
    int ref = ReferenceCell(cells);
    absl::StatusOr<NeuronModel> model = Extract(cells, ref);
    if (!model.ok()) return Fail(model.status().message());
    if (absl::Status st = VerifyCell(cells[ref], *model, Identity(model->states), true); !st.ok())
      return Fail(st.message());
    for (const Cell& c : cells)
      if (c.t != ref && Proper(c) && static_cast<int>(c.states_in.size()) == model->states &&
          Signature(c.states_in) == Signature(cells[ref].states_in) &&
          Signature(c.states_out) == Signature(cells[ref].states_out))
        if (absl::Status st = VerifyAnyOrder(c, *model); !st.ok()) return Fail(st.message());
    if (n_ > 1 && sources_.empty())
      if (absl::Status st = VerifyRollout(cells, &*model); !st.ok()) return Fail(st.message());
    std::vector<NeuronGroup::StateValue> positions = StateValues(cells, ref, *model);
    if (body_) FoldConstantStates(&*model);
    DropIrrelevantStates(&*model);
    if (absl::Status st = CheckCurrentsReach(*model); !st.ok()) return Fail(st.message());
    NeuronGroup g;
    g.state_values = std::move(positions);  // `state` holds a position until MapStates
    g.steps = n_;
    g.anchor = NodeLabel(s_.node(fires_[0]));
    for (const Cell& c : cells) {
      g.currents.push_back(c.currents);
      g.spikes.push_back(c.spikes);
    }
    g.nodes = nodes_;
    for (const Source& src : sources_) {
      g.state_inputs.push_back(src.value);
      g.state_outputs.push_back(src.next);
    }
    g.model = std::move(*model);
    return g;
  }

 private:
  bool In(int node) const { return node >= 0 && pos_.contains(node); }
  bool Internal(int value) const { return In(s_.value(value).producer); }

  absl::Status Fail(absl::string_view why) const {
    std::vector<std::string> fires;
    for (int f : fires_) fires.push_back(NodeLabel(s_.node(f)));
    if (fires.empty())
      for (int n : nodes_)
        if (r_.fire[n]) fires.push_back(NodeLabel(s_.node(n)));
    if (fires.size() > 3) fires.resize(3);
    return absl::InvalidArgumentError(absl::StrCat(
        "spiking neuron not recognised at threshold test ", absl::StrJoin(fires, ", "),
        fires_.size() > 3 ? ", ..." : "", ": ", why));
  }

  // Inputs and outputs of the component; state sources and their pairs.
  absl::Status FindIo() {
    absl::flat_hash_set<int> seen;
    for (int n : nodes_)
      for (int d : DynamicInputs(s_, n))
        if (!Internal(d) && seen.insert(d).second) inputs_.push_back(d);
    for (int n : nodes_) {
      int v = s_.outputs(n)[0];
      bool out = r_.routput[v];
      for (int c : r_.rcons[v]) out |= !In(c);
      if (out) outputs_.push_back(v);
    }
    if (body_) {
      // Loop body: carried inputs (2..) with their next values (outputs 1..).
      const std::vector<int>& bin = s_.graph_inputs();
      const std::vector<int>& bout = s_.graph_outputs();
      for (size_t k = 2; k < bin.size(); ++k)
        if (seen.contains(s_.Resolve(bin[k]))) {
          int next = s_.Resolve(bout[k - 1]);
          if (!Internal(next) && next != s_.Resolve(bin[k]))
            return Fail(absl::StrCat("the loop-carried value ", s_.value(bin[k]).name,
                                     " is not updated by the neuron"));
          sources_.push_back({s_.Resolve(bin[k]), next});
        }
      return absl::OkStatus();
    }
    // Single-step exports: a graph input the neuron reads is a state when a
    // graph output of the same shape carries its next value (pairs taken in
    // declaration order).
    std::vector<int> outs;
    for (int v : outputs_)
      if (r_.routput[v] && !r_.discrete[v]) outs.push_back(v);
    std::vector<char> used(outs.size(), 0);
    std::vector<int> graph_ins;
    for (int v : inputs_)
      if (s_.value(v).graph_input) graph_ins.push_back(v);
    std::sort(graph_ins.begin(), graph_ins.end(),
              [&](int a, int b) { return s_.value(a).input_index < s_.value(b).input_index; });
    for (int rin : graph_ins) {
      for (size_t j = 0; j < outs.size(); ++j)
        if (!used[j] && SameShape(rin, outs[j])) {
          used[j] = 1;
          sources_.push_back({rin, outs[j]});
          break;
        }
    }
    PairPreviousSpikes(graph_ins);
    return absl::OkStatus();
  }

  bool SameShape(int a, int b) const { return !s_.ShapeOf(a) || s_.ShapeOf(a) == s_.ShapeOf(b); }

  // A single-step export may also feed the neuron its own previous spikes
  // as a graph input (snnTorch RLeaky all_to_all=False adds V * spk_prev
  // with no weighted layer): a state whose next value is the spike output.
  // Declaration order by shape gives such an input a membrane's next value
  // and leaves the membrane without one. When an input is left over, its
  // shape's inputs and outputs (spike outputs included) are paired again
  // keeping declaration order on both sides, with the most non-spike pairs,
  // then the most pairs; an input a threshold test reads on its own is a
  // membrane and never takes spikes. Guard: the neuron keeps a current from
  // a layer, so a network input read directly is never previous spikes.
  void PairPreviousSpikes(const std::vector<int>& graph_ins) {
    const bool layer_current = std::any_of(inputs_.begin(), inputs_.end(),
                                           [&](int v) { return !s_.value(v).graph_input; });
    if (!layer_current) return;
    for (int u : graph_ins) {
      if (IsSource(u) || !s_.ShapeOf(u)) continue;
      std::vector<int> ins, outs;
      for (int v : graph_ins)
        if (s_.ShapeOf(v) == s_.ShapeOf(u)) ins.push_back(v);
      for (int g : s_.graph_outputs()) {
        const int v = s_.Resolve(g);
        if (std::find(outputs_.begin(), outputs_.end(), v) != outputs_.end() && r_.routput[v] &&
            s_.ShapeOf(v) == s_.ShapeOf(u) && std::find(outs.begin(), outs.end(), v) == outs.end())
          outs.push_back(v);
      }
      std::erase_if(sources_, [&](const Source& x) {
        return std::find(ins.begin(), ins.end(), x.value) != ins.end();
      });
      for (const Source& x : OrderedPairs(ins, outs)) sources_.push_back(x);
    }
    std::sort(sources_.begin(), sources_.end(), [&](const Source& a, const Source& b) {
      return s_.value(a.value).input_index < s_.value(b.value).input_index;
    });
  }

  // The component inputs a node's value depends on.
  absl::flat_hash_set<int> InputsOf(int node) const {
    absl::flat_hash_set<int> found, seen;
    std::vector<int> stack = {node};
    while (!stack.empty()) {
      const int n = stack.back();
      stack.pop_back();
      if (!seen.insert(n).second) continue;
      for (int d : DynamicInputs(s_, n))
        if (Internal(d))
          stack.push_back(s_.value(d).producer);
        else
          found.insert(d);
    }
    return found;
  }

  // A threshold test reads `v` and nothing else: `v` is a membrane
  // (snnTorch compares the incoming membrane for its reset), not spikes.
  bool ThresholdedAlone(int v) const {
    for (int n : nodes_)
      if (r_.fire[n] && InputsOf(n) == absl::flat_hash_set<int>{v}) return true;
    return false;
  }

  // The order-preserving pairing of `ins` with `outs` with the most pairs
  // whose output is not spikes, then the most pairs (a longest common
  // subsequence with weights).
  std::vector<Source> OrderedPairs(const std::vector<int>& ins,
                                   const std::vector<int>& outs) const {
    using Score = std::pair<int, int>;  // (non-spike pairs, pairs)
    const size_t n = ins.size(), m = outs.size();
    std::vector<char> membrane(n);
    for (size_t i = 0; i < n; ++i) membrane[i] = ThresholdedAlone(ins[i]);
    constexpr Score kNever = {-1, -1};
    auto paired = [&](const std::vector<std::vector<Score>>& best, size_t i, size_t j) {
      if (r_.discrete[outs[j]] && membrane[i]) return kNever;
      const Score& rest = best[i + 1][j + 1];
      return Score{rest.first + (r_.discrete[outs[j]] ? 0 : 1), rest.second + 1};
    };
    std::vector<std::vector<Score>> best(n + 1, std::vector<Score>(m + 1, {0, 0}));
    for (size_t i = n; i-- > 0;)
      for (size_t j = m; j-- > 0;)
        best[i][j] = std::max({best[i + 1][j], best[i][j + 1], paired(best, i, j)});
    std::vector<Source> pairs;
    for (size_t i = 0, j = 0; i < n && j < m;) {
      if (best[i][j] == paired(best, i, j)) {
        pairs.push_back({ins[i], outs[j]});
        ++i, ++j;
      } else if (best[i][j] == best[i + 1][j]) {
        ++i;
      } else {
        ++j;
      }
    }
    return pairs;
  }

  bool IsSource(int v) const {
    return std::any_of(sources_.begin(), sources_.end(), [&](const Source& x) { return x.value == v; });
  }

  // Output fire tests in node order, the spikes each produces, each current's step.
  absl::Status FindSteps() {
    absl::flat_hash_set<int> outset(outputs_.begin(), outputs_.end());
    for (int f : nodes_) {
      if (!r_.fire[f]) continue;
      std::vector<int> spikes;
      std::vector<int> stack = {s_.outputs(f)[0]};
      absl::flat_hash_set<int> reached;
      while (!stack.empty()) {
        int v = stack.back();
        stack.pop_back();
        if (!reached.insert(v).second) continue;
        if (outset.contains(v)) spikes.push_back(v);
        for (int c : r_.rcons[v])
          if (In(c) && r_.discrete[s_.outputs(c)[0]] && !r_.fire[c]) stack.push_back(s_.outputs(c)[0]);
      }
      if (spikes.empty()) continue;
      std::sort(spikes.begin(), spikes.end());
      fires_.push_back(f);
      spikes_.push_back(spikes);
    }
    n_ = static_cast<int>(fires_.size());
    if (n_ == 0)
      return Fail("its 0/1 result never leaves the neuron's arithmetic (no spike output)");
    for (size_t i = 0; i < spikes_.size(); ++i)
      for (size_t j = i + 1; j < spikes_.size(); ++j)
        for (int v : spikes_[i])
          if (std::count(spikes_[j].begin(), spikes_[j].end(), v))
            return Fail(absl::StrCat("output ", s_.value(v).name, " combines two threshold tests"));
    // down: the earliest step whose spike a node reaches.
    down_.assign(nodes_.size(), kInf);
    for (size_t i = nodes_.size(); i-- > 0;) {
      int n = nodes_[i];
      int d = kInf;
      for (int c : r_.rcons[s_.outputs(n)[0]])
        if (In(c)) d = std::min(d, down_[pos_.at(c)]);
      for (int t = 0; t < n_; ++t)
        if (fires_[t] == n) d = std::min(d, t);
      down_[i] = d;
    }
    for (int v : inputs_) {
      if (IsSource(v)) continue;
      if (r_.discrete[v])
        return Fail(absl::StrCat("its input ", s_.value(v).name,
                                 " carries spikes directly (a neuron fed by another neuron's "
                                 "spikes without a weighted layer in between)"));
      int step = kInf;
      for (int c : r_.rcons[v])
        if (In(c)) step = std::min(step, down_[pos_.at(c)]);
      if (step == kInf) step = n_ - 1;  // feeds only a recorded state
      step_of_[v] = step;
    }
    // up: the latest step whose current a node depends on.
    up_.assign(nodes_.size(), -1);
    for (size_t i = 0; i < nodes_.size(); ++i) {
      int u = -1;
      for (int d : DynamicInputs(s_, nodes_[i])) u = std::max(u, Birth(d));
      up_[i] = u;
    }
    return absl::OkStatus();
  }

  // The step a value belongs to (-1: before step 0).
  int Birth(int v) const {
    if (Internal(v)) return up_[pos_.at(s_.value(v).producer)];
    auto it = step_of_.find(v);
    return it == step_of_.end() ? -1 : it->second;
  }

  // The state carried from step t to t+1.
  absl::Status FindCuts() {
    cuts_.assign(std::max(0, n_ - 1), {});
    for (size_t i = 0; i < nodes_.size(); ++i)
      for (int d : DynamicInputs(s_, nodes_[i])) {
        int born = std::max(0, Birth(d));
        if (Birth(d) < 0 && !Internal(d) && !IsSource(d)) continue;
        for (int t = born; t < up_[i] && t < n_ - 1; ++t) cuts_[t].push_back(PushBack(d, t));
      }
    // A reset computed from a separate threshold test of the membrane
    // (snnTorch recomputes it from the incoming membrane) acts at the next
    // step: the membrane itself is the state. A reset that uses the neuron's
    // own spike (SpikingJelly) acts after the fire: the reset value is.
    for (int t = 0; t + 1 < n_; ++t) {
      int mem = Membrane(fires_[t]);
      for (int& v : cuts_[t])
        if (mem >= 0 && v != mem && ComputedFrom(v, mem, fires_[t])) v = mem;
    }
    for (auto& c : cuts_) {
      std::sort(c.begin(), c.end(), [&](int a, int b) {
        return std::pair(s_.value(a).producer, a) < std::pair(s_.value(b).producer, b);
      });
      c.erase(std::unique(c.begin(), c.end()), c.end());
      // A value computed from another one carried (the spike of the
      // membrane) is not a state of its own.
      std::vector<int> kept;
      for (int v : c) {
        bool derived = false;
        for (int u : c) derived |= u != v && ComputedFrom(v, u, -1);
        if (!derived) kept.push_back(v);
      }
      c = std::move(kept);
    }
    return absl::OkStatus();
  }

  // True when `v` is a function of `from` alone (and constants) within the
  // component, computed without node `avoid`.
  bool ComputedFrom(int v, int from, int avoid) const {
    std::vector<int> stack = {v};
    absl::flat_hash_set<int> seen;
    while (!stack.empty()) {
      int x = stack.back();
      stack.pop_back();
      if (x == from || !seen.insert(x).second) continue;
      int p = s_.value(x).producer;
      if (!In(p) || p == avoid || seen.size() > 4096) return false;
      for (int d : DynamicInputs(s_, p)) stack.push_back(d);
    }
    return true;
  }

  // The value a fire test compares: back from its input through the
  // subtraction of a constant threshold (v - thr), or -1.
  int Membrane(int fire) const {
    std::vector<int> dyn = DynamicInputs(s_, fire);
    if (dyn.size() != 1) return -1;
    int v = dyn[0];
    for (int guard = 0; guard < 64; ++guard) {
      int p = s_.value(v).producer;
      if (!In(p)) return v;
      const std::string& op = s_.node(p).op_type();
      std::vector<int> in = DynamicInputs(s_, p);
      if (in.size() != 1 || (op != "Sub" && op != "Add" && op != "Identity" && op != "Cast")) return v;
      v = in[0];
    }
    return v;
  }

  // Nodes computing `v` from `from` (and constants), ascending; nullopt when
  // `v` needs anything else.
  std::optional<std::vector<int>> NodesFrom(int v, int from) const {
    std::vector<int> stack = {v}, nodes;
    absl::flat_hash_set<int> seen;
    while (!stack.empty()) {
      int x = stack.back();
      stack.pop_back();
      if (x == from || !seen.insert(x).second) continue;
      int p = s_.value(x).producer;
      if (!In(p) || seen.size() > 4096) return std::nullopt;
      nodes.push_back(p);
      for (int d : DynamicInputs(s_, p)) stack.push_back(d);
    }
    std::sort(nodes.begin(), nodes.end());
    nodes.erase(std::unique(nodes.begin(), nodes.end()), nodes.end());
    return nodes;
  }

  // The value that carries `v` into later steps: back through one-input
  // nodes whose results only later steps need (beta * membrane is the next
  // step's work; the membrane itself is this step's).
  int PushBack(int v, int t) const {
    absl::flat_hash_set<int> outs(outputs_.begin(), outputs_.end());
    for (int guard = 0; guard < 1 << 20; ++guard) {
      int p = s_.value(v).producer;
      if (!In(p) || down_[pos_.at(p)] <= t || outs.contains(v)) return v;
      std::vector<int> dyn = DynamicInputs(s_, p);
      if (dyn.size() != 1 || Birth(dyn[0]) > t) return v;
      v = dyn[0];
    }
    return v;
  }

  absl::StatusOr<Cell> MakeCell(int t) {
    Cell c;
    c.t = t;
    if (t == 0) {
      for (const Source& src : sources_) c.states_in.push_back(src.value);
    } else {
      c.states_in = cuts_[t - 1];
    }
    for (int v : inputs_)
      if (!IsSource(v) && step_of_.at(v) == t) c.currents.push_back(v);
    if (t < n_ - 1) {
      c.states_out = cuts_[t];
    } else if (!sources_.empty() &&
               std::all_of(sources_.begin(), sources_.end(), [](const Source& x) { return x.next >= 0; })) {
      for (const Source& src : sources_) c.states_out.push_back(src.next);
    }
    c.spikes = spikes_[t];
    // Order currents by where they enter (first consumer, then input slot).
    auto entry = [&](int v) {
      for (int n : r_.rcons[v]) {
        if (!In(n)) continue;
        const std::vector<int>& in = s_.inputs(n);
        for (size_t k = 0; k < in.size(); ++k)
          if (in[k] >= 0 && s_.Resolve(in[k]) == v) return std::pair(pos_.at(n), static_cast<int>(k));
      }
      return std::pair(kInf, 0);
    };
    std::stable_sort(c.currents.begin(), c.currents.end(),
                     [&](int a, int b) { return entry(a) < entry(b); });
    // Backward closure of the outputs, stopping at the inputs.
    absl::flat_hash_set<int> stop(c.states_in.begin(), c.states_in.end());
    stop.insert(c.currents.begin(), c.currents.end());
    std::vector<int> stack = c.spikes;
    stack.insert(stack.end(), c.states_out.begin(), c.states_out.end());
    absl::flat_hash_set<int> seen_v, seen_n;
    while (!stack.empty()) {
      int v = stack.back();
      stack.pop_back();
      if (!seen_v.insert(v).second || stop.contains(v) || s_.IsConst(v)) continue;
      int p = s_.value(v).producer;
      if (!In(p)) {
        if (t > 0 && step_of_.contains(v))
          return Fail(absl::StrCat(
              "step ", t, " reads ", s_.value(v).name,
              p >= 0 ? absl::StrCat(" (computed by node ", NodeLabel(s_.node(p)), ")") : "",
              ", the input of step ", step_of_.at(v), ", beyond the state carried between steps"));
        return Fail(absl::StrCat("step ", t, " reads ", s_.value(v).name,
                                 ", which is neither its input current nor a state"));
      }
      if (!seen_n.insert(p).second) continue;
      for (int d : DynamicInputs(s_, p)) stack.push_back(d);
    }
    c.nodes.assign(seen_n.begin(), seen_n.end());
    std::sort(c.nodes.begin(), c.nodes.end());
    return c;
  }

  // Values that hold a state of the model (by position among the reference
  // step's incoming states): state inputs and outputs of single-step
  // exports, the carried values between unrolled steps, and recorded
  // membranes equal to a state's next value.
  std::vector<NeuronGroup::StateValue> StateValues(const std::vector<Cell>& cells, int ref,
                                                   const NeuronModel& m) {
    std::vector<NeuronGroup::StateValue> out;
    absl::flat_hash_set<int> known;  // values already placed
    auto add = [&](int v, int pos, int step) {
      if (v < 0 || pos >= m.states) return;
      known.insert(v);
      out.push_back({v, pos, step});
    };
    for (size_t k = 0; k < sources_.size(); ++k) {
      add(sources_[k].value, static_cast<int>(k), -1);
      add(sources_[k].next, static_cast<int>(k), n_ - 1);
    }
    const std::vector<std::string> sig = Signature(cells[ref].states_in);
    for (int t = 0; t + 1 < n_; ++t)
      if (Signature(cuts_[t]) == sig || (cuts_[t].size() == 1 && m.states == 1))
        for (size_t j = 0; j < cuts_[t].size(); ++j) add(cuts_[t][j], static_cast<int>(j), t);
    // Recorded values (continuous outputs) and carried values the cuts did
    // not place, matched against the update: in a step whose states sit at
    // the reference's places, or in the first step of an unrolled graph
    // (which starts from the model's initial state).
    std::vector<int> candidates = outputs_;
    for (const auto& cut : cuts_) candidates.insert(candidates.end(), cut.begin(), cut.end());
    for (int v : candidates) {
      if (r_.discrete[v] || known.contains(v)) continue;
      int t = std::clamp(Birth(v), 0, n_ - 1);
      const Cell& c = cells[t];
      const bool first = t == 0 && c.states_in.empty() && sources_.empty();
      if (!first && (!Proper(c) || (!c.states_in.empty() && Signature(c.states_in) != sig) ||
                     c.states_in.size() != static_cast<size_t>(m.states)))
        continue;
      PolyContext ctx;
      absl::flat_hash_map<int, Poly> poly;
      for (size_t i = 0; i < c.states_in.size(); ++i) poly[c.states_in[i]] = PolyContext::Variable(static_cast<int>(i));
      for (size_t j = 0; j < c.currents.size(); ++j)
        poly[c.currents[j]] = PolyContext::Variable(m.states + static_cast<int>(j));
      std::optional<std::vector<int>> nodes = NodesFromInputs(v, c);
      if (!nodes || !ApplyNodes(*nodes, ctx, &poly).ok()) continue;
      // Compare by value: gate numbering differs between contexts, so the
      // polynomials are compared through the model's gates re-created here.
      if (!poly.contains(v)) continue;  // a current or state itself
      std::vector<Atom> gates = m.gates;
      if (first)
        for (Atom& a : gates) a.arg = FromInitial(a.arg, m);
      // After a zero first step several states can hold the same value.
      for (int i = 0; i < m.states; ++i)
        if (SameFunction(poly.at(v), ctx.atoms(), first ? FromInitial(m.next[i], m) : m.next[i], gates, m))
          add(v, i, t);
    }
    return out;
  }

  // `p` with every state replaced by its initial value.
  static Poly FromInitial(const Poly& p, const NeuronModel& m) {
    std::vector<Term> terms;
    for (Term t : p.terms) {
      if (t.var >= 0 && t.var < m.states) {
        t.coef = CoefMul(t.coef, Tensor::Scalar(m.initial[t.var], TP::DOUBLE));
        t.var = -1;
      }
      terms.push_back(std::move(t));
    }
    return PolyContext::Add(Poly{}, Poly{terms});
  }

  // Nodes computing `v` from cell `c`'s inputs (and constants), ascending.
  std::optional<std::vector<int>> NodesFromInputs(int v, const Cell& c) const {
    absl::flat_hash_set<int> stop(c.states_in.begin(), c.states_in.end());
    stop.insert(c.currents.begin(), c.currents.end());
    std::vector<int> stack = {v}, nodes;
    absl::flat_hash_set<int> seen;
    while (!stack.empty()) {
      int x = stack.back();
      stack.pop_back();
      if (stop.contains(x) || !seen.insert(x).second) continue;
      int p = s_.value(x).producer;
      if (!In(p) || seen.size() > 4096) return std::nullopt;
      nodes.push_back(p);
      for (int d : DynamicInputs(s_, p)) stack.push_back(d);
    }
    std::sort(nodes.begin(), nodes.end());
    nodes.erase(std::unique(nodes.begin(), nodes.end()), nodes.end());
    return nodes;
  }

  // What computes each value (its producer's op, or "input"), sorted: cells
  // whose states sit at the same place in the step compare equal.
  std::vector<std::string> Signature(const std::vector<int>& values) const {
    std::vector<std::string> sig;
    for (int v : values) {
      int p = s_.value(v).producer;
      sig.push_back(p >= 0 ? s_.node(p).op_type() : "input");
    }
    std::sort(sig.begin(), sig.end());
    return sig;
  }

  // A cell whose incoming states are values the neuron computed (or state
  // inputs), not an input current that stands in for the first state.
  bool Proper(const Cell& c) const {
    return std::all_of(c.states_in.begin(), c.states_in.end(),
                       [&](int v) { return Internal(v) || IsSource(v); });
  }

  // The steady-state cell: the last proper one with states in and out.
  int ReferenceCell(const std::vector<Cell>& cells) const {
    size_t k = 0;
    for (const Cell& c : cells) k = std::max({k, c.states_in.size(), c.states_out.size()});
    for (auto it = cells.rbegin(); it != cells.rend(); ++it)
      if (Proper(*it) && it->states_in.size() == k && it->states_out.size() == k) return it->t;
    for (const Cell& c : cells)
      if (c.states_in.size() == k && c.states_out.size() == k) return c.t;
    for (const Cell& c : cells)
      if (c.states_in.size() == k) return c.t;
    return 0;
  }

  static std::vector<int> Identity(int k) {
    std::vector<int> p(k);
    std::iota(p.begin(), p.end(), 0);
    return p;
  }

  Shape CellShape(const Cell& c) const {
    Shape m;
    auto add = [&](int v) {
      if (std::optional<Shape> sh = s_.ShapeOf(v))
        if (std::optional<Shape> b = Broadcast(m, *sh)) m = *b;
    };
    for (const auto* list : {&c.states_in, &c.currents, &c.states_out, &c.spikes})
      for (int v : *list) add(v);
    return m;
  }

  absl::StatusOr<NeuronModel> Extract(const std::vector<Cell>& cells, int t);
  absl::Status VerifyCell(const Cell& c, const NeuronModel& m, const std::vector<int>& perm,
                          bool check_states) const;
  absl::Status VerifyAnyOrder(const Cell& c, const NeuronModel& m) const;
  absl::Status VerifyRollout(const std::vector<Cell>& cells, NeuronModel* m) const;
  absl::Status RolloutWith(const std::vector<Cell>& cells, const NeuronModel& m) const;
  void DropIrrelevantStates(NeuronModel* m) const;
  void FoldConstantStates(NeuronModel* m) const;
  absl::Status ApplyNodes(const std::vector<int>& nodes, PolyContext& ctx,
                          absl::flat_hash_map<int, Poly>* poly) const;
  double Scale(const NeuronModel& m) const;

  const Scope& s_;
  const Regions& r_;
  int comp_;
  const std::vector<int>& nodes_;
  bool body_;
  InitialFn initial_;
  absl::flat_hash_map<int, int> pos_;  // node -> index in nodes_
  std::vector<int> inputs_, outputs_;
  std::vector<Source> sources_;
  std::vector<int> fires_;
  std::vector<std::vector<int>> spikes_;
  int n_ = 0;
  std::vector<int> down_, up_;
  absl::flat_hash_map<int, int> step_of_;  // current value -> step
  std::vector<std::vector<int>> cuts_;
};


// ---- canonical form of one cell -------------------------------------------------

// The polynomial of an elementwise node's output from its inputs'.
absl::StatusOr<Poly> ApplyOp(PolyContext& ctx, const onnx::NodeProto& node, const OpInfo& info,
                             int32_t out_dtype, const std::vector<Poly>& a) {
  const std::string& op = node.op_type();
  bool gates_only = std::all_of(a.begin(), a.end(), [](const Poly& p) { return p.GatesOnly(); });
  if (gates_only && op != "Greater" && op != "GreaterOrEqual" && op != "Less" && op != "LessOrEqual") {
    // Spike arithmetic: exact on every assignment of the gates.
    ElemParams p = ParamsOf(node);
    p.to = out_dtype;
    int n = static_cast<int>(a.size());
    std::vector<const Poly*> args;
    for (const Poly& x : a) args.push_back(&x);
    ScalarFn fn = info.scalar;
    return ctx.MapGates(args, [&](const double* v) { return RoundTo(out_dtype, fn(v, n, p)); });
  }
  auto constant = [](const Poly& p) -> const Tensor* {
    return p.terms.size() == 1 && p.terms[0].var < 0 && p.terms[0].gates == 0 ? &p.terms[0].coef
                                                                                : nullptr;
  };
  if (op == "Add" || op == "Sum") {
    Poly r;
    for (const Poly& x : a) r = PolyContext::Add(r, x);
    return r;
  }
  if (op == "Mean") {
    Poly r;
    for (const Poly& x : a) r = PolyContext::Add(r, x);
    return PolyContext::Scale(r, Tensor::Scalar(1.0 / static_cast<double>(a.size()), TP::DOUBLE));
  }
  if (op == "Sub") return PolyContext::Add(a[0], PolyContext::Neg(a[1]));
  if (op == "Neg") return PolyContext::Neg(a[0]);
  if (op == "Mul") return PolyContext::Mul(a[0], a[1]);
  if (op == "Div") {
    const Tensor* k = a[1].IsZero() ? nullptr : constant(a[1]);
    if (!k) return absl::InvalidArgumentError("it divides by a non-constant value");
    std::optional<Tensor> inv = CoefInverse(*k);
    if (!inv) return absl::InvalidArgumentError("it divides by zero");
    return PolyContext::Scale(a[0], *inv);
  }
  if (op == "Identity" || op == "CastLike" || (op == "Cast" && IsFloatType(out_dtype)))
    return a[0];
  if (op == "Pow" && constant(a[1]) && constant(a[1])->Uniform() == 1.0) return a[0];
  if (op == "Where") {
    if (!a[0].GatesOnly()) return absl::InvalidArgumentError("Where on a condition that is not a spike");
    absl::StatusOr<Poly> x = PolyContext::Mul(a[0], a[1]);
    Poly not_c = PolyContext::Add(PolyContext::Constant(Tensor::Scalar(1.0, TP::DOUBLE)),
                                  PolyContext::Neg(a[0]));
    absl::StatusOr<Poly> y = PolyContext::Mul(not_c, a[2]);
    if (!x.ok()) return x.status();
    if (!y.ok()) return y.status();
    return PolyContext::Add(*x, *y);
  }
  if (op == "Greater") return ctx.Heaviside(PolyContext::Add(a[0], PolyContext::Neg(a[1])), false);
  if (op == "GreaterOrEqual")
    return ctx.Heaviside(PolyContext::Add(a[0], PolyContext::Neg(a[1])), true);
  if (op == "Less") return ctx.Heaviside(PolyContext::Add(a[1], PolyContext::Neg(a[0])), false);
  if (op == "LessOrEqual")
    return ctx.Heaviside(PolyContext::Add(a[1], PolyContext::Neg(a[0])), true);
  if (op == "Sign") {
    absl::StatusOr<Poly> pos = ctx.Heaviside(a[0], false);
    if (!pos.ok()) return pos.status();
    absl::StatusOr<Poly> neg = ctx.Heaviside(PolyContext::Neg(a[0]), false);
    if (!neg.ok()) return neg.status();
    return PolyContext::Add(*pos, PolyContext::Neg(*neg));
  }
  return absl::InvalidArgumentError(
      absl::StrCat("it applies ", op, " to a value that is not a spike (only sums, products with "
                   "constants or spikes, and threshold tests keep a neuron linear)"));
}

// Bits of the gates a polynomial (and the gates it uses) depends on.
uint32_t UsedGates(const std::vector<Atom>& gates, uint32_t bits) {
  for (int g = static_cast<int>(gates.size()) - 1; g >= 0; --g)
    if (bits & (uint32_t{1} << g)) bits |= UsedGates(gates, gates[g].arg.Gates());
  return bits;
}

Poly RenumberGates(const Poly& p, const std::vector<int>& map) {
  Poly out = p;
  for (Term& t : out.terms) {
    uint32_t g = 0;
    for (size_t i = 0; i < map.size(); ++i)
      if (t.gates & (uint32_t{1} << i)) g |= uint32_t{1} << map[i];
    t.gates = g;
  }
  return out;
}

Poly RenumberVars(const Poly& p, const std::vector<int>& map) {
  Poly out = p;
  for (Term& t : out.terms)
    if (t.var >= 0) t.var = map[t.var];
  return out;
}

// Keeps the gates the outputs use, in dependency order.
void PruneGates(NeuronModel* m) {
  uint32_t used = m->output.Gates();
  for (const Poly& p : m->next) used |= p.Gates();
  used = UsedGates(m->gates, used);
  std::vector<int> map(m->gates.size(), -1);
  std::vector<Atom> kept;
  for (size_t g = 0; g < m->gates.size(); ++g)
    if (used & (uint32_t{1} << g)) {
      map[g] = static_cast<int>(kept.size());
      kept.push_back(m->gates[g]);
    }
  for (size_t g = 0; g < map.size(); ++g)
    if (map[g] < 0) map[g] = 31;  // unused bits never occur in kept polynomials
  for (Atom& a : kept) a.arg = RenumberGates(a.arg, map);
  for (Poly& p : m->next) p = RenumberGates(p, map);
  m->output = RenumberGates(m->output, map);
  m->fire = m->fire >= 0 ? map[m->fire] : -1;
  m->gates = std::move(kept);
}

int GateBit(const Poly& spike) {
  if (spike.terms.size() != 1 || spike.terms[0].var >= 0) return -1;
  uint32_t g = spike.terms[0].gates;
  if (g == 0 || (g & (g - 1))) return -1;
  return __builtin_ctz(g);
}

// The polynomials of `nodes` (ascending) from those already in `poly`.
absl::Status NeuronAnalyzer::ApplyNodes(const std::vector<int>& nodes, PolyContext& ctx,
                                        absl::flat_hash_map<int, Poly>* poly) const {
  for (int n : nodes) {
    const onnx::NodeProto& node = s_.node(n);
    const OpInfo& info = *s_.info(n);
    int arity = info.arity < 0 ? node.input_size() : info.arity;
    ElemParams p = ParamsOf(node);
    std::vector<Poly> args;
    for (int i = 0; i < arity; ++i) {
      int id = i < static_cast<int>(s_.inputs(n).size()) ? s_.inputs(n)[i] : -1;
      if (id < 0) {
        args.push_back(PolyContext::Constant(Tensor::Scalar(p.missing[i], TP::DOUBLE)));
      } else if (const Tensor* t = s_.ConstOf(id)) {
        if (!t->materialized())
          return absl::InvalidArgumentError(
              absl::StrCat("its parameter ", s_.value(id).name, " is too large to read"));
        args.push_back(PolyContext::Constant(*t));
      } else {
        auto it = poly->find(s_.Resolve(id));
        if (it == poly->end()) return absl::InternalError(absl::StrCat("unbound value ", s_.value(id).name));
        args.push_back(it->second);
      }
    }
    int out = s_.outputs(n)[0];
    int32_t dtype = s_.DTypeOf(out) >= 0 ? s_.DTypeOf(out) : TP::FLOAT;
    absl::StatusOr<Poly> r = ApplyOp(ctx, node, info, dtype, args);
    if (!r.ok()) return absl::InvalidArgumentError(absl::StrCat("node ", NodeLabel(node), ": ", r.status().message()));
    (*poly)[out] = ctx.Simplify(*r);
  }
  return absl::OkStatus();
}

absl::StatusOr<NeuronModel> NeuronAnalyzer::Extract(const std::vector<Cell>& cells, int t) {
  const Cell& c = cells[t];
  PolyContext ctx;
  absl::flat_hash_map<int, Poly> poly;
  const int k = static_cast<int>(c.states_in.size());
  for (int i = 0; i < k; ++i) poly[c.states_in[i]] = PolyContext::Variable(i);
  for (size_t j = 0; j < c.currents.size(); ++j)
    poly[c.currents[j]] = PolyContext::Variable(k + static_cast<int>(j));
  if (absl::Status st = ApplyNodes(c.nodes, ctx, &poly); !st.ok()) return st;
  NeuronModel m;
  m.states = k;
  m.currents = static_cast<int>(c.currents.size());
  m.shape = CellShape(c);
  // The emitted value: gain * one gate, the same for every spike output.
  int best = -1;
  size_t best_uses = 0;
  for (int v : c.spikes) {
    const Poly& p = poly.at(v);
    int g = GateBit(p);
    if (g < 0)
      return absl::InvalidArgumentError(absl::StrCat(
          "its output ", s_.value(v).name, " is not a spike (0 or a constant gain) of one threshold test"));
    if (m.fire >= 0 && g != m.fire)
      return absl::InvalidArgumentError("its outputs come from different threshold tests");
    m.fire = g;
    if (best >= 0 && !PolyContext::Equal(poly.at(best), p, 1e-6))
      return absl::InvalidArgumentError(absl::StrCat("it emits its spikes with two different gains (",
                                                     s_.value(best).name, ", ", s_.value(v).name, ")"));
    size_t uses = r_.rcons[v].size();
    if (best < 0 || uses > best_uses) {
      best = v;
      best_uses = uses;
    }
  }
  m.output = poly.at(best);
  for (int v : c.states_out) m.next.push_back(poly.at(v));
  if (m.next.empty() && k > 0) {
    // The last step shows no next state (two-step unrolled exports). The
    // previous step computed its state from its membrane: the same map
    // applied to this step's membrane is the update.
    if (t == 0) return absl::InvalidArgumentError("no step shows how the state is updated");
    int prev_mem = Membrane(fires_[t - 1]), mem = Membrane(fires_[t]);
    if (prev_mem < 0 || mem < 0 || !poly.contains(mem))
      return absl::InvalidArgumentError("no step shows how the state is updated");
    absl::flat_hash_map<int, Poly> composed = {{prev_mem, poly.at(mem)}};
    for (int v : cells[t - 1].states_out) {
      std::optional<std::vector<int>> nodes = NodesFrom(v, prev_mem);
      if (!nodes) return absl::InvalidArgumentError("no step shows how the state is updated");
      if (absl::Status st = ApplyNodes(*nodes, ctx, &composed); !st.ok()) return st;
      m.next.push_back(composed.at(s_.Resolve(v)));
    }
  }
  m.gates = ctx.atoms();
  m.initial.assign(k, 0.0);
  m.origin.resize(k);
  std::iota(m.origin.begin(), m.origin.end(), 0);
  if (c.t == 0)
    for (int i = 0; i < k; ++i) {
      std::optional<double> init = initial_(c.states_in[i]);
      if (!init)
        return absl::InvalidArgumentError(absl::StrCat("the initial value of state ",
                                                       s_.value(c.states_in[i]).name, " is not uniform"));
      m.initial[i] = *init;
    }
  PruneGates(&m);
  return m;
}

double NeuronAnalyzer::Scale(const NeuronModel& m) const {
  double base = 0.0;
  if (m.fire >= 0)
    for (const Term& t : m.gates[m.fire].arg.terms)
      if (t.var < 0 && t.gates == 0 && t.coef.materialized())
        for (int64_t i = 0; i < (t.coef.splat ? 1 : t.coef.numel()); ++i)
          base = std::max(base, std::fabs(t.coef.at(i)));
  return base > 1e-6 ? base : 1.0;
}

double CellTolerance(const Scope& s, const std::vector<int>& nodes) {
  double tol = 1e-4;
  for (int n : nodes) {
    int32_t dt = s.DTypeOf(s.outputs(n)[0]);
    if (dt == TP::FLOAT16) tol = std::max(tol, 1e-2);
    if (dt == TP::BFLOAT16) tol = std::max(tol, 5e-2);
  }
  return tol;
}

// Probe magnitudes (times the threshold scale): around the threshold, below
// it, above it and far above it.
constexpr std::array<double, 4> kRoundScales = {1.0, 0.3, 3.0, 30.0};

absl::Status NeuronAnalyzer::VerifyCell(const Cell& c, const NeuronModel& m,
                                        const std::vector<int>& perm, bool check_states) const {
  const Shape shape = CellShape(c);
  if (shape != m.shape)
    return absl::InvalidArgumentError(absl::StrCat("step ", c.t, " works on another tensor shape"));
  const std::vector<int64_t> positions = SamplePositions(Numel(shape), 32);
  const double base = Scale(m), tol = CellTolerance(s_, c.nodes);
  const int k = m.states;
  for (int round = 0; round < static_cast<int>(kRoundScales.size()); ++round) {
    SampleEvaluator ev(s_, shape, positions);
    const int n = ev.samples();
    std::vector<std::vector<double>> vars(k + m.currents, std::vector<double>(n));
    auto probe = [&](int var, int value) {
      Shape sh = s_.ShapeOf(value).value_or(shape);
      double scale = base * kRoundScales[round];
      for (int i = 0; i < n; ++i)
        vars[var][i] = scale * (2.0 * Probe(var + 1, ev.OffsetIn(sh, i), round) + 0.5);
      ev.Bind(value, vars[var]);
    };
    for (int i = 0; i < k; ++i) probe(perm[i], c.states_in[i]);
    for (int j = 0; j < m.currents; ++j) probe(k + j, c.currents[j]);
    if (absl::Status st = ev.Run(c.nodes); !st.ok()) return st;
    ModelValues mv = EvalModel(m, vars, ev);
    for (int i = 0; i < n; ++i) {
      bool near = false;
      for (const auto& g : mv.gate_scale)
        near |= std::fabs(g[i]) <= 1e-4 * base * kRoundScales[round];
      if (near) continue;
      auto differ = [&](double a, double b) {
        return !(std::isnan(a) && std::isnan(b)) &&
               std::fabs(a - b) > tol * (std::fabs(a) + std::fabs(b)) + 1e-6 * base;
      };
      for (int v : c.spikes)
        if (differ((*ev.Get(v))[i], mv.output[i]))
          return absl::InvalidArgumentError(absl::StrCat(
              "self-check failed at step ", c.t, ": output ", s_.value(v).name, " is ",
              (*ev.Get(v))[i], " in the graph but ", mv.output[i], " in the recognised model"));
      if (!check_states) continue;
      for (int j = 0; j < k && j < static_cast<int>(c.states_out.size()); ++j)
        if (differ((*ev.Get(c.states_out[j]))[i], mv.next[perm[j]][i]))
          return absl::InvalidArgumentError(absl::StrCat(
              "self-check failed at step ", c.t, ": state ", s_.value(c.states_out[j]).name, " is ",
              (*ev.Get(c.states_out[j]))[i], " in the graph but ", mv.next[perm[j]][i],
              " in the recognised model"));
    }
  }
  return absl::OkStatus();
}

absl::Status NeuronAnalyzer::VerifyAnyOrder(const Cell& c, const NeuronModel& m) const {
  std::vector<int> perm = Identity(m.states);
  absl::Status first = VerifyCell(c, m, perm, !c.states_out.empty());
  if (first.ok()) return first;
  while (std::next_permutation(perm.begin(), perm.end()))
    if (VerifyCell(c, m, perm, !c.states_out.empty()).ok()) return absl::OkStatus();
  return first;
}

absl::Status NeuronAnalyzer::RolloutWith(const std::vector<Cell>& cells, const NeuronModel& m) const {
  std::vector<int> nodes;
  for (const Cell& c : cells) nodes.insert(nodes.end(), c.nodes.begin(), c.nodes.end());
  std::sort(nodes.begin(), nodes.end());
  nodes.erase(std::unique(nodes.begin(), nodes.end()), nodes.end());
  const std::vector<int64_t> positions = SamplePositions(Numel(m.shape), 32);
  const double base = Scale(m);
  double tol = CellTolerance(s_, nodes);
  for (int round = 0; round < 4; ++round) {
    SampleEvaluator ev(s_, m.shape, positions);
    const int n = ev.samples();
    std::vector<std::vector<std::vector<double>>> cur(cells.size());
    for (const Cell& c : cells)
      for (int v : c.currents) {
        std::vector<double> x(n);
        Shape sh = s_.ShapeOf(v).value_or(m.shape);
        for (int i = 0; i < n; ++i)
          x[i] = base * kRoundScales[round] * (1.5 * Probe(v + 7, ev.OffsetIn(sh, i), round) + 0.4);
        ev.Bind(v, x);
        cur[c.t].push_back(std::move(x));
      }
    if (absl::Status st = ev.Run(nodes); !st.ok()) return st;
    std::vector<std::vector<double>> state(m.states);
    for (int k = 0; k < m.states; ++k) state[k].assign(n, m.initial[k]);
    std::vector<char> diverged(n, 0);
    for (const Cell& c : cells) {
      std::vector<std::vector<double>> vars = state;
      for (auto& x : cur[c.t]) vars.push_back(x);
      if (static_cast<int>(vars.size()) != m.states + m.currents)
        return absl::InvalidArgumentError(absl::StrCat("step ", c.t, " has ", cur[c.t].size(),
                                                       " input currents, the model ", m.currents));
      ModelValues mv = EvalModel(m, vars, ev);
      for (int i = 0; i < n; ++i) {
        for (const auto& g : mv.gate_scale)
          if (std::fabs(g[i]) <= 1e-4 * base * kRoundScales[round]) diverged[i] = 1;
        if (diverged[i]) continue;
        for (int v : c.spikes) {
          double a = (*ev.Get(v))[i], b = mv.output[i];
          if (std::fabs(a - b) > tol * (std::fabs(a) + std::fabs(b)) + 1e-6 * base)
            return absl::InvalidArgumentError(absl::StrCat(
                "self-check failed when running all ", cells.size(), " steps from the initial state: ",
                "output ", s_.value(v).name, " of step ", c.t, " is ", a, " in the graph but ", b,
                " in the recognised model"));
        }
      }
      if (!mv.next.empty()) state = mv.next;
    }
  }
  return absl::OkStatus();
}

absl::Status NeuronAnalyzer::VerifyRollout(const std::vector<Cell>& cells, NeuronModel* m) const {
  // The graph folded its initial state in: zero, or the reset value.
  std::vector<std::vector<double>> candidates = {std::vector<double>(m->states, 0.0)};
  NeuronFacts f = DescribeModel(*m);
  if (m->states > 0 && f.reset == ir::ResetMode::kZero && f.reset_value != 0.0) {
    candidates.push_back(candidates[0]);
    candidates.back()[0] = f.reset_value;
  }
  absl::Status first;
  for (const auto& init : candidates) {
    m->initial = init;
    absl::Status st = RolloutWith(cells, *m);
    if (st.ok()) return st;
    if (first.ok()) first = st;
  }
  m->initial = candidates[0];
  return first;
}

// A loop-carried state the body passes on unchanged keeps its initial
// value: it is a constant, not a state.
void NeuronAnalyzer::FoldConstantStates(NeuronModel* m) const {
  for (int i = 0; i < m->states && i < static_cast<int>(m->next.size()); ++i) {
    if (!PolyContext::Equal(m->next[i], PolyContext::Variable(i))) continue;
    Tensor init = Tensor::Scalar(m->initial[i], TP::DOUBLE);
    auto fold = [&](Poly* p) {
      std::vector<Term> terms;
      for (Term t : p->terms) {
        if (t.var == i) {
          t.var = -1;
          t.coef = CoefMul(t.coef, init);
        }
        terms.push_back(std::move(t));
      }
      *p = PolyContext::Add(Poly{}, Poly{terms});
    };
    for (Atom& a : m->gates) fold(&a.arg);
    for (Poly& p : m->next) fold(&p);
    fold(&m->output);
  }
}

void NeuronAnalyzer::DropIrrelevantStates(NeuronModel* m) const {
  const int k = m->states;
  std::vector<char> relevant(k, 0);
  auto mark = [&](const Poly& p, bool* changed) {
    uint32_t gates = UsedGates(m->gates, p.Gates());
    std::vector<const Poly*> polys = {&p};
    for (size_t g = 0; g < m->gates.size(); ++g)
      if (gates & (uint32_t{1} << g)) polys.push_back(&m->gates[g].arg);
    for (const Poly* q : polys)
      for (const Term& t : q->terms)
        if (t.var >= 0 && t.var < k && !relevant[t.var]) {
          relevant[t.var] = 1;
          *changed = true;
        }
  };
  bool changed = true;
  mark(m->output, &changed);
  while (changed) {
    changed = false;
    for (int i = 0; i < k; ++i)
      if (relevant[i] && i < static_cast<int>(m->next.size())) mark(m->next[i], &changed);
  }
  std::vector<int> map(k + m->currents);
  int kept = 0;
  for (int i = 0; i < k; ++i) map[i] = relevant[i] ? kept++ : -1;
  if (kept == k) return;
  for (int j = 0; j < m->currents; ++j) map[k + j] = kept + j;
  std::vector<Poly> next;
  std::vector<double> initial;
  std::vector<int> origin;
  for (int i = 0; i < k; ++i)
    if (relevant[i] && i < static_cast<int>(m->next.size())) {
      next.push_back(RenumberVars(m->next[i], map));
      initial.push_back(m->initial[i]);
      origin.push_back(m->origin[i]);
    }
  m->origin = std::move(origin);
  for (Atom& a : m->gates) a.arg = RenumberVars(a.arg, map);
  m->output = RenumberVars(m->output, map);
  m->next = std::move(next);
  m->initial = std::move(initial);
  m->states = kept;
  PruneGates(m);
}


// ---- readable facts ------------------------------------------------------------

Poly WithoutGates(Poly p, uint32_t gates, bool keep) {
  for (int g = 0; g < 32; ++g)
    if (gates & (uint32_t{1} << g)) p = PolyContext::Restrict(p, g, keep);
  return p;
}

Tensor ConstPart(const Poly& p) {
  const Term* t = p.Find(-1, 0);
  return t ? t->coef : Tensor::Scalar(0.0, TP::DOUBLE);
}

Tensor CoefOf(const Poly& p, int var) {
  const Term* t = p.Find(var, 0);
  return t ? t->coef : Tensor::Scalar(0.0, TP::DOUBLE);
}

// The variable terms (no gates) of p.
Poly VarPart(const Poly& p) {
  Poly out;
  for (const Term& t : p.terms)
    if (t.var >= 0 && t.gates == 0) out.terms.push_back(t);
  return out;
}

bool IsConstantPoly(const Poly& p) {
  return std::all_of(p.terms.begin(), p.terms.end(),
                     [](const Term& t) { return t.var < 0 && t.gates == 0; });
}

// `a` = lambda * `b` term by term (same keys, one common factor): lambda.
std::optional<Tensor> Ratio(const Poly& a, const Poly& b) {
  if (a.terms.empty() || a.terms.size() != b.terms.size()) return std::nullopt;
  std::optional<Tensor> inv = CoefInverse(b.terms[0].coef);
  if (!inv) return std::nullopt;
  Tensor lambda = CoefMul(a.terms[0].coef, *inv);
  if (CoefSign(lambda) <= 0) return std::nullopt;
  if (!PolyContext::Equal(a, PolyContext::Scale(b, lambda), 1e-6)) return std::nullopt;
  return lambda;
}

std::optional<double> UniformOf(const Tensor& t) { return t.Uniform(); }

bool AllEqual(const Tensor& t, double v) {
  std::optional<double> u = t.Uniform();
  return u && std::fabs(*u - v) <= 1e-6 * std::max(1.0, std::fabs(v));
}

// A reset decided on the carried membrane, next = v + r * qr: subtract a
// constant, or zero (the decayed membrane, or the whole new value, dropped).
ir::ResetMode DelayedReset(const Poly& qr, const Poly& v, const Poly& decayed, int gates, Tensor* amount) {
  if (gates != 1) return ir::ResetMode::kOther;
  if (IsConstantPoly(qr)) {
    *amount = CoefNeg(ConstPart(qr));
    return ir::ResetMode::kSubtract;
  }
  if (PolyContext::Add(qr, decayed).IsZero() || PolyContext::Add(qr, v).IsZero()) return ir::ResetMode::kZero;
  return ir::ResetMode::kOther;
}

// Alpha neurons (snnTorch Alpha): the membrane is a weighted sum of an
// excitatory and an inhibitory synaptic current, each a leaky integrator of
// the input (with opposite signs).
bool DescribeAlpha(const NeuronModel& m, int mem, uint32_t gates, NeuronFacts* f) {
  const int k = m.states;
  int exc = -1, inh = -1;
  for (int j = 0; j < k; ++j) {
    if (j == mem) continue;
    Poly v = VarPart(WithoutGates(m.next[j], gates, false));
    if (v.terms.size() != 2 || !v.HasVar(j) || !v.HasVar(k)) return false;
    int sign = CoefSign(CoefOf(v, k));
    (sign > 0 ? exc : inh) = j;
  }
  if (exc < 0 || inh < 0) return false;
  f->kind = "alpha";
  f->syn_decay = CoefOf(WithoutGates(m.next[exc], gates, false), exc);
  f->decay = CoefOf(WithoutGates(m.next[inh], gates, false), inh);
  f->input_gain = CoefOf(WithoutGates(m.next[exc], gates, false), k);
  const Poly v = WithoutGates(m.next[exc], gates, false);
  Poly delayed = PolyContext::Add(m.next[exc], PolyContext::Neg(v));
  if (!delayed.IsZero()) {
    f->timing = ir::ResetTiming::kNextStep;
    uint32_t g = delayed.Gates();
    f->reset = DelayedReset(WithoutGates(delayed, g, true), v, v, __builtin_popcount(g), &f->reset_amount);
  }
  return true;
}

}  // namespace

NeuronFacts DescribeModel(const NeuronModel& m) {
  NeuronFacts f;
  f.kind = "custom";
  const Tensor zero = Tensor::Scalar(0.0, TP::DOUBLE), one = Tensor::Scalar(1.0, TP::DOUBLE);
  f.decay = f.threshold = f.syn_decay = f.reset_amount = zero;
  f.input_gain = f.spike_gain = one;
  if (m.fire < 0) return f;
  const uint32_t fire_bit = uint32_t{1} << m.fire;
  const uint32_t pre = ((uint32_t{1} << m.gates.size()) - 1) & ~fire_bit;
  f.inclusive = m.gates[m.fire].inclusive;
  if (const Term* t = m.output.Find(-1, fire_bit)) f.spike_gain = t->coef;
  const Poly arg0 = WithoutGates(m.gates[m.fire].arg, pre, false);
  const int k = m.states;
  if (k == 0) {
    // Stateless: the fire test sees gain * I - threshold (variable 0 is the
    // first current). SpikingJelly convention: decay = 1 - gain.
    f.kind = "lif";
    f.input_gain = CoefOf(arg0, 0);
    f.threshold = CoefNeg(ConstPart(arg0));
    f.decay = AllEqual(f.input_gain, 1.0) ? zero : CoefAdd(one, CoefNeg(f.input_gain));
    return f;
  }
  // The membrane: the state whose charge (no spike, no reset) is what the
  // fire test compares, up to a positive factor.
  int mem = -1;
  Tensor lambda = one;
  for (int i = 0; i < k && i < static_cast<int>(m.next.size()); ++i) {
    Poly v = WithoutGates(m.next[i], pre | fire_bit, false);
    if (std::optional<Tensor> l = Ratio(VarPart(arg0), VarPart(v))) {
      mem = i;
      lambda = *l;
      break;
    }
  }
  if (mem < 0) return f;
  const Poly v = WithoutGates(m.next[mem], pre | fire_bit, false);
  const Poly next0 = PolyContext::Restrict(m.next[mem], m.fire, false);  // no spike, resets kept
  std::optional<Tensor> inv_lambda = CoefInverse(lambda);
  f.threshold = CoefAdd(ConstPart(v), CoefNeg(CoefMul(ConstPart(arg0), *inv_lambda)));
  f.decay = CoefOf(v, mem);
  f.input_gain = CoefOf(v, k);
  // After the fire: next = next0 + spike * q.
  Poly with_spike = WithoutGates(PolyContext::Restrict(m.next[mem], m.fire, true), 0, false);
  Poly q = PolyContext::Add(with_spike, PolyContext::Neg(next0));
  if (!q.IsZero()) {
    f.timing = ir::ResetTiming::kAfterFire;
    Poly hard = PolyContext::Add(q, next0);
    if (IsConstantPoly(q)) {
      f.reset = ir::ResetMode::kSubtract;
      f.reset_amount = CoefNeg(ConstPart(q));
    } else if (IsConstantPoly(hard)) {
      f.reset = ir::ResetMode::kZero;
      f.reset_value = UniformOf(ConstPart(hard)).value_or(0.0);
    } else {
      f.reset = ir::ResetMode::kOther;
    }
  } else {
    // Before the charge, decided on the carried membrane: next0 = v + r * q.
    Poly delayed = PolyContext::Add(next0, PolyContext::Neg(v));
    if (!delayed.IsZero()) {
      f.timing = ir::ResetTiming::kNextStep;
      uint32_t g = delayed.Gates();
      Poly qr = WithoutGates(delayed, g, true);
      f.reset = DelayedReset(qr, v, PolyContext::Scale(PolyContext::Variable(mem), f.decay),
                             __builtin_popcount(g), &f.reset_amount);
    }
  }
  if (k == 1) {
    f.kind = AllEqual(f.decay, 1.0) ? "if" : "lif";
  } else if (k == 2) {
    int syn = 1 - mem;
    Poly sv = WithoutGates(m.next[syn], pre | fire_bit, false);
    // Several currents (a residual or recurrent one summed into the neuron)
    // must all enter the synaptic state with one gain.
    const int currents = std::max(1, m.currents);
    bool same_gain = true;
    for (int j = 1; j < currents; ++j)
      same_gain = same_gain && AllEqual(CoefAdd(CoefOf(sv, k + j), CoefNeg(CoefOf(sv, k))), 0.0);
    bool leaky = VarPart(sv).terms.size() <= static_cast<size_t>(1 + currents) && sv.HasVar(k) &&
                 same_gain && !v.HasVar(k + currents);
    if (leaky && v.HasVar(syn)) {
      f.kind = "synaptic";
      f.syn_decay = CoefOf(sv, syn);
      // The membrane reads the synaptic current after its update.
      f.input_gain = CoefOf(sv, k);
    }
  } else if (k == 3) {
    DescribeAlpha(m, mem, pre | fire_bit, &f);
  }
  return f;
}

namespace {

// State 0 becomes the membrane (the state the spike is tested on).
void MembraneFirst(NeuronModel* m) {
  if (m->states < 2 || m->fire < 0) return;
  const uint32_t fire_bit = uint32_t{1} << m->fire;
  const uint32_t pre = ((uint32_t{1} << m->gates.size()) - 1) & ~fire_bit;
  Poly arg0 = VarPart(WithoutGates(m->gates[m->fire].arg, pre, false));
  int mem = -1;
  for (int i = 0; i < m->states && mem < 0; ++i)
    if (Ratio(arg0, VarPart(WithoutGates(m->next[i], pre | fire_bit, false)))) mem = i;
  if (mem <= 0) return;
  std::vector<int> map(m->states + m->currents);
  std::iota(map.begin(), map.end(), 0);
  map[mem] = 0;
  for (int i = 0; i < mem; ++i) map[i] = i + 1;
  std::vector<Poly> next(m->states);
  std::vector<double> initial(m->states);
  std::vector<int> origin(m->states);
  for (int i = 0; i < m->states; ++i) {
    next[map[i]] = RenumberVars(m->next[i], map);
    initial[map[i]] = m->initial[i];
    origin[map[i]] = m->origin[i];
  }
  m->origin = std::move(origin);
  for (Atom& a : m->gates) a.arg = RenumberVars(a.arg, map);
  m->output = RenumberVars(m->output, map);
  m->next = std::move(next);
  m->initial = std::move(initial);
}

// State values recorded by position become model state indices.
void MapStates(NeuronGroup* g) {
  std::vector<NeuronGroup::StateValue> mapped;
  for (NeuronGroup::StateValue sv : g->state_values) {
    const std::vector<int>& origin = g->model.origin;
    auto it = std::find(origin.begin(), origin.end(), sv.state);
    if (it == origin.end()) continue;
    sv.state = static_cast<int>(it - origin.begin());
    mapped.push_back(sv);
  }
  g->state_values = std::move(mapped);
}

absl::StatusOr<NeuronGroup> AnalyzeComponent(const Scope& s, const Regions& r, int comp,
                                             bool body) {
  NeuronAnalyzer a(s, r, comp, body);
  absl::StatusOr<NeuronGroup> g = a.Run();
  if (g.ok()) {
    MembraneFirst(&g->model);
    MapStates(&*g);
    g->facts = DescribeModel(g->model);
  }
  return g;
}

// ---- SpikingJelly multi-step: a Loop whose body is one neuron -------------------

std::vector<char> IterOnly(const Scope& s) {
  std::vector<char> only(s.num_values(), 0);
  for (int v = 0; v < s.num_values(); ++v) only[v] = s.IsConst(v);
  const std::vector<int>& in = s.graph_inputs();
  for (size_t i = 0; i < in.size() && i < 2; ++i) only[in[i]] = 1;
  for (int n = 0; n < s.num_nodes(); ++n) {
    bool all = s.info(n) != nullptr;
    for (int id : s.inputs(n)) all &= id < 0 || only[id];
    if (all)
      for (int o : s.outputs(n))
        if (o >= 0) only[o] = 1;
  }
  return only;
}

// Values read only for their shape (by Shape / Size, directly or through
// nodes whose outputs are themselves read only for their shape).
std::vector<char> ShapeOnly(const Scope& s) {
  std::vector<char> only(s.num_values(), 0);
  for (int n = s.num_nodes() - 1; n >= 0; --n) {
    const std::string& op = s.node(n).op_type();
    bool query = op == "Shape" || op == "Size";
    bool outs_only = !s.outputs(n).empty();
    for (int o : s.outputs(n)) outs_only &= o < 0 || only[o];
    if (!query && !outs_only) continue;
    for (int id : s.inputs(n)) {
      if (id < 0 || s.value(id).graph_output) continue;
      bool all = true;
      for (int c : s.value(id).consumers) {
        const std::string& cop = s.node(c).op_type();
        bool c_outs = !s.outputs(c).empty();
        for (int o : s.outputs(c)) c_outs &= o < 0 || only[o];
        all &= cop == "Shape" || cop == "Size" || (c >= n && c_outs);
      }
      if (all) only[id] = 1;
    }
  }
  return only;
}

bool HasThreshold(const Scope& s) {
  for (int n = 0; n < s.num_nodes(); ++n)
    if (IsThreshold(s, n)) return true;
  return false;
}

absl::StatusOr<NeuronGroup> AnalyzeLoop(const Scope& main, int node) {
  const onnx::NodeProto& loop = main.node(node);
  const Scope& body = *main.body(node);
  auto fail = [&](const std::string& why) {
    return absl::InvalidArgumentError(
        absl::StrCat("node ", NodeLabel(loop), ": spiking Loop not understood: ", why));
  };
  const Tensor* trip = main.ConstOf(main.inputs(node)[0]);
  if (!trip || !trip->Uniform())
    return fail("its trip count is not a constant (symbolic T? pin it with --timesteps)");
  const int64_t trips = ToInt64(*trip->Uniform());
  if (trips < 1) return fail(absl::StrCat("trip count ", trips, ": the neuron never runs"));
  if (const Tensor* cond = main.ConstOf(main.inputs(node)[1]); cond && cond->Uniform() == 0.0)
    return fail("its condition input is false: the neuron never runs");
  Regions r = FindRegions(body, {});
  int comp = -1;
  for (size_t c = 0; c < r.comps.size(); ++c)
    if (r.has_fire[c]) {
      if (comp >= 0) return fail("its body holds more than one spiking neuron");
      comp = static_cast<int>(c);
    }
  if (comp < 0) return fail("its threshold test produces no spikes");
  const std::vector<int>& bin = body.graph_inputs();
  NeuronAnalyzer::InitialFn initial = [&](int v) -> std::optional<double> {
    for (size_t k = 2; k < bin.size(); ++k)
      if (body.Resolve(bin[k]) == v) {
        const Tensor* t = main.ConstOf(main.inputs(node)[k]);
        return t ? t->Uniform() : std::nullopt;
      }
    return std::nullopt;
  };
  NeuronAnalyzer analyzer(body, r, comp, true, initial);
  absl::StatusOr<NeuronGroup> bg = analyzer.Run();
  if (!bg.ok()) return fail(std::string(bg.status().message()));
  MembraneFirst(&bg->model);
  MapStates(&*bg);
  // Every other body node is plumbing: iteration arithmetic, the time step
  // of an outer tensor (the current), views of spikes, spike buffer writes.
  std::vector<char> iter_only = IterOnly(body);
  std::vector<char> shape_only = ShapeOnly(body);
  absl::flat_hash_set<int> spike_like;
  for (int v : bg->spikes[0]) spike_like.insert(v);
  // Body values holding a state after the step (and views of them), by state.
  absl::flat_hash_map<int, int> state_like;
  for (const NeuronGroup::StateValue& sv : bg->state_values)
    if (sv.step >= 0) state_like[sv.value] = sv.state;
  absl::flat_hash_map<int, int> gathers;  // body value -> main value it slices
  absl::flat_hash_map<int, int> buffers;  // carried index -> ScatterND node
  // Carried buffers recording a state at every step (SpikingJelly
  // store_v_seq): carried index -> (ScatterND node, state).
  absl::flat_hash_map<int, std::pair<int, int>> state_buffers;
  std::vector<int> index_values;          // values that must equal the iteration
  for (int n = 0; n < body.num_nodes(); ++n) {
    if (r.comp[n] == comp || IsAliasNode(body, n)) continue;
    const onnx::NodeProto& bn = body.node(n);
    const std::vector<int>& outs = body.outputs(n);
    bool plumbing = std::all_of(outs.begin(), outs.end(),
                                [&](int o) { return o < 0 || iter_only[o] || shape_only[o]; });
    if (plumbing) continue;
    const std::vector<int>& in = body.inputs(n);
    auto resolved = [&](int i) { return i < static_cast<int>(in.size()) && in[i] >= 0 ? body.Resolve(in[i]) : -1; };
    if (bn.op_type() == "Gather" && AttrInt(bn, "axis", 0) == 0 && resolved(0) >= 0 &&
        body.value(resolved(0)).outer == &main && resolved(1) >= 0 && iter_only[resolved(1)]) {
      gathers[body.Resolve(outs[0])] = body.value(resolved(0)).outer_id;
      index_values.push_back(resolved(1));
      continue;
    }
    const OpInfo* info = body.info(n);
    if (info && info->layer == LayerRule::kView && resolved(0) >= 0 && spike_like.contains(resolved(0))) {
      for (int o : outs)
        if (o >= 0) spike_like.insert(body.Resolve(o));
      continue;
    }
    if (info && info->layer == LayerRule::kView && resolved(0) >= 0 && state_like.contains(resolved(0))) {
      for (int o : outs)
        if (o >= 0) state_like[body.Resolve(o)] = state_like.at(resolved(0));
      continue;
    }
    if (bn.op_type() == "ScatterND" && resolved(2) >= 0 && state_like.contains(resolved(2)) &&
        iter_only[resolved(1)]) {
      bool carried_buffer = false;
      for (size_t k = 2; k < bin.size(); ++k)
        if (body.Resolve(bin[k]) == resolved(0)) {
          state_buffers[static_cast<int>(k) - 2] = {n, state_like.at(resolved(2))};
          carried_buffer = true;
        }
      if (carried_buffer) continue;
    }
    if (bn.op_type() == "ScatterND" && resolved(2) >= 0 && spike_like.contains(resolved(2)) &&
        iter_only[resolved(1)]) {
      bool carried_buffer = false;
      for (size_t k = 2; k < bin.size(); ++k)
        if (body.Resolve(bin[k]) == resolved(0)) {
          buffers[static_cast<int>(k) - 2] = n;
          carried_buffer = true;
        }
      if (carried_buffer) continue;
    }
    return fail(absl::StrCat("its body node ", NodeLabel(bn),
                             " is not part of the neuron (a Loop around layers is not supported)"));
  }
  NeuronGroup g;
  g.loop_node = node;
  g.loop_trips = trips;
  g.nodes = {node};
  g.model = std::move(bg->model);
  g.facts = DescribeModel(g.model);
  g.anchor = absl::StrCat(bg->anchor, " in ", NodeLabel(loop));
  std::vector<int> currents;
  for (int v : bg->currents[0]) {
    auto it = gathers.find(v);
    if (it == gathers.end())
      return fail(absl::StrCat("the neuron's input ", body.value(v).name,
                               " is not one time step of a tensor outside the Loop"));
    currents.push_back(it->second);
  }
  g.currents = {currents};
  // The iteration indexes time: check the indices at a few iterations.
  for (int64_t t : std::set<int64_t>{0, std::min<int64_t>(1, trips - 1), trips - 1}) {
    absl::StatusOr<std::unique_ptr<Scope>> at = main.BodyAt(node, t);
    if (!at.ok()) return at.status();
    auto index_is_t = [&](int v) {
      const Tensor* c = (*at)->ConstOf(v);
      return c && c->materialized() && c->numel() == 1 && c->at(0) == static_cast<double>(t);
    };
    for (int v : index_values)
      if (!index_is_t(v)) return fail("its input is not sliced at the iteration number");
    for (const auto& [k, n] : buffers)
      if (!index_is_t((*at)->Resolve((*at)->inputs(n)[1])))
        return fail("its spikes are not written at the iteration number");
    for (const auto& [k, ns] : state_buffers)
      if (!index_is_t((*at)->Resolve((*at)->inputs(ns.first)[1])))
        return fail("its recorded states are not written at the iteration number");
    const Tensor* cond = (*at)->ConstOf((*at)->graph_outputs()[0]);
    if (!cond || cond->Uniform() == 0.0) return fail("its loop condition is not constant true");
  }
  // Loop outputs: spike buffers and scan outputs carry spikes; carried
  // states leave as final values.
  const std::vector<int>& bout = body.graph_outputs();
  const int carried = static_cast<int>(bin.size()) - 2;
  std::vector<int> spikes;
  for (size_t k = 0; k < main.outputs(node).size(); ++k) {
    int out = main.outputs(node)[k];
    if (out < 0) continue;
    int b = body.Resolve(bout[k + 1]);
    if (auto sb = state_buffers.find(static_cast<int>(k));
        sb != state_buffers.end() && b == body.Resolve(body.outputs(sb->second.first)[0])) {
      std::optional<Shape> init = main.ShapeOf(main.inputs(node)[k + 2]);
      if (!init || init->empty() || (*init)[0] != trips)
        return fail(absl::StrCat("its state buffer ", main.value(out).name, " does not have T = ", trips,
                                 " rows"));
      g.state_values.push_back({out, sb->second.second, kAllSteps});
      continue;
    }
    if (static_cast<int>(k) < carried && buffers.contains(static_cast<int>(k)) &&
        b == body.Resolve(body.outputs(buffers.at(static_cast<int>(k)))[0])) {
      std::optional<Shape> init = main.ShapeOf(main.inputs(node)[k + 2]);
      if (!init || init->empty() || (*init)[0] != trips)
        return fail(absl::StrCat("its spike buffer ", main.value(out).name, " does not have T = ", trips,
                                 " rows"));
      spikes.push_back(out);
    } else if (static_cast<int>(k) >= carried && spike_like.contains(b)) {
      spikes.push_back(out);
    } else if (static_cast<int>(k) < carried) {
      continue;  // a carried state or constant: its final value
    } else {
      return fail(absl::StrCat("its output ", main.value(out).name, " does not carry spikes"));
    }
  }
  if (spikes.empty()) return fail("none of its outputs carries the spikes");
  g.spikes = {spikes};
  // A carried state leaves the Loop as its value after the last step.
  for (const NeuronGroup::StateValue& sv : bg->state_values)
    for (size_t k = 0; k + 2 < bin.size() && k < main.outputs(node).size(); ++k)
      if (body.Resolve(bout[k + 1]) == sv.value && sv.step >= 0 && main.outputs(node)[k] >= 0)
        g.state_values.push_back({main.outputs(node)[k], sv.state, static_cast<int>(trips) - 1});
  return g;
}

// ---- joins of spikes --------------------------------------------------------------

absl::StatusOr<JoinGroup> ClassifyJoin(const Scope& s, const Regions& r, const std::vector<int>& nodes,
                                       const std::function<double(int)>& on_value) {
  JoinGroup j;
  j.nodes = nodes;
  absl::flat_hash_set<int> produced;
  for (int n : nodes) produced.insert(s.outputs(n)[0]);
  for (int n : nodes)
    for (int d : DynamicInputs(s, n))
      if (!produced.contains(d) && std::find(j.inputs.begin(), j.inputs.end(), d) == j.inputs.end())
        j.inputs.push_back(d);
  std::vector<int> outs;
  for (int n : nodes) {
    int v = s.outputs(n)[0];
    bool out = r.routput[v];
    for (int c : r.rcons[v]) out |= std::find(nodes.begin(), nodes.end(), c) == nodes.end();
    if (out) outs.push_back(v);
  }
  std::string where = NodeLabel(s.node(nodes.back()));
  auto fail = [&](const std::string& why) {
    return absl::InvalidArgumentError(absl::StrCat("node ", where, ": spikes combined elementwise: ", why));
  };
  if (outs.size() != 1) return fail("the combination has more than one result");
  j.output = outs[0];
  if (j.inputs.empty() || j.inputs.size() > 2)
    return fail(absl::StrCat("it combines ", j.inputs.size(), " spike inputs (joins of 1 or 2 are supported)"));
  std::optional<Shape> shape = s.ShapeOf(j.output);
  if (!shape) return fail("its shape is unknown");
  const size_t L = j.inputs.size();
  std::vector<double> on(L), table(size_t{1} << L);
  for (size_t i = 0; i < L; ++i) on[i] = on_value(j.inputs[i]);
  for (size_t mask = 0; mask < table.size(); ++mask) {
    SampleEvaluator ev(s, *shape, {0});
    for (size_t i = 0; i < L; ++i) ev.Bind(j.inputs[i], {mask & (size_t{1} << i) ? on[i] : 0.0});
    if (absl::Status st = ev.Run(nodes); !st.ok()) return fail(std::string(st.message()));
    table[mask] = (*ev.Get(j.output))[0];
  }
  auto is = [&](std::vector<double> want) {
    for (size_t m = 0; m < table.size(); ++m)
      if (std::fabs(table[m] - want[m]) > 1e-6 * (1 + std::fabs(want[m]))) return false;
    return true;
  };
  if (L == 1) {
    if (table[0] != 0.0 || table[1] == 0.0) return fail("it maps a 0 spike to a non-zero value");
    j.kind = JoinGroup::Kind::kGain;
    j.gain = table[1] / on[0];
    return j;
  }
  if (is({0, on[0], on[1], on[0] + on[1]})) {
    j.kind = JoinGroup::Kind::kAdd;
  } else if (on[0] == 1 && on[1] == 1 && is({0, 1, 1, 1})) {
    j.kind = JoinGroup::Kind::kOr;
  } else if (on[0] == 1 && on[1] == 1 && is({0, 0, 0, 1})) {
    j.kind = JoinGroup::Kind::kAnd;
  } else if (on[0] == 1 && on[1] == 1 && is({0, 0, 1, 0})) {
    j.kind = JoinGroup::Kind::kIAnd;  // (not a) and b
  } else if (on[0] == 1 && on[1] == 1 && is({0, 1, 0, 0})) {
    j.kind = JoinGroup::Kind::kIAnd;
    std::swap(j.inputs[0], j.inputs[1]);
  } else {
    return fail(absl::StrCat("its truth table (", table[0], ", ", table[1], ", ", table[2], ", ", table[3],
                             ") is none of ADD, OR, AND, IAND"));
  }
  return j;
}

// A Loop neuron whose current is scaled by a constant just before the Loop
// (ann2snn voltage scaling on the time-folded tensor): the scale is the
// neuron's input gain, as it is when the same net is unrolled.
void AbsorbInputGains(const Scope& main, const Regions& r, NeuronGroup* g) {
  for (size_t j = 0; j < g->currents[0].size(); ++j) {
    int x = g->currents[0][j];
    double gain = 1.0;
    for (int hop = 0; hop < 64; ++hop) {
      int p = main.value(x).producer;
      if (p < 0 || r.rcons[x].size() != 1) break;
      const std::string& op = main.node(p).op_type();
      std::vector<int> dyn = DynamicInputs(main, p);
      if ((op != "Mul" && op != "Div") || dyn.size() != 1) break;
      int k = -1;
      for (int id : main.inputs(p))
        if (id >= 0 && main.IsConst(id)) k = id;
      std::optional<double> c = main.ConstOf(k)->Uniform();
      if (!c || *c == 0.0 || (op == "Div" && main.Resolve(main.inputs(p)[0]) != dyn[0])) break;
      gain *= op == "Mul" ? *c : 1.0 / *c;
      g->nodes.push_back(p);
      x = dyn[0];
    }
    if (gain == 1.0) continue;
    g->currents[0][j] = x;
    int var = g->model.states + static_cast<int>(j);
    Tensor k = Tensor::Scalar(gain, TP::DOUBLE);
    auto scale = [&](Poly* p) {
      for (Term& t : p->terms)
        if (t.var == var) t.coef = CoefMul(t.coef, k);
    };
    for (Atom& a : g->model.gates) scale(&a.arg);
    for (Poly& p : g->model.next) scale(&p);
    scale(&g->model.output);
  }
  g->facts = DescribeModel(g->model);
  std::sort(g->nodes.begin(), g->nodes.end());
}

}  // namespace

absl::StatusOr<ElementwiseAnalysis> AnalyzeElementwise(const Scope& main) {
  ElementwiseAnalysis out;
  absl::flat_hash_set<int> spike_values;
  for (int n = 0; n < main.num_nodes(); ++n) {
    const OpInfo* info = main.info(n);
    if (!info || info->role != OpRole::kLoop || !main.body(n) || !HasThreshold(*main.body(n))) continue;
    absl::StatusOr<NeuronGroup> g = AnalyzeLoop(main, n);
    if (!g.ok()) return g.status();
    for (int v : g->spikes[0]) spike_values.insert(v);
    out.neurons.push_back(std::move(*g));
  }
  Regions r = FindRegions(main, spike_values);
  for (NeuronGroup& g : out.neurons) AbsorbInputGains(main, r, &g);
  for (size_t c = 0; c < r.comps.size(); ++c) {
    if (!r.has_fire[c]) continue;
    absl::StatusOr<NeuronGroup> g = AnalyzeComponent(main, r, static_cast<int>(c), false);
    if (!g.ok()) return g.status();
    out.neurons.push_back(std::move(*g));
  }
  std::stable_sort(out.neurons.begin(), out.neurons.end(), [](const NeuronGroup& a, const NeuronGroup& b) {
    return a.nodes.front() < b.nodes.front();
  });
  out.node_neuron.assign(main.num_nodes(), -1);
  absl::flat_hash_map<int, double> on;
  for (size_t i = 0; i < out.neurons.size(); ++i) {
    const NeuronGroup& g = out.neurons[i];
    for (int n : g.nodes) out.node_neuron[n] = static_cast<int>(i);
    double gain = g.facts.spike_gain.Uniform().value_or(1.0);
    for (const auto& step : g.spikes)
      for (int v : step) on[main.Resolve(v)] = gain;
  }
  // The value a spike input has when it fires: its neuron's gain, through views.
  auto on_value = [&](int v) {
    for (int hop = 0; hop < 64 && v >= 0; ++hop) {
      if (auto it = on.find(v); it != on.end()) return it->second;
      int p = main.value(v).producer;
      const OpInfo* info = p >= 0 ? main.info(p) : nullptr;
      if (!info || (info->layer != LayerRule::kView && info->layer != LayerRule::kConcat &&
                    main.node(p).op_type() != "MaxPool"))
        break;
      v = main.inputs(p)[0] >= 0 ? main.Resolve(main.inputs(p)[0]) : -1;
    }
    return 1.0;
  };
  out.node_join.assign(main.num_nodes(), -1);
  for (const std::vector<int>& nodes : r.joins) {
    absl::StatusOr<JoinGroup> j = ClassifyJoin(main, r, nodes, on_value);
    if (!j.ok()) return j.status();
    for (int n : nodes) out.node_join[n] = static_cast<int>(out.joins.size());
    out.joins.push_back(std::move(*j));
  }
  // A constant gain on a neuron's spikes (ann2snn scaling outside a Loop)
  // belongs to that neuron's output.
  for (const JoinGroup& j : out.joins) {
    if (j.kind != JoinGroup::Kind::kGain) continue;
    int g = -1;
    int v = j.inputs[0];
    for (int hop = 0; hop < 64 && v >= 0; ++hop) {
      if (on.contains(v)) {
        for (size_t i = 0; i < out.neurons.size() && g < 0; ++i)
          for (const auto& step : out.neurons[i].spikes)
            if (std::count(step.begin(), step.end(), v)) g = static_cast<int>(i);
        break;
      }
      int p = main.value(v).producer;
      const OpInfo* info = p >= 0 ? main.info(p) : nullptr;
      bool passes = info && (info->layer == LayerRule::kView || (main.node(p).op_type() == "MaxPool" && j.gain > 0));
      if (!passes || r.rcons[v].size() != 1) break;
      v = main.inputs(p)[0] >= 0 ? main.Resolve(main.inputs(p)[0]) : -1;
    }
    if (g < 0 || r.rcons[j.inputs[0]].size() != 1)
      return absl::InvalidArgumentError(absl::StrCat(
          "node ", NodeLabel(main.node(j.nodes.back())), ": a constant gain on spikes that are not one neuron's "
          "only output is not supported"));
    NeuronGroup& n = out.neurons[g];
    Tensor k = Tensor::Scalar(j.gain, TP::DOUBLE);
    n.model.output = PolyContext::Scale(n.model.output, k);
    n.facts.spike_gain = CoefMul(n.facts.spike_gain, k);
  }
  out.discrete = std::move(r.discrete);
  return out;
}

}  // namespace snnplan::importer::internal
