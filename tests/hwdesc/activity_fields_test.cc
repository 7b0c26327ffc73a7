// The declarations of what hardware exploits of measured activity:
// operational_array.zero_skipping and the top-level spike_encoding. They
// load, round-trip, are written only when declared (so descriptions that
// declare nothing print exactly as before) and fail with their JSON path.
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "snnplan/hwdesc.h"

namespace snnplan::hw {
namespace {

nlohmann::json Minimal() {
  std::ifstream in(std::string(SNNPLAN_SOURCE_DIR) + "/tests/data/hw/minimal.json");
  EXPECT_TRUE(in);
  return nlohmann::json::parse(in);
}

std::string ErrorOf(const nlohmann::json& doc) {
  absl::StatusOr<Hardware> hw = FromJson(doc, "hw.json");
  EXPECT_FALSE(hw.ok()) << doc.dump();
  return hw.ok() ? "" : std::string(hw.status().message());
}

TEST(ActivityFields, DefaultsDeclareNothing) {
  absl::StatusOr<Hardware> hw = FromJson(Minimal(), "hw.json");
  ASSERT_TRUE(hw.ok()) << hw.status();
  EXPECT_FALSE(hw->cores[0].operational_array.zero_skipping);
  EXPECT_EQ(hw->spike_encoding.format, SpikeFormat::kDense);
  EXPECT_EQ(hw->spike_encoding.address_bits, 0);
  // Written only when declared: the normalized form of a description that
  // declares nothing has neither key (manifests embed it unchanged).
  const nlohmann::json j = ToJson(*hw);
  EXPECT_FALSE(j.contains("spike_encoding"));
  EXPECT_FALSE(j["cores"][0]["operational_array"].contains("zero_skipping"));
  for (const char* name : {"meta-prototype", "meta-prototype-quad", "hetero-dual"}) {
    const nlohmann::json p = ToJson(*Preset(name));
    EXPECT_FALSE(p.contains("spike_encoding")) << name;
    for (const nlohmann::json& core : p["cores"])
      EXPECT_FALSE(core["operational_array"].contains("zero_skipping")) << name;
  }
}

TEST(ActivityFields, DeclaredFieldsLoadAndRoundTrip) {
  nlohmann::json doc = Minimal();
  doc["cores"][0]["operational_array"]["zero_skipping"] = true;
  for (const nlohmann::json& encoding :
       {nlohmann::json{{"format", "dense"}}, nlohmann::json{{"format", "bitmap"}},
        nlohmann::json{{"format", "address_event"}},
        nlohmann::json{{"format", "address_event"}, {"address_bits", 20}}}) {
    SCOPED_TRACE(encoding.dump());
    doc["spike_encoding"] = encoding;
    absl::StatusOr<Hardware> hw = FromJson(doc, "hw.json");
    ASSERT_TRUE(hw.ok()) << hw.status();
    EXPECT_TRUE(hw->cores[0].operational_array.zero_skipping);
    EXPECT_EQ(SpikeFormatName(hw->spike_encoding.format), encoding["format"].get<std::string>());
    EXPECT_EQ(hw->spike_encoding.address_bits, encoding.value("address_bits", 0));
    absl::StatusOr<Hardware> back = FromJson(ToJson(*hw), "round-trip");
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(*back, *hw);
    EXPECT_EQ(ToJson(*back).dump(), ToJson(*hw).dump());
  }
}

TEST(ActivityFields, SparsePresetDeclaresZeroSkippingAndAddressEvents) {
  absl::StatusOr<Hardware> sparse = Preset("meta-prototype-sparse");
  ASSERT_TRUE(sparse.ok()) << sparse.status();
  EXPECT_TRUE(sparse->cores[0].operational_array.zero_skipping);
  EXPECT_FALSE(sparse->cores[0].operational_array.sparse_speedup);
  EXPECT_EQ(sparse->spike_encoding.format, SpikeFormat::kAddressEvent);
  EXPECT_EQ(sparse->spike_encoding.address_bits, 0);  // derived per tensor
  // Otherwise the STEMS meta-prototype, which stays dense.
  Hardware dense = *Preset("meta-prototype");
  EXPECT_FALSE(dense.cores[0].operational_array.zero_skipping);
  EXPECT_EQ(dense.spike_encoding.format, SpikeFormat::kDense);
  Hardware undeclared = *sparse;
  undeclared.name = dense.name;
  undeclared.cores[0].operational_array.zero_skipping = false;
  undeclared.spike_encoding = {};
  EXPECT_EQ(undeclared, dense);
  EXPECT_THAT(Describe(*sparse), ::testing::HasSubstr("zero-skipping"));
  EXPECT_THAT(Describe(*sparse), ::testing::HasSubstr("spike encoding on links: address_event"));
}

TEST(ActivityFields, ErrorsNameTheirPath) {
  struct Case {
    const char* pointer;
    nlohmann::json value;
    const char* expected;
  };
  const Case cases[] = {
      {"/cores/0/operational_array/zero_skipping", "yes",
       "cores[0].operational_array.zero_skipping: expected true or false, got string"},
      {"/spike_encoding", "address_event", "spike_encoding: expected an object, got string"},
      {"/spike_encoding",
       {{"format", "rle"}},
       "spike_encoding.format: 'rle' is not a spike format (dense, bitmap, address_event)"},
      {"/spike_encoding", {{"format", 1}}, "spike_encoding.format: expected a string, got number"},
      {"/spike_encoding", {{"address_bits", 8}}, "spike_encoding.format: missing required field"},
      {"/spike_encoding",
       {{"format", "bitmap"}, {"address_bits", 8}},
       "spike_encoding.address_bits: only the address_event format has addresses"},
      {"/spike_encoding",
       {{"format", "address_event"}, {"address_bits", 0}},
       "spike_encoding.address_bits: must be > 0"},
      {"/spike_encoding",
       {{"format", "address_event"}, {"address_bits", 65}},
       "spike_encoding.address_bits: must be in 1..64"},
      {"/spike_encoding",
       {{"format", "address_event"}, {"bits", 8}},
       "spike_encoding.bits: unknown key (allowed: format, address_bits)"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.expected);
    nlohmann::json doc = Minimal();
    doc[nlohmann::json::json_pointer(c.pointer)] = c.value;
    EXPECT_EQ(ErrorOf(doc), std::string("hw.json: ") + c.expected);
  }
}

}  // namespace
}  // namespace snnplan::hw
