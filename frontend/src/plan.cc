// Loading models, hardware and plan options from the flags; one plan.
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "internal.h"
#include "snnplan/frontend.h"
#include "snnplan/input_file.h"

namespace snnplan::frontend {
namespace {

// Memory of a plan per tile (its tile, allocations, transfers and records),
// measured on SEW-7 st-lf with 74k and 295k tiles: 1.6 KB; rounded up.
constexpr int64_t kPlanBytesPerTile = 1700;
// The process without plans: libraries, the model, the tile-cost cache.
constexpr int64_t kBaseBytes = int64_t{64} << 20;

int64_t SaturatingAdd(int64_t a, int64_t b) {
  int64_t r = 0;
  return __builtin_add_overflow(a, b, &r) ? INT64_MAX : r;
}

}  // namespace

namespace internal {

int64_t PhysicalMemoryBytes() {
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGE_SIZE);
  return pages > 0 && page > 0 ? static_cast<int64_t>(pages) * page : int64_t{8} << 30;
}

std::string GiB(double bytes) { return absl::StrFormat("%.3g GiB", bytes / (1 << 30)); }

}  // namespace internal

ModelRef ModelFiles(const std::vector<std::string>& files) {
  ModelRef m;
  if (files.size() == 1)
    m.path = files.front();
  else
    m.paths = files;
  return m;
}

absl::StatusOr<ir::Workload> LoadWorkload(const ModelRef& model, ImportFlags* flags) {
  if (model.workload) return *model.workload;
  if (absl::Status s = FinishImportOptions(flags); !s.ok()) return s;
  if (model.paths.size() < 2)
    return importer::ImportFile(model.paths.empty() ? model.path : model.paths.front(),
                                flags->options);
  // Several models: each imported with the same options, then combined.
  if (!flags->options.blocks_file.empty() || !flags->options.stateless_blocks.empty())
    return absl::InvalidArgumentError(absl::StrCat(
        !flags->options.blocks_file.empty() ? "--blocks" : "--stateless-blocks",
        " applies to one model's layers; with several models give each its own blocks by "
        "planning it alone (docs/multinet.md)"));
  std::vector<ir::Workload> parts;
  for (const std::string& path : model.paths) {
    absl::StatusOr<ir::Workload> w = importer::ImportFile(path, flags->options);
    if (!w.ok()) return w.status();
    parts.push_back(*std::move(w));
  }
  return importer::CombineWorkloads(std::move(parts));
}

void UseHardwarePrecision(const hw::Hardware& hw, ImportFlags* flags) {
  importer::ImportOptions& o = flags->options;
  const ImportFlags::PrecisionGiven& given = flags->precision_given;
  if (!given.weight) o.weight_bits = hw.precision.weight_bits;
  if (!given.input) o.input_bits = hw.precision.input_bits;
  if (!given.feature) o.feature_bits = hw.precision.feature_bits;
  if (!given.state) o.state_bits = hw.precision.state_bits;
  if (!given.accumulator) o.accumulator_bits = hw.precision.accumulator_bits;
}

hw::Precision ImportPrecision(const importer::ImportOptions& o) {
  hw::Precision p;
  p.weight_bits = o.weight_bits;
  p.input_bits = o.input_bits;
  p.feature_bits = o.feature_bits;
  p.state_bits = o.state_bits;
  p.accumulator_bits = o.accumulator_bits;
  return p;
}

absl::StatusOr<ir::Workload> LoadWorkloadFor(const ModelRef& model, ImportFlags* flags,
                                             hw::Hardware* hw) {
  if (model.workload) {
    if (model.imported_with != nullptr) hw->precision = ImportPrecision(*model.imported_with);
    return *model.workload;
  }
  UseHardwarePrecision(*hw, flags);
  absl::StatusOr<ir::Workload> w = LoadWorkload(model, flags);
  if (w.ok()) hw->precision = ImportPrecision(flags->options);
  return w;
}

absl::StatusOr<hw::Hardware> LoadHardware(const std::string& hardware, const std::string& sram,
                                          const hw::Hardware* object) {
  absl::StatusOr<hw::Hardware> hw = object != nullptr ? *object : hw::Resolve(hardware);
  if (!hw.ok() || sram.empty()) return hw;
  absl::StatusOr<int64_t> bytes = hw::ParseSizeBytes(sram);
  if (!bytes.ok())
    return absl::InvalidArgumentError(absl::StrCat("--sram ", bytes.status().message()));
  if (absl::Status s = hw::ResizeGlobalBuffer(*hw, *bytes); !s.ok()) return s;
  return hw;
}

