// The validator's own typed view of a manifest (docs/manifest.md), read with
// full type checks so the checks below never touch raw JSON.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
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
enum class Dir { kLoad, kStore, kStream };
// W, I, O, S in manifest order.
inline constexpr std::array<const char*, 4> kOperands = {"W", "I", "O", "S"};

struct Energy {
  double total = 0, compute = 0, local = 0, sram = 0, dram = 0;
};

// A tensor piece as named by `holds`, `tensor` or a stream's `pieces`.
struct PieceRef {
  Kind kind = Kind::kFeature;
  int operand = 0;                      // index into kOperands
  std::optional<std::string> layer;     // nullopt: the network input
  int64_t sample = 0;
  Span t, rows;
  int64_t piece = 0;
  int64_t dram_address = -1;            // stream pieces only
  int64_t bytes = -1;                   // stream pieces only
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
  int64_t start = 0, end = 0;
  Energy energy;
  std::vector<int64_t> reads, writes;
};

struct MAlloc {
  int64_t id = 0;
  std::string memory;
  int64_t offset = 0, bytes = 0, allocated_at = 0, freed_at = 0;
  PieceRef holds;
};

struct MTransfer {
  int64_t id = 0;
  Dir dir = Dir::kLoad;
  std::string cause;
  int64_t start = 0, end = 0, bytes = 0;
  // load / store
  int operand = 0;
  PieceRef tensor;
  int64_t dram_address = 0, allocation = -1, offset = 0;
  std::string memory;
  // stream
  std::string tile;
  std::array<int64_t, 4> read = {}, write = {};
  std::vector<PieceRef> pieces;
};

struct MRegion {
  std::string name;
  int64_t base = 0, bytes = 0;
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
};

struct Manifest {
  hw::Hardware hardware;
  std::string model_file, model_sha256;
  int64_t timesteps = 0, batch = 1;
  MSummary summary;
  std::vector<MRegion> regions;
  std::vector<MTile> tiles;
  std::vector<MAlloc> allocs;
  std::vector<MTransfer> transfers;
};

// Reads and type-checks a manifest document.
absl::StatusOr<Manifest> ReadManifest(const nlohmann::json& doc);

// Lookups shared by the checks, built once.
struct Index {
  std::map<int64_t, size_t> alloc;        // allocation id -> position
  std::map<std::string, size_t> tile;     // tile id -> position
  int64_t capacity_bytes = 0;             // global buffer
  std::string memory;                     // global buffer name
};

using Violations = std::vector<Violation>;

inline void Add(Violations* out, const char* check, std::string message) {
  out->push_back({check, std::move(message)});
}
inline std::string Str(const Span& s) { return absl::StrCat("[", s.begin, ",", s.end, ")"); }
std::string Describe(const PieceRef& p);  // "piece 12 (feature of L3 s0 t[0,1) rows[0,2))"

// The checks (one file each); each appends in a deterministic order.
void CheckIdentities(const Manifest& m, Index* index, Violations* out);
void CheckMemory(const Manifest& m, const Index& index, Violations* out);
void CheckLink(const Manifest& m, const Index& index, Violations* out);
void CheckReplay(const Manifest& m, const Index& index, Violations* out);
void CheckDependencies(const Manifest& m, const Index& index, Violations* out);
void CheckModelDependencies(const Manifest& m, const ir::Workload& w, Violations* out);
void CheckSummary(const Manifest& m, const Index& index, Violations* out);

}  // namespace snnplan::validate
