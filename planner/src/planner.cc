// Planner::Run: tile graph -> unique tile prices -> simulation -> accounting.
#include "snnplan/planner.h"

#include <atomic>
#include <map>
#include <sstream>
#include <thread>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "plan_internal.h"

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

struct Planner::Impl {
  std::shared_ptr<const ir::Workload> workload;
  hw::Hardware hardware;
  PlanOptions options;
  std::unique_ptr<cost::CostModel> cost_model;
};

Planner::Planner(ir::Workload workload, hw::Hardware hardware, PlanOptions options)
    : impl_(std::make_unique<Impl>()) {
  impl_->workload = std::make_shared<const ir::Workload>(std::move(workload));
  impl_->hardware = std::move(hardware);
  impl_->options = options;
  cost::CostOptions co;
  co.objective = options.objective;
  co.state_io = options.state_io;
  co.mapping_budget = options.mapping_budget;
  impl_->cost_model = std::make_unique<cost::CostModel>(impl_->hardware, options.core, co);
}
Planner::~Planner() = default;

const ir::Workload& Planner::workload() const { return *impl_->workload; }
const hw::Hardware& Planner::hardware() const { return impl_->hardware; }
const PlanOptions& Planner::options() const { return impl_->options; }
cost::CostModel& Planner::cost_model() { return *impl_->cost_model; }

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
      for (int64_t bits : cost::FootprintBits(ShapeOf(w, t, plan.options))) fp->second += bits;
    t.overhead_bits = std::max<int64_t>(0, PieceBytes(plan, id) * 8 - fp->second);
    auto [it, inserted] =
        index.emplace(std::pair{g, t.overhead_bits}, static_cast<int>(representative.size()));
    if (inserted) representative.push_back(static_cast<int>(id));
    t.shape = it->second;
  }
  return representative;
}

// Prices every unique shape once, on `threads` threads.
absl::Status PriceTiles(Plan& plan, cost::CostModel& model, int threads) {
  const ir::Workload& w = *plan.workload;
  const std::vector<int> representative = AssignShapes(plan);
  plan.shape_costs.assign(representative.size(), nullptr);
  std::vector<absl::Status> errors(representative.size());
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i = next++; i < representative.size(); i = next++) {
      const Tile& t = plan.graph.tiles[representative[i]];
      auto c = model.Price(ShapeOf(w, t, plan.options));
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

void Account(Plan& plan) {
  Summary& s = plan.summary;
  const ir::Workload& w = *plan.workload;
  const hw::MemoryLevel& gb = plan.hardware.cores.front().global_buffer();
  const hw::Offchip& dram = plan.hardware.offchip;
  s.dram_bytes_by_block.assign(w.num_blocks, 0);
  for (const TileRecord& r : plan.tiles) {
    const cost::TileCost& c = *plan.shape_costs[plan.graph.tiles[r.tile].shape];
    s.energy += c.energy;
    for (int o = 0; o < 4; ++o) s.energy_by_operand[o] += c.energy_by_operand[o];
    s.compute_cycles += r.end - r.start;
    s.latency_cycles = std::max(s.latency_cycles, r.end);
  }
  for (const TransferRecord& t : plan.transfers) {
    s.latency_cycles = std::max(s.latency_cycles, t.end);
    const char* cause = CauseName(t.cause);
    if (t.direction == Direction::kStream) {
      int64_t total = 0;
      for (int o = 0; o < 4; ++o) {
        s.dram.read[o] += t.stream_read[o];
        s.dram.write[o] += t.stream_write[o];
        total += t.stream_read[o] + t.stream_write[o];
      }
      s.dram_bytes_by_cause[cause] += total;
      s.dram_bytes_by_block[w.layers[plan.graph.tiles[plan.tiles[t.tile].tile].layer].block] +=
          total;
      continue;  // its energy is in the tile's cost (DRAM level of the mapping)
    }
    const int o = static_cast<int>(t.operand);
    const double bits = static_cast<double>(t.bytes) * 8;
    cost::EnergyBreakdown e;
    if (t.direction == Direction::kLoad) {
      s.dram.read[o] += t.bytes;
      e.dram_pj = bits * dram.read_energy_fj_per_bit / 1000;
      e.sram_pj = bits * gb.write_energy_fj_per_bit / 1000;
    } else {
      s.dram.write[o] += t.bytes;
      e.dram_pj = bits * dram.write_energy_fj_per_bit / 1000;
      e.sram_pj = bits * gb.read_energy_fj_per_bit / 1000;
    }
    s.energy += e;
    s.energy_by_operand[o] += e;
    s.dram_bytes_by_cause[cause] += t.bytes;
    s.dram_bytes_by_block[plan.piece_block[t.piece]] += t.bytes;
  }
  s.stall_cycles = s.latency_cycles - s.compute_cycles;
  // Peak occupancy: sweep allocation lifetimes (frees before allocations at
  // equal cycles: intervals are half-open).
  std::vector<std::pair<int64_t, int64_t>> events;
  for (const AllocationRecord& a : plan.allocations) {
    if (a.freed_at <= a.allocated_at) continue;
    events.push_back({a.allocated_at, a.bytes});
    events.push_back({a.freed_at, -a.bytes});
  }
  std::sort(events.begin(), events.end());
  int64_t live = 0;
  for (const auto& [t, delta] : events) {
    live += delta;
    s.peak_sram_bytes = std::max(s.peak_sram_bytes, live);
  }
  s.tiles = static_cast<int64_t>(plan.tiles.size());
  s.unique_tiles = static_cast<int64_t>(plan.shape_costs.size());
  s.allocations = static_cast<int64_t>(plan.allocations.size());
  s.transfers = static_cast<int64_t>(plan.transfers.size());
}

}  // namespace

