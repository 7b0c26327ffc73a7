#include "layer_builder.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace snnplan::importer::internal {
namespace {

using onnx::NodeProto;

constexpr int kInternal = -3;  // neuron states, intermediate neuron/join values
constexpr int kConstant = -4;
constexpr int kUnset = -5;
// Layer inputs at or below kDelayedBase name "neuron group kDelayedBase - id's
// spikes of the previous step"; resolved to layers once every neuron is built.
constexpr int kDelayedBase = -1000;

int64_t DimAt(const Shape& s, size_t i) { return i < s.size() ? s[i] : 1; }

// Activations that keep one value per element (fused into a producer).
bool IsActivation(const std::string& op) {
  static const std::set<std::string> kOps = {"Relu",  "LeakyRelu", "Clip",    "Sigmoid", "HardSigmoid",
                                             "Tanh",  "Softplus",  "Erf",     "Abs",     "Exp",
                                             "Log",   "Sqrt",      "Reciprocal", "Floor", "Ceil",
                                             "Round", "Pow",       "Max",     "Min"};
  return kOps.count(op) > 0;
}

class Builder {
 public:
  Builder(const Scope& s, const ElementwiseAnalysis& ew, int64_t timesteps, bool load)
      : s_(s), ew_(ew), timesteps_(timesteps), load_(load), src_(s.num_values(), kUnset),
        depth_(s.num_values(), 0), step_(s.num_values(), -1),
        neuron_layer_(ew.neurons.size(), -1) {
    for (const NeuronGroup& g : ew.neurons)
      for (int v : g.state_inputs) src_[s.Resolve(v)] = kInternal;
    for (size_t i = 0; i < ew.neurons.size(); ++i) {
      for (size_t t = 0; t < ew.neurons[i].spikes.size(); ++t)
        for (int v : ew.neurons[i].spikes[t]) spike_of_[s.Resolve(v)] = {static_cast<int>(i), static_cast<int>(t)};
      for (const NeuronGroup::StateValue& sv : ew.neurons[i].state_values)
        state_src_[s.Resolve(sv.value)].push_back({static_cast<int>(i), sv.state, sv.step});
      if (ew.neurons[i].currents.empty() || ew.neurons[i].currents[0].size() != 1) continue;
      for (const std::vector<int>& step : ew.neurons[i].currents)
        for (int v : step) current_of_[s.Resolve(v)] = static_cast<int>(i);
    }
    FindDelayedReads();
  }

  absl::StatusOr<BuiltGraph> Run() {
    for (int n = 0; n < s_.num_nodes(); ++n)
      if (absl::Status st = Node(n); !st.ok()) return st;
    for (int o : s_.graph_outputs()) {
      int r = s_.Resolve(o);
      int l = src_[r];
      OutputSource os;
      if (auto it = current_of_.find(r); l >= 0 && it != current_of_.end() && neuron_layer_[it->second] == l) {
        // The value a fused neuron reads (e.g. the membrane of a neuron
        // that keeps nothing, which equals its current).
        os.layer = l;
        os.current = true;
        os.step = step_[r];
      } else if (auto st = state_src_.find(r);
                 st != state_src_.end() && !spike_of_.contains(r) && l >= 0 &&
                 neuron_layer_[st->second.front().group] == l) {
        // A recorded state of the layer's own neuron (e.g. the membrane of a
        // neuron that is stateless by value), not its spikes.
        const StateSrc& src = st->second.front();
        os.layer = l;
        os.state = src.state;
        os.step = src.step;
      } else if (l >= 0) {
        out_.layers[l].layer.network_output = true;
        os.layer = l;
        os.step = step_[r];
      } else if (auto it = state_src_.find(r); it != state_src_.end()) {
        const StateSrc& src = it->second.front();
        os.layer = neuron_layer_[src.group];
        os.state = src.state;
        os.step = src.step;
        if (os.layer < 0) os.why = "a state of a neuron that is attached to no layer";
      } else if (l == ir::kNetworkInput) {
        os.why = "the network input itself";
      } else if (s_.IsConst(r)) {
        os.why = "a constant";
      } else {
        os.why = "an intermediate value inside a neuron (neither its spikes nor one of its states)";
      }
      out_.outputs.push_back(std::move(os));
    }
    if (absl::Status st = ResolveDelayedInputs(); !st.ok()) return st;
    for (size_t g = 0; g < ew_.neurons.size(); ++g)
      for (const NeuronGroup::StateValue& sv : ew_.neurons[g].state_values)
        if (sv.step < 0 && s_.value(sv.value).graph_input && neuron_layer_[g] >= 0)
          out_.state_inputs[sv.value] = {neuron_layer_[g], sv.state};
    return std::move(out_);
  }

 private:
  absl::Status Error(int n, const std::string& why) const {
    return absl::InvalidArgumentError(absl::StrCat("node ", NodeLabel(s_.node(n)), ": ", why));
  }
  const std::string& Name(int v) const { return s_.value(v).name; }

  // The layer (or kInternal, kConstant, kNetworkInput) a value comes from;
  // records which graph inputs layers read.
  absl::StatusOr<int> SrcOf(int v, int n) {
    if (v < 0) return Error(n, "a required input is absent");
    int r = s_.Resolve(v);
    if (src_[r] != kUnset) return src_[r];
    if (s_.IsConst(r)) return kConstant;
    if (s_.value(r).graph_input) {
      if (std::find(out_.network_inputs.begin(), out_.network_inputs.end(), r) == out_.network_inputs.end())
        out_.network_inputs.push_back(r);
      return ir::kNetworkInput;
    }
    return Error(n, absl::StrCat("input ", Name(v), " has no known producer"));
  }

  absl::StatusOr<Shape> NeedShape(int v, int n) const {
    std::optional<Shape> sh = v >= 0 ? s_.ShapeOf(v) : std::nullopt;
    if (!sh) return Error(n, absl::StrCat("the shape of ", v >= 0 ? Name(v) : "an input",
                                          " could not be determined"));
    return *sh;
  }

  Shape OutShape(int l) const { return l >= 0 ? out_.layers[l].layer.out_shape : Shape{}; }

  void SetOutputs(int n, int l) {
    for (int o : s_.outputs(n))
      if (o >= 0 && s_.value(o).alias < 0) src_[o] = l;
  }

  // Consumers that read values, not just the shape.
  size_t DataConsumers(int v) const {
    size_t count = 0;
    for (int c : s_.value(v).consumers) {
      const std::string& op = s_.node(c).op_type();
      if (op != "Shape" && op != "Size") ++count;
    }
    return count;
  }

  // True when `v` reaches layer `l`'s producing node through views only and
  // every value on the way has a single consumer.
  bool SoleChain(int v, int l) const {
    for (int guard = 0; guard < 4096 && v >= 0; ++guard) {
      if (DataConsumers(v) != 1 || s_.value(v).graph_output) return false;
      int p = s_.value(v).producer;
      if (p < 0) return false;
      if (auto it = node_layer_.find(p); it != node_layer_.end()) return it->second == l;
      const OpInfo* info = s_.info(p);
      if (!(s_.value(v).alias >= 0 || (info && info->layer == LayerRule::kView))) return false;
      v = s_.inputs(p)[0];
    }
    return false;
  }

  std::string Key(int n, const std::vector<int>& inputs, const std::string& weight) const {
    const NodeProto& node = s_.node(n);
    std::string key = absl::StrCat(node.op_type(), "|", weight, "|", absl::StrJoin(inputs, ","));
    for (const auto& a : node.attribute()) absl::StrAppend(&key, "|", a.SerializeAsString());
    return key;
  }

  // Registers node `n` as (a time copy of) a layer.
  int AddLayer(int n, const std::string& key, ir::Layer layer) {
    auto it = dedup_.find(key);
    int id;
    if (it != dedup_.end()) {
      id = it->second;
    } else {
      id = static_cast<int>(out_.layers.size());
      if (layer.name.empty()) layer.name = absl::StrCat(s_.node(n).op_type(), "_", n);
      BuiltLayer b;
      b.layer = std::move(layer);
      out_.layers.push_back(std::move(b));
      dedup_[key] = id;
    }
    out_.layers[id].copies++;
    node_layer_[n] = id;
    SetOutputs(n, id);
    // A layer on a tensor of every step (a multi-step layer after a Loop)
    // outputs every step; else the copy's own step of an unrolled graph.
    bool all_steps = false;
    for (int v : s_.inputs(n))
      if (v >= 0 && step_[s_.Resolve(v)] == kAllSteps) all_steps = true;
    for (int o : s_.outputs(n))
      if (o >= 0) step_[o] = all_steps ? kAllSteps : out_.layers[id].copies - 1;
    return id;
  }

  // Resolves Identity aliases and views of initializers so shared weights
  // have one name.
  std::string WeightKey(int v) const {
    v = s_.Resolve(v);
    for (int guard = 0; guard < 64; ++guard) {
      int p = s_.value(v).producer;
      if (p < 0 || s_.node(p).op_type() != "Identity") break;
      v = s_.Resolve(s_.inputs(p)[0]);
    }
    return Name(v);
  }

