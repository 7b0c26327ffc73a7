// Planner::Run: tile graph -> unique tile prices -> simulation -> accounting.
#include "snnplan/planner.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <sstream>
#include <thread>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "plan_internal.h"
#include "snnplan/units.h"

namespace snnplan::plan {

int64_t DramBytes::total_read() const {
  int64_t n = 0;
  for (int64_t b : read) n += b;
  return n;
}
int64_t DramBytes::total_write() const {
  int64_t n = 0;
  for (int64_t b : write) n += b;
  return n;
}
int64_t DramBytes::total() const { return total_read() + total_write(); }

namespace {

// Cores that differ only in their id price tiles identically.
bool SameCoreModel(hw::Core a, hw::Core b) {
  a.id = b.id = 0;
  return a == b;
}

}  // namespace

struct Planner::Impl {
  std::shared_ptr<const ir::Workload> workload;
  hw::Hardware hardware;
  PlanOptions options;
  // One cost model (and price cache) per distinct core design.
  std::vector<std::unique_ptr<cost::CostModel>> cost_models;
  std::vector<int> core_model;  // per hardware core: index into cost_models
  std::shared_ptr<const cost::LayerDensities> densities;  // from options.activity
};

Planner::Planner(ir::Workload workload, hw::Hardware hardware, PlanOptions options)
    : impl_(std::make_unique<Impl>()) {
  impl_->workload = std::make_shared<const ir::Workload>(std::move(workload));
  impl_->hardware = std::move(hardware);
  impl_->options = options;
  impl_->densities = std::make_shared<const cost::LayerDensities>(
      cost::DensitiesOf(options.activity.get(), *impl_->workload));
  cost::CostOptions co;
  co.objective = options.objective;
  co.state_io = options.state_io;
  co.mapping_budget = options.mapping_budget;
  const std::vector<hw::Core>& cores = impl_->hardware.cores;
  for (size_t i = 0; i < cores.size(); ++i) {
    int model = -1;
    for (size_t j = 0; j < i && model < 0; ++j)
      if (SameCoreModel(cores[i], cores[j])) model = impl_->core_model[j];
    if (model < 0) {
      model = static_cast<int>(impl_->cost_models.size());
      impl_->cost_models.push_back(
          std::make_unique<cost::CostModel>(impl_->hardware, cores[i].id, co));
    }
    impl_->core_model.push_back(model);
  }
}
Planner::~Planner() = default;

const ir::Workload& Planner::workload() const { return *impl_->workload; }
const hw::Hardware& Planner::hardware() const { return impl_->hardware; }
const PlanOptions& Planner::options() const { return impl_->options; }
const cost::LayerDensities& Planner::densities() const { return *impl_->densities; }
cost::CostModel& Planner::cost_model() {
  const int core = std::max(0, impl_->hardware.CoreIndex(impl_->options.core));
  return *impl_->cost_models[impl_->core_model[core]];
}

absl::StatusOr<CoreAllocation> ParseAllocationJson(const nlohmann::json& doc_in,
                                                   const ir::Workload& w,
                                                   const hw::Hardware& hardware) {
  // A manifest or `snnplan allocate` output carries it under "allocation".
  const bool wrapped =
      doc_in.is_object() && doc_in.contains("allocation") && doc_in.at("allocation").is_object();
  const nlohmann::json& doc = wrapped ? doc_in.at("allocation") : doc_in;
  const std::string where = wrapped ? "allocation." : "";
  if (!doc.is_object())
    return absl::InvalidArgumentError(
        absl::StrCat(where.empty() ? "(top level)" : "allocation",
                     ": expected an object {\"layer name\": core id, ...}, got ", doc.type_name()));
  std::map<std::string, int> by_name;
  for (size_t l = 0; l < w.layers.size(); ++l)
    by_name.emplace(w.layers[l].name, static_cast<int>(l));
  CoreAllocation a;
  a.layer_core.assign(w.layers.size(), -1);
  for (const auto& [name, core] : doc.items()) {
    auto it = by_name.find(name);
    if (it == by_name.end())
      return absl::InvalidArgumentError(
          absl::StrCat(where, name, ": no layer of this name in the model"));
    const int64_t id = core.is_number_integer() ? core.get<int64_t>() : -1;
    if (id < 0 || id > (1 << 16) || hardware.CoreIndex(static_cast<int>(id)) < 0)
      return absl::InvalidArgumentError(absl::StrCat(where, name,
                                                     ": expected a core id of hardware '",
                                                     hardware.name, "', got ", core.dump()));
    a.layer_core[it->second] = static_cast<int>(id);
  }
  std::vector<std::string> missing;
  for (size_t l = 0; l < w.layers.size(); ++l)
    if (a.layer_core[l] < 0) missing.push_back(w.layers[l].name);
  if (!missing.empty())
    return absl::InvalidArgumentError(absl::StrCat("allocation: no core for layer(s) ",
                                                   absl::StrJoin(missing, ", "),
                                                   " (every layer must be listed)"));
  return a;
}

nlohmann::json AllocationToJson(const CoreAllocation& allocation, const ir::Workload& w,
                                int default_core) {
  nlohmann::json j = nlohmann::json::object();
  for (size_t l = 0; l < w.layers.size(); ++l)
    j[w.layers[l].name] =
        l < allocation.layer_core.size() ? allocation.layer_core[l] : default_core;
  return j;
}

namespace {

// Bytes of the pieces a tile keeps on chip (inputs, output, state, weights).
int64_t PieceBytes(const Plan& plan, size_t id) {
  const Tile& t = plan.graph.tiles[id];
  int64_t bytes = plan.pieces[plan.tile_output[id]].bytes;
  for (int p : plan.tile_inputs[id]) bytes += plan.pieces[p].bytes;
  if (plan.tile_state[id] >= 0) bytes += plan.pieces[plan.tile_state[id]].bytes;
  if (plan.layer_weights[t.layer] >= 0) bytes += plan.pieces[plan.layer_weights[t.layer]].bytes;
  return bytes;
}

// Gives each tile its unique cost shape and returns one tile per shape. The
// planner keeps whole pieces on chip, word-rounded; what exceeds the cost
// model's operand footprint (computed once per geometry, not per tile: this
// runs for every schedule explored) shrinks the capacity the mapping may use.
std::vector<int> AssignShapes(Plan& plan) {
  const ir::Workload& w = *plan.workload;
  using Geometry = std::tuple<int, int64_t, int64_t, int64_t, bool, bool>;
  std::map<Geometry, int64_t> footprint_bits;
  std::map<std::pair<Geometry, int64_t>, int> index;
  std::vector<int> representative;
  for (size_t id = 0; id < plan.graph.tiles.size(); ++id) {
    Tile& t = plan.graph.tiles[id];
    const Geometry g{t.layer,   t.t.size(),     t.rows.size(),
                     t.in_rows, t.t.begin == 0, t.t.end == w.layers[t.layer].dims.T};
    auto [fp, fresh] = footprint_bits.emplace(g, 0);
    if (fresh)
      for (int64_t bits : cost::FootprintBits(ShapeOf(w, t, plan.options, *plan.densities)))
        fp->second += bits;
    t.overhead_bits = std::max<int64_t>(0, PieceBytes(plan, id) * 8 - fp->second);
    auto [it, inserted] =
        index.emplace(std::pair{g, t.overhead_bits}, static_cast<int>(representative.size()));
    if (inserted) representative.push_back(static_cast<int>(id));
    t.shape = it->second;
  }
  return representative;
}

// Prices every unique shape once, on `threads` threads, with the cost model
// of the core its layer runs on (`models`: per hardware core).
absl::Status PriceTiles(Plan& plan, const std::vector<cost::CostModel*>& models, int threads) {
  const ir::Workload& w = *plan.workload;
  const std::vector<int> representative = AssignShapes(plan);
  plan.shape_costs.assign(representative.size(), nullptr);
  std::vector<absl::Status> errors(representative.size());
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i = next++; i < representative.size(); i = next++) {
      const Tile& t = plan.graph.tiles[representative[i]];
      auto c =
          models[plan.layer_core[t.layer]]->Price(ShapeOf(w, t, plan.options, *plan.densities));
      if (c.ok())
        plan.shape_costs[i] = *c;
      else
        errors[i] = c.status();
    }
  };
  std::vector<std::thread> pool;
  for (int i = 1; i < std::max(1, threads); ++i) pool.emplace_back(worker);
  worker();
  for (std::thread& th : pool) th.join();
  for (size_t i = 0; i < errors.size(); ++i)
    if (!errors[i].ok()) {
      const Tile& t = plan.graph.tiles[representative[i]];
      return absl::Status(errors[i].code(),
                          absl::StrCat("pricing a tile of layer '", w.layers[t.layer].name,
                                       "': ", errors[i].message()));
    }
  return absl::OkStatus();
}

