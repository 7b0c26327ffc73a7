// Several networks in one deployment (manifest.md, "Several networks"):
// model.networks names contiguous layer and block ranges that partition the
// model, every tile's block lies in its layer's network's blocks, and the
// summary's per-network shares count each network's tiles and add up, with
// the shared network input's, to the totals.
#include <cmath>

#include "model.h"

namespace snnplan::validate {

void CheckNetworks(const Manifest& m, Violations* out) {
  if (!m.networks) return;
  const MNetworks& n = *m.networks;
  if (n.networks.size() < 2)
    Add(out, "networks.ranges",
        absl::StrCat("model.networks lists ", n.networks.size(),
                     " network(s); a deployment of one model has no networks list"));
  int64_t layer = 0, block = 0;
  for (const MNetwork& net : n.networks) {
    if (net.layers.begin != layer || net.layers.end <= net.layers.begin)
      Add(out, "networks.ranges",
          absl::StrCat("network ", net.name, ": layers ", Str(net.layers), " do not continue at ",
                       layer, " (the ranges must partition the layers, in order)"));
    if (net.blocks.begin != block || net.blocks.end <= net.blocks.begin)
      Add(out, "networks.ranges",
          absl::StrCat("network ", net.name, ": blocks ", Str(net.blocks), " do not continue at ",
                       block));
    layer = net.layers.end;
    block = net.blocks.end;
  }
  if (m.layers && layer != *m.layers)
    Add(out, "networks.ranges",
        absl::StrCat("model.networks cover ", layer, " layers, model.layers is ", *m.layers));
  if (m.blocks && block != *m.blocks)
    Add(out, "networks.ranges",
        absl::StrCat("model.networks cover ", block, " blocks, model.blocks is ", *m.blocks));
  // Tiles per network, from the tile list.
  std::vector<int64_t> tiles(n.networks.size(), 0);
  for (const MTile& t : m.tiles)
    for (size_t k = 0; k < n.networks.size(); ++k) {
      const MNetwork& net = n.networks[k];
      if (t.layer_id < net.layers.begin || t.layer_id >= net.layers.end) continue;
      ++tiles[k];
      if (t.block < net.blocks.begin || t.block >= net.blocks.end)
        Add(out, "networks.blocks",
            absl::StrCat("tile ", t.id, " of network ", net.name, " is in block ", t.block,
                         ", outside its blocks ", Str(net.blocks)));
    }
  if (!n.by_network) return;
  if (n.by_network->size() != n.networks.size()) {
    Add(out, "networks.summary",
        absl::StrCat("summary.by_network has ", n.by_network->size(), " entries for ",
                     n.networks.size(), " networks"));
    return;
  }
  double energy = n.shared_input ? n.shared_input->energy : 0;
  int64_t dram = n.shared_input ? n.shared_input->dram : 0;
  int64_t noc = n.shared_input ? n.shared_input->noc : 0;
  for (size_t k = 0; k < n.networks.size(); ++k) {
    const MNetworkUse& u = (*n.by_network)[k];
    if (u.name != n.networks[k].name)
      Add(out, "networks.summary",
          absl::StrCat("summary.by_network[", k, "] is '", u.name, "', model.networks[", k,
                       "] is '", n.networks[k].name, "'"));
    if (u.tiles && *u.tiles != tiles[k])
      Add(out, "networks.summary",
          absl::StrCat("summary.by_network[", k, "] (", u.name, ") counts ", *u.tiles,
                       " tiles, the tile list has ", tiles[k]));
    energy += u.energy;
    dram += u.dram;
    noc += u.noc;
  }
  if (dram != m.summary.total)
    Add(out, "networks.summary",
        absl::StrCat("the networks' and the shared input's DRAM bytes add up to ", dram,
                     ", summary.dram_bytes.total is ", m.summary.total));
  if (m.summary.noc_bytes && noc != *m.summary.noc_bytes)
    Add(out, "networks.summary",
        absl::StrCat("the networks' and the shared input's NoC bytes add up to ", noc,
                     ", summary.noc_bytes is ", *m.summary.noc_bytes));
  // Sums of doubles in another order: equal up to rounding.
  if (std::abs(energy - m.summary.energy.total) > 1e-9 * std::abs(m.summary.energy.total) + 1e-6)
    Add(out, "networks.summary",
        absl::StrCat("the networks' and the shared input's energy add up to ", energy,
                     " pJ, summary.energy_pj.total is ", m.summary.energy.total, " pJ"));
}

}  // namespace snnplan::validate