  // The elements of constant `v` as float32 (weights), or an error naming it.
  absl::StatusOr<std::vector<float>> Floats(int v, int n) const {
    const Tensor* t = v >= 0 ? s_.ConstOf(v) : nullptr;
    std::optional<std::vector<double>> d = t ? Materialize(*t) : std::nullopt;
    if (!d) return Error(n, absl::StrCat("the values of ", v >= 0 ? Name(v) : "a parameter", " cannot be read"));
    std::vector<float> out(d->begin(), d->end());
    for (float f : out)
      if (!std::isfinite(f)) return Error(n, absl::StrCat("parameter ", Name(v), " holds ", f));
    return out;
  }

  // x -> x * scale + shift per channel of a layer with `k` channels.
  static ir::PostOp ChannelAffine(std::vector<double> scale, std::vector<double> shift) {
    ir::PostOp op;
    op.scale.layout = op.shift.layout = ir::ParamLayout::kPerChannel;
    op.scale.per_neuron = op.shift.per_neuron = true;
    op.scale.value = scale.empty() ? 1.0 : scale[0];
    op.shift.value = shift.empty() ? 0.0 : shift[0];
    op.scale.values = std::move(scale);
    op.shift.values = std::move(shift);
    return op;
  }

  int64_t ConstNumel(int v) const {
    const Tensor* c = v >= 0 ? s_.ConstOf(v) : nullptr;
    return c ? c->numel() : 0;
  }

  // An unrolled graph computes each step from values of that step; a node
  // that combines values of two different steps (a running sum over time,
  // a leaky integrator without a threshold) is no per-step layer, and
  // merging it into one would silently compute something else.
  absl::Status CheckOneStep(int n) const {
    int seen = -1, seen_value = -1;
    for (int v : s_.inputs(n)) {
      if (v < 0) continue;
      const int r = s_.Resolve(v);
      if (step_[r] < 0) continue;
      if (seen >= 0 && step_[r] != seen)
        return Error(n, absl::StrCat("combines ", Name(seen_value), " of time step ", seen, " with ",
                                     Name(r), " of time step ", step_[r],
                                     ": a value carried across steps without a threshold (a running "
                                     "sum or non-spiking integrator over time) is not supported"));
      seen = step_[r];
      seen_value = r;
    }
    return absl::OkStatus();
  }

  absl::Status Node(int n) {
    const NodeProto& node = s_.node(n);
    if (ew_.node_neuron[n] >= 0) return NeuronNode(n, ew_.node_neuron[n]);
    if (ew_.node_join[n] >= 0) {
      if (absl::Status st = CheckOneStep(n); !st.ok()) return st;
      return JoinNode(n, ew_.node_join[n]);
    }
    const std::vector<int>& outs = s_.outputs(n);
    bool all_const = !outs.empty();
    for (int o : outs) all_const &= o < 0 || s_.IsConst(o);
    if (all_const) return absl::OkStatus();
    if (!outs.empty() && outs[0] >= 0 && s_.value(outs[0]).alias >= 0) return absl::OkStatus();
    const OpInfo* info = s_.info(n);
    if (!info) return Error(n, absl::StrCat("unsupported op ", node.op_type()));
    if (info->layer != LayerRule::kConcat)  // re-stacking steps reads several by design
      if (absl::Status st = CheckOneStep(n); !st.ok()) return st;
    switch (info->layer) {
      case LayerRule::kNone:
        return Error(n, "shape computation could not be folded to a constant");
      case LayerRule::kView:
        return ViewNode(n);
      case LayerRule::kConcat:
        return ConcatView(n);
      case LayerRule::kPad:
        return PadView(n);
      case LayerRule::kConv:
        return Conv(n);
      case LayerRule::kLinear:
        return Linear(n);
      case LayerRule::kPool:
        return Pool(n);
      case LayerRule::kGlobalPool:
        return GlobalPool(n);
      case LayerRule::kReduce:
        return Reduce(n);
      case LayerRule::kBatchNorm:
        return BatchNorm(n);
      case LayerRule::kElementwise:
        return Elementwise(n);
      case LayerRule::kLoop:
        return Error(n, "a Loop that is not a spiking neuron (only SpikingJelly-style neuron Loops are supported)");
    }
    return Error(n, "unsupported op");
  }

  // ---- neurons and joins ------------------------------------------------------

  // The layer neuron group `g` attaches to at step t: the producer of its
  // current, or an `add` layer when several layers feed it.
  absl::StatusOr<int> NeuronLayer(int g, int t, int n) {
    const NeuronGroup& group = ew_.neurons[g];
    std::vector<int> layers;
    for (int v : group.currents[t]) {
      absl::StatusOr<int> l = SrcOf(v, n);
      if (!l.ok()) return l.status();
      if (*l == ir::kNetworkInput)
        return Error(n,
                     absl::StrCat("the spiking neuron at ", group.anchor,
                                  " is fed by the network input directly; a neuron needs a layer "
                                  "(conv, linear, pooling, ...) in front of it",
                                  group.state_inputs.size() > 0 && s_.graph_inputs().size() > 2
                                      ? " (if this graph input is a state, such as the neuron's "
                                        "previous spikes, declare the states in the same order "
                                        "among the graph inputs and outputs, or export unrolled)"
                                      : ""));
      if (*l < 0)
        return Error(n, absl::StrCat("the input current ", Name(v), " of the neuron at ", group.anchor,
                                     " is not the output of a layer"));
      layers.push_back(*l);
    }
    if (neuron_layer_[g] >= 0) {
      if (layers != current_layers_[g])
        return Error(n, absl::StrCat("step ", t, " of the neuron at ", group.anchor,
                                     " reads its current from other layers than step 0"));
      return neuron_layer_[g];
    }
    int id;
    if (layers.size() == 1 && !CurrentReadElsewhere(group) && !out_.layers[layers[0]].once) {
      id = layers[0];
    } else if (layers.size() == 1) {
      // The current is also read by other nodes (a second branch on the
      // pre-activation, an MS-ResNet membrane shortcut): they read the
      // layer's own output, so the neuron goes on an identity layer. So
      // does a neuron reading, at every step, a layer computed once.
      ir::Layer l;
      l.name = absl::StrCat(SumNodeName(group, t), "/current");
      l.op = ir::OpKind::kScale;  // identity: no post-ops
      l.inputs = layers;
      l.out_shape = OutShape(layers[0]);
      FeatureDims(l.out_shape, &l);
      l.params.loaded = load_;
      id = static_cast<int>(out_.layers.size());
      BuiltLayer b;
      b.layer = std::move(l);
      b.copies = 1;
      out_.layers.push_back(std::move(b));
    } else {
      // Several currents summed into one membrane: an add of their layers.
      ir::Layer l;
      l.name = absl::StrCat(SumNodeName(group, t), "/current_sum");
      l.op = ir::OpKind::kAdd;
      l.inputs = layers;
      l.out_shape = OutShape(layers[0]);
      FeatureDims(l.out_shape, &l);
      id = static_cast<int>(out_.layers.size());
      BuiltLayer b;
      b.layer = std::move(l);
      b.copies = 1;
      out_.layers.push_back(std::move(b));
    }
    BuiltLayer& b = out_.layers[id];
    if (b.neuron >= 0) {
      // Unrolled steps of a stateless neuron are separate copies of one
      // neuron on one (de-duplicated) layer.
      absl::StatusOr<ir::Neuron> same = ToIrNeuron(group, b.layer);
      if (same.ok()) same->current_layers = layers;
      if (same.ok() && *same == b.layer.neuron) {
        neuron_layer_[g] = id;
        current_layers_[g] = layers;
        return id;
      }
      return Error(n, absl::StrCat("layer ", b.layer.name, " feeds two spiking neurons (",
                                   ew_.neurons[b.neuron].anchor, " and ", group.anchor,
                                   "); one neuron per layer output is supported"));
    }
    if (b.spike_like)
      return Error(n, absl::StrCat("the neuron at ", group.anchor, " is fed by spikes of layer ",
                                   b.layer.name, " without a weighted layer in between"));
    for (int src : b.layer.inputs)
      if (src >= 0 && static_cast<size_t>(src) < out_.layers.size() && out_.layers[src].neuron == g)
        return Error(n, absl::StrCat("recurrent connection: layer ", b.layer.name,
                                     " feeds the neuron at ", group.anchor,
                                     " with that neuron's own earlier spikes; recurrent "
                                     "ONNX exports are not imported yet (the same network exported "
                                     "as NIR is: docs/nir.md)"));
    absl::StatusOr<ir::Neuron> neuron = ToIrNeuron(group, b.layer);
    if (!neuron.ok()) return Error(n, std::string(neuron.status().message()));
    neuron->current_layers = layers;
    b.layer.neuron = std::move(*neuron);
    b.neuron = g;
    b.spike_like = true;
    neuron_layer_[g] = id;
    current_layers_[g] = layers;
    return id;
  }

  // What identifies an elementwise op across unrolled copies: its op, its
  // attributes and its constant operands (by name).
  std::string n_copy_key(int n) const {
    std::string key = s_.node(n).op_type();
    for (int v : s_.inputs(n))
      if (v >= 0 && s_.IsConst(v)) absl::StrAppend(&key, "|", WeightKey(v));
    for (const auto& a : s_.node(n).attribute()) absl::StrAppend(&key, "|", a.SerializeAsString());
    return key;
  }

