#include "snnplan/flags.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "internal.h"

namespace snnplan::frontend {

void AddImportOptions(CLI::App* cmd, ImportFlags* flags) {
  importer::ImportOptions& o = flags->options;
  cmd->add_option("--timesteps", o.timesteps, "Timesteps T (required for single-step exports)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--dt", o.dt_seconds,
                  "NIR files only: time step in seconds for discretising the neuron equations "
                  "(forward Euler; default 1e-4 = snnTorch's NIR dt)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--batch", o.batch, "Samples per inference (binds a symbolic batch)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--input-shape", flags->input_shapes,
                  "NAME=C,H,W: re-propagate shapes for another input size");
  cmd->add_option("--blocks", o.blocks_file, "JSON object file: layer name -> block id");
  cmd->add_option("--stateless-blocks", flags->stateless_blocks,
                  "Comma-separated block ids whose spiking layers forget their state");
  // Precision flags: each overrides the hardware's precision (docs/hardware.md,
  // "Precision"); without the flag the hardware's value is used.
  ImportFlags::PrecisionGiven* given = &flags->precision_given;
  cmd->add_option(
         "--weight-bits", o.weight_bits,
         "Weight precision in bits (default: the hardware's precision.weight_bits, else 4)")
      ->check(CLI::Range(1, 64))
      ->each([given](const std::string&) { given->weight = true; });
  cmd->add_option(
         "--input-bits", o.input_bits,
         "Network input precision in bits (default: the hardware's precision.input_bits, else 4)")
      ->check(CLI::Range(1, 64))
      ->each([given](const std::string&) { given->input = true; });
  cmd->add_option("--feature-bits", o.feature_bits,
                  "Precision of non-spiking features in bits (default: the hardware's "
                  "precision.feature_bits, else 4)")
      ->check(CLI::Range(1, 64))
      ->each([given](const std::string&) { given->feature = true; });
  cmd->add_option("--state-bits", o.state_bits,
                  "Neuron state precision in memory in bits (default: the hardware's "
                  "precision.state_bits, else 12)")
      ->check(CLI::Range(1, 64))
      ->each([given](const std::string&) { given->state = true; });
  cmd->add_option("--accumulator-bits", o.accumulator_bits,
                  "Accumulator precision in the PE register in bits (default: the "
                  "hardware's precision.accumulator_bits, else 16)")
      ->check(CLI::Range(1, 64))
      ->each([given](const std::string&) { given->accumulator = true; });
  cmd->add_option("--precision", flags->precision,
                  "float: --weight-bits 32 --input-bits 32 --feature-bits 32 --state-bits 64 "
                  "--sew-join-bits 32, the binary32 values and binary64 states `snnplan run` "
                  "computes with (a plan `run --manifest` can replay)")
      ->check(CLI::IsMember({"float"}));
  cmd->add_option("--sew-join-bits", o.sew_join_bits,
                  "Output bits of SEW residual joins (1 = OR, 2 = ADD)")
      ->check(CLI::Range(1, 64));
}

absl::Status FinishImportOptions(ImportFlags* flags) {
  if (flags->precision == "float" && !flags->precision_applied) {
    ImportFlags::PrecisionGiven& given = flags->precision_given;
    if (given.weight || given.input || given.feature || given.state)
      return absl::InvalidArgumentError(
          "--precision float sets --weight-bits, --input-bits, --feature-bits and --state-bits: "
          "give either --precision or those flags");
    flags->options.weight_bits = 32;
    flags->options.input_bits = 32;
    flags->options.feature_bits = 32;
    flags->options.state_bits = 64;
    flags->options.sew_join_bits = 32;  // a SEW ADD join's sum (0, 1, 2, ...) as binary32
    given.weight = given.input = given.feature = given.state = true;
    flags->precision_applied = true;
  }
  for (const std::string& spec : flags->input_shapes) {
    std::vector<std::string> parts = absl::StrSplit(spec, '=');
    if (parts.size() != 2 || parts[0].empty())
      return absl::InvalidArgumentError(
          absl::StrCat("--input-shape ", spec, ": expected NAME=C,H,W"));
    std::vector<int64_t> dims;
    for (absl::string_view d : absl::StrSplit(parts[1], ',')) {
      int64_t v = 0;
      if (!absl::SimpleAtoi(d, &v) || v <= 0)
        return absl::InvalidArgumentError(
            absl::StrCat("--input-shape ", spec, ": '", d, "' is not a positive integer"));
      dims.push_back(v);
    }
    flags->options.input_shapes[parts[0]] = dims;
  }
  if (!flags->stateless_blocks.empty()) {
    for (absl::string_view b : absl::StrSplit(flags->stateless_blocks, ',')) {
      int v = 0;
      if (!absl::SimpleAtoi(b, &v) || v < 0)
        return absl::InvalidArgumentError(
            absl::StrCat("--stateless-blocks: '", b, "' is not a block id (integer >= 0)"));
      flags->options.stateless_blocks.push_back(v);
    }
  }
  return absl::OkStatus();
}

void AddPlanOptions(CLI::App* cmd, PlanFlags* f, bool schedule, bool mapping_objective) {
  cmd->add_option("--hw", f->hardware, "Hardware preset or JSON file")
      ->each([f](const std::string&) { f->hardware_given = true; })
      ->capture_default_str();
  cmd->add_option("--sram", f->sram, "Global buffer size of every core (e.g. 128KiB, 1MiB)");
  cmd->add_option("--core", f->core, "Core id every layer runs on (multi-core hardware)")
      ->check(CLI::Range(0, 1 << 16))
      ->capture_default_str();
  if (schedule) {
    auto* spec = cmd->add_option("--schedule", f->schedule,
                                 "Per-block schedule, e.g. tb-lf,tb-lf,tb-lbl (or one for all)")
                     ->capture_default_str();
    cmd->add_option("--schedule-file", f->schedule_file,
                    "JSON schedule file (spec + per-layer tile overrides)")
        ->excludes(spec);
  }
  cmd->add_option("--eviction", f->eviction, "Eviction policy")
      ->check(CLI::IsMember({"stems", "belady"}))
      ->capture_default_str();
  cmd->add_option("--state-io", f->state_io,
                  "zero: states start at 0 on chip and are discarded; dram: loaded and stored "
                  "(STEMS)")
      ->check(CLI::IsMember({"zero", "dram"}))
      ->capture_default_str();
  if (mapping_objective)
    cmd->add_option("--objective", f->objective, "Intra-tile mapping objective")
        ->check(CLI::IsMember({"energy", "latency", "edp"}))
        ->capture_default_str();
  cmd->add_option("--density", f->density, "Spike activity density (scales SOPs)")
      ->check(CLI::Range(0.0, 1.0))
      ->each([f](const std::string&) { f->density_given = true; })
      ->capture_default_str();
  cmd->add_option("--density-file", f->density_file, "JSON object: layer name -> density");
  cmd->add_option("--activity", f->activity,
                  "Measured activity JSON (snnplan run --activity): priced where the hardware "
                  "declares zero_skipping, sparse_speedup or a spike_encoding");
  cmd->add_option("--mapping-budget", f->budget, "Most mappings evaluated per tile (0 = no limit)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("-j,--threads", f->threads, "Threads for tile pricing")
      ->check(CLI::Range(1, 256));
  cmd->add_option(
      "--max-memory", f->max_memory,
      absl::StrCat("Refuse plans whose estimated memory (about 1.7 KB per tile and "
                   "plan in flight) exceeds SIZE (e.g. 8GiB; default: half the "
                   "physical RAM, ",
                   internal::GiB(static_cast<double>(internal::PhysicalMemoryBytes() / 2)),
                   " here)"));
  AddImportOptions(cmd, &f->import);
}

void AddExitProfileOption(CLI::App* cmd, PlanFlags* f) {
  cmd->add_option("--exit-profile", f->exit_profile,
                  "Exit profile JSON (snnplan run --exit-profile): also price the expected cost "
                  "when inference may stop early (docs/early-exit.md)");
}

void AddAllocationOption(CLI::App* cmd, PlanFlags* f) {
  auto* allocation =
      cmd->add_option("--allocation", f->allocation,
                      "JSON layer name -> core id (multi-core hardware; default: all on --core)");
  cmd->add_flag("--core-per-network", f->core_per_network,
                "Several models: network i runs on the hardware's i-th core")
      ->excludes(allocation);
}

void AddExploreOptions(CLI::App* cmd, ExploreFlags* f) {
  AddPlanOptions(cmd, &f->plan, /*schedule=*/false, /*mapping_objective=*/false);
  AddAllocationOption(cmd, &f->plan);
  AddExitProfileOption(cmd, &f->plan);
  cmd->get_option("--sram")->description("Global buffer size(s), comma-separated (128KiB,256KiB)");
  cmd->add_option("--strategy", f->strategy,
                  "grid: the paper's (N+1)^2 grid; exhaustive: {st,tb}x{lbl,lf} per block (4^N); "
                  "search: {st,tb2,tb4,..,tb}x{lbl,lf} per block by branch and bound")
      ->check(CLI::IsMember({"grid", "exhaustive", "search"}))
      ->capture_default_str();
  cmd->add_option("--objective", f->objective, "What 'best' minimises")
      ->check(CLI::IsMember({"dram", "energy", "latency", "edp"}))
      ->capture_default_str();
  cmd->add_option("--fuse-from", f->fuse_from, "Grid: block order for layer fusion")
      ->check(CLI::IsMember({"features", "memory", "input", "output"}))
      ->capture_default_str();
  cmd->add_option("--batch-from", f->batch_from, "Grid: block order for time batching")
      ->check(CLI::IsMember({"features", "memory", "input", "output"}))
      ->capture_default_str();
  cmd->add_option("--budget", f->schedule_budget, "Most schedules to evaluate (0 = all)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--shard", f->shard,
                  "i/N: evaluate candidates i, i+N, ... (grid, exhaustive); --csv gets a rows "
                  "file for 'snnplan merge' (docs/cluster.md)");
  cmd->add_option("--resume", f->resume,
                  "Rows file (--csv) of an interrupted run or shard: its finished schedules "
                  "are not planned again");
}

void AddAllocateOptions(CLI::App* cmd, AllocateFlags* f) {
  AddPlanOptions(cmd, &f->plan, /*schedule=*/true, /*mapping_objective=*/true);
  cmd->add_option("--population", f->ga.population, "Individuals per generation")
      ->check(CLI::Range(2, 4096))
      ->capture_default_str();
  cmd->add_option("--generations", f->ga.generations, "Generations after the initial one")
      ->check(CLI::Range(0, 100000))
      ->capture_default_str();
  cmd->add_option("--seed", f->ga.seed, "Random seed (same seed, same result)")
      ->capture_default_str();
  cmd->add_option("--budget", f->ga.budget,
                  "Most allocations evaluated (0 = population x (generations + 1) at most)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--shard", f->shard, "Refused: NSGA-II generations cannot be split");
  cmd->add_option("--resume", f->resume,
                  "Rows file (--csv) of an interrupted run: its evaluated allocations are not "
                  "planned again");
}

void AddCostOptions(CLI::App* cmd, CostFlags* f, bool hardware_required) {
  CLI::Option* hw = cmd->add_option("--hw", f->hardware, "Hardware preset or JSON file");
  if (hardware_required) hw->required();
  cmd->add_option("--sram", f->sram, "Resize the global buffer (e.g. 128KiB; bare number = bytes)");
  cmd->add_option("--layer", f->layer, "Price only this layer (by name)");
  cmd->add_option("--tile", f->tile,
                  "Tile bounds, e.g. T=4,OY=8 (default: the whole layer over all T)");
  cmd->add_option("--objective", f->objective, "energy (default), latency or edp")
      ->check(CLI::IsMember({"energy", "latency", "edp"}));
  cmd->add_option("--state-io", f->state_io,
                  "zero: states start at 0 and are discarded (default); dram: read "
                  "before the first and written after the last timestep (STEMS)")
      ->check(CLI::IsMember({"zero", "dram"}));
  cmd->add_option("--density", f->density, "Spike activity density for SOP layers (default 1.0)")
      ->check(CLI::Range(0.0, 1.0))
      ->each([f](const std::string&) { f->density_given = true; });
  cmd->add_option("--density-file", f->density_file,
                  "JSON object: layer name -> density (others use --density)");
  cmd->add_option("--activity", f->activity,
                  "Measured activity JSON (snnplan run --activity): priced where the hardware "
                  "declares zero_skipping, sparse_speedup or a spike_encoding");
  cmd->add_option("--mapping-budget", f->budget, "Most mappings evaluated per tile (0 = no limit)")
      ->check(CLI::NonNegativeNumber);
  AddImportOptions(cmd, &f->import);
}

void AddRunOptions(CLI::App* cmd, RunFlags* f) {
  cmd->add_option("-j,--threads", f->threads, "Threads (results do not depend on it)")
      ->check(CLI::Range(1, 64));
  AddImportOptions(cmd, &f->import);
}

void AddValidateOptions(CLI::App* cmd, ValidateFlags* f) {
  cmd->add_option("--model", f->models,
                  "ONNX model the manifest was planned for: also check the dependencies "
                  "recomputed from it (repeat for a deployment of several models, in "
                  "the order they were planned)")
      ->allow_extra_args(false);
  cmd->add_option("--hw", f->hardware,
                  "Hardware preset or JSON file the manifest must target (default: the "
                  "manifest's embedded hardware)");
  cmd->add_option("--sram", f->sram,
                  "Global buffer size, e.g. 128KiB (resizes --hw, or the "
                  "embedded hardware)");
  AddImportOptions(cmd, &f->import);
}

}  // namespace snnplan::frontend
