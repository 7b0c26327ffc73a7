// schema_version 4: the descriptive parts of a manifest tied to what runs
// (docs/manifest.md): every piece's bytes follow from the layouts formula and
// the layer table, pieces start on granularity boundaries, tiles compute all
// columns and channels, parameter blocks hold the fields their layer needs,
// the weights region is read-only, network_io and initial_state slices
// describe the pieces that use them and are complete, graph outputs and
// output flags agree with the layers, DRAM regions say what the host writes,
// the layer table's geometry is self-consistent, and exit probabilities,
// energies and tile ids are sane.
#include <algorithm>
#include <cmath>
#include <set>

#include "absl/strings/str_join.h"
#include "model.h"

namespace snnplan::validate {
namespace {

class LayoutCheck {
 public:
  LayoutCheck(const Manifest& m, Violations* out) : m_(m), c_(*m.complete), out_(out) {
    if (m.layer_table)
      for (const MLayer& l : *m.layer_table) by_name_.emplace(l.name, &l);
    const hw::MemoryLevel& gb = m.hardware.cores.front().global_buffer();
    granularity_ = gb.access_granularity_bits;
    for (const hw::Core& core : m.hardware.cores)
      if (!core.memories.empty())
        granularity_ = std::max(granularity_, core.global_buffer().access_granularity_bits);
    align_ = granularity_ % 8 == 0 && granularity_ > 0 ? granularity_ / 8 : 1;
  }

  void Run() {
    CollectPieces();
    CheckTable();
    CheckPieceSizes();
    CheckTiles();
    CheckParameters();
    CheckWeightsReadOnly();
    CheckInputSlices();
    CheckOutputSlices();
    CheckInitialSlices();
    CheckGraphOutputs();
    CheckRegions();
    CheckMisc();
  }

 private:
  const MLayer* Layer(const std::optional<std::string>& name) const {
    if (!name) return nullptr;
    auto it = by_name_.find(*name);
    return it == by_name_.end() ? nullptr : it->second;
  }
  const MLayer* LayerId(int64_t id) const {
    if (!m_.layer_table || id < 0 || id >= static_cast<int64_t>(m_.layer_table->size()))
      return nullptr;
    return &(*m_.layer_table)[id];
  }

  // bytes = ceil(elements * bits / granularity) * granularity / 8, or -1
  // when the piece's layer is unknown (reported elsewhere) or it is weights
  // (whose element count needs the model's C, FY, FX).
  int64_t ExpectedBytes(const PieceRef& p) const {
    __int128 elements = 0, bits = 0;
    const __int128 t = std::max<int64_t>(0, p.t.end - p.t.begin);
    const __int128 rows = std::max<int64_t>(0, p.rows.end - p.rows.begin);
    if (p.kind == Kind::kWeights) return -1;
    if (p.kind == Kind::kInput) {
      elements = t * rows * c_.in_cols * c_.in_channels;
      bits = c_.in_bits;
    } else {
      const MLayer* l = Layer(p.layer);
      if (l == nullptr) return -1;
      if (p.kind == Kind::kFeature) {
        elements = (l->time == LayerTime::kMean ? 1 : t) * rows * l->OX * l->K;
        bits = l->output_bits;
      } else {
        elements = rows * l->OX * l->K * l->states;
        bits = l->state_bits;
      }
    }
    if (granularity_ <= 0 || bits < 0 || elements < 0) return -1;
    const __int128 g = granularity_;
    const __int128 bytes = (elements * bits + g - 1) / g * g / 8;
    return bytes > (__int128{1} << 62) ? -1 : static_cast<int64_t>(bytes);
  }

