// Executes an ir::Workload on the CPU (snnplan run): layer by layer over all
// time steps of a layer at once (one batched convolution for T x B frames),
// then the layer's neuron stepped through time element by element, freeing
// each layer's output when its last consumer has run. The layers of a
// recurrent cycle run as one unit, one timestep at a time.
#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>
#include <queue>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "layer_math.h"
#include "parallel.h"
#include "snnplan/runtime.h"

namespace snnplan::runtime {
namespace {

using internal::CompiledNeuron;
using internal::Elements;

struct LayerValues {
  std::vector<float> data;  // [steps][batch][elements]
  int64_t steps = 0;
};

class Executor {
 public:
  Executor(const ir::Workload& w, const RunOptions& o) : w_(w), opt_(o) {}

  absl::StatusOr<RunResult> Run(const std::map<std::string, Array>& inputs) {
    if (absl::Status s = Plan(inputs); !s.ok()) return s;
    const int64_t layers = static_cast<int64_t>(w_.layers.size());
    int64_t done = 0;
    for (const std::vector<int>& unit : Units()) {
      if (opt_.cancel != nullptr && opt_.cancel->load()) return absl::CancelledError("run interrupted");
      if (absl::Status s = RunUnit(unit); !s.ok()) return s;
      done += static_cast<int64_t>(unit.size());
      if (opt_.progress) opt_.progress(done, layers);
    }
    return Collect();
  }

 private:
  absl::Status Error(const std::string& what) const { return absl::InvalidArgumentError(what); }

  // Execution units in a dependency order: one layer, or the layers of one
  // recurrent cycle (joined by any edge between two of them), which step
  // together. Ties go to the lowest layer id, so the order is the IR's when
  // there is no recurrence.
  std::vector<std::vector<int>> Units() const {
    const int n = static_cast<int>(w_.layers.size());
    std::vector<int> unit(n);
    std::iota(unit.begin(), unit.end(), 0);
    std::function<int(int)> find = [&](int x) {
      return unit[x] == x ? x : unit[x] = find(unit[x]);
    };
    for (int c = 0; c < n; ++c)
      for (int p : w_.layers[c].inputs)
        if (p >= 0 && recurrent_[c] && recurrent_[p]) unit[find(c)] = find(p);
    std::vector<std::vector<int>> members(n);
    for (int l = 0; l < n; ++l) members[find(l)].push_back(l);
    std::vector<int> indegree(n, 0);
    std::vector<std::vector<int>> succs(n);
    for (int c = 0; c < n; ++c)
      for (int p : w_.layers[c].inputs)
        if (p >= 0 && find(p) != find(c)) {
          succs[find(p)].push_back(find(c));
          ++indegree[find(c)];
        }
    std::priority_queue<int, std::vector<int>, std::greater<int>> ready;  // root = lowest member id
    for (int r = 0; r < n; ++r)
      if (find(r) == r && indegree[r] == 0) ready.push(r);
    std::vector<std::vector<int>> order;
    while (!ready.empty()) {
      const int r = ready.top();
      ready.pop();
      order.push_back(members[r]);
      for (int s : succs[r])
        if (--indegree[s] == 0) ready.push(s);
    }
    return order;
  }

  absl::Status RunUnit(const std::vector<int>& unit) {
    const bool stepped = unit.size() > 1 || w_.layers[unit[0]].has_delayed_input();
    for (int64_t t = 0; t < (stepped ? T_ : 1); ++t)
      for (int id : unit)
        if (absl::Status s = Steps(id, stepped ? t : 0, stepped ? t + 1 : w_.layers[id].dims.T);
            !s.ok())
          return s;
    for (int id : unit) Finish(id);
    return absl::OkStatus();
  }

