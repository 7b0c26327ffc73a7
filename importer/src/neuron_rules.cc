#include "neuron_rules.h"

#include <algorithm>
#include <cmath>
#include <functional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace snnplan::importer::internal {
namespace {

using onnx::NodeProto;

bool IsArithmetic(const std::string& op) {
  return op == "Add" || op == "Sub" || op == "Mul" || op == "Div" || op == "Neg";
}

Coef CoefOf(const Const& c) {
  if (std::optional<double> s = ScalarOf(c)) return {*s, false};
  return {FirstOf(c).value_or(0.0), c.numel() > 1};
}

void AddInto(LinearForm* acc, const LinearForm& f, double sign) {
  for (const auto& [leaf, c] : f.terms) {
    Coef& t = acc->terms[leaf];
    t.value += sign * c.value;
    t.per_neuron |= c.per_neuron;
  }
  acc->constant.value += sign * f.constant.value;
  acc->constant.per_neuron |= f.constant.per_neuron;
  acc->nodes.insert(f.nodes.begin(), f.nodes.end());
}

LinearForm Scale(LinearForm f, Coef k, bool divide) {
  auto apply = [&](Coef& c) {
    c.value = divide ? (k.value == 0 ? 0 : c.value / k.value) : c.value * k.value;
    c.per_neuron |= k.per_neuron;
  };
  for (auto& [leaf, c] : f.terms) apply(c);
  apply(f.constant);
  return f;
}

LinearForm Walk(const Scope& s, const std::string& t,
                const std::set<std::string>& stops, bool root) {
  LinearForm f;
  if (const Const* c = s.ConstOf(t)) {
    f.constant = IsAllZero(*c) ? Coef{0.0, false} : CoefOf(*c);
    return f;
  }
  const NodeProto* p = s.Producer(t);
  if (!p || (!root && stops.count(t))) {
    f.terms[t] = {1.0, false};
    return f;
  }
  const std::string& op = p->op_type();
  auto in = [&](int i) { return Walk(s, p->input(i), stops, false); };
  auto konst = [&](int i) { return s.ConstOf(p->input(i)); };
  if ((op == "Add" || op == "Sub") && p->input_size() == 2) {
    AddInto(&f, in(0), 1.0);
    AddInto(&f, in(1), op == "Add" ? 1.0 : -1.0);
  } else if (op == "Neg" || op == "Identity") {
    AddInto(&f, in(0), op == "Neg" ? -1.0 : 1.0);
  } else if (op == "Mul" && p->input_size() == 2 && (konst(0) || konst(1))) {
    int ci = konst(1) ? 1 : 0;
    f = Scale(in(1 - ci), CoefOf(*konst(ci)), false);
  } else if (op == "Div" && p->input_size() == 2 && konst(1)) {
    f = Scale(in(0), CoefOf(*konst(1)), true);
  } else {
    f.terms[t] = {1.0, false};
    return f;
  }
  f.nodes.insert(p);
  return f;
}

// True when `f` is exactly 1 - spike.
bool IsOneMinus(const LinearForm& f, const std::string& spike) {
  if (f.terms.size() != 1 || !f.terms.count(spike)) return false;
  const Coef& c = f.terms.at(spike);
  return c.value == -1.0 && !c.per_neuron && f.constant.value == 1.0;
}

std::string Other(const NodeProto& n, const std::string& t) {
  return n.input(0) == t ? n.input(1) : n.input(0);
}

// SpikingJelly resets after firing: hard v' = s*vr + (1-s)*v, soft v' = v - s*c.
void FindPostReset(const Scope& s, FireAnalysis* f) {
  f->v_next = f->membrane;
  const std::string& v = f->membrane;
  const std::string& spk = f->spike;
  for (const NodeProto* c : s.Consumers(v)) {
    if (c->input_size() != 2) continue;
    if (c->op_type() == "Mul") {
      LinearForm gate = Walk(s, Other(*c, v), {}, false);
      if (!IsOneMinus(gate, spk)) continue;
      f->post_reset = ir::ResetMode::kZero;
      f->reset_nodes = gate.nodes;
      f->reset_nodes.insert(c);
      f->v_next = c->output(0);
      for (const NodeProto* d : s.Consumers(c->output(0))) {
        if (d->op_type() != "Add" || d->input_size() != 2) continue;
        LinearForm rest = Walk(s, Other(*d, c->output(0)), {}, false);
        if (rest.terms.size() != 1 || !rest.terms.count(spk) || rest.constant.value != 0)
          continue;
        f->post_reset_value = rest.terms.at(spk).value;
        f->reset_nodes.insert(rest.nodes.begin(), rest.nodes.end());
        f->reset_nodes.insert(d);
        f->v_next = d->output(0);
        break;
      }
      return;
    }
    if (c->op_type() == "Sub" && c->input(0) == v) {
      LinearForm amt = Walk(s, c->input(1), {}, false);
      if (amt.terms.size() != 1 || !amt.terms.count(spk) || amt.constant.value != 0)
        continue;
      f->post_reset = ir::ResetMode::kSubtract;
      f->post_reset_value = amt.terms.at(spk).value;
      f->reset_nodes = amt.nodes;
      f->reset_nodes.insert(c);
      f->v_next = c->output(0);
      return;
    }
  }
}

// Fire op = Greater/GreaterOrEqual(a, const) whose only consumer is
// Cast(to=FLOAT); snnTorch compares (m - thr) > 0.
std::optional<FireAnalysis> AnalyzeFireOp(const Scope& s, const NodeProto& n) {
  if ((n.op_type() != "Greater" && n.op_type() != "GreaterOrEqual") || n.input_size() != 2)
    return std::nullopt;
  const auto& cons = s.Consumers(n.output(0));
  if (cons.size() != 1 || cons[0]->op_type() != "Cast" ||
      AttrInt(*cons[0], "to", 0) != onnx::TensorProto::FLOAT)
    return std::nullopt;
  const Const* rhs = s.ConstOf(n.input(1));
  if (!rhs || s.ConstOf(n.input(0))) return std::nullopt;
  FireAnalysis f;
  f.scope = &s;
  f.cmp = &n;
  f.cast = cons[0];
  f.spike = f.spike_out = f.cast->output(0);
  f.membrane = n.input(0);
  Coef thr = CoefOf(*rhs);
  const NodeProto* sub = s.Producer(n.input(0));
  if (IsAllZero(*rhs) && sub && sub->op_type() == "Sub" && s.ConstOf(sub->input(1)) &&
      !s.ConstOf(sub->input(0))) {
    f.sub_zero_form = true;
    f.thr_sub = sub;
    f.membrane = sub->input(0);
    thr = CoefOf(*s.ConstOf(sub->input(1)));
  }
  f.threshold = {thr.value, thr.per_neuron};
  const auto& spk_cons = s.Consumers(f.spike);
  if (spk_cons.size() == 1 && spk_cons[0]->op_type() == "Mul") {
    const Const* g = s.ConstOf(Other(*spk_cons[0], f.spike));
    if (g && ScalarOf(*g)) {
      f.gain = spk_cons[0];
      f.spike_out = f.gain->output(0);
    }
  }
  FindPostReset(s, &f);
  return f;
}

bool StateGraphInput(const Scope& s, const std::string& t) {
  if (!s.IsGraphInput(t)) return false;
  for (const NodeProto* c : s.Consumers(t))
    if (!IsArithmetic(c->op_type())) return false;
  return true;
}

std::optional<StateSource> StateKind(const std::vector<FireAnalysis>& fires, int i,
                                     const std::string& leaf) {
  const FireAnalysis& f = fires[i];
  const Scope& s = *f.scope;
  if (s.parent()) {
    const auto& in = s.graph().input();
    for (int k = 2; k < in.size(); ++k)
      if (in[k].name() == leaf) return StateSource::kLoopCarried;
  }
  if (StateGraphInput(s, leaf)) return StateSource::kGraphInput;
  for (size_t j = 0; j < fires.size(); ++j)
    if (static_cast<int>(j) != i && fires[j].scope == &s &&
        (fires[j].v_next == leaf || fires[j].membrane == leaf))
      return StateSource::kPreviousStep;
  return std::nullopt;
}

int FireOfSpike(const std::vector<FireAnalysis>& fires, const Scope* s,
                const std::string& spike) {
  for (size_t j = 0; j < fires.size(); ++j)
    if (fires[j].scope == s && fires[j].spike == spike) return static_cast<int>(j);
  return -1;
}

// A fire op whose only job is to reset an incoming state (snnTorch computes
// the reset spike from the previous membrane): `leaf` is its gated output,
// its spike feeds nothing but that gate, and its membrane is a state.
int ResetOnlyFire(const std::vector<FireAnalysis>& fires, int i, const std::string& leaf) {
  for (size_t j = 0; j < fires.size(); ++j) {
    const FireAnalysis& r = fires[j];
    if (static_cast<int>(j) == i || r.scope != fires[i].scope || r.v_next != leaf ||
        r.post_reset != ir::ResetMode::kZero || r.post_reset_value != 0.0)
      continue;
    const auto& cons = r.scope->Consumers(r.spike);
    bool gate_only = std::all_of(cons.begin(), cons.end(),
                                 [&](const NodeProto* c) { return r.reset_nodes.count(c) > 0; });
    if (gate_only && StateKind(fires, i, r.membrane)) return static_cast<int>(j);
  }
  return -1;
}

// Splits the charge's leaves into state, delayed reset and current.
void ClassifyCharge(std::vector<FireAnalysis>& fires, int i) {
  FireAnalysis& f = fires[i];
  const Scope& s = *f.scope;
  std::vector<std::pair<std::string, Coef>> rest;
  for (const auto& [leaf, c] : f.charge.terms) {
    if (int j = ResetOnlyFire(fires, i, leaf); j >= 0) {
      // snnTorch zero reset: (1 - r) * mem_prev with r fired from mem_prev.
      f.state_leaves.push_back(fires[j].membrane);
      f.state_kinds.push_back(*StateKind(fires, i, fires[j].membrane));
      f.reset_fire = j;
      f.delayed_reset = ir::ResetMode::kZero;
      f.gated_decay = c;
      f.gated_nodes = fires[j].reset_nodes;
      continue;
    }
    if (auto k = StateKind(fires, i, leaf)) {
      f.state_leaves.push_back(leaf);
      f.state_kinds.push_back(*k);
    } else {
      rest.emplace_back(leaf, c);
    }
  }
  auto is_state = [&](const std::string& t) {
    return std::find(f.state_leaves.begin(), f.state_leaves.end(), t) != f.state_leaves.end();
  };
  for (const auto& [leaf, c] : rest) {
    const NodeProto* p = s.Producer(leaf);
    int j = FireOfSpike(fires, &s, leaf);
    if (j >= 0 && j != i && is_state(fires[j].membrane)) {
      f.reset_fire = j;
      f.delayed_reset = ir::ResetMode::kSubtract;
      f.delayed_amount = {-c.value, c.per_neuron};
      continue;
    }
    if (p && p->op_type() == "Mul" && p->input_size() == 2) {
      bool gated = false;
      for (int side = 0; side < 2 && !gated; ++side) {
        const std::string& mem = p->input(side);
        auto kind = StateKind(fires, i, mem);
        if (!kind) continue;
        LinearForm gate = Walk(s, p->input(1 - side), {}, false);
        if (gate.terms.size() != 1) continue;
        int r = FireOfSpike(fires, &s, gate.terms.begin()->first);
        if (r < 0 || fires[r].membrane != mem || !IsOneMinus(gate, fires[r].spike)) continue;
        f.state_leaves.push_back(mem);
        f.state_kinds.push_back(*kind);
        f.reset_fire = r;
        f.delayed_reset = ir::ResetMode::kZero;
        f.gated_decay = c;
        f.gated_nodes = gate.nodes;
        f.gated_nodes.insert(p);
        gated = true;
      }
      if (gated) continue;
    }
    f.currents.push_back(leaf);
  }
}

void CollectScopes(const Scope& s, std::vector<const Scope*>* out) {
  out->push_back(&s);
  for (const auto& n : s.graph().node())
    if (const Scope* b = s.Body(&n)) CollectScopes(*b, out);
}

Coef TermOf(const FireAnalysis& f, const std::string& leaf) {
  auto it = f.charge.terms.find(leaf);
  return it == f.charge.terms.end() ? Coef{} : it->second;
}

// Builds the parts every rule shares.
NeuronInstance BaseInstance(const std::vector<FireAnalysis>& fires, int i,
                            std::string_view rule) {
  const FireAnalysis& f = fires[i];
  NeuronInstance inst;
  inst.rule = std::string(rule);
  inst.fire = i;
  inst.neuron.kind = "lif";
  inst.neuron.states_per_neuron = 1;
  inst.neuron.threshold = f.threshold;
  if (!f.currents.empty()) {
    inst.current = f.currents[0];
    Coef in = TermOf(f, inst.current);
    inst.neuron.decay_input = std::abs(in.value - 1.0) > 1e-9;
  }
  inst.state_in = f.state_leaves;
  inst.state_out = f.v_next;
  inst.spikes = {f.spike_out};
  inst.nodes = f.charge.nodes;
  for (const NodeProto* n : {f.cmp, f.cast, f.thr_sub, f.gain})
    if (n) inst.nodes.insert(n);
  inst.nodes.insert(f.reset_nodes.begin(), f.reset_nodes.end());
  inst.nodes.insert(f.gated_nodes.begin(), f.gated_nodes.end());
  if (f.reset_fire >= 0) {
    const FireAnalysis& r = fires[f.reset_fire];
    for (const NodeProto* n : {r.cmp, r.cast, r.thr_sub})
      if (n) inst.nodes.insert(n);
  }
  // Reset: delayed (snnTorch, decided from the incoming membrane) or post-fire.
  inst.reset_known = true;
  if (f.delayed_reset != ir::ResetMode::kNone) {
    inst.neuron.reset = f.delayed_reset;
  } else {
    inst.neuron.reset = f.post_reset;
    inst.neuron.reset_value =
        f.post_reset == ir::ResetMode::kZero ? f.post_reset_value : 0.0;
  }
  // Decay: factor of the membrane state (or of the gated state).
  if (f.delayed_reset == ir::ResetMode::kZero) {
    inst.neuron.decay = {f.gated_decay.value, f.gated_decay.per_neuron};
  } else if (!f.state_leaves.empty()) {
    const std::string& mem =
        f.reset_fire >= 0 ? fires[f.reset_fire].membrane : f.state_leaves[0];
    Coef d = TermOf(f, mem);
    inst.neuron.decay = {d.value, d.per_neuron};
  } else if (inst.neuron.decay_input) {
    // No state visible: SpikingJelly's input factor 1/tau gives 1 - 1/tau.
    inst.neuron.decay = {1.0 - TermOf(f, inst.current).value, false};
  }
  inst.neuron.mode = f.state_leaves.empty() ? ir::NeuronMode::kStateless
                                            : ir::NeuronMode::kStateful;
  inst.state = f.state_leaves.empty() ? StateSource::kConstant : f.state_kinds[0];
  if (inst.neuron.mode == ir::NeuronMode::kStateful &&
      inst.neuron.reset == ir::ResetMode::kNone && inst.neuron.decay.value == 0.0 &&
      !inst.neuron.decay.per_neuron)
    inst.neuron.mode = ir::NeuronMode::kStateless;  // nothing carries over
  return inst;
}

bool UsedAsStateLater(const std::vector<FireAnalysis>& fires, int i) {
  const FireAnalysis& f = fires[i];
  for (size_t j = 0; j < fires.size(); ++j) {
    if (static_cast<int>(j) == i || fires[j].scope != f.scope) continue;
    for (const std::string& leaf : fires[j].state_leaves)
      if (leaf == f.v_next) return true;
  }
  return false;
}

bool OnlyState(const FireAnalysis& f, StateSource kind, size_t count) {
  if (f.state_leaves.size() != count) return false;
  return std::all_of(f.state_kinds.begin(), f.state_kinds.end(),
                     [&](StateSource k) { return k == kind; });
}

// A rule from its parts (each rule is one exporter idiom).
class Rule : public NeuronRule {
 public:
  using CondFn = std::function<bool(const std::vector<FireAnalysis>&, int)>;
  using ApplyFn = std::function<absl::StatusOr<NeuronInstance>(
      const std::vector<FireAnalysis>&, int, std::string_view)>;
  Rule(std::string name, std::vector<std::string_view> ops, CondFn cond, ApplyFn apply)
      : name_(std::move(name)), ops_(std::move(ops)), cond_(std::move(cond)),
        apply_(std::move(apply)) {}
  std::string_view Name() const override { return name_; }
  std::vector<std::string_view> TargetOps() const override { return ops_; }
  bool Condition(const std::vector<FireAnalysis>& f, int i) const override {
    return cond_(f, i);
  }
  absl::StatusOr<NeuronInstance> Apply(const std::vector<FireAnalysis>& f,
                                       int i) const override {
    return apply_(f, i, name_);
  }

