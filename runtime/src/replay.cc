// Replay by execution (`snnplan run --manifest`, docs/run.md "Replaying a
// manifest"): a schema-4 manifest executed alone on byte-addressed memories.
// DRAM is one byte array, each core's global buffer another; the host writes
// the weights, the network input slices and (--state-io dram) the initial
// state slices; every load, store and NoC copy moves its bytes between the
// addresses it states; every tile decodes its operands from the allocations
// it lists in `reads` (and its stream's DRAM reads), computes with the same
// arithmetic as `snnplan run` and encodes its output and state into the
// allocations it lists in `writes` (and its stream's DRAM writes). The graph
// outputs are read back from the `network_io.outputs` slices.
//
// Nothing here comes from the planner: the manifest is read as JSON, the
// model's IR gives the geometry of the arithmetic and the values the host
// writes (weights, parameter blocks); tiles compute with what they decode
// from the bytes they read, parameters from their core's parameter memory.
#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "layer_math.h"
#include "nlohmann/json.hpp"
#include "snnplan/runtime.h"

namespace snnplan::runtime {
namespace {

static_assert(std::endian::native == std::endian::little, "replay assumes a little-endian host");

using json = nlohmann::json;
using internal::Elements;

// Errors inside the replay are thrown as Fail and returned as one
// InvalidArgument status.
struct Fail {
  std::string message;
};
[[noreturn]] void Throw(std::string m) { throw Fail{std::move(m)}; }

const json& Key(const json& j, const char* key, const std::string& path) {
  if (!j.is_object() || !j.contains(key)) Throw(absl::StrCat(path, ".", key, ": missing"));
  return j[key];
}
int64_t Int(const json& j, const char* key, const std::string& path) {
  const json& v = Key(j, key, path);
  if (!v.is_number_integer()) Throw(absl::StrCat(path, ".", key, ": not an integer"));
  return v.get<int64_t>();
}
std::string Str(const json& j, const char* key, const std::string& path) {
  const json& v = Key(j, key, path);
  if (!v.is_string()) Throw(absl::StrCat(path, ".", key, ": not a string"));
  return v.get<std::string>();
}
std::pair<int64_t, int64_t> Range(const json& j, const char* key, const std::string& path) {
  const json& v = Key(j, key, path);
  if (!v.is_array() || v.size() != 2 || !v[0].is_number_integer() || !v[1].is_number_integer() ||
      v[0].get<int64_t>() > v[1].get<int64_t>() || v[0].get<int64_t>() < 0)
    Throw(absl::StrCat(path, ".", key, ": not a range [begin, end)"));
  return {v[0].get<int64_t>(), v[1].get<int64_t>()};
}

// A tensor slice as `holds`, a transfer's `tensor` or a stream's `pieces`
// name it.
struct Piece {
  std::string kind;  // weights | state | feature | input
  int layer = -1;    // layer id; -1 for the network input
  int64_t id = -1, sample = 0, t0 = 0, t1 = 0, y0 = 0, y1 = 0;
  std::string where;  // "allocation 12", "transfer 7 piece 3" (for errors)
};

struct Alloc {
  int64_t id = 0;
  int core = 0;
  int64_t offset = 0, bytes = 0, allocated_at = 0, freed_at = 0;
  Piece holds;
  std::string init;      // "" | "zero" | "initial"
  int64_t content = -1;  // the piece whose bytes it holds (-1: nothing filled it yet)
};

struct StreamPiece {
  Piece piece;
  int64_t dram_address = 0, bytes = 0;
};

struct Descriptor {
  int64_t piece = 0, dram_address = 0, byte_offset = 0, bytes = 0, repeat = 1;
  std::string operand, init;
  bool write = false;
};

struct Stream {
  int64_t id = 0;
  std::map<int64_t, StreamPiece> pieces;
  std::vector<Descriptor> descriptors;
};

struct TileRec {
  std::string id;
  int64_t index = 0;
  int layer = 0, core = 0;
  int64_t sample = 0, t0 = 0, t1 = 0, y0 = 0, y1 = 0, start = 0, end = 0;
  std::vector<int64_t> reads, writes;
  std::vector<const Stream*> streams;
};

// A piece's bytes handed to a tile: from an allocation or a stream read.
struct Operand {
  Piece piece;
  std::vector<uint8_t> bytes;
  // Bytes a stream delivered (1 per byte) when it read only part of an
  // input piece (docs/manifest.md, "Stream descriptors"); empty: all valid.
  std::vector<char> valid = {};
};

// The tile's results, written at its end.
struct Pending {
  std::vector<float> y;                // [steps][Elements] (the tile's rows are valid)
  int64_t steps = 0;                   // output steps held (1 for a time mean)
  std::vector<double> state;           // [Elements][states] (stateful layers)
  int64_t state_y0 = 0, state_y1 = 0;  // rows of the state piece read (-1: none, all initial)
};

class Replayer {
 public:
  Replayer(const json& m, const ir::Workload& w, const RunOptions& o) : m_(m), w_(w), opt_(o) {}

  RunResult Run(const std::map<std::string, Array>& inputs) {
    CheckModel();
    CheckPrecision();
    ReadInputs(inputs);
    SetUpMemories();
    ReadAllocations();
    CheckOverlaps();
    ReadTransfersAndTiles();
    ReadParameters();
    HostWrites();
    Execute();
    return Collect();
  }

 private:
  // ------------------------------------------------------------ the model
  void CheckModel() {
    if (Int(m_, "schema_version", "manifest") != 4)
      Throw(
          "manifest.schema_version: replay reads schema_version 4 manifests; re-plan with this "
          "snnplan");
    const json& model = Key(m_, "model", "manifest");
    if (!w_.model_sha256.empty() && model.contains("sha256") && model["sha256"].is_string() &&
        model["sha256"].get<std::string>() != w_.model_sha256)
      Throw(absl::StrCat("manifest.model.sha256: the manifest was planned for another model file (",
                         model["sha256"].get<std::string>(), ", the model given is ",
                         w_.model_sha256, ")"));
    if (Int(model, "timesteps", "manifest.model") != w_.timesteps)
      Throw(absl::StrCat("manifest.model.timesteps: the manifest was planned for ",
                         model["timesteps"].get<int64_t>(), " timesteps, the model imported with ",
                         w_.timesteps, " (give the same import options as the plan)"));
    if (Int(model, "batch", "manifest.model") != w_.batch)
      Throw(absl::StrCat("manifest.model.batch: the manifest was planned for batch ",
                         model["batch"].get<int64_t>(), ", the model imported with batch ",
                         w_.batch));
    const json& layers = Key(m_, "layers", "manifest");
    if (!layers.is_array() || layers.size() != w_.layers.size())
      Throw(absl::StrCat("manifest.layers: ", layers.is_array() ? layers.size() : 0,
                         " layers, the model has ", w_.layers.size()));
    recurrent_ = ir::RecurrentLayers(w_);
    for (size_t i = 0; i < w_.layers.size(); ++i) {
      const ir::Layer& l = w_.layers[i];
      const std::string path = absl::StrCat("manifest.layers[", i, "]");
      if (Int(layers[i], "id", path) != static_cast<int64_t>(i) ||
          Str(layers[i], "name", path) != l.name)
        Throw(absl::StrCat(path, ": layer '", layers[i].value("name", std::string("?")),
                           "' is not the model's layer ", i, " '", l.name, "'"));
      const json& shape = Key(layers[i], "shape", path);
      const int64_t K = Int(shape, "K", path + ".shape"), OY = Int(shape, "OY", path + ".shape"),
                    OX = Int(shape, "OX", path + ".shape");
      if (K != l.dims.G * l.dims.K || OY != l.dims.OY || OX != l.dims.OX ||
          K * OY * OX != Elements(l))
        Throw(absl::StrCat(path, ".shape: {K ", K, ", OY ", OY, ", OX ", OX, "} is not layer ",
                           l.name, "'s output"));
      if (Int(layers[i], "T", path) != l.dims.T)
        Throw(absl::StrCat(path, ".T: not layer ", l.name, "'s timesteps (", l.dims.T, ")"));
      if (layers[i].contains("crossbar_arrays"))
        Throw(
            absl::StrCat(path, ": layer ", l.name,
                         " keeps its weights in crossbar arrays; replay does not model crossbars"));
      if (l.has_weights() && !l.params.loaded)
        Throw(absl::StrCat("layer ", l.name, ": parameters not loaded"));
      if (l.spiking() && l.neuron.current_layers.size() > 1 && l.neuron.current_layers != l.inputs)
        Throw(absl::StrCat(
            "layer ", l.name,
            ": its neuron sums layers other than its inputs; replay does not support it"));
      if (l.op == ir::OpKind::kTimeMean && (recurrent_[i] || l.has_delayed_input()))
        Throw(absl::StrCat("layer ", l.name, ": a recurrent time mean"));
    }
  }

  // Multi-bit elements are binary32 (weights, input, features) and
  // binary64 (states): the values `snnplan run` computes with.
  void CheckPrecision() {
    const json& layers = m_["layers"];
    const char* hint =
        "replay executes manifests whose weights, inputs and features are 32-bit (IEEE-754 "
        "binary32) and whose states are 64-bit (binary64), the values `snnplan run` computes "
        "with: re-plan with --precision float (= --weight-bits 32 --input-bits 32 "
        "--feature-bits 32 --state-bits 64)";
    for (size_t i = 0; i < layers.size(); ++i) {
      const ir::Layer& l = w_.layers[i];
      const std::string path = absl::StrCat("manifest.layers[", i, "].precision");
      const json& p = Key(layers[i], "precision", absl::StrCat("manifest.layers[", i, "]"));
      LayerBits b;
      b.weight = static_cast<int>(Int(p, "weight_bits", path));
      b.output = static_cast<int>(Int(p, "output_bits", path));
      b.state = static_cast<int>(Int(p, "state_bits", path));
      if (l.has_weights() && b.weight != 32)
        Throw(absl::StrCat("layer ", l.name, " (", path, ".weight_bits = ", b.weight, "): ", hint));
      if (b.output != 32 && b.output != 1)
        Throw(absl::StrCat("layer ", l.name, " (", path, ".output_bits = ", b.output, "): ", hint));
      if (l.stateful() && b.state != 64)
        Throw(absl::StrCat("layer ", l.name, " (", path, ".state_bits = ", b.state, "): ", hint));
      bits_.push_back(b);
    }
    const json& in = Key(Key(m_, "network_io", "manifest"), "input", "manifest.network_io");
    input_bits_ = static_cast<int>(Int(in, "bits", "manifest.network_io.input"));
    if (input_bits_ != 32 && input_bits_ != 1)
      Throw(absl::StrCat("the network input (manifest.network_io.input.bits = ", input_bits_,
                         "): ", hint));
    in_c_ = Int(in, "channels", "manifest.network_io.input");
    in_h_ = Int(in, "rows", "manifest.network_io.input");
    in_w_ = Int(in, "cols", "manifest.network_io.input");
  }

