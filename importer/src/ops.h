// The importer's one op table (in the style of onnx-mlir's handler map):
// every ONNX op the importer understands, with its role, its shape and
// constant-folding rule, its element semantics (elementwise ops: used for
// folding, the neuron self-check and canonical forms alike) and the rule
// that turns it into IR layers. An op that is not in the table is refused.
#pragma once

#include <array>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "onnx/onnx_pb.h"
#include "tensor.h"

namespace snnplan::importer::internal {

enum class OpRole {
  kConstant,     // Constant
  kElementwise,  // broadcasting arithmetic / logic on element values
  kCompare,      // broadcasting comparison with a bool output (fire candidates)
  kView,         // same elements in another shape (Reshape, Identity, ...)
  kShapeOp,      // indexing and shape plumbing (Shape, Gather, Concat, ...)
  kLayer,        // compute layers (Conv, Gemm, pooling, BatchNorm, ...)
  kLoop,         // ONNX Loop (SpikingJelly multi-step neurons)
};

// How the layer builder treats a node that survives constant folding.
enum class LayerRule {
  kNone,         // must have been folded (shape arithmetic)
  kConv,
  kLinear,       // Gemm, MatMul
  kPool,         // MaxPool, AveragePool
  kGlobalPool,   // GlobalAveragePool, GlobalMaxPool
  kReduce,       // ReduceMean / ReduceSum (time mean or global pooling)
  kBatchNorm,
  kPad,          // constant padding in front of pooling
  kView,         // reshape-like views and time slicing
  kConcat,       // re-stacking time steps
  kElementwise,  // joins, biases, activations, neuron arithmetic
  kLoop,
};

// Per-node parameters of an elementwise op (attributes, defaults of absent
// optional inputs).
struct ElemParams {
  int32_t to = onnx::TensorProto::FLOAT;  // output element type (Cast: its target)
  double alpha = 0.0;                      // LeakyRelu / HardSigmoid / Elu
  double beta = 0.0;                       // HardSigmoid
  bool fmod = false;                       // Mod
  // Values for absent optional inputs (Clip min/max).
  std::array<double, 3> missing = {0.0, -std::numeric_limits<double>::infinity(),
                                   std::numeric_limits<double>::infinity()};
};

using ScalarFn = double (*)(const double* args, int n, const ElemParams& p);

struct NodeCtx;
struct NodeResult;
using PropagateFn = absl::Status (*)(const NodeCtx& c, NodeResult* r);

struct OpInfo {
  OpRole role = OpRole::kShapeOp;
  LayerRule layer = LayerRule::kNone;
  PropagateFn propagate = nullptr;  // shapes and constant folding
  ScalarFn scalar = nullptr;        // element semantics of elementwise/compare ops
  int arity = 2;                    // inputs of the scalar function (-1: variadic)
  bool logical = false;             // bool output
};

// What a propagation rule sees of one node.
struct NodeCtx {
  const onnx::NodeProto& node;
  const OpInfo& info;
  int opset = 13;
  std::vector<const Tensor*> in_const;        // per input: the constant, or nullptr
  std::vector<std::optional<Shape>> in_shape;  // per input: the shape, if known
  std::vector<int32_t> in_dtype;               // per input: element type (-1 unknown)
  // Per input: a graph input whose shape was left open (a state input of a
  // single-step export under --input-shape): it takes the other operands'.
  std::vector<char> in_free;

  const Tensor* Const(int i) const { return i < static_cast<int>(in_const.size()) ? in_const[i] : nullptr; }
  const std::optional<Shape>& ShapeAt(int i) const;
  bool Has(int i) const;  // input i is given (not absent or "")
};

// What it computes: per output a shape and/or a constant, or an alias of
// one of the inputs (the output is that input, value and shape).
struct NodeResult {
  std::vector<std::optional<Shape>> shapes;
  std::vector<std::optional<Tensor>> consts;
  std::vector<int32_t> dtypes;  // output element types (-1 unknown)
  int alias_of = -1;            // output 0 equals input alias_of
  bool free_shape = false;      // output 0 only reads free-shaped inputs (see in_free)
};

// The entry for `node` (domain "" / "ai.onnx" only), or nullptr.
const OpInfo* FindOp(const onnx::NodeProto& node);
// Element parameters of an elementwise node.
ElemParams ParamsOf(const onnx::NodeProto& node);

// Attribute helpers (defaults when absent).
const onnx::AttributeProto* FindAttr(const onnx::NodeProto& n, const std::string& name);
int64_t AttrInt(const onnx::NodeProto& n, const std::string& name, int64_t def);
float AttrFloat(const onnx::NodeProto& n, const std::string& name, float def);
std::string AttrString(const onnx::NodeProto& n, const std::string& name);
std::vector<int64_t> AttrInts(const onnx::NodeProto& n, const std::string& name);

// "name (OpType)" for messages.
std::string NodeLabel(const onnx::NodeProto& n);

}  // namespace snnplan::importer::internal
