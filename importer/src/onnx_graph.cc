#include "onnx_graph.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <set>

#include "absl/strings/str_cat.h"

namespace snnplan::importer::internal {
namespace {

constexpr int64_t kMaxFold = 1 << 16;  // fold at most this many elements
constexpr int64_t kMaxRead = 1 << 22;  // read initializers up to this size

template <typename T>
void AppendRaw(const std::string& raw, std::vector<double>* out) {
  size_t n = raw.size() / sizeof(T);
  out->reserve(n);
  for (size_t i = 0; i < n; ++i) {
    T v;
    std::memcpy(&v, raw.data() + i * sizeof(T), sizeof(T));
    out->push_back(static_cast<double>(v));
  }
}

Const ConstFromProto(const onnx::TensorProto& t) {
  Const c;
  c.dtype = t.data_type();
  c.shape.assign(t.dims().begin(), t.dims().end());
  if (c.numel() <= kMaxFold) {
    if (!ReadTensor(t, &c.values).ok()) c.values.clear();
  } else {
    c.proto = &t;
  }
  return c;
}

std::optional<Shape> Broadcast(const std::vector<Shape>& shapes) {
  size_t rank = 0;
  for (const Shape& s : shapes) rank = std::max(rank, s.size());
  Shape out(rank, 1);
  for (const Shape& s : shapes) {
    for (size_t i = 0; i < s.size(); ++i) {
      int64_t& o = out[rank - s.size() + i];
      int64_t d = s[i];
      if (d == o || d == 1) continue;
      if (o != 1) return std::nullopt;
      o = d;
    }
  }
  return out;
}

// Offset in `in` (broadcast to `out`) of the out element with multi-index.
int64_t BroadcastOffset(const Shape& in, const Shape& out, const std::vector<int64_t>& idx) {
  int64_t off = 0;
  size_t shift = out.size() - in.size();
  for (size_t i = 0; i < in.size(); ++i) off = off * in[i] + (in[i] == 1 ? 0 : idx[i + shift]);
  return off;
}

std::optional<double> Uniform(const Const& c) {
  if (c.splat) return c.splat;
  if (!c.materialized() || c.values.empty()) return std::nullopt;
  for (double v : c.values)
    if (v != c.values[0]) return std::nullopt;
  return c.values[0];
}

using ElemFn = std::function<double(const std::vector<double>&)>;

// Elementwise op over constants with broadcasting.
std::optional<Const> FoldElementwise(const std::vector<const Const*>& in, int32_t dtype,
                                     const ElemFn& fn) {
  std::vector<Shape> shapes;
  for (const Const* c : in) shapes.push_back(c->shape);
  std::optional<Shape> out_shape = Broadcast(shapes);
  if (!out_shape) return std::nullopt;
  Const out;
  out.dtype = dtype;
  out.shape = *out_shape;
  bool all_uniform = true;
  std::vector<double> args(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    std::optional<double> u = Uniform(*in[i]);
    if (!u)
      all_uniform = false;
    else
      args[i] = *u;
  }
  if (all_uniform && (out.numel() > kMaxFold)) {
    out.splat = fn(args);
    return out;
  }
  if (out.numel() > kMaxFold) return std::nullopt;
  for (const Const* c : in)
    if (!c->materialized()) return std::nullopt;
  std::vector<int64_t> idx(out.shape.size(), 0);
  for (int64_t e = 0; e < out.numel(); ++e) {
    int64_t rem = e;
    for (size_t d = out.shape.size(); d-- > 0;) {
      idx[d] = rem % out.shape[d];
      rem /= out.shape[d];
    }
    for (size_t i = 0; i < in.size(); ++i)
      args[i] = in[i]->values[BroadcastOffset(in[i]->shape, out.shape, idx)];
    out.values.push_back(fn(args));
  }
  if (out.numel() == 1) out.splat = out.values[0];
  return out;
}

int64_t NormAxis(int64_t axis, size_t rank) {
  return axis < 0 ? axis + static_cast<int64_t>(rank) : axis;
}

// Shape of a sliding-window op output (Conv, MaxPool, AveragePool).
std::optional<Shape> WindowShape(const onnx::NodeProto& n, const Shape& x, int64_t out_channels,
                                 const std::vector<int64_t>& kernel) {
  size_t sp = kernel.size();
  if (x.size() != sp + 2) return std::nullopt;
  std::vector<int64_t> strides = AttrInts(n, "strides");
  std::vector<int64_t> dil = AttrInts(n, "dilations");
  std::vector<int64_t> pads = AttrInts(n, "pads");
  std::string auto_pad = AttrString(n, "auto_pad");
  bool ceil = AttrInt(n, "ceil_mode", 0) != 0;
  // Malformed attributes or numbers beyond int64 leave the shape unknown.
  if ((!strides.empty() && strides.size() != sp) || (!dil.empty() && dil.size() != sp) ||
      (!pads.empty() && pads.size() != 2 * sp))
    return std::nullopt;
  Shape out = {x[0], out_channels};
  for (size_t i = 0; i < sp; ++i) {
    int64_t s = strides.empty() ? 1 : strides[i];
    int64_t d = dil.empty() ? 1 : dil[i];
    int64_t in = x[i + 2];
    if (s <= 0 || d <= 0 || in < 0 || kernel[i] < 1) return std::nullopt;
    int64_t eff = 0;
    if (__builtin_mul_overflow(kernel[i] - 1, d, &eff)) return std::nullopt;
    ++eff;  // (kernel - 1) * dilation + 1 <= INT64_MAX
    if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      out.push_back(in / s + (in % s != 0 ? 1 : 0));
      continue;
    }
    int64_t p = 0, num = 0;
    if (!pads.empty() && auto_pad != "VALID" && __builtin_add_overflow(pads[i], pads[i + sp], &p))
      return std::nullopt;
    if (__builtin_add_overflow(in, p, &num) || __builtin_sub_overflow(num, eff, &num) || num < 0)
      return std::nullopt;
    out.push_back((ceil ? num / s + (num % s != 0 ? 1 : 0) : num / s) + 1);
  }
  return out;
}

}  // namespace

