// Malformed manifests are errors (never crashes): wrong types, missing keys,
// numbers out of range; nonsense values that are well typed (negative sizes,
// dangling ids) are violations. A deterministic random-mutation loop checks
// that no edit of a real manifest makes the validator crash or throw.
#include <random>

#include "gmock/gmock.h"

#include "test_util.h"

namespace snnplan::validate::testing {
namespace {

using json = nlohmann::json;
using ::testing::HasSubstr;

json CleanManifest() {
  plan::Planner planner(TinyNet(2, 1), MetaPrototype(128), plan::PlanOptions{});
  return Plan(planner, "st-lf");
}

std::string ErrorOf(const json& m) {
  absl::StatusOr<std::vector<Violation>> v = Validate(m);
  return v.ok() ? "ok" : std::string(v.status().message());
}

TEST(ValidatorMalformed, NotJsonOrNotAManifest) {
  EXPECT_FALSE(ValidateText("{\"tiles\": [").ok());
  EXPECT_FALSE(ValidateText("").ok());
  EXPECT_THAT(ErrorOf(json::array()), HasSubstr("must be an object"));
  EXPECT_THAT(ErrorOf(json::object()), HasSubstr("schema_version: missing"));
  EXPECT_THAT(ErrorOf({{"schema_version", 1}, {"summary", json::object()}}),
              HasSubstr("--summary-only"));
  json m = CleanManifest();
  m["schema_version"] = 5;  // 1 to 4 are read
  EXPECT_THAT(ErrorOf(m), HasSubstr("schema_version: unsupported"));
}

TEST(ValidatorMalformed, WrongTypesAndMissingKeysNameThePath) {
  json m = CleanManifest();
  m["tiles"][1]["start"] = "soon";
  EXPECT_THAT(ErrorOf(m), HasSubstr("tiles[1].start: must be an integer"));
  m = CleanManifest();
  m["allocations"][0]["holds"].erase("piece");
  EXPECT_THAT(ErrorOf(m), HasSubstr("allocations[0].holds.piece: missing"));
  m = CleanManifest();
  m["transfers"][0]["tensor"]["rows"] = {1, 2, 3};
  EXPECT_THAT(ErrorOf(m), HasSubstr("transfers[0].tensor.rows: must be [begin, end]"));
  m = CleanManifest();
  m["summary"]["energy_pj"]["total"] = nullptr;
  EXPECT_THAT(ErrorOf(m), HasSubstr("summary.energy_pj.total: must be a number"));
  m = CleanManifest();
  m["hardware"]["cores"] = json::array();
  EXPECT_THAT(ErrorOf(m), HasSubstr("hardware"));
}

// schema_version 3: `layers` is required and type-checked like the rest.
TEST(ValidatorMalformed, LayerTableTypesNameThePath) {
  json m = CleanManifest();
  ASSERT_EQ(m["schema_version"], 4);
  EXPECT_EQ(ErrorOf(m), "ok");
  m.erase("layers");
  EXPECT_THAT(ErrorOf(m), HasSubstr("manifest.layers: missing"));
  m = CleanManifest();
  m["layers"][1]["inputs"][0]["rows"] = "some";
  EXPECT_THAT(ErrorOf(m), HasSubstr("layers[1].inputs[0].rows: unknown value"));
  m = CleanManifest();
  m["layers"][1]["inputs"][0]["rows"]["padding"] = 1;
  EXPECT_THAT(ErrorOf(m), HasSubstr("layers[1].inputs[0].rows.padding: must be [top, bottom]"));
  m = CleanManifest();
  m["layers"][0]["stateful"] = 1;
  EXPECT_THAT(ErrorOf(m), HasSubstr("layers[0].stateful: must be true or false"));
  m = CleanManifest();
  m["layers"][0]["time"] = "sometimes";
  EXPECT_THAT(ErrorOf(m), HasSubstr("layers[0].time: unknown value"));
  m = CleanManifest();
  m["layers"][0]["shape"].erase("OY");
  EXPECT_THAT(ErrorOf(m), HasSubstr("layers[0].shape.OY: missing"));
  // Versions 1 and 2 do not read it.
  m["schema_version"] = 2;
  EXPECT_EQ(ErrorOf(m), "ok");
}

TEST(ValidatorMalformed, HugeNumbersAreRefused) {
  json m = CleanManifest();
  m["allocations"][0]["bytes"] = uint64_t{1} << 63;
  EXPECT_THAT(ErrorOf(m), HasSubstr("allocations[0].bytes: out of range"));
  EXPECT_THAT(ValidateText(R"({"schema_version": 100000000000000000000000})").status().message(),
              HasSubstr("schema_version"));
}

TEST(ValidatorMalformed, NonsenseValuesAreViolations) {
  json m = CleanManifest();
  m["allocations"][0]["bytes"] = -8;
  m["tiles"][0]["reads"].push_back(123456);
  m["transfers"][0]["end"] = -1;
  std::vector<Violation> v = Check(m);
  EXPECT_TRUE(HasViolation(v, "allocation.bounds", "allocation 0 "));
  EXPECT_TRUE(HasViolation(v, "id.unknown", "unknown allocation 123456"));
  EXPECT_TRUE(HasViolation(v, "interval.invalid", "transfer 0 runs"));
}

// Random edits of a real manifest: replace or delete values anywhere.
json RandomValue(std::mt19937_64& rng) {
  switch (rng() % 9) {
    case 0: return nullptr;
    case 1: return -1;
    case 2: return int64_t{1} << 53;
    case 3: return -(int64_t{1} << 53);
    case 4: return "x";
    case 5: return json::array();
    case 6: return json::object();
    case 7: return 1e300;
    default: return static_cast<int64_t>(rng() % 64);
  }
}

void Mutate(json& j, std::mt19937_64& rng) {
  json* node = &j;
  while ((node->is_object() || node->is_array()) && !node->empty() && rng() % 4 != 0) {
    auto it = node->begin();
    std::advance(it, static_cast<long>(rng() % node->size()));
    node = &*it;
  }
  if (rng() % 5 == 0 && node != &j) *node = json::array({RandomValue(rng), RandomValue(rng)});
  else *node = RandomValue(rng);
}

TEST(ValidatorMalformed, RandomEditsNeverCrash) {
  const json clean = CleanManifest();
  std::mt19937_64 rng(7);
  int errors = 0, flagged = 0;
  for (int i = 0; i < 400; ++i) {
    json m = clean;
    for (int k = 0, n = 1 + static_cast<int>(rng() % 3); k < n; ++k) Mutate(m, rng);
    absl::StatusOr<std::vector<Violation>> v = Validate(m);
    errors += !v.ok();
    flagged += v.ok() && !v->empty();
    // And through the text entry point, truncated at a random place.
    const std::string text = m.dump();
    (void)ValidateText(std::string_view(text).substr(0, rng() % (text.size() + 1)));
  }
  EXPECT_GT(errors, 0);
  EXPECT_GT(flagged, 0);
}

}  // namespace
}  // namespace snnplan::validate::testing
