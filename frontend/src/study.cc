// Studies: a JSON grid of explore jobs, run in shards and aggregated
// (snnplan/study.h, docs/cluster.md).
#include "snnplan/study.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "snnplan/frontend.h"
#include "snnplan/hwdesc.h"
#include "snnplan/input_file.h"
#include "snnplan/output_file.h"
#include "snnplan/units.h"

namespace snnplan::frontend {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr int64_t kMaxStudyBytes = int64_t{16} << 20;
// The study file's keys: list keys make the grid, in this order.
const std::vector<std::string> kListKeys = {"models", "hardware", "sram", "strategies",
                                            "objectives"};

// A relative path in the study file is relative to the study file.
std::string Resolve(const std::string& study, const std::string& path) {
  if (path.empty() || fs::path(path).is_absolute()) return path;
  const fs::path dir = fs::path(study).parent_path();
  return dir.empty() ? path : (dir / path).string();
}

// A hardware entry is a file when it names one (else a preset).
bool LooksLikeFile(const std::string& h) {
  return h.find('/') != std::string::npos || h.ends_with(".json") || h.ends_with(".yaml") ||
         h.ends_with(".yml");
}

absl::StatusOr<std::vector<std::string>> StringList(const json& doc, const std::string& key,
                                                    const std::string& where, bool required) {
  if (!doc.contains(key)) {
    if (required)
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": $.", key, ": missing (a non-empty array of strings)"));
    return std::vector<std::string>{};
  }
  const json& v = doc[key];
  if (!v.is_array() || (required && v.empty()))
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": $.", key, ": expected a non-empty array of strings"));
  std::vector<std::string> out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (!v[i].is_string() || v[i].get<std::string>().empty())
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": $.", key, "[", i, "]: expected a non-empty string"));
    out.push_back(v[i].get<std::string>());
  }
  return out;
}

absl::Status CheckMembers(const std::vector<std::string>& values, const std::string& key,
                          const std::set<std::string>& allowed, const std::string& where) {
  for (size_t i = 0; i < values.size(); ++i)
    if (!allowed.count(values[i]))
      return absl::InvalidArgumentError(absl::StrCat(where, ": $.", key, "[", i, "]: '", values[i],
                                                     "' is not one of ",
                                                     absl::StrJoin(allowed, ", ")));
  return absl::OkStatus();
}

std::string JobFile(const std::string& dir, const StudyJob& job, const char* ext) {
  return (fs::path(dir) / (job.Name() + ext)).string();
}

// A CSV text field, always quoted (paths and specs may hold commas).
std::string Quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

// A JSON number as CSV text: what JSON writes (17 digits only when needed).
std::string Number(const json& v) { return v.is_null() ? "" : v.dump(); }

}  // namespace

std::vector<std::string> StudyJob::Args() const {
  std::vector<std::string> args = {model_path,   "--hw",   hardware,      "--sram", sram,
                                   "--strategy", strategy, "--objective", objective};
  args.insert(args.end(), options.begin(), options.end());
  return args;
}

json StudyJob::Json() const {
  return {{"index", index},       {"model", model},         {"hardware", hardware}, {"sram", sram},
          {"strategy", strategy}, {"objective", objective}, {"options", options}};
}

std::string StudyJob::Name() const { return absl::StrFormat("job-%04d", index); }