absl::StatusOr<nlohmann::json> ReadJsonFile(const std::string& path, const std::string& option) {
  const std::string prefix = option.empty() ? "" : option + " ";
  absl::StatusOr<std::string> text = ReadInputFile(path, "JSON file", kMaxJsonFileBytes);
  if (!text.ok())
    return absl::Status(text.status().code(), prefix + std::string(text.status().message()));
  try {
    return nlohmann::json::parse(*text);
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(prefix, path, ": invalid JSON: ", e.what()));
  }
}

absl::StatusOr<std::map<std::string, double>> ReadLayerNumbers(const std::string& path,
                                                               const std::string& option) {
  absl::StatusOr<nlohmann::json> doc = ReadJsonFile(path, option);
  if (!doc.ok()) return doc.status();
  if (!doc->is_object())
    return absl::InvalidArgumentError(
        absl::StrCat(option, " ", path, ": expected a JSON object of layer name -> number"));
  std::map<std::string, double> out;
  for (const auto& [key, value] : doc->items()) {
    if (!value.is_number())
      return absl::InvalidArgumentError(
          absl::StrCat(option, " ", path, ": ", key, ": expected a number"));
    out[key] = value.get<double>();
  }
  return out;
}

absl::StatusOr<std::map<std::string, double>> LoadDensityFile(const std::string& path,
                                                              const ir::Workload& w) {
  auto d = ReadLayerNumbers(path, "--density-file");
  if (!d.ok()) return d.status();
  for (const auto& [layer, density] : *d) {
    const bool known = std::any_of(w.layers.begin(), w.layers.end(),
                                   [&name = layer](const ir::Layer& l) { return l.name == name; });
    if (!known) return cost::UnknownLayerError(absl::StrCat("--density-file ", path), layer, w);
    if (!(density >= 0 && density <= 1))
      return absl::InvalidArgumentError(
          absl::StrCat("--density-file ", path, ": ", layer, ": density must be in [0, 1]"));
  }
  return d;
}

absl::StatusOr<std::shared_ptr<const cost::ActivityFile>> LoadActivity(
    const std::string& path, const ir::Workload& w, bool density_given,
    const std::string& density_file) {
  if (path.empty()) return nullptr;
  if (density_given || !density_file.empty())
    return absl::InvalidArgumentError(absl::StrCat(
        "--activity cannot be combined with ", density_given ? "--density" : "--density-file",
        ": --activity prices each layer's measured density where the hardware declares it "
        "exploits it, --density/--density-file scale SOP energy on any hardware; use one"));
  absl::StatusOr<cost::ActivityFile> a = cost::ReadActivityFile(path, w);
  if (!a.ok())
    return absl::Status(a.status().code(), absl::StrCat("--activity ", a.status().message()));
  if (!a->model_sha256.empty() && !w.model_sha256.empty() && a->model_sha256 != w.model_sha256)
    std::cerr << "snnplan: note: --activity " << path << " was measured on " << a->model
              << " (sha256 " << a->model_sha256.substr(0, 12) << "...), not on this "
              << w.model_file << " (" << w.model_sha256.substr(0, 12)
              << "...); its layer names match\n";
  return std::make_shared<const cost::ActivityFile>(*std::move(a));
}

namespace {

// A file option as the manifest records it: the file's name, no directory
// (null when not given).
nlohmann::json FileName(const std::string& path) {
  if (path.empty()) return nullptr;
  return std::filesystem::path(path).filename().string();
}

// The options that shape a plan, for the manifest's provenance: no thread
// count, no memory limit, no directories. The schedule is the manifest's
// `schedule` (explore and allocate choose it, so no flag states it).
nlohmann::json ProvenanceOptions(const PlanFlags& f) {
  const importer::ImportOptions& i = f.import.options;
  const ImportFlags::PrecisionGiven& given = f.import.precision_given;
  auto given_bits = [](bool was_given, int bits) {
    return was_given ? nlohmann::json(bits) : nlohmann::json(nullptr);
  };
  nlohmann::json shapes = nlohmann::json::object();
  for (const auto& [name, dims] : i.input_shapes) shapes[name] = dims;
  nlohmann::json j = {
      {"hw", f.hardware_object ? nlohmann::json(f.hardware_object->name) : FileName(f.hardware)},
      {"sram", f.sram.empty() ? nlohmann::json(nullptr) : nlohmann::json(f.sram)},
      {"schedule_file", FileName(f.schedule_file)},
      {"eviction", f.eviction},
      {"state_io", f.state_io},
      {"objective", f.objective},
      {"density", f.density_given ? nlohmann::json(f.density) : nlohmann::json(nullptr)},
      {"density_file", FileName(f.density_file)},
      {"activity", FileName(f.activity)},
      {"exit_profile", FileName(f.exit_profile)},
      {"mapping_budget", f.budget},
      {"core", f.core},
      {"allocation", FileName(f.allocation)},
      {"timesteps", i.timesteps ? nlohmann::json(*i.timesteps) : nlohmann::json(nullptr)},
      {"batch", i.batch ? nlohmann::json(*i.batch) : nlohmann::json(nullptr)},
      {"input_shape", shapes},
      {"blocks", FileName(i.blocks_file)},
      {"stateless_blocks", i.stateless_blocks},
      {"weight_bits", given_bits(given.weight, i.weight_bits)},
      {"input_bits", given_bits(given.input, i.input_bits)},
      {"feature_bits", given_bits(given.feature, i.feature_bits)},
      {"state_bits", given_bits(given.state, i.state_bits)},
      {"accumulator_bits", given_bits(given.accumulator, i.accumulator_bits)},
      {"sew_join_bits", i.sew_join_bits},
      {"dt", i.dt_seconds ? nlohmann::json(*i.dt_seconds) : nlohmann::json(nullptr)}};
  if (f.core_per_network) j["core_per_network"] = true;  // only then: other manifests unchanged
  return j;
}

}  // namespace

