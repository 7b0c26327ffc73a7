#!/bin/bash
# Runs a small study through a real single-node Slurm (Debian's slurmctld,
# slurmd and munge, started by hand on localhost: no systemd) as a job array
# plus a dependent merge job, and compares the merged CSV and summary with a
# local run byte for byte. Exit 77 (ctest SKIP) only when not root or the
# packages are missing (tools/install-deps.sh installs them).
#   slurm_study_test.sh SNNPLAN SOURCE_DIR
set -euo pipefail
snnplan=$(realpath "$1") src=$(realpath "$2")
skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root to start slurmctld, slurmd and munged"
for tool in munged slurmctld slurmd sbatch sinfo squeue scontrol; do
  command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] ||
    skip "$tool not installed (apt-get install slurmctld slurmd slurm-client munge)"
done
export PATH=$PATH:/usr/sbin

tmp=$(mktemp -d /tmp/snnplan-slurm.XXXXXX)
chmod 755 "$tmp"
pids=()
cleanup() {
  local rc=$?
  [ -n "${SLURM_CONF:-}" ] && scancel --quiet --user=root 2>/dev/null || true
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  sleep 0.5
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  if [ "$rc" != 0 ] && [ "$rc" != 77 ]; then
    for log in "$tmp"/*.log "$tmp"/*.err "$tmp"/out/slurm-*.out; do
      [ -f "$log" ] && { echo "== $log"; tail -n 30 "$log"; }
    done
  fi
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# Waits up to $1 seconds for the command $2... to succeed.
wait_for() {
  local limit=$1
  shift
  for ((i = 0; i < limit * 5; i++)); do
    "$@" && return 0
    sleep 0.2
  done
  echo "timed out after ${limit}s waiting for: $*" >&2
  return 1
}

# munge, with its own key and socket (no system daemon needed).
dd if=/dev/urandom of="$tmp/munge.key" bs=1024 count=1 status=none
chmod 600 "$tmp/munge.key"
mkdir -m 700 "$tmp/munge"
munged --foreground --force --key-file="$tmp/munge.key" --socket="$tmp/munge/munge.sock" \
  --pid-file="$tmp/munge/munged.pid" --log-file="$tmp/munged.log" \
  --seed-file="$tmp/munge/munge.seed" 2>>"$tmp/munged.err" &
pids+=($!)
wait_for 10 test -S "$tmp/munge/munge.sock"

# Free ports for slurmctld and slurmd.
read -r ctld_port slurmd_port < <(python3 -c '
import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])')
host=$(hostname -s)
cpus=$(nproc)
mkdir -p "$tmp/state" "$tmp/spool" "$tmp/out"
cat >"$tmp/slurm.conf" <<CONF
ClusterName=snnplantest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$tmp/munge/munge.sock
CredType=cred/munge
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
SlurmctldLogFile=$tmp/slurmctld.log
SlurmdLogFile=$tmp/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
SlurmdTimeout=30
InactiveLimit=0
MinJobAge=300
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=100 State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=10 State=UP
CONF
export SLURM_CONF=$tmp/slurm.conf
slurmctld -D -i -f "$SLURM_CONF" 2>>"$tmp/slurmctld.err" &
pids+=($!)
slurmd -D -f "$SLURM_CONF" 2>>"$tmp/slurmd.err" &
pids+=($!)
node_idle() { [ "$(sinfo -h -o %t 2>/dev/null | head -n 1)" = idle ]; }
wait_for 40 node_idle

# The study: 1 model x 2 SRAM sizes x 2 objectives = 4 jobs in 3 shards.
cat >"$tmp/study.json" <<JSON
{"models": ["$src/models/snntorch_nmnist_step_op13.onnx"],
 "hardware": ["meta-prototype"],
 "sram": ["8KiB", "64KiB"],
 "strategies": ["grid"],
 "objectives": ["dram", "energy"],
 "options": ["--timesteps", "4"]}
JSON
read -r array merge < <(SNNPLAN=$snnplan "$src/tools/slurm/submit-study.sh" \
  "$tmp/study.json" "$tmp/out" 3)
echo "submitted array $array, merge $merge"
gone() { [ -z "$(squeue -h -j "$array,$merge" 2>/dev/null)" ]; }
wait_for 90 gone
# The merge job ran only if every task succeeded (afterok); it wrote these.
test -f "$tmp/out/study.csv" || { echo "no merged study.csv" >&2; exit 1; }
for i in 0 1 2; do ls "$tmp"/out/slurm-"${array}_$i".out >/dev/null; done

mkdir "$tmp/local"
"$snnplan" study run "$tmp/study.json" --out "$tmp/local" >/dev/null
"$snnplan" study merge "$tmp/study.json" "$tmp/local" -o "$tmp/local/study.csv" \
  --summary "$tmp/local/summary.json" >/dev/null
cmp "$tmp/local/study.csv" "$tmp/out/study.csv"
cmp "$tmp/local/summary.json" "$tmp/out/summary.json"
for j in "$tmp"/local/job-*.json; do cmp "$j" "$tmp/out/$(basename "$j")"; done
echo "PASS: Slurm array of 3 shards + afterok merge == local run ($(wc -l <"$tmp/out/study.csv") lines)"
