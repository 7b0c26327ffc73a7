// The per-element arithmetic shared by the executor and the manifest replay
// (layer_math.h).
#include "layer_math.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace snnplan::runtime::internal {
namespace {

std::vector<CompiledTerm> Compile(const std::vector<ir::NeuronTerm>& terms, int64_t k, int64_t n) {
  std::vector<CompiledTerm> out;
  for (const ir::NeuronTerm& t : terms) out.push_back({t.var, t.gates, View(t.coef, k, n)});
  return out;
}

inline double Sum(const std::vector<CompiledTerm>& terms, const double* vars, uint32_t gates,
                  int64_t e) {
  double s = 0.0;
  for (const CompiledTerm& t : terms) {
    if ((t.gates & gates) != t.gates) continue;  // a gate of the term is 0
    double v = t.coef.At(e);
    if (t.var >= 0) v *= vars[t.var];
    s += v;
  }
  return s;
}

}  // namespace

ParamView View(const ir::NeuronParam& p, int64_t channels, int64_t elements) {
  ParamView v;
  v.values = p.values.empty() ? &p.value : p.values.data();
  v.mode = p.layout == ir::ParamLayout::kScalar       ? 0
           : p.layout == ir::ParamLayout::kPerChannel ? 1
                                                      : 2;
  v.block = channels > 0 ? std::max<int64_t>(1, elements / channels) : 1;
  return v;
}

int64_t Elements(const ir::Layer& l) {
  int64_t n = 1;
  for (int64_t d : l.out_shape) n *= d;
  return n;
}

int64_t Channels(const ir::Layer& l) { return l.out_shape.empty() ? 1 : l.out_shape[0]; }

CompiledNeuron CompileNeuron(const ir::Layer& l) {
  const ir::NeuronDynamics& d = l.neuron.dynamics;
  const int64_t k = Channels(l), n = Elements(l);
  CompiledNeuron c;
  c.states = d.states;
  c.currents = d.currents;
  for (const ir::NeuronGate& g : d.gates) {
    c.gates.push_back(Compile(g.arg, k, n));
    c.inclusive.push_back(g.inclusive);
  }
  for (const auto& next : d.next) c.next.push_back(Compile(next, k, n));
  c.output = Compile(d.output, k, n);
  c.reset_each_step = l.neuron.mode == ir::NeuronMode::kStateless;
  c.initial = d.initial;
  return c;
}

float NeuronStep(const CompiledNeuron& c, int64_t el, double* st, const float* currents,
                 double* vars, double* next, float* rec) {
  for (int s = 0; s < c.states; ++s)
    vars[s] = c.reset_each_step ? (c.initial.empty() ? 0.0 : c.initial[s]) : st[s];
  for (int j = 0; j < c.currents; ++j) vars[c.states + j] = currents[j];
  uint32_t gates = 0;
  for (size_t g = 0; g < c.gates.size(); ++g) {
    double arg = Sum(c.gates[g], vars, gates, el);
    if (c.inclusive[g] ? arg >= 0 : arg > 0) gates |= uint32_t{1} << g;
  }
  const float y = static_cast<float>(Sum(c.output, vars, gates, el));
  for (int s = 0; s < c.states; ++s) next[s] = Sum(c.next[s], vars, gates, el);
  for (int s = 0; s < c.states; ++s) {
    st[s] = next[s];
    if (rec) rec[s] = static_cast<float>(next[s]);
  }
  return y;
}

void Join(ir::OpKind op, const std::vector<const float*>& in, int64_t n, float* out) {
  const float* a = in[0];
  const float* b = in.size() > 1 ? in[1] : nullptr;
  for (int64_t i = 0; i < n; ++i) {
    float u = a[i], v = b ? b[i] : 0.0f;
    switch (op) {
      case ir::OpKind::kSewOr:
        out[i] = std::max(u, v);
        break;
      case ir::OpKind::kSewAnd:
        out[i] = u * v;
        break;
      case ir::OpKind::kSewIAnd:
        out[i] = (1.0f - u) * v;
        break;
      default: {
        float s = 0.0f;
        for (const float* x : in) s += x[i];
        out[i] = s;
      }
    }
  }
}

