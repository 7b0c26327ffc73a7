// Tests of the hardware-description loader: presets, the meta-prototype's
// Table 1 figures, size parsing, --sram resizing and the JSON round-trip.
// Malformed files are covered in malformed_test.cc.
#include "snnplan/hwdesc.h"

#include <cstdint>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace snnplan::hw {
namespace {

using ::testing::HasSubstr;

// Debian's Abseil has its own string_view; matchers want std::string.
std::string Msg(const absl::Status& s) { return std::string(s.message()); }

const std::string kDataDir = std::string(SNNPLAN_SOURCE_DIR) + "/tests/data/hw/";

Hardware MustPreset(const std::string& name) {
  absl::StatusOr<Hardware> hw = Preset(name);
  EXPECT_TRUE(hw.ok()) << hw.status();
  return hw.ok() ? *hw : Hardware{};
}

const MemoryLevel* FindLevel(const Core& core, const std::string& name) {
  for (const MemoryLevel& m : core.memories)
    if (m.name == name) return &m;
  return nullptr;
}

// ---------------------------------------------------------------- presets

TEST(Presets, ListIncludesMetaPrototype) {
  std::vector<std::string> names = PresetNames();
  EXPECT_THAT(names, ::testing::Contains("meta-prototype"));
}

TEST(Presets, EveryPresetLoadsAndIsConsistent) {
  ASSERT_FALSE(PresetNames().empty());
  for (const std::string& name : PresetNames()) {
    SCOPED_TRACE(name);
    absl::StatusOr<Hardware> hw = Preset(name);
    ASSERT_TRUE(hw.ok()) << hw.status();
    EXPECT_EQ(hw->name, name);  // the preset's name is its file name
    ASSERT_FALSE(hw->cores.empty());
    for (const Core& core : hw->cores) {
      ASSERT_FALSE(core.memories.empty());
      EXPECT_EQ(core.global_buffer().operands.size(), 4u);
    }
    EXPECT_EQ(hw->noc.positions.size(), hw->cores.size());
    // Resolve() finds presets by name too.
    absl::StatusOr<Hardware> resolved = Resolve(name);
    ASSERT_TRUE(resolved.ok()) << resolved.status();
    EXPECT_EQ(*resolved, *hw);
  }
}

TEST(Presets, UnknownPresetNamesTheKnownOnes) {
  absl::StatusOr<Hardware> hw = Preset("no-such-chip");
  ASSERT_FALSE(hw.ok());
  EXPECT_EQ(hw.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(Msg(hw.status()), HasSubstr("no-such-chip"));
  EXPECT_THAT(Msg(hw.status()), HasSubstr("meta-prototype"));
  // A bare word that is no preset and no file is reported as a preset miss.
  absl::StatusOr<Hardware> resolved = Resolve("no-such-chip");
  ASSERT_FALSE(resolved.ok());
  EXPECT_THAT(Msg(resolved.status()), HasSubstr("unknown hardware preset"));
}

// The meta-prototype preset must reproduce STEMS Table 1 exactly. All figures
// are integers stored as doubles, so they compare exactly (tolerance 0).
TEST(MetaPrototype, EnergiesEqualTable1Exactly) {
  Hardware hw = MustPreset("meta-prototype");
  ASSERT_EQ(hw.cores.size(), 1u);
  const Core& core = hw.cores[0];
  EXPECT_EQ(core.operational_array.mac_energy_fj, 160.0);
  EXPECT_EQ(core.operational_array.sop_energy_fj, 70.0);
  EXPECT_EQ(hw.offchip.read_energy_fj_per_bit, 11000.0);
  EXPECT_EQ(hw.offchip.write_energy_fj_per_bit, 12000.0);
  EXPECT_EQ(hw.offchip.bw_bits_per_cycle, 64);
  const MemoryLevel& gb = core.global_buffer();
  EXPECT_EQ(gb.read_energy_fj_per_bit, 130.0);
  EXPECT_EQ(gb.write_energy_fj_per_bit, 170.0);
  // Every level between the registers and the global buffer is a local buffer
  // at 100 / 120 fJ/bit; the registers are free.
  for (size_t i = 0; i + 1 < core.memories.size(); ++i) {
    const MemoryLevel& m = core.memories[i];
    SCOPED_TRACE(m.name);
    if (m.size_bits <= 16) {
      EXPECT_EQ(m.read_energy_fj_per_bit, 0.0);
      EXPECT_EQ(m.write_energy_fj_per_bit, 0.0);
    } else {
      EXPECT_EQ(m.read_energy_fj_per_bit, 100.0);
      EXPECT_EQ(m.write_energy_fj_per_bit, 120.0);
    }
  }
}

TEST(MetaPrototype, ArrayUnrollsK32C2OX16) {
  Hardware hw = MustPreset("meta-prototype");
  const Core& core = hw.cores.at(0);
  EXPECT_EQ(core.operational_array.TotalPes(), 1024);
  ASSERT_EQ(core.dataflows.size(), 3u);
  std::vector<std::pair<ir::Dim, int64_t>> unroll;
  for (const SpatialUnroll& u : core.dataflows) unroll.emplace_back(u.loop, u.size);
  EXPECT_EQ(unroll, (std::vector<std::pair<ir::Dim, int64_t>>{
                        {ir::Dim::kK, 32}, {ir::Dim::kC, 2}, {ir::Dim::kOX, 16}}));
  EXPECT_FALSE(core.operational_array.sparse_speedup);
}

TEST(MetaPrototype, HierarchyPerOperandMatchesStemsModel) {
  Hardware hw = MustPreset("meta-prototype");
  const Core& core = hw.cores.at(0);
  auto chain = [&](ir::Operand op) {
    std::vector<int64_t> sizes;
    for (const MemoryLevel& m : core.memories)
      if (m.Holds(op)) sizes.push_back(m.size_bits);
    return sizes;
  };
  const int64_t gb = int64_t{1} << 23;  // 1 MiB default
  // W: 4-bit register -> 32 KiB -> GB; I: 16 KiB -> GB; O, S: 16-bit reg -> GB.
  EXPECT_EQ(chain(ir::Operand::kW), (std::vector<int64_t>{4, 32 * 1024 * 8, gb}));
  EXPECT_EQ(chain(ir::Operand::kI), (std::vector<int64_t>{16 * 1024 * 8, gb}));
  EXPECT_EQ(chain(ir::Operand::kO), (std::vector<int64_t>{16, gb}));
  EXPECT_EQ(chain(ir::Operand::kS), (std::vector<int64_t>{16, gb}));

  // Register instances: weights shared along OX (32*2 = 64 registers),
  // accumulators shared along the C reduction (32*16 = 512).
  const MemoryLevel* w_reg = FindLevel(core, "rf_4b_W");
  const MemoryLevel* o_reg = FindLevel(core, "rf_16b_O");
  ASSERT_NE(w_reg, nullptr);
  ASSERT_NE(o_reg, nullptr);
  EXPECT_EQ(core.Instances(*w_reg), 64);
  EXPECT_EQ(core.Instances(*o_reg), 512);
  EXPECT_EQ(core.Instances(core.global_buffer()), 1);

  const MemoryLevel& g = core.global_buffer();
  EXPECT_EQ(g.read_bw_bits_per_cycle, 1024);
  EXPECT_EQ(g.write_bw_bits_per_cycle, 1024);
  EXPECT_EQ(g.banks, 8);
  EXPECT_EQ(g.max_bw_bits_per_cycle, 1024);
  EXPECT_EQ(g.size_bits / g.banks, 128 * 1024 * 8);  // 128 KiB banks
}

// ---------------------------------------------------------------- sizes

TEST(ParseSize, UnitsAndBareIntegers) {
  EXPECT_EQ(*ParseSizeBits("128KiB"), 1048576);
  EXPECT_EQ(*ParseSizeBits("128KB"), 1048576);  // read as KiB
  EXPECT_EQ(*ParseSizeBits("1MiB"), 8388608);
  EXPECT_EQ(*ParseSizeBits("64MiB"), int64_t{64} * 1024 * 1024 * 8);
  EXPECT_EQ(*ParseSizeBits("1GiB"), int64_t{1} << 33);
  EXPECT_EQ(*ParseSizeBits("16B"), 128);
  EXPECT_EQ(*ParseSizeBits("4Kib"), 4096);
  EXPECT_EQ(*ParseSizeBits("2Mib"), 2 << 20);
  EXPECT_EQ(*ParseSizeBits("1Gib"), int64_t{1} << 30);
  EXPECT_EQ(*ParseSizeBits("12bits"), 12);
  EXPECT_EQ(*ParseSizeBits("131072"), 131072);  // bare = bits
  EXPECT_EQ(*ParseSizeBits("128 KiB"), 1048576);
  EXPECT_EQ(*ParseSizeBytes("128KiB"), 131072);
  EXPECT_EQ(*ParseSizeBytes("4096"), 4096);  // bare = bytes on the CLI
}

TEST(ParseSize, RejectsBadInput) {
  for (const char* bad : {"", "KiB", "12 parsecs", "128kib", "1.5MiB", "-4KiB", "0KiB", "0", "0x10",
                          "999999999999999GiB"}) {
    SCOPED_TRACE(bad);
    EXPECT_FALSE(ParseSizeBits(bad).ok());
  }
  absl::StatusOr<int64_t> bad_unit = ParseSizeBits("12 parsecs");
  EXPECT_THAT(Msg(bad_unit.status()), HasSubstr("unknown unit 'parsecs'"));
  // A size in bits that is not a whole number of bytes is no --sram value.
  EXPECT_FALSE(ParseSizeBytes("12b").ok());
}

TEST(ParseSize, JsonSizeAsIntegerOrString) {
  absl::StatusOr<Hardware> hw = LoadFile(kDataDir + "minimal.json");
  ASSERT_TRUE(hw.ok()) << hw.status();
  const Core& core = hw->cores.at(0);
  EXPECT_EQ(core.memories[0].size_bits, 16);             // bare integer = bits
  EXPECT_EQ(core.memories[1].size_bits, 2 * 1024 * 8);   // "2KiB"
  EXPECT_EQ(core.memories[2].size_bits, 64 * 1024 * 8);  // "64KiB"
  // Defaults for the optional fields.
  EXPECT_EQ(core.memories[0].banks, 1);
  EXPECT_EQ(core.memories[0].access_granularity_bits, 8);
  EXPECT_EQ(core.memories[0].max_bw_bits_per_cycle, 0);
  EXPECT_EQ(core.operational_array.neuron_update_energy_fj, 0.0);
  EXPECT_FALSE(core.operational_array.sparse_speedup);
  // No "noc" section: cores on a row, links as wide as the DRAM link.
  ASSERT_EQ(hw->noc.positions.size(), 1u);
  EXPECT_EQ(hw->noc.positions[0], (NocPosition{0, 0, 0}));
  EXPECT_EQ(hw->noc.link_bw_bits_per_cycle, 64);
  // Integral JSON numbers written as floats are accepted as integers.
  nlohmann::json doc = ToJson(*hw);
  doc["cores"][0]["memories"][0]["size_bits"] = 16.0;
  absl::StatusOr<Hardware> again = FromJson(doc, "floats");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(*again, *hw);
}

// ---------------------------------------------------------------- --sram

struct ResizeCase {
  const char* sram;
  int64_t banks;
  int64_t bw;
};

TEST(ResizeGlobalBuffer, BanksAndBandwidthFollowSize) {
  for (const ResizeCase& c :
       {ResizeCase{"128KiB", 1, 128}, ResizeCase{"256KiB", 2, 256}, ResizeCase{"384KiB", 3, 384},
        ResizeCase{"512KiB", 4, 512}, ResizeCase{"1MiB", 8, 1024}, ResizeCase{"2MiB", 16, 1024},
        ResizeCase{"64MiB", 512, 1024}, ResizeCase{"100KiB", 1, 128},
        ResizeCase{"129KiB", 2, 256}}) {
    SCOPED_TRACE(c.sram);
    Hardware hw = MustPreset("meta-prototype");
    const Hardware original = hw;
    absl::StatusOr<int64_t> bytes = ParseSizeBytes(c.sram);
    ASSERT_TRUE(bytes.ok()) << bytes.status();
    ASSERT_TRUE(ResizeGlobalBuffer(hw, *bytes).ok());
    const MemoryLevel& gb = hw.cores[0].global_buffer();
    EXPECT_EQ(gb.size_bits, *bytes * 8);
    EXPECT_EQ(gb.banks, c.banks);
    EXPECT_EQ(gb.read_bw_bits_per_cycle, c.bw);
    EXPECT_EQ(gb.write_bw_bits_per_cycle, c.bw);
    // Per-bit energies do not change with size; nothing else changes.
    EXPECT_EQ(gb.read_energy_fj_per_bit, 130.0);
    EXPECT_EQ(gb.write_energy_fj_per_bit, 170.0);
    for (size_t i = 0; i + 1 < hw.cores[0].memories.size(); ++i)
      EXPECT_EQ(hw.cores[0].memories[i], original.cores[0].memories[i]);
    EXPECT_EQ(hw.offchip, original.offchip);
  }
}

TEST(ResizeGlobalBuffer, ExactlyTheIssueFigures) {
  Hardware hw = MustPreset("meta-prototype");
  ASSERT_TRUE(ResizeGlobalBuffer(hw, 128 * 1024).ok());
  EXPECT_EQ(hw.cores[0].global_buffer().size_bits, 1048576);
  EXPECT_EQ(hw.cores[0].global_buffer().banks, 1);
  EXPECT_EQ(hw.cores[0].global_buffer().read_bw_bits_per_cycle, 128);
}

TEST(ResizeGlobalBuffer, RejectsNonPositive) {
  Hardware hw = MustPreset("meta-prototype");
  EXPECT_FALSE(ResizeGlobalBuffer(hw, 0).ok());
  EXPECT_FALSE(ResizeGlobalBuffer(hw, -1).ok());
  EXPECT_EQ(hw, MustPreset("meta-prototype"));  // untouched on error
}

TEST(ResizeGlobalBuffer, UncappedLevelStaysLoadableWhenHuge) {
  // A global buffer without max_bw and tiny banks: resizing to the largest
  // allowed size must not overflow and must stay a loadable description.
  absl::StatusOr<Hardware> hw = LoadFile(kDataDir + "minimal.json");
  ASSERT_TRUE(hw.ok()) << hw.status();
  nlohmann::json doc = ToJson(*hw);
  doc["cores"][0]["memories"][2]["size_bits"] = 64;
  doc["cores"][0]["memories"][2]["banks"] = 64;
  doc["cores"][0]["memories"][2]["read_bw_bits_per_cycle"] = int64_t{1} << 40;
  doc["cores"][0]["memories"][2]["granularity_bits"] = 1;
  absl::StatusOr<Hardware> small = FromJson(doc, "small");
  ASSERT_TRUE(small.ok()) << small.status();
  ASSERT_TRUE(ResizeGlobalBuffer(*small, int64_t{1} << 46).ok());
  const MemoryLevel& gb = small->cores[0].global_buffer();
  EXPECT_GT(gb.read_bw_bits_per_cycle, 0);
  absl::StatusOr<Hardware> back = FromJson(ToJson(*small), "resized");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, *small);
}

// ---------------------------------------------------------------- round-trip

TEST(RoundTrip, EveryPresetAndResizedVariant) {
  for (const std::string& name : PresetNames()) {
    for (int64_t kib : {0, 128, 256, 384, 512, 1024, 2048, 65536}) {
      SCOPED_TRACE(name + " sram KiB " + std::to_string(kib));
      Hardware hw = MustPreset(name);
      if (kib > 0) {
        ASSERT_TRUE(ResizeGlobalBuffer(hw, kib * 1024).ok());
      }
      nlohmann::json doc = ToJson(hw);
      absl::StatusOr<Hardware> back = FromJson(doc, "round-trip");
      ASSERT_TRUE(back.ok()) << back.status();
      EXPECT_EQ(*back, hw);
      EXPECT_EQ(ToJson(*back).dump(), doc.dump());  // a fixed point as text too
      // Through text, as `hw show --json` and LoadFile see it.
      absl::StatusOr<Hardware> parsed = FromJson(nlohmann::json::parse(doc.dump(2)), "text");
      ASSERT_TRUE(parsed.ok()) << parsed.status();
      EXPECT_EQ(*parsed, hw);
    }
  }
}

TEST(RoundTrip, MinimalFileWithDefaultsAndNoc) {
  absl::StatusOr<Hardware> hw = LoadFile(kDataDir + "minimal.json");
  ASSERT_TRUE(hw.ok()) << hw.status();
  absl::StatusOr<Hardware> back = FromJson(ToJson(*hw), "round-trip");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, *hw);
}

