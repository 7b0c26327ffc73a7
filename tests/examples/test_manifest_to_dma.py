"""examples/manifest_to_dma.py on real manifests, and the manifests against
docs/manifest.schema.json. Run by ctest (standard library unittest; the
schema test needs python3-jsonschema and is skipped without it).

SNNPLAN_BINARY is the snnplan CLI, SNNPLAN_SOURCE_DIR the source tree."""
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import unittest

SOURCE = pathlib.Path(os.environ.get("SNNPLAN_SOURCE_DIR",
                                     pathlib.Path(__file__).resolve().parents[2]))
BINARY = os.environ.get("SNNPLAN_BINARY")
EXAMPLE = SOURCE / "examples" / "manifest_to_dma.py"
MODELS = SOURCE / "models"
MAIN = "tb-lf,tb-lf,tb-lbl,tb-lbl,tb-lbl,tb-lbl,tb-lbl"

sys.path.insert(0, str(SOURCE / "examples"))
import manifest_to_dma  # noqa: E402

# (name, plan arguments): the README's job; a tight plan that spills,
# reloads and streams with states in DRAM; a multi-step export.
PLANS = [
    ("sew7-main", [MODELS / "sj_sew7_T16_loop_op13.onnx", "--hw", "meta-prototype",
                   "--sram", "128KiB", "--schedule", MAIN]),
    ("nmnist-tight-dram", [MODELS / "snntorch_nmnist_step_op13.onnx", "--timesteps", "4",
                           "--sram", "2KiB", "--schedule", "st-lf", "--state-io", "dram"]),
    ("nmnist-unrolled", [MODELS / "snntorch_nmnist_unrolled_T4_op13.onnx", "--sram", "16KiB",
                         "--schedule", "tb-lbl"]),
    # Several networks in one deployment (docs/multinet.md): model.networks, summary.by_network.
    ("team-quad", [*(MODELS / "team" / f"narrow{i}.onnx" for i in range(1, 5)),
                   "--hw", "meta-prototype-quad", "--schedule", "tb-lbl", "--core-per-network"]),
]

_manifests = {}


def manifest(name):
    """Plans `name` once (through the CLI) and returns its manifest."""
    if BINARY is None:
        raise unittest.SkipTest("SNNPLAN_BINARY is not set (run through ctest)")
    if name not in _manifests:
        args = dict(PLANS)[name]
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "m.json")
            r = subprocess.run([BINARY, "plan", *map(str, args), "-o", path],
                               capture_output=True, text=True, timeout=900)
            if r.returncode != 0:
                raise AssertionError(r.stderr)
            with open(path, encoding="utf-8") as f:
                _manifests[name] = json.load(f)
    return _manifests[name]


def region_of(m, address, size):
    for r in m["dram_layout"]:
        if r["base"] <= address and address + size <= r["base"] + r["bytes"]:
            return r["name"]
    return None


