#!/usr/bin/env bash
# Reproduces the STEMS paper's experiments with snnplan and writes the results
# (CSV, SVG, summaries) to docs/reproduction/. Usage: tools/reproduce.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
SNNPLAN="${1:-build}/tools/snnplan"
OUT=docs/reproduction
mkdir -p "$OUT"
MANIFESTS=$(mktemp -d)  # best manifests are validated, not committed (large)
trap 'rm -rf "$MANIFESTS"' EXIT
SEW7=models/sj_sew7_T16_loop_op13.onnx
SEW5=models/sj_sew5_T16_loop_op13.onnx
RED=models/snntorch_redlif_trunk_step_op13.onnx
RED_OPTS=(--timesteps 12 --input-shape x=6,360,640)

# Figure 7: time batching on SEW-7 at 1 MiB (every block batched alike).
for n in 1 2 4 8 16; do
  t=$([ "$n" = 1 ] && echo st || echo "tb$n")
  "$SNNPLAN" plan "$SEW7" --sram 1MiB --schedule "$t-lbl" --summary-json "$OUT/fig7_sew7_${n}T.json" \
    > "$OUT/fig7_sew7_${n}T.txt"
done

# Figures 8, 14-21: hybrid grid exploration. Block rankings as the paper
# chooses them per model: SEW-7 fuses and batches from the input side; SEW-5
# and RED-LIF fuse from the input and batch from the output side.
explore() {  # name model sizes fuse batch [import options...]
  local name=$1 model=$2 sizes=$3 fuse=$4 batch=$5
  shift 5
  for size in ${sizes//,/ }; do
    "$SNNPLAN" explore "$model" --sram "$size" --strategy grid --fuse-from "$fuse" \
      --batch-from "$batch" -j 2 --csv "$OUT/grid_${name}_${size}.csv" \
      --heatmap "$OUT/grid_${name}_${size}.svg" --breakdown "$OUT/breakdown_${name}_${size}.svg" \
      --best-manifest "$MANIFESTS/best_${name}_${size}.json" "$@" > "$OUT/grid_${name}_${size}.txt"
  done
}
explore sew7 "$SEW7" 128KiB,256KiB,512KiB input input
explore sew5 "$SEW5" 128KiB,256KiB,512KiB input output
explore redlif "$RED" 512KiB,1MiB,2MiB input output "${RED_OPTS[@]}"

# The same SEW-7 grid with STEMS's state traffic (states loaded and stored).
explore sew7_stateio_dram "$SEW7" 128KiB input input --state-io dram

# Table 2: neuron states with the first k blocks stateless (SEW-7 -> SEW-0).
"$SNNPLAN" ablate "$SEW7" --sram 128KiB --csv "$OUT/ablate_sew7_128KiB.csv" > "$OUT/ablate_sew7_128KiB.txt"


# Eviction policies compared (docs/reproduction.md): stems (remaining uses /
# bytes) vs belady (furthest next use), on the baselines and paper-style bests.
for ev in stems belady; do
  for case in "sew7 $SEW7 st-lbl" "sew7 $SEW7 st-lf" "sew7 $SEW7 tb-lf,tb-lf,tb-lbl,tb-lbl,tb-lbl,tb-lbl,tb-lbl" \
              "sew5 $SEW5 st-lbl" "sew5 $SEW5 st-lf,st-lbl,tb-lbl,tb-lbl,tb-lbl,tb-lbl,tb-lbl"; do
    set -- $case
    "$SNNPLAN" plan "$2" --sram 128KiB --schedule "$3" --eviction "$ev" \
      --summary-json "$OUT/eviction_${ev}_$1_${3//,/_}.json" > /dev/null
  done
done
# Every best manifest replays clean in the independent validator.
: > "$OUT/validation.txt"
for m in "$MANIFESTS"/best_*.json; do
  "$SNNPLAN" validate "$m" | sed "s|$MANIFESTS/||" >> "$OUT/validation.txt"
done
echo "results in $OUT"
