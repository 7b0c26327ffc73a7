"""snnplan for Python: import, plan, explore, allocate, validate and run spiking
neural networks from a notebook, with the same numbers as the ``snnplan`` CLI.

Keyword options are the CLI's flags in snake_case (``--state-io`` is
``state_io``, ``-j/--threads`` is ``threads``); they are parsed by the CLI's
own option definitions, so values, defaults, checks and error messages are
the CLI's. Errors raise :class:`snnplan.Error` (a ``ValueError``) with the
message ``snnplan`` prints after ``snnplan: error:``. See docs/python.md.
"""

import csv as _csv
import io as _io
import json as _json
import os as _os

from . import _core

Error = _core.Error

__all__ = [
    "Error", "Workload", "Hardware", "Plan", "import_model", "load_hardware", "cost", "plan",
    "explore", "allocate", "validate", "run", "run_details", "from_torch",
]

_OPTIONS = {}


def _options(command):
    if command not in _OPTIONS:
        _OPTIONS[command] = {
            name.replace("-", "_"): (name, flag, multi)
            for name, flag, multi in _core.option_names(command)
        }
    return _OPTIONS[command]


def _text(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return ",".join(_text(v) for v in value)
    if isinstance(value, _os.PathLike):
        return _os.fspath(value)
    return str(value)


def _args(command, function, kwargs, skip=()):
    """CLI tokens ("--name=value") for the keyword options of `command`."""
    spec = _options(command)
    args = []
    for key, value in kwargs.items():
        if key not in spec or key in skip:
            raise TypeError(f"{function}() got an unexpected keyword argument '{key}'")
        if value is None:
            continue
        name, flag, multi = spec[key]
        if flag:
            if value:
                args.append(f"--{name}")
            continue
        if key == "input_shape" and isinstance(value, dict):  # {"x": (2, 34, 34)}
            value = [f"{k}={_text(v)}" for k, v in value.items()]
        if multi and isinstance(value, (list, tuple)) and not all(
                isinstance(v, (int, float)) for v in value):
            args.extend(f"--{name}={_text(v)}" for v in value)
        elif multi and isinstance(value, str):
            args.append(f"--{name}={value}")
        else:
            args.append(f"--{name}={_text(value)}")
    return args


_IMPORT_OPTIONS = None


def _import_option_names():
    global _IMPORT_OPTIONS
    if _IMPORT_OPTIONS is None:
        _IMPORT_OPTIONS = frozenset(_options("import"))
    return _IMPORT_OPTIONS


class Workload:
    """An imported model: the IR of ``snnplan import`` (docs/ir.md).

    ``to_json()`` is exactly the document ``snnplan import --json`` writes;
    ``layers``, ``blocks``, ``totals``, ``inputs`` and ``outputs`` are its
    entries (dicts), and the scalar facts are attributes.
    """

    def __init__(self, core):
        self._core = core
        self._json = None

    def json_text(self):
        """The bytes ``snnplan import --json`` writes (str)."""
        return self._core.json_text()

    def to_json(self):
        if self._json is None:
            self._json = _json.loads(self._core.json_text())
        return self._json

    def table(self):
        """The table ``snnplan import`` prints."""
        return self._core.table()

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        doc = self.to_json()
        if name in doc:
            return doc[name]
        raise AttributeError(f"'Workload' object has no attribute '{name}'")

    def layer(self, name):
        """The layer dict named `name` (KeyError when there is none)."""
        for layer in self.layers:
            if layer["name"] == name:
                return layer
        raise KeyError(name)

    def __len__(self):
        return len(self.layers)

    def __repr__(self):
        doc = self.to_json()
        return (f"<snnplan.Workload {doc['model_file']}: {len(doc['layers'])} layers, "
                f"{doc['num_blocks']} blocks, T={doc['timesteps']}, batch={doc['batch']}>")


class Hardware:
    """A hardware description (``snnplan hw show``)."""

    def __init__(self, core):
        self._core = core

    @property
    def name(self):
        return self._core.name

    def json_text(self):
        """What ``snnplan hw show --json`` prints (str)."""
        return self._core.json_text()

    def to_json(self):
        return _json.loads(self._core.json_text())

    def describe(self):
        return self._core.describe()

    def __repr__(self):
        return f"<snnplan.Hardware {self.name}>"


class Plan:
    """One planned schedule (``snnplan plan``)."""

    def __init__(self, core):
        self._core = core
        self._summary = None

    @property
    def summary(self):
        """The dict ``plan --summary-json`` writes."""
        if self._summary is None:
            self._summary = _json.loads(self.summary_json)
        return self._summary

    @property
    def summary_json(self):
        """The exact text ``plan --summary-json`` writes."""
        return self._core.summary_json()

    def describe(self):
        """The report ``snnplan plan`` prints."""
        return self._core.describe()

    def write(self, path, summary_only=False):
        """Writes the manifest ``plan -o`` writes (``--summary-only``: only the summary), atomically."""
        self._core.write(_os.fspath(path), bool(summary_only))

    def manifest_json(self, summary_only=False):
        """The manifest text (str); ``json.loads`` it for a dict."""
        return self._core.manifest_text(bool(summary_only))

    def __repr__(self):
        s = self.summary
        return (f"<snnplan.Plan energy {s['energy_pj']['total']:.6g} pJ, "
                f"latency {s['latency_cycles']} cycles>")


def _model(model, function, kwargs):
    """(path, core workload) of a path or Workload argument."""
    if isinstance(model, Workload):
        given = sorted(set(kwargs) & _import_option_names())
        if given:
            raise TypeError(f"{function}(): import options ({', '.join(given)}) apply to a model "
                            "path, not to an imported Workload")
        return "", model._core
    if isinstance(model, (str, _os.PathLike)):
        return _os.fspath(model), None
    raise TypeError(f"{function}(): model must be a path or a snnplan.Workload, not "
                    f"{type(model).__name__}")


def _hardware(hw):
    """(name, core hardware) of a preset/path or Hardware argument."""
    if isinstance(hw, Hardware):
        return None, hw._core
    if hw is None:
        return None, None
    return _os.fspath(hw), None


def import_model(path, **import_options):
    """Imports an ONNX model (``snnplan import``); options: timesteps, batch, input_shape
    ({"x": (6, 360, 640)} or "x=6,360,640"), blocks, stateless_blocks ([0, 1]), weight_bits, ..."""
    args = _args("import", "import_model", import_options)
    return Workload(_core.import_model(_os.fspath(path), None, "", args))


def load_hardware(name_or_path, sram=None):
    """A preset (``meta-prototype``), a hardware JSON file or a ZigZag accelerator YAML
    file (``.yaml``/``.yml``, converted: docs/hardware.md); `sram` resizes the global
    buffer: "128KiB" or a number of bytes."""
    return Hardware(_core.load_hardware(_os.fspath(name_or_path),
                                        "" if sram is None else _text(sram)))


def _with_hw(kwargs, hw):
    name, core = _hardware(hw)
    if name is not None:
        kwargs = dict(kwargs, hw=name)
    return kwargs, core


def _models(model, function, kwargs):
    """(paths, core workload): a path, a Workload, or a list of paths planned as one
    deployment (``snnplan plan A.onnx B.onnx``)."""
    if isinstance(model, (list, tuple)):
        if not model:
            raise ValueError(f"{function}(): the list of models is empty")
        return [_model(m, function, kwargs)[0] or _not_a_path(m, function) for m in model], None
    path, workload = _model(model, function, kwargs)
    return [path], workload


def _not_a_path(model, function):
    raise TypeError(f"{function}(): a list of models holds paths, not "
                    f"{type(model).__name__}")


def plan(model, hw=None, sram=None, schedule=None, progress=None, **options):
    """Plans one schedule (``snnplan plan``) and returns a :class:`Plan`. ``model`` is a
    path, a :class:`Workload`, or a list of paths planned as one deployment."""
    kwargs, hw_core = _with_hw(dict(options, sram=sram, schedule=schedule), hw)
    path, workload = _models(model, "plan", options)
    args = _args("plan", "plan", kwargs)
    return Plan(_core.plan(path, workload, hw_core, args, progress))


def _number(text):
    if text == "true":
        return True
    if text == "false":
        return False
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def _rows(csv_text):
    return [{k: _number(v) for k, v in row.items()}
            for row in _csv.DictReader(_io.StringIO(csv_text))]


def explore(model, hw=None, sram=None, progress=None, details=False, **options):
    """Explores schedules (``snnplan explore``). Returns the rows of ``--csv`` as dicts
    (numbers as int/float, true/false as bool) plus, per row, the grid coordinates
    ``fused_blocks`` and ``batched_blocks`` (-1 outside the grid), ``objective``,
    ``error`` and ``best`` (the best of its --sram size). ``details=True`` returns
    ``(rows, sizes)`` with per-size facts (best index, baseline, compulsory traffic)."""
    kwargs, hw_core = _with_hw(dict(options, sram=sram), hw)
    path, workload = _models(model, "explore", options)
    args = _args("explore", "explore", kwargs)
    out = _core.explore(path, workload, hw_core, args, progress)
    rows = _rows(out["csv"])
    extras = []
    for size in out["sizes"]:
        for i, e in enumerate(size["evaluations"]):
            extras.append(dict(e, best=(i == size["best"])))
    for row, extra in zip(rows, extras):
        row.update(extra)
    if details:
        for size in out["sizes"]:
            del size["evaluations"]
        return rows, out["sizes"]
    return rows


def allocate(model, hw=None, schedule=None, progress=None, **options):
    """Layer-to-core allocation search (``snnplan allocate``). Returns a dict: ``rows``
    (the ``--csv`` rows), ``pareto`` and ``min_energy`` (row indices),
    ``best_allocation`` (layer name -> core id, what ``--best-allocation`` holds),
    ``single_core_index``, ``greedy_index``, ``evaluations``, ``generations``."""
    kwargs, hw_core = _with_hw(dict(options, schedule=schedule), hw)
    path, workload = _models(model, "allocate", options)
    args = _args("allocate", "allocate", kwargs)
    out = _core.allocate(path, workload, hw_core, args, progress)
    out["rows"] = _rows(out.pop("csv"))
    return out


def cost(model, hw, **options):
    """Prices each layer (``snnplan cost``); returns the ``--json`` report as a dict."""
    path, workload = _model(model, "cost", options)
    name, hw_core = _hardware(hw)
    if name is None and hw_core is None:
        raise TypeError("cost() missing required argument: 'hw'")
    args = _args("cost", "cost", options, skip=("hw",))
    return _core.cost(path, workload, hw_core, name or "", args)


def validate(path, model=None, hw=None, sram=None, **import_options):
    """Replays a manifest (``snnplan validate``); returns {"manifest", "valid",
    "violations": [{"check", "message"}]}."""
    model_path, workload = "", None
    if model is not None:
        model_path, workload = _model(model, "validate", import_options)
    name, hw_core = _hardware(hw)
    kwargs = dict(import_options, sram=sram)
    if name is not None:
        kwargs["hw"] = name
    args = _args("validate", "validate", kwargs, skip=("model",))
    return _core.validate(_os.fspath(path), model_path, workload, hw_core, args)


def run(model, inputs, timesteps=None, activity=False, progress=None, **options):
    """Executes the network (``snnplan run``) on `inputs` (graph input name -> array,
    read as float32). Returns graph output name -> float32 array; with
    ``activity=True`` ``(outputs, activity)``, the dict ``--activity`` writes.
    :func:`run_details` also lists the outputs the IR does not compute."""
    outputs, _, act = _run(model, inputs, timesteps, activity, progress, options, "run")
    return (outputs, act) if activity else outputs


def run_details(model, inputs, timesteps=None, activity=False, progress=None, **options):
    """As :func:`run`, returning ``(outputs, not_produced, activity or None)``."""
    return _run(model, inputs, timesteps, activity, progress, options, "run_details")


def _run(model, inputs, timesteps, activity, progress, options, function):
    import numpy as np
    kwargs = dict(options, timesteps=timesteps)
    path, workload = _model(model, function, {k: v for k, v in kwargs.items() if v is not None})
    if workload is not None:
        kwargs.pop("timesteps")
    args = _args("run", function, kwargs)
    arrays = {str(k): np.ascontiguousarray(v, dtype=np.float32) for k, v in inputs.items()}
    outputs, not_produced, act = _core.run(path, workload, args, arrays, bool(activity), progress)
    return outputs, not_produced, (_json.loads(act) if act is not None else None)


def from_torch(module, example_input, **options):
    """Exports a PyTorch module with ``torch.onnx.export`` into memory and imports it.
    Keyword options that are import options (timesteps, batch, ...) go to the importer,
    the others to ``torch.onnx.export`` (input_names, output_names, opset_version, ...)."""
    import torch  # only needed here
    import_kwargs = {k: v for k, v in options.items() if k in _import_option_names()}
    export_kwargs = {k: v for k, v in options.items() if k not in import_kwargs}
    buffer = _io.BytesIO()
    args = example_input if isinstance(example_input, tuple) else (example_input,)
    torch.onnx.export(module, args, buffer, **export_kwargs)
    source = f"{type(module).__name__}.onnx"
    core = _core.import_model(None, buffer.getvalue(), source,
                              _args("import", "from_torch", import_kwargs))
    return Workload(core)
