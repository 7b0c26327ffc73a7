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

// input 2x4x4 (4 bit) -> conv1x1 2->4 (LIF) -> conv3x3 pad 1 4->4 (LIF) -> out
inline ir::Workload TwoLayerNet() {
  ir::Workload w;
  w.model_file = "two_layer.onnx";
  w.timesteps = 2;
  w.num_blocks = 1;
  w.layers.push_back(Conv("c0", {ir::kNetworkInput}, 4, 2, 4, 1, 0, true, 4, 0));
  w.layers.push_back(Conv("c1", {0}, 4, 4, 4, 3, 1, true, 1, 0));
  w.layers[1].network_output = true;
  return w;
}

// `cores` meta-prototype cores (ids 0..cores-1) with `sram_bytes` global
// buffers, placed on a mesh row by row `columns` wide; NoC links of 32
// bit/cycle and 40 fJ/bit/hop.
inline hw::Hardware MetaPrototypeMesh(int cores, int columns, int64_t sram_bytes) {
  hw::Hardware h = MetaPrototype(sram_bytes);
  h.name = "mesh";
  const hw::Core core = h.cores.front();
  h.cores.clear();
  h.noc.positions.clear();
  for (int i = 0; i < cores; ++i) {
    h.cores.push_back(core);
    h.cores.back().id = i;
    h.noc.positions.push_back({i, i % columns, i / columns});
  }
  h.noc.link_bw_bits_per_cycle = 32;
  h.noc.link_energy_fj_per_bit_per_hop = 40;
  return h;
}

}  // namespace snnplan::testing