absl::StatusOr<std::shared_ptr<const Plan>> Planner::Run(const Schedule& schedule) {
  auto plan = std::make_shared<Plan>();
  plan->workload = impl_->workload;
  plan->hardware = impl_->hardware;
  plan->schedule = schedule;
  plan->options = impl_->options;
  absl::StatusOr<TileGraph> graph = BuildTileGraph(*impl_->workload, schedule);
  if (!graph.ok()) return graph.status();
  plan->graph = *std::move(graph);
  plan->pieces =
      BuildPieces(*impl_->workload, plan->graph, impl_->hardware.cores.front().global_buffer(),
                  &plan->tile_inputs, &plan->tile_output, &plan->tile_state, &plan->layer_weights);
  if (absl::Status s = PriceTiles(*plan, *impl_->cost_model, impl_->options.threads); !s.ok())
    return s;
  if (absl::Status s = Simulate(*plan); !s.ok()) return s;
  plan->piece_block.resize(plan->pieces.size());
  for (size_t p = 0; p < plan->pieces.size(); ++p)
    plan->piece_block[p] = PieceBlock(*plan, static_cast<int>(p));
  Account(*plan);
  return std::shared_ptr<const Plan>(std::move(plan));
}

const Summary& GetSummary(const Plan& plan) { return plan.summary; }

nlohmann::json EnergyJson(const cost::EnergyBreakdown& e) {
  return {{"total", e.total_pj()},
          {"compute", e.compute_pj},
          {"local", e.local_pj},
          {"sram", e.sram_pj},
          {"dram", e.dram_pj}};
}

namespace {
nlohmann::json ByOperand(const std::array<int64_t, 4>& v) {
  nlohmann::json j;
  for (ir::Operand o : ir::kAllOperands)
    j[std::string(ir::OperandName(o))] = v[static_cast<int>(o)];
  return j;
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
  return {
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
      {"tiles", s.tiles},
      {"unique_tiles", s.unique_tiles},
      {"allocations", s.allocations},
      {"transfers", s.transfers},
      {"density", plan.options.density},
      {"state_io", plan.options.state_io == cost::StateIo::kZero ? "zero" : "dram"},
      {"eviction", plan.options.eviction == Eviction::kStems ? "stems" : "belady"},
  };
}

std::string DescribeSummary(const Plan& plan) {
  const Summary& s = plan.summary;
  std::ostringstream out;
  out << "schedule: " << FormatSchedule(plan.schedule) << "\n";
  out << absl::StrFormat(
      "energy: %.6g pJ total = compute %.6g + local %.6g + sram %.6g + dram %.6g\n",
      s.energy.total_pj(), s.energy.compute_pj, s.energy.local_pj, s.energy.sram_pj,
      s.energy.dram_pj);
  out << absl::StrFormat("dram: %d bytes (read %d, write %d)", s.dram.total(), s.dram.total_read(),
                         s.dram.total_write());
  for (ir::Operand o : ir::kAllOperands) {
    const int i = static_cast<int>(o);
    out << absl::StrFormat("  %s %d", std::string(ir::OperandName(o)),
                           s.dram.read[i] + s.dram.write[i]);
  }
  out << absl::StrFormat("\nlatency: %d cycles (compute %d, stalls %d)\n", s.latency_cycles,
                         s.compute_cycles, s.stall_cycles);
  out << absl::StrFormat("peak on-chip: %d bytes of %d\n", s.peak_sram_bytes,
                         plan.hardware.cores.front().global_buffer().size_bits / 8);
  out << absl::StrFormat("tiles: %d (%d unique), allocations: %d, transfers: %d\n", s.tiles,
                         s.unique_tiles, s.allocations, s.transfers);
  return out.str();
}

}  // namespace snnplan::plan
