#include "nir_import.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <numeric>
#include <queue>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "finalize.h"
#include "layer_builder.h"
#include "neurons.h"
#include "nir_hdf5.h"
#include "poly.h"

namespace snnplan::importer::internal {
namespace {

using TP = onnx::TensorProto;

// Node types this importer maps (nir/ir/__init__.py; NIRGraph is inlined).
const std::set<std::string>& KnownTypes() {
  static const std::set<std::string> k = {"Input",     "Output",    "Affine",  "Linear", "Scale",
                                          "Conv1d",    "Conv2d",    "SumPool2d", "AvgPool2d",
                                          "Flatten",   "Delay",     "Threshold", "LIF",  "CubaLIF",
                                          "IF",        "LI",        "I",       "CubaLI", "NIRGraph"};
  return k;
}

bool IsNeuronType(const std::string& t) {
  return t == "LIF" || t == "CubaLIF" || t == "IF" || t == "LI" || t == "I" || t == "CubaLI" ||
         t == "Threshold";
}

std::string ShapeText(const Shape& s) { return absl::StrCat("[", absl::StrJoin(s, ","), "]"); }

// One node of the flattened graph.
struct Flat {
  std::string name;  // path: subgraph names joined with '/'
  const NirNode* node = nullptr;
  bool top = false;  // belongs to the top-level graph
  std::vector<int> preds, succs;
};

// What a node's output is in IR terms.
struct Value {
  int layer = ir::kNetworkInput;  // producing layer, or the network input
  Shape shape;                    // the NIR shape (no batch, no time)
  bool spike = false;             // 0/1 spikes
  int origin = -1;                // the flat node whose output this is (views pass it on)
};

// Non-firing neuron layers keep multi-bit outputs.
enum class OutBits { kDefault, kFeature, kInput };

Tensor Coef(const std::vector<double>& v, const Shape& shape) {
  if (std::all_of(v.begin(), v.end(), [&](double x) { return x == v[0]; })) return Tensor::Scalar(v[0], TP::DOUBLE);
  Tensor t;
  t.dtype = TP::DOUBLE;
  t.shape = shape;
  t.data = v;
  return t;
}

std::vector<double> Map(const std::vector<double>& a, const std::function<double(double, size_t)>& f) {
  std::vector<double> out(a.size());
  for (size_t i = 0; i < a.size(); ++i) out[i] = f(a[i], i);
  return out;
}

class NirBuilder {
 public:
  NirBuilder(const ImportOptions& o, double dt) : o_(o), dt_(dt) {}

  absl::StatusOr<ir::Workload> Build(const NirFile& file) {
    if (file.root.type != "NIRGraph")
      return absl::InvalidArgumentError(
          absl::StrCat("the top-level node has type '", file.root.type, "', expected NIRGraph"));
    std::vector<int> ins, outs;
    if (absl::Status s = FlattenGraph(file.root, true, &ins, &outs); !s.ok()) return s;
    FindDelayedEdges(ins);
    std::vector<int> order;
    TopoOrder(&order);
    if (absl::Status s = CountReaders(order); !s.ok()) return s;
    std::vector<std::string> top_inputs;
    for (int i : ins) top_inputs.push_back(flat_[i].name);
    if (top_inputs.size() != 1)
      return absl::InvalidArgumentError(absl::StrCat(
          "the graph has ", top_inputs.size(), " Input nodes", top_inputs.empty() ? "" : " (",
          absl::StrJoin(top_inputs, ", "), top_inputs.empty() ? "" : ")",
          "; snnplan supports exactly one network input"));
    values_.resize(flat_.size());
    for (int i : order)
      if (absl::Status s = Process(i); !s.ok()) return s;
    if (absl::Status s = ResolveDelayedInputs(); !s.ok()) return s;
    if (outputs_.empty()) return absl::InvalidArgumentError("the graph has no Output node");
    return Finish(ins[0]);
  }

 private:
  absl::Status NodeError(int i, const std::string& what) const {
    return absl::InvalidArgumentError(
        absl::StrCat("node '", flat_[i].name, "' (", flat_[i].node->type, "): ", what));
  }
  absl::Status OnlyDelayedError(int i) const {
    return NodeError(
        i, "it is reached only through recurrent edges (no path from the Input node leads to it)");
  }
  absl::Status FieldError(int i, const std::string& field, const std::string& what) const {
    return NodeError(i, absl::StrCat("field '", field, "': ", what));
  }

  // ---- graph ------------------------------------------------------------

  // Inlines `g`; `ins`/`outs` receive its Input/Output nodes.
  absl::Status FlattenGraph(const NirNode& g, bool top, std::vector<int>* ins, std::vector<int>* outs) {
    std::map<std::string, std::pair<std::vector<int>, std::vector<int>>> ends;  // entries, exits
    for (const NirNode& c : g.nodes) {
      if (!KnownTypes().count(c.type))
        return absl::InvalidArgumentError(absl::StrCat(
            "node '", c.path, "' has NIR type '", c.type,
            "', which snnplan does not support (supported: ",
            absl::StrJoin(KnownTypes(), ", "), ")"));
      if (c.type == "NIRGraph") {
        std::vector<int> sub_in, sub_out;
        if (absl::Status s = FlattenGraph(c, false, &sub_in, &sub_out); !s.ok()) return s;
        if (sub_in.empty() || sub_out.empty())
          return absl::InvalidArgumentError(
              absl::StrCat("subgraph '", c.path, "' needs an Input and an Output node"));
        ends[c.name] = {sub_in, sub_out};
        continue;
      }
      const int id = static_cast<int>(flat_.size());
      flat_.push_back({c.path, &c, top, {}, {}});
      ends[c.name] = {{id}, {id}};
      if (c.type == "Input") ins->push_back(id);
      if (c.type == "Output") outs->push_back(id);
    }
    std::set<std::pair<int, int>> seen;
    for (const auto& [a, b] : g.edges) {
      auto ia = ends.find(a), ib = ends.find(b);
      if (ia == ends.end() || ib == ends.end())
        return absl::InvalidArgumentError(absl::StrCat(
            "edge '", a, "' -> '", b, "' of ", g.path.empty() ? "the top-level graph" : "subgraph '" + g.path + "'",
            ": no node named '", ia == ends.end() ? a : b, "'"));
      for (int s : ia->second.second)
        for (int d : ib->second.first)
          if (seen.insert({s, d}).second) {  // a repeated edge is one connection
            flat_[s].succs.push_back(d);
            flat_[d].preds.push_back(s);
          }
    }
    return absl::OkStatus();
  }

