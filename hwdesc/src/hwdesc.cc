#include "snnplan/hwdesc.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <optional>
#include <set>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "json_reader.h"
#include "snnplan/input_file.h"
#include "snnplan/units.h"

namespace snnplan::hw {
namespace internal {
const std::vector<std::pair<std::string_view, std::string_view>>& PresetSources();
}  // namespace internal

using internal::JsonField;

// Propagates a non-OK status; assigns the value of a StatusOr otherwise.
#define SNNPLAN_CONCAT_INNER(a, b) a##b
#define SNNPLAN_CONCAT(a, b) SNNPLAN_CONCAT_INNER(a, b)
#define SNNPLAN_ASSIGN_OR_RETURN(lhs, expr) \
  SNNPLAN_ASSIGN_OR_RETURN_IMPL(SNNPLAN_CONCAT(status_or_, __LINE__), lhs, expr)
#define SNNPLAN_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                  \
  if (!tmp.ok()) return tmp.status();                 \
  lhs = *std::move(tmp)
#define SNNPLAN_RETURN_IF_ERROR(expr) \
  if (absl::Status s_ = (expr); !s_.ok()) return s_

int64_t OperationalArray::TotalPes() const {
  int64_t n = 1;
  for (const ArrayDimension& d : dimensions) n *= d.size;
  return n;
}

bool MemoryLevel::Holds(ir::Operand op) const {
  return std::find(operands.begin(), operands.end(), op) != operands.end();
}

int64_t Core::Instances(const MemoryLevel& level) const {
  int64_t n = 1;
  for (const ArrayDimension& d : operational_array.dimensions) {
    bool served = std::find(level.served_dimensions.begin(), level.served_dimensions.end(),
                            d.name) != level.served_dimensions.end();
    if (!served) n *= d.size;
  }
  return n;
}

namespace {

constexpr int64_t kMaxSizeBits = int64_t{1} << 50;   // 128 TiB: beyond any chip
constexpr int64_t kMaxBandwidth = int64_t{1} << 40;  // bits per cycle

struct Unit {
  std::string_view suffix;
  int64_t bits;
};
constexpr Unit kUnits[] = {
    {"bits", 1},
    {"bit", 1},
    {"b", 1},
    {"Kib", 1024},
    {"Mib", 1 << 20},
    {"Gib", int64_t{1} << 30},
    {"B", 8},
    {"KiB", 8 << 10},
    {"KB", 8 << 10},
    {"kB", 8 << 10},
    {"MiB", 8 << 20},
    {"MB", 8 << 20},
    {"GiB", int64_t{8} << 30},
    {"GB", int64_t{8} << 30},
};

absl::StatusOr<int64_t> ParseSize(std::string_view text_in, int64_t bare_unit_bits) {
  const absl::string_view text(text_in.data(), text_in.size());
  absl::string_view t = text;
  while (!t.empty() && std::isspace(static_cast<unsigned char>(t.back()))) t.remove_suffix(1);
  size_t digits = 0;
  while (digits < t.size() && std::isdigit(static_cast<unsigned char>(t[digits]))) ++digits;
  absl::string_view number = t.substr(0, digits);
  absl::string_view suffix = t.substr(digits);
  while (!suffix.empty() && suffix.front() == ' ') suffix.remove_prefix(1);
  int64_t n = 0;
  if (number.empty() || !absl::SimpleAtoi(number, &n))
    return absl::InvalidArgumentError(
        absl::StrCat("'", text, "' is not a size (expected e.g. 131072, \"128KiB\", \"1MiB\")"));
  int64_t unit = bare_unit_bits;
  if (!suffix.empty()) {
    unit = 0;
    for (const Unit& u : kUnits)
      if (u.suffix == std::string_view(suffix.data(), suffix.size())) unit = u.bits;
    if (unit == 0)
      return absl::InvalidArgumentError(
          absl::StrCat("'", text, "': unknown unit '", suffix, "' (use bits, B, KiB, MiB, GiB)"));
  }
  if (n <= 0) return absl::InvalidArgumentError(absl::StrCat("'", text, "': must be > 0"));
  if (n > kMaxSizeBits / unit)
    return absl::InvalidArgumentError(absl::StrCat("'", text, "': too large (limit 2^50 bits)"));
  return n * unit;
}

absl::StatusOr<int64_t> ReadSize(const JsonField& f) {
  if (f.value().is_string()) {
    absl::StatusOr<int64_t> bits = ParseSize(f.value().get<std::string>(), 1);
    if (!bits.ok()) return f.Error(bits.status().message());
    return *bits;
  }
  absl::StatusOr<int64_t> v = f.PositiveInteger();
  if (!v.ok()) return v.status();
  if (*v > kMaxSizeBits) return f.Error("too large (limit 2^50 bits)");
  return *v;
}

absl::StatusOr<int64_t> ReadBandwidth(const JsonField& f) {
  absl::StatusOr<int64_t> v = f.PositiveInteger();
  if (!v.ok()) return v.status();
  if (*v > kMaxBandwidth) return f.Error("too large");
  return *v;
}

absl::StatusOr<std::vector<std::string>> ReadStrings(const JsonField& f) {
  SNNPLAN_RETURN_IF_ERROR(f.ExpectArray());
  std::vector<std::string> out;
  for (size_t i = 0; i < f.value().size(); ++i) {
    std::string s;
    SNNPLAN_ASSIGN_OR_RETURN(s, f.Element(i).String());
    out.push_back(std::move(s));
  }
  return out;
}

// The member `key`, or the member `alias` that the first format used for the
// same quantity in the same unit (r_cost for read_energy_fj_per_bit, ...):
// nullopt when neither is given; an error naming both when both are.
absl::StatusOr<std::optional<JsonField>> Member(const JsonField& f, absl::string_view key,
                                                absl::string_view alias = {}) {
  const bool has_key = f.Has(key), has_alias = !alias.empty() && f.Has(alias);
  if (has_key && has_alias) {
    absl::StatusOr<JsonField> c = f.Child(key);
    if (!c.ok()) return c.status();
    return c->Error(absl::StrCat("given twice: also as '", alias,
                                 "', its first-format name for the same quantity; keep one"));
  }
  if (!has_key && !has_alias) return std::optional<JsonField>();
  absl::StatusOr<JsonField> c = f.Child(has_key ? key : alias);
  if (!c.ok()) return c.status();
  return std::optional<JsonField>(*c);
}

// As Member, for a required quantity.
absl::StatusOr<JsonField> Required(const JsonField& f, absl::string_view key,
                                   absl::string_view alias) {
  absl::StatusOr<std::optional<JsonField>> m = Member(f, key, alias);
  if (!m.ok()) return m.status();
  if (*m) return **m;
  return absl::InvalidArgumentError(
      absl::StrCat(f.path().empty() ? std::string(key) : absl::StrCat(f.path(), ".", key),
                   ": missing required field (or its first-format name '", alias, "')"));
}

absl::StatusOr<OperationalArray> ReadArray(const JsonField& f) {
  SNNPLAN_RETURN_IF_ERROR(f.ExpectObject({"dimensions", "sizes", "energy_fj_per_op", "unit_energy",
                                          "sparse_speedup", "zero_skipping"}));
  OperationalArray a;
  JsonField dims_f = f;
  SNNPLAN_ASSIGN_OR_RETURN(dims_f, f.Child("dimensions"));
  std::vector<std::string> names;
  SNNPLAN_ASSIGN_OR_RETURN(names, ReadStrings(dims_f));
  if (names.empty()) return dims_f.Error("must list at least one dimension");
  JsonField sizes_f = f;
  SNNPLAN_ASSIGN_OR_RETURN(sizes_f, f.Child("sizes"));
  SNNPLAN_RETURN_IF_ERROR(sizes_f.ExpectArray());
  if (sizes_f.value().size() != names.size())
    return sizes_f.Error(absl::StrCat("expected ", names.size(), " sizes (one per dimension), got ",
                                      sizes_f.value().size()));
  std::set<std::string> seen;
  for (size_t i = 0; i < names.size(); ++i) {
    if (!seen.insert(names[i]).second)
      return dims_f.Element(i).Error(absl::StrCat("duplicate dimension '", names[i], "'"));
    int64_t size = 0;
    SNNPLAN_ASSIGN_OR_RETURN(size, sizes_f.Element(i).PositiveInteger());
    if (size > (int64_t{1} << 20)) return sizes_f.Element(i).Error("too large (limit 2^20)");
    a.dimensions.push_back({names[i], size});
    if (a.TotalPes() > (int64_t{1} << 32))  // each factor <= 2^20: no overflow yet
      return sizes_f.Element(i).Error("too many PEs (limit 2^32 in total)");
  }
  JsonField energy_f = f;
  SNNPLAN_ASSIGN_OR_RETURN(energy_f, Required(f, "energy_fj_per_op", "unit_energy"));
  SNNPLAN_RETURN_IF_ERROR(energy_f.ExpectObject({"mac", "sop", "neuron_update"}));
  JsonField e = f;
  SNNPLAN_ASSIGN_OR_RETURN(e, energy_f.Child("mac"));
  SNNPLAN_ASSIGN_OR_RETURN(a.mac_energy_fj, e.NonNegativeNumber());
  SNNPLAN_ASSIGN_OR_RETURN(e, energy_f.Child("sop"));
  SNNPLAN_ASSIGN_OR_RETURN(a.sop_energy_fj, e.NonNegativeNumber());
  if (energy_f.Has("neuron_update")) {
    SNNPLAN_ASSIGN_OR_RETURN(e, energy_f.Child("neuron_update"));
    SNNPLAN_ASSIGN_OR_RETURN(a.neuron_update_energy_fj, e.NonNegativeNumber());
  }
  if (f.Has("sparse_speedup")) {
    JsonField s = f;
    SNNPLAN_ASSIGN_OR_RETURN(s, f.Child("sparse_speedup"));
    SNNPLAN_ASSIGN_OR_RETURN(a.sparse_speedup, s.Boolean());
  }
  if (f.Has("zero_skipping")) {
    JsonField s = f;
    SNNPLAN_ASSIGN_OR_RETURN(s, f.Child("zero_skipping"));
    SNNPLAN_ASSIGN_OR_RETURN(a.zero_skipping, s.Boolean());
  }
  return a;
}

absl::StatusOr<std::vector<SpatialUnroll>> ReadDataflows(const JsonField& f,
                                                         const OperationalArray& array) {
  if (!f.value().is_object())
    return f.Error(
        absl::StrCat("expected an object like {\"D1\": [\"K\", 32]}, got ", f.value().type_name()));
  std::vector<SpatialUnroll> out;
  std::set<ir::Dim> loops;
  for (const auto& [key, value] : f.value().items()) {
    JsonField entry(value, absl::StrCat(f.path(), ".", key));
    auto dim_it = std::find_if(array.dimensions.begin(), array.dimensions.end(),
                               [&name = key](const ArrayDimension& d) { return d.name == name; });
    if (dim_it == array.dimensions.end())
      return entry.Error("not a dimension of operational_array.dimensions");
    if (!value.is_array() || value.size() != 2)
      return entry.Error("expected [LOOP, SIZE], e.g. [\"K\", 32]");
    std::string loop_name;
    SNNPLAN_ASSIGN_OR_RETURN(loop_name, entry.Element(0).String());
    std::optional<ir::Dim> loop = ir::ParseDim(loop_name);
    if (!loop || *loop == ir::Dim::kT || *loop == ir::Dim::kB)
      return entry.Element(0).Error(absl::StrCat(
          "'", loop_name, "' is not a spatially unrollable loop (K, C, G, OY, OX, FY, FX)"));
    if (!loops.insert(*loop).second)
      return entry.Element(0).Error(absl::StrCat("loop ", loop_name, " unrolled twice"));
    int64_t size = 0;
    SNNPLAN_ASSIGN_OR_RETURN(size, entry.Element(1).PositiveInteger());
    if (size > dim_it->size)
      return entry.Element(1).Error(
          absl::StrCat("unrolls ", size, " but array dimension ", key, " has size ", dim_it->size));
    out.push_back({key, *loop, size});
  }
  // Order as the array dimensions are declared (deterministic output).
  std::sort(out.begin(), out.end(), [&](const SpatialUnroll& a, const SpatialUnroll& b) {
    auto pos = [&](const std::string& n) {
      for (size_t i = 0; i < array.dimensions.size(); ++i)
        if (array.dimensions[i].name == n) return i;
      return array.dimensions.size();
    };
    return pos(a.array_dim) < pos(b.array_dim);
  });
  return out;
}

absl::StatusOr<MemoryLevel> ReadMemory(const JsonField& f, const OperationalArray& array) {
  SNNPLAN_RETURN_IF_ERROR(
      f.ExpectObject({"name", "size_bits", "read_energy_fj_per_bit", "write_energy_fj_per_bit",
                      "read_bw_bits_per_cycle", "write_bw_bits_per_cycle", "operands",
                      "served_dimensions", "banks", "granularity_bits", "max_bw_bits_per_cycle",
                      "size", "r_cost", "w_cost", "r_bw", "w_bw", "granularity", "max_bw"}));
  MemoryLevel m;
  JsonField c = f;
  SNNPLAN_ASSIGN_OR_RETURN(c, f.Child("name"));
  SNNPLAN_ASSIGN_OR_RETURN(m.name, c.String());
  if (m.name.empty() || m.name == "dram")
    return c.Error("must be a non-empty name other than 'dram'");
  SNNPLAN_ASSIGN_OR_RETURN(c, Required(f, "size_bits", "size"));
  SNNPLAN_ASSIGN_OR_RETURN(m.size_bits, ReadSize(c));
  SNNPLAN_ASSIGN_OR_RETURN(c, Required(f, "read_energy_fj_per_bit", "r_cost"));
  SNNPLAN_ASSIGN_OR_RETURN(m.read_energy_fj_per_bit, c.NonNegativeNumber());
  SNNPLAN_ASSIGN_OR_RETURN(c, Required(f, "write_energy_fj_per_bit", "w_cost"));
  SNNPLAN_ASSIGN_OR_RETURN(m.write_energy_fj_per_bit, c.NonNegativeNumber());
  SNNPLAN_ASSIGN_OR_RETURN(c, Required(f, "read_bw_bits_per_cycle", "r_bw"));
  SNNPLAN_ASSIGN_OR_RETURN(m.read_bw_bits_per_cycle, ReadBandwidth(c));
  SNNPLAN_ASSIGN_OR_RETURN(c, Required(f, "write_bw_bits_per_cycle", "w_bw"));
  SNNPLAN_ASSIGN_OR_RETURN(m.write_bw_bits_per_cycle, ReadBandwidth(c));
  SNNPLAN_ASSIGN_OR_RETURN(c, f.Child("operands"));
  std::vector<std::string> ops;
  SNNPLAN_ASSIGN_OR_RETURN(ops, ReadStrings(c));
  if (ops.empty()) return c.Error("must hold at least one operand (W, I, O, S)");
  for (size_t i = 0; i < ops.size(); ++i) {
    std::optional<ir::Operand> op = ir::ParseOperand(ops[i]);
    if (!op)
      return c.Element(i).Error(absl::StrCat("'", ops[i], "' is not an operand (W, I, O, S)"));
    if (m.Holds(*op)) return c.Element(i).Error(absl::StrCat("operand ", ops[i], " listed twice"));
    m.operands.push_back(*op);
  }
  SNNPLAN_ASSIGN_OR_RETURN(c, f.Child("served_dimensions"));
  SNNPLAN_ASSIGN_OR_RETURN(m.served_dimensions, ReadStrings(c));
  for (size_t i = 0; i < m.served_dimensions.size(); ++i) {
    const std::string& d = m.served_dimensions[i];
    bool known = std::any_of(array.dimensions.begin(), array.dimensions.end(),
                             [&](const ArrayDimension& a) { return a.name == d; });
    if (!known) return c.Element(i).Error(absl::StrCat("'", d, "' is not an array dimension"));
  }
  if (f.Has("banks")) {
    SNNPLAN_ASSIGN_OR_RETURN(c, f.Child("banks"));
    SNNPLAN_ASSIGN_OR_RETURN(m.banks, c.PositiveInteger());
    if (m.banks > m.size_bits) return c.Error("more banks than bits");
  }
  // The default granularity (8 bits) shrinks to fit a smaller level, so that
  // ToJson's explicit value loads back.
  m.access_granularity_bits = std::min(m.access_granularity_bits, m.size_bits);
  std::optional<JsonField> o;
  SNNPLAN_ASSIGN_OR_RETURN(o, Member(f, "granularity_bits", "granularity"));
  if (o) {
    SNNPLAN_ASSIGN_OR_RETURN(m.access_granularity_bits, o->PositiveInteger());
    if (m.access_granularity_bits > m.size_bits) return o->Error("larger than the memory");
  }
  SNNPLAN_ASSIGN_OR_RETURN(o, Member(f, "max_bw_bits_per_cycle", "max_bw"));
  if (o) {
    SNNPLAN_ASSIGN_OR_RETURN(m.max_bw_bits_per_cycle, ReadBandwidth(*o));
  }
  return m;
}

constexpr int64_t kMaxImcArrays = int64_t{1} << 24;
constexpr int64_t kMaxImcSide = int64_t{1} << 16;  // rows or columns of one array
constexpr int64_t kMaxImcCycles = int64_t{1} << 20;

absl::StatusOr<int64_t> IntegerIn(const JsonField& f, int64_t lo, int64_t hi) {
  absl::StatusOr<int64_t> v = f.Integer();
  if (!v.ok()) return v.status();
  if (*v < lo || *v > hi) return f.Error(absl::StrCat("must be in ", lo, "..", hi));
  return *v;
}

absl::StatusOr<ImcArrays> ReadImc(const JsonField& f) {
  SNNPLAN_RETURN_IF_ERROR(f.ExpectObject({"arrays", "rows", "columns", "bits_per_cell",
                                          "energy_fj_per_activation", "energy_fj_per_column_read",
                                          "cycles_per_activation", "write_energy_fj_per_cell"}));
  ImcArrays imc;
  JsonField c = f;
  SNNPLAN_ASSIGN_OR_RETURN(c, f.Child("arrays"));
  SNNPLAN_ASSIGN_OR_RETURN(imc.arrays, IntegerIn(c, 1, kMaxImcArrays));
  SNNPLAN_ASSIGN_OR_RETURN(c, f.Child("rows"));
  SNNPLAN_ASSIGN_OR_RETURN(imc.rows, IntegerIn(c, 1, kMaxImcSide));
  SNNPLAN_ASSIGN_OR_RETURN(c, f.Child("columns"));
  SNNPLAN_ASSIGN_OR_RETURN(imc.columns, IntegerIn(c, 1, kMaxImcSide));
  SNNPLAN_ASSIGN_OR_RETURN(c, f.Child("bits_per_cell"));
  int64_t bits = 0;
  SNNPLAN_ASSIGN_OR_RETURN(bits, IntegerIn(c, 1, 8));
  imc.bits_per_cell = static_cast<int>(bits);
  SNNPLAN_ASSIGN_OR_RETURN(c, f.Child("energy_fj_per_activation"));
  SNNPLAN_ASSIGN_OR_RETURN(imc.energy_fj_per_activation, c.NonNegativeNumber());
  SNNPLAN_ASSIGN_OR_RETURN(c, f.Child("energy_fj_per_column_read"));
  SNNPLAN_ASSIGN_OR_RETURN(imc.energy_fj_per_column_read, c.NonNegativeNumber());
  SNNPLAN_ASSIGN_OR_RETURN(c, f.Child("cycles_per_activation"));
  SNNPLAN_ASSIGN_OR_RETURN(imc.cycles_per_activation, IntegerIn(c, 1, kMaxImcCycles));
  SNNPLAN_ASSIGN_OR_RETURN(c, f.Child("write_energy_fj_per_cell"));
  SNNPLAN_ASSIGN_OR_RETURN(imc.write_energy_fj_per_cell, c.NonNegativeNumber());
  return imc;
}

absl::StatusOr<Core> ReadCore(const JsonField& f) {
  SNNPLAN_RETURN_IF_ERROR(
      f.ExpectObject({"id", "operational_array", "dataflows", "memories", "imc"}));
  Core core;
  JsonField c = f;
  SNNPLAN_ASSIGN_OR_RETURN(c, f.Child("id"));
  int64_t id = 0;
  SNNPLAN_ASSIGN_OR_RETURN(id, c.Integer());
  if (id < 0 || id > 1 << 16) return c.Error("must be in 0..65536");
  core.id = static_cast<int>(id);
  SNNPLAN_ASSIGN_OR_RETURN(c, f.Child("operational_array"));
  SNNPLAN_ASSIGN_OR_RETURN(core.operational_array, ReadArray(c));
  SNNPLAN_ASSIGN_OR_RETURN(c, f.Child("dataflows"));
  SNNPLAN_ASSIGN_OR_RETURN(core.dataflows, ReadDataflows(c, core.operational_array));
  SNNPLAN_ASSIGN_OR_RETURN(c, f.Child("memories"));
  SNNPLAN_RETURN_IF_ERROR(c.ExpectArray());
  if (c.value().empty()) return c.Error("empty memory hierarchy: list at least one level");
  std::set<std::string> names;
  for (size_t i = 0; i < c.value().size(); ++i) {
    MemoryLevel m;
    SNNPLAN_ASSIGN_OR_RETURN(m, ReadMemory(c.Element(i), core.operational_array));
    if (!names.insert(m.name).second)
      return c.Element(i).Error(absl::StrCat("duplicate memory name '", m.name, "'"));
    core.memories.push_back(std::move(m));
  }
  for (ir::Operand op : ir::kAllOperands) {
    bool held = std::any_of(core.memories.begin(), core.memories.end(),
                            [&](const MemoryLevel& m) { return m.Holds(op); });
    if (!held)
      return c.Error(
          absl::StrCat("no memory level holds operand ", std::string(ir::OperandName(op))));
  }
  if (core.memories.back().operands.size() != ir::kAllOperands.size())
    return c.Element(c.value().size() - 1)
        .Error("the outermost on-chip level (global buffer) must hold W, I, O and S");
  if (f.Has("imc")) {
    SNNPLAN_ASSIGN_OR_RETURN(c, f.Child("imc"));
    SNNPLAN_ASSIGN_OR_RETURN(core.imc, ReadImc(c));
  }
  return core;
}

absl::StatusOr<Offchip> ReadOffchip(const JsonField& f) {
  SNNPLAN_RETURN_IF_ERROR(f.ExpectObject({"read_energy_fj_per_bit", "write_energy_fj_per_bit",
                                          "bw_bits_per_cycle", "r_cost", "w_cost", "bw"}));
  Offchip o;
  JsonField c = f;
  SNNPLAN_ASSIGN_OR_RETURN(c, Required(f, "read_energy_fj_per_bit", "r_cost"));
  SNNPLAN_ASSIGN_OR_RETURN(o.read_energy_fj_per_bit, c.NonNegativeNumber());
  SNNPLAN_ASSIGN_OR_RETURN(c, Required(f, "write_energy_fj_per_bit", "w_cost"));
  SNNPLAN_ASSIGN_OR_RETURN(o.write_energy_fj_per_bit, c.NonNegativeNumber());
  SNNPLAN_ASSIGN_OR_RETURN(c, Required(f, "bw_bits_per_cycle", "bw"));
  SNNPLAN_ASSIGN_OR_RETURN(o.bw_bits_per_cycle, ReadBandwidth(c));
  return o;
}

constexpr std::array<SpikeFormat, 3> kSpikeFormats = {SpikeFormat::kDense, SpikeFormat::kBitmap,
                                                      SpikeFormat::kAddressEvent};

absl::StatusOr<SpikeEncoding> ReadSpikeEncoding(const JsonField& f) {
  SNNPLAN_RETURN_IF_ERROR(f.ExpectObject({"format", "address_bits"}));
  SpikeEncoding e;
  JsonField c = f;
  SNNPLAN_ASSIGN_OR_RETURN(c, f.Child("format"));
  std::string name;
  SNNPLAN_ASSIGN_OR_RETURN(name, c.String());
  auto it = std::find_if(kSpikeFormats.begin(), kSpikeFormats.end(),
                         [&](SpikeFormat s) { return SpikeFormatName(s) == name; });
  if (it == kSpikeFormats.end())
    return c.Error(
        absl::StrCat("'", name, "' is not a spike format (dense, bitmap, address_event)"));
  e.format = *it;
  if (!f.Has("address_bits")) return e;
  SNNPLAN_ASSIGN_OR_RETURN(c, f.Child("address_bits"));
  if (e.format != SpikeFormat::kAddressEvent)
    return c.Error("only the address_event format has addresses");
  int64_t bits = 0;
  SNNPLAN_ASSIGN_OR_RETURN(bits, c.PositiveInteger());
  if (bits > 64) return c.Error("must be in 1..64");
  e.address_bits = static_cast<int>(bits);
  return e;
}

struct PrecisionField {
  std::string_view key;
  int Precision::*bits;
};
constexpr PrecisionField kPrecisionFields[] = {
    {"weight_bits", &Precision::weight_bits},           {"input_bits", &Precision::input_bits},
    {"feature_bits", &Precision::feature_bits},         {"state_bits", &Precision::state_bits},
    {"accumulator_bits", &Precision::accumulator_bits},
};

absl::StatusOr<Precision> ReadPrecision(const JsonField& f) {
  SNNPLAN_RETURN_IF_ERROR(f.ExpectObject(
      {"weight_bits", "input_bits", "feature_bits", "state_bits", "accumulator_bits"}));
  Precision p;
  for (const PrecisionField& field : kPrecisionFields) {
    const absl::string_view key(field.key.data(), field.key.size());
    if (!f.Has(key)) continue;
    JsonField c = f;
    SNNPLAN_ASSIGN_OR_RETURN(c, f.Child(key));
    int64_t bits = 0;
    SNNPLAN_ASSIGN_OR_RETURN(bits, c.Integer());
    if (bits < 1 || bits > 64) return c.Error("must be in 1..64 (bits)");
    p.*field.bits = static_cast<int>(bits);
  }
  return p;
}

// Positions are kept in core-id order however they were given, so that a
// description and its ToJson output compare equal.
void SortByCore(std::vector<NocPosition>& positions) {
  std::sort(positions.begin(), positions.end(),
            [](const NocPosition& a, const NocPosition& b) { return a.core < b.core; });
}

absl::StatusOr<Noc> ReadNoc(const JsonField& f, const std::vector<Core>& cores) {
  SNNPLAN_RETURN_IF_ERROR(
      f.ExpectObject({"positions", "link_bw_bits_per_cycle", "link_energy_fj_per_bit_per_hop",
                      "link_bw", "link_energy"}));
  Noc noc;
  JsonField c = f;
  SNNPLAN_ASSIGN_OR_RETURN(c, Required(f, "link_bw_bits_per_cycle", "link_bw"));
  SNNPLAN_ASSIGN_OR_RETURN(noc.link_bw_bits_per_cycle, ReadBandwidth(c));
  SNNPLAN_ASSIGN_OR_RETURN(c, Required(f, "link_energy_fj_per_bit_per_hop", "link_energy"));
  SNNPLAN_ASSIGN_OR_RETURN(noc.link_energy_fj_per_bit_per_hop, c.NonNegativeNumber());
  SNNPLAN_ASSIGN_OR_RETURN(c, f.Child("positions"));
  SNNPLAN_RETURN_IF_ERROR(c.ExpectArray());
  std::set<int> seen_cores;
  std::set<std::pair<int64_t, int64_t>> seen_xy;
  for (size_t i = 0; i < c.value().size(); ++i) {
    JsonField p = c.Element(i);
    SNNPLAN_RETURN_IF_ERROR(p.ExpectObject({"core", "x", "y"}));
    NocPosition pos;
    JsonField v = p;
    int64_t core = 0;
    SNNPLAN_ASSIGN_OR_RETURN(v, p.Child("core"));
    SNNPLAN_ASSIGN_OR_RETURN(core, v.Integer());
    bool known =
        std::any_of(cores.begin(), cores.end(), [&](const Core& k) { return k.id == core; });
    if (!known) return v.Error(absl::StrCat("no core has id ", core));
    pos.core = static_cast<int>(core);
    if (!seen_cores.insert(pos.core).second) return v.Error("core placed twice");
    SNNPLAN_ASSIGN_OR_RETURN(v, p.Child("x"));
    SNNPLAN_ASSIGN_OR_RETURN(pos.x, v.Integer());
    SNNPLAN_ASSIGN_OR_RETURN(v, p.Child("y"));
    SNNPLAN_ASSIGN_OR_RETURN(pos.y, v.Integer());
    if (pos.x < 0 || pos.y < 0 || pos.x > 1024 || pos.y > 1024)
      return p.Error("mesh coordinates must be in 0..1024");
    if (!seen_xy.insert({pos.x, pos.y}).second)
      return p.Error("two cores at the same mesh position");
    noc.positions.push_back(pos);
  }
  if (noc.positions.size() != cores.size())
    return c.Error(absl::StrCat("expected a position for each of the ", cores.size(),
                                " cores, got ", noc.positions.size()));
  SortByCore(noc.positions);
  return noc;
}

}  // namespace

std::string_view SpikeFormatName(SpikeFormat format) {
  switch (format) {
    case SpikeFormat::kBitmap:
      return "bitmap";
    case SpikeFormat::kAddressEvent:
      return "address_event";
    case SpikeFormat::kDense:
      break;
  }
  return "dense";
}

int Hardware::CoreIndex(int core_id) const {
  for (size_t i = 0; i < cores.size(); ++i)
    if (cores[i].id == core_id) return static_cast<int>(i);
  return -1;
}

const NocPosition* Hardware::PositionOf(int core_id) const {
  for (const NocPosition& p : noc.positions)
    if (p.core == core_id) return &p;
  return nullptr;
}

absl::StatusOr<int64_t> ParseSizeBits(std::string_view text) { return ParseSize(text, 1); }
absl::StatusOr<int64_t> ParseSizeBytes(std::string_view text) {
  absl::StatusOr<int64_t> bits = ParseSize(text, 8);
  if (!bits.ok()) return bits.status();
  if (*bits % 8 != 0)
    return absl::InvalidArgumentError(
        absl::StrCat("'", std::string(text), "' is not a whole number of bytes"));
  return *bits / 8;
}

absl::StatusOr<Hardware> FromJson(const nlohmann::json& doc, std::string_view source_in) {
  const std::string source(source_in);
  JsonField root(doc, "");
  auto with_source = [&](absl::Status s) {
    return absl::Status(s.code(), absl::StrCat(source, ": ", s.message()));
  };
  if (!doc.is_object())
    return with_source(absl::InvalidArgumentError(
        absl::StrCat("expected a JSON object at the top level, got ", doc.type_name())));
  Hardware hw;
  absl::Status status = [&]() -> absl::Status {
    SNNPLAN_RETURN_IF_ERROR(
        root.ExpectObject(
            {"name", "cores", "offchip", "noc", "spike_encoding", "clock_hz", "precision"}));
    JsonField c = root;
    SNNPLAN_ASSIGN_OR_RETURN(c, root.Child("name"));
    SNNPLAN_ASSIGN_OR_RETURN(hw.name, c.String());
    if (hw.name.empty()) return c.Error("must not be empty");
    SNNPLAN_ASSIGN_OR_RETURN(c, root.Child("cores"));
    SNNPLAN_RETURN_IF_ERROR(c.ExpectArray());
    if (c.value().empty()) return c.Error("must list at least one core");
    std::set<int> ids;
    for (size_t i = 0; i < c.value().size(); ++i) {
      Core core;
      SNNPLAN_ASSIGN_OR_RETURN(core, ReadCore(c.Element(i)));
      if (!ids.insert(core.id).second)
        return c.Element(i).Error(absl::StrCat("duplicate core id ", core.id));
      hw.cores.push_back(std::move(core));
    }
    SNNPLAN_ASSIGN_OR_RETURN(c, root.Child("offchip"));
    SNNPLAN_ASSIGN_OR_RETURN(hw.offchip, ReadOffchip(c));
    if (root.Has("noc")) {
      SNNPLAN_ASSIGN_OR_RETURN(c, root.Child("noc"));
      SNNPLAN_ASSIGN_OR_RETURN(hw.noc, ReadNoc(c, hw.cores));
    } else {
      // One core needs no mesh; place cores on a row so the model is complete.
      hw.noc.link_bw_bits_per_cycle = hw.offchip.bw_bits_per_cycle;
      for (size_t i = 0; i < hw.cores.size(); ++i)
        hw.noc.positions.push_back({hw.cores[i].id, static_cast<int64_t>(i), 0});
      SortByCore(hw.noc.positions);
    }
    if (root.Has("spike_encoding")) {
      SNNPLAN_ASSIGN_OR_RETURN(c, root.Child("spike_encoding"));
      SNNPLAN_ASSIGN_OR_RETURN(hw.spike_encoding, ReadSpikeEncoding(c));
    }
    if (root.Has("clock_hz")) {  // optional; absent = unknown (latency in cycles only)
      SNNPLAN_ASSIGN_OR_RETURN(c, root.Child("clock_hz"));
      if (!c.value().is_number())
        return c.Error(absl::StrCat("expected a number of Hz, got ", c.value().type_name()));
      hw.clock_hz = c.value().get<double>();
      if (!std::isfinite(hw.clock_hz) || hw.clock_hz <= 0) return c.Error("must be > 0 (Hz)");
    }
    if (root.Has("precision")) {
      SNNPLAN_ASSIGN_OR_RETURN(c, root.Child("precision"));
      SNNPLAN_ASSIGN_OR_RETURN(hw.precision, ReadPrecision(c));
    }
    // A crossbar row must hold at least one weight at the declared precision
    // (a weight's bits are split over adjacent columns).
    for (size_t i = 0; i < hw.cores.size(); ++i) {
      const ImcArrays& imc = hw.cores[i].imc;
      if (!imc.present()) continue;
      const int64_t needed = (hw.precision.weight_bits + imc.bits_per_cell - 1) / imc.bits_per_cell;
      if (imc.columns < needed)
        return absl::InvalidArgumentError(
            absl::StrCat("cores[", i, "].imc.columns: ", imc.columns, " columns cannot hold one ",
                         hw.precision.weight_bits, "-bit weight (precision.weight_bits) at ",
                         imc.bits_per_cell, " bits per cell, which takes ", needed, " columns"));
    }
    return absl::OkStatus();
  }();
  if (!status.ok()) return with_source(status);
  return hw;
}

namespace {
bool EndsWith(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}
// Hardware YAML files are a few KB; a bound keeps yaml-cpp's node tree small.
constexpr int64_t kMaxYamlFileBytes = int64_t{16} << 20;
}  // namespace

absl::StatusOr<Hardware> LoadFile(const std::string& path) {
  if (EndsWith(path, ".yaml") || EndsWith(path, ".yml")) {
    absl::StatusOr<std::string> yaml = ReadInputFile(path, "hardware file", kMaxYamlFileBytes);
    if (!yaml.ok()) return yaml.status();
    return FromZigZagYaml(*yaml, path);
  }
  absl::StatusOr<std::string> read = ReadInputFile(path, "hardware file", kMaxJsonFileBytes);
  if (!read.ok()) return read.status();
  const std::string& text = *read;
  if (text.find_first_not_of(" \t\r\n") == std::string::npos)
    return absl::InvalidArgumentError(absl::StrCat(path, ": empty file (expected a JSON object)"));
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": invalid JSON: ", e.what()));
  }
  return FromJson(doc, path);
}

