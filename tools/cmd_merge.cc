// `snnplan merge PART.csv... -o OUT.csv [--json F] [--heatmap F.svg]`: the
// rows files of every shard of an `explore --shard i/N` run, as the
// unsharded run's outputs, byte for byte (docs/cluster.md).
#include <iostream>

#include "absl/strings/str_cat.h"
#include "cli_common.h"
#include "commands.h"

namespace snnplan::cli {
namespace {

struct MergeFlags {
  std::vector<std::string> parts;
  std::string csv, json, heatmap;
};

int RunMerge(const MergeFlags& f) {
  OutputFiles outputs;
  absl::StatusOr<frontend::ExploreRows> merged = frontend::MergeExploreRows(f.parts);
  if (!merged.ok()) return ReportError(merged.status());
  const bool several = merged->sizes.size() > 1;
  for (absl::Status s : {outputs.Expect("-o", f.csv), outputs.Expect("--json", f.json)})
    if (!s.ok()) return ReportError(s);
  const frontend::ExploreFlags flags = frontend::MergedFlags(*merged);
  if (!f.heatmap.empty() && flags.strategy != "grid")
    return ReportError(absl::InvalidArgumentError("--heatmap needs shards of --strategy grid"));
  for (const frontend::RowsSize& size : merged->sizes)
    if (absl::Status s = outputs.Expect("--heatmap", PerSize(f.heatmap, size.label, several));
        !s.ok())
      return ReportError(s);
  for (size_t k = 0; k < merged->sizes.size(); ++k) {
    const frontend::ExploredSize size = frontend::MergedSize(*merged, k);
    outputs.report() << frontend::DescribeExploredSize(size, flags);
    // The figure `snnplan explore --heatmap` draws (tools/cmd_explore.cc).
    if (f.heatmap.empty()) continue;
    const explore::FigureContext figure{merged->context.value("model", ""),
                                        merged->context["hardware"].value("name", ""),
                                        size.sram_bytes, size.clock_hz};
    absl::StatusOr<std::string> svg =
        explore::HeatmapSvg(size.result, frontend::MakeExploreOptions(flags).objective, figure);
    if (!svg.ok()) return ReportError(svg.status());
    outputs.Write(PerSize(f.heatmap, size.label, several), *svg);
  }
  if (!f.csv.empty()) outputs.Write(f.csv, frontend::ExploreCsvText(*merged));
  if (!f.json.empty()) outputs.Write(f.json, frontend::MergedJson(*merged).dump(2) + "\n");
  if (absl::Status s = outputs.CommitAll(); !s.ok()) return ReportError(s);
  return kExitOk;
}

}  // namespace

void RegisterMergeCommand(CLI::App& app, Runner* run) {
  CLI::App* cmd = app.add_subcommand(
      "merge", "Merge the rows files of explore --shard 0/N .. N-1/N into the unsharded outputs");
  auto f = std::make_shared<MergeFlags>();
  cmd->add_option("parts", f->parts, "Every shard's --csv rows file")->required();
  cmd->add_option("-o,--csv", f->csv, "The merged CSV, as explore --csv writes it ('-' = stdout)");
  cmd->add_option("--json", f->json, "The merged report, as explore --json writes it");
  cmd->add_option("--heatmap", f->heatmap, "SVG heatmap of a grid, as explore --heatmap draws it");
  cmd->callback([run, f] { *run = [f] { return RunMerge(*f); }; });
}

}  // namespace snnplan::cli