  // Steps to run, the network input, state inputs, and which layers'
  // outputs and states the graph outputs need.
  absl::Status Plan(const std::map<std::string, Array>& inputs) {
    B_ = w_.batch;
    T_ = w_.timesteps;
    if (T_ < 1) return Error("timesteps must be >= 1");
    for (const ir::Layer& l : w_.layers)
      if (l.has_weights() && !l.params.loaded)
        return Error(absl::StrCat("layer ", l.name, ": parameters not loaded"));
    int network = 0;
    for (const ir::Binding& b : w_.inputs) {
      auto it = inputs.find(b.name);
      if (b.kind == ir::BindingKind::kNetworkInput) {
        if (++network > 1) return Error("the model reads several network inputs; run supports one");
        if (it == inputs.end()) {
          std::vector<std::string> given;
          for (const auto& [name, a] : inputs) given.push_back(name);
          return Error(absl::StrCat("no input named '", b.name, "' was given (given: ",
                                    given.empty() ? "nothing" : absl::StrJoin(given, ", "), ")"));
        }
        if (absl::Status s = NetworkInput(b, it->second); !s.ok()) return s;
      } else if (b.kind == ir::BindingKind::kState && it != inputs.end()) {
        initial_states_[{b.layer, b.state}] = &it->second;
      } else if (b.kind == ir::BindingKind::kPreviousOutput && it != inputs.end()) {
        const int64_t want = B_ * Elements(w_.layers[b.layer]);
        if (static_cast<int64_t>(it->second.values.size()) != want)
          return Error(absl::StrCat("input '", b.name, "' (layer ", w_.layers[b.layer].name,
                                    "'s output before step 0) holds ", it->second.values.size(),
                                    " values, expected ", want));
        initial_outputs_[b.layer] = &it->second;
      }
    }
    for (const auto& entry : inputs) {
      const std::string& name = entry.first;  // (clang 14 lambdas cannot capture structured bindings)
      // A reference file (inputs and expected outputs together) may be
      // given as is: keys naming graph outputs are not inputs and are skipped.
      auto named = [&](const ir::Binding& b) { return b.name == name; };
      bool known = std::any_of(w_.inputs.begin(), w_.inputs.end(), named) ||
                   std::any_of(w_.outputs.begin(), w_.outputs.end(), named);
      if (!known) {
        std::vector<std::string> names;
        for (const ir::Binding& b : w_.inputs) names.push_back(b.name);
        return Error(absl::StrCat("input '", name, "' is not a graph input (inputs: ", absl::StrJoin(names, ", "), ")"));
      }
    }
    recurrent_ = ir::RecurrentLayers(w_);
    for (size_t l = 0; l < w_.layers.size(); ++l)
      if ((recurrent_[l] || w_.layers[l].has_delayed_input()) &&
          (w_.layers[l].op == ir::OpKind::kTimeMean || w_.layers[l].dims.T != T_))
        return Error(absl::StrCat("layer ", w_.layers[l].name,
                                  ": a recurrent or delayed layer must run every step"));
    int64_t widest = 0;
    for (const ir::Layer& l : w_.layers) widest = std::max(widest, Elements(l));
    // What a delayed input reads at step 0 (every cycle has a delayed input).
    if (std::any_of(w_.layers.begin(), w_.layers.end(),
                    [](const ir::Layer& l) { return l.has_delayed_input(); }))
      zeros_.assign(static_cast<size_t>(B_ * widest), 0.0f);
    uses_.assign(w_.layers.size(), 0);
    for (const ir::Layer& l : w_.layers)
      for (int src : l.inputs)
        if (src >= 0) ++uses_[src];
    keep_.assign(w_.layers.size(), 0);
    record_states_.assign(w_.layers.size(), 0);
    record_currents_.assign(w_.layers.size(), 0);
    for (const ir::Binding& b : w_.outputs) {
      if (b.kind == ir::BindingKind::kLayerOutput) keep_[b.layer] = 1;
      if (b.kind == ir::BindingKind::kState) record_states_[b.layer] = 1;
      if (b.kind == ir::BindingKind::kLayerCurrent) record_currents_[b.layer] = 1;
    }
    values_.resize(w_.layers.size());
    currents_.resize(w_.layers.size());
    states_.resize(w_.layers.size());
    if (opt_.activity) activity_.resize(w_.layers.size());
    return absl::OkStatus();
  }

