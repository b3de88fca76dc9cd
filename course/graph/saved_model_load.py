"""`tf.saved_model.load`: rebuild a SavedModel's objects, variables and functions, running no code from it.

    loaded = tf.saved_model.load("export")
    loaded(x)                                           # a saved tf.function, retraced never
    loaded.signatures["serving_default"](x=x)           # {"output_0": ...}

The folder's `saved_model.json` is read as data and checked before anything is built: every op type
must be registered here (and not one that needs a Python object), every input must name an earlier
op's output, every attribute must be one of the plain forms the saver writes, every file named must lie
inside the folder, and constants and the JSON itself have size limits. Graphs are then rebuilt op by op
with the graph engine's own shape functions, and run by its compiled plan. A hostile or damaged folder
gives a ValueError that names the folder and the problem.
"""
import json
import os
from collections.abc import Mapping

import torch

from course.framework import dtypes as _dt
from course.framework import nest
from course.framework.convert import as_plain
from course.framework.shapes import TensorShape
from course.graph import registry
from course.graph.concrete_function import ConcreteFunction, FuncGraph, encode, fits, is_tensor, tf2_str
from course.graph.saved_model import FORMAT, SAVED_MODEL_FILE
from course.tape.checkpoint_files import CheckpointReader
from course.tape.function import TensorSpec
from course.tape.tensor import to_tensor, wrap
from course.tape.variables import Variable

__all__ = ["load", "MAX_JSON_BYTES", "MAX_CONSTANT_BYTES", "MAX_OPS", "DENIED_OPS"]

MAX_JSON_BYTES = 256 << 20
MAX_CONSTANT_BYTES = 256 << 20
MAX_OPS = 1_000_000
# Registered op types a SavedModel may not use: they need Python objects (metrics, optimizers, datasets),
# TF1 session variables, or sub-graphs this format does not carry.
DENIED_OPS = {"UpdateMetric", "DatasetFor", "VariableV2", "Assign", "AssignAdd", "AssignSub", "IsVariableInitialized",
              "If", "StatelessIf", "While", "StatelessWhile", "WhileGrad", "Case", "StatelessCase"}


class _Refused(ValueError):
    pass


def _inside(export_dir, relative, what):
    """export_dir/relative, refused unless it stays inside export_dir (no absolute path, no '..', no link out)."""
    if not isinstance(relative, str) or not relative or relative.startswith(("/", "\\")) or ":" in relative:
        raise _Refused(f"the path of its {what} ({relative!r}) is not a relative path inside the folder")
    parts = relative.replace("\\", "/").split("/")
    if any(p in ("", ".", "..") for p in parts):
        raise _Refused(f"the path of its {what} ({relative!r}) leaves the folder (path traversal)")
    path = os.path.join(export_dir, *parts)
    root = os.path.realpath(export_dir)
    if os.path.commonpath([root, os.path.realpath(path)]) != root:
        raise _Refused(f"the path of its {what} ({relative!r}) leads outside the folder through a link")
    return path


