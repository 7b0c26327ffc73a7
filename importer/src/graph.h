// A read-only, analysed view of one ONNX graph scope (the main graph or a
// Loop body): values interned to ids with producers and consumers, every
// constant folded and every shape propagated through the op table, and the
// canonical identities (x + 0, x * 1, ...) recorded as aliases. ONNX shape
// inference is not used: it stops at Loop outputs and divides by zero on bad
// attributes; the table's rules check attributes before using them.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "onnx/onnx_pb.h"
#include "ops.h"
#include "tensor.h"

namespace snnplan::importer::internal {

class Scope;

struct Value {
  std::string name;
  int producer = -1;            // node index in this scope; -1: input, initializer, outer
  std::vector<int> consumers;   // nodes of this scope that read it (Loops: also from the body)
  std::optional<Shape> shape;
  int32_t dtype = -1;           // ONNX element type, -1 when unknown
  std::shared_ptr<const Tensor> constant;  // set when the value is a constant
  int alias = -1;               // the value equals value `alias` (identity rewrite)
  bool graph_input = false;     // a non-initializer input of this scope
  int input_index = -1;         // its position among the graph inputs
  bool graph_output = false;
  bool free_shape = false;      // shape left open: follows the values it meets
  const Scope* outer = nullptr;  // defined in an enclosing scope (body reads)
  int outer_id = -1;
};

class Scope {
 public:
  Scope(const onnx::GraphProto& graph, const Scope* parent, int opset);
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;

  const onnx::GraphProto& graph() const { return graph_; }
  const Scope* parent() const { return parent_; }
  int opset() const { return opset_; }

  int num_nodes() const { return graph_.node_size(); }
  const onnx::NodeProto& node(int i) const { return graph_.node(i); }
  const OpInfo* info(int node) const { return info_[node]; }
  // Value ids of a node's inputs / outputs (-1 for an absent optional one).
  const std::vector<int>& inputs(int node) const { return node_inputs_[node]; }
  const std::vector<int>& outputs(int node) const { return node_outputs_[node]; }
  const Scope* body(int node) const;  // Loop body, or nullptr

  int num_values() const { return static_cast<int>(values_.size()); }
  const Value& value(int id) const { return values_[id]; }
  int Id(const std::string& name) const;  // -1 when the scope has no such value
  // The value after following identity aliases.
  int Resolve(int id) const;
  const Tensor* ConstOf(int id) const;
  std::optional<Shape> ShapeOf(int id) const;
  int32_t DTypeOf(int id) const;
  bool IsConst(int id) const { return id >= 0 && ConstOf(id) != nullptr; }
  // Graph inputs in declaration order (non-initializers).
  const std::vector<int>& graph_inputs() const { return graph_inputs_; }
  const std::vector<int>& graph_outputs() const { return graph_outputs_; }

  // Input binding, before Propagate.
  void SetInputShape(int id, Shape shape) { values_[id].shape = std::move(shape); }
  void ForgetShape(int id) { values_[id].shape.reset(); }
  // Folds constants and propagates shapes through every node in order.
  // Ops outside the table are left for the caller to refuse; a node whose
  // rule fails returns its error.
  absl::Status Propagate();
  // The body of Loop `node` propagated with its iteration number bound to
  // `iteration` (its index arithmetic then folds to constants).
  absl::StatusOr<std::unique_ptr<Scope>> BodyAt(int node, int64_t iteration) const;

 private:
  // The body of Loop `node` with its inputs typed (iteration, condition,
  // carried values), not yet propagated.
  absl::StatusOr<std::unique_ptr<Scope>> PrepareBody(int node) const;
  int Intern(const std::string& name);
  absl::Status PropagateNode(int n);
  absl::Status PropagateLoop(int n);

  const onnx::GraphProto& graph_;
  const Scope* parent_;
  int opset_;
  std::vector<Value> values_;
  absl::flat_hash_map<std::string, int> ids_;
  std::vector<const OpInfo*> info_;
  std::vector<std::vector<int>> node_inputs_, node_outputs_;
  std::vector<int> graph_inputs_, graph_outputs_;
  std::map<int, std::unique_ptr<Scope>> bodies_;
};

// Names every tensor a (possibly nested) body reads from enclosing scopes.
std::vector<std::string> OuterReads(const onnx::GraphProto& body);

}  // namespace snnplan::importer::internal
