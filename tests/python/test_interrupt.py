"""Progress callbacks and Ctrl-C: long calls stop promptly and raise, nothing crashes."""
import os
import signal
import threading
import time

import numpy as np
import pytest
import snnplan

from conftest import MODELS, SEW5, SEW7

# `snnplan explore --strategy exhaustive` on SEW-7 evaluates 16,384 schedules
# (about 43 s on two cores, README): an interrupt must end it long before.
PROMPT_SECONDS = 10


def test_progress_callback_that_raises_keyboard_interrupt():
    seen = []

    def progress(done, total):
        seen.append((done, total))
        raise KeyboardInterrupt

    start = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        snnplan.explore(SEW7, sram="128KiB", strategy="exhaustive", threads=2, progress=progress)
    assert time.monotonic() - start < PROMPT_SECONDS
    assert len(seen) == 1 and seen[0][0] < seen[0][1] == 4 ** 7


def test_progress_callback_exception_propagates():
    class Stop(Exception):
        pass

    def progress(done, total):
        if done >= 2:
            raise Stop

    with pytest.raises(Stop):
        snnplan.allocate(SEW5, hw="meta-prototype-quad", schedule="tb-lbl", population=4,
                         generations=50, progress=progress)
    # The module is usable afterwards.
    assert snnplan.plan(SEW5, schedule="tb-lbl").summary["tiles"] > 0


def interrupt_after(seconds):
    timer = threading.Timer(seconds, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    return timer


def test_sigint_stops_explore():
    timer = interrupt_after(1.0)
    start = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt):
            snnplan.explore(SEW7, sram="128KiB", strategy="exhaustive", threads=2)
    finally:
        timer.cancel()
    assert time.monotonic() - start < PROMPT_SECONDS


def test_sigint_stops_run():
    ref = dict(np.load(MODELS / "sj_sew7_T16.io.npz"))
    name = [k for k in ref if k.startswith("x")][0]
    w = snnplan.import_model(SEW7)
    layers_done = []
    timer = interrupt_after(0.5)
    try:
        with pytest.raises(KeyboardInterrupt):
            snnplan.run(SEW7, {name: ref[name]},
                        progress=lambda done, total: layers_done.append(done))
    finally:
        timer.cancel()
    assert not layers_done or layers_done[-1] < len(w.layers)
