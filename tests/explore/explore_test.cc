// Exploration: grid size and distinctness, strategy ordering, determinism
// across thread counts, and well-formed SVG figures.
#include "snnplan/explore.h"

#include <libxml/parser.h>

#include <cmath>
#include <map>
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
  FigureContext context{"small <net> & co.onnx", "meta-prototype", 2048, 0};
  absl::StatusOr<std::string> heatmap = HeatmapSvg(*r, Objective::kDram, context);
  ASSERT_TRUE(heatmap.ok()) << heatmap.status();
  EXPECT_EQ(ParseAndCount(*heatmap, "cell"), 16);
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

// ---- the heatmap, read back as XML

struct SvgElement {
  std::string name;
  std::map<std::string, std::string> attr;
  std::string text;  // all text inside, <title> included
};

void Collect(xmlNode* node, std::vector<SvgElement>& out) {
  for (xmlNode* c = node; c; c = c->next) {
    if (c->type != XML_ELEMENT_NODE) continue;
    SvgElement e{reinterpret_cast<const char*>(c->name), {}, {}};
    for (xmlAttr* a = c->properties; a; a = a->next) {
      xmlChar* v = xmlNodeListGetString(c->doc, a->children, 1);
      e.attr[reinterpret_cast<const char*>(a->name)] = v ? reinterpret_cast<const char*>(v) : "";
      xmlFree(v);
    }
    xmlChar* text = xmlNodeGetContent(c);
    e.text = text ? reinterpret_cast<const char*>(text) : "";
    xmlFree(text);
    out.push_back(e);
    Collect(c->children, out);
  }
}

