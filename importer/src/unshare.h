// Un-CSE of a static input's current (snnTorch's static-input idiom): a loop
// `for t: cur = fc1(x); spk, mem = lif(cur, mem)` over the same `x` exports
// ONE `fc1` node whose output every unrolled membrane update reads. Before
// neuron matching, each of those readers gets its own copy of the
// step-independent subgraph that computes the shared tensor, so the graph
// looks like an ordinary unrolled export (one current per step). The copies
// are accepted only when every copy turns out to be the current of one step
// of one neuron, in step order (CheckUnshared); otherwise the importer
// reads the graph as it was exported.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "graph.h"
#include "neurons.h"
#include "onnx/onnx_pb.h"

namespace snnplan::importer::internal {

struct UnsharedTensor {
  std::string value;                 // the shared tensor, as exported
  std::string producer;              // the node that computes it (for messages)
  std::vector<std::string> readers;  // its readers in graph order (names for messages)
  std::vector<std::string> copies;   // per reader: the value it reads now (copies[0] = value)
  std::vector<std::string> inputs;   // the graph inputs its subgraph reads (static inputs)
};

struct Unshared {
  onnx::ModelProto model;  // the rewritten model (valid only when `tensors` is not empty)
  std::vector<UnsharedTensor> tensors;
};

// Finds tensors computed from graph inputs only through layers and views
// (no neuron, no time slicing) that several elementwise nodes read, and
// gives every reader after the first its own copy of that subgraph.
// `tensors` is empty when there is nothing to rewrite.
Unshared UnshareStaticCurrents(const onnx::ModelProto& model);

// After neuron matching on the rewritten model: every copy of a shared
// tensor must be the input current of consecutive steps 0..n-1 of one
// unrolled neuron with n steps. Returns the reason otherwise.
absl::Status CheckUnshared(const Scope& main, const ElementwiseAnalysis& ew,
                           const std::vector<UnsharedTensor>& tensors);

}  // namespace snnplan::importer::internal
