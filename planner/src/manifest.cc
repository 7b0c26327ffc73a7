// The deployable schedule manifest (docs/manifest.md), streamed element by
// element so large plans never build one giant JSON document in memory.
#include <algorithm>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "plan_internal.h"

#ifndef SNNPLAN_VERSION
#define SNNPLAN_VERSION "0.0.0"
#endif

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

// What a state allocation that no transfer fills starts with: "zero" when
// every initial state value of the layer is 0, else "initial" (the values
// in layers[].initial_state).
const char* InitName(const ir::Layer& l) {
  for (double v : l.neuron.dynamics.initial)
    if (v != 0) return "initial";
  return "zero";
}

nlohmann::json AllocationJson(const Plan& plan, size_t id) {
  const AllocationRecord& a = plan.allocations[id];
  nlohmann::json j = {{"id", id},
                      {"memory", MemoryName(plan, a.core)},
                      {"core", CoreId(plan, a.core)},
                      {"offset", a.offset},
                      {"bytes", a.bytes},
                      {"holds", PieceJson(plan, a.piece)},
                      {"allocated_at", a.allocated_at},
                      {"freed_at", a.freed_at}};
  if (a.init) j["init"] = InitName(plan.workload->layers[plan.pieces[a.piece].layer]);
  return j;
}

// The byte ranges of input piece `p` that tile `tile` reads (docs/manifest.md,
// "Stream descriptors"): its (step, row) lines inside the tile's receptive
// field of every input of the layer the piece belongs to (the tile graph's
// rules, as `layers[].inputs` states them), each line's bytes rounded
// outward to whole bytes, touching ranges merged; the whole piece [0,
// bytes) when every line is needed. Empty when the tile needs none of it.
std::vector<Range> NeededBytes(const Plan& plan, const Tile& tile, const Piece& p) {
  const ir::Workload& w = *plan.workload;
  const ir::Layer& l = w.layers[tile.layer];
  const bool input = p.kind == PieceKind::kInput;
  if (p.sample != tile.sample || p.bytes <= 0 || p.rows.size() <= 0) return {};
  const ir::Layer* producer = input ? nullptr : &w.layers[p.layer];
  const bool mean = producer != nullptr && producer->op == ir::OpKind::kTimeMean;
  const Range steps = mean ? Range{0, 1} : p.t;  // the steps the piece stores
  if (steps.size() <= 0) return {};
  const int64_t rows = p.rows.size();
  std::vector<char> need(static_cast<size_t>(steps.size() * rows), 0);
  bool any = false, all = true;
  for (size_t k = 0; k < l.inputs.size(); ++k) {
    const int src = l.inputs[k];
    if (input ? src != ir::kNetworkInput : src != p.layer) continue;
    Range r, t;
    if (input) {
      r = NeededRows(l, tile.rows, plan.graph.input.rows);
      t = l.op == ir::OpKind::kTimeMean ? Range{0, l.dims.T} : tile.t;
    } else {
      r = NeededRows(l, tile.rows, producer->dims.OY);
      t = l.delayed(k) ? DelayedTime(tile.t) : NeededTime(l, tile.t, mean ? 1 : producer->dims.T);
    }
    for (int64_t u = std::max(t.begin, steps.begin); u < std::min(t.end, steps.end); ++u)
      for (int64_t y = std::max(r.begin, p.rows.begin); y < std::min(r.end, p.rows.end); ++y) {
        need[static_cast<size_t>((u - steps.begin) * rows + y - p.rows.begin)] = 1;
        any = true;
      }
  }
  for (char n : need) all &= n != 0;
  if (!any) return {};
  if (all) return {{0, p.bytes}};
  const int64_t line_elements = input ? plan.graph.input.cols * plan.graph.input.channels
                                      : producer->dims.OX * producer->dims.G * producer->dims.K;
  const int64_t bits =
      line_elements * (input ? plan.graph.input.bits : producer->precision.output_bits);
  std::vector<Range> out;
  for (size_t i = 0; i < need.size(); ++i) {
    if (!need[i]) continue;
    const int64_t begin = static_cast<int64_t>(i) * bits / 8;
    const int64_t end = std::min(p.bytes, ((static_cast<int64_t>(i) + 1) * bits + 7) / 8);
    if (!out.empty() && begin <= out.back().end)
      out.back().end = std::max(out.back().end, end);
    else
      out.push_back({begin, end});
  }
  return out;
}

