// The validator's own typed view of a manifest (docs/manifest.md), read with
// full type checks so the checks below never touch raw JSON.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <queue>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "snnplan/hwdesc.h"
#include "snnplan/validator.h"

namespace snnplan::validate {

// Half-open [begin, end).
struct Span {
  int64_t begin = 0;
  int64_t end = 0;
  bool operator==(const Span&) const = default;
  bool Overlaps(const Span& o) const { return begin < o.end && o.begin < end; }
};

enum class Kind { kWeights, kState, kFeature, kInput };
enum class Dir { kLoad, kStore, kStream, kNoc };
// W, I, O, S in manifest order.
inline constexpr std::array<const char*, 4> kOperands = {"W", "I", "O", "S"};

struct Energy {
  double total = 0, compute = 0, local = 0, sram = 0, dram = 0, noc = 0;
  bool has_noc = false;  // `noc` is optional (schema_version 2 only)
};

// A tensor piece as named by `holds`, `tensor` or a stream's `pieces`.
struct PieceRef {
  Kind kind = Kind::kFeature;
  int operand = 0;                   // index into kOperands
  std::optional<std::string> layer;  // nullopt: the network input
  int64_t sample = 0;
  Span t, rows;
  int64_t piece = 0;
  int64_t dram_address = -1;  // stream pieces only
  int64_t bytes = -1;         // stream pieces only
  // Identity fields other than `piece`, for consistency checks.
  bool SameSlice(const PieceRef& o) const {
    return kind == o.kind && operand == o.operand && layer == o.layer && sample == o.sample &&
           t == o.t && rows == o.rows;
  }
};

struct MTile {
  std::string id;
  int64_t index = 0;
  std::string layer;
  int64_t layer_id = 0, block = 0, sample = 0, core = 0;
  Span t, rows;
  // Output columns and channels (schema_version 3+, when present).
  std::optional<Span> cols, channels;
  int64_t start = 0, end = 0;
  Energy energy;
  std::vector<int64_t> reads, writes;
};

struct MAlloc {
  int64_t id = 0;
  int64_t core = 0;  // schema_version 1: always the first hardware core
  std::string memory;
  int64_t offset = 0, bytes = 0, allocated_at = 0, freed_at = 0;
  PieceRef holds;
  // schema_version 4: "zero" / "initial" on a state piece's first
  // allocation under on-chip init (it holds the initial state, not loaded).
  std::optional<std::string> init;
};

// One step of a stream's DMA sequence (schema_version 4).
struct MDescriptor {
  int64_t piece = 0;
  int operand = 0;  // index into kOperands
  bool write = false;
  int64_t dram_address = 0, byte_offset = 0, bytes = 0, repeat = 1;
  std::optional<std::string> init;
};

// A mesh position (x, y).
using Xy = std::pair<int64_t, int64_t>;

struct MTransfer {
  int64_t id = 0;
  Dir dir = Dir::kLoad;
  std::string cause;
  int64_t start = 0, end = 0, bytes = 0;
  // load / store / noc on hardware with a spike encoding: bytes over the link
  // (DRAM or NoC); `bytes` is what the on-chip allocation holds.
  std::optional<int64_t> link_bytes;
  int64_t LinkBytes() const { return link_bytes.value_or(bytes); }
  // The core whose memory the transfer fills or drains (noc: `to_core`);
  // schema_version 1: always the first hardware core. Optional on streams.
  int64_t core = 0;
  bool has_core = false;
  // load / store / noc. `allocation` is the on-chip allocation on `core`:
  // the one a load fills, a store drains, a noc transfer fills
  // (`dst_allocation`), so the three share the allocation checks.
  int operand = 0;
  PieceRef tensor;
  int64_t allocation = -1;
  // load / store
  int64_t dram_address = 0, offset = 0;
  std::string memory;
  // noc
  int64_t from_core = 0, to_core = 0, src_allocation = -1;
  std::vector<Xy> route;
  std::optional<int64_t> hops;
  Energy energy;
  // stream
  std::string tile;
  std::array<int64_t, 4> read = {}, write = {};
  std::vector<PieceRef> pieces;
  std::vector<MDescriptor> descriptors;  // schema_version 4
};

struct MRegion {
  std::string name;
  int64_t base = 0, bytes = 0;
  std::optional<std::string> initial_contents;  // schema_version 4
};

// schema_version 4: a layer's parameter block (`parameters`).
struct MParamField {
  std::string name, layout;
  int64_t offset = 0, count = 0;
};
struct MParams {
  std::string layer;  // the layer's name
  int64_t layer_id = 0, core = 0, dram_address = 0, bytes = 0, load_before_tile = -1;
  std::vector<MParamField> fields;
};
// A DRAM slice of `network_io` or `initial_state`.
struct MSlice {
  int64_t piece = 0, sample = 0, dram_address = 0, bytes = 0;
  std::optional<int64_t> layer_id;
  Span t, rows;
};
// One entry of `graph_outputs`.
struct MGraphOutput {
  std::string name, kind;
  std::optional<std::string> layer;  // the layer's name (null with layer_id)
  std::optional<std::string> steps;  // "all", "one", "none" (null: not produced)
  std::optional<int64_t> layer_id;
  bool produced = false;
};
// schema_version 4: what makes a manifest executable without guessing.
struct MComplete {
  std::vector<MParams> parameters;
  // network_io.input: the network input's geometry per sample and timestep.
  int64_t in_channels = 0, in_rows = 0, in_cols = 0, in_bits = 0, in_timesteps = 0, in_samples = 0;
  std::vector<MSlice> inputs, outputs;  // network_io
  std::string initial_mode;             // "on_chip" or "dram"
  std::vector<MSlice> initial_slices;
  std::vector<MGraphOutput> graph_outputs;
  // layers[i].weights_piece: layer id -> {piece, dram_address, bytes}.
  std::map<int64_t, std::array<int64_t, 3>> weights_pieces;
};

// One entry of `summary.cores`.
struct MCoreSummary {
  int64_t core = 0, capacity_bytes = 0, peak = 0, tiles = 0, busy_cycles = 0;
  std::string memory;
};

struct MSummary {
  Energy energy;
  int64_t total = 0, read = 0, write = 0;
  std::array<int64_t, 4> by_operand = {};
  std::optional<std::array<int64_t, 4>> read_by_operand, write_by_operand;
  std::optional<std::map<std::string, int64_t>> by_cause;
  std::optional<std::vector<int64_t>> by_block;
  int64_t latency = 0, peak = 0;
  std::optional<int64_t> compute_cycles, stall_cycles, tiles, allocations, transfers;
  std::string state_io = "zero";
  std::optional<int64_t> noc_bytes, noc_transfers;
  std::optional<std::vector<MCoreSummary>> cores;
};

// One input of a layer (`layers[i].inputs`, schema_version 3): which rows
// and timesteps of the producer's output (or the network input) a tile of
// output rows `rows` and timesteps `t` reads.
struct MInput {
  std::optional<int64_t> layer;  // nullopt: the network input
  int64_t input_rows = 0;        // rows of the tensor read (producer OY)
  int64_t input_timesteps = 0;   // its timesteps (1 after a time mean)
  bool all_rows = false;         // "all": linear layers, reshapes
  int64_t kernel = 1, stride = 1, pad_top = 0, pad_bottom = 0, dilation = 1;
  bool all_time = false;  // "all": every timestep of the input; "same": the tile's own
  bool previous = false;  // "previous": a recurrent input, steps t read the input's t - 1
  // Rows [lo, hi) of the input that output rows `rows` read (clipped).
  Span Rows(const Span& rows) const {
    if (all_rows) return {0, input_rows};
    using Wide = __int128;  // fields are within +-2^53: products fit
    const Wide lo = std::max<Wide>(0, Wide{rows.begin} * stride - pad_top);
    const Wide hi = std::min<Wide>(
        input_rows, (Wide{rows.end} - 1) * stride - pad_top + (Wide{kernel} - 1) * dilation + 1);
    const Wide end = std::max(lo, hi);
    return {static_cast<int64_t>(std::min<Wide>(lo, input_rows)),
            static_cast<int64_t>(std::min<Wide>(end, input_rows))};
  }
  Span Time(const Span& t) const {
    if (previous) return {std::max<int64_t>(0, t.begin - 1), t.end - 1};  // step 0 reads zeros
    return all_time ? Span{0, input_timesteps} : t;
  }
};

enum class LayerTime { kPerStep, kMean, kOnce };

// One entry of the top-level `layers` (schema_version 3).
struct MLayer {
  int64_t id = 0;
  std::string name, kind;
  int64_t block = 0, T = 1, K = 1, OY = 1, OX = 1;
  LayerTime time = LayerTime::kPerStep;
  bool weights = false, stateful = false, network_output = false, reads_network_input = false;
  // Its weights stay in crossbar arrays (an in-memory-computing core): its
  // tiles read no weights piece. From the layer's "crossbar_arrays".
  bool weights_in_crossbars = false;
  int64_t states = 0;
  // schema_version 4: bits per element (layers[].precision) and the initial
  // value of every state variable (layers[].initial_state).
  int64_t weight_bits = 0, input_bits = 0, output_bits = 0, state_bits = 0;
  std::vector<double> initial_state;
  std::vector<int64_t> producers;
  std::vector<MInput> inputs;
  int64_t OutTimesteps() const { return time == LayerTime::kPerStep ? T : 1; }
};

// `exit_points` (plans priced under an exit profile): where an early-exit
// check may run and what stopping there skips.
struct MExitPoint {
  int64_t after_timesteps = 0, check_after_tile = 0, check_cycle = 0;
  int64_t skips_tiles = 0, skips_transfers = 0;
  std::optional<double> probability;
};
struct MExits {
  std::vector<int64_t> reads_layers;  // layer ids whose step outputs the check reads
  std::vector<MExitPoint> points;
};

// Several networks in one deployment (model.networks, summary.by_network).
struct MNetwork {
  std::string name;
  Span layers, blocks;  // [first, end)
};
struct MNetworkUse {
  std::string name;  // "" for summary.shared_input
  double energy = 0;
  int64_t dram = 0, noc = 0;
  std::optional<int64_t> tiles;
};
struct MNetworks {
  std::vector<MNetwork> networks;
  std::optional<std::vector<MNetworkUse>> by_network;
  std::optional<MNetworkUse> shared_input;
};

struct Manifest {
  int64_t schema_version = 1;
  hw::Hardware hardware;
  // `allocation` (schema_version 2): layer name -> core id.
  std::optional<std::map<std::string, int64_t>> layer_core;
  std::string model_file, model_sha256;
  int64_t timesteps = 0, batch = 1;
  std::optional<int64_t> layers, blocks;  // model.layers, model.blocks (optional)
  MSummary summary;
  std::vector<MRegion> regions;
  std::vector<MTile> tiles;
  std::vector<MAlloc> allocs;
  std::vector<MTransfer> transfers;
  // schema_version 3: the layer geometry that lets the checks prove every
  // tile's reads from the manifest alone (check_geometry.cc).
  std::optional<std::vector<MLayer>> layer_table;
  std::optional<MExits> exits;
  std::optional<MComplete> complete;  // schema_version 4
  std::optional<MNetworks> networks;  // several models only
};

// Reads and type-checks a manifest document.
absl::StatusOr<Manifest> ReadManifest(const nlohmann::json& doc);

// A hardware core as the checks see it: its global buffer and mesh position.
struct CoreInfo {
  const hw::MemoryLevel* gb = nullptr;
  int64_t capacity_bytes = 0;  // gb size / 8
  std::optional<Xy> position;
};

// Lookups shared by the checks, built once.
struct Index {
  std::map<int64_t, size_t> alloc;     // allocation id -> position
  std::map<std::string, size_t> tile;  // tile id -> position
  std::map<int64_t, CoreInfo> cores;   // hardware core id -> its memory
  // schema_version >= 2: tile cores are checked and messages name cores;
  // version 1 manifests validate exactly as before.
  bool multicore = false;
  const CoreInfo* Core(int64_t id) const {
    auto it = cores.find(id);
    return it == cores.end() ? nullptr : &it->second;
  }
  // " on core N" in multi-core manifests, "" in version 1 (whose messages stay as they were).
  std::string OnCore(int64_t core) const {
    return multicore ? absl::StrCat(" on core ", core) : std::string();
  }
};

using Violations = std::vector<Violation>;

inline void Add(Violations* out, const char* check, std::string message) {
  out->push_back({check, std::move(message)});
}
inline std::string Str(const Span& s) { return absl::StrCat("[", s.begin, ",", s.end, ")"); }
inline std::string XyStr(const Xy& p) { return absl::StrCat("(", p.first, ",", p.second, ")"); }
std::string Describe(const PieceRef& p);  // "piece 12 (feature of L3 s0 t[0,1) rows[0,2))"

// A resource carrying one transfer at a time (a link): sweeps `users`
// (indices into m.transfers) by start and calls report(earlier, later) for
// every transfer starting before the latest end so far (half-open).
template <typename Report>
void ForEachOverlap(const Manifest& m, std::vector<size_t> users, Report report) {
  std::stable_sort(users.begin(), users.end(),
                   [&](size_t a, size_t b) { return m.transfers[a].start < m.transfers[b].start; });
  const MTransfer* busy = nullptr;  // the transfer ending last so far
  for (size_t i : users) {
    const MTransfer& x = m.transfers[i];
    if (busy != nullptr && x.start < busy->end) report(*busy, x);
    if (busy == nullptr || x.end > busy->end) busy = &x;
  }
}

// Rectangles in time x space (half-open both ways): a sweep over time calls
// report(a, b) when b overlaps a rectangle a that started before it; b is
// then left out, so each rectangle is reported at most once. O(n log n).
struct Rect {
  int64_t t0, t1, y0, y1;
  size_t who;
};
template <typename Report>
void ForEachRectOverlap(std::vector<Rect> rects, Report report) {
  std::stable_sort(rects.begin(), rects.end(),
                   [](const Rect& a, const Rect& b) { return a.t0 < b.t0; });
  std::map<int64_t, const Rect*> live;  // y0 -> rect (disjoint)
  using Ending = std::pair<int64_t, const Rect*>;
  auto later = [](const Ending& a, const Ending& b) { return a.first > b.first; };
  std::priority_queue<Ending, std::vector<Ending>, decltype(later)> ends(later);
  for (const Rect& r : rects) {
    if (r.t1 <= r.t0 || r.y1 <= r.y0) continue;
    while (!ends.empty() && ends.top().first <= r.t0) {
      live.erase(ends.top().second->y0);
      ends.pop();
    }
    auto it = live.upper_bound(r.y0);
    if (it != live.begin()) --it;
    bool clash = false;
    for (; it != live.end() && it->first < r.y1; ++it)
      if (it->second->y1 > r.y0) {
        report(*it->second, r);
        clash = true;
        break;
      }
    if (clash) continue;
    live.emplace(r.y0, &r);
    ends.push({r.t1, &r});
  }
}

// The checks (one file each); each appends in a deterministic order.
void CheckIdentities(const Manifest& m, Index* index, Violations* out);
void CheckModelFacts(const Manifest& m, Violations* out);
void CheckMemory(const Manifest& m, const Index& index, Violations* out);
void CheckLink(const Manifest& m, const Index& index, Violations* out);
void CheckNoc(const Manifest& m, const Index& index, Violations* out);
void CheckReplay(const Manifest& m, const Index& index, Violations* out);
void CheckDependencies(const Manifest& m, const Index& index, Violations* out);
void CheckGeometry(const Manifest& m, const Index& index, Violations* out);
// Exit points: each check runs when the step outputs it reads exist and
// skips exactly the tiles and transfers starting from then (check_exit.cc).
void CheckExitPoints(const Manifest& m, Violations* out);
void CheckDramLiveness(const Manifest& m, const Index& index, Violations* out);
void CheckModelDependencies(const Manifest& m, const ir::Workload& w, Violations* out);
void CheckSummary(const Manifest& m, const Index& index, Violations* out);
// schema_version 4: parameters, stream descriptors, network input/output
// slices, initial state and graph outputs (check_complete.cc).
void CheckComplete(const Manifest& m, Violations* out);
// model.networks: ranges partition the layers and blocks, tiles lie in their
// network's blocks, summary.by_network counts each network's tiles and with
// summary.shared_input adds up to the totals (check_networks.cc).
void CheckNetworks(const Manifest& m, Violations* out);
// schema_version 4: the descriptive parts tied to what runs (check_layout.cc):
// piece sizes from the layouts, tile columns and channels, parameter blocks'
// contents, network_io / initial_state slices against the pieces they hold,
// graph outputs and output flags, DRAM region metadata, the layer table's
// own geometry, exit probabilities, energies and tile ids.
void CheckLayout(const Manifest& m, Violations* out);
// The operand a load / store / noc transfer of `tensor` is labelled with:
// schema_version 4 labels by role (a feature loaded or copied is read as an
// input, I); earlier versions by the piece's own operand.
int ExpectedOperand(const Manifest& m, Dir dir, const PieceRef& tensor);

}  // namespace snnplan::validate
