// Shared helpers of the cost-model tests: IR layers built directly (no ONNX)
// and the meta-prototype preset with a chosen global-buffer size.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "snnplan/costmodel.h"
#include "snnplan/hwdesc.h"
#include "snnplan/ir.h"

namespace snnplan::cost::testing {

// Relative tolerance for energies (sums of products of exact integers with
// fJ constants: only rounding of doubles differs).
inline constexpr double kRelTol = 1e-9;

inline hw::Hardware MetaPrototype(int64_t gb_bytes = 0) {
  absl::StatusOr<hw::Hardware> h = hw::Preset("meta-prototype");
  EXPECT_TRUE(h.ok()) << h.status();
  if (gb_bytes > 0) h->cores[0].memories.back().size_bits = gb_bytes * 8;
  return *h;
}

struct ConvSpec {
  int64_t T = 1, K = 32, C = 2, OY = 1, OX = 16, FY = 1, FX = 1;
  int64_t stride = 1, pad = 0;
  int input_bits = 1;
  int output_bits = 1;
  ir::NeuronMode mode = ir::NeuronMode::kNone;
};

inline ir::Layer MakeConv(const ConvSpec& s, std::string name = "conv") {
  ir::Layer l;
  l.name = std::move(name);
  l.op = ir::OpKind::kConv;
  l.inputs = {ir::kNetworkInput};
  l.dims.T = s.T;
  l.dims.K = s.K;
  l.dims.C = s.C;
  l.dims.OY = s.OY;
  l.dims.OX = s.OX;
  l.dims.FY = s.FY;
  l.dims.FX = s.FX;
  l.window.stride_y = l.window.stride_x = s.stride;
  l.window.pad_top = l.window.pad_left = s.pad;
  l.window.pad_bottom = l.window.pad_right = s.pad;
  l.in_y = (s.OY - 1) * s.stride + s.FY - 2 * s.pad;
  l.in_x = (s.OX - 1) * s.stride + s.FX - 2 * s.pad;
  l.neuron.mode = s.mode;
  if (s.mode != ir::NeuronMode::kNone) {
    l.neuron.kind = "lif";
    l.neuron.reset = ir::ResetMode::kSubtract;
  }
  l.neuron.states_per_neuron = s.mode == ir::NeuronMode::kStateful ? 1 : 0;
  l.precision.input_bits = s.input_bits;
  l.precision.output_bits = s.output_bits;
  l.weight_elements = s.K * s.C * s.FY * s.FX;
  l.out_shape = {s.K, s.OY, s.OX};
  return l;
}

inline MappedLoop L(ir::Dim d, int64_t size) {
  MappedLoop m;
  m.dim = d;
  m.size = size;
  return m;
}

// Index of the level called `name` in a cost's access table (-1 if absent).
inline int LevelIndex(const TileCost& c, const std::string& name) {
  for (size_t i = 0; i < c.accesses.size(); ++i)
    if (c.accesses[i].memory == name) return static_cast<int>(i);
  return -1;
}

inline const OperandTraffic& Traffic(const TileCost& c, const std::string& level,
                                     ir::Operand op) {
  static const OperandTraffic kNone;
  int i = LevelIndex(c, level);
  return i < 0 ? kNone : c.accesses[i].operand[static_cast<int>(op)];
}

}  // namespace snnplan::cost::testing