// The DMA sequence of an in-tile stream (docs/manifest.md, "Stream
// descriptors"): reads before writes, operands in W, I, O, S order; for
// each operand one pass over its pieces in order (an input piece's needed
// byte ranges, any other piece whole), repeated and cut at the operand's
// byte total (every operand but a read of O moves at least one pass); consecutive equal
// descriptors merge into `repeat`.
nlohmann::json StreamDescriptors(const Plan& plan, const TransferRecord& t) {
  const int tile_id = plan.tiles[t.tile].tile;
  const Tile& tile = plan.graph.tiles[tile_id];
  auto operand_of = [&](int piece) {
    const Piece& p = plan.pieces[piece];
    if (p.kind == PieceKind::kWeights) return ir::Operand::kW;
    if (p.kind == PieceKind::kState) return ir::Operand::kS;
    return piece == plan.tile_output[tile_id] ? ir::Operand::kO : ir::Operand::kI;
  };
  struct Run {
    int piece;
    int64_t offset, bytes;
  };
  nlohmann::json out = nlohmann::json::array();
  auto emit = [&](ir::Operand o, bool write, const Run& r, int64_t bytes, int64_t repeat) {
    const int p = r.piece;
    nlohmann::json d = {{"piece", Original(plan.pieces, p)},
                        {"operand", std::string(ir::OperandName(o))},
                        {"direction", write ? "write" : "read"},
                        {"dram_address", plan.piece_address[p] + r.offset},
                        {"byte_offset", r.offset},
                        {"bytes", bytes},
                        {"repeat", repeat}};
    if (o == ir::Operand::kS && !write && t.stream_state_init)
      d["init"] = InitName(plan.workload->layers[plan.pieces[p].layer]);
    if (!out.empty()) {
      nlohmann::json& last = out.back();
      nlohmann::json same = last;
      same["repeat"] = repeat;
      if (same == d) {
        last["repeat"] = last["repeat"].get<int64_t>() + repeat;
        return;
      }
    }
    out.push_back(std::move(d));
  };
  for (const bool write : {false, true})
    for (ir::Operand o : ir::kAllOperands) {
      const int oi = static_cast<int>(o);
      const int64_t total = write ? t.stream_write[oi] : t.stream_read[oi];
      if (total <= 0) continue;
      const bool input = !write && o == ir::Operand::kI;
      std::vector<Run> pass;
      for (int p : t.stream_pieces) {
        if (operand_of(p) != o || plan.pieces[p].bytes <= 0) continue;
        if (!input) {
          pass.push_back({p, 0, plan.pieces[p].bytes});
          continue;
        }
        for (const Range& r : NeededBytes(plan, tile, plan.pieces[p]))
          pass.push_back({p, r.begin, r.size()});
      }
      if (input && pass.empty())  // no listed piece in the receptive field: whole pieces
        for (int p : t.stream_pieces)
          if (operand_of(p) == o && plan.pieces[p].bytes > 0)
            pass.push_back({p, 0, plan.pieces[p].bytes});
      if (pass.empty()) continue;
      int64_t one = 0;
      for (const Run& r : pass) one += r.bytes;
      // Every operand but a read of O moves at least one pass: a tile gets
      // (stores) every byte it needs even where the cost model prices fewer.
      const bool whole_pass = !(o == ir::Operand::kO && !write);
      int64_t remaining = whole_pass ? std::max(total, one) : total;
      if (pass.size() == 1) {  // whole passes merge into one descriptor
        if (remaining / one > 0) emit(o, write, pass[0], one, remaining / one);
        if (remaining % one > 0) emit(o, write, pass[0], remaining % one, 1);
        continue;
      }
      while (remaining > 0)
        for (const Run& r : pass) {
          if (remaining == 0) break;
          const int64_t n = std::min(remaining, r.bytes);
          remaining -= n;
          emit(o, write, r, n, 1);
        }
    }
  return out;
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
    j["descriptors"] = StreamDescriptors(plan, t);
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
  nlohmann::json initial = nlohmann::json::array();
  if (l.stateful())
    for (int s = 0; s < l.neuron.states_per_neuron; ++s) {
      const std::vector<double>& v = l.neuron.dynamics.initial;
      initial.push_back(static_cast<size_t>(s) < v.size() ? v[s] : 0.0);
    }
  const ir::Precision& pr = l.precision;
  // Where the host puts the layer's weights (the weights layout).
  nlohmann::json weights_piece = nullptr;
  if (const int wp = plan.layer_weights[id]; wp >= 0)
    weights_piece = {
        {"piece", wp}, {"dram_address", plan.piece_address[wp]}, {"bytes", plan.pieces[wp].bytes}};
  nlohmann::json j = {{"id", id},
                      {"weights_piece", weights_piece},
                      {"precision",
                       {{"weight_bits", pr.weight_bits},
                        {"input_bits", pr.input_bits},
                        {"output_bits", pr.output_bits},
                        {"state_bits", pr.state_bits},
                        {"accumulator_bits", pr.accumulator_bits}}},
                      {"initial_state", initial},
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

// Each ONNX / NIR graph output: what produces it in DRAM, or why nothing
// does (docs/manifest.md, "graph_outputs").
nlohmann::json GraphOutputsJson(const Plan& plan) {
  const ir::Workload& w = *plan.workload;
  static constexpr const char* kKinds[] = {"network_input",  "state",  "layer_output",
                                           "not_produced",   "unused", "layer_current",
                                           "previous_output"};
  static constexpr const char* kSteps[] = {"all", "one", "none"};
  const bool dram_states = plan.options.state_io == cost::StateIo::kDram;
  nlohmann::json out = nlohmann::json::array();
  for (const ir::Binding& b : w.outputs) {
    const bool has_layer = b.layer >= 0 && static_cast<size_t>(b.layer) < w.layers.size();
    const std::string layer = has_layer ? w.layers[b.layer].name : "";
    bool produced = false;
    std::string why = b.why;
    switch (b.kind) {
      case ir::BindingKind::kLayerOutput:
        produced = has_layer && w.layers[b.layer].network_output;
        if (!produced) why = absl::StrCat("layer ", layer, " is not a network output");
        break;
      case ir::BindingKind::kState:
        produced = dram_states && b.steps == ir::BindingSteps::kOne;
        if (!produced)
          why = b.steps != ir::BindingSteps::kOne
                    ? absl::StrCat("every step of state ", b.state, " of layer ", layer,
                                   ": snnplan keeps only the current state")
                    : absl::StrCat("state ", b.state, " of layer ", layer,
                                   " after the last step: stored (state_final) only with "
                                   "--state-io dram");
        break;
      case ir::BindingKind::kLayerCurrent:
        why = absl::StrCat("the input current of layer ", layer,
                           " before its neuron: snnplan never stores it");
        break;
      default:
        if (why.empty()) why = "nothing in the IR computes it";
        break;
    }
    nlohmann::json j = {{"name", b.name},
                        {"kind", kKinds[static_cast<int>(b.kind)]},
                        {"shape", b.shape},
                        {"steps", b.kind == ir::BindingKind::kNotProduced
                                      ? nlohmann::json(nullptr)
                                      : nlohmann::json(kSteps[static_cast<int>(b.steps)])},
                        {"layer_id", has_layer ? nlohmann::json(b.layer) : nlohmann::json(nullptr)},
                        {"layer", has_layer ? nlohmann::json(layer) : nlohmann::json(nullptr)},
                        {"produced", produced}};
    if (b.state >= 0) j["state"] = b.state;
    if (!produced) j["why"] = why;
    out.push_back(std::move(j));
  }
  return out;
}

// A piece's DRAM slice for the network_io and initial_state lists.
nlohmann::json SliceJson(const Plan& plan, int piece) {
  const Piece& p = plan.pieces[piece];
  nlohmann::json j = {{"piece", piece},
                      {"sample", p.sample},
                      {"t", RangeJson(p.t)},
                      {"rows", RangeJson(p.rows)},
                      {"dram_address", plan.piece_address[piece]},
                      {"bytes", p.bytes}};
  if (p.layer >= 0) j["layer_id"] = p.layer;
  return j;
}

// Where the host writes the network input and reads the outputs: every
// slice with its DRAM address, in the order documented.
nlohmann::json NetworkIoJson(const Plan& plan) {
  std::vector<std::tuple<int, int, int64_t, int64_t, int>> in, out;  // layer, sample, t, row, id
  for (size_t i = 0; i < plan.pieces.size(); ++i) {
    const Piece& p = plan.pieces[i];
    if (p.source >= 0 || plan.piece_address[i] < 0) continue;
    const int id = static_cast<int>(i);
    if (p.kind == PieceKind::kInput)
      in.emplace_back(-1, p.sample, p.t.begin, p.rows.begin, id);
    else if (p.kind == PieceKind::kFeature && plan.workload->layers[p.layer].network_output)
      out.emplace_back(p.layer, p.sample, p.t.begin, p.rows.begin, id);
  }
  std::sort(in.begin(), in.end());
  std::sort(out.begin(), out.end());
  nlohmann::json inputs = nlohmann::json::array(), outputs = nlohmann::json::array();
  for (const auto& e : in) inputs.push_back(SliceJson(plan, std::get<4>(e)));
  for (const auto& e : out) outputs.push_back(SliceJson(plan, std::get<4>(e)));
  const InputTiling& g = plan.graph.input;
  // The steps the layers read it for (1 when only layers that run once do).
  int64_t steps = 0;
  for (const ir::Layer& l : plan.workload->layers)
    if (std::count(l.inputs.begin(), l.inputs.end(), ir::kNetworkInput))
      steps = std::max(steps, l.dims.T);
  return {{"input",
           {{"channels", g.channels},
            {"rows", g.rows},
            {"cols", g.cols},
            {"bits", g.bits},
            {"timesteps", steps > 0 ? steps : plan.workload->timesteps},
            {"samples", std::max<int64_t>(1, plan.workload->batch)}}},
          {"inputs", inputs},
          {"outputs", outputs}};
}

// Initial neuron state: on chip (zero-init markers on allocations and stream
// descriptors) or DRAM slices the host fills before the inference.
nlohmann::json InitialStateJson(const Plan& plan) {
  const bool dram = plan.options.state_io == cost::StateIo::kDram;
  nlohmann::json slices = nlohmann::json::array();
  if (dram)
    for (size_t i = 0; i < plan.pieces.size(); ++i) {
      const Piece& p = plan.pieces[i];
      if (p.kind == PieceKind::kState && p.source < 0 && plan.piece_address[i] >= 0)
        slices.push_back(SliceJson(plan, static_cast<int>(i)));
    }
  return {{"mode", dram ? "dram" : "on_chip"},
          {"region", dram ? nlohmann::json("state_spill") : nlohmann::json(nullptr)},
          {"slices", slices}};
}

// The byte layout of every piece kind (docs/manifest.md, "layouts").
nlohmann::json LayoutsJson() {
  const nlohmann::json packed = {
      {"bit_order", "lsb_first"},
      {"padding", "zero bits after the last element, up to the piece's bytes"}};
  return {{"packing", packed},
          {"input",
           {{"order", {"t", "row", "col", "channel"}},
            {"element_bits", "network_io.input.bits"},
            {"elements", "the piece's timesteps x rows x network_io.input.cols x channels"}}},
          {"feature",
           {{"order", {"t", "row", "col", "channel"}},
            {"element_bits", "layers[].precision.output_bits"},
            {"channel", "g * K + k over all G * K channels (layers[].shape.K)"},
            {"elements",
             "the piece's timesteps (1 for a time_mean layer) x rows x shape.OX x shape.K"}}},
          {"state",
           {{"order", {"row", "col", "channel", "state"}},
            {"element_bits", "layers[].precision.state_bits"},
            {"encoding", "twos_complement"},
            {"elements", "the piece's rows x shape.OX x shape.K x layers[].states"}}},
          {"weights",
           {{"order_conv", {"out_channel", "in_channel", "fy", "fx"}},
            {"order_linear", {"out_feature", "in_feature"}},
            {"element_bits", "layers[].precision.weight_bits"},
            {"encoding", "twos_complement"},
            {"elements", "G * K * C * FY * FX (the layer's weights; parameters are separate)"}}},
          {"parameters",
           {{"element", "ieee754_binary64_le"},
            {"region", "weights"},
            {"fields", "parameters[].fields: name, offset (bytes), count, layout"}}}};
}

nlohmann::json ParametersJson(const Plan& plan) {
  const ir::Workload& w = *plan.workload;
  // The first tile of each layer in execution order: its block is loaded
  // before that tile starts.
  std::vector<int64_t> first(w.layers.size(), -1);
  for (size_t i = 0; i < plan.tiles.size(); ++i) {
    const int l = plan.graph.tiles[plan.tiles[i].tile].layer;
    if (first[l] < 0) first[l] = static_cast<int64_t>(i);
  }
  nlohmann::json out = nlohmann::json::array();
  for (size_t b = 0; b < plan.parameters.size(); ++b) {
    const ParamBlock& p = plan.parameters[b];
    nlohmann::json fields = nlohmann::json::array();
    for (const ParamField& f : p.fields)
      fields.push_back(
          {{"name", f.name}, {"offset", f.offset}, {"count", f.count}, {"layout", f.layout}});
    out.push_back({{"layer_id", p.layer},
                   {"layer", w.layers[p.layer].name},
                   {"core", CoreId(plan, plan.layer_core[p.layer])},
                   {"dram_address", plan.parameter_address[b]},
                   {"bytes", p.bytes},
                   {"load_before_tile", first[p.layer]},
                   {"post_ops", p.post_ops},
                   {"fields", fields}});
  }
  return out;
}

nlohmann::json ProvenanceJson(const Plan& plan) {
  const ir::Workload& w = *plan.workload;
  bool loaded = true;
  for (const ir::Layer& l : w.layers) loaded = loaded && (!l.has_weights() || l.params.loaded);
  nlohmann::json activity = nullptr, exit_profile = nullptr;
  if (plan.options.activity)
    activity = {{"file", plan.options.activity->file}, {"sha256", plan.options.activity->sha256}};
  if (plan.options.exit_profile) exit_profile = {{"file", plan.options.exit_profile->file}};
  return {{"tool", "snnplan"},
          {"version", SNNPLAN_VERSION},
          {"options", plan.options.provenance},
          {"precision", hw::ToJson(plan.hardware)["precision"]},
          {"model", {{"file", w.model_file}, {"sha256", w.model_sha256}}},
          {"activity", activity},
          {"exit_profile", exit_profile},
          {"parameters_loaded", loaded}};
}

// What the host writes into each DRAM region before the inference.
const char* RegionContents(const Plan& plan, const std::string& region) {
  if (region == "weights") return "weights_and_parameters";
  if (region == "input") return "network_input";
  if (region == "state_spill" && plan.options.state_io == cost::StateIo::kDram)
    return "initial_state";
  return "nothing";
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
    layout.push_back({{"name", r.name},
                      {"base", r.base},
                      {"bytes", r.bytes},
                      {"initial_contents", RegionContents(plan, r.name)}});
  nlohmann::json blocks = nlohmann::json::array();
  for (const BlockSchedule& b : plan.schedule.blocks) blocks.push_back(FormatBlock(b));
  nlohmann::json model = {{"file", w.model_file},     {"sha256", w.model_sha256},
                          {"timesteps", w.timesteps}, {"batch", w.batch},
                          {"blocks", w.num_blocks},   {"layers", w.layers.size()}};
  if (!w.networks.empty()) {  // several models only: one model's section reads as before
    nlohmann::json nets = nlohmann::json::array();
    for (const ir::Network& n : w.networks)
      nets.push_back({{"name", n.name},
                      {"file", n.file},
                      {"sha256", n.sha256},
                      {"layers", {n.first_layer, n.end_layer}},
                      {"blocks", {n.first_block, n.end_block}},
                      {"input", n.shares_input ? "shared" : "own"}});
    model["networks"] = nets;
  }
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
  out << "\"graph_outputs\":" << GraphOutputsJson(plan).dump() << ",\n";
  out << "\"hardware\":" << hw::ToJson(plan.hardware).dump() << ",\n";
  out << "\"initial_state\":" << InitialStateJson(plan).dump() << ",\n";
  WriteArray(
      out, "layers", w.layers.size(), [&](size_t i) { return LayerJson(plan, i); }, false);
  out << "\"layouts\":" << LayoutsJson().dump() << ",\n";
  out << "\"model\":" << model.dump() << ",\n";
  out << "\"network_io\":" << NetworkIoJson(plan).dump() << ",\n";
  out << "\"parameters\":" << ParametersJson(plan).dump() << ",\n";
  out << "\"provenance\":" << ProvenanceJson(plan).dump() << ",\n";
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