std::vector<std::string> PresetNames() {
  std::vector<std::string> names;
  for (const auto& [name, text] : internal::PresetSources()) names.emplace_back(name);
  return names;
}

absl::StatusOr<Hardware> Preset(std::string_view name_in) {
  const std::string name(name_in);
  for (const auto& [preset, text] : internal::PresetSources()) {
    if (preset != name) continue;
    return FromJson(nlohmann::json::parse(text), "preset " + name);
  }
  return absl::NotFoundError(absl::StrCat("unknown hardware preset '", name,
                                          "' (presets: ", absl::StrJoin(PresetNames(), ", "),
                                          "; or give a JSON file path)"));
}

absl::StatusOr<Hardware> Resolve(const std::string& preset_or_path) {
  for (const std::string& name : PresetNames())
    if (name == preset_or_path) return Preset(name);
  std::error_code ec;
  if (preset_or_path.find('/') == std::string::npos &&
      preset_or_path.find('.') == std::string::npos && !std::filesystem::exists(preset_or_path, ec))
    return Preset(preset_or_path);  // looks like a preset name: say which exist
  return LoadFile(preset_or_path);
}

absl::Status ResizeGlobalBuffer(Hardware& hw, int64_t bytes) {
  if (bytes <= 0) return absl::InvalidArgumentError("--sram: size must be > 0");
  if (bytes > kMaxSizeBits / 8) return absl::InvalidArgumentError("--sram: size too large");
  const int64_t bits = bytes * 8;
  for (Core& core : hw.cores) {
    MemoryLevel& gb = core.memories.back();
    const int64_t bank_bits = std::max<int64_t>(1, gb.size_bits / gb.banks);
    const int64_t r_per_bank = std::max<int64_t>(1, gb.read_bw_bits_per_cycle / gb.banks);
    const int64_t w_per_bank = std::max<int64_t>(1, gb.write_bw_bits_per_cycle / gb.banks);
    const int64_t banks = (bits + bank_bits - 1) / bank_bits;
    // per_bank * banks, saturating at max_bw (or the loader's bandwidth limit,
    // so the result still loads and the product cannot overflow).
    const int64_t limit = gb.max_bw_bits_per_cycle > 0 ? gb.max_bw_bits_per_cycle : kMaxBandwidth;
    auto cap = [&](int64_t per_bank) {
      return per_bank > limit / banks ? limit : std::min(per_bank * banks, limit);
    };
    gb.size_bits = bits;
    gb.banks = banks;
    gb.read_bw_bits_per_cycle = cap(r_per_bank);
    gb.write_bw_bits_per_cycle = cap(w_per_bank);
    gb.access_granularity_bits = std::min(gb.access_granularity_bits, bits);
  }
  return absl::OkStatus();
}