int PieceBlock(const Plan& plan, int piece) {
  const Piece& p = plan.pieces[piece];
  if (p.layer >= 0) return plan.workload->layers[p.layer].block;
  const ir::Workload& w = *plan.workload;
  for (const ir::Layer& l : w.layers)
    for (int in : l.inputs)
      if (in == ir::kNetworkInput) return l.block;
  return 0;
}

// Bytes per Cause, turned into the summary's named map once at the end.
using CauseBytes = std::array<int64_t, static_cast<int>(Cause::kStream) + 1>;

// DRAM bytes and energy of a load or store; NoC energy and bytes.
void AccountTransfer(const Plan& plan, const TransferRecord& t, Summary& s, CauseBytes& by_cause) {
  const int o = static_cast<int>(t.operand);
  if (t.direction == Direction::kNoc) {
    s.energy += t.noc_energy;
    s.energy_by_operand[o] += t.noc_energy;
    s.noc_bytes += t.link_bytes;
    ++s.noc_transfers;
    return;
  }
  // The DRAM side moves the link bytes, the global buffer the allocation's.
  const hw::MemoryLevel& gb = plan.hardware.cores[t.core].global_buffer();
  const hw::Offchip& dram = plan.hardware.offchip;
  const double link_bits = static_cast<double>(t.link_bytes) * 8;
  const double onchip_bits = static_cast<double>(t.bytes) * 8;
  cost::EnergyBreakdown e;
  if (t.direction == Direction::kLoad) {
    s.dram.read[o] += t.link_bytes;
    e.dram_pj = link_bits * dram.read_energy_fj_per_bit / 1000;
    e.sram_pj = onchip_bits * gb.write_energy_fj_per_bit / 1000;
  } else {
    s.dram.write[o] += t.link_bytes;
    e.dram_pj = link_bits * dram.write_energy_fj_per_bit / 1000;
    e.sram_pj = onchip_bits * gb.read_energy_fj_per_bit / 1000;
  }
  s.energy += e;
  s.energy_by_operand[o] += e;
  by_cause[static_cast<int>(t.cause)] += t.link_bytes;
  s.dram_bytes_by_block[plan.piece_block[t.piece]] += t.link_bytes;
}

