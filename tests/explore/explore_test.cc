// Exploration: grid size and distinctness, strategy ordering, determinism
// across thread counts, and well-formed SVG figures.
#include "snnplan/explore.h"

#include <libxml/parser.h>

#include <set>

#include "gtest/gtest.h"

namespace snnplan::explore {
namespace {

ir::Layer Conv(const std::string& name, int input, int block, int64_t k, int64_t c, int64_t rows,
               int64_t f, int64_t stride) {
  ir::Layer l;
  l.name = name;
  l.inputs = {input};
  l.block = block;
  l.dims.T = 4;
  l.dims.K = k;
  l.dims.C = c;
  l.dims.OY = l.dims.OX = rows;
  l.dims.FY = l.dims.FX = f;
  l.window.stride_y = l.window.stride_x = stride;
  const int64_t pad = f / 2;
  l.window.pad_top = l.window.pad_bottom = l.window.pad_left = l.window.pad_right = pad;
  l.in_y = l.in_x = (rows - 1) * stride + f - 2 * pad;
  l.neuron.mode = ir::NeuronMode::kStateful;
  l.neuron.kind = "lif";
  l.neuron.states_per_neuron = 1;
  l.precision.input_bits = input == ir::kNetworkInput ? 4 : 1;
  l.out_shape = {k, rows, rows};
  return l;
}

// Three blocks: wide early features, heavy late weights (like SEW / RED).
ir::Workload SmallNet() {
  ir::Workload w;
  w.model_file = "small.onnx";
  w.timesteps = 4;
  w.num_blocks = 3;
  w.layers.push_back(Conv("b0", ir::kNetworkInput, 0, 8, 2, 16, 3, 1));
  w.layers.push_back(Conv("b1", 0, 1, 16, 8, 8, 3, 2));
  w.layers.push_back(Conv("b2", 1, 2, 32, 16, 4, 3, 2));
  w.layers.back().network_output = true;
  return w;
}

plan::Planner MakePlanner(int64_t sram_bytes) {
  hw::Hardware h = *hw::Preset("meta-prototype");
  EXPECT_TRUE(hw::ResizeGlobalBuffer(h, sram_bytes).ok());
  return plan::Planner(SmallNet(), h, plan::PlanOptions{});
}

TEST(Explore, GridEnumeratesAllDistinctSchedules) {
  auto grid = GridSchedules(SmallNet(), Ranking::kFeatures, Ranking::kMemory);
  ASSERT_EQ(grid.size(), 16u);  // (N+1)^2 with N = 3
  std::set<std::string> specs;
  for (const auto& [s, fb] : grid) specs.insert(plan::FormatSchedule(s));
  EXPECT_EQ(specs.size(), 16u);
  EXPECT_EQ(plan::FormatSchedule(grid.front().first), "st-lbl,st-lbl,st-lbl");
  EXPECT_EQ(plan::FormatSchedule(grid.back().first), "tb-lf,tb-lf,tb-lf");
}

TEST(Explore, RankingsOrderBlocks) {
  const ir::Workload w = SmallNet();
  EXPECT_EQ(RankBlocks(w, Ranking::kInput), (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(RankBlocks(w, Ranking::kOutput), (std::vector<int>{2, 1, 0}));
  // Features per timestep: b0 8*16*16 = 2048 > b1 16*8*8 = 1024 > b2 512.
  EXPECT_EQ(RankBlocks(w, Ranking::kFeatures), (std::vector<int>{0, 1, 2}));
  // Memory (weight + state bits): b0 8*2*9*4 + 8*16*16*12 = 25,152;
  // b2 32*16*9*4 + 32*4*4*12 = 24,576; b1 16*8*9*4 + 16*8*8*12 = 16,896.
  EXPECT_EQ(RankBlocks(w, Ranking::kMemory), (std::vector<int>{0, 2, 1}));
}

TEST(Explore, ExhaustiveBestNoWorseThanGridNoWorseThanBaseline) {
  plan::Planner planner = MakePlanner(2048);
  ExploreOptions grid_opts;
  auto grid = Explore(planner, grid_opts);
  ASSERT_TRUE(grid.ok()) << grid.status();
  ExploreOptions ex_opts;
  ex_opts.strategy = Strategy::kExhaustive;
  auto ex = Explore(planner, ex_opts);
  ASSERT_TRUE(ex.ok()) << ex.status();
  ASSERT_EQ(ex->evaluations.size(), 64u);  // 4^3
  ASSERT_GE(grid->best, 0);
  ASSERT_GE(ex->best, 0);
  const double base = ObjectiveValue(grid->baseline.summary, Objective::kDram);
  EXPECT_LE(ex->evaluations[ex->best].objective, grid->evaluations[grid->best].objective);
  EXPECT_LE(grid->evaluations[grid->best].objective, base);
  EXPECT_GE(ex->evaluations[ex->best].summary.dram.total(), ex->compulsory_dram_bytes);
}

TEST(Explore, SameResultsWithOneAndTwoThreads) {
  plan::Planner p1 = MakePlanner(2048), p2 = MakePlanner(2048);
  ExploreOptions o1, o2;
  o2.threads = 2;
  auto r1 = Explore(p1, o1), r2 = Explore(p2, o2);
  ASSERT_TRUE(r1.ok() && r2.ok());
  ASSERT_EQ(r1->evaluations.size(), r2->evaluations.size());
  std::string csv1, csv2;
  for (const Evaluation& e : r1->evaluations) csv1 += CsvRow(e, 2048, 1.0, cost::StateIo::kZero);
  for (const Evaluation& e : r2->evaluations) csv2 += CsvRow(e, 2048, 1.0, cost::StateIo::kZero);
  EXPECT_EQ(csv1, csv2);
  EXPECT_EQ(r1->best, r2->best);
}

int CountElements(xmlNode* node, const char* name, const char* cls) {
  int n = 0;
  for (xmlNode* c = node; c; c = c->next) {
    if (c->type == XML_ELEMENT_NODE && xmlStrcmp(c->name, BAD_CAST name) == 0) {
      xmlChar* attr = xmlGetProp(c, BAD_CAST "class");
      if (attr && xmlStrcmp(attr, BAD_CAST cls) == 0) ++n;
      xmlFree(attr);
    }
    n += CountElements(c->children, name, cls);
  }
  return n;
}

// Parses as XML (libxml2) and counts <rect class="...">.
int ParseAndCount(const std::string& svg, const char* cls) {
  xmlDoc* doc = xmlReadMemory(svg.data(), static_cast<int>(svg.size()), "figure.svg", nullptr,
                              XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
  if (doc == nullptr) return -1;
  int n = CountElements(xmlDocGetRootElement(doc), "rect", cls);
  xmlFreeDoc(doc);
  return n;
}

TEST(Explore, SvgFiguresAreWellFormedWithOneCellPerSchedule) {
  plan::Planner planner = MakePlanner(2048);
  auto r = Explore(planner, ExploreOptions{});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(ParseAndCount(HeatmapSvg(*r, "small <net> & co"), "cell"), 16);
  // Baseline and best, 4 components + 4 operands each.
  EXPECT_EQ(ParseAndCount(BreakdownSvg(*r, "breakdown"), "segment"), 16);
  EXPECT_EQ(ParseAndCount("<svg><rect class='cell'>", "cell"), -1);  // the check can fail
}

TEST(Explore, CsvRowMatchesHeader) {
  plan::Planner planner = MakePlanner(2048);
  auto r = Explore(planner, ExploreOptions{});
  ASSERT_TRUE(r.ok());
  auto fields = [](const std::string& line) {
    int n = 1;
    bool quoted = false;
    for (char c : line) {
      if (c == '"') quoted = !quoted;
      if (c == ',' && !quoted) ++n;
    }
    return n;
  };
  EXPECT_EQ(fields(CsvHeader()), 17);
  EXPECT_EQ(fields(CsvRow(r->evaluations[0], 2048, 1.0, cost::StateIo::kZero)), 17);
}

}  // namespace
}  // namespace snnplan::explore