 private:
  std::string name_;
  std::vector<std::string_view> ops_;
  CondFn cond_;
  ApplyFn apply_;
};

absl::StatusOr<NeuronInstance> ApplyBase(const std::vector<FireAnalysis>& f, int i,
                                         std::string_view name) {
  return BaseInstance(f, i, name);
}

// snnTorch common guard: Greater(m - thr, 0), no post-fire reset, one current
// entering with factor 1.
bool SnnTorchForm(const FireAnalysis& f) {
  return f.scope->parent() == nullptr && f.sub_zero_form &&
         f.post_reset == ir::ResetMode::kNone && f.currents.size() == 1 &&
         std::abs(TermOf(f, f.currents[0]).value - 1.0) < 1e-9;
}

bool DependsOn(const Scope& s, const std::string& t, const std::string& target,
               int depth = 0) {
  if (t == target) return true;
  const NodeProto* p = s.Producer(t);
  if (!p || depth > 64) return false;
  for (const std::string& in : p->input())
    if (!in.empty() && DependsOn(s, in, target, depth + 1)) return true;
  return false;
}

bool IsPlumbing(const std::string& op) {
  static const std::set<std::string> kOps = {
      "Shape", "Gather", "Slice", "Concat", "Unsqueeze", "Squeeze", "Reshape",
      "Expand", "Identity", "Constant", "ConstantOfShape", "Cast", "ScatterND",
      "Range", "Size"};
  return kOps.count(op) > 0;
}

std::string NodeLabel(const NodeProto& n) {
  return absl::StrCat(n.name().empty() ? "<unnamed>" : n.name(), " (", n.op_type(), ")");
}

// SpikingJelly multi-step: the whole Loop is the neuron layer.
absl::StatusOr<NeuronInstance> ApplyLoop(const std::vector<FireAnalysis>& fires, int i,
                                         std::string_view name) {
  const FireAnalysis& f = fires[i];
  const Scope& body = *f.scope;
  const Scope& main = *body.parent();
  const NodeProto* loop = nullptr;
  for (const auto& n : main.graph().node())
    if (main.Body(&n) == &body) loop = &n;
  if (!loop) return absl::InternalError("loop body without Loop node");
  auto fail = [&](const std::string& why) {
    return absl::InvalidArgumentError(absl::StrCat(
        "node ", NodeLabel(*loop), ": spiking Loop not understood: ", why));
  };
  const onnx::GraphProto& g = body.graph();
  const NodeProto* gather = body.Producer(f.currents[0]);
  NeuronInstance inst = BaseInstance(fires, i, name);
  inst.current = gather->input(0);
  inst.loop = loop;
  inst.nodes = {loop};
  const Const* trip = loop->input(0).empty() ? nullptr : main.ConstOf(loop->input(0));
  std::optional<double> m = trip ? ScalarOf(*trip) : std::nullopt;
  if (!m) return fail("trip count is not a constant (symbolic T? pin it with --timesteps)");
  inst.steps = static_cast<int64_t>(*m);
  int carried = loop->input_size() - 2;
  int state_k = -1;
  for (int k = 0; k < carried; ++k)
    if (g.input(k + 2).name() == f.state_leaves[0]) state_k = k;
  if (state_k < 0 || g.output(state_k + 1).name() != f.v_next)
    return fail("the membrane is not carried from one iteration to the next");
  inst.spikes.clear();
  for (int o = 1; o < g.output_size(); ++o) {
    int k = o - 1;
    if (k == state_k) continue;
    const std::string& bo = g.output(o).name();
    if (o == 0 || !DependsOn(body, bo, f.spike_out)) {
      if (k < carried && body.ConstOf(bo)) continue;  // constant carried value
      return fail(absl::StrCat("loop output ", bo, " does not carry spikes"));
    }
    if (k < carried) {
      const NodeProto* sc = body.Producer(bo);
      if (!sc || sc->op_type() != "ScatterND" || sc->input(0) != g.input(k + 2).name())
        return fail(absl::StrCat("spike buffer ", bo, " is not a ScatterND update"));
    }
    if (k < loop->output_size() && !loop->output(k).empty())
      inst.spikes.push_back(loop->output(k));
  }
  if (inst.spikes.empty()) return fail("no spike output");
  std::set<const NodeProto*> known = f.charge.nodes;
  known.insert(f.reset_nodes.begin(), f.reset_nodes.end());
  for (const NodeProto* n : {f.cmp, f.cast, f.gain, f.thr_sub}) known.insert(n);
  for (const auto& n : g.node())
    if (!known.count(&n) && !IsPlumbing(n.op_type()))
      return fail(absl::StrCat("body node ", NodeLabel(n), " is not part of the neuron"));
  return inst;
}

bool LoopCondition(const std::vector<FireAnalysis>& fires, int i) {
  const FireAnalysis& f = fires[i];
  if (!f.scope->parent() || !OnlyState(f, StateSource::kLoopCarried, 1) ||
      f.currents.size() != 1 || f.reset_fire >= 0)
    return false;
  const NodeProto* g = f.scope->Producer(f.currents[0]);
  return g && g->op_type() == "Gather" && AttrInt(*g, "axis", 0) == 0 &&
         g->input(1) == f.scope->graph().input(0).name() && !f.scope->Producer(g->input(0)) &&
         !f.scope->IsGraphInput(g->input(0));
}

std::vector<std::unique_ptr<NeuronRule>> MakeRules() {
  std::vector<std::unique_ptr<NeuronRule>> r;
  // snnTorch Leaky, single step: membrane is a graph input (and output).
  r.push_back(std::make_unique<Rule>(
      "snntorch_leaky_step", std::vector<std::string_view>{"Greater"},
      [](const auto& f, int i) {
        return SnnTorchForm(f[i]) && OnlyState(f[i], StateSource::kGraphInput, 1);
      },
      ApplyBase));
  // snnTorch Leaky unrolled, t > 0: membrane of the previous step's copy.
  r.push_back(std::make_unique<Rule>(
      "snntorch_leaky_unrolled", std::vector<std::string_view>{"Greater"},
      [](const auto& f, int i) {
        return SnnTorchForm(f[i]) && OnlyState(f[i], StateSource::kPreviousStep, 1);
      },
      ApplyBase));
  // snnTorch Leaky unrolled, t = 0: the zero initial membrane folded away.
  r.push_back(std::make_unique<Rule>(
      "snntorch_leaky_first_step", std::vector<std::string_view>{"Greater"},
      [](const auto& f, int i) {
        return SnnTorchForm(f[i]) && f[i].state_leaves.empty() && f[i].reset_fire < 0 &&
               f[i].charge.constant.value == 0.0 && !f[i].charge.constant.per_neuron;
      },
      [](const auto& f, int i, std::string_view name) -> absl::StatusOr<NeuronInstance> {
        NeuronInstance inst = BaseInstance(f, i, name);
        inst.reset_known = false;   // the reset shows only from t = 1 on
        inst.neuron.decay = {};
        if (UsedAsStateLater(f, i)) inst.neuron.mode = ir::NeuronMode::kStateful;
        return inst;
      }));
  // snnTorch Synaptic, single step: synaptic current and membrane as inputs.
  r.push_back(std::make_unique<Rule>(
      "snntorch_synaptic_step", std::vector<std::string_view>{"Greater"},
      [](const auto& f, int i) {
        return SnnTorchForm(f[i]) && OnlyState(f[i], StateSource::kGraphInput, 2) &&
               f[i].reset_fire >= 0;
      },
      [](const auto& f, int i, std::string_view name) -> absl::StatusOr<NeuronInstance> {
        NeuronInstance inst = BaseInstance(f, i, name);
        inst.neuron.kind = "synaptic";
        inst.neuron.states_per_neuron = 2;
        inst.neuron.mode = ir::NeuronMode::kStateful;
        return inst;
      }));
  // SpikingJelly multi-step eval export: one Loop per LIF layer.
  r.push_back(std::make_unique<Rule>(
      "spikingjelly_loop_lif", std::vector<std::string_view>{"GreaterOrEqual", "Greater"},
      LoopCondition, ApplyLoop));
  // SpikingJelly unrolled (lynxi / single-step modules): v_t from v_{t-1}.
  r.push_back(std::make_unique<Rule>(
      "spikingjelly_unrolled_lif", std::vector<std::string_view>{"GreaterOrEqual"},
      [](const auto& f, int i) {
        const FireAnalysis& a = f[i];
        if (a.scope->parent() || a.sub_zero_form || a.currents.size() != 1 ||
            a.reset_fire >= 0)
          return false;
        if (OnlyState(a, StateSource::kPreviousStep, 1)) return true;
        return a.state_leaves.empty() && a.post_reset != ir::ResetMode::kNone &&
               UsedAsStateLater(f, i);
      },
      [](const auto& f, int i, std::string_view name) -> absl::StatusOr<NeuronInstance> {
        NeuronInstance inst = BaseInstance(f, i, name);
        if (inst.state == StateSource::kConstant) {
          inst.neuron.mode = ir::NeuronMode::kStateful;  // t = 0 of a chain
          inst.neuron.decay = {};
        }
        return inst;
      }));
  // SpikingJelly stateless LIF (SEW-5): charge + fire on a constant zero
  // membrane, the reset dead (never consumed).
  r.push_back(std::make_unique<Rule>(
      "spikingjelly_stateless_lif", std::vector<std::string_view>{"GreaterOrEqual"},
      [](const auto& f, int i) {
        const FireAnalysis& a = f[i];
        if (a.scope->parent() || a.sub_zero_form || a.currents.size() != 1 ||
            !a.state_leaves.empty() || a.reset_fire >= 0 || a.charge.constant.value != 0.0)
          return false;
        // The membrane feeds nothing but the fire op (and a dead reset).
        for (const NodeProto* c : a.scope->Consumers(a.membrane))
          if (c != a.cmp && !a.reset_nodes.count(c)) return false;
        if (a.scope->IsGraphOutput(a.v_next)) return false;
        return a.scope->Consumers(a.v_next).empty() || a.v_next == a.membrane;
      },
      [](const auto& f, int i, std::string_view name) -> absl::StatusOr<NeuronInstance> {
        NeuronInstance inst = BaseInstance(f, i, name);
        inst.neuron.mode = ir::NeuronMode::kStateless;
        inst.neuron.reset = ir::ResetMode::kNone;   // dead reset: no effect
        inst.neuron.reset_value = 0.0;
        return inst;
      }));
  return r;
}

}  // namespace

