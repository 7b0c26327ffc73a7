// Numeric limits: models and hardware whose numbers would overflow int64
// (or double) are refused with a message naming the culprit, and the largest
// accepted hardware still plans to finite, positive numbers.
#include <cmath>
#include <cstdint>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "importer/tiny_nets.h"
#include "snnplan/hwdesc.h"
#include "snnplan/importer.h"
#include "snnplan/planner.h"

namespace snnplan {
namespace {

using testing::GraphBuilder;
using ::testing::HasSubstr;

const std::string kData = std::string(SNNPLAN_SOURCE_DIR) + "/tests/data/";

// x[1,2,H,W] -> Conv 1x1 (2 -> 3) -> snnTorch Leaky, one step.
GraphBuilder StepNet(int64_t h, int64_t w) {
  return testing::SnnTorchStepNet(testing::Reset::kSubtract, 0.9f, h, w);
}

absl::StatusOr<ir::Workload> ImportNet(GraphBuilder& b, importer::ImportOptions o) {
  return importer::ImportBytes(b.Bytes(), "limits.onnx", o);
}

// StepNet(4, 4) run over `timesteps`, planned with `spec` on the hardware
// in tests/data/<hw_file>.
absl::StatusOr<std::shared_ptr<const plan::Plan>> PlanStepNet(const std::string& hw_file,
                                                              int64_t timesteps,
                                                              const std::string& spec) {
  GraphBuilder b = StepNet(4, 4);
  absl::StatusOr<ir::Workload> w = ImportNet(b, testing::Steps(timesteps));
  if (!w.ok()) return w.status();
  absl::StatusOr<hw::Hardware> h = hw::LoadFile(kData + hw_file);
  if (!h.ok()) return h.status();
  absl::StatusOr<plan::Schedule> s = plan::ParseSchedule(spec, w->num_blocks, w->timesteps);
  if (!s.ok()) return s.status();
  plan::Planner planner(*w, *h, plan::PlanOptions{});
  return planner.Run(*s);
}

TEST(Limits, TinyNetImports) {
  GraphBuilder b = StepNet(4, 4);
  importer::ImportOptions o;
  o.timesteps = 4;
  absl::StatusOr<ir::Workload> w = ImportNet(b, o);
  ASSERT_TRUE(w.ok()) << w.status();
}

// A 2^40 x 2^40 input: OY*OX alone is 2^80.
TEST(Limits, HugeInputIsRefusedNamingTheNode) {
  GraphBuilder b = StepNet(int64_t{1} << 40, int64_t{1} << 40);
  importer::ImportOptions o;
  o.timesteps = 4;
  absl::StatusOr<ir::Workload> w = ImportNet(b, o);
  ASSERT_FALSE(w.ok());
  std::string msg(w.status().message());
  EXPECT_THAT(msg, HasSubstr("limits.onnx: "));
  EXPECT_THAT(msg, HasSubstr("exceeds 2^62"));
  EXPECT_THAT(msg, HasSubstr("node /Conv"));
}

// Each loop bound fits, the product times 64-bit precision does not.
TEST(Limits, DimsTimesBitsBeyond2To62IsRefused) {
  GraphBuilder b = StepNet(int64_t{1} << 14, int64_t{1} << 14);  // 2^28 per channel
  importer::ImportOptions o;
  o.timesteps = int64_t{1} << 28;
  o.state_bits = 64;
  o.accumulator_bits = 64;
  absl::StatusOr<ir::Workload> w = ImportNet(b, o);
  ASSERT_FALSE(w.ok());
  EXPECT_THAT(std::string(w.status().message()), HasSubstr("exceeds 2^62"));
}

TEST(Limits, AbsurdBatchIsRefused) {
  GraphBuilder b = StepNet(4, 4);
  importer::ImportOptions o;
  o.timesteps = 4;
  o.batch = int64_t{1} << 60;
  absl::StatusOr<ir::Workload> w = ImportNet(b, o);
  ASSERT_FALSE(w.ok());
  EXPECT_THAT(std::string(w.status().message()), HasSubstr("batch"));
}

// T = 2^40 imports (its products fit), but one tile per timestep would be
// 2^40 tiles: the planner refuses before building (or allocating) them.
TEST(Limits, TileCountIsCheckedBeforeTilesAreBuilt) {
  auto p = PlanStepNet("hw/minimal.json", int64_t{1} << 40, "st-lbl");
  ASSERT_FALSE(p.ok());
  EXPECT_THAT(std::string(p.status().message()), HasSubstr("50,000,000 tiles"));
}

// lfR with R = INT64_MAX: band heights times strides must not overflow.
TEST(Limits, Int64MaxRowsPerTilePlans) {
  auto p = PlanStepNet("hw/minimal.json", 2, "tb-lf9223372036854775807");
  ASSERT_TRUE(p.ok()) << p.status();
}

// The largest global buffer (2^50 bits) with 1-bit-per-cycle links loads,
// and a plan on it has finite, positive latency and energy.
TEST(Limits, HugeBufferWithBandwidthOnePlansToFiniteNumbers) {
  auto p = PlanStepNet("regression/hwdesc/huge_buffer_bandwidth_1.json", 4, "tb-lbl");
  ASSERT_TRUE(p.ok()) << p.status();
  const plan::Summary& sum = plan::GetSummary(**p);
  EXPECT_GT(sum.latency_cycles, 0);
  EXPECT_GE(sum.stall_cycles, 0);
  EXPECT_GT(sum.dram.total(), 0);
  nlohmann::json j = plan::SummaryToJson(**p);
  EXPECT_EQ(j.dump().find("null"), std::string::npos) << j.dump();
}

// 2^32 PEs with 2^50-bit, 2^40-bit/cycle memories per PE: bandwidth and
// capacity times instances (2^72, 2^82) used to overflow in the cost model.
TEST(Limits, HugeArrayTimesHugeMemoriesPricesWithoutOverflow) {
  auto p = PlanStepNet("regression/hwdesc/huge_instances.json", 2, "tb-lbl");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_GT(plan::GetSummary(**p).latency_cycles, 0);
  EXPECT_EQ(plan::SummaryToJson(**p).dump().find("null"), std::string::npos);
}

TEST(Limits, HardwareBeyondLimitsIsRefusedWithItsPath) {
  struct Case {
    const char* file;
    const char* message;
  } cases[] = {
      {"too_many_pes.json", "operational_array.sizes[1]: too many PEs"},
      {"absurd_energy.json", "unit_energy.mac: too large"},
      {"size_over_2_50.json", "memories[2].size: too large"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.file);
    absl::StatusOr<hw::Hardware> h = hw::LoadFile(kData + "regression/hwdesc/" + c.file);
    ASSERT_FALSE(h.ok());
    EXPECT_THAT(std::string(h.status().message()), HasSubstr(c.message));
  }
}

}  // namespace
}  // namespace snnplan