  // The name of the node that first sums two of the neuron's currents.
  // Whether a node outside neuron `g` reads one of its input currents
  // (through aliases). Not reads: shape queries, nodes that folded to
  // constants (x * 0), and aliases that are the neuron's own states (a
  // membrane that equals the current at step 0, recorded as an output).
  bool CurrentReadElsewhere(const NeuronGroup& g) const {
    const absl::flat_hash_set<int> inside(g.nodes.begin(), g.nodes.end());
    absl::flat_hash_set<int> states;
    for (const NeuronGroup::StateValue& sv : g.state_values) states.insert(sv.value);
    std::vector<int> values;
    for (const std::vector<int>& step : g.currents)
      values.insert(values.end(), step.begin(), step.end());
    absl::flat_hash_set<int> seen;
    while (!values.empty()) {
      const int v = values.back();
      values.pop_back();
      if (v < 0 || !seen.insert(v).second) continue;
      for (int c : s_.value(v).consumers) {
        if (inside.contains(c)) continue;
        const std::string& op = s_.node(c).op_type();
        if (op == "Shape" || op == "Size") continue;
        const std::vector<int>& outs = s_.outputs(c);
        if (std::all_of(outs.begin(), outs.end(), [&](int o) { return o < 0 || s_.IsConst(o); }))
          continue;
        if (!outs.empty() && outs[0] >= 0 && s_.value(outs[0]).alias >= 0) {
          for (int o : outs)
            if (o >= 0 && !states.contains(o) && !states.contains(s_.Resolve(o)))
              values.push_back(o);
          continue;
        }
        return true;
      }
    }
    return false;
  }

  std::string SumNodeName(const NeuronGroup& g, int t) const {
    for (int n : g.nodes) {
      int hits = 0;
      for (int v : s_.inputs(n))
        if (v >= 0 && std::count(g.currents[t].begin(), g.currents[t].end(), s_.Resolve(v))) ++hits;
      if (hits >= 2 || (hits == 1 && n != g.nodes.front())) return s_.node(n).name();
    }
    return s_.node(g.nodes.front()).name();
  }

  absl::Status NeuronNode(int n, int g) {
    node_layer_[n] = kInternal;
    for (int o : s_.outputs(n)) {
      if (o < 0) continue;
      auto it = spike_of_.find(o);
      if (it == spike_of_.end()) {
        src_[o] = kInternal;
        continue;
      }
      absl::StatusOr<int> l = NeuronLayer(g, it->second.second, n);
      if (!l.ok()) return l.status();
      src_[o] = *l;
      const NeuronGroup& group = ew_.neurons[g];
      step_[o] = group.loop_node >= 0 ? kAllSteps : group.steps > 1 ? it->second.second : -1;
    }
    return absl::OkStatus();
  }

  absl::Status JoinNode(int n, int j) {
    const JoinGroup& join = ew_.joins[j];
    if (s_.outputs(n)[0] != join.output) {
      src_[s_.outputs(n)[0]] = kInternal;
      return absl::OkStatus();
    }
    std::vector<int> ins;
    for (int v : join.inputs) {
      absl::StatusOr<int> l = SrcOf(v, n);
      if (!l.ok()) return l.status();
      if (*l < 0) return Error(n, absl::StrCat("a join of spikes reads ", Name(v), ", which is not a layer's output"));
      ins.push_back(*l);
    }
    if (join.kind == JoinGroup::Kind::kGain) {
      src_[join.output] = ins[0];  // spikes times a constant: still that layer's spikes
      return absl::OkStatus();
    }
    ir::Layer l;
    l.name = s_.node(n).name();
    l.op = join.kind == JoinGroup::Kind::kAdd  ? ir::OpKind::kSewAdd
           : join.kind == JoinGroup::Kind::kOr ? ir::OpKind::kSewOr
           : join.kind == JoinGroup::Kind::kAnd ? ir::OpKind::kSewAnd
                                                : ir::OpKind::kSewIAnd;
    l.inputs = ins;
    l.out_shape = OutShape(ins[0]);
    FeatureDims(l.out_shape, &l);
    std::vector<int> key = ins;
    if (l.op != ir::OpKind::kSewIAnd) std::sort(key.begin(), key.end());
    int id = AddLayer(n, Key(n, key, ""), std::move(l));
    out_.layers[id].spike_like = true;
    return absl::OkStatus();
  }

  // ---- views ----------------------------------------------------------------------

  absl::Status ViewNode(int n) {
    const NodeProto& node = s_.node(n);
    const std::string& op = node.op_type();
    if (op == "Gather") {
      const Tensor* idx = s_.ConstOf(s_.inputs(n)[1]);
      if (!idx || AttrInt(node, "axis", 0) != 0)
        return Error(n, "Gather of an activation is only supported as a time-step slice (axis 0, constant index)");
    } else if (op == "Slice" || op == "Split") {
      std::optional<Shape> in = s_.ShapeOf(s_.inputs(n)[0]);
      for (int o : s_.outputs(n)) {
        std::optional<Shape> sh = o >= 0 ? s_.ShapeOf(o) : std::nullopt;
        if (!in || !sh || in->size() != sh->size() || !std::equal(in->begin() + 1, in->end(), sh->begin() + 1))
          return Error(n, absl::StrCat(op, " of an activation is only supported along the leading (time) axis"));
      }
    } else if (op == "Transpose") {
      std::optional<Shape> in = s_.ShapeOf(s_.inputs(n)[0]);
      std::vector<int64_t> perm = AttrInts(node, "perm");
      Shape moved;
      if (in) {
        if (perm.empty())
          for (size_t i = 0; i < in->size(); ++i) perm.push_back(static_cast<int64_t>(in->size() - 1 - i));
        for (int64_t p : perm)
          if ((*in)[p] != 1) moved.push_back(p);
      }
      if (!in || !std::is_sorted(moved.begin(), moved.end()))
        return Error(n, "Transpose of an activation that reorders its elements is not supported");
    } else if (op == "Expand" || op == "Tile") {
      // The network input repeated over a new leading time axis
      // (SpikingJelly: x.unsqueeze(0).repeat(T, 1, ...)): every step reads
      // the same input. Any other broadcast of an activation is refused.
      // A layer before it (a static conv) is computed once.
      if (!IsTimeRepeat(n))
        return Error(n, absl::StrCat(op,
                                     " of an activation is only supported as a repetition over "
                                     "time (x.unsqueeze(0).repeat(T, 1, ...))"));
      if (absl::Status st = MarkOnce(s_.inputs(n)[0], n); !st.ok()) return st;
    }
    absl::StatusOr<int> l = SrcOf(s_.inputs(n)[0], n);
    if (!l.ok()) return l.status();
    SetOutputs(n, *l);
    const int in = s_.Resolve(s_.inputs(n)[0]);
    for (int o : s_.outputs(n)) {
      if (o < 0) continue;
      depth_[o] = depth_[in];
      step_[o] = step_[in];
      // Copy before inserting: inserting may rehash and move the source.
      if (auto it = state_src_.find(in); it != state_src_.end()) {
        std::vector<StateSrc> held = it->second;
        state_src_[o] = std::move(held);
      }
      // A view of a neuron's input current is still that current (the
      // membrane of a neuron that keeps nothing, recorded over steps).
      if (auto it = current_of_.find(in); it != current_of_.end()) {
        const int group = it->second;
        current_of_[o] = group;
      }
    }
    return absl::OkStatus();
  }

  // The value `v` a repetition over time reads, and everything it is
  // computed from, has no time axis: its layers run once and its network
  // inputs are given once (static).
  absl::Status MarkOnce(int v, int n) {
    if (const int x = GraphInputOf(v); x >= 0) {
      if (std::find(out_.static_inputs.begin(), out_.static_inputs.end(), x) ==
          out_.static_inputs.end())
        out_.static_inputs.push_back(x);
      return absl::OkStatus();
    }
    absl::StatusOr<int> l = SrcOf(v, n);
    if (!l.ok()) return l.status();
    if (*l < 0 || out_.layers[*l].neuron >= 0 || out_.layers[*l].spike_like)
      return Error(n,
                   "only the network input or layers computed from it without spiking neurons "
                   "may be repeated over time");
    std::vector<int> stack = {*l};
    while (!stack.empty()) {
      BuiltLayer& b = out_.layers[stack.back()];
      stack.pop_back();
      if (b.once) continue;
      if (b.neuron >= 0 || b.spike_like)
        return Error(n, absl::StrCat("layer ", b.layer.name,
                                     " is repeated over time but has a "
                                     "spiking neuron before the repetition"));
      b.once = true;
      for (int src : b.layer.inputs) {
        if (src >= 0) stack.push_back(src);
      }
    }
    // The network inputs of those layers are static.
    for (const BuiltLayer& b : out_.layers)
      if (b.once)
        for (int src : b.layer.inputs)
          if (src == ir::kNetworkInput)
            for (int x : out_.network_inputs)
              if (std::find(out_.static_inputs.begin(), out_.static_inputs.end(), x) ==
                  out_.static_inputs.end())
                out_.static_inputs.push_back(x);
    return absl::OkStatus();
  }

