"""plan(), cost() and validate() against `snnplan plan`, `cost --json` and `validate`."""
import json

import pytest
import snnplan

from conftest import MAIN_SCHEDULE, MODELS, SEW5, SEW7, cli, cli_ok


def test_main_job_summary_and_manifest_are_the_cli_bytes(tmp_path):
    manifest, summary = tmp_path / "m.json", tmp_path / "s.json"
    r = cli_ok("plan", SEW7, "--hw", "meta-prototype", "--sram", "128KiB", "--schedule",
               MAIN_SCHEDULE, "-o", manifest, "--summary-json", summary)
    p = snnplan.plan(SEW7, hw="meta-prototype", sram="128KiB", schedule=MAIN_SCHEDULE)
    assert p.summary_json == summary.read_text()
    assert p.summary == json.loads(summary.read_text())
    assert r.stdout.startswith(p.describe())
    out = tmp_path / "py.json"
    p.write(out)
    assert out.read_bytes() == manifest.read_bytes()
    assert not list(tmp_path.glob("*.tmp.*"))


def test_describe_is_the_cli_report_and_names_the_default_hardware():
    r = cli_ok("plan", SEW5, "--sram", "128KiB", "--schedule", "tb-lf")
    p = snnplan.plan(SEW5, sram="128KiB", schedule="tb-lf")
    assert r.stdout == p.describe()
    # No hw: the default preset, said so; --sram 128KiB = 131072 bytes = 128 KiB.
    assert p.describe().startswith("hardware: meta-prototype (default, no --hw), SRAM 128 KiB\n")
    assert p.summary["hardware"] == {"name": "meta-prototype"}
    named = snnplan.plan(SEW5, hw="meta-prototype", sram="128KiB", schedule="tb-lf")
    assert named.describe().startswith("hardware: meta-prototype, SRAM 128 KiB\n")
    assert named.describe().split("\n", 1)[1] == p.describe().split("\n", 1)[1]


def test_objects_and_options_give_the_same_plan(tmp_path):
    summary, manifest = tmp_path / "s.json", tmp_path / "m.json"
    cli_ok("plan", SEW5, "--hw", "meta-prototype", "--sram", "256KiB", "--schedule", "tb-lf",
           "--state-io", "dram", "--eviction", "belady", "--timesteps", "16", "-j", "2",
           "--summary-json", summary, "--summary-only", "-o", manifest)
    expected = summary.read_text()
    by_path = snnplan.plan(SEW5, hw="meta-prototype", sram="256KiB", schedule="tb-lf",
                           state_io="dram", eviction="belady", timesteps=16, threads=2)
    assert by_path.summary_json == expected
    assert by_path.manifest_json(summary_only=True) == manifest.read_text()
    w = snnplan.import_model(SEW5, timesteps=16)
    h = snnplan.load_hardware("meta-prototype")
    by_objects = snnplan.plan(w, hw=h, sram=256 * 1024, schedule="tb-lf", state_io="dram",
                              eviction="belady")
    assert by_objects.summary_json == expected
    with pytest.raises(TypeError, match="timesteps"):
        snnplan.plan(w, schedule="tb-lf", timesteps=16)


@pytest.mark.parametrize("kwargs, flags", [
    ({"schedule": "xx-lbl"}, ["--schedule", "xx-lbl"]),
    ({"hw": "no-such-preset"}, ["--hw", "no-such-preset"]),
    ({"sram": "12XB"}, ["--sram", "12XB"]),
    ({"eviction": "lru"}, ["--eviction", "lru"]),
    ({"density": 2.0}, ["--density", "2.0"]),
    ({"max_memory": "1KiB"}, ["--max-memory", "1KiB"]),
    ({"schedule": "st-lbl", "schedule_file": "/nonexistent.json"},
     ["--schedule", "st-lbl", "--schedule-file", "/nonexistent.json"]),
])
def test_plan_errors_are_the_cli_errors(kwargs, flags):
    expected = cli("plan", SEW5, *flags)
    assert expected.returncode == 2
    with pytest.raises(snnplan.Error) as e:
        snnplan.plan(SEW5, **kwargs)
    assert str(e.value) == expected.error()


