// Exit points (plans priced under an early-exit profile): a check after
// step t must wait for every step-1..t output of the layers it reads, must
// run right when the last of them ends, and skips exactly the tiles and
// transfers that start from then on.
#include <set>

#include "model.h"

namespace snnplan::validate {
namespace {

void CheckPoint(const Manifest& m, const std::set<int64_t>& reads, const MExitPoint& p,
                Violations* out) {
  const std::string where = absl::StrCat("exit point after ", p.after_timesteps, " timesteps");
  int64_t ready = -1;  // when the last step-1..t output of the read layers ends
  const MTile* last = nullptr;
  for (const MTile& t : m.tiles)
    if (reads.count(t.layer_id) > 0 && t.t.begin < p.after_timesteps && t.end >= ready) {
      ready = t.end;
      last = &t;
    }
  if (last == nullptr) {
    Add(out, "exit.reads",
        absl::StrCat(where, ": no tile of the layers it reads computes those steps"));
    return;
  }
  if (p.check_cycle != ready)
    Add(out, "exit.timing",
        absl::StrCat(where, ": checks at cycle ", p.check_cycle,
                     " but the outputs it reads are ready at ", ready, " (tile ", last->id, ")"));
  if (p.check_after_tile < 0 || p.check_after_tile >= static_cast<int64_t>(m.tiles.size()) ||
      m.tiles[static_cast<size_t>(p.check_after_tile)].end != p.check_cycle)
    Add(out, "exit.timing",
        absl::StrCat(where, ": check_after_tile ", p.check_after_tile,
                     " is not a tile ending at the check cycle ", p.check_cycle));
  int64_t tiles = 0, transfers = 0;
  for (const MTile& t : m.tiles) tiles += t.start >= p.check_cycle;
  for (const MTransfer& t : m.transfers) transfers += t.start >= p.check_cycle;
  if (tiles != p.skips_tiles || transfers != p.skips_transfers)
    Add(out, "exit.skips",
        absl::StrCat(where, ": says it skips ", p.skips_tiles, " tiles and ", p.skips_transfers,
                     " transfers; ", tiles, " tiles and ", transfers,
                     " transfers start at or after its check"));
}

}  // namespace

void CheckExitPoints(const Manifest& m, Violations* out) {
  if (!m.exits) return;
  std::set<int64_t> layer_ids;
  for (const MTile& t : m.tiles) layer_ids.insert(t.layer_id);
  const std::set<int64_t> reads(m.exits->reads_layers.begin(), m.exits->reads_layers.end());
  for (int64_t l : reads)
    if (layer_ids.count(l) == 0)
      Add(out, "exit.reads", absl::StrCat("exit_points.reads_layers: no tile has layer_id ", l));
  int64_t previous = 0;
  for (const MExitPoint& p : m.exits->points) {
    if (p.after_timesteps <= previous || p.after_timesteps >= m.timesteps) {
      Add(out, "exit.step",
          absl::StrCat("exit point after ", p.after_timesteps,
                       " timesteps: steps must increase within 1..", m.timesteps - 1));
      continue;
    }
    previous = p.after_timesteps;
    CheckPoint(m, reads, p, out);
  }
}

}  // namespace snnplan::validate
