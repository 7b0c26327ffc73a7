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
#include "snnplan/units.h"

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

// A tick's text in its axis unit, with as many decimals as the step needs
// ("20", "22.5", "0.05").
std::string TickLabel(double v, double step) {
  const int decimals = std::max(0, static_cast<int>(-std::floor(std::log10(step) + 1e-9)));
  std::string s = absl::StrFormat("%.*f", decimals, v);
  return s == absl::StrFormat("-%.*f", decimals, 0.0) ? s.substr(1) : s;  // no "-0"
}

// Plot geometry in pixels: the data area, with the legend to its right.
constexpr int kWidth = 760, kHeight = 480;
constexpr int kLeft = 90, kRight = 590, kTop = 56, kBottom = 410;
constexpr const char* kFrontColor = "#1f77b4";
constexpr const char* kSeedColor = "#2ca02c";
constexpr const char* kMinEnergyColor = "#d62728";

// Axes in auto-scaled units: latency in cycles (k, M ...) or, with a clock,
// time; energy in pJ, µJ, mJ ... Values are mapped in those units.
struct Plot {
  ObjectiveScale x_unit, y_unit;
  Axis x, y;
  double X(double latency_cycles) const {
    return x.Map(x_unit.ToAxis(latency_cycles), kLeft, kRight);
  }
  double Y(double energy_pj) const { return y.Map(y_unit.ToAxis(energy_pj), kBottom, kTop); }
};

Plot MakePlot(const GaResult& r, double clock_hz) {
  double x_lo = INFINITY, x_hi = -INFINITY, y_lo = INFINITY, y_hi = -INFINITY;
  for (const Individual& ind : r.evaluated) {
    if (!ind.objectives.feasible) continue;
    x_lo = std::min(x_lo, ind.objectives.latency_cycles);
    x_hi = std::max(x_hi, ind.objectives.latency_cycles);
    y_lo = std::min(y_lo, ind.objectives.energy_pj);
    y_hi = std::max(y_hi, ind.objectives.energy_pj);
  }
  Plot p;
  if (!(x_lo <= x_hi)) {  // nothing feasible: a unit frame
    p.x_unit = MakeObjectiveScale(Objective::kLatency, 0, 0, clock_hz);
    p.y_unit = MakeObjectiveScale(Objective::kEnergy, 0, 0, clock_hz);
    return p;
  }
  p.x_unit = MakeObjectiveScale(Objective::kLatency, x_hi, x_hi, clock_hz);
  p.y_unit = MakeObjectiveScale(Objective::kEnergy, y_hi, 0, clock_hz);
  p.x = Axis::Nice(p.x_unit.ToAxis(x_lo), p.x_unit.ToAxis(x_hi));
  p.y = Axis::Nice(p.y_unit.ToAxis(y_lo), p.y_unit.ToAxis(y_hi));
  return p;
}

void Axes(std::ostringstream& svg, const Plot& p) {
  svg << absl::StrFormat(
      "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#444444\"/>\n",
      kLeft, kTop, kRight - kLeft, kBottom - kTop);
  for (double v : p.x.Ticks()) {
    const double px = p.x.Map(v, kLeft, kRight);
    svg << absl::StrFormat(
        "<line x1=\"%.2f\" y1=\"%d\" x2=\"%.2f\" y2=\"%d\" stroke=\"#444444\"/>"
        "<text class=\"tick\" x=\"%.2f\" y=\"%d\" text-anchor=\"middle\">%s</text>\n",
        px, kBottom, px, kBottom + 5, px, kBottom + 18, TickLabel(v, p.x.step));
  }
  for (double v : p.y.Ticks()) {
    const double py = p.y.Map(v, kBottom, kTop);
    svg << absl::StrFormat(
        "<line x1=\"%d\" y1=\"%.2f\" x2=\"%d\" y2=\"%.2f\" stroke=\"#444444\"/>"
        "<text class=\"tick\" x=\"%d\" y=\"%.2f\" text-anchor=\"end\">%s</text>\n",
        kLeft - 5, py, kLeft, py, kLeft - 8, py + 4, TickLabel(v, p.y.step));
  }
  const int mid_y = (kTop + kBottom) / 2;
  svg << absl::StrFormat(
      "<text class=\"axis-label\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">latency (%s)</text>\n"
      "<text class=\"axis-label\" x=\"22\" y=\"%d\" text-anchor=\"middle\" "
      "transform=\"rotate(-90 22 %d)\">energy (%s)</text>\n",
      (kLeft + kRight) / 2, kBottom + 40, p.x_unit.unit.name, mid_y, mid_y, p.y_unit.unit.name);
}

