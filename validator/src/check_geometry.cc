// The layer geometry of schema_version 3 (`layers`, docs/manifest.md) and
// what it proves from the manifest alone: the table is consistent with
// itself and the tiles, every layer's output is computed by exactly one
// tile per (sample, timestep, row), and every tile reads its whole
// receptive field (rows with halo, the right timesteps, every input of a
// join) from pieces of the right producer, its own weights and its previous
// state, and writes its own output and state.
#include <algorithm>
#include <set>

#include "absl/strings/str_join.h"
#include "model.h"

namespace snnplan::validate {
namespace {

// ---------------------------------------------------------------- the table

class TableCheck {
 public:
  TableCheck(const Manifest& m, Violations* out) : m_(m), L_(*m.layer_table), out_(out) {}

  // Returns false when the table is unusable for the per-tile checks.
  bool Run() {
    const size_t before = out_->size();
    const int64_t n = static_cast<int64_t>(L_.size());
    if (m_.layers && *m_.layers != n)
      Bad(absl::StrCat("model.layers is ", *m_.layers, " but `layers` lists ", n));
    std::set<std::string> names;
    for (int64_t i = 0; i < n; ++i) {
      const MLayer& l = L_[i];
      const std::string who = absl::StrCat("layers[", i, "] '", l.name, "'");
      if (l.id != i) Bad(absl::StrCat(who, " has id ", l.id));
      if (!names.insert(l.name).second) Bad(who + ": the name appears twice");
      if (l.block < 0 || l.block >= n) Bad(absl::StrCat(who, " is in block ", l.block));
      if (l.T < 1 || (m_.timesteps >= 1 && l.T > m_.timesteps))
        Bad(absl::StrCat(who, " runs T=", l.T, " outside 1..", m_.timesteps));
      if (l.K < 1 || l.OY < 1 || l.OX < 1)
        Bad(absl::StrCat(who, " has shape K=", l.K, " OY=", l.OY, " OX=", l.OX));
      if ((l.time == LayerTime::kMean) != (l.kind == "time_mean"))
        Bad(who + ": only a time_mean layer has time 'mean'");
      if ((l.time == LayerTime::kOnce) != (l.T == 1 && l.time != LayerTime::kMean))
        Bad(absl::StrCat(who, ": time 'once' is for layers with T=1 (T=", l.T, ")"));
      if (l.states < 0 || l.stateful != (l.states > 0))
        Bad(absl::StrCat(who, ": stateful ", l.stateful, " with ", l.states, " states"));
      CheckInputs(i, who);
    }
    return out_->size() == before;
  }

 private:
  void Bad(std::string message) { Add(out_, "layers.table", std::move(message)); }

  void CheckInputs(int64_t i, const std::string& who) {
    const MLayer& l = L_[i];
    if (l.inputs.empty()) Bad(who + " has no inputs");
    std::vector<int64_t> producers;
    bool network = false;
    for (size_t k = 0; k < l.inputs.size(); ++k) {
      const MInput& in = l.inputs[k];
      const std::string what = absl::StrCat(who, " input ", k);
      if (!in.layer) {
        network = true;
      } else if (*in.layer < 0 || *in.layer >= static_cast<int64_t>(L_.size()) ||
                 (*in.layer >= i && !in.previous)) {
        // Only a recurrent input (previous step) may read a later layer or itself.
        Bad(absl::StrCat(what, " reads layer ", *in.layer, ", not an earlier layer"));
        continue;
      } else {
        if (std::find(producers.begin(), producers.end(), *in.layer) == producers.end())
          producers.push_back(*in.layer);
        const MLayer& p = L_[*in.layer];
        if (in.input_rows != p.OY || in.input_timesteps != p.OutTimesteps())
          Bad(absl::StrCat(what, " says layer ", p.id, " has ", in.input_rows, " rows and ",
                           in.input_timesteps, " timesteps; it has ", p.OY, " and ",
                           p.OutTimesteps()));
      }
      if (in.input_rows < 1 || in.input_timesteps < 1 ||
          (m_.timesteps >= 1 && in.input_timesteps > m_.timesteps))
        Bad(absl::StrCat(what, " has ", in.input_rows, " rows and ", in.input_timesteps,
                         " timesteps"));
      if (!in.all_time && in.input_timesteps != l.T)
        Bad(absl::StrCat(what, " reads the tile's own timesteps ('same') of an input with ",
                         in.input_timesteps, " timesteps, but the layer runs T=", l.T));
      if (!in.all_rows && (in.kernel < 1 || in.stride < 1 || in.dilation < 1 ||
                           in.pad_top < 0 || in.pad_bottom < 0))
        Bad(absl::StrCat(what, " has kernel ", in.kernel, " stride ", in.stride, " dilation ",
                         in.dilation, " padding [", in.pad_top, ",", in.pad_bottom, "]"));
    }
    if (producers != l.producers)
      Bad(absl::StrCat(who, ": producers [", absl::StrJoin(l.producers, ","),
                       "] are not the layers its inputs read [", absl::StrJoin(producers, ","),
                       "]"));
    if (network != l.reads_network_input)
      Bad(absl::StrCat(who, ": reads_network_input is ", l.reads_network_input,
                       " but its inputs say ", network));
  }