  void Size(const PieceRef& p, int64_t bytes, const std::string& where) {
    const int64_t want = ExpectedBytes(p);
    if (want >= 0 && bytes != want)
      Add(out_, "piece.bytes",
          absl::StrCat(where, ": ", Describe(p), " is ", bytes, " bytes but its layout (",
                       kKindNames[static_cast<int>(p.kind)], ", docs/manifest.md \"layouts\") is ",
                       want, " bytes"));
  }
  void Aligned(int64_t address, const std::string& what) {
    if (address % align_ != 0)
      Add(out_, "piece.align",
          absl::StrCat(what, " at ", address, " is not on a ", align_,
                       "-byte granularity boundary"));
  }

  // Every piece any allocation or transfer names, by id.
  void CollectPieces() {
    for (const MAlloc& a : m_.allocs) pieces_.emplace(a.holds.piece, a.holds);
    for (const MTransfer& x : m_.transfers) {
      if (x.dir != Dir::kStream) pieces_.emplace(x.tensor.piece, x.tensor);
      for (const PieceRef& p : x.pieces) pieces_.emplace(p.piece, p);
      if (x.dir == Dir::kLoad || x.dir == Dir::kStore)
        address_.emplace(x.tensor.piece, x.dram_address);
      for (const PieceRef& p : x.pieces) address_.emplace(p.piece, p.dram_address);
    }
  }

  // The layer table's geometry: a window's output rows follow from its
  // input rows; the network input's geometry is what its readers say.
  void CheckTable() {
    if (!m_.layer_table) return;
    // The input holds the steps its readers run (1 when only layers that
    // run once read it: a static conv before a repetition over time).
    int64_t read_T = 0;
    for (const MLayer& l : *m_.layer_table)
      for (const MInput& in : l.inputs)
        if (!in.layer) read_T = std::max(read_T, l.T);
    const int64_t want_T = read_T > 0 ? read_T : m_.timesteps;
    if (c_.in_timesteps != want_T || c_.in_samples != m_.batch)
      Add(out_, "layers.geometry",
          absl::StrCat("network_io.input has ", c_.in_timesteps, " timesteps and ", c_.in_samples,
                       " samples but its readers run ", want_T, " and the model has ", m_.batch));
    int64_t max_T = 0;
    for (const MLayer& l : *m_.layer_table) {
      max_T = std::max(max_T, l.T);
      for (size_t k = 0; k < l.inputs.size(); ++k) {
        const MInput& in = l.inputs[k];
        const std::string who = absl::StrCat("layers[", l.id, "] '", l.name, "' input ", k);
        if (!in.layer && (in.input_rows != c_.in_rows || in.input_timesteps != c_.in_timesteps))
          Add(out_, "layers.geometry",
              absl::StrCat(who, " reads the network input as ", in.input_rows, " rows and ",
                           in.input_timesteps, " timesteps but network_io.input has ", c_.in_rows,
                           " and ", c_.in_timesteps));
        if (l.time == LayerTime::kMean && !in.all_time)
          Add(out_, "layers.geometry",
              who + " of a time_mean layer must read all timesteps ('all')");
        if (in.all_rows || in.stride < 1 || in.kernel < 1 || in.dilation < 1) continue;
        const __int128 span = __int128{in.input_rows} + in.pad_top + in.pad_bottom -
                              __int128{in.dilation} * (in.kernel - 1) - 1;
        const __int128 floor = span < 0 ? -1 : span / in.stride + 1;
        const __int128 ceil = span < 0 ? -1 : (span + in.stride - 1) / in.stride + 1;
        if (l.OY != floor && l.OY != ceil)
          Add(out_, "layers.geometry",
              absl::StrCat(who, ": ", in.input_rows, " input rows with kernel ", in.kernel,
                           " stride ", in.stride, " dilation ", in.dilation, " padding [",
                           in.pad_top, ",", in.pad_bottom, "] give ", static_cast<int64_t>(floor),
                           " output rows, but the layer has OY=", l.OY));
      }
    }
    if (!m_.layer_table->empty() && max_T != m_.timesteps)
      Add(out_, "layers.geometry",
          absl::StrCat("no layer runs model.timesteps=", m_.timesteps, " steps (the most is ",
                       max_T, ")"));
  }

