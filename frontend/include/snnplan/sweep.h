// Long and split runs (docs/cluster.md): progress lines, rows files (the
// finished candidates of an interrupted run or of one shard, with the
// fingerprint of the inputs that made them), --resume, --shard and
// `snnplan merge`.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "snnplan/allocate.h"
#include "snnplan/explore.h"
#include "snnplan/flags.h"
#include "snnplan/frontend.h"

namespace snnplan::frontend {

// ---- shards

struct Shard {
  int index = 0;  // i of --shard i/N
  int count = 1;  // N
};
// "i/N" with 0 <= i < N ("" = 0/1); errors name `option` ("--shard 3/2: ...").
absl::StatusOr<Shard> ParseShard(const std::string& text, const std::string& option = "--shard");
// How many of `candidates` (indices 0..candidates-1) shard `s` owns.
int64_t ShardShare(int64_t candidates, const Shard& s);

// ---- progress

// One progress line for a log (a non-terminal stderr):
// "explore 128KiB: 16/64 schedules (25%), 1.2 s elapsed, ETA 3.6 s".
std::string ProgressLine(const std::string& what, const std::string& unit, size_t done,
                         size_t total, double elapsed_s);
// Prints ProgressLine()s: at each further 10% of `total`, at most every 30 s
// in between, and at the end; never carriage returns.
class ProgressLines {
 public:
  ProgressLines(std::ostream* out, std::function<double()> clock = nullptr);
  // A new phase (e.g. the next --sram size): counts and clock restart.
  void Start(const std::string& what, const std::string& unit);
  void Update(size_t done, size_t total);

 private:
  std::ostream* out_;
  std::function<double()> clock_;
  std::string what_, unit_;
  double start_ = 0, last_line_ = 0;
  int last_decile_ = -1;
};

// ---- rows files

// What must match for rows to be reused or merged: the model's and the
// hardware's SHA-256 and every option that changes a result (not -j, not
// output paths, not --shard). Compared key by key.
nlohmann::json ExploreInputs(const ExploreFlags& f, const ir::Workload& w,
                             const hw::Hardware& described);
nlohmann::json AllocateInputs(const AllocateFlags& f, const ir::Workload& w,
                              const hw::Hardware& hw);
// SHA-256 of the inputs' JSON text.
std::string Fingerprint(const nlohmann::json& inputs);
// OK when equal; else InvalidArgument "<what>: made with other inputs than
// <against>: objective: "energy" there, "dram" here; ...".
absl::Status CheckSameInputs(const std::string& what, const nlohmann::json& there,
                             const nlohmann::json& here, const std::string& against);

// One --sram size of an explore rows file.
struct RowsSize {
  std::string label;
  int64_t sram_bytes = 0;
  int64_t candidates = 0;  // the whole list's (0: search)
  double space_size = 0;
  int64_t compulsory_dram_bytes = 0;
  bool finished = false;  // every candidate of the shard evaluated; baseline set
  explore::Evaluation baseline;
  std::vector<explore::Evaluation> rows;  // in candidate order
};
// An explore rows file: `# partial: ...` or `# shard i/N: ...` first, then
// `# snnplan-rows {JSON}` (fingerprint, inputs, context, sizes), then the
// --csv columns behind size,candidate,fused_blocks,batched_blocks and
// followed by objective,energy_pj_noc,error, numbers with 17 digits.
struct ExploreRows {
  nlohmann::json inputs;
  // model, hardware {name[, clock_hz]}, strategy, objective, density,
  // state_io, num_blocks, expected, activity {file, sha256} (or null), sizes.
  nlohmann::json context;
  Shard shard;
  bool partial = false;
  int64_t total = 0;  // candidates over all sizes (0: not known, search)
  std::vector<RowsSize> sizes;
};
std::string ExploreRowsText(const ExploreRows& rows);
// Reads and checks a rows file; errors name `option` and the file
// ("--resume a.csv: line 7: ...").
absl::StatusOr<ExploreRows> ReadExploreRows(const std::string& path, const std::string& option);
// The --csv text of an unsharded, finished run made of `sizes` (exactly
// what `snnplan explore --csv` writes).
std::string ExploreCsvText(const ExploreRows& rows);

// `snnplan merge`: the shards' rows files, checked (same fingerprint, no
// shard missing, twice or partial), as one finished unsharded run.
absl::StatusOr<ExploreRows> MergeExploreRows(const std::vector<std::string>& paths);
// The ExploredSize (no planner) and ExploreFlags that describe one merged
// size with DescribeExploredSize / ExploredSizeJson.
ExploredSize MergedSize(const ExploreRows& rows, size_t size);
ExploreFlags MergedFlags(const ExploreRows& rows);
// What `explore --json` writes for a merged run.
nlohmann::json MergedJson(const ExploreRows& rows);

// An allocate rows file: `# partial: ...`, `# snnplan-rows {JSON}`, then
// index,generation,feasible,latency_cycles,energy_pj,genome,error (genome =
// core indices joined by ';', numbers with 17 digits).
std::string AllocateRowsText(const nlohmann::json& inputs, const explore::GaResult& ga,
                             int generations);
absl::StatusOr<std::map<explore::Genome, explore::AllocationObjectives>> ReadAllocateRows(
    const std::string& path, const nlohmann::json& inputs);

}  // namespace snnplan::frontend