  // Recurrent connections: the back edges of a depth-first search from the
  // network input (then from nodes it does not reach, in file order) become
  // delayed edges, read one step late. This is how a discrete-time simulator
  // of the graph (snnTorch's import_nir, nirtorch) breaks a cycle: a node
  // evaluated later in the step feeds an earlier one with its previous output.
  void FindDelayedEdges(const std::vector<int>& first_roots) {
    const int n = static_cast<int>(flat_.size());
    std::vector<int> color(n, 0), roots = first_roots;
    for (int i = 0; i < n; ++i) roots.push_back(i);
    for (int root : roots) {
      if (color[root]) continue;
      std::vector<std::pair<int, size_t>> stack = {{root, 0}};
      color[root] = 1;
      while (!stack.empty()) {
        auto& [u, next] = stack.back();
        if (next < flat_[u].succs.size()) {
          int v = flat_[u].succs[next++];
          if (color[v] == 1) delayed_.insert({u, v});
          if (color[v] == 0) {
            color[v] = 1;
            stack.push_back({v, 0});
          }
        } else {
          color[u] = 2;
          stack.pop_back();
        }
      }
    }
  }
  bool Delayed(int from, int to) const { return delayed_.count({from, to}) > 0; }

  // The first producer of node i read at the same step (the one whose shape
  // a sum takes), or -1 when every edge into it is delayed.
  int FirstSameStepPred(int i) const {
    for (int p : flat_[i].preds)
      if (!Delayed(p, i)) return p;
    return -1;
  }

  // The layer id a sum over node i's producers records for producer p: its
  // value, or for a delayed producer (not built yet) a placeholder that
  // ResolveDelayedInputs replaces once every node is built.
  int SumInput(int i, int p) {
    if (!Delayed(p, i)) return values_[p].layer;
    pending_.push_back({p, i});
    return kPendingBase - static_cast<int>(pending_.size() - 1);
  }

  absl::Status ResolveDelayedInputs() {
    for (ir::Layer& l : layers_)
      for (size_t k = 0; k < l.inputs.size(); ++k) {
        if (l.inputs[k] > kPendingBase) continue;
        const auto [p, i] = pending_[static_cast<size_t>(kPendingBase - l.inputs[k])];
        const Value& v = values_[p];
        if (Numel(LayerShape(v)) != Numel(l.out_shape))
          return NodeError(
              i, absl::StrCat("its recurrent input from '", flat_[p].name, "' has shape ",
                              ShapeText(v.shape), ", the other inputs ", ShapeText(l.out_shape),
                              "; several inputs are summed"));
        if (v.layer < 0)
          return NodeError(
              i, absl::StrCat("recurrent input from '", flat_[p].name, "' is not a layer"));
        for (int& c : l.neuron.current_layers)
          if (c == l.inputs[k]) c = v.layer;
        l.input_delayed.resize(l.inputs.size(), 0);
        l.input_delayed[k] = 1;
        l.inputs[k] = v.layer;
      }
    return absl::OkStatus();
  }

  void TopoOrder(std::vector<int>* order) const {
    std::vector<int> indeg(flat_.size());
    std::priority_queue<int, std::vector<int>, std::greater<int>> ready;
    for (size_t i = 0; i < flat_.size(); ++i) {
      for (int p : flat_[i].preds) indeg[i] += !Delayed(p, static_cast<int>(i));
      if (indeg[i] == 0) ready.push(static_cast<int>(i));
    }
    while (!ready.empty()) {
      int u = ready.top();
      ready.pop();
      order->push_back(u);
      for (int v : flat_[u].succs)
        if (!Delayed(u, v) && --indeg[v] == 0) ready.push(v);
    }
  }

  // Delay steps per element (cached); an all-zero delay is a view.
  absl::StatusOr<const std::vector<int64_t>*> DelaySteps(int i) {
    if (auto it = delay_steps_.find(i); it != delay_steps_.end()) return &it->second;
    absl::StatusOr<const NirField*> f = Numeric(i, "delay");
    if (!f.ok()) return f.status();
    std::vector<int64_t> steps;
    for (size_t e = 0; e < (*f)->numbers.size(); ++e) {
      const double d = (*f)->numbers[e];
      const double q = d / dt_;
      const double r = std::nearbyint(q);
      if (!(d >= 0) || !std::isfinite(q) || std::fabs(q - r) > 1e-3 * std::max(1.0, r))
        return FieldError(i, "delay", absl::StrCat("element ", e, " is ", d, " s, not a non-negative multiple of dt = ",
                                                   dt_, " s (set --dt)"));
      if (r > kMaxDelaySteps)
        return FieldError(i, "delay", absl::StrCat("element ", e, " is ", r, " steps of dt (at most ",
                                                   kMaxDelaySteps, " supported)"));
      steps.push_back(static_cast<int64_t>(r));
    }
    return &(delay_steps_[i] = std::move(steps));
  }

  absl::StatusOr<bool> IsView(int i) {
    const Flat& f = flat_[i];
    const std::string& t = f.node->type;
    if (f.preds.size() > 1) return false;  // a sum
    if (t == "Flatten" || ((t == "Input" || t == "Output") && !f.top)) return true;
    if (t == "Delay") {
      absl::StatusOr<const std::vector<int64_t>*> d = DelaySteps(i);
      if (!d.ok()) return d.status();
      return std::all_of((*d)->begin(), (*d)->end(), [](int64_t v) { return v == 0; });
    }
    return false;
  }

  // readers_[n]: nodes that consume node n's output (views pass it on).
  absl::Status CountReaders(const std::vector<int>& order) {
    origin_.assign(flat_.size(), -1);
    readers_.assign(flat_.size(), 0);
    view_.assign(flat_.size(), 0);
    for (int i : order) {
      absl::StatusOr<bool> v = IsView(i);
      if (!v.ok()) return v.status();
      view_[i] = *v;
      origin_[i] = *v && flat_[i].preds.size() == 1 ? origin_[flat_[i].preds[0]] : i;
    }
    for (size_t u = 0; u < flat_.size(); ++u)
      for (int v : flat_[u].succs)
        if (!view_[v]) ++readers_[origin_[u]];
    return absl::OkStatus();
  }

  // ---- fields -------------------------------------------------------------

  absl::StatusOr<const NirField*> Numeric(int i, const std::string& name) const {
    const auto& fields = flat_[i].node->fields;
    auto it = fields.find(name);
    if (it == fields.end()) return NodeError(i, absl::StrCat("missing dataset '", name, "'"));
    if (it->second.is_string) return FieldError(i, name, "holds strings, expected numbers");
    for (size_t e = 0; e < it->second.numbers.size(); ++e)
      if (!std::isfinite(it->second.numbers[e]))
        return FieldError(i, name, absl::StrCat("element ", e, " is ", it->second.numbers[e], " (not a finite number)"));
    return &it->second;
  }
  bool Has(int i, const std::string& name) const { return flat_[i].node->fields.count(name) > 0; }

