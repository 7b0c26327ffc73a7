#!/bin/bash
# Runs a study on a Slurm cluster: an array of N shard tasks, then the merge
# job, which starts only if every task succeeded (afterok). Prints the two
# job ids. Extra arguments go to both sbatch calls (e.g. --partition=cpu).
#   tools/slurm/submit-study.sh STUDY.json OUTDIR N [sbatch options...]
# SNNPLAN: the snnplan binary (default: snnplan on PATH); paths in the study
# file are relative to the study file, so give it on a shared file system.
set -euo pipefail
if [ $# -lt 3 ]; then
  echo "usage: $0 STUDY.json OUTDIR N [sbatch options...]" >&2
  exit 2
fi
study=$(realpath "$1") out=$2 shards=$3
shift 3
here=$(dirname "$(realpath "$0")")
snnplan=${SNNPLAN:-$(command -v snnplan || true)}
[ -n "$snnplan" ] || { echo "$0: set SNNPLAN to the snnplan binary" >&2; exit 2; }
snnplan=$(realpath "$snnplan")
mkdir -p "$out"
out=$(realpath "$out")
"$snnplan" study plan "$study" >/dev/null  # a bad study file fails here, not in N tasks
array=$(sbatch --parsable "$@" --array=0-$((shards - 1)) --output="$out/slurm-%A_%a.out" \
  "$here/study-array.sbatch" "$study" "$out" "$shards" "$snnplan")
array=${array%%;*}
merge=$(sbatch --parsable "$@" --dependency=afterok:"$array" --output="$out/slurm-%j-merge.out" \
  "$here/study-merge.sbatch" "$study" "$out" "$snnplan")
echo "$array ${merge%%;*}"
