// NIR (.nir) graphs -> the stateful workload IR (docs/nir.md).
//
// The graph is flattened (nested NIRGraphs inlined, their Input/Output nodes
// become identities), checked for cycles (refused: recurrence is not in the
// IR yet), and walked in topological order: Affine/Linear become linear
// layers, Conv1d/Conv2d conv layers, AvgPool2d/SumPool2d average pooling
// (SumPool2d with its window size as a gain), Scale a gain folded into its
// producer or a scale layer, Flatten a view; neurons (LIF, CubaLIF, IF, LI,
// I, CubaLI, Threshold, Delay) are discretised with dt (forward Euler, as
// snnTorch's import_nir) into the same neuron model the ONNX importer builds,
// and attach to the layer that produces their input current.
#pragma once

#include <string_view>

#include "absl/status/statusor.h"
#include "snnplan/importer.h"
#include "snnplan/ir.h"

namespace snnplan::importer::internal {

// Imports the bytes of a .nir file. Errors name the node and field, not the
// file (ImportFrom prefixes it); model_file and model_sha256 are left unset.
absl::StatusOr<ir::Workload> ImportNir(std::string_view bytes, const ImportOptions& options);

}  // namespace snnplan::importer::internal
