// ToJson (docs/ir.md, schema_version 2) and the `snnplan import` table.
#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "snnplan/importer.h"
#include "snnplan/units.h"

namespace snnplan::importer {
namespace {

using nlohmann::json;

bool IsPool(ir::OpKind k) {
  return k == ir::OpKind::kMaxPool || k == ir::OpKind::kAvgPool ||
         k == ir::OpKind::kGlobalAvgPool;
}

json ParamJson(const ir::NeuronParam& p) {
  json j = {{"value", p.value}, {"per_neuron", p.per_neuron},
            {"layout", std::string(ir::ParamLayoutName(p.layout))}};
  if (p.layout != ir::ParamLayout::kScalar) j["values"] = p.values;
  return j;
}

json TermsJson(const std::vector<ir::NeuronTerm>& terms) {
  json out = json::array();
  for (const ir::NeuronTerm& t : terms) {
    json gates = json::array();
    for (int g = 0; g < 32; ++g)
      if (t.gates & (uint32_t{1} << g)) gates.push_back(g);
    out.push_back({{"var", t.var}, {"gates", gates}, {"coef", ParamJson(t.coef)}});
  }
  return out;
}

json DynamicsJson(const ir::NeuronDynamics& d) {
  json gates = json::array();
  for (const ir::NeuronGate& g : d.gates)
    gates.push_back({{"inclusive", g.inclusive}, {"arg", TermsJson(g.arg)}});
  json next = json::array();
  for (const auto& n : d.next) next.push_back(TermsJson(n));
  return {{"states", d.states}, {"currents", d.currents}, {"gates", gates}, {"fire", d.fire},
          {"next", next}, {"output", TermsJson(d.output)}, {"initial", d.initial}};
}

json LayerJson(const ir::Layer& l, int id) {
  json dims = json::object();
  for (ir::Dim d : ir::kAllDims) dims[std::string(ir::DimName(d))] = l.dims.Get(d);
  const ir::Window& w = l.window;
  const ir::Precision& p = l.precision;
  json out = {
      {"id", id},
      {"name", l.name},
      {"op", std::string(ir::OpKindName(l.op))},
      {"inputs", l.inputs},
      {"block", l.block},
      {"dims", dims},
      {"window",
       {{"stride", {w.stride_y, w.stride_x}},
        {"pads", {w.pad_top, w.pad_left, w.pad_bottom, w.pad_right}},
        {"dilation", {w.dilation_y, w.dilation_x}}}},
      {"in_y", l.in_y},
      {"in_x", l.in_x},
      {"neuron", std::string(ir::NeuronModeName(l.neuron.mode))},
      {"neuron_kind", l.neuron.kind},
      {"states_per_neuron", l.neuron.states_per_neuron},
      {"reset", std::string(ir::ResetModeName(l.neuron.reset))},
      {"reset_timing", std::string(ir::ResetTimingName(l.neuron.reset_timing))},
      {"reset_value", l.neuron.reset_value},
      {"reset_amount", ParamJson(l.neuron.reset_amount)},
      {"decay", ParamJson(l.neuron.decay)},
      {"decay_input", l.neuron.decay_input},
      {"input_gain", ParamJson(l.neuron.input_gain)},
      {"syn_decay", ParamJson(l.neuron.syn_decay)},
      {"threshold", ParamJson(l.neuron.threshold)},
      {"fire", l.neuron.fire_inclusive ? ">=" : ">"},
      {"spike_gain", ParamJson(l.neuron.spike_gain)},
      {"current_layers", l.neuron.current_layers},
      {"dynamics", l.spiking() ? DynamicsJson(l.neuron.dynamics) : json()},
      {"states", l.NeuronStates()},
      {"weights", l.weight_elements},
      {"weights_used", l.WeightsUsed()},
      {"out_shape", l.out_shape},
      {"network_output", l.network_output},
      {"features_per_step", l.OutputElementsPerStep()},
      {"ops_per_step", l.OpsPerStep()},
      {"op_unit", l.uses_sop() ? "SOP" : "MAC"},
      {"precision",
       {{"weight_bits", p.weight_bits},
        {"input_bits", p.input_bits},
        {"output_bits", p.output_bits},
        {"state_bits", p.state_bits},
        {"accumulator_bits", p.accumulator_bits}}},
  };
  // Recurrence: which inputs are read one step late (present only then).
  if (l.has_delayed_input()) {
    json delayed = json::array();
    for (size_t k = 0; k < l.inputs.size(); ++k) delayed.push_back(l.delayed(k));
    out["input_delayed"] = delayed;
  }
  return out;
}

struct BlockTotals {
  int64_t weights = 0, states = 0, features = 0;
};

std::map<int, BlockTotals> PerBlock(const ir::Workload& w) {
  std::map<int, BlockTotals> out;
  for (const ir::Layer& l : w.layers) {
    BlockTotals& b = out[l.block];
    b.weights += l.weight_elements;
    b.states += l.NeuronStates();
    b.features += l.OutputElementsPerStep();
  }
  return out;
}

std::string DimsText(const ir::Layer& l) {
  const ir::LoopDims& d = l.dims;
  std::string s = absl::StrCat("T", d.T, " K", d.K, " C", d.C);
  if (d.G != 1) absl::StrAppend(&s, " G", d.G);
  if (d.OY != 1 || d.OX != 1) absl::StrAppend(&s, " O", d.OY, "x", d.OX);
  if (d.FY != 1 || d.FX != 1) absl::StrAppend(&s, " F", d.FY, "x", d.FX);
  if (l.window.stride_y != 1 || l.window.stride_x != 1)
    absl::StrAppend(&s, " s", l.window.stride_y);
  return s;
}

std::string NeuronText(const ir::Layer& l) {
  if (!l.spiking()) return "none";
  return absl::StrCat(std::string(ir::NeuronModeName(l.neuron.mode)), " ", l.neuron.kind,
                      " ", std::string(ir::ResetModeName(l.neuron.reset)));
}

struct Totals {
  int conv = 0, linear = 0, pool = 0, spiking = 0, stateful = 0, stateless = 0;
  int64_t weights = 0;
};

Totals Count(const ir::Workload& w) {
  Totals t;
  for (const ir::Layer& l : w.layers) {
    t.conv += l.op == ir::OpKind::kConv;
    t.linear += l.op == ir::OpKind::kLinear;
    t.pool += IsPool(l.op);
    t.spiking += l.spiking();
    t.stateful += l.stateful();
    t.stateless += l.neuron.mode == ir::NeuronMode::kStateless;
    t.weights += l.weight_elements;
  }
  return t;
}

}  // namespace

json ToJson(const ir::Workload& w) {
  json layers = json::array();
  for (size_t i = 0; i < w.layers.size(); ++i) layers.push_back(LayerJson(w.layers[i], static_cast<int>(i)));
  const Totals c = Count(w);
  json totals = {{"conv", c.conv}, {"linear", c.linear}, {"pool", c.pool}, {"spiking_layers", c.spiking},
                 {"stateful_layers", c.stateful}, {"stateless_layers", c.stateless},
                 {"states", w.TotalNeuronStates()}, {"weights", c.weights},
                 {"weights_used", w.TotalWeightsUsed()}, {"layers", w.layers.size()}};
  json blocks = json::array();
  for (const auto& [id, b] : PerBlock(w))
    blocks.push_back({{"id", id}, {"weights", b.weights}, {"states", b.states},
                      {"features_per_step", b.features}});
  auto bindings = [](const std::vector<ir::Binding>& list) {
    static constexpr const char* kKinds[] = {"network_input",  "state",  "layer_output",
                                             "not_produced",   "unused", "layer_current",
                                             "previous_output"};
    static constexpr const char* kSteps[] = {"all", "one", "none"};
    json out = json::array();
    for (const ir::Binding& b : list) {
      json j = {{"name", b.name}, {"kind", kKinds[static_cast<int>(b.kind)]}, {"shape", b.shape}};
      if (b.kind != ir::BindingKind::kNotProduced && b.kind != ir::BindingKind::kUnused)
        j["steps"] = kSteps[static_cast<int>(b.steps)];
      if (b.layer >= 0) j["layer"] = b.layer;
      if (b.state >= 0) j["state"] = b.state;
      if (!b.why.empty()) j["why"] = b.why;
      out.push_back(std::move(j));
    }
    return out;
  };
  json out = {{"schema_version", 2},
          {"time_in_graph", w.time_in_graph},
          {"inputs", bindings(w.inputs)},
          {"outputs", bindings(w.outputs)},
          {"model_file", w.model_file},
          {"model_sha256", w.model_sha256},
          {"timesteps", w.timesteps},
          {"batch", w.batch},
          {"num_blocks", w.num_blocks},
          {"layers", layers},
          {"blocks", blocks},
          {"totals", totals}};
  if (w.dt_seconds) out["dt_seconds"] = *w.dt_seconds;  // NIR models (docs/nir.md)
  return out;
}

std::string DescribeTable(const ir::Workload& w) {
  std::string out = absl::StrFormat("model %s  T=%d  batch=%d  layers=%d  blocks=%d\n",
                                    w.model_file, w.timesteps, w.batch, w.layers.size(),
                                    w.num_blocks);
  if (w.dt_seconds)  // NIR: the time step the neuron equations were discretised with
    out.insert(out.size() - 1, absl::StrFormat("  dt=%g s", *w.dt_seconds));
  size_t name_w = 4;
  for (const ir::Layer& l : w.layers) name_w = std::max(name_w, l.name.size());
  name_w = std::min<size_t>(name_w, 40);
  absl::StrAppend(&out, absl::StrFormat("%3s  %-*s %-13s %-32s %-28s %5s %10s %10s %10s %14s\n",
                                        "id", name_w, "name", "op", "dims", "neuron", "block",
                                        "weights", "states", "features", "ops/step"));
  for (size_t i = 0; i < w.layers.size(); ++i) {
    const ir::Layer& l = w.layers[i];
    std::string name = l.name.size() > name_w ? "..." + l.name.substr(l.name.size() - name_w + 3)
                                              : l.name;
    absl::StrAppend(&out, absl::StrFormat(
        "%3d  %-*s %-13s %-32s %-28s %5d %10d %10d %10d %10d %s\n", i, name_w, name,
        std::string(ir::OpKindName(l.op)), DimsText(l), NeuronText(l), l.block, l.weight_elements,
        l.NeuronStates(), l.OutputElementsPerStep(), l.OpsPerStep(),
        l.uses_sop() ? "SOP" : "MAC"));
  }
  for (size_t i = 0; i < w.layers.size(); ++i)
    for (size_t k = 0; k < w.layers[i].inputs.size(); ++k)
      if (w.layers[i].delayed(k))
        absl::StrAppend(&out,
                        absl::StrFormat("recurrent: layer %d reads layer %d's previous step\n", i,
                                        w.layers[i].inputs[k]));
  absl::StrAppend(&out, "\nblock    weights     states   features/step\n");
  int64_t weights = 0;
  for (const auto& [id, b] : PerBlock(w)) {
    absl::StrAppend(&out, absl::StrFormat("%5d %10d %10d %15d\n", id, b.weights, b.states,
                                          b.features));
    weights += b.weights;
  }
  const Totals t = Count(w);
  absl::StrAppend(&out, absl::StrFormat(
      "\ntotal: %d conv, %d linear, %d pool; %d spiking layers (%d stateful, %d stateless); "
      "%s neuron states; %s weights\n",
      t.conv, t.linear, t.pool, t.spiking, t.stateful, t.stateless,
      units::Grouped(w.TotalNeuronStates()), units::Grouped(weights)));
  return out;
}

}  // namespace snnplan::importer
