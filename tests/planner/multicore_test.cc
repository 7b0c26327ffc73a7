// Multi-core plans: layers on their allocated cores, features crossing cores
// over the mesh NoC (XY routes, links that serialize), one shared DRAM link,
// per-core memories; checked by hand on two tiny layers.
#include <algorithm>
#include <map>
#include <set>
#include <sstream>

#include "common/tiny_workloads.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "snnplan/planner.h"

namespace snnplan::plan {
namespace {

using snnplan::testing::MetaPrototype;
using snnplan::testing::MetaPrototypeMesh;
using snnplan::testing::TwoLayerNet;
using ::testing::HasSubstr;

nlohmann::json Manifest(Planner& planner, const std::string& spec, const CoreAllocation& a) {
  auto plan = planner.Run(*ParseSchedule(spec, 1, 2), a);
  EXPECT_TRUE(plan.ok()) << plan.status();
  if (!plan.ok()) return {};
  std::ostringstream out;
  WriteManifest(**plan, out);
  return nlohmann::json::parse(out.str());
}

std::vector<nlohmann::json> Transfers(const nlohmann::json& m, const std::string& direction) {
  std::vector<nlohmann::json> out;
  for (const auto& x : m["transfers"])
    if (x["direction"] == direction) out.push_back(x);
  return out;
}

const nlohmann::json& TileOf(const nlohmann::json& m, const std::string& layer) {
  for (const auto& t : m["tiles"])
    if (t["layer"] == layer) return t;
  ADD_FAILURE() << "no tile of " << layer;
  return m;
}

// tb-lbl: one tile per layer. c0 (core 0) produces its whole output, 4
// channels x 4x4 x 2 timesteps x 1 bit = 128 bit = 16 B; c1 on core 1 reads
// it: one NoC copy of 16 B over one hop, 128 bit / 32 bit per cycle = 4
// cycles, right after c0 ends. The DRAM link meanwhile loads c1's weights.
TEST(MultiCoreHandChecked, OneFeatureCrossesOneHop) {
  Planner planner(TwoLayerNet(), MetaPrototypeMesh(2, 2, 1024), PlanOptions{});
  nlohmann::json m = Manifest(planner, "tb-lbl", CoreAllocation{{0, 1}});
  ASSERT_FALSE(m.is_null());
  const nlohmann::json& c0 = TileOf(m, "c0");
  const nlohmann::json& c1 = TileOf(m, "c1");
  EXPECT_EQ(c0["core"], 0);
  EXPECT_EQ(c1["core"], 1);
  std::vector<nlohmann::json> noc = Transfers(m, "noc");
  ASSERT_EQ(noc.size(), 1u);
  const nlohmann::json& x = noc[0];
  EXPECT_EQ(x["bytes"], 16);
  EXPECT_EQ(x["from_core"], 0);
  EXPECT_EQ(x["to_core"], 1);
  EXPECT_EQ(x["route"], nlohmann::json::parse("[[0,0],[1,0]]"));
  EXPECT_EQ(x["hops"], 1);
  EXPECT_EQ(x["start"], c0["end"]);
  EXPECT_EQ(x["end"].get<int64_t>() - x["start"].get<int64_t>(), 4);
  EXPECT_EQ(x["tensor"]["layer"], "c0");
  // 128 bit x 1 hop x 40 fJ; global buffers: read 130 + write 170 fJ/bit.
  EXPECT_NEAR(x["energy_pj"]["noc"].get<double>(), 128 * 40 / 1000.0, 1e-12);
  EXPECT_NEAR(x["energy_pj"]["sram"].get<double>(), 128 * (130 + 170) / 1000.0, 1e-12);
  EXPECT_EQ(m["summary"]["noc_bytes"], 16);
  EXPECT_EQ(m["summary"]["noc_transfers"], 1);
  EXPECT_NEAR(m["summary"]["energy_pj"]["noc"].get<double>(), 5.12, 1e-12);
  // c1 waits for its weights (72 B after c0's 8 B weights and 32 B input on
  // the 64 bit/cycle link: cycles 5..14) and for the copy; its output (16 B)
  // is stored in 2 cycles after it.
  const int64_t c1_ready = std::max<int64_t>(14, x["end"].get<int64_t>());
  EXPECT_EQ(c1["start"], c1_ready);
  EXPECT_EQ(m["summary"]["latency_cycles"], c1["end"].get<int64_t>() + 2);
  // DRAM traffic is the single-core compulsory traffic: nothing spills.
  EXPECT_EQ(m["summary"]["dram_bytes"]["total"], 8 + 72 + 32 + 16);
  // Each core's allocations are in its own global buffer.
  for (const auto& a : m["allocations"]) {
    EXPECT_EQ(a["memory"], "global_buffer");
    if (a["holds"]["layer"] == "c1") {
      EXPECT_EQ(a["core"], 1);
    }
  }
  EXPECT_EQ(m["allocation"], nlohmann::json::parse(R"({"c0": 0, "c1": 1})"));
}

// On a 2x2 mesh core 0 (0,0) -> core 3 (1,1) goes along x, then y: 2 hops.
TEST(MultiCoreHandChecked, XYRouteWithATurnCostsTwoHops) {
  Planner planner(TwoLayerNet(), MetaPrototypeMesh(4, 2, 1024), PlanOptions{});
  nlohmann::json m = Manifest(planner, "tb-lbl", CoreAllocation{{0, 3}});
  std::vector<nlohmann::json> noc = Transfers(m, "noc");
  ASSERT_EQ(noc.size(), 1u);
  EXPECT_EQ(noc[0]["route"], nlohmann::json::parse("[[0,0],[1,0],[1,1]]"));
  EXPECT_EQ(noc[0]["hops"], 2);
  EXPECT_NEAR(noc[0]["energy_pj"]["noc"].get<double>(), 128 * 2 * 40 / 1000.0, 1e-12);
  // The other way round: (1,1) -> (0,0) goes along x first too.
  nlohmann::json back = Manifest(planner, "tb-lbl", CoreAllocation{{3, 0}});
  ASSERT_EQ(Transfers(back, "noc").size(), 1u);
  EXPECT_EQ(Transfers(back, "noc")[0]["route"], nlohmann::json::parse("[[1,1],[0,1],[0,0]]"));
}

// st-lbl: c0 at t=0 and t=1 produce one 8 B piece each; both cross to core
// 1, one after the other on the same link (2 cycles each).
TEST(MultiCoreHandChecked, EachTimestepPieceCrossesOnce) {
  Planner planner(TwoLayerNet(), MetaPrototypeMesh(2, 2, 1024), PlanOptions{});
  nlohmann::json m = Manifest(planner, "st-lbl", CoreAllocation{{0, 1}});
  std::vector<nlohmann::json> noc = Transfers(m, "noc");
  ASSERT_EQ(noc.size(), 2u);
  for (const auto& x : noc) {
    EXPECT_EQ(x["bytes"], 8);
    EXPECT_EQ(x["end"].get<int64_t>() - x["start"].get<int64_t>(), 2);
  }
  EXPECT_LE(noc[0]["end"].get<int64_t>(), noc[1]["start"].get<int64_t>());
  EXPECT_EQ(noc[0]["tensor"]["t"], nlohmann::json::parse("[0,1]"));
  EXPECT_EQ(noc[1]["tensor"]["t"], nlohmann::json::parse("[1,2]"));
}

// Everything on one core of a multi-core chip plans exactly like the
// single-core chip: same tiles, transfers, energy and latency.
TEST(MultiCorePlans, OneCoreOfManyEqualsTheSingleCoreChip) {
  for (const char* spec : {"st-lbl", "tb-lf", "st-lf"}) {
    SCOPED_TRACE(spec);
    Planner single(TwoLayerNet(), MetaPrototype(256), PlanOptions{});
    Planner multi(TwoLayerNet(), MetaPrototypeMesh(4, 2, 256), PlanOptions{});
    nlohmann::json a = Manifest(single, spec, {});
    nlohmann::json b = Manifest(multi, spec, CoreAllocation{{0, 0}});
    EXPECT_EQ(a["summary"]["energy_pj"], b["summary"]["energy_pj"]);
    EXPECT_EQ(a["summary"]["latency_cycles"], b["summary"]["latency_cycles"]);
    EXPECT_EQ(a["summary"]["dram_bytes"], b["summary"]["dram_bytes"]);
    EXPECT_EQ(a["tiles"], b["tiles"]);
    EXPECT_EQ(a["transfers"], b["transfers"]);
    EXPECT_EQ(b["summary"]["noc_bytes"], 0);
  }
}

// Tiles on different cores overlap in time; a core runs one tile at a time;
// NoC transfers sharing a directed link never overlap; per-core memory use
// stays inside each core's buffer.
TEST(MultiCorePlans, CoresRunInParallelAndLinksSerialize) {
  Planner planner(TwoLayerNet(), MetaPrototypeMesh(2, 2, 256), PlanOptions{});
  nlohmann::json m = Manifest(planner, "st-lf", CoreAllocation{{0, 1}});
  std::map<int, std::vector<std::pair<int64_t, int64_t>>> busy;
  for (const auto& t : m["tiles"]) busy[t["core"]].push_back({t["start"], t["end"]});
  bool overlap_across_cores = false;
  for (auto& [core, spans] : busy) {
    std::sort(spans.begin(), spans.end());
    for (size_t i = 1; i < spans.size(); ++i) EXPECT_LE(spans[i - 1].second, spans[i].first);
  }
  for (const auto& a : busy[0])
    for (const auto& b : busy[1]) overlap_across_cores |= a.first < b.second && b.first < a.second;
  EXPECT_TRUE(overlap_across_cores) << "line-fused layers on two cores should pipeline";
  std::vector<nlohmann::json> noc = Transfers(m, "noc");
  ASSERT_EQ(noc.size(), 8u);  // c0's 4 rows x 2 timesteps, each copied once
  for (size_t i = 0; i < noc.size(); ++i)
    for (size_t j = i + 1; j < noc.size(); ++j)
      EXPECT_FALSE(noc[i]["start"] < noc[j]["end"] && noc[j]["start"] < noc[i]["end"])
          << "noc transfers " << noc[i]["id"] << " and " << noc[j]["id"] << " share link";
  for (const auto& c : m["summary"]["cores"]) EXPECT_LE(c["peak_sram_bytes"], 256);
  EXPECT_EQ(m["summary"]["cores"].size(), 2u);
  EXPECT_LT(m["summary"]["stall_cycles"].get<int64_t>(),
            m["summary"]["latency_cycles"].get<int64_t>());
}

TEST(MultiCorePlans, ByteIdenticalOnRepeat) {
  std::string first, second;
  for (std::string* out : {&first, &second}) {
    Planner planner(TwoLayerNet(), MetaPrototypeMesh(4, 2, 256), PlanOptions{});
    auto plan = planner.Run(*ParseSchedule("st-lf", 1, 2), CoreAllocation{{2, 1}});
    ASSERT_TRUE(plan.ok()) << plan.status();
    std::ostringstream s;
    WriteManifest(**plan, s);
    *out = s.str();
  }
  EXPECT_EQ(first, second);
}

TEST(MultiCoreErrors, AllocationNamingAnUnknownCoreIsRefused) {
  Planner planner(TwoLayerNet(), MetaPrototypeMesh(2, 2, 1024), PlanOptions{});
  auto plan = planner.Run(*ParseSchedule("tb-lbl", 1, 2), CoreAllocation{{0, 7}});
  ASSERT_FALSE(plan.ok());
  EXPECT_THAT(plan.status().message(), HasSubstr("layer 'c1': core 7 is not a core"));
  auto short_allocation = planner.Run(*ParseSchedule("tb-lbl", 1, 2), CoreAllocation{{0}});
  ASSERT_FALSE(short_allocation.ok());
  EXPECT_THAT(short_allocation.status().message(), HasSubstr("lists 1 layers, the model has 2"));
}

TEST(AllocationFile, ParsesAndRoundTrips) {
  const ir::Workload w = TwoLayerNet();
  const hw::Hardware hw = MetaPrototypeMesh(2, 2, 1024);
  auto a = ParseAllocationJson(nlohmann::json::parse(R"({"c0": 1, "c1": 0})"), w, hw);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->layer_core, (std::vector<int>{1, 0}));
  // The form a manifest carries, under "allocation".
  auto wrapped =
      ParseAllocationJson(nlohmann::json{{"allocation", AllocationToJson(*a, w, 0)}}, w, hw);
  ASSERT_TRUE(wrapped.ok()) << wrapped.status();
  EXPECT_EQ(*wrapped, *a);
  EXPECT_EQ(AllocationToJson({}, w, 1), nlohmann::json::parse(R"({"c0": 1, "c1": 1})"));
}

TEST(AllocationFile, ErrorsNameTheLayerOrField) {
  const ir::Workload w = TwoLayerNet();
  const hw::Hardware hw = MetaPrototypeMesh(2, 2, 1024);
  struct Case {
    const char* json;
    const char* message;
  } cases[] = {
      {R"({"c0": 0})", "allocation: no core for layer(s) c1 (every layer must be listed)"},
      {R"({"c0": 0, "c1": 0, "c9": 1})", "c9: no layer of this name in the model"},
      {R"({"c0": 0, "c1": 2})", "c1: expected a core id of hardware 'mesh', got 2"},
      {R"({"c0": 0, "c1": "1"})", "c1: expected a core id of hardware 'mesh', got \"1\""},
      {R"({"c0": 0, "c1": -1})", "c1: expected a core id of hardware 'mesh', got -1"},
      {R"({"allocation": {"c0": 0, "c1": 5}})", "allocation.c1: expected a core id"},
      {R"([0, 1])", "(top level): expected an object"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.json);
    auto a = ParseAllocationJson(nlohmann::json::parse(c.json), w, hw);
    ASSERT_FALSE(a.ok());
    EXPECT_THAT(a.status().message(), HasSubstr(c.message));
  }
}

// ---- the trace of a multi-core plan

// st-lbl on a 2x2 mesh, c0 on core 0 (0,0), c1 on core 3 (1,1): both
// timesteps' features cross (0,0)->(1,0)->(1,1). The trace has one track per
// link (the DRAM link and both NoC hops) and per core, each NoC copy on both
// of its links' tracks, no two transfers on one link's track at once (links
// serialize), and every transfer named by its tensor's layer and operand.
TEST(MultiCoreTrace, OneTrackPerLinkAndTransfersNamedByLayerAndOperand) {
  Planner planner(TwoLayerNet(), MetaPrototypeMesh(4, 2, 1024), PlanOptions{});
  nlohmann::json m = Manifest(planner, "st-lbl", CoreAllocation{{0, 3}});
  ASSERT_EQ(Transfers(m, "noc").size(), 2u);
  absl::StatusOr<nlohmann::json> trace = ManifestToTrace(m);
  ASSERT_TRUE(trace.ok()) << trace.status();
  std::map<std::string, int64_t> track;  // thread name -> tid
  std::set<int64_t> tids;
  for (const auto& e : (*trace)["traceEvents"])
    if (e["ph"] == "M" && e["name"] == "thread_name") {
      track[e["args"]["name"]] = e["tid"];
      tids.insert(e["tid"].get<int64_t>());
    }
  EXPECT_EQ(track.size(), 5u);
  EXPECT_EQ(tids.size(), 5u);  // one tid each
  for (const char* name : {"dram link", "noc link (0,0)->(1,0)", "noc link (1,0)->(1,1)",
                           "core 0 compute", "core 3 compute"})
    EXPECT_EQ(track.count(name), 1u) << name;
  std::map<int64_t, std::vector<std::pair<int64_t, int64_t>>> busy;  // tid -> [start, end)
  std::map<int64_t, int> events_of_transfer;
  std::map<int64_t, nlohmann::json> by_id;
  for (const auto& x : m["transfers"]) by_id[x["id"]] = x;
  for (const auto& e : (*trace)["traceEvents"]) {
    if (e["ph"] != "X" || e["cat"] != "transfer") continue;
    const nlohmann::json& x = by_id.at(e["args"]["id"]);
    ++events_of_transfer[x["id"]];
    const std::string layer =
        x["tensor"]["layer"].is_null() ? "input" : x["tensor"]["layer"].get<std::string>();
    const std::string verb = x["direction"] == "load"    ? " read"
                             : x["direction"] == "store" ? " write"
                                                         : " copy 0->3";
    EXPECT_EQ(e["name"], layer + " " + x["operand"].get<std::string>() + verb);
    const int64_t tid = e["tid"];
    EXPECT_EQ(tid == track.at("dram link"), x["direction"] != "noc") << e.dump();
    busy[tid].push_back({x["start"].get<int64_t>(), x["end"].get<int64_t>()});
  }
  for (const auto& [id, x] : by_id)
    EXPECT_EQ(events_of_transfer[id], x["direction"] == "noc" ? 2 : 1) << x.dump();
  EXPECT_EQ(busy[track.at("noc link (0,0)->(1,0)")].size(), 2u);
  EXPECT_EQ(busy[track.at("noc link (1,0)->(1,1)")].size(), 2u);
  for (auto& [tid, spans] : busy) {
    std::sort(spans.begin(), spans.end());
    for (size_t i = 1; i < spans.size(); ++i)
      EXPECT_LE(spans[i - 1].second, spans[i].first) << "tid " << tid;
  }
}

}  // namespace
}  // namespace snnplan::plan
