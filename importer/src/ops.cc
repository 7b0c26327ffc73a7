#include "ops.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace snnplan::importer::internal {
namespace {

using onnx::NodeProto;
using TP = onnx::TensorProto;

absl::Status Bad(const NodeCtx& c, const std::string& why) {
  return absl::InvalidArgumentError(absl::StrCat("node ", NodeLabel(c.node), ": ", why));
}

int64_t NormAxis(int64_t axis, size_t rank) {
  return axis < 0 ? axis + static_cast<int64_t>(rank) : axis;
}

bool AxisOk(int64_t axis, size_t rank) {
  return axis >= 0 && axis < static_cast<int64_t>(rank);
}

void SetOut(NodeResult* r, size_t i, std::optional<Shape> s, int32_t dtype = -1) {
  if (r->shapes.size() <= i) r->shapes.resize(i + 1);
  if (r->dtypes.size() <= i) r->dtypes.resize(i + 1, -1);
  r->shapes[i] = std::move(s);
  if (dtype >= 0) r->dtypes[i] = dtype;
}

void SetConst(NodeResult* r, size_t i, Tensor t) {
  SetOut(r, i, t.shape, t.dtype);
  if (r->consts.size() <= i) r->consts.resize(i + 1);
  r->consts[i] = std::move(t);
}

int32_t DType(const NodeCtx& c, int i) {
  return i < static_cast<int>(c.in_dtype.size()) ? c.in_dtype[i] : -1;
}

std::optional<std::vector<int64_t>> IntsOf(const Tensor* t) {
  if (!t || !t->materialized()) return std::nullopt;
  std::vector<int64_t> v;
  v.reserve(static_cast<size_t>(t->numel()));
  for (int64_t i = 0; i < t->numel(); ++i) v.push_back(ToInt64(t->at(i)));
  return v;
}

// ---- element semantics ---------------------------------------------------

double FAdd(const double* a, int, const ElemParams&) { return a[0] + a[1]; }
double FSub(const double* a, int, const ElemParams&) { return a[0] - a[1]; }
double FMul(const double* a, int, const ElemParams&) { return a[0] * a[1]; }
double FDiv(const double* a, int, const ElemParams& p) {
  if (!IsFloatType(p.to)) return a[1] == 0 ? 0.0 : std::trunc(a[0] / a[1]);
  return a[0] / a[1];
}
double FPow(const double* a, int, const ElemParams&) { return std::pow(a[0], a[1]); }
double FMod(const double* a, int, const ElemParams& p) {
  if (a[1] == 0) return 0.0;
  if (p.fmod) return std::fmod(a[0], a[1]);
  double m = std::fmod(a[0], a[1]);
  return (m != 0 && ((m < 0) != (a[1] < 0))) ? m + a[1] : m;
}
double FNeg(const double* a, int, const ElemParams&) { return -a[0]; }
double FAbs(const double* a, int, const ElemParams&) { return std::fabs(a[0]); }
double FSign(const double* a, int, const ElemParams&) {
  return a[0] > 0 ? 1.0 : a[0] < 0 ? -1.0 : 0.0;
}
double FRelu(const double* a, int, const ElemParams&) { return a[0] > 0 ? a[0] : 0.0; }
double FLeakyRelu(const double* a, int, const ElemParams& p) {
  return a[0] >= 0 ? a[0] : p.alpha * a[0];
}
double FSigmoid(const double* a, int, const ElemParams&) { return 1.0 / (1.0 + std::exp(-a[0])); }
double FHardSigmoid(const double* a, int, const ElemParams& p) {
  return std::clamp(p.alpha * a[0] + p.beta, 0.0, 1.0);
}
double FTanh(const double* a, int, const ElemParams&) { return std::tanh(a[0]); }
double FExp(const double* a, int, const ElemParams&) { return std::exp(a[0]); }
double FLog(const double* a, int, const ElemParams&) { return std::log(a[0]); }
double FSqrt(const double* a, int, const ElemParams&) { return std::sqrt(a[0]); }
double FReciprocal(const double* a, int, const ElemParams&) { return 1.0 / a[0]; }
double FFloor(const double* a, int, const ElemParams&) { return std::floor(a[0]); }
double FCeil(const double* a, int, const ElemParams&) { return std::ceil(a[0]); }
double FRound(const double* a, int, const ElemParams&) { return std::nearbyint(a[0]); }
double FErf(const double* a, int, const ElemParams&) { return std::erf(a[0]); }
double FSoftplus(const double* a, int, const ElemParams&) { return std::log1p(std::exp(a[0])); }
double FClip(const double* a, int, const ElemParams&) {
  return std::min(std::max(a[0], a[1]), a[2]);
}
double FMin(const double* a, int n, const ElemParams&) {
  double m = a[0];
  for (int i = 1; i < n; ++i) m = std::isnan(a[i]) ? a[i] : std::min(m, a[i]);
  return m;
}
double FMax(const double* a, int n, const ElemParams&) {
  double m = a[0];
  for (int i = 1; i < n; ++i) m = std::isnan(a[i]) ? a[i] : std::max(m, a[i]);
  return m;
}
double FSum(const double* a, int n, const ElemParams&) {
  double s = 0;
  for (int i = 0; i < n; ++i) s += a[i];
  return s;
}
double FMean(const double* a, int n, const ElemParams& p) { return FSum(a, n, p) / n; }
double FWhere(const double* a, int, const ElemParams&) { return a[0] != 0 ? a[1] : a[2]; }
double FNot(const double* a, int, const ElemParams&) { return a[0] == 0 ? 1.0 : 0.0; }
double FAnd(const double* a, int, const ElemParams&) { return a[0] != 0 && a[1] != 0 ? 1.0 : 0.0; }
double FOr(const double* a, int, const ElemParams&) { return a[0] != 0 || a[1] != 0 ? 1.0 : 0.0; }
double FXor(const double* a, int, const ElemParams&) { return (a[0] != 0) != (a[1] != 0) ? 1.0 : 0.0; }
double FEqual(const double* a, int, const ElemParams&) { return a[0] == a[1] ? 1.0 : 0.0; }
double FLess(const double* a, int, const ElemParams&) { return a[0] < a[1] ? 1.0 : 0.0; }
double FLessEq(const double* a, int, const ElemParams&) { return a[0] <= a[1] ? 1.0 : 0.0; }
double FGreater(const double* a, int, const ElemParams&) { return a[0] > a[1] ? 1.0 : 0.0; }
double FGreaterEq(const double* a, int, const ElemParams&) { return a[0] >= a[1] ? 1.0 : 0.0; }
double FIdentity(const double* a, int, const ElemParams&) { return a[0]; }

// ---- elementwise propagation ---------------------------------------------

int32_t ElementwiseDType(const NodeCtx& c) {
  const std::string& op = c.node.op_type();
  if (c.info.logical) return TP::BOOL;
  if (op == "Cast") return static_cast<int32_t>(AttrInt(c.node, "to", TP::FLOAT));
  if (op == "CastLike") return DType(c, 1) >= 0 ? DType(c, 1) : TP::FLOAT;
  if (op == "Where") return DType(c, 1) >= 0 ? DType(c, 1) : DType(c, 2);
  for (size_t i = 0; i < c.in_dtype.size(); ++i)
    if (c.in_dtype[i] >= 0) return c.in_dtype[i];
  return TP::FLOAT;
}

bool IsUniform(const Tensor* t, double v) {
  if (!t) return false;
  std::optional<double> u = t->Uniform();
  return u && *u == v;
}

// Algebraic identities that make the output one of the inputs (x + 0,
// x * 1, Where on a constant condition, ...) or a constant (x * 0). Only
// where the output keeps the input's shape and type.
void Identities(const NodeCtx& c, const Shape& out, int32_t dtype, NodeResult* r) {
  const std::string& op = c.node.op_type();
  auto alias = [&](int i) {
    if (c.ShapeAt(i) && *c.ShapeAt(i) == out && (DType(c, i) == dtype || DType(c, i) < 0))
      r->alias_of = i;
  };
  const Tensor* a = c.Const(0);
  const Tensor* b = c.Const(1);
  if (op == "Add") {
    if (IsUniform(a, 0)) alias(1);
    if (IsUniform(b, 0)) alias(0);
  } else if (op == "Sub" && IsUniform(b, 0)) {
    alias(0);
  } else if (op == "Mul") {
    if (IsUniform(a, 1)) alias(1);
    if (IsUniform(b, 1)) alias(0);
    if ((IsUniform(a, 0) || IsUniform(b, 0)) && IsFloatType(dtype))
      SetConst(r, 0, Tensor::Splat(out, 0.0, dtype));
  } else if (op == "Div" && IsUniform(b, 1)) {
    alias(0);
  } else if (op == "Where" && a && a->Uniform()) {
    alias(*a->Uniform() != 0 ? 1 : 2);
  } else if (op == "Cast" && DType(c, 0) == dtype) {
    alias(0);
  } else if ((op == "Identity" || op == "Sum" || op == "Max" || op == "Min" || op == "Mean") &&
             c.node.input_size() == 1) {
    alias(0);
  }
}

absl::Status PropElementwise(const NodeCtx& c, NodeResult* r) {
  const NodeProto& n = c.node;
  ElemParams p = ParamsOf(n);
  int32_t dtype = ElementwiseDType(c);
  int arity = c.info.arity < 0 ? n.input_size() : c.info.arity;
  if (n.input_size() > arity || (c.info.arity >= 0 && n.op_type() != "Clip" && n.input_size() < arity) ||
      arity == 0)
    return Bad(c, absl::StrCat("expects ", c.info.arity < 0 ? std::string("one or more")
                                                           : std::to_string(c.info.arity),
                               " inputs, has ", n.input_size()));
  std::vector<Tensor> missing;
  missing.reserve(3);
  std::vector<const Tensor*> args;
  bool all_const = true, dynamic_unknown = false;
  Shape shape;
  bool shape_known = false;
  for (int i = 0; i < arity; ++i) {
    if (!c.Has(i)) {
      missing.push_back(Tensor::Scalar(p.missing[i], TP::DOUBLE));
      args.push_back(&missing.back());
      continue;
    }
    const Tensor* t = c.Const(i);
    if (!t) all_const = false;
    args.push_back(t);
    if (const std::optional<Shape>& s = t ? std::optional<Shape>(t->shape) : c.ShapeAt(i); s) {
      std::optional<Shape> b = Broadcast(shape, *s);
      if (!b)
        return Bad(c, absl::StrCat("input shapes do not broadcast (input ", i, ")"));
      shape = *b;
      if (!t) shape_known = true;
    } else if (!(i < static_cast<int>(c.in_free.size()) && c.in_free[i])) {
      dynamic_unknown = true;
    }
  }
  if (dynamic_unknown) shape_known = false;
  bool any_dynamic = false;
  for (int i = 0; i < arity; ++i) any_dynamic |= c.Has(i) && !c.Const(i);
  if (!shape_known && !dynamic_unknown && any_dynamic) r->free_shape = true;
  if (all_const) {
    const int nargs = static_cast<int>(args.size());
    ScalarFn fn = c.info.scalar;
    p.to = dtype;
    if (std::optional<Tensor> t = MapElements(
            args, dtype, [&](const double* v) { return fn(v, nargs, p); })) {
      SetConst(r, 0, std::move(*t));
      return absl::OkStatus();
    }
  }
  SetOut(r, 0, shape_known ? std::optional<Shape>(shape) : std::nullopt, dtype);
  if (n.op_type() == "Dropout" && n.output_size() > 1) SetOut(r, 1, r->shapes[0], TP::BOOL);
  if (shape_known) Identities(c, shape, dtype, r);
  return absl::OkStatus();
}

// ---- constants and views -------------------------------------------------

absl::Status PropConstant(const NodeCtx& c, NodeResult* r) {
  const NodeProto& n = c.node;
  if (const auto* a = FindAttr(n, "value")) {
    absl::StatusOr<Tensor> t = TensorFromProto(a->t());
    if (!t.ok()) return Bad(c, std::string(t.status().message()));
    SetConst(r, 0, std::move(*t));
  } else if (const auto* a = FindAttr(n, "value_float")) {
    SetConst(r, 0, Tensor::Scalar(a->f()));
  } else if (const auto* a = FindAttr(n, "value_floats")) {
    SetConst(r, 0, Tensor::Vector({a->floats().begin(), a->floats().end()}, TP::FLOAT));
  } else if (const auto* a = FindAttr(n, "value_int")) {
    SetConst(r, 0, Tensor::Scalar(static_cast<double>(a->i()), TP::INT64));
  } else if (const auto* a = FindAttr(n, "value_ints")) {
    std::vector<double> v;
    for (int64_t x : a->ints()) v.push_back(static_cast<double>(x));
    SetConst(r, 0, Tensor::Vector(std::move(v), TP::INT64));
  } else {
    return Bad(c, "Constant without a supported value attribute");
  }
  return absl::OkStatus();
}

// Output 0 is input 0 with shape `s` (constants stay constant).
void View(const NodeCtx& c, const Shape& s, NodeResult* r) {
  if (const Tensor* t = c.Const(0)) {
    Tensor k = *t;
    k.shape = s;
    SetConst(r, 0, std::move(k));
  } else {
    SetOut(r, 0, s, DType(c, 0));
  }
}

absl::Status PropIdentity(const NodeCtx& c, NodeResult* r) {
  if (c.Const(0)) {
    SetConst(r, 0, *c.Const(0));
  } else {
    SetOut(r, 0, c.ShapeAt(0), DType(c, 0));
    r->alias_of = 0;
  }
  if (c.node.output_size() > 1) SetOut(r, 1, c.ShapeAt(0), TP::BOOL);  // Dropout mask
  return absl::OkStatus();
}

absl::Status PropReshape(const NodeCtx& c, NodeResult* r) {
  const std::optional<Shape>& s = c.ShapeAt(0);
  std::optional<std::vector<int64_t>> target = IntsOf(c.Const(1));
  if (!c.Has(1)) return Bad(c, "Reshape needs a shape input");
  if (!s || !target) return absl::OkStatus();
  Shape out;
  int64_t known = 1, infer = -1;
  bool allowzero = AttrInt(c.node, "allowzero", 0) != 0;
  for (size_t i = 0; i < target->size(); ++i) {
    int64_t d = (*target)[i];
    if (d == 0 && !allowzero) d = i < s->size() ? (*s)[i] : 0;
    if (d == -1) {
      if (infer >= 0) return Bad(c, "the target shape has more than one -1");
      infer = static_cast<int64_t>(i);
    } else if (d < 0) {
      return Bad(c, absl::StrCat("the target shape has dimension ", d));
    } else if (__builtin_mul_overflow(known, d, &known)) {
      return Bad(c, "the target shape overflows int64");
    }
    out.push_back(d);
  }
  if (infer >= 0) {
    if (known == 0 || Numel(*s) % known != 0)
      return Bad(c, absl::StrCat("cannot reshape ", Numel(*s), " elements to the target"));
    out[infer] = Numel(*s) / known;
  }
  if (Numel(out) != Numel(*s))
    return Bad(c, absl::StrCat("the target holds ", Numel(out), " elements, the input ",
                               Numel(*s), " (input shape changed?)"));
  View(c, out, r);
  return absl::OkStatus();
}

absl::Status PropFlatten(const NodeCtx& c, NodeResult* r) {
  const std::optional<Shape>& s = c.ShapeAt(0);
  if (!s) return absl::OkStatus();
  int64_t axis = NormAxis(AttrInt(c.node, "axis", 1), s->size());
  if (axis < 0 || axis > static_cast<int64_t>(s->size()))
    return Bad(c, absl::StrCat("axis out of range for rank ", s->size()));
  View(c, {Numel(Shape(s->begin(), s->begin() + axis)), Numel(Shape(s->begin() + axis, s->end()))},
       r);
  return absl::OkStatus();
}

std::vector<int64_t> AxesOf(const NodeCtx& c, int input) {
  std::vector<int64_t> axes = AttrInts(c.node, "axes");
  if (std::optional<std::vector<int64_t>> v = IntsOf(c.Const(input)))
    axes.insert(axes.end(), v->begin(), v->end());
  return axes;
}

absl::Status PropUnsqueeze(const NodeCtx& c, NodeResult* r) {
  const std::optional<Shape>& s = c.ShapeAt(0);
  if (!s || (c.Has(1) && !c.Const(1))) return absl::OkStatus();
  std::vector<int64_t> axes = AxesOf(c, 1);
  size_t rank = s->size() + axes.size();
  std::set<int64_t> ax;
  for (int64_t a : axes) ax.insert(NormAxis(a, rank));
  if (ax.size() != axes.size() || (!ax.empty() && (*ax.begin() < 0 || *ax.rbegin() >= static_cast<int64_t>(rank))))
    return Bad(c, absl::StrCat("axes repeat or lie outside the output rank ", rank));
  Shape out;
  size_t j = 0;
  for (size_t i = 0; i < rank; ++i) out.push_back(ax.count(static_cast<int64_t>(i)) ? 1 : (*s)[j++]);
  View(c, out, r);
  return absl::OkStatus();
}

absl::Status PropSqueeze(const NodeCtx& c, NodeResult* r) {
  const std::optional<Shape>& s = c.ShapeAt(0);
  if (!s || (c.Has(1) && !c.Const(1))) return absl::OkStatus();
  std::vector<int64_t> axes = AxesOf(c, 1);
  std::set<int64_t> ax;
  for (int64_t a : axes) {
    int64_t k = NormAxis(a, s->size());
    if (!AxisOk(k, s->size()) || (*s)[k] != 1)
      return Bad(c, absl::StrCat("axis ", a, " is not a size-1 axis of a rank-", s->size(), " tensor"));
    ax.insert(k);
  }
  Shape out;
  for (size_t i = 0; i < s->size(); ++i)
    if (axes.empty() ? (*s)[i] != 1 : !ax.count(static_cast<int64_t>(i))) out.push_back((*s)[i]);
  View(c, out, r);
  return absl::OkStatus();
}

absl::Status PropTranspose(const NodeCtx& c, NodeResult* r) {
  const std::optional<Shape>& s = c.ShapeAt(0);
  if (!s) return absl::OkStatus();
  std::vector<int64_t> perm = AttrInts(c.node, "perm");
  if (perm.empty())
    for (size_t i = 0; i < s->size(); ++i) perm.push_back(static_cast<int64_t>(s->size() - 1 - i));
  std::set<int64_t> seen(perm.begin(), perm.end());
  if (perm.size() != s->size() || seen.size() != perm.size() || *seen.begin() < 0 ||
      *seen.rbegin() >= static_cast<int64_t>(s->size()))
    return Bad(c, "perm is not a permutation of the input axes");
  Shape out;
  for (int64_t p : perm) out.push_back((*s)[p]);
  const Tensor* t = c.Const(0);
  if (t && t->splat) {
    SetConst(r, 0, Tensor::Splat(out, *t->splat, t->dtype));
  } else if (t && t->materialized()) {
    Tensor k;
    k.dtype = t->dtype;
    k.shape = out;
    k.data.resize(t->data.size());
    std::vector<int64_t> idx, src(s->size());
    for (int64_t e = 0; e < k.numel(); ++e) {
      Unflatten(e, out, &idx);
      for (size_t i = 0; i < perm.size(); ++i) src[perm[i]] = idx[i];
      int64_t off = 0;
      for (size_t i = 0; i < s->size(); ++i) off = off * (*s)[i] + src[i];
      k.data[e] = t->data[off];
    }
    SetConst(r, 0, std::move(k));
  } else {
    SetOut(r, 0, out, DType(c, 0));
  }
  return absl::OkStatus();
}

// ---- shape plumbing -------------------------------------------------------

absl::Status PropShape(const NodeCtx& c, NodeResult* r) {
  const std::optional<Shape>& s = c.ShapeAt(0);
  if (!s) return absl::OkStatus();
  int64_t rank = static_cast<int64_t>(s->size());
  int64_t start = std::clamp(NormAxis(AttrInt(c.node, "start", 0), s->size()), int64_t{0}, rank);
  int64_t end = std::clamp(NormAxis(AttrInt(c.node, "end", rank), s->size()), int64_t{0}, rank);
  std::vector<double> v;
  for (int64_t i = start; i < end; ++i) v.push_back(static_cast<double>((*s)[i]));
  SetConst(r, 0, Tensor::Vector(std::move(v), TP::INT64));
  return absl::OkStatus();
}

absl::Status PropSize(const NodeCtx& c, NodeResult* r) {
  if (const std::optional<Shape>& s = c.ShapeAt(0))
    SetConst(r, 0, Tensor::Scalar(static_cast<double>(Numel(*s)), TP::INT64));
  return absl::OkStatus();
}

absl::Status ShapeFromInts(const NodeCtx& c, const std::vector<int64_t>& v, Shape* out) {
  for (int64_t d : v) {
    if (d < 0) return Bad(c, absl::StrCat("shape has a negative dimension ", d));
    out->push_back(d);
  }
  return absl::OkStatus();
}

absl::Status PropConstantOfShape(const NodeCtx& c, NodeResult* r) {
  std::optional<std::vector<int64_t>> dims = IntsOf(c.Const(0));
  if (!dims) return absl::OkStatus();
  Shape shape;
  if (absl::Status s = ShapeFromInts(c, *dims, &shape); !s.ok()) return s;
  double v = 0.0;
  int32_t dtype = TP::FLOAT;
  if (const auto* a = FindAttr(c.node, "value")) {
    std::vector<double> vals;
    if (absl::Status s = ReadTensorData(a->t(), &vals); !s.ok() || vals.size() != 1)
      return Bad(c, "value must be a one-element tensor");
    v = vals[0];
    dtype = a->t().data_type();
  }
  SetConst(r, 0, Tensor::Splat(std::move(shape), v, dtype));
  return absl::OkStatus();
}

absl::Status PropRange(const NodeCtx& c, NodeResult* r) {
  const Tensor *a = c.Const(0), *b = c.Const(1), *d = c.Const(2);
  if (!a || !b || !d) return absl::OkStatus();
  std::optional<double> sa = a->Uniform(), sb = b->Uniform(), sd = d->Uniform();
  if (a->numel() != 1 || b->numel() != 1 || d->numel() != 1 || !sa || !sb || !sd)
    return Bad(c, "start, limit and delta must be scalars");
  if (*sd == 0) return Bad(c, "delta is 0");
  double count = std::max(0.0, std::ceil((*sb - *sa) / *sd));
  if (count > static_cast<double>(kMaxFoldElements)) return Bad(c, "range is too long");
  std::vector<double> v;
  for (int64_t i = 0; i < static_cast<int64_t>(count); ++i) v.push_back(*sa + static_cast<double>(i) * *sd);
  SetConst(r, 0, Tensor::Vector(std::move(v), a->dtype));
  return absl::OkStatus();
}

absl::Status PropExpand(const NodeCtx& c, NodeResult* r) {
  const std::optional<Shape>& s = c.ShapeAt(0);
  std::optional<std::vector<int64_t>> t = IntsOf(c.Const(1));
  if (!s || !t) return absl::OkStatus();
  Shape target;
  if (absl::Status st = ShapeFromInts(c, *t, &target); !st.ok()) return st;
  std::optional<Shape> out = Broadcast(*s, target);
  if (!out) return Bad(c, "the target shape does not broadcast with the input");
  if (const Tensor* d = c.Const(0)) {
    Tensor shape_only = Tensor::Splat(*out, 0.0);
    if (std::optional<Tensor> k = MapElements({d, &shape_only}, d->dtype,
                                              [](const double* a) { return a[0]; })) {
      SetConst(r, 0, std::move(*k));
      return absl::OkStatus();
    }
  }
  SetOut(r, 0, *out, DType(c, 0));
  if (*out == *s) r->alias_of = 0;
  return absl::OkStatus();
}

absl::Status PropTile(const NodeCtx& c, NodeResult* r) {
  const std::optional<Shape>& s = c.ShapeAt(0);
  std::optional<std::vector<int64_t>> reps = IntsOf(c.Const(1));
  if (!s || !reps) return absl::OkStatus();
  if (reps->size() != s->size()) return Bad(c, "repeats must have one value per axis");
  Shape out = *s;
  for (size_t i = 0; i < out.size(); ++i) {
    if ((*reps)[i] < 0) return Bad(c, "negative repeat");
    if (__builtin_mul_overflow(out[i], (*reps)[i], &out[i])) return Bad(c, "result overflows int64");
  }
  const Tensor* t = c.Const(0);
  if (t && t->splat) {
    SetConst(r, 0, Tensor::Splat(out, *t->splat, t->dtype));
  } else if (t && t->materialized() && Numel(out) <= kMaxFoldElements) {
    Tensor k;
    k.dtype = t->dtype;
    k.shape = out;
    std::vector<int64_t> idx;
    for (int64_t e = 0; e < Numel(out); ++e) {
      Unflatten(e, out, &idx);
      int64_t off = 0;
      for (size_t i = 0; i < s->size(); ++i) off = off * (*s)[i] + idx[i] % (*s)[i];
      k.data.push_back(t->data[off]);
    }
    SetConst(r, 0, std::move(k));
  } else {
    SetOut(r, 0, out, DType(c, 0));
  }
  return absl::OkStatus();
}

absl::Status PropGather(const NodeCtx& c, NodeResult* r) {
  const std::optional<Shape>& s = c.ShapeAt(0);
  const std::optional<Shape>& is = c.ShapeAt(1);
  if (!s || !is) return absl::OkStatus();
  int64_t axis = NormAxis(AttrInt(c.node, "axis", 0), s->size());
  if (!AxisOk(axis, s->size()))
    return Bad(c, absl::StrCat("axis ", AttrInt(c.node, "axis", 0), " out of range for rank ", s->size()));
  Shape out(s->begin(), s->begin() + axis);
  out.insert(out.end(), is->begin(), is->end());
  out.insert(out.end(), s->begin() + axis + 1, s->end());
  std::optional<std::vector<int64_t>> idx = IntsOf(c.Const(1));
  if (idx)
    for (int64_t& i : *idx) {
      if (i < 0) i += (*s)[axis];
      if (i < 0 || i >= (*s)[axis])
        return Bad(c, absl::StrCat("index out of range for axis of size ", (*s)[axis]));
    }
  const Tensor* data = c.Const(0);
  if (data && idx && data->materialized() && Numel(out) <= kMaxFoldElements) {
    int64_t outer = Numel(Shape(s->begin(), s->begin() + axis));
    int64_t inner = Numel(Shape(s->begin() + axis + 1, s->end()));
    Tensor k;
    k.dtype = data->dtype;
    k.shape = out;
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t i : *idx)
        for (int64_t e = 0; e < inner; ++e) k.data.push_back(data->at((o * (*s)[axis] + i) * inner + e));
    if (k.numel() == 1) k.splat = k.data[0];
    SetConst(r, 0, std::move(k));
  } else {
    SetOut(r, 0, out, DType(c, 0));
  }
  return absl::OkStatus();
}

