// ONNX importer: snnTorch / SpikingJelly exports -> stateful workload IR.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "snnplan/ir.h"

namespace snnplan::importer {

// One field per knob; each maps 1:1 to a CLI flag of `snnplan import`.
struct ImportOptions {
  // --timesteps: T for single-step exports (required there); for unrolled or
  // looped graphs it binds a symbolic T and must agree with a static one.
  std::optional<int64_t> timesteps;
  // --batch: binds a symbolic batch dimension (samples per inference).
  std::optional<int64_t> batch;
  // --input-shape NAME=C,H,W: re-propagate shapes for another input size.
  std::map<std::string, std::vector<int64_t>> input_shapes;
  // --blocks: JSON object file, layer name -> block id (overrides derivation).
  std::string blocks_file;
  // --stateless-blocks: spiking layers of these blocks become stateless.
  std::vector<int> stateless_blocks;
  // --weight-bits: precision of weights.
  int weight_bits = 4;
  // --input-bits: precision of the (analog) network input.
  int input_bits = 4;
  // --feature-bits: precision of non-spiking features between layers.
  int feature_bits = 4;
  // --state-bits: neuron state precision in memory.
  int state_bits = 12;
  // --accumulator-bits: partial sum / state precision in the PE register.
  int accumulator_bits = 16;
  // --sew-join-bits: output bits of SEW ADD joins (1 as in STEMS, 2 = 0/1/2).
  int sew_join_bits = 1;
  // --dt: NIR files only: the time step in seconds the continuous-time
  // neuron equations are discretised with (forward Euler, docs/nir.md);
  // unset = kDefaultNirDtSeconds.
  std::optional<double> dt_seconds;
  // Read the layers' weights, biases and folded BatchNorm into
  // Layer::params (set by commands that execute the network, e.g. `run`;
  // planning needs only shapes).
  bool load_parameters = false;
};

// The default --dt of NIR imports: 1e-4 s, the dt snnTorch's export_to_nir
// and import_nir assume (so snnTorch exports round-trip exactly).
inline constexpr double kDefaultNirDtSeconds = 1e-4;

// Imports a model file: ONNX, or NIR (HDF5 .nir, told apart by the HDF5
// signature; docs/nir.md). Errors name the file and the offending node(s)/op(s).
absl::StatusOr<ir::Workload> ImportFile(const std::string& path,
                                        const ImportOptions& options);
// Imports serialized ModelProto bytes; `source` names them in messages.
absl::StatusOr<ir::Workload> ImportBytes(std::string_view bytes,
                                         std::string_view source,
                                         const ImportOptions& options);

// Several models as one deployment: their layers one after another (ids,
// blocks and neuron current sources shifted; names and graph bindings
// prefixed with the network's name, the file's stem made unique: "wide/conv1"),
// one shared network input (the first model's binding; the others read it),
// and Workload::networks saying which layers and blocks are whose. Refused,
// naming both files: fewer than two models, different timesteps, batch, time
// layout or --dt, and network inputs of different geometry (channels, rows,
// columns, bits) or declared shapes, since the planner holds one network input.
absl::StatusOr<ir::Workload> CombineWorkloads(std::vector<ir::Workload> parts);

// Versioned, deterministic JSON of the IR (documented in docs/ir.md).
nlohmann::json ToJson(const ir::Workload& workload);
// The human-readable per-layer and per-block table of `snnplan import`.
std::string DescribeTable(const ir::Workload& workload);

}  // namespace snnplan::importer
