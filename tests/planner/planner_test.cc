// Planner tests: hand-checkable plans on tiny workloads, manifest invariants,
// determinism, and the time-batching trend of the paper's Figure 7.
#include "snnplan/planner.h"

#include <map>
#include <set>
#include <sstream>

#include "common/tiny_workloads.h"
#include "gtest/gtest.h"
#include "manifest_checks.h"
#include "snnplan/importer.h"

namespace snnplan::plan {
namespace {

// Conv(name, inputs, K, C, rows, F, pad, stateful, input bits, block).
using snnplan::testing::Conv;
using snnplan::testing::MetaPrototype;
using snnplan::testing::TwoLayerNet;

// Rounds bits up to the 64-bit access granularity of the meta-prototype's
// global buffer, in bytes (allocations and transfers are word-rounded).
int64_t Words(int64_t bits) { return (bits + 63) / 64 * 8; }

struct Traffic {
  int64_t w_read, i_read, o_write, s_read, s_write;
};

nlohmann::json PlanToJson(Planner& planner, const std::string& spec, int blocks, int64_t t) {
  absl::StatusOr<Schedule> s = ParseSchedule(spec, blocks, t);
  EXPECT_TRUE(s.ok()) << s.status();
  auto plan = planner.Run(*s);
  EXPECT_TRUE(plan.ok()) << plan.status();
  std::ostringstream out;
  WriteManifest(**plan, out);
  return nlohmann::json::parse(out.str());
}

void ExpectTraffic(const nlohmann::json& m, const Traffic& t) {
  const auto& d = m["summary"]["dram_bytes"];
  EXPECT_EQ(d["read_by_operand"]["W"], t.w_read);
  EXPECT_EQ(d["read_by_operand"]["I"], t.i_read);
  EXPECT_EQ(d["write_by_operand"]["O"], t.o_write);
  EXPECT_EQ(d["read_by_operand"]["S"], t.s_read);
  EXPECT_EQ(d["write_by_operand"]["S"], t.s_write);
  EXPECT_EQ(d["write_by_operand"]["W"], 0);
  EXPECT_EQ(d["write_by_operand"]["I"], 0);
  EXPECT_EQ(d["read_by_operand"]["O"], 0);
}

// Weights: c0 4*2*1*1*4 = 32 bit -> 8 B; c1 4*4*3*3*4 = 576 bit -> 72 B.
const int64_t kWeightBytes = Words(32) + Words(576);

TEST(PlannerHandChecked, EverythingFitsCompulsoryTrafficOnly) {
  // 1 KiB holds every tensor of this net at once, so each schedule moves only
  // the compulsory traffic; what differs is the word rounding of its pieces.
  Planner planner(TwoLayerNet(), MetaPrototype(1024), PlanOptions{});
  // Input pieces: st-lbl per timestep 2*4*4*4 bit; tb-lbl all 2 timesteps;
  // lf: per input row (2 ch * 4 cols * 4 bit) per timestep batch.
  // Output pieces (c1, 1-bit): per timestep 4*4*4; lf: per row.
  ExpectTraffic(PlanToJson(planner, "st-lbl", 1, 2),
                {kWeightBytes, 2 * Words(128), 2 * Words(64), 0, 0});
  ExpectTraffic(PlanToJson(planner, "tb-lbl", 1, 2), {kWeightBytes, Words(256), Words(128), 0, 0});
  ExpectTraffic(PlanToJson(planner, "st-lf", 1, 2),
                {kWeightBytes, 8 * Words(32), 8 * Words(16), 0, 0});
  ExpectTraffic(PlanToJson(planner, "tb-lf", 1, 2),
                {kWeightBytes, 4 * Words(64), 4 * Words(32), 0, 0});
}

TEST(PlannerHandChecked, StateIoDramLoadsAndStoresEveryStateOnce) {
  PlanOptions o;
  o.state_io = cost::StateIo::kDram;
  Planner planner(TwoLayerNet(), MetaPrototype(1024), o);
  // States: 2 layers x 4*4*4 neurons x 12 bit = 768 bit = 96 B each.
  ExpectTraffic(PlanToJson(planner, "tb-lbl", 1, 2),
                {kWeightBytes, Words(256), Words(128), 2 * 96, 2 * 96});
  // lf: one state slice per row band (4*1*4*12 = 192 bit = 24 B).
  ExpectTraffic(PlanToJson(planner, "st-lf", 1, 2),
                {kWeightBytes, 8 * Words(32), 8 * Words(16), 8 * 24, 8 * 24});
}

TEST(PlannerHandChecked, SingleTimestepSpillsStatesThatTimeBatchingKeeps) {
  // 256 B: c1 at t=0 needs W1 72 + S1 96 + O1 8 next to the live W0 8, S0 96
  // and O0 8; the stems rule evicts S0 (fewest remaining uses per byte), and
  // at t=1 c0 evicts S1 the same way: each state is written back and reloaded
  // once (4 x 96 B). Time batching finishes each layer's state in one tile.
  Planner planner(TwoLayerNet(), MetaPrototype(256), PlanOptions{});
  nlohmann::json st = PlanToJson(planner, "st-lbl", 1, 2);
  ExpectTraffic(st, {kWeightBytes, 2 * Words(128), 2 * Words(64), 2 * 96, 2 * 96});
  nlohmann::json tb = PlanToJson(planner, "tb-lbl", 1, 2);
  ExpectTraffic(tb, {kWeightBytes, Words(256), Words(128), 0, 0});
  testing::ExpectValidManifest(st, 256);
  testing::ExpectValidManifest(tb, 256);
}

TEST(PlannerHandChecked, BeladyNeverMovesMoreThanStemsHere) {
  PlanOptions o;
  o.eviction = Eviction::kBelady;
  Planner belady(TwoLayerNet(), MetaPrototype(256), o);
  Planner stems(TwoLayerNet(), MetaPrototype(256), PlanOptions{});
  const int64_t b = PlanToJson(belady, "st-lbl", 1, 2)["summary"]["dram_bytes"]["total"];
  const int64_t s = PlanToJson(stems, "st-lbl", 1, 2)["summary"]["dram_bytes"]["total"];
  EXPECT_LE(b, s);
}

TEST(PlannerManifest, InvariantsHoldForEverySchedule) {
  for (int64_t sram : {128, 256, 1024}) {
    Planner planner(TwoLayerNet(), MetaPrototype(sram), PlanOptions{});
    for (const char* spec : {"st-lbl", "tb-lbl", "st-lf", "tb-lf"}) {
      SCOPED_TRACE(std::string(spec) + " @" + std::to_string(sram));
      testing::ExpectValidManifest(PlanToJson(planner, spec, 1, 2), sram);
    }
  }
}

TEST(PlannerManifest, TilesInDependencyOrderAndStatesChained) {
  Planner planner(TwoLayerNet(), MetaPrototype(1024), PlanOptions{});
  nlohmann::json m = PlanToJson(planner, "st-lf", 1, 2);
  ASSERT_EQ(m["tiles"].size(), 2u * 2 * 4);  // 2 layers x 2 timesteps x 4 rows
  // Tile ids carry layer, time and rows; a row band of c1 at t runs after the
  // c0 bands covering its receptive field (rows y-1..y+1) at t.
  std::map<std::string, int64_t> end_of;
  for (const auto& t : m["tiles"]) end_of[t["id"]] = t["end"];
  for (const auto& t : m["tiles"]) {
    if (t["layer"] != "c1") continue;
    const int64_t y = t["rows"][0], tb = t["t"][0];
    for (int64_t r = std::max<int64_t>(0, y - 1); r <= std::min<int64_t>(3, y + 1); ++r) {
      std::string producer = "L0.s0.t" + std::to_string(tb) + "-" + std::to_string(tb + 1) + ".y" +
                             std::to_string(r) + "-" + std::to_string(r + 1);
      ASSERT_TRUE(end_of.count(producer)) << producer;
      EXPECT_LE(end_of[producer], t["start"].get<int64_t>()) << t["id"];
    }
  }
}

TEST(PlannerManifest, ByteIdenticalOnRepeat) {
  std::string first, second;
  for (std::string* out : {&first, &second}) {
    Planner planner(TwoLayerNet(), MetaPrototype(256), PlanOptions{});
    auto plan = planner.Run(*ParseSchedule("st-lf", 1, 2));
    ASSERT_TRUE(plan.ok());
    std::ostringstream s;
    WriteManifest(**plan, s);
    *out = s.str();
  }
  EXPECT_EQ(first, second);
}

TEST(PlannerManifest, TraceHasOneEventPerTileAndTransfer) {
  Planner planner(TwoLayerNet(), MetaPrototype(256), PlanOptions{});
  nlohmann::json m = PlanToJson(planner, "st-lbl", 1, 2);
  absl::StatusOr<nlohmann::json> trace = ManifestToTrace(m);
  ASSERT_TRUE(trace.ok());
  size_t complete = 0;
  for (const auto& e : (*trace)["traceEvents"]) complete += e["ph"] == "X";
  EXPECT_EQ(complete, m["tiles"].size() + m["transfers"].size());
  EXPECT_FALSE(ManifestToTrace(nlohmann::json::object()).ok());
}

// With the hardware's clock_hz every timestamp is in µs: cycles / clock_hz x
// 1e6 (2e8 Hz: a cycle is 0.005 µs), the exact cycles kept in args, and the
// metadata says so.
TEST(PlannerManifest, TraceTimestampsInMicrosecondsWithAClock) {
  hw::Hardware h = MetaPrototype(256);
  h.clock_hz = 2e8;
  Planner planner(TwoLayerNet(), h, PlanOptions{});
  nlohmann::json m = PlanToJson(planner, "st-lbl", 1, 2);
  absl::StatusOr<nlohmann::json> trace = ManifestToTrace(m);
  ASSERT_TRUE(trace.ok()) << trace.status();
  std::map<std::string, nlohmann::json> tile;
  for (const auto& t : m["tiles"]) tile[t["id"]] = t;
  std::map<int64_t, nlohmann::json> transfer;
  for (const auto& x : m["transfers"]) transfer[x["id"]] = x;
  size_t checked = 0;
  for (const auto& e : (*trace)["traceEvents"]) {
    if (e["ph"] != "X") continue;
    const nlohmann::json& src =
        e["cat"] == "tile" ? tile.at(e["args"]["id"]) : transfer.at(e["args"]["id"]);
    const double start = src["start"].get<double>(), end = src["end"].get<double>();
    EXPECT_DOUBLE_EQ(e["ts"].get<double>(), start / 2e8 * 1e6);
    EXPECT_DOUBLE_EQ(e["dur"].get<double>(), (end - start) / 2e8 * 1e6);
    EXPECT_EQ(e["args"]["start_cycle"], src["start"]);
    ++checked;
  }
  EXPECT_EQ(checked, m["tiles"].size() + m["transfers"].size());
  EXPECT_EQ((*trace)["otherData"]["time_unit"], "us");
  EXPECT_EQ((*trace)["otherData"]["clock_hz"], 2e8);
  // Without a clock: cycles, and the metadata says so.
  Planner unclocked(TwoLayerNet(), MetaPrototype(256), PlanOptions{});
  nlohmann::json m2 = PlanToJson(unclocked, "st-lbl", 1, 2);
  absl::StatusOr<nlohmann::json> t2 = ManifestToTrace(m2);
  ASSERT_TRUE(t2.ok());
  EXPECT_EQ((*t2)["otherData"]["time_unit"], "cycles");
  for (const auto& e : (*t2)["traceEvents"]) {
    if (e["ph"] == "M" && e["name"] == "process_name") {
      EXPECT_NE(e["args"]["name"].get<std::string>().find("no clock_hz"), std::string::npos);
    }
    if (e["ph"] == "X") {
      EXPECT_EQ(e["ts"], e["args"]["start_cycle"]);
    }
  }
}

// Transfers named by layer and operand; a stream names its tile's layer and
// the operands it moves.
TEST(PlannerManifest, TraceNamesTransfersByLayerAndOperand) {
  Planner planner(TwoLayerNet(), MetaPrototype(256), PlanOptions{});
  nlohmann::json m = PlanToJson(planner, "st-lbl", 1, 2);
  const nlohmann::json& tile = m["tiles"][0];
  m["transfers"].push_back({{"id", 9999},
                            {"direction", "stream"},
                            {"cause", "stream"},
                            {"start", tile["start"]},
                            {"end", tile["end"]},
                            {"core", 0},
                            {"tile", tile["id"]},
                            {"bytes", 24},
                            {"operands",
                             {{"I", {{"read_bytes", 8}, {"write_bytes", 0}}},
                              {"W", {{"read_bytes", 16}, {"write_bytes", 0}}}}},
                            {"pieces", nlohmann::json::array()}});
  absl::StatusOr<nlohmann::json> trace = ManifestToTrace(m);
  ASSERT_TRUE(trace.ok()) << trace.status();
  std::set<std::string> names;
  for (const auto& e : (*trace)["traceEvents"])
    if (e["ph"] == "X" && e["cat"] == "transfer") names.insert(e["name"]);
  // TwoLayerNet: c0 and c1 have weights; c1's output is the network output.
  EXPECT_EQ(names.count("c0 W read"), 1u);
  EXPECT_EQ(names.count("c1 W read"), 1u);
  EXPECT_EQ(names.count("c1 O write"), 1u);
  EXPECT_EQ(names.count(tile["layer"].get<std::string>() + " W+I stream"), 1u);
}

// The guards: a clock that is not a positive number, a stream whose tile is
// not in the manifest, a malformed NoC route.
TEST(PlannerManifest, TraceRefusesMalformedClockTileAndRoute) {
  Planner planner(TwoLayerNet(), MetaPrototype(256), PlanOptions{});
  const nlohmann::json good = PlanToJson(planner, "st-lbl", 1, 2);
  ASSERT_TRUE(ManifestToTrace(good).ok());
  for (const nlohmann::json& clock :
       {nlohmann::json(-1.0), nlohmann::json(0), nlohmann::json("fast")}) {
    nlohmann::json m = good;
    m["hardware"]["clock_hz"] = clock;
    absl::StatusOr<nlohmann::json> t = ManifestToTrace(m);
    ASSERT_FALSE(t.ok()) << clock;
    EXPECT_NE(t.status().message().find("clock_hz"), std::string::npos);
  }
  nlohmann::json stream = good;
  stream["transfers"].push_back({{"id", 1},
                                 {"direction", "stream"},
                                 {"cause", "stream"},
                                 {"start", 0},
                                 {"end", 1},
                                 {"core", 0},
                                 {"tile", "nope"},
                                 {"bytes", 0},
                                 {"operands", nlohmann::json::object()}});
  absl::StatusOr<nlohmann::json> t = ManifestToTrace(stream);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("nope"), std::string::npos);
  nlohmann::json noc = good;
  nlohmann::json x = good["transfers"][0];
  x["direction"] = "noc";
  x["from_core"] = 0;
  x["to_core"] = 1;
  x["route"] = "(0,0)->(1,0)";
  noc["transfers"].push_back(x);
  EXPECT_FALSE(ManifestToTrace(noc).ok());
}

// A hand-built IR may name a block the schedule has no entry for: refused
// before anything indexes the schedule with it.
TEST(PlannerErrors, LayerBlockOutOfRangeIsRefused) {
  ir::Workload w = TwoLayerNet();
  w.layers[1].block = 5;
  Planner planner(w, MetaPrototype(1024), PlanOptions{});
  auto plan = planner.Run(*ParseSchedule("st-lf", 1, 2));
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().message(), "layer c1 has block 5 outside 0..0");
}