namespace {
// The window fields conv and pool geometries share.
template <typename G>
void SetWindow(const ir::Layer& l, G* g) {
  g->fy = l.dims.FY;
  g->fx = l.dims.FX;
  g->stride_y = l.window.stride_y;
  g->stride_x = l.window.stride_x;
  g->dil_y = l.window.dilation_y;
  g->dil_x = l.window.dilation_x;
  g->pad_top = l.window.pad_top;
  g->pad_left = l.window.pad_left;
  g->pad_bottom = l.window.pad_bottom;
  g->pad_right = l.window.pad_right;
  g->h = l.in_y;
  g->w = l.in_x;
  g->oy = l.dims.OY;
  g->ox = l.dims.OX;
}
}  // namespace

ConvGeometry ConvGeometryOf(const ir::Layer& l, int64_t frames) {
  ConvGeometry g;
  g.n = frames;
  g.c = l.dims.G * l.dims.C;
  g.k = l.dims.G * l.dims.K;
  g.groups = l.dims.G;
  SetWindow(l, &g);
  return g;
}

PoolGeometry PoolGeometryOf(const ir::Layer& l, int64_t frames) {
  PoolGeometry g;
  g.n = frames;
  g.c = l.dims.K;
  g.count_include_pad = l.params.count_include_pad;
  SetWindow(l, &g);
  return g;
}

void PostOps(const ir::Layer& l, int64_t frames, float* y) {
  const int64_t e = Elements(l), k = Channels(l);
  for (const ir::PostOp& op : l.params.post) {
    ParamView scale = View(op.scale, k, e), shift = View(op.shift, k, e);
    for (int64_t i = 0; i < frames * e; ++i) {
      double x = y[i];
      int64_t el = i % e;
      switch (op.kind) {
        case ir::PostOpKind::kAffine:
          x = x * scale.At(el) + shift.At(el);
          break;
        case ir::PostOpKind::kRelu:
          x = x > 0 ? x : 0.0;
          break;
        case ir::PostOpKind::kLeakyRelu:
          x = x >= 0 ? x : op.alpha * x;
          break;
        case ir::PostOpKind::kClip:
          x = std::min(std::max(x, op.lo), op.hi);
          break;
        case ir::PostOpKind::kSigmoid:
          x = 1.0 / (1.0 + std::exp(-x));
          break;
        case ir::PostOpKind::kTanh:
          x = std::tanh(x);
          break;
        case ir::PostOpKind::kHardSigmoid:
          x = std::clamp(op.alpha * x + op.beta, 0.0, 1.0);
          break;
      }
      y[i] = static_cast<float>(x);
    }
  }
}

absl::StatusOr<Array> OutputArray(const ir::Workload& w, const ir::Binding& b,
                                  const std::vector<float>& data, int64_t have) {
  const ir::Layer& l = w.layers[b.layer];
  const int64_t B = w.batch, T = w.timesteps;
  const int64_t n = B * Elements(l);
  // Steps to write: all, or the last; single-step exports run over
  // --timesteps stack their per-call outputs on a leading axis.
  int64_t first = 0, count = have;
  std::vector<int64_t> shape = b.shape;
  if (b.steps == ir::BindingSteps::kOne) {
    if (w.time_in_graph || T == 1) {
      first = have - 1;
      count = 1;
    } else {
      shape.insert(shape.begin(), T);
    }
  }
  Array a;
  a.shape = shape;
  a.values.reserve(static_cast<size_t>(std::max<int64_t>(0, count * n)));
  for (int64_t t = first; t < first + count; ++t) {
    if (b.kind == ir::BindingKind::kState) {
      const int S = l.neuron.dynamics.states;
      const float* p = data.data() + t * n * S;
      for (int64_t i = 0; i < n; ++i) a.values.push_back(p[i * S + b.state]);
    } else {
      const float* p = data.data() + t * n;
      a.values.insert(a.values.end(), p, p + n);
    }
  }
  int64_t want = 1;
  for (int64_t d : shape) want *= d;
  if (want != static_cast<int64_t>(a.values.size()))
    return absl::InvalidArgumentError(absl::StrCat("output '", b.name, "': computed ",
                                                   a.values.size(), " values for shape [",
                                                   absl::StrJoin(shape, ","), "]"));
  return a;
}

}  // namespace snnplan::runtime::internal
