"""Plans the README's main job (SEW-ResNet-18 on meta-prototype, 128 KiB) and draws
the exploration grid of the same model as a heatmap (blocks fused x blocks time-batched,
colour = DRAM traffic), like `snnplan explore --heatmap`, with matplotlib.

    PYTHONPATH=build/python MPLBACKEND=Agg python3 examples/plan_and_heatmap.py --out .

writes manifest.json (the bytes `snnplan plan -o` writes) and heatmap.png.
"""
import argparse
import pathlib

import matplotlib
import matplotlib.pyplot as plt
import numpy as np

import snnplan

ROOT = pathlib.Path(__file__).resolve().parents[1]
MODEL = ROOT / "models" / "sj_sew7_T16_loop_op13.onnx"
SCHEDULE = "tb-lf,tb-lf,tb-lbl,tb-lbl,tb-lbl,tb-lbl,tb-lbl"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=".", help="folder for manifest.json and heatmap.png")
    parser.add_argument("--sram", default="128KiB")
    args = parser.parse_args()
    out = pathlib.Path(args.out)

    workload = snnplan.import_model(MODEL)
    hw = snnplan.load_hardware("meta-prototype", sram=args.sram)
    plan = snnplan.plan(workload, hw=hw, schedule=SCHEDULE)
    plan.write(out / "manifest.json")
    print(plan.describe(), end="")  # what `snnplan plan` prints (scaled units)

    rows = snnplan.explore(workload, hw=hw, strategy="grid", threads=2,
                           progress=lambda done, total: print(f"\r{done}/{total}", end=""))
    print()
    n = workload.num_blocks
    grid = np.full((n + 1, n + 1), np.nan)
    for r in rows:
        if r["feasible"]:
            grid[r["fused_blocks"], r["batched_blocks"]] = r["dram_bytes_total"] / 2**20
    best = next(r for r in rows if r["best"])
    print(f"best: {best['spec']} ({best['dram_bytes_total'] / 2**20:.3g} MiB DRAM traffic, "
          f"{best['energy_pj_total'] / 1e9:.3g} mJ)")

    fig, ax = plt.subplots(figsize=(6, 5))
    image = ax.imshow(grid, origin="lower", cmap="viridis")
    ax.plot(best["batched_blocks"], best["fused_blocks"], marker="*", color="red", markersize=14)
    ax.set_xlabel("blocks time-batched")
    ax.set_ylabel("blocks layer-fused")
    ax.set_xticks(range(n + 1))
    ax.set_yticks(range(n + 1))
    ax.set_title(f"{workload.model_file} @ {args.sram}: DRAM traffic")
    fig.colorbar(image, ax=ax, label="DRAM MiB")
    fig.tight_layout()
    fig.savefig(out / "heatmap.png", dpi=100)
    print(f"wrote {out / 'manifest.json'} and {out / 'heatmap.png'} "
          f"(matplotlib {matplotlib.__version__})")


if __name__ == "__main__":
    main()