absl::Status PropConcat(const NodeCtx& c, NodeResult* r) {
  std::vector<Shape> shapes;
  bool all_const = true;
  for (int i = 0; i < c.node.input_size(); ++i) {
    if (!c.ShapeAt(i)) return absl::OkStatus();
    shapes.push_back(*c.ShapeAt(i));
    if (!c.Const(i) || !c.Const(i)->materialized()) all_const = false;
  }
  if (shapes.empty()) return Bad(c, "Concat without inputs");
  Shape out = shapes[0];
  int64_t axis = NormAxis(AttrInt(c.node, "axis", 0), out.size());
  if (!AxisOk(axis, out.size())) return Bad(c, "axis out of range");
  out[axis] = 0;
  for (const Shape& s : shapes) {
    bool same = s.size() == out.size();
    for (size_t i = 0; same && i < s.size(); ++i) same = static_cast<int64_t>(i) == axis || s[i] == out[i];
    if (!same || __builtin_add_overflow(out[axis], s[axis], &out[axis]))
      return Bad(c, "inputs differ in rank or in a non-concatenated dimension");
  }
  if (all_const && Numel(out) <= kMaxFoldElements) {
    int64_t outer = Numel(Shape(out.begin(), out.begin() + axis));
    Tensor k;
    k.dtype = c.Const(0)->dtype;
    k.shape = out;
    for (int64_t o = 0; o < outer; ++o)
      for (int i = 0; i < c.node.input_size(); ++i) {
        int64_t chunk = Numel(Shape(shapes[i].begin() + axis, shapes[i].end()));
        for (int64_t e = 0; e < chunk; ++e) k.data.push_back(c.Const(i)->at(o * chunk + e));
      }
    if (k.numel() == 1) k.splat = k.data[0];
    SetConst(r, 0, std::move(k));
  } else {
    SetOut(r, 0, out, DType(c, 0));
  }
  return absl::OkStatus();
}