  void ReadInputs(const std::map<std::string, Array>& inputs) {
    const ir::Binding* net = nullptr;
    for (const ir::Binding& b : w_.inputs) {
      auto it = inputs.find(b.name);
      if (b.kind == ir::BindingKind::kNetworkInput) {
        if (net != nullptr) Throw("the model reads several network inputs; run supports one");
        net = &b;
        if (it == inputs.end()) Throw(absl::StrCat("no input named '", b.name, "' was given"));
        input_ = &it->second;
      } else if (it != inputs.end() && b.kind == ir::BindingKind::kState) {
        const int64_t want = w_.batch * Elements(w_.layers[b.layer]);
        if (static_cast<int64_t>(it->second.values.size()) != want)
          Throw(absl::StrCat("input '", b.name, "' (layer ", w_.layers[b.layer].name, "'s state ",
                             b.state, ") holds ", it->second.values.size(), " values, expected ",
                             want));
        given_states_[{b.layer, b.state}] = &it->second;
      } else if (it != inputs.end() && b.kind == ir::BindingKind::kPreviousOutput) {
        // The manifest has no place for an output before step 0: delayed
        // inputs read zeros then, so only zeros can be given.
        for (float v : it->second.values)
          if (v != 0.0f)
            Throw(absl::StrCat("input '", b.name, "' (layer ", w_.layers[b.layer].name,
                               "'s output before step 0) is not all zeros; a manifest's delayed "
                               "inputs read zeros at step 0"));
      }
    }
    if (net == nullptr) Throw("the model has no network input");
    for (const auto& entry : inputs) {
      auto named = [&](const ir::Binding& b) { return b.name == entry.first; };
      if (!std::any_of(w_.inputs.begin(), w_.inputs.end(), named) &&
          !std::any_of(w_.outputs.begin(), w_.outputs.end(), named))
        Throw(absl::StrCat("input '", entry.first, "' is not a graph input"));
    }
    int64_t declared = 1;
    for (int64_t d : net->shape) declared *= d;
    const int64_t T = w_.timesteps, B = w_.batch;
    // A static input (the graph repeats it over time) is given once and
    // read at every step.
    const bool repeated = net->steps == ir::BindingSteps::kNone;
    input_per_ = declared / (w_.time_in_graph && !repeated ? T * B : B);
    if (repeated) {
      if (static_cast<int64_t>(input_->values.size()) != B * input_per_)
        Throw(absl::StrCat("input '", net->name, "' holds ", input_->values.size(),
                           " values; the model needs ", B, " samples x ", input_per_,
                           " (given once: the graph repeats it over time)"));
      repeated_input_.shape = input_->shape;
      for (int64_t t = 0; t < T; ++t)
        repeated_input_.values.insert(repeated_input_.values.end(), input_->values.begin(),
                                      input_->values.end());
      input_ = &repeated_input_;
    }
    if (input_per_ != in_c_ * in_h_ * in_w_)
      Throw(absl::StrCat("manifest.network_io.input: ", in_c_, " x ", in_h_, " x ", in_w_,
                         " is not the model's input (", input_per_,
                         " values per sample and step)"));
    if (static_cast<int64_t>(input_->values.size()) != T * B * input_per_)
      Throw(absl::StrCat("input '", net->name, "' holds ", input_->values.size(),
                         " values; the model needs ", T, " steps x ", B, " samples x ",
                         input_per_));
  }

  // ------------------------------------------------------------ memories
  void SetUpMemories() {
    int64_t top = 0;
    const json& regions = Key(m_, "dram_layout", "manifest");
    if (!regions.is_array()) Throw("manifest.dram_layout: not an array");
    for (size_t i = 0; i < regions.size(); ++i) {
      const std::string path = absl::StrCat("manifest.dram_layout[", i, "]");
      top = std::max(top, Int(regions[i], "base", path) + Int(regions[i], "bytes", path));
    }
    if (top > (int64_t{1} << 34)) Throw("manifest.dram_layout: more than 16 GiB of DRAM");
    dram_.assign(static_cast<size_t>(top), 0);
    dram_piece_.assign(static_cast<size_t>(top), -1);
    const json& cores = Key(Key(m_, "summary", "manifest"), "cores", "manifest.summary");
    if (!cores.is_array() || cores.empty()) Throw("manifest.summary.cores: not a non-empty array");
    for (size_t i = 0; i < cores.size(); ++i) {
      const std::string path = absl::StrCat("manifest.summary.cores[", i, "]");
      const int64_t cap = Int(cores[i], "capacity_bytes", path);
      if (cap < 0 || cap > (int64_t{1} << 32))
        Throw(absl::StrCat(path, ".capacity_bytes: out of range"));
      sram_[static_cast<int>(Int(cores[i], "core", path))].assign(static_cast<size_t>(cap), 0);
    }
  }

  std::vector<uint8_t>& Sram(int core, const std::string& who) {
    auto it = sram_.find(core);
    if (it == sram_.end())
      Throw(absl::StrCat(who, ": core ", core, " is not in manifest.summary.cores"));
    return it->second;
  }

  void CheckDram(int64_t address, int64_t bytes, const std::string& who) const {
    if (address < 0 || bytes < 0 || address + bytes > static_cast<int64_t>(dram_.size()))
      Throw(absl::StrCat(who, ": DRAM [", address, ", ", address + bytes,
                         ") lies outside dram_layout"));
  }
  void CheckSram(int core, int64_t offset, int64_t bytes, const std::string& who) {
    const std::vector<uint8_t>& mem = Sram(core, who);
    if (offset < 0 || bytes < 0 || offset + bytes > static_cast<int64_t>(mem.size()))
      Throw(absl::StrCat(who, ": bytes [", offset, ", ", offset + bytes, ") lie outside core ",
                         core, "'s ", mem.size(), "-byte memory"));
  }
  // DRAM bytes carry the id of the piece written there (by the host or a
  // store): a read of piece P from bytes another piece (or nothing) wrote is
  // an error, even when the bytes happen to be equal.
  std::vector<uint8_t> ReadDram(int64_t address, int64_t bytes, int64_t piece,
                                const std::string& who) const {
    if (piece < 0) Throw(absl::StrCat(who, ": piece id ", piece, " out of range"));
    return ReadTagged(address, bytes, piece, who);
  }
  std::vector<uint8_t> ReadTagged(int64_t address, int64_t bytes, int64_t piece,
                                  const std::string& who) const {
    CheckDram(address, bytes, who);
    for (int64_t a = address; a < address + bytes; ++a)
      if (dram_piece_[a] != piece)
        Throw(absl::StrCat(who, ": reads ", Holder(static_cast<int32_t>(piece)), " from DRAM [",
                           address, ", ", address + bytes, "), but byte ", a, " holds ",
                           Holder(dram_piece_[a])));
    return std::vector<uint8_t>(dram_.begin() + address, dram_.begin() + address + bytes);
  }
  void WriteDram(int64_t address, const uint8_t* p, int64_t bytes, int64_t piece,
                 const std::string& who) {
    if (piece < 0 || piece > INT32_MAX)
      Throw(absl::StrCat(who, ": piece id ", piece, " out of range"));
    FillDram(address, p, bytes, piece, who);
  }
  // `tag`: a piece id, or ParamTag(layer) for a parameter block.
  void FillDram(int64_t address, const uint8_t* p, int64_t bytes, int64_t tag,
                const std::string& who) {
    CheckDram(address, bytes, who);
    std::memcpy(dram_.data() + address, p, static_cast<size_t>(bytes));
    std::fill(dram_piece_.begin() + address, dram_piece_.begin() + address + bytes,
              static_cast<int32_t>(tag));
  }
  std::string Holder(int32_t tag) const {
    if (tag == -1) return "nothing (neither the host nor any store wrote it)";
    if (tag < -1) return absl::StrCat("layer ", w_.layers[-2 - tag].name, "'s parameter block");
    return absl::StrCat("piece ", tag);
  }

  Piece ParsePiece(const json& h, const std::string& path) {
    Piece p;
    p.where = path;
    p.kind = Str(h, "kind", path);
    if (p.kind != "weights" && p.kind != "state" && p.kind != "feature" && p.kind != "input")
      Throw(absl::StrCat(path, ".kind: '", p.kind, "' is no piece kind"));
    const json& layer = Key(h, "layer", path);
    if (layer.is_null()) {
      p.layer = -1;
    } else {
      if (!layer.is_string()) Throw(absl::StrCat(path, ".layer: not a layer name"));
      p.layer = LayerId(layer.get<std::string>(), path + ".layer");
    }
    if ((p.layer < 0) != (p.kind == "input"))
      Throw(absl::StrCat(path, ": a ", p.kind, " piece ", p.layer < 0 ? "without" : "with",
                         " a layer"));
    ReadSlice(h, path, &p);
    return p;
  }

  int LayerId(const std::string& name, const std::string& path) {
    for (size_t i = 0; i < w_.layers.size(); ++i)
      if (w_.layers[i].name == name) return static_cast<int>(i);
    Throw(absl::StrCat(path, ": no layer named '", name, "'"));
  }

  void ReadAllocations() {
    const json& allocs = Key(m_, "allocations", "manifest");
    if (!allocs.is_array()) Throw("manifest.allocations: not an array");
    for (size_t i = 0; i < allocs.size(); ++i) {
      const json& a = allocs[i];
      const std::string path = absl::StrCat("manifest.allocations[", i, "]");
      Alloc r;
      r.id = Int(a, "id", path);
      const std::string who = absl::StrCat("allocation ", r.id);
      r.core = static_cast<int>(Int(a, "core", path));
      r.offset = Int(a, "offset", path);
      r.bytes = Int(a, "bytes", path);
      r.allocated_at = Int(a, "allocated_at", path);
      r.freed_at = Int(a, "freed_at", path);
      r.holds = ParsePiece(Key(a, "holds", path), who);
      if (a.contains("init")) r.init = Str(a, "init", path);
      if (!r.init.empty() && r.init != "zero" && r.init != "initial")
        Throw(absl::StrCat(who, ".init: '", r.init, "' is neither zero nor initial"));
      if (!r.init.empty() && r.holds.kind != "state")
        Throw(absl::StrCat(who, ": init marks a ", r.holds.kind, " piece"));
      CheckSram(r.core, r.offset, r.bytes, who);
      if (!allocs_.emplace(r.id, r).second)
        Throw(absl::StrCat(who, ": two allocations with this id"));
    }
  }

  // No two allocations of one memory share a byte while both are live
  // ([allocated_at, freed_at) overlap): a tile or transfer writing one would
  // overwrite the other, possibly with nothing left to read it.
  void CheckOverlaps() const {
    std::map<int, std::vector<const Alloc*>> by_core;
    for (const auto& [id, a] : allocs_)
      if (a.bytes > 0 && a.freed_at > a.allocated_at) by_core[a.core].push_back(&a);
    for (auto& [core, list] : by_core) {
      std::sort(list.begin(), list.end(), [](const Alloc* x, const Alloc* y) {
        return x->allocated_at != y->allocated_at ? x->allocated_at < y->allocated_at
                                                  : x->id < y->id;
      });
      std::vector<const Alloc*> live;
      for (const Alloc* a : list) {
        live.erase(std::remove_if(live.begin(), live.end(),
                                  [&](const Alloc* b) { return b->freed_at <= a->allocated_at; }),
                   live.end());
        for (const Alloc* b : live)
          if (a->offset < b->offset + b->bytes && b->offset < a->offset + a->bytes)
            Throw(absl::StrCat("allocation ", a->id, " (core ", core, ", bytes [", a->offset, ", ",
                               a->offset + a->bytes, "), cycles [", a->allocated_at, ", ",
                               a->freed_at, ")) overlaps allocation ", b->id, " (bytes [",
                               b->offset, ", ", b->offset + b->bytes, "), cycles [",
                               b->allocated_at, ", ", b->freed_at, ")) while both are live"));
        live.push_back(a);
      }
    }
  }

