"""Plain data across the grading boundary: JSON with tagged arrays, never pickle.

What crosses between the learner's process and the checks is built from None, bools, numbers,
strings, bytes, lists, tuples, dicts, torch dtypes and shapes, numpy arrays and torch tensors
(bytes in base64, with dtype and shape), and tags the two sides interpret themselves: a handle to
an object that stays in the learner's process, an error the learner's code raised, a named
fixture. `encode` turns a value into such a tree (anything else goes through `other`, which
returns a tag or raises); `decode` rebuilds values from a tree that may come from an untrusted
process: every node is validated, sizes are limited, and only the types above are constructed.

    text = dumps(encode([torch.ones(2), {"k": 3}]))
    decode(loads(text))           # [tensor([1., 1.]), {'k': 3}]
"""
from __future__ import annotations

import base64
import json
import math

__all__ = ["CodecError", "MAX_BYTES", "MAX_DEPTH", "encode", "decode", "dumps", "loads"]

MAX_BYTES = 64 * 2**20          # one reply at most
MAX_DEPTH = 32
_MAX_ITEMS = 2**20

# dtype names both sides know; bfloat16 travels as its 16-bit pattern.
_TORCH_DTYPES = ("float16", "bfloat16", "float32", "float64", "complex64", "complex128", "uint8", "int8",
                 "int16", "int32", "int64", "bool")
_NUMPY_DTYPES = ("float16", "float32", "float64", "complex64", "complex128", "uint8", "uint16", "uint32",
                 "uint64", "int8", "int16", "int32", "int64", "bool")
_TENSOR_KINDS = ("torch", "parameter", "eager", "variable")