absl::Status PropSlice(const NodeCtx& c, NodeResult* r) {
  const std::optional<Shape>& s = c.ShapeAt(0);
  if (!s) return absl::OkStatus();
  std::vector<int64_t> starts, ends, axes, steps;
  if (c.opset >= 10 || c.node.input_size() >= 3) {
    std::optional<std::vector<int64_t>> a = IntsOf(c.Const(1)), b = IntsOf(c.Const(2));
    if (!a || !b) return absl::OkStatus();
    starts = *a;
    ends = *b;
    if (c.Has(3)) {
      std::optional<std::vector<int64_t>> v = IntsOf(c.Const(3));
      if (!v) return absl::OkStatus();
      axes = *v;
    }
    if (c.Has(4)) {
      std::optional<std::vector<int64_t>> v = IntsOf(c.Const(4));
      if (!v) return absl::OkStatus();
      steps = *v;
    }
  } else {
    starts = AttrInts(c.node, "starts");
    ends = AttrInts(c.node, "ends");
    axes = AttrInts(c.node, "axes");
  }
  if (axes.empty())
    for (size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<int64_t>(i));
  if (ends.size() != starts.size() || axes.size() != starts.size() ||
      (!steps.empty() && steps.size() != starts.size()))
    return Bad(c, "starts, ends, axes and steps differ in length");
  Shape out = *s;
  std::vector<int64_t> first(s->size(), 0), step(s->size(), 1);
  for (size_t i = 0; i < starts.size(); ++i) {
    int64_t a = NormAxis(axes[i], s->size());
    if (!AxisOk(a, s->size()))
      return Bad(c, absl::StrCat("axis ", axes[i], " out of range for rank ", s->size()));
    int64_t d = (*s)[a];
    int64_t st = steps.empty() ? 1 : steps[i];
    if (st == 0) return Bad(c, "step 0");
    int64_t b = starts[i] < 0 ? std::max<int64_t>(starts[i], -d) + d : starts[i];
    int64_t e = ends[i] < 0 ? std::max<int64_t>(ends[i], -d - 1) + d : ends[i];
    if (st > 0) {
      b = std::clamp<int64_t>(b, 0, d);
      e = std::clamp<int64_t>(e, 0, d);
      out[a] = e > b ? (e - b - 1) / st + 1 : 0;
    } else {
      b = std::clamp<int64_t>(b, -1, d - 1);
      e = std::clamp<int64_t>(e, -1, d - 1);
      out[a] = b > e ? (b - e - 1) / (-st) + 1 : 0;
    }
    first[a] = b;
    step[a] = st;
  }
  const Tensor* t = c.Const(0);
  if (t && t->materialized() && Numel(out) <= kMaxFoldElements) {
    Tensor k;
    k.dtype = t->dtype;
    k.shape = out;
    std::vector<int64_t> idx;
    for (int64_t e = 0; e < Numel(out); ++e) {
      Unflatten(e, out, &idx);
      int64_t off = 0;
      for (size_t i = 0; i < s->size(); ++i) off = off * (*s)[i] + first[i] + idx[i] * step[i];
      k.data.push_back(t->at(off));
    }
    if (k.numel() == 1) k.splat = k.data[0];
    SetConst(r, 0, std::move(k));
  } else {
    SetOut(r, 0, out, DType(c, 0));
    if (out == *s) r->alias_of = 0;
  }
  return absl::OkStatus();
}

