// schema_version 4 (docs/manifest.md, docs/validator.md "v4"): the parts of a
// manifest a firmware team executes (parameters, stream descriptors, network
// input / output slices, initial state, graph outputs, operand labels) are
// checked, and each corruption of them is rejected with a message naming it.
#include "gmock/gmock.h"
#include "snnplan/importer.h"
#include "test_util.h"

namespace snnplan::validate::testing {
namespace {

using json = nlohmann::json;

class Complete : public ::testing::Test {
 protected:
  // The unrolled snnTorch export, st-lf at 8 KiB: features and states are
  // spilled and reloaded, some tiles stream.
  void SetUp() override {
    importer::ImportOptions o;
    o.load_parameters = true;
    absl::StatusOr<ir::Workload> w = importer::ImportFile(
        std::string(SNNPLAN_SOURCE_DIR) + "/models/snntorch_nmnist_unrolled_T4_op13.onnx", o);
    ASSERT_TRUE(w.ok()) << w.status();
    plan::Planner planner(*std::move(w), MetaPrototype(8 * 1024), plan::PlanOptions{});
    m_ = Plan(planner, "st-lf");
    ASSERT_FALSE(m_.is_null());
    ASSERT_EQ(m_["schema_version"], 4);
    ASSERT_TRUE(Check(m_).empty()) << Join(Check(m_));
  }
  template <typename Pred>
  json* FindTransfer(Pred pred) {
    for (json& x : m_["transfers"])
      if (pred(x)) return &x;
    return nullptr;
  }
  json m_;
};

TEST_F(Complete, FeatureReloadLabelledOIsRejected) {
  json* reload = FindTransfer(
      [](const json& x) { return x["direction"] == "load" && x["tensor"]["kind"] == "feature"; });
  ASSERT_NE(reload, nullptr) << "no feature reload in the manifest";
  EXPECT_EQ((*reload)["operand"], "I");  // one definition: the role of the bytes
  EXPECT_EQ((*reload)["tensor"]["operand"], "O");
  (*reload)["operand"] = "O";
  EXPECT_TRUE(HasViolation(Check(m_), "transfer.operand",
                           "transfer " + std::to_string((*reload)["id"].get<int>()) + " of piece"));
}

TEST_F(Complete, StoreOfAFeatureIsO) {
  json* store = FindTransfer(
      [](const json& x) { return x["direction"] == "store" && x["tensor"]["kind"] == "feature"; });
  ASSERT_NE(store, nullptr);
  EXPECT_EQ((*store)["operand"], "O");
  (*store)["operand"] = "I";
  EXPECT_TRUE(HasViolation(Check(m_), "transfer.operand", "but a store of it is operand O"));
}

TEST_F(Complete, ParameterBlockMovedOntoWeights) {
  ASSERT_FALSE(m_["parameters"].empty());
  json* w = FindTransfer(
      [](const json& x) { return x["direction"] == "load" && x["tensor"]["kind"] == "weights"; });
  ASSERT_NE(w, nullptr);
  m_["parameters"][0]["dram_address"] = (*w)["dram_address"];
  EXPECT_TRUE(HasViolation(
      Check(m_), "params.overlap",
      "overlap the weight piece at DRAM " + std::to_string((*w)["dram_address"].get<int64_t>())));
}

TEST_F(Complete, WeightsPieceListedAtAnotherAddress) {
  json& layer = m_["layers"][0];
  ASSERT_FALSE(layer["weights_piece"].is_null());
  layer["weights_piece"]["dram_address"] =
      layer["weights_piece"]["dram_address"].get<int64_t>() + 8;
  EXPECT_TRUE(HasViolation(Check(m_), "weights.piece", "but its layer's weights_piece is at DRAM"));
}

TEST_F(Complete, ParameterBlockOutsideTheWeightsRegion) {
  const json& regions = m_["dram_layout"];
  int64_t input_base = -1;
  for (const json& r : regions)
    if (r["name"] == "input") input_base = r["base"];
  ASSERT_GE(input_base, 0);
  m_["parameters"][0]["dram_address"] = input_base;
  EXPECT_TRUE(HasViolation(Check(m_), "params.region", "lie outside the weights region"));
}

TEST_F(Complete, ParameterFieldsLargerThanTheBlock) {
  json& block = m_["parameters"][0];
  block["bytes"] = block["bytes"].get<int64_t>() - 8;
  EXPECT_TRUE(HasViolation(Check(m_), "params.fields", "but the block holds"));
}

TEST_F(Complete, ParameterLoadAfterTheLayersFirstTile) {
  json& block = m_["parameters"].back();
  const int64_t layer = block["layer_id"];
  int64_t second = -1, seen = 0;
  for (const json& t : m_["tiles"])
    if (t["layer_id"] == layer && ++seen == 2) second = t["index"];
  ASSERT_GE(second, 0);
  block["load_before_tile"] = second;
  EXPECT_TRUE(HasViolation(Check(m_), "params.load", "of the layer runs earlier"));
}

TEST_F(Complete, MissingInitMarker) {
  for (json& a : m_["allocations"])
    if (a.contains("init")) {
      const std::string id = std::to_string(a["id"].get<int>());
      a.erase("init");
      EXPECT_TRUE(
          HasViolation(Check(m_), "state.init", "allocation " + id + " is the first of piece"));
      return;
    }
  FAIL() << "no init marker under state_io zero";
}

TEST_F(Complete, InitMarkerOnAReloadedState) {
  for (const json& x : m_["transfers"])
    if (x["direction"] == "load" && x["tensor"]["kind"] == "state")
      for (json& a : m_["allocations"])
        if (a["id"] == x["allocation"]) {
          a["init"] = "zero";
          EXPECT_TRUE(HasViolation(Check(m_), "state.init", "is marked init but"));
          return;
        }
  FAIL() << "no state reload";
}

TEST_F(Complete, InputSliceListedAtAnotherAddress) {
  json& slice = m_["network_io"]["inputs"][0];
  slice["dram_address"] = slice["dram_address"].get<int64_t>() + 8;
  EXPECT_TRUE(HasViolation(Check(m_), "io.slice", "but network_io.inputs lists it at DRAM"));
}

TEST_F(Complete, TwoInputSlicesAtOneAddress) {
  json& inputs = m_["network_io"]["inputs"];
  ASSERT_GE(inputs.size(), 2u);
  inputs[1]["dram_address"] = inputs[0]["dram_address"];
  EXPECT_TRUE(HasViolation(Check(m_), "io.overlap", "both start at DRAM"));
}

TEST_F(Complete, OutputSliceMissing) {
  json& outputs = m_["network_io"]["outputs"];
  ASSERT_FALSE(outputs.empty());
  outputs.erase(0);
  EXPECT_TRUE(HasViolation(Check(m_), "io.slice", "lists no slice of it"));
}

TEST_F(Complete, InitialStateModeContradictsTheSummary) {
  m_["initial_state"]["mode"] = "dram";
  EXPECT_TRUE(HasViolation(Check(m_), "state.init", "initial_state.mode is dram"));
}

TEST_F(Complete, LayerCurrentClaimedProduced) {
  m_["graph_outputs"] = json::array({{{"name", "cur"},
                                      {"kind", "layer_current"},
                                      {"shape", {4, 4, 4}},
                                      {"steps", "all"},
                                      {"layer_id", 1},
                                      {"layer", "c1"},
                                      {"produced", true}}});
  EXPECT_TRUE(HasViolation(Check(m_), "graph_output", "graph output cur of kind layer_current"));
}

TEST_F(Complete, NonOutputLayerClaimedProduced) {
  m_["graph_outputs"] = json::array({{{"name", "hidden"},
                                      {"kind", "layer_output"},
                                      {"shape", {4, 4, 4}},
                                      {"steps", "all"},
                                      {"layer_id", 0},
                                      {"layer", "c0"},
                                      {"produced", true}}});
  EXPECT_TRUE(HasViolation(Check(m_), "graph_output", "layer 0 is not a network output"));
}

TEST_F(Complete, MissingV4SectionIsMalformed) {
  m_.erase("network_io");
  absl::StatusOr<std::vector<Violation>> v = Validate(m_, {});
  ASSERT_FALSE(v.ok());
  EXPECT_THAT(std::string(v.status().message()), ::testing::HasSubstr("network_io: missing"));
}

TEST_F(Complete, Version3KeepsThePieceOperandRule) {
  // A version 3 document labels a feature reload with the piece's operand.
  m_["schema_version"] = 3;
  DowngradeOperands(m_);
  json* reload = FindTransfer(
      [](const json& x) { return x["direction"] == "load" && x["tensor"]["kind"] == "feature"; });
  ASSERT_NE(reload, nullptr);
  EXPECT_EQ((*reload)["operand"], "O");
  EXPECT_TRUE(Check(m_).empty()) << Join(Check(m_));
  (*reload)["operand"] = "I";
  EXPECT_TRUE(HasViolation(Check(m_), "transfer.operand", "but a load of it is operand O"));
}

// Streams: a tile whose operands do not fit streams them; its descriptors
// add up to its operand bytes and stay inside the pieces it names.
TEST(CompleteStreams, DescriptorsCoverTheOperands) {
  plan::Planner planner(TinyNet(2, 1), MetaPrototype(64), plan::PlanOptions{});
  json m = Plan(planner, "tb-lbl");
  ASSERT_FALSE(m.is_null());
  json* stream = nullptr;
  for (json& x : m["transfers"])
    if (x["direction"] == "stream") stream = &x;
  ASSERT_NE(stream, nullptr) << "no stream at 64 B";
  ASSERT_TRUE(Check(m).empty()) << Join(Check(m));
  json& d = (*stream)["descriptors"][0];
  d["bytes"] = d["bytes"].get<int64_t>() + 8;
  EXPECT_TRUE(HasViolation(Check(m), "stream.descriptor", "descriptors of operand"));
  d["bytes"] = d["bytes"].get<int64_t>() - 8;
  d["dram_address"] = d["dram_address"].get<int64_t>() + 8;
  EXPECT_TRUE(HasViolation(Check(m), "stream.descriptor", "is not inside piece"));
}

// Issue #15: a stream reads the byte ranges of its input pieces the tile
// needs (docs/manifest.md, "Stream descriptors"). sj_repeat_input (3x3 convs,
// pad 1) at 1 KiB, float precision, tb-lf: some conv tiles stream only part
// of an input piece. A range moved or shortened is rejected naming the
// stream and the piece; so is the old rule (every piece whole from 0).
TEST(CompleteStreams, PartialInputRangesAreCanonical) {
  importer::ImportOptions o;
  o.load_parameters = true;
  o.weight_bits = o.input_bits = o.feature_bits = 32;
  o.state_bits = 64;
  absl::StatusOr<ir::Workload> w = importer::ImportFile(
      std::string(SNNPLAN_SOURCE_DIR) + "/models/run/sj_repeat_input_loop_op13.onnx", o);
  ASSERT_TRUE(w.ok()) << w.status();
  plan::Planner planner(*std::move(w), MetaPrototype(1024), plan::PlanOptions{});
  const json m = Plan(planner, "tb-lf");
  ASSERT_FALSE(m.is_null());
  ASSERT_TRUE(Check(m).empty()) << Join(Check(m));
  // The first stream with an I read descriptor that is part of its piece.
  size_t xi = 0, di = 0;
  bool found = false;
  for (size_t i = 0; i < m["transfers"].size() && !found; ++i) {
    const json& x = m["transfers"][i];
    if (x["direction"] != "stream") continue;
    std::map<int64_t, int64_t> bytes;
    for (const json& p : x["pieces"]) bytes[p["piece"]] = p["bytes"];
    for (size_t k = 0; k < x["descriptors"].size() && !found; ++k) {
      const json& d = x["descriptors"][k];
      if (d["operand"] == "I" &&
          d["byte_offset"].get<int64_t>() + d["bytes"].get<int64_t>() < bytes.at(d["piece"]))
        xi = i, di = k, found = true;
    }
  }
  ASSERT_TRUE(found) << "no stream reads part of an input piece";
  const json& x0 = m["transfers"][xi];
  const std::string stream = "stream " + std::to_string(x0["id"].get<int64_t>()) + " (tile " +
                             x0["tile"].get<std::string>() + ")";
  const std::string piece =
      "{piece " + std::to_string(x0["descriptors"][di]["piece"].get<int64_t>()) + ", I read";
  auto violation = [&](const json& bad) {
    for (const Violation& v : Check(bad))
      if (v.check == "stream.descriptor" && v.message.find(stream) != std::string::npos &&
          v.message.find(piece) != std::string::npos)
        return true;
    return false;
  };
  {  // the range moved 8 bytes further into its piece, bytes unchanged
    json bad = m;
    json& d = bad["transfers"][xi]["descriptors"][di];
    d["byte_offset"] = d["byte_offset"].get<int64_t>() + 8;
    d["dram_address"] = d["dram_address"].get<int64_t>() + 8;
    EXPECT_TRUE(violation(bad)) << Join(Check(bad));
  }
  {  // the range 8 bytes shorter, the operand total lowered to match
    json bad = m;
    json& x = bad["transfers"][xi];
    json& d = x["descriptors"][di];
    d["bytes"] = d["bytes"].get<int64_t>() - 8;
    x["operands"]["I"]["read_bytes"] = x["operands"]["I"]["read_bytes"].get<int64_t>() - 8;
    x["bytes"] = x["bytes"].get<int64_t>() - 8;
    EXPECT_TRUE(violation(bad)) << Join(Check(bad));
  }
  {  // the previous rule: the piece read whole from offset 0 (totals raised to match)
    json bad = m;
    json& x = bad["transfers"][xi];
    std::map<int64_t, json> pieces;
    for (const json& p : x["pieces"]) pieces[p["piece"]] = p;
    json& d = x["descriptors"][di];
    const json& p = pieces.at(d["piece"]);
    const int64_t more = p["bytes"].get<int64_t>() - d["bytes"].get<int64_t>();
    d["byte_offset"] = 0;
    d["dram_address"] = p["dram_address"];
    d["bytes"] = p["bytes"];
    x["operands"]["I"]["read_bytes"] = x["operands"]["I"]["read_bytes"].get<int64_t>() + more;
    x["bytes"] = x["bytes"].get<int64_t>() + more;
    EXPECT_TRUE(violation(bad)) << Join(Check(bad));
  }
}

}  // namespace
}  // namespace snnplan::validate::testing
