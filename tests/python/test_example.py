"""examples/plan_and_heatmap.py runs headless and draws a PNG."""
import os
import subprocess
import sys

import pytest

from conftest import SOURCE

pytest.importorskip("matplotlib")


def test_example_writes_a_png(tmp_path):
    env = dict(os.environ, MPLBACKEND="Agg", MPLCONFIGDIR=str(tmp_path / "mpl"))
    r = subprocess.run([sys.executable, str(SOURCE / "examples" / "plan_and_heatmap.py"),
                        "--out", str(tmp_path)], capture_output=True, text=True, env=env,
                       timeout=600)
    assert r.returncode == 0, r.stderr
    png = tmp_path / "heatmap.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "manifest.json").stat().st_size > 0
    assert "best:" in r.stdout