  const Manifest& m_;
  const std::vector<MLayer>& L_;
  Violations* out_;
};

// ------------------------------------------------- tiles and pieces vs table

class TileCheck {
 public:
  TileCheck(const Manifest& m, const Index& index, Violations* out)
      : m_(m), index_(index), L_(*m.layer_table), out_(out) {
    for (const MLayer& l : L_) by_name_.emplace(l.name, l.id);
    // schema_version 4: a stream piece counts as read (written) only when
    // a read (write) descriptor moves it; listing it in `pieces` is not
    // enough. Earlier versions have no descriptors: every listed piece counts.
    for (const MTransfer& x : m.transfers) {
      if (x.dir != Dir::kStream) continue;
      stream_transfers_[x.tile].push_back(&x);
      std::set<int64_t> read, written;
      for (const MDescriptor& d : x.descriptors)
        if (d.bytes > 0 && d.repeat > 0) (d.write ? written : read).insert(d.piece);
      for (const PieceRef& p : x.pieces) {
        const bool all = !m.complete;
        streams_[x.tile].push_back(
            {&p, x.id, all || read.count(p.piece) > 0, all || written.count(p.piece) > 0});
      }
    }
  }

  void Run() {
    CheckTileLayers();
    CheckPieces();
    CheckCoverage();
    for (size_t i = 0; i < m_.tiles.size(); ++i)
      if (valid_[i]) CheckTile(m_.tiles[i]);
  }

 private:
  // A piece a tile touches and where it names it.
  struct Touch {
    const PieceRef* p;
    std::string via;  // "allocation 7" or "stream transfer 9"
  };

  // Every tile names a layer of the table by id and name, in its block,
  // inside its T and OY.
  void CheckTileLayers() {
    valid_.assign(m_.tiles.size(), false);
    for (size_t i = 0; i < m_.tiles.size(); ++i) {
      const MTile& t = m_.tiles[i];
      if (t.layer_id < 0 || t.layer_id >= static_cast<int64_t>(L_.size()) ||
          L_[t.layer_id].name != t.layer) {
        auto it = by_name_.find(t.layer);
        Add(out_, "tile.layer",
            absl::StrCat("tile ", t.id, " names layer '", t.layer, "' with layer_id ", t.layer_id,
                         " but `layers` has '", t.layer, "' ",
                         it == by_name_.end() ? "nowhere" : absl::StrCat("at id ", it->second)));
        continue;
      }
      const MLayer& l = L_[t.layer_id];
      if (t.block != l.block)
        Add(out_, "tile.block",
            absl::StrCat("tile ", t.id, " is in block ", t.block, " but layer ", l.id, " '",
                         l.name, "' is in block ", l.block));
      if (t.rows.end > l.OY || t.t.end > l.T) {
        Add(out_, "tile.range",
            absl::StrCat("tile ", t.id, " computes t ", Str(t.t), " rows ", Str(t.rows),
                         " outside layer ", l.id, " '", l.name, "' (T=", l.T, ", OY=", l.OY,
                         ")"));
        continue;
      }
      valid_[i] = t.t.begin >= 0 && t.rows.begin >= 0 && t.t.begin < t.t.end &&
                  t.rows.begin < t.rows.end && t.sample >= 0 && t.sample < m_.batch;
    }
  }