  Alloc& AllocAt(int64_t id, const std::string& who) {
    auto it = allocs_.find(id);
    if (it == allocs_.end()) Throw(absl::StrCat(who, ": no allocation ", id));
    return it->second;
  }

  // ------------------------------------------------------------ events
  struct Event {
    int64_t time = 0;
    int phase =
        0;  // 0: completions (writes), 1: starts (reads), 2: completions of zero-length work
    int64_t seq = 0;
    std::function<void()> fn;
  };

  void Add(int64_t time, int phase, std::function<void()> fn) {
    events_.push_back({time, phase, static_cast<int64_t>(events_.size()), std::move(fn)});
  }

  void ReadTransfersAndTiles() {
    const json& tiles = Key(m_, "tiles", "manifest");
    const json& transfers = Key(m_, "transfers", "manifest");
    if (!tiles.is_array() || !transfers.is_array()) Throw("manifest.tiles / transfers: not arrays");
    std::map<std::string, size_t> tile_by_id;
    tiles_.resize(tiles.size());
    for (size_t i = 0; i < tiles.size(); ++i) {
      const json& t = tiles[i];
      const std::string path = absl::StrCat("manifest.tiles[", i, "]");
      TileRec& r = tiles_[i];
      r.id = Str(t, "id", path);
      r.index = Int(t, "index", path);
      r.layer = static_cast<int>(Int(t, "layer_id", path));
      if (r.layer < 0 || r.layer >= static_cast<int>(w_.layers.size()) ||
          Str(t, "layer", path) != w_.layers[r.layer].name)
        Throw(absl::StrCat("tile ", r.id, ": layer_id ", r.layer, " and layer '",
                           t.value("layer", std::string("?")),
                           "' do not name one layer of the model"));
      r.core = static_cast<int>(Int(t, "core", path));
      r.sample = Int(t, "sample", path);
      if (r.sample >= w_.batch)
        Throw(absl::StrCat("tile ", r.id, ": sample ", r.sample, " >= batch"));
      std::tie(r.t0, r.t1) = Range(t, "t", path);
      std::tie(r.y0, r.y1) = Range(t, "rows", path);
      const ir::Layer& l = w_.layers[r.layer];
      if (r.t1 > l.dims.T || r.y1 > l.dims.OY || r.t0 == r.t1 || r.y0 == r.y1)
        Throw(absl::StrCat("tile ", r.id, ": t [", r.t0, ", ", r.t1, ") rows [", r.y0, ", ", r.y1,
                           ") outside layer ", l.name, "'s ", l.dims.T, " steps x ", l.dims.OY,
                           " rows"));
      r.start = Int(t, "start", path);
      r.end = Int(t, "end", path);
      for (const char* key : {"reads", "writes"}) {
        const json& list = Key(t, key, path);
        if (!list.is_array()) Throw(absl::StrCat("tile ", r.id, ".", key, ": not an array"));
        for (const json& a : list) {
          if (!a.is_number_integer())
            Throw(absl::StrCat("tile ", r.id, ".", key, ": not allocation ids"));
          (std::string(key) == "reads" ? r.reads : r.writes).push_back(a.get<int64_t>());
        }
      }
      if (!tile_by_id.emplace(r.id, i).second)
        Throw(absl::StrCat("tile ", r.id, ": two tiles with this id"));
    }
    streams_.reserve(transfers.size());
    for (size_t i = 0; i < transfers.size(); ++i) {
      const json& x = transfers[i];
      const std::string path = absl::StrCat("manifest.transfers[", i, "]");
      const int64_t id = Int(x, "id", path);
      const std::string who = absl::StrCat("transfer ", id);
      const std::string dir = Str(x, "direction", path);
      const int64_t start = Int(x, "start", path), end = Int(x, "end", path);
      const int end_phase = end > start ? 0 : 2;
      if (dir == "stream") {
        Stream s;
        s.id = id;
        const json& pieces = Key(x, "pieces", path);
        for (size_t k = 0; k < pieces.size(); ++k) {
          StreamPiece sp;
          sp.piece = ParsePiece(pieces[k], absl::StrCat(who, " pieces[", k, "]"));
          sp.dram_address = Int(pieces[k], "dram_address", who);
          sp.bytes = Int(pieces[k], "bytes", who);
          s.pieces[sp.piece.id] = sp;
        }
        const json& ds = Key(x, "descriptors", path);
        for (size_t k = 0; k < ds.size(); ++k) {
          const std::string dp = absl::StrCat(who, " descriptors[", k, "]");
          Descriptor d;
          d.piece = Int(ds[k], "piece", dp);
          d.operand = Str(ds[k], "operand", dp);
          d.write = Str(ds[k], "direction", dp) == "write";
          d.dram_address = Int(ds[k], "dram_address", dp);
          d.byte_offset = Int(ds[k], "byte_offset", dp);
          d.bytes = Int(ds[k], "bytes", dp);
          d.repeat = Int(ds[k], "repeat", dp);
          if (ds[k].contains("init")) d.init = Str(ds[k], "init", dp);
          auto it = s.pieces.find(d.piece);
          if (it == s.pieces.end())
            Throw(absl::StrCat(dp, ": piece ", d.piece, " is not in the stream's pieces"));
          if (d.byte_offset < 0 || d.bytes < 0 || d.byte_offset + d.bytes > it->second.bytes ||
              d.dram_address != it->second.dram_address + d.byte_offset)
            Throw(absl::StrCat(dp, ": bytes [", d.byte_offset, ", ", d.byte_offset + d.bytes,
                               ") at DRAM ", d.dram_address, " are not inside piece ", d.piece,
                               "'s DRAM copy"));
          s.descriptors.push_back(d);
        }
        const std::string tile = Str(x, "tile", path);
        auto it = tile_by_id.find(tile);
        if (it == tile_by_id.end())
          Throw(absl::StrCat(who, ": stream of tile ", tile, ", which the manifest lacks"));
        streams_.push_back(std::move(s));
        tiles_[it->second].streams.push_back(&streams_.back());
        continue;
      }
      const int64_t bytes = Int(x, "bytes", path);
      const int core = static_cast<int>(Int(x, "core", path));
      if (dir == "load" || dir == "store") {
        const int64_t address = Int(x, "dram_address", path), offset = Int(x, "offset", path);
        const int64_t alloc = Int(x, "allocation", path);
        const int64_t piece = Int(Key(x, "tensor", path), "piece", path + ".tensor");
        CheckDram(address, bytes, who);
        CheckSram(core, offset, bytes, who);
        const Alloc& a = AllocAt(alloc, who);
        if (a.core != core || a.offset != offset || bytes > a.bytes)
          Throw(absl::StrCat(who, ": core ", core, " bytes [", offset, ", ", offset + bytes,
                             ") are not inside its allocation ", alloc, " (core ", a.core, ", [",
                             a.offset, ", ", a.offset + a.bytes, "))"));
        auto data = std::make_shared<std::vector<uint8_t>>();
        if (dir == "load") {
          Add(start, 1, [=, this] { *data = ReadDram(address, bytes, piece, who); });
          Add(end, end_phase, [=, this] {
            Alloc& dst = AllocAt(alloc, who);
            Live(dst, end, end, who);
            std::memcpy(Sram(core, who).data() + offset, data->data(), static_cast<size_t>(bytes));
            dst.content = piece;
          });
        } else {
          Add(start, 1, [=, this] {
            Alloc& src = AllocAt(alloc, who);
            Live(src, start, start, who);
            if (src.content != piece)
              Throw(absl::StrCat(
                  who, ": stores piece ", piece, " from allocation ", alloc, ", which holds ",
                  src.content < 0 ? std::string("nothing") : absl::StrCat("piece ", src.content)));
            const std::vector<uint8_t>& mem = Sram(core, who);
            data->assign(mem.begin() + offset, mem.begin() + offset + bytes);
          });
          Add(end, end_phase, [=, this] { WriteDram(address, data->data(), bytes, piece, who); });
        }
      } else if (dir == "noc") {
        const int64_t src = Int(x, "src_allocation", path), dst = Int(x, "dst_allocation", path);
        const int from = static_cast<int>(Int(x, "from_core", path));
        const Alloc& s = AllocAt(src, who);
        const Alloc& d = AllocAt(dst, who);
        if (s.core != from || d.core != core || bytes > s.bytes || bytes > d.bytes)
          Throw(absl::StrCat(who, ": ", bytes, " bytes from allocation ", src, " (core ", s.core,
                             ") to allocation ", dst, " (core ", d.core, ") do not fit from_core ",
                             from, " / to_core ", core));
        auto data = std::make_shared<std::vector<uint8_t>>();
        auto content = std::make_shared<int64_t>(-1);
        Add(start, 1, [=, this] {
          Alloc& a = AllocAt(src, who);
          Live(a, start, start, who);
          if (a.content < 0)
            Throw(absl::StrCat(who, ": copies allocation ", src, ", which nothing filled"));
          *content = a.content;
          const std::vector<uint8_t>& mem = Sram(a.core, who);
          data->assign(mem.begin() + a.offset, mem.begin() + a.offset + bytes);
        });
        Add(end, end_phase, [=, this] {
          Alloc& b = AllocAt(dst, who);
          Live(b, end, end, who);
          std::memcpy(Sram(b.core, who).data() + b.offset, data->data(),
                      static_cast<size_t>(bytes));
          b.content = *content;
        });
      } else {
        Throw(absl::StrCat(who, ".direction: '", dir, "' is not load, store, noc or stream"));
      }
    }
    for (size_t i = 0; i < tiles_.size(); ++i) {
      TileRec* t = &tiles_[i];
      // A parameter block loads as the tile it precedes starts (phase 0:
      // before any tile starting then reads it).
      Add(t->start, 0, [=, this] {
        for (const ParamBlockRec& b : blocks_)
          if (b.before_tile == static_cast<int64_t>(i)) LoadParameters(b);
      });
      auto pending = std::make_shared<Pending>();
      Add(t->start, 1, [=, this] { *pending = Compute(*t); });
      Add(t->end, t->end > t->start ? 0 : 2, [=, this] { WriteBack(*t, *pending); });
    }
    for (auto& [id, a] : allocs_)
      if (!a.init.empty()) {
        Alloc* p = &a;
        Add(a.allocated_at, 0, [=, this] {
          std::vector<uint8_t> image =
              StateImage(p->holds, p->init == "zero", p->bytes, p->holds.where);
          std::memcpy(Sram(p->core, p->holds.where).data() + p->offset, image.data(), image.size());
          p->content = p->holds.id;
        });
      }
  }

  // The allocation holds its piece over [from, to].
  void Live(const Alloc& a, int64_t from, int64_t to, const std::string& who) const {
    if (from < a.allocated_at || to > a.freed_at)
      Throw(absl::StrCat(who, ": uses allocation ", a.id, " over [", from, ", ", to,
                         "], outside its lifetime [", a.allocated_at, ", ", a.freed_at, ")"));
  }