  // The graph input `v` is a view of (through Unsqueeze, Reshape, Expand,
  // ...: one-input views), or -1.
  int GraphInputOf(int v) const {
    for (int guard = 0; guard < 1 << 16 && v >= 0; ++guard) {
      v = s_.Resolve(v);
      if (s_.value(v).graph_input) return s_.IsConst(v) ? -1 : v;
      const int p = s_.value(v).producer;
      const OpInfo* info = p >= 0 ? s_.info(p) : nullptr;
      if (!info || info->layer != LayerRule::kView || s_.inputs(p).empty()) return -1;
      v = s_.inputs(p)[0];
    }
    return -1;
  }

  // An Expand or Tile whose output only repeats its input along axis 0,
  // from 1 to some T (or leaves it as it is).
  bool IsTimeRepeat(int n) const {
    const std::optional<Shape> in = s_.ShapeOf(s_.inputs(n)[0]);
    const std::optional<Shape> out =
        s_.outputs(n).empty() || s_.outputs(n)[0] < 0 ? std::nullopt : s_.ShapeOf(s_.outputs(n)[0]);
    if (!in || !out || in->size() != out->size() || in->empty()) return false;
    if (!std::equal(in->begin() + 1, in->end(), out->begin() + 1)) return false;
    return (*in)[0] == (*out)[0] || (*in)[0] == 1;
  }

  // Concat of views of one layer: stacking time steps back together.
  absl::Status ConcatView(int n) {
    if (SplitConcat(s_.outputs(n)[0]) == n) {  // read part by part by its linear layers
      SetOutputs(n, kInternal);
      return absl::OkStatus();
    }
    std::set<int> srcs;
    for (int v : s_.inputs(n)) {
      absl::StatusOr<int> l = SrcOf(v, n);
      if (!l.ok()) return l.status();
      if (*l != kConstant) srcs.insert(*l);
    }
    int out = s_.outputs(n)[0];
    if (srcs.count(kInternal) || srcs.size() > 1) {
      // Re-stacking one neuron state over the steps (snnTorch mem_rec): a
      // (neuron, state) every input holds.
      std::vector<StateSrc> common;
      for (int i = 0; i < static_cast<int>(s_.inputs(n).size()); ++i) {
        auto it = state_src_.find(s_.Resolve(s_.inputs(n)[i]));
        std::vector<StateSrc> here = it == state_src_.end() ? std::vector<StateSrc>{} : it->second;
        if (i == 0) {
          common = here;
          continue;
        }
        std::vector<StateSrc> kept;
        for (const StateSrc& c : common)
          for (const StateSrc& h : here)
            if (c.group == h.group && c.state == h.state) kept.push_back(c);
        common = kept;
      }
      if (common.empty() && !srcs.count(kInternal))
        return Error(n, "Concat of different layers is not supported (only re-stacking time steps)");
      SetOutputs(n, kInternal);
      if (!common.empty()) state_src_[out] = {{common[0].group, common[0].state, kAllSteps}};
      return absl::OkStatus();
    }
    SetOutputs(n, *srcs.begin());
    step_[out] = kAllSteps;
    // Re-stacked steps of one neuron's input current.
    int group = -1;
    for (int v : s_.inputs(n)) {
      if (v < 0 || s_.IsConst(v)) continue;
      auto it = current_of_.find(s_.Resolve(v));
      const int here = it == current_of_.end() ? -2 : it->second;
      group = group == -1 ? here : group == here ? group : -2;
    }
    if (group >= 0) current_of_[out] = group;
    return absl::OkStatus();
  }

  absl::Status PadView(int n) {
    const NodeProto& node = s_.node(n);
    int out = s_.outputs(n)[0];
    for (int c : s_.value(out).consumers)
      if (s_.node(c).op_type() != "AveragePool" && s_.node(c).op_type() != "MaxPool")
        return Error(n, "Pad of an activation is only supported in front of pooling");
    std::string mode = AttrString(node, "mode");
    if (!mode.empty() && mode != "constant") return Error(n, "only constant padding is supported");
    std::vector<int64_t> pads = AttrInts(node, "pads");
    if (s_.inputs(n).size() > 1 && s_.inputs(n)[1] >= 0)
      if (const Tensor* p = s_.ConstOf(s_.inputs(n)[1]); p && p->materialized())
        for (int64_t i = 0; i < p->numel(); ++i) pads.push_back(ToInt64(p->at(i)));
    pads_[out] = pads;
    pad_input_[out] = s_.inputs(n)[0];
    absl::StatusOr<int> l = SrcOf(s_.inputs(n)[0], n);
    if (!l.ok()) return l.status();
    SetOutputs(n, *l);
    step_[out] = step_[s_.Resolve(s_.inputs(n)[0])];  // a view: the same steps
    return absl::OkStatus();
  }

  // ---- layers ----------------------------------------------------------------------

  // ---- recurrence ---------------------------------------------------------------

  // Recurrent connections (snnTorch RLeaky / RSynaptic): a conv or linear
  // node whose output is a current of a neuron at step t and whose input is
  // the spikes of a neuron at step t - 1. Its first unrolled copy reads an
  // all-zero constant (no spikes before step 0) and is the same layer; in a
  // single-step export it reads a graph input shaped like the neuron's own
  // spikes (the `spk` state the caller feeds back). Each becomes a delayed
  // input of the layer (docs/ir.md#recurrence).
  void FindDelayedReads() {
    absl::flat_hash_map<int, std::pair<int, int>> current_at;  // value -> (group, step)
    for (size_t g = 0; g < ew_.neurons.size(); ++g)
      for (size_t t = 0; t < ew_.neurons[g].currents.size(); ++t)
        for (int v : ew_.neurons[g].currents[t])
          current_at[s_.Resolve(v)] = {static_cast<int>(g), static_cast<int>(t)};
    absl::flat_hash_map<std::string, int> group_of;  // Signature -> group read
    std::vector<std::pair<Part, int>> zero_copies;   // (part, group fed)
    for (int n = 0; n < s_.num_nodes(); ++n) {
      const OpInfo* info = s_.info(n);
      if (!info || (info->layer != LayerRule::kConv && info->layer != LayerRule::kLinear)) continue;
      if (s_.inputs(n).size() < 2 || s_.outputs(n).empty() || s_.outputs(n)[0] < 0) continue;
      auto cur = current_at.find(s_.Resolve(s_.outputs(n)[0]));
      if (cur == current_at.end()) continue;
      const auto [g, t] = cur->second;
      const std::vector<int> parts = DataParts(n);
      for (int i = 0; i < static_cast<int>(parts.size()); ++i) {
        const int x = parts[i];
        if (x < 0) continue;
        if (auto sp = spike_of_.find(s_.Resolve(x)); sp != spike_of_.end()) {
          if (sp->second.second != t - 1) continue;
          delayed_read_[{n, i}] = sp->second.first;
          group_of[Signature(n, i)] = sp->second.first;
        } else if (t == 0 && IsZeroConstant(x)) {
          zero_copies.push_back({{n, i}, g});
        } else if (IsPreviousSpikesInput(x, g, current_at)) {
          delayed_read_[{n, i}] = g;
          previous_inputs_[s_.Resolve(x)] = g;
        }
      }
    }
    for (const auto& [part, g] : zero_copies)
      if (auto it = group_of.find(Signature(part.first, part.second)); it != group_of.end())
        delayed_read_[part] = it->second;
  }

  // The values a weighted node reads: the parts of a feature Concat in
  // front of a linear layer (one layer each), else its data input.
  std::vector<int> DataParts(int n) const {
    const int c = SplitConcat(s_.inputs(n)[0]);
    return c >= 0 ? s_.inputs(c) : std::vector<int>{s_.inputs(n)[0]};
  }

  // The Concat producing `x` when it joins features on the last axis and
  // only linear layers with constant weights read it: x W = sum_i x_i W_i,
  // so each part becomes its own linear layer (SpikingJelly's
  // LinearRecurrentContainer concatenates its input with its previous
  // output). -1 otherwise.
  int SplitConcat(int x) const {
    if (x < 0) return -1;
    const int r = s_.Resolve(x);
    const int c = s_.value(r).producer;
    if (c < 0 || s_.node(c).op_type() != "Concat" || s_.inputs(c).size() < 2) return -1;
    const std::optional<Shape> sh = s_.ShapeOf(r);
    if (!sh || sh->size() < 2) return -1;
    int64_t axis = AttrInt(s_.node(c), "axis", 0);
    if (axis < 0) axis += static_cast<int64_t>(sh->size());
    if (axis != static_cast<int64_t>(sh->size()) - 1) return -1;
    for (int v : s_.inputs(c))
      if (v < 0 || !s_.ShapeOf(v) || s_.ShapeOf(v)->size() != sh->size()) return -1;
    for (int u : s_.value(r).consumers) {
      const OpInfo* info = s_.info(u);
      if (!info || info->layer != LayerRule::kLinear || s_.inputs(u).size() < 2 ||
          s_.Resolve(s_.inputs(u)[0]) != r || !s_.ConstOf(s_.inputs(u)[1]))
        return -1;
    }
    return c;
  }

