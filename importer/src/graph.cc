#include "graph.h"

#include <set>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"

namespace snnplan::importer::internal {
namespace {

std::optional<Shape> DeclaredShape(const onnx::ValueInfoProto& vi) {
  if (!vi.type().has_tensor_type() || !vi.type().tensor_type().has_shape()) return std::nullopt;
  Shape s;
  for (const auto& d : vi.type().tensor_type().shape().dim()) {
    if (!d.has_dim_value() || d.dim_value() < 0) return std::nullopt;
    s.push_back(d.dim_value());
  }
  return s;
}

}  // namespace

Scope::Scope(const onnx::GraphProto& graph, const Scope* parent, int opset)
    : graph_(graph), parent_(parent), opset_(opset) {
  absl::flat_hash_set<std::string> inits;
  for (const auto& init : graph.initializer()) {
    inits.insert(init.name());
    int id = Intern(init.name());
    values_[id].dtype = init.data_type();
    values_[id].shape = Shape(init.dims().begin(), init.dims().end());
  }
  for (const auto& in : graph.input()) {
    // An initializer listed as an input too (old exporters) is a constant.
    if (inits.contains(in.name())) continue;
    int id = Intern(in.name());
    Value& v = values_[id];
    v.graph_input = true;
    v.input_index = static_cast<int>(graph_inputs_.size());
    if (in.type().has_tensor_type()) v.dtype = in.type().tensor_type().elem_type();
    v.shape = DeclaredShape(in);
    graph_inputs_.push_back(id);
  }
  info_.resize(graph.node_size());
  node_inputs_.resize(graph.node_size());
  node_outputs_.resize(graph.node_size());
  for (int i = 0; i < graph.node_size(); ++i) {
    const onnx::NodeProto& n = graph.node(i);
    info_[i] = FindOp(n);
    for (const std::string& in : n.input()) node_inputs_[i].push_back(in.empty() ? -1 : Intern(in));
    std::set<int> reads;
    for (int id : node_inputs_[i])
      if (id >= 0) reads.insert(id);
    for (const auto& a : n.attribute())
      if (a.has_g())
        for (const std::string& r : OuterReads(a.g())) reads.insert(Intern(r));
    for (int id : reads) values_[id].consumers.push_back(i);
    for (const std::string& out : n.output()) {
      int id = out.empty() ? -1 : Intern(out);
      if (id >= 0) values_[id].producer = i;
      node_outputs_[i].push_back(id);
    }
  }
  for (const auto& out : graph.output()) {
    int id = Intern(out.name());
    values_[id].graph_output = true;
    graph_outputs_.push_back(id);
  }
  // Names this scope reads but does not define come from enclosing scopes.
  for (int id = 0; id < num_values(); ++id) {
    Value& v = values_[id];
    if (v.producer >= 0 || v.graph_input || inits.contains(v.name) || !parent_) continue;
    for (const Scope* s = parent_; s; s = s->parent_)
      if (int o = s->Id(v.name); o >= 0) {
        v.outer = s;
        v.outer_id = o;
        break;
      }
  }
}

int Scope::Intern(const std::string& name) {
  auto [it, inserted] = ids_.try_emplace(name, static_cast<int>(values_.size()));
  if (inserted) {
    values_.emplace_back();
    values_.back().name = name;
  }
  return it->second;
}

int Scope::Id(const std::string& name) const {
  auto it = ids_.find(name);
  return it == ids_.end() ? -1 : it->second;
}

const Scope* Scope::body(int node) const {
  auto it = bodies_.find(node);
  return it == bodies_.end() ? nullptr : it->second.get();
}

int Scope::Resolve(int id) const {
  // Alias chains point strictly backwards in node order, so this ends.
  while (id >= 0 && values_[id].alias >= 0) id = values_[id].alias;
  return id;
}

const Tensor* Scope::ConstOf(int id) const {
  if (id < 0) return nullptr;
  const Value& v = values_[id];
  if (v.constant) return v.constant.get();
  if (v.outer) return v.outer->ConstOf(v.outer_id);
  return nullptr;
}

std::optional<Shape> Scope::ShapeOf(int id) const {
  if (id < 0) return std::nullopt;
  const Value& v = values_[id];
  if (v.constant) return v.constant->shape;
  if (v.shape) return v.shape;
  if (v.outer) return v.outer->ShapeOf(v.outer_id);
  return std::nullopt;
}

int32_t Scope::DTypeOf(int id) const {
  if (id < 0) return -1;
  const Value& v = values_[id];
  if (v.constant) return v.constant->dtype;
  if (v.dtype >= 0) return v.dtype;
  if (v.outer) return v.outer->DTypeOf(v.outer_id);
  return -1;
}

absl::Status Scope::Propagate() {
  for (const auto& init : graph_.initializer()) {
    absl::StatusOr<Tensor> t = TensorFromProto(init);
    if (!t.ok()) return t.status();
    values_[Id(init.name())].constant = std::make_shared<const Tensor>(std::move(*t));
  }
  for (int i = 0; i < num_nodes(); ++i)
    if (absl::Status s = PropagateNode(i); !s.ok()) return s;
  return absl::OkStatus();
}

absl::Status Scope::PropagateNode(int n) {
  const OpInfo* info = info_[n];
  if (!info) return absl::OkStatus();  // refused later, with context
  if (info->role == OpRole::kLoop) return PropagateLoop(n);
  const onnx::NodeProto& node = graph_.node(n);
  NodeCtx c{node, *info, opset_, {}, {}, {}, {}};
  for (int id : node_inputs_[n]) {
    c.in_const.push_back(ConstOf(id));
    c.in_shape.push_back(ShapeOf(id));
    c.in_dtype.push_back(DTypeOf(id));
    c.in_free.push_back(id >= 0 && (values_[id].graph_input || values_[id].free_shape) && !ShapeOf(id));
  }
  NodeResult r;
  if (absl::Status s = info->propagate(c, &r); !s.ok()) return s;
  const std::vector<int>& outs = node_outputs_[n];
  for (size_t k = 0; k < outs.size(); ++k) {
    if (outs[k] < 0) continue;
    Value& v = values_[outs[k]];
    if (k < r.consts.size() && r.consts[k]) {
      v.constant = std::make_shared<const Tensor>(std::move(*r.consts[k]));
      v.shape = v.constant->shape;
      v.dtype = v.constant->dtype;
      continue;
    }
    if (k < r.shapes.size()) v.shape = r.shapes[k];
    if (k < r.dtypes.size()) v.dtype = r.dtypes[k];
  }
  if (r.alias_of >= 0 && !outs.empty() && outs[0] >= 0 && !values_[outs[0]].constant)
    values_[outs[0]].alias = node_inputs_[n][r.alias_of];
  if (r.free_shape && !outs.empty() && outs[0] >= 0) values_[outs[0]].free_shape = true;
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Scope>> Scope::PrepareBody(int n) const {
  const onnx::NodeProto& node = graph_.node(n);
  const onnx::AttributeProto* attr = FindAttr(node, "body");
  auto bad = [&](const std::string& why) {
    return absl::InvalidArgumentError(absl::StrCat("node ", NodeLabel(node), ": ", why));
  };
  if (!attr || !attr->has_g()) return bad("Loop has no body");
  const onnx::GraphProto& g = attr->g();
  int carried = node.input_size() - 2;
  if (node.input_size() < 2) return bad("Loop needs a trip count and a condition input");
  if (g.input_size() != carried + 2)
    return bad(absl::StrCat("the body has ", g.input_size(), " inputs for ", carried,
                            " loop-carried values (expected ", carried + 2, ")"));
  if (g.output_size() < carried + 1)
    return bad(absl::StrCat("the body has ", g.output_size(), " outputs for ", carried,
                            " loop-carried values (expected at least ", carried + 1, ")"));
  if (node.output_size() > g.output_size() - 1)
    return bad(absl::StrCat("the Loop has ", node.output_size(), " outputs, its body only ",
                            g.output_size() - 1));
  auto body = std::make_unique<Scope>(g, this, opset_);
  const std::vector<int>& bin = body->graph_inputs_;
  if (static_cast<int>(bin.size()) != g.input_size())
    return bad("a body input is also an initializer");
  body->values_[bin[0]].shape = Shape{};
  body->values_[bin[0]].dtype = onnx::TensorProto::INT64;
  body->values_[bin[1]].shape = Shape{};
  body->values_[bin[1]].dtype = onnx::TensorProto::BOOL;
  for (int k = 0; k < carried; ++k) {
    int outer = node_inputs_[n][k + 2];
    if (outer < 0) return bad(absl::StrCat("loop-carried input ", k, " is absent"));
    if (std::optional<Shape> s = ShapeOf(outer)) body->values_[bin[k + 2]].shape = *s;
    body->values_[bin[k + 2]].dtype = DTypeOf(outer);
  }
  return body;
}

absl::StatusOr<std::unique_ptr<Scope>> Scope::BodyAt(int node, int64_t iteration) const {
  absl::StatusOr<std::unique_ptr<Scope>> body = PrepareBody(node);
  if (!body.ok()) return body.status();
  Value& iter = (*body)->values_[(*body)->graph_inputs_[0]];
  iter.constant = std::make_shared<const Tensor>(
      Tensor::Scalar(static_cast<double>(iteration), onnx::TensorProto::INT64));
  Value& cond = (*body)->values_[(*body)->graph_inputs_[1]];
  cond.constant = std::make_shared<const Tensor>(Tensor::Scalar(1.0, onnx::TensorProto::BOOL));
  if (absl::Status s = (*body)->Propagate(); !s.ok()) return s;
  return body;
}

absl::Status Scope::PropagateLoop(int n) {
  const onnx::NodeProto& node = graph_.node(n);
  absl::StatusOr<std::unique_ptr<Scope>> prepared = PrepareBody(n);
  if (!prepared.ok()) return prepared.status();
  std::unique_ptr<Scope> body = std::move(*prepared);
  if (absl::Status s = body->Propagate(); !s.ok()) return s;
  auto bad = [&](const std::string& why) {
    return absl::InvalidArgumentError(absl::StrCat("node ", NodeLabel(node), ": ", why));
  };
  const int carried = node.input_size() - 2;
  const Tensor* trip = ConstOf(node_inputs_[n][0]);
  if (trip && trip->numel() != 1) return bad("the trip count is not a scalar");
  const double m = trip && trip->Uniform() ? *trip->Uniform() : -1.0;
  if (trip && m < 0) return bad(absl::StrCat("trip count ", m, " is negative"));
  const std::vector<int>& outs = node_outputs_[n];
  for (size_t k = 0; k < outs.size(); ++k) {
    if (outs[k] < 0) continue;
    Value& v = values_[outs[k]];
    int body_out = body->graph_outputs_[k + 1];
    if (static_cast<int>(k) < carried) {
      v.shape = ShapeOf(node_inputs_[n][k + 2]);
      v.dtype = DTypeOf(node_inputs_[n][k + 2]);
      continue;
    }
    v.dtype = body->DTypeOf(body_out);
    if (std::optional<Shape> s = body->ShapeOf(body_out); s && m >= 0) {
      Shape full = {ToInt64(m)};
      full.insert(full.end(), s->begin(), s->end());
      v.shape = full;
    }
  }
  bodies_[n] = std::move(body);
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