  void CheckPieceSizes() {
    for (const MAlloc& a : m_.allocs) {
      // The init marker says what the layer's initial_state values are.
      if (const MLayer* l = Layer(a.holds.layer); l != nullptr && a.init) {
        bool nonzero = false;
        for (double v : l->initial_state) nonzero |= v != 0;
        if (*a.init != (nonzero ? "initial" : "zero"))
          Add(out_, "state.init",
              absl::StrCat("allocation ", a.id, " of ", Describe(a.holds), " is marked init '",
                           *a.init, "' but layer ", l->id, "'s initial_state is ",
                           nonzero ? "non-zero ('initial')" : "all zero ('zero')"));
      }
      Size(a.holds, a.bytes, absl::StrCat("allocation ", a.id));
      Aligned(a.offset, absl::StrCat("allocation ", a.id, " offset"));
    }
    for (const MTransfer& x : m_.transfers) {
      if (x.dir != Dir::kStream) Size(x.tensor, x.bytes, absl::StrCat("transfer ", x.id));
      if (x.dir == Dir::kLoad || x.dir == Dir::kStore)
        Aligned(x.dram_address, absl::StrCat("transfer ", x.id, " DRAM address"));
      for (const PieceRef& p : x.pieces) {
        Size(p, p.bytes, absl::StrCat("stream ", x.id));
        Aligned(p.dram_address, absl::StrCat("stream ", x.id, " piece ", p.piece, " DRAM address"));
      }
    }
    for (const auto& [layer, w] : c_.weights_pieces)
      Aligned(w[1], absl::StrCat("layers[", layer, "].weights_piece DRAM address"));
    for (const MParams& p : c_.parameters)
      Aligned(p.dram_address, absl::StrCat("parameters of layer ", p.layer_id, " DRAM address"));
    // Slices: the piece they describe, from their own fields.
    auto slice_piece = [&](const MSlice& s, Kind kind) {
      PieceRef p;
      p.kind = kind;
      p.piece = s.piece;
      p.sample = s.sample;
      p.t = s.t;
      p.rows = s.rows;
      if (kind != Kind::kInput) {
        const MLayer* l = s.layer_id ? LayerId(*s.layer_id) : nullptr;
        if (l == nullptr) return;  // io.output / state.slices
        p.layer = l->name;
      }
      Size(p, s.bytes, absl::StrCat("slice of piece ", s.piece));
      Aligned(s.dram_address, absl::StrCat("slice of piece ", s.piece, " DRAM address"));
    };
    for (const MSlice& s : c_.inputs) slice_piece(s, Kind::kInput);
    for (const MSlice& s : c_.outputs) slice_piece(s, Kind::kFeature);
    for (const MSlice& s : c_.initial_slices) slice_piece(s, Kind::kState);
  }

  // Tiles compute every column and channel of their layer (docs: a tile is
  // a (t, rows) band of all columns and channels).
  void CheckTiles() {
    for (const MTile& t : m_.tiles) {
      const MLayer* l = LayerId(t.layer_id);
      if (l == nullptr) continue;
      if (t.cols && !(t.cols->begin == 0 && t.cols->end == l->OX))
        Add(out_, "tile.cols",
            absl::StrCat("tile ", t.id, " computes columns ", Str(*t.cols), " but layer ", l->id,
                         " '", l->name, "' has ", l->OX, " (tiles cover all of them)"));
      if (t.channels && !(t.channels->begin == 0 && t.channels->end == l->K))
        Add(out_, "tile.channels",
            absl::StrCat("tile ", t.id, " computes channels ", Str(*t.channels), " but layer ",
                         l->id, " '", l->name, "' has ", l->K, " (tiles cover all of them)"));
      const std::string want = absl::StrCat("L", t.layer_id, ".s", t.sample, ".t", t.t.begin, "-",
                                            t.t.end, ".y", t.rows.begin, "-", t.rows.end);
      if (t.id != want)
        Add(out_, "tile.id", absl::StrCat("tile ", t.id, " has the fields of tile ", want));
    }
  }