  // A weighted node's op, weights, attributes and part: what its unrolled copies share.
  std::string Signature(int n, int part) const {
    return Key(n, {}, absl::StrCat(WeightKey(s_.inputs(n)[1]), "#", part));
  }

  bool IsZeroConstant(int v) const {
    const Tensor* t = s_.ConstOf(v);
    std::optional<std::vector<double>> d = t ? Materialize(*t) : std::nullopt;
    return d && std::all_of(d->begin(), d->end(), [](double x) { return x == 0.0; });
  }

  // Graph input `x` of a single-step export holds neuron g's spikes of the
  // previous step: g's states are graph inputs too, `x` has the shape of
  // g's spikes, and it only feeds weighted layers summed into g's current.
  bool IsPreviousSpikesInput(
      int x, int g, const absl::flat_hash_map<int, std::pair<int, int>>& current_at) const {
    const NeuronGroup& group = ew_.neurons[g];
    const int r = s_.Resolve(x);
    if (!s_.value(r).graph_input || s_.IsConst(r) || group.steps != 1 ||
        group.state_inputs.empty() || group.spikes.empty() || group.spikes[0].empty())
      return false;
    if (s_.ShapeOf(r) != s_.ShapeOf(group.spikes[0][0])) return false;
    std::vector<int> readers = s_.value(r).consumers;
    for (size_t i = 0; i < readers.size(); ++i) {
      const int c = readers[i];
      if (s_.node(c).op_type() == "Concat" && SplitConcat(s_.outputs(c)[0]) == c) {
        for (int u : s_.value(s_.Resolve(s_.outputs(c)[0])).consumers) readers.push_back(u);
        continue;
      }
      const OpInfo* info = s_.info(c);
      if (!info || (info->layer != LayerRule::kConv && info->layer != LayerRule::kLinear))
        return false;
      if (s_.outputs(c).empty() || s_.outputs(c)[0] < 0) return false;
      auto it = current_at.find(s_.Resolve(s_.outputs(c)[0]));
      if (it == current_at.end() || it->second.first != g) return false;
    }
    return true;
  }

  // Replaces the placeholders of delayed inputs by the neuron's layer.
  absl::Status ResolveDelayedInputs() {
    for (BuiltLayer& b : out_.layers) {
      ir::Layer& l = b.layer;
      for (size_t i = 0; i < l.inputs.size(); ++i) {
        if (l.inputs[i] > kDelayedBase) continue;
        const int g = kDelayedBase - l.inputs[i];
        if (neuron_layer_[g] < 0)
          return absl::InvalidArgumentError(
              absl::StrCat("layer ", l.name, " reads the previous spikes of the neuron at ",
                           ew_.neurons[g].anchor, ", which is attached to no layer"));
        l.inputs[i] = neuron_layer_[g];
        l.input_delayed.resize(l.inputs.size(), 0);
        l.input_delayed[i] = 1;
      }
    }
    for (const auto& [v, g] : previous_inputs_)
      if (neuron_layer_[g] >= 0) out_.previous_inputs[v] = neuron_layer_[g];
    return absl::OkStatus();
  }

  absl::StatusOr<std::vector<int>> DataInputs(int n, int count) {
    if (auto it = delayed_read_.find({n, 0}); it != delayed_read_.end())
      return std::vector<int>{kDelayedBase - it->second};
    std::vector<int> ids;
    for (int i = 0; i < count && i < static_cast<int>(s_.inputs(n).size()); ++i) {
      int v = s_.inputs(n)[i];
      absl::StatusOr<int> l = SrcOf(v, n);
      if (!l.ok()) return l.status();
      if (*l == kInternal) return Error(n, absl::StrCat("reads neuron state ", Name(v), " (unsupported)"));
      if (*l == kConstant) return Error(n, absl::StrCat("input ", Name(v), " is a constant (unsupported)"));
      ids.push_back(*l);
    }
    return ids;
  }

  void SetWindow(int n, const Shape& kernel, ir::Layer* l, const std::vector<int64_t>& extra) {
    const NodeProto& node = s_.node(n);
    std::vector<int64_t> strides = AttrInts(node, "strides");
    std::vector<int64_t> dil = AttrInts(node, "dilations");
    std::vector<int64_t> pads = AttrInts(node, "pads");
    size_t sp = kernel.size();
    if (pads.size() != 2 * sp) pads.assign(2 * sp, 0);
    if (extra.size() == 2 * (sp + 2))  // Pad over N, C, spatial
      for (size_t i = 0; i < sp; ++i) {
        pads[i] += extra[i + 2];
        pads[i + sp] += extra[i + 2 + sp + 2];
      }
    bool two = sp == 2;
    l->window.stride_y = two && !strides.empty() ? strides[0] : 1;
    l->window.stride_x = strides.empty() ? 1 : strides.back();
    l->window.dilation_y = two && !dil.empty() ? dil[0] : 1;
    l->window.dilation_x = dil.empty() ? 1 : dil.back();
    l->window.pad_top = two ? pads[0] : 0;
    l->window.pad_left = pads[sp - 1];
    l->window.pad_bottom = two ? pads[sp] : 0;
    l->window.pad_right = pads[2 * sp - 1];
  }

  absl::Status Conv(int n) {
    const NodeProto& node = s_.node(n);
    absl::StatusOr<std::vector<int>> in = DataInputs(n, 1);
    if (!in.ok()) return in.status();
    int wv = s_.inputs(n)[1];
    const Tensor* w = s_.ConstOf(wv);
    if (!w) return Error(n, "Conv with non-constant weights (a product of two activations) is not supported");
    int bias = s_.inputs(n).size() > 2 ? s_.inputs(n)[2] : -1;
    if (bias >= 0 && !s_.IsConst(bias)) return Error(n, "bias is not constant");
    if (w->shape.size() != 4 && w->shape.size() != 3) return Error(n, "only 1-D and 2-D convolutions are supported");
    std::string auto_pad = AttrString(node, "auto_pad");
    if (!auto_pad.empty() && auto_pad != "NOTSET" && auto_pad != "VALID")
      return Error(n, "auto_pad SAME_* is not supported (export with explicit pads)");
    absl::StatusOr<Shape> x = NeedShape(s_.inputs(n)[0], n);
    if (!x.ok()) return x.status();
    absl::StatusOr<Shape> y = NeedShape(s_.outputs(n)[0], n);
    if (!y.ok()) return y.status();
    ir::Layer l;
    l.name = node.name();
    l.op = ir::OpKind::kConv;
    l.inputs = *in;
    int64_t g = AttrInt(node, "group", 1);
    bool two = w->shape.size() == 4;
    l.dims.G = g;
    l.dims.K = w->shape[0] / g;
    l.dims.C = w->shape[1];
    l.dims.FY = two ? w->shape[2] : 1;
    l.dims.FX = w->shape.back();
    l.dims.OY = two ? DimAt(*y, 2) : 1;
    l.dims.OX = y->back();
    l.in_y = two ? DimAt(*x, 2) : 1;
    l.in_x = x->back();
    SetWindow(n, Shape(w->shape.begin() + 2, w->shape.end()), &l, {});
    l.weight_elements = w->numel() + ConstNumel(bias);
    l.out_shape = Shape(y->begin() + 1, y->end());
    if (load_) {
      absl::StatusOr<std::vector<float>> wv_f = Floats(wv, n);
      if (!wv_f.ok()) return wv_f.status();
      l.params.weights = std::move(*wv_f);
      if (bias >= 0) {
        absl::StatusOr<std::vector<float>> b = Floats(bias, n);
        if (!b.ok()) return b.status();
        l.params.bias = std::move(*b);
      }
      l.params.loaded = true;
    }
    AddLayer(n, Key(n, *in, WeightKey(wv)), std::move(l));
    return absl::OkStatus();
  }

  // Linear weights as [K][C]: MatMul and Gemm without transB store [C][K].
  absl::Status LinearParams(int n, const Tensor& w, bool trans_b, int bias, ir::Layer* l) {
    const NodeProto& node = s_.node(n);
    absl::StatusOr<std::vector<float>> wf = Floats(s_.inputs(n)[1], n);
    if (!wf.ok()) return wf.status();
    const int64_t k = l->dims.K, c = l->dims.C;
    float alpha = node.op_type() == "Gemm" ? AttrFloat(node, "alpha", 1.0f) : 1.0f;
    float beta = node.op_type() == "Gemm" ? AttrFloat(node, "beta", 1.0f) : 1.0f;
    l->params.weights.resize(static_cast<size_t>(k * c));
    for (int64_t i = 0; i < k; ++i)
      for (int64_t j = 0; j < c; ++j)
        l->params.weights[i * c + j] = alpha * (trans_b ? (*wf)[i * c + j] : (*wf)[j * k + i]);
    (void)w;
    if (bias >= 0) {
      absl::StatusOr<std::vector<float>> b = Floats(bias, n);
      if (!b.ok()) return b.status();
      if (b->size() != 1 && static_cast<int64_t>(b->size()) != k)
        return Error(n, "the bias does not have one value per output feature");
      l->params.bias.assign(static_cast<size_t>(k), 0.0f);
      for (int64_t i = 0; i < k; ++i) l->params.bias[i] = beta * (*b)[b->size() == 1 ? 0 : i];
    }
    l->params.loaded = true;
    return absl::OkStatus();
  }

