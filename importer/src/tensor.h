// Constant tensors of the importer: initializers, Constant nodes and every
// value folded from them. Elements are doubles rounded to the tensor's ONNX
// element type after every operation, so folded values equal what a float32
// (or int64, ...) runtime computes for the exactly rounded ops.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "onnx/onnx_pb.h"

namespace snnplan::importer::internal {

using Shape = std::vector<int64_t>;

// Product of the dims, saturating at INT64_MAX (never overflows).
int64_t Numel(const Shape& s);
// A double from the file as an integer: NaN -> 0, out of range -> the
// nearest int64 bound (a plain cast would be undefined behaviour).
int64_t ToInt64(double d);
// ONNX (numpy) broadcasting of two shapes; nullopt when incompatible.
std::optional<Shape> Broadcast(const Shape& a, const Shape& b);
// `v` as stored in ONNX element type `dtype` (float32 rounding, integer
// truncation and wrap-around, bool as 0/1).
double RoundTo(int32_t dtype, double v);
bool IsFloatType(int32_t dtype);
// Bytes per element in raw_data (0 for types the importer does not read).
int ElementWidth(int32_t dtype);
// Element types the importer computes with (numeric and bool).
bool IsSupportedType(int32_t dtype);

// Elements at most this many are materialized when folding.
inline constexpr int64_t kMaxFoldElements = int64_t{1} << 22;

struct Tensor {
  int32_t dtype = onnx::TensorProto::FLOAT;
  Shape shape;
  std::vector<double> data;            // every element (row-major), or empty
  std::optional<double> splat;         // set when every element is equal
  const onnx::TensorProto* proto = nullptr;  // large initializer, read on demand

  int64_t numel() const { return Numel(shape); }
  // Values are at hand: data holds every element, or the tensor is uniform.
  bool materialized() const {
    return splat.has_value() || static_cast<int64_t>(data.size()) == numel();
  }
  // Element `flat` of a materialized tensor.
  double at(int64_t flat) const { return splat ? *splat : data[flat]; }
  // The value every element has, when uniform and materialized.
  std::optional<double> Uniform() const;

  static Tensor Scalar(double v, int32_t dtype = onnx::TensorProto::FLOAT);
  static Tensor Splat(Shape shape, double v, int32_t dtype = onnx::TensorProto::FLOAT);
  static Tensor Vector(std::vector<double> values, int32_t dtype);
};

// Reads a TensorProto's elements (typed fields or raw_data) as doubles; the
// element count must match the declared dims.
absl::Status ReadTensorData(const onnx::TensorProto& t, std::vector<double>* out);
// The tensor for an initializer or Constant value: small ones are read now,
// large ones keep a pointer to `t` (which must outlive the Tensor).
absl::StatusOr<Tensor> TensorFromProto(const onnx::TensorProto& t);
// All elements of `t`, reading a lazy initializer (nullopt when too large or
// unreadable).
std::optional<std::vector<double>> Materialize(const Tensor& t);

// Elementwise map over broadcast inputs: out[i] = fn(args at i). Uniform
// inputs give a uniform output without materializing it. nullopt when the
// shapes do not broadcast or an input is not materialized or too large.
using ElementFn = std::function<double(const double* args)>;
std::optional<Tensor> MapElements(const std::vector<const Tensor*>& in, int32_t dtype,
                                  const ElementFn& fn);

// Offset into a tensor of shape `in` (right-aligned, broadcast) of the
// element at multi-index `idx` of shape `out`.
int64_t BroadcastOffset(const Shape& in, const Shape& out, const std::vector<int64_t>& idx);
// Multi-index of flat position `flat` in `shape`.
void Unflatten(int64_t flat, const Shape& shape, std::vector<int64_t>* idx);

}  // namespace snnplan::importer::internal
