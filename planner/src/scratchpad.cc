#include "scratchpad.h"

#include <algorithm>
#include <iterator>

namespace snnplan::plan {

Scratchpad::Scratchpad(int64_t capacity_bytes) : capacity_(capacity_bytes) {
  if (capacity_ > 0) holes_[0] = capacity_;
  free_at_[0] = {capacity_, 0};
}

std::optional<int64_t> Scratchpad::FirstFit(int64_t bytes) const {
  for (const auto& [offset, size] : holes_)
    if (size >= bytes) return offset;
  return std::nullopt;
}

void Scratchpad::Take(int64_t offset, int64_t bytes) {
  auto it = holes_.upper_bound(offset);
  --it;  // the hole containing offset (FirstFit guarantees one)
  const int64_t hole_start = it->first, hole_end = it->first + it->second;
  holes_.erase(it);
  if (hole_start < offset) holes_[hole_start] = offset - hole_start;
  if (offset + bytes < hole_end) holes_[offset + bytes] = hole_end - offset - bytes;
}

void Scratchpad::Release(int64_t offset, int64_t bytes, int64_t free_at) {
  int64_t start = offset, end = offset + bytes;
  auto next = holes_.lower_bound(start);
  if (next != holes_.end() && next->first == end) {
    end += next->second;
    next = holes_.erase(next);
  }
  if (next != holes_.begin()) {
    auto prev = std::prev(next);
    if (prev->first + prev->second == start) {
      start = prev->first;
      holes_.erase(prev);
    }
  }
  holes_[start] = end - start;
  // Record when this range becomes free.
  SplitAt(offset);
  SplitAt(offset + bytes);
  for (auto it = free_at_.find(offset); it != free_at_.end() && it->first < offset + bytes;) {
    it = free_at_.erase(it);
  }
  free_at_[offset] = {offset + bytes, free_at};
}

int64_t Scratchpad::AvailableAt(int64_t offset, int64_t bytes) const {
  int64_t t = 0;
  auto it = free_at_.upper_bound(offset);
  if (it != free_at_.begin()) --it;
  for (; it != free_at_.end() && it->first < offset + bytes; ++it)
    if (it->second.first > offset) t = std::max(t, it->second.second);
  return t;
}

void Scratchpad::SplitAt(int64_t at) {
  if (at <= 0 || at >= capacity_) return;
  auto it = free_at_.upper_bound(at);
  --it;
  if (it->first == at) return;
  auto [end, time] = it->second;
  it->second.first = at;
  free_at_[at] = {end, time};
}

}  // namespace snnplan::plan
