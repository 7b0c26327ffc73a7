// SVG figures of an exploration: the grid heatmap (paper Figure 8) and the
// baseline-vs-best energy breakdown (Figures 9 and 11).
#include <algorithm>
#include <array>
#include <cmath>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "snnplan/explore.h"
#include "snnplan/units.h"

namespace snnplan::explore {
namespace {

std::string Escape(const std::string& s) {
  return absl::StrReplaceAll(s, {{"&", "&amp;"}, {"<", "&lt;"}, {">", "&gt;"}, {"\"", "&quot;"}});
}

// A perceptually ordered ramp (viridis stops), t in [0, 1].
std::string Ramp(double t) {
  static constexpr std::array<std::array<int, 3>, 5> kStops = {
      {{68, 1, 84}, {59, 82, 139}, {33, 145, 140}, {94, 201, 98}, {253, 231, 37}}};
  t = std::clamp(t, 0.0, 1.0) * (kStops.size() - 1);
  const size_t i = std::min<size_t>(static_cast<size_t>(t), kStops.size() - 2);
  const double f = t - static_cast<double>(i);
  int rgb[3];
  for (int c = 0; c < 3; ++c)
    rgb[c] = static_cast<int>(std::lround(kStops[i][c] + f * (kStops[i + 1][c] - kStops[i][c])));
  return absl::StrFormat("#%02x%02x%02x", rgb[0], rgb[1], rgb[2]);
}

std::string Header(int width, int height, const std::string& title) {
  return absl::StrFormat(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
      "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"11\">\n"
      "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
      "<text x=\"%d\" y=\"20\" text-anchor=\"middle\" font-size=\"14\">%s</text>\n",
      width, height, width, height, width / 2, Escape(title));
}

}  // namespace

std::string ObjectiveName(Objective objective) {
  switch (objective) {
    case Objective::kDram:
      return "DRAM traffic";
    case Objective::kEnergy:
      return "energy";
    case Objective::kLatency:
      return "latency";
    case Objective::kEdp:
      return "energy-delay product";
  }
  return "";
}

std::string FigureTitle(const FigureContext& c) {
  return absl::StrCat(c.model, " on ", c.hardware, ", SRAM ", units::Bytes(c.sram_bytes));
}

ObjectiveScale MakeObjectiveScale(Objective objective, double largest, double largest_cycles,
                                  double clock_hz) {
  const bool timed = clock_hz > 0;
  switch (objective) {
    case Objective::kDram:
      return {units::BytesUnit(largest), 1.0};
    case Objective::kEnergy:
      return {units::EnergyUnit(largest), 1.0};
    case Objective::kLatency: {
      if (!timed) return {units::CyclesUnit(largest), 1.0};
      return {units::TimeUnit(largest / clock_hz), 1.0 / clock_hz};
    }
    case Objective::kEdp: {
      // pJ x cycles has no readable unit of its own: an energy unit times the
      // latency unit the largest latency reads in ("mJ·M cycles", "µJ·ms").
      const units::Unit delay =
          timed ? units::TimeUnit(largest_cycles / clock_hz) : units::CyclesUnit(largest_cycles);
      const double per_delay = timed ? delay.per_unit * clock_hz : delay.per_unit;  // cycles
      const units::Unit energy = units::EnergyUnit(largest / per_delay);
      return {{absl::StrCat(energy.name, "·", delay.name), energy.per_unit * per_delay}, 1.0};
    }
  }
  return {};
}

namespace {

// Grid cells of a heatmap: the objective value of each evaluated cell and the
// colour scale over the planned ones.
struct HeatCells {
  std::vector<double> value;  // per evaluation: the objective (feasible grid cells)
  double lo = INFINITY, hi = -INFINITY;
  int best = -1;          // the planned grid cell with the lowest objective (first on ties)
  bool expected = false;  // ranked by the expected cost under early exit
  bool any_unplanned = false;
  int evaluated = 0;
  double largest_cycles = 0;  // for the EDP unit
};

HeatCells CollectCells(const ExploreResult& r, Objective objective) {
  HeatCells c;
  c.value.assign(r.evaluations.size(), 0);
  for (size_t i = 0; i < r.evaluations.size(); ++i) {
    const Evaluation& e = r.evaluations[i];
    if (e.fused_blocks < 0) continue;
    ++c.evaluated;
    if (!e.feasible) {
      c.any_unplanned = true;
      continue;
    }
    const double v = ObjectiveValue(e.summary, objective);
    c.value[i] = v;
    c.expected = c.expected || e.summary.expected.has_value();
    c.largest_cycles = std::max(c.largest_cycles,
                                e.summary.expected ? e.summary.expected->latency_cycles
                                                   : static_cast<double>(e.summary.latency_cycles));
    if (c.best < 0 || v < c.value[c.best]) c.best = static_cast<int>(i);
    c.lo = std::min(c.lo, v);
    c.hi = std::max(c.hi, v);
  }
  return c;
}

// Position on the colour scale: 0 at the lowest (best) value, 1 at the
// highest; logarithmic when every value is positive (values span decades).
double ScalePos(const HeatCells& c, double v) {
  if (!(c.hi > c.lo)) return 0;
  if (c.lo > 0) return (std::log(v) - std::log(c.lo)) / (std::log(c.hi) - std::log(c.lo));
  return (v - c.lo) / (c.hi - c.lo);
}
double ScaleValue(const HeatCells& c, double pos) {
  if (c.lo > 0) return std::exp(std::log(c.lo) + pos * (std::log(c.hi) - std::log(c.lo)));
  return c.lo + pos * (c.hi - c.lo);
}

// Lowest value = the ramp's bright end.
std::string CellColour(const HeatCells& c, double v) { return Ramp(1.0 - ScalePos(c, v)); }

constexpr int kCell = 56, kLeft = 90, kTop = 70;
constexpr const char* kBestColour = "#e00000";
constexpr const char* kUnplannedFill = "url(#unplanned)";

std::string HeatmapDefs() {
  // Hatching, so a cell that could not be planned never reads as a colour of the scale.
  std::string defs =
      "<defs>\n"
      "<pattern id=\"unplanned\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" "
      "patternTransform=\"rotate(45)\"><rect width=\"6\" height=\"6\" fill=\"#eeeeee\"/>"
      "<line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"#999999\" stroke-width=\"2\"/>"
      "</pattern>\n"
      "<linearGradient id=\"colour-scale\" x1=\"0\" y1=\"1\" x2=\"0\" y2=\"0\">\n";
  // The ramp is piecewise linear between its stops: five stops reproduce it.
  for (int k = 0; k <= 4; ++k)
    absl::StrAppendFormat(&defs, "<stop offset=\"%.2f\" stop-color=\"%s\"/>\n", k / 4.0,
                          Ramp(1.0 - k / 4.0));
  return defs + "</linearGradient>\n</defs>\n";
}

std::string CellText(const HeatCells& c, size_t i, const ObjectiveScale& scale) {
  return units::Digits3(scale.ToAxis(c.value[i]));
}

void HeatCellsSvg(std::ostringstream& svg, const ExploreResult& r, const HeatCells& c,
                  const ObjectiveScale& scale, const std::string& quantity) {
  const int n = r.num_blocks + 1;
  for (size_t i = 0; i < r.evaluations.size(); ++i) {
    const Evaluation& e = r.evaluations[i];
    if (e.fused_blocks < 0) continue;
    const int x = kLeft + e.batched_blocks * kCell;
    const int y = kTop + (n - 1 - e.fused_blocks) * kCell;  // f = 0 at the bottom
    const std::string text = e.feasible ? CellText(c, i, scale) : "n/a";
    const std::string tooltip = e.feasible ? absl::StrCat(quantity, " ", text, " ", scale.unit.name)
                                           : absl::StrCat("could not be planned: ", e.error);
    svg << absl::StrFormat(
        "<rect class=\"cell\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\" "
        "stroke=\"white\" stroke-width=\"1\"><title>%s: %s</title></rect>\n",
        x, y, kCell, kCell, e.feasible ? CellColour(c, c.value[i]) : kUnplannedFill, Escape(e.spec),
        Escape(tooltip));
    const bool dark = e.feasible && 1.0 - ScalePos(c, c.value[i]) < 0.45;
    svg << absl::StrFormat(
        "<text class=\"cell-value\" x=\"%d\" y=\"%d\" text-anchor=\"middle\" "
        "fill=\"%s\">%s</text>\n",
        x + kCell / 2, y + kCell / 2 + 4, dark ? "white" : "black", text);
  }
  // Grid cells a --budget left out: an empty dashed frame.
  std::vector<bool> seen(static_cast<size_t>(n * n), false);
  for (const Evaluation& e : r.evaluations)
    if (e.fused_blocks >= 0) seen[e.fused_blocks * n + e.batched_blocks] = true;
  for (int f = 0; f < n; ++f)
    for (int b = 0; b < n; ++b)
      if (!seen[f * n + b] && c.evaluated > 0)
        svg << absl::StrFormat(
            "<rect class=\"not-evaluated\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" "
            "fill=\"white\" stroke=\"#999999\" stroke-dasharray=\"4 3\"/>\n",
            kLeft + b * kCell + 2, kTop + (n - 1 - f) * kCell + 2, kCell - 4, kCell - 4);
  if (c.best >= 0) {  // on top, so no neighbour's border covers it
    const Evaluation& b = r.evaluations[c.best];
    svg << absl::StrFormat(
        "<rect class=\"best\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" "
        "stroke=\"%s\" stroke-width=\"4\"/>\n",
        kLeft + b.batched_blocks * kCell + 2, kTop + (n - 1 - b.fused_blocks) * kCell + 2,
        kCell - 4, kCell - 4, kBestColour);
  }
}

void HeatAxes(std::ostringstream& svg, int n) {
  for (int k = 0; k < n; ++k) {
    svg << absl::StrFormat("<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%d</text>\n",
                           kLeft + k * kCell + kCell / 2, kTop + n * kCell + 16, k);
    svg << absl::StrFormat("<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%d</text>\n", kLeft - 6,
                           kTop + (n - 1 - k) * kCell + kCell / 2 + 4, k);
  }
  svg << absl::StrFormat(
      "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">blocks time-batched</text>\n"
      "<text x=\"20\" y=\"%d\" text-anchor=\"middle\" transform=\"rotate(-90 20 %d)\">blocks "
      "layer-fused</text>\n",
      kLeft + n * kCell / 2, kTop + n * kCell + 36, kTop + n * kCell / 2, kTop + n * kCell / 2);
}

// The colour bar right of the grid: lowest value (best) at the bottom, five
// ticks spaced like the scale, the caption naming the quantity and unit.
void ColourBar(std::ostringstream& svg, const HeatCells& c, int n, const ObjectiveScale& scale,
               const std::string& caption) {
  const int x = kLeft + n * kCell + 24, width = 16, height = n * kCell;
  svg << absl::StrFormat(
      "<rect class=\"colour-bar\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" "
      "fill=\"url(#colour-scale)\" stroke=\"#444444\"/>\n",
      x, kTop, width, height);
  const int ticks = c.best < 0 ? 0 : c.hi > c.lo ? 5 : 1;
  for (int k = 0; k < ticks; ++k) {
    const double pos = ticks == 1 ? 0 : k / 4.0;
    const double y = kTop + height - pos * height;
    const double v = scale.ToAxis(ScaleValue(c, pos));
    svg << absl::StrFormat(
        "<line x1=\"%d\" y1=\"%.2f\" x2=\"%d\" y2=\"%.2f\" stroke=\"#444444\"/>"
        "<text class=\"colour-bar-tick\" x=\"%d\" y=\"%.2f\">%s</text>\n",
        x + width, y, x + width + 4, y, x + width + 7, y + 4, units::Digits3(v));
  }
  const int cx = x + width + 56, cy = kTop + height / 2;
  svg << absl::StrFormat(
      "<text class=\"colour-bar-label\" x=\"%d\" y=\"%d\" text-anchor=\"middle\" "
      "transform=\"rotate(-90 %d %d)\">%s</text>\n",
      cx, cy, cx, cy, Escape(caption));
}

// What the box, the hatching and the dashed frames mean (each only when shown).
void HeatLegend(std::ostringstream& svg, const HeatCells& c, int n, const std::string& quantity) {
  int y = kTop + n * kCell + 56;
  const int x = kLeft;
  if (c.best >= 0) {
    svg << absl::StrFormat(
        "<rect x=\"%d\" y=\"%d\" width=\"14\" height=\"14\" fill=\"none\" stroke=\"%s\" "
        "stroke-width=\"3\"/><text class=\"legend\" x=\"%d\" y=\"%d\">best: lowest %s</text>\n",
        x, y, kBestColour, x + 22, y + 11, Escape(quantity));
    y += 20;
  }
  if (c.any_unplanned) {
    svg << absl::StrFormat(
        "<rect x=\"%d\" y=\"%d\" width=\"14\" height=\"14\" fill=\"%s\"/><text class=\"legend\" "
        "x=\"%d\" y=\"%d\">n/a: could not be planned (does not fit; hover for why)</text>\n",
        x, y, kUnplannedFill, x + 22, y + 11);
    y += 20;
  }
  if (c.evaluated < n * n && c.evaluated > 0)
    svg << absl::StrFormat(
        "<rect x=\"%d\" y=\"%d\" width=\"14\" height=\"14\" fill=\"white\" stroke=\"#999999\" "
        "stroke-dasharray=\"4 3\"/><text class=\"legend\" x=\"%d\" y=\"%d\">not evaluated "
        "(--budget)</text>\n",
        x, y, x + 22, y + 11);
}

}  // namespace

absl::StatusOr<std::string> HeatmapSvg(const ExploreResult& r, Objective objective,
                                       const FigureContext& context) {
  const HeatCells c = CollectCells(r, objective);
  // The figure boxes the lowest value of `objective`: a result ranked by
  // another objective would box a cell the report does not call best.
  if (r.best >= 0 && c.best >= 0 &&
      ObjectiveValue(r.evaluations[r.best].summary, objective) != c.value[c.best])
    return absl::InvalidArgumentError(absl::StrCat(
        "heatmap: the exploration's best (", r.evaluations[r.best].spec, ") is not the lowest ",
        ObjectiveName(objective), ": it was ranked by another objective"));
  const std::string quantity =
      c.expected ? absl::StrCat("expected ", ObjectiveName(objective), " under early exit")
                 : ObjectiveName(objective);
  const ObjectiveScale scale =
      MakeObjectiveScale(objective, c.best >= 0 ? c.hi : 0, c.largest_cycles, context.clock_hz);
  const int n = r.num_blocks + 1;
  const int width = std::max(kLeft + n * kCell + 130, 560);
  const int height = kTop + n * kCell + 56 + 3 * 20 + 10;
  std::ostringstream svg;
  svg << absl::StrFormat(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
      "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"11\">\n"
      "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
      "<text class=\"title\" text-anchor=\"middle\" font-size=\"13\">"
      "<tspan x=\"%d\" y=\"20\">%s</tspan><tspan x=\"%d\" y=\"38\">objective: %s</tspan>"
      "</text>\n",
      width, height, width, height, width / 2, Escape(FigureTitle(context)), width / 2,
      Escape(quantity));
  svg << HeatmapDefs();
  HeatCellsSvg(svg, r, c, scale, quantity);
  HeatAxes(svg, n);
  ColourBar(svg, c, n, scale, absl::StrCat(quantity, " (", scale.unit.name, ")"));
  HeatLegend(svg, c, n, quantity);
  svg << "</svg>\n";
  return svg.str();
}

namespace {

struct Stack {
  std::string label;
  std::vector<double> values;
};

void Bars(std::ostringstream& svg, int x0, int top, int h, const std::string& caption,
          const std::vector<std::string>& keys, const std::vector<Stack>& bars) {
  static const std::array<const char*, 4> kColors = {"#4e79a7", "#f28e2b", "#59a14f", "#e15759"};
  double max_total = 0;
  for (const Stack& b : bars) {
    double t = 0;
    for (double v : b.values) t += v;
    max_total = std::max(max_total, t);
  }
  svg << absl::StrFormat("<text x=\"%d\" y=\"%d\" font-size=\"12\">%s</text>\n", x0, top - 28,
                         Escape(caption));
  for (size_t i = 0; i < bars.size(); ++i) {
    const int x = x0 + 20 + static_cast<int>(i) * 90;
    double y = top + h;
    for (size_t k = 0; k < bars[i].values.size(); ++k) {
      const double bh = max_total > 0 ? bars[i].values[k] / max_total * h : 0;
      y -= bh;
      svg << absl::StrFormat(
          "<rect class=\"segment\" x=\"%d\" y=\"%.2f\" width=\"50\" height=\"%.2f\" fill=\"%s\">"
          "<title>%s %s: %.4g mJ</title></rect>\n",
          x, y, bh, kColors[k % kColors.size()], Escape(bars[i].label), keys[k],
          bars[i].values[k] / 1e9);
    }
    double total = 0;
    for (double v : bars[i].values) total += v;
    svg << absl::StrFormat("<text x=\"%d\" y=\"%.2f\" text-anchor=\"middle\">%.3g mJ</text>\n",
                           x + 25, y - 4, total / 1e9);
    svg << absl::StrFormat("<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s</text>\n", x + 25,
                           top + h + 14, Escape(bars[i].label));
  }
  for (size_t k = 0; k < keys.size(); ++k)
    svg << absl::StrFormat(
        "<rect x=\"%d\" y=\"%d\" width=\"10\" height=\"10\" fill=\"%s\"/>"
        "<text x=\"%d\" y=\"%d\">%s</text>\n",
        x0 + 210, top + 10 + static_cast<int>(k) * 16, kColors[k % kColors.size()], x0 + 224,
        top + 19 + static_cast<int>(k) * 16, keys[k]);
}

}  // namespace

std::string BreakdownSvg(const ExploreResult& r, const std::string& title) {
  std::ostringstream svg;
  svg << Header(620, 350, title);
  std::vector<Stack> by_component, by_operand;
  auto add = [&](const std::string& label, const plan::Summary& s) {
    by_component.push_back(
        {label, {s.energy.compute_pj, s.energy.local_pj, s.energy.sram_pj, s.energy.dram_pj}});
    std::vector<double> ops;
    for (const cost::EnergyBreakdown& e : s.energy_by_operand) ops.push_back(e.total_pj());
    by_operand.push_back({label, ops});
  };
  add("st-lbl", r.baseline.summary);
  if (r.best >= 0) add("best", r.evaluations[r.best].summary);
  Bars(svg, 20, 80, 200, "energy by component", {"compute", "local", "sram", "dram"}, by_component);
  Bars(svg, 320, 80, 200, "memory energy by operand", {"W", "I", "O", "S"}, by_operand);
  if (r.best >= 0)
    svg << absl::StrFormat("<text x=\"20\" y=\"330\">best: %s</text>\n",
                           Escape(r.evaluations[r.best].spec));
  svg << "</svg>\n";
  return svg.str();
}

}  // namespace snnplan::explore
