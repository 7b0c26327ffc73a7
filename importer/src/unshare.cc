// Un-CSE of a static input's current; see unshare.h.
#include "unshare.h"

#include <algorithm>
#include <map>
#include <set>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ops.h"

namespace snnplan::importer::internal {
namespace {

// Ops a step-independent current may be computed with: layers and views
// that keep the leading axes (no time slicing, no repetition).
bool ConeOp(const onnx::NodeProto& n) {
  const OpInfo* info = FindOp(n);
  if (!info || (!n.domain().empty() && n.domain() != "ai.onnx")) return false;
  if (info->role == OpRole::kLayer) return true;
  static const std::set<std::string> kViews = {"Reshape",   "Flatten", "Identity", "Dropout",
                                               "Unsqueeze", "Squeeze", "Pad"};
  return kViews.count(n.op_type()) > 0;
}

bool HasSubgraph(const onnx::NodeProto& n) {
  for (const auto& a : n.attribute())
    if (a.has_g() || a.graphs_size() > 0) return true;
  return false;
}

}  // namespace

Unshared UnshareStaticCurrents(const onnx::ModelProto& model) {
  Unshared out;
  const onnx::GraphProto& g = model.graph();
  for (const auto& n : g.node())
    if (HasSubgraph(n)) return out;  // Loop exports carry time themselves
  absl::flat_hash_set<std::string> initializers, graph_inputs, graph_outputs, names;
  for (const auto& t : g.initializer()) initializers.insert(t.name());
  for (const auto& in : g.input())
    if (!initializers.contains(in.name())) graph_inputs.insert(in.name());
  for (const auto& o : g.output()) graph_outputs.insert(o.name());
  // Values that depend on the data of a graph input (not only its shape),
  // their producers and data readers.
  absl::flat_hash_set<std::string> dynamic = graph_inputs;
  absl::flat_hash_map<std::string, int> producer;
  absl::flat_hash_map<std::string, std::vector<int>> readers;
  for (int i = 0; i < g.node_size(); ++i) {
    const onnx::NodeProto& n = g.node(i);
    names.insert(n.name());
    const bool shape_only = n.op_type() == "Shape" || n.op_type() == "Size";
    bool dyn = false;
    for (const std::string& in : n.input()) {
      if (in.empty() || !dynamic.contains(in)) continue;
      dyn = true;
      if (!shape_only) {
        std::vector<int>& r = readers[in];
        if (r.empty() || r.back() != i) r.push_back(i);
      }
    }
    for (const std::string& o : n.output()) {
      if (o.empty()) continue;
      names.insert(o);
      producer[o] = i;
      if (dyn && !shape_only) dynamic.insert(o);
    }
  }
  // The nodes computing `v` from graph inputs (sorted), or empty when some
  // node on the way is not a layer or view.
  auto cone = [&](const std::string& v, std::vector<std::string>* leaves) {
    std::set<int> nodes;
    std::vector<std::string> stack = {v};
    absl::flat_hash_set<std::string> seen;
    bool has_layer = false;
    while (!stack.empty()) {
      std::string x = stack.back();
      stack.pop_back();
      if (!seen.insert(x).second) continue;
      if (graph_inputs.contains(x)) {
        leaves->push_back(x);
        continue;
      }
      auto p = producer.find(x);
      if (p == producer.end() || !ConeOp(g.node(p->second))) return std::set<int>{};
      has_layer |= FindOp(g.node(p->second))->role == OpRole::kLayer;
      nodes.insert(p->second);
      for (const std::string& in : g.node(p->second).input())
        if (!in.empty() && dynamic.contains(in)) stack.push_back(in);
    }
    return has_layer ? nodes : std::set<int>{};
  };
  auto fresh = [&](const std::string& base, size_t k) {
    std::string s = absl::StrCat(base, "#", k);
    while (names.contains(s)) s += "'";
    names.insert(s);
    return s;
  };
  // Per reader node: the copies to emit before it; per (reader, value): the
  // value it reads instead.
  std::map<int, std::vector<onnx::NodeProto>> before;
  std::map<int, std::map<std::string, std::string>> rename_input;
  for (int i = 0; i < g.node_size(); ++i) {
    for (const std::string& v : g.node(i).output()) {
      if (v.empty() || !dynamic.contains(v) || graph_outputs.contains(v)) continue;
      auto r = readers.find(v);
      if (r == readers.end() || r->second.size() < 2) continue;
      bool all_elementwise = true;
      for (int c : r->second) {
        const OpInfo* info = FindOp(g.node(c));
        all_elementwise &= info && info->role == OpRole::kElementwise;
      }
      if (!all_elementwise) continue;
      std::vector<std::string> leaves;
      std::set<int> nodes = cone(v, &leaves);
      if (nodes.empty()) continue;
      UnsharedTensor u;
      u.value = v;
      u.producer = NodeLabel(g.node(i));
      u.inputs = leaves;
      std::sort(u.inputs.begin(), u.inputs.end());
      for (size_t k = 0; k < r->second.size(); ++k) {
        const int reader = r->second[k];
        u.readers.push_back(NodeLabel(g.node(reader)));
        if (k == 0) {
          u.copies.push_back(v);
          continue;
        }
        std::map<std::string, std::string> renamed;
        for (int c : nodes) {
          onnx::NodeProto copy = g.node(c);
          if (!copy.name().empty()) copy.set_name(fresh(copy.name(), k));
          for (int j = 0; j < copy.input_size(); ++j)
            if (auto it = renamed.find(copy.input(j)); it != renamed.end())
              copy.set_input(j, it->second);
          for (int j = 0; j < copy.output_size(); ++j)
            if (!copy.output(j).empty()) {
              std::string o = fresh(copy.output(j), k);
              renamed[copy.output(j)] = o;
              copy.set_output(j, o);
            }
          before[reader].push_back(std::move(copy));
        }
        u.copies.push_back(renamed.at(v));
        rename_input[reader][v] = renamed.at(v);
      }
      out.tensors.push_back(std::move(u));
    }
  }
  if (out.tensors.empty()) return out;
  out.model = model;
  onnx::GraphProto* ng = out.model.mutable_graph();
  ng->clear_node();
  for (int i = 0; i < g.node_size(); ++i) {
    if (auto it = before.find(i); it != before.end())
      for (onnx::NodeProto& c : it->second) *ng->add_node() = std::move(c);
    onnx::NodeProto* n = ng->add_node();
    *n = g.node(i);
    if (auto it = rename_input.find(i); it != rename_input.end())
      for (int j = 0; j < n->input_size(); ++j)
        if (auto r = it->second.find(n->input(j)); r != it->second.end())
          n->set_input(j, r->second);
  }
  return out;
}

absl::Status CheckUnshared(const Scope& main, const ElementwiseAnalysis& ew,
                           const std::vector<UnsharedTensor>& tensors) {
  for (const UnsharedTensor& u : tensors) {
    auto refuse = [&](const std::string& why) {
      return absl::InvalidArgumentError(
          absl::StrCat("node ", u.producer, ": its output ", u.value, " is read by ",
                       u.readers.size(), " nodes (", absl::StrJoin(u.readers, ", "),
                       "), which is a static input's current only "
                       "when each reads it at its own step of one spiking neuron; ",
                       why));
    };
    std::vector<int> ids;
    for (const std::string& c : u.copies) {
      const int id = main.Id(c);
      if (id < 0) return refuse(absl::StrCat(c, " is not in the graph"));
      ids.push_back(main.Resolve(id));
    }
    auto step_of = [&](const NeuronGroup& g, int v) {
      for (size_t t = 0; t < g.currents.size(); ++t)
        if (std::count(g.currents[t].begin(), g.currents[t].end(), v)) return static_cast<int>(t);
      return -1;
    };
    const NeuronGroup* owner = nullptr;
    for (const NeuronGroup& g : ew.neurons)
      if (step_of(g, ids[0]) >= 0) owner = &g;
    if (!owner) return refuse("the first read is not a neuron's input current");
    if (owner->loop_node >= 0 || owner->steps != static_cast<int64_t>(ids.size()))
      return refuse(absl::StrCat("the neuron at ", owner->anchor, " runs ", owner->steps,
                                 " steps, not one per read"));
    for (size_t k = 0; k < ids.size(); ++k)
      if (step_of(*owner, ids[k]) != static_cast<int>(k))
        return refuse(
            absl::StrCat(u.readers[k], " is not step ", k, " of the neuron at ", owner->anchor));
  }
  return absl::OkStatus();
}

}  // namespace snnplan::importer::internal
