// Every bad fixture is rejected with a message naming the file and the
// offending node(s)/op(s); options are validated.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "snnplan/importer.h"
#include "tiny_nets.h"

namespace snnplan {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

std::string Bad(const std::string& name) {
  return std::string(SNNPLAN_SOURCE_DIR) + "/models/bad/" + name;
}

absl::Status ImportStatus(const std::string& path, importer::ImportOptions o = {}) {
  return importer::ImportFile(path, o).status();
}

TEST(Errors, EmptyFile) {
  absl::Status s = ImportStatus(Bad("empty.onnx"));
  EXPECT_THAT(s.message(), AllOf(HasSubstr("empty.onnx"), HasSubstr("empty file")));
}

TEST(Errors, TruncatedAndRandomBytes) {
  for (const char* f : {"truncated.onnx", "random_bytes.onnx"}) {
    absl::Status s = ImportStatus(Bad(f));
    EXPECT_THAT(s.message(), AllOf(HasSubstr(f), HasSubstr("protobuf parse error")));
  }
}

TEST(Errors, UnsupportedLstm) {
  absl::Status s = ImportStatus(Bad("unknown_op_lstm.onnx"));
  EXPECT_THAT(s.message(), AllOf(HasSubstr("unknown_op_lstm.onnx"),
                                 HasSubstr("unsupported op LSTM"), HasSubstr("/lstm/LSTM")));
}

TEST(Errors, OpaquePythonOp) {
  importer::ImportOptions o;
  o.timesteps = 4;
  absl::Status s = ImportStatus(Bad("unknown_op_pythonop.onnx"), o);
  EXPECT_THAT(s.message(), AllOf(HasSubstr("unknown_op_pythonop.onnx"), HasSubstr("prim::PythonOp"),
                                 HasSubstr("/net/lif1/PythonOp")));
}

TEST(Errors, CustomDomainHeaviside) {
  importer::ImportOptions o;
  o.timesteps = 4;
  absl::Status s = ImportStatus(Bad("custom_domain_heaviside.onnx"), o);
  EXPECT_THAT(s.message(), AllOf(HasSubstr("custom_domain_heaviside.onnx"),
                                 HasSubstr("snn::Heaviside"), HasSubstr("/net/lif1/Heaviside")));
}

TEST(Errors, SymbolicBatchNeedsPinning) {
  importer::ImportOptions o;
  o.timesteps = 4;
  absl::Status s = ImportStatus(Bad("dynamic_batch_snntorch_step.onnx"), o);
  EXPECT_THAT(s.message(), AllOf(HasSubstr("dynamic_batch_snntorch_step.onnx"),
                                 HasSubstr("input x dimension 0 ('batch')"), HasSubstr("--batch")));
}

TEST(Errors, SymbolicTimeNeedsPinning) {
  importer::ImportOptions o;
  o.batch = 2;
  absl::Status s = ImportStatus(Bad("dynamic_batch_time_sj_loop.onnx"), o);
  EXPECT_THAT(s.message(),
              AllOf(HasSubstr("input x_seq dimension 0 ('T')"), HasSubstr("--timesteps")));
  o = {};
  o.timesteps = 4;
  s = ImportStatus(Bad("dynamic_batch_time_sj_loop.onnx"), o);
  EXPECT_THAT(s.message(), HasSubstr("dimension 1 ('batch')"));
}

TEST(Errors, MissingFile) {
  absl::Status s = ImportStatus(Bad("does_not_exist.onnx"));
  EXPECT_THAT(s.message(), HasSubstr("does_not_exist.onnx"));
}

TEST(Errors, TimestepsDisagreeWithGraph) {
  importer::ImportOptions o;
  o.timesteps = 8;
  absl::Status s = ImportStatus(
      std::string(SNNPLAN_SOURCE_DIR) + "/models/snntorch_nmnist_unrolled_T4_op13.onnx", o);
  EXPECT_THAT(s.message(), AllOf(HasSubstr("--timesteps 8"), HasSubstr("T = 4")));
}

TEST(Errors, LinearInputSizeChanged) {
  importer::ImportOptions o;
  o.timesteps = 4;
  o.input_shapes["x"] = {2, 40, 40};
  absl::Status s =
      ImportStatus(std::string(SNNPLAN_SOURCE_DIR) + "/models/snntorch_nmnist_step_op13.onnx", o);
  EXPECT_THAT(s.message(), AllOf(HasSubstr("/net/fc/Gemm"), HasSubstr("5408")));
}

TEST(Errors, UnknownInputShapeName) {
  importer::ImportOptions o;
  o.timesteps = 4;
  o.input_shapes["y"] = {2, 40, 40};
  absl::Status s =
      ImportStatus(std::string(SNNPLAN_SOURCE_DIR) + "/models/snntorch_nmnist_step_op13.onnx", o);
  EXPECT_THAT(s.message(), HasSubstr("no input 'y'"));
}

TEST(Errors, StatelessBlockOutOfRange) {
  importer::ImportOptions o;
  o.timesteps = 4;
  o.stateless_blocks = {9};
  absl::Status s =
      ImportStatus(std::string(SNNPLAN_SOURCE_DIR) + "/models/snntorch_nmnist_step_op13.onnx", o);
  EXPECT_THAT(s.message(), HasSubstr("block 9"));
}

TEST(Errors, BlocksFileOverridesAndValidates) {
  std::string path = ::testing::TempDir() + "/blocks.json";
  {
    std::ofstream f(path);
    f << R"({"/net/conv1/Conv": 0, "/net/conv2/Conv": 0, "/net/pool/MaxPool": 0, "/net/fc/Gemm": 1})";
  }
  importer::ImportOptions o;
  o.timesteps = 4;
  o.blocks_file = path;
  absl::StatusOr<ir::Workload> w = importer::ImportFile(
      std::string(SNNPLAN_SOURCE_DIR) + "/models/snntorch_nmnist_step_op13.onnx", o);
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ(w->num_blocks, 2);
  EXPECT_EQ(w->layers[1].block, 0);
  EXPECT_EQ(w->layers[3].block, 1);
  {
    std::ofstream f(path);
    f << R"({"nope": 0})";
  }
  EXPECT_THAT(importer::ImportFile(
                  std::string(SNNPLAN_SOURCE_DIR) + "/models/snntorch_nmnist_step_op13.onnx", o)
                  .status()
                  .message(),
              HasSubstr("no layer named 'nope'"));
  std::remove(path.c_str());
}

// A node the importer does not understand is an error, never dropped.
TEST(Errors, UnknownOpBetweenLayers) {
  testing::GraphBuilder b;
  std::string x = b.Input("x", {1, 2, 4, 4});
  std::string y = b.Op("Softmax", {testing::TinyConv(b, x)});
  b.Output(y);
  absl::Status s = testing::Import(b, testing::Steps(1)).status();
  EXPECT_THAT(s.message(), AllOf(HasSubstr("tiny.onnx"), HasSubstr("unsupported op Softmax"),
                                 HasSubstr("/Softmax_")));
}

// Elementwise products of two activations (gating) have no IR layer.
TEST(Errors, ProductOfTwoActivations) {
  testing::GraphBuilder b;
  std::string x = b.Input("x", {1, 2, 4, 4});
  std::string c = testing::TinyConv(b, x);
  std::string y = b.Op("Mul", {c, b.Op("Relu", {c})});
  b.Output(y);
  absl::Status s = testing::Import(b, testing::Steps(1)).status();
  EXPECT_THAT(s.message(), AllOf(HasSubstr("tiny.onnx"), HasSubstr("(Mul)"),
                                 HasSubstr("elementwise Mul of two activations")));
}

// A constant scale after a conv is folded into it, like a bias.
TEST(Errors, ScaleAfterConvFolds) {
  testing::GraphBuilder b;
  std::string x = b.Input("x", {1, 2, 4, 4});
  std::string y = b.Op("Mul", {testing::TinyConv(b, x), b.Const(2.0f)});
  b.Output(y);
  absl::StatusOr<ir::Workload> w = testing::Import(b, testing::Steps(1));
  ASSERT_TRUE(w.ok()) << w.status();
  ASSERT_EQ(w->layers.size(), 1u);
  EXPECT_EQ(w->layers[0].op, ir::OpKind::kConv);
  EXPECT_EQ(w->layers[0].weight_elements, 6);  // a scalar scale adds no stored parameter
}

// x -> Conv 1x1 (2 -> 3): the smallest graph that imports; node 0 is the Conv.
testing::GraphBuilder ConvOnly(std::vector<int64_t> x_shape = {1, 2, 4, 4}) {
  testing::GraphBuilder b;
  b.Output(testing::TinyConv(b, b.Input("x", x_shape)));
  return b;
}

onnx::NodeProto* Conv(testing::GraphBuilder& b) {
  return b.model().mutable_graph()->mutable_node(0);
}

// Protobuf accepts any bytes in proto2 strings; names must be UTF-8 because
// they end up in JSON (found by fuzz_importer).
TEST(Errors, NodeNameNotUtf8) {
  testing::GraphBuilder b = ConvOnly();
  Conv(b)->set_name("conv\xC0\x80");  // overlong NUL
  EXPECT_THAT(testing::Import(b, testing::Steps(1)).status().message(),
              AllOf(HasSubstr("tiny.onnx"), HasSubstr("the name of node #0 (op Conv)"),
                    HasSubstr("not valid UTF-8")));
}

TEST(Errors, TensorNameNotUtf8) {
  testing::GraphBuilder b = ConvOnly();
  Conv(b)->set_output(0, "y\xE2\x82");  // truncated
  EXPECT_THAT(testing::Import(b, testing::Steps(1)).status().message(),
              HasSubstr("a tensor name of node #0 (op Conv) is not valid UTF-8"));
}

TEST(Errors, GraphNameNotUtf8) {
  testing::GraphBuilder b = ConvOnly();
  b.model().mutable_graph()->set_name("g\xED\xA0\x80");  // a UTF-16 surrogate
  EXPECT_THAT(testing::Import(b, testing::Steps(1)).status().message(),
              HasSubstr("graph name is not valid UTF-8"));
}

TEST(Errors, ValidUtf8NamesImport) {
  testing::GraphBuilder b = ConvOnly();
  Conv(b)->set_name("conv_\xCE\xB2_\xF0\x9F\x98\x80");
  absl::StatusOr<ir::Workload> w = testing::Import(b, testing::Steps(1));
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_NE(importer::ToJson(*w).dump().find("conv_\xCE\xB2"), std::string::npos);
}

TEST(Errors, NonUtf8FileNameIsSanitisedInIr) {
  testing::GraphBuilder b = ConvOnly();
  absl::StatusOr<ir::Workload> w =
      importer::ImportBytes(b.Bytes(), "dir/m\xFF.onnx", testing::Steps(1));
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ(w->model_file, "m?.onnx");
  EXPECT_NO_THROW((void)importer::ToJson(*w).dump());
}

// libonnx's Conv shape inference read out of bounds on these (fuzz_importer);
// the importer's own shape rules refuse them.
TEST(Errors, ConvInputRankDiffersFromWeightRank) {
  testing::GraphBuilder b = ConvOnly({2, 4, 4});
  EXPECT_THAT(testing::Import(b, testing::Steps(1)).status().message(),
              AllOf(HasSubstr("tiny.onnx"), HasSubstr("(Conv)"),
                    HasSubstr("input rank 3 differs from weight rank 4")));
}

TEST(Errors, ConvInputWithoutSpatialAxes) {
  testing::GraphBuilder b = ConvOnly({2, 4});
  EXPECT_THAT(testing::Import(b, testing::Steps(1)).status().message(),
              HasSubstr("input has rank 2, expected N x C x spatial"));
}

TEST(Errors, ConvPadsOfWrongLength) {
  testing::GraphBuilder b = ConvOnly();
  auto* pads = Conv(b)->add_attribute();
  pads->set_name("pads");
  pads->set_type(onnx::AttributeProto::INTS);
  for (int i = 0; i < 3; ++i) pads->add_ints(1);
  EXPECT_THAT(testing::Import(b, testing::Steps(1)).status().message(),
              HasSubstr("attribute pads has 3 values, expected 4"));
}

}  // namespace
}  // namespace snnplan