  // Parameter blocks: one per stateful layer (its neuron parameters) and per
  // layer that has one at all; named and placed for their layer; each field's
  // count is what its layout says for the layer; bytes rounded to granularity.
  void CheckParameters() {
    if (!m_.layer_table) return;
    std::set<int64_t> have;
    for (const MParams& p : c_.parameters) {
      have.insert(p.layer_id);
      const MLayer* l = LayerId(p.layer_id);
      if (l == nullptr) continue;  // params.layer
      const std::string name = absl::StrCat("parameters of layer ", p.layer_id);
      if (p.layer != l->name)
        Add(out_, "params.layer",
            absl::StrCat(name, " name layer '", p.layer, "' but layer ", l->id, " is '", l->name,
                         "'"));
      int64_t core = -1;
      if (m_.layer_core && m_.layer_core->count(l->name)) core = m_.layer_core->at(l->name);
      for (const MTile& t : m_.tiles)
        if (core < 0 && t.layer_id == l->id) core = t.core;
      if (core >= 0 && p.core != core)
        Add(out_, "params.core",
            absl::StrCat(name, " go to core ", p.core, " but the layer's tiles run on core ",
                         core));
      int64_t end = 0;
      for (const MParamField& f : p.fields) {
        int64_t want = -1;
        if (f.layout == "scalar") want = 1;
        if (f.layout == "per_channel") want = l->K;
        if (f.layout == "per_neuron") want = l->K * l->OY * l->OX;
        if (f.layout == "per_state") want = l->states;
        if (f.name == "bias" && f.layout != "per_channel") want = -2;
        if (f.name == "dynamics.initial" && f.layout != "per_state") want = -2;
        if (want != f.count)
          Add(out_, "params.fields",
              absl::StrCat(name, ": field ", f.name, " (layout '", f.layout, "') has ", f.count,
                           " values but ",
                           want == -1   ? std::string("the layout is unknown")
                           : want == -2 ? std::string("this field's layout is another")
                                        : absl::StrCat("the layout needs ", want)));
        end = f.offset + f.count * 8;
      }
      const int64_t rounded = (end + align_ - 1) / align_ * align_;
      if (p.bytes != rounded)
        Add(out_, "params.fields",
            absl::StrCat(name, " hold ", p.bytes, " bytes but their fields take ", end,
                         " (rounded to granularity: ", rounded, ")"));
    }
    for (const MLayer& l : *m_.layer_table)
      if (l.stateful && !have.count(l.id))
        Add(out_, "params.missing",
            absl::StrCat("layer ", l.id, " '", l.name,
                         "' is stateful but has no parameter block (its neuron parameters)"));
  }

  // The weights region (weight pieces and parameter blocks) is written by
  // the host once and read-only during an inference: no store or stream
  // write puts bytes there (a later inference would run on them).
  void CheckWeightsReadOnly() {
    const MRegion* w = nullptr;
    for (const MRegion& r : m_.regions)
      if (r.name == "weights") w = &r;
    if (w == nullptr) return;
    auto hits = [&](int64_t address, int64_t bytes) {
      return address < w->base + w->bytes && w->base < address + bytes;
    };
    for (const MTransfer& x : m_.transfers) {
      if (x.dir == Dir::kStore && hits(x.dram_address, x.bytes))
        Add(out_, "dram.weights_written",
            absl::StrCat("transfer ", x.id, " stores ", Describe(x.tensor), " at DRAM ",
                         x.dram_address,
                         " inside the weights region (read-only during an "
                         "inference)"));
      if (x.dir == Dir::kStream)
        for (const MDescriptor& d : x.descriptors)
          if (d.write && hits(d.dram_address, d.bytes)) {
            Add(out_, "dram.weights_written",
                absl::StrCat("stream ", x.id, " (tile ", x.tile, ") writes piece ", d.piece,
                             " at DRAM ", d.dram_address,
                             " inside the weights region (read-only during an inference)"));
            break;
          }
    }
  }

