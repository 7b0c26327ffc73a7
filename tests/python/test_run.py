"""run() against the fixtures' PyTorch references (models/*.io.npz) and `snnplan run`."""
import json

import numpy as np
import pytest
import snnplan

from conftest import MODELS, NMNIST_STEP, NMNIST_UNROLLED, SEW5, cli, cli_ok


def close(a, b):
    # docs/run.md: spikes identical, other values within 1e-4 + 1e-4 |b|.
    return np.all(np.abs(a - b) <= 1e-4 + 1e-4 * np.abs(b))


def test_unrolled_matches_pytorch_and_cli(tmp_path):
    ref = dict(np.load(MODELS / "snntorch_nmnist_unrolled_T4.io.npz"))
    outputs = snnplan.run(NMNIST_UNROLLED, {"x": ref["x"]})
    assert set(outputs) == {"spk_rec", "mem_rec"}
    assert outputs["spk_rec"].shape == ref["spk_rec"].shape
    assert np.array_equal(outputs["spk_rec"], ref["spk_rec"])
    assert close(outputs["mem_rec"], ref["mem_rec"])
    out = tmp_path / "out.npz"
    cli_ok("run", NMNIST_UNROLLED, "--inputs", MODELS / "snntorch_nmnist_unrolled_T4.io.npz",
           "--outputs", out)
    for name, a in np.load(out).items():
        assert np.array_equal(outputs[name], a)


def test_single_step_with_states_and_activity(tmp_path):
    ref = dict(np.load(MODELS / "snntorch_nmnist_step.io.npz"))
    # The reference file as is: keys naming graph outputs are skipped, as by the CLI.
    outputs, activity = snnplan.run(NMNIST_STEP, ref, timesteps=1, activity=True)
    for name in ("spk3", "mem1_out", "mem2_out", "mem3_out"):
        assert name in outputs
        if name.startswith("spk"):
            assert np.array_equal(outputs[name], ref[name])
        else:
            assert close(outputs[name], ref[name])
    act = tmp_path / "act.json"
    cli_ok("run", NMNIST_STEP, "--timesteps", 1, "--inputs", MODELS / "snntorch_nmnist_step.io.npz",
           "--activity", act)
    assert activity == json.loads(act.read_text())


def test_sew5_uint8_input_from_a_workload():
    ref = dict(np.load(MODELS / "sj_sew5_T16.io.npz"))
    w = snnplan.import_model(SEW5)  # planning import: run() imports the parameters itself
    seen = []
    outputs = snnplan.run(w, {"x_seq": ref["x_seq"]}, threads=2,
                          progress=lambda done, total: seen.append((done, total)))
    assert close(outputs["logits"], ref["logits"])
    assert seen and seen[-1][0] == seen[-1][1] == len(w.layers)


def test_run_errors_are_the_cli_errors(tmp_path):
    ref = dict(np.load(MODELS / "snntorch_nmnist_unrolled_T4.io.npz"))
    np.savez(tmp_path / "bad.npz", y=ref["x"])
    expected = cli("run", NMNIST_UNROLLED, "--inputs", tmp_path / "bad.npz")
    with pytest.raises(snnplan.Error) as e:
        snnplan.run(NMNIST_UNROLLED, {"y": ref["x"]})
    # The CLI names the input file first.
    assert expected.error() == f"{tmp_path / 'bad.npz'}: {e.value}"
    with pytest.raises(TypeError, match="'outputs'"):
        snnplan.run(NMNIST_UNROLLED, {"x": ref["x"]}, outputs="o.npz")
