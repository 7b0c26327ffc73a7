// Typed, non-throwing reader of a manifest document. Every access checks the
// JSON type first; the first problem becomes an InvalidArgument status that
// names the JSON path ("tiles[3].start: must be an integer").
#include <cmath>

#include "model.h"

namespace snnplan::validate {
namespace {

using json = nlohmann::json;

// Integers beyond +-2^53 are refused: every sum the checks form then fits in
// int64 (sums of many values use __int128), and no JSON tool loses precision.
constexpr int64_t kMaxInt = int64_t{1} << 53;

// Reads fields of one JSON object; remembers the first error.
class Obj {
 public:
  Obj(const json* j, std::string path, absl::Status* err)
      : j_(j), path_(std::move(path)), err_(err) {
    if (j_ == nullptr || !j_->is_object()) {
      Fail(path_, "must be an object");
      j_ = nullptr;
    }
  }
  bool ok() const { return j_ != nullptr && err_->ok(); }
  const std::string& path() const { return path_; }
  std::string Path(const char* key) const { return absl::StrCat(path_, ".", key); }

  bool Has(const char* key) const { return j_ != nullptr && j_->find(key) != j_->end(); }
  const json* Get(const char* key) {
    if (j_ == nullptr) return nullptr;
    auto it = j_->find(key);
    if (it == j_->end()) {
      Fail(Path(key), "missing");
      return nullptr;
    }
    return &*it;
  }
  int64_t Int(const char* key) { return AsInt(Get(key), Path(key)); }
  double Num(const char* key) {
    const json* v = Get(key);
    if (v == nullptr) return 0;
    if (!v->is_number()) return Fail(Path(key), "must be a number"), 0;
    const double d = v->get<double>();
    if (!std::isfinite(d)) return Fail(Path(key), "must be finite"), 0;
    return d;
  }
  std::string Str(const char* key) { return AsStr(Get(key), Path(key)); }
  std::optional<std::string> StrOrNull(const char* key) {
    const json* v = Get(key);
    if (v == nullptr || v->is_null()) return std::nullopt;
    return AsStr(v, Path(key));
  }
  Span Pair(const char* key) {
    const json* v = Get(key);
    if (v == nullptr) return {};
    if (!v->is_array() || v->size() != 2) return Fail(Path(key), "must be [begin, end]"), Span{};
    return {AsInt(&(*v)[0], Path(key)), AsInt(&(*v)[1], Path(key))};
  }
  std::vector<int64_t> Ints(const char* key) {
    std::vector<int64_t> out;
    const json* v = Get(key);
    if (v == nullptr) return out;
    if (!v->is_array()) return Fail(Path(key), "must be an array"), out;
    for (const json& e : *v) out.push_back(AsInt(&e, Path(key)));
    return out;
  }
  Obj Child(const char* key) { return Obj(Get(key), Path(key), err_); }
  absl::Status* err() const { return err_; }
  const json& json_ref() const { return *j_; }  // only when ok()
  const json* Array(const char* key) {
    const json* v = Get(key);
    if (v != nullptr && !v->is_array()) return Fail(Path(key), "must be an array"), nullptr;
    return v;
  }
  int64_t AsInt(const json* v, const std::string& path) {
    if (v == nullptr) return 0;
    if (v->is_number_unsigned()) {
      if (v->get<uint64_t>() > static_cast<uint64_t>(kMaxInt))
        return Fail(path, "out of range (|n| <= 2^53)"), 0;
      return static_cast<int64_t>(v->get<uint64_t>());
    }
    if (!v->is_number_integer()) return Fail(path, "must be an integer"), 0;
    const int64_t n = v->get<int64_t>();
    if (n > kMaxInt || n < -kMaxInt) return Fail(path, "out of range (|n| <= 2^53)"), 0;
    return n;
  }
  std::string AsStr(const json* v, const std::string& path) {
    if (v == nullptr) return {};
    if (!v->is_string()) return Fail(path, "must be a string"), std::string();
    return v->get<std::string>();
  }
  void Fail(const std::string& path, const char* what) {
    if (err_->ok()) *err_ = absl::InvalidArgumentError(absl::StrCat(path, ": ", what));
  }

