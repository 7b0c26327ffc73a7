// Unit-named keys (read_energy_fj_per_bit, size_bits, ...) and their
// first-format aliases (r_cost, size, ...), and the hardware's precisions.
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "snnplan/hwdesc.h"

namespace snnplan::hw {
namespace {

using ::testing::HasSubstr;

const std::string kDataDir = std::string(SNNPLAN_SOURCE_DIR) + "/tests/data/hw/";

std::string Msg(const absl::Status& s) { return std::string(s.message()); }

Hardware MustLoad(const std::string& path) {
  absl::StatusOr<Hardware> hw = LoadFile(path);
  EXPECT_TRUE(hw.ok()) << hw.status();
  return hw.ok() ? *hw : Hardware{};
}

// (JSON pointer of the object, unit-named key, first-format key).
struct Alias {
  const char* object;
  const char* key;
  const char* first;
};
constexpr Alias kAliases[] = {
    {"/cores/0/memories/4", "size_bits", "size"},
    {"/cores/0/memories/4", "read_energy_fj_per_bit", "r_cost"},
    {"/cores/0/memories/4", "write_energy_fj_per_bit", "w_cost"},
    {"/cores/0/memories/4", "read_bw_bits_per_cycle", "r_bw"},
    {"/cores/0/memories/4", "write_bw_bits_per_cycle", "w_bw"},
    {"/cores/0/memories/4", "granularity_bits", "granularity"},
    {"/cores/0/memories/4", "max_bw_bits_per_cycle", "max_bw"},
    {"/cores/0/operational_array", "energy_fj_per_op", "unit_energy"},
    {"/offchip", "read_energy_fj_per_bit", "r_cost"},
    {"/offchip", "write_energy_fj_per_bit", "w_cost"},
    {"/offchip", "bw_bits_per_cycle", "bw"},
    {"/noc", "link_bw_bits_per_cycle", "link_bw"},
    {"/noc", "link_energy_fj_per_bit_per_hop", "link_energy"},
};

TEST(Units, ToJsonWritesTheUnitNamedKeys) {
  absl::StatusOr<Hardware> hw = Preset("meta-prototype");
  ASSERT_TRUE(hw.ok());
  const nlohmann::json doc = ToJson(*hw);
  for (const Alias& a : kAliases) {
    SCOPED_TRACE(a.key);
    const nlohmann::json& object = doc[nlohmann::json::json_pointer(a.object)];
    EXPECT_TRUE(object.contains(a.key));
    EXPECT_FALSE(object.contains(a.first));
  }
  // The values in the units the names say (meta-prototype, docs/hardware.md).
  const nlohmann::json& gb = doc["cores"][0]["memories"][4];
  EXPECT_EQ(gb["size_bits"].get<int64_t>(), 8 * 1024 * 1024);  // 1 MiB
  EXPECT_EQ(gb["read_energy_fj_per_bit"].get<double>(), 130.0);
  EXPECT_EQ(doc["offchip"]["write_energy_fj_per_bit"].get<double>(), 12000.0);
}

// Every first-format key means what its unit-named key means: a preset
// written with the old names loads to the identical description.
TEST(Units, FirstFormatNamesLoadIdentically) {
  for (const std::string& name : PresetNames()) {
    SCOPED_TRACE(name);
    absl::StatusOr<Hardware> hw = Preset(name);
    ASSERT_TRUE(hw.ok());
    nlohmann::json doc = ToJson(*hw);
    for (nlohmann::json& core : doc["cores"]) {
      for (nlohmann::json& m : core["memories"]) {
        for (const Alias& a : kAliases) {
          if (std::string(a.object).find("memories") == std::string::npos || !m.contains(a.key))
            continue;
          m[a.first] = m[a.key];
          m.erase(a.key);
        }
      }
      nlohmann::json& array = core["operational_array"];
      array["unit_energy"] = array["energy_fj_per_op"];
      array.erase("energy_fj_per_op");
    }
    for (const Alias& a : kAliases) {
      const std::string object = a.object;
      if (object != "/offchip" && object != "/noc") continue;
      nlohmann::json& o = doc[nlohmann::json::json_pointer(object)];
      o[a.first] = o[a.key];
      o.erase(a.key);
    }
    absl::StatusOr<Hardware> back = FromJson(doc, "first format");
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(*back, *hw);
  }
}

TEST(Units, TheDocumentedFirstFormatFixtureIsTheMinimalFile) {
  EXPECT_EQ(MustLoad(kDataDir + "minimal_first_format.json"), MustLoad(kDataDir + "minimal.json"));
}

TEST(Units, BothNamesForOneQuantityIsAnErrorNamingBoth) {
  absl::StatusOr<Hardware> hw = Preset("meta-prototype");
  ASSERT_TRUE(hw.ok());
  for (const Alias& a : kAliases) {
    SCOPED_TRACE(a.first);
    nlohmann::json doc = ToJson(*hw);
    nlohmann::json& object = doc[nlohmann::json::json_pointer(a.object)];
    ASSERT_TRUE(object.contains(a.key));
    object[a.first] = object[a.key];  // the same value, still refused
    absl::StatusOr<Hardware> both = FromJson(doc, "x.json");
    ASSERT_FALSE(both.ok());
    std::string path = std::string(a.object).substr(1);
    for (const auto& [from, to] : std::vector<std::pair<std::string, std::string>>{
             {"cores/0", "cores[0]"}, {"/memories/4", ".memories[4]"}, {"/", "."}})
      for (size_t at; (at = path.find(from)) != std::string::npos;)
        path.replace(at, from.size(), to);
    EXPECT_EQ(Msg(both.status()), "x.json: " + path + "." + a.key + ": given twice: also as '" +
                                      a.first +
                                      "', its first-format name for the same quantity; keep one");
  }
}

TEST(Units, MissingRequiredQuantityNamesBothNames) {
  absl::StatusOr<Hardware> hw = LoadFile(kDataDir + "minimal.json");
  ASSERT_TRUE(hw.ok());
  nlohmann::json doc = ToJson(*hw);
  doc["cores"][0]["memories"][1].erase("read_energy_fj_per_bit");
  absl::StatusOr<Hardware> missing = FromJson(doc, "x.json");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(Msg(missing.status()),
            "x.json: cores[0].memories[1].read_energy_fj_per_bit: missing required field (or its "
            "first-format name 'r_cost')");
}

TEST(Units, SizeBitsTakesAUnitStringOrBits) {
  absl::StatusOr<Hardware> hw = LoadFile(kDataDir + "minimal.json");
  ASSERT_TRUE(hw.ok());
  nlohmann::json doc = ToJson(*hw);
  doc["cores"][0]["memories"][2]["size_bits"] = "128KiB";
  absl::StatusOr<Hardware> kib = FromJson(doc, "x.json");
  ASSERT_TRUE(kib.ok()) << kib.status();
  EXPECT_EQ(kib->cores[0].memories[2].size_bits, 128 * 1024 * 8);
  doc["cores"][0]["memories"][2]["size_bits"] = 4096;  // a bare number is bits
  absl::StatusOr<Hardware> bits = FromJson(doc, "x.json");
  ASSERT_TRUE(bits.ok()) << bits.status();
  EXPECT_EQ(bits->cores[0].memories[2].size_bits, 4096);
  doc["cores"][0]["memories"][2]["size_bits"] = "128 KiBs";
  absl::StatusOr<Hardware> bad = FromJson(doc, "x.json");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(Msg(bad.status()),
              HasSubstr("x.json: cores[0].memories[2].size_bits: '128 KiBs': unknown unit"));
}

// ---------------------------------------------------------------- precision

TEST(Precision, DefaultsWhenUndeclaredAndWrittenOut) {
  absl::StatusOr<Hardware> hw = LoadFile(kDataDir + "minimal.json");  // declares none
  ASSERT_TRUE(hw.ok());
  // The importer's defaults (importer.h: 4, 4, 4, 12, 16; tests/tools checks
  // they are the same structs' values).
  EXPECT_EQ(hw->precision.weight_bits, 4);
  EXPECT_EQ(hw->precision.input_bits, 4);
  EXPECT_EQ(hw->precision.feature_bits, 4);
  EXPECT_EQ(hw->precision.state_bits, 12);
  EXPECT_EQ(hw->precision.accumulator_bits, 16);
  const nlohmann::json doc = ToJson(*hw);
  EXPECT_EQ(doc["precision"], nlohmann::json({{"weight_bits", 4},
                                              {"input_bits", 4},
                                              {"feature_bits", 4},
                                              {"state_bits", 12},
                                              {"accumulator_bits", 16}}));
}

TEST(Precision, DeclaredValuesLoadAndRoundTrip) {
  absl::StatusOr<Hardware> hw = LoadFile(kDataDir + "minimal.json");
  ASSERT_TRUE(hw.ok());
  nlohmann::json doc = ToJson(*hw);
  doc["precision"] = {{"weight_bits", 8}, {"state_bits", 16}};  // the others default
  absl::StatusOr<Hardware> p = FromJson(doc, "x.json");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->precision.weight_bits, 8);
  EXPECT_EQ(p->precision.state_bits, 16);
  EXPECT_EQ(p->precision.input_bits, 4);
  EXPECT_EQ(p->precision.accumulator_bits, 16);
  absl::StatusOr<Hardware> back = FromJson(ToJson(*p), "round-trip");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, *p);
}

