#!/usr/bin/env python3
"""One wide SNN against teams of four specialised narrow SNNs on the same hardware
(docs/specialised-networks.md; issue #19, Abu Lebdeh et al., IEEE TETCI 2024).

Every configuration is explored over the paper's schedule grid (`snnplan explore`, grid
strategy) on meta-prototype-quad (4 cores, 128 KiB global buffer each) at each --sram size;
the table reports the minimum-energy and the minimum-latency schedule of each. The wide net
also gets the other three cores: `snnplan allocate` (NSGA-II, seed 1) spreads its layers over
the four cores under st-lbl and tb-lbl, and the front's minimum-latency point is re-planned.
Then the minimum-energy plan of each team is re-planned to show its per-network summary.

Usage: tools/studies/specialised_networks.py [SNNPLAN_BINARY] [--sram 128KiB,16KiB,8KiB] > table.md
"""
import csv
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ARGS = sys.argv[1:]
SRAMS = ["128KiB", "16KiB", "8KiB"]
if "--sram" in ARGS:
    i = ARGS.index("--sram")
    SRAMS = ARGS[i + 1].split(",")
    del ARGS[i:i + 2]
BIN = ARGS[0] if ARGS else os.path.join(ROOT, "build", "tools", "snnplan")
HW = "meta-prototype-quad"
TEAM = os.path.join(ROOT, "models", "team")


def models(names):
    return [os.path.join(TEAM, n + ".onnx") for n in names]


NARROW = ["narrow1", "narrow2", "narrow3", "narrow4"]
DEEP = ["deep1", "deep2", "deep3", "deep4"]
CONFIGS = [
    ("wide (48 ch), one core", ["wide"], []),  # then the wide net over 4 cores (allocate)
    ("4 x narrow (12 ch), one core, in turn", NARROW, []),
    ("4 x narrow (12 ch), core i each", NARROW, ["--core-per-network"]),
    ("4 x narrow-deep (8-8-12 ch), one core, in turn", DEEP, []),
    ("4 x narrow-deep (8-8-12 ch), core i each", DEEP, ["--core-per-network"]),
]


def explore(names, sram, extra, csv_path):
    subprocess.run([BIN, "explore", *models(names), "--hw", HW, "--sram", sram,
                    "--strategy", "grid", "--csv", csv_path, "-j", "2", *extra],
                   check=True, stdout=subprocess.DEVNULL)
    return [r for r in csv.DictReader(open(csv_path)) if r["feasible"] == "true"]


def summary(names, sram, spec, extra, path):
    subprocess.run([BIN, "plan", *models(names), "--hw", HW, "--sram", sram, "--schedule", spec,
                    "--summary-json", path, *extra], check=True, stdout=subprocess.DEVNULL)
    return json.load(open(path))


def wide_spread(sram, tmp):
    """The wide net's layers over all four cores: allocate's minimum-latency point."""
    best = None
    for spec in ("st-lbl", "tb-lbl"):
        out = os.path.join(tmp, "a.json")
        subprocess.run([BIN, "allocate", *models(["wide"]), "--hw", HW, "--sram", sram,
                        "--schedule", spec, "--population", "16", "--generations", "8",
                        "--seed", "1", "--json", out], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        for p in json.load(open(out))["pareto"]:
            if p["feasible"] and (best is None or p["latency_cycles"] < best[0]["latency_cycles"]):
                best = (p, spec)
    alloc = os.path.join(tmp, "alloc.json")
    with open(alloc, "w") as f:
        json.dump(best[0]["allocation"], f)
    s = summary(["wide"], sram, best[1], ["--allocation", alloc], os.path.join(tmp, "w.json"))
    return {"energy_pj_total": s["energy_pj"]["total"], "latency_cycles": s["latency_cycles"],
            "dram_bytes_total": s["dram_bytes"]["total"], "spec": best[1]}


def uj(pj):
    return f"{float(pj) / 1e6:.3g} uJ"


def mcyc(c):
    return f"{float(c) / 1e6:.3g} M"


def kib(b):
    return f"{float(b) / 1024:.4g} KiB"


def main():
    facts = json.load(open(os.path.join(TEAM, "team.facts.json")))["networks"]
    tmp = tempfile.mkdtemp()
    print("| SRAM/core | configuration | weights | neurons | schedules | min-energy schedule: "
          "energy, latency (cycles), DRAM | x wide | min-latency schedule: latency, energy | "
          "x wide |")
    print("|---|---|---|---|---|---|---|---|---|")
    best_plans = []
    for sram in SRAMS:
        ref = None
        for label, names, extra in CONFIGS[:1] + [(None, None, None)] + CONFIGS[1:]:
            if label is None:  # the wide net's layers spread by allocate
                label, names = "wide (48 ch), layers over 4 cores (allocate)", ["wide"]
                e = lat = wide_spread(sram, tmp)
                rows = [e]
                count = "front"
            else:
                rows = explore(names, sram, extra, os.path.join(tmp, "x.csv"))
                e = min(rows, key=lambda r: float(r["energy_pj_total"]))
                lat = min(rows, key=lambda r: float(r["latency_cycles"]))
                count = len(rows)
            if ref is None:
                ref = (float(e["energy_pj_total"]), float(lat["latency_cycles"]))
            weights = sum(facts[n]["weight_elements"] for n in names)
            neurons = sum(facts[n]["neurons"] for n in names)
            print(f"| {sram} | {label} | {weights:,} | {neurons:,} | {count} | "
                  f"{uj(e['energy_pj_total'])}, {mcyc(e['latency_cycles'])}, "
                  f"{kib(e['dram_bytes_total'])} | "
                  f"{float(e['energy_pj_total']) / ref[0]:.2f} | "
                  f"{mcyc(lat['latency_cycles'])}, {uj(lat['energy_pj_total'])} | "
                  f"{float(lat['latency_cycles']) / ref[1]:.2f} |")
            if len(names) > 1 and sram == SRAMS[0]:
                best_plans.append((label, names, extra, e["spec"]))
    print()
    print(f"Per network, minimum-energy schedules at {SRAMS[0]} per core:")
    print()
    print("| configuration | network | energy | DRAM | busy (cycles) | done at (cycles) |")
    print("|---|---|---|---|---|---|")
    for label, names, extra, spec in best_plans:
        s = summary(names, SRAMS[0], spec, extra, os.path.join(tmp, "s.json"))
        for n in s["by_network"]:
            print(f"| {label} | {n['network']} | {uj(n['energy_pj']['total'])} | "
                  f"{kib(n['dram_bytes']['total'])} | {mcyc(n['busy_cycles'])} | "
                  f"{mcyc(n['end_cycle'])} |")
        si = s["shared_input"]
        print(f"| {label} | shared input | {uj(si['energy_pj']['total'])} | "
              f"{kib(si['dram_bytes']['total'])} | | |")


if __name__ == "__main__":
    main()
