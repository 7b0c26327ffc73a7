// The commands' text reports (numbers people read, in scaled units from
// snnplan/units.h) and the JSON forms of the reports that had only text.
#include <algorithm>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "snnplan/costmodel.h"
#include "snnplan/frontend.h"
#include "snnplan/units.h"

namespace snnplan::frontend {
namespace {

double D(int64_t v) { return static_cast<double>(v); }

int64_t GlobalBufferBytes(const hw::Core& c) { return c.global_buffer().size_bits / 8; }

std::string EnergyParts(const cost::EnergyBreakdown& e) {
  return absl::StrCat(units::Energy(e.total_pj()), " (compute ", units::Energy(e.compute_pj),
                      ", local ", units::Energy(e.local_pj), ", sram ", units::Energy(e.sram_pj),
                      ", dram ", units::Energy(e.dram_pj), ")");
}

// Adds "latency_s" next to "latency_cycles" when the clock is known.
void AddLatencySeconds(nlohmann::json& j, double cycles, double clock_hz) {
  if (clock_hz > 0) j["latency_s"] = cycles / clock_hz;
}

// The figures of one explored schedule, as --json writes them.
nlohmann::json EvaluationJson(const explore::Evaluation& e, double clock_hz) {
  nlohmann::json j = {{"spec", e.spec}, {"feasible", e.feasible}};
  if (!e.feasible) {
    j["error"] = e.error;
    return j;
  }
  j["dram_bytes"] = e.summary.dram.total();
  j["energy_pj"] = e.summary.energy.total_pj();
  j["latency_cycles"] = e.summary.latency_cycles;
  AddLatencySeconds(j, D(e.summary.latency_cycles), clock_hz);
  j["objective"] = e.objective;
  return j;
}

// What the explore objective's value means, for text: bytes, pJ, cycles or pJ x cycles.
std::string ObjectiveText(const std::string& objective, double v) {
  if (objective == "dram") return units::Bytes(v);
  if (objective == "energy") return units::Energy(v);
  if (objective == "latency") return units::Cycles(v);
  return absl::StrFormat("%.3g pJ x cycles", v);  // edp
}

// The objective's name in a comparison phrase.
std::string ObjectiveQuantity(const std::string& objective) {
  if (objective == "dram") return "DRAM traffic";
  if (objective == "edp") return "energy-delay product";
  return objective;
}

// With --exit-profile: the best schedule's expected cost, and whether early
// exit changed which schedule is best (docs/early-exit.md).
std::string DescribeEarlyExit(const explore::ExploreResult& r, const ExploreFlags& f,
                              double clock_hz) {
  const explore::Evaluation& b = r.evaluations[r.best];
  if (!b.summary.expected) return "";
  const plan::ExpectedCost& x = *b.summary.expected;
  std::ostringstream out;
  out << absl::StrFormat("  early exit: %.3g timesteps on average; expected energy %s, DRAM "
                         "traffic %s, latency %s (ranked by expected %s)\n",
                         x.mean_timesteps, units::Energy(x.energy.total_pj()),
                         units::Bytes(x.dram_bytes()), units::Latency(x.latency_cycles, clock_hz),
                         ObjectiveQuantity(f.objective));
  const int fixed = explore::BestStatic(r, MakeExploreOptions(f).objective);
  if (fixed == r.best) {
    out << "  without early exit the same schedule is best\n";
    return out.str();
  }
  const explore::Evaluation& s = r.evaluations[fixed];
  const bool latency = f.objective == "latency";
  out << "  without early exit " << s.spec << " would be best; under the exit profile it expects "
      << ObjectiveText(f.objective, s.objective) << ", the best "
      << ObjectiveText(f.objective, b.objective) << ": "
      << units::Compare(b.objective, s.objective, ObjectiveQuantity(f.objective), "it",
                        latency ? "lower" : "less", latency ? "higher" : "more")
      << "\n";
  return out.str();
}

}  // namespace

bool DefaultHardware(const PlanFlags& f) { return !f.hardware_given && !f.hardware_object; }

std::string DescribeHardwareUse(const hw::Hardware& hw, bool default_hardware) {
  std::string out = absl::StrCat("hardware: ", hw.name, default_hardware ? " (default, no --hw)" : "");
  const int64_t first = GlobalBufferBytes(hw.cores.front());
  const bool same = std::all_of(hw.cores.begin(), hw.cores.end(), [&](const hw::Core& c) {
    return GlobalBufferBytes(c) == first;
  });
  if (hw.cores.size() == 1) {
    absl::StrAppend(&out, ", SRAM ", units::Bytes(D(first)));
  } else if (same) {
    absl::StrAppend(&out, ", ", hw.cores.size(), " cores, SRAM ", units::Bytes(D(first)), " each");
  } else {
    absl::StrAppend(&out, ", ", hw.cores.size(), " cores, SRAM");
    for (size_t c = 0; c < hw.cores.size(); ++c)
      absl::StrAppend(&out, c ? " + " : " ", units::Bytes(D(GlobalBufferBytes(hw.cores[c]))));
  }
  if (hw.clock_hz > 0) absl::StrAppend(&out, ", clock ", units::Frequency(hw.clock_hz));
  return out + "\n";
}

std::string DescribePlan(const plan::Plan& p, bool default_hardware) {
  return DescribeHardwareUse(plan::GetHardware(p), default_hardware) + plan::DescribeSummary(p);
}

std::string DescribeCost(const CostReport& report) {
  const cost::CostModel& model = *report.model;
  const double clock_hz = model.hardware().clock_hz;
  std::ostringstream out;
  out << DescribeHardwareUse(model.hardware(), /*default_hardware=*/false);
  cost::EnergyBreakdown total;
  double dram_bytes = 0;
  int64_t latency = 0;
  for (const CostLayerResult& r : report.layers) {
    const std::string activity =
        report.with_activity ? absl::StrFormat(", measured input density %g, output density %g",
                                               r.input_activity, r.output_activity)
                             : "";
    out << absl::StrFormat("layer %s (%s, density %g%s): %d tile(s); first tile:\n", r.name, r.op,
                           r.density, activity, r.tiles);
    out << cost::Describe(*r.first, model.core(), clock_hz);
    out << "  layer total: " << EnergyParts(r.energy) << ", DRAM " << units::Bytes(r.dram_bytes)
        << ", " << units::Latency(D(r.latency_cycles), clock_hz) << "\n\n";
    total += r.energy;
    dram_bytes += r.dram_bytes;
    latency += r.latency_cycles;
  }
  out << "total: " << EnergyParts(total) << ", DRAM " << units::Bytes(dram_bytes) << ", "
      << units::Latency(D(latency), clock_hz) << "\n";
  out << absl::StrFormat("search: %s unique tiles priced, %s cache hits, %s\n",
                         units::Grouped(model.cache_misses()), units::Grouped(model.cache_hits()),
                         units::Time(report.seconds));
  return out.str();
}

std::string DescribeExploredSize(const ExploredSize& size, const ExploreFlags& f) {
  const explore::ExploreResult& r = size.result;
  const double clock_hz = size.clock_hz;
  std::ostringstream out;
  out << absl::StrFormat("== %s: %s schedules evaluated\n", size.label,
                         units::Grouped(static_cast<int64_t>(r.evaluations.size())));
  if (r.best < 0) {
    out << "no feasible schedule\n";
    return out.str();
  }
  const explore::Evaluation& b = r.evaluations[r.best];
  const plan::Summary& base = r.baseline.summary;
  const double best_dram = D(b.summary.dram.total()), base_dram = D(base.dram.total());
  out << "best: " << b.spec << "\n";
  out << "  DRAM traffic " << units::Bytes(best_dram) << ": "
      << units::Compare(best_dram, base_dram, "DRAM traffic", "st-lbl") << " ("
      << units::Bytes(base_dram) << ")\n";
  out << "  energy " << units::Energy(b.summary.energy.total_pj()) << ": "
      << units::Compare(b.summary.energy.total_pj(), base.energy.total_pj(), "energy", "st-lbl")
      << " (" << units::Energy(base.energy.total_pj()) << ")\n";
  out << "  latency " << units::Latency(D(b.summary.latency_cycles), clock_hz) << ": "
      << units::Compare(D(b.summary.latency_cycles), D(base.latency_cycles), "latency", "st-lbl",
                        "lower", "higher")
      << " (" << units::Cycles(D(base.latency_cycles)) << ")\n";
  const double bound = D(r.compulsory_dram_bytes);
  out << "  compulsory DRAM traffic (a lower bound for any schedule) " << units::Bytes(bound);
  if (bound > 0 && best_dram == bound)
    out << ": the best reaches it\n";
  else if (bound > 0)
    out << ": the best moves " << units::Ratio(best_dram / bound) << " of it\n";
  else
    out << "\n";
  out << DescribeEarlyExit(r, f, clock_hz);
  if (f.strategy != "search") return out.str();
  if (r.proven_optimal)
    out << absl::StrFormat("  proven optimal over the %s-schedule space\n",
                           r.space_size < 1e15 ? units::Grouped(static_cast<int64_t>(r.space_size))
                                               : absl::StrFormat("%.3g", r.space_size));
  else
    out << absl::StrFormat(
        "  not proven optimal (budget reached): objective lower bound %s, gap %.3g%% of the "
        "best\n",
        ObjectiveText(f.objective, r.lower_bound),
        100.0 * (b.objective - r.lower_bound) / std::max(b.objective, 1e-300));
  return out.str();
}

nlohmann::json ExploredSizeJson(const ExploredSize& size, const ExploreFlags& f) {
  const explore::ExploreResult& r = size.result;
  const double clock_hz = size.clock_hz;
  nlohmann::json j = {{"sram", size.label},
                      {"sram_bytes", size.sram_bytes},
                      {"strategy", f.strategy},
                      {"objective", f.objective},
                      {"evaluations", r.evaluations.size()},
                      {"space_size", r.space_size},
                      {"baseline", EvaluationJson(r.baseline, clock_hz)},
                      {"best", r.best >= 0 ? EvaluationJson(r.evaluations[r.best], clock_hz)
                                           : nlohmann::json()},
                      {"compulsory_dram_bytes", r.compulsory_dram_bytes}};
  if (r.best >= 0 && r.evaluations[r.best].summary.expected) {
    const plan::ExpectedCost& x = *r.evaluations[r.best].summary.expected;
    j["best"]["expected"] = {{"mean_timesteps", x.mean_timesteps},
                             {"energy_pj", x.energy.total_pj()},
                             {"dram_bytes", x.dram_bytes()},
                             {"latency_cycles", x.latency_cycles}};
    const int fixed = explore::BestStatic(r, MakeExploreOptions(f).objective);
    j["best_without_early_exit"] = EvaluationJson(r.evaluations[fixed], clock_hz);
  }
  if (f.strategy == "search") {
    j["proven_optimal"] = r.proven_optimal;
    j["objective_lower_bound"] = r.lower_bound;
  }
  return j;
}

nlohmann::json ExploreJson(const ir::Workload& w, const hw::Hardware& hw,
                           const std::vector<nlohmann::json>& sizes) {
  return ExploreJson(w.model_file, hw.name, hw.clock_hz, sizes);
}

nlohmann::json ExploreJson(const std::string& model_file, const std::string& hardware_name,
                           double clock_hz, const std::vector<nlohmann::json>& sizes) {
  nlohmann::json j = {
      {"model", model_file}, {"hardware", {{"name", hardware_name}}}, {"sizes", sizes}};
  if (clock_hz > 0) j["hardware"]["clock_hz"] = clock_hz;
  return j;
}

namespace {

// Core ids per layer, blocks separated by '|': "0,0,0|1,1|2,2".
std::string CoresByBlock(const ir::Workload& w, const plan::CoreAllocation& a) {
  std::string out;
  for (size_t l = 0; l < w.layers.size(); ++l) {
    if (l > 0) out += w.layers[l].block != w.layers[l - 1].block ? "|" : ",";
    absl::StrAppend(&out, a.layer_core[l]);
  }
  return out;
}

std::string PointText(const char* label, const explore::Individual& ind, const ir::Workload& w,
                      const hw::Hardware& hw) {
  if (!ind.objectives.feasible)
    return absl::StrFormat("%-12s infeasible: %s\n", label, ind.objectives.error);
  return absl::StrFormat("%-12s latency %-*s energy %-9s cores %s\n", label,
                         hw.clock_hz > 0 ? 24 : 13,
                         units::Latency(ind.objectives.latency_cycles, hw.clock_hz),
                         units::Energy(ind.objectives.energy_pj),
                         CoresByBlock(w, explore::ToAllocation(ind.genome, hw)));
}

nlohmann::json PointJson(const explore::Individual& ind, const ir::Workload& w,
                         const hw::Hardware& hw) {
  nlohmann::json j = {{"feasible", ind.objectives.feasible}};
  if (!ind.objectives.feasible) {
    j["error"] = ind.objectives.error;
    return j;
  }
  j["latency_cycles"] = ind.objectives.latency_cycles;
  AddLatencySeconds(j, ind.objectives.latency_cycles, hw.clock_hz);
  j["energy_pj"] = ind.objectives.energy_pj;
  const plan::CoreAllocation a = explore::ToAllocation(ind.genome, hw);
  nlohmann::json cores = nlohmann::json::object();
  for (size_t l = 0; l < w.layers.size(); ++l) cores[w.layers[l].name] = a.layer_core[l];
  j["allocation"] = cores;
  return j;
}

}  // namespace

std::string DescribeAllocation(const AllocateResult& result, const AllocateFlags& f) {
  const explore::GaOptions& ga = f.ga;
  const explore::AllocationSearch& r = result.search;
  const ir::Workload& w = result.planner->workload();
  const hw::Hardware& hw = result.planner->hardware();
  std::ostringstream out;
  out << DescribeHardwareUse(hw, DefaultHardware(f.plan));
  out << absl::StrFormat("allocate: %d layers on %d cores; %s allocations evaluated in %s\n",
                         w.layers.size(), hw.cores.size(), units::Grouped(r.ga.evaluations),
                         units::Time(result.seconds));
  if (ga.budget > 0 && r.ga.generations < ga.generations)
    out << absl::StrFormat("budget of %d evaluations reached after generation %d of %d\n",
                           ga.budget, r.ga.generations, ga.generations);
  if (r.single_core_index >= 0)
    out << PointText("single core", r.ga.evaluated[r.single_core_index], w, hw);
  if (r.greedy_index >= 0) out << PointText("greedy", r.ga.evaluated[r.greedy_index], w, hw);
  out << absl::StrFormat("pareto front: %d points (cores per layer, blocks split by |)\n",
                         r.ga.pareto.size());
  for (int i : r.ga.pareto)
    out << PointText(i == r.ga.min_energy ? "* min energy" : "", r.ga.evaluated[i], w, hw);
  if (r.ga.min_energy >= 0 && r.single_core_index >= 0 &&
      r.ga.evaluated[r.single_core_index].objectives.feasible) {
    const auto& best = r.ga.evaluated[r.ga.min_energy].objectives;
    const auto& base = r.ga.evaluated[r.single_core_index].objectives;
    out << "min-energy point: "
        << units::Compare(best.energy_pj, base.energy_pj, "energy", "single core") << "; "
        << units::Compare(best.latency_cycles, base.latency_cycles, "latency", "single core",
                          "lower", "higher")
        << "\n";
  }
  return out.str();
}

nlohmann::json AllocationJson(const AllocateResult& result) {
  const explore::AllocationSearch& r = result.search;
  const ir::Workload& w = result.planner->workload();
  const hw::Hardware& hw = result.planner->hardware();
  auto point = [&](int i) {
    return i >= 0 ? PointJson(r.ga.evaluated[i], w, hw) : nlohmann::json();
  };
  nlohmann::json pareto = nlohmann::json::array();
  for (int i : r.ga.pareto) {
    pareto.push_back(PointJson(r.ga.evaluated[i], w, hw));
    pareto.back()["min_energy"] = i == r.ga.min_energy;
  }
  nlohmann::json j = {{"model", w.model_file},
                      {"hardware", {{"name", hw.name}, {"cores", hw.cores.size()}}},
                      {"schedule", plan::FormatSchedule(result.schedule)},
                      {"evaluations", r.ga.evaluations},
                      {"generations", r.ga.generations},
                      {"single_core", point(r.single_core_index)},
                      {"greedy", point(r.greedy_index)},
                      {"pareto", pareto}};
  if (hw.clock_hz > 0) j["hardware"]["clock_hz"] = hw.clock_hz;
  return j;
}

nlohmann::json ValidationJson(const std::string& manifest,
                              const std::vector<validate::Violation>& violations) {
  nlohmann::json list = nlohmann::json::array();
  for (const validate::Violation& v : violations)
    list.push_back({{"check", v.check}, {"message", v.message}});
  return {{"manifest", manifest}, {"valid", violations.empty()}, {"violations", list}};
}

}  // namespace snnplan::frontend
