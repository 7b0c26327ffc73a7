// Evaluates a set of elementwise nodes of a scope at sampled element
// positions, with ONNX semantics (broadcasting, each result rounded to its
// element type). Because every node is elementwise, evaluating the sampled
// elements equals sampling the full evaluation, so a neuron's ONNX
// subgraph can be checked against the IR's equations cheaply.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "graph.h"

namespace snnplan::importer::internal {

class SampleEvaluator {
 public:
  // `ref`: the shape every dynamic value broadcasts to; `positions`: flat
  // indices into it.
  SampleEvaluator(const Scope& scope, Shape ref, std::vector<int64_t> positions);

  int samples() const { return static_cast<int>(positions_.size()); }
  const Shape& ref() const { return ref_; }
  // Flat offset, in a tensor of shape `s`, of sample i (broadcast).
  int64_t OffsetIn(const Shape& s, int i) const;
  // Binds a value (resolved id) to per-sample values.
  void Bind(int value, std::vector<double> per_sample);
  // Evaluates `nodes` (indices in topological order); every input must be
  // bound, constant or produced by an earlier node of the list.
  absl::Status Run(const std::vector<int>& nodes);
  // Per-sample values of a bound or computed value (resolved id), or nullptr.
  const std::vector<double>* Get(int value) const;

 private:
  const Scope& scope_;
  Shape ref_;
  std::vector<int64_t> positions_;
  std::vector<std::vector<int64_t>> index_;  // multi-index of each sample in ref_
  absl::flat_hash_map<int, std::vector<double>> values_;
};

// Deterministic pseudo-random probe in [-1, 1) for (key, element, round).
double Probe(uint64_t key, int64_t element, int round);
// Evenly spread sample positions (plus the last element) of a tensor with
// `numel` elements, at most `count`.
std::vector<int64_t> SamplePositions(int64_t numel, int count);

}  // namespace snnplan::importer::internal
