"""`tf.saved_model.save`: an object's traced functions and variables, as data a fresh process can run.

    tf.saved_model.save(module, "export")              # every traced @tf.function of every object
    tf.saved_model.save(module, "export", signatures={"serving_default": module.__call__})

A SavedModel is a folder, laid out as TensorFlow lays one out, with files that hold data only:

    saved_model.json              the object graph, each function's traced graphs (op type, inputs,
                                  attributes as plain JSON), signatures, and the file names below
    variables/variables.index     the variables, as a tf.train.Checkpoint of the object (same keys, in
                                  TensorFlow's checkpoint format: tf.train.list_variables reads it)
    variables/variables.data-00000-of-00001
    constants/constants.*         the graphs' constant arrays, in the same checkpoint format

What is saved is what tracing produced: ops of registered types with attributes that are numbers,
strings, dtypes, shapes, arrays or a reference to a saved variable. An op that holds a Python object
(a Keras metric or optimizer step) cannot be saved, and saving says which op. Loading
(`course.graph.saved_model_load`) rebuilds the graphs from registered op types only and never runs
code from the folder. Each file is written atomically and the JSON is written last, with the SHA-256 of
each variables and constants file: a save into an existing folder that stops half way leaves files
that do not match the JSON, and loading refuses them instead of mixing two saves.
"""
import hashlib
import json
import os

import numpy as np
import torch

from course.atomic_file import atomic_write
from course.framework import dtypes as _dt
from course.framework.shapes import TensorShape
from course.graph.concrete_function import ConcreteFunction
from course.graph.function import Function
from course.graph.graph import Tensor
from course.tape import trackable
from course.tape.checkpoint import object_graph
from course.tape.checkpoint_files import DATA_SUFFIX, write_checkpoint
from course.tape.function import TensorSpec
from course.tape.variables import Variable

__all__ = ["save", "FORMAT", "SAVED_MODEL_FILE", "export_keras_model", "file_digest", "DIGESTED"]

FORMAT = "course.saved_model v1"
SAVED_MODEL_FILE = "saved_model.json"
VARIABLES = "variables/variables"
_CONTROL_FLOW = {"If", "StatelessIf", "While", "StatelessWhile", "Case", "StatelessCase", "WhileGrad"}
CONSTANTS = "constants/constants"
DIGESTED = tuple((role, suffix) for role in ("variables", "constants") for suffix in (".index", DATA_SUFFIX))


