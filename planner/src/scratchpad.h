// The global buffer as a scratchpad: first-fit placement at real offsets, and
// for every address the cycle from which it is free again.
#pragma once

#include <cstdint>
#include <optional>

#include "absl/container/btree_map.h"

namespace snnplan::plan {

class Scratchpad {
 public:
  explicit Scratchpad(int64_t capacity_bytes);

  int64_t capacity() const { return capacity_; }
  // Lowest offset of a free hole of at least `bytes`.
  std::optional<int64_t> FirstFit(int64_t bytes) const;
  void Take(int64_t offset, int64_t bytes);
  // Returns [offset, offset+bytes) to the free space; the previous occupant
  // holds it until `free_at` (exclusive end of its lifetime).
  void Release(int64_t offset, int64_t bytes, int64_t free_at);
  // The cycle from which all of [offset, offset+bytes) is free.
  int64_t AvailableAt(int64_t offset, int64_t bytes) const;

 private:
  void SplitAt(int64_t at);
  int64_t capacity_;
  absl::btree_map<int64_t, int64_t> holes_;  // offset -> size
  // Segments start -> (end, free_at) covering [0, capacity).
  absl::btree_map<int64_t, std::pair<int64_t, int64_t>> free_at_;
};

}  // namespace snnplan::plan
