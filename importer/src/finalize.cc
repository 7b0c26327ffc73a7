#include "finalize.h"

#include <algorithm>
#include <fstream>
#include <functional>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "nlohmann/json.hpp"
#include "snnplan/input_file.h"

namespace snnplan::importer::internal {
namespace {

// --blocks: {layer name: block id}. A block id is an integer from 0 to the
// number of layers - 1 (each layer its own block at most), so a huge id can
// neither allocate nor overflow; every error names the JSON path.
absl::Status ApplyBlocksFile(const std::string& path, std::vector<ir::Layer>* layers) {
  auto error = [&](const std::string& what) {
    return absl::InvalidArgumentError(absl::StrCat("--blocks ", path, ": ", what));
  };
  absl::StatusOr<std::string> text = ReadInputFile(path, "JSON file", kMaxJsonFileBytes);
  if (!text.ok())
    return absl::Status(text.status().code(), absl::StrCat("--blocks ", text.status().message()));
  nlohmann::json j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return error("expected a JSON object {layer name: block id}");
  const int64_t max_id = static_cast<int64_t>(layers->size()) - 1;
  std::map<std::string, int> ids;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const nlohmann::json& v = it.value();
    const std::string where = absl::StrCat("block id of '", it.key(), "' (", v.dump(), ")");
    if (!v.is_number_integer())
      return error(absl::StrCat(where, " is not an integer"));
    if (v.is_number_unsigned() ? v.get<uint64_t>() > static_cast<uint64_t>(max_id)
                               : v.get<int64_t>() < 0 || v.get<int64_t>() > max_id)
      return error(absl::StrCat(where, " is outside 0..", max_id, " (the model has ",
                                layers->size(), " layers)"));
    ids[it.key()] = static_cast<int>(v.get<int64_t>());
  }
  for (ir::Layer& l : *layers)
    if (auto it = ids.find(l.name); it != ids.end()) {
      l.block = it->second;
      ids.erase(it);
    }
  if (!ids.empty()) return error(absl::StrCat("no layer named '", ids.begin()->first, "'"));
  return absl::OkStatus();
}

void SetPrecisions(const ImportOptions& o, const std::vector<bool>& spike_like,
                   std::vector<ir::Layer>* layers) {
  // A delayed (recurrent) producer comes later in the order: a second pass
  // reads its output precision once it is set.
  const bool recurrent = std::any_of(layers->begin(), layers->end(),
                                     [](const ir::Layer& l) { return l.has_delayed_input(); });
  for (int pass = 0; pass < (recurrent ? 2 : 1); ++pass)
    for (ir::Layer& l : *layers) {
      ir::Precision& p = l.precision;
      p.weight_bits = o.weight_bits;
      p.state_bits = o.state_bits;
      p.accumulator_bits = o.accumulator_bits;
      int in_bits = 1;
      bool spikes_in = true;
      for (int src : l.inputs) {
        int b = src == ir::kNetworkInput ? o.input_bits : (*layers)[src].precision.output_bits;
        in_bits = std::max(in_bits, b);
        if (src == ir::kNetworkInput || !spike_like[src]) spikes_in = false;
      }
      p.input_bits = in_bits;
      if (l.spiking())
        p.output_bits = 1;
      else if (l.op == ir::OpKind::kSewAdd)
        p.output_bits = o.sew_join_bits;
      else if (ir::IsJoin(l.op) && l.op != ir::OpKind::kAdd)
        p.output_bits = 1;
      else if ((l.op == ir::OpKind::kMaxPool || l.op == ir::OpKind::kRelu) && spikes_in)
        p.output_bits = in_bits;  // max of spikes is still a spike (or a join value)
      else
        p.output_bits = o.feature_bits;
    }
}

int64_t DeriveBatch(const Scope& main, const std::vector<ir::Layer>& layers,
                    const TimeInfo& time, const ImportOptions& o) {
  if (o.batch) return *o.batch;
  for (const ir::Layer& l : layers) {
    if (std::find(l.inputs.begin(), l.inputs.end(), ir::kNetworkInput) == l.inputs.end())
      continue;
    size_t feature_rank = l.op == ir::OpKind::kLinear ? 1 : l.out_shape.size();
    for (int in : main.graph_inputs()) {
      std::optional<Shape> s = main.ShapeOf(in);
      if (!s || s->size() < feature_rank) continue;
      int64_t lead = Numel(Shape(s->begin(), s->end() - feature_rank));
      int64_t t = time.in_graph ? time.timesteps : 1;
      return std::max<int64_t>(1, lead % t == 0 ? lead / t : lead);
    }
  }
  return 1;
}

// Numbers the cost model and planner multiply stay below 2^62: every loop
// bound >= 1, the product of all loop bounds times the widest precision, the
// input, output, state and weight bits of a layer, and their sums over the
// model. Larger models are refused by name instead of computed wrongly.
constexpr int64_t kMaxBits = int64_t{1} << 62;

bool MulLimited(std::initializer_list<int64_t> factors, int64_t* out) {
  int64_t n = 1;
  for (int64_t f : factors)
    if (f < 0 || __builtin_mul_overflow(n, f, &n) || n > kMaxBits) return false;
  *out = n;
  return true;
}

absl::Status CheckLimits(const ir::Workload& w) {
  if (w.batch < 1 || w.timesteps < 1)
    return absl::InvalidArgumentError("batch and timesteps must be >= 1");
  int64_t totals[3] = {0, 0, 0};  // weight, state, output bits of the model
  for (const ir::Layer& l : w.layers) {
    auto refuse = [&](const std::string& what) {
      return absl::InvalidArgumentError(absl::StrCat(
          "node ", l.name, ": ", what, " exceeds 2^62; the model is too large to plan"));
    };
    const ir::LoopDims& d = l.dims;
    for (ir::Dim dim : ir::kAllDims)
      if (d.Get(dim) < 1)
        return absl::InvalidArgumentError(absl::StrCat(
            "node ", l.name, ": loop bound ", std::string(ir::DimName(dim)), " = ", d.Get(dim),
            " (must be >= 1)"));
    if (l.in_y < 1 || l.in_x < 1)
      return absl::InvalidArgumentError(
          absl::StrCat("node ", l.name, ": input rows/columns must be >= 1"));
    const ir::Precision& p = l.precision;
    int64_t bits = std::max({p.weight_bits, p.input_bits, p.output_bits, p.state_bits,
                             p.accumulator_bits, 1});
    int64_t ops = 0, in = 0, out = 0, weights = 0, states = 0, b = 0;
    if (!MulLimited({d.T, d.B, d.G, d.K, d.C, d.OY, d.OX, d.FY, d.FX, bits, w.batch}, &ops))
      return refuse(absl::StrCat("the product of its loop bounds T*B*G*K*C*OY*OX*FY*FX (",
                                 d.T, "*", d.B, "*", d.G, "*", d.K, "*", d.C, "*", d.OY,
                                 "*", d.OX, "*", d.FY, "*", d.FX, ") times ", bits,
                                 " bits times the batch (", w.batch, ")"));
    // (G*C and G*K fit: the loop-bound product above includes them.)
    if (!MulLimited({d.T, d.B, l.InputChannels(), l.in_y, l.in_x, bits, w.batch}, &in))
      return refuse("its input size in bits");
    if (!MulLimited({d.T, d.B, d.G, d.K, d.OY, d.OX, p.output_bits}, &out))
      return refuse("its output size in bits");
    if (!MulLimited({l.weight_elements, p.weight_bits}, &weights))
      return refuse("its weight size in bits");
    if (!MulLimited({d.B, d.G, d.K, d.OY, d.OX, l.neuron.states_per_neuron, p.state_bits},
                    &states))
      return refuse("its neuron state size in bits");
    for (int64_t v : l.out_shape)
      if (v < 0 || !MulLimited({v, 1}, &b)) return refuse("an output dimension");
    const int64_t add[3] = {weights, states, out};
    for (int i = 0; i < 3; ++i)
      if (__builtin_add_overflow(totals[i], add[i], &totals[i]) || totals[i] > kMaxBits)
        return refuse("the model's total weight, state or output size in bits");
  }
  return absl::OkStatus();
}

// The graph's inputs and outputs in IR terms, their time steps read off
// their shapes.
void Bind(const Scope& main, const BuiltGraph& built, ir::Workload* w) {
  for (int in : main.graph_inputs()) {
    ir::Binding b;
    b.name = main.value(in).name;
    b.shape = main.ShapeOf(in).value_or(Shape{});
    if (auto it = built.state_inputs.find(in); it != built.state_inputs.end()) {
      b.kind = ir::BindingKind::kState;
      b.layer = it->second.first;
      b.state = it->second.second;
      b.steps = ir::BindingSteps::kOne;
    } else if (auto p = built.previous_inputs.find(in); p != built.previous_inputs.end()) {
      b.kind = ir::BindingKind::kPreviousOutput;
      b.layer = p->second;
      b.steps = ir::BindingSteps::kOne;
    } else if (std::count(built.network_inputs.begin(), built.network_inputs.end(), in)) {
      b.kind = ir::BindingKind::kNetworkInput;
      b.steps = w->time_in_graph ? ir::BindingSteps::kAll : ir::BindingSteps::kOne;
      if (std::count(built.static_inputs.begin(), built.static_inputs.end(), in))
        b.steps = ir::BindingSteps::kNone;  // the graph repeats it over time
    } else {
      b.kind = ir::BindingKind::kUnused;
      b.why = "no layer reads it (a state that influences nothing, or shape plumbing)";
    }
    w->inputs.push_back(std::move(b));
  }
  const std::vector<int>& outs = main.graph_outputs();
  for (size_t i = 0; i < outs.size(); ++i) {
    const OutputSource& os = built.outputs[i];
    ir::Binding b;
    b.name = main.value(outs[i]).name;
    b.shape = main.ShapeOf(outs[i]).value_or(Shape{});
    b.layer = os.layer;
    b.state = os.state;
    if (os.layer < 0) {
      b.why = os.why;
      w->outputs.push_back(std::move(b));
      continue;
    }
    b.kind = os.state >= 0 ? ir::BindingKind::kState
             : os.current  ? ir::BindingKind::kLayerCurrent
                           : ir::BindingKind::kLayerOutput;
    const ir::Layer& l = w->layers[os.layer];
    const int64_t per_step = Numel(l.out_shape) * w->batch;
    const int64_t n = main.ShapeOf(outs[i]) ? Numel(b.shape) : -1;
    if (l.dims.T == 1 && w->timesteps > 1 && b.kind != ir::BindingKind::kState && n == per_step) {
      b.steps = ir::BindingSteps::kNone;
    } else if (w->time_in_graph && n == per_step * w->timesteps && os.step != 0) {
      b.steps = ir::BindingSteps::kAll;
    } else if (n == per_step) {
      b.steps = ir::BindingSteps::kOne;
    } else {
      b.kind = ir::BindingKind::kNotProduced;
      b.why = absl::StrCat("its ", n, " elements are neither one step nor all steps of layer ", l.name);
    }
    w->outputs.push_back(std::move(b));
  }
}

}  // namespace

