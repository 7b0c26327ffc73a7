// Long and split runs: progress lines, rows files, --resume, --shard and
// merge (see snnplan/sweep.h, docs/cluster.md).
#include "snnplan/sweep.h"

#include <chrono>
#include <cstdlib>
#include <set>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "snnplan/activity.h"
#include "snnplan/hwdesc.h"
#include "snnplan/input_file.h"
#include "snnplan/sha256.h"
#include "snnplan/units.h"

namespace snnplan::frontend {
namespace {

using nlohmann::json;

constexpr char kRowsTag[] = "# snnplan-rows ";
constexpr int64_t kMaxRowsFileBytes = int64_t{1} << 32;

double Seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// The SHA-256 of a file's bytes ("" without a file), so a changed
// --activity or --allocation file is a different input.
std::string FileSha(const std::string& path) {
  if (path.empty()) return "";
  absl::StatusOr<std::string> text = ReadInputFile(path, "input file", kMaxRowsFileBytes);
  return text.ok() ? Sha256Hex(*text) : absl::StrCat("unreadable: ", path);
}

template <class T>
json Optional(const std::optional<T>& v) {
  return v ? json(*v) : json();
}

json ImportInputs(const ImportFlags& f) {
  const importer::ImportOptions& o = f.options;
  return {{"timesteps", Optional(o.timesteps)}, {"batch", Optional(o.batch)},
          {"dt", Optional(o.dt_seconds)},       {"input_shapes", f.input_shapes},
          {"blocks", FileSha(o.blocks_file)},   {"stateless_blocks", f.stateless_blocks},
          {"sew_join_bits", o.sew_join_bits}};
}

json PlanInputsJson(const PlanFlags& f, const ir::Workload& w, const hw::Hardware& hw) {
  json j = {{"model_sha256", w.model_sha256},
            {"hardware", hw.name},
            // Precisions included: the hardware records the ones the import used.
            {"hardware_sha256", Sha256Hex(hw::ToJson(hw).dump())},
            {"sram", f.sram},
            {"core", f.core},
            {"eviction", f.eviction},
            {"state_io", f.state_io},
            {"density", f.density},
            {"density_file", FileSha(f.density_file)},
            {"activity", FileSha(f.activity)},
            {"exit_profile", FileSha(f.exit_profile)},
            {"allocation", FileSha(f.allocation)},
            {"mapping_budget", f.budget},
            {"import", ImportInputs(f.import)}};
  if (f.core_per_network) j["core_per_network"] = true;  // only then: older rows files match
  return j;
}

// A CSV file's records (quoted fields may hold commas, quotes and newlines).
std::vector<std::vector<std::string>> ParseCsv(const std::string& text) {
  std::vector<std::vector<std::string>> records;
  std::vector<std::string> fields;
  std::string field;
  bool quoted = false, any = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
      continue;
    }
    any = true;
    if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.push_back(std::move(field));
      field.clear();
    } else if (c == '\n') {
      fields.push_back(std::move(field));
      field.clear();
      records.push_back(std::move(fields));
      fields.clear();
      any = false;
    } else {
      field += c;
    }
  }
  if (any || !field.empty()) {
    fields.push_back(std::move(field));
    records.push_back(std::move(fields));
  }
  return records;
}

std::string Quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string Exact(double v) { return absl::StrFormat("%.17g", v); }

// The two header lines of a rows file: what it holds, then its JSON.
std::string RowsHead(const std::string& first, const json& meta) {
  return absl::StrCat(first, "\n", kRowsTag, meta.dump(), "\n");
}

struct RowsHeader {
  json meta;
  std::vector<std::vector<std::string>> records;  // the CSV after the two lines
  std::map<std::string, size_t> column;
};

