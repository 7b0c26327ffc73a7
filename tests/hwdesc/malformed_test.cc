// Malformed hardware files (tests/data/hw/bad/*.json): each must be rejected
// with a message of the form "<file>: <JSON path>: <what is wrong>".
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "snnplan/hwdesc.h"

namespace snnplan::hw {
namespace {

using ::testing::HasSubstr;

// Debian's Abseil has its own string_view; matchers want std::string.
std::string Msg(const absl::Status& s) { return std::string(s.message()); }
using ::testing::StartsWith;

const std::string kBadDir = std::string(SNNPLAN_SOURCE_DIR) + "/tests/data/hw/bad/";

// File (without .json) -> the exact message after "<path>: ".
const std::map<std::string, std::string>& ExpectedMessages() {
  static const auto* kExpected = new std::map<std::string, std::string>{
      {"unknown_key_top",
       "colour: unknown key (allowed: name, cores, offchip, noc, spike_encoding, clock_hz, "
       "precision)"},
      {"unknown_key_nested",
       "cores[0].memories[1].latency: unknown key (allowed: name, size_bits, "
       "read_energy_fj_per_bit, write_energy_fj_per_bit, read_bw_bits_per_cycle, "
       "write_bw_bits_per_cycle, operands, served_dimensions, banks, granularity_bits, "
       "max_bw_bits_per_cycle, size, r_cost, w_cost, r_bw, w_bw, granularity, max_bw)"},
      {"missing_field",
       "offchip.bw_bits_per_cycle: missing required field (or its first-format name 'bw')"},
      {"missing_field_nested", "cores[0].memories[0].served_dimensions: missing required field"},
      {"wrong_type", "cores[0].operational_array.sizes[1]: expected an integer, got string"},
      {"wrong_type_top", "name: expected a string, got number"},
      {"nonpositive_size", "cores[0].memories[2].size: must be > 0"},
      {"nonpositive_size_string", "cores[0].memories[1].size: '0KiB': must be > 0"},
      {"nonpositive_bandwidth", "cores[0].memories[0].w_bw: must be > 0"},
      {"nonpositive_offchip_bandwidth", "offchip.bw: must be > 0"},
      {"operand_unheld", "cores[0].memories: no memory level holds operand S"},
      {"empty_hierarchy", "cores[0].memories: empty memory hierarchy: list at least one level"},
      {"unknown_operand", "cores[0].memories[2].operands[3]: 'X' is not an operand (W, I, O, S)"},
      {"dataflow_unknown_dim",
       "cores[0].dataflows.D3: not a dimension of operational_array.dimensions"},
      {"dataflow_too_large", "cores[0].dataflows.D1[1]: unrolls 8 but array dimension D1 has size 4"},
      {"duplicate_core_id", "cores[1]: duplicate core id 0"},
      {"negative_energy", "cores[0].memories[1].r_cost: must be >= 0"},
      {"negative_op_energy", "cores[0].operational_array.unit_energy.sop: must be >= 0"},
      {"sizes_length_mismatch",
       "cores[0].operational_array.sizes: expected 2 sizes (one per dimension), got 1"},
      {"noc_unknown_core", "noc.positions[0].core: no core has id 7"},
      {"bad_size_unit",
       "cores[0].memories[2].size: '64KiBs': unknown unit 'KiBs' (use bits, B, KiB, MiB, GiB)"},
      {"served_unknown_dim", "cores[0].memories[0].served_dimensions[0]: 'D9' is not an array dimension"},
      {"global_buffer_partial",
       "cores[0].memories[2]: the outermost on-chip level (global buffer) must hold W, I, O and S"},
      // Load failures before validation.
      {"empty", "empty file (expected a JSON object)"},
      {"whitespace_only", "empty file (expected a JSON object)"},
      {"top_level_array", "expected a JSON object at the top level, got array"},
  };
  return *kExpected;
}

TEST(Malformed, EachFileFailsWithItsJsonPath) {
  ASSERT_GE(ExpectedMessages().size(), 12u);
  for (const auto& [name, expected] : ExpectedMessages()) {
    const std::string path = kBadDir + name + ".json";
    SCOPED_TRACE(path);
    ASSERT_TRUE(std::filesystem::exists(path));
    absl::StatusOr<Hardware> hw = LoadFile(path);
    ASSERT_FALSE(hw.ok());
    EXPECT_EQ(hw.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(Msg(hw.status()), path + ": " + expected);
  }
}

TEST(Malformed, InvalidJsonNamesFileAndPosition) {
  const std::string path = kBadDir + "invalid_json.json";
  absl::StatusOr<Hardware> hw = LoadFile(path);
  ASSERT_FALSE(hw.ok());
  EXPECT_THAT(Msg(hw.status()), StartsWith(path + ": invalid JSON: "));
  EXPECT_THAT(Msg(hw.status()), HasSubstr("line 2"));
}

TEST(Malformed, MissingFileNamesThePath) {
  const std::string path = kBadDir + "does_not_exist.json";
  absl::StatusOr<Hardware> hw = LoadFile(path);
  ASSERT_FALSE(hw.ok());
  EXPECT_EQ(Msg(hw.status()), path + ": cannot open hardware file");
  absl::StatusOr<Hardware> resolved = Resolve(path);
  ASSERT_FALSE(resolved.ok());
  EXPECT_THAT(Msg(resolved.status()), StartsWith(path + ": "));
}

TEST(Malformed, EveryFixtureIsCovered) {
  // A fixture without an expectation would go untested.
  for (const auto& entry : std::filesystem::directory_iterator(kBadDir)) {
    const std::string stem = entry.path().stem().string();
    if (stem == "invalid_json") continue;  // its own test (parser message varies)
    EXPECT_TRUE(ExpectedMessages().count(stem)) << "no expectation for " << entry.path();
  }
}

// Inline cases: the valid minimal file, in the first format's key names
// (r_cost, size, ...), with one field changed, checked through FromJson so
// the source name prefixes the path (tests/hwdesc/units_test.cc has the
// unit-named keys).
struct InlineCase {
  const char* pointer;       // JSON pointer of the field to replace
  nlohmann::json value;      // replacement (null = remove the field)
  const char* expected;      // message after "inline: "
};

TEST(Malformed, InlineMutationsNameTheirPath) {
  std::ifstream in(std::string(SNNPLAN_SOURCE_DIR) + "/tests/data/hw/minimal_first_format.json");
  ASSERT_TRUE(in);
  const nlohmann::json base = nlohmann::json::parse(in);
  ASSERT_TRUE(FromJson(base, "inline").ok());
  const InlineCase cases[] = {
      {"/cores", nlohmann::json::array(), "cores: must list at least one core"},
      {"/cores/0/id", -1, "cores[0].id: must be in 0..65536"},
      {"/cores/0/id", 1.5, "cores[0].id: expected an integer"},
      {"/cores/0/memories/1/banks", 0, "cores[0].memories[1].banks: must be > 0"},
      {"/cores/0/memories/1/granularity", "8", "cores[0].memories[1].granularity: expected an integer, got string"},
      {"/cores/0/memories/1/max_bw", 0, "cores[0].memories[1].max_bw: must be > 0"},
      {"/cores/0/memories/1/name", "reg_O", "cores[0].memories[1]: duplicate memory name 'reg_O'"},
      {"/cores/0/memories/1/name", "dram", "cores[0].memories[1].name: must be a non-empty name other than 'dram'"},
      {"/cores/0/memories/1/operands", nlohmann::json::array(),
       "cores[0].memories[1].operands: must hold at least one operand (W, I, O, S)"},
      {"/cores/0/memories/1/operands", {"W", "W"}, "cores[0].memories[1].operands[1]: operand W listed twice"},
      {"/cores/0/memories/1/r_cost", true, "cores[0].memories[1].r_cost: expected a number, got boolean"},
      {"/cores/0/memories/1/size", 12.5, "cores[0].memories[1].size: expected an integer"},
      {"/cores/0/memories/1/size", "1Tib", "cores[0].memories[1].size: '1Tib': unknown unit 'Tib' (use bits, B, KiB, MiB, GiB)"},
      {"/cores/0/memories/1/granularity", 1 << 20, "cores[0].memories[1].granularity: larger than the memory"},
      {"/cores/0/memories", nlohmann::json::object(), "cores[0].memories: expected an array, got object"},
      {"/cores/0/dataflows", nlohmann::json::array(),
       "cores[0].dataflows: expected an object like {\"D1\": [\"K\", 32]}, got array"},
      {"/cores/0/dataflows/D2", {"T", 2},
       "cores[0].dataflows.D2[0]: 'T' is not a spatially unrollable loop (K, C, G, OY, OX, FY, FX)"},
      {"/cores/0/dataflows/D2", {"K", 2}, "cores[0].dataflows.D2[0]: loop K unrolled twice"},
      {"/cores/0/dataflows/D2", {"OX"}, "cores[0].dataflows.D2: expected [LOOP, SIZE], e.g. [\"K\", 32]"},
      {"/cores/0/operational_array/dimensions", {"D1", "D1"},
       "cores[0].operational_array.dimensions[1]: duplicate dimension 'D1'"},
      {"/cores/0/operational_array/dimensions", nlohmann::json::array(),
       "cores[0].operational_array.dimensions: must list at least one dimension"},
      {"/cores/0/operational_array/sparse_speedup", 1,
       "cores[0].operational_array.sparse_speedup: expected true or false, got number"},
      {"/cores/0/operational_array/unit_energy/mac", nullptr,
       "cores[0].operational_array.unit_energy.mac: missing required field"},
      {"/cores/0/operational_array/unit_energy/spike", 1,
       "cores[0].operational_array.unit_energy.spike: unknown key (allowed: mac, sop, neuron_update)"},
      {"/offchip/r_cost", -1, "offchip.r_cost: must be >= 0"},
      {"/noc", {{"positions", nlohmann::json::array()}, {"link_bw", 8}, {"link_energy", 0}},
       "noc.positions: expected a position for each of the 1 cores, got 0"},
      {"/noc", {{"positions", {{{"core", 0}, {"x", -1}, {"y", 0}}}}, {"link_bw", 8}, {"link_energy", 0}},
       "noc.positions[0]: mesh coordinates must be in 0..1024"},
      {"/noc", {{"positions", {{{"core", 0}, {"x", 0}, {"y", 0}}}}, {"link_bw", 0}, {"link_energy", 0}},
       "noc.link_bw: must be > 0"},
      {"/noc", {{"positions", {{{"core", 0}, {"x", 0}}}}, {"link_bw", 8}, {"link_energy", 0}},
       "noc.positions[0].y: missing required field"},
  };
  for (const InlineCase& c : cases) {
    SCOPED_TRACE(std::string(c.pointer) + " = " + c.value.dump());
    nlohmann::json doc = base;
    const nlohmann::json::json_pointer ptr(c.pointer);
    if (c.value.is_null())
      doc[ptr.parent_pointer()].erase(ptr.back());
    else
      doc[ptr] = c.value;
    absl::StatusOr<Hardware> hw = FromJson(doc, "inline");
    ASSERT_FALSE(hw.ok());
    EXPECT_EQ(Msg(hw.status()), std::string("inline: ") + c.expected);
  }
}

TEST(Malformed, TopLevelNonObjectsFromJson) {
  for (const nlohmann::json& doc : {nlohmann::json(nullptr), nlohmann::json(3),
                                    nlohmann::json("hw"), nlohmann::json::array()}) {
    absl::StatusOr<Hardware> hw = FromJson(doc, "x.json");
    ASSERT_FALSE(hw.ok());
    EXPECT_THAT(Msg(hw.status()),
                StartsWith("x.json: expected a JSON object at the top level, got "));
  }
}

}  // namespace
}  // namespace snnplan::hw