absl::StatusOr<plan::PlanOptions> MakePlanOptions(const PlanFlags& f, const ir::Workload& w) {
  plan::PlanOptions o;
  o.provenance = ProvenanceOptions(f);
  o.state_io = f.state_io == "dram" ? cost::StateIo::kDram : cost::StateIo::kZero;
  o.eviction = f.eviction == "belady" ? plan::Eviction::kBelady : plan::Eviction::kStems;
  o.objective = f.objective == "latency" ? cost::Objective::kLatency
                : f.objective == "edp"   ? cost::Objective::kEdp
                                         : cost::Objective::kEnergy;
  o.density = f.density;
  o.mapping_budget = f.budget;
  o.threads = f.threads;
  o.core = f.core;
  absl::StatusOr<std::shared_ptr<const cost::ActivityFile>> activity =
      LoadActivity(f.activity, w, f.density_given, f.density_file);
  if (!activity.ok()) return activity.status();
  o.activity = *std::move(activity);
  if (!f.exit_profile.empty()) {
    absl::StatusOr<plan::ExitProfile> p = plan::ReadExitProfileFile(f.exit_profile, w);
    if (!p.ok())
      return absl::Status(p.status().code(), absl::StrCat("--exit-profile ", p.status().message()));
    if (!p->model_sha256.empty() && !w.model_sha256.empty() && p->model_sha256 != w.model_sha256)
      std::cerr << "snnplan: note: --exit-profile " << f.exit_profile << " was measured on "
                << p->model << ", not on this " << w.model_file << "\n";
    o.exit_profile = std::make_shared<const plan::ExitProfile>(*std::move(p));
  }
  if (!f.density_file.empty()) {
    auto d = LoadDensityFile(f.density_file, w);
    if (!d.ok()) return d.status();
    o.layer_density = *std::move(d);
  }
  return o;
}

absl::StatusOr<plan::Schedule> LoadSchedule(const PlanFlags& f, const ir::Workload& w) {
  if (f.schedule_file.empty()) return plan::ParseSchedule(f.schedule, w.num_blocks, w.timesteps);
  absl::StatusOr<nlohmann::json> doc = ReadJsonFile(f.schedule_file, "--schedule-file");
  if (!doc.ok()) return doc.status();
  absl::StatusOr<plan::Schedule> s = plan::ParseScheduleJson(*doc, w.num_blocks, w.timesteps);
  if (!s.ok())
    return absl::InvalidArgumentError(absl::StrCat(f.schedule_file, ": ", s.status().message()));
  return s;
}

