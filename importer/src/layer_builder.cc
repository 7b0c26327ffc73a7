#include "layer_builder.h"

#include <algorithm>
#include <functional>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace snnplan::importer::internal {
namespace {

using onnx::NodeProto;

constexpr int kInternal = -3;  // neuron state / membrane tensors
constexpr int kConstant = -4;

std::string Label(const NodeProto& n) {
  return absl::StrCat(n.name().empty() ? "<unnamed>" : n.name(), " (", n.op_type(), ")");
}

bool IsView(const std::string& op) {
  static const std::set<std::string> kOps = {"Reshape", "Flatten", "Unsqueeze", "Squeeze",
                                             "Identity", "Dropout"};
  return kOps.count(op) > 0;
}

int64_t Dim(const Shape& s, size_t i) { return i < s.size() ? s[i] : 1; }

class Builder {
 public:
  Builder(const Scope& s, const Recognition& rec, int64_t timesteps)
      : s_(s), rec_(rec), timesteps_(timesteps) {
    for (size_t i = 0; i < rec.instances.size(); ++i) {
      for (const std::string& spk : rec.instances[i].spikes) spike_inst_[spk] = static_cast<int>(i);
      for (const std::string& in : rec.instances[i].state_in) state_inputs_.insert(in);
    }
  }

  absl::StatusOr<BuiltGraph> Run() {
    for (const auto& n : s_.graph().node())
      if (absl::Status st = Node(n); !st.ok()) return st;
    for (const auto& o : s_.graph().output()) {
      auto it = src_.find(o.name());
      if (it != src_.end() && it->second >= 0) out_.layers[it->second].layer.network_output = true;
    }
    return std::move(out_);
  }

 private:
  absl::Status Error(const NodeProto& n, const std::string& why) {
    return absl::InvalidArgumentError(absl::StrCat("node ", Label(n), ": ", why));
  }

  absl::StatusOr<int> SrcOf(const std::string& t, const NodeProto& n) {
    if (auto it = src_.find(t); it != src_.end()) return it->second;
    if (s_.ConstOf(t)) return kConstant;
    if (s_.IsGraphInput(t)) return state_inputs_.count(t) ? kInternal : ir::kNetworkInput;
    return Error(n, absl::StrCat("input ", t, " has no known producer"));
  }

  std::optional<Shape> ShapeOrNull(const std::string& t) { return s_.ShapeOf(t); }

  absl::StatusOr<Shape> NeedShape(const std::string& t, const NodeProto& n) {
    std::optional<Shape> sh = s_.ShapeOf(t);
    if (!sh) return Error(n, absl::StrCat("shape of ", t, " could not be determined"));
    return *sh;
  }

  // Per-sample output shape of layer `l` (empty for the network input).
  Shape OutShape(int l) const {
    return l >= 0 ? out_.layers[l].layer.out_shape : Shape{};
  }

  void SetOutputs(const NodeProto& n, int l) {
    for (const std::string& o : n.output())
      if (!o.empty()) src_[o] = l;
  }

  // Consumers that read values, not just the shape (Shape/Size chains that
  // compute Reshape targets do not count).
  size_t DataConsumers(const std::string& t) const {
    size_t n = 0;
    for (const NodeProto* c : s_.Consumers(t))
      if (c->op_type() != "Shape" && c->op_type() != "Size") ++n;
    return n;
  }

  // True when `t` reaches layer `l`'s producing node through views only, and
  // every tensor on the way has a single consumer.
  bool SoleChain(std::string t, int l) {
    for (int guard = 0; guard < 64; ++guard) {
      if (DataConsumers(t) != 1 || s_.IsGraphOutput(t)) return false;
      const NodeProto* p = s_.Producer(t);
      if (!p) return false;
      auto it = node_layer_.find(p);
      if (it != node_layer_.end()) return it->second == l;
      if (!IsView(p->op_type())) return false;
      t = p->input(0);
    }
    return false;
  }

  std::string Key(const NodeProto& n, const std::vector<int>& inputs,
                  const std::string& weight) {
    std::string key = absl::StrCat(n.op_type(), "|", weight, "|", absl::StrJoin(inputs, ","));
    for (const auto& a : n.attribute()) absl::StrAppend(&key, "|", a.SerializeAsString());
    return key;
  }