  absl::Status Linear(int n) {
    const NodeProto& node = s_.node(n);
    int xv = s_.inputs(n)[0], wv = s_.inputs(n)[1];
    const Tensor* w = s_.ConstOf(wv);
    if (!w && !s_.IsConst(xv))
      return Error(n, absl::StrCat(node.op_type(), " of two activations: spiking self-attention (a product "
                                   "of two activations) is not supported"));
    if (!w) return Error(n, "a constant matrix times an activation (weights first) is not supported");
    if (w->shape.size() != 2) return Error(n, "weights must be a matrix");
    bool gemm = node.op_type() == "Gemm";
    if (gemm && AttrInt(node, "transA", 0) != 0) return Error(n, "transA is not supported");
    if (const int c = SplitConcat(xv); c >= 0) return LinearOverParts(n, c);
    absl::StatusOr<std::vector<int>> in = DataInputs(n, 1);
    if (!in.ok()) return in.status();
    int bias = gemm && s_.inputs(n).size() > 2 ? s_.inputs(n)[2] : -1;
    if (bias >= 0 && !s_.IsConst(bias)) return Error(n, "bias is not constant");
    bool trans_b = gemm && AttrInt(node, "transB", 0) != 0;
    int64_t in_features = trans_b ? w->shape[1] : w->shape[0];
    int64_t out_features = trans_b ? w->shape[0] : w->shape[1];
    absl::StatusOr<Shape> x = NeedShape(xv, n);
    if (!x.ok()) return x.status();
    if (x->empty() || x->back() != in_features)
      return Error(n, absl::StrCat("linear layer input has ", x->empty() ? 0 : x->back(),
                                   " features but its weights expect ", in_features,
                                   " (did --input-shape change its input size?)"));
    ir::Layer l;
    l.name = node.name();
    l.op = ir::OpKind::kLinear;
    l.inputs = *in;
    l.dims.K = out_features;
    l.dims.C = in_features;
    l.weight_elements = w->numel() + ConstNumel(bias);
    l.out_shape = {out_features};
    if (load_)
      if (absl::Status st = LinearParams(n, *w, trans_b, bias, &l); !st.ok()) return st;
    AddLayer(n, Key(n, *in, WeightKey(wv)), std::move(l));
    return absl::OkStatus();
  }

  // A linear layer reading a feature Concat: one linear layer per part
  // (its columns of the weights; the bias goes with the first), summed by an
  // `add` layer. An all-zero constant part adds nothing and is dropped.
  absl::Status LinearOverParts(int n, int concat) {
    const NodeProto& node = s_.node(n);
    const int wv = s_.inputs(n)[1];
    const Tensor& w = *s_.ConstOf(wv);
    const bool trans_b = node.op_type() == "Gemm" && AttrInt(node, "transB", 0) != 0;
    const int64_t in_features = trans_b ? w.shape[1] : w.shape[0];
    const int64_t out_features = trans_b ? w.shape[0] : w.shape[1];
    const int bias = node.op_type() == "Gemm" && s_.inputs(n).size() > 2 ? s_.inputs(n)[2] : -1;
    if (bias >= 0 && !s_.IsConst(bias)) return Error(n, "bias is not constant");
    std::vector<float> all, all_bias;
    if (load_) {
      ir::Layer whole;
      whole.dims.K = out_features;
      whole.dims.C = in_features;
      if (absl::Status st = LinearParams(n, w, trans_b, bias, &whole); !st.ok()) return st;
      all = std::move(whole.params.weights);
      whole.params.weights.clear();
      all_bias = std::move(whole.params.bias);
    }
    std::vector<int> parts;
    int64_t offset = 0;
    const std::vector<int>& xs = s_.inputs(concat);
    for (int i = 0; i < static_cast<int>(xs.size()); ++i) {
      absl::StatusOr<Shape> sh = NeedShape(xs[i], n);
      if (!sh.ok()) return sh.status();
      const int64_t width = sh->back();
      int src;
      if (auto it = delayed_read_.find({n, i}); it != delayed_read_.end()) {
        src = kDelayedBase - it->second;
      } else {
        absl::StatusOr<int> l = SrcOf(xs[i], n);
        if (!l.ok()) return l.status();
        if (*l == kConstant && IsZeroConstant(xs[i])) {
          offset += width;
          continue;
        }
        if (*l == kConstant || *l == kInternal)
          return Error(n, absl::StrCat("part ", Name(xs[i]), " of its concatenated input is ",
                                       *l == kConstant ? "a non-zero constant" : "a neuron state",
                                       " (unsupported)"));
        src = *l;
      }
      ir::Layer l;
      l.name = absl::StrCat(node.name(), "[", offset, ":", offset + width, "]");
      l.op = ir::OpKind::kLinear;
      l.inputs = {src};
      l.dims.K = out_features;
      l.dims.C = width;
      l.out_shape = {out_features};
      const bool with_bias = parts.empty() && bias >= 0;
      l.weight_elements = out_features * width + (with_bias ? ConstNumel(bias) : 0);
      if (load_) {
        l.params.weights.resize(static_cast<size_t>(out_features * width));
        for (int64_t k = 0; k < out_features; ++k)
          for (int64_t j = 0; j < width; ++j)
            l.params.weights[k * width + j] = all[k * in_features + offset + j];
        if (with_bias) l.params.bias = all_bias;
        l.params.loaded = true;
      }
      parts.push_back(AddLayer(
          n, Key(n, {src}, absl::StrCat(WeightKey(wv), "#", offset, with_bias ? "+b" : "")),
          std::move(l)));
      offset += width;
    }
    if (offset != in_features)
      return Error(n, absl::StrCat("its concatenated input has ", offset,
                                   " features but its weights expect ", in_features));
    if (parts.size() < 2) {
      if (parts.empty()) return Error(n, "every part of its concatenated input is zero");
      return absl::OkStatus();
    }
    ir::Layer sum;
    sum.name = node.name();
    sum.op = ir::OpKind::kAdd;
    sum.inputs = parts;
    sum.out_shape = {out_features};
    FeatureDims(sum.out_shape, &sum);
    AddLayer(n, Key(n, parts, "sum"), std::move(sum));
    return absl::OkStatus();
  }

  absl::Status Pool(int n) {
    const NodeProto& node = s_.node(n);
    int data = s_.inputs(n)[0];
    std::vector<int64_t> extra;
    if (auto it = pads_.find(data); it != pads_.end()) {
      extra = it->second;
      data = pad_input_[data];
    }
    absl::StatusOr<std::vector<int>> in = DataInputs(n, 1);
    if (!in.ok()) return in.status();
    absl::StatusOr<Shape> x = NeedShape(data, n);
    if (!x.ok()) return x.status();
    absl::StatusOr<Shape> y = NeedShape(s_.outputs(n)[0], n);
    if (!y.ok()) return y.status();
    Shape kernel = AttrInts(node, "kernel_shape");
    if (kernel.empty() || kernel.size() > 2 || x->size() != kernel.size() + 2)
      return Error(n, "only 1-D and 2-D pooling is supported");
    std::string auto_pad = AttrString(node, "auto_pad");
    if (!auto_pad.empty() && auto_pad != "NOTSET" && auto_pad != "VALID")
      return Error(n, "auto_pad SAME_* is not supported (export with explicit pads)");
    ir::Layer l;
    l.name = node.name();
    l.op = node.op_type() == "MaxPool" ? ir::OpKind::kMaxPool : ir::OpKind::kAvgPool;
    l.inputs = *in;
    l.out_shape = Shape(y->begin() + 1, y->end());
    FeatureDims(l.out_shape, &l);
    l.dims.FY = kernel.size() == 2 ? kernel[0] : 1;
    l.dims.FX = kernel.back();
    l.in_y = kernel.size() == 2 ? (*x)[2] : 1;
    l.in_x = x->back();
    SetWindow(n, kernel, &l, extra);
    // Padding a Pad node added holds real zeros; AveragePool's own pads
    // count only with count_include_pad.
    l.params.count_include_pad = !extra.empty() || AttrInt(node, "count_include_pad", 0) != 0;
    if (node.op_type() == "MaxPool" && !extra.empty())
      return Error(n, "MaxPool after a Pad node is not supported (export the padding on the MaxPool)");
    l.params.loaded = load_;
    int id = AddLayer(n, Key(n, *in, ""), std::move(l));
    // The max of spikes is a spike (the mean is not).
    int src = (*in)[0];
    if (node.op_type() == "MaxPool" && src >= 0 && out_.layers[src].spike_like) out_.layers[id].spike_like = true;
    return absl::OkStatus();
  }