TEST(RoundTrip, LevelSmallerThanDefaultGranularity) {
  // A 4-bit register without "granularity_bits": the 8-bit default must not make
  // the normalized output unloadable ("granularity: larger than the memory").
  absl::StatusOr<Hardware> hw = LoadFile(kDataDir + "minimal.json");
  ASSERT_TRUE(hw.ok()) << hw.status();
  nlohmann::json doc = ToJson(*hw);
  doc["cores"][0]["memories"][0]["size_bits"] = 4;
  doc["cores"][0]["memories"][0].erase("granularity_bits");
  absl::StatusOr<Hardware> small = FromJson(doc, "small register");
  ASSERT_TRUE(small.ok()) << small.status();
  EXPECT_EQ(small->cores[0].memories[0].access_granularity_bits, 4);
  absl::StatusOr<Hardware> back = FromJson(ToJson(*small), "round-trip");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, *small);
}

TEST(RoundTrip, EqualityNoticesChanges) {
  // Guards the round-trip tests: operator== must see every field ToJson writes.
  Hardware hw = MustPreset("meta-prototype");
  Hardware changed = hw;
  changed.cores[0].memories[0].access_granularity_bits += 1;
  EXPECT_NE(changed, hw);
  changed = hw;
  changed.noc.link_energy_fj_per_bit_per_hop = 1;
  EXPECT_NE(changed, hw);
  changed = hw;
  changed.cores[0].operational_array.neuron_update_energy_fj = 3;
  EXPECT_NE(changed, hw);
  absl::StatusOr<Hardware> back = FromJson(ToJson(changed), "changed");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->cores[0].operational_array.neuron_update_energy_fj, 3.0);
}

