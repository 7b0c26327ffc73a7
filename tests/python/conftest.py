"""Shared helpers: the snnplan CLI built next to the module is the reference
every test compares against (SNNPLAN_BINARY, set by ctest)."""
import os
import pathlib
import subprocess

import pytest

SOURCE = pathlib.Path(os.environ.get("SNNPLAN_SOURCE_DIR",
                                     pathlib.Path(__file__).resolve().parents[2]))
MODELS = SOURCE / "models"
SEW5 = MODELS / "sj_sew5_T16_loop_op13.onnx"
SEW7 = MODELS / "sj_sew7_T16_loop_op13.onnx"
NMNIST_UNROLLED = MODELS / "snntorch_nmnist_unrolled_T4_op13.onnx"
NMNIST_STEP = MODELS / "snntorch_nmnist_step_op13.onnx"
# The README's main job.
MAIN_SCHEDULE = "tb-lf,tb-lf,tb-lbl,tb-lbl,tb-lbl,tb-lbl,tb-lbl"


def binary():
    path = os.environ.get("SNNPLAN_BINARY")
    if not path:
        pytest.skip("SNNPLAN_BINARY is not set (run through ctest)")
    return path


class Cli:
    def __init__(self, returncode, stdout, stderr):
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr

    def error(self):
        """The message after 'snnplan: error: ' on the first stderr line."""
        first = self.stderr.splitlines()[0]
        assert first.startswith("snnplan: error: "), self.stderr
        return first[len("snnplan: error: "):]


def cli(*args):
    r = subprocess.run([binary(), *map(str, args)], capture_output=True, text=True, timeout=600)
    return Cli(r.returncode, r.stdout, r.stderr)


def cli_ok(*args):
    r = cli(*args)
    assert r.returncode == 0, r.stderr
    return r