std::string Tooltip(const GaResult& r, int i) {
  const Individual& ind = r.evaluated[i];
  return Escape(
      absl::StrFormat("#%d (generation %d%s): %s, %s, genome %s", i, ind.generation,
                      ind.seeded ? ", seeded" : "", units::Cycles(ind.objectives.latency_cycles),
                      units::Energy(ind.objectives.energy_pj), absl::StrJoin(ind.genome, ";")));
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

// Seeded points: a diamond around the marker (its label is placed with the others).
void Seeds(std::ostringstream& svg, const GaResult& r, const Plot& p) {
  for (const Individual& ind : r.evaluated) {
    if (!ind.seeded || !ind.objectives.feasible) continue;
    const double x = p.X(ind.objectives.latency_cycles), y = p.Y(ind.objectives.energy_pj);
    svg << absl::StrFormat(
        "<path class=\"seed\" d=\"M%.2f %.2f L%.2f %.2f L%.2f %.2f L%.2f %.2f Z\" fill=\"none\" "
        "stroke=\"%s\" stroke-width=\"1.5\"/>\n",
        x, y - 8, x + 8, y, x, y + 8, x - 8, y, kSeedColor);
  }
}

void MinEnergyMark(std::ostringstream& svg, const GaResult& r, const Plot& p) {
  if (r.min_energy < 0) return;
  const AllocationObjectives& o = r.evaluated[r.min_energy].objectives;
  svg << absl::StrFormat(
      "<circle class=\"min-energy\" cx=\"%.2f\" cy=\"%.2f\" r=\"9\" fill=\"none\" stroke=\"%s\" "
      "stroke-width=\"2\"/>\n",
      p.X(o.latency_cycles), p.Y(o.energy_pj), kMinEnergyColor);
}

// ---- label placement

// Text boxes at 11 px sans-serif: at most 0.6 em per character (digits are
// 0.556 em in the usual sans faces), 0.8 em above the baseline, 0.25 em below.
constexpr double kCharWidth = 6.6, kAscent = 9, kDescent = 3;

struct Box {
  double x0, y0, x1, y1;
  bool Overlaps(const Box& o) const { return x0 < o.x1 && o.x0 < x1 && y0 < o.y1 && o.y0 < y1; }
};

double TextWidth(const std::string& text) {
  size_t chars = 0;  // UTF-8 code points
  for (unsigned char c : text) chars += (c & 0xC0) != 0x80;
  return static_cast<double>(chars) * kCharWidth;
}

struct Label {
  std::string text;
  const char* color;
  double px, py, radius;  // the point and its marker's radius
};

// What a label must not cover: every marker drawn (seed diamonds and the
// min-energy ring included).
// The extent of the marks drawn on point i: dot, seed diamond, min-energy ring.
double MarkerRadius(const GaResult& r, int i) {
  return i == r.min_energy ? 10 : r.evaluated[i].seeded ? 8 : 4.5;
}

std::vector<Box> MarkerBoxes(const GaResult& r, const Plot& p) {
  std::vector<Box> boxes;
  for (size_t i = 0; i < r.evaluated.size(); ++i) {
    const AllocationObjectives& o = r.evaluated[i].objectives;
    if (!o.feasible) continue;
    const double x = p.X(o.latency_cycles), y = p.Y(o.energy_pj);
    const double radius = MarkerRadius(r, static_cast<int>(i));
    boxes.push_back({x - radius, y - radius, x + radius, y + radius});
  }
  return boxes;
}

// Labels in priority order: the minimum-energy point, the seeds, then every
// front point by its CSV index (latency order).
std::vector<Label> Labels(const GaResult& r, const Plot& p) {
  std::vector<Label> labels;
  auto at = [&](int i, std::string text, const char* color) {
    const AllocationObjectives& o = r.evaluated[i].objectives;
    labels.push_back(
        {std::move(text), color, p.X(o.latency_cycles), p.Y(o.energy_pj), MarkerRadius(r, i)});
  };
  if (r.min_energy >= 0) at(r.min_energy, "min energy", kMinEnergyColor);
  for (size_t i = 0; i < r.evaluated.size(); ++i)
    if (r.evaluated[i].seeded && r.evaluated[i].objectives.feasible)
      at(static_cast<int>(i), absl::StrFormat("seed %d", r.evaluated[i].seed), kSeedColor);
  for (int i : r.pareto) at(i, absl::StrCat("#", i), kFrontColor);
  return labels;
}

// The box of `text` placed in direction (dx, dy) (each -1, 0 or 1) at
// `gap` pixels from the point's marker.
Box Candidate(const Label& l, double w, int dx, int dy, double gap) {
  const double h = kAscent + kDescent, d = l.radius + gap;
  const double cx = l.px + dx * (d + w / 2), cy = l.py + dy * (d + h / 2);
  return {cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2};
}

bool Fits(const Box& b, const std::vector<Box>& taken) {
  if (b.x0 < kLeft + 1 || b.x1 > kRight - 1 || b.y0 < kTop + 1 || b.y1 > kBottom - 1) return false;
  for (const Box& t : taken)
    if (b.Overlaps(t)) return false;
  return true;
}

// Places labels first come, first served: the eight positions around the
// point, then the same eight further out with a leader line; a label with
// no free position is left out of the plot and listed in the legend.
// Deterministic: a fixed order of labels and candidates.
std::vector<std::string> PlaceLabels(std::ostringstream& svg, const GaResult& r, const Plot& p) {
  static constexpr int kDirections[8][2] = {{1, 0},  {1, -1}, {0, -1}, {-1, -1},
                                            {-1, 0}, {-1, 1}, {0, 1},  {1, 1}};
  std::vector<Box> taken = MarkerBoxes(r, p);
  std::vector<std::string> omitted;
  for (const Label& l : Labels(r, p)) {
    const double w = TextWidth(l.text);
    bool placed = false;
    for (double gap : {2.0, 18.0}) {
      for (const auto& [dx, dy] : kDirections) {
        const Box b = Candidate(l, w, dx, dy, gap);
        if (!Fits(b, taken)) continue;
        taken.push_back(b);
        if (gap > 2.0)  // from the marker's edge to the box's nearest point
          svg << absl::StrFormat(
              "<line class=\"leader\" x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" "
              "stroke=\"%s\" stroke-width=\"0.75\"/>\n",
              l.px + dx * l.radius * 0.7, l.py + dy * l.radius * 0.7, std::clamp(l.px, b.x0, b.x1),
              std::clamp(l.py, b.y0, b.y1), l.color);
        svg << absl::StrFormat(
            "<text class=\"label\" x=\"%.2f\" y=\"%.2f\" fill=\"%s\">%s</text>\n", b.x0,
            b.y1 - kDescent, l.color, Escape(l.text));
        placed = true;
        break;
      }
      if (placed) break;
    }
    if (!placed) omitted.push_back(l.text);
  }
  return omitted;
}

void Legend(std::ostringstream& svg, const std::vector<std::string>& omitted) {
  const int x = kRight + 20, y = kTop + 10;
  svg << absl::StrFormat(
      "<circle cx=\"%d\" cy=\"%d\" r=\"3\" fill=\"#b0b0b0\"/>"
      "<text x=\"%d\" y=\"%d\">evaluated</text>\n"
      "<circle cx=\"%d\" cy=\"%d\" r=\"4.5\" fill=\"%s\"/>"
      "<text x=\"%d\" y=\"%d\">Pareto front (#CSV row)</text>\n"
      "<path d=\"M%d %d L%d %d L%d %d L%d %d Z\" fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\"/>"
      "<text x=\"%d\" y=\"%d\">seeded</text>\n"
      "<circle cx=\"%d\" cy=\"%d\" r=\"7\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\"/>"
      "<text x=\"%d\" y=\"%d\">min energy</text>\n",
      x, y, x + 14, y + 4, x, y + 20, kFrontColor, x + 14, y + 24, x, y + 32, x + 8, y + 40, x,
      y + 48, x - 8, y + 40, kSeedColor, x + 14, y + 44, x, y + 60, kMinEnergyColor, x + 14,
      y + 64);
  if (omitted.empty()) return;
  // Labels with no room in the plot, several to a line, as far as the column goes.
  int line_y = y + 92;
  svg << absl::StrFormat("<text class=\"omitted\" x=\"%d\" y=\"%d\">no room to label:</text>\n",
                         x - 8, line_y);
  std::string line;
  size_t shown = 0;
  for (size_t i = 0; i <= omitted.size(); ++i) {
    const bool last = i == omitted.size();
    const std::string next = last ? "" : (line.empty() ? omitted[i] : ", " + omitted[i]);
    if (!last && TextWidth(line + next) <= kWidth - x - 4) {
      line += next;
      ++shown;
      continue;
    }
    line_y += 14;
    if (line_y > kBottom) break;
    svg << absl::StrFormat("<text class=\"omitted\" x=\"%d\" y=\"%d\">%s</text>\n", x - 8, line_y,
                           Escape(line));
    if (last) break;
    line = omitted[i];
    ++shown;
  }
  if (shown < omitted.size())
    svg << absl::StrFormat("<text class=\"omitted\" x=\"%d\" y=\"%d\">(+%d more)</text>\n", x - 8,
                           std::min(line_y + 14, kHeight - 6), omitted.size() - shown);
}

}  // namespace

std::string ParetoSvg(const GaResult& r, const std::string& title, double clock_hz) {
  int feasible = 0;
  for (const Individual& ind : r.evaluated) feasible += ind.objectives.feasible ? 1 : 0;
  const Plot plot = MakePlot(r, clock_hz);
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
  Legend(svg, PlaceLabels(svg, r, plot));
  svg << "</svg>\n";
  return svg.str();
}

}  // namespace snnplan::explore