// Splits a rows file into its JSON and its records, checking the kind.
absl::StatusOr<RowsHeader> ReadRowsFile(const std::string& path, const std::string& what,
                                        const std::string& kind) {
  absl::StatusOr<std::string> text = ReadInputFile(path, "rows file", kMaxRowsFileBytes);
  if (!text.ok())
    return absl::InvalidArgumentError(absl::StrCat(what, ": ", text.status().message()));
  auto error = [&](const std::string& m) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": ", m));
  };
  const size_t first = text->find('\n');
  const size_t second = first == std::string::npos ? first : text->find('\n', first + 1);
  if (text->rfind("# ", 0) != 0 || second == std::string::npos ||
      text->compare(first + 1, sizeof(kRowsTag) - 1, kRowsTag) != 0)
    return error(absl::StrCat(
        "not a rows file (it starts with neither '# partial: ...' nor '# shard i/N: ...' "
        "followed by '",
        kRowsTag,
        "{...}'): only the --csv of an interrupted run or of a "
        "--shard run can be resumed or merged"));
  RowsHeader h;
  const std::string meta =
      text->substr(first + sizeof(kRowsTag), second - first - sizeof(kRowsTag));
  h.meta = json::parse(meta, nullptr, false);
  if (h.meta.is_discarded() || !h.meta.is_object() || h.meta.value("version", 0) != 1)
    return error("line 2: the snnplan-rows JSON is invalid or of another version");
  if (h.meta.value("kind", "") != kind)
    return error(
        absl::StrCat("holds '", h.meta.value("kind", ""), "' rows, not '", kind, "' rows"));
  h.records = ParseCsv(text->substr(second + 1));
  if (h.records.empty()) return error("line 3: no CSV header");
  for (size_t i = 0; i < h.records[0].size(); ++i) h.column[h.records[0][i]] = i;
  return h;
}

// Field access for one record, with "<what>: line N: column X: ..." errors.
class Record {
 public:
  Record(const RowsHeader& h, size_t record, const std::string& what)
      : h_(h), r_(h.records[record]), what_(what), line_(record + 3) {}
  absl::Status CheckWidth() const {
    if (r_.size() == h_.records[0].size()) return absl::OkStatus();
    return Error("", absl::StrCat(r_.size(), " fields, the header has ", h_.records[0].size()));
  }
  bool Has(const std::string& column) const { return h_.column.count(column) > 0; }
  const std::string& Text(const std::string& column) const {
    static const std::string kEmpty;
    auto it = h_.column.find(column);
    return it == h_.column.end() ? kEmpty : r_[it->second];
  }
  absl::Status Int(const std::string& column, int64_t* v) const {
    if (absl::SimpleAtoi(Text(column), v)) return absl::OkStatus();
    return Error(column, absl::StrCat("'", Text(column), "' is not an integer"));
  }
  absl::Status Double(const std::string& column, double* v) const {
    const std::string& t = Text(column);
    char* end = nullptr;
    *v = std::strtod(t.c_str(), &end);  // correctly rounded: 17 digits read back exactly
    if (!t.empty() && end == t.c_str() + t.size()) return absl::OkStatus();
    return Error(column, absl::StrCat("'", t, "' is not a number"));
  }
  absl::Status Error(const std::string& column, const std::string& m) const {
    return absl::InvalidArgumentError(absl::StrCat(
        what_, ": line ", line_, column.empty() ? "" : absl::StrCat(": column ", column), ": ", m));
  }

 private:
  const RowsHeader& h_;
  const std::vector<std::string>& r_;
  const std::string& what_;
  size_t line_;
};

// The extra columns of an explore rows file, before and after the --csv ones.
constexpr char kExploreLead[] = "size,candidate,fused_blocks,batched_blocks,";
constexpr char kExploreTail[] = ",objective,energy_pj_noc,error";

cost::StateIo StateIoOf(const json& context) {
  return context.value("state_io", "zero") == "dram" ? cost::StateIo::kDram : cost::StateIo::kZero;
}

// The activity the rows were priced with, for the CSV's two columns (null without).
std::optional<cost::ActivityFile> ActivityOf(const json& context) {
  if (!context.contains("activity") || context["activity"].is_null()) return std::nullopt;
  cost::ActivityFile a;
  a.file = context["activity"].value("file", "");
  a.sha256 = context["activity"].value("sha256", "");
  return a;
}