nlohmann::json ToJson(const Hardware& hw) {
  nlohmann::json cores = nlohmann::json::array();
  for (const Core& core : hw.cores) {
    nlohmann::json dims = nlohmann::json::array(), sizes = nlohmann::json::array();
    for (const ArrayDimension& d : core.operational_array.dimensions) {
      dims.push_back(d.name);
      sizes.push_back(d.size);
    }
    nlohmann::json dataflows = nlohmann::json::object();
    for (const SpatialUnroll& u : core.dataflows)
      dataflows[u.array_dim] = {std::string(ir::DimName(u.loop)), u.size};
    nlohmann::json memories = nlohmann::json::array();
    for (const MemoryLevel& m : core.memories) {
      nlohmann::json ops = nlohmann::json::array();
      for (ir::Operand op : m.operands) ops.push_back(std::string(ir::OperandName(op)));
      memories.push_back({{"name", m.name},
                          {"size_bits", m.size_bits},
                          {"read_energy_fj_per_bit", m.read_energy_fj_per_bit},
                          {"write_energy_fj_per_bit", m.write_energy_fj_per_bit},
                          {"read_bw_bits_per_cycle", m.read_bw_bits_per_cycle},
                          {"write_bw_bits_per_cycle", m.write_bw_bits_per_cycle},
                          {"operands", ops},
                          {"served_dimensions", m.served_dimensions},
                          {"banks", m.banks},
                          {"granularity_bits", m.access_granularity_bits},
                          {"max_bw_bits_per_cycle", m.max_bw_bits_per_cycle}});
      if (m.max_bw_bits_per_cycle == 0) memories.back().erase("max_bw_bits_per_cycle");
    }
    const OperationalArray& a = core.operational_array;
    cores.push_back({{"id", core.id},
                     {"operational_array",
                      {{"dimensions", dims},
                       {"sizes", sizes},
                       {"energy_fj_per_op",
                        {{"mac", a.mac_energy_fj},
                         {"sop", a.sop_energy_fj},
                         {"neuron_update", a.neuron_update_energy_fj}}},
                       {"sparse_speedup", a.sparse_speedup}}},
                     {"dataflows", dataflows},
                     {"memories", memories}});
    // Written only when declared, so descriptions that exploit no activity
    // print (and embed in manifests) exactly as before.
    if (a.zero_skipping) cores.back()["operational_array"]["zero_skipping"] = true;
    if (core.imc.present())  // likewise: cores without crossbars print as before
      cores.back()["imc"] = {{"arrays", core.imc.arrays},
                             {"rows", core.imc.rows},
                             {"columns", core.imc.columns},
                             {"bits_per_cell", core.imc.bits_per_cell},
                             {"energy_fj_per_activation", core.imc.energy_fj_per_activation},
                             {"energy_fj_per_column_read", core.imc.energy_fj_per_column_read},
                             {"cycles_per_activation", core.imc.cycles_per_activation},
                             {"write_energy_fj_per_cell", core.imc.write_energy_fj_per_cell}};
  }
  nlohmann::json positions = nlohmann::json::array();
  for (const NocPosition& p : hw.noc.positions)
    positions.push_back({{"core", p.core}, {"x", p.x}, {"y", p.y}});
  nlohmann::json doc = {
      {"name", hw.name},
      {"cores", cores},
      {"offchip",
       {{"read_energy_fj_per_bit", hw.offchip.read_energy_fj_per_bit},
        {"write_energy_fj_per_bit", hw.offchip.write_energy_fj_per_bit},
        {"bw_bits_per_cycle", hw.offchip.bw_bits_per_cycle}}},
      {"noc",
       {{"positions", positions},
        {"link_bw_bits_per_cycle", hw.noc.link_bw_bits_per_cycle},
        {"link_energy_fj_per_bit_per_hop", hw.noc.link_energy_fj_per_bit_per_hop}}}};
  nlohmann::json precision = nlohmann::json::object();
  for (const PrecisionField& field : kPrecisionFields)
    precision[std::string(field.key)] = hw.precision.*field.bits;
  doc["precision"] = precision;
  if (hw.spike_encoding.format != SpikeFormat::kDense) {  // only when declared, as above
    doc["spike_encoding"] = {{"format", std::string(SpikeFormatName(hw.spike_encoding.format))}};
    if (hw.spike_encoding.address_bits > 0)
      doc["spike_encoding"]["address_bits"] = hw.spike_encoding.address_bits;
  }
  if (hw.clock_hz > 0) doc["clock_hz"] = hw.clock_hz;  // only when known, as above
  return doc;
}

