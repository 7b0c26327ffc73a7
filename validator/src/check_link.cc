// The DRAM side: one link carrying one transfer at a time, loads and stores
// that last at least their link bytes / bandwidth, and DRAM addresses that lie in a
// `dram_layout` region, one address per piece. NoC transfers between cores
// do not use the DRAM link (check_noc.cc).
#include <algorithm>

#include "model.h"

namespace snnplan::validate {
namespace {

void CheckSerial(const Manifest& m, Violations* out) {
  std::vector<size_t> order;
  for (size_t i = 0; i < m.transfers.size(); ++i)
    if (m.transfers[i].end > m.transfers[i].start && m.transfers[i].dir != Dir::kNoc)
      order.push_back(i);
  ForEachOverlap(m, std::move(order), [&](const MTransfer& a, const MTransfer& b) {
    Add(out, "link.overlap",
        absl::StrCat("transfers ", a.id, " ", Str({a.start, a.end}), " and ", b.id, " ",
                     Str({b.start, b.end}), " overlap on the DRAM link"));
  });
}

// A load or store cannot beat the link bandwidth.
void CheckDuration(const Manifest& m, Violations* out) {
  const int64_t bw = m.hardware.offchip.bw_bits_per_cycle;
  if (bw <= 0) return;
  for (const MTransfer& x : m.transfers) {
    if (x.dir == Dir::kStream || x.dir == Dir::kNoc || x.LinkBytes() < 0) continue;
    const int64_t cycles = static_cast<int64_t>((__int128{x.LinkBytes()} * 8 + bw - 1) / bw);
    if (x.end - x.start < cycles)
      Add(out, "link.bandwidth",
          absl::StrCat("transfer ", x.id, " moves ", x.LinkBytes(), " bytes in ", x.end - x.start,
                       " cycles; the link needs ", cycles));
  }
}

void CheckRegions(const Manifest& m, Violations* out) {
  std::vector<size_t> order;
  for (size_t i = 0; i < m.regions.size(); ++i) {
    const MRegion& r = m.regions[i];
    if (r.base < 0 || r.bytes < 0)
      Add(out, "dram.layout",
          absl::StrCat("region ", r.name, " [", r.base, ", +", r.bytes, ") is invalid"));
    else if (r.bytes > 0)
      order.push_back(i);
  }
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t x, size_t y) { return m.regions[x].base < m.regions[y].base; });
  const MRegion* far = nullptr;  // the region reaching furthest so far
  for (size_t i : order) {
    const MRegion& r = m.regions[i];
    if (far != nullptr && r.base < far->base + far->bytes)
      Add(out, "dram.layout", "regions " + far->name + " and " + r.name + " overlap");
    if (far == nullptr || r.base + r.bytes > far->base + far->bytes) far = &r;
  }
}

bool InRegion(const Manifest& m, int64_t address, int64_t bytes) {
  for (const MRegion& r : m.regions)
    if (address >= r.base && bytes >= 0 && address + bytes <= r.base + r.bytes) return true;
  return false;
}

// Every DRAM access lies in a region, and a piece always lives at one
// address: spilled pieces are reloaded from where they were stored.
void CheckAddresses(const Manifest& m, Violations* out) {
  std::map<int64_t, std::pair<int64_t, int64_t>> address;  // piece -> (address, transfer)
  auto visit = [&](const MTransfer& x, int64_t piece, int64_t addr, int64_t bytes) {
    if (!InRegion(m, addr, bytes))
      Add(out, "dram.address",
          absl::StrCat("transfer ", x.id, ": piece ", piece, " at DRAM [", addr, ", ", addr + bytes,
                       ") lies in no dram_layout region"));
    auto [it, inserted] = address.emplace(piece, std::make_pair(addr, x.id));
    if (!inserted && it->second.first != addr)
      Add(out, "dram.piece_address",
          absl::StrCat("transfer ", x.id, " moves piece ", piece, " at DRAM address ", addr,
                       " but transfer ", it->second.second, " used ", it->second.first));
  };
  for (const MTransfer& x : m.transfers) {
    if (x.dir == Dir::kLoad || x.dir == Dir::kStore)
      visit(x, x.tensor.piece, x.dram_address, x.bytes);
    for (const PieceRef& p : x.pieces)
      visit(x, p.piece, p.dram_address, std::max<int64_t>(0, p.bytes));
  }
}

}  // namespace

void CheckLink(const Manifest& m, const Index&, Violations* out) {
  CheckSerial(m, out);
  CheckDuration(m, out);
  CheckRegions(m, out);
  CheckAddresses(m, out);
}

}  // namespace snnplan::validate
