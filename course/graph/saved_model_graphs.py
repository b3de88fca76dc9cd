"""Rebuilding the graphs of a SavedModel from its JSON, checking everything first (no code from the file runs).

Every op type must be registered here (and not one that needs a Python object), every input must name
an earlier op's output, every attribute must be one of the plain forms the saver writes, and constants
have a size limit. Graphs are rebuilt op by op with the graph engine's own shape functions. A problem
raises `Refused` with what is wrong; `course.graph.saved_model_load.load` reports it with the folder.
"""
import torch

from course.framework import dtypes as _dt
from course.framework import nest
from course.framework.shapes import TensorShape
from course.graph import registry
from course.graph.concrete_function import ConcreteFunction, FuncGraph

__all__ = ["build", "Refused", "check", "is_int", "MAX_CONSTANT_BYTES", "MAX_OPS", "DENIED_OPS"]

MAX_CONSTANT_BYTES = 256 << 20
MAX_OPS = 1_000_000
# Registered op types a SavedModel may not use: they need Python objects (metrics, optimizers, datasets),
# TF1 session variables, or sub-graphs this format does not carry.
DENIED_OPS = {"UpdateMetric", "DatasetFor", "VariableV2", "Assign", "AssignAdd", "AssignSub", "IsVariableInitialized",
              "If", "StatelessIf", "While", "StatelessWhile", "WhileGrad", "Case", "StatelessCase"}


class Refused(ValueError):
    pass


def check(cond, why):
    if not cond:
        raise Refused(why)


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


class _Decoder:
    def __init__(self, variables, constants, fname):
        self.variables, self.constants, self.fname = variables, constants, fname

    def attr(self, v, depth=0):
        check(depth < 32, f"function {self.fname!r}: an attribute is nested too deeply")
        if v is None or isinstance(v, (bool, int, float, str)):
            return v
        check(isinstance(v, dict) and len(v) in (1, 2), f"function {self.fname!r}: an attribute has an unknown form")
        if "variable" in v:
            check(v["variable"] in self.variables, f"function {self.fname!r} reads a variable the SavedModel does "
                                                    f"not hold ({v['variable']!r})")
            return self.variables[v["variable"]]
        if "dtype" in v:
            try:
                return _dt.as_torch_dtype(v["dtype"])
            except TypeError:
                raise Refused(f"function {self.fname!r}: unknown dtype {v['dtype']!r}") from None
        if "shape" in v:
            dims = v["shape"]
            check(dims is None or (isinstance(dims, list) and len(dims) <= 32 and all(
                d is None or (is_int(d) and d >= 0) for d in dims)), f"function {self.fname!r}: invalid shape {dims!r}")
            return TensorShape(dims)
        if "const" in v:
            return self.constant(v["const"], v.get("kind"))
        for kind in ("list", "tuple"):
            if kind in v:
                check(isinstance(v[kind], list), f"function {self.fname!r}: invalid {kind} attribute")
                items = [self.attr(x, depth + 1) for x in v[kind]]
                return items if kind == "list" else tuple(items)
        if "dict" in v:
            check(isinstance(v["dict"], list) and all(isinstance(p, list) and len(p) == 2 and isinstance(p[0], str)
                                                       for p in v["dict"]), f"function {self.fname!r}: invalid dict")
            return {k: self.attr(x, depth + 1) for k, x in v["dict"]}
        raise Refused(f"function {self.fname!r}: an attribute has an unknown form ({sorted(v)})")

    def constant(self, key, kind):
        shapes = self.constants.get_variable_to_shape_map()
        check(isinstance(key, str) and key in shapes and key != "_CHECKPOINTABLE_OBJECT_GRAPH",
               f"function {self.fname!r} uses a constant the SavedModel does not hold ({key!r})")
        dtype = self.constants.get_variable_to_dtype_map()[key]
        count = 1
        for d in shapes[key]:
            count *= d
        nbytes = count * max(1, _dt.numpy_dtype(_dt.as_torch_dtype(dtype)).itemsize)
        check(nbytes <= MAX_CONSTANT_BYTES, f"function {self.fname!r}: constant {key!r} has {nbytes} bytes, more than "
                                             f"the {MAX_CONSTANT_BYTES} allowed (an oversized constant)")
        value = self.constants.get_tensor(key)
        return torch.from_numpy(value.copy()) if kind == "torch" else value


def _key(k, fname, depth=0):
    check(depth < 32 and isinstance(k, dict) and len(k) == 1, f"function {fname!r}: an argument key is invalid")
    (kind, v), = k.items()
    if kind == "T":
        check(isinstance(v, list) and len(v) == 2 and isinstance(v[1], list), f"function {fname!r}: invalid tensor key")
        return ("T", _dt.as_dtype(v[0]), tuple(v[1]))
    if kind == "P":
        check(v is None or isinstance(v, (bool, int, float, str)), f"function {fname!r}: invalid Python argument")
        return ("P", type(v), v)
    if kind in ("list", "tuple"):
        return (kind, tuple(_key(x, fname, depth + 1) for x in v))
    if kind == "dict":
        return ("dict", tuple((name, _key(x, fname, depth + 1)) for name, x in v))
    raise Refused(f"function {fname!r}: an argument key has an unknown kind {kind!r}")