  // Network-input slices describe input pieces: in range, tiling the
  // input, and every input piece read has its slice.
  void CheckInputSlices() {
    std::map<int64_t, const MSlice*> by_piece;
    std::map<int64_t, std::vector<Rect>> rects;  // sample -> (t, rows)
    for (size_t i = 0; i < c_.inputs.size(); ++i) {
      const MSlice& s = c_.inputs[i];
      const std::string who = absl::StrCat("network_io.inputs[", i, "] (piece ", s.piece, ")");
      if (!by_piece.emplace(s.piece, &s).second)
        Add(out_, "io.input", who + ": a second slice of the piece");
      if (s.layer_id) Add(out_, "io.input", absl::StrCat(who, " names layer ", *s.layer_id));
      if (s.sample < 0 || s.sample >= m_.batch || s.t.begin < 0 || s.t.end > c_.in_timesteps ||
          s.t.begin >= s.t.end || s.rows.begin < 0 || s.rows.end > c_.in_rows ||
          s.rows.begin >= s.rows.end) {
        Add(out_, "io.input",
            absl::StrCat(who, " covers sample ", s.sample, " t ", Str(s.t), " rows ", Str(s.rows),
                         " outside the input (", m_.batch, " samples, ", c_.in_timesteps,
                         " timesteps, ", c_.in_rows, " rows)"));
        continue;
      }
      rects[s.sample].push_back({s.t.begin, s.t.end, s.rows.begin, s.rows.end, i});
      auto it = pieces_.find(s.piece);
      if (it == pieces_.end()) continue;  // a slice nothing reads: harmless
      const PieceRef& p = it->second;
      if (p.kind != Kind::kInput || p.sample != s.sample || p.t != s.t || p.rows != s.rows)
        Add(out_, "io.input",
            absl::StrCat(who, " says sample ", s.sample, " t ", Str(s.t), " rows ", Str(s.rows),
                         " but the transfers name ", Describe(p)));
      auto at = address_.find(s.piece);
      if (at != address_.end() && at->second != s.dram_address)
        Add(out_, "io.input",
            absl::StrCat(who, " is at DRAM ", s.dram_address, " but the transfers read it at ",
                         at->second));
    }
    for (auto& [sample, r] : rects) {
      bool overlap = false;
      const int64_t sample_id = sample;
      ForEachRectOverlap(r, [&](const Rect& a, const Rect& b) {
        overlap = true;
        Add(out_, "io.input",
            absl::StrCat("network input slices of pieces ", c_.inputs[a.who].piece, " and ",
                         c_.inputs[b.who].piece, " both hold sample ", sample_id, " t ",
                         Str({std::max(a.t0, b.t0), std::min(a.t1, b.t1)}), " rows ",
                         Str({std::max(a.y0, b.y0), std::min(a.y1, b.y1)})));
      });
      __int128 area = 0;
      for (const Rect& x : r) area += __int128{x.t1 - x.t0} * (x.y1 - x.y0);
      if (!overlap && area != __int128{c_.in_timesteps} * c_.in_rows)
        Add(out_, "io.input",
            absl::StrCat("network input slices of sample ", sample, " cover ",
                         static_cast<int64_t>(area), " of its ",
                         static_cast<int64_t>(__int128{c_.in_timesteps} * c_.in_rows),
                         " (timestep, row) cells"));
    }
    for (int64_t s = 0; s < m_.batch && s < 1024; ++s)
      if (!rects.count(s))
        Add(out_, "io.input", absl::StrCat("no network input slice holds sample ", s));
    for (const auto& [piece, p] : pieces_)
      if (p.kind == Kind::kInput && !by_piece.count(piece))
        Add(out_, "io.input",
            absl::StrCat(Describe(p), " is read but network_io.inputs has no slice of it"));
  }

