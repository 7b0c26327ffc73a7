// SVG figures of an exploration: the grid heatmap (paper Figure 8) and the
// baseline-vs-best energy breakdown (Figures 9 and 11).
#include <algorithm>
#include <array>
#include <cmath>
#include <sstream>

#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "snnplan/explore.h"

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

std::string HeatmapSvg(const ExploreResult& r, const std::string& title) {
  const int n = r.num_blocks + 1, cell = 56, left = 90, top = 40;
  const int width = left + n * cell + 120, height = top + n * cell + 60;
  double lo = INFINITY, hi = 0;
  for (const Evaluation& e : r.evaluations)
    if (e.feasible && e.fused_blocks >= 0) {
      lo = std::min(lo, e.summary.energy.dram_pj);
      hi = std::max(hi, e.summary.energy.dram_pj);
    }
  // Position on the ramp: low DRAM energy = bright, high = dark (log scale).
  auto ramp_pos = [&](double v) {
    if (!(hi > lo) || v <= 0 || lo <= 0) return 0.5;
    return 1.0 - (std::log(v) - std::log(lo)) / (std::log(hi) - std::log(lo));
  };
  std::ostringstream svg;
  svg << Header(width, height, title);
  for (size_t i = 0; i < r.evaluations.size(); ++i) {
    const Evaluation& e = r.evaluations[i];
    if (e.fused_blocks < 0) continue;
    const int x = left + e.batched_blocks * cell;
    const int y = top + (n - 1 - e.fused_blocks) * cell;  // f = 0 at the bottom
    const bool best = static_cast<int>(i) == r.best;
    svg << absl::StrFormat(
        "<rect class=\"cell\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\" "
        "stroke=\"%s\" stroke-width=\"%d\"><title>%s: %s</title></rect>\n",
        x, y, cell, cell, e.feasible ? Ramp(ramp_pos(e.summary.energy.dram_pj)) : "#cccccc",
        best ? "#e00000" : "white", best ? 4 : 1, Escape(e.spec),
        e.feasible ? absl::StrFormat("DRAM %.4g mJ", e.summary.energy.dram_pj / 1e9)
                   : "infeasible");
    const bool dark = e.feasible && ramp_pos(e.summary.energy.dram_pj) < 0.45;
    svg << absl::StrFormat(
        "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" fill=\"%s\">%s</text>\n", x + cell / 2,
        y + cell / 2 + 4, dark ? "white" : "black",
        e.feasible ? absl::StrFormat("%.3g", e.summary.energy.dram_pj / 1e9) : "n/a");
  }
  for (int k = 0; k < n; ++k) {
    svg << absl::StrFormat("<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%d</text>\n",
                           left + k * cell + cell / 2, top + n * cell + 16, k);
    svg << absl::StrFormat("<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%d</text>\n", left - 6,
                           top + (n - 1 - k) * cell + cell / 2 + 4, k);
  }
  svg << absl::StrFormat(
      "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">blocks time-batched</text>\n"
      "<text x=\"20\" y=\"%d\" text-anchor=\"middle\" transform=\"rotate(-90 20 %d)\">blocks "
      "layer-fused</text>\n"
      "<text x=\"%d\" y=\"%d\">DRAM energy (mJ)</text>\n"
      "<text x=\"%d\" y=\"%d\">red = best</text>\n",
      left + n * cell / 2, top + n * cell + 36, top + n * cell / 2, top + n * cell / 2,
      left + n * cell + 10, top + 10, left + n * cell + 10, top + 26);
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