  // Every piece names a layer of the table (the network input none) and
  // lies inside its layer's rows and timesteps.
  void CheckPiece(const PieceRef& p, const std::string& where) {
    if (!p.layer) {
      if (p.kind != Kind::kInput)
        Add(out_, "piece.layer", absl::StrCat(where, ": ", Describe(p), " names no layer"));
      return;
    }
    auto it = by_name_.find(*p.layer);
    if (it == by_name_.end() || p.kind == Kind::kInput) {
      Add(out_, "piece.layer",
          absl::StrCat(where, ": ", Describe(p),
                       p.kind == Kind::kInput ? " is network input but names a layer"
                                              : " names a layer that is not in `layers`"));
      return;
    }
    const MLayer& l = L_[it->second];
    if (p.rows.end > l.OY || p.t.end > l.T)
      Add(out_, "piece.range",
          absl::StrCat(where, ": ", Describe(p), " lies outside layer ", l.id, " (T=", l.T,
                       ", OY=", l.OY, ")"));
  }
  void CheckPieces() {
    for (const MAlloc& a : m_.allocs) CheckPiece(a.holds, absl::StrCat("allocation ", a.id));
    for (const MTransfer& x : m_.transfers) {
      if (x.dir != Dir::kStream) CheckPiece(x.tensor, absl::StrCat("transfer ", x.id));
      for (const PieceRef& p : x.pieces) CheckPiece(p, absl::StrCat("transfer ", x.id));
    }
  }

  // Each (layer, sample): the tiles partition [0, T) x [0, OY).
  void CheckCoverage() {
    std::map<std::pair<int64_t, int64_t>, std::vector<Rect>> by;  // (layer, sample)
    for (size_t i = 0; i < m_.tiles.size(); ++i) {
      if (!valid_[i]) continue;
      const MTile& t = m_.tiles[i];
      by[{t.layer_id, t.sample}].push_back({t.t.begin, t.t.end, t.rows.begin, t.rows.end, i});
    }
    std::vector<int64_t> samples(L_.size(), 0);
    for (const auto& [key, rects] : by) {
      const MLayer& l = L_[key.first];
      const int64_t sample = key.second;  // (clang-14: no lambda capture of a binding)
      ++samples[key.first];
      bool overlap = false;
      ForEachRectOverlap(rects, [&](const Rect& a, const Rect& b) {
        overlap = true;
        const MTile &x = m_.tiles[a.who], &y = m_.tiles[b.who];
        Add(out_, "tile.coverage",
            absl::StrCat("tiles ", x.id, " and ", y.id, " both compute layer ", l.id, " '", l.name,
                         "' sample ", sample, " at t ",
                         Str({std::max(a.t0, b.t0), std::min(a.t1, b.t1)}), " rows ",
                         Str({std::max(a.y0, b.y0), std::min(a.y1, b.y1)})));
      });
      __int128 area = 0;
      for (const Rect& r : rects) area += __int128{r.t1 - r.t0} * (r.y1 - r.y0);
      const __int128 want = __int128{l.T} * l.OY;
      if (!overlap && area < want)
        Add(out_, "tile.coverage",
            absl::StrCat("layer ", l.id, " '", l.name, "' sample ", key.second, ": ",
                         static_cast<int64_t>(want - area), " of its ",
                         static_cast<int64_t>(want),
                         " (timestep, row) outputs are computed by no tile"));
    }
    for (const MLayer& l : L_)
      if (m_.batch >= 1 && samples[l.id] < m_.batch)
        Add(out_, "tile.coverage",
            absl::StrCat("layer ", l.id, " '", l.name, "' has tiles for ", samples[l.id], " of ",
                         m_.batch, " samples"));
  }

  const PieceRef* Held(int64_t alloc) const {
    auto it = index_.alloc.find(alloc);
    return it == index_.alloc.end() ? nullptr : &m_.allocs[it->second].holds;
  }