  // Registers node `n` as (a time copy of) a layer.
  void AddLayer(const NodeProto& n, const std::string& key, ir::Layer layer) {
    auto it = dedup_.find(key);
    int id;
    if (it != dedup_.end()) {
      id = it->second;
    } else {
      id = static_cast<int>(out_.layers.size());
      if (layer.name.empty()) layer.name = absl::StrCat(n.op_type(), "_", s_.Index(&n));
      BuiltLayer b;
      b.layer = std::move(layer);
      out_.layers.push_back(std::move(b));
      dedup_[key] = id;
    }
    out_.layers[id].copies++;
    node_layer_[&n] = id;
    SetOutputs(n, id);
  }

  // Resolves Identity aliases so shared weights have one name.
  std::string Alias(std::string t) {
    for (const NodeProto* p = s_.Producer(t); p && p->op_type() == "Identity";
         p = s_.Producer(t))
      t = p->input(0);
    return t;
  }

  int64_t ConstNumel(const std::string& t) {
    const Const* c = s_.ConstOf(t);
    return c ? c->numel() : 0;
  }

  absl::Status Node(const NodeProto& n) {
    const std::string& op = n.op_type();
    if (rec_.covered.count(&n)) return Covered(n);
    bool all_const = true;
    for (const std::string& o : n.output())
      if (!o.empty() && !s_.ConstOf(o)) all_const = false;
    if (all_const && n.output_size() > 0) return absl::OkStatus();
    if (op == "Shape" || op == "Size" || op == "ConstantOfShape" || op == "Range")
      return Error(n, "shape computation could not be folded to a constant");
    if (IsView(op)) return View(n);
    if (op == "Gather") return GatherView(n);
    if (op == "Concat") return ConcatView(n);
    if (op == "Pad") return PadView(n);
    if (op == "Conv") return Conv(n);
    if (op == "Gemm" || op == "MatMul") return Linear(n);
    if (op == "MaxPool" || op == "AveragePool") return Pool(n);
    if (op == "GlobalAveragePool") return GlobalPool(n);
    if (op == "ReduceMean") return ReduceMean(n);
    if (op == "Add") return Add(n);
    if (op == "Relu") return Relu(n);
    if (op == "BatchNormalization") return BatchNorm(n);
    if (op == "Greater" || op == "GreaterOrEqual" || op == "Cast" || op == "Loop")
      return Error(n, "not part of a recognised spiking neuron pattern");
    return Error(n, absl::StrCat("unsupported op ", op,
                                 " (not a layer, view, or part of a recognised neuron)"));
  }

  absl::Status Covered(const NodeProto& n) {
    for (const std::string& o : n.output()) {
      if (o.empty()) continue;
      auto it = spike_inst_.find(o);
      if (it == spike_inst_.end()) {
        src_[o] = kInternal;
        continue;
      }
      const NeuronInstance& inst = rec_.instances[it->second];
      absl::StatusOr<int> l = SrcOf(inst.current, n);
      if (!l.ok()) return l.status();
      if (*l < 0)
        return Error(n, absl::StrCat("neuron input ", inst.current,
                                     " is not the output of a layer"));
      BuiltLayer& b = out_.layers[*l];
      if (std::find(b.instances.begin(), b.instances.end(), it->second) == b.instances.end())
        b.instances.push_back(it->second);
      b.spike_like = true;
      src_[o] = *l;
    }
    return absl::OkStatus();
  }

  absl::Status View(const NodeProto& n) {
    absl::StatusOr<int> l = SrcOf(n.input(0), n);
    if (!l.ok()) return l.status();
    SetOutputs(n, *l);
    return absl::OkStatus();
  }

  // Gather of one index along the leading axis: a time-step (or frame) view.
  absl::Status GatherView(const NodeProto& n) {
    const Const* idx = s_.ConstOf(n.input(1));
    if (!idx || AttrInt(n, "axis", 0) != 0)
      return Error(n, "Gather is only supported as a time-step slice (axis 0, constant index)");
    return View(n);
  }

