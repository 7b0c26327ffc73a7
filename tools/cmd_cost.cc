// `snnplan cost MODEL.onnx --hw HW [--sram SIZE] [--layer NAME]
//  [--tile T=4,OY=8] [--objective energy|latency|edp] [--state-io zero|dram]
//  [--density D | --density-file F.json] [--budget N] [--json OUT]`
// Prices each layer (or one) as computation tiles on core 0 and prints the
// best mapping, accesses, energy breakdown, latency and search statistics.
#include <chrono>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "cli_common.h"
#include "commands.h"
#include "snnplan/costmodel.h"
#include "snnplan/hwdesc.h"
#include "snnplan/importer.h"

namespace snnplan::cli {
namespace {

struct CostFlags {
  std::string model;
  std::string hardware;
  std::string sram;
  std::string layer;
  std::string tile;
  std::string objective = "energy";
  std::string state_io = "zero";
  double density = 1.0;
  std::string density_file;
  int64_t budget = 0;
  std::string json;
  ImportFlags import;
};

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

absl::StatusOr<std::map<std::string, double>> LoadDensities(const std::string& path) {
  std::map<std::string, double> out;
  if (path.empty()) return out;
  absl::StatusOr<std::string> text = ReadInputFile(path, "JSON file", kMaxJsonFileBytes);
  if (!text.ok())
    return absl::Status(text.status().code(),
                        absl::StrCat("--density-file ", text.status().message()));
  nlohmann::json j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": expected a JSON object, layer name -> density"));
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (!it.value().is_number() || it.value().get<double>() < 0 || it.value().get<double>() > 1)
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": ", it.key(), ": density must be in [0, 1]"));
    out[it.key()] = it.value().get<double>();
  }
  return out;
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
                                        double density) {
  std::vector<cost::TileShape> tiles = {cost::WholeLayerTile(layer)};
  tiles[0].density = density;
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

struct LayerResult {
  std::string name;
  std::string op;
  double density = 1;
  size_t tiles = 0;
  cost::EnergyBreakdown energy;
  double dram_bytes = 0;
  int64_t latency_cycles = 0;
  std::shared_ptr<const cost::TileCost> first;  // the first tile's mapping
};

double DramBytes(const cost::TileCost& c) {
  double bits = 0;
  for (const cost::OperandTraffic& t : c.dram_traffic)
    bits += static_cast<double>(t.read_bits + t.write_bits);
  return bits / 8;
}

absl::StatusOr<LayerResult> PriceLayer(cost::CostModel& model, const ir::Layer& layer,
                                       const TileSpec& spec, double density) {
  LayerResult r;
  r.name = layer.name;
  r.op = std::string(ir::OpKindName(layer.op));
  r.density = density;
  std::vector<cost::TileShape> tiles = LayerTiles(layer, spec, density);
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
  return r;
}

nlohmann::json EnergyJson(const cost::EnergyBreakdown& e) {
  return {{"total", e.total_pj()},
          {"compute", e.compute_pj},
          {"local", e.local_pj},
          {"sram", e.sram_pj},
          {"dram", e.dram_pj}};
}

nlohmann::json ReportJson(const CostFlags& f, const cost::CostModel& model,
                          const std::vector<LayerResult>& results) {
  nlohmann::json layers = nlohmann::json::array();
  cost::EnergyBreakdown total;
  double dram_bytes = 0;
  int64_t latency = 0;
  for (const LayerResult& r : results) {
    layers.push_back({{"name", r.name},
                      {"op", r.op},
                      {"density", r.density},
                      {"tiles", r.tiles},
                      {"energy_pj", EnergyJson(r.energy)},
                      {"dram_bytes", r.dram_bytes},
                      {"latency_cycles", r.latency_cycles},
                      {"mapping", cost::MappingJson(*r.first, model.core())},
                      {"first_tile", cost::ToJson(*r.first, model.core())}});
    total += r.energy;
    dram_bytes += r.dram_bytes;
    latency += r.latency_cycles;
  }
  return {{"model", f.model},
          {"hardware", model.hardware().name},
          {"global_buffer_bits", model.core().global_buffer().size_bits},
          {"objective", f.objective},
          {"state_io", f.state_io},
          {"density",
           f.density_file.empty() ? nlohmann::json(f.density) : nlohmann::json(f.density_file)},
          {"tile", f.tile},
          {"budget", f.budget},
          {"unique_tiles", model.cache_misses()},
          {"layers", layers},
          {"total",
           {{"energy_pj", EnergyJson(total)},
            {"dram_bytes", dram_bytes},
            {"latency_cycles", latency}}}};
}

void PrintText(const cost::CostModel& model, const std::vector<LayerResult>& results,
               double seconds) {
  cost::EnergyBreakdown total;
  double dram_bytes = 0;
  int64_t latency = 0;
  for (const LayerResult& r : results) {
    std::cout << absl::StrFormat("layer %s (%s, density %g): %d tile(s); first tile:\n", r.name,
                                 r.op, r.density, r.tiles);
    std::cout << cost::Describe(*r.first, model.core());
    std::cout << absl::StrFormat(
        "  layer total: %.3f pJ (compute %.3f, local %.3f, sram %.3f, dram %.3f), "
        "DRAM %.0f bytes, %d cycles\n\n",
        r.energy.total_pj(), r.energy.compute_pj, r.energy.local_pj, r.energy.sram_pj,
        r.energy.dram_pj, r.dram_bytes, r.latency_cycles);
    total += r.energy;
    dram_bytes += r.dram_bytes;
    latency += r.latency_cycles;
  }
  std::cout << absl::StrFormat(
      "total: %.3f pJ (compute %.3f, local %.3f, sram %.3f, dram %.3f), DRAM %.0f "
      "bytes, %d cycles\n",
      total.total_pj(), total.compute_pj, total.local_pj, total.sram_pj, total.dram_pj, dram_bytes,
      latency);
  std::cout << absl::StrFormat("search: %d unique tiles priced, %d cache hits, %.3f s\n",
                               model.cache_misses(), model.cache_hits(), seconds);
}

absl::StatusOr<hw::Hardware> LoadHardware(const CostFlags& f) {
  absl::StatusOr<hw::Hardware> h = hw::Resolve(f.hardware);
  if (!h.ok() || f.sram.empty()) return h;
  absl::StatusOr<int64_t> bytes = hw::ParseSizeBytes(f.sram);
  if (!bytes.ok())
    return absl::InvalidArgumentError(absl::StrCat("--sram ", bytes.status().message()));
  if (absl::Status s = hw::ResizeGlobalBuffer(*h, *bytes); !s.ok()) return s;
  return h;
}

int RunCost(CostFlags& f) {
  OutputFiles outputs;
  if (absl::Status s = outputs.Expect("--json", f.json); !s.ok()) return ReportError(s);
  if (absl::Status s = FinishImportOptions(&f.import); !s.ok()) return ReportError(s);
  auto options = ParseOptions(f);
  if (!options.ok()) return ReportError(options.status());
  auto spec = ParseTileSpec(f.tile);
  if (!spec.ok()) return ReportError(spec.status());
  auto densities = LoadDensities(f.density_file);
  if (!densities.ok()) return ReportError(densities.status());
  auto hardware = LoadHardware(f);
  if (!hardware.ok()) return ReportError(hardware.status());
  auto workload = importer::ImportFile(f.model, f.import.options);
  if (!workload.ok()) return ReportError(workload.status());
  cost::CostModel model(*std::move(hardware), 0, *options);
  auto start = std::chrono::steady_clock::now();
  std::vector<LayerResult> results;
  for (const ir::Layer& layer : workload->layers) {
    if (!f.layer.empty() && layer.name != f.layer) continue;
    double density = f.density;
    if (auto it = densities->find(layer.name); it != densities->end()) density = it->second;
    auto r = PriceLayer(model, layer, *spec, density);
    if (!r.ok()) return ReportError(r.status());
    results.push_back(*std::move(r));
  }
  if (!f.layer.empty() && results.empty())
    return ReportError(
        absl::NotFoundError(absl::StrCat("--layer ", f.layer, ": no such layer in ", f.model)));
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (f.json.empty() || f.json != "-") PrintText(model, results, seconds);
  if (f.json.empty()) return kExitOk;
  outputs.Write(f.json, ReportJson(f, model, results).dump(2) + "\n");
  if (absl::Status s = outputs.CommitAll(); !s.ok()) return ReportError(s);
  return kExitOk;
}

}  // namespace

void RegisterCostCommand(CLI::App& app, Runner* run) {
  auto f = std::make_shared<CostFlags>();
  CLI::App* cmd = app.add_subcommand(
      "cost", "Price each layer's computation tiles: best mapping, accesses, energy, latency");
  cmd->add_option("model", f->model, "ONNX model file")->required();
  cmd->add_option("--hw", f->hardware, "Hardware preset or JSON file")->required();
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
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--density-file", f->density_file,
                  "JSON object: layer name -> density (others use --density)");
  cmd->add_option("--mapping-budget", f->budget, "Most mappings evaluated per tile (0 = no limit)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--json", f->json, "Write the JSON report to this file ('-' = stdout)");
  AddImportOptions(cmd, &f->import);
  cmd->callback([run, f] { *run = [f] { return RunCost(*f); }; });
}

}  // namespace snnplan::cli