void AccountStream(const Plan& plan, const TransferRecord& t, Summary& s, CauseBytes& by_cause) {
  int64_t total = 0;
  for (int o = 0; o < 4; ++o) {
    s.dram.read[o] += t.stream_read[o];
    s.dram.write[o] += t.stream_write[o];
    total += t.stream_read[o] + t.stream_write[o];
  }
  by_cause[static_cast<int>(t.cause)] += total;
  const int layer = plan.graph.tiles[plan.tiles[t.tile].tile].layer;
  s.dram_bytes_by_block[plan.workload->layers[layer].block] += total;
  // its energy is in the tile's cost (DRAM level of the mapping)
}

// Peak occupancy per core: sweep allocation lifetimes (frees before
// allocations at equal cycles: intervals are half-open).
void AccountPeaks(const Plan& plan, Summary& s) {
  std::vector<std::vector<std::pair<int64_t, int64_t>>> events(plan.hardware.cores.size());
  for (const AllocationRecord& a : plan.allocations) {
    if (a.freed_at <= a.allocated_at) continue;
    events[a.core].push_back({a.allocated_at, a.bytes});
    events[a.core].push_back({a.freed_at, -a.bytes});
  }
  for (size_t c = 0; c < events.size(); ++c) {
    std::sort(events[c].begin(), events[c].end());
    int64_t live = 0;
    for (const auto& [t, delta] : events[c]) {
      live += delta;
      s.cores[c].peak_sram_bytes = std::max(s.cores[c].peak_sram_bytes, live);
    }
    s.peak_sram_bytes = std::max(s.peak_sram_bytes, s.cores[c].peak_sram_bytes);
  }
}

}  // namespace

Summary AccountRecords(const Plan& plan, int64_t before_cycle) {
  Summary s;
  s.dram_bytes_by_block.assign(plan.workload->num_blocks, 0);
  for (const hw::Core& c : plan.hardware.cores) s.cores.push_back({c.id, 0, 0, 0});
  s.layer_busy_cycles.assign(plan.workload->layers.size(), 0);
  for (const TileRecord& r : plan.tiles) {
    if (r.start >= before_cycle) continue;
    const Tile& tile = plan.graph.tiles[r.tile];
    const cost::TileCost& c = *plan.shape_costs[tile.shape];
    s.energy += c.energy;
    for (int o = 0; o < 4; ++o) s.energy_by_operand[o] += c.energy_by_operand[o];
    s.compute_cycles += r.end - r.start;
    s.latency_cycles = std::max(s.latency_cycles, r.end);
    s.layer_busy_cycles[tile.layer] += r.end - r.start;
    Summary::CoreUse& use = s.cores[plan.layer_core[tile.layer]];
    ++use.tiles;
    use.busy_cycles += r.end - r.start;
    ++s.tiles;
  }
  CauseBytes by_cause = {};
  std::array<bool, by_cause.size()> seen = {};
  for (const TransferRecord& t : plan.transfers) {
    if (t.start >= before_cycle) continue;
    s.latency_cycles = std::max(s.latency_cycles, t.end);
    seen[static_cast<int>(t.cause)] |= t.direction != Direction::kNoc;
    if (t.direction == Direction::kStream)
      AccountStream(plan, t, s, by_cause);
    else
      AccountTransfer(plan, t, s, by_cause);
    ++s.transfers;
  }
  for (size_t c = 0; c < by_cause.size(); ++c)
    if (seen[c]) s.dram_bytes_by_cause[CauseName(static_cast<Cause>(c))] = by_cause[c];
  int64_t busiest = 0;
  for (const Summary::CoreUse& use : s.cores) busiest = std::max(busiest, use.busy_cycles);
  s.stall_cycles = s.latency_cycles - busiest;
  return s;
}

