// Manifests of hardware with a spike encoding: transfers of features and of
// the network input carry `link_bytes` (what crosses the link) next to
// `bytes` (what the allocation holds). The validator sums DRAM traffic and
// DRAM / NoC energy at the link bytes and the global buffers at `bytes`,
// and refuses link_bytes where they cannot be.
#include "test_util.h"

namespace snnplan::validate::testing {
namespace {

using json = nlohmann::json;

std::shared_ptr<const cost::ActivityFile> Activity() {
  auto a = std::make_shared<cost::ActivityFile>();
  a->file = "act.json";
  for (const char* layer : {"c0", "c1", "c2"}) {
    cost::LayerInputActivity l;
    l.input_density = 0.1;
    l.per_timestep = {0.1, 0.1};
    a->layers[layer] = l;
  }
  return a;
}

class EncodedManifest : public ::testing::TestWithParam<const char*> {
 protected:
  // st-lbl at 256 B: features spill and are reloaded, all over the encoded link.
  void SetUp() override {
    hw::Hardware hw = MetaPrototype(256);
    hw.spike_encoding = {hw::SpikeFormat::kAddressEvent, 0};
    plan::PlanOptions o;
    o.activity = Activity();
    plan::Planner planner(TinyNet(3, 1), hw, o);
    m_ = Plan(planner, GetParam());
    ASSERT_FALSE(m_.is_null());
  }
  json* Find(bool (*pred)(const json&)) {
    for (json& x : m_["transfers"])
      if (pred(x)) return &x;
    return nullptr;
  }
  json m_;
};

bool EncodedSmaller(const json& x) {
  return x.contains("link_bytes") && x["link_bytes"] < x["bytes"];
}

TEST_P(EncodedManifest, IsCleanAndSmallerOnTheLink) {
  EXPECT_TRUE(Check(m_).empty()) << Join(Check(m_));
  EXPECT_NE(Find(EncodedSmaller), nullptr) << "no transfer the encoding shrinks";
}

TEST_P(EncodedManifest, LinkBytesAboveBytesAreRefused) {
  json* x = Find(EncodedSmaller);
  ASSERT_NE(x, nullptr);
  (*x)["link_bytes"] = (*x)["bytes"].get<int64_t>() + 8;
  EXPECT_TRUE(HasViolation(Check(m_), "transfer.link_bytes", "outside 0..bytes"));
}

TEST_P(EncodedManifest, LinkBytesCountInTheSummary) {
  json* x = Find(EncodedSmaller);
  ASSERT_NE(x, nullptr);
  (*x)["link_bytes"] = (*x)["bytes"];  // the summary counted the smaller size
  EXPECT_TRUE(HasViolation(Check(m_), "summary.bytes", "summary.dram_bytes"));
}

TEST_P(EncodedManifest, OnlyFeaturesAndInputsAreEncoded) {
  json* w = Find(
      [](const json& x) { return x["direction"] == "load" && x["tensor"]["kind"] == "weights"; });
  ASSERT_NE(w, nullptr);
  (*w)["link_bytes"] = (*w)["bytes"];
  EXPECT_TRUE(HasViolation(Check(m_), "transfer.link_bytes", "only features and the network"));
}

TEST_P(EncodedManifest, LinkBytesNeedADeclaredEncoding) {
  m_["hardware"].erase("spike_encoding");
  EXPECT_TRUE(HasViolation(Check(m_), "transfer.link_bytes", "declares no spike_encoding"));
}

// (st-lf's one-row input slices fit one 64-bit word whatever the encoding.)
INSTANTIATE_TEST_SUITE_P(Schedules, EncodedManifest, ::testing::Values("st-lbl", "tb-lbl"));

TEST(EncodedManifest, FusedScheduleIsClean) {
  hw::Hardware hw = MetaPrototype(256);
  hw.spike_encoding = {hw::SpikeFormat::kAddressEvent, 0};
  plan::PlanOptions o;
  o.activity = Activity();
  plan::Planner planner(TinyNet(3, 1), hw, o);
  const json m = Plan(planner, "st-lf");
  ASSERT_FALSE(m.is_null());
  EXPECT_TRUE(Check(m).empty()) << Join(Check(m));
  EXPECT_NE(m.dump().find("link_bytes"), std::string::npos);
}

TEST(EncodedManifest, MultiCoreNocCopiesAreEncodedToo) {
  hw::Hardware hw = snnplan::testing::MetaPrototypeMesh(2, 2, 4096);
  hw.spike_encoding = {hw::SpikeFormat::kBitmap, 0};
  plan::PlanOptions o;
  o.activity = Activity();
  plan::Planner planner(TinyNet(3, 1), hw, o);
  absl::StatusOr<plan::Schedule> s = plan::ParseSchedule("st-lbl", 1, 2);
  ASSERT_TRUE(s.ok());
  auto p = planner.Run(*s, plan::CoreAllocation{{0, 1, 0}});
  ASSERT_TRUE(p.ok()) << p.status();
  std::ostringstream out;
  plan::WriteManifest(**p, out);
  const json m = json::parse(out.str());
  EXPECT_TRUE(Check(m).empty()) << Join(Check(m));
  int encoded_noc = 0;
  for (const json& x : m["transfers"])
    if (x["direction"] == "noc" && x.contains("link_bytes")) ++encoded_noc;
  EXPECT_GT(encoded_noc, 0);
}

}  // namespace
}  // namespace snnplan::validate::testing