TEST(RoundTrip, MultiCoreNocIsSortedAndKept) {
  absl::StatusOr<Hardware> hw = LoadFile(kDataDir + "minimal.json");
  ASSERT_TRUE(hw.ok()) << hw.status();
  nlohmann::json doc = ToJson(*hw);
  nlohmann::json core1 = doc["cores"][0];
  core1["id"] = 3;
  doc["cores"].push_back(core1);
  doc["noc"] = {
      {"positions", {{{"core", 3}, {"x", 1}, {"y", 0}}, {{"core", 0}, {"x", 0}, {"y", 0}}}},
      {"link_bw_bits_per_cycle", 32},
      {"link_energy_fj_per_bit_per_hop", 2.5}};
  absl::StatusOr<Hardware> two = FromJson(doc, "two cores");
  ASSERT_TRUE(two.ok()) << two.status();
  ASSERT_EQ(two->noc.positions.size(), 2u);
  EXPECT_EQ(two->noc.positions[0], (NocPosition{0, 0, 0}));
  EXPECT_EQ(two->noc.positions[1], (NocPosition{3, 1, 0}));
  EXPECT_EQ(two->noc.link_energy_fj_per_bit_per_hop, 2.5);
  absl::StatusOr<Hardware> back = FromJson(ToJson(*two), "round-trip");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, *two);
}