  absl::Status GlobalPool(int n) {
    absl::StatusOr<std::vector<int>> in = DataInputs(n, 1);
    if (!in.ok()) return in.status();
    absl::StatusOr<Shape> x = NeedShape(s_.inputs(n)[0], n);
    if (!x.ok()) return x.status();
    if (x->size() < 3) return Error(n, "global pooling needs spatial axes");
    return AddGlobalPool(n, *in, *x, Shape(x->begin() + 2, x->end()));
  }

  absl::Status AddGlobalPool(int n, const std::vector<int>& in, const Shape& x, const Shape& spatial) {
    ir::Layer l;
    l.name = s_.node(n).name();
    l.op = ir::OpKind::kGlobalAvgPool;
    l.inputs = in;
    l.dims.K = x[1];
    l.dims.FY = spatial.size() == 2 ? spatial[0] : 1;
    l.dims.FX = spatial.empty() ? 1 : spatial.back();
    l.in_y = l.dims.FY;
    l.in_x = l.dims.FX;
    l.out_shape = {x[1], 1, 1};
    l.out_shape.resize(1 + spatial.size(), 1);
    AddLayer(n, Key(n, in, ""), std::move(l));
    return absl::OkStatus();
  }

  // ReduceMean/ReduceSum over the leading time axis -> time_mean; over the
  // trailing spatial axes of an N,C,H,W tensor -> global average pooling.
  absl::Status Reduce(int n) {
    const NodeProto& node = s_.node(n);
    absl::StatusOr<std::vector<int>> in = DataInputs(n, 1);
    if (!in.ok()) return in.status();
    absl::StatusOr<Shape> x = NeedShape(s_.inputs(n)[0], n);
    if (!x.ok()) return x.status();
    std::vector<int64_t> axes = AttrInts(node, "axes");
    if (s_.inputs(n).size() > 1 && s_.inputs(n)[1] >= 0)
      if (const Tensor* a = s_.ConstOf(s_.inputs(n)[1]); a && a->materialized())
        for (int64_t i = 0; i < a->numel(); ++i) axes.push_back(ToInt64(a->at(i)));
    std::set<int64_t> ax;
    for (int64_t a : axes) ax.insert(a < 0 ? a + static_cast<int64_t>(x->size()) : a);
    int64_t rank = static_cast<int64_t>(x->size());
    // A sum is the mean times the count.
    const bool sum = node.op_type() == "ReduceSum";
    auto scaled = [&](int64_t count) {
      if (!sum) return;
      int id = node_layer_.at(n);
      ir::PostOp op;
      op.scale = ir::NeuronParam::Scalar(static_cast<double>(count));
      out_.layers[id].layer.params.post.push_back(op);
    };
    if (rank >= 3 && ax == std::set<int64_t>{rank - 2, rank - 1}) {
      if (absl::Status st = AddGlobalPool(n, *in, *x, Shape(x->end() - 2, x->end())); !st.ok()) return st;
      scaled((*x)[rank - 2] * (*x)[rank - 1]);
      return absl::OkStatus();
    }
    if (ax == std::set<int64_t>{0} && timesteps_ > 0 && (*x)[0] == timesteps_) {
      ir::Layer l;
      l.name = node.name();
      l.op = ir::OpKind::kTimeMean;
      l.inputs = *in;
      l.out_shape = OutShape((*in)[0]);
      if ((*in)[0] < 0) l.out_shape = Shape(x->begin() + 2, x->end());
      FeatureDims(l.out_shape, &l);
      l.params.loaded = load_;
      AddLayer(n, Key(n, *in, ""), std::move(l));
      scaled(timesteps_);
      return absl::OkStatus();
    }
    return Error(n, absl::StrCat(node.op_type(), " over axes {", absl::StrJoin(ax, ","), "} of a rank-", rank,
                                 " tensor is neither a mean over time nor over H,W"));
  }

  // BatchNorm folds into the conv before it, also through Reshapes that only
  // split or merge the T and B axes (same channel and per-channel extent).
  absl::Status BatchNorm(int n) {
    absl::StatusOr<std::vector<int>> in = DataInputs(n, 1);
    if (!in.ok()) return in.status();
    const std::vector<int>& ins = s_.inputs(n);
    for (int i = 1; i < 5; ++i)
      if (i >= static_cast<int>(ins.size()) || !s_.IsConst(ins[i]))
        return Error(n, "BatchNormalization parameters must be constant");
    int64_t params = 0;
    for (int i = 1; i < 5; ++i) params += ConstNumel(ins[i]);
    absl::StatusOr<Shape> x = NeedShape(ins[0], n);
    if (!x.ok()) return x.status();
    int src = (*in)[0];
    if (src >= 0) {
      BuiltLayer& b = out_.layers[src];
      const Shape& ps = b.layer.out_shape;
      bool same_channels = x->size() >= 2 && !ps.empty() && (*x)[1] == ps[0] &&
                           Numel(Shape(x->begin() + 1, x->end())) == Numel(ps);
      std::string bn_key = WeightKey(ins[1]);  // time copies share parameters
      if (b.layer.op == ir::OpKind::kConv && !b.spike_like && !b.post_op &&
          (!b.bn_folded || bn_nodes_.count(bn_key)) && same_channels && SoleChain(ins[0], src)) {
        if (!bn_nodes_.count(bn_key)) {
          b.layer.weight_elements += params;
          if (load_) {
            absl::StatusOr<ir::PostOp> op = BatchNormOp(n);
            if (!op.ok()) return op.status();
            b.layer.params.post.push_back(std::move(*op));
          }
        }
        bn_nodes_.insert(bn_key);
        b.bn_folded = true;
        node_layer_[n] = src;
        SetOutputs(n, src);
        return absl::OkStatus();
      }
    }
    ir::Layer l;
    l.name = s_.node(n).name();
    l.op = ir::OpKind::kBatchNorm;
    l.inputs = *in;
    l.out_shape = src >= 0 ? OutShape(src) : Shape(x->begin() + 1, x->end());
    FeatureDims(l.out_shape, &l);
    l.weight_elements = params;
    if (load_) {
      absl::StatusOr<ir::PostOp> op = BatchNormOp(n);
      if (!op.ok()) return op.status();
      l.params.post.push_back(std::move(*op));
      l.params.loaded = true;
    }
    AddLayer(n, Key(n, *in, WeightKey(ins[1])), std::move(l));
    return absl::OkStatus();
  }

  // Inference BatchNorm as x * scale + shift per channel.
  absl::StatusOr<ir::PostOp> BatchNormOp(int n) {
    const std::vector<int>& ins = s_.inputs(n);
    std::vector<std::vector<float>> p;
    for (int i = 1; i < 5; ++i) {
      absl::StatusOr<std::vector<float>> v = Floats(ins[i], n);
      if (!v.ok()) return v.status();
      p.push_back(std::move(*v));
    }
    const double eps = AttrFloat(s_.node(n), "epsilon", 1e-5f);
    std::vector<double> scale, shift;
    for (size_t c = 0; c < p[0].size(); ++c) {
      double k = static_cast<double>(p[0][c]) / std::sqrt(static_cast<double>(p[3][c]) + eps);
      if (!std::isfinite(k)) return Error(n, absl::StrCat("channel ", c, " has a non-finite scale"));
      scale.push_back(k);
      shift.push_back(static_cast<double>(p[1][c]) - static_cast<double>(p[2][c]) * k);
    }
    return ChannelAffine(std::move(scale), std::move(shift));
  }

  // The post-op an elementwise node with one activation input applies to a
  // layer's output (of per-sample shape `out`).
  absl::StatusOr<ir::PostOp> PostOpOf(int n, int data, const Shape& out) {
    const NodeProto& node = s_.node(n);
    const std::string& op = node.op_type();
    std::optional<Shape> value_shape = s_.ShapeOf(data);
    if (!value_shape) return Error(n, "the shape of its input is unknown");
    auto param = [&](int i) -> absl::StatusOr<ir::NeuronParam> {
      int id = i < static_cast<int>(s_.inputs(n).size()) ? s_.inputs(n)[i] : -1;
      const Tensor* t = id >= 0 ? s_.ConstOf(id) : nullptr;
      if (!t) return Error(n, "a constant operand is missing");
      absl::StatusOr<ir::NeuronParam> p = LayoutParam(*t, *value_shape, out);
      if (!p.ok()) return Error(n, std::string(p.status().message()));
      return p;
    };
    const bool data_first = s_.Resolve(s_.inputs(n)[0]) == data;
    ir::PostOp p;
    if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div") {
      absl::StatusOr<ir::NeuronParam> c = param(data_first ? 1 : 0);
      if (!c.ok()) return c.status();
      if (op == "Add") {
        p.shift = *c;
      } else if (op == "Sub") {
        if (data_first) {
          p.shift = *c;
          for (double& v : p.shift.values) v = -v;
          p.shift.value = -p.shift.value;
        } else {
          p.scale = ir::NeuronParam::Scalar(-1.0);
          p.shift = *c;
        }
      } else if (op == "Mul") {
        p.scale = *c;
      } else {
        if (!data_first) return Error(n, "a constant divided by an activation cannot be executed");
        p.scale = *c;
        for (double& v : p.scale.values) v = 1.0 / v;
        p.scale.value = 1.0 / p.scale.value;
      }
      return p;
    }
    if (op == "Neg") {
      p.scale = ir::NeuronParam::Scalar(-1.0);
      return p;
    }
    const ElemParams e = ParamsOf(node);
    if (op == "Relu") {
      p.kind = ir::PostOpKind::kRelu;
    } else if (op == "LeakyRelu") {
      p.kind = ir::PostOpKind::kLeakyRelu;
      p.alpha = e.alpha;
    } else if (op == "Sigmoid") {
      p.kind = ir::PostOpKind::kSigmoid;
    } else if (op == "Tanh") {
      p.kind = ir::PostOpKind::kTanh;
    } else if (op == "HardSigmoid") {
      p.kind = ir::PostOpKind::kHardSigmoid;
      p.alpha = e.alpha;
      p.beta = e.beta;
    } else if (op == "Clip") {
      p.kind = ir::PostOpKind::kClip;
      p.lo = e.missing[1];
      p.hi = e.missing[2];
      for (int i : {1, 2}) {
        int id = i < static_cast<int>(s_.inputs(n).size()) ? s_.inputs(n)[i] : -1;
        if (id < 0) continue;
        const Tensor* t = s_.ConstOf(id);
        if (!t || !t->Uniform()) return Error(n, "Clip bounds must be scalar constants");
        (i == 1 ? p.lo : p.hi) = *t->Uniform();
      }
    } else {
      return Error(n, absl::StrCat("the activation ", op, " cannot be executed"));
    }
    return p;
  }

