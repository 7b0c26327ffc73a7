// The in-memory-computing extension of the hardware format (a core's "imc"
// object, docs/hardware.md "In-memory computing"): the imc-crossbar preset's
// figures from their published source, round trips, and one negative test
// per guard, each naming the JSON path of the offending value.
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "snnplan/hwdesc.h"

namespace snnplan::hw {
namespace {

using ::testing::HasSubstr;

nlohmann::json ImcDoc() {
  absl::StatusOr<Hardware> hw = Preset("imc-crossbar");
  EXPECT_TRUE(hw.ok()) << hw.status();
  return ToJson(*hw);
}

// Loads `doc`; expects an error whose message is exactly `message`.
void ExpectError(const nlohmann::json& doc, const std::string& message) {
  absl::StatusOr<Hardware> hw = FromJson(doc, "imc.json");
  ASSERT_FALSE(hw.ok());
  EXPECT_EQ(std::string(hw.status().message()), "imc.json: " + message);
}

TEST(ImcPreset, FiguresAreIsaacsTable) {
  // ISAAC (Shafiee et al., ISCA 2016), one in-situ multiply-accumulate unit:
  // 8 crossbars of 128 x 128 cells, 2 bits per cell, 2.4 mW for the 8
  // arrays; 8 x 128 1-bit DACs, 4 mW; 8 ADCs (8 bit, 1.28 GS/s), 16 mW; a
  // crossbar read takes 100 ns. Per array and read: crossbar 0.3 mW and its
  // 128 DACs 0.5 mW for 100 ns; its ADC converts 128 columns in 100 ns.
  const double read_s = 100e-9, fj_per_j = 1e15;
  const double array_w = 2.4e-3 / 8, dacs_w = 4e-3 / (8 * 128) * 128, adc_w = 16e-3 / 8;
  absl::StatusOr<Hardware> hw = Preset("imc-crossbar");
  ASSERT_TRUE(hw.ok()) << hw.status();
  ASSERT_EQ(hw->cores.size(), 1u);
  const ImcArrays& imc = hw->cores[0].imc;
  ASSERT_TRUE(imc.present());
  EXPECT_EQ(imc.rows, 128);
  EXPECT_EQ(imc.columns, 128);
  EXPECT_EQ(imc.bits_per_cell, 2);
  EXPECT_NEAR(imc.energy_fj_per_activation, (array_w + dacs_w) * read_s * fj_per_j, 1e-6);
  EXPECT_NEAR(imc.energy_fj_per_column_read, adc_w * read_s / 128 * fj_per_j, 1e-6);
  // 100 ns at a 1 GHz digital clock (our assumption; ISAAC states the read
  // time, not a digital clock).
  EXPECT_EQ(imc.cycles_per_activation, 100);
  // Two ISAAC tiles' worth of crossbars: 2 tiles x 12 units x 8 arrays.
  EXPECT_EQ(imc.arrays, 2 * 12 * 8);
  // The digital part is the meta-prototype's: same global buffer and DRAM.
  absl::StatusOr<Hardware> meta = Preset("meta-prototype");
  ASSERT_TRUE(meta.ok());
  // Served by the whole array in both (the arrays have 2 and 3 dimensions).
  MemoryLevel gb = hw->cores[0].global_buffer(), meta_gb = meta->cores[0].global_buffer();
  EXPECT_EQ(gb.served_dimensions.size(), hw->cores[0].operational_array.dimensions.size());
  gb.served_dimensions = meta_gb.served_dimensions;
  EXPECT_EQ(gb, meta_gb);
  EXPECT_EQ(hw->offchip, meta->offchip);
  EXPECT_EQ(hw->precision, meta->precision);
  EXPECT_FALSE(meta->cores[0].imc.present());
}

TEST(ImcFormat, RoundTripsAndIsWrittenOnlyWhenDeclared) {
  absl::StatusOr<Hardware> hw = Preset("imc-crossbar");
  ASSERT_TRUE(hw.ok());
  const nlohmann::json doc = ToJson(*hw);
  ASSERT_TRUE(doc["cores"][0].contains("imc"));
  EXPECT_EQ(doc["cores"][0]["imc"]["energy_fj_per_column_read"].get<double>(), 1562.5);
  absl::StatusOr<Hardware> back = FromJson(nlohmann::json::parse(doc.dump(2)), "back");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, *hw);
  Hardware changed = *hw;
  changed.cores[0].imc.write_energy_fj_per_cell += 1;
  EXPECT_NE(changed, *hw);  // equality sees the crossbars
  absl::StatusOr<Hardware> meta = Preset("meta-prototype");
  ASSERT_TRUE(meta.ok());
  EXPECT_FALSE(ToJson(*meta)["cores"][0].contains("imc"));
  EXPECT_THAT(Describe(*hw), HasSubstr("imc: 192 crossbar arrays of 128 rows x 128 columns"));
  EXPECT_THAT(Describe(*meta), ::testing::Not(HasSubstr("crossbar")));
}

TEST(ImcFormat, RefusesUnknownKeysAndNonObjects) {
  nlohmann::json doc = ImcDoc();
  doc["cores"][0]["imc"]["adc_bits"] = 8;
  ExpectError(doc,
              "cores[0].imc.adc_bits: unknown key (allowed: arrays, rows, columns, "
              "bits_per_cell, energy_fj_per_activation, energy_fj_per_column_read, "
              "cycles_per_activation, write_energy_fj_per_cell)");
  doc = ImcDoc();
  doc["cores"][0]["imc"] = nlohmann::json::array();
  ExpectError(doc, "cores[0].imc: expected an object, got array");
}

TEST(ImcFormat, EveryFieldIsRequired) {
  for (const char* key :
       {"arrays", "rows", "columns", "bits_per_cell", "energy_fj_per_activation",
        "energy_fj_per_column_read", "cycles_per_activation", "write_energy_fj_per_cell"}) {
    SCOPED_TRACE(key);
    nlohmann::json doc = ImcDoc();
    doc["cores"][0]["imc"].erase(key);
    ExpectError(doc, std::string("cores[0].imc.") + key + ": missing required field");
  }
}

TEST(ImcFormat, RangesNameThePath) {
  struct Case {
    const char* key;
    nlohmann::json value;
    const char* message;
  };
  const Case cases[] = {
      {"arrays", 0, "cores[0].imc.arrays: must be in 1..16777216"},
      {"rows", 65537, "cores[0].imc.rows: must be in 1..65536"},
      {"columns", 0, "cores[0].imc.columns: must be in 1..65536"},
      {"bits_per_cell", 9, "cores[0].imc.bits_per_cell: must be in 1..8"},
      {"bits_per_cell", 1.5, "cores[0].imc.bits_per_cell: expected an integer"},
      {"energy_fj_per_activation", -1, "cores[0].imc.energy_fj_per_activation: must be >= 0"},
      {"energy_fj_per_column_read", "1pJ",
       "cores[0].imc.energy_fj_per_column_read: expected a number, got string"},
      {"cycles_per_activation", 0, "cores[0].imc.cycles_per_activation: must be in 1..1048576"},
      {"write_energy_fj_per_cell", -0.5, "cores[0].imc.write_energy_fj_per_cell: must be >= 0"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.key);
    nlohmann::json doc = ImcDoc();
    doc["cores"][0]["imc"][c.key] = c.value;
    ExpectError(doc, c.message);
  }
}

TEST(ImcFormat, ARowMustHoldOneWeight) {
  // 8-bit weights at 1 bit per cell take 8 columns: 7 columns are too few,
  // 8 are enough.
  nlohmann::json doc = ImcDoc();
  doc["precision"]["weight_bits"] = 8;
  doc["cores"][0]["imc"]["bits_per_cell"] = 1;
  doc["cores"][0]["imc"]["columns"] = 7;
  ExpectError(doc,
              "cores[0].imc.columns: 7 columns cannot hold one 8-bit weight "
              "(precision.weight_bits) at 1 bits per cell, which takes 8 columns");
  doc["cores"][0]["imc"]["columns"] = 8;
  absl::StatusOr<Hardware> hw = FromJson(doc, "imc.json");
  EXPECT_TRUE(hw.ok()) << hw.status();
}

}  // namespace
}  // namespace snnplan::hw
