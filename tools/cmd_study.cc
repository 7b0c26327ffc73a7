// `snnplan study plan|run|merge`: a study file's explore jobs, listed, run
// as shards (one per Slurm array task) and aggregated (docs/cluster.md).
#include <iostream>

#include "absl/strings/str_join.h"
#include "cli_common.h"
#include "commands.h"
#include "snnplan/study.h"

namespace snnplan::cli {
namespace {

struct StudyFlags {
  std::string file;
  std::string shard;
  std::string out;
  std::string dir;
  std::string csv;
  std::string summary;
  int threads = 1;
};

int RunPlan(const StudyFlags& f) {
  absl::StatusOr<std::vector<frontend::StudyJob>> jobs = frontend::ReadStudy(f.file);
  if (!jobs.ok()) return ReportError(jobs.status());
  for (const frontend::StudyJob& job : *jobs)
    std::cout << job.Name() << ": snnplan explore " << absl::StrJoin(job.Args(), " ") << "\n";
  return kExitOk;
}

int RunJobs(const StudyFlags& f) {
  absl::StatusOr<frontend::Shard> shard = frontend::ParseShard(f.shard);
  if (!shard.ok()) return ReportError(shard.status());
  absl::StatusOr<std::vector<frontend::StudyJob>> jobs = frontend::ReadStudy(f.file);
  if (!jobs.ok()) return ReportError(jobs.status());
  if (absl::Status s = frontend::RunStudyShard(*jobs, *shard, f.out, f.threads, std::cout); !s.ok())
    return ReportError(s);
  return kExitOk;
}

int RunMergeStudy(const StudyFlags& f) {
  OutputFiles outputs;
  for (absl::Status s : {outputs.Expect("-o", f.csv), outputs.Expect("--summary", f.summary)})
    if (!s.ok()) return ReportError(s);
  absl::StatusOr<std::vector<frontend::StudyJob>> jobs = frontend::ReadStudy(f.file);
  if (!jobs.ok()) return ReportError(jobs.status());
  absl::StatusOr<frontend::StudyMerge> merged = frontend::MergeStudy(*jobs, f.dir);
  if (!merged.ok()) return ReportError(merged.status());
  outputs.report() << merged->text;
  if (!f.csv.empty()) outputs.Write(f.csv, merged->csv);
  if (!f.summary.empty()) outputs.Write(f.summary, merged->summary.dump(2) + "\n");
  if (absl::Status s = outputs.CommitAll(); !s.ok()) return ReportError(s);
  return kExitOk;
}

}  // namespace

void RegisterStudyCommand(CLI::App& app, Runner* run) {
  CLI::App* study =
      app.add_subcommand("study", "Studies: models x hardware x SRAM x strategies x objectives");
  study->require_subcommand(1);
  auto f = std::make_shared<StudyFlags>();
  CLI::App* plan = study->add_subcommand("plan", "List the study's jobs");
  plan->add_option("file", f->file, "Study JSON file")->required();
  plan->callback([run, f] { *run = [f] { return RunPlan(*f); }; });
  CLI::App* jobs = study->add_subcommand("run", "Run the jobs of one shard");
  jobs->add_option("file", f->file, "Study JSON file")->required();
  jobs->add_option("--shard", f->shard, "i/N: jobs i, i+N, ... (default: all)");
  jobs->add_option("--out", f->out, "Directory for job-NNNN.json and job-NNNN.csv")->required();
  jobs->add_option("-j,--threads", f->threads, "Threads per job")->check(CLI::Range(1, 256));
  jobs->callback([run, f] { *run = [f] { return RunJobs(*f); }; });
  CLI::App* merge = study->add_subcommand("merge", "Aggregate every job's results");
  merge->add_option("file", f->file, "Study JSON file")->required();
  merge->add_option("dir", f->dir, "The directory study run wrote")->required();
  merge->add_option("-o,--csv", f->csv, "One row per job ('-' = stdout)");
  merge->add_option("--summary", f->summary, "The best per model and objective, as JSON");
  merge->callback([run, f] { *run = [f] { return RunMergeStudy(*f); }; });
}

}  // namespace snnplan::cli