namespace {

// Summary::networks and shared_input: every record accounted as above, into
// the summary of the network it belongs to.
void AccountNetworks(const Plan& plan, Summary& total) {
  const ir::Workload& w = *plan.workload;
  if (w.networks.empty()) return;
  const size_t n = w.networks.size();
  std::vector<int> network(w.layers.size(), 0);
  for (size_t k = 0; k < n; ++k)
    for (int l = w.networks[k].first_layer; l < w.networks[k].end_layer; ++l)
      network[l] = static_cast<int>(k);
  std::vector<Summary> part(n + 1);  // [n]: the shared network input
  std::vector<Summary::NetworkUse> use(n + 1);
  std::vector<bool> started(n + 1, false);
  for (Summary& s : part) s.dram_bytes_by_block.assign(w.num_blocks, 0);
  for (const TileRecord& r : plan.tiles) {
    const Tile& tile = plan.graph.tiles[r.tile];
    const int k = network[tile.layer];
    part[k].energy += plan.shape_costs[tile.shape]->energy;
    ++use[k].tiles;
    use[k].busy_cycles += r.end - r.start;
    use[k].start_cycle = started[k] ? std::min(use[k].start_cycle, r.start) : r.start;
    started[k] = true;
    use[k].end_cycle = std::max(use[k].end_cycle, r.end);
  }
  CauseBytes by_cause = {};
  for (const TransferRecord& t : plan.transfers) {
    int layer = -1;
    if (t.direction == Direction::kStream)
      layer = plan.graph.tiles[plan.tiles[t.tile].tile].layer;
    else if (t.piece >= 0)
      layer = plan.pieces[t.piece].layer;
    const size_t k = layer >= 0 ? static_cast<size_t>(network[layer]) : n;
    if (t.direction == Direction::kStream)
      AccountStream(plan, t, part[k], by_cause);
    else
      AccountTransfer(plan, t, part[k], by_cause);
    use[k].end_cycle = std::max(use[k].end_cycle, t.end);
  }
  for (size_t k = 0; k <= n; ++k) {
    use[k].energy = part[k].energy;
    use[k].dram = part[k].dram;
    use[k].noc_bytes = part[k].noc_bytes;
  }
  total.shared_input = use[n];
  use.pop_back();
  total.networks = std::move(use);
}

void Account(Plan& plan) {
  plan.summary = AccountRecords(plan, kEveryRecord);
  Summary& s = plan.summary;
  AccountNetworks(plan, s);
  AccountPeaks(plan, s);
  s.unique_tiles = static_cast<int64_t>(plan.shape_costs.size());
  s.allocations = static_cast<int64_t>(plan.allocations.size());
  if (plan.options.exit_profile) s.expected = Expect(plan, *plan.options.exit_profile);
}

// Core index per layer: the allocation's, or every layer on options.core.
absl::StatusOr<std::vector<int>> CoresOfLayers(const ir::Workload& w, const hw::Hardware& hw,
                                               const CoreAllocation& allocation, int default_core) {
  if (!allocation.layer_core.empty() && allocation.layer_core.size() != w.layers.size())
    return absl::InvalidArgumentError(absl::StrCat("allocation lists ",
                                                   allocation.layer_core.size(),
                                                   " layers, the model has ", w.layers.size()));
  std::vector<int> cores(w.layers.size());
  for (size_t l = 0; l < w.layers.size(); ++l) {
    const int id = allocation.layer_core.empty() ? default_core : allocation.layer_core[l];
    cores[l] = hw.CoreIndex(id);
    if (cores[l] < 0)
      return absl::InvalidArgumentError(absl::StrCat("layer '", w.layers[l].name, "': core ", id,
                                                     " is not a core of hardware '", hw.name, "'"));
  }
  return cores;
}

}  // namespace

absl::StatusOr<std::vector<int>> Planner::LayerCores(const CoreAllocation& allocation) const {
  return CoresOfLayers(*impl_->workload, impl_->hardware, allocation, impl_->options.core);
}

