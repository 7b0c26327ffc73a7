// Views of an allocation search: the CSV of every evaluated individual and
// the latency-energy scatter plot with its Pareto front.
#include <algorithm>
#include <cmath>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "snnplan/allocate.h"
#include "snnplan/explore.h"

namespace snnplan::explore {
namespace {

std::string Escape(const std::string& s) {
  return absl::StrReplaceAll(s, {{"&", "&amp;"}, {"<", "&lt;"}, {">", "&gt;"}, {"\"", "&quot;"}});
}

// RFC 4180: a field holding a separator, quote or line break is quoted, with
// its quotes doubled, so a caller's genome text cannot shift the columns.
std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  return absl::StrCat("\"", absl::StrReplaceAll(s, {{"\"", "\"\""}}), "\"");
}

std::vector<bool> OnFront(const GaResult& r) {
  std::vector<bool> on(r.evaluated.size(), false);
  for (int i : r.pareto) on[i] = true;
  return on;
}

}  // namespace

std::string ParetoCsv(const GaResult& r,
                      const std::function<std::string(const Genome&)>& format_genome,
                      const cost::ActivityFile* activity) {
  const std::vector<bool> on_front = OnFront(r);
  const std::string activity_columns = CsvActivityColumns(activity);
  std::string csv =
      absl::StrCat("index,generation,seeded,feasible,pareto,latency_cycles,energy_pj,genome",
                   activity ? ",activity_file,activity_sha256" : "", "\n");
  for (size_t i = 0; i < r.evaluated.size(); ++i) {
    const Individual& ind = r.evaluated[i];
    const AllocationObjectives& o = ind.objectives;
    // An infeasible individual has no meaningful objectives: leave them empty
    // rather than print zeros that would look like the best point.
    const std::string latency = o.feasible ? absl::StrFormat("%.12g", o.latency_cycles) : "";
    const std::string energy = o.feasible ? absl::StrFormat("%.12g", o.energy_pj) : "";
    const std::string genome =
        format_genome ? format_genome(ind.genome) : absl::StrJoin(ind.genome, ";");
    absl::StrAppendFormat(&csv, "%d,%d,%s,%s,%s,%s,%s,%s%s\n", i, ind.generation,
                          ind.seeded ? "true" : "false", o.feasible ? "true" : "false",
                          on_front[i] ? "true" : "false", latency, energy, CsvField(genome),
                          activity_columns);
  }
  return csv;
}

namespace {

// A linear axis over [lo, hi] rounded out to a 1-2-5 tick step, about five
// ticks; a degenerate range is widened so every point lands inside.
struct Axis {
  double lo = 0, hi = 1, step = 0.2;

