// Tiny models from ONNX text (onnx::OnnxParser), imported from memory.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "onnx/defs/parser.h"
#include "onnx/onnx_pb.h"
#include "snnplan/importer.h"

namespace snnplan::testing {

// Parses `text` (the ONNX text format); fails the calling test on a syntax
// error by returning an empty model.
inline onnx::ModelProto ParseOnnx(const std::string& text) {
  onnx::ModelProto m;
  onnx::OnnxParser parser(text.c_str());
  auto status = parser.Parse(m);
  if (!status.IsOK()) return onnx::ModelProto();
  return m;
}

inline absl::StatusOr<ir::Workload> ImportText(const std::string& text,
                                               importer::ImportOptions options = {}) {
  onnx::ModelProto m = ParseOnnx(text);
  if (!m.has_graph()) return absl::InvalidArgumentError("test model does not parse");
  return importer::ImportBytes(m.SerializeAsString(), "text.onnx", options);
}

}  // namespace snnplan::testing
