#!/usr/bin/env python3
"""Turn a snnplan schedule manifest (schema_version 4) into a DMA descriptor list.

    python3 examples/manifest_to_dma.py manifest.json [--json] [-o descriptors.json]

Every descriptor copies `bytes` bytes from `src` to `dst`; an address is either
{"dram": ADDRESS} or {"core": ID, "memory": NAME, "offset": OFFSET} (a global
buffer), or {"core": ID, "neuron_parameters": LAYER} (the neuron update's
parameter memory), or {"core": ID, "stream": TILE} (the tile's in-tile stream
port: the compute engine consumes or produces the bytes). `repeat` > 1 means
the same copy is performed that many times in a row.

The list is in the order the firmware issues them (docs/manifest.md, "From a
manifest to a DMA program"):

  * param  -- a layer's parameter block, DRAM -> neuron parameter memory,
              before the layer's first tile (`parameters[].load_before_tile`);
  * fill   -- a state allocation that starts with the initial state on chip
              (`init` on an allocation): no source, the destination is set;
  * load / store / noc -- one per transfer, at its `start` cycle;
  * stream -- one per descriptor of a `stream` transfer, in the listed order.

Descriptors are sorted by cycle (a parameter load at its tile's start, a fill
at its allocation's `allocated_at`); at equal cycles params, fills, then
transfers in id order. Only the Python standard library is used.
"""
import argparse
import json
import sys

ORDER = {"param": 0, "fill": 1, "transfer": 2}


def on_chip(core, memory, offset):
    return {"core": core, "memory": memory, "offset": offset}


def descriptors(manifest):
    """The ordered descriptor list of a manifest (a list of dicts)."""
    if manifest.get("schema_version", 0) < 4:
        raise ValueError("needs a schema_version 4 manifest (parameters, stream descriptors)")
    allocations = {a["id"]: a for a in manifest["allocations"]}
    tiles = manifest["tiles"]
    events = []  # (cycle, order, sub-order, descriptor)

    for p in manifest["parameters"]:
        tile = tiles[p["load_before_tile"]]
        events.append((tile["start"], ORDER["param"], p["layer_id"], {
            "kind": "param", "cause": "parameters", "layer": p["layer"],
            "src": {"dram": p["dram_address"]},
            "dst": {"core": p["core"], "neuron_parameters": p["layer"]},
            "bytes": p["bytes"], "repeat": 1}))

    for a in manifest["allocations"]:
        if "init" in a:
            events.append((a["allocated_at"], ORDER["fill"], a["id"], {
                "kind": "fill", "cause": "initial_state", "value": a["init"],
                "src": None, "dst": on_chip(a["core"], a["memory"], a["offset"]),
                "bytes": a["bytes"], "repeat": 1}))

    for t in manifest["transfers"]:
        key = (t["start"], ORDER["transfer"], t["id"])
        if t["direction"] == "stream":
            port = {"core": t["core"], "stream": t["tile"]}
            for k, d in enumerate(t["descriptors"]):
                dram = {"dram": d["dram_address"]}
                out = {"kind": "stream", "cause": "stream", "transfer": t["id"],
                       "operand": d["operand"],
                       "src": port if d["direction"] == "write" else dram,
                       "dst": dram if d["direction"] == "write" else port,
                       "bytes": d["bytes"], "repeat": d["repeat"]}
                if "init" in d:  # nothing to read yet: the port gets the initial state
                    out["src"] = None
                    out["value"] = d["init"]
                events.append((key[0], key[1], (key[2], k), out))
            continue
        out = {"kind": t["direction"], "cause": t["cause"], "transfer": t["id"],
               "operand": t["operand"], "bytes": t["bytes"], "repeat": 1}
        if t["direction"] == "noc":
            src = allocations[t["src_allocation"]]
            dst = allocations[t["dst_allocation"]]
            out["src"] = on_chip(src["core"], src["memory"], src["offset"])
            out["dst"] = on_chip(dst["core"], dst["memory"], dst["offset"])
        else:
            chip = on_chip(t["core"], t["memory"], t["offset"])
            dram = {"dram": t["dram_address"]}
            out["src"], out["dst"] = (dram, chip) if t["direction"] == "load" else (chip, dram)
        events.append((key[0], key[1], (key[2], 0), out))

    events.sort(key=lambda e: (e[0], e[1], e[2]))
    result = []
    for cycle, _, _, d in events:
        d["cycle"] = cycle
        result.append(d)
    return result


def describe(address):
    if address is None:
        return "-"
    if "dram" in address:
        return "dram+0x%x" % address["dram"]
    if "memory" in address:
        return "core%d:%s+0x%x" % (address["core"], address["memory"], address["offset"])
    if "neuron_parameters" in address:
        return "core%d:params[%s]" % (address["core"], address["neuron_parameters"])
    return "core%d:stream[%s]" % (address["core"], address["stream"])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("manifest")
    parser.add_argument("--json", action="store_true", help="write the list as JSON")
    parser.add_argument("-o", "--output", help="write here instead of stdout")
    args = parser.parse_args(argv)
    with open(args.manifest, encoding="utf-8") as f:
        manifest = json.load(f)
    try:
        program = descriptors(manifest)
    except ValueError as e:
        print("manifest_to_dma: %s: %s" % (args.manifest, e), file=sys.stderr)
        return 2
    out = open(args.output, "w", encoding="utf-8") if args.output else sys.stdout
    try:
        if args.json:
            json.dump(program, out, indent=1, sort_keys=True)
            out.write("\n")
        else:
            for i, d in enumerate(program):
                extra = " x%d" % d["repeat"] if d["repeat"] > 1 else ""
                value = " (%s)" % d["value"] if "value" in d else ""
                out.write("%6d @%-9d %-6s %-18s %s -> %s %d B%s%s\n" % (
                    i, d["cycle"], d["kind"], d["cause"], describe(d["src"]),
                    describe(d["dst"]), d["bytes"], extra, value))
    except BrokenPipeError:  # e.g. piped into `head`
        sys.stderr.close()
    finally:
        if args.output:
            out.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