  // The network input as [T][B][elements per sample].
  absl::Status NetworkInput(const ir::Binding& b, const Array& a) {
    int64_t per = 1, n = 1;
    for (int64_t d : a.shape) n *= d;
    const int64_t steps = T_;
    // Per-sample elements: the declared shape without its leading batch (and time) axes.
    int64_t declared = 1;
    for (int64_t d : b.shape) declared *= d;
    // A static input (no time axis; the graph repeats it over the steps)
    // is given once and read at every step.
    const bool repeated = b.steps == ir::BindingSteps::kNone;
    per = declared / (w_.time_in_graph && !repeated ? T_ * B_ : B_);
    const int64_t given_steps = repeated ? 1 : steps;
    if (per <= 0 || n != per * given_steps * B_)
      return Error(absl::StrCat(
          "input '", b.name, "' holds ", n, " values (shape [", absl::StrJoin(a.shape, ","),
          "]); the model needs ", given_steps, " steps x ", B_, " samples x ", per,
          repeated           ? " (the graph repeats it over time)"
          : w_.time_in_graph ? ""
                             : " (single-step export: stack the steps on a leading axis)"));
    input_.clear();
    for (int64_t t = 0; t < (repeated ? steps : 1); ++t)
      input_.insert(input_.end(), a.values.begin(), a.values.end());
    input_per_ = per;
    return absl::OkStatus();
  }

  // The values input k of layer l reads at step t: a delayed input reads
  // its producer's step t-1; at t = 0 the given output before step 0, else zeros.
  const float* SourceAt(const ir::Layer& l, size_t k, int64_t t) {
    if (!l.delayed(k)) return Source(l.inputs[k], t);
    if (t > 0) return Source(l.inputs[k], t - 1);
    if (auto it = initial_outputs_.find(l.inputs[k]); it != initial_outputs_.end())
      return it->second->values.data();
    return zeros_.data();  // sized for any layer in Plan
  }
  // The values current j of a neuron reads: current layers are the host's
  // inputs when it sums several (a delayed one keeps its delay).
  const float* CurrentAt(const ir::Layer& l, int j, int64_t t) {
    if (l.neuron.current_layers == l.inputs) return SourceAt(l, static_cast<size_t>(j), t);
    return Source(l.neuron.current_layers[j], t);
  }

  // The per-step values of layer `src` (or the network input).
  const float* Source(int src, int64_t t) const {
    if (src < 0) return input_.data() + t * B_ * input_per_;
    const LayerValues& v = values_[src];
    int64_t e = Elements(w_.layers[src]);
    return v.data.data() + std::min(t, v.steps - 1) * B_ * e;
  }
  int64_t SourceElements(int src) const { return src < 0 ? input_per_ : Elements(w_.layers[src]); }

  // Input activity: the fraction of non-zero input values per step.
  void RecordActivity(int id, int64_t steps) {
    const ir::Layer& l = w_.layers[id];
    LayerActivity& a = activity_[id];
    a.layer = l.name;
    a.nonzero.assign(static_cast<size_t>(steps), 0);
    a.total.assign(static_cast<size_t>(steps), 0);
    const bool currents = l.spiking() && l.neuron.current_layers.size() > 1;
    const size_t count = currents ? l.neuron.current_layers.size() : l.inputs.size();
    for (int64_t t = 0; t < steps; ++t)
      for (size_t k = 0; k < count; ++k) {
        const int src = currents ? l.neuron.current_layers[k] : l.inputs[k];
        const int64_t in_steps = src < 0 ? T_ : values_[src].steps;
        // A time mean reads every step of its input at once.
        for (int64_t u = l.op == ir::OpKind::kTimeMean ? 0 : t; u < (l.op == ir::OpKind::kTimeMean ? in_steps : t + 1); ++u) {
          const float* p = currents ? CurrentAt(l, static_cast<int>(k), u) : SourceAt(l, k, u);
          const int64_t n = B_ * SourceElements(src);
          a.nonzero[t] += n - std::count(p, p + n, 0.0f);
          a.total[t] += n;
        }
      }
  }

