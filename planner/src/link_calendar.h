// A link (the DRAM port, or one NoC link) as a calendar of busy intervals:
// a transfer takes the earliest gap at or after its ready time that fits it,
// so a transfer the planner meets later (in list order) may still run in an
// earlier idle gap: with several cores, list order is not time order.
#pragma once

#include <algorithm>
#include <cstdint>
#include <iterator>

#include "absl/container/btree_map.h"

namespace snnplan::plan {

class LinkCalendar {
 public:
  // Earliest t >= `earliest` with [t, t + cycles) free.
  int64_t Earliest(int64_t earliest, int64_t cycles) const {
    int64_t t = earliest;
    auto it = busy_.upper_bound(t);
    if (it != busy_.begin()) t = std::max(t, std::prev(it)->second);
    for (; it != busy_.end() && it->first < t + cycles; ++it) t = std::max(t, it->second);
    return t;
  }
  // Marks [start, start + cycles) busy (it must be free).
  void Reserve(int64_t start, int64_t cycles) {
    if (cycles <= 0) return;
    int64_t end = start + cycles;
    auto next = busy_.lower_bound(start);
    if (next != busy_.end() && next->first == end) {  // merge with the next
      end = next->second;
      next = busy_.erase(next);
    }
    if (next != busy_.begin() && std::prev(next)->second == start) {  // and the previous
      std::prev(next)->second = end;
      return;
    }
    busy_.emplace_hint(next, start, end);
  }
  // End of the last busy interval (0 when idle so far).
  int64_t end() const { return busy_.empty() ? 0 : busy_.rbegin()->second; }

 private:
  absl::btree_map<int64_t, int64_t> busy_;  // start -> end; disjoint, never adjacent
};

}  // namespace snnplan::plan
