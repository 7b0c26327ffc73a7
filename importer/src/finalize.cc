#include "finalize.h"

#include <algorithm>
#include <fstream>
#include <functional>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "nlohmann/json.hpp"

namespace snnplan::importer::internal {
namespace {

bool IsJoin(const ir::Layer& l) {
  return l.op == ir::OpKind::kAdd || l.op == ir::OpKind::kSewOr || l.op == ir::OpKind::kSewAnd;
}

// Length of the unrolled chain ending in instance i (t = 0 has length 1).
int64_t ChainLength(const Recognition& rec, int i, std::map<int, int64_t>* memo) {
  if (auto it = memo->find(i); it != memo->end()) return it->second;
  (*memo)[i] = 1;  // guards against cycles
  const NeuronInstance& inst = rec.instances[i];
  int64_t len = 1;
  if (inst.state == StateSource::kPreviousStep)
    for (size_t j = 0; j < rec.instances.size(); ++j)
      if (rec.instances[j].state_out == inst.state_in[0])
        len = std::max(len, 1 + ChainLength(rec, static_cast<int>(j), memo));
  (*memo)[i] = len;
  return len;
}

// The neuron of a layer from its instances (T copies when unrolled): the
// parameters of a steady-state step; stateful if any step carries state.
absl::Status LayerNeuron(const Recognition& rec, const BuiltLayer& b, int64_t T,
                         ir::Layer* l) {
  if (b.instances.empty()) return absl::OkStatus();
  int64_t n = static_cast<int64_t>(b.instances.size());
  if (n != 1 && n != T)
    return absl::InvalidArgumentError(absl::StrCat(
        "layer ", l->name, " feeds ", n, " neuron instances, expected 1 or T = ", T));
  const NeuronInstance* rep = &rec.instances[b.instances[0]];
  bool stateful = false;
  for (int i : b.instances) {
    const NeuronInstance& inst = rec.instances[i];
    if (inst.neuron.mode == ir::NeuronMode::kStateful) stateful = true;
    if (inst.reset_known && inst.state != StateSource::kConstant &&
        (!rep->reset_known || rep->state == StateSource::kConstant))
      rep = &inst;
  }
  l->neuron = rep->neuron;
  l->neuron.mode = stateful ? ir::NeuronMode::kStateful : ir::NeuronMode::kStateless;
  return absl::OkStatus();
}

absl::Status ApplyBlocksFile(const std::string& path, std::vector<ir::Layer>* layers) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("--blocks ", path, ": cannot open file"));
  nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return absl::InvalidArgumentError(absl::StrCat(
        "--blocks ", path, ": expected a JSON object {layer name: block id}"));
  std::map<std::string, int> ids;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (!it.value().is_number_integer() || it.value().get<int64_t>() < 0)
      return absl::InvalidArgumentError(absl::StrCat(
          "--blocks ", path, ": block id of '", it.key(), "' is not an integer >= 0"));
    ids[it.key()] = it.value().get<int>();
  }
  for (ir::Layer& l : *layers)
    if (auto it = ids.find(l.name); it != ids.end()) {
      l.block = it->second;
      ids.erase(it);
    }
  if (!ids.empty())
    return absl::InvalidArgumentError(absl::StrCat(
        "--blocks ", path, ": no layer named '", ids.begin()->first, "'"));
  return absl::OkStatus();
}

void SetPrecisions(const ImportOptions& o, const std::vector<bool>& spike_like,
                   std::vector<ir::Layer>* layers) {
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
    if (l.spiking()) p.output_bits = 1;
    else if (l.op == ir::OpKind::kSewOr || l.op == ir::OpKind::kSewAnd) p.output_bits = o.sew_join_bits;
    else if ((l.op == ir::OpKind::kMaxPool || l.op == ir::OpKind::kRelu) && spikes_in)
      p.output_bits = in_bits;  // max of spikes is still a spike (or a join value)
    else p.output_bits = o.feature_bits;
  }
}