  // Elementwise nodes outside neurons and joins: sums of layers, biases,
  // scales and activations.
  absl::Status Elementwise(int n) {
    const NodeProto& node = s_.node(n);
    const std::string& op = node.op_type();
    const OpInfo* info = s_.info(n);
    std::vector<int> dyn;
    for (int v : s_.inputs(n))
      if (v >= 0 && !s_.IsConst(v) && std::find(dyn.begin(), dyn.end(), s_.Resolve(v)) == dyn.end())
        dyn.push_back(s_.Resolve(v));
    if (info->role == OpRole::kCompare || info->logical || op == "Sign" || op == "Where")
      return Error(n, "a threshold test or logic op that is not part of a recognised spiking neuron");
    if (dyn.size() >= 2) {
      if (op != "Add" && op != "Sum" && op != "Sub" && op != "Mean")
        return Error(n, absl::StrCat("elementwise ", op, " of two activations (gating, attention) is not supported"));
      return AddOfLayers(n, dyn);
    }
    if (dyn.empty()) return Error(n, "no input");
    absl::StatusOr<int> l = SrcOf(dyn[0], n);
    if (!l.ok()) return l.status();
    if (*l == kInternal) return Error(n, absl::StrCat("reads neuron state ", Name(dyn[0]), " (unsupported)"));
    bool view = op == "Identity" || op == "CastLike" || (op == "Cast" && IsFloatType(s_.DTypeOf(s_.outputs(n)[0])));
    if (view) {
      depth_[s_.outputs(n)[0]] = depth_[dyn[0]];
      node_layer_[n] = *l;
      SetOutputs(n, *l);
      return absl::OkStatus();
    }
    bool affine = op == "Add" || op == "Sub" || op == "Mul" || op == "Div" || op == "Neg";
    if (!affine && !IsActivation(op))
      return Error(n, absl::StrCat("unsupported elementwise op ", op, " on an activation"));
    int64_t params = 0;
    for (int v : s_.inputs(n))
      if (v >= 0 && s_.IsConst(v) && ConstNumel(v) > 1) params += ConstNumel(v);
    if (*l >= 0) {
      BuiltLayer& b = out_.layers[*l];
      ir::OpKind k = b.layer.op;
      bool producer = k == ir::OpKind::kConv || k == ir::OpKind::kLinear || k == ir::OpKind::kBatchNorm ||
                      k == ir::OpKind::kScale || k == ir::OpKind::kRelu ||
                      (!affine && (k == ir::OpKind::kAdd || k == ir::OpKind::kMaxPool ||
                                   k == ir::OpKind::kAvgPool || k == ir::OpKind::kGlobalAvgPool));
      if (producer && !b.spike_like && b.neuron < 0 && SoleChain(dyn[0], *l)) {
        // Bias, per-channel scale or activation fused into the producer
        // (once: unrolled copies apply the same op).
        const int depth = depth_[dyn[0]];
        const std::string key = absl::StrCat(*l, "|", depth, "|", n_copy_key(n));
        if (!fused_.count(key)) {
          b.layer.weight_elements += params;
          if (load_) {
            absl::StatusOr<ir::PostOp> p = PostOpOf(n, dyn[0], b.layer.out_shape);
            if (!p.ok()) return p.status();
            b.layer.params.post.push_back(std::move(*p));
          }
        }
        fused_.insert(key);
        depth_[s_.outputs(n)[0]] = depth + 1;
        b.post_op |= !affine;
        node_layer_[n] = *l;
        SetOutputs(n, *l);
        return absl::OkStatus();
      }
    }
    ir::Layer layer;
    layer.name = node.name();
    layer.op = op == "Relu" ? ir::OpKind::kRelu : ir::OpKind::kScale;
    layer.inputs = {*l};
    layer.out_shape = OutShape(*l);
    if (*l < 0) {
      absl::StatusOr<Shape> x = NeedShape(dyn[0], n);
      if (!x.ok()) return x.status();
      layer.out_shape = Shape(x->begin() + (x->empty() ? 0 : 1), x->end());
    }
    FeatureDims(layer.out_shape, &layer);
    layer.weight_elements = params;
    if (load_) {
      absl::StatusOr<ir::PostOp> p = PostOpOf(n, dyn[0], layer.out_shape);
      if (!p.ok()) return p.status();
      layer.params.post.push_back(std::move(*p));
      layer.params.loaded = true;
    }
    int id = AddLayer(n, Key(n, {*l}, ""), std::move(layer));
    out_.layers[id].post_op = true;
    if (*l >= 0 && out_.layers[*l].spike_like && op == "Relu") out_.layers[id].spike_like = true;
    return absl::OkStatus();
  }

  absl::Status AddOfLayers(int n, const std::vector<int>& dyn) {
    absl::StatusOr<std::vector<int>> ids;
    std::vector<int> in;
    for (int v : dyn) {
      absl::StatusOr<int> l = SrcOf(v, n);
      if (!l.ok()) return l.status();
      if (*l == kInternal) return Error(n, absl::StrCat("reads neuron state ", Name(v), " (unsupported)"));
      if (*l < 0) return Error(n, "a sum with the network input is not supported");
      in.push_back(*l);
    }
    ir::Layer l;
    l.name = s_.node(n).name();
    l.op = ir::OpKind::kAdd;
    l.inputs = in;
    l.out_shape = OutShape(in[0]);
    FeatureDims(l.out_shape, &l);
    std::vector<int> sorted = in;
    std::sort(sorted.begin(), sorted.end());
    AddLayer(n, Key(n, sorted, ""), std::move(l));
    return absl::OkStatus();
  }

  const Scope& s_;
  const ElementwiseAnalysis& ew_;
  int64_t timesteps_;
  bool load_;  // read parameter values into Layer::params
  std::vector<int> src_;
  std::vector<int> depth_;  // per value: post-ops fused on its way from its layer
  std::vector<int> step_;   // per value: the one time step it holds (-1 unknown, kAllSteps)
  struct StateSrc {
    int group = -1, state = -1, step = -1;
  };
  absl::flat_hash_map<int, std::vector<StateSrc>> state_src_;  // values holding neuron states
  absl::flat_hash_map<int, int> current_of_;  // a neuron's (sole) current value -> its group
  using Part = std::pair<int, int>;           // (weighted node, part of its input: DataParts)
  absl::flat_hash_map<Part, int> delayed_read_;  // -> neuron group whose previous spikes it reads
  absl::flat_hash_map<int, int>
      previous_inputs_;  // graph input -> neuron group (single-step exports)
  std::vector<int> neuron_layer_;
  absl::flat_hash_map<int, std::vector<int>> current_layers_;
  absl::flat_hash_map<int, std::pair<int, int>> spike_of_;  // spike value -> (group, step)
  absl::flat_hash_map<std::string, int> dedup_;
  absl::flat_hash_map<int, int> node_layer_;
  absl::flat_hash_map<int, std::vector<int64_t>> pads_;
  absl::flat_hash_map<int, int> pad_input_;
  std::set<std::string> bn_nodes_, fused_;
  BuiltGraph out_;
};

}  // namespace

void FeatureDims(const Shape& s, ir::Layer* l) {
  l->dims.K = s.empty() ? 1 : s[0];
  l->dims.C = 1;
  l->dims.OY = s.size() >= 3 ? s[s.size() - 2] : 1;
  l->dims.OX = s.size() >= 2 ? s.back() : 1;
  l->in_y = l->dims.OY;
  l->in_x = l->dims.OX;
}

absl::StatusOr<BuiltGraph> BuildLayers(const Scope& main, const ElementwiseAnalysis& ew, int64_t timesteps,
                                       bool load_parameters) {
  return Builder(main, ew, timesteps, load_parameters).Run();
}

}  // namespace snnplan::importer::internal
