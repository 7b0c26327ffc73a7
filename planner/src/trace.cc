// A manifest as a Chrome / Perfetto trace (docs/manifest.md#trace): one
// track per core's compute, one for the DRAM link and one per directed NoC
// link; transfers named by layer and operand; time in µs when the hardware
// states its clock, else in cycles.
#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <stdexcept>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "snnplan/planner.h"
#include "snnplan/units.h"

namespace snnplan::plan {
namespace {

using Json = nlohmann::json;
using Link = std::array<int64_t, 4>;  // from (x, y) to (x, y): one directed NoC hop

// The manifest's `hardware.clock_hz` (0 when absent: time stays in cycles).
absl::StatusOr<double> ClockHz(const Json& m) {
  if (!m.contains("hardware") || !m.at("hardware").is_object() ||
      !m.at("hardware").contains("clock_hz"))
    return 0.0;
  const Json& c = m.at("hardware").at("clock_hz");
  if (!c.is_number() || !std::isfinite(c.get<double>()) || c.get<double>() <= 0)
    return absl::InvalidArgumentError(
        absl::StrCat("manifest: hardware.clock_hz: must be a number > 0 (Hz), got ", c.dump()));
  return c.get<double>();
}

// Trace timestamps: µs (the trace format's unit) with a clock, else cycles.
struct TimeBase {
  double clock_hz = 0;
  Json At(int64_t cycles) const {
    if (clock_hz > 0) return static_cast<double>(cycles) / clock_hz * 1e6;
    return cycles;
  }
  Json Span(int64_t start, int64_t end) const {
    if (clock_hz > 0) return static_cast<double>(end - start) / clock_hz * 1e6;
    return end - start;
  }
};

std::vector<Link> RouteLinks(const Json& transfer) {
  std::vector<Link> links;
  const Json& route = transfer.at("route");
  // A copy crosses at least one link; anything else is not a route.
  if (!route.is_array() || route.size() < 2)
    throw std::out_of_range("noc transfer route " + route.dump() + ": not a list of 2+ [x, y]");
  for (size_t i = 0; i + 1 < route.size(); ++i)
    links.push_back({route.at(i).at(0).get<int64_t>(), route.at(i).at(1).get<int64_t>(),
                     route.at(i + 1).at(0).get<int64_t>(), route.at(i + 1).at(1).get<int64_t>()});
  return links;
}

// Track ids: the DRAM link, then every NoC link in coordinate order, then
// one compute track per core id in id order.
struct Tracks {
  static constexpr int64_t kDram = 0;
  std::map<Link, int64_t> noc;
  std::map<int64_t, int64_t> core;

  absl::Status Collect(const Json& m) {
    for (const Json& x : m.at("transfers"))
      if (x.at("direction") == "noc")
        for (const Link& l : RouteLinks(x)) noc.emplace(l, 0);
    for (const Json& t : m.at("tiles")) {
      const int64_t id = t.at("core").get<int64_t>();
      if (id < 0 || id > (1 << 16))
        return absl::InvalidArgumentError(
            absl::StrCat("manifest: tile core ", id, " out of range"));
      core.emplace(id, 0);
    }
    int64_t next = kDram + 1;
    for (auto& [link, tid] : noc) tid = next++;
    for (auto& [id, tid] : core) tid = next++;
    return absl::OkStatus();
  }