def file_digest(path):
    """The SHA-256 of the file at `path` (hex), or None when there is no such file."""
    if not os.path.isfile(path):
        return None
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class _Encoder:
    """Encodes one SavedModel's functions; collects their constants."""

    def __init__(self, variable_keys):
        self.variable_keys = variable_keys          # id(variable) -> checkpoint key
        self.constants = {}

    def attr(self, value, where):
        if isinstance(value, Variable):
            key = self.variable_keys.get(id(value))
            if key is None:
                raise ValueError(f"Tried to export a function which references an 'untracked' resource {value!r} "
                                 f"({where}). TensorFlow objects (e.g. tf.Variable) captured by functions must be "
                                 "'tracked' by assigning them to an attribute of a tracked object or assigned to an "
                                 "attribute of the main object directly.")
            return {"variable": key}
        if isinstance(value, torch.dtype):
            return {"dtype": _dt.name(value)}
        if isinstance(value, TensorShape):
            return {"shape": None if value.rank is None else value.as_list()}
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        if isinstance(value, (np.ndarray, np.generic, torch.Tensor)):
            key = f"c{len(self.constants)}"
            self.constants[key] = torch.as_tensor(np.array(value)) if not isinstance(value, torch.Tensor) else value
            return {"const": key, "kind": "torch" if isinstance(value, torch.Tensor) else "numpy"}
        if isinstance(value, (list, tuple)):
            return {type(value).__name__ if type(value) in (list, tuple) else "tuple":
                    [self.attr(v, where) for v in value]}
        if isinstance(value, dict) and all(isinstance(k, str) for k in value):
            return {"dict": [[k, self.attr(v, where)] for k, v in value.items()]}
        raise ValueError(f"Cannot save {where}: its attribute holds a Python object ({type(value).__name__}). A "
                         "SavedModel holds graphs of plain data only; save a function that computes outputs (no "
                         "metrics or optimizer steps inside), or save the model with model.save('x.keras').")

    def graph(self, cf):
        ops = cf.graph.get_operations()
        index = {op: i for i, op in enumerate(ops)}
        out = []
        for op in ops:
            where = f"op {op.name!r} ({op.type}) of function {cf.name!r}"
            if op.type in _CONTROL_FLOW:
                raise ValueError(f"Cannot save {where}: control flow (tf.cond, tf.while_loop, or Python `if`/`for` on "
                                 "tensors converted by AutoGraph) keeps sub-graphs, which SavedModels here do not hold "
                                 "yet. Save a function without data-dependent control flow, or save the model with "
                                 "model.save('x.keras').")
            out.append({"name": op.name, "type": op.type,
                        "inputs": [[index[t.op], t.value_index] for t in op.inputs],
                        "control": [index[c] for c in op.control_inputs if c in index],
                        "attrs": {k: self.attr(v, where) for k, v in op.attrs.items()}})
        return out, index

    def concrete(self, cf):
        ops, index = self.graph(cf)

        def ref(t):
            return [index[t.op], t.value_index]
        flat = []
        for t in cf._out_flat:
            if isinstance(t, Tensor):
                flat.append({"tensor": ref(t)})
            elif t is None or isinstance(t, (bool, int, float, str)):
                flat.append({"py": t})
            else:
                raise ValueError(f"Cannot save function {cf.name!r}: it returns a {type(t).__name__}; return tensors, "
                                 "numbers or strings (in lists, tuples or dicts).")
        return {"name": cf.name, "arg_names": list(cf._arg_names), "keys": [_key(k, cf.name) for k in cf._keys],
                "ops": ops, "inputs": [ref(t) for t in cf.inputs], "outputs": flat,
                "structure": _structure(cf.structured_outputs, iter(range(len(flat))))}


def _key(key, fname):
    """A traced argument's cache key as JSON: tensors by dtype and shape, Python values by value."""
    kind = key[0]
    if kind == "T":
        return {"T": [_dt.name(key[1]), [None if d is None else int(d) for d in key[2]]]}
    if kind == "P" and (key[2] is None or isinstance(key[2], (bool, int, float, str))):
        return {"P": key[2]}
    if kind in ("list", "tuple"):
        return {kind: [_key(k, fname) for k in key[1]]}
    if kind == "dict" and all(isinstance(k, str) for k, _ in key[1]):
        return {"dict": [[k, _key(v, fname)] for k, v in key[1]]}
    raise ValueError(f"Cannot save function {fname!r}: it was traced with an argument that is neither a tensor nor "
                     f"a number/string ({kind}); trace it with tensors (or give it an input_signature).")


def _structure(out, leaves):
    """The nesting of a function's outputs, leaves numbered as nest.flatten orders them."""
    if isinstance(out, dict):
        if not all(isinstance(k, str) for k in out):
            raise ValueError("Cannot save a function whose output dict has keys that are not strings.")
        return {"dict": [[k, _structure(out[k], leaves)] for k in sorted(out)]}
    if isinstance(out, (list, tuple)):
        return {"list" if isinstance(out, list) else "tuple": [_structure(v, leaves) for v in out]}
    if out is None:
        return {"none": True}
    return {"leaf": next(leaves)}


def _functions_of(obj):
    """[(attribute name, Function)] of one object: tf.function methods and attributes."""
    found = {}
    for name in dir(type(obj)):
        if name.startswith("__") and name != "__call__":
            continue
        if isinstance(getattr(type(obj), name, None), Function):
            found[name] = getattr(obj, name)
    for name, value in list(vars(obj).items()) if hasattr(obj, "__dict__") else ():
        if isinstance(value, Function):
            found[name] = value
    return sorted(found.items())