  // Output slices: of network-output layers, each the piece a tile of the
  // layer produces; every such piece has one.
  void CheckOutputSlices() {
    if (!m_.layer_table) return;
    std::map<int64_t, const MSlice*> by_piece;
    for (size_t i = 0; i < c_.outputs.size(); ++i) {
      const MSlice& s = c_.outputs[i];
      const std::string who = absl::StrCat("network_io.outputs[", i, "] (piece ", s.piece, ")");
      by_piece.emplace(s.piece, &s);
      const MLayer* l = s.layer_id ? LayerId(*s.layer_id) : nullptr;
      if (l == nullptr || !l->network_output) {
        Add(out_, "io.output",
            absl::StrCat(who, " names layer ",
                         s.layer_id ? absl::StrCat(*s.layer_id) : std::string("null"),
                         ", not a network-output layer"));
        continue;
      }
      auto it = pieces_.find(s.piece);
      if (it == pieces_.end() || it->second.kind != Kind::kFeature || it->second.layer != l->name ||
          it->second.sample != s.sample || it->second.t != s.t || it->second.rows != s.rows)
        Add(out_, "io.output",
            absl::StrCat(who, " says layer ", l->id, " sample ", s.sample, " t ", Str(s.t),
                         " rows ", Str(s.rows), " but ",
                         it == pieces_.end()
                             ? std::string("no transfer or allocation names it")
                             : absl::StrCat("the plan names ", Describe(it->second))));
      auto at = address_.find(s.piece);
      if (at != address_.end() && at->second != s.dram_address)
        Add(out_, "io.output",
            absl::StrCat(who, " is at DRAM ", s.dram_address, " but the transfers put it at ",
                         at->second));
    }
    for (const auto& [piece, p] : pieces_) {
      const MLayer* l = Layer(p.layer);
      if (p.kind == Kind::kFeature && l != nullptr && l->network_output && !by_piece.count(piece))
        Add(out_, "io.output",
            absl::StrCat(Describe(p), " of network-output layer ", l->id,
                         " has no network_io.outputs slice"));
    }
  }

  // Under state_io dram: one slice per state piece, describing it, at the
  // address its transfers use, disjoint, in the state_spill region.
  void CheckInitialSlices() {
    const bool dram = c_.initial_mode == "dram";
    if (!dram) {
      if (!c_.initial_slices.empty())
        Add(out_, "state.slices", "initial_state lists slices but its mode is on_chip");
      return;
    }
    std::map<int64_t, const MSlice*> by_piece;
    std::map<int64_t, const MSlice*> by_address;
    for (size_t i = 0; i < c_.initial_slices.size(); ++i) {
      const MSlice& s = c_.initial_slices[i];
      const std::string who = absl::StrCat("initial_state.slices[", i, "] (piece ", s.piece, ")");
      if (!by_piece.emplace(s.piece, &s).second)
        Add(out_, "state.slices", who + ": a second slice of the piece");
      by_address.emplace(s.dram_address, &s);
      auto it = pieces_.find(s.piece);
      const MLayer* l = s.layer_id ? LayerId(*s.layer_id) : nullptr;
      if (it == pieces_.end() || it->second.kind != Kind::kState || l == nullptr ||
          it->second.layer != l->name || it->second.sample != s.sample || it->second.t != s.t ||
          it->second.rows != s.rows)
        Add(out_, "state.slices",
            absl::StrCat(
                who, " says layer ", s.layer_id ? absl::StrCat(*s.layer_id) : std::string("null"),
                " sample ", s.sample, " t ", Str(s.t), " rows ", Str(s.rows), " but ",
                it == pieces_.end() ? std::string("no state piece has that id")
                                    : absl::StrCat("the plan names ", Describe(it->second))));
      auto at = address_.find(s.piece);
      if (at != address_.end() && at->second != s.dram_address)
        Add(out_, "state.slices",
            absl::StrCat(who, " is at DRAM ", s.dram_address, " but the transfers use ",
                         at->second));
    }
    int64_t end = -1, last = -1;
    for (const auto& [address, s] : by_address) {
      if (address < end)
        Add(out_, "state.slices",
            absl::StrCat("initial_state slices of pieces ", last, " and ", s->piece,
                         " share DRAM bytes at ", address));
      end = std::max(end, address + s->bytes);
      last = s->piece;
    }
    for (const auto& [piece, p] : pieces_)
      if (p.kind == Kind::kState && !by_piece.count(piece))
        Add(out_, "state.slices",
            absl::StrCat(Describe(p),
                         " has no initial_state slice (state_io dram: the host "
                         "writes every state's initial value)"));
  }

