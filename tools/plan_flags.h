// The `snnplan plan` options, shared by every subcommand that plans
// (plan, explore, ablate, allocate), so one command goes from ONNX to
// manifest. They live in the frontend library (snnplan/flags.h,
// snnplan/frontend.h), shared with the Python module.
#pragma once

#include <string>

#include "cli_common.h"
#include "snnplan/flags.h"
#include "snnplan/frontend.h"

namespace snnplan::cli {

using frontend::AddAllocationOption;
using frontend::AddPlanOptions;
using frontend::CheckPlanMemory;
using frontend::LoadActivity;
using frontend::LoadAllocation;
using frontend::LoadDensityFile;
using frontend::LoadSchedule;
using frontend::MakePlanOptions;
using frontend::PlanFlags;
using frontend::PlanInputs;

inline absl::StatusOr<PlanInputs> LoadPlanInputs(const std::string& model, PlanFlags& f) {
  return frontend::LoadPlanInputs(frontend::ModelRef{model, nullptr}, f);
}

}  // namespace snnplan::cli
