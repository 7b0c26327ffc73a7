// The deployable schedule manifest (docs/manifest.md), streamed element by
// element so large plans never build one giant JSON document in memory.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "plan_internal.h"

namespace snnplan::plan {
namespace {

std::string TileId(const Plan& plan, int tile_id) {
  const Tile& t = plan.graph.tiles[tile_id];
  return absl::StrCat("L", t.layer, ".s", t.sample, ".t", t.t.begin, "-", t.t.end, ".y",
                      t.rows.begin, "-", t.rows.end);
}

nlohmann::json RangeJson(const Range& r) { return nlohmann::json::array({r.begin, r.end}); }

int CoreId(const Plan& plan, int core_index) { return plan.hardware.cores[core_index].id; }
const std::string& MemoryName(const Plan& plan, int core_index) {
  return plan.hardware.cores[core_index].global_buffer().name;
}

// A copy on another core is the same tensor slice: it shows its original's id.
nlohmann::json PieceJson(const Plan& plan, int piece) {
  piece = Original(plan.pieces, piece);
  const Piece& p = plan.pieces[piece];
  const char* kind = p.kind == PieceKind::kWeights ? "weights"
                     : p.kind == PieceKind::kState ? "state"
                     : p.kind == PieceKind::kInput ? "input"
                                                   : "feature";
  nlohmann::json j = {{"kind", kind},        {"operand", std::string(ir::OperandName(p.operand))},
                      {"piece", piece},      {"sample", p.sample},
                      {"t", RangeJson(p.t)}, {"rows", RangeJson(p.rows)}};
  j["layer"] =
      p.layer >= 0 ? nlohmann::json(plan.workload->layers[p.layer].name) : nlohmann::json(nullptr);
  return j;
}

nlohmann::json TileJson(const Plan& plan, size_t position) {
  const TileRecord& r = plan.tiles[position];
  const Tile& t = plan.graph.tiles[r.tile];
  const ir::Layer& l = plan.workload->layers[t.layer];
  return {{"id", TileId(plan, r.tile)},
          {"index", position},
          {"layer", l.name},
          {"layer_id", t.layer},
          {"block", l.block},
          {"sample", t.sample},
          {"t", RangeJson(t.t)},
          {"rows", RangeJson(t.rows)},
          {"cols", RangeJson({0, l.dims.OX})},
          {"channels", RangeJson({0, l.dims.G * l.dims.K})},
          {"core", CoreId(plan, plan.layer_core[t.layer])},
          {"start", r.start},
          {"end", r.end},
          {"energy_pj", EnergyJson(r.energy)},
          {"reads", r.reads},
          {"writes", r.writes}};
}

nlohmann::json AllocationJson(const Plan& plan, size_t id) {
  const AllocationRecord& a = plan.allocations[id];
  return {{"id", id},
          {"memory", MemoryName(plan, a.core)},
          {"core", CoreId(plan, a.core)},
          {"offset", a.offset},
          {"bytes", a.bytes},
          {"holds", PieceJson(plan, a.piece)},
          {"allocated_at", a.allocated_at},
          {"freed_at", a.freed_at}};
}

nlohmann::json TransferJson(const Plan& plan, size_t id) {
  const TransferRecord& t = plan.transfers[id];
  nlohmann::json j = {{"id", id},
                      {"cause", CauseName(t.cause)},
                      {"start", t.start},
                      {"end", t.end},
                      {"core", CoreId(plan, t.core)}};
  if (t.direction == Direction::kStream) {
    int64_t bytes = 0;
    nlohmann::json ops = nlohmann::json::object();
    for (ir::Operand o : ir::kAllOperands) {
      const int i = static_cast<int>(o);
      if (t.stream_read[i] == 0 && t.stream_write[i] == 0) continue;
      ops[std::string(ir::OperandName(o))] = {{"read_bytes", t.stream_read[i]},
                                              {"write_bytes", t.stream_write[i]}};
      bytes += t.stream_read[i] + t.stream_write[i];
    }
    nlohmann::json pieces = nlohmann::json::array();
    for (int p : t.stream_pieces) {
      nlohmann::json pj = PieceJson(plan, p);
      pj["dram_address"] = plan.piece_address[p];
      pj["bytes"] = plan.pieces[p].bytes;
      pieces.push_back(pj);
    }
    j["direction"] = "stream";
    j["tile"] = TileId(plan, plan.tiles[t.tile].tile);
    j["bytes"] = bytes;
    j["operands"] = ops;
    j["pieces"] = pieces;
    return j;
  }
  j["operand"] = std::string(ir::OperandName(t.operand));
  j["tensor"] = PieceJson(plan, t.piece);
  j["bytes"] = t.bytes;
  if (t.encoded) j["link_bytes"] = t.link_bytes;  // only on hardware with a spike encoding
  if (t.direction == Direction::kNoc) {
    j["direction"] = "noc";
    j["from_core"] = CoreId(plan, t.from_core);
    j["to_core"] = CoreId(plan, t.core);
    j["src_allocation"] = t.src_allocation;
    j["dst_allocation"] = t.allocation;
    j["route"] = t.route;
    j["hops"] = t.route.size() - 1;
    j["energy_pj"] = EnergyJson(t.noc_energy);
    return j;
  }
  j["direction"] = t.direction == Direction::kLoad ? "load" : "store";
  j["dram_address"] = plan.piece_address[t.piece];
  j["memory"] = MemoryName(plan, t.core);
  j["allocation"] = t.allocation;
  j["offset"] = plan.allocations[t.allocation].offset;
  return j;
}

// The geometry a reader needs to prove a tile's reads without the model
// (docs/manifest.md, "layers"): the same receptive-field and time rules the
// tile graph uses (tiling.cc), stated per input.
nlohmann::json InputJson(const Plan& plan, const ir::Layer& l, size_t k) {
  const ir::Workload& w = *plan.workload;
  const int producer = l.inputs[k];
  const bool network = producer == ir::kNetworkInput;
  const int64_t rows = network ? plan.graph.input.rows : w.layers[producer].dims.OY;
  const int64_t steps = network ? l.dims.T
                        : w.layers[producer].op == ir::OpKind::kTimeMean
                            ? 1
                            : w.layers[producer].dims.T;
  const bool all_time = network ? l.op == ir::OpKind::kTimeMean
                                : l.op == ir::OpKind::kTimeMean || steps == 1 || l.dims.T != steps;
  nlohmann::json mapping = "all";
  if (l.op != ir::OpKind::kLinear && l.in_y == rows)
    mapping = {{"kernel", l.dims.FY},
               {"stride", l.window.stride_y},
               {"padding", {l.window.pad_top, l.window.pad_bottom}},
               {"dilation", l.window.dilation_y}};
  return {{"layer", network ? nlohmann::json(nullptr) : nlohmann::json(producer)},
          {"input_rows", rows},
          {"input_timesteps", steps},
          {"rows", mapping},
          // "previous": a recurrent (delayed) input, step t reads step t-1.
          {"time", l.delayed(k) ? "previous"
                   : all_time   ? "all"
                                : "same"}};
}

nlohmann::json LayerJson(const Plan& plan, size_t id) {
  const ir::Layer& l = plan.workload->layers[id];
  nlohmann::json inputs = nlohmann::json::array(), producers = nlohmann::json::array();
  bool reads_input = false;
  for (size_t k = 0; k < l.inputs.size(); ++k) {
    const int p = l.inputs[k];
    inputs.push_back(InputJson(plan, l, k));
    if (p == ir::kNetworkInput)
      reads_input = true;
    else if (std::find(producers.begin(), producers.end(), p) == producers.end())
      producers.push_back(p);
  }
  const char* time = l.op == ir::OpKind::kTimeMean ? "mean" : l.dims.T == 1 ? "once" : "per_step";
  nlohmann::json j = {{"id", id},
                      {"name", l.name},
                      {"kind", std::string(ir::OpKindName(l.op))},
                      {"block", l.block},
                      {"T", l.dims.T},
                      {"time", time},
                      {"shape", {{"K", l.dims.G * l.dims.K}, {"OY", l.dims.OY}, {"OX", l.dims.OX}}},
                      {"weights", l.WeightsUsed() > 0},
                      {"stateful", l.stateful()},
                      {"states", l.stateful() ? l.neuron.states_per_neuron : 0},
                      {"network_output", l.network_output},
                      {"reads_network_input", reads_input},
                      {"producers", producers},
                      {"inputs", inputs}};
  // Weights held in crossbars: its tiles read no weights piece (only then,
  // so manifests without crossbars read as before).
  const hw::Core& core = plan.hardware.cores[plan.layer_core[id]];
  if (cost::RunsOnCrossbars(l, core))
    j["crossbar_arrays"] = cost::MapOnCrossbars(l, l.dims.K, core.imc).arrays;
  return j;
}

// Where an exit check may run after each step t < T, and what stopping there
// skips: every tile and transfer that starts at or after the check.
nlohmann::json ExitPointsJson(const Plan& plan) {
  nlohmann::json points = nlohmann::json::array();
  const std::vector<ExitStep>& steps = plan.summary.expected->steps;
  for (size_t i = 0; i + 1 < steps.size(); ++i) {
    const ExitStep& e = steps[i];
    points.push_back({{"after_timesteps", e.timesteps},
                      {"check_after_tile", e.check_after_tile},
                      {"check_cycle", e.check_cycle},
                      {"probability", e.probability},
                      {"skips_tiles", plan.summary.tiles - e.tiles},
                      {"skips_transfers", plan.summary.transfers - e.transfers}});
  }
  nlohmann::json layers = nlohmann::json::array();
  for (int l : plan.options.exit_profile->exit_layers) layers.push_back(l);
  return {{"reads_layers", layers}, {"points", points}};
}

template <typename Fn>
void WriteArray(std::ostream& out, const char* key, size_t n, Fn element, bool last) {
  out << "\"" << key << "\":[";
  for (size_t i = 0; i < n; ++i) out << (i ? ",\n" : "\n") << element(i).dump();
  out << "]" << (last ? "" : ",\n");
}

}  // namespace

void WriteManifest(const Plan& plan, std::ostream& out) {
  const ir::Workload& w = *plan.workload;
  nlohmann::json layout = nlohmann::json::array();
  for (const DramRegion& r : plan.dram_layout)
    layout.push_back({{"name", r.name}, {"base", r.base}, {"bytes", r.bytes}});
  nlohmann::json blocks = nlohmann::json::array();
  for (const BlockSchedule& b : plan.schedule.blocks) blocks.push_back(FormatBlock(b));
  nlohmann::json model = {{"file", w.model_file},     {"sha256", w.model_sha256},
                          {"timesteps", w.timesteps}, {"batch", w.batch},
                          {"blocks", w.num_blocks},   {"layers", w.layers.size()}};
  nlohmann::json schedule = {{"spec", FormatSchedule(plan.schedule)},
                             {"blocks", blocks},
                             {"layer_rows_per_tile", plan.schedule.layer_rows_per_tile}};
  nlohmann::json summary = SummaryToJson(plan);
  out << "{";
  CoreAllocation allocation;
  for (int core : plan.layer_core) allocation.layer_core.push_back(CoreId(plan, core));
  out << "\"allocation\":" << AllocationToJson(allocation, w, plan.options.core).dump() << ",\n";
  WriteArray(
      out, "allocations", plan.allocations.size(),
      [&](size_t i) { return AllocationJson(plan, i); }, false);
  out << "\"dram_layout\":" << layout.dump() << ",\n";
  if (plan.summary.expected) out << "\"exit_points\":" << ExitPointsJson(plan).dump() << ",\n";
  out << "\"hardware\":" << hw::ToJson(plan.hardware).dump() << ",\n";
  WriteArray(
      out, "layers", w.layers.size(), [&](size_t i) { return LayerJson(plan, i); }, false);
  out << "\"model\":" << model.dump() << ",\n";
  out << "\"schedule\":" << schedule.dump() << ",\n";
  out << "\"schema_version\":" << kManifestSchemaVersion << ",\n";
  out << "\"summary\":" << summary.dump() << ",\n";
  WriteArray(
      out, "tiles", plan.tiles.size(), [&](size_t i) { return TileJson(plan, i); }, false);
  WriteArray(
      out, "transfers", plan.transfers.size(), [&](size_t i) { return TransferJson(plan, i); },
      true);
  out << "}\n";
}

}  // namespace snnplan::plan