namespace {
// Places the weights of every conv/linear layer on a core with crossbars
// into that core's arrays, in layer order; ResourceExhausted naming the
// first layer that does not fit in what the layers before it left.
absl::StatusOr<std::vector<Summary::CrossbarUse>> PlaceCrossbarWeights(
    const ir::Workload& w, const hw::Hardware& hw, const std::vector<int>& layer_core) {
  std::vector<Summary::CrossbarUse> uses(hw.cores.size());
  for (size_t c = 0; c < hw.cores.size(); ++c) {
    uses[c].core = hw.cores[c].id;
    uses[c].arrays = hw.cores[c].imc.arrays;
  }
  for (size_t l = 0; l < w.layers.size(); ++l) {
    const ir::Layer& layer = w.layers[l];
    const hw::Core& core = hw.cores[layer_core[l]];
    if (!cost::RunsOnCrossbars(layer, core)) continue;
    const cost::CrossbarMapping m = cost::MapOnCrossbars(layer, layer.dims.K, core.imc);
    Summary::CrossbarUse& u = uses[layer_core[l]];
    if (u.arrays_used + m.arrays > u.arrays)
      return absl::ResourceExhaustedError(absl::StrCat(
          "layer '", layer.name, "' needs ", m.arrays, " crossbar arrays for its weights but only ",
          u.arrays - u.arrays_used, " of the ", u.arrays, " arrays of core ", core.id,
          " are left after the ", u.layers, " conv/linear layer(s) before it (", u.arrays_used,
          " arrays): weights stay in the crossbars for the whole deployment, so every such "
          "layer keeps its own arrays; use hardware with more imc.arrays, or spread the layers "
          "over more cores (allocate)"));
    const int64_t bits = layer.WeightsUsed() * layer.precision.weight_bits;
    u.arrays_used += m.arrays;
    u.layers += 1;
    u.cells += m.cells;
    u.weight_bytes += (bits + 7) / 8;
  }
  std::vector<Summary::CrossbarUse> out;
  for (size_t c = 0; c < hw.cores.size(); ++c) {
    if (!hw.cores[c].imc.present()) continue;
    Summary::CrossbarUse& u = uses[c];
    const double read_bits = static_cast<double>(u.weight_bytes) * 8;
    u.program_energy_pj = (static_cast<double>(u.cells) * hw.cores[c].imc.write_energy_fj_per_cell +
                           read_bits * hw.offchip.read_energy_fj_per_bit) /
                          1000;
    const int64_t bw = hw.offchip.bw_bits_per_cycle;
    u.program_cycles = (u.weight_bytes * 8 + bw - 1) / bw;
    out.push_back(u);
  }
  return out;
}
}  // namespace

absl::StatusOr<std::shared_ptr<const Plan>> Planner::Run(const Schedule& schedule,
                                                         const CoreAllocation& allocation) {
  if (impl_->options.activity &&
      (impl_->options.density != 1.0 || !impl_->options.layer_density.empty()))
    return absl::InvalidArgumentError(
        "activity and density both set: measured activity is priced where the hardware "
        "exploits it, density scales SOP energy on any hardware; use one");
  auto plan = std::make_shared<Plan>();
  plan->workload = impl_->workload;
  plan->hardware = impl_->hardware;
  plan->schedule = schedule;
  plan->options = impl_->options;
  plan->densities = impl_->densities;
  absl::StatusOr<std::vector<int>> cores = LayerCores(allocation);
  if (!cores.ok()) return cores.status();
  plan->layer_core = *std::move(cores);
  absl::StatusOr<std::vector<Summary::CrossbarUse>> crossbars =
      PlaceCrossbarWeights(*impl_->workload, impl_->hardware, plan->layer_core);
  if (!crossbars.ok()) return crossbars.status();
  absl::StatusOr<TileGraph> graph = BuildTileGraph(*impl_->workload, schedule);
  if (!graph.ok()) return graph.status();
  plan->graph = *std::move(graph);
  plan->pieces =
      BuildPieces(*impl_->workload, plan->graph, impl_->hardware, plan->layer_core,
                  &plan->tile_inputs, &plan->tile_output, &plan->tile_state, &plan->layer_weights);
  SetLinkBytes(*impl_->workload, plan->graph.input, impl_->hardware, *impl_->densities,
               plan->pieces);
  std::vector<cost::CostModel*> models;
  for (int m : impl_->core_model) models.push_back(impl_->cost_models[m].get());
  if (absl::Status s = PriceTiles(*plan, models, impl_->options.threads); !s.ok()) return s;
  if (absl::Status s = Simulate(*plan); !s.ok()) return s;
  plan->piece_block.resize(plan->pieces.size());
  for (size_t p = 0; p < plan->pieces.size(); ++p)
    plan->piece_block[p] = PieceBlock(*plan, static_cast<int>(p));
  Account(*plan);
  plan->summary.crossbars = *std::move(crossbars);
  return std::shared_ptr<const Plan>(std::move(plan));
}

const Summary& GetSummary(const Plan& plan) { return plan.summary; }
const hw::Hardware& GetHardware(const Plan& plan) { return plan.hardware; }

nlohmann::json EnergyJson(const cost::EnergyBreakdown& e) {
  return {{"total", e.total_pj()}, {"compute", e.compute_pj}, {"local", e.local_pj},
          {"sram", e.sram_pj},     {"dram", e.dram_pj},       {"noc", e.noc_pj}};
}

namespace {
nlohmann::json ByOperand(const std::array<int64_t, 4>& v) {
  nlohmann::json j;
  for (ir::Operand o : ir::kAllOperands)
    j[std::string(ir::OperandName(o))] = v[static_cast<int>(o)];
  return j;
}
}  // namespace