LinearForm Linearize(const Scope& scope, const std::string& tensor,
                     const std::set<std::string>& stops) {
  return Walk(scope, tensor, stops, true);
}

const std::vector<std::unique_ptr<NeuronRule>>& NeuronRules() {
  static const auto* rules = new std::vector<std::unique_ptr<NeuronRule>>(MakeRules());
  return *rules;
}

const NeuronRule* FindRule(std::string_view name) {
  for (const auto& r : NeuronRules())
    if (r->Name() == name) return r.get();
  return nullptr;
}

std::vector<FireAnalysis> AnalyzeFires(const Scope& main) {
  std::vector<const Scope*> scopes;
  CollectScopes(main, &scopes);
  std::vector<FireAnalysis> fires;
  for (const Scope* s : scopes)
    for (const auto& n : s->graph().node())
      if (auto f = AnalyzeFireOp(*s, n)) fires.push_back(std::move(*f));
  for (FireAnalysis& f : fires) {
    std::set<std::string> stops;
    for (const FireAnalysis& o : fires)
      if (o.scope == f.scope) stops.insert({o.membrane, o.v_next});
    f.charge = Linearize(*f.scope, f.membrane, stops);
  }
  for (size_t i = 0; i < fires.size(); ++i) ClassifyCharge(fires, static_cast<int>(i));
  for (const FireAnalysis& f : fires)
    if (f.reset_fire >= 0) fires[f.reset_fire].is_reset_spike = true;
  return fires;
}