// Every element of a well-formed SVG, in document order; empty when malformed.
std::vector<SvgElement> ParseSvg(const std::string& svg) {
  std::vector<SvgElement> out;
  xmlDoc* doc = xmlReadMemory(svg.data(), static_cast<int>(svg.size()), "figure.svg", nullptr,
                              XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
  if (doc == nullptr) return out;
  Collect(xmlDocGetRootElement(doc), out);
  xmlFreeDoc(doc);
  return out;
}

std::vector<SvgElement> OfClass(const std::vector<SvgElement>& all, const std::string& cls) {
  std::vector<SvgElement> out;
  for (const SvgElement& e : all)
    if (e.attr.count("class") && e.attr.at("class") == cls) out.push_back(e);
  return out;
}

// The cell whose tooltip names `spec` ("<spec>: ...").
const SvgElement* CellOf(const std::vector<SvgElement>& cells, const std::string& spec) {
  for (const SvgElement& c : cells)
    if (c.text.rfind(spec + ":", 0) == 0) return &c;
  return nullptr;
}

// The objective worked out from the plan's summary, as the docs define it.
double ObjectiveOf(const plan::Summary& s, Objective o) {
  double bytes = 0;
  for (int i = 0; i < 4; ++i) bytes += static_cast<double>(s.dram.read[i] + s.dram.write[i]);
  const double pj = s.energy.compute_pj + s.energy.local_pj + s.energy.sram_pj + s.energy.dram_pj +
                    s.energy.noc_pj;
  const double cycles = static_cast<double>(s.latency_cycles);
  switch (o) {
    case Objective::kDram:
      return bytes;
    case Objective::kEnergy:
      return pj;
    case Objective::kLatency:
      return cycles;
    case Objective::kEdp:
      return pj * cycles;
  }
  return 0;
}

// viridis, the colour scale's ends: the lowest (best) value is the bright end.
constexpr const char* kBrightEnd = "#fde725";
constexpr const char* kDarkEnd = "#440154";

std::string BinaryUnit(double bytes) {
  return bytes < 1024 ? "B" : bytes < 1024.0 * 1024 ? "KiB" : "MiB";
}
std::string EnergyUnitOf(double pj) {
  return pj < 1e3 ? "pJ" : pj < 1e6 ? "nJ" : pj < 1e9 ? "µJ" : "mJ";
}
std::string CyclesUnitOf(double c) {
  return c < 1e3 ? "cycles" : c < 1e6 ? "k cycles" : "M cycles";
}
double Divisor(const std::string& unit) {
  static const std::map<std::string, double> d = {
      {"B", 1},    {"KiB", 1024}, {"MiB", 1048576}, {"pJ", 1},         {"nJ", 1e3},
      {"µJ", 1e6}, {"mJ", 1e9},   {"cycles", 1},    {"k cycles", 1e3}, {"M cycles", 1e6}};
  return d.at(unit);
}

// For each objective: the boxed cell is the lowest value of that objective
// (worked out from the summaries), coloured with the scale's bright end; the
// highest gets the dark end; the colour bar names the quantity and its unit
// and its lowest tick is the best value; the title names model, hardware,
// SRAM and objective.
TEST(Heatmap, ColouredAndBoxedByTheChosenObjective) {
  plan::Planner planner = MakePlanner(2048);
  for (Objective objective :
       {Objective::kDram, Objective::kEnergy, Objective::kLatency, Objective::kEdp}) {
    ExploreOptions options;
    options.objective = objective;
    auto r = Explore(planner, options);
    ASSERT_TRUE(r.ok()) << r.status();
    const std::string name = ObjectiveName(objective);
    SCOPED_TRACE(name);
    int lo = -1, hi = -1;
    for (size_t i = 0; i < r->evaluations.size(); ++i) {
      const Evaluation& e = r->evaluations[i];
      if (!e.feasible) continue;
      const double v = ObjectiveOf(e.summary, objective);
      if (lo < 0 || v < ObjectiveOf(r->evaluations[lo].summary, objective)) lo = i;
      if (hi < 0 || v > ObjectiveOf(r->evaluations[hi].summary, objective)) hi = i;
    }
    ASSERT_GE(lo, 0);
    const double lo_v = ObjectiveOf(r->evaluations[lo].summary, objective);
    const double hi_v = ObjectiveOf(r->evaluations[hi].summary, objective);
    ASSERT_LT(lo_v, hi_v);  // a scale to speak of
    absl::StatusOr<std::string> svg =
        HeatmapSvg(*r, objective, FigureContext{"small.onnx", "meta-prototype", 2048, 0});
    ASSERT_TRUE(svg.ok()) << svg.status();
    const std::vector<SvgElement> all = ParseSvg(*svg);
    const std::vector<SvgElement> cells = OfClass(all, "cell");
    ASSERT_EQ(cells.size(), 16u);
    const SvgElement* best = CellOf(cells, r->evaluations[lo].spec);
    const SvgElement* worst = CellOf(cells, r->evaluations[hi].spec);
    ASSERT_TRUE(best && worst);
    EXPECT_EQ(best->attr.at("fill"), kBrightEnd);
    EXPECT_EQ(worst->attr.at("fill"), kDarkEnd);
    const std::vector<SvgElement> box = OfClass(all, "best");
    ASSERT_EQ(box.size(), 1u);
    // The box sits 2 px inside its cell.
    EXPECT_EQ(std::stoi(box[0].attr.at("x")), std::stoi(best->attr.at("x")) + 2);
    EXPECT_EQ(std::stoi(box[0].attr.at("y")), std::stoi(best->attr.at("y")) + 2);
    ASSERT_EQ(OfClass(all, "colour-bar").size(), 1u);
    // The unit: DRAM in B/KiB/MiB, energy in pJ..mJ, latency in cycles; EDP
    // as energy x cycles, the cycles unit from the largest latency.
    double largest_cycles = 0;
    for (const Evaluation& e : r->evaluations)
      if (e.feasible)
        largest_cycles = std::max(largest_cycles, static_cast<double>(e.summary.latency_cycles));
    std::string unit;
    double divisor = 1;
    if (objective == Objective::kDram) unit = BinaryUnit(hi_v);
    if (objective == Objective::kEnergy) unit = EnergyUnitOf(hi_v);
    if (objective == Objective::kLatency) unit = CyclesUnitOf(hi_v);
    if (unit.empty()) {
      const std::string c = CyclesUnitOf(largest_cycles);
      const std::string e = EnergyUnitOf(hi_v / Divisor(c));
      unit = e + "·" + c;
      divisor = Divisor(c) * Divisor(e);
    } else {
      divisor = Divisor(unit);
    }
    const std::vector<SvgElement> label = OfClass(all, "colour-bar-label");
    ASSERT_EQ(label.size(), 1u);
    EXPECT_EQ(label[0].text, name + " (" + unit + ")");
    const std::vector<SvgElement> ticks = OfClass(all, "colour-bar-tick");
    ASSERT_EQ(ticks.size(), 5u);
    // Drawn from the bottom (best) up: 3 significant digits of the value in the unit.
    EXPECT_NEAR(std::stod(ticks.front().text), lo_v / divisor, lo_v / divisor * 5e-3);
    EXPECT_NEAR(std::stod(ticks.back().text), hi_v / divisor, hi_v / divisor * 5e-3);
    const std::vector<SvgElement> title = OfClass(all, "title");
    ASSERT_EQ(title.size(), 1u);
    for (const std::string& part : {std::string("small.onnx"), std::string("meta-prototype"),
                                    std::string("SRAM 2 KiB"), "objective: " + name})
      EXPECT_NE(title[0].text.find(part), std::string::npos) << title[0].text;
  }
}

// With a clock the latency scale is in time: 1e8 Hz makes a cycle 10 ns.
TEST(Heatmap, LatencyInTimeWithAClock) {
  plan::Planner planner = MakePlanner(2048);
  ExploreOptions options;
  options.objective = Objective::kLatency;
  auto r = Explore(planner, options);
  ASSERT_TRUE(r.ok());
  double hi = 0;
  for (const Evaluation& e : r->evaluations)
    if (e.feasible) hi = std::max(hi, static_cast<double>(e.summary.latency_cycles));
  const double seconds = hi / 1e8;
  const std::string unit = seconds < 1e-6 ? "ns" : seconds < 1e-3 ? "µs" : "ms";
  auto svg = HeatmapSvg(*r, Objective::kLatency, FigureContext{"m.onnx", "h", 2048, 1e8});
  ASSERT_TRUE(svg.ok());
  const std::vector<SvgElement> label = OfClass(ParseSvg(*svg), "colour-bar-label");
  ASSERT_EQ(label.size(), 1u);
  EXPECT_EQ(label[0].text, "latency (" + unit + ")");
}

// A cell that could not be planned is hatched (no colour of the scale),
// reads "n/a" and the legend says why; without one, the legend does not.
TEST(Heatmap, UnplannedCellsAreHatchedAndExplained) {
  plan::Planner planner = MakePlanner(2048);
  auto r = Explore(planner, ExploreOptions{});
  ASSERT_TRUE(r.ok());
  const FigureContext context{"small.onnx", "meta-prototype", 2048, 0};
  auto clean = HeatmapSvg(*r, Objective::kDram, context);
  ASSERT_TRUE(clean.ok());
  EXPECT_EQ(clean->find("could not be planned"), std::string::npos);
  ExploreResult broken = *r;
  const int victim = broken.best == 0 ? 1 : 0;
  broken.evaluations[victim].feasible = false;
  broken.evaluations[victim].error = "does not fit";
  auto svg = HeatmapSvg(broken, Objective::kDram, context);
  ASSERT_TRUE(svg.ok()) << svg.status();
  const std::vector<SvgElement> all = ParseSvg(*svg);
  const std::vector<SvgElement> cells = OfClass(all, "cell");  // CellOf points into it
  const SvgElement* cell = CellOf(cells, broken.evaluations[victim].spec);
  ASSERT_NE(cell, nullptr);
  EXPECT_EQ(cell->attr.at("fill"), "url(#unplanned)");
  EXPECT_NE(cell->text.find("does not fit"), std::string::npos);
  bool legend = false;
  for (const SvgElement& e : OfClass(all, "legend"))
    legend = legend || e.text.find("could not be planned") != std::string::npos;
  EXPECT_TRUE(legend);
  int patterns = 0;
  for (const SvgElement& e : all)
    patterns += e.name == "pattern" && e.attr.count("id") && e.attr.at("id") == "unplanned";
  EXPECT_EQ(patterns, 1);
}

// --budget leaves grid cells out: each gets an empty dashed frame and a legend line.
TEST(Heatmap, CellsLeftOutByTheBudgetAreFramed) {
  plan::Planner planner = MakePlanner(2048);
  ExploreOptions options;
  options.budget = 10;
  auto r = Explore(planner, options);
  ASSERT_TRUE(r.ok());
  auto svg = HeatmapSvg(*r, Objective::kDram, FigureContext{"s.onnx", "h", 2048, 0});
  ASSERT_TRUE(svg.ok());
  const std::vector<SvgElement> all = ParseSvg(*svg);
  EXPECT_EQ(OfClass(all, "cell").size(), 10u);
  EXPECT_EQ(OfClass(all, "not-evaluated").size(), 6u);
  EXPECT_NE(svg->find("not evaluated (--budget)"), std::string::npos);
}

// The guard: a result whose best is not the lowest value of the objective
// asked for (ranked by another one) is refused rather than boxed wrongly.
TEST(Heatmap, RefusesAResultRankedByAnotherObjective) {
  plan::Planner planner = MakePlanner(2048);
  auto r = Explore(planner, ExploreOptions{});
  ASSERT_TRUE(r.ok());
  const FigureContext context{"s.onnx", "h", 2048, 0};
  ASSERT_TRUE(HeatmapSvg(*r, Objective::kDram, context).ok());
  ExploreResult wrong = *r;
  for (size_t i = 0; i < wrong.evaluations.size(); ++i)
    if (wrong.evaluations[i].feasible &&
        ObjectiveOf(wrong.evaluations[i].summary, Objective::kDram) >
            ObjectiveOf(r->evaluations[r->best].summary, Objective::kDram))
      wrong.best = static_cast<int>(i);
  ASSERT_NE(wrong.best, r->best);
  auto svg = HeatmapSvg(wrong, Objective::kDram, context);
  ASSERT_FALSE(svg.ok());
  EXPECT_NE(svg.status().message().find("ranked by another objective"), std::string::npos);
}

// With an exit profile the ranking uses the expected cost: so do the colours,
// the box and the title. Expected energies here reverse the static order.
TEST(Heatmap, ExitProfileColoursTheExpectedObjective) {
  plan::Planner planner = MakePlanner(2048);
  ExploreOptions options;
  options.objective = Objective::kEnergy;
  auto r = Explore(planner, options);
  ASSERT_TRUE(r.ok());
  ExploreResult x = *r;
  int lo = -1;
  for (size_t i = 0; i < x.evaluations.size(); ++i) {
    Evaluation& e = x.evaluations[i];
    if (!e.feasible) continue;
    plan::ExpectedCost cost;
    cost.energy.compute_pj = 1e12 / ObjectiveOf(e.summary, Objective::kEnergy);  // reversed
    cost.latency_cycles = static_cast<double>(e.summary.latency_cycles);
    e.summary.expected = cost;
    e.objective = cost.energy.compute_pj;
    if (lo < 0 || e.objective < x.evaluations[lo].objective) lo = static_cast<int>(i);
  }
  x.best = lo;
  auto svg = HeatmapSvg(x, Objective::kEnergy, FigureContext{"s.onnx", "h", 2048, 0});
  ASSERT_TRUE(svg.ok()) << svg.status();
  const std::vector<SvgElement> all = ParseSvg(*svg);
  const std::vector<SvgElement> cells = OfClass(all, "cell");  // CellOf points into it
  const SvgElement* best = CellOf(cells, x.evaluations[lo].spec);
  ASSERT_NE(best, nullptr);
  EXPECT_EQ(best->attr.at("fill"), kBrightEnd);
  EXPECT_NE(x.evaluations[lo].spec, r->evaluations[r->best].spec);  // the order did change
  EXPECT_NE(OfClass(all, "title")[0].text.find("expected energy under early exit"),
            std::string::npos);
}

// Byte-identical for the same inputs, whatever the thread count.
TEST(Heatmap, Deterministic) {
  plan::Planner planner = MakePlanner(2048);
  ExploreOptions one, two;
  two.threads = 2;
  auto r1 = Explore(planner, one);
  auto r2 = Explore(planner, two);
  ASSERT_TRUE(r1.ok() && r2.ok());
  const FigureContext context{"s.onnx", "h", 2048, 0};
  EXPECT_EQ(*HeatmapSvg(*r1, Objective::kDram, context),
            *HeatmapSvg(*r2, Objective::kDram, context));
}

}  // namespace
}  // namespace snnplan::explore
