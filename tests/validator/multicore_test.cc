// Multi-core manifests (schema_version 2, docs/manifest.md "Multi-core
// plans"): hand-built manifests on two cores (a row) or four (a 2x2 mesh),
// small enough to check by hand. Layer a on core 0 reads the network input
// and produces a feature; a `noc` transfer copies it to layer b's core,
// whose output is stored to DRAM. Each negative test breaks one invariant
// and expects the check that names it. Version 1 manifests validate as
// before.
#include <iterator>
#include <random>

#include "gmock/gmock.h"
#include "test_util.h"

namespace snnplan::validate::testing {
namespace {

using json = nlohmann::json;
using ::testing::HasSubstr;

// Hand-checked prices (fJ/bit): the meta-prototype's DRAM and global buffer
// on core 0; other cores get a dearer global buffer so that pricing a
// transfer with the wrong core's memory shows.
constexpr double kDramRead = 11000, kDramWrite = 12000;
constexpr double kGb0Read = 130, kGb0Write = 170, kGbRead = 200, kGbWrite = 300;
constexpr double kLinkEnergy = 50;  // fJ/bit/hop
constexpr int64_t kLinkBw = 64;     // bit/cycle
constexpr int64_t kSram = 1024;     // bytes per core

double Pj(int64_t bytes, double fj_per_bit) {
  return static_cast<double>(bytes) * 8 * fj_per_bit / 1000;
}

// `columns` x `rows` meta-prototype cores, ids row by row; core k > 0 has the
// global buffer "gb<k>" (its own name, so a wrong memory is visible).
hw::Hardware Mesh(int columns, int rows) {
  hw::Hardware h = MetaPrototype(kSram);
  EXPECT_EQ(h.offchip.read_energy_fj_per_bit, kDramRead);
  EXPECT_EQ(h.offchip.write_energy_fj_per_bit, kDramWrite);
  EXPECT_EQ(h.cores[0].global_buffer().read_energy_fj_per_bit, kGb0Read);
  EXPECT_EQ(h.cores[0].global_buffer().write_energy_fj_per_bit, kGb0Write);
  const hw::Core core = h.cores.front();
  h.name = "mesh";
  h.cores.clear();
  h.noc.positions.clear();
  for (int i = 0; i < columns * rows; ++i) {
    h.cores.push_back(core);
    h.cores.back().id = i;
    if (i > 0) {
      hw::MemoryLevel& gb = h.cores.back().memories.back();
      gb.name = "gb" + std::to_string(i);
      gb.read_energy_fj_per_bit = kGbRead;
      gb.write_energy_fj_per_bit = kGbWrite;
    }
    h.noc.positions.push_back({i, i % columns, i / columns});
  }
  h.noc.link_bw_bits_per_cycle = kLinkBw;
  h.noc.link_energy_fj_per_bit_per_hop = kLinkEnergy;
  return h;
}

std::string Memory(int core) { return core == 0 ? "global_buffer" : "gb" + std::to_string(core); }

json Piece(const char* kind, const char* operand, json layer, int piece) {
  return {{"kind", kind}, {"operand", operand}, {"layer", layer}, {"sample", 0},
          {"t", {0, 1}},  {"rows", {0, 4}},     {"piece", piece}};
}

json Energy(double compute, double local, double sram, double dram, double noc) {
  return {{"total", compute + local + sram + dram + noc},
          {"compute", compute},
          {"local", local},
          {"sram", sram},
          {"dram", dram},
          {"noc", noc}};
}

// 64 bytes of `piece` on `core` at `offset`, live [from, to).
json Alloc(int id, int core, int64_t offset, const json& piece, int64_t from, int64_t to) {
  return {{"id", id},    {"core", core},         {"memory", Memory(core)}, {"offset", offset},
          {"bytes", 64}, {"allocated_at", from}, {"freed_at", to},         {"holds", piece}};
}

json Tile(int index, const char* layer, int core, int64_t start, int64_t end, int read, int write,
          double scale) {
  const std::string id = "L" + std::to_string(index) + ".s0.t0-1.y0-4";
  return {{"id", id},        {"index", index},
          {"layer", layer},  {"layer_id", index},
          {"block", 0},      {"sample", 0},
          {"t", {0, 1}},     {"rows", {0, 4}},
          {"cols", {0, 4}},  {"channels", {0, 4}},
          {"core", core},    {"start", start},
          {"end", end},      {"energy_pj", Energy(10 * scale, scale, 2 * scale, 0, 0)},
          {"reads", {read}}, {"writes", {write}}};
}

// The XY route between two mesh positions (written out for the fixture).
json Route(std::pair<int, int> from, std::pair<int, int> to) {
  json r = json::array({{from.first, from.second}});
  while (from != to) {
    if (from.first != to.first)
      from.first += from.first < to.first ? 1 : -1;
    else
      from.second += from.second < to.second ? 1 : -1;
    r.push_back({from.first, from.second});
  }
  return r;
}

json Noc(int id, int from, int to, int src, int dst, json route, int64_t start, int64_t end) {
  const int hops = static_cast<int>(route.size()) - 1;
  return {{"id", id},
          {"direction", "noc"},
          {"cause", "first_use"},
          {"operand", "O"},
          {"tensor", Piece("feature", "O", "a", 1)},
          {"bytes", 64},
          {"from_core", from},
          {"to_core", to},
          {"core", to},
          {"src_allocation", src},
          {"dst_allocation", dst},
          {"route", route},
          {"hops", hops},
          {"start", start},
          {"end", end},
          {"energy_pj",
           Energy(0, 0, Pj(64, (from == 0 ? kGb0Read : kGbRead) + (to == 0 ? kGb0Write : kGbWrite)),
                  0, Pj(64, kLinkEnergy * hops))}};
}

// The clean manifest on hardware `h`, layer b on core `to` (at mesh
// position `to_xy`). Timeline: load input [0,8) -> tile a [10,20) on core 0
// -> noc [20,28) -> tile b [30,40) on core `to` -> store [40,48).
json Build(const hw::Hardware& h, int to, std::pair<int, int> to_xy) {
  const json input = Piece("input", "I", nullptr, 0);
  const json fa = Piece("feature", "O", "a", 1);
  const json fb = Piece("feature", "O", "b", 2);
  json m;
  m["schema_version"] = 2;
  m["hardware"] = hw::ToJson(h);
  m["model"] = {{"file", "mc.onnx"}, {"sha256", "x"}, {"timesteps", 1}, {"batch", 1}};
  m["allocation"] = {{"a", 0}, {"b", to}};
  m["dram_layout"] = {{{"name", "input"}, {"base", 0}, {"bytes", 64}},
                      {{"name", "output"}, {"base", 64}, {"bytes", 64}}};
  // Allocations 1 (core 0) and 3 (core `to`) share offsets and cycles:
  // legal, they are in different memories.
  m["allocations"] = {Alloc(0, 0, 0, input, 0, 20), Alloc(1, 0, 64, fa, 10, 40),
                      Alloc(2, to, 0, fa, 20, 60), Alloc(3, to, 64, fb, 30, 80)};
  m["tiles"] = {Tile(0, "a", 0, 10, 20, 0, 1, 1), Tile(1, "b", to, 30, 40, 2, 3, 2)};
  const json route = Route({0, 0}, to_xy);
  const int hops = static_cast<int>(route.size()) - 1;
  m["transfers"] = {{{"id", 0},
                     {"direction", "load"},
                     {"cause", "first_use"},
                     {"operand", "I"},
                     {"tensor", input},
                     {"bytes", 64},
                     {"dram_address", 0},
                     {"memory", Memory(0)},
                     {"offset", 0},
                     {"allocation", 0},
                     {"core", 0},
                     {"start", 0},
                     {"end", 8}},
                    Noc(1, 0, to, 1, 2, route, 20, 28),
                    {{"id", 2},
                     {"direction", "store"},
                     {"cause", "final_output"},
                     {"operand", "O"},
                     {"tensor", fb},
                     {"bytes", 64},
                     {"dram_address", 64},
                     {"memory", Memory(to)},
                     {"offset", 64},
                     {"allocation", 3},
                     {"core", to},
                     {"start", 40},
                     {"end", 48}}};
  // Tiles 30 compute, 3 local, 6 sram; load: DRAM read + core 0 write;
  // store: core `to` read + DRAM write; noc: core 0 read + core `to` write.
  const double sram = 6 + Pj(64, kGb0Write) + Pj(64, kGbRead) + Pj(64, kGb0Read + kGbWrite);
  json cores = json::array();
  for (const hw::Core& c : h.cores) {
    const bool a = c.id == 0, b = c.id == to;
    cores.push_back({{"core", c.id},
                     {"memory", Memory(c.id)},
                     {"capacity_bytes", kSram},
                     {"peak_sram_bytes", a || b ? 128 : 0},
                     {"tiles", a || b ? 1 : 0},
                     {"busy_cycles", a || b ? 10 : 0}});
  }
  m["summary"] = {{"energy_pj", Energy(30, 3, sram, Pj(64, kDramRead) + Pj(64, kDramWrite),
                                       Pj(64, kLinkEnergy * hops))},
                  {"dram_bytes",
                   {{"total", 128},
                    {"read", 64},
                    {"write", 64},
                    {"by_operand", {{"W", 0}, {"I", 64}, {"O", 64}, {"S", 0}}},
                    {"read_by_operand", {{"W", 0}, {"I", 64}, {"O", 0}, {"S", 0}}},
                    {"write_by_operand", {{"W", 0}, {"I", 0}, {"O", 64}, {"S", 0}}},
                    {"by_cause", {{"first_use", 64}, {"final_output", 64}}},
                    {"by_block", {128}}}},
                  {"latency_cycles", 48},
                  {"compute_cycles", 20},
                  {"stall_cycles", 38},  // 48 - 10: the busiest core computes 10 cycles
                  {"peak_sram_bytes", 128},
                  {"tiles", 2},
                  {"allocations", 4},
                  {"transfers", 3},
                  {"noc_bytes", 64},
                  {"noc_transfers", 1},
                  {"cores", cores},
                  {"state_io", "zero"}};
  return m;
}

json TwoCores() { return Build(Mesh(2, 1), 1, {1, 0}); }
json Square() { return Build(Mesh(2, 2), 3, {1, 1}); }  // route (0,0) (1,0) (1,1)

json& Transfer(json& m, int id) {
  for (json& x : m["transfers"])
    if (x["id"] == id) return x;
  ADD_FAILURE() << "no transfer " << id;
  return m["transfers"][0];
}

bool HasCheck(const std::vector<Violation>& v, const std::string& check) {
  for (const Violation& x : v)
    if (x.check == check) return true;
  return false;
}

TEST(MultiCore, CleanTwoCoreManifestHasNoViolations) {
  std::vector<Violation> v = Check(TwoCores());
  EXPECT_TRUE(v.empty()) << Join(v);
}

TEST(MultiCore, CleanRouteWithATurnHasNoViolations) {
  const json m = Square();
  ASSERT_EQ(m["transfers"][1]["route"], json({{0, 0}, {1, 0}, {1, 1}}));
  std::vector<Violation> v = Check(m);
  EXPECT_TRUE(v.empty()) << Join(v);
}

TEST(MultiCore, AllocationOnAnUnknownCore) {
  json m = TwoCores();
  m["allocations"][3]["core"] = 5;
  EXPECT_TRUE(
      HasViolation(Check(m), "allocation.core", "allocation 3 is on core 5, not a hardware"));
}

TEST(MultiCore, AllocationInAnotherCoresMemory) {
  json m = TwoCores();
  m["allocations"][2]["memory"] = "global_buffer";  // core 0's
  EXPECT_TRUE(HasViolation(Check(m), "allocation.memory",
                           "allocation 2 on core 1 is in memory 'global_buffer', not the global "
                           "buffer 'gb1'"));
}

// Two cores have 2 KiB together, but each only 1 KiB: 1200 live bytes on
// core 1 overflow it although core 0 holds nothing.
TEST(MultiCore, CapacityIsPerCore) {
  json m = TwoCores();
  const json fb = Piece("feature", "O", "b", 2);
  json a = Alloc(0, 1, 0, fb, 0, 10), b = Alloc(1, 1, 600, fb, 0, 10);
  a["bytes"] = 600;
  b["bytes"] = 600;
  m["allocations"] = {a, b};
  m["tiles"] = json::array();
  m["transfers"] = json::array();
  std::vector<Violation> v = Check(m);
  EXPECT_TRUE(HasViolation(v, "memory.capacity",
                           "core 1 memory 'gb1': 1200 bytes live at cycle 0 exceed its capacity "
                           "of 1024 bytes"));
  EXPECT_FALSE(HasViolation(v, "memory.capacity", "core 0"));
}

TEST(MultiCore, OverlapIsPerCore) {
  json m = TwoCores();  // allocations 1 (core 0) and 3 (core 1) share [64, 128) x [30, 40)
  EXPECT_FALSE(HasCheck(Check(m), "allocation.overlap"));
  m["allocations"][3]["core"] = 0;
  m["allocations"][3]["memory"] = "global_buffer";
  EXPECT_TRUE(HasViolation(Check(m), "allocation.overlap",
                           "allocations 1 [64, 128) x [10,40) and 3 [64, 128) x [30,80) overlap "
                           "on core 0"));
}

TEST(MultiCore, TileReadsAnAllocationOnAnotherCore) {
  json m = TwoCores();
  m["tiles"][1]["reads"] = {1};  // the original on core 0, not the copy
  EXPECT_TRUE(HasViolation(Check(m), "tile.core_memory",
                           "tile L1.s0.t0-1.y0-4 on core 1 reads allocation 1 on core 0"));
}

TEST(MultiCore, TileOnAnUnknownCoreOrNotItsLayersCore) {
  json m = TwoCores();
  m["tiles"][1]["core"] = 7;
  std::vector<Violation> v = Check(m);
  EXPECT_TRUE(HasViolation(v, "tile.core", "tile L1.s0.t0-1.y0-4 runs on core 7, not a hardware"));
  EXPECT_TRUE(HasViolation(v, "tile.core", "`allocation` puts layer 'b' on core 1"));
}

TEST(MultiCore, TransferOnAnotherCoreThanItsAllocation) {
  json m = TwoCores();
  Transfer(m, 0)["core"] = 1;
  Transfer(m, 1)["src_allocation"] = 2;  // the copy itself, on core 1
  std::vector<Violation> v = Check(m);
  EXPECT_TRUE(HasViolation(v, "transfer.core", "transfer 0 on core 1 uses allocation 0 on core 0"));
  EXPECT_TRUE(HasViolation(v, "transfer.core",
                           "transfer 1 copies from core 0 but its src_allocation 2 is on core 1"));
}

TEST(MultiCore, NocRouteNotXy) {
  json m = Square();
  Transfer(m, 1)["route"] = {{0, 0}, {0, 1}, {1, 1}};  // y first
  EXPECT_TRUE(HasViolation(Check(m), "noc.route",
                           "noc transfer 1 (core 0 -> core 3): route [(0,0) (0,1) (1,1)] is not "
                           "the XY route [(0,0) (1,0) (1,1)]"));
}

TEST(MultiCore, NocRouteWrongEndpointsOrHops) {
  json m = Square();
  Transfer(m, 1)["route"] = {{0, 0}, {1, 0}};
  EXPECT_TRUE(HasViolation(Check(m), "noc.route", "does not end at core 3's position (1,1)"));
  Transfer(m, 1)["route"] = {{1, 0}, {1, 1}};
  EXPECT_TRUE(HasViolation(Check(m), "noc.route", "does not start at core 0's position (0,0)"));
  Transfer(m, 1)["route"] = {{0, 0}, {1, 0}, {1, 1}};
  Transfer(m, 1)["hops"] = 3;
  EXPECT_TRUE(HasViolation(Check(m), "noc.route", "hops is 3 but its route has 2"));
  m = TwoCores();
  Transfer(m, 1)["to_core"] = 0;
  EXPECT_TRUE(HasViolation(Check(m), "noc.route", "copies core 0 to itself"));
}

// A second copy of piece 1 to core 1 (allocation 4) while the first is
// under way.
json WithSecondNoc(json m, int from, int to, json route, int64_t start) {
  m["allocations"].push_back(Alloc(4, to, 128, Piece("feature", "O", "a", 1), 20, 60));
  m["transfers"].push_back(Noc(3, from, to, 1, 4, route, start, start + 8));
  return m;
}

TEST(MultiCore, NocTransfersSharingADirectedLinkAtOnce) {
  std::vector<Violation> v = Check(WithSecondNoc(TwoCores(), 0, 1, {{0, 0}, {1, 0}}, 24));
  EXPECT_TRUE(HasViolation(v, "noc.overlap",
                           "noc transfers 1 [20,28) and 3 [24,32) overlap on the link (0,0) -> "
                           "(1,0)"));
  // On a mesh: 0 -> 3 and 1 -> 3 share the link (1,0) -> (1,1) only.
  v = Check(WithSecondNoc(Square(), 1, 3, {{1, 0}, {1, 1}}, 27));
  EXPECT_TRUE(HasViolation(v, "noc.overlap", "overlap on the link (1,0) -> (1,1)"));
  EXPECT_FALSE(HasViolation(v, "noc.overlap", "(0,0) -> (1,0)"));
}

TEST(MultiCore, NocOppositeDirectionsDisjointLinksAndTouchingIntervalsAreFine) {
  auto noc_checks = [](const json& m) {
    std::vector<Violation> v = Check(m);
    return HasCheck(v, "noc.overlap") || HasCheck(v, "noc.route") ? Join(v) : std::string();
  };
  // 1 -> 0 on (1,0) -> (0,0) while 0 -> 1 holds (0,0) -> (1,0).
  json m = TwoCores();
  m["allocations"].push_back(Alloc(4, 0, 128, Piece("feature", "O", "a", 1), 20, 60));
  m["transfers"].push_back(Noc(3, 1, 0, 2, 4, {{1, 0}, {0, 0}}, 20, 28));
  EXPECT_EQ(noc_checks(m), "");
  // 2 -> 3 on (0,1) -> (1,1) while 0 -> 3 holds (0,0) -> (1,0) -> (1,1): disjoint.
  EXPECT_EQ(noc_checks(WithSecondNoc(Square(), 2, 3, {{0, 1}, {1, 1}}, 20)), "");
  // The same link, [20, 28) then [28, 36): half-open intervals touch.
  EXPECT_EQ(noc_checks(WithSecondNoc(TwoCores(), 0, 1, {{0, 0}, {1, 0}}, 28)), "");
}

TEST(MultiCore, NocFasterThanTheLink) {
  json m = TwoCores();
  Transfer(m, 1)["end"] = 27;  // 512 bits at 64 bit/cycle need 8 cycles
  EXPECT_TRUE(HasViolation(Check(m), "noc.bandwidth",
                           "noc transfer 1 moves 64 bytes in 7 cycles; a NoC link of 64 "
                           "bit/cycle needs 8"));
}

TEST(MultiCore, NocDoesNotUseTheDramLink) {
  json m = TwoCores();
  Transfer(m, 1)["start"] = 0;  // alongside the load, on the NoC
  Transfer(m, 1)["end"] = 8;
  EXPECT_FALSE(HasCheck(Check(m), "link.overlap"));
}

TEST(MultiCore, NocBeforeItsSourceHasData) {
  json m = TwoCores();
  Transfer(m, 1)["start"] = 12;  // tile a produces allocation 1 only at 20
  Transfer(m, 1)["end"] = 20;
  std::vector<Violation> v = Check(m);
  EXPECT_TRUE(HasViolation(v, "noc.early",
                           "noc transfer 1 (allocation 1 on core 0 -> allocation 2 on core 1) "
                           "of piece 1"));
  EXPECT_TRUE(HasViolation(v, "noc.early", "starts at cycle 12 before its data is produced"));
  EXPECT_TRUE(HasViolation(v, "data.missing", "tile L1.s0.t0-1.y0-4 reads allocation 2"));
}

TEST(MultiCore, NocIntoAnAllocationNotLive) {
  json m = TwoCores();
  m["allocations"][2]["allocated_at"] = 24;
  EXPECT_TRUE(HasViolation(Check(m), "data.not_live", "fills allocation 2"));
}

TEST(MultiCore, NocEnergyWrong) {
  json m = TwoCores();
  json& e = Transfer(m, 1)["energy_pj"];
  e["noc"] = e["noc"].get<double>() * 2;
  e["total"] = e["noc"].get<double>() + e["sram"].get<double>();
  std::vector<Violation> v = Check(m);
  EXPECT_TRUE(HasViolation(v, "noc.energy", "noc transfer 1: energy_pj.noc is 51.2"));
  EXPECT_TRUE(HasViolation(v, "noc.energy", "64 bytes over 1 hops cost 25.6"));
  EXPECT_FALSE(HasCheck(v, "summary.energy"));  // the summary is recomputed, not summed
}

TEST(MultiCore, SummaryNocFiguresWrong) {
  json m = TwoCores();
  m["summary"]["noc_bytes"] = 72;
  m["summary"]["noc_transfers"] = 2;
  std::vector<Violation> v = Check(m);
  EXPECT_TRUE(HasViolation(v, "summary.noc", "summary.noc_bytes is 72 but 64 recomputed"));
  EXPECT_TRUE(HasViolation(v, "summary.noc", "summary.noc_transfers is 2 but 1 recomputed"));
  m = TwoCores();
  m["summary"]["energy_pj"]["noc"] = 0;
  EXPECT_TRUE(HasViolation(Check(m), "summary.energy", "summary.energy_pj.noc is 0"));
}

TEST(MultiCore, NocBytesAreNotDramBytes) {
  json m = TwoCores();
  json& d = m["summary"]["dram_bytes"];
  d["total"] = 192;
  d["by_cause"]["first_use"] = 128;  // the noc transfer's cause
  std::vector<Violation> v = Check(m);
  EXPECT_TRUE(HasViolation(v, "summary.bytes", "summary.dram_bytes.total is 192"));
  EXPECT_TRUE(HasViolation(v, "summary.bytes", "summary.dram_bytes.by_cause.first_use is 128"));
}

TEST(MultiCore, TransfersArePricedWithTheirCoresMemory) {
  json m = TwoCores();
  // Core 1's global buffer at core 0's prices: the store and the noc's write
  // now cost less than the manifest says.
  hw::Hardware h = Mesh(2, 1);
  h.cores[1].memories.back().read_energy_fj_per_bit = kGb0Read;
  h.cores[1].memories.back().write_energy_fj_per_bit = kGb0Write;
  m["hardware"] = hw::ToJson(h);
  std::vector<Violation> v = Check(m);
  EXPECT_TRUE(HasViolation(v, "summary.energy", "summary.energy_pj.sram is"));
  EXPECT_TRUE(HasViolation(v, "noc.energy", "noc transfer 1: energy_pj.sram"));
}

// Cores compute in parallel: the sum of all tiles (20) may even exceed the
// latency, so stalls are the latency not covered by the busiest core.
TEST(MultiCore, StallsAreTheBusiestCoresIdleCycles) {
  json m = TwoCores();
  m["summary"]["stall_cycles"] = 28;  // 48 - 20
  EXPECT_TRUE(
      HasViolation(Check(m), "summary.cycles", "summary.stall_cycles is 28 but 38 recomputed"));
}

TEST(MultiCore, SummaryCoresWrong) {
  json m = TwoCores();
  json& c = m["summary"]["cores"];
  c[1]["tiles"] = 2;
  c[1]["busy_cycles"] = 11;
  c[1]["peak_sram_bytes"] = 64;
  c[0]["memory"] = "gb1";
  c[0]["capacity_bytes"] = 2048;
  std::vector<Violation> v = Check(m);
  EXPECT_TRUE(HasViolation(v, "summary.cores", "summary.cores[1].tiles is 2 but 1 recomputed"));
  EXPECT_TRUE(HasViolation(v, "summary.cores", "summary.cores[1].busy_cycles is 11 but 10"));
  EXPECT_TRUE(HasViolation(v, "summary.peak",
                           "summary.cores[1].peak_sram_bytes is 64 but core 1's allocations "
                           "peak at 128"));
  EXPECT_TRUE(HasViolation(v, "summary.cores",
                           "summary.cores[0].memory is 'gb1' but core 0's global buffer is "
                           "'global_buffer'"));
  EXPECT_TRUE(HasViolation(v, "summary.cores", "summary.cores[0].capacity_bytes is 2048"));
  c.erase(1);
  EXPECT_TRUE(HasViolation(Check(m), "summary.cores", "lists no entry for core 1"));
}

TEST(MultiCore, MalformedMultiCoreFieldsAreErrors) {
  auto error = [](const json& m) {
    absl::StatusOr<std::vector<Violation>> v = Validate(m);
    return v.ok() ? std::string("ok") : std::string(v.status().message());
  };
  json m = TwoCores();
  Transfer(m, 1)["route"] = {{0, 0}, {1}};
  EXPECT_THAT(error(m), HasSubstr("transfers[1].route: must hold [x, y] pairs"));
  m = TwoCores();
  Transfer(m, 1).erase("from_core");
  EXPECT_THAT(error(m), HasSubstr("transfers[1].from_core: missing"));
  m = TwoCores();
  m["allocations"][0].erase("core");
  EXPECT_THAT(error(m), HasSubstr("allocations[0].core: missing"));
  m = TwoCores();
  m["summary"]["cores"][0]["tiles"] = "one";
  EXPECT_THAT(error(m), HasSubstr("summary.cores[0].tiles: must be an integer"));
  m = TwoCores();
  Transfer(m, 1)["energy_pj"]["noc"] = "a lot";
  EXPECT_THAT(error(m), HasSubstr("transfers[1].energy_pj.noc: must be a number"));
}

// Random edits of the multi-core fixtures (routes, cores, noc fields):
// errors or violations, never a crash.
TEST(MultiCore, RandomEditsNeverCrash) {
  std::mt19937_64 rng(3);
  const json values[] = {nullptr,
                         -1,
                         0,
                         1,
                         3,
                         int64_t{1} << 53,
                         "x",
                         json::array(),
                         json::array({0, 0}),
                         json::array({json::array({1, 1})}),
                         1e300};
  int errors = 0, flagged = 0;
  for (const json& clean : {TwoCores(), Square()})
    for (int i = 0; i < 300; ++i) {
      json m = clean;
      for (int k = 0; k < 3; ++k) {
        json* node = &m;
        while ((node->is_object() || node->is_array()) && !node->empty() && rng() % 5 != 0) {
          auto it = node->begin();
          std::advance(it, static_cast<long>(rng() % node->size()));
          node = &*it;
        }
        *node = values[rng() % std::size(values)];
      }
      absl::StatusOr<std::vector<Violation>> v = Validate(m);
      errors += !v.ok();
      flagged += v.ok() && !v->empty();
    }
  EXPECT_GT(errors, 0);
  EXPECT_GT(flagged, 0);
}

// Version 1: everything is on the first core; `core` fields of allocations
// and transfers are not read, tile cores are not checked, and a `noc`
// transfer is an unknown direction, exactly as before version 2.
json PlannerManifestAsV1() {
  plan::Planner planner(TinyNet(2, 1), MetaPrototype(256), plan::PlanOptions{});
  json m = Plan(planner, "st-lbl");
  if (m.is_null()) return m;
  // What a version 1 planner wrote: no layer cores, NoC figures or per-core
  // summaries, energies without `noc`.
  m["schema_version"] = 1;
  DowngradeOperands(m);
  m.erase("allocation");
  for (const char* key : {"noc_bytes", "noc_transfers", "cores"}) m["summary"].erase(key);
  m["summary"]["energy_pj"].erase("noc");
  for (json& t : m["tiles"]) t["energy_pj"].erase("noc");
  return m;
}

TEST(SchemaV1, PlannerManifestsValidateAsBefore) {
  json m = PlannerManifestAsV1();
  ASSERT_FALSE(m.is_null());
  std::vector<Violation> v = Check(m);
  EXPECT_TRUE(v.empty()) << Join(v);
  for (json& a : m["allocations"]) a["core"] = 7;
  for (json& t : m["tiles"]) t["core"] = 7;
  for (json& x : m["transfers"]) x.erase("core");
  v = Check(m);
  EXPECT_TRUE(v.empty()) << Join(v);
  // Messages keep their version 1 wording (no core named).
  m["allocations"][0]["bytes"] = -8;
  EXPECT_TRUE(HasViolation(Check(m), "allocation.bounds", "allocation 0 [0, -8) lies outside"));
}

TEST(SchemaV1, NocTransfersAreUnknown) {
  json m = PlannerManifestAsV1();
  ASSERT_FALSE(m.is_null());
  json noc = TwoCores();
  m["transfers"].push_back(Transfer(noc, 1));
  absl::StatusOr<std::vector<Violation>> v = Validate(m);
  ASSERT_FALSE(v.ok());
  EXPECT_THAT(std::string(v.status().message()), HasSubstr(".direction: unknown value"));
}

}  // namespace
}  // namespace snnplan::validate::testing