TEST(Precision, PresetsDeclareTodaysDefaults) {
  for (const std::string& name : PresetNames()) {
    SCOPED_TRACE(name);
    absl::StatusOr<Hardware> hw = Preset(name);
    ASSERT_TRUE(hw.ok());
    EXPECT_EQ(hw->precision, Precision{});
  }
}

TEST(Precision, BadValuesNameTheirPath) {
  absl::StatusOr<Hardware> hw = LoadFile(kDataDir + "minimal.json");
  ASSERT_TRUE(hw.ok());
  const nlohmann::json base = ToJson(*hw);
  const std::pair<nlohmann::json, std::string> cases[] = {
      {{{"weight_bits", 0}}, "x.json: precision.weight_bits: must be in 1..64 (bits)"},
      {{{"state_bits", 65}}, "x.json: precision.state_bits: must be in 1..64 (bits)"},
      {{{"input_bits", "8"}}, "x.json: precision.input_bits: expected an integer, got string"},
      {{{"sew_join_bits", 2}},
       "x.json: precision.sew_join_bits: unknown key (allowed: weight_bits, input_bits, "
       "feature_bits, state_bits, accumulator_bits)"},
      {nlohmann::json::array(), "x.json: precision: expected an object, got array"},
  };
  for (const auto& [value, expected] : cases) {
    SCOPED_TRACE(value.dump());
    nlohmann::json doc = base;
    doc["precision"] = value;
    absl::StatusOr<Hardware> bad = FromJson(doc, "x.json");
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(Msg(bad.status()), expected);
  }
}

}  // namespace
}  // namespace snnplan::hw