class ManifestToDma(unittest.TestCase):
    def check(self, name):
        m = manifest(name)
        program = manifest_to_dma.descriptors(m)
        transfers = [t for t in m["transfers"] if t["direction"] != "stream"]
        stream_steps = sum(len(t["descriptors"]) for t in m["transfers"]
                           if t["direction"] == "stream")
        inits = sum("init" in a for a in m["allocations"])
        # One descriptor per transfer, stream descriptor, parameter block
        # and init marker: nothing dropped, nothing invented.
        self.assertEqual(len(program),
                         len(transfers) + stream_steps + len(m["parameters"]) + inits)
        self.assertEqual(sum(d["kind"] == "param" for d in program), len(m["parameters"]))
        # In cycle order.
        cycles = [d["cycle"] for d in program]
        self.assertEqual(cycles, sorted(cycles))
        # Every DRAM byte a descriptor touches lies in a region, parameters
        # in the weights region.
        for d in program:
            for end in ("src", "dst"):
                a = d[end]
                if a is not None and "dram" in a:
                    where = region_of(m, a["dram"], d["bytes"])
                    self.assertIsNotNone(where, d)
                    if d["kind"] == "param":
                        self.assertEqual(where, "weights")
        # A parameter block is loaded when its layer's first tile starts.
        first = {}
        for t in m["tiles"]:
            first.setdefault(t["layer_id"], t["start"])
        for d, p in zip([d for d in program if d["kind"] == "param"],
                        sorted(m["parameters"], key=lambda p: (first[p["layer_id"]],
                                                               p["layer_id"]))):
            self.assertEqual(d["cycle"], first[p["layer_id"]])
        # Stream descriptors move exactly each stream's operand bytes, except
        # that every operand but a read of O moves at least one whole pass
        # over the bytes the tile needs (docs/manifest.md, "Stream
        # descriptors"): more than its total only as a single pass, no range
        # moved twice.
        moved = {}
        for d in program:
            if d["kind"] == "stream":
                key = (d["transfer"], d["operand"], d["src"] is None or "dram" in d["src"])
                moved[key] = moved.get(key, 0) + d["bytes"] * d["repeat"]
        for t in m["transfers"]:
            if t["direction"] != "stream":
                continue
            for op, v in t["operands"].items():
                for direction, from_dram in (("read", True), ("write", False)):
                    got = moved.get((t["id"], op, from_dram), 0)
                    total = v[direction + "_bytes"]
                    if got > total and not (op == "O" and direction == "read"):
                        mine = [d for d in t["descriptors"]
                                if d["operand"] == op and d["direction"] == direction]
                        ranges = [(d["piece"], d["byte_offset"]) for d in mine]
                        self.assertEqual(len(ranges), len(set(ranges)), t["id"])
                        self.assertTrue(all(d["repeat"] == 1 for d in mine), t["id"])
                    else:
                        self.assertEqual(got, total)
        return m, program

    def test_readme_job(self):
        m, program = self.check("sew7-main")
        self.assertGreater(len(m["parameters"]), 0)
        # The bias of every conv that has one: G*K binary64 values.
        layers = {l["id"]: l for l in m["layers"]}
        for p in m["parameters"]:
            if p["fields"][0]["name"] == "bias":
                self.assertEqual(p["fields"][0]["count"], layers[p["layer_id"]]["shape"]["K"])
                self.assertGreaterEqual(p["bytes"], 8 * layers[p["layer_id"]]["shape"]["K"])

    def test_tight_plan_with_states_in_dram(self):
        m, program = self.check("nmnist-tight-dram")
        causes = {t["cause"] for t in m["transfers"]}
        self.assertTrue({"reload", "state_init", "state_final"} <= causes, causes)
        self.assertEqual(m["initial_state"]["mode"], "dram")
        # The host fills exactly the slices the state_init loads read.
        slices = {s["piece"]: s["dram_address"] for s in m["initial_state"]["slices"]}
        for t in m["transfers"]:
            if t["cause"] == "state_init":
                self.assertEqual(slices[t["tensor"]["piece"]], t["dram_address"])
        self.assertFalse(any(d["kind"] == "fill" for d in program))

    def test_unrolled_export_lists_its_outputs(self):
        m, program = self.check("nmnist-unrolled")
        self.assertTrue(any(d["kind"] == "fill" for d in program))  # on-chip zero init
        produced = [g for g in m["graph_outputs"] if g["produced"]]
        self.assertTrue(produced)
        # snnTorch's exported membrane recording (every step of a state) is
        # not something a plan stores.
        rec = [g for g in m["graph_outputs"] if g["kind"] == "state" and g["steps"] == "all"]
        self.assertTrue(rec)
        self.assertFalse(any(g["produced"] for g in rec))
        # Every conv / linear of this export has a bias: its first field,
        # one binary64 value per output channel, in the weights region.
        weighted = [l for l in m["layers"] if l["weights"]]
        blocks = {p["layer_id"]: p for p in m["parameters"]}
        self.assertEqual(len(weighted), 3)
        loads = {t["tensor"]["layer"]: t["dram_address"] for t in m["transfers"]
                 if t["direction"] == "load" and t["tensor"]["kind"] == "weights"}
        for layer in weighted:
            # The host writes the weights where every load reads them.
            piece = layer["weights_piece"]
            self.assertEqual(region_of(m, piece["dram_address"], piece["bytes"]), "weights")
            if layer["name"] in loads:
                self.assertEqual(loads[layer["name"]], piece["dram_address"])
            bias = blocks[layer["id"]]["fields"][0]
            self.assertEqual((bias["name"], bias["offset"], bias["count"]),
                             ("bias", 0, layer["shape"]["K"]))
            self.assertEqual(region_of(m, blocks[layer["id"]]["dram_address"],
                                       blocks[layer["id"]]["bytes"]), "weights")
        for g in m["graph_outputs"]:
            if not g["produced"]:
                self.assertTrue(g["why"])

    def test_cli_writes_the_same_list(self):
        m = manifest("sew7-main")
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "m.json")
            with open(path, "w", encoding="utf-8") as f:
                json.dump(m, f)
            out = os.path.join(d, "dma.json")
            r = subprocess.run([sys.executable, str(EXAMPLE), path, "--json", "-o", out],
                               capture_output=True, text=True, timeout=600)
            self.assertEqual(r.returncode, 0, r.stderr)
            with open(out, encoding="utf-8") as f:
                self.assertEqual(json.load(f), manifest_to_dma.descriptors(json.loads(json.dumps(m))))
            text = subprocess.run([sys.executable, str(EXAMPLE), path], capture_output=True,
                                  text=True, timeout=600)
            self.assertEqual(text.returncode, 0, text.stderr)
            self.assertEqual(len(text.stdout.splitlines()), len(manifest_to_dma.descriptors(m)))
            # A version 3 manifest lacks what the program needs: refused.
            old = dict(m, schema_version=3)
            with open(path, "w", encoding="utf-8") as f:
                json.dump(old, f)
            r = subprocess.run([sys.executable, str(EXAMPLE), path], capture_output=True,
                               text=True, timeout=600)
            self.assertEqual(r.returncode, 2)
            self.assertIn("schema_version 4", r.stderr)

    def test_manifests_validate(self):
        for name, _ in PLANS:
            m = manifest(name)
            with tempfile.TemporaryDirectory() as d:
                path = os.path.join(d, "m.json")
                with open(path, "w", encoding="utf-8") as f:
                    json.dump(m, f)
                r = subprocess.run([BINARY, "validate", path], capture_output=True, text=True,
                                   timeout=600)
                self.assertEqual(r.returncode, 0, name + ": " + r.stdout[-2000:] + r.stderr)