int64_t Const::numel() const { return Numel(shape); }

int64_t Numel(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s)
    if (__builtin_mul_overflow(n, d, &n)) return std::numeric_limits<int64_t>::max();
  return n;
}

int64_t ToInt64(double d) {
  if (std::isnan(d)) return 0;
  if (d >= 9.2e18) return std::numeric_limits<int64_t>::max();
  if (d <= -9.2e18) return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(d);
}

absl::Status ReadTensor(const onnx::TensorProto& t, std::vector<double>* out) {
  out->clear();
  if (t.data_location() == onnx::TensorProto::EXTERNAL)
    return absl::InvalidArgumentError(
        absl::StrCat("tensor ", t.name(), " uses external data (unsupported)"));
  using TP = onnx::TensorProto;
  if (t.has_raw_data()) {
    const std::string& raw = t.raw_data();
    switch (t.data_type()) {
      case TP::FLOAT:
        AppendRaw<float>(raw, out);
        break;
      case TP::DOUBLE:
        AppendRaw<double>(raw, out);
        break;
      case TP::INT64:
        AppendRaw<int64_t>(raw, out);
        break;
      case TP::INT32:
        AppendRaw<int32_t>(raw, out);
        break;
      case TP::INT16:
        AppendRaw<int16_t>(raw, out);
        break;
      case TP::INT8:
        AppendRaw<int8_t>(raw, out);
        break;
      case TP::UINT8:
      case TP::BOOL:
        AppendRaw<uint8_t>(raw, out);
        break;
      default:
        return absl::InvalidArgumentError(
            absl::StrCat("tensor ", t.name(), ": unsupported data type ", t.data_type()));
    }
  } else {
    for (float v : t.float_data()) out->push_back(v);
    for (double v : t.double_data()) out->push_back(v);
    for (int64_t v : t.int64_data()) out->push_back(static_cast<double>(v));
    for (int32_t v : t.int32_data()) out->push_back(v);
  }
  int64_t expect = Numel(Shape(t.dims().begin(), t.dims().end()));
  if (static_cast<int64_t>(out->size()) != expect)
    return absl::InvalidArgumentError(
        absl::StrCat("tensor ", t.name(), " holds ", out->size(), " values, expected ", expect));
  return absl::OkStatus();
}

std::optional<double> ScalarOf(const Const& c) {
  if (c.splat) return c.splat;
  if (c.numel() == 1 && c.values.size() == 1) return c.values[0];
  return std::nullopt;
}

std::optional<double> FirstOf(const Const& c) {
  if (c.splat) return c.splat;
  if (!c.values.empty()) return c.values[0];
  if (c.proto) {
    std::vector<double> v;
    if (ReadTensor(*c.proto, &v).ok() && !v.empty()) return v[0];
  }
  return std::nullopt;
}

bool IsAllZero(const Const& c) {
  if (c.splat) return *c.splat == 0.0;
  const std::vector<double>* vals = &c.values;
  std::vector<double> read;
  if (c.proto) {
    if (c.numel() > kMaxRead || !ReadTensor(*c.proto, &read).ok()) return false;
    vals = &read;
  }
  return std::all_of(vals->begin(), vals->end(), [](double v) { return v == 0.0; });
}

const onnx::AttributeProto* FindAttr(const onnx::NodeProto& n, const std::string& name) {
  for (const auto& a : n.attribute())
    if (a.name() == name) return &a;
  return nullptr;
}
int64_t AttrInt(const onnx::NodeProto& n, const std::string& name, int64_t def) {
  const onnx::AttributeProto* a = FindAttr(n, name);
  return a ? a->i() : def;
}
float AttrFloat(const onnx::NodeProto& n, const std::string& name, float def) {
  const onnx::AttributeProto* a = FindAttr(n, name);
  return a ? a->f() : def;
}
std::string AttrString(const onnx::NodeProto& n, const std::string& name) {
  const onnx::AttributeProto* a = FindAttr(n, name);
  return a ? a->s() : std::string();
}
std::vector<int64_t> AttrInts(const onnx::NodeProto& n, const std::string& name) {
  const onnx::AttributeProto* a = FindAttr(n, name);
  if (!a) return {};
  return {a->ints().begin(), a->ints().end()};
}

