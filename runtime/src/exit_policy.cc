// Early exit as DT-SNN defines it (Li et al. 2023): after each step, the
// entropy of the accumulated output decides whether inference may stop.
#include <algorithm>
#include <cmath>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "nlohmann/json.hpp"
#include "snnplan/runtime.h"

namespace snnplan::runtime {
namespace {

// The outputs recorded per step: a leading axis of `timesteps` and at least
// one more (classes, or batch and classes).
std::vector<std::string> PerStepOutputs(const RunResult& run) {
  std::vector<std::string> names;
  for (const auto& [name, a] : run.outputs)
    if (a.shape.size() >= 2 && a.shape[0] == run.timesteps) names.push_back(name);
  return names;
}

absl::StatusOr<const Array*> ExitOutput(const RunResult& run, const ExitPolicy& policy) {
  const std::vector<std::string> per_step = PerStepOutputs(run);
  if (policy.output.empty()) {
    if (per_step.size() == 1) return &run.outputs.at(per_step[0]);
    if (per_step.empty())
      return absl::InvalidArgumentError(absl::StrCat(
          "no graph output is recorded per step (a leading axis of ", run.timesteps,
          " steps): early exit needs the output of every step"));
    return absl::InvalidArgumentError(
        absl::StrCat("several outputs are recorded per step (", absl::StrJoin(per_step, ", "),
                     "): name the one the exit policy reads"));
  }
  auto it = run.outputs.find(policy.output);
  if (it == run.outputs.end())
    return absl::InvalidArgumentError(absl::StrCat("no produced graph output named '", policy.output,
                                                   "' (outputs recorded per step: ",
                                                   absl::StrJoin(per_step, ", "), ")"));
  if (std::find(per_step.begin(), per_step.end(), policy.output) == per_step.end())
    return absl::InvalidArgumentError(absl::StrCat(
        "output '", policy.output, "' has shape [", absl::StrJoin(it->second.shape, ", "),
        "]: not recorded per step (a leading axis of ", run.timesteps, " steps)"));
  return &it->second;
}

// Normalised entropy H(softmax(x)) / log(K) of one class vector, in [0, 1]
// (0 for a single class). Computed in double, max-subtracted.
double NormalisedEntropy(const std::vector<double>& x) {
  if (x.size() < 2) return 0.0;
  const double top = *std::max_element(x.begin(), x.end());
  double z = 0;
  for (double v : x) z += std::exp(v - top);
  double h = 0;
  for (double v : x) {
    const double p = std::exp(v - top) / z;
    if (p > 0) h -= p * std::log(p);
  }
  return h / std::log(static_cast<double>(x.size()));
}

}  // namespace

absl::StatusOr<ExitPolicy> ParseExitPolicy(std::string_view spec_view, std::string output) {
  const std::string spec(spec_view);
  const std::string kEntropy = "entropy:";
  if (spec.compare(0, kEntropy.size(), kEntropy) != 0)
    return absl::InvalidArgumentError(
        absl::StrCat("'", spec, "': expected entropy:THRESHOLD (e.g. entropy:0.3)"));
  double threshold = 0;
  if (!absl::SimpleAtod(spec.substr(kEntropy.size()), &threshold) || !std::isfinite(threshold) ||
      threshold <= 0 || threshold > 1)
    return absl::InvalidArgumentError(absl::StrCat(
        "'", spec, "': the threshold is a normalised entropy in (0, 1]"));
  return ExitPolicy{threshold, std::move(output)};
}

std::string ExitPolicyText(const ExitPolicy& policy) {
  return absl::StrCat("entropy:", policy.threshold);
}

absl::StatusOr<std::vector<int64_t>> ExitSteps(const RunResult& run, const ExitPolicy& policy) {
  absl::StatusOr<const Array*> out = ExitOutput(run, policy);
  if (!out.ok()) return out.status();
  const Array& a = **out;
  const int64_t steps = a.shape[0];
  const int64_t batch = a.shape.size() >= 3 ? a.shape[1] : 1;
  const int64_t per_step = static_cast<int64_t>(a.values.size()) / std::max<int64_t>(steps, 1);
  const int64_t classes = per_step / std::max<int64_t>(batch, 1);
  std::vector<int64_t> exits(static_cast<size_t>(batch), steps);
  for (int64_t b = 0; b < batch; ++b) {
    std::vector<double> sum(static_cast<size_t>(classes), 0.0), mean(sum.size());
    for (int64_t t = 0; t < steps; ++t) {
      const float* y = a.values.data() + t * per_step + b * classes;
      for (int64_t k = 0; k < classes; ++k) {
        sum[static_cast<size_t>(k)] += y[k];
        mean[static_cast<size_t>(k)] = sum[static_cast<size_t>(k)] / static_cast<double>(t + 1);
      }
      if (NormalisedEntropy(mean) < policy.threshold) {
        exits[static_cast<size_t>(b)] = t + 1;
        break;
      }
    }
  }
  return exits;
}

absl::Status AddExits(const std::string& input, int64_t timesteps,
                      const std::vector<int64_t>& exit_steps, ExitProfile* profile) {
  if (profile->timesteps == 0) profile->timesteps = timesteps;
  if (timesteps != profile->timesteps)
    return absl::InvalidArgumentError(absl::StrCat("a run of ", timesteps,
                                                   " steps cannot join an exit profile over ",
                                                   profile->timesteps));
  profile->inputs.push_back({input, exit_steps});
  return absl::OkStatus();
}

std::string ExitProfileJson(const ExitProfile& profile, const ExitPolicy& policy,
                            const std::string& output, const std::string& model_file,
                            const std::string& model_sha256) {
  std::vector<int64_t> count(static_cast<size_t>(profile.timesteps), 0);
  int64_t samples = 0, steps_run = 0;
  nlohmann::json inputs = nlohmann::json::array();
  for (const ExitProfile::Input& in : profile.inputs) {
    for (int64_t s : in.exit_steps) {
      ++count[static_cast<size_t>(s - 1)];
      ++samples;
      steps_run += s;
    }
    inputs.push_back({{"input", in.input}, {"exit_steps", in.exit_steps}});
  }
  nlohmann::json probability = nlohmann::json::object();
  for (int64_t t = 1; t <= profile.timesteps; ++t)
    probability[std::to_string(t)] =
        samples > 0 ? static_cast<double>(count[static_cast<size_t>(t - 1)]) /
                          static_cast<double>(samples)
                    : 0.0;
  const nlohmann::json doc = {
      {"format", kExitProfileFormat},
      {"version", kExitProfileVersion},
      {"policy", ExitPolicyText(policy)},
      {"output", output},
      {"model", model_file},
      {"model_sha256", model_sha256},
      {"timesteps", profile.timesteps},
      {"samples", samples},
      {"mean_timesteps",
       samples > 0 ? static_cast<double>(steps_run) / static_cast<double>(samples) : 0.0},
      {"exit_probability", probability},
      {"inputs", inputs}};
  return doc.dump(2) + "\n";
}

absl::StatusOr<std::string> ExitOutputName(const RunResult& run, const ExitPolicy& policy) {
  absl::StatusOr<const Array*> out = ExitOutput(run, policy);
  if (!out.ok()) return out.status();
  for (const auto& [name, a] : run.outputs)
    if (&a == *out) return name;
  return absl::InternalError("exit output not found");
}

}  // namespace snnplan::runtime
