// After layers are built: timesteps, batch, per-layer neurons, T per layer,
// blocks, --stateless-blocks and precisions.
#pragma once

#include "absl/status/statusor.h"
#include "layer_builder.h"
#include "graph.h"
#include "neurons.h"
#include "snnplan/importer.h"
#include "snnplan/ir.h"

namespace snnplan::importer::internal {

struct TimeInfo {
  int64_t timesteps = 1;
  bool in_graph = false;  // T is a graph axis (unrolled, looped, 5-D input)
};

// T from Loop trip counts, unrolled neuron chains or a [T,B,...] input;
// --timesteps for single-step exports.
absl::StatusOr<TimeInfo> DeriveTime(const Scope& main, const ElementwiseAnalysis& ew,
                                    const ImportOptions& options);

// Derives blocks: segments end at residual joins (plus trailing pooling /
// relu); after the last join every spiking weighted layer starts a block;
// without joins every spiking weighted layer does.
void DeriveBlocks(std::vector<ir::Layer>* layers);

// Shared with the NIR importer (nir_import.cc): blocks (derived, or
// --blocks) and --stateless-blocks, setting w->num_blocks; precisions
// (`spike_like`: per layer, its outputs are spikes) and the 2^62 size limits.
absl::Status ApplyBlockOptions(const ImportOptions& o, ir::Workload* w);
void SetLayerPrecisions(const ImportOptions& o, const std::vector<bool>& spike_like,
                        std::vector<ir::Layer>* layers);
absl::Status CheckWorkloadLimits(const ir::Workload& w);

absl::StatusOr<ir::Workload> Finalize(const Scope& main, const TimeInfo& time, BuiltGraph built,
                                      const ImportOptions& options);

}  // namespace snnplan::importer::internal
