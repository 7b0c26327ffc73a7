// Tiny hand-checkable workloads and hardware shared by the planner,
// validator and exploration tests.
#pragma once

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "snnplan/hwdesc.h"
#include "snnplan/ir.h"

namespace snnplan::testing {

// A conv layer with square kernel F, padding P, stride 1.
inline ir::Layer Conv(const std::string& name, std::vector<int> inputs, int64_t k, int64_t c,
                      int64_t rows, int64_t f, int64_t pad, bool stateful, int input_bits,
                      int block) {
  ir::Layer l;
  l.name = name;
  l.op = ir::OpKind::kConv;
  l.inputs = std::move(inputs);
  l.block = block;
  l.dims.T = 2;
  l.dims.K = k;
  l.dims.C = c;
  l.dims.OY = rows;
  l.dims.OX = rows;
  l.dims.FY = f;
  l.dims.FX = f;
  l.window.pad_top = l.window.pad_bottom = l.window.pad_left = l.window.pad_right = pad;
  l.in_y = rows + f - 1 - 2 * pad;
  l.in_x = l.in_y;
  if (stateful) {
    l.neuron.mode = ir::NeuronMode::kStateful;
    l.neuron.kind = "lif";
    l.neuron.states_per_neuron = 1;
    l.neuron.reset = ir::ResetMode::kSubtract;
  }
  l.precision.input_bits = input_bits;
  l.precision.output_bits = 1;
  l.weight_elements = k * c * f * f;
  l.out_shape = {k, rows, rows};
  return l;
}

inline hw::Hardware MetaPrototype(int64_t sram_bytes) {
  hw::Hardware h = *hw::Preset("meta-prototype");
  EXPECT_TRUE(hw::ResizeGlobalBuffer(h, sram_bytes).ok());
  return h;
}

}  // namespace snnplan::testing