std::string ExploreRowText(const explore::Evaluation& e, size_t size, int64_t sram_bytes,
                           const json& context, const cost::ActivityFile* activity) {
  std::string row = explore::CsvRow(e, sram_bytes, context.value("density", 1.0),
                                    StateIoOf(context), activity, context.value("expected", false),
                                    /*exact=*/true);
  row.pop_back();  // the newline
  return absl::StrCat(size, ",", e.candidate, ",", e.fused_blocks, ",", e.batched_blocks, ",", row,
                      ",", Exact(e.objective), ",", Exact(e.summary.energy.noc_pj), ",",
                      Quote(e.error), "\n");
}

absl::StatusOr<explore::Evaluation> ParseExploreRow(const Record& r, const json& context) {
  explore::Evaluation e;
  if (absl::Status s = r.CheckWidth(); !s.ok()) return s;
  e.spec = r.Text("spec");
  e.feasible = r.Text("feasible") == "true";
  e.error = r.Text("error");
  int64_t fused = 0, batched = 0;
  plan::Summary& m = e.summary;
  for (absl::Status s :
       {r.Int("candidate", &e.candidate), r.Int("fused_blocks", &fused),
        r.Int("batched_blocks", &batched), r.Double("objective", &e.objective),
        r.Double("energy_pj_compute", &m.energy.compute_pj),
        r.Double("energy_pj_local", &m.energy.local_pj),
        r.Double("energy_pj_sram", &m.energy.sram_pj),
        r.Double("energy_pj_dram", &m.energy.dram_pj), r.Double("energy_pj_noc", &m.energy.noc_pj),
        r.Int("dram_bytes_W", &m.dram.read[0]), r.Int("dram_bytes_I", &m.dram.read[1]),
        r.Int("dram_bytes_O", &m.dram.read[2]), r.Int("dram_bytes_S", &m.dram.read[3]),
        r.Int("latency_cycles", &m.latency_cycles), r.Int("peak_sram_bytes", &m.peak_sram_bytes)})
    if (!s.ok()) return s;
  e.fused_blocks = static_cast<int>(fused);
  e.batched_blocks = static_cast<int>(batched);
  if (context.value("expected", false) && !r.Text("expected_energy_pj").empty()) {
    // Totals in one field each, so total_pj() and dram_bytes() give them back.
    plan::ExpectedCost x;
    for (absl::Status s : {r.Double("expected_energy_pj", &x.energy.compute_pj),
                           r.Double("expected_dram_bytes", &x.dram_read_bytes),
                           r.Double("expected_latency_cycles", &x.latency_cycles),
                           r.Double("expected_timesteps", &x.mean_timesteps)})
      if (!s.ok()) return s;
    m.expected = x;
  }
  return e;
}

// Elapsed time and ETA: "9.48 ms", "42.0 s", "3m 07s", "2h 05m".
std::string Duration(double s) {
  if (s < 60) return units::Time(s);
  const int64_t whole = static_cast<int64_t>(s);
  if (whole < 3600) return absl::StrFormat("%dm %02ds", whole / 60, whole % 60);
  return absl::StrFormat("%dh %02dm", whole / 3600, whole % 3600 / 60);
}

std::string SizeCount(int64_t done, int64_t total, const char* unit) {
  if (total <= 0)
    return absl::StrCat(done, " ", unit, " (search: the total is not known in advance)");
  return absl::StrCat(done, " of ", total, " ", unit);
}

}  // namespace

// ---- shards

absl::StatusOr<Shard> ParseShard(const std::string& text, const std::string& option) {
  if (text.empty()) return Shard{};
  std::vector<std::string> parts = absl::StrSplit(text, '/');
  Shard s;
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &s.index) ||
      !absl::SimpleAtoi(parts[1], &s.count) || s.count < 1 || s.index < 0 || s.index >= s.count)
    return absl::InvalidArgumentError(absl::StrCat(
        option, " ", text, ": expected i/N with 0 <= i < N (e.g. 0/4 for the first of 4)"));
  return s;
}

