#include "layer_builder.h"

#include <algorithm>
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
  Builder(const Scope& s, const ElementwiseAnalysis& ew, int64_t timesteps)
      : s_(s), ew_(ew), timesteps_(timesteps), src_(s.num_values(), kUnset),
        neuron_layer_(ew.neurons.size(), -1) {
    for (const NeuronGroup& g : ew.neurons)
      for (int v : g.state_inputs) src_[s.Resolve(v)] = kInternal;
    for (size_t i = 0; i < ew.neurons.size(); ++i)
      for (size_t t = 0; t < ew.neurons[i].spikes.size(); ++t)
        for (int v : ew.neurons[i].spikes[t]) spike_of_[s.Resolve(v)] = {static_cast<int>(i), static_cast<int>(t)};
  }

  absl::StatusOr<BuiltGraph> Run() {
    for (int n = 0; n < s_.num_nodes(); ++n)
      if (absl::Status st = Node(n); !st.ok()) return st;
    for (int o : s_.graph_outputs()) {
      int l = src_[s_.Resolve(o)];
      if (l >= 0) out_.layers[l].layer.network_output = true;
    }
    return std::move(out_);
  }

 private:
  absl::Status Error(int n, const std::string& why) const {
    return absl::InvalidArgumentError(absl::StrCat("node ", NodeLabel(s_.node(n)), ": ", why));
  }
  const std::string& Name(int v) const { return s_.value(v).name; }

  absl::StatusOr<int> SrcOf(int v, int n) const {
    if (v < 0) return Error(n, "a required input is absent");
    int r = s_.Resolve(v);
    if (src_[r] != kUnset) return src_[r];
    if (s_.IsConst(r)) return kConstant;
    if (s_.value(r).graph_input) return ir::kNetworkInput;
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

  int64_t ConstNumel(int v) const {
    const Tensor* c = v >= 0 ? s_.ConstOf(v) : nullptr;
    return c ? c->numel() : 0;
  }

  absl::Status Node(int n) {
    const NodeProto& node = s_.node(n);
    if (ew_.node_neuron[n] >= 0) return NeuronNode(n, ew_.node_neuron[n]);
    if (ew_.node_join[n] >= 0) return JoinNode(n, ew_.node_join[n]);
    const std::vector<int>& outs = s_.outputs(n);
    bool all_const = !outs.empty();
    for (int o : outs) all_const &= o < 0 || s_.IsConst(o);
    if (all_const) return absl::OkStatus();
    if (!outs.empty() && outs[0] >= 0 && s_.value(outs[0]).alias >= 0) return absl::OkStatus();
    const OpInfo* info = s_.info(n);
    if (!info) return Error(n, absl::StrCat("unsupported op ", node.op_type()));
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
        return Error(n, absl::StrCat("the spiking neuron at ", group.anchor,
                                     " is fed by the network input directly; a neuron needs a layer "
                                     "(conv, linear, pooling, ...) in front of it"));
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
    if (layers.size() == 1) {
      id = layers[0];
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
        return Error(n, absl::StrCat("recurrent connection: layer ", b.layer.name, " feeds the neuron at ",
                                     group.anchor, " with that neuron's own earlier spikes; recurrent "
                                     "spiking networks are not supported yet"));
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

  // The name of the node that first sums two of the neuron's currents.
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
    } else if (op == "Expand") {
      return Error(n, "Expand (broadcast) of an activation is not supported");
    }
    absl::StatusOr<int> l = SrcOf(s_.inputs(n)[0], n);
    if (!l.ok()) return l.status();
    SetOutputs(n, *l);
    return absl::OkStatus();
  }

  // Concat of views of one layer: stacking time steps back together.
  absl::Status ConcatView(int n) {
    std::set<int> srcs;
    for (int v : s_.inputs(n)) {
      absl::StatusOr<int> l = SrcOf(v, n);
      if (!l.ok()) return l.status();
      if (*l != kConstant) srcs.insert(*l);
    }
    if (srcs.count(kInternal)) {
      // Re-stacking recorded neuron states (snnTorch mem_rec).
      SetOutputs(n, kInternal);
      return absl::OkStatus();
    }
    if (srcs.size() != 1)
      return Error(n, "Concat of different layers is not supported (only re-stacking time steps)");
    SetOutputs(n, *srcs.begin());
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
    return absl::OkStatus();
  }

  // ---- layers ----------------------------------------------------------------------

  absl::StatusOr<std::vector<int>> DataInputs(int n, int count) {
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
    AddLayer(n, Key(n, *in, WeightKey(wv)), std::move(l));
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
    absl::StatusOr<std::vector<int>> in = DataInputs(n, 1);
    if (!in.ok()) return in.status();
    bool gemm = node.op_type() == "Gemm";
    if (gemm && AttrInt(node, "transA", 0) != 0) return Error(n, "transA is not supported");
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
    AddLayer(n, Key(n, *in, WeightKey(wv)), std::move(l));
    return absl::OkStatus();
  }

  // Channels and spatial extent of a per-sample feature shape.
  static void FeatureDims(const Shape& s, ir::Layer* l) {
    l->dims.K = s.empty() ? 1 : s[0];
    l->dims.C = 1;
    l->dims.OY = s.size() >= 3 ? s[s.size() - 2] : 1;
    l->dims.OX = s.size() >= 2 ? s.back() : 1;
    l->in_y = l->dims.OY;
    l->in_x = l->dims.OX;
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
    if (rank >= 3 && ax == std::set<int64_t>{rank - 2, rank - 1})
      return AddGlobalPool(n, *in, *x, Shape(x->end() - 2, x->end()));
    if (ax == std::set<int64_t>{0} && timesteps_ > 0 && (*x)[0] == timesteps_) {
      ir::Layer l;
      l.name = node.name();
      l.op = ir::OpKind::kTimeMean;
      l.inputs = *in;
      l.out_shape = OutShape((*in)[0]);
      if ((*in)[0] < 0) l.out_shape = Shape(x->begin() + 2, x->end());
      FeatureDims(l.out_shape, &l);
      AddLayer(n, Key(n, *in, ""), std::move(l));
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
        if (!bn_nodes_.count(bn_key)) b.layer.weight_elements += params;
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
    AddLayer(n, Key(n, *in, WeightKey(ins[1])), std::move(l));
    return absl::OkStatus();
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
    bool view = op == "Neg" || op == "Identity" || op == "Cast" || op == "CastLike";
    if (view) {
      node_layer_[n] = *l;
      SetOutputs(n, *l);
      return absl::OkStatus();
    }
    bool affine = op == "Add" || op == "Sub" || op == "Mul" || op == "Div";
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
        // Bias, per-channel scale or activation fused into the producer.
        if (b.copies == 1 || !fused_.count(WeightKey(dyn[0]) + "|" + op)) b.layer.weight_elements += params;
        fused_.insert(WeightKey(dyn[0]) + "|" + op);
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
  std::vector<int> src_;
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

absl::StatusOr<BuiltGraph> BuildLayers(const Scope& main, const ElementwiseAnalysis& ew, int64_t timesteps) {
  return Builder(main, ew, timesteps).Run();
}

}  // namespace snnplan::importer::internal