  void Execute() {
    std::stable_sort(events_.begin(), events_.end(), [](const Event& a, const Event& b) {
      if (a.time != b.time) return a.time < b.time;
      if (a.phase != b.phase) return a.phase < b.phase;
      return a.seq < b.seq;
    });
    for (size_t i = 0; i < events_.size(); ++i) {
      if (opt_.cancel != nullptr && opt_.cancel->load()) Throw("run interrupted");
      events_[i].fn();
    }
  }

  // ------------------------------------------------------------ parameters
  // A layer's parameter block (manifest `parameters`): the host writes the
  // model's values into DRAM in the block's field layout, the block is
  // loaded into its core's parameter memory before `load_before_tile`, and
  // tiles compute with the values decoded from that memory: biases, post-op
  // constants and neuron coefficients never come from the model directly.
  struct ParamField {
    std::string name, layout;
    int64_t offset = 0, count = 0;
  };
  struct ParamBlockRec {
    int layer = 0, core = 0;
    int64_t address = 0, bytes = 0, before_tile = 0;
    std::vector<ParamField> fields;
    std::string path;
  };

  // Where a named field's values live in a layer (docs/manifest.md,
  // "parameters"): exactly one of the pointers is set.
  struct Slot {
    ir::NeuronParam* param = nullptr;
    double* scalar = nullptr;
    std::vector<float>* floats = nullptr;
    std::vector<double>* doubles = nullptr;
  };
  static std::map<std::string, Slot> Slots(ir::Layer& l) {
    std::map<std::string, Slot> s;
    if (!l.params.bias.empty()) s["bias"].floats = &l.params.bias;
    for (size_t j = 0; j < l.params.post.size(); ++j) {
      ir::PostOp& op = l.params.post[j];
      const std::string p = absl::StrCat("post", j, ".");
      if (op.kind == ir::PostOpKind::kAffine) {
        s[p + "scale"].param = &op.scale;
        s[p + "shift"].param = &op.shift;
      } else if (op.kind == ir::PostOpKind::kLeakyRelu) {
        s[p + "alpha"].scalar = &op.alpha;
      } else if (op.kind == ir::PostOpKind::kHardSigmoid) {
        s[p + "alpha"].scalar = &op.alpha;
        s[p + "beta"].scalar = &op.beta;
      } else if (op.kind == ir::PostOpKind::kClip) {
        s[p + "lo"].scalar = &op.lo;
        s[p + "hi"].scalar = &op.hi;
      }
    }
    if (!l.spiking()) return s;
    ir::Neuron& n = l.neuron;
    s["neuron.threshold"].param = &n.threshold;
    s["neuron.decay"].param = &n.decay;
    s["neuron.reset_amount"].param = &n.reset_amount;
    s["neuron.reset_value"].scalar = &n.reset_value;
    s["neuron.input_gain"].param = &n.input_gain;
    s["neuron.syn_decay"].param = &n.syn_decay;
    s["neuron.spike_gain"].param = &n.spike_gain;
    auto terms = [&](const std::string& prefix, std::vector<ir::NeuronTerm>& ts) {
      for (size_t i = 0; i < ts.size(); ++i)
        s[absl::StrCat(prefix, ".term", i)].param = &ts[i].coef;
    };
    for (size_t g = 0; g < n.dynamics.gates.size(); ++g)
      terms(absl::StrCat("dynamics.gate", g), n.dynamics.gates[g].arg);
    for (size_t k = 0; k < n.dynamics.next.size(); ++k)
      terms(absl::StrCat("dynamics.next", k), n.dynamics.next[k]);
    terms("dynamics.output", n.dynamics.output);
    if (!n.dynamics.initial.empty()) s["dynamics.initial"].doubles = &n.dynamics.initial;
    return s;
  }

  // The values a slot holds, as its block field stores them.
  static std::vector<double> SlotValues(const Slot& s) {
    if (s.floats) return std::vector<double>(s.floats->begin(), s.floats->end());
    if (s.doubles) return *s.doubles;
    if (s.scalar) return {*s.scalar};
    const ir::NeuronParam& p = *s.param;
    if (p.layout == ir::ParamLayout::kScalar || p.values.empty()) return {p.value};
    return p.values;
  }

  // Sets a slot from decoded values; false when the count or layout cannot
  // be the slot's (a bias or initial vector keeps its length; a neuron
  // parameter is 1 value, one per channel or one per neuron).
  bool SetSlot(const Slot& s, const ParamField& f, const std::vector<double>& v,
               const ir::Layer& l) const {
    const int64_t n = static_cast<int64_t>(v.size());
    if (s.floats) {
      if (n != static_cast<int64_t>(s.floats->size())) return false;
      s.floats->assign(v.begin(), v.end());
    } else if (s.doubles) {
      if (n != static_cast<int64_t>(s.doubles->size())) return false;
      *s.doubles = v;
    } else if (s.scalar) {
      if (n != 1) return false;
      *s.scalar = v[0];
    } else {
      const int64_t K = l.dims.G * l.dims.K, e = Elements(l);
      ir::ParamLayout layout = ir::ParamLayout::kScalar;
      if (f.layout == "per_channel" && n == K) {
        layout = ir::ParamLayout::kPerChannel;
      } else if (f.layout == "per_neuron" && n == e) {
        layout = ir::ParamLayout::kPerNeuron;
      } else if (f.layout != "scalar" || n != 1) {
        return false;
      }
      ir::NeuronParam& p = *s.param;
      p.layout = layout;
      p.values = v;
      p.value = v[0];
      p.per_neuron = std::any_of(v.begin(), v.end(), [&](double x) { return x != v[0]; });
    }
    return true;
  }

  void ReadParameters() {
    const json& blocks = Key(m_, "parameters", "manifest");
    if (!blocks.is_array()) Throw("manifest.parameters: not an array");
    block_of_.assign(w_.layers.size(), -1);
    for (size_t k = 0; k < blocks.size(); ++k) {
      const std::string path = absl::StrCat("manifest.parameters[", k, "]");
      ParamBlockRec b;
      b.path = path;
      b.layer = static_cast<int>(Int(blocks[k], "layer_id", path));
      if (b.layer < 0 || b.layer >= static_cast<int>(w_.layers.size()))
        Throw(absl::StrCat(path, ".layer_id: no such layer"));
      if (block_of_[b.layer] >= 0)
        Throw(absl::StrCat(path, ": a second block for layer ", w_.layers[b.layer].name));
      b.core = static_cast<int>(Int(blocks[k], "core", path));
      b.address = Int(blocks[k], "dram_address", path);
      b.bytes = Int(blocks[k], "bytes", path);
      b.before_tile = Int(blocks[k], "load_before_tile", path);
      if (b.before_tile < 0 || b.before_tile >= static_cast<int64_t>(tiles_.size()))
        Throw(absl::StrCat(path, ".load_before_tile: no tile ", b.before_tile));
      CheckDram(b.address, b.bytes, path);
      const json& fields = Key(blocks[k], "fields", path);
      if (!fields.is_array()) Throw(absl::StrCat(path, ".fields: not an array"));
      for (size_t i = 0; i < fields.size(); ++i) {
        const std::string fp = absl::StrCat(path, ".fields[", i, "]");
        ParamField f{Str(fields[i], "name", fp), Str(fields[i], "layout", fp),
                     Int(fields[i], "offset", fp), Int(fields[i], "count", fp)};
        if (f.offset < 0 || f.count < 1 || f.count > b.bytes / 8 ||
            f.offset > b.bytes - 8 * f.count)
          Throw(absl::StrCat(fp, ": ", f.count, " values at offset ", f.offset,
                             " do not fit the block's ", b.bytes, " bytes"));
        b.fields.push_back(std::move(f));
      }
      block_of_[b.layer] = static_cast<int>(blocks_.size());
      blocks_.push_back(std::move(b));
    }
    for (size_t i = 0; i < w_.layers.size(); ++i) {
      ir::Layer copy = w_.layers[i];
      if (block_of_[i] < 0 && !Slots(copy).empty())
        Throw(absl::StrCat("manifest.parameters: no block for layer ", copy.name,
                           ", which has parameters besides its weights"));
    }
  }

  // The host's image of a block: the model's values in the field layout.
  std::vector<uint8_t> ParamImage(const ParamBlockRec& b) const {
    ir::Layer model = w_.layers[b.layer];
    const std::map<std::string, Slot> slots = Slots(model);
    std::vector<uint8_t> image(static_cast<size_t>(b.bytes), 0);
    for (const ParamField& f : b.fields) {
      auto it = slots.find(f.name);
      if (it == slots.end())
        Throw(absl::StrCat(b.path, ": field '", f.name, "' is not a parameter of layer ",
                           model.name));
      const std::vector<double> v = SlotValues(it->second);
      if (static_cast<int64_t>(v.size()) != f.count)
        Throw(absl::StrCat(b.path, ": field '", f.name, "' holds ", f.count, " values, layer ",
                           model.name, " has ", v.size()));
      std::memcpy(image.data() + f.offset, v.data(), static_cast<size_t>(8 * f.count));
    }
    return image;
  }

  // Loads block `b` from DRAM into its core's parameter memory and decodes it.
  void LoadParameters(const ParamBlockRec& b) {
    std::vector<uint8_t> bytes = ReadTagged(b.address, b.bytes, ParamTag(b.layer), b.path);
    ir::Layer l = w_.layers[b.layer];
    std::map<std::string, Slot> slots = Slots(l);
    std::set<std::string> set;
    for (const ParamField& f : b.fields) {
      auto it = slots.find(f.name);
      if (it == slots.end() || !set.insert(f.name).second)
        Throw(absl::StrCat(b.path, ": field '", f.name, "' is ",
                           it == slots.end() ? "not a parameter of layer " : "listed twice for ",
                           l.name));
      std::vector<double> v(static_cast<size_t>(f.count));
      std::memcpy(v.data(), bytes.data() + f.offset, static_cast<size_t>(8 * f.count));
      if (!SetSlot(it->second, f, v, l))
        Throw(absl::StrCat(b.path, ": field '", f.name, "' (", f.count, " values, ", f.layout,
                           ") cannot be layer ", l.name, "'s"));
    }
    for (const auto& [name, slot] : slots)
      if (!set.count(name))
        Throw(absl::StrCat(b.path, ": layer ", l.name, "'s parameter '", name,
                           "' is in no field of its block"));
    loaded_[{b.core, b.layer}] = std::move(l);
  }

  // The layer as tile `t` computes it: its parameter values decoded from its
  // core's parameter memory (layers without a block have none besides weights).
  const ir::Layer& Computed(const TileRec& t) const {
    if (block_of_[t.layer] < 0) return w_.layers[t.layer];
    auto it = loaded_.find({t.core, t.layer});
    if (it == loaded_.end()) {
      const ParamBlockRec& b = blocks_[block_of_[t.layer]];
      Throw(absl::StrCat("tile ", t.id, ": layer ", w_.layers[t.layer].name,
                         "'s parameters are not in core ", t.core, "'s parameter memory (", b.path,
                         " loads them on core ", b.core, " before tile ", b.before_tile, ")"));
    }
    return it->second;
  }

  // A layer's decoded copy from any core (the producer of a spike feature).
  const ir::Layer& Decoded(int layer, const std::string& who) const {
    if (block_of_[layer] < 0) return w_.layers[layer];
    for (const auto& [key, l] : loaded_)
      if (key.second == layer) return l;
    Throw(absl::StrCat(who, ": layer ", w_.layers[layer].name, "'s parameters are not loaded yet"));
  }