  void Metadata(Json& events) const {
    auto name = [&](int64_t tid, const std::string& text) {
      events.push_back({{"ph", "M"},
                        {"name", "thread_name"},
                        {"pid", 0},
                        {"tid", tid},
                        {"args", {{"name", text}}}});
      events.push_back({{"ph", "M"},
                        {"name", "thread_sort_index"},
                        {"pid", 0},
                        {"tid", tid},
                        {"args", {{"sort_index", tid}}}});
    };
    name(kDram, "dram link");
    for (const auto& [l, tid] : noc)
      name(tid, absl::StrCat("noc link (", l[0], ",", l[1], ")->(", l[2], ",", l[3], ")"));
    for (const auto& [id, tid] : core) name(tid, absl::StrCat("core ", id, " compute"));
  }
};

// "conv2": the layer a tensor belongs to (a feature: its producer), or the
// network input.
std::string TensorLayer(const Json& tensor) {
  return tensor.at("layer").is_null() ? "input" : tensor.at("layer").get<std::string>();
}

// "conv2 W read" (load from DRAM), "conv1 O write" (store), "conv1 O copy
// 0->1" (NoC), "conv2 W+I stream" (a tile's in-tile DRAM traffic).
std::string TransferName(const Json& x, const std::map<std::string, std::string>& tile_layer) {
  const std::string direction = x.at("direction").get<std::string>();
  if (direction == "stream") {
    const std::string tile = x.at("tile").get<std::string>();
    const auto it = tile_layer.find(tile);
    if (it == tile_layer.end()) throw std::out_of_range("stream tile " + tile + " not in tiles");
    std::vector<std::string> ops;
    for (const char* o : {"W", "I", "O", "S"})
      if (x.at("operands").contains(o)) ops.push_back(o);
    return absl::StrCat(it->second, " ", absl::StrJoin(ops, "+"), " stream");
  }
  const std::string head =
      absl::StrCat(TensorLayer(x.at("tensor")), " ", x.at("operand").get<std::string>());
  if (direction == "load") return head + " read";
  if (direction == "store") return head + " write";
  if (direction == "noc")
    return absl::StrCat(head, " copy ", x.at("from_core").get<int64_t>(), "->",
                        x.at("to_core").get<int64_t>());
  throw std::out_of_range("transfer direction " + direction);
}

Json Event(int64_t tid, const char* cat, const std::string& name, int64_t start, int64_t end,
           const TimeBase& time, Json args) {
  args["start_cycle"] = start;
  args["end_cycle"] = end;
  return {{"ph", "X"},
          {"pid", 0},
          {"tid", tid},
          {"cat", cat},
          {"name", name},
          {"ts", time.At(start)},
          {"dur", time.Span(start, end)},
          {"args", std::move(args)}};
}

void TileEvents(const Json& m, const Tracks& tracks, const TimeBase& time, Json& events) {
  for (const Json& t : m.at("tiles"))
    events.push_back(Event(tracks.core.at(t.at("core").get<int64_t>()), "tile",
                           t.at("layer").get<std::string>(), t.at("start").get<int64_t>(),
                           t.at("end").get<int64_t>(), time,
                           {{"id", t.at("id")}, {"energy_pj", t.at("energy_pj")}}));
}

// A NoC copy holds every link of its route: one event on each link's track.
void TransferEvents(const Json& m, const Tracks& tracks, const TimeBase& time, Json& events) {
  std::map<std::string, std::string> tile_layer;
  for (const Json& t : m.at("tiles"))
    tile_layer[t.at("id").get<std::string>()] = t.at("layer").get<std::string>();
  for (const Json& x : m.at("transfers")) {
    Json args = {{"id", x.at("id")},
                 {"cause", x.at("cause")},
                 {"direction", x.at("direction")},
                 {"bytes", x.at("bytes")}};
    if (x.contains("link_bytes")) args["link_bytes"] = x.at("link_bytes");
    const std::string name = TransferName(x, tile_layer);
    const int64_t start = x.at("start").get<int64_t>(), end = x.at("end").get<int64_t>();
    if (x.at("direction") != "noc") {
      events.push_back(Event(Tracks::kDram, "transfer", name, start, end, time, args));
      continue;
    }
    for (const Link& l : RouteLinks(x))
      events.push_back(Event(tracks.noc.at(l), "transfer", name, start, end, time, args));
  }
}

void OccupancyCounters(const Json& m, const TimeBase& time, Json& events) {
  std::map<int64_t, std::map<int64_t, int64_t>> delta;  // core -> cycle -> bytes
  for (const Json& a : m.at("allocations")) {
    std::map<int64_t, int64_t>& d = delta[a.at("core").get<int64_t>()];
    d[a.at("allocated_at").get<int64_t>()] += a.at("bytes").get<int64_t>();
    d[a.at("freed_at").get<int64_t>()] -= a.at("bytes").get<int64_t>();
  }
  for (const auto& [core, d] : delta) {
    int64_t live = 0;
    for (const auto& [t, bytes] : d) {
      live += bytes;
      events.push_back({{"ph", "C"},
                        {"pid", 0},
                        {"name", absl::StrCat("core ", core, " on-chip bytes")},
                        {"ts", time.At(t)},
                        {"args", {{"bytes", live}}}});
    }
  }
}

}  // namespace

absl::StatusOr<nlohmann::json> ManifestToTrace(const nlohmann::json& m) {
  for (const char* key : {"tiles", "transfers", "allocations"})
    if (!m.is_object() || !m.contains(key) || !m.at(key).is_array())
      return absl::InvalidArgumentError(
          absl::StrCat("manifest: ", key, ": missing or not an array"));
  absl::StatusOr<double> clock_hz = ClockHz(m);
  if (!clock_hz.ok()) return clock_hz.status();
  const TimeBase time{*clock_hz};
  const std::string unit =
      time.clock_hz > 0
          ? absl::StrCat("time in µs at ", units::Frequency(time.clock_hz))
          : std::string("time in cycles: 1 trace unit = 1 cycle (no clock_hz in the hardware)");
  Json events = Json::array();
  events.push_back({{"ph", "M"},
                    {"name", "process_name"},
                    {"pid", 0},
                    {"args", {{"name", absl::StrCat("snnplan (", unit, ")")}}}});
  Tracks tracks;
  try {
    if (absl::Status s = tracks.Collect(m); !s.ok()) return s;
    TileEvents(m, tracks, time, events);
    TransferEvents(m, tracks, time, events);
    OccupancyCounters(m, time, events);
  } catch (const std::exception& e) {  // nlohmann's type / key errors, unknown names
    return absl::InvalidArgumentError(absl::StrCat("manifest: malformed entry: ", e.what()));
  }
  tracks.Metadata(events);
  Json other = {{"time_unit", time.clock_hz > 0 ? "us" : "cycles"}};
  if (time.clock_hz > 0) other["clock_hz"] = time.clock_hz;
  return Json{{"traceEvents", events}, {"displayTimeUnit", "ns"}, {"otherData", other}};
}

}  // namespace snnplan::plan