  void CheckTile(const MTile& t) {
    const MLayer& l = L_[t.layer_id];
    std::vector<Touch> reads, writes;
    for (int64_t a : t.reads)
      if (const PieceRef* p = Held(a)) reads.push_back({p, absl::StrCat("allocation ", a)});
    for (int64_t a : t.writes)
      if (const PieceRef* p = Held(a)) writes.push_back({p, absl::StrCat("allocation ", a)});
    if (auto it = streams_.find(t.id); it != streams_.end())
      for (const Streamed& s : it->second) {
        const PieceRef* p = s.p;
        const std::string via = absl::StrCat("stream transfer ", s.transfer);
        const bool own = p->layer == t.layer && p->sample == t.sample;
        if (own && p->kind == Kind::kFeature && p->t == t.t && p->rows == t.rows) {
          if (s.written) writes.push_back({p, via});
        } else if (own && p->kind == Kind::kState) {  // streamed in and out
          if (s.read) reads.push_back({p, via});
          // A state kept inside a tile that ends at the last timestep under
          // state_io zero is read by nobody afterwards: it needs no write.
          const bool last = t.t.end >= l.T && m_.summary.state_io != "dram";
          if (s.written || last) writes.push_back({p, via});
        } else if (s.read || p->kind == Kind::kFeature || p->kind == Kind::kInput) {
          // Input pieces (I) count when listed: the canonical sequence
          // states how many bytes cross the link, not which rows, so a
          // halo piece may get no descriptor of its own; the stream's I
          // total must then cover the receptive field (CheckStreamInput).
          reads.push_back({p, via});
        }
      }
    if (m_.complete)
      for (const MTransfer* x : stream_transfers_[t.id]) CheckStreamInput(t, l, *x);
    const std::string who = absl::StrCat("tile ", t.id, " (layer ", l.id, " '", l.name, "')");
    CheckWrites(t, l, who, writes);
    CheckWeightsAndState(t, l, who, reads, writes);
    CheckReceptiveField(t, l, who, reads);
  }

  // schema_version 4: a stream's I bytes cover the part of every listed
  // input piece that lies in the tile's receptive field (a dropped input
  // descriptor with lowered totals leaves them short).
  void CheckStreamInput(const MTile& t, const MLayer& l, const MTransfer& x) {
    __int128 needed = 0;
    int64_t count = 0;
    for (const PieceRef& p : x.pieces) {
      if (p.kind != Kind::kFeature && p.kind != Kind::kInput) continue;
      if (p.kind == Kind::kFeature && p.layer == t.layer && p.sample == t.sample && p.t == t.t &&
          p.rows == t.rows)
        continue;  // its output
      if (p.sample != t.sample || p.bytes <= 0) continue;
      const __int128 prows = p.rows.end - p.rows.begin, pt = p.t.end - p.t.begin;
      if (prows <= 0 || pt <= 0) continue;
      __int128 best = 0;
      for (const MInput& in : l.inputs) {
        const bool mine = in.layer ? p.kind == Kind::kFeature && p.layer == L_[*in.layer].name
                                   : p.kind == Kind::kInput;
        if (!mine) continue;
        const Span rows = in.Rows(t.rows), time = in.Time(t.t);
        const __int128 r = std::max<int64_t>(
            0, std::min(rows.end, p.rows.end) - std::max(rows.begin, p.rows.begin));
        const __int128 s =
            std::max<int64_t>(0, std::min(time.end, p.t.end) - std::max(time.begin, p.t.begin));
        best = std::max(best, __int128{p.bytes} * r * s / (prows * pt));
      }
      needed += best;
      ++count;
    }
    // Pieces are padded to the granularity: allow that much per piece.
    const int64_t slack = 8 * count;
    if (__int128{x.read[1]} + slack < needed)
      Add(out_, "tile.receptive_field",
          absl::StrCat("stream ", x.id, " of tile ", t.id, " reads ", x.read[1],
                       " bytes of input (operand I) but the receptive field in the pieces it "
                       "lists takes ",
                       static_cast<int64_t>(needed), " bytes"));
  }

  bool OwnState(const MTile& t, const PieceRef& p) const {
    return p.kind == Kind::kState && p.layer == t.layer && p.sample == t.sample &&
           p.rows == t.rows;
  }

