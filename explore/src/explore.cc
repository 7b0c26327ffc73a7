// Schedule enumeration, parallel evaluation and the reducer keeping the best.
#include "snnplan/explore.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <numeric>
#include <thread>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "explore_internal.h"

namespace snnplan::explore {
namespace {

int64_t OutSteps(const ir::Layer& l) { return l.op == ir::OpKind::kTimeMean ? 1 : l.dims.T; }

std::vector<double> BlockScores(const ir::Workload& w, Ranking ranking) {
  std::vector<double> score(w.num_blocks, 0.0);
  for (const ir::Layer& l : w.layers) {
    if (ranking == Ranking::kFeatures)
      score[l.block] += static_cast<double>(l.OutputElementsPerStep() * l.precision.output_bits);
    else
      score[l.block] += static_cast<double>(l.WeightsUsed() * l.precision.weight_bits +
                                            l.NeuronStates() * l.precision.state_bits);
  }
  return score;
}

}  // namespace

std::vector<int> RankBlocks(const ir::Workload& w, Ranking ranking) {
  std::vector<int> order(w.num_blocks);
  std::iota(order.begin(), order.end(), 0);
  if (ranking == Ranking::kOutput) std::reverse(order.begin(), order.end());
  if (ranking == Ranking::kInput || ranking == Ranking::kOutput) return order;
  const std::vector<double> score = BlockScores(w, ranking);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return score[a] > score[b]; });
  return order;
}

std::vector<std::pair<plan::Schedule, std::pair<int, int>>> GridSchedules(const ir::Workload& w,
                                                                          Ranking fuse,
                                                                          Ranking batch) {
  const std::vector<int> fuse_order = RankBlocks(w, fuse);
  const std::vector<int> batch_order = RankBlocks(w, batch);
  std::vector<std::pair<plan::Schedule, std::pair<int, int>>> out;
  for (int f = 0; f <= w.num_blocks; ++f)
    for (int b = 0; b <= w.num_blocks; ++b) {
      plan::Schedule s;
      s.blocks.assign(w.num_blocks, plan::BlockSchedule{1, false, 1});
      for (int i = 0; i < f; ++i) s.blocks[fuse_order[i]].fused = true;
      for (int i = 0; i < b; ++i) s.blocks[batch_order[i]].timesteps_per_tile = 0;
      out.push_back({s, {f, b}});
    }
  return out;
}

std::vector<plan::Schedule> ExhaustiveSchedules(int num_blocks) {
  std::vector<plan::Schedule> out;
  const int64_t n = int64_t{1} << (2 * num_blocks);
  out.reserve(static_cast<size_t>(n));
  for (int64_t code = 0; code < n; ++code) {
    plan::Schedule s;
    for (int b = 0; b < num_blocks; ++b) {
      const int choice = static_cast<int>((code >> (2 * b)) & 3);
      s.blocks.push_back({(choice & 1) ? 0 : 1, (choice & 2) != 0, 1});
    }
    out.push_back(std::move(s));
  }
  return out;
}

namespace {

// At least the bits a feature tensor crosses the DRAM link with: dense, or
// its encoded size less one bit (the planner rounds each piece up).
int64_t LinkBitsLowerBound(const hw::SpikeEncoding& e, int64_t elements, int value_bits,
                           double density, int64_t map_elements) {
  const int64_t dense = elements * value_bits;
  if (e.format == hw::SpikeFormat::kDense) return dense;
  const double encoded =
      static_cast<double>(elements) *
      cost::EncodedBitsPerElement(e, value_bits, density, cost::AddressBits(e, map_elements));
  return std::max<int64_t>(0, std::min<int64_t>(dense, static_cast<int64_t>(encoded) - 1));
}

}  // namespace