  // Concat of views of one layer: stacking time steps back together.
  absl::Status ConcatView(const NodeProto& n) {
    std::set<int> srcs;
    for (const std::string& in : n.input()) {
      absl::StatusOr<int> l = SrcOf(in, n);
      if (!l.ok()) return l.status();
      if (*l != kConstant) srcs.insert(*l);
    }
    if (srcs.size() != 1)
      return Error(n, "Concat of different layers is not supported (only re-stacking time steps)");
    SetOutputs(n, *srcs.begin());
    return absl::OkStatus();
  }

  absl::Status PadView(const NodeProto& n) {
    for (const NodeProto* c : s_.Consumers(n.output(0)))
      if (c->op_type() != "AveragePool" && c->op_type() != "MaxPool")
        return Error(n, "Pad is only supported in front of pooling");
    std::string mode = AttrString(n, "mode");
    if (!mode.empty() && mode != "constant") return Error(n, "only constant padding is supported");
    std::vector<int64_t> pads = AttrInts(n, "pads");
    if (const Const* p = n.input_size() > 1 ? s_.ConstOf(n.input(1)) : nullptr)
      for (double v : p->values) pads.push_back(ToInt64(v));
    pads_[n.output(0)] = pads;
    pad_input_[n.output(0)] = n.input(0);
    return View(n);
  }

  absl::StatusOr<std::vector<int>> DataInputs(const NodeProto& n, int count) {
    std::vector<int> ids;
    for (int i = 0; i < count && i < n.input_size(); ++i) {
      absl::StatusOr<int> l = SrcOf(n.input(i), n);
      if (!l.ok()) return l.status();
      if (*l == kInternal)
        return Error(n, absl::StrCat("reads neuron state ", n.input(i), " (unsupported)"));
      if (*l == kConstant)
        return Error(n, absl::StrCat("input ", n.input(i), " is a constant (unsupported)"));
      ids.push_back(*l);
    }
    return ids;
  }