  // DRAM bytes of a layer's parameter block carry this tag (piece ids are >= 0).
  static int64_t ParamTag(int layer) { return -2 - static_cast<int64_t>(layer); }

  // What a set bit of layer `src`'s 1-bit features stands for, per element
  // of a sample (docs/manifest.md, "layouts"): a spiking layer emits its one
  // constant output term (gain x spike, its coefficient decoded from the
  // layer's parameter block); a max pool passes its input's on per channel;
  // every other layer's set bit is 1.
  const std::vector<double>& SpikeValues(int src, const std::string& who) {
    auto it = spike_values_.find(src);
    if (it != spike_values_.end()) return it->second;
    const ir::Layer& l = Decoded(src, who);
    const int64_t e = Elements(l), K = l.dims.G * l.dims.K;
    std::vector<double> v(static_cast<size_t>(e), 1.0);
    if (l.spiking()) {
      const std::vector<ir::NeuronTerm>& out = l.neuron.dynamics.output;
      if (out.size() != 1 || out[0].var != -1)
        Throw(absl::StrCat(who, ": layer ", l.name,
                           " emits more than a spike times a constant, but its layout is 1 bit"));
      const internal::ParamView g = internal::View(out[0].coef, K, e);
      for (int64_t i = 0; i < e; ++i) v[i] = g.At(i);
    } else if (l.op == ir::OpKind::kMaxPool && l.inputs.size() == 1 && l.inputs[0] >= 0 &&
               Bits(l.inputs[0]) == 1) {
      const int src_layer = l.inputs[0];
      const std::vector<double> in = SpikeValues(src_layer, who);
      const int64_t per = e / std::max<int64_t>(1, K),
                    in_per = static_cast<int64_t>(in.size()) / std::max<int64_t>(1, K);
      for (int64_t i = 0; i < e; ++i) {
        const int64_t k = i / per;
        for (int64_t j = 0; j < in_per; ++j)
          if (in[k * in_per + j] != in[k * in_per])
            Throw(absl::StrCat(who, ": max pool ", l.name, " reads spikes of layer ",
                               w_.layers[src_layer].name,
                               " whose value differs within a channel; a 1-bit layout cannot "
                               "hold its output"));
        v[i] = in[k * in_per];
      }
    }
    return spike_values_.emplace(src, std::move(v)).first->second;
  }

  // ------------------------------------------------------------ layouts
  int64_t Steps(int layer) const {  // output steps a layer's features hold
    if (layer < 0) return w_.timesteps;
    return w_.layers[layer].op == ir::OpKind::kTimeMean ? 1 : w_.layers[layer].dims.T;
  }
  int64_t Rows(int layer) const { return layer < 0 ? in_h_ : w_.layers[layer].dims.OY; }
  int64_t Cols(int layer) const { return layer < 0 ? in_w_ : w_.layers[layer].dims.OX; }
  int64_t Chans(int layer) const {
    return layer < 0 ? in_c_ : w_.layers[layer].dims.G * w_.layers[layer].dims.K;
  }
  int Bits(int layer) const { return layer < 0 ? input_bits_ : bits_[layer].output; }
  // Timesteps a feature or input piece holds.
  int64_t PieceSteps(const Piece& p) const {
    return p.layer >= 0 && w_.layers[p.layer].op == ir::OpKind::kTimeMean ? 1 : p.t1 - p.t0;
  }
  int64_t PieceElements(const Piece& p) const {
    if (p.kind == "weights") return static_cast<int64_t>(w_.layers[p.layer].params.weights.size());
    if (p.kind == "state")
      return (p.y1 - p.y0) * Cols(p.layer) * Chans(p.layer) *
             w_.layers[p.layer].neuron.dynamics.states;
    return PieceSteps(p) * (p.y1 - p.y0) * Cols(p.layer) * Chans(p.layer);
  }
  int PieceBits(const Piece& p) const {
    if (p.kind == "weights") return 32;
    if (p.kind == "state") return 64;
    return Bits(p.layer);
  }
  int64_t PieceBytes(const Piece& p) const { return (PieceElements(p) * PieceBits(p) + 7) / 8; }

  // The piece, sample, timesteps and rows of a network_io / initial_state slice.
  static void ReadSlice(const json& j, const std::string& path, Piece* p) {
    p->id = Int(j, "piece", path);
    p->sample = Int(j, "sample", path);
    std::tie(p->t0, p->t1) = Range(j, "t", path);
    std::tie(p->y0, p->y1) = Range(j, "rows", path);
  }

  void CheckPieceRange(const Piece& p, const std::string& who) const {
    if (p.kind == "weights") return;
    if (p.sample >= w_.batch || p.y1 > Rows(p.layer) ||
        (p.kind != "state" && p.t1 > (p.layer < 0 ? w_.timesteps : w_.layers[p.layer].dims.T)))
      Throw(absl::StrCat(who, ": piece ", p.id, " (sample ", p.sample, ", t [", p.t0, ", ", p.t1,
                         "), rows [", p.y0, ", ", p.y1, ")) lies outside its tensor"));
  }

  // Element i of a packed stream.
  // `one`: the value a set bit stands for (SpikeValues).
  static void Put(std::vector<uint8_t>& b, int bits, int64_t i, double v, const std::string& who,
                  double one = 1.0) {
    if (bits == 1) {
      if (v != 0.0 && v != one)
        Throw(absl::StrCat(who, ": value ", v, " is not a spike (0 or ", one,
                           ") but the layout is 1 bit"));
      if (v == one) b[i / 8] |= static_cast<uint8_t>(1u << (i % 8));
    } else if (bits == 32) {
      const float f = static_cast<float>(v);
      std::memcpy(b.data() + i * 4, &f, 4);
    } else {
      std::memcpy(b.data() + i * 8, &v, 8);
    }
  }
  static double Get(const std::vector<uint8_t>& b, int bits, int64_t i) {
    if (bits == 1) return (b[i / 8] >> (i % 8)) & 1;
    if (bits == 32) {
      float f;
      std::memcpy(&f, b.data() + i * 4, 4);
      return f;
    }
    double d;
    std::memcpy(&d, b.data() + i * 8, 8);
    return d;
  }

  // A state piece holding the layer's initial state (`zero`: all bits 0).
  std::vector<uint8_t> StateImage(const Piece& p, bool zero, int64_t bytes,
                                  const std::string& who) const {
    CheckPieceRange(p, who);
    if (PieceBytes(p) > bytes)
      Throw(absl::StrCat(who, ": ", bytes, " bytes cannot hold state piece ", p.id, " (",
                         PieceBytes(p), ")"));
    std::vector<uint8_t> image(static_cast<size_t>(bytes), 0);
    if (zero) return image;
    const ir::Layer& l = w_.layers[p.layer];
    const int S = l.neuron.dynamics.states;
    const int64_t R = l.dims.OY, X = l.dims.OX, K = l.dims.G * l.dims.K;
    int64_t i = 0;
    for (int64_t y = p.y0; y < p.y1; ++y)
      for (int64_t x = 0; x < X; ++x)
        for (int64_t k = 0; k < K; ++k)
          for (int s = 0; s < S; ++s)
            Put(image, 64, i++, InitialState(p.layer, s, p.sample, (k * R + y) * X + x), who);
    return image;
  }

  // State `s` of element `el` of a sample before step 0: the input given
  // for it (`snnplan run`'s state inputs), else the model's initial value.
  double InitialState(int layer, int s, int64_t sample, int64_t el) const {
    auto it = given_states_.find({layer, s});
    if (it != given_states_.end())
      return it->second->values[sample * Elements(w_.layers[layer]) + el];
    const std::vector<double>& initial = w_.layers[layer].neuron.dynamics.initial;
    return initial.empty() ? 0.0 : initial[s];
  }

  // ------------------------------------------------------------ host
  void HostWrites() {
    const json& layers = m_["layers"];
    for (size_t i = 0; i < layers.size(); ++i) {
      const ir::Layer& l = w_.layers[i];
      const json& wp = Key(layers[i], "weights_piece", absl::StrCat("manifest.layers[", i, "]"));
      if (!l.has_weights()) continue;
      const std::string path = absl::StrCat("manifest.layers[", i, "].weights_piece");
      if (wp.is_null())
        Throw(absl::StrCat(path, ": layer ", l.name, " has weights but no weights piece"));
      const int64_t address = Int(wp, "dram_address", path), bytes = Int(wp, "bytes", path);
      const int64_t n = static_cast<int64_t>(l.params.weights.size());
      if (bytes < 4 * n)
        Throw(absl::StrCat(path, ".bytes: ", bytes, " bytes cannot hold layer ", l.name, "'s ", n,
                           " binary32 weights"));
      std::vector<uint8_t> image(static_cast<size_t>(bytes), 0);
      std::memcpy(image.data(), l.params.weights.data(), static_cast<size_t>(4 * n));
      WriteDram(address, image.data(), bytes, Int(wp, "piece", path), path);
    }
    for (const ParamBlockRec& b : blocks_) {
      std::vector<uint8_t> image = ParamImage(b);
      FillDram(b.address, image.data(), b.bytes, ParamTag(b.layer), b.path);
    }
    const json& io = Key(m_, "network_io", "manifest");
    const json& slices = Key(io, "inputs", "manifest.network_io");
    const int64_t B = w_.batch;
    for (size_t k = 0; k < slices.size(); ++k) {
      const std::string path = absl::StrCat("manifest.network_io.inputs[", k, "]");
      Piece p;
      p.kind = "input";
      p.where = path;
      ReadSlice(slices[k], path, &p);
      CheckPieceRange(p, path);
      const int64_t bytes = Int(slices[k], "bytes", path);
      if (bytes < PieceBytes(p)) Throw(absl::StrCat(path, ".bytes: too small for the slice"));
      std::vector<uint8_t> image(static_cast<size_t>(bytes), 0);
      int64_t i = 0;
      for (int64_t t = p.t0; t < p.t1; ++t)
        for (int64_t y = p.y0; y < p.y1; ++y)
          for (int64_t x = 0; x < in_w_; ++x)
            for (int64_t c = 0; c < in_c_; ++c)
              Put(image, input_bits_, i++,
                  input_->values[(t * B + p.sample) * input_per_ + (c * in_h_ + y) * in_w_ + x],
                  path);
      WriteDram(Int(slices[k], "dram_address", path), image.data(), bytes, p.id, path);
    }
    const json& init = Key(m_, "initial_state", "manifest");
    state_in_dram_ = Str(init, "mode", "manifest.initial_state") == "dram";
    if (!state_in_dram_) CheckGivenStatesAreInitial();
    const json& states = Key(init, "slices", "manifest.initial_state");
    for (size_t k = 0; k < states.size(); ++k) {
      const std::string path = absl::StrCat("manifest.initial_state.slices[", k, "]");
      Piece p;
      p.kind = "state";
      p.where = path;
      p.layer = static_cast<int>(Int(states[k], "layer_id", path));
      if (p.layer < 0 || p.layer >= static_cast<int>(w_.layers.size()) ||
          !w_.layers[p.layer].stateful())
        Throw(absl::StrCat(path, ".layer_id: not a stateful layer"));
      ReadSlice(states[k], path, &p);
      const int64_t bytes = Int(states[k], "bytes", path);
      std::vector<uint8_t> image = StateImage(p, false, bytes, path);
      WriteDram(Int(states[k], "dram_address", path), image.data(), bytes, p.id, path);
    }
  }

