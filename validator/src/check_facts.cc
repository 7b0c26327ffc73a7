// What a manifest says about its model, checked without the model: T and
// batch are positive, layers are numbered 0..L-1 (one id per name; L =
// model.layers), each layer is in one block, blocks are numbered below L (a
// block has at least one layer) and model.blocks and `by_block` count the
// blocks the tiles use, and every tile and piece lies inside [0, T) and
// [0, batch).
#include <algorithm>
#include <map>
#include <set>

#include "model.h"

namespace snnplan::validate {
namespace {

bool Inside(const Span& s, int64_t end) { return s.begin >= 0 && s.end <= end; }

void CheckPieceRange(const Manifest& m, const PieceRef& p, const std::string& where,
                     Violations* out) {
  if (m.timesteps >= 1 && !Inside(p.t, m.timesteps))
    Add(out, "piece.range",
        absl::StrCat(where, ": ", Describe(p), " lies outside t [0,", m.timesteps, ")"));
  if (m.batch >= 1 && (p.sample < 0 || p.sample >= m.batch))
    Add(out, "piece.range",
        absl::StrCat(where, ": ", Describe(p), " has sample ", p.sample, " outside [0,", m.batch,
                     ")"));
  if (p.rows.begin < 0)
    Add(out, "piece.range", absl::StrCat(where, ": ", Describe(p), " starts at a negative row"));
}

void CheckLayers(const Manifest& m, Violations* out) {
  std::map<std::string, const MTile*> first_of;  // layer name -> its first tile
  for (const MTile& t : m.tiles) first_of.emplace(t.layer, &t);
  const int64_t named = static_cast<int64_t>(first_of.size());
  if (m.layers && *m.layers != named)
    Add(out, "model.layers",
        absl::StrCat("model.layers is ", *m.layers, " but the tiles name ", named, " layers"));
  const int64_t layers = named;
  std::map<int64_t, std::string> name_of;  // layer id -> name
  std::set<int64_t> blocks;
  for (const MTile& t : m.tiles) {
    const MTile& first = *first_of[t.layer];
    if (t.layer_id < 0 || t.layer_id >= layers)
      Add(out, "tile.layer",
          absl::StrCat("tile ", t.id, " has layer_id ", t.layer_id, " outside 0..", layers - 1,
                       " (the tiles name ", layers, " layers)"));
    else if (auto [it, added] = name_of.emplace(t.layer_id, t.layer);
             !added && it->second != t.layer)
      Add(out, "tile.layer",
          absl::StrCat("tile ", t.id, ": layer_id ", t.layer_id, " names '", t.layer, "' and '",
                       it->second, "'"));
    if (t.layer_id != first.layer_id)
      Add(out, "tile.layer",
          absl::StrCat("tile ", t.id, ": layer '", t.layer, "' has layer_id ", t.layer_id,
                       " here, ", first.layer_id, " in tile ", first.id));
    if (t.block < 0 || t.block >= layers)
      Add(out, "tile.block",
          absl::StrCat("tile ", t.id, " has block ", t.block, " outside 0..", layers - 1,
                       " (a block holds at least one layer)"));
    else
      blocks.insert(t.block);
    if (t.block != first.block)
      Add(out, "tile.block",
          absl::StrCat("tile ", t.id, ": layer '", t.layer, "' is in block ", t.block, " here, ",
                       first.block, " in tile ", first.id));
  }
  const int64_t used = blocks.empty() ? 0 : *blocks.rbegin() + 1;  // blocks 0..max
  if (m.blocks && (*m.blocks < 1 || *m.blocks > std::max<int64_t>(layers, 1) || *m.blocks != used))
    Add(out, "model.blocks",
        absl::StrCat("model.blocks is ", *m.blocks, " but the tiles use blocks 0..", used - 1,
                     " of ", layers, " layers"));
  if (m.summary.by_block && static_cast<int64_t>(m.summary.by_block->size()) != used)
    Add(out, "summary.blocks",
        absl::StrCat("summary.dram_bytes.by_block lists ", m.summary.by_block->size(),
                     " blocks, the tiles use blocks 0..", used - 1));
}

}  // namespace

void CheckModelFacts(const Manifest& m, Violations* out) {
  if (m.timesteps < 1)
    Add(out, "model.timesteps",
        absl::StrCat("model.timesteps is ", m.timesteps, " (must be >= 1)"));
  if (m.batch < 1)
    Add(out, "model.batch", absl::StrCat("model.batch is ", m.batch, " (must be >= 1)"));
  CheckLayers(m, out);
  for (const MTile& t : m.tiles) {
    if (m.timesteps >= 1 && !Inside(t.t, m.timesteps))
      Add(out, "tile.range",
          absl::StrCat("tile ", t.id, " computes t ", Str(t.t), " outside [0,", m.timesteps, ")"));
    if (m.batch >= 1 && (t.sample < 0 || t.sample >= m.batch))
      Add(out, "tile.range",
          absl::StrCat("tile ", t.id, " has sample ", t.sample, " outside [0,", m.batch, ")"));
    if (t.rows.begin < 0)
      Add(out, "tile.range", absl::StrCat("tile ", t.id, " starts at row ", t.rows.begin));
  }
  for (const MAlloc& a : m.allocs)
    CheckPieceRange(m, a.holds, absl::StrCat("allocation ", a.id), out);
  for (const MTransfer& x : m.transfers) {
    const std::string where = absl::StrCat("transfer ", x.id);
    if (x.dir != Dir::kStream) CheckPieceRange(m, x.tensor, where, out);
    for (const PieceRef& p : x.pieces) CheckPieceRange(m, p, where, out);
  }
}

}  // namespace snnplan::validate
