#!/usr/bin/env python3
"""Early exit vs time batching (docs/early-exit.md): for each exit profile,
explore the paper's schedule grid ranked by expected cost and report the best
schedule with and without early exit. Profiles are geometric: a sample exits
after step t with probability (1 - r) r^(t-1), the rest after T.

Usage: tools/studies/early_exit.py [SNNPLAN_BINARY] [--hw PRESET] [--objectives energy,latency]
       > table.md
(--hw imc-crossbar: the in-memory-computing study of docs/early-exit.md.)
"""
import csv
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ARGS = sys.argv[1:]
HW = "meta-prototype"
OBJECTIVES = ["energy", "latency"]
for flag in ("--hw", "--objectives"):
    if flag in ARGS:
        i = ARGS.index(flag)
        value = ARGS[i + 1]
        del ARGS[i:i + 2]
        if flag == "--hw":
            HW = value
        else:
            OBJECTIVES = value.split(",")
BIN = ARGS[0] if ARGS else os.path.join(ROOT, "build", "tools", "snnplan")
MODELS = [("SEW-ResNet-7 (T=16)", "models/sj_sew7_T16_loop_op13.onnx", 16, "128KiB"),
          ("SEW-ResNet-5 (T=16)", "models/sj_sew5_T16_loop_op13.onnx", 16, "128KiB")]
RATIOS = [0.3, 0.7, 0.9]  # mean steps ~1.4, ~3.3, ~8.1 of 16


def profile(path, timesteps, r):
    p = [(1 - r) * r ** (t - 1) for t in range(1, timesteps)]
    p.append(1 - sum(p))
    doc = {"format": "snnplan-exit-profile", "version": 1, "timesteps": timesteps,
           "policy": f"geometric r={r}",
           "exit_probability": {str(t + 1): p[t] for t in range(timesteps)}}
    with open(path, "w") as f:
        json.dump(doc, f)
    return sum((t + 1) * p[t] for t in range(timesteps))


def explore(model, sram, objective, csv_path, extra):
    subprocess.run([BIN, "explore", os.path.join(ROOT, model), "--hw", HW,
                    "--sram", sram, "--objective", objective, "--csv", csv_path, "-j", "2",
                    *extra], check=True, stdout=subprocess.DEVNULL)
    return [r for r in csv.DictReader(open(csv_path)) if r["feasible"] == "true"]


def best(rows, key):
    return min(rows, key=lambda r: float(r[key]))


def main():
    tmp = tempfile.mkdtemp()
    print("| model | objective | mean steps | best at static T | its expected cost | "
          "best under early exit | its expected cost | saving |")
    print("|---|---|---|---|---|---|---|---|")
    column = {"energy": ("energy_pj_total", "expected_energy_pj", 1e6, "uJ"),
              "latency": ("latency_cycles", "expected_latency_cycles", 1e6, "M cycles")}
    for name, model, steps, sram in MODELS:
        for objective in OBJECTIVES:
            static_key, expected_key, scale, unit = column[objective]
            for r in RATIOS:
                path = os.path.join(tmp, f"p{r}.json")
                mean = profile(path, steps, r)
                rows = explore(model, sram, objective, os.path.join(tmp, "x.csv"),
                               ["--exit-profile", path])
                fixed, dynamic = best(rows, static_key), best(rows, expected_key)
                a, b = float(fixed[expected_key]), float(dynamic[expected_key])
                where = sram if HW == "meta-prototype" else f"{sram}, {HW}"
                print(f"| {name}, {where} | {objective} | {mean:.2f} | `{fixed['spec']}` | "
                      f"{a / scale:.4g} {unit} | `{dynamic['spec']}` | {b / scale:.4g} {unit} | "
                      f"{(1 - b / a) * 100:.1f} % |")


if __name__ == "__main__":
    main()
