// Writes tiny ONNX models into a directory, as extra seeds for fuzz_importer
// (fuzz/corpus/importer/tiny_*.onnx were made with it). Small seeds let
// libFuzzer mutate thousands of models per second, where the real exports
// (65-265 KB) allow tens. Usage: make_importer_seeds DIR
#include <fstream>
#include <iostream>
#include <string>

#include "importer/tiny_nets.h"

namespace {

using snnplan::testing::GraphBuilder;

void Write(const std::string& dir, const std::string& name, const GraphBuilder& b) {
  std::ofstream(dir + "/" + name, std::ios::binary) << b.Bytes();
}

// x[1,2,4,4] -> shape arithmetic (Shape/Gather/Unsqueeze/Concat/Reshape/
// Slice/Flatten) -> Gemm -> snnTorch Leaky: the shape-propagation paths.
GraphBuilder ShapeOpsNet() {
  using namespace snnplan::testing;
  GraphBuilder b;
  std::string x = b.Input("x", {1, 2, 4, 4});
  std::string mem = b.Input("mem", {1, 3});
  b.Init("beta", {}, {0.9f});
  b.Init("thr", {}, {1.0f});
  std::string shape = b.Op("Shape", {x});
  std::string batch = b.Op("Gather", {shape, b.Ints("i0", {0})});
  onnx::NodeProto* concat = b.Node("Concat", {batch, b.Ints("m1", {-1})});
  GraphBuilder::AttrInt(concat, "axis", 0);
  std::string target = concat->output(0);
  std::string sliced = b.Op("Slice", {x, b.Ints("st", {0}), b.Ints("en", {2}), b.Ints("ax", {1})});
  std::string flat = b.Op("Reshape", {sliced, target});
  b.Fill("Wfc", {3, 32}, 0.25f);
  onnx::NodeProto* gemm = b.Node("Gemm", {flat, "Wfc"});
  GraphBuilder::AttrInt(gemm, "transB", 1);
  Lif l = SnnTorchLeaky(b, gemm->output(0), mem, Reset::kSubtract, "beta", "thr");
  b.Output(l.spike, 2);
  b.Output(l.mem_out, 2);
  return b;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: make_importer_seeds DIR\n";
    return 2;
  }
  using snnplan::testing::Reset;
  using snnplan::testing::SnnTorchStepNet;
  const std::string dir = argv[1];
  Write(dir, "tiny_step_subtract.onnx", SnnTorchStepNet(Reset::kSubtract));
  Write(dir, "tiny_step_zero.onnx", SnnTorchStepNet(Reset::kZero));
  Write(dir, "tiny_step_noreset.onnx", SnnTorchStepNet(Reset::kNone, 0.5f));
  Write(dir, "tiny_shape_ops.onnx", ShapeOpsNet());
  return 0;
}