  // A tile writes its own output piece, its own state when stateful, and
  // nothing else.
  void CheckWrites(const MTile& t, const MLayer& l, const std::string& who,
                   const std::vector<Touch>& writes) {
    int outputs = 0;
    for (const Touch& w : writes) {
      const PieceRef& p = *w.p;
      if (p.kind == Kind::kFeature && p.layer == t.layer && p.sample == t.sample && p.t == t.t &&
          p.rows == t.rows) {
        ++outputs;
      } else if (p.kind != Kind::kState) {
        Add(out_, "tile.output",
            absl::StrCat(who, " writes ", Describe(p), " (", w.via,
                         "), which is not its output (t ", Str(t.t), " rows ", Str(t.rows), ")"));
      } else if (!l.stateful || !OwnState(t, p)) {
        Add(out_, "tile.state",
            absl::StrCat(who, " writes ", Describe(p), " (", w.via, "), which is not ",
                         l.stateful ? absl::StrCat("its state (rows ", Str(t.rows), ")")
                                    : std::string("a state of it: the layer is stateless")));
      }
    }
    if (outputs == 0)
      Add(out_, "tile.output",
          absl::StrCat(who, " writes no output piece (feature of its layer, sample ", t.sample,
                       ", t ", Str(t.t), ", rows ", Str(t.rows), ")"));
  }

  void CheckWeightsAndState(const MTile& t, const MLayer& l, const std::string& who,
                            const std::vector<Touch>& reads, const std::vector<Touch>& writes) {
    bool weights = false, state_read = false, state_written = false;
    for (const Touch& r : reads) {
      const PieceRef& p = *r.p;
      if (p.kind == Kind::kWeights) {
        if (l.weights && p.layer == t.layer) {
          weights = true;
        } else {
          Add(out_, "tile.foreign_read",
              absl::StrCat(who, " reads ", Describe(p), " (", r.via, "): ",
                           l.weights ? "weights of another layer" : "its layer has no weights"));
        }
      } else if (p.kind == Kind::kState) {
        if (l.stateful && OwnState(t, p)) {
          state_read = true;
        } else {
          Add(out_, "tile.state",
              absl::StrCat(who, " reads ", Describe(p), " (", r.via, "), which is not ",
                           l.stateful ? absl::StrCat("its state (rows ", Str(t.rows), ")")
                                      : std::string("a state of it: the layer is stateless")));
        }
      }
    }
    for (const Touch& w : writes) state_written |= l.stateful && OwnState(t, *w.p);
    if (l.weights && l.weights_in_crossbars && weights)
      Add(out_, "tile.weights",
          absl::StrCat(who, " reads a weights piece, but its layer's weights stay in crossbars"));
    if (l.weights && !l.weights_in_crossbars && !weights)
      Add(out_, "tile.weights", absl::StrCat(who, " reads no weights of its layer"));
    if (!l.stateful) return;
    if (!state_written)
      Add(out_, "tile.state",
          absl::StrCat(who, " does not write its state (sample ", t.sample, ", rows ", Str(t.rows),
                       ") at t ", Str(t.t)));
    const bool dram = m_.summary.state_io == "dram";
    if (!state_read && (t.t.begin > 0 || dram))
      Add(out_, "tile.state",
          absl::StrCat(who, " does not read its state (sample ", t.sample, ", rows ", Str(t.rows),
                       ") ",
                       t.t.begin > 0 ? absl::StrCat("left by timestep ", t.t.begin - 1)
                                     : std::string("initial value (state_io dram)")));
  }

  // Every input's needed rows x timesteps are covered by the pieces the
  // tile reads of that producer (or of the network input) and sample.
  void CheckReceptiveField(const MTile& t, const MLayer& l, const std::string& who,
                           const std::vector<Touch>& reads) {
    std::vector<const Touch*> data;
    for (const Touch& r : reads) {
      const PieceRef& p = *r.p;
      if (p.kind != Kind::kFeature && p.kind != Kind::kInput) continue;
      bool mine = false;
      for (const MInput& in : l.inputs)
        mine |= in.layer ? p.kind == Kind::kFeature && p.layer == L_[*in.layer].name
                         : p.kind == Kind::kInput;
      if (mine && p.sample == t.sample) {
        data.push_back(&r);
        continue;
      }
      Add(out_, "tile.foreign_read",
          absl::StrCat(who, " reads ", Describe(p), " (", r.via, "): ",
                       mine ? absl::StrCat("another sample than its own (", t.sample, ")")
                            : std::string("not an input of its layer")));
    }
    for (size_t k = 0; k < l.inputs.size(); ++k) {
      const MInput& in = l.inputs[k];
      bool repeated = false;  // the same input twice (x + x) is checked once
      for (size_t j = 0; j < k; ++j)
        repeated |= l.inputs[j].layer == in.layer && l.inputs[j].all_rows == in.all_rows &&
                    l.inputs[j].all_time == in.all_time && l.inputs[j].previous == in.previous;
      if (!repeated) CheckCovered(t, who, in, data);
    }
  }

