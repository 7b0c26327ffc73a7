// Keeps docs/hardware.schema.json in step with the loader: for every object
// the schema describes, the schema's properties are exactly the keys the
// loader allows, its "required" list is exactly the fields the loader
// requires, and the documented defaults are the loader's.
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "snnplan/hwdesc.h"

namespace snnplan::hw {
namespace {

nlohmann::json LoadJson(const std::string& relative) {
  std::ifstream in(std::string(SNNPLAN_SOURCE_DIR) + "/" + relative);
  EXPECT_TRUE(in) << relative;
  return nlohmann::json::parse(in);
}

// A description using every optional field (the meta-prototype has them all
// on its global buffer, which is memories[4], except the activity fields, the
// clock and the crossbars, which ToJson writes only when declared). ToJson writes the
// unit-named keys; their first-format aliases are checked by AliasesAreTheLoaders.
nlohmann::json FullDoc() {
  absl::StatusOr<Hardware> hw = Preset("meta-prototype");
  EXPECT_TRUE(hw.ok());
  hw->cores[0].operational_array.zero_skipping = true;
  hw->spike_encoding = {SpikeFormat::kAddressEvent, 16};
  hw->clock_hz = 2e8;
  absl::StatusOr<Hardware> imc = Preset("imc-crossbar");  // crossbars, written when declared
  EXPECT_TRUE(imc.ok());
  hw->cores[0].imc = imc->cores[0].imc;
  return ToJson(*hw);
}

struct ObjectCase {
  const char* def;          // schema: "" = root, else $defs/<def>
  const char* pointer;      // where such an object sits in FullDoc()
  const char* loader_path;  // how the loader names it in messages
};

constexpr ObjectCase kObjects[] = {
    {"", "", ""},
    {"core", "/cores/0", "cores[0]"},
    {"operational_array", "/cores/0/operational_array", "cores[0].operational_array"},
    {"energy_fj_per_op", "/cores/0/operational_array/energy_fj_per_op",
     "cores[0].operational_array.energy_fj_per_op"},
    {"memory", "/cores/0/memories/4", "cores[0].memories[4]"},
    {"imc", "/cores/0/imc", "cores[0].imc"},
    {"offchip", "/offchip", "offchip"},
    {"noc", "/noc", "noc"},
    {"noc_position", "/noc/positions/0", "noc.positions[0]"},
    {"spike_encoding", "/spike_encoding", "spike_encoding"},
    {"precision", "/precision", "precision"},
};

// The schema's alias pairs of an object, from its allOf: {"oneOf": [{"required":
// [key]}, {"required": [alias]}]} for a required quantity, {"not": {"required":
// [key, alias]}} for an optional one.
struct AliasPair {
  std::string key, alias;
  bool required;
};
std::vector<AliasPair> SchemaAliases(const nlohmann::json& s) {
  std::vector<AliasPair> out;
  if (!s.contains("allOf")) return out;
  for (const nlohmann::json& rule : s["allOf"]) {
    if (rule.contains("oneOf"))
      out.push_back({rule["oneOf"][0]["required"][0], rule["oneOf"][1]["required"][0], true});
    else
      out.push_back({rule["not"]["required"][0], rule["not"]["required"][1], false});
  }
  return out;
}

std::string Join(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

// The loader's allowed keys, read from its "unknown key (allowed: ...)" error.
std::set<std::string> LoaderAllowedKeys(const ObjectCase& c) {
  nlohmann::json doc = FullDoc();
  doc[nlohmann::json::json_pointer(c.pointer)]["zz_unknown"] = 1;
  absl::StatusOr<Hardware> hw = FromJson(doc, "schema");
  EXPECT_FALSE(hw.ok());
  const std::string msg(hw.status().message());
  const std::string prefix =
      "schema: " + Join(c.loader_path, "zz_unknown") + ": unknown key (allowed: ";
  EXPECT_EQ(msg.rfind(prefix, 0), 0u) << msg;
  if (msg.rfind(prefix, 0) != 0 || msg.back() != ')') return {};
  const std::string list = msg.substr(prefix.size(), msg.size() - prefix.size() - 1);
  std::set<std::string> keys;
  for (absl::string_view k : absl::StrSplit(list, ", ")) keys.insert(std::string(k));
  return keys;
}

TEST(Schema, IsDraft202012WithClosedObjects) {
  nlohmann::json schema = LoadJson("docs/hardware.schema.json");
  EXPECT_EQ(schema["$schema"], "https://json-schema.org/draft/2020-12/schema");
  for (const ObjectCase& c : kObjects) {
    SCOPED_TRACE(c.def);
    const nlohmann::json& s = *c.def ? schema["$defs"][c.def] : schema;
    EXPECT_EQ(s["type"], "object");
    EXPECT_EQ(s["additionalProperties"], false);
  }
}

TEST(Schema, PropertiesAndRequiredMatchTheLoader) {
  nlohmann::json schema = LoadJson("docs/hardware.schema.json");
  for (const ObjectCase& c : kObjects) {
    SCOPED_TRACE(std::string("object ") + (*c.def ? c.def : "(root)"));
    const nlohmann::json& s = *c.def ? schema["$defs"][c.def] : schema;
    std::set<std::string> properties;
    for (const auto& [key, unused] : s["properties"].items()) properties.insert(key);
    EXPECT_EQ(properties, LoaderAllowedKeys(c));
    std::set<std::string> required, deprecated;
    for (const nlohmann::json& r : s["required"]) required.insert(r.get<std::string>());
    std::map<std::string, std::string> alias_of;
    for (const AliasPair& a : SchemaAliases(s)) {
      if (a.required) required.insert(a.key);
      alias_of[a.key] = a.alias;
    }
    for (const auto& [key, p] : s["properties"].items())
      if (p.value("deprecated", false)) deprecated.insert(key);
    // Exactly the aliases are deprecated, and each names a property.
    std::set<std::string> aliases;
    for (const auto& [key, alias] : alias_of) {
      aliases.insert(alias);
      EXPECT_TRUE(properties.count(key)) << key;
    }
    EXPECT_EQ(deprecated, aliases);
    for (const std::string& key : properties) {
      SCOPED_TRACE(key);
      if (deprecated.count(key)) continue;  // AliasesAreTheLoaders
      nlohmann::json doc = FullDoc();
      nlohmann::json& object = doc[nlohmann::json::json_pointer(c.pointer)];
      ASSERT_TRUE(object.contains(key)) << "FullDoc() lacks the field";
      object.erase(key);
      absl::StatusOr<Hardware> hw = FromJson(doc, "schema");
      if (required.count(key)) {
        ASSERT_FALSE(hw.ok()) << "schema says required, loader accepts its absence";
        EXPECT_EQ(
            std::string(hw.status().message()),
            "schema: " + Join(c.loader_path, key) + ": missing required field" +
                (alias_of.count(key) ? " (or its first-format name '" + alias_of[key] + "')" : ""));
      } else {
        EXPECT_TRUE(hw.ok()) << "schema says optional, loader says: " << hw.status();
      }
    }
  }
}

TEST(Schema, DocumentedDefaultsAreTheLoaders) {
  nlohmann::json schema = LoadJson("docs/hardware.schema.json");
  const nlohmann::json& mem = schema["$defs"]["memory"]["properties"];
  MemoryLevel defaults;
  EXPECT_EQ(mem["banks"]["default"].get<int64_t>(), defaults.banks);
  EXPECT_EQ(mem["granularity_bits"]["default"].get<int64_t>(), defaults.access_granularity_bits);
  OperationalArray array;
  EXPECT_EQ(schema["$defs"]["operational_array"]["properties"]["sparse_speedup"]["default"]
                .get<bool>(),
            array.sparse_speedup);
  EXPECT_EQ(
      schema["$defs"]["operational_array"]["properties"]["zero_skipping"]["default"].get<bool>(),
      array.zero_skipping);
  EXPECT_EQ(schema["$defs"]["spike_encoding"]["properties"]["format"]["default"].get<std::string>(),
            SpikeFormatName(SpikeEncoding{}.format));
  EXPECT_EQ(
      schema["$defs"]["energy_fj_per_op"]["properties"]["neuron_update"]["default"].get<double>(),
      array.neuron_update_energy_fj);
  const nlohmann::json& precision = schema["$defs"]["precision"]["properties"];
  const Precision p;
  EXPECT_EQ(precision["weight_bits"]["default"].get<int>(), p.weight_bits);
  EXPECT_EQ(precision["input_bits"]["default"].get<int>(), p.input_bits);
  EXPECT_EQ(precision["feature_bits"]["default"].get<int>(), p.feature_bits);
  EXPECT_EQ(precision["state_bits"]["default"].get<int>(), p.state_bits);
  EXPECT_EQ(precision["accumulator_bits"]["default"].get<int>(), p.accumulator_bits);
}

// A deprecated (first-format) key stands for its unit-named key: renaming one
// into the other loads the identical description, and both together are an
// error naming both.
TEST(Schema, AliasesAreTheLoaders) {
  nlohmann::json schema = LoadJson("docs/hardware.schema.json");
  const nlohmann::json full = FullDoc();
  absl::StatusOr<Hardware> expected = FromJson(full, "schema");
  ASSERT_TRUE(expected.ok());
  int pairs = 0;
  for (const ObjectCase& c : kObjects) {
    const nlohmann::json& s = *c.def ? schema["$defs"][c.def] : schema;
    for (const AliasPair& a : SchemaAliases(s)) {
      SCOPED_TRACE(a.alias);
      ++pairs;
      nlohmann::json doc = full;
      nlohmann::json& object = doc[nlohmann::json::json_pointer(c.pointer)];
      ASSERT_TRUE(object.contains(a.key));
      object[a.alias] = object[a.key];
      absl::StatusOr<Hardware> both = FromJson(doc, "schema");
      ASSERT_FALSE(both.ok());
      EXPECT_EQ(std::string(both.status().message()),
                "schema: " + Join(c.loader_path, a.key) + ": given twice: also as '" + a.alias +
                    "', its first-format name for the same quantity; keep one");
      object.erase(a.key);
      absl::StatusOr<Hardware> renamed = FromJson(doc, "schema");
      ASSERT_TRUE(renamed.ok()) << renamed.status();
      EXPECT_EQ(*renamed, *expected);
    }
  }
  EXPECT_EQ(pairs, 13);
}

TEST(Schema, EnumsMatchTheLoader) {
  nlohmann::json schema = LoadJson("docs/hardware.schema.json");
  for (const nlohmann::json& op : schema["$defs"]["operand"]["enum"])
    EXPECT_TRUE(ir::ParseOperand(op.get<std::string>()).has_value()) << op;
  EXPECT_EQ(schema["$defs"]["operand"]["enum"].size(), ir::kAllOperands.size());
  // Every spike format the schema lists loads; the names are the loader's.
  for (const nlohmann::json& format :
       schema["$defs"]["spike_encoding"]["properties"]["format"]["enum"]) {
    nlohmann::json d = FullDoc();
    d["spike_encoding"] = {{"format", format}};
    absl::StatusOr<Hardware> hw = FromJson(d, "format");
    ASSERT_TRUE(hw.ok()) << format;
    EXPECT_EQ(SpikeFormatName(hw->spike_encoding.format), format.get<std::string>());
  }
  EXPECT_EQ(schema["$defs"]["spike_encoding"]["properties"]["format"]["enum"].size(), 3u);
  // Every loop the schema lists is accepted as a dataflow; T and B are not.
  nlohmann::json doc = FullDoc();
  for (const nlohmann::json& loop : schema["$defs"]["loop"]["enum"]) {
    SCOPED_TRACE(loop.dump());
    nlohmann::json d = doc;
    d["cores"][0]["dataflows"] = {{"D1", {loop, 1}}};
    EXPECT_TRUE(FromJson(d, "loop").ok());
  }
  for (const char* loop : {"T", "B"}) {
    nlohmann::json d = doc;
    d["cores"][0]["dataflows"] = {{"D1", {loop, 1}}};
    EXPECT_FALSE(FromJson(d, "loop").ok()) << loop;
  }
}

TEST(Docs, ExampleIsTheMinimalFixtureAndLoads) {
  std::ifstream in(std::string(SNNPLAN_SOURCE_DIR) + "/docs/hardware.md");
  ASSERT_TRUE(in);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t section = text.find("\n## Example");
  ASSERT_NE(section, std::string::npos);
  const size_t begin = text.find("```json\n", section);
  ASSERT_NE(begin, std::string::npos);
  const size_t end = text.find("\n```", begin + 8);
  ASSERT_NE(end, std::string::npos);
  const nlohmann::json example = nlohmann::json::parse(text.substr(begin + 8, end - begin - 8));
  EXPECT_EQ(example, LoadJson("tests/data/hw/minimal.json"));
  absl::StatusOr<Hardware> hw = FromJson(example, "docs example");
  EXPECT_TRUE(hw.ok()) << hw.status();
  // Every preset is mentioned in the docs.
  for (const std::string& name : PresetNames())
    EXPECT_NE(text.find("### `" + name + "`"), std::string::npos) << name;
}

}  // namespace
}  // namespace snnplan::hw
