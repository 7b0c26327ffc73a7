// Invariants every manifest must satisfy, checked on the manifest JSON itself
// (not on planner internals).
#pragma once

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace snnplan::testing {

// Allocations never overlap in space and time and stay inside the memory.
inline void ExpectAllocationsDisjoint(const nlohmann::json& m, int64_t capacity_bytes) {
  std::vector<nlohmann::json> allocs(m["allocations"].begin(), m["allocations"].end());
  for (const auto& a : allocs) {
    EXPECT_GE(a["offset"].get<int64_t>(), 0);
    EXPECT_LE(a["offset"].get<int64_t>() + a["bytes"].get<int64_t>(), capacity_bytes)
        << "allocation " << a["id"] << " outside the memory";
    EXPECT_LE(a["allocated_at"].get<int64_t>(), a["freed_at"].get<int64_t>());
  }
  // Sweep by offset: sort by offset and compare with every later allocation
  // that starts before this one ends.
  std::sort(allocs.begin(), allocs.end(), [](const auto& x, const auto& y) {
    return x["offset"].template get<int64_t>() < y["offset"].template get<int64_t>();
  });
  for (size_t i = 0; i < allocs.size(); ++i) {
    const int64_t end = allocs[i]["offset"].get<int64_t>() + allocs[i]["bytes"].get<int64_t>();
    for (size_t j = i + 1; j < allocs.size() && allocs[j]["offset"].get<int64_t>() < end; ++j) {
      const bool time_overlap =
          allocs[i]["allocated_at"].get<int64_t>() < allocs[j]["freed_at"].get<int64_t>() &&
          allocs[j]["allocated_at"].get<int64_t>() < allocs[i]["freed_at"].get<int64_t>();
      EXPECT_FALSE(time_overlap) << "allocations " << allocs[i]["id"] << " and " << allocs[j]["id"]
                                 << " overlap";
    }
  }
}

// Every allocation a tile reads or writes is live for the whole tile, and
// every load into it has completed when the tile starts.
inline void ExpectTilesHaveTheirData(const nlohmann::json& m) {
  std::map<int64_t, nlohmann::json> allocs;
  for (const auto& a : m["allocations"]) allocs[a["id"].get<int64_t>()] = a;
  std::map<int64_t, int64_t> load_end;  // allocation -> end of its load
  for (const auto& t : m["transfers"])
    if (t["direction"] == "load") load_end[t["allocation"].get<int64_t>()] = t["end"];
  for (const auto& tile : m["tiles"]) {
    const int64_t start = tile["start"], end = tile["end"];
    for (const char* key : {"reads", "writes"})
      for (const auto& id : tile[key]) {
        const auto& a = allocs.at(id.get<int64_t>());
        EXPECT_LE(a["allocated_at"].get<int64_t>(), start) << "tile " << tile["id"];
        EXPECT_GE(a["freed_at"].get<int64_t>(), end) << "tile " << tile["id"];
        auto it = load_end.find(id.get<int64_t>());
        if (it != load_end.end()) {
          EXPECT_LE(it->second, start) << "tile " << tile["id"];
        }
      }
  }
}

// A store reads its allocation until it ends; a load fills it from its start.
inline void ExpectTransfersInsideAllocations(const nlohmann::json& m) {
  std::map<int64_t, nlohmann::json> allocs;
  for (const auto& a : m["allocations"]) allocs[a["id"].get<int64_t>()] = a;
  for (const auto& t : m["transfers"]) {
    if (t["direction"] == "stream") continue;
    const auto& a = allocs.at(t["allocation"].get<int64_t>());
    EXPECT_LE(a["allocated_at"].get<int64_t>(), t["start"].get<int64_t>()) << "transfer " << t["id"];
    EXPECT_GE(a["freed_at"].get<int64_t>(), t["end"].get<int64_t>()) << "transfer " << t["id"];
  }
}

// Transfers on the single DRAM link never overlap in time.
inline void ExpectLinkSerial(const nlohmann::json& m) {
  std::vector<std::pair<int64_t, int64_t>> spans;
  for (const auto& t : m["transfers"]) spans.push_back({t["start"], t["end"]});
  std::sort(spans.begin(), spans.end());
  for (size_t i = 1; i < spans.size(); ++i)
    EXPECT_LE(spans[i - 1].second, spans[i].first) << "transfers overlap on the DRAM link";
}

// DRAM bytes in `transfers` (their link bytes) add up to the summary, by operand.
inline void ExpectTransfersSumToSummary(const nlohmann::json& m) {
  std::map<std::string, int64_t> by_operand;
  int64_t read = 0, write = 0;
  for (const auto& t : m["transfers"]) {
    if (t["direction"] == "stream") {
      for (const auto& [op, v] : t["operands"].items()) {
        by_operand[op] += v["read_bytes"].get<int64_t>() + v["write_bytes"].get<int64_t>();
        read += v["read_bytes"].get<int64_t>();
        write += v["write_bytes"].get<int64_t>();
      }
      continue;
    }
    // DRAM traffic is what crosses the link: link_bytes when encoded.
    const int64_t bytes = t.value("link_bytes", t["bytes"].get<int64_t>());
    by_operand[t["operand"].get<std::string>()] += bytes;
    (t["direction"] == "load" ? read : write) += bytes;
  }
  const auto& d = m["summary"]["dram_bytes"];
  EXPECT_EQ(d["read"].get<int64_t>(), read);
  EXPECT_EQ(d["write"].get<int64_t>(), write);
  EXPECT_EQ(d["total"].get<int64_t>(), read + write);
  for (const char* op : {"W", "I", "O", "S"})
    EXPECT_EQ(d["by_operand"][op].get<int64_t>(), by_operand[op]) << "operand " << op;
}

inline void ExpectValidManifest(const nlohmann::json& m, int64_t capacity_bytes) {
  ExpectAllocationsDisjoint(m, capacity_bytes);
  ExpectTilesHaveTheirData(m);
  ExpectLinkSerial(m);
  ExpectTransfersInsideAllocations(m);
  ExpectTransfersSumToSummary(m);
}

}  // namespace snnplan::testing