  void CheckCovered(const MTile& t, const std::string& who, const MInput& in,
                    const std::vector<const Touch*>& data) {
    const Span rows = in.Rows(t.rows), time = in.Time(t.t);
    if (rows.end <= rows.begin || time.end <= time.begin) return;
    const std::string name = in.layer ? L_[*in.layer].name : std::string();
    std::vector<const PieceRef*> ps;
    for (const Touch* d : data) {
      const PieceRef& p = *d->p;
      if ((in.layer ? p.kind == Kind::kFeature && p.layer == name : p.kind == Kind::kInput) &&
          p.t.Overlaps(time) && p.rows.Overlaps(rows))
        ps.push_back(&p);
    }
    // Elementary timestep intervals between piece boundaries.
    std::vector<int64_t> cuts = {time.begin, time.end};
    for (const PieceRef* p : ps)
      for (int64_t c : {p->t.begin, p->t.end})
        if (c > time.begin && c < time.end) cuts.push_back(c);
    std::sort(cuts.begin(), cuts.end());
    cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
    for (size_t c = 0; c + 1 < cuts.size(); ++c) {
      const Span step = {cuts[c], cuts[c + 1]};
      std::vector<Span> have;
      for (const PieceRef* p : ps)
        if (p->t.begin <= step.begin && p->t.end >= step.end) have.push_back(p->rows);
      std::sort(have.begin(), have.end(),
                [](const Span& a, const Span& b) { return a.begin < b.begin; });
      int64_t reached = rows.begin;
      for (const Span& r : have) {
        if (r.begin > reached) break;
        reached = std::max(reached, r.end);
      }
      if (reached >= rows.end) continue;
      int64_t gap_end = rows.end;
      for (const Span& r : have)
        if (r.begin > reached) gap_end = std::min(gap_end, r.begin);
      std::vector<std::string> read;
      for (const PieceRef* p : ps)
        read.push_back(absl::StrCat(p->piece, " (t ", Str(p->t), " rows ", Str(p->rows), ")"));
      Add(out_, "tile.receptive_field",
          absl::StrCat(who, " reads no piece of ",
                       in.layer ? absl::StrCat("layer ", *in.layer, " '", name, "'")
                                : std::string("the network input"),
                       " for rows ", Str({reached, gap_end}), " at t ", Str(step), " (sample ",
                       t.sample, "; receptive field rows ", Str(rows), " t ", Str(time),
                       "); it reads ",
                       read.empty() ? std::string("none of it")
                                    : absl::StrCat("pieces ", absl::StrJoin(read, ", "))));
      return;  // one gap per (tile, input) is enough
    }
  }

  const Manifest& m_;
  const Index& index_;
  const std::vector<MLayer>& L_;
  Violations* out_;
  std::map<std::string, int64_t> by_name_;
  struct Streamed {
    const PieceRef* p;
    int64_t transfer;
    bool read, written;  // a descriptor moves it (always before schema_version 4)
  };
  std::map<std::string, std::vector<Streamed>> streams_;
  std::map<std::string, std::vector<const MTransfer*>> stream_transfers_;
  std::vector<bool> valid_;  // per tile: its layer and ranges are usable
};

}  // namespace

void CheckGeometry(const Manifest& m, const Index& index, Violations* out) {
  if (!m.layer_table) return;
  if (!TableCheck(m, out).Run()) return;  // per-tile checks need a sound table
  TileCheck(m, index, out).Run();
}

}  // namespace snnplan::validate