  void SetWindow(const NodeProto& n, const Shape& kernel, ir::Layer* l,
                 const std::vector<int64_t>& extra_pads) {
    std::vector<int64_t> strides = AttrInts(n, "strides");
    std::vector<int64_t> dil = AttrInts(n, "dilations");
    std::vector<int64_t> pads = AttrInts(n, "pads");
    size_t sp = kernel.size();
    if (pads.size() != 2 * sp) pads.assign(2 * sp, 0);
    if (extra_pads.size() == 2 * (sp + 2))  // Pad over N, C, spatial
      for (size_t i = 0; i < sp; ++i) {
        pads[i] += extra_pads[i + 2];
        pads[i + sp] += extra_pads[i + 2 + sp + 2];
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

  absl::Status Conv(const NodeProto& n) {
    absl::StatusOr<std::vector<int>> in = DataInputs(n, 1);
    if (!in.ok()) return in.status();
    const Const* w = s_.ConstOf(n.input(1));
    if (!w) return Error(n, "weights are not constant");
    if (n.input_size() > 2 && !n.input(2).empty() && !s_.ConstOf(n.input(2)))
      return Error(n, "bias is not constant");
    if (w->shape.size() != 4 && w->shape.size() != 3)
      return Error(n, "only 1-D and 2-D convolutions are supported");
    if (!AttrString(n, "auto_pad").empty() && AttrString(n, "auto_pad") != "NOTSET")
      return Error(n, "auto_pad is not supported");
    absl::StatusOr<Shape> x = NeedShape(n.input(0), n);
    if (!x.ok()) return x.status();
    absl::StatusOr<Shape> y = NeedShape(n.output(0), n);
    if (!y.ok()) return y.status();
    ir::Layer l;
    l.name = n.name();
    l.op = ir::OpKind::kConv;
    l.inputs = *in;
    int64_t g = AttrInt(n, "group", 1);
    bool two = w->shape.size() == 4;
    l.dims.G = g;
    l.dims.K = w->shape[0] / g;
    l.dims.C = w->shape[1];
    l.dims.FY = two ? w->shape[2] : 1;
    l.dims.FX = w->shape.back();
    l.dims.OY = two ? Dim(*y, 2) : 1;
    l.dims.OX = y->back();
    l.in_y = two ? Dim(*x, 2) : 1;
    l.in_x = x->back();
    SetWindow(n, Shape(w->shape.begin() + 2, w->shape.end()), &l, {});
    l.weight_elements = w->numel() + (n.input_size() > 2 ? ConstNumel(n.input(2)) : 0);
    l.out_shape = Shape(y->begin() + 1, y->end());
    AddLayer(n, Key(n, *in, Alias(n.input(1))), std::move(l));
    return absl::OkStatus();
  }

  absl::Status Linear(const NodeProto& n) {
    absl::StatusOr<std::vector<int>> in = DataInputs(n, 1);
    if (!in.ok()) return in.status();
    const Const* w = s_.ConstOf(n.input(1));
    if (!w || w->shape.size() != 2) return Error(n, "weights must be a constant matrix");
    bool gemm = n.op_type() == "Gemm";
    if (gemm && AttrInt(n, "transA", 0) != 0) return Error(n, "transA is not supported");
    if (gemm && n.input_size() > 2 && !n.input(2).empty() && !s_.ConstOf(n.input(2)))
      return Error(n, "bias is not constant");
    bool trans_b = gemm && AttrInt(n, "transB", 0) != 0;
    int64_t in_features = trans_b ? w->shape[1] : w->shape[0];
    int64_t out_features = trans_b ? w->shape[0] : w->shape[1];
    absl::StatusOr<Shape> x = NeedShape(n.input(0), n);
    if (!x.ok()) return x.status();
    if (x->empty() || x->back() != in_features)
      return Error(n, absl::StrCat("linear layer input has ", x->empty() ? 0 : x->back(),
                                   " features but its weights expect ", in_features,
                                   " (did --input-shape change its input size?)"));
    ir::Layer l;
    l.name = n.name();
    l.op = ir::OpKind::kLinear;
    l.inputs = *in;
    l.dims.K = out_features;
    l.dims.C = in_features;
    l.weight_elements = w->numel() + (gemm && n.input_size() > 2 ? ConstNumel(n.input(2)) : 0);
    l.out_shape = {out_features};
    AddLayer(n, Key(n, *in, Alias(n.input(1))), std::move(l));
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

  absl::Status Pool(const NodeProto& n) {
    std::string data = n.input(0);
    std::vector<int64_t> extra;
    if (auto it = pads_.find(data); it != pads_.end()) {
      extra = it->second;
      data = pad_input_[n.input(0)];
    }
    absl::StatusOr<std::vector<int>> in = DataInputs(n, 1);
    if (!in.ok()) return in.status();
    absl::StatusOr<Shape> x = NeedShape(data, n);
    if (!x.ok()) return x.status();
    absl::StatusOr<Shape> y = NeedShape(n.output(0), n);
    if (!y.ok()) return y.status();
    Shape kernel = AttrInts(n, "kernel_shape");
    if (kernel.empty() || kernel.size() > 2 || x->size() != kernel.size() + 2)
      return Error(n, "only 1-D and 2-D pooling is supported");
    if (!AttrString(n, "auto_pad").empty() && AttrString(n, "auto_pad") != "NOTSET")
      return Error(n, "auto_pad is not supported");
    ir::Layer l;
    l.name = n.name();
    l.op = n.op_type() == "MaxPool" ? ir::OpKind::kMaxPool : ir::OpKind::kAvgPool;
    l.inputs = *in;
    l.out_shape = Shape(y->begin() + 1, y->end());
    FeatureDims(l.out_shape, &l);
    l.dims.FY = kernel.size() == 2 ? kernel[0] : 1;
    l.dims.FX = kernel.back();
    l.in_y = kernel.size() == 2 ? (*x)[2] : 1;
    l.in_x = x->back();
    SetWindow(n, kernel, &l, extra);
    AddLayer(n, Key(n, *in, ""), std::move(l));
    // The max of spikes is a spike (the mean is not).
    int src = (*in)[0];
    if (n.op_type() == "MaxPool" && src >= 0 && out_.layers[src].spike_like)
      out_.layers[node_layer_[&n]].spike_like = true;
    return absl::OkStatus();
  }

  absl::Status GlobalPool(const NodeProto& n) {
    absl::StatusOr<std::vector<int>> in = DataInputs(n, 1);
    if (!in.ok()) return in.status();
    absl::StatusOr<Shape> x = NeedShape(n.input(0), n);
    if (!x.ok()) return x.status();
    if (x->size() < 3) return Error(n, "global pooling needs spatial axes");
    return AddGlobalPool(n, *in, *x, Shape(x->begin() + 2, x->end()));
  }

  absl::Status AddGlobalPool(const NodeProto& n, const std::vector<int>& in,
                             const Shape& x, const Shape& spatial) {
    ir::Layer l;
    l.name = n.name();
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

  // ReduceMean over the leading time axis -> time_mean; over the trailing
  // spatial axes of an N,C,H,W tensor -> global average pooling.
  absl::Status ReduceMean(const NodeProto& n) {
    absl::StatusOr<std::vector<int>> in = DataInputs(n, 1);
    if (!in.ok()) return in.status();
    absl::StatusOr<Shape> x = NeedShape(n.input(0), n);
    if (!x.ok()) return x.status();
    std::vector<int64_t> axes = AttrInts(n, "axes");
    if (n.input_size() > 1)
      if (const Const* a = s_.ConstOf(n.input(1)))
        for (double v : a->values) axes.push_back(ToInt64(v));
    std::set<int64_t> ax;
    for (int64_t a : axes) ax.insert(a < 0 ? a + static_cast<int64_t>(x->size()) : a);
    int64_t rank = static_cast<int64_t>(x->size());
    if (rank >= 3 && ax == std::set<int64_t>{rank - 2, rank - 1})
      return AddGlobalPool(n, *in, *x, Shape(x->end() - 2, x->end()));
    if (ax == std::set<int64_t>{0} && timesteps_ > 0 && (*x)[0] == timesteps_) {
      ir::Layer l;
      l.name = n.name();
      l.op = ir::OpKind::kTimeMean;
      l.inputs = *in;
      l.out_shape = OutShape((*in)[0]);
      FeatureDims(l.out_shape, &l);
      out_.time_axis_extent = timesteps_;
      AddLayer(n, Key(n, *in, ""), std::move(l));
      return absl::OkStatus();
    }
    return Error(n, absl::StrCat("ReduceMean over axes {", absl::StrJoin(ax, ","),
                                 "} of a rank-", rank,
                                 " tensor is neither a mean over time nor over H,W"));
  }

  absl::Status Add(const NodeProto& n) {
    if (n.input_size() != 2) return Error(n, "Add needs two inputs");
    bool c0 = s_.ConstOf(n.input(0)) != nullptr, c1 = s_.ConstOf(n.input(1)) != nullptr;
    if (c0 || c1) return BiasAdd(n, c0 ? 1 : 0, c0 ? 0 : 1);
    absl::StatusOr<std::vector<int>> in = DataInputs(n, 2);
    if (!in.ok()) return in.status();
    for (int id : *in)
      if (id < 0) return Error(n, "Add of the network input is not supported");
    bool spikes = out_.layers[(*in)[0]].spike_like && out_.layers[(*in)[1]].spike_like;
    ir::Layer l;
    l.name = n.name();
    l.op = spikes ? ir::OpKind::kSewOr : ir::OpKind::kAdd;
    l.inputs = *in;
    l.out_shape = OutShape((*in)[0]);
    FeatureDims(l.out_shape, &l);
    std::vector<int> sorted = *in;
    std::sort(sorted.begin(), sorted.end());
    AddLayer(n, Key(n, sorted, ""), std::move(l));
    if (spikes) out_.layers[node_layer_[&n]].spike_like = true;
    return absl::OkStatus();
  }

  // Add of a constant right after a Conv / MatMul: its bias.
  absl::Status BiasAdd(const NodeProto& n, int data, int bias) {
    absl::StatusOr<int> l = SrcOf(n.input(data), n);
    if (!l.ok()) return l.status();
    if (*l < 0 || !out_.layers[*l].layer.has_weights() || !SoleChain(n.input(data), *l) ||
        out_.layers[*l].spike_like)
      return Error(n, "Add of a constant is only supported as the bias of a Conv/MatMul");
    if (out_.layers[*l].copies == 1) out_.layers[*l].layer.weight_elements += ConstNumel(n.input(bias));
    node_layer_[&n] = *l;
    SetOutputs(n, *l);
    return absl::OkStatus();
  }

  absl::Status Relu(const NodeProto& n) {
    absl::StatusOr<std::vector<int>> in = DataInputs(n, 1);
    if (!in.ok()) return in.status();
    int src = (*in)[0];
    if (src >= 0) {
      BuiltLayer& b = out_.layers[src];
      ir::OpKind k = b.layer.op;
      bool fusable = k == ir::OpKind::kConv || k == ir::OpKind::kLinear ||
                     k == ir::OpKind::kAdd || k == ir::OpKind::kMaxPool ||
                     k == ir::OpKind::kAvgPool || k == ir::OpKind::kGlobalAvgPool;
      if (fusable && !b.spike_like && SoleChain(n.input(0), src)) {
        b.relu_fused = true;
        node_layer_[&n] = src;
        SetOutputs(n, src);
        return absl::OkStatus();
      }
    }
    ir::Layer l;
    l.name = n.name();
    l.op = ir::OpKind::kRelu;
    l.inputs = *in;
    l.out_shape = OutShape(src);
    if (src < 0) {
      absl::StatusOr<Shape> x = NeedShape(n.input(0), n);
      if (!x.ok()) return x.status();
      l.out_shape = Shape(x->begin() + 1, x->end());
    }
    FeatureDims(l.out_shape, &l);
    AddLayer(n, Key(n, *in, ""), std::move(l));
    if (src >= 0 && out_.layers[src].spike_like) out_.layers[node_layer_[&n]].spike_like = true;
    return absl::OkStatus();
  }

  // BatchNorm folds into the conv before it, also through Reshapes that only
  // split or merge the T and B axes (same channel and per-channel extent).
  absl::Status BatchNorm(const NodeProto& n) {
    absl::StatusOr<std::vector<int>> in = DataInputs(n, 1);
    if (!in.ok()) return in.status();
    for (int i = 1; i < 5; ++i)
      if (i >= n.input_size() || !s_.ConstOf(n.input(i)))
        return Error(n, "BatchNormalization parameters must be constant");
    int64_t params = 0;
    for (int i = 1; i < 5; ++i) params += ConstNumel(n.input(i));
    absl::StatusOr<Shape> x = NeedShape(n.input(0), n);
    if (!x.ok()) return x.status();
    int src = (*in)[0];
    if (src >= 0) {
      BuiltLayer& b = out_.layers[src];
      const Shape& ps = b.layer.out_shape;
      bool same_channels = x->size() >= 2 && !ps.empty() && (*x)[1] == ps[0] &&
                           Numel(Shape(x->begin() + 1, x->end())) == Numel(ps);
      std::string bn_key = Alias(n.input(1));  // time copies share parameters
      if (b.layer.op == ir::OpKind::kConv && !b.spike_like && !b.relu_fused &&
          (!b.bn_folded || bn_nodes_.count(bn_key)) && same_channels &&
          SoleChain(n.input(0), src)) {
        if (!bn_nodes_.count(bn_key)) b.layer.weight_elements += params;
        bn_nodes_.insert(bn_key);
        b.bn_folded = true;
        node_layer_[&n] = src;
        SetOutputs(n, src);
        return absl::OkStatus();
      }
    }
    ir::Layer l;
    l.name = n.name();
    l.op = ir::OpKind::kBatchNorm;
    l.inputs = *in;
    l.out_shape = src >= 0 ? OutShape(src) : Shape(x->begin() + 1, x->end());
    FeatureDims(l.out_shape, &l);
    l.weight_elements = params;
    AddLayer(n, Key(n, *in, Alias(n.input(1))), std::move(l));
    return absl::OkStatus();
  }

  const Scope& s_;
  const Recognition& rec_;
  int64_t timesteps_;
  std::map<std::string, int> src_;
  std::map<std::string, int> dedup_;
  std::map<const NodeProto*, int> node_layer_;
  std::map<std::string, std::vector<int64_t>> pads_;
  std::map<std::string, std::string> pad_input_;
  std::map<std::string, int> spike_inst_;
  std::set<std::string> state_inputs_;
  std::set<std::string> bn_nodes_;
  BuiltGraph out_;
};

}  // namespace

absl::StatusOr<BuiltGraph> BuildLayers(const Scope& main, const Recognition& rec,
                                       int64_t timesteps) {
  return Builder(main, rec, timesteps).Run();
}

}  // namespace snnplan::importer::internal
