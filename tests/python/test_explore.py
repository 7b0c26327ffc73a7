"""explore() and allocate() against the CSVs of `snnplan explore` and `snnplan allocate`."""
import csv
import json

import pytest
import snnplan

from conftest import SEW5, cli, cli_ok


def cli_rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def same(value, text):
    """A module value equals the CLI's CSV field."""
    if isinstance(value, bool):
        return text == ("true" if value else "false")
    if isinstance(value, int):
        return int(text) == value
    if isinstance(value, float):
        return float(text) == value
    return value == text


def assert_rows_equal(rows, expected):
    assert len(rows) == len(expected) > 0
    for row, exp in zip(rows, expected):
        for key, text in exp.items():
            assert same(row[key], text), (key, row[key], text)


def test_explore_rows_are_the_cli_csv(tmp_path):
    out = tmp_path / "grid.csv"
    r = cli_ok("explore", SEW5, "--hw", "meta-prototype", "--sram", "128KiB,256KiB",
               "--strategy", "grid", "--fuse-from", "input", "-j", "2", "--csv", out)
    rows = snnplan.explore(SEW5, hw="meta-prototype", sram=["128KiB", "256KiB"],
                           strategy="grid", fuse_from="input", threads=2)
    expected = cli_rows(out)
    assert_rows_equal(rows, expected)
    assert list(rows[0])[:len(expected[0])] == list(expected[0])  # the CSV's column order
    # Grid coordinates: (N + 1)^2 cells per size, and each size's best is the one the CLI names.
    blocks = snnplan.import_model(SEW5).num_blocks
    per_size = (blocks + 1) ** 2
    assert sorted((r["fused_blocks"], r["batched_blocks"]) for r in rows[:per_size]) == [
        (f, b) for f in range(blocks + 1) for b in range(blocks + 1)]
    best = [row["spec"] for row in rows if row["best"]]
    assert [line.split("best: ")[1] for line in r.stdout.splitlines()
            if line.startswith("best: ")] == best


def test_explore_details_and_objects(tmp_path):
    out = tmp_path / "ex.csv"
    cli_ok("explore", SEW5, "--sram", "128KiB", "--strategy", "search", "--budget", "40",
           "--objective", "energy", "--csv", out)
    w = snnplan.import_model(SEW5)
    h = snnplan.load_hardware("meta-prototype", sram="128KiB")
    rows, sizes = snnplan.explore(w, hw=h, strategy="search", budget=40, objective="energy",
                                  details=True)
    assert_rows_equal(rows, cli_rows(out))
    assert sizes[0]["sram_bytes"] == 128 * 1024 and sizes[0]["label"] == f"{128 * 1024}B"


def test_explore_errors_are_the_cli_errors():
    for kwargs, flags in (({"strategy": "random"}, ["--strategy", "random"]),
                          ({"allocation": "/nonexistent.json"}, ["--allocation", "/nonexistent.json"])):
        expected = cli("explore", SEW5, *flags)
        assert expected.returncode == 2
        with pytest.raises(snnplan.Error) as e:
            snnplan.explore(SEW5, **kwargs)
        assert str(e.value) == expected.error()
    with pytest.raises(TypeError, match="'heatmap'"):
        snnplan.explore(SEW5, heatmap="x.svg")


def test_allocate_rows_are_the_cli_csv(tmp_path):
    out, best = tmp_path / "a.csv", tmp_path / "best.json"
    cli_ok("allocate", SEW5, "--hw", "meta-prototype-quad", "--schedule", "tb-lbl",
           "--population", 4, "--generations", 1, "--seed", 7, "--csv", out,
           "--best-allocation", best)
    r = snnplan.allocate(SEW5, hw="meta-prototype-quad", schedule="tb-lbl", population=4,
                         generations=1, seed=7)
    assert_rows_equal(r["rows"], cli_rows(out))
    assert {"allocation": r["best_allocation"]} == json.loads(best.read_text())
    assert r["min_energy"] in r["pareto"]
    assert all(r["rows"][i]["pareto"] for i in r["pareto"])


def test_resume_reuses_an_interrupted_cli_run_and_shard_is_refused(tmp_path):
    import os
    import subprocess
    from conftest import NMNIST_STEP, binary
    part = tmp_path / "part.csv"
    args = [binary(), "explore", str(NMNIST_STEP), "--timesteps", "4", "--sram", "8KiB",
            "--csv", str(part)]
    env = dict(os.environ, SNNPLAN_TEST_INTERRUPT_AFTER="3")  # test-only: SIGINT after 3
    assert subprocess.run(args, env=env, capture_output=True).returncode == 130
    assert part.read_text().startswith("# partial: 3 of 16 schedules")
    resumed = snnplan.explore(str(NMNIST_STEP), timesteps=4, sram="8KiB", resume=str(part))
    assert resumed == snnplan.explore(str(NMNIST_STEP), timesteps=4, sram="8KiB")
    with pytest.raises(snnplan.Error, match="shard: a shard's rows are for 'snnplan merge'"):
        snnplan.explore(str(NMNIST_STEP), timesteps=4, sram="8KiB", shard="0/2")