namespace {
// Expected over static: how much of the static-T cost early exit keeps.
double Ratio(double expected, double full) { return full > 0 ? expected / full : 1.0; }

nlohmann::json ExpectedJson(const Plan& plan) {
  const ExpectedCost& x = *plan.summary.expected;
  const ExitProfile& profile = *plan.options.exit_profile;
  const Summary& s = plan.summary;
  nlohmann::json layers = nlohmann::json::array(), steps = nlohmann::json::array();
  for (int l : profile.exit_layers) layers.push_back(plan.workload->layers[l].name);
  for (const ExitStep& e : x.steps)
    steps.push_back({{"timesteps", e.timesteps},
                     {"probability", e.probability},
                     {"check_cycle", e.check_cycle},
                     {"check_after_tile", e.check_after_tile},
                     {"latency_cycles", e.latency_cycles},
                     {"energy_pj", e.energy.total_pj()},
                     {"dram_bytes", e.dram.total()},
                     {"tiles", e.tiles},
                     {"transfers", e.transfers}});
  return {{"exit_profile",
           {{"file", profile.file},
            {"policy", profile.policy},
            {"output", profile.output},
            {"model", profile.model},
            {"model_sha256", profile.model_sha256}}},
          {"exit_layers", layers},
          {"batch", plan.workload->batch},
          {"mean_timesteps", x.mean_timesteps},
          {"energy_pj", EnergyJson(x.energy)},
          {"dram_bytes",
           {{"total", x.dram_bytes()}, {"read", x.dram_read_bytes}, {"write", x.dram_write_bytes}}},
          {"latency_cycles", x.latency_cycles},
          {"edp_pj_cycles", x.edp_pj_cycles},
          {"fraction_of_static",
           {{"energy", Ratio(x.energy.total_pj(), s.energy.total_pj())},
            {"dram_bytes", Ratio(x.dram_bytes(), static_cast<double>(s.dram.total()))},
            {"latency", Ratio(x.latency_cycles, static_cast<double>(s.latency_cycles))}}},
          {"by_exit_step", steps}};
}

nlohmann::json CoresJson(const Plan& plan) {
  nlohmann::json cores = nlohmann::json::array();
  for (size_t c = 0; c < plan.summary.cores.size(); ++c) {
    const Summary::CoreUse& u = plan.summary.cores[c];
    const hw::MemoryLevel& gb = plan.hardware.cores[c].global_buffer();
    cores.push_back({{"core", u.core},
                     {"memory", gb.name},
                     {"capacity_bytes", gb.size_bits / 8},
                     {"peak_sram_bytes", u.peak_sram_bytes},
                     {"tiles", u.tiles},
                     {"busy_cycles", u.busy_cycles}});
  }
  return cores;
}
}  // namespace

