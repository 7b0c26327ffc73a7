// Spike activity measured by `snnplan run`, summed over samples and written
// as the activity file the cost model reads (docs/run.md#the-activity-file).
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "snnplan/runtime.h"

namespace snnplan::runtime {
namespace {

double Ratio(int64_t nonzero, int64_t total) {
  return total > 0 ? static_cast<double>(nonzero) / static_cast<double>(total) : 0.0;
}

}  // namespace

absl::Status AddActivity(const RunResult& run, ActivityProfile* profile) {
  const int64_t timesteps = run.timesteps;
  if (profile->samples == 0) {
    profile->timesteps = timesteps;
    profile->layers = run.activity;
    profile->samples = 1;
    return absl::OkStatus();
  }
  if (timesteps != profile->timesteps || run.activity.size() != profile->layers.size())
    return absl::InvalidArgumentError(absl::StrCat("a run of ", timesteps,
                                                   " timesteps cannot be added to activity over ",
                                                   profile->timesteps));
  for (size_t l = 0; l < run.activity.size(); ++l) {
    LayerActivity& sum = profile->layers[l];
    const LayerActivity& add = run.activity[l];
    for (size_t t = 0; t < sum.nonzero.size() && t < add.nonzero.size(); ++t) {
      sum.nonzero[t] += add.nonzero[t];
      sum.total[t] += add.total[t];
    }
  }
  ++profile->samples;
  return absl::OkStatus();
}

std::string ActivityJson(const ActivityProfile& profile, const std::string& model_file,
                         const std::string& model_sha256) {
  nlohmann::ordered_json layers = nlohmann::ordered_json::object();
  for (const LayerActivity& a : profile.layers) {
    int64_t nonzero = 0, total = 0;
    nlohmann::ordered_json per_step = nlohmann::ordered_json::array();
    for (size_t t = 0; t < a.nonzero.size(); ++t) {
      nonzero += a.nonzero[t];
      total += a.total[t];
      per_step.push_back(Ratio(a.nonzero[t], a.total[t]));
    }
    layers[a.layer] = {{"input_density", Ratio(nonzero, total)},
                       {"input_nonzero", nonzero},
                       {"input_elements", total},
                       {"per_timestep", per_step}};
  }
  nlohmann::ordered_json j = {{"format", "snnplan-activity"},
                              {"version", 1},
                              {"model", model_file},
                              {"model_sha256", model_sha256},
                              {"samples", profile.samples},
                              {"timesteps", profile.timesteps},
                              {"layers", layers}};
  return j.dump(2) + "\n";
}

}  // namespace snnplan::runtime