absl::Status PropSplit(const NodeCtx& c, NodeResult* r) {
  const std::optional<Shape>& s = c.ShapeAt(0);
  if (!s) return absl::OkStatus();
  int64_t axis = NormAxis(AttrInt(c.node, "axis", 0), s->size());
  if (!AxisOk(axis, s->size())) return Bad(c, "axis out of range");
  std::vector<int64_t> sizes = AttrInts(c.node, "split");
  if (c.Has(1)) {
    std::optional<std::vector<int64_t>> v = IntsOf(c.Const(1));
    if (!v) return absl::OkStatus();
    sizes = *v;
  }
  int64_t outs = c.node.output_size();
  if (sizes.empty()) {
    if (outs == 0 || (*s)[axis] % outs != 0) return Bad(c, "cannot split evenly");
    sizes.assign(static_cast<size_t>(outs), (*s)[axis] / outs);
  }
  int64_t total = 0;
  for (int64_t v : sizes) {
    if (v < 0) return Bad(c, "negative split size");
    total += v;
  }
  if (static_cast<int64_t>(sizes.size()) != outs || total != (*s)[axis])
    return Bad(c, "split sizes do not add up to the axis");
  const Tensor* t = c.Const(0);
  int64_t offset = 0;
  for (int64_t o = 0; o < outs; ++o) {
    Shape out = *s;
    out[axis] = sizes[o];
    if (t && t->materialized() && Numel(out) <= kMaxFoldElements) {
      int64_t outer = Numel(Shape(s->begin(), s->begin() + axis));
      int64_t inner = Numel(Shape(s->begin() + axis + 1, s->end()));
      Tensor k;
      k.dtype = t->dtype;
      k.shape = out;
      for (int64_t a = 0; a < outer; ++a)
        for (int64_t i = 0; i < sizes[o]; ++i)
          for (int64_t e = 0; e < inner; ++e)
            k.data.push_back(t->at((a * (*s)[axis] + offset + i) * inner + e));
      if (k.numel() == 1) k.splat = k.data[0];
      SetConst(r, o, std::move(k));
    } else {
      SetOut(r, o, out, DType(c, 0));
    }
    offset += sizes[o];
  }
  return absl::OkStatus();
}

