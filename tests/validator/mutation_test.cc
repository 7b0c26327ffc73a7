// Mutated manifests: each edit of a clean manifest is caught with the right
// check and a message naming the ids involved.
#include "test_util.h"

namespace snnplan::validate::testing {
namespace {

using json = nlohmann::json;

class Mutation : public ::testing::Test {
 protected:
  // st-lbl at 256 B: states are written back and reloaded, outputs stored.
  void SetUp() override {
    plan::Planner planner(TinyNet(2, 1), MetaPrototype(256), plan::PlanOptions{});
    m_ = Plan(planner, "st-lbl");
    ASSERT_FALSE(m_.is_null());
    ASSERT_TRUE(Check(m_).empty()) << Join(Check(m_));
  }
  json& Alloc(int64_t id) {
    for (json& a : m_["allocations"])
      if (a["id"] == id) return a;
    ADD_FAILURE() << "no allocation " << id;
    return m_["allocations"][0];
  }
  // The first transfer matching `pred`.
  template <typename Pred>
  json* FindTransfer(Pred pred) {
    for (json& x : m_["transfers"])
      if (pred(x)) return &x;
    return nullptr;
  }
  // The tile that writes allocation `id`.
  json* Writer(int64_t id) {
    for (json& t : m_["tiles"])
      for (const json& w : t["writes"])
        if (w == id) return &t;
    return nullptr;
  }
  json m_;
};

bool Overlap(const json& a, const json& b) {
  return a["allocated_at"] < b["freed_at"] && b["allocated_at"] < a["freed_at"];
}

TEST_F(Mutation, OffsetShiftedIntoAnOverlap) {
  const json& allocs = m_["allocations"];
  for (size_t i = 0; i < allocs.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      if (Overlap(allocs[i], allocs[j]) && allocs[i]["offset"] != allocs[j]["offset"]) {
        const std::string a = std::to_string(allocs[j]["id"].get<int>());
        const std::string b = std::to_string(allocs[i]["id"].get<int>());
        m_["allocations"][i]["offset"] = allocs[j]["offset"];
        EXPECT_TRUE(HasViolation(Check(m_), "allocation.overlap", "allocations " + a));
        EXPECT_TRUE(HasViolation(Check(m_), "allocation.overlap", " and " + b + " ["));
        return;
      }
  FAIL() << "no two allocations live at once";
}

TEST_F(Mutation, DroppedLoad) {
  json& xs = m_["transfers"];
  for (size_t i = 0; i < xs.size(); ++i)
    if (xs[i]["direction"] == "load" && xs[i]["cause"] == "reload") {
      const int64_t alloc = xs[i]["allocation"];
      xs.erase(i);
      EXPECT_TRUE(HasViolation(Check(m_), "data.missing",
                               "reads allocation " + std::to_string(alloc) + " ("));
      EXPECT_TRUE(HasViolation(Check(m_), "summary.bytes", "summary.dram_bytes.read is"));
      return;
    }
  FAIL() << "no reload in the manifest";
}

TEST_F(Mutation, StoreMovedBeforeItsProducer) {
  json* store = FindTransfer([](const json& x) { return x["cause"] == "final_output"; });
  ASSERT_NE(store, nullptr);
  json* producer = Writer((*store)["allocation"]);
  ASSERT_NE(producer, nullptr);
  const int64_t len = (*store)["end"].get<int64_t>() - (*store)["start"].get<int64_t>();
  (*store)["start"] = (*producer)["end"].get<int64_t>() - 1 - len;
  (*store)["end"] = (*producer)["end"].get<int64_t>() - 1;
  const std::string id = "store " + std::to_string((*store)["id"].get<int>()) + " of piece";
  EXPECT_TRUE(HasViolation(Check(m_), "store.early", id));
}

TEST_F(Mutation, MemoryShrunk) {
  json& gb = m_["hardware"]["cores"][0]["memories"].back();
  gb["size_bits"] = 64 * 8;  // 64 bytes, in bits
  std::vector<Violation> v = Check(m_);
  EXPECT_TRUE(HasViolation(v, "allocation.bounds", "lies outside memory 'global_buffer' of 64 bytes"));
  EXPECT_TRUE(HasViolation(v, "memory.capacity", "exceed its capacity of 64 bytes"));
}

TEST_F(Mutation, SummaryBytesEdited) {
  m_["summary"]["dram_bytes"]["by_operand"]["S"] = m_["summary"]["dram_bytes"]["by_operand"]["S"].get<int64_t>() + 8;
  m_["summary"]["dram_bytes"]["total"] = m_["summary"]["dram_bytes"]["total"].get<int64_t>() + 8;
  std::vector<Violation> v = Check(m_);
  EXPECT_TRUE(HasViolation(v, "summary.bytes", "summary.dram_bytes.by_operand.S is"));
  EXPECT_TRUE(HasViolation(v, "summary.bytes", "summary.dram_bytes.total is"));
}

TEST_F(Mutation, SummaryEnergyEdited) {
  json& e = m_["summary"]["energy_pj"];
  const double dram = e["dram"];
  e["dram"] = dram * (1 + 1e-12);  // within the 1e-9 tolerance
  EXPECT_TRUE(Check(m_).empty()) << Join(Check(m_));
  e["dram"] = dram * (1 + 1e-6);
  EXPECT_TRUE(HasViolation(Check(m_), "summary.energy", "summary.energy_pj.dram is"));
}

TEST_F(Mutation, TileEnergyEditedBreaksTheSum) {
  json& t = m_["tiles"][0]["energy_pj"];
  t["compute"] = t["compute"].get<double>() * 2;
  t["total"] = t["compute"].get<double>() + t["local"].get<double>() + t["sram"].get<double>() +
               t["dram"].get<double>();
  std::vector<Violation> v = Check(m_);
  EXPECT_TRUE(HasViolation(v, "summary.energy", "summary.energy_pj.compute is"));
  EXPECT_TRUE(HasViolation(v, "summary.energy", "summary.energy_pj.total is"));
}

TEST_F(Mutation, TransferMovedOntoAnother) {
  json& xs = m_["transfers"];
  ASSERT_GE(xs.size(), 2u);
  const int64_t len = xs[1]["end"].get<int64_t>() - xs[1]["start"].get<int64_t>();
  xs[1]["start"] = xs[0]["start"];
  xs[1]["end"] = xs[0]["start"].get<int64_t>() + len;
  const std::string a = std::to_string(xs[0]["id"].get<int>());
  const std::string b = std::to_string(xs[1]["id"].get<int>());
  EXPECT_TRUE(HasViolation(Check(m_), "link.overlap", "transfers " + a));
  EXPECT_TRUE(HasViolation(Check(m_), "link.overlap", " and " + b + " ["));
}

TEST_F(Mutation, DramAddressOutsideEveryRegion) {
  json* load = FindTransfer([](const json& x) { return x["direction"] == "load"; });
  ASSERT_NE(load, nullptr);
  (*load)["dram_address"] = int64_t{1} << 40;
  const std::string id = "transfer " + std::to_string((*load)["id"].get<int>()) + ": piece";
  EXPECT_TRUE(HasViolation(Check(m_), "dram.address", id));
}

TEST_F(Mutation, ReloadFromAnotherAddressThanStored) {
  json* reload = FindTransfer([](const json& x) { return x["cause"] == "reload"; });
  ASSERT_NE(reload, nullptr);
  // Another in-region address: the start of the region the piece lies in.
  int64_t other = -1;
  for (const json& r : m_["dram_layout"])
    if (r["base"] <= (*reload)["dram_address"] &&
        (*reload)["dram_address"].get<int64_t>() < r["base"].get<int64_t>() + r["bytes"].get<int64_t>())
      other = r["base"].get<int64_t>() + r["bytes"].get<int64_t>() - (*reload)["bytes"].get<int64_t>();
  ASSERT_GE(other, 0);
  ASSERT_NE(other, (*reload)["dram_address"]);
  (*reload)["dram_address"] = other;
  EXPECT_TRUE(HasViolation(Check(m_), "dram.piece_address",
                           "transfer " + std::to_string((*reload)["id"].get<int>())));
}

TEST_F(Mutation, TileStartsBeforeItsProducerEnds) {
  // The c1 tile at t=0 reads the c0 output of t=0.
  json& tiles = m_["tiles"];
  size_t consumer = 0, producer = 0;
  for (size_t i = 0; i < tiles.size(); ++i) {
    if (tiles[i]["layer"] == "c0" && tiles[i]["t"][0] == 0) producer = i;
    if (tiles[i]["layer"] == "c1" && tiles[i]["t"][0] == 0) consumer = i;
  }
  ASSERT_LT(producer, consumer);
  const int64_t len = tiles[consumer]["end"].get<int64_t>() - tiles[consumer]["start"].get<int64_t>();
  tiles[consumer]["start"] = tiles[producer]["end"].get<int64_t>() - 1;
  tiles[consumer]["end"] = tiles[consumer]["start"].get<int64_t>() + len;
  const std::string id = tiles[consumer]["id"];
  const std::string pid = tiles[producer]["id"];
  EXPECT_TRUE(HasViolation(Check(m_), "dependency.data", "tile " + id));
  EXPECT_TRUE(HasViolation(Check(m_), "dependency.data", "before its producer " + pid));
  ir::Workload w = TinyNet(2, 1);
  ValidateOptions o;
  o.workload = &w;
  EXPECT_TRUE(HasViolation(Check(m_, o), "model.dependency", "before tile " + pid));
}

TEST_F(Mutation, StateReadBeforeItWasWritten) {
  // Swap the two c0 tiles' times: t=1 then runs before t=0.
  json& tiles = m_["tiles"];
  std::vector<size_t> c0;
  for (size_t i = 0; i < tiles.size(); ++i)
    if (tiles[i]["layer"] == "c0") c0.push_back(i);
  ASSERT_EQ(c0.size(), 2u);
  std::swap(tiles[c0[0]]["t"], tiles[c0[1]]["t"]);
  EXPECT_TRUE(HasViolation(Check(m_), "dependency.state", "before tile"));
}

TEST_F(Mutation, HardwareGivenDiffersFromEmbedded) {
  hw::Hardware small = MetaPrototype(128);
  ValidateOptions o;
  o.hardware = &small;
  std::vector<Violation> v = Check(m_, o);
  EXPECT_TRUE(HasViolation(v, "hardware.mismatch", "256 bytes in the manifest, 128 bytes in --hw"));
}

}  // namespace
}  // namespace snnplan::validate::testing