TEST(ScheduleSpec, ParsesAndRejects) {
  absl::StatusOr<Schedule> s = ParseSchedule("tb-lf,tb4-lf2,st-lbl", 3, 16);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->blocks[0], (BlockSchedule{0, true, 1}));
  EXPECT_EQ(s->blocks[1], (BlockSchedule{4, true, 2}));
  EXPECT_EQ(s->blocks[2], (BlockSchedule{1, false, 1}));
  EXPECT_EQ(FormatSchedule(*s), "tb-lf,tb4-lf2,st-lbl");
  EXPECT_EQ(ParseSchedule("st-lbl", 7, 16)->blocks.size(), 7u);
  EXPECT_EQ(ParseSchedule("tb16-lbl", 1, 16)->blocks[0].timesteps_per_tile, 0);  // = tb
  absl::Status wrong_count = ParseSchedule("st-lbl,tb-lbl", 3, 16).status();
  EXPECT_NE(wrong_count.message().find("2 entries but the model has 3 blocks"), std::string::npos);
  EXPECT_FALSE(ParseSchedule("tb3-lbl", 1, 16).ok());  // 3 does not divide 16
  EXPECT_FALSE(ParseSchedule("xx-lbl", 1, 16).ok());
  EXPECT_FALSE(ParseSchedule("st-lx", 1, 16).ok());
  EXPECT_FALSE(ParseSchedule("st", 1, 16).ok());
  EXPECT_FALSE(ParseSchedule("st-lf0", 1, 16).ok());
}