int64_t DeriveBatch(const Scope& main, const std::vector<ir::Layer>& layers,
                    const TimeInfo& time, const ImportOptions& o) {
  if (o.batch) return *o.batch;
  for (const ir::Layer& l : layers) {
    if (std::find(l.inputs.begin(), l.inputs.end(), ir::kNetworkInput) == l.inputs.end())
      continue;
    size_t feature_rank = l.op == ir::OpKind::kLinear ? 1 : l.out_shape.size();
    for (const auto& in : main.graph().input()) {
      std::optional<Shape> s = main.ShapeOf(in.name());
      if (!main.IsGraphInput(in.name()) || !s || s->size() < feature_rank) continue;
      int64_t lead = Numel(Shape(s->begin(), s->end() - feature_rank));
      int64_t t = time.in_graph ? time.timesteps : 1;
      return std::max<int64_t>(1, lead % t == 0 ? lead / t : lead);
    }
  }
  return 1;
}

}  // namespace

absl::StatusOr<TimeInfo> DeriveTime(const Scope& main, const Recognition& rec,
                                    const ImportOptions& options) {
  int64_t t_graph = 0;
  std::string from;
  std::map<int, int64_t> memo;
  for (size_t i = 0; i < rec.instances.size(); ++i) {
    const NeuronInstance& inst = rec.instances[i];
    int64_t t = inst.loop ? inst.steps : ChainLength(rec, static_cast<int>(i), &memo);
    if (t <= 1 || t <= t_graph) continue;
    if (t_graph > 0 && inst.loop)
      return absl::InvalidArgumentError(absl::StrCat(
          "Loop ", inst.loop->name(), " runs ", t, " steps, another layer ", t_graph));
    t_graph = t;
    from = inst.loop ? "Loop trip count" : "unrolled neuron chain";
  }
  if (t_graph == 0)
    for (const auto& in : main.graph().input()) {
      std::optional<Shape> s = main.ShapeOf(in.name());
      if (main.IsGraphInput(in.name()) && s && s->size() == 5) {
        t_graph = (*s)[0];
        from = absl::StrCat("axis 0 of input ", in.name());
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
    if (IsJoin((*layers)[i])) last_join = static_cast<int>(i);
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
    if (IsJoin(l)) {
      closed = true;
      seen_spiking = false;
    }
  }
}

absl::StatusOr<ir::Workload> Finalize(const Scope& main, const Recognition& rec,
                                      const TimeInfo& time, BuiltGraph built,
                                      const ImportOptions& options) {
  ir::Workload w;
  w.timesteps = time.timesteps;
  std::vector<bool> spike_like;
  std::vector<bool> after_mean;
  for (BuiltLayer& b : built.layers) {
    ir::Layer& l = b.layer;
    if (absl::Status s = LayerNeuron(rec, b, time.timesteps, &l); !s.ok()) return s;
    bool after = false;
    for (int src : l.inputs)
      if (src >= 0 && (after_mean[src] || w.layers[src].op == ir::OpKind::kTimeMean))
        after = true;
    after_mean.push_back(after);
    l.dims.T = after ? 1 : time.timesteps;  // a time_mean's consumers run once
    l.dims.B = 1;
    spike_like.push_back(b.spike_like);
    w.layers.push_back(std::move(l));
  }
  DeriveBlocks(&w.layers);
  if (!options.blocks_file.empty())
    if (absl::Status s = ApplyBlocksFile(options.blocks_file, &w.layers); !s.ok()) return s;
  for (const ir::Layer& l : w.layers) w.num_blocks = std::max(w.num_blocks, l.block + 1);
  for (int b : options.stateless_blocks) {
    if (b >= w.num_blocks)
      return absl::InvalidArgumentError(absl::StrCat(
          "--stateless-blocks: block ", b, " does not exist (the model has ", w.num_blocks,
          " blocks)"));
    for (ir::Layer& l : w.layers)
      if (l.block == b && l.spiking()) l.neuron.mode = ir::NeuronMode::kStateless;
  }
  SetPrecisions(options, spike_like, &w.layers);
  w.batch = DeriveBatch(main, w.layers, time, options);
  return w;
}

}  // namespace snnplan::importer::internal