  // A neuron parameter as n values (a scalar is broadcast); `dflt` when absent
  // and not required.
  absl::StatusOr<std::vector<double>> Param(int i, const std::string& name, int64_t n, const Shape& shape,
                                            std::optional<double> dflt = std::nullopt) const {
    if (!Has(i, name) && dflt) return std::vector<double>(static_cast<size_t>(n), *dflt);
    absl::StatusOr<const NirField*> f = Numeric(i, name);
    if (!f.ok()) return f.status();
    const int64_t m = static_cast<int64_t>((*f)->numbers.size());
    if (m == 1) return std::vector<double>(static_cast<size_t>(n), (*f)->numbers[0]);
    if (m != n)
      return FieldError(i, name, absl::StrCat("has shape ", ShapeText((*f)->shape), " (", m,
                                              " values) but the node's input has shape ", ShapeText(shape), " (", n,
                                              " values)"));
    return (*f)->numbers;
  }

  // An integer hyper-parameter with `count` entries (a scalar or one value is
  // broadcast).
  absl::StatusOr<std::vector<int64_t>> Ints(int i, const std::string& name, size_t count, std::optional<int64_t> dflt,
                                            int64_t min) const {
    if (!Has(i, name)) {
      if (dflt) return std::vector<int64_t>(count, *dflt);
      return NodeError(i, absl::StrCat("missing dataset '", name, "'"));
    }
    absl::StatusOr<const NirField*> f = Numeric(i, name);
    if (!f.ok()) return f.status();
    const auto& v = (*f)->numbers;
    if (v.size() != 1 && v.size() != count)
      return FieldError(i, name, absl::StrCat("has ", v.size(), " values, expected 1 or ", count));
    std::vector<int64_t> out;
    for (size_t k = 0; k < count; ++k) {
      const double x = v[v.size() == 1 ? 0 : k];
      if (x != std::floor(x) || x < static_cast<double>(min) || x > 1e9)
        return FieldError(i, name, absl::StrCat("value ", x, " is not an integer >= ", min));
      out.push_back(static_cast<int64_t>(x));
    }
    return out;
  }

  absl::StatusOr<std::vector<float>> Floats(int i, const std::string& name) const {
    absl::StatusOr<const NirField*> f = Numeric(i, name);
    if (!f.ok()) return f.status();
    return std::vector<float>((*f)->numbers.begin(), (*f)->numbers.end());
  }

  // ---- layers -------------------------------------------------------------

  int AddLayer(ir::Layer l, bool spike = false, OutBits bits = OutBits::kDefault) {
    l.params.loaded = l.params.loaded || o_.load_parameters;
    layers_.push_back(std::move(l));
    spike_like_.push_back(spike);
    out_bits_.push_back(bits);
    return static_cast<int>(layers_.size()) - 1;
  }

  Shape LayerShape(const Value& v) const { return v.layer >= 0 ? layers_[v.layer].out_shape : v.shape; }

  // The node's input: its one producer, or the sum of several.
  absl::StatusOr<Value> Input(int i) {
    const Flat& f = flat_[i];
    if (f.preds.empty()) return NodeError(i, "no edge leads to it (it has no input)");
    if (FirstSameStepPred(i) < 0) return OnlyDelayedError(i);
    if (f.preds.size() == 1) return values_[f.preds[0]];
    std::vector<int> in;
    bool spikes = true;
    const Value& first = values_[FirstSameStepPred(i)];
    for (int p : f.preds) {
      if (Delayed(p, i)) {  // a recurrent current: multi-bit, shape checked when resolved
        in.push_back(SumInput(i, p));
        spikes = false;
        continue;
      }
      const Value& v = values_[p];
      if (Numel(v.shape) != Numel(first.shape))
        return NodeError(i, absl::StrCat("its inputs have different shapes (", ShapeText(first.shape), " from '",
                                         flat_[f.preds[0]].name, "', ", ShapeText(v.shape), " from '", flat_[p].name,
                                         "'); several inputs are summed"));
      in.push_back(v.layer);
      spikes = spikes && v.spike;
    }
    ir::Layer l;
    l.name = absl::StrCat(f.name, "/sum");
    l.op = spikes ? ir::OpKind::kSewAdd : ir::OpKind::kAdd;
    l.inputs = in;
    l.out_shape = LayerShape(first);
    FeatureDims(l.out_shape, &l);
    int id = AddLayer(std::move(l));
    return Value{id, first.shape, false, i};
  }

  absl::Status Process(int i) {
    const std::string& t = flat_[i].node->type;
    absl::StatusOr<Value> v = absl::InternalError("unset");
    if (t == "Input" && flat_[i].top) {
      v = NetworkInput(i);
    } else if (t == "Input" || (t == "Output" && !flat_[i].top)) {
      v = Input(i);
    } else if (t == "Output") {
      v = Output(i);
    } else if (t == "Flatten") {
      v = FlattenNode(i);
    } else if (t == "Affine" || t == "Linear") {
      v = LinearNode(i);
    } else if (t == "Scale") {
      v = ScaleNode(i);
    } else if (t == "Conv1d" || t == "Conv2d") {
      v = ConvNode(i);
    } else if (t == "AvgPool2d" || t == "SumPool2d") {
      v = PoolNode(i);
    } else if (t == "Delay") {
      v = DelayNode(i);
    } else if (IsNeuronType(t)) {
      v = NeuronNode(i);
    }
    if (!v.ok()) return v.status();
    values_[i] = *v;
    values_[i].origin = origin_[i];
    return absl::OkStatus();
  }

  absl::StatusOr<Shape> ShapeField(int i, const std::string& name) const {
    absl::StatusOr<const NirField*> f = Numeric(i, name);
    if (!f.ok()) return f.status();
    if ((*f)->numbers.empty() || (*f)->numbers.size() > 4)
      return FieldError(i, name, absl::StrCat("has ", (*f)->numbers.size(), " dimensions (1 to 4 supported)"));
    Shape s;
    int64_t n = 1;
    for (double d : (*f)->numbers) {
      if (d != std::floor(d) || d < 1 || d > 1e9) return FieldError(i, name, absl::StrCat("dimension ", d, " is not a positive integer"));
      s.push_back(static_cast<int64_t>(d));
      if (__builtin_mul_overflow(n, s.back(), &n) || n > (int64_t{1} << 31))
        return FieldError(i, name, "more than 2^31 elements");
    }
    return s;
  }