def _read_meta(export_dir):
    path = os.path.join(export_dir, SAVED_MODEL_FILE)
    if not os.path.isfile(path):
        if os.path.isfile(os.path.join(export_dir, "saved_model.pb")):
            raise ValueError(f"{export_dir} is a SavedModel written by TensorFlow (saved_model.pb); this course reads "
                             "the SavedModels it writes itself (saved_model.json). Re-export the model here, or save "
                             "it as .keras / weights.")
        raise OSError(f"SavedModel file does not exist at: {export_dir}{os.sep}{{saved_model.json}}")
    size = os.path.getsize(path)
    if size > MAX_JSON_BYTES:
        raise _Refused(f"saved_model.json is {size} bytes, more than the {MAX_JSON_BYTES} allowed")
    try:
        with open(path, encoding="utf-8") as f:
            meta = json.load(f)
    except (UnicodeDecodeError, ValueError) as exc:
        raise _Refused(f"saved_model.json is not valid JSON ({exc})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise _Refused(f"saved_model.json does not say it is a {FORMAT!r} SavedModel")
    return meta


def _check(cond, why):
    if not cond:
        raise _Refused(why)


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


class _Decoder:
    def __init__(self, variables, constants, fname):
        self.variables, self.constants, self.fname = variables, constants, fname

    def attr(self, v, depth=0):
        _check(depth < 32, f"function {self.fname!r}: an attribute is nested too deeply")
        if v is None or isinstance(v, (bool, int, float, str)):
            return v
        _check(isinstance(v, dict) and len(v) in (1, 2), f"function {self.fname!r}: an attribute has an unknown form")
        if "variable" in v:
            _check(v["variable"] in self.variables, f"function {self.fname!r} reads a variable the SavedModel does "
                                                    f"not hold ({v['variable']!r})")
            return self.variables[v["variable"]]
        if "dtype" in v:
            try:
                return _dt.as_torch_dtype(v["dtype"])
            except TypeError:
                raise _Refused(f"function {self.fname!r}: unknown dtype {v['dtype']!r}") from None
        if "shape" in v:
            dims = v["shape"]
            _check(dims is None or (isinstance(dims, list) and len(dims) <= 32 and all(
                d is None or (_is_int(d) and d >= 0) for d in dims)), f"function {self.fname!r}: invalid shape {dims!r}")
            return TensorShape(dims)
        if "const" in v:
            return self.constant(v["const"], v.get("kind"))
        for kind in ("list", "tuple"):
            if kind in v:
                _check(isinstance(v[kind], list), f"function {self.fname!r}: invalid {kind} attribute")
                items = [self.attr(x, depth + 1) for x in v[kind]]
                return items if kind == "list" else tuple(items)
        if "dict" in v:
            _check(isinstance(v["dict"], list) and all(isinstance(p, list) and len(p) == 2 and isinstance(p[0], str)
                                                       for p in v["dict"]), f"function {self.fname!r}: invalid dict")
            return {k: self.attr(x, depth + 1) for k, x in v["dict"]}
        raise _Refused(f"function {self.fname!r}: an attribute has an unknown form ({sorted(v)})")

    def constant(self, key, kind):
        shapes = self.constants.get_variable_to_shape_map()
        _check(isinstance(key, str) and key in shapes and key != "_CHECKPOINTABLE_OBJECT_GRAPH",
               f"function {self.fname!r} uses a constant the SavedModel does not hold ({key!r})")
        dtype = self.constants.get_variable_to_dtype_map()[key]
        count = 1
        for d in shapes[key]:
            count *= d
        nbytes = count * max(1, _dt.numpy_dtype(_dt.as_torch_dtype(dtype)).itemsize)
        _check(nbytes <= MAX_CONSTANT_BYTES, f"function {self.fname!r}: constant {key!r} has {nbytes} bytes, more than "
                                             f"the {MAX_CONSTANT_BYTES} allowed (an oversized constant)")
        value = self.constants.get_tensor(key)
        return torch.from_numpy(value.copy()) if kind == "torch" else value


def _key(k, fname, depth=0):
    _check(depth < 32 and isinstance(k, dict) and len(k) == 1, f"function {fname!r}: an argument key is invalid")
    (kind, v), = k.items()
    if kind == "T":
        _check(isinstance(v, list) and len(v) == 2 and isinstance(v[1], list), f"function {fname!r}: invalid tensor key")
        return ("T", _dt.as_dtype(v[0]), tuple(v[1]))
    if kind == "P":
        _check(v is None or isinstance(v, (bool, int, float, str)), f"function {fname!r}: invalid Python argument")
        return ("P", type(v), v)
    if kind in ("list", "tuple"):
        return (kind, tuple(_key(x, fname, depth + 1) for x in v))
    if kind == "dict":
        return ("dict", tuple((name, _key(x, fname, depth + 1)) for name, x in v))
    raise _Refused(f"function {fname!r}: an argument key has an unknown kind {kind!r}")


def _structure(s, flat, fname, depth=0):
    _check(depth < 32 and isinstance(s, dict) and len(s) == 1, f"function {fname!r}: invalid output structure")
    (kind, v), = s.items()
    if kind == "leaf":
        _check(_is_int(v) and 0 <= v < len(flat), f"function {fname!r}: an output refers to nothing")
        return flat[v]
    if kind == "none":
        return None
    if kind == "dict":
        return {name: _structure(x, flat, fname, depth + 1) for name, x in v}
    if kind in ("list", "tuple"):
        items = [_structure(x, flat, fname, depth + 1) for x in v]
        return items if kind == "list" else tuple(items)
    raise _Refused(f"function {fname!r}: invalid output structure")


def _build(entry, variables, constants, owner):
    """One saved concrete function, rebuilt as a graph and compiled."""
    fname = entry.get("name") if isinstance(entry, dict) else None
    _check(isinstance(fname, str), "a function has no name")
    ops_in = entry.get("ops")
    _check(isinstance(ops_in, list) and len(ops_in) <= MAX_OPS, f"function {fname!r}: its ops are missing or too many")
    decoder = _Decoder(variables, constants, fname)
    graph = FuncGraph(fname)
    ops = []
    with graph.as_default():
        for i, e in enumerate(ops_in):
            _check(isinstance(e, dict), f"function {fname!r}: op #{i} is not an object")
            op_type = e.get("type")
            _check(isinstance(op_type, str) and op_type in registry.REGISTRY and op_type not in DENIED_OPS,
                   f"function {fname!r}: op #{i} has type {op_type!r}, which is not an op type this course can load "
                   "(an unknown op type); loading runs registered op types only")
            refs = e.get("inputs", [])
            _check(isinstance(refs, list) and all(
                isinstance(r, list) and len(r) == 2 and _is_int(r[0]) and _is_int(r[1]) and 0 <= r[0] < i
                and 0 <= r[1] < len(ops[r[0]].outputs) for r in refs),
                f"function {fname!r}: op #{i} ({op_type}) has an input that is not an earlier op's output")
            attrs = e.get("attrs", {})
            _check(isinstance(attrs, dict), f"function {fname!r}: op #{i} has invalid attributes")
            name = e.get("name")
            _check(isinstance(name, str) and 0 < len(name) < 1000, f"function {fname!r}: op #{i} has no valid name")
            try:
                op = graph.create_op(op_type, [ops[r].outputs[j] for r, j in refs],
                                     {k: decoder.attr(v) for k, v in attrs.items()}, name=name)
            except _Refused:
                raise
            except Exception as exc:       # noqa: BLE001 - the op's own check, reported with where it failed
                raise _Refused(f"function {fname!r}: op #{i} {name!r} ({op_type}) cannot be rebuilt: {exc}") from None
            control = e.get("control", [])
            _check(isinstance(control, list) and all(_is_int(c) and 0 <= c < i for c in control),
                   f"function {fname!r}: op #{i} has an invalid control input")
            op.control_inputs.extend(ops[c] for c in control)
            ops.append(op)

    def tensor(ref, what):
        _check(isinstance(ref, list) and len(ref) == 2 and _is_int(ref[0]) and _is_int(ref[1])
               and 0 <= ref[0] < len(ops) and 0 <= ref[1] < len(ops[ref[0]].outputs),
               f"function {fname!r}: {what} refers to no op output")
        return ops[ref[0]].outputs[ref[1]]
    inputs = [tensor(r, "an input") for r in entry.get("inputs", [])]
    _check(all(t.op.type == "Placeholder" for t in inputs), f"function {fname!r}: an input is not a placeholder")
    flat = []
    for out in entry.get("outputs", []):
        _check(isinstance(out, dict) and len(out) == 1, f"function {fname!r}: invalid output")
        flat.append(tensor(out["tensor"], "an output") if "tensor" in out else out.get("py"))
        _check("tensor" in out or out.get("py") is None or isinstance(out.get("py"), (bool, int, float, str)),
               f"function {fname!r}: invalid output")
    structure = _structure(entry.get("structure", {"none": True}), flat, fname)
    names, keys = entry.get("arg_names", []), entry.get("keys", [])
    _check(isinstance(names, list) and isinstance(keys, list) and len(names) == len(keys)
           and all(isinstance(n, str) for n in names), f"function {fname!r}: invalid arguments")
    keys = tuple(_key(k, fname) for k in keys)
    _check(sum(1 for k in nest.flatten([_leaf_kinds(k) for k in keys]) if k == "T") == len(inputs),
           f"function {fname!r}: its tensor arguments and inputs disagree")
    return ConcreteFunction(owner, graph, names, keys, inputs, structure, flat)


def _leaf_kinds(key):
    if key[0] in ("list", "tuple"):
        return [_leaf_kinds(k) for k in key[1]]
    if key[0] == "dict":
        return [_leaf_kinds(k) for _, k in key[1]]
    return key[0]


def _spec_text(spec):
    name = "None" if spec.name is None else repr(spec.name)
    return f"TensorSpec(shape={tf2_str(TensorShape(spec.shape))}, dtype=tf.{_dt.name(spec.dtype)}, name={name})"


class RestoredFunction:
    """A loaded tf.function: calls the saved trace whose signature fits the arguments."""

    def __init__(self, name, defaults=None):
        self.__name__ = name
        self.concrete_functions = []
        self._defaults = dict(defaults or {})        # the Python defaults of the saved function's arguments

    def _convert(self, value, key):
        if key[0] == "T" and not isinstance(value, torch.Tensor):
            try:
                return wrap(to_tensor(value, key[1]))
            except (TypeError, ValueError):
                return value
        if key[0] in ("list", "tuple") and isinstance(value, (list, tuple)) and len(value) == len(key[1]):
            return type(value)(self._convert(v, k) for v, k in zip(value, key[1]))
        return value

    def __call__(self, *args, **kwargs):
        if not self.concrete_functions:
            raise ValueError("Found zero restored functions for caller function.")
        for cf in self.concrete_functions:
            names = cf._arg_names
            if len(args) > len(names) or any(k not in names[len(args):] for k in kwargs):
                continue
            values = list(args) + [kwargs[n] if n in kwargs else self._defaults[n] for n in names[len(args):]
                                   if n in kwargs or n in self._defaults]
            if len(values) != len(names):
                continue
            values = [self._convert(v, k) for v, k in zip(values, cf._keys)]
            if all(fits(encode(v), k) for v, k in zip(values, cf._keys)):
                return cf._call_flat([as_plain(v) for v in nest.flatten(values) if is_tensor(v)])
        got = [_spec_text(TensorSpec(tuple(v.shape), v.dtype)) if isinstance(v, torch.Tensor) else repr(v)
               for v in args]
        options = "\n".join(f"  Option {i + 1}: ({', '.join(f'{n}: {_key_text(k)}' for n, k in zip(cf._arg_names, cf._keys))})"
                            for i, cf in enumerate(self.concrete_functions))
        raise TypeError(f"Could not find matching concrete function to call loaded from the SavedModel. Got: "
                        f"({', '.join(got)}) and kwargs {sorted(kwargs)}. Expected these arguments to match one of "
                        f"the following {len(self.concrete_functions)} option(s):\n{options}")

    def __repr__(self):
        return f"<RestoredFunction {self.__name__!r} with {len(self.concrete_functions)} traced signature(s)>"


def _key_text(key):
    if key[0] == "T":
        return _spec_text(TensorSpec(key[2], key[1]))
    return repr(key[2]) if key[0] == "P" else key[0]


class SignatureFunction:
    """A signature: keyword arguments in, a dict of named tensors out (TF's serving form)."""

    def __init__(self, cf, output_keys):
        self._cf, self._keys = cf, list(output_keys)
        self.name = cf.name

    @property
    def structured_input_signature(self):
        return (), {n: TensorSpec(k[2], k[1], n) for n, k in zip(self._cf._arg_names, self._cf._keys)}

    def _as_dict(self, out):
        if isinstance(out, dict):
            return {str(k): v for k, v in out.items()}
        if isinstance(out, (list, tuple)):
            return {f"output_{i}": v for i, v in enumerate(out)}
        return {"output_0": out}

    @property
    def structured_outputs(self):
        out = self._as_dict(self._cf.structured_outputs)
        return {k: TensorSpec(tuple(out[k].shape), out[k].dtype, k) for k in self._keys}

    @property
    def inputs(self):
        return list(self._cf.inputs)

    @property
    def outputs(self):
        return list(self._cf.outputs)

    def __call__(self, *args, **kwargs):
        if args:
            raise TypeError(f"signature function {self.name!r} takes keyword arguments only (the inputs' names: "
                            f"{list(self._cf._arg_names)}); got {len(args)} positional argument(s).")
        names = list(self._cf._arg_names)
        if sorted(kwargs) != sorted(names):
            raise TypeError(f"signature function {self.name!r} expects the arguments {names}; got {sorted(kwargs)}.")
        values = []
        for n, k in zip(names, self._cf._keys):
            v = kwargs[n]
            t = v if isinstance(v, torch.Tensor) else wrap(to_tensor(v, k[1]))
            if not fits(encode(t), k):
                raise TypeError(f"Binding inputs to signature {self.name!r} failed: argument {n!r} is "
                                f"{_spec_text(TensorSpec(tuple(t.shape), t.dtype))}, expected {_key_text(k)}.")
            values.append(t)
        return self._as_dict(self._cf._call_flat([as_plain(v) for v in values]))

    def pretty_printed_signature(self, verbose=True):
        ins = "\n".join(f"  {n} (KEYWORD_ONLY): {_spec_text(s)}" for n, s in self.structured_input_signature[1].items())
        outs = ", ".join(f"['{k}', {_spec_text(s)}]" for k, s in self.structured_outputs.items())
        return f"Input Parameters:\n{ins}\nOutput Type:\n  Dict[{outs}]"

    def __repr__(self):
        return f"ConcreteFunction {self.pretty_printed_signature()}"


class _SignatureMap(Mapping):
    def __init__(self, items):
        self._items = dict(items)

    def __getitem__(self, key):
        return self._items[key]

    def __iter__(self):
        return iter(self._items)

    def __len__(self):
        return len(self._items)

    def __repr__(self):
        return f"_SignatureMap({self._items!r})"


class _UserObject:
    """A loaded object: its saved children and functions as attributes, and `signatures` on the root."""


def _objects(meta, reader, export_dir):
    graph = meta.get("object_graph")
    nodes = graph.get("nodes") if isinstance(graph, dict) else None
    _check(isinstance(nodes, list) and nodes and len(nodes) <= MAX_OPS, "its object graph is missing")
    kinds, infos = meta.get("kinds", {}), meta.get("variables", {})
    _check(isinstance(kinds, dict) and isinstance(infos, dict), "its object kinds are missing")
    objs, variables = [], {}
    for i, node in enumerate(nodes):
        _check(isinstance(node, dict), f"object #{i} is not an object")
        kind = kinds.get(str(i), "object")
        if kind == "variable":
            attrs = node.get("attributes", [])
            _check(isinstance(attrs, list) and attrs and isinstance(attrs[0], dict), f"variable #{i} has no value")
            key = attrs[0].get("checkpoint_key")
            _check(isinstance(key, str) and reader.has_tensor(key), f"variable #{i} has no saved value")
            info = infos.get(key, {}) if isinstance(infos.get(key), dict) else {}
            name = info.get("name") if isinstance(info.get("name"), str) else None
            v = Variable(reader.get_tensor(key).copy(), trainable=bool(info.get("trainable", True)), name=name)
            variables[key] = v
            objs.append(v)
        else:
            objs.append([] if kind == "list" else {} if kind == "dict" else _UserObject())
    for i, node in enumerate(nodes):
        children = node.get("children", [])
        _check(isinstance(children, list), f"object #{i} has invalid children")
        for c in children:
            _check(isinstance(c, dict) and isinstance(c.get("name"), str) and _is_int(c.get("node_id"))
                   and 0 <= c["node_id"] < len(nodes), f"object #{i} has an invalid child")
            parent, child = objs[i], objs[c["node_id"]]
            if isinstance(parent, list):
                parent.append(child)
            elif isinstance(parent, dict):
                parent[c["name"]] = child
            elif isinstance(parent, _UserObject):
                _check(not c["name"].startswith("__"), f"object #{i} has a child named {c['name']!r}")
                setattr(parent, c["name"], child)
    return objs, variables


def load(export_dir, tags=None, options=None):
    """`tf.saved_model.load`: the saved root object with its variables, functions and `signatures`."""
    export_dir = os.fspath(export_dir)
    try:
        meta = _read_meta(export_dir)
        files = meta.get("files")
        _check(isinstance(files, dict), "it names no files")
        reader = CheckpointReader(_inside(export_dir, files.get("variables"), "variables"))
        constants = CheckpointReader(_inside(export_dir, files.get("constants"), "constants"))
        objs, variables = _objects(meta, reader, export_dir)
        functions = meta.get("functions", [])
        _check(isinstance(functions, list), "its functions are not a list")
        built = [None] * len(functions)

        def concrete(fid, owner):
            _check(_is_int(fid) and 0 <= fid < len(functions), "a function reference is invalid")
            if built[fid] is None:
                built[fid] = _build(functions[fid], variables, constants, owner)
            return built[fid]
        attached = meta.get("attached", {})
        _check(isinstance(attached, dict), "its attached functions are invalid")
        for nid, entries in attached.items():
            _check(nid.isdigit() and int(nid) < len(objs) and isinstance(objs[int(nid)], _UserObject)
                   and isinstance(entries, dict), "a function is attached to no object")
            for name, entry in entries.items():
                _check(isinstance(name, str) and not name.startswith("__") or name == "__call__",
                       f"a function has an invalid name {name!r}")
                fids = entry.get("traces") if isinstance(entry, dict) else None
                defaults = entry.get("defaults", {}) if isinstance(entry, dict) else None
                _check(isinstance(fids, list) and isinstance(defaults, dict) and all(
                    v is None or isinstance(v, (bool, int, float, str)) for v in defaults.values()),
                    f"function {name!r} lists no traces")
                fn = RestoredFunction(name, defaults)
                fn.concrete_functions = [concrete(f, fn) for f in fids]
                if name == "__call__":
                    _bind_call(objs[int(nid)], fn)
                else:
                    setattr(objs[int(nid)], name, fn)
        sigs = meta.get("signatures", {})
        _check(isinstance(sigs, dict), "its signatures are invalid")
        signatures = {}
        for name, entry in sigs.items():
            _check(isinstance(entry, dict) and isinstance(entry.get("outputs"), list), f"signature {name!r} is invalid")
            cf = concrete(entry.get("function"), None)
            signatures[name] = SignatureFunction(cf, entry["outputs"])
        root = objs[0]
        _check(isinstance(root, _UserObject), "its root is not an object")
        root.signatures = _SignatureMap(signatures)
        return root
    except _Refused as exc:
        raise ValueError(f"Cannot load the SavedModel in {export_dir}: {exc}. Nothing from it was run; export the "
                         "model again with tf.saved_model.save.") from None


def _bind_call(obj, fn):
    """`loaded(x)`: Python looks `__call__` up on the class, so each loaded object that has one gets its own."""
    obj.__class__ = type("_UserObject", (_UserObject,), {"__call__": lambda self, *a, **k: fn(*a, **k),
                                                         "__module__": _UserObject.__module__})
    obj.__dict__["__call__"] = fn