absl::Status ApplyBlockOptions(const ImportOptions& options, ir::Workload* w) {
  DeriveBlocks(&w->layers);
  if (!options.blocks_file.empty())
    if (absl::Status s = ApplyBlocksFile(options.blocks_file, &w->layers); !s.ok()) return s;
  for (const ir::Layer& l : w->layers) w->num_blocks = std::max(w->num_blocks, l.block + 1);
  for (int b : options.stateless_blocks) {
    if (b >= w->num_blocks)
      return absl::InvalidArgumentError(absl::StrCat(
          "--stateless-blocks: block ", b, " does not exist (the model has ", w->num_blocks,
          " blocks)"));
    for (ir::Layer& l : w->layers)
      if (l.block == b && l.spiking()) l.neuron.mode = ir::NeuronMode::kStateless;
  }
  return absl::OkStatus();
}
void SetLayerPrecisions(const ImportOptions& o, const std::vector<bool>& spike_like,
                        std::vector<ir::Layer>* layers) {
  SetPrecisions(o, spike_like, layers);
}
absl::Status CheckWorkloadLimits(const ir::Workload& w) { return CheckLimits(w); }

absl::StatusOr<TimeInfo> DeriveTime(const Scope& main, const ElementwiseAnalysis& ew,
                                    const ImportOptions& options) {
  int64_t t_graph = 0;
  std::string from;
  for (const NeuronGroup& g : ew.neurons) {
    int64_t t = g.loop_node >= 0 ? g.loop_trips : g.steps;
    if (t <= 1 || t == t_graph) continue;
    if (t_graph > 1)
      return absl::InvalidArgumentError(absl::StrCat(
          "the neuron at ", g.anchor, " runs ", t, " steps, another one ", t_graph, " (", from, ")"));
    t_graph = t;
    from = g.loop_node >= 0 ? "Loop trip count" : "unrolled neuron steps";
  }
  if (t_graph == 0)
    for (int in : main.graph_inputs()) {
      std::optional<Shape> s = main.ShapeOf(in);
      if (s && s->size() == 5) {
        t_graph = (*s)[0];
        from = absl::StrCat("axis 0 of input ", main.value(in).name);
      }
    }
  // A value repeated along a new leading axis (x.unsqueeze(0).repeat(T, ...)).
  for (int n = 0; n < main.num_nodes() && t_graph == 0; ++n) {
    const std::string& op = main.node(n).op_type();
    if ((op != "Tile" && op != "Expand") || main.outputs(n).empty() || main.outputs(n)[0] < 0 ||
        main.IsConst(main.outputs(n)[0]))
      continue;
    std::optional<Shape> in = main.ShapeOf(main.inputs(n)[0]);
    std::optional<Shape> out = main.ShapeOf(main.outputs(n)[0]);
    if (in && out && in->size() == out->size() && !in->empty() && (*in)[0] == 1 && (*out)[0] > 1 &&
        std::equal(in->begin() + 1, in->end(), out->begin() + 1)) {
      t_graph = (*out)[0];
      from = absl::StrCat("the repetition over time at node ", main.node(n).name());
    }
  }
  TimeInfo out;
  if (t_graph > 0) {
    if (options.timesteps && *options.timesteps != t_graph)
      return absl::InvalidArgumentError(absl::StrCat(
          "--timesteps ", *options.timesteps, " disagrees with T = ", t_graph, " (", from,
          ") of the graph"));
    out.timesteps = t_graph;
    out.in_graph = true;
    return out;
  }
  if (!options.timesteps)
    return absl::InvalidArgumentError(
        "single-step export (no time axis in the graph): pass --timesteps N");
  out.timesteps = *options.timesteps;
  return out;
}

