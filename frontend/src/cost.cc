// `snnplan cost`: each layer (or one) priced as computation tiles on core 0.
#include <chrono>
#include <map>
#include <optional>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "snnplan/activity.h"
#include "snnplan/costmodel.h"
#include "snnplan/frontend.h"

namespace snnplan::frontend {
namespace {

using TileSpec = std::map<ir::Dim, int64_t>;

// "T=4,OY=8": the tile's bound per tiled dim (reduction dims are not tiled).
absl::StatusOr<TileSpec> ParseTileSpec(const std::string& text) {
  TileSpec spec;
  if (text.empty()) return spec;
  for (absl::string_view part : absl::StrSplit(text, ',')) {
    std::vector<std::string> kv = absl::StrSplit(part, '=');
    std::optional<ir::Dim> d = kv.size() == 2 ? ir::ParseDim(kv[0]) : std::nullopt;
    int64_t v = 0;
    if (!d || !absl::SimpleAtoi(kv[1], &v) || v < 1)
      return absl::InvalidArgumentError(
          absl::StrCat("--tile ", text, ": expected DIM=N,... (e.g. T=4,OY=8)"));
    if (*d == ir::Dim::kC || *d == ir::Dim::kFY || *d == ir::Dim::kFX)
      return absl::InvalidArgumentError(
          absl::StrCat("--tile ", text, ": the reduction dims C, FY, FX cannot be tiled"));
    spec[*d] = v;
  }
  return spec;
}

absl::StatusOr<cost::CostOptions> ParseOptions(const CostFlags& f) {
  cost::CostOptions o;
  if (f.objective == "energy")
    o.objective = cost::Objective::kEnergy;
  else if (f.objective == "latency")
    o.objective = cost::Objective::kLatency;
  else if (f.objective == "edp")
    o.objective = cost::Objective::kEdp;
  else
    return absl::InvalidArgumentError("--objective: energy, latency or edp");
  if (f.state_io == "zero")
    o.state_io = cost::StateIo::kZero;
  else if (f.state_io == "dram")
    o.state_io = cost::StateIo::kDram;
  else
    return absl::InvalidArgumentError("--state-io: zero or dram");
  o.mapping_budget = f.budget;
  return o;
}

// Rows (or columns) of the input that output rows [o0, o0 + n) read; the
// padding outside the input is free.
int64_t InputExtent(int64_t o0, int64_t n, int64_t stride, int64_t pad, int64_t k, int64_t dilation,
                    int64_t in) {
  int64_t first = std::max<int64_t>(0, o0 * stride - pad);
  int64_t last = std::min(in - 1, (o0 + n - 1) * stride - pad + (k - 1) * dilation);
  return std::max<int64_t>(1, last - first + 1);
}

// All tiles of `layer` on the grid of `spec` (remainders at the ends).
std::vector<cost::TileShape> LayerTiles(const ir::Layer& layer, const TileSpec& spec,
                                        const CostLayerResult& activity) {
  std::vector<cost::TileShape> tiles = {cost::WholeLayerTile(layer)};
  tiles[0].density = activity.density;
  tiles[0].input_activity = activity.input_activity;
  tiles[0].output_activity = activity.output_activity;
  for (const auto& [dim, size] : spec) {
    int64_t full = layer.dims.Get(dim);
    std::vector<cost::TileShape> next;
    for (const cost::TileShape& t : tiles)
      for (int64_t o0 = 0; o0 < full; o0 += size) {
        cost::TileShape s = t;
        int64_t n = std::min(size, full - o0);
        s.dims.Set(dim, n);
        const ir::Window& w = layer.window;
        if (dim == ir::Dim::kT) {
          s.starts_at_first_timestep = o0 == 0;
          s.ends_at_last_timestep = o0 + n == full;
        } else if (dim == ir::Dim::kOY) {
          s.in_y =
              InputExtent(o0, n, w.stride_y, w.pad_top, layer.dims.FY, w.dilation_y, layer.in_y);
        } else if (dim == ir::Dim::kOX) {
          s.in_x =
              InputExtent(o0, n, w.stride_x, w.pad_left, layer.dims.FX, w.dilation_x, layer.in_x);
        }
        next.push_back(s);
      }
    tiles = std::move(next);
  }
  return tiles;
}

double DramBytes(const cost::TileCost& c) {
  double bits = 0;
  for (const cost::OperandTraffic& t : c.dram_traffic)
    bits += static_cast<double>(t.read_bits + t.write_bits);
  return bits / 8;
}

absl::Status PriceLayer(cost::CostModel& model, const ir::Layer& layer, const TileSpec& spec,
                        CostLayerResult& r) {
  r.name = layer.name;
  r.op = std::string(ir::OpKindName(layer.op));
  std::vector<cost::TileShape> tiles = LayerTiles(layer, spec, r);
  r.tiles = tiles.size();
  for (const cost::TileShape& t : tiles) {
    auto c = model.Price(t);
    if (!c.ok())
      return absl::Status(c.status().code(),
                          absl::StrCat("layer ", layer.name, ": ", c.status().message()));
    if (!r.first) r.first = *c;
    r.energy += (*c)->energy;
    r.dram_bytes += DramBytes(**c);
    r.latency_cycles += (*c)->latency_cycles;  // tiles run one after another
  }
  return absl::OkStatus();
}

nlohmann::json EnergyJson(const cost::EnergyBreakdown& e) {
  return {{"total", e.total_pj()},
          {"compute", e.compute_pj},
          {"local", e.local_pj},
          {"sram", e.sram_pj},
          {"dram", e.dram_pj}};
}

nlohmann::json ReportJson(const CostFlags& f, const std::string& model_name,
                          const CostReport& report, const ir::Workload& w,
                          const cost::ActivityFile* activity,
                          const cost::LayerDensities& densities) {
  const cost::CostModel& model = *report.model;
  nlohmann::json layers = nlohmann::json::array();
  cost::EnergyBreakdown total;
  double dram_bytes = 0;
  int64_t latency = 0;
  for (const CostLayerResult& r : report.layers) {
    layers.push_back({{"name", r.name},
                      {"op", r.op},
                      {"density", r.density},
                      {"tiles", r.tiles},
                      {"energy_pj", EnergyJson(r.energy)},
                      {"dram_bytes", r.dram_bytes},
                      {"latency_cycles", r.latency_cycles},
                      {"mapping", cost::MappingJson(*r.first, model.core())},
                      {"first_tile", cost::ToJson(*r.first, model.core())}});
    if (model.hardware().clock_hz > 0)  // only when the hardware states its clock
      layers.back()["latency_s"] =
          static_cast<double>(r.latency_cycles) / model.hardware().clock_hz;
    if (activity != nullptr) {
      layers.back()["input_activity"] = r.input_activity;
      layers.back()["output_activity"] = r.output_activity;
    }
    total += r.energy;
    dram_bytes += r.dram_bytes;
    latency += r.latency_cycles;
  }
  nlohmann::json json = {{"model", model_name},
                         {"hardware", model.hardware().name},
                         {"global_buffer_bits", model.core().global_buffer().size_bits},
                         {"objective", f.objective},
                         {"state_io", f.state_io},
                         {"density", f.density_file.empty() ? nlohmann::json(f.density)
                                                            : nlohmann::json(f.density_file)},
                         {"tile", f.tile},
                         {"budget", f.budget},
                         {"unique_tiles", model.cache_misses()},
                         {"layers", layers},
                         {"total",
                          {{"energy_pj", EnergyJson(total)},
                           {"dram_bytes", dram_bytes},
                           {"latency_cycles", latency}}}};
  if (model.hardware().clock_hz > 0) {
    json["clock_hz"] = model.hardware().clock_hz;
    json["total"]["latency_s"] = static_cast<double>(latency) / model.hardware().clock_hz;
  }
  if (activity != nullptr)
    json["activity"] = cost::ActivityRecordJson(*activity, densities, w, model.hardware());
  return json;
}

}  // namespace

absl::StatusOr<CostReport> RunCost(const ModelRef& model, const std::string& model_name,
                                   CostFlags& f) {
  if (!model.workload)
    if (absl::Status s = FinishImportOptions(&f.import); !s.ok()) return s;
  auto options = ParseOptions(f);
  if (!options.ok()) return options.status();
  auto spec = ParseTileSpec(f.tile);
  if (!spec.ok()) return spec.status();
  auto hardware = LoadHardware(f.hardware, f.sram, f.hardware_object.get());
  if (!hardware.ok()) return hardware.status();
  // The hardware's precisions, unless a flag overrides them (the import
  // options were finished above, so import directly).
  if (!model.workload) UseHardwarePrecision(*hardware, &f.import);
  absl::StatusOr<ir::Workload> workload =
      model.workload ? absl::StatusOr<ir::Workload>(*model.workload)
                     : importer::ImportFile(model.path, f.import.options);
  if (!workload.ok()) return workload.status();
  std::map<std::string, double> densities;
  if (!f.density_file.empty()) {
    auto d = LoadDensityFile(f.density_file, *workload);
    if (!d.ok()) return d.status();
    densities = *std::move(d);
  }
  auto file = LoadActivity(f.activity, *workload, f.density_given, f.density_file);
  if (!file.ok()) return file.status();
  const std::shared_ptr<const cost::ActivityFile> activity = *std::move(file);
  const cost::LayerDensities measured = cost::DensitiesOf(activity.get(), *workload);
  CostReport report;
  report.with_activity = activity != nullptr;
  report.model = std::make_unique<cost::CostModel>(*std::move(hardware), 0, *options);
  auto start = std::chrono::steady_clock::now();
  for (size_t l = 0; l < workload->layers.size(); ++l) {
    const ir::Layer& layer = workload->layers[l];
    if (!f.layer.empty() && layer.name != f.layer) continue;
    CostLayerResult r;
    r.density = f.density;
    r.input_activity = measured.input[l];
    r.output_activity = measured.output[l];
    if (auto it = densities.find(layer.name); it != densities.end()) r.density = it->second;
    if (absl::Status s = PriceLayer(*report.model, layer, *spec, r); !s.ok()) return s;
    report.layers.push_back(std::move(r));
  }
  if (!f.layer.empty() && report.layers.empty())
    return absl::NotFoundError(absl::StrCat("--layer ", f.layer, ": no such layer in ", model_name));
  report.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  report.json = ReportJson(f, model_name, report, *workload, activity.get(), measured);
  return report;
}

}  // namespace snnplan::frontend
