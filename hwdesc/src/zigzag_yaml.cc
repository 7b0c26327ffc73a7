// ZigZag's accelerator YAML (KULeuven-MICAS/zigzag, zigzag/inputs/hardware/)
// read as ZigZag users write it, with Debian's yaml-cpp, and converted to
// snnplan's description: sizes and bandwidths are bits (as in ZigZag),
// r_cost/w_cost are pJ per access of r_bw/w_bw bits (-> fJ per bit), the
// operational array's unit_energy is pJ per MAC (-> fJ per operation). The
// mapping and what is refused are documented in docs/hardware.md, "ZigZag
// YAML". The converted description goes through FromJson, so it is validated
// exactly like a JSON file; errors name the YAML key path.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "snnplan/hwdesc.h"

namespace snnplan::hw {
namespace {

constexpr int64_t kMaxSizeBits = int64_t{1} << 50;   // as the JSON loader
constexpr int64_t kMaxBandwidth = int64_t{1} << 40;  // bits per cycle
constexpr double kMaxEnergyFj = 1e12;                // as the JSON loader
constexpr size_t kMaxMemories = 64;
constexpr size_t kMaxListItems = 64;  // ports, operands, dimensions

// A YAML node and its key path ("memories.sram_1MB.r_cost").
struct Field {
  YAML::Node node;
  std::string path;

