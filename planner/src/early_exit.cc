// Planning under early exit (DT-SNN): the exit profile file and the
// expected cost of a plan when inference may stop after any timestep.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "plan_internal.h"
#include "snnplan/input_file.h"

namespace snnplan::plan {
namespace {

using json = nlohmann::json;

// How far the probabilities may sum from 1 (they are printed with ~17
// significant digits, so only a hand-written file misses by more).
constexpr double kSumTolerance = 1e-6;

absl::Status At(const std::string& path, const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", what));
}

absl::Status CheckKeys(const json& doc) {
  static const std::set<std::string> kKnown = {
      "format",    "version", "policy",         "output",           "model", "model_sha256",
      "timesteps", "samples", "mean_timesteps", "exit_probability", "inputs"};
  for (const auto& [key, unused] : doc.items())
    if (kKnown.count(key) == 0)
      return At(key, absl::StrCat("unknown key (allowed: ", absl::StrJoin(kKnown, ", "), ")"));
  for (const char* key : {"format", "version", "timesteps", "exit_probability"})
    if (!doc.contains(key)) return At(key, "missing required field");
  return absl::OkStatus();
}

absl::Status ReadHeader(const json& doc, ExitProfile& p) {
  const std::pair<const char*, std::string*> strings[] = {{"policy", &p.policy},
                                                          {"output", &p.output},
                                                          {"model", &p.model},
                                                          {"model_sha256", &p.model_sha256}};
  for (const auto& [key, field] : strings) {
    if (!doc.contains(key)) continue;
    if (!doc.at(key).is_string())
      return At(key, absl::StrCat("expected a string, got ", doc.at(key).type_name()));
    *field = doc.at(key).get<std::string>();
  }
  if (doc.at("format") != kExitProfileFormat)
    return At("format", absl::StrCat("expected \"", kExitProfileFormat,
                                     "\" (snnplan run "
                                     "--exit-profile writes it), got ",
                                     doc.at("format").dump()));
  if (doc.at("version") != kExitProfileVersion)
    return At("version", absl::StrCat(doc.at("version").dump(), ": this snnplan reads version ",
                                      kExitProfileVersion));
  return absl::OkStatus();
}

absl::Status ReadProbabilities(const json& doc, int64_t timesteps, ExitProfile& p) {
  const json& t = doc.at("timesteps");
  if (!t.is_number_integer() || t.get<int64_t>() != timesteps)
    return At("timesteps", absl::StrCat("the profile is over ", t.dump(),
                                        " timesteps, the model runs ", timesteps));
  const json& probs = doc.at("exit_probability");
  if (!probs.is_object())
    return At("exit_probability", absl::StrCat("expected an object {\"1\": p1, ..., \"", timesteps,
                                               "\": pT}, got ", probs.type_name()));
  p.probability.assign(static_cast<size_t>(timesteps), 0.0);
  double sum = 0;
  for (const auto& [key, value] : probs.items()) {
    const std::string path = absl::StrCat("exit_probability.\"", key, "\"");
    int64_t step = 0;
    if (!absl::SimpleAtoi(key, &step) || step < 1 || step > timesteps)
      return At(path, absl::StrCat("not a timestep in 1..", timesteps));
    if (!value.is_number() || !(value.get<double>() >= 0 && value.get<double>() <= 1))
      return At(path, absl::StrCat("expected a probability in [0, 1], got ", value.dump()));
    p.probability[static_cast<size_t>(step - 1)] = value.get<double>();
    sum += value.get<double>();
  }
  if (std::fabs(sum - 1) > kSumTolerance)
    return At("exit_probability", absl::StrCat("the probabilities sum to ", sum, ", not 1"));
  return absl::OkStatus();
}

// The layer the named graph output comes from, or every network output.
absl::StatusOr<std::vector<int>> OutputLayers(const ir::Workload& w, const std::string& output) {
  std::vector<int> layers;
  if (output.empty()) {
    for (size_t l = 0; l < w.layers.size(); ++l)
      if (w.layers[l].network_output) layers.push_back(static_cast<int>(l));
    if (layers.empty()) return At("output", "not given, and the model marks no network output");
    return layers;
  }
  std::vector<std::string> names;
  for (const ir::Binding& b : w.outputs) {
    names.push_back(b.name);
    if (b.name != output) continue;
    if (b.layer < 0)
      return At("output",
                absl::StrCat("'", output, "' is not computed by any layer (", b.why, ")"));
    return std::vector<int>{b.layer};
  }
  return At("output", absl::StrCat("'", output, "' is not an output of ", w.model_file,
                                   " (its outputs: ", absl::StrJoin(names, ", "), ")"));
}

// Walks back from a mean over time (its tile waits for all T steps) and the
// layers run once after it to the per-step layers whose step-t outputs the
// check reads; the policy accumulates their mean itself.
absl::StatusOr<std::vector<int>> PerStepLayers(const ir::Workload& w, std::vector<int> stack) {
  std::vector<bool> seen(w.layers.size(), false);
  std::vector<int> out;
  while (!stack.empty()) {
    const int l = stack.back();
    stack.pop_back();
    if (l < 0 || seen[l]) continue;
    seen[l] = true;
    if (w.layers[l].dims.T == w.timesteps && w.layers[l].op != ir::OpKind::kTimeMean)
      out.push_back(l);
    else
      stack.insert(stack.end(), w.layers[l].inputs.begin(), w.layers[l].inputs.end());
  }
  if (out.empty()) return At("output", "depends on no layer that runs every timestep");
  std::sort(out.begin(), out.end());
  return out;
}

// When every exit layer's output of step t (1-based index t - 1) exists,
// and the execution-order index of the tile that completes it; cumulative:
// the policy reads steps 1..t.
void CheckPoints(const Plan& plan, const std::vector<int>& exit_layers, std::vector<int64_t>& cycle,
                 std::vector<int64_t>& tile) {
  const size_t steps = static_cast<size_t>(plan.workload->timesteps);
  cycle.assign(steps, 0);
  tile.assign(steps, -1);
  std::vector<bool> is_exit(plan.workload->layers.size(), false);
  for (int l : exit_layers) is_exit[l] = true;
  for (size_t i = 0; i < plan.tiles.size(); ++i) {
    const TileRecord& r = plan.tiles[i];
    const Tile& t = plan.graph.tiles[r.tile];
    if (!is_exit[t.layer]) continue;
    for (int64_t step = t.t.begin; step < t.t.end; ++step)
      if (r.end >= cycle[step]) {
        cycle[step] = r.end;
        tile[step] = static_cast<int64_t>(i);
      }
  }
  for (size_t step = 1; step < steps; ++step)
    if (cycle[step - 1] > cycle[step]) {
      cycle[step] = cycle[step - 1];
      tile[step] = tile[step - 1];
    }
}

// P(the batch exits after t steps): samples exit independently and the
// batch stops when its last one does, so P = F(t)^B - F(t-1)^B.
std::vector<double> BatchExitProbability(const std::vector<double>& sample, int64_t batch) {
  std::vector<double> out(sample.size());
  double cdf = 0, below = 0;
  for (size_t t = 0; t < sample.size(); ++t) {
    cdf = t + 1 == sample.size() ? 1.0 : std::min(1.0, cdf + sample[t]);
    const double at_most = std::pow(cdf, static_cast<double>(batch));
    out[t] = at_most - below;
    below = at_most;
  }
  return out;
}

cost::EnergyBreakdown Scaled(const cost::EnergyBreakdown& e, double p) {
  cost::EnergyBreakdown s;
  s.compute_pj = e.compute_pj * p;
  s.local_pj = e.local_pj * p;
  s.sram_pj = e.sram_pj * p;
  s.dram_pj = e.dram_pj * p;
  s.noc_pj = e.noc_pj * p;
  return s;
}

ExitStep StepCost(const Plan& plan, int64_t t, int64_t check_cycle, int64_t check_tile) {
  const bool last = t == plan.workload->timesteps;
  // After T steps nothing is skipped: the whole plan, to its last transfer.
  const Summary s = last ? plan.summary : AccountRecords(plan, check_cycle);
  ExitStep e;
  e.timesteps = t;
  e.check_cycle = check_cycle;
  e.check_after_tile = check_tile;
  e.latency_cycles = last ? plan.summary.latency_cycles : check_cycle;
  e.energy = s.energy;
  e.dram = s.dram;
  e.tiles = s.tiles;
  e.transfers = s.transfers;
  return e;
}

}  // namespace

ExpectedCost Expect(const Plan& plan, const ExitProfile& profile) {
  std::vector<int64_t> cycle, tile;
  CheckPoints(plan, profile.exit_layers, cycle, tile);
  const std::vector<double> p = BatchExitProbability(profile.probability, plan.workload->batch);
  ExpectedCost x;
  for (size_t i = 0; i < cycle.size(); ++i) {
    const int64_t t = static_cast<int64_t>(i) + 1;
    // Steps whose check falls at the same cycle spend the same records.
    if (i > 0 && cycle[i] == cycle[i - 1] && t != plan.workload->timesteps) {
      x.steps.push_back(x.steps.back());
      x.steps.back().timesteps = t;
    } else {
      x.steps.push_back(StepCost(plan, t, cycle[i], tile[i]));
    }
    ExitStep& e = x.steps.back();
    e.probability = p[i];
    x.mean_timesteps += p[i] * static_cast<double>(t);
    x.energy += Scaled(e.energy, p[i]);
    x.dram_read_bytes += p[i] * static_cast<double>(e.dram.total_read());
    x.dram_write_bytes += p[i] * static_cast<double>(e.dram.total_write());
    x.latency_cycles += p[i] * static_cast<double>(e.latency_cycles);
    x.edp_pj_cycles += p[i] * e.energy.total_pj() * static_cast<double>(e.latency_cycles);
  }
  return x;
}

absl::StatusOr<ExitProfile> ParseExitProfile(std::string_view text, const std::string& source,
                                             const ir::Workload& w) {
  auto with_source = [&](const absl::Status& s) {
    return absl::Status(s.code(), absl::StrCat(source, ": ", s.message()));
  };
  const json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object())
    return with_source(absl::InvalidArgumentError(
        "not a JSON object (expected an exit profile, as snnplan run --exit-profile writes)"));
  ExitProfile p;
  p.file = std::filesystem::path(source).filename().string();
  if (absl::Status s = CheckKeys(doc); !s.ok()) return with_source(s);
  if (absl::Status s = ReadHeader(doc, p); !s.ok()) return with_source(s);
  if (absl::Status s = ReadProbabilities(doc, w.timesteps, p); !s.ok()) return with_source(s);
  absl::StatusOr<std::vector<int>> roots = OutputLayers(w, p.output);
  if (!roots.ok()) return with_source(roots.status());
  absl::StatusOr<std::vector<int>> layers = PerStepLayers(w, *std::move(roots));
  if (!layers.ok()) return with_source(layers.status());
  p.exit_layers = *std::move(layers);
  return p;
}

absl::StatusOr<ExitProfile> ReadExitProfileFile(const std::string& path, const ir::Workload& w) {
  absl::StatusOr<std::string> text = ReadInputFile(path, "JSON exit profile", kMaxJsonFileBytes);
  if (!text.ok()) return text.status();
  return ParseExitProfile(*text, path, w);
}

}  // namespace snnplan::plan