namespace {
std::string HumanBits(int64_t bits) {
  if (bits % 8 != 0 || bits < 8 * 1024) return absl::StrCat(bits, " bit");
  int64_t bytes = bits / 8;
  if (bytes % (1 << 20) == 0) return absl::StrCat(bytes >> 20, " MiB");
  if (bytes % 1024 == 0) return absl::StrCat(bytes >> 10, " KiB");
  return absl::StrCat(bytes, " B");
}
}  // namespace

std::string Describe(const Hardware& hw) {
  std::ostringstream out;
  out << "hardware: " << hw.name << "\n";
  if (hw.clock_hz > 0) out << "clock: " << units::Frequency(hw.clock_hz) << "\n";
  for (const Core& core : hw.cores) {
    const OperationalArray& a = core.operational_array;
    out << "core " << core.id << ": PE array ";
    for (size_t i = 0; i < a.dimensions.size(); ++i)
      out << (i ? " x " : "") << a.dimensions[i].name << "=" << a.dimensions[i].size;
    out << " (" << a.TotalPes() << " PEs); unrolling";
    for (const SpatialUnroll& u : core.dataflows)
      out << " " << std::string(ir::DimName(u.loop)) << " " << u.size;
    out << absl::StrFormat("\n  energy: MAC %g fJ, SOP %g fJ, neuron update %g fJ\n",
                           a.mac_energy_fj, a.sop_energy_fj, a.neuron_update_energy_fj);
    if (a.zero_skipping || a.sparse_speedup)
      out << absl::StrFormat(
          "  activity: %s%s%s\n",
          a.zero_skipping ? "zero-skipping (SOP energy x input density)" : "",
          a.zero_skipping && a.sparse_speedup ? ", " : "",
          a.sparse_speedup ? "sparse speed-up (SOP cycles x input density)" : "");
    if (core.imc.present()) {
      const ImcArrays& x = core.imc;
      out << absl::StrFormat(
          "  imc: %d crossbar arrays of %d rows x %d columns, %d bit(s) per cell (%d cells); "
          "conv/linear weights stay in them\n"
          "       per activation %g fJ + %g fJ per column read, %d cycle(s); "
          "programming %g fJ per cell (once per deployment)\n",
          x.arrays, x.rows, x.columns, x.bits_per_cell, x.arrays * x.rows * x.columns,
          x.energy_fj_per_activation, x.energy_fj_per_column_read, x.cycles_per_activation,
          x.write_energy_fj_per_cell);
    }
    out << absl::StrFormat("  %-16s %-10s %10s %10s %9s %9s %6s %s\n", "memory", "operands", "size",
                           "r/w fJ/b", "r_bw", "w_bw", "banks", "role");
    for (size_t i = 0; i < core.memories.size(); ++i) {
      const MemoryLevel& m = core.memories[i];
      std::string ops;
      for (ir::Operand op : m.operands) ops += std::string(ir::OperandName(op));
      bool gb = i + 1 == core.memories.size();
      out << absl::StrFormat(
          "  %-16s %-10s %10s %4g/%-5g %9d %9d %6d %s\n", m.name, ops, HumanBits(m.size_bits),
          m.read_energy_fj_per_bit, m.write_energy_fj_per_bit, m.read_bw_bits_per_cycle,
          m.write_bw_bits_per_cycle, m.banks, gb ? "sram (global buffer, --sram)" : "local");
    }
  }
  out << absl::StrFormat("offchip DRAM: r/w %g/%g fJ/bit, %d bit/cycle\n",
                         hw.offchip.read_energy_fj_per_bit, hw.offchip.write_energy_fj_per_bit,
                         hw.offchip.bw_bits_per_cycle);
  out << absl::StrFormat("noc: %d core(s), link %d bit/cycle, %g fJ/bit/hop\n",
                         hw.noc.positions.size(), hw.noc.link_bw_bits_per_cycle,
                         hw.noc.link_energy_fj_per_bit_per_hop);
  out << absl::StrFormat(
      "precision (bits; flags override): weights %d, input %d, features %d, state %d, "
      "accumulator %d\n",
      hw.precision.weight_bits, hw.precision.input_bits, hw.precision.feature_bits,
      hw.precision.state_bits, hw.precision.accumulator_bits);
  if (hw.spike_encoding.format != SpikeFormat::kDense)
    out << absl::StrFormat(
        "spike encoding on links: %s%s\n", SpikeFormatName(hw.spike_encoding.format),
        hw.spike_encoding.format != SpikeFormat::kAddressEvent ? ""
        : hw.spike_encoding.address_bits > 0
            ? absl::StrFormat(", %d-bit addresses", hw.spike_encoding.address_bits)
            : std::string(", addresses of ceil(log2(map elements)) bits per tensor"));
  return out.str();
}

}  // namespace snnplan::hw
