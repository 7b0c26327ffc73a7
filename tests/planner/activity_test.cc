// Plans priced with measured activity (PlanOptions::activity): hardware that
// declares zero-skipping prices a sparse layer's SOPs below the dense ones
// by exactly the rule; hardware that declares a spike encoding moves
// features over the DRAM link by the bit rule; hardware that declares
// nothing gives the same manifest as no activity at all (but for the record
// of the file). Expected values are computed here from the rules and the
// layers' dimensions (docs/costmodel.md, docs/hardware.md).
#include "snnplan/activity.h"

#include <cmath>
#include <sstream>

#include "common/tiny_workloads.h"
#include "gtest/gtest.h"
#include "manifest_checks.h"
#include "snnplan/planner.h"

namespace snnplan::plan {
namespace {

using snnplan::testing::Conv;
using snnplan::testing::MetaPrototype;

// T = 2; input 2x8x8 (4 bit) -> c0 conv1x1 2->16 (LIF, MACs) -> c1 conv3x3
// 16->16 (LIF, SOPs) -> c2 conv3x3 16->16 (LIF, SOPs); c1 and c2 are network
// outputs, so c1's output (read by c2 alone) is stored to DRAM.
ir::Workload ThreeLayerNet() {
  ir::Workload w;
  w.model_file = "three_layer.onnx";
  w.timesteps = 2;
  w.num_blocks = 1;
  w.layers.push_back(Conv("c0", {ir::kNetworkInput}, 16, 2, 8, 1, 0, true, 4, 0));
  w.layers.push_back(Conv("c1", {0}, 16, 16, 8, 3, 1, true, 1, 0));
  w.layers.push_back(Conv("c2", {1}, 16, 16, 8, 3, 1, true, 1, 0));
  w.layers[1].network_output = w.layers[2].network_output = true;
  return w;
}

cost::LayerInputActivity Measured(double density, int64_t elements) {
  cost::LayerInputActivity a;
  a.input_nonzero = std::llround(density * static_cast<double>(elements));
  a.input_elements = elements;
  a.input_density = density;
  a.per_timestep = {density, density};
  return a;
}

// c0 reads the input at 12.5 %, c1 reads c0's spikes at 50 %, c2 c1's at
// 6.25 % (binary fractions: the expected values below are exact).
constexpr double kInput = 0.125, kC0Out = 0.5, kC1Out = 0.0625;

std::shared_ptr<const cost::ActivityFile> Activity() {
  auto a = std::make_shared<cost::ActivityFile>();
  a->file = "act.json";
  a->sha256 = std::string(64, 'a');
  a->model = "three_layer.onnx";
  a->samples = 1;
  a->timesteps = 2;
  a->layers["c0"] = Measured(kInput, 2 * 2 * 8 * 8);  // T x C x rows x columns
  a->layers["c1"] = Measured(kC0Out, 2 * 16 * 8 * 8);
  a->layers["c2"] = Measured(kC1Out, 2 * 16 * 8 * 8);
  return a;
}

std::shared_ptr<const Plan> PlanOf(const hw::Hardware& hw, const std::string& spec,
                                   std::shared_ptr<const cost::ActivityFile> activity) {
  PlanOptions o;
  o.activity = std::move(activity);
  Planner planner(ThreeLayerNet(), hw, o);
  absl::StatusOr<Schedule> s = ParseSchedule(spec, 1, 2);
  EXPECT_TRUE(s.ok()) << s.status();
  auto p = planner.Run(*s);
  EXPECT_TRUE(p.ok()) << p.status();
  return p.ok() ? *p : nullptr;
}

std::string ManifestText(const Plan& p) {
  std::ostringstream out;
  WriteManifest(p, out);
  return out.str();
}

hw::Hardware ZeroSkipping() {
  hw::Hardware h = MetaPrototype(1 << 20);
  h.cores[0].operational_array.zero_skipping = true;
  return h;
}

TEST(ActivityPlan, ZeroSkippingPricesSparseLayersBelowDenseByTheRule) {
  for (const char* spec : {"tb-lbl", "st-lbl", "st-lf"}) {
    SCOPED_TRACE(spec);
    auto dense = PlanOf(ZeroSkipping(), spec, nullptr);
    auto sparse = PlanOf(ZeroSkipping(), spec, Activity());
    ASSERT_TRUE(dense && sparse);
    // SOPs of c1 and c2: T K C OY OX FY FX = 2 x 16 x 16 x 8 x 8 x 3 x 3 =
    // 294912 each (padded taps included), priced at the input density on an
    // array that skips zeros; c0 has a 4-bit input (MACs), never skipped.
    // SOP 70 fJ.
    const double sops = 2.0 * 16 * 16 * 8 * 8 * 3 * 3;
    const double saved_pj = (sops * (1 - kC0Out) + sops * (1 - kC1Out)) * 70 / 1000;
    ASSERT_NEAR(saved_pj, 29675.52, 1e-9);
    // Tolerance: double rounding of sums of a few hundred tiles only.
    EXPECT_NEAR(GetSummary(*dense).energy.compute_pj - GetSummary(*sparse).energy.compute_pj,
                saved_pj, 1e-9 * saved_pj);
    // Nothing else is declared: no traffic changes.
    EXPECT_EQ(GetSummary(*dense).dram.total(), GetSummary(*sparse).dram.total());
  }
}

// The manifest with its activity records (summary.activity and
// provenance.activity) removed.
std::string WithoutActivityRecord(const std::string& manifest) {
  std::istringstream in(manifest);
  std::string line, out;
  const std::string key = "\"summary\":", provenance = "\"provenance\":";
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) == 0) {
      const bool comma = line.back() == ',';
      nlohmann::json s =
          nlohmann::json::parse(line.substr(key.size(), line.size() - key.size() - comma));
      EXPECT_TRUE(s.contains("activity"));
      s.erase("activity");
      line = key + s.dump() + (comma ? "," : "");
    }
    if (line.rfind(provenance, 0) == 0) {
      const bool comma = line.back() == ',';
      nlohmann::json p = nlohmann::json::parse(
          line.substr(provenance.size(), line.size() - provenance.size() - comma));
      EXPECT_FALSE(p["activity"].is_null());
      p["activity"] = nullptr;
      line = provenance + p.dump() + (comma ? "," : "");
    }
    out += line + "\n";
  }
  return out;
}

