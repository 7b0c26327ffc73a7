// Exploration with measured activity: the search's lower bound stays valid
// when the hardware skips zero spikes and encodes features on the DRAM link
// (the compulsory traffic counts the network input and outputs encoded), and
// the CSVs record the activity file.
#include <set>

#include "common/tiny_workloads.h"
#include "gtest/gtest.h"
#include "snnplan/allocate.h"
#include "snnplan/explore.h"

namespace snnplan::explore {
namespace {

// Three stateful conv blocks, T = 4 (as in search_test.cc), b2 a network output.
ir::Workload ThreeBlocks() {
  ir::Workload w;
  w.model_file = "three.onnx";
  w.timesteps = 4;
  w.num_blocks = 3;
  auto conv = [](const std::string& name, int input, int block, int64_t k, int64_t c, int64_t rows,
                 int input_bits) {
    ir::Layer l = testing::Conv(name, {input}, k, c, rows, 3, 1, true, input_bits, block);
    l.dims.T = 4;
    return l;
  };
  w.layers.push_back(conv("b0", ir::kNetworkInput, 0, 8, 2, 16, 4));
  w.layers.push_back(conv("b1", 0, 1, 16, 8, 16, 1));
  w.layers.push_back(conv("b2", 1, 2, 32, 16, 16, 1));
  w.layers.back().network_output = true;
  return w;
}

std::shared_ptr<const cost::ActivityFile> Activity(const std::string& file = "act.json") {
  auto a = std::make_shared<cost::ActivityFile>();
  a->file = file;
  a->sha256 = std::string(64, 'f');
  for (const auto& [layer, density] : {std::pair{"b0", 0.05}, {"b1", 0.1}, {"b2", 0.02}}) {
    cost::LayerInputActivity l;
    l.input_density = density;
    l.per_timestep.assign(4, density);
    a->layers[layer] = l;
  }
  return a;
}

hw::Hardware Sparse(int64_t sram_bytes) {
  hw::Hardware h = testing::MetaPrototype(sram_bytes);
  h.cores[0].operational_array.zero_skipping = true;
  h.spike_encoding = {hw::SpikeFormat::kAddressEvent, 0};
  return h;
}

constexpr Objective kObjectives[] = {Objective::kDram, Objective::kEnergy, Objective::kLatency,
                                     Objective::kEdp};

TEST(ActivityBound, HoldsOnEverySearchScheduleOfSparseHardware) {
  for (int64_t sram : {2048, 8192}) {
    SCOPED_TRACE(sram);
    plan::PlanOptions o;
    o.activity = Activity();
    plan::Planner planner(ThreeBlocks(), Sparse(sram), o);
    const ir::Workload& w = planner.workload();
    const hw::Hardware& hw = planner.hardware();
    const std::vector<int> cores(w.layers.size(), 0);
    const std::vector<plan::BlockSchedule> choices = SearchChoices(w.timesteps);
    const DramLowerBound bound =
        BuildDramLowerBound(w, hw, cores, o.state_io, choices, &planner.densities());
    // Encoded, the network input counts less than dense; b2's output is
    // read by no layer, so no density is measured for it: dense.
    const DramLowerBound dense_bound = BuildDramLowerBound(w, hw, cores, o.state_io, choices);
    EXPECT_LT(bound.compulsory_read_bytes, dense_bound.compulsory_read_bytes);
    EXPECT_EQ(bound.compulsory_write_bytes, dense_bound.compulsory_write_bytes);
    int feasible = 0;
    double compute_pj = -1;
    for (const plan::BlockSchedule& a : choices)
      for (const plan::BlockSchedule& b : choices)
        for (const plan::BlockSchedule& c : choices) {
          plan::Schedule s{{a, b, c}, {}};
          auto p = planner.Run(s);
          if (!p.ok()) continue;
          ++feasible;
          const plan::Summary& sum = plan::GetSummary(**p);
          if (compute_pj < 0) compute_pj = sum.energy.compute_pj;
          const int64_t reloads = WeightReloadBytes(w, hw, cores, s);
          for (Objective obj : kObjectives)
            EXPECT_LE(ObjectiveLowerBound(bound, reloads, compute_pj, w, hw, cores, obj),
                      ObjectiveValue(sum, obj) * (1 + 1e-12))
                << plan::FormatSchedule(s) << " objective " << static_cast<int>(obj);
          EXPECT_LE(CompulsoryDramBytes(w, hw, cores, o.state_io, &planner.densities()),
                    sum.dram.total());
        }
    EXPECT_GT(feasible, 0);
  }
}

int Fields(const std::string& line) {
  int n = 1;
  bool quoted = false;
  for (char c : line) {
    if (c == '"') quoted = !quoted;
    if (c == ',' && !quoted) ++n;
  }
  return n;
}

TEST(ActivityCsv, ExploreRowsEndInTheActivityFile) {
  plan::PlanOptions o;
  o.activity = Activity("a,b.json");  // a name that needs quoting
  plan::Planner planner(ThreeBlocks(), Sparse(8192), o);
  auto r = Explore(planner, ExploreOptions{});
  ASSERT_TRUE(r.ok()) << r.status();
  const std::string header = CsvHeader(o.activity.get());
  EXPECT_EQ(Fields(header), 19);
  EXPECT_NE(header.find(",feasible,activity_file,activity_sha256\n"), std::string::npos);
  const std::string row = CsvRow(r->evaluations[0], 8192, 1.0, o.state_io, o.activity.get());
  EXPECT_EQ(Fields(row), 19);
  EXPECT_NE(row.find(",\"a,b.json\"," + std::string(64, 'f') + "\n"), std::string::npos) << row;
  // Without activity, exactly as before.
  EXPECT_EQ(CsvHeader(), CsvHeader(nullptr));
  EXPECT_EQ(Fields(CsvHeader()), 17);
  EXPECT_EQ(CsvActivityColumns(nullptr), "");
}

TEST(ActivityCsv, ParetoCsvEndsInTheActivityFile) {
  GaResult r;
  Individual ind;
  ind.genome = {0, 1};
  ind.objectives.feasible = true;
  ind.objectives.latency_cycles = 10;
  ind.objectives.energy_pj = 2.5;
  r.evaluated = {ind};
  r.pareto = {0};
  const auto a = Activity();
  const std::string csv = ParetoCsv(r, nullptr, a.get());
  EXPECT_EQ(csv,
            "index,generation,seeded,feasible,pareto,latency_cycles,energy_pj,genome,"
            "activity_file,activity_sha256\n0,0,false,true,true,10,2.5,0;1,act.json," +
                std::string(64, 'f') + "\n");
  EXPECT_EQ(ParetoCsv(r).find("activity"), std::string::npos);
}

}  // namespace
}  // namespace snnplan::explore