Scope::Scope(const onnx::GraphProto& graph, const Scope* parent, int opset)
    : graph_(graph), parent_(parent), opset_(opset) {
  for (const auto& init : graph.initializer()) SetConst(init.name(), ConstFromProto(init));
  for (const auto& in : graph.input()) inputs_[in.name()] = consts_.count(in.name()) == 0;
  for (const auto& out : graph.output()) outputs_[out.name()] = true;
  for (int i = 0; i < graph.node_size(); ++i) {
    const onnx::NodeProto* n = &graph.node(i);
    index_[n] = i;
    for (const std::string& o : n->output())
      if (!o.empty()) producer_[o] = n;
    std::set<std::string> reads(n->input().begin(), n->input().end());
    for (const auto& a : n->attribute())
      if (a.has_g())
        for (const std::string& r : OuterReads(a.g())) reads.insert(r);
    for (const std::string& r : reads)
      if (!r.empty()) consumers_[r].push_back(n);
  }
  // Input shapes as declared (symbolic dims stay unknown).
  for (const auto& in : graph.input()) {
    if (!inputs_[in.name()] || !in.type().has_tensor_type()) continue;
    const auto& ts = in.type().tensor_type();
    if (!ts.has_shape()) continue;
    Shape s;
    bool known = true;
    for (const auto& d : ts.shape().dim()) {
      if (d.has_dim_value())
        s.push_back(d.dim_value());
      else
        known = false;
    }
    if (known) shapes_[in.name()] = s;
  }
}

const onnx::NodeProto* Scope::Producer(const std::string& name) const {
  auto it = producer_.find(name);
  return it == producer_.end() ? nullptr : it->second;
}
const std::vector<const onnx::NodeProto*>& Scope::Consumers(const std::string& name) const {
  static const std::vector<const onnx::NodeProto*> kNone;
  auto it = consumers_.find(name);
  return it == consumers_.end() ? kNone : it->second;
}
const Const* Scope::ConstOf(const std::string& name) const {
  auto it = consts_.find(name);
  if (it != consts_.end()) return &it->second;
  if (producer_.count(name) || inputs_.count(name)) return nullptr;
  return parent_ ? parent_->ConstOf(name) : nullptr;
}
std::optional<Shape> Scope::ShapeOf(const std::string& name) const {
  auto it = shapes_.find(name);
  if (it != shapes_.end()) return it->second;
  if (producer_.count(name) || inputs_.count(name)) return std::nullopt;
  return parent_ ? parent_->ShapeOf(name) : std::nullopt;
}
bool Scope::IsGraphInput(const std::string& name) const {
  auto it = inputs_.find(name);
  return it != inputs_.end() && it->second;
}
bool Scope::IsGraphOutput(const std::string& name) const { return outputs_.count(name) > 0; }
int Scope::Index(const onnx::NodeProto* node) const {
  auto it = index_.find(node);
  return it == index_.end() ? -1 : it->second;
}
const Scope* Scope::Body(const onnx::NodeProto* loop) const {
  auto it = bodies_.find(loop);
  return it == bodies_.end() ? nullptr : it->second.get();
}
void Scope::SetInputShape(const std::string& name, Shape shape) {
  shapes_[name] = std::move(shape);
}
void Scope::SetConst(const std::string& name, Const c) {
  shapes_[name] = c.shape;
  consts_[name] = std::move(c);
}

absl::Status Scope::Propagate(const std::map<std::string, Shape>& fallback) {
  for (const auto& n : graph_.node()) {
    if (absl::Status s = PropagateNode(n, fallback); !s.ok()) return s;
    for (const std::string& o : n.output()) {
      if (o.empty() || shapes_.count(o)) continue;
      auto it = fallback.find(o);
      if (it != fallback.end()) shapes_[o] = it->second;
    }
  }
  return absl::OkStatus();
}