def _concretes(fn, where):
    if fn._eager_only:
        raise ValueError(f"Cannot save {where}: it runs eagerly (its body uses {fn._eager_only}, which has no graph "
                         "form here), so there is no traced graph to save.")
    traced = list(dict.fromkeys(fn._concrete.values()))
    if not traced and fn.input_signature is not None:
        traced = [fn.get_concrete_function()]
    return traced


def _signature_concrete(value, name):
    if isinstance(value, ConcreteFunction):
        return value
    if isinstance(value, Function):
        if value.input_signature is None and not value._concrete:
            raise ValueError(f"Signature {name!r}: the tf.function has no input_signature and was never traced; give "
                             "it input_signature=[tf.TensorSpec(...)] or pass fn.get_concrete_function(spec).")
        return value.get_concrete_function() if value.input_signature is not None else next(
            iter(value._concrete.values()))
    raise ValueError(f"Expected a TensorFlow function for which to generate a signature (a tf.function or a concrete "
                     f"function), got {value!r} for signature {name!r}.")


def _signature_entry(cf, fid, name):
    for key in cf._keys:
        if key[0] != "T":
            raise ValueError(f"Signature {name!r}: every argument must be a tensor (got a {key[0]!r} argument); trace "
                             "the function with tf.TensorSpecs.")
    out = cf.structured_outputs
    if isinstance(out, dict):
        outputs = {str(k): v for k, v in out.items()}
    elif isinstance(out, (list, tuple)):
        outputs = {f"output_{i}": v for i, v in enumerate(out)}
    else:
        outputs = {"output_0": out}
    if not all(isinstance(v, Tensor) for v in outputs.values()):
        raise ValueError(f"Signature {name!r}: a signature function must return a tensor or a dict (or list) of "
                         "tensors.")
    return {"function": fid, "outputs": sorted(outputs)}


def save(obj, export_dir, signatures=None, options=None):
    """`tf.saved_model.save`: write `obj`'s variables and traced functions to the folder `export_dir`."""
    export_dir = os.fspath(export_dir)
    if not trackable.is_trackable(obj) or trackable.is_leaf(obj):
        raise ValueError(f"Expected an object that tracks variables and functions (a tf.Module or Keras model), got "
                         f"{obj!r} of type {type(obj).__name__}.")
    objects = []
    graph, values = object_graph(obj, objects)
    variable_keys, variables = {}, {}
    for node, live in zip(graph["nodes"], objects):
        if trackable.is_leaf(live) and node["attributes"]:
            key = node["attributes"][0]["checkpoint_key"]
            variable_keys[id(live)] = key
            variables[key] = {"trainable": bool(getattr(live, "trainable", False)),
                              "name": getattr(live, "_name", None) if isinstance(live, Variable) else None}
    encoder = _Encoder(variable_keys)
    functions, fids, attached = [], {}, {}

    def add(cf):
        if id(cf) not in fids:
            fids[id(cf)] = len(functions)
            functions.append(encoder.concrete(cf))
        return fids[id(cf)]

    default = []
    for nid, live in enumerate(objects):
        if trackable.is_leaf(live) or isinstance(live, (list, tuple, dict)):
            continue
        for name, fn in _functions_of(live):
            defaults = {p.name: p.default for p in fn._signature.parameters.values()
                        if p.default is not p.empty
                        and (p.default is None or isinstance(p.default, (bool, int, float, str)))}
            traces = [add(cf) for cf in _concretes(fn, f"tf.function {name!r}")]
            attached.setdefault(str(nid), {})[name] = {"traces": traces, "defaults": defaults}
            if nid == 0:
                default.append(fn)
    if signatures is None and _is_keras_model(obj):
        signatures = {"serving_default": _keras_serving_function(obj, "inputs")}
    elif signatures is None:
        signatures = {"serving_default": default[0]} if len(default) == 1 and (
            default[0].input_signature is not None) else {}
    elif not isinstance(signatures, dict):
        signatures = {"serving_default": signatures}
    sigs = {}
    for name, value in signatures.items():
        cf = _signature_concrete(value, name)
        sigs[str(name)] = _signature_entry(cf, add(cf), name)
    kinds = {str(i): ("list" if isinstance(o, (list, tuple)) else "dict" if isinstance(o, dict) else
                      "variable" if trackable.is_leaf(o) else "object") for i, o in enumerate(objects)}
    meta = {"format": FORMAT, "files": {"variables": VARIABLES, "constants": CONSTANTS},
            "object_graph": graph, "kinds": kinds, "variables": variables, "functions": functions,
            "attached": attached, "signatures": sigs}
    os.makedirs(export_dir, exist_ok=True)
    write_checkpoint(os.path.join(export_dir, *VARIABLES.split("/")), values, graph)
    write_checkpoint(os.path.join(export_dir, *CONSTANTS.split("/")), encoder.constants, {"nodes": []},
                     tf_format=False)
    prefixes = {"variables": VARIABLES, "constants": CONSTANTS}
    meta["digests"] = {role + suffix: file_digest(os.path.join(export_dir, *prefixes[role].split("/")) + suffix)
                       for role, suffix in DIGESTED}
    text = json.dumps(meta)

    def write(tmp):
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
    atomic_write(os.path.join(export_dir, SAVED_MODEL_FILE), write)