  // Computes steps [t0, t1) of layer id into its output (allocated for all
  // its steps at t0 = 0).
  absl::Status Steps(int id, int64_t t0, int64_t t1) {
    const ir::Layer& l = w_.layers[id];
    const int64_t e = Elements(l), n = B_ * e;
    LayerValues& out = values_[id];
    if (t0 == 0) {
      out.steps = l.dims.T;
      out.data.assign(static_cast<size_t>(l.dims.T * n), 0.0f);
      if (record_currents_[id]) currents_[id] = out;
    }
    float* y = out.data.data() + t0 * n;
    const bool current_sum = l.spiking() && l.neuron.current_layers.size() > 1;
    if (!current_sum)
      if (absl::Status s = Compute(l, t0, t1 - t0, y); !s.ok())
        return Error(absl::StrCat("layer ", l.name, ": ", s.message()));
    if (record_currents_[id]) std::copy(y, y + (t1 - t0) * n, currents_[id].data.data() + t0 * n);
    if (l.spiking())
      if (absl::Status s = Neuron(id, l, t0, t1, y); !s.ok())
        return Error(absl::StrCat("layer ", l.name, ": ", s.message()));
    return absl::OkStatus();
  }

  // After every step of layer id: its activity, and the inputs it was the
  // last reader of are freed.
  void Finish(int id) {
    const ir::Layer& l = w_.layers[id];
    if (opt_.activity) RecordActivity(id, l.dims.T);
    for (int src : l.inputs)
      if (src >= 0 && --uses_[src] == 0 && !keep_[src]) values_[src] = LayerValues{};
  }

