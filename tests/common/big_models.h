// Large synthetic ONNX models for scaling tests and benchmarks, built with
// the protobuf API: a deep chain of spiking layers (snnTorch Leaky, one step
// with explicit membranes) and a long chain of elementwise ops.
#pragma once

#include <string>

#include "onnx/onnx_pb.h"

namespace snnplan::testing {

namespace big_models_detail {
inline void Value(onnx::ValueInfoProto* vi, const std::string& name, std::initializer_list<int64_t> dims) {
  vi->set_name(name);
  auto* tt = vi->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(onnx::TensorProto::FLOAT);
  for (int64_t d : dims) tt->mutable_shape()->add_dim()->set_dim_value(d);
}
inline void Scalar(onnx::GraphProto* g, const std::string& name, float v) {
  auto* t = g->add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::FLOAT);
  t->add_float_data(v);
}
inline onnx::NodeProto* Node(onnx::GraphProto* g, const std::string& op, std::initializer_list<std::string> in,
                             const std::string& out) {
  auto* n = g->add_node();
  n->set_op_type(op);
  n->set_name("/" + out);
  for (const auto& i : in) n->add_input(i);
  n->add_output(out);
  return n;
}
inline void CastToFloat(onnx::GraphProto* g, const std::string& in, const std::string& out) {
  auto* a = Node(g, "Cast", {in}, out)->add_attribute();
  a->set_name("to");
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(onnx::TensorProto::FLOAT);
}
inline onnx::ModelProto NewModel() {
  onnx::ModelProto m;
  m.set_ir_version(7);
  auto* op = m.add_opset_import();
  op->set_domain("");
  op->set_version(13);
  m.mutable_graph()->set_name("big");
  return m;
}
}  // namespace big_models_detail

// x[1,16] -> (MatMul 16x16 -> Leaky with membrane input/output) x layers.
inline std::string DeepSpikingChain(int layers) {
  using namespace big_models_detail;
  onnx::ModelProto m = NewModel();
  onnx::GraphProto* g = m.mutable_graph();
  Value(g->add_input(), "x", {1, 16});
  Scalar(g, "beta", 0.9f);
  Scalar(g, "thr", 1.0f);
  Scalar(g, "zero", 0.0f);
  std::string cur = "x";
  for (int i = 0; i < layers; ++i) {
    std::string s = std::to_string(i);
    auto* w = g->add_initializer();
    w->set_name("w" + s);
    w->set_data_type(onnx::TensorProto::FLOAT);
    w->add_dims(16);
    w->add_dims(16);
    for (int k = 0; k < 256; ++k) w->add_float_data(0.1f);
    Value(g->add_input(), "mem" + s, {1, 16});
    Node(g, "MatMul", {cur, "w" + s}, "I" + s);
    Node(g, "Sub", {"mem" + s, "thr"}, "a" + s);
    Node(g, "Greater", {"a" + s, "zero"}, "b" + s);
    CastToFloat(g, "b" + s, "r" + s);
    Node(g, "Mul", {"beta", "mem" + s}, "c" + s);
    Node(g, "Add", {"c" + s, "I" + s}, "d" + s);
    Node(g, "Mul", {"r" + s, "thr"}, "e" + s);
    Node(g, "Sub", {"d" + s, "e" + s}, "mem" + s + "_out");
    Node(g, "Sub", {"mem" + s + "_out", "thr"}, "f" + s);
    Node(g, "Greater", {"f" + s, "zero"}, "g" + s);
    CastToFloat(g, "g" + s, "s" + s);
    Value(g->add_output(), "mem" + s + "_out", {1, 16});
    cur = "s" + s;
  }
  Value(g->add_output(), cur, {1, 16});
  return m.SerializeAsString();
}

// x[1,2,4,4] -> Conv 1x1 -> `ops` alternating Neg and Relu.
inline std::string ElementwiseChain(int ops) {
  using namespace big_models_detail;
  onnx::ModelProto m = NewModel();
  onnx::GraphProto* g = m.mutable_graph();
  Value(g->add_input(), "x", {1, 2, 4, 4});
  auto* w = g->add_initializer();
  w->set_name("W");
  w->set_data_type(onnx::TensorProto::FLOAT);
  for (int64_t d : {4, 2, 1, 1}) w->add_dims(d);
  for (int k = 0; k < 8; ++k) w->add_float_data(0.5f);
  Node(g, "Conv", {"x", "W"}, "v");
  std::string cur = "v";
  for (int i = 0; i < ops; ++i) {
    std::string out = "e" + std::to_string(i);
    Node(g, i % 2 ? "Relu" : "Neg", {cur}, out);
    cur = out;
  }
  Value(g->add_output(), cur, {1, 4, 4, 4});
  return m.SerializeAsString();
}

}  // namespace snnplan::testing