// Cores listed out of id order without a "noc" section get default positions
// in core-id order too, so the description round-trips (a fuzz finding).
TEST(RoundTrip, DefaultNocOfCoresOutOfIdOrderIsSortedAndKept) {
  absl::StatusOr<Hardware> hw = LoadFile(kDataDir + "minimal.json");
  ASSERT_TRUE(hw.ok()) << hw.status();
  nlohmann::json doc = ToJson(*hw);
  doc.erase("noc");
  nlohmann::json core0 = doc["cores"][0];
  doc["cores"][0]["id"] = 5;
  doc["cores"].push_back(core0);
  absl::StatusOr<Hardware> two = FromJson(doc, "two cores, no noc");
  ASSERT_TRUE(two.ok()) << two.status();
  ASSERT_EQ(two->noc.positions.size(), 2u);
  EXPECT_EQ(two->noc.positions[0], (NocPosition{0, 1, 0}));  // second listed: x = 1
  EXPECT_EQ(two->noc.positions[1], (NocPosition{5, 0, 0}));
  absl::StatusOr<Hardware> back = FromJson(ToJson(*two), "round-trip");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, *two);
}

TEST(Lookup, CoreIndexAndPositionById) {
  Hardware quad = MustPreset("meta-prototype-quad");
  quad.cores[2].id = 9;  // ids need not be indices
  quad.noc.positions[2].core = 9;
  EXPECT_EQ(quad.CoreIndex(9), 2);
  EXPECT_EQ(quad.CoreIndex(2), -1);
  ASSERT_NE(quad.PositionOf(9), nullptr);
  EXPECT_EQ(*quad.PositionOf(9), (NocPosition{9, 0, 1}));
  EXPECT_EQ(quad.PositionOf(2), nullptr);
}

