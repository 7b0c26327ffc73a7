"""import_model and load_hardware against `snnplan import --json` and `snnplan hw show --json`."""
import json

import pytest
import snnplan

from conftest import NMNIST_STEP, SEW5, SOURCE, cli, cli_ok


def test_import_json_is_the_cli_json(tmp_path):
    out = tmp_path / "ir.json"
    cli_ok("import", SEW5, "--json", out)
    w = snnplan.import_model(SEW5)
    assert w.json_text() == out.read_text()
    doc = json.loads(out.read_text())
    assert w.to_json() == doc
    assert w.layers == doc["layers"] and w.num_blocks == doc["num_blocks"]
    assert w.timesteps == doc["timesteps"] and w.model_sha256 == doc["model_sha256"]
    assert len(w) == len(doc["layers"])
    assert w.layer(doc["layers"][3]["name"]) == doc["layers"][3]


def test_import_facts_from_the_readme():
    # README: "sj_sew5_T16_loop_op13.onnx  # 11 stateful + 5 stateless LIF layers", T = 16.
    w = snnplan.import_model(SEW5)
    neurons = [layer["neuron"] for layer in w.layers]
    assert neurons.count("stateful") == 11
    assert neurons.count("stateless") == 5
    assert w.timesteps == 16
    assert all(layer["neuron_kind"] == "lif" for layer in w.layers if layer["neuron"] != "none")


def test_import_options_map_to_flags(tmp_path):
    out = tmp_path / "ir.json"
    cli_ok("import", NMNIST_STEP, "--timesteps", 4, "--input-shape", "x=2,34,34",
           "--weight-bits", 8, "--stateless-blocks", "0", "--json", out)
    for shape in ({"x": (2, 34, 34)}, "x=2,34,34", ["x=2,34,34"]):
        w = snnplan.import_model(NMNIST_STEP, timesteps=4, input_shape=shape, weight_bits=8,
                                 stateless_blocks=[0])
        assert w.json_text() == out.read_text()
    assert w.timesteps == 4


def test_import_table_is_the_cli_table():
    assert snnplan.import_model(SEW5).table() == cli_ok("import", SEW5).stdout


@pytest.mark.parametrize("sram", ["128KiB", 131072])
def test_load_hardware_is_hw_show(sram):
    expected = cli_ok("hw", "show", "meta-prototype", "--sram", "128KiB", "--json").stdout
    h = snnplan.load_hardware("meta-prototype", sram=sram)
    assert h.json_text() == expected
    assert h.to_json() == json.loads(expected)
    assert h.name == json.loads(expected)["name"]


def test_load_hardware_errors_are_the_cli_errors():
    for name, sram in (("no-such-preset", None), ("meta-prototype", "12XB")):
        args = ["hw", "show", name] + ([] if sram is None else ["--sram", sram])
        expected = cli(*args)
        assert expected.returncode == 2
        with pytest.raises(snnplan.Error) as e:
            snnplan.load_hardware(name, sram=sram)
        assert str(e.value) == expected.error()
    assert issubclass(snnplan.Error, ValueError)


def test_import_errors(tmp_path):
    missing = tmp_path / "missing.onnx"
    expected = cli("import", missing)
    with pytest.raises(snnplan.Error) as e:
        snnplan.import_model(missing)
    assert str(e.value) == expected.error()
    # A range check of the CLI's option parser, with its message.
    expected = cli("import", SEW5, "--weight-bits", 0)
    with pytest.raises(snnplan.Error) as e:
        snnplan.import_model(SEW5, weight_bits=0)
    assert str(e.value) == expected.error()


def test_unknown_keyword_is_a_type_error():
    with pytest.raises(TypeError, match="'weight_bitz'"):
        snnplan.import_model(SEW5, weight_bitz=8)
    with pytest.raises(TypeError, match="'json'"):  # an output file of the CLI, not an option
        snnplan.import_model(SEW5, json="x.json")


ZIGZAG_CORE = SOURCE / "tests" / "data" / "hw" / "zigzag" / "snn_core.yaml"


def test_load_hardware_reads_zigzag_yaml_as_hw_show():
    expected = cli_ok("hw", "show", ZIGZAG_CORE, "--json").stdout
    h = snnplan.load_hardware(ZIGZAG_CORE)
    assert h.json_text() == expected
    # ZigZag's input_precision [8, 4]: 8-bit input, 4-bit weights.
    assert h.to_json()["precision"]["input_bits"] == 8
    assert h.to_json()["precision"]["weight_bits"] == 4


def test_precision_keyword_overrides_the_hardware(tmp_path):
    # plan(..., weight_bits=2) is `plan --weight-bits 2`: the manifest's
    # hardware records the precision used, and the summary is the CLI's.
    out = tmp_path / "m.json"
    cli_ok("plan", NMNIST_STEP, "--timesteps", 4, "--hw", ZIGZAG_CORE, "--weight-bits", 2,
           "--summary-json", out, "-o", tmp_path / "cli.json")
    p = snnplan.plan(NMNIST_STEP, hw=snnplan.load_hardware(ZIGZAG_CORE), timesteps=4, weight_bits=2)
    assert p.summary_json == out.read_text()
    assert json.loads(p.manifest_json())["hardware"]["precision"]["weight_bits"] == 2
    assert json.loads(p.manifest_json())["hardware"]["precision"]["input_bits"] == 8