class CodecError(ValueError):
    """A value that cannot cross the boundary, or data that is not what the codec writes."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text) -> bytes:
    if not isinstance(text, str):
        raise CodecError(f"expected base64 text, got {type(text).__name__}")
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except Exception as exc:
        raise CodecError(f"bad base64 data: {exc}") from None


def _tensor_kind(x, torch) -> str:
    from course.tape.tensor import EagerTensor
    from course.tape.variables import Variable
    if isinstance(x, Variable):
        return "variable"
    if isinstance(x, EagerTensor):
        return "eager"
    if isinstance(x, torch.nn.Parameter):
        return "parameter"
    return "torch"


def _encode_tensor(x, torch) -> dict:
    t = x.detach().cpu().contiguous()
    if type(t) is not torch.Tensor:
        t = t.as_subclass(torch.Tensor)
    name = str(t.dtype).replace("torch.", "")
    if name not in _TORCH_DTYPES:
        raise CodecError(f"tensors of dtype {name} cannot be sent; convert to float32 or int64 first")
    raw = t.view(torch.int16) if name == "bfloat16" else t
    node = {"$": "tensor", "kind": _tensor_kind(x, torch), "dtype": name, "shape": list(t.shape),
            "data": _b64(raw.numpy().tobytes()), "requires_grad": bool(x.requires_grad), "leaf": bool(x.is_leaf)}
    name_attr = getattr(x, "_name", None) or getattr(x, "name", None) if node["kind"] == "variable" else None
    if isinstance(name_attr, str):
        node["name"] = name_attr
    return node


def encode(value, other=None, _depth: int = 0, same=None):
    """`value` as a JSON-ready tree; objects of other types go to `other(value)` (or raise CodecError).

    `same` maps id(obj) to the node to write for that very object (a handle the other side knows).
    """
    import sys
    if _depth > MAX_DEPTH:
        raise CodecError(f"nested deeper than {MAX_DEPTH} levels")
    if same and id(value) in same:
        return same[id(value)]
    if value is None or isinstance(value, (bool, str)):
        return value
    if type(value) is int:
        return value if abs(value) < 2**53 else {"$": "int", "v": str(value)}
    if type(value) is float:
        return value if math.isfinite(value) else {"$": "float", "v": repr(value)}
    if type(value) is complex:
        return {"$": "complex", "re": encode(value.real), "im": encode(value.imag)}
    if type(value) is bytes:
        return {"$": "bytes", "data": _b64(value)}
    torch, np = sys.modules.get("torch"), sys.modules.get("numpy")
    if torch is not None:
        if isinstance(value, torch.Tensor):
            return _encode_tensor(value, torch)
        if isinstance(value, torch.dtype):
            return {"$": "torch_dtype", "name": str(value).replace("torch.", "")}
        if isinstance(value, torch.Size):
            return {"$": "size", "v": [int(d) for d in value]}
    if np is not None:
        if isinstance(value, np.ndarray) and type(value) is np.ndarray:
            if value.dtype.name not in _NUMPY_DTYPES:
                raise CodecError(f"numpy arrays of dtype {value.dtype} cannot be sent")
            a = np.ascontiguousarray(value)
            return {"$": "array", "dtype": a.dtype.name, "shape": list(a.shape),
                    "data": _b64(a.astype(a.dtype.newbyteorder("<")).tobytes())}
        if isinstance(value, np.generic) and value.dtype.name in _NUMPY_DTYPES:
            return {"$": "scalar", "dtype": value.dtype.name, "data": _b64(np.asarray(value).astype(
                value.dtype.newbyteorder("<")).tobytes())}
        if isinstance(value, np.dtype):
            return {"$": "numpy_dtype", "name": value.name}
    if type(value) in (list, tuple):
        if len(value) > _MAX_ITEMS:
            raise CodecError(f"a {type(value).__name__} of {len(value)} items is too long to send")
        items = [encode(v, other, _depth + 1, same) for v in value]
        return items if type(value) is list else {"$": "tuple", "v": items}
    if type(value) is dict or type(value).__name__ == "OrderedDict" and isinstance(value, dict):
        return {"$": "dict", "k": [encode(k, other, _depth + 1, same) for k in value],
                "v": [encode(v, other, _depth + 1, same) for v in value.values()]}
    if type(value) is range:
        return {"$": "range", "v": [value.start, value.stop, value.step]}
    if type(value) is slice:
        return {"$": "slice", "v": [encode(value.start), encode(value.stop), encode(value.step)]}
    if value is Ellipsis:
        return {"$": "ellipsis"}
    if other is None:
        raise CodecError(f"a {type(value).__name__} cannot be sent as plain data")
    return other(value)


def _check(cond, what):
    if not cond:
        raise CodecError(what)


def _decode_tensor(node):
    import numpy as np
    import torch
    dtype, shape, kind = node.get("dtype"), node.get("shape"), node.get("kind", "torch")
    _check(dtype in _TORCH_DTYPES and kind in _TENSOR_KINDS, f"bad tensor node (dtype {dtype!r}, kind {kind!r})")
    _check(isinstance(shape, list) and all(type(d) is int and 0 <= d for d in shape), f"bad shape {shape!r}")
    raw = _unb64(node.get("data"))
    np_dtype = np.dtype("int16" if dtype == "bfloat16" else dtype).newbyteorder("<")
    count = math.prod(shape)
    _check(len(raw) == count * np_dtype.itemsize, f"tensor data of {len(raw)} bytes for shape {shape}, {dtype}")
    array = np.frombuffer(raw, dtype=np_dtype).astype(np_dtype.newbyteorder("=")).reshape(shape)
    t = torch.from_numpy(array.copy())
    if dtype == "bfloat16":
        t = t.view(torch.bfloat16)
    if kind == "eager":
        from course.tape.tensor import EagerTensor
        t = t.as_subclass(EagerTensor)
    elif kind == "variable":
        from course.tape.variables import Variable
        name = node.get("name")
        return Variable(t, name=name if isinstance(name, str) else None)
    elif kind == "parameter":
        return torch.nn.Parameter(t, requires_grad=bool(node.get("requires_grad")))
    if node.get("requires_grad") is True and (t.is_floating_point() or t.is_complex()):
        t.requires_grad_(True)
    return t


def _decode_array(node, scalar=False):
    import numpy as np
    dtype = node.get("dtype")
    _check(dtype in _NUMPY_DTYPES, f"bad array dtype {dtype!r}")
    raw = _unb64(node.get("data"))
    np_dtype = np.dtype(dtype).newbyteorder("<")
    shape = [] if scalar else node.get("shape")
    _check(isinstance(shape, list) and all(type(d) is int and 0 <= d for d in shape), f"bad shape {shape!r}")
    _check(len(raw) == math.prod(shape) * np_dtype.itemsize, f"array data of {len(raw)} bytes for {shape}")
    array = np.frombuffer(raw, dtype=np_dtype).astype(np.dtype(dtype)).reshape(shape)
    return array[()] if scalar else array.copy()


def decode(tree, tags=None, _depth: int = 0):
    """Rebuild a value from `encode`'s tree; `tags` maps extra tag names to functions of their node."""
    if _depth > MAX_DEPTH:
        raise CodecError(f"nested deeper than {MAX_DEPTH} levels")
    if tree is None or isinstance(tree, (bool, str)):
        return tree
    if type(tree) is int:
        return tree
    if type(tree) is float:
        return tree
    if type(tree) is list:
        return [decode(v, tags, _depth + 1) for v in tree]
    _check(type(tree) is dict, f"unexpected {type(tree).__name__} in plain data")
    tag = tree.get("$")
    if tag == "tuple":
        _check(type(tree.get("v")) is list, "bad tuple node")
        return tuple(decode(v, tags, _depth + 1) for v in tree["v"])
    if tag == "dict":
        keys, values = tree.get("k"), tree.get("v")
        _check(type(keys) is list and type(values) is list and len(keys) == len(values), "bad dict node")
        out = {}
        for k, v in zip(keys, values):
            key = decode(k, tags, _depth + 1)
            try:
                hash(key)
            except TypeError:
                raise CodecError(f"unhashable dict key of type {type(key).__name__}") from None
            out[key] = decode(v, tags, _depth + 1)
        return out
    if tag == "tensor":
        return _decode_tensor(tree)
    if tag == "array":
        return _decode_array(tree)
    if tag == "scalar":
        return _decode_array(tree, scalar=True)
    if tag == "int":
        _check(isinstance(tree.get("v"), str) and len(tree["v"]) < 400, "bad int node")
        return int(tree["v"])
    if tag == "float":
        _check(tree.get("v") in ("nan", "inf", "-inf"), "bad float node")
        return float(tree["v"])
    if tag == "complex":
        return complex(float(decode(tree.get("re"), None, _depth + 1)), float(decode(tree.get("im"), None, _depth + 1)))
    if tag == "bytes":
        return _unb64(tree.get("data"))
    if tag == "torch_dtype":
        import torch
        _check(tree.get("name") in _TORCH_DTYPES, f"bad dtype {tree.get('name')!r}")
        return getattr(torch, tree["name"])
    if tag == "numpy_dtype":
        import numpy as np
        _check(tree.get("name") in _NUMPY_DTYPES, f"bad dtype {tree.get('name')!r}")
        return np.dtype(tree["name"])
    if tag == "size":
        import torch
        v = tree.get("v")
        _check(type(v) is list and all(type(d) is int for d in v), "bad size node")
        return torch.Size(v)
    if tag == "range":
        v = tree.get("v")
        _check(type(v) is list and len(v) == 3 and all(type(d) is int for d in v), "bad range node")
        return range(*v)
    if tag == "slice":
        v = tree.get("v")
        _check(type(v) is list and len(v) == 3, "bad slice node")
        parts = [decode(p, None, _depth + 1) for p in v]
        _check(all(p is None or type(p) is int for p in parts), "bad slice node")
        return slice(*parts)
    if tag == "ellipsis":
        return Ellipsis
    if tags and tag in tags:
        return tags[tag](tree)
    raise CodecError(f"unknown node {str(tag)[:40]!r} in plain data")


def dumps(tree) -> str:
    return json.dumps(tree, separators=(",", ":"), allow_nan=False)


def loads(text: str | bytes):
    """Parse JSON text of at most MAX_BYTES (no NaN literals: non-finite floats are tagged)."""
    if len(text) > MAX_BYTES:
        raise CodecError(f"a reply of {len(text)} bytes is larger than the limit of {MAX_BYTES}")

    def _no_constants(name):
        raise CodecError(f"unexpected {name} in plain data")

    try:
        return json.loads(text, parse_constant=_no_constants)
    except json.JSONDecodeError as exc:
        raise CodecError(f"not JSON: {exc}") from None
