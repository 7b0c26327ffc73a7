// A read-only view of one ONNX graph scope (the main graph or a Loop body)
// with producer/consumer maps, resolved constants and propagated shapes.
// ONNX shape inference stops at Loop outputs (SpikingJelly multi-step
// exports), so shapes and Shape/Gather/Concat chains are folded here.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "onnx/onnx_pb.h"

namespace snnplan::importer::internal {

using Shape = std::vector<int64_t>;

// A constant tensor. Large uniform tensors (ConstantOfShape) keep only the
// splat value; large initializers (weights) are read on demand.
struct Const {
  int32_t dtype = onnx::TensorProto::FLOAT;
  Shape shape;
  std::vector<double> values;           // materialized elements (row-major)
  std::optional<double> splat;          // set when every element is equal
  const onnx::TensorProto* proto = nullptr;  // unread large initializer

  int64_t numel() const;
  bool materialized() const { return !values.empty() || numel() == 0; }
};

// Product of the dims, saturating at INT64_MAX (never overflows).
int64_t Numel(const Shape& s);
// A double from the file as an integer: NaN -> 0, out of range -> the
// nearest int64 bound (a plain cast would be undefined behaviour).
int64_t ToInt64(double d);

// Reads a TensorProto (typed fields or raw_data) as doubles.
absl::Status ReadTensor(const onnx::TensorProto& t, std::vector<double>* out);

// Scalar value of a constant: one element, or a splat.
std::optional<double> ScalarOf(const Const& c);
// First element (materializing a lazy initializer when needed).
std::optional<double> FirstOf(const Const& c);
// True when every element is zero.
bool IsAllZero(const Const& c);

// Attribute helpers (defaults when absent).
int64_t AttrInt(const onnx::NodeProto& n, const std::string& name, int64_t def);
float AttrFloat(const onnx::NodeProto& n, const std::string& name, float def);
std::string AttrString(const onnx::NodeProto& n, const std::string& name);
std::vector<int64_t> AttrInts(const onnx::NodeProto& n, const std::string& name);
const onnx::AttributeProto* FindAttr(const onnx::NodeProto& n,
                                     const std::string& name);

class Scope {
 public:
  Scope(const onnx::GraphProto& graph, const Scope* parent, int opset);
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;

  const onnx::GraphProto& graph() const { return graph_; }
  const Scope* parent() const { return parent_; }
  int opset() const { return opset_; }

  // Producer node in this scope (nullptr for inputs, initializers, outer).
  const onnx::NodeProto* Producer(const std::string& name) const;
  // Consumers in this scope (including Loop nodes that read it from a body).
  const std::vector<const onnx::NodeProto*>& Consumers(
      const std::string& name) const;
  // Resolved constant (initializer, Constant, Identity alias, folded chain),
  // looked up through enclosing scopes.
  const Const* ConstOf(const std::string& name) const;
  std::optional<Shape> ShapeOf(const std::string& name) const;
  bool IsGraphInput(const std::string& name) const;  // non-initializer input
  bool IsGraphOutput(const std::string& name) const;
  int Index(const onnx::NodeProto* node) const;  // position in graph.node
  const Scope* Body(const onnx::NodeProto* loop) const;

  // Sets the shape of a graph input (before Propagate).
  void SetInputShape(const std::string& name, Shape shape);
  // Forgets a graph input's shape (it then follows from broadcasting).
  void ForgetShape(const std::string& name) { shapes_.erase(name); }
  // Computes constants and shapes for every node in order; `fallback` holds
  // shapes from ONNX shape inference for ops this pass cannot compute.
  absl::Status Propagate(const std::map<std::string, Shape>& fallback);

 private:
  absl::Status PropagateNode(const onnx::NodeProto& n,
                             const std::map<std::string, Shape>& fallback);
  absl::Status PropagateLoop(const onnx::NodeProto& n,
                             const std::map<std::string, Shape>& fallback);
  void SetConst(const std::string& name, Const c);

  const onnx::GraphProto& graph_;
  const Scope* parent_;
  int opset_;
  std::map<std::string, const onnx::NodeProto*> producer_;
  std::map<std::string, std::vector<const onnx::NodeProto*>> consumers_;
  std::map<const onnx::NodeProto*, int> index_;
  std::map<std::string, Const> consts_;
  std::map<std::string, Shape> shapes_;
  std::map<std::string, bool> inputs_;  // name -> is a real (non-init) input
  std::map<std::string, bool> outputs_;
  std::map<const onnx::NodeProto*, std::unique_ptr<Scope>> bodies_;
};

// Names every tensor a (possibly nested) body reads from enclosing scopes.
std::vector<std::string> OuterReads(const onnx::GraphProto& body);

}  // namespace snnplan::importer::internal