// ---------------------------------------------------------------- Describe

TEST(Describe, NamesRolesAndFigures) {
  Hardware hw = MustPreset("meta-prototype");
  std::string text = Describe(hw);
  EXPECT_THAT(text, HasSubstr("hardware: meta-prototype"));
  EXPECT_THAT(text, HasSubstr("1024 PEs"));
  EXPECT_THAT(text, HasSubstr("K 32 C 2 OX 16"));
  EXPECT_THAT(text, HasSubstr("MAC 160 fJ, SOP 70 fJ"));
  EXPECT_THAT(text, HasSubstr("1 MiB"));
  EXPECT_THAT(text, HasSubstr("sram (global buffer, --sram)"));
  EXPECT_THAT(text, HasSubstr("local"));
  EXPECT_THAT(text, HasSubstr("r/w 11000/12000 fJ/bit, 64 bit/cycle"));
}

// ------------------------------------------------------------------ clock
TEST(Clock, OptionalPositiveHzRoundTripsAndDescribes) {
  // Absent: unknown (0), and not written back, so presets print as before.
  Hardware hw = MustPreset("meta-prototype");
  EXPECT_EQ(hw.clock_hz, 0);
  EXPECT_FALSE(ToJson(hw).contains("clock_hz"));
  EXPECT_THAT(Describe(hw), ::testing::Not(HasSubstr("clock")));
  for (const std::string& name : PresetNames())  // the STEMS paper states no clock
    EXPECT_EQ(MustPreset(name).clock_hz, 0) << name;

  nlohmann::json doc = ToJson(hw);
  doc["clock_hz"] = 200e6;
  absl::StatusOr<Hardware> clocked = FromJson(doc, "clocked.json");
  ASSERT_TRUE(clocked.ok()) << clocked.status();
  EXPECT_EQ(clocked->clock_hz, 200e6);
  EXPECT_EQ(ToJson(*clocked)["clock_hz"].get<double>(), 200e6);
  absl::StatusOr<Hardware> back = FromJson(nlohmann::json::parse(ToJson(*clocked).dump(2)), "t");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, *clocked);
  EXPECT_NE(*back, hw);  // equality sees the clock
  EXPECT_THAT(Describe(*clocked), HasSubstr("\nclock: 200 MHz\n"));  // 2e8 Hz = 200 MHz
  doc["clock_hz"] = 1;  // an integer is a number too
  ASSERT_TRUE(FromJson(doc, "one.json").ok());

  for (const nlohmann::json& bad : {nlohmann::json(0), nlohmann::json(-1e6)}) {
    doc["clock_hz"] = bad;
    absl::StatusOr<Hardware> h = FromJson(doc, "bad.json");
    ASSERT_FALSE(h.ok()) << bad;
    EXPECT_EQ(Msg(h.status()), "bad.json: clock_hz: must be > 0 (Hz)");
  }
  doc["clock_hz"] = "200MHz";
  absl::StatusOr<Hardware> h = FromJson(doc, "bad.json");
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(Msg(h.status()), "bad.json: clock_hz: expected a number of Hz, got string");
}

}  // namespace
}  // namespace snnplan::hw