absl::StatusOr<plan::CoreAllocation> LoadAllocation(const PlanFlags& f, const ir::Workload& w,
                                                    const hw::Hardware& hw) {
  if (f.core_per_network) {
    if (w.networks.empty())
      return absl::InvalidArgumentError(
          "--core-per-network needs several models (it puts network i on core i)");
    if (w.networks.size() > hw.cores.size())
      return absl::InvalidArgumentError(absl::StrCat(
          "--core-per-network: ", w.networks.size(), " networks, but hardware '", hw.name, "' has ",
          hw.cores.size(), " core(s); give an --allocation file instead"));
    plan::CoreAllocation a;
    a.layer_core.assign(w.layers.size(), hw.cores.front().id);
    for (size_t n = 0; n < w.networks.size(); ++n)
      for (int l = w.networks[n].first_layer; l < w.networks[n].end_layer; ++l)
        a.layer_core[l] = hw.cores[n].id;
    return a;
  }
  if (f.allocation.empty()) return plan::CoreAllocation{};
  absl::StatusOr<nlohmann::json> doc = ReadJsonFile(f.allocation, "--allocation");
  if (!doc.ok()) return doc.status();
  absl::StatusOr<plan::CoreAllocation> a = plan::ParseAllocationJson(*doc, w, hw);
  if (!a.ok())
    return absl::InvalidArgumentError(absl::StrCat(f.allocation, ": ", a.status().message()));
  return a;
}

absl::Status CheckPlanMemory(const PlanFlags& f, const ir::Workload& w,
                             const plan::Schedule& schedule, int plans_at_once) {
  int64_t limit = internal::PhysicalMemoryBytes() / 2;
  if (!f.max_memory.empty()) {
    absl::StatusOr<int64_t> bytes = hw::ParseSizeBytes(f.max_memory);
    if (!bytes.ok())
      return absl::InvalidArgumentError(absl::StrCat("--max-memory ", bytes.status().message()));
    limit = *bytes;
  }
  int64_t tiles = 0;
  for (int64_t n : plan::TilesPerLayer(w, schedule)) tiles = SaturatingAdd(tiles, n);
  // In double: tiles may be up to INT64_MAX before the planner's own limit.
  const double estimate = static_cast<double>(tiles) *
                              static_cast<double>(std::max<int64_t>(1, w.batch)) *
                              kPlanBytesPerTile * std::max(1, plans_at_once) +
                          kBaseBytes;
  if (estimate <= static_cast<double>(limit)) return absl::OkStatus();
  return absl::ResourceExhaustedError(absl::StrFormat(
      "--max-memory: planning %s needs an estimated %s (%.6g tiles x %d bytes x %d plan(s) at "
      "once), "
      "more than the limit of %s%s; use larger tiles (tb, lbl, lfR), fewer threads (-j) or "
      "raise --max-memory",
      plan::FormatSchedule(schedule), internal::GiB(estimate),
      static_cast<double>(tiles) * static_cast<double>(std::max<int64_t>(1, w.batch)),
      kPlanBytesPerTile, std::max(1, plans_at_once), internal::GiB(static_cast<double>(limit)),
      f.max_memory.empty() ? " (half of this machine's RAM)" : ""));
}

absl::StatusOr<PlanInputs> LoadPlanInputs(const ModelRef& model, PlanFlags& f) {
  // The hardware first: its precisions are the import's (flags override).
  absl::StatusOr<hw::Hardware> hw = LoadHardware(f.hardware, f.sram, f.hardware_object.get());
  if (!hw.ok()) return hw.status();
  absl::StatusOr<ir::Workload> w = LoadWorkloadFor(model, &f.import, &*hw);
  if (!w.ok()) return w.status();
  absl::StatusOr<plan::Schedule> schedule = LoadSchedule(f, *w);
  if (!schedule.ok()) return schedule.status();
  absl::StatusOr<plan::PlanOptions> options = MakePlanOptions(f, *w);
  if (!options.ok()) return options.status();
  return PlanInputs{*std::move(w), *std::move(hw), *std::move(schedule), *options};
}

absl::StatusOr<std::shared_ptr<const plan::Plan>> PlanOnce(const ModelRef& model, PlanFlags& f) {
  absl::StatusOr<PlanInputs> in = LoadPlanInputs(model, f);
  if (!in.ok()) return in.status();
  absl::StatusOr<plan::CoreAllocation> allocation = LoadAllocation(f, in->workload, in->hardware);
  if (!allocation.ok()) return allocation.status();
  if (absl::Status s = CheckPlanMemory(f, in->workload, in->schedule, 1); !s.ok()) return s;
  plan::Planner planner(std::move(in->workload), std::move(in->hardware), in->options);
  return planner.Run(in->schedule, *allocation);
}

std::string SummaryJsonText(const plan::Plan& p) { return plan::SummaryToJson(p).dump(2) + "\n"; }

void WriteManifestFile(const plan::Plan& p, bool summary_only, std::ostream& out) {
  if (!summary_only) {
    plan::WriteManifest(p, out);
    return;
  }
  nlohmann::json m = {{"schema_version", plan::kManifestSchemaVersion},
                      {"summary", plan::SummaryToJson(p)}};
  out << m.dump(2) << "\n";
}

}  // namespace snnplan::frontend