TEST(ScheduleSpec, JsonFileFormWithOverrides) {
  nlohmann::json doc = {{"schedule", {"tb-lf", "st-lbl"}}, {"layer_rows_per_tile", {{"c1", 2}}}};
  absl::StatusOr<Schedule> s = ParseScheduleJson(doc, 2, 4);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->layer_rows_per_tile.at("c1"), 2);
  EXPECT_FALSE(ParseScheduleJson({{"schedule", "st-lbl"}, {"bogus", 1}}, 2, 4).ok());
  EXPECT_FALSE(ParseScheduleJson({{"schedule", 3}}, 2, 4).ok());
}

TEST(ScheduleSpec, RowOverrideChangesTiling) {
  Planner planner(TwoLayerNet(), MetaPrototype(1024), PlanOptions{});
  Schedule s = *ParseSchedule("tb-lf", 1, 2);
  s.layer_rows_per_tile["c0"] = 2;
  auto plan = planner.Run(s);
  ASSERT_TRUE(plan.ok());
  std::ostringstream out;
  WriteManifest(**plan, out);
  nlohmann::json m = nlohmann::json::parse(out.str());
  int c0_tiles = 0;
  for (const auto& t : m["tiles"]) c0_tiles += t["layer"] == "c0";
  EXPECT_EQ(c0_tiles, 2);
  Schedule bad = s;
  bad.layer_rows_per_tile["nope"] = 1;
  EXPECT_FALSE(planner.Run(bad).ok());
}

