// Dependencies recomputed from the model (--model): which tiles of a
// producer layer a tile's receptive field covers, and which tile left the
// state it continues. Deliberately modest: it checks ordering and coverage,
// not that the planner chose the same tile sizes or pieces.
#include <algorithm>

#include "absl/strings/str_join.h"
#include "model.h"

namespace snnplan::validate {
namespace {

// Producer rows [lo, hi) that output rows `rows` of `c` read; all rows when
// the layers are not spatially related (linear, or a reshape in between).
Span ReceptiveRows(const ir::Layer& c, const Span& rows, int64_t producer_rows) {
  if (c.op == ir::OpKind::kLinear || c.in_y != producer_rows) return {0, producer_rows};
  const ir::Window& w = c.window;
  const int64_t lo = rows.begin * w.stride_y - w.pad_top;
  const int64_t hi = (rows.end - 1) * w.stride_y - w.pad_top + (c.dims.FY - 1) * w.dilation_y + 1;
  return {std::max<int64_t>(0, lo), std::min(hi, producer_rows)};
}

// Steps t of a recurrent (delayed) input read its steps t - 1.
Span Delayed(const Span& t) { return {std::max<int64_t>(0, t.begin - 1), t.end - 1}; }

// Time ranges are compared when both layers run over the same timesteps.
bool NeedsTime(const ir::Layer& c, const ir::Layer& p, const Span& ct, const Span& pt) {
  if (c.op == ir::OpKind::kTimeMean || p.op == ir::OpKind::kTimeMean || c.dims.T != p.dims.T)
    return true;
  return ct.Overlaps(pt);
}

using TilesBy = std::map<std::pair<int, int64_t>, std::vector<const MTile*>>;  // (layer, sample)

void CheckIdentity(const Manifest& m, const ir::Workload& w, Violations* out) {
  if (!w.model_sha256.empty() && m.model_sha256 != w.model_sha256)
    Add(out, "model.mismatch", "model.sha256 " + m.model_sha256 + " is not the given model's " +
                                   w.model_sha256);
  if (m.timesteps != w.timesteps || m.batch != std::max<int64_t>(1, w.batch))
    Add(out, "model.mismatch",
        absl::StrCat("model has T=", m.timesteps, " batch=", m.batch, " but the given model T=",
                     w.timesteps, " batch=", w.batch));
}

TilesBy GroupTiles(const Manifest& m, const ir::Workload& w, Violations* out) {
  std::map<std::string, int> layer_of;
  for (size_t l = 0; l < w.layers.size(); ++l) layer_of.emplace(w.layers[l].name, static_cast<int>(l));
  TilesBy by;
  for (const MTile& t : m.tiles) {
    auto it = layer_of.find(t.layer);
    if (it == layer_of.end() || it->second != t.layer_id) {
      Add(out, "model.layer", absl::StrCat("tile ", t.id, ": layer '", t.layer, "' (id ",
                                           t.layer_id, ") is not in the model"));
      continue;
    }
    by[{it->second, t.sample}].push_back(&t);
  }
  return by;
}

// Each (layer, sample) output is covered by exactly one tile per (t, row).
void CheckCoverage(const ir::Workload& w, const TilesBy& by, Violations* out) {
  const int64_t samples = std::max<int64_t>(1, w.batch);
  for (size_t l = 0; l < w.layers.size(); ++l) {
    const ir::LoopDims& d = w.layers[l].dims;
    if (d.T <= 0 || d.OY <= 0 || d.T > 4096 || d.OY > 4096) continue;  // no grid for absurd sizes
    for (int64_t s = 0; s < samples && s < 4096; ++s) {
      std::vector<int> cells(static_cast<size_t>(d.T * d.OY), 0);
      auto it = by.find({static_cast<int>(l), s});
      if (it != by.end())
        for (const MTile* t : it->second)
          for (int64_t ti = std::max<int64_t>(0, t->t.begin); ti < std::min(d.T, t->t.end); ++ti)
            for (int64_t y = std::max<int64_t>(0, t->rows.begin); y < std::min(d.OY, t->rows.end); ++y)
              ++cells[static_cast<size_t>(ti * d.OY + y)];
      const int64_t missing = std::count(cells.begin(), cells.end(), 0);
      const int64_t twice = std::count_if(cells.begin(), cells.end(), [](int c) { return c > 1; });
      if (missing > 0 || twice > 0)
        Add(out, "model.coverage",
            absl::StrCat("layer '", w.layers[l].name, "' sample ", s, ": ", missing,
                         " (timestep, row) outputs computed by no tile, ", twice, " by several"));
    }
  }
}

void CheckProducers(const ir::Workload& w, const TilesBy& by, Violations* out) {
  for (const auto& [key, tiles] : by) {
    const ir::Layer& c = w.layers[key.first];
    for (size_t k = 0; k < c.inputs.size(); ++k) {
      const int p = c.inputs[k];
      if (p < 0 || static_cast<size_t>(p) >= w.layers.size()) continue;  // network input
      auto prod = by.find({p, key.second});
      if (prod == by.end()) continue;  // reported by coverage
      const ir::Layer& pl = w.layers[p];
      for (const MTile* t : tiles) {
        const Span need = ReceptiveRows(c, t->rows, pl.dims.OY);
        for (const MTile* q : prod->second)
          if (q->rows.Overlaps(need) &&
              NeedsTime(c, pl, c.delayed(k) ? Delayed(t->t) : t->t, q->t) && q->end > t->start)
            Add(out, "model.dependency",
                absl::StrCat("tile ", t->id, " starts at cycle ", t->start, " before tile ",
                             q->id, " (layer '", pl.name, "', rows ", Str(q->rows),
                             " in its receptive field) ends at ", q->end));
      }
    }
  }
}

void CheckStates(const ir::Workload& w, const TilesBy& by, Violations* out) {
  for (const auto& [key, tiles] : by) {
    if (!w.layers[key.first].stateful()) continue;
    for (const MTile* t : tiles)
      for (const MTile* q : tiles)
        if (q->t.end == t->t.begin && q->rows.Overlaps(t->rows) && q->end > t->start)
          Add(out, "model.state",
              absl::StrCat("tile ", t->id, " starts at cycle ", t->start, " before tile ", q->id,
                           " (the state of timestep ", t->t.begin - 1, ") ends at ", q->end));
  }
}

// The layer table (schema_version 3+) states what the model computes: every
// entry's name, T, shape, state, precision (v4) and inputs (producers,
// delays, window geometry) are the model's. A table that lies consistently
// (a narrower kernel, a wider shape) is caught here.
void CheckTable(const Manifest& m, const ir::Workload& w, Violations* out) {
  if (!m.layer_table) return;
  const std::vector<MLayer>& L = *m.layer_table;
  if (L.size() != w.layers.size()) {
    Add(out, "model.table",
        absl::StrCat("`layers` lists ", L.size(), " layers but the model has ", w.layers.size()));
    return;
  }
  for (size_t i = 0; i < L.size(); ++i) {
    const MLayer& l = L[i];
    const ir::Layer& x = w.layers[i];
    std::vector<std::string> diff;
    auto cmp = [&](const char* what, int64_t have, int64_t want) {
      if (have != want) diff.push_back(absl::StrCat(what, " ", have, " (model: ", want, ")"));
    };
    if (l.name != x.name)
      diff.push_back(absl::StrCat("name '", l.name, "' (model: '", x.name, "')"));
    cmp("T", l.T, x.dims.T);
    cmp("K", l.K, x.dims.G * x.dims.K);
    cmp("OY", l.OY, x.dims.OY);
    cmp("OX", l.OX, x.dims.OX);
    cmp("stateful", l.stateful, x.stateful());
    cmp("states", l.states, x.stateful() ? x.neuron.states_per_neuron : 0);
    cmp("network_output", l.network_output, x.network_output);
    if (m.complete) {
      cmp("precision.weight_bits", l.weight_bits, x.precision.weight_bits);
      cmp("precision.input_bits", l.input_bits, x.precision.input_bits);
      cmp("precision.output_bits", l.output_bits, x.precision.output_bits);
      cmp("precision.state_bits", l.state_bits, x.precision.state_bits);
    }
    cmp("inputs", static_cast<int64_t>(l.inputs.size()), static_cast<int64_t>(x.inputs.size()));
    for (size_t k = 0; k < l.inputs.size() && k < x.inputs.size(); ++k) {
      const MInput& in = l.inputs[k];
      const std::string at = absl::StrCat("input ", k, " ");
      const int p = x.inputs[k];
      const bool network = p == ir::kNetworkInput;
      if (in.layer.has_value() == network || (in.layer && *in.layer != p))
        diff.push_back(absl::StrCat(at, "layer ", in.layer ? absl::StrCat(*in.layer) : "null",
                                    " (model: ", network ? "null" : absl::StrCat(p), ")"));
      cmp((at + "previous").c_str(), in.previous, x.delayed(k));
      if (!network && p >= 0 && static_cast<size_t>(p) < w.layers.size())
        cmp((at + "input_rows").c_str(), in.input_rows, w.layers[p].dims.OY);
      // A window when the layer slides over its producer's rows.
      const bool window = x.op != ir::OpKind::kLinear && x.in_y == in.input_rows;
      cmp((at + "window").c_str(), !in.all_rows, window);
      if (window && !in.all_rows) {
        cmp((at + "kernel").c_str(), in.kernel, x.dims.FY);
        cmp((at + "stride").c_str(), in.stride, x.window.stride_y);
        cmp((at + "pad_top").c_str(), in.pad_top, x.window.pad_top);
        cmp((at + "pad_bottom").c_str(), in.pad_bottom, x.window.pad_bottom);
        cmp((at + "dilation").c_str(), in.dilation, x.window.dilation_y);
      }
    }
    if (!diff.empty())
      Add(out, "model.table",
          absl::StrCat("layers[", i, "] '", l.name,
                       "' differs from the model: ", absl::StrJoin(diff, ", ")));
  }
}

}  // namespace

void CheckModelDependencies(const Manifest& m, const ir::Workload& w, Violations* out) {
  CheckIdentity(m, w, out);
  CheckTable(m, w, out);
  const TilesBy by = GroupTiles(m, w, out);
  CheckCoverage(w, by, out);
  CheckProducers(w, by, out);
  CheckStates(w, by, out);
}

}  // namespace snnplan::validate