absl::Status PropScatterND(const NodeCtx& c, NodeResult* r) {
  SetOut(r, 0, c.ShapeAt(0), DType(c, 0));
  return absl::OkStatus();
}

absl::Status PropPad(const NodeCtx& c, NodeResult* r) {
  const std::optional<Shape>& s = c.ShapeAt(0);
  if (!s) return absl::OkStatus();
  std::vector<int64_t> pads = AttrInts(c.node, "pads");
  if (c.Has(1)) {
    std::optional<std::vector<int64_t>> v = IntsOf(c.Const(1));
    if (!v) return Bad(c, "pads must be constant");
    pads = *v;
  }
  if (pads.size() != 2 * s->size()) return Bad(c, "pads must have two values per axis");
  Shape out = *s;
  for (size_t i = 0; i < out.size(); ++i) {
    out[i] += pads[i] + pads[i + out.size()];
    if (out[i] < 0) return Bad(c, "padding makes an axis negative");
  }
  SetOut(r, 0, out, DType(c, 0));
  return absl::OkStatus();
}

// ---- layers ---------------------------------------------------------------

// Window attributes of Conv / MaxPool / AveragePool: checked here, before any
// arithmetic uses them (zero strides or dilations divide by zero elsewhere).
absl::Status CheckWindow(const NodeCtx& c, size_t spatial, const std::vector<int64_t>& kernel) {
  auto ints = [&](const char* name, size_t per_axis) -> absl::Status {
    std::vector<int64_t> v = AttrInts(c.node, name);
    if (!v.empty() && v.size() != per_axis * spatial)
      return Bad(c, absl::StrCat("attribute ", name, " has ", v.size(), " values, expected ",
                                 per_axis * spatial));
    for (int64_t x : v) {
      bool ok = std::string(name) == "pads" ? x >= 0 : x >= 1;
      if (!ok)
        return Bad(c, absl::StrCat("attribute ", name, " has value ", x,
                                   std::string(name) == "pads" ? " (must be >= 0)" : " (must be >= 1)"));
    }
    return absl::OkStatus();
  };
  for (auto [name, per] : {std::pair{"strides", 1}, {"dilations", 1}, {"pads", 2}})
    if (absl::Status s = ints(name, per); !s.ok()) return s;
  if (kernel.size() != spatial)
    return Bad(c, absl::StrCat("kernel has ", kernel.size(), " axes, input ", spatial, " spatial axes"));
  for (int64_t k : kernel)
    if (k < 1) return Bad(c, absl::StrCat("kernel size ", k, " (must be >= 1)"));
  std::string auto_pad = AttrString(c.node, "auto_pad");
  if (!auto_pad.empty() && auto_pad != "NOTSET" && auto_pad != "VALID" && auto_pad != "SAME_UPPER" &&
      auto_pad != "SAME_LOWER")
    return Bad(c, absl::StrCat("unknown auto_pad '", auto_pad, "'"));
  return absl::OkStatus();
}