absl::StatusOr<Recognition> RecognizeNeurons(const Scope& main) {
  std::vector<FireAnalysis> fires = AnalyzeFires(main);
  Recognition out;
  for (size_t i = 0; i < fires.size(); ++i) {
    const FireAnalysis& f = fires[i];
    if (f.is_reset_spike) continue;
    const NeuronRule* match = nullptr;
    for (const auto& rule : NeuronRules()) {
      auto ops = rule->TargetOps();
      if (std::find(ops.begin(), ops.end(), f.cmp->op_type()) == ops.end()) continue;
      if (rule->Condition(fires, static_cast<int>(i))) {
        match = rule.get();
        break;
      }
    }
    if (!match) {
      std::vector<std::string> labels = {NodeLabel(*f.cmp), NodeLabel(*f.cast)};
      return absl::InvalidArgumentError(absl::StrCat(
          "unrecognised spiking neuron pattern at fire op ", absl::StrJoin(labels, " -> "),
          " (membrane ", f.membrane, ", ", f.state_leaves.size(), " state input(s), ",
          f.currents.size(), " input current(s))"));
    }
    absl::StatusOr<NeuronInstance> inst = match->Apply(fires, static_cast<int>(i));
    if (!inst.ok()) return inst.status();
    out.covered.insert(inst->nodes.begin(), inst->nodes.end());
    out.instances.push_back(std::move(*inst));
  }
  return out;
}

}  // namespace snnplan::importer::internal
