"""Control flow and printing in eager mode: `tf.cond`, `tf.while_loop`, `tf.map_fn`, `tf.print`, ...

In eager mode these are plain Python: `cond` calls one branch, `while_loop` loops, `map_fn` stacks
`fn` over the first axis. `tf.print` writes to stderr by default, as TensorFlow does, and prints
tensors as their values (`[1 2 3]`), not their repr.
"""
import contextlib
import sys

import numpy as np
import torch

from course.framework import nest
from course.tape.tensor import to_numpy, to_tensor, wrap

__all__ = ["cond", "while_loop", "map_fn", "vectorized_map", "print_", "py_function", "numpy_function",
           "case", "switch_case", "control_dependencies", "init_scope"]


def _truth(pred):
    return bool(to_numpy(pred)) if isinstance(pred, torch.Tensor) else bool(pred)


def cond(pred, true_fn=None, false_fn=None, name=None):
    """true_fn() if pred else false_fn()."""
    return true_fn() if _truth(pred) else false_fn()


def case(pred_fn_pairs, default=None, exclusive=False, strict=False, name="case"):
    for pred, fn in (pred_fn_pairs.items() if isinstance(pred_fn_pairs, dict) else pred_fn_pairs):
        if _truth(pred):
            return fn()
    if default is None:
        raise ValueError("tf.case: no predicate was true and no default was given.")
    return default()


def switch_case(branch_index, branch_fns, default=None, name="switch_case"):
    i = int(to_numpy(branch_index)) if isinstance(branch_index, torch.Tensor) else int(branch_index)
    fns = dict(branch_fns) if isinstance(branch_fns, dict) else dict(enumerate(branch_fns))
    if i in fns:
        return fns[i]()
    if default is not None:
        return default()
    return fns[max(fns)]()


def while_loop(cond, body, loop_vars, shape_invariants=None, parallel_iterations=10, back_prop=True,
               swap_memory=False, maximum_iterations=None, name=None):
    """Run body on loop_vars while cond(*loop_vars) holds; returns the final loop_vars."""
    single = not isinstance(loop_vars, (list, tuple))
    state = [loop_vars] if single else list(loop_vars)
    n = 0
    while _truth(cond(*state)) and (maximum_iterations is None or n < int(maximum_iterations)):
        out = body(*state)
        state = [out] if single and not isinstance(out, (list, tuple)) else list(out)
        n += 1
    return state[0] if single else type(loop_vars)(state) if isinstance(loop_vars, tuple) else state


def map_fn(fn, elems, dtype=None, parallel_iterations=None, back_prop=True, swap_memory=False, infer_shape=True,
           name=None, fn_output_signature=None):
    """Stack fn(e) for each e along the first axis of elems (a tensor or a structure of tensors)."""
    flat = [wrap(to_tensor(e)) for e in nest.flatten(elems)]
    n = flat[0].shape[0]
    outs = []
    for i in range(n):
        outs.append(fn(nest.pack_sequence_as(elems, [e[i] for e in flat])))
    if not outs:
        return wrap(to_tensor([]))
    first = outs[0]
    stacked = [wrap(torch.stack([to_tensor(nest.flatten(o)[k]) for o in outs]))
               for k in range(len(nest.flatten(first)))]
    return nest.pack_sequence_as(first, stacked)


def vectorized_map(fn, elems, fallback_to_while_loop=True, warn=True):
    return map_fn(fn, elems)


def _format(value, summarize):
    """A value as tf.print shows it: tensors as their numbers (`[1 2 3 ... 8 9 10]`), structures recursively."""
    if isinstance(value, torch.Tensor):
        arr = to_numpy(value)
        if arr.ndim == 0:
            return f"{arr[()]:g}" if arr.dtype.kind == "f" else str(arr[()])
        edge = 3 if summarize is None else (int(summarize) if summarize >= 0 else arr.size)
        floats = {"float_kind": lambda v: f"{v:g}"}         # TF prints floats as C++ streams do: 1, 2.5
        return np.array2string(arr, separator=" ", threshold=2 * edge, edgeitems=edge, max_line_width=10**6,
                               formatter=floats).replace("  ", " ").replace("[ ", "[")
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {_format(v, summarize)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        inner = ", ".join(_format(v, summarize) for v in value)
        return f"[{inner}]" if isinstance(value, list) else f"({inner}{',' if len(value) == 1 else ''})"
    return str(value)


def print_(*inputs, output_stream=None, summarize=3, sep=" ", end="\n", name=None):
    """`tf.print`: print values (tensors as their numbers) to stderr, or to output_stream."""
    stream = output_stream
    if stream is None or stream == "stderr":
        stream = sys.stderr
    elif stream == "stdout":
        stream = sys.stdout
    text = sep.join(_format(v, summarize) for v in inputs) + end
    if callable(getattr(stream, "write", None)):
        stream.write(text)
    else:
        sys.stderr.write(text)


def py_function(func, inp, Tout, name=None):
    """Call func on the (eager) inputs; results are converted to tensors."""
    out = func(*inp)
    return nest.map_structure(lambda v: v if isinstance(v, torch.Tensor) else wrap(to_tensor(v)), out)


def numpy_function(func, inp, Tout, stateful=True, name=None):
    """Call func on numpy versions of the inputs; its numpy results become tensors of `Tout`."""
    out = func(*[to_numpy(v) if isinstance(v, torch.Tensor) else v for v in inp])
    if isinstance(Tout, (list, tuple)):
        return [wrap(to_tensor(o, t)) for o, t in zip(out, Tout)]
    return wrap(to_tensor(out, Tout))


@contextlib.contextmanager
def control_dependencies(control_inputs):
    """Eager ops run in program order already: nothing to add."""
    yield


@contextlib.contextmanager
def init_scope():
    yield