absl::Status Scope::PropagateLoop(const onnx::NodeProto& n,
                                  const std::map<std::string, Shape>& fallback) {
  const onnx::AttributeProto* body = FindAttr(n, "body");
  if (!body || !body->has_g())
    return absl::InvalidArgumentError(absl::StrCat("Loop ", n.name(), " has no body"));
  auto scope = std::make_unique<Scope>(body->g(), this, opset_);
  const onnx::GraphProto& g = body->g();
  // Body inputs: iteration number, condition, then the loop-carried values
  // (their shapes equal the initial values' shapes).
  if (g.input_size() >= 2) {
    scope->SetInputShape(g.input(0).name(), {});
    scope->SetInputShape(g.input(1).name(), {});
  }
  for (int i = 2; i < g.input_size() && i < n.input_size(); ++i)
    if (std::optional<Shape> s = ShapeOf(n.input(i))) scope->SetInputShape(g.input(i).name(), *s);
  if (absl::Status s = scope->Propagate(fallback); !s.ok()) return s;
  int carried = n.input_size() - 2;
  const Const* trip = n.input_size() > 0 && !n.input(0).empty() ? ConstOf(n.input(0)) : nullptr;
  for (int i = 0; i < n.output_size(); ++i) {
    if (i < carried) {
      if (std::optional<Shape> s = ShapeOf(n.input(i + 2))) shapes_[n.output(i)] = *s;
      continue;
    }
    // Scan outputs: [M] + per-iteration shape.
    int body_out = i + 1;
    std::optional<double> m = trip ? ScalarOf(*trip) : std::nullopt;
    if (body_out < g.output_size() && m)
      if (std::optional<Shape> s = scope->ShapeOf(g.output(body_out).name())) {
        Shape full = {static_cast<int64_t>(*m)};
        full.insert(full.end(), s->begin(), s->end());
        shapes_[n.output(i)] = full;
      }
  }
  bodies_[&n] = std::move(scope);
  return absl::OkStatus();
}