// The paper's Figure 7 experiment on the SEW-ResNet-18 fixture at 1 MiB:
// batching more timesteps lowers state traffic monotonically, to zero at 16;
// spike (I + O) traffic does not shrink as the batch grows.
TEST(PlannerSew7, TimeBatchingTrendOfFigure7) {
  absl::StatusOr<ir::Workload> w = importer::ImportFile(
      std::string(SNNPLAN_SOURCE_DIR) + "/models/sj_sew7_T16_loop_op13.onnx", {});
  ASSERT_TRUE(w.ok()) << w.status();
  PlanOptions o;
  o.threads = 2;
  Planner planner(*w, MetaPrototype(1 << 20), o);
  int64_t prev_state = INT64_MAX, prev_spikes = -1;
  for (const char* time : {"st", "tb2", "tb4", "tb8", "tb"}) {
    SCOPED_TRACE(time);
    auto plan = planner.Run(*ParseSchedule(std::string(time) + "-lbl", w->num_blocks, 16));
    ASSERT_TRUE(plan.ok()) << plan.status();
    const DramBytes& d = GetSummary(**plan).dram;
    const int64_t state = d.read[3] + d.write[3];
    const int64_t spikes = d.read[1] + d.write[2];
    EXPECT_LE(state, prev_state);
    EXPECT_GE(spikes, prev_spikes);
    prev_state = state;
    prev_spikes = spikes;
  }
  EXPECT_EQ(prev_state, 0);  // TB: states never leave the chip
}

}  // namespace
}  // namespace snnplan::plan
