"""Plans the README's main job (SEW-ResNet-18 on meta-prototype, 128 KiB) and draws
the exploration grid of the same model as a heatmap (blocks fused x blocks time-batched,
colour = the objective that picks the best, best cell boxed, cells that could not be
planned hatched), like `snnplan explore --heatmap`, with matplotlib.

    PYTHONPATH=build/python MPLBACKEND=Agg python3 examples/plan_and_heatmap.py --out .

writes manifest.json (the bytes `snnplan plan -o` writes) and heatmap.png.
"""
import argparse
import pathlib

import matplotlib
import matplotlib.colors
import matplotlib.patches
import matplotlib.pyplot as plt
import numpy as np

import snnplan

ROOT = pathlib.Path(__file__).resolve().parents[1]
MODEL = ROOT / "models" / "sj_sew7_T16_loop_op13.onnx"
SCHEDULE = "tb-lf,tb-lf,tb-lbl,tb-lbl,tb-lbl,tb-lbl,tb-lbl"


# What `--objective` minimises, and the units its values read in (raw unit per unit, name),
# largest first: the unit is the largest one the grid's largest value reaches.
QUANTITY = {"dram": "DRAM traffic", "energy": "energy", "latency": "latency",
            "edp": "energy-delay product"}
UNITS = {"dram": [(2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB"), (1, "B")],
         "energy": [(1e12, "J"), (1e9, "mJ"), (1e6, "µJ"), (1e3, "nJ"), (1, "pJ")],
         "latency": [(1e9, "G cycles"), (1e6, "M cycles"), (1e3, "k cycles"), (1, "cycles")],
         "edp": [(1e15, "mJ·M cycles"), (1e9, "µJ·k cycles"), (1, "pJ·cycles")]}


def scaled_unit(objective, largest):
    return next(((d, n) for d, n in UNITS[objective] if largest >= d), UNITS[objective][-1])


def draw_heatmap(rows, workload, hw, args, path):
    """Colour = the objective's value (log scale, lowest = brightest, as the CLI's SVG)."""
    n = workload.num_blocks
    grid = np.full((n + 1, n + 1), np.nan)
    unplanned = np.zeros((n + 1, n + 1), dtype=bool)
    for r in rows:
        if r["feasible"]:
            grid[r["fused_blocks"], r["batched_blocks"]] = r["objective"]
        else:
            unplanned[r["fused_blocks"], r["batched_blocks"]] = True
    divisor, unit = scaled_unit(args.objective, np.nanmax(grid))
    best = next(r for r in rows if r["best"])

    fig, ax = plt.subplots(figsize=(6.4, 5.2))
    image = ax.imshow(grid / divisor, origin="lower", cmap="viridis_r",
                      norm=matplotlib.colors.LogNorm())
    for f, b in zip(*np.nonzero(unplanned)):
        ax.add_patch(matplotlib.patches.Rectangle((b - 0.5, f - 0.5), 1, 1, facecolor="#eeeeee",
                                                  hatch="//", edgecolor="#999999"))
        ax.text(b, f, "n/a", ha="center", va="center")
    ax.add_patch(matplotlib.patches.Rectangle(
        (best["batched_blocks"] - 0.5, best["fused_blocks"] - 0.5), 1, 1, fill=False,
        edgecolor="red", linewidth=3, label=f"best: lowest {QUANTITY[args.objective]}"))
    ax.set_xlabel("blocks time-batched")
    ax.set_ylabel("blocks layer-fused")
    ax.set_xticks(range(n + 1))
    ax.set_yticks(range(n + 1))
    ax.set_title(f"{workload.model_file} on {hw.name}, SRAM {args.sram}\n"
                 f"objective: {QUANTITY[args.objective]}")
    fig.colorbar(image, ax=ax, label=f"{QUANTITY[args.objective]} ({unit})")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=".", help="folder for manifest.json and heatmap.png")
    parser.add_argument("--sram", default="128KiB")
    parser.add_argument("--objective", default="dram", choices=sorted(QUANTITY))
    args = parser.parse_args()
    out = pathlib.Path(args.out)

    workload = snnplan.import_model(MODEL)
    hw = snnplan.load_hardware("meta-prototype", sram=args.sram)
    plan = snnplan.plan(workload, hw=hw, schedule=SCHEDULE)
    plan.write(out / "manifest.json")
    print(plan.describe(), end="")  # what `snnplan plan` prints (scaled units)

    rows = snnplan.explore(workload, hw=hw, strategy="grid", objective=args.objective,
                           threads=2,
                           progress=lambda done, total: print(f"\r{done}/{total}", end=""))
    print()
    best = next(r for r in rows if r["best"])
    print(f"best: {best['spec']} ({best['dram_bytes_total'] / 2**20:.3g} MiB DRAM traffic, "
          f"{best['energy_pj_total'] / 1e9:.3g} mJ)")
    draw_heatmap(rows, workload, hw, args, out / "heatmap.png")
    print(f"wrote {out / 'manifest.json'} and {out / 'heatmap.png'} "
          f"(matplotlib {matplotlib.__version__})")


if __name__ == "__main__":
    main()