  absl::Status Error(absl::string_view what) const {
    std::string where;
    const YAML::Mark mark = node.Mark();
    if (!mark.is_null()) where = absl::StrCat(" (line ", mark.line + 1, ")");
    return absl::InvalidArgumentError(
        absl::StrCat(path.empty() ? "(top level)" : path, ": ", what, where));
  }
  Field Child(const std::string& key) const {
    return {node[key], path.empty() ? key : absl::StrCat(path, ".", key)};
  }
  bool Has(const std::string& key) const { return node.IsMap() && node[key].IsDefined(); }
};

std::string KindName(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Null:
      return "nothing (null)";
    case YAML::NodeType::Scalar:
      return n.Tag() == "!" ? absl::StrCat("the quoted string '", n.Scalar(), "'")
                            : absl::StrCat("'", n.Scalar(), "'");
    case YAML::NodeType::Undefined:
      break;
  }
  return "nothing";
}

// The keys of a mapping, in document order; refuses duplicates, non-scalar
// keys and keys outside `read` and `ignored`.
absl::StatusOr<std::vector<std::string>> Keys(const Field& f,
                                              const std::vector<absl::string_view>& read,
                                              const std::vector<absl::string_view>& ignored) {
  if (!f.node.IsMap()) return f.Error(absl::StrCat("expected a mapping, got ", KindName(f.node)));
  std::vector<std::string> keys;
  std::set<std::string> seen;
  for (const auto& kv : f.node) {
    if (!kv.first.IsScalar()) return f.Error("keys must be plain names");
    const std::string key = kv.first.Scalar();
    if (!seen.insert(key).second)
      return Field{kv.first, f.path.empty() ? key : absl::StrCat(f.path, ".", key)}.Error(
          "duplicate key");
    if (!read.empty() || !ignored.empty()) {
      const bool known = std::find(read.begin(), read.end(), key) != read.end() ||
                         std::find(ignored.begin(), ignored.end(), key) != ignored.end();
      if (!known)
        return Field{kv.first, f.path.empty() ? key : absl::StrCat(f.path, ".", key)}.Error(
            absl::StrCat("unknown key (snnplan reads ", absl::StrJoin(read, ", "),
                         ignored.empty() ? "" : "; it ignores ", absl::StrJoin(ignored, ", "),
                         ")"));
    }
    keys.push_back(key);
  }
  return keys;
}

absl::StatusOr<Field> Required(const Field& f, const std::string& key,
                               absl::string_view hint = {}) {
  if (!f.Has(key))
    return f.Error(
        absl::StrCat("missing required key '", key, "'", hint.empty() ? "" : ": ", hint));
  return f.Child(key);
}

// A plain scalar (a quoted "8" is a string in YAML, as ZigZag reads it too).
absl::StatusOr<std::string> PlainScalar(const Field& f, absl::string_view expected) {
  if (!f.node.IsScalar() || f.node.Tag() == "!")
    return f.Error(absl::StrCat("expected ", expected, ", got ", KindName(f.node)));
  return f.node.Scalar();
}

absl::StatusOr<double> Number(const Field& f) {
  absl::StatusOr<std::string> text = PlainScalar(f, "a number");
  if (!text.ok()) return text.status();
  double d = 0;
  if (!absl::SimpleAtod(*text, &d))
    return f.Error(absl::StrCat("expected a number, got '", *text, "'"));
  if (!std::isfinite(d)) return f.Error("must be finite");
  return d;
}

absl::StatusOr<double> NonNegative(const Field& f) {
  absl::StatusOr<double> d = Number(f);
  if (!d.ok()) return d.status();
  if (*d < 0) return f.Error("must be >= 0");
  return *d;
}

absl::StatusOr<int64_t> Integer(const Field& f) {
  absl::StatusOr<std::string> text = PlainScalar(f, "an integer");
  if (!text.ok()) return text.status();
  int64_t v = 0;
  if (absl::SimpleAtoi(*text, &v)) return v;
  double d = 0;  // an integral float (8.0), as the JSON loader accepts
  if (absl::SimpleAtod(*text, &d) && std::isfinite(d) && d == std::floor(d) &&
      std::fabs(d) < 9.0e18)
    return static_cast<int64_t>(d);
  return f.Error(absl::StrCat("expected an integer, got '", *text, "'"));
}

absl::StatusOr<int64_t> Positive(const Field& f, int64_t limit, absl::string_view unit) {
  absl::StatusOr<int64_t> v = Integer(f);
  if (!v.ok()) return v.status();
  if (*v <= 0) return f.Error("must be > 0");
  if (*v > limit) return f.Error(absl::StrCat("too large (limit ", limit, " ", unit, ")"));
  return *v;
}

absl::StatusOr<bool> Boolean(const Field& f) {
  absl::StatusOr<std::string> text = PlainScalar(f, "true or false");
  if (!text.ok()) return text.status();
  const std::string t = absl::AsciiStrToLower(*text);
  if (t == "true" || t == "yes" || t == "on") return true;
  if (t == "false" || t == "no" || t == "off") return false;
  return f.Error(absl::StrCat("expected true or false, got '", *text, "'"));
}

absl::StatusOr<std::string> String(const Field& f) {
  if (!f.node.IsScalar()) return f.Error(absl::StrCat("expected a name, got ", KindName(f.node)));
  return f.node.Scalar();
}

// A list of scalars (an empty list `[]` is fine).
absl::StatusOr<std::vector<std::string>> Strings(const Field& f) {
  if (!f.node.IsSequence()) return f.Error(absl::StrCat("expected a list, got ", KindName(f.node)));
  if (f.node.size() > kMaxListItems)
    return f.Error(absl::StrCat("more than ", kMaxListItems, " entries"));
  std::vector<std::string> out;
  for (size_t i = 0; i < f.node.size(); ++i) {
    absl::StatusOr<std::string> s = String({f.node[i], absl::StrCat(f.path, "[", i, "]")});
    if (!s.ok()) return s.status();
    out.push_back(*s);
  }
  return out;
}

// pJ per access of `bw_bits` bits -> fJ per bit.
absl::StatusOr<double> FjPerBit(const Field& cost, int64_t bw_bits) {
  absl::StatusOr<double> pj = NonNegative(cost);
  if (!pj.ok()) return pj.status();
  const double fj_per_bit = *pj * 1000.0 / static_cast<double>(bw_bits);
  if (fj_per_bit > kMaxEnergyFj) return cost.Error("too large (limit 1e12 fJ per bit)");
  return fj_per_bit;
}

// One ZigZag memory as read from the file.
struct ZzMemory {
  std::string name;
  std::string path;  // "memories.<name>"
  int64_t size_bits = 0;
  int64_t r_bw = 0, w_bw = 0;
  double read_fj_per_bit = 0, write_fj_per_bit = 0;
  int64_t granularity_bits = 0;    // 0 = not given
  std::set<std::string> operands;  // I1, I2, O
  std::vector<std::string> operand_order;
  std::vector<std::string> served_dimensions;
};

// Bandwidths from ZigZag's newest port format: a list of
// {name, type: read|write|read_write, bandwidth_min, bandwidth_max, allocation}.
absl::Status ReadPortBandwidths(const Field& ports, ZzMemory& m, bool need_r, bool need_w) {
  if (!ports.node.IsSequence())
    return ports.Error(absl::StrCat("expected a list of ports, got ", KindName(ports.node)));
  if (ports.node.size() > kMaxListItems)
    return ports.Error(absl::StrCat("more than ", kMaxListItems, " ports"));
  int64_t r = 0, w = 0, min_bw = 0;
  for (size_t i = 0; i < ports.node.size(); ++i) {
    const Field p{ports.node[i], absl::StrCat(ports.path, "[", i, "]")};
    if (!p.node.IsMap()) return p.Error(absl::StrCat("expected a mapping, got ", KindName(p.node)));
    if (!p.Has("bandwidth_max")) continue;  // the older {fh, tl, ...} allocation form
    absl::StatusOr<std::vector<std::string>> keys =
        Keys(p, {"type", "bandwidth_min", "bandwidth_max"}, {"name", "allocation"});
    if (!keys.ok()) return keys.status();
    absl::StatusOr<Field> type_f = Required(p, "type", "read, write or read_write");
    if (!type_f.ok()) return type_f.status();
    absl::StatusOr<std::string> type = String(*type_f);
    if (!type.ok()) return type.status();
    if (*type != "read" && *type != "write" && *type != "read_write")
      return type_f->Error(
          absl::StrCat("'", *type, "' is not a port type (read, write, read_write)"));
    absl::StatusOr<int64_t> max_bw =
        Positive(p.Child("bandwidth_max"), kMaxBandwidth, "bits per cycle");
    if (!max_bw.ok()) return max_bw.status();
    if (*type != "write") r = std::max(r, *max_bw);
    if (*type != "read") w = std::max(w, *max_bw);
    if (p.Has("bandwidth_min")) {
      const Field min_f = p.Child("bandwidth_min");
      absl::StatusOr<int64_t> v = Positive(min_f, kMaxBandwidth, "bits per cycle");
      if (!v.ok()) return v.status();
      if (*v > *max_bw) return min_f.Error("larger than bandwidth_max");
      min_bw = std::max(min_bw, *v);
    }
  }
  if (need_r) {
    if (r == 0)
      return ports.Error(
          "no read bandwidth: give r_bw, or a read (or read_write) port with bandwidth_max");
    m.r_bw = r;
  }
  if (need_w) {
    if (w == 0)
      return ports.Error(
          "no write bandwidth: give w_bw, or a write (or read_write) port with bandwidth_max");
    m.w_bw = w;
  }
  if (min_bw > 0) m.granularity_bits = std::max(m.granularity_bits, min_bw);
  return absl::OkStatus();
}

absl::StatusOr<ZzMemory> ReadMemory(const Field& f, const std::string& name, bool offchip) {
  ZzMemory m;
  m.name = name;
  m.path = f.path;
  absl::StatusOr<std::vector<std::string>> keys = Keys(
      f,
      {"size", "r_cost", "w_cost", "r_bw", "w_bw", "operands", "served_dimensions", "ports",
       "min_r_granularity", "min_w_granularity", "auto_cost_extraction"},
      {"area", "latency", "r_port", "w_port", "rw_port", "mem_type", "double_buffering_support"});
  if (!keys.ok()) return keys.status();
  if (f.Has("auto_cost_extraction")) {
    absl::StatusOr<bool> cacti = Boolean(f.Child("auto_cost_extraction"));
    if (!cacti.ok()) return cacti.status();
    if (*cacti)
      return f.Child("auto_cost_extraction")
          .Error("snnplan does not run CACTI: give r_cost and w_cost (pJ per access) instead");
  }
  absl::StatusOr<Field> c = Required(f, "size", "bits");
  if (!c.ok()) return c.status();
  // DRAM's size (ZigZag writes 10000000000) is not used: off-chip is unbounded.
  absl::StatusOr<int64_t> size =
      Positive(*c, offchip ? INT64_MAX : kMaxSizeBits, offchip ? "" : "bits");
  if (!size.ok()) return size.status();
  m.size_bits = *size;
  // Bandwidths: r_bw/w_bw (ZigZag 3), else the ports' bandwidth_max (newest).
  const bool has_r = f.Has("r_bw"), has_w = f.Has("w_bw");
  if (has_r) {
    absl::StatusOr<int64_t> v = Positive(f.Child("r_bw"), kMaxBandwidth, "bits per cycle");
    if (!v.ok()) return v.status();
    m.r_bw = *v;
  }
  if (has_w) {
    absl::StatusOr<int64_t> v = Positive(f.Child("w_bw"), kMaxBandwidth, "bits per cycle");
    if (!v.ok()) return v.status();
    m.w_bw = *v;
  }
  if (!has_r || !has_w) {
    if (!f.Has("ports"))
      return f.Error(absl::StrCat("missing required key '", has_r ? "w_bw" : "r_bw",
                                  "' (bits per cycle), or ports with bandwidth_max"));
    if (absl::Status s = ReadPortBandwidths(f.Child("ports"), m, !has_r, !has_w); !s.ok()) return s;
  }
  for (const char* key : {"min_r_granularity", "min_w_granularity"}) {
    if (!f.Has(key)) continue;
    const Field g = f.Child(key);
    if (g.node.IsNull()) continue;  // ZigZag's default: none
    absl::StatusOr<int64_t> v = Positive(g, kMaxBandwidth, "bits");
    if (!v.ok()) return v.status();
    m.granularity_bits = std::max(m.granularity_bits, *v);
  }
  if (!offchip && m.granularity_bits > m.size_bits)
    return f.Error(absl::StrCat("minimum access granularity ", m.granularity_bits,
                                " bits is larger than the memory (", m.size_bits, " bits)"));
  c = Required(f, "r_cost", "pJ per read of r_bw bits (snnplan does not run CACTI)");
  if (!c.ok()) return c.status();
  absl::StatusOr<double> e = FjPerBit(*c, m.r_bw);
  if (!e.ok()) return e.status();
  m.read_fj_per_bit = *e;
  c = Required(f, "w_cost", "pJ per write of w_bw bits (snnplan does not run CACTI)");
  if (!c.ok()) return c.status();
  e = FjPerBit(*c, m.w_bw);
  if (!e.ok()) return e.status();
  m.write_fj_per_bit = *e;
  c = Required(f, "operands", "a list of I1, I2, O");
  if (!c.ok()) return c.status();
  absl::StatusOr<std::vector<std::string>> ops = Strings(*c);
  if (!ops.ok()) return ops.status();
  if (ops->empty()) return c->Error("must hold at least one operand (I1, I2, O)");
  for (size_t i = 0; i < ops->size(); ++i) {
    const std::string& op = (*ops)[i];
    const Field op_f{c->node[i], absl::StrCat(c->path, "[", i, "]")};
    if (op != "I1" && op != "I2" && op != "O")
      return op_f.Error(absl::StrCat("'", op, "' is not a ZigZag memory operand (I1, I2, O)"));
    if (!m.operands.insert(op).second)
      return op_f.Error(absl::StrCat("operand ", op, " listed twice"));
    m.operand_order.push_back(op);
  }
  c = Required(f, "served_dimensions", "a list of array dimensions, [] for one instance per PE");
  if (!c.ok()) return c.status();
  absl::StatusOr<std::vector<std::string>> served = Strings(*c);
  if (!served.ok()) return served.status();
  m.served_dimensions = *served;
  return m;
}

// snnplan's operands held where ZigZag's memory operands are: I1 (the layer
// input) -> I, I2 (the weights) -> W, O -> O and the neuron state S.
nlohmann::json OurOperands(const ZzMemory& m) {
  nlohmann::json out = nlohmann::json::array();
  for (const char* ours : {"W", "I", "O", "S"}) {
    const std::string zz = ours[0] == 'W' ? "I2" : ours[0] == 'I' ? "I1" : "O";
    if (m.operands.count(zz)) out.push_back(ours);
  }
  return out;
}

struct Converted {
  nlohmann::json doc;
  std::vector<std::string> memory_paths;  // on-chip, in order
  std::string dram_path;
};

absl::StatusOr<nlohmann::json> ReadOperationalArray(const Field& f, nlohmann::json& precision) {
  absl::StatusOr<std::vector<std::string>> keys =
      Keys(f,
           {"dimensions", "sizes", "unit_energy", "multiplier_energy", "input_precision", "is_imc",
            "imc_type", "adc_resolution", "bit_serial_precision"},
           {"unit_area", "multiplier_area"});
  if (!keys.ok()) return keys.status();
  if (f.Has("is_imc")) {
    absl::StatusOr<bool> imc = Boolean(f.Child("is_imc"));
    if (!imc.ok()) return imc.status();
    if (*imc)
      return f.Child("is_imc").Error(
          "in-memory-computing arrays are not modelled by snnplan (digital PE arrays only)");
  }
  for (const char* key : {"imc_type", "bit_serial_precision"})
    if (f.Has(key) && !f.Child(key).node.IsNull())
      return f.Child(key).Error("in-memory-computing arrays are not modelled by snnplan");
  if (f.Has("adc_resolution")) {
    absl::StatusOr<double> adc = Number(f.Child("adc_resolution"));
    if (!adc.ok()) return adc.status();
    if (*adc != 0)
      return f.Child("adc_resolution")
          .Error("in-memory-computing arrays are not modelled by snnplan");
  }
  absl::StatusOr<Field> c = Required(f, "dimensions", "e.g. [D1, D2]");
  if (!c.ok()) return c.status();
  absl::StatusOr<std::vector<std::string>> dims = Strings(*c);
  if (!dims.ok()) return dims.status();
  c = Required(f, "sizes", "one size per dimension");
  if (!c.ok()) return c.status();
  if (!c->node.IsSequence())
    return c->Error(absl::StrCat("expected a list, got ", KindName(c->node)));
  if (c->node.size() > kMaxListItems)
    return c->Error(absl::StrCat("more than ", kMaxListItems, " entries"));
  nlohmann::json sizes = nlohmann::json::array();
  for (size_t i = 0; i < c->node.size(); ++i) {
    absl::StatusOr<int64_t> v =
        Positive({c->node[i], absl::StrCat(c->path, "[", i, "]")}, int64_t{1} << 20, "PEs");
    if (!v.ok()) return v.status();
    sizes.push_back(*v);
  }
  if (f.Has("unit_energy") && f.Has("multiplier_energy"))
    return f.Child("multiplier_energy")
        .Error("given together with unit_energy (the same quantity, pJ per MAC); keep one");
  const std::string energy_key = f.Has("multiplier_energy") ? "multiplier_energy" : "unit_energy";
  c = Required(f, energy_key, "pJ per MAC");
  if (!c.ok()) return c.status();
  absl::StatusOr<double> pj = NonNegative(*c);
  if (!pj.ok()) return pj.status();
  const double fj = *pj * 1000.0;
  if (fj > kMaxEnergyFj) return c->Error("too large (limit 1e9 pJ)");
  if (f.Has("input_precision")) {
    // ZigZag: [precision of I1, precision of I2] = [activations, weights].
    const Field p = f.Child("input_precision");
    if (!p.node.IsSequence() || p.node.size() != 2)
      return p.Error("expected [activation bits, weight bits] (ZigZag's I1, I2)");
    for (size_t i = 0; i < 2; ++i) {
      const Field e{p.node[i], absl::StrCat(p.path, "[", i, "]")};
      absl::StatusOr<int64_t> bits = Integer(e);
      if (!bits.ok()) return bits.status();
      if (*bits < 1 || *bits > 64) return e.Error("must be in 1..64 (bits)");
      if (i == 0) {
        precision["input_bits"] = *bits;
        precision["feature_bits"] = *bits;
      } else {
        precision["weight_bits"] = *bits;
      }
    }
  }
  return nlohmann::json{{"dimensions", *dims},
                        {"sizes", sizes},
                        // ZigZag prices every operation of the array as one
                        // MAC; so does snnplan, SOPs included.
                        {"energy_fj_per_op", {{"mac", fj}, {"sop", fj}, {"neuron_update", 0}}}};
}

// ZigZag: {D1: ["K, 32"]} (one "LOOP, SIZE" string per unrolled loop);
// also [K, 32] as snnplan writes it.
absl::StatusOr<nlohmann::json> ReadDataflows(const Field& f, const nlohmann::json& array) {
  absl::StatusOr<std::vector<std::string>> keys = Keys(f, {}, {});
  if (!keys.ok()) return keys.status();
  nlohmann::json out = nlohmann::json::object();
  for (const std::string& dim : *keys) {
    const Field d = f.Child(dim);
    if (!d.node.IsSequence() || d.node.size() == 0)
      return d.Error("expected a list like [\"K, 32\"]");
    std::string loop, size_text;
    const Field first{d.node[0], absl::StrCat(d.path, "[0]")};
    absl::StatusOr<std::string> s0 = String(first);
    if (!s0.ok()) return s0.status();
    if (s0->find(',') != std::string::npos) {  // ZigZag's "K, 32"
      if (d.node.size() > 1)
        return Field{d.node[1], absl::StrCat(d.path, "[1]")}.Error(
            "a second loop unrolled on the same array dimension: snnplan unrolls one loop per "
            "array dimension");
      std::vector<std::string> parts = absl::StrSplit(*s0, ',');
      if (parts.size() != 2) return first.Error("expected \"LOOP, SIZE\", e.g. \"K, 32\"");
      loop = std::string(absl::StripAsciiWhitespace(parts[0]));
      size_text = std::string(absl::StripAsciiWhitespace(parts[1]));
    } else {  // [K, 32]
      if (d.node.size() != 2) return d.Error("expected [\"K, 32\"] or [K, 32]");
      loop = *s0;
      absl::StatusOr<std::string> s1 =
          PlainScalar({d.node[1], absl::StrCat(d.path, "[1]")}, "a size");
      if (!s1.ok()) return s1.status();
      size_text = *s1;
    }
    int64_t size = 0;
    if (!absl::SimpleAtoi(size_text, &size) || size <= 0)
      return first.Error(absl::StrCat("'", size_text, "' is not a positive unrolling size"));
    const nlohmann::json& names = array["dimensions"];
    const auto it = std::find(names.begin(), names.end(), dim);
    if (it == names.end())
      return d.Error(absl::StrCat("not an array dimension (operational_array.dimensions: ",
                                  absl::StrJoin(names.get<std::vector<std::string>>(), ", "), ")"));
    const int64_t dim_size = array["sizes"][it - names.begin()].get<int64_t>();
    if (size > dim_size)
      return first.Error(absl::StrCat("unrolls ", loop, " by ", size, " but array dimension ", dim,
                                      " has size ", dim_size));
    out[dim] = {loop, size};
  }
  return out;
}

absl::StatusOr<Converted> Convert(const Field& root) {
  absl::StatusOr<std::vector<std::string>> keys =
      Keys(root, {"name", "memories", "operational_array", "dataflows", "type"}, {});
  if (!keys.ok()) return keys.status();
  Converted out;
  absl::StatusOr<Field> c = Required(root, "name");
  if (!c.ok()) return c.status();
  absl::StatusOr<std::string> name = String(*c);
  if (!name.ok()) return name.status();
  if (name->empty()) return c->Error("must not be empty");
  if (root.Has("type")) {  // Stream's core files: type: compute
    absl::StatusOr<std::string> type = String(root.Child("type"));
    if (!type.ok()) return type.status();
    if (*type != "compute")
      return root.Child("type").Error(
          absl::StrCat("'", *type, "': only compute cores are hardware descriptions"));
  }
  nlohmann::json precision = nlohmann::json::object();
  c = Required(root, "operational_array");
  if (!c.ok()) return c.status();
  absl::StatusOr<nlohmann::json> array = ReadOperationalArray(*c, precision);
  if (!array.ok()) return array.status();

  c = Required(root, "memories");
  if (!c.ok()) return c.status();
  const Field memories_f = *c;
  absl::StatusOr<std::vector<std::string>> names = Keys(memories_f, {}, {});
  if (!names.ok()) return names.status();
  if (names->size() > kMaxMemories)
    return memories_f.Error(absl::StrCat("more than ", kMaxMemories, " memories"));
  if (names->size() < 2)
    return memories_f.Error(
        "expected the on-chip memories, innermost first, and an outermost 'dram' (off-chip)");
  std::vector<ZzMemory> mems;
  for (size_t i = 0; i < names->size(); ++i) {
    const bool last = i + 1 == names->size();
    const std::string lower = absl::AsciiStrToLower((*names)[i]);
    const Field m_f = memories_f.Child((*names)[i]);
    if (!last && absl::StartsWith(lower, "dram"))
      return m_f.Error(
          "off-chip DRAM must be the outermost (last) memory: memories are read innermost first");
    if (last && !absl::StartsWith(lower, "dram"))
      return m_f.Error(
          "the outermost memory is read as off-chip DRAM and must be named 'dram' (ZigZag's "
          "convention); add a dram memory after it (a Stream core file has none)");
    absl::StatusOr<ZzMemory> m = ReadMemory(m_f, (*names)[i], last);
    if (!m.ok()) return m.status();
    mems.push_back(*std::move(m));
  }
  const ZzMemory& dram = mems.back();
  for (const char* op : {"I1", "I2", "O"})
    if (!dram.operands.count(op))
      return memories_f.Child(dram.name)
          .Child("operands")
          .Error(absl::StrCat("off-chip DRAM must hold I1, I2 and O (", op, " is missing)"));
  if (dram.r_bw != dram.w_bw)
    return memories_f.Child(dram.name).Error(
        absl::StrCat("r_bw ", dram.r_bw, " and w_bw ", dram.w_bw,
                     " differ: snnplan's DRAM link has one bandwidth for reads and writes"));
  const ZzMemory& gb = mems[mems.size() - 2];
  for (const char* op : {"I1", "I2", "O"}) {
    if (gb.operands.count(op)) continue;
    std::string top;  // the outermost on-chip memory that does hold `op`
    for (size_t i = 0; i + 1 < mems.size(); ++i)
      if (mems[i].operands.count(op)) top = mems[i].name;
    return memories_f.Child(gb.name)
        .Child("operands")
        .Error(absl::StrCat(
            "the outermost on-chip memory is snnplan's global buffer and must hold I1, I2 and O; ",
            op, top.empty() ? " is held by no on-chip memory" : absl::StrCat(" tops out at ", top),
            ". snnplan plans one global buffer per core: split top-level buffers are not "
            "representable; merge them into one memory holding I1, I2 and O"));
  }

  nlohmann::json memories = nlohmann::json::array();
  for (size_t i = 0; i + 1 < mems.size(); ++i) {
    const ZzMemory& m = mems[i];
    nlohmann::json level = {{"name", m.name},
                            {"size_bits", m.size_bits},
                            {"read_energy_fj_per_bit", m.read_fj_per_bit},
                            {"write_energy_fj_per_bit", m.write_fj_per_bit},
                            {"read_bw_bits_per_cycle", m.r_bw},
                            {"write_bw_bits_per_cycle", m.w_bw},
                            {"operands", OurOperands(m)},
                            {"served_dimensions", m.served_dimensions}};
    if (m.granularity_bits > 0) level["granularity_bits"] = m.granularity_bits;
    memories.push_back(level);
    out.memory_paths.push_back(m.path);
  }
  out.dram_path = dram.path;
  nlohmann::json core = {{"id", 0}, {"operational_array", *array}, {"memories", memories}};
  if (!root.Has("dataflows"))
    return root.Error(
        "missing required key 'dataflows': ZigZag takes the spatial unrolling from its mapping "
        "file; snnplan needs it in the hardware, e.g. dataflows: {D1: [\"K, 32\"], D2: [\"C, "
        "2\"]}");
  absl::StatusOr<nlohmann::json> dataflows = ReadDataflows(root.Child("dataflows"), *array);
  if (!dataflows.ok()) return dataflows.status();
  core["dataflows"] = *dataflows;
  out.doc = {{"name", *name},
             {"cores", nlohmann::json::array({core})},
             {"offchip",
              {{"read_energy_fj_per_bit", dram.read_fj_per_bit},
               {"write_energy_fj_per_bit", dram.write_fj_per_bit},
               {"bw_bits_per_cycle", dram.r_bw}}}};
  if (!precision.empty()) out.doc["precision"] = precision;
  return out;
}

// FromJson names the converted description's paths; say them the YAML way.
std::string YamlPaths(std::string message, const Converted& c) {
  for (size_t i = c.memory_paths.size(); i-- > 0;)
    absl::StrReplaceAll({{absl::StrCat("cores[0].memories[", i, "]"), c.memory_paths[i]}},
                        &message);
  absl::StrReplaceAll(
      {{"cores[0].memories", "memories"},
       {"cores[0].operational_array.energy_fj_per_op.mac", "operational_array.unit_energy"},
       {"cores[0].operational_array", "operational_array"},
       {"cores[0].dataflows", "dataflows"},
       {"offchip", c.dram_path}},
      &message);
  return message;
}

}  // namespace