  void CheckGraphOutputs() {
    if (!m_.layer_table) return;
    std::set<int64_t> named, with_slices;
    for (const MSlice& s : c_.outputs)
      if (s.layer_id) with_slices.insert(*s.layer_id);
    for (const MGraphOutput& g : c_.graph_outputs) {
      if (!g.layer_id) continue;
      const MLayer* l = LayerId(*g.layer_id);
      if (l == nullptr || (g.layer && *g.layer != l->name)) {
        Add(out_, "graph_output",
            absl::StrCat("graph output ", g.name, " names layer ", *g.layer_id, " '",
                         g.layer.value_or(""), "'",
                         l == nullptr ? std::string(", which does not exist")
                                      : absl::StrCat(" but layer ", l->id, " is '", l->name, "'")));
        continue;
      }
      if (g.kind != "state") named.insert(l->id);
      // A state's last value is produced exactly under state_io dram.
      const bool last_state = g.kind == "state" && g.steps && *g.steps == "one";
      if (last_state && g.produced != (c_.initial_mode == "dram"))
        Add(out_, "graph_output",
            absl::StrCat("graph output ", g.name, " (the last state of layer ", l->id, ") is ",
                         g.produced ? "" : "not ", "listed as produced but state_io is ",
                         c_.initial_mode == "dram" ? "dram" : "zero"));
      if (g.produced && g.kind == "layer_output" && !with_slices.count(l->id))
        Add(out_, "graph_output",
            absl::StrCat("graph output ", g.name, " is listed as produced but layer ", l->id,
                         " has no network_io.outputs slice"));
      if (!g.produced && g.kind == "layer_output" && l->network_output && with_slices.count(l->id))
        Add(out_, "graph_output",
            absl::StrCat("graph output ", g.name, " of network-output layer ", l->id,
                         " is stored (network_io.outputs) but listed as not produced"));
    }
    for (const MLayer& l : *m_.layer_table) {
      // (A workload built without its source graph's outputs lists none.)
      if (l.network_output && !named.count(l.id) && !c_.graph_outputs.empty())
        Add(out_, "graph_output",
            absl::StrCat("layer ", l.id, " '", l.name,
                         "' is a network output but no graph_outputs entry (other than a state) "
                         "names it"));
      if (!l.network_output && with_slices.count(l.id))
        Add(out_, "graph_output",
            absl::StrCat("layer ", l.id, " '", l.name,
                         "' has network_io.outputs slices but is not a network output"));
    }
  }

  // dram_layout: the five documented regions in order, each saying what the
  // host writes before the inference.
  void CheckRegions() {
    static const std::array<const char*, 5> kNames = {"weights", "input", "output", "state_spill",
                                                      "feature_spill"};
    const bool dram = c_.initial_mode == "dram";
    std::vector<std::string> names;
    for (const MRegion& r : m_.regions) names.push_back(r.name);
    if (names != std::vector<std::string>(kNames.begin(), kNames.end()))
      Add(out_, "dram.regions",
          absl::StrCat("dram_layout regions are [", absl::StrJoin(names, ","),
                       "], not weights, input, output, state_spill, feature_spill"));
    for (const MRegion& r : m_.regions) {
      std::string want = "nothing";
      if (r.name == "weights") want = "weights_and_parameters";
      if (r.name == "input") want = "network_input";
      if (r.name == "state_spill" && dram) want = "initial_state";
      if (r.initial_contents && *r.initial_contents != want)
        Add(out_, "dram.regions",
            absl::StrCat("dram_layout region ", r.name, " has initial_contents '",
                         *r.initial_contents, "' but should have '", want, "'"));
    }
  }