nlohmann::json SummaryToJson(const Plan& plan) {
  const Summary& s = plan.summary;
  std::array<int64_t, 4> both{};
  for (int o = 0; o < 4; ++o) both[o] = s.dram.read[o] + s.dram.write[o];
  nlohmann::json by_operand_energy;
  for (ir::Operand o : ir::kAllOperands)
    by_operand_energy[std::string(ir::OperandName(o))] =
        EnergyJson(s.energy_by_operand[static_cast<int>(o)]);
  nlohmann::json j = {
      {"energy_pj", EnergyJson(s.energy)},
      {"memory_energy_pj_by_operand", by_operand_energy},
      {"dram_bytes",
       {{"total", s.dram.total()},
        {"read", s.dram.total_read()},
        {"write", s.dram.total_write()},
        {"by_operand", ByOperand(both)},
        {"read_by_operand", ByOperand(s.dram.read)},
        {"write_by_operand", ByOperand(s.dram.write)},
        {"by_cause", s.dram_bytes_by_cause},
        {"by_block", s.dram_bytes_by_block}}},
      {"latency_cycles", s.latency_cycles},
      {"compute_cycles", s.compute_cycles},
      {"stall_cycles", s.stall_cycles},
      {"peak_sram_bytes", s.peak_sram_bytes},
      {"noc_bytes", s.noc_bytes},
      {"noc_transfers", s.noc_transfers},
      {"cores", CoresJson(plan)},
      {"tiles", s.tiles},
      {"unique_tiles", s.unique_tiles},
      {"allocations", s.allocations},
      {"transfers", s.transfers},
      {"density", plan.options.density},
      {"state_io", plan.options.state_io == cost::StateIo::kZero ? "zero" : "dram"},
      {"eviction", plan.options.eviction == Eviction::kStems ? "stems" : "belady"},
      {"hardware", {{"name", plan.hardware.name}}},
  };
  // Only when the hardware states its clock (hw::Hardware::clock_hz).
  if (plan.hardware.clock_hz > 0) {
    j["hardware"]["clock_hz"] = plan.hardware.clock_hz;
    j["latency_s"] = static_cast<double>(s.latency_cycles) / plan.hardware.clock_hz;
  }
  if (s.expected) {
    j["expected"] = ExpectedJson(plan);
    if (plan.hardware.clock_hz > 0)
      j["expected"]["latency_s"] = s.expected->latency_cycles / plan.hardware.clock_hz;
  }
  if (!s.crossbars.empty()) {  // only with crossbars, so other plans read as before
    nlohmann::json xs = nlohmann::json::array();
    for (const Summary::CrossbarUse& u : s.crossbars)
      xs.push_back({{"core", u.core},
                    {"arrays", u.arrays},
                    {"arrays_used", u.arrays_used},
                    {"layers", u.layers},
                    {"cells_programmed", u.cells},
                    {"program_dram_read_bytes", u.weight_bytes},
                    {"program_energy_pj", u.program_energy_pj},
                    {"program_cycles", u.program_cycles},
                    {"per", "deployment"}});
    j["crossbars"] = xs;
  }
  if (!plan.workload->networks.empty()) {  // several models only: one model reads as before
    auto use_json = [&](const Summary::NetworkUse& u) {
      return nlohmann::json{{"energy_pj", EnergyJson(u.energy)},
                            {"dram_bytes",
                             {{"total", u.dram.total()},
                              {"read", u.dram.total_read()},
                              {"write", u.dram.total_write()}}},
                            {"noc_bytes", u.noc_bytes},
                            {"tiles", u.tiles},
                            {"busy_cycles", u.busy_cycles},
                            {"start_cycle", u.start_cycle},
                            {"end_cycle", u.end_cycle}};
    };
    nlohmann::json nets = nlohmann::json::array();
    for (size_t k = 0; k < s.networks.size(); ++k) {
      nlohmann::json e = use_json(s.networks[k]);
      e["network"] = plan.workload->networks[k].name;
      nets.push_back(std::move(e));
    }
    j["by_network"] = nets;
    nlohmann::json shared = use_json(s.shared_input);
    for (const char* key : {"tiles", "busy_cycles", "start_cycle"}) shared.erase(key);
    j["shared_input"] = shared;
  }
  if (plan.options.activity)  // only then, so plans without one read as before
    j["activity"] = cost::ActivityRecordJson(*plan.options.activity, *plan.densities,
                                             *plan.workload, plan.hardware);
  return j;
}

namespace {
// One line: the activity file and what of it the hardware exploits.
std::string DescribeActivity(const Plan& plan) {
  const cost::ActivityFile& a = *plan.options.activity;
  std::vector<std::string> exploits;
  bool zero_skipping = false, sparse_speedup = false;
  for (const hw::Core& c : plan.hardware.cores) {
    zero_skipping = zero_skipping || c.operational_array.zero_skipping;
    sparse_speedup = sparse_speedup || c.operational_array.sparse_speedup;
  }
  if (zero_skipping) exploits.push_back("zero-skipping");
  if (sparse_speedup) exploits.push_back("sparse speed-up");
  if (plan.hardware.spike_encoding.format != hw::SpikeFormat::kDense)
    exploits.push_back(absl::StrCat(
        std::string(hw::SpikeFormatName(plan.hardware.spike_encoding.format)), " links"));
  return absl::StrFormat("activity: %s (%d of %d layers measured); hardware exploits %s\n", a.file,
                         a.layers.size(), plan.workload->layers.size(),
                         exploits.empty() ? "none: priced dense" : absl::StrJoin(exploits, ", "));
}

// The expected cost under early exit, against the static-T cost above.
std::string DescribeExpected(const Plan& plan) {
  const ExpectedCost& x = *plan.summary.expected;
  const Summary& s = plan.summary;
  const ExitProfile& p = *plan.options.exit_profile;
  std::ostringstream out;
  out << absl::StrFormat("early exit (%s%s): %.3g of %d timesteps on average", p.file,
                         p.policy.empty() ? "" : absl::StrCat(", ", p.policy), x.mean_timesteps,
                         plan.workload->timesteps);
  if (plan.workload->batch > 1)
    out << absl::StrFormat(" (a batch of %d stops when its last sample exits)",
                           plan.workload->batch);
  auto percent = [](double expected, double full) {
    return absl::StrFormat("%.1f%%", 100 * Ratio(expected, full));
  };
  out << "\n  expected energy " << units::Energy(x.energy.total_pj()) << " ("
      << percent(x.energy.total_pj(), s.energy.total_pj()) << " of static T), DRAM traffic "
      << units::Bytes(x.dram_bytes()) << " ("
      << percent(x.dram_bytes(), static_cast<double>(s.dram.total())) << "), latency "
      << units::Latency(x.latency_cycles, plan.hardware.clock_hz) << " ("
      << percent(x.latency_cycles, static_cast<double>(s.latency_cycles)) << ")\n";
  return out.str();
}
}  // namespace