  static Axis Nice(double lo, double hi) {
    if (!(hi > lo)) {
      const double pad = lo != 0 ? std::abs(lo) * 0.1 : 1.0;
      lo -= pad;
      hi += pad;
    }
    const double raw = (hi - lo) / 5;
    const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
    const double norm = raw / magnitude;
    const double step = (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10) * magnitude;
    return {std::floor(lo / step) * step, std::ceil(hi / step) * step, step};
  }
  std::vector<double> Ticks() const {
    std::vector<double> ticks;
    for (int k = 0; lo + k * step <= hi + step * 1e-9; ++k) {
      const double v = lo + k * step;
      ticks.push_back(std::abs(v) < step * 1e-9 ? 0.0 : v);  // no "-0" label
    }
    return ticks;
  }
  // Position of v between pixel coordinates a (at lo) and b (at hi).
  double Map(double v, double a, double b) const { return a + (v - lo) / (hi - lo) * (b - a); }
};

// Plain digits up to a million cycles or pJ ("20000", not "2e+04"), then
// three significant digits in exponent form.
std::string TickLabel(double v) {
  const double a = std::abs(v);
  return a != 0 && (a >= 1e6 || a < 1e-3) ? absl::StrFormat("%.3g", v) : absl::StrFormat("%.6g", v);
}

// Plot geometry in pixels: the data area, with the legend to its right.
constexpr int kWidth = 760, kHeight = 480;
constexpr int kLeft = 90, kRight = 590, kTop = 56, kBottom = 410;
constexpr const char* kFrontColor = "#1f77b4";
constexpr const char* kSeedColor = "#2ca02c";
constexpr const char* kMinEnergyColor = "#d62728";

struct Plot {
  Axis x, y;
  double X(double latency_cycles) const { return x.Map(latency_cycles, kLeft, kRight); }
  double Y(double energy_pj) const { return y.Map(energy_pj, kBottom, kTop); }
};

Plot MakePlot(const GaResult& r) {
  double x_lo = INFINITY, x_hi = -INFINITY, y_lo = INFINITY, y_hi = -INFINITY;
  for (const Individual& ind : r.evaluated) {
    if (!ind.objectives.feasible) continue;
    x_lo = std::min(x_lo, ind.objectives.latency_cycles);
    x_hi = std::max(x_hi, ind.objectives.latency_cycles);
    y_lo = std::min(y_lo, ind.objectives.energy_pj);
    y_hi = std::max(y_hi, ind.objectives.energy_pj);
  }
  if (!(x_lo <= x_hi)) return Plot{};  // nothing feasible: a unit frame
  return Plot{Axis::Nice(x_lo, x_hi), Axis::Nice(y_lo, y_hi)};
}

void Axes(std::ostringstream& svg, const Plot& p) {
  svg << absl::StrFormat(
      "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#444444\"/>\n",
      kLeft, kTop, kRight - kLeft, kBottom - kTop);
  for (double v : p.x.Ticks()) {
    const double px = p.X(v);
    svg << absl::StrFormat(
        "<line x1=\"%.2f\" y1=\"%d\" x2=\"%.2f\" y2=\"%d\" stroke=\"#444444\"/>"
        "<text x=\"%.2f\" y=\"%d\" text-anchor=\"middle\">%s</text>\n",
        px, kBottom, px, kBottom + 5, px, kBottom + 18, TickLabel(v));
  }
  for (double v : p.y.Ticks()) {
    const double py = p.Y(v);
    svg << absl::StrFormat(
        "<line x1=\"%d\" y1=\"%.2f\" x2=\"%d\" y2=\"%.2f\" stroke=\"#444444\"/>"
        "<text x=\"%d\" y=\"%.2f\" text-anchor=\"end\">%s</text>\n",
        kLeft - 5, py, kLeft, py, kLeft - 8, py + 4, TickLabel(v));
  }
  const int mid_y = (kTop + kBottom) / 2;
  svg << absl::StrFormat(
      "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">latency (cycles)</text>\n"
      "<text x=\"22\" y=\"%d\" text-anchor=\"middle\" transform=\"rotate(-90 22 %d)\">"
      "energy (pJ)</text>\n",
      (kLeft + kRight) / 2, kBottom + 40, mid_y, mid_y);
}

std::string Tooltip(const GaResult& r, int i) {
  const Individual& ind = r.evaluated[i];
  return Escape(absl::StrFormat("#%d (generation %d%s): %.6g cycles, %.6g pJ, genome %s", i,
                                ind.generation, ind.seeded ? ", seeded" : "",
                                ind.objectives.latency_cycles, ind.objectives.energy_pj,
                                absl::StrJoin(ind.genome, ";")));
}

// One marker per feasible point: grey off the front, coloured on it.
void Points(std::ostringstream& svg, const GaResult& r, const Plot& p) {
  const std::vector<bool> on_front = OnFront(r);
  for (size_t i = 0; i < r.evaluated.size(); ++i) {
    const AllocationObjectives& o = r.evaluated[i].objectives;
    if (!o.feasible || on_front[i]) continue;
    svg << absl::StrFormat(
        "<circle class=\"point\" cx=\"%.2f\" cy=\"%.2f\" r=\"3\" fill=\"#b0b0b0\">"
        "<title>%s</title></circle>\n",
        p.X(o.latency_cycles), p.Y(o.energy_pj), Tooltip(r, static_cast<int>(i)));
  }
  // The attainment staircase: from each front point right to the next
  // point's latency, then down to its energy (`pareto` is latency-sorted).
  std::string d;
  for (size_t k = 0; k < r.pareto.size(); ++k) {
    const AllocationObjectives& o = r.evaluated[r.pareto[k]].objectives;
    d += k == 0 ? absl::StrFormat("M%.2f %.2f", p.X(o.latency_cycles), p.Y(o.energy_pj))
                : absl::StrFormat(" H%.2f V%.2f", p.X(o.latency_cycles), p.Y(o.energy_pj));
  }
  if (!d.empty())
    svg << absl::StrFormat(
        "<path class=\"front-line\" d=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\"/>\n",
        d, kFrontColor);
  for (int i : r.pareto) {
    const AllocationObjectives& o = r.evaluated[i].objectives;
    svg << absl::StrFormat(
        "<circle class=\"front\" cx=\"%.2f\" cy=\"%.2f\" r=\"4.5\" fill=\"%s\">"
        "<title>%s</title></circle>\n",
        p.X(o.latency_cycles), p.Y(o.energy_pj), kFrontColor, Tooltip(r, i));
  }
}

// Seeded points: a diamond around the marker and a label naming the seed.
void Seeds(std::ostringstream& svg, const GaResult& r, const Plot& p) {
  for (const Individual& ind : r.evaluated) {
    if (!ind.seeded || !ind.objectives.feasible) continue;
    const double x = p.X(ind.objectives.latency_cycles), y = p.Y(ind.objectives.energy_pj);
    svg << absl::StrFormat(
        "<path class=\"seed\" d=\"M%.2f %.2f L%.2f %.2f L%.2f %.2f L%.2f %.2f Z\" fill=\"none\" "
        "stroke=\"%s\" stroke-width=\"1.5\"/>"
        "<text class=\"seed-label\" x=\"%.2f\" y=\"%.2f\" fill=\"%s\">%s</text>\n",
        x, y - 8, x + 8, y, x, y + 8, x - 8, y, kSeedColor, x + 10, y - 8, kSeedColor,
        Escape(absl::StrFormat("seed %d", ind.seed)));
  }
}

void MinEnergyMark(std::ostringstream& svg, const GaResult& r, const Plot& p) {
  if (r.min_energy < 0) return;
  const AllocationObjectives& o = r.evaluated[r.min_energy].objectives;
  const double x = p.X(o.latency_cycles), y = p.Y(o.energy_pj);
  svg << absl::StrFormat(
      "<circle class=\"min-energy\" cx=\"%.2f\" cy=\"%.2f\" r=\"9\" fill=\"none\" stroke=\"%s\" "
      "stroke-width=\"2\"/>"
      "<text x=\"%.2f\" y=\"%.2f\" fill=\"%s\">min energy</text>\n",
      x, y, kMinEnergyColor, x + 12, y + 16, kMinEnergyColor);
}

void Legend(std::ostringstream& svg) {
  const int x = kRight + 20, y = kTop + 10;
  svg << absl::StrFormat(
      "<circle cx=\"%d\" cy=\"%d\" r=\"3\" fill=\"#b0b0b0\"/>"
      "<text x=\"%d\" y=\"%d\">evaluated</text>\n"
      "<circle cx=\"%d\" cy=\"%d\" r=\"4.5\" fill=\"%s\"/>"
      "<text x=\"%d\" y=\"%d\">Pareto front</text>\n"
      "<path d=\"M%d %d L%d %d L%d %d L%d %d Z\" fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\"/>"
      "<text x=\"%d\" y=\"%d\">seeded</text>\n"
      "<circle cx=\"%d\" cy=\"%d\" r=\"7\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\"/>"
      "<text x=\"%d\" y=\"%d\">min energy</text>\n",
      x, y, x + 14, y + 4, x, y + 20, kFrontColor, x + 14, y + 24, x, y + 32, x + 8, y + 40, x,
      y + 48, x - 8, y + 40, kSeedColor, x + 14, y + 44, x, y + 60, kMinEnergyColor, x + 14,
      y + 64);
}

}  // namespace

