"""What a layer call takes and gives back: user values in, plain tensors inside, EagerTensors out.

`to_tensor` turns numpy arrays, lists, tensors and EagerTensors into plain torch tensors on the
device, float64 cast to float32 (Keras' floatx); `wrap` gives results back as EagerTensors;
`plain` is the plain tensor behind a Variable; `map_structure` and `first` walk nested inputs.
"""
import numpy as np
import torch

import course.device
from course.framework.convert import as_plain, floatx_array
from course.tape import EagerTensor

__all__ = ["to_tensor", "plain", "wrap", "map_structure", "first"]


def to_tensor(x, *, device=None, float_dtype=torch.float32, cast_ints=False):
    """numpy / list / tensor / EagerTensor -> plain torch tensor on `device` (floats as float32)."""
    device = device or course.device.get()
    if isinstance(x, torch.Tensor):
        t = as_plain(x)
        cast = t.dtype == torch.float64 or (cast_ints and not t.is_floating_point())
        return as_plain(t, dtype=float_dtype if cast else None, device=device)
    arr = np.asarray(x)
    if arr.dtype.kind in "US":
        raise ValueError(f"Expected numbers; got strings (dtype {arr.dtype}, shape {arr.shape}). Layers compute on "
                         "numbers: turn text into numbers first (for example a vocabulary lookup).")
    if arr.dtype == object:
        raise TypeError(f"Cannot turn a ragged or mixed sequence into a tensor (numpy made dtype=object of "
                        f"shape {arr.shape}); give arrays of one shape and a numeric dtype.")
    if cast_ints and arr.dtype.kind in "iub":
        arr = arr.astype(np.float32)
    elif arr.dtype == np.float64:
        arr = floatx_array(arr)
    elif not arr.flags.writeable or not arr.flags.c_contiguous:
        arr = np.array(arr, copy=True, order="C")          # torch must not alias a read-only buffer
    return torch.from_numpy(arr).to(device)


def wrap(out):
    """Results as EagerTensors (lists, tuples and dicts kept); a softmax keeps its logits (see activations)."""
    if type(out) is torch.Tensor:
        logits = getattr(out, "_keras_logits", None)
        out = out.as_subclass(EagerTensor)
        if logits is not None:
            out._keras_logits = logits
        return out
    if isinstance(out, (list, tuple)):
        return type(out)(wrap(o) for o in out)
    if isinstance(out, dict):
        return {k: wrap(v) for k, v in out.items()}
    return out


def map_structure(fn, x):
    """`fn` on every leaf of nested lists, tuples and dicts."""
    if isinstance(x, (list, tuple)):
        return type(x)(map_structure(fn, v) for v in x)
    if isinstance(x, dict):
        return {k: map_structure(fn, v) for k, v in x.items()}
    return fn(x)


def plain(v):
    """The plain torch tensor behind a Variable (an alias on the autograd graph), None stays None.

    Layers compute on these: Python would otherwise route `x + bias` through the Variable's own
    reflected operators (it is a subclass of x's type), which costs microseconds per op."""
    return None if v is None else v.as_subclass(torch.Tensor)


def first(x):
    """The first leaf of nested inputs (the tensor whose batch size and shape a layer builds for)."""
    while isinstance(x, (list, tuple)) and x:
        x = x[0]
    if isinstance(x, dict):
        return first(next(iter(x.values())))
    return x