absl::Status Scope::PropagateNode(const onnx::NodeProto& n,
                                  const std::map<std::string, Shape>& fallback) {
  const std::string& op = n.op_type();
  auto in_const = [&](int i) -> const Const* {
    return i < n.input_size() && !n.input(i).empty() ? ConstOf(n.input(i)) : nullptr;
  };
  auto in_shape = [&](int i) -> std::optional<Shape> {
    if (i >= n.input_size() || n.input(i).empty()) return std::nullopt;
    return ShapeOf(n.input(i));
  };
  auto out = [&](const Shape& s) { shapes_[n.output(0)] = s; };
  // A graph input whose shape was forgotten (state of a single-step export
  // under --input-shape) takes its shape from the other operands.
  auto s_unknown_ok = [&](int i) { return IsGraphInput(n.input(i)); };
  auto fold = [&](Const c) { SetConst(n.output(0), std::move(c)); };
  // A view of input 0 with shape `r`: a constant stays constant (reshaped),
  // anything else just takes the new shape.
  auto view = [&](const Shape& r) {
    if (const Const* c = in_const(0)) {
      Const k = *c;
      k.shape = r;
      fold(std::move(k));
    } else {
      out(r);
    }
  };

  if (op == "Loop") return PropagateLoop(n, fallback);
  if (op == "Constant") {
    Const c;
    if (const auto* a = FindAttr(n, "value")) {
      c = ConstFromProto(a->t());
    } else if (const auto* a = FindAttr(n, "value_float")) {
      c.values = {a->f()};
    } else if (const auto* a = FindAttr(n, "value_floats")) {
      c.values.assign(a->floats().begin(), a->floats().end());
      c.shape = {static_cast<int64_t>(c.values.size())};
    } else if (const auto* a = FindAttr(n, "value_int")) {
      c.dtype = onnx::TensorProto::INT64;
      c.values = {static_cast<double>(a->i())};
    } else if (const auto* a = FindAttr(n, "value_ints")) {
      c.dtype = onnx::TensorProto::INT64;
      for (int64_t v : a->ints()) c.values.push_back(static_cast<double>(v));
      c.shape = {static_cast<int64_t>(c.values.size())};
    } else {
      return absl::OkStatus();
    }
    if (c.numel() == 1 && !c.values.empty()) c.splat = c.values[0];
    fold(std::move(c));
    return absl::OkStatus();
  }
  // Ops whose output equals input 0 (values and shape).
  if (op == "Identity" || op == "Dropout") {
    if (const Const* c = in_const(0))
      fold(*c);
    else if (auto s = in_shape(0))
      out(*s);
    return absl::OkStatus();
  }
  if (op == "Cast") {
    if (const Const* c = in_const(0)) {
      Const r = *c;
      r.dtype = static_cast<int32_t>(AttrInt(n, "to", 1));
      if (r.dtype != onnx::TensorProto::FLOAT && r.dtype != onnx::TensorProto::DOUBLE) {
        for (double& v : r.values) v = std::trunc(v);
        if (r.splat) r.splat = std::trunc(*r.splat);
      }
      fold(std::move(r));
    } else if (auto s = in_shape(0)) {
      out(*s);
    }
    return absl::OkStatus();
  }
  if (op == "Shape") {
    auto s = in_shape(0);
    if (!s) return absl::OkStatus();
    int64_t rank = static_cast<int64_t>(s->size());
    int64_t start = std::clamp(NormAxis(AttrInt(n, "start", 0), s->size()), int64_t{0}, rank);
    int64_t end = std::clamp(NormAxis(AttrInt(n, "end", rank), s->size()), int64_t{0}, rank);
    Const c;
    c.dtype = onnx::TensorProto::INT64;
    for (int64_t i = start; i < end; ++i) c.values.push_back(static_cast<double>((*s)[i]));
    c.shape = {static_cast<int64_t>(c.values.size())};
    fold(std::move(c));
    return absl::OkStatus();
  }
  if (op == "ConstantOfShape") {
    const Const* shape = in_const(0);
    if (!shape || !shape->materialized()) return absl::OkStatus();
    Const c;
    double v = 0.0;
    if (const auto* a = FindAttr(n, "value")) {
      c.dtype = a->t().data_type();
      std::vector<double> vals;
      if (ReadTensor(a->t(), &vals).ok() && !vals.empty()) v = vals[0];
    }
    for (double d : shape->values) c.shape.push_back(ToInt64(d));
    c.splat = v;
    if (c.numel() <= kMaxFold) c.values.assign(c.numel(), v);
    fold(std::move(c));
    return absl::OkStatus();
  }
  static const std::map<std::string, std::function<double(const std::vector<double>&)>>
      kElementwise = {
          {"Add", [](const auto& a) { return a[0] + a[1]; }},
          {"Sub", [](const auto& a) { return a[0] - a[1]; }},
          {"Mul", [](const auto& a) { return a[0] * a[1]; }},
          {"Div", [](const auto& a) { return a[1] == 0 ? 0.0 : a[0] / a[1]; }},
          {"Equal", [](const auto& a) { return a[0] == a[1] ? 1.0 : 0.0; }},
          {"Less", [](const auto& a) { return a[0] < a[1] ? 1.0 : 0.0; }},
          {"Greater", [](const auto& a) { return a[0] > a[1] ? 1.0 : 0.0; }},
          {"GreaterOrEqual", [](const auto& a) { return a[0] >= a[1] ? 1.0 : 0.0; }},
          {"Max", [](const auto& a) { return std::max(a[0], a[1]); }},
          {"Min", [](const auto& a) { return std::min(a[0], a[1]); }},
          {"Pow", [](const auto& a) { return std::pow(a[0], a[1]); }},
          {"Where", [](const auto& a) { return a[0] != 0 ? a[1] : a[2]; }},
          {"Neg", [](const auto& a) { return -a[0]; }},
          {"Relu", [](const auto& a) { return std::max(a[0], 0.0); }},
          {"Sigmoid", [](const auto& a) { return 1.0 / (1.0 + std::exp(-a[0])); }},
          {"Sqrt", [](const auto& a) { return std::sqrt(a[0]); }},
          {"Reciprocal", [](const auto& a) { return a[0] == 0 ? 0.0 : 1.0 / a[0]; }},
          {"Not", [](const auto& a) { return a[0] == 0 ? 1.0 : 0.0; }},
          {"Clip", [](const auto& a) { return std::clamp(a[0], a[1], a[2]); }},
      };
  if (auto it = kElementwise.find(op); it != kElementwise.end()) {
    std::vector<const Const*> cs;
    std::vector<Shape> shapes;
    bool all_const = true, all_shapes = true;
    static const Const kLow = [] {
      Const c;
      c.values = {-1e300};
      c.splat = -1e300;
      return c;
    }();
    static const Const kHigh = [] {
      Const c;
      c.values = {1e300};
      c.splat = 1e300;
      return c;
    }();
    int arity = op == "Clip" ? 3 : n.input_size();
    std::array<Const, 3> attr_bound;  // Clip bounds given as attributes / absent
    for (int i = 0; i < arity; ++i) {
      const Const* c = in_const(i);
      if (op == "Clip" && (i >= n.input_size() || n.input(i).empty())) {
        float bound = AttrFloat(n, i == 1 ? "min" : "max", 0.0f);
        bool has = FindAttr(n, i == 1 ? "min" : "max") != nullptr;
        attr_bound[i] = has ? Const{onnx::TensorProto::FLOAT, {}, {bound}, bound, nullptr}
                            : (i == 1 ? kLow : kHigh);
        c = &attr_bound[i];
      }
      if (!c)
        all_const = false;
      else
        cs.push_back(c);
      std::optional<Shape> s = c ? std::optional<Shape>(c->shape) : in_shape(i);
      if (s)
        shapes.push_back(*s);
      else if (!c && s_unknown_ok(i))
        continue;  // forgotten state input
      else
        all_shapes = false;
    }
    int32_t dtype = cs.empty() ? onnx::TensorProto::FLOAT : cs[0]->dtype;
    bool logical =
        op == "Equal" || op == "Less" || op == "Greater" || op == "GreaterOrEqual" || op == "Not";
    if (logical) dtype = onnx::TensorProto::BOOL;
    if (op == "Where" && cs.size() == 3) dtype = cs[1]->dtype;
    if (all_const) {
      if (auto c = FoldElementwise(cs, dtype, it->second)) {
        fold(std::move(*c));
        return absl::OkStatus();
      }
    }
    if (all_shapes)
      if (auto s = Broadcast(shapes)) out(*s);
    return absl::OkStatus();
  }
  if (op == "Unsqueeze" || op == "Squeeze") {
    auto s = in_shape(0);
    if (!s) return absl::OkStatus();
    std::vector<int64_t> axes = AttrInts(n, "axes");
    if (const Const* a = in_const(1))
      for (double v : a->values) axes.push_back(ToInt64(v));
    Shape r;
    if (op == "Unsqueeze") {
      size_t rank = s->size() + axes.size();
      std::set<int64_t> ax;
      for (int64_t a : axes) ax.insert(NormAxis(a, rank));
      if (ax.size() != axes.size() ||
          (!ax.empty() && (*ax.begin() < 0 || *ax.rbegin() >= static_cast<int64_t>(rank))))
        return absl::InvalidArgumentError(absl::StrCat(
            "Unsqueeze ", n.name(), ": axes repeat or lie outside the output rank ", rank));
      size_t j = 0;
      for (size_t i = 0; i < rank; ++i) r.push_back(ax.count(i) ? 1 : (*s)[j++]);
    } else {
      std::set<int64_t> ax;
      for (int64_t a : axes) ax.insert(NormAxis(a, s->size()));
      for (size_t i = 0; i < s->size(); ++i)
        if (axes.empty() ? (*s)[i] != 1 : !ax.count(i)) r.push_back((*s)[i]);
    }
    view(r);
    return absl::OkStatus();
  }
  if (op == "Reshape" || op == "Flatten") {
    auto s = in_shape(0);
    if (!s) return absl::OkStatus();
    Shape r;
    if (op == "Flatten") {
      int64_t axis = NormAxis(AttrInt(n, "axis", 1), s->size());
      int64_t a = 1, b = 1;
      for (int64_t i = 0; i < static_cast<int64_t>(s->size()); ++i) {
        int64_t& f = i < axis ? a : b;
        f = Numel({f, (*s)[i]});
      }
      r = {a, b};
    } else {
      const Const* t = in_const(1);
      if (!t || !t->materialized()) return absl::OkStatus();
      int64_t known = 1, infer = -1;
      for (size_t i = 0; i < t->values.size(); ++i) {
        int64_t d = ToInt64(t->values[i]);
        if (d == 0 && AttrInt(n, "allowzero", 0) == 0) d = i < s->size() ? (*s)[i] : 0;
        if (d == -1)
          infer = static_cast<int64_t>(i);
        else if (__builtin_mul_overflow(known, d, &known))
          return absl::InvalidArgumentError(
              absl::StrCat("node ", n.name(), " (Reshape): target shape overflows int64"));
        r.push_back(d);
      }
      if (infer >= 0) {
        if (known == 0 || Numel(*s) % known != 0)
          return absl::InvalidArgumentError(absl::StrCat(
              "node ", n.name(), " (Reshape): cannot reshape ", Numel(*s), " elements"));
        r[infer] = Numel(*s) / known;
      }
      if (Numel(r) != Numel(*s))
        return absl::InvalidArgumentError(
            absl::StrCat("node ", n.name(), " (Reshape): target holds ", Numel(r),
                         " elements, input ", Numel(*s), " (input shape changed?)"));
    }
    view(r);
    return absl::OkStatus();
  }
  if (op == "Gather") {
    auto s = in_shape(0);
    auto is = in_shape(1);
    const Const* idx = in_const(1);
    if (!s || !is) return absl::OkStatus();
    int64_t axis = NormAxis(AttrInt(n, "axis", 0), s->size());
    if (axis < 0 || axis >= static_cast<int64_t>(s->size()))
      return absl::InvalidArgumentError(absl::StrCat("Gather ", n.name(), ": axis ",
                                                     AttrInt(n, "axis", 0),
                                                     " out of range for rank ", s->size()));
    Shape r(s->begin(), s->begin() + axis);
    r.insert(r.end(), is->begin(), is->end());
    r.insert(r.end(), s->begin() + axis + 1, s->end());
    const Const* data = in_const(0);
    if (data && idx && data->materialized() && idx->materialized() && Numel(r) <= kMaxFold) {
      int64_t outer = Numel(Shape(s->begin(), s->begin() + axis));
      int64_t inner = Numel(Shape(s->begin() + axis + 1, s->end()));
      Const c;
      c.dtype = data->dtype;
      c.shape = r;
      for (int64_t o = 0; o < outer; ++o)
        for (double iv : idx->values) {
          int64_t i = ToInt64(iv);
          if (i < 0) i += (*s)[axis];
          if (i < 0 || i >= (*s)[axis]) return absl::OkStatus();
          for (int64_t k = 0; k < inner; ++k)
            c.values.push_back(data->values[(o * (*s)[axis] + i) * inner + k]);
        }
      if (c.numel() == 1) c.splat = c.values[0];
      fold(std::move(c));
    } else {
      out(r);
    }
    return absl::OkStatus();
  }
  if (op == "Concat") {
    int64_t axis = AttrInt(n, "axis", 0);
    std::vector<Shape> shapes;
    bool all_const = true;
    for (int i = 0; i < n.input_size(); ++i) {
      auto s = in_shape(i);
      if (!s) return absl::OkStatus();
      shapes.push_back(*s);
      const Const* c = in_const(i);
      if (!c || !c->materialized()) all_const = false;
    }
    if (shapes.empty()) return absl::OkStatus();
    Shape r = shapes[0];
    axis = NormAxis(axis, r.size());
    if (axis < 0 || axis >= static_cast<int64_t>(r.size())) return absl::OkStatus();
    r[axis] = 0;
    for (const Shape& s : shapes)
      if (s.size() != r.size() || __builtin_add_overflow(r[axis], s[axis], &r[axis]))
        return absl::InvalidArgumentError(absl::StrCat(
            "Concat ", n.name(), ": inputs differ in rank or the result overflows int64"));
    if (all_const && Numel(r) <= kMaxFold) {
      int64_t outer = Numel(Shape(r.begin(), r.begin() + axis));
      Const c;
      c.dtype = in_const(0)->dtype;
      c.shape = r;
      for (int64_t o = 0; o < outer; ++o)
        for (int i = 0; i < n.input_size(); ++i) {
          const Const* k = in_const(i);
          int64_t chunk = Numel(Shape(shapes[i].begin() + axis, shapes[i].end()));
          for (int64_t e = 0; e < chunk; ++e) c.values.push_back(k->values[o * chunk + e]);
        }
      if (c.numel() == 1) c.splat = c.values[0];
      fold(std::move(c));
    } else {
      out(r);
    }
    return absl::OkStatus();
  }
  if (op == "Slice") {
    auto s = in_shape(0);
    if (!s) return absl::OkStatus();
    std::vector<int64_t> starts, ends, axes, steps;
    if (n.input_size() >= 3) {
      auto vals = [&](int i, std::vector<int64_t>* v) {
        const Const* c = in_const(i);
        if (!c || !c->materialized()) return false;
        for (double d : c->values) v->push_back(ToInt64(d));
        return true;
      };
      if (!vals(1, &starts) || !vals(2, &ends)) return absl::OkStatus();
      if (n.input_size() > 3 && !n.input(3).empty() && !vals(3, &axes)) return absl::OkStatus();
      if (n.input_size() > 4 && !n.input(4).empty() && !vals(4, &steps)) return absl::OkStatus();
    } else {
      starts = AttrInts(n, "starts");
      ends = AttrInts(n, "ends");
      axes = AttrInts(n, "axes");
    }
    if (axes.empty())
      for (size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<int64_t>(i));
    if (ends.size() != starts.size() || axes.size() != starts.size() ||
        (!steps.empty() && steps.size() != starts.size()))
      return absl::InvalidArgumentError(
          absl::StrCat("Slice ", n.name(), ": starts, ends, axes and steps differ in length"));
    Shape r = *s;
    std::vector<int64_t> st(s->size(), 0), sp(s->size(), 1);
    for (size_t i = 0; i < starts.size(); ++i) {
      int64_t a = NormAxis(axes[i], s->size());
      if (a < 0 || a >= static_cast<int64_t>(s->size()))
        return absl::InvalidArgumentError(absl::StrCat("Slice ", n.name(), ": axis ", axes[i],
                                                       " out of range for rank ", s->size()));
      int64_t d = (*s)[a];
      int64_t step = steps.empty() ? 1 : steps[i];
      if (step <= 0 || d < 0) return absl::OkStatus();  // negative steps not needed
      int64_t b = starts[i] < 0 ? starts[i] + d : starts[i];
      int64_t e = ends[i] < 0 ? ends[i] + d : ends[i];
      b = std::clamp(b, int64_t{0}, d);
      e = std::clamp(e, int64_t{0}, d);
      r[a] = e > b ? (e - b - 1) / step + 1 : 0;
      st[a] = b;
      sp[a] = step;
    }
    const Const* data = in_const(0);
    if (data && data->materialized() && s->size() == 1) {
      Const c;
      c.dtype = data->dtype;
      c.shape = r;
      for (int64_t i = 0; i < r[0]; ++i) c.values.push_back(data->values[st[0] + i * sp[0]]);
      if (c.numel() == 1) c.splat = c.values[0];
      fold(std::move(c));
    } else {
      out(r);
    }
    return absl::OkStatus();
  }
  if (op == "Range") {
    const Const *a = in_const(0), *b = in_const(1), *d = in_const(2);
    if (!a || !b || !d) return absl::OkStatus();
    auto sa = ScalarOf(*a), sb = ScalarOf(*b), sd = ScalarOf(*d);
    if (!sa || !sb || !sd || *sd == 0) return absl::OkStatus();
    Const c;
    c.dtype = a->dtype;
    for (double v = *sa; (*sd > 0 ? v < *sb : v > *sb) && c.values.size() < kMaxFold; v += *sd)
      c.values.push_back(v);
    c.shape = {static_cast<int64_t>(c.values.size())};
    fold(std::move(c));
    return absl::OkStatus();
  }
  if (op == "Expand") {
    auto s = in_shape(0);
    const Const* t = in_const(1);
    if (!s || !t || !t->materialized()) return absl::OkStatus();
    Shape target;
    for (double v : t->values) target.push_back(ToInt64(v));
    auto r = Broadcast({*s, target});
    if (!r) return absl::OkStatus();
    const Const* data = in_const(0);
    if (data) {
      Const shape_c;
      shape_c.shape = *r;
      shape_c.splat = 0;
      if (auto c =
              FoldElementwise({data, &shape_c}, data->dtype, [](const auto& a) { return a[0]; })) {
        fold(std::move(*c));
        return absl::OkStatus();
      }
    }
    out(*r);
    return absl::OkStatus();
  }
  // Shape-only ops.
  auto x = in_shape(0);
  if (!x) return absl::OkStatus();
  if (op == "Conv") {
    auto w = in_shape(1);
    if (!w || w->size() < 3) return absl::OkStatus();
    if (auto r = WindowShape(n, *x, (*w)[0], Shape(w->begin() + 2, w->end()))) out(*r);
  } else if (op == "MaxPool" || op == "AveragePool") {
    if (x->size() < 3) return absl::OkStatus();
    if (auto r = WindowShape(n, *x, (*x)[1], AttrInts(n, "kernel_shape"))) out(*r);
  } else if (op == "GlobalAveragePool" || op == "GlobalMaxPool") {
    Shape r = *x;
    for (size_t i = 2; i < r.size(); ++i) r[i] = 1;
    out(r);
  } else if (op == "Gemm") {
    auto w = in_shape(1);
    if (!w || x->size() != 2 || w->size() != 2) return absl::OkStatus();
    int64_t m = AttrInt(n, "transA", 0) ? (*x)[1] : (*x)[0];
    int64_t k = AttrInt(n, "transB", 0) ? (*w)[0] : (*w)[1];
    out({m, k});
  } else if (op == "MatMul") {
    auto w = in_shape(1);
    if (!w || w->size() != 2 || x->empty()) return absl::OkStatus();
    Shape r = *x;
    r.back() = (*w)[1];
    out(r);
  } else if (op == "BatchNormalization" || op == "ScatterND" || op == "LeakyRelu" ||
             op == "Softmax" || op == "Tanh" || op == "HardSigmoid") {
    out(*x);
  } else if (op == "ReduceMean" || op == "ReduceSum" || op == "ReduceMax") {
    std::vector<int64_t> axes = AttrInts(n, "axes");
    if (const Const* a = in_const(1))
      for (double v : a->values) axes.push_back(ToInt64(v));
    bool keep = AttrInt(n, "keepdims", 1) != 0;
    std::set<int64_t> ax;
    for (int64_t a : axes) ax.insert(NormAxis(a, x->size()));
    Shape r;
    for (size_t i = 0; i < x->size(); ++i) {
      bool reduced = ax.empty() || ax.count(i);
      if (!reduced)
        r.push_back((*x)[i]);
      else if (keep)
        r.push_back(1);
    }
    out(r);
  } else if (op == "Pad") {
    std::vector<int64_t> pads = AttrInts(n, "pads");
    if (const Const* p = in_const(1))
      for (double v : p->values) pads.push_back(ToInt64(v));
    if (pads.size() != 2 * x->size()) return absl::OkStatus();
    Shape r = *x;
    for (size_t i = 0; i < r.size(); ++i) r[i] += pads[i] + pads[i + r.size()];
    out(r);
  } else if (op == "Transpose") {
    std::vector<int64_t> perm = AttrInts(n, "perm");
    Shape r;
    for (size_t i = 0; i < x->size(); ++i)
      r.push_back((*x)[perm.empty() ? x->size() - 1 - i : static_cast<size_t>(perm[i])]);
    out(r);
  }
  return absl::OkStatus();
}

std::vector<std::string> OuterReads(const onnx::GraphProto& body) {
  std::set<std::string> defined;
  for (const auto& i : body.input()) defined.insert(i.name());
  for (const auto& i : body.initializer()) defined.insert(i.name());
  for (const auto& n : body.node())
    for (const std::string& o : n.output()) defined.insert(o);
  std::set<std::string> reads;
  for (const auto& n : body.node()) {
    for (const std::string& i : n.input())
      if (!i.empty() && !defined.count(i)) reads.insert(i);
    for (const auto& a : n.attribute())
      if (a.has_g())
        for (const std::string& r : OuterReads(a.g()))
          if (!defined.count(r)) reads.insert(r);
  }
  for (const auto& o : body.output())
    if (!defined.count(o.name())) reads.insert(o.name());
  return {reads.begin(), reads.end()};
}

}  // namespace snnplan::importer::internal
