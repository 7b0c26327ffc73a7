// Builds tiny ONNX models with the protobuf API for importer tests.
#pragma once

#include <string>
#include <vector>

#include "onnx/onnx_pb.h"

namespace snnplan::testing {

class GraphBuilder {
 public:
  explicit GraphBuilder(onnx::GraphProto* g = nullptr, std::string prefix = "")
      : g_(g ? g : model_.mutable_graph()), prefix_(std::move(prefix)) {
    model_.set_ir_version(7);
    model_.set_producer_name("test");
    auto* op = model_.add_opset_import();
    op->set_domain("");
    op->set_version(13);
    g_->set_name("g");
  }

  onnx::GraphProto* graph() { return g_; }

  std::string Input(const std::string& name, const std::vector<int64_t>& shape,
                    int elem = onnx::TensorProto::FLOAT) {
    SetType(g_->add_input(), name, shape, elem);
    return name;
  }
  // A graph output of the given rank (dims symbolic, as in real exports).
  void Output(const std::string& name, int rank = 4, int elem = onnx::TensorProto::FLOAT) {
    auto* vi = g_->add_output();
    vi->set_name(name);
    auto* tt = vi->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(elem);
    auto* shape = tt->mutable_shape();
    for (int i = 0; i < rank; ++i) shape->add_dim()->set_dim_param(name + "_d" + std::to_string(i));
  }
  std::string Init(const std::string& name, const std::vector<int64_t>& shape,
                   const std::vector<float>& values) {
    *g_->add_initializer() = Tensor(name, shape, values);
    return name;
  }
  std::string Fill(const std::string& name, const std::vector<int64_t>& shape, float v) {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return Init(name, shape, std::vector<float>(n, v));
  }
  std::string Ints(const std::string& name, const std::vector<int64_t>& values) {
    auto* t = g_->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::INT64);
    t->add_dims(static_cast<int64_t>(values.size()));
    for (int64_t v : values) t->add_int64_data(v);
    return name;
  }
  // A scalar Constant node (no name visible to the importer but its output).
  std::string Const(float v) {
    std::string out = Fresh("c");
    auto* n = g_->add_node();
    n->set_op_type("Constant");
    n->set_name(out + "_node");
    n->add_output(out);
    auto* a = n->add_attribute();
    a->set_name("value");
    a->set_type(onnx::AttributeProto::TENSOR);
    *a->mutable_t() = Tensor("", {}, {v});
    return out;
  }
  onnx::NodeProto* Node(const std::string& op, const std::vector<std::string>& in,
                        std::string out = "") {
    if (out.empty()) out = Fresh(op);
    auto* n = g_->add_node();
    n->set_op_type(op);
    n->set_name("/" + out);
    for (const auto& i : in) n->add_input(i);
    n->add_output(out);
    return n;
  }
  std::string Op(const std::string& op, const std::vector<std::string>& in,
                 const std::string& out = "") {
    return Node(op, in, out)->output(0);
  }
  static void AttrInt(onnx::NodeProto* n, const std::string& name, int64_t v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(v);
  }
  static void AttrInts(onnx::NodeProto* n, const std::string& name,
                       const std::vector<int64_t>& v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INTS);
    for (int64_t x : v) a->add_ints(x);
  }
  // Greater/GreaterOrEqual(x, thr) -> Cast(FLOAT).
  std::string Fire(const std::string& op, const std::string& x, const std::string& thr) {
    std::string b = Op(op, {x, thr});
    onnx::NodeProto* c = Node("Cast", {b});
    AttrInt(c, "to", onnx::TensorProto::FLOAT);
    return c->output(0);
  }
  std::string Bytes() const { return model_.SerializeAsString(); }
  onnx::ModelProto& model() { return model_; }

  static onnx::TensorProto Tensor(const std::string& name, const std::vector<int64_t>& shape,
                                  const std::vector<float>& values) {
    onnx::TensorProto t;
    t.set_name(name);
    t.set_data_type(onnx::TensorProto::FLOAT);
    for (int64_t d : shape) t.add_dims(d);
    for (float v : values) t.add_float_data(v);
    return t;
  }
  static void SetType(onnx::ValueInfoProto* vi, const std::string& name,
                      const std::vector<int64_t>& shape, int elem) {
    vi->set_name(name);
    auto* tt = vi->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(elem);
    auto* s = tt->mutable_shape();
    for (int64_t d : shape) s->add_dim()->set_dim_value(d);
  }
  std::string Fresh(const std::string& p) {
    return prefix_ + p + "_" + std::to_string(counter_++);
  }

 private:
  onnx::ModelProto model_;
  onnx::GraphProto* g_;
  std::string prefix_;
  int counter_ = 0;
};

}  // namespace snnplan::testing