TEST(ActivityPlan, HardwareDeclaringNothingPricesDense) {
  for (const char* preset : {"meta-prototype", "meta-prototype-quad"}) {
    SCOPED_TRACE(preset);
    hw::Hardware hw = *hw::Preset(preset);
    auto dense = PlanOf(hw, "st-lf", nullptr);
    auto measured = PlanOf(hw, "st-lf", Activity());
    ASSERT_TRUE(dense && measured);
    const std::string a = ManifestText(*dense), b = ManifestText(*measured);
    EXPECT_NE(a, b);                         // b records the activity file ...
    EXPECT_EQ(a, WithoutActivityRecord(b));  // ... and nothing else differs, byte for byte
    EXPECT_EQ(a.find("link_bytes"), std::string::npos);
  }
}

TEST(ActivityPlan, SummaryRecordsTheActivity) {
  auto p = PlanOf(ZeroSkipping(), "tb-lbl", Activity());
  ASSERT_TRUE(p);
  const nlohmann::json r = SummaryToJson(*p)["activity"];
  EXPECT_EQ(r["file"], "act.json");
  EXPECT_EQ(r["sha256"], std::string(64, 'a'));
  EXPECT_EQ(r["model"], "three_layer.onnx");
  EXPECT_EQ(r["network_input_density"], kInput);
  EXPECT_EQ(r["layers"]["c0"]["input_density"], kInput);
  EXPECT_EQ(r["layers"]["c0"]["output_density"], kC0Out);  // what c1 reads alone
  EXPECT_EQ(r["layers"]["c1"]["output_density"], kC1Out);
  EXPECT_EQ(r["layers"]["c2"]["output_density"], 1.0);  // no consumer: dense
  EXPECT_EQ(r["hardware_exploits"]["zero_skipping"], true);
  EXPECT_EQ(r["hardware_exploits"]["spike_encoding"], "dense");
  EXPECT_FALSE(SummaryToJson(*PlanOf(ZeroSkipping(), "tb-lbl", nullptr)).contains("activity"));
  EXPECT_NE(DescribeSummary(*p).find("activity: act.json (3 of 3 layers measured); hardware "
                                     "exploits zero-skipping"),
            std::string::npos);
}

// The bit rule of docs/hardware.md for a piece of `elements` values of
// `bits` each with `density` non-zero, in bytes of 64-bit words.
int64_t RuleBytes(hw::SpikeFormat format, int64_t elements, int bits, double density,
                  int address_bits) {
  const double payload = bits > 1 ? bits : 0;
  const double encoded = format == hw::SpikeFormat::kBitmap
                             ? static_cast<double>(elements) * (1 + density * payload)
                             : static_cast<double>(elements) * density * (address_bits + payload);
  const int64_t moved =
      std::min<int64_t>(elements * bits, static_cast<int64_t>(std::ceil(encoded - 1e-6)));
  return (moved + 63) / 64 * 8;
}