  absl::StatusOr<Value> NetworkInput(int i) {
    if (!flat_[i].preds.empty()) return NodeError(i, "an Input node has incoming edges");
    absl::StatusOr<Shape> s = ShapeField(i, "shape");
    if (!s.ok()) return s.status();
    input_shape_ = *s;
    return Value{ir::kNetworkInput, *s, false, i};
  }

  absl::StatusOr<Value> Output(int i) {
    if (!flat_[i].succs.empty()) return NodeError(i, "an Output node has outgoing edges");
    absl::StatusOr<Value> v = Input(i);
    if (!v.ok()) return v.status();
    if (v->layer < 0) return NodeError(i, "it outputs the network input itself (no computation in between)");
    if (Has(i, "shape")) {
      absl::StatusOr<Shape> s = ShapeField(i, "shape");
      if (!s.ok()) return s.status();
      if (Numel(*s) != Numel(v->shape))
        return FieldError(i, "shape", absl::StrCat("is ", ShapeText(*s), " but the node receives ", ShapeText(v->shape)));
    }
    layers_[v->layer].network_output = true;
    outputs_.push_back({flat_[i].name, *v});
    return *v;
  }

  absl::StatusOr<Value> FlattenNode(int i) {
    absl::StatusOr<Value> v = Input(i);
    if (!v.ok()) return v.status();
    const int64_t r = static_cast<int64_t>(v->shape.size());
    absl::StatusOr<const NirField*> sf = Numeric(i, "start_dim");
    if (!sf.ok()) return sf.status();
    absl::StatusOr<const NirField*> ef = Numeric(i, "end_dim");
    if (!ef.ok()) return ef.status();
    if ((*sf)->numbers.size() != 1 || (*ef)->numbers.size() != 1)
      return NodeError(i, "start_dim and end_dim must be single integers");
    double s = (*sf)->numbers[0], e = (*ef)->numbers[0];
    if (s < 0) s += static_cast<double>(r);
    if (e < 0) e += static_cast<double>(r);
    if (s != std::floor(s) || e != std::floor(e) || s < 0 || e >= static_cast<double>(r) || s > e)
      return NodeError(i, absl::StrCat("start_dim ", (*sf)->numbers[0], " / end_dim ", (*ef)->numbers[0],
                                       " do not fit its input of shape ", ShapeText(v->shape),
                                       " (NIR shapes have no batch axis)"));
    Shape out(v->shape.begin(), v->shape.begin() + static_cast<int64_t>(s));
    out.push_back(Numel(Shape(v->shape.begin() + static_cast<int64_t>(s), v->shape.begin() + static_cast<int64_t>(e) + 1)));
    out.insert(out.end(), v->shape.begin() + static_cast<int64_t>(e) + 1, v->shape.end());
    if (Has(i, "input_type")) {
      absl::StatusOr<Shape> it = ShapeField(i, "input_type");
      if (it.ok() && Numel(*it) != Numel(v->shape))
        return FieldError(i, "input_type", absl::StrCat("is ", ShapeText(*it), " but the node receives ", ShapeText(v->shape)));
    }
    Value out_v = *v;
    out_v.shape = out;
    return out_v;
  }

  absl::StatusOr<Value> LinearNode(int i) {
    absl::StatusOr<Value> v = Input(i);
    if (!v.ok()) return v.status();
    absl::StatusOr<const NirField*> w = Numeric(i, "weight");
    if (!w.ok()) return w.status();
    if ((*w)->shape.size() != 2)
      return FieldError(i, "weight", absl::StrCat("has shape ", ShapeText((*w)->shape), ", expected [out, in]"));
    const int64_t k = (*w)->shape[0], c = (*w)->shape[1];
    if (k < 1 || c < 1) return FieldError(i, "weight", "is empty");
    if (Numel(v->shape) != c)
      return FieldError(i, "weight", absl::StrCat("expects ", c, " input features but the node's input has shape ",
                                                  ShapeText(v->shape), " (", Numel(v->shape), " values)"));
    const bool affine = flat_[i].node->type == "Affine";
    std::vector<float> bias;
    if (affine) {
      absl::StatusOr<const NirField*> b = Numeric(i, "bias");
      if (!b.ok()) return b.status();
      if (static_cast<int64_t>((*b)->numbers.size()) != k && (*b)->numbers.size() != 1)
        return FieldError(i, "bias", absl::StrCat("has shape ", ShapeText((*b)->shape), ", expected [", k, "]"));
      for (int64_t j = 0; j < k; ++j) bias.push_back(static_cast<float>((*b)->numbers[(*b)->numbers.size() == 1 ? 0 : j]));
    }
    ir::Layer l;
    l.name = flat_[i].name;
    l.op = ir::OpKind::kLinear;
    l.inputs = {v->layer};
    l.dims.K = k;
    l.dims.C = c;
    l.out_shape = {k};
    l.weight_elements = k * c + (affine ? static_cast<int64_t>(Has(i, "bias") ? flat_[i].node->fields.at("bias").numbers.size() : 0) : 0);
    if (o_.load_parameters) {
      l.params.weights.assign((*w)->numbers.begin(), (*w)->numbers.end());
      l.params.bias = std::move(bias);
    }
    return Value{AddLayer(std::move(l)), {k}, false, i};
  }

  absl::StatusOr<Value> ScaleNode(int i) {
    absl::StatusOr<Value> v = Input(i);
    if (!v.ok()) return v.status();
    const Shape out = LayerShape(*v);
    absl::StatusOr<std::vector<double>> s = Param(i, "scale", Numel(v->shape), v->shape);
    if (!s.ok()) return s.status();
    const int64_t stored = static_cast<int64_t>(flat_[i].node->fields.at("scale").numbers.size());
    ir::PostOp post;
    post.kind = ir::PostOpKind::kAffine;
    if (o_.load_parameters) {
      absl::StatusOr<ir::NeuronParam> p = LayoutParam(Coef(*s, out), out, out);
      if (!p.ok()) return FieldError(i, "scale", std::string(p.status().message()));
      post.scale = std::move(*p);
    }
    // Folded into its producer (as the ONNX importer folds a constant Mul
    // after a conv/linear) when nothing else reads the producer.
    if (v->layer >= 0) {
      ir::Layer& p = layers_[v->layer];
      const bool producer = p.op == ir::OpKind::kConv || p.op == ir::OpKind::kLinear || p.op == ir::OpKind::kScale;
      if (producer && !p.spiking() && !spike_like_[v->layer] && readers_[v->origin] == 1) {
        p.weight_elements += stored > 1 ? stored : 0;
        if (o_.load_parameters) p.params.post.push_back(std::move(post));
        return Value{v->layer, v->shape, false, i};
      }
    }
    ir::Layer l;
    l.name = flat_[i].name;
    l.op = ir::OpKind::kScale;
    l.inputs = {v->layer};
    l.out_shape = out;
    FeatureDims(out, &l);
    l.weight_elements = stored > 1 ? stored : 0;
    if (o_.load_parameters) l.params.post.push_back(std::move(post));
    return Value{AddLayer(std::move(l)), v->shape, false, i};
  }

