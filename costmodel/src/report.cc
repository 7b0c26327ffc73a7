// Text and JSON renderings of a TileCost.
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "snnplan/costmodel.h"
#include "snnplan/units.h"

namespace snnplan::cost {
namespace {

std::string LevelName(const hw::Core& core, int level) {
  if (level < 0) return "-";
  if (level < static_cast<int>(core.memories.size()))
    return core.memories[level].name;
  return "dram";
}

nlohmann::json EnergyJson(const EnergyBreakdown& e) {
  return {{"total", e.total_pj()},
          {"compute", e.compute_pj},
          {"local", e.local_pj},
          {"sram", e.sram_pj},
          {"dram", e.dram_pj}};
}

std::string OpName(int x) {
  return std::string(ir::OperandName(static_cast<ir::Operand>(x)));
}

}  // namespace

nlohmann::json MappingJson(const TileCost& cost, const hw::Core& core) {
  nlohmann::json loops = nlohmann::json::array();
  for (const MappedLoop& m : cost.mapping) {
    nlohmann::json levels = nlohmann::json::object();
    for (int x = 0; x < 4; ++x)
      if (m.level[x] >= 0) levels[OpName(x)] = LevelName(core, m.level[x]);
    loops.push_back({{"loop", std::string(ir::DimName(m.dim))},
                     {"size", m.size},
                     {"spatial", m.spatial},
                     {"level", levels}});
  }
  return loops;
}

nlohmann::json ToJson(const TileCost& cost, const hw::Core& core) {
  nlohmann::json j;
  j["energy_pj"] = EnergyJson(cost.energy);
  nlohmann::json by_op = nlohmann::json::object();
  for (int x = 0; x < 4; ++x) by_op[OpName(x)] = EnergyJson(cost.energy_by_operand[x]);
  j["memory_energy_by_operand_pj"] = by_op;
  nlohmann::json dram_ops = nlohmann::json::array();
  nlohmann::json dram_traffic = nlohmann::json::object();
  for (int x = 0; x < 4; ++x) {
    if (cost.dram_operands[x]) dram_ops.push_back(OpName(x));
    dram_traffic[OpName(x)] = {{"read_bits", cost.dram_traffic[x].read_bits},
                               {"write_bits", cost.dram_traffic[x].write_bits}};
  }
  j["dram_operands"] = dram_ops;
  j["dram_traffic"] = dram_traffic;
  j["operations"] = cost.operations;
  j["uses_sop"] = cost.uses_sop;
  j["density"] = cost.density;
  j["compute_cycles"] = cost.compute_cycles;
  j["memory_cycles"] = cost.memory_cycles;
  j["latency_cycles"] = cost.latency_cycles;
  j["utilization"] = cost.utilization;
  if (cost.on_crossbars)  // only on crossbars, so other reports read as before
    j["crossbars"] = {{"arrays", cost.crossbar_arrays},
                      {"array_activations", cost.array_activations},
                      {"column_reads", cost.column_reads}};
  j["mapping"] = MappingJson(cost, core);
  nlohmann::json acc = nlohmann::json::array();
  for (const LevelAccesses& a : cost.accesses) {
    nlohmann::json ops = nlohmann::json::object();
    for (int x = 0; x < 4; ++x)
      ops[OpName(x)] = {{"read_bits", a.operand[x].read_bits},
                        {"write_bits", a.operand[x].write_bits}};
    acc.push_back({{"memory", a.memory}, {"operands", ops}});
  }
  j["accesses"] = acc;
  j["mappings_evaluated"] = cost.mappings_evaluated;
  return j;
}

std::string Describe(const TileCost& cost, const hw::Core& core, double clock_hz) {
  std::ostringstream out;
  out << "  loop nest (outermost first; level per operand W I O S):\n";
  int depth = 0;
  for (auto it = cost.mapping.rbegin(); it != cost.mapping.rend(); ++it, ++depth) {
    std::string levels;
    for (int x = 0; x < 4; ++x)
      absl::StrAppend(&levels, x ? " " : "", LevelName(core, it->level[x]));
    out << absl::StrFormat("    %s%s %-3s %-6d %-9s [%s]\n",
                           std::string(2 * std::min(depth, 12), ' '),
                           it->spatial ? "parfor" : "for",
                           std::string(ir::DimName(it->dim)), it->size,
                           it->spatial ? "spatial" : "temporal", levels);
  }
  out << "  accesses (bits read / written):\n";
  for (const LevelAccesses& a : cost.accesses) {
    out << absl::StrFormat("    %-16s", a.memory);
    for (int x = 0; x < 4; ++x)
      out << absl::StrFormat(" %s %d/%d", OpName(x), a.operand[x].read_bits,
                             a.operand[x].write_bits);
    out << "\n";
  }
  const EnergyBreakdown& e = cost.energy;
  out << "  energy: " << units::Energy(e.total_pj()) << " = compute " << units::Energy(e.compute_pj)
      << " + local " << units::Energy(e.local_pj) << " + sram " << units::Energy(e.sram_pj)
      << " + dram " << units::Energy(e.dram_pj) << "\n";
  out << absl::StrFormat("  %s: %s (density %g), utilization %.1f%%\n",
                         cost.uses_sop ? "SOPs" : "MACs", units::Grouped(cost.operations),
                         cost.density, 100.0 * cost.utilization);
  if (cost.on_crossbars)
    out << absl::StrFormat(
        "  crossbars: %s arrays hold the weights; %s array activations, %s column reads "
        "(compute energy; the SOP/MAC count above is what they compute)\n",
        units::Grouped(cost.crossbar_arrays), units::Grouped(cost.array_activations),
        units::Grouped(cost.column_reads));
  out << "  latency: " << units::Latency(static_cast<double>(cost.latency_cycles), clock_hz)
      << " (compute " << units::Count(static_cast<double>(cost.compute_cycles))
      << ", busiest memory port " << units::Count(static_cast<double>(cost.memory_cycles)) << ")\n";
  std::string dram;
  for (int x = 0; x < 4; ++x)
    if (cost.dram_operands[x]) absl::StrAppend(&dram, dram.empty() ? "" : ",", OpName(x));
  if (!dram.empty()) out << "  streamed from DRAM: " << dram << "\n";
  out << absl::StrFormat("  search: %s mappings evaluated in %s%s\n",
                         units::Grouped(cost.mappings_evaluated), units::Time(cost.search_seconds),
                         cost.budget_exhausted ? " (stopped at --budget)" : "");
  return out.str();
}

}  // namespace snnplan::cost