class Schema(unittest.TestCase):
    def test_manifests_match_the_schema(self):
        try:
            import jsonschema
        except ImportError:
            self.skipTest("python3-jsonschema is not installed")
        with open(SOURCE / "docs" / "manifest.schema.json", encoding="utf-8") as f:
            schema = json.load(f)
        validator = jsonschema.Draft202012Validator(schema)
        for name, _ in PLANS:
            m = manifest(name)
            errors = [e.message for e in validator.iter_errors(m)][:5]
            self.assertEqual(errors, [], name)
        # The schema is exact enough to catch a wrong value.
        bad = json.loads(json.dumps(manifest("nmnist-unrolled")))
        bad["layouts"]["packing"]["bit_order"] = "msb_first"
        self.assertTrue(list(validator.iter_errors(bad)))
        bad = json.loads(json.dumps(manifest("nmnist-unrolled")))
        del bad["parameters"][0]["load_before_tile"]
        self.assertTrue(list(validator.iter_errors(bad)))
        bad = json.loads(json.dumps(manifest("team-quad")))
        bad["model"]["networks"][1]["input"] = "borrowed"
        self.assertTrue(list(validator.iter_errors(bad)))
        bad = json.loads(json.dumps(manifest("team-quad")))
        del bad["summary"]["by_network"][0]["end_cycle"]
        self.assertTrue(list(validator.iter_errors(bad)))


if __name__ == "__main__":
    unittest.main()