  absl::StatusOr<Value> ConvNode(int i) {
    absl::StatusOr<Value> v = Input(i);
    if (!v.ok()) return v.status();
    const bool two = flat_[i].node->type == "Conv2d";
    const size_t sp = two ? 2 : 1;
    if (v->shape.size() != sp + 1)
      return NodeError(i, absl::StrCat("its input has shape ", ShapeText(v->shape), ", expected [C",
                                       two ? ", H, W]" : ", N]", " (NIR shapes have no batch axis)"));
    absl::StatusOr<const NirField*> w = Numeric(i, "weight");
    if (!w.ok()) return w.status();
    const Shape& ws = (*w)->shape;
    if (ws.size() != sp + 2 || Numel(ws) < 1)
      return FieldError(i, "weight", absl::StrCat("has shape ", ShapeText(ws), ", expected [out, in/groups",
                                                  two ? ", kH, kW]" : ", k]"));
    absl::StatusOr<std::vector<int64_t>> groups = Ints(i, "groups", 1, 1, 1);
    if (!groups.ok()) return groups.status();
    const int64_t g = (*groups)[0], k_total = ws[0], cg = ws[1];
    if (k_total % g != 0 || v->shape[0] != cg * g)
      return NodeError(i, absl::StrCat("weight ", ShapeText(ws), " with groups = ", g, " does not fit its input of ",
                                       v->shape[0], " channels"));
    absl::StatusOr<std::vector<int64_t>> stride = Ints(i, "stride", sp, 1, 1);
    if (!stride.ok()) return stride.status();
    absl::StatusOr<std::vector<int64_t>> dil = Ints(i, "dilation", sp, 1, 1);
    if (!dil.ok()) return dil.status();
    Shape kernel(ws.begin() + 2, ws.end());
    Shape in(v->shape.begin() + 1, v->shape.end());
    std::vector<int64_t> pad_lo(sp, 0), pad_hi(sp, 0);
    auto pit = flat_[i].node->fields.find("padding");
    if (pit != flat_[i].node->fields.end() && pit->second.is_string) {
      const std::string mode = pit->second.strings.empty() ? "" : pit->second.strings[0];
      if (mode == "same") {
        for (size_t d = 0; d < sp; ++d) {
          if ((*stride)[d] != 1) return FieldError(i, "padding", "'same' needs stride 1 (as in PyTorch)");
          const int64_t total = (*dil)[d] * (kernel[d] - 1);
          pad_lo[d] = total / 2;
          pad_hi[d] = total - total / 2;
        }
      } else if (mode != "valid") {
        return FieldError(i, "padding", absl::StrCat("'", mode, "' is not 'same', 'valid' or integers"));
      }
    } else {
      absl::StatusOr<std::vector<int64_t>> p = Ints(i, "padding", sp, 0, 0);
      if (!p.ok()) return p.status();
      pad_lo = pad_hi = *p;
    }
    if (Has(i, "input_shape") && !flat_[i].node->fields.at("input_shape").numbers.empty()) {
      absl::StatusOr<std::vector<int64_t>> is = Ints(i, "input_shape", sp, std::nullopt, 1);
      if (!is.ok()) return is.status();
      if (Shape(is->begin(), is->end()) != in)
        return FieldError(i, "input_shape", absl::StrCat("is ", ShapeText(*is), " but the node's input is ", ShapeText(v->shape)));
    }
    Shape out = {k_total};
    for (size_t d = 0; d < sp; ++d) {
      const int64_t span = (*dil)[d] * (kernel[d] - 1) + 1;
      const int64_t o = (in[d] + pad_lo[d] + pad_hi[d] - span) / (*stride)[d] + 1;
      if (in[d] + pad_lo[d] + pad_hi[d] < span || o < 1)
        return NodeError(i, absl::StrCat("its kernel (", span, " wide with dilation) does not fit its input ", ShapeText(v->shape)));
      out.push_back(o);
    }
    std::vector<float> bias;
    int64_t bias_n = 0;
    if (Has(i, "bias")) {
      absl::StatusOr<const NirField*> b = Numeric(i, "bias");
      if (!b.ok()) return b.status();
      bias_n = static_cast<int64_t>((*b)->numbers.size());
      if (bias_n != k_total && bias_n != 1)
        return FieldError(i, "bias", absl::StrCat("has shape ", ShapeText((*b)->shape), ", expected [", k_total, "]"));
      for (int64_t j = 0; j < k_total; ++j) bias.push_back(static_cast<float>((*b)->numbers[bias_n == 1 ? 0 : j]));
    }
    ir::Layer l;
    l.name = flat_[i].name;
    l.op = ir::OpKind::kConv;
    l.inputs = {v->layer};
    l.dims.G = g;
    l.dims.K = k_total / g;
    l.dims.C = cg;
    l.dims.FY = two ? kernel[0] : 1;
    l.dims.FX = kernel.back();
    l.dims.OY = two ? out[1] : 1;
    l.dims.OX = out.back();
    l.in_y = two ? in[0] : 1;
    l.in_x = in.back();
    l.window.stride_y = two ? (*stride)[0] : 1;
    l.window.stride_x = stride->back();
    l.window.dilation_y = two ? (*dil)[0] : 1;
    l.window.dilation_x = dil->back();
    l.window.pad_top = two ? pad_lo[0] : 0;
    l.window.pad_bottom = two ? pad_hi[0] : 0;
    l.window.pad_left = pad_lo.back();
    l.window.pad_right = pad_hi.back();
    l.weight_elements = Numel(ws) + bias_n;
    l.out_shape = out;
    if (o_.load_parameters) {
      l.params.weights.assign((*w)->numbers.begin(), (*w)->numbers.end());
      l.params.bias = std::move(bias);
    }
    return Value{AddLayer(std::move(l)), out, false, i};
  }

