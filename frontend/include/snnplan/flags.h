// The options of the snnplan commands, shared by every front end: the
// `snnplan` CLI registers them on its subcommands and the Python module
// parses its keyword arguments with the very same registrations, so a
// keyword is a flag (snake_case for kebab-case), with the same checks and
// the same error messages. docs/python.md lists the mapping.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "snnplan/allocate.h"
#include "snnplan/hwdesc.h"
#include "snnplan/importer.h"

namespace snnplan::frontend {

// `snnplan import` options: --timesteps, --batch, --input-shape, --blocks,
// --stateless-blocks and the precisions. FinishImportOptions converts the
// raw strings after parsing.
struct ImportFlags {
  importer::ImportOptions options;
  std::vector<std::string> input_shapes;  // NAME=C,H,W
  std::string stateless_blocks;           // "0,1"
  // The precision flags given: they override the hardware's precision
  // (UseHardwarePrecision); the others take the hardware's value.
  struct PrecisionGiven {
    bool weight = false, input = false, feature = false, state = false, accumulator = false;
  } precision_given;
  // --precision float: 32-bit weights, inputs, features and SEW ADD joins
  // (binary32) and 64-bit states (binary64), the values `snnplan run`
  // computes with, so
  // `run --manifest` can replay the plan (FinishImportOptions applies it).
  std::string precision;
  bool precision_applied = false;
};
void AddImportOptions(CLI::App* cmd, ImportFlags* flags);
absl::Status FinishImportOptions(ImportFlags* flags);

// The options of every command that plans (plan, explore, ablate, allocate).
struct PlanFlags {
  std::string hardware = "meta-prototype";
  bool hardware_given = false;  // --hw was given (else: the default, said so in text output)
  // A description loaded already (the Python module's Hardware): used
  // instead of `hardware`, resized by `sram` like a preset.
  std::shared_ptr<const hw::Hardware> hardware_object;
  std::string sram;
  std::string schedule = "st-lbl";
  std::string schedule_file;
  std::string eviction = "stems";
  std::string state_io = "zero";
  std::string objective = "energy";  // per-tile mapping objective
  double density = 1.0;
  bool density_given = false;  // --density was given
  std::string density_file;
  std::string activity;  // --activity: measured activity file (snnplan run --activity)
  // --exit-profile: exit profile (snnplan run --exit-profile): price the
  // expected cost under early exit (not allocate).
  std::string exit_profile;
  int64_t budget = 0;
  int threads = 1;
  int core = 0;            // --core: the core every layer runs on without --allocation
  std::string allocation;  // --allocation: JSON layer name -> core id (not allocate)
  // --core-per-network: several models: network i on the hardware's core i.
  bool core_per_network = false;
  std::string max_memory;  // --max-memory: refuse larger plan estimates ("" = half the RAM)
  ImportFlags import;
};
// Adds --hw, --sram, --core, --max-memory, --eviction, --state-io, --density,
// --density-file, --activity, --mapping-budget, -j and the import options;
// with `schedule` also --schedule and --schedule-file, with
// `mapping_objective` also --objective.
void AddPlanOptions(CLI::App* cmd, PlanFlags* f, bool schedule, bool mapping_objective);
// --allocation (plan, explore, ablate: not allocate, which searches).
void AddAllocationOption(CLI::App* cmd, PlanFlags* f);
// --exit-profile (plan, explore).
void AddExitProfileOption(CLI::App* cmd, PlanFlags* f);

// `snnplan explore`: the plan options (no --schedule) and the search's own.
struct ExploreFlags {
  PlanFlags plan;
  std::string strategy = "grid";
  std::string objective = "dram";
  std::string fuse_from = "features";
  std::string batch_from = "memory";
  int64_t schedule_budget = 0;
  // --shard i/N: evaluate only candidates i, i+N, ... and write them as a
  // rows file for `snnplan merge` ("" = everything; docs/cluster.md).
  std::string shard;
  // --resume PREV.csv: the rows file an interrupted run (or a shard) wrote;
  // its finished schedules are not planned again.
  std::string resume;
};
void AddExploreOptions(CLI::App* cmd, ExploreFlags* f);

// `snnplan allocate`: the plan options and the GA's.
struct AllocateFlags {
  PlanFlags plan;
  explore::GaOptions ga;
  std::string shard;   // --shard: refused (a GA generation needs the last one's results)
  std::string resume;  // --resume PREV.csv: an interrupted run's rows file
};
void AddAllocateOptions(CLI::App* cmd, AllocateFlags* f);

// `snnplan cost`.
struct CostFlags {
  std::string hardware;
  std::shared_ptr<const hw::Hardware> hardware_object;  // as PlanFlags::hardware_object
  std::string sram;
  std::string layer;
  std::string tile;
  std::string objective = "energy";
  std::string state_io = "zero";
  double density = 1.0;
  bool density_given = false;  // --density was given
  std::string density_file;
  std::string activity;  // --activity: measured activity file
  int64_t budget = 0;
  ImportFlags import;
};
// `hardware_required`: --hw is required (the CLI); the Python module
// checks its `hw` argument itself.
void AddCostOptions(CLI::App* cmd, CostFlags* f, bool hardware_required);

// `snnplan run` (without --inputs/--outputs/--activity, which name files).
struct RunFlags {
  int threads = 1;
  ImportFlags import;
};
void AddRunOptions(CLI::App* cmd, RunFlags* f);

// `snnplan validate` (without the manifest).
struct ValidateFlags {
  // --model (repeatable): the model(s) the manifest was planned for; several
  // are combined as `plan` combines them (importer::CombineWorkloads).
  std::vector<std::string> models;
  std::string hardware;
  std::shared_ptr<const hw::Hardware> hardware_object;  // as PlanFlags::hardware_object
  std::string sram;
  ImportFlags import;
};
void AddValidateOptions(CLI::App* cmd, ValidateFlags* f);

}  // namespace snnplan::frontend