absl::StatusOr<Shape> WindowShape(const NodeCtx& c, const Shape& x, int64_t out_channels,
                                  const std::vector<int64_t>& kernel) {
  size_t sp = kernel.size();
  std::vector<int64_t> strides = AttrInts(c.node, "strides");
  std::vector<int64_t> dil = AttrInts(c.node, "dilations");
  std::vector<int64_t> pads = AttrInts(c.node, "pads");
  std::string auto_pad = AttrString(c.node, "auto_pad");
  bool ceil = AttrInt(c.node, "ceil_mode", 0) != 0;
  Shape out = {x[0], out_channels};
  for (size_t i = 0; i < sp; ++i) {
    int64_t s = strides.empty() ? 1 : strides[i];
    int64_t d = dil.empty() ? 1 : dil[i];
    int64_t in = x[i + 2];
    int64_t eff = 0;
    if (__builtin_mul_overflow(kernel[i] - 1, d, &eff)) return Bad(c, "window extent overflows");
    ++eff;
    if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      out.push_back(in / s + (in % s != 0 ? 1 : 0));
      continue;
    }
    int64_t p = 0, num = 0;
    if (!pads.empty() && auto_pad != "VALID" && __builtin_add_overflow(pads[i], pads[i + sp], &p))
      return Bad(c, "padding overflows");
    if (__builtin_add_overflow(in, p, &num) || __builtin_sub_overflow(num, eff, &num) || num < 0)
      return Bad(c, absl::StrCat("the window (extent ", eff, ") is larger than the padded input (",
                                 in, " + ", p, ") on spatial axis ", i));
    out.push_back((ceil ? num / s + (num % s != 0 ? 1 : 0) : num / s) + 1);
  }
  return out;
}

absl::Status PropConv(const NodeCtx& c, NodeResult* r) {
  const std::optional<Shape>& x = c.ShapeAt(0);
  const std::optional<Shape>& w = c.ShapeAt(1);
  if (!c.Has(1)) return Bad(c, "Conv needs weights");
  if (w && w->size() < 3) return Bad(c, absl::StrCat("weights have rank ", w->size(), ", expected >= 3"));
  if (x && x->size() < 3) return Bad(c, absl::StrCat("input has rank ", x->size(), ", expected N x C x spatial"));
  if (x && w && x->size() != w->size())
    return Bad(c, absl::StrCat("input rank ", x->size(), " differs from weight rank ", w->size()));
  if (!w) return absl::OkStatus();
  std::vector<int64_t> kernel(w->begin() + 2, w->end());
  std::vector<int64_t> attr_kernel = AttrInts(c.node, "kernel_shape");
  if (!attr_kernel.empty() && attr_kernel != kernel)
    return Bad(c, "kernel_shape disagrees with the weight shape");
  if (absl::Status s = CheckWindow(c, kernel.size(), kernel); !s.ok()) return s;
  int64_t group = AttrInt(c.node, "group", 1);
  if (group < 1) return Bad(c, absl::StrCat("attribute group = ", group, " (must be >= 1)"));
  if ((*w)[0] % group != 0)
    return Bad(c, absl::StrCat("group = ", group, " does not divide the ", (*w)[0], " output channels"));
  if (x && (*x)[1] != (*w)[1] * group)
    return Bad(c, absl::StrCat("input has ", (*x)[1], " channels, weights expect ", (*w)[1], " x group ",
                               group, " = ", (*w)[1] * group));
  if (c.Has(2) && c.ShapeAt(2) && Numel(*c.ShapeAt(2)) != (*w)[0])
    return Bad(c, "bias length differs from the output channels");
  if (!x) return absl::OkStatus();
  absl::StatusOr<Shape> out = WindowShape(c, *x, (*w)[0], kernel);
  if (!out.ok()) return out.status();
  SetOut(r, 0, *out, DType(c, 0));
  return absl::OkStatus();
}

absl::Status PropPool(const NodeCtx& c, NodeResult* r) {
  const std::optional<Shape>& x = c.ShapeAt(0);
  std::vector<int64_t> kernel = AttrInts(c.node, "kernel_shape");
  if (kernel.empty()) return Bad(c, "kernel_shape is required");
  if (x && x->size() < 3) return Bad(c, absl::StrCat("input has rank ", x->size(), ", expected N x C x spatial"));
  if (absl::Status s = CheckWindow(c, kernel.size(), kernel); !s.ok()) return s;
  if (!x) return absl::OkStatus();
  if (x->size() != kernel.size() + 2)
    return Bad(c, absl::StrCat("kernel_shape has ", kernel.size(), " axes for a rank-", x->size(), " input"));
  absl::StatusOr<Shape> out = WindowShape(c, *x, (*x)[1], kernel);
  if (!out.ok()) return out.status();
  SetOut(r, 0, *out, DType(c, 0));
  return absl::OkStatus();
}