  // The layer's own computation for steps [t0, t0 + steps), then its post-ops.
  absl::Status Compute(const ir::Layer& l, int64_t t0, int64_t steps, float* y) {
    const int64_t e = Elements(l);
    const int threads = opt_.threads;
    // All steps of input k, [steps][B][elements]: the source's own buffer
    // when it holds exactly these steps, else a copy (a layer after a time
    // mean reads its one step at every step; a delayed or stepped read).
    std::vector<float> copy;
    auto contiguous_input = [&](size_t k) -> const float* {
      const int src = l.inputs[k];
      const int64_t held = src < 0 ? T_ : values_[src].steps;
      if (held == steps && t0 == 0 && !l.delayed(k)) return Source(src, 0);
      const int64_t n = SourceElements(src);
      copy.clear();
      copy.reserve(static_cast<size_t>(steps * B_ * n));
      for (int64_t t = t0; t < t0 + steps; ++t) {
        const float* p = SourceAt(l, k, t);
        copy.insert(copy.end(), p, p + B_ * n);
      }
      return copy.data();
    };
    switch (l.op) {
      case ir::OpKind::kConv: {
        const float* x = contiguous_input(0);
        const ConvGeometry g = internal::ConvGeometryOf(l, steps * B_);
        if (absl::Status s = Conv2d(g, x, l.params.weights.data(),
                                    l.params.bias.empty() ? nullptr : l.params.bias.data(), y, threads);
            !s.ok())
          return s;
        break;
      }
      case ir::OpKind::kLinear: {
        const float* x = contiguous_input(0);
        const int64_t size = steps * B_ * SourceElements(l.inputs[0]);
        const int64_t rows = size / l.dims.C;
        if (rows * l.dims.C != size) return Error("input size is not a multiple of the features");
        Linear(rows, l.dims.C, l.dims.K, x, l.params.weights.data(),
               l.params.bias.empty() ? nullptr : l.params.bias.data(), y, threads);
        break;
      }
      case ir::OpKind::kMaxPool:
      case ir::OpKind::kAvgPool: {
        const float* x = contiguous_input(0);
        const PoolGeometry g = internal::PoolGeometryOf(l, steps * B_);
        absl::Status s = l.op == ir::OpKind::kMaxPool ? MaxPool2d(g, x, y, threads)
                                                      : AvgPool2d(g, x, y, threads);
        if (!s.ok()) return s;
        break;
      }
      case ir::OpKind::kGlobalAvgPool: {
        const float* x = contiguous_input(0);
        GlobalAvgPool(steps * B_, l.dims.K, l.dims.FY * l.dims.FX, x, y);
        break;
      }
      case ir::OpKind::kTimeMean: {
        // The mean over all T steps of the input.
        int src = l.inputs[0];
        const int64_t in_steps = src < 0 ? T_ : values_[src].steps;
        std::vector<double> acc(static_cast<size_t>(B_ * e), 0.0);
        for (int64_t t = 0; t < in_steps; ++t) {
          const float* p = Source(src, t);
          for (int64_t i = 0; i < B_ * e; ++i) acc[i] += p[i];
        }
        for (int64_t i = 0; i < B_ * e; ++i) y[i] = static_cast<float>(acc[i] / static_cast<double>(in_steps));
        // The layer keeps the IR's T steps (the planner prices it so), and
        // every one holds the mean: consumers read step 0, a graph output
        // bound to the layer's last step reads the same value.
        for (int64_t t = 1; t < steps; ++t) std::copy(y, y + B_ * e, y + t * B_ * e);
        break;
      }
      case ir::OpKind::kAdd:
      case ir::OpKind::kSewAdd:
      case ir::OpKind::kSewOr:
      case ir::OpKind::kSewAnd:
      case ir::OpKind::kSewIAnd: {
        for (int64_t t = 0; t < steps; ++t) {
          float* out = y + t * B_ * e;
          std::vector<const float*> in;
          for (size_t k = 0; k < l.inputs.size(); ++k) in.push_back(SourceAt(l, k, t0 + t));
          internal::Join(l.op, in, B_ * e, out);
        }
        break;
      }
      case ir::OpKind::kRelu:
      case ir::OpKind::kScale:
      case ir::OpKind::kBatchNorm: {
        for (int64_t t = 0; t < steps; ++t)
          std::copy_n(SourceAt(l, 0, t0 + t), B_ * e, y + t * B_ * e);
        break;
      }
    }
    return PostOps(l, steps, y);
  }

  absl::Status PostOps(const ir::Layer& l, int64_t steps, float* y) const {
    internal::PostOps(l, steps * B_, y);
    return absl::OkStatus();
  }

  // Steps the layer's neuron through steps [t0, t1) (its state carried from
  // t0 - 1); its output y (from step t0) becomes the spikes.
  absl::Status Neuron(int id, const ir::Layer& l, int64_t t0, int64_t t1, float* y0) {
    const ir::NeuronDynamics& d = l.neuron.dynamics;
    const int64_t e = Elements(l);
    const CompiledNeuron c = internal::CompileNeuron(l);
    // Currents: the layer's own output, or each summed layer's output.
    std::vector<const float*> cur_step(d.currents);
    // The layer's own current is read in place: each element's current is
    // read before its output (the spike) overwrites it.
    const float* own = y0;
    const int64_t n = B_ * e;
    std::vector<double>& state = neuron_state_[id];
    if (t0 == 0) state.assign(static_cast<size_t>(n * d.states), 0.0);
    for (int s = 0; s < d.states && t0 == 0; ++s) {
      auto it = initial_states_.find({id, s});
      if (it != initial_states_.end()) {
        if (static_cast<int64_t>(it->second->values.size()) != n)
          return Error(absl::StrCat("the initial state ", s, " holds ", it->second->values.size(), " values, expected ", n));
        for (int64_t i = 0; i < n; ++i) state[i * d.states + s] = it->second->values[i];
      } else {
        for (int64_t i = 0; i < n; ++i) state[i * d.states + s] = d.initial.empty() ? 0.0 : d.initial[s];
      }
    }
    if (record_states_[id] && t0 == 0)
      states_[id].assign(static_cast<size_t>(l.dims.T * n * d.states), 0.0f);
    const bool current_sum = l.neuron.current_layers.size() > 1;
    for (int64_t t = t0; t < t1; ++t) {
      for (int j = 0; j < d.currents; ++j)
        cur_step[j] = current_sum ? CurrentAt(l, j, t) : own + (t - t0) * n;
      float* y = y0 + (t - t0) * n;
      float* rec = record_states_[id] ? states_[id].data() + t * n * d.states : nullptr;
      // Fixed chunks of neurons: each neuron's arithmetic is independent,
      // so any thread count gives the same bytes.
      constexpr int64_t kChunk = 4096;
      internal::ParallelFor((n + kChunk - 1) / kChunk, opt_.threads, [&](int64_t item, int) {
        std::vector<double> vars(static_cast<size_t>(d.states + d.currents));
        std::vector<double> next(static_cast<size_t>(d.states));
        std::vector<float> currents(static_cast<size_t>(d.currents));
        for (int64_t i = item * kChunk, hi = std::min(n, (item + 1) * kChunk); i < hi; ++i) {
          for (int j = 0; j < d.currents; ++j) currents[j] = cur_step[j][i];
          y[i] = internal::NeuronStep(c, i % e, state.data() + i * d.states, currents.data(),
                                      vars.data(), next.data(), rec ? rec + i * d.states : nullptr);
        }
      });
    }
    if (t1 == l.dims.T) neuron_state_.erase(id);
    return absl::OkStatus();
  }