int64_t ShardShare(int64_t candidates, const Shard& s) {
  if (candidates <= s.index) return 0;
  return (candidates - s.index + s.count - 1) / s.count;
}

// ---- progress

std::string ProgressLine(const std::string& what, const std::string& unit, size_t done,
                         size_t total, double elapsed_s) {
  const double fraction = total > 0 ? static_cast<double>(done) / static_cast<double>(total) : 0.0;
  std::string line = absl::StrFormat("%s: %d/%d %s (%d%%), %s elapsed", what, done, total, unit,
                                     static_cast<int>(fraction * 100), Duration(elapsed_s));
  if (done > 0 && done < total)
    absl::StrAppend(&line, ", ETA ", Duration(elapsed_s / fraction - elapsed_s));
  return line + "\n";
}

ProgressLines::ProgressLines(std::ostream* out, std::function<double()> clock)
    : out_(out), clock_(clock ? std::move(clock) : Seconds) {}

void ProgressLines::Start(const std::string& what, const std::string& unit) {
  what_ = what;
  unit_ = unit;
  start_ = last_line_ = clock_();
  last_decile_ = -1;
}

void ProgressLines::Update(size_t done, size_t total) {
  const double now = clock_();
  const int decile = total > 0 ? static_cast<int>(10 * done / total) : 0;
  if (decile <= last_decile_ && now - last_line_ < 30 && done != total) return;
  if (done == total && last_decile_ == 10) return;  // the end is printed once
  last_decile_ = std::max(decile, last_decile_);
  last_line_ = now;
  *out_ << ProgressLine(what_, unit_, done, total, now - start_) << std::flush;
}

// ---- inputs

json ExploreInputs(const ExploreFlags& f, const ir::Workload& w, const hw::Hardware& described) {
  json j = PlanInputsJson(f.plan, w, described);
  j["command"] = "explore";
  j["strategy"] = f.strategy;
  j["objective"] = f.objective;
  j["fuse_from"] = f.fuse_from;
  j["batch_from"] = f.batch_from;
  j["budget"] = f.schedule_budget;
  return j;
}

json AllocateInputs(const AllocateFlags& f, const ir::Workload& w, const hw::Hardware& hw) {
  json j = PlanInputsJson(f.plan, w, hw);
  j["command"] = "allocate";
  j["schedule"] = f.plan.schedule;
  j["schedule_file"] = FileSha(f.plan.schedule_file);
  j["mapping_objective"] = f.plan.objective;
  j["population"] = f.ga.population;
  j["generations"] = f.ga.generations;
  j["seed"] = f.ga.seed;
  j["budget"] = f.ga.budget;
  return j;
}

std::string Fingerprint(const json& inputs) { return Sha256Hex(inputs.dump()); }

absl::Status CheckSameInputs(const std::string& what, const json& there, const json& here,
                             const std::string& against) {
  if (there == here) return absl::OkStatus();
  std::vector<std::string> diffs;
  std::set<std::string> keys;
  for (const auto& [k, v] : there.items()) keys.insert(k);
  for (const auto& [k, v] : here.items()) keys.insert(k);
  for (const std::string& k : keys) {
    const json a = there.contains(k) ? there[k] : json(), b = here.contains(k) ? here[k] : json();
    if (a == b) continue;
    std::string ta = a.dump(), tb = b.dump();
    if (ta.size() > 80 || tb.size() > 80)
      diffs.push_back(absl::StrCat(k, " differs"));
    else
      diffs.push_back(absl::StrCat(k, ": ", ta, " there, ", tb, " here"));
  }
  return absl::InvalidArgumentError(absl::StrCat(what, ": made with other inputs than ", against,
                                                 ": ", absl::StrJoin(diffs, "; ")));
}

// ---- explore rows