std::string DescribeSummary(const Plan& plan) {
  using units::Bytes;
  using units::Count;
  using units::Energy;
  const Summary& s = plan.summary;
  std::ostringstream out;
  out << "schedule: " << FormatSchedule(plan.schedule) << "\n";
  out << "energy: " << Energy(s.energy.total_pj()) << " = compute " << Energy(s.energy.compute_pj)
      << " + local " << Energy(s.energy.local_pj) << " + sram " << Energy(s.energy.sram_pj)
      << " + dram " << Energy(s.energy.dram_pj);
  if (s.noc_transfers > 0) out << " + noc " << Energy(s.energy.noc_pj);
  out << "\n";
  out << "DRAM traffic: " << Bytes(static_cast<double>(s.dram.total())) << " (read "
      << Bytes(static_cast<double>(s.dram.total_read())) << ", write "
      << Bytes(static_cast<double>(s.dram.total_write())) << ";";
  for (ir::Operand o : ir::kAllOperands) {
    const int i = static_cast<int>(o);
    out << (o == ir::kAllOperands[0] ? " " : ", ") << ir::OperandName(o) << " "
        << Bytes(static_cast<double>(s.dram.read[i] + s.dram.write[i]));
  }
  out << ")\n";
  const double clock_hz = plan.hardware.clock_hz;
  // "latency: 28.4M cycles (142 ms; compute 27.0M, stalls 1.48M)", the time
  // only when the hardware states its clock.
  out << "latency: " << units::Cycles(static_cast<double>(s.latency_cycles)) << " (";
  if (clock_hz > 0)
    out << units::Time(static_cast<double>(s.latency_cycles) / clock_hz) << "; ";
  out << "compute " << Count(static_cast<double>(s.compute_cycles)) << ", stalls "
      << Count(static_cast<double>(s.stall_cycles)) << ")\n";
  std::vector<size_t> used;  // cores that ran tiles
  for (size_t c = 0; c < s.cores.size(); ++c)
    if (s.cores[c].tiles > 0) used.push_back(c);
  if (used.size() <= 1) {
    const size_t c = used.empty() ? 0 : used.front();
    out << "peak on-chip: " << Bytes(static_cast<double>(s.peak_sram_bytes)) << " of "
        << Bytes(static_cast<double>(plan.hardware.cores[c].global_buffer().size_bits / 8))
        << "\n";
  } else {
    for (size_t c = 0; c < s.cores.size(); ++c)
      out << "core " << s.cores[c].core << ": " << units::Grouped(s.cores[c].tiles)
          << " tiles, busy " << units::Cycles(static_cast<double>(s.cores[c].busy_cycles))
          << ", peak on-chip " << Bytes(static_cast<double>(s.cores[c].peak_sram_bytes)) << " of "
          << Bytes(static_cast<double>(plan.hardware.cores[c].global_buffer().size_bits / 8))
          << "\n";
    out << "noc: " << Bytes(static_cast<double>(s.noc_bytes)) << " in "
        << units::Grouped(s.noc_transfers) << " transfers\n";
  }
  out << "tiles: " << units::Grouped(s.tiles) << " (" << units::Grouped(s.unique_tiles)
      << " unique), allocations: " << units::Grouped(s.allocations)
      << ", transfers: " << units::Grouped(s.transfers) << "\n";
  for (const Summary::CrossbarUse& u : s.crossbars)
    out << "crossbars (core " << u.core << "): " << units::Grouped(u.arrays_used) << " of "
        << units::Grouped(u.arrays) << " arrays hold the weights of " << u.layers
        << " layer(s); programmed once per deployment, not in the totals above: "
        << Bytes(static_cast<double>(u.weight_bytes)) << " read from DRAM, "
        << units::Grouped(u.cells) << " cells written, " << Energy(u.program_energy_pj) << "\n";
  if (!s.networks.empty()) {
    // One line per network, and the shared input's loads: they sum to the totals.
    const ir::Workload& w = *plan.workload;
    for (size_t k = 0; k < s.networks.size(); ++k) {
      const Summary::NetworkUse& u = s.networks[k];
      const ir::Network& net = w.networks[k];
      out << "network " << net.name << " (" << net.file << ", layers " << net.first_layer << ".."
          << net.end_layer - 1 << "): energy " << Energy(u.energy.total_pj()) << ", DRAM "
          << Bytes(static_cast<double>(u.dram.total())) << ", busy "
          << units::Cycles(static_cast<double>(u.busy_cycles)) << ", done at "
          << units::Latency(static_cast<double>(u.end_cycle), clock_hz) << "\n";
    }
    out << "shared network input (read by all " << s.networks.size() << " networks): energy "
        << Energy(s.shared_input.energy.total_pj()) << ", DRAM "
        << Bytes(static_cast<double>(s.shared_input.dram.total())) << "\n";
  }
  if (plan.options.activity) out << DescribeActivity(plan);
  if (s.expected) out << DescribeExpected(plan);
  return out.str();
}

}  // namespace snnplan::plan