  absl::StatusOr<Value> PoolNode(int i) {
    absl::StatusOr<Value> v = Input(i);
    if (!v.ok()) return v.status();
    if (v->shape.size() != 3)
      return NodeError(i, absl::StrCat("its input has shape ", ShapeText(v->shape), ", expected [C, H, W]"));
    absl::StatusOr<std::vector<int64_t>> kernel = Ints(i, "kernel_size", 2, std::nullopt, 1);
    if (!kernel.ok()) return kernel.status();
    absl::StatusOr<std::vector<int64_t>> stride = Ints(i, "stride", 2, std::nullopt, 1);
    if (!Has(i, "stride")) stride = *kernel;  // PyTorch: stride defaults to the window
    if (!stride.ok()) return stride.status();
    absl::StatusOr<std::vector<int64_t>> pad = Ints(i, "padding", 2, 0, 0);
    if (!pad.ok()) return pad.status();
    Shape out = {v->shape[0]};
    for (int d = 0; d < 2; ++d) {
      const int64_t span = v->shape[1 + d] + 2 * (*pad)[d];
      if (span < (*kernel)[d] || 2 * (*pad)[d] > (*kernel)[d])
        return NodeError(i, absl::StrCat("window ", ShapeText(*kernel), " with padding ", ShapeText(*pad),
                                         " does not fit its input ", ShapeText(v->shape)));
      out.push_back((span - (*kernel)[d]) / (*stride)[d] + 1);
    }
    ir::Layer l;
    l.name = flat_[i].name;
    l.op = ir::OpKind::kAvgPool;
    l.inputs = {v->layer};
    l.out_shape = out;
    FeatureDims(out, &l);
    l.dims.FY = (*kernel)[0];
    l.dims.FX = (*kernel)[1];
    l.in_y = v->shape[1];
    l.in_x = v->shape[2];
    l.window.stride_y = (*stride)[0];
    l.window.stride_x = (*stride)[1];
    l.window.pad_top = l.window.pad_bottom = (*pad)[0];
    l.window.pad_left = l.window.pad_right = (*pad)[1];
    l.params.count_include_pad = true;  // PyTorch's AvgPool2d default; a sum pool divides by nothing
    if (flat_[i].node->type == "SumPool2d" && o_.load_parameters) {
      ir::PostOp p;
      p.kind = ir::PostOpKind::kAffine;
      p.scale = ir::NeuronParam::Scalar(static_cast<double>(l.dims.FY * l.dims.FX));
      l.params.post.push_back(std::move(p));
    }
    return Value{AddLayer(std::move(l)), out, false, i};
  }

  // ---- neurons ------------------------------------------------------------

  // The layer a neuron of node i attaches to: its producer when nothing else
  // reads it, else a new identity layer (scale 1) or, for several inputs, an
  // add layer over them (their outputs are the neuron's currents).
  struct Host {
    int layer = -1;
    std::vector<int> currents;
  };
  absl::StatusOr<Host> HostFor(int i, Value* in) {
    const Flat& f = flat_[i];
    if (f.preds.empty()) return NodeError(i, "no edge leads to it (it has no input)");
    if (FirstSameStepPred(i) < 0) return OnlyDelayedError(i);
    if (f.preds.size() > 1) {
      Host h;
      const Value& first = values_[FirstSameStepPred(i)];
      for (int p : f.preds) {
        if (Delayed(p, i)) {
          h.currents.push_back(SumInput(i, p));
          continue;
        }
        if (Numel(values_[p].shape) != Numel(first.shape))
          return NodeError(i, absl::StrCat("its inputs have different shapes (", ShapeText(first.shape), " and ",
                                           ShapeText(values_[p].shape), "); several inputs are summed"));
        h.currents.push_back(values_[p].layer);
      }
      ir::Layer l;
      l.name = f.name;
      l.op = ir::OpKind::kAdd;
      l.inputs = h.currents;
      l.out_shape = LayerShape(first);
      FeatureDims(l.out_shape, &l);
      h.layer = AddLayer(std::move(l));
      *in = first;
      return h;
    }
    *in = values_[f.preds[0]];
    if (in->layer >= 0) {
      const ir::Layer& p = layers_[in->layer];
      if (!p.spiking() && !spike_like_[in->layer] && readers_[in->origin] == 1 && !p.network_output)
        return Host{in->layer, {in->layer}};
    }
    ir::Layer l;
    l.name = f.name;
    l.op = ir::OpKind::kScale;  // identity: no post ops
    l.inputs = {in->layer};
    l.out_shape = LayerShape(*in);
    FeatureDims(l.out_shape, &l);
    int id = AddLayer(std::move(l));
    return Host{id, {id}};
  }

  absl::StatusOr<Value> Attach(int i, const Host& h, const Value& in, NeuronModel m, bool firing, OutBits bits,
                               const NeuronFacts* manual) {
    ir::Layer& layer = layers_[h.layer];
    NeuronGroup g;
    g.anchor = flat_[i].name;
    m.shape = layer.out_shape;
    m.initial.assign(static_cast<size_t>(m.states), 0.0);
    m.origin.resize(static_cast<size_t>(m.states));
    std::iota(m.origin.begin(), m.origin.end(), 0);
    g.facts = manual ? *manual : DescribeModel(m);
    g.model = std::move(m);
    absl::StatusOr<ir::Neuron> n = ToIrNeuron(g, layer);
    if (!n.ok()) return NodeError(i, std::string(n.status().message()));
    n->current_layers = h.currents;
    layer.neuron = std::move(*n);
    spike_like_[h.layer] = firing || (bits == OutBits::kInput && in.spike);
    out_bits_[h.layer] = bits;
    return Value{h.layer, in.shape, spike_like_[h.layer], i};
  }

  // The sum of the neuron's currents times `gain`.
  static Poly Currents(int states, int currents, const Tensor& gain) {
    Poly in;
    for (int j = 0; j < currents; ++j) in = PolyContext::Add(in, PolyContext::Variable(states + j));
    return PolyContext::Scale(in, gain);
  }