std::string ExploreRowsText(const ExploreRows& rows) {
  int64_t done = 0;
  json sizes = json::array();
  for (const RowsSize& s : rows.sizes) {
    done += static_cast<int64_t>(s.rows.size());
    sizes.push_back({{"sram", s.label},
                     {"sram_bytes", s.sram_bytes},
                     {"candidates", s.candidates},
                     {"space_size", s.space_size},
                     {"compulsory_dram_bytes", s.compulsory_dram_bytes},
                     {"finished", s.finished}});
  }
  const std::string shard = absl::StrCat(rows.shard.index, "/", rows.shard.count);
  const std::string first =
      rows.partial
          ? absl::StrCat("# partial: ", SizeCount(done, rows.total, "schedules"))
          : absl::StrCat("# shard ", shard, ": ", SizeCount(done, rows.total, "schedules"));
  const json meta = {
      {"version", 1},          {"kind", "explore"},       {"fingerprint", Fingerprint(rows.inputs)},
      {"shard", shard},        {"partial", rows.partial}, {"total", rows.total},
      {"inputs", rows.inputs}, {"context", rows.context}, {"sizes", sizes}};
  const std::optional<cost::ActivityFile> activity = ActivityOf(rows.context);
  const cost::ActivityFile* a = activity ? &*activity : nullptr;
  std::string header = explore::CsvHeader(a, rows.context.value("expected", false));
  header.pop_back();
  std::string out = absl::StrCat(RowsHead(first, meta), kExploreLead, header, kExploreTail, "\n");
  for (size_t k = 0; k < rows.sizes.size(); ++k) {
    const RowsSize& s = rows.sizes[k];
    if (s.finished) out += ExploreRowText(s.baseline, k, s.sram_bytes, rows.context, a);
    for (const explore::Evaluation& e : s.rows)
      out += ExploreRowText(e, k, s.sram_bytes, rows.context, a);
  }
  return out;
}

absl::StatusOr<ExploreRows> ReadExploreRows(const std::string& path, const std::string& option) {
  const std::string what = option.empty() ? path : absl::StrCat(option, " ", path);
  absl::StatusOr<RowsHeader> h = ReadRowsFile(path, what, "explore");
  if (!h.ok()) return h.status();
  ExploreRows rows;
  rows.inputs = h->meta.value("inputs", json::object());
  rows.context = h->meta.value("context", json::object());
  rows.partial = h->meta.value("partial", false);
  rows.total = h->meta.value("total", int64_t{0});
  absl::StatusOr<Shard> shard = ParseShard(h->meta.value("shard", ""), what + ": shard");
  if (!shard.ok()) return shard.status();
  rows.shard = *shard;
  if (h->meta.value("fingerprint", "") != Fingerprint(rows.inputs))
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": line 2: the fingerprint does not match the inputs (edited?)"));
  for (const json& s : h->meta.value("sizes", json::array())) {
    RowsSize size;
    size.label = s.value("sram", "");
    size.sram_bytes = s.value("sram_bytes", int64_t{0});
    size.candidates = s.value("candidates", int64_t{0});
    size.space_size = s.value("space_size", 0.0);
    size.compulsory_dram_bytes = s.value("compulsory_dram_bytes", int64_t{0});
    size.finished = s.value("finished", false);
    rows.sizes.push_back(std::move(size));
  }
  for (size_t i = 1; i < h->records.size(); ++i) {
    const Record r(*h, i, what);
    int64_t k = 0;
    if (absl::Status s = r.Int("size", &k); !s.ok()) return s;
    if (k < 0 || k >= static_cast<int64_t>(rows.sizes.size()))
      return r.Error("size", absl::StrCat(k, " is not a size of this file"));
    absl::StatusOr<explore::Evaluation> e = ParseExploreRow(r, rows.context);
    if (!e.ok()) return e.status();
    RowsSize& size = rows.sizes[static_cast<size_t>(k)];
    if (e->candidate < 0)
      size.baseline = *std::move(e);
    else
      size.rows.push_back(*std::move(e));
  }
  return rows;
}

