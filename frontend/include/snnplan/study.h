// Studies (docs/cluster.md): a JSON file naming models x hardware x SRAM
// sizes x strategies x objectives, expanded into explore jobs that can run
// as shards (`snnplan study run F --shard i/N`, one Slurm array task each)
// and be aggregated into one CSV and summary (`snnplan study merge`).
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "snnplan/flags.h"
#include "snnplan/sweep.h"

namespace snnplan::frontend {

struct StudyJob {
  int index = 0;
  std::string model;       // as the file names it
  std::string model_path;  // resolved against the study file's directory
  std::string hardware;    // preset, or a file resolved like the model
  std::string sram;
  std::string strategy;
  std::string objective;
  std::vector<std::string> options;  // the study's extra explore flags
  // The explore command line (model path first), for `study plan`.
  std::vector<std::string> Args() const;
  // Its identity in the result file (what merge checks).
  nlohmann::json Json() const;
  // "job-0007": the stem of its result files.
  std::string Name() const;
};

// Reads and checks a study file; errors name the file and the JSON path
// ("study.json: $.models[1]: expected a string (a model file)").
absl::StatusOr<std::vector<StudyJob>> ReadStudy(const std::string& path);
// The explore flags of a job (its Args() parsed as `snnplan explore` would).
absl::StatusOr<ExploreFlags> StudyJobFlags(const StudyJob& job, int threads);
// Runs the jobs of `shard` (job index i modulo N), writing
// DIR/job-NNNN.json (explore --json plus "job") and DIR/job-NNNN.csv;
// `log` gets a line per job.
absl::Status RunStudyShard(const std::vector<StudyJob>& jobs, const Shard& shard,
                           const std::string& dir, int threads, std::ostream& log);
// One CSV row per job (best and st-lbl figures) and a summary, from DIR;
// names the jobs whose results are missing or were made for another job.
struct StudyMerge {
  std::string csv;
  nlohmann::json summary;
  std::string text;
};
absl::StatusOr<StudyMerge> MergeStudy(const std::vector<StudyJob>& jobs, const std::string& dir);

}  // namespace snnplan::frontend