  absl::StatusOr<Value> NeuronNode(int i) {
    Value in;
    absl::StatusOr<Host> h = HostFor(i, &in);
    if (!h.ok()) return h.status();
    const std::string& t = flat_[i].node->type;
    const Shape out = layers_[h->layer].out_shape;
    const int64_t n = Numel(in.shape);
    const int nc = static_cast<int>(h->currents.size());
    auto param = [&](const std::string& name, std::optional<double> dflt = std::nullopt) {
      return Param(i, name, n, in.shape, dflt);
    };
    // dt / tau per element, checked: tau > 0 and dt <= tau (decay 1 - dt/tau >= 0).
    auto ratio = [&](const std::string& name) -> absl::StatusOr<std::vector<double>> {
      absl::StatusOr<std::vector<double>> tau = param(name);
      if (!tau.ok()) return tau.status();
      for (size_t e = 0; e < tau->size(); ++e) {
        const double x = (*tau)[e];
        if (!(x > 0))
          return FieldError(i, name, absl::StrCat("element ", e, " is ", x, " s (a time constant must be > 0)"));
        if (dt_ > x)
          return FieldError(i, name, absl::StrCat("element ", e, " is ", x, " s, shorter than dt = ", dt_,
                                                  " s: forward Euler would give the negative decay 1 - dt/tau = ",
                                                  1 - dt_ / x, "; pass a smaller --dt"));
      }
      return Map(*tau, [&](double x, size_t) { return dt_ / x; });
    };
    PolyContext ctx;
    NeuronModel m;
    m.currents = nc;
    NeuronFacts facts;
    const Tensor zero = Tensor::Scalar(0.0, TP::DOUBLE), one = Tensor::Scalar(1.0, TP::DOUBLE);
    facts.decay = facts.threshold = facts.syn_decay = facts.reset_amount = zero;
    facts.input_gain = facts.spike_gain = one;
    const bool firing = t == "LIF" || t == "IF" || t == "CubaLIF" || t == "Threshold";
    if (t == "Threshold") {
      absl::StatusOr<std::vector<double>> thr = param("threshold");
      if (!thr.ok()) return thr.status();
      m.states = 0;
      absl::StatusOr<Poly> z = ctx.Heaviside(
          PolyContext::Add(Currents(0, nc, one), PolyContext::Constant(CoefNeg(Coef(*thr, out)))), false);
      if (!z.ok()) return NodeError(i, std::string(z.status().message()));
      m.gates = ctx.atoms();
      m.fire = 0;
      m.output = *z;
      return Attach(i, *h, in, std::move(m), true, OutBits::kDefault, nullptr);
    }
    // The membrane's charge h (its value before any reset), from the old
    // states; CubaLIF/CubaLI also update the synaptic current (state 1).
    Poly charge;
    std::vector<Poly> extra;  // next values of states after the membrane
    std::string kind;
    if (t == "LIF" || t == "LI" || t == "IF" || t == "I") {
      const bool leaky = t == "LIF" || t == "LI";
      absl::StatusOr<std::vector<double>> r = param("r");
      if (!r.ok()) return r.status();
      std::vector<double> decay(static_cast<size_t>(n), 1.0), gain, leak(static_cast<size_t>(n), 0.0);
      if (leaky) {
        absl::StatusOr<std::vector<double>> a = ratio("tau");
        if (!a.ok()) return a.status();
        absl::StatusOr<std::vector<double>> vl = param("v_leak");
        if (!vl.ok()) return vl.status();
        decay = Map(*a, [](double x, size_t) { return 1 - x; });
        gain = Map(*a, [&](double x, size_t e) { return x * (*r)[e]; });
        leak = Map(*a, [&](double x, size_t e) { return x * (*vl)[e]; });
      } else {
        gain = Map(*r, [&](double x, size_t) { return dt_ * x; });
      }
      m.states = 1;
      charge = PolyContext::Add(PolyContext::Add(PolyContext::Scale(PolyContext::Variable(0), Coef(decay, out)),
                                                 Currents(1, nc, Coef(gain, out))),
                                PolyContext::Constant(Coef(leak, out)));
      facts.decay = Coef(decay, out);
      facts.input_gain = Coef(gain, out);
      kind = leaky ? "li" : "i";
    } else {  // CubaLIF, CubaLI
      absl::StatusOr<std::vector<double>> as = ratio("tau_syn");
      if (!as.ok()) return as.status();
      absl::StatusOr<std::vector<double>> am = ratio("tau_mem");
      if (!am.ok()) return am.status();
      absl::StatusOr<std::vector<double>> r = param("r");
      if (!r.ok()) return r.status();
      absl::StatusOr<std::vector<double>> vl = param("v_leak");
      if (!vl.ok()) return vl.status();
      absl::StatusOr<std::vector<double>> w_in = param("w_in", 1.0);
      if (!w_in.ok()) return w_in.status();
      m.states = 2;
      const Tensor syn_decay = Coef(Map(*as, [](double x, size_t) { return 1 - x; }), out);
      const Tensor syn_gain = Coef(Map(*as, [&](double x, size_t e) { return x * (*w_in)[e]; }), out);
      // The synaptic current first; the membrane integrates the updated one.
      Poly syn = PolyContext::Add(PolyContext::Scale(PolyContext::Variable(1), syn_decay), Currents(2, nc, syn_gain));
      const Tensor decay = Coef(Map(*am, [](double x, size_t) { return 1 - x; }), out);
      charge = PolyContext::Add(
          PolyContext::Add(PolyContext::Scale(PolyContext::Variable(0), decay),
                           PolyContext::Scale(syn, Coef(Map(*am, [&](double x, size_t e) { return x * (*r)[e]; }), out))),
          PolyContext::Constant(Coef(Map(*am, [&](double x, size_t e) { return x * (*vl)[e]; }), out)));
      extra.push_back(syn);
      facts.decay = decay;
      facts.syn_decay = syn_decay;
      facts.input_gain = syn_gain;
      kind = "cuba_li";
    }
    if (!firing) {
      m.next = {charge};
      m.next.insert(m.next.end(), extra.begin(), extra.end());
      m.output = charge;  // the (multi-bit) state is the output
      facts.kind = kind;
      return Attach(i, *h, in, std::move(m), false, OutBits::kFeature, &facts);
    }
    absl::StatusOr<std::vector<double>> thr = param("v_threshold");
    if (!thr.ok()) return thr.status();
    absl::StatusOr<std::vector<double>> v_reset = param("v_reset", 0.0);
    if (!v_reset.ok()) return v_reset.status();
    // Fire when the charge exceeds the threshold; the membrane is then set to v_reset.
    absl::StatusOr<Poly> z =
        ctx.Heaviside(PolyContext::Add(charge, PolyContext::Constant(CoefNeg(Coef(*thr, out)))), false);
    if (!z.ok()) return NodeError(i, std::string(z.status().message()));
    absl::StatusOr<Poly> hz = PolyContext::Mul(charge, *z);
    if (!hz.ok()) return NodeError(i, std::string(hz.status().message()));
    Poly next = PolyContext::Add(PolyContext::Add(charge, PolyContext::Neg(*hz)),
                                 PolyContext::Scale(*z, Coef(*v_reset, out)));
    m.gates = ctx.atoms();
    m.fire = 0;
    m.next = {next};
    m.next.insert(m.next.end(), extra.begin(), extra.end());
    m.output = *z;
    return Attach(i, *h, in, std::move(m), true, OutBits::kDefault, nullptr);
  }