absl::StatusOr<std::vector<StudyJob>> ReadStudy(const std::string& path) {
  absl::StatusOr<std::string> text = ReadInputFile(path, "study file", kMaxStudyBytes);
  if (!text.ok()) return text.status();
  const json doc = json::parse(*text, nullptr, false);
  if (doc.is_discarded()) return absl::InvalidArgumentError(absl::StrCat(path, ": invalid JSON"));
  if (!doc.is_object())
    return absl::InvalidArgumentError(absl::StrCat(path, ": $: expected an object"));
  for (const auto& [key, value] : doc.items())
    if (key != "options" && std::find(kListKeys.begin(), kListKeys.end(), key) == kListKeys.end())
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": $.", key, ": unknown key (a study has ",
                       absl::StrJoin(kListKeys, ", "), " and options)"));
  std::map<std::string, std::vector<std::string>> lists;
  for (const std::string& key : kListKeys) {
    auto list = StringList(doc, key, path, /*required=*/key != "strategies" && key != "objectives");
    if (!list.ok()) return list.status();
    lists[key] = *std::move(list);
  }
  if (lists["strategies"].empty()) lists["strategies"] = {"grid"};
  if (lists["objectives"].empty()) lists["objectives"] = {"dram"};
  for (absl::Status s :
       {CheckMembers(lists["strategies"], "strategies", {"grid", "exhaustive", "search"}, path),
        CheckMembers(lists["objectives"], "objectives", {"dram", "energy", "latency", "edp"},
                     path)})
    if (!s.ok()) return s;
  auto options = StringList(doc, "options", path, /*required=*/false);
  if (!options.ok()) return options.status();
  std::vector<StudyJob> jobs;
  for (const std::string& m : lists["models"])
    for (const std::string& h : lists["hardware"])
      for (const std::string& s : lists["sram"])
        for (const std::string& st : lists["strategies"])
          for (const std::string& o : lists["objectives"]) {
            StudyJob job;
            job.index = static_cast<int>(jobs.size());
            job.model = m;
            job.model_path = Resolve(path, m);
            job.hardware = LooksLikeFile(h) ? Resolve(path, h) : h;
            job.sram = s;
            job.strategy = st;
            job.objective = o;
            job.options = *options;
            jobs.push_back(std::move(job));
          }
  // Each job's flags parse: a bad option is reported before any job runs.
  for (const StudyJob& job : jobs) {
    absl::StatusOr<ExploreFlags> f = StudyJobFlags(job, 1);
    if (!f.ok())
      return absl::InvalidArgumentError(absl::StrCat(path, ": $.options: ", f.status().message()));
    if (job.index == 0 && !f->shard.empty())
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": $.options: --shard: a study shards by job (study run --shard)"));
  }
  return jobs;
}

absl::StatusOr<ExploreFlags> StudyJobFlags(const StudyJob& job, int threads) {
  ExploreFlags f;
  CLI::App app;
  std::string model;
  app.add_option("model", model)->required();
  AddExploreOptions(&app, &f);
  std::vector<std::string> args = job.Args();
  std::reverse(args.begin(), args.end());  // CLI11 parses a reversed vector
  try {
    app.parse(args);
  } catch (const CLI::ParseError& e) {
    return absl::InvalidArgumentError(e.what());
  }
  if (absl::Status s = FinishImportOptions(&f.plan.import); !s.ok()) return s;
  f.plan.threads = threads;
  return f;
}

absl::Status RunStudyShard(const std::vector<StudyJob>& jobs, const Shard& shard,
                           const std::string& dir, int threads, std::ostream& log) {
  if (absl::Status s = CheckOutputPath("--out", (fs::path(dir) / "job-0000.json").string());
      !s.ok())
    return absl::InvalidArgumentError(absl::StrCat("--out ", dir, ": not a writable directory"));
  for (const StudyJob& job : jobs) {
    if (job.index % shard.count != shard.index) continue;
    absl::StatusOr<ExploreFlags> f = StudyJobFlags(job, threads);
    if (!f.ok()) return f.status();
    std::vector<json> sizes;
    json doc;
    auto on_size = [&](ExploredSize& size) {
      sizes.push_back(ExploredSizeJson(size, *f));
      doc = ExploreJson(size.planner->workload(), size.planner->hardware(), sizes);
      return absl::OkStatus();
    };
    std::string csv;
    if (absl::Status s =
            RunExplore(ModelRef{job.model_path, nullptr}, *f, nullptr, nullptr, on_size, &csv);
        !s.ok())
      return absl::Status(s.code(), absl::StrCat(job.Name(), " (", absl::StrJoin(job.Args(), " "),
                                                 "): ", s.message()));
    doc["job"] = job.Json();
    if (absl::Status s = WriteFileAtomically(JobFile(dir, job, ".csv"), csv); !s.ok()) return s;
    if (absl::Status s = WriteFileAtomically(JobFile(dir, job, ".json"), doc.dump(2) + "\n");
        !s.ok())
      return s;
    log << job.Name() << ": " << absl::StrJoin(job.Args(), " ") << "\n";
  }
  return absl::OkStatus();
}