absl::StatusOr<Hardware> FromZigZagYaml(std::string_view text_in, std::string_view source_in) {
  const absl::string_view text(text_in.data(), text_in.size());
  const std::string source(source_in);
  auto fail = [&](const absl::Status& s) {
    return absl::Status(s.code(), absl::StrCat(source, ": ", s.message()));
  };
  if (text.find_first_not_of(" \t\r\n") == absl::string_view::npos)
    return fail(absl::InvalidArgumentError("empty file (expected a ZigZag accelerator YAML)"));
  YAML::Node doc;
  try {
    doc = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return fail(absl::InvalidArgumentError(absl::StrCat(
        "invalid YAML at line ", e.mark.line + 1, ", column ", e.mark.column + 1, ": ", e.msg)));
  }
  if (!doc.IsMap())
    return fail(absl::InvalidArgumentError(absl::StrCat(
        "expected a ZigZag accelerator (a mapping with name, memories, operational_array), got ",
        KindName(doc))));
  absl::StatusOr<Converted> converted;
  try {
    converted = Convert(Field{doc, ""});
  } catch (const YAML::Exception& e) {  // yaml-cpp throws on malformed access
    return fail(absl::InvalidArgumentError(absl::StrCat("unreadable YAML: ", e.what())));
  }
  if (!converted.ok()) return fail(converted.status());
  absl::StatusOr<Hardware> hw = FromJson(converted->doc, "");
  if (!hw.ok()) {
    // FromJson's message is "<source>: <path>: ..."; with an empty source, ": <path>: ...".
    std::string message(absl::StripPrefix(hw.status().message(), ": "));
    return fail(absl::Status(hw.status().code(), YamlPaths(std::move(message), *converted)));
  }
  return hw;
}

}  // namespace snnplan::hw