  // A delay of d steps: a shift register of max(d) states per element.
  absl::StatusOr<Value> DelayNode(int i) {
    if (view_[i]) return Input(i);  // all delays 0
    Value in;
    absl::StatusOr<Host> h = HostFor(i, &in);
    if (!h.ok()) return h.status();
    absl::StatusOr<const std::vector<int64_t>*> steps = DelaySteps(i);
    if (!steps.ok()) return steps.status();
    const int64_t n = Numel(in.shape);
    std::vector<int64_t> d = **steps;
    if (d.size() == 1) d.assign(static_cast<size_t>(n), d[0]);
    if (static_cast<int64_t>(d.size()) != n)
      return FieldError(i, "delay", absl::StrCat("has ", d.size(), " values but the node's input has shape ",
                                                 ShapeText(in.shape)));
    const int64_t depth = *std::max_element(d.begin(), d.end());
    if (depth * n > (int64_t{1} << 24))
      return FieldError(i, "delay", absl::StrCat(depth, " steps for ", n, " elements is too large"));
    const Shape out = layers_[h->layer].out_shape;
    const int nc = static_cast<int>(h->currents.size());
    const Tensor one = Tensor::Scalar(1.0, TP::DOUBLE), zero = Tensor::Scalar(0.0, TP::DOUBLE);
    NeuronModel m;
    m.states = static_cast<int>(depth);
    m.currents = nc;
    m.next.push_back(Currents(m.states, nc, one));
    for (int s = 1; s < m.states; ++s) m.next.push_back(PolyContext::Variable(s - 1));
    auto select = [&](int64_t steps_wanted) {
      std::vector<double> c(static_cast<size_t>(n));
      for (int64_t e = 0; e < n; ++e) c[e] = d[e] == steps_wanted ? 1.0 : 0.0;
      return Coef(c, out);
    };
    m.output = Currents(m.states, nc, select(0));
    for (int s = 0; s < m.states; ++s)
      m.output = PolyContext::Add(m.output, PolyContext::Scale(PolyContext::Variable(s), select(s + 1)));
    NeuronFacts facts;
    facts.kind = "delay";
    facts.decay = facts.threshold = facts.syn_decay = facts.reset_amount = zero;
    facts.input_gain = facts.spike_gain = one;
    return Attach(i, *h, in, std::move(m), false, OutBits::kInput, &facts);
  }

  // ---- workload -----------------------------------------------------------

  absl::StatusOr<ir::Workload> Finish(int input_node) {
    ir::Workload w;
    w.timesteps = *o_.timesteps;
    w.batch = o_.batch.value_or(1);
    w.time_in_graph = false;  // NIR has no time axis: like a single-step export run T times
    w.dt_seconds = dt_;
    for (ir::Layer& l : layers_) {
      l.dims.T = w.timesteps;
      l.dims.B = 1;
    }
    w.layers = std::move(layers_);
    if (absl::Status s = ApplyBlockOptions(o_, &w); !s.ok()) return s;
    SetLayerPrecisions(o_, spike_like_, &w.layers);
    for (size_t k = 0; k < w.layers.size(); ++k) {
      ir::Precision& p = w.layers[k].precision;
      if (out_bits_[k] == OutBits::kFeature) p.output_bits = o_.feature_bits;
      if (out_bits_[k] == OutBits::kInput)
        p.output_bits = w.layers[k].op == ir::OpKind::kScale ? p.input_bits : o_.feature_bits;
    }
    if (absl::Status s = CheckWorkloadLimits(w); !s.ok()) return s;
    ir::Binding in;
    in.name = flat_[input_node].name;
    in.kind = ir::BindingKind::kNetworkInput;
    in.steps = ir::BindingSteps::kOne;
    in.shape = {w.batch};
    in.shape.insert(in.shape.end(), input_shape_.begin(), input_shape_.end());
    w.inputs.push_back(std::move(in));
    for (const auto& [name, v] : outputs_) {
      ir::Binding b;
      b.name = name;
      b.kind = ir::BindingKind::kLayerOutput;
      b.steps = ir::BindingSteps::kOne;
      b.layer = v.layer;
      b.shape = {w.batch};
      b.shape.insert(b.shape.end(), v.shape.begin(), v.shape.end());
      w.outputs.push_back(std::move(b));
    }
    return w;
  }

  static constexpr int64_t kMaxDelaySteps = 4096;

  const ImportOptions& o_;
  const double dt_;
  std::vector<Flat> flat_;
  std::vector<int> origin_, readers_;
  std::vector<char> view_;
  std::map<int, std::vector<int64_t>> delay_steps_;
  std::set<std::pair<int, int>> delayed_;     // (from, to) edges read one step late
  std::vector<std::pair<int, int>> pending_;  // (producer, consumer) of each placeholder
  static constexpr int kPendingBase = -1000;  // placeholder ids: kPendingBase - index
  std::vector<Value> values_;
  std::vector<ir::Layer> layers_;
  std::vector<bool> spike_like_;
  std::vector<OutBits> out_bits_;
  Shape input_shape_;
  std::vector<std::pair<std::string, Value>> outputs_;
};

// NIR format versions this importer reads: 0.x and 1.x (nir.write stores
// the writing package's version, e.g. "1.0.8.dev9+g7232ada").
absl::Status CheckVersion(const std::string& version) {
  if (version.empty())
    return absl::InvalidArgumentError("no 'version' dataset: not a file written by nir.write");
  size_t digits = 0;
  while (digits < version.size() && std::isdigit(static_cast<unsigned char>(version[digits]))) ++digits;
  if (digits == 0 || digits > 4 || (digits < version.size() && version[digits] != '.'))
    return absl::InvalidArgumentError(absl::StrCat("unreadable NIR version '", version, "'"));
  const int major = std::stoi(version.substr(0, digits));
  if (major > 1)
    return absl::InvalidArgumentError(absl::StrCat("NIR version '", version,
                                                   "' is not supported (snnplan reads NIR 0.x and 1.x files)"));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ir::Workload> ImportNir(std::string_view bytes, const ImportOptions& options) {
  if (!options.timesteps)
    return absl::InvalidArgumentError("NIR has no time axis: pass --timesteps N (the number of dt steps to run)");
  if (!options.input_shapes.empty())
    return absl::InvalidArgumentError("--input-shape does not apply to NIR files (the Input node fixes the shape)");
  const double dt = options.dt_seconds.value_or(kDefaultNirDtSeconds);
  if (!(dt > 0) || !std::isfinite(dt))
    return absl::InvalidArgumentError(absl::StrCat("--dt ", dt, ": the time step must be a positive number of seconds"));
  absl::StatusOr<NirFile> file = ReadNirImage(bytes);
  if (!file.ok()) return file.status();
  if (absl::Status s = CheckVersion(file->version); !s.ok()) return s;
  return NirBuilder(options, dt).Build(*file);
}

}  // namespace snnplan::importer::internal