std::string ExploreCsvText(const ExploreRows& rows) {
  const std::optional<cost::ActivityFile> activity = ActivityOf(rows.context);
  const cost::ActivityFile* a = activity ? &*activity : nullptr;
  const bool expected = rows.context.value("expected", false);
  std::string csv = explore::CsvHeader(a, expected);
  for (const RowsSize& s : rows.sizes)
    for (const explore::Evaluation& e : s.rows)
      csv += explore::CsvRow(e, s.sram_bytes, rows.context.value("density", 1.0),
                             StateIoOf(rows.context), a, expected);
  return csv;
}

namespace {

// Every shard 0..N-1 once, each finished, all made with the same inputs.
absl::Status CheckShards(const std::vector<std::string>& paths,
                         const std::vector<ExploreRows>& parts) {
  const int n = parts[0].shard.count;
  std::map<int, std::string> seen;
  for (size_t p = 0; p < parts.size(); ++p) {
    const ExploreRows& r = parts[p];
    if (absl::Status s = CheckSameInputs(paths[p], r.inputs, parts[0].inputs, paths[0]); !s.ok())
      return s;
    if (r.shard.count != n)
      return absl::InvalidArgumentError(absl::StrCat(paths[p], ": shard ", r.shard.index, "/",
                                                     r.shard.count, ", but ", paths[0],
                                                     " is one of ", n, " shards"));
    if (r.partial)
      return absl::InvalidArgumentError(
          absl::StrCat(paths[p], ": shard ", r.shard.index, "/", n,
                       " is partial (interrupted); finish it with 'snnplan explore ... --shard ",
                       r.shard.index, "/", n, " --resume ", paths[p], "'"));
    auto [it, added] = seen.emplace(r.shard.index, paths[p]);
    if (!added)
      return absl::InvalidArgumentError(absl::StrCat(
          "shard ", r.shard.index, "/", n, " given twice: ", it->second, " and ", paths[p]));
  }
  std::vector<std::string> missing;
  for (int i = 0; i < n; ++i)
    if (!seen.count(i)) missing.push_back(absl::StrCat(i, "/", n));
  if (!missing.empty())
    return absl::InvalidArgumentError(absl::StrCat("missing shard", missing.size() > 1 ? "s" : "",
                                                   " ", absl::StrJoin(missing, ", "), " (",
                                                   parts.size(), " of ", n, " given)"));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ExploreRows> MergeExploreRows(const std::vector<std::string>& paths) {
  if (paths.empty()) return absl::InvalidArgumentError("merge: no rows files given");
  std::vector<ExploreRows> parts;
  for (const std::string& p : paths) {
    absl::StatusOr<ExploreRows> r = ReadExploreRows(p, "");
    if (!r.ok()) return r.status();
    parts.push_back(*std::move(r));
  }
  if (absl::Status s = CheckShards(paths, parts); !s.ok()) return s;
  ExploreRows merged = parts[0];
  merged.shard = Shard{};
  merged.total = 0;
  for (size_t k = 0; k < merged.sizes.size(); ++k) {
    RowsSize& size = merged.sizes[k];
    std::map<int64_t, explore::Evaluation> by_candidate;
    for (size_t p = 0; p < parts.size(); ++p) {
      if (parts[p].sizes.size() != merged.sizes.size() || !parts[p].sizes[k].finished)
        return absl::InvalidArgumentError(
            absl::StrCat(paths[p], ": size ", size.label, " is not finished"));
      for (explore::Evaluation& e : parts[p].sizes[k].rows) {
        const int64_t c = e.candidate;
        if (c % parts[p].shard.count != parts[p].shard.index ||
            !by_candidate.emplace(c, std::move(e)).second)
          return absl::InvalidArgumentError(absl::StrCat(
              paths[p], ": candidate ", c, " of ", size.label, " does not belong to its shard"));
      }
    }
    if (static_cast<int64_t>(by_candidate.size()) != size.candidates)
      return absl::InvalidArgumentError(absl::StrCat("the shards hold ", by_candidate.size(),
                                                     " schedules of ", size.label, ", not all ",
                                                     size.candidates));
    size.rows.clear();
    for (auto& [c, e] : by_candidate) size.rows.push_back(std::move(e));
    merged.total += size.candidates;
  }
  return merged;
}

ExploreFlags MergedFlags(const ExploreRows& rows) {
  ExploreFlags f;
  f.strategy = rows.context.value("strategy", "grid");
  f.objective = rows.context.value("objective", "dram");
  return f;
}

ExploredSize MergedSize(const ExploreRows& rows, size_t size) {
  const RowsSize& s = rows.sizes[size];
  ExploredSize out;
  out.label = s.label;
  out.sram_bytes = s.sram_bytes;
  out.clock_hz = rows.context["hardware"].value("clock_hz", 0.0);
  explore::ExploreResult& r = out.result;
  r.evaluations = s.rows;
  r.best = explore::BestEvaluation(r.evaluations);
  r.baseline = s.baseline;
  r.compulsory_dram_bytes = s.compulsory_dram_bytes;
  r.num_blocks = rows.context.value("num_blocks", 0);
  r.space_size = s.space_size;
  r.candidates = s.candidates;
  return out;
}

json MergedJson(const ExploreRows& rows) {
  const ExploreFlags f = MergedFlags(rows);
  std::vector<json> sizes;
  for (size_t k = 0; k < rows.sizes.size(); ++k)
    sizes.push_back(ExploredSizeJson(MergedSize(rows, k), f));
  return ExploreJson(rows.context.value("model", ""), rows.context["hardware"].value("name", ""),
                     rows.context["hardware"].value("clock_hz", 0.0), sizes);
}

// ---- allocate rows

std::string AllocateRowsText(const json& inputs, const explore::GaResult& ga, int generations) {
  const json meta = {{"version", 1},
                     {"kind", "allocate"},
                     {"fingerprint", Fingerprint(inputs)},
                     {"partial", true},
                     {"inputs", inputs}};
  std::string out =
      RowsHead(absl::StrCat("# partial: ", ga.evaluated.size(), " allocations, generation ",
                            ga.generations, " of ", generations),
               meta);
  out += "index,generation,feasible,latency_cycles,energy_pj,genome,error\n";
  for (size_t i = 0; i < ga.evaluated.size(); ++i) {
    const explore::Individual& ind = ga.evaluated[i];
    const explore::AllocationObjectives& o = ind.objectives;
    absl::StrAppend(&out, i, ",", ind.generation, ",", o.feasible ? "true" : "false", ",",
                    Exact(o.latency_cycles), ",", Exact(o.energy_pj), ",",
                    absl::StrJoin(ind.genome, ";"), ",", Quote(o.error), "\n");
  }
  return out;
}

absl::StatusOr<std::map<explore::Genome, explore::AllocationObjectives>> ReadAllocateRows(
    const std::string& path, const json& inputs) {
  const std::string what = absl::StrCat("--resume ", path);
  absl::StatusOr<RowsHeader> h = ReadRowsFile(path, what, "allocate");
  if (!h.ok()) return h.status();
  if (absl::Status s =
          CheckSameInputs(what, h->meta.value("inputs", json::object()), inputs, "this run");
      !s.ok())
    return s;
  std::map<explore::Genome, explore::AllocationObjectives> known;
  for (size_t i = 1; i < h->records.size(); ++i) {
    const Record r(*h, i, what);
    if (absl::Status s = r.CheckWidth(); !s.ok()) return s;
    explore::AllocationObjectives o;
    o.feasible = r.Text("feasible") == "true";
    o.error = r.Text("error");
    for (absl::Status s :
         {r.Double("latency_cycles", &o.latency_cycles), r.Double("energy_pj", &o.energy_pj)})
      if (!s.ok()) return s;
    explore::Genome g;
    for (absl::string_view v : absl::StrSplit(r.Text("genome"), ';')) {
      int gene = 0;
      if (!absl::SimpleAtoi(v, &gene)) return r.Error("genome", "expected core indices 0;1;...");
      g.push_back(gene);
    }
    known[g] = o;
  }
  return known;
}

}  // namespace snnplan::frontend
