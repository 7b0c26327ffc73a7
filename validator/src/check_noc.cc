// The mesh NoC between cores: a `noc` transfer takes the XY route from its
// source core to its destination core, holds every directed link of it for
// its whole interval (one transfer per link at a time, the two directions
// independent) and cannot beat the link bandwidth.
#include <algorithm>
#include <tuple>

#include "model.h"

namespace snnplan::validate {
namespace {

// XY routing: along x until x matches, then along y, one unit per hop.
std::vector<Xy> XyRoute(Xy from, const Xy& to) {
  std::vector<Xy> route = {from};
  while (from != to) {
    if (from.first != to.first)
      from.first += from.first < to.first ? 1 : -1;
    else
      from.second += from.second < to.second ? 1 : -1;
    route.push_back(from);
  }
  return route;
}

std::string RouteText(const std::vector<Xy>& route) {
  std::string s;
  for (const Xy& p : route) absl::StrAppend(&s, s.empty() ? "" : " ", XyStr(p));
  return "[" + s + "]";
}

// Why `x.route` is not the XY route between its cores ("" when it is, or
// when a core has no position: transfer.core reports unknown cores).
std::string RouteProblem(const MTransfer& x, const Index& index) {
  if (x.from_core == x.to_core) return absl::StrCat("copies core ", x.from_core, " to itself");
  const CoreInfo* from = index.Core(x.from_core);
  const CoreInfo* to = index.Core(x.to_core);
  if (from == nullptr || to == nullptr || !from->position || !to->position) return "";
  const std::vector<Xy> want = XyRoute(*from->position, *to->position);
  if (x.route.empty() || x.route.front() != want.front())
    return absl::StrCat("route ", RouteText(x.route), " does not start at core ", x.from_core,
                        "'s position ", XyStr(want.front()));
  if (x.route.back() != want.back())
    return absl::StrCat("route ", RouteText(x.route), " does not end at core ", x.to_core,
                        "'s position ", XyStr(want.back()));
  if (x.route != want)
    return absl::StrCat("route ", RouteText(x.route), " is not the XY route ", RouteText(want));
  if (x.hops && *x.hops != static_cast<int64_t>(x.route.size()) - 1)
    return absl::StrCat("hops is ", *x.hops, " but its route has ", x.route.size() - 1);
  return "";
}

// Directed link -> noc transfers (positions) holding it, for valid routes.
using Link = std::pair<Xy, Xy>;

std::map<Link, std::vector<size_t>> CheckRoutes(const Manifest& m, const Index& index,
                                                Violations* out) {
  std::map<Link, std::vector<size_t>> links;
  for (size_t i = 0; i < m.transfers.size(); ++i) {
    const MTransfer& x = m.transfers[i];
    if (x.dir != Dir::kNoc) continue;
    if (const std::string problem = RouteProblem(x, index); !problem.empty()) {
      Add(out, "noc.route",
          absl::StrCat("noc transfer ", x.id, " (core ", x.from_core, " -> core ", x.to_core,
                       "): ", problem));
      continue;  // link occupancy is only meaningful along a valid route
    }
    if (x.end <= x.start) continue;
    for (size_t h = 0; h + 1 < x.route.size(); ++h)
      links[{x.route[h], x.route[h + 1]}].push_back(i);
  }
  return links;
}

// Per directed link, intervals sorted by start never overlap (half-open).
void CheckLinkOverlap(const Manifest& m, const std::map<Link, std::vector<size_t>>& links,
                      Violations* out) {
  for (const auto& entry : links) {
    const Link& link = entry.first;  // clang-14 cannot capture structured bindings
    ForEachOverlap(m, entry.second, [&](const MTransfer& a, const MTransfer& b) {
      Add(out, "noc.overlap",
          absl::StrCat("noc transfers ", a.id, " ", Str({a.start, a.end}), " and ", b.id, " ",
                       Str({b.start, b.end}), " overlap on the link ", XyStr(link.first), " -> ",
                       XyStr(link.second)));
    });
  }
}

// A noc transfer cannot beat one link's bandwidth (all links are alike).
void CheckNocDuration(const Manifest& m, Violations* out) {
  const int64_t bw = m.hardware.noc.link_bw_bits_per_cycle;
  if (bw <= 0) return;
  for (const MTransfer& x : m.transfers) {
    if (x.dir != Dir::kNoc || x.LinkBytes() < 0) continue;
    const int64_t cycles = static_cast<int64_t>((__int128{x.LinkBytes()} * 8 + bw - 1) / bw);
    if (x.end - x.start < cycles)
      Add(out, "noc.bandwidth",
          absl::StrCat("noc transfer ", x.id, " moves ", x.LinkBytes(), " bytes in ",
                       x.end - x.start, " cycles; a NoC link of ", bw, " bit/cycle needs ",
                       cycles));
  }
}

}  // namespace

void CheckNoc(const Manifest& m, const Index& index, Violations* out) {
  CheckLinkOverlap(m, CheckRoutes(m, index, out), out);
  CheckNocDuration(m, out);
}

}  // namespace snnplan::validate
