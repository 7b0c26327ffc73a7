// schema_version 4 manifests (docs/manifest.md): every parameter placed,
// byte layouts stated, initial state provided, one operand definition,
// graph outputs accounted for, stream descriptors and provenance. Expected
// values are computed here from the workloads' shapes and the documented
// layouts, not read back from the planner.
#include <map>
#include <set>
#include <sstream>

#include "common/tiny_workloads.h"
#include "gtest/gtest.h"
#include "manifest_checks.h"
#include "snnplan/importer.h"
#include "snnplan/planner.h"

namespace snnplan::plan {
namespace {

using snnplan::testing::MetaPrototype;
using snnplan::testing::TwoLayerNet;
using json = nlohmann::json;

// Bytes of `bits` on the meta-prototype's 64-bit granularity.
int64_t Words(int64_t bits) { return (bits + 63) / 64 * 8; }

json PlanJson(Planner& planner, const std::string& spec) {
  const ir::Workload& w = planner.workload();
  absl::StatusOr<Schedule> s = ParseSchedule(spec, w.num_blocks, w.timesteps);
  EXPECT_TRUE(s.ok()) << s.status();
  auto plan = planner.Run(*s);
  EXPECT_TRUE(plan.ok()) << plan.status();
  if (!plan.ok()) return nullptr;
  std::ostringstream out;
  WriteManifest(**plan, out);
  return json::parse(out.str());
}

const json& Region(const json& m, const std::string& name) {
  for (const json& r : m["dram_layout"])
    if (r["name"] == name) return r;
  ADD_FAILURE() << "no region " << name;
  return m["dram_layout"][0];
}

// TwoLayerNet with what a real model carries besides weights: c0 has a bias
// and a per-channel affine post-op (folded BatchNorm), c1 starts its
// membrane at 0.5.
ir::Workload NetWithParameters() {
  ir::Workload w = TwoLayerNet();
  ir::Layer& c0 = w.layers[0];
  c0.params.bias = {0.1f, 0.2f, 0.3f, 0.4f};
  ir::PostOp bn;
  bn.scale.layout = bn.shift.layout = ir::ParamLayout::kPerChannel;
  bn.scale.per_neuron = bn.shift.per_neuron = true;
  bn.scale.values = {1, 2, 3, 4};
  bn.shift.values = {0, 1, 0, 1};
  c0.params.post = {bn, ir::PostOp{ir::PostOpKind::kRelu}};
  c0.params.loaded = true;
  w.layers[1].neuron.dynamics.initial = {0.5};
  return w;
}

// Neuron fields of every spiking layer: threshold, decay, reset_amount,
// reset_value, input_gain, syn_decay, spike_gain (scalars here).
constexpr int64_t kNeuronScalars = 7;

TEST(ManifestV4, ParametersPlacedAfterTheWeightsAndNotPriced) {
  Planner planner(NetWithParameters(), MetaPrototype(1024), PlanOptions{});
  const json m = PlanJson(planner, "st-lbl");
  ASSERT_EQ(m["schema_version"], 4);
  // Weights: c0 4*2*1*1*4 bit, c1 4*4*3*3*4 bit.
  const int64_t weights = Words(32) + Words(576);
  // c0: bias K=4, affine scale K + shift K, neuron scalars; 8 bytes each.
  const int64_t c0 = Words(64 * (4 + 4 + 4 + kNeuronScalars));
  // c1: neuron scalars and one initial state value.
  const int64_t c1 = Words(64 * (kNeuronScalars + 1));
  const json& p = m["parameters"];
  ASSERT_EQ(p.size(), 2u);
  const json& region = Region(m, "weights");
  EXPECT_EQ(p[0]["layer_id"], 0);
  EXPECT_EQ(p[0]["bytes"], c0);
  EXPECT_EQ(p[0]["dram_address"], region["base"].get<int64_t>() + weights);
  EXPECT_EQ(p[1]["layer_id"], 1);
  EXPECT_EQ(p[1]["bytes"], c1);
  EXPECT_EQ(p[1]["dram_address"], region["base"].get<int64_t>() + weights + c0);
  EXPECT_EQ(region["bytes"], weights + c0 + c1);
  EXPECT_EQ(region["initial_contents"], "weights_and_parameters");
  EXPECT_EQ(p[0]["post_ops"], json::array({"affine", "relu"}));
  // The first fields of c0, in the documented order, 8 bytes per value.
  const json& f = p[0]["fields"];
  ASSERT_GE(f.size(), 4u);
  EXPECT_EQ(f[0], json({{"name", "bias"}, {"offset", 0}, {"count", 4}, {"layout", "per_channel"}}));
  EXPECT_EQ(
      f[1],
      json({{"name", "post0.scale"}, {"offset", 32}, {"count", 4}, {"layout", "per_channel"}}));
  EXPECT_EQ(
      f[2],
      json({{"name", "post0.shift"}, {"offset", 64}, {"count", 4}, {"layout", "per_channel"}}));
  EXPECT_EQ(f[3]["name"], "neuron.threshold");
  EXPECT_EQ(f[3]["offset"], 96);
  EXPECT_EQ(p[1]["fields"].back(), json({{"name", "dynamics.initial"},
                                         {"offset", 8 * kNeuronScalars},
                                         {"count", 1},
                                         {"layout", "per_state"}}));
  // Loaded before the layer's first tile.
  for (const json& b : p) {
    int64_t first = -1;
    for (const json& t : m["tiles"])
      if (t["layer_id"] == b["layer_id"] && first < 0) first = t["index"];
    EXPECT_EQ(b["load_before_tile"], first);
  }
  // Each layer's weights_piece: its weights, where its loads read them,
  // before the parameter blocks.
  EXPECT_EQ(m["layers"][0]["weights_piece"]["bytes"], Words(32));
  EXPECT_EQ(m["layers"][1]["weights_piece"]["bytes"], Words(576));
  for (const json& x : m["transfers"])
    if (x["direction"] == "load" && x["tensor"]["kind"] == "weights") {
      const json& piece = m["layers"][x["tensor"]["layer"] == "c0" ? 0 : 1]["weights_piece"];
      EXPECT_EQ(x["dram_address"], piece["dram_address"]);
      EXPECT_EQ(x["tensor"]["piece"], piece["piece"]);
    }
  // Not priced: the weight traffic is the weights alone.
  EXPECT_EQ(m["summary"]["dram_bytes"]["read_by_operand"]["W"], weights);
  // No weight load reads a parameter byte.
  for (const json& x : m["transfers"])
    if (x["direction"] == "load" && x["tensor"]["kind"] == "weights") {
      EXPECT_LE(x["dram_address"].get<int64_t>() + x["bytes"].get<int64_t>(),
                p[0]["dram_address"].get<int64_t>());
    }
}

TEST(ManifestV4, OnChipInitMarksEachStatePiecesFirstAllocation) {
  Planner planner(NetWithParameters(), MetaPrototype(256), PlanOptions{});
  const json m = PlanJson(planner, "st-lbl");
  EXPECT_EQ(m["initial_state"]["mode"], "on_chip");
  EXPECT_TRUE(m["initial_state"]["slices"].empty());
  EXPECT_EQ(m["layers"][0]["initial_state"], json::array({0.0}));
  EXPECT_EQ(m["layers"][1]["initial_state"], json::array({0.5}));
  std::set<int64_t> loaded;
  for (const json& x : m["transfers"])
    if (x["direction"] == "load") loaded.insert(x["allocation"].get<int64_t>());
  std::map<int64_t, const json*> first;  // state piece -> first allocation
  for (const json& a : m["allocations"])
    if (a["holds"]["kind"] == "state" && !first.count(a["holds"]["piece"]))
      first[a["holds"]["piece"]] = &a;
  // lbl: one state piece per layer (one band), sample 0.
  ASSERT_EQ(first.size(), 2u);
  int marked = 0;
  for (const json& a : m["allocations"]) {
    if (!a.contains("init")) continue;
    ++marked;
    EXPECT_EQ(first.at(a["holds"]["piece"]), &a);
    EXPECT_FALSE(loaded.count(a["id"].get<int64_t>()));
    EXPECT_EQ(a["init"], a["holds"]["layer"] == "c1" ? "initial" : "zero");
  }
  EXPECT_EQ(marked, 2);
}

TEST(ManifestV4, DramInitialStateSlicesAreWhatStateInitReads) {
  PlanOptions o;
  o.state_io = cost::StateIo::kDram;
  Planner planner(TwoLayerNet(), MetaPrototype(1024), o);
  const json m = PlanJson(planner, "st-lf");
  EXPECT_EQ(m["initial_state"]["mode"], "dram");
  EXPECT_EQ(m["initial_state"]["region"], "state_spill");
  EXPECT_EQ(Region(m, "state_spill")["initial_contents"], "initial_state");
  // lf: one state slice per layer and output row (4 rows), 4 cols x 4
  // channels x 12 bit each.
  const json& slices = m["initial_state"]["slices"];
  ASSERT_EQ(slices.size(), 2u * 4u);
  std::map<int64_t, int64_t> address;
  for (const json& s : slices) {
    EXPECT_EQ(s["bytes"], Words(1 * 4 * 4 * 12));
    address[s["piece"]] = s["dram_address"];
  }
  int inits = 0;
  for (const json& x : m["transfers"])
    if (x["cause"] == "state_init") {
      ++inits;
      EXPECT_EQ(x["dram_address"], address.at(x["tensor"]["piece"]));
    }
  EXPECT_EQ(inits, 8);
  for (const json& a : m["allocations"]) EXPECT_FALSE(a.contains("init"));
}

TEST(ManifestV4, NetworkInputSlicesTileTheInputAtTheirLoadAddresses) {
  Planner planner(TwoLayerNet(), MetaPrototype(1024), PlanOptions{});
  for (const char* spec : {"st-lbl", "tb-lf", "st-lf"}) {
    SCOPED_TRACE(spec);
    const json m = PlanJson(planner, spec);
    const json& in = m["network_io"]["input"];
    EXPECT_EQ(in, json({{"channels", 2},
                        {"rows", 4},
                        {"cols", 4},
                        {"bits", 4},
                        {"timesteps", 2},
                        {"samples", 1}}));
    std::set<std::pair<int64_t, int64_t>> cells;  // (t, row) covered
    std::map<int64_t, int64_t> address;
    const json& region = Region(m, "input");
    for (const json& s : m["network_io"]["inputs"]) {
      const int64_t t0 = s["t"][0], t1 = s["t"][1], y0 = s["rows"][0], y1 = s["rows"][1];
      EXPECT_EQ(s["bytes"], Words((t1 - t0) * (y1 - y0) * 4 * 2 * 4));
      for (int64_t t = t0; t < t1; ++t)
        for (int64_t y = y0; y < y1; ++y) EXPECT_TRUE(cells.insert({t, y}).second);
      EXPECT_GE(s["dram_address"].get<int64_t>(), region["base"].get<int64_t>());
      EXPECT_LE(s["dram_address"].get<int64_t>() + s["bytes"].get<int64_t>(),
                region["base"].get<int64_t>() + region["bytes"].get<int64_t>());
      address[s["piece"]] = s["dram_address"];
    }
    EXPECT_EQ(cells.size(), 2u * 4u);
    for (const json& x : m["transfers"])
      if (x["direction"] == "load" && x["tensor"]["kind"] == "input") {
        EXPECT_EQ(x["dram_address"], address.at(x["tensor"]["piece"]));
      }
    // Outputs: c1's 1-bit features, every (t, row) once, where they are stored.
    std::set<std::pair<int64_t, int64_t>> out;
    std::map<int64_t, int64_t> out_address;
    for (const json& s : m["network_io"]["outputs"]) {
      EXPECT_EQ(s["layer_id"], 1);
      const int64_t t0 = s["t"][0], t1 = s["t"][1], y0 = s["rows"][0], y1 = s["rows"][1];
      EXPECT_EQ(s["bytes"], Words((t1 - t0) * (y1 - y0) * 4 * 4 * 1));
      for (int64_t t = t0; t < t1; ++t)
        for (int64_t y = y0; y < y1; ++y) EXPECT_TRUE(out.insert({t, y}).second);
      out_address[s["piece"]] = s["dram_address"];
    }
    EXPECT_EQ(out.size(), 2u * 4u);
    for (const json& x : m["transfers"])
      if (x["cause"] == "final_output") {
        EXPECT_EQ(x["dram_address"], out_address.at(x["tensor"]["piece"]));
      }
  }
}

// Operands are roles: a feature brought back on chip is I, a store O; the
// summary's by_operand sums exactly these labels and the streams' operands.
TEST(ManifestV4, OperandsAreRolesEverywhere) {
  absl::StatusOr<ir::Workload> w = importer::ImportFile(
      std::string(SNNPLAN_SOURCE_DIR) + "/models/snntorch_nmnist_unrolled_T4_op13.onnx", {});
  ASSERT_TRUE(w.ok()) << w.status();
  Planner planner(*w, MetaPrototype(8 * 1024), PlanOptions{});
  const json m = PlanJson(planner, "st-lf");
  int feature_loads = 0;
  for (const json& x : m["transfers"]) {
    if (x["direction"] == "stream") continue;
    const std::string kind = x["tensor"]["kind"];
    const std::string want = kind == "weights"           ? "W"
                             : kind == "state"           ? "S"
                             : kind == "input"           ? "I"
                             : x["direction"] == "store" ? "O"
                                                         : "I";
    EXPECT_EQ(x["operand"], want) << "transfer " << x["id"];
    feature_loads += kind == "feature" && x["direction"] == "load";
  }
  EXPECT_GT(feature_loads, 0) << "8 KiB should spill and reload features";
  snnplan::testing::ExpectTransfersSumToSummary(m);
  EXPECT_EQ(m["summary"]["dram_bytes"]["read_by_operand"]["O"], 0);
}

// A tile whose operands do not fit streams them: the descriptors add up to
// each operand's bytes and lie inside the pieces' DRAM copies.
TEST(ManifestV4, StreamDescriptorsAddUpToTheOperands) {
  Planner planner(TwoLayerNet(), MetaPrototype(64), PlanOptions{});
  const json m = PlanJson(planner, "tb-lbl");
  int streams = 0;
  for (const json& x : m["transfers"]) {
    if (x["direction"] != "stream") continue;
    ++streams;
    std::map<int64_t, json> pieces;
    for (const json& p : x["pieces"]) pieces[p["piece"]] = p;
    std::map<std::string, int64_t> read, write;
    bool writing = false;
    for (const json& d : x["descriptors"]) {
      const json& p = pieces.at(d["piece"]);
      EXPECT_EQ(d["dram_address"].get<int64_t>(),
                p["dram_address"].get<int64_t>() + d["byte_offset"].get<int64_t>());
      EXPECT_LE(d["byte_offset"].get<int64_t>() + d["bytes"].get<int64_t>(),
                p["bytes"].get<int64_t>());
      EXPECT_GE(d["repeat"].get<int64_t>(), 1);
      const bool w = d["direction"] == "write";
      EXPECT_FALSE(writing && !w) << "a read after a write in stream " << x["id"];
      writing = w;
      (w ? write : read)[d["operand"]] += d["bytes"].get<int64_t>() * d["repeat"].get<int64_t>();
    }
    for (const auto& [op, v] : x["operands"].items()) {
      // Every operand but a read of O moves at least one pass over the bytes
      // the tile needs (docs/manifest.md, "Stream descriptors"): more than
      // the cost model's total only as that single pass.
      for (const bool w : {false, true}) {
        const int64_t moved = (w ? write : read)[op];
        const int64_t total = v[w ? "write_bytes" : "read_bytes"].get<int64_t>();
        if (moved <= total || (op == "O" && !w)) {
          EXPECT_EQ(moved, total) << op << " in stream " << x["id"];
          continue;
        }
        std::set<std::pair<int64_t, int64_t>> ranges;
        for (const json& d : x["descriptors"])
          if (d["operand"] == op && (d["direction"] == "write") == w) {
            EXPECT_EQ(d["repeat"], 1) << "stream " << x["id"];
            EXPECT_TRUE(
                ranges.insert({d["piece"].get<int64_t>(), d["byte_offset"].get<int64_t>()}).second)
                << "stream " << x["id"] << " moves a range twice past its total";
          }
      }
    }
  }
  EXPECT_GT(streams, 0) << "64 B should make tiles stream";
}

TEST(ManifestV4, LayoutsAndProvenanceAreStatedAndDeterministic) {
  PlanOptions one, two;
  two.threads = 2;
  Planner a(TwoLayerNet(), MetaPrototype(256), one), b(TwoLayerNet(), MetaPrototype(256), two);
  const json m = PlanJson(a, "st-lf");
  EXPECT_EQ(m.dump(), PlanJson(b, "st-lf").dump());  // thread count leaves no trace
  EXPECT_EQ(m["layouts"]["packing"]["bit_order"], "lsb_first");
  EXPECT_EQ(m["layouts"]["feature"]["order"], json::array({"t", "row", "col", "channel"}));
  EXPECT_EQ(m["layouts"]["state"]["order"], json::array({"row", "col", "channel", "state"}));
  EXPECT_EQ(m["layers"][1]["precision"]["state_bits"], 12);
  const json& p = m["provenance"];
  EXPECT_EQ(p["tool"], "snnplan");
  EXPECT_FALSE(p["version"].get<std::string>().empty());
  EXPECT_TRUE(p["options"].is_null());  // a library caller states no options
  EXPECT_TRUE(p["activity"].is_null());
  EXPECT_EQ(p["model"]["file"], "two_layer.onnx");
  EXPECT_EQ(p["precision"]["weight_bits"], MetaPrototype(256).precision.weight_bits);
  // A hand-built workload without loaded parameters says so.
  EXPECT_FALSE(p["parameters_loaded"].get<bool>());
}

// A real export: every graph output is listed in order; snnTorch's
// membrane recording is a state every step, which no plan stores.
TEST(ManifestV4, GraphOutputsOfARealModel) {
  importer::ImportOptions o;
  o.load_parameters = true;
  absl::StatusOr<ir::Workload> w = importer::ImportFile(
      std::string(SNNPLAN_SOURCE_DIR) + "/models/snntorch_nmnist_unrolled_T4_op13.onnx", o);
  ASSERT_TRUE(w.ok()) << w.status();
  Planner planner(*w, MetaPrototype(1 << 20), PlanOptions{});
  const json m = PlanJson(planner, "tb-lbl");
  const json& g = m["graph_outputs"];
  ASSERT_EQ(g.size(), w->outputs.size());
  int produced = 0, not_produced = 0;
  for (size_t i = 0; i < g.size(); ++i) {
    EXPECT_EQ(g[i]["name"], w->outputs[i].name);
    if (g[i]["produced"].get<bool>()) {
      ++produced;
      EXPECT_EQ(g[i]["kind"], "layer_output");
      EXPECT_TRUE(m["layers"][g[i]["layer_id"].get<int>()]["network_output"].get<bool>());
    } else {
      ++not_produced;
      EXPECT_FALSE(g[i]["why"].get<std::string>().empty());
    }
  }
  EXPECT_GE(produced, 1);
  EXPECT_GE(not_produced, 1) << "the membrane recording is not stored";
  EXPECT_TRUE(m["provenance"]["parameters_loaded"].get<bool>());
  // Every weighted layer's bias is placed: G*K values of 8 bytes.
  for (const json& b : m["parameters"]) {
    const ir::Layer& l = w->layers[b["layer_id"].get<int>()];
    if (l.params.bias.empty()) continue;
    EXPECT_EQ(b["fields"][0]["name"], "bias");
    EXPECT_EQ(b["fields"][0]["count"], l.dims.G * l.dims.K);
  }
  snnplan::testing::ExpectValidManifest(m, 1 << 20);
}

}  // namespace
}  // namespace snnplan::plan