def _is_keras_model(obj):
    return isinstance(obj, torch.nn.Module) and hasattr(obj, "_tracked") and hasattr(type(obj), "compile")


def _keras_serving_function(model, input_name, input_signature=None):
    """The model called in inference mode, traced for the input shape it was built for."""
    if input_signature is None:
        shape = getattr(model, "_build_input_shape", None)
        if shape is None or (isinstance(shape, list) and shape and not isinstance(shape[0], (int, type(None)))):
            raise ValueError("The model must be built (called on data, or made with an Input) before it is saved as "
                             "a SavedModel, or pass input_signature=[tf.TensorSpec(...)].")
        input_signature = [TensorSpec((None,) + tuple(shape)[1:], torch.float32, name=input_name)]

    def serve(*args):
        return model(*args, training=False)
    fn = Function(serve, input_signature=input_signature, name="serve")
    fn.get_concrete_function()
    return fn


class _ExportArchive:
    """What Keras 3's `model.export` saves at the root: the model's variables and its `serve` function."""

    def __init__(self, model, serve):
        weights = list(model.weights)
        self.variables = weights
        self.trainable_variables = [v for v in weights if getattr(v, "trainable", True)]
        self.non_trainable_variables = [v for v in weights if not getattr(v, "trainable", True)]
        self.serve = serve

    def _trackable_children(self):
        return [("non_trainable_variables", self.non_trainable_variables),
                ("trainable_variables", self.trainable_variables), ("variables", self.variables)]


def export_keras_model(model, filepath, input_signature=None, verbose=True):
    """Keras 3's `model.export(filepath)`: a SavedModel whose root has `serve` (the model in inference
    mode) and the `serving_default` signature, and lists `variables`, `trainable_variables` and
    `non_trainable_variables`."""
    fn = _keras_serving_function(model, "keras_tensor", input_signature)
    spec = fn.input_signature[0]
    save(_ExportArchive(model, fn), filepath, signatures={"serve": fn, "serving_default": fn})
    if verbose:
        print(f"Saved artifact at '{filepath}'. The following endpoints are available:\n\n* Endpoint 'serve'\n  "
              f"args_0 (POSITIONAL_ONLY): TensorSpec(shape={tuple(spec.shape)}, dtype=tf.{_dt.name(spec.dtype)}, "
              f"name='{spec.name}')")
    return filepath