void DeriveBlocks(std::vector<ir::Layer>* layers) {
  int last_join = -1;
  for (size_t i = 0; i < layers->size(); ++i)
    if (ir::IsJoin((*layers)[i].op)) last_join = static_cast<int>(i);
  int block = 0;
  bool closed = false;          // the current segment ended with a join
  bool seen_spiking = false;    // a spiking weighted layer is in this block
  for (size_t i = 0; i < layers->size(); ++i) {
    ir::Layer& l = (*layers)[i];
    bool weighted_spiking = l.has_weights() && l.spiking();
    if (static_cast<int>(i) < last_join) {
      if (l.has_weights() && closed) {
        ++block;
        closed = false;
      }
    } else if (weighted_spiking && (seen_spiking || closed)) {
      ++block;  // after the last join (or without joins)
      closed = false;
      seen_spiking = false;
    }
    if (weighted_spiking) seen_spiking = true;
    l.block = block;
    if (ir::IsJoin(l.op)) {
      closed = true;
      seen_spiking = false;
    }
  }
}

absl::StatusOr<ir::Workload> Finalize(const Scope& main, const TimeInfo& time, BuiltGraph built,
                                      const ImportOptions& options) {
  ir::Workload w;
  w.timesteps = time.timesteps;
  std::vector<bool> spike_like;
  std::vector<bool> after_mean;
  for (BuiltLayer& b : built.layers) {
    ir::Layer& l = b.layer;
    bool after = false;
    for (size_t k = 0; k < l.inputs.size(); ++k) {
      const int src = l.inputs[k];
      if (l.delayed(k)) continue;  // a later layer (a recurrent cycle), not yet placed
      if (src >= 0 && (after_mean[src] || w.layers[src].op == ir::OpKind::kTimeMean))
        after = true;
    }
    after_mean.push_back(after);
    // A time_mean's consumers run once, and so do layers the graph computes
    // before repeating their output over time.
    l.dims.T = after || b.once ? 1 : time.timesteps;
    l.dims.B = 1;
    spike_like.push_back(b.spike_like);
    w.layers.push_back(std::move(l));
  }
  if (absl::Status s = ApplyBlockOptions(options, &w); !s.ok()) return s;
  SetPrecisions(options, spike_like, &w.layers);
  w.batch = DeriveBatch(main, w.layers, time, options);
  w.time_in_graph = time.in_graph;
  if (absl::Status s = CheckLimits(w); !s.ok()) return s;
  Bind(main, built, &w);  // after the limits: it multiplies sizes by batch and T
  return w;
}

}  // namespace snnplan::importer::internal
