// The `snnplan plan` options, shared by every subcommand that plans
// (plan, explore, ablate), so one command goes from ONNX to manifest.
#pragma once

#include <string>

#include "cli_common.h"
#include "snnplan/planner.h"

namespace snnplan::cli {

struct PlanFlags {
  std::string hardware = "meta-prototype";
  std::string sram;
  std::string schedule = "st-lbl";
  std::string schedule_file;
  std::string eviction = "stems";
  std::string state_io = "zero";
  std::string objective = "energy";  // per-tile mapping objective
  double density = 1.0;
  std::string density_file;
  int64_t budget = 0;
  int threads = 1;
  int core = 0;            // --core: the core every layer runs on without --allocation
  std::string allocation;  // --allocation: JSON layer name -> core id (not allocate)
  std::string max_memory;  // --max-memory: refuse larger plan estimates ("" = half the RAM)
  ImportFlags import;
};

// Adds --hw, --sram, --core, --max-memory, --eviction, --state-io, --density,
// --density-file, --budget, -j and the import options; with `schedule` also --schedule and
// --schedule-file, with `mapping_objective` also --objective.
void AddPlanOptions(CLI::App* cmd, PlanFlags* f, bool schedule, bool mapping_objective);
absl::StatusOr<plan::PlanOptions> MakePlanOptions(const PlanFlags& f);
absl::StatusOr<plan::Schedule> LoadSchedule(const PlanFlags& f, const ir::Workload& w);
// Everything one planning command reads: the imported model, the hardware
// (with --sram), the schedule and the plan options.
struct PlanInputs {
  ir::Workload workload;
  hw::Hardware hardware;
  plan::Schedule schedule;
  plan::PlanOptions options;
};
absl::StatusOr<PlanInputs> LoadPlanInputs(const std::string& model, PlanFlags& f);

// --max-memory: refuses, before building anything, `plans_at_once` plans of
// `schedule` whose estimated memory (tiles x bytes per tile) exceeds the
// limit, with the estimate in the message.
absl::Status CheckPlanMemory(const PlanFlags& f, const ir::Workload& w,
                             const plan::Schedule& schedule, int plans_at_once);

// Registers --allocation (plan, explore, ablate: not allocate, which searches).
void AddAllocationOption(CLI::App* cmd, PlanFlags* f);
// The --allocation file, or the empty allocation (every layer on --core).
absl::StatusOr<plan::CoreAllocation> LoadAllocation(const PlanFlags& f, const ir::Workload& w,
                                                    const hw::Hardware& hw);

}  // namespace snnplan::cli