  // Under --state-io zero a tile starting at step 0 holds the model's
  // initial state on chip: a given state must be that value.
  void CheckGivenStatesAreInitial() const {
    for (const auto& [key, a] : given_states_) {
      const std::vector<double>& initial = w_.layers[key.first].neuron.dynamics.initial;
      const double want = initial.empty() ? 0.0 : initial[key.second];
      for (float v : a->values)
        if (static_cast<double>(v) != want)
          Throw(absl::StrCat("layer ", w_.layers[key.first].name, "'s state ", key.second,
                             " is given (", v,
                             "), but the manifest starts states from the "
                             "model's initial value (initial_state.mode zero): plan with "
                             "--state-io dram to start from given states"));
    }
  }

  // ------------------------------------------------------------ tiles
  // What the tile reads: its allocations (live, filled, on its core) and
  // its streams' read descriptors.
  std::vector<Operand> Gather(const TileRec& t) {
    std::vector<Operand> out;
    for (int64_t id : t.reads) {
      const std::string who = absl::StrCat("tile ", t.id, " (reads allocation ", id, ")");
      Alloc& a = AllocAt(id, who);
      if (a.core != t.core)
        Throw(absl::StrCat(who, ": the allocation is on core ", a.core, ", the tile on ", t.core));
      Live(a, t.start, t.end, who);
      if (a.content < 0)
        Throw(absl::StrCat(who, ": nothing filled the allocation before the tile"));
      if (a.content != a.holds.id)
        Throw(absl::StrCat(who, ": the allocation should hold piece ", a.holds.id,
                           " but was filled with piece ", a.content));
      CheckPieceRange(a.holds, who);
      if (a.holds.kind != "weights" && PieceBytes(a.holds) > a.bytes)
        Throw(absl::StrCat(who, ": ", a.bytes, " bytes cannot hold piece ", a.holds.id));
      const std::vector<uint8_t>& mem = Sram(a.core, who);
      out.push_back({a.holds, std::vector<uint8_t>(mem.begin() + a.offset,
                                                   mem.begin() + a.offset + a.bytes)});
    }
    for (const Stream* s : t.streams) {
      // piece -> its bytes and which of them the descriptors delivered: a
      // descriptor places its bytes at its byte_offset in the piece.
      std::map<int64_t, std::pair<std::vector<uint8_t>, std::vector<char>>> got;
      for (const Descriptor& d : s->descriptors) {
        if (d.write || d.operand == "O") continue;  // re-reads of partial outputs carry no operand
        const StreamPiece& sp = s->pieces.at(d.piece);
        const std::string who =
            absl::StrCat("tile ", t.id, " (stream transfer ", s->id, ", piece ", d.piece, ")");
        auto& [bytes, valid] = got[d.piece];
        bytes.resize(static_cast<size_t>(sp.bytes), 0);
        valid.resize(static_cast<size_t>(sp.bytes), 0);
        if (!d.init.empty()) {
          bytes = StateImage(sp.piece, d.init == "zero", sp.bytes, who);
          valid.assign(static_cast<size_t>(sp.bytes), 1);
          continue;
        }
        std::vector<uint8_t> b = ReadDram(d.dram_address, d.bytes, d.piece, who);
        std::copy(b.begin(), b.end(), bytes.begin() + d.byte_offset);
        std::fill(valid.begin() + d.byte_offset, valid.begin() + d.byte_offset + d.bytes, 1);
      }
      for (auto& [piece, g] : got) {
        const StreamPiece& sp = s->pieces.at(piece);
        const int64_t need = std::min<int64_t>(PieceBytes(sp.piece), g.second.size());
        const bool whole =
            PieceBytes(sp.piece) <= static_cast<int64_t>(g.second.size()) &&
            std::all_of(g.second.begin(), g.second.begin() + need, [](char v) { return v != 0; });
        if (whole) {
          out.push_back({sp.piece, std::move(g.first)});
        } else if (sp.piece.kind == "input" || sp.piece.kind == "feature") {
          // Part of an input piece: the lines it holds count (Frames).
          out.push_back({sp.piece, std::move(g.first), std::move(g.second)});
        }  // part of a weights or state piece: not an operand
      }
    }
    return out;
  }

  // The values input `k` of the tile's layer reads, as the producer's
  // frames [steps][elements] (channel-major, as `run` holds them), every
  // (step, row) the arithmetic needs decoded from the tile's operands.
  struct InputFrames {
    std::vector<float> values;
    int64_t steps = 0, elements = 0;
  };

  // The producer rows output rows [y0, y1) need.
  std::pair<int64_t, int64_t> NeededRows(const ir::Layer& l, int src, int64_t y0,
                                         int64_t y1) const {
    const int64_t rows = Rows(src);
    const int64_t elements = src < 0 ? input_per_ : Elements(w_.layers[src]);
    const bool windowed =
        l.op == ir::OpKind::kConv || l.op == ir::OpKind::kMaxPool || l.op == ir::OpKind::kAvgPool;
    const int64_t channels = l.op == ir::OpKind::kConv ? l.dims.G * l.dims.C : l.dims.K;
    if (windowed && l.in_y == rows && elements == channels * l.in_y * l.in_x) {
      const int64_t s = l.window.stride_y, top = l.window.pad_top,
                    span = (l.dims.FY - 1) * l.window.dilation_y + 1;
      return {std::max<int64_t>(0, y0 * s - top), std::min(rows, (y1 - 1) * s - top + span)};
    }
    const bool same = l.op != ir::OpKind::kLinear && l.op != ir::OpKind::kGlobalAvgPool &&
                      !windowed && rows == l.dims.OY && elements == Elements(l);
    if (same) return {y0, y1};
    return {0, rows};
  }

  InputFrames Frames(const TileRec& t, const std::vector<Operand>& ops, size_t k) {
    const ir::Layer& l = w_.layers[t.layer];
    const int src = l.inputs[k];
    InputFrames f;
    f.steps = Steps(src);
    const int64_t R = Rows(src), X = Cols(src), C = Chans(src);
    f.elements = R * X * C;
    f.values.assign(static_cast<size_t>(f.steps * f.elements), 0.0f);
    // Steps needed: as run's SourceAt.
    std::set<int64_t> steps;
    if (l.op == ir::OpKind::kTimeMean) {
      for (int64_t u = 0; u < f.steps; ++u) steps.insert(u);
    } else {
      for (int64_t u = t.t0; u < t.t1; ++u) {
        if (l.delayed(k)) {
          if (u > 0) steps.insert(std::min(u - 1, f.steps - 1));
        } else {
          steps.insert(std::min(u, f.steps - 1));
        }
      }
    }
    const auto [r0, r1] = NeededRows(l, src, t.y0, t.y1);
    std::vector<char> have(static_cast<size_t>(f.steps * R), 0);
    const int bits = Bits(src);
    const std::vector<double>* one = nullptr;  // the producer's set-bit values, once it is read
    for (const Operand& op : ops) {
      const Piece& p = op.piece;
      if (p.layer != src || p.sample != t.sample ||
          (src < 0 ? p.kind != "input" : p.kind != "feature"))
        continue;
      if (bits == 1 && src >= 0 && one == nullptr)
        one = &SpikeValues(src, absl::StrCat("tile ", t.id));
      const int64_t pt0 = src >= 0 && w_.layers[src].op == ir::OpKind::kTimeMean ? 0 : p.t0;
      const int64_t psteps = PieceSteps(p);
      for (int64_t u = pt0; u < pt0 + psteps; ++u) {
        if (!steps.count(u)) continue;
        for (int64_t y = std::max(p.y0, r0); y < std::min(p.y1, r1); ++y) {
          int64_t i = ((u - pt0) * (p.y1 - p.y0) + (y - p.y0)) * X * C;
          if (!op.valid.empty()) {  // a partial stream read: only lines it delivered
            const int64_t b0 = i * bits / 8, b1 = ((i + X * C) * bits + 7) / 8;
            if (b1 > static_cast<int64_t>(op.valid.size()) ||
                !std::all_of(op.valid.begin() + b0, op.valid.begin() + b1,
                             [](char v) { return v != 0; }))
              continue;
          }
          float* frame = f.values.data() + u * f.elements;
          for (int64_t x = 0; x < X; ++x)
            for (int64_t c = 0; c < C; ++c) {
              const int64_t el = (c * R + y) * X + x;
              frame[el] = static_cast<float>(Get(op.bytes, bits, i++) * (one ? (*one)[el] : 1.0));
            }
          have[u * R + y] = 1;
        }
      }
    }
    for (int64_t u : steps)
      for (int64_t y = r0; y < r1; ++y)
        if (!have[u * R + y])
          Throw(absl::StrCat("tile ", t.id, ": needs ",
                             src < 0 ? "the network input" : "layer " + w_.layers[src].name,
                             "'s step ", u, " row ", y, " (sample ", t.sample,
                             "), which none of the allocations it reads (nor its stream) holds"));
    return f;
  }

  // The frame input k reads at step u (zeros for a delayed input at step 0).
  const float* At(const ir::Layer& l, const InputFrames& f, size_t k, int64_t u) const {
    if (l.delayed(k)) {
      if (u == 0) return zeros_.data();
      return f.values.data() + std::min(u - 1, f.steps - 1) * f.elements;
    }
    return f.values.data() + std::min(u, f.steps - 1) * f.elements;
  }

