// ONNX external data (onnx/external_data_helper.py): a tensor whose
// data_location is EXTERNAL keeps its bytes in a file named by its
// external_data "location" (relative to the model's directory), from
// "offset" for "length" bytes. LoadExternalData reads them into raw_data
// before anything else looks at the model.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "onnx/onnx_pb.h"

namespace snnplan::importer::internal {

// Most bytes of external data one model may load (all its tensors).
inline constexpr int64_t kMaxExternalDataBytes = int64_t{4} << 30;

// Replaces the external data of every tensor of `model` (initializers,
// sparse initializers and tensor attributes, in all subgraphs) by raw_data
// and clears its external fields. `model_dir` is the directory of the model
// file; empty for a model given as bytes, whose external tensors are then an
// error. Refused, naming the tensor and file: an absolute location, one that
// leaves `model_dir` (by "..", or by a symlink), a missing or non-regular
// file, an offset or length outside the file or not a non-negative integer,
// and a byte count that differs from the tensor's dims times its type size.
absl::Status LoadExternalData(onnx::ModelProto& model, const std::string& model_dir);

}  // namespace snnplan::importer::internal