def test_unknown_plan_keyword():
    with pytest.raises(TypeError, match="'shedule'"):
        snnplan.plan(SEW5, shedule="st-lbl")
    with pytest.raises(TypeError, match="'output'"):  # -o names a file: use Plan.write
        snnplan.plan(SEW5, output="m.json")


def test_cost_is_the_cli_report(tmp_path):
    out = tmp_path / "cost.json"
    layer = snnplan.import_model(SEW5).layers[2]["name"]
    cli_ok("cost", SEW5, "--hw", "meta-prototype", "--sram", "128KiB", "--layer", layer,
           "--tile", "T=4", "--json", out)
    report = snnplan.cost(str(SEW5), hw="meta-prototype", sram="128KiB", layer=layer, tile="T=4")
    assert report == json.loads(out.read_text())
    expected = cli("cost", SEW5, "--hw", "meta-prototype", "--layer", "nope")
    with pytest.raises(snnplan.Error) as e:
        snnplan.cost(SEW5, hw="meta-prototype", layer="nope")
    assert str(e.value) == expected.error()
    with pytest.raises(TypeError, match="'hw'"):
        snnplan.cost(SEW5)


def test_validate_is_the_cli_verdict(tmp_path):
    m = tmp_path / "m.json"
    snnplan.plan(SEW5, sram="128KiB", schedule="st-lf").write(m)
    assert cli("validate", m, "--model", SEW5).returncode == 0
    report = snnplan.validate(m, model=SEW5)
    assert report["valid"] and report["violations"] == []
    # Tamper with the summary: the validator recounts the tiles.
    doc = json.loads(m.read_text())
    doc["summary"]["tiles"] += 1
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    r = cli("validate", bad)
    assert r.returncode == 1
    report = snnplan.validate(bad)
    assert not report["valid"]
    lines = [f"[{v['check']}] {v['message']}" for v in report["violations"]]
    assert lines == r.stdout.splitlines()[:-1]
    expected = cli("validate", tmp_path / "missing.json")
    with pytest.raises(snnplan.Error) as e:
        snnplan.validate(tmp_path / "missing.json")
    assert str(e.value) == expected.error()


def test_exit_profile_prices_the_expected_cost_like_the_cli(tmp_path):
    profile, summary = tmp_path / "p.json", tmp_path / "s.json"
    profile.write_text(json.dumps({"format": "snnplan-exit-profile", "version": 1,
                                   "timesteps": 16, "exit_probability": {"2": 0.5, "16": 0.5}}))
    cli_ok("plan", SEW5, "--schedule", "st-lbl", "--exit-profile", profile,
           "--summary-json", summary, "-o", tmp_path / "m.json")
    p = snnplan.plan(SEW5, schedule="st-lbl", exit_profile=str(profile))
    assert p.summary_json == summary.read_text()
    assert p.summary["expected"]["mean_timesteps"] == 0.5 * 2 + 0.5 * 16


TEAM = [MODELS / "team" / "narrow1.onnx", MODELS / "team" / "narrow2.onnx"]


def test_several_models_plan_as_the_cli_plans_them(tmp_path):
    """A list of paths is one deployment, as `snnplan plan A B` (docs/multinet.md)."""
    manifest = tmp_path / "m.json"
    cli_ok("plan", *TEAM, "--hw", "meta-prototype-quad", "--schedule", "tb-lbl",
           "--core-per-network", "-o", manifest)
    p = snnplan.plan(TEAM, hw="meta-prototype-quad", schedule="tb-lbl", core_per_network=True)
    out = tmp_path / "py.json"
    p.write(out)
    assert out.read_bytes() == manifest.read_bytes()
    doc = json.loads(out.read_text())
    assert [n["name"] for n in doc["model"]["networks"]] == ["narrow1", "narrow2"]
    rows = snnplan.explore(TEAM, hw="meta-prototype", sram="64KiB", budget=3)
    assert len(rows) == 3 and all(not r["error"] for r in rows)
    with pytest.raises(ValueError, match="empty"):
        snnplan.plan([])
    with pytest.raises(TypeError, match="paths"):
        snnplan.plan([TEAM[0], snnplan.import_model(TEAM[1])])