namespace internal {

Compulsory CompulsoryTraffic(const ir::Workload& w, const hw::Hardware& hw,
                             const std::vector<int>& layer_core, cost::StateIo state_io,
                             const cost::LayerDensities* densities) {
  const cost::LayerDensities dense = cost::DensitiesOf(nullptr, w);
  const cost::LayerDensities& d = densities != nullptr ? *densities : dense;
  const hw::SpikeEncoding& e = hw.spike_encoding;
  int64_t weights = 0, read = 0, write = 0;  // weights are loaded once for all samples
  bool input_counted = false;
  for (size_t i = 0; i < w.layers.size(); ++i) {
    const ir::Layer& l = w.layers[i];
    // Pieces are word-rounded in the memory that holds them: the layer's core
    // (the network input lives on its first reader's core).
    const int64_t g = hw.cores[layer_core[i]].global_buffer().access_granularity_bits;
    // Weights in crossbars are programmed once per deployment, not loaded.
    if (!cost::RunsOnCrossbars(l, hw.cores[layer_core[i]]))
      weights += plan::GranuleBytes(l.WeightsUsed() * l.precision.weight_bits, g);
    const bool reads_input =
        std::find(l.inputs.begin(), l.inputs.end(), ir::kNetworkInput) != l.inputs.end();
    if (reads_input && !input_counted) {
      read += plan::GranuleBytes(
          LinkBitsLowerBound(e, l.dims.T * l.InputElementsPerStep(), l.precision.input_bits,
                             d.network_input, cost::InputMapElements(l)),
          g);
      input_counted = true;
    }
    if (l.network_output)
      write += plan::GranuleBytes(
          LinkBitsLowerBound(e, OutSteps(l) * l.OutputElementsPerStep(), l.precision.output_bits,
                             d.output[i], cost::OutputMapElements(l)),
          g);
    if (state_io == cost::StateIo::kDram) {
      const int64_t states = plan::GranuleBytes(l.NeuronStates() * l.precision.state_bits, g);
      read += states;
      write += states;
    }
  }
  const int64_t samples = std::max<int64_t>(1, w.batch);
  return {weights + samples * read, samples * write};
}

}  // namespace internal

int64_t CompulsoryDramBytes(const ir::Workload& w, const hw::Hardware& hw,
                            const std::vector<int>& layer_core, cost::StateIo state_io,
                            const cost::LayerDensities* densities) {
  const internal::Compulsory c =
      internal::CompulsoryTraffic(w, hw, layer_core, state_io, densities);
  return c.read_bytes + c.write_bytes;
}

double ObjectiveValue(const plan::Summary& s, Objective objective) {
  if (s.expected) {
    const plan::ExpectedCost& x = *s.expected;
    switch (objective) {
      case Objective::kDram:
        return x.dram_bytes();
      case Objective::kEnergy:
        return x.energy.total_pj();
      case Objective::kLatency:
        return x.latency_cycles;
      case Objective::kEdp:
        return x.edp_pj_cycles;
    }
  }
  return StaticObjectiveValue(s, objective);
}

double StaticObjectiveValue(const plan::Summary& s, Objective objective) {
  switch (objective) {
    case Objective::kDram:
      return static_cast<double>(s.dram.total());
    case Objective::kEnergy:
      return s.energy.total_pj();
    case Objective::kLatency:
      return static_cast<double>(s.latency_cycles);
    case Objective::kEdp:
      return s.energy.total_pj() * static_cast<double>(s.latency_cycles);
  }
  return 0;
}

namespace {

Evaluation Evaluate(plan::Planner& planner, const plan::Schedule& s,
                    const ExploreOptions& options) {
  Evaluation e;
  e.schedule = s;
  e.spec = plan::FormatSchedule(s);
  auto result = planner.Run(s, options.allocation);
  if (!result.ok()) {
    e.error = std::string(result.status().message());
    return e;
  }
  e.feasible = true;
  e.summary = plan::GetSummary(**result);
  e.objective = ObjectiveValue(e.summary, options.objective);
  return e;
}

// The evaluation of `s` restored from ExploreOptions::known (empty spec: none).
Evaluation Known(const plan::Schedule& s, const ExploreOptions& options) {
  if (options.known == nullptr) return {};
  const std::string spec = plan::FormatSchedule(s);
  auto it = options.known->find(spec);
  if (it == options.known->end()) return {};
  Evaluation e = it->second;
  e.schedule = s;
  e.spec = spec;
  e.restored = true;
  return e;
}

}  // namespace