  Pending Compute(const TileRec& t) {
    const ir::Layer& l = Computed(t);
    const std::vector<Operand> ops = Gather(t);
    const int64_t e = Elements(l);
    const int64_t ns = t.t1 - t.t0;
    std::vector<InputFrames> in;
    for (size_t k = 0; k < l.inputs.size(); ++k) {
      in.push_back(Frames(t, ops, k));
      if (zeros_.size() < static_cast<size_t>(in.back().elements))
        zeros_.assign(in.back().elements, 0.0f);
    }
    auto contiguous = [&](size_t k) {
      std::vector<float> x;
      x.reserve(static_cast<size_t>(ns * in[k].elements));
      for (int64_t u = t.t0; u < t.t1; ++u) {
        const float* p = At(l, in[k], k, u);
        x.insert(x.end(), p, p + in[k].elements);
      }
      return x;
    };
    std::vector<float> weights;
    if (l.has_weights()) {
      const Operand* wop = nullptr;
      for (const Operand& op : ops)
        if (op.piece.kind == "weights" && op.piece.layer == t.layer) wop = &op;
      if (wop == nullptr)
        Throw(absl::StrCat("tile ", t.id, ": reads no weights of layer ", l.name,
                           " (none of its allocations or stream reads holds them)"));
      const int64_t n = static_cast<int64_t>(l.params.weights.size());
      if (static_cast<int64_t>(wop->bytes.size()) < 4 * n)
        Throw(absl::StrCat("tile ", t.id, ": the weights piece ", wop->piece.id,
                           " holds fewer than ", n, " weights"));
      weights.resize(static_cast<size_t>(n));
      std::memcpy(weights.data(), wop->bytes.data(), static_cast<size_t>(4 * n));
    }
    Pending out;
    out.steps = l.op == ir::OpKind::kTimeMean ? 1 : ns;
    out.y.assign(static_cast<size_t>(out.steps * e), 0.0f);
    float* y = out.y.data();
    const bool current_sum = l.spiking() && l.neuron.current_layers.size() > 1;
    const std::string who = absl::StrCat("tile ", t.id);
    const float* bias = l.params.bias.empty() ? nullptr : l.params.bias.data();
    if (!current_sum) {
      switch (l.op) {
        case ir::OpKind::kConv: {
          std::vector<float> x = contiguous(0);
          const ConvGeometry g = internal::ConvGeometryOf(l, ns);
          if (in[0].elements != g.c * g.h * g.w) Throw(absl::StrCat(who, ": input size mismatch"));
          if (absl::Status s = Conv2d(g, x.data(), weights.data(), bias, y, opt_.threads); !s.ok())
            Throw(absl::StrCat(who, ": ", s.message()));
          break;
        }
        case ir::OpKind::kLinear: {
          // The call `run` makes: all T x B rows at once (one step of B rows
          // for a layer stepped with a recurrence), this tile's rows placed
          // where run has them, so every output is the same sgemm element.
          const int64_t c = l.dims.C, B = w_.batch;
          if (in[0].elements != c)
            Throw(absl::StrCat(who, ": the linear layer's input is not ", c, " features"));
          const bool stepped = recurrent_[t.layer] || l.has_delayed_input();
          const int64_t frames = stepped ? B : l.dims.T * B;
          std::vector<float> x(static_cast<size_t>(frames * c), 0.0f),
              yy(static_cast<size_t>(frames * l.dims.K));
          for (int64_t u = t.t0; u < t.t1; ++u) {
            const int64_t row = stepped ? t.sample : u * B + t.sample;
            const float* p = At(l, in[0], 0, u);
            std::copy(p, p + c, x.begin() + row * c);
            if (stepped || u + 1 == t.t1) {
              Linear(frames, c, l.dims.K, x.data(), weights.data(), bias, yy.data(), opt_.threads);
              for (int64_t v = stepped ? u : t.t0; v <= u; ++v) {
                const int64_t r = stepped ? t.sample : v * B + t.sample;
                std::copy(yy.begin() + r * l.dims.K, yy.begin() + (r + 1) * l.dims.K,
                          y + (v - t.t0) * e);
              }
            }
          }
          break;
        }
        case ir::OpKind::kMaxPool:
        case ir::OpKind::kAvgPool: {
          std::vector<float> x = contiguous(0);
          const PoolGeometry g = internal::PoolGeometryOf(l, ns);
          if (in[0].elements != g.c * g.h * g.w) Throw(absl::StrCat(who, ": input size mismatch"));
          absl::Status s = l.op == ir::OpKind::kMaxPool ? MaxPool2d(g, x.data(), y, opt_.threads)
                                                        : AvgPool2d(g, x.data(), y, opt_.threads);
          if (!s.ok()) Throw(absl::StrCat(who, ": ", s.message()));
          break;
        }
        case ir::OpKind::kGlobalAvgPool: {
          std::vector<float> x = contiguous(0);
          if (in[0].elements != l.dims.K * l.dims.FY * l.dims.FX)
            Throw(absl::StrCat(who, ": input size mismatch"));
          GlobalAvgPool(ns, l.dims.K, l.dims.FY * l.dims.FX, x.data(), y);
          break;
        }
        case ir::OpKind::kTimeMean: {
          if (in[0].elements != e) Throw(absl::StrCat(who, ": input size mismatch"));
          std::vector<double> acc(static_cast<size_t>(e), 0.0);
          for (int64_t u = 0; u < in[0].steps; ++u) {
            const float* p = in[0].values.data() + u * e;
            for (int64_t i = 0; i < e; ++i) acc[i] += p[i];
          }
          for (int64_t i = 0; i < e; ++i)
            y[i] = static_cast<float>(acc[i] / static_cast<double>(in[0].steps));
          break;
        }
        case ir::OpKind::kAdd:
        case ir::OpKind::kSewAdd:
        case ir::OpKind::kSewOr:
        case ir::OpKind::kSewAnd:
        case ir::OpKind::kSewIAnd: {
          for (size_t k = 0; k < in.size(); ++k)
            if (in[k].elements != e) Throw(absl::StrCat(who, ": input size mismatch"));
          for (int64_t u = t.t0; u < t.t1; ++u) {
            std::vector<const float*> xs;
            for (size_t k = 0; k < in.size(); ++k) xs.push_back(At(l, in[k], k, u));
            internal::Join(l.op, xs, e, y + (u - t.t0) * e);
          }
          break;
        }
        case ir::OpKind::kRelu:
        case ir::OpKind::kScale:
        case ir::OpKind::kBatchNorm: {
          if (in[0].elements != e) Throw(absl::StrCat(who, ": input size mismatch"));
          for (int64_t u = t.t0; u < t.t1; ++u)
            std::copy_n(At(l, in[0], 0, u), e, y + (u - t.t0) * e);
          break;
        }
      }
      internal::PostOps(l, out.steps, y);
    }
    if (l.spiking()) Neuron(t, ops, in, &out);
    return out;
  }

  // A tile of step 0 that reads no state piece under --state-io zero: its
  // neuron starts from the initial state, on chip (the planner reads no
  // state a tile starts from; tb tiles never let it leave the PE).
  bool StartsOnChip(const TileRec& t, const std::vector<Operand>& ops) const {
    return t.t0 == 0 && !state_in_dram_ && StateOperand(t, ops) == nullptr;
  }

  // The tile's state piece among its operands (stateful layers).
  const Operand* StateOperand(const TileRec& t, const std::vector<Operand>& ops) const {
    const Operand* found = nullptr;
    for (const Operand& op : ops)
      if (op.piece.kind == "state" && op.piece.layer == t.layer && op.piece.sample == t.sample &&
          op.piece.y0 <= t.y0 && op.piece.y1 >= t.y1)
        found = &op;
    return found;
  }

  void Neuron(const TileRec& t, const std::vector<Operand>& ops, const std::vector<InputFrames>& in,
              Pending* out) {
    const ir::Layer& l = Computed(t);
    const int64_t e = Elements(l), R = l.dims.OY, X = l.dims.OX, K = l.dims.G * l.dims.K;
    auto it = neurons_.find(t.layer);
    if (it == neurons_.end()) it = neurons_.emplace(t.layer, internal::CompileNeuron(l)).first;
    const internal::CompiledNeuron& c = it->second;
    const int S = c.states;
    out->state.assign(static_cast<size_t>(e * S), 0.0);
    if (l.stateful() && !StartsOnChip(t, ops)) {
      const Operand* st = StateOperand(t, ops);
      if (st == nullptr)
        Throw(absl::StrCat("tile ", t.id, ": reads no state of layer ", l.name, " rows [", t.y0,
                           ", ", t.y1, ") sample ", t.sample,
                           " (none of its allocations or stream reads holds it)"));
      const Piece& p = st->piece;
      int64_t i = 0;
      for (int64_t y = p.y0; y < p.y1; ++y)
        for (int64_t x = 0; x < X; ++x)
          for (int64_t k = 0; k < K; ++k)
            for (int s = 0; s < S; ++s)
              out->state[((k * R + y) * X + x) * S + s] = Get(st->bytes, 64, i++);
      out->state_y0 = p.y0;
      out->state_y1 = p.y1;
    } else if (l.stateful()) {
      // Step 0 under --state-io zero: the initial state (every row).
      out->state_y0 = -1;
      for (int64_t i = 0; i < e; ++i)
        for (int s = 0; s < S; ++s) out->state[i * S + s] = c.initial.empty() ? 0.0 : c.initial[s];
    }
    const bool current_sum = l.neuron.current_layers.size() > 1;
    std::vector<double> vars(static_cast<size_t>(S + c.currents)), next(static_cast<size_t>(S));
    std::vector<float> currents(static_cast<size_t>(c.currents));
    for (int64_t u = t.t0; u < t.t1; ++u) {
      float* y = out->y.data() + (u - t.t0) * e;
      std::vector<const float*> cur(static_cast<size_t>(c.currents));
      for (int j = 0; j < c.currents; ++j) cur[j] = current_sum ? At(l, in[j], j, u) : y;
      for (int64_t k = 0; k < K; ++k)
        for (int64_t row = t.y0; row < t.y1; ++row)
          for (int64_t x = 0; x < X; ++x) {
            const int64_t el = (k * R + row) * X + x;
            for (int j = 0; j < c.currents; ++j) currents[j] = cur[j][el];
            y[el] = internal::NeuronStep(c, el, out->state.data() + el * S, currents.data(),
                                         vars.data(), next.data(), nullptr);
          }
    }
  }

  // Encodes a feature piece of the tile's output.
  std::vector<uint8_t> FeatureImage(const TileRec& t, const Piece& p, const Pending& r,
                                    int64_t bytes, const std::string& who) {
    const ir::Layer& l = w_.layers[t.layer];
    const bool mean = l.op == ir::OpKind::kTimeMean;
    if (p.kind != "feature" || p.layer != t.layer || p.sample != t.sample || p.y0 != t.y0 ||
        p.y1 != t.y1 || (!mean && (p.t0 != t.t0 || p.t1 != t.t1)))
      Throw(absl::StrCat(who, ": the piece written (", p.kind, " ", p.id, ", t [", p.t0, ", ", p.t1,
                         "), rows [", p.y0, ", ", p.y1, ")) is not the tile's output"));
    if (PieceBytes(p) > bytes)
      Throw(absl::StrCat(who, ": ", bytes, " bytes cannot hold piece ", p.id));
    std::vector<uint8_t> image(static_cast<size_t>(bytes), 0);
    const int64_t e = Elements(l), R = l.dims.OY, X = l.dims.OX, K = l.dims.G * l.dims.K;
    const int bits = bits_[t.layer].output;
    const std::vector<double>* one = bits == 1 ? &SpikeValues(t.layer, who) : nullptr;
    int64_t i = 0;
    for (int64_t u = 0; u < r.steps; ++u)
      for (int64_t y = p.y0; y < p.y1; ++y)
        for (int64_t x = 0; x < X; ++x)
          for (int64_t k = 0; k < K; ++k) {
            const int64_t el = (k * R + y) * X + x;
            Put(image, bits, i++, r.y[u * e + el], who, one ? (*one)[el] : 1.0);
          }
    return image;
  }

  std::vector<uint8_t> StatePieceImage(const TileRec& t, const Piece& p, const Pending& r,
                                       int64_t bytes, const std::string& who) const {
    const ir::Layer& l = w_.layers[t.layer];
    if (p.layer != t.layer || p.sample != t.sample || p.y0 > t.y0 || p.y1 < t.y1 ||
        (r.state_y0 >= 0 && (p.y0 != r.state_y0 || p.y1 != r.state_y1)))
      Throw(absl::StrCat(who, ": the state piece written (", p.id, ", rows [", p.y0, ", ", p.y1,
                         ")) is not the one the tile read"));
    if (PieceBytes(p) > bytes)
      Throw(absl::StrCat(who, ": ", bytes, " bytes cannot hold piece ", p.id));
    std::vector<uint8_t> image(static_cast<size_t>(bytes), 0);
    const int64_t R = l.dims.OY, X = l.dims.OX, K = l.dims.G * l.dims.K;
    const int S = l.neuron.dynamics.states;
    int64_t i = 0;
    for (int64_t y = p.y0; y < p.y1; ++y)
      for (int64_t x = 0; x < X; ++x)
        for (int64_t k = 0; k < K; ++k)
          for (int s = 0; s < S; ++s)
            Put(image, 64, i++, r.state[((k * R + y) * X + x) * S + s], who);
    return image;
  }