absl::StatusOr<StudyMerge> MergeStudy(const std::vector<StudyJob>& jobs, const std::string& dir) {
  std::vector<std::string> missing;
  std::vector<json> results;
  for (const StudyJob& job : jobs) {
    const std::string file = JobFile(dir, job, ".json");
    if (!fs::exists(file)) {
      missing.push_back(job.Name());
      continue;
    }
    absl::StatusOr<json> doc = ReadJsonFile(file);
    if (!doc.ok()) return doc.status();
    if (!doc->contains("job") || (*doc)["job"] != job.Json())
      return absl::InvalidArgumentError(
          absl::StrCat(file, ": made for another job (the study file changed?); its job: ",
                       doc->value("job", json()).dump(), ", the study's: ", job.Json().dump()));
    results.push_back(*std::move(doc));
  }
  if (!missing.empty())
    return absl::InvalidArgumentError(absl::StrCat(
        dir, ": no results for ", missing.size(), " of ", jobs.size(),
        " jobs: ", absl::StrJoin(missing, ", "), " (run their shards: study run --shard)"));
  StudyMerge out;
  out.csv =
      "job,model,hardware,sram,strategy,objective,evaluations,best_spec,best_dram_bytes,"
      "best_energy_pj,best_latency_cycles,best_objective,baseline_dram_bytes,baseline_energy_pj,"
      "baseline_latency_cycles,compulsory_dram_bytes\n";
  json best_by = json::object();  // "model|objective" -> best job
  std::ostringstream text;
  for (size_t i = 0; i < jobs.size(); ++i) {
    const StudyJob& job = jobs[i];
    const json& size = results[i]["sizes"][0];
    const json& best = size["best"];
    const json& base = size["baseline"];
    auto field = [](const json& e, const char* key) {
      return e.is_object() && e.contains(key) ? Number(e[key]) : std::string();
    };
    absl::StrAppend(
        &out.csv, job.index, ",", Quoted(job.model), ",", Quoted(job.hardware), ",",
        Quoted(job.sram), ",", job.strategy, ",", job.objective, ",", Number(size["evaluations"]),
        ",", Quoted(best.is_object() ? best.value("spec", "") : ""), ",", field(best, "dram_bytes"),
        ",",
        field(best, "energy_pj"), ",", field(best, "latency_cycles"), ",", field(best, "objective"),
        ",", field(base, "dram_bytes"), ",", field(base, "energy_pj"), ",",
        field(base, "latency_cycles"), ",", Number(size["compulsory_dram_bytes"]), "\n");
    if (!best.is_object()) continue;
    const std::string key = absl::StrCat(job.model, " | ", job.objective);
    if (!best_by.contains(key) ||
        best["objective"].get<double>() < best_by[key]["objective"].get<double>())
      best_by[key] = {{"job", job.index},     {"hardware", job.hardware},
                      {"sram", job.sram},     {"strategy", job.strategy},
                      {"spec", best["spec"]}, {"objective", best["objective"]}};
  }
  out.summary = {{"jobs", jobs.size()}, {"best", best_by}};
  text << jobs.size() << " jobs\n";
  for (const auto& [key, b] : best_by.items())
    text << key << ": best " << b["spec"].get<std::string>() << " on "
         << b["hardware"].get<std::string>() << " @ " << b["sram"].get<std::string>() << " ("
         << b["strategy"].get<std::string>() << ", job " << b["job"].get<int>() << ")\n";
  out.text = text.str();
  return out;
}

}  // namespace snnplan::frontend