  const LayerValues& Recorded(const ir::Binding& b) const {
    return b.kind == ir::BindingKind::kLayerCurrent ? currents_[b.layer] : values_[b.layer];
  }

  absl::StatusOr<RunResult> Collect() {
    RunResult r;
    r.timesteps = T_;
    if (opt_.activity) r.activity = std::move(activity_);
    for (const ir::Binding& b : w_.outputs) {
      if (b.kind == ir::BindingKind::kNotProduced) {
        r.not_produced.push_back(absl::StrCat(b.name, ": ", b.why));
        continue;
      }
      const ir::Layer& l = w_.layers[b.layer];
      const int64_t n = B_ * Elements(l);
      const int64_t have = b.kind == ir::BindingKind::kState ? static_cast<int64_t>(states_[b.layer].size()) /
                                                                   std::max(1, l.neuron.dynamics.states) / std::max<int64_t>(1, n)
                                                             : Recorded(b).steps;
      absl::StatusOr<Array> a = internal::OutputArray(
          w_, b, b.kind == ir::BindingKind::kState ? states_[b.layer] : Recorded(b).data, have);
      if (!a.ok()) return a.status();
      r.outputs[b.name] = std::move(*a);
    }
    return r;
  }

  const ir::Workload& w_;
  RunOptions opt_;
  int64_t T_ = 1, B_ = 1;
  std::vector<float> input_;
  int64_t input_per_ = 0;
  std::map<std::pair<int, int>, const Array*> initial_states_;
  std::map<int, const Array*> initial_outputs_;  // layer -> its output before step 0 (given)
  std::vector<int> uses_;
  std::vector<char> keep_, record_states_, record_currents_;
  std::vector<LayerValues> values_;
  std::vector<LayerValues> currents_;  // per layer: its value before the neuron, when an output
  std::vector<std::vector<float>> states_;  // per layer: [steps][B*elements][states]
  std::vector<LayerActivity> activity_;     // per layer, when requested
  std::vector<bool> recurrent_;             // per layer: on a recurrent cycle
  std::vector<float> zeros_;                // what a delayed input reads at step 0
  std::map<int, std::vector<double>>
      neuron_state_;  // per layer: [B*elements][states], carried across steps
};

}  // namespace

absl::StatusOr<RunResult> RunWorkload(const ir::Workload& w, const std::map<std::string, Array>& inputs,
                                      const RunOptions& options) {
  return Executor(w, options).Run(inputs);
}

}  // namespace snnplan::runtime