  void WriteBack(const TileRec& t, const Pending& r) {
    const ir::Layer& l = w_.layers[t.layer];
    bool output = false, state = false;
    for (int64_t id : t.writes) {
      const std::string who = absl::StrCat("tile ", t.id, " (writes allocation ", id, ")");
      Alloc& a = AllocAt(id, who);
      if (a.core != t.core)
        Throw(absl::StrCat(who, ": the allocation is on core ", a.core, ", the tile on ", t.core));
      Live(a, t.start, t.end, who);
      CheckPieceRange(a.holds, who);
      std::vector<uint8_t> image = a.holds.kind == "state"
                                       ? StatePieceImage(t, a.holds, r, a.bytes, who)
                                       : FeatureImage(t, a.holds, r, a.bytes, who);
      (a.holds.kind == "state" ? state : output) = true;
      std::memcpy(Sram(a.core, who).data() + a.offset, image.data(), image.size());
      a.content = a.holds.id;
    }
    for (const Stream* s : t.streams)
      for (const Descriptor& d : s->descriptors) {
        if (!d.write) continue;
        const StreamPiece& sp = s->pieces.at(d.piece);
        const std::string who =
            absl::StrCat("tile ", t.id, " (stream transfer ", s->id, ", piece ", d.piece, ")");
        std::vector<uint8_t> image = sp.piece.kind == "state"
                                         ? StatePieceImage(t, sp.piece, r, sp.bytes, who)
                                         : FeatureImage(t, sp.piece, r, sp.bytes, who);
        (sp.piece.kind == "state" ? state : output) = true;
        WriteDram(d.dram_address, image.data() + d.byte_offset, d.bytes, d.piece, who);
      }
    if (!output)
      Throw(absl::StrCat("tile ", t.id,
                         ": writes its output nowhere (no output allocation or stream write)"));
    if (l.stateful() && !state && t.t1 < l.dims.T)
      Throw(absl::StrCat("tile ", t.id,
                         ": writes its updated state nowhere, but later steps need it"));
  }

  // ------------------------------------------------------------ outputs
  RunResult Collect() {
    RunResult r;
    r.timesteps = w_.timesteps;
    const int64_t B = w_.batch;
    std::map<int, std::vector<float>> values;  // layer -> [steps][B][e]
    std::map<int, std::vector<char>> have;     // layer -> [steps][B][rows]
    const json& slices = Key(Key(m_, "network_io", "manifest"), "outputs", "manifest.network_io");
    for (size_t k = 0; k < slices.size(); ++k) {
      const std::string path = absl::StrCat("manifest.network_io.outputs[", k, "]");
      Piece p;
      p.kind = "feature";
      p.where = path;
      p.layer = static_cast<int>(Int(slices[k], "layer_id", path));
      if (p.layer < 0 || p.layer >= static_cast<int>(w_.layers.size()))
        Throw(absl::StrCat(path, ".layer_id: no such layer"));
      ReadSlice(slices[k], path, &p);
      CheckPieceRange(p, path);
      const ir::Layer& l = w_.layers[p.layer];
      const int64_t e = Elements(l), R = l.dims.OY, X = l.dims.OX, K = l.dims.G * l.dims.K,
                    T = Steps(p.layer);
      std::vector<uint8_t> bytes =
          ReadDram(Int(slices[k], "dram_address", path), PieceBytes(p), p.id, path);
      std::vector<float>& v = values[p.layer];
      std::vector<char>& h = have[p.layer];
      v.resize(static_cast<size_t>(T * B * e));
      h.resize(static_cast<size_t>(T * B * R));
      const int64_t pt0 = l.op == ir::OpKind::kTimeMean ? 0 : p.t0;
      const int bits = bits_[p.layer].output;
      const std::vector<double>* one = bits == 1 ? &SpikeValues(p.layer, path) : nullptr;
      int64_t i = 0;
      for (int64_t u = pt0; u < pt0 + PieceSteps(p); ++u)
        for (int64_t y = p.y0; y < p.y1; ++y) {
          for (int64_t x = 0; x < X; ++x)
            for (int64_t c = 0; c < K; ++c) {
              const int64_t el = (c * R + y) * X + x;
              v[(u * B + p.sample) * e + el] =
                  static_cast<float>(Get(bytes, bits, i++) * (one ? (*one)[el] : 1.0));
            }
          h[(u * B + p.sample) * R + y] = 1;
        }
    }
    for (const ir::Binding& b : w_.outputs) {
      if (b.kind == ir::BindingKind::kNotProduced) {
        r.not_produced.push_back(absl::StrCat(b.name, ": ", b.why));
        continue;
      }
      if (b.kind == ir::BindingKind::kState && state_in_dram_ &&
          b.steps == ir::BindingSteps::kOne && (w_.time_in_graph || w_.timesteps == 1)) {
        absl::StatusOr<Array> a = internal::OutputArray(w_, b, FinalStates(b.layer), 1);
        if (!a.ok()) Throw(std::string(a.status().message()));
        r.outputs[b.name] = std::move(*a);
        continue;
      }
      auto it = values.find(b.layer);
      if (b.kind == ir::BindingKind::kState) {
        const bool last_only =
            b.steps == ir::BindingSteps::kOne && (w_.time_in_graph || w_.timesteps == 1);
        r.not_produced.push_back(absl::StrCat(
            b.name, last_only ? ": the manifest keeps states on chip (--state-io zero); plan with "
                                "--state-io dram to store the final state"
                              : ": a state of every step (a membrane recording); manifests store "
                                "at most the last (state_final, under --state-io dram)"));
        continue;
      }
      if (b.kind != ir::BindingKind::kLayerOutput || it == values.end()) {
        r.not_produced.push_back(absl::StrCat(
            b.name,
            ": the manifest does not write it to DRAM (replay reads only network_io.outputs)"));
        continue;
      }
      const ir::Layer& l = w_.layers[b.layer];
      const std::vector<char>& h = have[b.layer];
      for (size_t i = 0; i < h.size(); ++i)
        if (!h[i])
          Throw(absl::StrCat("output '", b.name, "': layer ", l.name, "'s step ",
                             i / (B * l.dims.OY), " sample ", (i / l.dims.OY) % B, " row ",
                             i % l.dims.OY, " is in no network_io.outputs slice"));
      std::vector<float> data = it->second;
      int64_t steps = Steps(b.layer);
      if (l.op == ir::OpKind::kTimeMean) {  // run keeps the layer's T steps, each the mean
        std::vector<float> one = data;
        data.clear();
        for (int64_t u = 0; u < l.dims.T; ++u) data.insert(data.end(), one.begin(), one.end());
        steps = l.dims.T;
      }
      absl::StatusOr<Array> a = internal::OutputArray(w_, b, data, steps);
      if (!a.ok()) Throw(std::string(a.status().message()));
      r.outputs[b.name] = std::move(*a);
    }
    return r;
  }

  // A layer's states after the last step, [B * Elements][states], from the
  // initial_state slices its state_final stores wrote (--state-io dram).
  std::vector<float> FinalStates(int layer) {
    const ir::Layer& l = w_.layers[layer];
    const int64_t e = Elements(l), R = l.dims.OY, X = l.dims.OX, K = l.dims.G * l.dims.K;
    const int S = l.neuron.dynamics.states;
    std::vector<float> out(static_cast<size_t>(w_.batch * e * S), 0.0f);
    std::vector<char> have(static_cast<size_t>(w_.batch * R), 0);
    const json& slices = m_["initial_state"]["slices"];
    for (size_t k = 0; k < slices.size(); ++k) {
      const std::string path = absl::StrCat("manifest.initial_state.slices[", k, "]");
      if (Int(slices[k], "layer_id", path) != layer) continue;
      Piece p;
      p.kind = "state";
      p.layer = layer;
      ReadSlice(slices[k], path, &p);
      CheckPieceRange(p, path);
      const std::vector<uint8_t> bytes =
          ReadDram(Int(slices[k], "dram_address", path), PieceBytes(p), p.id, path);
      int64_t i = 0;
      for (int64_t y = p.y0; y < p.y1; ++y) {
        for (int64_t x = 0; x < X; ++x)
          for (int64_t c = 0; c < K; ++c)
            for (int s = 0; s < S; ++s)
              out[(p.sample * e + (c * R + y) * X + x) * S + s] =
                  static_cast<float>(Get(bytes, 64, i++));
        have[p.sample * R + y] = 1;
      }
    }
    for (size_t i = 0; i < have.size(); ++i)
      if (!have[i])
        Throw(absl::StrCat("layer ", l.name, "'s final state of sample ", i / R, " row ", i % R,
                           " is in no initial_state slice"));
    return out;
  }

  struct LayerBits {
    int weight = 0, output = 0, state = 0;
  };

  const json& m_;
  const ir::Workload& w_;
  RunOptions opt_;
  std::vector<bool> recurrent_;
  std::vector<LayerBits> bits_;
  int input_bits_ = 32;
  bool state_in_dram_ = false;  // initial_state.mode dram: every state is read from a piece
  int64_t in_c_ = 0, in_h_ = 0, in_w_ = 0, input_per_ = 0;
  const Array* input_ = nullptr;
  Array repeated_input_;  // a static input repeated over the steps
  std::vector<uint8_t> dram_;
  std::vector<int32_t> dram_piece_;  // per DRAM byte: the piece written there (-1: nothing)
  std::map<int, std::vector<uint8_t>> sram_;
  std::map<int64_t, Alloc> allocs_;
  std::vector<TileRec> tiles_;
  std::vector<Stream> streams_;
  std::vector<Event> events_;
  std::map<int, internal::CompiledNeuron> neurons_;
  std::vector<ParamBlockRec> blocks_;
  std::vector<int> block_of_;                        // layer -> index in blocks_ (-1: none)
  std::map<std::pair<int, int>, ir::Layer> loaded_;  // (core, layer) -> its decoded parameters
  std::map<int, std::vector<double>> spike_values_;  // layer -> SpikeValues
  std::map<std::pair<int, int>, const Array*> given_states_;  // (layer, state) -> input
  std::vector<float> zeros_;
};

}  // namespace

absl::StatusOr<RunResult> ReplayManifest(std::string_view manifest, const std::string& name,
                                         const ir::Workload& w,
                                         const std::map<std::string, Array>& inputs,
                                         const RunOptions& options) {
  json m = json::parse(manifest, nullptr, /*allow_exceptions=*/false);
  if (m.is_discarded() || !m.is_object())
    return absl::InvalidArgumentError(absl::StrCat(name, ": not a JSON object"));
  try {
    return Replayer(m, w, options).Run(inputs);
  } catch (const Fail& f) {
    return absl::InvalidArgumentError(absl::StrCat(name, ": ", f.message));
  } catch (const json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(name, ": malformed manifest: ", e.what()));
  }
}

}  // namespace snnplan::runtime
