// The .npy format shared by the .npy and .npz readers and the .npz writer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "snnplan/runtime.h"

namespace snnplan::runtime::internal {

// A sequential source of bytes (a file, a zip member, memory).
class ByteReader {
 public:
  virtual ~ByteReader() = default;
  // Reads up to n bytes into buf; fewer only at the end of the data.
  virtual absl::StatusOr<size_t> Read(char* buf, size_t n) = 0;
  // Total bytes of the source when known in advance, else -1.
  virtual int64_t Size() const = 0;
};

// Reads one .npy from `in`. `where` starts every error message ("<path>" or
// "<path>: member 'x.npy'"). `element_budget` (<= kMaxArrayElements) bounds
// the array's element count; exceeding it is an error raised from the header
// alone, before anything is allocated.
absl::StatusOr<Array> ReadNpyFrom(ByteReader& in, const std::string& where, int64_t element_budget,
                                  const std::string& budget_what);

// A '<f4' .npy of `shape` and `values` (format 1.0, numpy 1.24's header
// layout byte for byte: sorted keys, growth padding, 64-byte alignment).
// The caller has checked the shape and the value count.
std::string NpyFloat32Bytes(const std::vector<int64_t>& shape, const std::vector<float>& values);

// "(2, 3)", "(5,)", "()": Python's repr of the shape tuple.
std::string ShapeRepr(const std::vector<int64_t>& shape);

}  // namespace snnplan::runtime::internal