absl::Status PropGlobalPool(const NodeCtx& c, NodeResult* r) {
  const std::optional<Shape>& x = c.ShapeAt(0);
  if (!x) return absl::OkStatus();
  if (x->size() < 3) return Bad(c, "global pooling needs spatial axes");
  Shape out = *x;
  for (size_t i = 2; i < out.size(); ++i) out[i] = 1;
  SetOut(r, 0, out, DType(c, 0));
  return absl::OkStatus();
}

absl::Status PropGemm(const NodeCtx& c, NodeResult* r) {
  const std::optional<Shape>& x = c.ShapeAt(0);
  const std::optional<Shape>& w = c.ShapeAt(1);
  if (!x || !w) return absl::OkStatus();
  if (x->size() != 2 || w->size() != 2) return Bad(c, "Gemm needs rank-2 inputs");
  bool ta = AttrInt(c.node, "transA", 0) != 0, tb = AttrInt(c.node, "transB", 0) != 0;
  int64_t k1 = ta ? (*x)[0] : (*x)[1], k2 = tb ? (*w)[1] : (*w)[0];
  if (k1 != k2) return Bad(c, absl::StrCat("inner dimensions differ (", k1, " vs ", k2, ")"));
  SetOut(r, 0, Shape{ta ? (*x)[1] : (*x)[0], tb ? (*w)[0] : (*w)[1]}, DType(c, 0));
  return absl::OkStatus();
}

absl::Status PropMatMul(const NodeCtx& c, NodeResult* r) {
  const std::optional<Shape>& a = c.ShapeAt(0);
  const std::optional<Shape>& b = c.ShapeAt(1);
  if (!a || !b) return absl::OkStatus();
  if (a->empty() || b->empty()) return Bad(c, "MatMul of a scalar");
  Shape sa = *a, sb = *b;
  if (sa.size() == 1) sa.insert(sa.begin(), 1);
  if (sb.size() == 1) sb.push_back(1);
  if (sa.back() != sb[sb.size() - 2])
    return Bad(c, absl::StrCat("inner dimensions differ (", sa.back(), " vs ", sb[sb.size() - 2], ")"));
  std::optional<Shape> batch = Broadcast(Shape(sa.begin(), sa.end() - 2), Shape(sb.begin(), sb.end() - 2));
  if (!batch) return Bad(c, "batch dimensions do not broadcast");
  Shape out = *batch;
  if (a->size() > 1) out.push_back(sa[sa.size() - 2]);
  if (b->size() > 1) out.push_back(sb.back());
  SetOut(r, 0, out, DType(c, 0));
  return absl::OkStatus();
}

absl::Status PropBatchNorm(const NodeCtx& c, NodeResult* r) {
  const std::optional<Shape>& x = c.ShapeAt(0);
  if (c.node.input_size() < 5) return Bad(c, "BatchNormalization needs 5 inputs");
  if (x && x->size() < 2) return Bad(c, "input needs a channel axis");
  for (int i = 1; i < 5; ++i)
    if (x && c.ShapeAt(i) && Numel(*c.ShapeAt(i)) != (*x)[1])
      return Bad(c, absl::StrCat("parameter ", i, " has ", Numel(*c.ShapeAt(i)), " values for ", (*x)[1],
                                 " channels"));
  SetOut(r, 0, x, DType(c, 0));
  return absl::OkStatus();
}

absl::Status PropReduce(const NodeCtx& c, NodeResult* r) {
  const std::optional<Shape>& x = c.ShapeAt(0);
  if (!x) return absl::OkStatus();
  std::vector<int64_t> axes = AttrInts(c.node, "axes");
  if (c.Has(1)) {
    std::optional<std::vector<int64_t>> v = IntsOf(c.Const(1));
    if (!v) return Bad(c, "axes must be constant");
    axes = *v;
  }
  bool keep = AttrInt(c.node, "keepdims", 1) != 0;
  bool noop_empty = AttrInt(c.node, "noop_with_empty_axes", 0) != 0;
  std::set<int64_t> ax;
  for (int64_t a : axes) {
    int64_t k = NormAxis(a, x->size());
    if (!AxisOk(k, x->size())) return Bad(c, absl::StrCat("axis ", a, " out of range for rank ", x->size()));
    ax.insert(k);
  }
  Shape out;
  for (size_t i = 0; i < x->size(); ++i) {
    bool reduced = ax.empty() ? !noop_empty : ax.count(static_cast<int64_t>(i)) > 0;
    if (!reduced)
      out.push_back((*x)[i]);
    else if (keep)
      out.push_back(1);
  }
  // Reductions of constants (shape arithmetic such as ReduceProd of a shape).
  const Tensor* t = c.Const(0);
  const std::string& op = c.node.op_type();
  if (t && t->materialized() && Numel(*x) <= kMaxFoldElements) {
    Tensor k = Tensor::Splat(out, 0.0, t->dtype);
    k.splat.reset();
    std::vector<double> acc(static_cast<size_t>(Numel(out)), op == "ReduceProd" ? 1.0
                                                           : op == "ReduceMax" ? -INFINITY
                                                           : op == "ReduceMin" ? INFINITY
                                                                               : 0.0);
    std::vector<int64_t> idx, oidx;
    for (int64_t e = 0; e < Numel(*x); ++e) {
      Unflatten(e, *x, &idx);
      int64_t off = 0;
      for (size_t i = 0, j = 0; i < x->size(); ++i) {
        bool reduced = ax.empty() ? !noop_empty : ax.count(static_cast<int64_t>(i)) > 0;
        if (!reduced) off = off * out[j++] + idx[i];
        else if (keep) ++j;
      }
      double v = t->at(e);
      double& a = acc[off];
      a = op == "ReduceProd" ? a * v : op == "ReduceMax" ? std::max(a, v) : op == "ReduceMin" ? std::min(a, v) : a + v;
    }
    if (op == "ReduceMean")
      for (double& v : acc) v /= static_cast<double>(std::max<int64_t>(1, Numel(*x) / std::max<int64_t>(1, Numel(out))));
    for (double& v : acc) v = RoundTo(t->dtype, v);
    k.data = std::move(acc);
    if (k.numel() == 1) k.splat = k.data[0];
    SetConst(r, 0, std::move(k));
    return absl::OkStatus();
  }
  SetOut(r, 0, out, DType(c, 0));
  return absl::OkStatus();
}

// ---- the table ----------------------------------------------------------------

using Table = absl::flat_hash_map<std::string, OpInfo>;