namespace internal {

std::vector<Evaluation> EvaluateAll(plan::Planner& planner,
                                    const std::vector<plan::Schedule>& schedules,
                                    const ExploreOptions& options, const Progress& progress) {
  std::vector<Evaluation> out(schedules.size());
  std::atomic<size_t> next{0}, done{0};
  std::mutex progress_mu;
  auto worker = [&] {
    for (size_t i = next++; i < schedules.size() && !Cancelled(options); i = next++) {
      out[i] = Known(schedules[i], options);
      if (out[i].spec.empty()) out[i] = Evaluate(planner, schedules[i], options);
      const size_t d = ++done;
      if (progress) {
        std::lock_guard<std::mutex> lock(progress_mu);
        progress(d, schedules.size());
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < std::max(1, options.threads); ++t) pool.emplace_back(worker);
  worker();
  for (std::thread& t : pool) t.join();
  return out;
}

int BestIndex(const std::vector<Evaluation>& evaluations, int best, size_t from) {
  for (size_t i = from; i < evaluations.size(); ++i) {
    const Evaluation& e = evaluations[i];
    if (e.feasible && (best < 0 || e.objective < evaluations[best].objective))
      best = static_cast<int>(i);
  }
  return best;
}

}  // namespace internal

namespace {

// Evaluates this shard's candidates of `schedules` (all with one shard) into
// `result`, each keeping its candidate index and grid coordinates.
void EvaluateShard(plan::Planner& planner, const std::vector<plan::Schedule>& schedules,
                   const std::vector<std::pair<int, int>>& coords, const ExploreOptions& options,
                   const Progress& progress, ExploreResult* result) {
  std::vector<plan::Schedule> mine;
  std::vector<size_t> index;
  for (size_t i = static_cast<size_t>(options.shard_index); i < schedules.size();
       i += static_cast<size_t>(options.shard_count)) {
    mine.push_back(schedules[i]);
    index.push_back(i);
  }
  result->evaluations = internal::EvaluateAll(planner, mine, options, progress);
  for (size_t k = 0; k < index.size(); ++k) {
    Evaluation& e = result->evaluations[k];
    e.candidate = static_cast<int64_t>(index[k]);
    if (index[k] < coords.size()) std::tie(e.fused_blocks, e.batched_blocks) = coords[index[k]];
  }
  result->best = internal::BestIndex(result->evaluations);
}

}  // namespace

int BestEvaluation(const std::vector<Evaluation>& evaluations) {
  return internal::BestIndex(evaluations);
}

absl::StatusOr<ExploreResult> Explore(plan::Planner& planner, const ExploreOptions& options,
                                      const Progress& progress) {
  const ir::Workload& w = planner.workload();
  // A bad allocation fails here, once, rather than every schedule.
  absl::StatusOr<std::vector<int>> layer_core = planner.LayerCores(options.allocation);
  if (!layer_core.ok()) return layer_core.status();
  if (options.shard_count < 1 || options.shard_index < 0 ||
      options.shard_index >= options.shard_count)
    return absl::InvalidArgumentError(absl::StrCat("--shard ", options.shard_index, "/",
                                                   options.shard_count,
                                                   ": expected i/N with 0 <= i < N"));
  if (options.strategy == Strategy::kSearch && options.shard_count > 1)
    return absl::InvalidArgumentError(
        "--shard needs --strategy grid or exhaustive: search's branch and bound picks each "
        "round from the results of the last, so its work cannot be split up front");
  if (options.strategy == Strategy::kSearch && planner.options().exit_profile)
    return absl::InvalidArgumentError(
        "--strategy search bounds the static-T cost, which early exit can undercut: with an "
        "exit profile use --strategy grid or exhaustive");
  ExploreResult result;
  result.num_blocks = w.num_blocks;
  std::vector<plan::Schedule> schedules;
  std::vector<std::pair<int, int>> coords;
  if (options.strategy == Strategy::kSearch) {
    if (absl::Status s = internal::RunSearch(planner, options, *layer_core, progress, &result);
        !s.ok())
      return s;
  } else {
    if (options.strategy == Strategy::kGrid) {
      for (auto& [s, fb] : GridSchedules(w, options.fuse_ranking, options.batch_ranking)) {
        schedules.push_back(s);
        coords.push_back(fb);
      }
      result.space_size = static_cast<double>(schedules.size());
    } else {
      if (w.num_blocks > 10)
        return absl::InvalidArgumentError(
            absl::StrCat("exhaustive exploration of ", w.num_blocks, " blocks means 4^",
                         w.num_blocks, " schedules; use --strategy grid, search or --budget"));
      schedules = ExhaustiveSchedules(w.num_blocks);
      result.space_size = static_cast<double>(schedules.size());
    }
    if (options.budget > 0 && static_cast<int64_t>(schedules.size()) > options.budget)
      schedules.resize(static_cast<size_t>(options.budget));
    result.candidates = static_cast<int64_t>(schedules.size());
    EvaluateShard(planner, schedules, coords, options, progress, &result);
  }
  if (internal::Cancelled(options)) {
    // Only the finished ones (an unstarted slot has no spec), for --resume.
    std::erase_if(result.evaluations, [](const Evaluation& e) { return e.spec.empty(); });
    result.best = -1;
    result.interrupted = true;
    return result;
  }
  if (result.best >= 0 && result.evaluations[result.best].restored) {
    // Its full summary (the breakdown figure, the manifest) is not in a rows file.
    Evaluation& b = result.evaluations[result.best];
    Evaluation fresh = Evaluate(planner, b.schedule, options);
    fresh.candidate = b.candidate;
    fresh.fused_blocks = b.fused_blocks;
    fresh.batched_blocks = b.batched_blocks;
    b = std::move(fresh);
  }
  plan::Schedule baseline;
  baseline.blocks.assign(w.num_blocks, plan::BlockSchedule{1, false, 1});
  result.baseline = Evaluate(planner, baseline, options);
  result.compulsory_dram_bytes = CompulsoryDramBytes(
      w, planner.hardware(), *layer_core, planner.options().state_io, &planner.densities());
  return result;
}

std::string CsvActivityColumns(const cost::ActivityFile* activity) {
  if (activity == nullptr) return "";
  const std::string& f = activity->file;
  const bool quote = f.find_first_of(",\"\r\n") != std::string::npos;
  const std::string field =
      quote ? absl::StrCat("\"", absl::StrReplaceAll(f, {{"\"", "\"\""}}), "\"") : f;
  return absl::StrCat(",", field, ",", activity->sha256);
}

int BestStatic(const ExploreResult& r, Objective objective) {
  int best = -1;
  double value = 0;
  for (size_t i = 0; i < r.evaluations.size(); ++i) {
    const Evaluation& e = r.evaluations[i];
    if (!e.feasible) continue;
    const double v = StaticObjectiveValue(e.summary, objective);
    if (best < 0 || v < value) {
      best = static_cast<int>(i);
      value = v;
    }
  }
  return best;
}

std::string CsvHeader(const cost::ActivityFile* activity, bool expected) {
  return absl::StrCat(
      "spec,sram_bytes,density,state_io,energy_pj_total,energy_pj_compute,energy_pj_local,"
      "energy_pj_sram,energy_pj_dram,dram_bytes_total,dram_bytes_W,dram_bytes_I,"
      "dram_bytes_O,dram_bytes_S,latency_cycles,peak_sram_bytes,feasible",
      activity != nullptr ? ",activity_file,activity_sha256" : "",
      expected
          ? ",expected_energy_pj,expected_dram_bytes,expected_latency_cycles,expected_timesteps"
          : "",
      "\n");
}

namespace {

// A CSV number: 12 significant digits (`digits` 6 for the density) for
// people, 17 (exact: it reads back as the same double) in rows files.
std::string CsvNumber(double v, bool exact, int digits = 12) {
  return absl::StrFormat("%.*g", exact ? 17 : digits, v);
}

}  // namespace

std::string CsvRow(const Evaluation& e, int64_t sram_bytes, double density, cost::StateIo state_io,
                   const cost::ActivityFile* activity, bool expected, bool exact) {
  const plan::Summary& s = e.summary;
  auto op = [&](int i) { return s.dram.read[i] + s.dram.write[i]; };
  auto num = [&](double v) { return CsvNumber(v, exact); };
  std::string expected_columns;
  if (expected && s.expected)
    expected_columns =
        absl::StrCat(",", num(s.expected->energy.total_pj()), ",", num(s.expected->dram_bytes()),
                     ",", num(s.expected->latency_cycles), ",", num(s.expected->mean_timesteps));
  else if (expected)
    expected_columns = ",,,,";  // infeasible: nothing to expect
  return absl::StrCat(
      "\"", e.spec, "\",", sram_bytes, ",", CsvNumber(density, exact, 6), ",",
      state_io == cost::StateIo::kZero ? "zero" : "dram", ",", num(s.energy.total_pj()), ",",
      num(s.energy.compute_pj), ",", num(s.energy.local_pj), ",", num(s.energy.sram_pj), ",",
      num(s.energy.dram_pj), ",", s.dram.total(), ",", op(0), ",", op(1), ",", op(2), ",", op(3),
      ",", s.latency_cycles, ",", s.peak_sram_bytes, ",", e.feasible ? "true" : "false",
      CsvActivityColumns(activity), expected_columns, "\n");
}

}  // namespace snnplan::explore
