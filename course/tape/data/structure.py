"""Elements of a dataset: nested tuples/dicts of tensors, and blocks of rows of them.

tf.data treats Python lists as tensors, not as structures; tuples and dicts are structures. A
*block* is an element structure whose tensors carry a leading axis of rows.
"""
import numpy as np
import torch

from course.framework import nest
from course.tape.string_tensor import StringTensor, is_string_value
from course.tape.tensor import to_tensor, wrap
from course.framework.convert import as_plain

__all__ = ["normalize", "fn_output", "call", "row", "rows", "stack", "num_rows", "RowList"]


def normalize(value):
    """Tuples and dicts stay structures; every leaf (lists included, as in tf.data) becomes a tensor."""
    if isinstance(value, dict):
        return type(value)((k, normalize(v)) for k, v in value.items())
    if isinstance(value, tuple):
        items = [normalize(v) for v in value]
        return type(value)(*items) if hasattr(type(value), "_fields") else tuple(items)
    if isinstance(value, torch.Tensor):
        return as_plain(value).detach()
    if is_string_value(value):
        return StringTensor(value)          # string leaves: numpy bytes (course.tape.string_tensor)
    return to_tensor(value)


def fn_output(value):
    """What a map function returned, as an element: lists become tuples, leaves become tensors."""
    if isinstance(value, list):
        value = tuple(value)
    return normalize(value)


def call(fn, element):
    """TF calls fn(*element) for a tuple element and fn(element) otherwise; inputs are EagerTensors."""
    eager = nest.map_structure(wrap, element)
    if isinstance(element, tuple) and not hasattr(type(element), "_fields"):
        return fn(*eager)
    return fn(eager)


class RowList(list):
    """A block whose rows do not stack (a map that returns different shapes): kept as a list of rows."""


def row(block, i):
    return nest.map_structure(lambda t: t[i], block)


def rows(block):
    if isinstance(block, RowList):
        return iter(block)
    n = nest.flatten(block)[0].shape[0]
    return (row(block, i) for i in range(n))


def stack(elements):
    first = elements[0]
    flat = [nest.flatten(e) for e in elements]
    out = []
    for k in range(len(flat[0])):
        parts = [f[k] for f in flat]
        shapes = {tuple(p.shape) for p in parts}
        if len(shapes) > 1:
            raise ValueError(f"Cannot batch tensors with different shapes in component {k}: got shapes "
                             f"{sorted(shapes)[:4]}. Make every element the same shape (e.g. resize or pad in map).")
        out.append(StringTensor(np.stack([p._array for p in parts])) if isinstance(parts[0], StringTensor)
                   else torch.stack(parts))
    return nest.pack_sequence_as(first, out)


def num_rows(block):
    if isinstance(block, RowList):
        return len(block)
    return nest.flatten(block)[0].shape[0]
