#!/usr/bin/python3
"""Writes the hostile ONNX inputs of issue #16 (tests/regression/hostile_models_test.cc).

Run from the repository root with Debian's python3-onnx (1.12):
    /usr/bin/python3 tools/regression/make_importer_inputs.py
Every model is a small, otherwise valid SpikingJelly export
(models/corpus/sj_lif_hard_{step,loop}_op13.onnx) with one defect:

tests/data/regression/importer/   defects the importer must refuse naming the node
tests/data/regression/external_data/<case>/lif.onnx (+ lif.data)
                                  external-data tensors: one readable, the rest broken
tests/data/regression/manifest/   impossible facts in clean.json (written by
                                  `snnplan plan models/snntorch_nmnist_step_op13.onnx
                                  --timesteps 2 --schedule tb-lbl`) that validate
                                  must report without --model
tests/data/regression/blocks/     --blocks files with ids no model has
"""
import json
import math
import os
import shutil

import onnx
from onnx import helper, numpy_helper, TensorProto

STEP = "models/corpus/sj_lif_hard_step_op13.onnx"
LOOP = "models/corpus/sj_lif_hard_loop_op13.onnx"
IMPORTER = "tests/data/regression/importer"
EXTERNAL = "tests/data/regression/external_data"


def save(model, path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:  # as is: no checker, no external-data rewriting
        f.write(model.SerializeToString())


def node(graph, name):
    return next(n for n in graph.node if n.name == name)


def set_attr(n, name, value):
    for a in list(n.attribute):
        if a.name == name:
            n.attribute.remove(a)
    n.attribute.append(helper.make_attribute(name, value))


def set_dims(value_info, dims):
    shape = value_info.type.tensor_type.shape
    del shape.dim[:]
    for d in dims:
        shape.dim.add().dim_value = d


def conv_lif(in_ch=2, out_ch=8, hw=8, out_hw=8, weight=None, **conv_attrs):
    """x[1,in_ch,hw,hw] -> /conv1/Conv -> LIF (state v1) -> spike, v1_out."""
    m = onnx.load(STEP)
    g = m.graph
    last = [n.name for n in g.node].index("Add_16")
    del g.node[last + 1:]
    keep = {"x", "v1"}
    for i in [i for i in g.input if i.name not in keep]:
        g.input.remove(i)
    for t in [t for t in g.initializer if not t.name.startswith("conv1.")]:
        g.initializer.remove(t)
    del g.output[:]
    g.output.extend([helper.make_tensor_value_info(n, TensorProto.FLOAT, ["n", "c", "h", "w"])
                     for n in ("spike", "v1_out")])
    set_dims(g.input[0], [1, in_ch, hw, hw])
    set_dims(g.input[1], [1, out_ch, out_hw, out_hw])
    conv = node(g, "/conv1/Conv")
    if weight is not None:
        w = next(t for t in g.initializer if t.name == "conv1.weight")
        w.CopyFrom(weight)
        if weight.dims[0] != 8:  # no bias of the wrong size
            g.initializer.remove(next(t for t in g.initializer if t.name == "conv1.bias"))
            del conv.input[2:]
    for k, v in conv_attrs.items():
        set_attr(conv, k, v)
    return m


def add_pool(m, op, **attrs):
    """spike -> /pool/<op> as a third output."""
    g = m.graph
    g.node.append(helper.make_node(op, ["spike"], ["pooled"], name="/pool/" + op, **attrs))
    g.output.append(helper.make_tensor_value_info("pooled", TensorProto.FLOAT, ["n", "c", "h", "w"]))
    return m


def set_constant(m, name, value):
    n = node(m.graph, name)
    n.attribute[0].t.CopyFrom(numpy_helper.from_array(
        numpy_helper.to_array(n.attribute[0].t) * 0 + value, n.attribute[0].t.name))
    return m


def float_weight(dims, raw_bytes):
    t = TensorProto()
    t.name = "conv1.weight"
    t.data_type = TensorProto.FLOAT
    t.dims.extend(dims)
    t.raw_data = raw_bytes
    return t


def long_chain(length):
    """x -> /conv1/Conv -> `length` Add(+0) nodes -> LIF."""
    m = conv_lif()
    g = m.graph
    conv = node(g, "/conv1/Conv")
    g.initializer.append(numpy_helper.from_array(
        numpy_helper.to_array(helper.make_tensor("z", TensorProto.FLOAT, [], [0.0])), "z"))
    prev = conv.output[0]
    chain = []
    for i in range(length):
        out = "c%d" % i
        chain.append(helper.make_node("Add", [prev, "z"], [out], name="n%d" % i))
        prev = out
    for n in g.node:  # the LIF reads the end of the chain
        for k, name in enumerate(n.input):
            if name == conv.output[0]:
                n.input[k] = prev
    at = [n.name for n in g.node].index("/conv1/Conv") + 1
    nodes = list(g.node)
    del g.node[:]
    g.node.extend(nodes[:at] + chain + nodes[at:])
    return m


def loop_model():
    return onnx.load(LOOP)


def loop_body(m):
    return next(n for n in m.graph.node if n.op_type == "Loop").attribute[0].g


def importer_inputs():
    cases = {
        "conv_lif_control.onnx": conv_lif(),  # the base all others break: imports
        "conv_group_0.onnx": conv_lif(group=0),
        "conv_group_3_with_4_channels.onnx": conv_lif(
            in_ch=4, out_ch=9, weight=float_weight([9, 1, 3, 3], b"\0" * 4 * 81), group=3),
        "conv_strides_0.onnx": conv_lif(strides=[0, 0]),
        "conv_dilations_0.onnx": conv_lif(out_hw=10, dilations=[0, 0]),
        "maxpool_strides_0.onnx": add_pool(conv_lif(), "MaxPool", kernel_shape=[2, 2],
                                           strides=[0, 0]),
        "averagepool_strides_0.onnx": add_pool(conv_lif(), "AveragePool", kernel_shape=[2, 2],
                                               strides=[0, 0]),
        "weight_4_bytes_2_pow_31_channels.onnx": conv_lif(
            out_ch=2**31, weight=float_weight([2**31, 2, 3, 3], b"\0" * 4)),
        "threshold_nan.onnx": set_constant(conv_lif(), "Constant_7", math.nan),
        "threshold_inf.onnx": set_constant(conv_lif(), "Constant_7", math.inf),
        "decay_nan.onnx": set_constant(conv_lif(), "Constant_4", math.nan),
        "decay_inf.onnx": set_constant(conv_lif(), "Constant_4", math.inf),
        "chain_50000_adds.onnx": long_chain(50000),
    }
    m = loop_model()
    set_constant(m, "Constant_18", 0)
    cases["loop_trip_count_0.onnx"] = m
    m = loop_model()
    body = loop_body(m)
    body.output.remove(body.output[2])  # two carried values, one body output for them
    cases["loop_body_fewer_outputs.onnx"] = m
    for name, model in cases.items():
        save(model, os.path.join(IMPORTER, name))


def external_inputs():
    """One model with every tensor in lif.data, and broken variants."""
    shutil.rmtree(EXTERNAL, ignore_errors=True)
    ok = os.path.join(EXTERNAL, "ok")
    os.makedirs(ok)
    m = onnx.load(STEP)
    onnx.save_model(m, os.path.join(ok, "lif.onnx"), save_as_external_data=True,
                    all_tensors_to_one_file=True, location="lif.data", size_threshold=0,
                    convert_attribute=True)
    good = onnx.load(os.path.join(ok, "lif.onnx"), load_external_data=False)
    data = open(os.path.join(ok, "lif.data"), "rb").read()

    def variant(case, edit, data_bytes=data):
        m = onnx.ModelProto()
        m.CopyFrom(good)
        w = next(t for t in m.graph.initializer if t.name == "conv1.weight")
        entries = {e.key: e for e in w.external_data}
        edit(w, entries)
        save(m, os.path.join(EXTERNAL, case, "lif.onnx"))
        if data_bytes is not None:
            with open(os.path.join(EXTERNAL, case, "lif.data"), "wb") as f:
                f.write(data_bytes)

    def location(value):
        return lambda w, e: setattr(e["location"], "value", value)

    def offset(value):
        return lambda w, e: setattr(e["offset"], "value", value)

    def length(value):
        return lambda w, e: setattr(e["length"], "value", value)

    variant("absolute", location("/etc/hostname"))
    variant("dotdot", location("../ok/lif.data"), None)
    variant("missing", location("nope.data"), None)
    variant("offset_past_end", offset(str(len(data) + 8)))
    variant("length_mismatch", length("100"))
    variant("negative_offset", offset("-4"))
    variant("truncated_file", lambda w, e: None, data[:100])


def manifest_inputs():
    folder = "tests/data/regression/manifest"
    clean = json.load(open(os.path.join(folder, "clean.json")))

    def variant(name, edit):
        m = json.loads(json.dumps(clean))
        edit(m)
        with open(os.path.join(folder, name + ".json"), "w") as f:
            json.dump(m, f, indent=1, sort_keys=True)

    def tile0(key, value):
        return lambda m: m["tiles"][0].__setitem__(key, value)

    def model(key, value):
        return lambda m: m["model"].__setitem__(key, value)

    variant("layer_id_huge", tile0("layer_id", 2**50))
    variant("layer_id_negative", tile0("layer_id", -1))
    variant("block_huge", tile0("block", 2**40))
    variant("tile_t_beyond_timesteps", tile0("t", [0, 3]))
    variant("timesteps_zero", model("timesteps", 0))
    variant("timesteps_negative", model("timesteps", -5))
    variant("batch_zero", model("batch", 0))
    variant("blocks_huge", model("blocks", 2**40))
    variant("layers_huge", model("layers", 2**45))
    variant("by_block_too_long",
            lambda m: m["summary"]["dram_bytes"]["by_block"].extend([0] * 1000))


def blocks_inputs():
    folder = "tests/data/regression/blocks"
    os.makedirs(folder, exist_ok=True)
    layer = "/net/conv1/Conv"  # models/snntorch_nmnist_step_op13.onnx: 4 layers
    for name, value in [("id_10_pow_12", "1000000000000"), ("id_int32_max", "2147483647"),
                        ("id_2_pow_32_plus_1", "4294967297"),
                        ("id_uint64_max", "18446744073709551615"), ("id_1e300", "1e300"),
                        ("id_negative", "-1"), ("id_4_of_4_layers", "4"), ("id_float", "1.5"),
                        ("id_string", '"1"'), ("id_3_of_4_layers_ok", "3")]:
        with open(os.path.join(folder, name + ".json"), "w") as f:
            f.write('{"%s": %s}\n' % (layer, value))


if __name__ == "__main__":
    importer_inputs()
    external_inputs()
    manifest_inputs()
    blocks_inputs()