 private:
  const json* j_;
  std::string path_;
  absl::Status* err_;
};

template <typename T>
int EnumIndex(Obj& o, const char* key, const T& names) {
  const std::string s = o.Str(key);
  for (size_t i = 0; i < names.size(); ++i)
    if (s == names[i]) return static_cast<int>(i);
  o.Fail(o.Path(key), "unknown value");
  return 0;
}

constexpr std::array<const char*, 4> kKinds = {"weights", "state", "feature", "input"};

// What the schema version changes in reading. Version 1 manifests are read
// exactly as before: `core` fields other than a tile's and energy `noc`
// fields are ignored, everything is on the first hardware core, and a `noc`
// transfer is an unknown direction.
struct Version {
  bool v2 = false;
  int64_t first_core = 0;
  bool v4 = false;
};

PieceRef ReadPiece(Obj o) {
  PieceRef p;
  p.kind = static_cast<Kind>(EnumIndex(o, "kind", kKinds));
  p.operand = EnumIndex(o, "operand", kOperands);
  p.layer = o.StrOrNull("layer");
  p.sample = o.Int("sample");
  p.t = o.Pair("t");
  p.rows = o.Pair("rows");
  p.piece = o.Int("piece");
  if (o.Has("dram_address")) p.dram_address = o.Int("dram_address");
  if (o.Has("bytes")) p.bytes = o.Int("bytes");
  return p;
}

Energy ReadEnergy(Obj o, const Version& v) {
  Energy e{o.Num("total"), o.Num("compute"), o.Num("local"), o.Num("sram"), o.Num("dram")};
  if (v.v2 && o.Has("noc")) {
    e.noc = o.Num("noc");
    e.has_noc = true;
  }
  return e;
}

// `core` of an allocation or transfer: required in version 2.
int64_t ReadCore(Obj& o, const Version& v) { return v.v2 ? o.Int("core") : v.first_core; }

MTile ReadTile(Obj o, const Version& v) {
  MTile t;
  t.id = o.Str("id");
  t.index = o.Int("index");
  t.layer = o.Str("layer");
  t.layer_id = o.Int("layer_id");
  t.block = o.Int("block");
  t.sample = o.Int("sample");
  t.t = o.Pair("t");
  t.rows = o.Pair("rows");
  if (v.v4 || o.Has("cols")) t.cols = o.Pair("cols");
  if (v.v4 || o.Has("channels")) t.channels = o.Pair("channels");
  t.core = o.Int("core");
  t.start = o.Int("start");
  t.end = o.Int("end");
  t.energy = ReadEnergy(o.Child("energy_pj"), v);
  t.reads = o.Ints("reads");
  t.writes = o.Ints("writes");
  return t;
}

MAlloc ReadAlloc(Obj o, const Version& v) {
  MAlloc a;
  a.id = o.Int("id");
  a.core = ReadCore(o, v);
  a.memory = o.Str("memory");
  a.offset = o.Int("offset");
  a.bytes = o.Int("bytes");
  a.allocated_at = o.Int("allocated_at");
  a.freed_at = o.Int("freed_at");
  a.holds = ReadPiece(o.Child("holds"));
  if (v.v4 && o.Has("init")) a.init = o.Str("init");
  return a;
}

MDescriptor ReadDescriptor(Obj o) {
  MDescriptor d;
  d.piece = o.Int("piece");
  d.operand = EnumIndex(o, "operand", kOperands);
  d.write = EnumIndex(o, "direction", std::array<const char*, 2>{"read", "write"}) == 1;
  d.dram_address = o.Int("dram_address");
  d.byte_offset = o.Int("byte_offset");
  d.bytes = o.Int("bytes");
  d.repeat = o.Int("repeat");
  if (o.Has("init")) d.init = o.Str("init");
  return d;
}

void ReadStream(Obj& o, const Version& v, MTransfer* t) {
  t->tile = o.Str("tile");
  Obj ops = o.Child("operands");
  for (size_t i = 0; i < kOperands.size() && ops.ok(); ++i) {
    if (!ops.Has(kOperands[i])) continue;
    Obj rw = ops.Child(kOperands[i]);
    t->read[i] = rw.Int("read_bytes");
    t->write[i] = rw.Int("write_bytes");
  }
  if (const json* pieces = o.Array("pieces")) {
    size_t i = 0;
    for (const json& p : *pieces)
      t->pieces.push_back(ReadPiece(Obj(&p, absl::StrCat(o.Path("pieces"), "[", i++, "]"),
                                        o.err())));
  }
  if (!v.v4) return;
  if (const json* ds = o.Array("descriptors")) {
    size_t i = 0;
    for (const json& d : *ds)
      t->descriptors.push_back(
          ReadDescriptor(Obj(&d, absl::StrCat(o.Path("descriptors"), "[", i++, "]"), o.err())));
  }
}

std::vector<Xy> ReadRoute(Obj& o) {
  std::vector<Xy> route;
  const json* r = o.Array("route");
  if (r == nullptr) return route;
  for (const json& p : *r) {
    if (!p.is_array() || p.size() != 2)
      return o.Fail(o.Path("route"), "must hold [x, y] pairs"), route;
    route.push_back({o.AsInt(&p[0], o.Path("route")), o.AsInt(&p[1], o.Path("route"))});
  }
  return route;
}

void ReadNoc(Obj& o, const Version& v, MTransfer* t) {
  t->from_core = o.Int("from_core");
  t->to_core = o.Int("to_core");
  t->src_allocation = o.Int("src_allocation");
  t->allocation = o.Int("dst_allocation");
  t->route = ReadRoute(o);
  if (o.Has("hops")) t->hops = o.Int("hops");
  t->energy = ReadEnergy(o.Child("energy_pj"), v);
}

MTransfer ReadTransfer(Obj o, const Version& v) {
  MTransfer t;
  t.id = o.Int("id");
  t.dir = static_cast<Dir>(
      EnumIndex(o, "direction", std::array<const char*, 4>{"load", "store", "stream", "noc"}));
  if (t.dir == Dir::kNoc && !v.v2) o.Fail(o.Path("direction"), "unknown value");
  t.cause = o.Str("cause");
  t.start = o.Int("start");
  t.end = o.Int("end");
  t.bytes = o.Int("bytes");
  // A stream's core is its tile's; it may be left out.
  t.has_core = v.v2 && (t.dir != Dir::kStream || o.Has("core"));
  t.core = t.has_core ? o.Int("core") : v.first_core;
  if (t.dir == Dir::kStream) {
    ReadStream(o, v, &t);
    return t;
  }
  t.operand = EnumIndex(o, "operand", kOperands);
  t.tensor = ReadPiece(o.Child("tensor"));
  if (o.Has("link_bytes")) t.link_bytes = o.Int("link_bytes");
  if (t.dir == Dir::kNoc) {
    ReadNoc(o, v, &t);
    return t;
  }
  t.dram_address = o.Int("dram_address");
  t.memory = o.Str("memory");
  t.allocation = o.Int("allocation");
  t.offset = o.Int("offset");
  return t;
}

std::array<int64_t, 4> ReadByOperand(Obj o) {
  std::array<int64_t, 4> v = {};
  for (size_t i = 0; i < kOperands.size(); ++i) v[i] = o.Int(kOperands[i]);
  return v;
}

MCoreSummary ReadCoreSummary(Obj o) {
  MCoreSummary c;
  c.core = o.Int("core");
  c.memory = o.Str("memory");
  c.capacity_bytes = o.Int("capacity_bytes");
  c.peak = o.Int("peak_sram_bytes");
  c.tiles = o.Int("tiles");
  c.busy_cycles = o.Int("busy_cycles");
  return c;
}

// The multi-core figures; all optional (version 1 manifests may carry them).
void ReadMulticoreSummary(Obj& o, MSummary* s) {
  if (o.Has("noc_bytes")) s->noc_bytes = o.Int("noc_bytes");
  if (o.Has("noc_transfers")) s->noc_transfers = o.Int("noc_transfers");
  if (!o.Has("cores")) return;
  const json* cores = o.Array("cores");
  if (cores == nullptr) return;
  s->cores.emplace();
  size_t i = 0;
  for (const json& c : *cores)
    s->cores->push_back(
        ReadCoreSummary(Obj(&c, absl::StrCat(o.Path("cores"), "[", i++, "]"), o.err())));
}

MSummary ReadSummary(Obj o, const Version& v) {
  MSummary s;
  s.energy = ReadEnergy(o.Child("energy_pj"), v);
  Obj d = o.Child("dram_bytes");
  s.total = d.Int("total");
  s.read = d.Int("read");
  s.write = d.Int("write");
  s.by_operand = ReadByOperand(d.Child("by_operand"));
  if (d.Has("read_by_operand")) s.read_by_operand = ReadByOperand(d.Child("read_by_operand"));
  if (d.Has("write_by_operand")) s.write_by_operand = ReadByOperand(d.Child("write_by_operand"));
  if (d.Has("by_cause")) {
    Obj c = d.Child("by_cause");
    if (c.ok()) {
      s.by_cause.emplace();
      for (const auto& [cause, v] : c.json_ref().items())
        (*s.by_cause)[cause] = c.AsInt(&v, c.Path(cause.c_str()));
    }
  }
  if (d.Has("by_block")) s.by_block = d.Ints("by_block");
  s.latency = o.Int("latency_cycles");
  s.peak = o.Int("peak_sram_bytes");
  auto optional_int = [&](const char* key, std::optional<int64_t>* v) {
    if (o.Has(key)) *v = o.Int(key);
  };
  optional_int("compute_cycles", &s.compute_cycles);
  optional_int("stall_cycles", &s.stall_cycles);
  optional_int("tiles", &s.tiles);
  optional_int("allocations", &s.allocations);
  optional_int("transfers", &s.transfers);
  if (o.Has("state_io")) s.state_io = o.Str("state_io");
  if (s.state_io != "zero" && s.state_io != "dram") o.Fail(o.Path("state_io"), "unknown value");
  ReadMulticoreSummary(o, &s);
  return s;
}

// Reads every element of array `key` with `read`.
template <typename T, typename Fn>
std::vector<T> ReadArray(Obj& top, const char* key, Fn read) {
  std::vector<T> out;
  const json* a = top.Array(key);
  if (a == nullptr) return out;
  // Top-level arrays are named bare ("tiles[3]"), nested ones with their parent.
  const std::string path = top.path() == "manifest" ? std::string(key) : top.Path(key);
  size_t i = 0;
  for (const json& e : *a) {
    out.push_back(read(Obj(&e, absl::StrCat(path, "[", i++, "]"), top.err())));
    if (!top.err()->ok()) break;  // the first error is all we report
  }
  return out;
}

absl::Status ReadHardware(Obj& top, Manifest* m) {
  const json* h = top.Get("hardware");
  if (h == nullptr) return *top.err();
  absl::StatusOr<hw::Hardware> hw = hw::FromJson(*h, "manifest hardware");
  if (!hw.ok()) return absl::InvalidArgumentError(absl::StrCat("hardware: ", hw.status().message()));
  if (hw->cores.empty() || hw->cores.front().memories.empty())
    return absl::InvalidArgumentError("hardware: no core with an on-chip memory");
  m->hardware = *std::move(hw);
  return absl::OkStatus();
}

// `allocation` {layer: core} (version 2, optional).
void ReadLayerCores(Obj& top, Manifest* m) {
  if (!top.Has("allocation")) return;
  Obj a = top.Child("allocation");
  if (!a.ok()) return;
  m->layer_core.emplace();
  for (const auto& [layer, core] : a.json_ref().items())
    (*m->layer_core)[layer] = a.AsInt(&core, a.Path(layer.c_str()));
}

bool Bool(Obj& o, const char* key) {
  const json* v = o.Get(key);
  if (v == nullptr) return false;
  if (!v->is_boolean()) return o.Fail(o.Path(key), "must be true or false"), false;
  return v->get<bool>();
}

// One input of a layer: its row mapping ("all" or a window) and time rule.
MInput ReadInput(Obj o) {
  MInput in;
  if (const json* l = o.Get("layer"); l != nullptr && !l->is_null())
    in.layer = o.AsInt(l, o.Path("layer"));
  in.input_rows = o.Int("input_rows");
  in.input_timesteps = o.Int("input_timesteps");
  const std::string time = o.Str("time");
  if (time != "same" && time != "all" && time != "previous")
    o.Fail(o.Path("time"), "unknown value");
  in.all_time = time == "all";
  in.previous = time == "previous";
  const json* rows = o.Get("rows");
  if (rows == nullptr) return in;
  if (rows->is_string()) {
    if (rows->get<std::string>() != "all") o.Fail(o.Path("rows"), "unknown value");
    in.all_rows = true;
    return in;
  }
  Obj w(rows, o.Path("rows"), o.err());
  in.kernel = w.Int("kernel");
  in.stride = w.Int("stride");
  in.dilation = w.Int("dilation");
  const json* pad = w.Get("padding");
  if (pad != nullptr && (!pad->is_array() || pad->size() != 2))
    w.Fail(w.Path("padding"), "must be [top, bottom]");
  else if (pad != nullptr) {
    in.pad_top = w.AsInt(&(*pad)[0], w.Path("padding"));
    in.pad_bottom = w.AsInt(&(*pad)[1], w.Path("padding"));
  }
  return in;
}

MLayer ReadLayer(Obj o, bool v4) {
  MLayer l;
  if (v4) {
    Obj p = o.Child("precision");
    l.weight_bits = p.Int("weight_bits");
    l.input_bits = p.Int("input_bits");
    l.output_bits = p.Int("output_bits");
    l.state_bits = p.Int("state_bits");
    if (const json* init = o.Array("initial_state"))
      for (const json& v : *init) {
        if (!v.is_number()) return o.Fail(o.Path("initial_state"), "must hold numbers"), l;
        l.initial_state.push_back(v.get<double>());
      }
  }
  l.id = o.Int("id");
  l.name = o.Str("name");
  l.kind = o.Str("kind");
  l.block = o.Int("block");
  l.T = o.Int("T");
  l.time = static_cast<LayerTime>(
      EnumIndex(o, "time", std::array<const char*, 3>{"per_step", "mean", "once"}));
  Obj shape = o.Child("shape");
  l.K = shape.Int("K");
  l.OY = shape.Int("OY");
  l.OX = shape.Int("OX");
  l.weights = Bool(o, "weights");
  l.weights_in_crossbars = o.Has("crossbar_arrays") && o.Int("crossbar_arrays") > 0;
  l.stateful = Bool(o, "stateful");
  l.states = o.Int("states");
  l.network_output = Bool(o, "network_output");
  l.reads_network_input = Bool(o, "reads_network_input");
  l.producers = o.Ints("producers");
  if (const json* inputs = o.Array("inputs")) {
    size_t i = 0;
    for (const json& in : *inputs)
      l.inputs.push_back(ReadInput(Obj(&in, absl::StrCat(o.Path("inputs"), "[", i++, "]"), o.err())));
  }
  return l;
}

MSlice ReadSlice(Obj o) {
  MSlice s;
  s.piece = o.Int("piece");
  s.sample = o.Int("sample");
  s.t = o.Pair("t");
  s.rows = o.Pair("rows");
  s.dram_address = o.Int("dram_address");
  s.bytes = o.Int("bytes");
  if (o.Has("layer_id")) s.layer_id = o.Int("layer_id");
  return s;
}

MParams ReadParams(Obj o) {
  MParams p;
  p.layer_id = o.Int("layer_id");
  p.layer = o.Str("layer");
  p.core = o.Int("core");
  p.dram_address = o.Int("dram_address");
  p.bytes = o.Int("bytes");
  p.load_before_tile = o.Int("load_before_tile");
  p.fields = ReadArray<MParamField>(o, "fields", [](Obj f) {
    return MParamField{f.Str("name"), f.Str("layout"), f.Int("offset"), f.Int("count")};
  });
  return p;
}

MGraphOutput ReadGraphOutput(Obj o) {
  MGraphOutput g;
  g.name = o.Str("name");
  g.kind = o.Str("kind");
  g.layer = o.StrOrNull("layer");
  if (o.Has("steps")) g.steps = o.StrOrNull("steps");
  if (const json* l = o.Get("layer_id"); l != nullptr && !l->is_null())
    g.layer_id = o.Int("layer_id");
  const json* produced = o.Get("produced");
  if (produced != nullptr && !produced->is_boolean())
    o.Fail(o.Path("produced"), "must be true or false");
  g.produced = produced != nullptr && produced->is_boolean() && produced->get<bool>();
  return g;
}

MComplete ReadComplete(Obj& top) {
  MComplete c;
  c.parameters = ReadArray<MParams>(top, "parameters", ReadParams);
  Obj io = top.Child("network_io");
  Obj geometry = io.Child("input");
  c.in_channels = geometry.Int("channels");
  c.in_rows = geometry.Int("rows");
  c.in_cols = geometry.Int("cols");
  c.in_bits = geometry.Int("bits");
  c.in_timesteps = geometry.Int("timesteps");
  c.in_samples = geometry.Int("samples");
  // Required, checked for presence (their text is informative).
  top.Get("layouts");
  top.Get("provenance");
  c.inputs = ReadArray<MSlice>(io, "inputs", ReadSlice);
  c.outputs = ReadArray<MSlice>(io, "outputs", ReadSlice);
  Obj init = top.Child("initial_state");
  c.initial_mode = init.Str("mode");
  if (c.initial_mode != "on_chip" && c.initial_mode != "dram")
    init.Fail(init.Path("mode"), "unknown value");
  c.initial_slices = ReadArray<MSlice>(init, "slices", ReadSlice);
  c.graph_outputs = ReadArray<MGraphOutput>(top, "graph_outputs", ReadGraphOutput);
  if (const json* layers = top.Array("layers")) {
    size_t i = 0;
    for (const json& l : *layers) {
      Obj layer(&l, absl::StrCat(top.Path("layers"), "[", i++, "]"), top.err());
      const json* w = layer.Get("weights_piece");
      if (w == nullptr || w->is_null()) continue;
      Obj piece = layer.Child("weights_piece");
      c.weights_pieces[layer.Int("id")] = {piece.Int("piece"), piece.Int("dram_address"),
                                           piece.Int("bytes")};
    }
  }
  return c;
}

}  // namespace

absl::StatusOr<Manifest> ReadManifest(const json& doc) {
  absl::Status err;
  Obj top(&doc, "manifest", &err);
  if (!err.ok()) return err;
  if (!top.Has("tiles") && top.Has("summary"))
    return absl::InvalidArgumentError(
        "tiles: missing (a --summary-only manifest cannot be validated)");
  const int64_t version = top.Int("schema_version");
  if ((version < 1 || version > 4) && err.ok())
    return absl::InvalidArgumentError(
        "schema_version: unsupported (this validator reads 1, 2, 3 and 4)");
  Manifest m;
  m.schema_version = version;
  if (absl::Status s = ReadHardware(top, &m); !s.ok()) return s;
  const Version v{version >= 2, m.hardware.cores.front().id, version >= 4};
  if (v.v2) ReadLayerCores(top, &m);
  Obj model = top.Child("model");
  m.model_file = model.Str("file");
  m.model_sha256 = model.Str("sha256");
  m.timesteps = model.Int("timesteps");
  m.batch = model.Int("batch");
  if (model.Has("layers")) m.layers = model.Int("layers");
  if (model.Has("blocks")) m.blocks = model.Int("blocks");
  if (model.Has("networks")) {
    MNetworks n;
    n.networks = ReadArray<MNetwork>(model, "networks", [](Obj o) {
      return MNetwork{o.Str("name"), o.Pair("layers"), o.Pair("blocks")};
    });
    Obj summary = top.Child("summary");
    auto use = [&v](Obj o, std::string name) {
      MNetworkUse u{std::move(name), ReadEnergy(o.Child("energy_pj"), v).total,
                    o.Child("dram_bytes").Int("total"), o.Int("noc_bytes"), std::nullopt};
      if (o.Has("tiles")) u.tiles = o.Int("tiles");
      return u;
    };
    if (summary.Has("by_network"))
      n.by_network = ReadArray<MNetworkUse>(summary, "by_network",
                                            [&use](Obj o) { return use(o, o.Str("network")); });
    if (summary.Has("shared_input")) n.shared_input = use(summary.Child("shared_input"), "");
    m.networks = std::move(n);
  }
  m.summary = ReadSummary(top.Child("summary"), v);
  m.regions = ReadArray<MRegion>(top, "dram_layout", [&](Obj o) {
    MRegion r{o.Str("name"), o.Int("base"), o.Int("bytes"), std::nullopt};
    if (v.v4) r.initial_contents = o.Str("initial_contents");
    return r;
  });
  m.tiles = ReadArray<MTile>(top, "tiles", [&](Obj o) { return ReadTile(o, v); });
  m.allocs = ReadArray<MAlloc>(top, "allocations", [&](Obj o) { return ReadAlloc(o, v); });
  m.transfers = ReadArray<MTransfer>(top, "transfers", [&](Obj o) { return ReadTransfer(o, v); });
  if (version >= 3)
    m.layer_table =
        ReadArray<MLayer>(top, "layers", [&](Obj o) { return ReadLayer(std::move(o), v.v4); });
  if (version >= 4) m.complete = ReadComplete(top);
  if (top.Has("exit_points")) {
    Obj exits = top.Child("exit_points");
    m.exits = MExits{exits.Ints("reads_layers"), ReadArray<MExitPoint>(exits, "points", [](Obj o) {
                       MExitPoint p{o.Int("after_timesteps"), o.Int("check_after_tile"),
                                    o.Int("check_cycle"),     o.Int("skips_tiles"),
                                    o.Int("skips_transfers"), std::nullopt};
                       if (o.Has("probability")) p.probability = o.Num("probability");
                       return p;
                     })};
  }
  if (!err.ok()) return err;
  return m;
}

std::string Describe(const PieceRef& p) {
  return absl::StrCat("piece ", p.piece, " (", kKinds[static_cast<int>(p.kind)], " ",
                      p.layer ? *p.layer : std::string("<input>"), " s", p.sample, " t",
                      Str(p.t), " rows", Str(p.rows), ")");
}

}  // namespace snnplan::validate