def _structure(s, flat, fname, depth=0):
    check(depth < 32 and isinstance(s, dict) and len(s) == 1, f"function {fname!r}: invalid output structure")
    (kind, v), = s.items()
    if kind == "leaf":
        check(is_int(v) and 0 <= v < len(flat), f"function {fname!r}: an output refers to nothing")
        return flat[v]
    if kind == "none":
        return None
    if kind == "dict":
        return {name: _structure(x, flat, fname, depth + 1) for name, x in v}
    if kind in ("list", "tuple"):
        items = [_structure(x, flat, fname, depth + 1) for x in v]
        return items if kind == "list" else tuple(items)
    raise Refused(f"function {fname!r}: invalid output structure")


def build(entry, variables, constants, owner):
    """One saved concrete function, rebuilt as a graph and compiled."""
    fname = entry.get("name") if isinstance(entry, dict) else None
    check(isinstance(fname, str), "a function has no name")
    ops_in = entry.get("ops")
    check(isinstance(ops_in, list) and len(ops_in) <= MAX_OPS, f"function {fname!r}: its ops are missing or too many")
    decoder = _Decoder(variables, constants, fname)
    graph = FuncGraph(fname)
    ops = []
    with graph.as_default():
        for i, e in enumerate(ops_in):
            check(isinstance(e, dict), f"function {fname!r}: op #{i} is not an object")
            op_type = e.get("type")
            check(isinstance(op_type, str) and op_type in registry.REGISTRY and op_type not in DENIED_OPS,
                   f"function {fname!r}: op #{i} has type {op_type!r}, which is not an op type this course can load "
                   "(an unknown op type); loading runs registered op types only")
            refs = e.get("inputs", [])
            check(isinstance(refs, list) and all(
                isinstance(r, list) and len(r) == 2 and is_int(r[0]) and is_int(r[1]) and 0 <= r[0] < i
                and 0 <= r[1] < len(ops[r[0]].outputs) for r in refs),
                f"function {fname!r}: op #{i} ({op_type}) has an input that is not an earlier op's output")
            attrs = e.get("attrs", {})
            check(isinstance(attrs, dict), f"function {fname!r}: op #{i} has invalid attributes")
            name = e.get("name")
            check(isinstance(name, str) and 0 < len(name) < 1000, f"function {fname!r}: op #{i} has no valid name")
            try:
                op = graph.create_op(op_type, [ops[r].outputs[j] for r, j in refs],
                                     {k: decoder.attr(v) for k, v in attrs.items()}, name=name)
            except Refused:
                raise
            except Exception as exc:       # noqa: BLE001 - the op's own check, reported with where it failed
                raise Refused(f"function {fname!r}: op #{i} {name!r} ({op_type}) cannot be rebuilt: {exc}") from None
            control = e.get("control", [])
            check(isinstance(control, list) and all(is_int(c) and 0 <= c < i for c in control),
                   f"function {fname!r}: op #{i} has an invalid control input")
            op.control_inputs.extend(ops[c] for c in control)
            ops.append(op)

    def tensor(ref, what):
        check(isinstance(ref, list) and len(ref) == 2 and is_int(ref[0]) and is_int(ref[1])
               and 0 <= ref[0] < len(ops) and 0 <= ref[1] < len(ops[ref[0]].outputs),
               f"function {fname!r}: {what} refers to no op output")
        return ops[ref[0]].outputs[ref[1]]
    inputs = [tensor(r, "an input") for r in entry.get("inputs", [])]
    check(all(t.op.type == "Placeholder" for t in inputs), f"function {fname!r}: an input is not a placeholder")
    flat = []
    for out in entry.get("outputs", []):
        check(isinstance(out, dict) and len(out) == 1, f"function {fname!r}: invalid output")
        flat.append(tensor(out["tensor"], "an output") if "tensor" in out else out.get("py"))
        check("tensor" in out or out.get("py") is None or isinstance(out.get("py"), (bool, int, float, str)),
               f"function {fname!r}: invalid output")
    structure = _structure(entry.get("structure", {"none": True}), flat, fname)
    names, keys = entry.get("arg_names", []), entry.get("keys", [])
    check(isinstance(names, list) and isinstance(keys, list) and len(names) == len(keys)
           and all(isinstance(n, str) for n in names), f"function {fname!r}: invalid arguments")
    keys = tuple(_key(k, fname) for k in keys)
    check(sum(1 for k in nest.flatten([_leaf_kinds(k) for k in keys]) if k == "T") == len(inputs),
           f"function {fname!r}: its tensor arguments and inputs disagree")
    return ConcreteFunction(owner, graph, names, keys, inputs, structure, flat)


def _leaf_kinds(key):
    if key[0] in ("list", "tuple"):
        return [_leaf_kinds(k) for k in key[1]]
    if key[0] == "dict":
        return [_leaf_kinds(k) for _, k in key[1]]
    return key[0]