Table MakeTable() {
  Table t;
  auto elem = [&](const char* op, ScalarFn fn, int arity, LayerRule layer = LayerRule::kElementwise) {
    t[op] = OpInfo{OpRole::kElementwise, layer, PropElementwise, fn, arity, false};
  };
  auto logic = [&](const char* op, ScalarFn fn, int arity) {
    t[op] = OpInfo{OpRole::kElementwise, LayerRule::kElementwise, PropElementwise, fn, arity, true};
  };
  auto cmp = [&](const char* op, ScalarFn fn) {
    t[op] = OpInfo{OpRole::kCompare, LayerRule::kElementwise, PropElementwise, fn, 2, true};
  };
  auto other = [&](const char* op, OpRole role, LayerRule layer, PropagateFn fn) {
    t[op] = OpInfo{role, layer, fn, nullptr, -1, false};
  };
  elem("Add", FAdd, 2);
  elem("Sub", FSub, 2);
  elem("Mul", FMul, 2);
  elem("Div", FDiv, 2);
  elem("Pow", FPow, 2);
  elem("Mod", FMod, 2);
  elem("Neg", FNeg, 1);
  elem("Abs", FAbs, 1);
  elem("Sign", FSign, 1);
  elem("Relu", FRelu, 1);
  elem("LeakyRelu", FLeakyRelu, 1);
  elem("Sigmoid", FSigmoid, 1);
  elem("HardSigmoid", FHardSigmoid, 1);
  elem("Tanh", FTanh, 1);
  elem("Exp", FExp, 1);
  elem("Log", FLog, 1);
  elem("Sqrt", FSqrt, 1);
  elem("Reciprocal", FReciprocal, 1);
  elem("Floor", FFloor, 1);
  elem("Ceil", FCeil, 1);
  elem("Round", FRound, 1);
  elem("Erf", FErf, 1);
  elem("Softplus", FSoftplus, 1);
  elem("Clip", FClip, 3);
  elem("Min", FMin, -1);
  elem("Max", FMax, -1);
  elem("Sum", FSum, -1);
  elem("Mean", FMean, -1);
  elem("Where", FWhere, 3);
  elem("Cast", FIdentity, 1);
  elem("CastLike", FIdentity, 2);
  logic("Not", FNot, 1);
  logic("And", FAnd, 2);
  logic("Or", FOr, 2);
  logic("Xor", FXor, 2);
  cmp("Equal", FEqual);
  cmp("Less", FLess);
  cmp("LessOrEqual", FLessEq);
  cmp("Greater", FGreater);
  cmp("GreaterOrEqual", FGreaterEq);
  other("Constant", OpRole::kConstant, LayerRule::kNone, PropConstant);
  other("Identity", OpRole::kView, LayerRule::kView, PropIdentity);
  other("Dropout", OpRole::kView, LayerRule::kView, PropIdentity);
  other("Reshape", OpRole::kView, LayerRule::kView, PropReshape);
  other("Flatten", OpRole::kView, LayerRule::kView, PropFlatten);
  other("Unsqueeze", OpRole::kView, LayerRule::kView, PropUnsqueeze);
  other("Squeeze", OpRole::kView, LayerRule::kView, PropSqueeze);
  other("Transpose", OpRole::kView, LayerRule::kView, PropTranspose);
  other("Shape", OpRole::kShapeOp, LayerRule::kNone, PropShape);
  other("Size", OpRole::kShapeOp, LayerRule::kNone, PropSize);
  other("ConstantOfShape", OpRole::kShapeOp, LayerRule::kNone, PropConstantOfShape);
  other("Range", OpRole::kShapeOp, LayerRule::kNone, PropRange);
  other("Expand", OpRole::kShapeOp, LayerRule::kView, PropExpand);
  other("Tile", OpRole::kShapeOp, LayerRule::kView, PropTile);
  other("Gather", OpRole::kShapeOp, LayerRule::kView, PropGather);
  other("Slice", OpRole::kShapeOp, LayerRule::kView, PropSlice);
  other("Split", OpRole::kShapeOp, LayerRule::kView, PropSplit);
  other("Concat", OpRole::kShapeOp, LayerRule::kConcat, PropConcat);
  other("ScatterND", OpRole::kShapeOp, LayerRule::kNone, PropScatterND);
  other("Pad", OpRole::kShapeOp, LayerRule::kPad, PropPad);
  other("ReduceProd", OpRole::kShapeOp, LayerRule::kNone, PropReduce);
  other("ReduceMax", OpRole::kShapeOp, LayerRule::kNone, PropReduce);
  other("ReduceMin", OpRole::kShapeOp, LayerRule::kNone, PropReduce);
  other("ReduceMean", OpRole::kLayer, LayerRule::kReduce, PropReduce);
  other("ReduceSum", OpRole::kLayer, LayerRule::kReduce, PropReduce);
  other("Conv", OpRole::kLayer, LayerRule::kConv, PropConv);
  other("Gemm", OpRole::kLayer, LayerRule::kLinear, PropGemm);
  other("MatMul", OpRole::kLayer, LayerRule::kLinear, PropMatMul);
  other("MaxPool", OpRole::kLayer, LayerRule::kPool, PropPool);
  other("AveragePool", OpRole::kLayer, LayerRule::kPool, PropPool);
  other("GlobalAveragePool", OpRole::kLayer, LayerRule::kGlobalPool, PropGlobalPool);
  other("GlobalMaxPool", OpRole::kLayer, LayerRule::kGlobalPool, PropGlobalPool);
  other("BatchNormalization", OpRole::kLayer, LayerRule::kBatchNorm, PropBatchNorm);
  other("Loop", OpRole::kLoop, LayerRule::kLoop, nullptr);
  return t;
}

}  // namespace

const std::optional<Shape>& NodeCtx::ShapeAt(int i) const {
  static const std::optional<Shape> kNone;
  return i < static_cast<int>(in_shape.size()) ? in_shape[i] : kNone;
}

bool NodeCtx::Has(int i) const { return i < node.input_size() && !node.input(i).empty(); }

const OpInfo* FindOp(const onnx::NodeProto& node) {
  static const Table* table = new Table(MakeTable());
  if (!node.domain().empty() && node.domain() != "ai.onnx") return nullptr;
  auto it = table->find(node.op_type());
  return it == table->end() ? nullptr : &it->second;
}

ElemParams ParamsOf(const onnx::NodeProto& n) {
  ElemParams p;
  const std::string& op = n.op_type();
  if (op == "Cast") p.to = static_cast<int32_t>(AttrInt(n, "to", TP::FLOAT));
  if (op == "LeakyRelu") p.alpha = AttrFloat(n, "alpha", 0.01f);
  if (op == "HardSigmoid") {
    p.alpha = AttrFloat(n, "alpha", 0.2f);
    p.beta = AttrFloat(n, "beta", 0.5f);
  }
  if (op == "Mod") p.fmod = AttrInt(n, "fmod", 0) != 0;
  if (op == "Clip") {  // opset < 11 gives the bounds as attributes
    if (FindAttr(n, "min")) p.missing[1] = AttrFloat(n, "min", 0.0f);
    if (FindAttr(n, "max")) p.missing[2] = AttrFloat(n, "max", 0.0f);
  }
  return p;
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

std::string NodeLabel(const onnx::NodeProto& n) {
  return absl::StrCat(n.name().empty() ? "<unnamed>" : n.name(), " (", n.op_type(), ")");
}

}  // namespace snnplan::importer::internal