  void CheckMisc() {
    // Energies are never negative.
    auto negative = [](const Energy& e) {
      return e.total < 0 || e.compute < 0 || e.local < 0 || e.sram < 0 || e.dram < 0 || e.noc < 0;
    };
    for (const MTile& t : m_.tiles)
      if (negative(t.energy))
        Add(out_, "tile.energy", absl::StrCat("tile ", t.id, " has a negative energy"));
    for (const MTransfer& x : m_.transfers)
      if (negative(x.energy))
        Add(out_, "noc.energy", absl::StrCat("transfer ", x.id, " has a negative energy"));
    if (negative(m_.summary.energy))
      Add(out_, "summary.energy", "the summary has a negative energy");
    // state_final: a store of a state's last value, under state_io dram,
    // after the last tile writing it.
    std::map<std::string, int64_t> last_end;  // layer/sample/rows -> end of the tile with t.end = T
    for (const MTransfer& x : m_.transfers) {
      if (x.cause != "state_final") continue;
      if (c_.initial_mode != "dram" || x.dir != Dir::kStore || x.tensor.kind != Kind::kState) {
        Add(out_, "state.final",
            absl::StrCat("transfer ", x.id, " is a state_final of ", Describe(x.tensor),
                         " but only a store of a state under state_io dram is"));
        continue;
      }
      for (const MTile& t : m_.tiles)
        if (t.layer == x.tensor.layer && t.sample == x.tensor.sample &&
            t.rows.Overlaps(x.tensor.rows) && t.end > x.start) {
          Add(out_, "state.final",
              absl::StrCat("state_final transfer ", x.id, " of ", Describe(x.tensor), " starts at ",
                           x.start, " before tile ", t.id, " (which updates the state) ends at ",
                           t.end));
          break;
        }
    }
    // Exit probabilities.
    if (m_.exits) {
      double sum = 0;
      for (const MExitPoint& p : m_.exits->points) {
        if (!p.probability) continue;
        sum += *p.probability;
        if (*p.probability < 0 || *p.probability > 1)
          Add(out_, "exit.probability",
              absl::StrCat("exit point after ", p.after_timesteps, " steps has probability ",
                           *p.probability));
      }
      if (sum > 1 + 1e-9)
        Add(out_, "exit.probability", absl::StrCat("exit probabilities add up to ", sum, " > 1"));
      std::set<int64_t> steps;
      for (const MExitPoint& p : m_.exits->points) steps.insert(p.after_timesteps);
      for (int64_t t = 1; t < m_.timesteps && t < 1 << 20; ++t)
        if (!steps.count(t)) {
          Add(out_, "exit.step", absl::StrCat("no exit point after step ", t));
          break;
        }
    }
  }

  static constexpr std::array<const char*, 4> kKindNames = {"weights", "state", "feature", "input"};
  const Manifest& m_;
  const MComplete& c_;
  Violations* out_;
  std::map<std::string, const MLayer*> by_name_;
  std::map<int64_t, PieceRef> pieces_;  // every piece named, by id
  std::map<int64_t, int64_t> address_;  // piece -> a DRAM address a transfer uses
  int64_t granularity_ = 8, align_ = 1;
};

}  // namespace

void CheckLayout(const Manifest& m, Violations* out) {
  if (!m.complete) return;
  LayoutCheck(m, out).Run();
}

}  // namespace snnplan::validate