TEST(ActivityPlan, SpikeEncodingMovesFeaturesByTheBitRule) {
  for (hw::SpikeFormat format : {hw::SpikeFormat::kAddressEvent, hw::SpikeFormat::kBitmap}) {
    SCOPED_TRACE(std::string(hw::SpikeFormatName(format)));
    hw::Hardware hw = MetaPrototype(1 << 20);
    hw.spike_encoding = {format, 0};
    auto dense = PlanOf(hw, "st-lbl", nullptr);
    auto p = PlanOf(hw, "st-lbl", Activity());
    ASSERT_TRUE(dense && p);
    const nlohmann::json m = nlohmann::json::parse(ManifestText(*p));
    snnplan::testing::ExpectValidManifest(m, 1 << 20);
    int checked_input = 0, checked_c1 = 0;
    for (const nlohmann::json& t : m["transfers"]) {
      if (t["direction"] == "stream") continue;
      const nlohmann::json& piece = t["tensor"];
      const std::string kind = piece["kind"];
      if (kind != "feature" && kind != "input") {
        EXPECT_FALSE(t.contains("link_bytes")) << t.dump();  // weights and states: dense
        continue;
      }
      ASSERT_TRUE(t.contains("link_bytes")) << t.dump();
      const int64_t steps = piece["t"][1].get<int64_t>() - piece["t"][0].get<int64_t>();
      const int64_t rows = piece["rows"][1].get<int64_t>() - piece["rows"][0].get<int64_t>();
      if (kind == "input") {
        // 2 channels x rows x 8 columns of 4-bit values; map 2 x 8 x 8 = 128: 7 address bits.
        EXPECT_EQ(t["link_bytes"], RuleBytes(format, steps * 2 * rows * 8, 4, kInput, 7));
        ++checked_input;
      } else if (piece["layer"] == "c1") {
        // 16 channels x rows x 8 columns of spikes; map 16 x 8 x 8 = 1024: 10 address
        // bits; density: what c2 reads.
        EXPECT_EQ(t["link_bytes"], RuleBytes(format, steps * 16 * rows * 8, 1, kC1Out, 10));
        ++checked_c1;
      } else if (piece["layer"] == "c2") {
        EXPECT_EQ(t["link_bytes"], t["bytes"]);  // no consumer measures it: dense
      }
      EXPECT_LE(t["link_bytes"].get<int64_t>(), t["bytes"].get<int64_t>());
    }
    EXPECT_EQ(checked_input, 2);  // one input slice per timestep
    EXPECT_EQ(checked_c1, 2);     // c1's output stored per timestep
    // The rule by hand for one timestep: the input slice (128 values, 16 of
    // them non-zero) moves 16 x (7 + 4) = 176 bits as events, 128 + 16 x 4 =
    // 192 as a bitmap: 3 words = 24 B instead of 64; c1's slice (1024 spikes,
    // 64 of them) 64 x 10 = 640 bits = 80 B as events instead of 128 (the
    // bitmap of 1-bit spikes is the dense data).
    EXPECT_EQ(RuleBytes(format, 128, 4, kInput, 7), 24);
    EXPECT_EQ(RuleBytes(format, 1024, 1, kC1Out, 10),
              format == hw::SpikeFormat::kAddressEvent ? 80 : 128);
    // Weights move as before; features (spikes of c1, bitmap: no saving on
    // 1-bit spikes) and the input move less or the same.
    const Summary& sd = GetSummary(*dense);
    const Summary& sp = GetSummary(*p);
    EXPECT_EQ(sp.dram.read[0], sd.dram.read[0]);
    EXPECT_LT(sp.dram.read[1], sd.dram.read[1]);
    if (format == hw::SpikeFormat::kAddressEvent) {
      EXPECT_LT(sp.dram.write[2], sd.dram.write[2]);
    }
    EXPECT_LT(sp.energy.dram_pj, sd.energy.dram_pj);
  }
}

TEST(ActivityPlan, ActivityAndDensityTogetherAreRefused) {
  PlanOptions o;
  o.activity = Activity();
  o.density = 0.5;
  Planner planner(ThreeLayerNet(), MetaPrototype(1 << 20), o);
  auto p = planner.Run(*ParseSchedule("tb-lbl", 1, 2));
  ASSERT_FALSE(p.ok());
  EXPECT_NE(std::string(p.status().message()).find("activity and density both set"),
            std::string::npos);
}

}  // namespace
}  // namespace snnplan::plan
