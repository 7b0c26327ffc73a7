// Tiny spiking nets in the exporters' idioms (see onnx-patterns.md), built
// with the protobuf API, plus helpers to run the importer.
#pragma once

#include <string>
#include <vector>

#include "graph_builder.h"
#include "snnplan/importer.h"

namespace snnplan::testing {

enum class Reset { kSubtract, kZero, kNone };

// x[1,2,4,4] -> Conv 1x1 2->3 (weights "W": 6 elements, no bias).
inline std::string TinyConv(GraphBuilder& b, const std::string& x) {
  bool have = false;
  for (const auto& i : b.graph()->initializer()) have |= i.name() == "W";
  if (!have) b.Fill("W", {3, 2, 1, 1}, 0.5f);
  return b.Op("Conv", {x, "W"});
}

struct Lif {
  std::string spike;
  std::string mem_out;
};

// snnTorch Leaky, one step (onnx-patterns.md 1.1 and its reset variants).
inline Lif SnnTorchLeaky(GraphBuilder& b, const std::string& cur, const std::string& mem,
                         Reset reset, const std::string& beta, const std::string& thr) {
  std::string zero = b.Const(0.0f);
  std::string clip = b.Op("Clip", {beta, b.Const(0.0f), b.Const(1.0f)});
  std::string mem_out;
  if (reset == Reset::kSubtract) {
    std::string r = b.Fire("Greater", b.Op("Sub", {mem, thr}), zero);
    std::string acc = b.Op("Add", {b.Op("Mul", {clip, mem}), cur});
    mem_out = b.Op("Sub", {acc, b.Op("Mul", {r, thr})});
  } else if (reset == Reset::kZero) {
    std::string r = b.Fire("Greater", b.Op("Sub", {mem, thr}), zero);
    std::string keep = b.Op("Mul", {b.Op("Sub", {b.Const(1.0f), r}), mem});
    mem_out = b.Op("Add", {b.Op("Mul", {clip, keep}), cur});
  } else {
    mem_out = b.Op("Add", {b.Op("Mul", {clip, mem}), cur});
  }
  std::string spk = b.Fire("Greater", b.Op("Sub", {mem_out, thr}), b.Const(0.0f));
  return {b.Op("Mul", {spk, thr}), mem_out};
}

// Single-step snnTorch net: x, mem -> conv -> Leaky -> spk, mem_out, on
// h x w feature maps.
inline GraphBuilder SnnTorchStepNet(Reset reset, float beta = 0.9f, int64_t h = 4, int64_t w = 4) {
  GraphBuilder b;
  std::string x = b.Input("x", {1, 2, h, w});
  std::string mem = b.Input("mem", {1, 3, h, w});
  b.Init("beta", {}, {beta});
  b.Init("thr", {}, {1.0f});
  Lif l = SnnTorchLeaky(b, TinyConv(b, x), mem, reset, "beta", "thr");
  b.Output(l.spike);
  b.Output(l.mem_out);
  return b;
}

inline absl::StatusOr<ir::Workload> Import(GraphBuilder& b, importer::ImportOptions o = {}) {
  return importer::ImportBytes(b.Bytes(), "tiny.onnx", o);
}

// Import options for a single-step export run over `t` timesteps.
inline importer::ImportOptions Steps(int64_t t) {
  importer::ImportOptions o;
  o.timesteps = t;
  return o;
}

}  // namespace snnplan::testing
