// The corruption suite (#15): real manifests planned in the test (snnTorch
// N-MNIST and SpikingJelly SEW-5, every schedule kind, --state-io dram,
// spills to DRAM, in-tile streams, four cores), each first required valid,
// then corrupted by small realistic edits of the kind a firmware team's bug
// produces (a tile loses its halo rows, reads the wrong timestep, forgets
// its weights or state, a spill lands on bytes another piece waits to be
// reloaded from, ...). Every corrupted manifest stays well-formed JSON and
// must be rejected -- by the library and by `snnplan validate` with exit 1
// -- with a message naming the ids involved.
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <set>

#include "snnplan/importer.h"
#include "test_util.h"

namespace snnplan::validate::testing {
namespace {

using json = nlohmann::json;

std::string ModelPath(const char* file) {
  return std::string(SNNPLAN_SOURCE_DIR) + "/models/" + file;
}

struct Scenario {
  std::string name;
  const char* model;
  int64_t timesteps;  // 0: the model's own
  const char* hardware;
  int64_t sram;  // bytes
  const char* spec;
  cost::StateIo state_io = cost::StateIo::kZero;
  plan::Eviction eviction = plan::Eviction::kStems;
  bool spread = false;  // layer i on core i % cores
  int64_t batch = 0;    // 0: the model's own
};

json PlanSetup(const Scenario& s) {
  importer::ImportOptions io;
  if (s.timesteps > 0) io.timesteps = s.timesteps;
  if (s.batch > 0) io.batch = s.batch;
  absl::StatusOr<ir::Workload> w = importer::ImportFile(ModelPath(s.model), io);
  EXPECT_TRUE(w.ok()) << w.status();
  if (!w.ok()) return nullptr;
  absl::StatusOr<hw::Hardware> h = hw::Preset(s.hardware);
  EXPECT_TRUE(h.ok()) << h.status();
  if (!h.ok()) return nullptr;
  EXPECT_TRUE(hw::ResizeGlobalBuffer(*h, s.sram).ok());
  plan::CoreAllocation allocation;
  if (s.spread)
    for (size_t l = 0; l < w->layers.size(); ++l)
      allocation.layer_core.push_back(h->cores[l % h->cores.size()].id);
  plan::PlanOptions o;
  o.state_io = s.state_io;
  o.eviction = s.eviction;
  o.threads = 2;
  plan::Planner planner(*std::move(w), *std::move(h), o);
  const ir::Workload& wl = planner.workload();
  absl::StatusOr<plan::Schedule> sched = plan::ParseSchedule(s.spec, wl.num_blocks, wl.timesteps);
  EXPECT_TRUE(sched.ok()) << sched.status();
  if (!sched.ok()) return nullptr;
  auto p = planner.Run(*sched, allocation);
  EXPECT_TRUE(p.ok()) << s.name << ": " << p.status();
  if (!p.ok()) return nullptr;
  std::ostringstream out;
  plan::WriteManifest(**p, out);
  return json::parse(out.str());
}

constexpr const char* kNmnist = "snntorch_nmnist_unrolled_T4_op13.onnx";
constexpr const char* kSew5 = "sj_sew5_T16_loop_op13.onnx";

// The manifests the corruptions start from, planned once.
const std::vector<std::pair<Scenario, json>>& Clean() {
  static const auto* const clean = [] {
    const std::vector<Scenario> setups = {
        {"nmnist st-lbl", kNmnist, 0, "meta-prototype", 128 * 1024, "st-lbl"},
        {"nmnist tb-lf state_io dram", kNmnist, 0, "meta-prototype", 128 * 1024, "tb-lf",
         cost::StateIo::kDram},
        {"nmnist st-lf spills", kNmnist, 0, "meta-prototype", 8 * 1024, "st-lf"},
        {"nmnist tb-lbl streams", kNmnist, 0, "meta-prototype", 2 * 1024, "tb-lbl"},
        {"sew5 tb-lf", kSew5, 0, "meta-prototype", 128 * 1024, "tb-lf"},
        {"sew5 tb-lbl state_io dram belady", kSew5, 0, "meta-prototype", 64 * 1024, "tb-lbl",
         cost::StateIo::kDram, plan::Eviction::kBelady},
        {"sew5 st-lbl spills", kSew5, 0, "meta-prototype", 16 * 1024, "st-lbl"},
        {"sew5 tb-lf streams", kSew5, 0, "meta-prototype", 4 * 1024, "tb-lf"},
        {"sew5 tb-lf quad", kSew5, 0, "meta-prototype-quad", 64 * 1024, "tb-lf",
         cost::StateIo::kZero, plan::Eviction::kStems, true},
        {"sew5 batch 2 tb-lbl", kSew5, 0, "meta-prototype", 64 * 1024, "tb-lbl",
         cost::StateIo::kZero, plan::Eviction::kStems, false, 2},
    };
    auto* out = new std::vector<std::pair<Scenario, json>>;
    for (const Scenario& s : setups) out->push_back({s, PlanSetup(s)});
    return out;
  }();
  return *clean;
}

// ------------------------------------------------------------ json helpers

int64_t I(const json& j) { return j.get<int64_t>(); }
std::string S(int64_t v) { return std::to_string(v); }

// Lookups over one (mutable) manifest.
struct View {
  explicit View(json& m) : m(m) {
    for (json& a : m["allocations"]) alloc[I(a["id"])] = &a;
    for (const json& l : m["layers"]) layer_id[l["name"]] = I(l["id"]);
  }
  const json& Holds(const json& alloc_id) { return (*alloc.at(I(alloc_id)))["holds"]; }
  const json& Layer(const json& tile) { return m["layers"][I(tile["layer_id"])]; }
  // The layer table entry of a piece's layer (null for the network input).
  const json* LayerOf(const json& piece) {
    if (piece["layer"].is_null()) return nullptr;
    return &m["layers"][layer_id.at(piece["layer"])];
  }
  bool IsOwnState(const json& tile, const json& h) {
    return h["kind"] == "state" && h["layer"] == tile["layer"] && h["sample"] == tile["sample"];
  }
  bool IsOwnOutput(const json& tile, const json& h) {
    return h["kind"] == "feature" && h["layer"] == tile["layer"] && h["t"] == tile["t"] &&
           h["rows"] == tile["rows"] && h["sample"] == tile["sample"];
  }
  // Removes the first entry of tile[key] satisfying pred; its allocation id.
  template <typename Pred>
  std::optional<int64_t> EraseFrom(json& tile, const char* key, Pred pred) {
    json& list = tile[key];
    for (size_t i = 0; i < list.size(); ++i)
      if (pred(Holds(list[i]))) {
        const int64_t id = I(list[i]);
        list.erase(i);
        return id;
      }
    return std::nullopt;
  }
  // Every place a piece appears: allocation holds, transfer tensors, stream pieces.
  template <typename Fn>
  void ForEachMention(int64_t piece, Fn fn) {
    for (json& a : m["allocations"])
      if (I(a["holds"]["piece"]) == piece) fn(a["holds"]);
    for (json& x : m["transfers"]) {
      if (x.contains("tensor") && I(x["tensor"]["piece"]) == piece) fn(x["tensor"]);
      if (x.contains("pieces"))
        for (json& p : x["pieces"])
          if (I(p["piece"]) == piece) fn(p);
    }
  }
  json* TileWriting(int64_t alloc_id) {
    for (json& t : m["tiles"])
      for (const json& w : t["writes"])
        if (I(w) == alloc_id) return &t;
    return nullptr;
  }
  json* TileNamed(const std::string& id) {
    for (json& t : m["tiles"])
      if (t["id"] == id) return &t;
    return nullptr;
  }
  json& m;
  std::map<int64_t, json*> alloc;
  std::map<std::string, int64_t> layer_id;
};

// What a corruption must be rejected with: a violation of `check` whose
// message contains every needle (the ids involved).
struct Expect {
  std::string check;
  std::vector<std::string> needles;
};
using Apply = std::function<std::optional<Expect>(json&)>;
struct Corruption {
  const char* name;
  Apply apply;  // nullopt: not applicable to this manifest
};

// DRAM copies of a piece: every load/store address and stream piece.
void MoveDram(json& m, int64_t piece, int64_t address) {
  for (json& x : m["transfers"]) {
    if ((x["direction"] == "load" || x["direction"] == "store") && I(x["tensor"]["piece"]) == piece)
      x["dram_address"] = address;
    if (x.contains("pieces"))
      for (json& p : x["pieces"])
        if (I(p["piece"]) == piece) p["dram_address"] = address;
  }
}

// The [first start, last end) of the loads and stores of a piece by cause.
struct DramUse {
  int64_t address = -1, first_store = -1, last_load_end = -1, first_load = -1;
};
std::map<int64_t, DramUse> DramUses(const json& m) {
  std::map<int64_t, DramUse> uses;
  for (const json& x : m["transfers"]) {
    if (x["direction"] != "load" && x["direction"] != "store") continue;
    DramUse& u = uses[I(x["tensor"]["piece"])];
    u.address = I(x["dram_address"]);
    if (x["direction"] == "store" && u.first_store < 0) u.first_store = I(x["start"]);
    if (x["direction"] == "load") {
      u.last_load_end = std::max(u.last_load_end, I(x["end"]));
      if (u.first_load < 0) u.first_load = I(x["start"]);
    }
  }
  return uses;
}

bool IsJoinKind(const json& layer) {
  const std::string k = layer["kind"];
  return k == "add" || k == "sew_add" || k == "sew_or" || k == "sew_and" || k == "sew_iand";
}

// ------------------------------------------------------------ corruptions

std::optional<Expect> DropHaloRead(json& m) {
  View v(m);
  for (json& t : m["tiles"]) {
    const json& layer = v.Layer(t);
    for (const json& in : layer["inputs"]) {
      if (in["rows"].is_string() || I(in["rows"]["kernel"]) < 2 || in["time"] != "same") continue;
      std::vector<size_t> same;  // reads of this producer at the tile's own time
      for (size_t i = 0; i < t["reads"].size(); ++i) {
        const json& h = v.Holds(t["reads"][i]);
        const bool of = in["layer"].is_null() ? h["kind"] == "input"
                                              : h["kind"] == "feature" &&
                                                    v.layer_id.at(h["layer"]) == I(in["layer"]);
        if (of && h["t"] == t["t"]) same.push_back(i);
      }
      if (same.size() < 2) continue;
      // The last band read is the bottom halo of the tile's window.
      t["reads"].erase(same.back());
      return Expect{"tile.receptive_field",
                    {"tile " + t["id"].get<std::string>(),
                     in["layer"].is_null() ? std::string("reads no piece of the network input")
                                           : "reads no piece of layer " + S(I(in["layer"])) + " '"}};
    }
  }
  return std::nullopt;
}

std::optional<Expect> ReadWrongTimestep(json& m) {
  View v(m);
  for (json& t : m["tiles"]) {
    if (I(t["t"][0]) == 0) continue;
    for (json& r : t["reads"]) {
      const json& h = v.Holds(r);
      if (h["kind"] != "feature" || h["t"] != t["t"]) continue;
      for (const json& a : m["allocations"]) {  // the same slice, one timestep earlier
        const json& o = a["holds"];
        if (o["kind"] == "feature" && o["layer"] == h["layer"] && o["rows"] == h["rows"] &&
            o["sample"] == h["sample"] && I(o["t"][1]) == I(h["t"][0])) {
          r = a["id"];
          return Expect{"tile.receptive_field",
                        {"tile " + t["id"].get<std::string>(), "at t [" + S(I(h["t"][0]))}};
        }
      }
    }
  }
  return std::nullopt;
}

std::optional<Expect> DropWeightRead(json& m) {
  View v(m);
  for (json& t : m["tiles"])
    if (v.EraseFrom(t, "reads", [&](const json& h) { return h["kind"] == "weights"; }))
      return Expect{"tile.weights", {"tile " + t["id"].get<std::string>(), "reads no weights"}};
  return std::nullopt;
}

std::optional<Expect> DropStateRead(json& m) {
  View v(m);
  for (json& t : m["tiles"])
    if (I(t["t"][0]) > 0 && v.EraseFrom(t, "reads", [&](const json& h) { return v.IsOwnState(t, h); }))
      return Expect{"tile.state",
                    {"tile " + t["id"].get<std::string>(), "does not read its state",
                     "left by timestep " + S(I(t["t"][0]) - 1)}};
  return std::nullopt;
}

// --state-io dram: the first timestep reads the state's initial value.
std::optional<Expect> DropInitialStateRead(json& m) {
  if (m["summary"]["state_io"] != "dram") return std::nullopt;
  View v(m);
  for (json& t : m["tiles"])
    if (I(t["t"][0]) == 0 &&
        v.EraseFrom(t, "reads", [&](const json& h) { return v.IsOwnState(t, h); }))
      return Expect{"tile.state",
                    {"tile " + t["id"].get<std::string>(), "initial value (state_io dram)"}};
  return std::nullopt;
}

std::optional<Expect> DropStateWrite(json& m) {
  View v(m);
  for (json& t : m["tiles"])
    if (v.EraseFrom(t, "writes", [&](const json& h) { return v.IsOwnState(t, h); }))
      return Expect{"tile.state", {"tile " + t["id"].get<std::string>(), "does not write its state"}};
  return std::nullopt;
}

std::optional<Expect> DropOutputWrite(json& m) {
  View v(m);
  for (json& t : m["tiles"])
    if (v.EraseFrom(t, "writes", [&](const json& h) { return v.IsOwnOutput(t, h); }))
      return Expect{"tile.output", {"tile " + t["id"].get<std::string>(), "writes no output piece"}};
  return std::nullopt;
}

// A tile also writes the output allocation of another tile of its layer.
std::optional<Expect> WriteAnotherTilesOutput(json& m) {
  View v(m);
  for (json& t : m["tiles"])
    for (const json& a : m["allocations"]) {
      const json& h = a["holds"];
      if (h["kind"] == "feature" && h["layer"] == t["layer"] && !v.IsOwnOutput(t, h) &&
          I(a["allocated_at"]) <= I(t["start"]) && I(t["end"]) <= I(a["freed_at"])) {
        t["writes"].push_back(a["id"]);
        return Expect{"tile.output",
                      {"tile " + t["id"].get<std::string>(), "piece " + S(I(h["piece"])),
                       "allocation " + S(I(a["id"]))}};
      }
    }
  return std::nullopt;
}

// A spilled feature is stored onto the DRAM bytes of another piece that
// is still to be reloaded (or read) from there.
std::optional<Expect> SpillOntoLivePiece(json& m, bool onto_weights) {
  const std::map<int64_t, DramUse> uses = DramUses(m);
  for (const json& x : m["transfers"]) {
    if (x["cause"] != "eviction_writeback" || x["tensor"]["kind"] != "feature") continue;
    const int64_t a = I(x["tensor"]["piece"]), store = I(x["start"]);
    for (const json& y : m["transfers"]) {
      if (y["direction"] != "load") continue;
      const int64_t b = I(y["tensor"]["piece"]);
      const DramUse& u = uses.at(b);
      const bool weights = y["tensor"]["kind"] == "weights";
      if (b == a || weights != onto_weights || u.last_load_end <= store) continue;
      // b's DRAM copy exists before a's store (initial or stored earlier).
      if (!weights && y["tensor"]["kind"] != "input" && (u.first_store < 0 || u.first_store >= store))
        continue;
      MoveDram(m, a, u.address);
      return Expect{"dram.overlap", {"piece " + S(a) + " (", "piece " + S(b) + " ("}};
    }
  }
  return std::nullopt;
}

std::optional<Expect> DropFinalOutputStore(json& m) {
  json& xs = m["transfers"];
  for (size_t i = 0; i < xs.size(); ++i)
    if (xs[i]["cause"] == "final_output") {
      const int64_t piece = I(xs[i]["tensor"]["piece"]);
      xs.erase(i);
      return Expect{"output.stored", {"piece " + S(piece) + " (", "never reaches DRAM"}};
    }
  return std::nullopt;
}

// Two network-input slices at one DRAM address.
std::optional<Expect> AliasInputSlices(json& m) {
  std::optional<std::pair<int64_t, int64_t>> first;  // piece, address
  for (const json& x : m["transfers"]) {
    if (x["direction"] != "load" || x["tensor"]["kind"] != "input") continue;
    const int64_t piece = I(x["tensor"]["piece"]);
    if (!first) {
      first = {piece, I(x["dram_address"])};
    } else if (piece != first->first) {
      MoveDram(m, piece, first->second);
      return Expect{"dram.overlap",
                    {"piece " + S(first->first) + " (", "piece " + S(piece) + " ("}};
    }
  }
  return std::nullopt;
}

// Two final outputs stored at one address.
std::optional<Expect> AliasFinalOutputs(json& m) {
  std::optional<std::pair<int64_t, int64_t>> first;
  for (const json& x : m["transfers"]) {
    if (x["cause"] != "final_output") continue;
    const int64_t piece = I(x["tensor"]["piece"]);
    if (!first) {
      first = {piece, I(x["dram_address"])};
    } else if (piece != first->first) {
      MoveDram(m, piece, first->second);
      return Expect{"dram.overlap",
                    {"piece " + S(first->first) + " (", "piece " + S(piece) + " ("}};
    }
  }
  return std::nullopt;
}

// A join tile (add / SEW) reads only one of its inputs on chip.
std::optional<Expect> DropJoinInput(json& m) {
  View v(m);
  for (json& t : m["tiles"]) {
    const json& layer = v.Layer(t);
    if (!IsJoinKind(layer) || layer["producers"].size() < 2) continue;
    const int64_t second = I(layer["producers"][1]);
    const std::string name = m["layers"][second]["name"];
    bool dropped = false;
    while (v.EraseFrom(t, "reads", [&](const json& h) {
      return h["kind"] == "feature" && h["layer"] == name;
    }))
      dropped = true;
    if (dropped)
      return Expect{"tile.receptive_field",
                    {"tile " + t["id"].get<std::string>(), "layer " + S(second) + " '" + name}};
  }
  return std::nullopt;
}

// A stream transfer lists only some of the input pieces its tile reads (a
// streamed join listing one of its inputs, when the plan has one).
std::optional<Expect> DropStreamedInput(json& m) {
  View v(m);
  for (int pass = 0; pass < 2; ++pass)
    for (json& x : m["transfers"]) {
      if (x["direction"] != "stream") continue;
      json* t = v.TileNamed(x["tile"]);
      if (t == nullptr) continue;
      const json& layer = v.Layer(*t);
      if (pass == 0 && !IsJoinKind(layer)) continue;
      json& ps = x["pieces"];
      for (size_t i = 0; i < ps.size(); ++i) {
        const json& p = ps[i];
        if (p["kind"] == "input" || (p["kind"] == "feature" && p["layer"] != (*t)["layer"])) {
          const std::string piece = S(I(p["piece"]));
          ps.erase(i);
          return Expect{"tile.receptive_field",
                        {"tile " + (*t)["id"].get<std::string>(), "reads no piece of"}};
        }
      }
    }
  return std::nullopt;
}

std::optional<Expect> DropStreamedWeights(json& m) {
  View v(m);
  for (json& x : m["transfers"]) {
    if (x["direction"] != "stream") continue;
    json& ps = x["pieces"];
    for (size_t i = 0; i < ps.size(); ++i)
      if (ps[i]["kind"] == "weights") {
        ps.erase(i);
        return Expect{"tile.weights", {"tile " + x["tile"].get<std::string>(), "reads no weights"}};
      }
  }
  return std::nullopt;
}

bool LiveTogether(const json& a, const json& b) {
  return I(a["allocated_at"]) < I(b["freed_at"]) && I(b["allocated_at"]) < I(a["freed_at"]) &&
         a["core"] == b["core"];
}

std::optional<Expect> ShiftAllocationOntoAnother(json& m) {
  json& as = m["allocations"];
  for (size_t i = 0; i < as.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      if (LiveTogether(as[i], as[j]) && as[i]["offset"] != as[j]["offset"]) {
        as[i]["offset"] = as[j]["offset"];
        return Expect{"allocation.overlap",
                      {"allocations " + S(I(as[j]["id"])), " and " + S(I(as[i]["id"])) + " ["}};
      }
  return std::nullopt;
}

std::optional<Expect> ShortenTransfer(json& m) {
  for (json& x : m["transfers"])
    if (x["direction"] == "load" && I(x["end"]) > I(x["start"])) {
      x["end"] = x["start"];
      return Expect{"link.bandwidth", {"transfer " + S(I(x["id"])) + " moves"}};
    }
  return std::nullopt;
}

// A consumer tile is moved to start before the tile producing its input ends.
std::optional<Expect> StartBeforeProducer(json& m) {
  View v(m);
  for (json& t : m["tiles"])
    for (const json& r : t["reads"]) {
      if (v.Holds(r)["kind"] != "feature") continue;
      json* producer = nullptr;
      for (const json& a : m["allocations"])  // the tile that wrote this piece
        if (a["holds"]["piece"] == v.Holds(r)["piece"])
          if ((producer = v.TileWriting(I(a["id"]))) != nullptr) break;
      if (producer == nullptr || (*producer)["core"] != t["core"]) continue;
      const int64_t len = I(t["end"]) - I(t["start"]);
      t["start"] = I((*producer)["end"]) - 1;
      t["end"] = I(t["start"]) + len;
      return Expect{"dependency.data",
                    {"tile " + t["id"].get<std::string>(),
                     "before its producer " + (*producer)["id"].get<std::string>()}};
    }
  return std::nullopt;
}

// Two tiles of one core swapped in the execution order.
std::optional<Expect> SwapTilesInOrder(json& m) {
  json& ts = m["tiles"];
  for (size_t i = 0; i + 1 < ts.size(); ++i)
    if (ts[i]["core"] == ts[i + 1]["core"] && I(ts[i]["end"]) > I(ts[i]["start"])) {
      std::swap(ts[i], ts[i + 1]);
      ts[i]["index"] = i;
      ts[i + 1]["index"] = i + 1;
      return Expect{"tile.overlap", {"tile " + ts[i + 1]["id"].get<std::string>(),
                                     "previous tile " + ts[i]["id"].get<std::string>()}};
    }
  return std::nullopt;
}

// A feature piece claims (everywhere) to belong to another layer.
std::optional<Expect> ChangePieceLayer(json& m) {
  View v(m);
  const json& layers = m["layers"];
  for (const json& t : m["tiles"])
    for (const json& w : t["writes"]) {
      const json& h = v.Holds(w);
      if (h["kind"] != "feature") continue;
      const int64_t own = I(t["layer_id"]);
      const std::string other = layers[own == 0 ? 1 : own - 1]["name"];
      const int64_t piece = I(h["piece"]);
      v.ForEachMention(piece, [&](json& p) { p["layer"] = other; });
      return Expect{"tile.output", {"tile " + t["id"].get<std::string>(), "piece " + S(piece) + " ("}};
    }
  return std::nullopt;
}

// A piece claims another time range in one allocation only (one of a
// piece that is also stored or loaded).
std::optional<Expect> ChangePieceTimeInOneAllocation(json& m) {
  std::set<int64_t> moved;
  for (const json& x : m["transfers"])
    if (x.contains("tensor")) moved.insert(I(x["tensor"]["piece"]));
  for (json& a : m["allocations"])
    if (a["holds"]["kind"] == "feature" && I(a["holds"]["t"][0]) > 0 &&
        moved.count(I(a["holds"]["piece"]))) {
      a["holds"]["t"][0] = I(a["holds"]["t"][0]) - 1;
      return Expect{"piece.identity", {"allocation " + S(I(a["id"])) + " names piece"}};
    }
  return std::nullopt;
}

// A whole tile is missing from the manifest (indexes renumbered).
std::optional<Expect> DropTile(json& m) {
  json& ts = m["tiles"];
  for (size_t i = 0; i < ts.size(); ++i) {
    const json& t = ts[i];
    if (I(t["layer_id"]) == 0) continue;
    const std::string id = t["id"];
    const int64_t layer = I(t["layer_id"]);
    ts.erase(i);
    for (size_t k = i; k < ts.size(); ++k) ts[k]["index"] = k;
    json& xs = m["transfers"];
    for (size_t k = 0; k < xs.size(); ++k)
      if (xs[k]["direction"] == "stream" && xs[k]["tile"] == id) xs.erase(k--);
    return Expect{"tile.coverage", {"layer " + S(layer) + " '"}};
  }
  return std::nullopt;
}

// A tile computes one row fewer than its band (its id unchanged).
std::optional<Expect> ShrinkTileRows(json& m) {
  for (json& t : m["tiles"])
    if (I(t["rows"][1]) - I(t["rows"][0]) >= 2) {
      t["rows"][1] = I(t["rows"][1]) - 1;
      return Expect{"tile.coverage", {"layer " + S(I(t["layer_id"])) + " '", "computed by no tile"}};
    }
  return std::nullopt;
}

template <typename Pred>
std::optional<int64_t> EraseTransfer(json& m, Pred pred) {
  json& xs = m["transfers"];
  for (size_t i = 0; i < xs.size(); ++i)
    if (pred(xs[i])) {
      const int64_t alloc = xs[i].contains("allocation") ? I(xs[i]["allocation"])
                            : xs[i].contains("dst_allocation") ? I(xs[i]["dst_allocation"])
                                                               : -1;
      xs.erase(i);
      return alloc;
    }
  return std::nullopt;
}

std::optional<Expect> DropTransferOfCause(json& m, const char* direction, const char* cause,
                                          const char* kind) {
  const auto alloc = EraseTransfer(m, [&](const json& x) {
    return x["direction"] == direction && x["cause"] == cause &&
           (kind == nullptr || x["tensor"]["kind"] == kind);
  });
  if (!alloc) return std::nullopt;
  return Expect{"data.missing", {"allocation " + S(*alloc) + " ("}};
}

std::optional<Expect> DropStateFinal(json& m) {
  json& xs = m["transfers"];
  for (size_t i = 0; i < xs.size(); ++i)
    if (xs[i]["cause"] == "state_final") {
      const int64_t piece = I(xs[i]["tensor"]["piece"]);
      xs.erase(i);
      return Expect{"state.final", {"piece " + S(piece) + " (", "never stored"}};
    }
  return std::nullopt;
}

std::optional<Expect> DramAddressOutsideRegions(json& m) {
  for (json& x : m["transfers"])
    if (x["direction"] == "load") {
      x["dram_address"] = int64_t{1} << 40;
      return Expect{"dram.address", {"transfer " + S(I(x["id"])) + ": piece"}};
    }
  return std::nullopt;
}

std::optional<Expect> ReloadFromAnotherAddress(json& m) {
  for (json& x : m["transfers"])
    if (x["cause"] == "reload") {
      x["dram_address"] = I(x["dram_address"]) + 64;
      return Expect{"dram.piece_address", {"transfer " + S(I(x["id"])) + " moves piece"}};
    }
  return std::nullopt;
}

std::optional<Expect> StoreBeforeProducer(json& m) {
  View v(m);
  for (json& x : m["transfers"]) {
    if (x["direction"] != "store" || x["tensor"]["kind"] != "feature") continue;
    json* producer = v.TileWriting(I(x["allocation"]));
    if (producer == nullptr || I((*producer)["end"]) < 2) continue;
    const int64_t len = I(x["end"]) - I(x["start"]);
    x["end"] = I((*producer)["end"]) - 1;
    x["start"] = std::max<int64_t>(0, I(x["end"]) - len);
    return Expect{"store.early", {"store " + S(I(x["id"])) + " of piece"}};
  }
  return std::nullopt;
}

std::optional<Expect> TransferOntoAnother(json& m) {
  json& xs = m["transfers"];
  for (size_t i = 1; i < xs.size(); ++i)
    if (xs[i]["direction"] != "noc" && xs[0]["direction"] != "noc") {
      const int64_t len = I(xs[i]["end"]) - I(xs[i]["start"]);
      xs[i]["start"] = xs[0]["start"];
      xs[i]["end"] = I(xs[0]["start"]) + std::max<int64_t>(1, len);
      return Expect{"link.overlap", {"transfers " + S(I(xs[0]["id"])), " and " + S(I(xs[i]["id"]))}};
    }
  return std::nullopt;
}

std::optional<Expect> MemoryShrunk(json& m) {
  for (json& core : m["hardware"]["cores"]) core["memories"].back()["size_bits"] = 64 * 8;
  return Expect{"allocation.bounds", {"lies outside memory", "of 64 bytes"}};
}

std::optional<Expect> SummaryBytesEdited(json& m) {
  json& d = m["summary"]["dram_bytes"];
  d["total"] = I(d["total"]) + 64;
  return Expect{"summary.bytes", {"summary.dram_bytes.total is"}};
}

std::optional<Expect> TileEnergyEdited(json& m) {
  json& e = m["tiles"][0]["energy_pj"];
  e["compute"] = e["compute"].get<double>() * 2 + 1;
  e["total"] = e["compute"].get<double>() + e["local"].get<double>() + e["sram"].get<double>() +
               e["dram"].get<double>();
  return Expect{"summary.energy", {"summary.energy_pj.compute is"}};
}

// A stateful tile reads the state of another band of its layer.
std::optional<Expect> ReadAnotherBandsState(json& m) {
  View v(m);
  for (json& t : m["tiles"])
    for (json& r : t["reads"]) {
      const json& h = v.Holds(r);
      if (!v.IsOwnState(t, h)) continue;
      for (const json& a : m["allocations"])
        if (a["holds"]["kind"] == "state" && a["holds"]["layer"] == t["layer"] &&
            a["holds"]["rows"] != t["rows"]) {
          r = a["id"];
          return Expect{"tile.state",
                        {"tile " + t["id"].get<std::string>(),
                         "piece " + S(I(a["holds"]["piece"])) + " (", "which is not its state"}};
        }
    }
  return std::nullopt;
}

// A tile of sample 1 reads its producer's slice of sample 0.
std::optional<Expect> ReadAnotherSample(json& m) {
  View v(m);
  for (json& t : m["tiles"]) {
    if (I(t["sample"]) == 0) continue;
    for (json& r : t["reads"]) {
      const json& h = v.Holds(r);
      if (h["kind"] != "feature") continue;
      for (const json& a : m["allocations"]) {
        const json& o = a["holds"];
        if (o["kind"] == "feature" && o["layer"] == h["layer"] && o["t"] == h["t"] &&
            o["rows"] == h["rows"] && o["sample"] != h["sample"]) {
          r = a["id"];
          return Expect{"tile.foreign_read",
                        {"tile " + t["id"].get<std::string>(),
                         "piece " + S(I(o["piece"])) + " (", "another sample"}};
        }
      }
    }
  }
  return std::nullopt;
}

// A tile reads another layer's weights instead of its own.
std::optional<Expect> ReadAnotherLayersWeights(json& m) {
  View v(m);
  for (json& t : m["tiles"])
    for (json& r : t["reads"]) {
      if (v.Holds(r)["kind"] != "weights") continue;
      for (const json& a : m["allocations"])
        if (a["holds"]["kind"] == "weights" && a["holds"]["layer"] != t["layer"]) {
          r = a["id"];
          return Expect{"tile.foreign_read",
                        {"tile " + t["id"].get<std::string>(),
                         "piece " + S(I(a["holds"]["piece"])) + " (", "weights of another layer"}};
        }
    }
  return std::nullopt;
}

std::optional<Expect> FreeAllocationEarly(json& m) {
  View v(m);
  for (const json& t : m["tiles"])
    for (const json& r : t["reads"]) {
      json& a = *v.alloc.at(I(r));
      if (I(a["allocated_at"]) + 1 >= I(t["start"])) continue;
      a["freed_at"] = I(a["allocated_at"]) + 1;
      return Expect{"data.not_live", {"tile " + t["id"].get<std::string>(),
                                      "allocation " + S(I(a["id"])) + " ("}};
    }
  return std::nullopt;
}

std::optional<Expect> TileOnAnotherCore(json& m) {
  if (m["hardware"]["cores"].size() < 2) return std::nullopt;
  json& t = m["tiles"][0];
  const int64_t other = I(m["hardware"]["cores"][I(t["core"]) == 0 ? 1 : 0]["id"]);
  t["core"] = other;
  return Expect{"tile.core", {"tile " + t["id"].get<std::string>() + " runs on core " + S(other)}};
}

std::optional<Expect> NocRouteBent(json& m) {
  for (json& x : m["transfers"])
    if (x["direction"] == "noc" && x["route"].size() >= 2) {
      x["route"].back()[0] = I(x["route"].back()[0]) + 5;
      return Expect{"noc.route", {"transfer " + S(I(x["id"]))}};
    }
  return std::nullopt;
}

// The layer table swaps two layers' names.
std::optional<Expect> LayerNamesSwapped(json& m) {
  json& l = m["layers"];
  if (l.size() < 2) return std::nullopt;
  std::swap(l[0]["name"], l[1]["name"]);
  for (const json& t : m["tiles"])
    if (I(t["layer_id"]) == 0)
      return Expect{"tile.layer", {"tile " + t["id"].get<std::string>() + " names layer"}};
  return std::nullopt;
}

// The layer table forgets one input of a join, and its producers list
// agrees: the join's reads of that producer are then not its inputs.
std::optional<Expect> TableDropsJoinInput(json& m) {
  for (json& l : m["layers"]) {
    if (!IsJoinKind(l) || l["producers"].size() < 2) continue;
    const int64_t dropped = I(l["producers"][1]);
    json& ins = l["inputs"];
    for (size_t i = 0; i < ins.size(); ++i)
      if (!ins[i]["layer"].is_null() && I(ins[i]["layer"]) == dropped) ins.erase(i--);
    l["producers"].erase(1);
    return Expect{"tile.foreign_read", {"(layer " + S(I(l["id"])) + " '", "not an input of its layer"}};
  }
  return std::nullopt;
}

// The table says a layer reads a window one row narrower than it does
// while its producer list names a layer that is not among its inputs.
std::optional<Expect> TableProducersInconsistent(json& m) {
  for (json& l : m["layers"])
    if (I(l["id"]) > 1 && !l["producers"].empty()) {
      l["producers"][0] = I(l["producers"][0]) == 0 ? 1 : 0;
      return Expect{"layers.table", {"layers[" + S(I(l["id"])) + "]", "producers"}};
    }
  return std::nullopt;
}

std::optional<Expect> ModelLayerCountEdited(json& m) {
  m["model"]["layers"] = I(m["model"]["layers"]) + 1;
  return Expect{"layers.table", {"model.layers is", "but `layers` lists"}};
}

// A stateful tile's state allocation replaced, in reads and writes, by a
// fresh copy of its output: it neither reads nor writes its state.
std::optional<Expect> StateReplacedByFeature(json& m) {
  View v(m);
  for (json& t : m["tiles"]) {
    if (I(t["t"][0]) == 0 || !v.Layer(t)["stateful"].get<bool>()) continue;
    std::optional<int64_t> out;
    for (const json& w : t["writes"])
      if (v.IsOwnOutput(t, v.Holds(w))) out = I(w);
    if (!out) continue;
    bool changed = false;
    for (const char* key : {"reads", "writes"})
      for (json& r : t[key])
        if (v.IsOwnState(t, v.Holds(r))) {
          r = *out;
          changed = true;
        }
    if (changed)
      return Expect{"tile.state", {"tile " + t["id"].get<std::string>(), "does not write its state"}};
  }
  return std::nullopt;
}

// ------------------------------------------- schema 4: descriptive parts

// The stream of a tile: its tile id and the tile.
json* StreamOf(json& m, const std::function<bool(const json&)>& pred) {
  for (json& x : m["transfers"])
    if (x["direction"] == "stream" && pred(x)) return &x;
  return nullptr;
}

// A stream's only descriptor of operand `op` dropped, and its operand and
// stream totals lowered to match (the summary is left alone): the tile never
// fetches that piece although `pieces` lists it.
std::optional<Expect> DropStreamDescriptor(json& m, const char* op) {
  View v(m);
  for (json& x : m["transfers"]) {
    if (x["direction"] != "stream") continue;
    // A first-step state read under on-chip initial state is the init
    // marker itself: without it the tile starts from its initial state.
    const json* t = v.TileNamed(x["tile"]);
    if (std::string(op) == "S" &&
        (t == nullptr || (I((*t)["t"][0]) == 0 && m["summary"]["state_io"] != "dram")))
      continue;
    json& ds = x["descriptors"];
    int count = 0;
    size_t at = 0;
    for (size_t i = 0; i < ds.size(); ++i)
      if (ds[i]["operand"] == op && ds[i]["direction"] == "read") ++count, at = i;
    if (count != 1) continue;
    const int64_t n = I(ds[at]["bytes"]) * I(ds[at]["repeat"]);
    ds.erase(at);
    x["operands"][op]["read_bytes"] = I(x["operands"][op]["read_bytes"]) - n;
    x["bytes"] = I(x["bytes"]) - n;
    const std::string tile = x["tile"];
    if (std::string(op) == "W") return Expect{"tile.weights", {"tile " + tile, "reads no weights"}};
    if (std::string(op) == "I")
      return Expect{"tile.receptive_field",
                    {"stream " + S(I(x["id"])) + " of tile " + tile, "operand I"}};
    return Expect{"tile.state", {"tile " + tile, "does not read its state"}};
  }
  return std::nullopt;
}

// A stream's descriptors in reverse order (writes before reads).
std::optional<Expect> ReverseStreamDescriptors(json& m) {
  json* x = StreamOf(m, [](const json& x) {
    const json& ds = x["descriptors"];
    return ds.size() >= 2 && ds.front() != ds.back();
  });
  if (x == nullptr) return std::nullopt;
  json& ds = (*x)["descriptors"];
  std::reverse(ds.begin(), ds.end());
  return Expect{"stream.descriptor",
                {"stream " + S(I((*x)["id"])) + " (tile " + (*x)["tile"].get<std::string>(),
                 "canonical DMA sequence"}};
}

// A state read of a tile after timestep 0 marked `init`: the firmware
// would reset the state every step.
std::optional<Expect> InitOnLaterStateRead(json& m) {
  View v(m);
  for (json& x : m["transfers"]) {
    if (x["direction"] != "stream") continue;
    const json* t = v.TileNamed(x["tile"]);
    if (t == nullptr || I((*t)["t"][0]) == 0) continue;
    for (json& d : x["descriptors"])
      if (d["operand"] == "S" && d["direction"] == "read") {
        d["init"] = "zero";
        return Expect{
            "stream.descriptor",
            {"stream " + S(I(x["id"])) + " (tile " + x["tile"].get<std::string>(), "init zero"}};
      }
  }
  return std::nullopt;
}

// A feature piece 8 bytes smaller everywhere it appears (allocations,
// transfers, stream pieces): it no longer holds its layout.
std::optional<Expect> PieceBytesSmaller(json& m) {
  for (const json& a : m["allocations"]) {
    const json& h = a["holds"];
    if (h["kind"] != "feature" || I(a["bytes"]) <= 8) continue;
    const int64_t piece = I(h["piece"]);
    const int64_t bytes = I(a["bytes"]) - 8;
    View v(m);
    for (json& al : m["allocations"])
      if (I(al["holds"]["piece"]) == piece) al["bytes"] = bytes;
    for (json& x : m["transfers"]) {
      if (x.contains("tensor") && I(x["tensor"]["piece"]) == piece) x["bytes"] = bytes;
      if (x.contains("pieces"))
        for (json& p : x["pieces"])
          if (I(p["piece"]) == piece) p["bytes"] = bytes;
    }
    return Expect{"piece.bytes", {"piece " + S(piece) + " (", "its layout"}};
  }
  return std::nullopt;
}

// A spilled piece's DRAM address moved by 3 bytes everywhere.
std::optional<Expect> DramAddressMisaligned(json& m) {
  for (const json& x : m["transfers"])
    if (x["direction"] == "store" && x["cause"] == "eviction_writeback") {
      const int64_t piece = I(x["tensor"]["piece"]);
      MoveDram(m, piece, I(x["dram_address"]) + 3);
      return Expect{"piece.align", {"transfer " + S(I(x["id"])), "granularity boundary"}};
    }
  return std::nullopt;
}

std::optional<Expect> TileColsTruncated(json& m) {
  json& t = m["tiles"][m["tiles"].size() / 2];
  t["cols"][1] = I(t["cols"][1]) - 1;
  return Expect{"tile.cols", {"tile " + t["id"].get<std::string>(), "computes columns"}};
}

std::optional<Expect> TileChannelsBeyondK(json& m) {
  json& t = m["tiles"][0];
  t["channels"][1] = I(t["channels"][1]) + 1;
  return Expect{"tile.channels", {"tile " + t["id"].get<std::string>(), "computes channels"}};
}

// The parameter block of a stateful layer removed.
std::optional<Expect> ParamBlockRemoved(json& m) {
  json& ps = m["parameters"];
  for (size_t i = 0; i < ps.size(); ++i) {
    const int64_t layer = I(ps[i]["layer_id"]);
    if (!m["layers"][layer]["stateful"].get<bool>()) continue;
    ps.erase(i);
    return Expect{"params.missing", {"layer " + S(layer) + " '", "no parameter block"}};
  }
  return std::nullopt;
}

// A block's first field (the bias when the model's parameters were loaded,
// else a neuron parameter) one value longer, later offsets and the block's
// bytes following: the count no longer is what the layout gives.
std::optional<Expect> ParamFieldCountWrong(json& m) {
  for (json& p : m["parameters"]) {
    json& fs = p["fields"];
    if (fs.empty()) continue;
    fs[0]["count"] = I(fs[0]["count"]) + 1;
    for (size_t i = 1; i < fs.size(); ++i) fs[i]["offset"] = I(fs[i]["offset"]) + 8;
    p["bytes"] = I(p["bytes"]) + 8;
    return Expect{"params.fields",
                  {"parameters of layer " + S(I(p["layer_id"])),
                   "field " + fs[0]["name"].get<std::string>(), "needs"}};
  }
  return std::nullopt;
}

// A block named for another layer, and one sent to another core.
std::optional<Expect> ParamLayerNameWrong(json& m) {
  json& ps = m["parameters"];
  if (ps.size() < 2) return std::nullopt;
  ps[0]["layer"] = ps[1]["layer"];
  return Expect{"params.layer", {"parameters of layer " + S(I(ps[0]["layer_id"])), "name layer"}};
}
std::optional<Expect> ParamCoreWrong(json& m) {
  if (m["hardware"]["cores"].size() < 2) return std::nullopt;
  json& p = m["parameters"][0];
  const json& cores = m["hardware"]["cores"];
  p["core"] = I(cores[I(p["core"]) == I(cores[0]["id"]) ? 1 : 0]["id"]);
  return Expect{"params.core", {"parameters of layer " + S(I(p["layer_id"])), "go to core"}};
}

// A spill stored into the weights region (after the weights' last read):
// the next inference would run on it.
std::optional<Expect> SpillIntoWeights(json& m) {
  for (json& x : m["transfers"])
    if (x["direction"] == "store" && x["cause"] == "eviction_writeback") {
      MoveDram(m, I(x["tensor"]["piece"]), 0);
      return Expect{"dram.weights_written", {"transfer " + S(I(x["id"])), "weights region"}};
    }
  return std::nullopt;
}

// An input slice claims timesteps beyond T; one is removed.
std::optional<Expect> InputSliceTimeWrong(json& m) {
  json& s = m["network_io"]["inputs"][0];
  s["t"][1] = I(s["t"][1]) + 1;
  return Expect{"io.input", {"network_io.inputs[0] (piece " + S(I(s["piece"])) + ")"}};
}
std::optional<Expect> InputSliceRemoved(json& m) {
  json& ins = m["network_io"]["inputs"];
  const int64_t piece = I(ins.back()["piece"]);
  ins.erase(ins.size() - 1);
  return Expect{"io.input", {"piece " + S(piece) + " (", "no slice of it"}};
}
std::optional<Expect> OutputSliceLayerWrong(json& m) {
  json& s = m["network_io"]["outputs"][0];
  s["layer_id"] = 0;
  return Expect{"io.output", {"network_io.outputs[0] (piece " + S(I(s["piece"])) + ")"}};
}
std::optional<Expect> InitialStateSliceRemoved(json& m) {
  json& sl = m["initial_state"]["slices"];
  if (sl.empty()) return std::nullopt;
  const int64_t piece = I(sl.back()["piece"]);
  sl.erase(sl.size() - 1);
  return Expect{"state.slices", {"piece " + S(piece) + " (", "no initial_state slice"}};
}

// graph_outputs names a layer that does not exist; a non-output layer is
// flagged network_output.
std::optional<Expect> GraphOutputLayerOutOfRange(json& m) {
  for (json& g : m["graph_outputs"])
    if (!g["layer_id"].is_null()) {
      g["layer_id"] = 999;
      return Expect{"graph_output", {"graph output " + g["name"].get<std::string>(), "999"}};
    }
  return std::nullopt;
}
std::optional<Expect> NetworkOutputFlagSet(json& m) {
  json& l = m["layers"][0];
  if (l["network_output"].get<bool>()) return std::nullopt;
  l["network_output"] = true;
  return Expect{"io.output", {"of network-output layer 0", "no network_io.outputs slice"}};
}

std::optional<Expect> RegionContentsWrong(json& m) {
  for (json& r : m["dram_layout"])
    if (r["name"] == "input") {
      r["initial_contents"] = "nothing";
      return Expect{"dram.regions", {"region input", "network_input"}};
    }
  return std::nullopt;
}

// The layer table's kernel one smaller (the tiles' reads unchanged): OY no
// longer follows from input_rows.
std::optional<Expect> TableKernelNarrower(json& m) {
  for (json& l : m["layers"])
    for (json& in : l["inputs"])
      if (in["rows"].is_object() && I(in["rows"]["kernel"]) >= 2) {
        in["rows"]["kernel"] = I(in["rows"]["kernel"]) - 1;
        return Expect{"layers.geometry", {"layers[" + S(I(l["id"])) + "] '", "output rows"}};
      }
  return std::nullopt;
}

std::optional<Expect> TileEnergyNegative(json& m) {
  json& t = m["tiles"][0];
  t["energy_pj"]["local"] = -t["energy_pj"]["local"].get<double>() - 1;
  return Expect{"tile.energy", {"tile " + t["id"].get<std::string>(), "negative"}};
}

std::optional<Expect> TileIdTextWrong(json& m) {
  json& t = m["tiles"][0];
  const std::string old = t["id"];
  const std::string renamed = "L" + S(I(t["layer_id"]) + 90) + old.substr(old.find('.'));
  t["id"] = renamed;
  for (json& x : m["transfers"])
    if (x.contains("tile") && x["tile"] == old) x["tile"] = renamed;
  return Expect{"tile.id", {"tile " + renamed, "has the fields of tile " + old}};
}

const std::vector<Corruption>& Corruptions() {
  static const std::vector<Corruption> all = {
      {"halo row band dropped from a tile's reads", DropHaloRead},
      {"read of the wrong timestep", ReadWrongTimestep},
      {"weight read removed", DropWeightRead},
      {"state read removed", DropStateRead},
      {"initial state read removed (state_io dram)", DropInitialStateRead},
      {"state write removed", DropStateWrite},
      {"output write removed", DropOutputWrite},
      {"another tile's output written too", WriteAnotherTilesOutput},
      {"spill stored onto a piece awaiting reload",
       [](json& m) { return SpillOntoLivePiece(m, false); }},
      {"spill stored onto weights still to be loaded",
       [](json& m) { return SpillOntoLivePiece(m, true); }},
      {"final_output store dropped", DropFinalOutputStore},
      {"two input slices at one DRAM address", AliasInputSlices},
      {"two network outputs at one DRAM address", AliasFinalOutputs},
      {"join reads only one input", DropJoinInput},
      {"stream lists only some of its inputs", DropStreamedInput},
      {"stream drops its weights", DropStreamedWeights},
      {"allocation offset shifted onto a live one", ShiftAllocationOntoAnother},
      {"transfer shortened below the bandwidth", ShortenTransfer},
      {"tile starts before its producer ends", StartBeforeProducer},
      {"two tiles swapped in the order", SwapTilesInOrder},
      {"piece relabelled to another layer", ChangePieceLayer},
      {"piece time edited in one allocation", ChangePieceTimeInOneAllocation},
      {"tile dropped", DropTile},
      {"tile rows shrunk", ShrinkTileRows},
      {"reload dropped", [](json& m) { return DropTransferOfCause(m, "load", "reload", nullptr); }},
      {"weights load dropped",
       [](json& m) { return DropTransferOfCause(m, "load", "first_use", "weights"); }},
      {"network input load dropped",
       [](json& m) { return DropTransferOfCause(m, "load", "first_use", "input"); }},
      {"state_init load dropped",
       [](json& m) { return DropTransferOfCause(m, "load", "state_init", nullptr); }},
      {"noc copy dropped",
       [](json& m) { return DropTransferOfCause(m, "noc", "first_use", nullptr); }},
      {"state_final store dropped", DropStateFinal},
      {"DRAM address outside every region", DramAddressOutsideRegions},
      {"reload from another address", ReloadFromAnotherAddress},
      {"store before its producer ends", StoreBeforeProducer},
      {"two transfers on the link at once", TransferOntoAnother},
      {"global buffer shrunk", MemoryShrunk},
      {"summary bytes edited", SummaryBytesEdited},
      {"tile energy edited", TileEnergyEdited},
      {"state of another band read", ReadAnotherBandsState},
      {"another layer's weights read", ReadAnotherLayersWeights},
      {"producer slice of another sample read", ReadAnotherSample},
      {"allocation freed before its reader", FreeAllocationEarly},
      {"tile on another core", TileOnAnotherCore},
      {"noc route bent", NocRouteBent},
      {"layer table names swapped", LayerNamesSwapped},
      {"layer table forgets a join input", TableDropsJoinInput},
      {"layer table producers inconsistent", TableProducersInconsistent},
      {"model.layers edited", ModelLayerCountEdited},
      {"state replaced by the output", StateReplacedByFeature},
      {"stream W descriptor dropped, totals lowered",
       [](json& m) { return DropStreamDescriptor(m, "W"); }},
      {"stream I descriptor dropped, totals lowered",
       [](json& m) { return DropStreamDescriptor(m, "I"); }},
      {"stream S descriptor dropped, totals lowered",
       [](json& m) { return DropStreamDescriptor(m, "S"); }},
      {"stream descriptors reversed", ReverseStreamDescriptors},
      {"init on a later state read", InitOnLaterStateRead},
      {"piece 8 bytes smaller everywhere", PieceBytesSmaller},
      {"spilled piece's DRAM address misaligned", DramAddressMisaligned},
      {"tile columns truncated", TileColsTruncated},
      {"tile channels beyond K", TileChannelsBeyondK},
      {"parameter block of a stateful layer removed", ParamBlockRemoved},
      {"parameter field count wrong", ParamFieldCountWrong},
      {"parameter block names another layer", ParamLayerNameWrong},
      {"parameter block on another core", ParamCoreWrong},
      {"spill stored into the weights region", SpillIntoWeights},
      {"input slice beyond T", InputSliceTimeWrong},
      {"input slice removed", InputSliceRemoved},
      {"output slice of another layer", OutputSliceLayerWrong},
      {"initial_state slice removed", InitialStateSliceRemoved},
      {"graph output names no layer", GraphOutputLayerOutOfRange},
      {"network_output flag on another layer", NetworkOutputFlagSet},
      {"input region initial_contents wrong", RegionContentsWrong},
      {"layer table kernel narrower", TableKernelNarrower},
      {"negative tile energy", TileEnergyNegative},
      {"tile id text inconsistent", TileIdTextWrong},
  };
  return all;
}

::testing::AssertionResult Rejected(const std::vector<Violation>& v, const Expect& e) {
  for (const Violation& x : v) {
    if (x.check != e.check) continue;
    bool all = true;
    for (const std::string& n : e.needles) all &= x.message.find(n) != std::string::npos;
    if (all) return ::testing::AssertionSuccess();
  }
  std::string needles;
  for (const std::string& n : e.needles) needles += " '" + n + "'";
  return ::testing::AssertionFailure() << "no [" << e.check << "] containing" << needles
                                       << " in:\n" << Join(v, 12);
}

// `snnplan validate FILE`: exit code and combined output.
std::pair<int, std::string> RunValidate(const std::string& file) {
  const std::string cmd = std::string("'") + SNNPLAN_BINARY + "' validate '" + file + "' 2>&1";
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (pipe == nullptr) return {-1, ""};
  std::string out;
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof(buf), pipe)) > 0;) out.append(buf, n);
  const int status = ::pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

TEST(Corruption, CleanManifestsAreValid) {
  std::set<std::string> causes;
  bool noc = false;
  for (const auto& [setup, m] : Clean()) {
    SCOPED_TRACE(setup.name);
    ASSERT_FALSE(m.is_null());
    EXPECT_EQ(m["schema_version"], 4);
    std::vector<Violation> v = Check(m);
    EXPECT_TRUE(v.empty()) << Join(v);
    for (const json& x : m["transfers"]) {
      causes.insert(x["cause"]);
      noc |= x["direction"] == "noc";
    }
  }
  // The setups really spill, reload, stream and cross cores.
  for (const char* cause : {"eviction_writeback", "reload", "stream", "final_output", "state_init",
                            "state_final"})
    EXPECT_TRUE(causes.count(cause)) << cause;
  EXPECT_TRUE(noc);
}

TEST(Corruption, EveryKindIsRejectedNamingTheIds) {
  ASSERT_GE(Corruptions().size(), 30u);
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("snnplan_corruption_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  for (const Corruption& c : Corruptions()) {
    SCOPED_TRACE(c.name);
    int applied = 0;
    for (const auto& [setup, clean] : Clean()) {
      if (clean.is_null()) continue;
      SCOPED_TRACE(setup.name);
      json m = clean;
      const std::optional<Expect> e = c.apply(m);
      if (!e) continue;
      ++applied;
      absl::StatusOr<std::vector<Violation>> v = Validate(m);
      ASSERT_TRUE(v.ok()) << "a corruption must stay well-formed: " << v.status();
      EXPECT_TRUE(Rejected(*v, *e));
      if (applied > 1) continue;
      // The CLI rejects it with exit 1 and prints the same message.
      const std::string file = (dir / "corrupt.json").string();
      std::ofstream(file) << m.dump();
      const auto [code, out] = RunValidate(file);
      EXPECT_EQ(code, 1) << out.substr(0, 2000);
      EXPECT_NE(out.find("[" + e->check + "]"), std::string::npos) << out.substr(0, 2000);
      for (const std::string& n : e->needles)
        EXPECT_NE(out.find(n), std::string::npos) << n << "\n" << out.substr(0, 2000);
    }
    EXPECT_GT(applied, 0) << "no setup to apply '" << c.name << "' to";
    std::printf("[ corrupt  ] %-48s rejected in %d of %zu setups\n", c.name, applied,
                Clean().size());
  }
  std::filesystem::remove_all(dir);
}

// Version 2 manifests have no `layers` and validate as before: the same
// manifest without its table is clean, and a tile that reads no weights is
// then invisible (what version 3 adds).
TEST(Corruption, VersionTwoWithoutLayersValidatesAsBefore) {
  const json& clean = Clean().front().second;
  ASSERT_FALSE(clean.is_null());
  json m = clean;
  m["schema_version"] = 2;
  DowngradeOperands(m);
  m.erase("layers");
  std::vector<Violation> v = Check(m);
  EXPECT_TRUE(v.empty()) << Join(v);
  json v3 = clean;
  ASSERT_TRUE(DropWeightRead(v3));
  EXPECT_TRUE(HasViolation(Check(v3), "tile.weights", "reads no weights"));
  json v2 = v3;
  v2["schema_version"] = 2;
  DowngradeOperands(v2);
  v2.erase("layers");
  v = Check(v2);
  EXPECT_TRUE(v.empty()) << Join(v);
}

// --model: a layer table that lies consistently (a pooling window narrowed
// from 2 to 1 keeps OY = 13 from 26 rows at stride 2, so the table's own
// geometry holds and the tiles' reads still cover it) is caught against the
// model (model.table), and the clean manifest has no such violation.
TEST(Corruption, ModelChecksTheLayerTable) {
  const json& clean = Clean().front().second;  // nmnist st-lbl
  ASSERT_FALSE(clean.is_null());
  absl::StatusOr<ir::Workload> w = importer::ImportFile(ModelPath(kNmnist), {});
  ASSERT_TRUE(w.ok()) << w.status();
  ValidateOptions o;
  o.workload = &*w;
  std::vector<Violation> v = Check(clean, o);
  EXPECT_TRUE(v.empty()) << Join(v);
  json m = clean;
  int64_t layer = -1;
  for (json& l : m["layers"])
    if (l["kind"] == "maxpool" && l["inputs"][0]["rows"].is_object() &&
        l["inputs"][0]["rows"]["kernel"] == 2 && l["inputs"][0]["rows"]["stride"] == 2) {
      l["inputs"][0]["rows"]["kernel"] = 1;
      layer = I(l["id"]);
      break;
    }
  ASSERT_GE(layer, 0);
  EXPECT_TRUE(Check(m).empty());  // consistent without the model
  EXPECT_TRUE(HasViolation(Check(m, o), "model.table",
                           "layers[" + S(layer) +
                               "] '/net/pool/MaxPool' differs from the model: "
                               "input 0 kernel 1 (model: 2)"));
}

// No false positives: every schedule kind on both models, both state_io
// modes and both eviction policies validates clean.
TEST(Corruption, ScheduleMatrixIsValid) {
  int planned = 0;
  for (const char* model : {kNmnist, kSew5})
    for (const char* spec : {"st-lbl", "tb-lbl", "st-lf", "tb-lf", "tb2-lf2"})
      for (cost::StateIo io : {cost::StateIo::kZero, cost::StateIo::kDram})
        for (plan::Eviction ev : {plan::Eviction::kStems, plan::Eviction::kBelady}) {
          Scenario s{std::string(model) + " " + spec, model, 0,
                  "meta-prototype", 32 * 1024, spec, io, ev};
          SCOPED_TRACE(::testing::Message()
                       << s.name << (io == cost::StateIo::kZero ? " zero" : " dram")
                       << (ev == plan::Eviction::kStems ? " stems" : " belady"));
          const json m = PlanSetup(s);
          if (m.is_null()) continue;
          ++planned;
          std::vector<Violation> v = Check(m);
          EXPECT_TRUE(v.empty()) << Join(v);
        }
  EXPECT_EQ(planned, 2 * 5 * 2 * 2);
}

}  // namespace
}  // namespace snnplan::validate::testing