std::string ParetoSvg(const GaResult& r, const std::string& title) {
  int feasible = 0;
  for (const Individual& ind : r.evaluated) feasible += ind.objectives.feasible ? 1 : 0;
  const Plot plot = MakePlot(r);
  std::ostringstream svg;
  svg << absl::StrFormat(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
      "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"11\">\n"
      "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
      "<text x=\"%d\" y=\"20\" text-anchor=\"middle\" font-size=\"14\">%s</text>\n"
      "<text x=\"%d\" y=\"38\" text-anchor=\"middle\" fill=\"#555555\">%d evaluated, %d "
      "feasible, %d on the Pareto front</text>\n",
      kWidth, kHeight, kWidth, kHeight, kWidth / 2, Escape(title), kWidth / 2, r.evaluated.size(),
      feasible, r.pareto.size());
  Axes(svg, plot);
  if (feasible == 0)
    svg << absl::StrFormat(
        "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">no feasible "
        "allocation</text>\n",
        (kLeft + kRight) / 2, (kTop + kBottom) / 2);
  Points(svg, r, plot);
  Seeds(svg, r, plot);
  MinEnergyMark(svg, r, plot);
  Legend(svg);
  svg << "</svg>\n";
  return svg.str();
}

}  // namespace snnplan::explore
